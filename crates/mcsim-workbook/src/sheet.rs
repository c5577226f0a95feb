//! Reading one worksheet into [`Cell`]s: calamine's streaming cell reader, the array-formula
//! scan, the fallback reader, and the assembly of shared formulas.

use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};

use calamine::{Xlsx, XlsxError, XlsxFormulaMetadata};
use memchr::memmem;

use crate::error::LoadError;
use crate::guard::Package;
use crate::model::{Cell, CellValue, Formula};
use crate::rawsheet::{self, Mode, RawFormula, TableSpec};
use crate::values;

/// Array and data-table formulas of one sheet, by anchor position.
pub(crate) type Specials = HashMap<(u32, u32), RawFormula>;

/// Collects a sheet's cells in stream order and resolves shared formulas.
#[derive(Debug, Default)]
pub(crate) struct SheetBuilder {
    cells: Vec<Cell>,
    /// Shared formula index → anchor position.
    anchors: HashMap<usize, (u32, u32)>,
    /// Cells (index in `cells`) sharing a formula whose anchor had not been seen yet.
    pending: Vec<(usize, usize)>,
    empty_formulas: usize,
    data_tables: Vec<(u32, u32, u32, u32, TableSpec)>,
}

impl SheetBuilder {
    /// Adds one cell record.
    pub(crate) fn push(
        &mut self,
        row: u32,
        col: u32,
        value: CellValue,
        formula: Option<RawFormula>,
    ) {
        let formula = match formula {
            None => None,
            Some(RawFormula::Normal(text)) => self.text_formula(text, Formula::Text),
            Some(RawFormula::Array { text, range }) => {
                self.text_formula(text, |text| Formula::Array { text, range })
            }
            Some(RawFormula::DataTable { range, spec }) => {
                self.data_tables
                    .push((range.0, range.1, range.2, range.3, spec));
                None
            }
            Some(RawFormula::SharedAnchor { si, text }) => {
                let formula = self.text_formula(text, Formula::Text);
                if formula.is_some() {
                    self.anchors.insert(si, (row, col));
                }
                formula
            }
            Some(RawFormula::SharedDerived { si }) => match self.anchors.get(&si) {
                Some(&(anchor_row, anchor_col)) => Some(Formula::Shared {
                    anchor_row,
                    anchor_col,
                }),
                None => {
                    self.pending.push((self.cells.len(), si));
                    None
                }
            },
        };
        self.cells.push(Cell {
            row,
            col,
            value,
            formula,
        });
    }

    fn text_formula(
        &mut self,
        text: String,
        make: impl FnOnce(String) -> Formula,
    ) -> Option<Formula> {
        let text = match text.strip_prefix('=') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        if text.trim().is_empty() {
            self.empty_formulas += 1;
            None
        } else {
            Some(make(text))
        }
    }

    /// The sheet's data tables: `(range, attributes)`.
    pub(crate) fn data_tables(&self) -> Vec<((u32, u32, u32, u32), TableSpec)> {
        self.data_tables
            .iter()
            .map(|&(a, b, c, d, spec)| ((a, b, c, d), spec))
            .collect()
    }

    /// The sheet's cells in row-major order, without empty cells; problems go to `warnings`.
    pub(crate) fn finish(mut self, sheet: &str, warnings: &mut Vec<String>) -> Vec<Cell> {
        let mut orphans = 0usize;
        for &(index, si) in &self.pending {
            match (self.anchors.get(&si), self.cells.get_mut(index)) {
                (Some(&(anchor_row, anchor_col)), Some(cell)) => {
                    cell.formula = Some(Formula::Shared {
                        anchor_row,
                        anchor_col,
                    });
                }
                _ => orphans += 1,
            }
        }
        if orphans > 0 {
            warnings.push(format!(
                "sheet '{sheet}': {orphans} cell(s) share a formula whose anchor cell is missing; \
                 their cached values are used as constants"
            ));
        }
        if self.empty_formulas > 0 {
            warnings.push(format!(
                "sheet '{sheet}': {} cell(s) have an empty formula; their cached values are used \
                 as constants",
                self.empty_formulas
            ));
        }
        self.cells
            .retain(|c| c.formula.is_some() || c.value != CellValue::Empty);
        if !self.cells.is_sorted_by_key(|c| (c.row, c.col)) {
            self.cells.sort_by_key(|c| (c.row, c.col));
        }
        self.cells
    }
}

/// Reads the sheet `name` with calamine's streaming cell reader (no dense grid).
/// `specials` supplies the ranges of array formulas and the data tables.
pub(crate) fn read_with_calamine(
    xlsx: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    specials: &Specials,
    date1904: bool,
    builder: &mut SheetBuilder,
) -> Result<(), XlsxError> {
    let mut reader = xlsx.worksheet_cells_reader(name)?;
    while let Some(record) = reader.next_cell_with_formula_metadata()? {
        let (row, col) = record.pos;
        let value = values::from_calamine(record.value, date1904);
        let special = if specials.is_empty() {
            None
        } else {
            specials.get(&(row, col))
        };
        let formula = match (record.formula, special) {
            (
                Some(XlsxFormulaMetadata::Normal { formula }),
                Some(RawFormula::Array { range, .. }),
            ) => Some(RawFormula::Array {
                text: formula,
                range: *range,
            }),
            (_, Some(RawFormula::DataTable { range, spec })) => Some(RawFormula::DataTable {
                range: *range,
                spec: *spec,
            }),
            (Some(XlsxFormulaMetadata::Normal { formula }), _) => Some(RawFormula::Normal(formula)),
            (
                Some(XlsxFormulaMetadata::Shared {
                    shared_index,
                    formula,
                    ..
                }),
                _,
            ) => Some(RawFormula::SharedAnchor {
                si: shared_index,
                text: formula,
            }),
            (Some(XlsxFormulaMetadata::SharedDerived { shared_index }), _) => {
                Some(RawFormula::SharedDerived { si: shared_index })
            }
            (None, _) => None,
            // A kind of formula record newer than this crate: keep the cached value.
            (Some(_), _) => None,
        };
        builder.push(row, col, value, formula);
    }
    Ok(())
}

/// Reads the sheet part with this crate's own reader (used when calamine refuses a sheet).
pub(crate) fn read_with_fallback(
    pkg: &mut Package<'_>,
    part: &str,
    strings: &[String],
    date1904: bool,
    builder: &mut SheetBuilder,
) -> Result<(), LoadError> {
    let file = pkg.file;
    let Some(input) = pkg.open(part)? else {
        return Err(LoadError::corrupt(
            file,
            format!("the part '{part}' is missing"),
        ));
    };
    rawsheet::read_sheet(
        BufReader::new(input),
        Mode::Full { strings, date1904 },
        |c| builder.push(c.row, c.col, c.value, c.formula),
    )
    .map_err(|e| LoadError::corrupt_with(file, format!("cannot parse the part '{part}'"), e))
}

/// Finds the array formulas and data tables of a sheet part. The part is first searched
/// for the attribute values `"array"` / `"dataTable"`; only when one occurs is it parsed.
pub(crate) fn scan_specials(pkg: &mut Package<'_>, part: &str) -> Result<Specials, LoadError> {
    let file = pkg.file;
    let mut specials = Specials::new();
    let Some(input) = pkg.open(part)? else {
        return Ok(specials);
    };
    let found = stream_contains(
        input,
        &[b"\"array\"", b"'array'", b"\"dataTable\"", b"'dataTable'"],
    )
    .map_err(|e| {
        LoadError::corrupt_with(file, format!("cannot decompress the part '{part}'"), e)
    })?;
    if !found {
        return Ok(specials);
    }
    let Some(input) = pkg.open(part)? else {
        return Ok(specials);
    };
    rawsheet::read_sheet(BufReader::new(input), Mode::ArraysOnly, |c| {
        if let Some(f) = c.formula {
            specials.insert((c.row, c.col), f);
        }
    })
    .map_err(|e| LoadError::corrupt_with(file, format!("cannot parse the part '{part}'"), e))?;
    Ok(specials)
}

/// Whether the stream contains any of `needles`, reading it in chunks.
pub(crate) fn stream_contains(mut input: impl Read, needles: &[&[u8]]) -> std::io::Result<bool> {
    let finders: Vec<memmem::Finder<'_>> = needles.iter().map(memmem::Finder::new).collect();
    let keep = needles
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(1)
        .saturating_sub(1);
    let mut buf = vec![0u8; 64 * 1024 + keep];
    let mut filled = 0;
    loop {
        let n = input.read(&mut buf[filled..])?;
        if n == 0 {
            return Ok(false);
        }
        let end = filled + n;
        if finders.iter().any(|f| f.find(&buf[..end]).is_some()) {
            return Ok(true);
        }
        let carry = keep.min(end);
        buf.copy_within(end - carry..end, 0);
        filled = carry;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte at a time, to exercise the chunk boundaries.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn stream_search_across_chunks() {
        let mut data = vec![b'x'; 200_000];
        data.extend_from_slice(b"t=\"array\"");
        data.extend(vec![b'y'; 10]);
        assert!(stream_contains(&data[..], &[b"\"array\""]).unwrap());
        assert!(!stream_contains(&data[..], &[b"'array'"]).unwrap());
        assert!(stream_contains(Trickle(b"ab\"array\"cd"), &[b"\"array\""]).unwrap());
        // A needle split over the 64 KiB boundary.
        let mut data = vec![b'x'; 64 * 1024 - 3];
        data.extend_from_slice(b"\"dataTable\"");
        assert!(stream_contains(&data[..], &[b"\"array\"", b"\"dataTable\""]).unwrap());
    }

    #[test]
    fn derived_before_anchor_is_resolved_at_the_end() {
        let mut b = SheetBuilder::default();
        b.push(
            0,
            1,
            CellValue::Number(2.0),
            Some(RawFormula::SharedDerived { si: 0 }),
        );
        b.push(
            0,
            0,
            CellValue::Number(1.0),
            Some(RawFormula::SharedAnchor {
                si: 0,
                text: "ROW()".into(),
            }),
        );
        b.push(
            1,
            0,
            CellValue::Number(3.0),
            Some(RawFormula::SharedDerived { si: 7 }),
        );
        let mut warnings = Vec::new();
        let cells = b.finish("S", &mut warnings);
        assert_eq!(cells.len(), 3);
        // Sorted row-major.
        assert_eq!((cells[0].row, cells[0].col), (0, 0));
        assert_eq!(cells[0].formula, Some(Formula::Text("ROW()".into())));
        assert_eq!(
            cells[1].formula,
            Some(Formula::Shared {
                anchor_row: 0,
                anchor_col: 0
            })
        );
        assert_eq!(cells[2].formula, None);
        assert_eq!(cells[2].value, CellValue::Number(3.0));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
}
