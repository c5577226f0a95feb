//! Writing small test workbooks as real `.xlsx` files, and evaluating or simulating them.
// Each test binary compiles this module and uses only some of its helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod xlsx;

use mcsim_engine::{Evaluator, Graph, Model, Value};
use mcsim_ops::run::{OutputReport, RunOptions, RunReport, run};
use mcsim_workbook::{LoadOptions, load};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
pub use xlsx::{MAIN, PKG_REL, REL, escape};

/// A cell's row, column and `<c>` element.
type CellXml = (u32, u32, String);

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
    let mut sheet_data: Vec<(String, String)> = Vec::new();
    for (name, cells) in sheets.iter_mut() {
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
        sheet_data.push((name.clone(), data));
    }
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
    let sheet_refs: Vec<(&str, &str)> = sheet_data
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_str()))
        .collect();
    let mut parts = xlsx::workbook_parts(&sheet_refs, &defined);
    for (name, content) in extra {
        parts.push((name.to_string(), content.clone()));
    }
    let parts: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_bytes()))
        .collect();
    xlsx::write_zip(path, &parts);
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

/// The relationship type of a table part.
pub const TABLE_REL: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table";

/// A table part (`xl/tables/tableN.xml`) as Excel writes it, with a header row.
#[derive(Default)]
pub struct Table<'a> {
    pub id: u32,
    /// The name, also the display name.
    pub name: &'a str,
    pub reference: &'a str,
    pub columns: &'a [&'a str],
    /// A totals row (`totalsRowCount="1"`).
    pub totals: bool,
    /// The content of the `<autoFilter>` (a filtering column); `None`: an empty `<autoFilter/>`.
    pub filter: Option<&'a str>,
    /// Excel's `<tableStyleInfo>` after the columns.
    pub style: bool,
}

impl Table<'_> {
    pub fn part(&self) -> String {
        let cols: String = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!(r#"<tableColumn id="{}" name="{c}"/>"#, i + 1))
            .collect();
        let (id, name, reference) = (self.id, self.name, self.reference);
        let totals = if self.totals {
            r#" totalsRowCount="1""#
        } else {
            ""
        };
        let filter = match self.filter {
            Some(f) => format!(r#"<autoFilter ref="{reference}">{f}</autoFilter>"#),
            None => format!(r#"<autoFilter ref="{reference}"/>"#),
        };
        let style = if self.style {
            r#"<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" showRowStripes="1" showColumnStripes="0"/>"#
        } else {
            ""
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<table xmlns="{MAIN}" id="{id}" name="{name}" displayName="{name}" ref="{reference}"{totals}>{filter}<tableColumns count="{}">{cols}</tableColumns>{style}</table>"#,
            self.columns.len()
        )
    }
}

/// The relationships of sheet `n`, linking the table part `table`.
pub fn sheet_rels(n: u32, table: u32) -> (String, String) {
    (
        format!("xl/worksheets/_rels/sheet{n}.xml.rels"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{TABLE_REL}" Target="../tables/table{table}.xml"/></Relationships>"#
        ),
    )
}

/// Links the part `xl/externalLinks/externalLink1.xml` (already in the file) from the workbook
/// as the external book `[1]`, as Excel does: `<externalReferences>` after `<sheets>` and a
/// relationship `rId99`.
pub fn link_external_book(path: &Path) {
    edit_parts(
        path,
        &[
            (
                "xl/workbook.xml".into(),
                "</sheets>".into(),
                r#"</sheets><externalReferences><externalReference r:id="rId99"/></externalReferences>"#.into(),
            ),
            (
                "xl/_rels/workbook.xml.rels".into(),
                "</Relationships>".into(),
                format!(r#"<Relationship Id="rId99" Type="{REL}/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>"#),
            ),
        ],
    );
}

/// Loads and evaluates the workbook once; the closure returns a cell's value by
/// `Sheet!A1` reference.
pub fn evaluate(path: &Path) -> impl Fn(&str) -> Value + use<> {
    let wb = load(path, &LoadOptions::default()).unwrap();
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let values: Vec<Value> = ev.values().to_vec();
    move |r: &str| {
        let (sheet, a1) = r.split_once('!').unwrap();
        let (row, col) = mcsim_formula::parse_a1(a1).unwrap();
        let s = model.sheet_id(sheet).unwrap();
        values[model.find(s, row, col).unwrap() as usize].clone()
    }
}

/// Each cell is a number within 1e-12 (relative, absolute below 1) of its expected value.
pub fn check(get: &dyn Fn(&str) -> Value, cases: &[(&str, f64)]) {
    for &(cell, want) in cases {
        match get(cell) {
            Value::Number(n) => assert!(
                (n - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{cell}: {n} vs {want}"
            ),
            other => panic!("{cell}: {other:?} vs {want}"),
        }
    }
}

/// Runs `n` iterations of the workbook on two threads with `seed`.
pub fn simulate(path: &Path, n: u64, seed: u64) -> RunReport {
    run(
        &RunOptions {
            workbook: path.to_path_buf(),
            iterations: Some(n),
            seed: Some(seed),
            threads: Some(2),
            ..RunOptions::default()
        },
        &|_, _| {},
    )
    .unwrap()
}

/// The output named `name`; panics with the names there are.
pub fn output<'a>(r: &'a RunReport, name: &str) -> &'a OutputReport {
    r.outputs
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no output {name}: {:?}",
                r.outputs.iter().map(|o| &o.name).collect::<Vec<_>>()
            )
        })
}

/// A fresh (emptied) directory `group/name` under the target's temporary directory.
pub fn target_temp(group: &str, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
