//! A streaming worksheet reader of this crate's own (quick-xml).
//!
//! It has two uses:
//! - a formulas-only scan that finds array formulas (`<f t="array" ref="A1:B3">`) and data
//!   tables (`<f t="dataTable">`), whose ranges calamine does not report;
//! - a full reader for sheets that calamine refuses. calamine 0.38 fails a whole sheet when
//!   a cached error value is one it does not know (`#SPILL!`, `#CALC!`, `#BLOCKED!`,
//!   `#FIELD!`, `#CONNECT!`, `#BUSY!`, `#UNKNOWN!`, `#GETTING_DATA`, ...), which Excel 365
//!   writes for dynamic-array formulas. The full reader follows calamine's rules for
//!   positions, values and formulas, so both give the same cells (the tests compare them).

use std::io::BufRead;

use quick_xml::events::Event;

use crate::error::BoxError;
use crate::model::CellValue;
use crate::values::iso_to_serial;
use crate::xml;

/// A formula as the sheet stores it, before shared-formula anchors are resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawFormula {
    /// An ordinary formula (`<f>` without `t`, or `t="normal"`).
    Normal(String),
    /// `<f t="array" ref="...">`: text and zero-based range.
    Array {
        text: String,
        range: (u32, u32, u32, u32),
    },
    /// `<f t="dataTable" ref="...">`: a What-If data table over `range`.
    DataTable {
        range: (u32, u32, u32, u32),
        spec: TableSpec,
    },
    /// The anchor of shared formula `si` (it carries `ref` and the text).
    SharedAnchor { si: usize, text: String },
    /// A cell sharing formula `si`.
    SharedDerived { si: usize },
}

/// The attributes of a data table's `<f>` besides its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TableSpec {
    pub(crate) two_d: bool,
    pub(crate) row_input: bool,
    pub(crate) r1: Option<(u32, u32)>,
    pub(crate) r2: Option<(u32, u32)>,
}

/// One `<c>` element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawCell {
    pub(crate) row: u32,
    pub(crate) col: u32,
    pub(crate) value: CellValue,
    pub(crate) formula: Option<RawFormula>,
}

/// What to read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode<'s> {
    /// Only cells with an array or data-table formula are reported, without values.
    ArraysOnly,
    /// Every cell, with its value.
    Full {
        strings: &'s [String],
        date1904: bool,
    },
}

/// Reads the worksheet XML `input`, calling `each` for every `<c>` (or, in
/// [`Mode::ArraysOnly`], for every array / data-table anchor) in stream order.
pub(crate) fn read_sheet<R: BufRead>(
    input: R,
    mode: Mode<'_>,
    mut each: impl FnMut(RawCell),
) -> Result<(), BoxError> {
    let mut reader = xml::reader(input);
    let mut buf = Vec::with_capacity(1024);
    let mut cell_buf = Vec::with_capacity(1024);
    let mut text_buf = Vec::with_capacity(256);
    let mut rich_buf = Vec::with_capacity(256);
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "sheetData" => break,
            Event::Eof => return Err("the part has no <sheetData> (not a worksheet)".into()),
            _ => {}
        }
    }
    let full = matches!(mode, Mode::Full { .. });
    let mut row_index: u32 = 0;
    let mut col_index: u32 = 0;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "row" => {
                if let Some(r) = xml::attr(&e, "r")? {
                    row_index = xml::parse_row_number(&r)
                        .ok_or_else(|| format!("bad row number r=\"{r}\""))?;
                }
            }
            Event::End(e) if e.local_name().as_ref() == "row" => {
                row_index = row_index.saturating_add(1);
                col_index = 0;
            }
            Event::End(e) if e.local_name().as_ref() == "sheetData" => return Ok(()),
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                let (row, col) = match xml::attr(&e, "r")? {
                    Some(r) => {
                        let pos = xml::parse_cell_ref(&r)
                            .ok_or_else(|| format!("bad cell reference r=\"{r}\""))?;
                        col_index = pos.1;
                        pos
                    }
                    None => (row_index, col_index),
                };
                let typ = xml::attr(&e, "t")?;
                let mut formula = None;
                let mut v_text: Option<String> = None;
                let mut inline: Option<String> = None;
                loop {
                    cell_buf.clear();
                    match reader.read_event_into(&mut cell_buf)? {
                        Event::Start(child) => match child.local_name().as_ref() {
                            "f" => {
                                let ft = xml::attr(&child, "t")?;
                                let si = xml::attr(&child, "si")?;
                                let range = xml::attr(&child, "ref")?;
                                let spec = if ft.as_deref() == Some("dataTable") {
                                    let flag = |v: Option<String>| {
                                        matches!(v.as_deref().map(str::trim), Some("1" | "true"))
                                    };
                                    let cell = |v: Option<String>| {
                                        v.as_deref().and_then(xml::parse_cell_ref)
                                    };
                                    TableSpec {
                                        two_d: flag(xml::attr(&child, "dt2D")?),
                                        row_input: flag(xml::attr(&child, "dtr")?),
                                        r1: cell(xml::attr(&child, "r1")?),
                                        r2: cell(xml::attr(&child, "r2")?),
                                    }
                                } else {
                                    TableSpec::default()
                                };
                                formula = read_formula(
                                    &mut reader,
                                    &mut text_buf,
                                    ft.as_deref(),
                                    si.as_deref(),
                                    range.as_deref(),
                                    spec,
                                    (row, col),
                                    full,
                                )?;
                            }
                            "v" if full => {
                                v_text = Some(xml::read_text(&mut reader, &mut text_buf, "v")?);
                            }
                            "is" if full => {
                                inline = Some(xml::read_rich_string(
                                    &mut reader,
                                    &mut text_buf,
                                    &mut rich_buf,
                                    "is",
                                )?);
                            }
                            _ => xml::skip(&mut reader, &mut text_buf, "c")?,
                        },
                        Event::End(_) => break,
                        Event::Eof => return Err(xml::eof("c")),
                        _ => {}
                    }
                }
                col_index = col_index.saturating_add(1);
                match mode {
                    Mode::ArraysOnly => {
                        if matches!(
                            formula,
                            Some(RawFormula::Array { .. } | RawFormula::DataTable { .. })
                        ) {
                            each(RawCell {
                                row,
                                col,
                                value: CellValue::Empty,
                                formula,
                            });
                        }
                    }
                    Mode::Full { strings, date1904 } => {
                        let value = cell_value(typ.as_deref(), v_text, inline, strings, date1904)
                            .map_err(|err| format!("cell {}: {err}", a1(row, col)))?;
                        each(RawCell {
                            row,
                            col,
                            value,
                            formula,
                        });
                    }
                }
            }
            Event::Eof => return Err(xml::eof("sheetData")),
            _ => {}
        }
    }
}

/// Reads an `<f>` element just opened. In formulas-only mode only array and data-table
/// formulas are read; the others are skipped.
#[allow(clippy::too_many_arguments)]
fn read_formula<R: BufRead>(
    reader: &mut quick_xml::Reader<R>,
    buf: &mut Vec<u8>,
    typ: Option<&str>,
    si: Option<&str>,
    range: Option<&str>,
    spec: TableSpec,
    pos: (u32, u32),
    full: bool,
) -> Result<Option<RawFormula>, BoxError> {
    let cell_range = || (pos.0, pos.1, pos.0, pos.1);
    match typ {
        Some("array") => {
            let text = xml::read_text(reader, buf, "f")?;
            let range = range
                .and_then(xml::parse_range_ref)
                .unwrap_or_else(cell_range);
            Ok(Some(RawFormula::Array { text, range }))
        }
        Some("dataTable") => {
            xml::skip(reader, buf, "f")?;
            let range = range
                .and_then(xml::parse_range_ref)
                .unwrap_or_else(cell_range);
            Ok(Some(RawFormula::DataTable { range, spec }))
        }
        _ if !full => {
            xml::skip(reader, buf, "f")?;
            Ok(None)
        }
        Some("shared") => {
            let si: usize = si
                .and_then(|s| s.trim().parse().ok())
                .ok_or("a shared formula without a valid si attribute")?;
            let text = xml::read_text(reader, buf, "f")?;
            Ok(Some(if range.is_some() {
                RawFormula::SharedAnchor { si, text }
            } else {
                RawFormula::SharedDerived { si }
            }))
        }
        _ => Ok(Some(RawFormula::Normal(xml::read_text(reader, buf, "f")?))),
    }
}

/// A cell's value from its type attribute and `<v>` / `<is>` content, by calamine's rules.
fn cell_value(
    typ: Option<&str>,
    v: Option<String>,
    inline: Option<String>,
    strings: &[String],
    date1904: bool,
) -> Result<CellValue, BoxError> {
    if matches!(typ, Some("inlineStr" | "is")) {
        return Ok(inline.map_or(CellValue::Empty, CellValue::Text));
    }
    let Some(v) = v else {
        return Ok(inline.map_or(CellValue::Empty, CellValue::Text));
    };
    Ok(match typ {
        Some("s") => {
            if v.is_empty() {
                return Ok(CellValue::Empty);
            }
            // calamine reads an unparsable index as 0.
            let index: usize = v.parse().unwrap_or(0);
            match strings.get(index) {
                Some(s) => CellValue::Text(s.clone()),
                None => return Err(format!("shared string {index} does not exist").into()),
            }
        }
        Some("b") => match v.trim() {
            "" => CellValue::Empty,
            "0" => CellValue::Bool(false),
            "1" => CellValue::Bool(true),
            t if t.eq_ignore_ascii_case("false") => CellValue::Bool(false),
            t if t.eq_ignore_ascii_case("true") => CellValue::Bool(true),
            t => return Err(format!("bad boolean value {t:?}").into()),
        },
        Some("e") => match v.trim() {
            "" => CellValue::Empty,
            t => CellValue::Error(t.to_owned()),
        },
        Some("str") => CellValue::Text(xml::unescape_ooxml(&v).into_owned()),
        Some("d") => match iso_to_serial(&v, date1904) {
            Some(n) => CellValue::Number(n),
            None => CellValue::Text(v),
        },
        Some("n") | None => {
            if v.is_empty() {
                CellValue::Empty
            } else if let Ok(n) = v.parse::<f64>() {
                CellValue::Number(n)
            } else if typ.is_none() {
                CellValue::Text(v)
            } else {
                return Err(format!("bad number {v:?}").into());
            }
        }
        Some(t) => return Err(format!("unknown cell type t=\"{t}\"").into()),
    })
}

/// Reads a shared-strings part (`xl/sharedStrings.xml`) as calamine does.
pub(crate) fn read_shared_strings<R: BufRead>(input: R) -> Result<Vec<String>, BoxError> {
    let mut reader = xml::reader(input);
    let mut buf = Vec::new();
    let mut text_buf = Vec::new();
    let mut rich_buf = Vec::new();
    let mut strings = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "si" => {
                strings.push(xml::read_rich_string(
                    &mut reader,
                    &mut text_buf,
                    &mut rich_buf,
                    "si",
                )?);
            }
            Event::End(e) if e.local_name().as_ref() == "sst" => return Ok(strings),
            Event::Eof => return Err(xml::eof("sst")),
            _ => {}
        }
    }
}

/// `A1` text of a zero-based position, for messages.
pub(crate) fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut n = col + 1;
    while n > 0 {
        let rem = u8::try_from((n - 1) % 26).unwrap_or(0);
        letters.push(char::from(b'A' + rem));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(u64::from(row) + 1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(xml: &str) -> Vec<RawCell> {
        let mut out = Vec::new();
        read_sheet(
            xml.as_bytes(),
            Mode::Full {
                strings: &["zero".to_owned(), "one".to_owned()],
                date1904: false,
            },
            |c| out.push(c),
        )
        .unwrap();
        out
    }

    #[test]
    fn a1_names() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(9, 27), "AB10");
        assert_eq!(a1(0, 16_383), "XFD1");
    }

    #[test]
    fn positions_without_r_attributes() {
        let got = cells(
            r#"<worksheet><sheetData><row r="3"><c><v>1</v></c><c r="E3"><v>2</v></c><c><v>3</v></c></row><row><c><v>4</v></c></row></sheetData></worksheet>"#,
        );
        let pos: Vec<_> = got.iter().map(|c| (c.row, c.col)).collect();
        assert_eq!(pos, [(2, 0), (2, 4), (2, 5), (3, 0)]);
    }

    #[test]
    fn values_by_type() {
        let got = cells(
            r#"<worksheet><sheetData><row r="1">
            <c r="A1" t="s"><v>1</v></c>
            <c r="B1" t="e"><f>SEQUENCE(3)+#REF!</f><v>#SPILL!</v></c>
            <c r="C1" t="str"><f>""</f><v></v></c>
            <c r="D1" t="b"><v>1</v></c>
            <c r="E1" t="inlineStr"><is><r><t>a</t></r><r><t xml:space="preserve"> b</t></r><rPh><t>x</t></rPh></is></c>
            <c r="F1"><f>1/0</f></c>
            <c r="G1" t="d"><v>2024-01-15T12:00:00</v></c>
            <c r="H1" t="str"><v>a_x000D_b &amp; c</v></c>
            </row></sheetData></worksheet>"#,
        );
        let values: Vec<_> = got.iter().map(|c| c.value.clone()).collect();
        assert_eq!(
            values,
            [
                CellValue::Text("one".into()),
                CellValue::Error("#SPILL!".into()),
                CellValue::Text(String::new()),
                CellValue::Bool(true),
                CellValue::Text("a b".into()),
                CellValue::Empty,
                CellValue::Number(45306.5),
                CellValue::Text("a\rb & c".into()),
            ]
        );
        assert_eq!(
            got[1].formula,
            Some(RawFormula::Normal("SEQUENCE(3)+#REF!".into()))
        );
    }

    #[test]
    fn arrays_only_mode() {
        let mut got = Vec::new();
        read_sheet(
            r#"<worksheet><sheetData><row r="2"><c r="A2"><f>1</f><v>1</v></c><c r="B2"><f t="array" ref="B2:C4">A1:B3*2</f><v>1</v></c><c r="D2"><f t="dataTable" ref="D2:E5" dt2D="1" r1="A1" r2="A2"/><v>3</v></c></row></sheetData></worksheet>"#
                .as_bytes(),
            Mode::ArraysOnly,
            |c| got.push(c),
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].formula,
            Some(RawFormula::Array {
                text: "A1:B3*2".into(),
                range: (1, 1, 3, 2)
            })
        );
        assert_eq!(
            got[1].formula,
            Some(RawFormula::DataTable {
                range: (1, 3, 4, 4),
                spec: TableSpec {
                    two_d: true,
                    row_input: false,
                    r1: Some((0, 0)),
                    r2: Some((1, 0)),
                }
            })
        );
    }

    #[test]
    fn truncated_sheet_is_an_error() {
        let mut n = 0;
        let r = read_sheet(
            r#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v>"#.as_bytes(),
            Mode::ArraysOnly,
            |_| n += 1,
        );
        assert!(r.is_err());
    }

    #[test]
    fn shared_strings() {
        let strings = read_shared_strings(
            r#"<sst count="3" uniqueCount="3"><si><t>plain</t></si><si><r><t>ri</t></r><r><t>ch</t></r></si><si><t/></si></sst>"#
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(strings, ["plain", "rich", ""]);
    }
}
