//! Test helpers shared by the runner's integration tests (`runner/tests/integration`, against
//! a fake terraform) and the end-to-end suite (`checks/standin/tests/e2e`, real terraform and
//! the stand-in provider). Test code only: never a dependency of the runner itself.
//!
//! - [`output`]: how a command ended and what it printed, and the checks on it;
//! - [`process`]: starting processes that never outlive a test, waiting for things;
//! - [`files`]: reading what the runner leaves in its state directory.
pub mod output;
pub mod process;
pub mod files;
