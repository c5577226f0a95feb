//! Evaluating formulas in this crate's unit tests, with the evaluator of `mcsim-eval` (a
//! dev-dependency). The evaluator links the library build of this crate, a different crate from the
//! one under test, so its values are converted to this crate's [`Value`].

use crate::value::{Array, Value};
use std::sync::Arc;

// For tests that build a workbook to evaluate (none at the moment).
#[allow(unused_imports)]
pub use mcsim_eval::quick::workbook;

fn convert(v: &mcsim_eval::Value) -> Value {
    use mcsim_eval::Value as V;
    match v {
        V::Empty => Value::Empty,
        V::Number(n) => Value::Number(*n),
        V::Text(t) => Value::Text(t.clone()),
        V::Bool(b) => Value::Bool(*b),
        V::Error(e) => Value::Error(*e),
        V::Array(a) => Value::Array(Arc::new(Array::new(
            a.rows,
            a.cols,
            a.data.iter().map(convert).collect(),
        ))),
    }
}

/// See `mcsim_eval::quick::eval`.
pub fn eval(formula: &str) -> Value {
    convert(&mcsim_eval::quick::eval(formula))
}

/// See `mcsim_eval::quick::eval_cells`.
pub fn eval_cells(cells: &[(&str, &str)], target: &str) -> Value {
    convert(&mcsim_eval::quick::eval_cells(cells, target))
}

/// See `mcsim_eval::quick::eval_1904`.
pub fn eval_1904(formula: &str) -> Value {
    convert(&mcsim_eval::quick::eval_1904(formula))
}
