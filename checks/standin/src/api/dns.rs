//! The whole DNS configuration: `…/dns/configuration` (tailscale-client-go-v2 v2.9.0 dns.go
//! Configuration and SetConfiguration), scope `dns` (`dns:read` to read).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ApiError, Call, Client};
use crate::sim::{Dns, Nameserver};

/// dns.go DNSConfiguration: every field `omitempty`, so false booleans and empty lists and maps
/// are left out of the request; `preferences` is a struct, so `"preferences":{}` is always sent.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DnsConfiguration {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<Resolver>,
    #[serde(
        default,
        rename = "splitDNS",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub split_dns: BTreeMap<String, Vec<Resolver>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search_paths: Vec<String>,
    #[serde(default)]
    pub preferences: Preferences,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Resolver {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_with_exit_node: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Preferences {
    #[serde(default, rename = "overrideLocalDNS", skip_serializing_if = "is_false")]
    pub override_local_dns: bool,
    #[serde(default, rename = "magicDNS", skip_serializing_if = "is_false")]
    pub magic_dns: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn resolvers(nameservers: &[Nameserver]) -> Vec<Resolver> {
    nameservers
        .iter()
        .map(|n| Resolver {
            address: n.address.clone(),
            use_with_exit_node: n.use_with_exit_node,
        })
        .collect()
}

fn nameservers(resolvers: &[Resolver]) -> Vec<Nameserver> {
    resolvers
        .iter()
        .map(|r| Nameserver {
            address: r.address.clone(),
            use_with_exit_node: r.use_with_exit_node,
        })
        .collect()
}

impl Client {
    /// The tailnet's DNS configuration. The global nameservers come back sorted by address,
    /// which the provider's Read assumes (v0.29.2 resource_dns_configuration.go
    /// reconcileNameservers binary-searches them); whether the real API sorts them is not
    /// known.
    pub fn dns_configuration(&self) -> Result<DnsConfiguration, ApiError> {
        let call = Call::new("GET", "dns/configuration".to_owned(), "dns:read");
        self.call(call, |tailnet| {
            let dns = &tailnet.dns;
            let mut global = resolvers(&dns.nameservers);
            global.sort_by(|a, b| a.address.cmp(&b.address));
            Ok(DnsConfiguration {
                nameservers: global,
                split_dns: dns
                    .split_dns
                    .iter()
                    .map(|(domain, servers)| (domain.clone(), resolvers(servers)))
                    .collect(),
                search_paths: dns.search_paths.clone(),
                preferences: Preferences {
                    override_local_dns: dns.override_local_dns,
                    magic_dns: dns.magic_dns,
                },
            })
        })
    }

    /// Replaces the whole DNS configuration; what the request leaves out becomes empty or off
    /// (so `{"preferences":{}}` wipes everything, MagicDNS included).
    pub fn set_dns_configuration(&self, configuration: &DnsConfiguration) -> Result<(), ApiError> {
        let mut call = Call::new("POST", "dns/configuration".to_owned(), "dns");
        call.body = Some(serde_json::to_string(configuration).unwrap_or_default());
        self.call(call, |tailnet| {
            tailnet.dns = Dns {
                nameservers: nameservers(&configuration.nameservers),
                split_dns: configuration
                    .split_dns
                    .iter()
                    .map(|(domain, servers)| (domain.clone(), nameservers(servers)))
                    .collect(),
                search_paths: configuration.search_paths.clone(),
                magic_dns: configuration.preferences.magic_dns,
                override_local_dns: configuration.preferences.override_local_dns,
            };
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitempty_leaves_out_false_and_empty() {
        let empty = serde_json::to_string(&DnsConfiguration::default()).unwrap_or_default();
        assert_eq!(
            empty, r#"{"preferences":{}}"#,
            "the provider's delete sends exactly this"
        );
        let configuration = DnsConfiguration {
            nameservers: vec![Resolver {
                address: "1.1.1.1".into(),
                use_with_exit_node: false,
            }],
            preferences: Preferences {
                override_local_dns: false,
                magic_dns: true,
            },
            ..DnsConfiguration::default()
        };
        assert_eq!(
            serde_json::to_string(&configuration).unwrap_or_default(),
            r#"{"nameservers":[{"address":"1.1.1.1"}],"preferences":{"magicDNS":true}}"#,
            "false booleans are omitted, field names are the API's"
        );
    }
}
