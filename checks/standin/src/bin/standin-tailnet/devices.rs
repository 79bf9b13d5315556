//! The tailnet's devices: `add-device`, `list-devices`.

use std::fmt::Write as _;

use anyhow::{Result, bail};
use tailscale_standin::sim::{self, Device, SimFile, ZERO_TIME};

use crate::args::{self, Args, usage};

/// A new node key lives this long (Tailscale's default key expiry).
const KEY_EXPIRY_DAYS: i64 = 180;

pub fn add(file: &SimFile, mut rest: Args) -> Result<()> {
    let name = rest.positional("a device name (its MagicDNS name)")?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(usage(format!("device name {name:?} must be a DNS name")));
    }
    let created = match rest.value("--created")? {
        Some(t) => args::time(&t, "--created")?,
        None => sim::format_time(sim::now()),
    };
    let expires = rest.value("--expires")?;
    let key_expiry_disabled = rest.flag("--key-expiry-disabled");
    let expires = match (expires, key_expiry_disabled) {
        (Some(_), true) => {
            return Err(usage(
                "--expires and --key-expiry-disabled exclude each other",
            ));
        }
        (Some(t), false) => args::time(&t, "--expires")?,
        (None, true) => ZERO_TIME.to_owned(),
        (None, false) => match sim::parse_time(&created) {
            Some(t) => sim::format_time(sim::in_seconds(t, KEY_EXPIRY_DAYS * 86_400)),
            None => sim::format_time(sim::in_seconds(sim::now(), KEY_EXPIRY_DAYS * 86_400)),
        },
    };
    let mut device = Device::new(&name, created, expires)?;
    device.key_expiry_disabled = key_expiry_disabled;
    let last_seen = rest.value("--last-seen")?;
    if rest.flag("--online") && last_seen.is_some() {
        return Err(usage("--last-seen and --online exclude each other"));
    }
    device.last_seen = last_seen
        .map(|t| args::time(&t, "--last-seen"))
        .transpose()?;
    let addresses = rest.value("--addresses")?;
    let no_addresses = rest.flag("--no-addresses");
    if addresses.is_some() && no_addresses {
        return Err(usage("--addresses and --no-addresses exclude each other"));
    }
    for (option, field) in [
        ("--hostname", &mut device.hostname),
        ("--os", &mut device.os),
        ("--user", &mut device.user),
        ("--client-version", &mut device.client_version),
        ("--tailnet-lock-key", &mut device.tailnet_lock_key),
        ("--tailnet-lock-error", &mut device.tailnet_lock_error),
    ] {
        if let Some(value) = rest.value(option)? {
            *field = value;
        }
    }
    if let Some(tags) = rest.value("--tags")? {
        device.tags = args::tags(&tags)?;
    }
    device.authorized = !rest.flag("--unauthorized");
    device.update_available = rest.flag("--update-available");
    device.is_external = rest.flag("--external");
    device.is_ephemeral = rest.flag("--ephemeral");
    device.blocks_incoming_connections = rest.flag("--blocks-incoming");
    rest.done()?;
    let node_id = file.update(|tailnet| {
        if tailnet.devices.iter().any(|d| d.name == device.name) {
            bail!(
                "the simulated tailnet already has a device named {:?}",
                device.name
            );
        }
        let n = tailnet.devices.len() + 1;
        device.addresses = match (&addresses, no_addresses) {
            (_, true) => None,
            (Some(list), false) => Some(args::list(list)),
            (None, false) => Some(vec![
                format!("100.64.{}.{}", (n - 1) / 250, (n - 1) % 250 + 1),
                format!("fd7a:115c:a1e0::{n:x}"),
            ]),
        };
        tailnet.record(
            "add_device",
            Some(&device.node_id),
            Some(device.name.clone()),
        );
        tailnet.devices.push(device.clone());
        Ok(device.node_id.clone())
    })?;
    println!("{node_id}");
    Ok(())
}

pub fn list(file: &SimFile, mut rest: Args) -> Result<()> {
    let json = rest.flag("--json");
    rest.done()?;
    let tailnet = file.read()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&tailnet.devices)?);
        return Ok(());
    }
    let mut out = format!("devices: {}\n", tailnet.devices.len());
    for d in &tailnet.devices {
        let expiry = if d.key_expiry_disabled {
            "key expiry disabled".to_owned()
        } else {
            format!("key expires {}", d.expires)
        };
        let seen = match &d.last_seen {
            None => "online".to_owned(),
            Some(t) => format!("last seen {t}"),
        };
        writeln!(
            out,
            "  {}  {}  {}  tags {}  {expiry}  {seen}",
            d.name,
            d.node_id,
            d.os,
            if d.tags.is_empty() {
                "-".to_owned()
            } else {
                d.tags.join(",")
            },
        )?;
    }
    print!("{out}");
    Ok(())
}
