//! The policy file: `set-policy`, `show-policy`.

use std::io::Read as _;

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use tailscale_standin::hujson;
use tailscale_standin::sim::{Policy, SimFile};

use crate::args::{Args, usage};

/// Sets the policy as the admin console would (no If-Match), or restores the default.
pub fn set(file: &SimFile, mut rest: Args) -> Result<()> {
    let default = rest.flag("--default");
    let source = if default {
        None
    } else {
        Some(rest.positional("a policy file (- for stdin) or --default")?)
    };
    rest.done()?;
    let policy = match source.as_deref() {
        None => Policy::default(),
        Some(source) => {
            let mut text = String::new();
            if source == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("cannot read the policy from stdin")?;
            } else {
                text = std::fs::read_to_string(source)
                    .with_context(|| format!("cannot read the policy file {source}"))?;
            }
            if text.is_empty() {
                return Err(usage(
                    "an empty policy would reset to the default: use --default",
                ));
            }
            if let Err(e) = hujson::parse(&text) {
                bail!("{source} is not a policy the API would accept: {e}");
            }
            Policy {
                hujson: text,
                default: false,
            }
        }
    };
    let etag = file.update(|tailnet| {
        tailnet.policy = policy.clone();
        let what = if default {
            "the default"
        } else {
            "a custom policy"
        };
        tailnet.record("set_policy", None, Some(what.to_owned()));
        Ok(tailnet.policy.etag())
    })?;
    let what = if default {
        "the default policy"
    } else {
        "a policy that is not the default"
    };
    println!("the tailnet now has {what} (ETag {etag})");
    Ok(())
}

pub fn show(file: &SimFile, mut rest: Args) -> Result<()> {
    let json = rest.flag("--json");
    rest.done()?;
    let policy = file.read()?.policy;
    if json {
        let shown = json!({
            "hujson": policy.hujson,
            "default": policy.default,
            "etag": policy.etag(),
        });
        println!("{}", serde_json::to_string_pretty(&shown)?);
    } else {
        print!("{}", policy.hujson);
    }
    Ok(())
}
