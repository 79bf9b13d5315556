//! The provider block: schema, env fallbacks, `file:` values and the credential checks of the
//! real provider (terraform-provider-tailscale v0.29.2 provider_framework.go and provider_sdk.go
//! validateProviderCreds). Configure makes no API call; credentials are first checked by the
//! first request, when the client fetches its OAuth token.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{Diagnostics, DynamicDataSource, DynamicResource, Provider};

use super::acl::Acl;
use super::devices::Devices;
use super::dns_configuration::DnsConfiguration;
use super::tailnet_key::TailnetKey;
use crate::api::{Auth, Client};
use crate::framework::{error, schema};
use crate::gotext::os_error;
use crate::sim::SimFile;

/// The configured client, shared with the resources (configure runs after get_resources).
pub type SharedClient = Arc<RwLock<Option<Client>>>;

/// The client terraform configured, or an error diagnostic if it has not yet.
pub fn configured(shared: &SharedClient, diags: &mut Diagnostics) -> Option<Client> {
    let client = shared.read().unwrap_or_else(|e| e.into_inner()).clone();
    if client.is_none() {
        error(
            diags,
            "Provider not configured",
            "The stand-in provider was used before terraform configured it.",
        );
    }
    client
}

/// A fresh UUID for a resource without an API id (the real provider's createUUID), or an error
/// diagnostic.
pub fn new_uuid(diags: &mut Diagnostics) -> Option<String> {
    crate::sim::new_uuid()
        .map_err(|e| error(diags, "Cannot generate an id", format!("{e:#}")))
        .ok()
}

#[derive(Default)]
pub struct TailscaleProvider {
    client: SharedClient,
}

/// The provider block as terraform sends it; every attribute is optional. No Debug: it holds
/// secrets.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ProviderConfig {
    pub api_key: Value<String>,
    pub audience: Value<String>,
    pub identity_token: Value<String>,
    pub identity_token_environment_variable_name: Value<String>,
    pub oauth_client_id: Value<String>,
    pub oauth_client_secret: Value<String>,
    pub scopes: Value<Vec<Value<String>>>,
    pub tailnet: Value<String>,
    pub base_url: Value<String>,
    pub user_agent: Value<String>,
}

#[async_trait]
impl Provider for TailscaleProvider {
    type Config<'a> = ProviderConfig;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::Optional;
        use AttributeType::{List, String as Str};
        Some(schema(
            [
                ("api_key", Str, Optional, true),
                ("audience", Str, Optional, false),
                ("identity_token", Str, Optional, true),
                (
                    "identity_token_environment_variable_name",
                    Str,
                    Optional,
                    false,
                ),
                ("oauth_client_id", Str, Optional, false),
                ("oauth_client_secret", Str, Optional, true),
                ("scopes", List(Box::new(Str)), Optional, false),
                ("tailnet", Str, Optional, false),
                ("base_url", Str, Optional, false),
                ("user_agent", Str, Optional, false),
            ],
            vec![],
        ))
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: ProviderConfig,
    ) -> Option<()> {
        let client = resolve(&config, &|name| std::env::var(name).ok(), diags)?;
        *self.client.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
        Some(())
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let client = &self.client;
        let resources: [(&str, Box<dyn DynamicResource>); 3] = [
            ("tailnet_key", Box::new(TailnetKey::new(client.clone()))),
            ("acl", Box::new(Acl::new(client.clone()))),
            (
                "dns_configuration",
                Box::new(DnsConfiguration::new(client.clone())),
            ),
        ];
        Some(
            resources
                .into_iter()
                .map(|(name, resource)| (name.to_owned(), resource))
                .collect(),
        )
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        let devices: Box<dyn DynamicDataSource> = Box::new(Devices::new(self.client.clone()));
        Some(HashMap::from([("devices".to_owned(), devices)]))
    }
}

/// A config value that is neither null nor unknown wins, even `""`; otherwise the first
/// non-empty env var (provider_framework.go coalesce).
fn coalesce(
    config: &Value<String>,
    env: &dyn Fn(&str) -> Option<String>,
    names: &[&str],
) -> String {
    if let Value::Value(value) = config {
        return value.clone();
    }
    names
        .iter()
        .filter_map(|name| env(name))
        .find(|value| !value.is_empty())
        .unwrap_or_default()
}

/// `file:<path>`: read the file and trim it (provider_framework.go resolveValueFromFile).
fn from_file(value: String, attr: &str, diags: &mut Diagnostics) -> Option<String> {
    let Some(path) = value.strip_prefix("file:") else {
        return Some(value);
    };
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text.trim().to_owned()),
        Err(err) => {
            let reason = os_error("open", std::path::Path::new(path), &err);
            error(
                diags,
                format!("Could not resolve file for {attr}"),
                format!(
                    "While configuring the provider, the file \"{path}\" could not be read for \"{attr}\": {reason}"
                ),
            );
            None
        }
    }
}

/// Turns the provider block and the environment into an API client, or diagnostics.
pub fn resolve(
    config: &ProviderConfig,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<Client> {
    let api_key = coalesce(&config.api_key, env, &["TAILSCALE_API_KEY"]);
    let audience = coalesce(&config.audience, env, &["TAILSCALE_AUDIENCE"]);
    let token_var = coalesce(&config.identity_token_environment_variable_name, env, &[]);
    let mut token_vars = vec!["TAILSCALE_IDENTITY_TOKEN", "IDENTITY_TOKEN"];
    if !token_var.is_empty() {
        token_vars.push(&token_var);
    }
    let identity_token = coalesce(&config.identity_token, env, &token_vars);
    let client_id = coalesce(
        &config.oauth_client_id,
        env,
        &["TAILSCALE_OAUTH_CLIENT_ID", "OAUTH_CLIENT_ID"],
    );
    let secret = coalesce(
        &config.oauth_client_secret,
        env,
        &["TAILSCALE_OAUTH_CLIENT_SECRET", "OAUTH_CLIENT_SECRET"],
    );
    let api_key = from_file(api_key, "api_key", diags);
    let audience = from_file(audience, "audience", diags);
    let identity_token = from_file(identity_token, "identity_token", diags);
    let client_id = from_file(client_id, "oauth_client_id", diags);
    let secret = from_file(secret, "oauth_client_secret", diags);
    let (api_key, audience, identity_token, client_id, secret) =
        (api_key?, audience?, identity_token?, client_id?, secret?);

    let mut auth = check_credentials(&api_key, &client_id, &secret, &identity_token, &audience)
        .map_err(|detail| error(diags, "Provider credentials error", detail))
        .ok()?;
    // The scopes to ask the token endpoint for (only used with an OAuth client).
    if let (Auth::OAuth { scopes, .. }, Value::Value(list)) = (&mut auth, &config.scopes) {
        *scopes = Some(
            list.iter()
                .filter_map(|s| s.as_ref_option().cloned())
                .collect(),
        );
    }

    let tailnet = match &config.tailnet {
        Value::Value(tailnet) => tailnet.clone(),
        _ => env("TAILSCALE_TAILNET")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "-".to_owned()),
    };
    if tailnet.is_empty() {
        // `tailnet = ""` in the provider block; the detail paraphrases the real one.
        error(
            diags,
            "Missing Tailnet ID",
            "The tailnet ID was not found in TAILSCALE_TAILNET or the provider block.",
        );
        return None;
    }
    let base_url = coalesce(&config.base_url, env, &["TAILSCALE_BASE_URL"]);
    let base_url = if base_url.is_empty() {
        "https://api.tailscale.com".to_owned()
    } else {
        base_url
    };
    // A base URL that names no file is only refused by the first API call, as a real network
    // error would be; the stand-in has no HTTP client at all.
    let file = SimFile::from_base_url(&base_url).map_err(|e| format!("{e:#}"));
    Some(Client::new(file, base_url, tailnet, auth))
}

/// provider_sdk.go validateProviderCreds, and the auth mode createTailscaleClient picks.
fn check_credentials(
    api_key: &str,
    client_id: &str,
    secret: &str,
    identity_token: &str,
    audience: &str,
) -> Result<Auth, String> {
    let oauth_set = !client_id.is_empty()
        || !secret.is_empty()
        || !identity_token.is_empty()
        || !audience.is_empty();
    if api_key.is_empty() && client_id.is_empty() {
        return Err("tailscale provider credentials are empty - set `api_key` or 'oauth_client_id' and one of 'oauth_client_secret', 'identity_token', or 'audience'".into());
    }
    if !api_key.is_empty() {
        if oauth_set {
            // The tail of this message is ours; only its start is known.
            return Err("tailscale provider credentials are conflicting - `api_key` conflicts with 'oauth_client_id', 'oauth_client_secret', 'identity_token' and 'audience'".into());
        }
        return Ok(Auth::ApiKey);
    }
    if !audience.is_empty() && (!secret.is_empty() || !identity_token.is_empty()) {
        return Err("tailscale provider argument 'audience' conflicts with 'oauth_client_secret' and 'identity_token'".into());
    }
    if secret.is_empty() && identity_token.is_empty() && audience.is_empty() {
        return Err("one of tailscale provider arguments 'oauth_client_secret', 'identity_token', or 'audience' are mandatory with 'oauth_client_id'".into());
    }
    if secret.is_empty() {
        return Ok(Auth::WorkloadIdentity {
            client_id: client_id.to_owned(),
        });
    }
    Ok(Auth::OAuth {
        client_id: client_id.to_owned(),
        secret: secret.to_owned(),
        scopes: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn resolve_with(config: &ProviderConfig, env: &[(&str, &str)]) -> Result<Client, String> {
        let mut diags = Diagnostics::default();
        resolve(config, &env_of(env), &mut diags).ok_or_else(|| {
            diags
                .errors
                .iter()
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn env_fallbacks_and_defaults() -> Result<(), String> {
        let client = resolve_with(
            &ProviderConfig::default(),
            &[
                ("TAILSCALE_OAUTH_CLIENT_ID", "kC"),
                ("TAILSCALE_OAUTH_CLIENT_SECRET", "tskey-client-kC-s"),
                ("TAILSCALE_BASE_URL", "file:///tmp/sim.json"),
            ],
        )?;
        assert_eq!(client.tailnet, "-", "tailnet defaults to -");
        assert_eq!(
            client.file.as_ref().ok().and_then(|f| f.path().to_str()),
            Some("/tmp/sim.json"),
            "base URL names the file"
        );
        assert!(
            matches!(client.auth, Auth::OAuth { ref client_id, .. } if client_id == "kC"),
            "id + secret is OAuth: {:?}",
            client.auth
        );
        Ok(())
    }

    #[test]
    fn scopes_go_to_the_oauth_client() -> Result<(), String> {
        let config = ProviderConfig {
            scopes: Value::Value(vec![Value::Value("dns".into()), Value::Value("all".into())]),
            ..Default::default()
        };
        let creds = [
            ("TAILSCALE_OAUTH_CLIENT_ID", "kC"),
            ("TAILSCALE_OAUTH_CLIENT_SECRET", "s"),
        ];
        let client = resolve_with(&config, &creds)?;
        assert!(
            matches!(&client.auth, Auth::OAuth { scopes: Some(s), .. } if s == &["dns", "all"]),
            "the provider's scopes are asked for: {:?}",
            client.auth
        );
        let client = resolve_with(&ProviderConfig::default(), &creds)?;
        assert!(
            matches!(&client.auth, Auth::OAuth { scopes: None, .. }),
            "no scopes: the token gets all of the client's: {:?}",
            client.auth
        );
        Ok(())
    }

    #[test]
    fn config_wins_even_when_empty() {
        let config = ProviderConfig {
            tailnet: Value::Value(String::new()),
            ..Default::default()
        };
        let err = resolve_with(
            &config,
            &[
                ("TAILSCALE_TAILNET", "example.com"),
                ("TAILSCALE_OAUTH_CLIENT_ID", "kC"),
                ("TAILSCALE_OAUTH_CLIENT_SECRET", "s"),
            ],
        )
        .err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.starts_with("Missing Tailnet ID")),
            "tailnet = \"\" must not fall back to the env: {err:?}"
        );
    }

    #[test]
    fn credential_errors_use_the_real_texts() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "credentials are empty"),
            (
                &[("TAILSCALE_OAUTH_CLIENT_ID", "kC")],
                "are mandatory with 'oauth_client_id'",
            ),
            (
                &[
                    ("TAILSCALE_API_KEY", "tskey-api-x"),
                    ("TAILSCALE_OAUTH_CLIENT_ID", "kC"),
                ],
                "credentials are conflicting - `api_key` conflicts with",
            ),
            (
                &[
                    ("TAILSCALE_OAUTH_CLIENT_ID", "kC"),
                    ("TAILSCALE_OAUTH_CLIENT_SECRET", "s"),
                    ("TAILSCALE_AUDIENCE", "a"),
                ],
                "argument 'audience' conflicts with",
            ),
        ];
        for (env, expected) in cases {
            let err = resolve_with(&ProviderConfig::default(), env).err();
            assert!(
                err.as_deref().is_some_and(
                    |e| e.starts_with("Provider credentials error") && e.contains(expected)
                ),
                "env {env:?}: expected {expected:?}, got {err:?}"
            );
        }
    }

    #[test]
    fn file_values_are_read_and_trimmed() -> Result<(), String> {
        let dir =
            std::env::temp_dir().join(format!("standin-provider-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let secret_file = dir.join("secret");
        std::fs::write(&secret_file, "  tskey-client-kC-s\n").map_err(|e| e.to_string())?;
        let config = ProviderConfig {
            oauth_client_id: Value::Value("kC".into()),
            oauth_client_secret: Value::Value(format!("file:{}", secret_file.display())),
            ..Default::default()
        };
        let client = resolve_with(&config, &[])?;
        assert!(
            matches!(client.auth, Auth::OAuth { ref secret, .. } if secret == "tskey-client-kC-s"),
            "the secret comes from the file, trimmed: {:?}",
            client.auth
        );
        let missing = ProviderConfig {
            oauth_client_secret: Value::Value("file:/nonexistent/secret".into()),
            ..config
        };
        let err = resolve_with(&missing, &[]).err();
        assert!(
            err.as_deref().is_some_and(|e| e
                .starts_with("Could not resolve file for oauth_client_secret")
                && e.contains("open /nonexistent/secret: no such file or directory")),
            "unreadable file: {err:?}"
        );
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())
    }
}
