//! Runs as jobs: a started run is a `queued` row in the database; a worker task claims it
//! (`queued` → `running`, by a conditional update, so two workers never take the same one),
//! calls [`mcsim_ops::run::run_cancellable`] on a thread of its own at a lower priority
//! ([`JOB_NICENESS`]) inside `catch_unwind` (a panicking job fails alone), and stores the report or the error. At startup, runs left
//! `running` by a stopped daemon are queued again. A run that ends (succeeded, failed,
//! cancelled) hands its owner's notifications to [`crate::notify`], on a task of their own.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};
use tokio::sync::Notify;

use crate::AppState;
use crate::db::now;
use crate::error::chain;

/// What a run asks for (the body of `POST /api/v1/runs`, stored with the run).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The model: its id, or its name (the caller's own first, then one shared with them).
    pub model: String,
    /// The model's version (default: the latest).
    #[serde(default)]
    pub version: Option<i64>,
    /// Iterations (default: the model file's, else 10,000).
    #[serde(default)]
    pub iterations: Option<u64>,
    /// Seed (default: the model file's, else drawn and reported).
    #[serde(default)]
    pub seed: Option<u64>,
    /// `lhs` or `mc`.
    #[serde(default)]
    pub sampling: Option<String>,
    /// What-if overrides: `[["Sheet!A1", "value"], ...]`.
    #[serde(default)]
    pub sets: Vec<(String, String)>,
    /// Outputs: `[["Sheet!B5", "name" or null], ...]`.
    #[serde(default)]
    pub outputs: Vec<(String, Option<String>)>,
    /// Extra percentiles, as fractions.
    #[serde(default)]
    pub percentiles: Vec<f64>,
    /// VaR/CVaR tail levels, as fractions.
    #[serde(default)]
    pub risk_levels: Vec<f64>,
    /// Targets.
    #[serde(default)]
    pub targets: Vec<f64>,
    /// Threshold conditions.
    #[serde(default)]
    pub fail_if: Vec<String>,
    /// Stop once converged within this relative tolerance.
    #[serde(default)]
    pub until_converged: Option<f64>,
    /// The model file (TOML text), as `mcsim run --config` reads it.
    #[serde(default)]
    pub config: Option<String>,
    /// Keep every sample as a Parquet file for download (default: yes).
    #[serde(default)]
    pub samples: Option<bool>,
}

/// A running job's live state.
#[derive(Debug, Default)]
pub struct Live {
    /// Iterations done.
    pub done: AtomicU64,
    /// Iterations in all (0 until known).
    pub total: AtomicU64,
    /// Set to stop the job.
    pub cancel: AtomicBool,
    /// When it started in this process.
    pub started: OnceLock<Instant>,
}

/// The jobs this process is running.
#[derive(Debug, Default)]
pub struct Jobs {
    live: Mutex<HashMap<String, Arc<Live>>>,
    /// Wakes the workers when a run is queued.
    pub wake: Notify,
    /// Set at shutdown: a job stopped then is queued again instead of cancelled.
    pub shutting_down: AtomicBool,
}

impl Jobs {
    /// The live state of a running job, if this process runs it.
    pub fn get(&self, id: &str) -> Option<Arc<Live>> {
        self.live.lock().ok()?.get(id).cloned()
    }

    fn insert(&self, id: &str) -> Arc<Live> {
        let live = Arc::new(Live::default());
        let _ = live.started.set(Instant::now());
        if let Ok(mut map) = self.live.lock() {
            map.insert(id.to_owned(), live.clone());
        }
        live
    }

    fn remove(&self, id: &str) {
        if let Ok(mut map) = self.live.lock() {
            map.remove(id);
        }
    }

    /// Stops every running job (at shutdown: they are queued again).
    pub fn cancel_all(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        if let Ok(map) = self.live.lock() {
            for live in map.values() {
                live.cancel.store(true, Ordering::SeqCst);
            }
        }
    }

    /// How many jobs are running here, and their iterations per second in all (each job's
    /// iterations done over the time since it started).
    pub fn rates(&self) -> (usize, f64) {
        let Ok(map) = self.live.lock() else {
            return (0, 0.0);
        };
        let rate = map
            .values()
            .filter_map(|live| {
                let secs = live.started.get()?.elapsed().as_secs_f64();
                #[allow(clippy::cast_precision_loss)]
                let done = live.done.load(Ordering::Relaxed) as f64;
                (secs > 0.0).then(|| done / secs)
            })
            .sum();
        (map.len(), rate)
    }

    /// How many jobs are running here.
    pub fn running(&self) -> usize {
        self.live.lock().map_or(0, |m| m.len())
    }
}

/// Queues again the runs a stopped daemon left `running`; returns how many.
pub async fn requeue_interrupted(db: &AnyPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE runs SET status = 'queued', done = 0, total = 0, started_at = NULL WHERE status = 'running'",
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A worker: claims queued runs one at a time, forever.
pub async fn worker(state: AppState, n: usize) {
    loop {
        if state.jobs.shutting_down.load(Ordering::SeqCst) {
            return;
        }
        match claim(&state.db).await {
            Ok(Some(id)) => {
                tracing::info!(worker = n, run = %id, "run started");
                execute(&state, &id).await;
            }
            Ok(None) => {
                tokio::select! {
                    () = state.jobs.wake.notified() => {},
                    () = tokio::time::sleep(Duration::from_secs(1)) => {},
                }
            }
            Err(e) => {
                tracing::error!("cannot read the job queue: {e}");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Takes the oldest queued run, if any.
async fn claim(db: &AnyPool) -> Result<Option<String>, sqlx::Error> {
    let candidates =
        sqlx::query("SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT 8")
            .fetch_all(db)
            .await?;
    for row in candidates {
        let id: String = row.try_get("id")?;
        let claimed = sqlx::query(
            "UPDATE runs SET status = 'running', started_at = $1 WHERE id = $2 AND status = 'queued'",
        )
        .bind(now())
        .bind(id.clone())
        .execute(db)
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// How a job ended.
enum Outcome {
    Succeeded(String, bool),
    Failed(String, &'static str),
    Cancelled,
    Interrupted,
}

/// Runs one claimed job and records how it ended.
async fn execute(state: &AppState, id: &str) {
    let outcome = match prepare_options(state, id).await {
        Ok((options, name)) => {
            let live = state.jobs.insert(id);
            let job_live = live.clone();
            let samples = options.out.is_some();
            let metrics = state.metrics.clone();
            // On a thread of its own (not the runtime's blocking pool, whose threads are
            // reused), at a lower priority that the run's worker threads inherit.
            let (send, receive) = tokio::sync::oneshot::channel();
            let spawned = std::thread::Builder::new()
                .name("mcsim-job".into())
                .spawn(move || {
                    lower_priority();
                    let progress = |done: u64, total: u64| {
                        let before = job_live.done.swap(done, Ordering::Relaxed);
                        metrics
                            .iterations
                            .fetch_add(done.saturating_sub(before), Ordering::Relaxed);
                        job_live.total.store(total, Ordering::Relaxed);
                    };
                    let result = guarded(|| {
                        mcsim_ops::run::run_cancellable(&options, &progress, Some(&job_live.cancel))
                    });
                    let _ = send.send(result);
                });
            let result = match spawned {
                Ok(_) => receive
                    .await
                    .map_err(|_| "the run's thread ended without an answer".to_owned()),
                Err(e) => Err(format!("cannot start the run's thread: {e}")),
            };
            match result {
                Ok(Ok(Ok(mut report))) => {
                    report.workbook = name;
                    report.samples_file = samples.then(|| "samples.parquet".to_owned());
                    match serde_json::to_string(&report) {
                        Ok(json) => Outcome::Succeeded(json, samples),
                        Err(e) => {
                            Outcome::Failed(format!("cannot encode the report: {e}"), "failed")
                        }
                    }
                }
                Ok(Ok(Err(e))) => match e.kind() {
                    mcsim_ops::ErrorKind::Cancelled => {
                        if state.jobs.shutting_down.load(Ordering::SeqCst) {
                            Outcome::Interrupted
                        } else {
                            Outcome::Cancelled
                        }
                    }
                    kind => Outcome::Failed(chain(&e), kind_name(kind)),
                },
                Ok(Err(what)) => {
                    tracing::error!(run = %id, "run panicked: {what}");
                    Outcome::Failed(format!("internal error: the run panicked: {what}"), "panic")
                }
                Err(e) => Outcome::Failed(format!("internal error: {e}"), "panic"),
            }
        }
        Err(message) => Outcome::Failed(message, "invalid"),
    };
    // With S3 storage the samples file is stored there before the run counts as succeeded.
    let outcome = match outcome {
        Outcome::Succeeded(report, true) => match state.storage.publish_samples(id).await {
            Ok(()) => Outcome::Succeeded(report, true),
            Err(e) => Outcome::Failed(format!("cannot store the samples file: {e}"), "storage"),
        },
        other => other,
    };
    if !matches!(outcome, Outcome::Succeeded(..)) {
        let _ = std::fs::remove_file(state.storage.samples_path(id));
    }
    let event = match &outcome {
        Outcome::Succeeded(..) => Some(crate::notify::Event::Succeeded),
        Outcome::Failed(..) => Some(crate::notify::Event::Failed),
        Outcome::Cancelled => Some(crate::notify::Event::Cancelled),
        Outcome::Interrupted => None,
    };
    // The progress reached, kept with the run's end (its status and notifications report it).
    let (done, total) = state.jobs.get(id).map_or((0, 0), |live| {
        let get = |n: &AtomicU64| i64::try_from(n.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        (get(&live.done), get(&live.total))
    });
    let result = match outcome {
        Outcome::Succeeded(report, samples) => {
            tracing::info!(run = %id, "run succeeded");
            sqlx::query(
                "UPDATE runs SET status = 'succeeded', report = $1, has_samples = $2, finished_at = $3, \
                 done = $5, total = $6 WHERE id = $4",
            )
            .bind(report)
            .bind(i64::from(samples))
            .bind(now())
            .bind(id.to_owned())
            .bind(done)
            .bind(total)
            .execute(&state.db)
            .await
        }
        Outcome::Failed(message, kind) => {
            tracing::warn!(run = %id, "run failed: {message}");
            sqlx::query(
                "UPDATE runs SET status = 'failed', error = $1, error_kind = $2, finished_at = $3, \
                 done = $5, total = $6 WHERE id = $4",
            )
            .bind(message)
            .bind(kind.to_owned())
            .bind(now())
            .bind(id.to_owned())
            .bind(done)
            .bind(total)
            .execute(&state.db)
            .await
        }
        Outcome::Cancelled => {
            sqlx::query(
                "UPDATE runs SET status = 'cancelled', finished_at = $1, done = $3, total = $4 WHERE id = $2",
            )
            .bind(now())
            .bind(id.to_owned())
            .bind(done)
            .bind(total)
            .execute(&state.db)
            .await
        }
        Outcome::Interrupted => {
            sqlx::query(
                "UPDATE runs SET status = 'queued', done = 0, total = 0, started_at = NULL WHERE id = $1",
            )
            .bind(id.to_owned())
            .execute(&state.db)
            .await
        }
    };
    state.jobs.remove(id);
    match result {
        Err(e) => tracing::error!(run = %id, "cannot record the run's end: {e}"),
        // Sent on a task of its own: a slow or failing receiver never holds the worker.
        Ok(_) => {
            if let Some(event) = event {
                crate::notify::run_ended(state.clone(), id.to_owned(), event);
            }
        }
    }
}

/// How much lower than the daemon's a job's threads are scheduled (`nice`): with every core
/// busy simulating, HTTP requests still get a core's share promptly.
pub const JOB_NICENESS: i32 = 10;

/// Lowers the calling thread's priority by [`JOB_NICENESS`] (on Linux `nice` is per thread,
/// and the threads it starts inherit it); elsewhere (where `nice` would slow the whole
/// daemon), or where refused, nothing changes.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::nice(JOB_NICENESS) {
        tracing::debug!("cannot lower the run's priority: {e}");
    }
}

/// Runs `job`, turning a panic into `Err(its message)`: a job that panics fails alone and the
/// worker goes on.
pub fn guarded<T>(job: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(job)).map_err(|panic| {
        panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into())
    })
}

fn kind_name(kind: mcsim_ops::ErrorKind) -> &'static str {
    match kind {
        mcsim_ops::ErrorKind::Invalid => "invalid",
        mcsim_ops::ErrorKind::Workbook => "workbook",
        mcsim_ops::ErrorKind::Io => "io",
        mcsim_ops::ErrorKind::Failed => "failed",
        mcsim_ops::ErrorKind::Cancelled => "cancelled",
    }
}

/// The library's options for a run: its workbook version's file, its model file, its samples
/// file; and the model's name (what the report calls the workbook).
async fn prepare_options(
    state: &AppState,
    id: &str,
) -> Result<(mcsim_ops::RunOptions, String), String> {
    let row = sqlx::query(
        "SELECT r.request, r.model_id, r.version, v.hash, v.file_name, m.name \
         FROM runs r JOIN versions v ON v.model_id = r.model_id AND v.version = r.version \
         JOIN models m ON m.id = r.model_id WHERE r.id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(&state.db)
    .await
    .map_err(|e| format!("database: {e}"))?
    .ok_or_else(|| "the run's model version no longer exists".to_owned())?;
    let get = |col: &str| {
        row.try_get::<String, _>(col)
            .map_err(|e| format!("database: {e}"))
    };
    let request: RunRequest =
        serde_json::from_str(&get("request")?).map_err(|e| format!("stored request: {e}"))?;
    let hash = get("hash")?;
    let file_name = get("file_name")?;
    let name = get("name")?;
    let version: i64 = row
        .try_get("version")
        .map_err(|e| format!("database: {e}"))?;
    let workbook = state
        .storage
        .fetch_blob(&hash, crate::storage::extension_for(&file_name))
        .await
        .map_err(|e| format!("cannot read the workbook: {e}"))?;
    let dir = state.storage.run_dir(id);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create the run's directory: {e}"))?;
    let config = match &request.config {
        Some(text) => {
            let path = dir.join("model.toml");
            std::fs::write(&path, text).map_err(|e| format!("cannot write the model file: {e}"))?;
            Some(path)
        }
        // An empty model file, so that no `mcsim.toml` beside the stored workbook is read.
        None => {
            let path = dir.join("model.toml");
            std::fs::write(&path, "").map_err(|e| format!("cannot write the model file: {e}"))?;
            Some(path)
        }
    };
    let options = mcsim_ops::RunOptions {
        workbook,
        config,
        iterations: request.iterations,
        seed: request.seed,
        sampling: request
            .sampling
            .as_deref()
            .and_then(mcsim_ops::run::parse_method),
        threads: state.options.threads,
        out: request
            .samples
            .unwrap_or(true)
            .then(|| state.storage.samples_path(id)),
        out_format: Some(mcsim_results::SamplesFormat::Parquet),
        sets: request.sets,
        outputs: request.outputs,
        percentiles: request.percentiles,
        risk_levels: request.risk_levels,
        targets: request.targets,
        until_converged: request.until_converged,
        fail_if: request.fail_if,
        load: crate::api::load_options(),
        save_as: None,
        memory: None,
        shard: None,
        workbook_name: None,
        backend: mcsim_ops::run::BackendChoice::Cpu,
        devices: mcsim_ops::run::Devices::All,
    };
    Ok((options, format!("{name} (version {version})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_becomes_an_error() {
        assert_eq!(guarded(|| 7), Ok(7));
        let n = 3;
        let result: Result<(), String> = guarded(|| panic!("job {n} broke"));
        assert_eq!(result, Err("job 3 broke".to_owned()));
        let result: Result<(), String> = guarded(|| panic!("static"));
        assert_eq!(result, Err("static".to_owned()));
    }

    #[test]
    fn run_requests_refuse_unknown_fields() {
        let ok: RunRequest = serde_json::from_str(r#"{"model": "npv", "iterations": 5}"#).unwrap();
        assert_eq!(ok.iterations, Some(5));
        let err = serde_json::from_str::<RunRequest>(r#"{"model": "npv", "iterationz": 5}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("iterationz"), "{err}");
    }
}
