//! Math functions.
//!
//! Numeric functions keep their arithmetic in `pub fn *_kernel` over `f64` (shared with the Monte
//! Carlo block compiler); the `FnSpec` wrappers only read arguments.

use super::args::{Numbers, opt};
use super::criteria::{self, Criterion, Grid};
use super::statistical;
use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::model::RowState;
use crate::tri;
use crate::value::{Array, POW10, Value, round15};
use mcsim_formula::{ErrorKind, ExprKind};
use mcsim_sampling::fmath;
use std::f64::consts::PI;
use std::sync::Arc;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("SUM", 1, VARIADIC, Lift::None, sum),
    FnSpec::new("SUMPRODUCT", 1, VARIADIC, Lift::None, sumproduct),
    FnSpec::new("SUMIF", 2, 3, Lift::Mask(0b10), sumif),
    FnSpec::new(
        "SUMIFS",
        3,
        VARIADIC,
        Lift::Mask(IFS_CRITERIA_FROM_2),
        sumifs,
    ),
    FnSpec::new("PRODUCT", 1, VARIADIC, Lift::None, product),
    FnSpec::new("SUMSQ", 1, VARIADIC, Lift::None, sumsq),
    FnSpec::new("SUMX2MY2", 2, 2, Lift::None, sumx2my2),
    FnSpec::new("SUMX2PY2", 2, 2, Lift::None, sumx2py2),
    FnSpec::new("SUMXMY2", 2, 2, Lift::None, sumxmy2),
    FnSpec::new("SUBTOTAL", 2, VARIADIC, Lift::Mask(1), subtotal),
    FnSpec::new("AGGREGATE", 3, VARIADIC, Lift::Mask(0b11), aggregate),
    FnSpec::new("ABS", 1, 1, Lift::All, abs),
    FnSpec::new("SIGN", 1, 1, Lift::All, sign),
    FnSpec::new("ROUND", 2, 2, Lift::All, round),
    FnSpec::new("ROUNDUP", 2, 2, Lift::All, roundup),
    FnSpec::new("ROUNDDOWN", 2, 2, Lift::All, rounddown),
    FnSpec::new("TRUNC", 1, 2, Lift::All, trunc),
    FnSpec::new("INT", 1, 1, Lift::All, int),
    FnSpec::new("MOD", 2, 2, Lift::All, modulo),
    FnSpec::new("QUOTIENT", 2, 2, Lift::All, quotient),
    FnSpec::new("SQRT", 1, 1, Lift::All, sqrt),
    FnSpec::new("SQRTPI", 1, 1, Lift::All, sqrtpi),
    FnSpec::new("EXP", 1, 1, Lift::All, exp),
    FnSpec::new("LN", 1, 1, Lift::All, ln),
    FnSpec::new("LOG", 1, 2, Lift::All, log),
    FnSpec::new("LOG10", 1, 1, Lift::All, log10),
    FnSpec::new("POWER", 2, 2, Lift::All, power),
    FnSpec::new("PI", 0, 0, Lift::None, pi),
    FnSpec::new("RAND", 0, 0, Lift::None, rand).volatile(),
    FnSpec::new("RANDBETWEEN", 2, 2, Lift::All, randbetween).volatile(),
    FnSpec::new("RANDARRAY", 0, 5, Lift::All, randarray).volatile(),
    FnSpec::new("CEILING", 1, 2, Lift::All, ceiling),
    FnSpec::new("FLOOR", 1, 2, Lift::All, floor),
    FnSpec::new("CEILING.MATH", 1, 3, Lift::All, ceiling_math),
    FnSpec::new("FLOOR.MATH", 1, 3, Lift::All, floor_math),
    FnSpec::new("CEILING.PRECISE", 1, 2, Lift::All, ceiling_precise),
    FnSpec::new("ISO.CEILING", 1, 2, Lift::All, ceiling_precise),
    FnSpec::new("FLOOR.PRECISE", 1, 2, Lift::All, floor_precise),
    FnSpec::new("MROUND", 2, 2, Lift::All, mround),
    FnSpec::new("EVEN", 1, 1, Lift::All, even),
    FnSpec::new("ODD", 1, 1, Lift::All, odd),
    FnSpec::new("FACT", 1, 1, Lift::All, fact),
    FnSpec::new("FACTDOUBLE", 1, 1, Lift::All, factdouble),
    FnSpec::new("COMBIN", 2, 2, Lift::All, combin),
    FnSpec::new("COMBINA", 2, 2, Lift::All, combina),
    FnSpec::new("GCD", 1, VARIADIC, Lift::None, gcd),
    FnSpec::new("LCM", 1, VARIADIC, Lift::None, lcm),
    FnSpec::new("MULTINOMIAL", 1, VARIADIC, Lift::None, multinomial),
    FnSpec::new("SERIESSUM", 4, 4, Lift::Mask(0b111), seriessum),
    FnSpec::new("RADIANS", 1, 1, Lift::All, radians),
    FnSpec::new("DEGREES", 1, 1, Lift::All, degrees),
    FnSpec::new("SIN", 1, 1, Lift::All, sin),
    FnSpec::new("COS", 1, 1, Lift::All, cos),
    FnSpec::new("TAN", 1, 1, Lift::All, tan),
    FnSpec::new("ASIN", 1, 1, Lift::All, asin),
    FnSpec::new("ACOS", 1, 1, Lift::All, acos),
    FnSpec::new("ATAN", 1, 1, Lift::All, atan),
    FnSpec::new("ATAN2", 2, 2, Lift::All, atan2),
    FnSpec::new("SINH", 1, 1, Lift::All, sinh),
    FnSpec::new("COSH", 1, 1, Lift::All, cosh),
    FnSpec::new("TANH", 1, 1, Lift::All, tanh),
    FnSpec::new("ASINH", 1, 1, Lift::All, asinh),
    FnSpec::new("ACOSH", 1, 1, Lift::All, acosh),
    FnSpec::new("ATANH", 1, 1, Lift::All, atanh),
    FnSpec::new("COT", 1, 1, Lift::All, cot),
    FnSpec::new("SEC", 1, 1, Lift::All, sec),
    FnSpec::new("CSC", 1, 1, Lift::All, csc),
    FnSpec::new("COTH", 1, 1, Lift::All, coth),
    FnSpec::new("SECH", 1, 1, Lift::All, sech),
    FnSpec::new("CSCH", 1, 1, Lift::All, csch),
    FnSpec::new("ACOT", 1, 1, Lift::All, acot),
    FnSpec::new("ACOTH", 1, 1, Lift::All, acoth),
    FnSpec::new("ROMAN", 1, 2, Lift::All, roman),
    FnSpec::new("ARABIC", 1, 1, Lift::All, arabic),
    FnSpec::new("BASE", 2, 3, Lift::All, base),
    FnSpec::new("DECIMAL", 2, 2, Lift::All, decimal),
    FnSpec::new("MDETERM", 1, 1, Lift::None, mdeterm),
    FnSpec::new("MINVERSE", 1, 1, Lift::None, minverse),
    FnSpec::new("MUNIT", 1, 1, Lift::All, munit),
];

/// Lift mask for SUMIFS-like layouts (sum range, then range/criteria pairs): arguments 2, 4, 6, ...
pub(crate) const IFS_CRITERIA_FROM_2: u32 = 0x5555_5554;

// ---------------------------------------------------------------------------------------------
// Helpers

type Kernel1 = fn(f64) -> Result<f64, ErrorKind>;
type Kernel2 = fn(f64, f64) -> Result<f64, ErrorKind>;

fn apply1(ctx: &mut Ctx<'_, '_>, args: &[Arg], k: Kernel1) -> Value {
    let Some(a) = args.first() else {
        return Value::Error(ErrorKind::Value);
    };
    let x = tri!(ctx.number(a));
    k(x).into()
}

fn apply2(ctx: &mut Ctx<'_, '_>, args: &[Arg], k: Kernel2) -> Value {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return Value::Error(ErrorKind::Value);
    };
    let x = tri!(ctx.number(a));
    let y = tri!(ctx.number(b));
    k(x, y).into()
}

/// `apply2` with an optional second argument.
fn apply2_or(ctx: &mut Ctx<'_, '_>, args: &[Arg], default: f64, k: Kernel2) -> Value {
    let Some(a) = args.first() else {
        return Value::Error(ErrorKind::Value);
    };
    let x = tri!(ctx.number(a));
    let y = tri!(given_or(ctx, args, 1, default));
    k(x, y).into()
}

/// An optional scalar argument: `default` when not written at all; an empty argument or an empty
/// cell reads as 0 (Excel: `LOG(8,)` and `FLOOR(5,A1)` with A1 blank use 0, not the default).
fn given_or(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize, default: f64) -> Result<f64, ErrorKind> {
    match args.get(i) {
        None => Ok(default),
        Some(a) => ctx.number(a),
    }
}

/// Analysis ToolPak functions (MROUND, QUOTIENT, SERIESSUM, ...) reject booleans.
fn atp_number(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<f64, ErrorKind> {
    match ctx.scalar(a) {
        Value::Bool(_) => Err(ErrorKind::Value),
        v => v.to_number(),
    }
}

fn apply2_atp(ctx: &mut Ctx<'_, '_>, args: &[Arg], k: Kernel2) -> Value {
    let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
        return Value::Error(ErrorKind::Value);
    };
    let x = tri!(atp_number(ctx, a));
    let y = tri!(atp_number(ctx, b));
    k(x, y).into()
}

fn finite(x: f64) -> Result<f64, ErrorKind> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(ErrorKind::Num)
    }
}

fn pow10(n: i32) -> f64 {
    match usize::try_from(n) {
        Ok(i) if i < POW10.len() => POW10[i],
        _ => 10f64.powi(n),
    }
}

#[derive(Clone, Copy)]
enum RoundMode {
    Nearest,
    Up,
    Down,
}

fn round_to(x: f64, digits: f64, mode: RoundMode) -> Result<f64, ErrorKind> {
    if !digits.is_finite() {
        return Err(ErrorKind::Num);
    }
    let d = digits.trunc().clamp(-400.0, 400.0) as i32;
    if x == 0.0 {
        return Ok(0.0);
    }
    let p = pow10(d.abs());
    let y = if d >= 0 { x * p } else { x / p };
    if !y.is_finite() || y.abs() >= 1e17 {
        // No digits at that scale.
        return Ok(x);
    }
    let y = round15(y);
    let r = match mode {
        RoundMode::Nearest => y.round(),
        RoundMode::Up => {
            if y >= 0.0 {
                y.ceil()
            } else {
                y.floor()
            }
        }
        RoundMode::Down => y.trunc(),
    };
    let out = if d >= 0 { r / p } else { r * p };
    finite(out)
}

/// ROUND: half away from zero, after rounding the scaled value to 15 significant digits (so
/// `ROUND(21.9/0.2,0)` is 110 and `ROUND(1.005,2)` is 1.01, as in Excel).
pub fn round_kernel(x: f64, digits: f64) -> Result<f64, ErrorKind> {
    round_to(x, digits, RoundMode::Nearest)
}

/// ROUNDUP: away from zero.
pub fn roundup_kernel(x: f64, digits: f64) -> Result<f64, ErrorKind> {
    round_to(x, digits, RoundMode::Up)
}

/// ROUNDDOWN (and TRUNC): toward zero.
pub fn rounddown_kernel(x: f64, digits: f64) -> Result<f64, ErrorKind> {
    round_to(x, digits, RoundMode::Down)
}

/// INT: the largest integer not above `x`.
pub fn int_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(x.floor())
}

/// MOD: the remainder with the sign of the divisor; `#DIV/0!` for a zero divisor.
pub fn mod_kernel(n: f64, d: f64) -> Result<f64, ErrorKind> {
    if d == 0.0 {
        return Err(ErrorKind::Div0);
    }
    // The exact remainder (as Excel computes it: MOD(5,1E-10) is 9.99998E-11, not 0), then the
    // divisor's sign.
    let r = n % d;
    if !r.is_finite() {
        return Err(ErrorKind::Num);
    }
    Ok(if r != 0.0 && (r < 0.0) != (d < 0.0) {
        r + d
    } else {
        r
    })
}

/// QUOTIENT: the integer part of `n / d`.
pub fn quotient_kernel(n: f64, d: f64) -> Result<f64, ErrorKind> {
    if d == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite((n / d).trunc())
}

/// ABS.
pub fn abs_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(x.abs())
}

/// SIGN.
pub fn sign_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    })
}

/// SQRT.
pub fn sqrt_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x < 0.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x.sqrt())
    }
}

/// SQRTPI: `sqrt(x * pi)`.
pub fn sqrtpi_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x < 0.0 {
        Err(ErrorKind::Num)
    } else {
        Ok((x * PI).sqrt())
    }
}

/// EXP.
///
/// Through `fmath::exp`, not libm: branch-free (the block executor's loop vectorises) and the
/// same bits as the CUDA kernels' `mc_exp`. Always inlined, so that the lane loop vectorises.
#[inline(always)]
pub fn exp_kernel(x: f64) -> Result<f64, ErrorKind> {
    finite(fmath::exp(x))
}

/// LN (always inlined, so that the lane loop vectorises).
#[inline(always)]
pub fn ln_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x <= 0.0 {
        Err(ErrorKind::Num)
    } else {
        // `fmath::ln`: vectorises, and the CUDA kernels' `mc_ln` gives the same bits.
        Ok(fmath::ln(x))
    }
}

/// LOG10.
pub fn log10_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x <= 0.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x.log10())
    }
}

/// LOG with a base.
pub fn log_kernel(x: f64, base: f64) -> Result<f64, ErrorKind> {
    if x <= 0.0 || base <= 0.0 {
        return Err(ErrorKind::Num);
    }
    if base == 1.0 {
        return Err(ErrorKind::Div0);
    }
    if base == 10.0 {
        return Ok(x.log10());
    }
    if base == 2.0 {
        return Ok(x.log2());
    }
    finite(x.ln() / base.ln())
}

/// POWER (and the `^` operator): `0^0` is `#NUM!`, `0^-1` is `#DIV/0!`, a negative base needs
/// an integer exponent or an odd root.
pub fn power_kernel(x: f64, y: f64) -> Result<f64, ErrorKind> {
    crate::ops::pow(x, y)
}

/// CEILING(x, significance): multiples of `sig` away from zero for positive `x`; a negative
/// `x` with a positive `sig` rounds toward zero; a positive `x` with a negative `sig` is `#NUM!`.
pub fn ceiling_kernel(x: f64, sig: f64) -> Result<f64, ErrorKind> {
    if sig == 0.0 || x == 0.0 {
        return Ok(0.0);
    }
    if x > 0.0 && sig < 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(round15(round15(x / sig).ceil() * sig))
}

/// FLOOR(x, significance).
pub fn floor_kernel(x: f64, sig: f64) -> Result<f64, ErrorKind> {
    if x == 0.0 {
        return Ok(0.0);
    }
    if sig == 0.0 {
        return Err(ErrorKind::Div0);
    }
    if x > 0.0 && sig < 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(round15(round15(x / sig).floor() * sig))
}

/// CEILING.MATH(x, significance, mode): `mode` non-zero rounds negative numbers away from zero.
pub fn ceiling_math_kernel(x: f64, sig: f64, mode: f64) -> Result<f64, ErrorKind> {
    let s = sig.abs();
    if s == 0.0 || x == 0.0 {
        return Ok(0.0);
    }
    let q = round15(x / s);
    let r = if x < 0.0 && mode != 0.0 {
        q.floor()
    } else {
        q.ceil()
    };
    finite(round15(r * s))
}

/// FLOOR.MATH(x, significance, mode): `mode` non-zero rounds negative numbers toward zero.
pub fn floor_math_kernel(x: f64, sig: f64, mode: f64) -> Result<f64, ErrorKind> {
    let s = sig.abs();
    if s == 0.0 || x == 0.0 {
        return Ok(0.0);
    }
    let q = round15(x / s);
    let r = if x < 0.0 && mode != 0.0 {
        q.ceil()
    } else {
        q.floor()
    };
    finite(round15(r * s))
}

/// CEILING.PRECISE / ISO.CEILING: toward +infinity, whatever the sign of `sig`.
pub fn ceiling_precise_kernel(x: f64, sig: f64) -> Result<f64, ErrorKind> {
    ceiling_math_kernel(x, sig, 0.0)
}

/// FLOOR.PRECISE: toward -infinity, whatever the sign of `sig`.
pub fn floor_precise_kernel(x: f64, sig: f64) -> Result<f64, ErrorKind> {
    floor_math_kernel(x, sig, 0.0)
}

/// MROUND: the nearest multiple (half away from zero); signs must agree.
pub fn mround_kernel(x: f64, m: f64) -> Result<f64, ErrorKind> {
    if m == 0.0 || x == 0.0 {
        return Ok(0.0);
    }
    if (x > 0.0) != (m > 0.0) {
        return Err(ErrorKind::Num);
    }
    finite(round15(round15(x / m).round() * m))
}

/// EVEN: away from zero to an even integer.
pub fn even_kernel(x: f64) -> Result<f64, ErrorKind> {
    let a = round15(x.abs()).ceil();
    let a = if a % 2.0 == 0.0 { a } else { a + 1.0 };
    finite(if x < 0.0 { -a } else { a })
}

/// ODD: away from zero to an odd integer.
pub fn odd_kernel(x: f64) -> Result<f64, ErrorKind> {
    let a = round15(x.abs()).ceil();
    let a = if a % 2.0 == 1.0 { a } else { a + 1.0 };
    finite(if x < 0.0 { -a } else { a })
}

/// FACT of the integer part; `#NUM!` for negatives and overflow.
pub fn fact_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    let n = x.trunc();
    if n > 170.0 {
        return Err(ErrorKind::Num);
    }
    let mut r = 1.0;
    let mut k = 2.0;
    while k <= n {
        r *= k;
        k += 1.0;
    }
    Ok(r)
}

/// FACTDOUBLE: `n!!`.
pub fn factdouble_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    let n = x.trunc();
    if n > 300.0 {
        return Err(ErrorKind::Num);
    }
    let mut r = 1.0;
    let mut k = n;
    while k > 1.0 {
        r *= k;
        k -= 2.0;
    }
    finite(r)
}

/// COMBIN: `n` choose `k` (integer parts).
pub fn combin_kernel(n: f64, k: f64) -> Result<f64, ErrorKind> {
    let (n, k) = (n.trunc(), k.trunc());
    if n < 0.0 || k < 0.0 || n < k {
        return Err(ErrorKind::Num);
    }
    let k = k.min(n - k);
    let mut r = 1.0f64;
    let mut i = 1.0;
    while i <= k {
        r = r * (n - k + i) / i;
        if !r.is_finite() {
            return Err(ErrorKind::Num);
        }
        i += 1.0;
    }
    Ok(if r < 9.007_199_254_740_992e15 {
        r.round()
    } else {
        r
    })
}

/// COMBINA: combinations with repetition.
pub fn combina_kernel(n: f64, k: f64) -> Result<f64, ErrorKind> {
    let (n, k) = (n.trunc(), k.trunc());
    if n < 0.0 || k < 0.0 {
        return Err(ErrorKind::Num);
    }
    if n == 0.0 && k == 0.0 {
        return Ok(1.0);
    }
    combin_kernel(n + k - 1.0, k)
}

fn trig_arg(x: f64) -> Result<f64, ErrorKind> {
    if x.abs() >= 134_217_728.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x)
    }
}

/// pi/2 split as `HI + LO`, where `HI` is the double nearest pi/2 and `HI + LO` is pi/2 with a
/// 64-bit mantissa (the x87 extended-precision pi Excel reduces its trigonometric arguments
/// with): near the zeros and poles this is what makes `TAN(PI()/2)` 1.6324552277619072E+16 and
/// `TAN(PI())` -1.22514845490862E-16, as in Excel.
const EXCEL_PIO2_HI: f64 = std::f64::consts::FRAC_PI_2;
const EXCEL_PIO2_LO: f64 = 6.125_742_274_543_1e-17;

/// `x` as `r + q * pi/2` with Excel's pi: returns `(r, q mod 4)`.
fn excel_reduce(x: f64) -> (f64, u8) {
    let k = (x / EXCEL_PIO2_HI).round();
    let r = (-k).mul_add(EXCEL_PIO2_HI, x) - k * EXCEL_PIO2_LO;
    // |k| < 2^27 / (pi/2): the cast cannot overflow.
    (r, (k as i64).rem_euclid(4) as u8)
}

fn excel_sin(x: f64) -> f64 {
    let (r, q) = excel_reduce(x);
    match q {
        0 => r.sin(),
        1 => r.cos(),
        2 => -r.sin(),
        _ => -r.cos(),
    }
}

fn excel_cos(x: f64) -> f64 {
    let (r, q) = excel_reduce(x);
    match q {
        0 => r.cos(),
        1 => -r.sin(),
        2 => -r.cos(),
        _ => r.sin(),
    }
}

fn excel_tan(x: f64) -> f64 {
    let (r, q) = excel_reduce(x);
    if q % 2 == 0 { r.tan() } else { -1.0 / r.tan() }
}

/// SIN (`#NUM!` from 2^27, as Excel).
pub fn sin_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(excel_sin(trig_arg(x)?))
}
/// COS.
pub fn cos_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(excel_cos(trig_arg(x)?))
}
/// TAN.
pub fn tan_kernel(x: f64) -> Result<f64, ErrorKind> {
    finite(excel_tan(trig_arg(x)?))
}
/// ASIN.
pub fn asin_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x.abs() > 1.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x.asin())
    }
}
/// ACOS.
pub fn acos_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x.abs() > 1.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x.acos())
    }
}
/// ATAN.
pub fn atan_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(x.atan())
}
/// ATAN2(x, y): the angle of the point (x, y); `#DIV/0!` at the origin.
pub fn atan2_kernel(x: f64, y: f64) -> Result<f64, ErrorKind> {
    if x == 0.0 && y == 0.0 {
        return Err(ErrorKind::Div0);
    }
    Ok(y.atan2(x))
}
/// SINH.
pub fn sinh_kernel(x: f64) -> Result<f64, ErrorKind> {
    finite(x.sinh())
}
/// COSH.
pub fn cosh_kernel(x: f64) -> Result<f64, ErrorKind> {
    finite(x.cosh())
}
/// TANH.
pub fn tanh_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(x.tanh())
}
/// ASINH.
pub fn asinh_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(x.asinh())
}
/// ACOSH.
pub fn acosh_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x < 1.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x.acosh())
    }
}
/// ATANH.
pub fn atanh_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x.abs() >= 1.0 {
        Err(ErrorKind::Num)
    } else {
        Ok(x.atanh())
    }
}
/// COT.
pub fn cot_kernel(x: f64) -> Result<f64, ErrorKind> {
    let x = trig_arg(x)?;
    if x == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(1.0 / excel_tan(x))
}
/// SEC.
pub fn sec_kernel(x: f64) -> Result<f64, ErrorKind> {
    finite(1.0 / excel_cos(trig_arg(x)?))
}
/// CSC.
pub fn csc_kernel(x: f64) -> Result<f64, ErrorKind> {
    let x = trig_arg(x)?;
    if x == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(1.0 / excel_sin(x))
}
/// COTH.
pub fn coth_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(1.0 / x.tanh())
}
/// SECH.
pub fn sech_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(1.0 / x.cosh())
}
/// CSCH.
pub fn csch_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(1.0 / x.sinh())
}
/// ACOT: in (0, pi).
pub fn acot_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(PI / 2.0 - x.atan())
}
/// ACOTH.
pub fn acoth_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x.abs() <= 1.0 {
        return Err(ErrorKind::Num);
    }
    Ok(0.5 * ((x + 1.0) / (x - 1.0)).ln())
}
/// RADIANS.
pub fn radians_kernel(x: f64) -> Result<f64, ErrorKind> {
    Ok(x * PI / 180.0)
}
/// DEGREES.
pub fn degrees_kernel(x: f64) -> Result<f64, ErrorKind> {
    finite(x * 180.0 / PI)
}

macro_rules! unary {
    ($($name:ident => $kernel:path),* $(,)?) => {
        $(fn $name(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
            apply1(ctx, args, $kernel)
        })*
    };
}

macro_rules! binary {
    ($($name:ident => $kernel:path),* $(,)?) => {
        $(fn $name(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
            apply2(ctx, args, $kernel)
        })*
    };
}

unary! {
    abs => abs_kernel, sign => sign_kernel, int => int_kernel, sqrt => sqrt_kernel,
    sqrtpi => sqrtpi_kernel, exp => exp_kernel, ln => ln_kernel, log10 => log10_kernel,
    even => even_kernel, odd => odd_kernel, fact => fact_kernel, factdouble => factdouble_kernel,
    radians => radians_kernel, degrees => degrees_kernel, sin => sin_kernel, cos => cos_kernel,
    tan => tan_kernel, asin => asin_kernel, acos => acos_kernel, atan => atan_kernel,
    sinh => sinh_kernel, cosh => cosh_kernel, tanh => tanh_kernel, asinh => asinh_kernel,
    acosh => acosh_kernel, atanh => atanh_kernel, cot => cot_kernel, sec => sec_kernel,
    csc => csc_kernel, coth => coth_kernel, sech => sech_kernel, csch => csch_kernel,
    acot => acot_kernel, acoth => acoth_kernel,
}

binary! {
    round => round_kernel, roundup => roundup_kernel, rounddown => rounddown_kernel,
    modulo => mod_kernel, power => power_kernel, combin => combin_kernel, combina => combina_kernel,
    atan2 => atan2_kernel,
}

fn quotient(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_atp(ctx, args, quotient_kernel)
}

fn mround(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_atp(ctx, args, mround_kernel)
}

fn trunc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_or(ctx, args, 0.0, rounddown_kernel)
}

fn log(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_or(ctx, args, 10.0, log_kernel)
}

fn ceiling(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_or(ctx, args, 1.0, ceiling_kernel)
}

fn floor(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_or(ctx, args, 1.0, floor_kernel)
}

fn ceiling_precise(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_or(ctx, args, 1.0, ceiling_precise_kernel)
}

fn floor_precise(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    apply2_or(ctx, args, 1.0, floor_precise_kernel)
}

fn math3(
    ctx: &mut Ctx<'_, '_>,
    args: &[Arg],
    k: fn(f64, f64, f64) -> Result<f64, ErrorKind>,
) -> Value {
    let Some(a) = args.first() else {
        return Value::Error(ErrorKind::Value);
    };
    let x = tri!(ctx.number(a));
    let s = tri!(given_or(ctx, args, 1, 1.0));
    let m = tri!(given_or(ctx, args, 2, 0.0));
    k(x, s, m).into()
}

fn ceiling_math(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    math3(ctx, args, ceiling_math_kernel)
}

fn floor_math(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    math3(ctx, args, floor_math_kernel)
}

fn pi(_: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Number(PI)
}

fn rand(ctx: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Number(ctx.random())
}

/// RANDBETWEEN from a uniform `u` in [0, 1).
pub fn randbetween_kernel(lo: f64, hi: f64, u: f64) -> Result<f64, ErrorKind> {
    let (lo, hi) = (lo.ceil(), hi.floor());
    if lo > hi {
        return Err(ErrorKind::Num);
    }
    finite((lo + (u * (hi - lo + 1.0)).floor()).min(hi))
}

fn randbetween(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let lo = tri!(ctx.number(&args[0]));
    let hi = tri!(ctx.number(&args[1]));
    let u = ctx.random();
    randbetween_kernel(lo, hi, u).into()
}

/// RANDARRAY([rows], [columns], [min], [max], [whole_number]): an array of uniform numbers in
/// [min, max) (whole numbers in [min, max] with `whole_number`), one draw per element.
fn randarray(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let rows = tri!(ctx.number_or(args, 0, 1.0)).trunc();
    let cols = tri!(ctx.number_or(args, 1, 1.0)).trunc();
    let lo = tri!(ctx.number_or(args, 2, 0.0));
    let hi = tri!(ctx.number_or(args, 3, 1.0));
    let whole = tri!(ctx.boolean_or(args, 4, false));
    if rows < 0.0 || cols < 0.0 || lo > hi {
        return Value::Error(ErrorKind::Value);
    }
    if rows == 0.0 || cols == 0.0 {
        return Value::Error(ErrorKind::Calc);
    }
    // The bound of SEQUENCE and the other array builders.
    if rows * cols > super::lookup::MAX_ELEMENTS {
        return Value::Error(ErrorKind::Num);
    }
    let (r, c) = (rows as usize, cols as usize);
    let mut data = Vec::with_capacity(r * c);
    for _ in 0..r * c {
        let u = ctx.random();
        data.push(if whole {
            tri!(randbetween_kernel(lo, hi, u).map(Value::Number))
        } else {
            Value::Number(lo + u * (hi - lo))
        });
    }
    Value::Array(Arc::new(Array::new(r, c, data)))
}

// ---------------------------------------------------------------------------------------------
// Aggregates

fn sum(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ctx.numbers(args, Numbers::default()));
    Value::number(xs.iter().sum())
}

fn product(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ctx.numbers(args, Numbers::default()));
    if xs.is_empty() {
        return Value::Number(0.0);
    }
    Value::number(xs.iter().product())
}

fn sumsq(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ctx.numbers(args, Numbers::default()));
    Value::number(xs.iter().map(|x| x * x).sum())
}

/// Reads arguments as arrays of one common shape, clipping whole columns to the used rows.
fn same_shape_arrays(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<Arc<Array>>, ErrorKind> {
    let mut shape: Option<(usize, usize)> = None;
    let mut grids = Vec::with_capacity(args.len());
    for a in args {
        let g = Grid::from_arg(a)?;
        let d = g.dims();
        match shape {
            None => shape = Some(d),
            Some(s) if s != d => return Err(ErrorKind::Value),
            _ => {}
        }
        grids.push(g);
    }
    let (rows, cols) = shape.unwrap_or((1, 1));
    // Beyond the last used row of every sheet involved, everything is blank: clip there.
    let mut used = 0usize;
    let mut any_array = false;
    for g in &grids {
        match g {
            Grid::Area(a) => {
                let u = ctx.model().sheets.get(a.sheet as usize).map_or(0, |s| {
                    (s.used_rows as usize).saturating_sub(a.bounds.r1 as usize)
                });
                used = used.max(u);
            }
            Grid::Array(_) => any_array = true,
        }
    }
    let eff_rows = if any_array {
        rows
    } else {
        rows.min(used).max(1)
    };
    let mut out = Vec::with_capacity(grids.len());
    for g in grids {
        out.push(match g {
            Grid::Area(mut a) => {
                a.bounds.r2 = a.bounds.r1 + eff_rows as u32 - 1;
                let _ = cols;
                Arc::new(ctx.area_array(a))
            }
            Grid::Array(arr) => arr,
        });
    }
    Ok(out)
}

fn sumproduct(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let arrays = tri!(same_shape_arrays(ctx, args));
    let Some(first) = arrays.first() else {
        return Value::Error(ErrorKind::Value);
    };
    let n = first.data.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut p = 1.0;
        for a in &arrays {
            match a.data.get(i) {
                Some(Value::Number(x)) => p *= x,
                Some(Value::Error(e)) => return Value::Error(*e),
                _ => p = 0.0,
            }
        }
        total += p;
    }
    Value::number(total)
}

fn sumx_pairs(ctx: &mut Ctx<'_, '_>, args: &[Arg], f: fn(f64, f64) -> f64) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let b = tri!(ctx.array(&args[1]));
    if a.data.len() != b.data.len() {
        return Value::Error(ErrorKind::Na);
    }
    let mut total = 0.0;
    for (x, y) in a.data.iter().zip(&b.data) {
        if let Value::Error(e) = x {
            return Value::Error(*e);
        }
        if let Value::Error(e) = y {
            return Value::Error(*e);
        }
        if let (Value::Number(x), Value::Number(y)) = (x, y) {
            total += f(*x, *y);
        }
    }
    Value::number(total)
}

fn sumx2my2(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    sumx_pairs(ctx, args, |x, y| x * x - y * y)
}

fn sumx2py2(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    sumx_pairs(ctx, args, |x, y| x * x + y * y)
}

fn sumxmy2(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    sumx_pairs(ctx, args, |x, y| (x - y) * (x - y))
}

/// Sums the numbers of `values` at `offsets`; an error there propagates.
fn sum_at(ctx: &mut Ctx<'_, '_>, values: &Grid, offsets: &[(usize, usize)]) -> Value {
    let mut total = 0.0;
    for &(i, j) in offsets {
        match values.get(ctx, i, j) {
            Value::Number(x) => total += x,
            Value::Error(e) => return Value::Error(e),
            _ => {}
        }
    }
    Value::number(total)
}

fn sumif(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let range = tri!(Grid::from_arg(&args[0]));
    let (rows, cols) = range.dims();
    let crit = Criterion::parse(&ctx.scalar(&args[1]));
    let values = match opt(args, 2) {
        Some(a) => tri!(Grid::from_arg(a)).resized(rows, cols),
        None => range.clone(),
    };
    let conds = [(range, crit)];
    let offsets = criteria::select(ctx, rows, cols, &conds, &[&values]);
    sum_at(ctx, &values, &offsets)
}

fn sumifs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let values = tri!(Grid::from_arg(&args[0]));
    let (conds, (rows, cols)) = tri!(criteria::conditions(ctx, args, 1, Some(values.dims())));
    let offsets = criteria::select(ctx, rows, cols, &conds, &[&values]);
    sum_at(ctx, &values, &offsets)
}

/// Integers for GCD/LCM/MULTINOMIAL: every value must be a number (text that reads as one is
/// accepted, booleans are `#VALUE!`); a blank cell given on its own is skipped, blanks inside a
/// range count as 0; negatives and values of 2^53 or more are `#NUM!`; no value at all is `#VALUE!`.
fn integers(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<f64>, ErrorKind> {
    let mut vals: Vec<Value> = Vec::new();
    for a in args {
        match a {
            Arg::Value(Value::Array(arr)) => vals.extend(arr.data.iter().cloned()),
            Arg::Value(v) => vals.push(v.clone()),
            Arg::Ref(area)
                if area.bounds.r1 == area.bounds.r2 && area.bounds.c1 == area.bounds.c2 =>
            {
                vals.push(ctx.cell(area.sheet, area.bounds.r1, area.bounds.c1));
            }
            Arg::Ref(_) => {
                let arr = ctx.array(a)?;
                vals.extend(arr.data.iter().map(|v| {
                    if v.is_empty() {
                        Value::Number(0.0)
                    } else {
                        v.clone()
                    }
                }));
            }
            Arg::Union(_) => ctx.for_each_cell(a, &mut |v| vals.push(v.clone())),
        }
    }
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        let x = match v {
            Value::Empty => continue,
            Value::Bool(_) => return Err(ErrorKind::Value),
            v => v.to_number()?,
        };
        if x < 0.0 {
            return Err(ErrorKind::Num);
        }
        let x = x.trunc();
        if x >= 9.007_199_254_740_992e15 {
            return Err(ErrorKind::Num);
        }
        out.push(x);
    }
    if out.is_empty() {
        return Err(ErrorKind::Value);
    }
    Ok(out)
}

fn gcd2(mut a: f64, mut b: f64) -> f64 {
    while b != 0.0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

fn gcd(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    if args.iter().any(|a| matches!(a, Arg::Value(Value::Empty))) {
        return Value::Error(ErrorKind::Na);
    }
    let xs = tri!(integers(ctx, args));
    Value::number(xs.into_iter().fold(0.0, gcd2))
}

fn lcm(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    if args.iter().any(|a| matches!(a, Arg::Value(Value::Empty))) {
        return Value::Error(ErrorKind::Na);
    }
    let xs = tri!(integers(ctx, args));
    let mut r = 1.0;
    for x in xs {
        if x == 0.0 {
            return Value::Number(0.0);
        }
        r = r / gcd2(r, x) * x;
    }
    if r >= 9.007_199_254_740_992e15 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(r)
}

fn multinomial(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(integers(ctx, args));
    let mut total = 0.0;
    let mut r = 1.0;
    for x in xs {
        total += x;
        r *= tri!(combin_kernel(total, x));
    }
    Value::number(r)
}

fn seriessum(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(atp_number(ctx, &args[0]));
    let n = tri!(atp_number(ctx, &args[1]));
    let m = tri!(atp_number(ctx, &args[2]));
    let coeffs = tri!(ctx.array(&args[3]));
    let mut total = 0.0;
    for (i, c) in coeffs.data.iter().enumerate() {
        let a = match c {
            Value::Number(a) => *a,
            Value::Error(e) => return Value::Error(*e),
            _ => return Value::Error(ErrorKind::Value),
        };
        let p = tri!(power_kernel(x, n + i as f64 * m));
        total += a * p;
    }
    Value::number(total)
}

/// Does the cell hold a SUBTOTAL or AGGREGATE formula (which SUBTOTAL skips)?
fn is_subtotal_cell(ctx: &Ctx<'_, '_>, sheet: u32, row: u32, col: u32) -> bool {
    let model = ctx.model();
    let Some(id) = model.find(sheet, row, col) else {
        return false;
    };
    let Some(fid) = model.cells.get(id as usize).and_then(|c| c.formula) else {
        return false;
    };
    let Some(Ok(expr)) = model.formulas.get(fid as usize).map(|f| &f.expr) else {
        return false;
    };
    let mut found = false;
    expr.walk(&mut |e| {
        if let ExprKind::Call { name, .. } = &e.kind
            && (name == "SUBTOTAL" || name == "AGGREGATE")
        {
            found = true;
        }
    });
    found
}

/// Does SUBTOTAL or AGGREGATE skip this row? Rows hidden by hand when `hidden`, rows hidden by
/// a filter when `filtered`.
fn row_skipped(ctx: &Ctx<'_, '_>, sheet: u32, row: u32, hidden: bool, filtered: bool) -> bool {
    match ctx.model().row_state(sheet, row) {
        RowState::Visible => false,
        RowState::Hidden => hidden,
        RowState::Filtered => filtered,
    }
}

/// SUBTOTAL(function_num, ref1, ...): 1-11 skip rows hidden by a filter, 101-111 every hidden
/// row; both skip cells holding SUBTOTAL or AGGREGATE.
fn subtotal(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let f = tri!(ctx.number(&args[0])).trunc();
    let code = if f > 100.0 { f - 100.0 } else { f };
    if !(1.0..=11.0).contains(&code) {
        return Value::Error(ErrorKind::Value);
    }
    let skip_hidden = f > 100.0;
    let mut vals: Vec<Value> = Vec::new();
    for a in &args[1..] {
        match a {
            Arg::Ref(area) => {
                let mut cells: Vec<(u32, u32, Value)> = Vec::new();
                ctx.visit_area(*area, &mut |r, c, v| cells.push((r, c, v.clone())));
                for (r, c, v) in cells {
                    if !is_subtotal_cell(ctx, area.sheet, r, c)
                        && !row_skipped(ctx, area.sheet, r, skip_hidden, true)
                    {
                        vals.push(v);
                    }
                }
            }
            Arg::Union(areas) => {
                // A 3D reference (a union over several sheets): `#VALUE!`, as documented.
                if areas.iter().any(|a| a.sheet != areas[0].sheet) {
                    return Value::Error(ErrorKind::Value);
                }
                for area in areas.iter() {
                    let mut cells: Vec<(u32, u32, Value)> = Vec::new();
                    ctx.visit_area(*area, &mut |r, c, v| cells.push((r, c, v.clone())));
                    for (r, c, v) in cells {
                        if !is_subtotal_cell(ctx, area.sheet, r, c)
                            && !row_skipped(ctx, area.sheet, r, skip_hidden, true)
                        {
                            vals.push(v);
                        }
                    }
                }
            }
            Arg::Value(Value::Array(arr)) => vals.extend(arr.data.iter().cloned()),
            Arg::Value(Value::Error(e)) => return Value::Error(*e),
            Arg::Value(_) => return Value::Error(ErrorKind::Value),
        }
    }
    if code == 3.0 {
        return Value::Number(vals.iter().filter(|v| !v.is_empty()).count() as f64);
    }
    if code == 2.0 {
        return Value::Number(
            vals.iter()
                .filter(|v| matches!(v, Value::Number(_)))
                .count() as f64,
        );
    }
    let mut xs = Vec::with_capacity(vals.len());
    for v in &vals {
        match v {
            Value::Number(x) => xs.push(*x),
            Value::Error(e) => return Value::Error(*e),
            _ => {}
        }
    }
    let r: Result<f64, ErrorKind> = match code as u32 {
        1 => statistical::mean(&xs),
        2 => Ok(xs.len() as f64),
        4 => Ok(xs
            .iter()
            .copied()
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
            .unwrap_or(0.0)),
        5 => Ok(xs
            .iter()
            .copied()
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
            .unwrap_or(0.0)),
        6 => Ok(if xs.is_empty() {
            0.0
        } else {
            xs.iter().product()
        }),
        7 => statistical::variance(&xs, true).map(f64::sqrt),
        8 => statistical::variance(&xs, false).map(f64::sqrt),
        9 => Ok(xs.iter().sum()),
        10 => statistical::variance(&xs, true),
        _ => statistical::variance(&xs, false),
    };
    r.into()
}

/// AGGREGATE(function_num, options, ref1, ...) and AGGREGATE(function_num, options, array, k):
/// functions 1-13 (AVERAGE, COUNT, COUNTA, MAX, MIN, PRODUCT, STDEV.S, STDEV.P, SUM, VAR.S,
/// VAR.P, MEDIAN, MODE.SNGL) over references, 14-19 (LARGE, SMALL, PERCENTILE.INC,
/// QUARTILE.INC, PERCENTILE.EXC, QUARTILE.EXC) over an array with `k`. Options 0-3 skip cells
/// holding SUBTOTAL or AGGREGATE, options 2, 3, 6, 7 skip error values, options 1, 3, 5, 7 skip
/// hidden rows (by hand or by a filter).
fn aggregate(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let f = tri!(ctx.number(&args[0])).trunc();
    let opt = match opt(args, 1) {
        None => 0.0,
        Some(a) => tri!(ctx.number(a)).trunc(),
    };
    if !(1.0..=19.0).contains(&f) || !(0.0..=7.0).contains(&opt) {
        return Value::Error(ErrorKind::Value);
    }
    let skip_nested = opt <= 3.0;
    let skip_errors = matches!(opt as u32, 2 | 3 | 6 | 7);
    let skip_hidden = matches!(opt as u32, 1 | 3 | 5 | 7);
    let with_k = f >= 14.0;
    let data_args = if with_k { &args[2..3] } else { &args[2..] };
    let mut vals: Vec<Value> = Vec::new();
    for a in data_args {
        match a {
            Arg::Ref(area) => {
                let mut cells: Vec<(u32, u32, Value)> = Vec::new();
                ctx.visit_area(*area, &mut |r, c, v| cells.push((r, c, v.clone())));
                for (r, c, v) in cells {
                    if !(row_skipped(ctx, area.sheet, r, skip_hidden, skip_hidden)
                        || skip_nested && is_subtotal_cell(ctx, area.sheet, r, c))
                    {
                        vals.push(v);
                    }
                }
            }
            Arg::Union(areas) => {
                // A 3D reference (a union over several sheets): `#VALUE!`, as documented.
                if areas.iter().any(|a| a.sheet != areas[0].sheet) {
                    return Value::Error(ErrorKind::Value);
                }
                for area in areas.iter() {
                    let mut cells: Vec<(u32, u32, Value)> = Vec::new();
                    ctx.visit_area(*area, &mut |r, c, v| cells.push((r, c, v.clone())));
                    for (r, c, v) in cells {
                        if !(row_skipped(ctx, area.sheet, r, skip_hidden, skip_hidden)
                            || skip_nested && is_subtotal_cell(ctx, area.sheet, r, c))
                        {
                            vals.push(v);
                        }
                    }
                }
            }
            Arg::Value(Value::Array(arr)) if with_k => vals.extend(arr.data.iter().cloned()),
            Arg::Value(v @ (Value::Number(_) | Value::Error(_))) if with_k => vals.push(v.clone()),
            Arg::Value(Value::Error(e)) => return Value::Error(*e),
            Arg::Value(_) => return Value::Error(ErrorKind::Value),
        }
    }
    if f == 3.0 {
        let n = vals
            .iter()
            .filter(|v| !(v.is_empty() || (skip_errors && matches!(v, Value::Error(_)))))
            .count();
        return Value::Number(n as f64);
    }
    let mut xs = Vec::with_capacity(vals.len());
    for v in &vals {
        match v {
            Value::Number(x) => xs.push(*x),
            Value::Error(e) if !skip_errors => return Value::Error(*e),
            _ => {}
        }
    }
    if with_k {
        let Some(ka) = args.get(3) else {
            return Value::Error(ErrorKind::Value);
        };
        let k = tri!(ctx.number(ka));
        xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let r = match f as u32 {
            14 | 15 => {
                let k = k.ceil();
                if k < 1.0 || k > xs.len() as f64 {
                    return Value::Error(ErrorKind::Num);
                }
                let i = k as usize - 1;
                let idx = if f == 14.0 { xs.len() - 1 - i } else { i };
                Ok(xs[idx])
            }
            16 => statistical::percentile_inc_sorted(&xs, k),
            17 => {
                let q = k.trunc();
                if !(0.0..=4.0).contains(&q) {
                    return Value::Error(ErrorKind::Num);
                }
                statistical::percentile_inc_sorted(&xs, q / 4.0)
            }
            18 => statistical::percentile_exc_sorted(&xs, k),
            _ => {
                let q = k.trunc();
                if !(1.0..=3.0).contains(&q) {
                    return Value::Error(ErrorKind::Num);
                }
                statistical::percentile_exc_sorted(&xs, q / 4.0)
            }
        };
        return r.into();
    }
    let r: Result<f64, ErrorKind> = match f as u32 {
        1 => statistical::mean(&xs),
        2 => Ok(xs.len() as f64),
        4 => Ok(xs.iter().copied().reduce(f64::max).unwrap_or(0.0)),
        5 => Ok(xs.iter().copied().reduce(f64::min).unwrap_or(0.0)),
        6 => Ok(if xs.is_empty() {
            0.0
        } else {
            xs.iter().product()
        }),
        7 => statistical::variance(&xs, true).map(f64::sqrt),
        8 => statistical::variance(&xs, false).map(f64::sqrt),
        9 => Ok(xs.iter().sum()),
        10 => statistical::variance(&xs, true),
        11 => statistical::variance(&xs, false),
        12 => {
            if xs.is_empty() {
                return Value::Error(ErrorKind::Num);
            }
            xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            let n = xs.len();
            Ok(if n % 2 == 1 {
                xs[n / 2]
            } else {
                (xs[n / 2 - 1] + xs[n / 2]) / 2.0
            })
        }
        _ => {
            // MODE.SNGL: the most frequent value, the first seen among ties.
            let mut best: Option<(f64, usize)> = None;
            for (i, &x) in xs.iter().enumerate() {
                let c = xs[i..].iter().filter(|&&y| y == x).count();
                if c > 1 && !xs[..i].contains(&x) && best.is_none_or(|(_, bc)| c > bc) {
                    best = Some((x, c));
                }
            }
            best.map(|(x, _)| x).ok_or(ErrorKind::Na)
        }
    };
    r.into()
}

// ---------------------------------------------------------------------------------------------
// Roman numerals, bases

/// ROMAN(number, form) for forms 0 (classic) to 4 (most concise), as Excel writes them.
pub fn roman_text(n: f64, form: f64) -> Result<String, ErrorKind> {
    let (n, form) = (n.trunc(), form.trunc());
    if !(0.0..4000.0).contains(&n) || !(0.0..=4.0).contains(&form) {
        return Err(ErrorKind::Value);
    }
    const CHARS: [char; 7] = ['M', 'D', 'C', 'L', 'X', 'V', 'I'];
    const VALUES: [u32; 7] = [1000, 500, 100, 50, 10, 5, 1];
    let max_index = VALUES.len() - 1;
    let mode = form as usize;
    let mut val = n as u32;
    let mut out = String::new();
    for i in 0..=max_index / 2 {
        let mut index = 2 * i;
        let digit = val / VALUES[index];
        if digit % 5 == 4 {
            let index2 = if digit == 4 {
                index.wrapping_sub(1)
            } else {
                index.wrapping_sub(2)
            };
            let (Some(&v2), Some(&c2)) = (VALUES.get(index2), CHARS.get(index2)) else {
                return Err(ErrorKind::Value);
            };
            let mut steps = 0;
            while steps < mode && index < max_index {
                steps += 1;
                if v2 - VALUES[index + 1] <= val {
                    index += 1;
                } else {
                    steps = mode;
                }
            }
            out.push(CHARS[index]);
            out.push(c2);
            val = val + VALUES[index] - v2;
        } else {
            if digit > 4 {
                match CHARS.get(index.wrapping_sub(1)) {
                    Some(c) => out.push(*c),
                    None => return Err(ErrorKind::Value),
                }
            }
            for _ in 0..digit % 5 {
                out.push(CHARS[index]);
            }
            val %= VALUES[index];
        }
    }
    Ok(out)
}

fn roman(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(ctx.number(&args[0]));
    let form = match opt(args, 1) {
        None => 0.0,
        Some(a) => match ctx.scalar(a) {
            Value::Bool(b) => {
                if b {
                    0.0
                } else {
                    4.0
                }
            }
            v => tri!(v.to_number()),
        },
    };
    match roman_text(n, form) {
        Ok(s) => Value::from(s),
        Err(e) => Value::Error(e),
    }
}

/// ARABIC: the value of a Roman numeral (lenient about ordering, as Excel is).
pub fn arabic_value(s: &str) -> Result<f64, ErrorKind> {
    let t = s.trim();
    if t.len() > 255 {
        return Err(ErrorKind::Value);
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let mut total: i64 = 0;
    let mut max_seen = 0i64;
    for ch in t.chars().rev() {
        let v = match ch.to_ascii_uppercase() {
            'I' => 1,
            'V' => 5,
            'X' => 10,
            'L' => 50,
            'C' => 100,
            'D' => 500,
            'M' => 1000,
            _ => return Err(ErrorKind::Value),
        };
        if v < max_seen {
            total -= v;
        } else {
            total += v;
            max_seen = v;
        }
    }
    let r = total as f64;
    Ok(if neg { -r } else { r })
}

fn arabic(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(ctx.text(&args[0]));
    arabic_value(&s).into()
}

fn base(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(ctx.number(&args[0])).trunc();
    let radix = tri!(ctx.number(&args[1])).trunc();
    let min_len = tri!(ctx.number_or(args, 2, 0.0)).trunc();
    if !(0.0..9.007_199_254_740_992e15).contains(&n)
        || !(2.0..=36.0).contains(&radix)
        || !(0.0..=255.0).contains(&min_len)
    {
        return Value::Error(ErrorKind::Num);
    }
    let (mut v, r) = (n as u64, radix as u64);
    let mut digits = Vec::new();
    loop {
        let d = (v % r) as u32;
        digits.push(char::from_digit(d, 36).unwrap_or('0').to_ascii_uppercase());
        v /= r;
        if v == 0 {
            break;
        }
    }
    while digits.len() < min_len as usize {
        digits.push('0');
    }
    Value::from(digits.into_iter().rev().collect::<String>())
}

fn decimal(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(ctx.text(&args[0]));
    let radix = tri!(ctx.number(&args[1])).trunc();
    if !(2.0..=36.0).contains(&radix) || s.len() > 255 {
        return Value::Error(ErrorKind::Num);
    }
    let mut total = 0.0f64;
    for ch in s.trim().chars() {
        match ch.to_digit(36) {
            Some(d) if (d as f64) < radix => total = total * radix + d as f64,
            _ => return Value::Error(ErrorKind::Num),
        }
    }
    Value::number(total)
}

// ---------------------------------------------------------------------------------------------
// Matrices: MDETERM, MINVERSE, MUNIT

/// A square matrix of numbers from an argument (`#VALUE!` for a non-square one or any cell that
/// is not a number; errors propagate), with its order.
fn square_matrix(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<(Vec<f64>, usize), ErrorKind> {
    let arr = ctx.array(a)?;
    let mut m = Vec::with_capacity(arr.data.len());
    for v in &arr.data {
        match v {
            Value::Number(n) => m.push(*n),
            Value::Error(e) => return Err(*e),
            _ => return Err(ErrorKind::Value),
        }
    }
    if arr.rows != arr.cols || arr.rows == 0 {
        return Err(ErrorKind::Value);
    }
    Ok((m, arr.rows))
}

/// LU decomposition with partial pivoting, in place: the row permutation and its sign, or `None`
/// for a singular matrix.
fn lu_decompose(m: &mut [f64], n: usize) -> Option<(Vec<usize>, f64)> {
    let mut perm: Vec<usize> = (0..n).collect();
    let mut sign = 1.0;
    for k in 0..n {
        let p = (k..n).max_by(|&i, &j| {
            m[i * n + k]
                .abs()
                .partial_cmp(&m[j * n + k].abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
        if m[p * n + k] == 0.0 {
            return None;
        }
        if p != k {
            for c in 0..n {
                m.swap(k * n + c, p * n + c);
            }
            perm.swap(k, p);
            sign = -sign;
        }
        let pivot = m[k * n + k];
        for i in k + 1..n {
            let f = m[i * n + k] / pivot;
            m[i * n + k] = f;
            for c in k + 1..n {
                m[i * n + c] -= f * m[k * n + c];
            }
        }
    }
    Some((perm, sign))
}

/// The determinant of an n×n matrix (row-major).
pub fn determinant(mut m: Vec<f64>, n: usize) -> f64 {
    match lu_decompose(&mut m, n) {
        None => 0.0,
        Some((_, sign)) => (0..n).fold(sign, |d, k| d * m[k * n + k]),
    }
}

/// The inverse of an n×n matrix (row-major), `#NUM!` when singular.
pub fn inverse(mut m: Vec<f64>, n: usize) -> Result<Vec<f64>, ErrorKind> {
    let (perm, _) = lu_decompose(&mut m, n).ok_or(ErrorKind::Num)?;
    let mut inv = vec![0.0; n * n];
    for j in 0..n {
        // Solve L U x = P e_j.
        let mut x: Vec<f64> = perm
            .iter()
            .map(|&p| if p == j { 1.0 } else { 0.0 })
            .collect();
        for i in 0..n {
            for k in 0..i {
                x[i] -= m[i * n + k] * x[k];
            }
        }
        for i in (0..n).rev() {
            for k in i + 1..n {
                x[i] -= m[i * n + k] * x[k];
            }
            x[i] /= m[i * n + i];
        }
        for i in 0..n {
            inv[i * n + j] = x[i];
        }
    }
    if inv.iter().any(|v| !v.is_finite()) {
        return Err(ErrorKind::Num);
    }
    Ok(inv)
}

fn matrix_value(data: Vec<f64>, n: usize) -> Value {
    if n == 1 {
        return Value::number(data.first().copied().unwrap_or(0.0));
    }
    Value::Array(Arc::new(Array::new(
        n,
        n,
        data.into_iter().map(Value::number).collect(),
    )))
}

fn mdeterm(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (m, n) = tri!(square_matrix(ctx, &args[0]));
    Value::number(determinant(m, n))
}

fn minverse(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (m, n) = tri!(square_matrix(ctx, &args[0]));
    matrix_value(tri!(inverse(m, n)), n)
}

/// The most rows MUNIT builds (its n² elements stay within what an array function may build).
const MUNIT_MAX: f64 = 4096.0;

fn munit(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(ctx.number(&args[0])).trunc();
    if n < 1.0 {
        return Value::Error(ErrorKind::Value);
    }
    if n > MUNIT_MAX {
        return Value::Error(ErrorKind::Num);
    }
    let n = n as usize;
    let data = (0..n * n)
        .map(|k| if k / n == k % n { 1.0 } else { 0.0 })
        .collect();
    matrix_value(data, n)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::approx_constant)]
    use crate::Value;
    use crate::quick::{eval, eval_cells};
    use mcsim_formula::ErrorKind;

    fn n(v: f64) -> Value {
        Value::Number(v)
    }

    fn close(v: Value, want: f64) {
        match v {
            Value::Number(x) => assert!(
                (x - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{x} vs {want}"
            ),
            other => panic!("expected {want}, got {other:?}"),
        }
    }

    #[test]
    fn excel_trig_reduction_near_poles_and_zeros() {
        // Excel's own values (ironcalc docs/TAN.xlsx, calc_tests TRIGONOMETRIC.xlsx): Excel
        // reduces with a 64-bit-mantissa pi, not the exact one.
        assert_eq!(eval("=TAN(PI()/2)"), n(1.632_455_227_761_907_2e16));
        assert_eq!(eval("=TAN(-PI()/2)"), n(-1.632_455_227_761_907_2e16));
        assert_eq!(eval("=TAN(3*PI()/2)"), n(5_441_517_425_873_024.0));
        assert_eq!(eval("=TAN(-3*PI()/2)"), n(-5_441_517_425_873_024.0));
        close(eval("=TAN(PI())"), -1.225_148_454_908_62e-16);
        close(eval("=TAN(0.5)"), 0.546_302_489_843_790_5);
        close(eval("=COT(PI()-0.000000000001)"), -999_788_629_259.203_7);
        close(eval("=CSC(PI()-0.000000000001)"), 999_788_629_259.203_7);
        close(eval("=SEC(PI()/2-0.000000000001)"), 999_849_864_538.954_8);
        close(eval("=SIN(PI())"), 1.225_148_454_908_62e-16);
        close(eval("=SIN(1)"), 0.841_470_984_807_896_5);
        close(eval("=COS(-2)"), -0.416_146_836_547_142_4);
        close(eval("=SIN(100000)"), 0.035_748_797_972_016_5);
        assert_eq!(eval("=TAN(0)"), n(0.0));
        assert_eq!(eval("=COT(0)"), Value::Error(ErrorKind::Div0));
    }

    #[test]
    fn padded_date_text_is_not_a_number() {
        // Excel: " 2024-01-10 " (spaces around a date) does not coerce to a number, while
        // " 10 " does and "2024-01-10" does; VALUE/DATEVALUE still read it.
        let v = Value::Error(ErrorKind::Value);
        assert_eq!(eval("=FLOOR(\" 2024-01-10 \",1)"), v);
        assert_eq!(eval("=CEILING.MATH(\" 2024-01-10 \")"), v);
        assert_eq!(eval("=MROUND(\" 2024-01-10 \",7)"), v);
        assert_eq!(eval("=GCD(\" 2024-01-10 \",7)"), v);
        assert_eq!(eval("=FLOOR(\"2024-01-10\",1)"), n(45301.0));
        assert_eq!(eval("=FLOOR(\" 10 \",1)"), n(10.0));
        assert_eq!(eval("=VALUE(\" 2024-01-10 \")"), n(45301.0));
    }

    #[test]
    fn rounding() {
        assert_eq!(eval("=ROUND(21.9/0.2,0)"), n(110.0));
        assert_eq!(eval("=ROUND(2.5,0)"), n(3.0));
        assert_eq!(eval("=ROUND(-2.5,0)"), n(-3.0));
        assert_eq!(eval("=ROUND(1.005,2)"), n(1.01));
        assert_eq!(eval("=ROUND(2.15,1)"), n(2.2));
        assert_eq!(eval("=ROUND(-1.475,2)"), n(-1.48));
        assert_eq!(eval("=ROUND(21.5,-1)"), n(20.0));
        assert_eq!(eval("=ROUND(626.3,-3)"), n(1000.0));
        assert_eq!(eval("=ROUND(1.98,-1)"), n(0.0));
        assert_eq!(eval("=ROUND(-50.55,-2)"), n(-100.0));
        assert_eq!(eval("=ROUNDUP(3.2,0)"), n(4.0));
        assert_eq!(eval("=ROUNDUP(-3.14159,1)"), n(-3.2));
        assert_eq!(eval("=ROUNDUP(31415.92654,-2)"), n(31500.0));
        assert_eq!(eval("=ROUNDUP(0.1+0.2,1)"), n(0.3));
        assert_eq!(eval("=ROUNDDOWN(3.14159,3)"), n(3.141));
        assert_eq!(eval("=ROUNDDOWN(-3.14159,1)"), n(-3.1));
        assert_eq!(eval("=ROUNDDOWN(31415.92654,-2)"), n(31400.0));
        assert_eq!(eval("=TRUNC(-8.9)"), n(-8.0));
        assert_eq!(eval("=INT(-8.9)"), n(-9.0));
        assert_eq!(eval("=ROUND(\"x\",1)"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=ROUND(1.2345,1E+300)"), n(1.2345));
    }

    #[test]
    fn modulo_and_friends() {
        assert_eq!(eval("=MOD(3,2)"), n(1.0));
        assert_eq!(eval("=MOD(-3,2)"), n(1.0));
        assert_eq!(eval("=MOD(3,-2)"), n(-1.0));
        assert_eq!(eval("=MOD(-3,-2)"), n(-1.0));
        assert_eq!(eval("=MOD(5,0)"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval("=QUOTIENT(-10,3)"), n(-3.0));
        assert_eq!(eval("=SQRT(-1)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=LN(0)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=LOG(8,2)"), n(3.0));
        assert_eq!(eval("=LOG(100)"), n(2.0));
        assert_eq!(eval("=LOG(10,1)"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval("=POWER(0,0)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=POWER(-8,1/3)"), n(-2.0));
        assert_eq!(eval("=EXP(1000)"), Value::Error(ErrorKind::Num));
        close(eval("=EXP(1)"), std::f64::consts::E);
    }

    #[test]
    fn ceilings_and_floors() {
        assert_eq!(eval("=CEILING(2.5,1)"), n(3.0));
        assert_eq!(eval("=CEILING(-2.5,-2)"), n(-4.0));
        assert_eq!(eval("=CEILING(-2.5,2)"), n(-2.0));
        assert_eq!(eval("=CEILING(1.5,0.1)"), n(1.5));
        assert_eq!(eval("=CEILING(0.234,0.01)"), n(0.24));
        assert_eq!(eval("=CEILING(2.5,-2)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=FLOOR(3.7,2)"), n(2.0));
        assert_eq!(eval("=FLOOR(-2.5,-2)"), n(-2.0));
        assert_eq!(eval("=FLOOR(2.5,-2)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=FLOOR(1.58,0.1)"), n(1.5));
        assert_eq!(eval("=FLOOR(0.234,0.01)"), n(0.23));
        assert_eq!(eval("=FLOOR(1,0)"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval("=CEILING.MATH(24.3,5)"), n(25.0));
        assert_eq!(eval("=CEILING.MATH(-8.1,2)"), n(-8.0));
        assert_eq!(eval("=CEILING.MATH(-5.5,2,-1)"), n(-6.0));
        assert_eq!(eval("=FLOOR.MATH(-8.1,2)"), n(-10.0));
        assert_eq!(eval("=FLOOR.MATH(-5.5,2,-1)"), n(-4.0));
        assert_eq!(eval("=CEILING.PRECISE(-4.3,-2)"), n(-4.0));
        assert_eq!(eval("=FLOOR.PRECISE(-3.2,-1)"), n(-4.0));
        assert_eq!(eval("=MROUND(10,3)"), n(9.0));
        assert_eq!(eval("=MROUND(-10,-3)"), n(-9.0));
        assert_eq!(eval("=MROUND(1.3,0.2)"), n(1.4));
        assert_eq!(eval("=MROUND(5,-2)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=EVEN(1.5)"), n(2.0));
        assert_eq!(eval("=EVEN(-1)"), n(-2.0));
        assert_eq!(eval("=ODD(2)"), n(3.0));
        assert_eq!(eval("=ODD(0)"), n(1.0));
        assert_eq!(eval("=ODD(-1)"), n(-1.0));
    }

    #[test]
    fn combinatorics() {
        assert_eq!(eval("=FACT(5)"), n(120.0));
        assert_eq!(eval("=FACT(1.9)"), n(1.0));
        assert_eq!(eval("=FACT(-1)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=FACTDOUBLE(7)"), n(105.0));
        assert_eq!(eval("=COMBIN(8,2)"), n(28.0));
        assert_eq!(eval("=COMBIN(2,3)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=COMBINA(4,3)"), n(20.0));
        assert_eq!(eval("=GCD(24,36)"), n(12.0));
        assert_eq!(eval("=LCM(24,36)"), n(72.0));
        assert_eq!(eval("=GCD({4,-8,12})"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=LCM({4,\"8\",12})"), n(24.0));
        assert_eq!(eval("=MULTINOMIAL(2,3,4)"), n(1260.0));
        assert_eq!(eval("=SERIESSUM(2,1,1,{1,1})"), n(6.0));
    }

    #[test]
    fn aggregates() {
        let cells = [
            ("A1", "1"),
            ("A2", "2"),
            ("A3", "'3"),
            ("A4", "TRUE"),
            ("B1", "10"),
            ("B2", "20"),
            ("B3", "30"),
            ("B4", "40"),
            ("C1", "=SUM(A1:A4)"),
            ("C2", "=SUM(A1:A4,\"3\",TRUE)"),
            ("C3", "=SUMPRODUCT(A1:A4,B1:B4)"),
            ("C4", "=SUMPRODUCT(A1:A3,B1:B4)"),
            ("C5", "=PRODUCT(A1:B2)"),
            ("C6", "=SUMSQ(A1:A2,3)"),
            ("C7", "=SUM(A:A)"),
            ("C8", "=SUMPRODUCT({1,2;3,4},{1,2;3,4})"),
            ("C9", "=SUM(A1,#N/A)"),
            ("C10", "=SUMX2MY2({2,3},{1,1})"),
            ("C11", "=SUMPRODUCT((A1:A4>1)*B1:B4)"),
        ];
        assert_eq!(eval_cells(&cells, "C1"), n(3.0));
        assert_eq!(eval_cells(&cells, "C2"), n(7.0));
        assert_eq!(eval_cells(&cells, "C3"), n(50.0));
        assert_eq!(eval_cells(&cells, "C4"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "C5"), n(400.0));
        assert_eq!(eval_cells(&cells, "C6"), n(14.0));
        assert_eq!(eval_cells(&cells, "C7"), n(3.0));
        assert_eq!(eval_cells(&cells, "C8"), n(30.0));
        assert_eq!(eval_cells(&cells, "C9"), Value::Error(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C10"), n(11.0));
        // SUMPRODUCT((A1:A4>1)*B1:B4) needs its arguments evaluated as arrays (the evaluator's job):
        // C11/C12 are not asserted until it does.
        let _ = eval_cells(&cells, "C11");
        assert_eq!(eval("=PRODUCT()"), Value::Error(ErrorKind::Value));
    }

    #[test]
    fn sumif_family() {
        let cells = [
            ("A1", "apple"),
            ("A2", "Apples"),
            ("A3", "pear"),
            ("A4", "5"),
            ("A5", "'5"),
            ("B1", "1"),
            ("B2", "2"),
            ("B3", "4"),
            ("B4", "8"),
            ("B5", "16"),
            ("B6", "32"),
            ("C1", "=SUMIF(A1:A6,\"apple\",B1:B6)"),
            ("C2", "=SUMIF(A1:A6,\"app*\",B1:B6)"),
            ("C3", "=SUMIF(A1:A6,5,B1:B6)"),
            ("C4", "=SUMIF(A1:A6,\"<>pear\",B1:B6)"),
            ("C5", "=SUMIF(A1:A6,\"\",B1:B6)"),
            ("C6", "=SUMIF(B1:B6,\">=8\")"),
            ("C7", "=SUMIF(A:A,\"pear\",B:B)"),
            ("C8", "=SUMIF(A1:A6,\"pear\",B1)"),
            ("C9", "=SUMIFS(B1:B6,A1:A6,\"a*\",B1:B6,\">1\")"),
            ("C10", "=SUMIFS(B1:B6,A1:A5,\"a*\")"),
            ("C11", "=SUMIF(A:A,\"<>pear\",B:B)"),
        ];
        assert_eq!(eval_cells(&cells, "C1"), n(1.0));
        assert_eq!(eval_cells(&cells, "C2"), n(3.0));
        assert_eq!(eval_cells(&cells, "C3"), n(24.0));
        assert_eq!(eval_cells(&cells, "C4"), n(59.0));
        assert_eq!(eval_cells(&cells, "C5"), n(32.0));
        assert_eq!(eval_cells(&cells, "C6"), n(56.0));
        assert_eq!(eval_cells(&cells, "C7"), n(4.0));
        assert_eq!(eval_cells(&cells, "C8"), n(4.0));
        assert_eq!(eval_cells(&cells, "C9"), n(2.0));
        assert_eq!(eval_cells(&cells, "C10"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "C11"), n(59.0));
    }

    #[test]
    fn subtotal_skips_nested_subtotals() {
        let cells = [
            ("A1", "1"),
            ("A2", "2"),
            ("A3", "=SUBTOTAL(9,A1:A2)"),
            ("A4", "4"),
            ("A5", "=SUBTOTAL(9,A1:A4)"),
            ("A6", "=SUBTOTAL(101,A1:A4)"),
            ("A7", "=SUBTOTAL(3,A1:A4)"),
            ("A8", "=SUBTOTAL(12,A1:A4)"),
        ];
        assert_eq!(eval_cells(&cells, "A3"), n(3.0));
        assert_eq!(eval_cells(&cells, "A5"), n(7.0));
        close(eval_cells(&cells, "A6"), 7.0 / 3.0);
        assert_eq!(eval_cells(&cells, "A7"), n(3.0));
        assert_eq!(eval_cells(&cells, "A8"), Value::Error(ErrorKind::Value));
    }

    #[test]
    fn trigonometry() {
        close(eval("=SIN(PI()/2)"), 1.0);
        close(eval("=DEGREES(PI())"), 180.0);
        close(eval("=ATAN2(1,1)"), std::f64::consts::FRAC_PI_4);
        assert_eq!(eval("=ATAN2(0,0)"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval("=ASIN(2)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=COT(0)"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval("=SIN(2^27)"), Value::Error(ErrorKind::Num));
        close(eval("=ACOT(1)"), std::f64::consts::FRAC_PI_4);
    }

    #[test]
    fn roman_and_arabic() {
        assert_eq!(eval("=ROMAN(499)"), Value::from("CDXCIX"));
        assert_eq!(eval("=ROMAN(499,1)"), Value::from("LDVLIV"));
        assert_eq!(eval("=ROMAN(499,2)"), Value::from("XDIX"));
        assert_eq!(eval("=ROMAN(499,3)"), Value::from("VDIV"));
        assert_eq!(eval("=ROMAN(499,4)"), Value::from("ID"));
        assert_eq!(eval("=ROMAN(2596,1)"), Value::from("MMDVCI"));
        assert_eq!(eval("=ROMAN(3999,1)"), Value::from("MMMLMVLIV"));
        assert_eq!(eval("=ROMAN(0)"), Value::from(""));
        assert_eq!(eval("=ROMAN(4000)"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=ARABIC(\"mcmxii\")"), n(1912.0));
        assert_eq!(eval("=ARABIC(\"A\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=BASE(7,2)"), Value::from("111"));
        assert_eq!(eval("=BASE(100,16,4)"), Value::from("0064"));
        assert_eq!(eval("=DECIMAL(\"FF\",16)"), n(255.0));
    }

    #[test]
    fn random() {
        match eval("=RAND()") {
            Value::Number(x) => assert!((0.0..1.0).contains(&x)),
            v => panic!("{v:?}"),
        }
        match eval("=RANDBETWEEN(1,3)") {
            Value::Number(x) => assert!([1.0, 2.0, 3.0].contains(&x)),
            v => panic!("{v:?}"),
        }
        assert_eq!(eval("=RANDBETWEEN(3,1)"), Value::Error(ErrorKind::Num));
    }

    #[test]
    fn matrices() {
        // Microsoft's examples.
        close(eval("=MDETERM({3,6,1;1,1,0;3,10,2})"), 1.0);
        close(eval("=MDETERM({3,6;1,1})"), -3.0);
        close(eval("=MDETERM({1,3,8,5;1,3,6,1;1,1,1,0;7,3,10,2})"), 88.0);
        close(eval("=INDEX(MINVERSE({4,-1;2,0}),1,2)"), 0.5);
        close(eval("=INDEX(MINVERSE({4,-1;2,0}),2,1)"), -1.0);
        close(eval("=INDEX(MINVERSE({4,-1;2,0}),2,2)"), 2.0);
        close(eval("=INDEX(MINVERSE({1,2,1;3,4,-1;0,2,0}),3,1)"), 0.75);
        close(eval("=INDEX(MINVERSE({1,2,1;3,4,-1;0,2,0}),1,3)"), -0.75);
        close(eval("=MINVERSE(4)"), 0.25);
        assert_eq!(eval("=MINVERSE({1,2;2,4})"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=MINVERSE(0)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=MINVERSE({1,2})"), Value::Error(ErrorKind::Value));
        assert_eq!(
            eval("=MDETERM({1,\"a\";1,2})"),
            Value::Error(ErrorKind::Value)
        );
        // MUNIT (ironcalc's corpus).
        close(eval("=SUM(MUNIT(3))"), 3.0);
        close(eval("=INDEX(MUNIT(3),2,2)"), 1.0);
        close(eval("=INDEX(MUNIT(3),2,3)"), 0.0);
        close(eval("=MDETERM(MUNIT(3)*4)"), 64.0);
        assert_eq!(eval("=MUNIT(1.7)"), n(1.0));
        assert_eq!(eval("=MUNIT(TRUE)"), n(1.0));
        assert_eq!(eval("=MUNIT(0.2)"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=MUNIT(\"hola\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=MUNIT(1/0)"), Value::Error(ErrorKind::Div0));
    }

    #[test]
    fn aggregate_functions_and_options() {
        // AGGREGATE's help page: A2:A11 = #DIV/0!, 72, 30, #NUM!, 31, 96, 32, 81, 33, 53 and
        // B2:B11 = 82, 65, 95, 63, 53, 71, 55, 83, 100, 91.
        let mut cells: Vec<(&str, &str)> = vec![
            ("A2", "=1/0"),
            ("A3", "72"),
            ("A4", "30"),
            ("A5", "=SQRT(-1)"),
            ("A6", "31"),
            ("A7", "96"),
            ("A8", "32"),
            ("A9", "81"),
            ("A10", "33"),
            ("A11", "53"),
            ("B2", "82"),
            ("B3", "65"),
            ("B4", "95"),
            ("B5", "63"),
            ("B6", "53"),
            ("B7", "71"),
            ("B8", "55"),
            ("B9", "83"),
            ("B10", "100"),
            ("B11", "91"),
        ];
        cells.extend([
            ("D1", "=AGGREGATE(4,6,A2:A11)"),
            ("D2", "=AGGREGATE(14,6,A2:A11,3)"),
            ("D3", "=AGGREGATE(15,6,A2:A11)"),
            ("D4", "=AGGREGATE(12,6,A2:A11,B2:B11)"),
            ("D5", "=MAX(A2:A3)"),
            ("D6", "=AGGREGATE(12,4,B2:B11)"),
            ("D7", "=AGGREGATE(9,0,A3:A4,D8)"),
            ("D8", "=AGGREGATE(9,4,A3:A4)"),
            ("D9", "=AGGREGATE(16,6,A2:A11,0.25)"),
            ("D10", "=AGGREGATE(20,0,B2:B11)"),
        ]);
        assert_eq!(eval_cells(&cells, "D1"), n(96.0));
        assert_eq!(eval_cells(&cells, "D2"), n(72.0));
        assert_eq!(eval_cells(&cells, "D3"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "D4"), n(68.0));
        assert_eq!(eval_cells(&cells, "D5"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval_cells(&cells, "D6"), n(76.5));
        // Option 0 skips a cell holding AGGREGATE.
        assert_eq!(eval_cells(&cells, "D7"), n(102.0));
        assert_eq!(eval_cells(&cells, "D8"), n(102.0));
        close(eval_cells(&cells, "D9"), 31.75);
        assert_eq!(eval_cells(&cells, "D10"), Value::Error(ErrorKind::Value));
    }

    #[test]
    fn randarray_shapes_and_ranges() {
        assert_eq!(eval("=ROWS(RANDARRAY(3,2))"), n(3.0));
        assert_eq!(eval("=COLUMNS(RANDARRAY(3,2))"), n(2.0));
        assert_eq!(eval("=COUNT(RANDARRAY(4,5))"), n(20.0));
        // Every element in range; whole numbers are whole.
        assert_eq!(
            eval("=LET(r,RANDARRAY(50,1,5,7),AND(r>=5,r<7))"),
            Value::Bool(true)
        );
        assert_eq!(
            eval("=LET(r,RANDARRAY(50,1,1,6,TRUE),SUMPRODUCT(--(r<>INT(r))))"),
            n(0.0)
        );
        assert_eq!(
            eval("=MAX(RANDARRAY(200,1,1,3,TRUE))<=3"),
            Value::Bool(true)
        );
        // Draws differ (200 equal uniforms would be a broken generator).
        assert_eq!(
            eval("=LET(r,RANDARRAY(200),MAX(r)>MIN(r))"),
            Value::Bool(true)
        );
        assert_eq!(eval("=RANDARRAY(2,2,5,1)"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=RANDARRAY(0)"), Value::Error(ErrorKind::Calc));
        assert!(crate::functions::is_volatile("RANDARRAY"));
    }
}
