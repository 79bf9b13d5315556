//! State backups in `DIR/backups/`: `<UTC yyyymmddThhmmssffffffZ>.tfstate` before every
//! mutation and `<…>.failed.tfstate` for the state a failed run left. Names sort by time;
//! files that do not match these patterns exactly are never counted or deleted.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use time::OffsetDateTime;

use crate::{atomic, clock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Taken before a mutation.
    PreRun,
    /// The state a failed run left behind.
    Failed,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::PreRun => ".tfstate",
            Kind::Failed => ".failed.tfstate",
        }
    }
}

pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("backups")
}

/// The backup file name for time `t`.
pub fn name(t: OffsetDateTime, kind: Kind) -> String {
    format!("{}{}", clock::compact_micros(t), kind.suffix())
}

/// The kind of a backup file name, or None when the name is not one of ours.
pub fn kind_of(name: &str) -> Option<Kind> {
    let (stamp, kind) = if let Some(stamp) = name.strip_suffix(Kind::Failed.suffix()) {
        (stamp, Kind::Failed)
    } else {
        (name.strip_suffix(Kind::PreRun.suffix())?, Kind::PreRun)
    };
    let b = stamp.as_bytes();
    let ok = b.len() == 22
        && b[8] == b'T'
        && b[21] == b'Z'
        && b[..8].iter().chain(&b[9..21]).all(u8::is_ascii_digit);
    ok.then_some(kind)
}

/// Writes `bytes` as a new backup (0600, atomically) in a 0700 `backups/` directory and
/// returns its path. Never overwrites an existing backup.
pub fn create(state_dir: &Path, bytes: &[u8], kind: Kind) -> Result<PathBuf> {
    let dir = dir(state_dir);
    atomic::private_dir(&dir)?;
    let mut t = clock::now();
    let mut path = dir.join(name(t, kind));
    while path.exists() {
        t += time::Duration::microseconds(1);
        path = dir.join(name(t, kind));
    }
    atomic::write(&path, bytes).with_context(|| format!("cannot write backup {path:?}"))?;
    Ok(path)
}

/// Backups of `kind`, oldest first.
pub fn list(state_dir: &Path, kind: Kind) -> Result<Vec<PathBuf>> {
    let dir = dir(state_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot list backups in {dir:?}")),
    };
    let mut names = Vec::new();
    for entry in entries {
        let name = entry
            .with_context(|| format!("cannot list backups in {dir:?}"))?
            .file_name();
        if kind_of(&name.to_string_lossy()) == Some(kind) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// Deletes the oldest backups of `kind` until `keep` remain. `protect` (the backup this run
/// just made) is never deleted, even if the clock went backwards and it sorts oldest.
/// Returns the deleted paths.
pub fn prune(
    state_dir: &Path,
    kind: Kind,
    keep: usize,
    protect: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    let all = list(state_dir, kind)?;
    let mut excess = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for path in all {
        if excess == 0 {
            break;
        }
        if Some(path.as_path()) == protect {
            continue;
        }
        fs_err::remove_file(&path)?;
        removed.push(path);
        excess -= 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(state_dir: &Path, name: &str) -> PathBuf {
        let dir = dir(state_dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, b"{}").unwrap();
        path
    }

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn names_follow_the_documented_pattern() {
        let t = clock::parse_rfc3339("2026-05-31T00:00:00.000001Z").unwrap();
        assert_eq!(name(t, Kind::PreRun), "20260531T000000000001Z.tfstate");
        assert_eq!(
            name(t, Kind::Failed),
            "20260531T000000000001Z.failed.tfstate"
        );
        assert_eq!(
            kind_of("20260531T000000000001Z.tfstate"),
            Some(Kind::PreRun)
        );
        assert_eq!(
            kind_of("20260531T000000000001Z.failed.tfstate"),
            Some(Kind::Failed)
        );
        for foreign in [
            "terraform.tfstate",
            "20260531T000000Z.tfstate",
            "20260531X000000000001Z.tfstate",
            "2026053aT000000000001Z.tfstate",
            "20260531T000000000001Z.tfstate.bak",
            "my-20260531T000000000001Z.tfstate",
        ] {
            assert_eq!(
                kind_of(foreign),
                None,
                "{foreign} is not one of our backups"
            );
        }
    }

    #[test]
    fn create_makes_unique_private_files() -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let state = tempfile::tempdir()?;
        let a = create(state.path(), b"a", Kind::PreRun)?;
        let b = create(state.path(), b"b", Kind::PreRun)?;
        assert_ne!(a, b, "two backups must never share a name");
        assert_eq!(std::fs::read(&a)?, b"a");
        assert_eq!(std::fs::read(&b)?, b"b");
        let dir_mode = std::fs::metadata(dir(state.path()))?.permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700, "backups/ must be 0700");
        let file_mode = std::fs::metadata(&a)?.permissions().mode() & 0o777;
        assert_eq!(file_mode, 0o600, "backups must be 0600");
        assert_eq!(
            list(state.path(), Kind::PreRun)?,
            vec![a, b],
            "oldest first"
        );
        Ok(())
    }

    #[test]
    fn prune_keeps_the_newest_of_each_kind_separately() -> Result<()> {
        let state = tempfile::tempdir()?;
        for i in 1..=4 {
            touch(state.path(), &format!("2026010{i}T000000000000Z.tfstate"));
            touch(
                state.path(),
                &format!("2026010{i}T000000000000Z.failed.tfstate"),
            );
        }
        touch(state.path(), "notes.txt");
        let removed = prune(state.path(), Kind::PreRun, 2, None)?;
        assert_eq!(
            names(&removed),
            [
                "20260101T000000000000Z.tfstate",
                "20260102T000000000000Z.tfstate"
            ]
        );
        assert_eq!(
            names(&list(state.path(), Kind::PreRun)?),
            [
                "20260103T000000000000Z.tfstate",
                "20260104T000000000000Z.tfstate"
            ]
        );
        assert_eq!(
            list(state.path(), Kind::Failed)?.len(),
            4,
            "failed backups untouched"
        );
        assert!(
            dir(state.path()).join("notes.txt").exists(),
            "foreign files untouched"
        );
        Ok(())
    }

    #[test]
    fn prune_never_deletes_the_protected_backup() -> Result<()> {
        let state = tempfile::tempdir()?;
        // The clock went backwards: the backup just made sorts oldest.
        let just_made = touch(state.path(), "20250101T000000000000Z.tfstate");
        touch(state.path(), "20260101T000000000000Z.tfstate");
        touch(state.path(), "20260102T000000000000Z.tfstate");
        prune(state.path(), Kind::PreRun, 2, Some(&just_made))?;
        assert_eq!(
            names(&list(state.path(), Kind::PreRun)?),
            [
                "20250101T000000000000Z.tfstate",
                "20260102T000000000000Z.tfstate"
            ],
            "the protected backup survives; the oldest others go"
        );
        Ok(())
    }

    #[test]
    fn list_of_a_missing_directory_is_empty() -> Result<()> {
        let state = tempfile::tempdir()?;
        assert!(list(state.path(), Kind::PreRun)?.is_empty());
        assert!(prune(state.path(), Kind::PreRun, 1, None)?.is_empty());
        Ok(())
    }
}
