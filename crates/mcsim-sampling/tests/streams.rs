//! Counter-based streams and Latin Hypercube design blocks: bits depend only on (seed, input,
//! iteration), never on how the iteration range is split.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mcsim_sampling::{DESIGN_BLOCK, Distribution, Method, Sampler, Streams, sample_block};

const B: usize = DESIGN_BLOCK;

fn fill(streams: &Streams, method: Method, input: u64, first: u64, len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    streams.fill(method, input, first, &mut out);
    out
}

/// Fills `first .. first + len` piece by piece at the given cut points.
fn fill_split(
    streams: &Streams,
    method: Method,
    input: u64,
    first: u64,
    len: usize,
    cuts: &[usize],
) -> Vec<f64> {
    let mut out = vec![0.0; len];
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&len)) {
        streams.fill(method, input, first + start as u64, &mut out[start..end]);
        start = end;
    }
    out
}

#[test]
fn uniforms_are_open_and_on_the_grid() {
    let s = Streams::new(1);
    for method in [Method::MonteCarlo, Method::LatinHypercube] {
        for u in fill(&s, method, 0, 0, 100_000) {
            assert!(u > 0.0 && u < 1.0);
            // (2k + 1)·2⁻⁵³: an odd multiple of 2⁻⁵³.
            let k = u * 2f64.powi(53);
            assert_eq!(k.fract(), 0.0);
            assert_eq!(k as u64 % 2, 1);
        }
    }
}

#[test]
fn lhs_puts_exactly_one_sample_in_each_stratum_of_a_full_block() {
    let s = Streams::new(99);
    for block in [0u64, 1, 7] {
        for input in [0u64, 3] {
            let us = fill(&s, Method::LatinHypercube, input, block * B as u64, B);
            let mut hits = vec![0u32; B];
            for u in us {
                hits[(u * B as f64) as usize] += 1;
            }
            assert!(hits.iter().all(|&h| h == 1), "block {block} input {input}");
        }
    }
    // A range straddling two blocks covers each stratum once per block.
    let us = fill(&s, Method::LatinHypercube, 5, B as u64, 2 * B);
    for half in us.chunks(B) {
        let mut hits = vec![false; B];
        for &u in half {
            hits[(u * B as f64) as usize] = true;
        }
        assert!(hits.iter().all(|&h| h));
    }
}

#[test]
fn any_split_of_the_iteration_range_gives_identical_bits() {
    let s = Streams::new(2024);
    let first = 3 * B as u64 - 1234;
    let len = 2 * B + 5000;
    let splits: [&[usize]; 4] = [
        &[1],
        &[1, 777, 1234, 1235, B + 17],
        &[4096, 8192, 12288, 16384, 20480, 24576, 28672, 32768],
        &[len - 1],
    ];
    for method in [Method::MonteCarlo, Method::LatinHypercube] {
        let whole = fill(&s, method, 11, first, len);
        for cuts in splits {
            let pieces = fill_split(&s, method, 11, first, len, cuts);
            assert!(
                whole
                    .iter()
                    .zip(&pieces)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{method:?} split {cuts:?}"
            );
        }
        // A single iteration computed on its own matches.
        let one = fill(&s, method, 11, first + 20_000, 1);
        assert_eq!(one[0].to_bits(), whole[20_000].to_bits());
    }
}

#[test]
fn seeds_and_inputs_give_different_streams() {
    for method in [Method::MonteCarlo, Method::LatinHypercube] {
        let a = fill(&Streams::new(1), method, 0, 0, 1000);
        let same = fill(&Streams::new(1), method, 0, 0, 1000);
        let b = fill(&Streams::new(2), method, 0, 0, 1000);
        let c = fill(&Streams::new(1), method, 1, 0, 1000);
        assert_eq!(a, same);
        assert!(a.iter().zip(&b).filter(|(x, y)| x == y).count() == 0);
        assert!(a.iter().zip(&c).filter(|(x, y)| x == y).count() == 0);
    }
}

#[test]
fn sample_block_is_independent_of_the_block_size() {
    let samplers: Vec<Sampler> = [
        Distribution::Normal { mean: 0.0, sd: 1.0 },
        Distribution::Pert {
            min: 1.0,
            mode: 2.0,
            max: 9.0,
            lambda: 4.0,
        },
        Distribution::Discrete {
            values: vec![1.0, 2.0, 3.0],
            weights: vec![1.0, 1.0, 2.0],
        },
        Distribution::Gamma {
            shape: 0.7,
            scale: 2.0,
        },
        Distribution::Student { nu: 5.0 },
    ]
    .iter()
    .map(|d| Sampler::new(d).unwrap())
    .collect();
    let streams = Streams::new(5);
    let total = 3 * 4096 + 100;
    for method in [Method::MonteCarlo, Method::LatinHypercube] {
        let mut whole = vec![0.0; samplers.len() * total];
        sample_block(&samplers, method, &streams, 0, &mut whole).unwrap();
        for block in [1000usize, 4096, 3001] {
            let mut start = 0;
            while start < total {
                let n = block.min(total - start);
                let mut out = vec![0.0; samplers.len() * n];
                sample_block(&samplers, method, &streams, start as u64, &mut out).unwrap();
                for k in 0..samplers.len() {
                    let got = &out[k * n..(k + 1) * n];
                    let want = &whole[k * total + start..k * total + start + n];
                    assert!(
                        got.iter()
                            .zip(want)
                            .all(|(a, b)| a.to_bits() == b.to_bits())
                    );
                }
                start += n;
            }
        }
    }
    let mut bad = vec![0.0; 7];
    assert!(sample_block(&samplers, Method::MonteCarlo, &streams, 0, &mut bad).is_err());
}

#[test]
fn lhs_reduces_the_error_of_the_mean() {
    // Over a full design block, LHS means of a normal are far tighter than Monte Carlo's
    // standard error (1/√B ≈ 0.0078).
    let s = Sampler::new(&Distribution::Normal { mean: 0.0, sd: 1.0 }).unwrap();
    let streams = Streams::new(8);
    for input in 0..10 {
        let mut xs = vec![0.0; B];
        s.sample_into(Method::LatinHypercube, &streams, input, 0, &mut xs);
        let mean = xs.iter().sum::<f64>() / B as f64;
        assert!(mean.abs() < 1e-4, "input {input}: {mean}");
    }
}
