//! `status --waybar`: one JSON line for a waybar custom module (`"return-type": "json"`).
use std::fmt::Write as _;

use crate::commands::status::gather::{Devices, KeyStatus, Last, Report};
use crate::stores::last_apply::ResultKind;

pub fn render(r: &Report) -> String {
    let bad = r.bad_keys();
    let (class, text) = match &r.last {
        Last::None => ("unknown", "? never applied".to_string()),
        Last::Recorded(l) if l.result == ResultKind::Ok => {
            if bad > 0 {
                ("error", format!("✗ {bad} bad key{}", plural(bad)))
            } else if let Some(text) = bad_key_files(r) {
                ("error", text)
            } else if !r.errors.is_empty() {
                ("error", "✗ unreadable state".into())
            } else {
                let n = r.keys.len();
                ("ok", format!("✓ {n} key{}", plural(n)))
            }
        }
        Last::Recorded(_) | Last::Unreadable => ("error", "✗ apply failed".to_string()),
    };
    // Device node keys warn only when nothing worse applies; they never make it an error.
    let (class, text) = match r.devices.as_ref().and_then(device_warning) {
        Some(warning) if class == "ok" => ("warning", warning),
        _ => (class, text),
    };
    let mut tooltip = String::new();
    match r.last_apply() {
        Some(l) => {
            let _ = writeln!(
                tooltip,
                "Last apply: {} ({})",
                l.timestamp,
                l.result.as_str()
            );
        }
        None => tooltip.push_str("Last apply: none\n"),
    }
    if let Some(line) = r.error_first_line() {
        let _ = writeln!(tooltip, "Error: {line}");
    }
    if let Some(note) = r.snapshot_note() {
        let _ = writeln!(tooltip, "State: {note}");
    }
    for k in &r.keys {
        let _ = writeln!(
            tooltip,
            "{} {} {}{}",
            k.mark(),
            k.key.id,
            k.key.address,
            file_note(k)
        );
    }
    for u in &r.untracked_key_files {
        let _ = writeln!(tooltip, "✗ untracked key file {}", u.path);
    }
    if let Some(devices) = &r.devices {
        device_tooltip(&mut tooltip, devices);
    }
    for e in &r.errors {
        let _ = writeln!(tooltip, "{e}");
    }
    let line = serde_json::json!({
        "text": text,
        "alt": class,
        "tooltip": tooltip.trim_end(),
        "class": class,
    });
    format!("{line}\n")
}

/// `✗ 1 key file not ok` when a key file is missing, stale or untracked.
fn bad_key_files(r: &Report) -> Option<String> {
    match r.bad_key_files() {
        0 => None,
        n => Some(format!("✗ {n} key file{} not ok", plural(n))),
    }
}

/// ` (file missing)` or ` (file stale)` after a key whose file is not ok.
fn file_note(k: &KeyStatus) -> String {
    match &k.file {
        Some(file) if !file.ok() => format!(" (file {})", file.state.as_str()),
        _ => String::new(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The text of class `warning`: device node keys expired or expiring within
/// `--expiry-warning` days (None when there are none).
fn device_warning(devices: &Devices) -> Option<String> {
    let (soon, expired) = (devices.expiring_soon(), devices.expired());
    let n = soon + expired;
    let what = match (soon, expired) {
        (0, 0) => return None,
        (_, 0) => "expiring",
        (0, _) => "expired",
        _ => "expiring or expired",
    };
    Some(format!("⚠ {n} device key{} {what}", plural(n)))
}

/// The device count as of the last run, then each device whose node key needs attention.
fn device_tooltip(tooltip: &mut String, devices: &Devices) {
    let _ = writeln!(
        tooltip,
        "Devices as of the last run: {}",
        devices.list.len()
    );
    for d in devices.flagged() {
        let expires = d.device.expires.as_deref().unwrap_or("?");
        let verb = if d.key_expired { "expired" } else { "expires" };
        let _ = writeln!(
            tooltip,
            "{} {} key {verb} {expires}",
            d.mark(),
            d.device.name
        );
    }
}
