//! What the executor relies on, checked: [`Program::validate`], and each instruction's slots.

use super::{Instr, Operand, Program};

/// Why a program cannot run (one read from outside the compiler, say).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgramError {
    /// An instruction names a slot beyond the program's columns.
    #[error("instruction {instr} uses slot {slot}, but the program has {slots} slots")]
    SlotOutOfRange {
        /// Index of the instruction.
        instr: usize,
        /// The slot.
        slot: u32,
        /// The program's slot count.
        slots: u32,
    },
    /// An instruction reads the slot it writes.
    #[error("instruction {instr} reads its own destination slot {slot}")]
    ReadsDestination {
        /// Index of the instruction.
        instr: usize,
        /// The slot.
        slot: u32,
    },
}

impl Instr {
    /// The slot the instruction writes.
    pub fn dst(&self) -> u32 {
        match self {
            Instr::Arith { dst, .. }
            | Instr::PowI { dst, .. }
            | Instr::Neg { dst, .. }
            | Instr::Compare { dst, .. }
            | Instr::Select { dst, .. }
            | Instr::IfError { dst, .. }
            | Instr::IsError { dst, .. }
            | Instr::Call1 { dst, .. }
            | Instr::Call2 { dst, .. }
            | Instr::Call3 { dst, .. }
            | Instr::Reduce { dst, .. }
            | Instr::Npv { dst, .. }
            | Instr::SumProduct { dst, .. }
            | Instr::CountIf { dst, .. }
            | Instr::MatchExact { dst, .. }
            | Instr::LookupApprox { dst, .. }
            | Instr::Quantile { dst, .. }
            | Instr::Index { dst, .. }
            | Instr::Round { dst, .. }
            | Instr::Copy { dst, .. } => *dst,
        }
    }

    /// Calls `f` with every slot the instruction reads.
    pub fn for_each_read(&self, mut f: impl FnMut(u32)) {
        let mut op = |o: &Operand| {
            if let Operand::Slot(s) = o {
                f(*s)
            }
        };
        match self {
            Instr::Arith { a, b, .. } | Instr::Compare { a, b, .. } | Instr::Call2 { a, b, .. } => {
                op(a);
                op(b);
            }
            Instr::IfError { a, alt, .. } => {
                op(a);
                op(alt);
            }
            Instr::PowI { a, .. }
            | Instr::Neg { a, .. }
            | Instr::IsError { a, .. }
            | Instr::Call1 { a, .. }
            | Instr::Round { a, .. }
            | Instr::Copy { a, .. } => op(a),
            Instr::Select { cond, t, f, .. } => [cond, t, f].into_iter().for_each(op),
            Instr::Call3 { args, .. } => args.iter().for_each(op),
            Instr::Reduce { slots, .. } => slots.iter().for_each(|&s| op(&Operand::Slot(s))),
            Instr::Npv { rate, flows, .. } => {
                op(rate);
                flows.iter().for_each(op);
            }
            Instr::SumProduct { a, b, .. } => a.iter().chain(b).for_each(op),
            Instr::CountIf { items, .. } => items.iter().for_each(op),
            Instr::MatchExact { key, items, .. } => {
                op(key);
                items.iter().for_each(op);
            }
            Instr::Quantile { args, u, .. } => {
                op(u);
                args.iter().for_each(op);
            }
            Instr::LookupApprox {
                key, keys, values, ..
            } => {
                op(key);
                keys.iter().chain(values).for_each(op);
            }
            Instr::Index { items, idx, .. } => {
                op(idx);
                items.iter().for_each(op);
            }
        }
    }
}

impl Program {
    /// Checks what the executor relies on: every slot is below [`Program::slots`], and no
    /// instruction reads the slot it writes. The compiler's programs always pass; a program read
    /// from elsewhere (a file, another process) must be checked before it runs, which every
    /// [`Backend`](crate::sim::backend::Backend) does when it loads one.
    pub fn validate(&self) -> Result<(), ProgramError> {
        let slots = self.slots;
        for (instr, ins) in self.instrs.iter().enumerate() {
            let dst = ins.dst();
            let mut bad = None;
            ins.for_each_read(|s| {
                if bad.is_none() {
                    if s >= slots {
                        bad = Some(ProgramError::SlotOutOfRange {
                            instr,
                            slot: s,
                            slots,
                        });
                    } else if s == dst {
                        bad = Some(ProgramError::ReadsDestination { instr, slot: s });
                    }
                }
            });
            if dst >= slots {
                return Err(ProgramError::SlotOutOfRange {
                    instr,
                    slot: dst,
                    slots,
                });
            }
            if let Some(e) = bad {
                return Err(e);
            }
        }
        Ok(())
    }
}
