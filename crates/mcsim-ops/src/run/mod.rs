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

pub mod config;
pub mod save;
mod tables;

use crate::error::OpsError;
use config::ModelConfig;
use mcsim_engine::sim::inputs::{auto_name, auto_name_parts, detect, mark_dynamic};
use mcsim_engine::sim::sites::DynamicDist;
use mcsim_engine::sim::{Plan, Simulation, Site, SiteKey, SiteKind, Spec};
use mcsim_engine::{CellId, Evaluator, Graph, Model, Value};
use mcsim_results::{
    ConvergenceCheck, SamplesFormat, SamplesLayout, SamplesWriter, Sensitivity, Summary,
    SummaryOptions, Threshold,
};
use mcsim_sampling::{
    CorrelationPlan, DESIGN_BLOCK, Distribution, Method, Modifiers, Sampler, Streams, Truncation,
    stream_key,
};
use mcsim_workbook::LoadOptions;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Iterations evaluated together by the block program.
pub const LANES: usize = 512;
/// Default number of iterations.
pub const DEFAULT_ITERATIONS: u64 = 10_000;
/// Iterations per task when the model is interpreted.
const INTERPRETED_TASK: u64 = 32;
/// RAND() calls kept as inputs (for sensitivity and the samples file) at most.
const MAX_STORED_RAND: usize = 256;
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

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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

/// Resolves `Sheet!A1` (or `A1` on the first sheet) to a cell, creating nothing.
fn resolve(model: &Model, r: &str) -> Result<(u32, u32, u32), String> {
    let (sheet, addr) = match r.rsplit_once('!') {
        Some((s, a)) => (s.trim_matches('\'').replace("''", "'"), a),
        None => (
            model
                .sheets
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            r,
        ),
    };
    let sid = model
        .sheet_id(&sheet)
        .ok_or_else(|| format!("no sheet named `{sheet}` (in `{r}`)"))?;
    let (row, col) = mcsim_formula::parse_a1(addr)
        .ok_or_else(|| format!("`{addr}` is not a cell reference (in `{r}`)"))?;
    Ok((sid, row, col))
}

fn cell_id(model: &Model, r: &str) -> Result<CellId, String> {
    let (s, row, col) = resolve(model, r)?;
    model
        .find(s, row, col)
        .ok_or_else(|| format!("`{r}` is an empty cell"))
}

fn parse_value(text: &str) -> Value {
    let t = text.trim();
    if let Ok(n) = t.parse::<f64>() {
        return Value::Number(n);
    }
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        return Value::Bool(t.eq_ignore_ascii_case("true"));
    }
    Value::from(t.trim_matches('"'))
}

/// An evaluation task of a two-phase chunk: its first iteration, the inputs drawn already, and
/// its slices of the output columns.
type EvalTask<'a> = (u64, Vec<&'a [f64]>, Vec<&'a mut [f64]>);

/// How the inputs a task does not keep are drawn.
#[derive(Clone, Copy)]
struct Draws<'a> {
    samplers: &'a [&'a Sampler],
    keys: &'a [u64],
    method: Method,
    streams: &'a Streams,
    iterations: u64,
    /// Lanes per block.
    lanes: usize,
}

/// Evaluates a task's iterations block by block: the kept inputs from `ins`, the others drawn
/// here; each output's values go to `outs`.
#[allow(clippy::too_many_arguments)]
fn evaluate_task<'m>(
    sim: &Simulation<'m>,
    block: &mut mcsim_engine::sim::Block<'m>,
    outbuf: &mut [Vec<f64>],
    draws: Draws<'_>,
    start: u64,
    ins: &[&[f64]],
    outs: &mut [&mut [f64]],
) {
    let len = outs.first().map_or(0, |o| o.len());
    let lanes_per_block = draws.lanes;
    let mut off = 0;
    while off < len {
        let lanes = lanes_per_block.min(len - off);
        for (k, col) in ins.iter().enumerate() {
            block.input_mut(k)[..lanes].copy_from_slice(&col[off..off + lanes]);
        }
        for (k, sampler) in draws.samplers.iter().enumerate().skip(ins.len()) {
            sampler.sample_into(
                draws.method,
                draws.streams,
                draws.keys[k],
                draws.iterations,
                start + off as u64,
                &mut block.input_mut(k)[..lanes],
            );
        }
        sim.run_block(block, lanes, outbuf);
        for (o, buf) in outs.iter_mut().zip(outbuf.iter()) {
            o[off..off + lanes].copy_from_slice(&buf[..lanes]);
        }
        off += lanes;
    }
}

/// One task: its first iteration, then its slices of the input and output columns.
type Task<'a> = (u64, Vec<&'a mut [f64]>, Vec<&'a mut [f64]>);

/// One sampled column: a cell whose whole value is sampled (model-file inputs), or a random call
/// site (a distribution or RAND() call in a formula).
struct Input {
    cell: Option<CellId>,
    site: Option<Site>,
    /// Kept for sensitivity and the samples file.
    stored: bool,
    info: InputInfo,
    sampler: Sampler,
    /// The random stream's key, from the input's identity ([`cell_key`]), so that adding or
    /// fixing other inputs never changes this input's draws.
    key: u64,
}

/// The stream key of the `call`-th distribution call of a cell (0 for a cell holding one
/// distribution, or an input from the model file); see [`mcsim_sampling::stream_key`].
pub fn cell_key(model: &Model, cell: CellId, call: u32) -> u64 {
    match model.cells.get(cell as usize) {
        Some(c) => stream_key(
            model
                .sheets
                .get(c.sheet as usize)
                .map_or("", |s| s.name.as_str()),
            c.row,
            c.col,
            call,
        ),
        None => stream_key("", u32::MAX, cell, call),
    }
}

/// Iterations between two checks of `--until-converged`: the run stops at the first multiple of
/// this (or at the maximum) where every output has converged, whatever the thread count.
pub const CONVERGENCE_STEP: u64 = 2 * DESIGN_BLOCK as u64;

fn site_of(model: &Model, cell: CellId, offset: u32, kind: SiteKind) -> Site {
    let c = &model.cells[cell as usize];
    Site {
        key: SiteKey {
            sheet: c.sheet,
            row: c.row,
            col: c.col,
            offset,
        },
        kind,
    }
}

/// Tracked cells' simulated values, sorted, for statistics functions in cells.
#[derive(Default)]
struct Tracked(std::collections::HashMap<CellId, (Vec<f64>, usize)>);

impl mcsim_engine::eval::SimResults for Tracked {
    fn sorted(&self, cell: CellId) -> Option<(&[f64], usize)> {
        self.0.get(&cell).map(|(xs, e)| (xs.as_slice(), *e))
    }
}

/// The standard error of a bare statistics call (`=RiskMean(B5)`, `=RiskPercentile(B5, 0.9)`)
/// over these samples; `None` for other formulas and statistics.
fn standard_error(
    model: &Model,
    st: &mcsim_engine::sim::inputs::StatCall,
    samples: &[f64],
) -> Option<f64> {
    use mcsim_formula::ExprKind;
    let fid = model.cells[st.cell as usize].formula?;
    let expr = model.formulas[fid as usize].expr.as_ref().ok()?;
    let ExprKind::Call { name, args } = &expr.kind else {
        return None;
    };
    mcsim_engine::sim::inputs::statistic(name)?;
    let mut xs: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = xs.len();
    if n < 2 {
        return None;
    }
    xs.sort_unstable_by(f64::total_cmp);
    let nf = n as f64;
    let mean = xs.iter().sum::<f64>() / nf;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);
    let arg = |i: usize| -> Option<f64> {
        match &args.get(i)?.kind {
            ExprKind::Number(x) => Some(*x),
            _ => None,
        }
    };
    match st.function.as_str() {
        "MEAN" => Some((var / nf).sqrt()),
        "STDDEV" => {
            let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf;
            let se_var = ((m4 - var * var) / nf).max(0.0).sqrt();
            Some(se_var / (2.0 * var.sqrt()))
        }
        "PERCENTILE" | "PTOX" => {
            // The order statistics one binomial standard deviation either side of the rank.
            let p = arg(1)?;
            let half = (nf * p * (1.0 - p)).sqrt();
            let at = |r: f64| xs[(r.round().max(0.0) as usize).min(n - 1)];
            Some((at(nf * p + half) - at(nf * p - half)) / 2.0)
        }
        "TARGET" | "XTOP" => {
            let x = arg(1)?;
            let q = xs.partition_point(|&v| v <= x) as f64 / nf;
            Some((q * (1.0 - q) / nf).sqrt().max(1.0 / nf))
        }
        _ => None,
    }
}

/// A cell value as the workbook writer stores it.
fn update_value(v: &Value) -> mcsim_workbook::UpdateValue {
    use mcsim_workbook::UpdateValue;
    match v {
        Value::Number(n) => UpdateValue::Number(*n),
        Value::Bool(b) => UpdateValue::Bool(*b),
        Value::Empty => UpdateValue::Number(0.0),
        Value::Array(_) => update_value(&v.first()),
        Value::Error(e) => UpdateValue::Error(e.to_string()),
        other => match other.to_text() {
            Ok(t) => UpdateValue::Text(t.to_string()),
            Err(e) => UpdateValue::Error(e.to_string()),
        },
    }
}

/// A cell value as JSON: numbers, text and booleans as such, errors as their text (`#N/A`).
fn json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Number(n) => serde_json::json!(n),
        Value::Bool(b) => serde_json::json!(b),
        Value::Empty => serde_json::Value::Null,
        Value::Array(_) => json_value(&v.first()),
        other => match other.to_text() {
            Ok(t) => serde_json::json!(&*t),
            Err(e) => serde_json::json!(e.to_string()),
        },
    }
}

/// The correlation matrix of the inputs at these 1-based `positions` of a worksheet matrix.
/// Worksheets often hold one triangle only, the other blank or 0: either triangle or both are
/// accepted, and a matrix whose two triangles disagree is refused, naming the entry. A blank
/// diagonal counts as 1.
fn corrmat_matrix(m: &mcsim_engine::Array, positions: &[usize]) -> Result<Vec<Vec<f64>>, String> {
    let entry = |i: usize, j: usize| -> Result<Option<f64>, String> {
        match m.get(i, j) {
            None | Some(Value::Empty) => Ok(None),
            Some(v) => v.to_number().map(Some).map_err(|_| {
                format!(
                    "the entry in row {}, column {} is not a number",
                    i + 1,
                    j + 1
                )
            }),
        }
    };
    let mut out = vec![vec![0.0; positions.len()]; positions.len()];
    for (a, &pi) in positions.iter().enumerate() {
        if pi == 0 || pi > m.rows {
            return Err(format!(
                "position {pi} is outside the {}x{} matrix",
                m.rows, m.cols
            ));
        }
        for (b, &pj) in positions.iter().enumerate() {
            let (i, j) = (pi - 1, pj - 1);
            out[a][b] = if i == j {
                match entry(i, i)? {
                    None => 1.0,
                    Some(1.0) => 1.0,
                    Some(x) => {
                        return Err(format!("the diagonal entry in row {} is {x}, not 1", i + 1));
                    }
                }
            } else {
                match (entry(i, j)?, entry(j, i)?) {
                    (None, None) => 0.0,
                    (Some(x), None) | (None, Some(x)) => x,
                    (Some(x), Some(y)) if x == y => x,
                    (Some(x), Some(0.0)) | (Some(0.0), Some(x)) => x,
                    (Some(x), Some(y)) => {
                        return Err(format!(
                            "the matrix is not symmetric: row {}, column {} is {x} but row {}, column {} is {y}",
                            i + 1,
                            j + 1,
                            j + 1,
                            i + 1
                        ));
                    }
                }
            };
        }
    }
    Ok(out)
}

/// Runs the simulation. `progress(done, total)` is called as tasks complete.
///
/// A workbook with `RiskSimtable(values)` cells runs one simulation per value, as @RISK's "number
/// of simulations": the report's outputs are the first simulation's, and
/// [`RunReport::simulations`] holds every simulation's outputs and statistics cells. Every
/// simulation draws the same random numbers (the streams depend on the seed and the input, not
/// on the simulation), so differences between simulations are not noise.
pub fn run(opts: &RunOptions, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<RunReport, OpsError> {
    let mut report = run_simulation(opts, progress, 0)?;
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
            let r = run_simulation(opts, progress, k)?;
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

/// One simulation (number `simulation`, 0-based, of a `RiskSimtable` run).
fn run_simulation(
    opts: &RunOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
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
    let wb = mcsim_workbook::load_bytes(&bytes, &opts.workbook.to_string_lossy(), &opts.load)?;
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let mut warnings: Vec<String> = Vec::new();
    if !graph.cycles.is_empty() {
        warnings.push(format!(
            "{} circular reference(s): computed by iteration (up to {} passes, until no value changes by more than {}), as Excel's iterative calculation does",
            graph.cycles.len(),
            mcsim_engine::sim::CYCLE_ITERATIONS,
            mcsim_engine::sim::CYCLE_MAX_CHANGE
        ));
    }

    // The model file.
    let config_path = match &opts.config {
        Some(p) => Some(p.clone()),
        None => {
            let beside = opts
                .workbook
                .parent()
                .unwrap_or(Path::new("."))
                .join("mcsim.toml");
            beside.exists().then_some(beside)
        }
    };
    let cfg = match &config_path {
        Some(p) => ModelConfig::load(p)?,
        None => ModelConfig::default(),
    };
    let input_err = |message: String| OpsError::Model { message };

    // Deterministic pass and detection of distribution calls, RAND() calls and statistics.
    let mut ev = Evaluator::new(&model);
    ev.set_simulation(simulation);
    mcsim_engine::sim::recalculate(&mut ev, &graph, &[]);
    let mut detected = detect(&model, &mut ev);
    let base_values_all: Vec<Value> = ev.values().to_vec();
    drop(ev);

    // What-if overrides remove a cell's uncertainty.
    let mut overrides: Vec<(CellId, Value)> = Vec::new();
    for (r, v) in &opts.sets {
        let (s, row, col) = resolve(&model, r).map_err(|m| input_err(format!("--set {r}: {m}")))?;
        let cell = model.find(s, row, col).ok_or_else(|| {
            input_err(format!(
                "--set {r}: the cell is empty in the workbook, so nothing reads it"
            ))
        })?;
        overrides.push((cell, parse_value(v)));
    }
    let fixed: Vec<CellId> = overrides.iter().map(|o| o.0).collect();
    // Names and cells of inputs fixed by `--set`: model-file correlation groups drop them.
    let mut fixed_names: Vec<String> = Vec::new();

    let mut inputs: Vec<Input> = Vec::new();
    let mut by_cell: BTreeMap<CellId, usize> = BTreeMap::new();
    for ic in &cfg.inputs {
        let cell = cell_id(&model, &ic.cell).map_err(|m| {
            input_err(format!(
                "model file input `{}`: {m}; give the cell a base value in the workbook",
                ic.cell
            ))
        })?;
        let dist = ic
            .distribution()
            .map_err(|m| input_err(format!("input `{}`: {m}", ic.cell)))?;
        let modifiers = Modifiers {
            truncate: ic.truncate.map(|t| Truncation {
                min: t.min,
                max: t.max,
            }),
            shift: ic.shift.unwrap_or(0.0),
        };
        let sampler = Sampler::with_modifiers(&dist, modifiers)
            .map_err(|e| input_err(format!("input `{}`: {e}", ic.cell)))?;
        if fixed.contains(&cell) {
            warnings.push(format!(
                "--set {} fixes the input `{}` for this run",
                model.cell_label(cell),
                ic.name.clone().unwrap_or_else(|| model.cell_label(cell))
            ));
            fixed_names.extend(ic.name.clone());
            fixed_names.extend([ic.cell.clone(), model.cell_label(cell)]);
            continue;
        }
        by_cell.insert(cell, inputs.len());
        inputs.push(Input {
            cell: Some(cell),
            site: None,
            stored: true,
            info: InputInfo {
                name: ic.name.clone().unwrap_or_else(|| model.cell_label(cell)),
                cell: model.cell_label(cell),
                source: "config",
                distribution: Some(dist),
                modifiers: Some(modifiers),
            },
            sampler,
            key: cell_key(&model, cell, 0),
        });
    }
    let cell_inputs = inputs.len();

    // Which distribution calls have parameters that change from iteration to iteration.
    {
        let mut all_sites: Vec<Site> = Vec::new();
        for c in &detected.inputs {
            all_sites.push(site_of(&model, c.cell, c.offset, SiteKind::Sampled));
        }
        for &(c, o) in &detected.rand_sites {
            all_sites.push(site_of(&model, c, o, SiteKind::Rand));
        }
        let cells: Vec<CellId> = by_cell.keys().copied().collect();
        let sto = mcsim_engine::sim::stochastic_cells(&model, &graph, &cells, &all_sites, &fixed);
        mark_dynamic(&model, &mut detected, &sto);
    }

    let uniform_dist = Distribution::Uniform { min: 0.0, max: 1.0 };
    let uniform = Sampler::new(&uniform_dist).map_err(|e| input_err(e.to_string()))?;
    let mut corrmats: BTreeMap<String, Vec<(usize, usize, Value)>> = BTreeMap::new();
    let mut depcs: BTreeMap<String, Vec<(usize, Option<f64>)>> = BTreeMap::new();
    let mut set_warned: Vec<CellId> = Vec::new();
    // Distribution calls that cannot be sampled (invalid parameters, unknown distribution).
    let mut unusable: Vec<(CellId, String)> = Vec::new();
    // Which inputs carry an automatic name (by position in `inputs`).
    let mut auto_named: Vec<bool> = vec![false; inputs.len()];
    for call in &detected.inputs {
        if by_cell.contains_key(&call.cell) {
            continue; // The model file overrides the cell's own distribution.
        }
        if fixed.contains(&call.cell) {
            fixed_names.extend(call.name.clone());
            fixed_names.push(call.label.clone());
            if !set_warned.contains(&call.cell) {
                set_warned.push(call.cell);
                warnings.push(format!(
                    "--set {} fixes the input `{}` for this run",
                    model.cell_label(call.cell),
                    call.name.clone().unwrap_or_else(|| call.label.clone())
                ));
            }
            continue;
        }
        let modifiers = Modifiers {
            truncate: call.truncate.map(|(min, max)| Truncation { min, max }),
            shift: call.shift.unwrap_or(0.0),
        };
        let (kind, sampler, dist) = if call.dynamic {
            (
                SiteKind::Dynamic(DynamicDist { modifiers }),
                uniform.clone(),
                None,
            )
        } else {
            let built = mcsim_engine::sim::dists::distribution(call)
                .map_err(|m| format!("{}: {m}", call.label))
                .and_then(|dist| {
                    Sampler::with_modifiers(&dist, modifiers)
                        .map(|s| (s, dist))
                        .map_err(|e| format!("{}: {e}", call.label))
                });
            match built {
                Ok((sampler, dist)) => (SiteKind::Sampled, sampler, Some(dist)),
                Err(message) => {
                    // An error only if an output reads the cell (decided below).
                    unusable.push((call.cell, message));
                    continue;
                }
            }
        };
        for ig in &call.ignored {
            warnings.push(format!("{}: {ig} is accepted and ignored", call.label));
        }
        if let Some((m, pos, key)) = &call.corrmat {
            corrmats
                .entry(key.clone())
                .or_default()
                .push((inputs.len(), *pos, m.clone()));
        }
        if let Some((id, coef)) = &call.depc {
            depcs
                .entry(id.clone())
                .or_default()
                .push((inputs.len(), *coef));
        }
        auto_named.push(call.name.is_none());
        let name = match &call.name {
            Some(n) => n.clone(),
            None => {
                let auto = auto_name(&model, &base_values_all, call.cell)
                    .unwrap_or_else(|| model.cell_label(call.cell));
                if call.label.contains('#') {
                    format!("{auto} #{}", call.index + 1)
                } else {
                    auto
                }
            }
        };
        inputs.push(Input {
            cell: None,
            site: Some(site_of(&model, call.cell, call.offset, kind)),
            stored: true,
            info: InputInfo {
                name,
                cell: call.label.clone(),
                source: if call.dynamic {
                    "cell (uniform)"
                } else {
                    "cell"
                },
                distribution: dist,
                modifiers: Some(modifiers),
            },
            sampler,
            key: cell_key(&model, call.cell, call.index),
        });
    }
    // RAND() and RANDBETWEEN() calls: a uniform each. Kept for sensitivity when there are few;
    // workbooks that unroll iterations into rows have thousands, drawn block by block instead.
    let rand_sites: Vec<(CellId, u32)> = detected
        .rand_sites
        .iter()
        .copied()
        .filter(|(c, _)| !fixed.contains(c) && !by_cell.contains_key(c))
        .collect();
    let store_rand = rand_sites.len() <= MAX_STORED_RAND;
    if !store_rand {
        warnings.push(format!(
            "{} RAND() calls: their uniforms are not kept for sensitivity or in the samples file",
            rand_sites.len()
        ));
    }
    let mut per_cell: BTreeMap<CellId, u32> = BTreeMap::new();
    for &(c, o) in &rand_sites {
        let k = per_cell.entry(c).or_insert(0);
        *k += 1;
        inputs.push(Input {
            cell: None,
            site: Some(site_of(&model, c, o, SiteKind::Rand)),
            stored: store_rand,
            info: InputInfo {
                name: format!("RAND#{} {}", *k, model.cell_label(c)),
                cell: model.cell_label(c),
                source: "rand",
                distribution: Some(uniform_dist.clone()),
                modifiers: None,
            },
            sampler: uniform.clone(),
            // The j-th RAND() call of a cell (j from 0).
            key: cell_key(&model, c, 1000 + (*k - 1)),
        });
    }
    // Names must tell inputs apart (reports, correlation lists, samples-file columns): automatic
    // names shared by several inputs take their column label, then their cell.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in &inputs {
        *counts.entry(i.info.name.clone()).or_default() += 1;
    }
    for (i, auto) in inputs.iter_mut().zip(&auto_named) {
        if *auto && counts.get(&i.info.name).copied().unwrap_or(0) > 1 {
            let cell = i
                .site
                .as_ref()
                .and_then(|s| model.find(s.key.sheet, s.key.row, s.key.col));
            if let Some(c) = cell
                && let (_, Some(col)) = auto_name_parts(&model, &base_values_all, c)
            {
                i.info.name = format!("{} / {col}", i.info.name);
            }
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in &inputs {
        *counts.entry(i.info.name.clone()).or_default() += 1;
    }
    for i in inputs.iter_mut() {
        if counts.get(&i.info.name).copied().unwrap_or(0) > 1 {
            i.info.name = format!("{} ({})", i.info.name, i.info.cell);
        }
    }

    // Outputs.
    let mut outputs: Vec<(CellId, String)> = Vec::new();
    for oc in &cfg.outputs {
        let cell =
            cell_id(&model, &oc.cell).map_err(|m| input_err(format!("model file output: {m}")))?;
        outputs.push((
            cell,
            oc.name.clone().unwrap_or_else(|| model.cell_label(cell)),
        ));
    }
    let mut auto_outputs = vec![false; outputs.len()];
    for om in &detected.outputs {
        if !outputs.iter().any(|o| o.0 == om.cell) {
            auto_outputs.push(om.name.is_none() && om.range.is_none());
            let name = match (&om.name, &om.range) {
                (Some(n), _) => n.clone(),
                (None, Some((range, Some(pos)))) => format!("{range} ({pos})"),
                (None, Some((range, None))) => range.clone(),
                (None, None) => auto_name(&model, &base_values_all, om.cell)
                    .unwrap_or_else(|| model.cell_label(om.cell)),
            };
            outputs.push((om.cell, name));
        }
    }
    for (r, name) in &opts.outputs {
        let cell =
            tables::output_cell(&model, r).map_err(|m| input_err(format!("--output {r}: {m}")))?;
        match outputs.iter_mut().find(|o| o.0 == cell) {
            Some(o) => {
                if let Some(n) = name {
                    o.1 = n.clone();
                }
            }
            None => outputs.push((cell, name.clone().unwrap_or_else(|| model.cell_label(cell)))),
        }
    }
    // Without outputs, a data table's result formulas (a table used as the simulation loop
    // also sets the default number of iterations).
    let mut table_iterations = None;
    if outputs.is_empty() {
        let (cells, n) = tables::table_outputs(&model, &graph, &mut warnings);
        table_iterations = n;
        outputs.extend(cells.into_iter().map(|c| (c, model.cell_label(c))));
    }
    if outputs.is_empty() {
        return Err(input_err(
            "no outputs: name output cells with --output Sheet!B5, mark them with =RiskOutput()+... in the workbook, or list them as [[output]] in a model file (--config)".into(),
        ));
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, n) in &outputs {
        *counts.entry(n.clone()).or_default() += 1;
    }
    for ((c, n), auto) in outputs.iter_mut().zip(&auto_outputs) {
        if *auto
            && counts.get(n.as_str()).copied().unwrap_or(0) > 1
            && let (_, Some(col)) = auto_name_parts(&model, &base_values_all, *c)
        {
            *n = format!("{n} / {col}");
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, n) in &outputs {
        *counts.entry(n.clone()).or_default() += 1;
    }
    for (c, n) in outputs.iter_mut() {
        if counts.get(n.as_str()).copied().unwrap_or(0) > 1 {
            warnings.push(format!(
                "two or more outputs are named `{n}`; this one is told apart by its cell"
            ));
            *n = format!("{n} ({})", model.cell_label(*c));
        }
    }
    // A distribution that cannot be sampled is an error where an output reads it, and otherwise
    // a warning (@RISK would refuse the whole model; a cell nothing reads does not change the
    // results).
    if !unusable.is_empty() {
        let everything = vec![true; model.cells.len()];
        let out_cells: Vec<CellId> = outputs.iter().map(|o| o.0).collect();
        let feeds = graph.upstream(&model, &out_cells, &everything);
        for (cell, message) in &unusable {
            if feeds[*cell as usize] {
                return Err(input_err(message.clone()));
            }
            warnings.push(format!(
                "{message}; no output reads the cell, so it is left out of the simulation"
            ));
        }
    }
    if inputs.is_empty() {
        return Err(input_err(
            "no uncertain inputs: use distribution functions (=RiskNormal(..)), RAND(), or [[input]] entries in a model file (--config)".into(),
        ));
    }
    let _ = cell_inputs;
    // An add-in function mcsim does not implement, in a cell the outputs read, would give #NAME?
    // in every iteration: refuse, naming the cell and the function.
    {
        let everything = vec![true; model.cells.len()];
        let out_cells: Vec<CellId> = outputs.iter().map(|o| o.0).collect();
        let feeds = graph.upstream(&model, &out_cells, &everything);
        for f in &model.formulas {
            if !feeds[f.cell as usize] {
                continue;
            }
            let Ok(e) = &f.expr else { continue };
            for name in e.functions() {
                let addin = ["RISK", "PSI", "VOSE", "CB."]
                    .iter()
                    .any(|p| name.starts_with(p));
                if addin && !mcsim_engine::functions::is_supported(name) {
                    return Err(input_err(format!(
                        "{}: {name} is not supported by mcsim (the cell feeds the outputs)",
                        model.cell_label(f.cell)
                    )));
                }
            }
        }
    }

    // Correlation groups.
    let mut groups: Vec<(Vec<usize>, CorrelationPlan)> = Vec::new();
    let name_index = |n: &str| {
        inputs
            .iter()
            .position(|i| i.info.name == n || i.info.cell == n)
    };
    for cc in &cfg.correlations {
        // Members fixed by `--set` leave the group, with their rows and columns.
        let kept: Vec<usize> = (0..cc.inputs.len())
            .filter(|&j| !fixed_names.contains(&cc.inputs[j]))
            .collect();
        let idx: Result<Vec<usize>, OpsError> = kept
            .iter()
            .map(|&j| {
                let n = &cc.inputs[j];
                name_index(n).ok_or_else(|| input_err(format!("correlation: no input named `{n}`")))
            })
            .collect();
        let idx = idx?;
        let what = cc.inputs.join(", ");
        let (plan, repair) = CorrelationPlan::new(&cc.matrix)
            .map_err(|e| input_err(format!("correlation of {what}: {e}")))?;
        if plan.dim() != cc.inputs.len() {
            return Err(input_err(format!(
                "correlation of {what}: the matrix is {0}x{0} for {1} inputs",
                plan.dim(),
                cc.inputs.len()
            )));
        }
        if let Some(r) = repair {
            warnings.push(format!("correlation of {what}: {r:?}"));
        }
        let plan = if kept.len() == cc.inputs.len() {
            plan
        } else {
            // A principal submatrix of the (repaired) target stays positive semi-definite.
            let full = plan.matrix();
            let sub: Vec<Vec<f64>> = kept
                .iter()
                .map(|&i| kept.iter().map(|&j| full[i][j]).collect())
                .collect();
            CorrelationPlan::new(&sub)
                .map_err(|e| input_err(format!("correlation of {what}: {e}")))?
                .0
        };
        groups.push((idx, plan));
    }
    for (key, members) in &corrmats {
        let m = match &members[0].2 {
            Value::Array(a) => a.clone(),
            _ => {
                return Err(input_err(format!(
                    "RiskCorrmat({key}): the matrix must be a square range of numbers"
                )));
            }
        };
        if m.rows != m.cols {
            return Err(input_err(format!(
                "RiskCorrmat({key}): the matrix is {}x{}, not square",
                m.rows, m.cols
            )));
        }
        // Members fixed by `--set` were never added: they leave the group.
        let mut order: Vec<(usize, usize)> = members.iter().map(|(k, pos, _)| (*pos, *k)).collect();
        order.sort();
        let positions: Vec<usize> = order.iter().map(|o| o.0).collect();
        let matrix = corrmat_matrix(&m, &positions)
            .map_err(|e| input_err(format!("RiskCorrmat({key}): {e}")))?;
        let (plan, repair) = CorrelationPlan::new(&matrix)
            .map_err(|e| input_err(format!("RiskCorrmat({key}): {e}")))?;
        if let Some(r) = repair {
            warnings.push(format!("RiskCorrmat({key}): {r:?}"));
        }
        groups.push((order.iter().map(|o| o.1).collect(), plan));
    }

    // The older RiskIndepC("id") / RiskDepC("id", coefficient) pairs: each dependent input is
    // rank-correlated with its independent one; two dependents of the same independent input get
    // the product of their coefficients (what they would have if each depended on it alone).
    for (id, members) in &depcs {
        let Some(&(indep, _)) = members.iter().find(|m| m.1.is_none()) else {
            return Err(input_err(format!(
                "RiskDepC(\"{id}\", ..) without a RiskIndepC(\"{id}\") input"
            )));
        };
        if members.iter().filter(|m| m.1.is_none()).count() > 1 {
            return Err(input_err(format!(
                "RiskIndepC(\"{id}\") is used by more than one input"
            )));
        }
        let deps: Vec<(usize, f64)> = members
            .iter()
            .filter_map(|m| m.1.map(|c| (m.0, c)))
            .collect();
        if deps.is_empty() {
            continue;
        }
        for &(k, c) in &deps {
            if !(-1.0..=1.0).contains(&c) {
                return Err(input_err(format!(
                    "RiskDepC(\"{id}\", {c}) in {}: the coefficient must be between -1 and 1",
                    inputs[k].info.cell
                )));
            }
        }
        let n = deps.len() + 1;
        let coef = |i: usize| if i == 0 { 1.0 } else { deps[i - 1].1 };
        let matrix: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            1.0
                        } else if i == 0 || j == 0 {
                            coef(i.max(j))
                        } else {
                            coef(i) * coef(j)
                        }
                    })
                    .collect()
            })
            .collect();
        let (plan, repair) = CorrelationPlan::new(&matrix)
            .map_err(|e| input_err(format!("RiskIndepC/RiskDepC(\"{id}\"): {e}")))?;
        if let Some(r) = repair {
            warnings.push(format!("RiskIndepC/RiskDepC(\"{id}\"): {r:?}"));
        }
        let idx: Vec<usize> = std::iter::once(indep)
            .chain(deps.iter().map(|d| d.0))
            .collect();
        groups.push((idx, plan));
    }

    // Threshold conditions are checked before simulating, so a typo costs nothing.
    let mut conditions = Vec::with_capacity(opts.fail_if.len());
    for cond in &opts.fail_if {
        let t =
            Threshold::parse(cond).map_err(|e| input_err(format!("--fail-if `{cond}`: {e}")))?;
        if !outputs.iter().any(|o| o.1 == t.output()) {
            return Err(input_err(format!(
                "--fail-if `{cond}`: no output named `{}`; the outputs are {}",
                t.output(),
                outputs
                    .iter()
                    .map(|o| format!("`{}`", o.1))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        conditions.push((cond.clone(), t));
    }

    let iterations = opts
        .iterations
        .or(cfg.iterations)
        .or(table_iterations)
        .unwrap_or(DEFAULT_ITERATIONS);
    if iterations == 0 {
        return Err(input_err(
            "the number of iterations must be at least 1".into(),
        ));
    }
    let seed = opts.seed.or(cfg.seed).unwrap_or_else(random_seed);
    let method = match opts.sampling {
        Some(m) => m,
        None => match &cfg.sampling {
            Some(s) => parse_method(s).ok_or_else(|| {
                input_err(format!(
                    "model file: unknown sampling `{s}` (use `lhs` or `mc`)"
                ))
            })?,
            None => Method::LatinHypercube,
        },
    };

    // Base values for the deterministic pass: each sampled cell at its mean.
    let base: Vec<(CellId, Value)> = inputs
        .iter()
        .filter_map(|i| i.cell.map(|c| (c, Value::Number(i.sampler.mean()))))
        .collect();
    let in_cells: Vec<CellId> = inputs.iter().filter_map(|i| i.cell).collect();
    let sites: Vec<Site> = inputs.iter().filter_map(|i| i.site.clone()).collect();
    // Cells that statistics functions (`=RiskMean(B5)`) read are simulated and tracked too.
    let mut tracked: Vec<CellId> = Vec::new();
    for st in &detected.statistics {
        if let Some(t) = st.target
            && !outputs.iter().any(|o| o.0 == t)
            && !tracked.contains(&t)
        {
            tracked.push(t);
        }
    }
    let out_cells: Vec<CellId> = outputs
        .iter()
        .map(|o| o.0)
        .chain(tracked.iter().copied())
        .collect();
    {
        // Data tables read by an output, and cells that cannot be evaluated (tables.rs).
        let mut uncertain: Vec<CellId> = in_cells
            .iter()
            .chain(&detected.rand_cells)
            .copied()
            .collect();
        for st in &sites {
            if let Some(c) = model.find(st.key.sheet, st.key.row, st.key.col) {
                uncertain.push(c);
            }
        }
        let fixed: Vec<(CellId, Value)> = overrides.iter().chain(&base).cloned().collect();
        let extra = tables::fixed_values(
            &model,
            &graph,
            &uncertain,
            &fixed,
            &out_cells,
            &mut warnings,
        );
        overrides.extend(extra);
    }
    let sim = Simulation::prepare_with(
        &model,
        &graph,
        &Spec {
            inputs: &in_cells,
            sites: &sites,
            outputs: &out_cells,
            overrides: &overrides,
            base_values: &base,
            simulation,
            interpret: false,
        },
    );
    let evaluation = match sim.plan() {
        Plan::Compiled(_) => "compiled".to_string(),
        Plan::Interpreted {
            reason, declined, ..
        } => {
            let msg = format!(
                "interpreted ({} uses {}, which the compiler does not handle yet)",
                reason.cell, reason.what
            );
            warnings.push(format!("evaluation is {msg}: slower than compiled"));
            if declined.len() > 1 {
                warnings.push(format!(
                    "{} cells force the interpreter (`interpreted_because` in --format json lists them)",
                    declined.len()
                ));
            }
            msg
        }
    };
    let interpreted_because: Vec<String> = match sim.plan() {
        Plan::Interpreted { declined, .. } => declined
            .iter()
            .map(|u| format!("{}: {}", u.cell, u.what))
            .collect(),
        Plan::Compiled(_) => Vec::new(),
    };
    let infos: Vec<InputInfo> = inputs
        .iter()
        .filter(|i| i.stored)
        .map(|i| i.info.clone())
        .collect();
    // Every sampled column's stream key (inputs, distribution calls and RAND() calls alike).
    let keys: Vec<u64> = inputs.iter().map(|i| i.key).collect();

    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| OpsError::Run {
            message: format!("could not start {threads} worker threads: {e}"),
        })?;

    // Iman-Conover works per design block; otherwise the interpreter's iterations are slow
    // enough that small tasks keep every thread busy (and the progress bar moving).
    let interpreted = matches!(sim.plan(), Plan::Interpreted { .. });
    let task_len: u64 = if !groups.is_empty() {
        DESIGN_BLOCK as u64
    } else if interpreted {
        INTERPRETED_TASK
    } else {
        8 * LANES as u64
    };
    // An interpreted model with correlation groups samples per design block, then evaluates in
    // small tasks (a design block is far more work than one thread should take alone).
    let two_phase = interpreted && !groups.is_empty();
    let streams = Streams::new(seed);
    let group_keys: Vec<Vec<u64>> = groups
        .iter()
        .map(|(idx, _)| idx.iter().map(|&k| keys[k]).collect())
        .collect();
    let n_cols_in = infos.len();
    let n_all_in = inputs.len();
    let n_out = out_cells.len();
    // Fewer lanes per block when a model has very many random calls, so that a block's columns
    // stay within a few megabytes.
    let lanes_per_block = (BLOCK_VALUES / n_all_in.max(1)).clamp(16, LANES);

    let mut in_samples: Vec<Vec<f64>> = vec![Vec::new(); n_cols_in];
    let mut out_samples: Vec<Vec<f64>> = vec![Vec::new(); n_out];

    let version = env!("CARGO_PKG_VERSION").to_string();
    let workbook_hash = format!("{:016x}", fnv1a(&bytes));
    let mut writer = match &opts.out {
        Some(path) => {
            let layout = SamplesLayout::new(
                infos.iter().map(|i| i.name.clone()),
                outputs.iter().map(|o| o.1.clone()),
            );
            let mut meta = BTreeMap::new();
            meta.insert("mcsim.seed".into(), seed.to_string());
            meta.insert("mcsim.iterations".into(), iterations.to_string());
            meta.insert("mcsim.sampling".into(), method_name(method).into());
            meta.insert(
                "mcsim.workbook".into(),
                opts.workbook.to_string_lossy().into_owned(),
            );
            meta.insert("mcsim.workbook_hash".into(), workbook_hash.clone());
            meta.insert("mcsim.version".into(), version.clone());
            meta.insert(
                "mcsim.inputs".into(),
                serde_json::to_string(&infos).unwrap_or_default(),
            );
            Some(samples_writer(path, opts.out_format, &layout, &meta)?)
        }
        None => None,
    };

    let sim_started = Instant::now();
    let mut checks: Option<Vec<ConvergenceCheck>> = opts.until_converged.map(|tol| {
        (0..n_out)
            .map(|_| ConvergenceCheck::new(tol).with_min_samples(1000))
            .collect()
    });
    let mut converged = None;
    let chunk_tasks = (threads * 4) as u64;
    let mut done: u64 = 0;
    let samplers: Vec<&Sampler> = inputs.iter().map(|i| &i.sampler).collect();
    // Reused across chunks (no fresh pages per chunk).
    let mut chunk_in: Vec<Vec<f64>> = vec![Vec::new(); n_cols_in];
    let mut chunk_out: Vec<Vec<f64>> = vec![Vec::new(); n_out];
    for (v, c) in in_samples
        .iter_mut()
        .chain(out_samples.iter_mut())
        .zip(std::iter::repeat(iterations))
    {
        v.reserve_exact(c.min(1 << 26) as usize);
    }
    while done < iterations {
        let chunk_end = (done + chunk_tasks * task_len).min(iterations);
        let chunk_n = (chunk_end - done) as usize;
        for c in chunk_in.iter_mut().chain(chunk_out.iter_mut()) {
            c.resize(chunk_n, 0.0);
        }
        // Split every column into per-task slices.
        let mut tasks: Vec<Task<'_>> = Vec::new();
        {
            let mut in_iters: Vec<_> = chunk_in
                .iter_mut()
                .map(|c| c.chunks_mut(task_len as usize))
                .collect();
            let mut out_iters: Vec<_> = chunk_out
                .iter_mut()
                .map(|c| c.chunks_mut(task_len as usize))
                .collect();
            let mut start = done;
            while start < chunk_end {
                let ins: Vec<&mut [f64]> = in_iters.iter_mut().filter_map(|it| it.next()).collect();
                let outs: Vec<&mut [f64]> =
                    out_iters.iter_mut().filter_map(|it| it.next()).collect();
                tasks.push((start, ins, outs));
                start = (start + task_len).min(chunk_end);
            }
        }
        let failure = std::sync::Mutex::new(None::<String>);
        let failure = &failure;
        let groups = &groups;
        let group_keys = &group_keys;
        let keys = &keys;
        let samplers = &samplers;
        let sim = &sim;
        let streams = &streams;
        pool.install(|| {
            tasks.into_par_iter().for_each_init(
                || {
                    (
                        sim.block(lanes_per_block),
                        vec![Vec::with_capacity(lanes_per_block); n_out],
                    )
                },
                |(block, outbuf), (start, mut ins, mut outs)| {
                    // Latin Hypercube strata span the whole run (the maximum with
                    // `--until-converged`), so any task computes its own slice.
                    for (k, col) in ins.iter_mut().enumerate() {
                        samplers[k].sample_into(method, streams, keys[k], iterations, start, col);
                    }
                    for ((idx, plan), gkeys) in groups.iter().zip(group_keys) {
                        let mut cols: Vec<&mut [f64]> = Vec::new();
                        // Borrow the group's columns in group order.
                        let mut rest: Vec<Option<&mut [f64]>> =
                            ins.iter_mut().map(|c| Some(&mut **c)).collect();
                        for &k in idx {
                            if let Some(c) = rest.get_mut(k).and_then(Option::take) {
                                cols.push(c);
                            }
                        }
                        if let Err(e) =
                            plan.apply(start / DESIGN_BLOCK as u64, gkeys, &mut cols, seed)
                            && let Ok(mut slot) = failure.lock()
                        {
                            *slot = Some(e.to_string());
                        }
                    }
                    if two_phase {
                        return;
                    }
                    let ins: Vec<&[f64]> = ins.iter().map(|c| &**c).collect();
                    evaluate_task(
                        sim,
                        block,
                        outbuf,
                        Draws {
                            samplers,
                            keys,
                            method,
                            streams,
                            iterations,
                            lanes: lanes_per_block,
                        },
                        start,
                        &ins,
                        &mut outs,
                    );
                },
            );
        });
        if let Some(msg) = failure.lock().ok().and_then(|mut f| f.take()) {
            return Err(OpsError::Run {
                message: format!("correlating inputs: {msg}"),
            });
        }
        if two_phase {
            let eval_len = INTERPRETED_TASK as usize;
            let mut eval_tasks: Vec<EvalTask<'_>> = Vec::new();
            {
                let mut in_iters: Vec<_> = chunk_in.iter().map(|c| c.chunks(eval_len)).collect();
                let mut out_iters: Vec<_> = chunk_out
                    .iter_mut()
                    .map(|c| c.chunks_mut(eval_len))
                    .collect();
                let mut start = done;
                while start < chunk_end {
                    let ins: Vec<&[f64]> = in_iters.iter_mut().filter_map(|it| it.next()).collect();
                    let outs: Vec<&mut [f64]> =
                        out_iters.iter_mut().filter_map(|it| it.next()).collect();
                    eval_tasks.push((start, ins, outs));
                    start = (start + eval_len as u64).min(chunk_end);
                }
            }
            pool.install(|| {
                eval_tasks.into_par_iter().for_each_init(
                    || {
                        (
                            sim.block(lanes_per_block),
                            vec![Vec::with_capacity(lanes_per_block); n_out],
                        )
                    },
                    |(block, outbuf), (start, ins, mut outs)| {
                        evaluate_task(
                            sim,
                            block,
                            outbuf,
                            Draws {
                                samplers,
                                keys,
                                method,
                                streams,
                                iterations,
                                lanes: lanes_per_block,
                            },
                            start,
                            &ins,
                            &mut outs,
                        );
                    },
                );
            });
        }
        for (dst, src) in in_samples.iter_mut().zip(&chunk_in) {
            dst.extend_from_slice(src);
        }
        for (dst, src) in out_samples.iter_mut().zip(&chunk_out) {
            dst.extend_from_slice(src);
        }
        // `--until-converged` checks at fixed iteration counts (multiples of CONVERGENCE_STEP,
        // and the maximum), never at chunk ends, which depend on the thread count: the stopping
        // point and every statistic are the same for any `--threads`. Iterations computed past
        // the stopping point are dropped.
        let mut stop = chunk_end;
        if let Some(cs) = checks.as_mut() {
            let mut points: Vec<u64> = Vec::new();
            let mut at = (done / CONVERGENCE_STEP + 1) * CONVERGENCE_STEP;
            while at <= chunk_end && at < iterations {
                points.push(at);
                at += CONVERGENCE_STEP;
            }
            if chunk_end == iterations {
                points.push(iterations);
            }
            for point in points {
                let upto = point as usize;
                // Every output's check sees this checkpoint (no short-circuit), then all must
                // agree.
                let states: Vec<bool> = cs
                    .iter_mut()
                    .zip(&out_samples)
                    .map(|(c, s)| c.converged(&s[..upto]))
                    .collect();
                if states.iter().all(|&b| b) {
                    converged = Some(true);
                    stop = point;
                    break;
                }
            }
        }
        let keep = (stop - done) as usize;
        if let Some(w) = writer.as_mut() {
            let cols: Vec<&[f64]> = chunk_in
                .iter()
                .chain(chunk_out.iter())
                .map(|c| &c[..keep])
                .collect();
            w.write_block(&cols).map_err(|e| OpsError::Run {
                message: format!("writing samples: {}", crate::results::chain(&e)),
            })?;
        }
        for v in in_samples.iter_mut().chain(out_samples.iter_mut()) {
            v.truncate(stop as usize);
        }
        done = stop;
        progress(done, iterations);
        if converged.is_some() {
            break;
        }
    }
    if checks.is_some() && converged.is_none() {
        converged = Some(false);
    }
    if let Some(w) = writer {
        w.finish().map_err(|e| OpsError::Run {
            message: format!("writing samples: {}", crate::results::chain(&e)),
        })?;
    }

    let simulation_seconds = sim_started.elapsed().as_secs_f64();

    // Statistics.
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
    let det = sim.deterministic_outputs();
    let named: Vec<(&str, &[f64])> = infos
        .iter()
        .map(|i| i.name.as_str())
        .zip(in_samples.iter().map(Vec::as_slice))
        .collect();
    // Inputs are ranked once for every output's rank correlations; outputs in parallel.
    let ranked = pool.install(|| mcsim_results::RankedInputs::new(&named));
    // The sorted values outlive the loop only for `--fail-if` and statistics cells.
    let keep_sorted = !conditions.is_empty() || !detected.statistics.is_empty();
    type PerOutput = Result<(OutputReport, Option<String>, Vec<f64>), OpsError>;
    let per_output: Vec<PerOutput> = pool.install(|| {
        outputs
            .par_iter()
            .enumerate()
            .map(|(k, (cell, name))| {
                let samples = &out_samples[k];
                // Error iterations are NaN in the samples; the summary counts and excludes them.
                // Each output is sorted once: the summary, ranks and convergence trace read the
                // sorted view, and its values are kept for `--fail-if` and statistics cells.
                let sorted = mcsim_results::SortedColumn::new(samples);
                let summary = Summary::compute_with_sorted(samples, &sorted.sorted, 0, &sopts)
                    .map_err(|e| OpsError::Run {
                        message: e.to_string(),
                    })?;
                let deterministic = det.get(k).copied().flatten().is_some();
                let mut sensitivity_warning = None;
                let sensitivity = if deterministic || named.is_empty() {
                    None
                } else {
                    match Sensitivity::compute_ranked_sorted(name, samples, &sorted, &ranked) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            sensitivity_warning =
                                Some(format!("output `{name}`: no sensitivity analysis: {e}"));
                            None
                        }
                    }
                };
                let convergence = mcsim_results::convergence_trace_sorted(
                    samples,
                    &sorted,
                    &[0.05, 0.5, 0.95],
                    10,
                )
                .map_err(|e| OpsError::Run {
                    message: e.to_string(),
                })?;
                Ok((
                    OutputReport {
                        name: name.clone(),
                        cell: model.cell_label(*cell),
                        deterministic,
                        summary,
                        sensitivity,
                        convergence,
                    },
                    sensitivity_warning,
                    if keep_sorted {
                        sorted.sorted
                    } else {
                        Vec::new()
                    },
                ))
            })
            .collect()
    });
    let mut reports = Vec::with_capacity(n_out);
    let mut sorted_cols: Vec<Vec<f64>> = Vec::with_capacity(n_out);
    for r in per_output {
        let (r, sensitivity_warning, sorted) = r?;
        sorted_cols.push(sorted);
        warnings.extend(sensitivity_warning);
        if r.deterministic {
            warnings.push(format!(
                "output `{}` depends on no uncertain input: it is the same in every iteration",
                r.name
            ));
        }
        reports.push(r);
    }
    // Statistics functions in cells take the simulated values, and the cells that depend on
    // them are recalculated, as @RISK does at the end of a simulation.
    let (statistics, cell_values) = if detected.statistics.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let mut tracked_results = Tracked::default();
        for (k, &c) in out_cells.iter().enumerate() {
            let non_nan = out_samples[k].iter().filter(|x| !x.is_nan()).count();
            // Outputs without infinities: the sorted view is exactly the non-NaN values, sorted
            // (tracked cells that are not outputs come after the outputs and are sorted here).
            let xs: Vec<f64> = if let Some(s) = sorted_cols.get(k).filter(|s| s.len() == non_nan) {
                s.clone()
            } else {
                let mut xs: Vec<f64> = out_samples[k]
                    .iter()
                    .copied()
                    .filter(|x| !x.is_nan())
                    .collect();
                xs.sort_unstable_by(f64::total_cmp);
                xs
            };
            let errors = out_samples[k].len() - xs.len();
            tracked_results.0.insert(c, (xs, errors));
        }
        let mut ev = Evaluator::new(&model);
        ev.set_simulation(simulation);
        for (c, v) in overrides.iter().chain(&base) {
            ev.set_value(*c, v.clone());
        }
        ev.set_results(std::sync::Arc::new(tracked_results));
        let kept: Vec<CellId> = overrides.iter().chain(&base).map(|o| o.0).collect();
        mcsim_engine::sim::recalculate(&mut ev, &graph, &kept);
        let mut seeds = vec![false; model.cells.len()];
        for st in &detected.statistics {
            seeds[st.cell as usize] = true;
        }
        let changed = graph.downstream(&model, &seeds);
        let mut stats = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for st in &detected.statistics {
            if !seen.insert(st.cell) {
                continue;
            }
            let f = model.cells[st.cell as usize]
                .formula
                .map(|fid| model.formulas[fid as usize].text())
                .unwrap_or_default();
            let value = ev.value(st.cell).clone();
            let stored = model.cells[st.cell as usize].stored.clone();
            let agreement_z = match (&value, &stored, st.target) {
                (Value::Number(v), Value::Number(sv), Some(t)) => {
                    out_cells.iter().position(|&c| c == t).and_then(|k| {
                        standard_error(&model, st, &out_samples[k]).map(|se| {
                            // Equal to 15 digits (a statistic of a constant) is agreement.
                            if (v - sv).abs() <= 1e-9 * v.abs().max(sv.abs()) {
                                0.0
                            } else {
                                (v - sv) / (std::f64::consts::SQRT_2 * se.max(1e-300))
                            }
                        })
                    })
                }
                _ => None,
            };
            stats.push(StatisticCell {
                cell: model.cell_label(st.cell),
                formula: format!("={f}"),
                value: json_value(&value),
                stored: json_value(&stored),
                of: st.target.map(|t| model.cell_label(t)),
                agreement_z,
            });
        }
        let mut values = Vec::new();
        for (i, &ch) in changed.iter().enumerate() {
            if ch {
                let c = &model.cells[i];
                values.push(CellValue {
                    sheet: model.sheets[c.sheet as usize].name.clone(),
                    row: c.row,
                    col: c.col,
                    value: ev.value(i as CellId).clone(),
                });
            }
        }
        (stats, values)
    };

    let mut thresholds = Vec::new();
    let names: Vec<&str> = outputs.iter().map(|o| o.1.as_str()).collect();
    for (cond, t) in &conditions {
        let lookup = |n: &str| {
            outputs
                .iter()
                .position(|o| o.1 == n)
                .map(|k| sorted_cols[k].as_slice())
        };
        let outcome = t
            .evaluate_detail_sorted(&lookup, &names)
            .map_err(|e| input_err(format!("--fail-if `{cond}`: {e}")))?;
        thresholds.push(ThresholdResult {
            condition: cond.clone(),
            value: outcome.statistic_value,
            holds: outcome.holds,
        });
    }
    // `--save-as`: the statistics cells (and their dependents) with the simulated values.
    // With RiskSimtable, the copy holds the first simulation's values (those of the report's
    // top-level outputs).
    if let Some(out) = opts.save_as.as_ref().filter(|_| simulation == 0) {
        let updates: Vec<mcsim_workbook::CellUpdate> = cell_values
            .iter()
            .map(|c| mcsim_workbook::CellUpdate {
                sheet: c.sheet.clone(),
                row: c.row,
                col: c.col,
                value: update_value(&c.value),
            })
            .collect();
        save::write_save_as(&opts.workbook, &bytes, out, &updates)?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(RunReport {
        workbook: opts.workbook.to_string_lossy().into_owned(),
        workbook_hash,
        seed,
        iterations: done,
        sampling: method_name(method),
        threads,
        elapsed_seconds: elapsed,
        simulation_seconds,
        iterations_per_second: done as f64 / simulation_seconds.max(1e-9),
        evaluation,
        interpreted_because,
        inputs: infos,
        outputs: reports,
        thresholds,
        converged,
        samples_file: opts.out.as_ref().map(|p| p.to_string_lossy().into_owned()),
        saved_as: opts
            .save_as
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        warnings,
        statistics,
        cell_values,
        version,
        simtable: detected
            .simtables
            .iter()
            .map(|(c, vs)| SimtableInfo {
                cell: model.cell_label(*c),
                values: vs.iter().map(json_value).collect(),
            })
            .collect(),
        simulations: Vec::new(),
    })
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
