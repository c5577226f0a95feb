//! One million Latin Hypercube uniforms (N = 2²⁰) in blocks of 4,096 (or the block size given
//! as the argument), for profilers: `valgrind --tool=callgrind target/release/examples/profile_lhs 64`.
#![allow(clippy::print_stdout)]
use mcsim_sampling::Streams;
fn main() {
    let block: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(4096);
    let streams = Streams::new(1);
    let n = 1u64 << 20;
    let mut buf = vec![0.0; block as usize];
    let mut sum = 0.0;
    for b in 0..n / block {
        streams.fill_lhs_uniforms(3, n, b * block, &mut buf);
        sum += buf.iter().sum::<f64>();
    }
    println!("{sum}");
}
