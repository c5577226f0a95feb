//! Workbooks saved by Excel (see tests/fixtures/README.md for their origin and licenses),
//! and, when this machine has it, the whole Excel corpus.

mod common;

use std::path::{Path, PathBuf};

use common::cell;
use mcsim_workbook::{CellValue, Formula, LoadOptions, Workbook, load};

fn fixture(name: &str) -> Workbook {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    load(&path, &LoadOptions::default()).unwrap()
}

#[test]
fn sum_xlsx() {
    let wb = fixture("SUM.xlsx");
    assert!(!wb.date1904);
    assert_eq!(wb.sheets.len(), 1);
    let s = &wb.sheets[0];
    assert_eq!(s.name, "Sheet1");
    assert_eq!(s.cells.len(), 5);
    assert_eq!(cell(s, "A1").value, CellValue::Number(1.0));
    assert_eq!(cell(s, "B2").value, CellValue::Number(4.0));
    let a10 = cell(s, "A10");
    assert_eq!(a10.formula, Some(Formula::Text("SUM(A1:B2)".into())));
    assert_eq!(a10.value, CellValue::Number(10.0));
}

#[test]
fn choose_xlsx_array_formulas() {
    let wb = fixture("choose.xlsx");
    let s = &wb.sheets[0];
    let array = |text: &str, range| {
        Some(Formula::Array {
            text: text.into(),
            range,
        })
    };
    assert_eq!(
        cell(s, "A1").formula,
        array("CHOOSE(3,B1:D1,E1,12)", (0, 0, 0, 0))
    );
    assert_eq!(cell(s, "A1").value, CellValue::Number(12.0));
    assert_eq!(
        cell(s, "A2").formula,
        array("CHOOSE(2, B1:D1,E1,11)", (1, 0, 1, 0))
    );
    assert_eq!(
        cell(s, "A3").formula,
        array("CHOOSE(1,B1:D1,E1,11)", (2, 0, 2, 2))
    );
    assert_eq!(cell(s, "A3").value, CellValue::Number(1.0));
    // B3 and C3 are spilled cells of A3: values only.
    assert_eq!(cell(s, "B3").formula, None);
    assert_eq!(cell(s, "B3").value, CellValue::Number(2.0));
    assert_eq!(cell(s, "C3").value, CellValue::Number(3.0));
}

#[test]
fn defined_names_xlsx_scopes() {
    let wb = fixture("defined_names.xlsx");
    let sheets: Vec<_> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        sheets,
        [
            "NamedCells",
            "Local shadowing",
            "NamedRanges",
            "Local (part 1)",
            "Local (part 2)",
            "Local (part 3)",
            "Errors"
        ]
    );
    let find = |name: &str, scope: Option<usize>| {
        wb.names
            .iter()
            .find(|n| n.name == name && n.scope == scope)
            .unwrap_or_else(|| panic!("no name {name} with scope {scope:?}: {:?}", wb.names))
    };
    assert_eq!(find("local", Some(3)).formula, "'Local (part 1)'!$B$1");
    assert_eq!(find("local", Some(4)).formula, "'Local (part 2)'!$B$1");
    assert_eq!(find("NC_2", Some(1)).formula, "'Local shadowing'!$B$2");
    assert_eq!(find("NC_2", None).formula, "NamedCells!$B$6");
    assert_eq!(find("RANGE_4", None).formula, "NamedRanges!$B$10:$D$11");
    assert_eq!(wb.names.len(), 11);
    let s = &wb.sheets[0];
    assert_eq!(cell(s, "B12").formula, Some(Formula::Text("NC_1".into())));
    assert_eq!(
        cell(s, "B20").formula,
        Some(Formula::Text("NC_1<NC_2".into()))
    );
    assert_eq!(cell(s, "B20").value, CellValue::Bool(true));
}

#[test]
fn arithmetic_xlsx_shared_formulas() {
    let wb = fixture("arithmetic.xlsx");
    let s = &wb.sheets[0];
    assert_eq!(cell(s, "E3").formula, Some(Formula::Text("C3+D3".into())));
    assert_eq!(
        cell(s, "E3").value,
        CellValue::Number(0.300_000_000_000_000_04)
    );
    assert_eq!(
        cell(s, "E4").formula,
        Some(Formula::Shared {
            anchor_row: 2,
            anchor_col: 4
        })
    );
    assert_eq!(cell(s, "E4").value, CellValue::Number(7.0));
    assert_eq!(cell(s, "M4").formula, Some(Formula::Text("NA()".into())));
    assert_eq!(cell(s, "M4").value, CellValue::Error("#N/A".into()));
}

/// Every corpus workbook loads, and its array formulas and date system are what the
/// corpus manifest says.
#[test]
fn corpus_matches_manifest() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/excel");
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv"))
        .expect("the corpus copy in tests/corpus/excel");
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (file_col, arrays_col, date_col) = (col("file"), col("array_formulas"), col("date1904"));
    let mut checked = 0;
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let path = root.join(fields[file_col]);
        let wb = load(&path, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let arrays = wb
            .sheets
            .iter()
            .flat_map(|s| &s.cells)
            .filter(|c| matches!(c.formula, Some(Formula::Array { .. })))
            .count();
        assert_eq!(
            arrays.to_string(),
            fields[arrays_col],
            "array formulas in {}",
            path.display()
        );
        assert_eq!(
            wb.date1904,
            fields[date_col] == "True",
            "date1904 of {}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked > 200, "{checked}");
}
