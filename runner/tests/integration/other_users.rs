//! The state directory of a service that runs as its own user (the NixOS unit's
//! `tailscale-manager`): what an earlier version left to root still restores once systemd has
//! handed it over, modes stay 0600/0700, root never writes into that user's directory, and a
//! root-only secret reaches the user as an open descriptor.
//!
//! They need root (to own files, hand them over and run the runner as another user), so they are
//! ignored by default; `checks/runner-tests` runs them as root with `--include-ignored`.
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;

use anyhow::{Result, ensure};

use crate::common::*;
use crate::descriptors::{assert_plan_got_the_secret_not, fds_env, handed_over};

/// The service's user here: a uid no account of this machine needs to have.
const SERVICE_UID: u32 = 64_321;

/// A sandbox whose files the service's user may reach (its directory, the log the fake
/// terraform appends to), as systemd's `StateDirectory=` and the NixOS module arrange.
fn sandbox() -> Result<Sandbox> {
    let sb = Sandbox::new()?;
    std::fs::set_permissions(sb.root.path(), std::fs::Permissions::from_mode(0o711))?;
    let tmp = sb
        .root
        .path()
        .parent()
        .expect("a temporary directory has a parent");
    ensure!(
        std::fs::metadata(tmp)?.mode() & 0o001 != 0,
        "{} must be searchable by other users (checks/runner-tests makes its TMPDIR so)",
        tmp.display()
    );
    std::fs::write(&sb.log, "")?;
    chown(&sb.log, SERVICE_UID)?;
    Ok(sb)
}

fn chown(path: &Path, uid: u32) -> Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(uid))?;
    Ok(())
}

/// What systemd does on the unit's start when `StateDirectory=` belongs to someone else: the
/// directory and everything below it become the service's (and the directory gets
/// `StateDirectoryMode=0700`).
fn take_over(dir: &Path, uid: u32) -> Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    hand_over(dir, uid)
}

fn hand_over(dir: &Path, uid: u32) -> Result<()> {
    chown(dir, uid)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        match std::fs::symlink_metadata(&path)?.is_dir() {
            true => hand_over(&path, uid)?,
            false => chown(&path, uid)?,
        }
    }
    Ok(())
}

/// `path` and every file below it whose owner is not `uid`, or that is wider than 0600 (0700
/// for a directory).
fn foreign_or_wide(path: &Path, uid: u32) -> Result<Vec<String>> {
    let meta = std::fs::symlink_metadata(path)?;
    let private = if meta.is_dir() { 0o700 } else { 0o600 };
    let mut found = Vec::new();
    if meta.uid() != uid || meta.mode() & 0o777 & !private != 0 {
        let mode = meta.mode() & 0o777;
        found.push(format!("{} (uid {}, {mode:o})", path.display(), meta.uid()));
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            found.extend(foreign_or_wide(&entry?.path(), uid)?);
        }
    }
    Ok(found)
}

/// The runner run as the service's user.
fn as_service(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    Output::run(sb.command(args, env).uid(SERVICE_UID).gid(SERVICE_UID))
}

#[test]
#[ignore = "needs root: hands files to another user and runs the runner as that user"]
fn backups_made_as_root_restore_after_the_service_takes_the_directory_over() -> Result<()> {
    let sb = sandbox()?;
    let v1 = state_json(1, &[("a", "kA")]);
    let v2 = state_json(2, &[("a", "kA"), ("b", "kB")]);
    // An earlier version, running as root: a backup, an apply, a result.
    sb.seed_state(&v1)?;
    sb.runner(&["backup-state"], &[])?
        .expect(0, "root's backup")?;
    let saved = sb.saved_state(2, &[("a", "kA"), ("b", "kB")])?;
    let stdout = sb.file(
        "apply.json",
        &apply_lines(&[("tailscale_tailnet_key.b", "kB")], Some((1, 0, 0))),
    )?;
    sb.runner(
        &["apply"],
        &[("TF_FAKE_STATE", &saved), ("TF_FAKE_STDOUT", &stdout)],
    )?
    .expect(0, "root's apply")?;
    sb.assert_state(&v2, "root's apply saved v2");
    let root_made = foreign_or_wide(&sb.state_dir, SERVICE_UID)?;
    ensure!(!root_made.is_empty(), "root's runs left files of root's");

    take_over(&sb.state_dir, SERVICE_UID)?;
    let out = as_service(&sb, &["restore-state"], &[])?;
    out.assert_exit(0);
    sb.assert_state(
        &v1,
        "the newest backup (root's, made before the apply) is restored",
    );
    assert_eq!(
        foreign_or_wide(&sb.state_dir, SERVICE_UID)?,
        Vec::<String>::new(),
        "everything is the service's and private after its restore"
    );
    let saved = sb.saved_state(3, &[("a", "kA"), ("c", "kC")])?;
    as_service(&sb, &["apply"], &[("TF_FAKE_STATE", &saved)])?.expect(0, "the service's apply")?;
    let (code, status) = {
        let out = as_service(&sb, &["status", "--json"], &[])?;
        (out.code, out.json()?)
    };
    assert_eq!(code, Some(0), "the last apply succeeded: {status}");
    assert_eq!(
        status["errors"],
        serde_json::json!([]),
        "status reads everything"
    );
    assert_eq!(
        status["warnings"],
        serde_json::json!([]),
        "and finds nothing wide"
    );
    assert_eq!(
        foreign_or_wide(&sb.state_dir, SERVICE_UID)?,
        Vec::<String>::new(),
        "still only the service's files, 0600 in 0700"
    );
    Ok(())
}

#[test]
#[ignore = "needs root: hands files to another user and runs the runner as that user"]
fn the_service_tightens_its_own_wide_state() -> Result<()> {
    let sb = sandbox()?;
    sb.seed_state(&state_json(1, &[("a", "kA")]))?;
    std::fs::set_permissions(sb.state_path(), std::fs::Permissions::from_mode(0o644))?;
    take_over(&sb.state_dir, SERVICE_UID)?;
    let out = as_service(&sb, &["apply"], &[])?;
    out.assert_exit(0);
    out.assert_stderr(&format!(
        "tightened {} from mode 0644 to 0600",
        sb.state_path().display()
    ));
    assert_eq!(mode(&sb.state_path()), 0o600);
    Ok(())
}

#[test]
#[ignore = "needs root: hands files to another user and runs the runner as that user"]
fn root_writes_nothing_into_the_services_directory() -> Result<()> {
    let sb = sandbox()?;
    let v1 = state_json(1, &[("a", "kA")]);
    sb.seed_state(&v1)?;
    take_over(&sb.state_dir, SERVICE_UID)?;
    let before = std::fs::read_dir(&sb.state_dir)?.count();
    for command in ["apply", "plan", "init", "backup-state", "restore-state"] {
        let out = sb.runner(&[command], &[])?;
        out.assert_exit(2);
        assert_eq!(
            out.stderr,
            format!(
                "error: the state directory {} belongs to uid {SERVICE_UID}, but this runs as \
                 root: what it wrote there would be root's, and that user could not read or \
                 replace it; run it as that user (the NixOS module's `sudo tailscale-manager …` \
                 does, or `setpriv --reuid={SERVICE_UID} --regid={SERVICE_UID} --init-groups \
                 tailscale-manager …`)\n",
                sb.state_dir.display()
            ),
            "{command}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&sb.state_dir)?.count(),
        before,
        "no lock, backup or result was written"
    );
    sb.assert_state(&v1, "the state is untouched");
    let out = sb.runner(&["status", "--json"], &[])?;
    assert_eq!(
        out.json()?["state"]["found"],
        true,
        "root may still read: {}",
        out.stdout
    );
    Ok(())
}

#[test]
#[ignore = "needs root: a root-only secret, read by the runner running as another user"]
fn a_root_only_secret_reaches_the_service_as_an_open_descriptor() -> Result<()> {
    let sb = sandbox()?;
    std::fs::create_dir(&sb.state_dir)?;
    chown(&sb.state_dir, SERVICE_UID)?;
    std::fs::set_permissions(&sb.credentials, std::fs::Permissions::from_mode(0o400))?;
    let by_path = sb.credentials.display().to_string();
    let out = as_service(&sb, &["plan", "--credentials", &by_path], &[])?;
    out.assert_exit(2);
    out.assert_stderr(&format!(
        "error: cannot read credentials file {by_path}: Permission denied (os error 13)"
    ));

    let file = File::open(&sb.credentials)?;
    let named = handed_over(&file)?;
    let fds = fds_env(&sb);
    std::fs::write(&fds, "")?;
    chown(Path::new(&fds), SERVICE_UID)?;
    as_service(
        &sb,
        &["plan", "--credentials", &named],
        &[("TF_FAKE_FDS", &fds)],
    )?
    .expect(0, "plan with the secret as a descriptor")?;
    assert_plan_got_the_secret_not(&sb, file.as_raw_fd(), "as the service's user")?;
    Ok(())
}
