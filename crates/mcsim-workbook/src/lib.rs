//! Loading Excel workbooks (`.xlsx`, `.xlsm`) into mcsim's in-memory [`Workbook`] model.
//!
//! [`load`] reads a file, [`load_bytes`] a buffer (an HTTP upload, say). Both:
//!
//! 1. check the file before any parser sees it: `.xls` (OLE2), encrypted workbooks,
//!    `.xlsb`, `.ods`, `.csv` and non-zip files are refused with a message saying what the
//!    file is; zip archives are checked against [`LoadOptions`] (entry count, total declared
//!    size, per-entry compression ratio) and for unsafe entry names;
//! 2. read the workbook with [calamine]'s streaming cell reader, so memory grows with the
//!    number of cells, not with the area of the used range;
//! 3. add what calamine does not report: the ranges of array formulas, the scope
//!    (`localSheetId`) of defined names, and cached error values calamine does not know
//!    (`#SPILL!`, `#CALC!`, ...; such a sheet is read by this crate's own reader), and the
//!    Excel tables (`xl/tables/*.xml`) with their extents and column names.
//!
//! ```no_run
//! use mcsim_workbook::{load, LoadOptions};
//!
//! let book = load(std::path::Path::new("model.xlsx"), &LoadOptions::default())?;
//! for sheet in &book.sheets {
//!     println!("{}: {} cells", sheet.name, sheet.cells.len());
//! }
//! # Ok::<(), mcsim_workbook::LoadError>(())
//! ```
//!
//! [calamine]: https://docs.rs/calamine
#![deny(missing_docs)]

mod error;
mod external;
mod guard;
mod load;
pub mod model;
mod options;
mod package;
mod rawsheet;
mod rows;
mod save;
mod sheet;
mod tables;
mod validation;
mod values;
mod xml;

pub use error::{BoxError, LoadError, ZipLimit};
pub use external::book_file_name;
pub use load::{load, load_bytes};
pub use model::{
    Cell, CellValue, CfRule, ConditionalFormat, DataTable, DataValidation, DefinedName,
    ExternalBook, ExternalName, ExternalSheet, Formula, HiddenRows, Range, Sheet, Table, Workbook,
};
pub use options::{LoadOptions, RATIO_CHECK_MIN_BYTES};
pub use save::{CellUpdate, SaveError, UpdateValue, save_with_values};
