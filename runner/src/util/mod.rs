//! Layer 0: helpers that know nothing about commands or the state directory. Each module uses
//! only the ones declared before it.
pub mod console;
pub mod outcome;
pub mod sys;
pub mod clock;
pub mod sha1;
pub mod scrub;
pub mod signals;
pub mod regular;
pub mod atomic;
pub mod tfstate;
