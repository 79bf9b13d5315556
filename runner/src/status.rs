//! `status`: reads files only (never takes the lock, never touches the network) and
//! reports in one of five formats. Problems reading files become `errors`, never a panic.
//!
//! Exit code, every format: 0 when the last apply/destroy succeeded, 1 when it failed or
//! its result is missing or unreadable.
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::backup::{self, Kind};
use crate::cli::{Options, StatusFormat};
use crate::credentials::{self, Source};
use crate::last_apply;
use crate::lock::{self, Holder};
use crate::outcome::Outcome;
use crate::run::CONFIG_FILE;
use crate::state::{self, Key};
use crate::{clock, scrub};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastResult {
    Ok,
    Error,
    Missing,
    Unreadable,
}

/// Everything status knows, gathered once and rendered by each format.
pub struct Report {
    pub state_dir: PathBuf,
    pub last_apply: Option<Value>,
    pub last: LastResult,
    pub state_found: bool,
    pub serial: Option<u64>,
    pub keys: Vec<KeyStatus>,
    pub backups: Vec<PathBuf>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub credentials: Option<Source>,
    pub lock: LockStatus,
}

#[derive(Debug, Serialize)]
pub struct KeyStatus {
    #[serde(flatten)]
    pub key: Key,
    /// Equals `invalid` (kept for the seed's schema).
    pub revoked: bool,
    /// `expires_at` has passed.
    pub expired: bool,
}

impl KeyStatus {
    pub fn bad(&self) -> bool {
        self.key.invalid || self.expired
    }
}

#[derive(Debug, Serialize)]
pub struct LockStatus {
    /// `idle`, `running` (a run holds the lock now) or `interrupted` (the last run was killed).
    pub state: &'static str,
    pub pid: Option<u32>,
    pub command: Option<String>,
    pub since: Option<String>,
}

pub fn show(opts: &Options, format: StatusFormat) -> Result<Outcome> {
    // The one-line summary reads only last-apply.json (it runs on every switch).
    let with_state = format != StatusFormat::Oneline;
    let report = Report::gather(opts, clock::now(), with_state);
    let text = match format {
        StatusFormat::Human => report.human(),
        StatusFormat::Json => report.json(),
        StatusFormat::Waybar => report.waybar(),
        StatusFormat::Prometheus => report.prometheus(),
        StatusFormat::Oneline => report.oneline(),
    };
    print!("{text}");
    Ok(if report.last == LastResult::Ok {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

fn read_optional(path: &Path, errors: &mut Vec<String>) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            errors.push(format!("{}: cannot read: {e}", path.display()));
            None
        }
    }
}

impl Report {
    pub fn gather(opts: &Options, now: OffsetDateTime, with_state: bool) -> Report {
        let dir = &opts.state_dir;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();

        let last_path = last_apply::path(dir);
        let (last_apply, last) = match read_optional(&last_path, &mut errors) {
            None if last_path.exists() => (None, LastResult::Unreadable),
            None => (None, LastResult::Missing),
            Some(bytes) => match read_last_apply(&bytes) {
                Ok((value, result)) => (Some(value), result),
                Err(e) => {
                    errors.push(format!(
                        "{}: {e}; the next apply rewrites it",
                        last_path.display()
                    ));
                    (None, LastResult::Unreadable)
                }
            },
        };

        let state_path = dir.join(state::FILE);
        let state_bytes = if with_state {
            state::read(&state_path).unwrap_or_else(|e| {
                errors.push(format!("{e:#}"));
                None
            })
        } else {
            None
        };
        let state_found = state_bytes.is_some();
        let (serial, keys) = match state_bytes.as_deref().map(state::parse) {
            None => (None, Vec::new()),
            Some(Ok(s)) => {
                let keys = s.keys.into_iter().map(|key| key_status(key, now)).collect();
                (s.serial, keys)
            }
            Some(Err(e)) => {
                errors.push(format!(
                    "{}: not a valid terraform state ({e}); put a backup back with \
                     `tailscale-manager restore-state`",
                    state_path.display()
                ));
                (None, Vec::new())
            }
        };

        for (path, limit, fix) in [(dir, 0o700, "chmod 700"), (&state_path, 0o600, "chmod 600")] {
            if let Ok(meta) = std::fs::metadata(path) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & !limit != 0 {
                    warnings.push(format!(
                        "{} is mode {mode:04o}, wider than {limit:04o}: {fix} {}",
                        path.display(),
                        path.display()
                    ));
                }
            }
        }

        let backups = backup::list(dir, Kind::PreRun).unwrap_or_else(|e| {
            errors.push(format!("{e:#}"));
            Vec::new()
        });

        let lock = match lock::read(dir) {
            Some(h) if h.state == "running" => {
                let state = if lock::pid_alive(h.pid) {
                    "running"
                } else {
                    "interrupted"
                };
                lock_status(state, h)
            }
            _ => LockStatus {
                state: "idle",
                pid: None,
                command: None,
                since: None,
            },
        };

        Report {
            state_dir: dir.clone(),
            last_apply,
            last,
            state_found,
            serial,
            keys,
            backups,
            errors,
            warnings,
            credentials: credentials::source(opts.credentials.as_deref(), &|n| std::env::var_os(n)),
            lock,
        }
    }

    fn orphans(&self) -> &[Value] {
        self.last_apply
            .as_ref()
            .and_then(|v| v.get("orphaned_resources"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.last_apply.as_ref()?.get(name)?.as_str()
    }

    fn error_first_line(&self) -> Option<String> {
        match self.last {
            LastResult::Error => Some(
                self.field("error_message")
                    .and_then(|m| m.lines().find(|l| !l.trim().is_empty()))
                    .unwrap_or("no error message recorded")
                    .to_string(),
            ),
            LastResult::Unreadable => Some(
                self.errors
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "last-apply.json is unreadable".into()),
            ),
            _ => None,
        }
    }

    fn bad_keys(&self) -> usize {
        self.keys.iter().filter(|k| k.bad()).count()
    }

    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            last_apply: &'a Option<Value>,
            managed_keys: &'a [KeyStatus],
            state: StateJson,
            backups: BackupsJson,
            orphaned_resources: &'a [Value],
            errors: &'a [String],
            warnings: &'a [String],
            lock: &'a LockStatus,
        }
        #[derive(Serialize)]
        struct StateJson {
            found: bool,
            serial: Option<u64>,
        }
        #[derive(Serialize)]
        struct BackupsJson {
            count: usize,
            latest: Option<String>,
        }
        let json = Json {
            last_apply: &self.last_apply,
            managed_keys: &self.keys,
            state: StateJson {
                found: self.state_found,
                serial: self.serial,
            },
            backups: BackupsJson {
                count: self.backups.len(),
                latest: self.backups.last().map(|p| last_apply::path_string(p)),
            },
            orphaned_resources: self.orphans(),
            errors: &self.errors,
            warnings: &self.warnings,
            lock: &self.lock,
        };
        // Written once into a buffer sized for the keys: a 5,000-key status is ~2 MiB.
        let mut buf = Vec::with_capacity(4096 + 512 * self.keys.len());
        serde_json::to_writer_pretty(&mut buf, &json).expect("status JSON serializes");
        buf.push(b'\n');
        scrub::generic_owned(String::from_utf8(buf).expect("serde_json writes UTF-8"))
    }

    pub fn waybar(&self) -> String {
        let bad = self.bad_keys();
        let (class, text) = match self.last {
            LastResult::Missing => ("unknown", "? never applied".to_string()),
            LastResult::Error | LastResult::Unreadable => ("error", "✗ apply failed".to_string()),
            LastResult::Ok if bad > 0 => ("error", format!("✗ {bad} bad key{}", plural(bad))),
            LastResult::Ok if !self.errors.is_empty() => ("error", "✗ unreadable state".into()),
            LastResult::Ok => {
                let n = self.keys.len();
                ("ok", format!("✓ {n} key{}", plural(n)))
            }
        };
        let mut tooltip = String::new();
        match (self.field("timestamp"), self.field("result")) {
            (Some(t), Some(r)) => {
                let _ = writeln!(tooltip, "Last apply: {t} ({r})");
            }
            _ => tooltip.push_str("Last apply: none\n"),
        }
        if let Some(line) = self.error_first_line() {
            let _ = writeln!(tooltip, "Error: {line}");
        }
        for k in &self.keys {
            let _ = writeln!(tooltip, "{} {} {}", mark(k), k.key.id, k.key.address);
        }
        for e in &self.errors {
            let _ = writeln!(tooltip, "{e}");
        }
        let line = serde_json::json!({
            "text": text,
            "alt": class,
            "tooltip": tooltip.trim_end(),
            "class": class,
        });
        format!("{}\n", scrub::generic(&line.to_string()))
    }

    pub fn prometheus(&self) -> String {
        let mut out = String::new();
        let labels = |k: &KeyStatus| {
            format!(
                "{{address=\"{}\",id=\"{}\"}}",
                label(&k.key.address),
                label(&k.key.id)
            )
        };
        let success = u8::from(self.last == LastResult::Ok);
        gauge(
            &mut out,
            "tailscale_manager_last_apply_success",
            "1 if the last apply/destroy succeeded, 0 if it failed or no result is recorded.",
            [(String::new(), success.to_string())],
        );
        let ended = self.field("timestamp").and_then(clock::parse_rfc3339);
        gauge(
            &mut out,
            "tailscale_manager_last_apply_timestamp_seconds",
            "When the last apply/destroy ended (Unix time).",
            ended.map(|t| {
                (
                    String::new(),
                    format!("{:.6}", t.unix_timestamp_nanos() as f64 / 1e9),
                )
            }),
        );
        gauge(
            &mut out,
            "tailscale_manager_managed_keys",
            "Auth keys in the Terraform state.",
            [(String::new(), self.keys.len().to_string())],
        );
        gauge(
            &mut out,
            "tailscale_manager_key_invalid",
            "1 if the key is invalid (expired, revoked or deleted) or past its expiry.",
            self.keys
                .iter()
                .map(|k| (labels(k), u8::from(k.bad()).to_string())),
        );
        gauge(
            &mut out,
            "tailscale_manager_key_expiry_timestamp_seconds",
            "When the key expires (Unix time).",
            self.keys.iter().filter_map(|k| {
                let t = clock::parse_rfc3339(k.key.expires_at.as_deref()?)?;
                Some((labels(k), t.unix_timestamp().to_string()))
            }),
        );
        gauge(
            &mut out,
            "tailscale_manager_orphaned_resources",
            "Resources the last failed run left in the tailnet untracked.",
            [(String::new(), self.orphans().len().to_string())],
        );
        out
    }

    pub fn oneline(&self) -> String {
        let line = match self.last {
            LastResult::Ok => "tailscale-manager: last apply [ok]".to_string(),
            LastResult::Missing => "tailscale-manager: last apply [none]".to_string(),
            LastResult::Error | LastResult::Unreadable => format!(
                "tailscale-manager: last apply [error] {}",
                self.error_first_line().unwrap_or_default()
            ),
        };
        format!("{}\n", scrub::generic(&line))
    }

    pub fn human(&self) -> String {
        let mut o = String::new();
        let tailnet = read_tailnet(&self.state_dir);
        let tailnet = match tailnet.as_deref() {
            None | Some("-") | Some("") => "default tailnet of the OAuth client".to_string(),
            Some(t) => t.to_string(),
        };
        let _ = writeln!(o, "Tailscale Manager — {tailnet}");
        let _ = writeln!(o, "State dir: {}", self.state_dir.display());
        o.push('\n');
        match self.last {
            LastResult::Missing => o.push_str("Last apply: none recorded yet\n"),
            LastResult::Unreadable => o.push_str("Last apply: unreadable (see errors below)\n"),
            LastResult::Ok | LastResult::Error => {
                let action = self.field("action").unwrap_or("apply");
                let ms = self
                    .last_apply
                    .as_ref()
                    .and_then(|v| v["duration_ms"].as_u64());
                let _ = write!(
                    o,
                    "Last {action}: {}",
                    self.field("timestamp").unwrap_or("?")
                );
                if let Some(ms) = ms {
                    let _ = write!(o, " (took {:.1} s)", ms as f64 / 1000.0);
                }
                o.push('\n');
                let _ = writeln!(o, "  Result: {}", self.field("result").unwrap_or("?"));
                if let Some(c) = self
                    .last_apply
                    .as_ref()
                    .map(|v| &v["changes"])
                    .filter(|c| c.is_object())
                {
                    let _ = writeln!(
                        o,
                        "  Changes: {} added, {} changed, {} removed",
                        c["add"], c["change"], c["remove"]
                    );
                }
                if let Some(message) = self.field("error_message") {
                    let mut lines = message.lines();
                    let _ = writeln!(o, "  Error: {}", lines.next().unwrap_or(""));
                    for line in lines {
                        let _ = writeln!(o, "         {line}");
                    }
                }
                if let Some(failed) = self.field("failed_state_path") {
                    let _ = writeln!(o, "  State the failed run left: {failed}");
                }
                if !self.orphans().is_empty() {
                    o.push_str("  Orphaned (exist in the tailnet, no longer in the state):\n");
                    for orphan in self.orphans() {
                        let _ = writeln!(
                            o,
                            "    {} id {}",
                            orphan["address"].as_str().unwrap_or("?"),
                            orphan["id"].as_str().unwrap_or("?")
                        );
                    }
                }
            }
        }
        match self.lock.state {
            "running" | "interrupted" => {
                let _ = writeln!(
                    o,
                    "  Run {}: {} (pid {}, since {})",
                    self.lock.state,
                    self.lock.command.as_deref().unwrap_or("?"),
                    self.lock.pid.unwrap_or(0),
                    self.lock.since.as_deref().unwrap_or("?")
                );
            }
            _ => {}
        }
        o.push('\n');
        let found = match (self.state_found, self.serial) {
            (true, Some(serial)) => format!("found (serial {serial})"),
            (true, None) => "found".to_string(),
            (false, _) => "not found".to_string(),
        };
        let _ = writeln!(o, "Terraform state: {found}");
        let _ = writeln!(o, "Managed keys: {}", self.keys.len());
        for k in &self.keys {
            // The seed's "✓ id — description"; the address line below names keys without one.
            let what = match k.key.description.as_str() {
                "" => String::new(),
                description => format!(" — {description}"),
            };
            let why = match (k.key.invalid, k.expired) {
                (true, _) => " (invalid: expired, revoked or deleted)",
                (false, true) => " (expired)",
                _ => "",
            };
            let _ = writeln!(o, "  {} {}{what}{why}", mark(k), k.key.id);
            let _ = writeln!(o, "     address: {}", k.key.address);
            let _ = writeln!(o, "     tags: {}", k.key.tags.join(", "));
            if let Some(expires) = &k.key.expires_at {
                let _ = writeln!(o, "     expires: {expires}");
            }
        }
        o.push('\n');
        let _ = match self.backups.last() {
            Some(latest) => writeln!(
                o,
                "Backups: {} retained (latest {})",
                self.backups.len(),
                latest.display()
            ),
            None => writeln!(o, "Backups: none"),
        };
        let credentials = match &self.credentials {
            Some(source @ (Source::File(p) | Source::SystemdCredential(p))) if !p.exists() => {
                format!("{source} (missing)")
            }
            Some(source) => source.to_string(),
            None => "none found (--credentials, $CREDENTIALS_DIRECTORY/tailscale-oauth or TAILSCALE_OAUTH_CLIENT_ID/SECRET)".into(),
        };
        let _ = writeln!(o, "Credentials: {credentials}");
        for w in &self.warnings {
            let _ = writeln!(o, "Warning: {w}");
        }
        for e in &self.errors {
            let _ = writeln!(o, "Error: {e}");
        }
        scrub::generic_owned(o)
    }
}

/// Validates last-apply.json just enough to trust its `result`.
fn read_last_apply(bytes: &[u8]) -> Result<(Value, LastResult), String> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("not valid JSON ({e}), truncated or corrupt"))?;
    let result = match value.get("result").and_then(Value::as_str) {
        Some("ok") => LastResult::Ok,
        Some("error") => LastResult::Error,
        _ => return Err("has no \"result\" of \"ok\" or \"error\"".into()),
    };
    if value.get("timestamp").and_then(Value::as_str).is_none() {
        return Err("has no \"timestamp\"".into());
    }
    Ok((value, result))
}

fn key_status(key: Key, now: OffsetDateTime) -> KeyStatus {
    let expired = key
        .expires_at
        .as_deref()
        .and_then(clock::parse_rfc3339)
        .is_some_and(|t| t <= now);
    KeyStatus {
        revoked: key.invalid,
        expired,
        key,
    }
}

fn lock_status(state: &'static str, h: Holder) -> LockStatus {
    LockStatus {
        state,
        pid: Some(h.pid),
        command: Some(h.command),
        since: Some(h.since),
    }
}

/// The tailnet named in the installed config (`provider.tailscale.tailnet`).
fn read_tailnet(dir: &Path) -> Option<String> {
    let bytes = std::fs::read(dir.join(CONFIG_FILE)).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let provider = &value["provider"]["tailscale"];
    // Terraform JSON allows a provider block as an object or a list of objects.
    let provider = if provider.is_array() {
        &provider[0]
    } else {
        provider
    };
    provider["tailnet"].as_str().map(str::to_string)
}

fn mark(k: &KeyStatus) -> &'static str {
    if k.bad() { "✗" } else { "✓" }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Escapes a Prometheus label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One gauge in node_exporter textfile format: HELP, TYPE, then its samples.
fn gauge(
    out: &mut String,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, String)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}
