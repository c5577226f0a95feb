//! The operations' error type.

use mcsim_workbook::LoadError;

/// Why an operation could not complete.
///
/// The lower-level error is kept as the [`source`](std::error::Error::source) chain; print the
/// whole chain (for example with `anyhow`'s `{:#}`) to show it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// The workbook could not be loaded (missing, not an `.xlsx`, damaged, over a limit, ...).
    /// Its message names the file and what is wrong.
    #[error(transparent)]
    Load(#[from] LoadError),

    /// A file could not be read or written.
    #[error("cannot read or write {}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The model file (`mcsim.toml`) is invalid.
    #[error("{}: {message}", path.display())]
    Config {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },

    /// The model cannot be simulated as given (bad distribution parameters, no outputs, ...).
    #[error("{message}")]
    Model {
        /// What is wrong, naming the cell and the rule.
        message: String,
    },

    /// The simulation failed while running (writing the samples file, starting threads, ...).
    #[error("{message}")]
    Run {
        /// What went wrong.
        message: String,
    },

    /// A request option is invalid (`--memory 12XB`, a percentile of 1.5, ...).
    #[error("{option}: {message}")]
    Option {
        /// The option as the user wrote it (`--memory`).
        option: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// The caller cancelled the operation (see [`run::Control`](crate::run::Control)).
    #[error("cancelled")]
    Cancelled,
}

/// What kind of failure an [`OpsError`] is, for callers that map errors to exit codes or HTTP
/// statuses without looking at messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (an option, the model file, the model itself): the caller should
    /// change what it asks (HTTP 400/422).
    Invalid,
    /// The workbook cannot be read or is over a limit (HTTP 422 or 413).
    Workbook,
    /// A file could not be read or written on this side (HTTP 500).
    Io,
    /// The run failed while running (HTTP 500).
    Failed,
    /// Cancelled by the caller (HTTP 499).
    Cancelled,
}

impl OpsError {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            OpsError::Load(_) => ErrorKind::Workbook,
            OpsError::Io { .. } => ErrorKind::Io,
            OpsError::Config { .. } | OpsError::Model { .. } | OpsError::Option { .. } => {
                ErrorKind::Invalid
            }
            OpsError::Run { .. } => ErrorKind::Failed,
            OpsError::Cancelled => ErrorKind::Cancelled,
        }
    }
}
