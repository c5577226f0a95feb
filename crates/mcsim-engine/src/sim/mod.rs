//! The simulation core: a model split into what is computed once and the stochastic cone, the cone
//! compiled to a block [`Program`] (or, for constructs the compiler does not handle yet, evaluated
//! per iteration by the scalar evaluator), and blocks of iterations evaluated independently so that
//! results do not depend on the thread count.
//!
//! Sampling is not done here: the caller fills each block's input columns (see
//! [`Block::input_mut`]) from counter-based streams, so the engine stays independent of the
//! sampler and the values of iteration `i` depend only on the seed and `i`.

pub mod backend;
pub mod compile;
pub mod cuda_gen;
pub mod differential;
pub mod dists;
pub mod inputs;
pub mod kernel;
pub mod program;
/// The random call sites (now [`crate::sites`], below the evaluator and the functions).
pub use crate::sites;

use crate::eval::Evaluator;
use crate::graph::Graph;
use crate::model::{Calls, CellId, Model};
use crate::value::Value;
use backend::{CpuBackend, CpuProgram, LoadedProgram};
pub use compile::{Compiled, Unsupported, stochastic_cells};
pub use program::{Columns, Operand, Program};
pub use sites::{Site, SiteKey, SiteKind, SiteTable};
use std::sync::Arc;

/// How the cone is evaluated.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Compiled to a block program.
    Compiled(Compiled),
    /// Evaluated per iteration with the scalar evaluator (the compiler could not handle a
    /// construct; `reason` says which and where).
    Interpreted {
        /// The formula cells of the cone, in dependency order.
        cone: Vec<CellId>,
        /// Why the compiler declined.
        reason: Unsupported,
        /// Every cell of the cone the compiler declines, the first one included (empty when the
        /// interpreter was asked for).
        declined: Vec<Unsupported>,
    },
}

/// Passes over circular references at most (Excel's default for iterative calculation).
pub const CYCLE_ITERATIONS: u32 = 100;
/// Circular references are settled when no value changes by more than this (Excel's default).
pub const CYCLE_MAX_CHANGE: f64 = 0.001;

/// Evaluates every cell in dependency order; circular references are then computed by
/// iteration ([`Evaluator::iterate_cycles`], Excel's defaults) and the cells after them again.
/// `kept` are cells whose values were set (overrides) and must not be recomputed.
pub fn recalculate(ev: &mut Evaluator<'_>, graph: &Graph, kept: &[CellId]) {
    ev.run(&graph.order);
    if !graph.cycles.is_empty() {
        ev.iterate_cycles(&graph.cycles, CYCLE_ITERATIONS, CYCLE_MAX_CHANGE);
        let mut keep: Vec<CellId> = graph.cycles.iter().flatten().copied().collect();
        keep.extend_from_slice(kept);
        ev.reset(&keep);
        ev.run(&graph.order);
    }
}

/// What to simulate (see [`Simulation::prepare_with`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Spec<'a> {
    /// Cells whose whole value is sampled (inputs of a model file, which replace the cell's
    /// formula).
    pub inputs: &'a [CellId],
    /// Random call sites: distribution and RAND() calls, wherever they stand in formulas.
    pub sites: &'a [Site],
    /// The cells to report.
    pub outputs: &'a [CellId],
    /// What-if overrides: these cells hold these values and are no longer computed.
    pub overrides: &'a [(CellId, Value)],
    /// Values of the `inputs` for the single deterministic pass (their means or static values).
    pub base_values: &'a [(CellId, Value)],
    /// Which simulation of a `RiskSimtable` run (0-based).
    pub simulation: usize,
    /// Evaluate with the interpreter even where the compiler could (for differential tests).
    pub interpret: bool,
}

/// A model prepared for simulation.
pub struct Simulation<'m> {
    model: &'m Model,
    base: Evaluator<'m>,
    inputs: Vec<CellId>,
    n_sites: usize,
    outputs: Vec<CellId>,
    plan: Plan,
    /// The compiled program, loaded onto the CPU backend.
    cpu: Option<CpuProgram>,
    deterministic_outputs: Vec<Option<f64>>,
    /// Circular references in the simulated part, and their cells' base values.
    cycles: Vec<Vec<CellId>>,
    cycle_start: Vec<(CellId, Value)>,
}

/// Per-thread working storage for one block.
pub struct Block<'m> {
    inputs: Vec<Vec<f64>>,
    cols: Columns,
    ev: Option<Evaluator<'m>>,
    lanes: usize,
}

impl<'m> Block<'m> {
    /// The column of input `k` (fill it with the block's samples before [`Simulation::run_block`]):
    /// the `inputs` cells first, then the sites, in the order of the [`Spec`].
    /// The column is as long as the lanes the block was made for.
    pub fn input_mut(&mut self, k: usize) -> &mut [f64] {
        &mut self.inputs[k]
    }

    /// Lanes in this block.
    pub fn lanes(&self) -> usize {
        self.lanes
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Bool(b) => *b as u8 as f64,
        Value::Empty => 0.0,
        Value::Array(_) => num(&v.first()),
        _ => f64::NAN,
    }
}

/// Every `RAND()`/`RANDBETWEEN()` call of the model as a site (what [`Simulation::prepare`]
/// samples when no sites are given).
pub fn rand_sites(model: &Model) -> Vec<Site> {
    let mut out = Vec::new();
    for f in &model.formulas {
        if !f.calls.any(Calls::RANDOM) {
            continue;
        }
        let Ok(e) = &f.expr else { continue };
        let c = &model.cells[f.cell as usize];
        e.walk(&mut |n| {
            if let mcsim_formula::ExprKind::Call { name, .. } = &n.kind
                && matches!(name.as_str(), "RAND" | "RANDBETWEEN")
            {
                out.push(Site {
                    key: SiteKey {
                        sheet: c.sheet,
                        row: c.row,
                        col: c.col,
                        offset: n.span.start,
                    },
                    kind: SiteKind::Rand,
                });
            }
        });
    }
    out
}

impl<'m> Simulation<'m> {
    /// [`Simulation::prepare_with`] for sampled input cells, with every RAND() call as a site.
    pub fn prepare(
        model: &'m Model,
        graph: &Graph,
        inputs: &[CellId],
        outputs: &[CellId],
        overrides: &[(CellId, Value)],
        base_values: &[(CellId, Value)],
    ) -> Simulation<'m> {
        let sites = rand_sites(model);
        Simulation::prepare_with(
            model,
            graph,
            &Spec {
                inputs,
                sites: &sites,
                outputs,
                overrides,
                base_values,
                simulation: 0,
                interpret: false,
            },
        )
    }

    /// Evaluates everything once (with the inputs at their base values, and the overrides
    /// applied), then compiles the cone of the inputs and sites that reaches the outputs.
    pub fn prepare_with(model: &'m Model, graph: &Graph, spec: &Spec<'_>) -> Simulation<'m> {
        let mut base = Evaluator::new(model);
        base.set_simulation(spec.simulation);
        for (c, v) in spec.overrides.iter().chain(spec.base_values) {
            base.set_value(*c, v.clone());
        }
        let kept: Vec<CellId> = spec
            .overrides
            .iter()
            .chain(spec.base_values)
            .map(|o| o.0)
            .collect();
        recalculate(&mut base, graph, &kept);
        Simulation::prepare_recalculated(model, graph, spec, base)
    }

    /// [`Simulation::prepare_with`] from its deterministic pass, already made: `base` must be a
    /// new evaluator of `model`, given `spec.simulation`, `spec.overrides` and
    /// `spec.base_values`, then [`recalculate`]d, with nothing evaluated since. A caller that made
    /// that pass for its own reasons (finding the distribution calls, say) forks it here instead of
    /// evaluating every cell again.
    pub fn prepare_recalculated(
        model: &'m Model,
        graph: &Graph,
        spec: &Spec<'_>,
        mut base: Evaluator<'m>,
    ) -> Simulation<'m> {
        let fixed: Vec<CellId> = spec.overrides.iter().map(|o| o.0).collect();
        let sto = stochastic_cells(model, graph, spec.inputs, spec.sites, &fixed);
        let compiled = if spec.interpret {
            Err(Unsupported {
                cell: String::new(),
                what: "the interpreter, as asked".into(),
            })
        } else {
            compile::compile(
                model,
                graph,
                &mut base,
                spec.inputs,
                spec.sites,
                &sto,
                spec.outputs,
            )
        };
        // The compiler's programs always load; were one rejected, the interpreter runs instead.
        let compiled = compiled.and_then(|c| match CpuBackend.load_shared(c.program.clone()) {
            Ok(p) => Ok((c, p)),
            Err(e) => Err(Unsupported {
                cell: String::new(),
                what: format!("a program the CPU backend rejects ({e})"),
            }),
        });
        let mut cpu = None;
        let plan = match compiled {
            Ok((c, p)) => {
                cpu = Some(p);
                Plan::Compiled(c)
            }
            Err(reason) => {
                let needed = graph.upstream(model, spec.outputs, &sto);
                let cone = graph
                    .order
                    .iter()
                    .copied()
                    .filter(|&c| needed[c as usize] && !spec.inputs.contains(&c))
                    .collect();
                let declined = if spec.interpret {
                    Vec::new()
                } else {
                    compile::unsupported_cells_with(
                        model,
                        graph,
                        &mut base,
                        spec.inputs,
                        spec.sites,
                        &fixed,
                        Some(spec.outputs),
                    )
                    .into_iter()
                    .map(|(_, u)| u)
                    .collect()
                };
                Plan::Interpreted {
                    cone,
                    reason,
                    declined,
                }
            }
        };
        let deterministic_outputs = spec
            .outputs
            .iter()
            .map(|&o| (!sto[o as usize]).then(|| num(base.value(o))))
            .collect();
        if matches!(plan, Plan::Interpreted { .. }) {
            base.set_sites(Arc::new(SiteTable::new(spec.sites)));
        }
        let cycles: Vec<Vec<CellId>> = match &plan {
            Plan::Interpreted { cone, .. } if !graph.cycles.is_empty() => {
                let mut in_cone = vec![false; model.cells.len()];
                cone.iter().for_each(|&c| in_cone[c as usize] = true);
                graph
                    .cycles
                    .iter()
                    .filter(|cy| cy.iter().any(|&c| in_cone[c as usize]))
                    .cloned()
                    .collect()
            }
            _ => Vec::new(),
        };
        let cycle_start = cycles
            .iter()
            .flatten()
            .map(|&c| (c, base.value(c).clone()))
            .collect();
        Simulation {
            cycles,
            cycle_start,
            model,
            base,
            inputs: spec.inputs.to_vec(),
            n_sites: spec.sites.len(),
            outputs: spec.outputs.to_vec(),
            plan,
            cpu,
            deterministic_outputs,
        }
    }

    /// The plan chosen.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// For each output: `Some(value)` when it depends on no input (it is the same every iteration).
    pub fn deterministic_outputs(&self) -> &[Option<f64>] {
        &self.deterministic_outputs
    }

    /// The value of a cell in the single deterministic pass.
    pub fn base_value(&mut self, cell: CellId) -> Value {
        self.base.value(cell).clone()
    }

    /// Number of input columns a block needs: the sampled cells, then the sites.
    pub fn input_columns(&self) -> usize {
        self.inputs.len() + self.n_sites
    }

    /// Working storage for blocks of up to `lanes` iterations.
    pub fn block(&self, lanes: usize) -> Block<'m> {
        let n_in = self.input_columns();
        let (cols, ev) = match &self.plan {
            Plan::Compiled(c) => (Columns::new(c.program.slots, lanes), None),
            Plan::Interpreted { .. } => (Columns::new(0, lanes), Some(self.base.fork())),
        };
        Block {
            inputs: (0..n_in).map(|_| vec![0.0; lanes]).collect(),
            cols,
            ev,
            lanes,
        }
    }

    /// Evaluates one block: `block`'s input columns (inputs, then sites) must be filled for
    /// `lanes` iterations. Writes each output's column into `out` (NaN marks an iteration where
    /// the output was an Excel error).
    pub fn run_block(&self, block: &mut Block<'m>, lanes: usize, out: &mut [Vec<f64>]) {
        block.lanes = lanes;
        match &self.plan {
            Plan::Compiled(c) => {
                if block.cols.lanes() != lanes {
                    block.cols = Columns::new(c.program.slots, lanes);
                }
                for (k, &slot) in c.input_slots.iter().enumerate() {
                    block
                        .cols
                        .col_mut(slot)
                        .copy_from_slice(&block.inputs[k][..lanes]);
                }
                let n = c.input_slots.len();
                for (j, slot) in c.site_slots.iter().enumerate() {
                    if let Some(slot) = slot {
                        block
                            .cols
                            .col_mut(*slot)
                            .copy_from_slice(&block.inputs[n + j][..lanes]);
                    }
                }
                let ran = self.cpu.as_ref().map(|p| p.run_block(&mut block.cols));
                if !matches!(ran, Some(Ok(()))) {
                    // Not reached: `prepare_with` loaded the program, `block` sized the columns.
                    for o in out.iter_mut() {
                        o.clear();
                        o.resize(lanes, f64::NAN);
                    }
                    return;
                }
                for (o, op) in out.iter_mut().zip(&c.outputs) {
                    o.clear();
                    match op {
                        Operand::Slot(s) => o.extend_from_slice(block.cols.col(*s)),
                        Operand::Const(k) => o.resize(lanes, *k),
                    }
                    // An infinity is an overflow: #NUM! in Excel, an error iteration here.
                    o.iter_mut().for_each(|v| {
                        if !v.is_finite() {
                            *v = f64::NAN
                        }
                    });
                }
            }
            Plan::Interpreted { cone, .. } => {
                let Some(ev) = block.ev.as_mut() else { return };
                for o in out.iter_mut() {
                    o.clear();
                }
                let n = self.inputs.len();
                for lane in 0..lanes {
                    ev.reset_cells(cone);
                    for (k, &cell) in self.inputs.iter().enumerate() {
                        ev.set_value(cell, Value::Number(block.inputs[k][lane]));
                    }
                    for (j, v) in ev.site_values_mut().iter_mut().enumerate() {
                        *v = block.inputs[n + j][lane];
                    }
                    if !self.cycles.is_empty() {
                        // Every iteration starts its circular references from the base values,
                        // so a lane's result does not depend on the lane before it.
                        for (c, v) in &self.cycle_start {
                            ev.set_value(*c, v.clone());
                        }
                        ev.iterate_cycles(&self.cycles, CYCLE_ITERATIONS, CYCLE_MAX_CHANGE);
                    }
                    for (o, &cell) in out.iter_mut().zip(&self.outputs) {
                        o.push(num(ev.value(cell)));
                    }
                }
            }
        }
        let _ = self.model;
    }
}

#[cfg(test)]
mod tests;
