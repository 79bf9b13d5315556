//! Everything the runner prints goes through here, and printing never panics or aborts a run.
//!
//! Progress, warnings and errors ([`outln!`], [`errln!`]) are best effort: when stdout or
//! stderr is closed or broken (a reader that went away, as in `apply 2>&1 | head -c1`, or an
//! ssh session that dropped), the text is lost and the run goes on to its end and its record.
//! A command's payload (status, help, version) goes through [`payload`], which tells the
//! caller whether it arrived.
use std::fmt;
use std::io::{self, Write};

/// Writes one line (`args` and a newline) to stdout; a write error loses the line, nothing
/// else.
pub fn out_line(args: fmt::Arguments) {
    let _ = io::stdout().lock().write_all(line(args).as_bytes());
}

/// Writes one line (`args` and a newline) to stderr; a write error loses the line, nothing
/// else.
pub fn err_line(args: fmt::Arguments) {
    let _ = io::stderr().lock().write_all(line(args).as_bytes());
}

/// Writes a command's whole payload to stdout and flushes it. The error says why it did not
/// arrive (`ErrorKind::BrokenPipe`: the reader went away).
pub fn payload(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// The formatted text and its newline, as one buffer: one write per line, so lines from
/// two threads never interleave.
fn line(args: fmt::Arguments) -> String {
    let mut text = args.to_string();
    text.push('\n');
    text
}

/// `println!` that never panics: see [`out_line`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::util::console::out_line(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics: see [`err_line`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::util::console::err_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};
