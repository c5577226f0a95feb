#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::quick::workbook;

fn pos(a: &str) -> (u32, u32) {
    mcsim_formula::parse_a1(a).unwrap()
}

fn table(
    range: &str,
    two_d: bool,
    row_input: bool,
    r1: Option<&str>,
    r2: Option<&str>,
) -> mcsim_workbook::DataTable {
    let (a, b) = range.split_once(':').unwrap();
    let (ra, ca) = pos(a);
    let (rb, cb) = pos(b);
    mcsim_workbook::DataTable {
        sheet: 0,
        range: (ra, ca, rb, cb),
        two_d,
        row_input,
        r1: r1.map(pos),
        r2: r2.map(pos),
    }
}

fn model(cells: &[(&str, &str)], tables: Vec<mcsim_workbook::DataTable>) -> Model {
    let mut wb = workbook(cells);
    wb.data_tables = tables;
    Model::from_workbook(&wb)
}

fn num_at(model: &Model, ev: &mut Evaluator<'_>, a: &str) -> f64 {
    let (r, c) = pos(a);
    let id = model.find(0, r, c).unwrap();
    ev.value(id).to_number().unwrap()
}

/// Evaluates and recalculates the tables.
fn recalculated(model: &Model) -> Evaluator<'_> {
    let graph = Graph::build(model);
    let mut ev = Evaluator::new(model);
    ev.run(&graph.order);
    recalc(model, &graph, &mut ev, &[]);
    ev
}

#[test]
fn one_variable_column_table_with_two_formulas() {
    // {=TABLE(,B1)} over C3:D5: B1 takes B3..B5; formulas C2 and D2.
    let m = model(
        &[
            ("B1", "3"),
            ("C2", "=B1*B1"),
            ("D2", "=B1+10"),
            ("B3", "1"),
            ("B4", "2"),
            ("B5", "3"),
            ("C3", "99"), // stale cached values
            ("E1", "=SUM(C3:C5)"),
        ],
        vec![table("C3:D5", false, false, Some("B1"), None)],
    );
    let mut ev = recalculated(&m);
    let got: Vec<f64> = ["C3", "C4", "C5", "D3", "D4", "D5"]
        .iter()
        .map(|a| num_at(&m, &mut ev, a))
        .collect();
    assert_eq!(got, vec![1.0, 4.0, 9.0, 11.0, 12.0, 13.0]);
    // The model is back at the input cell's own value, and readers of the table see it.
    assert_eq!(num_at(&m, &mut ev, "B1"), 3.0);
    assert_eq!(num_at(&m, &mut ev, "C2"), 9.0);
    assert_eq!(num_at(&m, &mut ev, "E1"), 14.0);
    assert_eq!(m.tables[0].formula_text(&m), "TABLE(,B1)");
    assert_eq!(m.tables[0].runs(), 3);
}

#[test]
fn one_variable_row_table() {
    // {=TABLE(A10,)} over B12:D12: A10 takes B11..D11; formula A12.
    let m = model(
        &[
            ("A10", "1"),
            ("A12", "=A10*3"),
            ("B11", "1"),
            ("C11", "2"),
            ("D11", "5"),
        ],
        vec![table("B12:D12", false, true, Some("A10"), None)],
    );
    let mut ev = recalculated(&m);
    let got: Vec<f64> = ["B12", "C12", "D12"]
        .iter()
        .map(|a| num_at(&m, &mut ev, a))
        .collect();
    assert_eq!(got, vec![3.0, 6.0, 15.0]);
    assert_eq!(m.tables[0].runs(), 3);
}

#[test]
fn two_variable_table() {
    // {=TABLE(H1,H2)}: H1 takes the row above (I4:J4), H2 the column left (H5:H6).
    let m = model(
        &[
            ("H1", "0"),
            ("H2", "0"),
            ("G3", "=H1*10"),
            ("H4", "=G3+H2"),
            ("I4", "1"),
            ("J4", "2"),
            ("H5", "3"),
            ("H6", "4"),
        ],
        vec![table("I5:J6", true, false, Some("H1"), Some("H2"))],
    );
    let mut ev = recalculated(&m);
    let got: Vec<f64> = ["I5", "J5", "I6", "J6"]
        .iter()
        .map(|a| num_at(&m, &mut ev, a))
        .collect();
    assert_eq!(got, vec![13.0, 23.0, 14.0, 24.0]);
    assert_eq!(num_at(&m, &mut ev, "H4"), 0.0);
    assert_eq!(m.tables[0].formula_text(&m), "TABLE(H1,H2)");
    assert_eq!(m.tables[0].runs(), 4);
}

#[test]
fn blank_input_cell_read_by_the_model() {
    // The input cell F1 is blank in the file: it reads as 0 outside the table.
    let m = model(
        &[("G1", "=F1+1"), ("F2", "10"), ("F3", "20")],
        vec![table("G2:G3", false, false, Some("F1"), None)],
    );
    let mut ev = recalculated(&m);
    assert_eq!(num_at(&m, &mut ev, "G2"), 11.0);
    assert_eq!(num_at(&m, &mut ev, "G3"), 21.0);
    assert_eq!(num_at(&m, &mut ev, "G1"), 1.0);
}

#[test]
fn simulation_loop_table_redraws_rand_each_row() {
    // RAND() model, the input cell (Z1) blank and unused: each row is a new draw.
    let m = model(
        &[
            ("A1", "=RAND()"),
            ("B1", "=A1*2"),
            ("C1", "=B1"),
            ("B2", "1"),
            ("B3", "2"),
            ("B4", "3"),
            ("B5", "4"),
            ("B6", "5"),
            ("D1", "=AVERAGE(C2:C6)"),
        ],
        vec![table("C2:C6", false, false, Some("Z1"), None)],
    );
    let graph = Graph::build(&m);
    let u = uses(&m, &graph);
    assert!(u[0].volatile && !u[0].uses_inputs && u[0].simulation_loop());
    let mut ev = recalculated(&m);
    let got: Vec<f64> = ["C2", "C3", "C4", "C5", "C6"]
        .iter()
        .map(|a| num_at(&m, &mut ev, a))
        .collect();
    assert!(got.iter().all(|v| (0.0..2.0).contains(v)), "{got:?}");
    let mut distinct = got.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "{got:?}");
    let avg = got.iter().sum::<f64>() / 5.0;
    assert!((num_at(&m, &mut ev, "D1") - avg).abs() < 1e-12);
    assert_eq!(m.tables[0].result_formulas(&m).len(), 1);
}

#[test]
fn what_if_table_is_not_a_simulation_loop() {
    let m = model(
        &[
            ("A1", "=RAND()"),
            ("B9", "5"),
            ("C1", "=A1*B9"),
            ("B2", "1"),
            ("B3", "2"),
        ],
        vec![table("C2:C3", false, false, Some("B9"), None)],
    );
    let graph = Graph::build(&m);
    let u = uses(&m, &graph);
    assert!(u[0].volatile && u[0].uses_inputs && !u[0].simulation_loop());
}

#[test]
fn kept_cells_are_not_recomputed() {
    let m = model(
        &[
            ("B1", "3"),
            ("C1", "=B1*2"),
            ("C2", "=C1+1"),
            ("B3", "1"),
            ("B4", "2"),
        ],
        vec![table("C3:C4", false, false, Some("B1"), None)],
    );
    let graph = Graph::build(&m);
    let mut ev = Evaluator::new(&m);
    let c1 = m.find(0, 0, 2).unwrap();
    ev.set_value(c1, Value::Number(100.0));
    ev.run(&graph.order);
    recalc(&m, &graph, &mut ev, &[c1]);
    // The result formula C2 reads the kept C1: the input B1 changes nothing.
    assert_eq!(num_at(&m, &mut ev, "C3"), 101.0);
    assert_eq!(num_at(&m, &mut ev, "C4"), 101.0);
    assert_eq!(num_at(&m, &mut ev, "C2"), 101.0);
}
