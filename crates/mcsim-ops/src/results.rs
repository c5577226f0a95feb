//! `results`: statistics, sensitivity, comparison and charts re-derived from a samples file
//! written by [`run`](crate::run::run) (`mcsim run --out`), without re-running the workbook.
//!
//! ```no_run
//! use mcsim_ops::results::{ResultsOptions, results};
//!
//! let options = ResultsOptions::new("samples.parquet").with_compare("baseline.parquet");
//! let report = results(&options)?;
//! for c in &report.comparison.as_ref().unwrap().outputs {
//!     println!("{}: {:+} ({})", c.output, c.comparison.mean_diff, c.comparison.mean_differs);
//! }
//! # Ok::<(), mcsim_ops::OpsError>(())
//! ```

use std::path::{Path, PathBuf};

use mcsim_results::{
    Comparison, ResultsError, SamplesFile, SamplesFormat, Sensitivity, Summary, SummaryOptions,
    Threshold, compare, ks_two_sample, plot_cdf, plot_histogram, plot_tornado, read_samples,
    read_samples_stream,
};
use serde::Serialize;

use crate::error::OpsError;
use crate::run::ThresholdResult;

/// Bars drawn in a tornado chart.
const TORNADO_BARS: usize = 15;

/// What to report from a samples file.
#[derive(Debug, Clone, Default)]
pub struct ResultsOptions {
    /// The samples file (`.parquet`, `.arrow`/`.feather`/`.ipc` or `.csv`); `-` reads stdin.
    pub path: PathBuf,
    /// The format of the samples read from stdin (default: told from its first bytes).
    pub in_format: Option<SamplesFormat>,
    /// Report only this output (default: every output).
    pub output: Option<String>,
    /// A second samples file to compare with this one (`B - A`, this file being A).
    pub compare: Option<PathBuf>,
    /// Extra percentiles, as fractions in `[0, 1]`.
    pub percentiles: Vec<f64>,
    /// VaR/CVaR tail levels besides the default 0.05, as fractions in `(0, 1)`.
    pub risk_levels: Vec<f64>,
    /// Targets for `P(output < target)` and `P(output > target)`.
    pub targets: Vec<f64>,
    /// Threshold conditions (`P(NPV < 0) > 0.2`); the report says which hold.
    pub fail_if: Vec<String>,
    /// A chart to draw.
    pub plot: Option<PlotRequest>,
}

impl ResultsOptions {
    /// Every output of `path`, default statistics, no comparison, no chart.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ResultsOptions {
            path: path.into(),
            ..ResultsOptions::default()
        }
    }

    /// Compares with another samples file.
    pub fn with_compare(mut self, other: impl Into<PathBuf>) -> Self {
        self.compare = Some(other.into());
        self
    }

    /// Reports only one output.
    pub fn with_output(mut self, name: impl Into<String>) -> Self {
        self.output = Some(name.into());
        self
    }
}

/// A kind of chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chart {
    /// Histogram of one output.
    Histogram,
    /// Empirical cumulative distribution of one output.
    Cdf,
    /// Tornado chart of one output's Spearman rank correlations with the inputs.
    Tornado,
}

/// A chart to draw: of [`ResultsOptions::output`], or the first output when none is named.
#[derive(Debug, Clone)]
pub struct PlotRequest {
    /// Which chart.
    pub chart: Chart,
    /// The file to write: `.svg` or `.png`.
    pub path: PathBuf,
}

/// The run that wrote a samples file, from the file's metadata (absent for files that mcsim did
/// not write).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunInfo {
    /// The workbook.
    pub workbook: Option<String>,
    /// The workbook file's hash.
    pub workbook_hash: Option<String>,
    /// The seed.
    pub seed: Option<u64>,
    /// Iterations planned (the file may hold fewer rows if the run stopped on convergence).
    pub iterations: Option<u64>,
    /// `lhs` or `mc`.
    pub sampling: Option<String>,
    /// The mcsim version that wrote the file.
    pub version: Option<String>,
}

impl RunInfo {
    fn of(file: &SamplesFile) -> Self {
        let get = |key: &str| file.metadata.get(key).cloned();
        let number = |key: &str| get(key).and_then(|v| v.parse().ok());
        RunInfo {
            workbook: get("mcsim.workbook"),
            workbook_hash: get("mcsim.workbook_hash"),
            seed: number("mcsim.seed"),
            iterations: number("mcsim.iterations"),
            sampling: get("mcsim.sampling"),
            version: get("mcsim.version"),
        }
    }
}

/// One output's statistics.
#[derive(Debug, Clone, Serialize)]
pub struct OutputResults {
    /// The output's name (its column).
    pub name: String,
    /// Statistics over the valid (finite) samples.
    pub summary: Summary,
    /// Sensitivity to every input (absent when the file has no input columns or the output
    /// does not vary).
    pub sensitivity: Option<Sensitivity>,
}

/// One output in both files.
#[derive(Debug, Clone, Serialize)]
pub struct OutputComparison {
    /// The output's name.
    pub output: String,
    /// B compared with A (`diff` is `B - A`); percentiles are those of the summaries.
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// The comparison with a second samples file.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonReport {
    /// The second file (B).
    pub file: String,
    /// The run that wrote it.
    pub run: RunInfo,
    /// Rows (iterations) in B.
    pub rows: usize,
    /// Each output present in both files.
    pub outputs: Vec<OutputComparison>,
    /// Outputs whose means differ by more than Monte Carlo error.
    pub differing: Vec<String>,
    /// Outputs of A that B does not have (not compared).
    pub missing: Vec<String>,
}

/// A chart written.
#[derive(Debug, Clone, Serialize)]
pub struct ChartReport {
    /// Which chart.
    pub chart: Chart,
    /// Of which output.
    pub output: String,
    /// Where.
    pub path: String,
}

/// What a samples file says.
#[derive(Debug, Clone, Serialize)]
pub struct ResultsReport {
    /// The samples file.
    pub file: String,
    /// Its format: `parquet`, `arrow` or `csv`.
    pub format: &'static str,
    /// The run that wrote it.
    pub run: RunInfo,
    /// Rows (iterations).
    pub rows: usize,
    /// Input columns.
    pub inputs: Vec<String>,
    /// The outputs reported.
    pub outputs: Vec<OutputResults>,
    /// The comparison with a second file, when asked.
    pub comparison: Option<ComparisonReport>,
    /// Threshold conditions.
    pub thresholds: Vec<ThresholdResult>,
    /// The chart written, when asked.
    pub chart: Option<ChartReport>,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl ResultsReport {
    /// Does any threshold condition hold (the command should exit 1)?
    pub fn failed(&self) -> bool {
        self.thresholds.iter().any(|t| t.holds)
    }
}

/// Reads a samples file and reports its statistics, sensitivities, thresholds, and optionally a
/// comparison with a second file and a chart.
pub fn results(opts: &ResultsOptions) -> Result<ResultsReport, OpsError> {
    let mut summary_options = SummaryOptions::default();
    for &p in &opts.percentiles {
        summary_options = summary_options.with_percentile(p);
    }
    for &a in &opts.risk_levels {
        if !summary_options.risk_levels.contains(&a) {
            summary_options = summary_options.with_risk_level(a);
        }
    }
    for &t in &opts.targets {
        summary_options = summary_options.with_target(t);
    }
    // Parse the conditions before the (possibly long) read.
    let thresholds = opts
        .fail_if
        .iter()
        .map(|cond| {
            Threshold::parse(cond).map_err(|e| OpsError::Model {
                message: format!("--fail-if `{cond}`: {}", chain(&e)),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;

    if opts.path.as_os_str() == "-" && opts.compare.as_deref() == Some(Path::new("-")) {
        return Err(OpsError::Model {
            message: "stdin (`-`) can be only one of the two samples compared".into(),
        });
    }
    let file = read(&opts.path, opts.in_format)?;
    let mut warnings = Vec::new();
    let all_outputs: Vec<&str> = file.outputs().map(|c| c.name.as_str()).collect();
    if all_outputs.is_empty() {
        return Err(OpsError::Model {
            message: format!("`{}` has no output columns", opts.path.display()),
        });
    }
    let selected: Vec<&str> = match &opts.output {
        Some(name) => {
            if !all_outputs.contains(&name.as_str()) {
                return Err(unknown_output(name, &opts.path, &all_outputs));
            }
            vec![name.as_str()]
        }
        None => all_outputs.clone(),
    };

    let inputs: Vec<(&str, &[f64])> = file
        .inputs()
        .map(|c| (c.name.as_str(), c.values.as_slice()))
        .collect();
    // The same computation as `run` (inputs ranked once), so a samples file re-derives the run's
    // sensitivities bit for bit.
    let ranked = mcsim_results::RankedInputs::new(&inputs);
    let mut outputs = Vec::with_capacity(selected.len());
    for &name in &selected {
        let values = file.values(name).unwrap_or_default();
        // The same accumulators and block grid as `run`, so the moments match the run's bit for
        // bit (percentiles and the rest come from the sorted values either way).
        let sorted = mcsim_results::SortedColumn::new(values);
        let stats = crate::run::stats_of(values, &summary_options.targets);
        let summary = Summary::from_stats_sorted(&stats, &sorted.sorted, &summary_options)
            .map_err(|e| OpsError::Model { message: chain(&e) })?;
        let varies = summary.std_dev > 0.0;
        let sensitivity = if inputs.is_empty() || !varies {
            None
        } else {
            Some(
                Sensitivity::compute_ranked(name, values, &ranked).map_err(|e| OpsError::Run {
                    message: format!("sensitivity of `{name}`: {}", chain(&e)),
                })?,
            )
        };
        if summary.n == 0 {
            warnings.push(format!(
                "output `{name}` has no valid samples (every iteration is an error)"
            ));
        } else if summary.errors > 0 {
            warnings.push(format!(
                "output `{name}`: {} of {} iterations are errors, left out of the statistics",
                summary.errors,
                summary.errors + summary.n
            ));
        }
        outputs.push(OutputResults {
            name: name.to_owned(),
            summary,
            sensitivity,
        });
    }

    let comparison = match &opts.compare {
        Some(other) => Some(compare_with(
            other,
            opts.in_format,
            &file,
            &outputs,
            &summary_options,
            &mut warnings,
        )?),
        None => None,
    };

    let mut threshold_results = Vec::with_capacity(thresholds.len());
    for (cond, t) in opts.fail_if.iter().zip(&thresholds) {
        let outcome = file.evaluate(t).map_err(|e| OpsError::Model {
            message: format!("--fail-if `{cond}`: {}", chain(&e)),
        })?;
        threshold_results.push(ThresholdResult {
            condition: cond.clone(),
            value: outcome.statistic_value,
            holds: outcome.holds,
        });
    }

    let chart = match &opts.plot {
        Some(request) => Some(draw(request, &outputs, &file)?),
        None => None,
    };

    Ok(ResultsReport {
        file: opts.path.to_string_lossy().into_owned(),
        format: format_name(file.format),
        run: RunInfo::of(&file),
        rows: file.iterations.len(),
        inputs: file.inputs().map(|c| c.name.clone()).collect(),
        outputs,
        comparison,
        thresholds: threshold_results,
        chart,
        warnings,
    })
}

fn compare_with(
    other: &Path,
    stdin_format: Option<SamplesFormat>,
    a: &SamplesFile,
    outputs: &[OutputResults],
    summary_options: &SummaryOptions,
    warnings: &mut Vec<String>,
) -> Result<ComparisonReport, OpsError> {
    let b = read(other, stdin_format)?;
    let mut compared = Vec::new();
    let mut missing = Vec::new();
    for out in outputs {
        let Some(values_b) = b.outputs().find(|c| c.name == out.name).map(|c| &c.values) else {
            missing.push(out.name.clone());
            continue;
        };
        let summary_b = Summary::compute(values_b, 0, summary_options)
            .map_err(|e| OpsError::Model { message: chain(&e) })?;
        let values_a = a.values(&out.name).unwrap_or_default();
        let mut comparison = compare(&out.summary, &summary_b);
        comparison.ks = ks_two_sample(values_a, values_b);
        compared.push(OutputComparison {
            output: out.name.clone(),
            comparison,
        });
    }
    if compared.is_empty() {
        let theirs: Vec<&str> = b.outputs().map(|c| c.name.as_str()).collect();
        return Err(OpsError::Model {
            message: format!(
                "`{}` has none of the outputs compared ({}); its outputs are: {}",
                other.display(),
                missing.join(", "),
                list(&theirs)
            ),
        });
    }
    if !missing.is_empty() {
        warnings.push(format!(
            "`{}` has no output {}; not compared",
            other.display(),
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let differing = compared
        .iter()
        .filter(|c| c.comparison.mean_differs)
        .map(|c| c.output.clone())
        .collect();
    Ok(ComparisonReport {
        file: other.to_string_lossy().into_owned(),
        run: RunInfo::of(&b),
        rows: b.iterations.len(),
        outputs: compared,
        differing,
        missing,
    })
}

fn draw(
    request: &PlotRequest,
    outputs: &[OutputResults],
    file: &SamplesFile,
) -> Result<ChartReport, OpsError> {
    let Some(out) = outputs.first() else {
        return Err(OpsError::Model {
            message: "no output to plot".into(),
        });
    };
    let values = file.values(&out.name).unwrap_or_default();
    let path = &request.path;
    let drawn = match request.chart {
        Chart::Histogram => plot_histogram(values, &out.name, path),
        Chart::Cdf => plot_cdf(values, &out.name, path),
        Chart::Tornado => match &out.sensitivity {
            Some(s) => plot_tornado(
                s,
                &format!("{}: rank correlations", out.name),
                TORNADO_BARS,
                path,
            ),
            None => {
                return Err(OpsError::Model {
                    message: format!(
                        "cannot draw a tornado chart of `{}`: {}",
                        out.name,
                        if file.inputs().next().is_none() {
                            "the samples file has no input columns"
                        } else {
                            "the output does not vary"
                        }
                    ),
                });
            }
        },
    };
    drawn.map_err(|e| match e {
        ResultsError::Io { path, source } => OpsError::Io { path, source },
        other => OpsError::Run {
            message: chain(&other),
        },
    })?;
    Ok(ChartReport {
        chart: request.chart,
        output: out.name.clone(),
        path: path.to_string_lossy().into_owned(),
    })
}

/// Reads a samples file (stdin for `-`), with errors that name it.
fn read(path: &Path, stdin_format: Option<SamplesFormat>) -> Result<SamplesFile, OpsError> {
    let read = if path.as_os_str() == "-" {
        read_samples_stream(std::io::stdin().lock(), stdin_format)
    } else {
        read_samples(path)
    };
    read.map_err(|e| match e {
        ResultsError::Io { path, source } => OpsError::Io { path, source },
        e @ (ResultsError::UnknownFormat { .. } | ResultsError::MalformedFile { .. }) => {
            OpsError::Run { message: chain(&e) }
        }
        e if path.as_os_str() == "-" => OpsError::Run {
            message: format!("stdin is not a readable samples stream: {}", chain(&e)),
        },
        e => OpsError::Run {
            message: format!(
                "`{}` is not a readable samples file: {}",
                path.display(),
                chain(&e)
            ),
        },
    })
}

fn unknown_output(name: &str, path: &Path, available: &[&str]) -> OpsError {
    OpsError::Model {
        message: format!(
            "no output named `{name}` in `{}`; its outputs are: {}",
            path.display(),
            list(available)
        ),
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

fn format_name(format: SamplesFormat) -> &'static str {
    match format {
        SamplesFormat::Parquet => "parquet",
        SamplesFormat::ArrowIpc => "arrow",
        SamplesFormat::Csv => "csv",
    }
}

/// An error and its sources on one line (`a: b: c`), leaving out a message that the previous
/// one already ends with, and replacing one that the next merely starts.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        match parts.last_mut() {
            Some(last) if last.ends_with(&message) => {}
            Some(last) if message.starts_with(last.as_str()) => *last = message,
            _ => parts.push(message),
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn chain_joins_sources() {
        let e = ResultsError::Io {
            path: "x".into(),
            source: std::io::Error::other("gone"),
        };
        assert_eq!(chain(&e), "I/O error on `x`: gone");
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let e = results(&ResultsOptions::new("/nonexistent/samples.parquet")).unwrap_err();
        assert!(matches!(e, OpsError::Io { .. }), "{e}");
    }

    #[test]
    fn unknown_format_is_named() {
        let e = results(&ResultsOptions::new("model.xlsx")).unwrap_err();
        assert!(e.to_string().contains("model.xlsx"), "{e}");
    }
}
