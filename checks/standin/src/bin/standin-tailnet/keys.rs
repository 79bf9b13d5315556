//! Breaking keys and key creation: `expire`, `revoke`, `delete`, `fail-creates`, `slow-create`.

use anyhow::{Result, bail};
use tailscale_standin::sim::{self, CommitPoint, SimFile, Tailnet};

use crate::args::{Args, parse_number, usage};

/// `expire` and `revoke`: the API then reports the keys invalid.
pub fn invalidate(file: &SimFile, command: &str, mut rest: Args) -> Result<()> {
    let target = if rest.flag("--all") {
        Target::All
    } else {
        Target::One(rest.positional("a key id or --all")?)
    };
    rest.done()?;
    let ids = file.update(|tailnet| {
        let ids = target.resolve(tailnet)?;
        for id in &ids {
            let key = tailnet.key_mut(id)?;
            if command == "expire" {
                key.expires = sim::format_time(sim::in_seconds(sim::now(), -1));
            } else {
                key.revoked = true;
            }
            tailnet.record(command, Some(id), None);
        }
        Ok(ids)
    })?;
    println!("{command}d {} key(s): {}", ids.len(), ids.join(" "));
    Ok(())
}

/// `delete`: the key is gone, so the API answers 404 for it.
pub fn delete(file: &SimFile, mut rest: Args) -> Result<()> {
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

pub fn fail_creates(file: &SimFile, mut rest: Args) -> Result<()> {
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

pub fn slow_create(file: &SimFile, mut rest: Args) -> Result<()> {
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

pub fn describe_commit(commit: CommitPoint) -> &'static str {
    match commit {
        CommitPoint::AfterSleep => "key committed after the sleep",
        CommitPoint::BeforeSleep => "key committed before the sleep",
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
