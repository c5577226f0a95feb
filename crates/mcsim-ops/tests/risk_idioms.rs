#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! @RISK idioms seen in real workbooks, each in a small workbook of our own: distributions inside
//! larger formulas, nested distributions, single-cell array formulas, statistics functions in
//! cells, output ranges and automatic names, correlation matrices given by one triangle,
//! RiskIndepC/RiskDepC, RiskSimtable and @RISK's bookkeeping sheets.
//!
//! Tolerances: means are checked within 4 standard errors (sd/√n) of the exact value, which a
//! correct sampler misses about once in 16,000 checks; the seeds are fixed, so a run either
//! always passes or always fails.

mod common;

use common::{output, write_book};
use mcsim_ops::run::{RunOptions, RunReport, run};
use std::path::{Path, PathBuf};

fn book(dir: &Path, cells: &[(&str, &str)], names: &[(&str, &str)]) -> PathBuf {
    let p = dir.join("model.xlsx");
    write_book(&p, cells, names);
    p
}

fn simulate(path: &Path, n: u64) -> RunReport {
    common::simulate(path, n, 20261206)
}

/// The error of a 100-iteration run that must fail.
fn refused(path: PathBuf) -> String {
    run(
        &RunOptions {
            workbook: path,
            iterations: Some(100),
            ..RunOptions::default()
        },
        &|_, _| {},
    )
    .unwrap_err()
    .to_string()
}

/// The mean is within 4 standard errors of `mean` (for an output of standard deviation `sd`).
fn assert_mean(r: &RunReport, name: &str, mean: f64, sd: f64) {
    let o = output(r, name);
    let se = sd / (r.iterations as f64).sqrt();
    assert!(
        (o.summary.mean - mean).abs() <= 4.0 * se,
        "{name}: mean {} vs {mean} (4 se = {})",
        o.summary.mean,
        4.0 * se
    );
}

/// The value a statistics cell took after the run.
fn statistic(r: &RunReport, cell: &str) -> f64 {
    r.statistics
        .iter()
        .find(|s| s.cell == cell)
        .unwrap_or_else(|| panic!("no statistic {cell}: {:?}", r.statistics))
        .value
        .as_f64()
        .unwrap()
}

fn sd_of(r: &RunReport, name: &str) -> f64 {
    output(r, name).summary.std_dev
}

#[test]
fn distributions_inside_larger_formulas_are_sampled_and_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("B1", "1"),
            ("A1", "=RiskBinomial(10,0.5)*2"),
            ("A2", "=ROUND(RiskPoisson(4),0)"),
            ("A3", "=IF(B1>0,RiskNormal(10,1),0)"),
            ("A4", "=RiskTriang(0,1,2)+RiskUniform(0,1)"),
            ("C1", "=RiskOutput(\"binomial\")+A1"),
            ("C2", "=RiskOutput(\"poisson\")+A2"),
            ("C3", "=RiskOutput(\"if\")+A3"),
            ("C4", "=RiskOutput(\"two\")+A4"),
        ],
        &[],
    );
    let r = simulate(&p, 20_000);
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    // One input per call: A4 holds two.
    assert_eq!(r.inputs.len(), 5, "{:?}", r.inputs);
    assert!(r.inputs.iter().any(|i| i.cell == "Sheet1!A4#2"));
    assert_mean(&r, "binomial", 10.0, 10f64.sqrt());
    assert!((sd_of(&r, "binomial") - 10f64.sqrt()).abs() < 0.1);
    assert_mean(&r, "poisson", 4.0, 2.0);
    assert_mean(&r, "if", 10.0, 1.0);
    // Triang(0,1,2) + Uniform(0,1): the two calls are independent.
    let var: f64 = 1.0 / 6.0 + 1.0 / 12.0;
    assert_mean(&r, "two", 1.5, var.sqrt());
    assert!((sd_of(&r, "two") - var.sqrt()).abs() < 0.02);
}

#[test]
fn nested_and_dependent_distributions_take_parameters_per_iteration() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(RiskUniform(1,2),1)"),
            ("B1", "=RiskUniform(0,10)"),
            ("B2", "=RiskNormal(B1,1)"),
            ("C1", "=RiskOutput(\"nested\")+A1"),
            ("C2", "=RiskOutput(\"dependent\")+B2"),
        ],
        &[],
    );
    let r = simulate(&p, 20_000);
    // Normal(U(1,2), 1): mean 1.5, variance 1 + 1/12. Normal(U(0,10), 1): mean 5, var 1 + 100/12.
    assert_mean(&r, "nested", 1.5, (1.0f64 + 1.0 / 12.0).sqrt());
    assert!((sd_of(&r, "nested") - (1.0f64 + 1.0 / 12.0).sqrt()).abs() < 0.03);
    assert_mean(&r, "dependent", 5.0, (1.0f64 + 100.0 / 12.0).sqrt());
    assert!((sd_of(&r, "dependent") - (1.0f64 + 100.0 / 12.0).sqrt()).abs() < 0.08);
    // The uniform under a parameter is an input too: B2's value is mostly B1's.
    let s = output(&r, "dependent").sensitivity.as_ref().unwrap();
    let b1 = r.inputs.iter().find(|i| i.cell == "Sheet1!B1").unwrap();
    let e = s.entries.iter().find(|e| e.input == b1.name).unwrap();
    assert!(e.spearman.unwrap() > 0.9, "{e:?}");
}

#[test]
fn single_cell_array_formulas_compile() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "{=RiskTriang(1,2,3)}"),
            ("A2", "=RiskUniform(0,1)"),
            ("A3", "5"),
            ("B1", "{=RiskOutput(\"max\")+MAX(A1:A3)*2}"),
            ("B2", "{=RiskOutput(\"sum\")+A1+A2}"),
        ],
        &[],
    );
    let r = simulate(&p, 10_000);
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    // max(A1, A2, 5) is always 5.
    let o = output(&r, "max");
    assert_eq!(o.summary.min, 10.0);
    assert_eq!(o.summary.max, 10.0);
    assert_mean(&r, "sum", 2.5, (1.0f64 / 6.0 + 1.0 / 12.0).sqrt());
}

#[test]
fn statistics_functions_in_cells_take_the_simulated_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(100,10)"),
            ("A2", "=A1*2"),
            ("B1", "=RiskMean(A2)"),
            ("B2", "=RiskStdDev(A2)"),
            ("B3", "=RiskPercentile(A2,0.95)"),
            ("B4", "=B1/100"),
            ("B5", "=RiskTarget(A2,200)"),
            ("B6", "=RiskCIMean(A2,0.9,TRUE)"),
            ("C1", "=RiskOutput(\"x\")+A1"),
        ],
        &[],
    );
    let r = simulate(&p, 20_000);
    let stat = |cell: &str| statistic(&r, cell);
    // A2 is not an output, yet it is simulated and tracked.
    let se = 20.0 / (20_000f64).sqrt();
    assert!((stat("Sheet1!B1") - 200.0).abs() < 4.0 * se);
    assert!((stat("Sheet1!B2") - 20.0).abs() < 0.3);
    assert!((stat("Sheet1!B3") - (200.0 + 1.644854 * 20.0)).abs() < 1.0);
    assert!((stat("Sheet1!B5") - 0.5).abs() < 0.015);
    assert!(stat("Sheet1!B6") < stat("Sheet1!B1"));
    // Cells depending on statistics cells are recalculated.
    let b4 = r
        .cell_values
        .iter()
        .find(|c| c.sheet == "Sheet1" && c.row == 3 && c.col == 1)
        .expect("B4 is recalculated");
    match b4.value {
        mcsim_engine::Value::Number(x) => assert!((x - stat("Sheet1!B1") / 100.0).abs() < 1e-12),
        ref v => panic!("B4 = {v:?}"),
    }
    // The statistics cell does not make the model stochastic per iteration or force the
    // interpreter.
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
}

/// A workbook that holds statistics @RISK computed and stored. The stored values here are the
/// exact values (what @RISK's own estimates approach), so mcsim's must agree within Monte Carlo
/// error: |z| ≤ 4, z being the difference over √2 standard errors of the statistic at this run's
/// iteration count (the √2 allows for @RISK's own sampling error at a like count).
#[test]
fn stored_atrisk_statistics_agree_within_monte_carlo_error() {
    let dir = tempfile::tempdir().unwrap();
    // Lognormal with mean 50, sd 10; Triang(10, 20, 60).
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskLognorm(50,10)"),
            ("A2", "=RiskTriang(10,20,60)"),
            ("A3", "=RiskOutput(\"total\")+A1+A2"),
            ("B1", "=RiskMean(A3)|80"),
            ("B2", "=RiskStdDev(A3)|14.337208778404378"),
            ("B3", "=RiskMean(A1)|50"),
            ("B4", "=RiskPercentile(A2,0.5)|28.708203932499366"),
            ("B5", "=RiskTarget(A2,20)|0.2"),
            ("B6", "=RiskStdDev(A1)|10"),
        ],
        &[],
    );
    let r = simulate(&p, 10_000);
    let mut checked = 0;
    for s in &r.statistics {
        let z = s.agreement_z.unwrap_or_else(|| panic!("no z for {s:?}"));
        assert!(
            z.abs() <= 4.0,
            "{}: {} vs stored {} (z {z})",
            s.cell,
            s.value,
            s.stored
        );
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn outputs_take_names_from_labels_ranges_and_duplicates_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "Item"),
            ("B1", "FY2025"),
            ("C1", "FY2026"),
            ("A2", "Revenue"),
            ("B2", "=RiskNormal(10,1)"),
            ("C2", "=RiskNormal(11,1)"),
            ("A3", "Profit"),
            ("B3", "=RiskOutput()+B2*2"),
            ("A4", "Cases"),
            ("B4", "=RiskOutput(,$A$4,1)+B2"),
            ("C4", "=RiskOutput(,$A$4,2)+C2"),
            ("B5", "=RiskOutput(\"same\")+B2"),
            ("C5", "=RiskOutput(\"same\")+C2"),
        ],
        &[],
    );
    let r = simulate(&p, 1000);
    let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert!(names.contains(&"Profit"), "{names:?}");
    assert!(names.contains(&"Cases (1)"), "{names:?}");
    assert!(names.contains(&"Cases (2)"), "{names:?}");
    assert!(names.contains(&"same (Sheet1!B5)"), "{names:?}");
    assert!(names.contains(&"same (Sheet1!C5)"), "{names:?}");
    assert!(
        r.warnings.iter().any(|w| w.contains("`same`")),
        "{:?}",
        r.warnings
    );
    // Inputs are named from their labels; two with the row label Revenue by their column.
    let inputs: Vec<&str> = r.inputs.iter().map(|i| i.name.as_str()).collect();
    assert!(inputs.contains(&"Revenue / FY2025"), "{inputs:?}");
    assert!(inputs.contains(&"Revenue / FY2026"), "{inputs:?}");
}

#[test]
fn bookkeeping_sheets_are_not_part_of_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(0,1)"),
            ("B1", "=RiskOutput(\"y\")+A1"),
            ("rsklibSimData!A1", "=MODELREF(Sheet1!A1)"),
            ("RiskSerializationData!A1", "=Sheet1!A1&\"x\""),
        ],
        &[],
    );
    let r = simulate(&p, 1000);
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
}

/// Spearman correlation of two columns.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let rank = |x: &[f64]| {
        let mut idx: Vec<usize> = (0..x.len()).collect();
        idx.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
        let mut r = vec![0.0; x.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    let (ra, rb) = (rank(a), rank(b));
    let n = a.len() as f64;
    let m = (n - 1.0) / 2.0;
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - m) * (y - m)).sum();
    let var: f64 = ra.iter().map(|x| (x - m) * (x - m)).sum();
    cov / var
}

/// The columns of a CSV samples file (`text`) of the run `r`, without the iteration numbers.
fn samples(r: &RunReport, text: &str) -> Vec<Vec<f64>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut cols = vec![Vec::new(); header.len()];
    for l in lines {
        for (c, v) in cols.iter_mut().zip(l.split(',')) {
            c.push(v.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    // The first column is the iteration number.
    assert_eq!(header[0], "iteration");
    assert_eq!(cols.len(), r.inputs.len() + r.outputs.len() + 1);
    cols.remove(0);
    cols
}

/// Runs `n` iterations of a workbook of `cells` and `names` with `seed`, the samples written
/// as CSV; returns the report and the CSV text.
fn run_csv(
    cells: &[(&str, &str)],
    names: &[(&str, &str)],
    n: u64,
    seed: u64,
) -> (RunReport, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = book(dir.path(), cells, names);
    let out = dir.path().join("s.csv");
    let r = run(
        &RunOptions {
            workbook: p,
            iterations: Some(n),
            seed: Some(seed),
            out: Some(out.clone()),
            ..RunOptions::default()
        },
        &|_, _| {},
    )
    .unwrap();
    (r, std::fs::read_to_string(out).unwrap())
}

fn correlated(cells: &[(&str, &str)], names: &[(&str, &str)]) -> Vec<Vec<f64>> {
    let (r, text) = run_csv(cells, names, 20_000, 5);
    samples(&r, &text)
}

#[test]
fn correlation_matrix_given_by_one_triangle_and_a_defined_name() {
    // Lower triangle only, upper blank; given by a defined name.
    let cols = correlated(
        &[
            ("E1", "1"),
            ("E2", "0.8"),
            ("F2", "1"),
            ("A1", "=RiskNormal(0,1,RiskCorrmat(Corr,1))"),
            ("A2", "=RiskNormal(0,1,RiskCorrmat(Corr,2))"),
            ("B1", "=RiskOutput(\"y\")+A1+A2"),
        ],
        &[("Corr", "Sheet1!$E$1:$F$2")],
    );
    let c12 = spearman(&cols[0], &cols[1]);
    assert!((c12 - 0.8).abs() < 0.03, "{c12}");
}

#[test]
fn indepc_and_depc_correlate_their_inputs() {
    let cols = correlated(
        &[
            ("A3", "=RiskUniform(0,1,RiskIndepC(\"k\"))"),
            ("A4", "=RiskUniform(0,1,RiskDepC(\"k\",-0.6))"),
            ("A5", "=RiskUniform(0,1,RiskDepC(\"k\",0.5))"),
            ("B1", "=RiskOutput(\"y\")+A3+A4+A5"),
        ],
        &[],
    );
    let c34 = spearman(&cols[0], &cols[1]);
    let c35 = spearman(&cols[0], &cols[2]);
    let c45 = spearman(&cols[1], &cols[2]);
    assert!((c34 + 0.6).abs() < 0.03, "{c34}");
    assert!((c35 - 0.5).abs() < 0.03, "{c35}");
    assert!((c45 + 0.3).abs() < 0.03, "{c45}");
}

#[test]
fn correlation_matrix_whose_triangles_disagree_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("E1", "1"),
            ("F1", "0.5"),
            ("E2", "0.3"),
            ("F2", "1"),
            ("A1", "=RiskNormal(0,1,RiskCorrmat(E1:F2,1))"),
            ("A2", "=RiskNormal(0,1,RiskCorrmat(E1:F2,2))"),
            ("B1", "=RiskOutput(\"y\")+A1+A2"),
        ],
        &[],
    );
    let e = run(
        &RunOptions {
            workbook: p,
            iterations: Some(100),
            seed: Some(5),
            ..RunOptions::default()
        },
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("not symmetric") && e.contains("row 1, column 2"),
        "{e}"
    );
}

#[test]
fn simtable_runs_one_simulation_per_value_on_common_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("D1", "10"),
            ("E1", "20"),
            ("F1", "30"),
            ("A1", "=RiskSimtable(D1:F1)"),
            ("A2", "=RiskNormal(0,1)"),
            ("B1", "=RiskOutput(\"y\")+A1+A2"),
        ],
        &[],
    );
    let r = simulate(&p, 2000);
    assert_eq!(r.simulations.len(), 3);
    let means: Vec<f64> = r
        .simulations
        .iter()
        .map(|s| s.outputs[0].summary.mean)
        .collect();
    // The same random numbers in every simulation: the means differ by exactly the table step.
    assert!((means[1] - means[0] - 10.0).abs() < 1e-9, "{means:?}");
    assert!((means[2] - means[0] - 20.0).abs() < 1e-9, "{means:?}");
    assert_eq!(r.outputs[0].summary.mean, means[0]);
}

#[test]
fn save_as_writes_the_statistics_cells_and_their_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(100,10)"),
            ("B1", "=RiskMean(A1)|0"),
            ("B2", "=B1/100|0"),
            ("B3", "=RiskPercentile(A1,0.9)|0"),
            ("C1", "=RiskOutput(\"x\")+A1"),
            ("D1", "untouched"),
        ],
        &[],
    );
    let copy = dir.path().join("results.xlsx");
    let r = run(
        &RunOptions {
            workbook: p.clone(),
            iterations: Some(5000),
            seed: Some(9),
            save_as: Some(copy.clone()),
            ..RunOptions::default()
        },
        &|_, _| {},
    )
    .unwrap();
    let bytes = std::fs::read(&copy).unwrap();
    let wb = mcsim_workbook::load_bytes(
        &bytes,
        "results.xlsx",
        &mcsim_workbook::LoadOptions::default(),
    )
    .unwrap();
    let value = |row: u32, col: u32| -> f64 {
        let c = wb.sheets[0]
            .cells
            .iter()
            .find(|c| c.row == row && c.col == col)
            .unwrap();
        match &c.value {
            mcsim_workbook::CellValue::Number(x) => *x,
            v => panic!("{v:?}"),
        }
    };
    let mean = r.statistics.iter().find(|s| s.cell == "Sheet1!B1").unwrap();
    assert_eq!(value(0, 1), mean.value.as_f64().unwrap());
    assert!((value(0, 1) - 100.0).abs() < 1.0);
    assert!((value(1, 1) - value(0, 1) / 100.0).abs() < 1e-12);
    assert!((value(2, 1) - (100.0 + 1.2816 * 10.0)).abs() < 1.0);
    // The formulas are kept.
    let b2 = wb.sheets[0]
        .cells
        .iter()
        .find(|c| c.row == 1 && c.col == 1)
        .unwrap();
    assert!(b2.formula.is_some());
    // Refuses to overwrite the input.
    let e = run(
        &RunOptions {
            workbook: p.clone(),
            iterations: Some(100),
            save_as: Some(p.clone()),
            ..RunOptions::default()
        },
        &|_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("input"), "{e}");
}

#[test]
fn an_unsupported_addin_function_feeding_an_output_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("A2", "=RiskMakeInput(A1*2)"),
            ("A3", "=RiskSplice(RiskNormal(1,1),RiskNormal(2,1),1.5)"),
            ("B1", "=RiskOutput(\"ok\")+A2"),
        ],
        &[],
    );
    // A3 feeds no output: the run goes on, and RiskMakeInput passes its formula's value.
    let r = simulate(&p, 2000);
    assert_mean(&r, "ok", 20.0, 2.0);
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("A3", "=RiskSplice(RiskNormal(1,1),RiskNormal(2,1),1.5)"),
            ("B1", "=RiskOutput(\"bad\")+A1+A3"),
        ],
        &[],
    );
    let e = refused(p);
    assert!(e.contains("Sheet1!A3") && e.contains("RISKSPLICE"), "{e}");
}

#[test]
fn a_corrmat_group_and_a_depc_group_stay_independent_of_each_other() {
    let cols = correlated(
        &[
            ("E1", "1"),
            ("E2", "0.8"),
            ("F2", "1"),
            ("A1", "=RiskNormal(0,1,RiskCorrmat(E1:F2,1))"),
            ("A2", "=RiskNormal(0,1,RiskCorrmat(E1:F2,2))"),
            ("A3", "=RiskUniform(0,1,RiskIndepC(\"k\"))"),
            ("A4", "=RiskUniform(0,1,RiskDepC(\"k\",-0.6))"),
            ("B1", "=RiskOutput(\"y\")+A1+A2+A3+A4"),
        ],
        &[],
    );
    assert!((spearman(&cols[0], &cols[1]) - 0.8).abs() < 0.03);
    assert!((spearman(&cols[2], &cols[3]) + 0.6).abs() < 0.03);
    for (a, b) in [(0, 2), (0, 3), (1, 2), (1, 3)] {
        let c = spearman(&cols[a], &cols[b]);
        assert!(c.abs() < 0.03, "inputs {a} and {b}: {c}");
    }
}

/// RAND() draws from the same counter-based streams whether the model is compiled or
/// interpreted: a workbook that forces the interpreter (text in the cone) gives bit-identical
/// draws and outputs.
#[test]
fn rand_draws_the_same_values_compiled_and_interpreted() {
    let (compiled, a) = run_csv(
        &[
            ("A1", "=RAND()"),
            ("A2", "=NORM.INV(RAND(),10,2)+RiskNormal(0,1)"),
            ("B1", "=RiskOutput(\"x\")+A1+A2"),
        ],
        &[],
        3000,
        77,
    );
    let (interpreted, b) = run_csv(
        &[
            ("A1", "=RAND()"),
            ("A2", "=NORM.INV(RAND(),10,2)+RiskNormal(0,1)"),
            ("B1", "=RiskOutput(\"x\")+A1+A2+0*LEN(A1&\"\")"),
        ],
        &[],
        3000,
        77,
    );
    assert_eq!(compiled.evaluation, "compiled");
    assert!(interpreted.evaluation.starts_with("interpreted"));
    assert_eq!(a.lines().count(), 3001);
    assert_eq!(
        a, b,
        "the samples differ between the compiled and interpreted runs"
    );
}

#[test]
fn modelrisk_statistics_functions_take_the_simulated_values() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=VoseNormal(50,5)"),
            ("A2", "=VoseOutput(\"y\")+A1*2"),
            ("B1", "=VoseSimMean(A2)"),
            ("B2", "=VoseSimPercentile(A2,0.5)"),
            ("B3", "=VoseSimProbability(A2,100)"),
            ("B4", "=VoseSimStdev(A2)"),
        ],
        &[],
    );
    let r = simulate(&p, 10_000);
    let stat = |cell: &str| statistic(&r, cell);
    assert!((stat("Sheet1!B1") - 100.0).abs() < 0.4);
    assert!((stat("Sheet1!B2") - 100.0).abs() < 0.5);
    assert!((stat("Sheet1!B3") - 0.5).abs() < 0.02);
    assert!((stat("Sheet1!B4") - 10.0).abs() < 0.3);
}

/// An interpreted model with a correlation group samples per design block and evaluates in small
/// tasks: the results are the same whatever the thread count, and the same as compiled.
#[test]
fn interpreted_with_correlation_is_the_same_for_any_thread_count_and_as_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let cells = |extra: &'static str| {
        vec![
            ("E1", "1"),
            ("F1", "0.6"),
            ("F2", "1"),
            ("A1", "=RiskNormal(0,1,RiskCorrmat(E1:F2,1))"),
            ("A2", "=RiskGamma(2,3,RiskCorrmat(E1:F2,2))"),
            ("B1", extra),
        ]
    };
    let go = |cells: &[(&str, &str)], threads: usize| {
        let p = book(dir.path(), cells, &[]);
        let r = run(
            &RunOptions {
                workbook: p,
                iterations: Some(20_000),
                seed: Some(3),
                threads: Some(threads),
                ..RunOptions::default()
            },
            &|_, _| {},
        )
        .unwrap();
        let o = &r.outputs[0].summary;
        (
            r.evaluation.clone(),
            o.mean,
            o.std_dev,
            o.percentiles.clone(),
        )
    };
    let interp = cells("=RiskOutput(\"y\")+A1*A2+0*LEN(A1&\"\")");
    let (e1, m1, s1, p1) = go(&interp, 1);
    let (_, m2, s2, p2) = go(&interp, 2);
    let (e3, m3, s3, _) = go(&cells("=RiskOutput(\"y\")+A1*A2"), 2);
    assert!(e1.starts_with("interpreted"), "{e1}");
    assert_eq!(e3, "compiled");
    assert_eq!((m1.to_bits(), s1.to_bits()), (m2.to_bits(), s2.to_bits()));
    assert_eq!(format!("{p1:?}"), format!("{p2:?}"));
    assert_eq!((m1.to_bits(), s1.to_bits()), (m3.to_bits(), s3.to_bits()));
}

#[test]
fn the_report_names_every_cell_that_forces_the_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("B1", "=LEN(A1&\"x\")"),
            ("B2", "=A1&\"y\""),
            ("B3", "=A1*2"),
            ("B4", "=TEXT(A1,\"0.0\")"),
            ("C1", "=RiskOutput(\"y\")+B1+LEN(B2)+B3"),
        ],
        &[],
    );
    let r = simulate(&p, 100);
    assert!(r.evaluation.starts_with("interpreted"));
    let cells: Vec<&str> = r
        .interpreted_because
        .iter()
        .map(|s| s.split(':').next().unwrap())
        .collect();
    // B1 and B2 feed the output and are declined; B4 does not feed it and is not listed.
    assert!(cells.contains(&"Sheet1!B1"), "{:?}", r.interpreted_because);
    assert!(cells.contains(&"Sheet1!B2"), "{:?}", r.interpreted_because);
    assert!(!cells.contains(&"Sheet1!B4"), "{:?}", r.interpreted_because);
}

#[test]
fn a_distribution_with_an_uncertain_parameter_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskUniform(1,3)"),
            ("A2", "=RiskPoisson(A1*10)"),
            ("B1", "=RiskOutput(\"cases\")+A2"),
        ],
        &[],
    );
    let r = simulate(&p, 20_000);
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    // Poisson(10 U(1,3)): mean 20, variance 20 + 100 Var(U) = 20 + 100/3.
    assert_mean(&r, "cases", 20.0, (20.0f64 + 100.0 / 3.0).sqrt());
}

#[test]
fn an_invalid_distribution_is_an_error_only_where_an_output_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("A2", "=RiskTriang(5,1,2)"),
            ("B1", "=RiskOutput(\"y\")+A1"),
        ],
        &[],
    );
    let r = simulate(&p, 500);
    assert_eq!(r.inputs.len(), 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("Sheet1!A2") && w.contains("no output reads")),
        "{:?}",
        r.warnings
    );
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("A2", "=RiskTriang(5,1,2)"),
            ("B1", "=RiskOutput(\"y\")+A1+A2"),
        ],
        &[],
    );
    let e = refused(p);
    assert!(e.contains("Sheet1!A2") && e.contains("RiskTriang"), "{e}");
}

/// A distribution whose parameters read an uncertain cell, or hold another distribution, is
/// sampled per iteration from its changing parameters (`cell (uniform)`); one reading a constant
/// cell keeps its fixed distribution. A workbook whose distributions read no cell at all
/// (preparation then skips the stochastic cells) still finds the nested ones.
#[test]
fn distributions_with_uncertain_parameters_are_dynamic() {
    let sources = |r: &RunReport| -> Vec<(String, &'static str)> {
        r.inputs
            .iter()
            .map(|i| (i.cell.clone(), i.source))
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("A2", "=RiskNormal(A1,1)"),
            ("A3", "5"),
            ("A4", "=RiskNormal(A3,1)"),
            ("A5", "=RiskNormal(RiskUniform(0,1),1)"),
            ("A6", "=A1*2"),
            ("A7", "=RiskNormal(A6,1)"),
            ("B1", "=RiskOutput(\"out\")+A2+A4+A5+A7"),
        ],
        &[],
    );
    let r = simulate(&p, 2000);
    let s = sources(&r);
    let find = |cell: &str| {
        s.iter()
            .find(|(c, _)| c.ends_with(cell))
            .unwrap_or_else(|| panic!("no input {cell}: {s:?}"))
            .1
    };
    assert_eq!(find("!A1"), "cell");
    assert_eq!(find("!A2"), "cell (uniform)");
    assert_eq!(find("!A4"), "cell");
    assert_eq!(find("!A7"), "cell (uniform)");
    // A5 holds two calls: the outer one is dynamic.
    assert!(
        s.iter()
            .any(|(c, src)| c.contains("!A5") && *src == "cell (uniform)")
    );
    // out = A2 + A4 + A5 + A7: means 10 + 5 + 0.5 + 20.
    assert_mean(
        &r,
        "out",
        35.5,
        (1.0f64 + 2.0 + 1.0 + 1.0 + 1.0 / 12.0 + 1.0 + 4.0).sqrt(),
    );

    let p = book(
        dir.path(),
        &[
            ("A1", "=RiskNormal(10,1)"),
            ("A2", "=RiskNormal(RiskUniform(0,1),1)"),
            ("B1", "=RiskOutput(\"out\")+A1+A2"),
        ],
        &[],
    );
    let r = simulate(&p, 2000);
    let s = sources(&r);
    assert!(
        s.iter()
            .any(|(c, src)| c.ends_with("!A1") && *src == "cell")
    );
    assert!(
        s.iter()
            .any(|(c, src)| c.contains("!A2") && *src == "cell (uniform)"),
        "{s:?}"
    );
    assert_mean(&r, "out", 10.5, (1.0f64 + 1.0 + 1.0 / 12.0).sqrt());
}
