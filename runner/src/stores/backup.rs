//! State backups in `DIR/backups/`: `<UTC yyyymmddThhmmssffffffZ>.tfstate` (regular backups:
//! before every mutation, by `backup-state`, and of the state `restore-state` replaces),
//! `<…>.failed.tfstate` for the state a failed run left, and `<…>.local.tfstate` for a local
//! state the runner moved to a remote backend. Files that do not match these patterns exactly
//! (a valid time included) are never counted or deleted.
//!
//! Names sort in the order the backups were made, whatever the clock does: a new backup is
//! named after the current time, or, when the clock stands at or before the newest backup of
//! either kind (it was stepped back: a host without an RTC, a corrected clock), 1 µs after that
//! one. So "newest" (what `restore-state` restores, what pruning keeps) means most recently
//! made, and a name is the time it was made unless the clock was behind an earlier name.
use std::path::{Path, PathBuf};

use anyhow::Result;
use time::OffsetDateTime;

use crate::config::layout::StateDir;
use crate::util::outcome::IoContext;
use crate::util::{atomic, clock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A copy of a good state: before a mutation, by `backup-state`, before `restore-state`.
    Regular,
    /// The state a failed run left behind.
    FailedRun,
    /// A local `terraform.tfstate` as it was when the runner moved it to a remote backend.
    Local,
}

impl Kind {
    /// The kinds whose suffix ends another kind's: looked for first.
    const LONGEST_FIRST: [Kind; 3] = [Kind::FailedRun, Kind::Local, Kind::Regular];

    fn suffix(self) -> &'static str {
        match self {
            Kind::Regular => ".tfstate",
            Kind::FailedRun => ".failed.tfstate",
            Kind::Local => ".local.tfstate",
        }
    }
}

/// The backup file name for time `t`.
pub fn name(t: OffsetDateTime, kind: Kind) -> String {
    format!("{}{}", clock::compact_micros(t), kind.suffix())
}

/// The time and kind in a backup file name.
fn parse_name(name: &str) -> Option<(OffsetDateTime, Kind)> {
    let (stamp, kind) = Kind::LONGEST_FIRST
        .iter()
        .find_map(|&kind| Some((name.strip_suffix(kind.suffix())?, kind)))?;
    Some((clock::parse_compact_micros(stamp)?, kind))
}

/// A backup just made, and the older ones pruning deleted to make room.
#[derive(Debug)]
pub struct Saved {
    pub path: PathBuf,
    pub pruned: Vec<PathBuf>,
}

/// Backs up `bytes` as a new backup of `kind`, then prunes that kind to the newest `keep`,
/// never deleting the one just made. Every command that makes a backup goes through here but
/// `restore-state`, which prunes only once the backup it restores is back in place.
pub fn save(dir: &StateDir, bytes: &[u8], kind: Kind, keep: usize) -> Result<Saved> {
    let path = create(dir, bytes, kind)?;
    let pruned = prune(dir, kind, keep, Some(&path))?;
    Ok(Saved { path, pruned })
}

/// Writes `bytes` as a new backup (0600, atomically) in a 0700 `backups/` directory and
/// returns its path. Its name sorts after every backup already there (see the module
/// documentation); it never overwrites one.
pub fn create(dir: &StateDir, bytes: &[u8], kind: Kind) -> Result<PathBuf> {
    let backups = dir.backups();
    atomic::private_dir(&backups).cannot("create", &backups)?;
    let newest = all(dir)?.into_iter().max_by_key(|(t, _, _)| *t);
    // A name in year 9999 (a clock that was that far off) leaves no later name to take.
    let after = |t: OffsetDateTime, last: &Path| {
        t.checked_add(time::Duration::microseconds(1))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot name a backup after {}: no later time can be written in a backup's \
                 name; move that file out of {}",
                    last.display(),
                    backups.display()
                )
            })
    };
    let mut t = match &newest {
        Some((newest, _, last)) => clock::now().max(after(*newest, last)?),
        None => clock::now(),
    };
    let mut path = backups.join(name(t, kind));
    while path.exists() {
        t = after(t, &path)?;
        path = backups.join(name(t, kind));
    }
    atomic::write(&path, bytes).cannot("write the backup", &path)?;
    Ok(path)
}

/// Backups of `kind`, oldest first.
pub fn list(dir: &StateDir, kind: Kind) -> Result<Vec<PathBuf>> {
    let mut found: Vec<(OffsetDateTime, PathBuf)> = all(dir)?
        .into_iter()
        .filter(|(_, k, _)| *k == kind)
        .map(|(t, _, path)| (t, path))
        .collect();
    found.sort();
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

/// Every backup of either kind, in no order.
fn all(dir: &StateDir) -> Result<Vec<(OffsetDateTime, Kind, PathBuf)>> {
    let backups = dir.backups();
    let entries = match std::fs::read_dir(&backups) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).cannot("list the backups in", &backups),
    };
    let mut found = Vec::new();
    for entry in entries {
        let name = entry.cannot("list the backups in", &backups)?.file_name();
        if let Some((t, kind)) = parse_name(&name.to_string_lossy()) {
            found.push((t, kind, backups.join(name)));
        }
    }
    Ok(found)
}

/// Deletes the oldest backups of `kind` until `keep` remain. `protect` (the backup this run
/// just made) is never deleted. Returns the deleted paths.
pub fn prune(
    dir: &StateDir,
    kind: Kind,
    keep: usize,
    protect: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    let all = list(dir, kind)?;
    let mut excess = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for path in all {
        if excess == 0 {
            break;
        }
        if Some(path.as_path()) == protect {
            continue;
        }
        std::fs::remove_file(&path).cannot("remove the old backup", &path)?;
        removed.push(path);
        excess -= 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind of a backup file name, or None when the name is not one of ours.
    fn kind_of(name: &str) -> Option<Kind> {
        parse_name(name).map(|(_, kind)| kind)
    }

    fn touch(state_dir: &StateDir, name: &str) -> PathBuf {
        let dir = state_dir.backups();
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
        assert_eq!(name(t, Kind::Regular), "20260531T000000000001Z.tfstate");
        assert_eq!(
            name(t, Kind::FailedRun),
            "20260531T000000000001Z.failed.tfstate"
        );
        assert_eq!(
            kind_of("20260531T000000000001Z.tfstate"),
            Some(Kind::Regular)
        );
        assert_eq!(
            kind_of("20260531T000000000001Z.failed.tfstate"),
            Some(Kind::FailedRun)
        );
        assert_eq!(name(t, Kind::Local), "20260531T000000000001Z.local.tfstate");
        assert_eq!(
            kind_of("20260531T000000000001Z.local.tfstate"),
            Some(Kind::Local)
        );
        for foreign in [
            "20260531T000000000001Z.other.tfstate",
            "terraform.tfstate",
            "20260531T000000Z.tfstate",
            "20260531X000000000001Z.tfstate",
            "2026053aT000000000001Z.tfstate",
            "20261301T000000000001Z.tfstate",
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
    fn a_backup_named_at_the_end_of_time_is_an_error_not_a_panic() -> Result<()> {
        let (_temp, state) = StateDir::temporary()?;
        let last = touch(&state, "99991231T235959999999Z.failed.tfstate");
        let err = create(&state, b"{}", Kind::Regular).expect_err("no later name exists");
        assert_eq!(
            format!("{err:#}"),
            format!(
                "cannot name a backup after {}: no later time can be written in a backup's \
                 name; move that file out of {}",
                last.display(),
                state.backups().display()
            ),
            "names the file in the way and the fix"
        );
        Ok(())
    }

    #[test]
    fn create_makes_unique_private_files() -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let (_temp, state) = StateDir::temporary()?;
        let a = create(&state, b"a", Kind::Regular)?;
        let b = create(&state, b"b", Kind::Regular)?;
        assert_ne!(a, b, "two backups must never share a name");
        assert_eq!(std::fs::read(&a)?, b"a");
        assert_eq!(std::fs::read(&b)?, b"b");
        let dir_mode = std::fs::metadata(state.backups())?.permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700, "backups/ must be 0700");
        let file_mode = std::fs::metadata(&a)?.permissions().mode() & 0o777;
        assert_eq!(file_mode, 0o600, "backups must be 0600");
        assert_eq!(list(&state, Kind::Regular)?, vec![a, b], "oldest first");
        Ok(())
    }

    #[test]
    fn prune_keeps_the_newest_of_each_kind_separately() -> Result<()> {
        let (_temp, state) = StateDir::temporary()?;
        for i in 1..=4 {
            touch(&state, &format!("2026010{i}T000000000000Z.tfstate"));
            touch(&state, &format!("2026010{i}T000000000000Z.failed.tfstate"));
        }
        touch(&state, "notes.txt");
        let removed = prune(&state, Kind::Regular, 2, None)?;
        assert_eq!(
            names(&removed),
            [
                "20260101T000000000000Z.tfstate",
                "20260102T000000000000Z.tfstate"
            ]
        );
        assert_eq!(
            names(&list(&state, Kind::Regular)?),
            [
                "20260103T000000000000Z.tfstate",
                "20260104T000000000000Z.tfstate"
            ]
        );
        assert_eq!(
            list(&state, Kind::FailedRun)?.len(),
            4,
            "failed backups untouched"
        );
        assert!(
            state.backups().join("notes.txt").exists(),
            "foreign files untouched"
        );
        Ok(())
    }

    #[test]
    fn prune_never_deletes_the_protected_backup() -> Result<()> {
        let (_temp, state) = StateDir::temporary()?;
        // The clock went backwards: the backup just made sorts oldest.
        let just_made = touch(&state, "20250101T000000000000Z.tfstate");
        touch(&state, "20260101T000000000000Z.tfstate");
        touch(&state, "20260102T000000000000Z.tfstate");
        prune(&state, Kind::Regular, 2, Some(&just_made))?;
        assert_eq!(
            names(&list(&state, Kind::Regular)?),
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
        let (_temp, state) = StateDir::temporary()?;
        assert!(list(&state, Kind::Regular)?.is_empty());
        assert!(prune(&state, Kind::Regular, 1, None)?.is_empty());
        Ok(())
    }

    #[test]
    fn save_backs_up_then_prunes_sparing_the_new_backup() -> Result<()> {
        let (_temp, state) = StateDir::temporary()?;
        let older = touch(&state, "20200101T000000000000Z.tfstate");
        let saved = save(&state, b"{}", Kind::Regular, 1)?;
        assert_eq!(saved.pruned, vec![older], "the other backup makes room");
        assert_eq!(
            list(&state, Kind::Regular)?,
            vec![saved.path],
            "the backup just made is kept"
        );
        Ok(())
    }

    #[test]
    fn after_the_clock_stepped_back_a_new_backup_still_sorts_last() -> Result<()> {
        let (_temp, state) = StateDir::temporary()?;
        // Made while the clock was ahead; the failed-run kind counts too.
        touch(&state, "29990101T000000000000Z.tfstate");
        touch(&state, "29990101T000000000005Z.failed.tfstate");
        let made = create(&state, b"{}", Kind::Regular)?;
        assert_eq!(
            names(std::slice::from_ref(&made)),
            ["29990101T000000000006Z.tfstate"],
            "1 µs after the newest backup of either kind"
        );
        let again = create(&state, b"{}", Kind::FailedRun)?;
        assert_eq!(
            names(&[again]),
            ["29990101T000000000007Z.failed.tfstate"],
            "names keep increasing"
        );
        assert_eq!(
            list(&state, Kind::Regular)?.last(),
            Some(&made),
            "newest means most recently made"
        );
        Ok(())
    }
}
