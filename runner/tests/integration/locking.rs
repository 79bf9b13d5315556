//! Two runs contending for the lock.
use std::time::Duration;

use anyhow::Result;

use crate::common::*;

/// Starts a slow apply and waits until it holds the lock and terraform is running.
fn start_slow_apply(sb: &Sandbox) -> Result<std::process::Child> {
    let pidfile = sb.root.path().join("tf.pid");
    let child = sb.spawn(
        &["apply"],
        &[
            ("TF_FAKE_SLEEP", "2"),
            ("TF_FAKE_PIDFILE", pidfile.to_str().unwrap()),
        ],
    )?;
    wait_until(
        Duration::from_secs(20),
        "the first run to reach terraform apply",
        || sb.verbs().last().is_some_and(|v| v == "apply"),
    )?;
    Ok(child)
}

#[test]
fn a_second_run_gives_up_after_the_lock_timeout_naming_the_holder() -> Result<()> {
    let sb = Sandbox::new()?;
    let first = start_slow_apply(&sb)?;
    let first_pid = first.id();
    let out = sb.run(&["apply", "--lock-timeout", "0"], &[])?;
    assert_eq!(out.code, Some(1), "lock timeout exits 1: {}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "error: another tailscale-manager run holds the lock (pid {first_pid}, since "
        )),
        "{}",
        out.stderr
    );
    let status = sb.run(&["status", "--json"], &[])?;
    let status: serde_json::Value = serde_json::from_str(&status.stdout)?;
    assert_eq!(
        status["lock"]["state"], "running",
        "status reads the lock without taking it"
    );
    assert_eq!(status["lock"]["pid"], first_pid);
    let out = first.wait_with_output()?;
    assert_eq!(out.status.code(), Some(0), "the first run is unaffected");
    assert_eq!(
        sb.last_apply()?["result"],
        "ok",
        "the loser did not overwrite the result"
    );
    Ok(())
}

#[test]
fn concurrent_applies_are_serialised_and_both_recorded() -> Result<()> {
    let sb = Sandbox::new()?;
    let first = start_slow_apply(&sb)?;
    let second = sb.spawn(
        &["apply", "--lock-timeout", "60"],
        &[("TF_FAKE_SLEEP", "1")],
    )?;
    let first = first.wait_with_output()?;
    let second = second.wait_with_output()?;
    let second_stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(first.status.code(), Some(0), "the first run succeeds");
    assert_eq!(second.status.code(), Some(0), "{second_stderr}");
    assert!(
        second_stderr.contains("waiting up to 60s for another tailscale-manager run"),
        "the waiting run says why it waits: {second_stderr}"
    );
    for out in [&first, &second] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("apply: ok (0 added, 0 changed, 0 removed)"),
            "{stderr}"
        );
    }
    assert_eq!(sb.last_apply()?["result"], "ok");
    let log = std::fs::read_to_string(&sb.log)?;
    let events: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("ARGS ") || l.starts_with("END "))
        .map(|l| l.split_whitespace().take(2).last().unwrap_or(""))
        .collect();
    assert_eq!(
        events,
        ["init", "init", "apply", "apply", "apply", "apply"],
        "each terraform run ends before the next starts; init only once"
    );
    Ok(())
}
