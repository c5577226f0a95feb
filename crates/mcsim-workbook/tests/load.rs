//! Loading behaviour on generated workbooks: formulas, values, names, dates.

mod common;

use common::{book, cell, one_sheet};
use mcsim_workbook::{CellValue, DefinedName, Formula, LoadOptions, Workbook, load_bytes};

fn load(bytes: &[u8]) -> Workbook {
    load_bytes(bytes, "test.xlsx", &LoadOptions::default()).unwrap()
}

fn text(s: &str) -> Option<Formula> {
    Some(Formula::Text(s.to_owned()))
}

fn shared(a1: &str) -> Option<Formula> {
    let (anchor_row, anchor_col) = common::parse_a1(a1);
    Some(Formula::Shared {
        anchor_row,
        anchor_col,
    })
}

#[test]
fn shared_formulas_anchor_and_derived_cells() {
    // A 3x2 shared block B1:D2 anchored at B1: C1 and D1 are derived cells in the anchor's
    // own row, before the row ends; a second block A4:A5; and a plain LOG10 formula.
    let wb = load(&one_sheet(
        r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:D2" si="0">LOG10(A1)*2</f><v>0</v></c><c r="C1"><f t="shared" si="0"/><v>0.60205999132796229</v></c><c r="D1"><f t="shared" si="0"/><v>0</v></c></row>
           <row r="2"><c r="A2"><v>10</v></c><c r="B2"><f t="shared" si="0"/><v>2</v></c><c r="C2"><f t="shared" si="0"/><v>0</v></c><c r="D2"><f t="shared" si="0"/><v>0</v></c></row>
           <row r="3"><c r="A3"><f>LOG10(100)</f><v>2</v></c></row>
           <row r="4"><c r="A4"><f t="shared" ref="A4:A5" si="1">$A$1+ROW()</f><v>5</v></c></row>
           <row r="5"><c r="A5"><f t="shared" si="1"/><v>6</v></c></row>"#,
    ));
    let s = &wb.sheets[0];
    assert_eq!(cell(s, "B1").formula, text("LOG10(A1)*2"));
    for a1 in ["C1", "D1", "B2", "C2", "D2"] {
        assert_eq!(cell(s, a1).formula, shared("B1"), "{a1}");
    }
    assert_eq!(
        cell(s, "C1").value,
        CellValue::Number(0.602_059_991_327_962_3)
    );
    assert_eq!(cell(s, "B2").value, CellValue::Number(2.0));
    // LOG10 stays LOG10 (calamine once rewrote it).
    assert_eq!(cell(s, "A3").formula, text("LOG10(100)"));
    assert_eq!(cell(s, "A4").formula, text("$A$1+ROW()"));
    assert_eq!(cell(s, "A5").formula, shared("A4"));
    assert_eq!(cell(s, "A1").formula, None);
    assert_eq!(s.cells.len(), 11);
    assert!(wb.warnings.is_empty(), "{:?}", wb.warnings);
    // Row-major order.
    assert!(
        s.cells
            .windows(2)
            .all(|w| (w[0].row, w[0].col) < (w[1].row, w[1].col))
    );
}

#[test]
fn array_formula_ranges() {
    let wb = load(&one_sheet(
        r#"<row r="1"><c r="A1"><f t="array" ref="A1:B3">MMULT(D1:E3,F1:F2)</f><v>1</v></c><c r="B1"><v>2</v></c></row>
           <row r="2"><c r="A2"><v>3</v></c><c r="B2"><v>4</v></c></row>
           <row r="3"><c r="A3"><v>5</v></c><c r="B3"><v>6</v></c><c r="C3" cm="1"><f t="array" ref="C3">SUM(A1:B3*2)</f><v>42</v></c></row>
           <row r="4"><c r="A4"><f>SUM(A1:B3)</f><v>21</v></c></row>"#,
    ));
    let s = &wb.sheets[0];
    assert_eq!(
        cell(s, "A1").formula,
        Some(Formula::Array {
            text: "MMULT(D1:E3,F1:F2)".into(),
            range: (0, 0, 2, 1)
        })
    );
    assert_eq!(cell(s, "A1").value, CellValue::Number(1.0));
    // The other cells of the range keep only their cached values.
    assert_eq!(cell(s, "B1").formula, None);
    assert_eq!(cell(s, "B3").value, CellValue::Number(6.0));
    assert_eq!(
        cell(s, "C3").formula,
        Some(Formula::Array {
            text: "SUM(A1:B3*2)".into(),
            range: (2, 2, 2, 2)
        })
    );
    assert_eq!(cell(s, "A4").formula, text("SUM(A1:B3)"));
}

#[test]
fn defined_names_with_sheet_scope() {
    // <sheets> order: Inputs (0), Chart1 (1, a chart sheet), Model (2). localSheetId counts
    // all three; Workbook::sheets holds Inputs (0) and Model (1).
    let wb = load(
        &book()
            .sheet("Inputs", r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>0.07</v></c></row>"#)
            .chart_sheet("Chart1")
            .sheet("Model", r#"<row r="1"><c r="A1"><f>Rate*Local</f><v>0.07</v></c></row>"#)
            .defined_names(
                r#"<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">Inputs!$A$1:$B$5</definedName>
                   <definedName name="Local" localSheetId="2">Model!$A$1</definedName>
                   <definedName name="Local" localSheetId="0">Inputs!$A$1</definedName>
                   <definedName name="OnChart" localSheetId="1">0.5</definedName>
                   <definedName name="Bad" localSheetId="7">1</definedName>
                   <definedName name="Rate">Inputs!$B$1</definedName>
                   <definedName name="Label">"a&amp;b&lt;c"</definedName>"#,
            )
            .build(),
    );
    let sheet_names: Vec<_> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(sheet_names, ["Inputs", "Model"]);
    let expected = [
        ("_xlnm._FilterDatabase", Some(0), "Inputs!$A$1:$B$5", true),
        ("Local", Some(1), "Model!$A$1", false),
        ("Local", Some(0), "Inputs!$A$1", false),
        ("Rate", None, "Inputs!$B$1", false),
        ("Label", None, "\"a&b<c\"", false),
    ];
    let expected: Vec<DefinedName> = expected
        .iter()
        .map(|&(name, scope, formula, hidden)| DefinedName {
            name: name.into(),
            scope,
            formula: formula.into(),
            hidden,
        })
        .collect();
    assert_eq!(wb.names, expected);
    // The names local to the chart sheet and to a sheet that does not exist are reported.
    assert_eq!(wb.warnings.len(), 2, "{:?}", wb.warnings);
    assert!(wb.warnings[0].contains("OnChart") && wb.warnings[0].contains("Chart1"));
    assert!(wb.warnings[1].contains("Bad"));
}

const DATE_STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#;

#[test]
fn date1904_flag_and_date_serials() {
    let data = r#"<row r="1"><c r="A1" s="1"><v>45306.5</v></c><c r="B1" t="d"><v>2024-01-15T12:00:00</v></c><c r="C1" s="1"><f>A1+1</f><v>45307.5</v></c></row>"#;
    let wb = load(
        &book()
            .sheet("S", data)
            .entry("xl/styles.xml", DATE_STYLES)
            .build(),
    );
    assert!(!wb.date1904);
    let s = &wb.sheets[0];
    // A date-formatted number (calamine: DateTime) keeps its serial.
    assert_eq!(cell(s, "A1").value, CellValue::Number(45306.5));
    assert_eq!(cell(s, "C1").value, CellValue::Number(45307.5));
    // An ISO date cell (t="d") becomes the serial of that date.
    assert_eq!(cell(s, "B1").value, CellValue::Number(45306.5));

    let wb = load(
        &book()
            .sheet("S", data)
            .entry("xl/styles.xml", DATE_STYLES)
            .date1904()
            .build(),
    );
    assert!(wb.date1904);
    let s = &wb.sheets[0];
    assert_eq!(cell(s, "A1").value, CellValue::Number(45306.5));
    // 2024-01-15 is day 43844 in the 1904 system.
    assert_eq!(cell(s, "B1").value, CellValue::Number(43844.5));
}

#[test]
fn cached_values_of_each_type() {
    let wb = load(
        &book()
            .sheet(
                "Values",
                r#"<row r="1">
                  <c r="A1"><v>1.5</v></c>
                  <c r="B1" t="n"><v>-2E-3</v></c>
                  <c r="C1" t="s"><v>1</v></c>
                  <c r="D1" t="inlineStr"><is><t>inline</t></is></c>
                  <c r="E1" t="b"><v>1</v></c>
                  <c r="F1" t="b"><v>0</v></c>
                  <c r="G1" t="e"><v>#N/A</v></c>
                  <c r="H1" s="0"/>
                </row>
                <row r="2">
                  <c r="A2"><f>A1*2</f><v>3</v></c>
                  <c r="B2" t="str"><f>C1&amp;"!"</f><v>two &amp; more!</v></c>
                  <c r="C2" t="str"><f>IF(A1&gt;0,"","x")</f><v></v></c>
                  <c r="D2" t="str"><f>""</f><v/></c>
                  <c r="E2" t="b"><f>A1&lt;2</f><v>1</v></c>
                  <c r="F2" t="e"><f>1/0</f><v>#DIV/0!</v></c>
                  <c r="G2"><f>NOW()</f></c>
                  <c r="H2" t="str"><f>T(A1)</f></c>
                  <c r="I2" t="e"><f>#REF!+1</f><v>#REF!</v></c>
                  <c r="J2" t="e"><f>FOO()</f><v>#NAME?</v></c>
                  <c r="K2" t="e"><f>A1 B1</f><v>#NULL!</v></c>
                  <c r="L2" t="e"><f>SQRT(-1)</f><v>#NUM!</v></c>
                  <c r="M2" t="e"><f>"a"+1</f><v>#VALUE!</v></c>
                </row>"#,
            )
            .shared_strings(&["zero", "two & more"])
            .build(),
    );
    let s = &wb.sheets[0];
    let expect = [
        ("A1", CellValue::Number(1.5), None),
        ("B1", CellValue::Number(-0.002), None),
        ("C1", CellValue::Text("two & more".into()), None),
        ("D1", CellValue::Text("inline".into()), None),
        ("E1", CellValue::Bool(true), None),
        ("F1", CellValue::Bool(false), None),
        ("G1", CellValue::Error("#N/A".into()), None),
        ("A2", CellValue::Number(3.0), text("A1*2")),
        (
            "B2",
            CellValue::Text("two & more!".into()),
            text("C1&\"!\""),
        ),
        // A formula returning "" (t="str", empty <v>) has an empty text value ...
        (
            "C2",
            CellValue::Text(String::new()),
            text("IF(A1>0,\"\",\"x\")"),
        ),
        ("D2", CellValue::Text(String::new()), text("\"\"")),
        ("E2", CellValue::Bool(true), text("A1<2")),
        ("F2", CellValue::Error("#DIV/0!".into()), text("1/0")),
        // ... while a formula cell without <v> has no value.
        ("G2", CellValue::Empty, text("NOW()")),
        ("H2", CellValue::Empty, text("T(A1)")),
        ("I2", CellValue::Error("#REF!".into()), text("#REF!+1")),
        ("J2", CellValue::Error("#NAME?".into()), text("FOO()")),
        ("K2", CellValue::Error("#NULL!".into()), text("A1 B1")),
        ("L2", CellValue::Error("#NUM!".into()), text("SQRT(-1)")),
        ("M2", CellValue::Error("#VALUE!".into()), text("\"a\"+1")),
    ];
    for (a1, value, formula) in &expect {
        let c = cell(s, a1);
        assert_eq!(&c.value, value, "{a1}");
        assert_eq!(&c.formula, formula, "{a1}");
    }
    // The styled but empty H1 is not a cell.
    assert_eq!(s.cells.len(), expect.len());
}

#[test]
fn error_values_calamine_does_not_know() {
    // calamine 0.38 rejects a whole sheet over #SPILL! and friends; the fallback reader
    // must read it like calamine reads the rest.
    let wb = load(
        &book()
            .sheet("Plain", r#"<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>"#)
            .sheet(
                "Dynamic",
                r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" cm="1" t="e"><f t="array" ref="B1">SEQUENCE(3)</f><v>#SPILL!</v></c><c r="C1" t="e"><f>FILTER(A1:A3,A1:A3&gt;9)</f><v>#CALC!</v></c><c r="D1" t="e"><v>#GETTING_DATA</v></c></row>
                   <row r="2"><c r="A2"><f t="shared" ref="A2:B2" si="0">LOG10(A3)</f><v>1</v></c><c r="B2"><f t="shared" si="0"/><v>0</v></c><c r="C2" t="e"><f>#N/A</f><v>#N/A</v></c><c r="D2" t="e"><v>#BLOCKED!</v></c></row>
                   <row r="3"><c r="A3"><v>10</v></c><c r="B3" t="str"><f>""</f><v></v></c></row>"#,
            )
            .shared_strings(&["label"])
            .build(),
    );
    assert_eq!(cell(&wb.sheets[0], "A1").formula, text("1+1"));
    let s = &wb.sheets[1];
    assert_eq!(cell(s, "A1").value, CellValue::Text("label".into()));
    assert_eq!(cell(s, "B1").value, CellValue::Error("#SPILL!".into()));
    assert_eq!(
        cell(s, "B1").formula,
        Some(Formula::Array {
            text: "SEQUENCE(3)".into(),
            range: (0, 1, 0, 1)
        })
    );
    assert_eq!(cell(s, "C1").value, CellValue::Error("#CALC!".into()));
    assert_eq!(cell(s, "C1").formula, text("FILTER(A1:A3,A1:A3>9)"));
    assert_eq!(
        cell(s, "D1").value,
        CellValue::Error("#GETTING_DATA".into())
    );
    assert_eq!(cell(s, "A2").formula, text("LOG10(A3)"));
    assert_eq!(cell(s, "B2").formula, shared("A2"));
    assert_eq!(cell(s, "C2").value, CellValue::Error("#N/A".into()));
    assert_eq!(cell(s, "D2").value, CellValue::Error("#BLOCKED!".into()));
    assert_eq!(cell(s, "B3").value, CellValue::Text(String::new()));
    assert_eq!(s.cells.len(), 10);
}

#[test]
fn data_tables_keep_cached_values_and_are_listed() {
    let wb = load(&one_sheet(
        r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>A1*2</f><v>2</v></c></row>
           <row r="2"><c r="A2"><v>5</v></c><c r="B2"><f t="dataTable" ref="B2:B3" dt2D="0" dtr="0" r1="A1"/><v>10</v></c></row>
           <row r="3"><c r="A3"><v>6</v></c><c r="B3"><v>12</v></c></row>"#,
    ));
    let s = &wb.sheets[0];
    assert_eq!(cell(s, "B2").formula, None);
    assert_eq!(cell(s, "B2").value, CellValue::Number(10.0));
    assert_eq!(cell(s, "B3").value, CellValue::Number(12.0));
    assert!(wb.warnings.is_empty(), "{:?}", wb.warnings);
    assert_eq!(
        wb.data_tables,
        vec![mcsim_workbook::DataTable {
            sheet: 0,
            range: (1, 1, 2, 1),
            two_d: false,
            row_input: false,
            r1: Some((0, 0)),
            r2: None,
        }]
    );
}

#[test]
fn two_variable_data_table_attributes() {
    let wb = load(&one_sheet(
        r#"<row r="1"><c r="A1"><f>C5+C6</f><v>0</v></c><c r="B1"><v>1</v></c><c r="C1"><v>2</v></c></row>
           <row r="2"><c r="A2"><v>5</v></c><c r="B2"><f t="dataTable" ref="B2:C2" dt2D="1" dtr="1" r1="C5" r2="C6" ca="1"/><v>6</v></c><c r="C2"><v>7</v></c></row>"#,
    ));
    assert_eq!(wb.data_tables.len(), 1);
    let t = &wb.data_tables[0];
    assert!(t.two_d && t.row_input);
    assert_eq!(
        (t.range, t.r1, t.r2),
        ((1, 1, 1, 2), Some((4, 2)), Some((5, 2)))
    );
}

#[test]
fn chart_sheets_are_skipped_and_sheet_names_kept() {
    let wb = load(
        &book()
            .chart_sheet("Chart")
            .sheet("Q&A <1>", r#"<row r="1"><c r="A1"><v>1</v></c></row>"#)
            .sheet("Empty", "")
            .build(),
    );
    let names: Vec<_> = wb.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Q&A <1>", "Empty"]);
    assert!(wb.sheets[1].cells.is_empty());
    assert!(wb.warnings.is_empty());
}

#[test]
fn many_cells_stream() {
    // 200 000 formula cells in one column (shared), each with a cached value.
    let mut data = String::from(
        r#"<row r="1"><c r="A1"><f t="shared" ref="A1:A200000" si="0">ROW()*2</f><v>2</v></c></row>"#,
    );
    for r in 2..=200_000 {
        data.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}"><f t="shared" si="0"/><v>{}</v></c></row>"#,
            r * 2
        ));
    }
    let wb = load(&one_sheet(&data));
    let s = &wb.sheets[0];
    assert_eq!(s.cells.len(), 200_000);
    assert_eq!(s.cells[199_999].formula, shared("A1"));
    assert_eq!(s.cells[199_999].value, CellValue::Number(400_000.0));
}

#[test]
fn tables_are_read_from_the_sheet_relationships() {
    let rels = |target: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/table" Target="{target}"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/printerSettings" Target="../printerSettings/p1.bin"/></Relationships>"#
        )
    };
    let table = r#"<?xml version="1.0" encoding="UTF-8"?><table xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" id="4" name="Table4" displayName="Costs" ref="B2:C5" headerRowCount="1" totalsRowCount="1" totalsRowShown="1"><tableColumns count="2"><tableColumn id="1" name="Item"/><tableColumn id="2" name="Unit Cost" totalsRowFunction="sum"/></tableColumns></table>"#;
    let bytes = book()
        .sheet("First", r#"<row r="1"><c r="A1"><v>1</v></c></row>"#)
        .sheet(
            "Second",
            r#"<row r="3"><c r="C3"><v>2</v></c></row><row r="6"><c r="A6"><f>SUM(Costs[Unit Cost])</f><v>2</v></c></row>"#,
        )
        .sheet("Third", r#"<row r="1"><c r="A1"><v>1</v></c></row>"#)
        .entry("xl/worksheets/_rels/sheet2.xml.rels", rels("../tables/table4.xml"))
        .entry("xl/tables/table4.xml", table)
        // The third sheet links a table part the archive lacks: a warning, not a failure.
        .entry("xl/worksheets/_rels/sheet3.xml.rels", rels("../tables/table9.xml"))
        .build();
    let wb = load(&bytes);
    assert_eq!(
        wb.tables,
        vec![mcsim_workbook::Table {
            sheet: 1,
            name: "Table4".into(),
            display_name: "Costs".into(),
            range: (1, 1, 4, 2),
            header_row_count: 1,
            totals_row_count: 1,
            columns: vec!["Item".into(), "Unit Cost".into()],
            filtered: false,
        }]
    );
    assert_eq!(wb.warnings.len(), 1, "{:?}", wb.warnings);
    assert!(wb.warnings[0].contains("table9.xml"), "{:?}", wb.warnings);
}
