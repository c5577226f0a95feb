//! Limits applied while loading.

/// Entries up to this many uncompressed bytes are exempt from the
/// [`LoadOptions::max_entry_ratio`] check (small, very repetitive parts compress well).
pub const RATIO_CHECK_MIN_BYTES: u64 = 1024 * 1024;

/// Limits that protect the loader against hostile archives ("zip bombs").
///
/// They are checked against the archive's central directory before any part is
/// decompressed; reading is then bounded as well, because every entry is read through a
/// reader that fails once it produces more than the entry's declared size.
///
/// ```
/// let options = mcsim_workbook::LoadOptions::default().with_max_decompressed_bytes(64 << 20);
/// assert_eq!(options.max_entries, 10_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// The most bytes all entries may declare together, uncompressed. Default 1 GiB.
    pub max_decompressed_bytes: u64,
    /// The most entries the archive may hold. Default 10 000.
    pub max_entries: usize,
    /// The highest compression ratio (uncompressed / compressed) an entry larger than
    /// [`RATIO_CHECK_MIN_BYTES`] (1 MiB) may have. Default 1000 (deflate's own maximum is
    /// about 1032, so only degenerate data gets near it).
    pub max_entry_ratio: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_decompressed_bytes: 1 << 30,
            max_entries: 10_000,
            max_entry_ratio: 1000,
        }
    }
}

impl LoadOptions {
    /// Sets [`max_decompressed_bytes`](Self::max_decompressed_bytes).
    #[must_use]
    pub fn with_max_decompressed_bytes(mut self, bytes: u64) -> Self {
        self.max_decompressed_bytes = bytes;
        self
    }

    /// Sets [`max_entries`](Self::max_entries).
    #[must_use]
    pub fn with_max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries;
        self
    }

    /// Sets [`max_entry_ratio`](Self::max_entry_ratio).
    #[must_use]
    pub fn with_max_entry_ratio(mut self, ratio: u64) -> Self {
        self.max_entry_ratio = ratio;
        self
    }
}
