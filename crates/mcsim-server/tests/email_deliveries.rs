//! Queued email deliveries (`email_deliveries`): retried until the SMTP server comes up,
//! resumed by the next daemon on the same database, and made once when two daemons sweep the
//! queue at the same time. Each test runs on SQLite, and on PostgreSQL too when
//! `MCSIM_TEST_POSTGRES` holds a URL (`postgres://postgres@127.0.0.1:5432/test`), in a fresh
//! schema. The SMTP server is an in-process sink on 127.0.0.1 that keeps each message.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcsim_server::config::{SmtpConfig, SmtpTls};
use mcsim_server::notify::{self, Channel, Event};
use mcsim_server::{AppState, ServeOptions};
use sqlx::Row;

// ---------------------------------------------------------------------------------------------
// The SMTP sink

/// An SMTP server that accepts every message (or refuses recipients starting with `refused`,
/// with a permanent 550) and keeps what it got.
struct Sink {
    messages: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    /// Listens on `addr` (a port known to be free: SMTP "comes up" there).
    fn start(addr: SocketAddr) -> Sink {
        let listener = TcpListener::bind(addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (got, stopped) = (messages.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let got = got.clone();
                        std::thread::spawn(move || {
                            let _ = session(stream, &got);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Sink { messages, stop }
    }

    fn messages(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One SMTP conversation, just enough for lettre.
fn session(stream: TcpStream, got: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            out.write_all(b"250 sink\r\n")?;
        } else if command.starts_with("RCPT TO:<REFUSED") {
            out.write_all(b"550 5.1.1 no such user\r\n")?;
        } else if command == "DATA" {
            out.write_all(b"354 go on\r\n")?;
            let mut message = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line.trim_end() == "." {
                    break;
                }
                message.push_str(&line);
            }
            got.lock().unwrap().push(message);
            out.write_all(b"250 2.0.0 queued\r\n")?;
        } else if command == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            // MAIL FROM, RCPT TO, RSET, NOOP.
            out.write_all(b"250 ok\r\n")?;
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on (yet).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Daemons on one database

/// Where the daemons keep their data: SQLite in a directory, or a PostgreSQL schema.
struct Backend {
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Backend {
    fn sqlite() -> Backend {
        Backend {
            dir: tempfile::tempdir().unwrap(),
            postgres: None,
        }
    }

    fn postgres() -> Option<Backend> {
        let url = std::env::var("MCSIM_TEST_POSTGRES").ok()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let schema = format!(
            "mcsim_email_{}_{}",
            std::process::id(),
            nanos % 1_000_000_007
        );
        Some(Backend {
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((url, schema)),
        })
    }

    /// The backends to test on: SQLite, and PostgreSQL when configured.
    fn all() -> Vec<Backend> {
        let mut all = vec![Backend::sqlite()];
        match Backend::postgres() {
            Some(pg) => all.push(pg),
            None => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("note: MCSIM_TEST_POSTGRES unset: PostgreSQL not tested");
                }
            }
        }
        all
    }

    /// A daemon's shared state (its own process id, so its own leases) with SMTP at `smtp`.
    async fn open(&self, smtp: SocketAddr, retries: u32, backoff_ms: u64) -> AppState {
        let mut options = ServeOptions::new(
            "127.0.0.1:0".parse().unwrap(),
            self.dir.path().to_path_buf(),
        );
        if let Some((url, schema)) = &self.postgres {
            options.database = Some(url.clone());
            options.database_schema = Some(schema.clone());
        }
        options.smtp = Some(SmtpConfig {
            host: smtp.ip().to_string(),
            port: Some(smtp.port()),
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "mcsim <mcsim@example.com>".into(),
            retries,
            backoff_ms,
        });
        mcsim_server::open(options).await.unwrap()
    }

    /// Drops the PostgreSQL schema.
    async fn clean(&self, state: &AppState) {
        if let Some((_, schema)) = &self.postgres {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&state.db)
                .await
                .unwrap();
        }
    }

    fn name(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A user who wants email at `address`, and a run of theirs that succeeded; returns the run id.
async fn finished_run(state: &AppState, user: &str, address: &str) -> String {
    let run = format!("r-{user}");
    let model = format!("m-{user}");
    let queries = [
        format!(
            "INSERT INTO users (id, username, password_hash, is_admin, disabled, created_at) \
             VALUES ('{user}', '{user}', 'x', 0, 0, 1)"
        ),
        format!(
            "INSERT INTO models (id, owner_id, name, created_at) VALUES ('{model}', '{user}', 'npv', 1)"
        ),
        format!(
            "INSERT INTO runs (id, model_id, version, owner_id, status, request, has_samples, \
             done, total, created_at, started_at, finished_at) \
             VALUES ('{run}', '{model}', 1, '{user}', 'succeeded', '{{}}', 0, 1000, 1000, 1, 2, 3)"
        ),
        format!(
            "INSERT INTO notification_settings (user_id, email, email_enabled, events, updated_at) \
             VALUES ('{user}', '{address}', 1, 'succeeded,failed', 1)"
        ),
    ];
    for q in queries {
        sqlx::query(sqlx::AssertSqlSafe(q))
            .execute(&state.db)
            .await
            .unwrap();
    }
    run
}

/// The email deliveries of a run: (id, status, attempts, holder, last error).
type Delivery = (String, String, i64, Option<String>, Option<String>);

async fn deliveries(state: &AppState, run: &str) -> Vec<Delivery> {
    sqlx::query(
        "SELECT id, status, attempts, holder, last_error FROM email_deliveries \
         WHERE run_id = $1 ORDER BY id",
    )
    .bind(run.to_owned())
    .fetch_all(&state.db)
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.get("id"),
            r.get("status"),
            r.get("attempts"),
            r.get("holder"),
            r.get("last_error"),
        )
    })
    .collect()
}

/// Polls `probe` every 20 ms for up to 60 s.
async fn wait_for<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The messages whose `Message-ID` is the delivery's.
fn with_id(messages: &[String], id: &str) -> usize {
    let header = format!("Message-ID: <{id}@mcsim>");
    messages.iter().filter(|m| m.contains(&header)).count()
}

// ---------------------------------------------------------------------------------------------
// The tests

/// SMTP is down when the run ends: the email is queued, its attempts fail and are recorded,
/// and it is delivered (once) by the attempt after the SMTP server comes up.
#[test]
fn a_failed_email_is_retried_until_smtp_is_up() {
    for backend in Backend::all() {
        let smtp = free_port();
        runtime().block_on(async {
            let state = backend.open(smtp, 20, 100).await;
            let run = finished_run(&state, "alice", "alice@example.com").await;
            notify::run_ended(state.clone(), run.clone(), Event::Succeeded);
            // Two attempts fail (refused connections), and the queue says so.
            let failed = wait_for("two failed attempts", async || {
                let d = deliveries(&state, &run).await;
                (d.len() == 1 && d[0].2 >= 2).then(|| d[0].clone())
            })
            .await;
            assert_eq!(failed.1, "pending", "{}: {failed:?}", backend.name());
            assert!(failed.4.is_some(), "the last error is kept: {failed:?}");
            let sink = Sink::start(smtp);
            let sent = wait_for("the email sent", async || {
                let d = deliveries(&state, &run).await;
                (d[0].1 != "pending").then(|| d[0].clone())
            })
            .await;
            assert_eq!(sent.1, "sent", "{}: {sent:?}", backend.name());
            assert!(sent.2 >= 3, "{sent:?}");
            assert_eq!(sent.3, None, "a sent delivery has no holder: {sent:?}");
            let messages = sink.messages();
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert_eq!(with_id(&messages, &sent.0), 1, "{messages:?}");
            assert!(
                messages[0].contains("run r-alice of npv (version 1) succeeded"),
                "{}",
                messages[0]
            );
            assert!(
                messages[0].contains("To: alice@example.com"),
                "{}",
                messages[0]
            );
            // A sent email is not taken again by a sweep.
            assert_eq!(notify::take_over(&state, Channel::Email).await.unwrap(), 0);
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(sink.messages().len(), 1);
            backend.clean(&state).await;
        });
    }
}

/// A permanent refusal (550) is not retried: the delivery is marked failed after one attempt.
#[test]
fn a_refused_email_is_not_retried() {
    for backend in Backend::all() {
        let smtp = free_port();
        let sink = Sink::start(smtp);
        runtime().block_on(async {
            let state = backend.open(smtp, 5, 50).await;
            let run = finished_run(&state, "bob", "refused@example.com").await;
            notify::run_ended(state.clone(), run.clone(), Event::Succeeded);
            let done = wait_for("the refusal", async || {
                let d = deliveries(&state, &run).await;
                (d.len() == 1 && d[0].1 != "pending").then(|| d[0].clone())
            })
            .await;
            assert_eq!(done.1, "failed", "{}: {done:?}", backend.name());
            assert_eq!(done.2, 1, "{done:?}");
            assert!(done.4.as_deref().unwrap_or("").contains("550"), "{done:?}");
            assert!(sink.messages().is_empty());
            backend.clean(&state).await;
        });
    }
}

/// A daemon whose email could not be sent stops (gracefully: its lease is given back); a new
/// daemon on the same database, with the SMTP server up, delivers it at its start, with the
/// same delivery id and the attempt count going on.
#[test]
fn a_pending_email_survives_a_restart() {
    for backend in Backend::all() {
        let smtp = free_port();
        // The first daemon: SMTP down, the next attempt 3 s after the first.
        let first = runtime();
        let (run, id) = first.block_on(async {
            let state = backend.open(smtp, 5, 3000).await;
            let run = finished_run(&state, "carol", "carol@example.com").await;
            notify::run_ended(state.clone(), run.clone(), Event::Succeeded);
            let failed = wait_for("a failed attempt", async || {
                let d = deliveries(&state, &run).await;
                (d.len() == 1 && d[0].2 >= 1).then(|| d[0].clone())
            })
            .await;
            // What `serve` does at SIGTERM.
            state.jobs.cancel_all();
            notify::release_deliveries(&state).await;
            let left = deliveries(&state, &run).await;
            assert_eq!(left[0].1, "pending", "{}: {left:?}", backend.name());
            assert_eq!(left[0].3, None, "the lease was given back: {left:?}");
            state.db.close().await;
            (run, failed.0)
        });
        // The process ends: its tasks with it.
        drop(first);
        let sink = Sink::start(smtp);
        runtime().block_on(async {
            let state = backend.open(smtp, 5, 3000).await;
            assert!(sink.messages().is_empty());
            tokio::spawn(notify::resume_deliveries(state.clone()));
            let sent = wait_for("the resumed email", async || {
                let d = deliveries(&state, &run).await;
                (d[0].1 != "pending").then(|| d[0].clone())
            })
            .await;
            assert_eq!(sent.1, "sent", "{}: {sent:?}", backend.name());
            assert_eq!(sent.0, id);
            assert!(sent.2 >= 2, "the attempts go on: {sent:?}");
            let messages = sink.messages();
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert_eq!(with_id(&messages, &id), 1, "{messages:?}");
            state.jobs.cancel_all();
            backend.clean(&state).await;
        });
    }
}

/// Queued emails no daemon holds, swept by two daemons at once: each is claimed by one of
/// them and sent once.
#[test]
fn two_sweepers_send_each_email_once() {
    const EMAILS: usize = 24;
    for backend in Backend::all() {
        let smtp = free_port();
        runtime().block_on(async {
            // Queued by a daemon that stopped before any attempt.
            let queuer = backend.open(smtp, 5, 100).await;
            let run = finished_run(&queuer, "dave", "dave@example.com").await;
            let body = r#"{"event": "run.succeeded", "run": {"id": "r-dave", "model": "npv",
                "version": 1, "status": "succeeded", "done": 1, "total": 1}}"#;
            let mut ids = Vec::new();
            for _ in 0..EMAILS {
                let id = notify::enqueue(
                    &queuer,
                    Channel::Email,
                    "dave",
                    &run,
                    "run.succeeded",
                    "dave@example.com",
                    body,
                )
                .await
                .unwrap();
                ids.push(id);
            }
            notify::release_deliveries(&queuer).await;
            queuer.db.close().await;
            let sink = Sink::start(smtp);
            let a = backend.open(smtp, 5, 100).await;
            let b = backend.open(smtp, 5, 100).await;
            let mut taken = 0;
            for _ in 0..3 {
                let (x, y) = tokio::join!(
                    notify::take_over(&a, Channel::Email),
                    notify::take_over(&b, Channel::Email)
                );
                taken += x.unwrap() + y.unwrap();
            }
            assert_eq!(taken, EMAILS, "{}", backend.name());
            let done = wait_for("every email sent", async || {
                let d = deliveries(&a, &run).await;
                d.iter().all(|d| d.1 == "sent").then_some(d)
            })
            .await;
            assert_eq!(done.len(), EMAILS);
            assert!(done.iter().all(|d| d.2 == 1), "one attempt each: {done:?}");
            // Give a second sender, had there been one, the time to send.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let messages = sink.messages();
            assert_eq!(messages.len(), EMAILS, "{}", backend.name());
            for id in &ids {
                assert_eq!(with_id(&messages, id), 1, "{id}");
            }
            backend.clean(&a).await;
        });
    }
}
