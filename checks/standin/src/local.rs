//! The stand-in for the `hashicorp/local` provider v2.9.0: only `local_sensitive_file`, the one
//! resource the project renders.

mod provider;
mod sensitive_file;

pub use provider::LocalProvider;
