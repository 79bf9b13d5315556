//! tailscale-manager's runner as a library: the binary (`main.rs`) only calls [`cli::main`];
//! the integration tests and the end-to-end suite reuse the typed records below.
//!
//! Six layers, each using only the layers above it in this list, and inside a layer only the
//! modules its `mod.rs` declares before it (`tests/integration/layers.rs` keeps this rule):
//!
//! 0. [`util`]: terminal output that never panics, exit codes and error wording, the
//!    hand-declared libc calls, timestamps, SHA-1, secret scrubbing, signals, reading only
//!    regular files within a limit, atomic file writes, the terraform.tfstate reader;
//! 1. [`config`]: the state directory's file names, the parsed options, the credentials and
//!    the pg connection string (`EnvironmentFile=` syntax, sources, the secrets in them);
//! 2. [`stores`]: the files the runner keeps: backups, the run lock, last-apply.json, the
//!    installed config, the snapshot of a remote state;
//! 3. [`terraform`]: terraform's environment, the fixes added to its errors, its `-json` log,
//!    a state document as `state pull`/`push` see it, one terraform process, the decision to
//!    run `init`;
//! 4. [`commands`]: init/plan, apply/destroy, backup-state/restore-state, what they share
//!    with a remote backend, status (gathering plus one renderer per format);
//! 5. [`cli`]: help text, parsing, dispatch.
pub mod util;
pub mod config;
pub mod stores;
pub mod terraform;
pub mod commands;
pub mod cli;
