//! Preparing a model: the workbook read from bytes once ([`LoadedModel`]), then its inputs,
//! outputs, correlation groups and compiled program ([`Prepared`]), ready to be simulated any
//! number of times ([`simulate`](super::simulate())) on any thread pool.
//!
//! Nothing here touches the file system: callers (the CLI, a server) read the workbook and the
//! model file and pass their contents in.

use super::config::ModelConfig;
use super::{InputInfo, parse_method, tables};
use crate::error::OpsError;
use mcsim_engine::model::Calls;
use mcsim_engine::sim::inputs::{Detected, auto_name, auto_name_parts, detect, mark_dynamic};
use mcsim_engine::sim::sites::DynamicDist;
use mcsim_engine::sim::{Plan, Simulation, Site, SiteKey, SiteKind, Spec};
use mcsim_engine::{CellId, Evaluator, Graph, Model, Value};
use mcsim_results::Threshold;
use mcsim_sampling::{
    CorrelationPlan, Distribution, Method, Modifiers, Sampler, Truncation, stream_key,
};
use mcsim_workbook::LoadOptions;
use std::collections::BTreeMap;

/// RAND() calls kept as inputs (for sensitivity and the samples file) at most.
const MAX_STORED_RAND: usize = 256;

/// A workbook read from its bytes: the formula model and its dependency graph. It does not
/// depend on any run option, so one can be kept (by content hash) and prepared many times.
#[derive(Debug)]
pub struct LoadedModel {
    /// The name the workbook is known by (its path, or an upload's name).
    pub name: String,
    /// A 64-bit FNV-1a hash of the workbook's bytes, in hex (identifies the exact file).
    pub hash: String,
    /// The file's bytes (kept for `--save-as`, which writes a byte-preserving copy).
    pub bytes: Vec<u8>,
    /// The formula model.
    pub model: Model,
    /// Its dependency graph.
    pub graph: Graph,
}

impl LoadedModel {
    /// Reads a workbook from its bytes (`name` appears in messages), within `limits`.
    pub fn from_bytes(
        bytes: Vec<u8>,
        name: &str,
        limits: &LoadOptions,
    ) -> Result<LoadedModel, OpsError> {
        let wb = mcsim_workbook::load_bytes(&bytes, name, limits)?;
        let model = Model::from_workbook(&wb);
        let graph = Graph::build(&model);
        Ok(LoadedModel {
            name: name.to_string(),
            hash: format!("{:016x}", fnv1a(&bytes)),
            bytes,
            model,
            graph,
        })
    }
}

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// What a preparation needs beyond the workbook and its model file.
#[derive(Debug, Clone, Default)]
pub struct PrepareSpec {
    /// What-if overrides: (`Sheet!A1`, value text).
    pub sets: Vec<(String, String)>,
    /// Outputs named by the caller: (`Sheet!B5`, `B5` or a defined name; optional name).
    pub outputs: Vec<(String, Option<String>)>,
    /// Threshold conditions (`P(NPV < 0) > 0.2`), checked against the outputs here so that a
    /// typo costs nothing.
    pub fail_if: Vec<String>,
    /// Which simulation of a `RiskSimtable` run (0-based).
    pub simulation: usize,
}

/// One sampled column: a cell whose whole value is sampled (model-file inputs), or a random call
/// site (a distribution or RAND() call in a formula).
pub(crate) struct Input {
    pub(crate) cell: Option<CellId>,
    pub(crate) site: Option<Site>,
    /// Kept for sensitivity and the samples file.
    pub(crate) stored: bool,
    pub(crate) info: InputInfo,
    pub(crate) sampler: Sampler,
    /// The random stream's key, from the input's identity ([`cell_key`]), so that adding or
    /// fixing other inputs never changes this input's draws.
    pub(crate) key: u64,
}

/// A model ready to simulate: its sampled columns, outputs, correlation groups and compiled (or
/// interpreted) program. It borrows the [`LoadedModel`]; it is `Sync`, so one preparation serves
/// every worker thread of a run.
pub struct Prepared<'m> {
    pub(crate) loaded: &'m LoadedModel,
    pub(crate) sim: Simulation<'m>,
    pub(crate) simulation: usize,
    pub(crate) warnings: Vec<String>,
    pub(crate) detected: Detected,
    pub(crate) inputs: Vec<Input>,
    pub(crate) infos: Vec<InputInfo>,
    pub(crate) keys: Vec<u64>,
    pub(crate) groups: Vec<(Vec<usize>, CorrelationPlan)>,
    pub(crate) outputs: Vec<(CellId, String)>,
    pub(crate) out_cells: Vec<CellId>,
    pub(crate) overrides: Vec<(CellId, Value)>,
    pub(crate) base: Vec<(CellId, Value)>,
    pub(crate) conditions: Vec<(String, Threshold)>,
    pub(crate) evaluation: String,
    pub(crate) interpreted_because: Vec<String>,
    pub(crate) default_iterations: Option<u64>,
    pub(crate) default_seed: Option<u64>,
    pub(crate) default_method: Option<Method>,
}

impl Prepared<'_> {
    /// The workbook.
    pub fn loaded(&self) -> &LoadedModel {
        self.loaded
    }
    /// The inputs kept for sensitivity and the samples file, in column order.
    pub fn inputs(&self) -> &[InputInfo] {
        &self.infos
    }
    /// The outputs' names, in column order.
    pub fn output_names(&self) -> impl Iterator<Item = &str> {
        self.outputs.iter().map(|o| o.1.as_str())
    }
    /// `compiled`, or `interpreted` with the reason.
    pub fn evaluation(&self) -> &str {
        &self.evaluation
    }
    /// Warnings found while preparing.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Iterations the model file or a data table asks for, if any.
    pub fn default_iterations(&self) -> Option<u64> {
        self.default_iterations
    }
    /// The model file's seed, if any.
    pub fn default_seed(&self) -> Option<u64> {
        self.default_seed
    }
    /// The model file's sampling method, if any.
    pub fn default_method(&self) -> Option<Method> {
        self.default_method
    }
    /// Bytes one iteration's kept columns take (8 per input and output column).
    pub fn bytes_per_iteration(&self) -> u64 {
        8 * (self.infos.len() + self.out_cells.len()) as u64
    }
}

/// Prepares `loaded` for simulation with the model file `cfg` (the default when there is none).
pub fn prepare<'m>(
    loaded: &'m LoadedModel,
    cfg: &ModelConfig,
    spec: &PrepareSpec,
) -> Result<Prepared<'m>, OpsError> {
    let model = &loaded.model;
    let graph = &loaded.graph;
    let opts = spec;
    let simulation = spec.simulation;
    let mut warnings: Vec<String> = Vec::new();
    if !graph.cycles.is_empty() {
        warnings.push(format!(
            "{} circular reference(s): computed by iteration (up to {} passes, until no value changes by more than {}), as Excel's iterative calculation does",
            graph.cycles.len(),
            mcsim_engine::sim::CYCLE_ITERATIONS,
            mcsim_engine::sim::CYCLE_MAX_CHANGE
        ));
    }
    let input_err = |message: String| OpsError::Model { message };

    // Deterministic pass and detection of distribution calls, RAND() calls and statistics.
    let mut ev = Evaluator::new(model);
    ev.set_simulation(simulation);
    mcsim_engine::sim::recalculate(&mut ev, graph, &[]);
    // The same pass is the simulation's deterministic pass when nothing is fixed or overridden
    // (no `--set`, no model-file input cell, no data table's fixed value): kept, not made again.
    let recalculated = ev.fork();
    let mut detected = detect(model, &mut ev);
    let base_values_all: Vec<Value> = ev.values().to_vec();
    drop(ev);

    // What-if overrides remove a cell's uncertainty.
    let mut overrides: Vec<(CellId, Value)> = Vec::new();
    for (r, v) in &opts.sets {
        let (s, row, col) = resolve(model, r).map_err(|m| input_err(format!("--set {r}: {m}")))?;
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
        let cell = cell_id(model, &ic.cell).map_err(|m| {
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
            key: cell_key(model, cell, 0),
        });
    }
    let cell_inputs = inputs.len();

    // Which distribution calls have parameters that change from iteration to iteration. The
    // stochastic cells (a pass over every formula, made again when the program is compiled) are
    // read only through references in the calls' formulas: most distributions have constant
    // parameters, and then there is nothing to look up.
    if reads_cells(model, &detected) {
        let mut all_sites: Vec<Site> = Vec::new();
        for c in &detected.inputs {
            all_sites.push(site_of(model, c.cell, c.offset, SiteKind::Sampled));
        }
        for &(c, o) in &detected.rand_sites {
            all_sites.push(site_of(model, c, o, SiteKind::Rand));
        }
        let cells: Vec<CellId> = by_cell.keys().copied().collect();
        let sto = mcsim_engine::sim::stochastic_cells(model, graph, &cells, &all_sites, &fixed);
        mark_dynamic(model, &mut detected, &sto);
    } else {
        // No cell to read: only calls nested in the parameters make a distribution dynamic.
        mark_dynamic(model, &mut detected, &[]);
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
                let auto = auto_name(model, &base_values_all, call.cell)
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
            site: Some(site_of(model, call.cell, call.offset, kind)),
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
            key: cell_key(model, call.cell, call.index),
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
            site: Some(site_of(model, c, o, SiteKind::Rand)),
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
            key: cell_key(model, c, 1000 + (*k - 1)),
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
                && let (_, Some(col)) = auto_name_parts(model, &base_values_all, c)
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
            cell_id(model, &oc.cell).map_err(|m| input_err(format!("model file output: {m}")))?;
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
                (None, None) => auto_name(model, &base_values_all, om.cell)
                    .unwrap_or_else(|| model.cell_label(om.cell)),
            };
            outputs.push((om.cell, name));
        }
    }
    for (r, name) in &opts.outputs {
        let cell =
            tables::output_cell(model, r).map_err(|m| input_err(format!("--output {r}: {m}")))?;
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
        let (cells, n) = tables::table_outputs(model, graph, &mut warnings);
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
            && let (_, Some(col)) = auto_name_parts(model, &base_values_all, *c)
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
    // The cells the outputs read (directly or through other formulas): for the two checks below,
    // so not traced when neither has anything to check.
    let unknown_calls = model
        .formulas
        .iter()
        .any(|f| f.calls.any(Calls::UNSUPPORTED));
    let feeds = if unusable.is_empty() && !unknown_calls {
        Vec::new()
    } else {
        let everything = vec![true; model.cells.len()];
        let out_cells: Vec<CellId> = outputs.iter().map(|o| o.0).collect();
        graph.upstream(model, &out_cells, &everything)
    };
    // A distribution that cannot be sampled is an error where an output reads it, and otherwise
    // a warning (@RISK would refuse the whole model; a cell nothing reads does not change the
    // results).
    if !unusable.is_empty() {
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
    for f in &model.formulas {
        if !f.calls.any(Calls::UNSUPPORTED) || !feeds[f.cell as usize] {
            continue;
        }
        let Ok(e) = &f.expr else { continue };
        // The first such call of the formula (without collecting its function names).
        let mut missing: Option<&str> = None;
        e.each_call(&mut |name| {
            if missing.is_none()
                && ["RISK", "PSI", "VOSE", "CB."]
                    .iter()
                    .any(|p| name.starts_with(p))
                && !mcsim_engine::functions::is_supported(name)
            {
                missing = Some(name);
            }
        });
        if let Some(name) = missing {
            return Err(input_err(format!(
                "{}: {name} is not supported by mcsim (the cell feeds the outputs)",
                model.cell_label(f.cell)
            )));
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

    if cfg.iterations == Some(0) {
        return Err(input_err(
            "model file: the number of iterations must be at least 1".into(),
        ));
    }
    let default_method = match &cfg.sampling {
        Some(s) => Some(parse_method(s).ok_or_else(|| {
            input_err(format!(
                "model file: unknown sampling `{s}` (use `lhs` or `mc`)"
            ))
        })?),
        None => None,
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
        let extra =
            tables::fixed_values(model, graph, &uncertain, &fixed, &out_cells, &mut warnings);
        overrides.extend(extra);
    }
    let sim_spec = Spec {
        inputs: &in_cells,
        sites: &sites,
        outputs: &out_cells,
        overrides: &overrides,
        base_values: &base,
        simulation,
        interpret: false,
    };
    let sim = if overrides.is_empty() && base.is_empty() {
        Simulation::prepare_recalculated(model, graph, &sim_spec, recalculated)
    } else {
        drop(recalculated);
        Simulation::prepare_with(model, graph, &sim_spec)
    };
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

    Ok(Prepared {
        loaded,
        sim,
        simulation,
        warnings,
        detected,
        inputs,
        infos,
        keys,
        groups,
        outputs,
        out_cells,
        overrides,
        base,
        conditions,
        evaluation,
        interpreted_because,
        default_iterations: cfg.iterations.or(table_iterations),
        default_seed: cfg.seed,
        default_method,
    })
}

/// Does a formula holding a distribution call refer to a cell or a defined name anywhere? If none
/// does, [`mark_dynamic`] never looks at the stochastic cells.
fn reads_cells(model: &Model, detected: &Detected) -> bool {
    let mut last: Option<CellId> = None;
    detected.inputs.iter().any(|call| {
        if last == Some(call.cell) {
            return false; // The formula was looked at for the previous call.
        }
        last = Some(call.cell);
        let Some(fid) = model.cells.get(call.cell as usize).and_then(|c| c.formula) else {
            return false;
        };
        let Some(Ok(e)) = model.formulas.get(fid as usize).map(|f| &f.expr) else {
            return false;
        };
        let mut hit = false;
        e.walk(&mut |n| {
            hit |= matches!(
                n.kind,
                mcsim_formula::ExprKind::Ref(_) | mcsim_formula::ExprKind::Name { .. }
            );
        });
        hit
    })
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
