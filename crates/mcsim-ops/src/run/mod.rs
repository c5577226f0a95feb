//! `run`: a workbook's Monte Carlo simulation, from the file to statistics, sensitivity and the
//! samples file.
//!
//! Iterations are cut into tasks aligned to absolute iteration indices (an Iman-Conover design
//! block when inputs are correlated, smaller otherwise). A task draws its inputs from counter-based
//! streams keyed by each input's cell (Latin Hypercube strata spanning the whole run) and
//! evaluates its iterations in blocks of [`LANES`]; tasks run on a rayon pool and write into their
//! own slice of each column. Every number therefore depends only on the seed and the iteration
//! index: the same seed gives bit-identical results whatever the thread count
//! (docs/reproducibility.md).

mod analyse;
pub mod config;
mod device;
mod prepare;
pub mod save;
mod simulate;
mod tables;

pub use analyse::analyse;
pub use device::{BackendChoice, Chosen, DeviceRun, Devices, doctor};
pub use prepare::{LoadedModel, PrepareSpec, Prepared, cell_key, prepare};
pub use simulate::{
    Control, STATS_BLOCK, SampleSink, SimulateSpec, Simulated, collected_part, select_cells,
    shard_grid, simulate, simulate_on, stats_of,
};

use crate::error::OpsError;
use config::ModelConfig;
use mcsim_engine::Value;
use mcsim_results::{
    SamplesFormat, SamplesLayout, SamplesWriter, Sensitivity, Summary, SummaryOptions,
};
use mcsim_sampling::{DESIGN_BLOCK, Distribution, Method, Modifiers};
use mcsim_workbook::LoadOptions;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Iterations evaluated together by the block program (at most: a model with very many random
/// calls gets fewer, see `BLOCK_VALUES`). Each instruction of the program runs once per block, so
/// wider blocks spread its dispatch over more lanes: grid_20k (86,000 instructions) took 8% less
/// CPU at 1,024 lanes than at 512, and more at 2,048 (the columns leave the cache); npv_project
/// and portfolio were unchanged (docs/benchmarks.md, session 9).
pub const LANES: usize = 1024;
/// Default number of iterations.
pub const DEFAULT_ITERATIONS: u64 = 10_000;
/// Iterations per task when the model is interpreted.
const INTERPRETED_TASK: u64 = 32;
/// Set by [`exit_after_run`].
static EXIT_AFTER_RUN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells the runs of this process that it exits once its run is reported (the CLI): a run of a
/// single simulation then leaves the workbook's formulas and the samples to the operating system
/// instead of freeing them one allocation at a time. Freeing them is pure waste in a process about
/// to exit: grid_20k's 20,000 syntax trees took 4% of its run's CPU time (measured with a build
/// that never freed them). A server or a library user that runs again must not call this.
pub fn exit_after_run() {
    EXIT_AFTER_RUN.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Drops `t`, or leaves it to the operating system after [`exit_after_run`] when `once` (the
/// run has a single simulation, so nothing piles up).
fn release<T>(t: T, once: bool) {
    if once && EXIT_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(t);
    } else {
        drop(t);
    }
}

/// Values in one block's input columns at most (lanes × columns).
const BLOCK_VALUES: usize = 1 << 19;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The workbook.
    pub workbook: PathBuf,
    /// A model file; without it, `mcsim.toml` beside the workbook is used if present.
    pub config: Option<PathBuf>,
    /// Iterations (default: the model file's, else 10,000).
    pub iterations: Option<u64>,
    /// Seed (default: the model file's, else drawn and reported).
    pub seed: Option<u64>,
    /// Sampling method (default: the model file's, else Latin Hypercube).
    pub sampling: Option<Method>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Which backend runs the compiled program (default: auto).
    pub backend: BackendChoice,
    /// The GPUs a GPU backend uses (`--devices`; default: all).
    pub devices: Devices,
    /// Where to write every sample (format from the extension: .parquet, .arrow/.feather/.ipc, .csv);
    /// `-` writes them to stdout (see [`samples_writer`]).
    pub out: Option<PathBuf>,
    /// The samples format, overriding the extension (for `-`: Parquet unless given).
    pub out_format: Option<SamplesFormat>,
    /// What-if overrides: (`Sheet!A1`, value text).
    pub sets: Vec<(String, String)>,
    /// Outputs named on the command line: (`Sheet!B5`, `B5` or a defined name; optional name).
    pub outputs: Vec<(String, Option<String>)>,
    /// Extra percentiles (fractions in (0,1)).
    pub percentiles: Vec<f64>,
    /// VaR/CVaR tail levels (default 0.05).
    pub risk_levels: Vec<f64>,
    /// Targets for P(output > target).
    pub targets: Vec<f64>,
    /// Stop once the mean and percentiles are stable within this relative tolerance (95% confidence).
    /// Checked at fixed counts (every [`CONVERGENCE_STEP`] iterations and at the maximum), so the
    /// stopping point does not depend on the thread count; Latin Hypercube strata span the
    /// maximum number of iterations (see docs/reproducibility.md).
    pub until_converged: Option<f64>,
    /// Threshold conditions (`P(NPV < 0) > 0.2`); the report says which hold.
    pub fail_if: Vec<String>,
    /// Workbook loading limits.
    pub load: LoadOptions,
    /// Write a copy of the workbook whose statistics cells hold the simulated values
    /// (`.xlsx`/`.xlsm`, never the input itself).
    pub save_as: Option<PathBuf>,
    /// Bytes the kept samples may take in memory (default [`DEFAULT_MEMORY`]); beyond it the
    /// statistics stream in constant memory (see [`StatisticsMode`]).
    pub memory: Option<u64>,
    /// Run only this shard's slice of the iterations (see [`Shard`]).
    pub shard: Option<Shard>,
    /// The workbook's name in the samples file's and accumulators' metadata and the report,
    /// when `workbook` is a local copy (of an `s3://` URL); default: `workbook`'s path.
    pub workbook_name: Option<String>,
}

/// One of `count` slices of a run's iterations (`--shard I/N`). Slices are contiguous, in
/// order, and cut on the accumulators' block grid; because every random number depends only on
/// the seed, the input and the iteration, the union of the `count` shards is the unsharded run,
/// bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based index.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}`: write the shard as I/N, e.g. 0/4"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: the shard index `{i}` is not a number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: the shard count `{n}` is not a number"))?;
        Shard::new(index, count).map_err(|m| format!("`{text}`: {m}"))
    }

    /// A shard, checked: `count` ≥ 1 and `index` < `count`.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "the shard index {index} is not below the count {count} (indices run from 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard from a batch scheduler's environment (`--shard auto`): Kubernetes Indexed Jobs
    /// (`JOB_COMPLETION_INDEX`, the count from `count` or `MCSIM_SHARDS`), Slurm job arrays
    /// (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or `SLURM_ARRAY_TASK_MIN`/`MAX`),
    /// AWS Batch array jobs (`AWS_BATCH_JOB_ARRAY_INDEX`, `AWS_BATCH_JOB_ARRAY_SIZE`). `env`
    /// reads a variable (`std::env::var(..).ok()` in the CLI).
    pub fn from_env(
        count: Option<u32>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Shard, String> {
        let num = |name: &str| -> Result<Option<u32>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{name}={v} is not a number")),
            }
        };
        let given = match count {
            Some(c) => Some(c),
            None => num("MCSIM_SHARDS")?,
        };
        if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            let n = given.ok_or(
                "Kubernetes JOB_COMPLETION_INDEX is set but not the number of shards: pass --shards N (the Job's completions) or set MCSIM_SHARDS",
            )?;
            return Shard::new(i, n).map_err(|m| format!("Kubernetes Indexed Job: {m}"));
        }
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let n = match (
                given,
                num("SLURM_ARRAY_TASK_COUNT")?,
                num("SLURM_ARRAY_TASK_MAX")?,
            ) {
                (Some(n), _, _) => n,
                (None, Some(n), _) => n,
                (None, None, Some(max)) => max.saturating_sub(min) + 1,
                _ => {
                    return Err("Slurm SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MAX: pass --shards N".into());
                }
            };
            let i = id.checked_sub(min).ok_or_else(|| {
                format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
            })?;
            return Shard::new(i, n).map_err(|m| format!("Slurm job array: {m}"));
        }
        if let Some(i) = num("AWS_BATCH_JOB_ARRAY_INDEX")? {
            let n = match given {
                Some(n) => n,
                None => num("AWS_BATCH_JOB_ARRAY_SIZE")?.ok_or(
                    "AWS_BATCH_JOB_ARRAY_INDEX is set but not AWS_BATCH_JOB_ARRAY_SIZE: pass --shards N",
                )?,
            };
            return Shard::new(i, n).map_err(|m| format!("AWS Batch array job: {m}"));
        }
        Err("--shard auto: no scheduler index found (JOB_COMPLETION_INDEX for Kubernetes Indexed Jobs, SLURM_ARRAY_TASK_ID for Slurm arrays, AWS_BATCH_JOB_ARRAY_INDEX for AWS Batch); give --shard I/N".into())
    }

    /// This shard's iterations, `[first, end)` (0-based), of a run of `iterations` whose
    /// slices are cut on multiples of `grid`.
    pub fn range(&self, iterations: u64, grid: u64) -> (u64, u64) {
        let cut = |k: u32| -> u64 {
            if k >= self.count {
                return iterations;
            }
            let at = (k as u128 * iterations as u128 / self.count as u128) as u64;
            (at / grid * grid).min(iterations)
        };
        (cut(self.index), cut(self.index + 1))
    }
}

/// A shard's place in its run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShardInfo {
    /// 0-based index.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
    /// The whole run's iterations.
    pub shard_of: u64,
    /// The shard's first iteration (1-based).
    pub first_iteration: u64,
    /// The shard's last iteration (1-based, inclusive; `first_iteration - 1` when empty).
    pub last_iteration: u64,
}

/// How a run's statistics were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatisticsMode {
    /// Every sample kept in memory: one sort per column gives every statistic exactly.
    Exact,
    /// Beyond the memory budget: moments, min/max, error counts and target probabilities
    /// accumulate block by block; percentiles, VaR and CVaR are exact from a second pass that
    /// recomputes the iterations and keeps only the values near the requested ranks; Spearman
    /// correlations use ranks estimated from the first pass's histogram (error measured in
    /// docs/benchmarks.md); the convergence trace's percentiles are histogram estimates.
    Streaming,
}

/// Samples-file metadata key of a shard: `I/N`.
pub const SHARD_KEY: &str = "mcsim.shard";
/// Samples-file metadata key: the shard's first iteration (1-based).
pub const SHARD_FIRST_KEY: &str = "mcsim.shard_first_iteration";
/// Samples-file metadata key: the shard's last iteration (1-based, inclusive).
pub const SHARD_LAST_KEY: &str = "mcsim.shard_last_iteration";

/// Default memory budget for kept samples: 1 GiB.
pub const DEFAULT_MEMORY: u64 = 1 << 30;

/// Parses a memory size: a number of bytes, or a number with a unit, binary (`KiB`, `MiB`,
/// `GiB`, `TiB`) or decimal (`kB`/`KB`, `MB`, `GB`, `TB`); `512MiB`, `2GiB`, `1.5GB`. Units
/// are case-insensitive and a space before them is allowed.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        format!("`{text}` is not a size: use a number with a unit such as 512MiB or 2GiB")
    })?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)"
            ));
        }
    };
    let bytes = value * factor;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("`{text}` is too large"));
    }
    Ok(bytes as u64)
}

/// One input as run.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    /// Name (RiskName, the model file's name, or the cell).
    pub name: String,
    /// `Sheet!A1`.
    pub cell: String,
    /// Where it came from: `cell` (a distribution function), `config` (the model file) or `rand`.
    pub source: &'static str,
    /// The distribution.
    pub distribution: Option<Distribution>,
    /// Truncation and shift.
    pub modifiers: Option<Modifiers>,
}

/// One output's results.
#[derive(Debug, Clone, Serialize)]
pub struct OutputReport {
    /// Name.
    pub name: String,
    /// `Sheet!A1`.
    pub cell: String,
    /// `true` when the output depends on no uncertain input.
    pub deterministic: bool,
    /// Statistics.
    pub summary: Summary,
    /// Sensitivity to each input (absent for deterministic outputs).
    pub sensitivity: Option<Sensitivity>,
    /// How the mean and the 5th/50th/95th percentiles stabilised: their values after each tenth
    /// of the iterations.
    pub convergence: Vec<mcsim_results::ConvergencePoint>,
}

/// A `RiskSimtable` cell.
#[derive(Debug, Clone, Serialize)]
pub struct SimtableInfo {
    /// `Sheet!A1`.
    pub cell: String,
    /// Its value in each simulation.
    pub values: Vec<serde_json::Value>,
}

/// One simulation of a `RiskSimtable` run.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationReport {
    /// 1-based, as @RISK numbers simulations.
    pub simulation: usize,
    /// Each `RiskSimtable` cell's value in this simulation.
    pub values: Vec<(String, serde_json::Value)>,
    /// Outputs.
    pub outputs: Vec<OutputReport>,
    /// Statistics cells.
    pub statistics: Vec<StatisticCell>,
}

/// A statistics function's cell after the simulation.
#[derive(Debug, Clone, Serialize)]
pub struct StatisticCell {
    /// `Sheet!A1`.
    pub cell: String,
    /// The formula.
    pub formula: String,
    /// The cell's value after the simulation (a number, text, boolean or `#ERROR`).
    pub value: serde_json::Value,
    /// The value the file stored (what @RISK computed in its last simulation), if any.
    pub stored: serde_json::Value,
    /// The cell whose simulated values the statistic summarises.
    pub of: Option<String>,
    /// For a cell that is a bare `RiskMean`, `RiskStdDev`, `RiskPercentile`/`RiskPtoX` or
    /// `RiskTarget`/`RiskXtoP` call holding a stored number: (value − stored) divided by the
    /// standard error of the difference of two runs of this many iterations (√2 × the
    /// statistic's standard error here). |z| ≤ 4 means agreement within Monte Carlo error.
    pub agreement_z: Option<f64>,
}

/// A cell's value after the simulation, for writing a copy of the workbook.
#[derive(Debug, Clone)]
pub struct CellValue {
    /// Sheet name.
    pub sheet: String,
    /// Zero-based row.
    pub row: u32,
    /// Zero-based column.
    pub col: u32,
    /// The value.
    pub value: Value,
}

/// A threshold condition and whether it held.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdResult {
    /// As written.
    pub condition: String,
    /// The statistic's value.
    pub value: f64,
    /// Whether the condition holds (a `--fail-if` that holds fails the run).
    pub holds: bool,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The workbook.
    pub workbook: String,
    /// A 64-bit FNV-1a hash of the workbook file's bytes, in hex (identifies the exact file).
    pub workbook_hash: String,
    /// The seed used (drawn when none was given).
    pub seed: u64,
    /// Iterations run.
    pub iterations: u64,
    /// `lhs` or `mc`.
    pub sampling: &'static str,
    /// Worker threads.
    pub threads: usize,
    /// The backend that ran the model (`cpu`, `cuda`).
    pub backend: &'static str,
    /// Why `--backend auto` did not use a GPU (absent when it did, or with `--backend cpu`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_note: Option<String>,
    /// Wall time in seconds, from reading the workbook to the statistics.
    pub elapsed_seconds: f64,
    /// Seconds spent sampling and evaluating iterations (and writing samples).
    pub simulation_seconds: f64,
    /// Iterations per second of the simulation phase.
    pub iterations_per_second: f64,
    /// `compiled`, or `interpreted` with the reason.
    pub evaluation: String,
    /// When interpreted: every cell that forces the interpreter (`Sheet!A1: what`), for the
    /// part of the model the outputs read.
    pub interpreted_because: Vec<String>,
    /// Inputs.
    pub inputs: Vec<InputInfo>,
    /// Outputs.
    pub outputs: Vec<OutputReport>,
    /// Threshold conditions.
    pub thresholds: Vec<ThresholdResult>,
    /// Stopped early by `--until-converged`.
    pub converged: Option<bool>,
    /// How the statistics were computed: `exact` (every sample kept in memory) or `streaming`
    /// (beyond the `--memory` budget: constant memory, exact moments and percentiles,
    /// sensitivity from ranks estimated by the first pass).
    pub statistics_mode: StatisticsMode,
    /// Passes over the iterations (1, or 2-3 when streaming: the later passes recompute the
    /// iterations to find the exact percentiles).
    pub simulation_passes: u32,
    /// With `--shard`: which shard, and its iterations (1-based, inclusive, of the whole run's
    /// `shard_of` iterations); `iterations` is then the shard's count.
    pub shard: Option<ShardInfo>,
    /// The samples file written.
    pub samples_file: Option<String>,
    /// The workbook copy written by `--save-as`.
    pub saved_as: Option<String>,
    /// Warnings (repaired correlation matrices, ignored properties, ...).
    pub warnings: Vec<String>,
    /// Cells holding @RISK statistics functions (`=RiskMean(B5)`, `=RiskPercentile(NPV,0.9)/1e6`),
    /// with the values they take after the simulation.
    pub statistics: Vec<StatisticCell>,
    /// Every cell whose value the simulation changed (the statistics cells and the cells that
    /// depend on them): what `--save-as` writes.
    #[serde(skip)]
    pub cell_values: Vec<CellValue>,
    /// With `--shard`: the shard's mergeable accumulators, for `mcsim run --stats FILE` to write
    /// and `mcsim results merge` to read (see [`crate::merge::Accumulators`]).
    #[serde(skip)]
    pub accumulators: Option<crate::merge::Accumulators>,
    /// mcsim version.
    pub version: String,
    /// `RiskSimtable` cells and their values (one simulation per value).
    pub simtable: Vec<SimtableInfo>,
    /// With `RiskSimtable`: every simulation's outputs and statistics cells (the top-level
    /// `outputs` are the first simulation's).
    pub simulations: Vec<SimulationReport>,
}

impl RunReport {
    /// Does any threshold condition hold (the run should exit 1)?
    pub fn failed(&self) -> bool {
        self.thresholds.iter().any(|t| t.holds)
    }
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::MonteCarlo => "mc",
        _ => "lhs",
    }
}

/// Parses `lhs` / `mc` (and long forms).
pub fn parse_method(s: &str) -> Option<Method> {
    match s.to_ascii_lowercase().as_str() {
        "lhs" | "latin" | "latin-hypercube" | "latin_hypercube" => Some(Method::LatinHypercube),
        "mc" | "monte-carlo" | "montecarlo" | "monte_carlo" => Some(Method::MonteCarlo),
        _ => None,
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    // Keep seeds short enough to type back.
    h.finish() % 1_000_000_000_000
}

/// Iterations between two checks of `--until-converged`: the run stops at the first multiple of
/// this (or at the maximum) where every output has converged, whatever the thread count.
pub const CONVERGENCE_STEP: u64 = 2 * DESIGN_BLOCK as u64;

/// Runs the simulation. `progress(done, total)` is called as tasks complete.
///
/// A workbook with `RiskSimtable(values)` cells runs one simulation per value, as @RISK's "number
/// of simulations": the report's outputs are the first simulation's, and
/// [`RunReport::simulations`] holds every simulation's outputs and statistics cells. Every
/// simulation draws the same random numbers (the streams depend on the seed and the input, not
/// on the simulation), so differences between simulations are not noise.
pub fn run(opts: &RunOptions, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<RunReport, OpsError> {
    run_cancellable(opts, progress, None)
}

/// [`run`], stopping with [`OpsError::Cancelled`] at the next chunk of iterations once `cancel`
/// is set (by another thread): what the team server calls for a queued job.
pub fn run_cancellable(
    opts: &RunOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<RunReport, OpsError> {
    let mut report = run_simulation(opts, progress, cancel, 0)?;
    let n = report
        .simtable
        .iter()
        .map(|t| t.values.len())
        .max()
        .unwrap_or(1);
    if n > 1 {
        let first = SimulationReport {
            simulation: 1,
            values: simtable_values(&report.simtable, 0),
            outputs: report.outputs.clone(),
            statistics: report.statistics.clone(),
        };
        report.simulations.push(first);
        for k in 1..n {
            let r = run_simulation(opts, progress, cancel, k)?;
            report.simulations.push(SimulationReport {
                simulation: k + 1,
                values: simtable_values(&report.simtable, k),
                outputs: r.outputs,
                statistics: r.statistics,
            });
            report.elapsed_seconds += r.elapsed_seconds;
            report.simulation_seconds += r.simulation_seconds;
        }
    }
    Ok(report)
}

fn simtable_values(tables: &[SimtableInfo], k: usize) -> Vec<(String, serde_json::Value)> {
    tables
        .iter()
        .map(|t| {
            (
                t.cell.clone(),
                t.values.get(k).cloned().unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// One simulation (number `simulation`, 0-based, of a `RiskSimtable` run): reads the files,
/// then [`prepare`], [`simulate`] and [`analyse`].
fn run_simulation(
    opts: &RunOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
    cancel: Option<&std::sync::atomic::AtomicBool>,
    simulation: usize,
) -> Result<RunReport, OpsError> {
    let started = Instant::now();
    if let Some(out) = &opts.save_as {
        save::check_save_as(&opts.workbook, out)?;
    }
    let bytes = std::fs::read(&opts.workbook).map_err(|source| OpsError::Io {
        path: opts.workbook.clone(),
        source,
    })?;
    let loaded = LoadedModel::from_bytes(bytes, &opts.workbook.to_string_lossy(), &opts.load)?;
    let cfg = match model_file(opts) {
        Some(p) => ModelConfig::load(&p)?,
        None => ModelConfig::default(),
    };
    let prepared = prepare(
        &loaded,
        &cfg,
        &PrepareSpec {
            sets: opts.sets.clone(),
            outputs: opts.outputs.clone(),
            fail_if: opts.fail_if.clone(),
            simulation,
        },
    )?;
    let iterations = opts
        .iterations
        .or(prepared.default_iterations())
        .unwrap_or(DEFAULT_ITERATIONS);
    let seed = opts
        .seed
        .or(prepared.default_seed())
        .unwrap_or_else(random_seed);
    let method = opts
        .sampling
        .or(prepared.default_method())
        .unwrap_or(Method::LatinHypercube);
    let chosen = prepared.choose_backend(opts.backend, &opts.devices, seed, method, iterations)?;
    let pool = thread_pool(opts.threads)?;
    // The run's identity, in the samples file and a shard's accumulators.
    let mut meta = BTreeMap::new();
    let mut first = 1;
    meta.insert("mcsim.seed".into(), seed.to_string());
    meta.insert("mcsim.iterations".into(), iterations.to_string());
    meta.insert("mcsim.sampling".into(), method_name(method).into());
    meta.insert("mcsim.workbook".into(), workbook_name(opts));
    meta.insert("mcsim.workbook_hash".into(), loaded.hash.clone());
    meta.insert("mcsim.version".into(), env!("CARGO_PKG_VERSION").into());
    meta.insert(
        "mcsim.inputs".into(),
        serde_json::to_string(prepared.inputs()).unwrap_or_default(),
    );
    if let Some(sh) = opts.shard {
        let (lo, hi) = sh.range(iterations, simulate::shard_grid(&prepared));
        meta.insert(SHARD_KEY.into(), format!("{}/{}", sh.index, sh.count));
        meta.insert(SHARD_FIRST_KEY.into(), (lo + 1).to_string());
        meta.insert(SHARD_LAST_KEY.into(), hi.to_string());
        first = lo + 1;
    }
    let mut writer = match &opts.out {
        Some(path) => {
            let layout = SamplesLayout::new(
                prepared.inputs().iter().map(|i| i.name.clone()),
                prepared.output_names().map(str::to_string),
            );
            Some(samples_writer(path, opts.out_format, &layout, &meta)?.starting_at(first))
        }
        None => None,
    };
    let spec = SimulateSpec {
        iterations,
        seed,
        method,
        until_converged: opts.until_converged,
        memory: opts.memory.unwrap_or(DEFAULT_MEMORY),
        keep_samples: opts.save_as.is_some() || !prepared.detected.statistics.is_empty(),
        summary: analyse::threshold_options(&prepared, &summary_options(opts)),
        shard: opts.shard,
    };
    let mut simulated = simulate_on(
        &prepared,
        &spec,
        &pool,
        &Control { progress, cancel },
        writer.as_mut().map(|w| w as &mut dyn SampleSink),
        chosen.device.as_ref(),
    )?;
    let shard_blocks = std::mem::take(&mut simulated.shard_blocks);
    if let Some(w) = writer {
        w.finish().map_err(|e| OpsError::Run {
            message: format!("writing samples: {}", crate::results::chain(&e)),
        })?;
    }
    let mut report = analyse(&prepared, simulated, &summary_options(opts), &pool)?;
    if opts.shard.is_some() {
        let names: Vec<String> = prepared.output_names().map(str::to_string).collect();
        meta.insert(
            crate::merge::OUTPUTS_KEY.into(),
            serde_json::to_string(&names).unwrap_or_default(),
        );
        meta.insert(
            crate::merge::TARGETS_KEY.into(),
            serde_json::to_string(&spec.summary.targets).unwrap_or_default(),
        );
        report.accumulators = Some(crate::merge::Accumulators {
            format: crate::merge::ACCUMULATORS_FORMAT.into(),
            version: crate::merge::ACCUMULATORS_VERSION,
            metadata: meta,
            percentiles: spec.summary.percentiles.clone(),
            risk_levels: spec.summary.risk_levels.clone(),
            outputs: names
                .into_iter()
                .zip(shard_blocks)
                .map(
                    |(name, (blocks, histogram))| crate::merge::OutputAccumulators {
                        name,
                        blocks,
                        histogram,
                    },
                )
                .collect(),
        });
    }
    report.backend = chosen.name;
    report.backend_note = chosen.note;
    // `--save-as`: the statistics cells (and their dependents) with the simulated values.
    // With RiskSimtable, the copy holds the first simulation's values (those of the report's
    // top-level outputs).
    if let Some(out) = opts.save_as.as_ref().filter(|_| simulation == 0) {
        let updates: Vec<mcsim_workbook::CellUpdate> = report
            .cell_values
            .iter()
            .map(|c| mcsim_workbook::CellUpdate {
                sheet: c.sheet.clone(),
                row: c.row,
                col: c.col,
                value: analyse::update_value(&c.value),
            })
            .collect();
        save::write_save_as(&opts.workbook, &loaded.bytes, out, &updates)?;
        report.saved_as = Some(out.to_string_lossy().into_owned());
    }
    report.samples_file = opts.out.as_ref().map(|p| p.to_string_lossy().into_owned());
    report.workbook = workbook_name(opts);
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    let once = prepared.detected.simtables.is_empty();
    drop(prepared);
    release(loaded, once);
    Ok(report)
}

/// The workbook as named in metadata and reports.
fn workbook_name(opts: &RunOptions) -> String {
    opts.workbook_name
        .clone()
        .unwrap_or_else(|| opts.workbook.to_string_lossy().into_owned())
}

/// The model file: `--config`, else `mcsim.toml` beside the workbook if there is one.
fn model_file(opts: &RunOptions) -> Option<PathBuf> {
    match &opts.config {
        Some(p) => Some(p.clone()),
        None => {
            let beside = opts
                .workbook
                .parent()
                .unwrap_or(Path::new("."))
                .join("mcsim.toml");
            beside.exists().then_some(beside)
        }
    }
}

/// A worker pool of `threads` threads (default: one per core).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, OpsError> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| OpsError::Run {
            message: format!("could not start {threads} worker threads: {e}"),
        })
}

/// The statistics the options ask for.
pub fn summary_options(opts: &RunOptions) -> SummaryOptions {
    let mut sopts = SummaryOptions::default();
    for &p in &opts.percentiles {
        sopts = sopts.with_percentile(p);
    }
    for &a in &opts.risk_levels {
        if !sopts.risk_levels.iter().any(|&x| (x - a).abs() < 1e-12) {
            sopts = sopts.with_risk_level(a);
        }
    }
    for &t in &opts.targets {
        sopts = sopts.with_target(t);
    }
    sopts
}

/// The samples writer for `--out PATH`: a file (format from `format`, else the extension), or
/// stdout for `-` (Parquet unless `format` says otherwise; Arrow in the IPC stream format).
pub fn samples_writer(
    path: &Path,
    format: Option<SamplesFormat>,
    layout: &SamplesLayout,
    meta: &BTreeMap<String, String>,
) -> Result<SamplesWriter, OpsError> {
    let stdout = path.as_os_str() == "-";
    let run_err = |e: mcsim_results::ResultsError| OpsError::Run {
        message: format!(
            "{}: {}",
            if stdout {
                "stdout".into()
            } else {
                path.display().to_string()
            },
            crate::results::chain(&e)
        ),
    };
    if stdout {
        let format = format.unwrap_or(SamplesFormat::Parquet);
        return SamplesWriter::to_stream(std::io::stdout(), "<stdout>", format, layout, meta)
            .map_err(run_err);
    }
    let format = match format {
        Some(f) => f,
        None => SamplesFormat::from_path(path).map_err(|e| OpsError::Run {
            message: e.to_string(),
        })?,
    };
    SamplesWriter::create(path, format, layout, meta).map_err(run_err)
}
