//! Preparation helpers that run once per formula of a model (the dependency graph, the
//! unsupported-call check, column slices): what they find, pinned so that a faster walk cannot
//! change it.

#![allow(clippy::unwrap_used)]
use crate::quick::workbook;
use crate::{Area, Graph, Model};
use mcsim_formula::parse;

fn model(cells: &[(&str, &str)]) -> Model {
    Model::from_workbook(&workbook(cells))
}

fn cell_area(row: u32, col: u32) -> Area {
    Area::cell(0, row, col)
}

/// A reference given straight to ROW/COLUMN/ROWS/COLUMNS is not read; the same cell read
/// elsewhere in the formula is, and ROW over an expression reads it.
#[test]
fn graph_reads_skip_shape_only_references() {
    let m = model(&[
        ("F1", "1"),
        ("G1", "2"),
        ("E3", "=ROW(E3)+COLUMNS(A1:B2)*F1+ROW(G1)*G1+ROWS((H1))"),
    ]);
    let g = Graph::build(&m);
    assert!(
        g.cycles.is_empty(),
        "ROW(E3) in E3 is no circular reference"
    );
    let fid = m.cells[m.find(0, 2, 4).unwrap() as usize].formula.unwrap();
    // F1, then G1 (outside ROW), then H1 (inside parentheses: an expression, read).
    assert_eq!(
        g.reads[fid as usize],
        vec![cell_area(0, 5), cell_area(0, 6), cell_area(0, 7)]
    );
}

/// A range read by several formulas is one node of the graph: each formula still comes after
/// the formulas inside it.
#[test]
fn graph_orders_formulas_after_shared_ranges() {
    let m = model(&[
        ("A1", "=B1+1"),
        ("A2", "=A1*2"),
        ("C1", "=SUM(A1:A2)"),
        ("C2", "=SUM(A1:A2)+C1"),
        ("B1", "5"),
    ]);
    let g = Graph::build(&m);
    let pos = |r, c| {
        let id = m.find(0, r, c).unwrap();
        g.order.iter().position(|&x| x == id).unwrap()
    };
    assert!(pos(0, 0) < pos(1, 0));
    assert!(pos(1, 0) < pos(0, 2));
    assert!(pos(0, 2) < pos(1, 2));
    assert_eq!(g.order.len(), 4);
}

/// Volatile cells: the caller of NOW() and what reads it, not the others.
#[test]
fn volatile_cells_follow_volatile_calls() {
    let m = model(&[
        ("A1", "=NOW()"),
        ("A2", "=A1+1"),
        ("A3", "=ABS(-1)"),
        ("A4", "=SUM(1,2)+RAND()"),
    ]);
    let g = Graph::build(&m);
    let v = g.volatile_cells(&m);
    let at = |r| v[m.find(0, r, 0).unwrap() as usize];
    assert!(at(0) && at(1) && !at(2) && at(3));
}

/// Calls the library does not know, in formula order, less those of names the formula binds
/// (LET variables and LAMBDA parameters, even when bound after the call) and defined names.
#[test]
fn unsupported_calls_in_order_without_bound_names() {
    let wb = mcsim_workbook::Workbook {
        names: vec![mcsim_workbook::DefinedName {
            name: "MyFn".into(),
            scope: None,
            formula: "LAMBDA(x,x+1)".into(),
            hidden: false,
        }],
        ..workbook(&[("A1", "1")])
    };
    let m = Model::from_workbook(&wb);
    let e =
        parse("FOO(1)+h(2)+LET(h,LAMBDA(y,g(y)),h(1))+MYFN(3)+LAMBDA(g,g(1))(SQRT)+BAR(4)+FOO(5)")
            .unwrap();
    let found = crate::eval::unsupported_calls(&m, 0, &e);
    assert_eq!(found, vec!["FOO", "BAR", "FOO"]);
    // LET's last argument (the body) binds nothing.
    let e = parse("LET(a,1,b,2,ZED(a+b))").unwrap();
    assert_eq!(crate::eval::unsupported_calls(&m, 0, &e), vec!["ZED"]);
    let e = parse("LET(a,1,b)").unwrap();
    assert!(crate::eval::unsupported_calls(&m, 0, &e).is_empty());
}

/// Column slices: the stored cells between two rows, both included.
#[test]
fn column_slice_bounds() {
    let m = model(&[("A2", "1"), ("A4", "2"), ("A6", "3"), ("A8", "4")]);
    let s = &m.sheets[0];
    let rows = |r1, r2| -> Vec<u32> { s.column_slice(0, r1, r2).iter().map(|e| e.0).collect() };
    assert_eq!(rows(2, 6), vec![3, 5]);
    assert_eq!(rows(3, 3), vec![3]);
    assert_eq!(rows(0, 100), vec![1, 3, 5, 7]);
    assert!(rows(8, 9).is_empty());
    assert!(rows(0, 0).is_empty());
    assert!(rows(6, 2).is_empty());
    assert!(s.column_slice(3, 0, 100).is_empty());
}
