//! The tailnet's DNS settings the simulated API keeps: what the admin console's DNS page and
//! the API's `…/dns/configuration` show.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Dns {
    /// Global nameservers, in the order they were set.
    pub nameservers: Vec<Nameserver>,
    /// Split DNS: domain → its nameservers.
    pub split_dns: BTreeMap<String, Vec<Nameserver>>,
    pub search_paths: Vec<String>,
    pub magic_dns: bool,
    pub override_local_dns: bool,
}

impl Default for Dns {
    /// A new tailnet: no nameservers, MagicDNS on (Tailscale enables it for tailnets created
    /// since 2022), local DNS not overridden.
    fn default() -> Self {
        Self {
            nameservers: Vec::new(),
            split_dns: BTreeMap::new(),
            search_paths: Vec::new(),
            magic_dns: true,
            override_local_dns: false,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Nameserver {
    pub address: String,
    #[serde(default)]
    pub use_with_exit_node: bool,
}
