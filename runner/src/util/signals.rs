//! Stopping gracefully. terraform runs in its own process group, so a terminal's Ctrl-C or
//! hangup (an ssh session that dropped during `sudo tailscale-manager apply`) and a
//! `KillMode=mixed` systemd stop reach only the runner. The runner then forwards one SIGINT to
//! terraform for each SIGTERM/SIGINT/SIGHUP it receives: terraform stops starting new operations,
//! waits for the ones in flight (its providers ignore SIGINT, so an API call that is creating
//! a key finishes and the key is saved), writes its state and exits; the runner then restores
//! and records the failure like any other. A second signal means what a second Ctrl-C means
//! to terraform: stop now.
//!
//! The handler only stores the signal and calls `kill(2)`, both async-signal-safe; exec
//! resets it to the default, so terraform and its providers keep their own behaviour.
use std::sync::atomic::{AtomicI32, Ordering};

use crate::util::sys::{self, SIGHUP, SIGINT, SIGTERM};

static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The running terraform's pid, 0 when none runs.
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signum: i32) {
    RECEIVED.store(signum, Ordering::SeqCst);
    forward();
}

fn forward() {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        sys::send_signal(pid, SIGINT);
    }
}

/// From now on, SIGTERM/SIGINT/SIGHUP are noted and forwarded instead of ending the process.
pub fn defer_termination() {
    // `on_signal` is async-signal-safe: it stores an integer and calls kill(2).
    for signum in [SIGTERM, SIGINT, SIGHUP] {
        sys::set_signal_handler(signum, on_signal);
    }
}

/// Records the running terraform (`Some(pid)`) or its end (`None`). A signal that arrived
/// just before terraform started is forwarded at once.
pub fn set_child(pid: Option<u32>) {
    let pid = pid.and_then(|p| i32::try_from(p).ok()).unwrap_or(0);
    CHILD.store(pid, Ordering::SeqCst);
    if pid > 0 && received().is_some() {
        forward();
    }
}

/// The termination signal received so far, if any.
pub fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(n),
    }
}

/// An error if a termination signal arrived: checked before starting anything new.
pub fn check(before: &str) -> anyhow::Result<()> {
    match received() {
        Some(n) => anyhow::bail!("stopped by signal {n} before {before}"),
        None => Ok(()),
    }
}
