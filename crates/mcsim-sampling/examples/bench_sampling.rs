//! Micro-benchmark of the sampler: samples per second, one thread, blocks of 4,096 iterations.
//!
//! `cargo run --release -p mcsim-sampling --example bench_sampling`
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use mcsim_sampling::{Distribution, Method, Sampler, SamplingError, Streams};

const BLOCK: usize = 4096;
const SAMPLES: usize = 1 << 23;

fn rate(mut f: impl FnMut(u64, &mut [f64])) -> f64 {
    let mut buf = vec![0.0; BLOCK];
    f(0, &mut buf); // warm up
    let start = Instant::now();
    for b in 0..SAMPLES / BLOCK {
        f((b * BLOCK) as u64, &mut buf);
        black_box(&buf);
    }
    SAMPLES as f64 / start.elapsed().as_secs_f64()
}

fn main() -> Result<(), SamplingError> {
    let streams = Streams::new(1);
    println!("{:<34} {:>14} {:>14}", "", "MC (M/s)", "LHS (M/s)");
    let mc = rate(|i, b| streams.fill_uniforms(0, i, b));
    let lhs = rate(|i, b| streams.fill_lhs_uniforms(0, i, b));
    println!(
        "{:<34} {:>14.1} {:>14.1}",
        "uniforms only",
        mc / 1e6,
        lhs / 1e6
    );
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
        ("poisson(12)", Distribution::Poisson { lambda: 12.0 }),
        ("expon(3)", Distribution::Expon { mean: 3.0 }),
    ];
    for (name, d) in cases {
        let s = Sampler::new(&d)?;
        let mc = rate(|i, b| s.sample_into(Method::MonteCarlo, &streams, 1, i, b));
        let lhs = rate(|i, b| s.sample_into(Method::LatinHypercube, &streams, 1, i, b));
        println!("{name:<34} {:>14.1} {:>14.1}", mc / 1e6, lhs / 1e6);
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
