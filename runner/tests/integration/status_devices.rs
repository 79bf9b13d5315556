//! status's device inventory (`data.tailscale_devices.all` in the state) in every format, from
//! hand-written files: node keys expiring within `--expiry-warning` days or expired are marked,
//! and the exit code never changes for them.
use anyhow::Result;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::*;

const ERROR: &str = r#"{"timestamp":"2026-05-31T00:00:00.000000+00:00","result":"error","action":"apply","duration_ms":10,"backup_path":null,"changes":null,"error_message":"tailscale_acl.policy: Failed to set ACL: boom","failed_state_path":null,"orphaned_resources":[]}"#;

/// Now plus `days` (negative: ago), as the provider prints times (RFC 3339, whole seconds).
fn days_from_now(days: i64) -> String {
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::days(days);
    t.format(&Rfc3339).unwrap()
}

fn unix(rfc3339: &str) -> i64 {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// One device with all 21 attributes of the real provider v0.29.2's data source
/// (data_source_devices.go), as terraform 1.11.4 stores them.
fn device(name: &str, node_id: &str, expires: &str, last_seen: &str) -> Value {
    json!({
        "addresses": ["100.64.0.7", "fd7a:115c:a1e0::7"], "authorized": true,
        "blocks_incoming_connections": false, "client_version": "1.84.2",
        "created": "2026-01-01T00:00:00Z", "expires": expires,
        "hostname": name.split('.').next().unwrap(), "id": "1239569072268998",
        "is_external": false, "key_expiry_disabled": false, "last_seen": last_seen,
        "machine_key": "mkey:13e7", "name": name, "node_id": node_id, "node_key": "nodekey:8801",
        "os": "linux", "tags": ["tag:server"], "tailnet_lock_error": "", "tailnet_lock_key": "",
        "update_available": false, "user": "ops@example.com"
    })
}

/// The four devices every test here uses, and their expiry and last-seen times.
pub struct Fleet {
    pub devices: Vec<Value>,
    pub fresh: String,
    pub soon: String,
    pub expired: String,
    pub seen: String,
}

/// `fresh` (online, key valid for 180 days), `soon` (key expires in 3 days), `gone` (offline,
/// key expired a day ago) and `pinned` (key expiry disabled, no addresses, no tags, Windows).
pub fn fleet() -> Fleet {
    let (fresh, soon, expired, seen) = (
        days_from_now(180),
        days_from_now(3),
        days_from_now(-1),
        days_from_now(-2),
    );
    let mut pinned = device(
        "pinned.tail0.ts.net",
        "nPinCNTRL",
        "0001-01-01T00:00:00Z",
        "",
    );
    pinned["key_expiry_disabled"] = json!(true);
    pinned["addresses"] = Value::Null;
    pinned["tags"] = json!([]);
    pinned["os"] = json!("windows");
    Fleet {
        devices: vec![
            device("fresh.tail0.ts.net", "nFreshCNTRL", &fresh, ""),
            device("soon.tail0.ts.net", "nSoonCNTRL", &soon, ""),
            device("gone.tail0.ts.net", "nGoneCNTRL", &expired, &seen),
            pinned,
        ],
        fresh,
        soon,
        expired,
        seen,
    }
}

/// A state with one good key (or the given keys state) and `data.tailscale_devices.all`.
pub fn with_devices(keys_state: &str, devices: &[Value]) -> String {
    let mut state: Value = serde_json::from_str(keys_state).unwrap();
    state["resources"].as_array_mut().unwrap().push(json!({
        "mode": "data", "type": "tailscale_devices", "name": "all",
        "provider": "provider[\"registry.terraform.io/tailscale/tailscale\"]",
        "instances": [{"schema_version": 0, "attributes": {
            "devices": devices, "filter": [], "id": "62e29900-f1df-4adc-8e93-c5b915888017",
            "name_prefix": null}, "sensitive_attributes": []}]
    }));
    state.to_string()
}

fn fleet_sandbox(last_apply: Option<&str>) -> Result<(Sandbox, Fleet)> {
    let fleet = fleet();
    let state = with_devices(&state_json(4, &[("ci", "kCi")]), &fleet.devices);
    Ok((sandbox_with(last_apply, Some(&state))?, fleet))
}

#[test]
fn json_lists_devices_with_the_documented_fields() -> Result<()> {
    let (sb, fleet) = fleet_sandbox(Some(LAST_APPLY_OK))?;
    let (code, status) = sb.status_json()?;
    assert_eq!(code, Some(0), "device keys never change the exit code");
    let entry = |name: &str, node_id: &str, expires: Value, last_seen: Value| {
        json!({
            "name": name, "hostname": name.split('.').next().unwrap(), "node_id": node_id,
            "os": "linux", "tags": ["tag:server"], "user": "ops@example.com",
            "addresses": ["100.64.0.7", "fd7a:115c:a1e0::7"], "authorized": true,
            "last_seen": last_seen, "expires": expires, "key_expiry_disabled": false,
            "key_expired": false, "key_expires_soon": false
        })
    };
    let mut soon = entry(
        "soon.tail0.ts.net",
        "nSoonCNTRL",
        json!(fleet.soon),
        Value::Null,
    );
    soon["key_expires_soon"] = json!(true);
    let mut gone = entry(
        "gone.tail0.ts.net",
        "nGoneCNTRL",
        json!(fleet.expired),
        json!(fleet.seen),
    );
    gone["key_expired"] = json!(true);
    let mut pinned = entry("pinned.tail0.ts.net", "nPinCNTRL", Value::Null, Value::Null);
    pinned["key_expiry_disabled"] = json!(true);
    pinned["addresses"] = json!([]);
    pinned["tags"] = json!([]);
    pinned["os"] = json!("windows");
    assert_eq!(
        status["devices"],
        json!([
            entry(
                "fresh.tail0.ts.net",
                "nFreshCNTRL",
                json!(fleet.fresh),
                Value::Null
            ),
            soon,
            gone,
            pinned
        ]),
        "every device, in the data source's order, with the documented fields"
    );
    let as_of = status["devices_as_of"].as_str().unwrap_or_default();
    let written: OffsetDateTime = std::fs::metadata(sb.state_path())?.modified()?.into();
    assert!(
        as_of.starts_with(&written.date().to_string()) && as_of.ends_with("+00:00"),
        "devices_as_of is when terraform.tfstate was written ({written}): {as_of:?}"
    );
    assert_eq!(
        status["managed_keys"].as_array().map(Vec::len),
        Some(1),
        "keys are still listed"
    );
    Ok(())
}

#[test]
fn devices_are_null_when_not_monitored() -> Result<()> {
    let sb = sandbox_with(Some(LAST_APPLY_OK), Some(&state_json(1, &[("ci", "kCi")])))?;
    let (code, status) = sb.status_json()?;
    assert_eq!(code, Some(0));
    assert_eq!(
        status["devices"],
        Value::Null,
        "no device list in the state"
    );
    assert_eq!(status["devices_as_of"], Value::Null);
    let human = sb.runner(&["status"], &[])?.expect(0, "status")?;
    human.assert_stdout(
        "Devices: not monitored (terraform.tfstate has no data.tailscale_devices.all)\n",
    );
    let prometheus = sb.runner(&["status", "--prometheus"], &[])?;
    assert!(
        !prometheus.stdout.contains("device"),
        "no device gauges without devices:\n{}",
        prometheus.stdout
    );
    let waybar = sb.runner(&["status", "--waybar"], &[])?.json()?;
    assert_eq!(waybar["class"], "ok");

    let empty = sandbox_with(
        Some(LAST_APPLY_OK),
        Some(&with_devices(&state_json(1, &[]), &[])),
    )?;
    let (_, status) = empty.status_json()?;
    assert_eq!(
        status["devices"],
        json!([]),
        "monitored, but no device: an empty list"
    );
    Ok(())
}

#[test]
fn expiry_warning_sets_the_window_from_the_flag_or_the_environment() -> Result<()> {
    let (sb, _) = fleet_sandbox(Some(LAST_APPLY_OK))?;
    let soon = |args: &[&str], env: &[(&str, &str)]| -> Result<Vec<String>> {
        let status = sb.runner(args, env)?.expect(0, "status --json")?.json()?;
        Ok(status["devices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["key_expires_soon"] == true)
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect())
    };
    let json = ["status", "--json"];
    assert_eq!(soon(&json, &[])?, ["soon.tail0.ts.net"], "default 14 days");
    assert!(
        soon(&["status", "--json", "--expiry-warning", "2"], &[])?.is_empty(),
        "3 days away is outside a 2-day window"
    );
    let env = [("TAILSCALE_MANAGER_EXPIRY_WARNING_DAYS", "2")];
    assert!(soon(&json, &env)?.is_empty(), "the environment variable");
    assert_eq!(
        soon(&["status", "--json", "--expiry-warning=200"], &env)?,
        ["fresh.tail0.ts.net", "soon.tail0.ts.net"],
        "the flag beats the environment; expired keys are expired, not expiring"
    );
    let bad = sb.runner(&["status", "--expiry-warning", "soon"], &[])?;
    bad.assert_exit(2);
    bad.assert_stderr(
        "error: --expiry-warning must be a whole number of days from 0 to 3650, got 'soon'",
    );
    Ok(())
}

#[test]
fn human_view_lists_devices_and_marks_expiring_and_expired_keys() -> Result<()> {
    let (sb, fleet) = fleet_sandbox(Some(LAST_APPLY_OK))?;
    let out = sb.runner(&["status"], &[])?.expect(0, "status")?;
    let written: OffsetDateTime = std::fs::metadata(sb.state_path())?.modified()?.into();
    out.assert_stdout(&format!(
        "Devices: 4 as of the last run (terraform.tfstate written {}",
        written.date()
    ));
    let seen = format!("last seen {}", fleet.seen);
    let pad = seen.len();
    for line in [
        format!(
            "  ✓ fresh.tail0.ts.net   linux    tag:server  {:<pad$}  key expires {}\n",
            "online", fleet.fresh
        ),
        format!(
            "  ⚠ soon.tail0.ts.net    linux    tag:server  {:<pad$}  key expires {} (within 14 days)\n",
            "online", fleet.soon
        ),
        format!(
            "  ✗ gone.tail0.ts.net    linux    tag:server  {seen}  key expired {}\n",
            fleet.expired
        ),
        format!(
            "  ✓ pinned.tail0.ts.net  windows  -           {:<pad$}  key expiry disabled\n",
            "online"
        ),
        "  Node keys: 1 expiring within 14 days, 1 expired\n".to_string(),
    ] {
        out.assert_stdout(&line);
    }
    let narrow = sb.runner(&["status", "--expiry-warning", "1"], &[])?;
    narrow.assert_stdout("  Node keys: 0 expiring within 1 day, 1 expired\n");
    assert!(
        !narrow.stdout.contains('⚠'),
        "nothing expires within a day:\n{}",
        narrow.stdout
    );
    Ok(())
}

#[test]
fn prometheus_has_the_device_gauges() -> Result<()> {
    let (sb, fleet) = fleet_sandbox(Some(LAST_APPLY_OK))?;
    let out = sb
        .runner(&["status", "--prometheus"], &[])?
        .expect(0, "prometheus")?;
    let expected = format!(
        "\
# HELP tailscale_manager_devices Devices in the tailnet's device list as of the last run (data.tailscale_devices.all).
# TYPE tailscale_manager_devices gauge
tailscale_manager_devices 4
# HELP tailscale_manager_device_key_expiry_timestamp_seconds When the device's node key expires (Unix time), as of the last run; none for devices with key expiry disabled.
# TYPE tailscale_manager_device_key_expiry_timestamp_seconds gauge
tailscale_manager_device_key_expiry_timestamp_seconds{{name=\"fresh.tail0.ts.net\",node_id=\"nFreshCNTRL\"}} {}
tailscale_manager_device_key_expiry_timestamp_seconds{{name=\"soon.tail0.ts.net\",node_id=\"nSoonCNTRL\"}} {}
tailscale_manager_device_key_expiry_timestamp_seconds{{name=\"gone.tail0.ts.net\",node_id=\"nGoneCNTRL\"}} {}
# HELP tailscale_manager_device_last_seen_timestamp_seconds When the device was last seen (Unix time), as of the last run; none for devices online then.
# TYPE tailscale_manager_device_last_seen_timestamp_seconds gauge
tailscale_manager_device_last_seen_timestamp_seconds{{name=\"gone.tail0.ts.net\",node_id=\"nGoneCNTRL\"}} {}
",
        unix(&fleet.fresh),
        unix(&fleet.soon),
        unix(&fleet.expired),
        unix(&fleet.seen)
    );
    assert!(
        out.stdout.ends_with(&format!(
            "tailscale_manager_orphaned_resources 0\n{expected}"
        )),
        "the device gauges follow the others:\n{}",
        out.stdout
    );
    Ok(())
}

#[test]
fn waybar_warns_about_device_keys_only_when_nothing_worse_applies() -> Result<()> {
    let fleet = fleet();
    let bad_key = {
        let mut state: Value = serde_json::from_str(&state_json(2, &[("ci", "kCi")]))?;
        state["resources"][0]["instances"][0]["attributes"]["invalid"] = json!(true);
        state.to_string()
    };
    let expired_only = vec![fleet.devices[0].clone(), fleet.devices[2].clone()];
    let one_key = state_json(1, &[("ci", "kCi")]);
    let cases = [
        (
            Some(LAST_APPLY_OK),
            &one_key,
            &fleet.devices,
            "warning",
            "⚠ 2 device keys expiring or expired",
        ),
        (
            Some(LAST_APPLY_OK),
            &one_key,
            &expired_only,
            "warning",
            "⚠ 1 device key expired",
        ),
        (
            Some(LAST_APPLY_OK),
            &bad_key,
            &fleet.devices,
            "error",
            "✗ 1 bad key",
        ),
        (
            Some(ERROR),
            &one_key,
            &fleet.devices,
            "error",
            "✗ apply failed",
        ),
        (None, &one_key, &fleet.devices, "unknown", "? never applied"),
    ];
    // The exit codes: device_warnings_never_change_the_exit_code.
    for (last, keys, devices, class, text) in cases {
        let sb = sandbox_with(last, Some(&with_devices(keys, devices)))?;
        let v = sb.runner(&["status", "--waybar"], &[])?.json()?;
        assert_eq!(v["class"], class, "{text}: {v}");
        assert_eq!(v["alt"], class, "{text}: {v}");
        assert_eq!(v["text"], text, "{v}");
        let tooltip = v["tooltip"].as_str().unwrap_or_default();
        assert!(
            tooltip.contains(&format!("Devices as of the last run: {}\n", devices.len()))
                && tooltip.contains(&format!(
                    "✗ gone.tail0.ts.net key expired {}",
                    fleet.expired
                )),
            "the tooltip names the device count and each device to look at: {tooltip}"
        );
        assert!(
            !tooltip.contains("fresh.tail0.ts.net"),
            "devices that are fine are only counted: {tooltip}"
        );
    }
    let (sb, _) = fleet_sandbox(Some(LAST_APPLY_OK))?;
    let quiet = sb
        .runner(&["status", "--waybar", "--expiry-warning", "0"], &[])?
        .json()?;
    assert_eq!(
        quiet["text"], "⚠ 1 device key expired",
        "a 0-day window leaves only the expired key: {quiet}"
    );
    Ok(())
}

#[test]
fn device_warnings_never_change_the_exit_code() -> Result<()> {
    let fleet = fleet();
    let keys = state_json(4, &[("ci", "kCi")]);
    for last in [LAST_APPLY_OK, ERROR] {
        let with = sandbox_with(Some(last), Some(&with_devices(&keys, &fleet.devices)))?;
        let without = sandbox_with(Some(last), Some(&keys))?;
        // status and --json follow the last apply; the display and collector formats exit 0
        // whenever they print.
        let follows_the_last_apply = if last == LAST_APPLY_OK { 0 } else { 1 };
        for (format, expected) in [
            (&[][..], follows_the_last_apply),
            (&["--json"], follows_the_last_apply),
            (&["--waybar"], 0),
            (&["--prometheus"], 0),
            (&["--oneline"], 0),
        ] {
            let args: Vec<&str> = ["status"]
                .into_iter()
                .chain(format.iter().copied())
                .collect();
            let code = with.runner(&args, &[])?.code;
            assert_eq!(
                code,
                without.runner(&args, &[])?.code,
                "{args:?}: an expired and an expiring node key leave the exit code as it is"
            );
            assert_eq!(
                code,
                Some(expected),
                "{args:?} with devices, after the last apply {}",
                if last == LAST_APPLY_OK {
                    "succeeded"
                } else {
                    "failed"
                }
            );
        }
    }
    Ok(())
}
