//! Everything `status` knows, gathered once from the state directory. Problems reading files
//! become `errors`, never a panic.
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::credentials::{self, Source};
use crate::config::layout::StateDir;
use crate::config::options::{Options, StatusFormat};
use crate::stores::backup::{self, Kind};
use crate::stores::last_apply::{self, LastApply, ResultKind};
use crate::stores::lock::{self, Liveness, RunState};
use crate::stores::rendered;
use crate::util::clock;
use crate::util::tfstate::{self, Key, Object};

/// What last-apply.json holds.
pub enum Last {
    /// No apply or destroy recorded yet.
    None,
    /// The file exists but cannot be used; `errors` says why.
    Unreadable,
    Recorded(LastApply),
}

pub struct Report {
    pub state_dir: StateDir,
    pub last: Last,
    pub state_found: bool,
    pub serial: Option<u64>,
    pub keys: Vec<KeyStatus>,
    pub backups: Vec<PathBuf>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub credentials: Option<Source>,
    pub lock: LockStatus,
    /// The tailnet the installed config names (read for the human view only).
    pub tailnet: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeyStatus {
    #[serde(flatten)]
    pub key: Key,
    /// Equals `invalid` (kept from the original tool's schema, tailscale-manager 0.3.0).
    pub revoked: bool,
    /// `expires_at` has passed.
    pub expired: bool,
}

impl KeyStatus {
    pub fn bad(&self) -> bool {
        self.key.invalid || self.expired
    }

    /// ✓ or ✗.
    pub fn mark(&self) -> &'static str {
        if self.bad() { "✗" } else { "✓" }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockState {
    Idle,
    /// A run holds the lock now.
    Running,
    /// The last run's runner was killed, but its terraform (`terraform_pid`) still runs and
    /// holds the lock: it finishes the run's changes and saves its state; the next run waits
    /// for it.
    Finishing,
    /// The last run was killed while it held the lock, and nothing of it runs any more.
    Interrupted,
}

impl LockState {
    pub fn as_str(self) -> &'static str {
        match self {
            LockState::Idle => "idle",
            LockState::Running => "running",
            LockState::Finishing => "finishing",
            LockState::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LockStatus {
    pub state: LockState,
    pub pid: Option<u32>,
    pub command: Option<String>,
    pub since: Option<String>,
    /// The terraform that the run is running now (or, `finishing`, that outlived it).
    pub terraform_pid: Option<u32>,
}

impl Report {
    /// Reads what `format` shows: the one-line summary reads only last-apply.json (it runs on
    /// every switch); only the human view names the tailnet.
    pub fn gather(opts: &Options, now: OffsetDateTime, format: StatusFormat) -> Report {
        let dir = &opts.state_dir;
        let mut errors = Vec::new();
        let mut warnings = Vec::new();

        let last = match last_apply::read(dir) {
            Ok(None) => Last::None,
            Ok(Some(record)) => Last::Recorded(record),
            Err(why) => {
                errors.push(why);
                Last::Unreadable
            }
        };

        let state_path = dir.state();
        let state_bytes = if format == StatusFormat::Oneline {
            None
        } else {
            tfstate::read(&state_path).unwrap_or_else(|e| {
                errors.push(format!("{e:#}"));
                None
            })
        };
        let state_found = state_bytes.is_some();
        let (serial, keys) = match state_bytes.map(|b| tfstate::parse_from(&state_path, &b)) {
            None => (None, Vec::new()),
            Some(Ok(s)) => {
                let keys = s.keys.into_iter().map(|key| key_status(key, now)).collect();
                (s.serial, keys)
            }
            Some(Err(invalid)) => {
                errors.push(format!(
                    "{invalid}; put a backup back with `tailscale-manager restore-state`"
                ));
                (None, Vec::new())
            }
        };

        for (path, limit, fix) in [
            (dir.root().to_path_buf(), 0o700, "chmod 700"),
            (state_path, 0o600, "chmod 600"),
        ] {
            // The entries themselves: a link's target is not ours to judge (a symlinked
            // state is an error above).
            if let Ok(meta) = std::fs::symlink_metadata(&path)
                && !meta.file_type().is_symlink()
            {
                let mode = meta.permissions().mode() & 0o777;
                if mode & !limit != 0 {
                    warnings.push(format!(
                        "{} is mode {mode:04o}, wider than {limit:04o}; {fix} {}",
                        path.display(),
                        path.display()
                    ));
                }
            }
        }

        let backups = backup::list(dir, Kind::Regular).unwrap_or_else(|e| {
            errors.push(format!("{e:#}"));
            Vec::new()
        });

        let lock = match lock::read(dir) {
            Some(h) if h.state == RunState::Running => LockStatus {
                state: match h.liveness() {
                    Some(Liveness::Finishing(_)) => LockState::Finishing,
                    Some(Liveness::Interrupted) => LockState::Interrupted,
                    _ => LockState::Running,
                },
                pid: Some(h.pid),
                command: Some(h.command),
                since: Some(h.since),
                terraform_pid: h.terraform_pid,
            },
            _ => LockStatus {
                state: LockState::Idle,
                pid: None,
                command: None,
                since: None,
                terraform_pid: None,
            },
        };

        Report {
            state_dir: dir.clone(),
            last,
            state_found,
            serial,
            keys,
            backups,
            errors,
            warnings,
            credentials: credentials::source(opts.credentials.as_deref(), &|n| std::env::var_os(n)),
            lock,
            tailnet: match format {
                StatusFormat::Human => rendered::installed_tailnet(dir),
                _ => None,
            },
        }
    }

    /// The last apply/destroy succeeded: `status` exits 0.
    pub fn succeeded(&self) -> bool {
        matches!(&self.last, Last::Recorded(l) if l.result == ResultKind::Ok)
    }

    pub fn last_apply(&self) -> Option<&LastApply> {
        match &self.last {
            Last::Recorded(l) => Some(l),
            _ => None,
        }
    }

    pub fn orphans(&self) -> &[Object] {
        self.last_apply().map(LastApply::orphans).unwrap_or(&[])
    }

    /// Why the last result is not ok, in one line (None when it is ok or missing).
    pub fn error_first_line(&self) -> Option<String> {
        match &self.last {
            Last::Recorded(l) if l.result == ResultKind::Error => Some(
                l.error_first_line()
                    .unwrap_or("no error message recorded")
                    .to_string(),
            ),
            Last::Unreadable => Some(
                self.errors
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("{} is unreadable", StateDir::LAST_APPLY)),
            ),
            _ => None,
        }
    }

    pub fn bad_keys(&self) -> usize {
        self.keys.iter().filter(|k| k.bad()).count()
    }
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
