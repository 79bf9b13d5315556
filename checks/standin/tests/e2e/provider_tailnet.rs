//! The stand-in's tailnet resources under plain terraform (no runner): `tailscale_acl`,
//! `tailscale_dns_configuration`, the `tailscale_devices` data source and OAuth scopes, each
//! checked against what the real provider v0.29.2 does (resource_acl.go,
//! resource_dns_configuration.go, data_source_devices.go, tailscale-client-go-v2 v2.9.0).

use std::fs;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};

use crate::common::{World, acl_writes, example_key, field_values, global_nameservers};
use crate::plain::{APPLY, DESTROY, PLAN, attributes, ensure_says, set_config, tf_project};

const FORBIDDEN: &str =
    "calling actor does not have enough permissions to perform this function (403)";

fn is_uuid(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        let parts: Vec<usize> = s.split('-').map(str::len).collect();
        parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
    })
}

const POLICY: &str =
    "{\n  \"grants\": [\n    {\"src\": [\"*\"], \"dst\": [\"*\"], \"ip\": [\"*\"]}\n  ]\n}\n";

fn acl(policy: &str, extra: Value) -> Value {
    let mut resource = json!({ "acl": policy });
    for (key, value) in extra.as_object().into_iter().flatten() {
        resource[key] = value.clone();
    }
    json!({ "resource": { "tailscale_acl": { "policy": resource } } })
}

#[test]
fn acl_replaces_the_default_policy_and_suppresses_format_only_changes() -> Result<()> {
    let world = World::new()?;
    let dir = tf_project(&world, "acl", acl(POLICY, json!({})))?;
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply on the default policy")?;
    let tailnet = world.tailnet()?;
    ensure!(
        tailnet.policy.hujson == POLICY && !tailnet.policy.default,
        "the tailnet has the policy, verbatim: {:?}",
        tailnet.policy
    );
    ensure!(
        acl_writes(&world)? == [(Some("\"ts-default\"".to_owned()), 200)],
        "the create sent If-Match: \"ts-default\": {:?}",
        acl_writes(&world)?
    );
    let state = attributes(&world, &dir, "tailscale_acl.policy")?;
    ensure!(is_uuid(&state["id"]), "id is a UUID: {state}");
    ensure!(
        state["overwrite_existing_content"].is_null() && state["reset_acl_on_destroy"].is_null(),
        "the unset flags stay null: {state}"
    );

    // Only whitespace differs: the plan keeps the stored text, so nothing changes.
    let reindented = POLICY.replace("  ", "\t").replace("\"src\": ", "\"src\":");
    set_config(
        &dir,
        "/resource/tailscale_acl/policy/acl",
        json!(reindented),
    )?;
    world
        .terraform(&dir, PLAN, &[])?
        .expect(0, "plan after a whitespace-only change")?;

    // A comment is content for HuJSON's formatter: a diff, then a blind overwrite.
    let commented = format!("// managed by terraform\n{POLICY}");
    set_config(&dir, "/resource/tailscale_acl/policy/acl", json!(commented))?;
    let plan = world
        .terraform(&dir, PLAN, &[])?
        .expect(2, "plan after adding a comment")?;
    ensure_says(&plan, "~ update in-place")?;
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply of the update")?;
    ensure!(
        world.tailnet()?.policy.hujson == commented,
        "the update wrote the commented policy"
    );
    ensure!(
        acl_writes(&world)?.get(1) == Some(&(None, 200)),
        "the update sent no If-Match: {:?}",
        acl_writes(&world)?
    );

    world
        .terraform(&dir, DESTROY, &[])?
        .expect(0, "destroy without reset_acl_on_destroy")?;
    let policy = world.tailnet()?.policy;
    ensure!(
        policy.hujson == commented && !policy.default,
        "destroy only forgets the policy: {policy:?}"
    );
    ensure!(
        acl_writes(&world)?.len() == 2,
        "destroy wrote nothing: {:?}",
        acl_writes(&world)?
    );
    Ok(())
}

#[test]
fn acl_on_a_non_default_policy_is_overwrite_protected() -> Result<()> {
    let world = World::new()?;
    let custom = world.path("custom.hujson");
    fs::write(&custom, "// set in the admin console\n{\"grants\": []}\n")?;
    world.tailnet_do(&["set-policy", custom.to_str().context("UTF-8 path")?])?;
    let before = world.tailnet()?.policy;

    let dir = tf_project(&world, "acl", acl(POLICY, json!({})))?;
    let apply = world
        .terraform(&dir, APPLY, &[])?
        .expect(1, "apply on a non-default policy")?;
    ensure_says(&apply, "Error: Overwrite Protected")?;
    ensure_says(
        &apply,
        "You are trying to overwrite a non-default policy. Please import the ACL first or set overwrite_existing_content = true.",
    )?;
    ensure!(
        world.tailnet()?.policy == before,
        "the refused create changed nothing"
    );
    ensure!(
        acl_writes(&world)? == [(Some("\"ts-default\"".to_owned()), 412)],
        "the API answered the If-Match with 412: {:?}",
        acl_writes(&world)?
    );

    let overwrite = json!({ "overwrite_existing_content": true, "reset_acl_on_destroy": true });
    set_config(
        &dir,
        "/resource",
        acl(POLICY, overwrite)["resource"].clone(),
    )?;
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply with overwrite_existing_content")?;
    ensure!(
        world.tailnet()?.policy.hujson == POLICY,
        "the policy was overwritten"
    );
    ensure!(
        acl_writes(&world)?.last() == Some(&(None, 200)),
        "without If-Match: {:?}",
        acl_writes(&world)?
    );

    world
        .terraform(&dir, DESTROY, &[])?
        .expect(0, "destroy with reset_acl_on_destroy")?;
    let policy = world.tailnet()?.policy;
    ensure!(
        policy.default,
        "the policy is the default again: {policy:?}"
    );
    let reset = world.tailnet()?;
    let last = reset.requests_to("POST", "/acl").last().cloned().cloned();
    ensure!(
        last.as_ref()
            .is_some_and(|r| r.body.as_deref() == Some("") && !r.headers.contains_key("If-Match")),
        "the reset posts an empty policy without If-Match: {last:?}"
    );
    Ok(())
}

#[test]
fn dns_configuration_round_trips_warns_and_wipes() -> Result<()> {
    let world = World::new()?;
    let dns = json!({
        "nameservers": [
            {"address": "9.9.9.9", "use_with_exit_node": true},
            {"address": "1.1.1.1"},
        ],
        "split_dns": [{"domain": "corp.example", "nameservers": [{"address": "10.0.0.53"}]}],
        "search_paths": ["corp.example"],
    });
    let dir = tf_project(
        &world,
        "dns",
        json!({ "resource": { "tailscale_dns_configuration": { "dns": dns } } }),
    )?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "create")?;
    let sim = world.tailnet()?.dns;
    ensure!(
        global_nameservers(&sim) == [("9.9.9.9", true), ("1.1.1.1", false)],
        "the nameservers as configured: {sim:?}"
    );
    ensure!(
        sim.split_dns.get("corp.example").map(Vec::len) == Some(1)
            && sim.search_paths == ["corp.example"],
        "split DNS and search paths: {sim:?}"
    );
    ensure!(
        sim.magic_dns && !sim.override_local_dns,
        "the defaults: MagicDNS on, no override: {sim:?}"
    );
    let state = attributes(&world, &dir, "tailscale_dns_configuration.dns")?;
    ensure!(
        state["nameservers"][1]["use_with_exit_node"] == false
            && state["split_dns"][0]["nameservers"][0]["use_with_exit_node"] == false,
        "use_with_exit_node defaults to false in both blocks: {state}"
    );

    // The API lists the nameservers sorted; Read keeps the configured order: no diff.
    let plan = world
        .terraform(&dir, PLAN, &[])?
        .expect(0, "plan after create")?;
    ensure_says(&plan, "Warning: Alpha Resource")?;
    ensure_says(
        &plan,
        "The tailscale_dns_configuration resource is currently in alpha and subject to change, proceed with caution.",
    )?;

    set_config(
        &dir,
        "/resource/tailscale_dns_configuration/dns/magic_dns",
        json!(false),
    )?;
    set_config(
        &dir,
        "/resource/tailscale_dns_configuration/dns/override_local_dns",
        json!(true),
    )?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "update")?;
    let sim = world.tailnet()?.dns;
    ensure!(
        !sim.magic_dns && sim.override_local_dns && sim.nameservers.len() == 2,
        "the update replaced the whole configuration: {sim:?}"
    );

    world.terraform(&dir, DESTROY, &[])?.expect(0, "destroy")?;
    let sim = world.tailnet()?.dns;
    ensure!(
        sim.nameservers.is_empty()
            && sim.split_dns.is_empty()
            && sim.search_paths.is_empty()
            && !sim.magic_dns
            && !sim.override_local_dns,
        "destroy wipes DNS, MagicDNS off: {sim:?}"
    );
    Ok(())
}

#[test]
fn invalid_acl_and_dns_configs_get_the_providers_messages() -> Result<()> {
    let world = World::new()?;
    let dir = tf_project(
        &world,
        "invalid",
        json!({ "resource": {
            "tailscale_acl": { "policy": { "acl": "not json" } },
            "tailscale_dns_configuration": { "dns": {
                "split_dns": [{"domain": "corp.example"}],
            } },
        } }),
    )?;
    let plan = world
        .terraform(&dir, &["plan", "-input=false"], &[])?
        .expect(1, "plan of invalid configs")?;
    for expected in [
        "Error: Invalid Attribute Value",
        "Attribute acl is invalid HuJSON, got: hujson: line 1, column 1: invalid literal: not",
        "Error: Insufficient nameservers blocks",
        "At least 1 \"nameservers\" blocks are required.",
    ] {
        ensure_says(&plan, expected)?;
    }
    ensure!(
        world.tailnet()?.requests().next().is_none(),
        "validation makes no API call"
    );
    Ok(())
}

/// The 21 attributes of a device in `tailscale_devices` (model_device.go plus name, hostname).
const DEVICE_ATTRIBUTES: [&str; 21] = [
    "addresses",
    "authorized",
    "blocks_incoming_connections",
    "client_version",
    "created",
    "expires",
    "hostname",
    "id",
    "is_external",
    "key_expiry_disabled",
    "last_seen",
    "machine_key",
    "name",
    "node_id",
    "node_key",
    "os",
    "tags",
    "tailnet_lock_error",
    "tailnet_lock_key",
    "update_available",
    "user",
];

fn device_names(data: &Value) -> Vec<String> {
    field_values(&data["devices"], "name")
}

#[test]
fn devices_data_source_lists_every_attribute() -> Result<()> {
    let world = World::new()?;
    world.tailnet_do(&[
        "add-device",
        "web-1.tail0000.ts.net",
        "--tags",
        "tag:web",
        "--expires",
        "+3d",
    ])?;
    world.tailnet_do(&[
        "add-device",
        "db-1.tail0000.ts.net",
        "--key-expiry-disabled",
        "--last-seen",
        "-2h",
        "--no-addresses",
        "--os",
        "windows",
    ])?;
    world.tailnet_do(&[
        "add-device",
        "web-2.tail0000.ts.net",
        "--tags",
        "tag:web,tag:prod",
        "--expires",
        "-1d",
    ])?;
    let dir = tf_project(
        &world,
        "devices",
        json!({ "data": { "tailscale_devices": {
            "all": {},
            "web": { "name_prefix": "web-" },
            "prod": { "filter": [{ "name": "tags", "values": ["tag:prod"] }] },
        } } }),
    )?;
    world.terraform(&dir, APPLY, &[])?.expect(0, "apply")?;
    let tailnet = world.tailnet()?;

    let all = attributes(&world, &dir, "data.tailscale_devices.all")?;
    ensure!(is_uuid(&all["id"]), "id is a UUID: {}", all["id"]);
    ensure!(
        device_names(&all)
            == [
                "web-1.tail0000.ts.net",
                "db-1.tail0000.ts.net",
                "web-2.tail0000.ts.net"
            ],
        "every device, in the API's order: {:?}",
        device_names(&all)
    );
    for device in all["devices"].as_array().into_iter().flatten() {
        let mut names: Vec<&str> = device
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        names.sort_unstable();
        ensure!(
            names == DEVICE_ATTRIBUTES,
            "a device has the 21 attributes: {names:?}"
        );
    }
    let web1 = &all["devices"][0];
    let sim1 = tailnet.device("web-1.tail0000.ts.net").context("web-1")?;
    ensure!(web1["last_seen"] == "", "online: last_seen is \"\": {web1}");
    ensure!(web1["tags"] == json!(["tag:web"]), "tags: {web1}");
    ensure!(
        web1["expires"] == sim1.expires.as_str() && web1["node_id"] == sim1.node_id.as_str(),
        "expires and node_id from the API: {web1}"
    );
    ensure!(
        web1["addresses"] == json!(sim1.addresses),
        "addresses: {web1}"
    );
    let db1 = &all["devices"][1];
    let sim_db = tailnet.device("db-1.tail0000.ts.net").context("db-1")?;
    ensure!(db1["addresses"].is_null(), "no addresses: null: {db1}");
    ensure!(db1["tags"] == json!([]), "no tags: []: {db1}");
    ensure!(
        db1["last_seen"] == sim_db.last_seen.as_deref().unwrap_or("?"),
        "offline: last_seen: {db1}"
    );
    ensure!(
        db1["key_expiry_disabled"] == true && db1["expires"] == "0001-01-01T00:00:00Z",
        "key expiry disabled: {db1}"
    );
    ensure!(
        db1["os"] == "windows" && db1["authorized"] == true && db1["user"] == "user@example.com",
        "the other fields: {db1}"
    );

    let web = attributes(&world, &dir, "data.tailscale_devices.web")?;
    ensure!(
        device_names(&web) == ["web-1.tail0000.ts.net", "web-2.tail0000.ts.net"],
        "name_prefix: {:?}",
        device_names(&web)
    );
    let prod = attributes(&world, &dir, "data.tailscale_devices.prod")?;
    ensure!(
        device_names(&prod) == ["web-2.tail0000.ts.net"],
        "the tag filter: {:?}",
        device_names(&prod)
    );
    let queries: Vec<String> = tailnet
        .requests_to("GET", "/devices")
        .iter()
        .map(|r| r.query.clone())
        .collect();
    ensure!(
        queries.contains(&"tags=tag%3Aprod".to_owned()),
        "the filter went to the API as a query: {queries:?}"
    );
    Ok(())
}

/// A config per feature, what the provider says when the call fails, and the scope it needs.
fn features() -> Result<[(&'static str, Value, &'static str); 4]> {
    Ok([
        (
            "auth_keys",
            json!({ "resource": { "tailscale_tailnet_key": { "k": example_key()? } } }),
            "Error creating tailnet key:",
        ),
        ("policy_file", acl(POLICY, json!({})), "Failed to set ACL"),
        (
            "dns",
            json!({ "resource": { "tailscale_dns_configuration": { "dns": {} } } }),
            "Failed to set DNS configuration",
        ),
        (
            "devices:core:read",
            json!({ "data": { "tailscale_devices": { "all": {} } } }),
            "Failed to fetch devices",
        ),
    ])
}

#[test]
fn a_missing_scope_answers_403_for_every_feature() -> Result<()> {
    let world = World::new()?;
    for (scope, body, summary) in features()? {
        let dir = tf_project(&world, &scope.replace(':', "-"), body)?;
        world.tailnet_do(&["drop-scope", scope])?;
        let apply = world
            .terraform(&dir, APPLY, &[])?
            .expect(1, &format!("apply without {scope}"))?;
        ensure_says(&apply, summary)?;
        ensure_says(&apply, FORBIDDEN)?;
        world.tailnet_do(&["grant-scope", scope])?;
        world
            .terraform(&dir, APPLY, &[])?
            .expect(0, &format!("apply with {scope} granted again"))?;
    }
    Ok(())
}

#[test]
fn provider_scopes_the_client_lacks_fail_the_token_request() -> Result<()> {
    let world = World::new()?;
    world.tailnet_do(&["drop-scope", "policy_file"])?;
    let dns = json!({ "resource": { "tailscale_dns_configuration": { "dns": {} } } });
    let dir = tf_project(&world, "scoped", dns)?;
    set_config(
        &dir,
        "/provider/tailscale",
        json!({ "scopes": ["dns", "policy_file"] }),
    )?;
    let apply = world
        .terraform(&dir, APPLY, &[])?
        .expect(1, "apply asking for an ungranted scope")?;
    ensure_says(&apply, "Failed to set DNS configuration")?;
    ensure_says(&apply, "oauth2: cannot fetch token: 403 Forbidden")?;
    ensure_says(
        &apply,
        r#"Response: {"message":"OAuth client cannot grant scopes \"policy_file\""}"#,
    )?;
    let tailnet = world.tailnet()?;
    let tokens = tailnet.requests_to("POST", "/oauth/token");
    ensure!(
        tokens
            .first()
            .is_some_and(|t| t.body.as_deref()
                == Some("grant_type=client_credentials&scope=dns+policy_file")),
        "the token request asked for the provider's scopes: {tokens:?}"
    );
    ensure!(
        tailnet.requests_to("POST", "/dns/configuration").is_empty(),
        "no API request was sent without a token"
    );

    // Narrower than the client's scopes is fine, and the token then holds only those.
    set_config(
        &dir,
        "/provider/tailscale",
        json!({ "scopes": ["dns:read"] }),
    )?;
    let apply = world
        .terraform(&dir, APPLY, &[])?
        .expect(1, "apply with a read-only token")?;
    ensure_says(&apply, FORBIDDEN)?;
    set_config(&dir, "/provider/tailscale", json!({ "scopes": ["dns"] }))?;
    world
        .terraform(&dir, APPLY, &[])?
        .expect(0, "apply with the scope it needs")?;
    Ok(())
}
