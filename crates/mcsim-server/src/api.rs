//! The HTTP API, under `/api/v1`. Handlers check the caller's access, call the library or the
//! database, and encode the result; the work is in `mcsim_ops` and [`crate::jobs`].
//!
//! Access: the owner of a model or run; a user it is shared with as `viewer` (reads it and,
//! for a model, its runs) or `editor` (also starts runs, uploads versions, cancels runs).
//! Only the owner shares and deletes. An object the caller may not see answers 404, exactly
//! as one that does not exist.
//!
//! | method | path | what |
//! |---|---|---|
//! | POST | /register, /login, /logout | accounts (`{"username","password"}`) |
//! | GET | /me | the caller |
//! | POST | /users | an admin adds a user (`{"username","password","admin"}`) |
//! | POST | /users/{name}/disable, /users/{name}/enable | an admin disables (logging out) or enables a user |
//! | GET | /audit?limit=N | the audit log, newest first (admins) |
//! | POST | /password | change one's password (`{"old_password","new_password"}`); other logins end |
//! | POST | /models?name=N&file_name=F | upload a workbook (raw body): a new model or version |
//! | GET | /models?search=S | models the caller sees |
//! | GET, DELETE | /models/{id} | a model with its versions; delete (owner) |
//! | POST | /models/{id}/versions?file_name=F | upload a new version (editor) |
//! | GET | /models/{id}/download?version=V | the workbook file |
//! | POST, DELETE | /models/{id}/shares, /models/{id}/shares/{user} | share, revoke (owner) |
//! | POST | /runs | start a run ([`RunRequest`]) |
//! | GET | /runs?model=ID | runs the caller sees |
//! | GET | /runs/{id}, /runs/{id}/report, /runs/{id}/samples | status, report, samples |
//! | GET | /runs/{id}/events | progress as Server-Sent Events (`progress`, then `end`) |
//! | POST | /runs/{id}/cancel | cancel (editor) |
//! | GET | /runs/{id}/plot?chart=histogram&output=NPV&format=svg | a chart (histogram, cdf, tornado; svg or png) |
//! | GET | /runs/{a}/compare/{b} | run B compared with run A, from their samples (as `mcsim results A --compare B`) |
//! | POST, DELETE | /runs/{id}/shares, /runs/{id}/shares/{user} | share, revoke (owner) |
//! | GET, PUT | /notifications | the caller's notification settings ([`crate::notify`]) |
//! | GET | /openapi.json | this API as an OpenAPI 3.1 document (no token needed) |
//!
//! Outside `/api/v1`: `/healthz`, `/readyz` and `/metrics` (Prometheus; a bearer token when
//! `metrics_token` is configured).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::AppState;
use crate::auth::{self, AuthUser};
use crate::db::{audit, new_id, now};
use crate::error::{ApiError, ApiResult, chain};
use crate::jobs::RunRequest;
use crate::storage::extension_for;

/// Largest JSON request body.
const MAX_JSON: usize = 1 << 20;

/// The routes, with their body limits.
pub fn router(state: AppState) -> Router {
    let max_upload = state.options.max_upload;
    // Uploads stream to storage, counting against `max_upload` themselves.
    let uploads = Router::new()
        .route("/models", post(upload_model).get(list_models))
        .route("/models/{id}/versions", post(upload_version))
        .layer(DefaultBodyLimit::max(max_upload));
    let api = Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/users", post(add_user))
        .route("/password", post(change_password))
        .route("/audit", get(audit_log))
        .route("/users/{name}/disable", post(disable_user))
        .route("/users/{name}/enable", post(enable_user))
        .route("/models/{id}", get(get_model).delete(delete_model))
        .route("/models/{id}/download", get(download_model))
        .route("/models/{id}/shares", post(share_model))
        .route(
            "/models/{id}/shares/{user}",
            axum::routing::delete(unshare_model),
        )
        .route("/runs", post(start_run).get(list_runs))
        .route("/runs/{id}", get(get_run))
        .route("/runs/{id}/report", get(get_report))
        .route("/runs/{id}/samples", get(get_samples))
        .route("/runs/{id}/events", get(run_events))
        .route("/runs/{id}/cancel", post(cancel_run))
        .route("/runs/{id}/compare/{other}", get(compare_runs))
        .route("/runs/{id}/plot", get(plot_run))
        .route("/runs/{id}/shares", post(share_run))
        .route(
            "/runs/{id}/shares/{user}",
            axum::routing::delete(unshare_run),
        )
        .route(
            "/notifications",
            get(crate::notify::get_settings).put(crate::notify::put_settings),
        )
        .route("/openapi.json", get(openapi_document))
        .layer(DefaultBodyLimit::max(MAX_JSON))
        .merge(uploads);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            log_request,
        ))
        .with_state(state)
}

/// Logs each request's method, path (without the query), status and time (`-v` shows them),
/// and counts it in the metrics under its route's pattern (`unmatched` for unknown paths).
async fn log_request(
    State(state): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    // Cheap clones (shared buffers), not copies: this runs for every request.
    let method = request.method().clone();
    let uri = request.uri().clone();
    let matched = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let route = matched.as_ref().map_or("unmatched", |p| p.as_str());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .request(method.as_str(), route, status, elapsed);
    let path = uri.path();
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(%method, %path, %route, status, ms, "request");
    } else {
        tracing::debug!(%method, %path, %route, status, ms, "request");
    }
    response
}

/// `/metrics`: the Prometheus text exposition ([`crate::metrics`]).
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(expected) = &state.options.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "));
        // Compared through their hashes, so the time taken says nothing about the token.
        let matches = given.is_some_and(|g| {
            auth::sha256_hex(g.trim().as_bytes()) == auth::sha256_hex(expected.as_bytes())
        });
        if !matches {
            return ApiError::unauthorized("/metrics needs the metrics token").into_response();
        }
    }
    match crate::metrics::render(&state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("metrics: {e}")).into_response(),
    }
}

/// `/api/v1/openapi.json`: the API's description ([`crate::openapi`]).
async fn openapi_document() -> Json<Value> {
    Json(crate::openapi::document())
}

/// The workbook loader's limits on the server: the library's defaults with a tighter cap on
/// decompressed size (256 MiB), since uploads come from the network.
pub fn load_options() -> mcsim_workbook::LoadOptions {
    mcsim_workbook::LoadOptions::default().with_max_decompressed_bytes(256 << 20)
}

/// A JSON body whose errors (malformed, wrong fields, too large) answer 4xx with the reason.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Err(ApiError::new(
                        status,
                        "too_large",
                        format!("request body too large: the limit is {MAX_JSON} bytes"),
                    ))
                } else {
                    Err(ApiError::new(
                        status,
                        "bad_request",
                        format!("invalid JSON body: {}", rejection.body_text()),
                    ))
                }
            }
        }
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    match sqlx::query("SELECT 1").fetch_one(&state.db).await {
        Ok(_) => {
            Json(json!({"status": "ready", "running_jobs": state.jobs.running()})).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "reason": format!("database: {e}")})),
        )
            .into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

/// Creates a user (the name and password already checked or checked here).
pub async fn insert_user(
    state: &AppState,
    username: &str,
    password: &str,
    admin: bool,
) -> ApiResult<String> {
    auth::check_username(username)?;
    auth::check_password(password)?;
    let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username.to_owned())
        .fetch_optional(&state.db)
        .await?;
    if exists.is_some() {
        return Err(ApiError::conflict(format!(
            "user `{username}` already exists"
        )));
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let id = new_id("u");
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, is_admin, disabled, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5)",
    )
    .bind(id.clone())
    .bind(username.to_owned())
    .bind(hash)
    .bind(i64::from(admin))
    .bind(now())
    .execute(&state.db)
    .await?;
    Ok(id)
}

async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Credentials>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !state.options.open_registration {
        return Err(ApiError::forbidden(
            "registration is closed on this server: ask an admin to add you (`mcsim user add`)",
        ));
    }
    let id = insert_user(&state, &body.username, &body.password, false).await?;
    audit(&state.db, Some(&id), "register", Some(&id), &body.username).await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "username": body.username, "admin": false})),
    ))
}

async fn add_user(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if !user.is_admin {
        return Err(ApiError::forbidden("only an admin adds users"));
    }
    let id = insert_user(&state, &body.username, &body.password, body.admin).await?;
    audit(
        &state.db,
        Some(&user.id),
        "add_user",
        Some(&id),
        &body.username,
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "username": body.username, "admin": body.admin})),
    ))
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<Credentials>,
) -> ApiResult<Json<Value>> {
    if let Err(wait) = state.limiter.check(&body.username, peer.ip()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed logins: try again in {wait} s"),
        ));
    }
    let row =
        sqlx::query("SELECT id, password_hash, is_admin, disabled FROM users WHERE username = $1")
            .bind(body.username.clone())
            .fetch_optional(&state.db)
            .await?;
    let stored = match &row {
        Some(row) => Some(row.try_get::<String, _>("password_hash")?),
        None => None,
    };
    let password = body.password.clone();
    // Without the account, a hash is still computed, so that timing does not tell which
    // names exist.
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(stored) => auth::verify_password(&password, &stored),
        None => {
            let _ = auth::hash_password(&password);
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(row) = row.filter(|_| ok) else {
        state.limiter.failed(&body.username, peer.ip());
        audit(&state.db, None, "login_failed", None, &body.username).await;
        return Err(ApiError::unauthorized("wrong user name or password"));
    };
    if row.try_get::<i64, _>("disabled")? != 0 {
        return Err(ApiError::forbidden("this account is disabled"));
    }
    state.limiter.succeeded(&body.username);
    let user_id: String = row.try_get("id")?;
    // Expired tokens are of no use: forget them.
    sqlx::query("DELETE FROM tokens WHERE expires_at <= $1")
        .bind(now())
        .execute(&state.db)
        .await?;
    let (token, hash) = auth::new_token();
    let expires_at = now().saturating_add(state.options.token_ttl);
    sqlx::query(
        "INSERT INTO tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(user_id.clone())
    .bind(now())
    .bind(expires_at)
    .execute(&state.db)
    .await?;
    audit(
        &state.db,
        Some(&user_id),
        "login",
        None,
        &peer.ip().to_string(),
    )
    .await;
    Ok(Json(json!({
        "token": token,
        "expires_at": expires_at,
        "user": {"id": user_id, "username": body.username,
                 "admin": row.try_get::<i64, _>("is_admin")? != 0},
    })))
}

async fn logout(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    sqlx::query("DELETE FROM tokens WHERE token_hash = $1")
        .bind(user.token_hash.clone())
        .execute(&state.db)
        .await?;
    state.tokens.forget_token(&user.token_hash);
    audit(&state.db, Some(&user.id), "logout", None, "").await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    old_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(body): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    auth::check_password(&body.new_password)?;
    let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.id.clone())
        .fetch_one(&state.db)
        .await?;
    let stored: String = row.try_get("password_hash")?;
    let (old, new) = (body.old_password, body.new_password);
    let hash = tokio::task::spawn_blocking(move || {
        if auth::verify_password(&old, &stored) {
            auth::hash_password(&new).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?
    .ok_or_else(|| ApiError::unauthorized("the current password is wrong"))?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user.id.clone())
        .execute(&state.db)
        .await?;
    // Every other login of this account ends.
    sqlx::query("DELETE FROM tokens WHERE user_id = $1 AND token_hash <> $2")
        .bind(user.id.clone())
        .bind(user.token_hash.clone())
        .execute(&state.db)
        .await?;
    state.tokens.forget_user(&user.id, Some(&user.token_hash));
    audit(
        &state.db,
        Some(&user.id),
        "change_password",
        Some(&user.id),
        "",
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(
    state: &AppState,
    user: &AuthUser,
    name: &str,
    disabled: bool,
) -> ApiResult<Json<Value>> {
    if !user.is_admin {
        return Err(ApiError::forbidden(
            "only an admin disables or enables users",
        ));
    }
    let target = user_id_named(state, name).await?;
    if target == user.id {
        return Err(ApiError::bad_request(
            "an admin cannot disable their own account",
        ));
    }
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(target.clone())
        .execute(&state.db)
        .await?;
    if disabled {
        sqlx::query("DELETE FROM tokens WHERE user_id = $1")
            .bind(target.clone())
            .execute(&state.db)
            .await?;
        state.tokens.forget_user(&target, None);
    }
    let action = if disabled {
        "disable_user"
    } else {
        "enable_user"
    };
    audit(&state.db, Some(&user.id), action, Some(&target), name).await;
    Ok(Json(json!({"username": name, "disabled": disabled})))
}

async fn disable_user(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    set_disabled(&state, &user, &name, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    set_disabled(&state, &user, &name, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<i64>,
}

async fn audit_log(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    if !user.is_admin {
        return Err(ApiError::forbidden("only an admin reads the audit log"));
    }
    let limit = query.limit.unwrap_or(1000).clamp(1, 100_000);
    let rows = sqlx::query(
        "SELECT a.at, u.username, a.action, a.object_id, a.detail FROM audit a \
         LEFT JOIN users u ON u.id = a.user_id ORDER BY a.at DESC, a.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&state.db)
    .await?;
    let mut entries = Vec::new();
    for row in &rows {
        entries.push(json!({
            "at": row.try_get::<i64, _>("at")?,
            "user": row.try_get::<Option<String>, _>("username")?,
            "action": row.try_get::<String, _>("action")?,
            "object": row.try_get::<Option<String>, _>("object_id")?,
            "detail": row.try_get::<Option<String>, _>("detail")?,
        }));
    }
    Ok(Json(json!({ "entries": entries })))
}

async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({"id": user.id, "username": user.username, "admin": user.is_admin}))
}

// ---------------------------------------------------------------------------------------------
// Access

/// What a user may do with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads it.
    Viewer,
    /// Also starts runs, uploads versions, cancels runs.
    Editor,
    /// Also shares and deletes.
    Owner,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "editor" => Some(Role::Editor),
            _ => None,
        }
    }
}

/// A model row.
struct ModelRow {
    id: String,
    owner_id: String,
    name: String,
    created_at: i64,
}

impl ModelRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(ModelRow {
            id: row.try_get("id")?,
            owner_id: row.try_get("owner_id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

async fn share_role(state: &AppState, object: &str, user: &str) -> ApiResult<Option<Role>> {
    let row = sqlx::query("SELECT role FROM shares WHERE object_id = $1 AND user_id = $2")
        .bind(object.to_owned())
        .bind(user.to_owned())
        .fetch_optional(&state.db)
        .await?;
    Ok(match row {
        Some(row) => Role::parse(&row.try_get::<String, _>("role")?),
        None => None,
    })
}

/// The model and the caller's role; 404 when it does not exist or the caller may not see it.
async fn model_access(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<(ModelRow, Role)> {
    let not_found = || ApiError::not_found(format!("model {id}"));
    let row = sqlx::query("SELECT id, owner_id, name, created_at FROM models WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let model = ModelRow::from_row(&row)?;
    let role = if model.owner_id == user.id {
        Some(Role::Owner)
    } else {
        share_role(state, &model.id, &user.id).await?
    };
    let role = role.ok_or_else(not_found)?;
    Ok((model, role))
}

/// The model named `reference` (an id, else a name: the caller's own, else the one shared
/// with them).
async fn resolve_model(
    state: &AppState,
    user: &AuthUser,
    reference: &str,
) -> ApiResult<(ModelRow, Role)> {
    match model_access(state, user, reference).await {
        Ok(found) => return Ok(found),
        Err(e) if e.status != StatusCode::NOT_FOUND => return Err(e),
        Err(_) => {}
    }
    let rows = sqlx::query(
        "SELECT m.id FROM models m WHERE m.name = $1 AND (m.owner_id = $2 OR m.id IN \
         (SELECT object_id FROM shares WHERE user_id = $3)) ORDER BY CASE WHEN m.owner_id = $4 THEN 0 ELSE 1 END",
    )
    .bind(reference.to_owned())
    .bind(user.id.clone())
    .bind(user.id.clone())
    .bind(user.id.clone())
    .fetch_all(&state.db)
    .await?;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [] => Err(ApiError::not_found(format!("model {reference}"))),
        [id] => model_access(state, user, id).await,
        [first, ..] => {
            let owned = sqlx::query("SELECT id FROM models WHERE id = $1 AND owner_id = $2")
                .bind(first.clone())
                .bind(user.id.clone())
                .fetch_optional(&state.db)
                .await?;
            if owned.is_some() {
                model_access(state, user, first).await
            } else {
                Err(ApiError::conflict(format!(
                    "several models shared with you are named `{reference}`: use the id ({})",
                    ids.join(", ")
                )))
            }
        }
    }
}

/// The columns and joins of [`run_access`]'s query, up to its `FROM`.
macro_rules! run_access_select {
    () => {
        "SELECT r.id, r.model_id, r.version, r.owner_id, r.status, r.error, r.error_kind, \
         r.has_samples, r.done, r.total, r.created_at, r.started_at, r.finished_at, r.request, \
         m.owner_id AS model_owner, m.name AS model_name, \
         (SELECT s.role FROM shares s WHERE s.object_id = r.model_id AND s.user_id = $2) \
         AS model_role, \
         (SELECT s.role FROM shares s WHERE s.object_id = r.id AND s.user_id = $3) AS run_role"
    };
}

/// The run and the caller's role ([`run_access`]).
const RUN_ACCESS: &str = concat!(
    run_access_select!(),
    " FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = CAST($1 AS TEXT)"
);

/// [`RUN_ACCESS`] with the run's shares as `user:role` pairs, comma-separated in the order of
/// the user names (`shares`, NULL when none): what [`shares_of`] reads, in the same query.
/// User names hold neither `:` nor `,` ([`auth::check_username`]), roles are single words.
/// `string_agg` with `ORDER BY` is SQLite's since 3.44 (the bundled one is newer) and
/// PostgreSQL's.
const RUN_ACCESS_WITH_SHARES: &str = concat!(
    run_access_select!(),
    ", (SELECT string_agg(u.username || ':' || s.role, ',' ORDER BY u.username) \
     FROM shares s JOIN users u ON u.id = s.user_id WHERE s.object_id = r.id) AS shares",
    " FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = CAST($1 AS TEXT)"
);

/// The run row and the caller's role; 404 when it does not exist or the caller may not see it.
/// One query: the run, its model's owner and name, and the caller's shares of the model and of
/// the run.
async fn run_access(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<(AnyRow, Role)> {
    run_access_by(state, user, id, RUN_ACCESS).await
}

/// [`run_access`] with the query `sql` ([`RUN_ACCESS`] or [`RUN_ACCESS_WITH_SHARES`]).
async fn run_access_by(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    sql: &'static str,
) -> ApiResult<(AnyRow, Role)> {
    let not_found = || ApiError::not_found(format!("run {id}"));
    let row = sqlx::query(sql)
        .bind(id.to_owned())
        .bind(user.id.clone())
        .bind(user.id.clone())
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(not_found)?;
    let owner: String = row.try_get("owner_id")?;
    let model_owner: String = row.try_get("model_owner")?;
    let role = if owner == user.id || model_owner == user.id {
        Some(Role::Owner)
    } else {
        let shared = |column: &str| -> ApiResult<Option<Role>> {
            Ok(row
                .try_get::<Option<String>, _>(column)?
                .as_deref()
                .and_then(Role::parse))
        };
        shared("model_role")?.max(shared("run_role")?)
    };
    let role = role.ok_or_else(not_found)?;
    Ok((row, role))
}

fn require(role: Role, needed: Role, what: &str) -> ApiResult<()> {
    if role < needed {
        return Err(ApiError::forbidden(format!(
            "a {} cannot {what} (it needs {})",
            role.name(),
            needed.name()
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Models

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadQuery {
    name: Option<String>,
    file_name: Option<String>,
}

/// Checks a model name: 1 to 128 characters, no path separators, no `..`, no control
/// characters, not starting with `.`.
fn check_model_name(name: &str) -> ApiResult<()> {
    let bad = name.is_empty()
        || name.chars().count() > 128
        || name.starts_with('.')
        || name.contains("..")
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c == ':' || c.is_control());
    if bad {
        return Err(ApiError::bad_request(format!(
            "invalid model name {name:?}: use 1 to 128 characters without '/', '\\', ':', '..', \
             control characters or a leading '.'"
        )));
    }
    Ok(())
}

/// What an accepted upload stored.
struct Stored {
    hash: String,
    size: i64,
    summary: Value,
}

/// Streams an upload into a temporary file (hashing it on the way, refusing it past the size
/// cap), parses it with the library's guards, then stores it by content; nothing is left
/// behind when it is refused.
/// How much more of a refused upload is read (and dropped) before the 413 is sent.
const DRAIN_MAX: usize = 16 << 20;

/// Reads and drops up to `budget` bytes of a refused upload's body, for at most 10 seconds, so
/// that a client still sending it reads the 413 answer rather than a broken connection (a
/// larger or slower body is cut off: the connection is closed after the answer).
async fn drain<S, E>(mut stream: S, mut budget: usize)
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
{
    use futures_util::StreamExt;
    let read = async {
        while budget > 0 {
            match stream.next().await {
                Some(Ok(chunk)) => budget = budget.saturating_sub(chunk.len()),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), read).await;
}

async fn store_upload(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    file_name: &str,
) -> ApiResult<Stored> {
    use futures_util::StreamExt;
    use sha2::Digest;
    use tokio::io::AsyncWriteExt;

    let limit = state.options.max_upload;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("upload too large: the limit is {limit} bytes"),
        )
    };
    // A declared length over the cap is refused before anything is read.
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && length > limit as u64
    {
        if length <= (limit + DRAIN_MAX) as u64 {
            drain(body.into_data_stream(), DRAIN_MAX + limit).await;
        }
        return Err(too_large());
    }
    let ext = extension_for(file_name);
    let temp = state.storage.temp_path(ext);
    let streamed: ApiResult<(String, usize)> = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        let mut hasher = sha2::Sha256::new();
        let mut size = 0usize;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("cannot read the upload: {e}")))?;
            size += chunk.len();
            if size > limit {
                drain(&mut stream, DRAIN_MAX).await;
                return Err(too_large());
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok((crate::auth::hex(&hasher.finalize()), size))
    }
    .await;
    let (hash, size) = match streamed {
        Ok(done) => done,
        Err(e) => {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
    };
    if size == 0 {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(ApiError::bad_request("the upload is empty"));
    }
    let storage = state.storage.clone();
    let file_name = file_name.to_owned();
    tokio::task::spawn_blocking(move || {
        let result = (|| {
            let options = mcsim_ops::ParseOptions {
                path: temp.clone(),
                recalc: false,
                load: load_options(),
            };
            let report = mcsim_ops::parse(&options).map_err(|e| ApiError::from_ops(&e))?;
            if let Some(first) = report.parse_errors.first() {
                let details = serde_json::to_value(&report.parse_errors).unwrap_or(Value::Null);
                return Err(ApiError::unprocessable(format!(
                    "the workbook has {} formula(s) that do not parse; first: {}!{} {}: {}",
                    report.parse_errors.len(),
                    first.sheet,
                    first.cell,
                    first.formula,
                    first.message
                ))
                .with_details(details));
            }
            let mut summary = serde_json::to_value(&report).map_err(ApiError::internal)?;
            if let Some(obj) = summary.as_object_mut() {
                obj.insert("path".into(), Value::String(file_name.clone()));
                obj.insert("file_name".into(), Value::String(file_name.clone()));
            }
            storage.commit(&temp, &hash, ext)?;
            Ok(Stored {
                hash,
                size: i64::try_from(size).unwrap_or(i64::MAX),
                summary,
            })
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    })
    .await
    .map_err(ApiError::internal)?
}

async fn insert_version(
    state: &AppState,
    user: &AuthUser,
    model: &ModelRow,
    stored: &Stored,
    file_name: &str,
) -> ApiResult<i64> {
    // Two uploads at once may pick the same number: the loser takes the next one.
    let mut version = 0;
    for _ in 0..8 {
        let row = sqlx::query("SELECT MAX(version) AS v FROM versions WHERE model_id = $1")
            .bind(model.id.clone())
            .fetch_one(&state.db)
            .await?;
        let next = row.try_get::<Option<i64>, _>("v")?.unwrap_or(0) + 1;
        let inserted = sqlx::query(
            "INSERT INTO versions (model_id, version, hash, size, file_name, parse_summary, uploaded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (model_id, version) DO NOTHING",
        )
        .bind(model.id.clone())
        .bind(next)
        .bind(stored.hash.clone())
        .bind(stored.size)
        .bind(file_name.to_owned())
        .bind(stored.summary.to_string())
        .bind(user.id.clone())
        .bind(now())
        .execute(&state.db)
        .await?;
        if inserted.rows_affected() == 1 {
            version = next;
            break;
        }
    }
    if version == 0 {
        return Err(ApiError::conflict(
            "too many uploads of this model at once: try again",
        ));
    }
    audit(
        &state.db,
        Some(&user.id),
        "upload",
        Some(&model.id),
        &format!("{} version {version} sha256 {}", model.name, stored.hash),
    )
    .await;
    Ok(version)
}

fn upload_answer(model: &ModelRow, version: i64, stored: &Stored) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({
            "id": model.id,
            "name": model.name,
            "version": version,
            "sha256": stored.hash,
            "size": stored.size,
            "summary": stored.summary,
        })),
    )
}

async fn upload_model(
    State(state): State<AppState>,
    user: AuthUser,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Query(query) =
        query.map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let file_name = query
        .file_name
        .clone()
        .or(query.name.clone())
        .unwrap_or_else(|| "workbook.xlsx".into());
    let name = query
        .name
        .clone()
        .unwrap_or_else(|| model_name_from_file(&file_name));
    check_model_name(&name)?;
    check_model_name(&file_name)?;
    let stored = store_upload(&state, &headers, body, &file_name).await?;
    let existing = sqlx::query(
        "SELECT id, owner_id, name, created_at FROM models WHERE owner_id = $1 AND name = $2",
    )
    .bind(user.id.clone())
    .bind(name.clone())
    .fetch_optional(&state.db)
    .await?;
    let model = match existing {
        Some(row) => ModelRow::from_row(&row)?,
        None => {
            let model = ModelRow {
                id: new_id("m"),
                owner_id: user.id.clone(),
                name: name.clone(),
                created_at: now(),
            };
            // A concurrent upload of the same new name may win: then use its model.
            let inserted = sqlx::query(
                "INSERT INTO models (id, owner_id, name, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (owner_id, name) DO NOTHING",
            )
            .bind(model.id.clone())
            .bind(model.owner_id.clone())
            .bind(model.name.clone())
            .bind(model.created_at)
            .execute(&state.db)
            .await?;
            if inserted.rows_affected() == 1 {
                model
            } else {
                let row = sqlx::query(
                    "SELECT id, owner_id, name, created_at FROM models WHERE owner_id = $1 AND name = $2",
                )
                .bind(user.id.clone())
                .bind(name.clone())
                .fetch_one(&state.db)
                .await?;
                ModelRow::from_row(&row)?
            }
        }
    };
    let version = insert_version(&state, &user, &model, &stored, &file_name).await?;
    Ok(upload_answer(&model, version, &stored))
}

/// `model.xlsx` → `model`.
fn model_name_from_file(file_name: &str) -> String {
    Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name.to_owned())
}

async fn upload_version(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (model, role) = model_access(&state, &user, &id).await?;
    require(role, Role::Editor, "upload a new version")?;
    let Query(query) =
        query.map_err(|e| ApiError::bad_request(format!("invalid query: {}", e.body_text())))?;
    let file_name = query
        .file_name
        .unwrap_or_else(|| format!("{}.xlsx", model.name));
    check_model_name(&file_name)?;
    let stored = store_upload(&state, &headers, body, &file_name).await?;
    let version = insert_version(&state, &user, &model, &stored, &file_name).await?;
    Ok(upload_answer(&model, version, &stored))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    search: Option<String>,
}

async fn list_models(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT m.id, m.owner_id, m.name, m.created_at, u.username AS owner, \
         (SELECT MAX(version) FROM versions v WHERE v.model_id = m.id) AS latest \
         FROM models m JOIN users u ON u.id = m.owner_id \
         WHERE m.owner_id = $1 OR m.id IN (SELECT object_id FROM shares WHERE user_id = $2) \
         ORDER BY m.name, m.id",
    )
    .bind(user.id.clone())
    .bind(user.id.clone())
    .fetch_all(&state.db)
    .await?;
    let search = query.search.map(|s| s.to_lowercase());
    let mut models = Vec::new();
    for row in &rows {
        let model = ModelRow::from_row(row)?;
        if search
            .as_ref()
            .is_some_and(|s| !model.name.to_lowercase().contains(s.as_str()))
        {
            continue;
        }
        models.push(json!({
            "id": model.id,
            "name": model.name,
            "owner": row.try_get::<String, _>("owner")?,
            "latest_version": row.try_get::<Option<i64>, _>("latest")?,
            "created_at": model.created_at,
        }));
    }
    Ok(Json(json!({ "models": models })))
}

async fn get_model(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    let (model, role) = model_access(&state, &user, &id).await?;
    let rows = sqlx::query(
        "SELECT version, hash, size, file_name, parse_summary, created_at FROM versions \
         WHERE model_id = $1 ORDER BY version",
    )
    .bind(model.id.clone())
    .fetch_all(&state.db)
    .await?;
    let mut versions = Vec::new();
    for row in &rows {
        let summary: String = row.try_get("parse_summary")?;
        versions.push(json!({
            "version": row.try_get::<i64, _>("version")?,
            "sha256": row.try_get::<String, _>("hash")?,
            "size": row.try_get::<i64, _>("size")?,
            "file_name": row.try_get::<String, _>("file_name")?,
            "created_at": row.try_get::<i64, _>("created_at")?,
            "summary": serde_json::from_str::<Value>(&summary).unwrap_or(Value::Null),
        }));
    }
    let mut answer = json!({
        "id": model.id,
        "name": model.name,
        "role": role.name(),
        "created_at": model.created_at,
        "versions": versions,
    });
    if role == Role::Owner {
        answer["shares"] = shares_of(&state, &model.id).await?;
    }
    Ok(Json(answer))
}

async fn shares_of(state: &AppState, object: &str) -> ApiResult<Value> {
    let rows = sqlx::query(
        "SELECT u.username, s.role FROM shares s JOIN users u ON u.id = s.user_id \
         WHERE s.object_id = CAST($1 AS TEXT) ORDER BY u.username",
    )
    .bind(object.to_owned())
    .fetch_all(&state.db)
    .await?;
    let mut shares = Vec::new();
    for row in &rows {
        shares.push(json!({
            "user": row.try_get::<String, _>("username")?,
            "role": row.try_get::<String, _>("role")?,
        }));
    }
    Ok(Value::Array(shares))
}

/// [`shares_of`]'s answer from the `shares` column of [`RUN_ACCESS_WITH_SHARES`].
fn shares_from(pairs: Option<&str>) -> Value {
    let shares = pairs
        .into_iter()
        .flat_map(|pairs| pairs.split(','))
        .filter_map(|pair| pair.rsplit_once(':'))
        .map(|(user, role)| json!({"user": user, "role": role}))
        .collect();
    Value::Array(shares)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionQuery {
    version: Option<i64>,
}

async fn download_model(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(query): Query<VersionQuery>,
) -> ApiResult<Response> {
    let (model, _) = model_access(&state, &user, &id).await?;
    let row = match query.version {
        Some(v) => sqlx::query(
            "SELECT version, hash, file_name FROM versions WHERE model_id = $1 AND version = $2",
        )
        .bind(model.id.clone())
        .bind(v)
        .fetch_optional(&state.db)
        .await?,
        None => sqlx::query(
            "SELECT version, hash, file_name FROM versions WHERE model_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(model.id.clone())
        .fetch_optional(&state.db)
        .await?,
    }
    .ok_or_else(|| ApiError::not_found(format!("model {id}: no such version")))?;
    let hash: String = row.try_get("hash")?;
    let file_name: String = row.try_get("file_name")?;
    let bytes = tokio::fs::read(
        state
            .storage
            .fetch_blob(&hash, extension_for(&file_name))
            .await?,
    )
    .await?;
    audit(
        &state.db,
        Some(&user.id),
        "download",
        Some(&model.id),
        &file_name,
    )
    .await;
    Ok(file_response(bytes, "application/octet-stream", &file_name))
}

fn file_response(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The name was checked on upload (no quotes, separators or control characters).
    let safe: String = file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' || *c == ' ')
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn delete_model(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<StatusCode> {
    let (model, role) = model_access(&state, &user, &id).await?;
    require(role, Role::Owner, "delete a model")?;
    let runs = sqlx::query("SELECT id FROM runs WHERE model_id = $1")
        .bind(model.id.clone())
        .fetch_all(&state.db)
        .await?;
    for row in &runs {
        let run: String = row.try_get("id")?;
        if let Some(live) = state.jobs.get(&run) {
            live.cancel.store(true, Ordering::SeqCst);
        }
        sqlx::query("DELETE FROM shares WHERE object_id = $1")
            .bind(run.clone())
            .execute(&state.db)
            .await?;
        state.storage.remove_run(&run).await;
        state.reports.forget(&run);
    }
    sqlx::query("DELETE FROM runs WHERE model_id = $1")
        .bind(model.id.clone())
        .execute(&state.db)
        .await?;
    let versions = sqlx::query("SELECT hash, file_name FROM versions WHERE model_id = $1")
        .bind(model.id.clone())
        .fetch_all(&state.db)
        .await?;
    for statement in [
        "DELETE FROM versions WHERE model_id = $1",
        "DELETE FROM shares WHERE object_id = $1",
        "DELETE FROM models WHERE id = $1",
    ] {
        sqlx::query(statement)
            .bind(model.id.clone())
            .execute(&state.db)
            .await?;
    }
    // A file no other version refers to is removed.
    for row in &versions {
        let hash: String = row.try_get("hash")?;
        let file_name: String = row.try_get("file_name")?;
        let used = sqlx::query("SELECT model_id FROM versions WHERE hash = $1 LIMIT 1")
            .bind(hash.clone())
            .fetch_optional(&state.db)
            .await?;
        if used.is_none() {
            state
                .storage
                .remove_blob(&hash, extension_for(&file_name))
                .await;
        }
    }
    audit(
        &state.db,
        Some(&user.id),
        "delete_model",
        Some(&model.id),
        &model.name,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Sharing

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    user: String,
    role: String,
}

async fn user_id_named(state: &AppState, name: &str) -> ApiResult<String> {
    let row = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(name.to_owned())
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("user {name}")))?;
    Ok(row.try_get("id")?)
}

async fn share(
    state: &AppState,
    user: &AuthUser,
    object: &str,
    body: ShareBody,
) -> ApiResult<Json<Value>> {
    let role = Role::parse(&body.role).ok_or_else(|| {
        ApiError::bad_request(format!("role `{}`: use viewer or editor", body.role))
    })?;
    let target = user_id_named(state, &body.user).await?;
    if target == user.id {
        return Err(ApiError::bad_request("you own this already"));
    }
    sqlx::query(
        "INSERT INTO shares (object_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (object_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(object.to_owned())
    .bind(target)
    .bind(role.name().to_owned())
    .bind(now())
    .execute(&state.db)
    .await?;
    audit(
        &state.db,
        Some(&user.id),
        "share",
        Some(object),
        &format!("{} as {}", body.user, role.name()),
    )
    .await;
    Ok(Json(
        json!({"id": object, "user": body.user, "role": role.name()}),
    ))
}

async fn unshare(
    state: &AppState,
    user: &AuthUser,
    object: &str,
    name: &str,
) -> ApiResult<StatusCode> {
    let target = user_id_named(state, name).await?;
    let done = sqlx::query("DELETE FROM shares WHERE object_id = $1 AND user_id = $2")
        .bind(object.to_owned())
        .bind(target)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found(format!(
            "{object} is not shared with {name}"
        )));
    }
    audit(&state.db, Some(&user.id), "revoke", Some(object), name).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn share_model(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(body): JsonBody<ShareBody>,
) -> ApiResult<Json<Value>> {
    let (model, role) = model_access(&state, &user, &id).await?;
    require(role, Role::Owner, "share a model")?;
    share(&state, &user, &model.id, body).await
}

async fn unshare_model(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path((id, name)): axum::extract::Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (model, role) = model_access(&state, &user, &id).await?;
    require(role, Role::Owner, "revoke a share")?;
    unshare(&state, &user, &model.id, &name).await
}

async fn share_run(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(body): JsonBody<ShareBody>,
) -> ApiResult<Json<Value>> {
    let (_, role) = run_access(&state, &user, &id).await?;
    require(role, Role::Owner, "share a run")?;
    share(&state, &user, &id, body).await
}

async fn unshare_run(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path((id, name)): axum::extract::Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (_, role) = run_access(&state, &user, &id).await?;
    require(role, Role::Owner, "revoke a share")?;
    unshare(&state, &user, &id, &name).await
}

// ---------------------------------------------------------------------------------------------
// Runs

/// Checks a run request before it is queued: what can be checked without the workbook.
fn check_request(state: &AppState, request: &RunRequest) -> ApiResult<()> {
    if let Some(n) = request.iterations
        && (n == 0 || n > state.options.max_iterations)
    {
        return Err(ApiError::bad_request(format!(
            "iterations: {n} is not between 1 and {} (this server's limit)",
            state.options.max_iterations
        )));
    }
    if let Some(s) = &request.sampling
        && mcsim_ops::run::parse_method(s).is_none()
    {
        return Err(ApiError::bad_request(format!(
            "sampling `{s}`: use lhs or mc"
        )));
    }
    for condition in &request.fail_if {
        mcsim_results::Threshold::parse(condition)
            .map_err(|e| ApiError::bad_request(format!("fail_if `{condition}`: {}", chain(&e))))?;
    }
    for &p in &request.percentiles {
        if !(0.0..=1.0).contains(&p) {
            return Err(ApiError::bad_request(format!(
                "percentiles: {p} is not a fraction from 0 to 1"
            )));
        }
    }
    for &a in &request.risk_levels {
        if !(a > 0.0 && a < 1.0) {
            return Err(ApiError::bad_request(format!(
                "risk_levels: {a} is not a fraction above 0 and below 1"
            )));
        }
    }
    if let Some(t) = request.until_converged
        && !(t > 0.0 && t < 1.0)
    {
        return Err(ApiError::bad_request(format!(
            "until_converged: {t} is not a fraction above 0 and below 1"
        )));
    }
    if let Some(text) = &request.config {
        mcsim_ops::run::config::ModelConfig::parse(text, Path::new("model.toml"))
            .map_err(|e| ApiError::from_ops(&e))?;
    }
    Ok(())
}

async fn start_run(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(request): JsonBody<RunRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (model, role) = resolve_model(&state, &user, &request.model).await?;
    require(role, Role::Editor, "start a run")?;
    check_request(&state, &request)?;
    let row =
        match request.version {
            Some(v) => {
                sqlx::query("SELECT version FROM versions WHERE model_id = $1 AND version = $2")
                    .bind(model.id.clone())
                    .bind(v)
                    .fetch_optional(&state.db)
                    .await?
            }
            None => sqlx::query(
                "SELECT version FROM versions WHERE model_id = $1 ORDER BY version DESC LIMIT 1",
            )
            .bind(model.id.clone())
            .fetch_optional(&state.db)
            .await?,
        }
        .ok_or_else(|| ApiError::not_found(format!("model {}: no such version", model.id)))?;
    let version: i64 = row.try_get("version")?;
    let id = new_id("r");
    let stored = serde_json::to_string(&request).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO runs (id, model_id, version, owner_id, status, request, has_samples, done, total, created_at) \
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, 0, 0, $6)",
    )
    .bind(id.clone())
    .bind(model.id.clone())
    .bind(version)
    .bind(user.id.clone())
    .bind(stored)
    .bind(now())
    .execute(&state.db)
    .await?;
    state.jobs.wake.notify_waiters();
    audit(
        &state.db,
        Some(&user.id),
        "start_run",
        Some(&id),
        &format!("{} version {version}", model.id),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": id, "status": "queued", "model": model.id, "version": version})),
    ))
}

/// A run's status document.
fn run_json(state: &AppState, row: &AnyRow, role: Role) -> ApiResult<Value> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let (mut done, mut total) = (
        row.try_get::<i64, _>("done")?,
        row.try_get::<i64, _>("total")?,
    );
    if let Some(live) = state.jobs.get(&id) {
        done = i64::try_from(live.done.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        total = i64::try_from(live.total.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
    }
    let request: Value =
        serde_json::from_str(&row.try_get::<String, _>("request")?).unwrap_or(Value::Null);
    Ok(json!({
        "id": id,
        "model": row.try_get::<String, _>("model_id")?,
        "model_name": row.try_get::<String, _>("model_name")?,
        "version": row.try_get::<i64, _>("version")?,
        "status": status,
        "done": done,
        "total": total,
        "error": row.try_get::<Option<String>, _>("error")?,
        "error_kind": row.try_get::<Option<String>, _>("error_kind")?,
        "has_samples": row.try_get::<i64, _>("has_samples")? != 0,
        "created_at": row.try_get::<i64, _>("created_at")?,
        "started_at": row.try_get::<Option<i64>, _>("started_at")?,
        "finished_at": row.try_get::<Option<i64>, _>("finished_at")?,
        "request": request,
        "role": role.name(),
    }))
}

async fn get_run(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    // One query on the request path for owners too (the status is polled while a run runs).
    let (row, role) = run_access_by(&state, &user, &id, RUN_ACCESS_WITH_SHARES).await?;
    let mut answer = run_json(&state, &row, role)?;
    if role == Role::Owner {
        answer["shares"] = shares_from(row.try_get::<Option<String>, _>("shares")?.as_deref());
    }
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    model: Option<String>,
}

async fn list_runs(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<RunsQuery>,
) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT r.id FROM runs r JOIN models m ON m.id = r.model_id \
         WHERE r.owner_id = $1 OR m.owner_id = $2 \
         OR r.model_id IN (SELECT object_id FROM shares WHERE user_id = $3) \
         OR r.id IN (SELECT object_id FROM shares WHERE user_id = $4) \
         ORDER BY r.created_at DESC, r.id",
    )
    .bind(user.id.clone())
    .bind(user.id.clone())
    .bind(user.id.clone())
    .bind(user.id.clone())
    .fetch_all(&state.db)
    .await?;
    let mut runs = Vec::new();
    for row in &rows {
        let id: String = row.try_get("id")?;
        let (row, role) = run_access(&state, &user, &id).await?;
        let run = run_json(&state, &row, role)?;
        if query
            .model
            .as_ref()
            .is_some_and(|m| run["model"].as_str() != Some(m.as_str()))
        {
            continue;
        }
        runs.push(run);
    }
    Ok(Json(json!({ "runs": runs })))
}

async fn get_report(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    let (access, _) = run_access(&state, &user, &id).await?;
    let json_response = |report: Bytes| {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            report,
        )
            .into_response()
    };
    // A finished run's report never changes: served from memory after its first read.
    let status: String = access.try_get("status")?;
    if status == "succeeded"
        && let Some(report) = state.reports.get(&id)
    {
        return Ok(json_response(report));
    }
    let row = sqlx::query("SELECT status, report, error FROM runs WHERE id = $1")
        .bind(id.clone())
        .fetch_one(&state.db)
        .await?;
    let status: String = row.try_get("status")?;
    match row.try_get::<Option<String>, _>("report")? {
        Some(report) => {
            let report = Bytes::from(report);
            if status == "succeeded" {
                state.reports.insert(&id, report.clone());
            }
            Ok(json_response(report))
        }
        None if status == "failed" => Err(ApiError::conflict(format!(
            "run {id} failed: {}",
            row.try_get::<Option<String>, _>("error")?
                .unwrap_or_default()
        ))),
        None => Err(ApiError::conflict(format!(
            "run {id} has no report: it is {status}"
        ))),
    }
}

async fn get_samples(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    let (row, _) = run_access(&state, &user, &id).await?;
    if row.try_get::<i64, _>("has_samples")? == 0 {
        let status: String = row.try_get("status")?;
        return Err(ApiError::conflict(format!(
            "run {id} has no samples file (it is {status})"
        )));
    }
    let bytes = tokio::fs::read(state.storage.fetch_samples(&id).await?).await?;
    audit(&state.db, Some(&user.id), "download_samples", Some(&id), "").await;
    Ok(file_response(
        bytes,
        "application/vnd.apache.parquet",
        &format!("{id}.parquet"),
    ))
}

async fn compare_runs(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path((a, b)): axum::extract::Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    for id in [&a, &b] {
        let (row, _) = run_access(&state, &user, id).await?;
        if row.try_get::<i64, _>("has_samples")? == 0 {
            let status: String = row.try_get("status")?;
            return Err(ApiError::conflict(format!(
                "run {id} has no samples file (it is {status})"
            )));
        }
    }
    let options = mcsim_ops::results::ResultsOptions::new(state.storage.fetch_samples(&a).await?)
        .with_compare(state.storage.fetch_samples(&b).await?);
    let report = tokio::task::spawn_blocking(move || mcsim_ops::results::results(&options))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::from_ops(&e))?;
    let mut json = serde_json::to_value(&report).map_err(ApiError::internal)?;
    // Name the runs, not the server's files.
    json["file"] = Value::String(a.clone());
    if json["comparison"].is_object() {
        json["comparison"]["file"] = Value::String(b.clone());
    }
    Ok(Json(json))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlotQuery {
    chart: String,
    output: Option<String>,
    format: Option<String>,
}

async fn plot_run(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(query): Query<PlotQuery>,
) -> ApiResult<Response> {
    use mcsim_ops::results::{Chart, PlotRequest, ResultsOptions};
    let (row, _) = run_access(&state, &user, &id).await?;
    if row.try_get::<i64, _>("has_samples")? == 0 {
        let status: String = row.try_get("status")?;
        return Err(ApiError::conflict(format!(
            "run {id} has no samples file (it is {status})"
        )));
    }
    let chart = match query.chart.as_str() {
        "histogram" => Chart::Histogram,
        "cdf" => Chart::Cdf,
        "tornado" => Chart::Tornado,
        other => {
            return Err(ApiError::bad_request(format!(
                "chart `{other}`: use histogram, cdf or tornado"
            )));
        }
    };
    let (ext, content_type) = match query.format.as_deref().unwrap_or("svg") {
        "svg" => ("svg", "image/svg+xml"),
        "png" => ("png", "image/png"),
        other => {
            return Err(ApiError::bad_request(format!(
                "format `{other}`: use svg or png"
            )));
        }
    };
    let samples = state.storage.fetch_samples(&id).await?;
    let path = state
        .storage
        .run_dir(&id)
        .join(format!("{}.{ext}", new_id("plot-")));
    let mut options = ResultsOptions::new(samples);
    options.output = query.output;
    options.plot = Some(PlotRequest {
        chart,
        path: path.clone(),
    });
    let drawn = tokio::task::spawn_blocking(move || {
        let result = mcsim_ops::results::results(&options)
            .map_err(|e| ApiError::from_ops(&e))
            .and_then(|_| std::fs::read(&path).map_err(ApiError::from));
        let _ = std::fs::remove_file(&path);
        result
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(file_response(
        drawn,
        content_type,
        &format!("{id}-{}.{ext}", query.chart),
    ))
}

async fn cancel_run(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    let (row, role) = run_access(&state, &user, &id).await?;
    require(role, Role::Editor, "cancel a run")?;
    let status: String = row.try_get("status")?;
    let cancelled = sqlx::query(
        "UPDATE runs SET status = 'cancelled', finished_at = $1 WHERE id = $2 AND status = 'queued'",
    )
    .bind(now())
    .bind(id.clone())
    .execute(&state.db)
    .await?;
    let answer = if cancelled.rows_affected() == 1 {
        crate::notify::run_ended(state.clone(), id.clone(), crate::notify::Event::Cancelled);
        "cancelled"
    } else if let Some(live) = state.jobs.get(&id) {
        live.cancel.store(true, Ordering::SeqCst);
        "cancelling"
    } else {
        return Err(ApiError::conflict(format!(
            "run {id} is {status}: only a queued or running run can be cancelled"
        )));
    };
    audit(&state.db, Some(&user.id), "cancel_run", Some(&id), "").await;
    Ok(Json(json!({"id": id, "status": answer})))
}

/// Progress as Server-Sent Events: `progress` (`{"status","done","total"}`) whenever it
/// changes, then one `end` event with the run's status document, then the stream closes (also
/// when the server shuts down, with the run's status then).
async fn run_events(
    State(state): State<AppState>,
    user: AuthUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let (_, role) = run_access(&state, &user, &id).await?;
    let stream = futures_util::stream::unfold(
        (state, id, role, None::<(String, i64, i64)>, false),
        |(state, id, role, last, ended)| async move {
            if ended {
                return None;
            }
            let mut first = last.is_none();
            loop {
                if !first {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                first = false;
                let row = sqlx::query(
                    "SELECT r.id, r.model_id, r.version, r.owner_id, r.status, r.error, r.error_kind, \
                     r.has_samples, r.done, r.total, r.created_at, r.started_at, r.finished_at, r.request, \
                     m.name AS model_name FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = CAST($1 AS TEXT)",
                )
                .bind(id.clone())
                .fetch_optional(&state.db)
                .await;
                let Ok(Some(row)) = row else {
                    let event = Event::default()
                        .event("end")
                        .data(json!({"id": id, "status": "deleted"}).to_string());
                    return Some((Ok(event), (state, id, role, last, true)));
                };
                let Ok(doc) = run_json(&state, &row, role) else {
                    continue;
                };
                let status = doc["status"].as_str().unwrap_or("").to_owned();
                // The stream also ends when the server shuts down (the run is queued again).
                if matches!(status.as_str(), "succeeded" | "failed" | "cancelled")
                    || state.jobs.shutting_down.load(Ordering::SeqCst)
                {
                    let event = Event::default().event("end").data(doc.to_string());
                    return Some((Ok(event), (state, id, role, last, true)));
                }
                let now = (
                    status.clone(),
                    doc["done"].as_i64().unwrap_or(0),
                    doc["total"].as_i64().unwrap_or(0),
                );
                if last.as_ref() != Some(&now) {
                    let event = Event::default()
                        .event("progress")
                        .data(json!({"status": now.0, "done": now.1, "total": now.2}).to_string());
                    return Some((Ok(event), (state, id, role, Some(now), false)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_read_back_from_the_aggregated_column() {
        assert_eq!(shares_from(None), json!([]));
        assert_eq!(
            shares_from(Some("bob:viewer,carol.d-1:editor")),
            json!([
                {"user": "bob", "role": "viewer"},
                {"user": "carol.d-1", "role": "editor"},
            ])
        );
    }
}
