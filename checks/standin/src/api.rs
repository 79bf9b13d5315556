//! The Tailscale API calls the provider makes, answered from the simulated tailnet file instead
//! of the network, the way `tailscale-client-go-v2` v2.9.0 (the client terraform-provider-tailscale
//! v0.29.2 uses) sends them and renders their errors: one module per API area.
//!
//! Every call takes the file's lock once, fetches the OAuth token if this provider process has
//! none yet, checks the token's scopes against the endpoint's, runs, and records the request
//! (method, path, query, headers, body, status) in the file's event log.

mod acl;
mod devices;
mod dns;
mod keys;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

pub use acl::RawAcl;
pub use devices::{Device, DeviceFilters};
pub use dns::{DnsConfiguration, Preferences, Resolver};
pub use keys::{CreateRequest, KeyInfo};

use crate::gotext::{path_escape, quote};
use crate::sim::{Request, SimFile, Tailnet, scopes};

/// How the provider authenticates (terraform-provider-tailscale v0.29.2 provider_framework.go
/// createTailscaleClient).
#[derive(Clone, Debug)]
pub enum Auth {
    OAuth {
        client_id: String,
        secret: String,
        /// The provider's `scopes`: `None` asks for no particular scope, so the token carries
        /// all of the client's.
        scopes: Option<Vec<String>>,
    },
    /// Workload identity (id + token or audience): not simulated, every call fails.
    WorkloadIdentity {
        client_id: String,
    },
    ApiKey,
}

/// An API failure, rendered the way the real client renders it.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// A status ≥ 400 with a JSON message: `<message> (<status>)` (client.go APIError.Error).
    Status { status: u16, message: String },
    /// The request never got an answer (token fetch failed, file unreadable): the text is already
    /// wrapped like Go's net/http, `Post "<url>": …`.
    Transport(String),
}

impl ApiError {
    /// A 404 with a JSON body (client.go IsNotFound: only then is it "not found").
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
    }

    fn status(status: u16, message: impl Into<String>) -> Self {
        ApiError::Status {
            status,
            message: message.into(),
        }
    }

    /// What the request log records as the answer.
    fn status_code(&self) -> u16 {
        match self {
            ApiError::Status { status, .. } => *status,
            // The simulated server failed (e.g. no random numbers): an internal error.
            ApiError::Transport(_) => 500,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { status, message } => write!(f, "{message} ({status})"),
            ApiError::Transport(text) => f.write_str(text),
        }
    }
}

/// The text of a token lacking the endpoint's scope (tailscale/github-action#301).
pub const NOT_ENOUGH_PERMISSIONS: &str =
    "calling actor does not have enough permissions to perform this function";

#[derive(Clone, Debug)]
pub struct Client {
    /// The simulated tailnet, or why the base URL names none (reported by the first call).
    pub file: Result<SimFile, String>,
    pub base_url: String,
    pub tailnet: String,
    pub auth: Auth,
    /// The scopes of this provider process's access token, once fetched: x/oauth2's
    /// ReuseTokenSource fetches one with the first call and reuses it (a failed fetch is not
    /// kept, so the next call tries again). Tokens last an hour; the stand-in's never expire.
    token: Arc<Mutex<Option<Vec<String>>>>,
}

/// One request: what the client puts on the wire and the scope the endpoint needs.
struct Call {
    method: &'static str,
    /// Below `/api/v2/tailnet/{tailnet}/`, path elements already escaped.
    path: String,
    query: String,
    /// `Content-Type` when there is a body, else `Accept` (client.go buildRequest).
    content_type: &'static str,
    body: Option<String>,
    if_match: Option<String>,
    scope: &'static str,
}

impl Call {
    fn new(method: &'static str, path: String, scope: &'static str) -> Self {
        Self {
            method,
            path,
            query: String::new(),
            content_type: "application/json",
            body: None,
            if_match: None,
            scope,
        }
    }
}

/// Go's net/http names the method in a url.Error as `Get`, `Post`, `Delete`.
fn go_op(method: &str) -> String {
    let mut op = method.to_ascii_lowercase();
    op[..1].make_ascii_uppercase();
    op
}

impl Client {
    pub fn new(
        file: Result<SimFile, String>,
        base_url: String,
        tailnet: String,
        auth: Auth,
    ) -> Self {
        Self {
            file,
            base_url,
            tailnet,
            auth,
            token: Arc::default(),
        }
    }

    fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// The request's path: `/api/v2/tailnet/{tailnet}/{path}` (client.go buildTailnetURL).
    fn path(&self, call: &Call) -> String {
        format!(
            "/api/v2/tailnet/{}/{}",
            path_escape(&self.tailnet),
            call.path
        )
    }

    /// The full URL, as error texts show it.
    fn url(&self, call: &Call) -> String {
        let query = if call.query.is_empty() {
            String::new()
        } else {
            format!("?{}", call.query)
        };
        format!("{}{}{query}", self.base(), self.path(call))
    }

    /// One locked read-modify-write of the file; a file error becomes a transport error.
    fn locked<T>(
        &self,
        method: &str,
        url: &str,
        op: impl FnOnce(&mut Tailnet) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let transport =
            |reason: String| ApiError::Transport(format!("{} {url:?}: {reason}", go_op(method)));
        let file = self
            .file
            .as_ref()
            .map_err(|reason| transport(reason.clone()))?;
        file.update(|tailnet| Ok(op(tailnet)))
            .unwrap_or_else(|error| Err(transport(format!("{error:#}"))))
    }

    /// Sends one request: token, tailnet, scope, then `op`; the request and its status go into
    /// the log (a failed token fetch means the request was never sent).
    fn call<T>(
        &self,
        call: Call,
        op: impl FnOnce(&mut Tailnet) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let url = self.url(&call);
        self.locked(call.method, &url, |tailnet| {
            let granted = self.token(tailnet, call.method, &url)?;
            let result = self
                .check_tailnet(tailnet)
                .and_then(|()| match scopes::allows(&granted, call.scope) {
                    true => Ok(()),
                    false => Err(ApiError::status(403, NOT_ENOUGH_PERMISSIONS)),
                })
                .and_then(|()| op(tailnet));
            let mut headers = BTreeMap::new();
            let header = if call.body.is_some() {
                "Content-Type"
            } else {
                "Accept"
            };
            headers.insert(header.to_owned(), call.content_type.to_owned());
            if let Some(etag) = &call.if_match {
                headers.insert("If-Match".to_owned(), etag.clone());
            }
            tailnet.record_request(Request {
                method: call.method.to_owned(),
                path: self.path(&call),
                query: call.query.clone(),
                headers,
                body: call.body.clone(),
                status: result.as_ref().map_or_else(ApiError::status_code, |_| 200),
            });
            result
        })
    }

    /// The scopes this process's token carries, fetching it first if needed
    /// (golang.org/x/oauth2 clientcredentials, `POST {base_url}/api/v2/oauth/token`).
    fn token(
        &self,
        tailnet: &mut Tailnet,
        method: &str,
        url: &str,
    ) -> Result<Vec<String>, ApiError> {
        let mut token = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(granted) = token.as_ref() {
            return Ok(granted.clone());
        }
        let failure = match &self.auth {
            Auth::OAuth {
                client_id,
                secret,
                scopes: requested,
            } => match grant(tailnet, client_id, secret, requested.as_deref()) {
                Ok(granted) => {
                    record_token_request(tailnet, requested.as_deref(), 200);
                    *token = Some(granted.clone());
                    return Ok(granted);
                }
                Err((status, reason, message)) => {
                    // x/oauth2 tries HTTP Basic first and, when that fails, once more with the
                    // credentials in the form: the API sees two requests.
                    for _ in 0..2 {
                        record_token_request(tailnet, requested.as_deref(), status);
                    }
                    let body = serde_json::json!({ "message": message });
                    ApiError::Transport(format!(
                        "{} {url:?}: oauth2: cannot fetch token: {status} {reason}\nResponse: {body}",
                        go_op(method)
                    ))
                }
            },
            Auth::WorkloadIdentity { client_id } => ApiError::Transport(format!(
                "{} {url:?}: workload identity federation for client {} is not simulated by the stand-in provider",
                go_op(method),
                quote(client_id)
            )),
            // The simulated tailnet accepts no API keys: a Basic-auth request answers 401.
            Auth::ApiKey => ApiError::status(401, "API token invalid"),
        };
        tailnet.record("auth_failed", None, Some(failure.to_string()));
        Err(failure)
    }

    fn check_tailnet(&self, tailnet: &Tailnet) -> Result<(), ApiError> {
        if self.tailnet != "-" && self.tailnet != tailnet.tailnet {
            // The real text for a foreign tailnet is not known.
            return Err(ApiError::status(
                403,
                format!(
                    "tailnet {} is not the simulated tailnet {}",
                    quote(&self.tailnet),
                    quote(&tailnet.tailnet)
                ),
            ));
        }
        Ok(())
    }

    /// The OAuth client this provider authenticates as, if it does with OAuth.
    fn oauth_client<'t>(&self, tailnet: &'t Tailnet) -> Option<&'t crate::sim::OAuthClient> {
        let Auth::OAuth { client_id, .. } = &self.auth else {
            return None;
        };
        tailnet.oauth_clients.iter().find(|c| &c.id == client_id)
    }
}

/// The token endpoint's decision: the token's scopes, or (status, status text, message).
fn grant(
    tailnet: &Tailnet,
    client_id: &str,
    secret: &str,
    requested: Option<&[String]>,
) -> Result<Vec<String>, (u16, &'static str, String)> {
    let Some(client) = tailnet
        .oauth_clients
        .iter()
        .find(|c| c.id == client_id && c.secret == secret)
    else {
        // gitops-acl-action#33 shows this answer for wrong credentials.
        return Err((401, "Unauthorized", "API token invalid".to_owned()));
    };
    let Some(requested) = requested else {
        return Ok(client.scopes.clone());
    };
    let missing = scopes::ungranted(&client.scopes, requested);
    if missing.is_empty() {
        return Ok(requested.to_vec());
    }
    // adinhodovic/tailscale-exporter#34 shows the message; whether it lists every requested
    // scope or only the missing ones is not known: it lists the missing ones here.
    Err((
        403,
        "Forbidden",
        format!(
            "OAuth client cannot grant scopes {}",
            quote(&missing.join(" "))
        ),
    ))
}

/// A token request as x/oauth2 sends it, minus the client id and secret.
fn record_token_request(tailnet: &mut Tailnet, requested: Option<&[String]>, status: u16) {
    let mut body = "grant_type=client_credentials".to_owned();
    if let Some(requested) = requested {
        body.push_str("&scope=");
        body.push_str(&crate::gotext::query_escape(&requested.join(" ")));
    }
    tailnet.record_request(Request {
        method: "POST".to_owned(),
        path: "/api/v2/oauth/token".to_owned(),
        query: String::new(),
        headers: BTreeMap::from([(
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        )]),
        body: Some(body),
        status,
    });
}

#[cfg(test)]
mod tests;
