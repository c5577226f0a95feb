//! Excel tables (ListObjects): the table parts (`xl/tables/tableN.xml`) linked from each
//! worksheet's relationships, read for their name, extent, header and totals rows and column
//! names, which structured references (`Table1[Qty]`) are resolved against.

use quick_xml::events::Event;

use crate::error::{BoxError, LoadError};
use crate::guard::Package;
use crate::model::Table;
use crate::package;
use crate::xml;

/// The relationships part of the part `part` (`xl/worksheets/sheet1.xml` →
/// `xl/worksheets/_rels/sheet1.xml.rels`).
fn rels_path(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Resolves a relationship target against the folder of the part that holds it, with `..`
/// steps applied (`xl/worksheets/` + `../tables/table1.xml` → `xl/tables/table1.xml`).
fn resolve_target(part: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_owned();
    }
    let mut segments: Vec<&str> = match part.rsplit_once('/') {
        Some((dir, _)) => dir.split('/').collect(),
        None => Vec::new(),
    };
    for seg in target.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

/// The tables of the worksheet `sheet` (index in the loaded sheets) whose part is `part`.
/// A table part that is missing or unreadable is reported in `warnings` and skipped: the
/// formulas that use it then answer `#REF!`.
pub(crate) fn read_sheet_tables(
    pkg: &mut Package<'_>,
    sheet: usize,
    sheet_name: &str,
    part: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Table>, LoadError> {
    let rels_path = rels_path(part);
    let Some(bytes) = pkg.read(&rels_path)? else {
        return Ok(Vec::new());
    };
    let rels = match package::parse_rels(&bytes) {
        Ok(rels) => rels,
        Err(e) => {
            warnings.push(format!(
                "sheet '{sheet_name}': cannot parse the part '{rels_path}' ({e}); its tables are \
                 not read"
            ));
            return Ok(Vec::new());
        }
    };
    let mut targets: Vec<(&String, &String)> = rels
        .iter()
        .filter(|(_, (typ, _))| typ.ends_with("/table"))
        .map(|(id, (_, target))| (id, target))
        .collect();
    // Relationship ids in a stable order (the map's order is not).
    targets.sort();
    let mut tables = Vec::new();
    for (_, target) in targets {
        let path = resolve_target(part, target);
        let Some(bytes) = pkg.read(&path)? else {
            warnings.push(format!(
                "sheet '{sheet_name}': the table part '{path}' is missing"
            ));
            continue;
        };
        match parse_table(&bytes, sheet) {
            Ok(table) => tables.push(table),
            Err(e) => warnings.push(format!(
                "sheet '{sheet_name}': cannot read the table part '{path}' ({e}); it is skipped"
            )),
        }
    }
    Ok(tables)
}

/// Parses a table part.
pub(crate) fn parse_table(bytes: &[u8], sheet: usize) -> Result<Table, BoxError> {
    let mut reader = xml::reader(bytes);
    let mut buf = Vec::new();
    let mut table: Option<Table> = None;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "table" => {
                let name = xml::attr(&e, "name")?.unwrap_or_default();
                let display_name = xml::attr(&e, "displayName")?.unwrap_or_else(|| name.clone());
                let reference = xml::attr(&e, "ref")?.ok_or("the table has no `ref`")?;
                let range = xml::parse_range_ref(&reference)
                    .ok_or_else(|| format!("the table's ref `{reference}` is not a range"))?;
                let count = |v: Option<String>, default: u32| -> Result<u32, BoxError> {
                    match v {
                        None => Ok(default),
                        Some(v) => Ok(v.trim().parse::<u32>()?),
                    }
                };
                let header_row_count = count(xml::attr(&e, "headerRowCount")?, 1)?;
                let totals_row_count = count(xml::attr(&e, "totalsRowCount")?, 0)?;
                if header_row_count > 1 || totals_row_count > 1 {
                    return Err("a table has at most one header row and one totals row".into());
                }
                table = Some(Table {
                    sheet,
                    name,
                    display_name,
                    range,
                    header_row_count,
                    totals_row_count,
                    columns: Vec::new(),
                    filtered: false,
                });
            }
            // A filter criterion on a column (not the empty `<filterColumn/>` of a bare button).
            Event::Start(e)
                if matches!(
                    e.local_name().as_ref(),
                    "filters"
                        | "customFilters"
                        | "top10"
                        | "dynamicFilter"
                        | "colorFilter"
                        | "iconFilter"
                ) =>
            {
                if let Some(t) = table.as_mut() {
                    t.filtered = true;
                }
            }
            Event::Start(e) if e.local_name().as_ref() == "tableColumn" => {
                let name = xml::attr(&e, "name")?.unwrap_or_default();
                if let Some(t) = table.as_mut() {
                    t.columns.push(xml::unescape_ooxml(&name).into_owned());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let table = table.ok_or("no <table> element")?;
    let width = table.range.3 - table.range.1 + 1;
    if table.columns.len() != width as usize {
        return Err(format!(
            "the table '{}' spans {width} columns but names {}",
            table.display_name,
            table.columns.len()
        )
        .into());
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_against_the_sheet_folder() {
        assert_eq!(
            rels_path("xl/worksheets/sheet1.xml"),
            "xl/worksheets/_rels/sheet1.xml.rels"
        );
        assert_eq!(
            resolve_target("xl/worksheets/sheet1.xml", "../tables/table1.xml"),
            "xl/tables/table1.xml"
        );
        assert_eq!(
            resolve_target("xl/worksheets/sheet1.xml", "/xl/tables/t.xml"),
            "xl/tables/t.xml"
        );
    }

    #[test]
    fn table_part() {
        let xml = br#"<?xml version="1.0"?><table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="1" name="Table1" displayName="Sales" ref="B2:D7" totalsRowCount="1"><autoFilter ref="B2:D6"/><tableColumns count="3"><tableColumn id="1" name="Region"/><tableColumn id="2" name="Unit Cost"/><tableColumn id="3" name="a_x000a_b"><calculatedColumnFormula>Sales[[#This Row],[Unit Cost]]*2</calculatedColumnFormula></tableColumn></tableColumns></table>"#;
        let t = parse_table(xml, 2).unwrap();
        assert_eq!(
            t,
            Table {
                sheet: 2,
                name: "Table1".into(),
                display_name: "Sales".into(),
                range: (1, 1, 6, 3),
                header_row_count: 1,
                totals_row_count: 1,
                columns: vec!["Region".into(), "Unit Cost".into(), "a\nb".into()],
                filtered: false,
            }
        );
        let filtered = br#"<table name="T" ref="A1:A3"><autoFilter ref="A1:A3"><filterColumn colId="0"><filters><filter val="x"/></filters></filterColumn></autoFilter><tableColumns><tableColumn name="x"/></tableColumns></table>"#;
        assert!(parse_table(filtered, 0).unwrap().filtered);
        let bad = br#"<table name="T" ref="A1:C3"><tableColumns><tableColumn name="x"/></tableColumns></table>"#;
        assert!(parse_table(bad, 0).is_err());
        assert!(parse_table(br#"<table name="T"/>"#, 0).is_err());
    }
}
