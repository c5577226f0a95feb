//! The Excel function library, grouped by Excel's categories.
//!
//! Every function is a [`FnSpec`]: its name, its arity and an implementation
//! `fn(&mut Ctx, &[Arg]) -> Value`. Arguments arrive as [`Arg`]s: a value, or a reference that the
//! function reads through the [`Ctx`] (so `SUM(A:A)` visits only stored cells and never builds a
//! million-row array).
//!
//! [`Lift`] says which parameters are scalar. For those, the evaluator does Excel's work before the
//! call: a reference is reduced by implicit intersection (or, in an array formula, read as an array),
//! and when any scalar parameter receives an array the function is applied element by element,
//! broadcasting as Excel does. The implementation of a lifted function therefore only ever sees
//! scalars there, and stays a plain scalar function.
//!
//! Numeric functions keep their arithmetic in a pure kernel over `f64`
//! (`fn(f64, ..) -> Result<f64, ErrorKind>`), wrapped for [`Value`]s. The Monte Carlo engine's block
//! compiler calls the same kernels over columns of iterations, so one definition serves the scalar
//! recalculation and the vectorised simulation, and the two cannot drift apart.

pub mod args;
mod context;
pub mod criteria;
pub mod database;
pub mod date;
pub mod distributions;
pub mod engineering;
pub mod filterxml;
pub mod financial;
pub mod information;
pub mod logical;
pub mod lookup;
pub mod math;
pub mod regex_fns;
pub mod regression;
pub mod risk;
pub mod statistical;
pub mod text;
pub mod text_locale;

use crate::value::Value;
pub use context::{Arg, Context, Ctx};
use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

/// An implementation: context, arguments, result.
pub type FnImpl = fn(&mut Ctx<'_, '_>, &[Arg]) -> Value;

/// Which parameters are scalar (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lift {
    /// Every argument is passed as written (references and arrays included).
    None,
    /// Every argument is scalar: the function is applied element-wise over arrays.
    All,
    /// Bit `i` set: argument `i` is scalar (bit 31 covers argument 31 and later ones).
    Mask(u32),
}

impl Lift {
    /// Is argument `i` scalar?
    pub fn is_scalar(self, i: usize) -> bool {
        match self {
            Lift::None => false,
            Lift::All => true,
            Lift::Mask(m) => m & (1 << i.min(31)) != 0,
        }
    }
}

/// Arity "no upper bound".
pub const VARIADIC: u8 = 255;

/// A function of the library.
#[derive(Debug, Clone, Copy)]
pub struct FnSpec {
    /// Upper-case name without `_xlfn.` (`NORM.INV`).
    pub name: &'static str,
    /// Fewest arguments.
    pub min_args: u8,
    /// Most arguments ([`VARIADIC`] for no limit).
    pub max_args: u8,
    /// Scalar parameters.
    pub lift: Lift,
    /// The implementation.
    pub imp: FnImpl,
    /// Volatile functions (RAND, NOW, TODAY, ...) change at every recalculation.
    pub volatile: bool,
}

impl FnSpec {
    /// A non-volatile function.
    pub const fn new(
        name: &'static str,
        min_args: u8,
        max_args: u8,
        lift: Lift,
        imp: FnImpl,
    ) -> Self {
        FnSpec {
            name,
            min_args,
            max_args,
            lift,
            imp,
            volatile: false,
        }
    }

    /// The same, marked volatile.
    pub const fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }
}

/// Names the evaluator implements itself because they evaluate their arguments lazily or bind names.
pub const SPECIAL_FORMS: &[&str] = &[
    "IF",
    "IFS",
    "IFERROR",
    "IFNA",
    "CHOOSE",
    "SWITCH",
    "LET",
    // LAMBDA and the functions that take one (the evaluator's `eval/lambda.rs`).
    "LAMBDA",
    "MAP",
    "REDUCE",
    "SCAN",
    "MAKEARRAY",
    "BYROW",
    "BYCOL",
    "ISOMITTED",
    "GROUPBY",
    "PIVOTBY",
];

fn registry() -> &'static HashMap<&'static str, &'static FnSpec> {
    static REG: OnceLock<HashMap<&'static str, &'static FnSpec>> = OnceLock::new();
    // Fx hashing: names are looked up for every call of every formula (graph, detection,
    // evaluation), and SipHash's DoS resistance buys nothing for these fixed keys.
    REG.get_or_init(|| {
        let mut m = HashMap::default();
        for table in [
            math::FUNCTIONS,
            statistical::FUNCTIONS,
            database::FUNCTIONS,
            logical::FUNCTIONS,
            lookup::FUNCTIONS,
            date::FUNCTIONS,
            engineering::FUNCTIONS,
            financial::FUNCTIONS,
            text::FUNCTIONS,
            information::FUNCTIONS,
            risk::FUNCTIONS,
            risk::STATISTICS,
            regression::FUNCTIONS,
            regex_fns::FUNCTIONS,
            text_locale::FUNCTIONS,
            filterxml::FUNCTIONS,
        ] {
            for f in table {
                m.insert(f.name, f);
            }
        }
        m
    })
}

/// The function with this (upper-case, prefix-free) name.
pub fn lookup(name: &str) -> Option<&'static FnSpec> {
    registry().get(name).copied()
}

/// Is this function known (a library function or a special form)?
pub fn is_supported(name: &str) -> bool {
    // The registry first: most calls are of library functions, and the special forms are a scan.
    lookup(name).is_some() || SPECIAL_FORMS.contains(&name)
}

/// Is this function volatile in the sense that its value changes between recalculations
/// (random numbers, the clock, the environment)? OFFSET and INDIRECT are volatile to Excel's
/// scheduler but give the same value every time, so they are not counted here.
pub fn is_volatile(name: &str) -> bool {
    matches!(
        name,
        "RAND" | "RANDBETWEEN" | "RANDARRAY" | "NOW" | "TODAY" | "INFO" | "CELL"
    ) || lookup(name).is_some_and(|f| f.volatile)
}

/// Every supported function name, sorted.
pub fn all_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = registry()
        .keys()
        .copied()
        .chain(SPECIAL_FORMS.iter().copied())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}
