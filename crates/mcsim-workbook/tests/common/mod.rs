//! Builds small `.xlsx` files in memory for the tests.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const REL_TYPE: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

enum SheetSpec {
    Work { name: String, data: String },
    Chart { name: String },
}

/// A minimal workbook: worksheets given as the inner XML of `<sheetData>`, chart sheets,
/// defined names, the 1904 flag, shared strings and extra raw entries.
#[derive(Default)]
pub struct XlsxBuilder {
    sheets: Vec<SheetSpec>,
    defined_names: String,
    date1904: bool,
    shared_strings: Option<Vec<String>>,
    extra: Vec<(String, Vec<u8>)>,
    omit: Vec<String>,
}

pub fn book() -> XlsxBuilder {
    XlsxBuilder::default()
}

/// A one-sheet workbook ("Sheet1") with the given `<sheetData>` content.
pub fn one_sheet(sheet_data: &str) -> Vec<u8> {
    book().sheet("Sheet1", sheet_data).build()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl XlsxBuilder {
    pub fn sheet(mut self, name: &str, sheet_data: &str) -> Self {
        self.sheets.push(SheetSpec::Work {
            name: name.to_owned(),
            data: sheet_data.to_owned(),
        });
        self
    }

    pub fn chart_sheet(mut self, name: &str) -> Self {
        self.sheets.push(SheetSpec::Chart {
            name: name.to_owned(),
        });
        self
    }

    /// Raw `<definedName>` elements.
    pub fn defined_names(mut self, xml: &str) -> Self {
        self.defined_names = xml.to_owned();
        self
    }

    pub fn date1904(mut self) -> Self {
        self.date1904 = true;
        self
    }

    pub fn shared_strings(mut self, strings: &[&str]) -> Self {
        self.shared_strings = Some(strings.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// An extra entry, stored as given.
    pub fn entry(mut self, name: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.extra.push((name.to_owned(), bytes.into()));
        self
    }

    /// Leaves out a standard entry (e.g. `xl/workbook.xml`).
    pub fn without(mut self, name: &str) -> Self {
        self.omit.push(name.to_owned());
        self
    }

    pub fn build(self) -> Vec<u8> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut overrides = String::new();
        let mut wb_rels = String::new();
        let mut sheets_xml = String::new();
        for (i, spec) in self.sheets.iter().enumerate() {
            let n = i + 1;
            match spec {
                SheetSpec::Work { name, data } => {
                    let part = format!("xl/worksheets/sheet{n}.xml");
                    files.push((
                        part.clone(),
                        format!(
                            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetData>{data}</sheetData></worksheet>"#
                        )
                        .into_bytes(),
                    ));
                    overrides.push_str(&format!(r#"<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
                    wb_rels.push_str(&format!(r#"<Relationship Id="rId{n}" Type="{REL_TYPE}/worksheet" Target="worksheets/sheet{n}.xml"/>"#));
                    sheets_xml.push_str(&format!(
                        r#"<sheet name="{}" sheetId="{n}" r:id="rId{n}"/>"#,
                        escape(name)
                    ));
                }
                SheetSpec::Chart { name } => {
                    let part = format!("xl/chartsheets/sheet{n}.xml");
                    files.push((
                        part.clone(),
                        format!(
                            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<chartsheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheetPr/><sheetViews><sheetView workbookViewId="0"/></sheetViews><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></chartsheet>"#
                        )
                        .into_bytes(),
                    ));
                    overrides.push_str(&format!(r#"<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.chartsheet+xml"/>"#));
                    wb_rels.push_str(&format!(r#"<Relationship Id="rId{n}" Type="{REL_TYPE}/chartsheet" Target="chartsheets/sheet{n}.xml"/>"#));
                    sheets_xml.push_str(&format!(
                        r#"<sheet name="{}" sheetId="{n}" r:id="rId{n}"/>"#,
                        escape(name)
                    ));
                }
            }
        }
        if let Some(strings) = &self.shared_strings {
            let mut sst = format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="{MAIN_NS}" count="{0}" uniqueCount="{0}">"#,
                strings.len()
            );
            for s in strings {
                sst.push_str(&format!(
                    r#"<si><t xml:space="preserve">{}</t></si>"#,
                    escape(s)
                ));
            }
            sst.push_str("</sst>");
            files.push(("xl/sharedStrings.xml".to_owned(), sst.into_bytes()));
            overrides.push_str(r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#);
            wb_rels.push_str(&format!(r#"<Relationship Id="rId900" Type="{REL_TYPE}/sharedStrings" Target="sharedStrings.xml"/>"#));
        }
        let workbook_pr = if self.date1904 {
            r#"<workbookPr date1904="1"/>"#
        } else {
            "<workbookPr/>"
        };
        let names = if self.defined_names.is_empty() {
            String::new()
        } else {
            format!("<definedNames>{}</definedNames>", self.defined_names)
        };
        files.push((
            "xl/workbook.xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{workbook_pr}<sheets>{sheets_xml}</sheets>{names}<calcPr calcId="191029"/></workbook>"#
            )
            .into_bytes(),
        ));
        files.push((
            "xl/_rels/workbook.xml.rels".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{wb_rels}</Relationships>"#
            )
            .into_bytes(),
        ));
        files.push((
            "_rels/.rels".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL_TYPE}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            )
            .into_bytes(),
        ));
        files.push((
            "[Content_Types].xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>"#
            )
            .into_bytes(),
        ));
        files.retain(|(name, _)| !self.omit.contains(name));
        files.extend(self.extra);
        zip_of(&files)
    }
}

/// A deflated zip of the given entries, in order.
pub fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(false);
    for (name, bytes) in files {
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Looks a cell up by its A1 name.
pub fn cell<'a>(sheet: &'a mcsim_workbook::Sheet, a1: &str) -> &'a mcsim_workbook::Cell {
    let (row, col) = parse_a1(a1);
    sheet
        .cells
        .iter()
        .find(|c| c.row == row && c.col == col)
        .unwrap_or_else(|| panic!("no cell {a1} in sheet {}", sheet.name))
}

pub fn parse_a1(a1: &str) -> (u32, u32) {
    let split = a1.find(|c: char| c.is_ascii_digit()).unwrap();
    let (letters, digits) = a1.split_at(split);
    let col = letters
        .bytes()
        .fold(0u32, |acc, b| acc * 26 + u32::from(b - b'A') + 1);
    (digits.parse::<u32>().unwrap() - 1, col - 1)
}
