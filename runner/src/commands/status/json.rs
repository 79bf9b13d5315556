//! `status --json`: the whole report for scripts and monitoring.
use serde::Serialize;

use crate::commands::status::gather::{DeviceStatus, KeyStatus, LockStatus, Report};
use crate::stores::last_apply::{self, LastApply};
use crate::util::tfstate::Object;

#[derive(Serialize)]
struct Json<'a> {
    /// last-apply.json as written (unknown fields included).
    last_apply: Option<&'a LastApply>,
    managed_keys: &'a [KeyStatus],
    state: StateJson<'a>,
    backups: BackupsJson,
    orphaned_resources: &'a [Object],
    errors: &'a [String],
    warnings: &'a [String],
    lock: &'a LockStatus,
    /// The device inventory as of the last run; null when not monitored.
    devices: Option<&'a [DeviceStatus]>,
    /// When terraform.tfstate, which holds `devices`, was last written (or the remote state's
    /// snapshot taken).
    devices_as_of: Option<&'a str>,
}

#[derive(Serialize)]
struct StateJson<'a> {
    found: bool,
    serial: Option<u64>,
    /// `local`, or the remote backend's type (`pg`).
    backend: &'a str,
    /// With a remote backend: the workspace, and when its snapshot was taken.
    workspace: Option<&'a str>,
    snapshot_taken_at: Option<&'a str>,
}

#[derive(Serialize)]
struct BackupsJson {
    count: usize,
    latest: Option<String>,
}

pub fn render(r: &Report) -> String {
    let json = Json {
        last_apply: r.last_apply(),
        managed_keys: &r.keys,
        state: StateJson {
            found: r.state_found,
            serial: r.serial,
            backend: r.remote.as_ref().map_or("local", |o| o.backend.as_str()),
            workspace: r.remote.as_ref().map(|o| o.workspace.as_str()),
            snapshot_taken_at: r.remote.as_ref().map(|o| o.taken_at.as_str()),
        },
        backups: BackupsJson {
            count: r.backups.len(),
            latest: r.backups.last().map(|p| last_apply::path_string(p)),
        },
        orphaned_resources: r.orphans(),
        errors: &r.errors,
        warnings: &r.warnings,
        lock: &r.lock,
        devices: r.devices.as_ref().map(|d| d.list.as_slice()),
        devices_as_of: r.devices.as_ref().and_then(|d| d.as_of.as_deref()),
    };
    // Written once into a buffer sized for the keys and devices: a 5,000-key status is ~2 MiB.
    let devices = r.devices.as_ref().map_or(0, |d| d.list.len());
    let mut buf = Vec::with_capacity(4096 + 512 * (r.keys.len() + devices));
    serde_json::to_writer_pretty(&mut buf, &json).expect("status JSON serializes");
    buf.push(b'\n');
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}
