//! Reading a samples file back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_ipc::reader::{FileReader, StreamReader};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;

use super::{ITERATION_COLUMN, SamplesFile, SamplesFormat, csv_sidecar_path, io_err};
use crate::error::{Result, ResultsError};

/// Reads a whole samples file (format from the extension, see [`SamplesFormat::from_path`]) into
/// memory: the columns, the run metadata, and each column's role from [`COLUMNS_KEY`].
///
/// Nulls come back as `NaN`. Files written by other tools are accepted when their first column
/// is an integer `iteration` and the others are floating point; without mcsim's metadata every
/// value column has [`ColumnRole::Other`]. For CSV a missing sidecar means no metadata.
///
/// [`COLUMNS_KEY`]: super::COLUMNS_KEY
/// [`ColumnRole::Other`]: super::ColumnRole::Other
pub fn read_samples(path: impl AsRef<Path>) -> Result<SamplesFile> {
    let path = path.as_ref();
    let format = SamplesFormat::from_path(path)?;
    let (metadata, iterations, columns) = match format {
        SamplesFormat::Parquet => read_parquet(path, open(path)?)?,
        SamplesFormat::ArrowIpc => {
            // The file format normally; the stream format too (`mcsim run --out - > x.arrow`).
            let mut file = BufReader::new(open(path)?);
            let head = peek(&mut file).map_err(io_err(path))?;
            file.seek(SeekFrom::Start(0)).map_err(io_err(path))?;
            if head.starts_with(ARROW_FILE_MAGIC) {
                read_ipc_file(path, file)?
            } else {
                read_ipc_stream(path, file)?
            }
        }
        SamplesFormat::Csv => read_csv(path)?,
    };
    SamplesFile::assemble(path, format, metadata, iterations, columns)
}

/// The most bytes [`read_samples_stream`] holds in memory to read a Parquet stream (whose footer,
/// needed first, is at its end) or an Arrow IPC file: 4 GiB. Arrow IPC streams and CSV are read
/// as they come, without this limit.
pub const STREAM_BUFFER_LIMIT: u64 = 4 << 30;

/// The name a stream has in error messages.
const STDIN: &str = "<stdin>";

const PARQUET_MAGIC: &[u8] = b"PAR1";
const ARROW_FILE_MAGIC: &[u8] = b"ARROW1";
const ARROW_STREAM_CONTINUATION: &[u8] = &[0xFF; 4];

/// Reads a whole samples stream (such as stdin, `mcsim results -`) into memory, like
/// [`read_samples`] reads a file.
///
/// Without `format`, it is told from the first bytes: `PAR1` is Parquet, `ARROW1` an Arrow IPC
/// file, the continuation marker `0xFFFFFFFF` an Arrow IPC stream, anything else CSV. A Parquet
/// stream is held in memory whole before it is read, up to [`STREAM_BUFFER_LIMIT`] bytes. A CSV
/// stream has no sidecar, so no metadata: every column is then an output of unknown role.
pub fn read_samples_stream(input: impl Read, format: Option<SamplesFormat>) -> Result<SamplesFile> {
    read_stream_limited(input, format, STREAM_BUFFER_LIMIT)
}

pub(crate) fn read_stream_limited(
    mut input: impl Read,
    format: Option<SamplesFormat>,
    limit: u64,
) -> Result<SamplesFile> {
    let label = Path::new(STDIN);
    let head = peek(&mut input).map_err(io_err(label))?;
    if head.is_empty() {
        return Err(malformed(label, "the stream is empty"));
    }
    let is_arrow_file = head.starts_with(ARROW_FILE_MAGIC);
    let format = format.unwrap_or(if head.starts_with(PARQUET_MAGIC) {
        SamplesFormat::Parquet
    } else if is_arrow_file || head.starts_with(ARROW_STREAM_CONTINUATION) {
        SamplesFormat::ArrowIpc
    } else {
        SamplesFormat::Csv
    });
    let input = Cursor::new(head).chain(input);
    let (metadata, iterations, columns) = match format {
        SamplesFormat::Parquet => {
            let bytes = buffer(input, limit, "a Parquet stream")?;
            read_parquet(label, bytes::Bytes::from(bytes))?
        }
        SamplesFormat::ArrowIpc if is_arrow_file => {
            let bytes = buffer(input, limit, "an Arrow IPC file")?;
            read_ipc_file(label, Cursor::new(bytes))?
        }
        SamplesFormat::ArrowIpc => read_ipc_stream(label, BufReader::new(input))?,
        SamplesFormat::Csv => read_csv_from(label, BufReader::new(input), BTreeMap::new())?,
    };
    SamplesFile::assemble(label, format, metadata, iterations, columns)
}

/// Up to the first 8 bytes (fewer only at the end of the input).
fn peek(input: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(8);
    input.by_ref().take(8).read_to_end(&mut head)?;
    Ok(head)
}

/// The whole input in memory, refusing more than `limit` bytes.
fn buffer(input: impl Read, limit: u64, what: &str) -> Result<Vec<u8>> {
    let label = Path::new(STDIN);
    let mut bytes = Vec::new();
    input
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err(label))?;
    if bytes.len() as u64 > limit {
        return Err(malformed(
            label,
            format!(
                "{what} is read whole into memory (its footer is at the end), and this one is \
                 larger than {limit} bytes; write it to a file, or pipe an Arrow IPC stream or \
                 CSV, which are read as they come"
            ),
        ));
    }
    Ok(bytes)
}

type Parts = (BTreeMap<String, String>, Vec<u64>, Vec<(String, Vec<f64>)>);

fn malformed(path: &Path, message: impl Into<String>) -> ResultsError {
    ResultsError::MalformedFile {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(io_err(path))
}

/// Checks the schema and prepares empty columns.
fn columns_of(path: &Path, schema: &SchemaRef) -> Result<Vec<(String, Vec<f64>)>> {
    let fields = schema.fields();
    match fields.first() {
        Some(f) if f.name() == ITERATION_COLUMN => {}
        _ => {
            return Err(malformed(
                path,
                format!("the first column must be `{ITERATION_COLUMN}`"),
            ));
        }
    }
    Ok(fields
        .iter()
        .skip(1)
        .map(|f| (f.name().clone(), Vec::new()))
        .collect())
}

fn append_batch(
    path: &Path,
    batch: &RecordBatch,
    iterations: &mut Vec<u64>,
    columns: &mut [(String, Vec<f64>)],
) -> Result<()> {
    let it = batch.column(0);
    if it.null_count() > 0 {
        return Err(malformed(path, "the `iteration` column has nulls"));
    }
    match it.data_type() {
        DataType::UInt64 => iterations.extend(it.as_primitive::<UInt64Type>().values().iter()),
        DataType::Int64 => {
            for &v in it.as_primitive::<Int64Type>().values().iter() {
                iterations.push(
                    u64::try_from(v)
                        .map_err(|_| malformed(path, format!("negative iteration {v}")))?,
                );
            }
        }
        other => {
            return Err(malformed(
                path,
                format!("the `iteration` column has type {other}, expected UInt64"),
            ));
        }
    }
    for (i, (name, out)) in columns.iter_mut().enumerate() {
        let a = batch.column(i + 1);
        match a.data_type() {
            DataType::Float64 => {
                let a = a.as_primitive::<Float64Type>();
                out.extend(a.iter().map(|v| v.unwrap_or(f64::NAN)));
            }
            DataType::Float32 => {
                let a = a.as_primitive::<Float32Type>();
                out.extend(a.iter().map(|v| v.map_or(f64::NAN, f64::from)));
            }
            other => {
                return Err(malformed(
                    path,
                    format!("column `{name}` has type {other}, expected Float64"),
                ));
            }
        }
    }
    Ok(())
}

fn read_parquet(path: &Path, source: impl ChunkReader + 'static) -> Result<Parts> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(source)?;
    let mut metadata = BTreeMap::new();
    if let Some(kv) = builder.metadata().file_metadata().key_value_metadata() {
        for e in kv {
            if e.key == "ARROW:schema" {
                continue;
            }
            metadata.insert(e.key.clone(), e.value.clone().unwrap_or_default());
        }
    }
    let schema = builder.schema().clone();
    let mut columns = columns_of(path, &schema)?;
    let mut iterations = Vec::new();
    for batch in builder.with_batch_size(65_536).build()? {
        append_batch(path, &batch?, &mut iterations, &mut columns)?;
    }
    Ok((metadata, iterations, columns))
}

fn read_ipc_file(path: &Path, source: impl Read + Seek) -> Result<Parts> {
    let reader = FileReader::try_new(source, None)?;
    let schema = reader.schema();
    read_batches(path, &schema, reader)
}

fn read_ipc_stream(path: &Path, source: impl Read) -> Result<Parts> {
    let reader = StreamReader::try_new(source, None)?;
    let schema = reader.schema();
    read_batches(path, &schema, reader)
}

fn read_batches(
    path: &Path,
    schema: &SchemaRef,
    batches: impl Iterator<Item = std::result::Result<RecordBatch, ArrowError>>,
) -> Result<Parts> {
    let metadata: BTreeMap<String, String> = schema
        .metadata()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut columns = columns_of(path, schema)?;
    let mut iterations = Vec::new();
    for batch in batches {
        append_batch(path, &batch?, &mut iterations, &mut columns)?;
    }
    Ok((metadata, iterations, columns))
}

fn read_csv(path: &Path) -> Result<Parts> {
    let sidecar = csv_sidecar_path(path);
    let metadata = match std::fs::read(&sidecar) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            malformed(
                &sidecar,
                format!("metadata sidecar is not a JSON object of strings: {e}"),
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(io_err(&sidecar)(e)),
    };
    read_csv_from(path, BufReader::new(open(path)?), metadata)
}

fn read_csv_from(
    path: &Path,
    source: impl Read,
    metadata: BTreeMap<String, String>,
) -> Result<Parts> {
    let mut r = csv::Reader::from_reader(source);
    let headers = r.headers()?.clone();
    if headers.get(0) != Some(ITERATION_COLUMN) {
        return Err(malformed(
            path,
            format!("the first column must be `{ITERATION_COLUMN}`"),
        ));
    }
    let mut columns: Vec<(String, Vec<f64>)> = headers
        .iter()
        .skip(1)
        .map(|h| (h.to_string(), Vec::new()))
        .collect();
    let mut iterations = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    while r.read_record(&mut rec)? {
        line += 1;
        let it = rec.get(0).unwrap_or("");
        iterations.push(
            it.trim()
                .parse()
                .map_err(|_| malformed(path, format!("line {line}: bad iteration `{it}`")))?,
        );
        for (i, (name, out)) in columns.iter_mut().enumerate() {
            let field = rec.get(i + 1).unwrap_or("").trim();
            out.push(if field.is_empty() {
                f64::NAN
            } else {
                field.parse().map_err(|_| {
                    malformed(
                        path,
                        format!("line {line}, column `{name}`: `{field}` is not a number"),
                    )
                })?
            });
        }
    }
    Ok((metadata, iterations, columns))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::read_stream_limited;
    use crate::samples::{SamplesFormat, SamplesLayout, SamplesWriter};

    #[test]
    fn a_parquet_stream_over_the_limit_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.parquet");
        let layout = SamplesLayout::new(["x"], ["y"]);
        let mut w = SamplesWriter::create(&path, SamplesFormat::Parquet, &layout, &BTreeMap::new())
            .unwrap();
        w.write_block(&[&[1.0, 2.0], &[3.0, 4.0]]).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let n = bytes.len() as u64;
        let ok = read_stream_limited(&bytes[..], None, n).unwrap();
        assert_eq!(ok.iterations, [1, 2]);
        let err = read_stream_limited(&bytes[..], None, n - 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("<stdin>") && err.contains(&format!("larger than {} bytes", n - 1)),
            "{err}"
        );
    }
}
