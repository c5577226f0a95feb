//! Structured references to Excel tables (`Table1[Qty]`, `[@Qty]`, `Table1[[#Totals],[A]:[C]]`),
//! 3D references (`Sheet1:Sheet3!A1`), and their resolution to ordinary references.
//!
//! The parser keeps a structured reference as written ([`StructuredRef`]) and a 3D reference as a
//! [`Reference`] whose sheet is the two end sheets joined by `:` (sheet names cannot contain `:`;
//! see [`Reference::sheet_span`]). Neither means anything without the workbook, so
//! [`Expr::resolve`] rewrites them against a [`Resolver`] (the workbook's sheet order and
//! tables): a structured reference becomes the range of the table it covers, a 3D reference the
//! union of the same range on every sheet of the span, and a bare table name the table's data.
//! After that, nothing downstream (dependency graph, interpreter, simulation compiler) needs to
//! know that tables exist. A reference that cannot be resolved becomes an error value (`#REF!`,
//! or `#VALUE!` for a `[#This Row]` outside the table's data rows), as in Excel.

use crate::ast::{BinaryOp, ErrorKind, Expr, ExprKind, Span};
use crate::reference::{Bounds, CellRef, RefKind, Reference};
use std::fmt;

/// Which rows of a table a structured reference covers (its `#` items).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableRows {
    /// `[#Data]`, or no item at all: the data rows.
    Data,
    /// `[#All]`: header, data and totals rows.
    All,
    /// `[#Headers]`: the header row.
    Headers,
    /// `[#Totals]`: the totals row.
    Totals,
    /// `[#This Row]` or `@`: the data row of the formula's cell.
    ThisRow,
    /// `[#Headers],[#Data]`.
    HeadersData,
    /// `[#Data],[#Totals]`.
    DataTotals,
}

/// A structured reference as written: `Table1[[#Data],[Jan]:[Mar]]` has table `Table1`, rows
/// [`TableRows::Data`] and columns `Jan` to `Mar`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructuredRef {
    /// The table name; `None` for `[@Qty]` / `[Qty]` written inside a table (the table that holds
    /// the formula's cell).
    pub table: Option<String>,
    /// Which rows.
    pub rows: TableRows,
    /// First and last column (the same for one column), with escapes removed; `None` for every
    /// column.
    pub columns: Option<(String, String)>,
}

/// An Excel table as the resolver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The name formulas use (the table part's `displayName`).
    pub name: String,
    /// The sheet that holds it.
    pub sheet: String,
    /// Its whole extent, header and totals rows included (the table part's `ref`).
    pub bounds: Bounds,
    /// Whether the first row is a header row (`headerRowCount`, 1 unless stated).
    pub header_row: bool,
    /// Whether the last row is a totals row (`totalsRowCount`).
    pub totals_row: bool,
    /// Column names, left to right.
    pub columns: Vec<String>,
}

impl Table {
    /// First and last data row.
    fn data_rows(&self) -> Option<(u32, u32)> {
        let r1 = self.bounds.r1 + u32::from(self.header_row);
        let r2 = self
            .bounds
            .r2
            .checked_sub(u32::from(self.totals_row))
            .filter(|&r2| r2 >= r1)?;
        Some((r1, r2))
    }

    fn column(&self, name: &str) -> Option<u32> {
        let want = name.to_lowercase();
        self.columns
            .iter()
            .position(|c| c == name || c.to_lowercase() == want)
            .map(|i| i as u32)
    }

    /// The ordinary reference `r` stands for, on this table's sheet. `row` is the formula's row
    /// (for `[#This Row]`; `None` where there is no row, in a defined name).
    ///
    /// # Errors
    ///
    /// `#REF!` for a column the table lacks, `[#Headers]` of a table without a header row and
    /// `[#Totals]` of one without a totals row; `#VALUE!` for `[#This Row]` outside the data rows.
    pub fn resolve(&self, r: &StructuredRef, row: Option<u32>) -> Result<Reference, ErrorKind> {
        let b = self.bounds;
        let data = self.data_rows();
        let (r1, r2) = match r.rows {
            TableRows::All => (b.r1, b.r2),
            TableRows::Data => data.ok_or(ErrorKind::Ref)?,
            TableRows::Headers if self.header_row => (b.r1, b.r1),
            TableRows::Totals if self.totals_row => (b.r2, b.r2),
            TableRows::Headers | TableRows::Totals => return Err(ErrorKind::Ref),
            TableRows::HeadersData => (b.r1, data.ok_or(ErrorKind::Ref)?.1),
            TableRows::DataTotals => (data.ok_or(ErrorKind::Ref)?.0, b.r2),
            TableRows::ThisRow => {
                let (d1, d2) = data.ok_or(ErrorKind::Value)?;
                match row {
                    Some(row) if (d1..=d2).contains(&row) => (row, row),
                    _ => return Err(ErrorKind::Value),
                }
            }
        };
        let (c1, c2) = match &r.columns {
            None => (b.c1, b.c2),
            Some((first, last)) => {
                let i = self.column(first).ok_or(ErrorKind::Ref)?;
                let j = self.column(last).ok_or(ErrorKind::Ref)?;
                (b.c1 + i.min(j), b.c1 + i.max(j))
            }
        };
        // A table reference does not move when the formula is copied, except the row of
        // `[#This Row]`, which follows the formula's row.
        let row_abs = r.rows != TableRows::ThisRow;
        let end = |row, col| CellRef {
            row,
            col,
            row_abs,
            col_abs: true,
        };
        let kind = if r1 == r2 && c1 == c2 {
            RefKind::Cell(end(r1, c1))
        } else {
            RefKind::Range(end(r1, c1), end(r2, c2))
        };
        Ok(Reference {
            sheet: Some(self.sheet.clone()),
            kind,
        })
    }
}

/// What references are resolved against: the workbook's sheets in their stored order and its
/// tables.
#[derive(Debug, Clone, Copy)]
pub struct Resolver<'a> {
    /// Sheet names in workbook order (the order a 3D reference spans).
    pub sheets: &'a [String],
    /// The workbook's tables.
    pub tables: &'a [Table],
}

/// Where a formula stands: its sheet, row and column (zero-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position<'a> {
    /// The formula's sheet.
    pub sheet: &'a str,
    /// Zero-based row.
    pub row: u32,
    /// Zero-based column.
    pub col: u32,
}

impl Resolver<'_> {
    /// The table with this name (case-insensitive).
    pub fn table(&self, name: &str) -> Option<&Table> {
        let want = name.to_lowercase();
        self.tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name) || t.name.to_lowercase() == want)
    }

    fn table_at(&self, at: Position<'_>) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.sheet.eq_ignore_ascii_case(at.sheet) && t.bounds.contains(at.row, at.col))
    }

    fn sheet_index(&self, name: &str) -> Option<usize> {
        let want = name.to_lowercase();
        self.sheets
            .iter()
            .position(|s| s.eq_ignore_ascii_case(name) || s.to_lowercase() == want)
    }

    fn structured(&self, r: &StructuredRef, at: Option<Position<'_>>) -> ExprKind {
        let table = match &r.table {
            Some(name) => self.table(name),
            None => at.and_then(|at| self.table_at(at)),
        };
        match table.map(|t| t.resolve(r, at.map(|a| a.row))) {
            Some(Ok(reference)) => ExprKind::Ref(reference),
            Some(Err(e)) => ExprKind::Error(e),
            None => ExprKind::Error(ErrorKind::Ref),
        }
    }

    /// `Sheet1:Sheet3!A1` → `(Sheet1!A1,Sheet2!A1,Sheet3!A1)`.
    fn three_d(&self, r: &Reference, first: &str, last: &str, span: Span) -> ExprKind {
        let (Some(i), Some(j)) = (self.sheet_index(first), self.sheet_index(last)) else {
            return ExprKind::Error(ErrorKind::Ref);
        };
        let mut refs = self.sheets[i.min(j)..=i.max(j)].iter().map(|s| {
            Expr::new(
                ExprKind::Ref(Reference {
                    sheet: Some(s.clone()),
                    kind: r.kind,
                }),
                span,
            )
        });
        let Some(mut acc) = refs.next() else {
            return ExprKind::Error(ErrorKind::Ref);
        };
        let mut n = 1;
        for next in refs {
            n += 1;
            acc = Expr::new(
                ExprKind::Binary {
                    op: BinaryOp::Union,
                    lhs: Box::new(acc),
                    rhs: Box::new(next),
                },
                span,
            );
        }
        if n == 1 {
            acc.kind
        } else {
            ExprKind::Paren(Box::new(acc))
        }
    }
}

impl Expr {
    /// Whether the expression holds a structured reference (whose meaning can depend on the
    /// formula's position) or a 3D reference.
    pub fn has_workbook_references(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| match &e.kind {
            ExprKind::Structured(_) => found = true,
            ExprKind::Ref(r) if r.sheet_span().is_some() => found = true,
            _ => {}
        });
        found
    }

    /// Whether the expression holds a structured reference.
    pub fn has_structured_references(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e.kind, ExprKind::Structured(_)) {
                found = true;
            }
        });
        found
    }

    /// Rewrites structured references, 3D references and bare table names into ordinary
    /// references (see the module documentation). `at` is the formula's cell; `None` for a
    /// defined name, where `[#This Row]` is `#VALUE!` and an unqualified `[Qty]` is `#REF!`.
    pub fn resolve(&mut self, resolver: &Resolver<'_>, at: Option<Position<'_>>) {
        self.walk_mut(&mut |e| {
            let new = match &e.kind {
                ExprKind::Structured(s) => resolver.structured(s, at),
                ExprKind::Ref(r) => match r.sheet_span() {
                    Some((first, last)) => resolver.three_d(r, first, last, e.span),
                    None => return,
                },
                ExprKind::Name { sheet: None, name } if !resolver.tables.is_empty() => {
                    match resolver.table(name) {
                        Some(t) => resolver.structured(
                            &StructuredRef {
                                table: Some(t.name.clone()),
                                rows: TableRows::Data,
                                columns: None,
                            },
                            at,
                        ),
                        None => return,
                    }
                }
                ExprKind::Call { name, args }
                    if SPREAD_UNIONS.contains(&name.as_str()) && args.iter().any(is_ref_union) =>
                {
                    let mut spread = Vec::with_capacity(args.len() + 2);
                    for a in args {
                        if is_ref_union(a) {
                            union_parts(a, &mut spread);
                        } else {
                            spread.push(a.clone());
                        }
                    }
                    ExprKind::Call {
                        name: name.clone(),
                        args: spread,
                    }
                }
                _ => return,
            };
            e.kind = new;
        });
    }
}

/// Functions for which a union argument `(A,B)` is the same as the arguments `A, B`: a 3D
/// reference given to them is spread into one argument per sheet, which the simulation compiler
/// handles (it does not handle the union operator).
const SPREAD_UNIONS: &[&str] = &[
    "SUM", "AVERAGE", "AVERAGEA", "COUNT", "COUNTA", "MAX", "MAXA", "MIN", "MINA", "PRODUCT",
    "STDEV", "STDEVA", "STDEVP", "STDEVPA", "STDEV.S", "STDEV.P", "VAR", "VARA", "VARP", "VARPA",
    "VAR.S", "VAR.P",
];

/// `(r1,r2,...)`: a parenthesised union of plain references.
fn is_ref_union(e: &Expr) -> bool {
    fn refs_only(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ref(_) => true,
            ExprKind::Binary {
                op: BinaryOp::Union,
                lhs,
                rhs,
            } => refs_only(lhs) && refs_only(rhs),
            _ => false,
        }
    }
    matches!(&e.kind, ExprKind::Paren(inner)
        if matches!(inner.kind, ExprKind::Binary { op: BinaryOp::Union, .. }) && refs_only(inner))
}

/// The references of a union, left to right.
fn union_parts(e: &Expr, out: &mut Vec<Expr>) {
    match &e.kind {
        ExprKind::Paren(inner) => union_parts(inner, out),
        ExprKind::Binary {
            op: BinaryOp::Union,
            lhs,
            rhs,
        } => {
            union_parts(lhs, out);
            union_parts(rhs, out);
        }
        _ => out.push(e.clone()),
    }
}

impl Reference {
    /// For a 3D reference (`Sheet1:Sheet3!A1`, stored with the sheet `Sheet1:Sheet3`), its first
    /// and last sheet as written.
    pub fn sheet_span(&self) -> Option<(&str, &str)> {
        let sheet = self.sheet.as_deref()?;
        // A sheet of another workbook named by its path (`C:\Data\[Book.xlsx]Sheet1`): its
        // `:` is the drive's.
        if sheet.contains('[') {
            return None;
        }
        sheet.split_once(':')
    }
}

/// Removes the `'` escapes of a column name (`'[`, `']`, `'#`, `''`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a column name with the escapes a formula needs.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '[' | ']' | '#' | '\'') {
            out.push('\'');
        }
        out.push(c);
    }
    out
}

/// The `#` item names, lower case.
fn special(item: &str) -> Option<TableRows> {
    let lower: String = item
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Some(match lower.as_str() {
        "#all" => TableRows::All,
        "#data" => TableRows::Data,
        "#headers" => TableRows::Headers,
        "#totals" => TableRows::Totals,
        "#this row" => TableRows::ThisRow,
        _ => return None,
    })
}

/// Splits `[a],[b]:[c], [#Data]` into bracketed items (the text inside each pair, escapes kept)
/// and the separators between them (`,` or `:`).
fn bracket_items(s: &str) -> Result<Vec<(char, &str)>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut sep = ',';
    loop {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'[') {
            return Err("expected `[` in the structured reference".into());
        }
        let start = i + 1;
        let mut j = start;
        loop {
            match bytes.get(j) {
                None => return Err("missing `]` in the structured reference".into()),
                Some(b'\'') => j += 2,
                Some(b'[') => return Err("unexpected `[` in a column name".into()),
                Some(b']') => break,
                Some(_) => j += 1,
            }
        }
        let item = s.get(start..j).ok_or("malformed structured reference")?;
        out.push((sep, item));
        i = j + 1;
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        match bytes.get(i) {
            None => return Ok(out),
            Some(b',') => sep = ',',
            Some(b':') => sep = ':',
            Some(_) => return Err("expected `,` or `:` between the parts of the reference".into()),
        }
        i += 1;
    }
}

/// Reads a list of bracketed items: `#` items, then at most one column or column range.
fn parse_items(s: &str, this_row: bool) -> Result<(TableRows, Option<(String, String)>), String> {
    let mut specials: Vec<TableRows> = Vec::new();
    if this_row {
        specials.push(TableRows::ThisRow);
    }
    let mut columns: Option<(String, String)> = None;
    let mut ranged = false;
    for (sep, item) in bracket_items(s)? {
        if item.starts_with('#') {
            let sp = special(item).ok_or_else(|| format!("unknown table item `[{item}]`"))?;
            if columns.is_some() || sep == ':' || this_row {
                return Err(format!("`[{item}]` must come before the columns"));
            }
            specials.push(sp);
            continue;
        }
        let name = unescape(item);
        match (&mut columns, sep) {
            (None, ',') => columns = Some((name.clone(), name)),
            (Some((_, last)), ':') if !ranged => {
                *last = name;
                ranged = true;
            }
            _ => return Err("a structured reference names one column or one column range".into()),
        }
    }
    specials.sort_by_key(|s| *s as u8);
    specials.dedup();
    let rows = match specials.as_slice() {
        [] => TableRows::Data,
        [one] => *one,
        [TableRows::Data, TableRows::Headers] => TableRows::HeadersData,
        [TableRows::Data, TableRows::Totals] => TableRows::DataTotals,
        _ => return Err("this combination of table items is not allowed".into()),
    };
    Ok((rows, columns))
}

impl StructuredRef {
    /// Parses the text between the outer brackets of a structured reference: `Qty`, `@Qty`,
    /// `@[Unit Cost]`, `#Totals`, `[#This Row],[Jan]:[Mar]`, ... (escapes `'[`, `']`, `'#`, `''`
    /// in column names).
    ///
    /// # Errors
    ///
    /// A message saying what is malformed.
    pub fn parse_body(table: Option<String>, body: &str) -> Result<StructuredRef, String> {
        let t = body.trim();
        let (rows, columns) = if t.is_empty() {
            (TableRows::Data, None)
        } else if let Some(rest) = t.strip_prefix('@') {
            let rest = rest.trim();
            if rest.is_empty() {
                (TableRows::ThisRow, None)
            } else if rest.starts_with('[') {
                parse_items(rest, true)?
            } else {
                let name = unescape(rest);
                (TableRows::ThisRow, Some((name.clone(), name)))
            }
        } else if t.starts_with('#') {
            let rows = special(t).ok_or_else(|| format!("unknown table item `{t}`"))?;
            (rows, None)
        } else if t.starts_with('[') {
            parse_items(t, false)?
        } else {
            let name = unescape(body);
            (TableRows::Data, Some((name.clone(), name)))
        };
        Ok(StructuredRef {
            table,
            rows,
            columns,
        })
    }
}

impl fmt::Display for StructuredRef {
    /// Writes the reference in the form Excel stores: `Table1[Qty]`,
    /// `Table1[[#This Row],[Unit Cost]]`, `Table1[[#Data],[Jan]:[Mar]]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = &self.table {
            f.write_str(t)?;
        }
        let item = match self.rows {
            TableRows::Data => None,
            TableRows::All => Some("[#All]"),
            TableRows::Headers => Some("[#Headers]"),
            TableRows::Totals => Some("[#Totals]"),
            TableRows::ThisRow => Some("[#This Row]"),
            TableRows::HeadersData => Some("[#Headers],[#Data]"),
            TableRows::DataTotals => Some("[#Data],[#Totals]"),
        };
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == ' ')
                && !s.starts_with(' ')
                && !s.ends_with(' ')
        };
        match (item, &self.columns) {
            (None, None) => f.write_str("[]"),
            (Some(item), None) => {
                // A single item is written without its own brackets.
                if item.matches('[').count() == 1 {
                    f.write_str(item)
                } else {
                    write!(f, "[{item}]")
                }
            }
            (None, Some((a, b))) if a == b && plain(a) => write!(f, "[{a}]"),
            (item, Some((a, b))) => {
                f.write_str("[")?;
                if let Some(item) = item {
                    write!(f, "{item},")?;
                }
                write!(f, "[{}]", escape(a))?;
                if a != b {
                    write!(f, ":[{}]", escape(b))?;
                }
                f.write_str("]")
            }
        }
    }
}
