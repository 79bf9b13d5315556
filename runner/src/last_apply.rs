//! `DIR/last-apply.json`: the result of the last apply or destroy (written atomically, 0600).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::state::Object;

pub const FILE: &str = "last-apply.json";
/// `error_message` never exceeds this many bytes.
pub const MAX_ERROR_BYTES: usize = 4096;
const TRUNCATED: &str = "\n… (truncated)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    Ok,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Changes {
    pub add: u64,
    pub change: u64,
    pub remove: u64,
}

#[derive(Debug, Serialize)]
pub struct LastApply {
    /// When the run ended, `2026-05-31T00:00:00.000000+00:00` (UTC).
    pub timestamp: String,
    pub result: ResultKind,
    pub action: &'static str,
    pub duration_ms: u64,
    pub backup_path: Option<String>,
    pub changes: Option<Changes>,
    /// Present only when `result` is `error`.
    #[serde(flatten)]
    pub error: Option<ErrorDetails>,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetails {
    /// Terraform's diagnostics (or the runner's own error), secrets scrubbed, ≤ 4 KiB.
    pub error_message: String,
    pub failed_state_path: Option<String>,
    pub orphaned_resources: Vec<Object>,
}

impl ErrorDetails {
    /// A failure that left no state behind and orphaned nothing.
    pub fn message(error_message: String) -> Self {
        ErrorDetails {
            error_message,
            failed_state_path: None,
            orphaned_resources: Vec::new(),
        }
    }
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

pub fn write(state_dir: &Path, record: &LastApply) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(record).context("cannot serialize last-apply.json")?;
    json.push(b'\n');
    let path = path(state_dir);
    atomic::write(&path, &json).with_context(|| format!("cannot write {}", path.display()))
}

/// Cuts `message` to at most [`MAX_ERROR_BYTES`] bytes on a character boundary, saying so.
pub fn truncate_message(message: &str) -> String {
    let message = message.trim_end();
    if message.len() <= MAX_ERROR_BYTES {
        return message.to_string();
    }
    let mut end = MAX_ERROR_BYTES - TRUNCATED.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{TRUNCATED}", &message[..end])
}

pub fn path_string(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(error: Option<ErrorDetails>) -> LastApply {
        LastApply {
            timestamp: "2026-05-31T00:00:00.000000+00:00".into(),
            result: if error.is_some() {
                ResultKind::Error
            } else {
                ResultKind::Ok
            },
            action: "apply",
            duration_ms: 1234,
            backup_path: Some("/s/backups/20260531T000000000000Z.tfstate".into()),
            changes: Some(Changes {
                add: 1,
                change: 0,
                remove: 0,
            }),
            error,
        }
    }

    #[test]
    fn success_has_exactly_the_documented_fields() -> Result<()> {
        assert_eq!(
            serde_json::to_value(record(None))?,
            json!({
                "timestamp": "2026-05-31T00:00:00.000000+00:00",
                "result": "ok",
                "action": "apply",
                "duration_ms": 1234,
                "backup_path": "/s/backups/20260531T000000000000Z.tfstate",
                "changes": {"add": 1, "change": 0, "remove": 0}
            })
        );
        Ok(())
    }

    #[test]
    fn error_adds_message_failed_state_and_orphans() -> Result<()> {
        let value = serde_json::to_value(record(Some(ErrorDetails {
            error_message: "Error: Failed to create key".into(),
            failed_state_path: None,
            orphaned_resources: vec![Object {
                address: "tailscale_tailnet_key.ci".into(),
                id: "k123".into(),
            }],
        })))?;
        assert_eq!(value["result"], "error");
        assert_eq!(value["error_message"], "Error: Failed to create key");
        assert_eq!(value["failed_state_path"], serde_json::Value::Null);
        assert_eq!(
            value["orphaned_resources"],
            json!([{"address": "tailscale_tailnet_key.ci", "id": "k123"}])
        );
        Ok(())
    }

    #[test]
    fn written_file_is_private_json() -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        write(dir.path(), &record(None))?;
        let bytes = std::fs::read(path(dir.path()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)?;
        assert_eq!(value["result"], "ok");
        let mode = std::fs::metadata(path(dir.path()))?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        Ok(())
    }

    #[test]
    fn long_messages_are_cut_to_4_kib_on_a_char_boundary() {
        let long = "é".repeat(5000);
        let cut = truncate_message(&long);
        assert!(cut.len() <= MAX_ERROR_BYTES, "{} bytes", cut.len());
        assert!(cut.ends_with("(truncated)"));
        assert_eq!(truncate_message("short\n"), "short");
    }
}
