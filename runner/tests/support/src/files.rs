//! Reading what the runner leaves in its state directory, the way the runner names it.
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;
use tailscale_manager::config::layout::StateDir;
use tailscale_manager::stores::backup::Kind;
use tailscale_manager::util::tfstate;

pub fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON:\n{text}", path.display()))
}

/// last-apply.json as JSON (tests check the documented schema, not the runner's types).
pub fn last_apply(dir: &StateDir) -> Result<Value> {
    read_json(&dir.last_apply())
}

/// The backups of `kind` in `backups/`, oldest first. Picked by suffix, independently of the
/// runner's own name check, so a bug there cannot hide here.
pub fn backups(dir: &StateDir, kind: Kind) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.backups()) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            let failed = name.ends_with(".failed.tfstate");
            let local = name.ends_with(".local.tfstate");
            match kind {
                Kind::Regular => name.ends_with(".tfstate") && !failed && !local,
                Kind::FailedRun => failed,
                Kind::Local => local,
            }
        })
        .collect();
    found.sort();
    found
}

/// `(address, id)` of every managed auth key in terraform.tfstate, sorted; empty without a
/// state.
pub fn state_keys(dir: &StateDir) -> Result<Vec<(String, String)>> {
    let path = dir.state();
    let Some(bytes) = tfstate::read(&path)? else {
        return Ok(Vec::new());
    };
    let state = tfstate::parse_from(&path, &bytes)?;
    let mut keys: Vec<(String, String)> =
        state.keys.into_iter().map(|k| (k.address, k.id)).collect();
    keys.sort();
    Ok(keys)
}

/// Names in `dir` that look like a temporary file (`.tmp` in them): a write that was not
/// finished or not cleaned up.
pub fn temporary_files(dir: &Path) -> Result<Vec<String>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    Ok(entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect())
}

/// The permission bits of `path`, 0 when it cannot be read.
pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}
