//! The `hashicorp/local` provider block: empty (terraform-provider-local v2.9.0
//! internal/provider/provider.go), and the resources the stand-in offers.

use std::collections::HashMap;

use async_trait::async_trait;
use tf_provider::schema::Schema;
use tf_provider::value::ValueEmpty;
use tf_provider::{Diagnostics, DynamicResource, Provider};

use super::sensitive_file::SensitiveFile;
use crate::framework::schema;

pub struct LocalProvider;

#[async_trait]
impl Provider for LocalProvider {
    type Config<'a> = ValueEmpty;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema([], vec![]))
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let file: Box<dyn DynamicResource> = Box::new(SensitiveFile);
        Some(HashMap::from([("sensitive_file".to_owned(), file)]))
    }
}
