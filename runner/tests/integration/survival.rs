//! What operators and machines do to a run: the runner killed alone while terraform works, a
//! reader of the runner's output that goes away (`| head`, a dropped ssh session).
use anyhow::Result;
use serde_json::json;
use test_support::process::{SIGKILL, kill, run_with_reader_gone};

use crate::common::*;

/// The state before the run: one key, `a`.
fn state_a() -> String {
    state_json(3, &[("a", "kA")])
}

/// A prior state with key `a`; the apply's terraform creates `b`, prints its progress on
/// stdout and a line on stderr, and saves a state with both keys.
fn creating_b(sb: &Sandbox) -> Result<Vec<(&'static str, String)>> {
    sb.seed_state(&state_a())?;
    let saved = sb.saved_state(4, &[("a", "kA"), ("b", "kB")])?;
    let lines = apply_lines(&[("tailscale_tailnet_key.b", "kB")], Some((1, 0, 0)));
    Ok(vec![
        ("TF_FAKE_STATE", saved),
        ("TF_FAKE_STDOUT", sb.file("apply.jsonl", &lines)?),
        ("TF_FAKE_STDERR", "Warning: a line on stderr".to_string()),
    ])
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn the_runner_killed_alone_lets_terraform_finish_and_the_next_run_adopts_its_state() -> Result<()> {
    let sb = Sandbox::new()?;
    let env = creating_b(&sb)?;
    // terraform is busy for 2 s; it prints its progress only after the runner is gone.
    let (runner, terraform) = sb.spawn_slow_apply("2", &refs(&env))?;
    let runner_pid = runner.id();
    kill(runner_pid, SIGKILL); // the OOM killer, or `kill -9` of the runner alone
    let killed = runner.finish()?;
    assert_eq!(killed.code, None, "the runner died of SIGKILL: {killed:?}");

    let (_, status) = sb.status_json()?;
    let lock = &status["lock"];
    assert_eq!(
        (&lock["state"], &lock["pid"], &lock["terraform_pid"]),
        (&json!("finishing"), &json!(runner_pid), &json!(terraform)),
        "status says the killed run's terraform still works and holds the lock: {lock}"
    );

    let next = sb
        .runner(&["apply"], &[])?
        .expect(0, "the next run waits for that terraform, then applies")?;
    next.assert_stderr(&format!(
        "waiting up to 300s for terraform (pid {terraform}) of an interrupted apply run"
    ));
    next.assert_stderr("was interrupted");
    sb.assert_state(
        &state_json(4, &[("a", "kA"), ("b", "kB")]),
        "the orphaned terraform saved kB, and the next run kept it",
    );
    let last = sb.last_apply()?;
    assert_eq!(last["result"], "ok", "the next run is recorded: {last}");
    let backup = last["backup_path"].as_str().unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(backup)?,
        state_json(4, &[("a", "kA"), ("b", "kB")]),
        "the next run started from the state the orphaned terraform wrote"
    );
    let (_, status) = sb.status_json()?;
    assert_eq!(status["lock"]["state"], "idle", "{status}");
    Ok(())
}

#[test]
fn a_closed_output_never_aborts_an_apply_or_skips_its_record() -> Result<()> {
    // `tailscale-manager apply 2>&1 | head -c1`: the reader takes one byte and goes away.
    let sb = Sandbox::new()?;
    let mut env = creating_b(&sb)?;
    env.push(("TF_FAKE_SLEEP", "1".to_string()));
    let ended = run_with_reader_gone(&mut sb.command(&["apply"], &refs(&env)), true, PATIENCE)?;
    assert_eq!(
        ended.status.code(),
        Some(0),
        "the apply ends as it would with a reader: {ended:?}"
    );
    let last = sb.last_apply()?;
    assert_eq!(
        (last["result"].as_str(), &last["changes"]),
        (Some("ok"), &json!({"add": 1, "change": 0, "remove": 0})),
        "last-apply.json records the run: {last}"
    );
    sb.assert_state(
        &state_json(4, &[("a", "kA"), ("b", "kB")]),
        "terraform ran to its end and saved its state",
    );
    let (_, status) = sb.status_json()?;
    assert_eq!(status["lock"]["state"], "idle", "the run ended cleanly");
    Ok(())
}

#[test]
fn status_whose_reader_goes_away_exits_quietly() -> Result<()> {
    let sb = Sandbox::new()?;
    let keys: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("k{i}"), format!("kID{i}")))
        .collect();
    let keys: Vec<(&str, &str)> = keys.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    sb.seed_state(&state_json(1, &keys))?;
    sb.runner(&["apply"], &[])?
        .expect(0, "an apply to record")?;
    for format in [&[][..], &["--json"], &["--waybar"], &["--prometheus"]] {
        let args: Vec<&str> = ["status"]
            .into_iter()
            .chain(format.iter().copied())
            .collect();
        let ended = run_with_reader_gone(&mut sb.command(&args, &[]), false, PATIENCE)?;
        assert_eq!(
            (ended.status.code(), ended.stderr.as_str()),
            (Some(141), ""),
            "{args:?} stops without a word, exit 141 as for a tool stopped by SIGPIPE"
        );
    }
    Ok(())
}

#[test]
fn status_that_cannot_write_its_payload_fails() -> Result<()> {
    // `status --prometheus > f.tmp && mv f.tmp f.prom` on a full disk must not publish a
    // truncated file: the payload did not arrive, so the exit code is not 0.
    let sb = Sandbox::new()?;
    sb.runner(&["apply"], &[])?
        .expect(0, "an apply to record")?;
    for format in ["--json", "--waybar", "--prometheus", "--oneline"] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full")?;
        let out = Output::run(sb.command(&["status", format], &[]).stdout(full))?;
        out.assert_exit(1);
        assert_eq!(
            out.stderr,
            "error: cannot write the status to stdout: No space left on device (os error 28)\n",
            "status {format} says why"
        );
    }
    Ok(())
}
