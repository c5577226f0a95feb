//! Differential testing of the block compiler against the scalar evaluator.
//!
//! The compiled program must give, for every formula cell of the cone, the value the interpreter
//! gives (bit for bit, or both an error, or equal as Excel compares numbers: 15 significant
//! digits), or the compiler must decline. [`check`] turns the numeric constants of a model that
//! feed formulas (and its whole-cell distribution calls) into uncertain inputs, draws perturbed
//! values for them (the constant itself, a small relative change, zero, the opposite sign, a
//! nearby integer: the edges where comparisons, divisions and domains change), runs both paths
//! over the same iterations and lists every disagreement.
//!
//! When the compiler declines, the check can also retry with fewer inputs (`prune_rounds`): the
//! constants upstream of the cell it declined are put back as constants, so that the rest of the
//! model still goes through the compiled path.

use super::compile::{Unsupported, stochastic_cells, unsupported_cells};
use super::{Plan, Simulation};
use crate::eval::Evaluator;
use crate::graph::Graph;
use crate::model::{CellId, Model};
use crate::value::Value;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Iterations (lanes of one block).
    pub iterations: usize,
    /// Seed of the perturbations.
    pub seed: u64,
    /// Retries with fewer inputs after the compiler declines (0: one attempt with every input).
    pub prune_rounds: usize,
    /// At most this many inputs (the first ones in cell order); 0 = no limit.
    pub max_inputs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            iterations: 64,
            seed: 0x5eed_d1ff,
            prune_rounds: 0,
            max_inputs: 0,
        }
    }
}

/// One disagreement between the compiled program and the interpreter.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// `Sheet1!B3`.
    pub cell: String,
    /// The formula, `=...`.
    pub formula: String,
    /// The iteration (lane).
    pub iteration: usize,
    /// The compiled program's value (NaN = an error).
    pub compiled: f64,
    /// The interpreter's value.
    pub interpreted: Value,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (iteration {}): compiled {:?}, interpreted {:?}",
            self.cell, self.formula, self.iteration, self.compiled, self.interpreted
        )
    }
}

/// The outcome of one attempt (one set of inputs).
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Inputs used.
    pub inputs: usize,
    /// The input cells.
    pub input_cells: Vec<CellId>,
    /// Formula cells of the cone compared (volatile cells and cells in a cycle are not compared).
    pub cells: usize,
    /// Why the compiler declined (then nothing was compared).
    pub declined: Option<Unsupported>,
    /// Disagreements (at most one per cell: its first iteration that disagrees).
    pub mismatches: Vec<Mismatch>,
}

/// The outcome for one model.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Numeric constants that feed formulas, plus whole-cell distribution calls.
    pub candidates: usize,
    /// Each attempt in order: the first with every candidate input, then the pruned ones.
    pub attempts: Vec<Attempt>,
}

impl Report {
    /// The first attempt compiled.
    pub fn compiled_fully(&self) -> bool {
        self.attempts.first().is_some_and(|a| a.declined.is_none())
    }

    /// Some attempt compiled (with at least one input).
    pub fn compiled_any(&self) -> bool {
        self.attempts
            .iter()
            .any(|a| a.declined.is_none() && a.inputs > 0)
    }

    /// Every disagreement of every attempt.
    pub fn mismatches(&self) -> impl Iterator<Item = &Mismatch> {
        self.attempts.iter().flat_map(|a| a.mismatches.iter())
    }

    /// Why the first attempt declined, if it did.
    pub fn declined(&self) -> Option<&Unsupported> {
        self.attempts.first().and_then(|a| a.declined.as_ref())
    }
}

/// Do the two values agree (bit for bit, both errors, or equal to 15 significant digits)? With
/// the environment variable `MCSIM_DIFF_EXACT` set, numbers must be equal exactly (`==`: the same
/// bits, or zeros of either sign).
pub fn agree(compiled: f64, interpreted: &Value) -> bool {
    match interpreted {
        Value::Number(n) if std::env::var_os("MCSIM_DIFF_EXACT").is_some() => compiled == *n,
        Value::Number(n) => {
            compiled.to_bits() == n.to_bits()
                || compiled == *n
                || (compiled.is_finite() && n.is_finite() && {
                    let scale = compiled.abs().max(n.abs());
                    (compiled - n).abs() <= scale * 1e-15
                })
        }
        Value::Bool(b) => compiled == (*b as u8 as f64),
        Value::Error(_) => compiled.is_nan(),
        Value::Empty => compiled == 0.0,
        Value::Text(_) => false,
        Value::Array(_) => agree(compiled, &interpreted.first()),
    }
}

/// SplitMix64: a deterministic hash of (seed, input, lane).
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The value of input `k` at lane `i`: lane 0 is the base value; then mostly small relative
/// changes, with the base itself, zero, the opposite sign and nearby integers mixed in.
pub fn perturb(base: f64, seed: u64, k: usize, i: usize) -> f64 {
    if i == 0 {
        return base;
    }
    let h = mix(seed ^ mix((k as u64) << 20 ^ i as u64));
    let (r, u) = (unit(h), unit(mix(h)));
    let scale = if base == 0.0 { 1.0 } else { base };
    if r < 0.55 {
        scale * (1.0 + 0.1 * (u - 0.5))
    } else if r < 0.7 {
        base
    } else if r < 0.8 {
        0.0
    } else if r < 0.9 {
        -scale
    } else {
        (scale * (1.0 + (u - 0.5))).round()
    }
}

/// Numeric constants read by some formula, and whole-cell distribution calls, in cell order.
pub fn candidate_inputs(model: &Model, graph: &Graph, ev: &mut Evaluator<'_>) -> Vec<CellId> {
    let mut read = vec![false; model.cells.len()];
    for areas in &graph.reads {
        for a in areas {
            let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                continue;
            };
            let b = a.bounds;
            let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
            if sheet.columns.is_empty() || b.c1 > c2 {
                continue;
            }
            for c in b.c1..=c2 {
                for &(_, id) in sheet.column_slice(c, b.r1, b.r2) {
                    read[id as usize] = true;
                }
            }
        }
    }
    let mut out: Vec<CellId> = model
        .cells
        .iter()
        .enumerate()
        .filter(|(i, c)| read[*i] && c.formula.is_none() && matches!(c.stored, Value::Number(_)))
        .map(|(i, _)| i as CellId)
        .collect();
    let detected = super::inputs::detect(model, ev);
    out.extend(
        detected
            .inputs
            .iter()
            .filter(|d| d.whole_cell)
            .map(|d| d.cell),
    );
    out.sort_unstable();
    out.dedup();
    out
}

/// The cells upstream of `cells` (and `cells` themselves), through formulas.
fn upstream(model: &Model, graph: &Graph, cells: &[CellId]) -> Vec<bool> {
    let mut seen = vec![false; model.cells.len()];
    let mut stack = cells.to_vec();
    cells.iter().for_each(|&c| seen[c as usize] = true);
    while let Some(c) = stack.pop() {
        let Some(fid) = model.cells[c as usize].formula else {
            continue;
        };
        for a in &graph.reads[fid as usize] {
            let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                continue;
            };
            let b = a.bounds;
            let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
            if sheet.columns.is_empty() || b.c1 > c2 {
                continue;
            }
            for col in b.c1..=c2 {
                for &(_, id) in sheet.column_slice(col, b.r1, b.r2) {
                    if !seen[id as usize] {
                        seen[id as usize] = true;
                        stack.push(id);
                    }
                }
            }
        }
    }
    seen
}

/// Runs the differential check on one model (see the module documentation).
pub fn check(model: &Model, graph: &Graph, opts: &Options) -> Report {
    let mut ev = Evaluator::new(model);
    ev.run(&graph.order);
    let mut inputs = candidate_inputs(model, graph, &mut ev);
    if opts.max_inputs > 0 {
        inputs.truncate(opts.max_inputs);
    }
    let mut report = Report {
        candidates: inputs.len(),
        attempts: Vec::new(),
    };
    for _ in 0..=opts.prune_rounds {
        if inputs.is_empty() {
            break;
        }
        let attempt = attempt(model, graph, &inputs, opts);
        let declined = attempt.declined.is_some();
        report.attempts.push(attempt);
        if !declined {
            break;
        }
        // Put back as constants the inputs upstream of every cell the compiler declines.
        let mut ev = Evaluator::new(model);
        ev.run(&graph.order);
        let bad: Vec<CellId> = unsupported_cells(model, graph, &mut ev, &inputs)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let up = upstream(model, graph, &bad);
        let before = inputs.len();
        inputs.retain(|&c| !up[c as usize]);
        if inputs.len() == before {
            break;
        }
    }
    report
}

/// One attempt with the given inputs.
fn attempt(model: &Model, graph: &Graph, inputs: &[CellId], opts: &Options) -> Attempt {
    let lanes = opts.iterations.max(1);
    let sto = stochastic_cells(model, graph, inputs, &super::rand_sites(model), &[]);
    let volatile = graph.volatile_cells(model);
    let mut in_cycle = vec![false; model.cells.len()];
    for cy in &graph.cycles {
        for &c in cy {
            in_cycle[c as usize] = true;
        }
    }
    let is_input = {
        let mut v = vec![false; model.cells.len()];
        inputs.iter().for_each(|&c| v[c as usize] = true);
        v
    };
    let cone: Vec<CellId> = graph
        .order
        .iter()
        .copied()
        .filter(|&c| sto[c as usize] && !is_input[c as usize])
        .collect();
    let compared: Vec<CellId> = cone
        .iter()
        .copied()
        .filter(|&c| !volatile[c as usize] && !in_cycle[c as usize])
        .collect();
    let sim = Simulation::prepare(model, graph, inputs, &compared, &[], &[]);
    let mut out = Attempt {
        inputs: inputs.len(),
        input_cells: inputs.to_vec(),
        cells: compared.len(),
        declined: None,
        mismatches: Vec::new(),
    };
    if let Plan::Interpreted { reason, .. } = sim.plan() {
        out.declined = Some(reason.clone());
        return out;
    }
    // Base values of the inputs: the constants, or the distribution cells' values when not
    // simulating.
    let mut base = Evaluator::new(model);
    base.run(&graph.order);
    let base_vals: Vec<f64> = inputs
        .iter()
        .map(|&c| match base.value(c) {
            Value::Number(n) => *n,
            Value::Bool(b) => *b as u8 as f64,
            _ => 0.0,
        })
        .collect();
    let samples: Vec<Vec<f64>> = base_vals
        .iter()
        .enumerate()
        .map(|(k, &b)| (0..lanes).map(|i| perturb(b, opts.seed, k, i)).collect())
        .collect();
    // Compiled.
    let mut block = sim.block(lanes);
    for (k, s) in samples.iter().enumerate() {
        block.input_mut(k).copy_from_slice(s);
    }
    // RAND() calls: the same uniform for both paths.
    let n_sites = sim.input_columns() - inputs.len();
    for j in 0..n_sites {
        block
            .input_mut(inputs.len() + j)
            .iter_mut()
            .for_each(|x| *x = 0.5);
    }
    let mut cols = vec![Vec::new(); compared.len()];
    sim.run_block(&mut block, lanes, &mut cols);
    // Interpreted, lane by lane.
    let mut ev = base.fork();
    ev.set_sites(std::sync::Arc::new(super::SiteTable::new(
        &super::rand_sites(model),
    )));
    ev.site_values_mut().iter_mut().for_each(|x| *x = 0.5);
    let mut first_bad: Vec<Option<(usize, Value)>> = vec![None; compared.len()];
    for lane in 0..lanes {
        ev.reset_cells(&cone);
        ev.seed_rand(opts.seed ^ lane as u64);
        for (k, &cell) in inputs.iter().enumerate() {
            ev.set_value(cell, Value::Number(samples[k][lane]));
        }
        for (j, &cell) in compared.iter().enumerate() {
            if first_bad[j].is_some() {
                continue;
            }
            let v = ev.value(cell);
            if !agree(cols[j][lane], v) {
                first_bad[j] = Some((lane, v.clone()));
            }
        }
    }
    for (j, bad) in first_bad.into_iter().enumerate() {
        if let Some((lane, v)) = bad {
            let cell = compared[j];
            let formula = model.cells[cell as usize]
                .formula
                .map(|f| model.formulas[f as usize].text())
                .unwrap_or_default();
            out.mismatches.push(Mismatch {
                cell: model.cell_label(cell),
                formula,
                iteration: lane,
                compiled: cols[j][lane],
                interpreted: v,
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "differential_fuzz.rs"]
mod fuzz;

#[cfg(test)]
#[path = "fidelity_tests.rs"]
mod fidelity_tests;
