//! ModelRisk (`Vose*`) workbooks and the @RISK piecewise rules, run end to end.

use crate::common::{mcsim_in, output, temp, write_xlsx};

#[test]
fn modelrisk_inputs_outputs_and_bounds_run() {
    let dir = temp();
    // A1: a labelled Normal(10, 2); B1: a Triangle(0, 5, 10) with mean 5; C1: a Normal bounded
    // to [90, 120] with an empty U argument; D1 and E1: outputs.
    write_xlsx(
        &dir.path().join("vose.xlsx"),
        r#"<row r="1"><c r="A1"><f>VoseInput("Demand")+VoseNormal(10,2)</f><v>10</v></c><c r="B1"><f>VoseTriangle(0,5,10)</f><v>5</v></c><c r="C1"><f>VoseNormal(100,10,,VoseXBounds(90,120))</f><v>100</v></c><c r="D1"><f>VoseOutput("Total")+A1+B1</f><v>15</v></c><c r="E1"><f>VoseOutput("Bounded")+C1</f><v>100</v></c></row>"#,
        &[],
    );
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            "vose.xlsx",
            "-n",
            "4000",
            "--seed",
            "5",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    let report = run.json();
    let inputs = report["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 3, "{report}");
    assert!(inputs.iter().any(|i| i["name"] == "Demand"), "{report}");
    let total = &output(&report, "Total")["summary"];
    // Mean 15, sd √(4 + 25/6) ≈ 2.86: LHS puts the mean well within 0.1.
    assert!(
        (total["mean"].as_f64().unwrap() - 15.0).abs() < 0.1,
        "{total}"
    );
    let bounded = &output(&report, "Bounded")["summary"];
    assert!(bounded["min"].as_f64().unwrap() >= 90.0, "{bounded}");
    assert!(bounded["max"].as_f64().unwrap() <= 120.0, "{bounded}");
}

#[test]
fn risk_cumul_with_points_at_min_and_max_runs() {
    let dir = temp();
    write_xlsx(
        &dir.path().join("cumul.xlsx"),
        r#"<row r="1"><c r="A1"><f>RiskCumul(0,10,{0,5,10},{0,0.5,1})</f><v>5</v></c><c r="B1"><f>RiskCumulD(0,10,{1,5,9},{0.9,0.3,0.1})</f><v>5</v></c><c r="C1"><f>RiskOutput("A")+A1</f><v>5</v></c><c r="D1"><f>RiskOutput("B")+B1</f><v>5</v></c></row>"#,
        &[],
    );
    let run = mcsim_in(
        dir.path(),
        &[
            "run",
            "cumul.xlsx",
            "-n",
            "2000",
            "--seed",
            "9",
            "--format",
            "json",
        ],
    );
    run.expect_code(0);
    let report = run.json();
    let a = &output(&report, "A")["summary"];
    // Uniform on [0, 10]: mean 5, standard error 2.89/√2000 = 0.065.
    assert!((a["mean"].as_f64().unwrap() - 5.0).abs() < 0.26, "{a}");
    // RiskCumulD: P(X <= 5) = 0.7, so the median lies below 5.
    let b = &output(&report, "B")["summary"];
    assert!(b["mean"].as_f64().unwrap() < 5.0, "{b}");
}

#[test]
fn modelrisk_u_argument_is_refused_with_a_message() {
    let dir = temp();
    write_xlsx(
        &dir.path().join("u.xlsx"),
        r#"<row r="1"><c r="A1"><f>VoseNormal(100,10,0.95)</f><v>116.4</v></c><c r="B1"><f>VoseOutput()+A1</f><v>116.4</v></c></row>"#,
        &[],
    );
    let run = mcsim_in(dir.path(), &["run", "u.xlsx", "-n", "100"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("VoseNormal: the U argument"),
        "{}",
        run.stderr
    );
}
