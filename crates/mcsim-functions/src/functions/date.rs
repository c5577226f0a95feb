//! Date functions.
//!
//! Dates are serial numbers in the workbook's date system (1900 or 1904); the calendar behind them
//! is [`crate::calendar`].

use super::args::opt;
use super::{Arg, Ctx, FnSpec, Lift};
use crate::calendar::{
    OFFSET_1904, ParsedDateTime, Ymd, civil_serial, now_serial, parse_date_time_parts, serial_of,
    weekday_mon0,
};
pub use crate::calendar::{
    days_in_month, is_leap, max_serial, parse_date_time, serial_to_ymd, ymd_to_serial,
};
use crate::tri;
use crate::value::Value;
use mcsim_formula::ErrorKind;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("DATE", 3, 3, Lift::All, fn_date),
    FnSpec::new("YEAR", 1, 1, Lift::All, fn_year),
    FnSpec::new("MONTH", 1, 1, Lift::All, fn_month),
    FnSpec::new("DAY", 1, 1, Lift::All, fn_day),
    FnSpec::new("EOMONTH", 2, 2, Lift::All, fn_eomonth),
    FnSpec::new("EDATE", 2, 2, Lift::All, fn_edate),
    FnSpec::new("YEARFRAC", 2, 3, Lift::All, fn_yearfrac),
    FnSpec::new("TODAY", 0, 0, Lift::All, fn_today).volatile(),
    FnSpec::new("NOW", 0, 0, Lift::All, fn_now).volatile(),
    FnSpec::new("DAYS", 2, 2, Lift::All, fn_days),
    FnSpec::new("DATEDIF", 3, 3, Lift::All, fn_datedif),
    FnSpec::new("WEEKDAY", 1, 2, Lift::All, fn_weekday),
    FnSpec::new("WEEKNUM", 1, 2, Lift::All, fn_weeknum),
    FnSpec::new("ISOWEEKNUM", 1, 1, Lift::All, fn_isoweeknum),
    FnSpec::new("NETWORKDAYS", 2, 3, Lift::Mask(0b11), fn_networkdays),
    FnSpec::new(
        "NETWORKDAYS.INTL",
        2,
        4,
        Lift::Mask(0b111),
        fn_networkdays_intl,
    ),
    FnSpec::new("WORKDAY", 2, 3, Lift::Mask(0b11), fn_workday),
    FnSpec::new("WORKDAY.INTL", 2, 4, Lift::Mask(0b111), fn_workday_intl),
    FnSpec::new("TIME", 3, 3, Lift::All, fn_time),
    FnSpec::new("DATEVALUE", 1, 1, Lift::All, fn_datevalue),
    FnSpec::new("TIMEVALUE", 1, 1, Lift::All, fn_timevalue),
    FnSpec::new("HOUR", 1, 1, Lift::All, fn_hour),
    FnSpec::new("MINUTE", 1, 1, Lift::All, fn_minute),
    FnSpec::new("SECOND", 1, 1, Lift::All, fn_second),
    FnSpec::new("DAYS360", 2, 3, Lift::All, fn_days360),
];

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

fn num(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<f64, ErrorKind> {
    match args.get(i) {
        Some(a) => ctx.number(a),
        None => Ok(0.0),
    }
}

/// A date argument as a whole serial number: `#NUM!` if negative or past 9999-12-31.
fn date_num(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<i64, ErrorKind> {
    let v = num(ctx, args, i)?;
    check_serial(v, ctx.date1904())
}

fn check_serial(v: f64, date1904: bool) -> Result<i64, ErrorKind> {
    if !v.is_finite() || v < 0.0 || v.floor() as i64 > max_serial(date1904) {
        return Err(ErrorKind::Num);
    }
    Ok(v.floor() as i64)
}

fn ymd(serial: i64, date1904: bool) -> Result<(i64, u32, u32), ErrorKind> {
    serial_to_ymd(serial as f64, date1904)
        .map(|(y, m, d)| (y as i64, m, d))
        .ok_or(ErrorKind::Num)
}

// ---------------------------------------------------------------------------------------------
// DATE, YEAR, MONTH, DAY, EDATE, EOMONTH
// ---------------------------------------------------------------------------------------------

fn fn_date(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let y = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let d = tri!(num(ctx, args, 2));
    ymd_to_serial(y, m, d, ctx.date1904()).into()
}

fn part(ctx: &mut Ctx<'_, '_>, args: &[Arg], which: u8) -> Value {
    let s = tri!(date_num(ctx, args, 0));
    let (y, m, d) = tri!(ymd(s, ctx.date1904()));
    Value::Number(match which {
        0 => y as f64,
        1 => m as f64,
        _ => d as f64,
    })
}

fn fn_year(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    part(ctx, args, 0)
}

fn fn_month(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    part(ctx, args, 1)
}

fn fn_day(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    part(ctx, args, 2)
}

/// EDATE/EOMONTH: the date `months` months after `start`; `end_of_month` gives the month's last day,
/// otherwise the day is kept (clipped to the month's length).
pub fn add_months(
    start: f64,
    months: f64,
    end_of_month: bool,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    let s = check_serial(start, date1904)?;
    if !months.is_finite() || months.abs() > 1e6 {
        return Err(ErrorKind::Num);
    }
    let (y, m, d) = ymd(s, date1904)?;
    let total = y * 12 + (m as i64 - 1) + months.trunc() as i64;
    let (y2, m2) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    if !(1900..=9999).contains(&y2) {
        return Err(ErrorKind::Num);
    }
    let dim = days_in_month(y2, m2);
    let d2 = if end_of_month { dim } else { d.min(dim) };
    serial_of(y2, m2, d2, date1904).map(|s| s as f64)
}

/// EDATE and EOMONTH (Analysis ToolPak functions) reject booleans.
fn no_bool(args: &[Arg]) -> Result<(), ErrorKind> {
    if args.iter().any(|a| matches!(a, Arg::Value(Value::Bool(_)))) {
        Err(ErrorKind::Value)
    } else {
        Ok(())
    }
}

fn fn_edate(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    tri!(no_bool(args));
    let s = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    add_months(s, m, false, ctx.date1904()).into()
}

fn fn_eomonth(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    tri!(no_bool(args));
    let s = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    add_months(s, m, true, ctx.date1904()).into()
}

// ---------------------------------------------------------------------------------------------
// YEARFRAC, DAYS, DAYS360, DATEDIF
// ---------------------------------------------------------------------------------------------

/// YEARFRAC's kernel (`basis` 0 US 30/360, 1 actual/actual, 2 actual/360, 3 actual/365, 4 EU 30/360).
pub fn yearfrac_kernel(start: f64, end: f64, basis: f64, date1904: bool) -> Result<f64, ErrorKind> {
    let s = check_serial(start, date1904)?;
    let e = check_serial(end, date1904)?;
    if !basis.is_finite() {
        return Err(ErrorKind::Num);
    }
    let basis = basis.trunc();
    if !(0.0..=4.0).contains(&basis) {
        return Err(ErrorKind::Num);
    }
    Ok(yearfrac(
        Ymd::from_serial(s, date1904),
        Ymd::from_serial(e, date1904),
        basis as i64,
    ))
}

/// The fraction of a year between two dates (in either order) in a day-count basis (0 US 30/360,
/// 1 actual/actual, 2 actual/360, 3 actual/365, anything else EU 30/360): YEARFRAC's arithmetic,
/// shared with the bond functions.
pub(crate) fn yearfrac(start: Ymd, end: Ymd, basis: i64) -> f64 {
    let (s, e) = if start <= end {
        (start, end)
    } else {
        (end, start)
    };
    let (y1, m1, d1) = (s.y, s.m, s.d);
    let (y2, m2, d2) = (e.y, e.m, e.d);
    let days = (e.serial() - s.serial()) as f64;
    match basis {
        0 => {
            let (mut d1, mut d2) = (d1, d2);
            let last1 = m1 == 2 && d1 == days_in_month(y1, 2) as i64;
            let last2 = m2 == 2 && d2 == days_in_month(y2, 2) as i64;
            if d1 == 31 && d2 == 31 {
                d1 = 30;
                d2 = 30;
            } else if d1 == 31 {
                d1 = 30;
            } else if d1 == 30 && d2 == 31 {
                d2 = 30;
            } else if last1 && last2 {
                d1 = 30;
                d2 = 30;
            } else if last1 {
                d1 = 30;
            }
            let n = (y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1);
            n as f64 / 360.0
        }
        1 => {
            let appears_le_year = y1 == y2 || (y1 + 1 == y2 && (m1 > m2 || (m1 == m2 && d1 >= d2)));
            if appears_le_year {
                let year_len = if (y1 == y2 && is_leap(y1)) || feb29_between(y1, m1, y2, m2, d2) {
                    366.0
                } else {
                    365.0
                };
                days / year_len
            } else {
                let years = (y2 - y1 + 1) as f64;
                let from = serial_of(y1, 1, 1, s.date1904).unwrap_or(0);
                let to = civil_serial(y2 + 1, 1, 1, s.date1904);
                let avg = (to - from) as f64 / years;
                days / avg
            }
        }
        2 => days / 360.0,
        3 => days / 365.0,
        _ => {
            let n = (y2 - y1) * 360 + (m2 - m1) * 30 + (d2.min(30) - d1.min(30));
            n as f64 / 360.0
        }
    }
}

/// For YEARFRAC basis 1 with dates less than a year apart: does a 29 February fall between them
/// (the start may be that day), or is the end itself 29 February?
fn feb29_between(y1: i64, m1: i64, y2: i64, m2: i64, d2: i64) -> bool {
    if m2 == 2 && d2 == 29 {
        return true;
    }
    if is_leap(y1) && m1 <= 2 {
        return true;
    }
    is_leap(y2) && m2 >= 3
}

fn fn_yearfrac(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let e = tri!(num(ctx, args, 1));
    let b = tri!(ctx.number_or(args, 2, 0.0));
    yearfrac_kernel(s, e, b, ctx.date1904()).into()
}

fn fn_days(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let e = tri!(date_num(ctx, args, 0));
    let s = tri!(date_num(ctx, args, 1));
    Value::Number((e - s) as f64)
}

/// DAYS360's kernel: `european` false is the US (NASD) method.
pub fn days360_kernel(
    start: f64,
    end: f64,
    european: bool,
    date1904: bool,
) -> Result<f64, ErrorKind> {
    // Excel reads the dates to the nearest second here: 46000.999999 is the next day.
    let to_second = |v: f64| (v * 86400.0).round() / 86400.0;
    let s = check_serial(to_second(start), date1904)?;
    let e = check_serial(to_second(end), date1904)?;
    let (y1, m1, d1) = ymd(s, date1904)?;
    let (y2, m2, d2) = ymd(e, date1904)?;
    let (mut d1, mut d2) = (d1 as i64, d2 as i64);
    if european {
        d1 = d1.min(30);
        d2 = d2.min(30);
    } else {
        if d1 == 31 || (m1 == 2 && d1 == days_in_month(y1, 2) as i64) {
            d1 = 30;
        }
        if d2 == 31 && d1 == 30 {
            d2 = 30;
        }
    }
    Ok(((y2 - y1) * 360 + (m2 as i64 - m1 as i64) * 30 + d2 - d1) as f64)
}

fn fn_days360(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let e = tri!(num(ctx, args, 1));
    let eu = tri!(ctx.boolean_or(args, 2, false));
    days360_kernel(s, e, eu, ctx.date1904()).into()
}

fn fn_datedif(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(date_num(ctx, args, 0));
    let e = tri!(date_num(ctx, args, 1));
    let unit = tri!(ctx.text(&args[2]));
    let date1904 = ctx.date1904();
    if s > e {
        return Value::Error(ErrorKind::Num);
    }
    let (y1, m1, d1) = tri!(ymd(s, date1904));
    let (y2, m2, d2) = tri!(ymd(e, date1904));
    let months = (y2 - y1) * 12 + m2 as i64 - m1 as i64 - i64::from(d2 < d1);
    let r = match unit.to_ascii_uppercase().as_str() {
        "Y" => months.div_euclid(12),
        "M" => months,
        "D" => e - s,
        "YM" => months.rem_euclid(12),
        "MD" => {
            if d2 >= d1 {
                d2 as i64 - d1 as i64
            } else {
                // Excel counts back from the end date's day through the previous month's length
                // (which can give a negative number, as Excel does).
                let (py, pm) = if m2 == 1 { (y2 - 1, 12) } else { (y2, m2 - 1) };
                days_in_month(py, pm) as i64 + d2 as i64 - d1 as i64
            }
        }
        "YD" => {
            // The start moved into the end's year (or the year before when that falls after the end).
            let mut anniv = civil_serial(y2, m1, d1 as i64, date1904);
            if anniv > e {
                anniv = civil_serial(y2 - 1, m1, d1 as i64, date1904);
            }
            e - anniv
        }
        _ => return Value::Error(ErrorKind::Num),
    };
    Value::Number(r as f64)
}

// ---------------------------------------------------------------------------------------------
// TODAY, NOW
// ---------------------------------------------------------------------------------------------

fn system_serial(ctx: &Ctx<'_, '_>, s: f64) -> f64 {
    if ctx.date1904() {
        s - OFFSET_1904 as f64
    } else {
        s
    }
}

fn fn_today(ctx: &mut Ctx<'_, '_>, _args: &[Arg]) -> Value {
    Value::Number(system_serial(ctx, now_serial().floor()))
}

fn fn_now(ctx: &mut Ctx<'_, '_>, _args: &[Arg]) -> Value {
    Value::Number(system_serial(ctx, now_serial()))
}

// ---------------------------------------------------------------------------------------------
// WEEKDAY, WEEKNUM, ISOWEEKNUM
// ---------------------------------------------------------------------------------------------

/// WEEKDAY's kernel.
pub fn weekday_kernel(serial: f64, return_type: f64, date1904: bool) -> Result<f64, ErrorKind> {
    let s = check_serial(serial, date1904)?;
    let wd = weekday_mon0(s, date1904); // Monday = 0
    let rt = return_type.trunc();
    let r = match rt as i64 {
        _ if !rt.is_finite() => return Err(ErrorKind::Num),
        1 | 17 => (wd + 1) % 7 + 1,
        2 | 11 => wd + 1,
        3 => wd,
        t @ 12..=16 => (wd - (t - 11)).rem_euclid(7) + 1,
        _ => return Err(ErrorKind::Num),
    };
    Ok(r as f64)
}

fn fn_weekday(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let t = tri!(ctx.number_or(args, 1, 1.0));
    weekday_kernel(s, t, ctx.date1904()).into()
}

/// ISO week number of a serial.
fn iso_week(s: i64, date1904: bool) -> Result<i64, ErrorKind> {
    let wd = weekday_mon0(s, date1904);
    let thursday = s - wd + 3;
    let (y, _, _) = if thursday < 1 {
        // Serial 0 and the first days of 1900 (1904): their Thursday lies in the year before.
        let (y, _, _) = ymd(s, date1904)?;
        (y - 1, 12, 31)
    } else {
        ymd(thursday.min(max_serial(date1904)), date1904)?
    };
    let jan1 = civil_serial(y, 1, 1, date1904);
    Ok((thursday - jan1).div_euclid(7) + 1)
}

/// WEEKNUM's kernel.
pub fn weeknum_kernel(serial: f64, return_type: f64, date1904: bool) -> Result<f64, ErrorKind> {
    let s = check_serial(serial, date1904)?;
    let rt = return_type.trunc();
    if !rt.is_finite() {
        return Err(ErrorKind::Num);
    }
    // First day of the week, Monday = 0.
    let start = match rt as i64 {
        1 | 17 => 6,
        2 | 11 => 0,
        t @ 12..=16 => t - 11,
        21 => return iso_week(s, date1904).map(|w| w as f64),
        _ => return Err(ErrorKind::Num),
    };
    let (y, _, _) = ymd(s, date1904)?;
    let jan1 = if s == 0 {
        0
    } else {
        civil_serial(y, 1, 1, date1904).max(0)
    };
    let off = (weekday_mon0(jan1, date1904) - start).rem_euclid(7);
    Ok(((s - jan1 + off) / 7 + 1) as f64)
}

fn fn_weeknum(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let t = tri!(ctx.number_or(args, 1, 1.0));
    weeknum_kernel(s, t, ctx.date1904()).into()
}

fn fn_isoweeknum(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(date_num(ctx, args, 0));
    iso_week(s, ctx.date1904()).map(|w| w as f64).into()
}

// ---------------------------------------------------------------------------------------------
// NETWORKDAYS, WORKDAY (and .INTL)
// ---------------------------------------------------------------------------------------------

/// Weekend days as a bit mask (bit 0 = Monday ... bit 6 = Sunday).
fn weekend_mask(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<u8, ErrorKind> {
    let Some(a) = opt(args, i) else {
        return Ok(0b110_0000);
    };
    match ctx.scalar(a) {
        Value::Text(t) => {
            if t.chars().count() != 7 || !t.chars().all(|c| c == '0' || c == '1') {
                return Err(ErrorKind::Value);
            }
            Ok(t.chars()
                .enumerate()
                .fold(0, |m, (i, c)| if c == '1' { m | (1 << i) } else { m }))
        }
        Value::Error(e) => Err(e),
        v => {
            let n = v.to_number()?;
            let n = n.trunc();
            Ok(match n as i64 {
                _ if !n.is_finite() => return Err(ErrorKind::Num),
                1 => 0b110_0000,
                k @ 2..=7 => (1u8 << ((k + 4) % 7)) | (1u8 << ((k + 5) % 7)),
                k @ 11..=17 => 1u8 << ((k - 5) % 7),
                _ => return Err(ErrorKind::Num),
            })
        }
    }
}

/// Holiday serials (sorted, deduplicated).
fn holidays(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<Vec<i64>, ErrorKind> {
    let Some(a) = opt(args, i) else {
        return Ok(Vec::new());
    };
    let date1904 = ctx.date1904();
    let mut out = Vec::new();
    let mut err = None;
    ctx.for_each_cell(a, &mut |v| {
        if err.is_some() {
            return;
        }
        let r = match v {
            Value::Empty => return,
            Value::Number(n) => check_serial(*n, date1904),
            Value::Error(e) => Err(*e),
            Value::Text(_) if matches!(a, Arg::Value(_)) => {
                v.to_number().and_then(|n| check_serial(n, date1904))
            }
            _ => Err(ErrorKind::Value),
        };
        match r {
            Ok(s) => out.push(s),
            Err(e) => err = Some(e),
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Working days from `a` to `b` inclusive (a <= b).
fn count_workdays(a: i64, b: i64, weekend: u8, hol: &[i64], date1904: bool) -> i64 {
    let workdays_per_week = 7 - weekend.count_ones() as i64;
    let n = b - a + 1;
    let mut count = (n / 7) * workdays_per_week;
    let wd0 = weekday_mon0(a, date1904);
    for k in 0..(n % 7) {
        if weekend & (1 << ((wd0 + k) % 7)) == 0 {
            count += 1;
        }
    }
    for &h in hol {
        if h >= a && h <= b && weekend & (1 << weekday_mon0(h, date1904)) == 0 {
            count -= 1;
        }
    }
    count
}

fn networkdays(ctx: &mut Ctx<'_, '_>, args: &[Arg], intl: bool) -> Value {
    let s = tri!(date_num(ctx, args, 0));
    let e = tri!(date_num(ctx, args, 1));
    let weekend = if intl {
        tri!(weekend_mask(ctx, args, 2))
    } else {
        0b110_0000
    };
    let hol = tri!(holidays(ctx, args, if intl { 3 } else { 2 }));
    let d1904 = ctx.date1904();
    let r = if s <= e {
        count_workdays(s, e, weekend, &hol, d1904)
    } else {
        -count_workdays(e, s, weekend, &hol, d1904)
    };
    Value::Number(r as f64)
}

fn fn_networkdays(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    networkdays(ctx, args, false)
}

fn fn_networkdays_intl(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    networkdays(ctx, args, true)
}

fn workday(ctx: &mut Ctx<'_, '_>, args: &[Arg], intl: bool) -> Value {
    let s = tri!(date_num(ctx, args, 0));
    let days = tri!(num(ctx, args, 1));
    let weekend = if intl {
        tri!(weekend_mask(ctx, args, 2))
    } else {
        0b110_0000
    };
    if weekend == 0b111_1111 {
        return Value::Error(ErrorKind::Value);
    }
    let hol = tri!(holidays(ctx, args, if intl { 3 } else { 2 }));
    let d1904 = ctx.date1904();
    if !days.is_finite() || days.abs() > 1e7 {
        return Value::Error(ErrorKind::Num);
    }
    let mut left = days.trunc() as i64;
    let step = if left < 0 { -1 } else { 1 };
    let per_week = 7 - weekend.count_ones() as i64;
    let mut d = s;
    let max = max_serial(d1904);
    // Skip whole weeks while far from the goal (holidays are corrected for below by walking).
    if hol.is_empty() && left.abs() > 7 * per_week {
        let weeks = left.abs() / per_week - 1;
        d += step * weeks * 7;
        left -= step * weeks * per_week;
    }
    while left != 0 {
        d += step;
        if d < 0 || d > max {
            return Value::Error(ErrorKind::Num);
        }
        if weekend & (1 << weekday_mon0(d, d1904)) == 0 && hol.binary_search(&d).is_err() {
            left -= step;
        }
    }
    if d < 0 || d > max {
        return Value::Error(ErrorKind::Num);
    }
    Value::Number(d as f64)
}

fn fn_workday(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    workday(ctx, args, false)
}

fn fn_workday_intl(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    workday(ctx, args, true)
}

// ---------------------------------------------------------------------------------------------
// TIME, HOUR, MINUTE, SECOND, DATEVALUE, TIMEVALUE
// ---------------------------------------------------------------------------------------------

/// TIME's kernel: the fraction of a day (hours past 24 wrap around).
pub fn time_kernel(h: f64, m: f64, s: f64) -> Result<f64, ErrorKind> {
    let (h, m, s) = (h.trunc(), m.trunc(), s.trunc());
    if !(h.is_finite() && m.is_finite() && s.is_finite())
        || h.abs() > 32767.0
        || m.abs() > 32767.0
        || s.abs() > 32767.0
    {
        return Err(ErrorKind::Num);
    }
    let total = h * 3600.0 + m * 60.0 + s;
    if total < 0.0 {
        return Err(ErrorKind::Num);
    }
    let v = total / 86400.0;
    Ok(v - v.floor())
}

fn fn_time(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let h = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    time_kernel(h, m, s).into()
}

/// Seconds since midnight of a serial, rounded to the nearest second (86400 wraps to 0).
fn seconds_of_day(v: f64) -> Result<i64, ErrorKind> {
    if !v.is_finite() || v < 0.0 {
        return Err(ErrorKind::Num);
    }
    let frac = v - v.floor();
    let s = (frac * 86400.0).round() as i64;
    Ok(s % 86400)
}

fn time_part(ctx: &mut Ctx<'_, '_>, args: &[Arg], which: u8) -> Value {
    let v = tri!(num(ctx, args, 0));
    if v.floor() as i64 > max_serial(ctx.date1904()) {
        return Value::Error(ErrorKind::Num);
    }
    let s = tri!(seconds_of_day(v));
    Value::Number(match which {
        0 => (s / 3600) as f64,
        1 => (s / 60 % 60) as f64,
        _ => (s % 60) as f64,
    })
}

fn fn_hour(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    time_part(ctx, args, 0)
}

fn fn_minute(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    time_part(ctx, args, 1)
}

fn fn_second(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    time_part(ctx, args, 2)
}

/// The text of a DATEVALUE/TIMEVALUE argument parsed as a 1900-system serial.
fn parse_text_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<ParsedDateTime, ErrorKind> {
    let v = match args.first() {
        Some(a) => ctx.scalar(a),
        None => Value::Empty,
    };
    match v {
        Value::Text(t) => parse_date_time_parts(&t).ok_or(ErrorKind::Value),
        Value::Error(e) => Err(e),
        _ => Err(ErrorKind::Value),
    }
}

fn fn_datevalue(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let p = tri!(parse_text_arg(ctx, args));
    let Some(date) = p.date else {
        // A time without a date is not a date.
        return Value::Error(ErrorKind::Value);
    };
    let s = if ctx.date1904() {
        date - OFFSET_1904 as f64
    } else {
        date
    };
    if s < 0.0 {
        return Value::Error(ErrorKind::Value);
    }
    Value::Number(s)
}

fn fn_timevalue(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let p = tri!(parse_text_arg(ctx, args));
    let t = p.time.unwrap_or(0.0);
    Value::Number(t - t.floor())
}

// ---------------------------------------------------------------------------------------------
// Reading dates and times from text
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quick::{eval, eval_cells};

    fn n(f: &str) -> f64 {
        match eval(f) {
            Value::Number(x) => x,
            v => panic!("{f} gave {v:?}"),
        }
    }

    fn err(f: &str) -> ErrorKind {
        match eval(f) {
            Value::Error(e) => e,
            v => panic!("{f} gave {v:?}, not an error"),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn serial_helpers() {
        assert_eq!(ymd_to_serial(1900.0, 3.0, 1.0, false), Ok(61.0));
        assert_eq!(ymd_to_serial(1900.0, 2.0, 28.0, false), Ok(59.0));
        assert_eq!(ymd_to_serial(1900.0, 2.0, 29.0, false), Ok(60.0));
        assert_eq!(ymd_to_serial(1900.0, 1.0, 1.0, false), Ok(1.0));
        assert_eq!(ymd_to_serial(1900.0, 1.0, 0.0, false), Ok(0.0));
        assert_eq!(ymd_to_serial(1900.0, 1.0, -1.0, false), Err(ErrorKind::Num));
        assert_eq!(ymd_to_serial(2024.0, 1.0, 1.0, false), Ok(45292.0));
        assert_eq!(ymd_to_serial(1904.0, 1.0, 1.0, true), Ok(0.0));
        assert_eq!(ymd_to_serial(2024.0, 1.0, 1.0, true), Ok(45292.0 - 1462.0));
        assert_eq!(serial_to_ymd(60.0, false), Some((1900, 2, 29)));
        assert_eq!(serial_to_ymd(59.0, false), Some((1900, 2, 28)));
        assert_eq!(serial_to_ymd(61.0, false), Some((1900, 3, 1)));
        assert_eq!(serial_to_ymd(1.0, false), Some((1900, 1, 1)));
        assert_eq!(serial_to_ymd(0.0, false), Some((1900, 1, 0)));
        assert_eq!(serial_to_ymd(45292.75, false), Some((2024, 1, 1)));
        assert_eq!(serial_to_ymd(2958465.0, false), Some((9999, 12, 31)));
        assert_eq!(serial_to_ymd(2958466.0, false), None);
        assert_eq!(serial_to_ymd(-1.0, false), None);
        assert_eq!(serial_to_ymd(0.0, true), Some((1904, 1, 1)));
        // Round trip over the whole range.
        for s in (1..2958465).step_by(997) {
            let (y, m, d) = serial_to_ymd(s as f64, false).unwrap();
            assert_eq!(
                ymd_to_serial(y as f64, m as f64, d as f64, false),
                Ok(s as f64)
            );
            let (y, m, d) = serial_to_ymd(s as f64, true).unwrap_or((9999, 12, 31));
            if s < 2957003 {
                assert_eq!(
                    ymd_to_serial(y as f64, m as f64, d as f64, true),
                    Ok(s as f64)
                );
            }
        }
    }

    #[test]
    fn date_function() {
        assert_eq!(n("=DATE(2022,1,1)"), 44562.0);
        assert_eq!(n("=DATE(2022,13,1)"), 44927.0);
        assert_eq!(n("=DATE(9999,12,31)"), 2958465.0);
        assert_eq!(err("=DATE(9999,13,-1)"), ErrorKind::Num);
        assert_eq!(err("=DATE(0,0,1)"), ErrorKind::Num);
        assert_eq!(n("=DATE(1976,1,60)"), 27819.0);
        assert_eq!(n("=DATE(2024,14,1)"), n("=DATE(2025,2,1)"));
        assert_eq!(n("=DATE(2024,1,0)"), n("=DATE(2023,12,31)"));
        assert_eq!(n("=DATE(2024,-1,15)"), n("=DATE(2023,11,15)"));
        assert_eq!(n("=DATE(100,1,1)"), n("=DATE(2000,1,1)"));
        assert_eq!(n("=DATE(\"2000\",1,1)"), 36526.0);
        assert_eq!(err("=DATE(10000,1,1)"), ErrorKind::Num);
        assert_eq!(err("=DATE(-1,1,1)"), ErrorKind::Num);
        assert_eq!(err("=DATE(\"x\",1,1)"), ErrorKind::Value);
        assert_eq!(err("=DATE(1/0,1,1)"), ErrorKind::Div0);
        // xlcalculator's DATE.xlsx: DATE(1,1,1) = 367 ...
        assert_eq!(n("=DATE(1,1,1)"), 367.0);
        assert_eq!(n("=DATE(4,1,1)"), 1462.0);
    }

    #[test]
    fn year_month_day() {
        assert_eq!(n("=DAY(60)"), 29.0);
        assert_eq!(n("=MONTH(60)"), 2.0);
        assert_eq!(n("=YEAR(0)"), 1900.0);
        assert_eq!(n("=DAY(0)"), 0.0);
        assert_eq!(n("=YEAR(45292.9)"), 2024.0);
        assert_eq!(n("=MONTH(\"3/15/2024\")"), 3.0);
        assert_eq!(n("=DAY(\"15-Mar-2024\")"), 15.0);
        assert_eq!(err("=YEAR(-1)"), ErrorKind::Num);
        assert_eq!(err("=YEAR(2958466)"), ErrorKind::Num);
        assert_eq!(err("=YEAR(\"abc\")"), ErrorKind::Value);
        assert_eq!(n("=YEAR(DATE(1987,11,30))"), 1987.0);
    }

    #[test]
    fn edate_eomonth() {
        // xlcalculator: DATE(2011,1,15) = 40558
        assert_eq!(n("=EDATE(40558,1)"), 40589.0);
        assert_eq!(n("=EDATE(40558,-1)"), 40527.0);
        assert_eq!(n("=EDATE(40558,2)"), 40617.0);
        assert_eq!(n("=EOMONTH(40544,1)"), 40602.0);
        assert_eq!(n("=EOMONTH(40544,-3)"), 40482.0);
        assert_eq!(n("=EDATE(DATE(2024,1,31),1)"), n("=DATE(2024,2,29)"));
        assert_eq!(n("=EDATE(DATE(2024,1,31),1.9)"), n("=DATE(2024,2,29)"));
        assert_eq!(n("=EOMONTH(DATE(2023,1,15),-0.5)"), n("=DATE(2023,1,31)"));
        assert_eq!(err("=EDATE(-1,1)"), ErrorKind::Num);
        assert_eq!(err("=EOMONTH(\"x\",1)"), ErrorKind::Value);
        assert_eq!(err("=EDATE(1,1/0)"), ErrorKind::Div0);
        assert_eq!(err("=EOMONTH(44987,TRUE)"), ErrorKind::Value);
    }

    #[test]
    fn yearfrac() {
        // Corpus (ironcalc YEARFRAC.xlsx and xlcalculator).
        assert_eq!(n("=YEARFRAC(44921,44561,2)"), 1.0);
        let a = n("=DATE(2012,1,1)");
        let b = n("=DATE(2012,7,30)");
        let yf = |basis: u8| yearfrac_kernel(a, b, basis as f64, false).unwrap();
        assert!(close(yf(0), 0.5805555555555556));
        assert!(close(yf(1), 0.576_502_732_240_437_1));
        assert!(close(yf(3), 0.578_082_191_780_821_9));
        // Microsoft's documentation examples.
        assert!(close(
            n("=YEARFRAC(DATE(2012,1,1),DATE(2012,7,30),3)"),
            0.578082191780822
        ));
        assert!(close(
            n("=YEARFRAC(DATE(2006,1,1),DATE(2006,12,31),1)"),
            364.0 / 365.0
        ));
        // Multi-year actual/actual: average year length.
        let v = n("=YEARFRAC(DATE(2000,1,1),DATE(2003,1,1),1)");
        assert!(close(v, 1096.0 / (1461.0 / 4.0)));
        assert!(close(
            n("=YEARFRAC(DATE(2023,1,31),DATE(2023,2,28),0)"),
            28.0 / 360.0
        ));
        assert!(close(
            n("=YEARFRAC(DATE(2024,1,31),DATE(2024,3,31),4)"),
            60.0 / 360.0
        ));
        assert_eq!(err("=YEARFRAC(1,2,5)"), ErrorKind::Num);
        assert_eq!(err("=YEARFRAC(-1,2)"), ErrorKind::Num);
    }

    #[test]
    fn days_and_days360() {
        assert_eq!(n("=DAYS(DATE(2025,1,10),DATE(2025,1,1))"), 9.0);
        assert_eq!(n("=DAYS(\"3/15/2021\",\"2/1/2021\")"), 42.0);
        assert_eq!(n("=DAYS360(DATE(2025,1,1),DATE(2025,1,31))"), 30.0);
        assert_eq!(n("=DAYS360(DATE(2025,1,1),DATE(2025,1,31),TRUE)"), 29.0);
        assert_eq!(n("=DAYS360(DATE(2025,10,12),DATE(2026,2,4))"), 112.0);
        assert_eq!(n("=DAYS360(DATE(1990,5,12),DATE(9990,5,12))"), 2880000.0);
        assert_eq!(n("=DAYS360(DATE(2025,1,10),DATE(2025,1,1))"), -9.0);
        // Excel does not swap the dates (-418, where a swap would give -419).
        assert_eq!(n("=DAYS360(DATE(2000,3,31),DATE(1999,2,2))"), -418.0);
        assert_eq!(n("=DAYS360(DATE(2011,1,30),DATE(2011,2,28))"), 28.0);
        assert_eq!(n("=DAYS360(DATE(2011,2,28),DATE(2011,3,31))"), 30.0);
        assert_eq!(err("=DAYS360(1,2,\"x\")"), ErrorKind::Value);
        assert_eq!(n("=DAYS360(45992.000001,46000.999999)"), 9.0);
        assert_eq!(n("=DAYS(46000.999999,45992.000001)"), 8.0);
    }

    #[test]
    fn datedif() {
        let f = |s: &str, e: &str, u: &str| n(&format!("=DATEDIF({s},{e},\"{u}\")"));
        assert_eq!(f("DATE(2001,1,1)", "DATE(2003,1,1)", "Y"), 2.0);
        assert_eq!(f("DATE(2001,6,1)", "DATE(2002,8,15)", "D"), 440.0);
        assert_eq!(f("DATE(2001,6,1)", "DATE(2002,8,15)", "YD"), 75.0);
        assert_eq!(f("DATE(2001,6,1)", "DATE(2002,8,15)", "M"), 14.0);
        assert_eq!(f("DATE(2001,6,1)", "DATE(2002,8,15)", "YM"), 2.0);
        assert_eq!(f("DATE(2001,6,1)", "DATE(2002,8,15)", "MD"), 14.0);
        assert_eq!(f("DATE(2015,1,31)", "DATE(2015,3,1)", "MD"), -2.0);
        assert_eq!(f("DATE(2020,1,15)", "DATE(2020,12,31)", "ym"), 11.0);
        assert_eq!(
            err("=DATEDIF(DATE(2003,1,1),DATE(2001,1,1),\"Y\")"),
            ErrorKind::Num
        );
        assert_eq!(err("=DATEDIF(1,2,\"Q\")"), ErrorKind::Num);
    }

    #[test]
    fn weekday_weeknum() {
        // 2024-01-01 was a Monday.
        assert_eq!(n("=WEEKDAY(DATE(2024,1,1))"), 2.0);
        assert_eq!(n("=WEEKDAY(DATE(2024,1,1),2)"), 1.0);
        assert_eq!(n("=WEEKDAY(DATE(2024,1,1),3)"), 0.0);
        assert_eq!(n("=WEEKDAY(DATE(2024,1,7),3)"), 6.0);
        assert_eq!(n("=WEEKDAY(DATE(2024,1,1),11)"), 1.0);
        assert_eq!(n("=WEEKDAY(DATE(2024,1,1),12)"), 7.0);
        assert_eq!(n("=WEEKDAY(DATE(2024,1,1),17)"), 2.0);
        assert_eq!(n("=WEEKDAY(1)"), 1.0);
        assert_eq!(n("=WEEKDAY(0)"), 7.0);
        assert_eq!(err("=WEEKDAY(1,4)"), ErrorKind::Num);
        assert_eq!(err("=WEEKDAY(-1)"), ErrorKind::Num);
        // Microsoft's WEEKNUM example: 9 March 2012.
        assert_eq!(n("=WEEKNUM(DATE(2012,3,9))"), 10.0);
        assert_eq!(n("=WEEKNUM(DATE(2012,3,9),2)"), 11.0);
        assert_eq!(n("=WEEKNUM(DATE(2024,1,1))"), 1.0);
        assert_eq!(n("=WEEKNUM(DATE(2024,1,7))"), 2.0);
        assert_eq!(n("=WEEKNUM(DATE(2024,12,31),21)"), 1.0);
        assert_eq!(n("=ISOWEEKNUM(DATE(2012,3,9))"), 10.0);
        assert_eq!(n("=ISOWEEKNUM(DATE(2021,1,1))"), 53.0);
        assert_eq!(n("=ISOWEEKNUM(DATE(2024,12,30))"), 1.0);
        assert_eq!(err("=WEEKNUM(1,4)"), ErrorKind::Num);
    }

    #[test]
    fn networkdays_workday() {
        // Microsoft's examples: 2012-10-01 .. 2013-03-01 with holidays.
        let cells = [
            ("A1", "=DATE(2012,10,1)"),
            ("A2", "=DATE(2013,3,1)"),
            ("A3", "=DATE(2012,11,22)"),
            ("A4", "=DATE(2012,12,4)"),
            ("A5", "=DATE(2013,1,21)"),
            ("B1", "=NETWORKDAYS(A1,A2)"),
            ("B2", "=NETWORKDAYS(A1,A2,A3)"),
            ("B3", "=NETWORKDAYS(A1,A2,A3:A5)"),
            ("B4", "=NETWORKDAYS(A2,A1,A3:A5)"),
            ("B5", "=WORKDAY(DATE(2008,10,1),151,C1:C3)"),
            ("C1", "=DATE(2008,11,26)"),
            ("C2", "=DATE(2008,12,4)"),
            ("C3", "=DATE(2009,1,21)"),
            ("B6", "=WORKDAY(DATE(2008,10,1),151)"),
            ("B7", "=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,1,31))"),
            (
                "B8",
                "=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,2,1),7,{\"2006/1/2\",\"2006/1/16\"})",
            ),
            ("B9", "=NETWORKDAYS.INTL(DATE(2006,2,28),DATE(2006,1,31))"),
            (
                "B10",
                "=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,2,1),\"0010001\",{\"2006/1/2\",\"2006/1/16\"})",
            ),
            ("B11", "=WORKDAY.INTL(DATE(2012,1,1),30,0)"),
            ("B12", "=WORKDAY.INTL(DATE(2012,1,1),90,11)"),
            ("B13", "=WORKDAY.INTL(DATE(2012,1,1),30,17)"),
            ("B14", "=WORKDAY(DATE(2024,1,8),-5)"),
            ("B15", "=WORKDAY(DATE(2024,1,6),0)"),
            ("B16", "=WORKDAY.INTL(DATE(2024,1,6),3,\"1111111\")"),
        ];
        let g = |c: &str| eval_cells(&cells, c);
        assert_eq!(g("B1"), Value::Number(110.0));
        assert_eq!(g("B2"), Value::Number(109.0));
        assert_eq!(g("B3"), Value::Number(107.0));
        assert_eq!(g("B4"), Value::Number(-107.0));
        assert_eq!(g("B5"), Value::Number(39938.0));
        assert_eq!(g("B6"), Value::Number(39933.0));
        assert_eq!(g("B7"), Value::Number(22.0));
        assert_eq!(g("B8"), Value::Number(22.0));
        assert_eq!(g("B9"), Value::Number(-21.0));
        assert_eq!(g("B10"), Value::Number(20.0));
        assert_eq!(g("B11"), Value::Error(ErrorKind::Num));
        assert_eq!(g("B12"), Value::Number(41013.0));
        assert_eq!(g("B13"), Value::Number(40944.0));
        assert_eq!(g("B14"), Value::Number(n("=DATE(2024,1,1)")));
        assert_eq!(g("B15"), Value::Number(n("=DATE(2024,1,6)")));
        assert_eq!(g("B16"), Value::Error(ErrorKind::Value));
    }

    #[test]
    fn time_functions() {
        assert_eq!(n("=TIME(23,59,60)"), 0.0);
        assert_eq!(n("=TIME(23,120,0)"), 4.166_666_666_666_674E-2);
        assert_eq!(n("=TIME(24,2,3)"), 1.4236111111110006E-3);
        assert_eq!(n("=TIME(12,0,0)"), 0.5);
        assert_eq!(err("=TIME(0,0,-1)"), ErrorKind::Num);
        assert_eq!(n("=TIME(0,-1,120)"), 60.0 / 86400.0);
        assert_eq!(n("=HOUR(0.99998842592592596)"), 23.0);
        assert_eq!(n("=MINUTE(0.99998842592592596)"), 59.0);
        assert_eq!(n("=SECOND(0.99998842592592596)"), 59.0);
        assert_eq!(n("=HOUR(0.70861111111111108)"), 17.0);
        assert_eq!(n("=SECOND(0.70861111111111108)"), 24.0);
        assert_eq!(n("=HOUR(45292.75)"), 18.0);
        assert_eq!(n("=MINUTE(\"12:45 PM\")"), 45.0);
        assert_eq!(err("=HOUR(-0.5)"), ErrorKind::Num);
    }

    #[test]
    fn datevalue_timevalue() {
        assert_eq!(n("=TIMEVALUE(\"24:00\")"), 0.0);
        assert_eq!(n("=TIMEVALUE(\" 1:30 \")"), 0.0625);
        assert_eq!(n("=TIMEVALUE(\"12:00 PM\")"), 0.5);
        assert_eq!(n("=TIMEVALUE(\"12:00 AM\")"), 0.0);
        assert_eq!(
            n("=TIMEVALUE(\"6:30:15 pm\")"),
            (18.0 * 3600.0 + 30.0 * 60.0 + 15.0) / 86400.0
        );
        assert_eq!(n("=DATEVALUE(\"29-Feb-1900\")"), 60.0);
        assert_eq!(n("=DATEVALUE(\"1-Mar-1900\")"), 61.0);
        assert_eq!(n("=DATEVALUE(\"2024-02-29 06:00\")"), 45351.0);
        assert_eq!(
            n("=DATEVALUE(\"2024-02-29\")+TIMEVALUE(\"6:00\")"),
            45351.25
        );
        assert_eq!(n("=DATEVALUE(\"8/22/2011\")"), 40777.0);
        assert_eq!(n("=DATEVALUE(\"22-MAY-2011\")"), 40685.0);
        assert_eq!(n("=DATEVALUE(\"2011/02/23\")"), 40597.0);
        assert_eq!(n("=DATEVALUE(\"January 31, 2024\")"), 45322.0);
        assert_eq!(err("=DATEVALUE(\"2024-02-30\")"), ErrorKind::Value);
        assert_eq!(err("=DATEVALUE(45000)"), ErrorKind::Value);
        assert_eq!(err("=DATEVALUE(\"hello\")"), ErrorKind::Value);
    }

    #[test]
    fn parsing() {
        let p = |s: &str| parse_date_time(s);
        assert_eq!(p("2024-01-31"), Some(45322.0));
        assert_eq!(p("1/31/2024"), Some(45322.0));
        assert_eq!(p("01/31/24"), Some(45322.0));
        assert_eq!(p("31-Jan-2024"), Some(45322.0));
        assert_eq!(p("31 January 2024"), Some(45322.0));
        assert_eq!(p("Jan 31, 2024"), Some(45322.0));
        assert_eq!(p("Jan-2024"), Some(45292.0));
        assert_eq!(p("12:30"), Some(0.5 + 0.5 / 24.0));
        assert_eq!(p("12:30:00 AM"), Some(0.5 / 24.0));
        assert_eq!(p("3 PM"), Some(15.0 / 24.0));
        assert_eq!(p("25:00"), Some(25.0 / 24.0));
        assert_eq!(p("1/31/2024 6:00 PM"), Some(45322.75));
        assert_eq!(p("2024-01-31 18:00:00"), Some(45322.75));
        assert_eq!(p("1/1/30"), Some(10959.0));
        for bad in [
            "",
            "abc",
            "TRUE",
            "1/2/3/4",
            "13/1/2024",
            "2024-13-01",
            "12:60",
            "31-Foo-2024",
            "1.5.2024",
            "Mar",
            "1:2:3:4",
            "-1/2/2024",
            "1 2 2024x",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
