//! Runner death and closed pipes with real terraform (README "What survives which signal"):
//! the runner SIGKILLed alone at four points of a slow create, a dropped ssh session (SIGHUP),
//! and `apply 2>&1 | head -c1`. Afterwards every key in the tailnet is in the state, nothing
//! is torn, and nothing the test started still runs.

use anyhow::{Result, ensure};
use serde_json::json;
use tailscale_manager::util::sys::SIGHUP;
use test_support::process::{SIGKILL, processes_using, run_with_reader_gone};

use super::{applied_world, assert_converged, stop_during_a_create};
use crate::common::{
    PATIENCE, World, assert_no_torn_files, example_key, kill, terraform_child, wait_until,
};

/// Where the runner is when it is killed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Point {
    /// terraform runs, but has not called the API yet.
    BeforeTheApiCall,
    /// The API has created the key and not answered yet (`--commit before-sleep`).
    WhileTheApiCreates,
    /// The API answered: terraform is about to save the key.
    AfterTheCreateReturned,
}

/// Kills the runner of a running apply alone at `point`, then checks what the operator sees:
/// `status` names the terraform that is finishing the run, the next apply waits for it and
/// adopts its state, and then the tailnet holds exactly the `keys` the state tracks, with one
/// create for the key (none made twice), nothing is torn and nothing the run started still
/// runs. Every check runs; the error lists each one that failed.
fn kill_the_runner_alone(
    world: &World,
    point: Point,
    creates_before: usize,
    keys: usize,
) -> Result<()> {
    let runner = world.spawn_runner(&["apply"])?;
    let pid = runner.id();
    let terraform = match point {
        Point::BeforeTheApiCall => {
            wait_until("terraform apply to start", || {
                Ok(world
                    .terraform_log()?
                    .iter()
                    .any(|l| l.starts_with("apply")))
            })?;
            let terraform = terraform_child(pid)?;
            ensure!(
                world.tailnet()?.count("create_started") == creates_before,
                "the kill must come before the API call"
            );
            terraform
        }
        Point::WhileTheApiCreates => {
            wait_until("the key to exist", || {
                Ok(world.creates()? == creates_before + 1)
            })?;
            terraform_child(pid)?
        }
        Point::AfterTheCreateReturned => {
            let terraform = terraform_child(pid)?;
            wait_until("the create to return", || {
                Ok(world.creates()? == creates_before + 1)
            })?;
            terraform
        }
    };
    kill(pid, SIGKILL);
    let killed = runner.finish()?;
    ensure!(
        killed.code.is_none(),
        "{point:?}: the runner died: {killed:?}"
    );
    let mut problems = Vec::new();

    let (_, status) = world.status_json()?;
    let lock = &status["lock"];
    let finishing = (json!("finishing"), json!(pid), json!(terraform));
    let seen = (
        lock["state"].clone(),
        lock["pid"].clone(),
        lock["terraform_pid"].clone(),
    );
    // After the create returned, terraform only saves the key and exits: it may be gone
    // before status reads the lock, or before the next apply starts.
    let may_end = point == Point::AfterTheCreateReturned;
    let ended = may_end && lock["state"] == "interrupted";
    if seen != finishing && !ended {
        problems.push(format!(
            "status does not say that the killed run's terraform (pid {terraform}) is finishing: \
             {lock}"
        ));
    }

    let next = world.apply()?;
    if next.code != Some(0)
        || !next.stderr.contains(&format!("apply run (pid {pid}"))
        || !next.stderr.contains("was interrupted")
    {
        problems.push(format!(
            "the next apply does not succeed saying that the run of pid {pid} was interrupted: \
             {next:?}"
        ));
    }
    let waited = next
        .stderr
        .contains(&format!("for terraform (pid {terraform})"));
    if !may_end && !waited {
        problems.push("the next apply did not wait for the orphaned terraform".into());
    }
    let left = processes_using(world.root());
    if !left.is_empty() {
        problems.push(format!(
            "the orphaned terraform or its providers still run: {left:?}"
        ));
    }
    if let Err(e) = assert_converged(world, keys) {
        problems.push(format!("{e:#}"));
    }
    let creates = world.creates()?;
    if creates != creates_before + 1 {
        problems.push(format!(
            "{creates} creates in all, not {}: the key being created was made again",
            creates_before + 1
        ));
    }
    ensure!(problems.is_empty(), "{point:?}:\n{}", problems.join("\n"));
    Ok(())
}

/// Runs `scenario` and shows its error: a [`World`] that still finds processes of the test
/// when it is dropped panics, and that panic would hide the error.
fn shown(world: World, scenario: impl FnOnce(&World) -> Result<()>) -> Result<()> {
    let result = scenario(&world);
    if let Err(e) = &result {
        println!("Error: {e:#}");
    }
    drop(world);
    result
}

/// A world with one applied key whose config now asks for a second one; every create is slow.
fn second_key_pending(commit: &str) -> Result<World> {
    let (world, _, _) = applied_world()?;
    let mut keys = world.read_json(&world.config)?["resource"]["tailscale_tailnet_key"].clone();
    keys["second_key"] = example_key()?;
    world.set_keys(keys)?;
    world.tailnet_do(&["slow-create", "5", "--commit", commit])?;
    Ok(world)
}

#[test]
fn s1_runner_killed_alone_before_the_api_call() -> Result<()> {
    shown(second_key_pending("after-sleep")?, |world| {
        kill_the_runner_alone(world, Point::BeforeTheApiCall, 1, 2)
    })
}

#[test]
fn s2_runner_killed_alone_while_the_api_creates() -> Result<()> {
    shown(second_key_pending("before-sleep")?, |world| {
        kill_the_runner_alone(world, Point::WhileTheApiCreates, 1, 2)
    })
}

#[test]
fn s3_runner_killed_alone_after_the_create_returned() -> Result<()> {
    shown(second_key_pending("after-sleep")?, |world| {
        kill_the_runner_alone(world, Point::AfterTheCreateReturned, 1, 2)
    })
}

#[test]
fn s4_runner_killed_alone_during_a_replacement() -> Result<()> {
    let (world, _, old) = applied_world()?;
    world.tailnet_do(&["expire", "--all"])?;
    world.tailnet_do(&["slow-create", "5", "--commit", "before-sleep"])?;
    shown(world, |world| {
        kill_the_runner_alone(world, Point::WhileTheApiCreates, 1, 1)?;
        ensure!(
            world.tailnet_ids()? != old,
            "the expired key {old:?} was replaced"
        );
        Ok(())
    })
}

#[test]
fn f6_sighup_from_a_dropped_session_lets_terraform_finish() -> Result<()> {
    // `sudo tailscale-manager apply` over ssh, and the connection drops: the terminal's hangup
    // reaches the runner's process group (sudo relays it).
    stop_during_a_create(SIGHUP, true)
}

#[test]
fn s5_apply_whose_reader_goes_away_still_finishes_and_records() -> Result<()> {
    // `tailscale-manager apply 2>&1 | head -c1`.
    let world = World::new()?;
    world.tailnet_do(&["slow-create", "2"])?;
    let mut apply = world.runner_command(&["apply"])?;
    let ended = run_with_reader_gone(&mut apply, true, PATIENCE)?;
    ensure!(
        ended.status.code() == Some(0),
        "the apply ends as it would with a reader: {ended:?}"
    );
    let last = world.last_apply()?;
    ensure!(
        last["result"] == "ok" && last["changes"]["add"] == 1,
        "last-apply.json records the run: {last}"
    );
    assert_converged(&world, 1)?;
    assert_no_torn_files(&world)?;
    let (_, status) = world.status_json()?;
    ensure!(
        status["lock"]["state"] == "idle",
        "the run ended cleanly: {status}"
    );
    Ok(())
}
