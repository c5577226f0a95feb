//! The program is data: it round-trips through JSON and runs to the same bits.

#![allow(clippy::unwrap_used, clippy::panic, clippy::print_stderr)]

use super::{Kernel1, Kernel2, Kernel3, Program};
use crate::quick::workbook;
use crate::sim::backend::{Backend, CpuBackend, LoadedProgram};
use crate::sim::{Columns, Compiled, Plan, Simulation};
use crate::{CellId, Graph, Model};

/// Every kernel the compiler emits, and constants JSON has no number for.
const CELLS: &[(&str, &str)] = &[
    ("A1", "0.3"),
    ("B1", "=ABS(A1-0.5)"),
    ("B2", "=SQRT(A1)"),
    ("B3", "=EXP(A1)"),
    ("B4", "=LN(A1)"),
    ("B5", "=LOG10(A1)"),
    ("B6", "=INT(A1*10)"),
    ("B7", "=SIGN(A1-0.5)"),
    ("B8", "=NORM.S.INV(A1)"),
    ("B9", "=ROUND(A1*100,INT(A1*3))"),
    ("B10", "=ROUNDUP(A1*100,INT(A1*3))"),
    ("B11", "=ROUNDDOWN(A1*100,INT(A1*3))"),
    ("B12", "=MOD(A1*17,3)"),
    ("B13", "=POWER(A1,1.5)"),
    ("B14", "=NORM.INV(A1,10,2)"),
    ("B15", "=LOGNORM.INV(A1,0,1)"),
    ("B16", "=RANDBETWEEN(1,6)+A1"),
    ("B17", "=MOD(A1)"),
    ("B18", "=IF(A1>0.5,A1,1/0)"),
    ("B19", "=A1^0.5+ROUND(A1,2)"),
    ("B20", "=CEILING(A1*7,0.5)"),
    ("B21", "=FLOOR(A1*7,0.5)"),
    ("B22", "=CEILING.PRECISE(A1*7,2)"),
    ("B23", "=FLOOR.PRECISE(A1*7,2)"),
];

fn id(m: &Model, a1: &str) -> CellId {
    let (r, c) = mcsim_formula::parse_a1(a1).unwrap();
    m.find(0, r, c).unwrap()
}

/// Runs `program` over `lanes` lanes with every input column of `c` filled deterministically;
/// returns every column.
fn run(c: &Compiled, program: &Program, lanes: usize) -> Vec<Vec<f64>> {
    let loaded = CpuBackend.load(program).unwrap();
    let mut cols = Columns::new(loaded.slots(), lanes);
    let inputs = c.input_slots.iter().chain(c.site_slots.iter().flatten());
    for (k, &slot) in inputs.enumerate() {
        for (i, v) in cols.col_mut(slot).iter_mut().enumerate() {
            // Spread over (0, 1), with a few lanes on the edges.
            *v = match i % 17 {
                0 => 0.0,
                1 => 1.0,
                _ => ((i * 7919 + k * 104_729) % 1000) as f64 / 1000.0 + 0.0005,
            };
        }
    }
    loaded.run_block(&mut cols).unwrap();
    (0..program.slots).map(|s| cols.col(s).to_vec()).collect()
}

fn bits(cols: &[Vec<f64>]) -> Vec<Vec<u64>> {
    cols.iter()
        .map(|c| c.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// Compiles [`CELLS`] (every kernel) and hands `f` the compiled plan.
fn with_every_kernel(f: impl FnOnce(&Compiled)) {
    let m = Model::from_workbook(&workbook(CELLS));
    let g = Graph::build(&m);
    let outs: Vec<CellId> = CELLS[1..].iter().map(|(a, _)| id(&m, a)).collect();
    let sim = Simulation::prepare(&m, &g, &[id(&m, "A1")], &outs, &[], &[]);
    let Plan::Compiled(c) = sim.plan() else {
        panic!("not compiled: {:?}", sim.plan());
    };
    f(c);
}

#[test]
fn a_program_with_every_kernel_round_trips_through_json_and_runs_to_the_same_bits() {
    with_every_kernel(round_trip);
}

fn round_trip(c: &Compiled) {
    let json = serde_json::to_string(&*c.program).unwrap();
    for id in Kernel1::ALL
        .iter()
        .map(|k| k.id())
        .chain(Kernel2::ALL.iter().map(|k| k.id()))
        .chain(Kernel3::ALL.iter().map(|k| k.id()))
    {
        assert!(json.contains(&format!("\"{id}\"")), "no {id} in {json}");
    }
    assert!(json.contains("\"NaN\""), "no error constant in {json}");
    let back: Program = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
    assert_eq!(back.instrs.len(), c.program.instrs.len());
    let (a, b) = (run(c, &c.program, 256), run(c, &back, 256));
    assert_eq!(bits(&a), bits(&b));
    // And the outputs are the kernels' values, not all errors.
    let finite = a.iter().flatten().filter(|v| v.is_finite()).count();
    assert!(finite > a.len() * 128, "{finite} finite values");
}

#[test]
fn a_program_read_back_is_validated_before_it_runs() {
    let json = r#"{"instrs":[{"Call1":{"f":"sqrt","dst":1,"a":{"Slot":5}}}],"slots":2}"#;
    let p: Program = serde_json::from_str(json).unwrap();
    assert!(CpuBackend.load(&p).is_err());
    assert!(serde_json::from_str::<Program>(&json.replace("sqrt", "cbrt")).is_err());
    let k = r#"{"instrs":[{"Copy":{"dst":0,"a":{"Const":"-inf"}}}],"slots":1}"#;
    let p: Program = serde_json::from_str(k).unwrap();
    assert_eq!(
        p.instrs[0],
        super::Instr::Copy {
            dst: 0,
            a: super::Operand::Const(f64::NEG_INFINITY)
        }
    );
}

#[test]
fn wide_lanes_give_the_baseline_bits() {
    // Every kernel, on an odd number of lanes (the vector loops' remainders too), run by
    // `Program::run` (512-bit loops where the processor has AVX-512) and by `run_baseline`.
    with_every_kernel(wide_and_baseline);
}

fn wide_and_baseline(c: &Compiled) {
    let lanes = 509;
    let filled = || {
        let mut cols = Columns::new(c.program.slots, lanes);
        let inputs = c.input_slots.iter().chain(c.site_slots.iter().flatten());
        for (k, &slot) in inputs.enumerate() {
            for (i, v) in cols.col_mut(slot).iter_mut().enumerate() {
                *v = match i % 23 {
                    0 => 0.0,
                    1 => 1.0,
                    2 => f64::NAN,
                    _ => ((i * 7919 + k * 104_729) % 1000) as f64 / 1000.0 + 0.0005,
                };
            }
        }
        cols
    };
    let (mut a, mut b) = (filled(), filled());
    c.program.run(&mut a);
    c.program.run_baseline(&mut b);
    let all = |cols: &Columns| -> Vec<Vec<f64>> {
        (0..c.program.slots).map(|s| cols.col(s).to_vec()).collect()
    };
    assert_eq!(bits(&all(&a)), bits(&all(&b)));
    #[cfg(target_arch = "x86_64")]
    if !mcsim_sampling::wide_lanes() {
        eprintln!("this processor has no AVX-512: both runs took the baseline loops");
    }
}
