#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! Every statistic in the run report checked against an independent computation (issue 8):
//! `statistics_check.py` recomputes them with numpy (and scipy when it is installed) from the
//! samples file, on a Latin Hypercube run with a `RiskCorrmat` group, an output that is an Excel
//! error in some iterations, a skewed output and a discrete one. Skipped (with a note) when
//! `python3` or numpy is missing.

mod common;

use mcsim_ops::run::{RunOptions, RunReport, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh directory under the target's temporary directory.
fn temp(name: &str) -> PathBuf {
    common::target_temp("statistics", name)
}

/// The model: A1 (normal) and A2 (lognormal) rank-correlated at 0.7 by `RiskCorrmat`, A3 a
/// binomial, A4 an independent uniform; outputs `ratio` (#DIV/0! whenever |A1| < 0.5, about 38 %
/// of iterations), `skewed` (lognormal-dominated), `count` (discrete, many ties) and `mixed`.
fn write_model(path: &Path) {
    common::write_book(
        path,
        &[
            (
                "A1",
                "=RiskNormal(0,1,RiskCorrmat(F1:G2,1),RiskName(\"z\"))",
            ),
            (
                "A2",
                "=RiskLognorm(10,5,RiskCorrmat(F1:G2,2),RiskName(\"growth\"))",
            ),
            ("A3", "=RiskBinomial(10,0.3,RiskName(\"hits\"))"),
            ("A4", "=RiskUniform(-1,1,RiskName(\"noise\"))"),
            ("B1", "=RiskOutput(\"ratio\")+A2/ROUND(A1,0)"),
            ("B2", "=RiskOutput(\"skewed\")+2*A2+A1+EXP(A4)"),
            ("B3", "=RiskOutput(\"count\")+A3"),
            ("B4", "=RiskOutput(\"mixed\")+A1*3-A2+A3*A4"),
            ("F1", "1"),
            ("G1", "0.7"),
            ("F2", "0.7"),
            ("G2", "1"),
            // Statistics functions, recalculated on the simulated values.
            ("D1", "=RiskMean(B1)"),
            ("D2", "=RiskStdDev(B2)"),
            ("D3", "=RiskVariance(B4)"),
            ("D4", "=RiskMin(B1)"),
            ("D5", "=RiskMax(B2)"),
            ("D6", "=RiskRange(B4)"),
            ("D7", "=RiskSkewness(B2)"),
            ("D8", "=RiskKurtosis(B1)"),
            ("D9", "=RiskPercentile(B1,0.9)"),
            ("D10", "=RiskPtoX(B2,0.05)"),
            ("D11", "=RiskPercentileD(B4,0.1)"),
            ("D12", "=RiskTarget(B3,3)"),
            ("D13", "=RiskTargetD(B2,20)"),
            ("D14", "=RiskCIMean(B1,0.9)"),
            ("D15", "=RiskCIMean(B2,0.95,FALSE)"),
            ("D16", "=RiskCoeffOfVariation(B4)"),
            ("D17", "=RiskMode(B3)"),
        ],
        &[],
    );
}

/// Threshold conditions, one per statistic kind of the grammar.
const FAIL_IF: [&str; 10] = [
    "P(skewed < 20) > 0.5",
    "P(count >= 3) <= 0.5",
    "mean(ratio) > 0",
    "std(mixed) < 100",
    "min(count) >= 0",
    "max(skewed) < 1e9",
    "median(ratio) > 0",
    "p99.5(skewed) > 0",
    "var(mixed, 0.05) < 0",
    "cvar(ratio, 0.1) < 0",
];

/// Whether `python3 -c "import <module>"` succeeds.
fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

const PERCENTILES: [f64; 5] = [0.001, 0.333, 0.999, 0.0, 1.0];
const RISK_LEVELS: [f64; 3] = [0.01, 0.1, 0.25];
const TARGETS: [f64; 4] = [0.0, 3.0, 20.0, 25.5];

fn run_model(dir: &Path, samples: &str) -> RunReport {
    let wb = dir.join("model.xlsx");
    write_model(&wb);
    let opts = RunOptions {
        workbook: wb,
        iterations: Some(3000),
        seed: Some(20_240_806),
        threads: Some(2),
        out: Some(dir.join(samples)),
        percentiles: PERCENTILES.to_vec(),
        risk_levels: RISK_LEVELS.to_vec(),
        targets: TARGETS.to_vec(),
        fail_if: FAIL_IF.iter().map(|s| s.to_string()).collect(),
        ..RunOptions::default()
    };
    run(&opts, &|_, _| {}).unwrap()
}

#[test]
fn every_report_statistic_matches_numpy() {
    let dir = temp("numpy");
    let report = run_model(&dir, "samples.csv");
    // The run is what the check is about: Latin Hypercube, errors in one output, no warnings.
    assert_eq!(report.sampling, "lhs");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let ratio = report.outputs.iter().find(|o| o.name == "ratio").unwrap();
    assert!(
        ratio.summary.errors > 500 && ratio.summary.n > 1000,
        "{:?}",
        ratio.summary
    );
    assert_eq!(report.statistics.len(), 17);
    assert_eq!(report.thresholds.len(), FAIL_IF.len());
    if !python_has("numpy") {
        println!(
            "note: skipping every_report_statistic_matches_numpy: `python3 -c 'import numpy'` failed"
        );
        return;
    }
    check_with_numpy(&dir, "samples.csv", &report);
    // The same run through a Parquet samples file (nulls for the error iterations), when pyarrow
    // can read it; the report must be the same whatever the file format.
    if python_has("pyarrow") {
        let again = run_model(&dir, "samples.parquet");
        assert_eq!(
            serde_json::to_value(&again.outputs).unwrap(),
            serde_json::to_value(&report.outputs).unwrap()
        );
        check_with_numpy(&dir, "samples.parquet", &again);
    } else {
        println!("note: Parquet variant skipped: `python3 -c 'import pyarrow'` failed");
    }
}

/// Runs `statistics_check.py` on a samples file in `dir` and the report; fails on any mismatch.
fn check_with_numpy(dir: &Path, samples: &str, report: &RunReport) {
    let json = dir.join(format!("{samples}.report.json"));
    std::fs::write(&json, serde_json::to_string(report).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/statistics_check.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.join(samples))
        .arg(&json)
        .arg(
            serde_json::json!({
                "percentiles": PERCENTILES,
                "risk_levels": RISK_LEVELS,
                "targets": TARGETS,
                "fail_if": FAIL_IF,
            })
            .to_string(),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{samples}:\n{stdout}{stderr}");
    assert!(
        out.status.success(),
        "{samples}: statistics differ from numpy:\n{stdout}\n{stderr}"
    );
    // The script checked something: one line per output with its count of comparisons.
    assert!(
        stdout.contains("ratio:") && stdout.contains("count:"),
        "{stdout}"
    );
}

/// An output that is an error in every iteration and one that is constant although it depends
/// on an uncertain input: the sensitivity analysis cannot fail on them (its only errors are
/// slice-length mismatches, which the run cannot produce), so the report must carry them as
/// "no value" (`null`), not as made-up numbers, and the summary must count the errors.
#[test]
fn degenerate_outputs_give_null_statistics_not_numbers() {
    let dir = temp("degenerate");
    let wb = dir.join("model.xlsx");
    common::write_book(
        &wb,
        &[
            ("A1", "=RiskNormal(0,1,RiskName(\"z\"))"),
            ("A2", "=RiskUniform(0,1,RiskName(\"u\"))"),
            ("B1", "=RiskOutput(\"always_error\")+A1/0"),
            ("B2", "=RiskOutput(\"flat\")+A1*0+5"),
            ("B3", "=RiskOutput(\"fine\")+A1+A2"),
        ],
        &[],
    );
    let opts = RunOptions {
        workbook: wb,
        iterations: Some(500),
        seed: Some(3),
        ..RunOptions::default()
    };
    let report = run(&opts, &|_, _| {}).unwrap();
    let get = |name: &str| report.outputs.iter().find(|o| o.name == name).unwrap();

    let e = get("always_error");
    assert_eq!((e.summary.n, e.summary.errors), (0, 500));
    assert!(e.summary.mean.is_nan() && e.summary.percentiles[0].value.is_nan());
    let s = e.sensitivity.as_ref().unwrap();
    assert_eq!(s.n, 0);
    assert!(
        s.entries
            .iter()
            .all(|x| x.spearman.is_none() && x.src.is_none() && x.contribution.is_none()),
        "{s:?}"
    );

    let f = get("flat");
    assert_eq!((f.summary.n, f.summary.errors), (500, 0));
    assert_eq!((f.summary.mean, f.summary.std_dev), (5.0, 0.0));
    assert!(f.summary.skewness.is_nan() && f.summary.kurtosis.is_nan());
    assert!(!f.deterministic);
    let s = f.sensitivity.as_ref().unwrap();
    assert_eq!(s.n, 500);
    assert!(
        s.entries
            .iter()
            .all(|x| x.spearman.is_none() && x.src.is_none() && x.contribution.is_none()),
        "{s:?}"
    );

    // The degenerate outputs do not disturb the others.
    let s = get("fine").sensitivity.as_ref().unwrap();
    assert_eq!(s.n, 500);
    assert!(s.entries.iter().all(|x| x.spearman.is_some()));

    // And the JSON says null, not 0 or NaN.
    let json = serde_json::to_value(&report).unwrap();
    let outs = json["outputs"].as_array().unwrap();
    let err_json = outs.iter().find(|o| o["name"] == "always_error").unwrap();
    assert!(err_json["summary"]["mean"].is_null());
    let flat_json = outs.iter().find(|o| o["name"] == "flat").unwrap();
    assert!(flat_json["summary"]["skewness"].is_null());
}

/// A `RiskCorrmat` matrix that is not positive semi-definite is repaired, and the run says so in
/// a warning naming the matrix (no silent fallback).
#[test]
fn a_repaired_corrmat_is_reported() {
    let dir = temp("repair");
    let wb = dir.join("model.xlsx");
    common::write_book(
        &wb,
        &[
            ("A1", "=RiskNormal(0,1,RiskCorrmat(F1:H3,1))"),
            ("A2", "=RiskNormal(0,1,RiskCorrmat(F1:H3,2))"),
            ("A3", "=RiskNormal(0,1,RiskCorrmat(F1:H3,3))"),
            ("B1", "=RiskOutput(\"sum\")+A1+A2+A3"),
            ("F1", "1"),
            ("G1", "0.9"),
            ("H1", "-0.9"),
            ("F2", "0.9"),
            ("G2", "1"),
            ("H2", "0.9"),
            ("F3", "-0.9"),
            ("G3", "0.9"),
            ("H3", "1"),
        ],
        &[],
    );
    let opts = RunOptions {
        workbook: wb,
        iterations: Some(200),
        seed: Some(1),
        ..RunOptions::default()
    };
    let report = run(&opts, &|_, _| {}).unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("RiskCorrmat(") && w.contains("min_eigenvalue")),
        "{:?}",
        report.warnings
    );
}
