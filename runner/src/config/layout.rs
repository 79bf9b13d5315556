//! The state directory: the one place that knows every file name in it.
//!
//! ```text
//! DIR/                      0700
//!   main.tf.json            the installed rendered config
//!   terraform.tfstate       terraform's local state
//!   .terraform/ .terraform.lock.hcl     terraform's own
//!   .init-fingerprint       what the last successful init was for
//!   backups/                0700, state backups
//!   last-apply.json         the result of the last apply or destroy
//!   .lock                   the run lock and who holds or held it
//!   remote-state.json       with a remote backend: the state as the last run pulled it
//!   .backend-probe/         while a local state moves to a remote backend: a working
//!                           directory for the backend alone
//! ```
use std::path::{Path, PathBuf};

/// The state directory (`--state-dir`) and the paths of the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// terraform's state file name, as messages name it.
    pub const STATE: &str = "terraform.tfstate";
    pub const CONFIG: &str = "main.tf.json";
    pub const LAST_APPLY: &str = "last-apply.json";
    pub const REMOTE_SNAPSHOT: &str = "remote-state.json";

    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `terraform.tfstate`.
    pub fn state(&self) -> PathBuf {
        self.root.join(Self::STATE)
    }

    /// `main.tf.json`: the installed copy of the rendered config.
    pub fn config(&self) -> PathBuf {
        self.root.join(Self::CONFIG)
    }

    /// `last-apply.json`.
    pub fn last_apply(&self) -> PathBuf {
        self.root.join(Self::LAST_APPLY)
    }

    /// `.lock`: the run lock.
    pub fn lock(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// `backups/`.
    pub fn backups(&self) -> PathBuf {
        self.root.join("backups")
    }

    /// `.init-fingerprint`: what the last successful `terraform init` was for.
    pub fn init_fingerprint(&self) -> PathBuf {
        self.root.join(".init-fingerprint")
    }

    /// `.terraform/`: terraform's working directory data (providers, modules).
    pub fn terraform_data(&self) -> PathBuf {
        self.root.join(".terraform")
    }

    /// `.terraform.lock.hcl`: terraform's dependency lock file.
    pub fn dependency_lock(&self) -> PathBuf {
        self.root.join(".terraform.lock.hcl")
    }

    /// `remote-state.json`: with a remote backend, the snapshot of the remote state that
    /// `status` reads (it never touches the network).
    pub fn remote_snapshot(&self) -> PathBuf {
        self.root.join(Self::REMOTE_SNAPSHOT)
    }

    /// `.backend-probe/`: a terraform working directory whose config declares only the remote
    /// backend, to reach the remote state while a local `terraform.tfstate` keeps terraform
    /// from initialising the state directory itself (see `commands/remote.rs`).
    pub fn backend_probe(&self) -> PathBuf {
        self.root.join(".backend-probe")
    }
}

#[cfg(test)]
impl StateDir {
    /// A fresh state directory for unit tests; it is removed when the guard drops.
    pub fn temporary() -> std::io::Result<(tempfile::TempDir, StateDir)> {
        let temp = tempfile::tempdir()?;
        let dir = StateDir::new(temp.path());
        Ok((temp, dir))
    }
}
