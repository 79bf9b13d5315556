//! One fresh world per test: a simulated tailnet, a state dir, credentials and a config, plus the
//! built runner and real terraform, with the stand-in installed the way nixpkgs installs providers.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use serde_json::{Value, json};
use tailscale_standin::sim::{SimFile, Tailnet};
use tempfile::TempDir;

const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-tailscale");
const LOCAL_PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-local");
const STANDIN_BIN: &str = env!("CARGO_BIN_EXE_standin-tailnet");

/// Where nixpkgs' `withPlugins` puts a provider (facts nix.md §2), below the mirror root.
pub const PROVIDER_PATH: &str = "registry.terraform.io/tailscale/tailscale/0.29.2/linux_amd64/terraform-provider-tailscale_0.29.2";
/// The hashicorp/local stand-in, as nixpkgs' `terraform-providers.hashicorp_local` (v2.9.0).
pub const LOCAL_PROVIDER_PATH: &str =
    "registry.terraform.io/hashicorp/local/2.9.0/linux_amd64/terraform-provider-local_2.9.0";

/// The seed example as Nix renders it (committed by the Nix side, kept identical by its golden
/// test), read once per test process so every world sees the same config.
fn seed_config() -> Result<&'static Value> {
    static SEED: OnceLock<std::result::Result<Value, String>> = OnceLock::new();
    SEED.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../render/01-seed-example.json");
        fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not JSON: {e}", path.display()))
            })
    })
    .as_ref()
    .map_err(|e| anyhow!("{e}"))
}

/// The seed's one key, which the scenarios copy to build their configs.
pub fn seed_key() -> Result<Value> {
    let key = &seed_config()?["resource"]["tailscale_tailnet_key"]["managed_key"];
    ensure!(
        key.is_object(),
        "the seed config has no tailscale_tailnet_key.managed_key"
    );
    Ok(key.clone())
}

/// The runner binary, built by checks/e2e/run.
fn runner_bin() -> Result<PathBuf> {
    let path = std::env::var_os("TAILSCALE_MANAGER_BIN").ok_or_else(|| {
        anyhow!("TAILSCALE_MANAGER_BIN is not set: run the e2e suite through checks/e2e/run, which builds the runner and sets it")
    })?;
    let path = PathBuf::from(path);
    ensure!(
        path.is_file(),
        "TAILSCALE_MANAGER_BIN={} is not a file",
        path.display()
    );
    Ok(path)
}

/// Real terraform: TAILSCALE_MANAGER_TERRAFORM_BIN, else the first `terraform` on PATH.
fn terraform_bin() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("TAILSCALE_MANAGER_TERRAFORM_BIN") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("terraform"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            anyhow!("terraform is not on PATH (checks/e2e/run skips the suite in that case)")
        })
}

/// Built once per test process: a `libexec/terraform-providers` tree holding the stand-in, and a
/// terraform CLI config whose filesystem_mirror is that tree (no `direct` block: nothing is ever
/// downloaded).
struct Install {
    cli_config: PathBuf,
}

fn install() -> Result<&'static Install> {
    static INSTALL: OnceLock<std::result::Result<Install, String>> = OnceLock::new();
    INSTALL
        .get_or_init(|| make_install().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("cannot install the stand-in provider: {e}"))
}

fn make_install() -> Result<Install> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-provider");
    let plugins = root.join("libexec/terraform-providers");
    for (built, path) in [
        (PROVIDER_BIN, PROVIDER_PATH),
        (LOCAL_PROVIDER_BIN, LOCAL_PROVIDER_PATH),
    ] {
        let binary = plugins.join(path);
        fs::create_dir_all(binary.parent().context("provider path has a parent")?)?;
        // Copy, then rename: a terraform of an earlier run never sees a half-written plugin.
        let partial = root.join(format!("provider.partial{}", std::process::id()));
        fs::copy(built, &partial)
            .with_context(|| format!("cannot copy {built} to {}", partial.display()))?;
        fs::rename(&partial, &binary)?;
    }
    let cli_config = root.join("terraformrc");
    fs::write(
        &cli_config,
        format!(
            "disable_checkpoint = true\n\
             provider_installation {{\n  filesystem_mirror {{\n    path    = {:?}\n    include = [\"registry.terraform.io/tailscale/tailscale\", \"registry.terraform.io/hashicorp/local\"]\n  }}\n}}\n",
            plugins.display()
        ),
    )?;
    Ok(Install { cli_config })
}

/// What one command did.
#[derive(Debug)]
pub struct Run {
    /// None when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Fails unless the command exited with `code`, showing what it printed.
    pub fn expect(self, code: i32, what: &str) -> Result<Self> {
        ensure!(
            self.code == Some(code),
            "{what}: expected exit {code}, got {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        Ok(self)
    }

    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub struct World {
    dir: TempDir,
    pub state: PathBuf,
    pub sim: SimFile,
    pub credentials: PathBuf,
    pub config: PathBuf,
    /// A shim in front of real terraform that appends each argv to `terraform.log`.
    pub terraform: PathBuf,
}

impl World {
    /// A simulated tailnet whose one OAuth client owns the seed key's tags, and the seed config.
    pub fn new() -> Result<Self> {
        install()?;
        // E2E_KEEP=1 keeps every world's directory for a post-mortem.
        let dir = tempfile::Builder::new()
            .prefix("e2e-")
            .disable_cleanup(std::env::var_os("E2E_KEEP").is_some())
            .tempdir()?;
        let world = Self {
            state: dir.path().join("state"),
            sim: SimFile::new(dir.path().join("tailnet.json")),
            credentials: dir.path().join("oauth.env"),
            config: dir.path().join("main.tf.json"),
            terraform: dir.path().join("terraform"),
            dir,
        };
        let real = terraform_bin()?;
        fs::write(
            &world.terraform,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                world.dir.path().join("terraform.log").display(),
                real.display()
            ),
        )?;
        fs::set_permissions(&world.terraform, fs::Permissions::from_mode(0o755))?;
        // The OAuth client owns exactly the seed key's tags, so the seed config applies as is.
        let seed_key = seed_key()?;
        let tags: Vec<&str> = seed_key["tags"]
            .as_array()
            .context("the seed key has tags")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        world
            .standin(&[
                "init",
                "--tags",
                &tags.join(","),
                "--credentials-out",
                &path_str(&world.credentials)?,
            ])?
            .expect(0, "standin-tailnet init")?;
        fs::write(&world.config, serde_json::to_vec(seed_config()?)?)?;
        Ok(world)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn base_url(&self) -> String {
        format!("file://{}", self.sim.path().display())
    }

    /// The runner with a cleared environment: PATH, the test's terraform CLI config and the
    /// simulated tailnet's base URL. Credentials come from `--credentials`.
    pub fn runner_command(&self, args: &[&str]) -> Result<Command> {
        let mut command = Command::new(runner_bin()?);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TF_CLI_CONFIG_FILE", &install()?.cli_config)
            .env("TAILSCALE_BASE_URL", self.base_url())
            .args(args)
            .args(["--state-dir", &path_str(&self.state)?]);
        if let Some(tmp) = std::env::var_os("TMPDIR") {
            command.env("TMPDIR", tmp);
        }
        if matches!(args.first(), Some(&("apply" | "destroy" | "plan" | "init"))) {
            if !args.contains(&"--config") {
                command.args(["--config", &path_str(&self.config)?]);
            }
            command
                .args(["--credentials", &path_str(&self.credentials)?])
                .args(["--terraform", &path_str(&self.terraform)?]);
        }
        Ok(command)
    }

    /// A terraform working directory `name` whose main.tf.json is the seed's terraform block with
    /// this provider block and these keys; initialised with real terraform.
    pub fn project(&self, name: &str, provider: Value, keys: Value) -> Result<PathBuf> {
        let dir = self.path(name);
        fs::create_dir_all(&dir)?;
        let config = serde_json::json!({
            "terraform": seed_config()?["terraform"],
            "provider": { "tailscale": provider },
            "resource": { "tailscale_tailnet_key": keys },
        });
        fs::write(
            dir.join("main.tf.json"),
            serde_json::to_vec_pretty(&config)?,
        )?;
        self.terraform(&dir, &["init", "-input=false"], &[])?
            .expect(0, "terraform init")?;
        Ok(dir)
    }

    /// Real terraform in `dir`, without the runner: a cleared environment with the test's CLI
    /// config, the simulated tailnet and the OAuth credentials (as the runner passes them), then
    /// `env` (an empty value removes the variable).
    pub fn terraform(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Run> {
        let mut command = Command::new(terraform_bin()?);
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("TF_CLI_CONFIG_FILE", &install()?.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TAILSCALE_BASE_URL", self.base_url());
        for line in fs::read_to_string(&self.credentials)?.lines() {
            if let Some((name, value)) = line.split_once('=') {
                command.env(name, value);
            }
        }
        for (name, value) in env {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
        }
        // Options go before positional arguments (`terraform import [options] ADDR ID`).
        let (subcommand, rest) = args.split_first().context("terraform needs a subcommand")?;
        let output = command
            .arg(subcommand)
            .arg("-no-color")
            .args(rest)
            .stdin(Stdio::null())
            .output()
            .context("cannot run terraform")?;
        Ok(Run::from_output(output))
    }

    pub fn runner(&self, args: &[&str]) -> Result<Run> {
        let output = self
            .runner_command(args)?
            .stdin(Stdio::null())
            .output()
            .context("cannot run the runner")?;
        Ok(Run::from_output(output))
    }

    /// Starts the runner in its own process group (as systemd starts a unit in its own cgroup).
    pub fn spawn_runner(&self, args: &[&str]) -> Result<Child> {
        self.runner_command(args)?
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .context("cannot start the runner")
    }

    pub fn apply(&self) -> Result<Run> {
        self.runner(&["apply"])
    }

    pub fn standin(&self, args: &[&str]) -> Result<Run> {
        let output = Command::new(STANDIN_BIN)
            .args(["--file", &path_str(self.sim.path())?])
            .args(args)
            .output()
            .context("cannot run standin-tailnet")?;
        Ok(Run::from_output(output))
    }

    /// A `standin-tailnet` command that must succeed (setting up or breaking the tailnet).
    pub fn tailnet_do(&self, args: &[&str]) -> Result<()> {
        self.standin(args)?
            .expect(0, &format!("standin-tailnet {}", args.join(" ")))?;
        Ok(())
    }

    pub fn tailnet(&self) -> Result<Tailnet> {
        self.sim.read()
    }

    pub fn tailnet_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self.tailnet()?.keys.into_iter().map(|k| k.id).collect();
        ids.sort();
        Ok(ids)
    }

    /// Every secret a leak check must not find: the OAuth secret and every key secret.
    pub fn secrets(&self) -> Result<Vec<String>> {
        let tailnet = self.tailnet()?;
        Ok(tailnet
            .oauth_clients
            .iter()
            .map(|c| c.secret.clone())
            .chain(tailnet.keys.iter().map(|k| k.key.clone()))
            .collect())
    }

    pub fn state_file(&self) -> PathBuf {
        self.state.join("terraform.tfstate")
    }

    pub fn read_json(&self, path: &Path) -> Result<Value> {
        let text =
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON:\n{text}", path.display()))
    }

    pub fn last_apply(&self) -> Result<Value> {
        self.read_json(&self.state.join("last-apply.json"))
    }

    /// `(address, id)` of every tailnet key instance in terraform.tfstate; empty without a state.
    pub fn state_keys(&self) -> Result<Vec<(String, String)>> {
        if !self.state_file().exists() {
            return Ok(Vec::new());
        }
        let state = self.read_json(&self.state_file())?;
        let mut keys = Vec::new();
        for resource in state["resources"].as_array().into_iter().flatten() {
            if resource["type"] != "tailscale_tailnet_key" || resource["mode"] != "managed" {
                continue;
            }
            for instance in resource["instances"].as_array().into_iter().flatten() {
                let address = format!(
                    "tailscale_tailnet_key.{}",
                    resource["name"].as_str().unwrap_or("?")
                );
                let id = instance["attributes"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                keys.push((address, id));
            }
        }
        keys.sort();
        Ok(keys)
    }

    pub fn state_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self.state_keys()?.into_iter().map(|(_, id)| id).collect();
        ids.sort();
        Ok(ids)
    }

    /// `status --json`: exit code and the parsed document.
    pub fn status_json(&self) -> Result<(Option<i32>, Value)> {
        let run = self.runner(&["status", "--json"])?;
        let value = serde_json::from_str(&run.stdout).with_context(|| {
            format!(
                "status --json printed no JSON:\n{}\n{}",
                run.stdout, run.stderr
            )
        })?;
        Ok((run.code, value))
    }

    /// The argv of every terraform run so far, one line each.
    pub fn terraform_log(&self) -> Result<Vec<String>> {
        let log = self.path("terraform.log");
        if !log.exists() {
            return Ok(Vec::new());
        }
        Ok(fs::read_to_string(log)?
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// Replaces the config's keys with `keys` (name → resource body), keeping the rendered
    /// provider and terraform blocks.
    pub fn set_keys(&self, keys: Value) -> Result<()> {
        let mut config = self.read_json(&self.config)?;
        config["resource"]["tailscale_tailnet_key"] = keys;
        fs::write(&self.config, serde_json::to_vec_pretty(&config)?)?;
        Ok(())
    }

    /// Waits until the simulated tailnet has seen `count` create attempts reach the API.
    pub fn wait_for_creates_started(&self, count: usize) -> Result<()> {
        wait_until(
            || Ok(self.tailnet()?.count("create_started") >= count),
            "a create to start",
        )
    }
}

pub fn path_str(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("path {} is not UTF-8", path.display()))
}

/// Polls `done` every 50 ms; gives up after two minutes so a broken run cannot hang the suite.
pub fn wait_until(mut done: impl FnMut() -> Result<bool>, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done()? {
        if Instant::now() > deadline {
            bail!("gave up waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Waits for a spawned runner and collects its output.
pub fn finish(child: Child) -> Result<Run> {
    let output = child.wait_with_output()?;
    let signal = output.status.signal();
    let mut run = Run::from_output(output);
    if let Some(signal) = signal {
        run.stderr
            .push_str(&format!("\n[killed by signal {signal}]"));
    }
    Ok(run)
}

/// Direct children of `pid`, from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

pub fn command_name(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_default()
}

/// The terraform process the runner started (the shim execs it, so it keeps the shim's pid).
pub fn terraform_child(runner: u32) -> Result<u32> {
    let mut found = None;
    wait_until(
        || {
            found = children(runner)
                .into_iter()
                .find(|&p| command_name(p) == "terraform");
            Ok(found.is_some())
        },
        "the runner's terraform process",
    )?;
    found.ok_or_else(|| anyhow!("no terraform child"))
}

pub fn kill(signal: &str, target: &str) -> Result<()> {
    let status = Command::new("kill").args([signal, "--", target]).status()?;
    ensure!(status.success(), "kill {signal} {target} failed");
    Ok(())
}

/// Every JSON file the runner and terraform keep must parse (no torn writes).
pub fn assert_no_torn_files(world: &World) -> Result<()> {
    let mut files = vec![world.state_file(), world.state.join("last-apply.json")];
    if let Ok(entries) = fs::read_dir(world.state.join("backups")) {
        files.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    for file in files.into_iter().filter(|f| f.exists()) {
        // Terraform creates terraform.tfstate empty to lock it and reads an empty file as "no
        // state"; a kill before its first write leaves it so (observed), and backups copy it.
        let terraform_placeholder =
            file.extension().is_some_and(|e| e == "tfstate") && fs::metadata(&file)?.len() == 0;
        if !terraform_placeholder {
            world
                .read_json(&file)
                .with_context(|| format!("torn file {}", file.display()))?;
        }
    }
    let tmp: Vec<_> = fs::read_dir(&world.state)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect();
    ensure!(
        tmp.is_empty(),
        "temporary files left in the state dir: {tmp:?}"
    );
    Ok(())
}

/// Fails if any secret occurs in `text`.
pub fn assert_no_secrets(secrets: &[String], text: &str, what: &str) -> Result<()> {
    for secret in secrets {
        ensure!(!secret.is_empty(), "empty secret in the leak check");
        ensure!(
            !text.contains(secret.as_str()),
            "{what} leaks a secret ({}…)",
            &secret[..16.min(secret.len())]
        );
    }
    Ok(())
}

/// A second key, for configs with two.
pub fn with_tags(key: &Value, tags: &[&str]) -> Value {
    let mut key = key.clone();
    key["tags"] = json!(tags);
    key
}
