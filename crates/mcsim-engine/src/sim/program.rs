//! The flat block program: instructions over columns of lanes (one lane per iteration).
//!
//! Every instruction runs a tight loop over the lanes of a block, so dispatch is paid once per
//! instruction per block, never per cell per iteration, and the loops vectorise. An Excel error in a
//! lane is a NaN in that lane: it propagates through arithmetic for free, IFERROR/ISERROR test for
//! it, and the results count it as an error iteration.
//!
//! A [`Program`] is plain data: kernels are named by enumerated ids ([`Kernel1`], [`Kernel2`],
//! [`Kernel3`]), never by function pointers, and the program serialises with serde (a non-finite
//! constant as the string `"NaN"`, `"inf"` or `"-inf"`), so a code generator for another device can
//! translate the program the CPU runs.
//!
//! # What a backend implements
//!
//! A backend ([`super::backend::Backend`]) runs a program over blocks; the CPU executor below
//! ([`Program::run`]) is the reference, and another backend must give the same bits:
//!
//! - **Storage.** A block is `slots` columns of `lanes` `f64`s ([`Columns`]); lane `i` is one
//!   iteration, and lanes never interact. The caller fills the input columns (the compiler's
//!   `input_slots` and `site_slots`) and reads the output operands afterwards; turning a
//!   non-finite output into an error is the caller's job ([`super::Simulation::run_block`]).
//! - **Loading.** [`Program::validate`] first (a program may come from a file): every slot is
//!   below `slots`, and no instruction reads the slot it writes.
//! - **Order.** Instructions run in order; each writes its `dst` column for every lane. A slot is
//!   reused once its value is dead, so an instruction may overwrite a column read earlier.
//! - **Operands.** [`Operand::Slot`] reads the lane's value of a column; [`Operand::Const`] is the
//!   same value for every lane (NaN = an error constant).
//! - **Errors.** NaN is the error lane. Arithmetic that overflows to ±infinity is an error (NaN)
//!   where the instruction's docs say so; comparisons with an error side are errors; IFERROR and
//!   ISERROR/ISNUMBER test `is_nan`.
//! - **Kernels.** A call instruction gives NaN when any argument is NaN; otherwise it evaluates
//!   the kernel (`Kernel1::eval` and its siblings: the function library's arithmetic), and an
//!   `Err` is NaN. A device port must reproduce each kernel's operations exactly.
//! - **Bit-identity.** The same IEEE operations in the same order as the executor here: no fused
//!   multiply-add contraction, no fast-math, reductions in operand order (SUM adds the folded
//!   constant first, then each column in turn; NPV does `disc *= 1 + rate; sum += flow / disc`
//!   per flow). The differential tests (`sim::differential`) compare a backend's columns with
//!   the scalar interpreter.

use super::kernel::{Apply1, Apply2, Apply3};
pub use super::kernel::{Kernel1, Kernel2, Kernel3};
use mcsim_formula::ErrorKind;
use serde::{Deserialize, Serialize};
pub use validate::ProgramError;

mod float;
mod validate;

/// A value an instruction reads: a column, or a constant folded at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// A column (slot index).
    Slot(u32),
    /// A constant (NaN = an error constant).
    Const(#[serde(with = "float")] f64),
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Arith {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (division by zero gives an error lane)
    Div,
    /// `^` with a run-time exponent (Excel's rules)
    Pow,
}

/// Comparison operators (numeric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Reductions over a list of operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reduce {
    /// SUM
    Sum,
    /// PRODUCT
    Product,
    /// MIN
    Min,
    /// MAX
    Max,
    /// AVERAGE
    Average,
}

/// ROUND's variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoundMode {
    /// Half away from zero.
    Nearest,
    /// Away from zero.
    Up,
    /// Toward zero.
    Down,
}

/// The interpreter's ROUND/ROUNDUP/ROUNDDOWN (`functions::math`), for the lanes the fast path
/// cannot round exactly as it does.
#[inline(never)]
fn round_lane(x: f64, scale: f64, mode: RoundMode) -> f64 {
    use crate::functions::math;
    let digits = scale.log10().round();
    let r = match mode {
        RoundMode::Nearest => math::round_kernel(x, digits),
        RoundMode::Up => math::roundup_kernel(x, digits),
        RoundMode::Down => math::rounddown_kernel(x, digits),
    };
    r.unwrap_or(f64::NAN)
}

/// Does the fast path (`y = |x| * scale`, then floor/ceil) possibly differ from the interpreter,
/// which first rounds `y` to 15 significant digits? Only a hair from a rounding boundary (that
/// hair grows with `y`: 15 digits of 1e13 are tenths), or for huge `y`.
#[inline(always)]
fn round_near(y: f64, mode: RoundMode) -> bool {
    let fr = y - y.floor();
    let hair = 1e-9 + y * 1e-14;
    let dist = match mode {
        RoundMode::Nearest => (fr - 0.5).abs(),
        _ => fr.min(1.0 - fr),
    };
    // `|`, not `||`: no branches, so the test vectorises.
    y.is_nan() | (y >= 1e15) | (dist <= hair)
}

/// Lanes whose ROUND test is combined before any is redone.
const REDO_CHUNK: usize = 16;

/// One instruction. `dst` is always a slot that no operand of the same instruction uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Instr {
    /// `dst = a op b`
    Arith {
        /// Operator.
        op: Arith,
        /// Destination slot.
        dst: u32,
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `dst = a ^ n` for a constant integer `n` (repeated multiplication).
    PowI {
        /// Destination slot.
        dst: u32,
        /// Base.
        a: Operand,
        /// Exponent.
        n: i32,
    },
    /// `dst = -a`
    Neg {
        /// Destination slot.
        dst: u32,
        /// Operand.
        a: Operand,
    },
    /// `dst = (a cmp b) ? 1 : 0` (an error in either side gives an error lane)
    Compare {
        /// Operator.
        op: Cmp,
        /// Destination slot.
        dst: u32,
        /// Left.
        a: Operand,
        /// Right.
        b: Operand,
    },
    /// `dst = cond != 0 ? t : f` (IF; an error condition gives an error lane)
    Select {
        /// Destination slot.
        dst: u32,
        /// Condition.
        cond: Operand,
        /// Value if true.
        t: Operand,
        /// Value if false.
        f: Operand,
    },
    /// `dst = is_error(a) ? alt : a` (IFERROR)
    IfError {
        /// Destination slot.
        dst: u32,
        /// Value.
        a: Operand,
        /// Replacement for error lanes.
        alt: Operand,
    },
    /// `dst = is_error(a) ? 1 : 0` (ISERROR), or the opposite when `negate` (ISNUMBER).
    IsError {
        /// Destination slot.
        dst: u32,
        /// Value.
        a: Operand,
        /// ISNUMBER instead of ISERROR.
        negate: bool,
    },
    /// A one-argument kernel (ABS, SQRT, EXP, LN, NORM.S.INV, ...).
    Call1 {
        /// The kernel.
        f: Kernel1,
        /// Destination slot.
        dst: u32,
        /// Argument.
        a: Operand,
    },
    /// A two-argument kernel (ROUND, MOD, POWER, ...).
    Call2 {
        /// The kernel.
        f: Kernel2,
        /// Destination slot.
        dst: u32,
        /// First argument.
        a: Operand,
        /// Second argument.
        b: Operand,
    },
    /// A three-argument kernel (NORM.INV, LOGNORM.INV, RANDBETWEEN).
    Call3 {
        /// The kernel.
        f: Kernel3,
        /// Destination slot.
        dst: u32,
        /// Arguments.
        args: [Operand; 3],
    },
    /// A reduction (SUM, MIN, ...) over operands; constants are pre-combined into `konst`.
    Reduce {
        /// Which.
        op: Reduce,
        /// Destination slot.
        dst: u32,
        /// Column operands.
        slots: Vec<u32>,
        /// Folded constants (their SUM, PRODUCT, MIN or MAX; for AVERAGE their sum).
        #[serde(with = "float::opt")]
        konst: Option<f64>,
        /// For AVERAGE: how many values in all.
        count: u32,
    },
    /// NPV(rate, flows...)
    Npv {
        /// Destination slot.
        dst: u32,
        /// Rate.
        rate: Operand,
        /// Cash flows in order.
        flows: Vec<Operand>,
    },
    /// SUMPRODUCT of two equally long lists.
    SumProduct {
        /// Destination slot.
        dst: u32,
        /// First list.
        a: Vec<Operand>,
        /// Second list.
        b: Vec<Operand>,
    },
    /// `COUNTIF(list, "<op><rhs>")` with a numeric criterion.
    CountIf {
        /// Destination slot.
        dst: u32,
        /// The values tested.
        items: Vec<Operand>,
        /// The test.
        op: Cmp,
        /// The criterion's number.
        #[serde(with = "float")]
        rhs: f64,
    },
    /// MATCH(key, list, 0): the 1-based position of the first equal item, or an error lane.
    MatchExact {
        /// Destination slot.
        dst: u32,
        /// The key.
        key: Operand,
        /// The list.
        items: Vec<Operand>,
    },
    /// VLOOKUP/HLOOKUP/LOOKUP over constant keys (`NaN` for a key that is not a number): with an
    /// approximate match, the value beside the largest key `<=` the number, searched as Excel
    /// does; with an exact one, beside the first key equal to it.
    LookupApprox {
        /// Destination slot.
        dst: u32,
        /// An exact match.
        #[serde(default)]
        exact: bool,
        /// The number looked up.
        key: Operand,
        /// The keys: constants.
        keys: Vec<Operand>,
        /// The values beside them.
        values: Vec<Operand>,
    },
    /// A distribution call whose parameters change from iteration to iteration: the quantile at
    /// the site's uniform `u` with the iteration's parameters, plus `shift`
    /// ([`crate::sim::dists::dynamic_quantile`]).
    Quantile {
        /// Destination slot.
        dst: u32,
        /// `RISK`, `PSI` or `VOSE`.
        vendor: String,
        /// The distribution without its prefix (`NORMAL`).
        dist: String,
        /// `RiskShift`.
        #[serde(with = "float")]
        shift: f64,
        /// The parameters.
        args: Vec<Operand>,
        /// The uniform.
        u: Operand,
    },
    /// INDEX(list, i) over a one-dimensional list.
    Index {
        /// Destination slot.
        dst: u32,
        /// The list.
        items: Vec<Operand>,
        /// 1-based position.
        idx: Operand,
    },
    /// ROUND/ROUNDUP/ROUNDDOWN with a constant number of digits: `scale` = 10^digits.
    Round {
        /// Destination slot.
        dst: u32,
        /// Value.
        a: Operand,
        /// 10^digits.
        #[serde(with = "float")]
        scale: f64,
        /// Which rounding.
        mode: RoundMode,
    },
    /// `dst = a` (an output or cell that is a plain copy).
    Copy {
        /// Destination slot.
        dst: u32,
        /// Source.
        a: Operand,
    },
}

/// A compiled program.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// Instructions in execution order.
    pub instrs: Vec<Instr>,
    /// Number of slots (columns) a block needs.
    pub slots: u32,
}

#[inline(always)]
fn err_if_nonfinite(x: f64) -> f64 {
    if x.is_finite() { x } else { f64::NAN }
}

/// `value::numbers_equal` without branches: equal, or within 1e-15 relative (false for NaN).
#[inline(always)]
fn near_eq(x: f64, y: f64) -> bool {
    (x == y) | ((x - y).abs() <= x.abs().max(y.abs()) * 1e-15)
}

/// Column storage for one block: `slots` columns of `lanes` values, reused across blocks.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    cols: Vec<Vec<f64>>,
    scratch: Vec<f64>,
    lanes: usize,
}

impl Columns {
    /// Storage for `slots` columns of `lanes` lanes.
    pub fn new(slots: u32, lanes: usize) -> Self {
        Columns {
            cols: (0..slots).map(|_| vec![0.0; lanes]).collect(),
            scratch: vec![0.0; lanes],
            lanes,
        }
    }

    /// Number of columns.
    pub fn slots(&self) -> usize {
        self.cols.len()
    }

    /// Lanes per column.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// A column to read.
    pub fn col(&self, slot: u32) -> &[f64] {
        &self.cols[slot as usize]
    }

    /// A column to write (inputs are sampled straight into their columns).
    pub fn col_mut(&mut self, slot: u32) -> &mut [f64] {
        &mut self.cols[slot as usize]
    }

    fn take(&mut self, slot: u32) -> Vec<f64> {
        std::mem::take(&mut self.cols[slot as usize])
    }

    fn put(&mut self, slot: u32, v: Vec<f64>) {
        self.cols[slot as usize] = v;
    }
}

/// Reads an operand lane by lane without a branch per lane in the common cases.
enum Src<'a> {
    Col(&'a [f64]),
    K(f64),
}

impl Src<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> f64 {
        match self {
            Src::Col(c) => c[i],
            Src::K(k) => *k,
        }
    }
}

fn src<'a>(c: &'a Columns, o: Operand) -> Src<'a> {
    match o {
        Operand::Slot(s) => Src::Col(c.col(s)),
        Operand::Const(k) => Src::K(k),
    }
}

macro_rules! lanes2 {
    ($d:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        match ($a, $b) {
            (Src::Col(a), Src::Col(b)) => {
                for ((d, &$x), &$y) in $d.iter_mut().zip(a.iter()).zip(b.iter()) {
                    *d = $body;
                }
            }
            (Src::Col(a), Src::K($y)) => {
                for (d, &$x) in $d.iter_mut().zip(a.iter()) {
                    *d = $body;
                }
            }
            (Src::K($x), Src::Col(b)) => {
                for (d, &$y) in $d.iter_mut().zip(b.iter()) {
                    *d = $body;
                }
            }
            (Src::K($x), Src::K($y)) => {
                let v = $body;
                $d.iter_mut().each(|d| *d = v);
            }
        }
    };
}

/// The lane loop of a one-argument call: an error argument is an error lane, and so is an
/// `Err` from the kernel.
struct Lanes1<'a, 'b>(&'a mut [f64], Src<'b>);

impl Apply1 for Lanes1<'_, '_> {
    type Out = ();
    #[inline(always)]
    fn apply<F: Fn(f64) -> Result<f64, ErrorKind>>(self, f: F) {
        let Lanes1(d, sa) = self;
        // The kernel runs on every lane and the error lanes are selected afterwards (the
        // one-argument kernels are pure and cheap on NaN), with the operand's kind matched once
        // outside the loop: no branch per lane, so simple kernels (ABS, SQRT, INT) vectorise.
        let lane = |x: f64| {
            let r = f(x).unwrap_or(f64::NAN);
            if x.is_nan() { f64::NAN } else { r }
        };
        match sa {
            Src::Col(a) => d.iter_mut().zip(a).each(|(d, &x)| *d = lane(x)),
            Src::K(k) => d.fill(lane(k)),
        }
    }
}

/// The lane loop of a two-argument call (see [`Lanes1`]).
struct Lanes2<'a, 'b>(&'a mut [f64], Src<'b>, Src<'b>);

impl Apply2 for Lanes2<'_, '_> {
    type Out = ();
    #[inline(always)]
    fn apply<F: Fn(f64, f64) -> Result<f64, ErrorKind>>(self, f: F) {
        let Lanes2(d, sa, sb) = self;
        for (i, d) in d.iter_mut().enumerate() {
            let (x, y) = (sa.at(i), sb.at(i));
            *d = if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                f(x, y).unwrap_or(f64::NAN)
            };
        }
    }
}

/// The lane loop of a three-argument call (see [`Lanes1`]).
struct Lanes3<'a, 'b>(&'a mut [f64], Src<'b>, Src<'b>, Src<'b>);

impl Apply3 for Lanes3<'_, '_> {
    type Out = ();
    #[inline(always)]
    fn apply<F: Fn(f64, f64, f64) -> Result<f64, ErrorKind>>(self, f: F) {
        let Lanes3(d, sa, sb, sc) = self;
        for (i, d) in d.iter_mut().enumerate() {
            let (x, y, z) = (sa.at(i), sb.at(i), sc.at(i));
            *d = if x.is_nan() || y.is_nan() || z.is_nan() {
                f64::NAN
            } else {
                f(x, y, z).unwrap_or(f64::NAN)
            };
        }
    }
}

/// A reduction over columns: `d = fin(step(..step(step(init, col₀), col₁).., colₙ))` lane by
/// lane, the same operations in the same order as starting from `init` and folding each column in
/// turn, but with the start value folded into the first pass and `fin` into the last, so that
/// `MAX(0, x)` is one pass over the lanes instead of three (and no conditional store).
#[inline(always)]
fn reduce_into(
    d: &mut [f64],
    c: &Columns,
    slots: &[u32],
    init: f64,
    step: impl Fn(f64, f64) -> f64,
    fin: impl Fn(f64) -> f64,
) {
    match slots {
        [] => d.iter_mut().each(|v| *v = fin(init)),
        [only] => d
            .iter_mut()
            .zip(c.col(*only))
            .each(|(v, &x)| *v = fin(step(init, x))),
        [first, mid @ .., last] => {
            d.iter_mut()
                .zip(c.col(*first))
                .each(|(v, &x)| *v = step(init, x));
            for s in mid {
                d.iter_mut().zip(c.col(*s)).each(|(v, &x)| *v = step(*v, x));
            }
            d.iter_mut()
                .zip(c.col(*last))
                .each(|(v, &x)| *v = fin(step(*v, x)));
        }
    }
}

impl Program {
    /// Runs the program over one block whose input columns are already filled.
    ///
    /// On a processor with AVX-512 the lane loops run on 512-bit vectors (`Program::run_wide`):
    /// the same IEEE operations on each lane, so the same bits, in about half the instructions
    /// (a whole grid_20k run took 13% less CPU time, with an identical report; docs/benchmarks.md,
    /// session 7). Other builds and processors run [`Program::run_baseline`].
    pub fn run(&self, c: &mut Columns) {
        #[cfg(target_arch = "x86_64")]
        if mcsim_sampling::wide_lanes() {
            #[allow(unsafe_code)]
            // SAFETY: `run_wide` needs the AVX-512 features it is compiled for, and
            // `wide_lanes` has just found them on this processor.
            unsafe {
                self.run_wide(c)
            };
            return;
        }
        self.run_baseline(c);
    }

    /// [`Program::run`] with the lane loops compiled for the build's target only.
    pub fn run_baseline(&self, c: &mut Columns) {
        for ins in &self.instrs {
            exec(ins, c);
        }
    }

    /// [`Program::run`] with the lane loops compiled for AVX-512 (`exec` and every loop in it
    /// are inlined here, so they are compiled again with these features).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
    fn run_wide(&self, c: &mut Columns) {
        for ins in &self.instrs {
            exec(ins, c);
        }
    }
}

/// `for_each` as a plain `for` loop, always inlined. `for_each` on a zip of slices goes through
/// `Zip::fold`, which the compiler keeps as a function of its own when the caller is as large as
/// [`exec`], and a function of its own is compiled for the build's target only: in
/// [`Program::run_wide`] its loop would not get the wider vectors.
trait Each: Iterator + Sized {
    #[inline(always)]
    fn each(self, mut f: impl FnMut(Self::Item)) {
        for x in self {
            f(x);
        }
    }
}

impl<I: Iterator> Each for I {}

#[inline(always)]
fn exec(ins: &Instr, c: &mut Columns) {
    match ins {
        Instr::Arith { op, dst, a, b } => {
            let mut d = c.take(*dst);
            {
                let (sa, sb) = (src(c, *a), src(c, *b));
                // Overflow to ±infinity is #NUM! in Excel (an error lane), as in the interpreter's
                // `arith`: a branch-free select in the same loop, which still vectorises.
                match op {
                    Arith::Add => lanes2!(d, sa, sb, |x, y| err_if_nonfinite(x + y)),
                    Arith::Sub => lanes2!(d, sa, sb, |x, y| err_if_nonfinite(x - y)),
                    Arith::Mul => lanes2!(d, sa, sb, |x, y| err_if_nonfinite(x * y)),
                    Arith::Div => lanes2!(d, sa, sb, |x, y| {
                        // Computed unconditionally so the select vectorises.
                        let q = err_if_nonfinite(x / y);
                        if y == 0.0 { f64::NAN } else { q }
                    }),
                    Arith::Pow => lanes2!(d, sa, sb, |x, y| crate::eval::pow_kernel(x, y)),
                }
            }
            c.put(*dst, d);
        }
        Instr::PowI { dst, a, n } => {
            // Exponentiation by squaring with the exponent's bits in the outer loop, so each inner
            // loop is a plain multiplication over lanes that vectorises.
            let mut d = c.take(*dst);
            let mut b = std::mem::take(&mut c.scratch);
            match src(c, *a) {
                Src::Col(a) => b.copy_from_slice(a),
                Src::K(x) => b.iter_mut().each(|v| *v = x),
            }
            d.iter_mut().each(|v| *v = 1.0);
            let mut e = n.unsigned_abs();
            while e > 0 {
                if e & 1 == 1 {
                    d.iter_mut().zip(b.iter()).each(|(v, &x)| *v *= x);
                }
                e >>= 1;
                if e > 0 {
                    b.iter_mut().each(|x| *x *= *x);
                }
            }
            if *n < 0 {
                d.iter_mut()
                    .each(|v| *v = if *v == 0.0 { f64::NAN } else { 1.0 / *v });
            }
            if *n == 0 {
                // 0^0 is #NUM! in Excel.
                if let Src::Col(a) = src(c, *a) {
                    d.iter_mut().zip(a.iter()).each(|(v, &x)| {
                        if x == 0.0 || x.is_nan() {
                            *v = f64::NAN
                        }
                    });
                }
            }
            d.iter_mut().each(|v| *v = err_if_nonfinite(*v));
            c.scratch = b;
            c.put(*dst, d);
        }
        Instr::Neg { dst, a } => {
            let mut d = c.take(*dst);
            match src(c, *a) {
                Src::Col(a) => d.iter_mut().zip(a.iter()).each(|(d, &x)| *d = -x),
                Src::K(x) => d.iter_mut().each(|d| *d = -x),
            }
            c.put(*dst, d);
        }
        Instr::Compare { op, dst, a, b } => {
            let mut d = c.take(*dst);
            let (sa, sb) = (src(c, *a), src(c, *b));
            // One loop per operator (no match per lane), branch-free so it vectorises; an error
            // (NaN) on either side gives an error lane. Numbers equal to 15 significant digits
            // are equal, as for the interpreter (`value::compare`).
            macro_rules! cmp {
                (|$e:ident, $x:ident, $y:ident| $r:expr) => {
                    lanes2!(d, sa, sb, |$x, $y| {
                        let $e = near_eq($x, $y);
                        let r = if $r { 1.0 } else { 0.0 };
                        if ($x - $y).is_nan() { f64::NAN } else { r }
                    })
                };
            }
            match op {
                Cmp::Eq => cmp!(|e, x, y| e),
                Cmp::Ne => cmp!(|e, x, y| !e),
                Cmp::Lt => cmp!(|e, x, y| !e & (x < y)),
                Cmp::Le => cmp!(|e, x, y| e | (x < y)),
                Cmp::Gt => cmp!(|e, x, y| !e & (x > y)),
                Cmp::Ge => cmp!(|e, x, y| e | (x > y)),
            }
            c.put(*dst, d);
        }
        Instr::Select { dst, cond, t, f } => {
            let mut d = c.take(*dst);
            let (st, sf) = (src(c, *t), src(c, *f));
            match src(c, *cond) {
                Src::K(k) => {
                    let pick = if k.is_nan() {
                        Src::K(f64::NAN)
                    } else if k != 0.0 {
                        st
                    } else {
                        sf
                    };
                    match pick {
                        Src::Col(a) => d.copy_from_slice(a),
                        Src::K(v) => d.iter_mut().each(|x| *x = v),
                    }
                }
                Src::Col(cc) => {
                    // Branch-free per lane (both sides are already computed columns or
                    // constants), over zipped slices so that there is no bounds check either and
                    // the select compiles to a vector blend.
                    let pick = |k: f64, x: f64, y: f64| {
                        let v = if k != 0.0 { x } else { y };
                        if k.is_nan() { f64::NAN } else { v }
                    };
                    let dk = d.iter_mut().zip(cc);
                    match (st, sf) {
                        (Src::Col(a), Src::Col(b)) => dk
                            .zip(a.iter().zip(b))
                            .each(|((dv, &k), (&x, &y))| *dv = pick(k, x, y)),
                        (Src::Col(a), Src::K(y)) => {
                            dk.zip(a).each(|((dv, &k), &x)| *dv = pick(k, x, y))
                        }
                        (Src::K(x), Src::Col(b)) => {
                            dk.zip(b).each(|((dv, &k), &y)| *dv = pick(k, x, y))
                        }
                        (Src::K(x), Src::K(y)) => dk.each(|(dv, &k)| *dv = pick(k, x, y)),
                    }
                }
            }
            c.put(*dst, d);
        }
        Instr::IfError { dst, a, alt } => {
            let mut d = c.take(*dst);
            let (sa, sb) = (src(c, *a), src(c, *alt));
            lanes2!(d, sa, sb, |x, y| if x.is_nan() { y } else { x });
            c.put(*dst, d);
        }
        Instr::IsError { dst, a, negate } => {
            let mut d = c.take(*dst);
            let neg = *negate;
            let sa = src(c, *a);
            for (i, d) in d.iter_mut().enumerate() {
                *d = if sa.at(i).is_nan() != neg { 1.0 } else { 0.0 };
            }
            c.put(*dst, d);
        }
        // The kernel is picked once (`with`), outside the lane loop: one loop per kernel.
        Instr::Call1 { f, dst, a } => {
            let mut d = c.take(*dst);
            f.with(Lanes1(&mut d, src(c, *a)));
            c.put(*dst, d);
        }
        Instr::Call2 { f, dst, a, b } => {
            let mut d = c.take(*dst);
            f.with(Lanes2(&mut d, src(c, *a), src(c, *b)));
            c.put(*dst, d);
        }
        Instr::Call3 { f, dst, args } => {
            let mut d = c.take(*dst);
            let [x, y, z] = args.map(|o| src(c, o));
            f.with(Lanes3(&mut d, x, y, z));
            c.put(*dst, d);
        }
        Instr::Reduce {
            op,
            dst,
            slots,
            konst,
            count,
        } => {
            let mut d = c.take(*dst);
            let init = match (op, konst) {
                (_, Some(k)) => *k,
                (Reduce::Sum | Reduce::Average, None) => 0.0,
                (Reduce::Product, None) => 1.0,
                (Reduce::Min, None) => f64::INFINITY,
                (Reduce::Max, None) => f64::NEG_INFINITY,
            };
            // MIN/MAX of nothing numeric is 0 (an infinity here is the untouched start value).
            let zero_inf = |v: f64| if v.is_infinite() { 0.0 } else { v };
            match op {
                Reduce::Sum => reduce_into(&mut d, c, slots, init, |v, x| v + x, err_if_nonfinite),
                Reduce::Average => {
                    let n = *count as f64;
                    reduce_into(&mut d, c, slots, init, |v, x| v + x, |v| v / n)
                }
                Reduce::Product => {
                    reduce_into(&mut d, c, slots, init, |v, x| v * x, err_if_nonfinite)
                }
                // NaN must win (an error anywhere is an error): f64::min would drop it.
                Reduce::Min => reduce_into(
                    &mut d,
                    c,
                    slots,
                    init,
                    |v, x| if (x < v) | x.is_nan() { x } else { v },
                    zero_inf,
                ),
                Reduce::Max => reduce_into(
                    &mut d,
                    c,
                    slots,
                    init,
                    |v, x| if (x > v) | x.is_nan() { x } else { v },
                    zero_inf,
                ),
            }
            c.put(*dst, d);
        }
        Instr::Npv { dst, rate, flows } => {
            // The interpreter's `financial::npv`, operation for operation (same rounding):
            // disc *= 1 + rate; sum += flow / disc.
            let mut d = c.take(*dst);
            let mut disc = std::mem::take(&mut c.scratch);
            disc.iter_mut().each(|v| *v = 1.0);
            d.iter_mut().each(|v| *v = 0.0);
            let r = src(c, *rate);
            for fl in flows {
                match (&r, src(c, *fl)) {
                    (Src::Col(r), Src::Col(a)) => {
                        for ((v, q), (&x, &r)) in d
                            .iter_mut()
                            .zip(disc.iter_mut())
                            .zip(a.iter().zip(r.iter()))
                        {
                            *q *= 1.0 + r;
                            *v += x / *q;
                        }
                    }
                    (Src::Col(r), Src::K(x)) => {
                        for ((v, q), &r) in d.iter_mut().zip(disc.iter_mut()).zip(r.iter()) {
                            *q *= 1.0 + r;
                            *v += x / *q;
                        }
                    }
                    (Src::K(r), Src::Col(a)) => {
                        let f = 1.0 + r;
                        for ((v, q), &x) in d.iter_mut().zip(disc.iter_mut()).zip(a.iter()) {
                            *q *= f;
                            *v += x / *q;
                        }
                    }
                    (Src::K(r), Src::K(x)) => {
                        let f = 1.0 + r;
                        for (v, q) in d.iter_mut().zip(disc.iter_mut()) {
                            *q *= f;
                            *v += x / *q;
                        }
                    }
                }
            }
            // A rate of -1 is #DIV/0!; an error rate is an error even without flows.
            for (i, v) in d.iter_mut().enumerate() {
                let r = r.at(i);
                *v = if r == -1.0 || r.is_nan() {
                    f64::NAN
                } else {
                    err_if_nonfinite(*v)
                };
            }
            c.scratch = disc;
            c.put(*dst, d);
        }
        Instr::SumProduct { dst, a, b } => {
            let mut d = c.take(*dst);
            d.iter_mut().each(|v| *v = 0.0);
            for (x, y) in a.iter().zip(b) {
                match (src(c, *x), src(c, *y)) {
                    (Src::Col(p), Src::Col(q)) => d
                        .iter_mut()
                        .zip(p.iter().zip(q.iter()))
                        .each(|(v, (&p, &q))| *v += p * q),
                    (Src::Col(p), Src::K(k)) | (Src::K(k), Src::Col(p)) => {
                        d.iter_mut().zip(p.iter()).each(|(v, &p)| *v += p * k)
                    }
                    (Src::K(p), Src::K(q)) => d.iter_mut().each(|v| *v += p * q),
                }
            }
            d.iter_mut().each(|v| *v = err_if_nonfinite(*v));
            c.put(*dst, d);
        }
        Instr::CountIf {
            dst,
            items,
            op,
            rhs,
        } => {
            let mut d = c.take(*dst);
            let mut konst = 0.0;
            d.iter_mut().each(|v| *v = 0.0);
            let rhs = *rhs;
            // `criteria::Criterion::matches` for a number: equal to 15 significant digits is
            // equal; an error satisfies only `<>n` (NaN is never near-equal, never ordered).
            macro_rules! count {
                (|$e:ident, $x:ident| $t:expr) => {
                    for it in items {
                        match src(c, *it) {
                            Src::Col(a) => d.iter_mut().zip(a.iter()).each(|(v, &$x)| {
                                let $e = near_eq($x, rhs);
                                *v += if $t { 1.0 } else { 0.0 }
                            }),
                            Src::K($x) => {
                                let $e = near_eq($x, rhs);
                                konst += if $t { 1.0 } else { 0.0 }
                            }
                        }
                    }
                };
            }
            match op {
                Cmp::Eq => count!(|e, x| e),
                Cmp::Ne => count!(|e, x| !e),
                Cmp::Lt => count!(|e, x| !e & (x < rhs)),
                Cmp::Le => count!(|e, x| e | (x < rhs)),
                Cmp::Gt => count!(|e, x| !e & (x > rhs)),
                Cmp::Ge => count!(|e, x| e | (x > rhs)),
            }
            if konst != 0.0 {
                d.iter_mut().each(|v| *v += konst);
            }
            c.put(*dst, d);
        }
        Instr::MatchExact { dst, key, items } => {
            let mut d = c.take(*dst);
            let k = src(c, *key);
            let srcs: Vec<Src<'_>> = items.iter().map(|o| src(c, *o)).collect();
            for (i, v) in d.iter_mut().enumerate() {
                let key = k.at(i);
                *v = f64::NAN;
                if key.is_nan() {
                    continue;
                }
                for (j, s) in srcs.iter().enumerate() {
                    if s.at(i) == key {
                        *v = (j + 1) as f64;
                        break;
                    }
                }
            }
            c.put(*dst, d);
        }
        Instr::LookupApprox {
            dst,
            exact,
            key,
            keys,
            values,
        } => {
            let mut d = c.take(*dst);
            let k = src(c, *key);
            let ks: Vec<f64> = keys
                .iter()
                .map(|o| match o {
                    Operand::Const(x) => *x,
                    Operand::Slot(_) => f64::NAN,
                })
                .collect();
            let srcs: Vec<Src<'_>> = values.iter().map(|o| src(c, *o)).collect();
            for (i, v) in d.iter_mut().enumerate() {
                let t = k.at(i);
                *v = if t.is_nan() {
                    f64::NAN
                } else {
                    let at = if *exact {
                        ks.iter().position(|&x| x == t)
                    } else {
                        crate::functions::lookup::approx_asc_numbers(&ks, t)
                    };
                    match at {
                        Some(j) => srcs.get(j).map_or(f64::NAN, |s| s.at(i)),
                        None => f64::NAN,
                    }
                };
            }
            c.put(*dst, d);
        }
        Instr::Quantile {
            dst,
            vendor,
            dist,
            shift,
            args,
            u,
        } => {
            let mut d = c.take(*dst);
            let us = src(c, *u);
            let srcs: Vec<Src<'_>> = args.iter().map(|o| src(c, *o)).collect();
            let mut buf = vec![0.0; args.len()];
            // Resolved once per block: no string comparison and no allocation per lane.
            let call = crate::sim::dists::DynamicDist::new(vendor, dist);
            for (i, v) in d.iter_mut().enumerate() {
                let mut bad = us.at(i).is_nan();
                for (b, s) in buf.iter_mut().zip(&srcs) {
                    *b = s.at(i);
                    bad |= b.is_nan();
                }
                *v = if bad {
                    f64::NAN
                } else {
                    call.quantile(&buf, *shift, us.at(i))
                };
            }
            c.put(*dst, d);
        }
        Instr::Index { dst, items, idx } => {
            let mut d = c.take(*dst);
            let k = src(c, *idx);
            let srcs: Vec<Src<'_>> = items.iter().map(|o| src(c, *o)).collect();
            for (i, v) in d.iter_mut().enumerate() {
                let p = k.at(i);
                *v = if p.is_nan() || p < 1.0 || p as usize > srcs.len() {
                    f64::NAN
                } else {
                    srcs[p as usize - 1].at(i)
                };
            }
            c.put(*dst, d);
        }
        Instr::Round {
            dst,
            a,
            scale,
            mode,
        } => {
            let mut d = c.take(*dst);
            let (scale, mode) = (*scale, *mode);
            // Pass 1, branch-free (vectorises): plain rounding. Pass 2: redo the rare lanes a hair
            // from a boundary with Excel's 15-significant-digit rule.
            macro_rules! fast {
                ($f:expr) => {
                    match src(c, *a) {
                        Src::Col(a) => d
                            .iter_mut()
                            .zip(a.iter())
                            .each(|(v, &x)| *v = $f(x.abs() * scale) / scale * x.signum()),
                        Src::K(x) => d
                            .iter_mut()
                            .each(|v| *v = $f(x.abs() * scale) / scale * x.signum()),
                    }
                };
            }
            match mode {
                RoundMode::Nearest => fast!(|y: f64| (y + 0.5).floor()),
                RoundMode::Up => fast!(f64::ceil),
                RoundMode::Down => fast!(f64::floor),
            }
            // The test is branch-free over chunks of lanes (it vectorises); only a chunk with a
            // lane to redo goes lane by lane.
            let near = |x: f64| (x != 0.0) & round_near(x.abs() * scale, mode);
            match src(c, *a) {
                Src::Col(a) => {
                    for (dc, ac) in d.chunks_mut(REDO_CHUNK).zip(a.chunks(REDO_CHUNK)) {
                        if ac.iter().fold(false, |any, &x| any | near(x)) {
                            for (v, &x) in dc.iter_mut().zip(ac) {
                                if near(x) {
                                    *v = round_lane(x, scale, mode);
                                }
                            }
                        }
                    }
                }
                Src::K(x) => {
                    if near(x) {
                        d.fill(round_lane(x, scale, mode));
                    }
                }
            }
            c.put(*dst, d);
        }
        Instr::Copy { dst, a } => {
            let mut d = c.take(*dst);
            match src(c, *a) {
                Src::Col(a) => d.copy_from_slice(a),
                Src::K(k) => d.iter_mut().each(|v| *v = k),
            }
            c.put(*dst, d);
        }
    }
}

impl Program {
    /// Runs the block like [`Program::run`], adding each instruction kind's time (nanoseconds) to
    /// `acc` (for profiling the compiler's output).
    pub fn run_profiled(
        &self,
        c: &mut Columns,
        acc: &mut std::collections::BTreeMap<String, (u64, u64)>,
    ) {
        for ins in &self.instrs {
            let t = std::time::Instant::now();
            exec(ins, c);
            let name = format!("{ins:?}");
            let key = name
                .split(|ch: char| !ch.is_alphanumeric())
                .next()
                .unwrap_or("")
                .to_string();
            let key = match ins {
                Instr::Arith { op, .. } => format!("Arith{op:?}"),
                Instr::Reduce { op, slots, .. } => format!("Reduce{op:?}{}", slots.len()),
                _ => key,
            };
            let e = acc.entry(key).or_default();
            e.0 += t.elapsed().as_nanos() as u64;
            e.1 += 1;
        }
    }
}

#[cfg(test)]
#[path = "program_tests.rs"]
mod tests;
