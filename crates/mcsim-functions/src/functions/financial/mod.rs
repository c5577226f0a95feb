//! Financial functions.
//!
//! The arithmetic of every function lives in a pure kernel (`pmt`, `fv`, `npv`, `irr`, ...) that
//! the Monte Carlo block compiler can call over columns of iterations; the `fn_*` wrappers only
//! read arguments. The annuity functions share Excel's time-value equation
//! `pv·(1+r)^n + pmt·(1+r·type)·((1+r)^n − 1)/r + fv = 0` (with `pv + pmt·n + fv = 0` at `r = 0`).
//!
//! Bond and coupon functions need day counts in Excel's five bases, on dates of the workbook's date
//! system (1900 or 1904) read through [`crate::calendar`]; YEARFRAC's arithmetic is
//! [`super::date`]'s. The odd-coupon securities, DURATION and the maturity securities, the French
//! depreciation functions and EUROCONVERT have their own files and share these helpers.

use super::args::Numbers;
use super::date::yearfrac;
use super::{Arg, Ctx, FnSpec, Lift};
use crate::calendar::{Ymd, days_from_civil, max_serial};
use crate::tri;
use crate::value::Value;
use mcsim_formula::ErrorKind;

mod depreciation;
mod euro;
mod odd_coupon;
mod securities;

pub use depreciation::{amordegrc, amorlinc};
pub use euro::euroconvert;
pub use odd_coupon::{oddfprice, oddfyield, oddlprice, oddlyield};
pub use securities::{duration, mduration, pricemat, yieldmat};

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("PMT", 3, 5, Lift::All, fn_pmt),
    FnSpec::new("PV", 3, 5, Lift::All, fn_pv),
    FnSpec::new("FV", 3, 5, Lift::All, fn_fv),
    FnSpec::new("NPER", 3, 5, Lift::All, fn_nper),
    FnSpec::new("RATE", 3, 6, Lift::All, fn_rate),
    FnSpec::new("IPMT", 4, 6, Lift::All, fn_ipmt),
    FnSpec::new("PPMT", 4, 6, Lift::All, fn_ppmt),
    FnSpec::new("NPV", 2, 255, Lift::Mask(1), fn_npv),
    FnSpec::new("XNPV", 3, 3, Lift::Mask(1), fn_xnpv),
    FnSpec::new("IRR", 1, 2, Lift::Mask(0b10), fn_irr),
    FnSpec::new("XIRR", 2, 3, Lift::Mask(0b100), fn_xirr),
    FnSpec::new("MIRR", 3, 3, Lift::Mask(0b110), fn_mirr),
    FnSpec::new("EFFECT", 2, 2, Lift::All, fn_effect),
    FnSpec::new("NOMINAL", 2, 2, Lift::All, fn_nominal),
    FnSpec::new("CUMIPMT", 6, 6, Lift::All, fn_cumipmt),
    FnSpec::new("CUMPRINC", 6, 6, Lift::All, fn_cumprinc),
    FnSpec::new("SLN", 3, 3, Lift::All, fn_sln),
    FnSpec::new("SYD", 4, 4, Lift::All, fn_syd),
    FnSpec::new("DDB", 4, 5, Lift::All, fn_ddb),
    FnSpec::new("DB", 4, 5, Lift::All, fn_db),
    FnSpec::new("VDB", 5, 7, Lift::All, fn_vdb),
    FnSpec::new("ISPMT", 4, 4, Lift::All, fn_ispmt),
    FnSpec::new("PDURATION", 3, 3, Lift::All, fn_pduration),
    FnSpec::new("RRI", 3, 3, Lift::All, fn_rri),
    FnSpec::new("FVSCHEDULE", 2, 2, Lift::Mask(1), fn_fvschedule),
    FnSpec::new("DOLLARDE", 2, 2, Lift::All, fn_dollarde),
    FnSpec::new("DOLLARFR", 2, 2, Lift::All, fn_dollarfr),
    FnSpec::new("TBILLPRICE", 3, 3, Lift::All, fn_tbillprice),
    FnSpec::new("TBILLYIELD", 3, 3, Lift::All, fn_tbillyield),
    FnSpec::new("TBILLEQ", 3, 3, Lift::All, fn_tbilleq),
    FnSpec::new("COUPDAYBS", 3, 4, Lift::All, fn_coupdaybs),
    FnSpec::new("COUPDAYS", 3, 4, Lift::All, fn_coupdays),
    FnSpec::new("COUPDAYSNC", 3, 4, Lift::All, fn_coupdaysnc),
    FnSpec::new("COUPNCD", 3, 4, Lift::All, fn_coupncd),
    FnSpec::new("COUPNUM", 3, 4, Lift::All, fn_coupnum),
    FnSpec::new("COUPPCD", 3, 4, Lift::All, fn_couppcd),
    FnSpec::new("ACCRINT", 6, 8, Lift::All, fn_accrint),
    FnSpec::new("ACCRINTM", 3, 5, Lift::All, fn_accrintm),
    FnSpec::new("DISC", 4, 5, Lift::All, fn_disc),
    FnSpec::new("INTRATE", 4, 5, Lift::All, fn_intrate),
    FnSpec::new("RECEIVED", 4, 5, Lift::All, fn_received),
    FnSpec::new("PRICEDISC", 4, 5, Lift::All, fn_pricedisc),
    FnSpec::new("YIELDDISC", 4, 5, Lift::All, fn_yielddisc),
    FnSpec::new("PRICE", 6, 7, Lift::All, fn_price),
    FnSpec::new("YIELD", 6, 7, Lift::All, fn_yield),
    FnSpec::new("ODDFPRICE", 8, 9, Lift::All, odd_coupon::fn_oddfprice),
    FnSpec::new("ODDFYIELD", 8, 9, Lift::All, odd_coupon::fn_oddfyield),
    FnSpec::new("ODDLPRICE", 7, 8, Lift::All, odd_coupon::fn_oddlprice),
    FnSpec::new("ODDLYIELD", 7, 8, Lift::All, odd_coupon::fn_oddlyield),
    FnSpec::new("DURATION", 5, 6, Lift::All, securities::fn_duration),
    FnSpec::new("MDURATION", 5, 6, Lift::All, securities::fn_mduration),
    FnSpec::new("PRICEMAT", 5, 6, Lift::All, securities::fn_pricemat),
    FnSpec::new("YIELDMAT", 5, 6, Lift::All, securities::fn_yieldmat),
    FnSpec::new("AMORLINC", 6, 7, Lift::All, depreciation::fn_amorlinc),
    FnSpec::new("AMORDEGRC", 6, 7, Lift::All, depreciation::fn_amordegrc),
    FnSpec::new("EUROCONVERT", 3, 5, Lift::All, euro::fn_euroconvert),
];

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

/// Reads the numeric arguments `0..N`, left to right so that the first error wins. An argument
/// that is not there takes its default (`None`: 0); one that is there but empty (an empty cell,
/// `F(1,,3)`) reads as 0, as Excel's do.
fn read_numbers<const N: usize>(
    ctx: &mut Ctx<'_, '_>,
    args: &[Arg],
    defaults: [Option<f64>; N],
) -> Result<[f64; N], ErrorKind> {
    let mut out = [0.0; N];
    for (i, d) in defaults.iter().enumerate() {
        out[i] = match args.get(i) {
            Some(a) => ctx.number(a)?,
            None => d.unwrap_or(0.0),
        };
    }
    Ok(out)
}

/// The same for the functions that came from the Analysis ToolPak (EFFECT, CUMIPMT, the bond
/// functions, ...): they reject booleans with `#VALUE!`.
fn read_numbers_nb<const N: usize>(
    ctx: &mut Ctx<'_, '_>,
    args: &[Arg],
    defaults: [Option<f64>; N],
) -> Result<[f64; N], ErrorKind> {
    let mut out = [0.0; N];
    for (i, d) in defaults.iter().enumerate() {
        out[i] = match args.get(i) {
            Some(a) => match ctx.scalar(a) {
                Value::Bool(_) => return Err(ErrorKind::Value),
                v => v.to_number()?,
            },
            None => d.unwrap_or(0.0),
        };
    }
    Ok(out)
}

fn finite(x: f64) -> Result<f64, ErrorKind> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(ErrorKind::Num)
    }
}

/// Excel's `type` argument: any non-zero value means "beginning of period".
fn type_flag(t: f64) -> f64 {
    if t != 0.0 { 1.0 } else { 0.0 }
}

// ---------------------------------------------------------------------------------------------
// Annuity kernels
// ---------------------------------------------------------------------------------------------

/// PMT: the payment per period of an annuity.
pub fn pmt(rate: f64, nper: f64, pv: f64, fv: f64, typ: f64) -> Result<f64, ErrorKind> {
    let t = type_flag(typ);
    if rate == 0.0 {
        if nper == 0.0 {
            return Err(ErrorKind::Num);
        }
        return finite(-(pv + fv) / nper);
    }
    if rate <= -1.0 {
        return Err(ErrorKind::Num);
    }
    let g = (1.0 + rate).powf(nper);
    if g == 1.0 {
        // nper == 0 (or a rate too small to compound): no payment can settle the balance.
        return Err(ErrorKind::Num);
    }
    finite(-(fv + pv * g) * rate / ((1.0 + rate * t) * (g - 1.0)))
}

/// FV: the future value of an annuity.
pub fn fv(rate: f64, nper: f64, pmt: f64, pv: f64, typ: f64) -> Result<f64, ErrorKind> {
    let t = type_flag(typ);
    if rate == 0.0 {
        return finite(-(pv + pmt * nper));
    }
    if rate == -1.0 && nper < 0.0 {
        return Err(ErrorKind::Div0);
    }
    let g = (1.0 + rate).powf(nper);
    finite(-(pv * g + pmt * (1.0 + rate * t) * (g - 1.0) / rate))
}

/// PV: the present value of an annuity.
pub fn pv(rate: f64, nper: f64, pmt: f64, fv: f64, typ: f64) -> Result<f64, ErrorKind> {
    let t = type_flag(typ);
    if rate == 0.0 {
        return finite(-(fv + pmt * nper));
    }
    if rate == -1.0 {
        return Err(ErrorKind::Div0);
    }
    let g = (1.0 + rate).powf(nper);
    finite(-(fv + pmt * (1.0 + rate * t) * (g - 1.0) / rate) / g)
}

/// NPER: the number of periods of an annuity.
pub fn nper(rate: f64, pmt: f64, pv: f64, fv: f64, typ: f64) -> Result<f64, ErrorKind> {
    let t = type_flag(typ);
    if rate == 0.0 {
        if pmt == 0.0 {
            return Err(ErrorKind::Div0);
        }
        return finite(-(pv + fv) / pmt);
    }
    if rate <= -1.0 {
        return Err(ErrorKind::Num);
    }
    let ratio = if pmt != 0.0 {
        let term = pmt * (1.0 + rate * t) / rate;
        (term - fv) / (term + pv)
    } else {
        if pv == 0.0 {
            return Err(ErrorKind::Num);
        }
        -fv / pv
    };
    if ratio.is_nan() || ratio <= 0.0 || !ratio.is_finite() {
        return Err(ErrorKind::Num);
    }
    finite(ratio.ln() / rate.ln_1p())
}

/// The time-value equation and its derivative in the rate, for RATE's Newton iteration.
fn rate_equation(r: f64, nper: f64, pmt: f64, pv: f64, fv: f64, t: f64) -> (f64, f64) {
    if r.abs() < 1e-10 {
        // Limits as r → 0 (first-order expansion keeps Newton well defined).
        let f = pv + pmt * nper + fv;
        let d = pv * nper + pmt * (nper * (nper - 1.0) / 2.0 + t * nper);
        return (f, d);
    }
    let g = (1.0 + r).powf(nper);
    let g1 = (1.0 + r).powf(nper - 1.0);
    let annuity = (g - 1.0) / r;
    let f = pv * g + pmt * (1.0 + r * t) * annuity + fv;
    let d_annuity = (nper * g1 * r - (g - 1.0)) / (r * r);
    let d = pv * nper * g1 + pmt * (t * annuity + (1.0 + r * t) * d_annuity);
    (f, d)
}

/// RATE: the interest rate per period of an annuity, by Newton's method from `guess`.
pub fn rate(nper: f64, pmt: f64, pv: f64, fv: f64, typ: f64, guess: f64) -> Result<f64, ErrorKind> {
    let t = type_flag(typ);
    if nper <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let mut r = guess;
    // Excel documents 20 iterations to within 1e-7; in practice it converges in cases where a
    // plain 20-step Newton does not, so allow more steps with the same tolerance.
    for _ in 0..100 {
        let (f, d) = rate_equation(r, nper, pmt, pv, fv, t);
        if !f.is_finite() || !d.is_finite() || d == 0.0 {
            return Err(ErrorKind::Num);
        }
        let next = r - f / d;
        if !next.is_finite() || next <= -1.0 {
            return Err(ErrorKind::Num);
        }
        if (next - r).abs() < 1e-7 {
            // One more step: the tolerance is on the step, the answer is far more precise.
            let (f, d) = rate_equation(next, nper, pmt, pv, fv, t);
            let polished = if d != 0.0 && f.is_finite() && d.is_finite() {
                next - f / d
            } else {
                next
            };
            return finite(if (polished - next).abs() < 1e-7 {
                polished
            } else {
                next
            });
        }
        r = next;
    }
    Err(ErrorKind::Num)
}

/// IPMT: the interest part of payment `per`.
pub fn ipmt(rate: f64, per: f64, nper: f64, pv: f64, fv: f64, typ: f64) -> Result<f64, ErrorKind> {
    let t = type_flag(typ);
    let p = pmt(rate, nper, pv, fv, t)?;
    if per < 1.0 || per >= nper + 1.0 {
        return Err(ErrorKind::Num);
    }
    if per == 1.0 && t == 1.0 {
        return Ok(0.0);
    }
    let interest = if t == 1.0 {
        (fv_of(rate, per - 2.0, p, pv, 1.0)? - p) * rate
    } else {
        fv_of(rate, per - 1.0, p, pv, 0.0)? * rate
    };
    finite(interest)
}

fn fv_of(rate: f64, nper: f64, pmt: f64, pv: f64, t: f64) -> Result<f64, ErrorKind> {
    fv(rate, nper, pmt, pv, t)
}

/// PPMT: the principal part of payment `per`.
pub fn ppmt(rate: f64, per: f64, nper: f64, pv: f64, fv: f64, typ: f64) -> Result<f64, ErrorKind> {
    let p = pmt(rate, nper, pv, fv, typ)?;
    let i = ipmt(rate, per, nper, pv, fv, typ)?;
    finite(p - i)
}

/// CUMIPMT (`principal == false`) and CUMPRINC (`principal == true`).
pub fn cumulative(
    rate: f64,
    nper: f64,
    pv: f64,
    start: f64,
    end: f64,
    typ: f64,
    principal: bool,
) -> Result<f64, ErrorKind> {
    let t = if typ == 0.0 {
        0.0
    } else if typ == 1.0 {
        1.0
    } else {
        return Err(ErrorKind::Num);
    };
    let start = start.ceil();
    let end = end.trunc();
    if rate <= 0.0 || nper <= 0.0 || pv <= 0.0 || start < 1.0 || end < start || end > nper {
        return Err(ErrorKind::Num);
    }
    if principal {
        // Principal repaid grows geometrically; summing it in closed form avoids the cancellation
        // of `pmt − ipmt` (Excel's results are exact where that difference loses digits).
        let g = (1.0 + rate).powf(nper);
        let p = pmt(rate, nper, pv, 0.0, t)?;
        let mut s = start;
        let mut sum = 0.0;
        let k = if t == 1.0 {
            if s == 1.0 {
                sum += p;
                s = 2.0;
            }
            2.0
        } else {
            1.0
        };
        if s <= end {
            sum -= pv * ((1.0 + rate).powf(end - k + 1.0) - (1.0 + rate).powf(s - k)) / (g - 1.0);
        }
        return finite(sum);
    }
    if end - start > 10_000.0 {
        // Very long ranges: total payments less principal, in closed form.
        let p = pmt(rate, nper, pv, 0.0, t)?;
        let principal = cumulative(rate, nper, pv, start, end, t, true)?;
        return finite((end - start + 1.0) * p - principal);
    }
    let mut sum = 0.0;
    let mut per = start;
    while per <= end {
        sum += ipmt(rate, per, nper, pv, 0.0, t)?;
        per += 1.0;
    }
    finite(sum)
}

// ---------------------------------------------------------------------------------------------
// Cash-flow kernels
// ---------------------------------------------------------------------------------------------

/// NPV: `Σ vᵢ / (1+rate)^i`, the first value discounted one period.
pub fn npv(rate: f64, values: &[f64]) -> Result<f64, ErrorKind> {
    if rate == -1.0 {
        return Err(ErrorKind::Div0);
    }
    let f = 1.0 + rate;
    let mut sum = 0.0;
    let mut disc = 1.0;
    for v in values {
        disc *= f;
        sum += v / disc;
    }
    finite(sum)
}

fn npv_and_derivative(rate: f64, values: &[f64]) -> (f64, f64) {
    let f = 1.0 + rate;
    let mut sum = 0.0;
    let mut der = 0.0;
    for (i, v) in values.iter().enumerate() {
        let k = (i + 1) as f64;
        let disc = f.powf(k);
        sum += v / disc;
        der -= k * v / (disc * f);
    }
    (sum, der)
}

fn newton(mut x: f64, f: &dyn Fn(f64) -> (f64, f64), max_iter: usize, tol: f64) -> Option<f64> {
    for _ in 0..max_iter {
        let (y, d) = f(x);
        if !y.is_finite() || !d.is_finite() || d == 0.0 {
            return None;
        }
        let next = x - y / d;
        if !next.is_finite() {
            return None;
        }
        if (next - x).abs() <= tol * next.abs().max(1.0) {
            return Some(next);
        }
        x = next;
    }
    None
}

/// Finds a root of `f` on `(-1, ∞)` near `guess`: Newton first, then a bracketing search and
/// bisection, then Newton again from the bisection point.
fn solve_rate(guess: f64, f: &dyn Fn(f64) -> (f64, f64)) -> Result<f64, ErrorKind> {
    if let Some(r) = newton(guess, f, 100, 1e-12)
        && r > -1.0
    {
        return Ok(r);
    }
    // Bracket: scan a grid of rates for a sign change, nearest to the guess first.
    let grid: Vec<f64> = {
        let mut g = vec![
            -0.999999, -0.99, -0.9, -0.75, -0.5, -0.25, -0.1, 0.0, 0.05, 0.1, 0.2,
        ];
        g.extend([
            0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1000.0,
        ]);
        g
    };
    let mut best: Option<(f64, f64, f64)> = None;
    for w in grid.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (fa, fb) = (f(a).0, f(b).0);
        if fa.is_finite() && fb.is_finite() && fa * fb <= 0.0 {
            let dist = if guess < a {
                a - guess
            } else if guess > b {
                guess - b
            } else {
                0.0
            };
            if best.is_none_or(|(_, _, d)| dist < d) {
                best = Some((a, b, dist));
            }
        }
    }
    let Some((mut a, mut b, _)) = best else {
        return Err(ErrorKind::Num);
    };
    let mut fa = f(a).0;
    if fa == 0.0 {
        return Ok(a);
    }
    if f(b).0 == 0.0 {
        return Ok(b);
    }
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        let fm = f(m).0;
        if fm == 0.0 {
            return Ok(m);
        }
        if fa * fm < 0.0 {
            b = m;
        } else {
            a = m;
            fa = fm;
        }
        if (b - a).abs() < 1e-15 * a.abs().max(1.0) {
            break;
        }
    }
    let mid = 0.5 * (a + b);
    match newton(mid, f, 50, 1e-14) {
        Some(r) if r > -1.0 && (r - mid).abs() < 1e-6 => Ok(r),
        _ => Ok(mid),
    }
}

/// IRR: the rate at which the NPV of the cash flows is zero.
pub fn irr(values: &[f64], guess: f64) -> Result<f64, ErrorKind> {
    if guess <= -1.0 {
        return Err(ErrorKind::Value);
    }
    if !values.iter().any(|v| *v > 0.0) || !values.iter().any(|v| *v < 0.0) {
        return Err(ErrorKind::Num);
    }
    // Excel's IRR discounts the first value by zero periods: NPV(r, values)·(1+r) has the same
    // roots on (-1, ∞) and is better conditioned.
    let f = |r: f64| {
        let (s, d) = npv_and_derivative(r, values);
        (s * (1.0 + r), d * (1.0 + r) + s)
    };
    solve_rate(guess, &f)
}

fn xnpv_and_derivative(rate: f64, values: &[f64], dates: &[f64]) -> (f64, f64) {
    let d0 = dates.first().copied().unwrap_or(0.0);
    let mut sum = 0.0;
    let mut der = 0.0;
    for (v, d) in values.iter().zip(dates) {
        let e = (d - d0) / 365.0;
        let disc = (1.0 + rate).powf(e);
        sum += v / disc;
        der -= e * v / (disc * (1.0 + rate));
    }
    (sum, der)
}

/// Excel's checks on XNPV/XIRR dates (already truncated): same count as values, valid serials of
/// the workbook's date system, none before the first.
fn check_schedule(values: &[f64], dates: &[f64], date1904: bool) -> Result<(), ErrorKind> {
    if values.len() != dates.len() || values.is_empty() {
        return Err(ErrorKind::Num);
    }
    let first = dates[0];
    for d in dates {
        if !(0.0..=max_serial(date1904) as f64).contains(d) || *d < first {
            return Err(ErrorKind::Num);
        }
    }
    Ok(())
}

/// XNPV: `Σ vᵢ / (1+rate)^((dᵢ − d₀)/365)`.
pub fn xnpv(rate: f64, values: &[f64], dates: &[f64], date1904: bool) -> Result<f64, ErrorKind> {
    let dates: Vec<f64> = dates.iter().map(|d| d.trunc()).collect();
    check_schedule(values, &dates, date1904)?;
    // Excel rejects a rate of zero or below (not only the singular -100%).
    if rate <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(xnpv_and_derivative(rate, values, &dates).0)
}

/// XIRR: the rate at which XNPV is zero.
pub fn xirr(values: &[f64], dates: &[f64], guess: f64, date1904: bool) -> Result<f64, ErrorKind> {
    let dates: Vec<f64> = dates.iter().map(|d| d.trunc()).collect();
    check_schedule(values, &dates, date1904)?;
    if guess <= -1.0 {
        return Err(ErrorKind::Num);
    }
    if !values.iter().any(|v| *v > 0.0) || !values.iter().any(|v| *v < 0.0) {
        return Err(ErrorKind::Num);
    }
    let f = |r: f64| xnpv_and_derivative(r, values, &dates);
    solve_rate(guess, &f)
}

/// MIRR: the modified internal rate of return.
pub fn mirr(values: &[f64], finance_rate: f64, reinvest_rate: f64) -> Result<f64, ErrorKind> {
    let n = values.len() as f64;
    if values.len() < 2 {
        return Err(ErrorKind::Div0);
    }
    // Without a negative flow there is nothing to finance (#DIV/0!); without a positive one the
    // result is -100%.
    if !values.iter().any(|v| *v < 0.0) {
        return Err(ErrorKind::Div0);
    }
    let mut pos = 0.0;
    let mut neg = 0.0;
    let (fr, rr) = (1.0 + finance_rate, 1.0 + reinvest_rate);
    for (i, v) in values.iter().enumerate() {
        let k = i as f64;
        if *v > 0.0 {
            pos += v * rr.powf(n - 1.0 - k);
        } else {
            neg += v / fr.powf(k);
        }
    }
    if neg == 0.0 {
        return Err(ErrorKind::Div0);
    }
    let x = -pos / neg;
    let r = x.powf(1.0 / (n - 1.0)) - 1.0;
    if r.is_nan() {
        return Err(ErrorKind::Num);
    }
    if r.is_infinite() {
        return Err(ErrorKind::Div0);
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Rates and depreciation kernels
// ---------------------------------------------------------------------------------------------

/// EFFECT: the effective annual rate.
pub fn effect(nominal: f64, npery: f64) -> Result<f64, ErrorKind> {
    let n = npery.trunc();
    if nominal <= 0.0 || n < 1.0 {
        return Err(ErrorKind::Num);
    }
    finite((1.0 + nominal / n).powf(n) - 1.0)
}

/// NOMINAL: the nominal annual rate.
pub fn nominal(effect: f64, npery: f64) -> Result<f64, ErrorKind> {
    let n = npery.trunc();
    if effect <= 0.0 || n < 1.0 {
        return Err(ErrorKind::Num);
    }
    finite(((1.0 + effect).powf(1.0 / n) - 1.0) * n)
}

/// SLN: straight-line depreciation.
pub fn sln(cost: f64, salvage: f64, life: f64) -> Result<f64, ErrorKind> {
    if life == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite((cost - salvage) / life)
}

/// SYD: sum-of-years'-digits depreciation.
pub fn syd(cost: f64, salvage: f64, life: f64, per: f64) -> Result<f64, ErrorKind> {
    if life <= 0.0 || per <= 0.0 || per > life {
        return Err(ErrorKind::Num);
    }
    finite((cost - salvage) * (life - per + 1.0) * 2.0 / (life * (life + 1.0)))
}

/// The declining-balance depreciation of period `period` (no argument checks).
fn ddb_raw(cost: f64, salvage: f64, life: f64, period: f64, factor: f64) -> f64 {
    let mut rate = factor / life;
    let old = if rate >= 1.0 {
        rate = 1.0;
        if period == 1.0 { cost } else { 0.0 }
    } else {
        cost * (1.0 - rate).powf(period - 1.0)
    };
    let new = cost * (1.0 - rate).powf(period);
    let d = if new < salvage {
        old - salvage
    } else {
        old - new
    };
    d.max(0.0)
}

/// DDB: double-declining (or `factor`) balance depreciation.
pub fn ddb(cost: f64, salvage: f64, life: f64, period: f64, factor: f64) -> Result<f64, ErrorKind> {
    if cost < 0.0 || salvage < 0.0 || life <= 0.0 || period <= 0.0 || factor <= 0.0 || period > life
    {
        return Err(ErrorKind::Num);
    }
    finite(ddb_raw(cost, salvage, life, period, factor))
}

/// DB: fixed-declining balance depreciation.
pub fn db(cost: f64, salvage: f64, life: f64, period: f64, month: f64) -> Result<f64, ErrorKind> {
    let month = month.trunc();
    let period = period.trunc();
    if cost < 0.0
        || salvage < 0.0
        || life <= 0.0
        || period <= 0.0
        || !(1.0..=12.0).contains(&month)
        || period > life + 1.0
        || (month == 12.0 && period > life)
    {
        return Err(ErrorKind::Num);
    }
    if cost == 0.0 {
        return Ok(0.0);
    }
    let rate = ((1.0 - (salvage / cost).powf(1.0 / life)) * 1000.0).round() / 1000.0;
    let first = cost * rate * month / 12.0;
    if period == 1.0 {
        return finite(first);
    }
    if period > 100_000.0 {
        // Closed form of the loop below: the balance declines geometrically after year one.
        let last = period.min(life.trunc());
        let balance = (cost - first) * (1.0 - rate).powf(last - 1.0);
        let dep = if period > life {
            balance * rate * (12.0 - month) / 12.0
        } else {
            (cost - first) * (1.0 - rate).powf(last - 2.0) * rate
        };
        return finite(dep);
    }
    let mut total = first;
    let mut dep = first;
    let last = period.min(life.trunc());
    let mut p = 2.0;
    while p <= last {
        dep = (cost - total) * rate;
        total += dep;
        p += 1.0;
    }
    if period > life {
        dep = (cost - total) * rate * (12.0 - month) / 12.0;
    }
    finite(dep)
}

/// VDB with the switch to straight line, as Excel computes it: the schedule is walked in
/// one-period steps aligned on `start` (pieces `[0, frac(start)]`, `[frac(start), frac(start)+1]`,
/// ..., the last one cut at `end`); on each piece of length `L` starting at `a` with book value
/// `B`, the declining-balance charge is `min(B * factor / life * L, B - salvage)` and the
/// straight-line one `(B - salvage) / (life - a) * L`; once straight line is larger it is kept.
/// (Excel: `VDB(1,0,14,13.5,14,1.25)` = 0.03436314522734203, half of `VDB(1,0,14,12.5,13.5,1.25)`.)
fn vdb_switch(cost: f64, salvage: f64, life: f64, start: f64, end: f64, factor: f64) -> f64 {
    let rate = (factor / life).min(1.0);
    let offset = start - start.floor();
    let mut book = cost;
    let mut switched = false;
    let mut total = 0.0;
    let mut a = 0.0;
    let mut k = 0.0;
    while a < end {
        let mut b = if offset > 0.0 { offset + k } else { k + 1.0 };
        k += 1.0;
        if b <= a {
            continue;
        }
        b = b.min(end);
        let len = b - a;
        let sl = (book - salvage) / (life - a) * len;
        let dep = if switched {
            sl
        } else {
            let ddb = (book * rate * len).min(book - salvage).max(0.0);
            if sl > ddb {
                switched = true;
                sl
            } else {
                ddb
            }
        };
        if a >= start {
            total += dep;
        }
        book -= dep;
        a = b;
    }
    total
}

/// VDB: variable declining balance depreciation between two periods.
pub fn vdb(
    cost: f64,
    salvage: f64,
    life: f64,
    start: f64,
    end: f64,
    factor: f64,
    no_switch: bool,
) -> Result<f64, ErrorKind> {
    if start < 0.0
        || end < start
        || end > life
        || cost < 0.0
        || salvage > cost
        || factor <= 0.0
        || life <= 0.0
    {
        return Err(ErrorKind::Num);
    }
    let int_start = start.floor();
    let int_end = end.ceil();
    if int_end > 1_000_000.0 {
        // Far beyond any real schedule; refuse rather than loop for minutes.
        return Err(ErrorKind::Num);
    }
    if no_switch {
        let mut total = 0.0;
        let mut i = int_start + 1.0;
        while i <= int_end {
            let mut term = ddb_raw(cost, salvage, life, i, factor);
            if i == int_start + 1.0 {
                term *= end.min(int_start + 1.0) - start;
            } else if i == int_end {
                term *= end + 1.0 - int_end;
            }
            total += term;
            i += 1.0;
        }
        return finite(total);
    }
    finite(vdb_switch(cost, salvage, life, start, end, factor))
}

/// ISPMT: interest paid in period `per` of a straight-line loan.
pub fn ispmt(rate: f64, per: f64, nper: f64, pv: f64) -> Result<f64, ErrorKind> {
    if nper == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(pv * rate * (per / nper - 1.0))
}

/// PDURATION: periods for an investment to reach `fv`.
pub fn pduration(rate: f64, pv: f64, fv: f64) -> Result<f64, ErrorKind> {
    if rate <= 0.0 || pv <= 0.0 || fv <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite((fv.ln() - pv.ln()) / rate.ln_1p())
}

/// RRI: the equivalent interest rate for the growth of an investment.
pub fn rri(nper: f64, pv: f64, fv: f64) -> Result<f64, ErrorKind> {
    if nper <= 0.0 {
        return Err(ErrorKind::Num);
    }
    if fv == pv {
        return Ok(0.0);
    }
    if pv == 0.0 {
        return Err(ErrorKind::Num);
    }
    finite((fv / pv).powf(1.0 / nper) - 1.0)
}

/// DOLLARDE: a dollar price written as a fraction, as a decimal.
pub fn dollarde(dollar: f64, fraction: f64) -> Result<f64, ErrorKind> {
    if fraction < 0.0 {
        return Err(ErrorKind::Num);
    }
    let base = fraction.trunc();
    if base < 1.0 {
        return Err(ErrorKind::Div0);
    }
    let int = dollar.trunc();
    let digits = 10f64.powf(base.log10().ceil());
    finite(int + (dollar - int) * digits / base)
}

/// DOLLARFR: a decimal dollar price written as a fraction.
pub fn dollarfr(dollar: f64, fraction: f64) -> Result<f64, ErrorKind> {
    if fraction < 0.0 {
        return Err(ErrorKind::Num);
    }
    let base = fraction.trunc();
    if base < 1.0 {
        return Err(ErrorKind::Div0);
    }
    let int = dollar.trunc();
    let digits = 10f64.powf(base.log10().ceil());
    finite(int + (dollar - int) * base / digits)
}

// ---------------------------------------------------------------------------------------------
// Wrappers
// ---------------------------------------------------------------------------------------------

fn fn_pmt(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n, p, f, t] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, Some(0.0), Some(0.0)]
    ));
    pmt(r, n, p, f, t).into()
}

fn fn_pv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n, p, f, t] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, Some(0.0), Some(0.0)]
    ));
    pv(r, n, p, f, t).into()
}

fn fn_fv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n, p, v, t] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, Some(0.0), Some(0.0)]
    ));
    fv(r, n, p, v, t).into()
}

fn fn_nper(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, p, v, f, t] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, Some(0.0), Some(0.0)]
    ));
    nper(r, p, v, f, t).into()
}

fn fn_rate(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [n, p, v, f, t, g] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, Some(0.0), Some(0.0), Some(0.1)]
    ));
    rate(n, p, v, f, t, g).into()
}

fn fn_ipmt(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, per, n, v, f, t] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, None, Some(0.0), Some(0.0)]
    ));
    ipmt(r, per, n, v, f, t).into()
}

fn fn_ppmt(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, per, n, v, f, t] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, None, Some(0.0), Some(0.0)]
    ));
    ppmt(r, per, n, v, f, t).into()
}

fn fn_cumipmt(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n, v, s, e, t] = tri!(read_numbers_nb(ctx, args, [None; 6]));
    cumulative(r, n, v, s, e, t, false).into()
}

fn fn_cumprinc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n, v, s, e, t] = tri!(read_numbers_nb(ctx, args, [None; 6]));
    cumulative(r, n, v, s, e, t, true).into()
}

fn fn_npv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let r = tri!(ctx.number(&args[0]));
    let values = tri!(ctx.numbers(&args[1..], Numbers::default()));
    npv(r, &values).into()
}

/// Numbers of a range/array argument for IRR, MIRR and FVSCHEDULE: text, booleans and empty cells
/// in references and arrays are skipped, errors propagate.
fn flow_numbers(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<Vec<f64>, ErrorKind> {
    ctx.numbers(std::slice::from_ref(a), Numbers::default())
}

/// Every cell of a range/array argument, in order, for XNPV/XIRR (which reject gaps).
/// `empty` is what an empty cell reads as (`None`: the error `non_number`).
fn schedule_numbers(
    ctx: &mut Ctx<'_, '_>,
    a: &Arg,
    empty: Option<f64>,
    non_number: ErrorKind,
) -> Result<Vec<f64>, ErrorKind> {
    let arr = ctx.array(a)?;
    let mut out = Vec::with_capacity(arr.data.len());
    for v in &arr.data {
        match v {
            Value::Number(n) => out.push(*n),
            Value::Error(e) => return Err(*e),
            Value::Empty => match empty {
                Some(x) => out.push(x),
                None => return Err(ErrorKind::Num),
            },
            _ => return Err(non_number),
        }
    }
    Ok(out)
}

fn fn_xnpv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let r = tri!(ctx.number(&args[0]));
    let values = tri!(schedule_numbers(ctx, &args[1], None, ErrorKind::Num));
    let dates = tri!(schedule_numbers(ctx, &args[2], None, ErrorKind::Value));
    xnpv(r, &values, &dates, ctx.date1904()).into()
}

fn fn_irr(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let values = tri!(flow_numbers(ctx, &args[0]));
    let guess = tri!(ctx.number_or(args, 1, 0.1));
    irr(&values, guess).into()
}

fn fn_xirr(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let values = tri!(schedule_numbers(ctx, &args[0], Some(0.0), ErrorKind::Value));
    let dates = tri!(schedule_numbers(ctx, &args[1], Some(0.0), ErrorKind::Value));
    let guess = tri!(ctx.number_or(args, 2, 0.1));
    xirr(&values, &dates, guess, ctx.date1904()).into()
}

fn fn_mirr(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let values = tri!(flow_numbers(ctx, &args[0]));
    let f = tri!(ctx.number(&args[1]));
    let r = tri!(ctx.number(&args[2]));
    mirr(&values, f, r).into()
}

fn fn_effect(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n] = tri!(read_numbers_nb(ctx, args, [None, None]));
    effect(r, n).into()
}

fn fn_nominal(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, n] = tri!(read_numbers_nb(ctx, args, [None, None]));
    nominal(r, n).into()
}

fn fn_sln(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, s, l] = tri!(read_numbers(ctx, args, [None; 3]));
    sln(c, s, l).into()
}

fn fn_syd(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, s, l, p] = tri!(read_numbers(ctx, args, [None; 4]));
    syd(c, s, l, p).into()
}

fn fn_ddb(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, s, l, p, f] = tri!(read_numbers(ctx, args, [None, None, None, None, Some(2.0)]));
    ddb(c, s, l, p, f).into()
}

fn fn_db(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, s, l, p, m] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, None, Some(12.0)]
    ));
    db(c, s, l, p, m).into()
}

fn fn_vdb(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, s, l, st, e, f] = tri!(read_numbers(
        ctx,
        args,
        [None, None, None, None, None, Some(2.0)]
    ));
    let no_switch = tri!(ctx.boolean_or(args, 6, false));
    vdb(c, s, l, st, e, f, no_switch).into()
}

fn fn_ispmt(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, p, n, v] = tri!(read_numbers(ctx, args, [None; 4]));
    ispmt(r, p, n, v).into()
}

fn fn_pduration(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [r, p, f] = tri!(read_numbers(ctx, args, [None; 3]));
    pduration(r, p, f).into()
}

fn fn_rri(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [n, p, f] = tri!(read_numbers(ctx, args, [None; 3]));
    rri(n, p, f).into()
}

fn fn_fvschedule(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let principal = tri!(ctx.number(&args[0]));
    // Unlike the cash-flow functions, FVSCHEDULE rejects text in the schedule (#VALUE!) and
    // reads empty cells as 0.
    let arr = tri!(ctx.array(&args[1]));
    let mut result = principal;
    for v in &arr.data {
        let r = match v {
            Value::Number(n) => *n,
            Value::Empty => 0.0,
            Value::Error(e) => return Value::Error(*e),
            _ => return Value::Error(ErrorKind::Value),
        };
        result *= 1.0 + r;
    }
    Value::number(result)
}

fn fn_dollarde(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [d, f] = tri!(read_numbers_nb(ctx, args, [None, None]));
    dollarde(d, f).into()
}

fn fn_dollarfr(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [d, f] = tri!(read_numbers_nb(ctx, args, [None, None]));
    dollarfr(d, f).into()
}

// ---------------------------------------------------------------------------------------------
// Dates (in the workbook's date system, through `crate::calendar`)
// ---------------------------------------------------------------------------------------------

/// A valid date serial for the bond functions, as a date of the workbook's date system (serial 0
/// of the 1900 system is 1900-01-00, rejected; in the 1904 system it is 1904-01-01).
fn date_serial(x: f64, date1904: bool) -> Result<Ymd, ErrorKind> {
    let s = x.trunc();
    let first = if date1904 { 0.0 } else { 1.0 };
    if !(first..=max_serial(date1904) as f64).contains(&s) {
        return Err(ErrorKind::Num);
    }
    Ok(Ymd::from_serial(s as i64, date1904))
}

fn basis_of(b: f64) -> Result<i64, ErrorKind> {
    let b = b.trunc();
    if !(0.0..=4.0).contains(&b) {
        return Err(ErrorKind::Num);
    }
    Ok(b as i64)
}

fn frequency_of(f: f64) -> Result<i64, ErrorKind> {
    let f = f.trunc();
    if f == 1.0 || f == 2.0 || f == 4.0 {
        Ok(f as i64)
    } else {
        Err(ErrorKind::Num)
    }
}

fn diff_360(sd: i64, sm: i64, sy: i64, ed: i64, em: i64, ey: i64) -> f64 {
    ((ey - sy) * 360 + (em - sm) * 30 + (ed - sd)) as f64
}

/// US (NASD) 30/360 day count; `both` applies the end-date February adjustment unconditionally.
fn days_360_us(start: Ymd, end: Ymd, both: bool) -> f64 {
    let (mut sd, mut ed) = (start.d, end.d);
    if end.is_last_of_feb() && (start.is_last_of_feb() || both) {
        ed = 30;
    }
    if ed == 31 && (sd >= 30 || both) {
        ed = 30;
    }
    if sd == 31 {
        sd = 30;
    }
    if start.is_last_of_feb() {
        sd = 30;
    }
    diff_360(sd, start.m, start.y, ed, end.m, end.y)
}

/// European 30/360.
fn days_360_eu(start: Ymd, end: Ymd) -> f64 {
    let sd = start.d.min(30);
    let ed = end.d.min(30);
    diff_360(sd, start.m, start.y, ed, end.m, end.y)
}

fn actual_days(start: Ymd, end: Ymd) -> f64 {
    (end.serial() - start.serial()) as f64
}

/// Actual/365 "denominator" convention: February 29 counts as the 28th, years as 365 days.
fn days_365(start: Ymd, end: Ymd) -> f64 {
    let clamp = |x: Ymd| Ymd {
        d: if x.m == 2 && x.d > 28 { 28 } else { x.d },
        ..x
    };
    let (s, e) = (clamp(start), clamp(end));
    let same_year_e = Ymd { y: s.y, ..e };
    ((e.y - s.y) * 365) as f64
        + (days_from_civil(same_year_e.y, same_year_e.m, same_year_e.d)
            - days_from_civil(s.y, s.m, s.d)) as f64
}

/// Days between two dates in a basis; `numerator` picks the numerator convention of the actual
/// bases (2 and 3 count actual days in a numerator, 30/360-like days in a denominator).
fn days_between(start: Ymd, end: Ymd, numerator: bool, basis: i64) -> f64 {
    match basis {
        0 => days_360_us(start, end, false),
        4 => days_360_eu(start, end),
        2 if !numerator => days_360_us(start, end, false),
        3 if !numerator => days_365(start, end),
        _ => actual_days(start, end),
    }
}

// ---------------------------------------------------------------------------------------------
// T-bills
// ---------------------------------------------------------------------------------------------

/// Settlement and maturity of a T-bill: truncated, settlement before maturity, at most a year.
fn tbill_dates(settlement: f64, maturity: f64, date1904: bool) -> Result<f64, ErrorKind> {
    let s = date_serial(settlement, date1904)?;
    let m = date_serial(maturity, date1904)?;
    if s >= m {
        return Err(ErrorKind::Num);
    }
    // Maturity may be at most one calendar year after settlement.
    if m > s.add_months(12, false) {
        return Err(ErrorKind::Num);
    }
    Ok(actual_days(s, m))
}

/// A T-bill's price per $100 face value and its days from settlement to maturity.
fn tbill_price_days(
    settlement: f64,
    maturity: f64,
    discount: f64,
    date1904: bool,
) -> Result<(f64, f64), ErrorKind> {
    let dsm = tbill_dates(settlement, maturity, date1904)?;
    if discount <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let p = 100.0 * (1.0 - discount * dsm / 360.0);
    if p <= 0.0 {
        return Err(ErrorKind::Num);
    }
    Ok((p, dsm))
}

/// TBILLPRICE: price per $100 face value of a T-bill.
pub fn tbillprice(
    settlement: f64,
    maturity: f64,
    discount: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    finite(tbill_price_days(settlement, maturity, discount, date1904)?.0)
}

/// TBILLYIELD: the yield of a T-bill.
pub fn tbillyield(
    settlement: f64,
    maturity: f64,
    pr: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let dsm = tbill_dates(settlement, maturity, date1904)?;
    if pr <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite((100.0 - pr) / pr * 360.0 / dsm)
}

/// TBILLEQ: the bond-equivalent yield of a T-bill.
pub fn tbilleq(
    settlement: f64,
    maturity: f64,
    discount: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (price, dsm) = tbill_price_days(settlement, maturity, discount, date1904)?;
    if dsm < 183.0 {
        return finite(365.0 * discount / (360.0 - discount * dsm));
    }
    // Over half a year the bill is compared with a semi-annual coupon bond:
    // p·(1 + y/2)·(1 + e·y/year) = 1 with p = price/100 and e = dsm − year/2.
    let year = if dsm == 366.0 { 366.0 } else { 365.0 };
    let e = dsm - year / 2.0;
    let p = price / 100.0;
    let a = p * e / (2.0 * year);
    let b = p * (0.5 + e / year);
    let c = p - 1.0;
    let disc = b * b - 4.0 * a * c;
    if disc < 0.0 || a == 0.0 {
        return Err(ErrorKind::Num);
    }
    finite((-b + disc.sqrt()) / (2.0 * a))
}

fn fn_tbillprice(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, d] = tri!(read_numbers_nb(ctx, args, [None; 3]));
    tbillprice(s, m, d, ctx.date1904()).into()
}

fn fn_tbillyield(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, p] = tri!(read_numbers_nb(ctx, args, [None; 3]));
    tbillyield(s, m, p, ctx.date1904()).into()
}

fn fn_tbilleq(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, d] = tri!(read_numbers_nb(ctx, args, [None; 3]));
    tbilleq(s, m, d, ctx.date1904()).into()
}

// ---------------------------------------------------------------------------------------------
// Year fractions, coupons and accrued interest
// ---------------------------------------------------------------------------------------------

/// The coupon dates around `settle`: (previous, next, number of coupons left).
fn coupon_dates(settle: Ymd, maturity: Ymd, freq: i64) -> (Ymd, Ymd, i64) {
    let months = 12 / freq;
    let eom = maturity.is_last_of_month();
    // Coupons fall on maturity − k periods; start from an estimate of k and adjust.
    let span = (maturity.y - settle.y) * 12 + (maturity.m - settle.m);
    let mut k = (span / months).max(1);
    while k > 1 && maturity.add_months(-(k - 1) * months, eom) <= settle {
        k -= 1;
    }
    while maturity.add_months(-k * months, eom) > settle {
        k += 1;
    }
    let pcd = maturity.add_months(-k * months, eom);
    let ncd = maturity.add_months(-(k - 1) * months, eom);
    (pcd, ncd, k)
}

/// Checked settlement, maturity, frequency and basis of the COUP* functions.
fn coupon_args(
    settle: f64,
    maturity: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<(Ymd, Ymd, i64, i64), ErrorKind> {
    let s = date_serial(settle, date1904)?;
    let m = date_serial(maturity, date1904)?;
    let f = frequency_of(freq)?;
    let b = basis_of(basis)?;
    if s >= m {
        return Err(ErrorKind::Num);
    }
    Ok((s, m, f, b))
}

fn coupdays_of(pcd: Ymd, ncd: Ymd, freq: i64, basis: i64) -> f64 {
    match basis {
        1 => actual_days(pcd, ncd),
        3 => 365.0 / freq as f64,
        _ => 360.0 / freq as f64,
    }
}

fn coupdaybs_of(pcd: Ymd, settle: Ymd, basis: i64) -> f64 {
    match basis {
        0 => days_360_us(pcd, settle, false),
        4 => days_360_eu(pcd, settle),
        _ => actual_days(pcd, settle),
    }
}

/// The COUP* family: 0 COUPDAYBS, 1 COUPDAYS, 2 COUPDAYSNC, 3 COUPNCD, 4 COUPNUM, 5 COUPPCD.
pub fn coupon(
    which: u8,
    settle: f64,
    maturity: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (s, m, f, b) = coupon_args(settle, maturity, freq, basis, date1904)?;
    let (pcd, ncd, n) = coupon_dates(s, m, f);
    Ok(match which {
        0 => coupdaybs_of(pcd, s, b),
        1 => coupdays_of(pcd, ncd, f, b),
        2 => match b {
            0 | 4 => coupdays_of(pcd, ncd, f, b) - coupdaybs_of(pcd, s, b),
            _ => actual_days(s, ncd),
        },
        3 => ncd.serial() as f64,
        4 => n as f64,
        _ => pcd.serial() as f64,
    })
}

/// ACCRINT: interest accrued on a security that pays periodic interest.
#[allow(clippy::too_many_arguments)]
pub fn accrint(
    issue: f64,
    first_interest: f64,
    settlement: f64,
    rate: f64,
    par: f64,
    freq: f64,
    basis: f64,
    calc_method: bool,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let issue = date_serial(issue, date1904)?;
    let first = date_serial(first_interest, date1904)?;
    let settle = date_serial(settlement, date1904)?;
    if rate <= 0.0 || par <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let f = frequency_of(freq)?;
    let b = basis_of(basis)?;
    if issue >= settle {
        return Err(ErrorKind::Num);
    }
    let months = 12 / f;
    let eom = first.is_last_of_month();
    let reg_pcd = first.add_months(-months, eom);
    // The coupon date before settlement: walk forward from the first interest date.
    let pcd = if settle > first && calc_method {
        let mut front = first;
        let mut trailing = settle;
        while front < settle {
            trailing = front;
            front = front.add_months(months, eom);
        }
        trailing
    } else {
        reg_pcd
    };
    let start = if issue > pcd { issue } else { pcd };
    let mut acc = days_between(start, settle, true, b) / coupdays_of(reg_pcd, first, f, b);
    // Earlier periods back to the issue: whole ones count `calc_method`, the issue stub its share.
    let mut front = pcd;
    let mut guard = 0;
    while front > issue && guard < 100_000 {
        guard += 1;
        let period_end = front;
        front = front.add_months(-months, eom);
        if issue <= front {
            if calc_method {
                acc += 1.0;
            }
        } else {
            let num = if b == 0 {
                days_360_us(issue, period_end, false)
            } else {
                days_between(issue, period_end, true, b)
            };
            let den = match b {
                0 => days_360_us(front, period_end, true),
                3 => 365.0 / f as f64,
                _ => days_between(front, period_end, false, b),
            };
            acc += num / den;
        }
    }
    finite(par * rate / f as f64 * acc)
}

/// ACCRINTM: interest accrued on a security that pays at maturity.
pub fn accrintm(
    issue: f64,
    settlement: f64,
    rate: f64,
    par: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let i = date_serial(issue, date1904)?;
    let s = date_serial(settlement, date1904)?;
    if rate <= 0.0 || par <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let b = basis_of(basis)?;
    if i >= s {
        return Err(ErrorKind::Num);
    }
    finite(par * rate * yearfrac(i, s, b))
}

/// The discount-security functions: 0 DISC, 1 INTRATE, 2 RECEIVED, 3 PRICEDISC, 4 YIELDDISC.
pub fn discount_security(
    which: u8,
    settlement: f64,
    maturity: f64,
    a: f64,
    b: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let s = date_serial(settlement, date1904)?;
    let m = date_serial(maturity, date1904)?;
    if a <= 0.0 || b <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let basis = basis_of(basis)?;
    if s >= m {
        return Err(ErrorKind::Num);
    }
    let yf = yearfrac(s, m, basis);
    if yf == 0.0 {
        return Err(ErrorKind::Div0);
    }
    let r = match which {
        // DISC(settlement, maturity, pr, redemption)
        0 => (1.0 - a / b) / yf,
        // INTRATE(settlement, maturity, investment, redemption)
        1 => (b / a - 1.0) / yf,
        // RECEIVED(settlement, maturity, investment, discount)
        2 => {
            let d = 1.0 - b * yf;
            if d <= 0.0 {
                return Err(ErrorKind::Num);
            }
            a / d
        }
        // PRICEDISC(settlement, maturity, discount, redemption)
        3 => b * (1.0 - a * yf),
        // YIELDDISC(settlement, maturity, pr, redemption)
        _ => (b / a - 1.0) / yf,
    };
    finite(r)
}

fn coupon_fn(ctx: &mut Ctx<'_, '_>, args: &[Arg], which: u8) -> Value {
    let [s, m, f, b] = tri!(read_numbers_nb(ctx, args, [None, None, None, Some(0.0)]));
    coupon(which, s, m, f, b, ctx.date1904()).into()
}

fn fn_coupdaybs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    coupon_fn(ctx, args, 0)
}
fn fn_coupdays(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    coupon_fn(ctx, args, 1)
}
fn fn_coupdaysnc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    coupon_fn(ctx, args, 2)
}
fn fn_coupncd(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    coupon_fn(ctx, args, 3)
}
fn fn_coupnum(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    coupon_fn(ctx, args, 4)
}
fn fn_couppcd(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    coupon_fn(ctx, args, 5)
}

fn fn_accrint(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [i, f, s, r, p, q, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, Some(1000.0), None, Some(0.0)]
    ));
    let calc = match args.get(7) {
        None | Some(Arg::Value(Value::Empty)) => true,
        Some(a) => tri!(ctx.boolean(a)),
    };
    accrint(i, f, s, r, p, q, b, calc, ctx.date1904()).into()
}

fn fn_accrintm(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [i, s, r, p, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, Some(1000.0), Some(0.0)]
    ));
    accrintm(i, s, r, p, b, ctx.date1904()).into()
}

fn discount_fn(ctx: &mut Ctx<'_, '_>, args: &[Arg], which: u8) -> Value {
    let [s, m, a, b, basis] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, Some(0.0)]
    ));
    discount_security(which, s, m, a, b, basis, ctx.date1904()).into()
}

fn fn_disc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    discount_fn(ctx, args, 0)
}
fn fn_intrate(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    discount_fn(ctx, args, 1)
}
fn fn_received(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    discount_fn(ctx, args, 2)
}
fn fn_pricedisc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    discount_fn(ctx, args, 3)
}
fn fn_yielddisc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    discount_fn(ctx, args, 4)
}

/// The coupon schedule of PRICE/YIELD: (A = days from the previous coupon to settlement,
/// E = days in the coupon period, DSC = days from settlement to the next coupon, N = coupons
/// left), with the arguments checked.
fn bond_schedule(
    settle: f64,
    maturity: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<(f64, f64, f64, f64), ErrorKind> {
    let a = coupon(0, settle, maturity, freq, basis, date1904)?;
    let e = coupon(1, settle, maturity, freq, basis, date1904)?;
    // Excel takes DSC = E - A here, also for the actual/360 and actual/365 bases (where
    // COUPDAYSNC counts the actual days).
    Ok((
        a,
        e,
        e - a,
        coupon(4, settle, maturity, freq, basis, date1904)?,
    ))
}

/// The clean price per 100 face value of a bond with the given schedule.
fn bond_price(sched: (f64, f64, f64, f64), rate: f64, yld: f64, redemption: f64, f: f64) -> f64 {
    let (a, e, dsc, n) = sched;
    let coupon = 100.0 * rate / f;
    if n <= 1.0 {
        return (redemption + coupon) / (1.0 + dsc / e * yld / f) - coupon * a / e;
    }
    let base = 1.0 + yld / f;
    let lead = dsc / e;
    let mut total = redemption / base.powf(n - 1.0 + lead);
    let mut k = 1.0;
    while k <= n {
        total += coupon / base.powf(k - 1.0 + lead);
        k += 1.0;
    }
    total - coupon * a / e
}

/// PRICE(settlement, maturity, rate, yld, redemption, frequency, basis).
#[allow(clippy::too_many_arguments)]
pub fn price(
    settle: f64,
    maturity: f64,
    rate: f64,
    yld: f64,
    redemption: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let sched = bond_schedule(settle, maturity, freq, basis, date1904)?;
    if rate < 0.0 || yld < 0.0 || redemption <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(bond_price(sched, rate, yld, redemption, freq.trunc()))
}

/// YIELD(settlement, maturity, rate, pr, redemption, frequency, basis).
#[allow(clippy::too_many_arguments)]
pub fn yield_(
    settle: f64,
    maturity: f64,
    rate: f64,
    pr: f64,
    redemption: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let sched = bond_schedule(settle, maturity, freq, basis, date1904)?;
    if rate < 0.0 || pr <= 0.0 || redemption <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let f = freq.trunc();
    let (a, e, dsc, n) = sched;
    if n <= 1.0 {
        let par = pr / 100.0 + a / e * rate / f;
        return finite((redemption / 100.0 + rate / f - par) / par * (f * e / dsc));
    }
    // Newton on the price, with a numerical derivative; bisection keeps it in a bracket.
    odd_coupon::solve_price(&|y| bond_price(sched, rate, y, redemption, f) - pr, rate)
}

fn fn_price(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, r, y, red, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, Some(0.0)]
    ));
    price(s, m, r, y, red, f, b, ctx.date1904()).into()
}

fn fn_yield(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, r, p, red, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, Some(0.0)]
    ));
    yield_(s, m, r, p, red, f, b, ctx.date1904()).into()
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use crate::quick::{eval, eval_cells};
    use crate::value::Value;
    use mcsim_formula::ErrorKind;

    fn num(f: &str) -> f64 {
        match eval(f) {
            Value::Number(n) => n,
            v => panic!("{f}: {v:?}"),
        }
    }

    fn close(f: &str, expected: f64, tol: f64) {
        let n = num(f);
        assert!(
            (n - expected).abs() <= tol * expected.abs().max(1.0),
            "{f}: {n} vs {expected}"
        );
    }

    fn err(f: &str, e: ErrorKind) {
        assert_eq!(eval(f), Value::Error(e), "{f}");
    }

    #[test]
    fn duration_maturity_and_french_depreciation_match_excel_examples() {
        // Help-page examples of DURATION, MDURATION, PRICEMAT, YIELDMAT, AMORLINC, AMORDEGRC
        // (rounded there; the digits here are the same formulas evaluated in python3).
        close(
            "=DURATION(DATE(2018,7,1),DATE(2048,1,1),0.08,0.09,2,1)",
            10.919145281591925,
            1e-9,
        );
        close(
            "=MDURATION(DATE(2008,1,1),DATE(2016,1,1),0.08,0.09,2,1)",
            5.735669813918838,
            1e-9,
        );
        close(
            "=PRICEMAT(DATE(2008,2,15),DATE(2008,4,13),DATE(2007,11,11),0.061,0.061,0)",
            99.98449887555694,
            1e-9,
        );
        close(
            "=YIELDMAT(DATE(2008,3,15),DATE(2008,11,3),DATE(2007,11,8),0.0625,100.0123,0)",
            0.060954333691538576,
            1e-9,
        );
        close(
            "=AMORLINC(2400,DATE(2008,8,19),DATE(2008,12,31),300,1,0.15,1)",
            360.0,
            1e-12,
        );
        close(
            "=AMORDEGRC(2400,DATE(2008,8,19),DATE(2008,12,31),300,1,0.15,1)",
            776.0,
            1e-12,
        );
        err(
            "=AMORDEGRC(2400,DATE(2008,8,19),DATE(2008,12,31),300,1,0.15,2)",
            ErrorKind::Num,
        );
        // Long after the asset is written off: 0, without walking a billion periods.
        close(
            "=AMORDEGRC(2400,DATE(2008,8,19),DATE(2008,12,31),300,1E9,0.15,1)",
            0.0,
            0.0,
        );
        close(
            "=AMORLINC(2400,DATE(2008,8,19),DATE(2008,12,31),300,1E9,0.15,1)",
            0.0,
            0.0,
        );
        err(
            "=PRICEMAT(DATE(2008,4,13),DATE(2008,2,15),DATE(2007,11,11),0.061,0.061,0)",
            ErrorKind::Num,
        );
        err(
            "=DURATION(DATE(2018,7,1),DATE(2048,1,1),0.08,0.09,3,1)",
            ErrorKind::Num,
        );
    }

    #[test]
    fn euroconvert_matches_excel_examples() {
        // The rates of EUROCONVERT's help page; 1 FRF = 1/6.55957 EUR, to DEM through 0.152 EUR
        // (triangulation to 3 decimals) = 0.152 × 1.95583.
        close("=EUROCONVERT(1.2,\"DEM\",\"EUR\")", 0.61, 1e-12);
        close("=EUROCONVERT(1,\"FRF\",\"DEM\",TRUE,3)", 0.29728616, 1e-12);
        close("=EUROCONVERT(1,\"FRF\",\"DEM\",FALSE,3)", 0.3, 1e-12);
        close("=EUROCONVERT(1,\"FRF\",\"EUR\")", 0.15, 1e-12);
        close(
            "=EUROCONVERT(1,\"FRF\",\"EUR\",TRUE)",
            0.152_449_017_237_410_4,
            1e-15,
        );
        err("=EUROCONVERT(1,\"USD\",\"EUR\")", ErrorKind::Value);
        err("=EUROCONVERT(1,\"FRF\",\"DEM\",TRUE,2)", ErrorKind::Value);
    }

    #[test]
    fn odd_coupon_bonds_match_excel_examples() {
        // The examples of Excel's ODDFPRICE/ODDFYIELD/ODDLPRICE/ODDLYIELD help pages.
        close(
            "=ODDFPRICE(DATE(2008,11,11),DATE(2021,3,1),DATE(2008,10,15),DATE(2009,3,1),0.0785,0.0625,100,2,1)",
            113.597717474079,
            1e-12,
        );
        close(
            "=ODDFYIELD(DATE(2008,11,11),DATE(2021,3,1),DATE(2008,10,15),DATE(2009,3,1),0.0575,84.5,100,2,0)",
            0.0772455415972989,
            1e-11,
        );
        close(
            "=ODDLPRICE(DATE(2008,2,7),DATE(2008,6,15),DATE(2007,10,15),0.0375,0.0405,100,2,0)",
            99.8782860147213,
            1e-12,
        );
        close(
            "=ODDLYIELD(DATE(2008,4,20),DATE(2008,6,15),DATE(2007,12,24),0.0375,99.875,100,2,0)",
            0.0451922356291692,
            1e-12,
        );
        // The yield functions invert the price functions.
        close(
            "=ODDFYIELD(DATE(2008,11,11),DATE(2021,3,1),DATE(2008,10,15),DATE(2009,3,1),0.0785,\
             ODDFPRICE(DATE(2008,11,11),DATE(2021,3,1),DATE(2008,10,15),DATE(2009,3,1),0.0785,0.0625,100,2,1),100,2,1)",
            0.0625,
            1e-10,
        );
        // A long first period (issue more than one coupon period before the first coupon).
        close(
            "=ODDFYIELD(DATE(2020,1,15),DATE(2030,6,30),DATE(2019,3,1),DATE(2020,6,30),0.05,\
             ODDFPRICE(DATE(2020,1,15),DATE(2030,6,30),DATE(2019,3,1),DATE(2020,6,30),0.05,0.04,100,2,0),100,2,0)",
            0.04,
            1e-10,
        );
        // Dates out of order, bad frequency or basis, negative rate.
        err(
            "=ODDFPRICE(DATE(2008,10,1),DATE(2021,3,1),DATE(2008,10,15),DATE(2009,3,1),0.0785,0.0625,100,2,1)",
            ErrorKind::Num,
        );
        err(
            "=ODDFPRICE(DATE(2008,11,11),DATE(2021,3,1),DATE(2008,10,15),DATE(2009,3,1),0.0785,0.0625,100,3,1)",
            ErrorKind::Num,
        );
        err(
            "=ODDLPRICE(DATE(2008,2,7),DATE(2008,6,15),DATE(2007,10,15),-0.01,0.0405,100,2,0)",
            ErrorKind::Num,
        );
        err(
            "=ODDLYIELD(DATE(2008,4,20),DATE(2008,6,15),DATE(2008,6,15),0.0375,99.875,100,2,5)",
            ErrorKind::Num,
        );
    }

    #[test]
    fn annuities_match_excel_examples() {
        close("=PMT(0.08/12,10,10000)", -1037.0320893591606, 1e-12);
        close("=PMT(0.06/12,18*12,0,50000)", -129.08116086799722, 1e-12);
        close("=PMT(1,3,100,300,1)", -78.571428571428584, 1e-12);
        close("=PMT(0,10,1000)", -100.0, 1e-15);
        close("=FV(0.06/12,10,-200,-500,1)", 2581.4033740601362, 1e-12);
        close("=FV(0,12,-100)", 1200.0, 1e-15);
        close("=PV(0.08/12,12*20,500,,0)", -59777.145851187815, 1e-12);
        close(
            "=NPER(0.12/12,-100,-1000,10000,1)",
            59.673865674294625,
            1e-12,
        );
        close("=NPER(0,-100,1000)", 10.0, 1e-15);
        close("=RATE(4*12,-200,8000)", 0.0077014724882025, 1e-9);
        close("=RATE(10,-100,1000)", 0.0, 1e-9);
        close("=IPMT(0.1/12,1,3*12,8000)", -66.666666666666671, 1e-12);
        close("=IPMT(0.1,3,3,8000)", -292.44712990936563, 1e-12);
        close("=PPMT(0.1/12,1,2*12,2000)", -75.623186008366704, 1e-12);
        close("=IPMT(0.1,1,3,8000,0,1)", 0.0, 0.0);
        close(
            "=CUMIPMT(0.09/12,30*12,125000,13,24,0)",
            -11135.232130750845,
            1e-12,
        );
        close(
            "=CUMPRINC(0.09/12,30*12,125000,13,24,0)",
            -934.10712342088004,
            1e-12,
        );
        close(
            "=CUMPRINC(0.7,36,8000,2,10,1)",
            -4.7565423422487076e-3,
            1e-12,
        );
        close(
            "=CUMPRINC(0.09/12,30*12,125000,1,1,0)",
            -68.27827118097509,
            1e-12,
        );
    }

    #[test]
    fn annuity_errors() {
        err("=PMT(0,0,100)", ErrorKind::Num);
        err("=NPER(0,0,100)", ErrorKind::Div0);
        err("=IPMT(0.1,0,3,8000)", ErrorKind::Num);
        err("=IPMT(0.1,4,3,8000)", ErrorKind::Num);
        err("=CUMIPMT(0.1,10,1000,0,3,0)", ErrorKind::Num);
        err("=CUMIPMT(0.1,10,1000,1,3,2)", ErrorKind::Num);
        err("=CUMIPMT(0.1,10,1000,TRUE,3,0)", ErrorKind::Value);
        err("=PMT(\"x\",10,100)", ErrorKind::Value);
        err("=RATE(10,100,1000)", ErrorKind::Num);
    }

    #[test]
    fn cash_flows() {
        close("=NPV(0.1,-10000,3000,4200,6800)", 1188.4434123352207, 1e-12);
        // Text and empty cells in a range are skipped; a direct "3" is coerced.
        let v = eval_cells(
            &[
                ("A1", "-100"),
                ("A2", "x"),
                ("A4", "60"),
                ("A5", "60"),
                ("B1", "=NPV(0.1,A1:A5,\"3\")"),
            ],
            "B1",
        );
        let expected =
            -100.0 / 1.1 + 60.0 / 1.1f64.powi(2) + 60.0 / 1.1f64.powi(3) + 3.0 / 1.1f64.powi(4);
        assert!(
            matches!(v, Value::Number(n) if (n - expected).abs() < 1e-12),
            "{v:?}"
        );
        err("=NPV(-1,1,2)", ErrorKind::Div0);
        close(
            "=IRR({-70000,12000,15000,18000,21000,26000})",
            0.086630948036531,
            1e-9,
        );
        close(
            "=IRR({-70000,12000,15000,18000,21000})",
            -0.021244848273410,
            1e-9,
        );
        close("=IRR({-70000,12000,15000},-0.1)", -0.44350694133474, 1e-9);
        close("=IRR({-2,1})", -0.5, 1e-12);
        err("=IRR({1,2})", ErrorKind::Num);
        close(
            "=XNPV(0.09,{-10000,2750,4250,3250,2750},{39448,39508,39751,39859,39904})",
            2086.6476020315416,
            1e-12,
        );
        close(
            "=XIRR({-10000,2750,4250,3250,2750},{39448,39508,39751,39859,39904})",
            0.37336253351883,
            1e-8,
        );
        err(
            "=XNPV(0.09,{-10000,2750},{39448,39508,39751})",
            ErrorKind::Num,
        );
        err("=XNPV(0.09,{-10000,2750},{39448,39400})", ErrorKind::Num);
        close(
            "=MIRR({-120000,39000,30000,21000,37000,46000},0.1,0.12)",
            0.12609413036590,
            1e-9,
        );
        close("=MIRR({-6,-1,-2},0.1,0.2)", -1.0, 1e-15);
        err("=MIRR({6,1,2},0.1,0.2)", ErrorKind::Div0);
        close("=FVSCHEDULE(1,{0.09,0.11,0.1})", 1.33089, 1e-12);
    }

    #[test]
    fn rates_and_depreciation() {
        close("=EFFECT(0.0525,4)", 0.053542667370758, 1e-12);
        close("=NOMINAL(0.053543,4)", 0.052500319868356, 1e-12);
        err("=EFFECT(0,4)", ErrorKind::Num);
        err("=EFFECT(TRUE,4)", ErrorKind::Value);
        close("=SLN(30000,7500,10)", 2250.0, 1e-15);
        err("=SLN(1,1,0)", ErrorKind::Div0);
        close("=SYD(30000,7500,10,1)", 4090.909090909091, 1e-12);
        close("=DDB(2400,300,10*365,1)", 1.3150684931506849, 1e-12);
        close("=DDB(2400,300,10,1,2)", 480.0, 1e-12);
        close("=DDB(2400,300,10,10)", 22.122547200000042, 1e-9);
        err("=DDB(2400,300,10,11)", ErrorKind::Num);
        close("=DB(1000000,100000,6,1,7)", 186083.33333333334, 1e-12);
        close("=DB(1000000,100000,6,2,7)", 259639.41666666666, 1e-12);
        close("=DB(1000000,100000,6,7,7)", 15845.098473848071, 1e-9);
        close("=VDB(2400,300,10*365,0,1)", 1.3150684931506849, 1e-12);
        close("=VDB(2400,300,10*12,0,1)", 40.0, 1e-12);
        close("=VDB(2400,300,10,0,0.875,1.5)", 315.0, 1e-12);
        // Fractional periods (Excel's values, xlcalculator VDB.xlsx): the schedule is aligned on
        // the start, so the straight-line charge differs from the whole-period schedule.
        close("=VDB(1,0,14,0,0.5,1.25)", 0.044642857142857144, 1e-12);
        close("=VDB(1,0,14,0.5,1.5,1.25)", 0.08529974489795919, 1e-12);
        close("=VDB(1,0,14,2.5,3.5,1.25)", 0.07074765193864536, 1e-12);
        close("=VDB(1,0,14,3.5,4.5,1.25)", 0.06872629045468406, 1e-12);
        close("=VDB(1,0,14,11.5,12.5,1.25)", 0.06872629045468406, 1e-12);
        close("=VDB(1,0,14,13.5,14,1.25)", 0.03436314522734203, 1e-12);
        close("=VDB(1,0,14,11,12,1.25)", 0.06866789938377948, 1e-12);
        close("=VDB(1,0,14,13,14,1.25)", 0.06866789938377948, 1e-12);
        close("=ISPMT(0.1/12,1,3*12,8000000)", -64814.814814814818, 1e-12);
        close("=PDURATION(0.025,2000,2200)", 3.8598661626226, 1e-12);
        close("=RRI(96,10000,11000)", 0.0009933073762913303, 1e-9);
        close("=DOLLARDE(1.02,16)", 1.125, 1e-15);
        close("=DOLLARFR(1.125,16)", 1.02, 1e-15);
        err("=DOLLARDE(1.02,0)", ErrorKind::Div0);
    }

    #[test]
    fn bills_bonds_and_coupons() {
        close("=TBILLPRICE(39538,39600,0.09)", 98.45, 1e-12);
        close("=TBILLYIELD(39538,39600,98.45)", 0.09141696292534264, 1e-12);
        close("=TBILLEQ(39538,39600,0.0914)", 0.094151494, 1e-8);
        err("=TBILLPRICE(39538,40000,0.09)", ErrorKind::Num);
        close(
            "=ACCRINT(39508,39691,39569,0.1,1000,2,0)",
            16.666666666666664,
            1e-12,
        );
        close(
            "=ACCRINT(39512,39691,39569,0.1,1000,2,0,FALSE)",
            15.555555555555555,
            1e-12,
        );
        err("=ACCRINT(39508,39691,39569,0.1,1000,3,0)", ErrorKind::Num);
        close(
            "=ACCRINTM(39539,39614,0.1,1000,3)",
            20.54794520547945,
            1e-12,
        );
        // 2011-01-25 settlement, 2011-11-15 maturity, semi-annual, actual/actual.
        close("=COUPDAYBS(40568,40862,2,1)", 71.0, 0.0);
        close("=COUPDAYS(40568,40862,2,1)", 181.0, 0.0);
        close("=COUPDAYSNC(40568,40862,2,1)", 110.0, 0.0);
        close("=COUPNCD(40568,40862,2,1)", 40678.0, 0.0);
        close("=COUPPCD(40568,40862,2,1)", 40497.0, 0.0);
        close("=COUPNUM(39107,39767,2,1)", 4.0, 0.0);
        err("=COUPNUM(40862,40568,2,1)", ErrorKind::Num);
        // 128 days of 2008 (a leap year), actual/actual.
        close("=DISC(39476,39604,97.975,100,1)", 0.05790234375, 1e-12);
        close("=INTRATE(39478,39568,1000000,1014420,2)", 0.05768, 1e-12);
        close(
            "=RECEIVED(39478,39568,1000000,0.0575,2)",
            1014584.6544071021,
            1e-12,
        );
        close("=PRICEDISC(39493,39583,0.0525,100,2)", 98.6875, 1e-12);
    }

    #[test]
    fn price_and_yield() {
        // Microsoft's examples, then values Excel computed (ironcalc's PRICE_YIELD.xlsx).
        close(
            "=PRICE(DATE(2008,2,15),DATE(2017,11,15),0.0575,0.065,100,2,0)",
            94.6343616213221,
            1e-9,
        );
        close(
            "=YIELD(DATE(2008,2,15),DATE(2016,11,15),0.0575,95.04287,100,2,0)",
            0.065,
            1e-6,
        );
        close(
            "=PRICE(43891,47543,0.05,0.065,15,1,1)",
            43.935041646613442,
            1e-12,
        );
        close(
            "=PRICE(43891,47543,0.04,0.05,155,1,2)",
            126.04349401555694,
            1e-12,
        );
        close(
            "=PRICE(43891,47543,0.06,0.07,23,2,3)",
            54.196225247785335,
            1e-12,
        );
        close(
            "=PRICE(45748,46825,0.22,0.12,15,1,2)",
            62.736929069290866,
            1e-12,
        );
        let y = num("=YIELD(45748,46825,0.22,62.736929069290866,15,1,2)");
        assert!((y - 0.12).abs() < 1e-12, "{y}");
        err("=PRICE(47543,43891,0.05,0.065,15,1,1)", ErrorKind::Num);
        err("=PRICE(43891,47543,0.05,0.065,15,3,1)", ErrorKind::Num);
        err("=PRICE(43891,47543,-0.05,0.065,15,1,1)", ErrorKind::Num);
        err("=YIELD(43891,47543,0.05,0,15,1,1)", ErrorKind::Num);
        err("=PRICE(43891,47543,0.05,TRUE,15,1,1)", ErrorKind::Value);
    }

    /// The bond functions read dates in the workbook's date system: a 1904 workbook gives the
    /// same day counts, prices and year fractions as a 1900 one (Microsoft's documented examples),
    /// and date results in its own serials. (They once converted every serial as a 1900 date.)
    #[test]
    fn bond_functions_honour_the_1904_date_system() {
        use crate::quick::eval_1904;
        let both = |f: &str, expected: f64, tol: f64| {
            for (system, v) in [("1900", eval(f)), ("1904", eval_1904(f))] {
                let Value::Number(n) = v else {
                    panic!("{f} in the {system} system: {v:?}");
                };
                assert!(
                    (n - expected).abs() <= tol * expected.abs().max(1.0),
                    "{f} in the {system} system: {n} vs {expected}"
                );
            }
        };
        // COUPDAYS / COUPDAYBS / COUPDAYSNC / COUPNUM examples (settlement 25-Jan-2011,
        // maturity 15-Nov-2011, semi-annual, actual/actual).
        let (s, m) = ("DATE(2011,1,25)", "DATE(2011,11,15)");
        both(&format!("=COUPDAYS({s},{m},2,1)"), 181.0, 0.0);
        both(&format!("=COUPDAYBS({s},{m},2,1)"), 71.0, 0.0);
        both(&format!("=COUPDAYSNC({s},{m},2,1)"), 110.0, 0.0);
        both(&format!("=COUPNUM({s},{m},2,1)"), 2.0, 0.0);
        // COUPNCD is a date: 15-May-2011 in each system's serials.
        both(&format!("=COUPNCD({s},{m},2,1)-DATE(2011,5,15)"), 0.0, 0.0);
        both(&format!("=COUPPCD({s},{m},2,1)-DATE(2010,11,15)"), 0.0, 0.0);
        // PRICE example: 94.63436 (settlement 15-Feb-2008, maturity 15-Nov-2017, 5.75%, 6.5%).
        both(
            "=PRICE(DATE(2008,2,15),DATE(2017,11,15),0.0575,0.065,100,2,0)",
            94.634_361_621_322_1,
            1e-9,
        );
        // YEARFRAC examples (1-Jan-2012 to 30-Jul-2012).
        both(
            "=YEARFRAC(DATE(2012,1,1),DATE(2012,7,30),1)",
            0.576_502_732,
            1e-8,
        );
        both(
            "=YEARFRAC(DATE(2012,1,1),DATE(2012,7,30),3)",
            0.578_082_192,
            1e-8,
        );
        both(
            "=TBILLPRICE(DATE(2008,3,31),DATE(2008,6,1),0.09)",
            98.45,
            1e-12,
        );
        both(
            "=ACCRINTM(DATE(2008,4,1),DATE(2008,6,15),0.1,1000,3)",
            20.547_945_2,
            1e-8,
        );
        // XNPV's last valid date is 9999-12-31 in either system (serial 2958465 in the 1900
        // system, 2958465 - 1462 in the 1904 one).
        let last = "=XNPV(0.1,{-100,110},{0,2958465})";
        assert!(matches!(eval(last), Value::Number(_)));
        assert_eq!(eval_1904(last), Value::Error(ErrorKind::Num));
        both("=XNPV(0.1,{-100,110},{1,1})", 10.0, 1e-12);
    }
}
