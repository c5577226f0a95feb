//! `mcsim run --out -` into a pipe, and `mcsim results -` from one: the samples on stdout match
//! those of a file run with the same seed, and nothing else is on stdout.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use mcsim_results::{SamplesFile, read_samples};
use serde_json::Value;

use crate::common::{mcsim_in, temp};
use crate::run::risk_model;

const N: &str = "1500";
const SEED: &str = "2024";

fn mcsim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcsim"));
    c.env_remove("RUST_LOG").env("NO_COLOR", "1");
    c
}

/// `mcsim ARGS | consumer`: the consumer's output, and mcsim's exit status and stderr.
fn pipe(dir: &Path, args: &[&str], consumer: &mut Command) -> (Output, i32, String) {
    let err_path = dir.join("mcsim.stderr");
    let mut producer = mcsim()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let stdout = producer.stdout.take().unwrap();
    let out = consumer
        .current_dir(dir)
        .stdin(Stdio::from(stdout))
        .output()
        .unwrap();
    let status = producer.wait().unwrap();
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    (out, status.code().unwrap_or(-1), stderr)
}

/// `mcsim ARGS` with its stdout captured as bytes.
fn run_bytes(dir: &Path, args: &[&str]) -> (Vec<u8>, String) {
    let out = mcsim()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "mcsim {args:?} failed:\n{stderr}");
    (out.stdout, stderr)
}

/// The same run written to a file.
fn file_run(dir: &Path, name: &str) -> SamplesFile {
    let wb = risk_model();
    let run = mcsim_in(
        dir,
        &["run", &wb, "-n", N, "--seed", SEED, "--out", name, "-q"],
    );
    run.expect_code(0);
    read_samples(dir.join(name)).unwrap()
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Every value the same, bit for bit; an error (NaN) where the other has one.
fn assert_same_values(got: &[Option<f64>], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        match g {
            Some(g) => assert_eq!(g.to_bits(), w.to_bits(), "{what} row {i}: {g} vs {w}"),
            None => assert!(w.is_nan(), "{what} row {i}: null vs {w}"),
        }
    }
}

/// Reads stdin with pyarrow in `format` and prints the table as JSON.
const PYARROW_READER: &str = r#"
import json, sys
import pyarrow as pa, pyarrow.csv, pyarrow.ipc, pyarrow.parquet as pq
fmt = sys.argv[1]
if fmt == "parquet":
    t = pq.read_table(pa.BufferReader(sys.stdin.buffer.read()))
elif fmt == "arrow":
    t = pa.ipc.open_stream(sys.stdin.buffer).read_all()
else:
    t = pa.csv.read_csv(sys.stdin.buffer)
meta = {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items()}
# Numbers as repr() text, which Rust parses back to the same f64.
data = {k: [None if v is None else repr(v) for v in col] for k, col in t.to_pydict().items()}
print(json.dumps({"columns": t.column_names, "data": data, "seed": meta.get("mcsim.seed")}))
"#;

#[test]
#[allow(clippy::print_stderr)]
fn run_to_stdout_is_read_by_pyarrow_and_matches_a_file_run_in_each_format() {
    if !python_has("pyarrow") {
        eprintln!("note: skipping: `python3 -c 'import pyarrow'` failed");
        return;
    }
    let dir = temp();
    let wb = risk_model();
    for (format, file) in [
        ("parquet", "f.parquet"),
        ("arrow", "f.arrow"),
        ("csv", "f.csv"),
    ] {
        let want = file_run(dir.path(), file);
        let (out, code, stderr) = pipe(
            dir.path(),
            &[
                "run",
                &wb,
                "-n",
                N,
                "--seed",
                SEED,
                "--out",
                "-",
                "--out-format",
                format,
            ],
            Command::new("python3").args(["-c", PYARROW_READER, format]),
        );
        assert_eq!(code, 0, "{format}: mcsim failed:\n{stderr}");
        assert!(
            out.status.success(),
            "{format}: pyarrow could not read stdout:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The report went to stderr.
        assert!(stderr.contains("Outputs ("), "{format}: {stderr}");
        assert!(stderr.contains("samples      stdout"), "{format}: {stderr}");
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut names = vec!["iteration".to_string()];
        names.extend(want.columns.iter().map(|c| c.name.clone()));
        let got_names: Vec<String> = serde_json::from_value(got["columns"].clone()).unwrap();
        assert_eq!(got_names, names, "{format}");
        let iterations: Vec<u64> = got["data"]["iteration"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(iterations, want.iterations, "{format}");
        assert_eq!(iterations.len(), 1500);
        for col in &want.columns {
            let values: Vec<Option<f64>> = got["data"][&col.name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().map(|s| s.parse().unwrap()))
                .collect();
            assert_same_values(&values, &col.values, &format!("{format} {}", col.name));
        }
        // Metadata travels in Parquet and Arrow; CSV has none on a stream.
        let seed = if format == "csv" {
            Value::Null
        } else {
            SEED.into()
        };
        assert_eq!(got["seed"], seed, "{format}");
    }
}

#[test]
fn csv_on_stdout_parses_and_matches_a_file_run_and_nothing_else_is_on_stdout() {
    let dir = temp();
    let want = file_run(dir.path(), "f.csv");
    let wb = risk_model();
    let (stdout, stderr) = run_bytes(
        dir.path(),
        &[
            "run",
            &wb,
            "-n",
            N,
            "--seed",
            SEED,
            "--out",
            "-",
            "--out-format",
            "csv",
        ],
    );
    let text = String::from_utf8(stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "iteration");
    assert_eq!(
        header[1..],
        want.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Every line is a sample row: nothing of the report is mixed in.
    assert_eq!(rows.len(), 1500);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len(), "line {}: {row:?}", i + 2);
        assert_eq!(row[0].parse::<u64>().unwrap(), i as u64 + 1);
    }
    for (k, col) in want.columns.iter().enumerate() {
        let values: Vec<Option<f64>> = rows
            .iter()
            .map(|r| (!r[k + 1].is_empty()).then(|| r[k + 1].parse().unwrap()))
            .collect();
        assert_same_values(&values, &col.values, &col.name);
    }
    assert!(stderr.contains("Outputs ("), "{stderr}");
    // No sidecar for stdout.
    assert!(!dir.path().join("-.meta.json").exists());
}

#[test]
fn report_goes_to_the_report_file_and_stdout_holds_only_the_parquet() {
    let dir = temp();
    let wb = risk_model();
    let (stdout, stderr) = run_bytes(
        dir.path(),
        &[
            "run", &wb, "-n", N, "--seed", SEED, "--out", "-", "--format", "json", "--report",
            "r.json",
        ],
    );
    assert_eq!(&stdout[..4], b"PAR1");
    assert_eq!(&stdout[stdout.len() - 4..], b"PAR1");
    assert!(
        !stderr.contains("\"outputs\""),
        "report on stderr too:\n{stderr}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["iterations"], 1500);
    assert_eq!(report["samples_file"], "-");
    // The bytes are the samples of the file run.
    std::fs::write(dir.path().join("s.parquet"), &stdout).unwrap();
    let got = read_samples(dir.path().join("s.parquet")).unwrap();
    let want = file_run(dir.path(), "f.parquet");
    assert_eq!(got.iterations, want.iterations);
    for (g, w) in got.columns.iter().zip(&want.columns) {
        let g: Vec<Option<f64>> = g
            .values
            .iter()
            .map(|v| (!v.is_nan()).then_some(*v))
            .collect();
        assert_same_values(&g, &w.values, &w.name);
    }

    // Without --report, the JSON report is on stderr.
    let (stdout, stderr) = run_bytes(
        dir.path(),
        &[
            "run",
            &wb,
            "-n",
            "200",
            "--seed",
            SEED,
            "--out",
            "-",
            "--out-format",
            "arrow",
            "--format",
            "json",
        ],
    );
    assert_eq!(&stdout[..4], &[0xFF; 4]);
    let json = &stderr[stderr.find('{').unwrap()..];
    let report: Value = serde_json::from_str(json).unwrap();
    assert_eq!(report["iterations"], 200);
}

/// `mcsim results --format json` with "file" left out.
fn results_json(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Value {
    let mut all = vec!["results"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = mcsim()
        .args(&all)
        .current_dir(dir)
        .stdin(stdin.map_or_else(Stdio::null, |p| Stdio::from(File::open(p).unwrap())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mcsim {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object_mut().unwrap().remove("file");
    v
}

#[test]
fn results_from_stdin_match_results_from_the_file() {
    let dir = temp();
    let d = dir.path();
    let wb = risk_model();
    for name in ["f.parquet", "f.arrow"] {
        file_run(d, name);
        let from_file = results_json(d, &[name], None);
        let from_stdin = results_json(d, &["-"], Some(&d.join(name)));
        assert_eq!(from_stdin, from_file, "{name}");
        assert!(from_file["outputs"].as_array().unwrap().len() >= 2);
    }
    // An Arrow IPC stream saved by `--out - > s.arrow`, and given with --in-format.
    let (stream, _) = run_bytes(
        d,
        &[
            "run",
            &wb,
            "-n",
            N,
            "--seed",
            SEED,
            "--out",
            "-",
            "--out-format",
            "arrow",
        ],
    );
    std::fs::write(d.join("s.arrow"), stream).unwrap();
    let from_stream = results_json(d, &["-", "--in-format", "arrow"], Some(&d.join("s.arrow")));
    assert_eq!(from_stream, results_json(d, &["f.arrow"], None));
    assert_eq!(
        results_json(d, &["s.arrow"], None),
        results_json(d, &["f.arrow"], None)
    );

    // CSV on stdin has no sidecar: same statistics for each output, inputs listed as outputs.
    file_run(d, "f.csv");
    let from_file = results_json(d, &["f.csv"], None);
    let from_stdin = results_json(d, &["-"], Some(&d.join("f.csv")));
    assert_eq!(from_stdin["rows"], 1500);
    for out in from_file["outputs"].as_array().unwrap() {
        let same = from_stdin["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == out["name"])
            .unwrap_or_else(|| panic!("{} missing", out["name"]));
        assert_eq!(same["summary"], out["summary"], "{}", out["name"]);
    }

    // A format that does not match the bytes is an error, not a guess.
    let out = mcsim()
        .args(["results", "-", "--in-format", "parquet"])
        .stdin(File::open(d.join("f.csv")).unwrap())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stdin is not a readable samples stream"),
        "{err}"
    );
}

#[test]
fn run_piped_into_results_gives_the_statistics_of_the_file() {
    let dir = temp();
    let d = dir.path();
    file_run(d, "f.parquet");
    let wb = risk_model();
    let (out, code, stderr) = pipe(
        d,
        &["run", &wb, "-n", N, "--seed", SEED, "--out", "-", "-q"],
        mcsim().args(["results", "-", "--format", "json"]),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut piped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(piped["file"], "-");
    piped.as_object_mut().unwrap().remove("file");
    assert_eq!(piped, results_json(d, &["f.parquet"], None));
}

#[test]
fn out_format_overrides_the_extension_of_a_file() {
    let dir = temp();
    let d = dir.path();
    let wb = risk_model();
    mcsim_in(
        d,
        &[
            "run",
            &wb,
            "-n",
            "100",
            "--seed",
            SEED,
            "--out",
            "samples.dat",
            "--out-format",
            "csv",
            "-q",
        ],
    )
    .expect_code(0);
    let text = std::fs::read_to_string(d.join("samples.dat")).unwrap();
    assert!(text.starts_with("iteration,"));
    assert_eq!(text.lines().count(), 101);
    assert!(d.join("samples.dat.meta.json").exists());
}
