//! Files handed over open: `--credentials /dev/fd/N` reads the descriptor the runner inherited
//! (how the NixOS wrapper passes root-only secrets to the service's user), errors name the file
//! behind it, and no descriptor the runner inherited reaches terraform.
use std::fs::File;
use std::os::fd::AsRawFd;

use anyhow::Result;
use tailscale_manager::util::sys;

use crate::common::*;

/// `file` left open for the next runner this test starts (as `/dev/fd/<fd>`): its
/// close-on-exec flag cleared in this process, as a shell's `exec 3<file` leaves it.
pub fn handed_over(file: &File) -> Result<String> {
    sys::keep_open_across_exec(file.as_raw_fd())?;
    Ok(format!("/dev/fd/{}", file.as_raw_fd()))
}

/// The descriptors the fake terraform held, from `TF_FAKE_FDS`.
pub fn terraform_descriptors(sb: &Sandbox) -> Result<Vec<i32>> {
    let listing = std::fs::read_to_string(sb.root.path().join("fds"))?;
    Ok(listing.lines().filter_map(|l| l.parse().ok()).collect())
}

pub fn fds_env(sb: &Sandbox) -> String {
    sb.root.path().join("fds").to_string_lossy().into_owned()
}

/// Asserts that `terraform plan` got the OAuth secret in its environment but not the
/// descriptor `fd` the runner read it from.
#[track_caller]
pub fn assert_plan_got_the_secret_not(sb: &Sandbox, fd: i32, why: &str) -> Result<()> {
    let plan = sb
        .invocations()
        .into_iter()
        .find(|c| c.args.starts_with("plan"))
        .expect("terraform plan ran");
    assert_eq!(
        plan.env
            .get("TAILSCALE_OAUTH_CLIENT_SECRET")
            .map(String::as_str),
        Some(OAUTH_SECRET),
        "{why}: the secret read through the descriptor reaches terraform's environment"
    );
    let held = terraform_descriptors(sb)?;
    assert!(
        !held.contains(&fd),
        "{why}: terraform must not inherit the secret's descriptor {fd}: {held:?}"
    );
    Ok(())
}

#[test]
fn credentials_come_through_an_inherited_descriptor_that_terraform_never_gets() -> Result<()> {
    let sb = Sandbox::new()?;
    let file = File::open(&sb.credentials)?;
    let named = handed_over(&file)?;
    // Gone from its directory: only the descriptor still reaches the file.
    let path = sb.credentials.display().to_string();
    std::fs::remove_file(&sb.credentials)?;
    let fds = fds_env(&sb);
    sb.runner(&["plan", "--credentials", &named], &[("TF_FAKE_FDS", &fds)])?
        .expect(0, "plan with the credentials as a descriptor")?;
    assert_plan_got_the_secret_not(&sb, file.as_raw_fd(), "as the same user")?;
    let status = sb.runner(&["status", "--credentials", &named], &[])?;
    status.assert_stdout(&format!("Credentials: file {named} ({path} (deleted))\n"));
    Ok(())
}

#[test]
fn errors_name_the_file_behind_the_descriptor() -> Result<()> {
    let sb = Sandbox::new()?;
    std::fs::write(&sb.credentials, "TAILSCALE_OAUTH_CLIENT_ID=k1\n")?;
    let file = File::open(&sb.credentials)?;
    let named = handed_over(&file)?;
    let out = sb.runner(&["plan", "--credentials", &named], &[])?;
    out.assert_exit(2);
    assert_eq!(
        out.stderr,
        format!(
            "error: credentials file {named} ({}) has no TAILSCALE_OAUTH_CLIENT_SECRET; add a line \
             TAILSCALE_OAUTH_CLIENT_SECRET=<value>\n",
            sb.credentials.display()
        )
    );
    let closed = "/dev/fd/987";
    let out = sb.runner(&["plan", "--credentials", closed], &[])?;
    out.assert_exit(2);
    out.assert_stderr(&format!(
        "error: cannot read credentials file {closed}: Bad file descriptor (os error 9); it must be"
    ));
    Ok(())
}

#[test]
fn no_inherited_descriptor_reaches_terraform() -> Result<()> {
    let sb = Sandbox::new()?;
    let stray = File::open(&sb.config)?;
    handed_over(&stray)?;
    let fds = fds_env(&sb);
    sb.runner(&["init"], &[("TF_FAKE_FDS", &fds)])?
        .expect(0, "init")?;
    let held = terraform_descriptors(&sb)?;
    assert!(
        !held.contains(&stray.as_raw_fd()),
        "terraform inherited descriptor {} of the runner's caller: {held:?}",
        stray.as_raw_fd()
    );
    Ok(())
}

#[test]
fn restore_state_reads_a_state_handed_over_open() -> Result<()> {
    let sb = Sandbox::new()?;
    sb.seed_state(&state_json(2, &[("a", "kA"), ("b", "kB")]))?;
    let old = sb.file("old.tfstate", &state_json(1, &[("a", "kA")]))?;
    let file = File::open(&old)?;
    let named = handed_over(&file)?;
    let out = sb
        .runner(&["restore-state", &named], &[])?
        .expect(0, "restore-state from a descriptor")?;
    out.assert_stdout(&format!(
        "restored {named} ({old}) to {}",
        sb.state_path().display()
    ));
    sb.assert_state(
        &state_json(1, &[("a", "kA")]),
        "the state behind the descriptor",
    );
    Ok(())
}
