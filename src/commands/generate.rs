//! `mcsim generate` (hidden): man pages and shell completions, generated from the clap
//! definition in `cli.rs`, so they never drift from the real command line. The repository's
//! copies in `man/` and `completions/` are refreshed with `cargo run -- generate all` and
//! checked by a test.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::{Generator, Shell};

use super::{ExitStatus, Printer};
use crate::cli::{Cli, GenerateArgs, GenerateWhat, ShellChoice};

/// The name the completion scripts complete.
const BIN: &str = "mcsim";

/// Runs `mcsim generate`.
pub fn generate(args: GenerateArgs, printer: Printer) -> Result<ExitStatus> {
    let files: Vec<(PathBuf, Vec<u8>)> = match &args.what {
        GenerateWhat::Man { dir } => in_dir(dir, man_pages()?),
        GenerateWhat::Completions { shell, dir } => in_dir(dir, completions(*shell)),
        GenerateWhat::All { root } => {
            let mut files = in_dir(&root.join("man"), man_pages()?);
            files.extend(in_dir(
                &root.join("completions"),
                completions(ShellChoice::All),
            ));
            files
        }
    };

    if args.check {
        let mut stale = 0;
        for (path, content) in &files {
            match fs::read(path) {
                Ok(existing) if existing == *content => {}
                Ok(_) => {
                    stale += 1;
                    printer.warn(format_args!("{} is out of date", path.display()));
                }
                Err(_) => {
                    stale += 1;
                    printer.warn(format_args!("{} is missing", path.display()));
                }
            }
        }
        if stale > 0 {
            printer.info("hint: run `cargo run -- generate all` to refresh them");
            return Ok(ExitStatus::Failure);
        }
        printer.info(format_args!(
            "{} generated files are up to date",
            files.len()
        ));
        return Ok(ExitStatus::Success);
    }

    for (path, content) in &files {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory '{}'", dir.display()))?;
        }
        fs::write(path, content).with_context(|| format!("cannot write '{}'", path.display()))?;
        printer.info(format_args!("wrote {}", path.display()));
    }
    Ok(ExitStatus::Success)
}

fn in_dir(dir: &Path, files: Vec<(String, Vec<u8>)>) -> Vec<(PathBuf, Vec<u8>)> {
    files
        .into_iter()
        .map(|(name, content)| (dir.join(name), content))
        .collect()
}

/// `mcsim.1` and one page per visible subcommand (`mcsim-parse.1`).
fn man_pages() -> Result<Vec<(String, Vec<u8>)>> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
        let man = clap_mangen::Man::new(cmd.clone());
        let mut page = Vec::new();
        man.render(&mut page)
            .context("cannot render the man page")?;
        out.push((man.get_filename(), page));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command();
    cmd.build();
    let mut pages = Vec::new();
    walk(&cmd, &mut pages)?;
    Ok(pages)
}

/// The completion script of one shell, or of every shell.
fn completions(choice: ShellChoice) -> Vec<(String, Vec<u8>)> {
    let shells: &[Shell] = match choice {
        ShellChoice::Bash => &[Shell::Bash],
        ShellChoice::Zsh => &[Shell::Zsh],
        ShellChoice::Fish => &[Shell::Fish],
        ShellChoice::Elvish => &[Shell::Elvish],
        ShellChoice::Powershell => &[Shell::PowerShell],
        ShellChoice::All => &[
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ],
    };
    shells
        .iter()
        .map(|shell| {
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut cmd, BIN, &mut script);
            (shell.file_name(BIN), script)
        })
        .collect()
}
