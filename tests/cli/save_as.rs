//! `mcsim run --save-as FILE.xlsx`: the copy is written, and the input is never overwritten.

use crate::common::{mcsim_in, temp, write_xlsx};

const MODEL: &str = r#"<row r="1"><c r="A1"><f>RiskNormal(10,2)</f><v>10</v></c><c r="B1"><f>RiskOutput("Y")+A1*2</f><v>20</v></c></row>"#;

#[test]
fn save_as_onto_the_input_is_refused() {
    let dir = temp();
    let input = dir.path().join("model.xlsx");
    write_xlsx(&input, MODEL, &[]);
    let before = std::fs::read(&input).unwrap();
    for target in ["model.xlsx", "./model.xlsx"] {
        let run = mcsim_in(
            dir.path(),
            &[
                "run",
                "model.xlsx",
                "-n",
                "100",
                "--seed",
                "1",
                "--save-as",
                target,
            ],
        );
        run.expect_code(2);
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains("is the input workbook") && run.stderr.contains("refusing"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
}

#[test]
fn save_as_needs_an_excel_extension() {
    let dir = temp();
    write_xlsx(&dir.path().join("model.xlsx"), MODEL, &[]);
    let run = mcsim_in(
        dir.path(),
        &["run", "model.xlsx", "-n", "100", "--save-as", "out.csv"],
    );
    run.expect_code(2);
    assert!(run.stderr.contains(".xlsx or .xlsm"), "{}", run.stderr);
    assert!(!dir.path().join("out.csv").exists());
}

#[test]
fn save_as_writes_a_loadable_copy() {
    let dir = temp();
    write_xlsx(&dir.path().join("model.xlsx"), MODEL, &[]);
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            "model.xlsx",
            "-n",
            "200",
            "--seed",
            "3",
            "--format",
            "json",
            "--save-as",
            "results.xlsx",
        ],
    );
    run.expect_code(0);
    assert!(
        run.json()["saved_as"]
            .as_str()
            .unwrap()
            .ends_with("results.xlsx"),
        "{}",
        run.stdout
    );
    // The copy is a workbook mcsim reads, with the same formulas.
    let parse = mcsim_in(dir.path(), &["parse", "results.xlsx", "--format", "json"]);
    parse.expect_code(0);
}
