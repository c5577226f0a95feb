#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Data validation and conditional formatting that refer to Excel tables, and defined names of
//! other workbooks (`[1]!Rate`), in workbooks written in Excel's file format.
//!
//! The table `Regions` (Data!A1:B4) lists East, West, North with targets 100, 200, 300. The
//! sheet `Input` holds entries under validation rules written as Excel writes them: a list on a
//! table column directly, through `INDIRECT("Regions[Region]")` and through a defined name; the
//! x14 form (`<x14:dataValidation>` in `<extLst>`) of a list on another sheet; a literal list;
//! whole-number, decimal and custom rules, one with a relative reference. The expected
//! violations are read off the cell contents by hand, with Excel's rules: a list matches text
//! case-insensitively; a whole number must be an integer within the bounds; relative references
//! in a rule are relative to the top-left cell of its range; blank cells are not checked.

mod common;

use common::{
    PKG_REL, REL, Table, edit_parts, link_external_book, sheet_rels, write_book_with_parts,
};
use mcsim_engine::{Evaluator, Graph, Model, Value};
use mcsim_formula::ErrorKind;
use mcsim_ops::ParseOptions;
use mcsim_workbook::{LoadOptions, load};
use std::collections::BTreeSet;
use std::path::Path;

fn table_part(name: &str, reference: &str, columns: &[&str]) -> String {
    Table {
        id: 1,
        name,
        reference,
        columns,
        ..Table::default()
    }
    .part()
}

/// The rules of the sheet `Input`, in the order Excel writes a worksheet's parts.
const INPUT_RULES: &str = r#"<conditionalFormatting sqref="B2:B5"><cfRule type="expression" dxfId="0" priority="1"><formula>COUNTIF(Regions[Region],B2)=0</formula></cfRule></conditionalFormatting><conditionalFormatting sqref="C2:C4"><cfRule type="expression" dxfId="1" priority="2"><formula>C2&gt;SUM(INDIRECT("Gone[X]"))</formula></cfRule><cfRule type="cellIs" dxfId="1" priority="3" operator="greaterThan"><formula>MAX(Regions[Target])</formula></cfRule></conditionalFormatting><dataValidations count="10"><dataValidation type="list" allowBlank="1" showErrorMessage="1" sqref="B2:B5"><formula1>Regions[Region]</formula1></dataValidation><dataValidation type="list" allowBlank="1" showErrorMessage="1" sqref="C2:C4"><formula1>INDIRECT(&quot;Regions[Region]&quot;)</formula1></dataValidation><dataValidation type="list" allowBlank="1" showErrorMessage="1" sqref="D2:D3"><formula1>RegionList</formula1></dataValidation><dataValidation type="whole" allowBlank="1" showErrorMessage="1" sqref="E2:E6"><formula1>1</formula1><formula2>10</formula2></dataValidation><dataValidation type="decimal" operator="greaterThan" allowBlank="1" showErrorMessage="1" sqref="F2:F3"><formula1>G2</formula1></dataValidation><dataValidation type="list" allowBlank="1" showErrorMessage="1" sqref="I2:I3"><formula1>&quot;Yes,No&quot;</formula1></dataValidation><dataValidation type="custom" allowBlank="1" showErrorMessage="1" sqref="J2:J3"><formula1>J2&lt;=MAX(Regions[Target])</formula1></dataValidation><dataValidation type="list" allowBlank="1" showErrorMessage="1" sqref="K2"><formula1>INDIRECT(&quot;Missing[Col]&quot;)</formula1></dataValidation><dataValidation type="textLength" operator="lessThanOrEqual" allowBlank="1" showErrorMessage="1" sqref="L2:L3"><formula1>5</formula1></dataValidation><dataValidation type="decimal" allowBlank="1" showErrorMessage="1" sqref="M2:M4"><formula1>0</formula1><formula2>10</formula2></dataValidation></dataValidations><extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1><xm:f>Data!$A$2:$A$4</xm:f></x14:formula1><xm:sqref>H2:H3</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>"#;

fn write_validation_book(path: &Path) {
    let cells = [
        ("Data!A1", "Region"),
        ("Data!B1", "Target"),
        ("Data!A2", "East"),
        ("Data!B2", "100"),
        ("Data!A3", "West"),
        ("Data!B3", "200"),
        ("Data!A4", "North"),
        ("Data!B4", "300"),
        // List on the table column, direct: South is not listed; `west` matches West.
        ("Input!B2", "East"),
        ("Input!B3", "South"),
        ("Input!B4", "west"),
        // Through INDIRECT.
        ("Input!C2", "North"),
        ("Input!C3", "Nowhere"),
        // Through the defined name RegionList.
        ("Input!D2", "East"),
        ("Input!D3", "Central"),
        // Whole number between 1 and 10: 11 and 2.5 break it; E5 = 10 passes; E6 = 15 breaks
        // it although the file stores 1 (the recalculated value counts).
        ("Input!E2", "5"),
        ("Input!E3", "11"),
        ("Input!E4", "2.5"),
        ("Input!E5", "=E2*2|10"),
        ("Input!E6", "=E2*3|1"),
        // Decimal greater than the cell to the right (the rule's `G2` is relative): 5 > 3
        // passes, 1 > 4 does not.
        ("Input!F2", "5"),
        ("Input!F3", "1"),
        ("Input!G2", "3"),
        ("Input!G3", "4"),
        // x14 list on another sheet.
        ("Input!H2", "West"),
        ("Input!H3", "Up"),
        // Literal list "Yes,No".
        ("Input!I2", "maybe"),
        ("Input!I3", "no"),
        // Custom: at most the largest target (300).
        ("Input!J2", "250"),
        ("Input!J3", "301"),
        // A list over a table that does not exist: not checked, reported.
        ("Input!K2", "x"),
        // Text length at most 5.
        ("Input!L2", "short"),
        ("Input!L3", "longer"),
        // Simulation inputs under `decimal between 0 and 10`: their means (5, 5, 10) pass, but
        // the normal and the uniform over 0..20 can draw outside the bounds.
        ("Input!M2", "=RiskTriang(2,5,8)"),
        ("Input!M3", "=RiskNormal(5,1)"),
        ("Input!M4", "=RiskUniform(0,20)"),
    ];
    let (rels_name, rels) = sheet_rels(1, 1);
    let parts = [
        (
            "xl/tables/table1.xml",
            table_part("Regions", "A1:B4", &["Region", "Target"]),
        ),
        (rels_name.as_str(), rels),
    ];
    write_book_with_parts(path, &cells, &[("RegionList", "Regions[Region]")], &parts);
    edit_parts(
        path,
        &[(
            "xl/worksheets/sheet2.xml".into(),
            "</sheetData>".into(),
            format!("</sheetData>{INPUT_RULES}"),
        )],
    );
}

#[test]
fn data_validation_rules_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dv.xlsx");
    write_validation_book(&path);
    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert!(wb.warnings.is_empty(), "{:?}", wb.warnings);
    assert_eq!(wb.data_validations.len(), 11);
    assert!(wb.data_validations.iter().all(|d| d.sheet == 1));
    let x14 = wb.data_validations.last().unwrap();
    assert_eq!(x14.kind, "list");
    assert_eq!(x14.formula1.as_deref(), Some("Data!$A$2:$A$4"));
    assert_eq!(x14.ranges, vec![(1, 7, 2, 7)]);
    assert_eq!(
        wb.data_validations[1].formula1.as_deref(),
        Some("INDIRECT(\"Regions[Region]\")")
    );
    assert_eq!(wb.conditional_formats.len(), 2);
    assert_eq!(wb.conditional_formats[1].rules.len(), 2);
}

#[test]
fn parse_reports_the_cells_that_break_their_validation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dv.xlsx");
    write_validation_book(&path);
    let report = mcsim_ops::parse(&ParseOptions::new(&path)).unwrap();
    let dv = &report.data_validations;
    assert_eq!(dv.rules, 11);
    // Checked: B2:B4, C2:C3, D2:D3, E2:E6, F2:F3, I2:I3, J2:J3, L2:L3, M2:M4, H2:H3 (K2's
    // rule is unresolved; B5 and C4 are blank).
    assert_eq!(dv.cells, 3 + 2 + 2 + 5 + 2 + 2 + 2 + 2 + 3 + 2);
    let got: BTreeSet<&str> = dv.violations.iter().map(|v| v.cell.as_str()).collect();
    let want: BTreeSet<&str> = [
        "Input!B3", "Input!C3", "Input!D3", "Input!E3", "Input!E4", "Input!E6", "Input!F3",
        "Input!H3", "Input!I2", "Input!J3", "Input!L3",
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want, "{:#?}", dv.violations);
    assert_eq!(dv.violation_count, want.len());
    let rule_of = |cell: &str| {
        dv.violations
            .iter()
            .find(|v| v.cell == cell)
            .map(|v| v.rule.clone())
            .unwrap()
    };
    assert_eq!(rule_of("Input!B3"), "list Regions[Region]");
    assert_eq!(rule_of("Input!E3"), "whole between 1 and 10");
    assert_eq!(rule_of("Input!F3"), "decimal greaterThan G2");
    // The recalculated value, not the stored 1.
    let e6 = dv.violations.iter().find(|v| v.cell == "Input!E6").unwrap();
    assert_eq!(e6.value, mcsim_ops::JsonValue::Number(15.0));
    assert_eq!(dv.unresolved.len(), 1, "{:?}", dv.unresolved);
    assert_eq!(dv.unresolved[0].range, "Input!K2");
    assert!(
        dv.unresolved[0].reason.contains("#REF!"),
        "{:?}",
        dv.unresolved
    );

    // The inputs whose distribution reaches outside the rule: the normal (unbounded) and the
    // uniform over 0..20; the triangular stays within 2..8.
    let flagged: Vec<&str> = dv
        .input_warnings
        .iter()
        .map(|w| w.split(':').next().unwrap())
        .collect();
    assert_eq!(flagged, ["Input!M3", "Input!M4"], "{:?}", dv.input_warnings);
    assert!(
        dv.input_warnings[1].contains("from 0 to 20"),
        "{:?}",
        dv.input_warnings
    );

    // Three conditional-format rules; the one over the missing table `Gone` does not resolve.
    let cf = &report.conditional_formats;
    assert_eq!(cf.rules, 3);
    assert_eq!(cf.formulas, 3);
    assert_eq!(cf.unresolved.len(), 1, "{:?}", cf.unresolved);
    assert_eq!(cf.unresolved[0].range, "Input!C2:C4");

    // The JSON keys.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["data_validations"]["rules"], 11);
    assert_eq!(
        json["data_validations"]["violations"][0]["cell"],
        "Input!B3"
    );
    assert_eq!(json["conditional_formats"]["rules"], 3);
}

/// A link whose book defines Rate (Prices!$B$2 = 0.05), a name local to Prices (Local, =
/// Prices!$A$3 = 7) and a constant (Half = 0.5); its target is C:\Data\Prices.xlsx.
fn write_with_named_link(path: &Path, cells: &[(&str, &str)]) {
    let link = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"><sheetNames><sheetName val="Prices"/></sheetNames><definedNames><definedName name="Rate" refersTo="=Prices!$B$2"/><definedName name="Local" refersTo="=Prices!$A$3" sheetId="0"/><definedName name="Half" refersTo="=0.5"/><definedName name="Span" refersTo="=Prices!$A$3:$B$3"/></definedNames><sheetDataSet><sheetData sheetId="0"><row r="2"><cell r="B2"><v>0.05</v></cell></row><row r="3"><cell r="A3"><v>7</v></cell><cell r="B3"><v>3</v></cell></row></sheetData></sheetDataSet></externalBook></externalLink>"#;
    let link_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/externalLinkPath" Target="file:///C:\Data\Prices.xlsx" TargetMode="External"/></Relationships>"#
    );
    write_book_with_parts(
        path,
        cells,
        &[("Growth", "[1]!Rate*2")],
        &[
            ("xl/externalLinks/externalLink1.xml", link.to_string()),
            ("xl/externalLinks/_rels/externalLink1.xml.rels", link_rels),
        ],
    );
    link_external_book(path);
}

#[test]
fn defined_names_of_other_workbooks_show_the_cached_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.xlsx");
    let cells = [
        ("Main!A1", "=[1]!Rate*100"),
        ("Main!A2", "=[1]Prices!Local"),
        ("Main!A3", "=[1]!Half+1"),
        ("Main!A4", "=SUM([1]!Span)"),
        ("Main!A5", "='C:\\Data\\[Prices.xlsx]'!Rate"),
        ("Main!A6", "=Growth"),
        ("Main!A7", "=[1]!Nope"),
        ("Main!A8", "='C:\\Other\\[Else.xlsx]'!Rate"),
    ];
    write_with_named_link(&path, &cells);
    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(wb.external_books.len(), 1, "{:?}", wb.warnings);
    assert_eq!(wb.external_books[0].names.len(), 4);
    assert_eq!(
        wb.external_books[0].target.as_deref(),
        Some("file:///C:\\Data\\Prices.xlsx")
    );
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let main = model.sheet_id("Main").unwrap();
    let mut get = |row: u32| ev.value(model.find(main, row, 0).unwrap()).clone();
    // 0.05 * 100, the local name's 7, 0.5 + 1, 7 + 3, 0.05, 0.05 * 2.
    for (row, want) in [(0, 5.0), (1, 7.0), (2, 1.5), (3, 10.0), (4, 0.05), (5, 0.1)] {
        match get(row) {
            Value::Number(n) => assert!((n - want).abs() < 1e-12, "A{}: {n}", row + 1),
            other => panic!("A{}: {other:?}", row + 1),
        }
    }
    // A name the link does not define, and a book the file does not link.
    assert_eq!(get(6), Value::Error(ErrorKind::Ref));
    assert_eq!(get(7), Value::Error(ErrorKind::Ref));
}
