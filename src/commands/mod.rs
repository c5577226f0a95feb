//! One module per subcommand. Each turns its clap arguments into a library's options, calls
//! the library, and writes the result: data to stdout, warnings and progress to stderr.

mod doctor;
mod generate;
mod parse;
#[cfg(feature = "server")]
mod remote;
#[cfg(not(feature = "server"))]
#[path = "remote_disabled.rs"]
mod remote;
mod report;
mod results;
mod run;
mod s3;

use std::io::Write;
use std::process::ExitCode;

pub use doctor::doctor;
pub use generate::generate;
pub use parse::parse;
pub use remote::{
    cancel, login, logout, notify, register, serve, serve_json_logs, share, upload, user,
};
pub use results::results;
pub use run::run;

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

    /// A line on stderr that `--quiet` does not silence: why a command failed.
    pub fn always(&self, message: impl std::fmt::Display) {
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }

    /// Whether progress may be shown: not `--quiet`.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    fn line(&self, message: std::fmt::Arguments<'_>) {
        if !self.quiet {
            // Nothing useful can be done if stderr is gone.
            let _ = writeln!(std::io::stderr().lock(), "{message}");
        }
    }
}

/// `--percentile`, `--var-level`, `--target` and `--fail-if`, checked and resolved.
#[derive(Debug, Clone)]
pub struct StatsOptions {
    /// Extra percentiles, as fractions.
    pub percentiles: Vec<f64>,
    /// VaR/CVaR tail levels besides the 5% always reported, as fractions.
    pub risk_levels: Vec<f64>,
    /// Targets.
    pub targets: Vec<f64>,
    /// Threshold conditions, each checked to parse.
    pub fail_if: Vec<String>,
}

impl StatsOptions {
    /// Checks every `--fail-if` before any work is done, and warns about percentiles that
    /// look like fractions (`--percentile 0.05` is the 0.05th percentile, not the 5th): when
    /// every one given is below 1.
    pub fn resolve(args: &crate::cli::StatsArgs, printer: Printer) -> anyhow::Result<Self> {
        for condition in &args.fail_if {
            mcsim_results::Threshold::parse(condition)
                .map_err(|e| anyhow::anyhow!("--fail-if `{condition}`: {e}"))?;
        }
        // Values all below 1 look like fractions (`--percentile 0.05 --percentile 0.95`).
        let looks_fractional =
            |values: &[f64]| !values.is_empty() && values.iter().all(|&v| v > 0.0 && v < 0.01);
        if looks_fractional(&args.percentiles) {
            for &p in &args.percentiles {
                printer.warn(format_args!(
                    "--percentile {} is the {}th percentile: percentiles are given in percent \
                     (--percentile 5 is the 5th)",
                    report::percent(p),
                    report::percent(p)
                ));
            }
        }
        if looks_fractional(&args.var_levels) {
            for &a in &args.var_levels {
                printer.warn(format_args!(
                    "--var-level {} is a {}% tail: tail levels are given in percent \
                     (--var-level 5 is the 5% tail)",
                    report::percent(a),
                    report::percent(a)
                ));
            }
        }
        // The 5% tail is always reported; the libraries add the others to it.
        let always = mcsim_results::SummaryOptions::default().risk_levels;
        let mut risk_levels: Vec<f64> = Vec::new();
        for &a in &args.var_levels {
            if !always.contains(&a) && !risk_levels.contains(&a) {
                risk_levels.push(a);
            }
        }
        Ok(StatsOptions {
            percentiles: args.percentiles.clone(),
            risk_levels,
            targets: args.targets.clone(),
            fail_if: args.fail_if.clone(),
        })
    }
}
