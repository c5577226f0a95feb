#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! The `run` operation end to end on the bench models (copied into `bench/models`).

use mcsim_ops::run::{RunOptions, run};
use std::path::PathBuf;

fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/models")
        .join(name)
}

fn opts(name: &str, n: u64, seed: u64) -> RunOptions {
    RunOptions {
        workbook: model(name),
        iterations: Some(n),
        seed: Some(seed),
        ..RunOptions::default()
    }
}

#[test]
fn npv_risk_model_runs_compiled() {
    let r = run(&opts("npv_project_risk.xlsx", 20_000, 7), &|_, _| {}).unwrap();
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    assert_eq!(r.inputs.len(), 8);
    let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert!(names.contains(&"NPV"), "{names:?}");
    for o in &r.outputs {
        // The convergence trace ends at the full run, where it must agree with the summary.
        assert_eq!(o.convergence.len(), 10, "{}", o.name);
        let last = o.convergence.last().unwrap();
        assert_eq!(last.iterations, 20_000);
        assert!(
            (last.mean - o.summary.mean).abs() <= 1e-9 * o.summary.mean.abs().max(1.0),
            "{}",
            o.name
        );
    }
}

/// Reference statistics from the hand-vectorised numpy models (`bench/reference_stats.py`,
/// 4,000,000 iterations).
fn reference() -> serde_json::Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/reference_stats.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The standard normal density at the p-quantile (for the standard error of a percentile).
fn phi_at(p: f64) -> f64 {
    let z = mcsim_sampling::normal_quantile(p);
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// mcsim's estimates agree with numpy's within Monte Carlo error: means within 4 standard errors
/// of the difference, and the 5th/50th/95th percentiles of continuous outputs within 4 standard
/// errors of a percentile estimate (normal approximation, sd·sqrt(p(1-p)/n)/φ(z_p)).
fn agrees_with_numpy(workbook: &str, model: &str, n: u64, discrete: &[&str]) {
    let r = run(&opts(workbook, n, 2024), &|_, _| {}).unwrap();
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    let reference = reference();
    let refn = reference["iterations"].as_f64().unwrap();
    let models = &reference["models"][model];
    let mut checked = 0;
    for o in &r.outputs {
        let Some(rs) = models.get(&o.name) else {
            continue;
        };
        let (mean, sd) = (rs["mean"].as_f64().unwrap(), rs["sd"].as_f64().unwrap());
        let se = sd * (1.0 / n as f64 + 1.0 / refn).sqrt();
        let d = (o.summary.mean - mean).abs();
        assert!(
            d <= 4.0 * se + 1e-12,
            "{model} {}: mean {} vs numpy {mean} (se {se})",
            o.name,
            o.summary.mean
        );
        if !discrete.contains(&o.name.as_str()) {
            for p in [0.05, 0.5, 0.95] {
                let q_ref = rs["percentiles"][p.to_string()].as_f64().unwrap();
                let q = o.summary.percentile(p).unwrap();
                let se_q = sd * (p * (1.0 - p) * (1.0 / n as f64 + 1.0 / refn)).sqrt() / phi_at(p);
                assert!(
                    (q - q_ref).abs() <= 4.0 * se_q,
                    "{model} {} p{p}: {q} vs numpy {q_ref} (se {se_q})",
                    o.name
                );
            }
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        r.outputs.len(),
        "every output has a numpy reference"
    );
}

#[test]
fn npv_project_agrees_with_numpy() {
    agrees_with_numpy(
        "npv_project_risk.xlsx",
        "npv_project",
        100_000,
        &["PaybackYear", "LossYears"],
    );
}

#[test]
fn portfolio_agrees_with_numpy() {
    agrees_with_numpy(
        "portfolio_risk.xlsx",
        "portfolio",
        100_000,
        &[
            "BreachIndicator",
            "LosingAssets",
            "GrossLoss",
            "LargestAssetLoss",
        ],
    );
}

#[test]
fn same_seed_same_bits_whatever_the_thread_count() {
    let mut a = opts("npv_project_risk.xlsx", 40_000, 11);
    a.threads = Some(1);
    let mut b = a.clone();
    b.threads = Some(3);
    let (ra, rb) = (run(&a, &|_, _| {}).unwrap(), run(&b, &|_, _| {}).unwrap());
    for (x, y) in ra.outputs.iter().zip(&rb.outputs) {
        assert_eq!(
            x.summary.mean.to_bits(),
            y.summary.mean.to_bits(),
            "{}",
            x.name
        );
        assert_eq!(
            x.summary.std_dev.to_bits(),
            y.summary.std_dev.to_bits(),
            "{}",
            x.name
        );
    }
    let mut c = a.clone();
    c.seed = Some(12);
    let rc = run(&c, &|_, _| {}).unwrap();
    assert_ne!(ra.outputs[0].summary.mean, rc.outputs[0].summary.mean);
}
