//! `mcsim results` on samples files written by `mcsim run --out`.

use std::path::Path;

use crate::common::{assert_error, mcsim_in, temp};
use crate::run::{means, risk_model, run_json};

/// Runs the @RISK model with `seed`, writing `file`, and returns the run's report.
fn run_to(dir: &Path, seed: &str, file: &str) -> serde_json::Value {
    run_json(
        dir,
        &[&risk_model(), "-n", "3000", "--seed", seed, "--out", file],
    )
}

#[test]
fn results_reproduce_the_run_in_every_format() {
    let dir = temp();
    for file in ["s.parquet", "s.csv", "s.arrow"] {
        let run = run_to(dir.path(), "17", file);
        let results = mcsim_in(dir.path(), &["results", file, "--format", "json"]);
        results.expect_code(0);
        let report = results.json();
        assert_eq!(report["rows"], 3000, "{file}");
        assert_eq!(report["run"]["seed"], 17, "{file}");
        assert_eq!(report["inputs"].as_array().unwrap().len(), 8, "{file}");
        let (expected, got) = (means(&run), means(&report));
        assert_eq!(expected.len(), got.len(), "{file}");
        for ((name_a, a), (name_b, b)) in expected.iter().zip(&got) {
            assert_eq!(name_a, name_b, "{file}");
            assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                "{file} {name_a}: run {a}, results {b}"
            );
        }
        // Sensitivities are re-derived from the file's input columns.
        let npv = report["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "NPV")
            .unwrap();
        let ran = run["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == "NPV")
            .unwrap();
        assert_eq!(npv["sensitivity"], ran["sensitivity"], "{file}");
    }
}

#[test]
fn table_and_csv_formats() {
    let dir = temp();
    run_to(dir.path(), "4", "s.parquet");
    let table = mcsim_in(dir.path(), &["results", "s.parquet", "--output", "NPV"]);
    table.expect_code(0);
    for expected in [
        "Samples\n",
        "  file         s.parquet (parquet, 3000 rows)\n",
        "  seed         4\n",
        "Outputs (1)\n",
        "\nNPV\n",
        "  sensitivity (top 5 of 8 inputs, by |Spearman|)",
    ] {
        assert!(
            table.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            table.stdout
        );
    }
    assert!(!table.stdout.contains("TotalCash"), "{}", table.stdout);

    let csv = mcsim_in(dir.path(), &["results", "s.parquet", "--format", "csv"]);
    csv.expect_code(0);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 8, "header + 7 outputs:\n{}", csv.stdout);
    assert!(
        lines[0].starts_with("output,n,errors,mean,std_dev,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(",p5,"), "{}", lines[0]);
    assert!(lines[1].starts_with("NPV,3000,0,"), "{}", lines[1]);
}

#[test]
fn runs_with_different_seeds_do_not_differ_significantly() {
    let dir = temp();
    run_to(dir.path(), "1", "a.parquet");
    run_to(dir.path(), "2", "b.arrow");
    // One output: each further output is another 5% chance of a false alarm.
    let table = mcsim_in(
        dir.path(),
        &[
            "results",
            "a.parquet",
            "--compare",
            "b.arrow",
            "--output",
            "NPV",
        ],
    );
    table.expect_code(0);
    assert!(
        table.stdout.contains("Result: no significant difference"),
        "{}",
        table.stdout
    );

    let json = mcsim_in(
        dir.path(),
        &[
            "results",
            "a.parquet",
            "--compare",
            "b.arrow",
            "--output",
            "NPV",
            "--format",
            "json",
        ],
    );
    json.expect_code(0);
    let report = json.json();
    let comparison = &report["comparison"];
    assert_eq!(comparison["rows"], 3000);
    assert_eq!(comparison["differing"], serde_json::json!([]));
    assert_eq!(comparison["outputs"].as_array().unwrap().len(), 1);
    let npv = &comparison["outputs"][0];
    assert_eq!(npv["output"], "NPV");
    assert_eq!(npv["mean_differs"], false);
    assert!(npv["mean_diff"].as_f64().unwrap() != 0.0);
    assert!(npv["ks"]["p_value"].as_f64().unwrap() > 0.0);
    assert!(npv["percentiles"].as_array().unwrap().len() >= 3);

    // A different model (a what-if) does differ.
    run_json(
        dir.path(),
        &[
            &risk_model(),
            "-n",
            "3000",
            "--seed",
            "2",
            "--set",
            "Inputs!B3=45",
            "--out",
            "c.parquet",
        ],
    );
    let differs = mcsim_in(
        dir.path(),
        &[
            "results",
            "a.parquet",
            "--compare",
            "c.parquet",
            "--output",
            "NPV",
        ],
    );
    differs.expect_code(0);
    assert!(
        differs
            .stdout
            .contains("Result: the mean of NPV differs by more than Monte Carlo error"),
        "{}",
        differs.stdout
    );

    let csv = mcsim_in(
        dir.path(),
        &[
            "results",
            "a.parquet",
            "--compare",
            "b.arrow",
            "--format",
            "csv",
        ],
    );
    csv.expect_code(0);
    assert!(
        csv.stdout
            .starts_with("output,mean_a,mean_b,mean_diff,std_error_diff,welch_t,"),
        "{}",
        csv.stdout
    );
}

#[test]
fn plots_are_written() {
    let dir = temp();
    run_to(dir.path(), "9", "s.parquet");
    let run = mcsim_in(
        dir.path(),
        &[
            "results",
            "s.parquet",
            "--plot",
            "histogram",
            "--to",
            "h.svg",
        ],
    );
    run.expect_code(0);
    let svg = std::fs::read_to_string(dir.path().join("h.svg")).unwrap();
    assert!(svg.contains("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(
        run.stderr.contains("wrote a histogram of `NPV` to h.svg"),
        "{}",
        run.stderr
    );

    let run = mcsim_in(
        dir.path(),
        &[
            "results",
            "s.parquet",
            "--output",
            "TotalCash",
            "--plot",
            "tornado",
            "--to",
            "t.png",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    assert_eq!(run.json()["chart"]["output"], "TotalCash");
    let png = std::fs::read(dir.path().join("t.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");

    // --plot needs --to.
    let run = mcsim_in(dir.path(), &["results", "s.parquet", "--plot", "cdf"]);
    run.expect_code(2);
}

#[test]
fn fail_if_on_a_samples_file() {
    let dir = temp();
    run_to(dir.path(), "3", "s.csv");
    mcsim_in(
        dir.path(),
        &["results", "s.csv", "--fail-if", "P(NPV < 0) > 0.99"],
    )
    .expect_code(0);
    let run = mcsim_in(
        dir.path(),
        &["results", "s.csv", "--fail-if", "P(NPV < 0) >= 0"],
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("`P(NPV < 0) >= 0` holds"),
        "{}",
        run.stderr
    );
}

#[test]
fn errors_name_the_problem() {
    let dir = temp();
    run_to(dir.path(), "3", "s.parquet");
    assert_error(
        &mcsim_in(dir.path(), &["results", "s.parquet", "--output", "IRR"]),
        &["`IRR`", "NPV", "TotalCash", "LossYears"],
    );
    assert_error(
        &mcsim_in(dir.path(), &["results", "missing.parquet"]),
        &["missing.parquet"],
    );
    std::fs::write(dir.path().join("notes.parquet"), "not parquet").unwrap();
    assert_error(
        &mcsim_in(dir.path(), &["results", "notes.parquet"]),
        &["notes.parquet", "not a readable samples file"],
    );
    std::fs::write(dir.path().join("model.xlsx"), "x").unwrap();
    assert_error(
        &mcsim_in(dir.path(), &["results", "model.xlsx"]),
        &["model.xlsx", ".parquet"],
    );
    assert_error(
        &mcsim_in(
            dir.path(),
            &["results", "s.parquet", "--compare", "missing.csv"],
        ),
        &["missing.csv"],
    );
    assert_error(
        &mcsim_in(
            dir.path(),
            &["results", "s.parquet", "--fail-if", "mean(NPV >"],
        ),
        &["--fail-if"],
    );
}

#[test]
fn help_explains_flags_and_exit_status() {
    let dir = temp();
    let run = mcsim_in(dir.path(), &["results", "--help"]);
    run.expect_code(0);
    for expected in [
        "--format",
        "--output",
        "--compare",
        "--plot",
        "--to",
        "--percentile",
        "--fail-if",
        "Exit status:",
        "Examples:",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stdout
        );
    }
}
