//! Builds a [`Model`] from a loaded workbook: parses every formula once, expands shared formulas
//! by shifting the anchor's syntax tree, and lays out array formulas over their ranges.

use crate::model::{ArrayPart, Calls, CellData, CellId, Formula, Model, Name, Sheet};
use crate::value::Value;
use mcsim_formula::{Bounds, ErrorKind, Expr, ExprKind, ParseError, Position, Resolver, parse};
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

/// The workbook's tables as the formula resolver sees them (a table on a sheet that is not
/// loaded is left out: its references answer `#REF!`).
fn formula_tables(wb: &Workbook) -> Vec<mcsim_formula::Table> {
    wb.tables
        .iter()
        .filter_map(|t| {
            let sheet = wb.sheets.get(t.sheet)?;
            let (r1, c1, r2, c2) = t.range;
            Some(mcsim_formula::Table {
                name: t.display_name.clone(),
                sheet: sheet.name.clone(),
                bounds: Bounds { r1, c1, r2, c2 },
                header_row: t.header_row_count > 0,
                totals_row: t.totals_row_count > 0,
                columns: t.columns.clone(),
            })
        })
        .collect()
}

/// Cells of one reference to another workbook read as an array at most (a guard against a whole
/// column of a large cache).
const MAX_EXTERNAL_CELLS: u64 = 1 << 20;

/// Replaces the references to other workbooks (`[1]Sheet1!A1`, whose sheet reads as
/// `[1]Sheet1`) by the values Excel cached from them, which Excel shows while the other workbook
/// is closed: a cell by its value, a range by an array of its values (uncached cells inside a
/// range are blank). A reference to a book, sheet or cells with no cached value is `#REF!`.
///
/// A defined name of another workbook (`[1]!Rate`, `'C:\\Data\\[Prices.xlsx]'!Rate`, or
/// `[1]Sheet1!Rate` for a name local to a sheet) becomes the cached value of what the name
/// refers to there (a constant name, its constant); a name the link does not define is `#REF!`.
/// A sheet qualified by the other workbook's file name rather than its index
/// (`'C:\\Data\\[Prices.xlsx]Sheet1'!A1`) names the link whose target has that file name.
fn external_values(e: &mut Expr, books: &[mcsim_workbook::ExternalBook]) {
    e.walk_mut(&mut |x| match &x.kind {
        ExprKind::Ref(r) => {
            let Some(sheet) = r.sheet.as_deref().filter(|s| is_external(s)) else {
                return;
            };
            let single = matches!(r.kind, mcsim_formula::RefKind::Cell(_));
            x.kind = match external_book(sheet, books) {
                Some((book, name)) => external_value(books, book, name, r.bounds(), single, x.span),
                None => ExprKind::Error(ErrorKind::Ref),
            };
        }
        ExprKind::Name {
            sheet: Some(sheet),
            name,
        } if is_external(sheet) => {
            x.kind = match external_book(sheet, books) {
                Some((book, local)) => external_name(books, book, local, name, x.span),
                None => ExprKind::Error(ErrorKind::Ref),
            };
        }
        _ => {}
    });
}

/// A sheet qualifier that names another workbook (Excel's sheet names cannot hold `[`).
fn is_external(sheet: &str) -> bool {
    sheet.contains('[')
}

/// The link (1-based) and the sheet part of an external qualifier: `[2]Prices` → (2, `Prices`),
/// `[1]` → (1, ``), `C:\\Data\\[Prices.xlsx]Sheet1` → (the link to `Prices.xlsx`, `Sheet1`).
fn external_book<'s>(
    sheet: &'s str,
    books: &[mcsim_workbook::ExternalBook],
) -> Option<(usize, &'s str)> {
    if let Some(found) = split_external(sheet) {
        return Some(found);
    }
    let open = sheet.rfind('[')?;
    let close = open + sheet[open..].find(']')?;
    let file = mcsim_workbook::book_file_name(&sheet[open + 1..close]);
    let index = books.iter().position(|b| {
        b.target
            .as_deref()
            .is_some_and(|t| mcsim_workbook::book_file_name(t).eq_ignore_ascii_case(file))
    })?;
    Some((index + 1, &sheet[close + 1..]))
}

/// The cached value of the defined name `name` of link `book`: the name local to the sheet
/// `local` when there is one, else the workbook-level name.
fn external_name(
    books: &[mcsim_workbook::ExternalBook],
    book: usize,
    local: &str,
    name: &str,
    span: mcsim_formula::Span,
) -> ExprKind {
    let Some(bk) = book.checked_sub(1).and_then(|i| books.get(i)) else {
        return ExprKind::Error(ErrorKind::Ref);
    };
    let local_sheet = if local.is_empty() {
        None
    } else {
        bk.sheets
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(local))
    };
    let found = bk
        .names
        .iter()
        .filter(|n| n.name.eq_ignore_ascii_case(name))
        .filter_map(|n| match (n.sheet, local_sheet) {
            (Some(a), Some(b)) if a == b => Some((0, n)),
            (None, _) => Some((1, n)),
            _ => None,
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, n)| n);
    let Some(n) = found else {
        return ExprKind::Error(ErrorKind::Ref);
    };
    let Ok(target) = parse(&n.refers_to) else {
        return ExprKind::Error(ErrorKind::Ref);
    };
    if let ExprKind::Ref(r) = &target.kind {
        let sheet = match (r.sheet.as_deref(), n.sheet) {
            (Some(s), _) => Some(s.to_owned()),
            (None, Some(i)) => bk.sheets.get(i).map(|s| s.name.clone()),
            (None, None) => None,
        };
        let Some(sheet) = sheet.filter(|s| !s.contains(':')) else {
            return ExprKind::Error(ErrorKind::Ref);
        };
        let single = matches!(r.kind, mcsim_formula::RefKind::Cell(_));
        return external_value(books, book, &sheet, r.bounds(), single, span);
    }
    // A constant name (`=0.07`, `={1,2}`); anything computed over the other workbook is not
    // cached.
    let mut computed = false;
    target.walk(&mut |x| {
        computed |= matches!(
            x.kind,
            ExprKind::Ref(_)
                | ExprKind::Name { .. }
                | ExprKind::Call { .. }
                | ExprKind::Structured(_)
        );
    });
    if computed {
        ExprKind::Error(ErrorKind::Ref)
    } else {
        target.kind
    }
}

/// Does the expression refer to another workbook?
fn has_external_refs(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| match &x.kind {
        ExprKind::Ref(r) => found |= r.sheet.as_deref().is_some_and(is_external),
        ExprKind::Name {
            sheet: Some(sheet), ..
        } => found |= is_external(sheet),
        _ => {}
    });
    found
}

/// Where the expression refers to a workbook the file has no link part for (`[3]Sheet1!A1`
/// with two links), if it does.
fn unlinked_reference(
    e: &Expr,
    books: &[mcsim_workbook::ExternalBook],
) -> Option<mcsim_formula::Span> {
    let mut found = None;
    e.walk(&mut |x| {
        if let ExprKind::Ref(r) = &x.kind
            && let Some((book, _)) = r.sheet.as_deref().and_then(split_external)
            && (book == 0 || book > books.len())
        {
            found = found.or(Some(x.span));
        }
    });
    found
}

/// `[2]Prices` → (2, `Prices`).
fn split_external(sheet: &str) -> Option<(usize, &str)> {
    let (index, name) = sheet.strip_prefix('[')?.split_once(']')?;
    Some((index.trim().parse().ok()?, name))
}

fn external_value(
    books: &[mcsim_workbook::ExternalBook],
    book: usize,
    name: &str,
    b: Bounds,
    single: bool,
    span: mcsim_formula::Span,
) -> ExprKind {
    let cells = book
        .checked_sub(1)
        .and_then(|i| books.get(i))
        .and_then(|bk| bk.sheets.iter().find(|s| s.name.eq_ignore_ascii_case(name)))
        .and_then(|s| s.cells.as_deref());
    let Some(cells) = cells else {
        return ExprKind::Error(ErrorKind::Ref);
    };
    let inside: Vec<&(u32, u32, CellValue)> = cells
        .iter()
        .filter(|c| (b.r1..=b.r2).contains(&c.0) && (b.c1..=b.c2).contains(&c.1))
        .collect();
    if inside.is_empty() {
        return ExprKind::Error(ErrorKind::Ref);
    }
    let literal = |v: &CellValue| match v {
        CellValue::Empty => ExprKind::Missing,
        CellValue::Number(n) => ExprKind::Number(*n),
        CellValue::Text(t) => ExprKind::Text(t.clone()),
        CellValue::Bool(v) => ExprKind::Bool(*v),
        CellValue::Error(e) => {
            ExprKind::Error(ErrorKind::from_str_excel(e).unwrap_or(ErrorKind::Value))
        }
    };
    if single {
        return literal(&inside[0].2);
    }
    // Whole rows and columns end at the last cached cell.
    let r2 = b.r2.min(inside.iter().map(|c| c.0).max().unwrap_or(b.r1));
    let c2 = b.c2.min(inside.iter().map(|c| c.1).max().unwrap_or(b.c1));
    if u64::from(r2 - b.r1 + 1) * u64::from(c2 - b.c1 + 1) > MAX_EXTERNAL_CELLS {
        return ExprKind::Error(ErrorKind::Ref);
    }
    let at: HashMap<(u32, u32), &CellValue> = inside.iter().map(|c| ((c.0, c.1), &c.2)).collect();
    let rows = (b.r1..=r2)
        .map(|r| {
            (b.c1..=c2)
                .map(|c| {
                    let kind = at.get(&(r, c)).map_or(ExprKind::Missing, |v| literal(v));
                    Expr::new(kind, span)
                })
                .collect()
        })
        .collect();
    ExprKind::Array(rows)
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
        for h in &wb.hidden_rows {
            if let Some(sheet) = m.sheets.get_mut(h.sheet) {
                sheet.hidden_rows = h.hidden.clone();
                sheet.filtered_rows = h.filtered.clone();
                sheet.hidden_rows.sort_unstable();
                sheet.filtered_rows.sort_unstable();
            }
        }
        // Structured references, 3D references and table names are turned into ordinary
        // references here, once, against the tables and the sheet order.
        let sheet_names: Vec<String> = wb.sheets.iter().map(|s| s.name.clone()).collect();
        let tables = formula_tables(wb);
        m.excel_tables = tables.clone();
        let resolver = Resolver {
            sheets: &sheet_names,
            tables: &tables,
        };
        let books = &wb.external_books;
        let resolve = |expr: &mut Result<Expr, ParseError>, sheet: &str, row: u32, col: u32| {
            let unlinked = match expr {
                Ok(e) => {
                    e.resolve(&resolver, Some(Position { sheet, row, col }));
                    unlinked_reference(e, books)
                }
                Err(_) => None,
            };
            match (unlinked, expr) {
                // A file without the link part (written by a tool, or stripped): the formula
                // cannot be evaluated, as before links were read (`mcsim run` keeps the value the
                // file stored).
                (Some(span), expr) => {
                    *expr = Err(ParseError::at(
                        "a reference to another workbook that the file does not link",
                        span,
                    ));
                }
                (None, Ok(e)) => external_values(e, books),
                (None, Err(_)) => {}
            }
        };
        for (si, s) in wb.sheets.iter().enumerate() {
            let sheet_id = si as u32;
            let mut pos: rustc_hash::FxHashMap<(u32, u32), CellId> =
                rustc_hash::FxHashMap::with_capacity_and_hasher(s.cells.len(), Default::default());
            // Anchors of shared formulas that hold structured references, unresolved: each cell
            // of the block resolves them at its own position (`[#This Row]`).
            let mut unresolved: HashMap<CellId, Expr> = HashMap::new();
            let mut arrays: Vec<(CellId, Bounds)> = Vec::new();
            for c in &s.cells {
                let id = m.cells.len() as CellId;
                pos.insert((c.row, c.col), id);
                let formula = match &c.formula {
                    None => None,
                    Some(f) => {
                        let fid = m.formulas.len() as u32;
                        let (source, mut expr, array) = match f {
                            mcsim_workbook::Formula::Text(t) => {
                                let expr = parse(t);
                                // (References to other workbooks become values here: a shared
                                // formula's cells need the anchor's references, unreplaced.)
                                if let Ok(e) = &expr
                                    && (e.has_structured_references() || has_external_refs(e))
                                {
                                    unresolved.insert(id, e.clone());
                                }
                                (t.clone(), expr, None)
                            }
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
                                let raw = pos
                                    .get(&(*anchor_row, *anchor_col))
                                    .and_then(|a| unresolved.get(a));
                                match (anchor, raw) {
                                    (Some(_), Some(raw)) => {
                                        let mut e = raw.clone();
                                        e.shift_relative(
                                            c.row as i64 - *anchor_row as i64,
                                            c.col as i64 - *anchor_col as i64,
                                        );
                                        (String::new(), Ok(e), None)
                                    }
                                    (Some(af), None) => {
                                        let expr = af.expr.clone().map(|mut e| {
                                            e.shift_relative(
                                                c.row as i64 - *anchor_row as i64,
                                                c.col as i64 - *anchor_col as i64,
                                            );
                                            e
                                        });
                                        (String::new(), expr, None)
                                    }
                                    (None, _) => {
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
                        resolve(&mut expr, &s.name, c.row, c.col);
                        let calls = expr.as_ref().map(Calls::of).unwrap_or_default();
                        m.formulas.push(Formula {
                            cell: id,
                            source,
                            expr,
                            array,
                            calls,
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
                            calls: Calls::default(),
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
            let mut expr = parse(&n.formula);
            if let Ok(e) = &mut expr {
                e.resolve(&resolver, None);
                external_values(e, books);
            }
            m.names.push(Name {
                name: n.name.clone(),
                scope,
                expr,
                text: n.formula.clone(),
            });
        }
        m.tables = crate::table::from_workbook(&m, wb);
        m
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// 3D references in every function of Excel's list that takes them: the values of the same
    /// cells on every sheet of the span, in the workbook's sheet order. Sheets `A`..`C` hold
    /// A1 = 1, 2, 4; B1 = TRUE, "x", 3 (text and logicals count only in the `A` functions).
    #[test]
    fn three_d_references_in_the_aggregate_family() {
        let cells: Vec<(String, String)> = [
            ("A!A1", "1"),
            ("A!B1", "TRUE"),
            ("B!A1", "2"),
            ("B!B1", "x"),
            ("C!A1", "4"),
            ("C!B1", "3"),
            ("D!A1", "100"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        // Sample and population variance of 1, 2, 4: mean 7/3, squares sum 14/3.
        let (var_s, var_p): (f64, f64) = (14.0 / 6.0, 14.0 / 9.0);
        // With B1 too, the `A` functions see 1, 2, 4, TRUE=1, "x"=0, 3 (mean 11/6).
        let a_vals = [1.0, 2.0, 4.0, 1.0, 0.0, 3.0];
        let a_mean = a_vals.iter().sum::<f64>() / 6.0;
        let a_ss: f64 = a_vals.iter().map(|v| (v - a_mean).powi(2)).sum();
        let cases: Vec<(&str, f64)> = vec![
            ("SUM(A:C!A1)", 7.0),
            ("SUM(A:C!A1:B1)", 10.0),
            ("AVERAGE(A:C!A1)", 7.0 / 3.0),
            ("AVERAGEA(A:C!A1:B1)", a_mean),
            ("COUNT(A:C!A1:B1)", 4.0),
            ("COUNTA(A:C!A1:B1)", 6.0),
            ("MAX(A:C!A1)", 4.0),
            ("MAXA(A:C!B1)", 3.0),
            ("MIN(A:C!A1)", 1.0),
            ("MINA(A:C!B1)", 0.0),
            ("PRODUCT(A:C!A1)", 8.0),
            ("STDEV(A:C!A1)", var_s.sqrt()),
            ("STDEV.S(A:C!A1)", var_s.sqrt()),
            ("STDEVA(A:C!A1:B1)", (a_ss / 5.0).sqrt()),
            ("STDEVP(A:C!A1)", var_p.sqrt()),
            ("STDEV.P(A:C!A1)", var_p.sqrt()),
            ("STDEVPA(A:C!A1:B1)", (a_ss / 6.0).sqrt()),
            ("VAR(A:C!A1)", var_s),
            ("VAR.S(A:C!A1)", var_s),
            ("VARA(A:C!A1:B1)", a_ss / 5.0),
            ("VARP(A:C!A1)", var_p),
            ("VAR.P(A:C!A1)", var_p),
            ("VARPA(A:C!A1:B1)", a_ss / 6.0),
            // The span follows the stored order, whatever the order written.
            ("SUM(C:A!A1)", 7.0),
            ("SUM(B:D!A1)", 106.0),
            ("SUM('A:B'!A1)", 3.0),
        ];
        for (f, want) in cases {
            let mut all: Vec<(&str, &str)> = cells
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let text = format!("={f}");
            all.push(("D!Z1", text.as_str()));
            match crate::quick::eval_cells(&all, "D!Z1") {
                Value::Number(n) => assert!((n - want).abs() < 1e-12, "{f}: {n} vs {want}"),
                other => panic!("{f}: {other:?}"),
            }
        }
        let mut all: Vec<(&str, &str)> = cells
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        all.push(("D!Z1", "=SUM(A:Nope!A1)"));
        assert_eq!(
            crate::quick::eval_cells(&all, "D!Z1"),
            Value::Error(ErrorKind::Ref)
        );
    }
}
