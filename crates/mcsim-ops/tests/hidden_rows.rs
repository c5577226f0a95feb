#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hidden and filtered rows, in workbooks written in Excel's file format: `<row hidden="1">`, a
//! sheet `<autoFilter>` with a filtering column, and a table whose `<autoFilter>` filters.
//! SUBTOTAL 1-11 skip rows hidden by a filter and keep rows hidden by hand; SUBTOTAL 101-111
//! skip both; AGGREGATE's options 1, 3, 5 and 7 skip both, the others neither (Excel's SUBTOTAL
//! and AGGREGATE help pages). A Monte Carlo run checks that a simulation gives the same numbers.
//! Also INDIRECT over table references, and references to other workbooks (`[1]Prices!B2`),
//! which show the values cached in `xl/externalLinks/externalLink1.xml`.
//!
//! The expected values are worked out by hand from the cell contents (shown next to each check).

mod common;

use common::{
    Table, check, edit_parts, evaluate, link_external_book, sheet_rels, simulate,
    write_book_with_parts,
};
use mcsim_engine::Value;
use mcsim_workbook::{LoadOptions, load};
use std::path::Path;

/// Writes the workbook, then marks rows of sheet `n` hidden (one-based row numbers, as Excel
/// writes `<row r="3" hidden="1">`) and adds `tail` (an `<autoFilter>`, say) after the sheet
/// data, as Excel orders a worksheet's parts.
fn write(
    path: &Path,
    cells: &[(&str, &str)],
    extra: &[(String, String)],
    hidden: &[(u32, &[u32])],
    tails: &[(u32, &str)],
) {
    let mut edits: Vec<(String, String, String)> = Vec::new();
    for &(n, rows) in hidden {
        for r in rows {
            edits.push((
                format!("xl/worksheets/sheet{n}.xml"),
                format!("<row r=\"{r}\">"),
                format!("<row r=\"{r}\" hidden=\"1\">"),
            ));
        }
    }
    for &(n, tail) in tails {
        edits.push((
            format!("xl/worksheets/sheet{n}.xml"),
            "</sheetData>".into(),
            format!("</sheetData>{tail}"),
        ));
    }
    let extra: Vec<(&str, String)> = extra.iter().map(|(n, c)| (n.as_str(), c.clone())).collect();
    write_book_with_parts(path, cells, &[], &extra);
    edit_parts(path, &edits);
}

/// A table part with a header row and no totals row; `filter` is the `<autoFilter>` content.
fn table_part(name: &str, reference: &str, columns: &[&str], filter: &str) -> String {
    Table {
        id: 1,
        name,
        reference,
        columns,
        filter: Some(filter),
        ..Table::default()
    }
    .part()
}

#[test]
fn subtotal_and_aggregate_skip_hidden_and_filtered_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hidden.xlsx");
    // Sheet `Hand`: A1:A6 = 1, 2, 4, 8, 16, 32; rows 2 and 5 (values 2 and 16) hidden by hand;
    // A4 holds a SUBTOTAL, which every SUBTOTAL and AGGREGATE option 0-3 skips.
    // Sheet `Filt`: a sheet filter over A1:B7 (header row 1) with rows 3 and 6 hidden by it,
    // and row 9, below the filter, hidden by hand. A2:A7 = 10, 20, 30, 40, 50, 60; A9 = 1000.
    let cells = [
        ("Hand!A1", "1"),
        ("Hand!A2", "2"),
        ("Hand!A3", "4"),
        ("Hand!A4", "=SUBTOTAL(9,A1:A3)"),
        ("Hand!A5", "16"),
        ("Hand!A6", "32"),
        ("Hand!B1", "=SUBTOTAL(9,A1:A6)"),
        ("Hand!B2", "=SUBTOTAL(109,A1:A6)"),
        ("Hand!B3", "=SUBTOTAL(2,A1:A6)"),
        ("Hand!B4", "=SUBTOTAL(102,A1:A6)"),
        ("Hand!B5", "=SUBTOTAL(104,A1:A6)"),
        ("Hand!B6", "=SUBTOTAL(105,A2:A6)"),
        ("Hand!C1", "=AGGREGATE(9,0,A1:A6)"),
        ("Hand!C2", "=AGGREGATE(9,1,A1:A6)"),
        ("Hand!C3", "=AGGREGATE(9,4,A1:A6)"),
        ("Hand!C4", "=AGGREGATE(9,5,A1:A6)"),
        ("Hand!C5", "=AGGREGATE(14,5,A1:A6,2)"),
        ("Hand!C6", "=AGGREGATE(14,6,A1:A6,2)"),
        ("Hand!D1", "=SUM(A1:A6)"),
        ("Hand!D2", "=SUBTOTAL(101,A1:A6)"),
        ("Hand!D3", "=SUBTOTAL(109,A1:A3,A5:A6)"),
        ("Hand!D4", "=AGGREGATE(4,7,A1:A6)"),
        ("Filt!A1", "Amount"),
        ("Filt!B1", "Tag"),
        ("Filt!A2", "10"),
        ("Filt!A3", "20"),
        ("Filt!A4", "30"),
        ("Filt!A5", "40"),
        ("Filt!A6", "50"),
        ("Filt!A7", "60"),
        ("Filt!A9", "1000"),
        ("Filt!C1", "=SUBTOTAL(9,A2:A9)"),
        ("Filt!C2", "=SUBTOTAL(109,A2:A9)"),
        ("Filt!C3", "=SUBTOTAL(3,A1:A9)"),
        ("Filt!C4", "=AGGREGATE(9,4,A2:A9)"),
        ("Filt!C5", "=AGGREGATE(9,3,A2:A9)"),
        ("Filt!C6", "=SUM(A2:A9)"),
        ("Filt!D1", "=SUBTOTAL(9,Hand:Filt!A2)"),
        ("Filt!D2", "=AGGREGATE(9,4,Hand:Filt!A2)"),
    ];
    let filter = r#"<autoFilter ref="A1:B7"><filterColumn colId="0"><filters><filter val="10"/><filter val="30"/><filter val="40"/><filter val="60"/></filters></filterColumn></autoFilter>"#;
    write(
        &path,
        &cells,
        &[],
        &[(1, &[2, 5]), (2, &[3, 6, 9])],
        &[(2, filter)],
    );
    let wb = load(&path, &LoadOptions::default()).unwrap();
    let hand = wb.hidden_rows.iter().find(|h| h.sheet == 0).unwrap();
    assert_eq!((&hand.hidden, &hand.filtered), (&vec![1, 4], &vec![]));
    let filt = wb.hidden_rows.iter().find(|h| h.sheet == 1).unwrap();
    assert_eq!((&filt.hidden, &filt.filtered), (&vec![8], &vec![2, 5]));

    let get = evaluate(&path);
    check(
        &get,
        &[
            // A4 = 1+2+4 = 7 is a SUBTOTAL: skipped. Visible: 1, 4, 32.
            ("Hand!A4", 7.0),
            ("Hand!B1", 1.0 + 2.0 + 4.0 + 16.0 + 32.0),
            ("Hand!B2", 1.0 + 4.0 + 32.0),
            ("Hand!B3", 5.0),
            ("Hand!B4", 3.0),
            ("Hand!B5", 32.0),
            // A2:A6 visible and not a SUBTOTAL: 4, 32.
            ("Hand!B6", 4.0),
            // Options 0 and 1 skip the SUBTOTAL in A4; 4 and 5 count it (7).
            ("Hand!C1", 55.0),
            ("Hand!C2", 37.0),
            ("Hand!C3", 62.0),
            ("Hand!C4", 44.0),
            // Second largest of the visible 1, 4, 7, 32; of all 1, 2, 4, 7, 16, 32.
            ("Hand!C5", 7.0),
            ("Hand!C6", 16.0),
            // SUM reads every row.
            ("Hand!D1", 62.0),
            ("Hand!D2", 37.0 / 3.0),
            ("Hand!D3", 37.0),
            // Option 7 keeps the SUBTOTAL in A4 (7); the visible maximum is 32.
            ("Hand!D4", 32.0),
            // Rows 3 and 6 (20 and 50) are filtered out: every SUBTOTAL skips them; row 9
            // (1000) is hidden by hand: SUBTOTAL 9 keeps it, 109 skips it.
            ("Filt!C1", 10.0 + 30.0 + 40.0 + 60.0 + 1000.0),
            ("Filt!C2", 140.0),
            // The header and the visible 10, 30, 40, 60, and 1000.
            ("Filt!C3", 6.0),
            // AGGREGATE option 4 ignores nothing; option 3 skips every hidden row.
            ("Filt!C4", 1210.0),
            ("Filt!C5", 140.0),
            ("Filt!C6", 1210.0),
        ],
    );
    // A 3D reference: `#VALUE!` (both help pages say so).
    for cell in ["Filt!D1", "Filt!D2"] {
        assert_eq!(
            get(cell),
            Value::Error(mcsim_formula::ErrorKind::Value),
            "{cell}"
        );
    }
}

#[test]
fn a_filtered_table_treats_its_hidden_rows_as_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.xlsx");
    // The table Sales over A1:B6 filters Units > 20: rows 2 and 4 (Units 5 and 15) are hidden
    // by the filter. Row 8, outside the table, is hidden by hand.
    let cells = [
        ("Data!A1", "Region"),
        ("Data!B1", "Units"),
        ("Data!A2", "North"),
        ("Data!B2", "5"),
        ("Data!A3", "South"),
        ("Data!B3", "25"),
        ("Data!A4", "East"),
        ("Data!B4", "15"),
        ("Data!A5", "West"),
        ("Data!B5", "30"),
        ("Data!A6", "Mid"),
        ("Data!B6", "40"),
        ("Data!B8", "100"),
        ("Data!D1", "=SUBTOTAL(9,Sales[Units])"),
        ("Data!D2", "=SUBTOTAL(109,Sales[Units])"),
        ("Data!D3", "=SUBTOTAL(3,Sales[Region])"),
        ("Data!D4", "=SUBTOTAL(9,B2:B8)"),
        ("Data!D5", "=SUBTOTAL(109,B2:B8)"),
        ("Data!D6", "=SUBTOTAL(1,Sales[Units])"),
        ("Data!D7", "=AGGREGATE(9,6,Sales[Units])"),
    ];
    let filter = r#"<filterColumn colId="1"><customFilters><customFilter operator="greaterThan" val="20"/></customFilters></filterColumn>"#;
    write(
        &path,
        &cells,
        &[
            (
                "xl/tables/table1.xml".into(),
                table_part("Sales", "A1:B6", &["Region", "Units"], filter),
            ),
            sheet_rels(1, 1),
        ],
        &[(1, &[2, 4, 8])],
        &[],
    );
    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert!(wb.tables[0].filtered);
    assert_eq!(wb.hidden_rows[0].filtered, vec![1, 3]);
    assert_eq!(wb.hidden_rows[0].hidden, vec![7]);
    let get = evaluate(&path);
    check(
        &get,
        &[
            ("Data!D1", 25.0 + 30.0 + 40.0),
            ("Data!D2", 95.0),
            ("Data!D3", 3.0),
            ("Data!D4", 195.0),
            ("Data!D5", 95.0),
            ("Data!D6", 95.0 / 3.0),
            // AGGREGATE option 6 does not skip hidden rows.
            ("Data!D7", 115.0),
        ],
    );
}

#[test]
fn a_simulation_skips_the_same_rows() {
    // A sheet filter over A1:B4 (header row 1) hides row 3; row 6, below it, is hidden by hand.
    // Visible: A1 ~ U(0,1), A2 ~ U(100,101), A4 ~ U(0,1); filtered: A3 ~ U(1000,1001);
    // hidden by hand: A6 ~ U(100,101).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mc.xlsx");
    let cells = [
        ("Sim!A1", "=RiskUniform(0,1)"),
        ("Sim!A2", "=RiskUniform(100,101)"),
        ("Sim!A3", "=RiskUniform(1000,1001)"),
        ("Sim!A4", "=RiskUniform(0,1)"),
        ("Sim!A6", "=RiskUniform(100,101)"),
        (
            "Sim!C1",
            "=RiskOutput(\"s109\")+SUBTOTAL(109,A1:A6)-A1-A2-A4",
        ),
        (
            "Sim!C2",
            "=RiskOutput(\"s9\")+SUBTOTAL(9,A1:A6)-A1-A2-A4-A6",
        ),
        (
            "Sim!C3",
            "=RiskOutput(\"a5\")+AGGREGATE(9,5,A1:A6)-A1-A2-A4",
        ),
        (
            "Sim!C4",
            "=RiskOutput(\"a4\")+AGGREGATE(9,4,A1:A6)-SUM(A1:A6)",
        ),
        ("Sim!C5", "=RiskOutput(\"sum\")+SUBTOTAL(109,A1:A6)"),
    ];
    let filter = r#"<autoFilter ref="A1:B4"><filterColumn colId="1"><filters><filter val="x"/></filters></filterColumn></autoFilter>"#;
    write(&path, &cells, &[], &[(1, &[3, 6])], &[(1, filter)]);
    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(wb.hidden_rows[0].filtered, vec![2]);
    assert_eq!(wb.hidden_rows[0].hidden, vec![5]);
    let n = 2_000u64;
    let r = simulate(&path, n, 20261207);
    assert_eq!(r.inputs.len(), 5, "{:?}", r.inputs);
    for o in &r.outputs {
        if o.name == "sum" {
            // A1 + A2 + A4: in [100, 103), far from the sums with a hidden row.
            assert!(
                o.summary.min >= 100.0 && o.summary.max < 103.0,
                "{} .. {}",
                o.summary.min,
                o.summary.max
            );
            continue;
        }
        // The rest cancel to zero up to rounding.
        assert!(
            o.summary.min.abs() < 1e-9 && o.summary.max.abs() < 1e-9,
            "{}: {} .. {} ({}, {:?})",
            o.name,
            o.summary.min,
            o.summary.max,
            r.evaluation,
            r.warnings
        );
        assert_eq!(o.summary.errors, 0, "{}", o.name);
    }
}

#[test]
fn indirect_reads_table_references_and_refuses_3d_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("indirect.xlsx");
    // The table Sales over A1:B4 (header, three data rows); Units 5, 25, 15.
    let cells = [
        ("Data!A1", "Region"),
        ("Data!B1", "Units"),
        ("Data!A2", "North"),
        ("Data!B2", "5"),
        ("Data!A3", "South"),
        ("Data!B3", "25"),
        ("Data!A4", "East"),
        ("Data!B4", "15"),
        ("Data!C2", "=INDIRECT(\"Sales[@Units]\")*2"),
        ("Data!D1", "=SUM(INDIRECT(\"Sales[Units]\"))"),
        ("Data!D2", "=ROWS(INDIRECT(\"Sales\"))"),
        ("Data!D3", "=COUNTA(INDIRECT(\"Sales[#All]\"))"),
        ("Data!D4", "=SUM(INDIRECT(\"Sales[[#Data],[Units]]\"))"),
        ("Data!D5", "=INDIRECT(\"Sales[Nope]\")"),
        ("Data!D6", "=SUM(INDIRECT(\"Data:Other!B2\"))"),
        ("Data!D7", "=INDIRECT(\"Other!A1\")"),
        ("Other!A1", "7"),
        ("Other!B2", "1000"),
    ];
    write(
        &path,
        &cells,
        &[
            (
                "xl/tables/table1.xml".into(),
                table_part("Sales", "A1:B4", &["Region", "Units"], ""),
            ),
            sheet_rels(1, 1),
        ],
        &[],
        &[],
    );
    let get = evaluate(&path);
    check(
        &get,
        &[
            // `[@Units]` on row 2: 5.
            ("Data!C2", 10.0),
            ("Data!D1", 45.0),
            ("Data!D2", 3.0),
            // 4 rows x 2 columns, all filled.
            ("Data!D3", 8.0),
            ("Data!D4", 45.0),
            ("Data!D7", 7.0),
        ],
    );
    // An unknown column, and a 3D reference (INDIRECT does not take them in Excel).
    use mcsim_formula::ErrorKind;
    assert_eq!(get("Data!D5"), Value::Error(ErrorKind::Ref));
    assert_eq!(get("Data!D6"), Value::Error(ErrorKind::Ref));
}

/// Writes a workbook whose link [1] caches Prices!A2 = "gold", B2 = 12.5, A3 = TRUE, B3 = 7.5,
/// B5 = #N/A; its sheet Gone failed to refresh, and Empty has no cache.
fn write_with_link(path: &Path, cells: &[(&str, &str)]) {
    let link = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"><sheetNames><sheetName val="Prices"/><sheetName val="Gone"/><sheetName val="Empty"/></sheetNames><sheetDataSet><sheetData sheetId="0"><row r="2"><cell r="A2" t="str"><v>gold</v></cell><cell r="B2"><v>12.5</v></cell></row><row r="3"><cell r="A3" t="b"><v>1</v></cell><cell r="B3"><v>7.5</v></cell></row><row r="5"><cell r="B5" t="e"><v>#N/A</v></cell></row></sheetData><sheetData sheetId="1" refreshError="1"/></sheetDataSet></externalBook></externalLink>"#;
    write_book_with_parts(
        path,
        cells,
        &[],
        &[("xl/externalLinks/externalLink1.xml", link.to_string())],
    );
    link_external_book(path);
}

#[test]
fn external_references_show_the_cached_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("links.xlsx");
    let cells = [
        ("Main!A1", "=[1]Prices!B2"),
        ("Main!A2", "='[1]Prices'!A2"),
        ("Main!A3", "=SUM([1]Prices!B2:B4)"),
        ("Main!A4", "=COUNT([1]Prices!B2:B4)"),
        ("Main!A5", "=[1]Gone!A1"),
        ("Main!A6", "=[2]Prices!A1"),
        ("Main!A7", "=[1]Prices!Z99"),
        ("Main!A8", "=[1]Prices!$B$3*2"),
        ("Main!A9", "=[1]Prices!A3"),
        ("Main!A10", "=ISNA([1]Prices!B5)"),
        ("Main!A11", "=SUM([1]Prices!B:B)"),
        ("Main!A12", "=[1]Empty!A1"),
        ("Main!A13", "=IFERROR([1]Gone!A1,-1)"),
    ];
    write_with_link(&path, &cells);
    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(wb.external_books.len(), 1, "{:?}", wb.warnings);
    let get = evaluate(&path);
    check(
        &get,
        &[
            ("Main!A1", 12.5),
            // B4 is not cached: a blank inside the range.
            ("Main!A3", 20.0),
            ("Main!A4", 2.0),
            ("Main!A8", 15.0),
            ("Main!A13", -1.0),
        ],
    );
    use mcsim_formula::ErrorKind;
    assert_eq!(get("Main!A2"), Value::from("gold"));
    assert_eq!(get("Main!A9"), Value::Bool(true));
    assert_eq!(get("Main!A10"), Value::Bool(true));
    // The whole column B ends at the last cached cell, B5, whose #N/A the sum passes on.
    assert_eq!(get("Main!A11"), Value::Error(ErrorKind::Na));
    // A book the file does not link: the formula cannot be evaluated (`mcsim run` keeps the
    // value the file stored).
    assert_eq!(get("Main!A6"), Value::Error(ErrorKind::Name));
    for cell in ["Main!A5", "Main!A7", "Main!A12"] {
        assert_eq!(get(cell), Value::Error(ErrorKind::Ref), "{cell}");
    }
}

#[test]
fn a_simulation_reads_the_cached_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("links_mc.xlsx");
    write_with_link(
        &path,
        &[
            ("Main!A1", "=RiskUniform(0,1)"),
            ("Main!B1", "=RiskOutput(\"scaled\")+[1]Prices!B2*A1"),
            ("Main!B2", "=RiskOutput(\"sum\")+SUM([1]Prices!B2:B4)+A1"),
        ],
    );
    let r = simulate(&path, 2_000, 20261207);
    // 12.5 * U(0,1) and 20 + U(0,1).
    let get = |name: &str| &r.outputs.iter().find(|o| o.name == name).unwrap().summary;
    let (scaled, sum) = (get("scaled"), get("sum"));
    assert!(scaled.min >= 0.0 && scaled.max < 12.5, "{scaled:?}");
    assert!((scaled.mean - 6.25).abs() < 0.5, "{}", scaled.mean);
    assert!(sum.min >= 20.0 && sum.max < 21.0, "{sum:?}");
    assert_eq!(scaled.errors + sum.errors, 0);
}
