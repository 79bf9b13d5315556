//! Successful apply/destroy/plan/init: arguments, environment, files, init skipping.
use anyhow::Result;

use crate::common::*;

/// The fake terraform's files for an apply that creates key `ci` (id k1): the state it saves
/// and its `-json` lines.
fn creating_ci(sb: &Sandbox) -> Result<(String, String)> {
    let state = sb.saved_state(1, &[("ci", "k1")])?;
    let lines = sb.file(
        "apply.jsonl",
        &apply_lines(&[("tailscale_tailnet_key.ci", "k1")], Some((1, 0, 0))),
    )?;
    Ok((state, lines))
}

#[test]
fn apply_runs_init_then_apply_with_exact_arguments_and_an_allowlisted_environment() -> Result<()> {
    let sb = Sandbox::new()?;
    let (state, lines) = creating_ci(&sb)?;
    sb.runner(
        &["apply"],
        &[
            ("TF_FAKE_STATE", &state),
            ("TF_FAKE_STDOUT", &lines),
            ("TF_LOG", "warn"),
            ("TAILSCALE_BASE_URL", "file:///tmp/tailnet.json"),
            ("TAILSCALE_OAUTH_CLIENT_SECRET", "from-the-caller-env"),
        ],
    )?
    .expect(0, "apply must succeed")?;
    let calls = sb.invocations();
    let args: Vec<&str> = calls.iter().map(|c| c.args.as_str()).collect();
    assert_eq!(
        args,
        [
            "init -input=false -no-color",
            "apply -input=false -no-color -auto-approve -json -lock-timeout=300s"
        ],
        "terraform's exact arguments"
    );
    let state_dir = sb.state_dir.to_string_lossy().into_owned();
    for call in &calls {
        assert_eq!(call.cwd, state_dir, "terraform runs in the state dir");
        let env = &call.env;
        assert!(
            !env.contains_key(CANARY),
            "a variable outside the allowlist reached terraform"
        );
        let names: Vec<&str> = env.keys().map(String::as_str).collect();
        let allowed = |n: &str| {
            n.starts_with("TF_")
                || [
                    "PATH",
                    "HOME",
                    "CHECKPOINT_DISABLE",
                    "TAILSCALE_BASE_URL",
                    "TAILSCALE_OAUTH_CLIENT_ID",
                    "TAILSCALE_OAUTH_CLIENT_SECRET",
                    // set by /bin/sh itself
                    "PWD",
                    "SHLVL",
                    "_",
                    "OLDPWD",
                ]
                .contains(&n)
        };
        let extra: Vec<&&str> = names.iter().filter(|n| !allowed(n)).collect();
        assert!(
            extra.is_empty(),
            "unexpected variables reached terraform: {extra:?}"
        );
        assert_eq!(env.get("HOME"), Some(&state_dir), "HOME is the state dir");
        assert_eq!(env.get("TF_IN_AUTOMATION").map(String::as_str), Some("1"));
        assert_eq!(env.get("CHECKPOINT_DISABLE").map(String::as_str), Some("1"));
        assert_eq!(
            env.get("TF_LOG").map(String::as_str),
            Some("warn"),
            "caller's TF_* pass"
        );
        assert_eq!(
            env.get("TAILSCALE_BASE_URL").map(String::as_str),
            Some("file:///tmp/tailnet.json")
        );
    }
    let init_env = &calls[0].env;
    assert!(
        !init_env.contains_key("TAILSCALE_OAUTH_CLIENT_SECRET"),
        "init needs no credentials"
    );
    let apply_env = &calls[1].env;
    assert_eq!(
        apply_env
            .get("TAILSCALE_OAUTH_CLIENT_ID")
            .map(String::as_str),
        Some(CLIENT_ID)
    );
    assert_eq!(
        apply_env
            .get("TAILSCALE_OAUTH_CLIENT_SECRET")
            .map(String::as_str),
        Some(OAUTH_SECRET),
        "the credentials file beats the caller's environment"
    );
    Ok(())
}

#[test]
fn first_apply_records_success_and_status_lists_the_key() -> Result<()> {
    let sb = Sandbox::new()?;
    let (state, lines) = creating_ci(&sb)?;
    let out = sb.runner(
        &["apply"],
        &[("TF_FAKE_STATE", &state), ("TF_FAKE_STDOUT", &lines)],
    )?;
    out.assert_exit(0);
    assert!(
        out.stderr
            .contains("tailscale_tailnet_key.ci: Creation complete after 0s [id=k1]"),
        "a progress line per resource goes to stderr:\n{}",
        out.stderr
    );
    assert_eq!(mode(&sb.state_dir), 0o700, "the state dir is created 0700");
    // terraform creates these with the umask it inherits from us: 077.
    assert_eq!(
        mode(&sb.state_path()),
        0o600,
        "terraform.tfstate is private"
    );
    assert_eq!(mode(&sb.state_dir.join(".terraform")), 0o700);
    assert_eq!(
        mode(&sb.state_dir.join(".terraform.lock.hcl")),
        0o600,
        "files are private (0600)"
    );
    let installed = sb.state_dir.join("main.tf.json");
    assert_eq!(
        std::fs::read_to_string(&installed)?,
        CONFIG,
        "config installed verbatim"
    );
    assert_eq!(mode(&installed), 0o600, "files are private (0600)");
    let last = sb.last_apply()?;
    assert_eq!(last["result"], "ok");
    assert_eq!(last["action"], "apply");
    assert_eq!(
        last["changes"],
        serde_json::json!({"add": 1, "change": 0, "remove": 0})
    );
    assert_eq!(
        last["backup_path"],
        serde_json::Value::Null,
        "no state existed to back up"
    );
    assert!(
        last.get("error_message").is_none(),
        "no error fields on success: {last}"
    );
    assert!(last["duration_ms"].is_u64());
    let ts = last["timestamp"].as_str().unwrap();
    assert_eq!(
        ts.len(),
        "2026-05-31T00:00:00.000000+00:00".len(),
        "timestamp format: {ts}"
    );
    assert!(
        ts.ends_with("+00:00") && ts.as_bytes()[19] == b'.',
        "timestamp format: {ts}"
    );
    assert_eq!(
        mode(&sb.state_dir.join("last-apply.json")),
        0o600,
        "files are private (0600)"
    );

    let (code, status) = sb.status_json()?;
    assert_eq!(code, Some(0), "status exits 0 after a successful apply");
    assert_eq!(
        status["managed_keys"][0]["address"],
        "tailscale_tailnet_key.ci"
    );
    assert_eq!(status["managed_keys"][0]["id"], "k1");
    assert_eq!(status["managed_keys"][0]["revoked"], false);
    assert_eq!(
        status["state"],
        serde_json::json!({"found": true, "serial": 1, "backend": "local", "workspace": null,
                           "snapshot_taken_at": null})
    );
    Ok(())
}

#[test]
fn second_apply_skips_init_and_backs_up_first() -> Result<()> {
    let sb = Sandbox::new()?;
    let state = sb.saved_state(1, &[("ci", "k1")])?;
    let env = [("TF_FAKE_STATE", state.as_str())];
    sb.runner(&["apply"], &env)?.assert_exit(0);
    let out = sb.runner(&["apply"], &env)?;
    out.assert_exit(0);
    assert_eq!(
        sb.verbs(),
        ["init", "apply", "apply"],
        "init runs only once"
    );
    out.assert_stderr("terraform init: up to date, skipped");
    let backups = sb.backups(Kind::Regular);
    assert_eq!(
        backups.len(),
        1,
        "one pre-run backup before the second apply"
    );
    assert_eq!(
        std::fs::read_to_string(&backups[0])?,
        state_json(1, &[("ci", "k1")])
    );
    assert_eq!(
        sb.last_apply()?["backup_path"].as_str(),
        Some(backups[0].to_str().unwrap()),
        "last-apply names the backup"
    );
    Ok(())
}

#[test]
fn a_changed_terraform_block_or_binary_triggers_init_again() -> Result<()> {
    let sb = Sandbox::new()?;
    sb.runner(&["apply"], &[])?.assert_exit(0);
    let unchanged_block = CONFIG.replace("tag:ci", "tag:other");
    std::fs::write(&sb.config, &unchanged_block)?;
    sb.runner(&["apply"], &[])?.assert_exit(0);
    assert_eq!(
        sb.verbs(),
        ["init", "apply", "apply"],
        "resources alone need no init"
    );
    std::fs::write(&sb.config, unchanged_block.replace("~> 0.29", "~> 0.30"))?;
    sb.runner(&["apply"], &[])?.assert_exit(0);
    assert_eq!(
        sb.verbs(),
        ["init", "apply", "apply", "init", "apply"],
        "a new provider constraint needs init"
    );
    let other_bin = sb.root.path().join("tofu");
    std::fs::copy(fake_terraform(), &other_bin)?;
    let out = sb.runner(&["apply", "--terraform", other_bin.to_str().unwrap()], &[])?;
    out.assert_exit(0);
    assert_eq!(sb.verbs().len(), 7, "a different binary needs init");
    assert_eq!(sb.verbs()[5], "init");
    Ok(())
}

#[test]
fn apply_inits_once_and_retries_when_terraform_still_asks_for_init() -> Result<()> {
    let sb = Sandbox::new()?;
    sb.runner(&["apply"], &[("TF_FAKE_INIT_STAMP", "v1")])?
        .assert_exit(0);
    // Same binary and config, but the working directory is stale (e.g. a provider swap
    // behind our back): terraform says init is required.
    let out = sb
        .runner(&["apply"], &[("TF_FAKE_INIT_STAMP", "v2")])?
        .expect(0, "the retry after init must succeed")?;
    assert_eq!(sb.verbs(), ["init", "apply", "apply", "init", "apply"]);
    out.assert_stderr("terraform asks for init");
    Ok(())
}

#[test]
fn destroy_uses_the_installed_config_and_records_its_action() -> Result<()> {
    let sb = Sandbox::new()?;
    let state = sb.saved_state(1, &[("ci", "k1")])?;
    sb.runner(&["apply"], &[("TF_FAKE_STATE", &state)])?
        .assert_exit(0);
    let empty = sb.file("empty.tfstate", &state_json(2, &[]))?;
    let lines = sb.file(
        "destroy.jsonl",
        r#"{"@level":"info","@message":"Destroy complete! Resources: 1 destroyed.","@module":"terraform.ui","changes":{"add":0,"change":0,"import":0,"remove":1,"operation":"destroy"},"type":"change_summary"}
"#,
    )?;
    sb.runner(
        &["destroy"],
        &[
            ("TAILSCALE_MANAGER_CONFIG", ""),
            ("TF_FAKE_STATE", &empty),
            ("TF_FAKE_STDOUT", &lines),
        ],
    )?
    .expect(0, "destroy without --config uses the installed one")?;
    let last_call = sb.invocations().pop().unwrap();
    assert_eq!(
        last_call.args,
        "destroy -input=false -no-color -auto-approve -json -lock-timeout=300s"
    );
    let last = sb.last_apply()?;
    assert_eq!(last["action"], "destroy");
    assert_eq!(
        last["changes"],
        serde_json::json!({"add": 0, "change": 0, "remove": 1})
    );
    assert_eq!(sb.backups(Kind::Regular).len(), 1, "destroy backs up first");
    Ok(())
}

#[test]
fn config_is_only_rewritten_when_its_bytes_change() -> Result<()> {
    let sb = Sandbox::new()?;
    sb.runner(&["apply"], &[])?.assert_exit(0);
    let installed = sb.state_dir.join("main.tf.json");
    let before = std::fs::metadata(&installed)?.modified()?;
    std::thread::sleep(std::time::Duration::from_millis(20));
    sb.runner(&["apply"], &[])?.assert_exit(0);
    assert_eq!(
        std::fs::metadata(&installed)?.modified()?,
        before,
        "identical config not rewritten"
    );
    std::fs::write(&sb.config, CONFIG.replace("example.com", "other.example"))?;
    sb.runner(&["apply"], &[])?.assert_exit(0);
    assert!(
        std::fs::read_to_string(&installed)?.contains("other.example"),
        "new config installed"
    );
    Ok(())
}

#[test]
fn plan_reports_pending_changes_and_exits_zero_either_way() -> Result<()> {
    let sb = Sandbox::new()?;
    let out = sb
        .runner(&["plan"], &[("TF_FAKE_EXIT", "2"), ("TF_FAKE_STDERR", "")])?
        .expect(0, "changes pending is not an error")?;
    out.assert_stdout("changes pending");
    let out = sb.runner(&["plan"], &[])?;
    out.assert_exit(0);
    out.assert_stdout("no changes pending");
    let args: Vec<String> = sb.invocations().into_iter().map(|c| c.args).collect();
    assert_eq!(
        args[1],
        "plan -input=false -no-color -detailed-exitcode -lock-timeout=300s"
    );
    let out = sb
        .runner(
            &["plan"],
            &[("TF_FAKE_EXIT", "1"), ("TF_FAKE_STDERR", "Error: bad plan")],
        )?
        .expect(1, "a failed plan")?;
    out.assert_stderr("error: terraform plan exited with status 1: bad plan");
    assert!(
        !sb.state_dir.join("last-apply.json").exists(),
        "plan never writes last-apply.json"
    );
    Ok(())
}

#[test]
fn init_command_installs_and_initialises_without_credentials() -> Result<()> {
    let sb = Sandbox::new()?;
    let out = sb.runner(&["init"], &[("TAILSCALE_MANAGER_CREDENTIALS_FILE", "")])?;
    out.assert_exit(0);
    assert!(sb.state_dir.join("main.tf.json").exists());
    assert!(sb.state_dir.join(".terraform").is_dir());
    assert_eq!(sb.verbs(), ["init"]);
    let out = sb
        .runner(&["init"], &[("TF_FAKE_INIT_EXIT", "1")])?
        .expect(1, "a failed init")?;
    out.assert_stderr(
        "error: terraform init exited with status 1: Failed to query available provider packages \
         Could not retrieve the list of available versions\n",
    );
    let errors = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .count();
    assert_eq!(
        out.stderr.lines().last().map(|l| l.starts_with("error:")),
        Some(true),
        "the error is the last line, whole: {}",
        out.stderr
    );
    assert_eq!(errors, 1, "one error line: {}", out.stderr);
    Ok(())
}

#[test]
fn flags_beat_environment_variables_end_to_end() -> Result<()> {
    let sb = Sandbox::new()?;
    let other = sb.root.path().join("other-state");
    let out = sb.runner(&["apply", "--state-dir", other.to_str().unwrap()], &[])?;
    out.assert_exit(0);
    assert!(
        other.join("last-apply.json").exists(),
        "the flag's state dir is used"
    );
    assert!(
        !sb.state_dir.exists(),
        "the environment's state dir is not touched"
    );
    Ok(())
}

#[test]
fn an_empty_state_file_counts_as_no_state() -> Result<()> {
    // terraform creates terraform.tfstate empty when an apply starts; a kill before its
    // first write leaves 0 bytes, which terraform itself reads as "no state".
    let sb = Sandbox::new()?;
    sb.seed_state("")?;
    let state = sb.saved_state(1, &[("ci", "k1")])?;
    let out = sb.runner(&["apply"], &[("TF_FAKE_STATE", &state)])?;
    out.assert_exit(0);
    assert!(sb.backups(Kind::Regular).is_empty(), "nothing to back up");
    assert_eq!(sb.last_apply()?["backup_path"], serde_json::Value::Null);
    Ok(())
}

#[test]
fn a_state_left_world_readable_is_tightened() -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new()?;
    sb.seed_state(&state_json(1, &[("ci", "k1")]))?;
    std::fs::set_permissions(sb.state_path(), std::fs::Permissions::from_mode(0o644))?;
    let out = sb.runner(&["apply"], &[])?;
    out.assert_exit(0);
    assert_eq!(mode(&sb.state_path()), 0o600, "files are private (0600)");
    out.assert_stderr("from mode 0644 to 0600");
    Ok(())
}
