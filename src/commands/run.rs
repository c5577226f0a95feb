//! `mcsim run`: simulate a workbook.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use mcsim_ops::run::{InputInfo, RunOptions, RunReport, parse_method};
use mcsim_results::SamplesFormat;

use super::report::{self, Details, num};
use super::{ExitStatus, Printer, StatsOptions};
use crate::cli::{Format, RunArgs};

/// Runs `mcsim run`.
pub fn run(args: RunArgs, printer: Printer) -> Result<ExitStatus> {
    let stats = StatsOptions::resolve(&args.stats, printer)?;
    if args.remote.is_some() {
        return super::remote::run(args, stats, printer);
    }
    let sampling = match args.sampling {
        Some(s) => Some(
            parse_method(s.name())
                .ok_or_else(|| anyhow!("sampling method `{}` is not known", s.name()))?,
        ),
        None => None,
    };
    let shard = match args.shard.as_deref() {
        None => None,
        Some("auto") => Some(
            mcsim_ops::run::Shard::from_env(args.shards, &|k| std::env::var(k).ok())
                .map_err(|m| anyhow!("{m}"))?,
        ),
        Some(text) => {
            if args.shards.is_some() {
                bail!("--shards goes with --shard auto; --shard {text} already gives the count");
            }
            Some(mcsim_ops::run::Shard::parse(text).map_err(|m| anyhow!("--shard {m}"))?)
        }
    };
    // s3:// inputs are downloaded first; an s3:// samples file is written here, uploaded after.
    let mut s3 = super::s3::S3Paths::new();
    // clap requires WORKBOOK unless --remote, which is handled before.
    let workbook_arg = args.workbook.unwrap_or_default();
    let workbook = s3.input(workbook_arg.clone())?;
    let config = args.config.map(|c| s3.input(c)).transpose()?;
    // A shard's accumulators: --stats, else beside an --out file.
    let stats_arg = match (&args.stats_file, &args.out) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(out)) if shard.is_some() && out.as_os_str() != "-" => Some(beside(out)),
        _ => None,
    };
    let stats_out = stats_arg.map(|p| s3.output(p)).transpose()?;
    let (out, out_url) = match args.out {
        Some(path) => {
            let (local, url) = s3.output(path)?;
            (Some(local), url)
        }
        None => (None, None),
    };
    let options = RunOptions {
        workbook,
        config,
        iterations: args.iterations,
        seed: args.seed,
        sampling,
        threads: args.threads,
        backend: match args.backend {
            crate::cli::BackendArg::Auto => mcsim_ops::run::BackendChoice::Auto,
            crate::cli::BackendArg::Cpu => mcsim_ops::run::BackendChoice::Cpu,
            crate::cli::BackendArg::Cuda => mcsim_ops::run::BackendChoice::Cuda,
        },
        devices: args.devices.unwrap_or_default(),
        out,
        out_format: args.out_format.map(|f| f.format()),
        sets: args.sets,
        outputs: args.outputs,
        percentiles: stats.percentiles.clone(),
        risk_levels: stats.risk_levels,
        targets: stats.targets,
        until_converged: args.until_converged,
        memory: args.memory,
        shard,
        fail_if: stats.fail_if,
        load: args.load.options(),
        save_as: args.save_as,
        workbook_name: mcsim_s3::is_s3(&workbook_arg)
            .then(|| workbook_arg.to_string_lossy().into_owned()),
    };

    if options.out.as_deref() == Some(Path::new("-"))
        && options.out_format != Some(SamplesFormat::Csv)
        && io::stdout().is_terminal()
    {
        bail!(
            "--out - writes binary samples to stdout, which is a terminal: pipe it \
             (`| mcsim results -`), redirect it, or add --out-format csv"
        );
    }

    let bar = progress_bar(printer);
    let progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    // This process exits once the report is out.
    mcsim_ops::run::exit_after_run();
    let outcome = mcsim_ops::run::run(&options, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut report = outcome.map_err(|e| s3.rename_error(e.into()))?;
    if let (Some(url), Some(local)) = (&out_url, &options.out) {
        s3.upload(local, url)?;
        report.samples_file = Some(url.to_string());
    }
    if mcsim_s3::is_s3(&workbook_arg) {
        report.workbook = workbook_arg.to_string_lossy().into_owned();
    }
    if let (Some((local, url)), Some(acc)) = (&stats_out, &mut report.accumulators) {
        acc.write(local).map_err(|e| s3.rename_error(e.into()))?;
        if let Some(url) = url {
            s3.upload(local, url)?;
        }
    }

    for warning in &report.warnings {
        printer.warn(s3.rename(warning));
    }
    // With the samples on stdout (`--out -`), the report goes to stderr unless --report says where.
    let samples_on_stdout = options.out.as_deref() == Some(Path::new("-"));
    let sink: Box<dyn Write> = match &args.report {
        Some(path) => Box::new(
            File::create(path)
                .with_context(|| format!("cannot create the report file {}", path.display()))?,
        ),
        None if samples_on_stdout => Box::new(io::stderr().lock()),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(sink);
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report)
                .context("cannot encode the report as JSON")?;
            writeln!(out, "{json}")?;
        }
        Format::Table => write_table(&mut out, &report, &stats.percentiles, args.top)?,
    }
    out.flush()?;

    if report.failed() {
        report::report_failures(printer, &report.thresholds);
        Ok(ExitStatus::Failure)
    } else {
        Ok(ExitStatus::Success)
    }
}

/// The accumulator file beside a shard's samples file: `shard-0.parquet` -> `shard-0.stats.json`
/// (also for s3:// URLs).
fn beside(out: &Path) -> std::path::PathBuf {
    let text = out.to_string_lossy();
    let name_at = text.rfind('/').map_or(0, |i| i + 1);
    let stem_end = text[name_at..]
        .rfind('.')
        .filter(|&i| i > 0)
        .map_or(text.len(), |i| name_at + i);
    std::path::PathBuf::from(format!("{}.stats.json", &text[..stem_end]))
}

/// A progress bar on stderr, only on a terminal and without `--quiet`.
fn progress_bar(printer: Printer) -> Option<ProgressBar> {
    if printer.is_quiet() || !io::stderr().is_terminal() {
        return None;
    }
    let style = ProgressStyle::with_template(
        "{bar:30} {human_pos}/{human_len} iterations  {rate}  ETA {eta}",
    )
    .ok()?
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} it/s", state.per_sec());
        },
    )
    .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(style);
    Some(bar)
}

/// The summary for people.
fn write_table(
    out: &mut impl Write,
    report: &RunReport,
    extra_percentiles: &[f64],
    top: usize,
) -> io::Result<()> {
    writeln!(out, "Run")?;
    writeln!(out, "  workbook     {}", report.workbook)?;
    writeln!(out, "  iterations   {}", report.iterations)?;
    writeln!(out, "  seed         {}", report.seed)?;
    writeln!(
        out,
        "  sampling     {}",
        match report.sampling {
            "mc" => "mc (Monte Carlo)",
            _ => "lhs (Latin Hypercube)",
        }
    )?;
    writeln!(out, "  threads      {}", report.threads)?;
    match &report.backend_note {
        Some(note) => writeln!(out, "  backend      {} ({note})", report.backend)?,
        None => writeln!(out, "  backend      {}", report.backend)?,
    }
    writeln!(out, "  evaluation   {}", report.evaluation)?;
    writeln!(
        out,
        "  elapsed      {:.2} s ({} iterations/s)",
        report.elapsed_seconds,
        report.iterations_per_second.round()
    )?;
    if report.statistics_mode == mcsim_ops::run::StatisticsMode::Streaming {
        writeln!(
            out,
            "  statistics   streaming ({} passes; beyond --memory: exact moments and percentiles, rank correlations from estimated ranks)",
            report.simulation_passes
        )?;
    }
    if let Some(converged) = report.converged {
        writeln!(
            out,
            "  converged    {}",
            if converged {
                format!("yes, after {} iterations", report.iterations)
            } else {
                format!("no, stopped at {} iterations", report.iterations)
            }
        )?;
    }
    if let Some(file) = &report.samples_file {
        let file = if file == "-" { "stdout" } else { file };
        writeln!(out, "  samples      {file}")?;
    }
    if let Some(file) = &report.saved_as {
        writeln!(out, "  saved as     {file}")?;
    }

    writeln!(out)?;
    writeln!(out, "Inputs ({})", report.inputs.len())?;
    let rows: Vec<Vec<String>> = report
        .inputs
        .iter()
        .map(|i| {
            // The cell column only when the name is not the cell itself.
            let cell = if i.name == i.cell {
                ""
            } else {
                i.cell.as_str()
            };
            vec![i.name.clone(), cell.to_owned(), describe_input(i)]
        })
        .collect();
    report::write_table(
        out,
        &["input", "cell", "distribution"],
        &[report::Align::Left; 3],
        &rows,
    )?;

    writeln!(out)?;
    writeln!(out, "Outputs ({})", report.outputs.len())?;
    report::write_statistics(
        out,
        report.outputs.iter().map(|o| (o.name.as_str(), &o.summary)),
    )?;

    for o in &report.outputs {
        writeln!(out)?;
        report::write_details(
            out,
            &Details {
                name: &o.name,
                cell: Some(&o.cell),
                summary: &o.summary,
                sensitivity: o.sensitivity.as_ref(),
                extra_percentiles,
                no_sensitivity: if o.deterministic {
                    "the output depends on no uncertain input"
                } else {
                    "not computed"
                },
                top,
            },
        )?;
    }
    if !report.statistics.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Statistics cells ({}): their values after the simulation",
            report.statistics.len()
        )?;
        let rows: Vec<Vec<String>> = report
            .statistics
            .iter()
            .map(|s| vec![s.cell.clone(), s.formula.clone(), value(&s.value)])
            .collect();
        report::write_table(
            out,
            &["cell", "formula", "value"],
            &[
                report::Align::Left,
                report::Align::Left,
                report::Align::Right,
            ],
            &rows,
        )?;
    }
    for sim in &report.simulations {
        writeln!(out)?;
        let values: Vec<String> = sim
            .values
            .iter()
            .map(|(c, v)| format!("{c} = {}", value(v)))
            .collect();
        writeln!(
            out,
            "Simulation {} of {} ({})",
            sim.simulation,
            report.simulations.len(),
            values.join(", ")
        )?;
        report::write_statistics(
            out,
            sim.outputs.iter().map(|o| (o.name.as_str(), &o.summary)),
        )?;
    }
    report::write_thresholds(out, &report.thresholds)
}

/// `normal(mean=55, sd=5)`, with truncation and shift when present.
fn describe_input(input: &InputInfo) -> String {
    let Some(dist) = &input.distribution else {
        return "-".to_owned();
    };
    // Through a JSON string, to keep the parameters in their declared (@RISK) order.
    let fields = serde_json::to_string(dist)
        .ok()
        .and_then(|json| serde_json::from_str::<Fields>(&json).ok())
        .map(|f| f.0)
        .unwrap_or_default();
    let kind = fields
        .iter()
        .find(|(k, _)| k == "type")
        .and_then(|(_, v)| v.as_str())
        .unwrap_or("?");
    let params: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k != "type")
        .map(|(k, v)| format!("{k}={}", value(v)))
        .collect();
    let mut text = format!("{kind}({})", params.join(", "));
    if let Some(m) = &input.modifiers {
        if let Some(t) = &m.truncate {
            let bound = |b: Option<f64>| b.map_or_else(|| "..".to_owned(), num);
            text.push_str(&format!(
                " truncated to [{}, {}]",
                bound(t.min),
                bound(t.max)
            ));
        }
        if m.shift != 0.0 {
            text.push_str(&format!(" shifted by {}", num(m.shift)));
        }
    }
    text
}

/// A distribution parameter: numbers compact, lists in braces.
fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), num),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value).collect();
            format!("{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A JSON object's fields in document order.
struct Fields(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
