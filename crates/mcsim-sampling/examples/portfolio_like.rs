//! 51 normal inputs x 1M iterations, Latin Hypercube, tasks of 8192 (as `mcsim run` on
//! portfolio_risk): for timing the sampler with `time` (user CPU).
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
