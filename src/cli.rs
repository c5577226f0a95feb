//! The command line, as clap types. Nothing here does any work: `commands/` turns these
//! arguments into a library's options and calls it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mcsim_workbook::LoadOptions;

/// Headless Monte Carlo simulation of Excel workbooks.
#[derive(Debug, Parser)]
#[command(
    name = "mcsim",
    version,
    about = "Headless Monte Carlo simulation of Excel workbooks",
    long_about = "Headless Monte Carlo simulation of Excel workbooks.\n\n\
        mcsim reads .xlsx/.xlsm workbooks and evaluates their formulas with Excel's semantics, \
        without Excel.",
    after_help = "Exit status: 0 success, 1 completed but the result is a failure, 2 error.",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print no warnings or progress on stderr (errors are still printed).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a workbook: sheets, functions, unsupported functions, parse errors, circular
    /// references; with `--recalc`, recalculate it and compare with Excel's stored values.
    #[command(
        long_about = "Check a workbook: sheets, formula counts, the functions it uses, functions mcsim \
            does not implement (and the cells using them), formulas that do not parse, and circular \
            references.\n\n\
            With --recalc, every formula cell is recalculated and compared with the value Excel \
            stored in the file: numbers must agree within 1e-9 relative (1e-12 absolute), text, \
            booleans and errors exactly. Cells whose formula calls a volatile function (RAND, NOW, \
            TODAY, ...) and cells without a stored value (files written by openpyxl and similar \
            tools) are listed but not compared.",
        after_long_help = "Exit status:\n  \
            0  the workbook was read (and, with --recalc, every compared cell matched)\n  \
            1  --recalc found cells whose computed value differs from the stored one\n  \
            2  error: the file is missing, not an .xlsx/.xlsm workbook, damaged, or over a limit\n\n\
            Examples:\n  \
            mcsim parse model.xlsx\n  \
            mcsim parse --recalc --show 20 model.xlsx\n  \
            mcsim parse --recalc --format json model.xlsx > report.json"
    )]
    Parse(ParseArgs),

    /// Write the man pages and shell completions (for packagers and the repository).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people.
    Table,
    /// The full report as one JSON document (for scripts).
    Json,
}

/// Arguments of `mcsim parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The workbook (.xlsx or .xlsm).
    #[arg(value_name = "WORKBOOK")]
    pub workbook: PathBuf,

    /// Output format: `table` prints a summary; `json` prints the whole report, including
    /// every formula cell with `--recalc`, to stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Recalculate every formula cell and compare with the values stored in the file; exit
    /// with status 1 if any compared cell differs.
    #[arg(long)]
    pub recalc: bool,

    /// How many mismatching cells, top functions and cells per unsupported function to list
    /// in `table` format (`json` always lists all).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub show: usize,

    /// Refuse a workbook whose parts would decompress to more than this many bytes
    /// (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix.
    #[arg(
        long,
        value_name = "BYTES",
        value_parser = parse_bytes,
        default_value = "1GiB"
    )]
    pub max_decompressed_bytes: u64,

    /// Refuse a workbook whose zip archive has more than this many entries.
    #[arg(
        long,
        value_name = "N",
        visible_alias = "max-entries",
        default_value_t = LoadOptions::default().max_entries
    )]
    pub max_zip_entries: usize,

    /// Refuse a workbook with a part over 1 MiB compressed more than this ratio to one.
    #[arg(long, value_name = "RATIO", default_value_t = LoadOptions::default().max_entry_ratio)]
    pub max_entry_ratio: u64,
}

/// Arguments of `mcsim generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Do not write: compare with the files already in the directory and exit with status 1
    /// if any is missing or different.
    #[arg(long, global = true)]
    pub check: bool,

    /// What to generate.
    #[command(subcommand)]
    pub what: GenerateWhat,
}

/// What `mcsim generate` writes.
#[derive(Debug, Subcommand)]
pub enum GenerateWhat {
    /// Man pages (`mcsim.1` and one per subcommand) into DIR.
    Man {
        /// The directory.
        dir: PathBuf,
    },
    /// The completion script for SHELL (or every shell, with `all`) into DIR.
    Completions {
        /// The shell, or `all`.
        shell: ShellChoice,
        /// The directory.
        dir: PathBuf,
    },
    /// Both, into ROOT/man and ROOT/completions: `cargo run -- generate all .` refreshes the
    /// repository's copies.
    All {
        /// The directory holding `man/` and `completions/`.
        #[arg(default_value = ".")]
        root: PathBuf,
    },
}

/// A shell, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellChoice {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
    /// Every shell above.
    All,
}

/// Parses a byte count: `1048576`, `512KiB`, `64MiB`, `1GiB` (also `K`, `M`, `G`, binary).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a byte count (examples: 1048576, 64MiB, 1GiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use a plain number of bytes, or KiB, MiB, GiB)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("100"), Ok(100));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1gib"), Ok(1 << 30));
        assert_eq!(parse_bytes("2K"), Ok(2048));
        assert!(parse_bytes("").is_err());
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("99999999999999999999").is_err());
        assert!(parse_bytes("99999999999G").is_err());
    }
}
