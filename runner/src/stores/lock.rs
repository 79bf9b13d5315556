//! The run lock `DIR/.lock`: one mutating run at a time.
//!
//! The lock itself is an OS file lock (`flock`), released by the kernel however the holder
//! dies. The file's content says who holds or held it: `"state": "running"` with a dead pid
//! means that run was interrupted (killed), which `status` and the next run report.
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::config::layout::StateDir;
use crate::util::console::errln;
use crate::util::outcome::IoContext;
use crate::util::{clock, signals};

const POLL: Duration = Duration::from_millis(100);

/// What the lock file says about its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// The run is in progress; with a dead pid, it was killed.
    Running,
    /// The run released the lock.
    Finished,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub command: String,
    pub since: String,
    pub state: RunState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
    /// The run before this one, if it was interrupted (killed while holding the lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_previous: Option<Box<Holder>>,
}

impl Holder {
    fn describe(&self) -> String {
        format!("pid {}, since {}", self.pid, self.since)
    }

    /// A run that says it is running but whose process is gone was killed.
    pub fn interrupted(&self) -> bool {
        self.state == RunState::Running && !pid_alive(self.pid)
    }
}

/// Held for the duration of a run; dropping it records the end and releases the lock.
pub struct RunLock {
    file: std::fs::File,
    path: PathBuf,
    holder: Holder,
}

/// Takes the lock, waiting up to `timeout` for another run to finish.
pub fn acquire(dir: &StateDir, command: &str, timeout: Duration) -> Result<RunLock> {
    let path = dir.lock();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .cannot("open the lock file", &path)?;
    let start = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = read_from(&mut file)
                    .map(|h| h.describe())
                    .unwrap_or_else(|| "pid unknown".into());
                if start.elapsed() >= timeout {
                    bail!("another tailscale-manager run holds the lock ({holder})");
                }
                signals::check("the lock was free")?;
                if !announced {
                    errln!(
                        "waiting up to {}s for another tailscale-manager run ({holder})",
                        timeout.as_secs()
                    );
                    announced = true;
                }
                std::thread::sleep(POLL.min(timeout.saturating_sub(start.elapsed())));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e).cannot("lock", &path),
        }
    }
    let previous = read_from(&mut file).filter(|h| h.state == RunState::Running);
    if let Some(previous) = &previous {
        errln!(
            "warning: the previous {} run ({}) was interrupted; its temporary files are removed and the state is checked by this run",
            previous.command,
            previous.describe()
        );
    }
    let holder = Holder {
        pid: std::process::id(),
        command: command.to_string(),
        since: clock::iso_micros(clock::now()),
        state: RunState::Running,
        ended: None,
        interrupted_previous: previous.map(|mut p| {
            p.interrupted_previous = None;
            Box::new(p)
        }),
    };
    let mut lock = RunLock { file, path, holder };
    lock.record().cannot("write the lock file", &lock.path)?;
    Ok(lock)
}

impl RunLock {
    /// Rewrites the lock file in place (a rename would swap the inode we hold the lock on).
    fn record(&mut self) -> std::io::Result<()> {
        let mut json = serde_json::to_vec(&self.holder).map_err(std::io::Error::other)?;
        json.push(b'\n');
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&json)?;
        self.file.sync_data()
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        self.holder.state = RunState::Finished;
        self.holder.ended = Some(clock::iso_micros(clock::now()));
        if let Err(e) = self.record() {
            errln!(
                "warning: cannot record the end of this run in {}: {e}",
                self.path.display()
            );
        }
        // Closing the file releases the lock.
    }
}

fn read_from(file: &mut std::fs::File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// What the lock file says, without taking the lock (for `status`).
pub fn read(dir: &StateDir) -> Option<Holder> {
    let text = std::fs::read_to_string(dir.lock()).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether a process with this pid exists (Linux `/proc`).
fn pid_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_times_out_naming_the_holder() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let held = acquire(&dir, "apply", Duration::ZERO)?;
        let err = match acquire(&dir, "apply", Duration::from_millis(200)) {
            Ok(_) => panic!("a second lock must not be granted while the first is held"),
            Err(e) => format!("{e:#}"),
        };
        let expected = format!(
            "another tailscale-manager run holds the lock (pid {}, since {})",
            std::process::id(),
            held.holder.since
        );
        assert_eq!(err, expected);
        drop(held);
        let again = acquire(&dir, "destroy", Duration::ZERO)?;
        assert_eq!(
            again.holder.interrupted_previous, None,
            "the first run finished cleanly"
        );
        Ok(())
    }

    #[test]
    fn the_file_records_running_then_finished() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let lock = acquire(&dir, "apply", Duration::ZERO)?;
        let during = read(&dir).expect("readable while held");
        assert_eq!(
            (during.state, during.command.as_str()),
            (RunState::Running, "apply")
        );
        assert_eq!(during.pid, std::process::id());
        drop(lock);
        let after = read(&dir).expect("readable after release");
        assert_eq!(after.state, RunState::Finished);
        assert!(after.ended.is_some(), "the end time is recorded");
        Ok(())
    }

    #[test]
    fn an_interrupted_run_is_detected_and_recorded() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        // What a run killed with SIGKILL leaves: state running, lock released by the kernel.
        std::fs::write(
            dir.lock(),
            r#"{"pid":999999,"command":"apply","since":"2026-05-31T00:00:00.000000+00:00","state":"running"}"#,
        )?;
        let lock = acquire(&dir, "apply", Duration::ZERO)?;
        let previous = lock
            .holder
            .interrupted_previous
            .clone()
            .expect("interruption noticed");
        assert_eq!((previous.pid, previous.command.as_str()), (999999, "apply"));
        let on_disk = read(&dir).expect("lock file readable");
        assert_eq!(on_disk.interrupted_previous, Some(previous.clone()));
        assert!(previous.interrupted(), "running, with a dead pid");
        assert!(!on_disk.interrupted(), "this run is alive");
        Ok(())
    }

    #[test]
    fn garbage_in_the_lock_file_does_not_block_a_run() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        std::fs::write(dir.lock(), b"\0\0torn")?;
        let lock = acquire(&dir, "apply", Duration::ZERO)?;
        assert_eq!(lock.holder.interrupted_previous, None);
        Ok(())
    }
}
