//! `mcsim parse` on good workbooks.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::common::{example, mcsim_in, root, temp, typed_row, write_xlsx};

/// The corpus example has values Excel computed and stored.
const EXCEL_EXAMPLE: &str = "ironcalc_example.xlsx";
/// The project-finance model, written by openpyxl: no stored values.
const NPV_EXAMPLE: &str = "npv_project.xlsx";

#[test]
fn table_summarises_the_example_workbook() {
    let run = mcsim_in(&root(), &["parse", "examples/ironcalc_example.xlsx"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("examples/ironcalc_example.xlsx: 10 sheets, "),
        "{}",
        run.stdout
    );
    for expected in [
        "Sheets\n",
        "  Sheet1 ",
        "  Created fourth ",
        "Functions (",
        "  SUM ",
        "Unsupported functions",
        "Parse errors: none",
        "Circular references: none",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stdout
        );
    }
    // No recalculation section without --recalc.
    assert!(!run.stdout.contains("Recalculation"), "{}", run.stdout);
}

#[test]
fn json_describes_the_example_workbook() {
    let run = mcsim_in(
        &root(),
        &[
            "parse",
            "--format",
            "json",
            &example(EXCEL_EXAMPLE).display().to_string(),
        ],
    );
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["file_name"], EXCEL_EXAMPLE);
    assert_eq!(json["date_system"], "1900");
    let sheets = json["sheets"].as_array().unwrap();
    assert_eq!(sheets.len(), 10, "the chart sheet is not a worksheet");
    assert_eq!(sheets[0]["name"], "Sheet1");
    let formulas: u64 = sheets.iter().map(|s| s["formulas"].as_u64().unwrap()).sum();
    assert_eq!(json["totals"]["formulas"].as_u64(), Some(formulas));
    assert!(formulas >= 36, "{formulas} formula cells");
    let functions = json["functions"].as_array().unwrap();
    assert!(
        functions.iter().any(|f| f["name"] == "SUM"),
        "{functions:?}"
    );
    // Sorted by the number of cells, most used first.
    let counts: Vec<u64> = functions
        .iter()
        .map(|f| f["cells"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    for key in ["unsupported", "parse_errors", "cycles", "warnings"] {
        assert!(json[key].is_array(), "{key} is not a list");
    }
    assert!(json.get("recalc").is_none());
}

#[test]
fn recalc_json_lists_every_formula_cell() {
    let run = mcsim_in(
        &root(),
        &[
            "parse",
            "--recalc",
            "--format",
            "json",
            "examples/ironcalc_example.xlsx",
        ],
    );
    // Excel's values for this workbook are all reproduced.
    run.expect_code(0);
    let json = run.json();
    let recalc = &json["recalc"];
    let cells = recalc["cells"].as_array().unwrap();
    assert_eq!(
        Some(cells.len() as u64),
        json["totals"]["formulas"].as_u64()
    );
    let summary = &recalc["summary"];
    let n = |k: &str| summary[k].as_u64().unwrap();
    assert_eq!(n("formula_cells"), cells.len() as u64);
    assert_eq!(
        n("compared") + n("skipped_volatile") + n("no_cached_value"),
        n("formula_cells")
    );
    assert_eq!(n("matched") + n("mismatched"), n("compared"));
    assert_eq!(n("mismatched"), 0);
    assert_eq!(n("matched"), n("formula_cells"));
    for cell in cells {
        let reference = cell["ref"].as_str().unwrap();
        assert!(reference.contains('!'), "{reference}");
        assert!(cell["formula"].as_str().unwrap().starts_with('='), "{cell}");
        for key in ["value", "cached"] {
            let v = &cell[key];
            let ok = v.is_number()
                || v.is_string()
                || v.is_boolean()
                || v.is_null()
                || v.get("error")
                    .is_some_and(|e| e.as_str().is_some_and(|e| e.starts_with('#')));
            assert!(ok, "{reference}: {key} = {v}");
        }
        // Excel stored a value for every formula cell of this workbook.
        assert!(!cell["cached"].is_null(), "{cell}");
        assert!(
            !cell["value"].is_null(),
            "a formula never computes to empty: {cell}"
        );
    }
    assert!(
        cells
            .iter()
            .any(|c| c["ref"] == "Sheet1!D1" && c["formula"] == "=C1+1")
    );
}

#[test]
fn recalc_matching_values_exit_0_with_every_value_type() {
    let dir = temp();
    write_xlsx(&dir.path().join("ok.xlsx"), &typed_row(Some("6")), &[]);
    let run = mcsim_in(
        dir.path(),
        &["parse", "--recalc", "--format", "json", "ok.xlsx"],
    );
    run.expect_code(0);
    let json = run.json();
    let cells = json["recalc"]["cells"].as_array().unwrap();
    let by_ref = |r: &str| cells.iter().find(|c| c["ref"] == r).unwrap().clone();
    assert_eq!(by_ref("Sheet1!B1")["value"], 6.0);
    assert_eq!(by_ref("Sheet1!B1")["cached"], 6.0);
    assert_eq!(by_ref("Sheet1!B1")["formula"], "=A1*3");
    assert_eq!(
        by_ref("Sheet1!C1")["value"],
        serde_json::json!({"error": "#DIV/0!"})
    );
    assert_eq!(
        by_ref("Sheet1!C1")["cached"],
        serde_json::json!({"error": "#DIV/0!"})
    );
    assert_eq!(by_ref("Sheet1!D1")["value"], "2x");
    assert_eq!(by_ref("Sheet1!E1")["value"], true);
    assert_eq!(by_ref("Sheet1!E1")["cached"], true);
    assert_eq!(json["recalc"]["summary"]["matched"], 4);
    assert_eq!(json["recalc"]["summary"]["mismatched"], 0);

    let table = mcsim_in(dir.path(), &["parse", "--recalc", "ok.xlsx"]);
    table.expect_code(0);
    assert!(
        table
            .stdout
            .contains("Result: ok, 4 of 4 compared cells match"),
        "{}",
        table.stdout
    );
}

#[test]
fn recalc_mismatch_exits_1_and_lists_the_cell() {
    let dir = temp();
    write_xlsx(&dir.path().join("wrong.xlsx"), &typed_row(Some("7")), &[]);
    let run = mcsim_in(dir.path(), &["parse", "--recalc", "wrong.xlsx"]);
    run.expect_code(1);
    assert_eq!(
        run.stdout,
        "wrong.xlsx: 1 sheet, 5 cells, 4 formula cells, 1900 date system

Sheets
  Sheet1         5 cells         4 formulas

Functions: none

Unsupported functions: none
Parse errors: none
Circular references: none

Recalculation: 4 formula cells
  compared with stored values         4
  matched                             3
  mismatched                          1
  skipped (volatile)                  0
  no stored value                     0

Mismatches (1)
  cell       formula  computed  stored
  Sheet1!B1  =A1*3    6         7

Result: FAIL, 1 of 4 compared cells differ from the stored values
"
    );
    assert_eq!(run.stderr, "");

    let json = mcsim_in(
        dir.path(),
        &["parse", "--recalc", "--format", "json", "wrong.xlsx"],
    );
    json.expect_code(1);
    let json = json.json();
    let b1 = &json["recalc"]["cells"][0];
    assert_eq!(b1["ref"], "Sheet1!B1");
    assert_eq!(b1["status"], "mismatch");
    assert_eq!(json["recalc"]["summary"]["mismatched"], 1);

    // Without --recalc nothing is compared, so nothing fails.
    mcsim_in(dir.path(), &["parse", "wrong.xlsx"]).expect_code(0);
}

#[test]
fn show_limits_the_listed_mismatches() {
    let dir = temp();
    let row = "<row r=\"1\"><c r=\"A1\"><v>1</v></c>\
        <c r=\"B1\"><f>A1+1</f><v>0</v></c><c r=\"C1\"><f>A1+2</f><v>0</v></c>\
        <c r=\"D1\"><f>A1+3</f><v>0</v></c></row>";
    write_xlsx(&dir.path().join("three.xlsx"), row, &[]);
    let run = mcsim_in(
        dir.path(),
        &["parse", "--recalc", "--show", "2", "three.xlsx"],
    );
    run.expect_code(1);
    assert!(
        run.stdout
            .contains("Mismatches (the first 2 of 3; --show N lists more)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Sheet1!C1"));
    assert!(!run.stdout.contains("Sheet1!D1"), "{}", run.stdout);
}

#[test]
fn workbook_without_cached_values_is_computed_not_compared() {
    let dir = temp();
    write_xlsx(&dir.path().join("nocache.xlsx"), &typed_row(None), &[]);
    let run = mcsim_in(
        dir.path(),
        &["parse", "--recalc", "--format", "json", "nocache.xlsx"],
    );
    run.expect_code(0);
    let json = run.json();
    let b1 = &json["recalc"]["cells"][0];
    assert_eq!(b1["ref"], "Sheet1!B1");
    assert_eq!(b1["value"], 6.0);
    assert!(b1["cached"].is_null(), "{b1}");
    assert_eq!(b1["status"], "no_cached_value");
    assert_eq!(json["recalc"]["summary"]["no_cached_value"], 1);

    // The openpyxl-written example: nothing stored, everything computed.
    let run = mcsim_in(
        &root(),
        &[
            "parse",
            "--recalc",
            "--format",
            "json",
            "examples/npv_project.xlsx",
        ],
    );
    run.expect_code(0);
    let json = run.json();
    let cells = json["recalc"]["cells"].as_array().unwrap();
    assert!(cells.len() > 100, "{} formula cells", cells.len());
    assert!(
        cells
            .iter()
            .all(|c| c["cached"].is_null() && !c["value"].is_null())
    );
    assert_eq!(json["recalc"]["summary"]["compared"], 0);
}

#[test]
fn volatile_cells_are_skipped() {
    let dir = temp();
    let row = "<row r=\"1\"><c r=\"A1\"><f>RAND()</f><v>0.5</v></c>\
        <c r=\"B1\"><f>NOW()*0+1</f><v>7</v></c></row>";
    write_xlsx(&dir.path().join("volatile.xlsx"), row, &[]);
    let run = mcsim_in(
        dir.path(),
        &["parse", "--recalc", "--format", "json", "volatile.xlsx"],
    );
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["recalc"]["summary"]["skipped_volatile"], 2);
    assert_eq!(json["recalc"]["cells"][0]["status"], "volatile");
}

#[test]
fn reports_parse_errors_unsupported_functions_and_cycles() {
    let dir = temp();
    let row = "<row r=\"1\"><c r=\"A1\"><f>B1+1</f></c><c r=\"B1\"><f>A1+1</f></c>\
        <c r=\"C1\"><f>1+*2</f></c><c r=\"D1\"><f>NOSUCHFUNCTION(1)</f></c>\
        <c r=\"E1\"><f>NOSUCHFUNCTION(2)</f></c></row>";
    write_xlsx(&dir.path().join("bad.xlsx"), row, &[]);
    let run = mcsim_in(dir.path(), &["parse", "--format", "json", "bad.xlsx"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(
        json["parse_errors"][0],
        serde_json::json!({
            "sheet": "Sheet1", "cell": "C1", "formula": "=1+*2", "position": 4,
            "message": json["parse_errors"][0]["message"],
        })
    );
    assert_eq!(
        json["unsupported"],
        serde_json::json!([{"name": "NOSUCHFUNCTION", "cells": ["Sheet1!D1", "Sheet1!E1"]}])
    );
    assert_eq!(
        json["cycles"],
        serde_json::json!([["Sheet1!A1", "Sheet1!B1"]])
    );

    let table = mcsim_in(dir.path(), &["parse", "--show", "1", "bad.xlsx"]);
    table.expect_code(0);
    for expected in [
        "Unsupported functions (1): NOSUCHFUNCTION (cells calling them evaluate to #NAME?)",
        "  NOSUCHFUNCTION  2 cells: Sheet1!D1, ... and 1 more",
        "Parse errors (1)",
        "  Sheet1!C1  =1+*2  position 4: ",
        "Circular references (1)\n  Sheet1!A1, Sheet1!B1\n",
    ] {
        assert!(
            table.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            table.stdout
        );
    }
}

#[test]
fn broken_pipe_exits_0() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcsim"))
        .args(["parse", "--recalc", "--format", "json"])
        .arg(example(NPV_EXAMPLE))
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn help_explains_flags_and_exit_status() {
    let run = mcsim_in(&root(), &["parse", "--help"]);
    run.expect_code(0);
    for expected in [
        "--recalc",
        "--format",
        "--max-decompressed-bytes",
        "--max-zip-entries",
        "--show",
        "Exit status:",
        "  1  ",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stdout
        );
    }
    let run = mcsim_in(&root(), &["--help"]);
    run.expect_code(0);
    assert!(run.stdout.contains("parse"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("generate"),
        "generate is hidden:\n{}",
        run.stdout
    );
}
