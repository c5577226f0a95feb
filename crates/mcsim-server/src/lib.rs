//! mcsim's team server: one daemon holding accounts, workbooks (content-addressed files with
//! their parse summaries), shared with viewers and editors, and simulation runs queued in the
//! database and executed by workers inside the daemon, over the same library operations as the
//! command line (`mcsim_ops::parse`, `mcsim_ops::run`).
//!
//! HTTP/JSON under `/api/v1` (see [`api`], described by `/api/v1/openapi.json`); `/healthz`,
//! `/readyz` and `/metrics` (Prometheus) answer without a token. The database is SQLite (the
//! default, in the data directory) or PostgreSQL. A configuration file ([`config`]) holds the
//! same settings as the flags plus SMTP and webhooks for [`notify`]; HTTPS is optional
//! ([`tls`]).
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod storage;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::AnyPool;

pub use config::{LogFormat, ServeConfig};
pub use error::{ApiError, ApiResult};

/// How the daemon is run.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// Where files (workbooks, samples) and the default SQLite database live.
    pub data_dir: PathBuf,
    /// Where workbooks and samples files are kept for good (`--storage DIR|s3://bucket/prefix`;
    /// default: the data directory).
    pub storage: Option<storage::StorageLocation>,
    /// The database URL (default: `sqlite://DATA_DIR/mcsim.db`).
    pub database: Option<String>,
    /// PostgreSQL schema for the tables (created if missing).
    pub database_schema: Option<String>,
    /// Anyone may register; otherwise only an admin adds users.
    pub open_registration: bool,
    /// Jobs run at the same time (0: none; queued jobs wait for a daemon with workers).
    pub workers: usize,
    /// Threads each job uses (default: all cores).
    pub threads: Option<usize>,
    /// Largest workbook upload, in bytes.
    pub max_upload: usize,
    /// Largest number of iterations a run may ask for.
    pub max_iterations: u64,
    /// How long a login token is valid, in seconds.
    pub token_ttl: i64,
    /// How logs are written (the announcement of the listening address follows it).
    pub log_format: LogFormat,
    /// A bearer token that `/metrics` requires, if any.
    pub metrics_token: Option<String>,
    /// The server's address as users reach it, for links in notifications.
    pub public_url: Option<String>,
    /// Serve HTTPS with this PEM certificate chain and private key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Email notifications, if configured.
    pub smtp: Option<config::SmtpConfig>,
    /// Webhook delivery settings.
    pub webhooks: config::WebhookConfig,
}

impl ServeOptions {
    /// Defaults for a data directory: no open registration, one worker, 64 MiB uploads,
    /// 100 million iterations, tokens valid 30 days.
    pub fn new(bind: SocketAddr, data_dir: PathBuf) -> Self {
        ServeOptions {
            bind,
            data_dir,
            storage: None,
            database: None,
            database_schema: None,
            open_registration: false,
            workers: 1,
            threads: None,
            max_upload: 64 << 20,
            max_iterations: 100_000_000,
            token_ttl: auth::TOKEN_TTL_SECONDS,
            log_format: LogFormat::Text,
            metrics_token: None,
            public_url: None,
            tls: None,
            smtp: None,
            webhooks: config::WebhookConfig::default(),
        }
    }

    fn database_url(&self) -> String {
        self.database.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("mcsim.db").display()
            )
        })
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: AnyPool,
    /// File storage.
    pub storage: Arc<storage::Storage>,
    /// The options the daemon runs with.
    pub options: Arc<ServeOptions>,
    /// Failed logins.
    pub limiter: Arc<auth::LoginLimiter>,
    /// Running jobs' progress and cancel flags.
    pub jobs: Arc<jobs::Jobs>,
    /// Request and run counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Sends email and webhooks when runs end.
    pub notifier: Arc<notify::Notifier>,
    /// Tokens' users, for a few seconds ([`cache::TokenCache`]).
    pub tokens: Arc<cache::TokenCache>,
    /// Finished runs' reports ([`cache::ReportCache`]).
    pub reports: Arc<cache::ReportCache>,
}

/// Opens the data directory and database (creating them) and the shared state.
pub async fn open(options: ServeOptions) -> Result<AppState, String> {
    let storage =
        storage::Storage::open_location(&options.data_dir, options.storage.as_ref()).await?;
    let db = db::open(&options.database_url(), options.database_schema.as_deref()).await?;
    let notifier = notify::Notifier::new(&options)?;
    Ok(AppState {
        db,
        storage: Arc::new(storage),
        options: Arc::new(options),
        limiter: Arc::new(auth::LoginLimiter::default()),
        jobs: Arc::new(jobs::Jobs::default()),
        metrics: Arc::new(metrics::Metrics::default()),
        notifier: Arc::new(notifier),
        tokens: Arc::new(cache::TokenCache::default()),
        reports: Arc::new(cache::ReportCache::default()),
    })
}

/// Runs the daemon until Ctrl-C or SIGTERM: re-queues runs left running by an earlier
/// process, starts the workers and serves the API.
pub async fn serve(options: ServeOptions) -> Result<(), String> {
    let bind = options.bind;
    let state = open(options).await?;
    let requeued = jobs::requeue_interrupted(&state.db)
        .await
        .map_err(|e| format!("cannot re-queue interrupted runs: {e}"))?;
    if requeued > 0 {
        tracing::warn!("{requeued} run(s) interrupted by the last shutdown were queued again");
    }
    // At Ctrl-C or SIGTERM, running jobs stop at once (to be queued again) and event streams
    // end, so that the graceful shutdown does not wait for long runs.
    let jobs = state.jobs.clone();
    let shutdown = async move {
        tokio_util_shutdown().await;
        tracing::info!("shutting down");
        jobs.cancel_all();
    };
    for n in 0..state.options.workers {
        tokio::spawn(jobs::worker(state.clone(), n));
    }
    tokio::spawn(notify::resume_deliveries(state.clone()));
    let tls = match &state.options.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    announce(state.options.log_format, &format!("{scheme}://{local}"));
    let app = api::router(state.clone());
    let served = match tls {
        Some(acceptor) => {
            // `tap_io` makes axum's connect-info (the client's address, which the login rate
            // limiter reads) available for this listener type.
            use axum::serve::ListenerExt;
            axum::serve(
                tls::TlsListener::new(listener, acceptor).tap_io(|_| {}),
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
        None => {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        }
    };
    served.map_err(|e| format!("server error: {e}"))?;
    // Running jobs were stopped and are queued again (the next start runs them); wait for them
    // to record that, for up to 30 s.
    state.jobs.cancel_all();
    for _ in 0..300 {
        if state.jobs.running() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    notify::release_deliveries(&state).await;
    state.db.close().await;
    Ok(())
}

/// Says where the server listens, on stderr: tests and scripts read this line to learn a
/// random port (`--bind 127.0.0.1:0`). With JSON logs it is a JSON object like the log lines
/// (`fields.message` holds the same text), so that every line of the log stays JSON.
fn announce(format: LogFormat, url: &str) {
    let line = format!("mcsim server listening on {url}");
    tracing::info!(url, "listening");
    let text = match format {
        LogFormat::Text => line,
        LogFormat::Json => serde_json::json!({
            "timestamp": rfc3339(std::time::SystemTime::now()),
            "level": "INFO",
            "fields": {"message": line, "url": url},
            "target": "mcsim_server",
        })
        .to_string(),
    };
    #[allow(clippy::print_stderr)]
    {
        eprintln!("{text}");
    }
}

/// `2026-12-07T02:43:53.123456Z`: UTC, as tracing-subscriber's JSON lines write it.
fn rfc3339(at: std::time::SystemTime) -> String {
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_micros()
    )
}

/// Resolves at Ctrl-C or SIGTERM.
async fn tokio_util_shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Creates an administrator (`mcsim serve --create-admin NAME`).
pub async fn create_admin(options: ServeOptions, name: &str, password: &str) -> Result<(), String> {
    auth::check_username(name).map_err(|e| e.message)?;
    auth::check_password(password).map_err(|e| e.message)?;
    let state = open(options).await?;
    api::insert_user(&state, name, password, true)
        .await
        .map_err(|e| e.message)?;
    db::audit(&state.db, None, "create_admin", None, name).await;
    state.db.close().await;
    Ok(())
}

/// [`serve`] on its own Tokio runtime, for a synchronous caller (the `mcsim` command line).
pub fn serve_blocking(options: ServeOptions) -> Result<(), String> {
    runtime()?.block_on(serve(options))
}

/// [`create_admin`] on its own Tokio runtime.
pub fn create_admin_blocking(
    options: ServeOptions,
    name: &str,
    password: &str,
) -> Result<(), String> {
    runtime()?.block_on(create_admin(options, name, password))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(super::rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // 2024-02-29 (a leap day) 12:34:56.789 UTC = 1709210096 s.
        let at = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(super::rfc3339(at), "2024-02-29T12:34:56.789000Z");
        let at = UNIX_EPOCH + Duration::from_secs(1_798_761_599);
        assert_eq!(super::rfc3339(at), "2026-12-31T23:59:59.000000Z");
    }
}
