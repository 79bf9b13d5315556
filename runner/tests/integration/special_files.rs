//! Files that are not what they should be: a symlinked terraform.tfstate, FIFOs and devices
//! where a regular file is expected, files larger than makes sense. Each is a clear error,
//! never a hang, a chmod of somebody else's file, or a memory blow-up.
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Result;

use crate::common::*;

/// Long enough for any of these commands; a command blocked on a FIFO never ends.
const NO_HANG: Duration = Duration::from_secs(10);

fn mkfifo(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path.parent().unwrap())?;
    let _ = std::fs::remove_file(path);
    let status = Command::new("mkfifo").arg(path).status()?;
    assert!(status.success(), "mkfifo {}", path.display());
    Ok(())
}

/// Runs the runner, failing the test if it has not ended within [`NO_HANG`].
fn run(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
    sb.spawn_runner(args, env)?.finish_within(NO_HANG)
}

#[test]
fn a_symlinked_state_is_refused_and_its_target_never_chmodded() -> Result<()> {
    let sb = Sandbox::new()?;
    let target = sb.root.path().join("elsewhere.tfstate");
    std::fs::write(&target, state_json(3, &[("a", "kA")]))?;
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644))?;
    std::fs::create_dir_all(&sb.state_dir)?;
    std::os::unix::fs::symlink(&target, sb.state_path())?;
    let refused = format!(
        "{} is a symbolic link (to {}); the runner keeps terraform's state as a regular file",
        sb.state_path().display(),
        target.display()
    );
    for command in ["backup-state", "apply", "restore-state"] {
        let out = run(&sb, &[command], &[])?;
        out.assert_exit(1);
        out.assert_stderr(&refused);
        assert_eq!(
            mode(&target),
            0o644,
            "{command} never changes the mode of the link's target"
        );
    }
    assert!(sb.invocations().is_empty(), "terraform never ran");
    assert!(
        std::fs::symlink_metadata(sb.state_path())?.is_symlink(),
        "the link is left as it is"
    );
    let (_, status) = sb.status_json()?;
    assert!(
        status["errors"].to_string().contains("is a symbolic link"),
        "status says so: {status}"
    );
    Ok(())
}

#[test]
fn fifos_where_files_belong_are_refused_without_blocking() -> Result<()> {
    let fifo = "it is a FIFO, not a regular file";
    // (command, the path that is a FIFO, exit code, what stderr says)
    let sb = Sandbox::new()?;
    std::fs::create_dir_all(&sb.state_dir)?;
    let cases: [(&[&str], &Path, i32, String); 5] = [
        (
            &["apply"],
            &sb.credentials,
            2,
            format!(
                "cannot read credentials file {}: {fifo}",
                sb.credentials.display()
            ),
        ),
        (
            &["apply"],
            &sb.config,
            2,
            format!("cannot read config {}: {fifo}", sb.config.display()),
        ),
        (
            &["apply"],
            &sb.state_path(),
            1,
            format!("cannot read {}: {fifo}", sb.state_path().display()),
        ),
        (
            &["apply"],
            &sb.state_dir.join(".lock"),
            1,
            format!(
                "cannot open the lock file {}: {fifo}",
                sb.state_dir.join(".lock").display()
            ),
        ),
        (
            &["restore-state", "/dev/null"],
            Path::new("/dev/null"),
            1,
            "cannot read the state to restore /dev/null: it is a character device, not a regular \
             file; nothing was changed"
                .to_string(),
        ),
    ];
    for (args, path, code, says) in cases {
        if path.starts_with(sb.root.path()) {
            mkfifo(path)?;
        }
        let out = run(&sb, args, &[])?
            .expect(code, &format!("{args:?} with {} a FIFO", path.display()))?;
        out.assert_stderr(&says);
        // status never blocks either, whatever it finds.
        for format in ["--json", "--oneline", "--waybar"] {
            run(&sb, &["status", format], &[])?;
        }
        if path.starts_with(sb.root.path()) {
            std::fs::remove_file(path)?;
        }
        std::fs::write(&sb.config, CONFIG)?;
        std::fs::write(
            &sb.credentials,
            format!(
                "TAILSCALE_OAUTH_CLIENT_ID={CLIENT_ID}\nTAILSCALE_OAUTH_CLIENT_SECRET={OAUTH_SECRET}\n"
            ),
        )?;
    }
    let restore = sb.root.path().join("restore.fifo");
    mkfifo(&restore)?;
    let out = run(&sb, &["restore-state", restore.to_str().unwrap()], &[])?
        .expect(1, "restore-state FIFO")?;
    out.assert_stderr(&format!(
        "cannot read the state to restore {}: {fifo}; nothing was changed",
        restore.display()
    ));

    let last = sb.state_dir.join("last-apply.json");
    mkfifo(&last)?;
    let out = run(&sb, &["status", "--json"], &[])?.expect(1, "status with a FIFO result")?;
    assert!(
        out.json()?["errors"].to_string().contains(fifo),
        "status names the FIFO: {}",
        out.stdout
    );
    run(&sb, &["apply"], &[])?.expect(0, "apply replaces the FIFO by its record")?;
    assert_eq!(sb.last_apply()?["result"], "ok");
    Ok(())
}

#[test]
fn devices_and_oversized_files_are_refused_before_reading_them_whole() -> Result<()> {
    let sb = Sandbox::new()?;
    let out = run(
        &sb,
        &["apply"],
        &[("TAILSCALE_MANAGER_CREDENTIALS_FILE", "/dev/zero")],
    )?
    .expect(2, "credentials from /dev/zero")?;
    out.assert_stderr(
        "cannot read credentials file /dev/zero: it is a character device, not a regular file",
    );
    let big = sb.file("big.env", &format!("# {}\n", "x".repeat(70 * 1024)))?;
    let out = run(
        &sb,
        &["apply"],
        &[("TAILSCALE_MANAGER_CREDENTIALS_FILE", &big)],
    )?
    .expect(2, "a 70 KiB credentials file")?;
    out.assert_stderr(&format!(
        "cannot read credentials file {big}: it is larger than 64 KiB, the most this file may hold"
    ));
    Ok(())
}
