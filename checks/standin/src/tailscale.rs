//! The stand-in for the `tailscale/tailscale` provider v0.29.2: the provider block, one file per
//! resource and data source.

mod acl;
mod devices;
mod dns_configuration;
pub mod provider;
mod tailnet_key;

pub use provider::TailscaleProvider;
