//! One module per subcommand. Each turns its clap arguments into a library's options, calls
//! the library, and writes the result: data to stdout, warnings and progress to stderr.

mod generate;
mod parse;

use std::io::Write;
use std::process::ExitCode;

pub use generate::generate;
pub use parse::parse;

/// How a command ended; the process's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It did what was asked and the result is good (exit 0).
    Success,
    /// It completed, but the result says fail, e.g. recalculated values differ from the
    /// stored ones (exit 1).
    Failure,
    /// It could not complete: bad input, I/O, a limit (exit 2).
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

/// Writes warnings and progress to stderr, unless `--quiet`.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
}

impl Printer {
    /// A printer; `quiet` silences it.
    pub fn new(quiet: bool) -> Self {
        Printer { quiet }
    }

    /// `warning: {message}` on stderr.
    pub fn warn(&self, message: impl std::fmt::Display) {
        self.line(format_args!("warning: {message}"));
    }

    /// A line of progress or information on stderr.
    pub fn info(&self, message: impl std::fmt::Display) {
        self.line(format_args!("{message}"));
    }

    fn line(&self, message: std::fmt::Arguments<'_>) {
        if !self.quiet {
            // Nothing useful can be done if stderr is gone.
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
    }
}
