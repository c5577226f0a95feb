//! Values and Excel's coercion rules.

use mcsim_formula::ErrorKind;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A value as Excel computes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// An empty cell (or an omitted argument). Counts as 0 in arithmetic and "" in text.
    #[default]
    Empty,
    /// A number; dates are serial numbers.
    Number(f64),
    /// Text. A formula that returns "" gives `Text("")`, which is not `Empty`.
    Text(Arc<str>),
    /// A boolean.
    Bool(bool),
    /// An error value.
    Error(ErrorKind),
    /// An array (array constants, ranges read as values, results of array functions).
    Array(Arc<Array>),
}

/// A rectangular array of values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Number of rows (at least 1).
    pub rows: usize,
    /// Number of columns (at least 1).
    pub cols: usize,
    /// `rows * cols` values, row by row.
    pub data: Vec<Value>,
}

impl Array {
    /// An array from row-major data; `data.len()` must be `rows * cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<Value>) -> Self {
        debug_assert_eq!(rows * cols, data.len());
        Array { rows, cols, data }
    }

    /// A single column.
    pub fn column(data: Vec<Value>) -> Self {
        Array {
            rows: data.len(),
            cols: 1,
            data,
        }
    }

    /// A single row.
    pub fn row(data: Vec<Value>) -> Self {
        Array {
            rows: 1,
            cols: data.len(),
            data,
        }
    }

    /// The element at (`r`, `c`), zero-based.
    pub fn get(&self, r: usize, c: usize) -> Option<&Value> {
        if r < self.rows && c < self.cols {
            self.data.get(r * self.cols + c)
        } else {
            None
        }
    }

    /// The element at (`r`, `c`) with Excel's broadcasting: a single row or column stretches to
    /// any size; positions outside the array are `#N/A`.
    pub fn get_broadcast(&self, r: usize, c: usize) -> Value {
        let r = if self.rows == 1 { 0 } else { r };
        let c = if self.cols == 1 { 0 } else { c };
        self.get(r, c)
            .cloned()
            .unwrap_or(Value::Error(ErrorKind::Na))
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<ErrorKind> for Value {
    fn from(e: ErrorKind) -> Self {
        Value::Error(e)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(Arc::from(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(Arc::from(s))
    }
}

impl From<Result<f64, ErrorKind>> for Value {
    fn from(r: Result<f64, ErrorKind>) -> Self {
        match r {
            Ok(n) => Value::number(n),
            Err(e) => Value::Error(e),
        }
    }
}

impl Value {
    /// A number, or `#NUM!` if it is not finite (Excel has no NaN or infinity).
    pub fn number(n: f64) -> Value {
        if n.is_finite() {
            Value::Number(n)
        } else {
            Value::Error(ErrorKind::Num)
        }
    }

    /// The error, if this is one.
    pub fn error(&self) -> Option<ErrorKind> {
        match self {
            Value::Error(e) => Some(*e),
            _ => None,
        }
    }

    /// `true` for `Value::Empty`.
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    /// For arrays, the top-left element; other values unchanged.
    pub fn first(&self) -> Value {
        match self {
            Value::Array(a) => a.data.first().cloned().unwrap_or(Value::Empty),
            v => v.clone(),
        }
    }

    /// Excel's conversion to a number: booleans are 1/0, empty is 0, text must read as a number
    /// (or a date/time/percentage), errors pass through.
    pub fn to_number(&self) -> Result<f64, ErrorKind> {
        match self {
            Value::Number(n) => Ok(*n),
            Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            Value::Empty => Ok(0.0),
            Value::Text(s) => parse_number(s).ok_or(ErrorKind::Value),
            Value::Error(e) => Err(*e),
            Value::Array(_) => self.first().to_number(),
        }
    }

    /// Excel's conversion to text: numbers in the General format, `TRUE`/`FALSE`, empty is "".
    pub fn to_text(&self) -> Result<Arc<str>, ErrorKind> {
        match self {
            Value::Text(s) => Ok(s.clone()),
            Value::Number(n) => Ok(Arc::from(number_to_text(*n))),
            Value::Bool(b) => Ok(Arc::from(if *b { "TRUE" } else { "FALSE" })),
            Value::Empty => Ok(Arc::from("")),
            Value::Error(e) => Err(*e),
            Value::Array(_) => self.first().to_text(),
        }
    }

    /// Excel's conversion to a boolean: numbers are `<> 0`, text must be `TRUE`/`FALSE`.
    pub fn to_bool(&self) -> Result<bool, ErrorKind> {
        match self {
            Value::Bool(b) => Ok(*b),
            Value::Number(n) => Ok(*n != 0.0),
            Value::Empty => Ok(false),
            Value::Text(s) => {
                if s.eq_ignore_ascii_case("TRUE") {
                    Ok(true)
                } else if s.eq_ignore_ascii_case("FALSE") {
                    Ok(false)
                } else {
                    Err(ErrorKind::Value)
                }
            }
            Value::Error(e) => Err(*e),
            Value::Array(_) => self.first().to_bool(),
        }
    }

    /// A short type name for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Empty => "empty",
            Value::Number(_) => "number",
            Value::Text(_) => "text",
            Value::Bool(_) => "boolean",
            Value::Error(_) => "error",
            Value::Array(_) => "array",
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Empty => Ok(()),
            Value::Number(n) => f.write_str(&number_to_text(*n)),
            Value::Text(s) => f.write_str(s),
            Value::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            Value::Error(e) => f.write_str(e.as_str()),
            Value::Array(a) => write!(f, "{{array {}x{}}}", a.rows, a.cols),
        }
    }
}

/// Exact powers of ten (10^0 to 10^22, the largest exactly representable).
pub const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Rounds to 15 significant digits, as Excel does before showing, converting or rounding a
/// number: the double nearest to the 15-digit decimal nearest to `n` (ties, which only an exactly
/// representable half can be, go to even as in `format!`).
///
/// The one implementation for text conversion, `ROUND` and its kin. The fast path scales `|n|` by
/// an exact power of ten so that its 15 digits are the integer part, rounds, and scales back: each
/// step is one correctly rounded operation on exact operands, so the result is exact unless the
/// scaled value lies within its own rounding error of a half, where the decimal expansion
/// (`format!`) decides.
pub fn round15(n: f64) -> f64 {
    let a = n.abs();
    if a == 0.0 || !a.is_finite() {
        return n;
    }
    // 10^e <= a < 10^(e+1) (log10 may overestimate e by one just below a power of ten, where
    // rounding to 14 or to 15 digits both give that power).
    let s = 14 - a.log10().floor() as i32;
    let scaled = |i: i32| usize::try_from(i).ok().and_then(|i| POW10.get(i).copied());
    let (y, p, up) = match (scaled(s), scaled(-s)) {
        (Some(p), _) => (a * p, p, true),
        (None, Some(p)) => (a / p, p, false),
        _ => return round15_exact(n),
    };
    if ((y - y.floor()) - 0.5).abs() <= y * f64::EPSILON {
        return round15_exact(n);
    }
    let r = if up { y.round() / p } else { y.round() * p };
    if n < 0.0 { -r } else { r }
}

/// [`round15`] through the decimal expansion.
fn round15_exact(n: f64) -> f64 {
    let s = format!("{n:.14e}");
    s.parse().unwrap_or(n)
}

/// A number in Excel's General format as used by text conversion (`=1/3&""`): up to 15
/// significant digits, scientific notation for very large or very small magnitudes.
pub fn number_to_text(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    let r = round15(n);
    let abs = r.abs();
    if (1e-9..1e15).contains(&abs) {
        // Plain decimal with up to 15 significant digits.
        let exp = abs.log10().floor() as i32;
        let decimals = (14 - exp).clamp(0, 30) as usize;
        let mut s = format!("{r:.decimals$}");
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        s
    } else {
        // 1.23456789012346E+17
        let s = format!("{r:.14E}");
        let (mant, exp) = s.split_once('E').unwrap_or((&s, "0"));
        let mut mant = mant.to_string();
        if mant.contains('.') {
            while mant.ends_with('0') {
                mant.pop();
            }
            if mant.ends_with('.') {
                mant.pop();
            }
        }
        let e: i32 = exp.parse().unwrap_or(0);
        format!("{mant}E{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    }
}

/// Reads text as a number the way Excel coerces it: `" 1.5 "`, `"1,000"`, `"50%"`, `"$12"`,
/// `"1e3"`, `"(5)"`; dates and times (`"2024-01-31"`, `"12:30"`) are handled by the date module.
/// Unlike a number, a date or time padded with spaces (`" 2024-01-10 "`) is not coerced: Excel
/// answers `#VALUE!` (DATEVALUE/TIMEVALUE/VALUE still accept it).
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let date = |s: &str| {
        if s.len() != s.trim().len() {
            None
        } else {
            crate::calendar::parse_date_time(s)
        }
    };
    if t.is_empty() {
        return None;
    }
    if let Some(inner) = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        return parse_number(inner).map(|v| -v);
    }
    let (t, pct) = match t.strip_suffix('%') {
        Some(r) => (r.trim_end(), true),
        None => (t, false),
    };
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let t = t.strip_prefix('$').unwrap_or(t);
    let mut cleaned = String::with_capacity(t.len());
    let mut seen_dot = false;
    let mut last_comma: Option<usize> = None;
    for (i, c) in t.char_indices() {
        match c {
            '0'..='9' | 'e' | 'E' | '+' | '-' => cleaned.push(c),
            '.' => {
                // Thousands groups before the decimal point must have three digits.
                if last_comma.is_some_and(|p| i - p != 4) {
                    return None;
                }
                seen_dot = true;
                cleaned.push(c)
            }
            ',' if !seen_dot && i > 0 => {
                if last_comma.is_some_and(|p| i - p != 4) {
                    return None;
                }
                last_comma = Some(i);
            }
            _ => return date(s),
        }
    }
    if !seen_dot && last_comma.is_some_and(|p| t.len() - p != 4) {
        return None;
    }
    if cleaned.is_empty() || !cleaned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let Ok(v) = cleaned.parse::<f64>() else {
        // `2024-01-31` is made of digits and dashes but is a date.
        return date(s);
    };
    let v = if neg { -v } else { v };
    Some(if pct { v / 100.0 } else { v })
}

/// Excel's ordering for comparisons: numbers < text < booleans; text compares case-insensitively;
/// an empty cell compares as 0, "" or FALSE depending on the other side.
/// Errors must be handled by the caller.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::Text(_) => 1,
            Value::Bool(_) => 2,
            _ => 3,
        }
    }
    let (a, b) = match (a, b) {
        (Value::Empty, Value::Empty) => return Ordering::Equal,
        (Value::Empty, Value::Number(_)) => (&Value::Number(0.0), b),
        (Value::Number(_), Value::Empty) => (a, &Value::Number(0.0)),
        (Value::Empty, Value::Text(_)) => return compare_text("", b_text(b)),
        (Value::Text(_), Value::Empty) => return compare_text(b_text(a), ""),
        (Value::Empty, Value::Bool(_)) => (&Value::Bool(false), b),
        (Value::Bool(_), Value::Empty) => (a, &Value::Bool(false)),
        _ => (a, b),
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if numbers_equal(*x, *y) {
                Ordering::Equal
            } else {
                x.partial_cmp(y).unwrap_or(Ordering::Equal)
            }
        }
        (Value::Text(x), Value::Text(y)) => compare_text(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn b_text(v: &Value) -> &str {
    match v {
        Value::Text(s) => s,
        _ => "",
    }
}

/// Case-insensitive text comparison, as Excel's `=`, `<` and MATCH use.
pub fn compare_text(a: &str, b: &str) -> Ordering {
    let mut ai = a.chars().flat_map(char::to_lowercase);
    let mut bi = b.chars().flat_map(char::to_lowercase);
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(&y),
            _ => {}
        }
    }
}

/// Equality as Excel's `=` sees it: numbers equal to 15 significant digits.
pub fn numbers_equal(x: f64, y: f64) -> bool {
    if x == y {
        return true;
    }
    let scale = x.abs().max(y.abs());
    (x - y).abs() <= scale * 1e-15
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One 15-digit rounding: the fast path agrees bit for bit with the decimal expansion, near
    /// ties included (the fast copy in the math functions once rounded twice: 35839.63499273215
    /// is stored just below the tie, so its 15 digits end in 1, not 2).
    #[test]
    fn round15_is_the_decimal_rounding() {
        assert_eq!(round15(35_839.634_992_732_15), 35_839.634_992_732_1);
        assert_eq!(round15(-35_839.634_992_732_15), -35_839.634_992_732_1);
        assert_eq!(round15(0.1 + 0.2), 0.3);
        assert_eq!(round15(1e300), 1e300);
        assert_eq!(round15(5e-324), 5e-324);
        // Near-ties at many scales (16-digit decimals ending in 5) and random doubles, from a
        // fixed xorshift sequence.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let x = if i % 2 == 0 {
                let m = seed % 9_000_000_000_000_000 + 1_000_000_000_000_000;
                let e = (seed >> 50) as i32 % 80 - 40;
                (m - m % 10 + 5) as f64 * 10f64.powi(e - 15)
            } else {
                f64::from_bits(seed >> 1)
            };
            let (fast, exact) = (round15(x), round15_exact(x));
            assert!(
                fast.to_bits() == exact.to_bits() || (fast.is_nan() && exact.is_nan()),
                "{x:e}: {fast:e} vs {exact:e}"
            );
        }
    }

    #[test]
    fn text_of_numbers_uses_15_digits() {
        assert_eq!(number_to_text(1.0 / 3.0), "0.333333333333333");
        assert_eq!(number_to_text(0.1 + 0.2), "0.3");
        assert_eq!(number_to_text(-12.5), "-12.5");
        assert_eq!(number_to_text(100.0), "100");
        assert_eq!(number_to_text(123456789012345678.0), "1.23456789012346E+17");
        assert_eq!(number_to_text(1e-12), "1E-12");
    }

    #[test]
    fn coercions() {
        assert_eq!(Value::from(" 1,000.5 ").to_number(), Ok(1000.5));
        assert_eq!(Value::from("50%").to_number(), Ok(0.5));
        assert_eq!(Value::from("abc").to_number(), Err(ErrorKind::Value));
        assert_eq!(Value::from("12,34").to_number(), Err(ErrorKind::Value));
        assert_eq!(Value::from("1,234,567").to_number(), Ok(1234567.0));
        assert_eq!(Value::Bool(true).to_number(), Ok(1.0));
        assert_eq!(Value::from("true").to_bool(), Ok(true));
        assert_eq!(Value::Empty.to_text().as_deref(), Ok(""));
    }

    #[test]
    fn ordering_across_types() {
        use Ordering::*;
        assert_eq!(compare(&Value::Number(1e9), &Value::from("a")), Less);
        assert_eq!(compare(&Value::from("zzz"), &Value::Bool(false)), Less);
        assert_eq!(compare(&Value::from("ABC"), &Value::from("abc")), Equal);
        assert_eq!(compare(&Value::Empty, &Value::Number(0.0)), Equal);
        assert_eq!(compare(&Value::Empty, &Value::from("")), Equal);
        assert_eq!(
            compare(&Value::Number(0.1 + 0.2), &Value::Number(0.3)),
            Equal
        );
    }
}
