//! Creating and summarising the file: `init` and `list`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use tailscale_standin::sim::{self, SimFile, Tailnet};

use crate::args::{self, Args, usage};
use crate::keys;

/// `init`: a new file with one OAuth client.
pub fn init(file: &SimFile, mut rest: Args) -> Result<()> {
    let tags = args::tags(&rest.value("--tags")?.unwrap_or_else(|| "tag:ci".to_owned()))?;
    let tailnet_name = rest
        .value("--tailnet")?
        .unwrap_or_else(|| "example.com".to_owned());
    let client_scopes = rest.value("--scopes")?.map(|s| args::list(&s));
    let credentials = rest.value("--credentials-out")?.map(PathBuf::from);
    let force = rest.flag("--force");
    rest.done()?;
    if tailnet_name.is_empty() || tailnet_name == "-" {
        return Err(usage(
            "--tailnet needs a real name (\"-\" always means the tailnet of the credentials)",
        ));
    }
    let path = absolute(file.path())?;
    let file = SimFile::new(&path);
    let mut tailnet = Tailnet::new(&tailnet_name, tags)?;
    if let Some(client_scopes) = client_scopes {
        tailnet.oauth_clients[0].scopes = client_scopes;
    }
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
            .open(&out)
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

/// `list`: keys, fault knobs and event counts, or the whole file without secrets.
pub fn list(file: &SimFile, mut rest: Args) -> Result<()> {
    let json = rest.flag("--json");
    rest.done()?;
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
            keys::describe_commit(faults.create_commit)
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
