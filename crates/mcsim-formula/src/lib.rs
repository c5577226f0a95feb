//! The Excel formula language: lexer, parser, syntax tree and A1 references.
//!
//! [`parse`] turns formula text (with or without its `=`) into an [`Expr`] tree whose nodes carry
//! byte [`Span`]s, so that an error can point at the offending part of a formula. The tree keeps
//! everything Excel's grammar has: numbers, strings with `""` escapes, booleans, error literals,
//! array constants, A1 references (relative/absolute, ranges, whole rows and columns, other
//! sheets), defined names, operators with Excel's precedence (prefix minus binds tighter than `^`),
//! the reference operators (range `:`, intersection ` `, union `,`) and function calls with the
//! `_xlfn.`/`_xlws.` prefixes removed, structured references to Excel tables
//! ([`StructuredRef`]) and 3D references (`Sheet1:Sheet3!A1`), which [`Expr::resolve`] turns into
//! ordinary references once the workbook's tables and sheet order are known.
//!
//! ```
//! use mcsim_formula::{parse, ExprKind, BinaryOp};
//! let e = parse("=-2^2+SUM('My Sheet'!A1:B3)").unwrap();
//! let ExprKind::Binary { op, .. } = &e.kind else { panic!() };
//! assert_eq!(*op, BinaryOp::Add);
//! assert_eq!(e.to_string(), "-2^2+SUM('My Sheet'!A1:B3)");
//! ```
#![deny(missing_docs)]

mod ast;
mod display;
mod error;
mod lexer;
mod parser;
mod reference;
mod structured;

pub use ast::{BinaryOp, ErrorKind, Expr, ExprKind, PostfixOp, Span, UnaryOp};
pub use display::format_number;
pub use error::ParseError;
pub use parser::{normalize_function_name, parse};
pub use reference::{
    Bounds, CellRef, MAX_COLS, MAX_ROWS, OffSheet, RefKind, Reference, a1, col_name, parse_a1,
    parse_col, quote_sheet,
};
pub use structured::{Position, Resolver, StructuredRef, Table, TableRows};

#[cfg(test)]
mod tests;
