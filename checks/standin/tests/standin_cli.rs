//! The stand-in's own commands: help, bad input and broken files give clear errors, never a panic.

use std::process::Command;

use anyhow::{Context as _, Result, ensure};

const STANDIN_BIN: &str = env!("CARGO_BIN_EXE_standin-tailnet");
const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-tailscale");

/// Runs standin-tailnet; returns (exit code, stdout, stderr).
fn standin(args: &[&str]) -> Result<(Option<i32>, String, String)> {
    let output = Command::new(STANDIN_BIN)
        .args(args)
        .env_remove("TAILSCALE_BASE_URL")
        .output()
        .context("cannot run standin-tailnet")?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    ensure!(
        !stderr.contains("panicked"),
        "standin-tailnet {args:?} panicked:\n{stderr}"
    );
    Ok((
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    ))
}

#[test]
fn help_lists_every_command() -> Result<()> {
    let (code, stdout, _) = standin(&["--help"])?;
    ensure!(code == Some(0), "--help exits 0");
    for command in [
        "init",
        "list",
        "expire",
        "revoke",
        "delete",
        "fail-creates",
        "slow-create",
    ] {
        ensure!(
            stdout.contains(&format!("\n  {command}")),
            "--help documents {command}:\n{stdout}"
        );
    }
    Ok(())
}

#[test]
fn usage_errors_exit_2_with_a_reason() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("tailnet.json");
    let file = file.to_str().context("temp path is UTF-8")?;
    let cases: &[(&[&str], &str)] = &[
        (&[], "missing command"),
        (
            &["list"],
            "no file: pass --file PATH or set TAILSCALE_BASE_URL",
        ),
        (
            &["--file", file, "frobnicate"],
            "unknown command \"frobnicate\"",
        ),
        (
            &["--file", file, "fail-creates", "many"],
            "count must be a non-negative whole number",
        ),
        (
            &["--file", file, "fail-creates", "1", "--status", "200"],
            "is not an error status",
        ),
        (
            &["--file", file, "slow-create", "5", "--commit", "later"],
            "--commit must be after-sleep or before-sleep",
        ),
        (
            &["--file", file, "init", "--tags", "ci"],
            "must start with \"tag:\"",
        ),
        (&["--file", file, "expire"], "missing a key id or --all"),
        (
            &["--file", file, "list", "--bogus"],
            "unexpected argument \"--bogus\"",
        ),
        (&["--file"], "--file needs a path"),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = standin(args)?;
        ensure!(
            code == Some(2),
            "{args:?} is a usage error (exit 2), got {code:?}: {stderr}"
        );
        ensure!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in:\n{stderr}"
        );
    }
    Ok(())
}

#[test]
fn file_errors_exit_1_naming_the_problem() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tailnet.json");
    let file = path.to_str().context("temp path is UTF-8")?;
    let (code, _, stderr) = standin(&["--file", file, "list"])?;
    ensure!(
        code == Some(1) && stderr.contains("create it with `standin-tailnet init`"),
        "missing file: {stderr}"
    );

    ensure!(
        standin(&["--file", file, "init"])?.0 == Some(0),
        "init creates the file"
    );
    let (code, _, stderr) = standin(&["--file", file, "init"])?;
    ensure!(
        code == Some(1) && stderr.contains("already exists (pass --force"),
        "second init: {stderr}"
    );
    let (code, _, stderr) = standin(&["--file", file, "expire", "kNOPE"])?;
    ensure!(
        code == Some(1) && stderr.contains("no key with id \"kNOPE\""),
        "unknown key: {stderr}"
    );

    std::fs::write(&path, "{\"version\": 1, \"tailnet\": ")?;
    let (code, _, stderr) = standin(&["--file", file, "list"])?;
    ensure!(
        code == Some(1) && stderr.contains("is not a valid simulated tailnet"),
        "truncated file: {stderr}"
    );
    Ok(())
}

#[test]
fn list_json_redacts_every_secret() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tailnet.json");
    let file = path.to_str().context("temp path is UTF-8")?;
    ensure!(
        standin(&["--file", file, "init"])?.0 == Some(0),
        "init creates the file"
    );
    let (code, stdout, _) = standin(&["--file", file, "list", "--json"])?;
    ensure!(code == Some(0), "list --json exits 0");
    ensure!(
        !stdout.contains("tskey-"),
        "list --json shows no secret:\n{stdout}"
    );
    ensure!(
        stdout.contains("<redacted>"),
        "the secret's place is marked:\n{stdout}"
    );
    Ok(())
}

#[test]
fn the_provider_explains_itself_when_run_by_hand() -> Result<()> {
    let output = Command::new(PROVIDER_BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .context("cannot run the provider")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(1),
        "exit 1 without terraform: {:?}",
        output.status
    );
    ensure!(
        stderr.contains("This binary is a plugin"),
        "says what it is:\n{stderr}"
    );
    Ok(())
}
