//! `s3://bucket/key` paths for mcsim: the CLI's workbook, model file, samples files and merge
//! inputs, and the team server's blob storage (`mcsim serve --storage s3://bucket/prefix`).
//!
//! One crate for both, so that the URL syntax, the client settings (credentials, endpoint, path
//! style, region) and the error messages are the same everywhere. URL parsing is always built;
//! the client ([`Store`], [`BlockingStore`]) needs the `aws` feature. Without it, the client
//! types still exist but cannot be made: [`Store::connect`] answers [`S3Error::Disabled`], so
//! callers need no `cfg` of their own.
//!
//! Settings, from the environment:
//! - credentials: the standard AWS chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
//!   `AWS_PROFILE` and `~/.aws`, web identity, ECS and EC2 instance roles);
//! - endpoint: `MCSIM_S3_ENDPOINT`, else the SDK's `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`;
//! - path-style addressing (`http://host/bucket/key`, for MinIO and other S3-compatible stores):
//!   `MCSIM_S3_PATH_STYLE=true|false`; by default on when a custom endpoint is set;
//! - region: the SDK's (`AWS_REGION`, the profile), else `us-east-1`.

use std::fmt;
use std::path::PathBuf;

#[cfg(feature = "aws")]
mod client;
#[cfg(not(feature = "aws"))]
mod disabled;

#[cfg(feature = "aws")]
pub use client::{BlockingStore, Store};
#[cfg(not(feature = "aws"))]
pub use disabled::{BlockingStore, Store};

/// Whether this build can reach S3.
pub const ENABLED: bool = cfg!(feature = "aws");

/// Size of each part of a multipart upload (S3's minimum is 5 MiB, except for the last part).
/// Files up to this size go up in one request.
pub const PART_SIZE: usize = 8 << 20;

/// An S3 failure, with the URL it concerns.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// This binary was built without the S3 client.
    #[error(
        "{0}: this mcsim was built without S3 support; rebuild it with `--features s3` \
         (cargo build --release --features s3)"
    )]
    Disabled(String),
    /// A string that starts with `s3://` but is not `s3://bucket/key`.
    #[error("{url}: not an S3 URL ({why}); write s3://BUCKET/KEY")]
    BadUrl {
        /// The text given.
        url: String,
        /// What is wrong.
        why: &'static str,
    },
    /// No object at this URL (or no such bucket).
    #[error("{0}: no such object in S3")]
    NotFound(String),
    /// A request failed.
    #[error("{url}: S3 {operation} failed: {message}")]
    Request {
        /// The object or prefix.
        url: String,
        /// `GetObject`, `PutObject`, ...
        operation: &'static str,
        /// The SDK's error, with its causes.
        message: String,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The local file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// `s3://bucket/key`. The key may be empty or end in `/` (a prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key (or prefix), without a leading `/`.
    pub key: String,
}

impl S3Url {
    /// Parses `s3://bucket/key`; `None` when the text does not start with `s3://` (a local
    /// path).
    pub fn parse(text: &str) -> Option<Result<S3Url, S3Error>> {
        let rest = text.strip_prefix("s3://")?;
        let bad = |why| {
            Err(S3Error::BadUrl {
                url: text.to_owned(),
                why,
            })
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(bad("no bucket"));
        }
        if !bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
        {
            return Some(bad(
                "a bucket name has lower-case letters, digits, `-` and `.`",
            ));
        }
        Some(Ok(S3Url {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        }))
    }

    /// Parses a path given on the command line (`None`: a local path).
    pub fn from_path(path: &std::path::Path) -> Option<Result<S3Url, S3Error>> {
        S3Url::parse(path.to_str()?)
    }

    /// The same bucket, another key.
    pub fn with_key(&self, key: impl Into<String>) -> S3Url {
        S3Url {
            bucket: self.bucket.clone(),
            key: key.into(),
        }
    }

    /// The key's last component (`shard-3.parquet`), empty for a prefix.
    pub fn file_name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or("")
    }

    /// Whether the key names a prefix (empty or ending in `/`).
    pub fn is_prefix(&self) -> bool {
        self.key.is_empty() || self.key.ends_with('/')
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Whether a path given on the command line is an `s3://` URL.
pub fn is_s3(path: &std::path::Path) -> bool {
    path.to_str().is_some_and(|s| s.starts_with("s3://"))
}

/// Client settings beyond the SDK's own (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    /// A custom endpoint (`http://127.0.0.1:9000`); `None`: the SDK's (AWS, or
    /// `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// Path-style addressing; `None`: on when a custom endpoint is set.
    pub path_style: Option<bool>,
    /// The region when the SDK finds none (default `us-east-1`).
    pub default_region: Option<String>,
}

impl S3Options {
    /// From `MCSIM_S3_ENDPOINT` and `MCSIM_S3_PATH_STYLE` (through `env`, so tests need not
    /// change the process's environment).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<S3Options, S3Error> {
        let value = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let path_style = match value("MCSIM_S3_PATH_STYLE") {
            None => None,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" => Some(false),
                _ => {
                    return Err(S3Error::BadUrl {
                        url: format!("MCSIM_S3_PATH_STYLE={v}"),
                        why: "use true or false",
                    });
                }
            },
        };
        Ok(S3Options {
            endpoint: value("MCSIM_S3_ENDPOINT"),
            path_style,
            default_region: None,
        })
    }

    /// Path style, given whether the SDK has a custom endpoint from its own environment.
    pub fn resolved_path_style(&self, sdk_endpoint: bool) -> bool {
        self.path_style
            .unwrap_or(self.endpoint.is_some() || sdk_endpoint)
    }
}

/// Joins a prefix and a relative key with one `/` between them.
pub fn join_key(prefix: &str, rest: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_bucket_and_key() {
        assert!(S3Url::parse("runs/a.parquet").is_none());
        assert!(S3Url::parse("/tmp/s3://x").is_none());
        let u = S3Url::parse("s3://my-bucket/runs/7/shard-3.parquet")
            .unwrap()
            .unwrap();
        assert_eq!(u.bucket, "my-bucket");
        assert_eq!(u.key, "runs/7/shard-3.parquet");
        assert_eq!(u.file_name(), "shard-3.parquet");
        assert!(!u.is_prefix());
        assert_eq!(u.to_string(), "s3://my-bucket/runs/7/shard-3.parquet");
        let p = S3Url::parse("s3://b/runs/7/").unwrap().unwrap();
        assert!(p.is_prefix());
        assert_eq!(p.file_name(), "");
        let root = S3Url::parse("s3://b").unwrap().unwrap();
        assert_eq!(root.key, "");
        assert!(root.is_prefix());
        let err = S3Url::parse("s3:///key").unwrap().unwrap_err().to_string();
        assert!(err.contains("no bucket"), "{err}");
        let err = S3Url::parse("s3://My_Bucket/k")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(err.contains("bucket name"), "{err}");
    }

    #[test]
    fn options_come_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let none = S3Options::from_env(&env(&[])).unwrap();
        assert_eq!(none, S3Options::default());
        assert!(!none.resolved_path_style(false));
        // An SDK endpoint (AWS_ENDPOINT_URL) also turns path style on.
        assert!(none.resolved_path_style(true));
        let minio =
            S3Options::from_env(&env(&[("MCSIM_S3_ENDPOINT", "http://127.0.0.1:9000")])).unwrap();
        assert_eq!(minio.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(minio.resolved_path_style(false));
        let virtual_hosts = S3Options::from_env(&env(&[
            ("MCSIM_S3_ENDPOINT", "https://s3.example.com"),
            ("MCSIM_S3_PATH_STYLE", "false"),
        ]))
        .unwrap();
        assert!(!virtual_hosts.resolved_path_style(true));
        let err = S3Options::from_env(&env(&[("MCSIM_S3_PATH_STYLE", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("true or false"), "{err}");
    }

    #[test]
    fn keys_join_with_one_slash() {
        assert_eq!(join_key("", "blobs/a"), "blobs/a");
        assert_eq!(join_key("team/", "blobs/a"), "team/blobs/a");
        assert_eq!(join_key("team", "blobs/a"), "team/blobs/a");
    }

    #[test]
    fn without_the_client_connecting_says_so() {
        if ENABLED {
            return;
        }
        let err = BlockingStore::connect(&S3Options::default(), "s3://b/k")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("built without S3 support"), "{err}");
        assert!(err.starts_with("s3://b/k"), "{err}");
    }
}
