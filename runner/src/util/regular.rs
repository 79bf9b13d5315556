//! Reading the files the runner reads, safely: only a regular file (a FIFO, a device or a
//! directory is refused before anything is read, so nothing blocks and nothing grows without
//! end), never more than makes sense for that file, and for the files the runner or terraform
//! also write in place, never through a symbolic link.
//!
//! A file is opened with `O_NONBLOCK` (a FIFO without a writer would block the open itself),
//! then checked with `fstat`, then read up to its limit. The errors read as the cause in
//! `cannot read <path>: <cause>`.
use std::fmt;
use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io::{self, Read};
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
    fn limits_read_as_people_write_them() {
        assert_eq!(size(64 * KIB), "64 KiB");
        assert_eq!(size(256 * MIB), "256 MiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
