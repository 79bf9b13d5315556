//! How a command ended, the exit code that tells the caller, and the one wording of a failed
//! file operation.
//!
//! - `0`: the command succeeded (for `status` and `status --json`: the last apply/destroy
//!   succeeded; for the display and collector formats: the payload was printed).
//! - `1`: the operation failed: terraform reported an error, the lock could not be taken in
//!   time, a state file is unreadable, the payload could not be written, or (for `status` and
//!   `status --json`) the last result is an error or missing.
//! - `2`: usage or configuration error: unknown option, bad value, missing or invalid
//!   `--config`, missing credentials, terraform binary not found.
//! - `141`: the reader of a payload (status, help, version) went away before it was printed
//!   in full (`status | head -c1`); nothing more is printed. It is 128 + SIGPIPE, what a shell
//!   reports for any tool stopped the same way.
use std::fmt;
use std::io;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

/// What a command reports when it ran to the end without an unexpected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The operation failed and the command already told the user why
    /// (on stderr and, for apply/destroy, in last-apply.json).
    Failed,
    /// The reader of the command's payload went away before it was printed in full.
    ReaderGone,
}

impl Outcome {
    /// How a command that printed `what` as its payload ends: `done` when it was written;
    /// when its reader went away, quietly [`Outcome::ReaderGone`]; when stdout failed
    /// otherwise (a full disk), an error.
    pub fn after_payload(
        what: &str,
        written: io::Result<()>,
        done: Outcome,
    ) -> anyhow::Result<Outcome> {
        match written {
            Ok(()) => Ok(done),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Outcome::ReaderGone),
            Err(e) => Err(e).with_context(|| format!("cannot write {what} to stdout")),
        }
    }
}

/// A usage or configuration error: the user has to change how they call us (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Builds a usage/configuration error (exit code 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// True when `err` (or anything in its chain) is a usage/configuration error.
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UsageError>())
}

pub fn exit_code(result: &anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::ReaderGone) => ExitCode::from(141),
        Err(err) if is_usage(err) => ExitCode::from(2),
        Err(_) => ExitCode::from(1),
    }
}

/// terraform's multi-line diagnostic as one line: the runner's errors are one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The one wording of a failed file operation: `cannot <verb> <path>: <cause>`. The caller
/// names what it was doing (`.cannot("install the config as", &target)`); the OS error is the
/// cause. A fix, where there is one, goes after a `; `.
pub trait IoContext<T> {
    fn cannot(self, verb: &str, path: &Path) -> anyhow::Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn cannot(self, verb: &str, path: &Path) -> anyhow::Result<T> {
        self.with_context(|| format!("cannot {verb} {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_documented_contract() {
        assert_eq!(exit_code(&Ok(Outcome::Success)), ExitCode::SUCCESS);
        assert_eq!(exit_code(&Ok(Outcome::Failed)), ExitCode::from(1));
        assert_eq!(
            exit_code(&Err(anyhow::anyhow!("terraform failed"))),
            ExitCode::from(1)
        );
        assert_eq!(exit_code(&Err(usage("bad flag"))), ExitCode::from(2));
        assert_eq!(exit_code(&Ok(Outcome::ReaderGone)), ExitCode::from(141));
    }

    #[test]
    fn usage_errors_survive_added_context() {
        let err = Err::<(), _>(usage("no config"))
            .context("cannot apply")
            .unwrap_err();
        assert!(is_usage(&err), "context must not hide a usage error");
        assert_eq!(exit_code(&Err(err)), ExitCode::from(2));
    }

    #[test]
    fn file_errors_read_cannot_verb_path_cause() {
        let err = std::fs::read("/nonexistent/terraform.tfstate")
            .cannot("read", Path::new("/nonexistent/terraform.tfstate"))
            .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "cannot read /nonexistent/terraform.tfstate: No such file or directory (os error 2)"
        );
    }
}
