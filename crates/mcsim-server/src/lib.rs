//! mcsim's team server: one daemon holding accounts, workbooks (content-addressed files with
//! their parse summaries), shared with viewers and editors, and simulation runs queued in the
//! database and executed by workers inside the daemon, over the same library operations as the
//! command line (`mcsim_ops::parse`, `mcsim_ops::run`).
//!
//! HTTP/JSON under `/api/v1` (see [`api`]); `/healthz` and `/readyz` answer without a token.
//! The database is SQLite (the default, in the data directory) or PostgreSQL.
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod db;
pub mod error;
pub mod jobs;
pub mod storage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::AnyPool;

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
}

/// Opens the data directory and database (creating them) and the shared state.
pub async fn open(options: ServeOptions) -> Result<AppState, String> {
    let storage =
        storage::Storage::open_location(&options.data_dir, options.storage.as_ref()).await?;
    let db = db::open(&options.database_url(), options.database_schema.as_deref()).await?;
    Ok(AppState {
        db,
        storage: Arc::new(storage),
        options: Arc::new(options),
        limiter: Arc::new(auth::LoginLimiter::default()),
        jobs: Arc::new(jobs::Jobs::default()),
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
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    tracing::info!("listening on http://{local}");
    // Tests and scripts read this line to learn a random port (`--bind 127.0.0.1:0`).
    #[allow(clippy::print_stderr)]
    {
        eprintln!("mcsim server listening on http://{local}");
    }
    let app = api::router(state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| format!("server error: {e}"))?;
    // Running jobs were stopped and are queued again (the next start runs them); wait for them
    // to record that, for up to 30 s.
    state.jobs.cancel_all();
    for _ in 0..300 {
        if state.jobs.running() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    state.db.close().await;
    Ok(())
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
