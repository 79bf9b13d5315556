//! Layer 4: one module per command (status is a folder: gathering plus one renderer per
//! format). Each module uses only the layers below and the modules declared before it.
pub mod setup;
pub mod remote;
pub mod init_plan;
pub mod apply;
pub mod backup_restore;
pub mod status;
