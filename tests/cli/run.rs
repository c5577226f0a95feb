//! `mcsim run` on the bench models.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{assert_error, example, mcsim_in, output, root, temp, write_xlsx};

/// The @RISK-style model: distribution functions and `RiskOutput` in the workbook.
pub fn risk_model() -> String {
    bench("npv_project_risk.xlsx")
}

/// A file in `bench/models/`, as a string argument.
pub fn bench(name: &str) -> String {
    root().join("bench/models").join(name).display().to_string()
}

/// Runs `mcsim run ARGS --format json` in `dir` and returns the report.
pub fn run_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = mcsim_in(dir, &all);
    run.expect_code(0);
    run.json()
}

/// Each output's name and mean.
pub fn means(report: &Value) -> Vec<(String, f64)> {
    report["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_owned(),
                o["summary"]["mean"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A model file for `npv_project.xlsx`, written from `bench/models/npv_project.inputs.json`.
/// Its conventions differ from ours: its `lognormal` takes mu/sigma (our `lognormal2`), and its
/// `discrete` takes `probs` (our `weights`).
fn model_file_from_inputs_json() -> String {
    let text =
        std::fs::read_to_string(root().join("bench/models/npv_project.inputs.json")).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    let mut toml = String::from("iterations = 2000\n");
    for input in spec["inputs"].as_array().unwrap() {
        let dist = &input["dist"];
        let num = |k: &str| dist[k].as_f64().unwrap();
        let list = |k: &str| {
            let items: Vec<String> = dist[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap().to_string())
                .collect();
            format!("[{}]", items.join(", "))
        };
        let d = match dist["type"].as_str().unwrap() {
            "pert" => format!(
                "type = \"pert\", min = {}, mode = {}, max = {}, lambda = {}",
                num("min"),
                num("mode"),
                num("max"),
                num("lambda")
            ),
            "normal" => format!(
                "type = \"normal\", mean = {}, sd = {}",
                num("mean"),
                num("sd")
            ),
            "lognormal" => format!(
                "type = \"lognormal2\", mu = {}, sigma = {}",
                num("mu"),
                num("sigma")
            ),
            "triangular" => format!(
                "type = \"triangular\", min = {}, mode = {}, max = {}",
                num("min"),
                num("mode"),
                num("max")
            ),
            "uniform" => format!(
                "type = \"uniform\", min = {}, max = {}",
                num("min"),
                num("max")
            ),
            "discrete" => format!(
                "type = \"discrete\", values = {}, weights = {}",
                list("values"),
                list("probs")
            ),
            other => panic!("no mapping for {other}"),
        };
        toml.push_str(&format!(
            "\n[[input]]\ncell = \"{}\"\nname = \"{}\"\ndist = {{ {d} }}\n",
            input["cell"].as_str().unwrap(),
            input["name"].as_str().unwrap()
        ));
    }
    for out in spec["outputs"].as_array().unwrap() {
        toml.push_str(&format!(
            "\n[[output]]\ncell = \"{}\"\nname = \"{}\"\n",
            out["cell"].as_str().unwrap(),
            out["name"].as_str().unwrap()
        ));
    }
    toml
}

fn write_model_file(dir: &Path) -> PathBuf {
    let path = dir.join("npv.mcsim.toml");
    std::fs::write(&path, model_file_from_inputs_json()).unwrap();
    path
}

#[test]
fn same_seed_same_statistics_whatever_the_thread_count() {
    let dir = temp();
    let model = risk_model();
    let one = run_json(
        dir.path(),
        &[&model, "-n", "3000", "--seed", "7", "--threads", "1"],
    );
    let two = run_json(
        dir.path(),
        &[&model, "-n", "3000", "--seed", "7", "--threads", "2"],
    );
    assert_eq!(one["seed"], 7);
    assert_eq!(one["threads"], 1);
    assert_eq!(two["threads"], 2);
    assert_eq!(one["iterations"], 3000);
    assert_eq!(one["sampling"], "lhs");
    assert_eq!(one["evaluation"], "compiled");
    assert_eq!(
        one["outputs"], two["outputs"],
        "statistics depend on threads"
    );
    assert_eq!(one["outputs"].as_array().unwrap().len(), 7);
    assert!(output(&one, "NPV")["sensitivity"]["entries"].is_array());

    let other = run_json(
        dir.path(),
        &[&model, "-n", "3000", "--seed", "8", "--threads", "2"],
    );
    let (a, b) = (
        output(&one, "NPV")["summary"]["mean"].as_f64().unwrap(),
        output(&other, "NPV")["summary"]["mean"].as_f64().unwrap(),
    );
    assert_ne!(a, b, "different seeds gave the same mean");
}

#[test]
fn a_drawn_seed_is_reported_and_reproduces_the_run() {
    let dir = temp();
    let model = risk_model();
    let first = run_json(dir.path(), &[&model, "-n", "1000", "--sampling", "mc"]);
    let seed = first["seed"]
        .as_u64()
        .expect("the seed is reported")
        .to_string();
    assert_eq!(first["sampling"], "mc");
    let again = run_json(
        dir.path(),
        &[&model, "-n", "1000", "--sampling", "mc", "--seed", &seed],
    );
    assert_eq!(first["outputs"], again["outputs"]);
}

#[test]
fn table_has_the_run_header_statistics_and_sensitivities() {
    let dir = temp();
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            &risk_model(),
            "-n",
            "2000",
            "--seed",
            "11",
            "--threads",
            "2",
            "--percentile",
            "99.5",
            "--var-level",
            "1",
            "--target",
            "0",
        ],
    );
    run.expect_code(0);
    // Not a terminal: no progress bar; this model gives no warnings.
    assert_eq!(run.stderr, "");
    for expected in [
        "Run\n",
        "  iterations   2000\n",
        "  seed         11\n",
        "  sampling     lhs (Latin Hypercube)\n",
        "  threads      2\n",
        "  evaluation   compiled\n",
        "  elapsed      ",
        "iterations/s)",
        "Inputs (8)",
        "pert(min=10000000, mode=12000000, max=16000000, lambda=4)",
        "Outputs (7)",
        "  output ",
        "  mean ",
        " p5 ",
        " p95 ",
        " errors",
        "\nNPV (Outputs!",
        "  percentiles  p99.5 ",
        "  VaR 5%  ",
        "  VaR 1%  ",
        "  target 0     P(< 0) ",
        "  sensitivity (top 5 of 8 inputs, by |Spearman|)",
        // (The input column is as wide as the longest name listed, which depends on the draws.)
        "    input  ",
        "  spearman     src  contribution",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("Thresholds"), "{}", run.stdout);
}

#[test]
fn json_has_requested_percentiles_and_tail_levels() {
    let dir = temp();
    let report = run_json(
        dir.path(),
        &[
            &risk_model(),
            "-n",
            "1000",
            "--seed",
            "3",
            "--percentile",
            "99.5",
            "--percentile",
            "5",
            "--var-level",
            "1",
            "--var-level",
            "5",
            "--target",
            "-1e6",
        ],
    );
    let summary = &output(&report, "NPV")["summary"];
    let levels: Vec<f64> = summary["percentiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["p"].as_f64().unwrap())
        .collect();
    assert!(levels.contains(&0.995), "{levels:?}");
    assert_eq!(levels.iter().filter(|&&p| p == 0.05).count(), 1);
    let risk: Vec<f64> = summary["risk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_f64().unwrap())
        .collect();
    assert_eq!(risk, [0.05, 0.01]);
    assert_eq!(summary["targets"][0]["target"], -1e6);
}

#[test]
fn fail_if_exit_status() {
    let dir = temp();
    let model = risk_model();
    let base = ["run", &model, "-n", "2000", "--seed", "5"];

    let mut args = base.to_vec();
    args.extend_from_slice(&["--fail-if", "P(NPV < 0) > 0.99"]);
    let ok = mcsim_in(dir.path(), &args);
    ok.expect_code(0);
    assert!(
        ok.stdout.contains("  P(NPV < 0) > 0.99 ") && ok.stdout.contains(" ok\n"),
        "{}",
        ok.stdout
    );
    assert_eq!(ok.stderr, "");

    let mut args = base.to_vec();
    args.extend_from_slice(&[
        "--fail-if",
        "P(NPV < 0) > 0.99",
        "--fail-if",
        "P(NPV < 0) >= 0",
    ]);
    let fail = mcsim_in(dir.path(), &args);
    fail.expect_code(1);
    assert!(fail.stdout.contains("HOLDS"), "{}", fail.stdout);
    assert!(
        fail.stdout
            .contains("Result: FAIL, 1 of 2 --fail-if conditions hold"),
        "{}",
        fail.stdout
    );
    assert!(
        fail.stderr.contains("`P(NPV < 0) >= 0` holds"),
        "{}",
        fail.stderr
    );
    assert!(!fail.stderr.contains("> 0.99"), "{}", fail.stderr);

    // JSON: the same verdict, in the report; still exit 1. `-q` does not hide why.
    args.extend_from_slice(&["--format", "json", "-q"]);
    let json = mcsim_in(dir.path(), &args);
    json.expect_code(1);
    let report = json.json();
    assert_eq!(report["thresholds"][0]["holds"], false);
    assert_eq!(report["thresholds"][1]["holds"], true);
    assert!(json.stderr.contains("holds"), "{}", json.stderr);
}

#[test]
fn model_file_drives_a_plain_workbook() {
    let dir = temp();
    let config = write_model_file(dir.path());
    let workbook = bench("npv_project.xlsx");
    let config = config.display().to_string();
    let report = run_json(
        dir.path(),
        &[&workbook, "--config", &config, "--seed", "21"],
    );
    // Iterations come from the model file.
    assert_eq!(report["iterations"], 2000);
    let names: Vec<&str> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 8);
    assert!(names.contains(&"discount_rate"), "{names:?}");
    let npv = output(&report, "NPV")["summary"]["mean"].as_f64().unwrap();
    assert!(npv > 1e7 && npv < 5e7, "NPV mean {npv}");

    // The example model file describes the same model: same seed, same numbers.
    let example_config = example("npv_project.mcsim.toml").display().to_string();
    let from_example = run_json(
        dir.path(),
        &[
            &example("npv_project.xlsx").display().to_string(),
            "--config",
            &example_config,
            "--seed",
            "21",
            "-n",
            "2000",
        ],
    );
    assert_eq!(means(&report), means(&from_example));

    // What-if: a 50% discount rate makes the NPV collapse.
    let what_if = run_json(
        dir.path(),
        &[
            &workbook,
            "--config",
            &config,
            "--seed",
            "21",
            "--set",
            "Inputs!B9=0.5",
        ],
    );
    let fixed = output(&what_if, "NPV")["summary"]["mean"].as_f64().unwrap();
    assert!(
        fixed < 0.0 && npv - fixed > 2e7,
        "NPV mean {npv} -> {fixed}"
    );
    assert_eq!(what_if["inputs"].as_array().unwrap().len(), 7);
    assert!(
        what_if["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("discount_rate")),
        "{}",
        what_if["warnings"]
    );
}

#[test]
fn samples_go_to_the_file_not_stdout() {
    let dir = temp();
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            &risk_model(),
            "-n",
            "500",
            "--seed",
            "1",
            "--out",
            "s.csv",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    assert_eq!(run.json()["samples_file"], "s.csv");
    let csv = std::fs::read_to_string(dir.path().join("s.csv")).unwrap();
    assert_eq!(csv.lines().count(), 501, "header + one line per iteration");
    assert!(csv.starts_with("iteration,"), "{}", &csv[..80]);
    assert!(dir.path().join("s.csv.meta.json").is_file());
}

#[test]
fn unknown_model_file_key_is_named() {
    let dir = temp();
    std::fs::write(
        dir.path().join("m.toml"),
        "iterations = 100\nseeed = 3\n[[output]]\ncell = \"Outputs!B2\"\n",
    )
    .unwrap();
    let run = mcsim_in(
        dir.path(),
        &["run", &bench("npv_project.xlsx"), "--config", "m.toml"],
    );
    assert_error(&run, &["m.toml", "`seeed`"]);

    std::fs::write(
        dir.path().join("d.toml"),
        "[[input]]\ncell = \"Inputs!B3\"\ndist = { type = \"normal\", mean = 55, sd = 5, sigma = 5 }\n\
         [[output]]\ncell = \"Outputs!B2\"\n",
    )
    .unwrap();
    let run = mcsim_in(
        dir.path(),
        &["run", &bench("npv_project.xlsx"), "--config", "d.toml"],
    );
    assert_error(&run, &["d.toml", "`sigma`"]);
}

#[test]
fn bad_distribution_parameters_name_the_cell() {
    let dir = temp();
    let row = "<row r=\"1\"><c r=\"A1\"><f>RiskNormal(10,-1)</f></c>\
        <c r=\"B1\"><f>RiskOutput(\"Y\")+A1*2</f></c></row>";
    write_xlsx(&dir.path().join("neg.xlsx"), row, &[]);
    let run = mcsim_in(dir.path(), &["run", "neg.xlsx"]);
    assert_error(&run, &["Sheet1!A1", "standard deviation must be positive"]);
}

#[test]
fn model_errors_exit_2_with_one_line() {
    let dir = temp();
    let ok = "<row r=\"1\"><c r=\"A1\"><f>RiskNormal(10,1)</f></c>\
        <c r=\"B1\"><f>RiskOutput(\"Y\")+A1*2</f></c></row>";
    write_xlsx(&dir.path().join("ok.xlsx"), ok, &[]);
    let no_output = "<row r=\"1\"><c r=\"A1\"><f>RiskNormal(10,1)</f></c>\
        <c r=\"B1\"><f>A1*2</f></c></row>";
    write_xlsx(&dir.path().join("noout.xlsx"), no_output, &[]);
    let no_input = "<row r=\"1\"><c r=\"A1\"><v>3</v></c>\
        <c r=\"B1\"><f>RiskOutput(\"Y\")+A1*2</f></c></row>";
    write_xlsx(&dir.path().join("noin.xlsx"), no_input, &[]);

    mcsim_in(dir.path(), &["run", "ok.xlsx", "-n", "100"]).expect_code(0);
    let cases: &[(&[&str], &[&str])] = &[
        (&["run", "noout.xlsx"], &["no outputs"]),
        (&["run", "noin.xlsx"], &["no uncertain inputs"]),
        (
            &["run", "ok.xlsx", "--set", "Nope!A1=3"],
            &["--set Nope!A1", "Nope"],
        ),
        (&["run", "ok.xlsx", "--set", "Sheet1!C9=3"], &["Sheet1!C9"]),
        (
            &["run", "ok.xlsx", "--fail-if", "P(Y <"],
            &["--fail-if", "P(Y <"],
        ),
        (
            &["run", "ok.xlsx", "-n", "100", "--fail-if", "mean(Z) > 0"],
            &["`Z`", "Y"],
        ),
        (&["run", "missing.xlsx"], &["missing.xlsx"]),
        (
            &["run", "ok.xlsx", "--config", "missing.toml"],
            &["missing.toml"],
        ),
    ];
    for (args, needles) in cases {
        let run = mcsim_in(dir.path(), args);
        assert_error(&run, needles);
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp();
    for args in [
        &["run"][..],
        &["run", "x.xlsx", "-n", "0"],
        &["run", "x.xlsx", "--threads", "0"],
        &["run", "x.xlsx", "--sampling", "sobol"],
        &["run", "x.xlsx", "--percentile", "101"],
        &["run", "x.xlsx", "--var-level", "0"],
        &["run", "x.xlsx", "--set", "B9"],
        &["run", "x.xlsx", "--until-converged", "2"],
        &["run", "x.xlsx", "--format", "csv"],
    ] {
        let run = mcsim_in(dir.path(), args);
        run.expect_code(2);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(run.stderr.starts_with("error:"), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn a_fraction_given_as_percentile_is_warned_about() {
    let dir = temp();
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            &risk_model(),
            "-n",
            "200",
            "--seed",
            "1",
            "--percentile",
            "0.05",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("warning: --percentile 0.05 is the 0.05th percentile"),
        "{}",
        run.stderr
    );
}

#[test]
fn until_converged_stops_early() {
    let dir = temp();
    let report = run_json(
        dir.path(),
        &[
            &risk_model(),
            "-n",
            "200000",
            "--seed",
            "2",
            "--until-converged",
            "0.05",
        ],
    );
    assert_eq!(report["converged"], true);
    let n = report["iterations"].as_u64().unwrap();
    assert!(n < 200_000, "{n} iterations");
}

#[test]
fn help_explains_flags_and_exit_status() {
    let run = mcsim_in(&root(), &["run", "--help"]);
    run.expect_code(0);
    for expected in [
        "--config",
        "--iterations",
        "--seed",
        "--sampling",
        "--threads",
        "--out",
        "--format",
        "--set",
        "--percentile",
        "in percent",
        "--var-level",
        "--target",
        "--until-converged",
        "--fail-if",
        "--max-decompressed-bytes",
        "Exit status:",
        "  1  ",
        "  2  ",
        "Examples:",
    ] {
        assert!(
            run.stdout.contains(expected),
            "missing {expected:?} in:\n{}",
            run.stdout
        );
    }
    let top = mcsim_in(&root(), &["--help"]);
    for command in ["run", "results"] {
        assert!(top.stdout.contains(command), "{}", top.stdout);
    }
}

/// `--backend cuda` without a usable GPU (here: no CUDA in the build, or no driver, device or
/// NVRTC) fails with exit 2 and one line giving the reason; `auto` runs on the CPU and says why
/// in the report; a bad `--devices` list is a usage error.
#[test]
fn backend_cuda_without_a_gpu_fails_with_the_reason() {
    let dir = temp();
    let model = bench("npv_project_risk.xlsx");
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            &model,
            "-n",
            "100",
            "--seed",
            "1",
            "--backend",
            "cuda",
            "--devices",
            "0",
            "--format",
            "json",
        ],
    );
    if run.code == 0 {
        // A build with the cuda feature on a machine with a usable GPU: the run used it.
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["backend"], "cuda", "{}", run.stdout);
        return;
    }
    assert_error(&run, &["--backend cuda"]);
    let run = mcsim_in(
        dir.path(),
        &[
            "run", &model, "-n", "100", "--seed", "1", "--format", "json",
        ],
    );
    run.expect_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["backend"], "cpu");
    let note = report["backend_note"].as_str().unwrap();
    assert!(note.starts_with("auto: no GPU used: "), "{note}");
    let run = mcsim_in(dir.path(), &["run", &model, "--devices", "0,0"]);
    run.expect_code(2);
    assert!(run.stderr.contains("named twice"), "{}", run.stderr);
}
