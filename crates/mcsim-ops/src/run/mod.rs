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

use crate::error::OpsError;
use config::ModelConfig;
use mcsim_engine::sim::inputs::detect;
use mcsim_engine::sim::{Plan, Simulation};
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
    /// Where to write every sample (format from the extension: .parquet, .arrow/.feather/.ipc, .csv).
    pub out: Option<PathBuf>,
    /// What-if overrides: (`Sheet!A1`, value text).
    pub sets: Vec<(String, String)>,
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
    /// Warnings (repaired correlation matrices, ignored properties, ...).
    pub warnings: Vec<String>,
    /// mcsim version.
    pub version: String,
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

/// One task: its first iteration, then its slices of the input and output columns.
type Task<'a> = (u64, Vec<&'a mut [f64]>, Vec<&'a mut [f64]>);

struct Input {
    cell: CellId,
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

/// Runs the simulation. `progress(done, total)` is called as tasks complete.
pub fn run(opts: &RunOptions, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<RunReport, OpsError> {
    let started = Instant::now();
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
            "{} circular reference(s); their cells evaluate to 0 as in Excel without iteration",
            graph.cycles.len()
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

    // Deterministic pass and detection of in-cell distributions.
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let detected = detect(&model, &mut ev);
    drop(ev);

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
        by_cell.insert(cell, inputs.len());
        inputs.push(Input {
            cell,
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
    // RiskCorrmat members by cell: indices are resolved after `--set` removes fixed inputs.
    let mut corrmats: BTreeMap<String, Vec<(CellId, usize, Value)>> = BTreeMap::new();
    for call in &detected.inputs {
        if by_cell.contains_key(&call.cell) {
            continue; // The model file overrides the cell's own distribution.
        }
        if !call.whole_cell {
            return Err(input_err(format!(
                "{}: a distribution function inside a larger formula is not supported yet; put `=Risk{}(..)` alone in its own cell and refer to that cell",
                call.label,
                call.dist.to_lowercase()
            )));
        }
        let dist = mcsim_engine::sim::dists::distribution(call)
            .map_err(|m| input_err(format!("{}: {m}", call.label)))?;
        // (`distribution` names the function in its message; the cell is added here.)
        let modifiers = Modifiers {
            truncate: call.truncate.map(|(min, max)| Truncation { min, max }),
            shift: call.shift.unwrap_or(0.0),
        };
        let sampler = Sampler::with_modifiers(&dist, modifiers)
            .map_err(|e| input_err(format!("{}: {e}", call.label)))?;
        for ig in &call.ignored {
            warnings.push(format!("{}: {ig} is accepted and ignored", call.label));
        }
        if let Some((m, pos, key)) = &call.corrmat {
            corrmats
                .entry(key.clone())
                .or_default()
                .push((call.cell, *pos, m.clone()));
        }
        by_cell.insert(call.cell, inputs.len());
        inputs.push(Input {
            cell: call.cell,
            info: InputInfo {
                name: call.name.clone().unwrap_or_else(|| call.label.clone()),
                cell: call.label.clone(),
                source: "cell",
                distribution: Some(dist),
                modifiers: Some(modifiers),
            },
            sampler,
            key: cell_key(&model, call.cell, 0),
        });
    }

    // What-if overrides remove an input's uncertainty.
    let mut overrides: Vec<(CellId, Value)> = Vec::new();
    for (r, v) in &opts.sets {
        let (s, row, col) = resolve(&model, r).map_err(|m| input_err(format!("--set {r}: {m}")))?;
        let cell = model.find(s, row, col).ok_or_else(|| {
            input_err(format!(
                "--set {r}: the cell is empty in the workbook, so nothing reads it"
            ))
        })?;
        if let Some(&k) = by_cell.get(&cell) {
            warnings.push(format!(
                "--set {r} fixes the input `{}` for this run",
                inputs[k].info.name
            ));
        }
        overrides.push((cell, parse_value(v)));
    }
    let fixed: Vec<CellId> = overrides.iter().map(|o| o.0).collect();
    // Names and cells of fixed inputs: correlation groups drop them.
    let fixed_names: Vec<String> = inputs
        .iter()
        .filter(|i| fixed.contains(&i.cell))
        .flat_map(|i| [i.info.name.clone(), i.info.cell.clone()])
        .collect();
    inputs.retain(|i| !fixed.contains(&i.cell));

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
    for om in &detected.outputs {
        if !outputs.iter().any(|o| o.0 == om.cell) {
            outputs.push((
                om.cell,
                om.name.clone().unwrap_or_else(|| model.cell_label(om.cell)),
            ));
        }
    }
    if outputs.is_empty() {
        return Err(input_err(
            "no outputs: mark output cells with =RiskOutput()+... in the workbook, or list them as [[output]] in a model file (--config)".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (_, n) in &outputs {
        if !seen.insert(n.clone()) {
            return Err(input_err(format!(
                "two outputs are named `{n}`; output names must be unique"
            )));
        }
    }
    if inputs.is_empty() && detected.rand_cells.is_empty() {
        return Err(input_err(
            "no uncertain inputs: use distribution functions (=RiskNormal(..)), RAND(), or [[input]] entries in a model file (--config)".into(),
        ));
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
        // Members fixed by `--set` are gone from `inputs`: they leave the group.
        let mut order: Vec<(usize, usize)> = members
            .iter()
            .filter_map(|(cell, pos, _)| Some((*pos, inputs.iter().position(|i| i.cell == *cell)?)))
            .collect();
        order.sort();
        let positions: Vec<usize> = order.iter().map(|o| o.0).collect();
        let matrix: Vec<Vec<f64>> = positions
            .iter()
            .map(|&i| {
                positions
                    .iter()
                    .map(|&j| {
                        m.get(i.saturating_sub(1), j.saturating_sub(1))
                            .and_then(|v| v.to_number().ok())
                            .unwrap_or(f64::NAN)
                    })
                    .collect()
            })
            .collect();
        let (plan, repair) = CorrelationPlan::new(&matrix)
            .map_err(|e| input_err(format!("RiskCorrmat({key}): {e}")))?;
        if let Some(r) = repair {
            warnings.push(format!("RiskCorrmat({key}): {r:?}"));
        }
        groups.push((order.iter().map(|o| o.1).collect(), plan));
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

    // Base values for the deterministic pass: each input at its mean (or RiskStatic).
    let base: Vec<(CellId, Value)> = inputs
        .iter()
        .map(|i| {
            let stat = detected
                .inputs
                .iter()
                .find(|c| c.cell == i.cell)
                .and_then(|c| c.static_value);
            (
                i.cell,
                Value::Number(stat.unwrap_or_else(|| i.sampler.mean())),
            )
        })
        .collect();
    let in_cells: Vec<CellId> = inputs.iter().map(|i| i.cell).collect();
    let out_cells: Vec<CellId> = outputs.iter().map(|o| o.0).collect();
    let sim = Simulation::prepare(&model, &graph, &in_cells, &out_cells, &overrides, &base);
    let evaluation = match sim.plan() {
        Plan::Compiled(_) => "compiled".to_string(),
        Plan::Interpreted { reason, .. } => {
            let msg = format!(
                "interpreted ({} uses {}, which the compiler does not handle yet)",
                reason.cell, reason.what
            );
            warnings.push(format!("evaluation is {msg}: slower than compiled"));
            msg
        }
    };
    let rand_sites = sim.rand_sites();
    let n_in = inputs.len();
    let mut infos: Vec<InputInfo> = inputs.iter().map(|i| i.info.clone()).collect();
    // Stream keys of every sampled column: inputs, then RAND() sites (the j-th RAND call of a
    // cell gets call index 1000 + j).
    let mut keys: Vec<u64> = inputs.iter().map(|i| i.key).collect();
    if let Plan::Compiled(c) = sim.plan() {
        for (j, (cell, _)) in c.rand_slots.iter().enumerate() {
            let nth = c.rand_slots[..j].iter().filter(|r| r.0 == *cell).count();
            keys.push(cell_key(&model, *cell, 1000 + nth as u32));
            infos.push(InputInfo {
                name: format!("RAND#{} {}", j + 1, model.cell_label(*cell)),
                cell: model.cell_label(*cell),
                source: "rand",
                distribution: Some(Distribution::Uniform { min: 0.0, max: 1.0 }),
                modifiers: None,
            });
        }
    }
    let uniform = Sampler::new(&Distribution::Uniform { min: 0.0, max: 1.0 })
        .map_err(|e| input_err(e.to_string()))?;

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

    let task_len: u64 = if groups.is_empty() {
        8 * LANES as u64
    } else {
        DESIGN_BLOCK as u64
    };
    let streams = Streams::new(seed);
    let group_keys: Vec<Vec<u64>> = groups
        .iter()
        .map(|(idx, _)| idx.iter().map(|&k| keys[k]).collect())
        .collect();
    let n_cols_in = n_in + rand_sites;
    let n_out = outputs.len();

    let mut in_samples: Vec<Vec<f64>> = vec![Vec::new(); n_cols_in];
    let mut out_samples: Vec<Vec<f64>> = vec![Vec::new(); n_out];

    let version = env!("CARGO_PKG_VERSION").to_string();
    let workbook_hash = format!("{:016x}", fnv1a(&bytes));
    let mut writer = match &opts.out {
        Some(path) => {
            let format = SamplesFormat::from_path(path).map_err(|e| OpsError::Run {
                message: e.to_string(),
            })?;
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
            Some(
                SamplesWriter::create(path, format, &layout, &meta).map_err(|e| OpsError::Run {
                    message: format!("{}: {e}", path.display()),
                })?,
            )
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
    let samplers: Vec<&Sampler> = inputs
        .iter()
        .map(|i| &i.sampler)
        .chain(std::iter::repeat_n(&uniform, rand_sites))
        .collect();
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
                || (sim.block(LANES), vec![Vec::with_capacity(LANES); n_out]),
                |(block, outbuf), (start, mut ins, mut outs)| {
                    let len = ins
                        .first()
                        .map_or_else(|| outs.first().map_or(0, |o| o.len()), |c| c.len());
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
                    let mut off = 0;
                    while off < len {
                        let lanes = LANES.min(len - off);
                        for (k, col) in ins.iter().enumerate() {
                            block.input_mut(k)[..lanes].copy_from_slice(&col[off..off + lanes]);
                        }
                        sim.run_block(block, lanes, start + off as u64, seed, outbuf);
                        for (o, buf) in outs.iter_mut().zip(outbuf.iter()) {
                            o[off..off + lanes].copy_from_slice(&buf[..lanes]);
                        }
                        off += lanes;
                    }
                },
            );
        });
        if let Some(msg) = failure.lock().ok().and_then(|mut f| f.take()) {
            return Err(OpsError::Run {
                message: format!("correlating inputs: {msg}"),
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
                message: format!("writing samples: {e}"),
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
            message: format!("writing samples: {e}"),
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
    let per_output: Vec<Result<(OutputReport, Option<String>), OpsError>> = pool.install(|| {
        outputs
            .par_iter()
            .enumerate()
            .map(|(k, (cell, name))| {
                let samples = &out_samples[k];
                // Error iterations are NaN in the samples; the summary counts and excludes them.
                let summary = Summary::compute(samples, 0, &sopts).map_err(|e| OpsError::Run {
                    message: e.to_string(),
                })?;
                let deterministic = det.get(k).copied().flatten().is_some();
                let mut sensitivity_warning = None;
                let sensitivity = if deterministic || named.is_empty() {
                    None
                } else {
                    match Sensitivity::compute_ranked(name, samples, &ranked) {
                        Ok(s) => Some(s),
                        Err(e) => {
                            sensitivity_warning =
                                Some(format!("output `{name}`: no sensitivity analysis: {e}"));
                            None
                        }
                    }
                };
                let convergence = mcsim_results::convergence_trace(samples, &[0.05, 0.5, 0.95], 10)
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
                ))
            })
            .collect()
    });
    let mut reports = Vec::with_capacity(n_out);
    for r in per_output {
        let (r, sensitivity_warning) = r?;
        warnings.extend(sensitivity_warning);
        if r.deterministic {
            warnings.push(format!(
                "output `{}` depends on no uncertain input: it is the same in every iteration",
                r.name
            ));
        }
        reports.push(r);
    }
    let mut thresholds = Vec::new();
    let names: Vec<&str> = outputs.iter().map(|o| o.1.as_str()).collect();
    for (cond, t) in &conditions {
        let lookup = |n: &str| {
            outputs
                .iter()
                .position(|o| o.1 == n)
                .map(|k| out_samples[k].as_slice())
        };
        let outcome = t
            .evaluate_detail(&lookup, &names)
            .map_err(|e| input_err(format!("--fail-if `{cond}`: {e}")))?;
        thresholds.push(ThresholdResult {
            condition: cond.clone(),
            value: outcome.statistic_value,
            holds: outcome.holds,
        });
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
        inputs: infos,
        outputs: reports,
        thresholds,
        converged,
        samples_file: opts.out.as_ref().map(|p| p.to_string_lossy().into_owned()),
        warnings,
        version,
    })
}
