#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
//! The `run` operation end to end on the bench models (copied into `bench/models`).

use mcsim_ops::run::{RunOptions, run};
use std::path::PathBuf;

fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/models").join(name)
}

fn opts(name: &str, n: u64, seed: u64) -> RunOptions {
    RunOptions {
        workbook: model(name),
        iterations: Some(n),
        seed: Some(seed),
        ..RunOptions::default()
    }
}

#[test]
fn npv_risk_model_runs_compiled() {
    let r = run(&opts("npv_project_risk.xlsx", 20_000, 7), &|_, _| {}).unwrap();
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    assert_eq!(r.inputs.len(), 8);
    let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert!(names.contains(&"NPV"), "{names:?}");
    for o in &r.outputs {
        println!("{} mean {} sd {} p5 {:?}", o.name, o.summary.mean, o.summary.std_dev, o.summary.percentile(0.05));
    }
}

#[test]
fn debug_inputs() {
    use mcsim_sampling::{Method, Sampler, Streams};
    let r = run(&opts("npv_project_risk.xlsx", 1000, 7), &|_, _| {}).unwrap();
    for i in &r.inputs {
        let s = Sampler::with_modifiers(i.distribution.as_ref().unwrap(), i.modifiers.unwrap()).unwrap();
        let mut v = vec![0.0; 5];
        s.sample_into(Method::LatinHypercube, &Streams::new(1), 0, 0, &mut v);
        println!("{} {:?} {:?}", i.name, i.distribution, v);
    }
}
