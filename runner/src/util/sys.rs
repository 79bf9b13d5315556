//! The C library functions the runner calls directly, declared by hand (the runtime crates
//! include no libc binding). Each wrapper takes and returns plain integers and touches no
//! memory, so it is safe to call, also from a signal handler.

pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;

unsafe extern "C" {
    /// POSIX `signal(2)`; glibc installs the handler with `SA_RESTART`, so interrupted
    /// reads and waits resume.
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    /// POSIX `kill(2)`.
    fn kill(pid: i32, signum: i32) -> i32;
    /// POSIX `mode_t umask(mode_t)`; `mode_t` is `u32` on Linux.
    fn umask(mask: u32) -> u32;
}

/// Installs `handler` for `signum`. The handler must be async-signal-safe.
pub fn set_signal_handler(signum: i32, handler: extern "C" fn(i32)) {
    // SAFETY: plain integers and a function that lives for the whole program.
    unsafe {
        signal(signum, handler);
    }
}

/// Sends `signum` to `pid`; async-signal-safe. Errors (no such process) are ignored.
pub fn send_signal(pid: i32, signum: i32) {
    // SAFETY: kill(2) takes plain integers and touches no memory.
    unsafe {
        kill(pid, signum);
    }
}

/// Sets the process's file mode creation mask; inherited by every child.
pub fn set_umask(mask: u32) {
    // SAFETY: umask only swaps the process's mask; it cannot fail and touches no memory.
    unsafe {
        umask(mask);
    }
}
