//! What the user asked for: the command and the options, parsed once at the edge (`cli`).
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::layout::StateDir;

pub const DEFAULT_STATE_DIR: &str = "/var/lib/tailscale-manager";
pub const DEFAULT_BACKUP_COUNT: usize = 5;
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(300);
/// `status` marks devices whose node key expires within this many days.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 14;
/// The longest `--expiry-warning` (ten years): beyond it every key would warn.
pub const MAX_EXPIRY_WARNING_DAYS: u32 = 3650;
/// The workspace terraform uses when none is named.
pub const DEFAULT_WORKSPACE: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Init,
    Plan,
    /// apply or destroy: the commands recorded in last-apply.json.
    Action(Action),
    Status(StatusFormat),
    BackupState,
    /// `restore-state [FILE] [--force]`: `force` passes `-force` to `terraform state push`
    /// (a remote backend only).
    RestoreState {
        file: Option<PathBuf>,
        force: bool,
    },
    Version,
    Help,
}

/// What an apply-like command does; last-apply.json's `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Apply,
    Destroy,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Destroy => "destroy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFormat {
    Human,
    Json,
    Waybar,
    Prometheus,
    Oneline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Put the pre-run state back (what the original tool, tailscale-manager 0.3.0, did);
    /// list what that orphans.
    Restore,
    /// Keep the state terraform wrote: it records what really exists.
    Keep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub state_dir: StateDir,
    /// `--config`: the rendered main.tf.json to install.
    pub config: Option<PathBuf>,
    /// `--terraform`: a path, or a name looked up on PATH.
    pub terraform: Option<PathBuf>,
    pub backup_count: usize,
    pub credentials: Option<PathBuf>,
    /// `--on-failure`; None when not given: `restore` with local state, `keep` with a remote
    /// backend (where `restore` is refused, see `commands/setup.rs`).
    pub on_failure: Option<OnFailure>,
    pub lock_timeout: Duration,
    /// `--workspace`: the terraform workspace with a remote backend (`TF_WORKSPACE`); None:
    /// `default`.
    pub workspace: Option<String>,
    /// `--pg-connection-file`: the file holding the pg backend's connection string.
    pub pg_connection: Option<PathBuf>,
    /// `--expiry-warning`: the window, in days, in which `status` marks a device's node key as
    /// expiring soon.
    pub expiry_warning_days: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_written_in_lower_case() -> serde_json::Result<()> {
        assert_eq!(serde_json::to_string(&Action::Destroy)?, "\"destroy\"");
        assert_eq!(
            serde_json::from_str::<Action>("\"apply\"")?,
            Action::Apply,
            "last-apply.json's action reads back"
        );
        assert_eq!(Action::Destroy.as_str(), "destroy");
        Ok(())
    }
}
