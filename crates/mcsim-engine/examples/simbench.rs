//! Quick evaluation-only throughput of the compiled cone of a bench model (no sampling).
//! `cargo run --release -p mcsim-engine --example simbench -- bench/models/npv_project.xlsx Inputs!B2 ... -- Outputs!B2 ...`
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use mcsim_engine::sim::{Plan, Simulation};
use mcsim_engine::{Graph, Model};
use std::time::Instant;

fn cell(m: &Model, s: &str) -> u32 {
    let (sh, a) = s.split_once('!').unwrap();
    let (r, c) = mcsim_formula::parse_a1(a).unwrap();
    m.find(m.sheet_id(sh).unwrap(), r, c).unwrap()
}

fn micro() {
    use mcsim_engine::sim::program::{Arith, Instr, Operand, Program};
    let lanes = 1024;
    let mut p = Program {
        instrs: vec![],
        slots: 3,
    };
    for _ in 0..100 {
        p.instrs.push(Instr::Arith {
            op: Arith::Mul,
            dst: 2,
            a: Operand::Slot(0),
            b: Operand::Slot(1),
        });
    }
    let mut cols = mcsim_engine::sim::Columns::new(3, lanes);
    for s in 0..2 {
        cols.col_mut(s)
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = 1.0 + i as f64 * 1e-3);
    }
    let t = Instant::now();
    for _ in 0..1000 {
        p.run(&mut cols);
    }
    println!(
        "micro: {:.3} ns per lane-op",
        t.elapsed().as_nanos() as f64 / (1000.0 * 100.0 * lanes as f64)
    );
}

fn main() {
    micro();
    if std::env::var_os("MICRO_ONLY").is_some() {
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wb = mcsim_workbook::load(std::path::Path::new(&args[0]), &Default::default()).unwrap();
    let m = Model::from_workbook(&wb);
    let g = Graph::build(&m);
    let sep = args.iter().position(|a| a == "--").unwrap();
    let ins: Vec<u32> = args[1..sep].iter().map(|a| cell(&m, a)).collect();
    let outs: Vec<u32> = args[sep + 1..].iter().map(|a| cell(&m, a)).collect();
    let t = Instant::now();
    let sim = Simulation::prepare(&m, &g, &ins, &outs, &[], &[]);
    println!("prepare: {:?}", t.elapsed());
    match sim.plan() {
        Plan::Compiled(c) => println!(
            "compiled: {} instructions, {} slots",
            c.program.instrs.len(),
            c.program.slots
        ),
        Plan::Interpreted { reason, .. } => println!("interpreted: {reason:?}"),
    }
    let lanes: usize = std::env::var("LANES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let mut b = sim.block(lanes);
    for k in 0..ins.len() {
        for (i, x) in b.input_mut(k).iter_mut().enumerate() {
            *x = 1.0 + (i % 17) as f64 * 0.01;
        }
    }
    let mut out = vec![Vec::new(); outs.len()];
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed().as_secs_f64() < 2.0 {
        sim.run_block(&mut b, lanes, &mut out);
        n += lanes as u64;
    }
    println!(
        "{:.0} it/s (eval only, 1 thread)",
        n as f64 / t.elapsed().as_secs_f64()
    );
    if let Plan::Compiled(c) = sim.plan() {
        let mut cols = mcsim_engine::sim::Columns::new(c.program.slots, lanes);
        let mut acc = std::collections::BTreeMap::new();
        for _ in 0..200 {
            c.program.run_profiled(&mut cols, &mut acc);
        }
        let mut v: Vec<_> = acc.into_iter().collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1.0));
        for (k, (ns, n)) in v.iter().take(12) {
            println!(
                "{k:<16} {:>8.1} us/block  {:>5} instrs",
                *ns as f64 / 200e3,
                n / 200
            );
        }
    }
    println!(
        "first outputs: {:?}",
        out.iter().map(|o| o[0]).collect::<Vec<_>>()
    );
}
