//! The C library functions the runner calls directly, declared by hand (the runtime crates
//! include no libc binding). Each wrapper takes plain integers (and at most a slice it only
//! reads) and allocates nothing, so it is safe to call, also from a signal handler or between
//! fork and exec.

/// `open(2)`'s flag for a non-blocking open (asm-generic, x86 and arm; other values on mips
/// and sparc, which the runner does not build for).
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
))]
compile_error!("O_NONBLOCK differs on this architecture; add its value to util/sys.rs");
pub const O_NONBLOCK: i32 = 0o4000;

pub const SIGHUP: i32 = 1;
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
    /// POSIX `fcntl(2)`, here only with integer arguments.
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    /// POSIX `getpid(2)`.
    fn getpid() -> i32;
    /// POSIX `pwrite(2)`; `off_t` is `i64` on 64-bit Linux.
    fn pwrite(fd: i32, buf: *const u8, count: usize, offset: i64) -> isize;
    /// POSIX `ftruncate(2)`.
    fn ftruncate(fd: i32, length: i64) -> i32;
    /// POSIX `access(2)`.
    fn access(path: *const std::ffi::c_char, mode: i32) -> i32;
}

/// `access(2)`'s "may execute" test.
const X_OK: i32 = 1;

/// `fcntl`'s command that sets a descriptor's flags (`FD_CLOEXEC` is the only one).
const F_SETFD: i32 = 2;

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

/// Lets `fd` survive `exec`: clears its close-on-exec flag (in the process that calls it;
/// from `pre_exec`, only in the child). Async-signal-safe.
pub fn keep_open_across_exec(fd: i32) -> std::io::Result<()> {
    // SAFETY: fcntl(F_SETFD) takes plain integers and touches no memory.
    match unsafe { fcntl(fd, F_SETFD, 0) } {
        -1 => Err(std::io::Error::last_os_error()),
        _ => Ok(()),
    }
}

/// This process's pid. Async-signal-safe.
pub fn own_pid() -> u32 {
    // SAFETY: getpid(2) takes nothing and cannot fail.
    unsafe { getpid() as u32 }
}

/// Writes `bytes` at `offset` of `fd` without moving its file offset; returns how many bytes
/// were written (-1: error). Async-signal-safe.
pub fn write_at(fd: i32, bytes: &[u8], offset: u64) -> isize {
    // SAFETY: pwrite(2) only reads `bytes.len()` bytes from the slice.
    unsafe { pwrite(fd, bytes.as_ptr(), bytes.len(), offset as i64) }
}

/// Cuts the file behind `fd` to `length` bytes (-1: error). Async-signal-safe.
pub fn truncate(fd: i32, length: u64) -> i32 {
    // SAFETY: ftruncate(2) takes plain integers and touches no memory.
    unsafe { ftruncate(fd, length as i64) }
}

/// Whether this process may execute `path` (`access(2)` with `X_OK`: the permission bits for
/// this user, as exec checks them).
pub fn executable(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a NUL-terminated string that lives across the call.
    unsafe { access(path.as_ptr(), X_OK) == 0 }
}
