//! Building a [`Model`] from a workbook (`mcsim-functions`' `build.rs`), checked by evaluating
//! the model: the tests that need the evaluator, above the crate that builds models.

#![allow(clippy::unwrap_used)]
use crate::{Evaluator, Graph, Model, Value};
use mcsim_formula::ErrorKind;
use mcsim_workbook::{Cell, CellValue, Formula as WbFormula, Sheet as WbSheet, Table, Workbook};

fn num(row: u32, col: u32, v: f64) -> Cell {
    Cell {
        row,
        col,
        value: CellValue::Number(v),
        formula: None,
    }
}

fn formula(row: u32, col: u32, f: WbFormula) -> Cell {
    Cell {
        row,
        col,
        value: CellValue::Empty,
        formula: Some(f),
    }
}

/// A calculated column stored as a shared formula (as Excel saves one): every cell of the
/// block reads its own row, and a block whose anchor holds no structured reference still
/// shifts as before.
#[test]
fn shared_formulas_resolve_this_row_per_cell() {
    // T over A1:C4: header row, data rows 2-4; C = [@A]*[@B], shared from C2.
    let mut cells = vec![
        formula(1, 2, WbFormula::Text("T[[#This Row],[A]]*T[@B]".into())),
        formula(
            2,
            2,
            WbFormula::Shared {
                anchor_row: 1,
                anchor_col: 2,
            },
        ),
        formula(
            3,
            2,
            WbFormula::Shared {
                anchor_row: 1,
                anchor_col: 2,
            },
        ),
        // E2:E3 share `A2*10` (no table reference).
        formula(1, 4, WbFormula::Text("A2*10".into())),
        formula(
            2,
            4,
            WbFormula::Shared {
                anchor_row: 1,
                anchor_col: 4,
            },
        ),
        formula(5, 0, WbFormula::Text("SUM(T[C])".into())),
    ];
    for (r, a, b) in [(1, 2.0, 3.0), (2, 4.0, 5.0), (3, 6.0, 7.0)] {
        cells.push(num(r, 0, a));
        cells.push(num(r, 1, b));
    }
    cells.sort_by_key(|c| (c.row, c.col));
    let wb = Workbook {
        sheets: vec![WbSheet {
            name: "S".into(),
            cells,
        }],
        tables: vec![Table {
            sheet: 0,
            name: "T".into(),
            display_name: "T".into(),
            range: (0, 0, 3, 2),
            header_row_count: 1,
            totals_row_count: 0,
            columns: vec!["A".into(), "B".into(), "C".into()],
            filtered: false,
        }],
        ..Workbook::default()
    };
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    assert!(graph.cycles.is_empty());
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let v = |ev: &mut Evaluator<'_>, r, c| ev.value(model.find(0, r, c).unwrap()).clone();
    // 2*3, 4*5, 6*7 and their sum.
    assert_eq!(v(&mut ev, 1, 2), Value::Number(6.0));
    assert_eq!(v(&mut ev, 2, 2), Value::Number(20.0));
    assert_eq!(v(&mut ev, 3, 2), Value::Number(42.0));
    assert_eq!(v(&mut ev, 5, 0), Value::Number(68.0));
    assert_eq!(v(&mut ev, 2, 4), Value::Number(40.0));
    let f = model.cells[model.find(0, 3, 2).unwrap() as usize]
        .formula
        .unwrap();
    assert_eq!(model.formulas[f as usize].text(), "S!$A4*S!$B4");
}

/// A shared formula that reads another workbook shifts its references per cell before they
/// become the cached values; a defined name over another workbook reads the cache too.
#[test]
fn shared_formulas_read_other_workbooks_per_cell() {
    use mcsim_workbook::{DefinedName, ExternalBook, ExternalSheet};
    let shared = |row| {
        formula(
            row,
            1,
            WbFormula::Shared {
                anchor_row: 0,
                anchor_col: 1,
            },
        )
    };
    let wb = Workbook {
        sheets: vec![WbSheet {
            name: "S".into(),
            cells: vec![
                formula(0, 1, WbFormula::Text("[1]Data!A1*10".into())),
                formula(0, 2, WbFormula::Text("Rate+1".into())),
                shared(1),
                shared(2),
            ],
        }],
        names: vec![DefinedName {
            name: "Rate".into(),
            scope: None,
            formula: "[1]Data!$B$1".into(),
            hidden: false,
        }],
        external_books: vec![ExternalBook {
            sheets: vec![ExternalSheet {
                name: "Data".into(),
                cells: Some(vec![
                    (0, 0, CellValue::Number(1.0)),
                    (0, 1, CellValue::Number(0.25)),
                    (1, 0, CellValue::Number(2.0)),
                    (2, 0, CellValue::Number(3.0)),
                ]),
            }],
            ..ExternalBook::default()
        }],
        ..Workbook::default()
    };
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    for (row, col, want) in [(0, 1, 10.0), (1, 1, 20.0), (2, 1, 30.0), (0, 2, 1.25)] {
        let id = model.find(0, row, col).unwrap();
        assert_eq!(ev.value(id), &Value::Number(want), "row {row} col {col}");
    }
}

/// Defined names of another workbook: `[1]!Name`, a name local to one of its sheets, the
/// file-name form, a constant name, and names the link does not define.
#[test]
fn defined_names_of_other_workbooks_read_the_cache() {
    use mcsim_workbook::{ExternalBook, ExternalName, ExternalSheet};
    let cells = [
        "[1]!Rate*100",
        "[1]Other!Rate",
        "'C:\\Data\\[Prices.xlsx]'!Rate+1",
        "[1]!Half",
        "SUM([1]!Block)",
        "[1]!Nope",
        "[2]!Rate",
        "'C:\\Data\\[Unknown.xlsx]'!Rate",
        "'C:\\Data\\[prices.XLSX]Data'!A1",
    ];
    let wb = Workbook {
        sheets: vec![WbSheet {
            name: "S".into(),
            cells: cells
                .iter()
                .enumerate()
                .map(|(i, f)| formula(i as u32, 0, WbFormula::Text((*f).into())))
                .collect(),
        }],
        external_books: vec![ExternalBook {
            sheets: vec![
                ExternalSheet {
                    name: "Data".into(),
                    cells: Some(vec![
                        (0, 0, CellValue::Number(1.0)),
                        (0, 1, CellValue::Number(0.25)),
                        (1, 0, CellValue::Number(2.0)),
                    ]),
                },
                ExternalSheet {
                    name: "Other".into(),
                    cells: Some(vec![(4, 4, CellValue::Number(7.0))]),
                },
            ],
            names: vec![
                ExternalName {
                    name: "Rate".into(),
                    refers_to: "Data!$B$1".into(),
                    sheet: None,
                },
                ExternalName {
                    name: "Rate".into(),
                    refers_to: "Other!$E$5".into(),
                    sheet: Some(1),
                },
                ExternalName {
                    name: "Half".into(),
                    refers_to: "0.5".into(),
                    sheet: None,
                },
                ExternalName {
                    name: "Block".into(),
                    refers_to: "Data!$A$1:$A$2".into(),
                    sheet: None,
                },
            ],
            target: Some("file:///C:/Data/Prices.xlsx".into()),
        }],
        ..Workbook::default()
    };
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let want = [
        Value::Number(25.0),
        Value::Number(7.0),
        Value::Number(1.25),
        Value::Number(0.5),
        Value::Number(3.0),
        Value::Error(ErrorKind::Ref),
        Value::Error(ErrorKind::Ref),
        Value::Error(ErrorKind::Ref),
        Value::Number(1.0),
    ];
    for (row, want) in want.iter().enumerate() {
        let id = model.find(0, row as u32, 0).unwrap();
        assert_eq!(ev.value(id), want, "{}", cells[row]);
    }
}
