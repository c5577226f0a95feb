//! What-If data tables (`{=TABLE(row_input, col_input)}`), recalculated as Excel does: for each
//! input value of the table, the input cell takes that value, the cells depending on it (and, when
//! the table's model calls RAND() or another volatile function, the volatile cells) are
//! recalculated, and the result formula's value is the table cell's value.
//!
//! Table cells stay constants in the [`Model`] (with the values the file cached); [`recalc`]
//! computes them after an ordinary evaluation and recomputes the cells that read them. The tables
//! themselves ([`DataTable`]: where they are, their cells) are the model's, in `mcsim-functions`.

use crate::eval::Evaluator;
use crate::graph::Graph;
use crate::model::{CellId, Model};
use crate::value::Value;

pub use crate::model::DataTable;

/// What a table is, relative to its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableUse {
    /// The result formulas depend on RAND() (or another volatile function): every row of the
    /// table is a fresh draw.
    pub volatile: bool,
    /// The input cell(s) feed the result formulas.
    pub uses_inputs: bool,
}

impl TableUse {
    /// A table used as the simulation loop: a stochastic model whose input cell is blank or
    /// unused, so each row is one more iteration of the same model.
    pub fn simulation_loop(&self) -> bool {
        self.volatile && !self.uses_inputs
    }
}

/// How each table of the model is used.
pub fn uses(model: &Model, graph: &Graph) -> Vec<TableUse> {
    if model.tables.is_empty() {
        return Vec::new();
    }
    let volatile = graph.volatile_cells(model);
    model
        .tables
        .iter()
        .map(|t| {
            let formulas = t.result_formulas(model);
            let mut seeds = vec![false; model.cells.len()];
            for i in t.inputs() {
                seeds[i as usize] = true;
            }
            let down = graph.downstream(model, &seeds);
            TableUse {
                volatile: formulas.iter().any(|&f| volatile[f as usize]),
                uses_inputs: formulas.iter().any(|&f| down[f as usize]),
            }
        })
        .collect()
}

/// Formula cells that `roots` read, directly or not (the roots included when they are formulas).
fn upstream(model: &Model, graph: &Graph, roots: &[CellId]) -> Vec<bool> {
    let mut marked = vec![false; model.cells.len()];
    let mut stack: Vec<CellId> = roots.to_vec();
    while let Some(c) = stack.pop() {
        if marked[c as usize] {
            continue;
        }
        marked[c as usize] = true;
        let Some(fid) = model.cells[c as usize].formula else {
            continue;
        };
        if let Some(p) = model.formulas[fid as usize].array
            && !marked[p.anchor as usize]
        {
            stack.push(p.anchor);
        }
        for a in &graph.reads[fid as usize] {
            let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                continue;
            };
            let Some(b) = sheet.clip(a.bounds) else {
                continue;
            };
            for col in b.c1..=b.c2 {
                for &(_, id) in sheet.column_slice(col, b.r1, b.r2) {
                    if !marked[id as usize] {
                        stack.push(id);
                    }
                }
            }
        }
    }
    marked
}

/// Recalculates every data table on an evaluator that has evaluated the model, as Excel does, then
/// recomputes the cells that read the tables. Returns each table cell with its new value (also set
/// in the evaluator). `keep` lists cells whose value is fixed (what-if overrides, sampled inputs):
/// they are never recomputed.
pub fn recalc(
    model: &Model,
    graph: &Graph,
    ev: &mut Evaluator<'_>,
    keep: &[CellId],
) -> Vec<(CellId, Value)> {
    if model.tables.is_empty() {
        return Vec::new();
    }
    let volatile = graph.volatile_cells(model);
    let mut kept = vec![false; model.cells.len()];
    for &k in keep {
        if let Some(slot) = kept.get_mut(k as usize) {
            *slot = true;
        }
    }
    let mut results: Vec<(CellId, Value)> = Vec::new();
    let mut table_cell = vec![false; model.cells.len()];
    for t in &model.tables {
        let formulas = t.result_formulas(model);
        let up = upstream(model, graph, &formulas);
        let mut seeds = vec![false; model.cells.len()];
        for i in t.inputs() {
            seeds[i as usize] = true;
        }
        let stochastic = formulas.iter().any(|&f| volatile[f as usize]);
        if stochastic {
            for (i, v) in volatile.iter().enumerate() {
                seeds[i] |= *v;
            }
        }
        let down = graph.downstream(model, &seeds);
        // The cells to recompute for each input value, in dependency order.
        let cone: Vec<CellId> = graph
            .order
            .iter()
            .copied()
            .filter(|&c| down[c as usize] && up[c as usize] && !kept[c as usize])
            .collect();
        let points = t.points(model);
        // The input values, read before any input changes.
        let values: Vec<Vec<Value>> = points
            .iter()
            .map(|p| {
                p.inputs
                    .iter()
                    .map(|&(_, src)| src.map_or(Value::Empty, |s| ev.value(s).clone()))
                    .collect()
            })
            .collect();
        let inputs = t.inputs();
        let saved_inputs: Vec<Value> = inputs.iter().map(|&i| ev.value(i).clone()).collect();
        let saved_cone: Vec<Value> = cone.iter().map(|&c| ev.value(c).clone()).collect();
        for (p, vals) in points.iter().zip(&values) {
            for (&(input, _), v) in p.inputs.iter().zip(vals) {
                if !kept[input as usize] {
                    ev.set_value(input, v.clone());
                }
            }
            ev.reset_cells(&cone);
            for &c in &cone {
                ev.eval_cell(c);
            }
            let v = match p.formula {
                Some(f) => ev.value(f).clone(),
                None => Value::Number(0.0),
            };
            results.push((p.cell, v));
            table_cell[p.cell as usize] = true;
        }
        for (&i, v) in inputs.iter().zip(saved_inputs) {
            if !kept[i as usize] {
                ev.set_value(i, v);
            }
        }
        for (&c, v) in cone.iter().zip(saved_cone) {
            ev.set_value(c, v);
        }
        for (c, v) in &results {
            if table_cell[*c as usize] {
                ev.set_value(*c, v.clone());
            }
        }
    }
    // Cells reading the tables.
    let down = graph.downstream(model, &table_cell);
    let dependents: Vec<CellId> = graph
        .order
        .iter()
        .copied()
        .filter(|&c| down[c as usize] && !table_cell[c as usize] && !kept[c as usize])
        .collect();
    ev.reset_cells(&dependents);
    for &c in &dependents {
        ev.eval_cell(c);
    }
    results
}

#[cfg(test)]
mod tests;
