//! The scalar kernels a [`Program`](super::Program) calls, named by an enumerated id.
//!
//! A call instruction names its kernel by one of these enums, not by a Rust function pointer, so a
//! program is plain data: it can be serialised, compared, and translated by another backend (a
//! CUDA generator maps each id to a device function). On the CPU each id evaluates to the function
//! library's kernel (`functions::math`, `functions::statistical`), the same arithmetic as the
//! scalar interpreter, so both paths give bit-identical results.
//!
//! The CPU executor dispatches on the id once per instruction, outside the loop over lanes
//! (`Kernel1::with` and its siblings hand the lane loop the kernel as a concrete function type),
//! so every kernel gets its own monomorphic loop.

use crate::functions::{math, statistical};
use mcsim_formula::ErrorKind;
use serde::{Deserialize, Serialize};

/// A lane loop over a one-argument kernel, given the kernel as a concrete function type.
pub(crate) trait Apply1 {
    /// What the loop returns.
    type Out;
    /// Runs the loop with kernel `f`.
    fn apply<F: Fn(f64) -> Result<f64, ErrorKind>>(self, f: F) -> Self::Out;
}

/// A lane loop over a two-argument kernel (see [`Apply1`]).
pub(crate) trait Apply2 {
    /// What the loop returns.
    type Out;
    /// Runs the loop with kernel `f`.
    fn apply<F: Fn(f64, f64) -> Result<f64, ErrorKind>>(self, f: F) -> Self::Out;
}

/// A lane loop over a three-argument kernel (see [`Apply1`]).
pub(crate) trait Apply3 {
    /// What the loop returns.
    type Out;
    /// Runs the loop with kernel `f`.
    fn apply<F: Fn(f64, f64, f64) -> Result<f64, ErrorKind>>(self, f: F) -> Self::Out;
}

macro_rules! kernels {
    (
        $(#[$doc:meta])*
        $Enum:ident: $Apply:ident, ($($x:ident),+) $call:tt {
            $($(#[$vdoc:meta])* $V:ident = $id:literal => $f:path,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $Enum {
            $($(#[$vdoc])* #[serde(rename = $id)] $V,)+
        }

        impl $Enum {
            /// Every kernel of this arity.
            pub const ALL: &'static [$Enum] = &[$($Enum::$V),+];

            /// The kernel's stable id: its name in a serialised program, and the name a code
            /// generator gives its device function.
            pub fn id(self) -> &'static str {
                match self {
                    $($Enum::$V => $id,)+
                }
            }

            /// Evaluates the kernel on one lane on the CPU: the function library's kernel, the
            /// interpreter's arithmetic (an `Err` is an error lane).
            #[inline]
            pub fn eval(self, $($x: f64),+) -> Result<f64, ErrorKind> {
                match self {
                    $($Enum::$V => $f $call,)+
                }
            }

            /// Runs `a` with this kernel's function as a concrete type: the `match` is here, once,
            /// and the loop inside `a` is compiled once per kernel.
            #[inline(always)]
            pub(crate) fn with<A: $Apply>(self, a: A) -> A::Out {
                match self {
                    $($Enum::$V => a.apply($f),)+
                }
            }
        }
    };
}

kernels! {
    /// A kernel of one argument.
    Kernel1: Apply1, (x) (x) {
        /// ABS
        Abs = "abs" => math::abs_kernel,
        /// SQRT (and `x^0.5`)
        Sqrt = "sqrt" => math::sqrt_kernel,
        /// EXP
        Exp = "exp" => math::exp_kernel,
        /// LN
        Ln = "ln" => math::ln_kernel,
        /// LOG10
        Log10 = "log10" => math::log10_kernel,
        /// INT
        Int = "int" => math::int_kernel,
        /// SIGN
        Sign = "sign" => math::sign_kernel,
        /// NORM.S.INV, NORMSINV
        NormSInv = "norm_s_inv" => statistical::norm_s_inv_kernel,
    }
}

kernels! {
    /// A kernel of two arguments.
    Kernel2: Apply2, (x, y) (x, y) {
        /// ROUND(x, digits) with run-time digits
        Round = "round" => math::round_kernel,
        /// ROUNDUP(x, digits)
        RoundUp = "round_up" => math::roundup_kernel,
        /// ROUNDDOWN(x, digits), TRUNC
        RoundDown = "round_down" => math::rounddown_kernel,
        /// MOD(n, d)
        Mod = "mod" => math::mod_kernel,
        /// POWER(x, y)
        Power = "power" => math::power_kernel,
        /// CEILING(x, significance)
        Ceiling = "ceiling" => math::ceiling_kernel,
        /// FLOOR(x, significance)
        Floor = "floor" => math::floor_kernel,
        /// CEILING.PRECISE(x, significance), ISO.CEILING
        CeilingPrecise = "ceiling_precise" => math::ceiling_precise_kernel,
        /// FLOOR.PRECISE(x, significance)
        FloorPrecise = "floor_precise" => math::floor_precise_kernel,
    }
}

kernels! {
    /// A kernel of three arguments.
    Kernel3: Apply3, (x, y, z) (x, y, z) {
        /// RANDBETWEEN(lo, hi) given its uniform `u` (the third argument)
        RandBetween = "rand_between" => math::randbetween_kernel,
        /// NORM.INV(p, mean, sd), NORMINV
        NormInv = "norm_inv" => statistical::norm_inv_kernel,
        /// LOGNORM.INV(p, mean, sd), LOGINV
        LogNormInv = "lognorm_inv" => statistical::lognorm_inv_kernel,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_unique_and_are_the_serialised_names() {
        let mut ids: Vec<&str> = Kernel1::ALL.iter().map(|k| k.id()).collect();
        ids.extend(Kernel2::ALL.iter().map(|k| k.id()));
        ids.extend(Kernel3::ALL.iter().map(|k| k.id()));
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate kernel ids");
        for k in Kernel1::ALL {
            assert_eq!(serde_json::to_string(k).unwrap(), format!("\"{}\"", k.id()));
            assert_eq!(
                serde_json::from_str::<Kernel1>(&format!("\"{}\"", k.id())).unwrap(),
                *k
            );
        }
        for k in Kernel3::ALL {
            assert_eq!(serde_json::to_string(k).unwrap(), format!("\"{}\"", k.id()));
        }
    }

    #[test]
    fn eval_is_the_function_library_kernel() {
        assert_eq!(Kernel1::Sqrt.eval(2.0), math::sqrt_kernel(2.0));
        assert!(Kernel1::Ln.eval(-1.0).is_err());
        assert_eq!(Kernel2::Mod.eval(-7.0, 3.0), Ok(2.0));
        assert_eq!(Kernel2::Round.eval(2.5, 0.0), Ok(3.0));
        assert_eq!(
            Kernel3::NormInv.eval(0.3, 1.0, 2.0),
            statistical::norm_inv_kernel(0.3, 1.0, 2.0)
        );
        assert_eq!(Kernel3::RandBetween.eval(1.0, 6.0, 0.999), Ok(6.0));
    }
}
