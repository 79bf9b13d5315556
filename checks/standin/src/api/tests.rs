//! The simulated API through the client, as the provider uses it: If-Match and ETags, scopes,
//! token requests, and what the request log records.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, ensure};
use tempfile::TempDir;

use super::*;
use crate::sim::{Device, Tailnet};

/// A fresh tailnet file and a client authenticated as its OAuth client, asking for `scopes`.
fn world(scopes: Option<&[&str]>) -> Result<(TempDir, SimFile, Client)> {
    let dir = tempfile::tempdir()?;
    let file = SimFile::new(dir.path().join("tailnet.json"));
    let tailnet = Tailnet::new("example.com", vec!["tag:ci".into()])?;
    let oauth = tailnet.oauth_clients[0].clone();
    file.create(&tailnet, false)?;
    let auth = Auth::OAuth {
        client_id: oauth.id,
        secret: oauth.secret,
        scopes: scopes.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
    };
    let base_url = format!("file://{}", file.path().display());
    let client = Client::new(Ok(file.clone()), base_url, "-".into(), auth);
    Ok((dir, file, client))
}

#[test]
fn acl_create_needs_the_untouched_default() -> Result<()> {
    let (_dir, file, client) = world(None)?;
    client
        .set_acl("{\"grants\": []}", "ts-default")
        .ok()
        .context("the first write replaces the default")?;
    let second = client.set_acl("{\"acls\": []}", "ts-default");
    ensure!(
        second
            .as_ref()
            .map_err(ToString::to_string)
            .err()
            .as_deref()
            == Some("precondition failed, invalid old hash (412)"),
        "a second If-Match: \"ts-default\" write is refused: {second:?}"
    );
    let tailnet = file.read()?;
    ensure!(
        tailnet.policy.hujson == "{\"grants\": []}",
        "the refused write changed nothing"
    );
    let posts = tailnet.requests_to("POST", "/api/v2/tailnet/-/acl");
    let sent: Vec<_> = posts
        .iter()
        .map(|r| (r.headers.get("If-Match").map(String::as_str), r.status))
        .collect();
    ensure!(
        sent == [(Some("\"ts-default\""), 200), (Some("\"ts-default\""), 412)],
        "the log shows the quoted If-Match and each answer: {sent:?}"
    );
    ensure!(
        posts[0].headers.get("Content-Type").map(String::as_str) == Some("application/hujson"),
        "the policy is sent as HuJSON: {:?}",
        posts[0].headers
    );

    client
        .set_acl("{\"acls\": []}", "")
        .ok()
        .context("a write without If-Match overwrites")?;
    let raw = client.get_acl().ok().context("read the policy")?;
    ensure!(
        raw.hujson == "{\"acls\": []}",
        "the text comes back verbatim"
    );
    client
        .set_acl("{\"ssh\": []}", &raw.etag)
        .ok()
        .context("the current ETag matches")?;
    ensure!(
        client.set_acl("{}", &raw.etag).is_err(),
        "an ETag from before the last write no longer matches"
    );
    client
        .set_acl("", "")
        .ok()
        .context("an empty policy resets")?;
    ensure!(
        file.read()?.policy.default,
        "after a reset the policy is the untouched default again"
    );
    Ok(())
}

#[test]
fn acl_writes_must_be_hujson() -> Result<()> {
    let (_dir, _file, client) = world(None)?;
    let refused = client.set_acl("{\"a\": ", "").err().map(|e| e.to_string());
    ensure!(
        refused.as_deref() == Some("hujson: line 1, column 7: parsing value: unexpected EOF (400)"),
        "a broken policy is a 400: {refused:?}"
    );
    Ok(())
}

/// Each endpoint with the scope it needs, and a call to it.
type Endpoint = (&'static str, fn(&Client) -> Result<(), ApiError>);

const ENDPOINTS: [Endpoint; 5] = [
    ("auth_keys", |c| c.get_key("kNONE").map(drop)),
    ("policy_file", |c| c.get_acl().map(drop)),
    ("policy_file", |c| c.set_acl("{}", "")),
    ("dns", |c| c.dns_configuration().map(drop)),
    ("devices:core:read", |c| {
        c.list_devices(&BTreeMap::new()).map(drop)
    }),
];

#[test]
fn every_endpoint_checks_its_scope() -> Result<()> {
    for (scope, call) in ENDPOINTS {
        let (_dir, file, client) = world(None)?;
        file.update(|t| {
            t.oauth_clients[0].scopes.retain(|s| s != scope);
            Ok(())
        })?;
        let got = call(&client).err().map(|e| e.to_string());
        ensure!(
            got.as_deref()
                == Some(
                    "calling actor does not have enough permissions to perform this function (403)"
                ),
            "without {scope}: {got:?}"
        );
        let status = file.read()?.requests().last().map(|r| r.status);
        ensure!(
            status == Some(403),
            "the log records the 403 for {scope}: {status:?}"
        );
    }
    let (_dir, file, client) = world(None)?;
    file.update(|t| {
        t.oauth_clients[0].scopes = vec!["all:read".into()];
        Ok(())
    })?;
    ensure!(client.get_acl().is_ok(), "all:read reads the policy");
    ensure!(
        client.set_acl("{}", "").is_err(),
        "all:read cannot write it"
    );
    Ok(())
}

#[test]
fn requested_scopes_must_be_granted() -> Result<()> {
    let (_dir, file, client) = world(Some(&["dns:read", "all"]))?;
    let got = client.dns_configuration().err().map(|e| e.to_string());
    let url = format!(
        "file://{}/api/v2/tailnet/-/dns/configuration",
        file.path().display()
    );
    let expected = format!(
        "Get \"{url}\": oauth2: cannot fetch token: 403 Forbidden\nResponse: {{\"message\":\"OAuth client cannot grant scopes \\\"all\\\"\"}}"
    );
    ensure!(
        got.as_deref() == Some(expected.as_str()),
        "the token fetch fails:\n{got:?}\nexpected\n{expected:?}"
    );
    let tailnet = file.read()?;
    let tokens = tailnet.requests_to("POST", "/oauth/token");
    ensure!(
        tokens.len() == 2,
        "x/oauth2 retries once: {} token requests",
        tokens.len()
    );
    ensure!(
        tokens[0].body.as_deref() == Some("grant_type=client_credentials&scope=dns%3Aread+all"),
        "the form asks for the scopes: {:?}",
        tokens[0].body
    );
    ensure!(
        tailnet.requests_to("GET", "/dns/configuration").is_empty(),
        "without a token the API request is never sent"
    );

    let (_dir, file, client) = world(Some(&["dns:read"]))?;
    client
        .dns_configuration()
        .ok()
        .context("a narrower scope than granted is fine")?;
    let refused = client
        .set_dns_configuration(&DnsConfiguration::default())
        .err()
        .map(|e| e.to_string());
    ensure!(
        refused.as_deref().is_some_and(|e| e.ends_with("(403)")),
        "the token carries only the requested scopes: {refused:?}"
    );
    ensure!(
        file.read()?.requests_to("POST", "/oauth/token").len() == 1,
        "one token serves the process's calls"
    );
    Ok(())
}

#[test]
fn dns_delete_wipes_everything() -> Result<()> {
    let (_dir, file, client) = world(None)?;
    ensure!(file.read()?.dns.magic_dns, "a new tailnet has MagicDNS on");
    let configuration = DnsConfiguration {
        nameservers: vec![
            Resolver {
                address: "9.9.9.9".into(),
                use_with_exit_node: true,
            },
            Resolver {
                address: "1.1.1.1".into(),
                use_with_exit_node: false,
            },
        ],
        split_dns: BTreeMap::from([(
            "corp".to_owned(),
            vec![Resolver {
                address: "10.0.0.53".into(),
                use_with_exit_node: false,
            }],
        )]),
        search_paths: vec!["corp".into()],
        preferences: Preferences {
            override_local_dns: true,
            magic_dns: true,
        },
    };
    client
        .set_dns_configuration(&configuration)
        .ok()
        .context("set DNS")?;
    let read = client.dns_configuration().ok().context("read DNS")?;
    let addresses: Vec<_> = read
        .nameservers
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    ensure!(
        addresses == ["1.1.1.1", "9.9.9.9"],
        "nameservers come back sorted: {addresses:?}"
    );
    ensure!(
        read.split_dns == configuration.split_dns && read.search_paths == ["corp"],
        "the rest round-trips: {read:?}"
    );
    client
        .set_dns_configuration(&DnsConfiguration::default())
        .ok()
        .context("delete")?;
    let tailnet = file.read()?;
    ensure!(
        tailnet.dns.nameservers.is_empty()
            && tailnet.dns.split_dns.is_empty()
            && tailnet.dns.search_paths.is_empty()
            && !tailnet.dns.magic_dns
            && !tailnet.dns.override_local_dns,
        "the empty configuration wipes DNS, MagicDNS off: {:?}",
        tailnet.dns
    );
    let bodies: Vec<_> = tailnet
        .requests_to("POST", "/dns/configuration")
        .iter()
        .filter_map(|r| r.body.clone())
        .collect();
    ensure!(
        bodies.last().map(String::as_str) == Some("{\"preferences\":{}}"),
        "the delete's body: {bodies:?}"
    );
    Ok(())
}

#[test]
fn devices_are_filtered_by_the_server_and_logged() -> Result<()> {
    let (_dir, file, client) = world(None)?;
    file.update(|t| {
        for (name, tags) in [("web-1.ts.net", vec!["tag:web"]), ("db-1.ts.net", vec![])] {
            let mut device = Device::new(
                name,
                "2026-01-01T00:00:00Z".into(),
                "2026-07-01T00:00:00Z".into(),
            )?;
            device.tags = tags.into_iter().map(str::to_owned).collect();
            t.devices.push(device);
        }
        Ok(())
    })?;
    let filters = BTreeMap::from([("tags".to_owned(), vec!["tag:web".to_owned()])]);
    let listed = client.list_devices(&filters).ok().context("list")?;
    let names: Vec<_> = listed.iter().map(|d| d.name.as_str()).collect();
    ensure!(
        names == ["web-1.ts.net"],
        "only the tagged device: {names:?}"
    );
    let all = client
        .list_devices(&BTreeMap::new())
        .ok()
        .context("list all")?;
    ensure!(
        all.len() == 2 && all[1].tags.is_none(),
        "an untagged device comes without tags: {all:?}"
    );
    let queries: Vec<_> = file
        .read()?
        .requests_to("GET", "/devices")
        .iter()
        .map(|r| r.query.clone())
        .collect();
    ensure!(
        queries == ["tags=tag%3Aweb", ""],
        "the log keeps the query: {queries:?}"
    );
    Ok(())
}
