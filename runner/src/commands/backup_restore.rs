//! `backup-state` and `restore-state`: copies of the state, made and put back by hand. With a
//! remote backend in the installed config the copy is `terraform state pull`'s and putting one
//! back is `terraform state push` (see `commands/remote.rs`).
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};

use crate::commands::remote::{Place, Remote};
use crate::commands::setup;
use crate::config::layout::StateDir;
use crate::config::options::Options;
use crate::stores::backup::{self, Kind, Saved};
use crate::stores::lock::RunLock;
use crate::stores::rendered;
use crate::terraform::init::Init;
use crate::terraform::remote::StateDoc;
use crate::util::console::{errln, outln};
use crate::util::outcome::{IoContext, Outcome, usage};
use crate::util::{atomic, regular, tfstate};

pub fn backup_state(opts: &Options) -> Result<Outcome> {
    let lock = setup::lock(opts, "backup-state")?;
    if let Some(outcome) = with_remote(opts, &lock, |remote, place| {
        let state = remote.pull(place)?;
        if !state.holds_anything() {
            bail!(
                "{} holds nothing yet; nothing to back up",
                remote.describe()
            );
        }
        let saved = backup::save(
            &opts.state_dir,
            &state.bytes,
            Kind::Regular,
            opts.backup_count,
        )?;
        remote.save_snapshot(&state)?;
        report_backup(&remote.describe(), &saved, opts.backup_count);
        Ok(Outcome::Success)
    })? {
        return Ok(outcome);
    }
    let dir = &opts.state_dir;
    let state = dir.state();
    let Some(bytes) = tfstate::read(&state)? else {
        bail!("{} does not exist; nothing to back up", state.display());
    };
    if let Err(invalid) = tfstate::parse_from(&state, &bytes) {
        errln!("warning: {invalid}; backing it up anyway");
    }
    let saved = backup::save(dir, &bytes, Kind::Regular, opts.backup_count)?;
    report_backup(StateDir::STATE, &saved, opts.backup_count);
    Ok(Outcome::Success)
}

fn report_backup(what: &str, saved: &Saved, keep: usize) {
    outln!("backed up {what} to {}", saved.path.display());
    if !saved.pruned.is_empty() {
        outln!(
            "pruned {} old backup(s), keeping {keep}",
            saved.pruned.len()
        );
    }
}

pub fn restore_state(opts: &Options, file: Option<&Path>, force: bool) -> Result<Outcome> {
    let lock = setup::lock(opts, "restore-state")?;
    if let Some(outcome) = with_remote(opts, &lock, |remote, place| {
        restore_remote(opts, remote, place, file, force)
    })? {
        return Ok(outcome);
    }
    if force {
        return Err(usage(
            "restore-state --force only applies to a remote state backend (terraform state push \
             -force); a local state is restored without it",
        ));
    }
    let dir = &opts.state_dir;
    let state = dir.state();
    let current = tfstate::read(&state)?;
    let (source, bytes) = to_restore(dir, file)?;
    if current.as_deref() == Some(bytes.as_slice()) {
        outln!(
            "{} already equals {}; nothing to do",
            StateDir::STATE,
            regular::shown(&source)
        );
        return Ok(Outcome::Success);
    }
    let saved = match &current {
        Some(current) => {
            let saved = backup::create(dir, current, Kind::Regular)?;
            outln!(
                "backed up the current {} to {}",
                StateDir::STATE,
                saved.display()
            );
            Some(saved)
        }
        None => None,
    };
    atomic::write(&state, &bytes).cannot("restore", &state)?;
    outln!(
        "restored {} to {}",
        regular::shown(&source),
        state.display()
    );
    prune_after_restore(opts, saved.as_deref())?;
    Ok(Outcome::Success)
}

/// Prunes the regular backups once the restore is done, not when the replaced state was backed
/// up: the backup being restored may be the oldest (or, with `--backup-count 1`, the only
/// other) one, and pruning first would delete it before it was put back.
fn prune_after_restore(opts: &Options, saved: Option<&Path>) -> Result<()> {
    let pruned = backup::prune(&opts.state_dir, Kind::Regular, opts.backup_count, saved)?;
    if !pruned.is_empty() {
        outln!(
            "pruned {} old backup(s), keeping {}",
            pruned.len(),
            opts.backup_count
        );
    }
    Ok(())
}

/// With a remote backend: back up the remote state, then push `file` (or the newest backup).
fn restore_remote(
    opts: &Options,
    remote: &Remote,
    place: &Place,
    file: Option<&Path>,
    force: bool,
) -> Result<Outcome> {
    let dir = &opts.state_dir;
    let (source, bytes) = to_restore(dir, file)?;
    let source = std::path::absolute(&source).cannot("resolve", &source)?;
    let wanted = StateDoc::parse(bytes)
        .map_err(|e| anyhow!("{} is not a valid terraform state ({e})", source.display()))?;
    let current = remote.pull(place)?;
    if current.exists()
        && (current.lineage.as_str(), current.serial) == (&wanted.lineage, wanted.serial)
    {
        outln!(
            "{} already equals {} (lineage {}, serial {}); nothing to do",
            remote.describe(),
            regular::shown(&source),
            wanted.lineage,
            wanted.serial
        );
        return Ok(Outcome::Success);
    }
    let saved = if current.holds_anything() {
        let saved = backup::create(dir, &current.bytes, Kind::Regular)?;
        outln!("backed up {} to {}", remote.describe(), saved.display());
        Some(saved)
    } else {
        None
    };
    remote.push_state(place, &wanted.bytes, &source, force)?;
    outln!(
        "restored {} to {}",
        regular::shown(&source),
        remote.describe()
    );
    remote.refresh_snapshot(place);
    prune_after_restore(opts, saved.as_deref())?;
    Ok(Outcome::Success)
}

/// The state to restore: `file`, or the newest regular backup; read and checked.
fn to_restore(dir: &StateDir, file: Option<&Path>) -> Result<(PathBuf, Vec<u8>)> {
    let source = match file {
        Some(file) => file.to_path_buf(),
        None => backup::list(dir, Kind::Regular)?
            .pop()
            .ok_or_else(|| anyhow!("{} holds no backups to restore", dir.backups().display()))?,
    };
    let bytes = regular::STATE_COPY.read(&source).map_err(|e| {
        anyhow!(
            "cannot read the state to restore {}: {e}; nothing was changed",
            regular::shown(&source)
        )
    })?;
    tfstate::parse_from(&source, &bytes)
        .map_err(|invalid| anyhow!("{invalid}; nothing was changed"))?;
    Ok((source, bytes))
}

/// When the installed config keeps the state in a remote backend: runs `command` with it and
/// where terraform reaches it (the state directory, initialised, or the probe while a local
/// state waits to move). None with local state: the caller goes on.
fn with_remote(
    opts: &Options,
    lock: &RunLock,
    command: impl FnOnce(&Remote, &Place) -> Result<Outcome>,
) -> Result<Option<Outcome>> {
    let dir = &opts.state_dir;
    let Some(config) = rendered::installed(dir)? else {
        return Ok(None);
    };
    let backend = config.backend();
    if backend.remote_kind().is_none() {
        return Ok(None);
    }
    let access = setup::remote_access(opts, &backend)?;
    let tf = setup::terraform(opts, None, access.as_ref(), lock)?;
    let Some(remote) = Remote::of(&tf, dir, &backend, access.as_ref()) else {
        return Ok(None);
    };
    let place = remote.place()?;
    if let Place::StateDir = place {
        Init::new(&tf, dir, config.value()).ensure()?;
    }
    command(&remote, &place).map(Some)
}
