//! The French depreciation of the ToolPak: AMORLINC and AMORDEGRC.

use super::*;

/// AMORLINC(cost, date_purchased, first_period, salvage, period, rate, basis): the French
/// straight-line depreciation of a period, the first one pro rata temporis.
#[allow(clippy::too_many_arguments)]
pub fn amorlinc(
    cost: f64,
    purchased: f64,
    first: f64,
    salvage: f64,
    period: f64,
    rate: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (p, f, b) = amor_args(
        cost, purchased, first, salvage, period, rate, basis, date1904,
    )?;
    let one = cost * rate;
    let first_rate = yearfrac(p, f, b) * rate * cost;
    let full = ((cost - salvage - first_rate) / one).trunc().max(0.0);
    let per = period.trunc();
    Ok(if per == 0.0 {
        first_rate
    } else if per <= full {
        one
    } else if per == full + 1.0 {
        (cost - salvage - one * full - first_rate).max(0.0)
    } else {
        0.0
    })
}

/// AMORDEGRC: AMORLINC's declining-balance counterpart, the rate scaled by the French
/// coefficient of the asset's life (1, 1.5, 2, 2.5) and each period's amount rounded to a unit.
#[allow(clippy::too_many_arguments)]
pub fn amordegrc(
    cost: f64,
    purchased: f64,
    first: f64,
    salvage: f64,
    period: f64,
    rate: f64,
    basis: f64,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let (p, f, b) = amor_args(
        cost, purchased, first, salvage, period, rate, basis, date1904,
    )?;
    let life = 1.0 / rate;
    let coeff = if life < 3.0 {
        1.0
    } else if life < 5.0 {
        1.5
    } else if life <= 6.0 {
        2.0
    } else {
        2.5
    };
    let rate = rate * coeff;
    let mut amount = (yearfrac(p, f, b) * rate * cost).round();
    let mut value = cost - amount;
    let mut rest = value - salvage;
    let periods = period.trunc() as u64;
    for n in 0..periods {
        amount = (rate * value).round();
        if amount == 0.0 && rest >= 0.0 {
            // Nothing is left to depreciate in this period or any later one.
            return Ok(0.0);
        }
        rest -= amount;
        if rest < 0.0 {
            // The last two periods share what is left; nothing after.
            return Ok(if periods - n <= 1 {
                (value * 0.5).round()
            } else {
                0.0
            });
        }
        value -= amount;
    }
    Ok(amount)
}

/// Checked arguments of AMORLINC/AMORDEGRC.
#[allow(clippy::too_many_arguments)]
fn amor_args(
    cost: f64,
    purchased: f64,
    first: f64,
    salvage: f64,
    period: f64,
    rate: f64,
    basis: f64,
    date1904: bool,
) -> Result<(Ymd, Ymd, i64), ErrorKind> {
    let p = date_serial(purchased, date1904)?;
    let f = date_serial(first, date1904)?;
    let b = basis_of(basis)?;
    if b == 2
        || cost <= 0.0
        || salvage < 0.0
        || salvage > cost
        || period < 0.0
        || rate <= 0.0
        || p > f
    {
        return Err(ErrorKind::Num);
    }
    Ok((p, f, b))
}

pub(super) fn fn_amorlinc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, d, f, s, p, r, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, Some(0.0)]
    ));
    amorlinc(c, d, f, s, p, r, b, ctx.date1904()).into()
}

pub(super) fn fn_amordegrc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let [c, d, f, s, p, r, b] = tri!(read_numbers_nb(
        ctx,
        args,
        [None, None, None, None, None, None, Some(0.0)]
    ));
    amordegrc(c, d, f, s, p, r, b, ctx.date1904()).into()
}
