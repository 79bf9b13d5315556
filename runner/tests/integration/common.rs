//! Builders for integration tests: a sandbox with a state dir, a config, a credentials file
//! and the scripted fake terraform in `tests/fixtures/fake-terraform`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub const CLIENT_ID: &str = "kTESTCLIENT";
/// Deliberately not `tskey-` shaped, so only literal scrubbing can hide it.
pub const OAUTH_SECRET: &str = "s3cr3t-oauth-value-0123456789";
pub const KEY_SECRET_PREFIX: &str = "tskey-auth-";
pub const CANARY: &str = "CANARY_MUST_NOT_LEAK";

pub const CONFIG: &str = r#"{"provider":{"tailscale":{"tailnet":"example.com"}},"resource":{"tailscale_tailnet_key":{"ci":{"reusable":true,"tags":["tag:ci"]}}},"terraform":{"required_providers":{"tailscale":{"source":"tailscale/tailscale","version":"~> 0.29"}}}}"#;

pub fn runner_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tailscale-manager")
}

pub fn fake_terraform() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-terraform")
}

pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub state_dir: PathBuf,
    pub config: PathBuf,
    pub credentials: PathBuf,
    pub log: PathBuf,
}

pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing stderr when it is wrong.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) {
        let meaning = match code {
            0 => "success",
            1 => "the operation failed",
            _ => "usage or configuration error",
        };
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code} ({meaning}); stderr:\n{}",
            self.stderr
        );
    }

    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
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
        Ok(Sandbox {
            state_dir: root.path().join("state"),
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

    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        let out = self
            .command(args, env)
            .output()
            .with_context(|| format!("cannot run {} {args:?}", runner_bin()))?;
        Ok(Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Child> {
        Ok(self
            .command(args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?)
    }

    /// Writes a file next to the state dir (fixtures for the fake terraform).
    pub fn file(&self, name: &str, content: &str) -> Result<String> {
        let path = self.root.path().join(name);
        std::fs::write(&path, content)?;
        Ok(path.to_string_lossy().into_owned())
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
        let path = self.state_dir.join("last-apply.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("{path:?}"))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn status_json(&self) -> Result<(Option<i32>, Value)> {
        let out = self.run(&["status", "--json"], &[])?;
        let value = serde_json::from_str(&out.stdout)
            .with_context(|| format!("status --json printed invalid JSON: {}", out.stdout))?;
        Ok((out.code, value))
    }

    pub fn backups(&self, suffix: &str) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.state_dir.join("backups"))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().path())
                    .filter(|p| {
                        let name = p.file_name().unwrap().to_string_lossy().into_owned();
                        name.ends_with(suffix)
                            && (suffix == ".failed.tfstate" || !name.ends_with(".failed.tfstate"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
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

/// A terraform.tfstate in the real provider's layout (shared facts, provider.md §4), one
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
                    "id": id, "invalid": false, "key": format!("{KEY_SECRET_PREFIX}{id}-SECRETPART"),
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

pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

/// Polls `check` until it holds or `limit` passes (for waiting on another process).
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > limit {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

pub fn assert_no_secrets(text: &str, place: &str) {
    assert!(
        !text.contains(OAUTH_SECRET),
        "the OAuth secret leaked into {place}:\n{text}"
    );
    assert!(
        !text.contains("SECRETPART"),
        "a key secret leaked into {place}:\n{text}"
    );
}
