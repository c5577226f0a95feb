//! The simulation core: a model split into what is computed once and the stochastic cone, the cone
//! compiled to a block [`Program`] (or, for constructs the compiler does not handle yet, evaluated
//! per iteration by the scalar evaluator), and blocks of iterations evaluated independently so that
//! results do not depend on the thread count.
//!
//! Sampling is not done here: the caller fills each block's input columns (see
//! [`Block::input_mut`]) from counter-based streams, so the engine stays independent of the
//! sampler and the values of iteration `i` depend only on the seed and `i`.

pub mod compile;
pub mod differential;
pub mod dists;
pub mod inputs;
pub mod program;

use crate::eval::Evaluator;
use crate::graph::Graph;
use crate::model::{CellId, Model};
use crate::value::Value;
pub use compile::{Compiled, Unsupported, stochastic_cells};
pub use program::{Columns, Operand, Program};

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
    },
}

/// A model prepared for simulation.
pub struct Simulation<'m> {
    model: &'m Model,
    base: Evaluator<'m>,
    inputs: Vec<CellId>,
    outputs: Vec<CellId>,
    plan: Plan,
    deterministic_outputs: Vec<Option<f64>>,
}

/// Per-thread working storage for one block.
pub struct Block<'m> {
    inputs: Vec<Vec<f64>>,
    cols: Columns,
    ev: Option<Evaluator<'m>>,
    lanes: usize,
}

impl<'m> Block<'m> {
    /// The column of input `k` (fill it with the block's samples before [`Simulation::run_block`]).
    pub fn input_mut(&mut self, k: usize) -> &mut [f64] {
        &mut self.inputs[k][..self.lanes]
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

impl<'m> Simulation<'m> {
    /// Evaluates everything once (with the inputs at their base values, and `overrides` applied),
    /// then compiles the cone of `inputs` that reaches `outputs`.
    pub fn prepare(
        model: &'m Model,
        graph: &Graph,
        inputs: &[CellId],
        outputs: &[CellId],
        overrides: &[(CellId, Value)],
        base_values: &[(CellId, Value)],
    ) -> Simulation<'m> {
        let mut base = Evaluator::new(model);
        for (c, v) in overrides.iter().chain(base_values) {
            base.set_value(*c, v.clone());
        }
        base.run(&graph.order);
        let plan = match compile::compile(model, graph, &mut base, inputs, outputs) {
            Ok(c) => Plan::Compiled(c),
            Err(reason) => {
                let sto = stochastic_cells(model, graph, inputs);
                let cone = graph
                    .order
                    .iter()
                    .copied()
                    .filter(|&c| sto[c as usize] && !inputs.contains(&c))
                    .collect();
                Plan::Interpreted { cone, reason }
            }
        };
        let sto = stochastic_cells(model, graph, inputs);
        let deterministic_outputs = outputs
            .iter()
            .map(|&o| (!sto[o as usize]).then(|| num(base.value(o))))
            .collect();
        Simulation {
            model,
            base,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            plan,
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

    /// Number of RAND() call sites that need one uniform column each (compiled plan only; the
    /// interpreter draws RAND() from its own per-iteration stream).
    pub fn rand_sites(&self) -> usize {
        match &self.plan {
            Plan::Compiled(c) => c.rand_slots.len(),
            Plan::Interpreted { .. } => 0,
        }
    }

    /// Working storage for blocks of up to `lanes` iterations.
    pub fn block(&self, lanes: usize) -> Block<'m> {
        let n_in = self.inputs.len() + self.rand_sites();
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

    /// Evaluates one block: `block`'s input columns (inputs, then RAND sites) must be filled for
    /// `lanes` iterations starting at `first_iteration`. Writes each output's column into `out`
    /// (NaN marks an iteration where the output was an Excel error).
    pub fn run_block(
        &self,
        block: &mut Block<'m>,
        lanes: usize,
        first_iteration: u64,
        rand_seed: u64,
        out: &mut [Vec<f64>],
    ) {
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
                for (j, &(_, slot)) in c.rand_slots.iter().enumerate() {
                    block
                        .cols
                        .col_mut(slot)
                        .copy_from_slice(&block.inputs[n + j][..lanes]);
                }
                c.program.run(&mut block.cols);
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
                for lane in 0..lanes {
                    ev.reset_cells(cone);
                    ev.seed_rand(
                        rand_seed
                            ^ (first_iteration + lane as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    );
                    for (k, &cell) in self.inputs.iter().enumerate() {
                        ev.set_value(cell, Value::Number(block.inputs[k][lane]));
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
