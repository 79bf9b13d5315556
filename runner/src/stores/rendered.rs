//! The rendered Terraform JSON configuration: read from `--config` (or, for destroy, the
//! installed copy), validated, and installed as `DIR/main.tf.json`; where it keeps the state
//! ([`Backend`]).
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::config::layout::StateDir;
use crate::util::console::errln;
use crate::util::outcome::{IoContext, usage};
use crate::util::{atomic, regular};

/// A validated Terraform JSON configuration.
pub struct RenderedConfig {
    bytes: Vec<u8>,
    value: Value,
}

const FIX: &str = "pass the main.tf.json rendered by the NixOS module";

impl RenderedConfig {
    /// Reads and validates `path`: a JSON object. Every problem is a configuration error.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = regular::CONFIG
            .read(path)
            .map_err(|e| usage(format!("cannot read config {}: {e}; {FIX}", path.display())))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            usage(format!(
                "config {} is not valid JSON ({e}); {FIX}",
                path.display()
            ))
        })?;
        if !value.is_object() {
            return Err(usage(format!(
                "config {} must be a JSON object (a Terraform JSON configuration); {FIX}",
                path.display()
            )));
        }
        Ok(RenderedConfig { bytes, value })
    }

    /// The configuration as JSON.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Where this configuration keeps terraform's state.
    pub fn backend(&self) -> Backend {
        Backend::of(&self.value)
    }

    /// Installs the config as DIR/main.tf.json, rewriting it only when the bytes differ.
    pub fn install(&self, dir: &StateDir) -> Result<()> {
        let target = dir.config();
        if regular::CONFIG.read(&target).ok().as_deref() == Some(self.bytes.as_slice()) {
            return Ok(());
        }
        atomic::write(&target, &self.bytes).cannot("install the config as", &target)?;
        errln!("installed {}", target.display());
        Ok(())
    }
}

/// Where terraform keeps the state: the configuration's `terraform.backend` (or
/// `terraform.cloud`) block.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// No backend block (or the `local` backend): `terraform.tfstate` in the state directory.
    Local,
    /// A remote backend: its type (`pg`) and a configuration that declares only it, in which
    /// terraform can reach the state without the providers (see `commands/remote.rs`).
    Remote { kind: String, alone: Value },
}

impl Backend {
    /// The backend `config` declares. Terraform JSON allows a block as an object or a list of
    /// objects; the first backend found counts (terraform refuses more than one).
    pub fn of(config: &Value) -> Backend {
        let blocks = |value: &Value| -> Vec<Value> {
            match value {
                Value::Array(list) => list.clone(),
                Value::Object(_) => vec![value.clone()],
                _ => Vec::new(),
            }
        };
        for terraform in blocks(&config["terraform"]) {
            for backend in blocks(&terraform["backend"]) {
                if let Some((kind, settings)) = backend.as_object().and_then(|o| o.iter().next())
                    && kind != "local"
                {
                    let alone = serde_json::json!({"terraform": {"backend": {kind: settings}}});
                    return Backend::Remote {
                        kind: kind.clone(),
                        alone,
                    };
                }
            }
            if terraform["cloud"].is_object() {
                let alone = serde_json::json!({"terraform": {"cloud": terraform["cloud"]}});
                return Backend::Remote {
                    kind: "cloud".into(),
                    alone,
                };
            }
        }
        Backend::Local
    }

    /// The remote backend's type, None for local state.
    pub fn remote_kind(&self) -> Option<&str> {
        match self {
            Backend::Local => None,
            Backend::Remote { kind, .. } => Some(kind),
        }
    }
}

/// The installed config (`DIR/main.tf.json`), if there is one: what `backup-state` and
/// `restore-state`, which take no `--config`, learn the backend from.
pub fn installed(dir: &StateDir) -> Result<Option<RenderedConfig>> {
    if !dir.config().exists() {
        return Ok(None);
    }
    RenderedConfig::read(&dir.config()).map(Some)
}

/// The tailnet a config (the installed main.tf.json's bytes) names
/// (`provider.tailscale.tailnet`), if it parses.
pub fn tailnet(config: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(config).ok()?;
    let provider = &value["provider"]["tailscale"];
    // Terraform JSON allows a provider block as an object or a list of objects.
    let provider = if provider.is_array() {
        &provider[0]
    } else {
        provider
    };
    provider["tailnet"].as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_backend_block_decides_where_the_state_is() {
        let pg = json!({"terraform": {"backend": {"pg": {"schema_name": "tm"}},
                                      "required_providers": {"tailscale": {}}}});
        assert_eq!(
            Backend::of(&pg),
            Backend::Remote {
                kind: "pg".into(),
                alone: json!({"terraform": {"backend": {"pg": {"schema_name": "tm"}}}}),
            },
            "the probe config declares the backend and nothing else"
        );
        let listed = json!({"terraform": [{"required_providers": {}}, {"backend": [{"pg": {}}]}]});
        assert_eq!(
            Backend::of(&listed).remote_kind(),
            Some("pg"),
            "blocks as lists"
        );
        let cloud = json!({"terraform": {"cloud": {"organization": "o"}}});
        assert_eq!(Backend::of(&cloud).remote_kind(), Some("cloud"));
        for local in [
            json!({"terraform": {"required_providers": {}}}),
            json!({"terraform": {"backend": {"local": {}}}}),
            json!({"resource": {}}),
            json!({"terraform": "odd"}),
        ] {
            assert_eq!(Backend::of(&local), Backend::Local, "{local}");
        }
    }
}
