//! Layer 1: what the user asked for and where things live. Each module uses only the layer
//! below and the modules declared before it.
pub mod layout;
pub mod options;
pub mod env_file;
pub mod credentials;
pub mod pg_connection;
