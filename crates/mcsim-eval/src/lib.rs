//! mcsim's evaluator: a compiled workbook's dependency graph ([`Graph`]) and its scalar
//! evaluation with Excel's semantics ([`Evaluator`]), What-If data tables ([`table`]) and
//! one-line evaluation for tests and examples ([`quick`]).
//!
//! It sits between the function library (`mcsim-functions`, below: values, the model and the
//! functions, which read the evaluator only through the [`functions::Context`] trait it
//! implements here) and the simulation (`mcsim-engine`'s `sim`, above). It re-exports the
//! library's modules under their names (`value`, `model`, `functions`, ...), as `mcsim-engine`
//! re-exports this crate's.
//!
//! ```
//! use mcsim_eval::{Evaluator, Graph, Model, Value};
//! let wb = mcsim_eval::quick::workbook(&[("A1", "2"), ("B1", "=A1^3+1")]);
//! let model = Model::from_workbook(&wb);
//! let graph = Graph::build(&model);
//! let mut ev = Evaluator::new(&model);
//! ev.run(&graph.order);
//! assert_eq!(ev.values()[1], Value::Number(9.0));
//! ```
#![deny(missing_docs)]

pub mod eval;
pub mod graph;
pub mod quick;
pub mod table;

use mcsim_functions::ops;
pub use mcsim_functions::{calendar, cell_value, functions, model, risk_names, sites, value};

#[cfg(test)]
mod build_tests;
#[cfg(test)]
mod prep_tests;
#[cfg(test)]
mod risk_tests;

pub use eval::{Arg, Ctx, Evaluator};
pub use graph::Graph;
pub use model::{Area, CellId, Model, SheetId};
pub use value::{Array, Value};
