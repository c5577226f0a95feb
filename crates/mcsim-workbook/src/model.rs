//! The in-memory workbook model produced by the loader.

/// A loaded workbook: sheets in workbook order, defined names, and the date system.
#[derive(Debug, Clone, Default)]
pub struct Workbook {
    /// Sheets in the order the workbook lists them (worksheets only).
    pub sheets: Vec<Sheet>,
    /// Defined names, workbook- and sheet-scoped.
    pub names: Vec<DefinedName>,
    /// `true` when the workbook uses the 1904 date system (`<workbookPr date1904="1">`).
    pub date1904: bool,
    /// Non-fatal problems met while loading (unreadable sheet parts and the like).
    pub warnings: Vec<String>,
    /// What-If data tables (`{=TABLE(row_input, col_input)}`), in sheet order. Their cells are
    /// loaded as constants with the cached values; the engine recalculates them.
    pub data_tables: Vec<DataTable>,
    /// Excel tables (ListObjects), in sheet order, which structured references such as
    /// `Table1[Qty]` name.
    pub tables: Vec<Table>,
    /// The hidden rows of each worksheet that has some, in sheet order (SUBTOTAL and AGGREGATE
    /// skip them).
    pub hidden_rows: Vec<HiddenRows>,
    /// Other workbooks that formulas refer to (`[1]Sheet1!A1` names the first), with the values
    /// Excel cached from them.
    pub external_books: Vec<ExternalBook>,
    /// Data validation rules (`<dataValidations>` and their x14 form), in sheet order.
    pub data_validations: Vec<DataValidation>,
    /// Conditional formats (`<conditionalFormatting>` and their x14 form), in sheet order.
    pub conditional_formats: Vec<ConditionalFormat>,
}

/// A zero-based inclusive range `(first_row, first_col, last_row, last_col)`.
pub type Range = (u32, u32, u32, u32);

/// A data validation rule (`<dataValidation>`, or `<x14:dataValidation>` in the sheet's
/// `<extLst>`). Its formulas are stored relative to the top-left cell of its first range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataValidation {
    /// Index in [`Workbook::sheets`].
    pub sheet: usize,
    /// `type`: `none` (the default), `whole`, `decimal`, `list`, `date`, `time`, `textLength`
    /// or `custom`.
    pub kind: String,
    /// `operator`: `between` (the default), `notBetween`, `equal`, `notEqual`, `greaterThan`,
    /// `lessThan`, `greaterThanOrEqual`, `lessThanOrEqual`.
    pub operator: String,
    /// The cells it applies to (`sqref`).
    pub ranges: Vec<Range>,
    /// `<formula1>` without a leading `=` (a list's source, or the first bound).
    pub formula1: Option<String>,
    /// `<formula2>` (the second bound of `between` and `notBetween`).
    pub formula2: Option<String>,
    /// `allowBlank`: blank cells pass.
    pub allow_blank: bool,
    /// `showErrorMessage`: Excel refuses a value that breaks the rule.
    pub show_error_message: bool,
}

/// A conditional format (`<conditionalFormatting>`): the ranges it applies to and its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalFormat {
    /// Index in [`Workbook::sheets`].
    pub sheet: usize,
    /// The cells it applies to (`sqref`).
    pub ranges: Vec<Range>,
    /// Its rules, as stored.
    pub rules: Vec<CfRule>,
}

/// One rule of a [`ConditionalFormat`] (`<cfRule>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfRule {
    /// `type` (`expression`, `cellIs`, `colorScale`, ...).
    pub kind: String,
    /// `operator` of a `cellIs` rule.
    pub operator: Option<String>,
    /// `priority`.
    pub priority: Option<u32>,
    /// Its `<formula>`s (`<xm:f>` in the x14 form), without a leading `=`, relative to the
    /// top-left cell of the format's first range.
    pub formulas: Vec<String>,
}

/// Another workbook that formulas refer to (`xl/externalLinks/externalLinkN.xml`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalBook {
    /// Its sheets, as the link lists them.
    pub sheets: Vec<ExternalSheet>,
    /// Its defined names (`<definedNames>` of the link), which `[1]!Name` reads.
    pub names: Vec<ExternalName>,
    /// Where the link points (the target of its relationship, a path or URL), when known.
    pub target: Option<String>,
}

/// A defined name of an [`ExternalBook`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalName {
    /// The name.
    pub name: String,
    /// What it refers to in the other workbook, without a leading `=` (`Sheet1!$A$1`).
    pub refers_to: String,
    /// `sheetId`: the index in [`ExternalBook::sheets`] of the sheet it is local to.
    pub sheet: Option<usize>,
}

/// A sheet of an [`ExternalBook`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalSheet {
    /// The sheet's name.
    pub name: String,
    /// The cached cells `(row, col, value)` (zero-based, row-major); `None` when the link holds
    /// no cache for the sheet or its last refresh failed.
    pub cells: Option<Vec<(u32, u32, CellValue)>>,
}

/// The hidden rows of one worksheet (`<row hidden="1">`), split as Excel's SUBTOTAL tells them
/// apart: a hidden row among the data rows of an active filter (the sheet's `<autoFilter>` or a
/// table's, with at least one filtering column) is hidden by the filter, any other by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HiddenRows {
    /// Index in [`Workbook::sheets`].
    pub sheet: usize,
    /// Zero-based rows hidden by hand, ascending.
    pub hidden: Vec<u32>,
    /// Zero-based rows hidden by a filter, ascending.
    pub filtered: Vec<u32>,
}

/// An Excel table (a ListObject, `xl/tables/tableN.xml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Index in [`Workbook::sheets`] of the sheet that holds it.
    pub sheet: usize,
    /// The `name` attribute.
    pub name: String,
    /// The `displayName`: the name formulas use (`Table1[Qty]`).
    pub display_name: String,
    /// Zero-based inclusive extent `(first_row, first_col, last_row, last_col)`, header and
    /// totals rows included.
    pub range: (u32, u32, u32, u32),
    /// `headerRowCount`: 1 (the default) when the first row holds the column names, else 0.
    pub header_row_count: u32,
    /// `totalsRowCount`: 1 when the last row is a totals row, else 0 (the default).
    pub totals_row_count: u32,
    /// Column names, left to right (`_xHHHH_` escapes decoded).
    pub columns: Vec<String>,
    /// `true` when the table's `<autoFilter>` filters on a column: its hidden data rows are
    /// hidden by the filter.
    pub filtered: bool,
}

/// A What-If data table, as stored on its top-left result cell
/// (`<f t="dataTable" ref="B2:C20" dt2D="0" dtr="0" r1="A1" r2=".."/>`).
///
/// `range` holds the result cells only. For a one-variable table whose input values run down a
/// column (`row_input == false`), the input values are in the column left of `range` and the
/// result formulas in the row above it; for one whose input values run along a row
/// (`row_input == true`), the input values are in the row above and the formulas in the column
/// left. A two-variable table has its one formula at the corner (row above, column left), the row
/// input cell `r1` takes the values of the row above and the column input cell `r2` those of the
/// column left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTable {
    /// Index in [`Workbook::sheets`].
    pub sheet: usize,
    /// Zero-based inclusive result range `(first_row, first_col, last_row, last_col)`.
    pub range: (u32, u32, u32, u32),
    /// `dt2D="1"`: a two-variable table.
    pub two_d: bool,
    /// `dtr="1"`: a one-variable table whose input values run along a row.
    pub row_input: bool,
    /// The first input cell (`r1`), zero-based `(row, col)` on the same sheet.
    pub r1: Option<(u32, u32)>,
    /// The second input cell (`r2`, two-variable tables).
    pub r2: Option<(u32, u32)>,
}

/// One worksheet.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// The sheet's name as Excel shows it.
    pub name: String,
    /// Every non-empty cell (a value, a formula or both), in row-major order.
    pub cells: Vec<Cell>,
}

/// One cell. Positions are zero-based (`A1` is row 0, column 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Zero-based row.
    pub row: u32,
    /// Zero-based column.
    pub col: u32,
    /// For a constant cell, its value; for a formula cell, the value Excel stored
    /// (`CellValue::Empty` when the file stored none).
    pub value: CellValue,
    /// The formula, if the cell has one.
    pub formula: Option<Formula>,
}

/// A formula as stored in the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Formula {
    /// Formula text without the leading `=`, exactly as stored (e.g. `SUM(A1:A3)`, `_xlfn.XLOOKUP(..)`).
    /// This is also the form of the anchor cell of a shared formula.
    Text(String),
    /// A cell that shares the formula of the anchor cell at (`anchor_row`, `anchor_col`) on the same
    /// sheet: its formula is the anchor's text with relative references shifted by this cell's offset
    /// from the anchor. The engine parses the anchor once and shifts the AST.
    Shared {
        /// Zero-based row of the anchor cell.
        anchor_row: u32,
        /// Zero-based column of the anchor cell.
        anchor_col: u32,
    },
    /// An array (CSE) formula entered over a range. Stored on the anchor (top-left) cell only;
    /// the other cells of the range carry just their cached values.
    Array {
        /// Formula text without the leading `=`.
        text: String,
        /// Zero-based inclusive range `(first_row, first_col, last_row, last_col)` it spills over.
        range: (u32, u32, u32, u32),
    },
}

/// A cell value: a constant, or the cached result of a formula.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CellValue {
    /// No value.
    #[default]
    Empty,
    /// A number (dates and times are serial numbers in the workbook's date system).
    Number(f64),
    /// Text (an empty string is a value, distinct from `Empty`).
    Text(String),
    /// A boolean.
    Bool(bool),
    /// An error value, as Excel spells it: `#DIV/0!`, `#N/A`, `#VALUE!`, ...
    Error(String),
}

/// A defined name (`<definedName>`).
#[derive(Debug, Clone, PartialEq)]
pub struct DefinedName {
    /// The name as written (`Rate`, `_xlnm.Print_Area`, ...).
    pub name: String,
    /// `None` for workbook scope; `Some(i)` when local to sheet index `i` (`localSheetId`).
    pub scope: Option<usize>,
    /// What it refers to, without a leading `=` (e.g. `Inputs!$B$9`, `0.07`, `Sheet1!$A$1:$A$10`).
    pub formula: String,
    /// Hidden names are loaded too; this flag only records the attribute.
    pub hidden: bool,
}
