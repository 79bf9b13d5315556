//! Processes a test starts end with the test, also when it fails: [`Spawned`] kills what it
//! started on drop, and [`kill_processes_using`] finds what escaped (a process whose parent was
//! killed is no longer below it). Plus waiting for another process to get somewhere.
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tailscale_manager::util::sys;

use crate::output::Output;

pub const SIGKILL: i32 = 9;

/// A started command. Dropping it before [`Spawned::finish`] (a failed assertion, an early
/// `?`) kills it and every process below it.
pub struct Spawned {
    child: Option<Child>,
}

impl Spawned {
    /// Starts `command` with stdout and stderr collected.
    pub fn start(command: &mut Command) -> Result<Self> {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {:?}", command.get_program()))?;
        Ok(Spawned { child: Some(child) })
    }

    pub fn id(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits at most `limit` for the command to end (a command that hangs is killed when the
    /// error drops it), then collects its output. For output that fits the pipes (64 KiB).
    pub fn finish_within(mut self, limit: Duration) -> Result<Output> {
        let child = self.child.as_mut().context("already finished")?;
        wait_until("the command to end", limit, || {
            Ok(child.try_wait()?.is_some())
        })?;
        self.finish()
    }

    /// Waits for the command to end and collects its output.
    pub fn finish(mut self) -> Result<Output> {
        let child = self.child.take().context("already finished")?;
        Ok(Output::of(child.wait_with_output()?))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_tree(child.id());
            let _ = child.wait();
        }
    }
}

/// How a command whose output reader went away ended.
#[derive(Debug)]
pub struct ReaderGone {
    pub status: ExitStatus,
    /// stderr, when it was not sent down the pipe too.
    pub stderr: String,
}

/// Runs `command` as a shell runs `command | head -c1` (with `merge_stderr`: `command 2>&1 |
/// head -c1`): its stdout (and stderr) is a pipe whose reader takes the first byte and goes
/// away. Waits at most `limit` for the command to end; kills it (and fails) after that.
pub fn run_with_reader_gone(
    command: &mut Command,
    merge_stderr: bool,
    limit: Duration,
) -> Result<ReaderGone> {
    let (mut reader, writer) = std::io::pipe()?;
    command.stdout(writer.try_clone()?);
    if merge_stderr {
        command.stderr(writer);
    } else {
        drop(writer);
        command.stderr(Stdio::piped());
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let mut spawned = Spawned { child: Some(child) };
    let mut first = [0u8; 1];
    reader
        .read_exact(&mut first)
        .context("the command printed nothing")?;
    drop(reader);
    let mut status = None;
    wait_until(
        "the command to end after its reader went away",
        limit,
        || {
            let child = spawned.child.as_mut().context("running")?;
            status = child.try_wait()?;
            Ok(status.is_some())
        },
    )?;
    spawned.child = None;
    let stderr = match stderr {
        Some(thread) => thread.join().unwrap_or_default(),
        None => String::new(),
    };
    Ok(ReaderGone {
        status: status.context("ended")?,
        stderr,
    })
}

/// Direct children of `pid`, from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// `pid` and every process below it.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        all.extend(children(all[i]));
        i += 1;
    }
    all
}

/// SIGKILLs `pid` and every process below it, all found before the first dies (a child whose
/// parent dies first would move to init, out of reach).
pub fn kill_tree(pid: u32) {
    for p in tree(pid) {
        kill(p, SIGKILL);
    }
}

/// Sends `signal` to `pid` (a negative pid: its process group).
pub fn kill(pid: impl TryInto<i32>, signal: i32) {
    if let Ok(pid) = pid.try_into() {
        sys::send_signal(pid, signal);
    }
}

/// The process's command name (`/proc/PID/comm`, at most 15 characters).
pub fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_default()
}

/// Live processes other than this one whose working directory is below `dir` or whose
/// environment mentions it (terraform and its providers inherit the test's paths), as
/// (pid, command name).
pub fn processes_using(dir: &Path) -> Vec<(u32, String)> {
    // With the slash, `/tmp/e2e-ab` does not match `/tmp/e2e-abc/…`.
    let needle = format!("{}/", dir.display());
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me && alive(pid))
        .filter(|&pid| {
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            cwd.is_some_and(|c| c.starts_with(dir))
                || String::from_utf8_lossy(&environ).contains(&needle)
        })
        .map(|pid| (pid, command_name(pid)))
        .collect()
}

/// SIGKILLs every process [`processes_using`] finds and returns them.
pub fn kill_processes_using(dir: &Path) -> Vec<(u32, String)> {
    let found = processes_using(dir);
    for (pid, _) in &found {
        kill(*pid, SIGKILL);
    }
    found
}

/// For a test fixture's `Drop`: kills whatever still uses `dir` and, unless the test is
/// already failing, fails it naming what was left.
pub fn reap_leftovers(dir: &Path) {
    let left = kill_processes_using(dir);
    if !left.is_empty() && !std::thread::panicking() {
        panic!(
            "processes outlived the test (now killed): {left:?}; whatever starts them must \
             also end them"
        );
    }
}

/// Waits until `pid` has exited (gone, or a zombie nobody reaped yet).
pub fn wait_gone(pid: u32, limit: Duration) -> Result<()> {
    wait_until(&format!("process {pid} to end"), limit, || Ok(!alive(pid)))
}

/// Whether `pid` runs: it exists and is not a zombie nobody reaped yet.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = &stat[stat.rfind(')')? + 1..];
            after_name.split_whitespace().next().map(|s| s != "Z")
        })
        .unwrap_or(false)
}

/// Polls `done` every 20 ms until it holds; fails after `limit` so a broken run cannot hang
/// the suite.
pub fn wait_until(
    what: &str,
    limit: Duration,
    mut done: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let start = Instant::now();
    while !done()? {
        if start.elapsed() > limit {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_spawned_command_kills_its_whole_tree() -> Result<()> {
        // A shell whose child sleeps: killing only the shell would leave the sleep behind.
        let spawned = Spawned::start(Command::new("sh").args(["-c", "sleep 60 & wait"]))?;
        let shell = spawned.id();
        let mut below = Vec::new();
        wait_until("the sleep to start", Duration::from_secs(10), || {
            below = children(shell);
            Ok(!below.is_empty())
        })?;
        drop(spawned);
        wait_until("the sleep to end", Duration::from_secs(10), || {
            Ok(!below.iter().any(|&p| alive(p)))
        })?;
        Ok(())
    }

    #[test]
    fn escaped_processes_are_found_by_the_directory_they_use() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("support-escape-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // The shell exits at once, so its sleep belongs to nobody we started.
        let status = Command::new("sh")
            .args(["-c", "sleep 60 >/dev/null 2>&1 &"])
            .current_dir(&dir)
            .status()?;
        assert!(status.success(), "the shell ran");
        wait_until("the sleep to start", Duration::from_secs(10), || {
            Ok(processes_using(&dir)
                .iter()
                .any(|(_, name)| name == "sleep"))
        })?;
        let found = kill_processes_using(&dir);
        std::fs::remove_dir(&dir)?;
        assert_eq!(
            found
                .iter()
                .map(|(_, name)| name.as_str())
                .collect::<Vec<_>>(),
            ["sleep"],
            "the orphaned sleep is found by its working directory"
        );
        Ok(())
    }
}
