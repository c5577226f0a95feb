//! Helpers for implementing functions: reading arguments with Excel's coercion rules.

use super::{Arg, Context};
use crate::value::{Array, Value};
use mcsim_formula::ErrorKind;
use std::sync::Arc;

/// Propagates an error: `let x = tri!(ctx.number(&args[0]));` returns `Value::Error` early.
#[macro_export]
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return $crate::value::Value::Error(e),
        }
    };
}

/// The argument at `i`, or `None` when it was not given or given empty (`F(1,,3)`).
pub fn opt(args: &[Arg], i: usize) -> Option<&Arg> {
    match args.get(i) {
        None | Some(Arg::Value(Value::Empty)) => None,
        Some(a) => Some(a),
    }
}

/// How an aggregate treats the values it visits, following Excel's rules for SUM-like functions:
/// numbers typed directly as arguments are coerced (text "3" counts, "abc" is `#VALUE!`), while
/// text and booleans inside references and arrays are skipped.
#[derive(Debug, Clone, Copy)]
pub struct Numbers {
    /// Count booleans/text found in references as 0/1 (the `A` functions: AVERAGEA, ...).
    pub include_ref_text_bool: bool,
    /// Stop at the first error (true for nearly every function).
    pub propagate_errors: bool,
}

impl Default for Numbers {
    fn default() -> Self {
        Numbers {
            include_ref_text_bool: false,
            propagate_errors: true,
        }
    }
}

/// The argument readers, on any [`Context`] (they only use its methods).
impl<'m> dyn Context<'m> + '_ {
    /// Every number the arguments contribute to a SUM-like aggregate (see [`Numbers`]).
    pub fn numbers(&mut self, args: &[Arg], rules: Numbers) -> Result<Vec<f64>, ErrorKind> {
        let mut out = Vec::new();
        for a in args {
            self.numbers_into(a, rules, &mut out)?;
        }
        Ok(out)
    }

    /// Appends the numbers of one argument (see `Context::numbers`).
    pub fn numbers_into(
        &mut self,
        a: &Arg,
        rules: Numbers,
        out: &mut Vec<f64>,
    ) -> Result<(), ErrorKind> {
        match a {
            Arg::Value(Value::Array(arr)) => {
                for v in &arr.data {
                    push_from_range(v, rules, out)?;
                }
            }
            Arg::Value(Value::Empty) => {}
            Arg::Value(v) => match v {
                Value::Error(e) => {
                    if rules.propagate_errors {
                        return Err(*e);
                    }
                }
                _ => out.push(v.to_number()?),
            },
            Arg::Ref(_) | Arg::Union(_) => {
                let mut err = None;
                self.for_each_cell(a, &mut |v| {
                    if err.is_none()
                        && let Err(e) = push_from_range(v, rules, out)
                    {
                        err = Some(e);
                    }
                });
                if let Some(e) = err {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Visits every stored (non-empty) cell of a reference argument, or every element of an array,
    /// or the value itself.
    pub fn for_each_cell(&mut self, a: &Arg, f: &mut dyn FnMut(&Value)) {
        match a {
            Arg::Value(Value::Array(arr)) => arr.data.iter().for_each(f),
            Arg::Value(v) => f(v),
            Arg::Ref(area) => self.visit_area(*area, &mut |_, _, v| f(v)),
            Arg::Union(areas) => {
                for area in areas.iter() {
                    self.visit_area(*area, &mut |_, _, v| f(v));
                }
            }
        }
    }

    /// The argument as a dense array (a reference is read cell by cell, clipped to the used part
    /// of the sheet when it spans whole rows or columns; a scalar becomes 1×1).
    pub fn array(&mut self, a: &Arg) -> Result<Arc<Array>, ErrorKind> {
        match a {
            Arg::Value(Value::Array(arr)) => Ok(arr.clone()),
            Arg::Value(v) => Ok(Arc::new(Array::new(1, 1, vec![v.clone()]))),
            Arg::Ref(area) => Ok(Arc::new(self.area_array(*area))),
            Arg::Union(_) => Err(ErrorKind::Value),
        }
    }

    /// A scalar from an argument: a reference by implicit intersection, an array by its
    /// top-left element.
    pub fn scalar(&mut self, a: &Arg) -> Value {
        match a {
            Arg::Value(v) => v.first(),
            Arg::Ref(area) => self.intersect(*area),
            Arg::Union(_) => Value::Error(ErrorKind::Value),
        }
    }

    /// A number from an argument (see `Context::scalar`, then [`Value::to_number`]).
    pub fn number(&mut self, a: &Arg) -> Result<f64, ErrorKind> {
        self.scalar(a).to_number()
    }

    /// A number, or `default` when the argument is omitted.
    pub fn number_or(&mut self, args: &[Arg], i: usize, default: f64) -> Result<f64, ErrorKind> {
        match opt(args, i) {
            None => Ok(default),
            Some(a) => self.number(a),
        }
    }

    /// Text from an argument.
    pub fn text(&mut self, a: &Arg) -> Result<Arc<str>, ErrorKind> {
        self.scalar(a).to_text()
    }

    /// A boolean from an argument.
    pub fn boolean(&mut self, a: &Arg) -> Result<bool, ErrorKind> {
        self.scalar(a).to_bool()
    }

    /// A boolean, or `default` when omitted.
    pub fn boolean_or(&mut self, args: &[Arg], i: usize, default: bool) -> Result<bool, ErrorKind> {
        match opt(args, i) {
            None => Ok(default),
            Some(a) => self.boolean(a),
        }
    }
}

fn push_from_range(v: &Value, rules: Numbers, out: &mut Vec<f64>) -> Result<(), ErrorKind> {
    match v {
        Value::Number(n) => out.push(*n),
        Value::Error(e) if rules.propagate_errors => return Err(*e),
        Value::Bool(b) if rules.include_ref_text_bool => out.push(if *b { 1.0 } else { 0.0 }),
        Value::Text(_) if rules.include_ref_text_bool => out.push(0.0),
        _ => {}
    }
    Ok(())
}
