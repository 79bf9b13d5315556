//! Layer 3: running terraform (or OpenTofu). Each module uses only the layers below and the
//! modules declared before it.
pub mod environment;
pub mod hints;
pub mod json_log;
pub mod remote;
pub mod process;
pub mod init;
