//! `apply` and `destroy`: lock, validate, back up, install, init if needed, run terraform; on
//! failure keep what terraform left and restore (or keep) the state; record last-apply.json.
//! With a remote backend (`commands/remote.rs`) the state is pulled for the backup, a local
//! state left from before moves there first, a failure always keeps the state, and the state is
//! pulled again afterwards for `status`'s snapshot.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow};
use serde_json::Map;

use crate::commands::remote::{Place, Remote};
use crate::commands::setup;
use crate::config::layout::StateDir;
use crate::config::options::{Action, OnFailure, Options};
use crate::stores::backup::{self, Kind};
use crate::stores::last_apply::{self, Changes, ErrorDetails, LastApply, ResultKind};
use crate::stores::lock::RunLock;
use crate::stores::rendered::RenderedConfig;
use crate::stores::snapshot;
use crate::terraform::hints;
use crate::terraform::init::Init;
use crate::terraform::process::{Finished, Terraform};
use crate::util::console::errln;
use crate::util::outcome::{IoContext, Outcome};
use crate::util::tfstate::{self, Object, State};
use crate::util::{atomic, clock, scrub};

pub fn apply(opts: &Options, action: Action) -> Result<Outcome> {
    let lock = setup::lock(opts, action.as_str())?;
    let mut attempt = Attempt {
        opts,
        action,
        started: Instant::now(),
        on_failure: OnFailure::Restore,
        remote: None,
        before: None,
        backup: None,
    };
    let result = attempt.steps(&lock);
    if let Err(err) = &result {
        // Every failure is recorded for monitoring, not only terraform's.
        let message = last_apply::truncate_message(&scrub::redact_tokens(&format!("{err:#}")));
        if let Err(write_err) = attempt.record(None, Some(ErrorDetails::message(message))) {
            errln!("error: {write_err:#}");
        }
    }
    result
}

/// One apply or destroy, from validation to last-apply.json.
struct Attempt<'a> {
    opts: &'a Options,
    action: Action,
    started: Instant,
    on_failure: OnFailure,
    /// With a remote backend, its state as messages name it.
    remote: Option<String>,
    /// The state before terraform ran (None: there was none), validated.
    before: Option<Before>,
    /// The backup of `before` this run made.
    backup: Option<PathBuf>,
}

/// The state before terraform ran: its bytes and what they hold.
struct Before {
    bytes: Vec<u8>,
    state: State,
}

impl Attempt<'_> {
    fn dir(&self) -> &StateDir {
        &self.opts.state_dir
    }

    /// The state as messages name it: `terraform.tfstate`, or the remote state.
    fn state_name(&self) -> &str {
        self.remote.as_deref().unwrap_or(StateDir::STATE)
    }

    /// The whole command, step by step.
    fn steps(&mut self, lock: &RunLock) -> Result<Outcome> {
        // Everything is validated before anything is touched.
        let config = setup::config(self.opts, self.action.as_str())?;
        let backend = config.backend();
        self.on_failure = setup::on_failure(self.opts, &backend)?;
        let credentials = setup::credentials(self.opts)?;
        let access = setup::remote_access(self.opts, &backend)?;
        let tf = setup::terraform(self.opts, Some(&credentials), access.as_ref(), lock)?;
        let dir = &self.opts.state_dir;
        let init = Init::new(&tf, dir, config.value());
        match Remote::of(&tf, dir, &backend, access.as_ref()) {
            Some(remote) => self.remote_steps(&config, &tf, &init, &remote),
            None => self.local_steps(&config, &tf, &init),
        }
    }

    /// With terraform.tfstate in the state directory.
    fn local_steps(
        &mut self,
        config: &RenderedConfig,
        tf: &Terraform,
        init: &Init,
    ) -> Result<Outcome> {
        self.before = self.read_state()?;
        self.back_up()?;
        config.install(self.dir())?;
        if snapshot::remove(self.dir())? {
            errln!(
                "removed {}: the config keeps the state in {} again",
                self.dir().remote_snapshot().display(),
                StateDir::STATE
            );
        }
        let finished = init.around(self.action.as_str(), || tf.apply(self.action))?;
        if finished.success() {
            return self.succeeded(&finished);
        }
        let after = tfstate::read(&self.dir().state())?;
        self.failed(tf, &finished, after)
    }

    /// With the state in a remote backend.
    fn remote_steps(
        &mut self,
        config: &RenderedConfig,
        tf: &Terraform,
        init: &Init,
        remote: &Remote,
    ) -> Result<Outcome> {
        self.remote = Some(remote.describe());
        config.install(self.dir())?;
        remote.settle_local()?;
        let pull = init.around("state pull", || tf.state_pull(self.dir().root()))?;
        let pulled = remote.pulled(pull)?;
        if pulled.holds_anything() {
            let state = tfstate::parse(&pulled.bytes).map_err(|e| {
                anyhow!(
                    "{} is not a valid terraform state ({e}); nothing was changed",
                    remote.describe()
                )
            })?;
            self.before = Some(Before {
                bytes: pulled.bytes,
                state,
            });
        }
        self.back_up()?;
        let finished = init.retrying(self.action.as_str(), || tf.apply(self.action))?;
        let after = remote
            .refresh_snapshot(&Place::StateDir)
            .filter(|state| state.holds_anything());
        if finished.success() {
            return self.succeeded(&finished);
        }
        self.failed(tf, &finished, after.map(|state| state.bytes))
    }

    /// The current state, which must be valid: a corrupt one stops the run before it is
    /// backed up (it would push good backups out).
    fn read_state(&self) -> Result<Option<Before>> {
        let path = self.dir().state();
        let Some(bytes) = tfstate::read(&path)? else {
            return Ok(None);
        };
        let state = tfstate::parse_from(&path, &bytes).map_err(|invalid| {
            anyhow!(
                "{invalid}; nothing was changed; put a good state back with \
                 `tailscale-manager restore-state` (newest backup) or `restore-state FILE`"
            )
        })?;
        Ok(Some(Before { bytes, state }))
    }

    fn back_up(&mut self) -> Result<()> {
        let Some(before) = &self.before else {
            return Ok(());
        };
        let saved = backup::save(
            self.dir(),
            &before.bytes,
            Kind::Regular,
            self.opts.backup_count,
        )
        .map_err(|e| anyhow!("{e:#}; nothing was changed"))?;
        errln!(
            "backed up {} to {}",
            self.state_name(),
            saved.path.display()
        );
        self.backup = Some(saved.path);
        Ok(())
    }

    fn succeeded(&self, finished: &Finished) -> Result<Outcome> {
        let changes = finished.log.changes().unwrap_or_default();
        self.record(Some(changes), None)?;
        errln!(
            "{}: ok ({} added, {} changed, {} removed)",
            self.action.as_str(),
            changes.add,
            changes.change,
            changes.remove
        );
        Ok(Outcome::Success)
    }

    /// Terraform failed (`finished`), leaving the state `after`: keep what it left, restore
    /// (or keep) the state, list orphans.
    fn failed(
        &self,
        tf: &Terraform,
        finished: &Finished,
        after: Option<Vec<u8>>,
    ) -> Result<Outcome> {
        let verb = self.action.as_str();
        let message = last_apply::truncate_message(&tf.scrub(&finished.error_message(verb)));
        let changes = finished.log.changes();
        if after.as_deref() == self.before.as_ref().map(|b| b.bytes.as_slice()) {
            errln!(
                "error: {verb} failed; {} was not changed",
                self.state_name()
            );
            errln!("{message}");
            self.record(changes, Some(ErrorDetails::message(message)))?;
            return Ok(Outcome::Failed);
        }
        let failed_state = self.keep_failed_state(after.as_deref())?;
        let orphans = match self.on_failure {
            OnFailure::Keep if self.remote.is_some() => {
                errln!(
                    "kept {} as terraform left it (a remote state is never restored: another \
                     host may have written it since)",
                    self.state_name()
                );
                Vec::new()
            }
            OnFailure::Keep => {
                errln!("kept the state terraform wrote (--on-failure keep)");
                Vec::new()
            }
            OnFailure::Restore => self.restore(after.as_deref())?,
        };
        errln!("error: {verb} failed");
        errln!("{message}");
        for o in &orphans {
            let adopt = match &failed_state {
                Some(path) => format!(
                    ", or track it again with `tailscale-manager restore-state {}`",
                    path.display()
                ),
                None => String::new(),
            };
            errln!(
                "warning: orphaned {} (id {}): {}{adopt}",
                o.address,
                o.id,
                orphan_remedy(&o.address)
            );
        }
        let details = ErrorDetails {
            error_message: message,
            failed_state_path: failed_state.as_deref().map(last_apply::path_string),
            orphaned_resources: orphans,
        };
        self.record(changes, Some(details))?;
        Ok(Outcome::Failed)
    }

    /// Saves the state terraform left before anything overwrites it. If that fails we stop
    /// here and leave terraform's state in place: it records what really exists.
    fn keep_failed_state(&self, after: Option<&[u8]>) -> Result<Option<PathBuf>> {
        let Some(bytes) = after else {
            return Ok(None);
        };
        let saved = backup::save(self.dir(), bytes, Kind::FailedRun, self.opts.backup_count)
            .map_err(|e| {
                let place = match &self.remote {
                    Some(remote) => remote.clone(),
                    None => self.dir().state().display().to_string(),
                };
                anyhow!("{e:#}; the state the failed run left stays in {place}")
            })?;
        errln!("saved the state terraform left to {}", saved.path.display());
        Ok(Some(saved.path))
    }

    /// Puts the pre-run state back and returns what that orphans.
    fn restore(&self, after: Option<&[u8]>) -> Result<Vec<Object>> {
        let path = self.dir().state();
        match &self.before {
            Some(before) => atomic::write(&path, &before.bytes),
            None => atomic::remove(&path),
        }
        .cannot("restore", &path)?;
        errln!("restored {} to its state before this run", StateDir::STATE);
        let failed = match after
            .map(|bytes| tfstate::parse_from(&path, bytes))
            .transpose()
        {
            Ok(failed) => failed.unwrap_or_default(),
            Err(invalid) => {
                errln!("warning: {invalid}; cannot list the orphaned resources");
                return Ok(Vec::new());
            }
        };
        Ok(tfstate::orphans(
            &failed,
            self.before.as_ref().map(|b| &b.state),
        ))
    }

    fn record(&self, changes: Option<Changes>, error: Option<ErrorDetails>) -> Result<()> {
        let record = LastApply {
            timestamp: clock::iso_micros(clock::now()),
            result: match error {
                Some(_) => ResultKind::Error,
                None => ResultKind::Ok,
            },
            action: self.action,
            duration_ms: self.started.elapsed().as_millis() as u64,
            backup_path: self.backup.as_deref().map(last_apply::path_string),
            changes,
            error,
            unknown: Map::new(),
        };
        last_apply::write(self.dir(), &record)
    }
}

/// What an orphan of this resource type means for the tailnet and what the operator does
/// about it. A key lives on until deleted; the policy and the DNS settings are singletons the
/// failed run set, which the next apply declares again.
fn orphan_remedy(address: &str) -> &'static str {
    match hints::resource_type(address).as_deref() {
        Some("tailscale_tailnet_key") => {
            "it exists in the tailnet but is no longer in the state; delete it in the admin \
             console (Settings → Keys)"
        }
        Some("tailscale_acl") => {
            "the tailnet keeps the policy the failed run set, which the state no longer \
             tracks; the next apply meets overwrite protection unless \
             services.tailscale-manager.acl.overwriteExisting = true"
        }
        Some("tailscale_dns_configuration") => {
            "the tailnet keeps the DNS settings the failed run set, which the state no longer \
             tracks; the next apply sets the declared ones again"
        }
        _ => "it exists but is no longer in the state; delete it where it lives",
    }
}

#[cfg(test)]
mod tests {
    use super::orphan_remedy;

    #[test]
    fn an_orphan_is_explained_by_its_resource_type() {
        assert!(
            orphan_remedy("tailscale_tailnet_key.ci").contains("delete it in the admin console"),
            "a key is deleted by hand"
        );
        assert!(
            orphan_remedy("module.edge.tailscale_tailnet_key.ci[\"eu\"]")
                .contains("delete it in the admin console"),
            "a key in a module is a key too"
        );
        assert!(
            orphan_remedy("tailscale_acl.policy").contains("acl.overwriteExisting"),
            "the policy names the option the next apply needs"
        );
        assert!(
            !orphan_remedy("tailscale_dns_configuration.dns").contains("delete"),
            "DNS settings are not deleted, the next apply sets them again"
        );
    }
}
