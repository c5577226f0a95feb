//! The database: SQLite or PostgreSQL through `sqlx::Any`, with one schema written in the SQL
//! both accept (text ids made by the server, BIGINT for numbers, times and flags, `$N`
//! placeholders, which SQLite also reads by number).
//!
//! Queries on the request path that join tables write the parameter compared with the first
//! table's key as `CAST($1 AS TEXT)`. The bundled SQLite is built with `SQLITE_ENABLE_STAT4`,
//! under which a join's plan depends on the values bound to such a parameter; sqlx clears the
//! bindings after each use of a cached statement, and SQLite then recompiles the statement at
//! its next step (`sqlite3Reprepare`: a quarter of the SQLite worker threads' time under the
//! load benchmark, `bench/server_wrk.sh`). An expression of the parameter keeps the plan (the
//! same index search) without tying it to the value. PostgreSQL reads the cast as written.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// The schema, one statement per entry (`CREATE ... IF NOT EXISTS`, so it runs at every start).
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        is_admin BIGINT NOT NULL,
        disabled BIGINT NOT NULL,
        created_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS models (
        id TEXT PRIMARY KEY,
        owner_id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE (owner_id, name))",
    "CREATE TABLE IF NOT EXISTS versions (
        model_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        hash TEXT NOT NULL,
        size BIGINT NOT NULL,
        file_name TEXT NOT NULL,
        parse_summary TEXT NOT NULL,
        uploaded_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (model_id, version))",
    "CREATE TABLE IF NOT EXISTS shares (
        object_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (object_id, user_id))",
    "CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        model_id TEXT NOT NULL,
        version BIGINT NOT NULL,
        owner_id TEXT NOT NULL,
        status TEXT NOT NULL,
        request TEXT NOT NULL,
        error TEXT,
        error_kind TEXT,
        report TEXT,
        has_samples BIGINT NOT NULL,
        done BIGINT NOT NULL,
        total BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT)",
    "CREATE INDEX IF NOT EXISTS runs_status ON runs (status, created_at)",
    "CREATE TABLE IF NOT EXISTS audit (
        id TEXT PRIMARY KEY,
        at BIGINT NOT NULL,
        user_id TEXT,
        action TEXT NOT NULL,
        object_id TEXT,
        detail TEXT)",
    // One row per user who changed the defaults (no email, no webhook, runs that succeed or
    // fail). The webhook secret is kept as given: it is needed to sign each payload.
    "CREATE TABLE IF NOT EXISTS notification_settings (
        user_id TEXT PRIMARY KEY,
        email TEXT,
        email_enabled BIGINT NOT NULL,
        webhook_url TEXT,
        webhook_secret TEXT,
        events TEXT NOT NULL,
        updated_at BIGINT NOT NULL)",
    // Webhooks not yet delivered (added after the first release: created at the next start of
    // an existing database, like every table here). Times in Unix milliseconds; `holder` is
    // the process making the attempts, until `held_until_ms` (NULL: resumed by the next
    // daemon that looks).
    "CREATE TABLE IF NOT EXISTS webhook_deliveries (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        event TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_at_ms BIGINT NOT NULL,
        holder TEXT,
        held_until_ms BIGINT NOT NULL,
        last_error TEXT,
        created_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (held_until_ms)",
    // Emails, queued like webhooks (the same columns, `address` for `url`, `body` the run's
    // JSON payload the email is written from), but kept once done: `status` is `pending`,
    // then `sent` or `failed` (with `finished_at`, Unix seconds, and no holder).
    "CREATE TABLE IF NOT EXISTS email_deliveries (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        event TEXT NOT NULL,
        address TEXT NOT NULL,
        body TEXT NOT NULL,
        attempts BIGINT NOT NULL,
        next_at_ms BIGINT NOT NULL,
        holder TEXT,
        held_until_ms BIGINT NOT NULL,
        last_error TEXT,
        created_at BIGINT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        finished_at BIGINT)",
    "CREATE INDEX IF NOT EXISTS email_deliveries_due ON email_deliveries (status, held_until_ms)",
];

/// Opens the database at `url` (`sqlite://PATH` or `postgres://...`), creating the tables.
/// `schema` (PostgreSQL only) puts the tables in that schema, created if missing.
pub async fn open(url: &str, schema: Option<&str>) -> Result<AnyPool, String> {
    install_default_drivers();
    let is_postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    // A pooled SQLite connection is a file opened by a worker thread: it cannot drop like a
    // network connection, so the ping before each use (one more round trip to that thread per
    // query on the request path) is kept for PostgreSQL only.
    let mut options = AnyPoolOptions::new()
        .max_connections(if is_postgres { 16 } else { 4 })
        .test_before_acquire(is_postgres);
    if let Some(schema) = schema {
        if !is_postgres {
            return Err("--database-schema applies to PostgreSQL only".into());
        }
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || schema.is_empty()
        {
            return Err(format!(
                "schema name `{schema}`: use letters, digits and underscores"
            ));
        }
        let set = format!("SET search_path TO {schema}");
        options = options.after_connect(move |conn, _| {
            let set = set.clone();
            Box::pin(async move {
                // The schema name was checked to be letters, digits and underscores.
                sqlx::query(sqlx::AssertSqlSafe(set))
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        });
        // The schema must exist before a pooled connection selects it.
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&pool)
        .await
        .map_err(|e| format!("cannot create schema {schema}: {e}"))?;
        pool.close().await;
    }
    let pool = options
        .connect(url)
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", redact(url)))?;
    if !is_postgres {
        // Readers do not block the writer (the job queue, uploads) in WAL mode; the setting is
        // kept in the file.
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .map_err(|e| format!("cannot set the SQLite journal mode: {e}"))?;
    }
    for statement in SCHEMA {
        pool.execute(*statement)
            .await
            .map_err(|e| format!("cannot create the tables: {e}"))?;
    }
    Ok(pool)
}

/// The URL without a password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A new random id: `prefix` and 16 hex digits (64 random bits).
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    crate::auth::random_bytes(&mut bytes);
    format!("{prefix}{}", crate::auth::hex(&bytes))
}

/// Records who did what.
pub async fn audit(
    pool: &AnyPool,
    user_id: Option<&str>,
    action: &str,
    object_id: Option<&str>,
    detail: &str,
) {
    let result = sqlx::query(
        "INSERT INTO audit (id, at, user_id, action, object_id, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id("a"))
    .bind(now())
    .bind(user_id.map(str::to_owned))
    .bind(action.to_owned())
    .bind(object_id.map(str::to_owned))
    .bind(detail.to_owned())
    .execute(pool)
    .await;
    if let Err(e) = result {
        tracing::error!("cannot write the audit log: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@host/db"),
            "postgres://u:***@host/db"
        );
        assert_eq!(redact("sqlite:///x/y.db"), "sqlite:///x/y.db");
    }
}
