//! mcsim against the hand-written Rust limit (`bench/rust-limit`), round-robin, on the three
//! @RISK bench models (`bench/models/*_risk.xlsx`).
//!
//! ```text
//! cargo bench --bench simulation                       # 5 rounds, all models, LHS (the default)
//! cargo bench --bench simulation -- --reps 3 --models npv_project --methods lhs,mc --secs 2.5
//! MCSIM_BENCH_RUST_LIMIT=/path/to/mcsim-limit cargo bench --bench simulation   # prebuilt limit
//! ```
//!
//! mcsim runs in-process through `mcsim_ops::run::run` (load, compile, sample, evaluate,
//! statistics); the limit runs as a subprocess, built once from `bench/rust-limit` into
//! `$TMPDIR/mcsim-bench-rust-limit` (skipped, with a message, when it cannot be built). In every
//! round each configuration runs once, alternating mcsim and the limit, so a ratio always compares
//! runs made minutes apart at most; the tables give medians and per-round ratios. Around every run
//! the harness reads `/proc/stat` and reports how many cores *other* processes kept busy.
//!
//! mcsim's time is split with the run's progress callback (called after every chunk of
//! `threads × 4 × 8,192` iterations): *end-to-end* is the whole `run` call; *compute* is from the
//! start minus the load+compile time (measured by a 1,024-iteration run in the same round) to the
//! last progress call, i.e. sampling + evaluation + storing the samples, without loading,
//! compiling and the final statistics/sensitivity; *stats* is from the last progress call to the
//! end.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::{CpuSnapshot, arg, cpu_model, loadavg, median, min_max, ncpu, si};
use mcsim_ops::run::{RunOptions, parse_method, run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

const SEED: u64 = 12345;

#[derive(Debug, Clone, Default)]
struct McsimRun {
    iterations: u64,
    e2e_secs: f64,
    compute_end_secs: f64,
    e2e_rate: f64,
    other_load: f64,
    evaluation: String,
    first_output_mean: f64,
    first_output: String,
}

#[derive(Debug, Clone, Default)]
struct LimitRun {
    rate: f64,
    other_load: f64,
    first_output_mean: f64,
}

fn mcsim_run(path: &Path, n: u64, threads: usize, method: &str, wait: bool) -> McsimRun {
    let opts = RunOptions {
        workbook: path.to_path_buf(),
        iterations: Some(n),
        seed: Some(SEED),
        threads: Some(threads),
        sampling: parse_method(method),
        ..Default::default()
    };
    if wait {
        wait_idle(threads);
    }
    let marks: Mutex<Vec<(Instant, u64)>> = Mutex::new(Vec::new());
    let before = CpuSnapshot::now();
    let t0 = Instant::now();
    let report = run(&opts, &|done, _| {
        if let Ok(mut m) = marks.lock() {
            m.push((Instant::now(), done));
        }
    })
    .unwrap_or_else(|e| panic!("mcsim run of {} failed: {e}", path.display()));
    let e2e = t0.elapsed().as_secs_f64();
    let after = CpuSnapshot::now();
    let marks = marks.into_inner().unwrap_or_default();
    let last = marks
        .last()
        .map_or(e2e, |(t, _)| t.duration_since(t0).as_secs_f64());
    let first = report.outputs.first();
    McsimRun {
        iterations: report.iterations,
        e2e_secs: e2e,
        compute_end_secs: last,
        e2e_rate: report.iterations as f64 / e2e,
        other_load: before.other_load(&after),
        evaluation: report.evaluation.clone(),
        first_output_mean: first.map_or(f64::NAN, |o| o.summary.mean),
        first_output: first.map_or_else(String::new, |o| o.name.clone()),
    }
}

fn limit_run(
    bin: &Path,
    models: &Path,
    model: &str,
    n: u64,
    threads: usize,
    first_output: &str,
) -> Option<LimitRun> {
    wait_idle(threads);
    let mut cmd = Command::new(bin);
    cmd.args(["bench", "--model", model, "--models"])
        .arg(models)
        .args([
            "--iters",
            &n.to_string(),
            "--threads",
            &threads.to_string(),
            "--seed",
            &SEED.to_string(),
        ]);
    if model == "grid_20k" {
        // RESULTS.md's headline limit for the grid: vectorised exp/ln.
        cmd.arg("--simd-math");
    }
    let before = CpuSnapshot::now();
    let out = cmd.output().ok()?;
    let after = CpuSnapshot::now();
    if !out.status.success() {
        eprintln!(
            "rust-limit failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let first_mean = v["mean_min_max"][first_output][0]
        .as_f64()
        .unwrap_or(f64::NAN);
    Some(LimitRun {
        rate: v["iters_per_s"].as_f64()?,
        other_load: before.other_load(&after),
        first_output_mean: first_mean,
    })
}

/// Copies `bench/rust-limit` to a temporary folder and builds it there (once; cargo skips an
/// up-to-date build). `None`, with the reason printed, when that fails.
fn build_limit(root: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MCSIM_BENCH_RUST_LIMIT") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Some(p);
        }
        eprintln!("MCSIM_BENCH_RUST_LIMIT={} is not a file", p.display());
        return None;
    }
    let src = root.join("bench/rust-limit");
    let dir = std::env::temp_dir().join("mcsim-bench-rust-limit");
    let copy = |from: &Path, to: &Path| -> std::io::Result<()> {
        std::fs::create_dir_all(to.parent().unwrap_or(Path::new("/")))?;
        std::fs::copy(from, to).map(|_| ())
    };
    let mut files = vec![
        PathBuf::from("Cargo.toml"),
        PathBuf::from("Cargo.lock"),
        PathBuf::from(".cargo/config.toml"),
    ];
    if let Ok(rd) = std::fs::read_dir(src.join("src")) {
        files.extend(rd.flatten().map(|e| Path::new("src").join(e.file_name())));
    }
    for f in &files {
        if src.join(f).exists()
            && let Err(e) = copy(&src.join(f), &dir.join(f))
        {
            eprintln!(
                "SKIPPING rust-limit: cannot copy {} to {}: {e}",
                f.display(),
                dir.display()
            );
            return None;
        }
    }
    eprintln!(
        "building rust-limit in {} (cargo build --release) ...",
        dir.display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet"])
        .current_dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .status();
    let bin = dir.join("target/release/mcsim-limit");
    match status {
        Ok(s) if s.success() && bin.is_file() => Some(bin),
        Ok(s) => {
            eprintln!(
                "SKIPPING rust-limit: `cargo build --release` in {} failed ({s})",
                dir.display()
            );
            None
        }
        Err(e) => {
            eprintln!("SKIPPING rust-limit: cannot run cargo: {e}");
            None
        }
    }
}

/// Longest wait for free cores before a run (seconds); set by `--wait-idle`.
static WAIT_IDLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(20);

/// Waits (at most `--wait-idle` seconds) until other processes leave `threads` cores free:
/// other load ≤ nproc − threads + 0.15 over a 0.5 s window, as the reference harness requires.
fn wait_idle(threads: usize) {
    let limit = (ncpu() as f64 - threads as f64).max(0.0) + 0.15;
    let deadline = Instant::now()
        + std::time::Duration::from_secs(WAIT_IDLE.load(std::sync::atomic::Ordering::Relaxed));
    loop {
        let a = CpuSnapshot::now();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let load = a.other_load(&CpuSnapshot::now());
        if load <= limit || Instant::now() >= deadline {
            return;
        }
    }
}

fn round_up(x: f64, to: u64) -> u64 {
    ((x / to as f64).ceil() as u64).max(1) * to
}

fn fmt_ratio(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "–".into()
    }
}

struct Config {
    threads: usize,
    n: u64,
    runs: Vec<McsimRun>,
    setup: Vec<f64>,
    limit_n: u64,
    limit: Vec<LimitRun>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let models_dir = root.join("bench/models");
    if let Some(w) = arg(&args, "--wait-idle").and_then(|s| s.parse().ok()) {
        WAIT_IDLE.store(w, std::sync::atomic::Ordering::Relaxed);
    }
    let reps: usize = arg(&args, "--reps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let secs: f64 = arg(&args, "--secs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.5);
    let models: Vec<String> = arg(&args, "--models")
        .unwrap_or_else(|| "npv_project,portfolio,grid_20k".into())
        .split(',')
        .map(str::to_owned)
        .collect();
    let methods: Vec<String> = arg(&args, "--methods")
        .unwrap_or_else(|| "lhs".into())
        .split(',')
        .filter(|m| parse_method(m).is_some())
        .map(str::to_owned)
        .collect();
    let thread_counts: Vec<usize> = arg(&args, "--threads")
        .unwrap_or_else(|| "1,2".into())
        .split(',')
        .filter_map(|t| t.parse().ok())
        .collect();

    println!("# mcsim vs rust-limit (simulation bench)");
    println!();
    println!(
        "machine: nproc {}, CPU {}, loadavg at start {}; {} round(s), target {:.1} s per run, seed {SEED}",
        ncpu(),
        cpu_model(),
        loadavg(),
        reps,
        secs
    );
    let limit_bin = build_limit(&root);
    if limit_bin.is_none() {
        println!("rust-limit: NOT AVAILABLE (see the message above); mcsim rows only");
    }
    let mut summary_rows: Vec<String> = Vec::new();
    for model in &models {
        let path = models_dir.join(format!("{model}_risk.xlsx"));
        if !path.is_file() {
            eprintln!("skipping {model}: {} not found", path.display());
            continue;
        }
        for mname in &methods {
            let method = mname.as_str();
            // Calibrate: setup time, then the compute rate on a short run.
            let setup0 = mcsim_run(&path, 1024, 1, method, false);
            let probe_n: u64 = if model == "grid_20k" { 16_384 } else { 262_144 };
            let probe = mcsim_run(&path, probe_n, 1, method, true);
            let rate1 =
                probe.iterations as f64 / (probe.compute_end_secs - setup0.e2e_secs).max(1e-3);
            let limit_rate1 = limit_bin
                .as_ref()
                .and_then(|b| {
                    limit_run(
                        b,
                        &models_dir,
                        model,
                        if model == "grid_20k" {
                            50_000
                        } else {
                            2_000_000
                        },
                        1,
                        &probe.first_output,
                    )
                })
                .map_or(f64::NAN, |r| r.rate);
            eprintln!(
                "{model}/{mname}: setup {:.3} s, probe {} it/s (compute), limit probe {} it/s, evaluation: {}",
                setup0.e2e_secs,
                si(rate1),
                si(limit_rate1),
                probe.evaluation
            );
            let mut configs: Vec<Config> = thread_counts
                .iter()
                .map(|&t| {
                    let n = round_up(rate1 * t as f64 * secs, 8192);
                    let limit_n = if limit_rate1.is_finite() {
                        round_up(limit_rate1 * t as f64 * secs, 1024)
                    } else {
                        0
                    };
                    Config {
                        threads: t,
                        n,
                        runs: Vec::new(),
                        setup: Vec::new(),
                        limit_n,
                        limit: Vec::new(),
                    }
                })
                .collect();
            for rep in 0..reps {
                for c in configs.iter_mut() {
                    let s = mcsim_run(&path, 1024, c.threads, method, false);
                    c.setup.push(s.e2e_secs);
                    let r = mcsim_run(&path, c.n, c.threads, method, true);
                    eprintln!(
                        "  round {} {model}/{mname} mcsim {}T: {} it/s e2e ({:.2} s, other load {:.2})",
                        rep + 1,
                        c.threads,
                        si(r.e2e_rate),
                        r.e2e_secs,
                        r.other_load
                    );
                    let first_output = r.first_output.clone();
                    c.runs.push(r);
                    if let Some(bin) = &limit_bin
                        && let Some(l) =
                            limit_run(bin, &models_dir, model, c.limit_n, c.threads, &first_output)
                    {
                        eprintln!(
                            "  round {} {model} rust-limit {}T: {} it/s (other load {:.2})",
                            rep + 1,
                            c.threads,
                            si(l.rate),
                            l.other_load
                        );
                        c.limit.push(l);
                    }
                }
            }
            // Report.
            println!();
            println!(
                "## {model} ({mname}, evaluation: {})",
                configs[0].runs[0].evaluation
            );
            println!();
            println!(
                "| implementation | threads | iterations/run | it/s median | min – max | other load (cores, median) | ÷ limit 1T per round | ÷ limit 2T per round |"
            );
            println!("|---|---:|---:|---:|---:|---:|---|---|");
            let lim_at = |t: usize| {
                configs
                    .iter()
                    .find(|c| c.threads == t)
                    .map(|c| c.limit.iter().map(|l| l.rate).collect::<Vec<f64>>())
            };
            let l1 = lim_at(1).unwrap_or_default();
            let l2 = lim_at(2).unwrap_or_default();
            let per_round = |xs: &[f64], lim: &[f64]| -> (Vec<f64>, f64) {
                let r: Vec<f64> = xs.iter().zip(lim).map(|(a, b)| a / b).collect();
                let m = median(&r);
                (r, m)
            };
            let fmt_rounds = |(r, m): (Vec<f64>, f64)| -> String {
                if r.is_empty() {
                    "–".into()
                } else {
                    format!(
                        "**{}** ({})",
                        fmt_ratio(m),
                        r.iter()
                            .map(|x| format!("{x:.3}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            };
            let mut phases: Vec<String> = Vec::new();
            for c in &configs {
                let e2e: Vec<f64> = c.runs.iter().map(|r| r.e2e_rate).collect();
                let setup = median(&c.setup);
                let compute: Vec<f64> = c
                    .runs
                    .iter()
                    .map(|r| r.iterations as f64 / (r.compute_end_secs - setup).max(1e-9))
                    .collect();
                let stats: Vec<f64> = c
                    .runs
                    .iter()
                    .map(|r| r.e2e_secs - r.compute_end_secs)
                    .collect();
                let load: Vec<f64> = c.runs.iter().map(|r| r.other_load).collect();
                for (label, xs) in [
                    ("mcsim end-to-end", &e2e),
                    ("mcsim compute (excl. load & stats)", &compute),
                ] {
                    let (lo, hi) = min_max(xs);
                    println!(
                        "| {label} | {} | {} | **{}** | {} – {} | {:.2} | {} | {} |",
                        c.threads,
                        c.n,
                        si(median(xs)),
                        si(lo),
                        si(hi),
                        median(&load),
                        fmt_rounds(per_round(xs, &l1)),
                        fmt_rounds(per_round(xs, &l2)),
                    );
                }
                let compute_secs: Vec<f64> =
                    c.runs.iter().map(|r| r.compute_end_secs - setup).collect();
                phases.push(format!(
                    "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} |",
                    c.threads,
                    c.n,
                    median(&c.runs.iter().map(|r| r.e2e_secs).collect::<Vec<_>>()),
                    setup,
                    median(&compute_secs),
                    median(&stats),
                    median(&stats) / c.n as f64 * 1e6,
                ));
                if c.threads == 1 {
                    summary_rows.push(format!(
                        "| {model} | {mname} | {} | {} | {} | {} | {} |",
                        c.runs[0].evaluation,
                        si(median(&e2e)),
                        si(median(&compute)),
                        fmt_ratio(per_round(&e2e, &l1).1),
                        fmt_ratio(per_round(&compute, &l1).1),
                    ));
                }
            }
            for c in &configs {
                if c.limit.is_empty() {
                    continue;
                }
                let xs: Vec<f64> = c.limit.iter().map(|l| l.rate).collect();
                let load: Vec<f64> = c.limit.iter().map(|l| l.other_load).collect();
                let (lo, hi) = min_max(&xs);
                println!(
                    "| rust-limit (sampling + eval{}) | {} | {} | **{}** | {} – {} | {:.2} | {} | {} |",
                    if model == "grid_20k" {
                        ", --simd-math"
                    } else {
                        ""
                    },
                    c.threads,
                    c.limit_n,
                    si(median(&xs)),
                    si(lo),
                    si(hi),
                    median(&load),
                    fmt_rounds(per_round(&xs, &l1)),
                    fmt_rounds(per_round(&xs, &l2)),
                );
            }
            println!();
            println!(
                "mcsim phases (median seconds): load+compile = a 1,024-iteration run; compute = to the last progress call minus that; stats = statistics + sensitivity after the last chunk"
            );
            println!();
            println!(
                "| threads | iterations | end-to-end | load+compile | compute | stats+sensitivity | stats µs/iteration |"
            );
            println!("|---:|---:|---:|---:|---:|---:|---:|");
            for p in &phases {
                println!("{p}");
            }
            // Scaling and a sanity check that both computed the same model.
            let m1 = configs.iter().find(|c| c.threads == 1);
            let m2 = configs.iter().find(|c| c.threads == 2);
            if let (Some(a), Some(b)) = (m1, m2) {
                let sc: Vec<f64> = a
                    .runs
                    .iter()
                    .zip(&b.runs)
                    .map(|(x, y)| y.e2e_rate / x.e2e_rate)
                    .collect();
                let lsc: Vec<f64> = a
                    .limit
                    .iter()
                    .zip(&b.limit)
                    .map(|(x, y)| y.rate / x.rate)
                    .collect();
                println!();
                println!(
                    "2T ÷ 1T per round: mcsim end-to-end **{}** ({}); rust-limit **{}**",
                    fmt_ratio(median(&sc)),
                    sc.iter()
                        .map(|x| format!("{x:.2}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    fmt_ratio(median(&lsc))
                );
            }
            if let Some(a) = m1 {
                let lm = a.limit.first().map_or(f64::NAN, |l| l.first_output_mean);
                println!(
                    "sanity: mean of `{}`: mcsim {:.6e}, rust-limit {:.6e} (different random streams; should agree to sampling error)",
                    a.runs[0].first_output, a.runs[0].first_output_mean, lm
                );
            }
        }
    }
    println!();
    println!("## Summary (1 thread; target: mcsim ≥ 1/3 of rust-limit 1T, i.e. ratio ≥ 0.333)");
    println!();
    println!(
        "| model | sampling | evaluation | mcsim e2e it/s | mcsim compute it/s | e2e ÷ limit 1T | compute ÷ limit 1T |"
    );
    println!("|---|---|---|---:|---:|---:|---:|");
    for r in &summary_rows {
        println!("{r}");
    }
    println!();
    println!("loadavg at end: {}", loadavg());
}
