//! Reading the files the runner reads, safely: only a regular file (a FIFO, a device or a
//! directory is refused before anything is read, so nothing blocks and nothing grows without
//! end), never more than makes sense for that file, and for the files the runner or terraform
//! also write in place, never through a symbolic link.
//!
//! A file is opened with `O_NONBLOCK` (a FIFO without a writer would block the open itself),
//! then checked with `fstat`, then read up to its limit. The errors read as the cause in
//! `cannot read <path>: <cause>`.
//!
//! A path `/dev/fd/N` (or `/proc/self/fd/N`) names the file this process inherited open as
//! descriptor N, and is read from that descriptor, from the start, never opened again: opening
//! the path would check the file's permissions anew, and the NixOS wrapper hands the runner,
//! after dropping root, root-only secrets exactly so.
use std::fmt;
use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::util::sys;

/// What the runner allows for one kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The largest size that makes sense for the file.
    pub max_bytes: u64,
    /// Whether a symbolic link to a regular file is read through (else it is refused).
    pub follow_links: bool,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// The OAuth credentials file: two short lines.
pub const CREDENTIALS: Rule = Rule {
    max_bytes: 64 * KIB,
    follow_links: true,
};
/// The rendered `main.tf.json` (`--config`, and its installed copy).
pub const CONFIG: Rule = Rule {
    max_bytes: 64 * MIB,
    follow_links: true,
};
/// `terraform.tfstate`: terraform writes it in place (through a link), the runner replaces it
/// (replacing a link), so a link is refused.
pub const STATE: Rule = Rule {
    max_bytes: 256 * MIB,
    follow_links: false,
};
/// A state to restore: a backup, or `restore-state FILE`.
pub const STATE_COPY: Rule = Rule {
    max_bytes: 256 * MIB,
    follow_links: true,
};
/// `last-apply.json`: an error message of at most 4 KiB and the orphans of one run.
pub const LAST_APPLY: Rule = Rule {
    max_bytes: 16 * MIB,
    follow_links: true,
};
/// A key file (`keys.<name>.writeFile`), which `status` hashes: a key is about a hundred
/// bytes, so anything near the limit is not one. A link is read through: what matters is what
/// a consumer reading the path gets.
pub const KEY_FILE: Rule = Rule {
    max_bytes: 64 * KIB,
    follow_links: true,
};
/// `.lock` and `.init-fingerprint`: one small record each; the lock is written in place, so a
/// link is refused.
pub const RECORD: Rule = Rule {
    max_bytes: 64 * KIB,
    follow_links: false,
};

/// Why a file was not read (inside the `io::Error`, see [`refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A symbolic link (to this target) where the rule allows none.
    Link(PathBuf),
    /// Not a regular file: `a FIFO`, `a character device`, …
    Special(&'static str),
    /// Larger than the rule's limit (in bytes).
    TooLarge(u64),
    /// Replaced between the check and the open.
    Replaced,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Link(target) => write!(f, "it is a symbolic link (to {})", target.display()),
            Refused::Special(what) => write!(f, "it is {what}, not a regular file"),
            Refused::TooLarge(limit) => {
                write!(
                    f,
                    "it is larger than {}, the most this file may hold",
                    size(*limit)
                )
            }
            Refused::Replaced => f.write_str("it was replaced while being opened"),
        }
    }
}

impl std::error::Error for Refused {}

impl Refused {
    fn error(self) -> io::Error {
        let kind = match self {
            Refused::TooLarge(_) => io::ErrorKind::FileTooLarge,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, self)
    }
}

/// The reason `err` carries when a [`Rule`] refused the file.
pub fn refused(err: &io::Error) -> Option<&Refused> {
    err.get_ref()?.downcast_ref()
}

impl Rule {
    /// Opens `path` as this rule allows: a regular file, not a link unless allowed; never
    /// blocks. Also for files the caller then writes (`write`).
    pub fn open(self, path: &Path, write: bool) -> io::Result<File> {
        self.open_with_metadata(path, write).map(|(file, _)| file)
    }

    /// [`Rule::open`], with the opened file's metadata (its mode and size, from the one
    /// `fstat` the check made).
    pub fn open_with_metadata(self, path: &Path, write: bool) -> io::Result<(File, Metadata)> {
        if let Some(fd) = inherited_descriptor(path).filter(|_| !write) {
            return self.open_inherited(fd);
        }
        if !self.follow_links {
            let meta = std::fs::symlink_metadata(path)?;
            if meta.file_type().is_symlink() {
                return Err(Refused::Link(std::fs::read_link(path)?).error());
            }
        }
        let file = OpenOptions::new()
            .read(true)
            .write(write)
            .custom_flags(sys::O_NONBLOCK)
            .open(path)?;
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(Refused::Special(describe(meta.file_type())).error());
        }
        if !self.follow_links && std::fs::symlink_metadata(path)?.ino() != meta.ino() {
            return Err(Refused::Replaced.error());
        }
        self.check_size(meta.len())?;
        Ok((file, meta))
    }

    /// The file behind the inherited descriptor `fd`, checked as an opened path is, and read
    /// through a descriptor of its own (close-on-exec), from the start.
    fn open_inherited(self, fd: i32) -> io::Result<(File, Metadata)> {
        let mut file = sys::duplicate(fd)?;
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(Refused::Special(describe(meta.file_type())).error());
        }
        self.check_size(meta.len())?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, meta))
    }

    /// Reads `path` whole (see the module documentation).
    pub fn read(self, path: &Path) -> io::Result<Vec<u8>> {
        let file = self.open(path, false)?;
        self.read_from(file)
    }

    /// Reads an opened file whole, up to the limit (it may have grown since it was opened).
    pub fn read_from(self, file: impl Read) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        file.take(self.max_bytes + 1).read_to_end(&mut bytes)?;
        self.check_size(bytes.len() as u64)?;
        Ok(bytes)
    }

    fn check_size(self, len: u64) -> io::Result<()> {
        match len > self.max_bytes {
            true => Err(Refused::TooLarge(self.max_bytes).error()),
            false => Ok(()),
        }
    }
}

/// The descriptor a path `/dev/fd/N` or `/proc/self/fd/N` names (see the module documentation).
fn inherited_descriptor(path: &Path) -> Option<i32> {
    let path = path.to_str()?;
    let number = path
        .strip_prefix("/dev/fd/")
        .or_else(|| path.strip_prefix("/proc/self/fd/"))?;
    match number.bytes().all(|b| b.is_ascii_digit()) {
        true => number.parse().ok(),
        false => None,
    }
}

/// `path` as messages show it: an inherited descriptor's also names the file behind it
/// (`/dev/fd/3 (/run/agenix/tailscale-oauth)`), which is what the user knows.
pub fn shown(path: &Path) -> String {
    let file = inherited_descriptor(path)
        .and_then(|fd| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok());
    match file {
        Some(file) => format!("{} ({})", path.display(), file.display()),
        None => path.display().to_string(),
    }
}

/// A limit as people write it: `64 KiB`, `256 MiB`.
fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn describe(kind: FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn refused(rule: Rule, path: &Path, why: &str) {
        match rule.read(path) {
            Ok(bytes) => panic!("{} was read ({} bytes)", path.display(), bytes.len()),
            Err(e) => assert_eq!(e.to_string(), why, "{}", path.display()),
        }
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("oauth.env");
        std::fs::write(&file, "A=1\n")?;
        assert_eq!(CREDENTIALS.read(&file)?, b"A=1\n");
        refused(
            CREDENTIALS,
            Path::new("/dev/zero"),
            "it is a character device, not a regular file",
        );
        refused(
            CREDENTIALS,
            dir.path(),
            "it is a directory, not a regular file",
        );
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status()?;
        assert!(made.success(), "mkfifo");
        refused(STATE, &fifo, "it is a FIFO, not a regular file");
        std::fs::write(&file, vec![b'#'; 64 * 1024 + 1])?;
        refused(
            CREDENTIALS,
            &file,
            "it is larger than 64 KiB, the most this file may hold",
        );
        Ok(())
    }

    #[test]
    fn links_are_followed_only_where_the_rule_allows() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("real.tfstate");
        std::fs::write(&target, "{}")?;
        let link = dir.path().join("terraform.tfstate");
        std::os::unix::fs::symlink(&target, &link)?;
        assert_eq!(STATE_COPY.read(&link)?, b"{}", "a copy may be a link");
        refused(
            STATE,
            &link,
            &format!("it is a symbolic link (to {})", target.display()),
        );
        Ok(())
    }

    #[test]
    fn an_inherited_descriptor_is_read_from_the_start_never_opened_again() -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("oauth.env");
        std::fs::write(&path, "A=1\n")?;
        let mut held = File::open(&path)?;
        held.seek(SeekFrom::End(0))?;
        let named = PathBuf::from(format!("/dev/fd/{}", held.as_raw_fd()));
        // Gone from its directory: only the descriptor still reaches it.
        std::fs::remove_file(&path)?;
        assert_eq!(CREDENTIALS.read(&named)?, b"A=1\n", "from the start");
        assert_eq!(CREDENTIALS.read(&named)?, b"A=1\n", "read twice alike");
        let proc_named = PathBuf::from(format!("/proc/self/fd/{}", held.as_raw_fd()));
        assert_eq!(CREDENTIALS.read(&proc_named)?, b"A=1\n", "the /proc form");
        assert_eq!(
            shown(&named),
            format!("{} ({} (deleted))", named.display(), path.display()),
            "messages name the file behind the descriptor"
        );
        let (reader, _writer) = std::io::pipe()?;
        let pipe = PathBuf::from(format!("/dev/fd/{}", reader.as_raw_fd()));
        refused(CREDENTIALS, &pipe, "it is a FIFO, not a regular file");
        std::fs::write(dir.path().join("big"), vec![b'#'; 64 * 1024 + 1])?;
        let big = File::open(dir.path().join("big"))?;
        let big_named = PathBuf::from(format!("/dev/fd/{}", big.as_raw_fd()));
        refused(
            CREDENTIALS,
            &big_named,
            "it is larger than 64 KiB, the most this file may hold",
        );
        match CREDENTIALS.read(Path::new("/dev/fd/999999")) {
            Err(e) => assert_eq!(e.raw_os_error(), Some(9), "EBADF: {e}"),
            Ok(_) => panic!("descriptor 999999 is not open"),
        }
        Ok(())
    }

    #[test]
    fn only_plain_descriptor_numbers_name_a_descriptor() {
        let cases = [
            ("/dev/fd/3", Some(3)),
            ("/proc/self/fd/12", Some(12)),
            ("/dev/fd/", None),
            ("/dev/fd/3/x", None),
            ("/dev/fd/-1", None),
            ("/dev/stdin", None),
            ("/proc/1/fd/3", None),
            ("dev/fd/3", None),
            ("/run/secrets/oauth", None),
        ];
        for (path, fd) in cases {
            assert_eq!(inherited_descriptor(Path::new(path)), fd, "{path}");
        }
        assert_eq!(
            shown(Path::new("/run/x")),
            "/run/x",
            "a plain path as it is"
        );
    }

    #[test]
    fn limits_read_as_people_write_them() {
        assert_eq!(size(64 * KIB), "64 KiB");
        assert_eq!(size(256 * MIB), "256 MiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
