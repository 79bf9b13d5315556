//! `status`: the dashboard for a person at a terminal.
use std::fmt::Write as _;

use crate::commands::status::gather::{Devices, KeyStatus, Last, LockState, Report};
use crate::commands::status::key_files::FileState;
use crate::config::credentials::Source;
use crate::stores::last_apply::LastApply;

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    let tailnet = match r.tailnet.as_deref() {
        None | Some("-") | Some("") => "default tailnet of the OAuth client",
        Some(t) => t,
    };
    let _ = writeln!(o, "Tailscale Manager — {tailnet}");
    let _ = writeln!(o, "State dir: {}", r.state_dir.root().display());
    o.push('\n');
    match &r.last {
        Last::None => o.push_str("Last apply: none recorded yet\n"),
        Last::Unreadable => o.push_str("Last apply: unreadable (see errors below)\n"),
        Last::Recorded(l) => last_apply(&mut o, l),
    }
    if let LockState::Running | LockState::Finishing | LockState::Interrupted = r.lock.state {
        let _ = writeln!(
            o,
            "  Run {}: {} (pid {}, since {})",
            r.lock.state.as_str(),
            r.lock.command.as_deref().unwrap_or("?"),
            r.lock.pid.unwrap_or(0),
            r.lock.since.as_deref().unwrap_or("?")
        );
    }
    if let (LockState::Finishing, Some(terraform)) = (r.lock.state, r.lock.terraform_pid) {
        let _ = writeln!(
            o,
            "  Its runner was killed; its terraform (pid {terraform}) still runs, finishing the \
             changes and saving the state; the next run waits for it"
        );
    }
    o.push('\n');
    keys(&mut o, r);
    o.push('\n');
    devices(&mut o, r.devices.as_ref(), r.remote.is_some());
    o.push('\n');
    let _ = match r.backups.last() {
        Some(latest) => writeln!(
            o,
            "Backups: {} retained (latest {})",
            r.backups.len(),
            latest.display()
        ),
        None => writeln!(o, "Backups: none"),
    };
    let credentials = match &r.credentials {
        Some(source @ (Source::File(p) | Source::SystemdCredential(p))) if !p.exists() => {
            format!("{source} (missing)")
        }
        Some(source) => source.to_string(),
        None => "none found (--credentials, $CREDENTIALS_DIRECTORY/tailscale-oauth or TAILSCALE_OAUTH_CLIENT_ID/SECRET)".into(),
    };
    let _ = writeln!(o, "Credentials: {credentials}");
    for w in &r.warnings {
        let _ = writeln!(o, "Warning: {w}");
    }
    for e in &r.errors {
        let _ = writeln!(o, "Error: {e}");
    }
    o
}

fn last_apply(o: &mut String, l: &LastApply) {
    let _ = writeln!(
        o,
        "Last {}: {} (took {:.1} s)",
        l.action.as_str(),
        l.timestamp,
        l.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(o, "  Result: {}", l.result.as_str());
    if let Some(c) = l.changes {
        let _ = writeln!(
            o,
            "  Changes: {} added, {} changed, {} removed",
            c.add, c.change, c.remove
        );
    }
    if let Some(error) = &l.error {
        let mut lines = error.error_message.lines();
        let _ = writeln!(o, "  Error: {}", lines.next().unwrap_or(""));
        for line in lines {
            let _ = writeln!(o, "         {line}");
        }
        if let Some(failed) = &error.failed_state_path {
            let _ = writeln!(o, "  State the failed run left: {failed}");
        }
        if !error.orphaned_resources.is_empty() {
            o.push_str("  Orphaned (exist in the tailnet, no longer in the state):\n");
            for orphan in &error.orphaned_resources {
                let _ = writeln!(o, "    {} id {}", orphan.address, orphan.id);
            }
        }
    }
}

fn keys(o: &mut String, r: &Report) {
    let found = match (r.state_found, r.serial) {
        (true, Some(serial)) => format!("found (serial {serial})"),
        (true, None) => "found".to_string(),
        (false, _) => "not found".to_string(),
    };
    match r.snapshot_note() {
        Some(note) => {
            let _ = writeln!(o, "Terraform state: {found}, {note}");
        }
        None => {
            let _ = writeln!(o, "Terraform state: {found}");
        }
    }
    let _ = writeln!(o, "Managed keys: {}", r.keys.len());
    for k in &r.keys {
        // "✓ id — description", as the original tool showed keys; the address line below
        // names keys without a description.
        let what = match k.key.description.as_str() {
            "" => String::new(),
            description => format!(" — {description}"),
        };
        let why = match (k.key.invalid, k.expired) {
            (true, _) => " (invalid: expired, revoked or deleted)",
            (false, true) => " (expired)",
            _ => "",
        };
        let _ = writeln!(o, "  {} {}{what}{why}", k.mark(), k.key.id);
        let _ = writeln!(o, "     address: {}", k.key.address);
        let _ = writeln!(o, "     tags: {}", k.key.tags.join(", "));
        if let Some(expires) = &k.key.expires_at {
            let _ = writeln!(o, "     expires: {expires}");
        }
        key_file(o, k);
    }
    for u in &r.untracked_key_files {
        let _ = writeln!(
            o,
            "  ✗ key file {} is not tracked ({} is not in the state)",
            u.path, u.key_address
        );
    }
}

/// `file: ✓ <path>` under a key that writes one; ✗ and why when it is not ok.
fn key_file(o: &mut String, k: &KeyStatus) {
    let Some(file) = &k.file else {
        return;
    };
    let why = match file.state {
        FileState::Ok => "",
        FileState::Missing => " (missing; the next apply writes it)",
        FileState::Stale => " (stale: not the key this state records; the next apply rewrites it)",
    };
    let mark = if file.ok() { "✓" } else { "✗" };
    let _ = writeln!(o, "     file: {mark} {}{why}", file.path);
}

/// One aligned line per device: mark, name, OS, tags, last seen, node key expiry.
fn devices(o: &mut String, devices: Option<&Devices>, remote: bool) {
    let Some(devices) = devices else {
        let state = if remote {
            "the state"
        } else {
            "terraform.tfstate"
        };
        let _ = writeln!(
            o,
            "Devices: not monitored ({state} has no data.tailscale_devices.all)"
        );
        return;
    };
    let as_of = match (&devices.as_of, remote) {
        (Some(t), true) => format!(" (snapshot of the remote state taken {t})"),
        (Some(t), false) => format!(" (terraform.tfstate written {t})"),
        (None, _) => String::new(),
    };
    let _ = writeln!(
        o,
        "Devices: {} as of the last run{as_of}",
        devices.list.len()
    );
    let rows: Vec<[String; 6]> = devices
        .list
        .iter()
        .map(|status| {
            let d = &status.device;
            let tags = match d.tags.as_slice() {
                [] => "-".to_string(),
                tags => tags.join(","),
            };
            let seen = match &d.last_seen {
                None => "online".to_string(),
                Some(t) => format!("last seen {t}"),
            };
            let expiry = match &d.expires {
                None if d.key_expiry_disabled => "key expiry disabled".to_string(),
                None => "key expiry unknown".to_string(),
                Some(t) if status.key_expired => format!("key expired {t}"),
                Some(t) if status.key_expires_soon => {
                    format!("key expires {t} (within {})", days(devices.warning_days))
                }
                Some(t) => format!("key expires {t}"),
            };
            let mark = status.mark().to_string();
            [mark, d.name.clone(), d.os.clone(), tags, seen, expiry]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (name, os, tags, seen) = (width(1), width(2), width(3), width(4));
    for [mark, n, system, t, s, expiry] in &rows {
        let _ = writeln!(
            o,
            "  {mark} {n:<name$}  {system:<os$}  {t:<tags$}  {s:<seen$}  {expiry}"
        );
    }
    let (soon, expired) = (devices.expiring_soon(), devices.expired());
    if soon + expired > 0 {
        let _ = writeln!(
            o,
            "  Node keys: {soon} expiring within {}, {expired} expired",
            days(devices.warning_days)
        );
    }
}

fn days(n: u32) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}
