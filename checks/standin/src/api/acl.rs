//! The policy file: `…/acl` (tailscale-client-go-v2 v2.9.0 policyfile.go Raw and Set), scope
//! `policy_file` (`policy_file:read` to read).

use super::{ApiError, Call, Client};
use crate::gotext::quote;
use crate::hujson;

/// `GET …/acl` with `Accept: application/hujson`: the text and its ETag.
#[derive(Clone, Debug, PartialEq)]
pub struct RawAcl {
    pub hujson: String,
    pub etag: String,
}

/// The API's answer to an `If-Match` that does not match (Tailscale API, setPolicyFile;
/// pulumi-tailscale#98).
const PRECONDITION_FAILED: &str = "precondition failed, invalid old hash";

impl Client {
    pub fn get_acl(&self) -> Result<RawAcl, ApiError> {
        let mut call = Call::new("GET", "acl".to_owned(), "policy_file:read");
        call.content_type = "application/hujson";
        self.call(call, |tailnet| {
            Ok(RawAcl {
                hujson: tailnet.policy.hujson.clone(),
                etag: tailnet.policy.etag(),
            })
        })
    }

    /// `POST …/acl` with the HuJSON text as the body; a non-empty `etag` is sent as
    /// `If-Match: "<etag>"` (quotes trimmed, then Go-quoted). An empty text resets the policy.
    ///
    /// The API answers 412 when the `If-Match` does not match, and 400 for a text that is not
    /// HuJSON (its message here is the parser's; the real one is not known). Unknown fields and
    /// the policy's own `tests` are not checked.
    pub fn set_acl(&self, text: &str, etag: &str) -> Result<(), ApiError> {
        let mut call = Call::new("POST", "acl".to_owned(), "policy_file");
        call.content_type = "application/hujson";
        call.body = Some(text.to_owned());
        if !etag.is_empty() {
            call.if_match = Some(quote(etag.trim_matches('"')));
        }
        let if_match = call.if_match.clone();
        self.call(call, |tailnet| {
            if let Some(header) = &if_match
                && !tailnet.policy.if_match(header)
            {
                return Err(ApiError::status(412, PRECONDITION_FAILED));
            }
            if !text.is_empty() {
                hujson::parse(text).map_err(|e| ApiError::status(400, e.to_string()))?;
            }
            tailnet.policy.set(text);
            Ok(())
        })
    }
}
