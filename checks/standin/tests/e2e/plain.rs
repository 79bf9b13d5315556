//! Plain terraform (no runner) against the stand-ins: a working directory with both stand-in
//! providers, config edits, and reading what terraform printed and saved.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use test_support::files;

use crate::common::{Output, World, write_config};

pub const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false"];
pub const DESTROY: &[&str] = &["destroy", "-auto-approve", "-input=false"];
pub const PLAN: &[&str] = &["plan", "-input=false", "-detailed-exitcode"];

/// A working directory `name` whose main.tf.json requires both stand-ins and holds `body`
/// (`resource`, `data`, `provider` …), initialised.
pub fn tf_project(world: &World, name: &str, body: Value) -> Result<PathBuf> {
    let mut config = json!({
        "terraform": {"required_providers": {
            "tailscale": {"source": "tailscale/tailscale", "version": "~> 0.29"},
            "local": {"source": "hashicorp/local", "version": "~> 2.6"},
        }},
        "provider": {"tailscale": {}},
    });
    for (key, value) in body.as_object().context("a config body is an object")? {
        config[key] = value.clone();
    }
    world.init_project(name, &config)
}

/// Sets one value of the config (a JSON pointer; the last key may be new) without running init
/// again.
pub fn set_config(dir: &Path, pointer: &str, value: Value) -> Result<()> {
    let path = dir.join("main.tf.json");
    let mut config = files::read_json(&path)?;
    let (parent, key) = pointer
        .rsplit_once('/')
        .context("a pointer starts with /")?;
    let parent = config
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .with_context(|| format!("{parent} is not an object in the config"))?;
    parent.insert(key.to_owned(), value);
    write_config(dir, &config)
}

/// Fails unless the output says `expected`; terraform wraps diagnostics at 78 columns and
/// draws a box, so every run of whitespace and box rules counts as one space.
pub fn ensure_says(run: &Output, expected: &str) -> Result<()> {
    let squash = |s: &str| {
        s.split_whitespace()
            .filter(|w| *w != "│")
            .collect::<Vec<_>>()
            .join(" ")
    };
    ensure!(
        squash(&run.all()).contains(&squash(expected)),
        "expected {expected:?} in:\n{}",
        run.all()
    );
    Ok(())
}

/// The attributes of the first instance of `address` (`tailscale_acl.policy`,
/// `data.tailscale_devices.all`) in `dir`'s state.
pub fn attributes(world: &World, dir: &Path, address: &str) -> Result<Value> {
    let state = world.read_json(&dir.join("terraform.tfstate"))?;
    let (mode, rest) = match address.strip_prefix("data.") {
        Some(rest) => ("data", rest),
        None => ("managed", address),
    };
    let (kind, name) = rest.split_once('.').context("an address is TYPE.NAME")?;
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["mode"] == mode && r["type"] == kind && r["name"] == name)
        .map(|r| r["instances"][0]["attributes"].clone())
        .with_context(|| format!("no {address} in the state"))
}
