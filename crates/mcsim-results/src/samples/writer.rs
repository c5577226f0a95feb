//! Streaming writer for samples files.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use arrow_ipc::writer::{FileWriter, StreamWriter};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{
    COLUMNS_KEY, ITERATION_COLUMN, SamplesFormat, SamplesLayout, csv_sidecar_path, io_err,
};
use crate::error::{Result, ResultsError};

/// Where the bytes go: a file, or any stream (stdout).
type Out = BufWriter<Box<dyn Write + Send>>;

/// Bytes buffered before a write reaches the file or stream.
const OUT_BUFFER: usize = 1 << 20;

enum Sink {
    Parquet(Box<ArrowWriter<Out>>),
    Ipc(Box<FileWriter<Out>>),
    IpcStream(Box<StreamWriter<Out>>),
    Csv(Box<csv::Writer<Out>>),
}

/// Writes a samples file block by block (see the [module docs](super) for the layout).
///
/// Memory is bounded by one block: each [`write_block`](Self::write_block) encodes its rows and
/// hands them to the file (a Parquet row group, an Arrow record batch, or CSV lines) before
/// returning. Call [`finish`](Self::finish) at the end; a Parquet or Arrow file whose writer is
/// dropped without `finish` has no footer and cannot be read.
///
/// ```
/// use std::collections::BTreeMap;
/// use mcsim_results::{SamplesFormat, SamplesLayout, SamplesWriter, read_samples};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("run.parquet");
/// let layout = SamplesLayout::new(["Price"], ["NPV"]);
/// let meta = BTreeMap::from([("seed".to_string(), "42".to_string())]);
/// let mut w = SamplesWriter::create(&path, SamplesFormat::from_path(&path).unwrap(), &layout, &meta).unwrap();
/// w.write_block(&[&[1.0, 2.0], &[10.0, f64::NAN]]).unwrap(); // NaN: an error iteration
/// w.finish().unwrap();
/// let file = read_samples(&path).unwrap();
/// assert_eq!(file.iterations, [1, 2]);
/// assert_eq!(file.metadata["seed"], "42");
/// assert!(file.values("NPV").unwrap()[1].is_nan());
/// ```
pub struct SamplesWriter {
    path: PathBuf,
    /// Writing to a stream: flush after every block, so that a reader sees it at once.
    stream: bool,
    schema: SchemaRef,
    columns: usize,
    next_iteration: u64,
    /// The number of the first row (1 unless [`SamplesWriter::starting_at`]).
    first_iteration: u64,
    sink: Sink,
}

impl std::fmt::Debug for SamplesWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamplesWriter")
            .field("path", &self.path)
            .field("stream", &self.stream)
            .field("columns", &self.columns)
            .field("next_iteration", &self.next_iteration)
            .finish_non_exhaustive()
    }
}

impl SamplesWriter {
    /// Creates (truncating) `path` in `format` for the columns of `layout`, storing `metadata`
    /// plus [`COLUMNS_KEY`]. For CSV, the sidecar metadata file is written now.
    pub fn create(
        path: impl AsRef<Path>,
        format: SamplesFormat,
        layout: &SamplesLayout,
        metadata: &BTreeMap<String, String>,
    ) -> Result<SamplesWriter> {
        let path = path.as_ref();
        layout.validate()?;
        let file: Box<dyn Write + Send> = Box::new(File::create(path).map_err(io_err(path))?);
        Self::build(path, false, file, format, layout, metadata)
    }

    /// Writes the samples to a stream (such as stdout) instead of a file; `label` names it in
    /// error messages (`<stdout>`).
    ///
    /// What differs from a file: `ArrowIpc` is written in the Arrow IPC **stream** format (no
    /// footer, so nothing needs seeking; pyarrow reads it with `pyarrow.ipc.open_stream`), and
    /// CSV has no sidecar, so its run metadata is not written. Every block is flushed to the
    /// stream as it is written, so a reader of an Arrow stream or CSV sees the rows of finished
    /// blocks before the run ends (a Parquet reader needs the footer, written by
    /// [`finish`](Self::finish)).
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use mcsim_results::{SamplesFormat, SamplesLayout, SamplesWriter, read_samples_stream};
    /// let layout = SamplesLayout::new(["Price"], ["NPV"]);
    /// let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    /// impl std::io::Write for Shared {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    /// let mut w = SamplesWriter::to_stream(Shared(buf.clone()), "<memory>", SamplesFormat::ArrowIpc, &layout, &BTreeMap::new()).unwrap();
    /// w.write_block(&[&[1.0, 2.0], &[10.0, 20.0]]).unwrap();
    /// w.finish().unwrap();
    /// let bytes = buf.lock().unwrap().clone();
    /// let file = read_samples_stream(&bytes[..], None).unwrap();
    /// assert_eq!(file.values("NPV").unwrap(), [10.0, 20.0]);
    /// ```
    pub fn to_stream(
        writer: impl Write + Send + 'static,
        label: &str,
        format: SamplesFormat,
        layout: &SamplesLayout,
        metadata: &BTreeMap<String, String>,
    ) -> Result<SamplesWriter> {
        layout.validate()?;
        Self::build(
            Path::new(label),
            true,
            Box::new(writer),
            format,
            layout,
            metadata,
        )
    }

    fn build(
        path: &Path,
        stream: bool,
        out: Box<dyn Write + Send>,
        format: SamplesFormat,
        layout: &SamplesLayout,
        metadata: &BTreeMap<String, String>,
    ) -> Result<SamplesWriter> {
        let mut meta = metadata.clone();
        meta.insert(COLUMNS_KEY.to_string(), serde_json::to_string(layout)?);

        let mut fields = vec![Field::new(ITERATION_COLUMN, DataType::UInt64, false)];
        fields.extend(
            layout
                .names()
                .map(|n| Field::new(n, DataType::Float64, true)),
        );
        let file: Out = BufWriter::with_capacity(OUT_BUFFER, out);
        let with_meta = |fields: Vec<Field>| {
            Arc::new(
                Schema::new(fields).with_metadata(
                    meta.clone()
                        .into_iter()
                        .collect::<std::collections::HashMap<_, _>>(),
                ),
            )
        };

        let (schema, sink) = match format {
            SamplesFormat::Parquet => {
                // In both places: the file's key_value_metadata for Parquet readers, and the
                // Arrow schema (stored as `ARROW:schema`), which pyarrow shows instead.
                let schema = with_meta(fields);
                let kv = meta
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                    .collect();
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_dictionary_enabled(false)
                    .set_key_value_metadata(Some(kv))
                    .build();
                let w = ArrowWriter::try_new(file, schema.clone(), Some(props))?;
                (schema, Sink::Parquet(Box::new(w)))
            }
            SamplesFormat::ArrowIpc if stream => {
                let schema = with_meta(fields);
                let mut w = StreamWriter::try_new(file, &schema)?;
                // The schema message now, so that a reader can start before the first block.
                w.flush()?;
                (schema, Sink::IpcStream(Box::new(w)))
            }
            SamplesFormat::ArrowIpc => {
                let schema = with_meta(fields);
                let w = FileWriter::try_new(file, &schema)?;
                (schema, Sink::Ipc(Box::new(w)))
            }
            SamplesFormat::Csv => {
                let schema = Arc::new(Schema::new(fields));
                if !stream {
                    let sidecar = csv_sidecar_path(path);
                    let json = serde_json::to_vec_pretty(&meta)?;
                    std::fs::write(&sidecar, json).map_err(io_err(&sidecar))?;
                }
                let mut w = csv::Writer::from_writer(file);
                w.write_record(schema.fields().iter().map(|f| f.name().as_str()))?;
                if stream {
                    w.flush().map_err(io_err(path))?;
                }
                (schema, Sink::Csv(Box::new(w)))
            }
        };
        tracing::debug!(path = %path.display(), ?format, stream, columns = layout.len(), "samples file created");
        Ok(SamplesWriter {
            path: path.to_path_buf(),
            stream,
            schema,
            columns: layout.len(),
            next_iteration: 1,
            first_iteration: 1,
            sink,
        })
    }

    /// Appends one block of iterations. `columns` holds one slice per input then per output, in
    /// layout order, all the same length; `NaN` marks an error (written as null). Rows are
    /// numbered on from the previous block, starting at iteration 1.
    pub fn write_block(&mut self, columns: &[&[f64]]) -> Result<()> {
        if columns.len() != self.columns {
            return Err(ResultsError::LengthMismatch {
                what: "block columns".into(),
                got: columns.len(),
                expected: self.columns,
            });
        }
        let rows = columns.first().map_or(0, |c| c.len());
        for (i, c) in columns.iter().enumerate() {
            if c.len() != rows {
                return Err(ResultsError::LengthMismatch {
                    what: format!("block column `{}`", self.schema.field(i + 1).name()),
                    got: c.len(),
                    expected: rows,
                });
            }
        }
        if rows == 0 {
            return Ok(());
        }
        let first = self.next_iteration;
        match &mut self.sink {
            Sink::Parquet(w) => {
                let batch = record_batch(&self.schema, first, columns)?;
                w.write(&batch)?;
                // One row group per block keeps memory bounded by the block.
                w.flush()?;
            }
            Sink::Ipc(w) => {
                let batch = record_batch(&self.schema, first, columns)?;
                w.write(&batch)?;
            }
            Sink::IpcStream(w) => {
                let batch = record_batch(&self.schema, first, columns)?;
                w.write(&batch)?;
                w.flush()?;
            }
            Sink::Csv(w) => {
                let mut rec = csv::ByteRecord::with_capacity(64, columns.len() + 1);
                let mut buf = String::new();
                for r in 0..rows {
                    rec.clear();
                    rec.push_field((first + r as u64).to_string().as_bytes());
                    for c in columns {
                        buf.clear();
                        format_f64(c[r], &mut buf);
                        rec.push_field(buf.as_bytes());
                    }
                    w.write_byte_record(&rec)?;
                }
                if self.stream {
                    w.flush().map_err(io_err(&self.path))?;
                }
            }
        }
        if let (true, Sink::Parquet(w)) = (self.stream, &mut self.sink) {
            // The row group out of the buffer too (a Parquet reader still waits for the footer).
            w.inner_mut().flush().map_err(io_err(&self.path))?;
        }
        self.next_iteration += rows as u64;
        Ok(())
    }

    /// Numbers the rows from `first` (1-based) instead of 1: a shard of a run writes the
    /// iteration numbers of the whole run. Call before the first block.
    pub fn starting_at(mut self, first: u64) -> Self {
        self.next_iteration = first;
        self.first_iteration = first;
        self
    }

    /// Rows written so far.
    pub fn rows_written(&self) -> u64 {
        self.next_iteration - self.first_iteration
    }

    /// Writes the footer (Parquet, Arrow) or flushes (CSV) and closes the file.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        match self.sink {
            Sink::Parquet(w) => {
                let inner = w.into_inner()?;
                inner
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .map_err(io_err(&path))?;
            }
            Sink::Ipc(mut w) => {
                w.finish()?;
                w.get_mut().flush().map_err(io_err(&path))?;
            }
            Sink::IpcStream(mut w) => {
                w.finish()?;
                w.get_mut().flush().map_err(io_err(&path))?;
            }
            Sink::Csv(mut w) => {
                w.flush().map_err(io_err(&path))?;
            }
        }
        tracing::debug!(path = %path.display(), rows = self.next_iteration - self.first_iteration, "samples file finished");
        Ok(())
    }
}

fn record_batch(schema: &SchemaRef, first: u64, columns: &[&[f64]]) -> Result<RecordBatch> {
    let rows = columns.first().map_or(0, |c| c.len()) as u64;
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 1);
    arrays.push(Arc::new(UInt64Array::from_iter_values(first..first + rows)));
    for c in columns {
        arrays.push(Arc::new(
            c.iter()
                .map(|&v| (!v.is_nan()).then_some(v))
                .collect::<Float64Array>(),
        ));
    }
    Ok(RecordBatch::try_new(schema.clone(), arrays)?)
}

/// Shortest round-trip text for `v`; plain notation for moderate magnitudes, exponent otherwise;
/// empty for `NaN` (a null).
fn format_f64(v: f64, out: &mut String) {
    use std::fmt::Write as _;
    if v.is_nan() {
        return;
    }
    let a = v.abs();
    // Writing to a String cannot fail.
    let _ = if a == 0.0 || (1e-5..1e16).contains(&a) {
        write!(out, "{v}")
    } else {
        write!(out, "{v:e}")
    };
}

#[cfg(test)]
mod tests {
    use super::format_f64;

    #[test]
    fn csv_numbers_round_trip() {
        for v in [
            0.0,
            -0.0,
            1.5,
            -2e6,
            1e300,
            5e-324,
            0.1 + 0.2,
            f64::MAX,
            1e16,
            123456.789,
        ] {
            let mut s = String::new();
            format_f64(v, &mut s);
            assert_eq!(s.parse::<f64>().ok(), Some(v), "{s}");
            assert!(s.len() < 30, "{s}");
        }
        let mut s = String::new();
        format_f64(f64::NAN, &mut s);
        assert!(s.is_empty());
    }
}
