//! Micro-benchmark of the sampler: samples per second, one thread, blocks of 4,096 iterations.
//!
//! `cargo run --release -p mcsim-sampling --example bench_sampling [name filter]`
//!
//! Indicative figures (M samples/s: MC, LHS, inverse only) on a shared 2-core x86-64-v3 VM, best
//! of 8 runs each:
//!
//! | distribution         | before: Halley per sample | after: quintic quantile table |
//! |----------------------|---------------------------|-------------------------------|
//! | pert(10, 12, 20)     | 2.4 / 2.4 / 2.4           | 50 / 40 / 60                  |
//! | gamma(2.5, 1)        | 4 / 4 / 5                 | 45 / 38 / 57                  |
//! | normal(10, 2)        | 45 / 40 / 90              | (unchanged)                   |
//! | uniforms only        | 230 / 110                 | (unchanged)                   |
//!
//! Preparing a PERT sampler now builds its table: about 1.5 ms instead of 0.2 ms.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use mcsim_sampling::{Distribution, Method, Sampler, SamplingError, Streams};

const BLOCK: usize = 4096;
const SAMPLES: usize = 1 << 23;
const REPS: usize = 8;

/// Samples per second of `f` filling blocks: the best of `REPS` runs of `SAMPLES / REPS` samples
/// (the best run is the least disturbed by other load on the machine).
fn rate(f: impl FnMut(u64, &mut [f64])) -> f64 {
    rate_in(BLOCK, f)
}

/// [`rate`] with blocks of `block` iterations.
fn rate_in(block: usize, mut f: impl FnMut(u64, &mut [f64])) -> f64 {
    let mut buf = vec![0.0; block];
    f(0, &mut buf); // warm up
    let per_rep = SAMPLES / REPS;
    let mut best: f64 = 0.0;
    for rep in 0..REPS {
        let start = Instant::now();
        for b in 0..per_rep / block {
            f((rep * per_rep + b * block) as u64, &mut buf);
            black_box(&buf);
        }
        best = best.max(per_rep as f64 / start.elapsed().as_secs_f64());
    }
    best
}

fn main() -> Result<(), SamplingError> {
    // An optional argument keeps only the distributions whose name contains it.
    let filter = std::env::args().nth(1);
    let streams = Streams::new(1);
    println!(
        "{:<34} {:>14} {:>14} {:>14}",
        "", "MC (M/s)", "LHS (M/s)", "inverse (M/s)"
    );
    // The "inverse" column times the transform alone, on fixed Monte Carlo uniforms.
    let mut uniforms = vec![0.0; BLOCK];
    streams.fill_uniforms(0, 0, &mut uniforms);
    let mc = rate(|i, b| streams.fill_uniforms(0, i, b));
    let lhs = rate(|i, b| streams.fill_lhs_uniforms(0, SAMPLES as u64, i, b));
    println!(
        "{:<34} {:>14.1} {:>14.1}",
        "uniforms only",
        mc / 1e6,
        lhs / 1e6
    );
    // The run pipeline also draws in blocks of as few as 16 iterations.
    for block in [512, 64] {
        let mc = rate_in(block, |i, b| streams.fill_uniforms(0, i, b));
        let lhs = rate_in(block, |i, b| {
            streams.fill_lhs_uniforms(0, SAMPLES as u64, i, b)
        });
        println!(
            "{:<34} {:>14.1} {:>14.1}",
            format!("uniforms only, blocks of {block}"),
            mc / 1e6,
            lhs / 1e6
        );
    }
    let cases = [
        (
            "normal(10, 2)",
            Distribution::Normal {
                mean: 10.0,
                sd: 2.0,
            },
        ),
        (
            "lognormal(10, 4)",
            Distribution::Lognormal {
                mean: 10.0,
                sd: 4.0,
            },
        ),
        (
            "triangular(1, 3, 10)",
            Distribution::Triangular {
                min: 1.0,
                mode: 3.0,
                max: 10.0,
            },
        ),
        (
            "pert(10, 12, 20)",
            Distribution::Pert {
                min: 10.0,
                mode: 12.0,
                max: 20.0,
                lambda: 4.0,
            },
        ),
        (
            "discrete(4 values)",
            Distribution::Discrete {
                values: vec![1.0, 2.0, 5.0, 10.0],
                weights: vec![0.1, 0.2, 0.3, 0.4],
            },
        ),
        (
            "uniform(0, 1)",
            Distribution::Uniform { min: 0.0, max: 1.0 },
        ),
        (
            "gamma(2.5, 1)",
            Distribution::Gamma {
                shape: 2.5,
                scale: 1.0,
            },
        ),
        ("student(5)", Distribution::Student { nu: 5.0 }),
        ("poisson(12)", Distribution::Poisson { lambda: 12.0 }),
        ("expon(3)", Distribution::Expon { mean: 3.0 }),
    ];
    for (name, d) in cases {
        if !filter.as_ref().is_none_or(|f| name.contains(f.as_str())) {
            continue;
        }
        let s = Sampler::new(&d)?;
        let mc = rate(|i, b| s.sample_into(Method::MonteCarlo, &streams, 1, SAMPLES as u64, i, b));
        let lhs =
            rate(|i, b| s.sample_into(Method::LatinHypercube, &streams, 1, SAMPLES as u64, i, b));
        let inv = rate(|_, b| {
            b.copy_from_slice(&uniforms);
            s.transform(b);
        });
        println!(
            "{name:<34} {:>14.1} {:>14.1} {:>14.1}",
            mc / 1e6,
            lhs / 1e6,
            inv / 1e6
        );
    }
    // Preparation cost (tables built once per input).
    let pert = Distribution::Pert {
        min: 10.0,
        mode: 12.0,
        max: 20.0,
        lambda: 4.0,
    };
    let start = Instant::now();
    for _ in 0..100 {
        black_box(Sampler::new(black_box(&pert))?);
    }
    println!(
        "prepare pert: {:.0} us",
        start.elapsed().as_secs_f64() * 1e6 / 100.0
    );
    Ok(())
}
