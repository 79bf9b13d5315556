//! The tailnet policy file (ACL) the simulated API keeps.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The policy a new tailnet starts with, shaped like the admin console's default (a HuJSON file
/// with comments that allows every connection and SSH to one's own devices in check mode). Its
/// exact text is not reproduced: nothing may depend on it beyond "a default policy with
/// comments".
pub const DEFAULT_POLICY: &str = r#"// The default policy of the simulated tailnet: every device may reach every other.
{
	// Declare groups of users here, e.g.
	// "groups": {"group:example": ["alice@example.com"]},

	// Declare which users may apply which tags, e.g.
	// "tagOwners": {"tag:example": ["autogroup:admin"]},

	// Allow all connections.
	"grants": [
		{"src": ["*"], "dst": ["*"], "ip": ["*"]},
	],

	// Allow users to SSH into their own devices in check mode.
	"ssh": [
		{
			"action": "check",
			"src":    ["autogroup:member"],
			"dst":    ["autogroup:self"],
			"users":  ["autogroup:nonroot", "root"],
		},
	],
}
"#;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The policy file exactly as it was set; the API returns it verbatim, comments included.
    pub hujson: String,
    /// True until a policy is set: only then does `If-Match: "ts-default"` match. Setting the
    /// empty policy (a reset) makes it true again; setting any text, even the default's, makes it
    /// false (whether the real API compares the text is not known).
    pub default: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            hujson: DEFAULT_POLICY.to_owned(),
            default: true,
        }
    }
}

impl Policy {
    /// The policy's ETag (without quotes): a hash of its text, so it changes with every change.
    pub fn etag(&self) -> String {
        let digest = Sha256::digest(self.hujson.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether an `If-Match` header (quoted, as the client sends it) matches the current policy:
    /// `"ts-default"` matches the untouched default, anything else must be the current ETag.
    pub fn if_match(&self, header: &str) -> bool {
        match header.trim_matches('"') {
            "ts-default" => self.default,
            etag => etag == self.etag(),
        }
    }

    /// `POST …/acl` with a body: an empty body resets the policy to the default ("Setting the ACL
    /// to an empty string resets its value to the default", terraform-provider-tailscale v0.29.2
    /// resource_acl.go Delete).
    pub fn set(&mut self, hujson: &str) {
        if hujson.is_empty() {
            *self = Self::default();
        } else {
            self.hujson = hujson.to_owned();
            self.default = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_default_matches_only_the_untouched_default() {
        let mut policy = Policy::default();
        assert!(
            policy.if_match("\"ts-default\""),
            "a new tailnet's policy is the default"
        );
        policy.set(DEFAULT_POLICY);
        assert!(
            !policy.if_match("\"ts-default\""),
            "any set policy is no longer untouched, even with the default's text"
        );
        policy.set("");
        assert!(
            policy.if_match("\"ts-default\""),
            "an empty policy resets to the default"
        );
        assert_eq!(
            policy,
            Policy::default(),
            "the reset restores the default text"
        );
    }

    #[test]
    fn etag_follows_the_text() {
        let mut policy = Policy::default();
        let before = policy.etag();
        assert!(
            policy.if_match(&format!("\"{before}\"")),
            "the current ETag matches"
        );
        policy.set("{\"grants\": []}");
        assert_ne!(policy.etag(), before, "a new policy has a new ETag");
        assert!(
            !policy.if_match(&format!("\"{before}\"")),
            "the old ETag no longer matches"
        );
        assert_eq!(policy.etag().len(), 64, "a SHA-256 in hex");
    }
}
