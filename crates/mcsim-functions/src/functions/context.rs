//! What a function sees of the evaluator: its arguments ([`Arg`]) and a [`Context`] to read them
//! through.
//!
//! The function library sits below the evaluator: it defines this trait and the evaluator
//! implements it, so `functions` never names `eval` (the dependency runs one way). Functions take
//! `&mut Ctx`, a trait object, which also keeps the `fn(&mut Ctx, &[Arg]) -> Value` pointers of the
//! function tables plain.

use crate::model::{Area, CellId, Model, SheetId};
use crate::sites::SiteKind;
use crate::value::{Array, Value};
use mcsim_formula::Expr;
use std::sync::Arc;

/// A function argument: a value, or a reference still to be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A value (scalar or array).
    Value(Value),
    /// A rectangular reference.
    Ref(Area),
    /// Several areas (`(A1:A3,C1:C3)`).
    Union(Arc<[Area]>),
}

impl From<Value> for Arg {
    fn from(v: Value) -> Self {
        Arg::Value(v)
    }
}

/// The evaluator as the functions see it: the calling cell, the workbook's values, the simulation.
/// Implemented by `mcsim_eval::eval`; the argument readers (`number`, `array`, `text`, ...) are built on
/// it in [`super::args`].
pub trait Context<'m> {
    /// The model being evaluated.
    fn model(&self) -> &'m Model;

    /// `true` for the 1904 date system.
    fn date1904(&self) -> bool;

    /// The calling cell: sheet, zero-based row and column.
    fn position(&self) -> (SheetId, u32, u32);

    /// `true` inside an array formula.
    fn array_mode(&self) -> bool;

    /// A uniform random number in [0, 1): in a simulation, the value of this call's site; outside
    /// one, any uniform.
    fn random(&mut self) -> f64;

    /// After a simulation, the simulated values of a tracked cell, sorted, and the number of error
    /// iterations.
    fn results(&self, cell: CellId) -> Option<(&[f64], usize)>;

    /// Were simulation results given?
    fn has_results(&self) -> bool;

    /// Which simulation of a `RiskSimtable` run this is (0-based).
    fn simulation(&self) -> usize;

    /// In a simulation, the site of the function call being evaluated: this iteration's value and
    /// what it is (see [`crate::sites`]).
    fn site(&self) -> Option<(f64, &SiteKind)>;

    /// Makes the function return a reference instead of a value (INDEX, OFFSET, INDIRECT). Return
    /// the result of this call from the implementation.
    fn reference(&mut self, area: Area) -> Value;

    /// The value of one cell.
    fn cell(&mut self, sheet: SheetId, row: u32, col: u32) -> Value;

    /// Visits the stored cells of an area row by row: `f(row, col, value)`. Empty cells are skipped.
    fn visit_area(&mut self, area: Area, f: &mut dyn FnMut(u32, u32, &Value));

    /// The area as a dense array. An area spanning whole rows or columns is clipped to the used
    /// part of the sheet, so `A:A` costs what the sheet holds, not a million cells.
    fn area_array(&mut self, area: Area) -> Array;

    /// Implicit intersection of an area with the calling cell's row or column.
    fn intersect(&mut self, area: Area) -> Value;

    /// Resolves a sheet name (case-insensitive).
    fn sheet_id(&self, name: &str) -> Option<SheetId>;

    /// Parses and resolves reference text such as `Sheet2!B3:C4` or a defined name (INDIRECT).
    fn parse_reference(&mut self, text: &str) -> Option<Area>;

    /// Evaluates an expression tree in the calling cell's context.
    fn eval_expr(&mut self, e: &Expr) -> Arg;
}

/// The context a function receives: `fn f(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value`.
pub type Ctx<'e, 'm> = dyn Context<'m> + 'e;
