//! For the fleet scenarios (`fleet.rs`): a private PostgreSQL cluster per test, started by
//! `checks/pg-cluster` and stopped when its guard drops (also when the test fails), and a fleet
//! of "hosts": state directories of one world, each running the real runner against the
//! cluster with the `pg` backend.
use std::cell::OnceCell;
use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, anyhow, ensure};
use serde_json::{Value, json};
use tailscale_manager::config::layout::StateDir;
use tempfile::TempDir;

use crate::common::{Output, Spawned, World, golden, path_str};

/// `checks/pg-cluster`: creates, starts and stops the clusters.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pg-cluster")
}

/// A running cluster: unix socket in its own directory, no TCP, a database `tfstate`, the
/// superuser `postgres` with a password. Stopped (`pg_ctl stop -m immediate`) and removed when
/// dropped.
pub struct PgCluster {
    dir: TempDir,
    conn: String,
    /// PostgreSQL's psql, looked up (`checks/pg-cluster bindir`) by the first query: a scenario
    /// may query in a polling loop.
    psql: OnceCell<PathBuf>,
}

impl PgCluster {
    /// Starts a fresh cluster below TMPDIR (which the postgres user must be able to traverse:
    /// checks/e2e/run makes its scratch directory so). Without PostgreSQL this fails, saying
    /// so: checks/e2e/run skips the fleet scenarios then, loudly, and never counts them passed.
    pub fn start() -> Result<PgCluster> {
        let dir = tempfile::Builder::new().prefix("pg-").tempdir()?;
        let mut cluster = PgCluster {
            dir,
            conn: String::new(),
            psql: OnceCell::new(),
        };
        cluster.conn = cluster.run("start")?;
        Ok(cluster)
    }

    fn run(&self, action: &str) -> Result<String> {
        let out = Command::new(script())
            .arg(action)
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .context("cannot run checks/pg-cluster")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            Some(77) => Err(anyhow!(
                "SKIPPED: {stderr} (checks/e2e/run skips the fleet scenarios without PostgreSQL)"
            )),
            _ => Err(anyhow!("checks/pg-cluster {action} failed: {stderr}")),
        }
    }

    /// The libpq connection string (key=value words, password included).
    pub fn conn(&self) -> &str {
        &self.conn
    }

    pub fn password(&self) -> &str {
        self.conn
            .split_whitespace()
            .find_map(|word| word.strip_prefix("password="))
            .unwrap_or_default()
    }

    /// The directory holding the cluster and its socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server at once (as a crash or `systemctl stop postgresql` would leave it).
    pub fn stop(&self) -> Result<()> {
        self.run("stop").map(drop)
    }

    /// Starts the stopped server again.
    pub fn restart(&self) -> Result<()> {
        self.run("start").map(drop)
    }

    /// Runs `sql` in the database `tfstate` with psql; its rows, one a line, fields split by `|`.
    pub fn query(&self, sql: &str) -> Result<String> {
        let psql = match self.psql.get() {
            Some(psql) => psql,
            None => {
                let psql = Path::new(&self.run("bindir")?).join("psql");
                self.psql.get_or_init(|| psql)
            }
        };
        let out = Command::new(psql)
            .args([
                "-h",
                &path_str(self.dir())?,
                "-U",
                "postgres",
                "-d",
                "tfstate",
            ])
            .args(["-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env("PGPASSWORD", self.password())
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", psql.display()))?;
        ensure!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Err(e) = self.run("stop") {
            eprintln!("warning: {e:#}");
        }
    }
}

/// The rendered config with `terraform.backend.pg` (golden 15, schema `tailscale_fleet`).
pub fn pg_config() -> Result<Value> {
    let config = golden("15-pg-backend")?;
    ensure!(
        config["terraform"]["backend"]["pg"].is_object(),
        "golden 15 renders a pg backend: {config}"
    );
    Ok(config)
}

/// The same config without the backend: local state.
pub fn local_config() -> Result<Value> {
    let mut config = pg_config()?;
    config["terraform"]
        .as_object_mut()
        .context("a terraform block")?
        .remove("backend");
    Ok(config)
}

/// A world whose hosts keep the state in one PostgreSQL cluster.
pub struct Fleet {
    // Dropped in this order: the hosts' processes end with the world, then the cluster.
    pub world: World,
    pub pg: PgCluster,
    /// The file holding the cluster's connection string (`--pg-connection-file`).
    pub conn_file: PathBuf,
}

/// One host: a state directory of its own and a workspace.
pub struct Host<'f> {
    fleet: &'f Fleet,
    pub state: PathBuf,
    pub layout: StateDir,
    pub workspace: String,
}

impl Fleet {
    /// A world with the pg config and a running cluster.
    pub fn new() -> Result<Fleet> {
        let pg = PgCluster::start()?;
        let world = World::new()?;
        world.set_config(&pg_config()?)?;
        let conn_file = world.path("pg-conn-str");
        fs::write(&conn_file, format!("{}\n", pg.conn()))?;
        Ok(Fleet {
            world,
            pg,
            conn_file,
        })
    }

    pub fn host(&self, name: &str, workspace: &str) -> Host<'_> {
        let state = self.world.path(&format!("host-{name}"));
        Host {
            fleet: self,
            layout: StateDir::new(&state),
            state,
            workspace: workspace.to_string(),
        }
    }

    /// The state of `workspace` as plain terraform pulls it (no runner involved), from a
    /// working directory whose config declares only the backend.
    pub fn remote_state(&self, workspace: &str) -> Result<Value> {
        let dir = self.world.path("plain-pg");
        let conn = ("PG_CONN_STR", self.pg.conn());
        if !dir.join(".terraform").is_dir() {
            fs::create_dir_all(&dir)?;
            let backend = json!({"terraform": {"backend": pg_config()?["terraform"]["backend"]}});
            fs::write(dir.join("main.tf.json"), serde_json::to_vec(&backend)?)?;
            self.world
                .terraform(&dir, &["init", "-input=false"], &[conn])?
                .expect(0, "terraform init (plain, pg backend)")?;
        }
        let out = self
            .world
            .terraform(
                &dir,
                &["state", "pull"],
                &[conn, ("TF_WORKSPACE", workspace)],
            )?
            .expect(0, "terraform state pull (plain)")?;
        serde_json::from_str(&out.stdout)
            .with_context(|| format!("the pulled state is not JSON:\n{}", out.stdout))
    }
}

/// The key ids a state document tracks, sorted.
pub fn key_ids(state: &Value) -> Vec<String> {
    let mut ids: Vec<String> = state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["type"] == "tailscale_tailnet_key" && r["mode"] == "managed")
        .flat_map(|r| r["instances"].as_array().into_iter().flatten())
        .filter_map(|i| i["attributes"]["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

impl Host<'_> {
    /// The runner for this host: its state directory, the connection string file and its
    /// workspace.
    pub fn command(&self, args: &[&str]) -> Result<Command> {
        let mut command = self.fleet.world.runner_command_at(&self.state, args)?;
        command
            .args(["--pg-connection-file", &path_str(&self.fleet.conn_file)?])
            .args(["--workspace", &self.workspace]);
        Ok(command)
    }

    pub fn run(&self, args: &[&str]) -> Result<Output> {
        Output::run(&mut self.command(args)?)
    }

    pub fn apply(&self) -> Result<Output> {
        self.run(&["apply"])
    }

    /// Starts the runner in a process group of its own; it dies with the guard.
    pub fn spawn(&self, args: &[&str]) -> Result<Spawned> {
        Spawned::start(self.command(args)?.process_group(0))
    }

    /// `status --json` of this host.
    pub fn status(&self) -> Result<Value> {
        self.run(&["status", "--json"])?.json()
    }

    /// The key ids this host's status lists (from its snapshot), sorted.
    pub fn status_ids(&self) -> Result<Vec<String>> {
        let status = self.status()?;
        let mut ids: Vec<String> = status["managed_keys"]
            .as_array()
            .with_context(|| format!("managed_keys: {status}"))?
            .iter()
            .filter_map(|k| k["id"].as_str().map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    pub fn last_apply(&self) -> Result<Value> {
        test_support::files::last_apply(&self.layout)
    }
}
