//! mcsim's operations: each one is a library function with typed input and typed output, called
//! by the `mcsim` command line (and, later, by the HTTP daemon), which only decode arguments,
//! call the operation and encode its result.
//!
//! Operations so far:
//!
//! - [`parse()`]: load a workbook, analyse its formulas (functions used, unsupported functions,
//!   parse errors, circular references) and optionally recalculate every formula cell and
//!   compare the results with the values Excel stored in the file. Returns a [`ParseReport`],
//!   which serialises to JSON.
//!
//! [`values_match`] is the comparison rule used for that check, public so that conformance tests
//! use the same one.
//!
//! ```no_run
//! use mcsim_ops::{parse, ParseOptions};
//!
//! let options = ParseOptions::new("model.xlsx").with_recalc(true);
//! let report = parse(&options)?;
//! println!("{} formula cells", report.totals.formulas);
//! if let Some(recalc) = &report.recalc {
//!     println!("{} of {} match", recalc.summary.matched, recalc.summary.compared);
//! }
//! # Ok::<(), mcsim_ops::OpsError>(())
//! ```
#![deny(missing_docs)]

mod compare;
mod error;
pub mod merge;
pub mod parse;
pub mod results;
pub mod run;
pub mod validation;

pub use compare::{ABSOLUTE_TOLERANCE, JsonValue, RELATIVE_TOLERANCE, values_match};
pub use error::{ErrorKind, OpsError};
pub use parse::{ParseOptions, ParseReport, parse};
pub use run::{RunOptions, RunReport, run};
