//! The samples file: every iteration's input and output values, one row per iteration.
//!
//! # Layout
//!
//! Columns, in order: `iteration` (`u64`, not null, 1-based, consecutive), then one nullable `f64`
//! column per input, then one per output, each named after its input or output. A **null** marks an
//! iteration in which that column's cell evaluated to an Excel error (`#DIV/0!`, `#VALUE!`, ...);
//! writers take such values as `NaN` and the reader gives them back as `NaN`. Inputs are sampled
//! numbers, so their columns normally have no nulls.
//!
//! # Formats
//!
//! Chosen from the file extension by [`SamplesFormat::from_path`]:
//!
//! - `.parquet` / `.pq`: Parquet, Snappy-compressed, one row group per written block. Run metadata
//!   is in the file's `key_value_metadata`, and also in the Arrow schema's metadata (which
//!   Parquet stores as `ARROW:schema`; pyarrow's `read_table(..).schema.metadata` shows that one).
//! - `.arrow` / `.feather` / `.ipc`: the Arrow IPC **file** format (= Feather v2), uncompressed,
//!   one record batch per block. Run metadata is in the Arrow schema's metadata.
//! - `.csv`: a header row, then one line per iteration; a null is an empty field; numbers are
//!   written so that they parse back to the same `f64`. Since CSV has no metadata, it is written
//!   to a sidecar JSON file next to it, named after the whole file name plus `.meta.json`
//!   (`run.csv` → `run.csv.meta.json`), holding one JSON object of string keys to string values.
//!
//! # Streams
//!
//! [`SamplesWriter::to_stream`] writes the same formats to a pipe (`mcsim run --out -`), block by
//! block: Parquet as a file; Arrow in the IPC **stream** format (no footer; read with
//! `pyarrow.ipc.open_stream`); CSV without its sidecar, so without metadata.
//! [`read_samples_stream`] reads any of them back from stdin, telling the format from the first
//! bytes.
//!
//! # Metadata
//!
//! The caller's key-value pairs (seed, iterations, sampling method, workbook hash, mcsim version,
//! ...) are stored as given. The writer adds [`COLUMNS_KEY`] (`mcsim.columns`), the
//! [`SamplesLayout`] as JSON (`{"inputs": [...], "outputs": [...]}`), from which the reader
//! recovers each column's role; it overrides a caller key of the same name.

mod reader;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, ResultsError};
use crate::threshold::{Threshold, ThresholdOutcome};

pub use reader::{STREAM_BUFFER_LIMIT, read_samples, read_samples_stream};
pub use writer::SamplesWriter;

/// The metadata key holding the [`SamplesLayout`] as JSON.
pub const COLUMNS_KEY: &str = "mcsim.columns";

/// The name of the first column.
pub const ITERATION_COLUMN: &str = "iteration";

/// A samples file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SamplesFormat {
    /// Apache Parquet (the default).
    Parquet,
    /// Arrow IPC file format (Feather v2).
    ArrowIpc,
    /// Comma-separated values, with a `.meta.json` sidecar.
    Csv,
}

impl SamplesFormat {
    /// The format for a path's extension (case-insensitive): `.parquet`/`.pq`,
    /// `.arrow`/`.feather`/`.ipc`, or `.csv`.
    pub fn from_path(path: &Path) -> Result<SamplesFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet" | "pq") => Ok(SamplesFormat::Parquet),
            Some("arrow" | "feather" | "ipc") => Ok(SamplesFormat::ArrowIpc),
            Some("csv") => Ok(SamplesFormat::Csv),
            _ => Err(ResultsError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// The CSV metadata sidecar's path: the file name plus `.meta.json`.
pub fn csv_sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".meta.json");
    PathBuf::from(s)
}

/// Which inputs and outputs a samples file holds, in column order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplesLayout {
    /// Input names (the columns after `iteration`).
    pub inputs: Vec<String>,
    /// Output names (the columns after the inputs).
    pub outputs: Vec<String>,
}

impl SamplesLayout {
    /// A layout from input and output names.
    pub fn new<I, O>(inputs: I, outputs: O) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
        O: IntoIterator,
        O::Item: Into<String>,
    {
        SamplesLayout {
            inputs: inputs.into_iter().map(Into::into).collect(),
            outputs: outputs.into_iter().map(Into::into).collect(),
        }
    }

    /// Number of value columns (inputs + outputs; `iteration` not counted).
    pub fn len(&self) -> usize {
        self.inputs.len() + self.outputs.len()
    }

    /// Whether there are no value columns.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All value column names, inputs then outputs.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inputs.iter().chain(&self.outputs).map(String::as_str)
    }

    /// Rejects empty or duplicate names and the reserved name `iteration`.
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for name in self.names() {
            let reason = if name.is_empty() {
                Some("column names must not be empty")
            } else if name == ITERATION_COLUMN {
                Some("`iteration` is the name of the iteration column")
            } else if !seen.insert(name) {
                Some("the name appears twice among the inputs and outputs")
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(ResultsError::InvalidColumn {
                    name: name.to_string(),
                    reason,
                });
            }
        }
        Ok(())
    }

    fn role(&self, name: &str) -> ColumnRole {
        if self.inputs.iter().any(|n| n == name) {
            ColumnRole::Input
        } else if self.outputs.iter().any(|n| n == name) {
            ColumnRole::Output
        } else {
            ColumnRole::Other
        }
    }
}

/// What a column of a samples file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ColumnRole {
    /// A sampled input.
    Input,
    /// A model output.
    Output,
    /// A column not described in the file's metadata (a file not written by mcsim).
    Other,
}

/// One value column read back from a samples file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleColumn {
    /// Column name.
    pub name: String,
    /// Input, output or unknown.
    pub role: ColumnRole,
    /// One value per row; `NaN` where the file has a null (an error iteration).
    pub values: Vec<f64>,
}

impl SampleColumn {
    /// Number of null (error) rows.
    pub fn errors(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }
}

/// A whole samples file in memory, as read by [`read_samples`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplesFile {
    /// The file's format.
    pub format: SamplesFormat,
    /// The run metadata (including [`COLUMNS_KEY`]; Parquet's internal `ARROW:schema` is left out).
    pub metadata: BTreeMap<String, String>,
    /// Inputs and outputs from the metadata; when the file has no [`COLUMNS_KEY`], every value
    /// column is listed as an output (and has [`ColumnRole::Other`]).
    pub layout: SamplesLayout,
    /// The `iteration` column.
    pub iterations: Vec<u64>,
    /// The value columns, in file order.
    pub columns: Vec<SampleColumn>,
}

impl SamplesFile {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&SampleColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// A column's values by name (input or output), for [`Threshold::evaluate`].
    pub fn values(&self, name: &str) -> Option<&[f64]> {
        self.column(name).map(|c| c.values.as_slice())
    }

    /// The input columns.
    pub fn inputs(&self) -> impl Iterator<Item = &SampleColumn> {
        self.columns.iter().filter(|c| c.role == ColumnRole::Input)
    }

    /// The output columns (and columns of unknown role).
    pub fn outputs(&self) -> impl Iterator<Item = &SampleColumn> {
        self.columns.iter().filter(|c| c.role != ColumnRole::Input)
    }

    /// Evaluates a threshold against this file's columns; an unknown name is reported with the
    /// list of the file's outputs.
    pub fn evaluate(&self, threshold: &Threshold) -> Result<ThresholdOutcome> {
        let names: Vec<&str> = self.outputs().map(|c| c.name.as_str()).collect();
        threshold.evaluate_detail(&|n: &str| self.values(n), &names)
    }

    pub(crate) fn assemble(
        path: &Path,
        format: SamplesFormat,
        metadata: BTreeMap<String, String>,
        iterations: Vec<u64>,
        named: Vec<(String, Vec<f64>)>,
    ) -> Result<SamplesFile> {
        let layout = match metadata.get(COLUMNS_KEY) {
            Some(json) => serde_json::from_str::<SamplesLayout>(json).map_err(|e| {
                ResultsError::MalformedFile {
                    path: path.to_path_buf(),
                    message: format!("metadata `{COLUMNS_KEY}` is not a valid layout: {e}"),
                }
            })?,
            None => SamplesLayout {
                inputs: Vec::new(),
                outputs: named.iter().map(|(n, _)| n.clone()).collect(),
            },
        };
        let described = metadata.contains_key(COLUMNS_KEY);
        if described {
            for name in layout.names() {
                if !named.iter().any(|(n, _)| n == name) {
                    return Err(ResultsError::MalformedFile {
                        path: path.to_path_buf(),
                        message: format!("column `{name}` is in the metadata but not in the file"),
                    });
                }
            }
        }
        let columns = named
            .into_iter()
            .map(|(name, values)| SampleColumn {
                role: if described {
                    layout.role(&name)
                } else {
                    ColumnRole::Other
                },
                name,
                values,
            })
            .collect();
        Ok(SamplesFile {
            format,
            metadata,
            layout,
            iterations,
            columns,
        })
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    }
}
