//! The calendar of Excel's serial dates, shared by the date and the financial functions and by
//! text-to-number conversion.
//!
//! Dates are serial numbers. In the 1900 date system (the default) serial 1 is 1900-01-01 and
//! Excel keeps Lotus 1-2-3's fictitious 1900-02-29 as serial 60, so serials 1 to 59 are one day off
//! from the proleptic Gregorian calendar; serial 0 reads as "1900-01-00". In the 1904 date system
//! (a workbook flag) serial 0 is 1904-01-01 and there is no fictitious day. The last date is
//! 9999-12-31 in both. Every conversion between a serial and a calendar date goes through this
//! module, with the workbook's date system as an argument: there is no second calendar.

use mcsim_formula::ErrorKind;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic
// ---------------------------------------------------------------------------------------------

/// Days from 1970-01-01 to the proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The proleptic Gregorian date `z` days after 1970-01-01.
const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = (if z >= 0 { z } else { z - 146096 }) / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day 0 of the 1900 system (1899-12-30, counting the fictitious 1900-02-29).
const EPOCH_1900: i64 = days_from_civil(1899, 12, 30);
/// Day 0 of the 1904 system.
const EPOCH_1904: i64 = days_from_civil(1904, 1, 1);
/// 1904 serial + this = 1900 serial.
pub(crate) const OFFSET_1904: i64 = 1462;
/// 9999-12-31 in the 1900 system.
const MAX_SERIAL_1900: i64 = 2_958_465;

/// The last valid serial number of the date system.
pub fn max_serial(date1904: bool) -> i64 {
    if date1904 {
        MAX_SERIAL_1900 - OFFSET_1904
    } else {
        MAX_SERIAL_1900
    }
}

/// Gregorian leap year.
pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1-12) of year `y` (Gregorian).
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
    }
}

/// The serial number of a real calendar date (`m` 1-12, `d` any: it may run past the month's end
/// or below 1, counting from the first of the month), without range checks.
pub(crate) fn civil_serial(y: i64, m: u32, d: i64, date1904: bool) -> i64 {
    let first = days_from_civil(y, m as i64, 1);
    if date1904 {
        first - EPOCH_1904 + d - 1
    } else {
        let mut s = first - EPOCH_1900;
        // Before 1900-03-01 Excel's serials are one less than the real count (the fictitious
        // 1900-02-29 sits at 60).
        if s < 61 {
            s -= 1;
        }
        s + d - 1
    }
}

/// The (year, month, day) of a serial number in the workbook's date system (the fraction is
/// ignored). `None` if the serial is negative or past 9999-12-31. In the 1900 system serial 0 is
/// (1900, 1, 0) and serial 60 is (1900, 2, 29), as Excel reads them.
pub fn serial_to_ymd(serial: f64, date1904: bool) -> Option<(i32, u32, u32)> {
    if !serial.is_finite() || serial < 0.0 {
        return None;
    }
    let s = serial.floor() as i64;
    if s > max_serial(date1904) {
        return None;
    }
    let d = Ymd::from_serial(s, date1904);
    Some((d.y as i32, d.m as u32, d.d as u32))
}

/// DATE's arithmetic: the serial number of (`y`, `m`, `d`) with Excel's rules: years 0-1899 are
/// taken as 1900 + y, months and days outside their ranges (negative included) roll over into
/// neighbouring months and years. `#NUM!` if the year is outside 0-9999 or the result is before
/// the first or after the last date of the system.
pub fn ymd_to_serial(y: f64, m: f64, d: f64, date1904: bool) -> Result<f64, ErrorKind> {
    if !(y.is_finite() && m.is_finite() && d.is_finite()) {
        return Err(ErrorKind::Num);
    }
    let (y, m, d) = (y.trunc(), m.trunc(), d.trunc());
    if !(0.0..10000.0).contains(&y) || m.abs() > 1e6 || d.abs() > 1e8 {
        return Err(ErrorKind::Num);
    }
    let y = if y < 1900.0 {
        y as i64 + 1900
    } else {
        y as i64
    };
    let months = y * 12 + m as i64 - 1;
    let (y2, m2) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
    // Excel checks the year after the months rolled over, before the days do.
    if !(1900..=9999).contains(&y2) {
        return Err(ErrorKind::Num);
    }
    let s = civil_serial(y2, m2, d as i64, date1904);
    if s < 0 || s > max_serial(date1904) {
        return Err(ErrorKind::Num);
    }
    Ok(s as f64)
}

/// The serial of a valid date, or `#NUM!` when out of the system's range.
pub(crate) fn serial_of(y: i64, m: u32, d: u32, date1904: bool) -> Result<i64, ErrorKind> {
    let s = civil_serial(y, m, d as i64, date1904);
    if s < 0 || s > max_serial(date1904) {
        Err(ErrorKind::Num)
    } else {
        Ok(s)
    }
}

/// Day of the week, Monday = 0 ... Sunday = 6 (Excel's: serial 1 of the 1900 system is a Sunday).
pub(crate) fn weekday_mon0(serial: i64, date1904: bool) -> i64 {
    let s = if date1904 {
        serial + OFFSET_1904
    } else {
        serial
    };
    (s + 5).rem_euclid(7)
}

/// A calendar date in a workbook's date system, as Excel sees it: in the 1900 system the day may
/// be the fictitious 29 February 1900. Dates compare chronologically (within one system).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ymd {
    /// The year.
    pub y: i64,
    /// The month, 1-12.
    pub m: i64,
    /// The day of the month, from 1.
    pub d: i64,
    /// The date system the date converts to serials in.
    pub date1904: bool,
}

impl Ymd {
    /// The date of a whole serial number (`s` in `0..=max_serial(date1904)`; in the 1900 system
    /// serial 0 reads as 1900-01-00).
    pub fn from_serial(s: i64, date1904: bool) -> Ymd {
        let (y, m, d) = if date1904 {
            civil_from_days(s + EPOCH_1904)
        } else if s == 0 {
            (1900, 1, 0)
        } else if s == 60 {
            (1900, 2, 29)
        } else if s < 60 {
            civil_from_days(s + 1 + EPOCH_1900)
        } else {
            civil_from_days(s + EPOCH_1900)
        };
        Ymd {
            y,
            m: m as i64,
            d: d as i64,
            date1904,
        }
    }

    /// The serial number of the date in its system.
    pub fn serial(self) -> i64 {
        if !self.date1904 && self.y == 1900 && self.m == 2 && self.d == 29 {
            return 60;
        }
        civil_serial(self.y, self.m as u32, self.d, self.date1904)
    }

    /// The length of the date's month as the date system counts it (February 1900 has 29 days in
    /// the 1900 system).
    pub fn month_len(self) -> i64 {
        if !self.date1904 && self.y == 1900 && self.m == 2 {
            29
        } else {
            days_in_month(self.y, self.m as u32) as i64
        }
    }

    /// Is the date the last day of its month?
    pub fn is_last_of_month(self) -> bool {
        self.d == self.month_len()
    }

    /// Is the date the last day of February?
    pub fn is_last_of_feb(self) -> bool {
        self.m == 2 && self.is_last_of_month()
    }

    /// Adds months, clamping the day to the target month's length (`.NET AddMonths`); with
    /// `end_of_month`, the result is the last day of the target month.
    pub fn add_months(self, n: i64, end_of_month: bool) -> Ymd {
        let total = self.y * 12 + (self.m - 1) + n;
        let y = total.div_euclid(12);
        let m = total.rem_euclid(12) + 1;
        let last = Ymd { y, m, d: 1, ..self }.month_len();
        let d = if end_of_month { last } else { self.d.min(last) };
        Ymd { y, m, d, ..self }
    }
}

/// The current time as a serial number of the 1900 system (UTC: the engine has no time zone).
pub(crate) fn now_serial() -> f64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    (-EPOCH_1900) as f64 + secs / 86400.0
}

// ---------------------------------------------------------------------------------------------
// Reading dates and times from text
// ---------------------------------------------------------------------------------------------

/// A date and/or time read from text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ParsedDateTime {
    /// The whole serial of the date part (1900 system), if any.
    pub(crate) date: Option<f64>,
    /// The time as a fraction of a day (may exceed 1 for "25:00"), if any.
    pub(crate) time: Option<f64>,
}

/// Reads a date and/or time written as text (`2024-01-31`, `1/31/2024`, `12:30`, `31-Jan-2024`) as a
/// serial number in the 1900 date system. `None` if the text is not a date or time.
pub fn parse_date_time(s: &str) -> Option<f64> {
    let p = parse_date_time_parts(s)?;
    Some(p.date.unwrap_or(0.0) + p.time.unwrap_or(0.0))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Month number of an English month name or its 3-letter (or "sept") abbreviation.
fn month_from_name(w: &str) -> Option<u32> {
    let w = w.to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    for (i, m) in MONTHS.iter().enumerate() {
        if *m == w || (w.len() == 3 && m.starts_with(&w)) || (i == 8 && w == "sept") {
            return Some(i as u32 + 1);
        }
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(u32, usize), // value, digit count
    Month(u32),
}

pub(crate) fn parse_date_time_parts(s: &str) -> Option<ParsedDateTime> {
    let t = s.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    // Split off the time: it starts at the digits before the first ':' or, without one, is a
    // trailing "<h> AM/PM".
    let (date_part, time_part) = match t.find(':') {
        Some(colon) => {
            let start = t[..colon]
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .len();
            if start == colon {
                return None;
            }
            (t[..start].trim(), Some(&t[start..]))
        }
        None => match split_ampm_hour(t) {
            Some(start) => (t[..start].trim(), Some(&t[start..])),
            None => (t, None),
        },
    };
    let time = match time_part {
        Some(tp) => Some(parse_time(tp)?),
        None => None,
    };
    let date = if date_part.is_empty() {
        None
    } else {
        Some(parse_date(date_part)?)
    };
    if let (Some(_), Some(tm)) = (date, time)
        && tm >= 1.0
    {
        // "1/1/2024 25:00" is not a date-time Excel reads.
        return None;
    }
    if date.is_none() && time.is_none() {
        return None;
    }
    Some(ParsedDateTime { date, time })
}

/// For text ending in "<digits> AM" / "<digits>PM" without a colon: where the hour starts.
fn split_ampm_hour(t: &str) -> Option<usize> {
    let lower = t.to_ascii_lowercase();
    let body = lower
        .strip_suffix("am")
        .or_else(|| lower.strip_suffix("pm"))
        .or_else(|| lower.strip_suffix('a'))
        .or_else(|| lower.strip_suffix('p'))?;
    let body = body.trim_end();
    let start = body.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if start == body.len() {
        return None;
    }
    // The hour must stand alone (preceded by a space or nothing).
    if start > 0 && !body[..start].ends_with(' ') {
        return None;
    }
    Some(start)
}

/// `h:mm`, `h:mm:ss`, `h:mm:ss.fff`, `mm:ss.f`, `h AM`, each optionally with AM/PM (A/P).
fn parse_time(tp: &str) -> Option<f64> {
    let lower = tp.trim().to_ascii_lowercase();
    let (body, ampm) = if let Some(b) = lower.strip_suffix("am").or_else(|| lower.strip_suffix('a'))
    {
        (b.trim_end(), Some(false))
    } else if let Some(b) = lower.strip_suffix("pm").or_else(|| lower.strip_suffix('p')) {
        (b.trim_end(), Some(true))
    } else {
        (lower.as_str(), None)
    };
    let parts: Vec<&str> = body.split(':').collect();
    let digits = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    let (mut h, m, sec): (f64, f64, f64) = match parts.as_slice() {
        [h] if ampm.is_some() && digits(h) => (h.parse().ok()?, 0.0, 0.0),
        [a, b] if digits(a) && b.contains('.') => {
            // mm:ss.f
            let (si, sf) = b.split_once('.')?;
            if !digits(si) || !(sf.is_empty() || sf.bytes().all(|c| c.is_ascii_digit())) {
                return None;
            }
            let secs: f64 = b.parse().ok()?;
            (0.0, a.parse().ok()?, secs)
        }
        [a, b] if digits(a) && digits(b) => (a.parse().ok()?, b.parse().ok()?, 0.0),
        [a, b, c] if digits(a) && digits(b) => {
            let (si, sf) = c.split_once('.').unwrap_or((c, ""));
            if !digits(si) || !sf.bytes().all(|x| x.is_ascii_digit()) {
                return None;
            }
            (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?)
        }
        _ => return None,
    };
    if m >= 60.0 || sec >= 60.0 {
        return None;
    }
    if let Some(pm) = ampm {
        if h > 12.0 {
            return None;
        }
        if h == 12.0 {
            h = 0.0;
        }
        if pm {
            h += 12.0;
        }
    } else if h > 9999.0 {
        return None;
    }
    Some((h * 3600.0 + m * 60.0 + sec) / 86400.0)
}

/// The current year (UTC), for dates written without one ("31-Jan", "1/31").
fn current_year() -> i64 {
    let days = (now_serial().floor() as i64) + EPOCH_1900;
    civil_from_days(days).0
}

/// Two-digit years: 00-29 are 2000-2029, 30-99 are 1930-1999.
fn expand_year(v: u32, ndigits: usize) -> Option<i64> {
    match ndigits {
        1 | 2 => Some(if v < 30 {
            2000 + v as i64
        } else {
            1900 + v as i64
        }),
        4 => Some(v as i64),
        _ => None,
    }
}

fn parse_date(dp: &str) -> Option<f64> {
    // Tokenise: numbers and month names, separated by runs of spaces holding at most one of
    // - / , (recorded as that character, or ' ' for spaces only).
    let mut toks: Vec<Tok> = Vec::new();
    let mut seps: Vec<char> = Vec::new();
    let mut pending: Option<char> = None;
    let b = dp.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphanumeric() {
            if !toks.is_empty() {
                seps.push(pending.take()?);
            } else if pending.is_some() {
                return None;
            }
            let st = i;
            if c.is_ascii_digit() {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if i - st > 4 {
                    return None;
                }
                toks.push(Tok::Num(dp[st..i].parse().ok()?, i - st));
            } else {
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                toks.push(Tok::Month(month_from_name(&dp[st..i])?));
                // "Jan." is allowed.
                if i < b.len() && b[i] == b'.' {
                    i += 1;
                }
            }
        } else if matches!(c, b'-' | b'/' | b',' | b' ') {
            pending = match (pending, c) {
                (None, b' ') => Some(' '),
                (None | Some(' '), _) if c != b' ' => Some(c as char),
                (Some(p), b' ') => Some(p),
                _ => return None,
            };
            i += 1;
        } else {
            return None;
        }
    }
    if toks.is_empty() || pending.is_some() {
        return None;
    }
    let numeric_seps_ok = |s: &[char]| s.iter().all(|&c| c == '/') || s.iter().all(|&c| c == '-');
    let (y, m, d): (i64, u32, u32) = match toks.as_slice() {
        [Tok::Num(a, na), Tok::Num(b2, _), Tok::Num(c, nc)] => {
            if !numeric_seps_ok(&seps) {
                return None;
            }
            if *na == 4 {
                (*a as i64, *b2, *c) // yyyy-mm-dd
            } else if *na <= 2 {
                (expand_year(*c, *nc)?, *a, *b2) // m/d/y
            } else {
                return None;
            }
        }
        [Tok::Num(a, na), Tok::Num(b2, nb)] => {
            if !numeric_seps_ok(&seps) || *na > 2 {
                return None;
            }
            // m/d (this year) or m/yyyy
            if *nb == 4 || (*b2 > days_in_month(2000, (*a).clamp(1, 12)) && *nb <= 2) {
                (expand_year(*b2, *nb)?, *a, 1)
            } else {
                (current_year(), *a, *b2)
            }
        }
        [Tok::Num(d0, nd), Tok::Month(m0), Tok::Num(y0, ny)] if *nd <= 2 => {
            (expand_year(*y0, *ny)?, *m0, *d0)
        }
        [Tok::Month(m0), Tok::Num(d0, nd), Tok::Num(y0, ny)] if *nd <= 2 => {
            (expand_year(*y0, *ny)?, *m0, *d0)
        }
        [Tok::Num(d0, nd), Tok::Month(m0)] if *nd <= 2 => (current_year(), *m0, *d0),
        [Tok::Month(m0), Tok::Num(v, nv)] => {
            if *nv <= 2 && *v >= 1 && *v <= days_in_month(current_year(), *m0) {
                (current_year(), *m0, *v)
            } else {
                (expand_year(*v, *nv)?, *m0, 1)
            }
        }
        _ => return None,
    };
    if !(1900..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    if y == 1900 && m == 2 && d == 29 {
        return Some(60.0);
    }
    if d > days_in_month(y, m) {
        return None;
    }
    Some(civil_serial(y, m, d as i64, false) as f64)
}
