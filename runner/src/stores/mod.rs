//! Layer 2: the files the runner keeps in the state directory, each with its own module.
//! They use only the layers below; none uses another.
pub mod backup;
pub mod lock;
pub mod last_apply;
pub mod rendered;
pub mod snapshot;
