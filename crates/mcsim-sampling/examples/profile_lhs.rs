//! One million Latin Hypercube uniforms (N = 1M) in blocks of 4,096, for profilers.
#![allow(clippy::print_stdout)]
use mcsim_sampling::Streams;
fn main() {
    let streams = Streams::new(1);
    let n = 1u64 << 20;
    let mut buf = vec![0.0; 4096];
    let mut sum = 0.0;
    for b in 0..n / 4096 {
        streams.fill_lhs_uniforms(3, n, b * 4096, &mut buf);
        sum += buf.iter().sum::<f64>();
    }
    println!("{sum}");
}
