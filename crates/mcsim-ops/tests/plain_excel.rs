//! Plain-Excel Monte Carlo idioms at the library level.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mcsim_engine::quick::workbook;
use mcsim_engine::{Evaluator, Graph, Model, Value};

#[test]
fn row_of_the_own_cell_is_not_a_circular_reference() {
    // The throughput forecaster's idiom: INDEX(table, ROW(E3)-2, COLUMN(E3)-4) inside E3.
    let model = Model::from_workbook(&workbook(&[
        ("A1", "=ROW(A1)*10"),
        ("B1", "=COLUMNS(B1:C1)+A1"),
        ("C2", "=INDEX($A$1:$B$1,ROW(C2)-1,COLUMN(C2)-2)"),
    ]));
    let graph = Graph::build(&model);
    assert!(graph.cycles.is_empty(), "{:?}", graph.cycles);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let v = |ev: &mut Evaluator<'_>, r: u32, c: u32| ev.value(model.find(0, r, c).unwrap()).clone();
    assert_eq!(v(&mut ev, 0, 0), Value::Number(10.0));
    assert_eq!(v(&mut ev, 0, 1), Value::Number(12.0));
    assert_eq!(v(&mut ev, 1, 2), Value::Number(10.0));
    assert!(ev.circular.is_empty());
}

#[test]
fn a_true_self_reference_is_still_a_cycle() {
    let model = Model::from_workbook(&workbook(&[("A1", "=A1+ROW(A1)")]));
    let graph = Graph::build(&model);
    assert_eq!(graph.cycles.len(), 1);
}
