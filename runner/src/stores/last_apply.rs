//! `DIR/last-apply.json`: the result of the last apply or destroy (written atomically, 0600),
//! written and read back as the same typed record.
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::layout::StateDir;
use crate::config::options::Action;
use crate::util::outcome::IoContext;
use crate::util::tfstate::Object;
use crate::util::{atomic, regular};

/// `error_message` never exceeds this many bytes.
pub const MAX_ERROR_BYTES: usize = 4096;
const TRUNCATED: &str = "\n… (truncated)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultKind {
    Ok,
    Error,
}

impl ResultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::Ok => "ok",
            ResultKind::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Changes {
    pub add: u64,
    pub change: u64,
    pub remove: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastApply {
    /// When the run ended, `2026-05-31T00:00:00.000000+00:00` (UTC).
    pub timestamp: String,
    pub result: ResultKind,
    pub action: Action,
    pub duration_ms: u64,
    pub backup_path: Option<String>,
    pub changes: Option<Changes>,
    /// Present only when `result` is `error`.
    #[serde(flatten)]
    pub error: Option<ErrorDetails>,
    /// Fields this runner does not know (a newer one wrote them): kept as they are, so
    /// `status --json` passes them through. Always empty in what this runner writes.
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetails {
    /// Terraform's diagnostics (or the runner's own error), secrets scrubbed, ≤ 4 KiB.
    pub error_message: String,
    #[serde(default)]
    pub failed_state_path: Option<String>,
    #[serde(default)]
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

impl LastApply {
    /// The first non-empty line of the error, for one-line summaries.
    pub fn error_first_line(&self) -> Option<&str> {
        let message = &self.error.as_ref()?.error_message;
        message.lines().find(|l| !l.trim().is_empty())
    }

    pub fn orphans(&self) -> &[Object] {
        match &self.error {
            Some(e) => &e.orphaned_resources,
            None => &[],
        }
    }
}

pub fn write(dir: &StateDir, record: &LastApply) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(record).context("cannot serialize last-apply.json")?;
    json.push(b'\n');
    let path = dir.last_apply();
    atomic::write(&path, &json).cannot("write", &path)
}

/// Reads last-apply.json: `Ok(None)` when there is none yet; `Err` is one line saying why it
/// cannot be used (for `status`'s errors).
pub fn read(dir: &StateDir) -> Result<Option<LastApply>, String> {
    let path = dir.last_apply();
    let bytes = match regular::LAST_APPLY.read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    parse(&path, &bytes).map(Some)
}

/// Parses the content of last-apply.json read from `path`; `Err` as for [`read`].
pub fn parse(path: &Path, bytes: &[u8]) -> Result<LastApply, String> {
    let invalid = |what: &str, cause: &dyn std::fmt::Display| {
        format!(
            "{} is not {what} ({cause}); the next apply rewrites it",
            path.display()
        )
    };
    let record: LastApply = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => invalid("a valid result record", &e),
        _ => invalid("valid JSON", &e),
    })?;
    // A failure always says why (a torn or hand-edited file may not: a duplicated
    // `error_message`, say, leaves none).
    if record.result == ResultKind::Error && record.error.is_none() {
        return Err(invalid(
            "a valid result record",
            &"result is error, but no error_message",
        ));
    }
    Ok(record)
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

/// A path as last-apply.json records it.
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
            action: Action::Apply,
            duration_ms: 1234,
            backup_path: Some("/s/backups/20260531T000000000000Z.tfstate".into()),
            changes: Some(Changes {
                add: 1,
                change: 0,
                remove: 0,
            }),
            error,
            unknown: Map::new(),
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
        let (_temp, dir) = StateDir::temporary()?;
        write(&dir, &record(None))?;
        let bytes = std::fs::read(dir.last_apply())?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)?;
        assert_eq!(value["result"], "ok");
        let mode = std::fs::metadata(dir.last_apply())?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        Ok(())
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_record() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        assert_eq!(read(&dir), Ok(None), "no file yet");
        let failed = record(Some(ErrorDetails {
            error_message: "\nfirst line\nsecond".into(),
            failed_state_path: Some("/s/backups/x.failed.tfstate".into()),
            orphaned_resources: vec![Object {
                address: "tailscale_tailnet_key.b".into(),
                id: "kB".into(),
            }],
        }));
        for written in [record(None), failed] {
            write(&dir, &written)?;
            assert_eq!(read(&dir), Ok(Some(written.clone())));
        }
        let back = read(&dir).unwrap().expect("a record");
        assert_eq!(back.error_first_line(), Some("first line"));
        assert_eq!(back.orphans().len(), 1);
        Ok(())
    }

    #[test]
    fn unknown_fields_are_kept_for_pass_through() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let text = json!({
            "timestamp": "2026-05-31T00:00:00.000000+00:00", "result": "error", "action": "destroy",
            "duration_ms": 7, "backup_path": null, "changes": null, "error_message": "boom",
            "failed_state_path": null, "orphaned_resources": [], "from_a_newer_runner": {"x": 1}
        });
        std::fs::write(dir.last_apply(), text.to_string())?;
        let back = read(&dir).unwrap().expect("a record");
        assert_eq!(
            back.unknown,
            json!({"from_a_newer_runner": {"x": 1}})
                .as_object()
                .unwrap()
                .clone(),
            "only the unknown field is kept aside"
        );
        assert_eq!(serde_json::to_value(&back)?, text, "written back unchanged");
        Ok(())
    }

    #[test]
    fn unusable_files_are_named_with_the_reason_and_the_fix() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let path = dir.last_apply().display().to_string();
        std::fs::write(dir.last_apply(), r#"{"timestamp": "#)?;
        assert_eq!(
            read(&dir),
            Err(format!(
                "{path} is not valid JSON (EOF while parsing a value at line 1 column 14); the next apply rewrites it"
            ))
        );
        let no_message = r#"{"timestamp": "t", "result": "error", "action": "apply",
            "duration_ms": 1, "backup_path": null, "changes": null,
            "error_message": "a", "error_message": "twice"}"#;
        std::fs::write(dir.last_apply(), no_message)?;
        assert_eq!(
            read(&dir),
            Err(format!(
                "{path} is not a valid result record (result is error, but no error_message); the next apply rewrites it"
            )),
            "a duplicated field leaves no message: not a record to trust"
        );
        std::fs::write(dir.last_apply(), r#"{"timestamp": "t", "result": "maybe"}"#)?;
        let err = read(&dir).unwrap_err();
        assert!(
            err.starts_with(&format!(
                "{path} is not a valid result record (unknown variant `maybe`"
            )),
            "{err}"
        );
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
