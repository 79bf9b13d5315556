//! Test infrastructure, not product code: a stand-in for the `tailscale/tailscale` Terraform
//! provider v0.29.2 that speaks terraform's real plugin protocol (through `tf-provider`) and keeps
//! its "tailnet" in a local JSON file named by `TAILSCALE_BASE_URL=file:///…`. It has no network
//! client at all. Behaviour copied from the real provider cites `/work/shared/facts/provider.md`
//! ("facts §N").

pub mod api;
pub mod provider;
pub mod resource;
pub mod sim;
