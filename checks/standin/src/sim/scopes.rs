//! OAuth client scopes, as the Tailscale API checks them (Tailscale KB 1215 "OAuth clients" and
//! KB 1623 "trust credentials"; the per-endpoint scopes are those of the API's OpenAPI document).

/// What `standin-tailnet init` grants the OAuth client unless told otherwise: exactly what the
/// project's features need (keys, ACL policy, DNS, device inventory), so that a feature needing
/// more fails in the tests as it would for a user who followed the README.
pub const DEFAULT_SCOPES: [&str; 4] = ["auth_keys", "policy_file", "dns", "devices:core:read"];

pub fn default_scopes() -> Vec<String> {
    DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect()
}

/// Whether a token holding `granted` may do what `needed` allows (e.g. `dns:read`).
///
/// A scope allows itself and its read-only form (`dns` allows `dns:read`, `devices:core` allows
/// `devices:core:read`); `all` allows everything and `all:read` every read-only scope. The
/// legacy names (`acl`, `devices`, …) are not simulated: they are plain strings here.
pub fn allows(granted: &[String], needed: &str) -> bool {
    granted.iter().any(|scope| {
        scope == needed
            || scope == "all"
            || needed.strip_suffix(":read") == Some(scope.as_str())
            || (scope == "all:read" && needed.ends_with(":read"))
    })
}

/// The scopes among `requested` that a client holding `granted` cannot put into a token.
pub fn ungranted<'a>(granted: &[String], requested: &'a [String]) -> Vec<&'a str> {
    requested
        .iter()
        .filter(|scope| !allows(granted, scope))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_scope_allows_itself_and_its_read_form() {
        let granted = strings(&["dns", "devices:core:read"]);
        assert!(allows(&granted, "dns"), "dns allows dns");
        assert!(allows(&granted, "dns:read"), "dns allows dns:read");
        assert!(allows(&granted, "devices:core:read"), "an exact read scope");
        assert!(!allows(&granted, "policy_file:read"), "nothing else");
        assert!(
            !allows(&granted, "devices:core"),
            "a read scope does not allow writing"
        );
    }

    #[test]
    fn all_and_all_read() {
        assert!(
            allows(&strings(&["all"]), "policy_file"),
            "all allows writes"
        );
        let read = strings(&["all:read"]);
        assert!(allows(&read, "policy_file:read"), "all:read allows reads");
        assert!(!allows(&read, "policy_file"), "all:read allows no write");
    }

    #[test]
    fn ungranted_lists_what_the_client_cannot_give() {
        let granted = strings(&["auth_keys", "dns"]);
        let requested = strings(&["dns:read", "policy_file", "all"]);
        assert_eq!(
            ungranted(&granted, &requested),
            ["policy_file", "all"],
            "a client can narrow its scopes but not widen them"
        );
    }
}
