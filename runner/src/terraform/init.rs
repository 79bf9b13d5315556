//! The one place that decides whether `terraform init` must run: before plan/apply when the
//! working directory is not initialised for this config's `terraform` block and this terraform
//! binary (the fingerprint in `DIR/.init-fingerprint`), and once more when terraform itself
//! still asks for it. With a remote backend, an init that met another host creating the
//! backend's tables at the same moment runs again.
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::config::layout::StateDir;
use crate::terraform::process::{Finished, Terraform};
use crate::util::console::errln;
use crate::util::outcome::{IoContext, one_line};
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
        init_in(self.tf, self.dir.root())?;
        self.fingerprint.record(self.dir)
    }

    /// Runs `terraform init` if the directory is not initialised for this config.
    pub fn ensure(&self) -> Result<()> {
        if self.fingerprint.needs_init(self.dir) {
            self.now()
        } else {
            errln!("terraform init: up to date, skipped");
            Ok(())
        }
    }

    /// Runs `command` (plan, apply or destroy, named `what`) after an init if one is needed;
    /// when terraform still asks for init, inits once and runs `command` again.
    pub fn around(&self, what: &str, command: impl Fn() -> Result<Finished>) -> Result<Finished> {
        self.ensure()?;
        self.retrying(what, command)
    }

    /// Runs `command` (named `what`) in a directory [`Init::ensure`] prepared; when terraform
    /// still asks for init, inits once and runs `command` again.
    pub fn retrying(&self, what: &str, command: impl Fn() -> Result<Finished>) -> Result<Finished> {
        let finished = command()?;
        if !finished.asks_for_init() {
            return Ok(finished);
        }
        errln!("terraform asks for init: running it and trying {what} again");
        self.now()?;
        command()
    }
}

/// How often an init that lost the race to create the backend's tables runs again.
const CONCURRENT_SETUP_RETRIES: u32 = 3;

/// `terraform init` in `cwd`, which must succeed. terraform's pg backend creates its schema,
/// sequence and table with `CREATE … IF NOT EXISTS`, which PostgreSQL does not make safe
/// against another session doing the same at the same moment: the loser fails with a unique
/// violation in the system catalogs (observed with three hosts' first runs). The objects exist
/// then, so the init runs again.
pub fn init_in(tf: &Terraform, cwd: &Path) -> Result<()> {
    let mut tries = 0;
    loop {
        let finished = tf.init_in(cwd)?;
        if finished.success() {
            return Ok(());
        }
        let message = one_line(&finished.error_message("init"));
        if !lost_setup_race(&message) || tries == CONCURRENT_SETUP_RETRIES {
            bail!(message);
        }
        tries += 1;
        errln!(
            "terraform init met another run creating the state backend's tables at the same \
             moment; trying again"
        );
        std::thread::sleep(Duration::from_millis(500 * u64::from(tries)));
    }
}

/// PostgreSQL's answers to a `CREATE … IF NOT EXISTS` that another session won: a unique
/// violation in a system catalog (`pg_namespace_nspname_index`, `pg_type_typname_nsp_index`,
/// `pg_class_relname_nsp_index`), or, when the other session committed between the check and
/// the create, `type "states" already exists` (seen in CI with two hosts' first runs) and its
/// relation and schema siblings.
fn lost_setup_race(message: &str) -> bool {
    const ALREADY_EXISTS: [&str; 3] = ["pq: type \"", "pq: relation \"", "pq: schema \""];
    message.contains("duplicate key value violates unique constraint \"pg_")
        || ALREADY_EXISTS
            .iter()
            .any(|object| message.contains(object) && message.contains("\" already exists"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_catalog_race_is_retried() {
        assert!(
            lost_setup_race(
                "terraform init exited with status 1: pq: duplicate key value violates unique \
                 constraint \"pg_type_typname_nsp_index\""
            ),
            "a unique violation in a system catalog is the setup race"
        );
        assert!(
            !lost_setup_race(
                "pq: duplicate key value violates unique constraint \"states_name_key\""
            ),
            "a violation in the backend's own table is not"
        );
        assert!(
            lost_setup_race(
                "terraform init exited with status 1: pq: type \"states\" already exists"
            ),
            "a composite type created by the other session is the same race"
        );
        assert!(
            lost_setup_race("pq: relation \"global_states_id_seq\" already exists"),
            "so is the sequence"
        );
        assert!(
            !lost_setup_race("pq: password authentication failed"),
            "other failures are not retried"
        );
    }

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
