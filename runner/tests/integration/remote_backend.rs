//! A remote backend (`terraform.backend.pg` in the config) against the fake terraform: where
//! the connection string comes from and where it goes (terraform's environment, never argv or
//! a file or a message), the workspace, the usage errors, the pull/apply/pull sequence, a
//! failure that keeps the state, restore-state's push, the move of a local state, and what
//! status says. Real terraform and PostgreSQL: the e2e suite's p-scenarios.
use std::path::PathBuf;

use anyhow::Result;
use serde_json::{Value, json};

use crate::common::*;

/// The password in the connection string: no output, file or argv may hold it.
const PASSWORD: &str = "pg-Pa55word-0123456789";
const CONFIG_PG: &str = r#"{"provider":{"tailscale":{"tailnet":"example.com"}},"resource":{"tailscale_tailnet_key":{"ci":{"reusable":true,"tags":["tag:ci"]}}},"terraform":{"backend":{"pg":{"schema_name":"tailscale_manager"}},"required_providers":{"tailscale":{"source":"tailscale/tailscale","version":"~> 0.29"}}}}"#;

/// A sandbox whose config keeps the state in pg; `remote` is the fake backend's state.
struct Pg {
    sb: Sandbox,
    conn_file: String,
    remote: PathBuf,
}

impl Pg {
    fn new() -> Result<Pg> {
        let sb = Sandbox::new()?;
        std::fs::write(&sb.config, CONFIG_PG)?;
        let conn_file = sb.file(
            "pg-conn",
            &format!("postgresql://tm:{PASSWORD}@db.example.com/tfstate?sslmode=disable\n"),
        )?;
        let remote = sb.root.path().join("remote.tfstate");
        Ok(Pg {
            sb,
            conn_file,
            remote,
        })
    }

    /// The environment of a run against the fake backend, plus `more`.
    fn env<'a>(&'a self, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            (
                "TAILSCALE_MANAGER_PG_CONNECTION_FILE",
                self.conn_file.as_str(),
            ),
            ("TF_FAKE_REMOTE", self.remote.to_str().unwrap()),
        ];
        env.extend_from_slice(more);
        env
    }

    fn run(&self, args: &[&str], more: &[(&str, &str)]) -> Result<Output> {
        self.sb.runner(args, &self.env(more))
    }

    fn remote(&self) -> Option<String> {
        std::fs::read_to_string(&self.remote).ok()
    }

    /// The regular backups' contents, oldest first.
    fn backed_up(&self) -> Result<Vec<String>> {
        let backups = self.sb.backups(Kind::Regular);
        let read = backups.iter().map(std::fs::read_to_string);
        Ok(read.collect::<std::io::Result<_>>()?)
    }

    /// Fails if the password is in `text`.
    fn assert_no_password(&self, text: &str, place: &str) -> Result<()> {
        test_support::output::assert_no_secrets(&[PASSWORD], text, place)
    }
}

#[test]
fn the_connection_string_reaches_terraform_only_through_its_environment() -> Result<()> {
    let pg = Pg::new()?;
    let state = pg.sb.saved_state(1, &[("ci", "k1")])?;
    let lines = pg.sb.file(
        "apply.jsonl",
        &apply_lines(&[("tailscale_tailnet_key.ci", "k1")], Some((1, 0, 0))),
    )?;
    let out = pg
        .run(
            &["apply", "--workspace", "host-a"],
            &[
                ("TF_FAKE_STATE", &state),
                ("TF_FAKE_STDOUT", &lines),
                ("TF_WORKSPACE", "ignored"),
            ],
        )?
        .expect(0, "apply with the pg backend")?;
    assert_eq!(
        pg.sb.verbs(),
        ["init", "state", "apply", "state"],
        "init, pull for the backup, apply, pull for the snapshot"
    );
    for call in pg.sb.invocations() {
        let conn = call.env.get("PG_CONN_STR").map(String::as_str);
        assert_eq!(
            conn,
            Some(
                format!("postgresql://tm:{PASSWORD}@db.example.com/tfstate?sslmode=disable")
                    .as_str()
            ),
            "{}: the file's connection string, trimmed",
            call.args
        );
        assert!(
            !call.args.contains(PASSWORD),
            "argv holds no password: {}",
            call.args
        );
        let workspace = call.env.get("TF_WORKSPACE").map(String::as_str);
        let expected = if call.args.starts_with("init") {
            None
        } else {
            Some("host-a")
        };
        assert_eq!(
            workspace, expected,
            "{}: --workspace, never the caller's; none for init",
            call.args
        );
        if call.args.starts_with("apply") {
            assert!(
                call.args.contains("-lock-timeout=300s"),
                "the state lock waits: {}",
                call.args
            );
        }
    }
    assert_eq!(
        pg.remote().as_deref(),
        Some(state_json(1, &[("ci", "k1")]).as_str())
    );
    assert!(
        pg.sb.state().is_none(),
        "no terraform.tfstate in the state directory"
    );
    pg.assert_no_password(&out.all(), "apply's output")?;
    for file in [
        "last-apply.json",
        "main.tf.json",
        ".lock",
        ".init-fingerprint",
        "remote-state.json",
    ] {
        let text = std::fs::read_to_string(pg.sb.state_dir.join(file))?;
        pg.assert_no_password(&text, file)?;
    }
    Ok(())
}

#[test]
fn status_reads_the_snapshot_and_says_so_in_every_format() -> Result<()> {
    let pg = Pg::new()?;
    let state = pg.sb.saved_state(3, &[("ci", "k1")])?;
    pg.run(
        &["apply", "--workspace", "host-a"],
        &[("TF_FAKE_STATE", &state)],
    )?
    .expect(0, "apply")?;
    let before = pg.sb.invocations().len();
    // The database is gone: status must not care (it never runs terraform).
    let (code, status) = pg.sb.status_json()?;
    assert_eq!(code, Some(0), "{status}");
    let taken = status["state"]["snapshot_taken_at"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!taken.is_empty(), "snapshot_taken_at: {status}");
    assert_eq!(
        status["state"],
        json!({"found": true, "serial": 3, "backend": "pg", "workspace": "host-a",
               "snapshot_taken_at": taken}),
    );
    assert_eq!(
        status["managed_keys"][0]["id"], "k1",
        "keys come from the snapshot"
    );
    let note = format!("snapshot of the pg state (workspace 'host-a') taken {taken}");
    let human = pg.sb.runner(&["status"], &[])?.expect(0, "status")?;
    human.assert_stdout(&format!("Terraform state: found (serial 3), {note}"));
    let waybar = pg
        .sb
        .runner(&["status", "--waybar"], &[])?
        .expect(0, "waybar")?;
    assert!(
        waybar.json()?["tooltip"]
            .as_str()
            .unwrap_or_default()
            .contains(&note),
        "{}",
        waybar.stdout
    );
    let oneline = pg
        .sb
        .runner(&["status", "--oneline"], &[])?
        .expect(0, "oneline")?;
    assert_eq!(
        oneline.stdout,
        format!("tailscale-manager: last apply [ok]; state: {note}\n")
    );
    let prometheus = pg
        .sb
        .runner(&["status", "--prometheus"], &[])?
        .expect(0, "prometheus")?;
    prometheus.assert_stdout(
        "tailscale_manager_state_snapshot_timestamp_seconds{backend=\"pg\",workspace=\"host-a\"} ",
    );
    assert_eq!(pg.sb.invocations().len(), before, "status ran no terraform");
    Ok(())
}

#[test]
fn the_connection_string_comes_from_the_flag_else_the_systemd_credential() -> Result<()> {
    let pg = Pg::new()?;
    let creds = pg.sb.root.path().join("credentials");
    std::fs::create_dir(&creds)?;
    std::fs::write(
        creds.join("pg-conn-str"),
        "host=/run/postgresql password=from-systemd\n",
    )?;
    let creds = creds.to_str().unwrap();
    let remote = pg.remote.to_str().unwrap();
    pg.sb
        .runner(
            &["apply"],
            &[("CREDENTIALS_DIRECTORY", creds), ("TF_FAKE_REMOTE", remote)],
        )?
        .expect(0, "apply with LoadCredential=pg-conn-str")?;
    let conn = |sb: &Sandbox| {
        sb.invocations()
            .last()
            .and_then(|c| c.env.get("PG_CONN_STR").cloned())
    };
    assert_eq!(
        conn(&pg.sb).as_deref(),
        Some("host=/run/postgresql password=from-systemd")
    );
    pg.run(&["apply"], &[("CREDENTIALS_DIRECTORY", creds)])?
        .expect(0, "apply with both")?;
    assert!(
        conn(&pg.sb).is_some_and(|c| c.starts_with("postgresql://tm:")),
        "the flag (here its variable) beats the credential"
    );
    Ok(())
}

#[test]
fn missing_or_bad_connection_strings_are_usage_errors_before_terraform_runs() -> Result<()> {
    let pg = Pg::new()?;
    let out = pg
        .sb
        .runner(&["apply"], &[])?
        .expect(2, "no connection string")?;
    out.assert_stderr(
        "error: the config keeps the state in PostgreSQL (terraform.backend.pg), but no \
         connection string was found; pass --pg-connection-file FILE",
    );
    assert_eq!(
        pg.sb.last_apply()?["result"],
        "error",
        "recorded for monitoring"
    );
    let empty = pg.sb.file("empty", "\n")?;
    let out = pg
        .sb
        .runner(&["plan", "--pg-connection-file", &empty], &[])?
        .expect(2, "empty file")?;
    out.assert_stderr(&format!("the pg connection string file {empty} is empty"));
    let fifo = pg.sb.root.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()?
            .success()
    );
    let out = pg
        .sb
        .runner(
            &["init", "--pg-connection-file", fifo.to_str().unwrap()],
            &[],
        )?
        .expect(2, "a FIFO")?;
    out.assert_stderr("it is a FIFO, not a regular file");
    assert!(
        pg.sb.invocations().is_empty(),
        "terraform never ran: {:?}",
        pg.sb.verbs()
    );
    // With local state the file is never read, whatever it is.
    std::fs::write(&pg.sb.config, CONFIG)?;
    pg.sb
        .runner(
            &["apply", "--pg-connection-file", fifo.to_str().unwrap()],
            &[],
        )?
        .expect(0, "local state ignores the connection string file")?;
    assert!(
        pg.sb
            .invocations()
            .iter()
            .all(|c| !c.env.contains_key("PG_CONN_STR") && !c.env.contains_key("TF_WORKSPACE")),
        "local state: no PG_CONN_STR, no TF_WORKSPACE"
    );
    Ok(())
}

#[test]
fn on_failure_restore_is_refused_and_keep_is_the_default() -> Result<()> {
    let pg = Pg::new()?;
    for (args, env) in [
        (vec!["apply", "--on-failure", "restore"], vec![]),
        (
            vec!["destroy"],
            vec![("TAILSCALE_MANAGER_ON_FAILURE", "restore")],
        ),
    ] {
        let out = pg
            .run(&args, &env)?
            .expect(2, "restore with a remote backend")?;
        out.assert_stderr(
            "error: --on-failure restore (or TAILSCALE_MANAGER_ON_FAILURE=restore) cannot be \
             used with the pg state backend",
        );
        out.assert_stderr("would undo what another host wrote since");
    }
    assert!(pg.sb.invocations().is_empty(), "terraform never ran");
    Ok(())
}

#[test]
fn a_failed_apply_keeps_the_remote_state_and_pushes_nothing() -> Result<()> {
    let pg = Pg::new()?;
    std::fs::write(&pg.remote, state_json(4, &[("ci", "k1")]))?;
    let failed = pg.sb.saved_state(5, &[("ci", "k1"), ("new", "k2")])?;
    let diagnostic = pg.sb.file(
        "fail.jsonl",
        &diagnostic_line(
            "tailscale_tailnet_key.other",
            "Failed to create key",
            "(400)",
        ),
    )?;
    let out = pg
        .run(
            &["apply"],
            &[
                ("TF_FAKE_STATE", &failed),
                ("TF_FAKE_STDOUT", &diagnostic),
                ("TF_FAKE_EXIT", "1"),
            ],
        )?
        .expect(1, "a failed apply")?;
    out.assert_stderr("kept the pg state (workspace 'default') as terraform left it");
    assert!(
        !pg.sb
            .invocations()
            .iter()
            .any(|c| c.args.starts_with("state push")),
        "nothing pushed: {:?}",
        pg.sb.verbs()
    );
    assert_eq!(
        pg.remote().as_deref(),
        Some(state_json(5, &[("ci", "k1"), ("new", "k2")]).as_str()),
        "the remote state is what terraform left"
    );
    let last = pg.sb.last_apply()?;
    assert_eq!(last["result"], "error");
    assert_eq!(last["orphaned_resources"], json!([]), "no orphans: {last}");
    let backup = last["backup_path"].as_str().unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(backup)?,
        state_json(4, &[("ci", "k1")]),
        "the pre-run backup is the state pulled before"
    );
    let kept = last["failed_state_path"].as_str().unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(kept)?,
        state_json(5, &[("ci", "k1"), ("new", "k2")])
    );
    let (_, status) = pg.sb.status_json()?;
    assert_eq!(
        status["state"]["serial"], 5,
        "the snapshot was taken after the failure"
    );
    Ok(())
}

#[test]
fn an_unreachable_database_is_one_line_without_the_password() -> Result<()> {
    let pg = Pg::new()?;
    let out = pg
        .run(
            &["apply"],
            &[
                ("TF_FAKE_PULL_EXIT", "1"),
                ("TF_FAKE_ECHO_CONN", "1"),
                (
                    "TF_FAKE_STATE_ERROR",
                    "dial unix /run/postgresql/.s.PGSQL.5432: connect: no such file or directory",
                ),
            ],
        )?
        .expect(1, "the database is down")?;
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {}", out.stderr);
    assert!(
        errors[0].starts_with(
            "error: cannot read the pg state (workspace 'default'): terraform state pull exited \
             with status 1: "
        ) && errors[0].contains("dial unix /run/postgresql/.s.PGSQL.5432: connect")
            && errors[0].contains(&format!(
                "connection string in {}; nothing was changed",
                pg.conn_file
            )),
        "{}",
        errors[0]
    );
    pg.assert_no_password(&out.all(), "the output")?;
    pg.assert_no_password(
        &std::fs::read_to_string(pg.sb.layout.last_apply())?,
        "last-apply.json",
    )?;
    assert!(
        out.stderr.contains("[REDACTED]"),
        "the echoed string was scrubbed: {}",
        out.stderr
    );
    assert!(
        pg.sb.backups(Kind::Regular).is_empty() && pg.sb.state().is_none(),
        "nothing written"
    );
    Ok(())
}

/// The NixOS wrapper hands the connection string over as /dev/fd/N: what to check names the
/// file behind it, as every other message about it does.
#[test]
fn an_unreachable_database_names_the_file_behind_a_handed_over_descriptor() -> Result<()> {
    let pg = Pg::new()?;
    let file = std::fs::File::open(&pg.conn_file)?;
    let named = crate::descriptors::handed_over(&file)?;
    let out = pg
        .run(
            &["apply", "--pg-connection-file", &named],
            &[("TF_FAKE_PULL_EXIT", "1")],
        )?
        .expect(1, "the database is down")?;
    out.assert_stderr(&format!(
        "check that PostgreSQL is up and reachable with the connection string in {named} ({}); \
         nothing was changed",
        pg.conn_file
    ));
    Ok(())
}

#[test]
fn restore_state_pushes_a_backup_and_explains_a_refusal() -> Result<()> {
    let pg = Pg::new()?;
    let state = pg.sb.saved_state(2, &[("ci", "k1")])?;
    pg.run(&["apply"], &[("TF_FAKE_STATE", &state)])?
        .expect(0, "apply")?;
    pg.run(&["backup-state"], &[])?
        .expect(0, "backup-state pulls")?;
    let backup = pg.sb.backups(Kind::Regular).pop().expect("a backup");
    assert_eq!(
        std::fs::read_to_string(&backup)?,
        state_json(2, &[("ci", "k1")])
    );
    std::fs::write(&pg.remote, state_json(3, &[("other", "k9")]))?;
    let refusal =
        "Failed to write state: cannot import state with serial 2 over newer state with serial 3";
    let out = pg
        .run(
            &["restore-state"],
            &[("TF_FAKE_PUSH_EXIT", "1"), ("TF_FAKE_STATE_ERROR", refusal)],
        )?
        .expect(1, "terraform refuses the push")?;
    out.assert_stderr(refusal);
    out.assert_stderr(&format!(
        "to overwrite the remote state anyway, `tailscale-manager restore-state --force {}`",
        backup.display()
    ));
    assert_eq!(
        pg.remote().as_deref(),
        Some(state_json(3, &[("other", "k9")]).as_str()),
        "unchanged"
    );
    let out = pg
        .run(&["restore-state", "--force", backup.to_str().unwrap()], &[])?
        .expect(0, "forced")?;
    out.assert_stdout("backed up the pg state (workspace 'default') to ");
    let push = pg
        .sb
        .invocations()
        .into_iter()
        .rfind(|c| c.args.starts_with("state push"))
        .expect("a push");
    let copy = format!("{}/.restore-state.tmp-", pg.sb.state_dir.display());
    assert!(
        push.args.contains(" -force ") && push.args.contains(&copy),
        "-force, and the private copy of the backup: {}",
        push.args
    );
    assert_eq!(
        pg.remote().as_deref(),
        Some(state_json(2, &[("ci", "k1")]).as_str()),
        "restored"
    );
    let saved = pg.backed_up()?;
    assert!(
        saved.contains(&state_json(3, &[("other", "k9")])),
        "the replaced remote state is backed up"
    );
    let local = Sandbox::new()?;
    local.seed_state(&state_json(1, &[("ci", "k1")]))?;
    let out = local
        .runner(&["restore-state", "--force"], &[])?
        .expect(2, "local state")?;
    out.assert_stderr("restore-state --force only applies to a remote state backend");
    Ok(())
}

/// A state handed over open (`restore-state /dev/fd/N`, as for local state) reaches the remote
/// state too: terraform, which inherits no descriptor of ours, pushes a private copy of the very
/// bytes that were validated.
#[test]
fn restore_state_pushes_a_state_handed_over_open() -> Result<()> {
    let pg = Pg::new()?;
    let state = pg.sb.saved_state(2, &[("ci", "k1")])?;
    pg.run(&["apply"], &[("TF_FAKE_STATE", &state)])?
        .expect(0, "apply")?;
    let old = pg.sb.file("old.tfstate", &state_json(1, &[("a", "kA")]))?;
    let file = std::fs::File::open(&old)?;
    let named = crate::descriptors::handed_over(&file)?;
    let out = pg
        .run(&["restore-state", "--force", &named], &[])?
        .expect(0, "restore-state from a descriptor")?;
    assert_eq!(
        pg.remote().as_deref(),
        Some(state_json(1, &[("a", "kA")]).as_str()),
        "the state behind the descriptor was pushed"
    );
    out.assert_stdout(&format!("restored {named} ({old}) to the pg state"));
    let left: Vec<String> = std::fs::read_dir(&pg.sb.state_dir)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()?;
    assert!(
        !left.iter().any(|name| name.contains("restore")),
        "the copy pushed is gone: {left:?}"
    );
    Ok(())
}

/// With `--backup-count 1`, the backup of the remote state that restore-state replaces would
/// push out the very backup being restored: pruning waits until the push succeeded.
#[test]
fn restore_state_never_prunes_the_backup_it_pushes() -> Result<()> {
    let pg = Pg::new()?;
    let state = pg.sb.saved_state(2, &[("ci", "k1")])?;
    pg.run(
        &["apply", "--backup-count", "1"],
        &[("TF_FAKE_STATE", &state)],
    )?
    .expect(0, "apply")?;
    pg.run(&["backup-state", "--backup-count", "1"], &[])?
        .expect(0, "backup-state pulls")?;
    std::fs::write(&pg.remote, state_json(3, &[("other", "k9")]))?;
    pg.run(&["restore-state", "--backup-count", "1"], &[])?
        .expect(0, "the newest backup is pushed although only one is kept")?;
    assert_eq!(
        pg.remote().as_deref(),
        Some(state_json(2, &[("ci", "k1")]).as_str()),
        "the backup was pushed"
    );
    let saved = pg.backed_up()?;
    assert_eq!(
        saved,
        [state_json(3, &[("other", "k9")])],
        "one backup kept: the replaced remote state"
    );
    Ok(())
}

#[test]
fn a_local_state_moves_to_an_empty_remote_state_and_a_conflict_changes_nothing() -> Result<()> {
    let pg = Pg::new()?;
    let local = state_json(7, &[("ci", "k1")]);
    pg.sb.seed_state(&local)?;
    let out = pg
        .run(&["apply"], &[])?
        .expect(0, "apply that moves the local state")?;
    out.assert_stderr(&format!(
        "moved {} (1 object(s), serial 7) to the pg state (workspace 'default')",
        pg.sb.state_path().display()
    ));
    assert_eq!(
        pg.remote().as_deref(),
        Some(local.as_str()),
        "pushed as it was"
    );
    assert!(
        pg.sb.state().is_none(),
        "terraform.tfstate is gone from the state directory"
    );
    let kept = pg.sb.backups(Kind::Local);
    assert_eq!(kept.len(), 1, "the local copy is kept: {kept:?}");
    assert_eq!(std::fs::read_to_string(&kept[0])?, local);
    assert!(
        !pg.sb.state_dir.join(".backend-probe").exists(),
        "the probe is removed"
    );

    // Another local state whose key the remote state does not track: a conflict.
    let other = state_json(2, &[("ci", "kOTHER")]);
    pg.sb.seed_state(&other)?;
    let calls = pg.sb.invocations().len();
    let out = pg.run(&["apply"], &[])?.expect(2, "both hold resources")?;
    let path = pg.sb.state_path();
    out.assert_stderr(&format!(
        "error: {} and the pg state (workspace 'default') both hold resources: the local state \
         tracks 1 object(s) that the remote one does not (tailscale_tailnet_key.ci (id kOTHER)), \
         the remote one tracks 1; nothing was changed",
        path.display()
    ));
    out.assert_stderr(&format!(
        "`tailscale-manager restore-state --force {}`",
        path.display()
    ));
    assert_eq!(
        pg.sb.state().as_deref(),
        Some(other.as_str()),
        "the local state stays"
    );
    assert_eq!(
        pg.remote().as_deref(),
        Some(local.as_str()),
        "the remote state stays"
    );
    let pushes = pg.sb.invocations()[calls..]
        .iter()
        .filter(|c| c.args.starts_with("state push"))
        .count();
    assert_eq!(pushes, 0, "nothing pushed");
    let plan = pg
        .run(&["plan"], &[])?
        .expect(1, "plan with a local state waiting")?;
    plan.assert_stderr(
        "is a local state that has not moved to the pg state (workspace 'default') yet",
    );
    Ok(())
}

#[test]
fn switching_back_to_local_state_removes_the_snapshot() -> Result<()> {
    let pg = Pg::new()?;
    pg.run(&["apply"], &[])?.expect(0, "apply with pg")?;
    assert!(
        pg.sb.state_dir.join("remote-state.json").exists(),
        "a snapshot"
    );
    std::fs::write(&pg.sb.config, CONFIG)?;
    let out = pg
        .sb
        .runner(&["apply"], &[])?
        .expect(0, "apply with local state")?;
    out.assert_stderr("remote-state.json: the config keeps the state in terraform.tfstate again");
    assert!(
        !pg.sb.state_dir.join("remote-state.json").exists(),
        "the snapshot is gone"
    );
    let (_, status) = pg.sb.status_json()?;
    assert_eq!(status["state"]["backend"], "local", "{status}");
    let _: Value = status;
    Ok(())
}

/// What terraform 1.11's pg backend prints when a pull would create the workspace while
/// another run holds the backend's workspace-creation lock.
const CREATION_LOCKED: &str = "Error loading the state: failed to lock state in Postgres: \
                               Already locked for workspace creation: default";

#[test]
fn a_pull_that_met_the_workspace_creation_lock_runs_again() -> Result<()> {
    let pg = Pg::new()?;
    let failures = pg.sb.file("pull-failures", "2")?;
    let out = pg
        .run(
            &["apply", "--on-failure", "keep"],
            &[
                ("TF_FAKE_PULL_FAILURES", failures.as_str()),
                ("TF_FAKE_STATE_ERROR", CREATION_LOCKED),
            ],
        )?
        .expect(0, "the third pull finds the lock free")?;
    assert_eq!(
        out.stderr
            .matches("met another run's lock for creating a workspace; trying again")
            .count(),
        2,
        "each locked pull is said once: {}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&failures)?.trim(),
        "0",
        "both locked pulls were made"
    );
    Ok(())
}

#[test]
fn a_pull_gives_up_on_the_workspace_creation_lock_after_the_lock_timeout() -> Result<()> {
    let pg = Pg::new()?;
    let failures = pg.sb.file("pull-failures", "1000")?;
    let out = pg
        .run(
            &["apply", "--on-failure", "keep", "--lock-timeout", "1"],
            &[
                ("TF_FAKE_PULL_FAILURES", failures.as_str()),
                ("TF_FAKE_STATE_ERROR", CREATION_LOCKED),
            ],
        )?
        .expect(1, "the lock stays taken")?;
    out.assert_stderr("Already locked for workspace creation: default");
    let left: u32 = std::fs::read_to_string(&failures)?.trim().parse()?;
    assert!(
        (990..=998).contains(&left),
        "pulls again within the second, then gives up: {left} left"
    );
    Ok(())
}

#[test]
fn other_pull_failures_are_not_retried() -> Result<()> {
    let pg = Pg::new()?;
    let failures = pg.sb.file("pull-failures", "1")?;
    let out = pg
        .run(
            &["apply", "--on-failure", "keep"],
            &[
                ("TF_FAKE_PULL_FAILURES", failures.as_str()),
                ("TF_FAKE_STATE_ERROR", "pq: password authentication failed"),
            ],
        )?
        .expect(1, "a wrong password fails the run at once")?;
    assert!(
        !out.stderr.contains("trying again"),
        "no retry: {}",
        out.stderr
    );
    Ok(())
}
