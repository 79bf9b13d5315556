//! Layer 5: the command line. `parse` turns argv into [`Command`] and [`Options`]; `main`
//! dispatches to one command and reports the single error, once.
pub mod help;
pub mod parse;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Result;

use crate::commands::{apply, backup_restore, init_plan, status};
use crate::config::options::{Command, Options};
use crate::util::console::{self, errln};
use crate::util::outcome::{self, Outcome};
use crate::util::{atomic, scrub, sys};

/// The whole program: parse, run one command, print the error (if any) and map the result to
/// the exit code (`util/outcome.rs`).
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    atomic::restrict_umask();
    // Nothing this process inherited reaches terraform; a secret handed over as /dev/fd/N is
    // read through a descriptor of its own (util/regular.rs).
    sys::close_inherited_on_exec();
    let result = parse::parse(args, |name| std::env::var_os(name))
        .and_then(|cli| dispatch(cli.command, &cli.options));
    if let Err(err) = &result {
        // A usage error too: it may echo a key pasted where an argument goes.
        errln!("error: {}", scrub::redact_tokens(&format!("{err:#}")));
    }
    outcome::exit_code(&result)
}

fn dispatch(command: Command, opts: &Options) -> Result<Outcome> {
    match command {
        Command::Help => {
            Outcome::after_payload("the help", console::payload(help::HELP), Outcome::Success)
        }
        Command::Version => {
            let version = console::payload(&format!("{}\n", help::VERSION));
            Outcome::after_payload("the version", version, Outcome::Success)
        }
        Command::Init => init_plan::init(opts),
        Command::Plan => init_plan::plan(opts),
        Command::Action(action) => apply::apply(opts, action),
        Command::BackupState => backup_restore::backup_state(opts),
        Command::RestoreState { file, force } => {
            backup_restore::restore_state(opts, file.as_deref(), force)
        }
        Command::Status(format) => status::show(opts, format),
    }
}
