//! `tailscale_dns_configuration` as terraform-provider-tailscale v0.29.2
//! resource_dns_configuration.go implements it: the whole DNS configuration in one resource,
//! `nameservers` and `split_dns` as nested list blocks, every write a full replace, every Read
//! an "Alpha Resource" warning, and a delete that wipes all DNS settings (MagicDNS off).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::provider::{SharedClient, configured, new_uuid};
use crate::api::{self, Preferences, Resolver};
use crate::framework::{block, error, error_at, schema, warning};

pub struct DnsConfiguration {
    client: SharedClient,
}

impl DnsConfiguration {
    pub fn new(client: SharedClient) -> Self {
        Self { client }
    }

    /// Create and Update: POST the whole configuration the plan describes.
    fn write(&self, diags: &mut Diagnostics, plan: &DnsState) -> Option<()> {
        let client = configured(&self.client, diags)?;
        if let Err(e) = client.set_dns_configuration(&configuration(plan)) {
            error(diags, "Failed to set DNS configuration", e.to_string());
            return None;
        }
        Some(())
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct DnsState {
    pub id: Value<String>,
    pub search_paths: Value<Vec<Value<String>>>,
    pub override_local_dns: Value<bool>,
    pub magic_dns: Value<bool>,
    /// Nested blocks: terraform always sends a list (empty when there are none).
    pub nameservers: Vec<NameserverBlock>,
    pub split_dns: Vec<SplitDnsBlock>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct NameserverBlock {
    pub address: Value<String>,
    pub use_with_exit_node: Value<bool>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct SplitDnsBlock {
    pub domain: Value<String>,
    pub nameservers: Vec<NameserverBlock>,
}

const ALPHA_WARNING: &str = "The tailscale_dns_configuration resource is currently in alpha and subject to change, proceed with caution.";

fn nameserver_block() -> Block {
    use AttributeConstraint::{OptionalComputed, Required};
    block(
        [
            ("address", AttributeType::String, Required, false),
            (
                "use_with_exit_node",
                AttributeType::Bool,
                OptionalComputed,
                false,
            ),
        ],
        vec![],
    )
}

fn text(value: &Value<String>) -> String {
    value.as_ref_option().cloned().unwrap_or_default()
}

fn flag(value: &Value<bool>) -> bool {
    value.as_ref_option().copied().unwrap_or(false)
}

/// `use_with_exit_node` defaults to false, in `nameservers` and in `split_dns.nameservers`.
fn default_exit_node(plan: &mut [NameserverBlock], config: &[NameserverBlock]) {
    for (planned, configured) in plan.iter_mut().zip(config) {
        if configured.use_with_exit_node.is_null() {
            planned.use_with_exit_node = Value::Value(false);
        }
    }
}

/// The schema's defaults, where the config leaves an attribute null: `search_paths = []`,
/// `override_local_dns = false`, `magic_dns = true`.
fn apply_defaults(plan: &mut DnsState, config: &DnsState) {
    if config.search_paths.is_null() {
        plan.search_paths = Value::Value(Vec::new());
    }
    if config.override_local_dns.is_null() {
        plan.override_local_dns = Value::Value(false);
    }
    if config.magic_dns.is_null() {
        plan.magic_dns = Value::Value(true);
    }
    default_exit_node(&mut plan.nameservers, &config.nameservers);
    for (planned, configured) in plan.split_dns.iter_mut().zip(&config.split_dns) {
        default_exit_node(&mut planned.nameservers, &configured.nameservers);
    }
}

fn resolvers(blocks: &[NameserverBlock]) -> Vec<Resolver> {
    blocks
        .iter()
        .map(|n| Resolver {
            address: text(&n.address),
            use_with_exit_node: flag(&n.use_with_exit_node),
        })
        .collect()
}

/// updateDNSConfiguration: the request built from the plan.
fn configuration(plan: &DnsState) -> api::DnsConfiguration {
    api::DnsConfiguration {
        nameservers: resolvers(&plan.nameservers),
        split_dns: plan
            .split_dns
            .iter()
            .map(|s| (text(&s.domain), resolvers(&s.nameservers)))
            .collect(),
        search_paths: plan.search_paths.iter().flatten().map(text).collect(),
        preferences: Preferences {
            override_local_dns: flag(&plan.override_local_dns),
            magic_dns: flag(&plan.magic_dns),
        },
    }
}

fn nameserver(resolver: &Resolver) -> NameserverBlock {
    NameserverBlock {
        address: Value::Value(resolver.address.clone()),
        use_with_exit_node: Value::Value(resolver.use_with_exit_node),
    }
}

/// reconcileNameservers: the stored nameservers the API still has, in the stored order, then
/// the API's others. The lookup is the provider's binary search, which expects the API's list
/// sorted by address.
fn reconcile(existing: &[NameserverBlock], updates: &[Resolver]) -> Vec<NameserverBlock> {
    let mut updates = updates.to_vec();
    let mut out = Vec::with_capacity(updates.len());
    for stored in existing {
        let address = text(&stored.address);
        if let Ok(at) = updates.binary_search_by(|r| r.address.as_str().cmp(&address)) {
            out.push(nameserver(&updates.remove(at)));
        }
    }
    out.extend(updates.iter().map(nameserver));
    out
}

#[async_trait]
impl Resource for DnsConfiguration {
    type State<'a> = DnsState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed, Required};
        use AttributeType::{Bool, List, String as Str};
        let split_dns = block(
            [("domain", Str, Required, false)],
            vec![("nameservers", NestedBlock::List(nameserver_block()))],
        );
        Some(schema(
            [
                ("id", Str, Computed, false),
                ("search_paths", List(Box::new(Str)), OptionalComputed, false),
                ("override_local_dns", Bool, OptionalComputed, false),
                ("magic_dns", Bool, OptionalComputed, false),
            ],
            vec![
                ("nameservers", NestedBlock::List(nameserver_block())),
                ("split_dns", NestedBlock::List(split_dns)),
            ],
        ))
    }

    /// validators.go AtLeastOneBlockRequiredList on `split_dns.nameservers`.
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: DnsState) -> Option<()> {
        for (index, split) in config.split_dns.iter().enumerate() {
            if split.nameservers.is_empty() {
                error_at(
                    diags,
                    "Insufficient nameservers blocks",
                    "At least 1 \"nameservers\" blocks are required.",
                    AttributePath::new("split_dns")
                        .index(index as i64)
                        .attribute("nameservers"),
                );
            }
        }
        diags.errors.is_empty().then_some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        mut state: DnsState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsState, ValueEmpty)> {
        let mut remote = match configured(&self.client, diags)?.dns_configuration() {
            Ok(remote) => remote,
            Err(e) => {
                error(diags, "Failed to fetch DNS configuration", e.to_string());
                return None;
            }
        };
        state.nameservers = reconcile(&state.nameservers, &remote.nameservers);
        // The stored split domains the API still has keep their order; the API's others follow
        // (in Go's random map order for the real provider, sorted by domain here).
        let mut split_dns = Vec::with_capacity(state.split_dns.len());
        for stored in &state.split_dns {
            if let Some(servers) = remote.split_dns.remove(&text(&stored.domain)) {
                split_dns.push(SplitDnsBlock {
                    domain: stored.domain.clone(),
                    nameservers: reconcile(&stored.nameservers, &servers),
                });
            }
        }
        split_dns.extend(
            remote
                .split_dns
                .iter()
                .map(|(domain, servers)| SplitDnsBlock {
                    domain: Value::Value(domain.clone()),
                    nameservers: reconcile(&[], servers),
                }),
        );
        state.split_dns = split_dns;
        state.search_paths =
            Value::Value(remote.search_paths.into_iter().map(Value::Value).collect());
        state.override_local_dns = Value::Value(remote.preferences.override_local_dns);
        state.magic_dns = Value::Value(remote.preferences.magic_dns);
        warning(diags, "Alpha Resource", ALPHA_WARNING);
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: DnsState,
        config: DnsState,
        _meta: ValueEmpty,
    ) -> Option<(DnsState, ValueEmpty)> {
        apply_defaults(&mut proposed, &config);
        proposed.id = Value::Unknown;
        Some((proposed, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: DnsState,
        mut proposed: DnsState,
        config: DnsState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsState, ValueEmpty, Vec<AttributePath>)> {
        apply_defaults(&mut proposed, &config);
        // UseStateForUnknown.
        proposed.id = prior.id;
        Some((proposed, ValueEmpty::default(), vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DnsState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(ValueEmpty::default())
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut planned: DnsState,
        _config: DnsState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsState, ValueEmpty)> {
        self.write(diags, &planned)?;
        planned.id = Value::Value(new_uuid(diags)?);
        Some((planned, private))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: DnsState,
        planned: DnsState,
        _config: DnsState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsState, ValueEmpty)> {
        self.write(diags, &planned)?;
        Some((planned, private))
    }

    /// Sets the empty configuration: no nameservers, no split DNS, no search paths, MagicDNS
    /// and override off.
    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: DnsState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = configured(&self.client, diags)?;
        if let Err(e) = client.set_dns_configuration(&api::DnsConfiguration::default()) {
            error(diags, "Failed to delete DNS configuration", e.to_string());
            return None;
        }
        Some(())
    }

    /// ImportStatePassthroughID: any id ("dns_configuration" in the docs); Read fills the rest.
    async fn import<'a>(
        &self,
        _diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DnsState, ValueEmpty)> {
        let state = DnsState {
            id: Value::Value(id),
            ..DnsState::default()
        };
        Some((state, ValueEmpty::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(addresses: &[&str]) -> Vec<NameserverBlock> {
        addresses
            .iter()
            .map(|a| NameserverBlock {
                address: Value::Value((*a).to_owned()),
                use_with_exit_node: Value::Value(false),
            })
            .collect()
    }

    fn remote(addresses: &[&str]) -> Vec<Resolver> {
        addresses
            .iter()
            .map(|a| Resolver {
                address: (*a).to_owned(),
                use_with_exit_node: true,
            })
            .collect()
    }

    #[test]
    fn reconcile_keeps_the_stored_order_and_appends_new_ones() {
        let got = reconcile(
            &stored(&["9.9.9.9", "1.1.1.1", "8.8.8.8"]),
            &remote(&["1.1.1.1", "2.2.2.2", "9.9.9.9"]),
        );
        let addresses: Vec<String> = got.iter().map(|n| text(&n.address)).collect();
        assert_eq!(
            addresses,
            ["9.9.9.9", "1.1.1.1", "2.2.2.2"],
            "stored order first, a removed one dropped, a new one appended"
        );
        assert!(
            got.iter().all(|n| flag(&n.use_with_exit_node)),
            "the API's values win"
        );
    }
}
