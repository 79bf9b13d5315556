//! `status --prometheus`: node_exporter's textfile format.
use std::fmt::Write as _;

use crate::commands::status::gather::{DeviceStatus, Devices, KeyStatus, Report};
use crate::util::clock;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let labels = |k: &KeyStatus| {
        format!(
            "{{address=\"{}\",id=\"{}\"}}",
            label(&k.key.address),
            label(&k.key.id)
        )
    };
    gauge(
        &mut out,
        "tailscale_manager_last_apply_success",
        "1 if the last apply/destroy succeeded, 0 if it failed or no result is recorded.",
        [(String::new(), u8::from(r.succeeded()).to_string())],
    );
    let ended = r
        .last_apply()
        .and_then(|l| clock::parse_rfc3339(&l.timestamp));
    gauge(
        &mut out,
        "tailscale_manager_last_apply_timestamp_seconds",
        "When the last apply/destroy ended (Unix time).",
        ended.map(|t| {
            (
                String::new(),
                format!("{:.6}", t.unix_timestamp_nanos() as f64 / 1e9),
            )
        }),
    );
    gauge(
        &mut out,
        "tailscale_manager_managed_keys",
        "Auth keys in the Terraform state.",
        [(String::new(), r.keys.len().to_string())],
    );
    gauge(
        &mut out,
        "tailscale_manager_key_invalid",
        "1 if the key is invalid (expired, revoked or deleted) or past its expiry.",
        r.keys
            .iter()
            .map(|k| (labels(k), u8::from(k.bad()).to_string())),
    );
    gauge(
        &mut out,
        "tailscale_manager_key_expiry_timestamp_seconds",
        "When the key expires (Unix time).",
        r.keys.iter().filter_map(|k| {
            let t = clock::parse_rfc3339(k.key.expires_at.as_deref()?)?;
            Some((labels(k), t.unix_timestamp().to_string()))
        }),
    );
    key_file_ok(&mut out, r, labels);
    gauge(
        &mut out,
        "tailscale_manager_orphaned_resources",
        "Resources the last failed run left in the tailnet untracked.",
        [(String::new(), r.orphans().len().to_string())],
    );
    if let Some(devices) = &r.devices {
        device_gauges(&mut out, devices);
    }
    if let Some(origin) = &r.remote {
        gauge(
            &mut out,
            "tailscale_manager_state_snapshot_timestamp_seconds",
            "When the runner last pulled the remote state that status reads (Unix time): status shows a snapshot, never the live remote state.",
            clock::parse_rfc3339(&origin.taken_at).map(|t| {
                (
                    format!(
                        "{{backend=\"{}\",workspace=\"{}\"}}",
                        label(&origin.backend),
                        label(&origin.workspace)
                    ),
                    format!("{:.6}", t.unix_timestamp_nanos() as f64 / 1e9),
                )
            }),
        );
    }
    out
}

/// `tailscale_manager_key_file_ok`: one sample per key that writes a file, and a 0 for each
/// untracked key file (its key is not in the state, so its id is empty).
fn key_file_ok(out: &mut String, r: &Report, labels: impl Fn(&KeyStatus) -> String) {
    let keys = r.keys.iter().filter_map(|k| {
        let file = k.file.as_ref()?;
        Some((labels(k), u8::from(file.ok()).to_string()))
    });
    let untracked = r.untracked_key_files.iter().map(|u| {
        (
            format!("{{address=\"{}\",id=\"\"}}", label(&u.key_address)),
            "0".to_string(),
        )
    });
    gauge(
        out,
        "tailscale_manager_key_file_ok",
        "1 if the key's file holds the key the state records, 0 if it is missing, stale or untracked.",
        keys.chain(untracked),
    );
}

/// The device inventory's gauges (only when devices are monitored).
fn device_gauges(out: &mut String, devices: &Devices) {
    let list = &devices.list;
    let labels = |d: &DeviceStatus| {
        format!(
            "{{name=\"{}\",node_id=\"{}\"}}",
            label(&d.device.name),
            label(&d.device.node_id)
        )
    };
    let unix = |t: &Option<String>| Some(clock::parse_rfc3339(t.as_deref()?)?.unix_timestamp());
    gauge(
        out,
        "tailscale_manager_devices",
        "Devices in the tailnet's device list as of the last run (data.tailscale_devices.all).",
        [(String::new(), list.len().to_string())],
    );
    gauge(
        out,
        "tailscale_manager_device_key_expiry_timestamp_seconds",
        "When the device's node key expires (Unix time), as of the last run; none for devices with key expiry disabled.",
        list.iter()
            .filter_map(|d| Some((labels(d), unix(&d.device.expires)?.to_string()))),
    );
    gauge(
        out,
        "tailscale_manager_device_last_seen_timestamp_seconds",
        "When the device was last seen (Unix time), as of the last run; none for devices online then.",
        list.iter()
            .filter_map(|d| Some((labels(d), unix(&d.device.last_seen)?.to_string()))),
    );
}

/// Escapes a Prometheus label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One gauge in node_exporter textfile format: HELP, TYPE, then its samples.
fn gauge(
    out: &mut String,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, String)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}
