//! What terraform-plugin-framework gives the real providers for free, rebuilt on `tf-provider`:
//! diagnostics without backtraces, schemas written as tables, and the framework's default texts.

use std::borrow::Cow;
use std::collections::HashMap;

use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
};
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

/// An error diagnostic on the whole resource.
///
/// Diagnostics are built by hand: `tf-provider`'s `Diagnostic::new` appends a Rust backtrace to
/// the detail whenever RUST_BACKTRACE is set, which a real provider never prints.
pub fn error(
    diags: &mut Diagnostics,
    summary: impl Into<Cow<'static, str>>,
    detail: impl Into<Cow<'static, str>>,
) {
    error_at(diags, summary, detail, AttributePath::default());
}

/// An error diagnostic on one attribute (terraform shows the attribute's config line).
pub fn error_at(
    diags: &mut Diagnostics,
    summary: impl Into<Cow<'static, str>>,
    detail: impl Into<Cow<'static, str>>,
    attribute: AttributePath,
) {
    diags.errors.push(Diagnostic {
        summary: summary.into(),
        detail: detail.into(),
        attribute,
    });
}

/// A warning diagnostic on the whole resource.
pub fn warning(
    diags: &mut Diagnostics,
    summary: impl Into<Cow<'static, str>>,
    detail: impl Into<Cow<'static, str>>,
) {
    diags.warnings.push(Diagnostic {
        summary: summary.into(),
        detail: detail.into(),
        attribute: AttributePath::default(),
    });
}

/// One row of a schema table: name, type, constraint, sensitive.
pub type Row = (&'static str, AttributeType, AttributeConstraint, bool);

/// The attributes of a block, from a table.
pub fn attributes(rows: impl IntoIterator<Item = Row>) -> HashMap<String, Attribute> {
    rows.into_iter()
        .map(|(name, attr_type, constraint, sensitive)| {
            let attribute = Attribute {
                attr_type,
                description: Description::plain("see the real provider's documentation"),
                constraint,
                sensitive,
                deprecated: false,
            };
            (name.to_owned(), attribute)
        })
        .collect()
}

/// A block of attributes and nested blocks.
pub fn block(rows: impl IntoIterator<Item = Row>, blocks: Vec<(&str, NestedBlock)>) -> Block {
    Block {
        version: 0,
        attributes: attributes(rows),
        blocks: blocks
            .into_iter()
            .map(|(name, nested)| (name.to_owned(), nested))
            .collect(),
        description: Description::plain("see the real provider's documentation"),
        deprecated: false,
    }
}

/// A schema of version 0: none of the copied resources sets a schema version.
pub fn schema(rows: impl IntoIterator<Item = Row>, blocks: Vec<(&str, NestedBlock)>) -> Schema {
    Schema {
        version: 0,
        block: block(rows, blocks),
    }
}

/// The framework's answer for a resource without ImportState
/// (terraform-plugin-framework internal/fwserver/server_importresourcestate.go).
pub fn import_not_implemented(diags: &mut Diagnostics) {
    error(
        diags,
        "Resource Import Not Implemented",
        "This resource does not support import. Please contact the provider developer for additional information.",
    );
}
