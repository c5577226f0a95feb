//! `mcsim`: the command line. It parses arguments, sets up logging, runs one command from
//! `commands/` and turns its outcome into an exit status. The work itself is done by the
//! library crates (`mcsim-ops` and below).

mod cli;
mod commands;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::commands::{ExitStatus, Printer};

fn main() -> ExitCode {
    // Usage errors exit with status 2, `--help` and `--version` with 0 (clap's convention).
    let cli = Cli::try_parse().unwrap_or_else(|err| err.exit());
    let json = matches!(&cli.command, Command::Serve(args) if commands::serve_json_logs(args));
    init_logging(cli.global.verbose, cli.global.quiet, json);
    let printer = Printer::new(cli.global.quiet);

    let result = match cli.command {
        Command::Parse(args) => commands::parse(args, printer),
        Command::Run(args) => commands::run(args, printer),
        Command::Results(args) => commands::results(args, printer),
        Command::Serve(args) => commands::serve(args, printer),
        Command::Register(args) => commands::register(args, printer),
        Command::Login(args) => commands::login(args, printer),
        Command::Logout(args) => commands::logout(args, printer),
        Command::User(command) => commands::user(command, printer),
        Command::Upload(args) => commands::upload(args, printer),
        Command::Share(args) => commands::share(args, printer),
        Command::Notify(args) => commands::notify(args, printer),
        Command::Cancel(args) => commands::cancel(args, printer),
        Command::Doctor => commands::doctor(printer),
        Command::Generate(args) => commands::generate(args, printer),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitStatus::Success.into(),
        Err(err) => {
            report_error(&err);
            ExitStatus::Error.into()
        }
    }
}

/// Logs to stderr: warnings by default, `-v` debug, `-vv` trace, `-q` errors only;
/// `RUST_LOG` overrides all of these. Colour only on a terminal and without `NO_COLOR`. `json`
/// (`mcsim serve --log-format json`): one JSON object per line.
fn init_logging(verbose: u8, quiet: bool, json: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return;
    }
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
}

/// Prints the error and its causes on one line: `error: cannot read 'x.xlsx': No such file ...`.
#[allow(clippy::print_stderr)]
fn report_error(err: &anyhow::Error) {
    eprintln!("error: {}", one_line(err));
}

/// The error and its causes, `: `-separated, on one line: a cause whose text the message
/// already ends with is not repeated, and a multi-line message (a TOML error with its source
/// snippet) keeps its text lines but not the snippet.
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let message = flatten(&cause.to_string());
        if message.is_empty() || text.ends_with(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// Joins a message's lines with `: `, leaving out source-snippet lines (`  |`, `2 | x = 1`).
fn flatten(message: &str) -> String {
    let is_snippet = |line: &str| {
        let rest = line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit());
        rest.trim_start().starts_with('|')
    };
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_snippet(line))
        .collect::<Vec<_>>()
        .join(": ")
}

/// Was this a write to a closed pipe (`mcsim parse ... | head`)? That is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_on_one_line() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = anyhow::Error::new(io).context("x.xlsx: gone");
        assert_eq!(one_line(&err), "x.xlsx: gone");
        let err = anyhow::anyhow!(
            "m.toml: TOML parse error at line 2, column 1\n  |\n2 | seeed = 3\n  | ^^^^^\n\
             unknown field `seeed`\n"
        );
        assert_eq!(
            one_line(&err),
            "m.toml: TOML parse error at line 2, column 1: unknown field `seeed`"
        );
        let err = anyhow::anyhow!("inner").context("outer");
        assert_eq!(one_line(&err), "outer: inner");
    }
}
