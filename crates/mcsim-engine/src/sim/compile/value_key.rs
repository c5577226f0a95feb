//! The key of value numbering: an instruction about to be emitted, hashed and compared without
//! printing it.
//!
//! Value numbering used to key its map by the instruction's `{:?}` text; on a 20,000-formula
//! model printing and SipHashing that text was a fifth of the time spent preparing a run. A
//! [`ValueKey`] is equal to another exactly when their `{:?}` texts are equal (so the compiler
//! shares exactly the instructions it shared before): operands and operations compared as values,
//! and constants compared as `{:?}` prints them, which is bit for bit (`0.0` and `-0.0` stay
//! apart) except that every NaN is the same NaN. The common instructions (reductions too: grid_20k has
//! 5,700 `MIN`s) are hashed and compared field by field; the rest (lookups, quantiles, ...) hash their `{:?}` text through a hasher
//! without building a string, and compare it only when the hashes meet.

use super::super::program::{Instr, Operand};
use std::fmt::{self, Write};
use std::hash::{Hash, Hasher};

/// An instruction as a value-numbering key (see the module documentation).
pub(super) struct ValueKey(pub(super) Instr);

/// A constant's identity as `{:?}` prints it: its bits, with one NaN.
fn const_bits(k: f64) -> u64 {
    if k.is_nan() {
        f64::NAN.to_bits()
    } else {
        k.to_bits()
    }
}

fn hash_operand<H: Hasher>(o: &Operand, h: &mut H) {
    match o {
        Operand::Slot(s) => {
            h.write_u8(0);
            h.write_u32(*s);
        }
        Operand::Const(k) => {
            h.write_u8(1);
            h.write_u64(const_bits(*k));
        }
    }
}

fn same_operand(a: &Operand, b: &Operand) -> bool {
    match (a, b) {
        (Operand::Slot(x), Operand::Slot(y)) => x == y,
        (Operand::Const(x), Operand::Const(y)) => const_bits(*x) == const_bits(*y),
        _ => false,
    }
}

/// Feeds formatted text to a hasher (no string is built).
struct HashWriter<'h, H>(&'h mut H);

impl<H: Hasher> Write for HashWriter<'_, H> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl Hash for ValueKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(&self.0).hash(h);
        match &self.0 {
            Instr::Arith { op, dst, a, b } => {
                op.hash(h);
                h.write_u32(*dst);
                hash_operand(a, h);
                hash_operand(b, h);
            }
            Instr::Compare { op, dst, a, b } => {
                op.hash(h);
                h.write_u32(*dst);
                hash_operand(a, h);
                hash_operand(b, h);
            }
            Instr::Select { dst, cond, t, f } => {
                h.write_u32(*dst);
                hash_operand(cond, h);
                hash_operand(t, h);
                hash_operand(f, h);
            }
            Instr::Neg { dst, a } | Instr::Copy { dst, a } => {
                h.write_u32(*dst);
                hash_operand(a, h);
            }
            Instr::Call1 { f, dst, a } => {
                f.hash(h);
                h.write_u32(*dst);
                hash_operand(a, h);
            }
            Instr::Call2 { f, dst, a, b } => {
                f.hash(h);
                h.write_u32(*dst);
                hash_operand(a, h);
                hash_operand(b, h);
            }
            Instr::Call3 { f, dst, args } => {
                f.hash(h);
                h.write_u32(*dst);
                args.iter().for_each(|o| hash_operand(o, h));
            }
            Instr::Reduce {
                op,
                dst,
                slots,
                konst,
                count,
            } => {
                op.hash(h);
                h.write_u32(*dst);
                slots.hash(h);
                konst.map(const_bits).hash(h);
                h.write_u32(*count);
            }
            other => {
                // Writing to a hasher cannot fail; the text is the `{:?}` the key compares.
                let _ = write!(HashWriter(h), "{other:?}");
            }
        }
    }
}

impl PartialEq for ValueKey {
    fn eq(&self, other: &Self) -> bool {
        use Instr as I;
        match (&self.0, &other.0) {
            (
                I::Arith { op, dst, a, b },
                I::Arith {
                    op: op2,
                    dst: dst2,
                    a: a2,
                    b: b2,
                },
            ) => op == op2 && dst == dst2 && same_operand(a, a2) && same_operand(b, b2),
            (
                I::Compare { op, dst, a, b },
                I::Compare {
                    op: op2,
                    dst: dst2,
                    a: a2,
                    b: b2,
                },
            ) => op == op2 && dst == dst2 && same_operand(a, a2) && same_operand(b, b2),
            (
                I::Select { dst, cond, t, f },
                I::Select {
                    dst: dst2,
                    cond: c2,
                    t: t2,
                    f: f2,
                },
            ) => {
                dst == dst2 && same_operand(cond, c2) && same_operand(t, t2) && same_operand(f, f2)
            }
            (I::Neg { dst, a }, I::Neg { dst: dst2, a: a2 })
            | (I::Copy { dst, a }, I::Copy { dst: dst2, a: a2 }) => {
                dst == dst2 && same_operand(a, a2)
            }
            (
                I::Call1 { f, dst, a },
                I::Call1 {
                    f: f2,
                    dst: dst2,
                    a: a2,
                },
            ) => f == f2 && dst == dst2 && same_operand(a, a2),
            (
                I::Call2 { f, dst, a, b },
                I::Call2 {
                    f: f2,
                    dst: dst2,
                    a: a2,
                    b: b2,
                },
            ) => f == f2 && dst == dst2 && same_operand(a, a2) && same_operand(b, b2),
            (
                I::Call3 { f, dst, args },
                I::Call3 {
                    f: f2,
                    dst: dst2,
                    args: args2,
                },
            ) => f == f2 && dst == dst2 && args.iter().zip(args2).all(|(x, y)| same_operand(x, y)),
            (
                I::Reduce {
                    op,
                    dst,
                    slots,
                    konst,
                    count,
                },
                I::Reduce {
                    op: op2,
                    dst: dst2,
                    slots: slots2,
                    konst: konst2,
                    count: count2,
                },
            ) => {
                op == op2
                    && dst == dst2
                    && slots == slots2
                    && konst.map(const_bits) == konst2.map(const_bits)
                    && count == count2
            }
            // The rest are rare and compared only when their hashes meet.
            (x, y) => {
                std::mem::discriminant(x) == std::mem::discriminant(y)
                    && format!("{x:?}") == format!("{y:?}")
            }
        }
    }
}

impl Eq for ValueKey {}

#[cfg(test)]
mod tests {
    use super::super::super::program::{Arith, Kernel1, Reduce};
    use super::*;
    use std::hash::BuildHasher;

    fn key_hash(i: &Instr) -> u64 {
        rustc_hash::FxBuildHasher.hash_one(ValueKey(i.clone()))
    }

    fn arith(op: Arith, a: Operand, b: Operand) -> Instr {
        Instr::Arith {
            op,
            dst: u32::MAX,
            a,
            b,
        }
    }

    /// Every pair of a varied set of instructions: keys are equal exactly when the `{:?}` texts
    /// are (the old key), and equal keys hash alike.
    #[test]
    fn equal_exactly_when_debug_text_is_equal() {
        let (s0, s1) = (Operand::Slot(0), Operand::Slot(1));
        let k = Operand::Const;
        let instrs = vec![
            arith(Arith::Add, s0, s1),
            arith(Arith::Add, s1, s0),
            arith(Arith::Mul, s0, s1),
            arith(Arith::Add, s0, k(0.0)),
            arith(Arith::Add, s0, k(-0.0)),
            arith(Arith::Add, s0, k(f64::NAN)),
            arith(Arith::Add, s0, k(-f64::NAN)),
            arith(Arith::Add, s0, k(f64::from_bits(f64::NAN.to_bits() | 1))),
            arith(Arith::Add, s0, k(0.1)),
            arith(Arith::Add, s0, k(1.0 / 10.0)),
            arith(Arith::Add, s0, k(f64::from_bits(0.1f64.to_bits() + 1))),
            Instr::Arith {
                op: Arith::Add,
                dst: 7,
                a: s0,
                b: s1,
            },
            Instr::Neg { dst: 1, a: s0 },
            Instr::Copy { dst: 1, a: s0 },
            Instr::Call1 {
                f: Kernel1::Sqrt,
                dst: 1,
                a: s0,
            },
            Instr::Call1 {
                f: Kernel1::Abs,
                dst: 1,
                a: s0,
            },
            Instr::Reduce {
                op: Reduce::Max,
                dst: 1,
                slots: vec![0, 1],
                konst: None,
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Max,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(-0.0),
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Max,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(0.0),
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Max,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(f64::NAN),
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Max,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(-f64::NAN),
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Min,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(0.0),
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Max,
                dst: 1,
                slots: vec![1, 0],
                konst: Some(0.0),
                count: 2,
            },
            Instr::Reduce {
                op: Reduce::Average,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(0.0),
                count: 3,
            },
            Instr::Reduce {
                op: Reduce::Average,
                dst: 1,
                slots: vec![0, 1],
                konst: Some(0.0),
                count: 2,
            },
        ];
        for x in &instrs {
            for y in &instrs {
                let by_text = format!("{x:?}") == format!("{y:?}");
                let by_key = ValueKey(x.clone()) == ValueKey(y.clone());
                assert_eq!(by_key, by_text, "{x:?} vs {y:?}");
                if by_key {
                    assert_eq!(key_hash(x), key_hash(y), "{x:?} vs {y:?}");
                }
            }
        }
        // The pairs that must meet: NaNs of any sign or payload, and a constant equal to itself.
        assert!(ValueKey(instrs[5].clone()) == ValueKey(instrs[6].clone()));
        assert!(ValueKey(instrs[5].clone()) == ValueKey(instrs[7].clone()));
        assert!(ValueKey(instrs[8].clone()) == ValueKey(instrs[9].clone()));
        // And those that must not: 0.0 and -0.0, neighbouring floats.
        assert!(ValueKey(instrs[3].clone()) != ValueKey(instrs[4].clone()));
        assert!(ValueKey(instrs[8].clone()) != ValueKey(instrs[10].clone()));
    }
}
