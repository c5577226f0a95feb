//! `results merge`: the samples files of a sharded run (`mcsim run --shard I/N --out ..`) joined
//! into the samples file of the whole run, checked to belong to one run with no shard missing or
//! repeated.
//!
//! Shards are contiguous slices of one run's iterations, and every random number depends only on
//! the seed, the input and the iteration, so the merged file holds exactly the rows the unsharded
//! run writes; statistics of the merged file ([`results`](crate::results::results)) equal the
//! unsharded run's.
//!
//! Without samples, [`merge_accumulators`] merges the shards' accumulator files
//! ([`Accumulators`], small): moments, extremes, error and target counts exact (the blocks are
//! folded in block order, as the unsharded run folds them), percentiles from the merged
//! histograms with a bracket that holds the exact value.

use crate::error::OpsError;
use crate::results::chain;
use crate::run::{SHARD_FIRST_KEY, SHARD_KEY, SHARD_LAST_KEY, Shard};
use mcsim_results::{
    BlockStats, Histogram, SamplesFile, SamplesFormat, SamplesWriter, SummaryOptions,
    TargetProbability, Z95, read_samples,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The shards' samples files (any order). A path holding `*` or `?` is a pattern matched
    /// against the files of its directory.
    pub shards: Vec<PathBuf>,
    /// The merged samples file.
    pub out: PathBuf,
    /// Its format (default: from the extension).
    pub out_format: Option<SamplesFormat>,
}

/// What a merge did.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    /// The merged file.
    pub out: String,
    /// Shards merged.
    pub shards: u32,
    /// Iterations in the merged file (the whole run's).
    pub iterations: u64,
}

/// Metadata that must agree between the shards of one run.
const SAME: [&str; 9] = [
    "mcsim.seed",
    "mcsim.iterations",
    "mcsim.sampling",
    "mcsim.workbook_hash",
    "mcsim.version",
    "mcsim.inputs",
    mcsim_results::samples::COLUMNS_KEY,
    OUTPUTS_KEY,
    TARGETS_KEY,
];

/// Accumulator-file metadata key: the outputs' names (a JSON list).
pub const OUTPUTS_KEY: &str = "mcsim.outputs";
/// Accumulator-file metadata key: the targets the block statistics count (a JSON list).
pub const TARGETS_KEY: &str = "mcsim.targets";

fn invalid(message: String) -> OpsError {
    OpsError::Option {
        option: "results merge".into(),
        message,
    }
}

/// Expands `*`/`?` patterns in the last component of a path (sorted); other paths as given.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, OpsError> {
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        match name {
            Some(pattern) if pattern.contains(['*', '?']) => {
                let dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let entries = std::fs::read_dir(dir).map_err(|source| OpsError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                let mut found: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .filter(|e| wildcard(&pattern, &e.file_name().to_string_lossy()))
                    .map(|e| e.path())
                    .collect();
                if found.is_empty() {
                    return Err(invalid(format!("no file matches `{}`", p.display())));
                }
                found.sort();
                out.extend(found);
            }
            _ => out.push(p.clone()),
        }
    }
    Ok(out)
}

/// `*` matches any run of characters, `?` one character (also used by the CLI for patterns in
/// `s3://` shard paths).
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// One shard's file, read: its place in the run and its run's metadata.
struct Part<T> {
    shard: Shard,
    first: u64,
    last: u64,
    /// Iterations the file holds.
    rows: u64,
    path: PathBuf,
    meta: BTreeMap<String, String>,
    data: T,
}

impl<T> Part<T> {
    /// `what` names the kind of file (and how to write one) for a file without shard metadata.
    fn new(
        path: PathBuf,
        meta: BTreeMap<String, String>,
        rows: u64,
        data: T,
        what: &str,
    ) -> Result<Part<T>, OpsError> {
        let shard = meta
            .get(SHARD_KEY)
            .ok_or_else(|| invalid(format!("{} is not a shard's {what}", path.display())))?;
        let shard = Shard::parse(shard).map_err(|m| invalid(format!("{}: {m}", path.display())))?;
        let num = |k: &str| -> Result<u64, OpsError> {
            meta.get(k)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| invalid(format!("{}: no valid {k} metadata", path.display())))
        };
        let (first, last) = (num(SHARD_FIRST_KEY)?, num(SHARD_LAST_KEY)?);
        Ok(Part {
            shard,
            first,
            last,
            rows,
            path,
            meta,
            data,
        })
    }
}

/// Checks that `parts` are the shards of one run (the same settings, workbook and columns; the
/// same shard count), none missing or given twice, each whole; sorts them by shard index.
/// Returns the shard count and the run's iterations.
fn check_run<T>(parts: &mut [Part<T>]) -> Result<(u32, u64), OpsError> {
    let Some(head) = parts.first() else {
        return Err(invalid("no shard files given".into()));
    };
    let p0 = head.path.clone();
    let reference: BTreeMap<&str, Option<String>> = SAME
        .iter()
        .map(|&k| (k, head.meta.get(k).cloned()))
        .collect();
    let count = head.shard.count;
    for part in &parts[1..] {
        if part.shard.count != count {
            return Err(invalid(format!(
                "{} is shard {}/{} but {} is one of {count}: they are not shards of one run",
                part.path.display(),
                part.shard.index,
                part.shard.count,
                p0.display()
            )));
        }
        for (k, v) in &reference {
            if part.meta.get(*k) != v.as_ref() {
                return Err(invalid(format!(
                    "{} and {} differ in {k} ({} vs {}): they are not shards of one run",
                    p0.display(),
                    part.path.display(),
                    v.as_deref().unwrap_or("none"),
                    part.meta.get(*k).map_or("none", |s| s.as_str())
                )));
            }
        }
    }
    parts.sort_by_key(|s| s.shard.index);
    for w in parts.windows(2) {
        if w[0].shard.index == w[1].shard.index {
            return Err(invalid(format!(
                "shard {}/{count} is given twice: {} and {}",
                w[0].shard.index,
                w[0].path.display(),
                w[1].path.display()
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !parts.iter().any(|s| s.shard.index == *i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "{} of {count} shards missing: {}",
            missing.len(),
            missing.join(", ")
        )));
    }
    let total: u64 = reference
        .get("mcsim.iterations")
        .and_then(|v| v.as_ref().and_then(|s| s.parse().ok()))
        .ok_or_else(|| invalid(format!("{}: no mcsim.iterations metadata", p0.display())))?;
    let mut next = 1;
    for part in parts.iter() {
        let (first, last, rows) = (part.first, part.last, part.rows);
        if first != next || last + 1 - first != rows {
            return Err(invalid(format!(
                "{} (shard {}/{count}) holds iterations {first}..{last} in {rows} rows, but the next iteration expected is {next}: was it cut short?",
                part.path.display(),
                part.shard.index
            )));
        }
        next = last + 1;
    }
    if next != total + 1 {
        return Err(invalid(format!(
            "the shards hold {} iterations of a run of {total}",
            next - 1
        )));
    }
    Ok((count, total))
}

/// Merges the shards into `opts.out`.
pub fn merge(opts: &MergeOptions) -> Result<MergeReport, OpsError> {
    let paths = expand(&opts.shards)?;
    if paths.is_empty() {
        return Err(invalid("no shard files given".into()));
    }
    let mut shards: Vec<Part<SamplesFile>> = Vec::new();
    for path in paths {
        let file = read_samples(&path).map_err(|e| OpsError::Run {
            message: format!("{}: {}", path.display(), chain(&e)),
        })?;
        let rows = file.iterations.len() as u64;
        let meta = file.metadata.clone();
        shards.push(Part::new(
            path,
            meta,
            rows,
            file,
            &format!(
                "samples file (no {SHARD_KEY} metadata): write shards with `mcsim run --shard I/N --out FILE`"
            ),
        )?);
    }
    let (count, total) = check_run(&mut shards)?;
    let meta0 = shards[0].meta.clone();
    let layout = shards[0].data.layout.clone();

    // Write the run's file: its metadata without the shard keys, the rows in order.
    let mut meta: BTreeMap<String, String> = meta0.clone();
    for k in [
        SHARD_KEY,
        SHARD_FIRST_KEY,
        SHARD_LAST_KEY,
        mcsim_results::samples::COLUMNS_KEY,
    ] {
        meta.remove(k);
    }
    let format = match opts.out_format {
        Some(f) => f,
        None => SamplesFormat::from_path(&opts.out).map_err(|e| OpsError::Run {
            message: e.to_string(),
        })?,
    };
    let out_err = |e: mcsim_results::ResultsError| OpsError::Run {
        message: format!("{}: {}", opts.out.display(), chain(&e)),
    };
    let mut writer = SamplesWriter::create(&opts.out, format, &layout, &meta).map_err(out_err)?;
    for Part {
        path, data: file, ..
    } in &shards
    {
        let cols: Vec<&[f64]> = layout
            .names()
            .map(|n| {
                file.values(n)
                    .ok_or_else(|| invalid(format!("{} has no column `{n}`", path.display())))
            })
            .collect::<Result<_, _>>()?;
        // Blocks of 65,536 rows keep Parquet row groups a reasonable size.
        let rows = file.iterations.len();
        let mut at = 0;
        while at < rows {
            let end = (at + (1 << 16)).min(rows);
            let block: Vec<&[f64]> = cols.iter().map(|c| &c[at..end]).collect();
            writer.write_block(&block).map_err(out_err)?;
            at = end;
        }
    }
    writer.finish().map_err(out_err)?;
    Ok(MergeReport {
        out: opts.out.to_string_lossy().into_owned(),
        shards: count,
        iterations: total,
    })
}

/// The `format` of an accumulator file.
pub const ACCUMULATORS_FORMAT: &str = "mcsim-accumulators";
/// The version of the accumulator file's layout.
pub const ACCUMULATORS_VERSION: u32 = 1;

/// A shard's mergeable accumulators (`mcsim run --shard I/N --stats FILE`, JSON): the run's
/// identity (the samples file's metadata keys, plus [`OUTPUTS_KEY`] and [`TARGETS_KEY`]) and,
/// per output, the statistics of every accumulator block of the shard in block order and the
/// histogram of its values. Floats round-trip through JSON exactly, so folding the shards'
/// blocks in order gives the unsharded run's [`BlockStats`] bit for bit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Accumulators {
    /// [`ACCUMULATORS_FORMAT`].
    pub format: String,
    /// [`ACCUMULATORS_VERSION`].
    pub version: u32,
    /// The run's identity and the shard's place in it (string values, as in samples files).
    pub metadata: BTreeMap<String, String>,
    /// Percentiles the shard's run was asked for (fractions; reported by the merge too).
    pub percentiles: Vec<f64>,
    /// VaR levels the shard's run was asked for.
    pub risk_levels: Vec<f64>,
    /// Per output, in the run's order.
    pub outputs: Vec<OutputAccumulators>,
}

/// One output's accumulators in a shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputAccumulators {
    /// The output's name.
    pub name: String,
    /// The statistics of each accumulator block, in block order.
    pub blocks: Vec<BlockStats>,
    /// Counts of the shard's values per bucket.
    pub histogram: Histogram,
}

impl Accumulators {
    /// Writes the file as JSON (to a temporary file beside `path`, then renamed).
    ///
    /// # Errors
    ///
    /// [`OpsError::Io`] when the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), OpsError> {
        let json = serde_json::to_vec(self).map_err(|e| OpsError::Run {
            message: format!("{}: cannot encode the accumulators: {e}", path.display()),
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.mcsim-partial"));
        std::fs::write(&tmp, &json).map_err(|source| OpsError::Io {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            OpsError::Io {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Reads an accumulator file.
    ///
    /// # Errors
    ///
    /// [`OpsError::Io`] when it cannot be read; [`OpsError::Option`] when it is not an
    /// accumulator file of this version.
    pub fn read(path: &Path) -> Result<Accumulators, OpsError> {
        let bytes = std::fs::read(path).map_err(|source| OpsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let acc: Accumulators = serde_json::from_slice(&bytes).map_err(|e| {
            invalid(format!(
                "{} is not an accumulator file (write them with `mcsim run --shard I/N --stats FILE`): {e}",
                path.display()
            ))
        })?;
        if acc.format != ACCUMULATORS_FORMAT || acc.version != ACCUMULATORS_VERSION {
            return Err(invalid(format!(
                "{}: format {} version {}, but this mcsim reads {ACCUMULATORS_FORMAT} version {ACCUMULATORS_VERSION}",
                path.display(),
                acc.format,
                acc.version
            )));
        }
        Ok(acc)
    }

    /// Iterations the file covers (every output's blocks must agree).
    fn rows(&self, path: &Path) -> Result<u64, OpsError> {
        let mut rows = None;
        for o in &self.outputs {
            let n: u64 = o.blocks.iter().map(|b| b.n() + b.errors()).sum();
            if rows.is_some_and(|r| r != n) {
                return Err(invalid(format!(
                    "{}: output `{}` covers {n} iterations, the others {}",
                    path.display(),
                    o.name,
                    rows.unwrap_or(0)
                )));
            }
            rows = Some(n);
        }
        // Without outputs, the file's own range.
        let num = |k: &str| self.metadata.get(k).and_then(|v| v.parse::<u64>().ok());
        Ok(
            rows.unwrap_or_else(|| match (num(SHARD_FIRST_KEY), num(SHARD_LAST_KEY)) {
                (Some(f), Some(l)) => (l + 1).saturating_sub(f),
                _ => 0,
            }),
        )
    }
}

/// Whether `path` names an accumulator file (`.json`) rather than a samples file.
pub fn is_accumulator_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// The files `paths` name (patterns expanded), split into samples files and accumulator files
/// ([`is_accumulator_file`]).
///
/// # Errors
///
/// [`OpsError::Option`] when a pattern matches nothing.
pub fn split_files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), OpsError> {
    Ok(expand(paths)?
        .into_iter()
        .partition(|p| !is_accumulator_file(p)))
}

/// A statistic read from a merged histogram: an estimate and the range sure to hold the exact
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bracketed {
    /// The level (a fraction).
    pub p: f64,
    /// The estimate ([`Histogram::quantile_estimate`]), inside `[low, high]`.
    pub value: f64,
    /// The exact value (the `PERCENTILE.INC` of all the run's samples) is at least this...
    pub low: f64,
    /// ...and at most this.
    pub high: f64,
}

/// One output's statistics merged from the shards' accumulators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergedSummary {
    /// Valid (finite) values.
    pub n: u64,
    /// Error iterations.
    pub errors: u64,
    /// Mean (exact: the unsharded run's, bit for bit, as every moment below).
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`).
    pub std_dev: f64,
    /// Sample variance.
    pub variance: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Skewness `g1`.
    pub skewness: f64,
    /// Kurtosis `b2` (normal = 3).
    pub kurtosis: f64,
    /// `kurtosis - 3`.
    pub excess_kurtosis: f64,
    /// `std_dev / sqrt(n)`.
    pub std_error: f64,
    /// `mean - 1.96 std_error`.
    pub ci95_low: f64,
    /// `mean + 1.96 std_error`.
    pub ci95_high: f64,
    /// Percentiles from the merged histogram, each with its bracket.
    pub percentiles: Vec<Bracketed>,
    /// VaR (the lower-tail percentile at each level) with its bracket; CVaR needs the samples.
    pub var: Vec<Bracketed>,
    /// Target probabilities (exact: counted by the shards).
    pub targets: Vec<TargetProbability>,
}

/// One output of a merge of accumulators.
#[derive(Debug, Clone, Serialize)]
pub struct MergedOutput {
    /// The output's name.
    pub name: String,
    /// Its statistics.
    pub summary: MergedSummary,
}

/// What `results merge` of accumulator files reports.
#[derive(Debug, Clone, Serialize)]
pub struct AccumulatorReport {
    /// `merged-accumulators` (a merge of samples files reports `exact`).
    pub mode: &'static str,
    /// How exact each statistic is.
    pub accuracy: &'static str,
    /// The accumulator files, in shard order.
    pub files: Vec<String>,
    /// The workbook the shards ran.
    pub workbook: String,
    /// Its hash.
    pub workbook_hash: String,
    /// The run's seed.
    pub seed: u64,
    /// The run's iterations.
    pub iterations: u64,
    /// `lhs` or `mc`.
    pub sampling: String,
    /// Shards merged.
    pub shards: u32,
    /// Per output.
    pub outputs: Vec<MergedOutput>,
    /// Warnings (targets the shards did not count, ...).
    pub warnings: Vec<String>,
}

/// What [`AccumulatorReport::accuracy`] says.
pub const ACCURACY: &str = "n, errors, mean, std_dev, variance, min, max, skewness, kurtosis and target probabilities are exact (the unsharded run's, bit for bit); each percentile and VaR is an estimate from the merged histogram, and the exact value lies in [low, high] (the range of the histogram buckets holding its order statistics: at most 1/16 of a binade wide, a single value for point masses)";

/// Merges the shards' accumulator files (any order; see [`Accumulators`]) into the run's
/// statistics: the same checks as [`merge`] (one run, none missing or twice), the blocks folded in
/// order, the histograms merged. `options` adds percentiles and VaR levels to those the shards
/// were run with; targets are those the shards counted.
///
/// # Errors
///
/// [`OpsError::Option`] naming the file or the shard when the files are not the whole of one
/// run; [`OpsError::Io`] when one cannot be read.
pub fn merge_accumulators(
    paths: &[PathBuf],
    options: &SummaryOptions,
) -> Result<AccumulatorReport, OpsError> {
    let paths = expand(paths)?;
    let mut parts = Vec::new();
    for path in paths {
        let acc = Accumulators::read(&path)?;
        let rows = acc.rows(&path)?;
        let meta = acc.metadata.clone();
        parts.push(Part::new(
            path,
            meta,
            rows,
            acc,
            &format!(
                "accumulator file (no {SHARD_KEY} metadata): write them with `mcsim run --shard I/N --stats FILE`"
            ),
        )?);
    }
    let (count, total) = check_run(&mut parts)?;
    let head = &parts[0].data;
    let targets: Vec<f64> = head
        .metadata
        .get(TARGETS_KEY)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let mut percentiles = SummaryOptions::default().percentiles;
    let mut levels = SummaryOptions::default().risk_levels;
    percentiles.extend(head.percentiles.iter().chain(&options.percentiles));
    levels.extend(head.risk_levels.iter().chain(&options.risk_levels));
    for v in [&mut percentiles, &mut levels] {
        v.sort_by(f64::total_cmp);
        v.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    }
    let mut warnings = Vec::new();
    for t in &options.targets {
        if !targets.iter().any(|x| x.to_bits() == t.to_bits()) {
            warnings.push(format!(
                "target {t} was not counted by the shards: run them with --target {t}"
            ));
        }
    }
    let mut outputs = Vec::new();
    for (k, o) in head.outputs.iter().enumerate() {
        let mut stats = BlockStats::new(&targets);
        let mut hist = Histogram::new();
        for part in parts.iter() {
            let theirs = part.data.outputs.get(k).filter(|x| x.name == o.name);
            let Some(theirs) = theirs else {
                return Err(invalid(format!(
                    "{} has no output `{}` in place {k}",
                    part.path.display(),
                    o.name
                )));
            };
            for b in &theirs.blocks {
                stats.merge(b);
            }
            hist.merge(&theirs.histogram);
        }
        outputs.push(MergedOutput {
            name: o.name.clone(),
            summary: merged_summary(&stats, &hist, &percentiles, &levels),
        });
    }
    let meta = |k: &str| head.metadata.get(k).cloned().unwrap_or_default();
    Ok(AccumulatorReport {
        mode: "merged-accumulators",
        accuracy: ACCURACY,
        files: parts
            .iter()
            .map(|p| p.path.to_string_lossy().into_owned())
            .collect(),
        workbook: meta("mcsim.workbook"),
        workbook_hash: meta("mcsim.workbook_hash"),
        seed: meta("mcsim.seed").parse().unwrap_or_default(),
        iterations: total,
        sampling: meta("mcsim.sampling"),
        shards: count,
        outputs,
        warnings,
    })
}

/// The statistics of the folded `stats` and merged `hist` (as [`mcsim_results::Summary`]
/// computes them from block statistics).
fn merged_summary(
    stats: &BlockStats,
    hist: &Histogram,
    percentiles: &[f64],
    levels: &[f64],
) -> MergedSummary {
    let n = stats.n();
    let nf = n as f64;
    let std_dev = stats.std_dev();
    let (skewness, kurtosis) = stats.shape();
    let mean = stats.mean();
    let std_error = std_dev / nf.sqrt();
    let (min, max) = (stats.min(), stats.max());
    let bracket = |p: f64| -> Bracketed {
        let nan = Bracketed {
            p,
            value: f64::NAN,
            low: f64::NAN,
            high: f64::NAN,
        };
        if n == 0 || hist.total() != n {
            return nan;
        }
        // The positions PERCENTILE.INC reads.
        let h = (n - 1) as f64 * p;
        let i = (h.floor() as u64).min(n - 1);
        let j = if i + 1 >= n || h == h.floor() {
            i
        } else {
            i + 1
        };
        match (hist.rank_range(i, min, max), hist.rank_range(j, min, max)) {
            (Some((low, _)), Some((_, high))) => Bracketed {
                p,
                value: hist.quantile_estimate(p, min, max).clamp(low, high),
                low,
                high,
            },
            _ => nan,
        }
    };
    let targets = stats
        .targets()
        .iter()
        .map(|&target| {
            let (p_below, p_above) = match stats.target_counts(target) {
                Some((below, at_or_below)) if n > 0 => {
                    (below as f64 / nf, (n - at_or_below) as f64 / nf)
                }
                _ => (f64::NAN, f64::NAN),
            };
            TargetProbability {
                target,
                p_below,
                p_above,
            }
        })
        .collect();
    MergedSummary {
        n,
        errors: stats.errors(),
        mean,
        std_dev,
        variance: stats.variance(),
        min,
        max,
        skewness,
        kurtosis,
        excess_kurtosis: kurtosis - 3.0,
        std_error,
        ci95_low: mean - Z95 * std_error,
        ci95_high: mean + Z95 * std_error,
        percentiles: percentiles.iter().map(|&p| bracket(p)).collect(),
        var: levels.iter().map(|&a| bracket(a)).collect(),
        targets,
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_like_a_shell() {
        assert!(wildcard("shard-*.parquet", "shard-3.parquet"));
        assert!(wildcard("shard-?.parquet", "shard-3.parquet"));
        assert!(!wildcard("shard-?.parquet", "shard-10.parquet"));
        assert!(wildcard("*", "anything"));
        assert!(!wildcard("shard-*.parquet", "shard-3.csv"));
        assert!(wildcard("a*b*c", "aXXbYYc"));
    }
}
