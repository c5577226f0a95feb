//! Logical functions: AND, OR, XOR, NOT, TRUE, FALSE.
//!
//! IF, IFS, IFERROR, IFNA, SWITCH and LET evaluate their arguments lazily and live in the
//! evaluator (see [`super::SPECIAL_FORMS`]).

use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::value::Value;
use mcsim_formula::ErrorKind;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("AND", 1, VARIADIC, Lift::None, and),
    FnSpec::new("OR", 1, VARIADIC, Lift::None, or),
    FnSpec::new("XOR", 1, VARIADIC, Lift::None, xor),
    FnSpec::new("NOT", 1, 1, Lift::All, not),
    FnSpec::new("TRUE", 0, 0, Lift::None, true_fn),
    FnSpec::new("FALSE", 0, 0, Lift::None, false_fn),
];

/// The booleans AND/OR/XOR aggregate, with Excel's rules: a value typed as an argument is
/// coerced (numbers, `"TRUE"`/`"FALSE"` text; empty text is skipped, other text is `#VALUE!`),
/// while inside references and arrays only numbers and booleans count (text and empty cells are
/// skipped). Errors propagate (the first one met, left to right). No boolean at all is `#VALUE!`.
fn logical_values(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<bool>, ErrorKind> {
    fn from_range(v: &Value, out: &mut Vec<bool>) -> Result<(), ErrorKind> {
        match v {
            Value::Bool(b) => out.push(*b),
            Value::Number(n) => out.push(*n != 0.0),
            Value::Error(e) => return Err(*e),
            _ => {}
        }
        Ok(())
    }
    let mut out = Vec::new();
    for a in args {
        match a {
            Arg::Value(Value::Array(arr)) => {
                for v in &arr.data {
                    from_range(v, &mut out)?;
                }
            }
            // An omitted argument (`AND(TRUE,)`) counts as FALSE, as in Excel.
            Arg::Value(Value::Empty) => out.push(false),
            Arg::Value(Value::Text(t)) => {
                // Empty text is skipped; other text must read as a boolean.
                if t.is_empty() {
                    continue;
                } else if t.eq_ignore_ascii_case("TRUE") {
                    out.push(true);
                } else if t.eq_ignore_ascii_case("FALSE") {
                    out.push(false);
                } else {
                    return Err(ErrorKind::Value);
                }
            }
            Arg::Value(v) => from_range(v, &mut out)?,
            Arg::Ref(_) | Arg::Union(_) => {
                let mut err = None;
                ctx.for_each_cell(a, &mut |v| {
                    if err.is_none()
                        && let Err(e) = from_range(v, &mut out)
                    {
                        err = Some(e);
                    }
                });
                if let Some(e) = err {
                    return Err(e);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(ErrorKind::Value);
    }
    Ok(out)
}

fn and(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match logical_values(ctx, args) {
        Ok(v) => Value::Bool(v.iter().all(|&b| b)),
        Err(e) => Value::Error(e),
    }
}

fn or(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match logical_values(ctx, args) {
        Ok(v) => Value::Bool(v.iter().any(|&b| b)),
        Err(e) => Value::Error(e),
    }
}

fn xor(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match logical_values(ctx, args) {
        Ok(v) => Value::Bool(v.iter().filter(|&&b| b).count() % 2 == 1),
        Err(e) => Value::Error(e),
    }
}

fn not(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match ctx.boolean(&args[0]) {
        Ok(b) => Value::Bool(!b),
        Err(e) => Value::Error(e),
    }
}

fn true_fn(_: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Bool(true)
}

fn false_fn(_: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Bool(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::Value;
    use crate::quick::{eval, eval_cells};
    use mcsim_formula::ErrorKind;

    fn b(x: bool) -> Value {
        Value::Bool(x)
    }

    #[test]
    fn and_or_xor_scalars() {
        assert_eq!(eval("=AND(1,1)"), b(true));
        assert_eq!(eval("=AND(0,1)"), b(false));
        assert_eq!(eval("=AND(-0.1)"), b(true));
        assert_eq!(eval("=OR(0,0,1)"), b(true));
        assert_eq!(eval("=OR(FALSE)"), b(false));
        assert_eq!(eval("=XOR(TRUE,TRUE)"), b(false));
        assert_eq!(eval("=XOR(1,0,1,1)"), b(true));
        assert_eq!(eval("=AND(\"true\",TRUE)"), b(true));
        assert_eq!(eval("=AND(\"abc\",TRUE)"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=OR(\"1\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=OR(\"\",TRUE)"), b(true));
        assert_eq!(eval("=AND(\"\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=OR(#N/A,TRUE)"), Value::Error(ErrorKind::Na));
        assert_eq!(eval("=AND({1,0,1})"), b(false));
        assert_eq!(eval("=OR({0,\"x\",1})"), b(true));
    }

    #[test]
    fn and_or_over_ranges_skip_text_and_blanks() {
        let cells = [
            ("A1", "TRUE"),
            ("A2", "hello"),
            ("A3", "1"),
            ("B1", "=AND(A1:A4)"),
            ("B2", "=OR(A2)"),
            ("B3", "=AND(C1:C3)"),
            ("B4", "=OR(A1:A3,FALSE)"),
            ("B5", "=XOR(A1:A3)"),
            ("C5", "=1/0"),
            ("B6", "=AND(A1:A3,C5)"),
        ];
        assert_eq!(eval_cells(&cells, "B1"), b(true));
        assert_eq!(eval_cells(&cells, "B2"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "B3"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "B4"), b(true));
        assert_eq!(eval_cells(&cells, "B5"), b(false));
        assert_eq!(eval_cells(&cells, "B6"), Value::Error(ErrorKind::Div0));
    }

    #[test]
    fn not_true_false() {
        assert_eq!(eval("=NOT(0)"), b(true));
        assert_eq!(eval("=NOT(2)"), b(false));
        assert_eq!(eval("=NOT(\"x\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=TRUE()"), b(true));
        assert_eq!(eval("=FALSE()"), b(false));
        assert_eq!(eval_cells(&[("A1", "=NOT(B1)")], "A1"), b(true));
    }
}
