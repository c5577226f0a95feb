//! Comparing computed values with the values Excel stored, and their JSON form.

use mcsim_engine::Value;
use serde::Serialize;

/// Relative tolerance for numbers: Excel stores results with 17 significant digits and computes
/// in IEEE doubles, so two correct implementations can differ in the last bits.
pub const RELATIVE_TOLERANCE: f64 = 1e-9;
/// Absolute tolerance for numbers near zero.
pub const ABSOLUTE_TOLERANCE: f64 = 1e-12;

/// Does a computed value match the value Excel stored?
///
/// - Numbers match when they are within [`RELATIVE_TOLERANCE`] (relative to the larger
///   magnitude) or [`ABSOLUTE_TOLERANCE`] of each other.
/// - Text, booleans and errors must be equal exactly (text is case-sensitive).
/// - An array is represented by its top-left element (a formula cell shows that).
/// - `Empty` reads as Excel shows it in a formula result: it matches `Empty`, `0` and `""`.
///
/// A formula cell whose file stored no value (`cached` is `Empty`) is not a comparison at all;
/// callers skip such cells rather than call this.
///
/// ```
/// use mcsim_engine::Value;
/// use mcsim_ops::values_match;
/// assert!(values_match(&Value::Number(0.1 + 0.2), &Value::Number(0.3)));
/// assert!(!values_match(&Value::Number(1.0), &Value::Number(1.001)));
/// assert!(!values_match(&Value::from("a"), &Value::from("A")));
/// ```
pub fn values_match(computed: &Value, cached: &Value) -> bool {
    match (top_left(computed), top_left(cached)) {
        (Value::Number(a), Value::Number(b)) => numbers_match(*a, *b),
        (Value::Text(a), Value::Text(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Error(a), Value::Error(b)) => a == b,
        (Value::Empty, Value::Empty) => true,
        (Value::Empty, Value::Number(n)) | (Value::Number(n), Value::Empty) => *n == 0.0,
        (Value::Empty, Value::Text(t)) | (Value::Text(t), Value::Empty) => t.is_empty(),
        _ => false,
    }
}

fn numbers_match(a: f64, b: f64) -> bool {
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= ABSOLUTE_TOLERANCE || diff <= RELATIVE_TOLERANCE * a.abs().max(b.abs())
}

/// The top-left element of an array; any other value as is.
pub(crate) fn top_left(v: &Value) -> &Value {
    match v {
        Value::Array(a) => a.data.first().map_or(&Value::Empty, top_left),
        v => v,
    }
}

/// A cell value as JSON: a number, a string, a boolean, `null` for an empty value, or
/// `{"error": "#DIV/0!"}` for an error. An array is represented by its top-left element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum JsonValue {
    /// No value.
    Null,
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// An error value.
    Error {
        /// As Excel spells it: `#DIV/0!`, `#N/A`, ...
        error: String,
    },
}

impl From<&Value> for JsonValue {
    fn from(v: &Value) -> Self {
        match top_left(v) {
            Value::Empty | Value::Array(_) => JsonValue::Null,
            Value::Number(n) => JsonValue::Number(*n),
            Value::Text(t) => JsonValue::Text(t.to_string()),
            Value::Bool(b) => JsonValue::Bool(*b),
            Value::Error(e) => JsonValue::Error {
                error: e.as_str().to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcsim_engine::Array;
    use mcsim_formula::ErrorKind;
    use std::sync::Arc;

    #[test]
    fn numbers_use_the_tolerance() {
        assert!(values_match(
            &Value::Number(1e6),
            &Value::Number(1e6 + 1e-4)
        ));
        assert!(!values_match(
            &Value::Number(1e6),
            &Value::Number(1e6 + 1e-2)
        ));
        assert!(values_match(&Value::Number(1e-13), &Value::Number(0.0)));
        assert!(!values_match(&Value::Number(1e-11), &Value::Number(0.0)));
        assert!(values_match(&Value::Number(-2.5), &Value::Number(-2.5)));
    }

    #[test]
    fn other_kinds_match_exactly() {
        assert!(values_match(&Value::Bool(true), &Value::Bool(true)));
        assert!(!values_match(&Value::Bool(true), &Value::Number(1.0)));
        assert!(values_match(
            &Value::Error(ErrorKind::Div0),
            &Value::Error(ErrorKind::Div0)
        ));
        assert!(!values_match(
            &Value::Error(ErrorKind::Div0),
            &Value::Error(ErrorKind::Na)
        ));
        assert!(!values_match(&Value::from("1"), &Value::Number(1.0)));
        assert!(values_match(&Value::Empty, &Value::Number(0.0)));
        assert!(values_match(&Value::Empty, &Value::from("")));
    }

    #[test]
    fn arrays_compare_by_top_left() {
        let a = Value::Array(Arc::new(Array::row(vec![
            Value::Number(3.0),
            Value::Number(4.0),
        ])));
        assert!(values_match(&a, &Value::Number(3.0)));
        assert_eq!(JsonValue::from(&a), JsonValue::Number(3.0));
    }

    #[test]
    fn json_forms() {
        let json = |v: &Value| serde_json::to_string(&JsonValue::from(v)).unwrap_or_default();
        assert_eq!(json(&Value::Empty), "null");
        assert_eq!(json(&Value::Number(1.5)), "1.5");
        assert_eq!(json(&Value::from("x")), "\"x\"");
        assert_eq!(json(&Value::Bool(false)), "false");
        assert_eq!(
            json(&Value::Error(ErrorKind::Div0)),
            r##"{"error":"#DIV/0!"}"##
        );
    }
}
