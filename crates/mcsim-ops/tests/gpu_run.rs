#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    unsafe_code
)]
//! `mcsim run --backend cuda` end to end without a GPU: with `MCSIM_TEST_HOST_KERNEL=1` the run
//! takes the GPU path (the model's sampling kernel generated, the same `KernelRunner` wiring,
//! chunks split across devices by `run_split`, the chunks copied back into the CPU statistics),
//! with the kernel compiled by the host C++ compiler instead of NVRTC. Only the final cudarc
//! calls (`CudaRunner`) are not exercised here.
//!
//! The host shim links glibc's `exp`/`log`/`pow` as the CPU executor does, so the comparison
//! with `--backend cpu` is exact: every input and output sample (the samples files, byte for
//! byte) and every number of the report. (On a GPU, CUDA's `exp`/`log` may differ in the last
//! bits: `bench/gpu.sh` checks parity there within 1e-12 relative.)

mod common;

use mcsim_engine::sim::cuda_gen::host::{compiler, compiler_available};
use mcsim_ops::run::{BackendChoice, Devices, RunOptions, RunReport, Shard, run};
use mcsim_ops::{ErrorKind, OpsError};
use mcsim_sampling::Method;
use std::path::{Path, PathBuf};

/// Every test of this binary runs the GPU path on the host shim. Set once, before any run, to
/// the same value by every test (std's environment lock orders it with the runs' reads).
fn host_kernel() -> bool {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: every thread of this test binary that touches the environment does so through
    // std (which takes its environment lock), and the value set is the same for every test.
    ONCE.call_once(|| unsafe { std::env::set_var("MCSIM_TEST_HOST_KERNEL", "1") });
    if !compiler_available() {
        eprintln!(
            "SKIPPED: no host C++ compiler ({}): the GPU path was not run",
            compiler()
        );
        return false;
    }
    true
}

fn bench(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/models")
        .join(name)
}

/// Every distribution ported to the device, with truncation and shift, and an output with
/// error iterations (the test models of `gpu_codegen.rs`).
fn distributions_book(dir: &Path) -> PathBuf {
    let p = dir.join("distributions.xlsx");
    common::write_book(
        &p,
        &[
            ("A1", "=RiskUniform(-2,5)"),
            ("A2", "=RiskNormal(100,30)"),
            ("A3", "=RiskTriang(1,2,4)"),
            ("A4", "=RiskLognorm(10,4)"),
            ("A5", "=RiskDiscrete({1,2,5,9},{0.1,0.2,0.3,0.4})"),
            ("A6", "=RiskExpon(3)"),
            ("A7", "=RiskPoisson(4.5)"),
            ("A8", "=RiskNormal(0,1,RiskTruncate(-1,2))"),
            ("A9", "=RiskTriang(0,1,3,RiskShift(10))"),
            ("A10", "=RiskLognorm(5,2,RiskTruncate(2,),RiskShift(-1))"),
            ("A11", "=RiskExpon(2,RiskTruncate(,5))"),
            ("A12", "=RiskPert(1,2,5)"),
            ("B1", "=RiskOutput(\"sum\")+A1+A2+A3+A4+A5"),
            (
                "B2",
                "=RiskOutput(\"mix\")+A6*A7-A8+LN(A9)+SQRT(A10)+A11*A12",
            ),
            (
                "B3",
                "=RiskOutput(\"npv\")+NPV(0.08,A2,A4,A5*10)+MAX(A1,A8)+ROUND(A3,1)",
            ),
            ("B4", "=RiskOutput(\"errors\")+SQRT(A1)*A12"),
        ],
        &[],
    );
    p
}

/// Two correlated inputs (Iman-Conover: not drawn on the device).
fn correlated_book(dir: &Path) -> PathBuf {
    let p = dir.join("corr.xlsx");
    common::write_book(
        &p,
        &[
            ("A1", "=RiskNormal(0,1,RiskCorrmat(D1:E2,1))"),
            ("A2", "=RiskNormal(0,1,RiskCorrmat(D1:E2,2))"),
            ("B1", "=RiskOutput()+A1+A2"),
            ("D1", "1"),
            ("E1", "0.5"),
            ("D2", "0.5"),
            ("E2", "1"),
        ],
        &[],
    );
    p
}

fn opts(workbook: &Path, n: u64, backend: BackendChoice, out: Option<PathBuf>) -> RunOptions {
    RunOptions {
        workbook: workbook.to_path_buf(),
        iterations: Some(n),
        seed: Some(20_261_207),
        threads: Some(2),
        backend,
        out,
        percentiles: vec![0.01, 0.999],
        targets: vec![0.0],
        ..RunOptions::default()
    }
}

/// The report without what differs between backends and runs (timings, the backend's name, the
/// samples file's path).
fn numbers(r: &RunReport) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    for k in [
        "elapsed_seconds",
        "simulation_seconds",
        "iterations_per_second",
        "backend",
        "backend_note",
        "samples_file",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

/// Runs `o` on the CPU and on the GPU path (host shim, `devices`), each writing its samples as
/// CSV; asserts the backends the reports name, byte-identical samples files and equal reports.
fn check_parity(dir: &Path, name: &str, o: &RunOptions, devices: &[Devices]) {
    let cpu_csv = dir.join(format!("{name}-cpu.csv"));
    let cpu = run(
        &RunOptions {
            backend: BackendChoice::Cpu,
            out: Some(cpu_csv.clone()),
            ..o.clone()
        },
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(cpu.backend, "cpu");
    assert_eq!(cpu.backend_note, None);
    let cpu_samples = std::fs::read(&cpu_csv).unwrap();
    assert!(cpu_samples.len() > 1000, "{name}: a real samples file");
    for (k, d) in devices.iter().enumerate() {
        let gpu_csv = dir.join(format!("{name}-gpu{k}.csv"));
        let gpu = run(
            &RunOptions {
                backend: BackendChoice::Cuda,
                devices: d.clone(),
                out: Some(gpu_csv.clone()),
                ..o.clone()
            },
            &|_, _| {},
        )
        .unwrap_or_else(|e| panic!("{name} {d:?}: {e}"));
        assert_eq!(gpu.backend, "cuda (host shim)", "{name}");
        assert_eq!(gpu.backend_note, None, "{name}");
        let gpu_samples = std::fs::read(&gpu_csv).unwrap();
        if gpu_samples != cpu_samples {
            let (c, g) = (
                String::from_utf8_lossy(&cpu_samples),
                String::from_utf8_lossy(&gpu_samples),
            );
            let line = c.lines().zip(g.lines()).position(|(a, b)| a != b);
            panic!(
                "{name} {d:?}: the samples differ from the CPU's at line {line:?}: CPU {:?}, GPU path {:?}",
                line.and_then(|l| c.lines().nth(l)),
                line.and_then(|l| g.lines().nth(l))
            );
        }
        assert_eq!(numbers(&gpu), numbers(&cpu), "{name} {d:?}: the reports");
    }
}

/// The bench models npv_project and portfolio and the distributions workbook, Latin Hypercube
/// and Monte Carlo, 20,000 iterations (five chunks of the host shim's 16,384 and a partial one):
/// the samples (inputs and outputs) bit-identical to the CPU's, the reports equal.
#[test]
fn gpu_path_matches_the_cpu_on_the_test_and_bench_models() {
    if !host_kernel() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let models = [
        ("npv", bench("npv_project_risk.xlsx")),
        ("portfolio", bench("portfolio_risk.xlsx")),
        ("distributions", distributions_book(dir.path())),
    ];
    for (name, path) in &models {
        for method in [Method::LatinHypercube, Method::MonteCarlo] {
            let o = RunOptions {
                sampling: Some(method),
                ..opts(path, 20_000, BackendChoice::Cuda, None)
            };
            check_parity(
                dir.path(),
                &format!("{name}-{method:?}"),
                &o,
                &[Devices::All],
            );
        }
    }
}

/// `--devices` with 1, 2 and 3 (pretended) devices: each chunk is split into contiguous slices
/// run concurrently, and the results are those of the CPU whatever the count; also for a shard
/// starting mid-run and in the streaming statistics mode (several passes over the iterations).
#[test]
fn results_do_not_depend_on_the_number_of_devices() {
    if !host_kernel() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = bench("npv_project_risk.xlsx");
    let devices = [
        Devices::List(vec![0]),
        Devices::List(vec![0, 1]),
        Devices::parse("2, 0, 1").unwrap(),
    ];
    check_parity(
        dir.path(),
        "whole",
        &opts(&path, 30_001, BackendChoice::Cuda, None),
        &devices,
    );
    check_parity(
        dir.path(),
        "shard",
        &RunOptions {
            shard: Some(Shard::new(1, 3).unwrap()),
            ..opts(&path, 50_000, BackendChoice::Cuda, None)
        },
        &devices,
    );
    // Streaming statistics (15 columns × 8 bytes × 40,000 > 1 MiB): the later passes recompute
    // the iterations on the devices.
    let o = RunOptions {
        memory: Some(1 << 20),
        ..opts(&path, 40_000, BackendChoice::Cuda, None)
    };
    let cpu = run(
        &RunOptions {
            backend: BackendChoice::Cpu,
            ..o.clone()
        },
        &|_, _| {},
    )
    .unwrap();
    assert!(cpu.simulation_passes >= 2, "{}", cpu.simulation_passes);
    for d in &devices {
        let gpu = run(
            &RunOptions {
                devices: d.clone(),
                ..o.clone()
            },
            &|_, _| {},
        )
        .unwrap();
        assert_eq!(gpu.backend, "cuda (host shim)");
        assert_eq!(gpu.simulation_passes, cpu.simulation_passes);
        assert_eq!(numbers(&gpu), numbers(&cpu), "streaming, {d:?}");
    }
}

/// grid_20k (86,212 instructions; g++ takes a minute or more on its kernel): 5,000 iterations.
#[test]
fn gpu_path_matches_the_cpu_on_grid_20k() {
    if !host_kernel() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    check_parity(
        dir.path(),
        "grid",
        &opts(
            &bench("grid_20k_risk.xlsx"),
            5_000,
            BackendChoice::Cuda,
            None,
        ),
        &[Devices::List(vec![0, 1])],
    );
}

/// `auto` runs the GPU path when the model compiles for it, and the CPU with a note when it does
/// not (correlated inputs); `cuda` on such a model is an invalid-option error with the reason,
/// and an empty device list is refused the same way.
#[test]
fn auto_falls_back_and_cuda_fails_with_the_reason() {
    if !host_kernel() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let npv = bench("npv_project_risk.xlsx");
    let r = run(&opts(&npv, 5_000, BackendChoice::Auto, None), &|_, _| {}).unwrap();
    assert_eq!(r.backend, "cuda (host shim)");
    assert_eq!(r.backend_note, None);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["backend"], "cuda (host shim)");

    let corr = correlated_book(dir.path());
    let r = run(&opts(&corr, 5_000, BackendChoice::Auto, None), &|_, _| {}).unwrap();
    assert_eq!(r.backend, "cpu");
    let note = r.backend_note.unwrap();
    assert!(
        note.starts_with("auto: no GPU used: ") && note.contains("correlated"),
        "{note}"
    );
    let e = run(&opts(&corr, 5_000, BackendChoice::Cuda, None), &|_, _| {}).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    match &e {
        OpsError::Option { option, message } => {
            assert_eq!(option, "--backend cuda");
            assert!(message.contains("correlated"), "{message}");
            assert!(!message.contains('\n'), "one line: {message}");
        }
        other => panic!("{other:?}"),
    }
    let e = run(
        &RunOptions {
            devices: Devices::List(Vec::new()),
            ..opts(&npv, 5_000, BackendChoice::Cuda, None)
        },
        &|_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("--devices is empty"), "{e}");
}

#[test]
fn devices_parse() {
    assert_eq!(Devices::parse("all").unwrap(), Devices::All);
    assert_eq!(Devices::parse("ALL").unwrap(), Devices::All);
    assert_eq!(Devices::parse("0").unwrap(), Devices::List(vec![0]));
    assert_eq!(Devices::parse(" 1, 0 ").unwrap(), Devices::List(vec![1, 0]));
    for bad in ["", "0,", "a", "-1", "0,0", "1;2"] {
        assert!(Devices::parse(bad).is_err(), "{bad}");
    }
}

/// An output whose values nearly all fall in one histogram bucket.
fn narrow_book(dir: &Path) -> PathBuf {
    let p = dir.join("narrow.xlsx");
    common::write_book(
        &p,
        &[
            ("A1", "=RiskNormal(0,0.001)"),
            ("B1", "=RiskOutput(\"narrow\")+100+A1"),
        ],
        &[],
    );
    p
}

/// Streaming statistics reduced on the device (no samples file, no targets): pass 1's moments,
/// min/max and error counts come back as accumulator records and the histograms as counts, the
/// quantile passes select on the device (the sensitivity pass copies its chunks back). The
/// summary equals the CPU's streaming run of the same seed: moments bit for bit, percentiles,
/// VaR and CVaR exact. Not compared: the convergence trace's percentile estimates and Spearman's
/// ranks, which read the histograms' sub-bucket detail that the device does not count.
#[test]
fn streaming_statistics_reduced_on_the_device_equal_the_cpus() {
    if !host_kernel() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, path, n) in [
        ("npv", bench("npv_project_risk.xlsx"), 40_000),
        ("distributions", distributions_book(dir.path()), 70_000),
        // Most values in one histogram bucket: more than the budget, so a further pass counts
        // that bucket finer, selecting on the device.
        ("narrow", narrow_book(dir.path()), 150_000),
    ] {
        let o = RunOptions {
            memory: Some(1 << 20),
            targets: Vec::new(),
            ..opts(&path, n, BackendChoice::Cuda, None)
        };
        let cpu = run(
            &RunOptions {
                backend: BackendChoice::Cpu,
                ..o.clone()
            },
            &|_, _| {},
        )
        .unwrap();
        assert!(
            cpu.simulation_passes >= 2,
            "{name}: {}",
            cpu.simulation_passes
        );
        for d in [Devices::All, Devices::List(vec![0, 1])] {
            let gpu = run(
                &RunOptions {
                    devices: d.clone(),
                    ..o.clone()
                },
                &|_, _| {},
            )
            .unwrap();
            assert_eq!(gpu.backend, "cuda (host shim)");
            let strip = |r: &RunReport| {
                let mut v = numbers(r);
                let m = v.as_object_mut().unwrap();
                m.remove("simulation_passes");
                for o in m["outputs"].as_array_mut().unwrap() {
                    let o = o.as_object_mut().unwrap();
                    o.remove("convergence");
                    o.remove("sensitivity");
                }
                v
            };
            assert_eq!(strip(&gpu), strip(&cpu), "{name} {d:?}");
        }
    }
}
