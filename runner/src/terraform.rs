//! Running terraform (or OpenTofu): a cleared environment plus an allowlist, `-json` output
//! turned into progress lines and diagnostics, and the init fingerprint.
//!
//! We never kill terraform: systemd's `TimeoutStartSec` stops the unit, and terraform
//! saves its state when it is asked to stop.
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::atomic;
use crate::cli::Action;
use crate::credentials::{self, Credentials};
use crate::last_apply::Changes;
use crate::outcome::usage;
use crate::scrub::Scrubber;

/// Variables passed through from the caller's environment when set.
const PASS_THROUGH: [&str; 6] = [
    "PATH",
    "TMPDIR",
    "SSL_CERT_FILE",
    "NIX_SSL_CERT_FILE",
    "TAILSCALE_TAILNET",
    "TAILSCALE_BASE_URL",
];
const FINGERPRINT_FILE: &str = ".init-fingerprint";
/// How much of terraform's unstructured output we keep for error messages.
const TAIL_BYTES: usize = 8192;

/// Finds the terraform binary: `--terraform` (a path, or a name looked up on PATH), else
/// `terraform` on PATH.
pub fn locate(flag: Option<&Path>, path_env: Option<&OsStr>) -> Result<PathBuf> {
    let fix = "pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN";
    let wanted = flag.unwrap_or(Path::new("terraform"));
    if wanted.as_os_str().as_bytes().contains(&b'/') {
        let absolute = std::path::absolute(wanted)
            .with_context(|| format!("cannot resolve {}", wanted.display()))?;
        if !absolute.is_file() {
            return Err(usage(format!(
                "terraform binary {} does not exist or is not a file; {fix}",
                absolute.display()
            )));
        }
        return Ok(absolute);
    }
    std::env::split_paths(path_env.unwrap_or_default())
        .map(|dir| dir.join(wanted))
        .find(|candidate| candidate.is_file())
        .and_then(|found| std::path::absolute(found).ok())
        .ok_or_else(|| usage(format!("{} not found on PATH; {fix}", wanted.display())))
}

/// The environment terraform runs with: nothing from the caller except the allowlist.
pub fn environment(
    caller: impl IntoIterator<Item = (OsString, OsString)>,
    state_dir: &Path,
    credentials: Option<&Credentials>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = caller
        .into_iter()
        .filter(|(name, _)| {
            let name = name.as_bytes();
            name.starts_with(b"TF_") || PASS_THROUGH.iter().any(|p| p.as_bytes() == name)
        })
        .collect();
    let mut set = |name: &str, value: &OsStr| {
        env.retain(|(n, _)| n != name);
        env.push((name.into(), value.to_os_string()));
    };
    set("HOME", state_dir.as_os_str());
    set("TF_IN_AUTOMATION", OsStr::new("1"));
    set("CHECKPOINT_DISABLE", OsStr::new("1"));
    if let Some(c) = credentials {
        set(credentials::CLIENT_ID, OsStr::new(&c.client_id));
        set(credentials::CLIENT_SECRET, OsStr::new(&c.client_secret));
    }
    env
}

pub struct Terraform {
    pub bin: PathBuf,
    dir: PathBuf,
    env: Vec<(OsString, OsString)>,
    scrubber: Scrubber,
    lock_timeout: Duration,
}

/// What one terraform command did.
#[derive(Debug, Default)]
pub struct Run {
    pub exit: Option<ExitStatus>,
    pub log: JsonLog,
    /// The end of terraform's stderr, scrubbed.
    pub stderr_tail: String,
    /// The end of terraform's unstructured stdout (non-JSON lines), scrubbed.
    pub stdout_tail: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.exit.is_some_and(|s| s.success())
    }

    pub fn needs_init(&self) -> bool {
        self.log.needs_init || mentions_init(&self.stderr_tail) || mentions_init(&self.stdout_tail)
    }

    /// A scrubbed description of the failure, most useful line first.
    pub fn error_message(&self, what: &str) -> String {
        if !self.log.errors.is_empty() {
            return self.log.errors.join("\n\n");
        }
        let how = match self.exit {
            Some(s) => match (s.code(), s.signal()) {
                (Some(code), _) => format!("exited with status {code}"),
                (None, Some(signal)) => format!("was killed by signal {signal}"),
                _ => "failed".to_string(),
            },
            None => "failed".to_string(),
        };
        // terraform writes its errors to stderr; stdout only helps when stderr is empty.
        let tail = match self.stderr_tail.trim() {
            "" => self.stdout_tail.trim(),
            stderr => stderr,
        };
        let tail = tail.strip_prefix("Error: ").unwrap_or(tail);
        if tail.is_empty() {
            format!("terraform {what} {how}")
        } else {
            format!("terraform {what} {how}: {tail}")
        }
    }
}

impl Terraform {
    pub fn new(
        bin: PathBuf,
        state_dir: &Path,
        credentials: Option<&Credentials>,
        lock_timeout: Duration,
    ) -> Self {
        let scrubber = Scrubber::new(credentials.map(|c| c.client_secret.clone()));
        Terraform {
            env: environment(std::env::vars_os(), state_dir, credentials),
            bin,
            dir: state_dir.to_path_buf(),
            scrubber,
            lock_timeout,
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text)
    }

    fn command(&self, args: &[&str]) -> Command {
        let secret =
            |name: &OsString| name == credentials::CLIENT_ID || name == credentials::CLIENT_SECRET;
        let needs_credentials = args.first() != Some(&"init");
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .current_dir(&self.dir)
            // Nothing from our environment leaks into terraform or its providers but the
            // allowlist in `environment()`.
            .env_clear()
            .envs(
                self.env
                    .iter()
                    .filter(|(k, _)| needs_credentials || !secret(k))
                    .map(|(k, v)| (k, v)),
            )
            .stdin(Stdio::null())
            // Its own process group: stop signals reach terraform only through the runner,
            // once (see signals.rs), never twice.
            .process_group(0)
            // Piped so every line can be scrubbed of secrets before anyone sees it.
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn lock_timeout_arg(&self) -> String {
        format!("-lock-timeout={}s", self.lock_timeout.as_secs())
    }

    /// `terraform init`: output goes to stderr (the journal). Init configures no provider,
    /// so it gets no credentials.
    pub fn init(&self) -> Result<Run> {
        self.run(&["init", "-input=false", "-no-color"], Output::Progress)
    }

    /// `terraform apply|destroy -json`: progress lines to stderr, diagnostics collected.
    pub fn apply(&self, action: Action) -> Result<Run> {
        let lock = self.lock_timeout_arg();
        let args = [
            action.as_str(),
            "-input=false",
            "-no-color",
            "-auto-approve",
            "-json",
            &lock,
        ];
        self.run(&args, Output::Json)
    }

    /// `terraform plan -detailed-exitcode`: the plan text goes to stdout for the operator.
    pub fn plan(&self) -> Result<Run> {
        let lock = self.lock_timeout_arg();
        let args = [
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            &lock,
        ];
        self.run(&args, Output::Stdout)
    }

    fn run(&self, args: &[&str], output: Output) -> Result<Run> {
        crate::signals::check(&format!("running terraform {}", args[0]))?;
        let mut child = self.command(args).spawn().with_context(|| {
            format!(
                "cannot run {} (is it an executable terraform or tofu binary? \
                 pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN)",
                self.bin.display()
            )
        })?;
        crate::signals::set_child(Some(child.id()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let scrubber = self.scrubber.clone();
        let stderr_thread = std::thread::spawn(move || {
            let mut tail = Tail::default();
            for_each_line(stderr, |line| {
                let line = scrubber.scrub(line);
                eprintln!("{line}");
                tail.push(&line);
            });
            tail.0
        });
        let mut run = Run::default();
        let mut tail = Tail::default();
        let stdout = child.stdout.take().expect("stdout is piped");
        for_each_line(stdout, |line| {
            let line = self.scrubber.scrub(line);
            match output {
                Output::Stdout => println!("{line}"),
                Output::Progress => {
                    eprintln!("{line}");
                    tail.push(&line);
                }
                Output::Json => match run.log.feed(&line) {
                    Some(Feed::Show(text)) => eprintln!("{text}"),
                    Some(Feed::Quiet) => {}
                    None => {
                        eprintln!("{line}");
                        tail.push(&line);
                    }
                },
            }
        });
        let status = child.wait();
        crate::signals::set_child(None);
        let status = status.with_context(|| format!("cannot wait for {}", self.bin.display()))?;
        let stderr_tail = stderr_thread.join().unwrap_or_default();
        run.exit = Some(status);
        run.stdout_tail = tail.0;
        run.stderr_tail = stderr_tail;
        Ok(run)
    }
}

#[derive(Clone, Copy)]
enum Output {
    /// Plain text shown to the operator on stdout.
    Stdout,
    /// Plain text logged on stderr.
    Progress,
    /// terraform's `-json` machine-readable UI.
    Json,
}

/// Keeps the last [`TAIL_BYTES`] of text.
#[derive(Default)]
struct Tail(String);

impl Tail {
    fn push(&mut self, line: &str) {
        self.0.push_str(line);
        self.0.push('\n');
        if self.0.len() > 2 * TAIL_BYTES {
            let mut cut = self.0.len() - TAIL_BYTES;
            while !self.0.is_char_boundary(cut) {
                cut += 1;
            }
            self.0.drain(..cut);
        }
    }
}

/// Calls `f` for every line of `reader`, tolerating invalid UTF-8.
fn for_each_line(reader: impl Read, mut f: impl FnMut(&str)) {
    let mut reader = BufReader::new(reader);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                f(line.trim_end_matches(['\n', '\r']));
            }
        }
    }
}

/// True when terraform's text says the working directory needs `init`.
pub fn mentions_init(text: &str) -> bool {
    [
        "terraform init",
        "tofu init",
        "Inconsistent dependency lock file",
        "Required plugins are not installed",
        "Backend initialization required",
        "Module not installed",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// The state of a `-json` run, built line by line.
#[derive(Debug, Default)]
pub struct JsonLog {
    /// The final `change_summary` of an apply or destroy.
    pub summary: Option<Changes>,
    /// Changes counted from `apply_complete` messages (what really happened so far).
    pub completed: Changes,
    /// Whether terraform started changing anything.
    pub started_applying: bool,
    /// Error diagnostics, one readable text each.
    pub errors: Vec<String>,
    pub needs_init: bool,
}

pub enum Feed {
    /// A progress line for the journal.
    Show(String),
    /// A JSON message we understood and do not print.
    Quiet,
}

#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "@message", default)]
    message: String,
    changes: Option<SummaryChanges>,
    diagnostic: Option<Diagnostic>,
    hook: Option<Hook>,
}

#[derive(Deserialize)]
struct SummaryChanges {
    add: u64,
    change: u64,
    remove: u64,
    operation: String,
}

#[derive(Deserialize)]
struct Diagnostic {
    severity: String,
    summary: String,
    #[serde(default)]
    detail: String,
    address: Option<String>,
}

#[derive(Deserialize)]
struct Hook {
    action: Option<String>,
}

impl JsonLog {
    /// Takes one stdout line. Returns None for lines that are not terraform JSON messages.
    pub fn feed(&mut self, line: &str) -> Option<Feed> {
        let msg: Message = serde_json::from_str(line).ok()?;
        let show = |text: &str| Some(Feed::Show(text.to_string()));
        match msg.kind.as_str() {
            "change_summary" => {
                if let Some(c) = &msg.changes
                    && (c.operation == "apply" || c.operation == "destroy")
                {
                    self.summary = Some(Changes {
                        add: c.add,
                        change: c.change,
                        remove: c.remove,
                    });
                }
                show(&msg.message)
            }
            "apply_start" => {
                self.started_applying = true;
                show(&msg.message)
            }
            "apply_complete" => {
                match msg.hook.as_ref().and_then(|h| h.action.as_deref()) {
                    Some("create") => self.completed.add += 1,
                    Some("update") => self.completed.change += 1,
                    Some("delete") => self.completed.remove += 1,
                    _ => {}
                }
                show(&msg.message)
            }
            "apply_errored" | "planned_change" | "resource_drift" => show(&msg.message),
            "diagnostic" => {
                let Some(d) = msg.diagnostic else {
                    return show(&msg.message);
                };
                let mut text = match &d.address {
                    Some(address) => format!("{address}: {}", d.summary),
                    None => d.summary.clone(),
                };
                if !d.detail.trim().is_empty() {
                    text.push_str(": ");
                    text.push_str(d.detail.trim());
                }
                if d.severity == "error" {
                    self.needs_init |= mentions_init(&d.summary) || mentions_init(&d.detail);
                    self.errors.push(text.clone());
                    Some(Feed::Show(format!("Error: {text}")))
                } else {
                    Some(Feed::Show(format!("Warning: {text}")))
                }
            }
            _ => Some(Feed::Quiet),
        }
    }

    /// What changed: the final summary, or what completed before a failure.
    pub fn changes(&self) -> Option<Changes> {
        self.summary
            .or(self.started_applying.then_some(self.completed))
    }
}

/// What `init` depends on: the terraform binary and the config's `terraform` block.
pub fn fingerprint(bin: &Path, config: &serde_json::Value) -> serde_json::Value {
    let real = std::fs::canonicalize(bin).unwrap_or_else(|_| bin.to_path_buf());
    let meta = std::fs::metadata(&real).ok();
    let modified = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos().to_string());
    serde_json::json!({
        "terraform": real.to_string_lossy(),
        "terraform_size": meta.map(|m| m.len()),
        "terraform_modified_ns": modified,
        "terraform_block": config.get("terraform"),
    })
}

/// Whether `terraform init` must run before plan/apply in `state_dir`.
pub fn needs_init(state_dir: &Path, fingerprint: &serde_json::Value) -> bool {
    let recorded = std::fs::read(state_dir.join(FINGERPRINT_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    !state_dir.join(".terraform").is_dir()
        || !state_dir.join(".terraform.lock.hcl").is_file()
        || recorded.as_ref() != Some(fingerprint)
}

/// Remembers a successful init.
pub fn record_init(state_dir: &Path, fingerprint: &serde_json::Value) -> Result<()> {
    let bytes = serde_json::to_vec(fingerprint).context("cannot serialize the init fingerprint")?;
    atomic::write(&state_dir.join(FINGERPRINT_FILE), &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn lookup<'a>(env: &'a [(OsString, OsString)], name: &str) -> Option<&'a str> {
        env.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.to_str())
    }

    #[test]
    fn environment_is_an_allowlist() {
        let caller = os(&[
            ("PATH", "/bin"),
            ("HOME", "/root"),
            ("CANARY", "must-not-leak"),
            ("AWS_SECRET_ACCESS_KEY", "nope"),
            ("TF_LOG", "info"),
            ("TF_IN_AUTOMATION", "0"),
            ("TAILSCALE_BASE_URL", "file:///tmp/tailnet.json"),
            ("TAILSCALE_TAILNET", "example.com"),
            ("TAILSCALE_OAUTH_CLIENT_SECRET", "from-caller"),
            ("TAILSCALE_API_KEY", "tskey-api-x"),
            ("NIX_SSL_CERT_FILE", "/etc/ssl/certs/ca.pem"),
        ]);
        let creds = Credentials {
            source: credentials::Source::Environment,
            client_id: "kid".into(),
            client_secret: "from-file".into(),
        };
        let env = environment(caller, Path::new("/var/lib/tm"), Some(&creds));
        let names: Vec<&str> = env.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        for absent in ["CANARY", "AWS_SECRET_ACCESS_KEY", "TAILSCALE_API_KEY"] {
            assert!(
                !names.contains(&absent),
                "{absent} must not reach terraform: {names:?}"
            );
        }
        assert_eq!(
            lookup(&env, "HOME"),
            Some("/var/lib/tm"),
            "HOME is the state dir"
        );
        assert_eq!(lookup(&env, "PATH"), Some("/bin"));
        assert_eq!(lookup(&env, "TF_LOG"), Some("info"), "caller's TF_* pass");
        assert_eq!(lookup(&env, "TF_IN_AUTOMATION"), Some("1"), "forced");
        assert_eq!(lookup(&env, "CHECKPOINT_DISABLE"), Some("1"));
        assert_eq!(
            lookup(&env, "TAILSCALE_BASE_URL"),
            Some("file:///tmp/tailnet.json")
        );
        assert_eq!(lookup(&env, "TAILSCALE_TAILNET"), Some("example.com"));
        assert_eq!(
            lookup(&env, "NIX_SSL_CERT_FILE"),
            Some("/etc/ssl/certs/ca.pem")
        );
        assert_eq!(lookup(&env, "TAILSCALE_OAUTH_CLIENT_ID"), Some("kid"));
        assert_eq!(
            lookup(&env, "TAILSCALE_OAUTH_CLIENT_SECRET"),
            Some("from-file"),
            "the resolved credentials replace the caller's"
        );
        let once = env.iter().filter(|(k, _)| k == "TF_IN_AUTOMATION").count();
        assert_eq!(once, 1, "no duplicate variables");
    }

    #[test]
    fn without_credentials_none_are_passed() {
        let env = environment(
            os(&[("TAILSCALE_OAUTH_CLIENT_SECRET", "x")]),
            Path::new("/s"),
            None,
        );
        assert_eq!(lookup(&env, "TAILSCALE_OAUTH_CLIENT_SECRET"), None);
    }

    // Lines as terraform 1.11.4 writes them (shared facts, provider.md §5).
    const SUCCESS: &[&str] = &[
        r#"{"@level":"info","@message":"Terraform 1.11.4","@module":"terraform.ui","terraform":"1.11.4","type":"version","ui":"1.2"}"#,
        r#"{"@level":"info","@message":"tailscale_tailnet_key.ci: Plan to create","@module":"terraform.ui","change":{"resource":{"addr":"tailscale_tailnet_key.ci"},"action":"create"},"type":"planned_change"}"#,
        r#"{"@level":"info","@message":"Plan: 1 to add, 0 to change, 0 to destroy.","@module":"terraform.ui","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"plan"},"type":"change_summary"}"#,
        r#"{"@level":"info","@message":"tailscale_tailnet_key.ci: Creating...","@module":"terraform.ui","hook":{"resource":{"addr":"tailscale_tailnet_key.ci"},"action":"create"},"type":"apply_start"}"#,
        r#"{"@level":"info","@message":"tailscale_tailnet_key.ci: Creation complete after 0s [id=k1CNTRL]","@module":"terraform.ui","hook":{"resource":{"addr":"tailscale_tailnet_key.ci"},"action":"create","id_key":"id","id_value":"k1CNTRL","elapsed_seconds":0},"type":"apply_complete"}"#,
        r#"{"@level":"info","@message":"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.","@module":"terraform.ui","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"},"type":"change_summary"}"#,
        r#"{"@level":"info","@message":"Outputs: 0","@module":"terraform.ui","outputs":{},"type":"outputs"}"#,
    ];

    #[test]
    fn a_successful_apply_is_summarised() {
        let mut log = JsonLog::default();
        let shown: Vec<String> = SUCCESS
            .iter()
            .filter_map(|l| match log.feed(l) {
                Some(Feed::Show(t)) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(
            shown,
            [
                "tailscale_tailnet_key.ci: Plan to create",
                "Plan: 1 to add, 0 to change, 0 to destroy.",
                "tailscale_tailnet_key.ci: Creating...",
                "tailscale_tailnet_key.ci: Creation complete after 0s [id=k1CNTRL]",
                "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
            ]
        );
        assert_eq!(
            log.changes(),
            Some(Changes {
                add: 1,
                change: 0,
                remove: 0
            })
        );
        assert!(log.errors.is_empty());
    }

    #[test]
    fn a_failed_apply_keeps_the_diagnostic_and_counts_what_completed() {
        let mut log = JsonLog::default();
        for line in &SUCCESS[..5] {
            log.feed(line);
        }
        log.feed(r#"{"@level":"error","@message":"tailscale_tailnet_key.b: Creation errored after 0s","hook":{"resource":{"addr":"tailscale_tailnet_key.b"},"action":"create"},"type":"apply_errored"}"#);
        log.feed(r#"{"@level":"error","@message":"Error: Failed to create key","diagnostic":{"severity":"error","summary":"Failed to create key","detail":"Error creating tailnet key: requested tags [tag:x] are invalid or not permitted (400)","address":"tailscale_tailnet_key.b"},"type":"diagnostic"}"#);
        assert_eq!(
            log.errors,
            [
                "tailscale_tailnet_key.b: Failed to create key: Error creating tailnet key: requested tags [tag:x] are invalid or not permitted (400)"
            ]
        );
        assert_eq!(
            log.changes(),
            Some(Changes {
                add: 1,
                change: 0,
                remove: 0
            }),
            "no apply summary on failure: count completed operations"
        );
        assert!(!log.needs_init);
    }

    #[test]
    fn init_required_is_recognised() {
        let mut log = JsonLog::default();
        log.feed(r#"{"@level":"error","@message":"Error: Inconsistent dependency lock file","diagnostic":{"severity":"error","summary":"Inconsistent dependency lock file","detail":"…run:\n  terraform init"},"type":"diagnostic"}"#);
        assert!(log.needs_init);
        assert_eq!(log.changes(), None, "nothing was applied");
        assert!(mentions_init("Error: Required plugins are not installed"));
        assert!(!mentions_init("Error: Failed to create key"));
    }

    #[test]
    fn non_json_lines_are_not_swallowed() {
        let mut log = JsonLog::default();
        assert!(log.feed("panic: runtime error").is_none());
        assert!(log.feed("{\"not\":\"terraform\"}").is_none());
    }

    #[test]
    fn error_messages_without_diagnostics_use_the_output_tail() {
        let mut run = Run {
            exit: Some(ExitStatus::from_raw(1 << 8)),
            stdout_tail: "Initializing provider plugins...".into(),
            stderr_tail: "Error: Failed to query available provider packages\n\nCould not retrieve"
                .into(),
            ..Run::default()
        };
        assert_eq!(
            run.error_message("init"),
            "terraform init exited with status 1: Failed to query available provider packages\n\nCould not retrieve"
        );
        run.exit = Some(ExitStatus::from_raw(9));
        run.stdout_tail.clear();
        run.stderr_tail.clear();
        assert_eq!(
            run.error_message("apply"),
            "terraform apply was killed by signal 9"
        );
    }

    #[test]
    fn locate_reports_missing_binaries_as_configuration_errors() {
        let err = locate(Some(Path::new("/nonexistent/terraform")), None).unwrap_err();
        assert!(crate::outcome::is_usage(&err));
        assert_eq!(
            format!("{err:#}"),
            "terraform binary /nonexistent/terraform does not exist or is not a file; pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN"
        );
        let err = locate(None, Some(OsStr::new("/nonexistent"))).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "terraform not found on PATH; pass --terraform PATH or set TAILSCALE_MANAGER_TERRAFORM_BIN"
        );
    }

    #[test]
    fn locate_searches_path_for_bare_names() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let bin = dir.path().join("tofu");
        std::fs::write(&bin, "#!/bin/sh\n")?;
        let path = std::env::join_paths([Path::new("/nonexistent"), dir.path()])?;
        assert_eq!(locate(Some(Path::new("tofu")), Some(&path))?, bin);
        Ok(())
    }

    #[test]
    fn init_is_needed_until_recorded_and_again_after_a_change() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let bin = dir.path().join("terraform");
        std::fs::write(&bin, "v1")?;
        let config = serde_json::json!({"terraform": {"required_providers": {"tailscale": {"version": "~> 0.29"}}}});
        let fp = fingerprint(&bin, &config);
        assert!(needs_init(dir.path(), &fp), "never initialised");
        std::fs::create_dir(dir.path().join(".terraform"))?;
        std::fs::write(dir.path().join(".terraform.lock.hcl"), "")?;
        assert!(needs_init(dir.path(), &fp), "no fingerprint recorded yet");
        record_init(dir.path(), &fp)?;
        assert!(!needs_init(dir.path(), &fp), "nothing changed");
        let other_resources = serde_json::json!({
            "terraform": {"required_providers": {"tailscale": {"version": "~> 0.29"}}},
            "resource": {"tailscale_tailnet_key": {"x": {}}}
        });
        assert!(
            !needs_init(dir.path(), &fingerprint(&bin, &other_resources)),
            "resources do not need init"
        );
        let new_version = serde_json::json!({"terraform": {"required_providers": {"tailscale": {"version": "~> 0.30"}}}});
        assert!(
            needs_init(dir.path(), &fingerprint(&bin, &new_version)),
            "terraform block changed"
        );
        std::fs::write(&bin, "version two")?;
        assert!(
            needs_init(dir.path(), &fingerprint(&bin, &config)),
            "binary changed"
        );
        std::fs::remove_file(dir.path().join(".terraform.lock.hcl"))?;
        assert!(needs_init(dir.path(), &fp), "lock file gone");
        Ok(())
    }
}
