//! mcsim's function library: Excel's values and coercions, the compiled workbook ([`Model`]) the
//! functions read, and the functions themselves, grouped by Excel category.
//!
//! # Place in the engine
//!
//! The engine is three crates, each depending only on those below it:
//!
//! 1. `mcsim-functions` (this crate): [`Value`], the calendar, operators, the [`Model`] a workbook
//!    compiles to (and its building from a loaded workbook), random call sites, the simulation's
//!    function names ([`risk_names`]) and the function library ([`functions`]). It names no
//!    evaluator: functions read their arguments and the workbook through the
//!    [`functions::Context`] trait, which the evaluator implements.
//! 2. `mcsim-eval`, the evaluator (`eval`, `graph`, `table`, `quick`): the scalar evaluation of a
//!    model with Excel's semantics.
//! 3. `mcsim-engine`, the simulation (`sim`): the block compiler and executors.
//!
//! `mcsim-eval` and `mcsim-engine` re-export this crate's modules under the same names
//! (`mcsim_engine::value`, `mcsim_engine::functions`, ...), so callers need not name this crate.
//!
//! Numeric functions keep their arithmetic in pure `f64` kernels that the engine's block compiler
//! reuses, so both paths share one definition.
#![deny(missing_docs)]

mod build;
pub mod calendar;
pub mod functions;
pub mod model;
pub mod ops;
pub mod risk_names;
pub mod sites;
pub mod table;
pub mod value;

/// The evaluator, for this crate's unit tests (a dev-dependency, converted to this crate's values).
#[cfg(test)]
#[path = "test_eval.rs"]
mod quick;

pub use build::cell_value;
pub use functions::{Arg, Context, Ctx};
pub use model::{Area, Calls, CellId, Model, SheetId};
pub use value::{Array, Value};
