//! Writing a copy of a workbook with new cached values in some cells ([`save_with_values`]):
//! what `mcsim run --save-as` uses to put the simulated statistics into the workbook.
//!
//! The copy keeps the original package as it is: every zip entry is copied raw (same
//! compressed bytes, same compression method, same order, same metadata) except the
//! worksheet parts that hold updated cells. In those parts only the updated `<c>` elements
//! change: their cached value (`<v>`, or `<is>` for inline strings) and their `t` attribute;
//! the formula (`<f>`), the style and every other attribute and byte stay. A cell that has no
//! `<c>` element yet is inserted in its row in column order (and a missing row in row order).

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Write};

use quick_xml::Reader;
use quick_xml::events::Event;
use zip::ZipArchive;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::error::{BoxError, LoadError};
use crate::guard;
use crate::options::LoadOptions;
use crate::package::{self, SheetKind};

/// The last row and column Excel has (0-based: row 1,048,575, column XFD = 16,383).
const MAX_ROW: u32 = 1_048_575;
const MAX_COL: u32 = 16_383;

/// A new cached value for one cell.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateValue {
    /// A number (stored without `t`). NaN and infinities are stored as `#NUM!`.
    Number(f64),
    /// Text: `t="str"` on a formula cell, an inline string (`t="inlineStr"`) on a constant.
    Text(String),
    /// TRUE or FALSE (`t="b"`).
    Bool(bool),
    /// An error value as Excel spells it (`#N/A`, `#DIV/0!`, ...; `t="e"`).
    Error(String),
}

/// One cell to update.
#[derive(Debug, Clone, PartialEq)]
pub struct CellUpdate {
    /// The worksheet's name (compared case-insensitively, as Excel does).
    pub sheet: String,
    /// 0-based row.
    pub row: u32,
    /// 0-based column.
    pub col: u32,
    /// The new value.
    pub value: UpdateValue,
}

/// Why a copy could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The original failed the loader's checks (not a zip, over a limit, unsafe names, ...).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An update names a sheet the workbook does not have (or one that is not a worksheet).
    #[error("the workbook has no worksheet named '{sheet}'")]
    UnknownSheet {
        /// The name given.
        sheet: String,
    },
    /// An update names a cell outside Excel's grid.
    #[error("cell (row {row}, column {col}) of sheet '{sheet}' is outside Excel's grid")]
    OutOfGrid {
        /// The sheet.
        sheet: String,
        /// 0-based row.
        row: u32,
        /// 0-based column.
        col: u32,
    },
    /// A worksheet part could not be read or rewritten.
    #[error("cannot update the sheet '{sheet}' (part '{part}'): {detail}")]
    Sheet {
        /// The sheet.
        sheet: String,
        /// Its part.
        part: String,
        /// What is wrong.
        detail: String,
        /// The lower-level error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The zip archive could not be copied.
    #[error("cannot write the workbook copy: {0}")]
    Zip(#[source] BoxError),
}

/// Returns a copy of the workbook `original` (the bytes of an `.xlsx`/`.xlsm` file) in which
/// the cells of `updates` hold the given cached values. When a cell is named twice, the last
/// update wins. See the `save` module documentation for what is preserved.
///
/// The original goes through the loader's checks ([`LoadOptions::default`] limits) first.
///
/// # Errors
///
/// [`SaveError`]: the original fails the checks or is damaged, or an update names an unknown
/// sheet or a cell outside the grid.
pub fn save_with_values(original: &[u8], updates: &[CellUpdate]) -> Result<Vec<u8>, SaveError> {
    const FILE: &str = "workbook.xlsx";
    let mut pkg = guard::open(original, FILE, &LoadOptions::default())?;
    let (dir, name) = package::workbook_location(&mut pkg)?;
    let info = package::read_workbook(&mut pkg, &dir, &name)?;

    // Part (lower-cased, as the package index) → (sheet name, part, cells).
    type Cells = BTreeMap<(u32, u32), UpdateValue>;
    let mut by_part: HashMap<String, (String, String, Cells)> = HashMap::new();
    for u in updates {
        if u.row > MAX_ROW || u.col > MAX_COL {
            return Err(SaveError::OutOfGrid {
                sheet: u.sheet.clone(),
                row: u.row,
                col: u.col,
            });
        }
        let entry = info
            .sheets
            .iter()
            .find(|s| s.kind == SheetKind::Worksheet && s.name.eq_ignore_ascii_case(&u.sheet))
            .or_else(|| {
                info.sheets.iter().find(|s| {
                    s.kind == SheetKind::Worksheet
                        && s.name.to_lowercase() == u.sheet.to_lowercase()
                })
            });
        let Some(part) = entry.and_then(|e| e.part.clone()) else {
            return Err(SaveError::UnknownSheet {
                sheet: u.sheet.clone(),
            });
        };
        let sheet_name = entry.map(|e| e.name.clone()).unwrap_or_default();
        let key = part.replace('\\', "/").to_ascii_lowercase();
        by_part
            .entry(key)
            .or_insert_with(|| (sheet_name, part, BTreeMap::new()))
            .2
            .insert((u.row, u.col), u.value.clone());
    }

    // The new worksheet parts.
    let mut rewritten: HashMap<String, Vec<u8>> = HashMap::new();
    for (key, (sheet, part, cells)) in &by_part {
        let Some(xml) = pkg.read(part)? else {
            return Err(SaveError::Sheet {
                sheet: sheet.clone(),
                part: part.clone(),
                detail: "the package has no such part".to_owned(),
                source: None,
            });
        };
        let new = rewrite_sheet(&xml, cells).map_err(|e| SaveError::Sheet {
            sheet: sheet.clone(),
            part: part.clone(),
            detail: e.to_string(),
            source: Some(e),
        })?;
        rewritten.insert(key.clone(), new);
    }
    drop(pkg);

    copy_package(original, &mut rewritten).map_err(SaveError::Zip)
}

/// Copies every entry of `original`, raw, except those in `rewritten`, which are written anew
/// with their original compression method and modification time.
fn copy_package(
    original: &[u8],
    rewritten: &mut HashMap<String, Vec<u8>>,
) -> Result<Vec<u8>, BoxError> {
    let mut zip = ZipArchive::new(Cursor::new(original))?;
    let mut out = ZipWriter::new(Cursor::new(Vec::with_capacity(original.len())));
    if !zip.comment().is_empty() {
        out.set_raw_comment(zip.comment().to_vec().into_boxed_slice())?;
    }
    for i in 0..zip.len() {
        let file = zip.by_index_raw(i)?;
        let name = file.name()?.into_owned();
        let key = name.replace('\\', "/").to_ascii_lowercase();
        match rewritten.remove(&key) {
            None => out.raw_copy_file(file)?,
            Some(bytes) => {
                let mut options = SimpleFileOptions::default()
                    .compression_method(file.compression())
                    .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
                if let Some(time) = file.last_modified() {
                    options = options.last_modified_time(time);
                }
                if let Some(mode) = file.unix_mode() {
                    options = options.unix_permissions(mode);
                }
                drop(file);
                out.start_file(name, options)?;
                out.write_all(&bytes)?;
            }
        }
    }
    Ok(out.finish()?.into_inner())
}

/// What the scan found of one `<c>` element to update.
struct FoundCell {
    start: usize,
    /// End of the start tag (or of the empty element).
    tag_end: usize,
    /// End of the element.
    end: usize,
    /// Start of the end tag (`None` for `<c .../>`).
    close_start: Option<usize>,
    /// The start tag's name, as written (`c`, `x:c`).
    name: Vec<u8>,
    /// Attributes as written: (name, raw value).
    attrs: Vec<(Vec<u8>, Vec<u8>)>,
    has_formula: bool,
    formula_end: Option<usize>,
    v: Option<(usize, usize)>,
    is: Option<(usize, usize)>,
}

/// One `<row>` element.
struct FoundRow {
    row: u32,
    start: usize,
    /// End of the start tag (the whole element when empty).
    tag_end: usize,
    /// Start of `</row>`; `None` for `<row .../>`.
    close_start: Option<usize>,
    /// (column, start of the `<c>`) of every cell, when the row holds an update.
    cells: Vec<(u32, usize)>,
}

/// Rewrites one worksheet part. Only the updated cells' bytes change.
fn rewrite_sheet(
    xml: &[u8],
    updates: &BTreeMap<(u32, u32), UpdateValue>,
) -> Result<Vec<u8>, BoxError> {
    let rows_with_updates: std::collections::BTreeSet<u32> =
        updates.keys().map(|&(r, _)| r).collect();
    let mut reader = Reader::from_reader(xml);
    {
        let config = reader.config_mut();
        config.expand_empty_elements = false;
        config.trim_text(false);
        config.check_end_names = false;
        config.check_comments = false;
    }

    let mut prefix: Vec<u8> = Vec::new();
    // (start, tag end, close start) of <sheetData>; close None when it is empty.
    let mut sheet_data: Option<(usize, usize, Option<usize>)> = None;
    let mut rows: Vec<FoundRow> = Vec::new();
    let mut found: HashMap<(u32, u32), FoundCell> = HashMap::new();

    let mut in_sheet_data = false;
    let mut current_row: Option<u32> = None;
    let mut next_row: u32 = 0;
    let mut next_col: u32 = 0;
    // The cell being read (when it is updated) and the depth inside it.
    let mut cell: Option<FoundCell> = None;
    let mut cell_key: (u32, u32) = (0, 0);
    let mut depth_in_cell = 0usize;
    // Start of the <v>/<is> child being read.
    let mut child_start: Option<(usize, &'static str)> = None;
    let mut in_any_cell = false;

    loop {
        let start = usize::try_from(reader.buffer_position())?;
        let event = reader.read_event()?;
        let end = usize::try_from(reader.buffer_position())?;
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) if !in_sheet_data && !in_any_cell => {
                let empty = xml.get(end.saturating_sub(2)..end) == Some(b"/>".as_slice());
                if e.local_name().as_ref() == "sheetData" {
                    if let Some(p) = e.name().prefix() {
                        prefix = p.as_ref().as_bytes().to_vec();
                        prefix.push(b':');
                    }
                    sheet_data = Some((start, end, None));
                    in_sheet_data = !empty;
                }
            }
            Event::End(e) if in_sheet_data && !in_any_cell => match e.local_name().as_ref() {
                "sheetData" => {
                    if let Some(sd) = sheet_data.as_mut() {
                        sd.2 = Some(start);
                    }
                    in_sheet_data = false;
                }
                "row" => {
                    if let Some(r) = rows.last_mut() {
                        r.close_start = Some(start);
                    }
                    current_row = None;
                }
                _ => {}
            },
            Event::Start(e) | Event::Empty(e) if in_sheet_data && !in_any_cell => {
                let is_empty = matches!(xml.get(end.saturating_sub(2)..end), Some(b"/>"));
                match e.local_name().as_ref() {
                    "row" => {
                        let r = match crate::xml::attr(&e, "r")? {
                            Some(text) => text
                                .trim()
                                .parse::<u32>()
                                .ok()
                                .and_then(|n| n.checked_sub(1))
                                .ok_or_else(|| format!("bad row number r=\"{text}\""))?,
                            None => next_row,
                        };
                        next_row = r.saturating_add(1);
                        next_col = 0;
                        rows.push(FoundRow {
                            row: r,
                            start,
                            tag_end: end,
                            close_start: None,
                            cells: Vec::new(),
                        });
                        current_row = (!is_empty).then_some(r);
                    }
                    "c" => {
                        let Some(r) = current_row else {
                            return Err("a <c> element outside a <row>".into());
                        };
                        let col = match crate::xml::attr(&e, "r")? {
                            Some(text) => {
                                parse_a1(&text)
                                    .ok_or_else(|| format!("bad cell reference r=\"{text}\""))?
                                    .1
                            }
                            None => next_col,
                        };
                        next_col = col.saturating_add(1);
                        if rows_with_updates.contains(&r)
                            && let Some(row) = rows.last_mut()
                        {
                            row.cells.push((col, start));
                        }
                        if updates.contains_key(&(r, col)) {
                            let attrs = e
                                .attributes()
                                .with_checks(false)
                                .map(|a| {
                                    a.map(|a| {
                                        (
                                            a.key.as_ref().as_bytes().to_vec(),
                                            a.value.as_bytes().to_vec(),
                                        )
                                    })
                                })
                                .collect::<Result<Vec<_>, _>>()?;
                            let c = FoundCell {
                                start,
                                tag_end: end,
                                end,
                                close_start: None,
                                name: e.name().as_ref().as_bytes().to_vec(),
                                attrs,
                                has_formula: false,
                                formula_end: None,
                                v: None,
                                is: None,
                            };
                            if is_empty {
                                found.insert((r, col), c);
                            } else {
                                cell = Some(c);
                                cell_key = (r, col);
                                depth_in_cell = 0;
                                in_any_cell = true;
                            }
                        } else if !is_empty {
                            in_any_cell = true;
                            depth_in_cell = 0;
                        }
                    }
                    _ => {}
                }
            }
            // Inside a cell.
            Event::Start(e) if in_any_cell => {
                if depth_in_cell == 0 && cell.is_some() {
                    match e.local_name().as_ref() {
                        "v" => child_start = Some((start, "v")),
                        "is" => child_start = Some((start, "is")),
                        "f" => child_start = Some((start, "f")),
                        _ => {}
                    }
                }
                depth_in_cell += 1;
            }
            Event::Empty(e) if in_any_cell && depth_in_cell == 0 => {
                if let Some(c) = cell.as_mut() {
                    match e.local_name().as_ref() {
                        "v" => c.v = Some((start, end)),
                        "is" => c.is = Some((start, end)),
                        "f" => {
                            c.has_formula = true;
                            c.formula_end = Some(end);
                        }
                        _ => {}
                    }
                }
            }
            Event::End(_) if in_any_cell => {
                if depth_in_cell == 0 {
                    // </c>
                    in_any_cell = false;
                    if let Some(mut c) = cell.take() {
                        c.close_start = Some(start);
                        c.end = end;
                        found.insert(cell_key, c);
                    }
                } else {
                    depth_in_cell -= 1;
                    if depth_in_cell == 0
                        && let (Some(c), Some((s, what))) = (cell.as_mut(), child_start.take())
                    {
                        match what {
                            "v" => c.v = Some((s, end)),
                            "is" => c.is = Some((s, end)),
                            _ => {
                                c.has_formula = true;
                                c.formula_end = Some(end);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    let Some((sd_start, sd_tag_end, sd_close)) = sheet_data else {
        return Err("the worksheet has no <sheetData>".into());
    };
    if in_sheet_data || in_any_cell {
        return Err("the worksheet XML ends inside <sheetData>".into());
    }

    // Edits: (start, end, bytes), applied in order.
    let mut edits: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    // Missing cells by row.
    let mut missing: BTreeMap<u32, Vec<(u32, &UpdateValue)>> = BTreeMap::new();
    for (&(r, c), value) in updates {
        match found.get(&(r, c)) {
            Some(cell) => edits.push((
                cell.start,
                cell.end,
                rebuild_cell(xml, cell, value, &prefix),
            )),
            None => missing.entry(r).or_default().push((c, value)),
        }
    }
    let row_index: HashMap<u32, usize> = rows.iter().enumerate().map(|(i, r)| (r.row, i)).collect();
    let mut new_rows: Vec<(u32, Vec<u8>)> = Vec::new();
    for (r, cells) in &missing {
        match row_index.get(r).map(|&i| &rows[i]) {
            Some(row) => match row.close_start {
                Some(close) => {
                    for (c, value) in cells {
                        let at = row
                            .cells
                            .iter()
                            .find(|(col, _)| col > c)
                            .map_or(close, |&(_, s)| s);
                        edits.push((at, at, new_cell(*r, *c, value, &prefix)));
                    }
                }
                None => {
                    // <row .../> becomes <row ...>cells</row>.
                    let tag = &xml[row.start..row.tag_end];
                    let open = tag
                        .strip_suffix(b"/>")
                        .ok_or("a <row> tag that does not end with '/>'")?;
                    let open = open.trim_ascii_end();
                    let mut bytes = open.to_vec();
                    bytes.push(b'>');
                    for (c, value) in cells {
                        bytes.extend(new_cell(*r, *c, value, &prefix));
                    }
                    bytes.extend_from_slice(b"</");
                    bytes.extend_from_slice(&prefix);
                    bytes.extend_from_slice(b"row>");
                    edits.push((row.start, row.tag_end, bytes));
                }
            },
            None => {
                let mut bytes = Vec::new();
                bytes.extend_from_slice(b"<");
                bytes.extend_from_slice(&prefix);
                bytes.extend_from_slice(format!("row r=\"{}\">", r + 1).as_bytes());
                for (c, value) in cells {
                    bytes.extend(new_cell(*r, *c, value, &prefix));
                }
                bytes.extend_from_slice(b"</");
                bytes.extend_from_slice(&prefix);
                bytes.extend_from_slice(b"row>");
                new_rows.push((*r, bytes));
            }
        }
    }
    if !new_rows.is_empty() {
        match sd_close {
            Some(close) => {
                for (r, bytes) in new_rows {
                    let at = rows
                        .iter()
                        .find(|row| row.row > r)
                        .map_or(close, |row| row.start);
                    edits.push((at, at, bytes));
                }
            }
            None => {
                let tag = &xml[sd_start..sd_tag_end];
                let open = tag
                    .strip_suffix(b"/>")
                    .ok_or("a <sheetData> tag that does not end with '/>'")?
                    .trim_ascii_end();
                let mut bytes = open.to_vec();
                bytes.push(b'>');
                for (_, row) in new_rows {
                    bytes.extend(row);
                }
                bytes.extend_from_slice(b"</");
                bytes.extend_from_slice(&prefix);
                bytes.extend_from_slice(b"sheetData>");
                edits.push((sd_start, sd_tag_end, bytes));
            }
        }
    }

    // Insertions at one place keep the order they were pushed in (row, then column order);
    // an insertion before a replaced cell comes first.
    edits.sort_by_key(|&(s, e, _)| (s, e));
    let mut out = Vec::with_capacity(xml.len() + edits.len() * 64);
    let mut at = 0;
    for (s, e, bytes) in edits {
        if s < at {
            return Err("overlapping cell edits (a cell listed twice?)".into());
        }
        out.extend_from_slice(&xml[at..s]);
        out.extend(bytes);
        at = e;
    }
    out.extend_from_slice(&xml[at..]);
    Ok(out)
}

/// The updated `<c>` element: the start tag with `t` set for the value (and `vm` dropped: the
/// value is no longer a rich value), the children without the old `<v>`/`<is>`, the new value
/// where the old one was (after `<f>` otherwise).
fn rebuild_cell(xml: &[u8], cell: &FoundCell, value: &UpdateValue, prefix: &[u8]) -> Vec<u8> {
    let (t, child) = value_parts(value, cell.has_formula, prefix);
    let mut out = Vec::with_capacity(cell.end - cell.start + 32);
    out.push(b'<');
    out.extend_from_slice(&cell.name);
    let mut wrote_t = false;
    for (key, raw) in &cell.attrs {
        let local = key.rsplit(|&b| b == b':').next().unwrap_or(key);
        if local == b"vm" {
            continue;
        }
        if key.as_slice() == b"t" {
            wrote_t = true;
            if let Some(t) = t {
                push_attr(&mut out, b"t", t.as_bytes());
            }
            continue;
        }
        push_attr(&mut out, key, raw);
    }
    if !wrote_t && let Some(t) = t {
        push_attr(&mut out, b"t", t.as_bytes());
    }
    out.push(b'>');
    match cell.close_start {
        Some(close) => {
            // The children, minus the old value, plus the new one.
            let insert_at = cell
                .v
                .map(|v| v.0)
                .or(cell.is.map(|i| i.0))
                .or(cell.formula_end)
                .unwrap_or(cell.tag_end);
            let mut skips: Vec<(usize, usize)> = cell.v.into_iter().chain(cell.is).collect();
            skips.sort_unstable();
            let mut pos = cell.tag_end;
            let mut inserted = false;
            for (s, e) in skips {
                if !inserted && insert_at <= s {
                    out.extend_from_slice(&xml[pos..insert_at]);
                    out.extend_from_slice(&child);
                    pos = insert_at;
                    inserted = true;
                }
                out.extend_from_slice(&xml[pos..s]);
                pos = e;
            }
            if !inserted {
                out.extend_from_slice(&xml[pos..insert_at]);
                out.extend_from_slice(&child);
                pos = insert_at;
            }
            out.extend_from_slice(&xml[pos..close]);
            out.extend_from_slice(&xml[close..cell.end]);
        }
        None => {
            out.extend_from_slice(&child);
            out.extend_from_slice(b"</");
            out.extend_from_slice(&cell.name);
            out.push(b'>');
        }
    }
    out
}

/// A new `<c>` element for a cell that had none.
fn new_cell(row: u32, col: u32, value: &UpdateValue, prefix: &[u8]) -> Vec<u8> {
    let (t, child) = value_parts(value, false, prefix);
    let mut out = Vec::new();
    out.push(b'<');
    out.extend_from_slice(prefix);
    out.extend_from_slice(format!("c r=\"{}{}\"", col_name(col), row + 1).as_bytes());
    if let Some(t) = t {
        push_attr(&mut out, b"t", t.as_bytes());
    }
    out.push(b'>');
    out.extend(child);
    out.extend_from_slice(b"</");
    out.extend_from_slice(prefix);
    out.extend_from_slice(b"c>");
    out
}

fn push_attr(out: &mut Vec<u8>, key: &[u8], raw: &[u8]) {
    out.push(b' ');
    out.extend_from_slice(key);
    out.extend_from_slice(b"=\"");
    // A value written between single quotes may hold '"'.
    for &b in raw {
        if b == b'"' {
            out.extend_from_slice(b"&quot;");
        } else {
            out.push(b);
        }
    }
    out.push(b'"');
}

/// The `t` attribute and the value element for a value.
fn value_parts(
    value: &UpdateValue,
    formula: bool,
    prefix: &[u8],
) -> (Option<&'static str>, Vec<u8>) {
    let element = |name: &str, text: &str| {
        let p = String::from_utf8_lossy(prefix);
        format!("<{p}{name}>{text}</{p}{name}>").into_bytes()
    };
    match value {
        UpdateValue::Number(x) if x.is_finite() => (None, element("v", &format_number(*x))),
        UpdateValue::Number(_) => (Some("e"), element("v", "#NUM!")),
        UpdateValue::Bool(b) => (Some("b"), element("v", if *b { "1" } else { "0" })),
        UpdateValue::Error(e) => (Some("e"), element("v", &escape(e))),
        UpdateValue::Text(s) if formula => (Some("str"), element("v", &escape(s))),
        UpdateValue::Text(s) => {
            let p = String::from_utf8_lossy(prefix);
            let space = if s.trim() != s {
                " xml:space=\"preserve\""
            } else {
                ""
            };
            (
                Some("inlineStr"),
                format!("<{p}is><{p}t{space}>{}</{p}t></{p}is>", escape(s)).into_bytes(),
            )
        }
    }
}

/// The shortest text that reads back as `x`: integers without a decimal point, others in
/// Rust's round-trip form (with an exponent for very large or small magnitudes).
fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let text = format!("{x:?}");
    text.replace("e", "E")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0;
            // Excel writes them as _xHHHH_.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("_x{:04X}_", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// `A`, `B`, ..., `Z`, `AA`, ... for a 0-based column.
fn col_name(col: u32) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8_lossy(&letters).into_owned()
}

/// `B4` → (3, 1), 0-based; `$` signs are allowed.
fn parse_a1(text: &str) -> Option<(u32, u32)> {
    let t = text.trim().replace('$', "");
    let split = t.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = t.split_at(split);
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut col: u32 = 0;
    for b in letters.bytes() {
        let b = b.to_ascii_uppercase();
        if !b.is_ascii_uppercase() {
            return None;
        }
        col = col * 26 + u32::from(b - b'A') + 1;
    }
    let row: u32 = digits.parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(xml: &str, cells: &[((u32, u32), UpdateValue)]) -> String {
        let map: BTreeMap<_, _> = cells.iter().cloned().collect();
        String::from_utf8(rewrite_sheet(xml.as_bytes(), &map).unwrap()).unwrap()
    }

    #[test]
    fn replaces_only_the_value_and_type() {
        let xml = r#"<worksheet><sheetData><row r="1"><c r="A1" s="2" t="s"><f>RiskMean(B1)</f><v>7</v></c><c r="B1"><v>1</v></c></row></sheetData></worksheet>"#;
        let out = update(xml, &[((0, 0), UpdateValue::Number(2.5))]);
        assert_eq!(
            out,
            r#"<worksheet><sheetData><row r="1"><c r="A1" s="2"><f>RiskMean(B1)</f><v>2.5</v></c><c r="B1"><v>1</v></c></row></sheetData></worksheet>"#
        );
        let out = update(xml, &[((0, 0), UpdateValue::Text("a<b".into()))]);
        assert!(
            out.contains(r#"<c r="A1" s="2" t="str"><f>RiskMean(B1)</f><v>a&lt;b</v></c>"#),
            "{out}"
        );
    }

    #[test]
    fn inserts_missing_cells_and_rows_in_order() {
        let xml = r#"<x:worksheet xmlns:x="m"><x:sheetData><x:row r="2"><x:c r="B2"><x:v>1</x:v></x:c></x:row><x:row r="5"/></x:sheetData></x:worksheet>"#;
        let out = update(
            xml,
            &[
                ((1, 0), UpdateValue::Bool(true)),
                ((1, 3), UpdateValue::Number(4.0)),
                ((0, 2), UpdateValue::Error("#N/A".into())),
                ((4, 0), UpdateValue::Number(-1.0)),
                ((9, 0), UpdateValue::Number(1e-7)),
            ],
        );
        assert_eq!(
            out,
            concat!(
                r#"<x:worksheet xmlns:x="m"><x:sheetData>"#,
                r#"<x:row r="1"><x:c r="C1" t="e"><x:v>#N/A</x:v></x:c></x:row>"#,
                r#"<x:row r="2"><x:c r="A2" t="b"><x:v>1</x:v></x:c><x:c r="B2"><x:v>1</x:v></x:c><x:c r="D2"><x:v>4</x:v></x:c></x:row>"#,
                r#"<x:row r="5"><x:c r="A5"><x:v>-1</x:v></x:c></x:row>"#,
                r#"<x:row r="10"><x:c r="A10"><x:v>1E-7</x:v></x:c></x:row>"#,
                r#"</x:sheetData></x:worksheet>"#
            )
        );
    }

    #[test]
    fn empty_sheet_data_and_empty_cells() {
        let out = update(
            "<worksheet><sheetData/></worksheet>",
            &[((0, 0), UpdateValue::Text(" x".into()))],
        );
        assert_eq!(
            out,
            r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve"> x</t></is></c></row></sheetData></worksheet>"#
        );
        let out = update(
            r#"<worksheet><sheetData><row><c s="1"/><c t="inlineStr"><is><t>old</t></is></c></row></sheetData></worksheet>"#,
            &[
                ((0, 0), UpdateValue::Number(3.0)),
                ((0, 1), UpdateValue::Number(1.5)),
            ],
        );
        assert_eq!(
            out,
            r#"<worksheet><sheetData><row><c s="1"><v>3</v></c><c><v>1.5</v></c></row></sheetData></worksheet>"#
        );
    }

    #[test]
    fn numbers_round_trip() {
        for x in [
            0.1,
            1.0 / 3.0,
            -2.5e-300,
            1e300,
            123_456_789_012.0,
            1e16,
            -0.0,
        ] {
            let text = format_number(x);
            assert_eq!(text.parse::<f64>().unwrap(), x, "{text}");
        }
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(16_383), "XFD");
        assert_eq!(parse_a1("$AB$12"), Some((11, 27)));
    }
}
