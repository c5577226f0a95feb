#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! Statistics beyond the memory budget (`--memory`): the streaming mode against the exact one on
//! the same run, and the library's prepare / simulate / analyse operations.

use mcsim_ops::run::{
    Control, LoadedModel, PrepareSpec, RunOptions, RunReport, SimulateSpec, StatisticsMode,
    analyse, prepare, run, simulate, summary_options, thread_pool,
};
use mcsim_ops::{ErrorKind, OpsError};
use mcsim_sampling::Method;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/models")
        .join(name)
}

fn opts(name: &str, n: u64, memory: Option<u64>, threads: usize) -> RunOptions {
    RunOptions {
        workbook: model(name),
        iterations: Some(n),
        seed: Some(11),
        threads: Some(threads),
        memory,
        percentiles: vec![0.001, 0.999],
        risk_levels: vec![0.01],
        targets: vec![0.0],
        ..RunOptions::default()
    }
}

/// The report with the run-dependent keys removed, as JSON.
fn stable(r: &RunReport) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    for k in [
        "elapsed_seconds",
        "simulation_seconds",
        "iterations_per_second",
        "threads",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

/// 60,000 iterations of the npv model: 15 columns × 8 bytes × 60,000 = 7.2 MB, so 1 MiB forces
/// streaming. Moments, min/max, targets and every percentile, VaR and CVaR must be the same
/// numbers as the exact run's; rank correlations within 0.01 (ranks from a histogram).
#[test]
fn streaming_statistics_equal_the_exact_ones() {
    let n = 60_000;
    let exact = run(&opts("npv_project_risk.xlsx", n, None, 2), &|_, _| {}).unwrap();
    let streamed = run(
        &opts("npv_project_risk.xlsx", n, Some(1 << 20), 2),
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(exact.statistics_mode, StatisticsMode::Exact);
    assert_eq!(exact.simulation_passes, 1);
    assert_eq!(streamed.statistics_mode, StatisticsMode::Streaming);
    assert!(streamed.simulation_passes >= 2);
    assert_eq!(exact.outputs.len(), streamed.outputs.len());
    for (e, s) in exact.outputs.iter().zip(&streamed.outputs) {
        assert_eq!(e.name, s.name);
        let (a, b) = (&e.summary, &s.summary);
        assert_eq!((a.n, a.errors), (b.n, b.errors), "{}", e.name);
        assert_eq!(a.mean.to_bits(), b.mean.to_bits(), "{} mean", e.name);
        assert_eq!(a.std_dev.to_bits(), b.std_dev.to_bits(), "{} sd", e.name);
        assert_eq!((a.min, a.max), (b.min, b.max), "{}", e.name);
        assert_eq!(a.percentiles, b.percentiles, "{} percentiles", e.name);
        for (x, y) in a.risk.iter().zip(&b.risk) {
            assert_eq!(x.var, y.var, "{} VaR", e.name);
            let tol = 1e-12 * x.cvar.abs().max(1.0);
            assert!(
                (x.cvar - y.cvar).abs() <= tol,
                "{} CVaR {x:?} {y:?}",
                e.name
            );
        }
        assert_eq!(a.targets, b.targets, "{} targets", e.name);
        match (&e.sensitivity, &s.sensitivity) {
            (Some(se), Some(ss)) => {
                for (x, y) in se.entries.iter().zip(&ss.entries) {
                    assert_eq!(x.input, y.input);
                    if let (Some(rx), Some(ry)) = (x.spearman, y.spearman) {
                        assert!(
                            (rx - ry).abs() < 0.01,
                            "{} {}: {rx} vs {ry}",
                            e.name,
                            x.input
                        );
                    }
                    if let (Some(rx), Some(ry)) = (x.src, y.src) {
                        assert!(
                            (rx - ry).abs() < 1e-6,
                            "{} {} SRC: {rx} vs {ry}",
                            e.name,
                            x.input
                        );
                    }
                }
            }
            (None, None) => {}
            other => panic!("{}: sensitivity in one mode only: {other:?}", e.name),
        }
        // The trace's means are exact; its percentiles are estimates from a histogram.
        assert_eq!(e.convergence.len(), s.convergence.len());
        for (x, y) in e.convergence.iter().zip(&s.convergence) {
            assert_eq!(x.iterations, y.iterations);
            let tol = 1e-9 * x.mean.abs().max(1.0);
            assert!((x.mean - y.mean).abs() <= tol, "{}: {x:?} {y:?}", e.name);
        }
    }
}

/// A streaming run gives the same report for any thread count.
#[test]
fn streaming_is_the_same_for_any_thread_count() {
    let n = 40_000;
    let one = run(
        &opts("npv_project_risk.xlsx", n, Some(1 << 18), 1),
        &|_, _| {},
    )
    .unwrap();
    let two = run(
        &opts("npv_project_risk.xlsx", n, Some(1 << 18), 2),
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(one.statistics_mode, StatisticsMode::Streaming);
    assert_eq!(stable(&one), stable(&two));
}

/// `--fail-if` reads the same statistics in both modes.
#[test]
fn thresholds_agree_between_modes() {
    let n = 30_000;
    let mut o = opts("npv_project_risk.xlsx", n, None, 2);
    o.fail_if = vec![
        "P(NPV < 0) > 0.01".into(),
        "p37(NPV) < 1e12".into(),
        "cvar(NPV, 0.02) > -1e12".into(),
    ];
    let exact = run(&o, &|_, _| {}).unwrap();
    o.memory = Some(1 << 16);
    let streamed = run(&o, &|_, _| {}).unwrap();
    assert_eq!(streamed.statistics_mode, StatisticsMode::Streaming);
    // The report lists only what was asked for, not the thresholds' extra levels.
    assert_eq!(
        exact.outputs[0].summary.percentiles.len(),
        streamed.outputs[0].summary.percentiles.len()
    );
    for (a, b) in exact.thresholds.iter().zip(&streamed.thresholds) {
        assert_eq!(a.condition, b.condition);
        assert_eq!(a.holds, b.holds, "{}", a.condition);
        let tol = 1e-12 * a.value.abs().max(1.0);
        assert!((a.value - b.value).abs() <= tol, "{a:?} vs {b:?}");
    }
}

/// The library operations: one loaded model, prepared once, simulated twice on one pool gives
/// identical results; a cancelled simulation stops with a typed error.
#[test]
fn prepare_once_simulate_twice_and_cancel() {
    let bytes = std::fs::read(model("npv_project_risk.xlsx")).unwrap();
    let loaded = LoadedModel::from_bytes(bytes, "npv", &Default::default()).unwrap();
    assert_eq!(loaded.hash.len(), 16);
    let prepared = prepare(&loaded, &Default::default(), &PrepareSpec::default()).unwrap();
    assert_eq!(prepared.evaluation(), "compiled");
    let pool = thread_pool(Some(2)).unwrap();
    let summary = summary_options(&RunOptions::default());
    let spec = SimulateSpec {
        iterations: 20_000,
        seed: 5,
        method: Method::LatinHypercube,
        until_converged: None,
        memory: 1 << 30,
        keep_samples: false,
        summary: summary.clone(),
        shard: None,
    };
    let control = Control {
        progress: &|_, _| {},
        cancel: None,
    };
    let a = simulate(&prepared, &spec, &pool, &control, None).unwrap();
    let b = simulate(&prepared, &spec, &pool, &control, None).unwrap();
    let ra = analyse(&prepared, a, &summary, &pool).unwrap();
    let rb = analyse(&prepared, b, &summary, &pool).unwrap();
    assert_eq!(stable(&ra), stable(&rb));

    let cancel = AtomicBool::new(true);
    let control = Control {
        progress: &|_, _| {},
        cancel: Some(&cancel),
    };
    let err = simulate(&prepared, &spec, &pool, &control, None).unwrap_err();
    assert!(matches!(err, OpsError::Cancelled), "{err}");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

#[test]
fn memory_sizes_parse() {
    use mcsim_ops::run::parse_size;
    assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
    assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
    assert_eq!(parse_size("1.5GB").unwrap(), 1_500_000_000);
    assert_eq!(parse_size("64 mib").unwrap(), 64 << 20);
    assert_eq!(parse_size("100000").unwrap(), 100_000);
    assert!(parse_size("12XB").unwrap_err().contains("unknown unit"));
    assert!(parse_size("lots").is_err());
    assert!(parse_size("").is_err());
}
