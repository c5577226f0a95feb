//! The compiled path's Excel semantics that the block compiler once got wrong (issue 8): booleans
//! in ranges, 15-digit equality, overflow, and the cases where it must decline.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::{Options, check};
use crate::quick::workbook;
use crate::sim::{Plan, Simulation};
use crate::{CellId, Graph, Model};

fn id(m: &Model, a1: &str) -> CellId {
    let (r, c) = mcsim_formula::parse_a1(a1).unwrap();
    m.find(0, r, c).unwrap()
}

/// Runs `outputs` through the plan chosen for input `A1` taking `xs` (one lane each); returns
/// whether the plan is compiled, and the output columns (NaN = error).
fn run(cells: &[(&str, &str)], xs: &[f64], outputs: &[&str]) -> (bool, Vec<Vec<f64>>) {
    let m = Model::from_workbook(&workbook(cells));
    let g = Graph::build(&m);
    let ins = [id(&m, "A1")];
    let outs: Vec<CellId> = outputs.iter().map(|a| id(&m, a)).collect();
    let sim = Simulation::prepare(&m, &g, &ins, &outs, &[], &[]);
    let compiled = matches!(sim.plan(), Plan::Compiled(_));
    let mut b = sim.block(xs.len());
    b.input_mut(0).copy_from_slice(xs);
    let mut out = vec![Vec::new(); outs.len()];
    sim.run_block(&mut b, xs.len(), &mut out);
    // And the differential check over the same model (A1 and every other constant perturbed).
    let r = check(&m, &g, &Options::default());
    let bad: Vec<String> = r.mismatches().map(|m| m.to_string()).collect();
    assert!(bad.is_empty(), "compiled and interpreted disagree: {bad:?}");
    (compiled, out)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn uniform(n: usize) -> Vec<f64> {
    (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect()
}

#[test]
fn booleans_in_ranges_are_skipped_by_aggregates() {
    // The example: A1 uniform, A2 =A1>0.5, A3 =A1.
    let cells = [
        ("A1", "0.3"),
        ("A2", "=A1>0.5"),
        ("A3", "=A1"),
        ("B1", "=SUM(A2:A3)"),
        ("B2", "=AVERAGE(A2:A3)"),
        ("B3", "=MAX(A2:A3)"),
        ("B4", "=MIN(A2:A3)"),
        ("B5", "=PRODUCT(A2:A3)"),
        ("B6", "=SUM(A1>0.5,A3)"),
        ("B7", "=SUM(A2)"),
        ("B8", "=NPV(0.1,A2:A3)"),
    ];
    let xs = uniform(64);
    let outs = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"];
    let (compiled, out) = run(&cells, &xs, &outs);
    assert!(compiled);
    // Excel: SUM, AVERAGE, MAX, MIN, PRODUCT of A2:A3 see A3 alone.
    for k in 0..5 {
        assert_eq!(out[k], xs, "{}", outs[k]);
    }
    assert!((mean(&out[0]) - 0.5).abs() < 1e-12);
    // A boolean given directly counts as 1/0.
    let direct: Vec<f64> = xs.iter().map(|&x| x + (x > 0.5) as u8 as f64).collect();
    assert_eq!(out[5], direct);
    // A single-cell reference to a boolean is skipped too: SUM of nothing is 0.
    assert!(out[6].iter().all(|&v| v == 0.0));
    let npv: Vec<f64> = xs.iter().map(|&x| x / 1.1).collect();
    assert_eq!(out[7], npv);
}

#[test]
fn a_skipped_boolean_still_carries_its_error() {
    // A2 is #DIV/0! where A1 = 0: SUM(A2:A3) is then an error although A2 is skipped otherwise.
    let cells = [
        ("A1", "1"),
        ("A2", "=1/A1>0.5"),
        ("A3", "=A1"),
        ("B1", "=SUM(A2:A3)"),
        ("B2", "=COUNTIF(A2:A3,\">0\")"),
        ("B3", "=AVERAGE(A2)"),
    ];
    let xs = [0.0, 1.0, 4.0];
    let (compiled, out) = run(&cells, &xs, &["B1", "B2", "B3"]);
    assert!(compiled);
    assert!(out[0][0].is_nan());
    assert_eq!(&out[0][1..], &[1.0, 4.0]);
    // COUNTIF does not propagate errors; the boolean never matches a numeric criterion.
    assert_eq!(out[1], vec![0.0, 1.0, 1.0]);
    // AVERAGE of no number is #DIV/0!.
    assert!(out[2].iter().all(|v| v.is_nan()));
}

#[test]
fn countif_and_comparisons_use_fifteen_digit_equality() {
    let cells = [
        ("A1", "0.1"),
        ("A2", "=A1*3"),
        ("B1", "=COUNTIF(A2:A2,0.3)"),
        ("B2", "=COUNTIF(A2:A2,\">0.3\")"),
        ("B3", "=COUNTIF(A2:A2,\"<>0.3\")"),
        ("B4", "=IF(A2=0.3,1,0)"),
        ("B5", "=A2>0.3"),
    ];
    // 0.1 * 3 = 0.30000000000000004, equal to 0.3 as Excel compares.
    let (compiled, out) = run(&cells, &[0.1, 0.2], &["B1", "B2", "B3", "B4", "B5"]);
    assert!(compiled);
    assert_eq!(out[0], vec![1.0, 0.0]);
    assert_eq!(out[1], vec![0.0, 1.0]);
    assert_eq!(out[2], vec![0.0, 1.0]);
    assert_eq!(out[3], vec![1.0, 0.0]);
    assert_eq!(out[4], vec![0.0, 1.0]);
}

#[test]
fn overflow_is_an_error_where_it_happens() {
    let cells = [
        ("A1", "1"),
        ("B1", "=ISERROR(A1*1E308)"),
        ("B2", "=IFERROR(1/(A1*1E308),-1)"),
        ("B3", "=IF(A1*1E308>0,1,2)"),
        ("B4", "=(A1*1E308)-(A1*1E308)"),
    ];
    let (compiled, out) = run(&cells, &[10.0, 0.5], &["B1", "B2", "B3", "B4"]);
    assert!(compiled);
    assert_eq!(out[0], vec![1.0, 0.0]);
    assert_eq!(out[1], vec![-1.0, 1.0 / (0.5 * 1e308)]);
    assert!(out[2][0].is_nan());
    assert_eq!(out[2][1], 1.0);
    assert!(out[3][0].is_nan());
    assert_eq!(out[3][1], 0.0);
}

#[test]
fn booleans_keep_their_type_in_isnumber_and_and_or() {
    let cells = [
        ("A1", "0.3"),
        ("A2", "=A1>0.5"),
        ("B1", "=ISNUMBER(A2)"),
        ("B2", "=ISNUMBER(A1)"),
        ("C1", "FALSE"),
        ("C2", "'text"),
        ("B3", "=AND(A1>0.2,C1:C2)"),
        ("B4", "=OR(A2:A2)"),
    ];
    let (compiled, out) = run(&cells, &[0.1, 0.9], &["B1", "B2", "B3", "B4"]);
    assert!(compiled);
    assert_eq!(out[0], vec![0.0, 0.0]);
    assert_eq!(out[1], vec![1.0, 1.0]);
    // The constant FALSE in C1 counts (AND/OR read booleans in ranges); the text is skipped.
    assert_eq!(out[2], vec![0.0, 0.0]);
    assert_eq!(out[3], vec![0.0, 1.0]);
}

#[test]
fn declines_where_the_type_is_not_known() {
    // A cell that is a boolean in some iterations and a number in others, read by SUM.
    let (compiled, out) = run(
        &[
            ("A1", "0.3"),
            ("A2", "=IF(A1>0.5,TRUE,A1)"),
            ("B1", "=SUM(A2:A2)"),
        ],
        &[0.1, 0.9],
        &["B1"],
    );
    assert!(!compiled);
    assert_eq!(out[0], vec![0.1, 0.0]);
    // A boolean compared with a number: TRUE > 5 in Excel.
    let (compiled, out) = run(
        &[("A1", "0.3"), ("A2", "=A1>0.5"), ("B1", "=A2>5")],
        &[0.1, 0.9],
        &["B1"],
    );
    assert!(!compiled);
    assert_eq!(out[0], vec![1.0, 1.0]);
    // Text read as a number, and a function result read by an aggregate as a reference.
    for f in ["=C1+A1", "=SUM(IF(A1>0.5,C2,1))", "=SUM(A1,,1)"] {
        let (compiled, _) = run(
            &[("A1", "0.3"), ("C1", "'3"), ("C2", "TRUE"), ("B1", f)],
            &[0.1, 0.9],
            &["B1"],
        );
        assert!(!compiled, "{f} compiled");
    }
}

#[test]
fn sums_and_npv_round_as_the_interpreter_does() {
    // Constants between columns are added in order, not pre-combined: the bits match.
    let cells = [
        ("A1", "1"),
        ("A2", "1E+16"),
        ("A3", "=A1*0.1"),
        ("A4", "-1E+16"),
        ("A5", "=A1*0.7"),
        ("B1", "=SUM(A2:A5)"),
        ("B2", "=NPV(A1/10,A2:A5)"),
        ("B3", "=ROUND(A1*1234.5678,2)"),
        ("B4", "=A1%"),
    ];
    let xs: Vec<f64> = uniform(16).iter().map(|x| x * 7.0).collect();
    let (compiled, out) = run(&cells, &xs, &["B1", "B2", "B3", "B4"]);
    assert!(compiled);
    for (i, &x) in xs.iter().enumerate() {
        let sum = ((-0.0 + 1e16) + x * 0.1) + -1e16 + x * 0.7;
        assert_eq!(out[0][i].to_bits(), sum.to_bits());
        assert_eq!(out[3][i].to_bits(), (x / 100.0).to_bits());
    }
}
