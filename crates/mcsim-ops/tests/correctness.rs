#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Simulation correctness (issue 8): correlation groups stay independent of each other, `--set`
//! on a correlated input keeps the others' correlation, Latin Hypercube stratifies the whole run,
//! an input's draws do not depend on the other inputs, and `--until-converged` stops at the same
//! point for any thread count. Each test failed on the code before the fix.

mod common;

use mcsim_ops::run::{RunOptions, RunReport, run};
use mcsim_sampling::Method;
use std::path::{Path, PathBuf};

/// A fresh directory under the target's temporary directory.
fn temp(name: &str) -> PathBuf {
    common::target_temp("correctness", name)
}

/// Writes a one-sheet (`Sheet1`) workbook from (A1 reference, content) pairs.
fn write_xlsx(path: &Path, cells: &[(&str, &str)]) {
    common::write_book(path, cells, &[]);
}

fn options(workbook: &Path, n: u64, seed: u64) -> RunOptions {
    RunOptions {
        workbook: workbook.to_path_buf(),
        iterations: Some(n),
        seed: Some(seed),
        threads: Some(2),
        ..RunOptions::default()
    }
}

/// Runs with the samples written to a Parquet file; returns the report and the input columns
/// by name (the input's cell label, e.g. `Sheet1!A1`).
fn run_with_samples(
    mut opts: RunOptions,
    dir: &Path,
    tag: &str,
) -> (RunReport, std::collections::BTreeMap<String, Vec<f64>>) {
    let out = dir.join(format!("{tag}.parquet"));
    opts.out = Some(out.clone());
    let report = run(&opts, &|_, _| {}).unwrap();
    let file = mcsim_results::read_samples(&out).unwrap();
    let cols = report
        .inputs
        .iter()
        .map(|i| (i.cell.clone(), file.values(&i.name).unwrap().to_vec()))
        .collect();
    (report, cols)
}

fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    for (rank, &i) in idx.iter().enumerate() {
        r[i] = rank as f64;
    }
    r
}

/// Spearman rank correlation (continuous inputs: no ties).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let m = (n - 1.0) / 2.0;
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - m) * (y - m)).sum();
    let var: f64 = ra.iter().map(|x| (x - m) * (x - m)).sum();
    cov / var
}

/// `groups` correlated pairs in column A (rows 2g+1, 2g+2), each pair with its own 2x2 matrix at
/// D(3g+1):E(3g+2) and target `targets[g]`; one output summing them.
fn pairs_workbook(path: &Path, targets: &[f64]) {
    let mut cells: Vec<(String, String)> = Vec::new();
    let mut sum = Vec::new();
    for (g, &t) in targets.iter().enumerate() {
        let top = 3 * g + 1;
        let range = format!("D{top}:E{}", top + 1);
        for pos in 1..=2 {
            let r = format!("A{}", 2 * g + pos);
            cells.push((
                r.clone(),
                format!("=RiskNormal(0,1,RiskCorrmat({range},{pos}))"),
            ));
            sum.push(r);
        }
        for (a, b, v) in [(0, 0, 1.0), (0, 1, t), (1, 0, t), (1, 1, 1.0)] {
            let col = if b == 0 { 'D' } else { 'E' };
            cells.push((format!("{col}{}", top + a), v.to_string()));
        }
    }
    cells.push(("B1".into(), format!("=RiskOutput()+{}", sum.join("+"))));
    let refs: Vec<(&str, &str)> = cells
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_xlsx(path, &refs);
}

/// Within each group the rank correlation is within 0.02 of its target; across groups it is
/// below 0.02 in absolute value (4 standard errors of a null correlation at n = 100,000 are
/// 0.013).
fn check_groups(cols: &std::collections::BTreeMap<String, Vec<f64>>, groups: &[(Vec<&str>, f64)]) {
    for (gi, (members, target)) in groups.iter().enumerate() {
        let rho = spearman(&cols[members[0]], &cols[members[1]]);
        assert!(
            (rho - target).abs() < 0.02,
            "group {gi}: {rho} vs target {target}"
        );
        for (other, _) in &groups[gi + 1..] {
            for a in members {
                for b in other {
                    let rho = spearman(&cols[*a], &cols[*b]);
                    assert!(
                        rho.abs() < 0.02,
                        "{a} and {b} are in different groups: {rho}"
                    );
                }
            }
        }
    }
}

#[test]
fn two_risk_corrmat_groups_stay_independent() {
    // Before the fix: Spearman A1-A3 = 1.00, A2-A4 = 0.63.
    let dir = temp("two_groups");
    let wb = dir.join("m.xlsx");
    pairs_workbook(&wb, &[0.5, -0.3]);
    let (_, cols) = run_with_samples(options(&wb, 100_000, 3), &dir, "s");
    check_groups(
        &cols,
        &[
            (vec!["Sheet1!A1", "Sheet1!A2"], 0.5),
            (vec!["Sheet1!A3", "Sheet1!A4"], -0.3),
        ],
    );
}

#[test]
fn three_risk_corrmat_groups_stay_independent() {
    let dir = temp("three_groups");
    let wb = dir.join("m.xlsx");
    pairs_workbook(&wb, &[0.5, -0.3, 0.8]);
    let (_, cols) = run_with_samples(options(&wb, 100_000, 4), &dir, "s");
    check_groups(
        &cols,
        &[
            (vec!["Sheet1!A1", "Sheet1!A2"], 0.5),
            (vec!["Sheet1!A3", "Sheet1!A4"], -0.3),
            (vec!["Sheet1!A5", "Sheet1!A6"], 0.8),
        ],
    );
}

/// Four plain cells made uncertain by a model file with two `[[correlation]]` groups.
fn model_file_workbook(dir: &Path, extra: &str) -> (PathBuf, PathBuf) {
    let wb = dir.join("m.xlsx");
    write_xlsx(
        &wb,
        &[
            ("A1", "1"),
            ("A2", "2"),
            ("A3", "3"),
            ("A4", "4"),
            ("B1", "=A1+A2+A3+A4"),
        ],
    );
    let cfg = dir.join("m.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"
[[input]]
cell = "Sheet1!A1"
name = "a"
dist = {{ type = "normal", mean = 0, sd = 1 }}
[[input]]
cell = "Sheet1!A2"
name = "b"
dist = {{ type = "uniform", min = 0, max = 1 }}
[[input]]
cell = "Sheet1!A3"
name = "c"
dist = {{ type = "normal", mean = 5, sd = 2 }}
[[input]]
cell = "Sheet1!A4"
name = "d"
dist = {{ type = "triangular", min = 0, mode = 1, max = 4 }}
[[output]]
cell = "Sheet1!B1"
name = "total"
[[correlation]]
inputs = ["a", "b"]
matrix = [[1.0, 0.5], [0.5, 1.0]]
[[correlation]]
inputs = ["c", "d"]
matrix = [[1.0, -0.3], [-0.3, 1.0]]
{extra}"#
        ),
    )
    .unwrap();
    (wb, cfg)
}

#[test]
fn model_file_correlation_groups_stay_independent() {
    let dir = temp("config_groups");
    let (wb, cfg) = model_file_workbook(&dir, "");
    let mut opts = options(&wb, 100_000, 5);
    opts.config = Some(cfg);
    let (_, cols) = run_with_samples(opts, &dir, "s");
    check_groups(
        &cols,
        &[
            (vec!["Sheet1!A1", "Sheet1!A2"], 0.5),
            (vec!["Sheet1!A3", "Sheet1!A4"], -0.3),
        ],
    );
}

/// A 3-input `RiskCorrmat` group (A1, A2, A3) and an independent A4.
fn triple_workbook(path: &Path) {
    write_xlsx(
        path,
        &[
            ("A1", "=RiskNormal(0,1,RiskCorrmat(D1:F3,1))"),
            ("A2", "=RiskNormal(0,1,RiskCorrmat(D1:F3,2))"),
            ("A3", "=RiskNormal(0,1,RiskCorrmat(D1:F3,3))"),
            ("A4", "=RiskNormal(0,1)"),
            ("B1", "=RiskOutput()+A1+A2+A3+A4"),
            ("D1", "1"),
            ("E1", "0.3"),
            ("F1", "0.6"),
            ("D2", "0.3"),
            ("E2", "1"),
            ("F2", "0.8"),
            ("D3", "0.6"),
            ("E3", "0.8"),
            ("F3", "1"),
        ],
    );
}

#[test]
fn set_on_a_correlated_input_keeps_the_others_correlation() {
    // Before the fix, the group's indices were recorded before `--set` removed A1, so the group
    // became (A2, A3, A4) with A1's rows: A2-A3 at 0.3 instead of 0.8, A4 correlated.
    // 20,000 iterations (a partial last design block); tolerance 0.03, 4 standard errors of a
    // null correlation 0.028.
    let dir = temp("set_in_group");
    let wb = dir.join("m.xlsx");
    triple_workbook(&wb);
    for (fixed, pair, target) in [
        ("Sheet1!A1", ["Sheet1!A2", "Sheet1!A3"], 0.8),
        ("Sheet1!A2", ["Sheet1!A1", "Sheet1!A3"], 0.6),
    ] {
        let mut opts = options(&wb, 20_000, 6);
        opts.sets = vec![(fixed.into(), "0.25".into())];
        let (report, cols) = run_with_samples(opts, &dir, "s");
        assert_eq!(report.inputs.len(), 3);
        let rho = spearman(&cols[pair[0]], &cols[pair[1]]);
        assert!(
            (rho - target).abs() < 0.03,
            "fixed {fixed}: {rho} vs {target}"
        );
        for c in pair {
            let rho = spearman(&cols[c], &cols["Sheet1!A4"]);
            assert!(rho.abs() < 0.03, "fixed {fixed}: {c}-A4 {rho}");
        }
    }
    // The same with a model-file group: the fixed member leaves the group.
    let dir = temp("set_in_config_group");
    let (wb, cfg) = model_file_workbook(&dir, "");
    let mut opts = options(&wb, 20_000, 7);
    opts.config = Some(cfg);
    opts.sets = vec![("Sheet1!A2".into(), "0.5".into())];
    let (report, cols) = run_with_samples(opts, &dir, "s");
    assert_eq!(report.inputs.len(), 3);
    let rho = spearman(&cols["Sheet1!A3"], &cols["Sheet1!A4"]);
    assert!((rho + 0.3).abs() < 0.03, "{rho}");
}

/// The standard deviation over `seeds` seeds of each output's mean.
fn sd_of_output_means(wb: &Path, n: u64, method: Method, seeds: u64) -> Vec<f64> {
    let runs: Vec<RunReport> = (0..seeds)
        .map(|seed| {
            let mut opts = options(wb, n, 100 + seed);
            opts.sampling = Some(method);
            run(&opts, &|_, _| {}).unwrap()
        })
        .collect();
    (0..runs[0].outputs.len())
        .map(|o| {
            let means: Vec<f64> = runs.iter().map(|r| r.outputs[o].summary.mean).collect();
            let m = means.iter().sum::<f64>() / means.len() as f64;
            (means.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (means.len() - 1) as f64).sqrt()
        })
        .collect()
}

#[test]
fn latin_hypercube_stratifies_the_whole_run() {
    // The sd over seeds of the mean of a uniform(0,1) and a normal(10,2) input, over plain Monte
    // Carlo's sd/√n. Before the fix, strata spanned 16,384-iteration blocks: at 10,000
    // iterations the ratio was 0.57 for the uniform. Stratified over the whole run it is about
    // 1e-4 (uniform) and 0.004 (normal), so even a rough estimate of the sd (10 or 4 seeds) is
    // far below the 0.05 bound.
    let dir = temp("lhs_whole_run");
    let wb = dir.join("m.xlsx");
    write_xlsx(
        &wb,
        &[
            ("A1", "=RiskUniform(0,1)"),
            ("A2", "=RiskNormal(10,2)"),
            ("B1", "=RiskOutput()+A1"),
            ("B2", "=RiskOutput()+A2"),
        ],
    );
    let sds = [1.0 / 12f64.sqrt(), 2.0];
    for (n, seeds) in [(10_000u64, 10), (100_000, 4)] {
        let lhs = sd_of_output_means(&wb, n, Method::LatinHypercube, seeds);
        for (o, (l, sd)) in lhs.iter().zip(sds).enumerate() {
            let mc = sd / (n as f64).sqrt();
            assert!(l / mc < 0.05, "n {n} output {o}: LHS sd {l}, MC sd {mc}");
        }
    }
    // The check itself tells Monte Carlo apart (its ratio is about 1).
    let mc = sd_of_output_means(&wb, 10_000, Method::MonteCarlo, 10);
    assert!(mc[0] * 100.0 * 12f64.sqrt() > 0.3, "{mc:?}");
}

#[test]
fn fixing_an_input_leaves_every_other_inputs_draws_unchanged() {
    // Streams were keyed by position: fixing A2 shifted A3 and A4 onto other streams.
    let dir = temp("set_keeps_draws");
    let wb = dir.join("m.xlsx");
    write_xlsx(
        &wb,
        &[
            ("A1", "=RiskNormal(0,1)"),
            ("A2", "=RiskUniform(0,1)"),
            ("A3", "=RiskTriang(0,1,3)"),
            ("A4", "=RiskLognorm(2,1)"),
            // Two calls in one formula, and a RAND(): streams keyed by cell and call index.
            ("A5", "=RiskNormal(0,1)*2+RiskUniform(0,1)"),
            ("A6", "=RAND()"),
            ("B1", "=RiskOutput()+A1+A2+A3+A4+A5+A6"),
        ],
    );
    for method in [Method::LatinHypercube, Method::MonteCarlo] {
        let mut opts = options(&wb, 5_000, 8);
        opts.sampling = Some(method);
        let (_, all) = run_with_samples(opts.clone(), &dir, "all");
        assert_eq!(all.len(), 7, "{:?}", all.keys());
        // The two calls of A5 draw from different streams (the same stream would make them
        // perfectly rank-correlated); 4/sqrt(5000) = 0.057.
        let a5: Vec<&Vec<f64>> = all
            .iter()
            .filter(|(k, _)| k.contains("A5"))
            .map(|(_, v)| v)
            .collect();
        assert_eq!(a5.len(), 2);
        let rho = spearman(a5[0], a5[1]);
        assert!(rho.abs() < 0.06, "{rho}");
        opts.sets = vec![("Sheet1!A2".into(), "0.5".into())];
        let (_, fixed) = run_with_samples(opts, &dir, "fixed");
        assert_eq!(fixed.len(), 6);
        for (cell, xs) in &fixed {
            let same = xs
                .iter()
                .zip(&all[cell])
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{method:?}: {cell} drew other values");
        }
    }
}

#[test]
fn until_converged_stops_at_the_same_point_for_any_thread_count() {
    // Checks ran once per chunk of threads·4 tasks, so 1 and 2 threads stopped at different
    // iteration counts with different statistics.
    let dir = temp("converged_threads");
    let wb = dir.join("m.xlsx");
    write_xlsx(
        &wb,
        &[
            ("A1", "=RiskLognorm(10,6)"),
            ("A2", "=RiskNormal(5,1)"),
            ("B1", "=RiskOutput()+A1*A2"),
        ],
    );
    let go = |threads: usize| {
        let mut opts = options(&wb, 400_000, 9);
        opts.threads = Some(threads);
        opts.sampling = Some(Method::MonteCarlo);
        opts.until_converged = Some(0.01);
        let r = run(&opts, &|_, _| {}).unwrap();
        (
            r.iterations,
            r.converged,
            serde_json::to_string(&r.outputs).unwrap(),
        )
    };
    let one = go(1);
    assert_eq!(one.1, Some(true), "did not converge");
    assert!(one.0 < 400_000, "{} iterations", one.0);
    for threads in [2, 3] {
        assert_eq!(go(threads), one, "{threads} threads");
    }
    // Monte Carlo draws do not depend on the run length, so the converged run is exactly the
    // run of that many iterations. (Latin Hypercube strata span the maximum: not so for LHS.)
    let mut opts = options(&wb, one.0, 9);
    opts.sampling = Some(Method::MonteCarlo);
    let plain = run(&opts, &|_, _| {}).unwrap();
    assert_eq!(serde_json::to_string(&plain.outputs).unwrap(), one.2);
}

#[test]
fn threads_do_not_change_any_sample() {
    // Correlated and independent inputs, a RAND() site, and a run length that is not a multiple
    // of the design block: every sample and statistic is bit-identical for 1, 2 and 3 threads
    // (which cut the run into different chunks).
    let dir = temp("threads_bits");
    let wb = dir.join("m.xlsx");
    write_xlsx(
        &wb,
        &[
            ("A1", "=RiskNormal(0,1,RiskCorrmat(D1:E2,1))"),
            ("A2", "=RiskPert(1,2,6,RiskCorrmat(D1:E2,2))"),
            ("A3", "=RiskUniform(0,1)"),
            ("A4", "=RAND()"),
            ("B1", "=RiskOutput()+A1*A2+A3"),
            ("B2", "=RiskOutput()+A4+A3"),
            ("D1", "1"),
            ("E1", "0.7"),
            ("D2", "0.7"),
            ("E2", "1"),
        ],
    );
    let go = |threads: usize| {
        let mut opts = options(&wb, 41_000, 10);
        opts.threads = Some(threads);
        let (r, cols) = run_with_samples(opts, &dir, &format!("t{threads}"));
        assert_eq!(r.evaluation, "compiled");
        assert!(r.inputs.iter().any(|i| i.source == "rand"));
        let bits: Vec<(String, Vec<u64>)> = cols
            .into_iter()
            .map(|(k, v)| (k, v.iter().map(|x| x.to_bits()).collect()))
            .collect();
        (serde_json::to_string(&r.outputs).unwrap(), bits)
    };
    let one = go(1);
    for threads in [2, 3] {
        assert!(go(threads) == one, "{threads} threads differ");
    }
}
