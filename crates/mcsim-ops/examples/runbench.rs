//! `cargo run --release -p mcsim-ops --example runbench -- WORKBOOK ITERATIONS THREADS`: one run, its rate.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let opts = mcsim_ops::run::RunOptions {
        workbook: a[0].clone().into(),
        iterations: Some(a[1].parse().unwrap()),
        threads: Some(a[2].parse().unwrap()),
        seed: Some(1),
        sampling: a.get(3).and_then(|m| mcsim_ops::run::parse_method(m)),
        ..Default::default()
    };
    let r = mcsim_ops::run::run(&opts, &|_, _| {}).unwrap();
    println!(
        "{} {:.0} it/s ({}), {:.2}s",
        a[0], r.iterations_per_second, r.evaluation, r.elapsed_seconds
    );
}
