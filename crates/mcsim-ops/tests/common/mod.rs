//! Writing small test workbooks as real `.xlsx` files.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::Path;

/// A cell's row, column and `<c>` element.
type CellXml = (u32, u32, String);

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes an `.xlsx` from `(reference, content)` pairs, as `mcsim_engine::quick::workbook` reads
/// them: `("A1", "5")`, `("Data!B2", "label")`, `("C1", "=A1*2")`, `("D1", "{=A1*2}")` for a
/// single-cell array formula, and `("C1", "=RiskMean(B1)|12.5")` for a formula with the value
/// the file stores (`|` separates them). `names` are defined names `(name, "Sheet1!$A$1:$B$2")`.
pub fn write_book(path: &Path, cells: &[(&str, &str)], names: &[(&str, &str)]) {
    write_book_with_parts(path, cells, names, &[]);
}

/// [`write_book`] with extra parts stored as given (`("xl/tables/table1.xml", xml)`, a sheet's
/// relationships `xl/worksheets/_rels/sheet1.xml.rels`, ...). Sheets are numbered in the order
/// they are first mentioned.
pub fn write_book_with_parts(
    path: &Path,
    cells: &[(&str, &str)],
    names: &[(&str, &str)],
    extra: &[(&str, String)],
) {
    let mut sheets: Vec<(String, Vec<CellXml>)> = Vec::new();
    for (r, content) in cells {
        let (sheet, addr) = match r.rsplit_once('!') {
            Some((s, a)) => (s.trim_matches('\'').to_string(), a),
            None => ("Sheet1".to_string(), *r),
        };
        let (row, col) = mcsim_formula::parse_a1(addr).expect("a cell reference");
        let i = match sheets.iter().position(|s| s.0 == sheet) {
            Some(i) => i,
            None => {
                sheets.push((sheet, Vec::new()));
                sheets.len() - 1
            }
        };
        let (body, stored) = match content.split_once('|') {
            Some((b, v)) if content.starts_with('=') || content.starts_with("{=") => (b, Some(v)),
            _ => (*content, None),
        };
        let a1 = mcsim_formula::a1(row, col);
        let stored_xml = |v: Option<&str>| match v {
            Some(v) if v.parse::<f64>().is_ok() => format!("<v>{v}</v>"),
            Some(v) => format!("<v>{}</v>", escape(v)),
            None => String::new(),
        };
        let t_attr = match stored {
            Some(v) if v.parse::<f64>().is_err() => " t=\"str\"",
            _ => "",
        };
        let xml = if let Some(f) = body.strip_prefix("{=") {
            let f = f.trim_end_matches('}');
            format!(
                "<c r=\"{a1}\"{t_attr}><f t=\"array\" ref=\"{a1}\">{}</f>{}</c>",
                escape(f),
                stored_xml(stored)
            )
        } else if let Some(f) = body.strip_prefix('=') {
            format!(
                "<c r=\"{a1}\"{t_attr}><f>{}</f>{}</c>",
                escape(f),
                stored_xml(stored)
            )
        } else if body.parse::<f64>().is_ok() {
            format!("<c r=\"{a1}\"><v>{body}</v></c>")
        } else {
            format!(
                "<c r=\"{a1}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                escape(body)
            )
        };
        sheets[i].1.push((row, col, xml));
    }
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG_REL: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let mut parts: Vec<(String, String)> = Vec::new();
    let overrides: String = (1..=sheets.len())
        .map(|i| format!("<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"))
        .collect();
    parts.push((
        "[Content_Types].xml".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#
        ),
    ));
    parts.push((
        "_rels/.rels".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        ),
    ));
    let sheet_list: String = sheets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
                escape(&s.0),
                i + 1,
                i + 1
            )
        })
        .collect();
    let defined: String = if names.is_empty() {
        String::new()
    } else {
        format!(
            "<definedNames>{}</definedNames>",
            names
                .iter()
                .map(|(n, r)| format!("<definedName name=\"{n}\">{}</definedName>", escape(r)))
                .collect::<String>()
        )
    };
    parts.push((
        "xl/workbook.xml".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{sheet_list}</sheets>{defined}</workbook>"#
        ),
    ));
    let rels: String = (1..=sheets.len())
        .map(|i| {
            format!(
                "<Relationship Id=\"rId{i}\" Type=\"{REL}/worksheet\" Target=\"worksheets/sheet{i}.xml\"/>"
            )
        })
        .collect();
    parts.push((
        "xl/_rels/workbook.xml.rels".into(),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}">{rels}</Relationships>"#
        ),
    ));
    for (i, (_, cells)) in sheets.iter_mut().enumerate() {
        cells.sort_by_key(|c| (c.0, c.1));
        let mut data = String::new();
        let mut k = 0;
        while k < cells.len() {
            let row = cells[k].0;
            data.push_str(&format!("<row r=\"{}\">", row + 1));
            while k < cells.len() && cells[k].0 == row {
                data.push_str(&cells[k].2);
                k += 1;
            }
            data.push_str("</row>");
        }
        parts.push((
            format!("xl/worksheets/sheet{}.xml", i + 1),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}"><sheetData>{data}</sheetData></worksheet>"#
            ),
        ));
    }
    for (name, content) in extra {
        parts.push((name.to_string(), content.clone()));
    }
    let file = std::fs::File::create(path).expect("cannot create the workbook");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in &parts {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

/// Re-writes the archive with `(part, from, to)` replacements made (each must apply): how a
/// test adds what [`write_book_with_parts`] does not write (rules after a sheet's data, links
/// in the workbook part).
pub fn edit_parts(path: &Path, edits: &[(String, String, String)]) {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut parts: Vec<(String, String)> = Vec::new();
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        parts.push((f.name().unwrap().into_owned(), s));
    }
    for (part, from, to) in edits {
        let (_, content) = parts
            .iter_mut()
            .find(|(name, _)| name == part)
            .unwrap_or_else(|| panic!("no part {part}"));
        assert!(content.contains(from.as_str()), "{part} lacks {from}");
        *content = content.replace(from.as_str(), to);
    }
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for (name, content) in &parts {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}
