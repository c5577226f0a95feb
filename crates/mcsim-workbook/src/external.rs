//! Links to other workbooks (`xl/externalLinks/externalLinkN.xml`): the sheet names and the
//! values Excel cached (`<sheetDataSet>`), which formulas such as `[1]Sheet1!A1` show while the
//! other workbook is closed. `[1]` is the first `<externalReference>` of the workbook part.

use std::collections::HashMap;

use quick_xml::events::Event;

use crate::error::{BoxError, LoadError};
use crate::guard::Package;
use crate::model::{CellValue, ExternalBook, ExternalName, ExternalSheet};
use crate::package;
use crate::xml;

/// The external workbooks, in the order of `<externalReferences>` (`[1]` first). A link part
/// that is missing or unreadable gives a book without sheets (its references answer `#REF!`),
/// with a warning.
pub(crate) fn read_external_books(
    pkg: &mut Package<'_>,
    dir: &str,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<ExternalBook>, LoadError> {
    let path = format!("{dir}{name}");
    let Some(bytes) = pkg.read(&path)? else {
        return Ok(Vec::new());
    };
    let ids = match reference_ids(&bytes) {
        Ok(ids) if !ids.is_empty() => ids,
        Ok(_) => return Ok(Vec::new()),
        Err(e) => {
            warnings.push(format!(
                "cannot read the external references of '{path}' ({e})"
            ));
            return Ok(Vec::new());
        }
    };
    let rels_path = format!("{dir}_rels/{name}.rels");
    let rels: HashMap<String, (String, String)> = match pkg.read(&rels_path)? {
        Some(b) => package::parse_rels(&b).unwrap_or_default(),
        None => HashMap::new(),
    };
    let mut books = Vec::with_capacity(ids.len());
    for id in ids {
        let part = rels
            .get(&id)
            .map(|(_, target)| match target.strip_prefix('/') {
                Some(abs) => abs.to_owned(),
                None => format!("{dir}{target}"),
            });
        let bytes = match &part {
            Some(p) => pkg.read(p)?,
            None => None,
        };
        let book = match bytes.map(|b| parse_link(&b)) {
            Some(Ok((mut book, rid))) => {
                if let (Some(p), Some(rid)) = (&part, rid) {
                    book.target = link_target(pkg, p, &rid)?;
                }
                book
            }
            Some(Err(e)) => {
                warnings.push(format!(
                    "cannot read the external link '{}' ({e}); its references answer #REF!",
                    part.as_deref().unwrap_or("?")
                ));
                ExternalBook::default()
            }
            None => {
                warnings.push(format!(
                    "the external link '{id}' has no part; its references answer #REF!"
                ));
                ExternalBook::default()
            }
        };
        books.push(book);
    }
    Ok(books)
}

/// The target of the relationship `rid` of the link part `part` (the other workbook's path).
fn link_target(pkg: &mut Package<'_>, part: &str, rid: &str) -> Result<Option<String>, LoadError> {
    let rels = match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    };
    let Some(bytes) = pkg.read(&rels)? else {
        return Ok(None);
    };
    Ok(package::parse_rels(&bytes)
        .ok()
        .and_then(|r| r.get(rid).map(|(_, target)| target.clone())))
}

/// The file name of a link target or of the book part of an external sheet name:
/// `file:///C:\Data\Prices.xlsx` and `C:\Data\[Prices.xlsx]` → `Prices.xlsx`.
pub fn book_file_name(target: &str) -> &str {
    let t = target.trim_end_matches(']');
    let t = t.rsplit(['/', '\\', '[']).next().unwrap_or(t);
    t.trim()
}

/// The relationship ids of `<externalReference>`, in order.
fn reference_ids(bytes: &[u8]) -> Result<Vec<String>, BoxError> {
    let mut reader = xml::reader(bytes);
    let mut buf = Vec::new();
    let mut ids = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "externalReference" => {
                ids.push(xml::attr(&e, "id")?.unwrap_or_default());
            }
            Event::Eof => return Ok(ids),
            _ => {}
        }
    }
}

/// Parses an external link part: `<sheetNames>`, `<definedNames>` and the cached
/// `<sheetDataSet>`; with the relationship id of `<externalBook>` (its target is the file).
pub(crate) fn parse_link(bytes: &[u8]) -> Result<(ExternalBook, Option<String>), BoxError> {
    let mut reader = xml::reader(bytes);
    let mut buf = Vec::new();
    let mut text_buf = Vec::new();
    let mut book = ExternalBook::default();
    let mut rid = None;
    // The sheet whose cached cells are being read, and the current cell's position and type.
    let mut current: Option<usize> = None;
    let mut cell: Option<((u32, u32), Option<String>)> = None;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "externalBook" => rid = xml::attr(&e, "id")?,
                "definedName" => {
                    let refers_to = xml::attr(&e, "refersTo")?.unwrap_or_default();
                    let refers_to = refers_to.trim();
                    book.names.push(ExternalName {
                        name: xml::attr(&e, "name")?.unwrap_or_default(),
                        refers_to: refers_to.strip_prefix('=').unwrap_or(refers_to).to_owned(),
                        sheet: xml::attr(&e, "sheetId")?.and_then(|v| v.trim().parse().ok()),
                    });
                }
                "sheetName" => book.sheets.push(ExternalSheet {
                    name: xml::attr(&e, "val")?.unwrap_or_default(),
                    cells: None,
                }),
                "sheetData" => {
                    let id = xml::attr(&e, "sheetId")?
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .ok_or("a cached sheet without a sheetId")?;
                    let refresh_error = matches!(
                        xml::attr(&e, "refreshError")?.as_deref(),
                        Some("1" | "true")
                    );
                    current = None;
                    if let Some(sheet) = book.sheets.get_mut(id)
                        && !refresh_error
                    {
                        sheet.cells = Some(Vec::new());
                        current = Some(id);
                    }
                }
                "cell" => {
                    let pos = xml::attr(&e, "r")?
                        .as_deref()
                        .and_then(xml::parse_cell_ref)
                        .ok_or("a cached cell without a reference")?;
                    cell = Some((pos, xml::attr(&e, "t")?));
                }
                "v" => {
                    let text = xml::read_text(&mut reader, &mut text_buf, "v")?;
                    if let (Some(((row, col), t)), Some(i)) = (cell.take(), current) {
                        let value = match t.as_deref() {
                            Some("str" | "s" | "inlineStr") => CellValue::Text(text),
                            Some("b") => CellValue::Bool(matches!(text.trim(), "1" | "true")),
                            Some("e") => CellValue::Error(text),
                            _ => match text.trim().parse::<f64>() {
                                Ok(n) => CellValue::Number(n),
                                Err(_) => CellValue::Text(text),
                            },
                        };
                        if let Some(cells) = book.sheets.get_mut(i).and_then(|s| s.cells.as_mut()) {
                            cells.push((row, col, value));
                        }
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "sheetData" => current = None,
            Event::Eof => break,
            _ => {}
        }
    }
    for s in &mut book.sheets {
        if let Some(cells) = s.cells.as_mut() {
            cells.sort_by_key(|c| (c.0, c.1));
        }
    }
    Ok((book, rid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_values_of_a_link() {
        let xml = br#"<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook xmlns:r="r" r:id="rId1"><sheetNames><sheetName val="Prices"/><sheetName val="Other"/><sheetName val="Gone"/></sheetNames><definedNames><definedName name="Rate" refersTo="=Prices!$B$2"/><definedName name="Local" refersTo="=Other!$A$1" sheetId="1"/></definedNames><sheetDataSet><sheetData sheetId="0"><row r="2"><cell r="B2"><v>12.5</v></cell><cell r="A2" t="str"><v>gold</v></cell></row><row r="3"><cell r="A3" t="b"><v>1</v></cell><cell r="B3" t="e"><v>#N/A</v></cell></row></sheetData><sheetData sheetId="2" refreshError="1"/></sheetDataSet></externalBook></externalLink>"#;
        let (book, rid) = parse_link(xml).unwrap();
        assert_eq!(rid.as_deref(), Some("rId1"));
        assert_eq!(book.sheets.len(), 3);
        assert_eq!(
            book.names,
            vec![
                ExternalName {
                    name: "Rate".into(),
                    refers_to: "Prices!$B$2".into(),
                    sheet: None
                },
                ExternalName {
                    name: "Local".into(),
                    refers_to: "Other!$A$1".into(),
                    sheet: Some(1)
                },
            ]
        );
        assert_eq!(
            book_file_name("file:///C:\\Data\\Prices.xlsx"),
            "Prices.xlsx"
        );
        assert_eq!(book_file_name("C:\\Data\\[Prices.xlsx]"), "Prices.xlsx");
        assert_eq!(book_file_name("../other/Book2.xlsm"), "Book2.xlsm");
        assert_eq!(book.sheets[0].name, "Prices");
        assert_eq!(
            book.sheets[0].cells.as_deref().unwrap(),
            &[
                (1, 0, CellValue::Text("gold".into())),
                (1, 1, CellValue::Number(12.5)),
                (2, 0, CellValue::Bool(true)),
                (2, 1, CellValue::Error("#N/A".into())),
            ]
        );
        // No cache, and a cache that failed to refresh.
        assert_eq!(book.sheets[1].cells, None);
        assert_eq!(book.sheets[2].cells, None);
        let ids = reference_ids(br#"<workbook><externalReferences><externalReference r:id="rId7"/><externalReference r:id="rId3"/></externalReferences></workbook>"#).unwrap();
        assert_eq!(ids, vec!["rId7", "rId3"]);
    }
}
