//! The compiled workbook: cells in a compact store, parsed formulas, defined names.

use crate::value::Value;
use mcsim_formula::{Bounds, ErrorKind, Expr, ExprKind, ParseError};
use std::collections::HashMap;

/// Index of a sheet in [`Model::sheets`].
pub type SheetId = u32;
/// Index of a cell in [`Model::cells`].
pub type CellId = u32;

/// A rectangle on one sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Area {
    /// The sheet.
    pub sheet: SheetId,
    /// The cells.
    pub bounds: Bounds,
}

impl Area {
    /// A single cell.
    pub fn cell(sheet: SheetId, row: u32, col: u32) -> Area {
        Area {
            sheet,
            bounds: Bounds {
                r1: row,
                c1: col,
                r2: row,
                c2: col,
            },
        }
    }
}

/// One cell of the model.
#[derive(Debug, Clone)]
pub struct CellData {
    /// Sheet.
    pub sheet: SheetId,
    /// Zero-based row.
    pub row: u32,
    /// Zero-based column.
    pub col: u32,
    /// The formula, if any.
    pub formula: Option<FormulaId>,
    /// For a formula cell, the value the file stored (Empty if none); for a constant, its value.
    pub stored: Value,
}

/// Index into [`Model::formulas`].
pub type FormulaId = u32;

/// A formula cell's parsed formula.
#[derive(Debug, Clone)]
pub struct Formula {
    /// The cell that holds it.
    pub cell: CellId,
    /// Formula text as written in the file; empty for a cell of a shared formula, whose text is
    /// its shifted syntax tree (see [`Formula::text`]).
    pub source: String,
    /// The syntax tree, or the parse error (the cell then evaluates to `#NAME?`).
    pub expr: Result<Expr, ParseError>,
    /// For an array formula: the range it fills, and this cell's offset in it.
    pub array: Option<ArrayPart>,
    /// The kinds of function the syntax tree calls ([`Calls::of`] of `expr`).
    pub calls: Calls,
}

/// The kinds of function a formula calls, found by one walk of its syntax tree when the model is
/// built. The passes that look for particular calls (distributions and statistics, `RAND`,
/// volatile functions, functions the library lacks) skip the formulas that call none of them
/// instead of walking every tree again: on grid_20k's 20,000 formulas those walks took 12% of
/// preparing a run (`perf --call-graph dwarf`, docs/benchmarks.md, session 9).
///
/// A flag is set when at least one call of its kind is anywhere in the tree, so a pass that
/// skips a formula without its flag finds exactly what its walk found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls(u8);

impl Calls {
    /// A call of an add-in's function: `RISK…`, `PSI…`, `VOSE…` (also with `_xll.`), as
    /// [`crate::risk_names::split_vendor`] recognises them: distributions, statistics, property
    /// functions, output markers.
    pub const VENDOR: Calls = Calls(1);
    /// `RAND`, `RANDBETWEEN` or `RANDARRAY`.
    pub const RANDOM: Calls = Calls(2);
    /// A function [`crate::functions::is_volatile`] counts.
    pub const VOLATILE: Calls = Calls(4);
    /// A function the library does not have ([`crate::functions::is_supported`] is false): an
    /// add-in's, or a LAMBDA called through a name.
    pub const UNSUPPORTED: Calls = Calls(8);

    /// The kinds of function `e` calls.
    pub fn of(e: &Expr) -> Calls {
        let mut found = Calls::default();
        e.walk(&mut |n| {
            if let ExprKind::Call { name, .. } = &n.kind {
                found = found.with(Calls::kinds_of(name));
            }
        });
        found
    }

    /// The kinds one call of the function `name` (upper case, as parsed) is.
    fn kinds_of(name: &str) -> Calls {
        let mut k = Calls::default();
        if crate::risk_names::split_vendor(name).is_some() {
            k = k.with(Calls::VENDOR);
        }
        if matches!(name, "RAND" | "RANDBETWEEN" | "RANDARRAY") {
            k = k.with(Calls::RANDOM);
        }
        if crate::functions::is_volatile(name) {
            k = k.with(Calls::VOLATILE);
        }
        if !crate::functions::is_supported(name) {
            k = k.with(Calls::UNSUPPORTED);
        }
        k
    }

    /// Both sets of kinds.
    pub const fn with(self, other: Calls) -> Calls {
        Calls(self.0 | other.0)
    }

    /// Does the formula call a function of any kind in `kinds`?
    pub const fn any(self, kinds: Calls) -> bool {
        self.0 & kinds.0 != 0
    }
}

impl Formula {
    /// The formula text (for a shared formula's cell: the anchor's text with references shifted).
    pub fn text(&self) -> String {
        if !self.source.is_empty() {
            return self.source.clone();
        }
        match &self.expr {
            Ok(e) => e.to_string(),
            Err(_) => String::new(),
        }
    }
}

/// Where a cell sits inside an array formula's range.
#[derive(Debug, Clone, Copy)]
pub struct ArrayPart {
    /// The whole range.
    pub range: Bounds,
    /// The anchor (top-left) cell, which owns the formula.
    pub anchor: CellId,
}

/// A sheet: its name and a column-major index of its cells.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// Name as shown by Excel.
    pub name: String,
    /// `columns[c]` lists `(row, cell)` sorted by row.
    pub columns: Vec<Vec<(u32, CellId)>>,
    /// Last used row + 1 (0 when empty).
    pub used_rows: u32,
    /// Rows hidden by hand, ascending (see [`RowState`]).
    pub hidden_rows: Vec<u32>,
    /// Rows hidden by a filter, ascending.
    pub filtered_rows: Vec<u32>,
}

/// Whether a row shows, as SUBTOTAL and AGGREGATE tell rows apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    /// Shown.
    Visible,
    /// Hidden by hand (SUBTOTAL 101-111 and AGGREGATE's options 1, 3, 5, 7 skip it).
    Hidden,
    /// Hidden by a filter (every SUBTOTAL skips it, and AGGREGATE's options 1, 3, 5, 7).
    Filtered,
}

impl Sheet {
    /// The cell at (`row`, `col`), if stored.
    pub fn find(&self, row: u32, col: u32) -> Option<CellId> {
        let column = self.columns.get(col as usize)?;
        column
            .binary_search_by_key(&row, |e| e.0)
            .ok()
            .map(|i| column[i].1)
    }

    /// The stored cells of column `col` between rows `r1..=r2`.
    pub fn column_slice(&self, col: u32, r1: u32, r2: u32) -> &[(u32, CellId)] {
        let Some(column) = self.columns.get(col as usize) else {
            return &[];
        };
        if r1 == r2 {
            // A single cell (most references): one search (a column holds a row once).
            return match column.binary_search_by_key(&r1, |e| e.0) {
                Ok(i) => &column[i..=i],
                Err(_) => &[],
            };
        }
        let start = column.partition_point(|e| e.0 < r1);
        let rest = &column[start..];
        &rest[..rest.partition_point(|e| e.0 <= r2)]
    }

    /// Whether the row is shown, hidden by hand or hidden by a filter.
    pub fn row_state(&self, row: u32) -> RowState {
        if self.filtered_rows.binary_search(&row).is_ok() {
            RowState::Filtered
        } else if self.hidden_rows.binary_search(&row).is_ok() {
            RowState::Hidden
        } else {
            RowState::Visible
        }
    }

    /// Clips a rectangle to the used part of the sheet (whole columns stay cheap).
    pub fn clip(&self, b: Bounds) -> Option<Bounds> {
        let r2 = b.r2.min(self.used_rows.saturating_sub(1));
        let c2 = b.c2.min((self.columns.len() as u32).saturating_sub(1));
        (self.used_rows > 0 && !self.columns.is_empty() && b.r1 <= r2 && b.c1 <= c2).then_some(
            Bounds {
                r1: b.r1,
                c1: b.c1,
                r2,
                c2,
            },
        )
    }
}

/// A defined name after parsing.
#[derive(Debug, Clone)]
pub struct Name {
    /// The name as written.
    pub name: String,
    /// `None` = workbook scope.
    pub scope: Option<SheetId>,
    /// What it refers to.
    pub expr: Result<Expr, ParseError>,
    /// The text it was parsed from.
    pub text: String,
}

/// The whole compiled workbook.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// Sheets in workbook order.
    pub sheets: Vec<Sheet>,
    /// Every stored cell.
    pub cells: Vec<CellData>,
    /// Every formula.
    pub formulas: Vec<Formula>,
    /// Defined names.
    pub names: Vec<Name>,
    /// `(scope, upper-case name)` → index in `names`.
    pub name_index: HashMap<(Option<SheetId>, String), usize>,
    /// Upper-case name → its scopes and indices in `names` (looked up without allocating).
    pub names_by_upper: HashMap<String, Vec<(Option<SheetId>, usize)>>,
    /// Upper-case sheet name → id.
    pub sheet_index: HashMap<String, SheetId>,
    /// The 1904 date system.
    pub date1904: bool,
    /// Loader warnings.
    pub warnings: Vec<String>,
    /// What-If data tables (their cells are constants here; see `mcsim_eval::table::recalc`).
    pub tables: Vec<DataTable>,
    /// The workbook's Excel tables (ListObjects), which structured references in text parsed
    /// at run time (INDIRECT's) are resolved against.
    pub excel_tables: Vec<mcsim_formula::Table>,
}

impl Model {
    /// The sheet with this name (case-insensitive).
    pub fn sheet_id(&self, name: &str) -> Option<SheetId> {
        // Without allocating (references name sheets in every evaluation): the sheets are few, so
        // a scan with ASCII case folding, and the upper-case index for other names.
        if name.is_ascii() {
            return self
                .sheets
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(name))
                .map(|i| i as SheetId);
        }
        self.sheet_index.get(&name.to_uppercase()).copied()
    }

    /// The cell at a position.
    pub fn find(&self, sheet: SheetId, row: u32, col: u32) -> Option<CellId> {
        self.sheets.get(sheet as usize)?.find(row, col)
    }

    /// The defined name visible from `sheet` (sheet scope first, then workbook scope).
    pub fn name(&self, sheet: Option<SheetId>, name: &str) -> Option<&Name> {
        // Short ASCII names are upper-cased on the stack (defined names are read in every
        // evaluation of the formulas that use them).
        let mut buf = [0u8; 64];
        if name.is_ascii() && name.len() <= buf.len() {
            for (b, c) in buf.iter_mut().zip(name.bytes()) {
                *b = c.to_ascii_uppercase();
            }
            if let Ok(up) = std::str::from_utf8(&buf[..name.len()]) {
                return self.name_upper(sheet, up);
            }
        }
        self.name_upper(sheet, &name.to_uppercase())
    }

    fn name_upper(&self, sheet: Option<SheetId>, up: &str) -> Option<&Name> {
        let scopes = self.names_by_upper.get(up)?;
        // The last definition wins, as in `name_index`.
        let find =
            |want: Option<SheetId>| scopes.iter().rev().find(|(s, _)| *s == want).map(|e| e.1);
        let i = sheet.and_then(|s| find(Some(s))).or_else(|| find(None))?;
        self.names.get(i)
    }

    /// Whether a row of a sheet is shown, hidden by hand or hidden by a filter (a sheet that
    /// does not exist shows every row).
    pub fn row_state(&self, sheet: SheetId, row: u32) -> RowState {
        self.sheets
            .get(sheet as usize)
            .map_or(RowState::Visible, |s| s.row_state(row))
    }

    /// Resolves the structured references, table names and 3D references of an expression
    /// parsed at run time (INDIRECT's text) as the stored formulas were when the model was built,
    /// at the position `(sheet, row, col)` of the calling cell.
    pub fn resolve_references(&self, e: &mut Expr, (sheet, row, col): (SheetId, u32, u32)) {
        let has_table_name = |e: &Expr| {
            let mut found = false;
            e.walk(&mut |x| {
                if let ExprKind::Name { sheet: None, name } = &x.kind {
                    found |= self
                        .excel_tables
                        .iter()
                        .any(|t| t.name.eq_ignore_ascii_case(name));
                }
            });
            found
        };
        if !e.has_workbook_references() && !has_table_name(e) {
            return;
        }
        let sheets: Vec<String> = self.sheets.iter().map(|s| s.name.clone()).collect();
        let resolver = mcsim_formula::Resolver {
            sheets: &sheets,
            tables: &self.excel_tables,
        };
        let at = self
            .sheets
            .get(sheet as usize)
            .map(|s| mcsim_formula::Position {
                sheet: &s.name,
                row,
                col,
            });
        e.resolve(&resolver, at);
    }

    /// `Sheet1!B3` for a cell.
    pub fn cell_label(&self, cell: CellId) -> String {
        match self.cells.get(cell as usize) {
            Some(c) => format!(
                "{}!{}",
                mcsim_formula::quote_sheet(&self.sheets[c.sheet as usize].name),
                mcsim_formula::a1(c.row, c.col)
            ),
            None => "?".into(),
        }
    }
}

/// An error when a reference names a sheet that does not exist.
pub const MISSING_SHEET: ErrorKind = ErrorKind::Ref;

/// A What-If data table of the model (its evaluation is [`crate::table`]'s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTable {
    /// The sheet.
    pub sheet: SheetId,
    /// The result cells (without the header row and column).
    pub bounds: Bounds,
    /// A two-variable table.
    pub two_d: bool,
    /// A one-variable table whose input values run along the row above the results.
    pub row_input: bool,
    /// The first input cell (`r1`): the row input of a two-variable or row table, the column
    /// input of a column table. Always a cell of the model (an empty one is added if needed).
    pub r1: Option<CellId>,
    /// The second input cell (`r2`): the column input of a two-variable table.
    pub r2: Option<CellId>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Calls;

    fn calls(f: &str) -> Calls {
        Calls::of(&mcsim_formula::parse(f).unwrap())
    }

    /// Each kind is found wherever the call sits in the tree (inside arguments, parentheses,
    /// arrays), and a formula without such calls has none: the passes that skip formulas by
    /// these flags would otherwise miss a distribution, a RAND or an add-in's function.
    #[test]
    fn the_kinds_of_call_are_found_anywhere_in_the_tree() {
        assert_eq!(calls("=A1*2+SUM(B1:B3)/(1+SQRT(C1))"), Calls::default());
        assert_eq!(calls("=1+2"), Calls::default());
        let dist = calls("=IF(A1>0,(1+RiskNormal(0,1)),0)");
        assert!(dist.any(Calls::VENDOR));
        assert!(!dist.any(Calls::RANDOM.with(Calls::VOLATILE)));
        assert!(calls("=_xll.RiskTriang(1,2,3)").any(Calls::VENDOR));
        assert!(calls("=PsiNormal(0,1)").any(Calls::VENDOR));
        assert!(calls("=VoseNormal(0,1)*2").any(Calls::VENDOR));
        let rand = calls("=SUM({1,2}, ROUND(RAND()*10, 0))");
        assert!(rand.any(Calls::RANDOM) && rand.any(Calls::VOLATILE));
        assert!(calls("=-RANDBETWEEN(1,6)").any(Calls::RANDOM));
        let now = calls("=MAX(NOW(), 1)");
        assert!(now.any(Calls::VOLATILE) && !now.any(Calls::RANDOM));
        let unknown = calls("=1+MYFUNCTION(A1)");
        assert!(unknown.any(Calls::UNSUPPORTED) && !unknown.any(Calls::VENDOR));
        assert_eq!(calls("=LET(x, A1, x*2)"), Calls::default());
        assert!(!calls("=SUM(A1:A3)").any(Calls::UNSUPPORTED));
    }
}
