//! The stand-in's own commands: help, bad input and broken files give clear errors, never a panic.

use std::process::Command;

use anyhow::{Context as _, Result, ensure};
use tempfile::TempDir;
use test_support::output::Output;

const STANDIN_BIN: &str = env!("CARGO_BIN_EXE_standin-tailnet");
const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-tailscale");

/// Runs standin-tailnet, which must not panic.
fn standin(args: &[&str]) -> Result<Output> {
    let out = Output::run(
        Command::new(STANDIN_BIN)
            .args(args)
            .env_remove("TAILSCALE_BASE_URL"),
    )?;
    ensure!(
        !out.stderr.contains("panicked"),
        "standin-tailnet {args:?} panicked:\n{}",
        out.stderr
    );
    Ok(out)
}

/// A temporary directory and the path of a tailnet file in it (not created).
fn tailnet_file() -> Result<(TempDir, String)> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("tailnet.json");
    let file = file.to_str().context("temp path is UTF-8")?.to_owned();
    Ok((dir, file))
}

#[test]
fn help_lists_every_command() -> Result<()> {
    let stdout = standin(&["--help"])?.expect(0, "--help")?.stdout;
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
    let (_dir, file) = tailnet_file()?;
    let file = file.as_str();
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
        let out = standin(args)?.expect(2, &format!("{args:?}"))?;
        ensure!(
            out.stderr.contains(expected),
            "{args:?}: expected {expected:?} in:\n{}",
            out.stderr
        );
    }
    Ok(())
}

/// Fails unless `args` exit 1 with `expected` on stderr.
fn ensure_file_error(args: &[&str], expected: &str, what: &str) -> Result<()> {
    let out = standin(args)?.expect(1, what)?;
    ensure!(
        out.stderr.contains(expected),
        "{what}: expected {expected:?} in:\n{}",
        out.stderr
    );
    Ok(())
}

#[test]
fn file_errors_exit_1_naming_the_problem() -> Result<()> {
    let (_dir, file) = tailnet_file()?;
    let file = file.as_str();
    let missing = "create it with `standin-tailnet init`";
    ensure_file_error(&["--file", file, "list"], missing, "missing file")?;
    standin(&["--file", file, "init"])?.expect(0, "init creates the file")?;
    let exists = "already exists (pass --force";
    ensure_file_error(&["--file", file, "init"], exists, "second init")?;
    let unknown = "no key with id \"kNOPE\"";
    ensure_file_error(&["--file", file, "expire", "kNOPE"], unknown, "unknown key")?;
    std::fs::write(file, "{\"version\": 1, \"tailnet\": ")?;
    let truncated = "is not a valid simulated tailnet";
    ensure_file_error(&["--file", file, "list"], truncated, "truncated file")?;
    Ok(())
}

#[test]
fn list_json_redacts_every_secret() -> Result<()> {
    let (_dir, file) = tailnet_file()?;
    let file = file.as_str();
    standin(&["--file", file, "init"])?.expect(0, "init creates the file")?;
    let stdout = standin(&["--file", file, "list", "--json"])?
        .expect(0, "list --json")?
        .stdout;
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
    let out = Output::run(Command::new(PROVIDER_BIN).env_remove("TF_PLUGIN_MAGIC_COOKIE"))?
        .expect(1, "the provider without terraform")?;
    ensure!(
        out.stderr.contains("This binary is a plugin"),
        "says what it is:\n{}",
        out.stderr
    );
    Ok(())
}
