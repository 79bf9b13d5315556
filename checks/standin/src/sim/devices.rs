//! The devices (nodes) of the simulated tailnet, with every field the API's device listing has
//! by default and the provider's `tailscale_devices` data source exposes.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{random_alnum, random_digits, random_hex};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The legacy numeric id.
    pub id: String,
    /// The preferred id, `n…CNTRL`.
    pub node_id: String,
    /// The full MagicDNS name, e.g. `web-1.tail0000.ts.net`.
    pub name: String,
    pub hostname: String,
    pub user: String,
    /// `null`: the API omits the field (the provider then stores a null list).
    pub addresses: Option<Vec<String>>,
    /// Empty: the API omits the field (the provider then stores `[]`).
    pub tags: Vec<String>,
    pub authorized: bool,
    pub key_expiry_disabled: bool,
    pub blocks_incoming_connections: bool,
    pub client_version: String,
    /// RFC 3339; `""` as the API sends for devices without one.
    pub created: String,
    /// When the node key expires, RFC 3339. Devices with key expiry disabled carry Go's zero
    /// time, `0001-01-01T00:00:00Z` (what the real API sends for them is not verified).
    pub expires: String,
    pub is_ephemeral: bool,
    pub is_external: bool,
    /// `null` while the device is connected to the control plane (online): the API then sends
    /// no `lastSeen`.
    pub last_seen: Option<String>,
    pub machine_key: String,
    pub node_key: String,
    pub os: String,
    pub tailnet_lock_error: String,
    pub tailnet_lock_key: String,
    pub update_available: bool,
}

/// Go's zero time as `time.Format(time.RFC3339)` prints it.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl Device {
    /// A device named `name` (its FQDN) with fresh ids and keys and the given creation and key
    /// expiry times; every other field is a plain online Linux machine, for the caller to change.
    pub fn new(name: &str, created: String, expires: String) -> Result<Self> {
        Ok(Self {
            id: format!("1{}", random_digits(15)?),
            node_id: format!("n{}CNTRL", random_alnum(12)?),
            name: name.to_owned(),
            hostname: name.split('.').next().unwrap_or(name).to_owned(),
            user: "user@example.com".to_owned(),
            addresses: None,
            tags: Vec::new(),
            authorized: true,
            key_expiry_disabled: false,
            blocks_incoming_connections: false,
            client_version: "1.84.2".to_owned(),
            created,
            expires,
            is_ephemeral: false,
            is_external: false,
            last_seen: None,
            machine_key: format!("mkey:{}", random_hex(64)?),
            node_key: format!("nodekey:{}", random_hex(64)?),
            os: "linux".to_owned(),
            tailnet_lock_error: String::new(),
            tailnet_lock_key: String::new(),
            update_available: false,
        })
    }

    /// The device as `GET …/devices` lists it (the default field set): camelCase, with
    /// `addresses`, `tags` and `lastSeen` left out when there are none.
    pub fn api_json(&self) -> Map<String, Value> {
        let mut map: Map<String, Value> = [
            ("name", json!(self.name)),
            ("id", json!(self.id)),
            ("nodeId", json!(self.node_id)),
            ("authorized", json!(self.authorized)),
            ("user", json!(self.user)),
            ("keyExpiryDisabled", json!(self.key_expiry_disabled)),
            (
                "blocksIncomingConnections",
                json!(self.blocks_incoming_connections),
            ),
            ("clientVersion", json!(self.client_version)),
            ("created", json!(self.created)),
            ("expires", json!(self.expires)),
            ("hostname", json!(self.hostname)),
            ("isEphemeral", json!(self.is_ephemeral)),
            ("isExternal", json!(self.is_external)),
            ("connectedToControl", json!(self.last_seen.is_none())),
            ("machineKey", json!(self.machine_key)),
            ("nodeKey", json!(self.node_key)),
            ("os", json!(self.os)),
            ("tailnetLockError", json!(self.tailnet_lock_error)),
            ("tailnetLockKey", json!(self.tailnet_lock_key)),
            ("updateAvailable", json!(self.update_available)),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        if let Some(addresses) = &self.addresses {
            map.insert("addresses".into(), json!(addresses));
        }
        if !self.tags.is_empty() {
            map.insert("tags".into(), json!(self.tags));
        }
        if let Some(last_seen) = &self.last_seen {
            map.insert("lastSeen".into(), json!(last_seen));
        }
        map
    }
}
