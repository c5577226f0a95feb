//! Securities with an odd first or last coupon period: ODDFPRICE, ODDFYIELD, ODDLPRICE,
//! ODDLYIELD, from the formulas of Excel's documentation (long odd periods counted in
//! quasi-coupon periods).

use super::*;

/// Days from `a` to `b` as a numerator of the basis (30/360 or actual).
fn basis_days(a: Ymd, b: Ymd, basis: i64) -> f64 {
    days_between(a, b, true, basis)
}

/// The terms of Excel's documented ODDFPRICE formula, which covers a short first period (one
/// quasi-coupon period) and a long one (several) alike.
#[derive(Debug, Clone, Copy)]
struct OddFirst {
    /// Σ DC_i/NL_i over the quasi-coupon periods of the odd period (the first coupon, in periods).
    coupon_periods: f64,
    /// Σ A_i/NL_i: the accrued interest, in periods.
    accrued_periods: f64,
    /// Nq + DSC/E: periods from settlement to the first coupon.
    lead: f64,
    /// N: coupons after the first one, up to maturity.
    n: f64,
}

/// Checked arguments and schedule of ODDFPRICE/ODDFYIELD (`maturity >= first_coupon > settlement
/// > issue`).
#[allow(clippy::too_many_arguments)]
fn odd_first(
    settle: f64,
    maturity: f64,
    issue: f64,
    first: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<OddFirst, ErrorKind> {
    let s = date_serial(settle, date1904)?;
    let m = date_serial(maturity, date1904)?;
    let iss = date_serial(issue, date1904)?;
    let fc = date_serial(first, date1904)?;
    let f = frequency_of(freq)?;
    let b = basis_of(basis)?;
    if !(iss < s && s < fc && fc <= m) {
        return Err(ErrorKind::Num);
    }
    let months = 12 / f;
    let eom = m.is_last_of_month();
    // Quasi-coupon dates counted back from the first coupon.
    let q = |k: i64| fc.add_months(-k * months, eom);
    let (mut coupon_periods, mut accrued_periods) = (0.0, 0.0);
    let mut k = 1;
    loop {
        let (lo, hi) = (q(k), q(k - 1));
        let nl = coupdays_of(lo, hi, f, b);
        let start = lo.max(iss);
        // A whole quasi-coupon period pays one coupon even where its actual days are not its
        // normal length (actual/360): Excel's long first coupons in that basis show it.
        coupon_periods += if start == lo {
            1.0
        } else {
            basis_days(start, hi, b) / nl
        };
        if s > start {
            accrued_periods += basis_days(start, s.min(hi), b) / nl;
        }
        if lo <= iss || k > 12 * 400 {
            break;
        }
        k += 1;
    }
    // The quasi-coupon period holding settlement: whole periods after it, plus DSC/E.
    let mut j = 1;
    while q(j) > s && j < 12 * 400 {
        j += 1;
    }
    let (lo, hi) = (q(j), q(j - 1));
    let lead = (j - 1) as f64 + basis_days(s, hi, b) / coupdays_of(lo, hi, f, b);
    let n = if fc < m {
        coupon_dates(fc, m, f).2 as f64
    } else {
        0.0
    };
    Ok(OddFirst {
        coupon_periods,
        accrued_periods,
        lead,
        n,
    })
}

fn odd_first_price(t: OddFirst, rate: f64, yld: f64, redemption: f64, f: f64) -> f64 {
    let c = 100.0 * rate / f;
    let base = 1.0 + yld / f;
    let mut p = redemption / base.powf(t.n + t.lead) + c * t.coupon_periods / base.powf(t.lead);
    let mut k = 1.0;
    while k <= t.n {
        p += c / base.powf(k + t.lead);
        k += 1.0;
    }
    p - c * t.accrued_periods
}

/// ODDFPRICE(settlement, maturity, issue, first_coupon, rate, yld, redemption, frequency, basis).
#[allow(clippy::too_many_arguments)]
pub fn oddfprice(
    settle: f64,
    maturity: f64,
    issue: f64,
    first: f64,
    rate: f64,
    yld: f64,
    redemption: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let t = odd_first(settle, maturity, issue, first, freq, basis, date1904)?;
    if rate < 0.0 || yld < 0.0 || redemption <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(odd_first_price(t, rate, yld, redemption, freq.trunc()))
}

/// ODDFYIELD(settlement, maturity, issue, first_coupon, rate, pr, redemption, frequency, basis):
/// the yield at which ODDFPRICE gives `pr`.
#[allow(clippy::too_many_arguments)]
pub fn oddfyield(
    settle: f64,
    maturity: f64,
    issue: f64,
    first: f64,
    rate: f64,
    pr: f64,
    redemption: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let t = odd_first(settle, maturity, issue, first, freq, basis, date1904)?;
    if rate < 0.0 || pr <= 0.0 || redemption <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let f = freq.trunc();
    solve_price(&|y| odd_first_price(t, rate, y, redemption, f) - pr, rate)
}

/// The yield `y >= 0` at which a bond price function `g(y) = price(y) - pr`, decreasing in `y`,
/// is zero: Newton steps kept inside a bisection bracket.
pub(super) fn solve_price(g: &dyn Fn(f64) -> f64, guess: f64) -> Result<f64, ErrorKind> {
    let (mut lo, mut hi) = (0.0, 1.0);
    while g(hi) > 0.0 {
        lo = hi;
        hi *= 2.0;
        if hi > 1e6 {
            return Err(ErrorKind::Num);
        }
    }
    if g(lo) < 0.0 {
        return Err(ErrorKind::Num);
    }
    let mut y = guess.clamp(lo, hi);
    for _ in 0..200 {
        let gy = g(y);
        if gy == 0.0 {
            return Ok(y);
        }
        if gy > 0.0 {
            lo = y;
        } else {
            hi = y;
        }
        let h = 1e-7 * y.abs().max(1e-4);
        let d = (g(y + h) - g(y - h)) / (2.0 * h);
        let mut next = y - gy / d;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - y).abs() <= 1e-15 * y.abs().max(1e-10) {
            return finite(next);
        }
        y = next;
    }
    finite(y)
}

/// The three sums of Excel's ODDLPRICE/ODDLYIELD formulas over the quasi-coupon periods of the odd
/// last period, counted forward from `last_interest`: (Σ A_i/NL_i, Σ DC_i/NL_i, Σ DSC_i/NL_i).
fn odd_last(
    settle: f64,
    maturity: f64,
    last: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<(f64, f64, f64), ErrorKind> {
    let s = date_serial(settle, date1904)?;
    let m = date_serial(maturity, date1904)?;
    let l = date_serial(last, date1904)?;
    let f = frequency_of(freq)?;
    let b = basis_of(basis)?;
    if !(l < s && s < m) {
        return Err(ErrorKind::Num);
    }
    let months = 12 / f;
    let eom = l.is_last_of_month();
    let p = |k: i64| l.add_months(k * months, eom);
    let (mut accrued, mut counted, mut remaining) = (0.0, 0.0, 0.0);
    let mut k = 1;
    loop {
        let (lo, hi) = (p(k - 1), p(k));
        let nl = coupdays_of(lo, hi, f, b);
        let end = hi.min(m);
        counted += basis_days(lo, end, b) / nl;
        if s > lo {
            accrued += basis_days(lo, s.min(end), b) / nl;
        }
        if s < end {
            remaining += basis_days(s.max(lo), end, b) / nl;
        }
        if hi >= m || k > 12 * 400 {
            break;
        }
        k += 1;
    }
    Ok((accrued, counted, remaining))
}

/// ODDLPRICE(settlement, maturity, last_interest, rate, yld, redemption, frequency, basis).
#[allow(clippy::too_many_arguments)]
pub fn oddlprice(
    settle: f64,
    maturity: f64,
    last: f64,
    rate: f64,
    yld: f64,
    redemption: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (x1, x2, x3) = odd_last(settle, maturity, last, freq, basis, date1904)?;
    if rate < 0.0 || yld < 0.0 || redemption <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let f = freq.trunc();
    let c = 100.0 * rate / f;
    finite((redemption + c * x2) / (1.0 + x3 * yld / f) - c * x1)
}

/// ODDLYIELD(settlement, maturity, last_interest, rate, pr, redemption, frequency, basis): the
/// closed form of Excel's documentation.
#[allow(clippy::too_many_arguments)]
pub fn oddlyield(
    settle: f64,
    maturity: f64,
    last: f64,
    rate: f64,
    pr: f64,
    redemption: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (x1, x2, x3) = odd_last(settle, maturity, last, freq, basis, date1904)?;
    if rate < 0.0 || pr <= 0.0 || redemption <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let f = freq.trunc();
    let c = 100.0 * rate / f;
    finite(((redemption + c * x2) / (pr + c * x1) - 1.0) * f / x3)
}

pub(super) fn fn_oddfprice(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, i, fc, r, y, red, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, None, None, Some(0.0)]
    ));
    oddfprice(s, m, i, fc, r, y, red, f, b, ctx.date1904()).into()
}

pub(super) fn fn_oddfyield(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, i, fc, r, p, red, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, None, None, Some(0.0)]
    ));
    oddfyield(s, m, i, fc, r, p, red, f, b, ctx.date1904()).into()
}

pub(super) fn fn_oddlprice(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, l, r, y, red, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, None, Some(0.0)]
    ));
    oddlprice(s, m, l, r, y, red, f, b, ctx.date1904()).into()
}

pub(super) fn fn_oddlyield(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, l, r, p, red, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, None, Some(0.0)]
    ));
    oddlyield(s, m, l, r, p, red, f, b, ctx.date1904()).into()
}
