//! `save_with_values`: a copy with new cached values, everything else preserved.

mod common;

use std::io::{Cursor, Read};

use common::{book, cell};
use mcsim_workbook::{
    CellUpdate, CellValue, Formula, LoadOptions, SaveError, UpdateValue, Workbook, load_bytes,
    save_with_values,
};
use zip::ZipArchive;

fn load(bytes: &[u8]) -> Workbook {
    load_bytes(bytes, "test.xlsx", &LoadOptions::default()).unwrap()
}

fn upd(sheet: &str, a1: &str, value: UpdateValue) -> CellUpdate {
    let (row, col) = common::parse_a1(a1);
    CellUpdate {
        sheet: sheet.to_owned(),
        row,
        col,
        value,
    }
}

/// (name, compression method, crc, raw compressed bytes) of every entry, in order.
fn raw_entries(bytes: &[u8]) -> Vec<(String, String, u32, Vec<u8>)> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index_raw(i).unwrap();
            let mut raw = Vec::new();
            f.read_to_end(&mut raw).unwrap();
            (
                f.name().unwrap().into_owned(),
                format!("{:?}", f.compression()),
                f.crc32(),
                raw,
            )
        })
        .collect()
}

fn model() -> Vec<u8> {
    book()
        .sheet(
            "Inputs",
            r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><f>RiskNormal(10,2)</f><v>10</v></c></row>
               <row r="3"><c r="B3" s="4"><f>RiskMean(B1)</f><v>10</v></c><c r="C3" t="str"><f>IF(B3&gt;0,"up","down")</f><v>up</v></c></row>
               <row r="4"><c r="B4"><f>B3&gt;5</f><v>1</v></c></row>"#,
        )
        .sheet(
            "Report",
            r#"<row r="2"><c r="A2"><f>Inputs!B3*2</f><v>20</v></c></row>"#,
        )
        .shared_strings(&["Revenue"])
        .entry("xl/custom/keep.bin", vec![1u8, 2, 3, 4, 5])
        .build()
}

#[test]
fn updated_values_read_back_and_formulas_stay() {
    let original = model();
    let out = save_with_values(
        &original,
        &[
            upd("Inputs", "B3", UpdateValue::Number(10.123_456_789_012_3)),
            upd("Inputs", "C3", UpdateValue::Text("down & out".into())),
            upd("Inputs", "B4", UpdateValue::Bool(false)),
            upd("inputs", "A1", UpdateValue::Error("#N/A".into())),
            // Cells and rows that had no element.
            upd("Inputs", "D3", UpdateValue::Number(-0.5)),
            upd("Inputs", "A2", UpdateValue::Text("new".into())),
            upd("Report", "C9", UpdateValue::Number(1e-12)),
            upd("Report", "A2", UpdateValue::Number(40.0)),
        ],
    )
    .unwrap();
    let wb = load(&out);
    let s = &wb.sheets[0];
    assert_eq!(cell(s, "B3").value, CellValue::Number(10.123_456_789_012_3));
    assert_eq!(
        cell(s, "B3").formula,
        Some(Formula::Text("RiskMean(B1)".into()))
    );
    assert_eq!(cell(s, "C3").value, CellValue::Text("down & out".into()));
    assert_eq!(
        cell(s, "C3").formula,
        Some(Formula::Text("IF(B3>0,\"up\",\"down\")".into()))
    );
    assert_eq!(cell(s, "B4").value, CellValue::Bool(false));
    assert_eq!(cell(s, "A1").value, CellValue::Error("#N/A".into()));
    assert_eq!(cell(s, "D3").value, CellValue::Number(-0.5));
    assert_eq!(cell(s, "A2").value, CellValue::Text("new".into()));
    assert_eq!(cell(s, "A2").formula, None);
    // Untouched cells keep their values and formulas.
    assert_eq!(cell(s, "B1").value, CellValue::Number(10.0));
    assert_eq!(
        cell(s, "B1").formula,
        Some(Formula::Text("RiskNormal(10,2)".into()))
    );
    let r = &wb.sheets[1];
    assert_eq!(cell(r, "A2").value, CellValue::Number(40.0));
    assert_eq!(
        cell(r, "A2").formula,
        Some(Formula::Text("Inputs!B3*2".into()))
    );
    assert_eq!(cell(r, "C9").value, CellValue::Number(1e-12));
    // The style of B3 is kept.
    let xml = entry_text(&out, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(r#"<c r="B3" s="4"><f>RiskMean(B1)</f><v>10.1234567890123</v></c>"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<c r="C3" t="str"><f>"#), "{xml}");
    assert!(xml.contains(r#"<c r="A1" t="e"><v>#N/A</v></c>"#), "{xml}");
}

fn entry_text(bytes: &[u8], name: &str) -> String {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut f = zip.by_name(name).unwrap();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

#[test]
fn untouched_entries_are_byte_identical() {
    let original = model();
    let out =
        save_with_values(&original, &[upd("Report", "A2", UpdateValue::Number(1.5))]).unwrap();
    let before = raw_entries(&original);
    let after = raw_entries(&out);
    assert_eq!(
        before.iter().map(|e| &e.0).collect::<Vec<_>>(),
        after.iter().map(|e| &e.0).collect::<Vec<_>>(),
        "same entries in the same order"
    );
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.1, a.1, "compression of {}", b.0);
        if b.0 == "xl/worksheets/sheet2.xml" {
            assert_ne!(b.3, a.3, "the updated sheet changes");
        } else {
            assert_eq!(b, a, "entry {} must be copied unchanged", b.0);
        }
    }
    // Apart from the cell's value, the updated sheet is the same text.
    let old = entry_text(&original, "xl/worksheets/sheet2.xml");
    let new = entry_text(&out, "xl/worksheets/sheet2.xml");
    assert_eq!(new, old.replace("<v>20</v>", "<v>1.5</v>"));
}

#[test]
fn no_updates_copies_everything() {
    let original = model();
    let out = save_with_values(&original, &[]).unwrap();
    assert_eq!(raw_entries(&original), raw_entries(&out));
}

#[test]
fn refusals() {
    let original = model();
    let err =
        save_with_values(&original, &[upd("Nope", "A1", UpdateValue::Number(1.0))]).unwrap_err();
    assert!(matches!(err, SaveError::UnknownSheet { .. }), "{err}");
    assert!(err.to_string().contains("'Nope'"), "{err}");
    let err = save_with_values(
        &original,
        &[CellUpdate {
            sheet: "Inputs".into(),
            row: 2_000_000,
            col: 0,
            value: UpdateValue::Number(1.0),
        }],
    )
    .unwrap_err();
    assert!(matches!(err, SaveError::OutOfGrid { .. }), "{err}");
    let err = save_with_values(b"not a zip", &[]).unwrap_err();
    assert!(matches!(err, SaveError::Load(_)), "{err}");
}

#[test]
fn chart_sheets_are_not_worksheets() {
    let original = book()
        .sheet("Data", r#"<row r="1"><c r="A1"><v>1</v></c></row>"#)
        .chart_sheet("Chart")
        .build();
    let err =
        save_with_values(&original, &[upd("Chart", "A1", UpdateValue::Number(1.0))]).unwrap_err();
    assert!(matches!(err, SaveError::UnknownSheet { .. }), "{err}");
}

/// Files written by real spreadsheet programs: every formula cell of every sheet gets a new
/// value; reloaded, those cells hold it, and every formula and every other value is unchanged.
#[test]
fn real_files_round_trip() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in [
        "examples/ironcalc_example.xlsx",
        "bench/models/npv_project_risk.xlsx",
    ] {
        let original = std::fs::read(root.join(file)).unwrap();
        let before = load(&original);
        let mut updates = Vec::new();
        for s in &before.sheets {
            for (k, c) in s.cells.iter().enumerate() {
                if c.formula.is_some() {
                    updates.push(CellUpdate {
                        sheet: s.name.clone(),
                        row: c.row,
                        col: c.col,
                        value: UpdateValue::Number(k as f64 + 0.25),
                    });
                }
            }
        }
        assert!(!updates.is_empty(), "{file}");
        let after = load(&save_with_values(&original, &updates).unwrap());
        assert_eq!(before.sheets.len(), after.sheets.len());
        for (b, a) in before.sheets.iter().zip(&after.sheets) {
            assert_eq!(b.cells.len(), a.cells.len(), "{file} {}", b.name);
            for (k, (cb, ca)) in b.cells.iter().zip(&a.cells).enumerate() {
                assert_eq!((cb.row, cb.col), (ca.row, ca.col));
                assert_eq!(cb.formula, ca.formula, "{file} {}", b.name);
                if cb.formula.is_some() {
                    assert_eq!(ca.value, CellValue::Number(k as f64 + 0.25));
                } else {
                    assert_eq!(cb.value, ca.value);
                }
            }
        }
        assert_eq!(before.names, after.names);
    }
}

/// The real workbooks in `../shared/real` (when that folder exists; skipped otherwise): the
/// first 40 formula cells of each sheet get new values; reloaded, they hold them and every
/// cell keeps its formula.
#[test]
fn shared_real_workbooks_round_trip() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let Some(dir) = [root.join("../shared/real"), root.join("../../shared/real")]
        .into_iter()
        .find(|d| d.is_dir())
    else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xlsx" || e == "xlsm"))
        .collect();
    files.sort();
    for path in files {
        let original = std::fs::read(&path).unwrap();
        let Ok(before) = load_bytes(&original, "real.xlsx", &LoadOptions::default()) else {
            continue;
        };
        let mut updates = Vec::new();
        for s in &before.sheets {
            for c in s.cells.iter().filter(|c| c.formula.is_some()).take(40) {
                updates.push(CellUpdate {
                    sheet: s.name.clone(),
                    row: c.row,
                    col: c.col,
                    value: UpdateValue::Number(f64::from(c.row) + 0.5),
                });
            }
        }
        let saved = save_with_values(&original, &updates)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let after = load(&saved);
        for (b, a) in before.sheets.iter().zip(&after.sheets) {
            assert_eq!(
                b.cells.len(),
                a.cells.len(),
                "{} {}",
                path.display(),
                b.name
            );
            for (cb, ca) in b.cells.iter().zip(&a.cells) {
                assert_eq!(cb.formula, ca.formula, "{} {}", path.display(), b.name);
            }
        }
        for u in &updates {
            let s = after.sheets.iter().find(|s| s.name == u.sheet).unwrap();
            let c = s
                .cells
                .iter()
                .find(|c| c.row == u.row && c.col == u.col)
                .unwrap();
            assert_eq!(c.value, u.value_as_cell(), "{} {}", path.display(), u.sheet);
        }
    }
}

trait AsCell {
    fn value_as_cell(&self) -> CellValue;
}

impl AsCell for CellUpdate {
    fn value_as_cell(&self) -> CellValue {
        match &self.value {
            UpdateValue::Number(x) => CellValue::Number(*x),
            UpdateValue::Text(t) => CellValue::Text(t.clone()),
            UpdateValue::Bool(b) => CellValue::Bool(*b),
            UpdateValue::Error(e) => CellValue::Error(e.clone()),
        }
    }
}
