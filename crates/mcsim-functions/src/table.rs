//! What-If data tables (`{=TABLE(row_input, col_input)}`) as the model holds them: where they are,
//! their cells and the points a recalculation visits. Table cells stay constants in the [`Model`]
//! (with the values the file cached); the recalculation itself is the evaluator's
//! (`mcsim_engine::table::recalc`).

use crate::model::{CellData, CellId, Model, SheetId};
use crate::value::Value;
use mcsim_formula::Bounds;

pub use crate::model::DataTable;

/// Where a table result cell takes its value from.
pub struct Point {
    /// The result cell.
    pub cell: CellId,
    /// The result formula's cell (absent when that cell is empty).
    pub formula: Option<CellId>,
    /// (input cell, cell holding the value it takes).
    pub inputs: Vec<(CellId, Option<CellId>)>,
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

    /// Every result cell with its formula and the inputs it takes (for `recalc`).
    pub fn points(&self, model: &Model) -> Vec<Point> {
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

/// Adds to a sheet's cell positions the cells a data table needs to exist: every result cell
/// and the input cells (as empty constants when the file stored nothing there).
pub(crate) fn add_cells(
    m: &mut Model,
    wb: &mcsim_workbook::Workbook,
    sheet_index: usize,
    pos: &mut rustc_hash::FxHashMap<(u32, u32), CellId>,
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
