#![allow(clippy::unwrap_used, clippy::panic)]
//! The compiled program is data (issue 9): a bench model's program serialises to JSON, reads back
//! equal, and runs on the CPU backend to bit-identical columns.

use mcsim_engine::sim::backend::{Backend, CpuBackend, LoadedProgram};
use mcsim_engine::sim::inputs::detect;
use mcsim_engine::sim::{Columns, Compiled, Plan, Program, Simulation};
use mcsim_engine::{CellId, Evaluator, Graph, Model};
use mcsim_workbook::{LoadOptions, load};
use std::path::PathBuf;

fn run(c: &Compiled, program: &Program, lanes: usize) -> Vec<Vec<u64>> {
    let loaded = CpuBackend.load(program).unwrap();
    let mut cols = Columns::new(loaded.slots(), lanes);
    let inputs = c.input_slots.iter().chain(c.site_slots.iter().flatten());
    for (k, &slot) in inputs.enumerate() {
        let base = cols.col(slot).len();
        for (i, v) in cols.col_mut(slot).iter_mut().enumerate() {
            *v = (((i + base) * 7919 + k * 104_729) % 1000) as f64 / 1000.0 + 0.0005;
        }
    }
    loaded.run_block(&mut cols).unwrap();
    (0..program.slots)
        .map(|s| cols.col(s).iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn round_trip(model: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/models")
        .join(model);
    let wb = load(&path, &LoadOptions::default()).unwrap();
    let m = Model::from_workbook(&wb);
    let g = Graph::build(&m);
    let mut ev = Evaluator::new(&m);
    ev.run(&g.order);
    let det = detect(&m, &mut ev);
    let inputs: Vec<CellId> = det
        .inputs
        .iter()
        .filter(|d| d.whole_cell)
        .map(|d| d.cell)
        .collect();
    let outputs: Vec<CellId> = det.outputs.iter().map(|o| o.cell).collect();
    assert!(!inputs.is_empty() && !outputs.is_empty(), "{model}");
    let sim = Simulation::prepare(&m, &g, &inputs, &outputs, &[], &[]);
    let Plan::Compiled(c) = sim.plan() else {
        panic!("{model} not compiled: {:?}", sim.plan());
    };
    let json = serde_json::to_string(&*c.program).unwrap();
    let back: Program = serde_json::from_str(&json).unwrap();
    assert_eq!(back.instrs.len(), c.program.instrs.len());
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        json,
        "{model}: the program read back differs"
    );
    let (a, b) = (run(c, &c.program, 200), run(c, &back, 200));
    assert_eq!(a, b, "{model}: the program read back computes other bits");
    assert!(
        a.iter()
            .flatten()
            .any(|&v| f64::from_bits(v).is_finite() && v != 0),
        "{model}: nothing computed"
    );
}

#[test]
fn npv_project_program_round_trips_through_json() {
    round_trip("npv_project_risk.xlsx");
}

#[test]
fn grid_20k_program_round_trips_through_json() {
    round_trip("grid_20k_risk.xlsx");
}
