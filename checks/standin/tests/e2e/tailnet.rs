//! Scenarios t1–t9: the tailnet around the keys (ACL policy, DNS, the device inventory) through the
//! runner, real terraform and the stand-in, from the Nix renderer's goldens (`checks/render/`
//! 08 ACL, 10 DNS, 11 devices, 13 everything with keys).

use std::fs;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};

use crate::common::{
    World, acl_writes, assert_no_secrets, field_values, global_nameservers, golden, with_tags,
};

/// The module's addresses (README "The tailnet: ACL policy, DNS and devices").
const ACL: &str = "tailscale_acl.policy";
const DNS: &str = "tailscale_dns_configuration.dns";
const FIX: &str = "then set services.tailscale-manager.acl.overwriteExisting = true";

/// The policy text a config declares.
fn declared_policy(config: &Value) -> Result<String> {
    config["resource"]["tailscale_acl"]["policy"]["acl"]
        .as_str()
        .map(str::to_owned)
        .context("the config declares tailscale_acl.policy")
}

/// A policy an operator set in the admin console.
fn console_policy(world: &World, text: &str) -> Result<()> {
    let file = world.path("console.hujson");
    fs::write(&file, text)?;
    world.tailnet_do(&["set-policy", file.to_str().context("UTF-8 path")?])
}

fn error_message(world: &World) -> Result<String> {
    let last = world.last_apply()?;
    ensure!(last["result"] == "error", "the run failed: {last}");
    last["error_message"]
        .as_str()
        .map(str::to_owned)
        .context("error_message is set")
}

/// Golden 13 without the `servers` key: the stand-in's OAuth client (like a real one with
/// owned tags) only creates keys that carry exactly its tag set, here the example's `tag:ci`.
fn everything_the_client_may_create() -> Result<Value> {
    let mut config = golden("13-tailnet-with-keys")?;
    let keys = config["resource"]["tailscale_tailnet_key"]
        .as_object_mut()
        .context("golden 13 has keys")?;
    ensure!(
        keys.remove("servers").is_some(),
        "golden 13 has the servers key"
    );
    Ok(config)
}

#[test]
fn t1_acl_on_a_non_default_policy_fails_with_the_fix_then_overwrite_existing_replaces_it()
-> Result<()> {
    let world = World::new()?;
    world.apply()?.expect(0, "apply of the keys alone")?;
    let before = fs::read(world.state_file())?;
    console_policy(&world, "// set in the admin console\n{\"grants\": []}\n")?;
    let live = world.tailnet()?.policy;

    let mut config = golden("08-acl-policy")?;
    world.set_config(&config)?;
    let run = world
        .apply()?
        .expect(1, "first apply of the policy on a non-default one")?;
    let message = error_message(&world)?;
    ensure!(
        !message.contains('\n')
            && message.starts_with(&format!("{ACL}: Overwrite Protected: "))
            && message.ends_with(FIX),
        "one line, terraform's words and the fix: {message:?}"
    );
    ensure!(
        message.contains(
            "compare the live policy (admin console → Access controls) with the declared one"
        ),
        "it says what to compare first: {message:?}"
    );
    ensure!(
        run.stderr.contains(&format!("\n{message}\n")),
        "the same line on stderr:\n{}",
        run.stderr
    );
    ensure!(
        fs::read(world.state_file())? == before,
        "terraform.tfstate is as before the run"
    );
    ensure!(
        world.last_apply()?["orphaned_resources"] == json!([]),
        "nothing was created"
    );
    ensure!(
        world.tailnet()?.policy == live,
        "the live policy is untouched"
    );
    ensure!(
        acl_writes(&world)? == [(Some("\"ts-default\"".to_owned()), 412)],
        "the one write asked for the default policy: {:?}",
        acl_writes(&world)?
    );
    // The activation line exits 0 whenever it prints (the failure is in the line).
    let oneline = world
        .runner(&["status", "--oneline"])?
        .expect(0, "status --oneline after the failed apply")?;
    ensure!(
        oneline.stdout.contains(FIX),
        "the activation line carries the fix: {}",
        oneline.stdout
    );

    // The operator compared the policies and sets acl.overwriteExisting = true.
    config["resource"]["tailscale_acl"]["policy"]["overwrite_existing_content"] = json!(true);
    world.set_config(&config)?;
    world.apply()?.expect(0, "apply with overwriteExisting")?;
    let policy = world.tailnet()?.policy;
    ensure!(
        policy.hujson == declared_policy(&config)? && !policy.default,
        "the declared policy replaced the live one: {policy:?}"
    );
    ensure!(
        acl_writes(&world)?.last() == Some(&(None, 200)),
        "written without If-Match: {:?}",
        acl_writes(&world)?
    );
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 1, "change": 0, "remove": 0}),
        "the policy was added to the state: {}",
        world.last_apply()?
    );
    Ok(())
}

#[test]
fn t2_a_policy_change_and_a_console_edit_are_overwritten_by_the_declared_policy() -> Result<()> {
    let world = World::new()?;
    let mut config = golden("08-acl-policy")?;
    world.set_config(&config)?;
    world
        .apply()?
        .expect(0, "first apply on the default policy")?;
    ensure!(
        acl_writes(&world)? == [(Some("\"ts-default\"".to_owned()), 200)],
        "the create replaced the untouched default: {:?}",
        acl_writes(&world)?
    );

    // A change in Nix: one more member in group:ops, rendered as builtins.toJSON would.
    let mut policy: Value = serde_json::from_str(&declared_policy(&config)?)?;
    policy["groups"]["group:ops"]
        .as_array_mut()
        .context("group:ops")?
        .push(json!("carol@example.com"));
    config["resource"]["tailscale_acl"]["policy"]["acl"] = json!(policy.to_string());
    world.set_config(&config)?;
    world.apply()?.expect(0, "apply of the changed policy")?;
    ensure!(
        world.tailnet()?.policy.hujson == declared_policy(&config)?,
        "the tailnet has the changed policy"
    );
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 1, "remove": 0}),
        "one update: {}",
        world.last_apply()?
    );
    ensure!(
        acl_writes(&world)?.get(1) == Some(&(None, 200)),
        "updates overwrite without If-Match: {:?}",
        acl_writes(&world)?
    );

    // README: once managed, every run makes the tailnet's policy the declared one again.
    console_policy(&world, "{\"grants\": []}\n")?;
    world
        .apply()?
        .expect(0, "apply after an admin console edit")?;
    ensure!(
        world.tailnet()?.policy.hujson == declared_policy(&config)?,
        "the console edit was overwritten"
    );
    world.apply()?.expect(0, "apply with nothing to do")?;
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "no change when the policy is the declared one: {}",
        world.last_apply()?
    );
    Ok(())
}

#[test]
fn t3_dns_set_changed_and_removed_which_wipes_the_tailnets_dns() -> Result<()> {
    let world = World::new()?;
    let mut config = golden("10-dns")?;
    world.set_config(&config)?;
    world.apply()?.expect(0, "apply of the DNS configuration")?;
    let dns = world.tailnet()?.dns;
    ensure!(
        global_nameservers(&dns) == [("1.1.1.1", false), ("2606:4700:4700::1111", true)],
        "the nameservers as declared: {dns:?}"
    );
    ensure!(
        dns.split_dns.keys().collect::<Vec<_>>() == ["corp.example.com", "lab.example.org"]
            && dns.split_dns["corp.example.com"].len() == 2
            && dns.search_paths == ["corp.example.com", "example.com"]
            && !dns.magic_dns
            && dns.override_local_dns,
        "split DNS, search paths and both flags as declared: {dns:?}"
    );
    world.apply()?.expect(0, "second apply")?;
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "the configuration reads back without a diff: {}",
        world.last_apply()?
    );

    let declared = &mut config["resource"]["tailscale_dns_configuration"]["dns"];
    declared["magic_dns"] = json!(true);
    declared["split_dns"]
        .as_array_mut()
        .context("split_dns")?
        .truncate(1);
    world.set_config(&config)?;
    world.apply()?.expect(0, "apply of the changed DNS")?;
    let dns = world.tailnet()?.dns;
    ensure!(
        dns.magic_dns && dns.split_dns.len() == 1 && dns.nameservers.len() == 2,
        "MagicDNS on, one split-DNS domain left: {dns:?}"
    );
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 1, "remove": 0}),
        "one update: {}",
        world.last_apply()?
    );

    // Removing `dns` destroys the resource: the provider's delete wipes the tailnet's DNS.
    config["resource"]
        .as_object_mut()
        .context("resources")?
        .remove("tailscale_dns_configuration");
    world.set_config(&config)?;
    world.apply()?.expect(0, "apply without dns")?;
    let dns = world.tailnet()?.dns;
    ensure!(
        dns.nameservers.is_empty()
            && dns.split_dns.is_empty()
            && dns.search_paths.is_empty()
            && !dns.magic_dns
            && !dns.override_local_dns,
        "the tailnet's DNS is wiped, MagicDNS off: {dns:?}"
    );
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 1}),
        "one destroy: {}",
        world.last_apply()?
    );
    Ok(())
}

/// The devices of scenarios t4, t6, t7 and t8: `fresh` (online, tag:server), `soon` (node key expires in
/// 3 days, tag:server), `gone` (offline, expired a day ago), `pinned` (key expiry disabled, no
/// addresses, tag:server and tag:prod).
fn add_devices(world: &World) -> Result<()> {
    world.tailnet_do(&["add-device", "fresh.tail0.ts.net", "--tags", "tag:server"])?;
    world.tailnet_do(&[
        "add-device",
        "soon.tail0.ts.net",
        "--tags",
        "tag:server",
        "--expires",
        "+3d",
    ])?;
    world.tailnet_do(&[
        "add-device",
        "gone.tail0.ts.net",
        "--expires",
        "-1d",
        "--last-seen",
        "-2d",
        "--os",
        "windows",
    ])?;
    world.tailnet_do(&[
        "add-device",
        "pinned.tail0.ts.net",
        "--tags",
        "tag:server,tag:prod",
        "--key-expiry-disabled",
        "--no-addresses",
    ])
}

/// `status --json`'s device names whose `flag` is true.
fn flagged(status: &Value, flag: &str) -> Vec<String> {
    status["devices"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d[flag] == true)
        .filter_map(|d| d["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn t4_devices_with_expiring_and_expired_node_keys_in_every_status_format() -> Result<()> {
    let world = World::new()?;
    world.apply()?.expect(0, "apply without monitorDevices")?;
    let (_, status) = world.status_json()?;
    ensure!(
        status["devices"].is_null(),
        "not monitored: devices is null: {status}"
    );

    add_devices(&world)?;
    world.set_config(&golden("11-devices")?)?;
    world.apply()?.expect(0, "apply with monitorDevices")?;
    let tailnet = world.tailnet()?;
    let (code, status) = world.status_json()?;
    ensure!(code == Some(0), "device keys do not change the exit code");
    let devices = status["devices"].as_array().context("devices is a list")?;
    ensure!(devices.len() == 4, "every device: {status}");
    for listed in devices {
        let name = listed["name"].as_str().unwrap_or_default();
        let device = tailnet.device(name).context("a device of the tailnet")?;
        let expires = (!device.key_expiry_disabled).then_some(device.expires.as_str());
        let mut tags = device.tags.clone();
        tags.sort();
        ensure!(
            listed["node_id"] == device.node_id.as_str()
                && listed["hostname"] == device.hostname.as_str()
                && listed["os"] == device.os.as_str()
                && listed["user"] == device.user.as_str()
                && listed["tags"] == json!(tags)
                && listed["addresses"] == json!(device.addresses.clone().unwrap_or_default())
                && listed["authorized"] == device.authorized
                && listed["last_seen"] == json!(device.last_seen)
                && listed["expires"] == json!(expires)
                && listed["key_expiry_disabled"] == device.key_expiry_disabled,
            "{name} as the tailnet has it ({device:?}): {listed}"
        );
    }
    ensure!(
        flagged(&status, "key_expires_soon") == ["soon.tail0.ts.net"]
            && flagged(&status, "key_expired") == ["gone.tail0.ts.net"],
        "one key expires within 14 days, one has expired: {status}"
    );
    ensure!(
        status["devices_as_of"].is_string(),
        "it says as of when: {status}"
    );

    let human = world.runner(&["status"])?.expect(0, "status")?;
    for expected in [
        "Devices: 4 as of the last run",
        "⚠ soon.tail0.ts.net",
        "(within 14 days)",
        "✗ gone.tail0.ts.net",
        "key expired ",
        "key expiry disabled",
        "Node keys: 1 expiring within 14 days, 1 expired",
    ] {
        ensure!(
            human.stdout.contains(expected),
            "the dashboard says {expected:?}:\n{}",
            human.stdout
        );
    }
    let waybar = world
        .runner(&["status", "--waybar"])?
        .expect(0, "waybar")?
        .json()?;
    ensure!(
        waybar["class"] == "warning" && waybar["text"] == "⚠ 2 device keys expiring or expired",
        "waybar warns: {waybar}"
    );
    let prometheus = world
        .runner(&["status", "--prometheus"])?
        .expect(0, "prometheus")?;
    let samples = |metric: &str| {
        prometheus
            .stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{metric}{{")))
            .count()
    };
    ensure!(
        prometheus
            .stdout
            .contains("\ntailscale_manager_devices 4\n")
            && samples("tailscale_manager_device_key_expiry_timestamp_seconds") == 3
            && samples("tailscale_manager_device_last_seen_timestamp_seconds") == 1,
        "4 devices, 3 expiring keys, 1 device offline:\n{}",
        prometheus.stdout
    );
    let oneline = world
        .runner(&["status", "--oneline"])?
        .expect(0, "oneline")?;
    ensure!(
        oneline.stdout == "tailscale-manager: last apply [ok]\n",
        "the activation line is about the apply only: {}",
        oneline.stdout
    );
    let narrow = world
        .runner(&["status", "--json", "--expiry-warning", "2"])?
        .expect(0, "status --expiry-warning 2")?
        .json()?;
    ensure!(
        flagged(&narrow, "key_expires_soon").is_empty(),
        "3 days away is outside a 2-day window: {narrow}"
    );
    let secrets = world.secrets()?;
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--waybar"],
    ] {
        assert_no_secrets(&secrets, &world.runner(args)?.all(), &args.join(" "))?;
    }

    // Each run reads the list again.
    world.tailnet_do(&["add-device", "new.tail0.ts.net"])?;
    world.apply()?.expect(0, "apply after a device joined")?;
    let (_, status) = world.status_json()?;
    ensure!(
        status["devices"].as_array().map(Vec::len) == Some(5),
        "the new device is listed after the next run: {status}"
    );
    Ok(())
}

#[test]
fn t5_a_missing_scope_names_the_scope_each_feature_needs() -> Result<()> {
    let world = World::new()?;
    for (scope, config, address) in [
        (
            "auth_keys",
            "01-readme-example",
            "tailscale_tailnet_key.managed_key",
        ),
        ("policy_file", "08-acl-policy", ACL),
        ("dns", "10-dns", DNS),
        (
            "devices:core:read",
            "11-devices",
            "data.tailscale_devices.all",
        ),
    ] {
        world.set_config(&golden(config)?)?;
        world.tailnet_do(&["drop-scope", scope])?;
        let run = world
            .apply()?
            .expect(1, &format!("apply of {config} without {scope}"))?;
        let message = error_message(&world)?;
        let named =
            format!("{address} needs the OAuth scope '{scope}': add it to the OAuth client");
        ensure!(
            message.contains(
                "calling actor does not have enough permissions to perform this function (403)"
            ) && message.contains(&named),
            "without {scope}: {message:?}"
        );
        ensure!(
            run.stderr.contains(&named),
            "stderr names the scope too:\n{}",
            run.stderr
        );
        world.tailnet_do(&["grant-scope", scope])?;
        world
            .apply()?
            .expect(0, &format!("apply of {config} with {scope} granted again"))?;
    }
    Ok(())
}

#[test]
fn t6_everything_together_with_keys_in_one_apply() -> Result<()> {
    let world = World::new()?;
    add_devices(&world)?;
    // Golden 13 sets overwriteExisting: it replaces a policy set in the admin console.
    console_policy(&world, "{\"grants\": []}\n")?;
    let config = everything_the_client_may_create()?;
    world.set_config(&config)?;
    world
        .apply()?
        .expect(0, "apply of keys, ACL, DNS and devices")?;
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 4, "change": 0, "remove": 0}),
        "two keys, the policy and DNS: {}",
        world.last_apply()?
    );
    let tailnet = world.tailnet()?;
    ensure!(
        tailnet.keys.len() == 2 && world.tailnet_ids()? == world.state_ids()?,
        "the two keys exist and are tracked: {:?}",
        world.tailnet_ids()?
    );
    ensure!(
        tailnet.policy.hujson == declared_policy(&config)?,
        "the declared policy"
    );
    ensure!(
        tailnet.dns.nameservers.len() == 1
            && tailnet.dns.split_dns.contains_key("corp.example.com")
            && tailnet.dns.search_paths == ["corp.example.com"],
        "the declared DNS: {:?}",
        tailnet.dns
    );
    let (code, status) = world.status_json()?;
    let names = field_values(&status["devices"], "name");
    ensure!(
        code == Some(0)
            && names
                == [
                    "fresh.tail0.ts.net",
                    "soon.tail0.ts.net",
                    "pinned.tail0.ts.net"
                ],
        "only the devices tagged tag:server: {names:?}"
    );
    ensure!(
        status["managed_keys"].as_array().map(Vec::len) == Some(2),
        "keys and devices side by side: {status}"
    );
    world.apply()?.expect(0, "second apply")?;
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "nothing to do the second time: {}",
        world.last_apply()?
    );
    Ok(())
}

/// Golden 13 as it is: its `servers` key carries tags the OAuth client does not own, so that
/// create fails while the other keys, the policy and DNS are created.
/// The failed apply's stderr.
fn partial_failure(world: &World, on_failure: &str) -> Result<String> {
    add_devices(world)?;
    world.set_config(&golden("13-tailnet-with-keys")?)?;
    let run = world
        .runner(&["apply", "--on-failure", on_failure])?
        .expect(
            1,
            &format!("apply whose servers key fails (--on-failure {on_failure})"),
        )?;
    let message = error_message(world)?;
    ensure!(
        message.starts_with("tailscale_tailnet_key.servers: ") && message.contains("(400)"),
        "the servers key failed: {message:?}"
    );
    let tailnet = world.tailnet()?;
    ensure!(
        tailnet.keys.len() == 2 && !tailnet.policy.default && tailnet.dns.nameservers.len() == 1,
        "the other keys, the policy and DNS were created: {:?}",
        tailnet.keys
    );
    Ok(run.stderr)
}

#[test]
fn t7_partial_failure_across_the_tailnet_restores_and_lists_every_orphan() -> Result<()> {
    let world = World::new()?;
    let stderr = partial_failure(&world, "restore")?;
    for (address, remedy) in [
        (
            "tailscale_tailnet_key.runners",
            "delete it in the admin console",
        ),
        (
            ACL,
            "unless services.tailscale-manager.acl.overwriteExisting = true",
        ),
        (DNS, "the next apply sets the declared ones again"),
    ] {
        ensure!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("warning: orphaned {address} "))
                    && l.contains(remedy)),
            "the warning for {address} says {remedy:?}: {stderr}"
        );
    }
    let last = world.last_apply()?;
    let mut orphans = field_values(&last["orphaned_resources"], "address");
    orphans.sort_unstable();
    ensure!(
        orphans
            == [
                ACL,
                DNS,
                "tailscale_tailnet_key.managed_key",
                "tailscale_tailnet_key.runners"
            ],
        "everything created is orphaned: {last}"
    );
    let failed = last["failed_state_path"]
        .as_str()
        .context("the failed state is kept")?;
    let failed_state = fs::read_to_string(failed)?;
    for orphan in last["orphaned_resources"].as_array().into_iter().flatten() {
        let id = orphan["id"].as_str().unwrap_or("?");
        ensure!(
            failed_state.contains(id),
            "{failed} records the orphan {orphan}"
        );
    }
    ensure!(
        !world.state_file().exists(),
        "the state is back to before: none"
    );
    let (code, status) = world.status_json()?;
    ensure!(
        code == Some(1) && status["devices"].is_null() && status["managed_keys"] == json!([]),
        "status reads the restored state: {status}"
    );

    // The next apply creates the keys again (the orphaned ones stay in the tailnet until
    // someone deletes them) and takes over the policy and DNS without a leak.
    let orphan_keys = world.tailnet_ids()?;
    world.set_config(&everything_the_client_may_create()?)?;
    world.apply()?.expect(0, "apply without the servers key")?;
    let state = world.state_ids()?;
    let mut expected = orphan_keys.clone();
    expected.extend(state.iter().cloned());
    expected.sort();
    ensure!(
        world.tailnet_ids()? == expected && state.iter().all(|id| !orphan_keys.contains(id)),
        "two new keys, the two orphans untouched: tailnet {:?}, state {state:?}",
        world.tailnet_ids()?
    );
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 4, "change": 0, "remove": 0}),
        "keys, policy and DNS are tracked again: {}",
        world.last_apply()?
    );
    Ok(())
}

#[test]
fn t8_partial_failure_across_the_tailnet_kept_then_converges() -> Result<()> {
    let world = World::new()?;
    partial_failure(&world, "keep")?;
    let last = world.last_apply()?;
    ensure!(
        last["orphaned_resources"] == json!([]),
        "keep orphans nothing: {last}"
    );
    let (_, status) = world.status_json()?;
    ensure!(
        status["managed_keys"].as_array().map(Vec::len) == Some(2)
            && status["devices"].as_array().map(Vec::len) == Some(3),
        "the kept state tracks the created keys and the device list: {status}"
    );
    ensure!(
        world.tailnet_ids()? == world.state_ids()?,
        "the state tracks both created keys"
    );

    // The operator gives the servers key the client's tag; only it is created now.
    let mut config = golden("13-tailnet-with-keys")?;
    config["resource"]["tailscale_tailnet_key"]["servers"]["tags"] = json!(["tag:ci"]);
    world.set_config(&config)?;
    world
        .runner(&["apply", "--on-failure", "keep"])?
        .expect(0, "apply after fixing the tags")?;
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 1, "change": 0, "remove": 0}),
        "only the servers key is added; the policy and DNS were kept: {}",
        world.last_apply()?
    );
    ensure!(
        world.tailnet()?.keys.len() == 3 && world.tailnet_ids()? == world.state_ids()?,
        "three keys, all tracked"
    );
    Ok(())
}

#[test]
fn t9_a_policy_orphaned_by_a_restored_first_run_is_tracked_again_with_restore_state() -> Result<()>
{
    let world = World::new()?;
    let mut config = golden("08-acl-policy")?;
    let example = config["resource"]["tailscale_tailnet_key"]["managed_key"].clone();
    config["resource"]["tailscale_tailnet_key"]["other_key"] = with_tags(&example, &["tag:other"]);
    world.set_config(&config)?;
    world
        .apply()?
        .expect(1, "first apply whose second key is refused")?;
    let last = world.last_apply()?;
    ensure!(
        field_values(&last["orphaned_resources"], "address")
            .iter()
            .any(|address| address == ACL),
        "the policy was set, then forgotten by the restore: {last}"
    );
    let failed = last["failed_state_path"]
        .as_str()
        .context("the failed state is kept")?
        .to_owned();
    ensure!(
        world.tailnet()?.policy.hujson == declared_policy(&config)?,
        "the tailnet has the declared policy"
    );

    // Without the refused key, the next run meets overwrite protection (the policy is no longer
    // the default), and being restored too, it orphans the key it created again.
    let keys = config["resource"]["tailscale_tailnet_key"]
        .as_object_mut()
        .context("keys")?;
    keys.remove("other_key");
    world.set_config(&config)?;
    world
        .apply()?
        .expect(1, "the next apply meets overwrite protection")?;
    ensure!(
        error_message(&world)?.ends_with(FIX),
        "with the fix: {}",
        error_message(&world)?
    );
    let again = field_values(&world.last_apply()?["orphaned_resources"], "id");
    ensure!(again.len() == 1, "a second key orphaned: {again:?}");

    // README: restore-state of the first failed state tracks what that run created.
    world
        .runner(&["restore-state", &failed])?
        .expect(0, "restore-state of the failed state")?;
    world.apply()?.expect(0, "apply after restore-state")?;
    ensure!(
        world.last_apply()?["changes"] == json!({"add": 0, "change": 0, "remove": 0}),
        "the policy and the first key are tracked again, nothing created: {}",
        world.last_apply()?
    );
    let mut expected = world.state_ids()?;
    expected.extend(again);
    expected.sort();
    ensure!(
        world.tailnet_ids()? == expected,
        "the tailnet holds the tracked key and the second run's orphan: {:?} vs {expected:?}",
        world.tailnet_ids()?
    );
    Ok(())
}
