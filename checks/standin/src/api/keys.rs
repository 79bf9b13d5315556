//! Auth keys: `…/keys[/{id}]` (tailscale-client-go-v2 v2.9.0 keys.go), scope `auth_keys`.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{ApiError, Call, Client};
use crate::gotext::path_escape;
use crate::sim::{self, CommitPoint, DEFAULT_EXPIRY_SECONDS, Key, Tailnet};

/// The body of a create request (keys.go CreateKeyRequest).
#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub reusable: bool,
    pub ephemeral: bool,
    pub preauthorized: bool,
    pub tags: Vec<String>,
    /// 0 lets the API choose 90 days.
    pub expiry_seconds: i64,
    pub description: String,
}

/// The wire form, fields in the Go structs' order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    capabilities: Capabilities<'a>,
    expiry_seconds: i64,
    description: &'a str,
}

#[derive(Serialize)]
struct Capabilities<'a> {
    devices: DeviceCapabilities<'a>,
}

#[derive(Serialize)]
struct DeviceCapabilities<'a> {
    create: Create<'a>,
}

#[derive(Serialize)]
struct Create<'a> {
    reusable: bool,
    ephemeral: bool,
    tags: &'a [String],
    preauthorized: bool,
}

impl CreateRequest {
    /// The JSON the client sends.
    fn body(&self) -> String {
        let body = Body {
            capabilities: Capabilities {
                devices: DeviceCapabilities {
                    create: Create {
                        reusable: self.reusable,
                        ephemeral: self.ephemeral,
                        tags: &self.tags,
                        preauthorized: self.preauthorized,
                    },
                },
            },
            expiry_seconds: self.expiry_seconds,
            description: &self.description,
        };
        serde_json::to_string(&body).unwrap_or_default()
    }
}

/// What a GET answers (and a create, plus the secret).
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub key: Key,
    pub invalid: bool,
}

fn key_call(method: &'static str, id: Option<&str>) -> Call {
    let path = match id {
        Some(id) => format!("keys/{}", path_escape(id)),
        None => "keys".to_owned(),
    };
    let scope = if method == "GET" {
        "auth_keys:read"
    } else {
        "auth_keys"
    };
    Call::new(method, path, scope)
}

impl Client {
    /// POST …/keys. Blocks for the configured create delay.
    pub fn create_key(&self, request: &CreateRequest) -> Result<KeyInfo, ApiError> {
        let mut call = key_call("POST", None);
        call.body = Some(request.body());
        let url = self.url(&call);
        let (delay, commit) = self.call(call, |tailnet| {
            let faults = &mut tailnet.faults;
            if faults.fail_next_creates > 0 {
                faults.fail_next_creates -= 1;
                let error = ApiError::status(faults.fail_status, faults.fail_message.clone());
                tailnet.record("create_failed", None, Some(error.to_string()));
                return Err(error);
            }
            self.check_tags(tailnet, &request.tags)?;
            if request.expiry_seconds < 0 {
                // The real text for a negative expiry is not known.
                return Err(ApiError::status(
                    400,
                    format!("expirySeconds {} is negative", request.expiry_seconds),
                ));
            }
            tailnet.record("create_started", None, None);
            Ok((
                tailnet.faults.create_delay_seconds,
                tailnet.faults.create_commit,
            ))
        })?;
        let sleep = || self.hold(Duration::from_secs(delay));
        if delay > 0 && commit == CommitPoint::AfterSleep {
            sleep();
        }
        // The same request, still being answered: no second authorisation or log entry.
        let info = self.locked("POST", &url, |tailnet| {
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

    /// A slow create's sleep: `delay`, or until the knob is turned off (`slow-create 0`), which
    /// releases the creates sleeping now. A test holds a create in flight for as long as it
    /// needs (until terraform was interrupted, say) and then lets it go, instead of guessing
    /// how long to hold it.
    fn hold(&self, delay: Duration) {
        let until = Instant::now() + delay;
        while Instant::now() < until {
            let released = self
                .file
                .as_ref()
                .ok()
                .and_then(|file| file.read().ok())
                .is_some_and(|tailnet| tailnet.faults.create_delay_seconds == 0);
            if released {
                return;
            }
            let left = until.saturating_duration_since(Instant::now());
            std::thread::sleep(Duration::from_millis(50).min(left));
        }
    }

    fn check_tags(&self, tailnet: &Tailnet, requested: &[String]) -> Result<(), ApiError> {
        let Some(client) = self.oauth_client(tailnet) else {
            return Ok(());
        };
        if requested.is_empty() {
            // OAuth-created keys are tailnet-owned and need tags (tailscale/tailscale#7224).
            return Err(ApiError::status(
                400,
                "tailnet-owned auth key must have tags set",
            ));
        }
        // An OAuth client's key must ask for the client's full tag set
        // (terraform-provider-tailscale#437); the message lists the requested tags like Go's %v.
        if sorted(requested.to_vec()) != sorted(client.tags.clone()) {
            return Err(ApiError::status(
                400,
                format!(
                    "requested tags [{}] are invalid or not permitted",
                    requested.join(" ")
                ),
            ));
        }
        Ok(())
    }

    /// GET …/keys/{id}: the key without its secret, plus `invalid` (Tailscale API
    /// documentation, "Get key": expired and revoked keys are invalid, deleted ones 404).
    pub fn get_key(&self, id: &str) -> Result<KeyInfo, ApiError> {
        self.call(key_call("GET", Some(id)), |tailnet| match tailnet.key(id) {
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
        self.call(key_call("DELETE", Some(id)), |tailnet| {
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
    ApiError::status(404, "not found")
}

fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags.dedup();
    tags
}

/// The created key: `tskey-auth-<id>-<secret>`, 0 seconds meaning 90 days.
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
