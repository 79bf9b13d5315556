//! `standin-tailnet`: sets up, inspects and breaks the simulated tailnet file of the stand-in
//! provider. Test infrastructure only.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use tailscale_standin::sim::{self, CommitPoint, SimFile, Tailnet};

const HELP: &str = "\
standin-tailnet: set up, inspect and break a simulated tailnet for the stand-in
tailscale/tailscale provider (test infrastructure; it never contacts a network).

Usage: standin-tailnet [--file PATH] <command> [arguments]

The file is --file PATH, else the path in TAILSCALE_BASE_URL=file:///PATH
(the variable the provider reads).

Commands:
  init [--tags T1,T2] [--tailnet NAME] [--credentials-out FILE] [--force]
        Create the file with one OAuth client owning the tags (default tag:ci;
        its keys must ask for exactly that set) in tailnet NAME (default
        example.com; the provider's \"-\" also matches). Prints the base URL.
        --credentials-out writes TAILSCALE_OAUTH_CLIENT_ID and
        TAILSCALE_OAUTH_CLIENT_SECRET to FILE (0600, EnvironmentFile syntax).
  list [--json]
        Keys (id, state, tags, flags, expiry), fault knobs and event counts.
        --json prints the file with every secret replaced by \"<redacted>\".
  expire ID|--all    Make keys expired (the API then reports them invalid).
  revoke ID|--all    Mark keys revoked (the API then reports them invalid).
  delete ID          Delete a key behind terraform's back (the API answers 404).
  fail-creates N [--message TEXT] [--status CODE]
        Fail the next N creates with the API error \"TEXT (CODE)\"
        (default \"internal server error\", 500). N = 0 clears it.
  slow-create SECONDS [--commit after-sleep|before-sleep]
        Every create sleeps SECONDS (0 turns it off). after-sleep (default):
        the key is put into the tailnet after the sleep, so a create killed
        while sleeping leaves nothing behind. before-sleep: the key exists
        before the sleep, so killing terraform then leaks a key that its
        state never records (a lost API response).
  help, --help       This text.

Exit status: 0 done, 1 the file or key could not be used, 2 usage error.
";

/// A usage error: exit 2.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(message: impl Into<String>) -> anyhow::Error {
    Usage(message.into()).into()
}

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Usage>() => {
            eprintln!("standin-tailnet: {e} (see standin-tailnet --help)");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("standin-tailnet: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<OsString>) -> Result<()> {
    let mut args: Vec<String> = args
        .into_iter()
        .map(|a| {
            a.into_string()
                .map_err(|a| usage(format!("argument {a:?} is not UTF-8")))
        })
        .collect::<Result<_>>()?;
    let mut file = None;
    if let Some(i) = args.iter().position(|a| a == "--file") {
        args.remove(i);
        if i >= args.len() {
            return Err(usage("--file needs a path"));
        }
        file = Some(PathBuf::from(args.remove(i)));
    }
    let Some(command) = args.first().cloned() else {
        return Err(usage("missing command"));
    };
    let mut rest = Args(args.split_off(1));
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        print!("{HELP}");
        return Ok(());
    }
    let file = match file {
        Some(path) => SimFile::new(path),
        None => match std::env::var("TAILSCALE_BASE_URL") {
            Ok(url) => SimFile::from_base_url(&url)?,
            Err(_) => {
                return Err(usage(
                    "no file: pass --file PATH or set TAILSCALE_BASE_URL=file:///PATH",
                ));
            }
        },
    };
    match command.as_str() {
        "init" => {
            let tags = rest.value("--tags")?.unwrap_or_else(|| "tag:ci".to_owned());
            let tailnet = rest
                .value("--tailnet")?
                .unwrap_or_else(|| "example.com".to_owned());
            let credentials = rest.value("--credentials-out")?.map(PathBuf::from);
            let force = rest.flag("--force");
            rest.done()?;
            init(&file, &tags, &tailnet, credentials.as_deref(), force)
        }
        "list" => {
            let json = rest.flag("--json");
            rest.done()?;
            list(&file, json)
        }
        "expire" | "revoke" => {
            let target = rest.target()?;
            rest.done()?;
            let op = command.clone();
            let ids = file.update(|tailnet| {
                let ids = target.resolve(tailnet)?;
                for id in &ids {
                    let key = tailnet.key_mut(id)?;
                    if op == "expire" {
                        key.expires = sim::format_time(sim::in_seconds(sim::now(), -1));
                    } else {
                        key.revoked = true;
                    }
                    tailnet.record(&op, Some(id), None);
                }
                Ok(ids)
            })?;
            println!("{command}d {} key(s): {}", ids.len(), ids.join(" "));
            Ok(())
        }
        "delete" => {
            let id = rest.positional("a key id")?;
            rest.done()?;
            file.update(|tailnet| {
                if !tailnet.remove_key(&id) {
                    bail!("no key with id {id:?} in the simulated tailnet");
                }
                tailnet.record("delete_behind", Some(&id), None);
                Ok(())
            })?;
            println!("deleted key {id} behind terraform's back");
            Ok(())
        }
        "fail-creates" => {
            let count: u32 = parse_number(&rest.positional("a count")?, "count")?;
            let message = rest
                .value("--message")?
                .unwrap_or_else(|| "internal server error".to_owned());
            let status: u16 = match rest.value("--status")? {
                Some(s) => parse_number(&s, "--status")?,
                None => 500,
            };
            if !(400..=599).contains(&status) {
                return Err(usage(format!(
                    "--status {status} is not an error status (400-599)"
                )));
            }
            rest.done()?;
            file.update(|tailnet| {
                tailnet.faults.fail_next_creates = count;
                tailnet.faults.fail_message = message.clone();
                tailnet.faults.fail_status = status;
                Ok(())
            })?;
            println!("the next {count} create(s) fail with \"{message} ({status})\"");
            Ok(())
        }
        "slow-create" => {
            let seconds: u64 = parse_number(&rest.positional("a number of seconds")?, "seconds")?;
            let commit = match rest.value("--commit")?.as_deref() {
                None | Some("after-sleep") => CommitPoint::AfterSleep,
                Some("before-sleep") => CommitPoint::BeforeSleep,
                Some(other) => {
                    return Err(usage(format!(
                        "--commit must be after-sleep or before-sleep, not {other:?}"
                    )));
                }
            };
            rest.done()?;
            file.update(|tailnet| {
                tailnet.faults.create_delay_seconds = seconds;
                tailnet.faults.create_commit = commit;
                Ok(())
            })?;
            println!("creates sleep {seconds} s ({})", describe_commit(commit));
            Ok(())
        }
        other => Err(usage(format!("unknown command {other:?}"))),
    }
}

fn parse_number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse().map_err(|_| {
        usage(format!(
            "{what} must be a non-negative whole number, not {text:?}"
        ))
    })
}

fn describe_commit(commit: CommitPoint) -> &'static str {
    match commit {
        CommitPoint::AfterSleep => "key committed after the sleep",
        CommitPoint::BeforeSleep => "key committed before the sleep",
    }
}

/// The remaining arguments of one command.
struct Args(Vec<String>);

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        let found = self.0.iter().position(|a| a == name);
        found.map(|i| self.0.remove(i)).is_some()
    }

    fn value(&mut self, name: &str) -> Result<Option<String>> {
        let Some(i) = self.0.iter().position(|a| a == name) else {
            return Ok(None);
        };
        self.0.remove(i);
        if i >= self.0.len() || self.0[i].starts_with("--") {
            return Err(usage(format!("{name} needs a value")));
        }
        Ok(Some(self.0.remove(i)))
    }

    fn positional(&mut self, what: &str) -> Result<String> {
        match self.0.iter().position(|a| !a.starts_with("--")) {
            Some(i) => Ok(self.0.remove(i)),
            None => Err(usage(format!("missing {what}"))),
        }
    }

    fn target(&mut self) -> Result<Target> {
        if self.flag("--all") {
            Ok(Target::All)
        } else {
            self.positional("a key id or --all").map(Target::One)
        }
    }

    fn done(&self) -> Result<()> {
        match self.0.first() {
            None => Ok(()),
            Some(extra) => Err(usage(format!("unexpected argument {extra:?}"))),
        }
    }
}

enum Target {
    One(String),
    All,
}

impl Target {
    fn resolve(&self, tailnet: &Tailnet) -> Result<Vec<String>> {
        match self {
            Target::All => Ok(tailnet.keys.iter().map(|k| k.id.clone()).collect()),
            Target::One(id) if tailnet.key(id).is_some() => Ok(vec![id.clone()]),
            Target::One(id) => bail!("no key with id {id:?} in the simulated tailnet"),
        }
    }
}

fn init(
    file: &SimFile,
    tags: &str,
    tailnet_name: &str,
    credentials: Option<&Path>,
    force: bool,
) -> Result<()> {
    let tags: Vec<String> = tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = tags.iter().find(|t| !t.starts_with("tag:")) {
        return Err(usage(format!("tag {bad:?} must start with \"tag:\"")));
    }
    if tailnet_name.is_empty() || tailnet_name == "-" {
        return Err(usage(
            "--tailnet needs a real name (\"-\" always means the tailnet of the credentials)",
        ));
    }
    let path = absolute(file.path())?;
    let file = SimFile::new(&path);
    let tailnet = Tailnet::new(tailnet_name, tags)?;
    file.create(&tailnet, force)?;
    if let Some(out) = credentials {
        let client = &tailnet.oauth_clients[0];
        let text = format!(
            "TAILSCALE_OAUTH_CLIENT_ID={}\nTAILSCALE_OAUTH_CLIENT_SECRET={}\n",
            client.id, client.secret
        );
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true).mode(0o600);
        options
            .open(out)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write credentials to {}", out.display()))?;
    }
    println!("TAILSCALE_BASE_URL=file://{}", path.display());
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let cwd = std::env::current_dir().context("cannot find the current directory")?;
    Ok(cwd.join(path))
}

fn list(file: &SimFile, json: bool) -> Result<()> {
    let mut tailnet = file.read()?;
    if json {
        for client in &mut tailnet.oauth_clients {
            client.secret = "<redacted>".into();
        }
        for key in &mut tailnet.keys {
            key.key = "<redacted>".into();
        }
        println!("{}", serde_json::to_string_pretty(&tailnet)?);
        return Ok(());
    }
    let now = sim::now();
    let mut out = String::new();
    writeln!(
        out,
        "tailnet {} ({})",
        tailnet.tailnet,
        file.path().display()
    )?;
    for client in &tailnet.oauth_clients {
        writeln!(
            out,
            "oauth client {}  tags: {}",
            client.id,
            client.tags.join(",")
        )?;
    }
    writeln!(out, "keys: {}", tailnet.keys.len())?;
    for key in &tailnet.keys {
        let state = if key.revoked {
            "revoked"
        } else if key.invalid(now) {
            "expired"
        } else {
            "valid"
        };
        let flags: Vec<&str> = [
            (key.reusable, "reusable"),
            (key.ephemeral, "ephemeral"),
            (key.preauthorized, "preauthorized"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        writeln!(
            out,
            "  {}  {state:<7}  tags {}  {}  expires {}  {:?}",
            key.id,
            key.tags.join(","),
            if flags.is_empty() {
                "-".to_owned()
            } else {
                flags.join(",")
            },
            key.expires,
            key.description
        )?;
    }
    let faults = &tailnet.faults;
    if faults.fail_next_creates > 0 {
        writeln!(
            out,
            "fault: the next {} create(s) fail with \"{} ({})\"",
            faults.fail_next_creates, faults.fail_message, faults.fail_status
        )?;
    }
    if faults.create_delay_seconds > 0 {
        writeln!(
            out,
            "fault: creates sleep {} s ({})",
            faults.create_delay_seconds,
            describe_commit(faults.create_commit)
        )?;
    }
    let ops = [
        "create",
        "create_failed",
        "delete",
        "delete_missing",
        "auth_failed",
    ];
    let counts: Vec<String> = ops
        .iter()
        .map(|op| format!("{op} {}", tailnet.count(op)))
        .collect();
    writeln!(out, "events: {}", counts.join(", "))?;
    print!("{out}");
    Ok(())
}
