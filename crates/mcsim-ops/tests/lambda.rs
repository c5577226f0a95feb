#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! LAMBDA in a simulated workbook: defined names bound to LAMBDAs and MAP over a range, in the
//! stochastic part of a model written as a real `.xlsx` (names stored as Excel stores them,
//! `_xlfn.LAMBDA(_xlpm.x, ..)`). The compiler declines these cells and the interpreter evaluates
//! them per iteration; the results must be those of the formulas with the LAMBDAs inlined.
//!
//! Tolerances: means within 4 standard errors (sd/√n), standard deviations within 4 standard
//! errors of a normal sample's sd (sd/√(2n)); the seed is fixed.

mod common;

use common::{output, simulate, write_book};
use mcsim_ops::run::RunReport;

fn assert_moments(r: &RunReport, name: &str, mean: f64, sd: f64) {
    let o = output(r, name);
    let n = r.iterations as f64;
    assert!(
        (o.summary.mean - mean).abs() <= 4.0 * sd / n.sqrt(),
        "{name}: mean {} vs {mean}",
        o.summary.mean
    );
    assert!(
        (o.summary.std_dev - sd).abs() <= 4.0 * sd / (2.0 * n).sqrt(),
        "{name}: sd {} vs {sd}",
        o.summary.std_dev
    );
}

#[test]
fn lambda_names_and_map_in_the_simulated_part() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lambda.xlsx");
    write_book(
        &p,
        &[
            ("A1", "=RiskNormal(10,2)"),
            ("A2", "5"),
            ("B1", "1"),
            ("C1", "=RiskOutput(\"scaled\")+SCALE(A1)"),
            (
                "C2",
                "=RiskOutput(\"mapped\")+SUM(_xlfn.MAP(A1:A2,_xlfn.LAMBDA(_xlpm.v,_xlpm.v*2)))",
            ),
            ("C3", "=RiskOutput(\"square\")+SQ(A1)"),
            ("C4", "=RiskOutput(\"fixed\")+SQ(B1+2)"),
        ],
        &[
            ("SQ", "_xlfn.LAMBDA(_xlpm.x,_xlpm.x*_xlpm.x)"),
            // The body reads a cell of its own: B1.
            ("SCALE", "_xlfn.LAMBDA(_xlpm.x,_xlpm.x*3+Sheet1!$B$1)"),
        ],
    );
    let r = simulate(&p, 20_000, 20261207);
    assert!(r.evaluation.starts_with("interpreted"), "{}", r.evaluation);
    assert_eq!(
        r.interpreted_because.len(),
        3,
        "{:?}",
        r.interpreted_because
    );
    // X ~ Normal(10, 2): 3X + 1 and 2X + 10.
    assert_moments(&r, "scaled", 31.0, 6.0);
    assert_moments(&r, "mapped", 30.0, 4.0);
    // X²: mean μ² + σ² = 104; variance 4μ²σ² + 2σ⁴ = 1632 (not normal: a wider sd tolerance).
    let sq = output(&r, "square");
    assert!((sq.summary.mean - 104.0).abs() <= 4.0 * 1632f64.sqrt() / 20_000f64.sqrt());
    assert!(
        (sq.summary.std_dev - 1632f64.sqrt()).abs() < 1.5,
        "{}",
        sq.summary.std_dev
    );
    // A LAMBDA call on constants only: the same 9 in every iteration.
    let fixed = output(&r, "fixed");
    assert_eq!((fixed.summary.mean, fixed.summary.std_dev), (9.0, 0.0));
}

#[test]
fn parse_recalculates_lambda_names_and_lists_only_missing_functions() {
    // Values stored as Excel computed them; `parse --recalc` must reproduce them, and the calls
    // of LAMBDAs (a name, a LET variable) are not unsupported functions.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("names.xlsx");
    write_book(
        &p,
        &[
            ("A1", "212"),
            ("B1", "=Temperature(A1)|100"),
            (
                "B2",
                "=_xlfn.LET(_xlpm.f,_xlfn.LAMBDA(_xlpm.x,_xlpm.x*2),_xlpm.f(21))|42",
            ),
            (
                "B3",
                "=_xlfn.LAMBDA(_xlpm.x,_xlpm.y,_xlpm.x^_xlpm.y)(2,10)|1024",
            ),
            (
                "B4",
                "=_xlfn.REDUCE(0,A1:A1,_xlfn.LAMBDA(_xlpm.a,_xlpm.v,_xlpm.a+_xlpm.v))|212",
            ),
            ("B5", "=NOTAFUNCTION(1)"),
        ],
        &[(
            "Temperature",
            "_xlfn.LAMBDA(_xlpm.temp, (5/9) * (_xlpm.temp-32))",
        )],
    );
    let r = mcsim_ops::parse::parse(&mcsim_ops::parse::ParseOptions::new(&p).with_recalc(true))
        .unwrap();
    let missing: Vec<&str> = r.unsupported.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(missing, vec!["NOTAFUNCTION"]);
    let recalc = r.recalc.unwrap();
    assert_eq!(recalc.summary.mismatched, 0, "{:?}", recalc.cells);
    assert_eq!(recalc.summary.matched, 4);
}

#[test]
fn a_distribution_whose_parameter_calls_a_lambda_name_follows_its_input() {
    // B1's mean is PLUS_A(0) = A1, read only inside the LAMBDA's body: the parameter must be
    // taken per iteration, not frozen at A1's mean. Normal(U(0,10), 1): mean 5, variance
    // 1 + 100/12 (frozen, the sd would be 1).
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("param.xlsx");
    write_book(
        &p,
        &[
            ("A1", "=RiskUniform(0,10)"),
            ("B1", "=RiskNormal(PLUS_A(0),1)"),
            ("C1", "=RiskOutput(\"dep\")+B1"),
        ],
        &[("PLUS_A", "_xlfn.LAMBDA(_xlpm.x,_xlpm.x+Sheet1!$A$1)")],
    );
    let r = simulate(&p, 20_000, 20261207);
    let o = output(&r, "dep");
    let sd = (1.0f64 + 100.0 / 12.0).sqrt();
    assert!(
        (o.summary.mean - 5.0).abs() <= 4.0 * sd / 20_000f64.sqrt(),
        "{}",
        o.summary.mean
    );
    assert!(
        (o.summary.std_dev - sd).abs() < 0.08,
        "{}",
        o.summary.std_dev
    );
}
