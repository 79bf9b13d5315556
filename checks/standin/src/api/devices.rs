//! Listing devices: `GET …/devices?<filters>` (tailscale-client-go-v2 v2.9.0 devices.go List
//! and WithFilter), scope `devices:core:read`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ApiError, Call, Client};
use crate::gotext::{query_escape, quote};

/// Filters by top-level device field: field → values. A map, as in the client: two filters on
/// the same field collapse into the last one.
pub type DeviceFilters = BTreeMap<String, Vec<String>>;

/// A listed device as the client decodes it (devices.go Device, the default field set).
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Device {
    /// `None` when the API sent none.
    pub addresses: Option<Vec<String>>,
    pub name: String,
    pub id: String,
    pub node_id: String,
    pub authorized: bool,
    pub user: String,
    /// `None` when the API sent none.
    pub tags: Option<Vec<String>>,
    pub key_expiry_disabled: bool,
    pub blocks_incoming_connections: bool,
    pub client_version: String,
    /// RFC 3339, or `""` for none.
    pub created: String,
    pub expires: String,
    pub hostname: String,
    pub is_external: bool,
    /// `None` while connected to control.
    pub last_seen: Option<String>,
    pub machine_key: String,
    pub node_key: String,
    pub os: String,
    pub tailnet_lock_error: String,
    pub tailnet_lock_key: String,
    pub update_available: bool,
}

/// `url.Values.Encode`: keys sorted, each value escaped.
fn encode_query(filters: &DeviceFilters) -> String {
    filters
        .iter()
        .flat_map(|(field, values)| {
            values
                .iter()
                .map(move |value| format!("{}={}", query_escape(field), query_escape(value)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The server's filter (Tailscale API, listTailnetDevices): every filter must hold; a list field
/// must contain every value; any other field must equal one of the values (compared as text, so
/// `true` matches a boolean). Object fields are refused, as the API says it does not support
/// them. A field the device listing does not have is refused too (what the real API does then
/// is not known).
fn matches(device: &Map<String, Value>, filters: &DeviceFilters) -> Result<bool, ApiError> {
    for (field, wanted) in filters {
        let Some(actual) = device.get(field).or_else(|| known_absent(field)) else {
            return Err(ApiError::status(
                400,
                format!(
                    "cannot filter devices by {}: not a device field",
                    quote(field)
                ),
            ));
        };
        let ok = match actual {
            Value::Array(items) => wanted
                .iter()
                .all(|w| items.iter().any(|item| text(item) == *w)),
            Value::Object(_) => {
                return Err(ApiError::status(
                    400,
                    format!("cannot filter devices by {}: it is an object", quote(field)),
                ));
            }
            Value::Null => false,
            scalar => wanted.iter().any(|w| text(scalar) == *w),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Fields a device listing may leave out: filtering by them matches no device that lacks them.
fn known_absent(field: &str) -> Option<&'static Value> {
    ["addresses", "tags", "lastSeen"]
        .contains(&field)
        .then_some(&Value::Null)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Client {
    /// Every device of the tailnet that passes the filters, in the order they were added.
    pub fn list_devices(&self, filters: &DeviceFilters) -> Result<Vec<Device>, ApiError> {
        let mut call = Call::new("GET", "devices".to_owned(), "devices:core:read");
        call.query = encode_query(filters);
        self.call(call, |tailnet| {
            let mut listed = Vec::new();
            for device in &tailnet.devices {
                let json = device.api_json();
                if matches(&json, filters)? {
                    let decoded = serde_json::from_value(Value::Object(json))
                        .map_err(|e| ApiError::Transport(format!("decoding a device: {e}")))?;
                    listed.push(decoded);
                }
            }
            Ok(listed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Device as SimDevice;

    fn device(tags: &[&str]) -> Map<String, Value> {
        let mut device = SimDevice::new(
            "web-1.tail0000.ts.net",
            "2026-01-01T00:00:00Z".into(),
            "2026-07-01T00:00:00Z".into(),
        )
        .unwrap_or_else(|e| panic!("a device: {e:#}"));
        device.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        device.api_json()
    }

    fn filters(pairs: &[(&str, &[&str])]) -> DeviceFilters {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn list_fields_need_every_value_scalars_any() {
        let web = device(&["tag:web", "tag:prod"]);
        let ok = |f: &[(&str, &[&str])]| matches(&web, &filters(f)) == Ok(true);
        assert!(ok(&[("tags", &["tag:web"])]), "one of its tags");
        assert!(ok(&[("tags", &["tag:web", "tag:prod"])]), "all of its tags");
        assert!(!ok(&[("tags", &["tag:web", "tag:db"])]), "a tag it lacks");
        assert!(
            ok(&[("os", &["windows", "linux"])]),
            "a scalar equal to one value"
        );
        assert!(ok(&[("authorized", &["true"])]), "a boolean as text");
        assert!(
            !ok(&[("os", &["linux"]), ("hostname", &["db-1"])]),
            "every filter must hold"
        );
        let untagged = device(&[]);
        assert_eq!(
            matches(&untagged, &filters(&[("tags", &["tag:web"])])),
            Ok(false),
            "a device without tags has none of them"
        );
        assert!(
            matches(&web, &filters(&[("colour", &["blue"])])).is_err(),
            "an unknown field is refused"
        );
    }

    #[test]
    fn the_query_is_sorted_and_escaped() {
        assert_eq!(
            encode_query(&filters(&[
                ("tags", &["tag:a", "tag:b"]),
                ("os", &["linux"])
            ])),
            "os=linux&tags=tag%3Aa&tags=tag%3Ab",
            "url.Values.Encode"
        );
    }
}
