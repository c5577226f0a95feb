//! Builds a [`Model`] from a loaded workbook: parses every formula once, expands shared formulas
//! by shifting the anchor's syntax tree, and lays out array formulas over their ranges.

use crate::model::{ArrayPart, CellData, CellId, Formula, Model, Name, Sheet};
use crate::value::Value;
use mcsim_formula::{Bounds, ErrorKind, parse};
use mcsim_workbook::{CellValue, Workbook};
use std::collections::HashMap;
use std::sync::Arc;

/// Converts a stored cell value.
pub fn cell_value(v: &CellValue) -> Value {
    match v {
        CellValue::Empty => Value::Empty,
        CellValue::Number(n) => Value::Number(*n),
        CellValue::Text(s) => Value::Text(Arc::from(s.as_str())),
        CellValue::Bool(b) => Value::Bool(*b),
        CellValue::Error(e) => {
            Value::Error(ErrorKind::from_str_excel(e).unwrap_or(ErrorKind::Value))
        }
    }
}

impl Model {
    /// Compiles a loaded workbook.
    pub fn from_workbook(wb: &Workbook) -> Model {
        let mut m = Model {
            date1904: wb.date1904,
            warnings: wb.warnings.clone(),
            ..Model::default()
        };
        for (i, s) in wb.sheets.iter().enumerate() {
            m.sheet_index.insert(s.name.to_uppercase(), i as u32);
            m.sheets.push(Sheet {
                name: s.name.clone(),
                ..Sheet::default()
            });
        }
        for (si, s) in wb.sheets.iter().enumerate() {
            let sheet_id = si as u32;
            let mut pos: HashMap<(u32, u32), CellId> = HashMap::with_capacity(s.cells.len());
            let mut arrays: Vec<(CellId, Bounds)> = Vec::new();
            for c in &s.cells {
                let id = m.cells.len() as CellId;
                pos.insert((c.row, c.col), id);
                let formula = match &c.formula {
                    None => None,
                    Some(f) => {
                        let fid = m.formulas.len() as u32;
                        let (source, expr, array) = match f {
                            mcsim_workbook::Formula::Text(t) => (t.clone(), parse(t), None),
                            mcsim_workbook::Formula::Array { text, range } => {
                                let b = Bounds {
                                    r1: range.0,
                                    c1: range.1,
                                    r2: range.2,
                                    c2: range.3,
                                };
                                arrays.push((id, b));
                                (
                                    text.clone(),
                                    parse(text),
                                    Some(ArrayPart {
                                        range: b,
                                        anchor: id,
                                    }),
                                )
                            }
                            mcsim_workbook::Formula::Shared {
                                anchor_row,
                                anchor_col,
                            } => {
                                let anchor = pos
                                    .get(&(*anchor_row, *anchor_col))
                                    .and_then(|&a| m.cells[a as usize].formula)
                                    .map(|af| &m.formulas[af as usize]);
                                match anchor {
                                    Some(af) => {
                                        let expr = af.expr.clone().map(|mut e| {
                                            e.shift_relative(
                                                c.row as i64 - *anchor_row as i64,
                                                c.col as i64 - *anchor_col as i64,
                                            );
                                            e
                                        });
                                        (String::new(), expr, None)
                                    }
                                    None => {
                                        m.warnings.push(format!(
                                            "{}!{}: shared formula without its anchor cell {}",
                                            s.name,
                                            mcsim_formula::a1(c.row, c.col),
                                            mcsim_formula::a1(*anchor_row, *anchor_col)
                                        ));
                                        (String::new(), parse("#NAME?"), None)
                                    }
                                }
                            }
                        };
                        m.formulas.push(Formula {
                            cell: id,
                            source,
                            expr,
                            array,
                        });
                        Some(fid)
                    }
                };
                m.cells.push(CellData {
                    sheet: sheet_id,
                    row: c.row,
                    col: c.col,
                    formula,
                    stored: cell_value(&c.value),
                });
            }
            // Cells covered by an array formula share the anchor's formula.
            for (anchor, b) in arrays {
                let text = m.formulas[m.cells[anchor as usize].formula.unwrap_or(0) as usize]
                    .source
                    .clone();
                for r in b.r1..=b.r2 {
                    for c in b.c1..=b.c2 {
                        let id = match pos.get(&(r, c)) {
                            Some(&id) => id,
                            None => {
                                let id = m.cells.len() as CellId;
                                m.cells.push(CellData {
                                    sheet: sheet_id,
                                    row: r,
                                    col: c,
                                    formula: None,
                                    stored: Value::Empty,
                                });
                                pos.insert((r, c), id);
                                id
                            }
                        };
                        if id == anchor {
                            continue;
                        }
                        let fid = m.formulas.len() as u32;
                        m.formulas.push(Formula {
                            cell: id,
                            source: text.clone(),
                            expr: Ok(mcsim_formula::Expr::new(
                                mcsim_formula::ExprKind::Missing,
                                mcsim_formula::Span::default(),
                            )),
                            array: Some(ArrayPart { range: b, anchor }),
                        });
                        m.cells[id as usize].formula = Some(fid);
                    }
                }
            }
            crate::table::add_cells(&mut m, wb, si, &mut pos);
            // Column index.
            let sheet = &mut m.sheets[si];
            for (&(r, c), &id) in &pos {
                let c = c as usize;
                if sheet.columns.len() <= c {
                    sheet.columns.resize_with(c + 1, Vec::new);
                }
                sheet.columns[c].push((r, id));
                sheet.used_rows = sheet.used_rows.max(r + 1);
            }
            for col in &mut sheet.columns {
                col.sort_unstable_by_key(|e| e.0);
            }
        }
        for n in &wb.names {
            let scope = n.scope.map(|s| s as u32);
            let idx = m.names.len();
            m.name_index.insert((scope, n.name.to_uppercase()), idx);
            m.names_by_upper
                .entry(n.name.to_uppercase())
                .or_default()
                .push((scope, idx));
            m.names.push(Name {
                name: n.name.clone(),
                scope,
                expr: parse(&n.formula),
                text: n.formula.clone(),
            });
        }
        m.tables = crate::table::from_workbook(&m, wb);
        m
    }
}
