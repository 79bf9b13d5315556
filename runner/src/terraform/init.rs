//! The one place that decides whether `terraform init` must run: before plan/apply when the
//! working directory is not initialised for this config's `terraform` block and this terraform
//! binary (the fingerprint in `DIR/.init-fingerprint`), and once more when terraform itself
//! still asks for it.
use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::config::layout::StateDir;
use crate::terraform::process::{Finished, Terraform};
use crate::util::console::errln;
use crate::util::outcome::IoContext;
use crate::util::{atomic, regular};

/// What `init` depends on: the terraform binary (resolved path, size, mtime) and the config's
/// `terraform` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint(Value);

impl Fingerprint {
    pub fn of(bin: &std::path::Path, config: &Value) -> Self {
        let real = std::fs::canonicalize(bin).unwrap_or_else(|_| bin.to_path_buf());
        let meta = std::fs::metadata(&real).ok();
        let modified = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos().to_string());
        Fingerprint(serde_json::json!({
            "terraform": real.to_string_lossy(),
            "terraform_size": meta.map(|m| m.len()),
            "terraform_modified_ns": modified,
            "terraform_block": config.get("terraform"),
        }))
    }

    /// Whether `terraform init` must run in `dir` before plan/apply.
    pub fn needs_init(&self, dir: &StateDir) -> bool {
        let recorded = regular::RECORD
            .read(&dir.init_fingerprint())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        !dir.terraform_data().is_dir()
            || !dir.dependency_lock().is_file()
            || recorded.as_ref() != Some(&self.0)
    }

    /// Remembers a successful init.
    pub fn record(&self, dir: &StateDir) -> Result<()> {
        let bytes = serde_json::to_vec(&self.0).context("cannot serialize the init fingerprint")?;
        let path = dir.init_fingerprint();
        atomic::write(&path, &bytes).cannot("write", &path)
    }
}

/// `terraform init` for one command, its fingerprint computed once.
pub struct Init<'a> {
    tf: &'a Terraform,
    dir: &'a StateDir,
    fingerprint: Fingerprint,
}

impl<'a> Init<'a> {
    pub fn new(tf: &'a Terraform, dir: &'a StateDir, config: &Value) -> Self {
        Init {
            fingerprint: Fingerprint::of(&tf.bin, config),
            tf,
            dir,
        }
    }

    /// Runs `terraform init` now and remembers what it was for.
    pub fn now(&self) -> Result<()> {
        let finished = self.tf.init()?;
        if !finished.success() {
            bail!(finished.error_message("init"));
        }
        self.fingerprint.record(self.dir)
    }

    /// Runs `command` (plan, apply or destroy, named `what`) after an init if one is needed;
    /// when terraform still asks for init, inits once and runs `command` again.
    pub fn around(&self, what: &str, command: impl Fn() -> Result<Finished>) -> Result<Finished> {
        if self.fingerprint.needs_init(self.dir) {
            self.now()?;
        } else {
            errln!("terraform init: up to date, skipped");
        }
        let finished = command()?;
        if !finished.asks_for_init() {
            return Ok(finished);
        }
        errln!("terraform asks for init: running it and trying {what} again");
        self.now()?;
        command()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_needed_until_recorded_and_again_after_a_change() -> Result<()> {
        let (temp, dir) = StateDir::temporary()?;
        let bin = temp.path().join("terraform");
        std::fs::write(&bin, "v1")?;
        let config = serde_json::json!({"terraform": {"required_providers": {"tailscale": {"version": "~> 0.29"}}}});
        let fp = Fingerprint::of(&bin, &config);
        assert!(fp.needs_init(&dir), "never initialised");
        std::fs::create_dir(dir.terraform_data())?;
        std::fs::write(dir.dependency_lock(), "")?;
        assert!(fp.needs_init(&dir), "no fingerprint recorded yet");
        fp.record(&dir)?;
        assert!(!fp.needs_init(&dir), "nothing changed");
        let other_resources = serde_json::json!({
            "terraform": {"required_providers": {"tailscale": {"version": "~> 0.29"}}},
            "resource": {"tailscale_tailnet_key": {"x": {}}}
        });
        assert!(
            !Fingerprint::of(&bin, &other_resources).needs_init(&dir),
            "resources do not need init"
        );
        let new_version = serde_json::json!({"terraform": {"required_providers": {"tailscale": {"version": "~> 0.30"}}}});
        assert!(
            Fingerprint::of(&bin, &new_version).needs_init(&dir),
            "terraform block changed"
        );
        std::fs::write(&bin, "version two")?;
        assert!(
            Fingerprint::of(&bin, &config).needs_init(&dir),
            "binary changed"
        );
        std::fs::remove_file(dir.dependency_lock())?;
        assert!(fp.needs_init(&dir), "lock file gone");
        Ok(())
    }
}
