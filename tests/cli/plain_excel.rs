//! Plain-Excel Monte Carlo workbooks (no add-in): RAND() idioms with `--output`, data tables
//! (recalculated, and used as the simulation loop), manual calculation, and cells that cannot be
//! evaluated.

use std::path::Path;

use crate::common::{mcsim_in, output, temp, write_xlsx, xlsx};

/// Writes a one-sheet workbook with `workbook_extra` inside `<workbook>` (after `<sheets>`).
fn write_book(path: &Path, sheet_data: &str, workbook_extra: &str) {
    let parts = xlsx::workbook_parts(&[("Model", sheet_data)], workbook_extra);
    let parts: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_bytes()))
        .collect();
    xlsx::write_zip(path, &parts);
}

/// `<c>` with a formula and a cached number.
fn f(cell: &str, formula: &str, cached: f64) -> String {
    let formula = formula
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<c r=\"{cell}\"><f>{formula}</f><v>{cached}</v></c>")
}

/// `<c>` with a number.
fn n(cell: &str, v: f64) -> String {
    format!("<c r=\"{cell}\"><v>{v}</v></c>")
}

fn row(r: u32, cells: &[String]) -> String {
    format!("<row r=\"{r}\">{}</row>", cells.concat())
}

fn stat(json: &serde_json::Value, name: &str, key: &str) -> f64 {
    output(json, name)["summary"][key]
        .as_f64()
        .unwrap_or_else(|| panic!("{name}.{key} missing: {}", output(json, name)))
}

#[test]
fn rand_idioms_run_with_output_flags() {
    let dir = temp();
    let path = dir.path().join("idioms.xlsx");
    let mut rows = vec![row(
        1,
        &[
            f("A1", "NORM.INV(RAND(),10,2)", 10.0),
            f("B1", "NORMSINV(RAND())", 0.0),
            f("C1", "BETA.INV(RAND(),2,5)", 0.3),
            f("D1", "RANDBETWEEN(1,6)", 3.0),
            f("E1", "-LN(1-RAND())/2", 0.5),
            f("F1", "INDEX($H$1:$H$4,RANDBETWEEN(1,4))", 2.0),
            f("G1", "OFFSET($H$1,RANDBETWEEN(0,3),0)", 2.0),
            n("H1", 1.0),
            f("J1", "AVERAGE(K1:K100)", 10.0),
        ],
    )];
    rows.push(row(2, &[n("H2", 2.0)]));
    rows.push(row(3, &[n("H3", 3.0)]));
    rows.push(row(4, &[n("H4", 10.0)]));
    // One iteration per row: 100 rows of draws, summarised by AVERAGE in J1.
    let mut sheet = String::new();
    for (i, r) in rows.iter().enumerate() {
        let k = format!("K{}", i + 1);
        sheet.push_str(&r.replace(
            "</row>",
            &format!("{}</row>", f(&k, "NORM.INV(RAND(),10,2)", 10.0)),
        ));
    }
    for r in 5..=100 {
        sheet.push_str(&row(
            r,
            &[f(&format!("K{r}"), "NORM.INV(RAND(),10,2)", 10.0)],
        ));
    }
    write_xlsx(&path, &sheet, &[]);
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            "idioms.xlsx",
            "-n",
            "4000",
            "--seed",
            "3",
            "--format",
            "json",
            "--output",
            "Sheet1!A1=normal",
            "--output",
            "B1=normsinv",
            "--output",
            "Sheet1!C1=beta",
            "--output",
            "'Sheet1'!D1=die",
            "--output",
            "E1=expo",
            "--output",
            "F1=resample",
            "--output",
            "G1=offset",
            "--output",
            "J1=average",
        ],
    );
    run.expect_code(0);
    let j = run.json();
    assert_eq!(j["iterations"], 4000);
    // Tolerances: several standard errors of the mean at 4000 iterations.
    assert!((stat(&j, "normal", "mean") - 10.0).abs() < 0.15);
    assert!((stat(&j, "normal", "std_dev") - 2.0).abs() < 0.15);
    assert!(stat(&j, "normsinv", "mean").abs() < 0.08);
    assert!((stat(&j, "normsinv", "std_dev") - 1.0).abs() < 0.08);
    assert!((stat(&j, "beta", "mean") - 2.0 / 7.0).abs() < 0.01);
    assert!(stat(&j, "beta", "min") >= 0.0 && stat(&j, "beta", "max") <= 1.0);
    assert!((stat(&j, "die", "mean") - 3.5).abs() < 0.1);
    assert_eq!(stat(&j, "die", "min"), 1.0);
    assert_eq!(stat(&j, "die", "max"), 6.0);
    assert!((stat(&j, "expo", "mean") - 0.5).abs() < 0.03);
    assert!(stat(&j, "expo", "min") >= 0.0);
    assert!((stat(&j, "resample", "mean") - 4.0).abs() < 0.2);
    assert_eq!(stat(&j, "resample", "max"), 10.0);
    assert!((stat(&j, "offset", "mean") - 4.0).abs() < 0.2);
    assert_eq!(stat(&j, "offset", "min"), 1.0);
    // The average of 100 draws: mean 10, sd 2/sqrt(100) = 0.2.
    assert!((stat(&j, "average", "mean") - 10.0).abs() < 0.03);
    assert!((stat(&j, "average", "std_dev") - 0.2).abs() < 0.03);
}

#[test]
fn output_errors_name_the_reference() {
    let dir = temp();
    let path = dir.path().join("m.xlsx");
    write_xlsx(&path, &row(1, &[f("A1", "RAND()", 0.5)]), &[]);
    let run = mcsim_in(dir.path(), &["run", "m.xlsx", "--output", "Sheet1!Z99"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("--output Sheet1!Z99") && run.stderr.contains("empty cell"),
        "{}",
        run.stderr
    );
    let run = mcsim_in(dir.path(), &["run", "m.xlsx", "--output", "Nowhere!A1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("Nowhere"), "{}", run.stderr);
    let run = mcsim_in(dir.path(), &["run", "m.xlsx"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--output"), "{}", run.stderr);
}

/// A RAND() model with a data table as its loop: D1 = B1 is the result formula, C2:C51 the row
/// numbers, D2:D51 the table `{=TABLE(,F1)}` with F1 blank.
fn loop_book(path: &Path) {
    let mut sheet = row(
        1,
        &[
            f("A1", "RAND()", 0.3),
            f("B1", "A1*10", 3.0),
            f("D1", "B1", 3.0),
            f("H1", "AVERAGE(D2:D51)", 5.0),
        ],
    );
    for r in 2..=51 {
        let table = if r == 2 {
            r#"<c r="D2"><f t="dataTable" ref="D2:D51" dt2D="0" dtr="0" r1="F1" ca="1"/><v>4</v></c>"#
                .to_owned()
        } else {
            n(&format!("D{r}"), 4.0)
        };
        sheet.push_str(&row(r, &[n(&format!("C{r}"), (r - 1) as f64), table]));
    }
    write_xlsx(path, &sheet, &[]);
}

#[test]
fn data_table_as_simulation_loop_is_detected_and_run() {
    let dir = temp();
    loop_book(&dir.path().join("loop.xlsx"));
    let parse = mcsim_in(dir.path(), &["parse", "loop.xlsx"]);
    parse.expect_code(0);
    assert!(
        parse
            .stdout
            .contains("data table used as a simulation loop")
            && parse.stdout.contains("Sheet1!D2:D51")
            && parse.stdout.contains("mcsim run loop.xlsx"),
        "{}",
        parse.stdout
    );
    let json = mcsim_in(dir.path(), &["parse", "loop.xlsx", "--format", "json"]);
    let pj = json.json();
    assert_eq!(pj["data_tables"][0]["simulation_loop"], true);
    assert_eq!(pj["data_tables"][0]["runs"], 50);
    assert_eq!(pj["data_tables"][0]["result_formulas"][0], "Sheet1!D1");

    let run = mcsim_in(
        dir.path(),
        &["run", "loop.xlsx", "--seed", "1", "--format", "json"],
    );
    run.expect_code(0);
    let j = run.json();
    // Iterations default to the table's row count; the output is the result formula.
    assert_eq!(j["iterations"], 50);
    assert_eq!(j["outputs"].as_array().unwrap().len(), 1);
    assert_eq!(j["outputs"][0]["cell"], "Sheet1!D1");
    // 10 * U(0,1) by Latin Hypercube over 50 iterations: the mean is within 0.2 of 5.
    let mean = stat(&j, "Sheet1!D1", "mean");
    assert!((mean - 5.0).abs() < 0.2, "{mean}");
    assert!(stat(&j, "Sheet1!D1", "std_dev") > 2.0);
    assert!(
        run.stderr.contains("simulation loop") && run.stderr.contains("Sheet1!D2:D51"),
        "{}",
        run.stderr
    );

    // -n still wins.
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            "loop.xlsx",
            "-n",
            "200",
            "--seed",
            "1",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.json()["iterations"], 200);
}

/// A deterministic model with a 1-D column table over A1 and a 2-D table over (A1, A2).
fn tables_book(path: &Path, wrong_cached: bool) -> String {
    // Model: B1 = A1*A1 + A2. 1-D: C2 = B1 (formula above), inputs B3:B5 = 1,2,3 → C3:C5.
    // 2-D: F2 = B1 at the corner, row values G2:H2 = 1,2 (A1), column values F3:F4 = 10,20 (A2).
    let c5 = if wrong_cached { 99.0 } else { 9.0 + 2.0 };
    let sheet = [
        row(1, &[n("A1", 5.0), f("B1", "A1*A1+A2", 27.0)]),
        row(
            2,
            &[
                n("A2", 2.0),
                f("C2", "B1", 27.0),
                f("F2", "B1", 27.0),
                n("G2", 1.0),
                n("H2", 2.0),
            ],
        ),
        row(
            3,
            &[
                n("B3", 1.0),
                r#"<c r="C3"><f t="dataTable" ref="C3:C5" dt2D="0" dtr="0" r1="A1"/><v>3</v></c>"#
                    .to_owned(),
                n("F3", 10.0),
                r#"<c r="G3"><f t="dataTable" ref="G3:H4" dt2D="1" dtr="1" r1="A1" r2="A2"/><v>11</v></c>"#
                    .to_owned(),
                n("H3", 14.0),
            ],
        ),
        row(4, &[n("B4", 2.0), n("C4", 6.0), n("F4", 20.0), n("G4", 21.0), n("H4", 24.0)]),
        row(5, &[n("B5", 3.0), n("C5", c5), f("J5", "SUM(C3:C5)+SUM(G3:H4)", 20.0 + 70.0)]),
    ];
    let text = sheet.concat();
    write_xlsx(path, &text, &[]);
    text
}

#[test]
fn data_tables_are_recalculated_in_parse_recalc() {
    let dir = temp();
    tables_book(&dir.path().join("t.xlsx"), false);
    let run = mcsim_in(
        dir.path(),
        &["parse", "t.xlsx", "--recalc", "--format", "json"],
    );
    run.expect_code(0);
    let j = run.json();
    let cells = j["recalc"]["cells"].as_array().unwrap();
    let cell = |r: &str| {
        cells
            .iter()
            .find(|c| c["ref"] == r)
            .unwrap_or_else(|| panic!("{r}"))
    };
    // 1-D: A1 = 1, 2, 3 with A2 = 2.
    assert_eq!(cell("Sheet1!C3")["value"], 3.0);
    assert_eq!(cell("Sheet1!C4")["value"], 6.0);
    assert_eq!(cell("Sheet1!C5")["value"], 11.0);
    assert_eq!(cell("Sheet1!C3")["formula"], "=TABLE(,A1)");
    // 2-D: A1 along the row (1, 2), A2 down the column (10, 20).
    assert_eq!(cell("Sheet1!G3")["value"], 11.0);
    assert_eq!(cell("Sheet1!H3")["value"], 14.0);
    assert_eq!(cell("Sheet1!G4")["value"], 21.0);
    assert_eq!(cell("Sheet1!H4")["value"], 24.0);
    assert_eq!(cell("Sheet1!G3")["formula"], "=TABLE(A1,A2)");
    // The model is back at its own inputs, and the reader of the tables sees the new values.
    assert_eq!(cell("Sheet1!B1")["value"], 27.0);
    assert_eq!(cell("Sheet1!J5")["value"], 20.0 + 70.0);
    assert_eq!(j["recalc"]["summary"]["mismatched"], 0);
    assert_eq!(j["data_tables"].as_array().unwrap().len(), 2);
    assert_eq!(j["data_tables"][1]["runs"], 4);

    // A stale cached value is found.
    tables_book(&dir.path().join("bad.xlsx"), true);
    let run = mcsim_in(
        dir.path(),
        &["parse", "bad.xlsx", "--recalc", "--format", "json"],
    );
    run.expect_code(1);
    let j = run.json();
    let bad: Vec<&serde_json::Value> = j["recalc"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "mismatch")
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0]["ref"], "Sheet1!C5");
}

#[test]
fn data_table_read_by_an_output_is_recalculated_in_runs() {
    let dir = temp();
    // Output K1 = SUM of the 1-D table (3 + 6 + 11 = 20 recalculated; the cache says 3+6+99)
    // plus a uniform draw: mean 20.5.
    let mut text = tables_book(&dir.path().join("unused.xlsx"), true);
    text.push_str(&row(6, &[f("K6", "SUM(C3:C5)+RAND()", 108.5)]));
    write_xlsx(&dir.path().join("t.xlsx"), &text, &[]);
    let run = mcsim_in(
        dir.path(),
        &[
            "run", "t.xlsx", "-n", "1000", "--seed", "2", "--output", "K6=total", "--format",
            "json",
        ],
    );
    run.expect_code(0);
    let j = run.json();
    // (U(0,1) has sd 0.29: 0.05 is over 5 standard errors at 1000 iterations.)
    let mean = stat(&j, "total", "mean");
    assert!((mean - 20.5).abs() < 0.05, "{mean}");
}

#[test]
fn manual_calculation_workbooks_recalculate() {
    let dir = temp();
    let sheet = row(
        1,
        &[
            n("A1", 2.0),
            f("B1", "A1*3", 5.0), // stale: manual calculation never updated it
            f("C1", "NORM.INV(RAND(),B1,1)", 0.0),
        ],
    );
    write_book(
        &dir.path().join("manual.xlsx"),
        &sheet,
        r#"<calcPr calcId="191029" calcMode="manual" calcOnSave="0"/>"#,
    );
    let run = mcsim_in(
        dir.path(),
        &["parse", "manual.xlsx", "--recalc", "--format", "json"],
    );
    let j = run.json();
    let b1 = j["recalc"]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ref"] == "Model!B1")
        .unwrap();
    assert_eq!(b1["value"], 6.0);
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            "manual.xlsx",
            "-n",
            "2000",
            "--seed",
            "1",
            "--output",
            "C1=x",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    let j = run.json();
    assert!((stat(&j, "x", "mean") - 6.0).abs() < 0.1);
    assert!((stat(&j, "x", "std_dev") - 1.0).abs() < 0.1);
}

#[test]
fn unevaluable_cells_keep_stored_values_with_a_warning() {
    let dir = temp();
    // C1: Python in Excel; E1: a link to another workbook. Both feed a stochastic output.
    let sheet = row(
        1,
        &[
            f("C1", "_xlfn._xlws.PY(0,1,A1)", 7.0),
            f("D1", "C1*2", 14.0),
            f("E1", "[1]Sheet1!$A$1", 3.0),
            f("G1", "D1+E1+RAND()", 17.5),
        ],
    );
    write_xlsx(&dir.path().join("py.xlsx"), &sheet, &[]);
    let run = mcsim_in(
        dir.path(),
        &[
            "run", "py.xlsx", "-n", "1000", "--seed", "1", "--output", "G1=y", "--format", "json",
        ],
    );
    run.expect_code(0);
    let j = run.json();
    let mean = stat(&j, "y", "mean");
    assert!((mean - 17.5).abs() < 0.05, "{mean}");
    assert!(
        run.stderr.contains("Sheet1!C1") && run.stderr.contains("Sheet1!E1"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("stored"), "{}", run.stderr);
}

#[test]
fn parse_suggests_outputs_for_rand_workbooks() {
    let dir = temp();
    let mut sheet = row(
        1,
        &[
            f("A1", "NORM.INV(RAND(),10,2)", 10.0),
            f("C1", "AVERAGE(A1:A20)", 10.0),
        ],
    );
    for r in 2..=20 {
        sheet.push_str(&row(
            r,
            &[f(&format!("A{r}"), "NORM.INV(RAND(),10,2)", 10.0)],
        ));
    }
    write_xlsx(&dir.path().join("rows.xlsx"), &sheet, &[]);
    let run = mcsim_in(dir.path(), &["parse", "rows.xlsx"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("mcsim run rows.xlsx --output Sheet1!C1"),
        "{}",
        run.stdout
    );
    let j = mcsim_in(dir.path(), &["parse", "rows.xlsx", "--format", "json"]).json();
    assert_eq!(j["simulation"]["suggested_outputs"][0], "Sheet1!C1");
}
