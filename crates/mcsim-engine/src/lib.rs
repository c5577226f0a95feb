//! mcsim's engine: a workbook's formulas compiled into a dependency graph and evaluated with
//! Excel's semantics.
//!
//! # Design
//!
//! - [`Model`] is the compiled workbook: every cell in one vector, each sheet indexed by column
//!   (so a range, even a whole column, is a pair of binary searches), formulas parsed once. Shared
//!   formulas are expanded by shifting the anchor's syntax tree, not by re-parsing text.
//! - [`Graph`] is the analysis, separate from evaluation: the areas each formula reads, a
//!   dependency order, the circular references. The Monte Carlo engine uses the same graph to split
//!   a model into the cells that depend on no uncertain input (evaluated once, by the scalar
//!   evaluator below) and the stochastic cone (compiled to a flat program over blocks of
//!   iterations: values as columns of `f64`, one column per cell, one loop per operation, so that
//!   dispatch is paid once per block rather than per iteration).
//! - [`Evaluator`] is the scalar evaluator over [`Value`]s: the whole language, arrays, references,
//!   errors. Functions ([`functions`]) are grouped by Excel category; numeric ones keep their
//!   arithmetic in pure `f64` kernels that the block compiler reuses, so both paths share one
//!   definition.
//!
//! # Layers
//!
//! The engine is split into crates that depend one way, lower to higher, so a lower layer cannot
//! name a higher one:
//!
//! 1. `mcsim-functions`: values ([`value`]), the calendar ([`calendar`]), the compiled workbook
//!    ([`model`], built by [`Model::from_workbook`]), random call sites ([`sites`]), the
//!    simulation's function names ([`risk_names`]) and the function library ([`functions`]). It
//!    defines the [`functions::Context`] trait that the evaluator implements, so functions never
//!    name the evaluator. This crate re-exports those modules under the same names, so
//!    `mcsim_engine::functions::...` and `crate::value::...` paths read as before the split.
//! 2. `mcsim-eval`, the evaluator: [`graph`] < [`eval`] < [`table`] (data tables'
//!    recalculation), [`quick`]. This crate re-exports those modules too.
//! 3. `mcsim-engine` (this crate), the simulation: [`sim`], the block compiler and executors
//!    (CPU and CUDA), which compiles the stochastic cone of a model and evaluates the rest with
//!    the evaluator.
//!
//! ```
//! use mcsim_engine::{Model, Graph, Evaluator, Value};
//! use mcsim_workbook::{Workbook, Sheet, Cell, CellValue, Formula};
//! let wb = Workbook {
//!     sheets: vec![Sheet { name: "S".into(), cells: vec![
//!         Cell { row: 0, col: 0, value: CellValue::Number(2.0), formula: None },
//!         Cell { row: 0, col: 1, value: CellValue::Empty, formula: Some(Formula::Text("A1^3+1".into())) },
//!     ]}],
//!     ..Workbook::default()
//! };
//! let model = Model::from_workbook(&wb);
//! let graph = Graph::build(&model);
//! let mut ev = Evaluator::new(&model);
//! ev.run(&graph.order);
//! assert_eq!(ev.values()[1], Value::Number(9.0));
//! ```
#![deny(missing_docs)]

pub mod sim;

pub use mcsim_eval::{eval, graph, quick, table};
pub use mcsim_functions::{calendar, functions, model, risk_names, sites, value};

pub use mcsim_functions::cell_value;

pub use eval::{Arg, Ctx, Evaluator};
pub use graph::Graph;
pub use model::{Area, CellId, Model, SheetId};
pub use value::{Array, Value};
