//! The rendered Terraform JSON configuration: read from `--config` (or, for destroy, the
//! installed copy), validated, and installed as `DIR/main.tf.json`.
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

/// The tailnet named in the installed config (`provider.tailscale.tailnet`), if readable.
pub fn installed_tailnet(dir: &StateDir) -> Option<String> {
    let bytes = regular::CONFIG.read(&dir.config()).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let provider = &value["provider"]["tailscale"];
    // Terraform JSON allows a provider block as an object or a list of objects.
    let provider = if provider.is_array() {
        &provider[0]
    } else {
        provider
    };
    provider["tailnet"].as_str().map(str::to_string)
}
