//! The stand-in's own commands: help, bad input and broken files give clear errors, never a panic.

use std::process::Command;

use anyhow::{Context as _, Result, ensure};
use tailscale_standin::sim::SimFile;
use tempfile::TempDir;
use test_support::output::Output;

const STANDIN_BIN: &str = env!("CARGO_BIN_EXE_standin-tailnet");
const PROVIDER_BINS: [&str; 2] = [
    env!("CARGO_BIN_EXE_terraform-provider-tailscale"),
    env!("CARGO_BIN_EXE_terraform-provider-local"),
];

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
        "add-device",
        "list-devices",
        "set-policy",
        "show-policy",
        "show-dns",
        "grant-scope",
        "drop-scope",
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
        (
            &["--file", file, "add-device"],
            "missing a device name (its MagicDNS name)",
        ),
        (
            &[
                "--file",
                file,
                "add-device",
                "a.ts.net",
                "--expires",
                "soon",
            ],
            "--expires must be an RFC 3339 time",
        ),
        (
            &[
                "--file",
                file,
                "add-device",
                "a.ts.net",
                "--expires",
                "+1d",
                "--key-expiry-disabled",
            ],
            "--expires and --key-expiry-disabled exclude each other",
        ),
        (
            &["--file", file, "add-device", "a.ts.net", "--tags", "web"],
            "must start with \"tag:\"",
        ),
        (
            &["--file", file, "set-policy"],
            "missing a policy file (- for stdin) or --default",
        ),
        (&["--file", file, "grant-scope"], "missing a scope"),
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
fn the_providers_explain_themselves_when_run_by_hand() -> Result<()> {
    for provider in PROVIDER_BINS {
        let out = Output::run(Command::new(provider).env_remove("TF_PLUGIN_MAGIC_COOKIE"))?
            .expect(1, &format!("{provider} without terraform"))?;
        ensure!(
            out.stderr.contains("This binary is a plugin"),
            "{provider} says what it is:\n{}",
            out.stderr
        );
    }
    Ok(())
}

/// Runs `standin-tailnet --file FILE ARGS` that must succeed; its stdout.
fn ok(file: &str, args: &[&str]) -> Result<String> {
    let mut all = vec!["--file", file];
    all.extend(args);
    Ok(standin(&all)?.expect(0, &format!("{args:?}"))?.stdout)
}

#[test]
fn devices_policy_and_scopes_land_in_the_file() -> Result<()> {
    let (dir, file) = tailnet_file()?;
    let file = file.as_str();
    ok(file, &["init", "--scopes", "auth_keys,dns"])?;
    let node_id = ok(
        file,
        &[
            "add-device",
            "web-1.tail0000.ts.net",
            "--tags",
            "tag:web",
            "--expires",
            "2026-05-01T00:00:00Z",
            "--last-seen",
            "-2h",
        ],
    )?;
    ok(
        file,
        &[
            "add-device",
            "db-1.tail0000.ts.net",
            "--key-expiry-disabled",
            "--no-addresses",
        ],
    )?;
    ok(file, &["grant-scope", "policy_file", "devices:core:read"])?;
    ok(file, &["drop-scope", "dns"])?;
    let policy = dir.path().join("policy.hujson");
    std::fs::write(&policy, "// ours\n{\"grants\": []}\n")?;
    ok(file, &["set-policy", policy.to_str().context("UTF-8")?])?;

    let tailnet = SimFile::new(file).read()?;
    let web = tailnet
        .device("web-1.tail0000.ts.net")
        .context("web-1 was added")?;
    ensure!(
        web.node_id == node_id.trim(),
        "add-device prints the node id"
    );
    ensure!(
        web.hostname == "web-1" && web.tags == ["tag:web"],
        "hostname and tags: {web:?}"
    );
    ensure!(
        web.expires == "2026-05-01T00:00:00Z",
        "expires as written: {web:?}"
    );
    ensure!(
        web.last_seen.is_some(),
        "--last-seen makes it offline: {web:?}"
    );
    ensure!(
        web.addresses.as_ref().is_some_and(|a| a.len() == 2),
        "default addresses, IPv4 and IPv6: {web:?}"
    );
    let db = tailnet
        .device("db-1.tail0000.ts.net")
        .context("db-1 was added")?;
    ensure!(
        db.key_expiry_disabled && db.expires == "0001-01-01T00:00:00Z",
        "key expiry disabled, Go's zero time: {db:?}"
    );
    ensure!(
        db.addresses.is_none() && db.last_seen.is_none(),
        "no addresses, online: {db:?}"
    );
    ensure!(
        tailnet.oauth_clients[0].scopes == ["auth_keys", "policy_file", "devices:core:read"],
        "scopes granted and dropped: {:?}",
        tailnet.oauth_clients[0].scopes
    );
    ensure!(
        !tailnet.policy.default && tailnet.policy.hujson.starts_with("// ours"),
        "the policy is set and no longer the default"
    );
    let shown = ok(file, &["show-policy"])?;
    ensure!(
        shown == tailnet.policy.hujson,
        "show-policy prints the text as stored"
    );
    ok(file, &["set-policy", "--default"])?;
    ensure!(
        SimFile::new(file).read()?.policy.default,
        "--default restores it"
    );
    ensure_file_error(
        &["--file", file, "add-device", "web-1.tail0000.ts.net"],
        "already has a device named",
        "a second device with the same name",
    )?;
    Ok(())
}

#[test]
fn files_without_the_new_fields_still_load() -> Result<()> {
    // A file as the stand-in wrote it before policy, DNS, devices, scopes and the request log.
    let (_dir, file) = tailnet_file()?;
    std::fs::write(
        &file,
        r#"{"version": 1, "tailnet": "example.com",
            "oauth_clients": [{"id": "kC", "secret": "tskey-client-kC-s", "tags": ["tag:ci"]}],
            "keys": [], "faults": {}, "events": [{"at": "2026-01-01T00:00:00Z", "op": "create", "id": "k1"}]}"#,
    )?;
    let tailnet = SimFile::new(&file).read()?;
    ensure!(tailnet.policy.default, "the default policy");
    ensure!(tailnet.dns.magic_dns, "MagicDNS on");
    ensure!(tailnet.devices.is_empty(), "no devices");
    ensure!(
        tailnet.oauth_clients[0].scopes == ["auth_keys", "policy_file", "dns", "devices:core:read"],
        "the default scopes"
    );
    ensure!(tailnet.count("create") == 1, "old events are kept");
    Ok(())
}
