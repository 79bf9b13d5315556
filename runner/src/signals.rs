//! SIGTERM and SIGINT do not stop the runner at once: they reach terraform too (systemd
//! signals the whole unit, a terminal the whole process group), terraform shuts down
//! gracefully and saves its state, and the runner then restores and records the failure.
//! The handler only notes the signal; exec resets it to the default, so terraform and its
//! providers still get the normal behaviour.
use std::sync::atomic::{AtomicI32, Ordering};

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

static RECEIVED: AtomicI32 = AtomicI32::new(0);

unsafe extern "C" {
    /// POSIX `signal(2)`; glibc installs the handler with `SA_RESTART`, so interrupted
    /// reads and waits resume.
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

extern "C" fn note(signum: i32) {
    // Only an atomic store: async-signal-safe.
    RECEIVED.store(signum, Ordering::SeqCst);
}

/// From now on, SIGTERM/SIGINT are noted instead of ending the process.
pub fn defer_termination() {
    // SAFETY: `note` is async-signal-safe and lives for the whole program.
    unsafe {
        signal(SIGTERM, note);
        signal(SIGINT, note);
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
