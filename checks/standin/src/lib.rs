//! Test infrastructure, not product code: stand-ins for the Terraform providers the project
//! renders, speaking terraform's real plugin protocol (through `tf-provider`):
//! - `tailscale/tailscale` v0.29.2, whose "tailnet" is a local JSON file named by
//!   `TAILSCALE_BASE_URL=file:///…` (no network client at all);
//! - `hashicorp/local` v2.9.0's `local_sensitive_file`, which writes the files terraform asks for.
//!
//! Behaviour copied from the real providers cites their source files.

pub mod api;
pub mod framework;
pub mod gotext;
pub mod hujson;
pub mod local;
pub mod plugin;
pub mod sim;
pub mod tailscale;
