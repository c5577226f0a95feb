//! Reading a samples file back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_ipc::reader::FileReader;
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

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
        SamplesFormat::Parquet => read_parquet(path)?,
        SamplesFormat::ArrowIpc => read_ipc(path)?,
        SamplesFormat::Csv => read_csv(path)?,
    };
    SamplesFile::assemble(path, format, metadata, iterations, columns)
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

fn read_parquet(path: &Path) -> Result<Parts> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(open(path)?)?;
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

fn read_ipc(path: &Path) -> Result<Parts> {
    let reader = FileReader::try_new(BufReader::new(open(path)?), None)?;
    let schema = reader.schema();
    let metadata: BTreeMap<String, String> = schema
        .metadata()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut columns = columns_of(path, &schema)?;
    let mut iterations = Vec::new();
    for batch in reader {
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
    let mut r = csv::Reader::from_reader(BufReader::new(open(path)?));
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
