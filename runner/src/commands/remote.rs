//! With a remote backend (`terraform.backend` in the config, terraform's `pg`): the state is
//! not a file here, so the runner reaches it through terraform. `terraform state pull` gives
//! the backups and the snapshot that `status` reads (`stores/snapshot.rs`), `terraform state
//! push` is `restore-state`, and a local terraform.tfstate left from before the switch moves
//! to the backend once, never silently discarded.
//!
//! terraform does not initialise a directory for a remote backend while a local state lies
//! there: it asks whether to copy it, which it cannot with `-input=false`, and
//! `init -migrate-state -force-copy` would overwrite whatever the backend holds. So while a
//! local state waits, the runner reaches the backend from `DIR/.backend-probe/`, a working
//! directory whose config declares only the backend, and decides ([`Remote::settle_local`]):
//! - the remote state already tracks every object the local one does (or the local one tracks
//!   none): the local state moves to `backups/<ts>.local.tfstate`;
//! - the remote state is empty: the local state is copied to `backups/<ts>.local.tfstate`,
//!   pushed (terraform's push refuses, rather than overwrites, a state another host wrote
//!   meanwhile), then removed;
//! - both hold resources: exit 2, nothing changed, naming both and the ways out.
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use crate::config::layout::StateDir;
use crate::stores::backup::{self, Kind};
use crate::stores::rendered::Backend;
use crate::stores::snapshot;
use crate::terraform::environment::RemoteAccess;
use crate::terraform::init;
use crate::terraform::process::{Finished, Terraform};
use crate::terraform::remote::StateDoc;
use crate::util::console::errln;
use crate::util::outcome::{IoContext, one_line, usage};
use crate::util::{atomic, regular, tfstate};

/// The remote state of one command: terraform, the state directory and the backend.
pub struct Remote<'a> {
    tf: &'a Terraform,
    dir: &'a StateDir,
    access: &'a RemoteAccess,
    /// A config that declares the backend and nothing else (for the probe).
    alone: &'a Value,
}

/// Where terraform reaches the remote state from.
pub enum Place {
    /// The state directory, initialised for the whole config.
    StateDir,
    /// The probe, while a local state waits to move (removed when dropped).
    Probe(Probe),
}

/// `DIR/.backend-probe/`: a working directory for the backend alone, initialised; removed
/// when dropped.
pub struct Probe {
    path: PathBuf,
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

impl<'a> Remote<'a> {
    /// The remote state of `backend`, None for local state.
    pub fn of(
        tf: &'a Terraform,
        dir: &'a StateDir,
        backend: &'a Backend,
        access: Option<&'a RemoteAccess>,
    ) -> Option<Remote<'a>> {
        match (backend, access) {
            (Backend::Remote { alone, .. }, Some(access)) => Some(Remote {
                tf,
                dir,
                access,
                alone,
            }),
            _ => None,
        }
    }

    /// `the pg state (workspace 'default')`, as messages name it.
    pub fn describe(&self) -> String {
        format!(
            "the {} state (workspace '{}')",
            self.access.backend, self.access.workspace
        )
    }

    /// The local terraform.tfstate that waits to move to the backend, if any.
    pub fn waiting_local(&self) -> Result<Option<Vec<u8>>> {
        tfstate::read(&self.dir.state())
    }

    /// Where terraform reaches the state: the probe while a local state waits, else the
    /// state directory (which the caller initialises).
    pub fn place(&self) -> Result<Place> {
        match self.waiting_local()? {
            Some(_) => Ok(Place::Probe(self.probe()?)),
            None => Ok(Place::StateDir),
        }
    }

    /// The directory of `place`.
    pub fn cwd<'p>(&'p self, place: &'p Place) -> &'p Path {
        match place {
            Place::StateDir => self.dir.root(),
            Place::Probe(probe) => &probe.path,
        }
    }

    /// Creates and initialises the probe.
    fn probe(&self) -> Result<Probe> {
        let path = self.dir.backend_probe();
        let _ = std::fs::remove_dir_all(&path);
        atomic::private_dir(&path).cannot("create", &path)?;
        let probe = Probe { path };
        let config = probe.path.join(StateDir::CONFIG);
        let bytes = serde_json::to_vec(self.alone)?;
        atomic::write(&config, &bytes).cannot("write", &config)?;
        errln!(
            "reaching {} from {} (a local {} waits to move there)",
            self.describe(),
            probe.path.display(),
            StateDir::STATE
        );
        init::init_in(self.tf, &probe.path)?;
        Ok(probe)
    }

    /// The state `state pull` (run by `pull`) printed.
    pub fn pulled(&self, pull: Finished) -> Result<StateDoc> {
        if !pull.success() {
            bail!(
                "cannot read {}: {}; {}nothing was changed",
                self.describe(),
                one_line(&pull.error_message("state pull")),
                self.check_access()
            );
        }
        let bytes = pull.stdout.ok_or_else(|| {
            anyhow!(
                "{} is larger than a state may be (256 MiB); nothing was changed: check \
                     what the workspace holds with `terraform state list`",
                self.describe()
            )
        })?;
        StateDoc::parse(bytes).map_err(|e| {
            anyhow!(
                "`terraform state pull` printed no state for {} ({e}); nothing was changed",
                self.describe()
            )
        })
    }

    /// Pulls the state in `place`.
    pub fn pull(&self, place: &Place) -> Result<StateDoc> {
        self.pulled(self.tf.state_pull(self.cwd(place))?)
    }

    /// Saves `state` as the snapshot `status` reads.
    pub fn save_snapshot(&self, state: &StateDoc) -> Result<()> {
        snapshot::save(
            self.dir,
            &self.access.backend,
            &self.access.workspace,
            &state.bytes,
        )
    }

    /// Pulls the state after a change and saves the snapshot; a failure costs only the
    /// snapshot's freshness (`status` says when it was taken), so it is a warning.
    pub fn refresh_snapshot(&self, place: &Place) -> Option<StateDoc> {
        match self
            .pull(place)
            .and_then(|state| self.save_snapshot(&state).map(|()| state))
        {
            Ok(state) => Some(state),
            Err(e) => {
                errln!(
                    "warning: {}; status shows the snapshot of an earlier run",
                    one_line(&format!("{e:#}")).replace("; nothing was changed", "")
                );
                None
            }
        }
    }

    /// Pushes `bytes`, a state read and validated from `source`, as the remote state in
    /// `place`. terraform pushes a private copy in the state directory, so it pushes exactly
    /// these bytes and needs nothing of ours to read them (`source` may be a descriptor this
    /// process inherited, `/dev/fd/N`, which terraform does not); messages name `source`.
    pub fn push_state(
        &self,
        place: &Place,
        bytes: &[u8],
        source: &Path,
        force: bool,
    ) -> Result<()> {
        let copy = PushedCopy {
            path: self
                .dir
                .root()
                .join(format!(".restore-state.tmp-{}", std::process::id())),
        };
        atomic::write(&copy.path, bytes).cannot("write the state to push to", &copy.path)?;
        self.push(place, &copy.path, source, force)
    }

    /// Pushes `file` (absolute; `source` as messages name it) as the remote state in `place`.
    fn push(&self, place: &Place, file: &Path, source: &Path, force: bool) -> Result<()> {
        let finished = self.tf.state_push(self.cwd(place), file, force)?;
        if finished.success() {
            return Ok(());
        }
        let message = one_line(&finished.error_message("state push"));
        let refused = message.contains("cannot import state with");
        let fix = if refused {
            format!(
                "the remote state has moved on since that state was taken (another host wrote \
                 it), or it is another state altogether: compare them (`tailscale-manager \
                 status`, the backups in {}), then, to overwrite the remote state anyway, \
                 `tailscale-manager restore-state --force {}`",
                self.dir.backups().display(),
                source.display()
            )
        } else {
            format!("{}nothing was changed", self.check_access())
        };
        bail!(
            "cannot push {} to {}: {message}; {fix}",
            regular::shown(source),
            self.describe()
        )
    }

    /// Moves a local terraform.tfstate that waits to the backend (see the module
    /// documentation). Without one, does nothing.
    pub fn settle_local(&self) -> Result<()> {
        let path = self.dir.state();
        let Some(bytes) = self.waiting_local()? else {
            // terraform's own migration leaves the local file empty; an empty one is no state.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
                atomic::remove(&path).cannot("remove the empty", &path)?;
            }
            return Ok(());
        };
        let local = tfstate::parse_from(&path, &bytes).map_err(|invalid| {
            anyhow!(
                "{invalid}; it cannot move to {}: move it out of {} and run again (the remote \
                 state is then used as it is)",
                self.describe(),
                self.dir.root().display()
            )
        })?;
        let probe = Place::Probe(self.probe()?);
        let remote_doc = self.pull(&probe)?;
        let remote = tfstate::parse(&remote_doc.bytes)
            .map_err(|e| anyhow!("{} is not a valid terraform state ({e})", self.describe()))?;
        let tracked: Vec<(&str, &str)> = remote.objects().collect();
        let untracked: Vec<(&str, &str)> = local
            .objects()
            .filter(|object| !tracked.contains(object))
            .collect();
        if untracked.is_empty() {
            let saved = self.set_aside(&bytes)?;
            errln!(
                "moved {} to {}: {} already tracks everything it tracked",
                path.display(),
                saved.display(),
                self.describe()
            );
            return Ok(());
        }
        if !remote_doc.is_empty() {
            return Err(usage(conflict(
                &path,
                &self.describe(),
                &untracked,
                tracked.len(),
            )));
        }
        let saved = backup::create(self.dir, &bytes, Kind::Local)?;
        errln!(
            "moving {} to {} (empty until now); its copy stays in {}",
            path.display(),
            self.describe(),
            saved.display()
        );
        self.push(&probe, &path, &path, false)?;
        atomic::remove(&path).cannot("remove the moved", &path)?;
        errln!(
            "moved {} ({} object(s), serial {}) to {}",
            path.display(),
            untracked.len(),
            local.serial.unwrap_or_default(),
            self.describe()
        );
        Ok(())
    }

    /// Keeps the local state in `backups/<ts>.local.tfstate` and removes it from the state
    /// directory.
    fn set_aside(&self, bytes: &[u8]) -> Result<PathBuf> {
        let saved = backup::create(self.dir, bytes, Kind::Local)?;
        let path = self.dir.state();
        atomic::remove(&path).cannot("remove the moved", &path)?;
        Ok(saved)
    }

    /// What to check when terraform could not reach the backend.
    fn check_access(&self) -> String {
        match &self.access.pg {
            Some(pg) => format!(
                "check that PostgreSQL is up and reachable with the connection string in {}; ",
                regular::shown(pg.source.path())
            ),
            None => String::new(),
        }
    }
}

/// The copy of a state `push_state` hands terraform (`.<name>.tmp-<pid>`, so the next run
/// removes it should this one be killed); removed when dropped.
struct PushedCopy {
    path: PathBuf,
}

impl Drop for PushedCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The refusal when a local state and the remote one both hold resources.
fn conflict(path: &Path, remote: &str, untracked: &[(&str, &str)], tracked: usize) -> String {
    let listed: Vec<String> = untracked
        .iter()
        .take(5)
        .map(|(address, id)| format!("{address} (id {id})"))
        .collect();
    let more = match untracked.len() {
        n if n > listed.len() => format!(" and {} more", n - listed.len()),
        _ => String::new(),
    };
    let dir = path.parent().unwrap_or(path);
    format!(
        "{path} and {remote} both hold resources: the local state tracks {} object(s) that the \
         remote one does not ({}{more}), the remote one tracks {tracked}; nothing was changed. \
         Keep the remote state: move the local one out of {dir} (`mv {path} \
         /root/tailscale-manager-local.tfstate`), run again, and delete what only it tracked in \
         the admin console. Or make the local state the remote one: `tailscale-manager \
         restore-state --force {path}` (which backs up the remote state first), then run again",
        untracked.len(),
        listed.join(", "),
        path = path.display(),
        dir = dir.display(),
    )
}
