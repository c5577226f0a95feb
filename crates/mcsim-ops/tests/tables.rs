#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Excel tables (structured references) and 3D references, in workbooks written in Excel's file
//! format: the table part `xl/tables/table1.xml` linked from the sheet's relationships, formulas
//! over the table from inside and outside it, a defined name over a table column, sums over a span
//! of sheets; and a Monte Carlo run whose output reads a table column of distributions.
//!
//! The expected values are worked out by hand from the cell contents (shown next to each check).

mod common;

use common::{Table, sheet_rels, simulate, write_book_with_parts};
use mcsim_engine::{Evaluator, Graph, Model, Value};
use mcsim_formula::ErrorKind;
use mcsim_workbook::{LoadOptions, load};
use std::path::Path;

/// A table part as Excel writes it (header row, optional totals row).
fn table_part(id: u32, name: &str, reference: &str, totals: bool, columns: &[&str]) -> String {
    Table {
        id,
        name,
        reference,
        columns,
        totals,
        filter: None,
        style: true,
    }
    .part()
}

fn write(path: &Path, cells: &[(&str, &str)], names: &[(&str, &str)], parts: &[(String, String)]) {
    let parts: Vec<(&str, String)> = parts.iter().map(|(n, c)| (n.as_str(), c.clone())).collect();
    write_book_with_parts(path, cells, names, &parts);
}

#[test]
fn structured_and_3d_references_compute_excel_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tables.xlsx");
    // Sheet 1 `Data` holds the table `Sales` over A1:D6: header row, four data rows, totals row.
    // Revenue is a calculated column written in the forms Excel and other writers use.
    let cells = [
        ("Data!A1", "Region"),
        ("Data!B1", "Units"),
        ("Data!C1", "Price"),
        ("Data!D1", "Revenue"),
        ("Data!A2", "North"),
        ("Data!B2", "10"),
        ("Data!C2", "2.5"),
        (
            "Data!D2",
            "=Sales[[#This Row],[Units]]*Sales[[#This Row],[Price]]",
        ),
        ("Data!A3", "South"),
        ("Data!B3", "20"),
        ("Data!C3", "3"),
        ("Data!D3", "=[@Units]*[@Price]"),
        ("Data!A4", "East"),
        ("Data!B4", "5"),
        ("Data!C4", "4"),
        ("Data!D4", "=Sales[@Units]*Sales[@[Price]]"),
        ("Data!A5", "West"),
        ("Data!B5", "8"),
        ("Data!C5", "1.5"),
        ("Data!D5", "=[@Units]*[@Price]"),
        ("Data!A6", "Total"),
        ("Data!B6", "=SUBTOTAL(109,Sales[Units])"),
        ("Data!C6", "=AVERAGE(Sales[Price])"),
        ("Data!D6", "=SUM([Revenue])"),
        // Sheets 2-4 (Jan, Feb, Mar): the span of the 3D references. Feb!B2 is a formula, so the 3D sums must
        // come after it in the evaluation order.
        ("Jan!A1", "1"),
        ("Jan!B1", "2"),
        ("Jan!B2", "3"),
        ("Feb!A1", "10"),
        ("Feb!B1", "4"),
        ("Feb!B2", "=A1*0.5"),
        ("Mar!A1", "100"),
        ("Mar!B1", "6"),
        ("Mar!B2", "7"),
        // Sheet 5: formulas over the table from outside it, and the 3D references.
        ("Report!A1", "=SUM(Sales[Revenue])"),
        ("Report!A2", "=SUM(Sales[[#Totals],[Units]:[Price]])"),
        ("Report!A3", "=COUNTA(Sales[#Headers])"),
        ("Report!A4", "=COUNTA(Sales[#All])"),
        ("Report!A5", "=ROWS(Sales)"),
        (
            "Report!A6",
            "=INDEX(Sales[Region],MATCH(MAX(Sales[Units]),Sales[Units],0))",
        ),
        ("Report!A7", "=SUMPRODUCT(Sales[Units],Sales[Price])"),
        ("Report!A8", "=TopUnits"),
        ("Report!A9", "=SUM(Sales[[#Data],[Units]:[Price]])"),
        ("Report!A10", "=COUNT(Sales[[#Headers],[#Data],[Units]])"),
        ("Report!A11", "=Sales[@Units]"),
        ("Report!A12", "=SUM(Sales[Discount])"),
        ("Report!A13", "=SUM(Sales[[#Data],[#Totals],[Units]])"),
        ("Report!A14", "=SUM(Sales[])"),
        ("Report!B1", "=SUM(Jan:Mar!A1)"),
        ("Report!B2", "=SUM(Jan:Mar!B1:B2)"),
        ("Report!B3", "=AVERAGE(Jan:Mar!A1)"),
        ("Report!B4", "=MAX('Jan:Mar'!B1:B2)"),
        ("Report!B5", "=COUNT(Feb:Mar!A1:B2)"),
        ("Report!B6", "=PRODUCT(Jan:Feb!A1)"),
        ("Report!B7", "=SUM(Jan:Dec!A1)"),
        ("Report!B8", "=MIN(Mar:Jan!B1)"),
        ("Report!B9", "=STDEV(Jan:Mar!A1)"),
        ("Report!B10", "=COUNTA(Jan:Mar!B2)"),
        ("Report!B11", "=SUM(Jan:Mar!A1,Sales[Units])"),
    ];
    write(
        &path,
        &cells,
        &[("TopUnits", "MAX(Sales[Units])")],
        &[
            (
                "xl/tables/table1.xml".into(),
                table_part(
                    1,
                    "Sales",
                    "A1:D6",
                    true,
                    &["Region", "Units", "Price", "Revenue"],
                ),
            ),
            sheet_rels(1, 1),
        ],
    );

    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(wb.tables.len(), 1, "{:?}", wb.warnings);
    assert_eq!(wb.tables[0].display_name, "Sales");
    assert_eq!(wb.tables[0].range, (0, 0, 5, 3));
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let cycles: Vec<String> = graph
        .cycles
        .iter()
        .flatten()
        .map(|&c| {
            let f = model.cells[c as usize].formula.unwrap();
            format!(
                "{} {}",
                model.cell_label(c),
                model.formulas[f as usize].text()
            )
        })
        .collect();
    assert!(cycles.is_empty(), "{cycles:?}");
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let get = |ev: &mut Evaluator<'_>, r: &str| -> Value {
        let (sheet, a1) = r.split_once('!').unwrap();
        let (row, col) = mcsim_formula::parse_a1(a1).unwrap();
        let s = model.sheet_id(sheet).unwrap();
        ev.value(model.find(s, row, col).unwrap()).clone()
    };
    let num = |ev: &mut Evaluator<'_>, r: &str| -> f64 {
        match get(ev, r) {
            Value::Number(n) => n,
            other => panic!("{r}: {other:?}"),
        }
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    for (cell, want) in [
        // Revenue = Units * Price per row: 25, 60, 20, 12.
        ("Data!D2", 25.0),
        ("Data!D3", 60.0),
        ("Data!D4", 20.0),
        ("Data!D5", 12.0),
        // Totals row: 10+20+5+8; (2.5+3+4+1.5)/4; 25+60+20+12.
        ("Data!B6", 43.0),
        ("Data!C6", 2.75),
        ("Data!D6", 117.0),
        ("Report!A1", 117.0),
        // Totals of Units and Price: 43 + 2.75.
        ("Report!A2", 45.75),
        // Four header names; 6 rows x 4 columns, every cell filled.
        ("Report!A3", 4.0),
        ("Report!A4", 24.0),
        // The bare table name is its data: 4 rows.
        ("Report!A5", 4.0),
        // 10*2.5 + 20*3 + 5*4 + 8*1.5.
        ("Report!A7", 117.0),
        // The defined name TopUnits = MAX(Sales[Units]).
        ("Report!A8", 20.0),
        // Units and Price data: 43 + 11.
        ("Report!A9", 54.0),
        // Header text is not counted: four numbers.
        ("Report!A10", 4.0),
        // Units data and totals: 43 + 43.
        ("Report!A13", 86.0),
        // Every data cell: 43 + 11 + 117 (the text of Region is ignored).
        ("Report!A14", 171.0),
        // 1 + 10 + 100.
        ("Report!B1", 111.0),
        // Jan: 2+3, Feb: 4+5 (Feb!B2 = 10*0.5), Mar: 6+7.
        ("Report!B2", 27.0),
        ("Report!B3", 37.0),
        ("Report!B4", 7.0),
        // Feb and Mar each hold A1, B1 and B2.
        ("Report!B5", 6.0),
        ("Report!B6", 10.0),
        // Written last sheet first: the same span, min of 2, 4, 6.
        ("Report!B8", 2.0),
        // Sample standard deviation of 1, 10, 100: mean 37, squares 1296+729+3969 = 5994, /2.
        ("Report!B9", 2997f64.sqrt()),
        ("Report!B10", 3.0),
        // 111 + 43.
        ("Report!B11", 154.0),
    ] {
        let got = num(&mut ev, cell);
        assert!(close(got, want), "{cell}: {got} vs {want}");
    }
    assert_eq!(get(&mut ev, "Report!A6"), Value::from("South"));
    // `[#This Row]` outside the table's rows, an unknown column, a sheet missing from the span.
    assert_eq!(get(&mut ev, "Report!A11"), Value::Error(ErrorKind::Value));
    assert_eq!(get(&mut ev, "Report!A12"), Value::Error(ErrorKind::Ref));
    assert_eq!(get(&mut ev, "Report!B7"), Value::Error(ErrorKind::Ref));

    // The 3D sum depends on every sheet of the span: a formula on Feb comes before it.
    let feb_b2 = model.find(model.sheet_id("Feb").unwrap(), 1, 1).unwrap();
    let b2 = model.find(model.sheet_id("Report").unwrap(), 1, 1).unwrap();
    let pos = |id| graph.order.iter().position(|&c| c == id).unwrap();
    assert!(pos(feb_b2) < pos(b2));
}

#[test]
fn a_table_column_of_distributions_feeds_a_simulated_output() {
    // Costs over A1:C4 (header, three data rows, no totals row): each Draw is a normal around
    // its row's Base; the output is the sum of the Draw column.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mc.xlsx");
    write(
        &path,
        &[
            ("Model!A1", "Item"),
            ("Model!B1", "Base"),
            ("Model!C1", "Draw"),
            ("Model!A2", "Rent"),
            ("Model!B2", "100"),
            ("Model!C2", "=RiskNormal(Costs[[#This Row],[Base]],3)"),
            ("Model!A3", "Staff"),
            ("Model!B3", "200"),
            ("Model!C3", "=RiskNormal([@Base],4)"),
            ("Model!A4", "Power"),
            ("Model!B4", "50"),
            ("Model!C4", "=RiskNormal(Costs[@Base],12)"),
            ("Model!E1", "=RiskOutput(\"total\")+SUM(Costs[Draw])"),
            ("Model!E2", "=RiskOutput(\"largest\")+MAX(Costs[Draw])"),
        ],
        &[],
        &[
            (
                "xl/tables/table1.xml".into(),
                table_part(1, "Costs", "A1:C4", false, &["Item", "Base", "Draw"]),
            ),
            sheet_rels(1, 1),
        ],
    );
    let n = 20_000u64;
    let r = simulate(&path, n, 20261207);
    assert_eq!(r.inputs.len(), 3, "{:?}", r.inputs);
    // The resolved references are ordinary ranges: the simulation compiler takes them.
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    let total = r.outputs.iter().find(|o| o.name == "total").unwrap();
    // Sum of independent normals: mean 350, variance 9 + 16 + 144 = 169 (sd 13). Means within 4
    // standard errors (sd / sqrt(n)); the sd within 2%.
    let se = 13.0 / (n as f64).sqrt();
    assert!(
        (total.summary.mean - 350.0).abs() <= 4.0 * se,
        "mean {} ({:?})",
        total.summary.mean,
        r.warnings
    );
    assert!(
        (total.summary.std_dev - 13.0).abs() <= 0.02 * 13.0,
        "sd {}",
        total.summary.std_dev
    );
    // The largest Draw is Staff's almost always (200 vs 100 and 50, sd 4): mean close to 200.
    let largest = r.outputs.iter().find(|o| o.name == "largest").unwrap();
    assert!(
        (largest.summary.mean - 200.0).abs() <= 4.0 * 4.0 / (n as f64).sqrt(),
        "largest {}",
        largest.summary.mean
    );
}

#[test]
fn a_3d_sum_of_distributions_is_simulated() {
    // One uniform per region sheet; the output sums A1 across the span North..South.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mc3d.xlsx");
    write(
        &path,
        &[
            ("North!A1", "=RiskUniform(0,12)"),
            ("Mid!A1", "=RiskUniform(0,12)"),
            ("South!A1", "=RiskNormal(10,2)"),
            ("Sum!A1", "=RiskOutput(\"total\")+SUM(North:South!A1)"),
        ],
        &[],
        &[],
    );
    let n = 20_000u64;
    let r = simulate(&path, n, 20261207);
    assert_eq!(r.inputs.len(), 3, "{:?}", r.inputs);
    // SUM's 3D argument is spread into one argument per sheet, which the compiler takes.
    assert_eq!(r.evaluation, "compiled", "{:?}", r.warnings);
    let total = r.outputs.iter().find(|o| o.name == "total").unwrap();
    // Mean 6 + 6 + 10; variance 12 + 12 + 4 = 28.
    let sd = 28f64.sqrt();
    assert!(
        (total.summary.mean - 22.0).abs() <= 4.0 * sd / (n as f64).sqrt(),
        "mean {} ({}, {:?})",
        total.summary.mean,
        r.evaluation,
        r.warnings
    );
    assert!(
        (total.summary.std_dev - sd).abs() <= 0.02 * sd,
        "sd {}",
        total.summary.std_dev
    );
}
