//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `mcsim-results`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResultsError {
    /// Two slices that must be aligned row by row have different lengths.
    #[error("length mismatch: {what} has {got} values, expected {expected}")]
    LengthMismatch {
        /// What was being compared (for the message).
        what: String,
        /// The length found.
        got: usize,
        /// The length required.
        expected: usize,
    },
    /// A probability level or percentile outside its valid range.
    #[error("invalid {what} `{value}`: must be in {range}")]
    InvalidLevel {
        /// What the value is (`percentile`, `VaR level`, ...).
        what: &'static str,
        /// The value given.
        value: f64,
        /// The accepted range, in words.
        range: &'static str,
    },
    /// A threshold expression that does not parse.
    #[error("invalid threshold `{expr}` at position {position}: {message}")]
    ThresholdSyntax {
        /// The whole expression.
        expr: String,
        /// Byte offset of the problem in `expr` (0-based).
        position: usize,
        /// What is wrong.
        message: String,
    },
    /// A threshold names an output that the results do not contain.
    #[error("unknown output `{name}` in threshold; available outputs: {}", if available.is_empty() { "(none listed)".to_string() } else { available.join(", ") })]
    UnknownOutput {
        /// The name used in the expression.
        name: String,
        /// The outputs that do exist (may be empty when the caller could not list them).
        available: Vec<String>,
    },
    /// A statistic that is undefined for the data (for example the mean of zero valid samples).
    #[error("`{statistic}` of `{output}` is undefined: {reason}")]
    Undefined {
        /// The statistic asked for.
        statistic: String,
        /// The output it was asked of.
        output: String,
        /// Why it is undefined.
        reason: &'static str,
    },
    /// The samples file's extension names no supported format.
    #[error("cannot tell the samples file format from `{}`: use .parquet, .arrow/.feather/.ipc or .csv", path.display())]
    UnknownFormat {
        /// The path given.
        path: PathBuf,
    },
    /// Column names that are empty, repeated, or clash with `iteration`.
    #[error("invalid column name `{name}`: {reason}")]
    InvalidColumn {
        /// The offending name.
        name: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A samples file whose content does not have the expected shape.
    #[error("malformed samples file `{}`: {message}", path.display())]
    MalformedFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Streaming accumulators that do not fit together: a second pass that saw other values than
    /// the first, a collector from another plan, or statistics without a requested target.
    #[error("streaming statistics: {what}")]
    StreamMismatch {
        /// What does not match.
        what: String,
    },
    /// `write_block` after `finish`, or a similar misuse of the writer.
    #[error("samples writer: {0}")]
    WriterState(&'static str),
    /// An I/O error on a file.
    #[error("I/O error on `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An error from the Parquet library.
    #[error("Parquet error")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// An error from the Arrow libraries (IPC or arrays).
    #[error("Arrow error")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// An error from the CSV library.
    #[error("CSV error")]
    Csv(#[from] csv::Error),
    /// JSON encoding or decoding of metadata failed.
    #[error("JSON metadata error")]
    Json(#[from] serde_json::Error),
    /// Drawing a chart failed.
    #[error("cannot draw chart `{}`", path.display())]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// The plotting library's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Shorthand for `Result<T, ResultsError>`.
pub type Result<T, E = ResultsError> = std::result::Result<T, E>;
