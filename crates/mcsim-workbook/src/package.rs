//! The package structure read by this crate itself: the workbook part's location
//! (`_rels/.rels`), the sheet list with each sheet's part (`xl/workbook.xml` and its
//! relationships) and the defined names with their `localSheetId` scope, which calamine
//! drops.

use std::collections::HashMap;

use quick_xml::events::Event;

use crate::error::{BoxError, LoadError};
use crate::guard::Package;
use crate::xml;

/// What kind of sheet a `<sheet>` entry is, from its relationship type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SheetKind {
    Worksheet,
    Chartsheet,
    Other(String),
}

/// One `<sheet>` of `<sheets>`, in order.
#[derive(Debug, Clone)]
pub(crate) struct SheetEntry {
    pub(crate) name: String,
    pub(crate) kind: SheetKind,
    /// The sheet's part, resolved like calamine resolves it; `None` when the relationship
    /// is missing.
    pub(crate) part: Option<String>,
}

/// One `<definedName>` as stored.
#[derive(Debug, Clone)]
pub(crate) struct RawName {
    pub(crate) name: String,
    pub(crate) local_sheet_id: Option<String>,
    pub(crate) hidden: bool,
    pub(crate) formula: String,
}

/// What this crate reads from the workbook part.
#[derive(Debug, Clone)]
pub(crate) struct WorkbookInfo {
    /// Folder of the workbook part, with a trailing `/` (`xl/`), as calamine's `xl_path`.
    pub(crate) dir: String,
    pub(crate) sheets: Vec<SheetEntry>,
    pub(crate) names: Vec<RawName>,
}

/// The workbook part's folder and file name, from the package relationships (as calamine
/// finds it), defaulting to `xl/` + `workbook.xml`.
pub(crate) fn workbook_location(pkg: &mut Package<'_>) -> Result<(String, String), LoadError> {
    let mut dir = "xl/".to_owned();
    let mut name = "workbook.xml".to_owned();
    let Some(bytes) = pkg.read("_rels/.rels")? else {
        return Ok((dir, name));
    };
    let rels = parse_rels(&bytes)
        .map_err(|e| LoadError::corrupt_with(pkg.file, "cannot parse the part '_rels/.rels'", e))?;
    if let Some((_, target)) = rels
        .values()
        .find(|(typ, _)| typ.ends_with("/relationships/officeDocument"))
    {
        let (d, n) = match target.rfind('/') {
            Some(i) => target.split_at(i + 1),
            None => ("", target.as_str()),
        };
        dir = d.strip_prefix('/').unwrap_or(d).to_owned();
        if !n.is_empty() {
            n.clone_into(&mut name);
        }
    }
    Ok((dir, name))
}

/// Reads the sheet list and the defined names from the workbook part `dir` + `name`.
pub(crate) fn read_workbook(
    pkg: &mut Package<'_>,
    dir: &str,
    name: &str,
) -> Result<WorkbookInfo, LoadError> {
    let path = format!("{dir}{name}");
    let Some(bytes) = pkg.read(&path)? else {
        return Err(LoadError::corrupt(
            pkg.file,
            format!("it has no workbook part '{path}' (is it an Excel file?)"),
        ));
    };
    let rels_path = format!("{dir}_rels/{name}.rels");
    let rels = match pkg.read(&rels_path)? {
        Some(b) => parse_rels(&b).map_err(|e| {
            LoadError::corrupt_with(pkg.file, format!("cannot parse the part '{rels_path}'"), e)
        })?,
        None => HashMap::new(),
    };
    let (sheets, names) = parse_workbook(&bytes).map_err(|e| {
        LoadError::corrupt_with(pkg.file, format!("cannot parse the part '{path}'"), e)
    })?;
    let sheets = sheets
        .into_iter()
        .map(|(sheet_name, rel_id)| {
            let (kind, part) = match rels.get(&rel_id) {
                Some((typ, target)) => {
                    let kind = match typ.rsplit('/').next() {
                        Some("worksheet") => SheetKind::Worksheet,
                        Some("chartsheet") => SheetKind::Chartsheet,
                        Some(other) => SheetKind::Other(other.to_owned()),
                        None => SheetKind::Other(typ.clone()),
                    };
                    let part = match target.strip_prefix('/') {
                        Some(abs) => abs.to_owned(),
                        None => format!("{dir}{target}"),
                    };
                    (kind, Some(part))
                }
                None => (SheetKind::Other("missing relationship".to_owned()), None),
            };
            SheetEntry {
                name: sheet_name,
                kind,
                part,
            }
        })
        .collect();
    Ok(WorkbookInfo {
        dir: dir.to_owned(),
        sheets,
        names,
    })
}

/// `Id` → (`Type`, `Target`) of a relationships part.
pub(crate) fn parse_rels(bytes: &[u8]) -> Result<HashMap<String, (String, String)>, BoxError> {
    let mut reader = xml::reader(bytes);
    let mut buf = Vec::new();
    let mut rels = HashMap::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                if let Some(id) = xml::attr(&e, "Id")? {
                    let typ = xml::attr(&e, "Type")?.unwrap_or_default();
                    let target = xml::attr(&e, "Target")?.unwrap_or_default();
                    rels.insert(id, (typ, target));
                }
            }
            Event::Eof => return Ok(rels),
            _ => {}
        }
    }
}

type ParsedWorkbook = (Vec<(String, String)>, Vec<RawName>);

/// The `<sheet>` entries (name, relationship id) and the `<definedName>`s.
fn parse_workbook(bytes: &[u8]) -> Result<ParsedWorkbook, BoxError> {
    let mut reader = xml::reader(bytes);
    let mut buf = Vec::new();
    let mut text_buf = Vec::new();
    let mut sheets = Vec::new();
    let mut names = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "sheet" => {
                let name = xml::attr(&e, "name")?.unwrap_or_default();
                let rel_id = xml::attr(&e, "id")?.unwrap_or_default();
                sheets.push((name, rel_id));
            }
            Event::Start(e) if e.local_name().as_ref() == "definedName" => {
                let name = xml::attr(&e, "name")?;
                let local_sheet_id = xml::attr(&e, "localSheetId")?;
                let hidden = xml::attr(&e, "hidden")?.is_some_and(|v| v == "1" || v == "true");
                let text = xml::read_text(&mut reader, &mut text_buf, "definedName")?;
                if let Some(name) = name {
                    let formula = match text.strip_prefix('=') {
                        Some(rest) => rest.to_owned(),
                        None => text,
                    };
                    names.push(RawName {
                        name,
                        local_sheet_id,
                        hidden,
                        formula,
                    });
                }
            }
            Event::Eof => return Ok((sheets, names)),
            _ => {}
        }
    }
}
