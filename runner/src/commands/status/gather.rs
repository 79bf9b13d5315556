//! Everything `status` knows, gathered once from the state directory. Problems reading files
//! become `errors`, never a panic.
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde::Serialize;
use time::OffsetDateTime;

use crate::commands::status::key_files::{self, KeyFileStatus, Untracked};
use crate::config::credentials::{self, Source};
use crate::config::layout::StateDir;
use crate::config::options::{Options, StatusFormat};
use crate::stores::backup::{self, Kind};
use crate::stores::last_apply::{self, LastApply, ResultKind};
use crate::stores::lock::{self, Liveness, RunState};
use crate::stores::rendered;
use crate::stores::snapshot::{self, Origin};
use crate::util::tfstate::{self, Device, Key, KeyFile, Object};
use crate::util::{clock, regular};

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
    /// With a remote backend: whose state the snapshot status read is, and when it was taken.
    pub remote: Option<Origin>,
    pub state_found: bool,
    pub serial: Option<u64>,
    pub keys: Vec<KeyStatus>,
    /// Key files on disk whose key the state does not track (`warnings` says so too).
    pub untracked_key_files: Vec<Untracked>,
    pub backups: Vec<PathBuf>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub credentials: Option<Source>,
    pub lock: LockStatus,
    /// The tailnet the installed config names (read for the human view only).
    pub tailnet: Option<String>,
    /// The device inventory as of the last run; None when the state has none (not monitored).
    pub devices: Option<Devices>,
}

/// The devices `data.tailscale_devices.all` read in the run that wrote the state.
pub struct Devices {
    pub list: Vec<DeviceStatus>,
    /// When terraform.tfstate was last written, or the remote state's snapshot taken
    /// (last-apply.json's timestamp format).
    pub as_of: Option<String>,
    /// `--expiry-warning`.
    pub warning_days: u32,
}

#[derive(Debug, Serialize)]
pub struct DeviceStatus {
    #[serde(flatten)]
    pub device: Device,
    /// The node key's expiry has passed.
    pub key_expired: bool,
    /// The node key expires within `--expiry-warning` days (and has not yet).
    pub key_expires_soon: bool,
}

impl DeviceStatus {
    /// ✓, ⚠ (expires soon) or ✗ (expired).
    pub fn mark(&self) -> &'static str {
        match (self.key_expired, self.key_expires_soon) {
            (true, _) => "✗",
            (false, true) => "⚠",
            _ => "✓",
        }
    }
}

impl Devices {
    pub fn expired(&self) -> usize {
        self.list.iter().filter(|d| d.key_expired).count()
    }

    pub fn expiring_soon(&self) -> usize {
        self.list.iter().filter(|d| d.key_expires_soon).count()
    }

    /// The devices whose node key has expired or expires soon.
    pub fn flagged(&self) -> impl Iterator<Item = &DeviceStatus> {
        self.list
            .iter()
            .filter(|d| d.key_expired || d.key_expires_soon)
    }
}

#[derive(Debug, Serialize)]
pub struct KeyStatus {
    #[serde(flatten)]
    pub key: Key,
    /// Equals `invalid` (kept from the original tool's schema, tailscale-manager 0.3.0).
    pub revoked: bool,
    /// `expires_at` has passed.
    pub expired: bool,
    /// The key's file (`keys.<name>.writeFile`), `None` when it writes none.
    pub file: Option<KeyFileStatus>,
}

impl KeyStatus {
    pub fn bad(&self) -> bool {
        self.key.invalid || self.expired
    }

    /// ✓ or ✗.
    pub fn mark(&self) -> &'static str {
        if self.bad() { "✗" } else { "✓" }
    }

    /// The key writes a file that is missing or stale.
    pub fn file_not_ok(&self) -> bool {
        self.file.as_ref().is_some_and(|f| !f.ok())
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
    /// Reads what `format` shows: the one-line summary (it runs on every switch) reads
    /// last-apply.json and, with a remote backend, the snapshot's origin, never a state to
    /// check; only the human view names the tailnet.
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

        // With a remote backend the runner leaves a snapshot of its state, read instead of
        // terraform.tfstate (which then is at most a local state waiting to move there).
        let mut remote = None;
        let (state_path, state_bytes) = if std::fs::symlink_metadata(dir.remote_snapshot()).is_ok()
        {
            let bytes = match snapshot::read(dir) {
                Ok(Some(snapshot)) => {
                    remote = Some(snapshot.origin);
                    Some(
                        Box::<str>::from(snapshot.state)
                            .into_boxed_bytes()
                            .into_vec(),
                    )
                }
                Ok(None) => None,
                Err(why) => {
                    errors.push(why);
                    None
                }
            };
            if format != StatusFormat::Oneline
                && let Some(origin) = &remote
                && tfstate::read(&dir.state()).is_ok_and(|local| local.is_some())
            {
                warnings.push(format!(
                    "{} is a local state left from before the state moved to the {} backend; \
                     the next apply moves it there (or says why it cannot)",
                    dir.state().display(),
                    origin.backend
                ));
            }
            (dir.remote_snapshot(), bytes)
        } else if format == StatusFormat::Oneline {
            (dir.state(), None)
        } else {
            let bytes = tfstate::read(&dir.state()).unwrap_or_else(|e| {
                errors.push(format!("{e:#}"));
                None
            });
            (dir.state(), bytes)
        };
        let state_bytes = state_bytes.filter(|_| format != StatusFormat::Oneline);
        let state_found = state_bytes.is_some();
        // The key files the state records (None when the state cannot be read) and the device
        // list (see `devices` below) come from the same parse.
        let mut recorded_files: Option<Vec<KeyFile>> = Some(Vec::new());
        let mut device_list = None;
        let (serial, mut keys) = match state_bytes.map(|b| tfstate::parse_from(&state_path, &b)) {
            None => (None, Vec::new()),
            Some(Ok(s)) => {
                recorded_files = Some(s.key_files);
                device_list = s.devices;
                let keys = s.keys.into_iter().map(|key| key_status(key, now)).collect();
                (s.serial, keys)
            }
            Some(Err(invalid)) => {
                recorded_files = None;
                errors.push(format!(
                    "{invalid}; put a backup back with `tailscale-manager restore-state`"
                ));
                (None, Vec::new())
            }
        };
        let as_of = match &remote {
            Some(origin) => Some(origin.taken_at.clone()),
            None => std::fs::metadata(&state_path)
                .and_then(|m| m.modified())
                .ok()
                .map(|t| clock::iso_micros(t.into())),
        };
        let devices = device_list.map(|list| devices(list, as_of, now, opts));

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

        // The installed main.tf.json, read once: it declares the key files and names the
        // tailnet.
        let config = match format {
            StatusFormat::Oneline => None,
            _ => regular::CONFIG.read(&dir.config()).ok(),
        };
        let untracked_key_files = match recorded_files {
            Some(recorded) if format != StatusFormat::Oneline => attach_key_files(
                dir,
                config.as_deref(),
                &recorded,
                &mut keys,
                &mut errors,
                &mut warnings,
            ),
            _ => Vec::new(),
        };

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
            remote,
            state_found,
            serial,
            keys,
            untracked_key_files,
            backups,
            errors,
            warnings,
            credentials: credentials::source(opts.credentials.as_deref(), &|n| std::env::var_os(n)),
            lock,
            tailnet: match (format, &config) {
                (StatusFormat::Human, Some(config)) => rendered::tailnet(config),
                _ => None,
            },
            devices,
        }
    }

    /// `snapshot of the pg state (workspace 'default') taken <time>`, with a remote backend.
    pub fn snapshot_note(&self) -> Option<String> {
        self.remote.as_ref().map(|origin| {
            format!(
                "snapshot of the {} state (workspace '{}') taken {}",
                origin.backend, origin.workspace, origin.taken_at
            )
        })
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

    /// Key files that are missing, stale or untracked.
    pub fn bad_key_files(&self) -> usize {
        self.keys.iter().filter(|k| k.file_not_ok()).count() + self.untracked_key_files.len()
    }
}

/// Sets each key's `file` (see `key_files`) and returns the untracked key files.
fn attach_key_files(
    dir: &StateDir,
    config: Option<&[u8]>,
    recorded: &[KeyFile],
    keys: &mut [KeyStatus],
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Vec<Untracked> {
    let addresses: Vec<&str> = keys.iter().map(|k| k.key.address.as_str()).collect();
    let checked = key_files::check(dir, config, recorded, &addresses, errors, warnings);
    for (key, file) in keys.iter_mut().zip(checked.per_key) {
        key.file = file;
    }
    checked.untracked
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
        file: None,
    }
}

/// The device list with each node key's expiry judged against `now` and `--expiry-warning`.
fn devices(
    list: Vec<Device>,
    as_of: Option<String>,
    now: OffsetDateTime,
    opts: &Options,
) -> Devices {
    let warn_until = now + time::Duration::days(i64::from(opts.expiry_warning_days));
    let list = list
        .into_iter()
        .map(|device| {
            let expires = device.expires.as_deref().and_then(clock::parse_rfc3339);
            let key_expired = expires.is_some_and(|t| t <= now);
            DeviceStatus {
                key_expired,
                key_expires_soon: !key_expired && expires.is_some_and(|t| t <= warn_until),
                device,
            }
        })
        .collect();
    Devices {
        list,
        as_of,
        warning_days: opts.expiry_warning_days,
    }
}
