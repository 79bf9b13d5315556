//! status and the key files (`keys.<name>.writeFile`): ok, missing, stale and untracked, in
//! every format, from hand-written files. What terraform really writes is checked by the e2e
//! suite (checks/standin/tests/e2e/key_files.rs).
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use tailscale_manager::util::sha1;

use crate::common::*;
use crate::status_devices::{fleet, with_devices};

/// The key secret [`state_json`] gives the key with this id.
fn secret(id: &str) -> String {
    format!("{KEY_SECRET_PREFIX}{id}-SECRETPART")
}

/// A sandbox whose state holds `keys` (name, id) and a `local_sensitive_file` for each of
/// `recorded` (key name, the content terraform wrote), the files in `keys/`; the installed
/// config declares a file for each of `declared`.
struct KeyFiles {
    sb: Sandbox,
    keys_dir: PathBuf,
}

impl KeyFiles {
    fn new(keys: &[(&str, &str)], recorded: &[(&str, &str)], declared: &[&str]) -> Result<Self> {
        let sb = sandbox_with(Some(LAST_APPLY_OK), None)?;
        let keys_dir = sb.state_dir.join("keys");
        std::fs::create_dir_all(&keys_dir)?;
        let mut state: Value = serde_json::from_str(&state_json(3, keys))?;
        let resources = state["resources"]
            .as_array_mut()
            .context("state_json has resources")?;
        for (name, content) in recorded {
            resources.push(json!({
                "mode": "managed", "type": "local_sensitive_file", "name": name,
                "provider": "provider[\"registry.terraform.io/hashicorp/local\"]",
                "instances": [{"schema_version": 0, "attributes": {
                    "content": content, "directory_permission": "0700", "file_permission": "0600",
                    "filename": keys_dir.join(name).display().to_string(),
                    "id": sha1::hex_digest(content.as_bytes())},
                  "sensitive_attributes": [[{"type": "get_attr", "value": "content"}]],
                  "dependencies": [format!("tailscale_tailnet_key.{name}")]}]
            }));
        }
        std::fs::write(sb.state_path(), state.to_string())?;
        let files: serde_json::Map<String, Value> = declared
            .iter()
            .map(|name| {
                let file = json!({
                    "content": format!("${{tailscale_tailnet_key.{name}.key}}"),
                    "directory_permission": "0700", "file_permission": "0600",
                    "filename": keys_dir.join(name).display().to_string(),
                });
                (name.to_string(), file)
            })
            .collect();
        let config = json!({"resource": {"local_sensitive_file": files}});
        std::fs::write(sb.state_dir.join("main.tf.json"), config.to_string())?;
        // As the runner and terraform leave them (the tests' umask is wider).
        for (path, mode) in [(&sb.state_dir, 0o700), (&sb.state_path(), 0o600)] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
        Ok(KeyFiles { sb, keys_dir })
    }

    /// Writes a key file as terraform does: 0600.
    fn write(&self, name: &str, content: &str) -> Result<()> {
        let path = self.keys_dir.join(name);
        std::fs::write(&path, content)?;
        Ok(std::fs::set_permissions(
            &path,
            std::fs::Permissions::from_mode(0o600),
        )?)
    }

    fn path(&self, name: &str) -> String {
        self.keys_dir.join(name).display().to_string()
    }

    /// `status <format>`, which must not print key material.
    fn status(&self, format: &[&str], code: i32) -> Result<Output> {
        let args: Vec<&str> = ["status"].iter().chain(format).copied().collect();
        let out = self.sb.runner(&args, &[])?.expect(code, &args.join(" "))?;
        assert_no_secrets(&out.all(), &args.join(" "))?;
        Ok(out)
    }
}

/// Five keys: a good file, one deleted, one edited, a key that writes none, and one whose
/// file a failed run deleted (the state records none, the config declares it); plus a file
/// whose key the state does not have.
fn every_file_state() -> Result<KeyFiles> {
    let keys = [
        ("good", "kGood"),
        ("deleted", "kDel"),
        ("edited", "kEdit"),
        ("plain", "kPlain"),
        ("rewritten", "kRew"),
    ];
    let recorded = [
        ("good", secret("kGood")),
        ("deleted", secret("kDel")),
        ("edited", secret("kEdit")),
    ];
    let recorded: Vec<(&str, &str)> = recorded.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let files = KeyFiles::new(
        &keys,
        &recorded,
        &["good", "deleted", "edited", "rewritten", "orphan"],
    )?;
    files.write("good", &secret("kGood"))?;
    files.write("edited", &secret("kOther"))?;
    files.write("orphan", &secret("kOrphan"))?;
    Ok(files)
}

#[test]
fn json_reports_each_key_file_ok_missing_or_stale_and_untracked_ones() -> Result<()> {
    let files = every_file_state()?;
    let out = files.status(&["--json"], 0)?;
    let status: Value = out.json()?;
    let file_of = |i: usize| status["managed_keys"][i]["file"].clone();
    let expected = [
        json!({"path": files.path("good"), "state": "ok"}),
        json!({"path": files.path("deleted"), "state": "missing"}),
        json!({"path": files.path("edited"), "state": "stale"}),
        Value::Null,
        json!({"path": files.path("rewritten"), "state": "missing"}),
    ];
    for (i, expected) in expected.iter().enumerate() {
        assert_eq!(
            &file_of(i),
            expected,
            "managed_keys[{i}].file ({})",
            status["managed_keys"][i]["address"]
        );
    }
    let orphan = files.path("orphan");
    assert_eq!(
        status["warnings"],
        json!([format!(
            "{orphan} is not tracked: tailscale_tailnet_key.orphan is not in terraform.tfstate \
             (a failed run left the file); the next successful apply rewrites it, or delete it if \
             the key is no longer declared"
        )]),
        "the untracked file is a warning"
    );
    assert_eq!(status["errors"], json!([]), "{status}");
    Ok(())
}

#[test]
fn prometheus_has_a_key_file_ok_sample_per_file() -> Result<()> {
    let files = every_file_state()?;
    let out = files.status(&["--prometheus"], 0)?;
    let expected = "\
# HELP tailscale_manager_key_file_ok 1 if the key's file holds the key the state records, 0 if it is missing, stale or untracked.
# TYPE tailscale_manager_key_file_ok gauge
tailscale_manager_key_file_ok{address=\"tailscale_tailnet_key.good\",id=\"kGood\"} 1
tailscale_manager_key_file_ok{address=\"tailscale_tailnet_key.deleted\",id=\"kDel\"} 0
tailscale_manager_key_file_ok{address=\"tailscale_tailnet_key.edited\",id=\"kEdit\"} 0
tailscale_manager_key_file_ok{address=\"tailscale_tailnet_key.rewritten\",id=\"kRew\"} 0
tailscale_manager_key_file_ok{address=\"tailscale_tailnet_key.orphan\",id=\"\"} 0
";
    assert!(
        out.stdout.contains(expected),
        "the key file gauge, one sample per file, none for the key without one:\n{}",
        out.stdout
    );
    Ok(())
}

#[test]
fn waybar_turns_error_when_a_key_file_is_not_ok() -> Result<()> {
    let files = every_file_state()?;
    let out = files.status(&["--waybar"], 0)?;
    let waybar: Value = out.json()?;
    assert_eq!(waybar["class"], "error", "{waybar}");
    assert_eq!(waybar["text"], "✗ 4 key files not ok", "{waybar}");
    let tooltip = waybar["tooltip"].as_str().unwrap_or_default();
    for line in [
        "✓ kGood tailscale_tailnet_key.good\n",
        "✓ kDel tailscale_tailnet_key.deleted (file missing)\n",
        "✓ kEdit tailscale_tailnet_key.edited (file stale)\n",
        "✓ kPlain tailscale_tailnet_key.plain\n",
        &format!("✗ untracked key file {}", files.path("orphan")),
    ] {
        assert!(tooltip.contains(line), "tooltip lacks {line:?}:\n{tooltip}");
    }

    let good = KeyFiles::new(
        &[("good", "kGood"), ("plain", "kPlain")],
        &[("good", &secret("kGood"))],
        &["good"],
    )?;
    good.write("good", &secret("kGood"))?;
    let waybar: Value = good.status(&["--waybar"], 0)?.json()?;
    assert_eq!(
        (&waybar["class"], &waybar["text"]),
        (&json!("ok"), &json!("✓ 2 keys")),
        "every file ok: {waybar}"
    );
    Ok(())
}

#[test]
fn the_human_view_marks_each_key_file() -> Result<()> {
    let files = every_file_state()?;
    let out = files.status(&[], 0)?;
    for line in [
        format!("     file: ✓ {}\n", files.path("good")),
        format!(
            "     file: ✗ {} (missing; the next apply writes it)\n",
            files.path("deleted")
        ),
        format!(
            "     file: ✗ {} (stale: not the key this state records; the next apply rewrites it)\n",
            files.path("edited")
        ),
        format!(
            "  ✗ key file {} is not tracked (tailscale_tailnet_key.orphan is not in the state)\n",
            files.path("orphan")
        ),
    ] {
        out.assert_stdout(&line);
    }
    let plain = out
        .stdout
        .split("  ✓ kPlain")
        .nth(1)
        .and_then(|rest| rest.split("  ✓ ").next())
        .context("the key without a file is listed")?;
    assert!(
        !plain.contains("file:"),
        "a key that writes no file has no file line:\n{plain}"
    );
    Ok(())
}

/// With a device list in the state too, every format shows both, and waybar's class is the
/// worst of them: a key file that is not ok is an error, whatever the devices; device node keys
/// warn only once every file is ok.
#[test]
fn key_files_and_devices_show_together_and_the_worst_sets_the_waybar_class() -> Result<()> {
    let fleet = fleet();
    let add_devices = |files: &KeyFiles| -> Result<()> {
        let state = std::fs::read_to_string(files.sb.state_path())?;
        Ok(std::fs::write(
            files.sb.state_path(),
            with_devices(&state, &fleet.devices),
        )?)
    };
    let files = every_file_state()?;
    add_devices(&files)?;

    let status: Value = files.status(&["--json"], 0)?.json()?;
    assert_eq!(
        (
            &status["managed_keys"][0]["file"]["state"],
            &status["managed_keys"][2]["file"]["state"],
            status["devices"].as_array().map(Vec::len),
        ),
        (&json!("ok"), &json!("stale"), Some(4)),
        "JSON has the key files and the devices: {status}"
    );
    let human = files.status(&[], 0)?;
    for line in [
        format!(
            "     file: ✓ {}
",
            files.path("good")
        ),
        "Devices: 4 as of the last run".to_string(),
        "  Node keys: 1 expiring within 14 days, 1 expired
"
        .to_string(),
    ] {
        human.assert_stdout(&line);
    }
    let prometheus = files.status(&["--prometheus"], 0)?.stdout;
    for sample in [
        "tailscale_manager_key_file_ok{address=\"tailscale_tailnet_key.edited\",id=\"kEdit\"} 0\n",
        "tailscale_manager_devices 4\n",
    ] {
        assert!(
            prometheus.contains(sample),
            "Prometheus lacks {sample:?}:\n{prometheus}"
        );
    }
    let waybar: Value = files.status(&["--waybar"], 0)?.json()?;
    assert_eq!(
        (&waybar["class"], &waybar["text"]),
        (&json!("error"), &json!("✗ 4 key files not ok")),
        "key files not ok beat expiring device keys: {waybar}"
    );
    let tooltip = waybar["tooltip"].as_str().unwrap_or_default();
    for line in [
        "✓ kEdit tailscale_tailnet_key.edited (file stale)\n",
        "Devices as of the last run: 4\n",
        "⚠ soon.tail0.ts.net key expires ",
    ] {
        assert!(tooltip.contains(line), "tooltip lacks {line:?}:\n{tooltip}");
    }

    let good = KeyFiles::new(
        &[("good", "kGood")],
        &[("good", &secret("kGood"))],
        &["good"],
    )?;
    good.write("good", &secret("kGood"))?;
    add_devices(&good)?;
    let waybar: Value = good.status(&["--waybar"], 0)?.json()?;
    assert_eq!(
        (&waybar["class"], &waybar["text"]),
        (
            &json!("warning"),
            &json!("⚠ 2 device keys expiring or expired")
        ),
        "every file ok: the device keys warn: {waybar}"
    );
    Ok(())
}

#[test]
fn oneline_and_an_unreadable_state_leave_key_files_alone() -> Result<()> {
    let files = every_file_state()?;
    let out = files.status(&["--oneline"], 0)?;
    assert_eq!(out.stdout, "tailscale-manager: last apply [ok]\n");
    std::fs::write(files.sb.state_path(), "{")?;
    let (_, status) = files.sb.status_json()?;
    assert_eq!(
        status["warnings"],
        json!([]),
        "without a readable state no file is called untracked: {status}"
    );
    Ok(())
}

/// The keys directory's mode is not checked by status (it is inside the 0700 state
/// directory); a key file's own mode is.
#[test]
fn a_key_file_wider_than_0600_is_warned_about() -> Result<()> {
    let files = KeyFiles::new(&[("good", "kGood")], &[("good", &secret("kGood"))], &[])?;
    files.write("good", &secret("kGood"))?;
    let path = Path::new(&files.path("good")).to_path_buf();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640))?;
    let (_, status) = files.sb.status_json()?;
    let path = path.display();
    assert_eq!(
        status["warnings"],
        json!([format!(
            "{path} is mode 0640, wider than 0600; chmod 600 {path}"
        )]),
        "{status}"
    );
    assert_eq!(
        status["managed_keys"][0]["file"]["state"], "ok",
        "the content is still the key"
    );
    Ok(())
}

#[test]
fn a_fifo_where_a_key_file_belongs_is_stale_and_never_blocks_status() -> Result<()> {
    let files = KeyFiles::new(&[("ci", "kCi")], &[("ci", &secret("kCi"))], &["ci"])?;
    let fifo = files.keys_dir.join("ci");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status()?;
    assert!(made.success(), "mkfifo {}", fifo.display());
    for format in ["--json", "--waybar", "--prometheus"] {
        // Opened plainly, a FIFO without a writer blocks until one comes: never, here.
        let out = files
            .sb
            .spawn_runner(&["status", format], &[])?
            .finish_within(std::time::Duration::from_secs(10))?
            .expect(0, &format!("status {format} with a FIFO for a key file"))?;
        assert_no_secrets(&out.all(), format)?;
        if format == "--json" {
            let status: Value = out.json()?;
            assert_eq!(
                status["managed_keys"][0]["file"],
                json!({"path": files.path("ci"), "state": "stale"}),
                "a FIFO is no key: {status}"
            );
            assert_eq!(
                status["errors"],
                json!([format!(
                    "cannot read the key file {}: it is a FIFO, not a regular file; reported as \
                     stale",
                    files.path("ci")
                )]),
                "the error names the file and why"
            );
        }
    }
    Ok(())
}
