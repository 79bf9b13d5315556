//! `tailscale_acl` as terraform-provider-tailscale v0.29.2 resource_acl.go implements it: the
//! first write only replaces the untouched default policy (`If-Match: "ts-default"`) unless
//! `overwrite_existing_content`, later writes overwrite blindly, a HuJSON-format-only change is
//! no change (plan_modifiers.go aclHuJSONModifier), and destroy leaves the policy alone unless
//! `reset_acl_on_destroy`.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{AttributePath, Diagnostics, Resource};

use super::provider::{SharedClient, configured, new_uuid};
use crate::framework::{error, error_at, schema};
use crate::hujson;

pub struct Acl {
    client: SharedClient,
}

impl Acl {
    pub fn new(client: SharedClient) -> Self {
        Self { client }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct AclState {
    pub id: Value<String>,
    pub acl: Value<String>,
    pub overwrite_existing_content: Value<bool>,
    pub reset_acl_on_destroy: Value<bool>,
}

/// The create's answer to a 412 (resource_acl.go Create).
const OVERWRITE_PROTECTED: &str = "You are trying to overwrite a non-default policy. Please import the ACL first or set overwrite_existing_content = true.";

fn is_true(value: &Value<bool>) -> bool {
    value.as_ref_option().copied().unwrap_or(false)
}

#[async_trait]
impl Resource for Acl {
    type State<'a> = AclState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{Bool, String as Str};
        Some(schema(
            [
                ("id", Str, Computed, false),
                ("acl", Str, Required, false),
                ("overwrite_existing_content", Bool, Optional, false),
                ("reset_acl_on_destroy", Bool, Optional, false),
            ],
            vec![],
        ))
    }

    /// validators.go aclHuJSONValidator, reported as validatordiag's InvalidAttributeValue.
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: AclState) -> Option<()> {
        if let Value::Value(acl) = &config.acl
            && let Err(e) = hujson::parse(acl)
        {
            error_at(
                diags,
                "Invalid Attribute Value",
                format!("Attribute acl is invalid HuJSON, got: {e}"),
                AttributePath::new("acl"),
            );
            return None;
        }
        Some(())
    }

    /// Read stores the server's text verbatim (the ETag it gets is ignored); an error is an
    /// error, even a 404: the resource is never dropped.
    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        mut state: AclState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AclState, ValueEmpty)> {
        match configured(&self.client, diags)?.get_acl() {
            Ok(raw) => state.acl = Value::Value(raw.hujson),
            Err(e) => {
                error(diags, "Failed to fetch ACL", e.to_string());
                return None;
            }
        }
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: AclState,
        _config: AclState,
        _meta: ValueEmpty,
    ) -> Option<(AclState, ValueEmpty)> {
        proposed.id = Value::Unknown;
        Some((proposed, ValueEmpty::default()))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: AclState,
        mut proposed: AclState,
        config: AclState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AclState, ValueEmpty, Vec<AttributePath>)> {
        // UseStateForUnknown.
        proposed.id = prior.id.clone();
        // aclHuJSONModifier: when the configured and the stored text format alike, the plan
        // keeps the stored one (terraform accepts a planned value equal to the prior state).
        if let (Value::Value(configured), Value::Value(stored)) = (&config.acl, &prior.acl)
            && hujson::formats_alike(configured, stored)
        {
            proposed.acl = prior.acl.clone();
        }
        Some((proposed, ValueEmpty::default(), vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AclState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(ValueEmpty::default())
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut planned: AclState,
        _config: AclState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AclState, ValueEmpty)> {
        // "ts-default" makes the write succeed only while the policy was never changed.
        let etag = if is_true(&planned.overwrite_existing_content) {
            ""
        } else {
            "ts-default"
        };
        let acl = planned.acl.as_ref_option().cloned().unwrap_or_default();
        if let Err(e) = configured(&self.client, diags)?.set_acl(&acl, etag) {
            let text = e.to_string();
            if text.ends_with("(412)") {
                error(diags, "Overwrite Protected", OVERWRITE_PROTECTED);
            } else {
                error(diags, "Failed to set ACL", text);
            }
            return None;
        }
        planned.id = Value::Value(new_uuid(diags)?);
        Some((planned, private))
    }

    /// A blind overwrite: no If-Match.
    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        _prior: AclState,
        planned: AclState,
        _config: AclState,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AclState, ValueEmpty)> {
        let acl = planned.acl.as_ref_option().cloned().unwrap_or_default();
        if let Err(e) = configured(&self.client, diags)?.set_acl(&acl, "") {
            error(diags, "Failed to update ACL", e.to_string());
            return None;
        }
        Some((planned, private))
    }

    /// Every tailnet always has a policy: destroy only forgets it, unless `reset_acl_on_destroy`
    /// sets the empty policy, which resets it to the default.
    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AclState,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        if !is_true(&prior.reset_acl_on_destroy) {
            return Some(());
        }
        if let Err(e) = configured(&self.client, diags)?.set_acl("", "") {
            error(diags, "Failed to reset ACL", e.to_string());
            return None;
        }
        Some(())
    }

    /// ImportStatePassthroughID: any id ("acl" in the docs) is kept; Read fills `acl`.
    async fn import<'a>(
        &self,
        _diags: &mut Diagnostics,
        id: String,
    ) -> Option<(AclState, ValueEmpty)> {
        let state = AclState {
            id: Value::Value(id),
            ..AclState::default()
        };
        Some((state, ValueEmpty::default()))
    }
}
