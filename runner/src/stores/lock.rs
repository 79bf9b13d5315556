//! The run lock `DIR/.lock`: one mutating run at a time.
//!
//! The lock itself is an OS file lock (`flock`), released by the kernel once every descriptor
//! of it is closed, however its holders die. terraform inherits one ([`Shared`]), so a run
//! whose runner was killed keeps the lock until its terraform (and its providers) exit: the
//! next run waits for them instead of starting a second terraform. The file's content says who
//! holds or held it: `"state": "running"` with a dead pid means that run was interrupted
//! (killed); if the terraform it started is still alive, that terraform is finishing it.
use std::io::{ErrorKind, Seek, SeekFrom};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::config::layout::StateDir;
use crate::util::console::errln;
use crate::util::outcome::IoContext;
use crate::util::{clock, regular, signals, sys};

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
    /// The terraform this run is running now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform_pid: Option<u32>,
    /// The run before this one, if it was interrupted (killed while holding the lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_previous: Option<Box<Holder>>,
}

/// Where a run that says it is running stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Its runner is alive: it holds the lock now.
    Alive,
    /// Its runner was killed, but the terraform it started (this pid) is still running and
    /// holds the lock: it finishes the run's changes and saves its state.
    Finishing(u32),
    /// Its runner was killed and nothing it started runs any more.
    Interrupted,
}

impl Holder {
    fn describe(&self) -> String {
        format!("pid {}, since {}", self.pid, self.since)
    }

    /// Where this run stands; None when it finished.
    pub fn liveness(&self) -> Option<Liveness> {
        if self.state != RunState::Running {
            return None;
        }
        Some(if process_alive(self.pid) {
            Liveness::Alive
        } else {
            match self.terraform_pid.filter(|&pid| process_alive(pid)) {
                Some(pid) => Liveness::Finishing(pid),
                None => Liveness::Interrupted,
            }
        })
    }

    /// A run that says it is running but whose processes are all gone was killed.
    pub fn interrupted(&self) -> bool {
        self.liveness() == Some(Liveness::Interrupted)
    }

    /// Who holds the lock, for the messages of a run that waits for it.
    fn holding(&self) -> String {
        match self.liveness() {
            Some(Liveness::Finishing(terraform)) => format!(
                "terraform (pid {terraform}) of an interrupted {} run ({})",
                self.command,
                self.describe()
            ),
            Some(Liveness::Alive) => format!("another tailscale-manager run ({})", self.describe()),
            // The run and its terraform are gone, yet the lock is held: by something its
            // terraform started and left behind.
            Some(Liveness::Interrupted) => format!(
                "a process left by an interrupted {} run ({}; a provider plugin, say)",
                self.command,
                self.describe()
            ),
            // A finished run's record: most likely a run that is starting and has not written
            // its own yet.
            None => "another tailscale-manager run".into(),
        }
    }
}

/// Held for the duration of a run; dropping it records the end and releases the lock.
pub struct RunLock {
    file: std::fs::File,
    path: PathBuf,
    holder: Holder,
}

/// Takes the lock, waiting up to `timeout` for another run (or the terraform of a killed one)
/// to finish.
pub fn acquire(dir: &StateDir, command: &str, timeout: Duration) -> Result<RunLock> {
    let path = dir.lock();
    let mut file = open(&path).cannot("open the lock file", &path)?;
    let start = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = read_from(&mut file);
                if start.elapsed() >= timeout {
                    bail!(timed_out(holder.as_ref(), &path));
                }
                signals::check("the lock was free")?;
                if !announced {
                    let who = holder.as_ref().map_or_else(
                        || "another tailscale-manager run (pid unknown)".into(),
                        Holder::holding,
                    );
                    errln!("waiting up to {}s for {who}", timeout.as_secs());
                    announced = true;
                }
                std::thread::sleep(POLL.min(timeout.saturating_sub(start.elapsed())));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e).cannot("lock", &path),
        }
    }
    let previous = read_from(&mut file).filter(|h| h.state == RunState::Running);
    if let Some(previous) = &previous {
        let terraform = match previous.terraform_pid {
            Some(pid) => format!(
                "; its terraform (pid {pid}) ran to its end, and this run starts from the state \
                 it saved"
            ),
            None => "; its temporary files are removed and the state is checked by this run".into(),
        };
        errln!(
            "warning: the previous {} run ({}) was interrupted{terraform}",
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
        terraform_pid: None,
        interrupted_previous: previous.map(|mut p| {
            p.interrupted_previous = None;
            Box::new(p)
        }),
    };
    let lock = RunLock { file, path, holder };
    record(&lock.file, &lock.holder).cannot("write the lock file", &lock.path)?;
    Ok(lock)
}

/// The error of a run that waited for the lock in vain.
fn timed_out(holder: Option<&Holder>, path: &Path) -> String {
    match holder {
        Some(h) => match h.liveness() {
            Some(Liveness::Finishing(terraform)) => format!(
                "{} still holds the lock; it is finishing that run's changes and saving its \
                 state: wait for it, or stop it with `kill -INT {terraform}` (it then saves what \
                 it created)",
                h.holding()
            ),
            Some(Liveness::Alive) => format!(
                "another tailscale-manager run holds the lock ({})",
                h.describe()
            ),
            Some(Liveness::Interrupted) => format!(
                "{} still holds the lock; `fuser -v {}` names it",
                h.holding(),
                path.display()
            ),
            // Held the whole time while the record says the last run finished.
            None => format!(
                "a process left by the finished {} run ({}; a provider plugin, say) still holds \
                 the lock; `fuser -v {}` names it",
                h.command,
                h.describe(),
                path.display()
            ),
        },
        None => "another tailscale-manager run holds the lock (pid unknown)".into(),
    }
}

/// Rewrites the lock file in place (a rename would swap the inode the lock is on): the new
/// record from offset 0, then the rest cut off.
fn record(file: &std::fs::File, holder: &Holder) -> std::io::Result<()> {
    let mut json = serde_json::to_vec(holder).map_err(std::io::Error::other)?;
    json.push(b'\n');
    file.write_all_at(&json, 0)?;
    file.set_len(json.len() as u64)?;
    file.sync_data()
}

impl RunLock {
    /// What terraform gets from this lock: see [`Shared`].
    pub fn share(&self) -> std::io::Result<Shared> {
        Ok(Shared {
            file: self.file.try_clone()?,
            holder: self.holder.clone(),
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        self.holder.state = RunState::Finished;
        self.holder.ended = Some(clock::iso_micros(clock::now()));
        if let Err(e) = record(&self.file, &self.holder) {
            errln!(
                "warning: cannot record the end of this run in {}: {e}",
                self.path.display()
            );
        }
        // Closing the file releases the lock (once terraform's copy is closed too).
    }
}

/// The run lock as terraform gets it: a descriptor of the lock (close-on-exec until the child
/// clears it), and the lock file's record of terraform's pid.
pub struct Shared {
    file: std::fs::File,
    holder: Holder,
}

impl Shared {
    /// What the child that becomes terraform does between fork and exec: keep the lock open
    /// across exec and record its own pid in the lock file. Written before spawning returns,
    /// so however early the runner dies, a terraform that runs is on record.
    pub fn for_child(&self) -> std::io::Result<ChildRecord> {
        const PLACEHOLDER: u32 = u32::MAX;
        let mut json = serde_json::to_vec(&Holder {
            terraform_pid: Some(PLACEHOLDER),
            ..self.holder.clone()
        })
        .map_err(std::io::Error::other)?;
        json.push(b'\n');
        let marker = format!("\"terraform_pid\":{PLACEHOLDER}");
        let at = json
            .windows(marker.len())
            .rposition(|w| w == marker.as_bytes())
            .ok_or_else(|| std::io::Error::other("terraform_pid missing from the record"))?;
        let suffix = json.split_off(at + marker.len());
        json.truncate(at + marker.len() - PLACEHOLDER.to_string().len());
        Ok(ChildRecord {
            fd: self.file.as_raw_fd(),
            prefix: json,
            suffix,
        })
    }

    /// Records the end of terraform (`None`) in the lock file.
    pub fn note_terraform(&self, pid: Option<u32>) -> std::io::Result<()> {
        let holder = Holder {
            terraform_pid: pid,
            ..self.holder.clone()
        };
        record(&self.file, &holder)
    }
}

/// The lock file's record with a hole for terraform's pid, prepared before fork so the child
/// fills it in without allocating (see [`Shared::for_child`]).
pub struct ChildRecord {
    fd: RawFd,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

impl ChildRecord {
    /// In the child, between fork and exec (async-signal-safe): keeps the lock open across
    /// exec and writes the record with this process's pid. Only the first can fail; the record
    /// is best effort.
    pub fn apply(&self) -> std::io::Result<()> {
        sys::keep_open_across_exec(self.fd)?;
        let mut digits = [0u8; 10];
        let mut pid = sys::own_pid();
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (pid % 10) as u8;
            pid /= 10;
            if pid == 0 {
                break;
            }
        }
        let digits = &digits[start..];
        let mut offset = 0;
        for part in [&self.prefix[..], digits, &self.suffix[..]] {
            if sys::write_at(self.fd, part, offset) != part.len() as isize {
                return Ok(());
            }
            offset += part.len() as u64;
        }
        sys::truncate(self.fd, offset);
        Ok(())
    }
}

/// Opens the lock file for reading and writing, creating it (0600) if needed. It must be a
/// regular file, not a link (it is written in place).
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    loop {
        match regular::RECORD.open(path, true) {
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            opened => return opened,
        }
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {} // another run made it: open that
            created => return created,
        }
    }
}

fn read_from(file: &mut std::fs::File) -> Option<Holder> {
    file.seek(SeekFrom::Start(0)).ok()?;
    parse(&regular::RECORD.read_from(file).ok()?)
}

/// What the lock file says, without taking the lock (for `status`).
pub fn read(dir: &StateDir) -> Option<Holder> {
    parse(&regular::RECORD.read(&dir.lock()).ok()?)
}

/// The record in the lock file's content; None when it is not one (torn, or garbage).
pub fn parse(bytes: &[u8]) -> Option<Holder> {
    serde_json::from_slice(bytes).ok()
}

/// Whether a process with this pid runs (Linux `/proc`); a zombie (dead, not yet reaped by its
/// parent) does not. A process `/proc` does not show is asked after directly: a `/proc` mounted
/// `hidepid=invisible` (the NixOS unit's `ProtectProc=invisible`) hides the processes of another
/// user namespace even when they are this user's, and the unit has one of its own
/// (`PrivateUsers=true`), so from inside it a run of the CLI would otherwise look dead.
fn process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
    else {
        return sys::process_exists(pid);
    };
    // The state is the first field after the command name, which may contain spaces.
    let state = stat
        .rfind(')')
        .and_then(|end| stat[end + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
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
        // Not ZERO: another test of this process that forks a child (to run a program) while
        // the lock was held shares the lock until the child's exec closes it.
        let again = acquire(&dir, "destroy", Duration::from_secs(10))?;
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
    fn a_killed_run_whose_terraform_still_runs_is_finishing() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let lock = acquire(&dir, "apply", Duration::ZERO)?;
        let shared = lock.share()?;
        // This test process plays the terraform that outlived its runner (pid 999999).
        let mut holder = lock.holder.clone();
        holder.pid = 999999;
        record(&lock.file, &holder)?;
        let orphan = Shared { holder, ..shared };
        orphan.note_terraform(Some(std::process::id()))?;
        let on_disk = read(&dir).expect("lock file readable");
        assert_eq!(
            on_disk.liveness(),
            Some(Liveness::Finishing(std::process::id())),
            "the runner is dead, its terraform runs: {on_disk:?}"
        );
        assert!(!on_disk.interrupted(), "finishing is not interrupted");
        orphan.note_terraform(Some(999998))?;
        assert_eq!(
            read(&dir).and_then(|h| h.liveness()),
            Some(Liveness::Interrupted),
            "neither the runner nor its terraform runs"
        );
        drop(orphan);
        drop(lock);
        assert_eq!(read(&dir).and_then(|h| h.liveness()), None, "finished");
        Ok(())
    }

    #[test]
    fn a_lock_held_by_what_a_killed_run_left_says_how_to_find_it() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let lock = acquire(&dir, "apply", Duration::ZERO)?;
        // This process plays what the killed run (pid 999999) and its terraform left behind.
        let holder = Holder {
            pid: 999999,
            terraform_pid: Some(999998),
            ..lock.holder.clone()
        };
        record(&lock.file, &holder)?;
        let err = match acquire(&dir, "apply", Duration::ZERO) {
            Ok(_) => panic!("the lock is held"),
            Err(e) => format!("{e:#}"),
        };
        assert_eq!(
            err,
            format!(
                "a process left by an interrupted apply run (pid 999999, since {}; a provider \
                 plugin, say) still holds the lock; `fuser -v {}` names it",
                holder.since,
                dir.lock().display()
            )
        );
        Ok(())
    }

    #[test]
    fn the_child_records_its_own_pid_without_allocating() -> Result<()> {
        let (_temp, dir) = StateDir::temporary()?;
        let lock = acquire(&dir, "apply", Duration::ZERO)?;
        let before = read(&dir).expect("a record");
        // What the child does between fork and exec, here in this process.
        lock.share()?.for_child()?.apply()?;
        let after = read(&dir).expect("the child's record parses");
        assert_eq!(
            after,
            Holder {
                terraform_pid: Some(std::process::id()),
                ..before
            },
            "the record is the run's, with the child's pid"
        );
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
