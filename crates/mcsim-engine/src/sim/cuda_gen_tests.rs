#![allow(clippy::unwrap_used, clippy::print_stderr)]
use super::host::{HostKernel, compiler_available};
use super::*;
use crate::sim::program::{Columns, Kernel3};

/// The CPU executor's outputs for input columns `ins` (slots 0..ins.len()), non-finite as NaN.
fn cpu(p: &Program, ins: &[Vec<f64>], outputs: &[Operand]) -> Vec<Vec<f64>> {
    let lanes = ins[0].len();
    let mut c = Columns::new(p.slots, lanes);
    for (k, col) in ins.iter().enumerate() {
        c.col_mut(k as u32).copy_from_slice(col);
    }
    p.run(&mut c);
    outputs
        .iter()
        .map(|o| {
            let v: Vec<f64> = match o {
                Operand::Slot(s) => c.col(*s).to_vec(),
                Operand::Const(k) => vec![*k; lanes],
            };
            v.into_iter()
                .map(|x| if x.is_finite() { x } else { f64::NAN })
                .collect()
        })
        .collect()
}

/// Edge values and a fixed xorshift sequence: errors, zeros, infinities' neighbours, rounding
/// ties, negative bases.
fn values(seed: u64, n: usize) -> Vec<f64> {
    let mut v = vec![
        f64::NAN,
        0.0,
        -0.0,
        1.0,
        -1.0,
        2.5,
        -2.5,
        0.5,
        1.005,
        2.675,
        -8.0,
        1.0 / 3.0,
        1e308,
        -1e308,
        1e-310,
        3.0,
        64.0,
        0.125,
        1e15 + 0.5,
        123_456.785,
    ];
    let mut s = seed;
    while v.len() < n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let u = (s >> 11) as f64 / (1u64 << 53) as f64;
        v.push(match v.len() % 4 {
            0 => (u - 0.5) * 20.0,
            1 => (u * 1e6).round() / 1e3,
            2 => (u - 0.5) * 1e-3,
            _ => ((u - 0.5) * 40.0).round() / 4.0,
        });
    }
    v
}

fn check(p: &Program, n_in: usize, outputs: &[Operand]) {
    if !compiler_available() {
        eprintln!(
            "SKIPPED: no host C++ compiler ({}) for the shim test",
            host::compiler()
        );
        return;
    }
    // Every pair of values: column 0 takes each value against every value of column 1.
    let base = values(0x9e37_79b9_7f4a_7c15, 60);
    let mut ins: Vec<Vec<f64>> = vec![Vec::new(); n_in];
    for (a, &x) in base.iter().enumerate() {
        for (b, &y) in base.iter().enumerate() {
            ins[0].push(x);
            if n_in > 1 {
                ins[1].push(y);
            }
            for (k, col) in ins.iter_mut().enumerate().skip(2) {
                col.push(base[(a * 7 + b * 3 + k) % base.len()]);
            }
        }
    }
    let lanes = ins[0].len();
    let inputs: Vec<Option<u32>> = (0..n_in as u32).map(Some).collect();
    let k = generate(p, &inputs, outputs).unwrap();
    let hk = HostKernel::compile(&k).unwrap();
    let got = hk.run(&ins, lanes).unwrap();
    let want = cpu(p, &ins, outputs);
    for (o, (g, w)) in got.iter().zip(&want).enumerate() {
        for i in 0..lanes {
            let same = g[i].to_bits() == w[i].to_bits() || (g[i].is_nan() && w[i].is_nan());
            assert!(
                same,
                "output {o}, lane {i} (inputs {:?}): host shim {:e}, CPU {:e}\n{:?}",
                ins.iter().map(|c| c[i]).collect::<Vec<_>>(),
                g[i],
                w[i],
                p.instrs
            );
        }
    }
}

fn s(i: u32) -> Operand {
    Operand::Slot(i)
}
fn k(x: f64) -> Operand {
    Operand::Const(x)
}

#[test]
fn arithmetic_comparisons_and_selection_match_the_cpu() {
    let mut instrs = Vec::new();
    let mut outs = Vec::new();
    let mut d = 2;
    let mut push = |i: Instr, d: &mut u32, outs: &mut Vec<Operand>| {
        instrs.push(i);
        outs.push(s(*d));
        *d += 1;
    };
    for op in [Arith::Add, Arith::Sub, Arith::Mul, Arith::Div, Arith::Pow] {
        push(
            Instr::Arith {
                op,
                dst: d,
                a: s(0),
                b: s(1),
            },
            &mut d,
            &mut outs,
        );
        push(
            Instr::Arith {
                op,
                dst: d,
                a: s(0),
                b: k(3.0),
            },
            &mut d,
            &mut outs,
        );
        push(
            Instr::Arith {
                op,
                dst: d,
                a: k(-8.0),
                b: s(1),
            },
            &mut d,
            &mut outs,
        );
    }
    for n in [0, 1, 2, 3, 5, -1, -2, -7, 13] {
        push(Instr::PowI { dst: d, a: s(0), n }, &mut d, &mut outs);
    }
    push(
        Instr::PowI {
            dst: d,
            a: k(0.0),
            n: 0,
        },
        &mut d,
        &mut outs,
    );
    push(Instr::Neg { dst: d, a: s(0) }, &mut d, &mut outs);
    for op in [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge] {
        push(
            Instr::Compare {
                op,
                dst: d,
                a: s(0),
                b: s(1),
            },
            &mut d,
            &mut outs,
        );
        push(
            Instr::Compare {
                op,
                dst: d,
                a: s(0),
                b: k(1.0),
            },
            &mut d,
            &mut outs,
        );
    }
    push(
        Instr::Select {
            dst: d,
            cond: s(0),
            t: s(1),
            f: k(7.0),
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::Select {
            dst: d,
            cond: k(0.0),
            t: s(1),
            f: s(0),
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::Select {
            dst: d,
            cond: k(f64::NAN),
            t: s(1),
            f: s(0),
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::IfError {
            dst: d,
            a: s(0),
            alt: s(1),
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::IsError {
            dst: d,
            a: s(0),
            negate: false,
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::IsError {
            dst: d,
            a: s(1),
            negate: true,
        },
        &mut d,
        &mut outs,
    );
    push(Instr::Copy { dst: d, a: s(1) }, &mut d, &mut outs);
    push(
        Instr::Copy {
            dst: d,
            a: k(f64::INFINITY),
        },
        &mut d,
        &mut outs,
    );
    let p = Program { instrs, slots: d };
    check(&p, 2, &outs);
}

#[test]
fn kernels_reductions_and_lookups_match_the_cpu() {
    let mut instrs = Vec::new();
    let mut outs = Vec::new();
    let mut d = 3;
    let mut push = |i: Instr, d: &mut u32, outs: &mut Vec<Operand>| {
        instrs.push(i);
        outs.push(s(*d));
        *d += 1;
    };
    for f in [
        Kernel1::Abs,
        Kernel1::Sqrt,
        Kernel1::Exp,
        Kernel1::Ln,
        Kernel1::Log10,
        Kernel1::Int,
        Kernel1::Sign,
    ] {
        push(Instr::Call1 { f, dst: d, a: s(0) }, &mut d, &mut outs);
    }
    for f in [
        Kernel2::Mod,
        Kernel2::Power,
        Kernel2::Round,
        Kernel2::RoundUp,
        Kernel2::RoundDown,
    ] {
        push(
            Instr::Call2 {
                f,
                dst: d,
                a: s(0),
                b: s(1),
            },
            &mut d,
            &mut outs,
        );
    }
    for op in [
        Reduce::Sum,
        Reduce::Product,
        Reduce::Min,
        Reduce::Max,
        Reduce::Average,
    ] {
        for konst in [None, Some(2.5)] {
            push(
                Instr::Reduce {
                    op,
                    dst: d,
                    slots: vec![0, 1, 2],
                    konst,
                    count: 4,
                },
                &mut d,
                &mut outs,
            );
        }
    }
    push(
        Instr::Npv {
            dst: d,
            rate: s(0),
            flows: vec![s(1), k(100.0), s(2), k(-5.0)],
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::Npv {
            dst: d,
            rate: k(0.1),
            flows: vec![s(1), s(2)],
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::SumProduct {
            dst: d,
            a: vec![s(0), k(2.0), s(2)],
            b: vec![s(1), s(1), k(3.0)],
        },
        &mut d,
        &mut outs,
    );
    for op in [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge] {
        push(
            Instr::CountIf {
                dst: d,
                items: vec![s(0), s(1), k(1.0), k(5.0), s(2)],
                op,
                rhs: 1.0,
            },
            &mut d,
            &mut outs,
        );
    }
    push(
        Instr::MatchExact {
            dst: d,
            key: s(0),
            items: vec![s(1), k(1.0), k(-1.0), s(2)],
        },
        &mut d,
        &mut outs,
    );
    push(
        Instr::Index {
            dst: d,
            items: vec![s(1), k(4.0), s(2)],
            idx: s(0),
        },
        &mut d,
        &mut outs,
    );
    for exact in [false, true] {
        push(
            Instr::LookupApprox {
                dst: d,
                exact,
                key: s(0),
                keys: vec![k(-1.0), k(0.0), k(0.5), k(3.0), k(10.0)],
                values: vec![s(1), k(2.0), s(2), k(4.0), k(5.0)],
            },
            &mut d,
            &mut outs,
        );
    }
    for mode in [RoundMode::Nearest, RoundMode::Up, RoundMode::Down] {
        for scale in [1.0, 100.0, 0.01, 1e3] {
            push(
                Instr::Round {
                    dst: d,
                    a: s(0),
                    scale,
                    mode,
                },
                &mut d,
                &mut outs,
            );
            push(
                Instr::Round {
                    dst: d,
                    a: s(2),
                    scale,
                    mode,
                },
                &mut d,
                &mut outs,
            );
        }
    }
    outs.push(k(42.0));
    outs.push(k(f64::INFINITY));
    let p = Program { instrs, slots: d };
    check(&p, 3, &outs);
}

#[test]
fn unported_instructions_are_typed_errors() {
    let cases = [
        (
            Instr::Call1 {
                f: Kernel1::NormSInv,
                dst: 1,
                a: s(0),
            },
            "Call1 norm_s_inv",
        ),
        (
            Instr::Call3 {
                f: Kernel3::NormInv,
                dst: 1,
                args: [s(0), k(0.0), k(1.0)],
            },
            "Call3 norm_inv",
        ),
        (
            Instr::Quantile {
                dst: 1,
                vendor: "RISK".into(),
                dist: "NORMAL".into(),
                shift: 0.0,
                args: vec![s(0), k(1.0)],
                u: s(0),
            },
            "Quantile RISK NORMAL",
        ),
        (
            Instr::LookupApprox {
                dst: 1,
                exact: false,
                key: s(0),
                keys: vec![k(3.0), k(1.0)],
                values: vec![k(1.0), k(2.0)],
            },
            "LookupApprox",
        ),
    ];
    for (ins, what) in cases {
        let p = Program {
            instrs: vec![ins],
            slots: 2,
        };
        let e = generate(&p, &[Some(0)], &[s(1)]).unwrap_err();
        match &e {
            GenError::Unsupported {
                instr: Some(0),
                what: w,
            } => assert!(w.starts_with(&format!("instruction 0 ({what}")), "{w}"),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("not supported on the GPU"), "{e}");
    }
    // Reading a slot nothing wrote, and inputs outside the program.
    let p = Program {
        instrs: vec![Instr::Neg { dst: 1, a: s(2) }],
        slots: 3,
    };
    assert_eq!(
        generate(&p, &[Some(0)], &[s(1)]).unwrap_err(),
        GenError::ReadsUnset { instr: 0, slot: 2 }
    );
    assert!(matches!(
        generate(&p, &[Some(5)], &[s(1)]).unwrap_err(),
        GenError::BadSlot { slot: 5, .. }
    ));
}

#[test]
fn constants_are_exact_c_literals() {
    for x in [0.1, -0.0, 1e-310, f64::MAX, -2.5e-7, 123_456.785] {
        let l = lit(x);
        let t = l.trim_start_matches("(-").trim_end_matches(')');
        let v: f64 = t.parse().unwrap();
        let v = if l.starts_with("(-") { -v } else { v };
        assert_eq!(v.to_bits(), x.to_bits(), "{l}");
    }
    assert_eq!(lit(f64::NAN), "mc_nan()");
    assert_eq!(lit(f64::NEG_INFINITY), "(-mc_inf())");
}
