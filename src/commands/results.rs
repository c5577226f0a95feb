//! `mcsim results`: statistics, sensitivities, comparisons and charts from a samples file.

use std::io::{self, BufWriter, IsTerminal, Write};

use anyhow::{Context, Result, bail};
use mcsim_ops::results::{Chart, ComparisonReport, PlotRequest, ResultsOptions, ResultsReport};

use super::report::{self, Align, Details, csv_field, csv_number, num, percentile_label};
use super::{ExitStatus, Printer, StatsOptions};
use crate::cli::{PlotKind, ResultsArgs, ResultsFormat};

/// Runs `mcsim results`.
pub fn results(args: ResultsArgs, printer: Printer) -> Result<ExitStatus> {
    if args.remote.is_some() {
        return super::remote::results(args, printer);
    }
    let stats = StatsOptions::resolve(&args.stats, printer)?;
    // clap requires FILE unless --remote, which is handled before.
    if args.files.is_empty() {
        bail!("give a samples file");
    }
    // s3:// samples files and shards are downloaded first; an s3:// --out is uploaded after.
    let mut s3 = super::s3::S3Paths::new();
    let merging = args.files[0].as_os_str() == "merge";
    let (file, shown_file) = if merging {
        if args.files.len() < 2 {
            bail!(
                "results merge: give the shards' samples files or accumulator files (paths or patterns such as 'shard-*.parquet')"
            );
        }
        let (local_out, out_url) = match args.out.clone() {
            Some(out) => {
                let (local, url) = s3.output(out)?;
                (Some(local), url)
            }
            None => (None, None),
        };
        let files = s3.shards(&args.files[1..], out_url.as_ref())?;
        let (samples, accumulators) =
            mcsim_ops::merge::split_files(&files).map_err(|e| s3.rename_error(e.into()))?;
        if samples.is_empty() {
            return merge_accumulators(
                &args,
                &stats,
                printer,
                &mut s3,
                &accumulators,
                local_out.as_deref(),
                out_url.as_ref(),
            );
        }
        // With the samples, the merge is exact; accumulator files given too are not needed.
        let (Some(local_out), Some(out)) = (local_out, args.out.clone()) else {
            bail!("results merge: name the merged samples file with --out FILE");
        };
        let merged = mcsim_ops::merge::merge(&mcsim_ops::merge::MergeOptions {
            shards: samples,
            out: local_out.clone(),
            out_format: args.out_format.map(|f| f.format()),
        })
        .map_err(|e| s3.rename_error(e.into()))?;
        if let Some(url) = &out_url {
            s3.upload(&local_out, url)?;
        }
        printer.info(format_args!(
            "merged {} shards ({} iterations) into {}",
            merged.shards,
            merged.iterations,
            out.display()
        ));
        (local_out, out)
    } else {
        if args.files.len() > 1 {
            bail!(
                "give one samples file (to join a sharded run's files: mcsim results merge SHARD... --out FILE)"
            );
        }
        if args.out.is_some() {
            bail!("--out goes with `mcsim results merge SHARD... --out FILE`");
        }
        (s3.input(args.files[0].clone())?, args.files[0].clone())
    };
    let (compare, shown_compare) = match args.compare {
        Some(path) => (Some(s3.input(path.clone())?), Some(path)),
        None => (None, None),
    };
    let plot = match (args.plot, args.to) {
        (Some(kind), Some(path)) => Some(PlotRequest {
            chart: match kind {
                PlotKind::Histogram => Chart::Histogram,
                PlotKind::Cdf => Chart::Cdf,
                PlotKind::Tornado => Chart::Tornado,
            },
            path,
        }),
        // clap requires --plot and --to together.
        _ => None,
    };
    let reads_stdin = |p: &std::path::Path| p.as_os_str() == "-";
    if (reads_stdin(&file) || compare.as_deref().is_some_and(reads_stdin))
        && io::stdin().is_terminal()
    {
        bail!(
            "`-` reads samples from stdin, which is a terminal: pipe them in (`mcsim run WB --out - | mcsim results -`)"
        );
    }
    let options = ResultsOptions {
        path: file,
        in_format: args.in_format.map(|f| f.format()),
        output: args.output,
        compare,
        percentiles: stats.percentiles.clone(),
        risk_levels: stats.risk_levels,
        targets: stats.targets,
        fail_if: stats.fail_if,
        plot,
    };
    let mut report =
        mcsim_ops::results::results(&options).map_err(|e| s3.rename_error(e.into()))?;
    // Name the files as given (an s3:// URL, not its downloaded copy).
    if mcsim_s3::is_s3(&shown_file) {
        report.file = shown_file.to_string_lossy().into_owned();
    }
    if let (Some(c), Some(shown)) = (&mut report.comparison, &shown_compare)
        && mcsim_s3::is_s3(shown)
    {
        c.file = shown.to_string_lossy().into_owned();
    }

    for warning in &report.warnings {
        printer.warn(s3.rename(warning));
    }
    if let Some(chart) = &report.chart {
        printer.info(format_args!(
            "wrote {} of `{}` to {}",
            match chart.chart {
                Chart::Histogram => "a histogram",
                Chart::Cdf => "a CDF",
                Chart::Tornado => "a tornado chart",
            },
            chart.output,
            chart.path
        ));
    }

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        ResultsFormat::Json => {
            // A merge of samples files says how its statistics were computed.
            #[derive(serde::Serialize)]
            struct Merged<'a> {
                mode: &'static str,
                #[serde(flatten)]
                report: &'a ResultsReport,
            }
            let json = if merging {
                serde_json::to_string_pretty(&Merged {
                    mode: "exact",
                    report: &report,
                })
            } else {
                serde_json::to_string_pretty(&report)
            }
            .context("cannot encode the report as JSON")?;
            writeln!(out, "{json}")?;
        }
        ResultsFormat::Csv => match &report.comparison {
            Some(comparison) => write_comparison_csv(&mut out, comparison)?,
            None => write_statistics_csv(&mut out, &report)?,
        },
        ResultsFormat::Table => write_table(&mut out, &report, &stats.percentiles, args.top)?,
    }
    out.flush()?;

    if report.failed() {
        report::report_failures(printer, &report.thresholds);
        Ok(ExitStatus::Failure)
    } else {
        Ok(ExitStatus::Success)
    }
}

/// The summary for people.
fn write_table(
    out: &mut impl Write,
    report: &ResultsReport,
    extra_percentiles: &[f64],
    top: usize,
) -> io::Result<()> {
    writeln!(out, "Samples")?;
    writeln!(
        out,
        "  file         {} ({}, {} rows)",
        shown(&report.file),
        report.format,
        report.rows
    )?;
    let run = &report.run;
    if let Some(workbook) = &run.workbook {
        writeln!(out, "  workbook     {workbook}")?;
    }
    if let Some(seed) = run.seed {
        writeln!(out, "  seed         {seed}")?;
    }
    if let Some(sampling) = &run.sampling {
        writeln!(out, "  sampling     {sampling}")?;
    }
    if let Some(version) = &run.version {
        writeln!(out, "  written by   mcsim {version}")?;
    }
    writeln!(
        out,
        "  inputs       {}",
        if report.inputs.is_empty() {
            "none".to_owned()
        } else {
            report.inputs.join(", ")
        }
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
                cell: None,
                summary: &o.summary,
                sensitivity: o.sensitivity.as_ref(),
                extra_percentiles,
                no_sensitivity: if report.inputs.is_empty() {
                    "the file has no input columns"
                } else {
                    "the output does not vary"
                },
                top,
            },
        )?;
    }

    if let Some(c) = &report.comparison {
        write_comparison(out, report, c)?;
    }
    report::write_thresholds(out, &report.thresholds)
}

fn write_comparison(
    out: &mut impl Write,
    report: &ResultsReport,
    c: &ComparisonReport,
) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Comparison: B = {} ({} rows) against A = {} ({} rows); differences are B - A",
        shown(&c.file),
        c.rows,
        shown(&report.file),
        report.rows
    )?;
    let rows: Vec<Vec<String>> = c
        .outputs
        .iter()
        .map(|o| {
            let k = &o.comparison;
            vec![
                o.output.clone(),
                num(k.mean_a),
                num(k.mean_b),
                num(k.mean_diff),
                num(k.std_error_diff),
                format!("{:.2}", k.welch_t),
                if k.mean_differs { "YES" } else { "no" }.to_owned(),
                k.ks.map_or_else(|| "-".to_owned(), |ks| format!("{:.4}", ks.statistic)),
                k.ks.map_or_else(|| "-".to_owned(), |ks| format!("{:.4}", ks.p_value)),
            ]
        })
        .collect();
    let mut align = vec![Align::Right; 9];
    align[0] = Align::Left;
    align[6] = Align::Left;
    report::write_table(
        out,
        &[
            "output", "mean A", "mean B", "diff", "std err", "t", "differs", "KS D", "KS p",
        ],
        &align,
        &rows,
    )?;
    for o in &c.outputs {
        let diffs: Vec<String> = o
            .comparison
            .percentiles
            .iter()
            .filter(|p| [0.05, 0.5, 0.95].iter().any(|q| (q - p.p).abs() < 1e-12))
            .map(|p| {
                let sign = if p.diff > 0.0 { "+" } else { "" };
                format!("{} {sign}{}", percentile_label(p.p), num(p.diff))
            })
            .collect();
        if !diffs.is_empty() {
            writeln!(
                out,
                "  {}: percentile differences {}",
                o.output,
                diffs.join("  ")
            )?;
        }
    }
    writeln!(out)?;
    if c.differing.is_empty() {
        writeln!(
            out,
            "Result: no significant difference: no output's mean differs by more than Monte \
             Carlo error (Welch's t-test, 5%)"
        )
    } else {
        writeln!(
            out,
            "Result: the mean of {} differs by more than Monte Carlo error (Welch's t-test, 5%)",
            c.differing.join(", ")
        )
    }
}

/// `mcsim results merge` of accumulator files only (`mcsim run --shard I/N --stats FILE`): the
/// run's statistics without its samples (exact moments, percentiles with brackets).
#[allow(clippy::too_many_arguments)]
fn merge_accumulators(
    args: &ResultsArgs,
    stats: &StatsOptions,
    printer: Printer,
    s3: &mut super::s3::S3Paths,
    files: &[std::path::PathBuf],
    local_out: Option<&std::path::Path>,
    out_url: Option<&mcsim_s3::S3Url>,
) -> Result<ExitStatus> {
    if args.compare.is_some() || args.plot.is_some() || !stats.fail_if.is_empty() {
        bail!(
            "results merge of accumulator files gives statistics only: --compare, --plot and --fail-if need the samples (merge the shards' samples files)"
        );
    }
    if let Some(out) = local_out
        && !mcsim_ops::merge::is_accumulator_file(out)
    {
        bail!(
            "results merge: accumulator files merge into statistics, not samples: give --out FILE.json, or the shards' samples files to merge samples"
        );
    }
    let mut options = mcsim_results::SummaryOptions::default();
    options.percentiles.clone_from(&stats.percentiles);
    options.risk_levels.clone_from(&stats.risk_levels);
    options.targets.clone_from(&stats.targets);
    let mut report = mcsim_ops::merge::merge_accumulators(files, &options)
        .map_err(|e| s3.rename_error(e.into()))?;
    for f in &mut report.files {
        *f = s3.rename(f);
    }
    if let Some(name) = &args.output {
        report.outputs.retain(|o| &o.name == name);
        if report.outputs.is_empty() {
            bail!("results merge: the shards have no output `{name}`");
        }
    }
    for warning in &report.warnings {
        printer.warn(warning);
    }
    let json = serde_json::to_string_pretty(&report).context("cannot encode the report as JSON")?;
    if let Some(local) = local_out {
        std::fs::write(local, format!("{json}\n"))
            .with_context(|| format!("cannot write {}", local.display()))?;
        if let Some(url) = out_url {
            s3.upload(local, url)?;
        }
    }
    printer.info(format_args!(
        "merged the accumulators of {} shards ({} iterations)",
        report.shards, report.iterations
    ));
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        ResultsFormat::Json => writeln!(out, "{json}")?,
        ResultsFormat::Csv => write_merged_csv(&mut out, &report)?,
        ResultsFormat::Table => write_merged_table(&mut out, &report)?,
    }
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// The merged statistics for people.
fn write_merged_table(
    out: &mut impl Write,
    report: &mcsim_ops::merge::AccumulatorReport,
) -> io::Result<()> {
    writeln!(out, "Merged accumulators")?;
    writeln!(out, "  shards       {}", report.shards)?;
    writeln!(out, "  iterations   {}", report.iterations)?;
    writeln!(out, "  workbook     {}", report.workbook)?;
    writeln!(out, "  seed         {}", report.seed)?;
    writeln!(out, "  sampling     {}", report.sampling)?;
    writeln!(
        out,
        "  mode         merged-accumulators: moments, min, max, errors and targets exact; percentiles estimated, the exact value within [low, high]"
    )?;
    for o in &report.outputs {
        let s = &o.summary;
        writeln!(out)?;
        writeln!(out, "{}", o.name)?;
        let rows = vec![
            vec!["n".to_owned(), s.n.to_string()],
            vec!["errors".to_owned(), s.errors.to_string()],
            vec!["mean".to_owned(), num(s.mean)],
            vec!["std dev".to_owned(), num(s.std_dev)],
            vec!["min".to_owned(), num(s.min)],
            vec!["max".to_owned(), num(s.max)],
            vec!["skewness".to_owned(), num(s.skewness)],
            vec!["kurtosis".to_owned(), num(s.kurtosis)],
        ];
        report::write_table(
            out,
            &["statistic", "value"],
            &[Align::Left, Align::Right],
            &rows,
        )?;
        let rows: Vec<Vec<String>> = s
            .percentiles
            .iter()
            .map(|p| (percentile_label(p.p), p))
            .chain(
                s.var
                    .iter()
                    .map(|v| (format!("VaR {}", report::percent(v.p)), v)),
            )
            .map(|(label, b)| vec![label, num(b.value), num(b.low), num(b.high)])
            .collect();
        report::write_table(
            out,
            &["percentile", "estimate", "low", "high"],
            &[Align::Left, Align::Right, Align::Right, Align::Right],
            &rows,
        )?;
        for t in &s.targets {
            writeln!(
                out,
                "  P(< {}) = {}   P(> {}) = {}",
                num(t.target),
                num(t.p_below),
                num(t.target),
                num(t.p_above)
            )?;
        }
    }
    Ok(())
}

/// One row per output of the merged statistics.
fn write_merged_csv(
    out: &mut impl Write,
    report: &mcsim_ops::merge::AccumulatorReport,
) -> io::Result<()> {
    let Some(first) = report.outputs.first() else {
        return Ok(());
    };
    let mut header: Vec<String> = [
        "output",
        "n",
        "errors",
        "mean",
        "std_dev",
        "std_error",
        "ci95_low",
        "ci95_high",
        "min",
        "max",
        "skewness",
        "kurtosis",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    for p in &first.summary.percentiles {
        let l = percentile_label(p.p);
        header.extend([l.clone(), format!("{l}_low"), format!("{l}_high")]);
    }
    for t in &first.summary.targets {
        header.push(format!("p_below_{}", t.target));
        header.push(format!("p_above_{}", t.target));
    }
    let header: Vec<String> = header.iter().map(|h| csv_field(h)).collect();
    writeln!(out, "{}", header.join(","))?;
    for o in &report.outputs {
        let s = &o.summary;
        let mut row = vec![csv_field(&o.name), s.n.to_string(), s.errors.to_string()];
        row.extend(
            [
                s.mean,
                s.std_dev,
                s.std_error,
                s.ci95_low,
                s.ci95_high,
                s.min,
                s.max,
                s.skewness,
                s.kurtosis,
            ]
            .map(csv_number),
        );
        for p in &s.percentiles {
            row.extend([p.value, p.low, p.high].map(csv_number));
        }
        for t in &s.targets {
            row.push(csv_number(t.p_below));
            row.push(csv_number(t.p_above));
        }
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

/// One row per output: its statistics.
fn write_statistics_csv(out: &mut impl Write, report: &ResultsReport) -> io::Result<()> {
    let Some(first) = report.outputs.first() else {
        return Ok(());
    };
    let s = &first.summary;
    let mut header: Vec<String> = [
        "output",
        "n",
        "errors",
        "mean",
        "std_dev",
        "std_error",
        "ci95_low",
        "ci95_high",
        "min",
        "max",
        "skewness",
        "kurtosis",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    header.extend(s.percentiles.iter().map(|p| percentile_label(p.p)));
    for r in &s.risk {
        let level = report::percent(r.level);
        header.push(format!("var{level}"));
        header.push(format!("cvar{level}"));
    }
    for t in &s.targets {
        header.push(format!("p_below_{}", t.target));
        header.push(format!("p_above_{}", t.target));
    }
    let header: Vec<String> = header.iter().map(|h| csv_field(h)).collect();
    writeln!(out, "{}", header.join(","))?;
    for o in &report.outputs {
        let s = &o.summary;
        let mut row = vec![csv_field(&o.name), s.n.to_string(), s.errors.to_string()];
        row.extend(
            [
                s.mean,
                s.std_dev,
                s.std_error,
                s.ci95_low,
                s.ci95_high,
                s.min,
                s.max,
                s.skewness,
                s.kurtosis,
            ]
            .map(csv_number),
        );
        row.extend(s.percentiles.iter().map(|p| csv_number(p.value)));
        for r in &s.risk {
            row.push(csv_number(r.var));
            row.push(csv_number(r.cvar));
        }
        for t in &s.targets {
            row.push(csv_number(t.p_below));
            row.push(csv_number(t.p_above));
        }
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

/// One row per compared output.
fn write_comparison_csv(out: &mut impl Write, c: &ComparisonReport) -> io::Result<()> {
    let Some(first) = c.outputs.first() else {
        return Ok(());
    };
    let mut header: Vec<String> = [
        "output",
        "mean_a",
        "mean_b",
        "mean_diff",
        "std_error_diff",
        "welch_t",
        "welch_df",
        "mean_differs",
        "std_dev_diff",
        "ks_statistic",
        "ks_p_value",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    header.extend(
        first
            .comparison
            .percentiles
            .iter()
            .map(|p| format!("{}_diff", percentile_label(p.p))),
    );
    writeln!(out, "{}", header.join(","))?;
    for o in &c.outputs {
        let k = &o.comparison;
        let mut row = vec![csv_field(&o.output)];
        row.extend(
            [
                k.mean_a,
                k.mean_b,
                k.mean_diff,
                k.std_error_diff,
                k.welch_t,
                k.welch_df,
            ]
            .map(csv_number),
        );
        row.push(k.mean_differs.to_string());
        row.push(csv_number(k.std_dev_diff));
        row.push(k.ks.map_or_else(String::new, |ks| csv_number(ks.statistic)));
        row.push(k.ks.map_or_else(String::new, |ks| csv_number(ks.p_value)));
        row.extend(k.percentiles.iter().map(|p| csv_number(p.diff)));
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}

/// A samples file's name for people: `stdin` for `-`.
fn shown(file: &str) -> &str {
    if file == "-" { "stdin" } else { file }
}
