//! A1-style cell references.

use std::fmt;

/// Number of rows in a worksheet.
pub const MAX_ROWS: u32 = 1_048_576;
/// Number of columns in a worksheet.
pub const MAX_COLS: u32 = 16_384;

/// One end of a reference: a row and/or a column, each relative or absolute (`$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellRef {
    /// Zero-based row.
    pub row: u32,
    /// Zero-based column.
    pub col: u32,
    /// `$` before the row.
    pub row_abs: bool,
    /// `$` before the column.
    pub col_abs: bool,
}

impl CellRef {
    /// A relative reference to (`row`, `col`).
    pub fn new(row: u32, col: u32) -> Self {
        CellRef {
            row,
            col,
            row_abs: false,
            col_abs: false,
        }
    }
}

/// The shape of a reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// `A1`
    Cell(CellRef),
    /// `A1:B2` (stored as written; use [`Reference::bounds`] for the normalised box).
    Range(CellRef, CellRef),
    /// `A:C`: whole columns; only `col`/`col_abs` of each end are meaningful.
    Cols(CellRef, CellRef),
    /// `3:5`: whole rows; only `row`/`row_abs` of each end are meaningful.
    Rows(CellRef, CellRef),
}

/// A reference, optionally qualified by a sheet name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `Some("My Sheet")` for `'My Sheet'!A1`; `None` for the formula's own sheet.
    pub sheet: Option<String>,
    /// The cells it covers.
    pub kind: RefKind,
}

/// A normalised rectangle: inclusive, zero-based, `r1 <= r2`, `c1 <= c2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// First row.
    pub r1: u32,
    /// First column.
    pub c1: u32,
    /// Last row.
    pub r2: u32,
    /// Last column.
    pub c2: u32,
}

impl Bounds {
    /// Number of rows.
    pub fn rows(&self) -> u32 {
        self.r2 - self.r1 + 1
    }
    /// Number of columns.
    pub fn cols(&self) -> u32 {
        self.c2 - self.c1 + 1
    }
    /// `true` if (`row`, `col`) lies inside.
    pub fn contains(&self, row: u32, col: u32) -> bool {
        row >= self.r1 && row <= self.r2 && col >= self.c1 && col <= self.c2
    }
}

/// A reference shifted off the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffSheet;

fn shift(v: u32, d: i64, max: u32) -> Result<u32, OffSheet> {
    let n = v as i64 + d;
    if n < 0 || n >= max as i64 {
        Err(OffSheet)
    } else {
        Ok(n as u32)
    }
}

impl CellRef {
    fn shifted(mut self, drow: i64, dcol: i64, rows: bool, cols: bool) -> Result<Self, OffSheet> {
        if rows && !self.row_abs {
            self.row = shift(self.row, drow, MAX_ROWS)?;
        }
        if cols && !self.col_abs {
            self.col = shift(self.col, dcol, MAX_COLS)?;
        }
        Ok(self)
    }
}

impl Reference {
    /// The rectangle the reference covers.
    pub fn bounds(&self) -> Bounds {
        let (a, b) = match self.kind {
            RefKind::Cell(a) => (a, a),
            RefKind::Range(a, b) => (a, b),
            RefKind::Cols(a, b) => {
                return Bounds {
                    r1: 0,
                    r2: MAX_ROWS - 1,
                    c1: a.col.min(b.col),
                    c2: a.col.max(b.col),
                };
            }
            RefKind::Rows(a, b) => {
                return Bounds {
                    r1: a.row.min(b.row),
                    r2: a.row.max(b.row),
                    c1: 0,
                    c2: MAX_COLS - 1,
                };
            }
        };
        Bounds {
            r1: a.row.min(b.row),
            r2: a.row.max(b.row),
            c1: a.col.min(b.col),
            c2: a.col.max(b.col),
        }
    }

    /// Shifts relative parts by (`drow`, `dcol`).
    pub fn shift_relative(&mut self, drow: i64, dcol: i64) -> Result<(), OffSheet> {
        self.kind = match self.kind {
            RefKind::Cell(a) => RefKind::Cell(a.shifted(drow, dcol, true, true)?),
            RefKind::Range(a, b) => RefKind::Range(
                a.shifted(drow, dcol, true, true)?,
                b.shifted(drow, dcol, true, true)?,
            ),
            RefKind::Cols(a, b) => RefKind::Cols(
                a.shifted(drow, dcol, false, true)?,
                b.shifted(drow, dcol, false, true)?,
            ),
            RefKind::Rows(a, b) => RefKind::Rows(
                a.shifted(drow, dcol, true, false)?,
                b.shifted(drow, dcol, true, false)?,
            ),
        };
        Ok(())
    }
}

/// `0 -> "A"`, `25 -> "Z"`, `26 -> "AA"`.
pub fn col_name(col: u32) -> String {
    let mut n = col + 1;
    let mut s = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        s.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// `"A"` → `Some(0)`, `"xfd"` → `Some(16383)`; `None` if not a valid column.
pub fn parse_col(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 3 {
        return None;
    }
    let mut n: u32 = 0;
    for b in s.bytes() {
        if !b.is_ascii_alphabetic() {
            return None;
        }
        n = n * 26 + (b.to_ascii_uppercase() - b'A' + 1) as u32;
    }
    (1..=MAX_COLS).contains(&n).then(|| n - 1)
}

/// `"B3"` → `(2, 1)` (zero-based row, column); `$` signs are accepted and ignored.
pub fn parse_a1(s: &str) -> Option<(u32, u32)> {
    let s = s.replace('$', "");
    let split = s.find(|c: char| c.is_ascii_digit())?;
    let col = parse_col(&s[..split])?;
    let row: u32 = s[split..].parse().ok()?;
    (1..=MAX_ROWS).contains(&row).then(|| (row - 1, col))
}

/// `(2, 1)` → `"B3"`.
pub fn a1(row: u32, col: u32) -> String {
    format!("{}{}", col_name(col), row + 1)
}

/// Writes a sheet name as it must appear in a formula: quoted with `'` (and `''` inside) when needed.
pub fn quote_sheet(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !name.chars().next().is_some_and(|c| c.is_ascii_digit())
        && parse_a1(name).is_none();
    if plain {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = |abs: bool| if abs { "$" } else { "" };
        write!(
            f,
            "{}{}{}{}",
            d(self.col_abs),
            col_name(self.col),
            d(self.row_abs),
            self.row + 1
        )
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.sheet {
            write!(f, "{}!", quote_sheet(s))?;
        }
        let d = |abs: bool| if abs { "$" } else { "" };
        match self.kind {
            RefKind::Cell(a) => write!(f, "{a}"),
            RefKind::Range(a, b) => write!(f, "{a}:{b}"),
            RefKind::Cols(a, b) => write!(
                f,
                "{}{}:{}{}",
                d(a.col_abs),
                col_name(a.col),
                d(b.col_abs),
                col_name(b.col)
            ),
            RefKind::Rows(a, b) => write!(
                f,
                "{}{}:{}{}",
                d(a.row_abs),
                a.row + 1,
                d(b.row_abs),
                b.row + 1
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_round_trip() {
        for (c, s) in [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (701, "ZZ"),
            (702, "AAA"),
            (16383, "XFD"),
        ] {
            assert_eq!(col_name(c), s);
            assert_eq!(parse_col(s), Some(c));
        }
        assert_eq!(parse_col("XFE"), None);
        assert_eq!(parse_a1("$B$3"), Some((2, 1)));
        assert_eq!(parse_a1("A0"), None);
    }

    #[test]
    fn shifting_respects_dollars_and_sheet_edges() {
        let mut r = Reference {
            sheet: None,
            kind: RefKind::Range(
                CellRef {
                    row: 0,
                    col: 0,
                    row_abs: true,
                    col_abs: false,
                },
                CellRef::new(4, 2),
            ),
        };
        r.shift_relative(2, 1).unwrap();
        assert_eq!(r.to_string(), "B$1:D7");
        assert!(r.shift_relative(-10, 0).is_err());
        assert_eq!(quote_sheet("My Sheet"), "'My Sheet'");
        assert_eq!(quote_sheet("Sheet1"), "Sheet1");
        assert_eq!(quote_sheet("A1"), "'A1'");
    }
}
