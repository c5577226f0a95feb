//! Files under the data directory: workbooks stored by the SHA-256 of their content
//! (`blobs/ab/abcdef....xlsx`, so one file however many times it is uploaded), uploads in
//! progress in `tmp/` (renamed into place only once accepted), and each run's files in
//! `runs/ID/`.

use std::path::{Path, PathBuf};

/// The data directory's layout.
#[derive(Debug)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    /// Opens (creating) the data directory; clears uploads left half-written by a crash.
    pub fn open(root: &Path) -> Result<Self, String> {
        for sub in ["blobs", "tmp", "runs"] {
            let dir = root.join(sub);
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        if let Ok(entries) = std::fs::read_dir(root.join("tmp")) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Storage {
            root: root.to_path_buf(),
        })
    }

    /// A new temporary file's path, with the extension the workbook loader expects.
    pub fn temp_path(&self, extension: &str) -> PathBuf {
        self.root
            .join("tmp")
            .join(format!("{}.{extension}", crate::db::new_id("u")))
    }

    /// Where the workbook with this content hash lives.
    pub fn blob_path(&self, hash: &str, extension: &str) -> PathBuf {
        let prefix = hash.get(..2).unwrap_or("xx");
        self.root
            .join("blobs")
            .join(prefix)
            .join(format!("{hash}.{extension}"))
    }

    /// Moves an accepted upload into place (keeping the existing file when the content is
    /// already stored).
    pub fn commit(&self, temp: &Path, hash: &str, extension: &str) -> std::io::Result<PathBuf> {
        let dest = self.blob_path(hash, extension);
        if dest.exists() {
            std::fs::remove_file(temp)?;
        } else {
            if let Some(dir) = dest.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::rename(temp, &dest)?;
        }
        Ok(dest)
    }

    /// A run's directory.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id)
    }

    /// A run's samples file.
    pub fn samples_path(&self, run_id: &str) -> PathBuf {
        self.run_dir(run_id).join("samples.parquet")
    }
}

/// `xlsm` for a macro-enabled workbook's file name, else `xlsx`.
pub fn extension_for(file_name: &str) -> &'static str {
    if file_name.to_ascii_lowercase().ends_with(".xlsm") {
        "xlsm"
    } else {
        "xlsx"
    }
}
