//! The three Tailscale API calls the provider makes (facts §3), answered from the simulated
//! tailnet file instead of the network, with the real API's error texts.

use std::fmt;
use std::time::Duration;

use crate::sim::{self, CommitPoint, DEFAULT_EXPIRY_SECONDS, Key, SimFile, Tailnet};

/// How the provider authenticates (facts §1 Auth mode).
#[derive(Clone, Debug)]
pub enum Auth {
    OAuth {
        client_id: String,
        secret: String,
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
    /// A status ≥ 400 with a JSON message: `<message> (<status>)` (facts §3 Errors).
    Status { status: u16, message: String },
    /// The request never got an answer (token fetch failed, file unreadable): the text is already
    /// wrapped like Go's net/http, `Post "<url>": …`.
    Transport(String),
}

impl ApiError {
    /// A 404 with a JSON body (facts §3: only then is it "not found").
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status: 404, .. })
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

/// The body of a create request (facts §3 Create).
#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub reusable: bool,
    pub ephemeral: bool,
    pub preauthorized: bool,
    pub tags: Vec<String>,
    /// 0 lets the API choose 90 days (facts §2 Create).
    pub expiry_seconds: i64,
    pub description: String,
}

/// What a GET answers (and a create, plus the secret).
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub key: Key,
    pub invalid: bool,
}

#[derive(Clone, Debug)]
pub struct Client {
    /// The simulated tailnet, or why the base URL names none (reported by the first call).
    pub file: Result<SimFile, String>,
    pub base_url: String,
    pub tailnet: String,
    pub auth: Auth,
}

impl Client {
    /// facts §3 Base: `{base_url}/api/v2/tailnet/{tailnet}/keys[/{id}]`, used in error texts.
    fn url(&self, id: Option<&str>) -> String {
        let base = self.base_url.trim_end_matches('/');
        match id {
            Some(id) => format!("{base}/api/v2/tailnet/{}/keys/{id}", self.tailnet),
            None => format!("{base}/api/v2/tailnet/{}/keys", self.tailnet),
        }
    }

    /// Checks credentials and tailnet against the file, as the API would on every request.
    fn authorize(&self, tailnet: &mut Tailnet, method: &str, url: &str) -> Result<(), ApiError> {
        let failure = match &self.auth {
            Auth::OAuth { client_id, secret } => {
                if tailnet
                    .oauth_clients
                    .iter()
                    .any(|c| &c.id == client_id && &c.secret == secret)
                {
                    None
                } else {
                    // facts §3 OAuth token: the token fetch fails inside the request's transport.
                    Some(ApiError::Transport(format!(
                        "{method} \"{url}\": oauth2: cannot fetch token: 401 Unauthorized\nResponse: {{\"message\":\"API token invalid\"}}"
                    )))
                }
            }
            Auth::WorkloadIdentity { client_id } => Some(ApiError::Transport(format!(
                "{method} \"{url}\": workload identity federation for client {client_id:?} is not simulated by the stand-in provider"
            ))),
            // The simulated tailnet accepts no API keys: a Basic-auth request answers 401.
            Auth::ApiKey => Some(ApiError::Status {
                status: 401,
                message: "API token invalid".into(),
            }),
        };
        if let Some(error) = failure {
            tailnet.record("auth_failed", None, Some(error.to_string()));
            return Err(error);
        }
        if self.tailnet != "-" && self.tailnet != tailnet.tailnet {
            // Not from the facts: the real text for a foreign tailnet is unknown.
            return Err(ApiError::Status {
                status: 403,
                message: format!(
                    "tailnet {:?} is not the simulated tailnet {:?}",
                    self.tailnet, tailnet.tailnet
                ),
            });
        }
        Ok(())
    }

    fn client_tags(&self, tailnet: &Tailnet) -> Option<Vec<String>> {
        let Auth::OAuth { client_id, .. } = &self.auth else {
            return None;
        };
        let client = tailnet.oauth_clients.iter().find(|c| &c.id == client_id)?;
        Some(sorted(client.tags.clone()))
    }

    /// One locked read-modify-write of the file. API errors are saved too (auth failures are
    /// recorded as events); file errors become transport errors.
    fn call<T>(
        &self,
        method: &str,
        id: Option<&str>,
        op: impl FnOnce(&mut Tailnet, &str) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let url = self.url(id);
        let file = match &self.file {
            Ok(file) => file,
            Err(reason) => {
                return Err(ApiError::Transport(format!("{method} \"{url}\": {reason}")));
            }
        };
        let outcome = file.update(|tailnet| {
            let result = self
                .authorize(tailnet, method, &url)
                .and_then(|()| op(tailnet, &url));
            Ok(result)
        });
        match outcome {
            Ok(result) => result,
            Err(error) => Err(ApiError::Transport(format!(
                "{method} \"{url}\": {error:#}"
            ))),
        }
    }

    /// POST …/keys. Blocks for the configured create delay.
    pub fn create_key(&self, request: &CreateRequest) -> Result<KeyInfo, ApiError> {
        let (delay, commit) = self.call("Post", None, |tailnet, _| {
            let faults = &mut tailnet.faults;
            if faults.fail_next_creates > 0 {
                faults.fail_next_creates -= 1;
                let error = ApiError::Status {
                    status: faults.fail_status,
                    message: faults.fail_message.clone(),
                };
                tailnet.record("create_failed", None, Some(error.to_string()));
                return Err(error);
            }
            self.check_tags(tailnet, &request.tags)?;
            if request.expiry_seconds < 0 {
                // Not from the facts: the real text for a negative expiry is unknown.
                return Err(ApiError::Status {
                    status: 400,
                    message: format!("expirySeconds {} is negative", request.expiry_seconds),
                });
            }
            tailnet.record("create_started", None, None);
            Ok((
                tailnet.faults.create_delay_seconds,
                tailnet.faults.create_commit,
            ))
        })?;
        let sleep = || std::thread::sleep(Duration::from_secs(delay));
        if delay > 0 && commit == CommitPoint::AfterSleep {
            sleep();
        }
        let info = self.call("Post", None, |tailnet, _| {
            let key = new_key(request).map_err(|e| ApiError::Transport(format!("{e:#}")))?;
            tailnet.record("create", Some(&key.id), None);
            tailnet.keys.push(key.clone());
            Ok(KeyInfo {
                key,
                invalid: false,
            })
        })?;
        if delay > 0 && commit == CommitPoint::BeforeSleep {
            sleep();
        }
        Ok(info)
    }

    fn check_tags(&self, tailnet: &Tailnet, requested: &[String]) -> Result<(), ApiError> {
        let Some(client_tags) = self.client_tags(tailnet) else {
            return Ok(());
        };
        if requested.is_empty() {
            // facts §3: OAuth-created keys are tailnet-owned and need tags (tailscale#7224).
            return Err(ApiError::Status {
                status: 400,
                message: "tailnet-owned auth key must have tags set".into(),
            });
        }
        // facts §3: an OAuth client's key must ask for the client's full tag set (#437,
        // auto-author#490); the message lists the requested tags like Go's %v.
        if sorted(requested.to_vec()) != client_tags {
            return Err(ApiError::Status {
                status: 400,
                message: format!(
                    "requested tags [{}] are invalid or not permitted",
                    requested.join(" ")
                ),
            });
        }
        Ok(())
    }

    /// GET …/keys/{id}: the key without its secret, plus `invalid` (facts §3 Get).
    pub fn get_key(&self, id: &str) -> Result<KeyInfo, ApiError> {
        self.call("Get", Some(id), |tailnet, _| match tailnet.key(id) {
            Some(key) => Ok(KeyInfo {
                invalid: key.invalid(sim::now()),
                key: Key {
                    key: String::new(),
                    ..key.clone()
                },
            }),
            None => Err(not_found()),
        })
    }

    /// DELETE …/keys/{id}. A key that is gone answers 404, which the provider ignores.
    pub fn delete_key(&self, id: &str) -> Result<(), ApiError> {
        self.call("Delete", Some(id), |tailnet, _| {
            if tailnet.remove_key(id) {
                tailnet.record("delete", Some(id), None);
                Ok(())
            } else {
                tailnet.record("delete_missing", Some(id), None);
                Err(not_found())
            }
        })
    }
}

fn not_found() -> ApiError {
    ApiError::Status {
        status: 404,
        message: "not found".into(),
    }
}

fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags.dedup();
    tags
}

/// The created key: `tskey-auth-<id>-<secret>`, 0 seconds meaning 90 days (facts §3 Create).
fn new_key(request: &CreateRequest) -> anyhow::Result<Key> {
    let id = sim::new_id()?;
    let now = sim::now();
    let expiry = match request.expiry_seconds {
        0 => DEFAULT_EXPIRY_SECONDS,
        n => n,
    };
    Ok(Key {
        key: format!("tskey-auth-{id}-{}", sim::random_alnum(32)?),
        id,
        description: request.description.clone(),
        tags: sorted(request.tags.clone()),
        reusable: request.reusable,
        ephemeral: request.ephemeral,
        preauthorized: request.preauthorized,
        created: sim::format_time(now),
        expires: sim::format_time(sim::in_seconds(now, expiry)),
        expiry_seconds: expiry,
        revoked: false,
        user_id: String::new(),
    })
}
