//! Evaluating a few cells without a file: for tests, examples and the REPL-like uses of the API.

use crate::{Evaluator, Graph, Model, Value};
use mcsim_workbook::{Cell, CellValue, Formula, Sheet, Workbook};

/// Builds a workbook from `(reference, content)` pairs: `("A1", "5")`, `("Data!B2", "hello")`,
/// `("C1", "=A1*2")`, `("D1", "{=A1:A3*2}@D1:D3")` for an array formula over D1:D3. Contents that
/// read as numbers or TRUE/FALSE become those; `'text` forces text. Sheets are created as named
/// (the first one mentioned, or `Sheet1`, is the default).
pub fn workbook(cells: &[(&str, &str)]) -> Workbook {
    let mut wb = Workbook::default();
    let sheet_of = |wb: &mut Workbook, name: &str| -> usize {
        match wb
            .sheets
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name))
        {
            Some(i) => i,
            None => {
                wb.sheets.push(Sheet {
                    name: name.to_string(),
                    cells: Vec::new(),
                });
                wb.sheets.len() - 1
            }
        }
    };
    for (r, content) in cells {
        let (sheet, addr) = match r.rsplit_once('!') {
            Some((s, a)) => (s.trim_matches('\''), a),
            None => ("Sheet1", *r),
        };
        let si = sheet_of(&mut wb, sheet);
        let Some((row, col)) = mcsim_formula::parse_a1(addr) else {
            continue;
        };
        let (value, formula) = if let Some(body) = content.strip_prefix("{=") {
            let (f, range) = body
                .split_once("}@")
                .unwrap_or((body.trim_end_matches('}'), addr));
            let (a, b) = range.split_once(':').unwrap_or((range, range));
            let (r1, c1) = mcsim_formula::parse_a1(a).unwrap_or((row, col));
            let (r2, c2) = mcsim_formula::parse_a1(b).unwrap_or((row, col));
            (
                CellValue::Empty,
                Some(Formula::Array {
                    text: f.to_string(),
                    range: (r1, c1, r2, c2),
                }),
            )
        } else if let Some(f) = content.strip_prefix('=') {
            (CellValue::Empty, Some(Formula::Text(f.to_string())))
        } else if let Some(t) = content.strip_prefix('\'') {
            (CellValue::Text(t.to_string()), None)
        } else if let Ok(n) = content.parse::<f64>() {
            (CellValue::Number(n), None)
        } else if content.eq_ignore_ascii_case("TRUE") || content.eq_ignore_ascii_case("FALSE") {
            (CellValue::Bool(content.eq_ignore_ascii_case("TRUE")), None)
        } else if content.starts_with('#') {
            (CellValue::Error(content.to_string()), None)
        } else {
            (CellValue::Text(content.to_string()), None)
        };
        wb.sheets[si].cells.push(Cell {
            row,
            col,
            value,
            formula,
        });
    }
    for s in &mut wb.sheets {
        s.cells.sort_by_key(|c| (c.row, c.col));
    }
    wb
}

/// Evaluates the cells (see [`workbook`]) and returns the value of `target` (`"B1"`, `"Data!C3"`).
pub fn eval_cells(cells: &[(&str, &str)], target: &str) -> Value {
    eval_workbook(&workbook(cells), target)
}

/// Evaluates a workbook and returns the value of `target` (`"B1"`, `"Data!C3"`).
pub fn eval_workbook(wb: &Workbook, target: &str) -> Value {
    let model = Model::from_workbook(wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let (sheet, addr) = match target.rsplit_once('!') {
        Some((s, a)) => (model.sheet_id(s.trim_matches('\'')), a),
        None => (Some(0), target),
    };
    match (sheet, mcsim_formula::parse_a1(addr)) {
        (Some(s), Some((r, c))) => match model.find(s, r, c) {
            Some(id) => ev.value(id).clone(),
            None => Value::Empty,
        },
        _ => Value::Empty,
    }
}

/// Evaluates one formula on an otherwise empty sheet of a workbook in the 1904 date system.
pub fn eval_1904(formula: &str) -> Value {
    let mut wb = workbook(&[("ZZ1000", formula)]);
    wb.date1904 = true;
    eval_workbook(&wb, "ZZ1000")
}

/// Evaluates one formula on an otherwise empty sheet: `eval("=1+1")`.
pub fn eval(formula: &str) -> Value {
    eval_cells(&[("ZZ1000", formula)], "ZZ1000")
}
