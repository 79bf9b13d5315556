//! `backup-state` and `restore-state`: copies of terraform.tfstate, made and put back by hand.
use std::path::Path;

use anyhow::{Result, anyhow, bail};

use crate::commands::setup;
use crate::config::layout::StateDir;
use crate::config::options::Options;
use crate::stores::backup::{self, Kind};
use crate::util::console::{errln, outln};
use crate::util::outcome::{IoContext, Outcome};
use crate::util::{atomic, regular, tfstate};

pub fn backup_state(opts: &Options) -> Result<Outcome> {
    let _lock = setup::lock(opts, "backup-state")?;
    let dir = &opts.state_dir;
    let state = dir.state();
    let Some(bytes) = tfstate::read(&state)? else {
        bail!("{} does not exist; nothing to back up", state.display());
    };
    if let Err(invalid) = tfstate::parse_from(&state, &bytes) {
        errln!("warning: {invalid}; backing it up anyway");
    }
    let saved = backup::save(dir, &bytes, Kind::Regular, opts.backup_count)?;
    outln!("backed up {} to {}", StateDir::STATE, saved.path.display());
    if !saved.pruned.is_empty() {
        outln!(
            "pruned {} old backup(s), keeping {}",
            saved.pruned.len(),
            opts.backup_count
        );
    }
    Ok(Outcome::Success)
}

pub fn restore_state(opts: &Options, file: Option<&Path>) -> Result<Outcome> {
    let _lock = setup::lock(opts, "restore-state")?;
    let dir = &opts.state_dir;
    let state = dir.state();
    let current = tfstate::read(&state)?;
    let source = match file {
        Some(file) => file.to_path_buf(),
        None => backup::list(dir, Kind::Regular)?
            .pop()
            .ok_or_else(|| anyhow!("{} holds no backups to restore", dir.backups().display()))?,
    };
    let bytes = regular::STATE_COPY
        .read(&source)
        .cannot("read the backup", &source)?;
    tfstate::parse_from(&source, &bytes)
        .map_err(|invalid| anyhow!("{invalid}; nothing was changed"))?;
    if current.as_deref() == Some(bytes.as_slice()) {
        outln!(
            "{} already equals {}; nothing to do",
            StateDir::STATE,
            regular::shown(&source)
        );
        return Ok(Outcome::Success);
    }
    if let Some(current) = &current {
        let saved = backup::save(dir, current, Kind::Regular, opts.backup_count)?;
        outln!(
            "backed up the current {} to {}",
            StateDir::STATE,
            saved.path.display()
        );
    }
    atomic::write(&state, &bytes).cannot("restore", &state)?;
    outln!(
        "restored {} to {}",
        regular::shown(&source),
        state.display()
    );
    Ok(Outcome::Success)
}
