//! Builders for integration tests: a sandbox with a state dir, a config, a credentials file
//! and the scripted fake terraform in `tests/fixtures/fake-terraform`. Helpers shared with the
//! end-to-end suite come from the test-support crate (`tests/support`).
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;
use tailscale_manager::config::layout::StateDir;
pub use tailscale_manager::stores::backup::Kind;
use test_support::files;
pub use test_support::files::mode;
pub use test_support::output::Output;
use test_support::process::Spawned;

pub const CLIENT_ID: &str = "kTESTCLIENT";
/// Deliberately not `tskey-` shaped, so only literal scrubbing can hide it.
pub const OAUTH_SECRET: &str = "s3cr3t-oauth-value-0123456789";
pub const KEY_SECRET_PREFIX: &str = "tskey-auth-";
/// Part of every key secret in [`state_json`].
const KEY_SECRET_PART: &str = "SECRETPART";
pub const CANARY: &str = "CANARY_MUST_NOT_LEAK";
/// How long a test waits for another process before it fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub const CONFIG: &str = r#"{"provider":{"tailscale":{"tailnet":"example.com"}},"resource":{"tailscale_tailnet_key":{"ci":{"reusable":true,"tags":["tag:ci"]}}},"terraform":{"required_providers":{"tailscale":{"source":"tailscale/tailscale","version":"~> 0.29"}}}}"#;

pub fn runner_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tailscale-manager")
}

pub fn fake_terraform() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-terraform")
}

/// last-apply.json after a good apply that added one key.
pub const LAST_APPLY_OK: &str = r#"{"timestamp":"2026-05-31T00:00:00.000000+00:00","result":"ok","action":"apply","duration_ms":1234,"backup_path":null,"changes":{"add":1,"change":0,"remove":0}}"#;

pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub state_dir: PathBuf,
    /// The same directory, with the runner's file names.
    pub layout: StateDir,
    pub config: PathBuf,
    pub credentials: PathBuf,
    pub log: PathBuf,
}

/// One recorded fake-terraform invocation.
#[derive(Debug)]
pub struct Invocation {
    pub args: String,
    pub cwd: String,
    pub env: BTreeMap<String, String>,
}

impl Sandbox {
    pub fn new() -> Result<Sandbox> {
        let root = tempfile::tempdir()?;
        let config = root.path().join("rendered-main.tf.json");
        std::fs::write(&config, CONFIG)?;
        let credentials = root.path().join("oauth.env");
        std::fs::write(
            &credentials,
            format!(
                "TAILSCALE_OAUTH_CLIENT_ID={CLIENT_ID}\nTAILSCALE_OAUTH_CLIENT_SECRET={OAUTH_SECRET}\n"
            ),
        )?;
        let state_dir = root.path().join("state");
        Ok(Sandbox {
            layout: StateDir::new(&state_dir),
            state_dir,
            log: root.path().join("terraform.log"),
            config,
            credentials,
            root,
        })
    }

    /// The runner with a clean environment: the options through their variables, the
    /// fake terraform's knobs, and a canary that must never reach terraform.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(runner_bin());
        cmd.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TAILSCALE_MANAGER_STATE_DIR", &self.state_dir)
            .env("TAILSCALE_MANAGER_CONFIG", &self.config)
            .env("TAILSCALE_MANAGER_TERRAFORM_BIN", fake_terraform())
            .env("TAILSCALE_MANAGER_CREDENTIALS_FILE", &self.credentials)
            .env("TF_FAKE_LOG", &self.log)
            .env(CANARY, "canary-value")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the runner to its end.
    pub fn runner(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        Output::run(&mut self.command(args, env))
    }

    /// Starts the runner; it and everything it started die with the returned guard.
    pub fn spawn_runner(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Spawned> {
        Spawned::start(&mut self.command(args, env))
    }

    /// Writes a file next to the state dir (fixtures for the fake terraform).
    pub fn file(&self, name: &str, content: &str) -> Result<String> {
        let path = self.root.path().join(name);
        std::fs::write(&path, content)?;
        Ok(path.to_string_lossy().into_owned())
    }

    /// Writes the state the fake terraform saves as terraform.tfstate (`TF_FAKE_STATE`): one
    /// instance per (resource name, id); returns its path.
    pub fn saved_state(&self, serial: u64, keys: &[(&str, &str)]) -> Result<String> {
        self.file(
            &format!("saved-{serial}.tfstate"),
            &state_json(serial, keys),
        )
    }

    /// The pid file a fake terraform that sleeps writes (`TF_FAKE_PIDFILE`).
    pub fn pidfile(&self) -> PathBuf {
        self.root.path().join("tf.pid")
    }

    /// Starts `apply` in a process group of its own (like a shell job) with a fake terraform
    /// that sleeps `seconds` (an interrupt ends the sleep gracefully) and `env`; returns the
    /// runner and terraform's pid once terraform runs.
    pub fn spawn_slow_apply(&self, seconds: &str, env: &[(&str, &str)]) -> Result<(Spawned, u32)> {
        let pidfile = self.pidfile().to_string_lossy().into_owned();
        let mut env = env.to_vec();
        env.extend([("TF_FAKE_SLEEP", seconds), ("TF_FAKE_PIDFILE", &pidfile)]);
        let runner = Spawned::start(self.command(&["apply"], &env).process_group(0))?;
        Ok((runner, self.terraform_pid()?))
    }

    /// Waits until the fake terraform has written its pid, and returns it.
    pub fn terraform_pid(&self) -> Result<u32> {
        let mut pid = None;
        test_support::process::wait_until("terraform to start", PATIENCE, || {
            pid = std::fs::read_to_string(self.pidfile())
                .ok()
                .and_then(|p| p.trim().parse().ok());
            Ok(pid.is_some())
        })?;
        Ok(pid.unwrap_or_default())
    }

    pub fn state_path(&self) -> PathBuf {
        self.state_dir.join("terraform.tfstate")
    }

    pub fn state(&self) -> Option<String> {
        std::fs::read_to_string(self.state_path()).ok()
    }

    /// Asserts terraform.tfstate holds exactly `expected`, byte for byte.
    pub fn assert_state(&self, expected: &str, why: &str) {
        assert_eq!(
            self.state().as_deref(),
            Some(expected),
            "terraform.tfstate: {why}"
        );
    }

    /// Puts a state in place as if an earlier run had written it.
    pub fn seed_state(&self, content: &str) -> Result<()> {
        std::fs::create_dir_all(&self.state_dir)?;
        std::fs::write(self.state_path(), content)?;
        Ok(())
    }

    pub fn last_apply(&self) -> Result<Value> {
        files::last_apply(&self.layout)
    }

    /// `status --json`: exit code and the parsed document.
    pub fn status_json(&self) -> Result<(Option<i32>, Value)> {
        let out = self.runner(&["status", "--json"], &[])?;
        Ok((out.code, out.json()?))
    }

    pub fn backups(&self, kind: Kind) -> Vec<PathBuf> {
        files::backups(&self.layout, kind)
    }

    pub fn invocations(&self) -> Vec<Invocation> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut calls: Vec<Invocation> = Vec::new();
        for line in text.lines() {
            if let Some(args) = line.strip_prefix("ARGS ") {
                calls.push(Invocation {
                    args: args.to_string(),
                    cwd: String::new(),
                    env: BTreeMap::new(),
                });
            } else if let (Some(call), Some(cwd)) = (calls.last_mut(), line.strip_prefix("CWD ")) {
                call.cwd = cwd.to_string();
            } else if let (Some(call), Some(var)) = (calls.last_mut(), line.strip_prefix("ENV "))
                && let Some((k, v)) = var.split_once('=')
            {
                call.env.insert(k.to_string(), v.to_string());
            }
        }
        calls
    }

    pub fn verbs(&self) -> Vec<String> {
        self.invocations()
            .iter()
            .map(|c| c.args.split_whitespace().next().unwrap_or("").to_string())
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        test_support::process::reap_leftovers(self.root.path());
    }
}

/// A sandbox whose state directory holds `last_apply` as last-apply.json and `state` as
/// terraform.tfstate, as earlier runs left them (status only reads files).
pub fn sandbox_with(last_apply: Option<&str>, state: Option<&str>) -> Result<Sandbox> {
    let sb = Sandbox::new()?;
    std::fs::create_dir_all(&sb.state_dir)?;
    if let Some(text) = last_apply {
        std::fs::write(sb.state_dir.join("last-apply.json"), text)?;
    }
    if let Some(text) = state {
        std::fs::write(sb.state_path(), text)?;
    }
    Ok(sb)
}

/// A terraform.tfstate in the real provider's layout (terraform 1.11.4, provider v0.29.2), one
/// instance per (resource name, id).
pub fn state_json(serial: u64, keys: &[(&str, &str)]) -> String {
    let resources: Vec<Value> = keys
        .iter()
        .map(|(name, id)| {
            serde_json::json!({
                "mode": "managed", "type": "tailscale_tailnet_key", "name": name,
                "provider": "provider[\"registry.terraform.io/tailscale/tailscale\"]",
                "instances": [{"schema_version": 0, "attributes": {
                    "created_at": "2026-01-01T00:00:00Z", "description": format!("{name} key"),
                    "ephemeral": false, "expires_at": "2099-04-01T00:00:00Z", "expiry": 7776000,
                    "id": id, "invalid": false, "key": format!("{KEY_SECRET_PREFIX}{id}-{KEY_SECRET_PART}"),
                    "preauthorized": true, "recreate_if_invalid": "always", "reusable": true,
                    "tags": ["tag:ci"], "user_id": ""},
                  "sensitive_attributes": [[{"type": "get_attr", "value": "key"}]]}]
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "version": 4, "terraform_version": "1.11.4", "serial": serial,
        "lineage": "00000000-0000-0000-0000-000000000001", "outputs": {},
        "resources": resources, "check_results": null
    }))
    .unwrap()
}

/// `-json` lines for an apply that created `created` and then finished with `summary`.
pub fn apply_lines(created: &[(&str, &str)], summary: Option<(u64, u64, u64)>) -> String {
    let mut lines = vec![
        r#"{"@level":"info","@message":"Terraform 1.11.4","@module":"terraform.ui","terraform":"1.11.4","type":"version","ui":"1.2"}"#.to_string(),
    ];
    for (addr, id) in created {
        lines.push(serde_json::json!({"@level":"info","@message":format!("{addr}: Creating..."),"@module":"terraform.ui","hook":{"resource":{"addr":addr},"action":"create"},"type":"apply_start"}).to_string());
        lines.push(serde_json::json!({"@level":"info","@message":format!("{addr}: Creation complete after 0s [id={id}]"),"@module":"terraform.ui","hook":{"resource":{"addr":addr},"action":"create","id_key":"id","id_value":id,"elapsed_seconds":0},"type":"apply_complete"}).to_string());
    }
    if let Some((add, change, remove)) = summary {
        lines.push(serde_json::json!({"@level":"info","@message":format!("Apply complete! Resources: {add} added, {change} changed, {remove} destroyed."),"@module":"terraform.ui","changes":{"add":add,"change":change,"import":0,"remove":remove,"operation":"apply"},"type":"change_summary"}).to_string());
    }
    lines.join("\n") + "\n"
}

/// An error diagnostic line as terraform writes it.
pub fn diagnostic_line(address: &str, summary: &str, detail: &str) -> String {
    serde_json::json!({"@level":"error","@message":format!("Error: {summary}"),"@module":"terraform.ui","diagnostic":{"severity":"error","summary":summary,"detail":detail,"address":address},"type":"diagnostic"}).to_string() + "\n"
}

/// Fails if the OAuth secret or a key secret occurs in `text`.
pub fn assert_no_secrets(text: &str, place: &str) -> Result<()> {
    test_support::output::assert_no_secrets(&[OAUTH_SECRET, KEY_SECRET_PART], text, place)
}
