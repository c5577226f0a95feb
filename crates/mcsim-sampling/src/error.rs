//! The crate's error type.

/// Everything that can go wrong when preparing or drawing samples.
///
/// Messages name the rule that was broken and the offending value, so that a user can fix the
/// cell: `RiskNormal: standard deviation must be positive, got -2`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplingError {
    /// A distribution parameter breaks a rule of its distribution.
    #[error("{function}: {parameter} {rule}, got {value}")]
    InvalidParameter {
        /// The @RISK function name, e.g. `RiskNormal`.
        function: &'static str,
        /// The parameter (or parameters) in words, e.g. `standard deviation`.
        parameter: &'static str,
        /// The rule, e.g. `must be positive`.
        rule: &'static str,
        /// The value or values given, formatted for display.
        value: String,
    },
    /// A `RiskTruncate` range is empty or holds no probability.
    #[error("{function}: truncation {rule}, got [{min}, {max}]")]
    InvalidTruncation {
        /// The @RISK function name of the truncated distribution.
        function: &'static str,
        /// The rule broken.
        rule: &'static str,
        /// Lower bound (−∞ when absent).
        min: f64,
        /// Upper bound (+∞ when absent).
        max: f64,
    },
    /// A `RiskShift` amount is not a finite number.
    #[error("{function}: shift must be a finite number, got {value}")]
    InvalidShift {
        /// The @RISK function name of the shifted distribution.
        function: &'static str,
        /// The shift given.
        value: f64,
    },
    /// A discrete distribution whose support is too wide to tabulate.
    #[error("{function}: {values} possible values is too many to tabulate (limit {limit})")]
    TooLarge {
        /// The @RISK function name.
        function: &'static str,
        /// Number of values the table would need.
        values: u64,
        /// The limit.
        limit: u64,
    },
    /// A correlation matrix that is not square.
    #[error(
        "correlation matrix must be square, row {row} has {len} entries but there are {rows} rows"
    )]
    CorrelationShape {
        /// The offending row.
        row: usize,
        /// Its length.
        len: usize,
        /// The number of rows.
        rows: usize,
    },
    /// A correlation matrix entry breaks a rule (range, unit diagonal, symmetry).
    #[error("correlation matrix entry ({row}, {col}) {rule}, got {value}")]
    CorrelationEntry {
        /// Row, from 0.
        row: usize,
        /// Column, from 0.
        col: usize,
        /// The rule broken.
        rule: &'static str,
        /// The value found.
        value: f64,
    },
    /// A correlation matrix whose factorisation failed (a numerical breakdown after repair).
    #[error("correlation matrix: {detail}")]
    CorrelationFactor {
        /// What failed.
        detail: String,
    },
    /// Buffers passed to a sampling or correlation call do not have the expected shape.
    #[error("buffer shape mismatch: {detail}")]
    BufferShape {
        /// What was expected and what was given.
        detail: String,
    },
}
