//! One fresh world per test: a simulated tailnet, a state dir, credentials and a config, plus the
//! built runner and real terraform, with the stand-in installed the way nixpkgs installs providers.
//! Helpers shared with the runner's integration tests come from its test-support crate.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, ensure};
use serde_json::{Value, json};
use tailscale_manager::config::layout::StateDir;
use tailscale_manager::terraform::environment;

use tailscale_standin::sim::{Dns, SimFile, Tailnet};
use tempfile::TempDir;
use test_support::files;
pub use test_support::output::{Output, assert_no_secrets};
pub use test_support::process::{Spawned, children, command_name, kill};

const STANDIN_BIN: &str = env!("CARGO_BIN_EXE_standin-tailnet");

/// The providers installed into the filesystem mirror: (source address, version, binary built
/// by this crate). Adding a provider is one line.
const PROVIDERS: &[(&str, &str, &str)] = &[
    (
        "registry.terraform.io/tailscale/tailscale",
        "0.29.2",
        env!("CARGO_BIN_EXE_terraform-provider-tailscale"),
    ),
    // As nixpkgs' `terraform-providers.hashicorp_local`, for local_sensitive_file.
    (
        "registry.terraform.io/hashicorp/local",
        "2.9.0",
        env!("CARGO_BIN_EXE_terraform-provider-local"),
    ),
];

/// How long a test waits for another process before it fails (a broken run must not hang the
/// suite).
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A configuration as Nix renders it: `checks/render/<name>.json`, committed by the Nix side and
/// kept identical to the renderer's output by the Nix suite's golden tests.
pub fn golden(name: &str) -> Result<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../render/{name}.json"));
    files::read_json(&path)
}

/// The example configuration of the original tool's README (tailscale-manager 0.3.0) as Nix
/// renders it, read once per test process so every world sees the same config.
fn example_config() -> Result<&'static Value> {
    static EXAMPLE: OnceLock<std::result::Result<Value, String>> = OnceLock::new();
    EXAMPLE
        .get_or_init(|| golden("01-readme-example").map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("{e}"))
}

/// The example's one key, which the scenarios copy to build their configs.
pub fn example_key() -> Result<Value> {
    let key = &example_config()?["resource"]["tailscale_tailnet_key"]["managed_key"];
    ensure!(
        key.is_object(),
        "the example config has no tailscale_tailnet_key.managed_key"
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

/// Real terraform, found as the runner finds it: TAILSCALE_MANAGER_TERRAFORM_BIN, else
/// `terraform` on PATH.
fn terraform_bin() -> Result<PathBuf> {
    let flag = std::env::var_os("TAILSCALE_MANAGER_TERRAFORM_BIN").map(PathBuf::from);
    environment::locate(flag.as_deref(), std::env::var_os("PATH").as_deref())
        .context("checks/e2e/run skips the suite when terraform is missing")
}

/// Built once per test process: a `libexec/terraform-providers` tree holding the providers, and
/// a terraform CLI config whose filesystem_mirror is that tree (no `direct` block: nothing is ever
/// downloaded).
struct Install {
    cli_config: PathBuf,
}

fn install() -> Result<&'static Install> {
    static INSTALL: OnceLock<std::result::Result<Install, String>> = OnceLock::new();
    INSTALL
        .get_or_init(|| make_install().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("cannot install the stand-in providers: {e}"))
}

/// Where nixpkgs' `withPlugins` puts a provider below its plugin directory
/// (`pkgs/applications/networking/cluster/terraform-providers/default.nix`, `mkProvider`):
/// `<source address>/<version>/linux_amd64/terraform-provider-<type>_<version>`.
fn provider_path(source: &str, version: &str) -> String {
    let kind = source.rsplit('/').next().unwrap_or(source);
    format!("{source}/{version}/linux_amd64/terraform-provider-{kind}_{version}")
}

fn make_install() -> Result<Install> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-provider");
    let plugins = root.join("libexec/terraform-providers");
    for (source, version, built) in PROVIDERS {
        let binary = plugins.join(provider_path(source, version));
        fs::create_dir_all(binary.parent().context("provider path has a parent")?)?;
        // Copy, then rename: a terraform of an earlier run never sees a half-written plugin.
        let partial = root.join(format!("provider.partial{}", std::process::id()));
        fs::copy(built, &partial)
            .with_context(|| format!("cannot copy {built} to {}", partial.display()))?;
        fs::rename(&partial, &binary)?;
    }
    let sources: Vec<String> = PROVIDERS.iter().map(|(s, _, _)| format!("{s:?}")).collect();
    let cli_config = root.join("terraformrc");
    fs::write(
        &cli_config,
        format!(
            "disable_checkpoint = true\n\
             provider_installation {{\n  filesystem_mirror {{\n    path    = {:?}\n    include = [{}]\n  }}\n}}\n",
            plugins.display(),
            sources.join(", ")
        ),
    )?;
    Ok(Install { cli_config })
}

pub struct World {
    dir: TempDir,
    pub state: PathBuf,
    /// The same directory, with the runner's file names.
    pub layout: StateDir,
    pub sim: SimFile,
    pub credentials: PathBuf,
    pub config: PathBuf,
    /// A shim in front of real terraform that appends each argv to `terraform.log`.
    pub terraform: PathBuf,
}

impl World {
    /// A simulated tailnet whose one OAuth client owns the example key's tags, and the example
    /// config.
    pub fn new() -> Result<Self> {
        install()?;
        // E2E_KEEP=1 keeps every world's directory for a post-mortem.
        let dir = tempfile::Builder::new()
            .prefix("e2e-")
            .disable_cleanup(std::env::var_os("E2E_KEEP").is_some())
            .tempdir()?;
        let state = dir.path().join("state");
        let world = Self {
            layout: StateDir::new(&state),
            state,
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
        // The OAuth client owns exactly the example key's tags, so the example applies as is.
        let example_key = example_key()?;
        let tags: Vec<&str> = example_key["tags"]
            .as_array()
            .context("the example key has tags")?
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
        fs::write(&world.config, serde_json::to_vec(example_config()?)?)?;
        Ok(world)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The world's directory: the tailnet file, the state dir, the terraform log.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn base_url(&self) -> String {
        format!("file://{}", self.sim.path().display())
    }

    /// The runner with a cleared environment: PATH, the test's terraform CLI config and the
    /// simulated tailnet's base URL. Credentials come from `--credentials`.
    pub fn runner_command(&self, args: &[&str]) -> Result<Command> {
        self.runner_command_at(&self.state, args)
    }

    /// [`World::runner_command`] for the state directory `state` (another host of the same
    /// tailnet).
    pub fn runner_command_at(&self, state: &Path, args: &[&str]) -> Result<Command> {
        let mut command = Command::new(runner_bin()?);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TF_CLI_CONFIG_FILE", &install()?.cli_config)
            .env("TAILSCALE_BASE_URL", self.base_url())
            .args(args)
            .args(["--state-dir", &path_str(state)?])
            .stdin(Stdio::null());
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

    /// A terraform working directory `name` whose main.tf.json is the example's terraform block
    /// with this provider block and these keys; initialised with real terraform.
    pub fn project(&self, name: &str, provider: Value, keys: Value) -> Result<PathBuf> {
        let config = json!({
            "terraform": example_config()?["terraform"],
            "provider": { "tailscale": provider },
            "resource": { "tailscale_tailnet_key": keys },
        });
        self.init_project(name, &config)
    }

    /// A terraform working directory `name` whose main.tf.json is `config`; initialised with
    /// real terraform.
    pub fn init_project(&self, name: &str, config: &Value) -> Result<PathBuf> {
        let dir = self.path(name);
        fs::create_dir_all(&dir)?;
        write_config(&dir, config)?;
        self.terraform(&dir, &["init", "-input=false"], &[])?
            .expect(0, "terraform init")?;
        Ok(dir)
    }

    /// Real terraform in `dir`, without the runner: a cleared environment with the test's CLI
    /// config, the simulated tailnet and the OAuth credentials (as the runner passes them), then
    /// `env` (an empty value removes the variable).
    pub fn terraform(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        Output::run(&mut self.terraform_command(dir, args, env)?)
    }

    /// The command [`World::terraform`] runs, to start it in the background.
    pub fn terraform_command(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Command> {
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
        // Options go before positional arguments (`terraform import [options] ADDR ID`), after
        // the subcommand (`terraform state pull [options]`: two words).
        let words = if args.first() == Some(&"state") { 2 } else { 1 };
        ensure!(args.len() >= words, "terraform needs a subcommand");
        let (subcommand, rest) = args.split_at(words);
        command
            .args(subcommand)
            .arg("-no-color")
            .args(rest)
            .stdin(Stdio::null());
        Ok(command)
    }

    pub fn runner(&self, args: &[&str]) -> Result<Output> {
        Output::run(&mut self.runner_command(args)?)
    }

    /// Starts the runner in its own process group (as systemd starts a unit in its own cgroup).
    /// Dropping the guard kills it and everything below it.
    pub fn spawn_runner(&self, args: &[&str]) -> Result<Spawned> {
        Spawned::start(self.runner_command(args)?.process_group(0))
    }

    pub fn apply(&self) -> Result<Output> {
        self.runner(&["apply"])
    }

    pub fn standin(&self, args: &[&str]) -> Result<Output> {
        Output::run(
            Command::new(STANDIN_BIN)
                .args(["--file", &path_str(self.sim.path())?])
                .args(args),
        )
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

    /// How many key creates the simulated tailnet's API has carried out.
    pub fn creates(&self) -> Result<usize> {
        Ok(self.tailnet()?.count("create"))
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
        self.layout.state()
    }

    pub fn read_json(&self, path: &Path) -> Result<Value> {
        files::read_json(path)
    }

    pub fn last_apply(&self) -> Result<Value> {
        files::last_apply(&self.layout)
    }

    /// `(address, id)` of every tailnet key instance in terraform.tfstate; empty without a state.
    pub fn state_keys(&self) -> Result<Vec<(String, String)>> {
        files::state_keys(&self.layout)
    }

    pub fn state_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self.state_keys()?.into_iter().map(|(_, id)| id).collect();
        ids.sort();
        Ok(ids)
    }

    /// `status --json`: exit code and the parsed document.
    pub fn status_json(&self) -> Result<(Option<i32>, Value)> {
        let out = self.runner(&["status", "--json"])?;
        Ok((out.code, out.json()?))
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

    /// Makes `config` the rendered main.tf.json the next runs install.
    pub fn set_config(&self, config: &Value) -> Result<()> {
        fs::write(&self.config, serde_json::to_vec_pretty(config)?)?;
        Ok(())
    }

    /// Replaces the config's keys with `keys` (name → resource body), keeping the rendered
    /// provider and terraform blocks.
    pub fn set_keys(&self, keys: Value) -> Result<()> {
        let mut config = self.read_json(&self.config)?;
        config["resource"]["tailscale_tailnet_key"] = keys;
        self.set_config(&config)
    }

    /// Lets the creates held in flight (`slow-create`) answer once terraform has been
    /// interrupted: the stand-in records terraform's StopProvider as `stop_provider`.
    pub fn release_creates_once_interrupted(&self) -> Result<()> {
        wait_until("terraform to stop its providers (StopProvider)", || {
            Ok(self.tailnet()?.count("stop_provider") >= 1)
        })?;
        self.tailnet_do(&["slow-create", "0"])
    }

    /// Waits until the simulated tailnet has seen `count` create attempts reach the API.
    pub fn wait_for_creates_started(&self, count: usize) -> Result<()> {
        wait_until("a create to start", || {
            Ok(self.tailnet()?.count("create_started") >= count)
        })
    }
}

impl Drop for World {
    /// terraform, its providers or a runner this world started and a test forgot (or had to
    /// leave, having failed) end here; a test that passed but left one fails.
    fn drop(&mut self) {
        test_support::process::reap_leftovers(self.dir.path());
    }
}

/// Writes `config` as `dir`'s main.tf.json.
pub fn write_config(dir: &Path, config: &Value) -> Result<()> {
    let path = dir.join("main.tf.json");
    fs::write(&path, serde_json::to_vec_pretty(config)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

pub fn path_str(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("path {} is not UTF-8", path.display()))
}

/// Polls `done` until it holds, for at most [`PATIENCE`].
pub fn wait_until(what: &str, done: impl FnMut() -> Result<bool>) -> Result<()> {
    test_support::process::wait_until(what, PATIENCE, done)
}

/// The terraform process the runner started (the shim execs it, so it keeps the shim's pid).
pub fn terraform_child(runner: u32) -> Result<u32> {
    let mut found = None;
    wait_until("the runner's terraform process", || {
        found = children(runner)
            .into_iter()
            .find(|&p| command_name(p) == "terraform");
        Ok(found.is_some())
    })?;
    found.ok_or_else(|| anyhow!("no terraform child"))
}

/// Every JSON file the runner and terraform keep must parse (no torn writes).
pub fn assert_no_torn_files(world: &World) -> Result<()> {
    let mut paths = vec![world.state_file(), world.layout.last_apply()];
    if let Ok(entries) = fs::read_dir(world.layout.backups()) {
        paths.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    for file in paths.into_iter().filter(|f| f.exists()) {
        // Terraform creates terraform.tfstate empty to lock it and reads an empty file as "no
        // state"; a kill before its first write leaves it so (observed), and backups copy it.
        let terraform_placeholder =
            file.extension().is_some_and(|e| e == "tfstate") && fs::metadata(&file)?.len() == 0;
        if !terraform_placeholder {
            files::read_json(&file).with_context(|| format!("torn file {}", file.display()))?;
        }
    }
    let tmp = files::temporary_files(&world.state)?;
    ensure!(
        tmp.is_empty(),
        "temporary files left in the state dir: {tmp:?}"
    );
    Ok(())
}

/// Where terraform may keep a secret in the state directory: its state (or the snapshot of a
/// remote one), the state's backups (terraform's `terraform.tfstate.backup` and the runner's
/// `backups/`), and the key files in `keys/`. Everything else the runner and terraform write
/// there must be free of them.
fn may_hold_secrets(state: &Path, file: &Path) -> bool {
    let Ok(relative) = file.strip_prefix(state) else {
        return false;
    };
    let name = relative.to_string_lossy();
    name == "terraform.tfstate"
        || name == StateDir::REMOTE_SNAPSHOT
        || name == "terraform.tfstate.backup"
        || (name.starts_with("backups/") && name.ends_with(".tfstate"))
        || name.starts_with("keys/")
}

/// Fails if one of `secrets` is anywhere in the state directory but where
/// [`may_hold_secrets`] allows it (the installed config, last-apply.json, the lock, terraform's
/// own files …), or in terraform's argv (the shim's log). Provider binaries are not searched.
pub fn assert_secrets_confined(world: &World, secrets: &[String]) -> Result<()> {
    assert_secrets_confined_at(world, &world.state, secrets)
}

/// [`assert_secrets_confined`] for the state directory `state` (another host's).
pub fn assert_secrets_confined_at(world: &World, state: &Path, secrets: &[String]) -> Result<()> {
    let mut pending = vec![state.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry?.path();
            let kind = fs::symlink_metadata(&path)?.file_type();
            if kind.is_dir() && !path.ends_with(".terraform/providers") {
                pending.push(path);
            } else if kind.is_file() && !may_hold_secrets(state, &path) {
                let text = String::from_utf8_lossy(&fs::read(&path)?).into_owned();
                assert_no_secrets(secrets, &text, &path.display().to_string())?;
            }
        }
    }
    assert_no_secrets(
        secrets,
        &world.terraform_log()?.join("\n"),
        "terraform's argv",
    )
}

/// The If-Match header and the answer of every policy write so far, oldest first.
pub fn acl_writes(world: &World) -> Result<Vec<(Option<String>, u16)>> {
    Ok(world
        .tailnet()?
        .requests_to("POST", "/acl")
        .iter()
        .map(|r| (r.headers.get("If-Match").cloned(), r.status))
        .collect())
}

/// The tailnet's global nameservers as (address, use with exit node), in their order.
pub fn global_nameservers(dns: &Dns) -> Vec<(&str, bool)> {
    dns.nameservers
        .iter()
        .map(|n| (n.address.as_str(), n.use_with_exit_node))
        .collect()
}

/// The string `field` of every object in the JSON list `list`, in its order (none when `list`
/// is not a list): the ids or addresses of last-apply.json's `orphaned_resources`, the names of
/// `devices`.
pub fn field_values(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item[field].as_str().map(str::to_owned))
        .collect()
}

/// A second key, for configs with two.
pub fn with_tags(key: &Value, tags: &[&str]) -> Value {
    let mut key = key.clone();
    key["tags"] = json!(tags);
    key
}
