//! `tailscale_tailnet_key` as terraform-provider-tailscale v0.29.2 resource_tailnet_key.go
//! implements it.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::provider::{SharedClient, configured};
use crate::api::{ApiError, Client, CreateRequest, KeyInfo};
use crate::framework::{error, error_at, schema};
use crate::gotext::double_quoted;

pub struct TailnetKey {
    client: SharedClient,
}

/// One instance, attribute for attribute.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct KeyState {
    pub id: Value<String>,
    pub reusable: Value<bool>,
    pub ephemeral: Value<bool>,
    pub tags: Value<BTreeSet<Value<String>>>,
    pub preauthorized: Value<bool>,
    pub key: Value<String>,
    pub expiry: Value<i64>,
    pub created_at: Value<String>,
    pub expires_at: Value<String>,
    pub description: Value<String>,
    pub invalid: Value<bool>,
    pub recreate_if_invalid: Value<String>,
    pub user_id: Value<String>,
}

impl TailnetKey {
    pub fn new(client: SharedClient) -> Self {
        Self { client }
    }

    fn client(&self, diags: &mut Diagnostics) -> Option<Client> {
        configured(&self.client, diags)
    }
}

/// Read: any error but a 404.
fn fetch_failed(diags: &mut Diagnostics, id: &str, e: &ApiError) {
    error(
        diags,
        "Failed to fetch key",
        format!(
            "Error reading tailnet key with id {}: {e}",
            double_quoted(id)
        ),
    );
}

fn id_of(state: &KeyState) -> String {
    state.id.as_ref_option().cloned().unwrap_or_default()
}

/// ModifyPlan's shouldRecreateIfInvalid: `always` → true, `never` → false, otherwise `reusable`.
fn should_recreate(recreate_if_invalid: &Value<String>, reusable: &Value<bool>) -> bool {
    match recreate_if_invalid.as_ref_option().map(String::as_str) {
        Some("always") => true,
        Some("never") => false,
        _ => reusable.as_ref_option().copied().unwrap_or(false),
    }
}

/// Copies what a GET returns into the state; `key` and `recreate_if_invalid` are never touched
/// (Read).
fn refresh(state: &mut KeyState, info: &KeyInfo) {
    let key = &info.key;
    state.id = Value::Value(key.id.clone());
    state.reusable = Value::Value(key.reusable);
    state.ephemeral = Value::Value(key.ephemeral);
    state.tags = Value::Value(key.tags.iter().cloned().map(Value::Value).collect());
    state.preauthorized = Value::Value(key.preauthorized);
    state.expiry = Value::Value(key.expiry_seconds);
    state.created_at = Value::Value(key.created.clone());
    state.expires_at = Value::Value(key.expires.clone());
    state.description = Value::Value(key.description.clone());
    state.user_id = Value::Value(key.user_id.clone());
    state.invalid = Value::Value(info.invalid);
}

/// Schema defaults apply when the config leaves an attribute null.
fn apply_defaults(plan: &mut KeyState, config: &KeyState) {
    for (planned, configured) in [
        (&mut plan.reusable, &config.reusable),
        (&mut plan.ephemeral, &config.ephemeral),
        (&mut plan.preauthorized, &config.preauthorized),
    ] {
        if configured.is_null() {
            *planned = Value::Value(false);
        }
    }
    if config.tags.is_null() {
        plan.tags = Value::Value(BTreeSet::new());
    }
    if config.description.is_null() {
        plan.description = Value::Value(String::new());
    }
}

#[async_trait]
impl Resource for TailnetKey {
    type State<'a> = KeyState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed};
        use AttributeType::{Bool, Number, Set, String as Str};
        let rows = [
            ("id", Str, Computed, false),
            ("reusable", Bool, OptionalComputed, false),
            ("ephemeral", Bool, OptionalComputed, false),
            ("tags", Set(Box::new(Str)), OptionalComputed, false),
            ("preauthorized", Bool, OptionalComputed, false),
            ("key", Str, Computed, true),
            ("expiry", Number, OptionalComputed, false),
            ("created_at", Str, Computed, false),
            ("expires_at", Str, Computed, false),
            ("description", Str, OptionalComputed, false),
            ("invalid", Bool, Computed, false),
            ("recreate_if_invalid", Str, Optional, false),
            ("user_id", Str, OptionalComputed, false),
        ];
        Some(schema(rows, vec![]))
    }

    /// The validators' messages (terraform-plugin-framework-validators v0.19.0
    /// stringvalidator LengthAtMost and OneOf).
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: KeyState) -> Option<()> {
        if let Value::Value(description) = &config.description {
            // Go's len(): bytes, not characters (stringvalidator.LengthAtMost).
            let length = description.len();
            if length > 50 {
                error_at(
                    diags,
                    "Invalid Attribute Value Length",
                    format!(
                        "Attribute description string length must be at most 50, got: {length}"
                    ),
                    AttributePath::new("description"),
                );
            }
        }
        if let Value::Value(value) = &config.recreate_if_invalid
            && !["", "always", "never"].contains(&value.as_str())
        {
            error_at(
                diags,
                "Invalid Attribute Value Match",
                format!(
                    "Attribute recreate_if_invalid value must be one of: [\"\" \"always\" \"never\"], got: {value:?}"
                ),
                AttributePath::new("recreate_if_invalid"),
            );
        }
        diags.errors.is_empty().then_some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        mut state: KeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(KeyState, ValueEmpty)> {
        let id = id_of(&state);
        match self.client(diags)?.get_key(&id) {
            Ok(info) => refresh(&mut state, &info),
            // v0.29.2: a 404 sets invalid = true and keeps everything else; ModifyPlan decides.
            Err(e) if e.is_not_found() => state.invalid = Value::Value(true),
            Err(e) => {
                fetch_failed(diags, &id, &e);
                return None;
            }
        }
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: KeyState,
        config: KeyState,
        _meta: ValueEmpty,
    ) -> Option<(KeyState, ValueEmpty)> {
        let mut plan = proposed;
        apply_defaults(&mut plan, &config);
        // Computed values are known only after create.
        plan.id = Value::Unknown;
        plan.key = Value::Unknown;
        plan.created_at = Value::Unknown;
        plan.expires_at = Value::Unknown;
        plan.invalid = Value::Unknown;
        if config.expiry.is_null() {
            plan.expiry = Value::Unknown;
        }
        if config.user_id.is_null() {
            plan.user_id = Value::Unknown;
        }
        Some((plan, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: KeyState,
        proposed: KeyState,
        config: KeyState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(KeyState, ValueEmpty, Vec<AttributePath>)> {
        let mut plan = proposed;
        apply_defaults(&mut plan, &config);
        // UseStateForUnknown on every computed attribute.
        plan.id = prior.id.clone();
        plan.key = prior.key.clone();
        plan.created_at = prior.created_at.clone();
        plan.expires_at = prior.expires_at.clone();
        plan.invalid = prior.invalid;
        if config.expiry.is_null() {
            plan.expiry = prior.expiry;
        }
        if config.user_id.is_null() {
            plan.user_id = prior.user_id.clone();
        }

        // RequiresReplace on these, when the value changes.
        let mut replace = Vec::new();
        let changed = [
            ("reusable", plan.reusable != prior.reusable),
            ("ephemeral", plan.ephemeral != prior.ephemeral),
            ("tags", plan.tags != prior.tags),
            ("preauthorized", plan.preauthorized != prior.preauthorized),
            ("expiry", plan.expiry != prior.expiry),
            ("description", plan.description != prior.description),
        ];
        replace.extend(
            changed
                .into_iter()
                .filter(|(_, changed)| *changed)
                .map(|(name, _)| AttributePath::new(name)),
        );

        // ModifyPlan: an invalid key is replaced when shouldRecreate holds.
        if plan.invalid == Value::Value(true)
            && should_recreate(&plan.recreate_if_invalid, &plan.reusable)
        {
            plan.id = Value::Unknown;
            replace.push(AttributePath::new("id"));
        }
        Some((plan, ValueEmpty::default(), replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: KeyState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(ValueEmpty::default())
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: KeyState,
        _config: KeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(KeyState, ValueEmpty)> {
        let request = CreateRequest {
            reusable: planned.reusable.as_ref_option().copied().unwrap_or(false),
            ephemeral: planned.ephemeral.as_ref_option().copied().unwrap_or(false),
            preauthorized: planned
                .preauthorized
                .as_ref_option()
                .copied()
                .unwrap_or(false),
            tags: planned
                .tags
                .iter()
                .flatten()
                .filter_map(|t| t.as_ref_option().cloned())
                .collect(),
            // An unset expiry is unknown in the plan, so 0 is sent (the API then picks 90 days).
            expiry_seconds: planned.expiry.as_ref_option().copied().unwrap_or(0),
            description: planned
                .description
                .as_ref_option()
                .cloned()
                .unwrap_or_default(),
        };
        let client = self.client(diags)?;
        // The create may sleep (fault knob): keep it off the async workers.
        let created = tokio::task::spawn_blocking(move || client.create_key(&request))
            .await
            .unwrap_or_else(|e| Err(ApiError::Transport(format!("the create task failed: {e}"))));
        let info = match created {
            Ok(info) => info,
            Err(e) => {
                // On error nothing is saved.
                error(
                    diags,
                    "Failed to create key",
                    format!("Error creating tailnet key: {e}"),
                );
                return None;
            }
        };
        let key = info.key;
        let mut state = planned;
        state.id = Value::Value(key.id);
        // The only place `key` is set.
        state.key = Value::Value(key.key);
        state.created_at = Value::Value(key.created);
        state.expires_at = Value::Value(key.expires);
        state.expiry = Value::Value(key.expiry_seconds);
        state.invalid = Value::Value(info.invalid);
        state.user_id = Value::Value(key.user_id);
        Some((state, private))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: KeyState,
        planned: KeyState,
        _config: KeyState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(KeyState, ValueEmpty)> {
        let id = id_of(&prior);
        let info = match self.client(diags)?.get_key(&id) {
            Ok(info) => info,
            Err(e) if e.is_not_found() => {
                // v0.29.2 panics here on a 404 (#809); the stand-in fails instead.
                error(
                    diags,
                    "Failed to update key",
                    format!(
                        "Key {} is gone; the real v0.29.2 provider crashes here (terraform-provider-tailscale#809)",
                        double_quoted(&id)
                    ),
                );
                return None;
            }
            Err(e) => {
                fetch_failed(diags, &id, &e);
                return None;
            }
        };
        // Update refreshes these and keeps the planned rest (including `key`).
        let mut state = planned;
        state.created_at = Value::Value(info.key.created.clone());
        state.expires_at = Value::Value(info.key.expires.clone());
        state.description = Value::Value(info.key.description.clone());
        state.user_id = Value::Value(info.key.user_id.clone());
        state.invalid = Value::Value(info.invalid);
        Some((state, private))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: KeyState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let id = id_of(&prior);
        match self.client(diags)?.delete_key(&id) {
            Ok(()) => Some(()),
            // A 404 is ignored (single-use keys may already be gone).
            Err(e) if e.is_not_found() => Some(()),
            Err(e) => {
                error(
                    diags,
                    "Failed to delete key",
                    format!(
                        "Error deleting tailnet key with id {}: {e}",
                        double_quoted(&id)
                    ),
                );
                None
            }
        }
    }

    /// ImportStatePassthroughID: the id passes through, then Read runs; `key` stays null.
    async fn import<'a>(
        &self,
        _diags: &mut Diagnostics,
        id: String,
    ) -> Option<(KeyState, ValueEmpty)> {
        let state = KeyState {
            id: Value::Value(id),
            ..KeyState::default()
        };
        Some((state, ValueEmpty::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recreate_rule_follows_the_provider() {
        let never = Value::Value("never".to_owned());
        let always = Value::Value("always".to_owned());
        let empty = Value::Value(String::new());
        let unset = Value::Null;
        let yes = Value::Value(true);
        let no = Value::Value(false);
        assert!(
            should_recreate(&always, &no),
            "always recreates single-use keys too"
        );
        assert!(!should_recreate(&never, &yes), "never keeps reusable keys");
        assert!(
            should_recreate(&unset, &yes),
            "unset: reusable keys are replaced"
        );
        assert!(
            !should_recreate(&unset, &no),
            "unset: single-use keys are kept"
        );
        assert!(!should_recreate(&empty, &no), "\"\" behaves like unset");
    }
}
