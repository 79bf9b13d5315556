//! `DIR/remote-state.json`: with a remote backend, the state as a run last pulled it, so that
//! `status` (which never touches the network) reads it as it reads a local terraform.tfstate,
//! and says whose it is and how old:
//!
//! ```json
//! {"backend": "pg", "workspace": "default", "taken_at": "2026-05-31T00:00:00.000000+00:00",
//!  "state": { …terraform state pull's document, unchanged… }}
//! ```
//!
//! Written atomically, 0600 (it holds what the state holds, key values included).
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::layout::StateDir;
use crate::util::outcome::IoContext;
use crate::util::regular::{self, Refused};
use crate::util::{atomic, clock};

/// Where a snapshot comes from and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The backend type (`pg`).
    pub backend: String,
    pub workspace: String,
    /// When the state was pulled (last-apply.json's timestamp format).
    pub taken_at: String,
}

/// The file's layout (no `flatten`: serde buffers flattened fields, which a raw value cannot
/// pass through).
#[derive(Serialize, Deserialize)]
struct File<S> {
    backend: String,
    workspace: String,
    taken_at: String,
    state: S,
}

/// A snapshot as `status` reads it.
pub struct Snapshot {
    pub origin: Origin,
    /// The state document, as terraform printed it.
    pub state: Box<RawValue>,
}

/// Saves `state` (a JSON document terraform printed) as the snapshot of `backend`'s
/// `workspace`, taken now.
pub fn save(dir: &StateDir, backend: &str, workspace: &str, state: &[u8]) -> anyhow::Result<()> {
    let path = dir.remote_snapshot();
    let text = std::str::from_utf8(state)
        .map_err(|e| anyhow::anyhow!("the remote state is not UTF-8 text ({e})"))?;
    let state: &RawValue = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("the remote state is not JSON ({e})"))?;
    let bytes = serde_json::to_vec(&File {
        backend: backend.to_string(),
        workspace: workspace.to_string(),
        taken_at: clock::iso_micros(clock::now()),
        state,
    })
    .map_err(|e| anyhow::anyhow!("cannot serialize the snapshot ({e})"))?;
    atomic::write(&path, &bytes).cannot("write the snapshot of the remote state", &path)
}

/// The snapshot, if there is one; an unreadable one is `Err` with the line `status` shows.
pub fn read(dir: &StateDir) -> Result<Option<Snapshot>, String> {
    let path = dir.remote_snapshot();
    let bytes = match regular::STATE.read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            let fix = match regular::refused(&e) {
                Some(Refused::Link(_)) => {
                    "; the runner writes it as a regular file, remove the link"
                }
                _ => "",
            };
            return Err(format!("cannot read {}: {e}{fix}", path.display()));
        }
    };
    let file: File<Box<RawValue>> = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not a snapshot of the remote state ({e}); the next apply writes it again",
            path.display()
        )
    })?;
    Ok(Some(Snapshot {
        origin: Origin {
            backend: file.backend,
            workspace: file.workspace,
            taken_at: file.taken_at,
        },
        state: file.state,
    }))
}

/// Removes the snapshot (the config keeps the state locally again). Returns whether there was
/// one.
pub fn remove(dir: &StateDir) -> anyhow::Result<bool> {
    let path = dir.remote_snapshot();
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(false);
    }
    atomic::remove(&path).cannot("remove", &path)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_reads_back_with_the_state_unchanged() -> anyhow::Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        assert!(
            read(&dir).map_err(anyhow::Error::msg)?.is_none(),
            "none yet"
        );
        let state = b"{\n  \"version\": 4,\n  \"serial\": 3,\n  \"lineage\": \"x\"\n}\n";
        save(&dir, "pg", "host-a", state)?;
        let snapshot = read(&dir).map_err(anyhow::Error::msg)?.expect("saved");
        assert_eq!(snapshot.origin.backend, "pg");
        assert_eq!(snapshot.origin.workspace, "host-a");
        assert!(
            clock::parse_rfc3339(&snapshot.origin.taken_at).is_some(),
            "taken_at is a time: {}",
            snapshot.origin.taken_at
        );
        assert_eq!(
            snapshot.state.get(),
            std::str::from_utf8(state)?.trim_end(),
            "the document terraform printed, byte for byte"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.remote_snapshot())?
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "it holds what the state holds");
        assert!(save(&dir, "pg", "w", b"not json").is_err(), "only JSON");
        assert!(remove(&dir)?, "removed");
        assert!(!remove(&dir)?, "already gone");
        Ok(())
    }

    #[test]
    fn a_torn_snapshot_is_an_error_line() -> anyhow::Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        std::fs::write(dir.remote_snapshot(), b"{\"backend\": \"pg\"")?;
        let err = read(&dir).err().expect("torn");
        assert!(
            err.starts_with(&format!(
                "{} is not a snapshot of the remote state (",
                dir.remote_snapshot().display()
            )),
            "{err}"
        );
        Ok(())
    }
}
