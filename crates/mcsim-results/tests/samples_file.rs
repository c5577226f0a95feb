//! Round trips of the samples file in every format.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use mcsim_results::samples::{COLUMNS_KEY, csv_sidecar_path};
use mcsim_results::{
    ColumnRole, ResultsError, SamplesFormat, SamplesLayout, SamplesWriter, Threshold, read_samples,
};

fn layout() -> SamplesLayout {
    SamplesLayout::new(["Price", "Volume \"Q\", units"], ["NPV", "Cash"])
}

fn metadata() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("seed".to_string(), "42".to_string()),
        ("iterations".to_string(), "10".to_string()),
        ("sampling".to_string(), "latin-hypercube".to_string()),
        ("workbook_sha256".to_string(), "ab12".to_string()),
        ("mcsim_version".to_string(), "0.1.0".to_string()),
    ])
}

/// Value of column `c` at 0-based row `r`; NaN (an error iteration) at NPV rows 3 and 7.
fn value(c: usize, r: usize) -> f64 {
    if c == 2 && (r == 3 || r == 7) {
        return f64::NAN;
    }
    match c {
        0 => 10.0 + r as f64 * 0.1,
        1 => 1e-7 * (r as f64 + 1.0),
        2 => (r as f64 - 4.5) * 1e6 + 0.1,
        _ => -(r as f64).powi(3) * 1e300_f64.sqrt(),
    }
}

/// Writes 10 rows in 3 blocks (4, 3, 3).
fn write(path: &Path) {
    let format = SamplesFormat::from_path(path).unwrap();
    let mut w = SamplesWriter::create(path, format, &layout(), &metadata()).unwrap();
    for (start, end) in [(0, 4), (4, 7), (7, 10)] {
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|c| (start..end).map(|r| value(c, r)).collect())
            .collect();
        let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        w.write_block(&refs).unwrap();
    }
    assert_eq!(w.rows_written(), 10);
    w.finish().unwrap();
}

fn check(path: &Path, format: SamplesFormat) {
    let f = read_samples(path).unwrap();
    assert_eq!(f.format, format);
    assert_eq!(f.iterations, (1..=10).collect::<Vec<u64>>());
    assert_eq!(f.layout, layout());
    for (k, v) in metadata() {
        assert_eq!(f.metadata.get(&k), Some(&v), "{k} in {}", path.display());
    }
    assert!(f.metadata.contains_key(COLUMNS_KEY));
    assert!(!f.metadata.contains_key("ARROW:schema"));
    let names: Vec<&str> = f.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Price", "Volume \"Q\", units", "NPV", "Cash"]);
    let roles: Vec<ColumnRole> = f.columns.iter().map(|c| c.role).collect();
    assert_eq!(
        roles,
        [
            ColumnRole::Input,
            ColumnRole::Input,
            ColumnRole::Output,
            ColumnRole::Output
        ]
    );
    for (c, col) in f.columns.iter().enumerate() {
        assert_eq!(col.values.len(), 10);
        for (r, &v) in col.values.iter().enumerate() {
            let want = value(c, r);
            if want.is_nan() {
                assert!(v.is_nan(), "{} row {r}: expected null", col.name);
            } else {
                assert_eq!(v.to_bits(), want.to_bits(), "{} row {r}", col.name);
            }
        }
    }
    assert_eq!(f.column("NPV").unwrap().errors(), 2);
    assert_eq!(f.column("Cash").unwrap().errors(), 0);
    assert_eq!(f.inputs().count(), 2);
    // Thresholds against the file: NPV valid rows 0,1,2,4,5,6,8,9 -> 4 of 8 below 0.
    let t = Threshold::parse("P(NPV < 0) == 0.5").unwrap();
    assert!(f.evaluate(&t).unwrap().holds);
    let t = Threshold::parse("mean(IRR) > 0").unwrap();
    match f.evaluate(&t) {
        Err(ResultsError::UnknownOutput { available, .. }) => {
            assert_eq!(available, ["NPV", "Cash"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn round_trip_each_format() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("run.parquet", SamplesFormat::Parquet),
        ("run.arrow", SamplesFormat::ArrowIpc),
        ("run.feather", SamplesFormat::ArrowIpc),
        ("run.csv", SamplesFormat::Csv),
    ] {
        let path = dir.path().join(name);
        write(&path);
        check(&path, format);
    }
    // The CSV sidecar holds the metadata as a JSON object of strings.
    let side = csv_sidecar_path(&dir.path().join("run.csv"));
    assert!(side.ends_with("run.csv.meta.json"));
    let json: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&side).unwrap()).unwrap();
    assert_eq!(json["seed"], "42");
    let csv = std::fs::read_to_string(dir.path().join("run.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "iteration,Price,\"Volume \"\"Q\"\", units\",NPV,Cash"
    );
    assert!(lines.nth(3).unwrap().starts_with("4,10.3,4e-7,,"), "{csv}");
}

#[test]
fn writer_rejects_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.parquet");
    let dup = SamplesLayout::new(["a"], ["a"]);
    assert!(matches!(
        SamplesWriter::create(&p, SamplesFormat::Parquet, &dup, &BTreeMap::new()),
        Err(ResultsError::InvalidColumn { .. })
    ));
    let reserved = SamplesLayout::new(["iteration"], ["b"]);
    assert!(
        SamplesWriter::create(&p, SamplesFormat::Parquet, &reserved, &BTreeMap::new()).is_err()
    );
    let mut w =
        SamplesWriter::create(&p, SamplesFormat::Parquet, &layout(), &BTreeMap::new()).unwrap();
    assert!(matches!(
        w.write_block(&[&[1.0]]),
        Err(ResultsError::LengthMismatch { .. })
    ));
    assert!(
        w.write_block(&[&[1.0], &[1.0], &[1.0, 2.0], &[1.0]])
            .is_err()
    );
    w.finish().unwrap();
    assert!(read_samples(&p).unwrap().iterations.is_empty());
    assert!(matches!(
        SamplesFormat::from_path(Path::new("x.xlsx")),
        Err(ResultsError::UnknownFormat { .. })
    ));
    assert!(matches!(
        read_samples(dir.path().join("missing.arrow")),
        Err(ResultsError::Io { .. })
    ));
    std::fs::write(dir.path().join("bad.csv"), "iteration,a\n1,x\n").unwrap();
    let err = read_samples(dir.path().join("bad.csv"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2") && err.contains("`x`"), "{err}");
}

/// Reads the Parquet file with pyarrow, when it is installed (skipped with a note otherwise).
#[test]
fn parquet_readable_by_pyarrow() {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "note: skipping parquet_readable_by_pyarrow: `python3 -c 'import pyarrow'` failed"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.parquet");
    write(&path);
    let script = r#"
import sys, json, math
import pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
md = t.schema.metadata
assert md[b"seed"] == b"42", md
lay = json.loads(md[b"mcsim.columns"])
assert lay == {"inputs": ["Price", "Volume \"Q\", units"], "outputs": ["NPV", "Cash"]}, lay
assert t.column_names == ["iteration", "Price", "Volume \"Q\", units", "NPV", "Cash"]
assert str(t.schema.field("iteration").type) == "uint64"
assert str(t.schema.field("NPV").type) == "double"
npv = t.column("NPV").to_pylist()
assert npv[3] is None and npv[7] is None, npv
assert npv[0] == -4.5e6 + 0.1, npv[0]
assert t.column("iteration").to_pylist() == list(range(1, 11))
fmd = pq.ParquetFile(sys.argv[1]).metadata
assert fmd.num_row_groups == 3
assert fmd.metadata[b"workbook_sha256"] == b"ab12", fmd.metadata
print("ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyarrow check failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
