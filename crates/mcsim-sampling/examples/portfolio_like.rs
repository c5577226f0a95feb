//! 51 normal inputs x 1M iterations, Latin Hypercube, tasks of 8192 (as `mcsim run` on
//! portfolio_risk): for timing the sampler with `time` (user CPU). Second argument `uniform`:
//! the uniforms only; `strata`: the Latin Hypercube strata only (`Streams::lhs_strata`).
#![allow(clippy::print_stdout)]
use mcsim_sampling::{Distribution, Method, Sampler, Streams};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let method = if args.get(1).map(String::as_str) == Some("mc") {
        Method::MonteCarlo
    } else {
        Method::LatinHypercube
    };
    let what = args.get(2).cloned().unwrap_or_default();
    let n: u64 = 1_000_000;
    let streams = Streams::new(7);
    let s = Sampler::new(&Distribution::Normal {
        mean: 0.05,
        sd: 0.2,
    })
    .unwrap();
    if what == "strata" {
        // The statistics' strata hints: 51 whole designs of the permutation alone.
        let mut sum = 0u64;
        for k in 0..51u64 {
            let s = streams.lhs_strata(k, n).unwrap_or_default();
            sum += u64::from(s[0]) + u64::from(s[s.len() - 1]);
        }
        println!("{sum}");
        return;
    }
    let mut buf = vec![0.0; 8192];
    let mut sum = 0.0;
    let mut it = 0u64;
    while it < n {
        let len = (n - it).min(8192) as usize;
        for k in 0..51u64 {
            let b = &mut buf[..len];
            if what == "uniform" {
                streams.fill(method, k, n, it, b);
            } else {
                s.sample_into(method, &streams, k, n, it, b);
            }
            sum += b[0] + b[len - 1];
        }
        it += len as u64;
    }
    println!("{sum}");
}
