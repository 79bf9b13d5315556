//! backup-state, restore-state and backup pruning across runs.
use anyhow::Result;

use test_support::files;

use crate::common::*;

#[test]
fn backups_are_pruned_to_the_count_and_stay_private() -> Result<()> {
    let sb = Sandbox::new()?;
    sb.seed_state(&state_json(1, &[("a", "kA")]))?;
    for _ in 0..6 {
        let out = sb.runner(&["apply", "--backup-count", "3"], &[])?;
        out.assert_exit(0);
    }
    let backups = sb.backups(Kind::Regular);
    assert_eq!(
        backups.len(),
        3,
        "exactly backup-count pre-run backups remain: {backups:?}"
    );
    for b in &backups {
        assert_eq!(mode(b), 0o600, "{b:?}");
    }
    assert_eq!(mode(&sb.state_dir.join("backups")), 0o700);
    assert_eq!(
        sb.last_apply()?["backup_path"].as_str(),
        Some(backups[2].to_str().unwrap()),
        "the newest backup is this run's and survives pruning"
    );
    Ok(())
}

#[test]
fn backup_state_copies_now_and_refuses_when_there_is_nothing() -> Result<()> {
    let sb = Sandbox::new()?;
    let out = sb
        .runner(
            &["backup-state"],
            &[("TAILSCALE_MANAGER_CREDENTIALS_FILE", "/nonexistent")],
        )?
        .expect(1, "no state: nothing to back up")?;
    out.assert_stderr("does not exist; nothing to back up");
    sb.seed_state(&state_json(4, &[("a", "kA")]))?;
    let out = sb
        .runner(
            &["backup-state"],
            &[("TAILSCALE_MANAGER_CREDENTIALS_FILE", "/nonexistent")],
        )?
        .expect(0, "needs no credentials")?;
    let backups = sb.backups(Kind::Regular);
    assert_eq!(backups.len(), 1, "one backup made");
    out.assert_stdout(backups[0].to_str().unwrap());
    assert_eq!(
        std::fs::read_to_string(&backups[0])?,
        state_json(4, &[("a", "kA")])
    );
    Ok(())
}

#[test]
fn restore_state_brings_back_the_newest_backup_after_saving_the_current_state() -> Result<()> {
    let sb = Sandbox::new()?;
    let old = state_json(4, &[("a", "kA")]);
    let current = state_json(9, &[("b", "kB")]);
    sb.seed_state(&old)?;
    sb.runner(&["backup-state"], &[])?.assert_exit(0);
    std::fs::write(sb.state_path(), &current)?;
    let out = sb.runner(&["restore-state"], &[])?;
    out.assert_exit(0);
    sb.assert_state(&old, "the newest backup is back");
    assert_eq!(mode(&sb.state_path()), 0o600, "files are private (0600)");
    let backups = sb.backups(Kind::Regular);
    assert_eq!(backups.len(), 2, "the first backup plus the replaced state");
    assert_eq!(
        std::fs::read_to_string(&backups[1])?,
        current,
        "the replaced state is saved"
    );
    Ok(())
}

#[test]
fn restore_state_from_a_file_validates_it_first() -> Result<()> {
    let sb = Sandbox::new()?;
    let current = state_json(9, &[("b", "kB")]);
    sb.seed_state(&current)?;
    let bad = sb.file("bad.tfstate", "{\"version\": 4, \"resources\": [")?;
    let out = sb.runner(&["restore-state", &bad], &[])?;
    out.assert_exit(1);
    out.assert_stderr("is not a valid terraform state");
    out.assert_stderr("nothing was changed");
    sb.assert_state(&current, "a refused restore changes nothing");
    assert!(
        sb.backups(Kind::Regular).is_empty(),
        "nothing backed up for a refused restore"
    );

    let good = sb.saved_state(2, &[("a", "kA")])?;
    let out = sb.runner(&["restore-state", &good], &[])?;
    out.assert_exit(0);
    sb.assert_state(&state_json(2, &[("a", "kA")]), "restored from FILE");
    Ok(())
}

#[test]
fn restore_state_without_backups_says_so() -> Result<()> {
    let sb = Sandbox::new()?;
    let out = sb.runner(&["restore-state"], &[])?;
    out.assert_exit(1);
    out.assert_stderr("holds no backups to restore");
    Ok(())
}

#[test]
fn newest_means_most_recently_made_after_the_clock_stepped_back() -> Result<()> {
    // A backup named while the clock was ahead (a host without an RTC, a clock corrected
    // later): everything made since must still count as newer.
    let sb = Sandbox::new()?;
    let ahead = sb.state_dir.join("backups/20990101T000000000000Z.tfstate");
    std::fs::create_dir_all(ahead.parent().unwrap())?;
    std::fs::write(&ahead, state_json(1, &[("old", "kOld")]))?;
    let current = state_json(5, &[("a", "kA")]);
    sb.seed_state(&current)?;
    sb.runner(&["backup-state", "--backup-count", "2"], &[])?
        .expect(0, "backup-state")?;
    let backups = sb.backups(Kind::Regular);
    let serials = backups
        .iter()
        .map(|b| Ok(files::read_json(b)?["serial"].clone()))
        .collect::<Result<Vec<_>>>()?;
    assert_eq!(
        serials,
        [1, 5],
        "the backup just made (serial 5) sorts last: {backups:?}"
    );
    let out = sb
        .runner(&["restore-state"], &[])?
        .expect(0, "restore-state")?;
    out.assert_stdout("already equals");
    sb.assert_state(&current, "restore-state takes the backup made last");
    sb.runner(&["backup-state", "--backup-count", "2"], &[])?
        .expect(0, "another backup")?;
    assert!(
        !ahead.exists(),
        "pruning removes the backup made first, whatever its name said"
    );
    Ok(())
}
