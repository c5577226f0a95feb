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
}
