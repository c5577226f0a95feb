#![allow(clippy::print_stdout, clippy::print_stderr)]
//! GPU throughput with on-device reduction (needs `--features cuda` and a GPU; used by
//! `bench/gpu.sh`):
//!
//! `gpu_bench WORKBOOK ITERATIONS [SEED] [DEVICES]` loads the model's sampling kernel (inputs
//! drawn on the device, no input written back) on the GPUs (`all` or `0,1`), runs the iterations
//! in chunks of 2^24 cut on the run's statistics blocks (4,096 iterations), reduces each block on
//! the device (`mcsim_reduce`: `BlockStats` records, no samples copied back) and merges the
//! records in block order, as the CPU merges its blocks. Prints one JSON line: the kernel's
//! compile/load seconds, the run's seconds, iterations/s, and each output's n, errors, mean and
//! standard deviation (which `bench/gpu.sh` compares with `mcsim run --backend cpu`).

use mcsim_engine::sim::backend::cuda::{CudaRunner, device_count};
use mcsim_engine::sim::cuda_gen::generate_sampled;
use mcsim_ops::run::config::ModelConfig;
use mcsim_ops::run::{Devices, LoadedModel, PrepareSpec, STATS_BLOCK, prepare};
use mcsim_results::BlockStats;
use mcsim_sampling::Method;
use std::time::Instant;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("gpu_bench: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, workbook, n, rest @ ..] = args.as_slice() else {
        return Err("usage: gpu_bench WORKBOOK ITERATIONS [SEED] [DEVICES]".into());
    };
    let iterations: u64 = n
        .parse::<f64>()
        .map_err(|e| format!("{n}: {e}"))
        .map(|x| x as u64)?;
    let seed: u64 = match rest.first() {
        Some(s) => s.parse().map_err(|e| format!("{s}: {e}"))?,
        None => 1,
    };
    let devices = Devices::parse(rest.get(1).map_or("all", String::as_str))?;
    let bytes = std::fs::read(workbook).map_err(|e| format!("{workbook}: {e}"))?;
    let loaded =
        LoadedModel::from_bytes(bytes, workbook, &Default::default()).map_err(|e| e.to_string())?;
    let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default())
        .map_err(|e| e.to_string())?;
    let compiled = p.compiled().ok_or("the model is interpreted")?;
    let method = Method::LatinHypercube;
    let smp = p
        .device_sampling(seed, method, iterations, false)
        .map_err(|e| e.to_string())?;
    let k = generate_sampled(compiled, &smp).map_err(|e| e.to_string())?;
    let ordinals: Vec<usize> = match &devices {
        Devices::All => (0..device_count()).collect(),
        Devices::List(l) => l.clone(),
    };
    let t0 = Instant::now();
    let runner = CudaRunner::load(&k, &ordinals).map_err(|e| e.to_string())?;
    let load_s = t0.elapsed().as_secs_f64();
    let n_out = k.n_outputs;
    let mut stats: Vec<BlockStats> = (0..n_out).map(|_| BlockStats::new(&[])).collect();
    // Chunks of 2^24 iterations, split across the devices on the statistics block grid.
    let chunk: u64 = 1 << 24;
    let t1 = Instant::now();
    let mut first = 0u64;
    while first < iterations {
        let len = chunk.min(iterations - first);
        let nd = ordinals.len() as u64;
        let per = len.div_ceil(nd).div_ceil(STATS_BLOCK) * STATS_BLOCK;
        let slices: Vec<(usize, u64, u64)> = (0..nd)
            .map(|d| {
                (
                    d as usize,
                    first + d * per,
                    per.min(len.saturating_sub(d * per)),
                )
            })
            .filter(|s| s.2 > 0)
            .collect();
        let parts = std::thread::scope(|scope| {
            let hs: Vec<_> = slices
                .iter()
                .map(|&(d, f, l)| {
                    let runner = &runner;
                    scope.spawn(move || {
                        runner
                            .kernel(d)
                            .ok_or_else(|| format!("no device {d}"))?
                            .run_reduced(&[], l as usize, f, STATS_BLOCK)
                            .map(|r| (l, r))
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| "a device thread panicked".to_string())?
                })
                .collect::<Result<Vec<_>, String>>()
        })?;
        for (l, recs) in parts {
            let blocks = (l as usize).div_ceil(STATS_BLOCK as usize);
            for (o, s) in stats.iter_mut().enumerate() {
                for b in 0..blocks {
                    let r = recs[o * blocks + b];
                    s.merge(&BlockStats::from_parts(
                        r.n, r.errors, r.sum, r.m2, r.m3, r.m4, r.min, r.max,
                    ));
                }
            }
        }
        first += len;
    }
    let run_s = t1.elapsed().as_secs_f64();
    let outs: Vec<serde_json::Value> = p
        .output_names()
        .zip(&stats)
        .map(|(name, s)| {
            serde_json::json!({"name": name, "n": s.n(), "errors": s.errors(), "mean": s.mean(), "std_dev": s.std_dev()})
        })
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "workbook": workbook,
            "iterations": iterations,
            "seed": seed,
            "devices": ordinals,
            "load_seconds": load_s,
            "run_seconds": run_s,
            "iterations_per_second": iterations as f64 / run_s,
            "outputs": outs,
        })
    );
    Ok(())
}
