//! Cell values: calamine's `DataRef` to [`CellValue`], and ISO 8601 dates to serial numbers.

use calamine::{CellErrorType, DataRef};

use crate::model::CellValue;

/// Converts a calamine value. Dates become serial numbers in the workbook's date system
/// (calamine keeps the stored serial, so a date-formatted number is returned unchanged).
pub(crate) fn from_calamine(value: DataRef<'_>, date1904: bool) -> CellValue {
    match value {
        DataRef::Empty => CellValue::Empty,
        #[allow(clippy::cast_precision_loss)]
        DataRef::Int(i) => CellValue::Number(i as f64),
        DataRef::Float(f) => CellValue::Number(f),
        DataRef::String(s) => CellValue::Text(s),
        DataRef::SharedString(s) => CellValue::Text(s.to_owned()),
        DataRef::Bool(b) => CellValue::Bool(b),
        DataRef::DateTime(dt) => CellValue::Number(dt.as_f64()),
        DataRef::DateTimeIso(s) => match iso_to_serial(&s, date1904) {
            Some(n) => CellValue::Number(n),
            None => CellValue::Text(s),
        },
        DataRef::DurationIso(s) => match iso_duration_days(&s) {
            Some(n) => CellValue::Number(n),
            None => CellValue::Text(s),
        },
        DataRef::Error(e) => CellValue::Error(error_text(&e).to_owned()),
    }
}

/// Excel's spelling of an error value.
pub(crate) fn error_text(e: &CellErrorType) -> &'static str {
    match e {
        CellErrorType::Div0 => "#DIV/0!",
        CellErrorType::NA => "#N/A",
        CellErrorType::Name => "#NAME?",
        CellErrorType::Null => "#NULL!",
        CellErrorType::Num => "#NUM!",
        CellErrorType::Ref => "#REF!",
        CellErrorType::Value => "#VALUE!",
        // calamine prints this one as "#DATA!"; Excel writes "#GETTING_DATA".
        CellErrorType::GettingData => "#GETTING_DATA",
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &str, n: usize) -> Option<i64> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// Serial number of a date in the workbook's date system: `YYYY-MM-DD`, optionally with
/// `THH:MM[:SS[.fff]]`, or a time alone (`HH:MM[:SS]`, a fraction of a day). A trailing
/// `Z` or UTC offset is ignored (Excel has no time zones). In the 1900 system, dates before
/// 1900-03-01 follow Excel's numbering (which counts the nonexistent 1900-02-29).
pub(crate) fn iso_to_serial(s: &str, date1904: bool) -> Option<f64> {
    let s = s.trim();
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (Some(d), Some(t)),
        None if s.contains(':') => (None, Some(s)),
        None => (Some(s), None),
    };
    let mut serial = 0.0;
    if let Some(date) = date {
        let mut parts = date.splitn(3, '-');
        let y = digits(parts.next()?, 4)?;
        let m = digits(parts.next()?, 2)?;
        let d = digits(parts.next()?, 2)?;
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        let days = days_from_civil(y, m, d);
        let whole = if date1904 {
            days - days_from_civil(1904, 1, 1)
        } else {
            let n = days - days_from_civil(1899, 12, 30);
            if n < 61 { n - 1 } else { n }
        };
        #[allow(clippy::cast_precision_loss)]
        {
            serial = whole as f64;
        }
    }
    if let Some(time) = time {
        let time = time.trim_end_matches('Z');
        let time = match time.find(['+', '-']) {
            Some(i) => &time[..i],
            None => time,
        };
        let mut parts = time.splitn(3, ':');
        let h = digits(parts.next()?, 2)?;
        let m = digits(parts.next()?, 2)?;
        let sec: f64 = match parts.next() {
            Some(sec) => {
                let whole = sec.split('.').next()?;
                digits(whole, 2)?;
                sec.parse().ok()?
            }
            None => 0.0,
        };
        if h > 24 || m > 59 || !(0.0..61.0).contains(&sec) {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let seconds = (h * 3600 + m * 60) as f64 + sec;
        serial += seconds / 86_400.0;
    }
    Some(serial)
}

/// An ISO 8601 duration `PnDTnHnMnS` (the forms calamine reports) in days.
pub(crate) fn iso_duration_days(s: &str) -> Option<f64> {
    let s = s.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut rest = s.strip_prefix('P')?;
    let mut days = 0.0;
    let mut in_time = false;
    let mut any = false;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('T') {
            in_time = true;
            rest = r;
            continue;
        }
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..end].parse().ok()?;
        let unit = rest[end..].chars().next()?;
        days += match (in_time, unit) {
            (false, 'D') => n,
            (false, 'W') => n * 7.0,
            (true, 'H') => n / 24.0,
            (true, 'M') => n / 1440.0,
            (true, 'S') => n / 86_400.0,
            _ => return None,
        };
        any = true;
        rest = &rest[end + unit.len_utf8()..];
    }
    any.then_some(if negative { -days } else { days })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso_to_serial("1900-01-01", false), Some(1.0));
        assert_eq!(iso_to_serial("1900-02-28", false), Some(59.0));
        assert_eq!(iso_to_serial("1900-03-01", false), Some(61.0));
        assert_eq!(iso_to_serial("2024-01-15", false), Some(45306.0));
        assert_eq!(iso_to_serial("2024-01-15T12:00:00", false), Some(45306.5));
        assert_eq!(
            iso_to_serial("2024-01-15T06:00:00.000Z", false),
            Some(45306.25)
        );
        assert_eq!(iso_to_serial("1904-01-01", true), Some(0.0));
        assert_eq!(iso_to_serial("2024-01-15", true), Some(45306.0 - 1462.0));
        assert_eq!(iso_to_serial("18:00:00", false), Some(0.75));
        assert_eq!(iso_to_serial("2024-02-30", false), None);
        assert_eq!(iso_to_serial("not a date", false), None);
    }

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration_days("PT12H"), Some(0.5));
        assert_eq!(iso_duration_days("P1DT6H"), Some(1.25));
        assert_eq!(iso_duration_days("-PT36H"), Some(-1.5));
        assert_eq!(iso_duration_days("P"), None);
        assert_eq!(iso_duration_days("12H"), None);
    }

    #[test]
    fn error_spelling() {
        assert_eq!(error_text(&CellErrorType::Div0), "#DIV/0!");
        assert_eq!(error_text(&CellErrorType::Name), "#NAME?");
        assert_eq!(error_text(&CellErrorType::GettingData), "#GETTING_DATA");
    }
}
