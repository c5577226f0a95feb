//! Samples written to a stream (`mcsim run --out -`) and read back from one (`mcsim results -`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use mcsim_results::samples::COLUMNS_KEY;
use mcsim_results::{
    ColumnRole, SamplesFormat, SamplesLayout, SamplesWriter, read_samples, read_samples_stream,
};

/// A writer whose bytes the test can look at while the samples writer still holds it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn layout() -> SamplesLayout {
    SamplesLayout::new(["Price"], ["NPV", "Cash flow, \"net\""])
}

fn meta() -> BTreeMap<String, String> {
    BTreeMap::from([("mcsim.seed".to_string(), "42".to_string())])
}

/// Column `c`, rows `start..end`; NPV is an error (NaN) at row 5.
fn block(start: usize, end: usize) -> Vec<Vec<f64>> {
    (0..3)
        .map(|c| {
            (start..end)
                .map(|r| match (c, r) {
                    (1, 5) => f64::NAN,
                    (0, _) => 50.0 + r as f64 * 0.25,
                    (1, _) => (r as f64 - 3.3) * 1.5e6,
                    _ => 1e-9 / (r as f64 + 1.0),
                })
                .collect()
        })
        .collect()
}

fn write_block(w: &mut SamplesWriter, start: usize, end: usize) {
    let cols = block(start, end);
    let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    w.write_block(&refs).unwrap();
}

fn stream(format: SamplesFormat) -> Vec<u8> {
    let sink = Shared::default();
    let mut w =
        SamplesWriter::to_stream(sink.clone(), "<test>", format, &layout(), &meta()).unwrap();
    write_block(&mut w, 0, 4);
    write_block(&mut w, 4, 9);
    w.finish().unwrap();
    sink.bytes()
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

#[test]
fn every_format_round_trips_through_a_stream_with_the_format_detected() {
    let expected = block(0, 9);
    for format in [
        SamplesFormat::Parquet,
        SamplesFormat::ArrowIpc,
        SamplesFormat::Csv,
    ] {
        let bytes = stream(format);
        for given in [None, Some(format)] {
            let file = read_samples_stream(&bytes[..], given).unwrap();
            assert_eq!(file.format, format, "{format:?} given as {given:?}");
            assert_eq!(file.iterations, (1..=9).collect::<Vec<u64>>());
            assert_eq!(file.columns.len(), 3);
            for (col, want) in file.columns.iter().zip(&expected) {
                assert!(same(&col.values, want), "{format:?} {}", col.name);
            }
            assert!(file.values("NPV").unwrap()[5].is_nan());
            if format == SamplesFormat::Csv {
                // No sidecar for a stream: no metadata, so no roles.
                assert!(file.metadata.is_empty());
                assert_eq!(file.columns[0].role, ColumnRole::Other);
            } else {
                assert_eq!(file.metadata["mcsim.seed"], "42");
                assert!(file.metadata.contains_key(COLUMNS_KEY));
                assert_eq!(file.column("Price").unwrap().role, ColumnRole::Input);
                assert_eq!(file.layout, layout());
            }
        }
    }
}

#[test]
fn arrow_to_a_stream_is_the_ipc_stream_format_and_a_file_is_the_file_format() {
    let bytes = stream(SamplesFormat::ArrowIpc);
    assert_eq!(
        &bytes[..4],
        &[0xFF; 4],
        "stream format starts with a continuation"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.arrow");
    let mut w = SamplesWriter::create(&path, SamplesFormat::ArrowIpc, &layout(), &meta()).unwrap();
    write_block(&mut w, 0, 9);
    w.finish().unwrap();
    let file_bytes = std::fs::read(&path).unwrap();
    assert_eq!(&file_bytes[..6], b"ARROW1");
    // An Arrow IPC file is also read from stdin (buffered), and a stream saved as .arrow is
    // read by read_samples.
    let a = read_samples_stream(&file_bytes[..], None).unwrap();
    let saved = dir.path().join("s.arrow");
    std::fs::write(&saved, &bytes).unwrap();
    let b = read_samples(&saved).unwrap();
    assert_eq!(a.iterations, b.iterations);
    for (x, y) in a.columns.iter().zip(&b.columns) {
        assert!(same(&x.values, &y.values), "{}", x.name);
    }
    assert_eq!(a.metadata, b.metadata);
}

#[test]
fn a_stream_gets_each_block_as_soon_as_it_is_written() {
    for format in [SamplesFormat::ArrowIpc, SamplesFormat::Csv] {
        let sink = Shared::default();
        let mut w =
            SamplesWriter::to_stream(sink.clone(), "<test>", format, &layout(), &meta()).unwrap();
        write_block(&mut w, 0, 4);
        // Not finished: a reader of the stream so far already has the first block.
        let partial = read_samples_stream(&sink.bytes()[..], Some(format)).unwrap();
        assert_eq!(partial.iterations, [1, 2, 3, 4], "{format:?}");
        assert!(same(partial.values("Price").unwrap(), &block(0, 4)[0]));
        write_block(&mut w, 4, 9);
        let partial = read_samples_stream(&sink.bytes()[..], Some(format)).unwrap();
        assert_eq!(partial.iterations.len(), 9, "{format:?}");
        w.finish().unwrap();
    }
}

#[test]
fn a_stream_writes_no_csv_sidecar_and_files_still_do() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = stream(SamplesFormat::Csv);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("iteration,Price,NPV,\"Cash flow, \"\"net\"\"\"\n"));
    assert_eq!(text.lines().count(), 10);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_empty_or_garbage_stream_is_a_clear_error() {
    let err = read_samples_stream(&b""[..], None).unwrap_err().to_string();
    assert!(err.contains("<stdin>") && err.contains("empty"), "{err}");
    let err = read_samples_stream(&b"PAR1 but not parquet"[..], None)
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("parquet"), "{err}");
    let err = read_samples_stream(&b"x,y\n1,2\n"[..], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("iteration"), "{err}");
}
