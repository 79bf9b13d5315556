//! The `tailscale_devices` data source as terraform-provider-tailscale v0.29.2
//! data_source_devices.go and model_device.go implement it: one GET with the `filter` blocks as
//! query parameters, `name_prefix` applied by the provider, `devices` a nested list block of 21
//! computed attributes, and a new UUID as `id` on every read.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::provider::{SharedClient, configured, new_uuid};
use crate::api::{self, DeviceFilters};
use crate::framework::{block, error, schema};
use crate::gotext::rfc3339;
use crate::sim::ZERO_TIME;

pub struct Devices {
    client: SharedClient,
}

impl Devices {
    pub fn new(client: SharedClient) -> Self {
        Self { client }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct DevicesState {
    pub id: Value<String>,
    pub name_prefix: Value<String>,
    /// A set block: terraform sends a list of its elements.
    pub filter: Vec<FilterBlock>,
    pub devices: Vec<DeviceBlock>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct FilterBlock {
    pub name: Value<String>,
    pub values: Value<Vec<Value<String>>>,
}

/// model_device.go deviceDataSourceModel plus `name` and `hostname`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct DeviceBlock {
    /// Null when the API sent no addresses.
    pub addresses: Option<Vec<String>>,
    pub authorized: bool,
    pub blocks_incoming_connections: bool,
    pub client_version: String,
    pub created: String,
    pub expires: String,
    pub hostname: String,
    pub id: String,
    pub is_external: bool,
    pub key_expiry_disabled: bool,
    /// `""` while the device is connected to control.
    pub last_seen: String,
    pub machine_key: String,
    pub name: String,
    pub node_id: String,
    pub node_key: String,
    pub os: String,
    /// `[]`, never null, for a device without tags.
    pub tags: BTreeSet<String>,
    pub tailnet_lock_error: String,
    pub tailnet_lock_key: String,
    pub update_available: bool,
    pub user: String,
}

/// The client decodes API times into Go `time.Time` values (`""` is the zero time), and the
/// provider prints them with `time.RFC3339`.
fn go_time(api: &str) -> String {
    if api.is_empty() {
        return ZERO_TIME.to_owned();
    }
    OffsetDateTime::parse(api, &Rfc3339).map_or_else(|_| api.to_owned(), rfc3339)
}

/// toDeviceDataSourceModel.
fn device_block(device: api::Device) -> DeviceBlock {
    DeviceBlock {
        addresses: device.addresses,
        authorized: device.authorized,
        blocks_incoming_connections: device.blocks_incoming_connections,
        client_version: device.client_version,
        created: go_time(&device.created),
        expires: go_time(&device.expires),
        hostname: device.hostname,
        id: device.id,
        is_external: device.is_external,
        key_expiry_disabled: device.key_expiry_disabled,
        last_seen: device.last_seen.as_deref().map(go_time).unwrap_or_default(),
        machine_key: device.machine_key,
        name: device.name,
        node_id: device.node_id,
        node_key: device.node_key,
        os: device.os,
        tags: device.tags.unwrap_or_default().into_iter().collect(),
        tailnet_lock_error: device.tailnet_lock_error,
        tailnet_lock_key: device.tailnet_lock_key,
        update_available: device.update_available,
        user: device.user,
    }
}

#[async_trait]
impl DataSource for Devices {
    type State<'a> = DevicesState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{Bool, List, Set, String as Str};
        let strings = || Box::new(Str);
        let filter = block(
            [
                ("name", Str, Required, false),
                ("values", Set(strings()), Required, false),
            ],
            vec![],
        );
        let device = block(
            [
                ("addresses", List(strings()), Computed, false),
                ("authorized", Bool, Computed, false),
                ("blocks_incoming_connections", Bool, Computed, false),
                ("client_version", Str, Computed, false),
                ("created", Str, Computed, false),
                ("expires", Str, Computed, false),
                ("hostname", Str, Computed, false),
                ("id", Str, Computed, false),
                ("is_external", Bool, Computed, false),
                ("key_expiry_disabled", Bool, Computed, false),
                ("last_seen", Str, Computed, false),
                ("machine_key", Str, Computed, false),
                ("name", Str, Computed, false),
                ("node_id", Str, Computed, false),
                ("node_key", Str, Computed, false),
                ("os", Str, Computed, false),
                ("tags", Set(strings()), Computed, false),
                ("tailnet_lock_error", Str, Computed, false),
                ("tailnet_lock_key", Str, Computed, false),
                ("update_available", Bool, Computed, false),
                ("user", Str, Computed, false),
            ],
            vec![],
        );
        Some(schema(
            [
                ("id", Str, Computed, false),
                ("name_prefix", Str, Optional, false),
            ],
            vec![
                ("filter", NestedBlock::Set(filter)),
                ("devices", NestedBlock::List(device)),
            ],
        ))
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        mut config: DevicesState,
        _meta: ValueEmpty,
    ) -> Option<DevicesState> {
        // WithFilter puts each filter into a map: a second filter on the same name replaces
        // the first.
        let filters: DeviceFilters = config
            .filter
            .iter()
            .map(|f| {
                let name = f.name.as_ref_option().cloned().unwrap_or_default();
                let values = f.values.iter().flatten();
                let values = values.filter_map(|v| v.as_ref_option().cloned()).collect();
                (name, values)
            })
            .collect();
        let listed = match configured(&self.client, diags)?.list_devices(&filters) {
            Ok(listed) => listed,
            Err(e) => {
                error(diags, "Failed to fetch devices", e.to_string());
                return None;
            }
        };
        let prefix = config
            .name_prefix
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        config.devices = listed
            .into_iter()
            .filter(|d| prefix.is_empty() || d.name.starts_with(&prefix))
            .map(device_block)
            .collect();
        config.id = Value::Value(new_uuid(diags)?);
        Some(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_like_go() {
        assert_eq!(
            go_time(""),
            "0001-01-01T00:00:00Z",
            "an empty API time is Go's zero time"
        );
        assert_eq!(
            go_time("2026-05-01T10:00:00.123456Z"),
            "2026-05-01T10:00:00Z",
            "RFC3339 drops the fraction"
        );
        assert_eq!(
            go_time("2026-05-01T10:00:00+02:00"),
            "2026-05-01T10:00:00+02:00",
            "the offset is kept"
        );
    }

    #[test]
    fn absent_lists_follow_the_providers_conventions() {
        let block = device_block(api::Device::default());
        assert_eq!(block.addresses, None, "no addresses: a null list");
        assert!(block.tags.is_empty(), "no tags: an empty set, not null");
        assert_eq!(
            block.last_seen, "",
            "connected to control: last_seen is empty"
        );
    }
}
