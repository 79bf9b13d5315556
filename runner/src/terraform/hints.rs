//! What to do about the terraform errors the tailnet's resources commonly meet: a fix the
//! runner appends to terraform's own words (which are passed on as written). Derived only from
//! the diagnostic's address, summary and detail; the runner asks nobody.

/// The OAuth scope each resource type the module renders needs (README "OAuth scopes"): the
/// Tailscale API's scope for every endpoint the real provider v0.29.2 calls for it.
const SCOPES: [(&str, &str); 4] = [
    ("tailscale_tailnet_key", "auth_keys"),
    ("tailscale_acl", "policy_file"),
    ("tailscale_dns_configuration", "dns"),
    ("data.tailscale_devices", "devices:core:read"),
];

/// The API's answer to a token without the endpoint's scope, as the provider shows it.
const FORBIDDEN: &str =
    "calling actor does not have enough permissions to perform this function (403)";
/// The token endpoint's answer when the provider's `scopes` ask for more than the client has.
const CANNOT_GRANT: &str = "OAuth client cannot grant scopes";
/// resource_acl.go's summary for a create refused because the policy is not the default.
const OVERWRITE_PROTECTED: &str = "Overwrite Protected";
/// The module's policy resource (`services.tailscale-manager.acl`).
const MODULE_ACL: &str = "tailscale_acl.policy";

/// The fix for one error diagnostic, or None when there is nothing to add.
pub fn fix(address: Option<&str>, summary: &str, detail: &str) -> Option<String> {
    let kind = address.and_then(resource_type);
    if summary == OVERWRITE_PROTECTED && kind.as_deref() == Some("tailscale_acl") {
        let address = address.unwrap_or(MODULE_ACL);
        let set = if address == MODULE_ACL {
            "services.tailscale-manager.acl.overwriteExisting = true".to_string()
        } else {
            format!("overwrite_existing_content = true on {address}")
        };
        return Some(format!(
            "the tailnet's policy is not Tailscale's default: compare the live policy (admin \
             console → Access controls) with the declared one ({address} in main.tf.json), \
             keep what you need in your configuration, then set {set}"
        ));
    }
    let token_refused = detail.contains(CANNOT_GRANT) || summary.contains(CANNOT_GRANT);
    if !token_refused && !detail.contains(FORBIDDEN) && !summary.contains(FORBIDDEN) {
        return None;
    }
    let grant = "add it to the OAuth client (admin console → Settings → OAuth clients)";
    let but = if token_refused {
        "; the provider's scopes may name only scopes the client has"
    } else {
        ""
    };
    let scope = kind
        .as_deref()
        .and_then(|kind| SCOPES.iter().find(|(k, _)| *k == kind))
        .map(|(_, scope)| scope);
    Some(match (address, scope) {
        (Some(address), Some(scope)) => {
            format!("{address} needs the OAuth scope '{scope}': {grant}{but}")
        }
        _ => {
            let all: Vec<String> = SCOPES
                .iter()
                .map(|(kind, scope)| format!("{kind} '{scope}'"))
                .collect();
            format!(
                "the OAuth client lacks a scope this needs ({}): {grant}{but}",
                all.join(", ")
            )
        }
    })
}

/// `tailscale_acl` or `data.tailscale_devices` from a resource address, module path and
/// instance key removed (`module.m["a.b"].data.tailscale_devices.all` → `data.tailscale_devices`).
pub fn resource_type(address: &str) -> Option<String> {
    let mut rest = address;
    while let Some(module) = rest.strip_prefix("module.") {
        rest = &module[step_end(module)?..];
        rest = rest.strip_prefix('.')?;
    }
    let (data, rest) = match rest.strip_prefix("data.") {
        Some(rest) => ("data.", rest),
        None => ("", rest),
    };
    let kind = rest.split(['.', '[']).next().filter(|k| !k.is_empty())?;
    Some(format!("{data}{kind}"))
}

/// Where one address step (`name` or `name["key"]`) ends: the first `.` outside an instance
/// key.
fn step_end(text: &str) -> Option<usize> {
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.checked_sub(1)?,
            '.' if !quoted && depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_ignore_modules_and_instance_keys() {
        for (address, expected) in [
            ("tailscale_acl.policy", Some("tailscale_acl")),
            ("data.tailscale_devices.all", Some("data.tailscale_devices")),
            ("tailscale_tailnet_key.ci[0]", Some("tailscale_tailnet_key")),
            (
                "module.edge.tailscale_tailnet_key.k[\"eu-1\"]",
                Some("tailscale_tailnet_key"),
            ),
            (
                "module.a[\"x.y]\"].module.b[2].data.tailscale_devices.all",
                Some("data.tailscale_devices"),
            ),
            ("module.unfinished", None),
            ("", None),
        ] {
            assert_eq!(
                resource_type(address).as_deref(),
                expected,
                "the type of {address:?}"
            );
        }
    }

    #[test]
    fn a_missing_scope_names_the_scope_the_resource_needs() {
        // As the stand-in of the real provider v0.29.2 reports each feature's 403.
        for (address, summary, scope) in [
            (
                "tailscale_tailnet_key.managed_key",
                "Failed to create key",
                "auth_keys",
            ),
            ("tailscale_acl.policy", "Failed to set ACL", "policy_file"),
            (
                "tailscale_dns_configuration.dns",
                "Failed to set DNS configuration",
                "dns",
            ),
            (
                "data.tailscale_devices.all",
                "Failed to fetch devices",
                "devices:core:read",
            ),
        ] {
            assert_eq!(
                fix(Some(address), summary, &format!("x: {FORBIDDEN}")),
                Some(format!(
                    "{address} needs the OAuth scope '{scope}': add it to the OAuth client \
                     (admin console → Settings → OAuth clients)"
                )),
                "{address}"
            );
        }
    }

    #[test]
    fn a_refused_token_says_the_providers_scopes_must_be_the_clients() {
        let detail = "oauth2: cannot fetch token: 403 Forbidden\nResponse: {\"message\":\"OAuth client cannot grant scopes \\\"policy_file\\\"\"}";
        let fixed = fix(
            Some("tailscale_dns_configuration.dns"),
            "Failed to set DNS configuration",
            detail,
        )
        .expect("a fix");
        assert!(
            fixed.starts_with("tailscale_dns_configuration.dns needs the OAuth scope 'dns': ")
                && fixed.ends_with("; the provider's scopes may name only scopes the client has"),
            "{fixed}"
        );
    }

    #[test]
    fn an_unknown_resource_gets_the_whole_scope_table() {
        let fixed = fix(Some("tailscale_dns_nameservers.x"), "Failed", FORBIDDEN).expect("a fix");
        assert_eq!(
            fixed,
            "the OAuth client lacks a scope this needs (tailscale_tailnet_key 'auth_keys', \
             tailscale_acl 'policy_file', tailscale_dns_configuration 'dns', \
             data.tailscale_devices 'devices:core:read'): add it to the OAuth client (admin \
             console → Settings → OAuth clients)"
        );
        assert_eq!(
            fix(None, FORBIDDEN, ""),
            Some(fixed),
            "without an address the same"
        );
    }

    #[test]
    fn overwrite_protection_names_the_module_option() {
        let detail = "You are trying to overwrite a non-default policy. Please import the ACL first or set overwrite_existing_content = true.";
        let fixed = fix(Some("tailscale_acl.policy"), OVERWRITE_PROTECTED, detail).expect("a fix");
        assert!(
            fixed.contains("compare the live policy (admin console → Access controls) with the declared one (tailscale_acl.policy in main.tf.json)")
                && fixed.ends_with("then set services.tailscale-manager.acl.overwriteExisting = true"),
            "{fixed}"
        );
        let own = fix(Some("tailscale_acl.mine"), OVERWRITE_PROTECTED, detail).expect("a fix");
        assert!(
            own.ends_with("then set overwrite_existing_content = true on tailscale_acl.mine"),
            "a policy resource of the operator's own settings: {own}"
        );
    }

    #[test]
    fn other_errors_get_no_fix() {
        for (address, summary, detail) in [
            (
                Some("tailscale_tailnet_key.b"),
                "Failed to create key",
                "requested tags [tag:x] are invalid or not permitted (400)",
            ),
            (
                Some("tailscale_tailnet_key.b"),
                OVERWRITE_PROTECTED,
                "not an ACL",
            ),
            (
                None,
                "Inconsistent dependency lock file",
                "run terraform init",
            ),
        ] {
            assert_eq!(fix(address, summary, detail), None, "{summary}: {detail}");
        }
    }
}
