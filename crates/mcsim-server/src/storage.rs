//! Where workbooks and samples files live: in a directory (the data directory, or
//! `--storage DIR`), or in S3 (`--storage s3://bucket/prefix`, for several replicas sharing one
//! database).
//!
//! The layout is the same in both: workbooks stored by the SHA-256 of their content
//! (`blobs/ab/abcdef....xlsx`, so one file however many times it is uploaded) and each run's
//! samples in `runs/ID/samples.parquet`. Locally, uploads in progress go to `tmp/` (renamed into
//! place only once accepted). The engine reads and writes local files, so with S3 the local
//! directory (`DATA_DIR/cache`) is a cache: an accepted upload is stored in S3 before it is
//! recorded, a run's samples are stored in S3 before the run is recorded as succeeded, and a
//! replica that lacks a file fetches it from S3 when it needs it ([`Storage::fetch_blob`],
//! [`Storage::fetch_samples`]).

use std::path::{Path, PathBuf};

use mcsim_s3::{S3Options, S3Url, Store, join_key};

/// File storage: a local directory, and where the files are kept for good.
#[derive(Debug)]
pub struct Storage {
    root: PathBuf,
    backend: Backend,
}

/// Where files are kept for good.
#[derive(Debug)]
enum Backend {
    /// In the local directory itself.
    Dir,
    /// In S3 under `base` (a bucket and a key prefix); the local directory is a cache.
    S3 { store: Store, base: S3Url },
}

/// What `--storage` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageLocation {
    /// A local directory.
    Dir(PathBuf),
    /// `s3://bucket/prefix`.
    S3(S3Url),
}

impl StorageLocation {
    /// `DIR` or `s3://bucket/prefix`.
    pub fn parse(text: &str) -> Result<StorageLocation, String> {
        match S3Url::parse(text) {
            None => Ok(StorageLocation::Dir(PathBuf::from(text))),
            Some(url) => url
                .map(StorageLocation::S3)
                .map_err(|e| format!("--storage {e}")),
        }
    }
}

fn io_error(e: mcsim_s3::S3Error) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl Storage {
    /// Opens (creating) a local storage directory; clears uploads left half-written by a crash.
    pub fn open(root: &Path) -> Result<Self, String> {
        Self::open_local(root, Backend::Dir)
    }

    fn open_local(root: &Path, backend: Backend) -> Result<Self, String> {
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
            backend,
        })
    }

    /// Opens the storage `--storage` names (default: the data directory). For S3 the cache is
    /// `DATA_DIR/cache`, and the bucket is checked to be readable before the daemon starts.
    pub async fn open_location(
        data_dir: &Path,
        location: Option<&StorageLocation>,
    ) -> Result<Self, String> {
        match location {
            None => Self::open(data_dir),
            Some(StorageLocation::Dir(dir)) => Self::open(dir),
            Some(StorageLocation::S3(base)) => {
                let options =
                    S3Options::from_env(&|k| std::env::var(k).ok()).map_err(|e| e.to_string())?;
                let store = Store::connect(&options, &base.to_string())
                    .await
                    .map_err(|e| format!("--storage: {e}"))?;
                // A wrong bucket, endpoint or credentials fail here, not at the first upload.
                store
                    .list(&base.with_key(join_key(&base.key, "blobs/")))
                    .await
                    .map_err(|e| format!("--storage: {e}"))?;
                tracing::info!("storage: {base} (cache in {})", data_dir.display());
                Self::open_local(
                    &data_dir.join("cache"),
                    Backend::S3 {
                        store,
                        base: base.clone(),
                    },
                )
            }
        }
    }

    /// Where files are kept for good: the directory, or the S3 URL.
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Dir => self.root.display().to_string(),
            Backend::S3 { base, .. } => base.to_string(),
        }
    }

    /// The S3 object of a file with this path relative to the storage root.
    fn object(&self, relative: &str) -> Option<(&Store, S3Url)> {
        match &self.backend {
            Backend::Dir => None,
            Backend::S3 { store, base } => {
                Some((store, base.with_key(join_key(&base.key, relative))))
            }
        }
    }

    /// A new temporary file's path, with the extension the workbook loader expects.
    pub fn temp_path(&self, extension: &str) -> PathBuf {
        self.root
            .join("tmp")
            .join(format!("{}.{extension}", crate::db::new_id("u")))
    }

    fn blob_relative(hash: &str, extension: &str) -> String {
        let prefix = hash.get(..2).unwrap_or("xx");
        format!("blobs/{prefix}/{hash}.{extension}")
    }

    /// Where the workbook with this content hash lives locally (with S3: its cached copy,
    /// which [`fetch_blob`](Self::fetch_blob) makes sure of).
    pub fn blob_path(&self, hash: &str, extension: &str) -> PathBuf {
        self.root.join(Self::blob_relative(hash, extension))
    }

    /// Moves an accepted upload into place (keeping the existing file when the content is
    /// already stored). With S3 the file is stored there first, so an upload is never recorded
    /// without it. Called from a blocking task (it waits for S3 on the runtime).
    pub fn commit(&self, temp: &Path, hash: &str, extension: &str) -> std::io::Result<PathBuf> {
        if let Some((store, url)) = self.object(&Self::blob_relative(hash, extension)) {
            tokio::runtime::Handle::current().block_on(async {
                if !store.exists(&url).await.map_err(io_error)? {
                    store.upload(temp, &url).await.map_err(io_error)?;
                }
                Ok::<_, std::io::Error>(())
            })?;
        }
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

    /// The workbook's local path, fetched from S3 into the cache when it is not there.
    pub async fn fetch_blob(&self, hash: &str, extension: &str) -> std::io::Result<PathBuf> {
        let relative = Self::blob_relative(hash, extension);
        self.fetch(&relative).await
    }

    /// The local copy of a stored file (relative path), fetched from S3 when missing: into a
    /// temporary file, renamed into place, so a reader never sees half a file.
    async fn fetch(&self, relative: &str) -> std::io::Result<PathBuf> {
        let local = self.root.join(relative);
        let Some((store, url)) = self.object(relative) else {
            return Ok(local);
        };
        if tokio::fs::try_exists(&local).await? {
            return Ok(local);
        }
        if let Some(dir) = local.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let temp = self.temp_path("part");
        if let Err(e) = store.download(&url, &temp).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(match e {
                mcsim_s3::S3Error::NotFound(what) => std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{what}: missing from the storage"),
                ),
                other => io_error(other),
            });
        }
        tokio::fs::rename(&temp, &local).await?;
        Ok(local)
    }

    /// Removes a workbook no version refers to any more (locally and in S3).
    pub async fn remove_blob(&self, hash: &str, extension: &str) {
        let relative = Self::blob_relative(hash, extension);
        let _ = tokio::fs::remove_file(self.root.join(&relative)).await;
        if let Some((store, url)) = self.object(&relative)
            && let Err(e) = store.delete(&url).await
        {
            tracing::warn!("cannot delete {url}: {e}");
        }
    }

    /// A run's local directory.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("runs").join(run_id)
    }

    fn samples_relative(run_id: &str) -> String {
        format!("runs/{run_id}/samples.parquet")
    }

    /// Where a run writes its samples file (local).
    pub fn samples_path(&self, run_id: &str) -> PathBuf {
        self.root.join(Self::samples_relative(run_id))
    }

    /// Stores a finished run's samples file for good (with S3: uploads it, multipart when
    /// large; locally there is nothing to do).
    pub async fn publish_samples(&self, run_id: &str) -> Result<(), String> {
        let relative = Self::samples_relative(run_id);
        if let Some((store, url)) = self.object(&relative) {
            store
                .upload(&self.root.join(&relative), &url)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// A run's samples file, fetched from S3 into the cache when it is not there.
    pub async fn fetch_samples(&self, run_id: &str) -> std::io::Result<PathBuf> {
        self.fetch(&Self::samples_relative(run_id)).await
    }

    /// Removes a run's files (locally and in S3).
    pub async fn remove_run(&self, run_id: &str) {
        let _ = tokio::fs::remove_dir_all(self.run_dir(run_id)).await;
        if let Some((store, url)) = self.object(&Self::samples_relative(run_id))
            && let Err(e) = store.delete(&url).await
        {
            tracing::warn!("cannot delete {url}: {e}");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_locations_parse() {
        assert_eq!(
            StorageLocation::parse("/srv/mcsim").unwrap(),
            StorageLocation::Dir(PathBuf::from("/srv/mcsim"))
        );
        assert_eq!(
            StorageLocation::parse("s3://team-bucket/mcsim/prod").unwrap(),
            StorageLocation::S3(S3Url {
                bucket: "team-bucket".into(),
                key: "mcsim/prod".into()
            })
        );
        assert!(StorageLocation::parse("s3://").is_err());
    }

    #[test]
    fn a_directory_keeps_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(
            storage.blob_path("abcdef", "xlsx"),
            dir.path().join("blobs/ab/abcdef.xlsx")
        );
        assert_eq!(
            storage.samples_path("r1"),
            dir.path().join("runs/r1/samples.parquet")
        );
        let temp = storage.temp_path("xlsx");
        std::fs::write(&temp, b"x").unwrap();
        let stored = storage.commit(&temp, "abcdef", "xlsx").unwrap();
        assert_eq!(std::fs::read(&stored).unwrap(), b"x");
        assert!(!temp.exists());
        // Stored again: the first copy stays, the upload is dropped.
        let temp = storage.temp_path("xlsx");
        std::fs::write(&temp, b"x").unwrap();
        storage.commit(&temp, "abcdef", "xlsx").unwrap();
        assert!(!temp.exists());
        assert_eq!(storage.location(), dir.path().display().to_string());
    }
}
