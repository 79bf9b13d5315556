//! Fleet scenarios p1–p7: the state in PostgreSQL (terraform's `pg` backend) on a private
//! cluster (`pg.rs`), shared by several "hosts" (state directories) running the real runner and
//! real terraform against one simulated tailnet (README "The e2e suite"). checks/e2e/run skips
//! this module, loudly, where PostgreSQL is not installed.
use std::fs;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use tailscale_manager::stores::backup::Kind;
use test_support::files;
use test_support::process::{alive, kill_tree};

use crate::common::{assert_no_secrets, assert_secrets_confined_at, example_key, wait_until};
use crate::pg::{Fleet, Host, key_ids, local_config, pg_config};

/// The pg config with these keys (name → resource body).
fn pg_config_with(keys: Value) -> Result<Value> {
    let mut config = pg_config()?;
    config["resource"]["tailscale_tailnet_key"] = keys;
    Ok(config)
}

/// The tailnet holds exactly the keys `workspace`'s remote state tracks: none untracked, none
/// missing.
fn assert_tailnet_is(fleet: &Fleet, workspace: &str, count: usize) -> Result<Vec<String>> {
    let remote = key_ids(&fleet.remote_state(workspace)?);
    let tailnet = fleet.world.tailnet_ids()?;
    ensure!(
        remote.len() == count && tailnet == remote,
        "the tailnet {tailnet:?} holds exactly the {count} key(s) the {workspace} state tracks {remote:?}"
    );
    Ok(remote)
}

/// Every line of `out` that starts with `error:`.
fn error_lines(out: &crate::common::Output) -> Vec<String> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn p1_three_hosts_apply_concurrently_five_times_without_duplicates() -> Result<()> {
    let fleet = Fleet::new()?;
    let keys = json!({ "managed_key": example_key()?, "second_key": example_key()? });
    fleet.world.set_config(&pg_config_with(keys)?)?;
    let hosts: Vec<Host> = ["a", "b", "c"]
        .iter()
        .map(|name| fleet.host(name, "default"))
        .collect();
    for round in 1..=5 {
        // All three start at once (the first round initialises the backend concurrently too).
        let runs = hosts
            .iter()
            .map(|host| host.spawn(&["apply"]))
            .collect::<Result<Vec<_>>>()?;
        for (host, run) in hosts.iter().zip(runs) {
            let out = run.finish()?;
            ensure!(
                out.code == Some(0),
                "round {round}, host {}: every run ends ok (or waits its turn): {out:?}",
                host.state.display()
            );
        }
    }
    let ids = assert_tailnet_is(&fleet, "default", 2)?;
    ensure!(
        fleet.world.creates()? == 2,
        "two creates in all, never a duplicate: {:?}",
        fleet.world.tailnet()?.events
    );
    for host in &hosts {
        ensure!(
            host.status_ids()? == ids,
            "{}'s snapshot lists the shared keys",
            host.state.display()
        );
        let last = host.last_apply()?;
        ensure!(last["result"] == "ok", "{last}");
        ensure!(
            !host.state.join("terraform.tfstate").exists(),
            "no local state on {}",
            host.state.display()
        );
    }
    let status = hosts[0].status()?;
    ensure!(
        status["state"]["backend"] == "pg" && status["state"]["workspace"] == "default",
        "status says whose snapshot it is: {}",
        status["state"]
    );
    Ok(())
}

#[test]
fn p2_a_reinstalled_host_adopts_the_existing_keys() -> Result<()> {
    let fleet = Fleet::new()?;
    let host = fleet.host("a", "default");
    host.apply()?.expect(0, "first apply")?;
    let ids = assert_tailnet_is(&fleet, "default", 1)?;
    fs::remove_dir_all(&host.state)?;
    host.apply()?.expect(0, "apply on the wiped host")?;
    let last = host.last_apply()?;
    ensure!(
        last["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "no new key: {last}"
    );
    ensure!(fleet.world.creates()? == 1, "one create in all");
    ensure!(
        assert_tailnet_is(&fleet, "default", 1)? == ids,
        "the same key"
    );
    ensure!(host.status_ids()? == ids, "status lists the adopted key");
    Ok(())
}

#[test]
fn p3_hosts_in_different_workspaces_keep_their_own_keys() -> Result<()> {
    let fleet = Fleet::new()?;
    let (a, b) = (fleet.host("a", "host-a"), fleet.host("b", "host-b"));
    let runs = [a.spawn(&["apply"])?, b.spawn(&["apply"])?];
    for run in runs {
        run.finish()?.expect(0, "apply in its own workspace")?;
    }
    let (ka, kb) = (
        assert_workspace_has_one(&fleet, &a)?,
        assert_workspace_has_one(&fleet, &b)?,
    );
    ensure!(ka != kb, "each workspace created its own key: {ka} {kb}");
    ensure!(
        fleet.world.tailnet_ids()?.len() == 2,
        "the tailnet holds both"
    );
    a.apply()?.expect(0, "a's second apply")?;
    ensure!(
        a.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "a's second apply changes nothing"
    );
    ensure!(
        assert_workspace_has_one(&fleet, &b)? == kb,
        "b's key is untouched"
    );
    ensure!(fleet.world.creates()? == 2, "two creates in all");
    Ok(())
}

/// The one key `host`'s workspace tracks, which its status lists too.
fn assert_workspace_has_one(fleet: &Fleet, host: &Host) -> Result<String> {
    let ids = key_ids(&fleet.remote_state(&host.workspace)?);
    ensure!(ids.len() == 1, "{}: one key: {ids:?}", host.workspace);
    ensure!(host.status_ids()? == ids, "{}'s status", host.workspace);
    Ok(ids[0].clone())
}

#[test]
fn p4_a_killed_host_releases_the_state_lock_and_the_others_proceed() -> Result<()> {
    let fleet = Fleet::new()?;
    let hosts: Vec<Host> = ["a", "b", "c"]
        .iter()
        .map(|name| fleet.host(name, "default"))
        .collect();
    // Initialised, so the others' runs reach the state lock quickly.
    for host in &hosts {
        host.run(&["init"])?.expect(0, "init")?;
    }
    fleet.world.tailnet_do(&["slow-create", "600"])?;
    let killed = hosts[0].spawn(&["apply"])?;
    fleet.world.wait_for_creates_started(1)?;
    // a's terraform holds the state lock (a PostgreSQL advisory lock) inside its create now.
    let waiting = [
        hosts[1].spawn(&["apply", "--lock-timeout", "90"])?,
        hosts[2].spawn(&["apply", "--lock-timeout", "90"])?,
    ];
    // Both have been refused the lock once at least: terraform's pg backend tries
    // `pg_try_advisory_lock` (internal/backend/remote-state/pg/client.go, `Lock`, terraform
    // v1.11.4) and retries within --lock-timeout; a's connection read the state after it.
    wait_until("b and c to be refused the state lock", || {
        let refused = fleet.pg.query(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = 'tfstate' AND query LIKE '%pg_try_advisory_lock%'",
        )?;
        Ok(refused
            .parse::<u32>()
            .with_context(|| format!("a count: {refused:?}"))?
            >= 2)
    })?;
    for run in &waiting {
        ensure!(
            alive(run.id()),
            "a host waits for the state lock while another applies"
        );
    }
    // The whole host dies at once (runner, terraform, provider), as systemd's final SIGKILL
    // does: the connection closes, and PostgreSQL releases its advisory lock with it.
    kill_tree(killed.id());
    let run = killed.finish()?;
    ensure!(run.code.is_none(), "the runner died of the signal: {run:?}");
    // Only now: turning the knob off releases a create in flight, which a's was until the kill.
    fleet.world.tailnet_do(&["slow-create", "0"])?;
    for run in waiting {
        let out = run.finish_within(Duration::from_secs(60))?;
        ensure!(
            out.code == Some(0),
            "the other hosts proceed once the lock is free: {out:?}"
        );
    }
    let ids = assert_tailnet_is(&fleet, "default", 1)?;
    ensure!(
        fleet.world.creates()? == 1,
        "the killed create never reached the tailnet; one key in all"
    );
    hosts[0]
        .apply()?
        .expect(0, "the killed host's next apply")?;
    ensure!(
        assert_tailnet_is(&fleet, "default", 1)? == ids,
        "no key untracked or added after the killed host's next run"
    );
    Ok(())
}

#[test]
fn p5_a_failed_apply_keeps_the_remote_state_and_pushes_nothing() -> Result<()> {
    let fleet = Fleet::new()?;
    let host = fleet.host("a", "default");
    host.apply()?.expect(0, "first apply")?;
    let before = fleet.remote_state("default")?;
    let example = example_key()?;
    fleet.world.set_config(&pg_config_with(
        json!({ "managed_key": example, "second_key": example, "third_key": example }),
    )?)?;
    let refused = host
        .run(&["apply", "--on-failure", "restore"])?
        .expect(2, "--on-failure restore with the pg backend")?;
    refused.assert_stderr("cannot be used with the pg state backend");
    fleet.world.tailnet_do(&["fail-creates", "1"])?;
    let out = host
        .apply()?
        .expect(1, "an apply whose second create fails")?;
    let last = host.last_apply()?;
    ensure!(last["result"] == "error", "{last}");
    let message = last["error_message"].as_str().unwrap_or_default();
    ensure!(!message.is_empty(), "the API error is recorded: {last}");
    ensure!(
        last["orphaned_resources"] == json!([]),
        "nothing orphaned: {last}"
    );
    out.assert_stderr("kept the pg state (workspace 'default') as terraform left it");
    let pushes: Vec<String> = fleet
        .world
        .terraform_log()?
        .into_iter()
        .filter(|argv| argv.starts_with("state push"))
        .collect();
    ensure!(pushes.is_empty(), "nothing pushed: {pushes:?}");
    let after = fleet.remote_state("default")?;
    let created = assert_tailnet_is(&fleet, "default", 2)?;
    ensure!(
        key_ids(&before).iter().all(|id| created.contains(id)),
        "the remote state keeps what terraform wrote, the first key and the one created: {created:?}"
    );
    ensure!(
        after["serial"].as_u64() > before["serial"].as_u64(),
        "terraform's own write, not a restore"
    );
    let backup = last["backup_path"].as_str().context("a pre-run backup")?;
    ensure!(
        key_ids(&files::read_json(backup.as_ref())?) == key_ids(&before),
        "the pre-run backup is the state before the run"
    );
    ensure!(
        host.status_ids()? == created,
        "the snapshot was taken after the failure"
    );
    host.apply()?.expect(0, "the next apply converges")?;
    assert_tailnet_is(&fleet, "default", 3)?;
    Ok(())
}

#[test]
fn p6_postgres_down_or_a_wrong_password_is_one_clear_line_and_changes_nothing() -> Result<()> {
    let fleet = Fleet::new()?;
    let host = fleet.host("a", "default");
    host.apply()?.expect(0, "first apply")?;
    let files_now = || -> Result<Vec<(String, Vec<u8>)>> {
        let mut found = Vec::new();
        for name in ["remote-state.json", "main.tf.json"] {
            found.push((name.to_string(), fs::read(host.state.join(name))?));
        }
        for backup in files::backups(&host.layout, Kind::Regular) {
            found.push((backup.display().to_string(), fs::read(&backup)?));
        }
        Ok(found)
    };
    let before = files_now()?;

    fleet.pg.stop()?;
    let out = host.apply()?.expect(1, "apply with PostgreSQL stopped")?;
    let errors = error_lines(&out);
    ensure!(
        errors.len() == 1
            && errors[0].starts_with("error: cannot read the pg state (workspace 'default'): ")
            && errors[0].contains("connect:")
            && errors[0].contains("check that PostgreSQL is up and reachable"),
        "one clear error line: {errors:?}\n{}",
        out.stderr
    );
    ensure!(files_now()? == before, "the local files are unchanged");
    ensure!(
        !host.state.join("terraform.tfstate").exists(),
        "no local state appears"
    );
    ensure!(
        host.last_apply()?["result"] == "error",
        "the failure is recorded for monitoring"
    );

    fleet.pg.restart()?;
    let right = fleet.pg.password().to_string();
    ensure!(!right.is_empty(), "the cluster has a password");
    let wrong = format!("Wr0ng-{}", "x".repeat(16));
    let secrets = [right.clone(), wrong.clone()];
    for (form, conn, says) in [
        (
            "key=value",
            fleet.pg.conn().replace(&right, &wrong),
            "password authentication failed for user",
        ),
        // Go's URL parser quotes the whole (malformed) URI, password included, in its error.
        (
            "a malformed URI",
            format!(
                "postgresql://postgres:{wrong}@[::1:5432/tfstate?host={}&sslmode=disable",
                fleet.pg.dir().display()
            ),
            "parse \"[REDACTED]\": missing ']' in host",
        ),
    ] {
        fs::write(&fleet.conn_file, format!("{conn}\n"))?;
        let out = host.apply()?.expect(1, &format!("apply with {form}"))?;
        let errors = error_lines(&out);
        ensure!(
            errors.len() == 1 && errors[0].contains(says),
            "{form}: one error line saying {says:?}:\n{}",
            out.stderr
        );
        assert_no_secrets(&secrets, &out.all(), &format!("{form}: the output"))?;
        for args in [
            &["status"][..],
            &["status", "--json"],
            &["status", "--oneline"],
        ] {
            let status = host.run(args)?;
            assert_no_secrets(&secrets, &status.all(), &format!("{form}: {args:?}"))?;
        }
        assert_secrets_confined_at(&fleet.world, &host.state, &secrets)?;
        ensure!(
            files_now()? == before,
            "{form}: the local files are unchanged"
        );
    }
    fs::write(&fleet.conn_file, format!("{}\n", fleet.pg.conn()))?;
    host.apply()?.expect(0, "apply with the right password")?;
    assert_secrets_confined_at(&fleet.world, &host.state, &secrets)?;
    Ok(())
}

#[test]
fn p7_local_states_move_to_pg_or_conflict_and_restore_state_pushes() -> Result<()> {
    let fleet = Fleet::new()?;
    let local = fleet.world.path("local.tf.json");
    fs::write(&local, serde_json::to_vec(&local_config()?)?)?;
    let local = local.to_str().context("UTF-8 path")?;

    // A host with local state switches to pg, whose workspace is empty: the state moves.
    let a = fleet.host("a", "fleet");
    a.run(&["apply", "--config", local])?
        .expect(0, "a: apply with local state")?;
    let a_local = fs::read(a.layout.state())?;
    let ka = fleet.world.tailnet_ids()?;
    let moved = a.apply()?.expect(0, "a: apply with pg")?;
    moved.assert_stderr("to the pg state (workspace 'fleet') (empty until now)");
    ensure!(
        !a.layout.state().exists(),
        "terraform.tfstate moved out of the state directory"
    );
    let kept = files::backups(&a.layout, Kind::Local);
    ensure!(
        kept.len() == 1 && fs::read(&kept[0])? == a_local,
        "the local copy is kept in backups/: {kept:?}"
    );
    ensure!(
        a.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "the moved state needs no change"
    );
    ensure!(
        assert_tailnet_is(&fleet, "fleet", 1)? == ka,
        "the remote state tracks the moved key"
    );

    // Another host with keys of its own: both hold resources, nothing changes.
    let b = fleet.host("b", "fleet");
    b.run(&["apply", "--config", local])?
        .expect(0, "b: apply with local state")?;
    let b_local = fs::read(b.layout.state())?;
    let serial = fleet.remote_state("fleet")?["serial"].clone();
    let out = b.apply()?.expect(2, "b: both states hold resources")?;
    let path = b.layout.state();
    out.assert_stderr(&format!(
        "{} and the pg state (workspace 'fleet') both hold resources",
        path.display()
    ));
    out.assert_stderr(&format!(
        "`tailscale-manager restore-state --force {}`",
        path.display()
    ));
    out.assert_stderr(&format!("`mv {} ", path.display()));
    ensure!(fs::read(&path)? == b_local, "b's local state is unchanged");
    ensure!(
        fleet.remote_state("fleet")?["serial"] == serial,
        "the remote state is unchanged"
    );
    ensure!(fleet.world.creates()? == 2, "a's key and b's own");

    // restore-state: a newer remote state refuses an older backup until --force.
    let keys = json!({ "managed_key": example_key()?, "second_key": example_key()? });
    fleet.world.set_config(&pg_config_with(keys)?)?;
    a.apply()?.expect(0, "a: apply a second key")?;
    let older = files::backups(&a.layout, Kind::Regular)
        .into_iter()
        .next()
        .context("a's first pre-run backup")?;
    let older = older.to_str().context("UTF-8 path")?;
    let refused = a
        .run(&["restore-state", older])?
        .expect(1, "restore-state of an older backup")?;
    refused.assert_stderr("cannot import state with serial");
    refused.assert_stderr(&format!(
        "`tailscale-manager restore-state --force {older}`"
    ));
    ensure!(
        key_ids(&fleet.remote_state("fleet")?).len() == 2,
        "the refused push changed nothing"
    );
    a.run(&["restore-state", "--force", older])?
        .expect(0, "restore-state --force")?;
    ensure!(
        key_ids(&fleet.remote_state("fleet")?) == ka,
        "the older backup is the remote state again"
    );
    ensure!(a.status_ids()? == ka, "the snapshot follows the push");

    // b's local state has another lineage: refused, then forced (b's keys become the state).
    let refused = b
        .run(&["restore-state", path.to_str().context("UTF-8")?])?
        .expect(1, "b: restore-state of its local state")?;
    refused.assert_stderr("cannot import state with lineage");
    b.run(&["restore-state", "--force", path.to_str().context("UTF-8")?])?
        .expect(0, "b: restore-state --force of its local state")?;
    b.apply()?.expect(
        0,
        "b: the local state is now the remote one, and moves aside",
    )?;
    ensure!(
        !path.exists() && files::backups(&b.layout, Kind::Local).len() == 1,
        "b's local state went to backups/"
    );
    Ok(())
}
