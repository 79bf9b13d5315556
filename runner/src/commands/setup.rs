//! What the commands that change something share: the run lock (taken first, so two runs
//! never interleave) and the inputs they validate before touching anything.
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::Result;

use crate::config::credentials::{self, Credentials};
use crate::config::layout::StateDir;
use crate::config::options::{DEFAULT_WORKSPACE, OnFailure, Options};
use crate::config::pg_connection;
use crate::stores::lock::{self, RunLock};
use crate::stores::rendered::{Backend, RenderedConfig};
use crate::terraform::environment::{self, RemoteAccess};
use crate::terraform::process::Terraform;
use crate::util::console::errln;
use crate::util::outcome::{IoContext, usage};
use crate::util::signals;
use crate::util::{atomic, sys};

fn env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Creates the state directory if needed, takes the lock and clears what a killed run left.
pub fn lock(opts: &Options, command: &str) -> Result<RunLock> {
    signals::defer_termination();
    let dir = &opts.state_dir;
    atomic::private_dir(dir.root()).cannot("create the state directory", dir.root())?;
    not_root_in_another_users_directory(dir.root())?;
    let lock = lock::acquire(dir, command, opts.lock_timeout)?;
    atomic::remove_stale_temp_files(dir.root())?;
    atomic::remove_stale_temp_files(&dir.backups())?;
    let state = dir.state();
    if let Some(old) = atomic::tighten(&state).cannot("tighten the mode of", &state)? {
        errln!("tightened {} from mode {old:04o} to 0600", state.display());
    }
    Ok(lock)
}

/// Root writing into a state directory that belongs to another user (the NixOS service's)
/// would leave files that user can neither read nor replace: a state or backup the service
/// could not restore. So root only ever writes into its own; the NixOS wrapper drops to the
/// service's user before it runs the runner.
fn not_root_in_another_users_directory(dir: &Path) -> Result<()> {
    let meta = std::fs::metadata(dir).cannot("read the owner of", dir)?;
    if sys::effective_uid() != 0 || meta.uid() == 0 {
        return Ok(());
    }
    Err(usage(format!(
        "the state directory {} belongs to uid {}, but this runs as root: what it wrote there \
         would be root's, and that user could not read or replace it; run it as that user \
         (the NixOS module's `sudo tailscale-manager …` does, or `setpriv --reuid={} --regid={} \
         --init-groups tailscale-manager …`)",
        dir.display(),
        meta.uid(),
        meta.uid(),
        meta.gid()
    )))
}

/// The configuration to install: `--config`, or for destroy the already installed copy.
pub fn config(opts: &Options, command: &str) -> Result<RenderedConfig> {
    let installed = opts.state_dir.config();
    let path = match (&opts.config, command) {
        (Some(path), _) => path.clone(),
        (None, "destroy") if installed.is_file() => installed,
        (None, _) => {
            return Err(usage(format!(
                "{command} needs --config FILE (or TAILSCALE_MANAGER_CONFIG); \
                 pass the {} rendered by the NixOS module",
                StateDir::CONFIG
            )));
        }
    };
    RenderedConfig::read(&path)
}

/// The OAuth client credentials, from the first source that exists.
pub fn credentials(opts: &Options) -> Result<Credentials> {
    credentials::load(opts.credentials.as_deref(), &env)
}

/// What terraform needs for `backend`: nothing for local state; for a remote backend the
/// workspace and, for pg, the connection string (read now, so a missing one stops the command
/// before anything is touched).
pub fn remote_access(opts: &Options, backend: &Backend) -> Result<Option<RemoteAccess>> {
    let Some(kind) = backend.remote_kind() else {
        return Ok(None);
    };
    let pg = match kind {
        "pg" => Some(pg_connection::load(opts.pg_connection.as_deref(), &env)?),
        _ => None,
    };
    Ok(Some(RemoteAccess {
        backend: kind.to_string(),
        workspace: opts
            .workspace
            .clone()
            .unwrap_or_else(|| DEFAULT_WORKSPACE.to_string()),
        pg,
    }))
}

/// What apply and destroy do with the state after a failure: `--on-failure`, by default
/// restore; with a remote backend always keep, and an explicit restore is refused.
pub fn on_failure(opts: &Options, backend: &Backend) -> Result<OnFailure> {
    match (backend.remote_kind(), opts.on_failure) {
        (None, choice) => Ok(choice.unwrap_or(OnFailure::Restore)),
        (Some(kind), Some(OnFailure::Restore)) => Err(usage(format!(
            "--on-failure restore (or TAILSCALE_MANAGER_ON_FAILURE=restore) cannot be used with \
             the {kind} state backend (terraform.backend.{kind} in the config): pushing the \
             pre-run backup over the shared state would undo what another host wrote since, and \
             the remote state already records what exists; leave it out (with a remote backend \
             a failed run keeps the state, as --on-failure keep does)"
        ))),
        (Some(_), _) => Ok(OnFailure::Keep),
    }
}

/// The terraform binary, ready to run in the state directory under `lock`.
pub fn terraform(
    opts: &Options,
    credentials: Option<&Credentials>,
    remote: Option<&RemoteAccess>,
    lock: &RunLock,
) -> Result<Terraform> {
    let bin = environment::locate(opts.terraform.as_deref(), env("PATH").as_deref())?;
    Terraform::new(
        bin,
        &opts.state_dir,
        credentials,
        remote,
        opts.lock_timeout,
        lock,
    )
}
