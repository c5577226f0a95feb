//! The loader's error type.

use std::error::Error as StdError;
use std::fmt;

/// A boxed lower-level error kept as the `source` of [`LoadError::Corrupt`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a workbook could not be loaded.
///
/// Every variant names the file (`path`, the path or upload name given to the loader) and
/// says what the user can do about it. Lower-level causes are kept as
/// [`source`](std::error::Error::source), so print the whole chain (for example with
/// `anyhow`'s `{:#}`) to show them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read (missing, unreadable, a directory, ...).
    #[error("cannot read '{path}'")]
    Io {
        /// The path that was given.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The file is not a zip archive, so it cannot be an `.xlsx`/`.xlsm` workbook.
    #[error("file is not a zip archive, so not an .xlsx workbook: {path}")]
    NotAZip {
        /// The file.
        path: String,
    },

    /// The file is in a format mcsim does not read (`.xls`, `.xlsb`, `.ods`, `.csv`, ...).
    #[error("'{path}' is {what}; mcsim reads only .xlsx and .xlsm workbooks (save it as .xlsx)")]
    Unsupported {
        /// The file.
        path: String,
        /// What the file is, as a noun phrase: `an Excel 97-2003 workbook (.xls)`.
        what: String,
    },

    /// The workbook is encrypted (saved with a password to open).
    #[error("'{path}' is encrypted (password-protected); save it without a password")]
    Encrypted {
        /// The file.
        path: String,
    },

    /// The zip archive would decompress beyond one of the limits in
    /// [`LoadOptions`](crate::LoadOptions).
    #[error("'{path}' {limit}")]
    ZipBomb {
        /// The file.
        path: String,
        /// Which limit was exceeded.
        limit: ZipLimit,
    },

    /// A zip entry has a name that tries to escape the archive (absolute path, `..`, NUL).
    #[error(
        "'{path}' contains a zip entry with an unsafe name ({reason}): {entry:?}; refusing to read it"
    )]
    UnsafeEntry {
        /// The file.
        path: String,
        /// The entry's name as stored (lossily decoded).
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The archive or one of its parts is damaged or is not what an Excel workbook holds.
    #[error("'{path}' is damaged or not a valid Excel workbook: {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What was wrong, and where (part or sheet).
        detail: String,
        /// The lower-level error (calamine, zip, XML), when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

impl LoadError {
    pub(crate) fn corrupt(path: &str, detail: impl Into<String>) -> Self {
        LoadError::Corrupt {
            path: path.to_owned(),
            detail: detail.into(),
            source: None,
        }
    }

    pub(crate) fn corrupt_with(
        path: &str,
        detail: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        LoadError::Corrupt {
            path: path.to_owned(),
            detail: detail.into(),
            source: Some(source.into()),
        }
    }
}

/// The limit a [`LoadError::ZipBomb`] exceeded. Its `Display` completes the sentence
/// "'file.xlsx' ...", naming the command-line option that raises the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZipLimit {
    /// The sum of the entries' declared uncompressed sizes is above
    /// [`LoadOptions::max_decompressed_bytes`](crate::LoadOptions::max_decompressed_bytes).
    DecompressedBytes {
        /// The limit in bytes.
        limit: u64,
    },
    /// The archive has more entries than
    /// [`LoadOptions::max_entries`](crate::LoadOptions::max_entries).
    Entries {
        /// How many entries the archive has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// One entry larger than 1 MiB is compressed more than
    /// [`LoadOptions::max_entry_ratio`](crate::LoadOptions::max_entry_ratio) to one.
    EntryRatio {
        /// The entry's name.
        entry: String,
        /// Its compression ratio (uncompressed / compressed, rounded down).
        ratio: u64,
        /// The limit.
        limit: u64,
    },
}

impl fmt::Display for ZipLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZipLimit::DecompressedBytes { limit } => write!(
                f,
                "would decompress to more than {limit} bytes (limit: --max-decompressed-bytes)"
            ),
            ZipLimit::Entries { count, limit } => write!(
                f,
                "has {count} zip entries, more than {limit} (limit: --max-zip-entries)"
            ),
            ZipLimit::EntryRatio {
                entry,
                ratio,
                limit,
            } => write!(
                f,
                "has a zip entry {entry:?} compressed {ratio}:1, more than {limit}:1 \
                 (limit: --max-entry-ratio)"
            ),
        }
    }
}
