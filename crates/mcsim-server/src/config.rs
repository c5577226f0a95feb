//! The daemon's configuration file (`mcsim serve --config FILE`, TOML): every `serve` flag,
//! plus the SMTP and webhook settings and the registration mode. A flag given on the command
//! line wins over the file; what neither gives takes the default of [`ServeOptions::new`].
//! docs/server.md lists the keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ServeOptions;

/// The `serve` settings, each optional: from the command line or from the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// The address to listen on.
    pub bind: Option<SocketAddr>,
    /// Where files and the default SQLite database live.
    pub data_dir: Option<PathBuf>,
    /// The database URL.
    pub database: Option<String>,
    /// PostgreSQL schema for the tables.
    pub database_schema: Option<String>,
    /// Where workbooks and samples files are kept: a directory, or `s3://bucket/prefix` (a
    /// build with the `s3` feature).
    pub storage: Option<String>,
    /// `open` (anyone may register) or `admin-only` (the default).
    pub registration: Option<Registration>,
    /// Jobs run at the same time.
    pub workers: Option<usize>,
    /// Threads each job uses.
    pub threads: Option<usize>,
    /// Largest workbook upload: bytes, or a string with a KiB/MiB/GiB suffix.
    pub max_upload: Option<ByteSize>,
    /// Largest number of iterations a run may ask for.
    pub max_iterations: Option<u64>,
    /// How long a login token is valid, in seconds.
    pub token_ttl: Option<i64>,
    /// `text` (the default) or `json` (one JSON object per line).
    pub log_format: Option<LogFormat>,
    /// A token that `/metrics` requires (`Authorization: Bearer ...`); without it the metrics
    /// are open, like `/healthz`.
    pub metrics_token: Option<String>,
    /// The server's address as users reach it, for links in emails (`https://mcsim.example.com`).
    pub public_url: Option<String>,
    /// PEM certificate chain: serve HTTPS (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Email notifications (none without this table).
    pub smtp: Option<SmtpConfig>,
    /// Webhook delivery settings.
    pub webhooks: Option<WebhookConfig>,
}

/// Who may create accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registration {
    /// Anyone (`mcsim register`).
    Open,
    /// Only an admin adds users.
    AdminOnly,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format `{other}`: use text or json")),
        }
    }
}

/// A size in bytes: a number, or a string such as `"64MiB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ByteSize(n)),
            Raw::Text(s) => parse_bytes(&s)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Parses `123`, `64KiB`, `64MiB`, `1GiB` (also `KB`/`MB`/`GB`, as powers of 1024).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid size `{s}`: use bytes or a KiB/MiB/GiB suffix"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "invalid size `{s}`: use bytes or a KiB/MiB/GiB suffix"
            ));
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size `{s}` is too large"))
}

/// How email is sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port (default: 587 with STARTTLS, 465 with TLS, 25 without).
    pub port: Option<u16>,
    /// `starttls` (the default), `tls`, or `none` (plain text: only for a relay on this host).
    #[serde(default)]
    pub tls: SmtpTls,
    /// The login, if the server asks for one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<String>,
    /// The sender (`mcsim <mcsim@example.com>`).
    pub from: String,
    /// Attempts after the first when the SMTP server cannot be reached or fails for a while
    /// (default 10; a permanent refusal, a 5xx answer, is not retried).
    #[serde(default = "default_email_retries")]
    pub retries: u32,
    /// The first wait before a retry, in milliseconds; it doubles at each retry, at most 5
    /// minutes (default 1000: with 10 retries, about 13 minutes in all).
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
}

fn default_email_retries() -> u32 {
    10
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the start (SMTPS).
    Tls,
    /// No encryption.
    None,
}

/// Webhook delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Seconds one attempt may take (default 10).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attempts after the first when the receiver fails (default 5).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// The first wait before a retry, in milliseconds; it doubles at each retry (default 1000).
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// Let webhooks reach loopback, private, link-local and other internal addresses (default
    /// no: a user could otherwise make the server post to internal services or a cloud
    /// metadata endpoint).
    #[serde(default)]
    pub allow_private: bool,
}

fn default_timeout() -> u64 {
    10
}
fn default_retries() -> u32 {
    5
}
fn default_backoff() -> u64 {
    1000
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout_seconds: default_timeout(),
            retries: default_retries(),
            backoff_ms: default_backoff(),
            allow_private: false,
        }
    }
}

impl ServeConfig {
    /// Reads a configuration file.
    pub fn load(path: &Path) -> Result<ServeConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a configuration file's text.
    pub fn parse(text: &str) -> Result<ServeConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// These settings, with what is missing taken from `file` (flags over the file).
    #[must_use]
    pub fn over(self, file: ServeConfig) -> ServeConfig {
        ServeConfig {
            bind: self.bind.or(file.bind),
            data_dir: self.data_dir.or(file.data_dir),
            database: self.database.or(file.database),
            database_schema: self.database_schema.or(file.database_schema),
            storage: self.storage.or(file.storage),
            registration: self.registration.or(file.registration),
            workers: self.workers.or(file.workers),
            threads: self.threads.or(file.threads),
            max_upload: self.max_upload.or(file.max_upload),
            max_iterations: self.max_iterations.or(file.max_iterations),
            token_ttl: self.token_ttl.or(file.token_ttl),
            log_format: self.log_format.or(file.log_format),
            metrics_token: self.metrics_token.or(file.metrics_token),
            public_url: self.public_url.or(file.public_url),
            tls_cert: self.tls_cert.or(file.tls_cert),
            tls_key: self.tls_key.or(file.tls_key),
            smtp: self.smtp.or(file.smtp),
            webhooks: self.webhooks.or(file.webhooks),
        }
    }

    /// The daemon's options: these settings over the defaults. `default_data_dir` is asked
    /// for only when no data directory was given.
    pub fn into_options(
        self,
        default_data_dir: impl FnOnce() -> Result<PathBuf, String>,
    ) -> Result<ServeOptions, String> {
        let data_dir = match self.data_dir {
            Some(dir) => dir,
            None => default_data_dir()?,
        };
        let bind = self
            .bind
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let mut options = ServeOptions::new(bind, data_dir);
        options.database = self.database;
        options.database_schema = self.database_schema;
        options.storage = self
            .storage
            .as_deref()
            .map(crate::storage::StorageLocation::parse)
            .transpose()?;
        options.open_registration = self.registration == Some(Registration::Open);
        if let Some(workers) = self.workers {
            options.workers = workers;
        }
        if let Some(threads) = self.threads {
            if threads == 0 {
                return Err("threads must be at least 1".into());
            }
            options.threads = Some(threads);
        }
        if let Some(ByteSize(bytes)) = self.max_upload {
            options.max_upload = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        if let Some(n) = self.max_iterations {
            options.max_iterations = n;
        }
        if let Some(ttl) = self.token_ttl {
            if ttl < 1 {
                return Err("token_ttl must be at least 1 second".into());
            }
            options.token_ttl = ttl;
        }
        options.log_format = self.log_format.unwrap_or_default();
        options.metrics_token = self.metrics_token.filter(|t| !t.is_empty());
        options.public_url = self.public_url.map(|u| u.trim_end_matches('/').to_owned());
        options.tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("TLS needs both a certificate (tls_cert) and a key (tls_key)".into()),
        };
        if let Some(smtp) = &self.smtp {
            crate::notify::check_smtp(smtp)?;
        }
        options.smtp = self.smtp;
        options.webhooks = self.webhooks.unwrap_or_default();
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
bind = "0.0.0.0:9000"
data_dir = "/srv/mcsim"
database = "postgres://mcsim@db/mcsim"
database_schema = "team"
registration = "open"
workers = 3
threads = 2
max_upload = "8MiB"
max_iterations = 1000
token_ttl = 3600
log_format = "json"
metrics_token = "scrape-me"
public_url = "https://mcsim.example.com/"

[smtp]
host = "smtp.example.com"
port = 2525
tls = "none"
from = "mcsim <mcsim@example.com>"
retries = 4
backoff_ms = 250

[webhooks]
retries = 2
backoff_ms = 10
"#;

    #[test]
    fn every_key_reaches_the_options() {
        let file = ServeConfig::parse(FULL).unwrap();
        let o = ServeConfig::default()
            .over(file)
            .into_options(|| Err("not asked".into()))
            .unwrap();
        assert_eq!(o.bind, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(o.data_dir, PathBuf::from("/srv/mcsim"));
        assert_eq!(o.database.as_deref(), Some("postgres://mcsim@db/mcsim"));
        assert_eq!(o.database_schema.as_deref(), Some("team"));
        assert!(o.open_registration);
        assert_eq!((o.workers, o.threads), (3, Some(2)));
        assert_eq!(o.max_upload, 8 << 20);
        assert_eq!(o.max_iterations, 1000);
        assert_eq!(o.token_ttl, 3600);
        assert_eq!(o.log_format, LogFormat::Json);
        assert_eq!(o.metrics_token.as_deref(), Some("scrape-me"));
        assert_eq!(o.public_url.as_deref(), Some("https://mcsim.example.com"));
        let smtp = o.smtp.unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.tls),
            ("smtp.example.com", Some(2525), SmtpTls::None)
        );
        assert_eq!((smtp.retries, smtp.backoff_ms), (4, 250));
        assert_eq!(
            (
                o.webhooks.retries,
                o.webhooks.backoff_ms,
                o.webhooks.timeout_seconds
            ),
            (2, 10, 10)
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = ServeConfig::parse(FULL).unwrap();
        let flags = ServeConfig {
            workers: Some(7),
            bind: Some("127.0.0.1:1".parse().unwrap()),
            max_upload: Some(ByteSize(100)),
            ..ServeConfig::default()
        };
        let o = flags.over(file).into_options(|| Err("no".into())).unwrap();
        assert_eq!(o.workers, 7);
        assert_eq!(o.bind, "127.0.0.1:1".parse().unwrap());
        assert_eq!(o.max_upload, 100);
        // Not given as a flag: from the file.
        assert_eq!(o.threads, Some(2));
    }

    #[test]
    fn defaults_without_file_or_flags() {
        let o = ServeConfig::default()
            .into_options(|| Ok(PathBuf::from("/d")))
            .unwrap();
        assert_eq!(o.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(o.data_dir, PathBuf::from("/d"));
        assert!(!o.open_registration);
        assert_eq!(o.workers, 1);
        assert_eq!(o.log_format, LogFormat::Text);
        assert!(o.smtp.is_none());
    }

    #[test]
    fn emails_are_retried_by_default() {
        let file = ServeConfig::parse("[smtp]\nhost = \"h\"\nfrom = \"m@example.com\"\n").unwrap();
        let smtp = file.smtp.unwrap();
        assert_eq!((smtp.retries, smtp.backoff_ms), (10, 1000));
    }

    #[test]
    fn mistakes_are_reported() {
        let err = ServeConfig::parse("workerz = 2").unwrap_err();
        assert!(err.contains("workerz"), "{err}");
        let err = ServeConfig::parse("registration = \"sometimes\"").unwrap_err();
        assert!(err.contains("sometimes"), "{err}");
        let err = ServeConfig::parse("max_upload = \"12 parsecs\"").unwrap_err();
        assert!(err.contains("12 parsecs"), "{err}");
        let half_tls = ServeConfig::parse("tls_cert = \"c.pem\"").unwrap();
        assert!(half_tls.into_options(|| Ok(PathBuf::from("/d"))).is_err());
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("2k"), Ok(2048));
        assert_eq!(parse_bytes("17"), Ok(17));
    }
}
