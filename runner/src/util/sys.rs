//! The C library functions the runner calls directly, declared by hand (the runtime crates
//! include no libc binding). Each wrapper marked async-signal-safe takes plain integers (and at
//! most a slice it only reads) and allocates nothing, so it is safe to call, also from a signal
//! handler or between fork and exec.

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
    /// POSIX `geteuid(2)`; `uid_t` is `u32` on Linux.
    fn geteuid() -> u32;
    /// Linux `close_range(2)` (glibc 2.34), here only with `CLOSE_RANGE_CLOEXEC`.
    fn close_range(first: u32, last: u32, flags: i32) -> i32;
}

/// `access(2)`'s "may execute" test.
const X_OK: i32 = 1;

/// `fcntl`'s command that sets a descriptor's flags (`FD_CLOEXEC` is the only one).
const F_SETFD: i32 = 2;
/// The flag `F_SETFD` sets: close the descriptor on `exec`.
const FD_CLOEXEC: i32 = 1;
/// `fcntl`'s command that duplicates a descriptor with `FD_CLOEXEC` set (Linux).
const F_DUPFD_CLOEXEC: i32 = 1030;
/// `close_range`'s flag: mark the range close-on-exec instead of closing it (Linux 5.11).
const CLOSE_RANGE_CLOEXEC: i32 = 4;

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

/// Whether a process with this pid exists, asking the kernel (`kill(pid, 0)`) rather than
/// `/proc`, which may not show it: no such process is `ESRCH`; one this user may not signal is
/// `EPERM`, but exists. A zombie exists too. Async-signal-safe.
pub fn process_exists(pid: u32) -> bool {
    const EPERM: i32 = 1;
    // 0 and what does not fit would name process groups, not a process.
    let Ok(pid @ 1..) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) with signal 0 only checks; it takes plain integers and touches no memory.
    match unsafe { kill(pid, 0) } {
        0 => true,
        _ => std::io::Error::last_os_error().raw_os_error() == Some(EPERM),
    }
}

/// This process's effective user id. Async-signal-safe.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid(2) takes nothing and cannot fail.
    unsafe { geteuid() }
}

/// A new descriptor (close-on-exec) of the file behind `fd`, which this process holds open;
/// both share the file offset.
pub fn duplicate(fd: i32) -> std::io::Result<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes plain integers and touches no memory.
    match unsafe { fcntl(fd, F_DUPFD_CLOEXEC, 0) } {
        -1 => Err(std::io::Error::last_os_error()),
        // SAFETY: the descriptor was just made, for this File alone.
        new => Ok(unsafe { std::fs::File::from_raw_fd(new) }),
    }
}

/// Marks every descriptor above stderr close-on-exec, so that what this process inherited
/// (a secret's descriptor from the NixOS wrapper, whatever a caller left open) reaches no
/// program it starts; those it means to pass on it opens again or clears in the child
/// (`keep_open_across_exec`). `close_range(2)` where the kernel has it, else each descriptor
/// listed in `/proc/self/fd`.
pub fn close_inherited_on_exec() {
    // SAFETY: close_range(2) takes plain integers and touches no memory.
    if unsafe { close_range(3, u32::MAX, CLOSE_RANGE_CLOEXEC) } != 0 {
        close_listed_on_exec();
    }
}

/// `close_inherited_on_exec` for kernels before 5.11: each descriptor above stderr in
/// `/proc/self/fd` (the listing's own descriptor among them, which is close-on-exec anyway).
fn close_listed_on_exec() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: fcntl(F_SETFD) takes plain integers; a descriptor closed meanwhile gives EBADF.
        unsafe {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// Whether a child started now would hold `fd` (`sh` tests its own descriptor).
    fn inherited_by_a_child(fd: i32) -> bool {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("[ -e /proc/self/fd/{fd} ]"))
            .status()
            .expect("sh runs");
        status.success()
    }

    #[test]
    fn inherited_descriptors_stop_at_exec_both_ways() -> std::io::Result<()> {
        let first = std::fs::File::open("/dev/null")?;
        let second = std::fs::File::open("/dev/null")?;
        for file in [&first, &second] {
            keep_open_across_exec(file.as_raw_fd())?;
            assert!(
                inherited_by_a_child(file.as_raw_fd()),
                "a descriptor without close-on-exec reaches a child"
            );
        }
        close_inherited_on_exec();
        assert!(
            !inherited_by_a_child(first.as_raw_fd()),
            "close_range marked it close-on-exec"
        );
        keep_open_across_exec(second.as_raw_fd())?;
        close_listed_on_exec();
        assert!(
            !inherited_by_a_child(second.as_raw_fd()),
            "the /proc/self/fd listing marked it close-on-exec"
        );
        Ok(())
    }

    #[test]
    fn processes_exist_while_they_run_whoever_runs_them() -> std::io::Result<()> {
        assert!(process_exists(own_pid()), "this process");
        assert!(
            process_exists(1),
            "init, which this user may not signal unless root"
        );
        let mut child = std::process::Command::new("true").spawn()?;
        let pid = child.id();
        child.wait()?;
        assert!(!process_exists(pid), "a reaped child is gone");
        assert!(
            !process_exists(0),
            "0 is no process (it would mean the group)"
        );
        assert!(!process_exists(u32::MAX), "not a pid");
        Ok(())
    }

    #[test]
    fn a_duplicate_shares_the_file_and_closes_on_exec() -> std::io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("secret");
        std::fs::write(&path, "A=1\n")?;
        let original = std::fs::File::open(&path)?;
        let mut copy = duplicate(original.as_raw_fd())?;
        assert_ne!(copy.as_raw_fd(), original.as_raw_fd(), "a new descriptor");
        let mut text = String::new();
        copy.seek(SeekFrom::Start(0))?;
        copy.read_to_string(&mut text)?;
        assert_eq!(text, "A=1\n", "the same file");
        assert!(
            !inherited_by_a_child(copy.as_raw_fd()),
            "the duplicate is close-on-exec"
        );
        let err = duplicate(-1).expect_err("no descriptor -1");
        assert_eq!(err.raw_os_error(), Some(9), "EBADF: {err}");
        Ok(())
    }
}
