//! Operators, element-wise over arrays with Excel's broadcasting.

use crate::value::{Array, Value, compare};
use mcsim_formula::{BinaryOp, ErrorKind};
use std::cmp::Ordering;
use std::sync::Arc;

/// Applies `f` to a scalar, or to every element of an array.
pub fn map1(v: &Value, f: &dyn Fn(&Value) -> Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(Arc::new(Array::new(
            a.rows,
            a.cols,
            a.data.iter().map(f).collect(),
        ))),
        v => f(v),
    }
}

/// Applies `f` pairwise, broadcasting a single row/column/value; positions outside a smaller
/// array are `#N/A`, as in Excel.
pub fn broadcast2(a: &Value, b: &Value, f: &dyn Fn(&Value, &Value) -> Value) -> Value {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            let rows = if x.rows == 1 {
                y.rows
            } else if y.rows == 1 {
                x.rows
            } else {
                x.rows.max(y.rows)
            };
            let cols = if x.cols == 1 {
                y.cols
            } else if y.cols == 1 {
                x.cols
            } else {
                x.cols.max(y.cols)
            };
            let mut data = Vec::with_capacity(rows * cols);
            for r in 0..rows {
                for c in 0..cols {
                    data.push(f(&x.get_broadcast(r, c), &y.get_broadcast(r, c)));
                }
            }
            Value::Array(Arc::new(Array::new(rows, cols, data)))
        }
        (Value::Array(_), s) => map1(a, &|e| f(e, s)),
        (s, Value::Array(_)) => map1(b, &|e| f(s, e)),
        _ => f(a, b),
    }
}

/// An arithmetic, text or comparison operator applied with Excel's rules.
pub fn binary_op(op: BinaryOp, a: &Value, b: &Value) -> Value {
    broadcast2(a, b, &|x, y| scalar_op(op, x, y))
}

fn scalar_op(op: BinaryOp, a: &Value, b: &Value) -> Value {
    if let Value::Error(e) = a {
        return Value::Error(*e);
    }
    if let Value::Error(e) = b {
        return Value::Error(*e);
    }
    match op {
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Pow => {
            let x = match a.to_number() {
                Ok(x) => x,
                Err(e) => return Value::Error(e),
            };
            let y = match b.to_number() {
                Ok(y) => y,
                Err(e) => return Value::Error(e),
            };
            arith(op, x, y).into()
        }
        BinaryOp::Concat => match (a.to_text(), b.to_text()) {
            (Ok(x), Ok(y)) => {
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(&x);
                s.push_str(&y);
                Value::from(s)
            }
            (Err(e), _) | (_, Err(e)) => Value::Error(e),
        },
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            let o = compare(a, b);
            Value::Bool(match op {
                BinaryOp::Eq => o == Ordering::Equal,
                BinaryOp::Ne => o != Ordering::Equal,
                BinaryOp::Lt => o == Ordering::Less,
                BinaryOp::Le => o != Ordering::Greater,
                BinaryOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
        _ => Value::Error(ErrorKind::Value),
    }
}

/// The numeric kernel of `+ - * / ^`, shared with the block compiler.
pub fn arith(op: BinaryOp, x: f64, y: f64) -> Result<f64, ErrorKind> {
    let r = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => {
            if y == 0.0 {
                return Err(ErrorKind::Div0);
            }
            x / y
        }
        BinaryOp::Pow => return pow(x, y),
        _ => return Err(ErrorKind::Value),
    };
    if r.is_finite() {
        Ok(r)
    } else {
        Err(ErrorKind::Num)
    }
}

/// Excel's `^`: `0^0` and `0^negative` are errors, a negative base needs an integer exponent
/// (or an odd root such as `(-8)^(1/3)`).
pub fn pow(x: f64, y: f64) -> Result<f64, ErrorKind> {
    if x == 0.0 {
        if y == 0.0 {
            return Err(ErrorKind::Num);
        }
        if y < 0.0 {
            return Err(ErrorKind::Div0);
        }
        return Ok(0.0);
    }
    let r = if x < 0.0 && y.fract() != 0.0 {
        // Odd roots of negative numbers are allowed: (-8)^(1/3) = -2.
        let inv = 1.0 / y;
        if (inv.round() - inv).abs() < 1e-10 && (inv.round() as i64) % 2 != 0 {
            -(-x).powf(y)
        } else {
            return Err(ErrorKind::Num);
        }
    } else if y.fract() == 0.0 && y.abs() <= 64.0 {
        x.powi(y as i32)
    } else {
        x.powf(y)
    };
    if r.is_finite() {
        Ok(r)
    } else {
        Err(ErrorKind::Num)
    }
}
