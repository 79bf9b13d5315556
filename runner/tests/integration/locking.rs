//! Two runs contending for the lock.
use anyhow::Result;

use crate::common::*;

#[test]
fn a_second_run_gives_up_after_the_lock_timeout_naming_the_holder() -> Result<()> {
    let sb = Sandbox::new()?;
    let (first, _) = sb.spawn_slow_apply("2", &[])?;
    let first_pid = first.id();
    let out = sb
        .runner(&["apply", "--lock-timeout", "0"], &[])?
        .expect(1, "lock timeout exits 1")?;
    assert!(
        out.stderr.contains(&format!(
            "error: another tailscale-manager run holds the lock (pid {first_pid}, since "
        )),
        "{}",
        out.stderr
    );
    let (_, status) = sb.status_json()?;
    assert_eq!(
        status["lock"]["state"], "running",
        "status reads the lock without taking it"
    );
    assert_eq!(status["lock"]["pid"], first_pid);
    first.finish()?.expect(0, "the first run is unaffected")?;
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
    let (first, _) = sb.spawn_slow_apply("2", &[])?;
    let second = sb.spawn_runner(
        &["apply", "--lock-timeout", "60"],
        &[("TF_FAKE_SLEEP", "1")],
    )?;
    let first = first.finish()?.expect(0, "the first run succeeds")?;
    let second = second.finish()?.expect(0, "the waiting run succeeds")?;
    assert!(
        second
            .stderr
            .contains("waiting up to 60s for another tailscale-manager run"),
        "the waiting run says why it waits: {}",
        second.stderr
    );
    for out in [&first, &second] {
        out.assert_stderr("apply: ok (0 added, 0 changed, 0 removed)");
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
