//! Running the binary, and writing small workbooks.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The package writer the library's tests use too.
#[path = "../../crates/mcsim-ops/tests/common/xlsx.rs"]
pub mod xlsx;

/// What a run of `mcsim` produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts the status, showing everything when it is not that.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file in `examples/`.
pub fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

/// Runs `mcsim ARGS` in `dir`, without the caller's logging settings.
pub fn mcsim_in(dir: &Path, args: &[&str]) -> Run {
    mcsim_env(dir, args, &[], &[])
}

/// [`mcsim_in`] with the variables `set` set and those named in `remove` removed.
pub fn mcsim_env(dir: &Path, args: &[&str], set: &[(&str, &str)], remove: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcsim"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    for k in remove {
        cmd.env_remove(k);
    }
    for (k, v) in set {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("cannot run mcsim");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("stdout is not UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is not UTF-8"),
    }
}

/// A temporary directory.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary directory")
}

/// Writes a minimal one-sheet `.xlsx` ("Sheet1") whose `<sheetData>` is `sheet_data`, plus
/// any `extra` parts.
pub fn write_xlsx(path: &Path, sheet_data: &str, extra: &[(&str, &[u8])]) {
    let parts = xlsx::workbook_parts(&[("Sheet1", sheet_data)], "");
    let mut all: Vec<(&str, &[u8])> = parts
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_bytes()))
        .collect();
    all.extend_from_slice(extra);
    xlsx::write_zip(path, &all);
}

/// One row of cells for [`write_xlsx`]: `A1 = 2`, and formulas with stored values of each type.
/// `b1_cached` is the value stored for `B1 = A1*3` (`None`: no stored value).
pub fn typed_row(b1_cached: Option<&str>) -> String {
    let b1 = match b1_cached {
        Some(v) => format!("<c r=\"B1\"><f>A1*3</f><v>{v}</v></c>"),
        None => "<c r=\"B1\"><f>A1*3</f></c>".to_owned(),
    };
    format!(
        "<row r=\"1\"><c r=\"A1\"><v>2</v></c>{b1}\
         <c r=\"C1\" t=\"e\"><f>A1/0</f><v>#DIV/0!</v></c>\
         <c r=\"D1\" t=\"str\"><f>A1&amp;\"x\"</f><v>2x</v></c>\
         <c r=\"E1\" t=\"b\"><f>A1&gt;1</f><v>1</v></c></row>"
    )
}

/// Every column of two samples files, value by value (bits), with the iteration numbers.
pub fn same_samples(a: &Path, b: &Path) {
    let (a, b) = (
        mcsim_results::read_samples(a).unwrap(),
        mcsim_results::read_samples(b).unwrap(),
    );
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.layout, b.layout);
    assert_eq!(a.columns.len(), b.columns.len());
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert_eq!(x.name, y.name);
        let bits = |c: &mcsim_results::SampleColumn| -> Vec<u64> {
            c.values.iter().map(|v| v.to_bits()).collect()
        };
        assert!(bits(x) == bits(y), "column `{}` differs", x.name);
    }
}

/// Each output's name, statistics and sensitivities: what a run, its samples file and merged
/// shards must agree on (not what differs between a run and a file by design).
pub fn outputs(report: &serde_json::Value) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    report["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["name"].as_str().unwrap().to_string(),
                o["summary"].clone(),
                o["sensitivity"].clone(),
            )
        })
        .collect()
}

/// Asserts status 2, empty stdout, and one `error: ...` line containing every `needle`.
pub fn assert_error(run: &Run, needles: &[&str]) {
    run.expect_code(2);
    assert_eq!(run.stdout, "", "stdout must stay empty on error");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr:\n{}",
        run.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "missing {needle:?} in: {}",
            lines[0]
        );
    }
}

/// The output `name` of a JSON report.
pub fn output<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no output {name} in {report}"))
}

/// A manifest of `examples/kubernetes`.
pub fn yaml(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("examples/kubernetes").join(name)).unwrap();
    serde_norway::from_str(&text).unwrap()
}
