//! `s3://bucket/key` paths on the command line: inputs (the workbook, the model file, samples
//! files and shards) are downloaded into a temporary directory before the command reads them,
//! and outputs (samples files) are written there and uploaded afterwards (multipart for large
//! files, streamed from the file: see `mcsim_s3`). The library operations only ever see local
//! files. Without the `s3` feature, the first s3:// path is an error that says so.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use mcsim_s3::{BlockingStore, S3Options, S3Url};

/// The S3 client (connected at the first s3:// path) and the staging directory.
#[derive(Default)]
pub struct S3Paths {
    store: Option<BlockingStore>,
    dir: Option<tempfile::TempDir>,
    staged: usize,
    /// Local staging path -> URL, to name the URL in messages.
    names: Vec<(String, String)>,
}

/// Parses an s3:// path (`None`: a local path).
fn url(path: &Path) -> Result<Option<S3Url>> {
    match S3Url::from_path(path) {
        None => Ok(None),
        Some(parsed) => Ok(Some(parsed?)),
    }
}

impl S3Paths {
    /// Nothing staged yet.
    pub fn new() -> S3Paths {
        S3Paths::default()
    }

    fn store(&mut self, what: &S3Url) -> Result<&BlockingStore> {
        if self.store.is_none() {
            let options = S3Options::from_env(&|k| std::env::var(k).ok())?;
            self.store = Some(BlockingStore::connect(&options, &what.to_string())?);
        }
        self.store
            .as_ref()
            .ok_or_else(|| anyhow!("{what}: no S3 client"))
    }

    /// A new empty directory inside the staging directory.
    fn slot(&mut self) -> Result<PathBuf> {
        if self.dir.is_none() {
            self.dir = Some(
                tempfile::Builder::new()
                    .prefix("mcsim-s3-")
                    .tempdir()
                    .context("cannot create a temporary directory for s3:// files")?,
            );
        }
        let dir = self
            .dir
            .as_ref()
            .map(|d| d.path().join(self.staged.to_string()))
            .ok_or_else(|| anyhow!("no staging directory"))?;
        self.staged += 1;
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// The local file for `path`: itself, or for s3:// a downloaded copy with the same name.
    pub fn input(&mut self, path: PathBuf) -> Result<PathBuf> {
        let Some(url) = url(&path)? else {
            return Ok(path);
        };
        if url.is_prefix() {
            bail!("{url}: name an object, not a prefix");
        }
        let local = self.slot()?.join(url.file_name());
        self.store(&url)?.download(&url, &local)?;
        self.remember(&local, &url);
        Ok(local)
    }

    /// Where to write an output that goes to `path`: itself, or for s3:// a staging file with
    /// the same name (the extension picks the format), to [`upload`](Self::upload) afterwards.
    pub fn output(&mut self, path: PathBuf) -> Result<(PathBuf, Option<S3Url>)> {
        let Some(url) = url(&path)? else {
            return Ok((path, None));
        };
        if url.is_prefix() {
            bail!("{url}: name the object to write, not a prefix");
        }
        // Fail before the work if S3 cannot be reached from this build.
        self.store(&url)?;
        let local = self.slot()?.join(url.file_name());
        self.remember(&local, &url);
        Ok((local, Some(url)))
    }

    /// Uploads a staged output.
    pub fn upload(&mut self, local: &Path, url: &S3Url) -> Result<()> {
        self.store(url)?.upload(local, url)?;
        Ok(())
    }

    /// A sharded run's files for `results merge`: local paths and patterns as given; an
    /// s3:// key downloaded; an s3:// prefix (`s3://bucket/run/`) or pattern
    /// (`s3://bucket/run/shard-*.parquet`) listed and each match downloaded. `skip` (the merge's
    /// own output) is left out of listings.
    pub fn shards(&mut self, paths: &[PathBuf], skip: Option<&S3Url>) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for path in paths {
            let Some(url) = url(path)? else {
                out.push(path.clone());
                continue;
            };
            let name = url.file_name().to_owned();
            let pattern = name.contains(['*', '?']);
            if !pattern && !url.is_prefix() {
                out.push(self.input(path.clone())?);
                continue;
            }
            let dir_key = &url.key[..url.key.len() - name.len()];
            let listed = self.store(&url)?.list(&url.with_key(dir_key))?;
            let found: Vec<S3Url> = listed
                .into_iter()
                .filter(|o| Some(o) != skip)
                .filter(|o| {
                    let rest = &o.key[dir_key.len()..];
                    if pattern {
                        !rest.contains('/') && mcsim_ops::merge::wildcard(&name, rest)
                    } else {
                        // A prefix: the samples and accumulator files directly under it.
                        !rest.contains('/') && is_shard_file(rest)
                    }
                })
                .collect();
            if found.is_empty() {
                bail!(
                    "results merge: no samples file (.parquet, .arrow, .csv) or accumulator file (.json) under {url}{}",
                    if pattern { "" } else { " (a prefix)" }
                );
            }
            // Shards may share a file name under different prefixes: one directory each.
            let unique: BTreeSet<S3Url> = found.into_iter().collect();
            for object in unique {
                out.push(self.input(PathBuf::from(object.to_string()))?);
            }
        }
        Ok(out)
    }

    fn remember(&mut self, local: &Path, url: &S3Url) {
        self.names
            .push((local.to_string_lossy().into_owned(), url.to_string()));
    }

    /// `text` with staging paths replaced by their URLs.
    pub fn rename(&self, text: &str) -> String {
        let mut text = text.to_owned();
        // Longest first, so that `.../1/x` is not cut by `.../1`.
        let mut names = self.names.clone();
        names.sort_by_key(|(local, _)| std::cmp::Reverse(local.len()));
        for (local, url) in names {
            text = text.replace(&local, &url);
        }
        text
    }

    /// An error with staging paths replaced by their URLs (same one line, same exit status).
    pub fn rename_error(&self, err: anyhow::Error) -> anyhow::Error {
        if self.names.is_empty() {
            return err;
        }
        let mut line = String::new();
        for cause in err.chain() {
            let message = cause.to_string();
            if line.ends_with(&message) {
                continue;
            }
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&message);
        }
        anyhow!(self.rename(&line))
    }
}

/// A samples file's or accumulator file's extension.
fn is_shard_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".parquet", ".arrow", ".feather", ".ipc", ".csv", ".json"]
        .iter()
        .any(|e| lower.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_pass_through() {
        let mut s3 = S3Paths::new();
        assert_eq!(
            s3.input(PathBuf::from("npv.xlsx")).unwrap(),
            PathBuf::from("npv.xlsx")
        );
        let (local, url) = s3.output(PathBuf::from("out.parquet")).unwrap();
        assert_eq!(local, PathBuf::from("out.parquet"));
        assert!(url.is_none());
        assert!(s3.dir.is_none(), "nothing staged for local paths");
    }

    #[test]
    fn a_prefix_is_not_an_object() {
        let mut s3 = S3Paths::new();
        let err = s3.input(PathBuf::from("s3://bucket/run/")).unwrap_err();
        assert!(err.to_string().contains("not a prefix"), "{err}");
    }

    #[test]
    fn staging_paths_are_named_by_their_urls() {
        let mut s3 = S3Paths::new();
        let url = S3Url::parse("s3://b/run/shard-1.parquet").unwrap().unwrap();
        s3.remember(Path::new("/tmp/x/1/shard-1.parquet"), &url);
        s3.remember(
            Path::new("/tmp/x/10/shard-1.parquet"),
            &url.with_key("other/shard-1.parquet"),
        );
        assert_eq!(
            s3.rename("/tmp/x/1/shard-1.parquet and /tmp/x/10/shard-1.parquet differ"),
            "s3://b/run/shard-1.parquet and s3://b/other/shard-1.parquet differ"
        );
        assert!(is_shard_file("shard-0.PARQUET"));
        assert!(is_shard_file("shard-0.stats.json"));
        assert!(!is_shard_file("model.toml"));
    }
}
