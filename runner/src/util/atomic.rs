//! Crash-safe file writes, removals and private modes. Single-file operations return the OS
//! error as it is; the caller says what it was doing (`IoContext::cannot`).
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::util::outcome::IoContext;
use crate::util::sys;

/// Replaces `path` with `bytes` so that, whatever happens (crash, kill, full disk), `path` holds
/// either its previous content or the complete new content, never a mix.
///
/// The bytes go to a temporary file in the same directory, created with mode 0600 (never
/// wider, not even for a moment), fsynced, renamed over `path`, and the directory is fsynced
/// so the rename itself survives a crash. On error the temporary file is removed.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    // A leftover from a killed run with our pid may exist; `create_new` must not trip on it.
    match std::fs::remove_file(tmp) {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(tmp, path)?;
    sync_dir(parent(path))
}

/// A file that only its descriptors keep alive, for output that must outlive this process:
/// created 0600 as `dir/.<name>.tmp-<pid>` (a name [`remove_stale_temp_files`] removes, should
/// we die before the next step), opened once more for reading, then unlinked at once.
/// Returns the write end (appending) and the read end.
pub fn unlinked_file(dir: &Path, name: &str) -> io::Result<(std::fs::File, std::fs::File)> {
    let path = temp_path(&dir.join(name));
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let write = std::fs::OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    let read = std::fs::File::open(&path);
    let unlinked = std::fs::remove_file(&path);
    let read = read?;
    unlinked?;
    Ok((write, read))
}

/// Removes `path` (if present) and makes the removal durable.
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_dir(parent(path)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes every file this process and its children (terraform, providers) create private:
/// umask 077. terraform creates terraform.tfstate and .terraform/ with the inherited umask.
pub fn restrict_umask() {
    sys::set_umask(0o077);
}

/// Tightens an existing regular file to 0600 if it is wider (states created before umask
/// 077). Returns the old mode when it changed something. Never follows a symbolic link and
/// leaves anything but a regular file alone (whoever reads it says what is wrong): the mode
/// is changed on the opened file, after checking it is the one that was looked at.
pub fn tighten(path: &Path) -> io::Result<Option<u32>> {
    let looked_at = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => meta,
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mode = looked_at.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(None);
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(sys::O_NONBLOCK)
        .open(path)?;
    let opened = file.metadata()?;
    if (opened.dev(), opened.ino()) != (looked_at.dev(), looked_at.ino()) {
        return Ok(None); // replaced meanwhile (by a link, say): leave it alone
    }
    file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
    Ok(Some(mode))
}

/// Creates `dir` (and missing parents) with mode 0700. An existing directory is left as it is.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Removes temporary files that a killed run left in `dir` (`.<name>.tmp-<pid>`).
/// Only call this while holding the run lock: then no live writer owns them.
pub fn remove_stale_temp_files(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).cannot("list", dir),
    };
    for entry in entries {
        let entry = entry.cannot("list", dir)?;
        if is_temp_name(&entry.file_name().to_string_lossy()) {
            let path = entry.path();
            std::fs::remove_file(&path).cannot("remove the stale temporary file", &path)?;
        }
    }
    Ok(())
}

fn is_temp_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    parent(path).join(format!(".{name}.tmp-{}", std::process::id()))
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn write_creates_0600_and_replaces_content() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("last-apply.json");
        write(&path, b"one")?;
        assert_eq!(std::fs::read(&path)?, b"one");
        assert_eq!(mode(&path), 0o600, "new files must be 0600");
        write(&path, b"two")?;
        assert_eq!(std::fs::read(&path)?, b"two");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "last-apply.json")
            .collect();
        assert!(
            leftovers.is_empty(),
            "temporary files left behind: {leftovers:?}"
        );
        Ok(())
    }

    #[test]
    fn write_tightens_a_previously_wide_file() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("terraform.tfstate");
        std::fs::write(&path, b"old")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        write(&path, b"new")?;
        assert_eq!(mode(&path), 0o600, "the replacement must be 0600");
        Ok(())
    }

    #[test]
    fn failed_write_leaves_the_old_file_and_no_temp_file() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("target");
        std::fs::create_dir(&target)?; // renaming a file over a directory fails
        assert!(
            write(&target, b"x").is_err(),
            "rename over a directory must fail"
        );
        assert!(target.is_dir(), "the target must be untouched");
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["target"], "the temp file must be cleaned up");
        Ok(())
    }

    #[test]
    fn tighten_removes_group_and_other_bits_only_when_present() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("terraform.tfstate");
        assert_eq!(tighten(&path)?, None, "a missing file is fine");
        std::fs::write(&path, b"{}")?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        assert_eq!(tighten(&path)?, Some(0o644));
        assert_eq!(mode(&path), 0o600);
        assert_eq!(tighten(&path)?, None, "already private");
        Ok(())
    }

    #[test]
    fn tighten_never_follows_a_link_or_touches_a_special_file() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"{}")?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644))?;
        let link = dir.path().join("terraform.tfstate");
        std::os::unix::fs::symlink(&target, &link)?;
        assert_eq!(tighten(&link)?, None, "a link is left alone");
        assert_eq!(mode(&target), 0o644, "its target keeps its mode");
        assert_eq!(
            tighten(Path::new("/dev/null"))?,
            None,
            "a device is left alone"
        );
        Ok(())
    }

    #[test]
    fn private_dir_is_0700() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let nested = dir.path().join("a/b");
        private_dir(&nested)?;
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        Ok(())
    }

    #[test]
    fn an_unlinked_file_reads_back_what_is_written_and_leaves_no_name() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let (mut write, mut read) = unlinked_file(dir.path(), "terraform-stdout")?;
        assert_eq!(
            std::fs::read_dir(dir.path())?.count(),
            0,
            "the file has no name from the start"
        );
        write.write_all(b"line\n")?;
        let mut text = String::new();
        std::io::Read::read_to_string(&mut read, &mut text)?;
        assert_eq!(text, "line\n", "the read end sees what the write end wrote");
        Ok(())
    }

    #[test]
    fn stale_temp_files_are_recognised_by_name_only() -> Result<()> {
        assert!(is_temp_name(".terraform.tfstate.tmp-123"));
        assert!(
            !is_temp_name("terraform.tfstate.tmp-123"),
            "only hidden temp names"
        );
        assert!(!is_temp_name(".terraform.tfstate.tmp-"));
        assert!(!is_temp_name(".lock"));
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(".x.tmp-42"), b"torn")?;
        std::fs::write(dir.path().join("keep.tfstate"), b"{}")?;
        remove_stale_temp_files(dir.path())?;
        assert!(
            !dir.path().join(".x.tmp-42").exists(),
            "stale temp file removed"
        );
        assert!(dir.path().join("keep.tfstate").exists(), "other files kept");
        Ok(())
    }
}
