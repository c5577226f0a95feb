//! What-If data tables (`{=TABLE(row_input, col_input)}`), recalculated as Excel does: for each
//! input value of the table, the input cell takes that value, the cells depending on it (and, when
//! the table's model calls RAND() or another volatile function, the volatile cells) are
//! recalculated, and the result formula's value is the table cell's value.
//!
//! Table cells stay constants in the [`Model`] (with the values the file cached); [`recalc`]
//! computes them after an ordinary evaluation and recomputes the cells that read them.

use crate::eval::Evaluator;
use crate::graph::Graph;
use crate::model::{CellData, CellId, Model, SheetId};
use crate::value::Value;
use mcsim_formula::Bounds;

pub use crate::model::DataTable;

/// Where a table result cell takes its value from.
struct Point {
    /// The result cell.
    cell: CellId,
    /// The result formula's cell (absent when that cell is empty).
    formula: Option<CellId>,
    /// (input cell, cell holding the value it takes).
    inputs: Vec<(CellId, Option<CellId>)>,
}

impl DataTable {
    /// `Sheet!B2:C20`.
    pub fn label(&self, model: &Model) -> String {
        let name = model
            .sheets
            .get(self.sheet as usize)
            .map_or("?", |s| s.name.as_str());
        let b = self.bounds;
        format!(
            "{}!{}:{}",
            mcsim_formula::quote_sheet(name),
            mcsim_formula::a1(b.r1, b.c1),
            mcsim_formula::a1(b.r2, b.c2)
        )
    }

    /// The formula as Excel shows it: `TABLE(row_input, col_input)`.
    pub fn formula_text(&self, model: &Model) -> String {
        let pos = |c: Option<CellId>| {
            c.and_then(|c| model.cells.get(c as usize))
                .map(|d| mcsim_formula::a1(d.row, d.col))
                .unwrap_or_default()
        };
        if self.two_d {
            format!("TABLE({},{})", pos(self.r1), pos(self.r2))
        } else if self.row_input {
            format!("TABLE({},)", pos(self.r1))
        } else {
            format!("TABLE(,{})", pos(self.r1))
        }
    }

    /// The input cells.
    pub fn inputs(&self) -> Vec<CellId> {
        self.r1.into_iter().chain(self.r2).collect()
    }

    /// Number of input values (rows of a column table, columns of a row table, cells of a
    /// two-variable table): the recalculations Excel does for the table.
    pub fn runs(&self) -> u64 {
        let (r, c) = (self.bounds.rows() as u64, self.bounds.cols() as u64);
        if self.two_d {
            r * c
        } else if self.row_input {
            c
        } else {
            r
        }
    }

    fn at(&self, model: &Model, row: u32, col: u32) -> Option<CellId> {
        model.find(self.sheet, row, col)
    }

    /// The result formulas' cells: the row above the results (column table), the column left of
    /// them (row table), or the corner (two-variable table). Only cells holding a formula.
    pub fn result_formulas(&self, model: &Model) -> Vec<CellId> {
        let b = self.bounds;
        let (Some(above), Some(left)) = (b.r1.checked_sub(1), b.c1.checked_sub(1)) else {
            return Vec::new();
        };
        let cells: Vec<Option<CellId>> = if self.two_d {
            vec![self.at(model, above, left)]
        } else if self.row_input {
            (b.r1..=b.r2).map(|r| self.at(model, r, left)).collect()
        } else {
            (b.c1..=b.c2).map(|c| self.at(model, above, c)).collect()
        };
        cells
            .into_iter()
            .flatten()
            .filter(|&c| model.cells[c as usize].formula.is_some())
            .collect()
    }

    /// The result cells (every cell of the range is in the model).
    pub fn cells(&self, model: &Model) -> Vec<CellId> {
        let b = self.bounds;
        let mut out = Vec::with_capacity((b.rows() * b.cols()) as usize);
        for r in b.r1..=b.r2 {
            for c in b.c1..=b.c2 {
                if let Some(id) = self.at(model, r, c) {
                    out.push(id);
                }
            }
        }
        out
    }

    fn points(&self, model: &Model) -> Vec<Point> {
        let b = self.bounds;
        let (Some(above), Some(left)) = (b.r1.checked_sub(1), b.c1.checked_sub(1)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for r in b.r1..=b.r2 {
            for c in b.c1..=b.c2 {
                let Some(cell) = self.at(model, r, c) else {
                    continue;
                };
                let (formula, inputs) = if self.two_d {
                    let mut inputs = Vec::new();
                    if let Some(i) = self.r1 {
                        inputs.push((i, self.at(model, above, c)));
                    }
                    if let Some(i) = self.r2 {
                        inputs.push((i, self.at(model, r, left)));
                    }
                    (self.at(model, above, left), inputs)
                } else if self.row_input {
                    (
                        self.at(model, r, left),
                        self.r1
                            .map(|i| (i, self.at(model, above, c)))
                            .into_iter()
                            .collect(),
                    )
                } else {
                    (
                        self.at(model, above, c),
                        self.r1
                            .map(|i| (i, self.at(model, r, left)))
                            .into_iter()
                            .collect(),
                    )
                };
                out.push(Point {
                    cell,
                    formula: formula.filter(|&f| model.cells[f as usize].formula.is_some()),
                    inputs,
                });
            }
        }
        out
    }
}

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

/// Adds to a sheet's cell positions the cells a data table needs to exist: every result cell
/// and the input cells (as empty constants when the file stored nothing there).
pub(crate) fn add_cells(
    m: &mut Model,
    wb: &mcsim_workbook::Workbook,
    sheet_index: usize,
    pos: &mut std::collections::HashMap<(u32, u32), CellId>,
) {
    let sheet = sheet_index as SheetId;
    let mut add = |m: &mut Model, r: u32, c: u32| {
        pos.entry((r, c)).or_insert_with(|| {
            let id = m.cells.len() as CellId;
            m.cells.push(CellData {
                sheet,
                row: r,
                col: c,
                formula: None,
                stored: Value::Empty,
            });
            id
        });
    };
    for t in wb.data_tables.iter().filter(|t| t.sheet == sheet_index) {
        let (r1, c1, r2, c2) = t.range;
        for r in r1..=r2 {
            for c in c1..=c2 {
                add(m, r, c);
            }
        }
        for (r, c) in t.r1.into_iter().chain(t.r2) {
            add(m, r, c);
        }
    }
}

/// The model's data tables (after [`add_cells`] and the column index).
pub(crate) fn from_workbook(m: &Model, wb: &mcsim_workbook::Workbook) -> Vec<DataTable> {
    wb.data_tables
        .iter()
        .map(|t| {
            let sheet = t.sheet as SheetId;
            let (r1, c1, r2, c2) = t.range;
            DataTable {
                sheet,
                bounds: Bounds { r1, c1, r2, c2 },
                two_d: t.two_d,
                row_input: t.row_input,
                r1: t.r1.and_then(|(r, c)| m.find(sheet, r, c)),
                r2: t.r2.and_then(|(r, c)| m.find(sheet, r, c)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
