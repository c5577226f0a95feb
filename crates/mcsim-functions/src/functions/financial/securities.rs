//! Duration and securities that pay at maturity: DURATION, MDURATION, PRICEMAT, YIELDMAT.

use super::*;

/// DURATION(settlement, maturity, coupon, yld, frequency, basis): Macaulay duration in years of a
/// bond with 100 face value, its cash flows at whole coupon periods from the next coupon date
/// (the first one COUPDAYSNC/COUPDAYS periods from settlement).
#[allow(clippy::too_many_arguments)]
pub fn duration(
    settle: f64,
    maturity: f64,
    coupon_rate: f64,
    yld: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (s, m, f, b) = coupon_args(settle, maturity, freq, basis, date1904)?;
    if coupon_rate < 0.0 || yld < 0.0 {
        return Err(ErrorKind::Num);
    }
    let (pcd, ncd, n) = coupon_dates(s, m, f);
    let n = n as f64;
    let ff = f as f64;
    // The first flow is DSC/E periods away (COUPDAYSNC over COUPDAYS), the others whole periods
    // after it.
    let dsc = match b {
        0 | 4 => coupdays_of(pcd, ncd, f, b) - coupdaybs_of(pcd, s, b),
        _ => actual_days(s, ncd),
    };
    let lead = dsc / coupdays_of(pcd, ncd, f, b) - 1.0;
    let c = 100.0 * coupon_rate / ff;
    let base = 1.0 + yld / ff;
    let (mut weighted, mut price) = (0.0, 0.0);
    let mut t = 1.0;
    while t <= n {
        let flow = if t == n { c + 100.0 } else { c };
        let pv = flow / base.powf(t + lead);
        weighted += (t + lead) * pv;
        price += pv;
        t += 1.0;
    }
    if price == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(weighted / price / ff)
}

/// MDURATION: DURATION / (1 + yld / frequency).
#[allow(clippy::too_many_arguments)]
pub fn mduration(
    settle: f64,
    maturity: f64,
    coupon_rate: f64,
    yld: f64,
    freq: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let d = duration(settle, maturity, coupon_rate, yld, freq, basis, date1904)?;
    finite(d / (1.0 + yld / freq.trunc()))
}

/// The year fractions of PRICEMAT/YIELDMAT: (issue→maturity, settlement→maturity,
/// issue→settlement), with `issue < settlement < maturity` checked.
fn maturity_fractions(
    settle: f64,
    maturity: f64,
    issue: f64,
    basis: f64,
    date1904: bool,
) -> Result<(f64, f64, f64), ErrorKind> {
    let s = date_serial(settle, date1904)?;
    let m = date_serial(maturity, date1904)?;
    let i = date_serial(issue, date1904)?;
    let b = basis_of(basis)?;
    if s >= m || i > s {
        return Err(ErrorKind::Num);
    }
    Ok((yearfrac(i, m, b), yearfrac(s, m, b), yearfrac(i, s, b)))
}

/// PRICEMAT(settlement, maturity, issue, rate, yld, basis): price per 100 of a security that pays
/// its interest at maturity.
#[allow(clippy::too_many_arguments)]
pub fn pricemat(
    settle: f64,
    maturity: f64,
    issue: f64,
    rate: f64,
    yld: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (dim, dsm, a) = maturity_fractions(settle, maturity, issue, basis, date1904)?;
    if rate < 0.0 || yld < 0.0 {
        return Err(ErrorKind::Num);
    }
    finite((100.0 + dim * rate * 100.0) / (1.0 + dsm * yld) - a * rate * 100.0)
}

/// YIELDMAT(settlement, maturity, issue, rate, pr, basis): annual yield of a security that pays
/// its interest at maturity.
#[allow(clippy::too_many_arguments)]
pub fn yieldmat(
    settle: f64,
    maturity: f64,
    issue: f64,
    rate: f64,
    pr: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (dim, dsm, a) = maturity_fractions(settle, maturity, issue, basis, date1904)?;
    if rate < 0.0 || pr <= 0.0 {
        return Err(ErrorKind::Num);
    }
    if dsm == 0.0 {
        return Err(ErrorKind::Div0);
    }
    let paid = pr / 100.0 + a * rate;
    finite(((1.0 + dim * rate) - paid) / paid / dsm)
}

pub(super) fn fn_duration(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, c, y, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, Some(0.0)]
    ));
    duration(s, m, c, y, f, b, ctx.date1904()).into()
}

pub(super) fn fn_mduration(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, c, y, f, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, Some(0.0)]
    ));
    mduration(s, m, c, y, f, b, ctx.date1904()).into()
}

pub(super) fn fn_pricemat(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, i, r, y, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, Some(0.0)]
    ));
    pricemat(s, m, i, r, y, b, ctx.date1904()).into()
}

pub(super) fn fn_yieldmat(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [s, m, i, r, p, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, Some(0.0)]
    ));
    yieldmat(s, m, i, r, p, b, ctx.date1904()).into()
}
