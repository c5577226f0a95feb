#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]
//! The CUDA generator (`mcsim_engine::sim::cuda_gen`) on real models: every bench model and a few
//! test workbooks. The generated kernel is compiled for the host with the C++ compiler and the
//! shim (no GPU needed) and must give the CPU executor's bits on sampled inputs; with the `cuda`
//! feature, NVRTC must compile each kernel to PTX (skipped when libnvrtc is absent).

mod common;

use mcsim_engine::sim::cuda_gen::host::{HostKernel, compiler, compiler_available};
use mcsim_engine::sim::cuda_gen::{GenError, KernelSource, generate_compiled, generate_sampled};
use mcsim_engine::sim::{Columns, Compiled, Operand};
use mcsim_ops::run::config::ModelConfig;
use mcsim_ops::run::{LoadedModel, PrepareSpec, prepare};
use mcsim_sampling::Method;
use std::path::{Path, PathBuf};

fn bench(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/models")
        .join(name)
}

/// A workbook using most of what the generator ports: rounding, MOD, powers, logs, lookups,
/// NPV, COUNTIF, SUMPRODUCT, IF/IFERROR, MIN/MAX/AVERAGE.
fn functions_book(dir: &Path) -> PathBuf {
    let p = dir.join("functions.xlsx");
    common::write_book(
        &p,
        &[
            ("A1", "=RiskNormal(100,30)"),
            ("A2", "=RiskUniform(-2,5)"),
            ("A3", "=RiskTriang(0.01,0.08,0.2)"),
            ("B1", "=ROUND(A1,1)+ROUNDUP(A2,0)-ROUNDDOWN(A1,-1)"),
            ("B2", "=MOD(A1,7)+POWER(ABS(A2),1.5)+A2^3+SQRT(ABS(A1))"),
            (
                "B3",
                "=IFERROR(LN(A2),-1)+LOG10(ABS(A1)+1)+EXP(A2/10)+INT(A1)+SIGN(A2)",
            ),
            (
                "B4",
                "=VLOOKUP(A2,$D$1:$E$4,2)+INDEX($E$1:$E$4,MATCH(ROUND(A2,0),$D$1:$D$4,0))",
            ),
            (
                "B5",
                "=NPV(A3,A1,A1*1.1,A1*1.2,-50)+COUNTIF(A1:A2,\">1\")+SUMPRODUCT(A1:A2,D1:D2)",
            ),
            (
                "B6",
                "=IF(A1>100,MIN(A1,A2,50),MAX(A1,A2))+AVERAGE(A1,A2,3)",
            ),
            ("B7", "=IF(ISERROR(1/A2),0,1/A2)"),
            ("D1", "-2"),
            ("D2", "0"),
            ("D3", "1"),
            ("D4", "3"),
            ("E1", "10"),
            ("E2", "20"),
            ("E3", "30"),
            ("E4", "40"),
            ("C1", "=RiskOutput(\"rounding\")+B1"),
            ("C2", "=RiskOutput(\"powers\")+B2"),
            ("C3", "=RiskOutput(\"logs\")+B3"),
            ("C4", "=RiskOutput(\"lookups\")+B4"),
            ("C5", "=RiskOutput(\"npv\")+B5"),
            ("C6", "=RiskOutput(\"minmax\")+B6"),
            ("C7", "=RiskOutput(\"iserror\")+B7"),
        ],
        &[],
    );
    p
}

/// A workbook with a distribution whose parameters change per iteration (a `Quantile`
/// instruction, not ported yet).
fn dynamic_book(dir: &Path) -> PathBuf {
    let p = dir.join("dynamic.xlsx");
    common::write_book(
        &p,
        &[
            ("A1", "=RiskUniform(1,2)"),
            ("A2", "=RiskNormal(A1*10,1)"),
            ("C1", "=RiskOutput(\"dyn\")+A2"),
        ],
        &[],
    );
    p
}

/// A workbook using every distribution ported to the device, with `RiskTruncate` and
/// `RiskShift`: uniform, normal (both tails of AS241 reached), triangular, lognormal, discrete,
/// exponential, Poisson (a tabulated integer distribution), PERT (a quintic quantile table), a
/// truncated normal, a shifted triangular, a truncated, shifted lognormal and a truncated
/// exponential.
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
                "=RiskOutput(\"npv\")+NPV(0.08,A2,A4,A5*10)+MAX(A1,A8)",
            ),
            // An error (#NUM!) on the iterations where A1 < 0, about 2 in 7.
            ("B4", "=RiskOutput(\"errors\")+SQRT(A1)*A12"),
        ],
        &[],
    );
    p
}

/// A workbook with a distribution that has no device port (gamma), and one with correlated
/// inputs.
fn unported_books(dir: &Path) -> (PathBuf, PathBuf) {
    let pert = dir.join("pert.xlsx");
    common::write_book(
        &pert,
        &[
            ("A1", "=RiskGamma(2,3)"),
            ("A2", "=RiskNormal(0,1)"),
            ("B1", "=RiskOutput()+A1+A2"),
        ],
        &[],
    );
    let corr = dir.join("corr.xlsx");
    common::write_book(
        &corr,
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
    (pert, corr)
}

struct Case {
    name: String,
    compiled: Compiled,
    inputs: Vec<Vec<f64>>,
}

fn case(path: &Path, lanes: usize) -> Case {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let loaded =
        LoadedModel::from_bytes(std::fs::read(path).unwrap(), &name, &Default::default()).unwrap();
    let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
    let compiled = p.compiled().expect("a compiled model").clone();
    let inputs = p.sample_columns(20_261_207, Method::LatinHypercube, lanes as u64, 0, lanes);
    Case {
        name,
        compiled,
        inputs,
    }
}

/// The CPU executor's outputs (as `Simulation::run_block` gives them: non-finite is NaN).
fn cpu(c: &Compiled, inputs: &[Vec<f64>], lanes: usize) -> Vec<Vec<f64>> {
    let mut cols = Columns::new(c.program.slots, lanes);
    let n = c.input_slots.len();
    for (k, s) in c.input_slots.iter().enumerate() {
        cols.col_mut(*s).copy_from_slice(&inputs[k]);
    }
    for (j, s) in c.site_slots.iter().enumerate() {
        if let Some(s) = s {
            cols.col_mut(*s).copy_from_slice(&inputs[n + j]);
        }
    }
    c.program.run(&mut cols);
    c.outputs
        .iter()
        .map(|o| {
            let v = match o {
                Operand::Slot(s) => cols.col(*s).to_vec(),
                Operand::Const(k) => vec![*k; lanes],
            };
            v.into_iter()
                .map(|x| if x.is_finite() { x } else { f64::NAN })
                .collect()
        })
        .collect()
}

fn supported_cases(dir: &Path) -> Vec<(Case, KernelSource)> {
    let mut paths: Vec<PathBuf> = [
        "npv_project_risk.xlsx",
        "portfolio_risk.xlsx",
        "grid_20k_risk.xlsx",
    ]
    .iter()
    .map(|n| bench(n))
    .collect();
    paths.push(functions_book(dir));
    paths
        .iter()
        .map(|p| {
            let c = case(p, 3000);
            let k = generate_compiled(&c.compiled).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            (c, k)
        })
        .collect()
}

#[test]
fn host_shim_matches_the_cpu_executor_bit_for_bit_on_every_model() {
    if !compiler_available() {
        eprintln!(
            "SKIPPED: no host C++ compiler ({}): the generated kernels were not run",
            compiler()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (c, k) in supported_cases(dir.path()) {
        let lanes = c.inputs[0].len();
        let hk = HostKernel::compile(&k).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let got = hk.run(&c.inputs, lanes).unwrap();
        let want = cpu(&c.compiled, &c.inputs, lanes);
        assert_eq!(got.len(), want.len());
        let mut errors = 0;
        for (o, (g, w)) in got.iter().zip(&want).enumerate() {
            for i in 0..lanes {
                assert!(
                    g[i].to_bits() == w[i].to_bits() || (g[i].is_nan() && w[i].is_nan()),
                    "{} output {o} lane {i}: host shim {:e}, CPU {:e}",
                    c.name,
                    g[i],
                    w[i]
                );
                errors += w[i].is_nan() as usize;
            }
        }
        // The comparison must be about numbers, not about error lanes only.
        assert!(
            errors < lanes * want.len() / 2,
            "{}: {errors} error lanes",
            c.name
        );
    }
}

#[test]
fn a_model_with_an_unported_instruction_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = case(&dynamic_book(dir.path()), 16);
    match generate_compiled(&c.compiled) {
        Err(GenError::Unsupported { what, .. }) => assert!(what.contains("Quantile"), "{what}"),
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "cuda")]
#[test]
fn nvrtc_compiles_every_model_to_ptx() {
    use mcsim_engine::sim::backend::cuda;
    if !cuda::nvrtc_present() {
        eprintln!(
            "SKIPPED: libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12==12.8.* and put its lib directory on LD_LIBRARY_PATH)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (c, k) in supported_cases(dir.path()) {
        let ptx = cuda::compile_ptx(&k).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert!(ptx.contains(".entry mcsim_block"), "{}", c.name);
    }
}

/// Device-side sampling through the host shim: for each bench model and the distributions
/// workbook, Monte Carlo and Latin Hypercube, the kernel draws its inputs from (seed, key,
/// iteration) and writes them after the outputs; inputs and outputs must be the CPU's bits
/// (`Sampler::sample_into`, then the CPU executor), on a slice starting at iteration 0 and on
/// one starting inside the run (a shard), the last one past a partial 256-thread block.
#[test]
fn device_sampling_matches_the_cpu_bit_for_bit() {
    if !compiler_available() {
        eprintln!(
            "SKIPPED: no host C++ compiler ({}): the sampling kernels were not run",
            compiler()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let seed = 20_261_207;
    let iterations = 5_000u64;
    let mut paths = vec![distributions_book(dir.path())];
    paths.extend(
        [
            "npv_project_risk.xlsx",
            "portfolio_risk.xlsx",
            "grid_20k_risk.xlsx",
        ]
        .iter()
        .map(|n| bench(n)),
    );
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded =
            LoadedModel::from_bytes(std::fs::read(path).unwrap(), &name, &Default::default())
                .unwrap();
        let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
        let compiled = p.compiled().expect("a compiled model");
        for method in [Method::MonteCarlo, Method::LatinHypercube] {
            let smp = p.device_sampling(seed, method, iterations, true).unwrap();
            let k = generate_sampled(compiled, &smp).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(k.n_inputs, 0);
            let hk = HostKernel::compile(&k).unwrap_or_else(|e| panic!("{name}: {e}"));
            for (first, lanes) in [(0u64, 700usize), (3_517, 1_483)] {
                let got = hk.run_from(&[], lanes, first).unwrap();
                let inputs = p.sample_columns(seed, method, iterations, first, lanes);
                let outputs = cpu(compiled, &inputs, lanes);
                let want: Vec<&Vec<f64>> = outputs.iter().chain(&inputs).collect();
                assert_eq!(got.len(), want.len(), "{name}");
                let n_out = outputs.len();
                for (o, (g, w)) in got.iter().zip(&want).enumerate() {
                    let what = if o < n_out {
                        format!("output {o}")
                    } else {
                        format!("input {}", o - n_out)
                    };
                    for i in 0..lanes {
                        assert!(
                            g[i].to_bits() == w[i].to_bits() || (g[i].is_nan() && w[i].is_nan()),
                            "{name} {method:?} {what} iteration {}: device {:e}, CPU {:e}",
                            first + i as u64,
                            g[i],
                            w[i]
                        );
                    }
                }
                // The inputs are real draws: not constant, and inside the run's strata.
                for c in &inputs {
                    assert!(c.iter().all(|x| x.is_finite()), "{name}");
                }
            }
        }
    }
}

#[test]
fn device_sampling_refuses_unported_distributions_and_correlation() {
    let dir = tempfile::tempdir().unwrap();
    let (pert, corr) = unported_books(dir.path());
    for (path, want) in [(pert, "RiskGamma"), (corr, "correlated")] {
        let loaded =
            LoadedModel::from_bytes(std::fs::read(&path).unwrap(), "m.xlsx", &Default::default())
                .unwrap();
        let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
        let compiled = p.compiled().expect("a compiled model");
        let e = p
            .device_sampling(1, Method::LatinHypercube, 100, false)
            .and_then(|s| generate_sampled(compiled, &s))
            .unwrap_err();
        match &e {
            GenError::Unsupported { instr: None, what } => {
                assert!(what.contains(want), "{what}")
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("not supported on the GPU"), "{e}");
    }
}

/// On-device reduction through the host shim: the records of the reduction kernel over blocks of
/// 4096 iterations (the last one partial) equal `BlockStats::add_block` of the CPU's outputs on
/// the same blocks bit for bit, error counts and extremes included, and so do the blocks merged in
/// order.
#[test]
fn device_reduction_matches_block_stats_bit_for_bit() {
    use mcsim_results::BlockStats;
    if !compiler_available() {
        eprintln!(
            "SKIPPED: no host C++ compiler ({}): the reduction kernel was not run",
            compiler()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (seed, iterations, block) = (7u64, 10_000u64, 4096usize);
    for path in [
        distributions_book(dir.path()),
        bench("npv_project_risk.xlsx"),
    ] {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded =
            LoadedModel::from_bytes(std::fs::read(&path).unwrap(), &name, &Default::default())
                .unwrap();
        let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
        let compiled = p.compiled().expect("a compiled model");
        let smp = p
            .device_sampling(seed, Method::LatinHypercube, iterations, false)
            .unwrap();
        let k = generate_sampled(compiled, &smp).unwrap();
        let hk = HostKernel::compile(&k).unwrap();
        let lanes = iterations as usize;
        let (outs, recs) = hk.run_reduced(&[], lanes, 0, block as u64).unwrap();
        let inputs = p.sample_columns(seed, Method::LatinHypercube, iterations, 0, lanes);
        let want = cpu(compiled, &inputs, lanes);
        assert_eq!(outs.len(), want.len());
        let blocks = lanes.div_ceil(block);
        assert_eq!(recs.len(), blocks * want.len(), "{name}");
        let mut errors = 0;
        for (o, col) in want.iter().enumerate() {
            let (mut cpu_all, mut dev_all) = (BlockStats::new(&[]), BlockStats::new(&[]));
            for b in 0..blocks {
                let xs = &col[b * block..((b + 1) * block).min(lanes)];
                let mut cpu_b = BlockStats::new(&[]);
                cpu_b.add_block(xs);
                cpu_all.add_block(xs);
                let r = recs[o * blocks + b];
                let dev_b =
                    BlockStats::from_parts(r.n, r.errors, r.sum, r.m2, r.m3, r.m4, r.min, r.max);
                dev_all.merge(&dev_b);
                // Debug prints each double's shortest round-trip form: equal text, equal bits.
                assert_eq!(
                    format!("{dev_b:?}"),
                    format!("{cpu_b:?}"),
                    "{name} output {o} block {b}"
                );
                errors += r.errors;
            }
            assert_eq!(
                format!("{dev_all:?}"),
                format!("{cpu_all:?}"),
                "{name} output {o}"
            );
            assert!(cpu_all.n() > 0, "{name} output {o}");
        }
        if name.starts_with("distributions") {
            assert!(errors > 0, "the error column must have errors");
        }
    }
}

/// The sampling kernels (every ported distribution, Monte Carlo and Latin Hypercube; the PERT
/// tables of npv_project) and the reduction kernel compile to PTX with NVRTC.
#[cfg(feature = "cuda")]
#[test]
fn nvrtc_compiles_the_sampling_and_reduction_kernels() {
    use mcsim_engine::sim::backend::cuda;
    if !cuda::nvrtc_present() {
        eprintln!(
            "SKIPPED: libnvrtc not found (pip install nvidia-cuda-nvrtc-cu12==12.8.* and put its lib directory on LD_LIBRARY_PATH)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for path in [
        distributions_book(dir.path()),
        bench("npv_project_risk.xlsx"),
    ] {
        let loaded =
            LoadedModel::from_bytes(std::fs::read(&path).unwrap(), "m.xlsx", &Default::default())
                .unwrap();
        let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
        let compiled = p.compiled().expect("a compiled model");
        for method in [Method::MonteCarlo, Method::LatinHypercube] {
            let smp = p.device_sampling(3, method, 1_000_000, true).unwrap();
            let k = generate_sampled(compiled, &smp).unwrap();
            let ptx = cuda::compile_ptx(&k).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(ptx.contains(".entry mcsim_block"), "{}", path.display());
            assert!(ptx.contains(".entry mcsim_reduce"), "{}", path.display());
            // The streaming reductions (kernels/mcsim_hist.cuh, mcsim_reduce_segs).
            for entry in ["mcsim_reduce_segs", "mcsim_hist", "mcsim_select"] {
                assert!(
                    ptx.contains(&format!(".entry {entry}")),
                    "{}: {entry}",
                    path.display()
                );
            }
        }
    }
}

/// Without a usable GPU, loading a kernel is a typed error with the reason, never a panic
/// (`CudaContext::new` panics without libcuda, so the probe must come first).
#[cfg(feature = "cuda")]
#[test]
fn cuda_kernel_without_a_gpu_is_an_error_not_a_panic() {
    use mcsim_engine::sim::backend::{BackendError, cuda};
    let Some(reason) = cuda::unusable_reason() else {
        eprintln!("SKIPPED: a GPU is usable here (cuda_kernel_matches_the_cpu_on_a_gpu runs)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = case(&functions_book(dir.path()), 16);
    let k = generate_compiled(&c.compiled).unwrap();
    match cuda::CudaKernel::load(&k, 0) {
        Err(BackendError::Unavailable { reason: r }) => assert_eq!(r, reason),
        other => panic!("{other:?}"),
    }
    // The runner `mcsim run` uses, on a sampling kernel and two devices: the same reason.
    let p = std::fs::read(bench("npv_project_risk.xlsx")).unwrap();
    let loaded = LoadedModel::from_bytes(p, "npv.xlsx", &Default::default()).unwrap();
    let prep = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
    let smp = prep
        .device_sampling(1, Method::LatinHypercube, 1000, true)
        .unwrap();
    let k = generate_sampled(prep.compiled().unwrap(), &smp).unwrap();
    match cuda::CudaRunner::load(&k, &[0, 1]) {
        Err(BackendError::Unavailable { reason: r }) => assert_eq!(r, reason),
        other => panic!("{other:?}"),
    }
}

/// On a GPU (skipped without one; **not run yet**: no GPU was lent to this work): the sampling
/// kernels of the distributions workbook and the bench models launched through cudarc, against
/// the CPU. Input samples and outputs within 1e-12 relative (bit-identical except where CUDA's
/// `log`/`log1p`/`exp` differ from glibc's in the last bits; the count of differing values is
/// printed), and the reduction records equal `BlockStats::add_block` of the GPU's own outputs bit
/// for bit.
#[cfg(feature = "cuda")]
#[test]
fn cuda_kernel_matches_the_cpu_on_a_gpu() {
    use mcsim_engine::sim::backend::cuda;
    use mcsim_results::BlockStats;
    if let Some(why) = cuda::unusable_reason() {
        eprintln!("SKIPPED: no usable GPU ({why}): the kernels were not launched");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (seed, iterations, block) = (11u64, 50_000u64, 4096u64);
    let mut paths = vec![distributions_book(dir.path())];
    // MCSIM_GPU_QUICK=1 (bench/gpu.sh) leaves grid_20k out: NVRTC takes minutes on its kernel.
    let quick = std::env::var_os("MCSIM_GPU_QUICK").is_some_and(|v| v == "1");
    paths.extend(
        [
            "npv_project_risk.xlsx",
            "portfolio_risk.xlsx",
            "grid_20k_risk.xlsx",
        ]
        .iter()
        .filter(|n| !(quick && n.starts_with("grid")))
        .map(|n| bench(n)),
    );
    let close = |g: f64, w: f64| {
        g.to_bits() == w.to_bits()
            || (g.is_nan() && w.is_nan())
            || (g - w).abs() <= 1e-12 * g.abs().max(w.abs())
    };
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded =
            LoadedModel::from_bytes(std::fs::read(path).unwrap(), &name, &Default::default())
                .unwrap();
        let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
        let compiled = p.compiled().expect("a compiled model");
        for method in [Method::MonteCarlo, Method::LatinHypercube] {
            let smp = p.device_sampling(seed, method, iterations, true).unwrap();
            let k = generate_sampled(compiled, &smp).unwrap();
            let gpu = cuda::CudaKernel::load(&k, 0).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (first, lanes) = (12_345u64, 20_000usize);
            let got = gpu.run(&[], lanes, first).unwrap();
            let inputs = p.sample_columns(seed, method, iterations, first, lanes);
            let outputs = cpu(compiled, &inputs, lanes);
            let want: Vec<&Vec<f64>> = outputs.iter().chain(&inputs).collect();
            assert_eq!(got.len(), want.len(), "{name}");
            let mut differ = 0;
            for (o, (g, w)) in got.iter().zip(&want).enumerate() {
                for i in 0..lanes {
                    differ += usize::from(g[i].to_bits() != w[i].to_bits());
                    assert!(
                        close(g[i], w[i]),
                        "{name} {method:?} column {o} iteration {}: GPU {:e}, CPU {:e}",
                        first + i as u64,
                        g[i],
                        w[i]
                    );
                }
            }
            eprintln!(
                "{name} {method:?}: {differ} of {} values not bit-identical",
                lanes * want.len()
            );
            let recs = gpu.run_reduced(&[], lanes, first, block).unwrap();
            let blocks = lanes.div_ceil(block as usize);
            for (o, col) in got.iter().enumerate() {
                for b in 0..blocks {
                    let xs = &col[b * block as usize..((b + 1) * block as usize).min(lanes)];
                    let mut want_b = BlockStats::new(&[]);
                    want_b.add_block(xs);
                    let r = recs[o * blocks + b];
                    let got_b = BlockStats::from_parts(
                        r.n, r.errors, r.sum, r.m2, r.m3, r.m4, r.min, r.max,
                    );
                    assert_eq!(
                        format!("{got_b:?}"),
                        format!("{want_b:?}"),
                        "{name} {method:?} column {o} block {b}"
                    );
                }
            }
        }
    }
}
