//! The commands that change things: init, plan, apply/destroy, backup-state, restore-state.
//! Each takes the run lock first, so two runs never interleave.
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::backup::{self, Kind};
use crate::cli::{Action, OnFailure, Options};
use crate::credentials::{self, Credentials};
use crate::last_apply::{self, Changes, ErrorDetails, LastApply, ResultKind};
use crate::lock::{self, RunLock};
use crate::outcome::{Outcome, usage};
use crate::state::{self, Object};
use crate::terraform::{self, Terraform};
use crate::{atomic, clock, scrub};

/// The installed configuration's file name.
pub const CONFIG_FILE: &str = "main.tf.json";

/// A validated Terraform JSON configuration.
struct Config {
    bytes: Vec<u8>,
    value: serde_json::Value,
}

fn env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name)
}

/// Creates the state directory if needed, takes the lock and clears what a killed run left.
fn lock(opts: &Options, command: &str) -> Result<RunLock> {
    crate::signals::defer_termination();
    let dir = &opts.state_dir;
    atomic::private_dir(dir)?;
    let lock = lock::acquire(dir, command, opts.lock_timeout)?;
    atomic::remove_stale_temp_files(dir)?;
    atomic::remove_stale_temp_files(&backup::dir(dir))?;
    let state_path = dir.join(state::FILE);
    if let Some(old) = atomic::tighten(&state_path)? {
        eprintln!(
            "tightened {} from mode {old:04o} to 0600",
            state_path.display()
        );
    }
    Ok(lock)
}

/// Reads and validates the configuration to install: `--config`, or for destroy the
/// already installed copy.
fn load_config(opts: &Options, command: &str) -> Result<Config> {
    let installed = opts.state_dir.join(CONFIG_FILE);
    let path = match (&opts.config, command) {
        (Some(path), _) => path.clone(),
        (None, "destroy") if installed.is_file() => installed,
        (None, _) => {
            return Err(usage(format!(
                "{command} needs --config FILE (or TAILSCALE_MANAGER_CONFIG): \
                 the main.tf.json rendered by the NixOS module"
            )));
        }
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| usage(format!("cannot read config {}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        usage(format!(
            "config {} is not valid JSON ({e}); pass the main.tf.json rendered by the NixOS module",
            path.display()
        ))
    })?;
    if !value.is_object() {
        return Err(usage(format!(
            "config {} must be a JSON object (a Terraform JSON configuration); \
             pass the main.tf.json rendered by the NixOS module",
            path.display()
        )));
    }
    Ok(Config { bytes, value })
}

/// Installs the config as DIR/main.tf.json, rewriting only when the bytes differ.
fn install_config(dir: &Path, config: &Config) -> Result<()> {
    let target = dir.join(CONFIG_FILE);
    if std::fs::read(&target).ok().as_deref() == Some(config.bytes.as_slice()) {
        return Ok(());
    }
    atomic::write(&target, &config.bytes)
        .with_context(|| format!("cannot install the config as {}", target.display()))?;
    eprintln!("installed {}", target.display());
    Ok(())
}

fn terraform(opts: &Options, credentials: Option<&Credentials>) -> Result<Terraform> {
    let bin = terraform::locate(opts.terraform.as_deref(), env("PATH").as_deref())?;
    Ok(Terraform::new(
        bin,
        &opts.state_dir,
        credentials,
        opts.lock_timeout,
    ))
}

/// What `init` depends on, computed once per command.
fn fingerprint(tf: &Terraform, config: &Config) -> serde_json::Value {
    terraform::fingerprint(&tf.bin, &config.value)
}

/// Runs `terraform init` and remembers what it was run for.
fn run_init(tf: &Terraform, dir: &Path, fingerprint: &serde_json::Value) -> Result<()> {
    let run = tf.init()?;
    if !run.success() {
        bail!(run.error_message("init"));
    }
    terraform::record_init(dir, fingerprint)
}

/// Runs `terraform init` unless the last successful init had the same fingerprint
/// (terraform binary and `terraform` block).
fn ensure_init(tf: &Terraform, dir: &Path, fingerprint: &serde_json::Value) -> Result<()> {
    if terraform::needs_init(dir, fingerprint) {
        run_init(tf, dir, fingerprint)
    } else {
        eprintln!("terraform init: up to date, skipped");
        Ok(())
    }
}

pub fn init(opts: &Options) -> Result<Outcome> {
    let _lock = lock(opts, "init")?;
    let config = load_config(opts, "init")?;
    let tf = terraform(opts, None)?;
    install_config(&opts.state_dir, &config)?;
    run_init(&tf, &opts.state_dir, &fingerprint(&tf, &config))?;
    eprintln!("terraform init: done");
    Ok(Outcome::Success)
}

pub fn plan(opts: &Options) -> Result<Outcome> {
    let _lock = lock(opts, "plan")?;
    let config = load_config(opts, "plan")?;
    let credentials = credentials::load(opts.credentials.as_deref(), &env)?;
    let tf = terraform(opts, Some(&credentials))?;
    install_config(&opts.state_dir, &config)?;
    let fingerprint = fingerprint(&tf, &config);
    ensure_init(&tf, &opts.state_dir, &fingerprint)?;
    let mut run = tf.plan()?;
    if run.exit.and_then(|s| s.code()) == Some(1) && run.needs_init() {
        eprintln!("terraform asks for init: running it and planning again");
        run_init(&tf, &opts.state_dir, &fingerprint)?;
        run = tf.plan()?;
    }
    match run.exit.and_then(|s| s.code()) {
        Some(0) => println!("tailscale-manager: no changes pending"),
        Some(2) => {
            println!("tailscale-manager: changes pending; `tailscale-manager apply` makes them")
        }
        _ => bail!(run.error_message("plan")),
    }
    Ok(Outcome::Success)
}

pub fn apply(opts: &Options, action: Action) -> Result<Outcome> {
    let _lock = lock(opts, action.as_str())?;
    let mut attempt = Attempt {
        opts,
        action,
        started: Instant::now(),
        backup: None,
        pre_state: None,
        pre_parsed: None,
    };
    let result = attempt.run();
    if let Err(err) = &result {
        // Every failure is recorded for monitoring, not only terraform's.
        let message = last_apply::truncate_message(&scrub::generic(&format!("{err:#}")));
        if let Err(write_err) = attempt.record(None, Some(ErrorDetails::message(message))) {
            eprintln!("error: {write_err:#}");
        }
    }
    result
}

/// One apply or destroy, from validation to last-apply.json.
struct Attempt<'a> {
    opts: &'a Options,
    action: Action,
    started: Instant,
    /// The pre-run backup this run made.
    backup: Option<PathBuf>,
    /// terraform.tfstate as it was before terraform ran (None: there was none).
    pre_state: Option<Vec<u8>>,
    /// The same, parsed (it is validated before anything runs).
    pre_parsed: Option<state::State>,
}

impl Attempt<'_> {
    fn dir(&self) -> &Path {
        &self.opts.state_dir
    }

    fn state_path(&self) -> PathBuf {
        self.dir().join(state::FILE)
    }

    fn run(&mut self) -> Result<Outcome> {
        let verb = self.action.as_str();
        // Everything is validated before anything is touched.
        let config = load_config(self.opts, verb)?;
        let credentials = credentials::load(self.opts.credentials.as_deref(), &env)?;
        let tf = terraform(self.opts, Some(&credentials))?;
        self.pre_state = state::read(&self.state_path())?;
        if let Some(bytes) = &self.pre_state {
            let parsed = state::parse(bytes).map_err(|e| {
                anyhow!(
                    "{} is corrupt ({e}); nothing was changed. Put a good state back with \
                     `tailscale-manager restore-state` (newest backup) or `restore-state FILE`",
                    self.state_path().display()
                )
            })?;
            self.pre_parsed = Some(parsed);
            let path = backup::create(self.dir(), bytes, Kind::PreRun)
                .context("cannot back up terraform.tfstate; nothing was changed")?;
            backup::prune(
                self.dir(),
                Kind::PreRun,
                self.opts.backup_count,
                Some(&path),
            )?;
            eprintln!("backed up terraform.tfstate to {}", path.display());
            self.backup = Some(path);
        }
        install_config(self.dir(), &config)?;
        let fingerprint = fingerprint(&tf, &config);
        ensure_init(&tf, self.dir(), &fingerprint)?;

        let mut run = tf.apply(self.action)?;
        if !run.success() && run.needs_init() && !run.log.started_applying {
            eprintln!("terraform asks for init: running it and trying {verb} again");
            run_init(&tf, self.dir(), &fingerprint)?;
            run = tf.apply(self.action)?;
        }
        if run.success() {
            let changes = run.log.changes().unwrap_or_default();
            self.record(Some(changes), None)?;
            eprintln!(
                "{verb}: ok ({} added, {} changed, {} removed)",
                changes.add, changes.change, changes.remove
            );
            return Ok(Outcome::Success);
        }
        let message = last_apply::truncate_message(&tf.scrub(&run.error_message(verb)));
        self.fail(message, run.log.changes())
    }

    /// Terraform failed: keep what it left, restore (or keep) the state, list orphans.
    fn fail(&mut self, message: String, changes: Option<Changes>) -> Result<Outcome> {
        let verb = self.action.as_str();
        let post_state = state::read(&self.state_path())?;
        if post_state == self.pre_state {
            eprintln!("error: {verb} failed; terraform.tfstate was not changed");
            eprintln!("{message}");
            self.record(changes, Some(ErrorDetails::message(message)))?;
            return Ok(Outcome::Failed);
        }
        // Save what terraform left before anything overwrites it. If this fails we stop
        // here and leave terraform's state in place: it records what really exists.
        let failed_path = match &post_state {
            Some(bytes) => {
                let path = backup::create(self.dir(), bytes, Kind::Failed)
                    .context("cannot save the state the failed run left; it stays in place")?;
                backup::prune(
                    self.dir(),
                    Kind::Failed,
                    self.opts.backup_count,
                    Some(&path),
                )?;
                eprintln!("saved the state terraform left to {}", path.display());
                Some(path)
            }
            None => None,
        };
        let orphans = match self.opts.on_failure {
            OnFailure::Keep => {
                eprintln!("kept the state terraform wrote (--on-failure keep)");
                Vec::new()
            }
            OnFailure::Restore => self.restore(post_state.as_deref())?,
        };
        eprintln!("error: {verb} failed");
        eprintln!("{message}");
        for o in &orphans {
            let adopt = match &failed_path {
                Some(path) => format!(
                    ", or track it again with `tailscale-manager restore-state {}`",
                    path.display()
                ),
                None => String::new(),
            };
            eprintln!(
                "warning: orphaned {} (id {}): it exists in the tailnet but is no longer in the \
                 state; delete it in the admin console{adopt}",
                o.address, o.id
            );
        }
        let details = ErrorDetails {
            error_message: message,
            failed_state_path: failed_path.as_deref().map(last_apply::path_string),
            orphaned_resources: orphans,
        };
        self.record(changes, Some(details))?;
        Ok(Outcome::Failed)
    }

    /// Puts the pre-run state back and returns what that orphans.
    fn restore(&self, post_state: Option<&[u8]>) -> Result<Vec<Object>> {
        let path = self.state_path();
        match &self.pre_state {
            Some(bytes) => atomic::write(&path, bytes),
            None => atomic::remove(&path),
        }
        .with_context(|| format!("cannot restore {}", path.display()))?;
        eprintln!("restored terraform.tfstate to its state before this run");
        let failed = match post_state.map(state::parse).transpose() {
            Ok(failed) => failed.unwrap_or_default(),
            Err(e) => {
                eprintln!("warning: the failed state is unreadable ({e}); cannot list orphans");
                return Ok(Vec::new());
            }
        };
        Ok(state::orphans(&failed, self.pre_parsed.as_ref()))
    }

    fn record(&self, changes: Option<Changes>, error: Option<ErrorDetails>) -> Result<()> {
        let record = LastApply {
            timestamp: clock::iso_micros(clock::now()),
            result: match error {
                Some(_) => ResultKind::Error,
                None => ResultKind::Ok,
            },
            action: self.action.as_str(),
            duration_ms: self.started.elapsed().as_millis() as u64,
            backup_path: self.backup.as_deref().map(last_apply::path_string),
            changes,
            error,
        };
        last_apply::write(self.dir(), &record)
    }
}

pub fn backup_state(opts: &Options) -> Result<Outcome> {
    let _lock = lock(opts, "backup-state")?;
    let dir = &opts.state_dir;
    let Some(bytes) = state::read(&dir.join(state::FILE))? else {
        bail!(
            "{} does not exist: nothing to back up",
            dir.join(state::FILE).display()
        );
    };
    if let Err(e) = state::parse(&bytes) {
        eprintln!("warning: terraform.tfstate is not a valid state ({e}); backing it up anyway");
    }
    let path = backup::create(dir, &bytes, Kind::PreRun)?;
    let pruned = backup::prune(dir, Kind::PreRun, opts.backup_count, Some(&path))?;
    println!("backed up terraform.tfstate to {}", path.display());
    if !pruned.is_empty() {
        println!(
            "pruned {} old backup(s), keeping {}",
            pruned.len(),
            opts.backup_count
        );
    }
    Ok(Outcome::Success)
}

pub fn restore_state(opts: &Options, file: Option<&Path>) -> Result<Outcome> {
    let _lock = lock(opts, "restore-state")?;
    let dir = &opts.state_dir;
    let source = match file {
        Some(file) => file.to_path_buf(),
        None => backup::list(dir, Kind::PreRun)?
            .pop()
            .ok_or_else(|| anyhow!("{} holds no backups to restore", backup::dir(dir).display()))?,
    };
    let bytes = std::fs::read(&source)
        .with_context(|| format!("cannot read backup {}", source.display()))?;
    state::parse(&bytes).map_err(|e| {
        anyhow!(
            "{} is not a valid terraform state ({e}); nothing was changed",
            source.display()
        )
    })?;
    let state_path = dir.join(state::FILE);
    let current = state::read(&state_path)?;
    if current.as_deref() == Some(bytes.as_slice()) {
        println!(
            "terraform.tfstate already equals {}; nothing to do",
            source.display()
        );
        return Ok(Outcome::Success);
    }
    if let Some(current) = &current {
        let saved = backup::create(dir, current, Kind::PreRun)?;
        backup::prune(dir, Kind::PreRun, opts.backup_count, Some(&saved))?;
        println!(
            "backed up the current terraform.tfstate to {}",
            saved.display()
        );
    }
    atomic::write(&state_path, &bytes)
        .with_context(|| format!("cannot restore {}", state_path.display()))?;
    println!("restored {} to {}", source.display(), state_path.display());
    Ok(Outcome::Success)
}
