//! Notifications when a run ends: an email to its owner (SMTP, configured in the `[smtp]` table
//! of the configuration file) and a webhook (a JSON `POST` signed with HMAC-SHA256, retried with
//! exponential backoff). Each user chooses what they get at `GET`/`PUT /api/v1/notifications`:
//! an address and whether to email it, a webhook URL and its secret, and the events
//! (`succeeded`, `failed`, `cancelled`).
//!
//! Delivery runs on a task of its own after the run's end is recorded: a slow, failing or
//! misconfigured receiver is logged and counted in `/metrics`, and never holds or fails a job.
//! An email is retried like a webhook (`[smtp] retries`, `backoff_ms`), except after an SMTP
//! server's permanent refusal (a 5xx answer).
//!
//! Each delivery is queued in the database before its first attempt, a webhook in
//! `webhook_deliveries` (removed once delivered or out of retries), an email in
//! `email_deliveries` (kept, marked `sent` or `failed`): the same code ([`Channel`]) attempts,
//! retries and sweeps both. Between attempts the row holds the attempts made and the time of
//! the next one, so a restarted daemon resumes the deliveries a stopped one left (the same
//! delivery id, the attempt count going on). The process making a delivery holds a lease on it
//! (its next attempt, plus the attempt timeout, plus [`LEASE_MARGIN_MS`]): a graceful shutdown
//! gives its leases back, so the next start resumes them at once; after a crash, or from
//! another replica sharing the database, a delivery is taken over once its lease has run out
//! ([`resume_deliveries`] looks every [`SWEEP_INTERVAL`]); a delivery is claimed by one
//! conditional `UPDATE`, so two daemons never both make it.
//!
//! A webhook request carries `X-Mcsim-Event` (`run.succeeded`, ...), `X-Mcsim-Delivery` (one id
//! for all attempts), `X-Mcsim-Timestamp` (Unix seconds of this attempt) and
//! `X-Mcsim-Signature: sha256=HEX`, the HMAC-SHA256 with the user's secret of
//! `TIMESTAMP.BODY` (the timestamp, a dot, then the raw body), so a receiver checks both the
//! payload and its age.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use hmac::{Hmac, KeyInit, Mac};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::Row;

use crate::api::JsonBody;
use crate::auth::AuthUser;
use crate::config::{SmtpConfig, SmtpTls, WebhookConfig};
use crate::db::{audit, new_id, now};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, ServeOptions};

/// How a run ended, as a notification event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// It finished with a report.
    Succeeded,
    /// It failed (an invalid model, a workbook error, a panic).
    Failed,
    /// It was cancelled.
    Cancelled,
}

impl Event {
    /// The event's name in the settings (`succeeded`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Event::Succeeded => "succeeded",
            Event::Failed => "failed",
            Event::Cancelled => "cancelled",
        }
    }

    fn parse(name: &str) -> Option<Event> {
        [Event::Succeeded, Event::Failed, Event::Cancelled]
            .into_iter()
            .find(|e| e.name() == name)
    }
}

/// The events a user gets when they have chosen none: a run that finishes or fails.
const DEFAULT_EVENTS: [&str; 2] = ["succeeded", "failed"];

/// The longest wait between two attempts of a delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How long one SMTP attempt may take (connecting, then each command).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The SMTP transport and how emails are retried.
struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retries: u32,
    backoff_ms: u64,
}

/// The transports, built once at startup.
pub struct Notifier {
    mailer: Option<Mailer>,
    http: reqwest::Client,
    webhooks: WebhookConfig,
    public_url: Option<String>,
    /// This process, as the holder of the deliveries it is making.
    process: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("email", &self.mailer.is_some())
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

/// Checks SMTP settings (the sender's address) before the daemon starts.
pub fn check_smtp(smtp: &SmtpConfig) -> Result<(), String> {
    smtp.from
        .parse::<Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("smtp.from `{}`: {e}", smtp.from))
}

impl Notifier {
    /// The SMTP transport (if configured) and the webhook client.
    pub fn new(options: &ServeOptions) -> Result<Notifier, String> {
        let mailer = match &options.smtp {
            Some(smtp) => Some(mailer(smtp)?),
            None => None,
        };
        let mut http = reqwest::Client::builder();
        if !options.webhooks.allow_private {
            http = http.dns_resolver(PublicOnly);
        }
        let http = http
            .timeout(Duration::from_secs(options.webhooks.timeout_seconds.max(1)))
            // A webhook answers where it was asked: no redirect to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mcsim-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the webhook client: {e}"))?;
        Ok(Notifier {
            mailer,
            http,
            webhooks: options.webhooks.clone(),
            public_url: options.public_url.clone(),
            process: new_id("p"),
        })
    }
}

fn mailer(smtp: &SmtpConfig) -> Result<Mailer, String> {
    check_smtp(smtp)?;
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("smtp.from `{}`: {e}", smtp.from))?;
    let builder = match smtp.tls {
        SmtpTls::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host).port(25)
        }
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
            .map_err(|e| format!("smtp.host `{}`: {e}", smtp.host))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
            .map_err(|e| format!("smtp.host `{}`: {e}", smtp.host))?,
    };
    let mut builder = builder.timeout(Some(SMTP_TIMEOUT));
    if let Some(port) = smtp.port {
        builder = builder.port(port);
    }
    if let Some(user) = &smtp.username {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            smtp.password.clone().unwrap_or_default(),
        ));
    }
    Ok(Mailer {
        transport: builder.build(),
        from,
        retries: smtp.retries,
        backoff_ms: smtp.backoff_ms,
    })
}

// ---------------------------------------------------------------------------------------------
// Settings

/// A user's notification settings, as `GET /api/v1/notifications` answers them (the webhook
/// secret is never sent back, only whether one is set).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Settings {
    /// The address emails go to.
    pub email: Option<String>,
    /// Send emails.
    pub email_enabled: bool,
    /// The URL webhooks are posted to.
    pub webhook_url: Option<String>,
    /// Whether a webhook secret is set.
    pub webhook_secret_set: bool,
    /// The events notified.
    pub events: Vec<String>,
}

/// A change of settings (`PUT /api/v1/notifications`): the fields given are changed, the
/// others kept; `null` clears an address or URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    #[serde(default, with = "double_option")]
    email: Option<Option<String>>,
    #[serde(default)]
    email_enabled: Option<bool>,
    #[serde(default, with = "double_option")]
    webhook_url: Option<Option<String>>,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    events: Option<Vec<String>>,
}

/// `Some(None)` for an explicit `null`, `None` for a missing field.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// The stored settings, with the secret.
struct Stored {
    settings: Settings,
    secret: Option<String>,
}

async fn load(state: &AppState, user_id: &str) -> Result<Stored, sqlx::Error> {
    let row = sqlx::query(
        "SELECT email, email_enabled, webhook_url, webhook_secret, events \
         FROM notification_settings WHERE user_id = $1",
    )
    .bind(user_id.to_owned())
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else {
        return Ok(Stored {
            settings: Settings {
                email: None,
                email_enabled: false,
                webhook_url: None,
                webhook_secret_set: false,
                events: DEFAULT_EVENTS.map(str::to_owned).to_vec(),
            },
            secret: None,
        });
    };
    let secret: Option<String> = row.try_get("webhook_secret")?;
    let events: String = row.try_get("events")?;
    Ok(Stored {
        settings: Settings {
            email: row.try_get("email")?,
            email_enabled: row.try_get::<i64, _>("email_enabled")? != 0,
            webhook_url: row.try_get("webhook_url")?,
            webhook_secret_set: secret.is_some(),
            events: events
                .split(',')
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect(),
        },
        secret,
    })
}

/// `GET /api/v1/notifications`: the caller's settings.
pub async fn get_settings(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Settings>> {
    Ok(Json(load(&state, &user.id).await?.settings))
}

/// `PUT /api/v1/notifications`: changes the caller's settings; answers them as `GET` does.
pub async fn put_settings(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(update): JsonBody<SettingsUpdate>,
) -> ApiResult<Json<Settings>> {
    let Stored {
        mut settings,
        mut secret,
    } = load(&state, &user.id).await?;
    if let Some(email) = update.email {
        if let Some(address) = &email {
            address.parse::<Mailbox>().map_err(|e| {
                ApiError::bad_request(format!("invalid email address `{address}`: {e}"))
            })?;
        }
        settings.email = email;
    }
    if let Some(enabled) = update.email_enabled {
        settings.email_enabled = enabled;
    }
    if settings.email_enabled && settings.email.is_none() {
        return Err(ApiError::bad_request(
            "email notifications need an address: set `email`",
        ));
    }
    if let Some(url) = update.webhook_url {
        if let Some(url) = &url {
            check_webhook_url(url, state.options.webhooks.allow_private)?;
        }
        settings.webhook_url = url;
    }
    if let Some(new_secret) = update.webhook_secret {
        if new_secret.len() < 16 || new_secret.len() > 256 {
            return Err(ApiError::bad_request(
                "the webhook secret must be 16 to 256 bytes long",
            ));
        }
        secret = Some(new_secret);
    }
    if settings.webhook_url.is_some() && secret.is_none() {
        return Err(ApiError::bad_request(
            "a webhook needs a secret to sign its payloads: set `webhook_secret` (16 to 256 bytes)",
        ));
    }
    if let Some(events) = update.events {
        let mut chosen = Vec::new();
        for name in events {
            let event = Event::parse(&name).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown event `{name}`: use succeeded, failed or cancelled"
                ))
            })?;
            if !chosen.contains(&event.name().to_owned()) {
                chosen.push(event.name().to_owned());
            }
        }
        settings.events = chosen;
    }
    settings.webhook_secret_set = secret.is_some();
    sqlx::query(
        "INSERT INTO notification_settings \
         (user_id, email, email_enabled, webhook_url, webhook_secret, events, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (user_id) DO UPDATE SET email = $2, email_enabled = $3, webhook_url = $4, \
         webhook_secret = $5, events = $6, updated_at = $7",
    )
    .bind(user.id.clone())
    .bind(settings.email.clone())
    .bind(i64::from(settings.email_enabled))
    .bind(settings.webhook_url.clone())
    .bind(secret)
    .bind(settings.events.join(","))
    .bind(now())
    .execute(&state.db)
    .await?;
    audit(
        &state.db,
        Some(&user.id),
        "notification_settings",
        None,
        &format!(
            "email {}, webhook {}, events {}",
            if settings.email_enabled { "on" } else { "off" },
            if settings.webhook_url.is_some() {
                "on"
            } else {
                "off"
            },
            settings.events.join(",")
        ),
    )
    .await;
    Ok(Json(settings))
}

fn check_webhook_url(url: &str, allow_private: bool) -> Result<(), ApiError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ApiError::bad_request(format!("invalid webhook URL `{url}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ApiError::bad_request(format!(
            "invalid webhook URL `{url}`: use http:// or https:// and a host"
        )));
    }
    if !allow_private && !public_host(&parsed) {
        return Err(ApiError::bad_request(format!(
            "webhook URL `{url}`: internal addresses are not allowed (the server's \
             `[webhooks] allow_private` setting)"
        )));
    }
    Ok(())
}

/// Whether a URL's host may be reached when internal addresses are not allowed: an IP address
/// that is public, or a name other than `localhost` (names are checked again when resolved,
/// by [`PublicOnly`]).
fn public_host(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name != "localhost" && !name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local (where cloud metadata services answer), shared (100.64/10),
/// unspecified, broadcast, multicast or documentation space; an IPv4-mapped IPv6 address is
/// judged by its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// A resolver that drops internal addresses, so that a webhook's host name cannot lead the
/// server to an internal service (checked on the addresses actually connected to, so a name
/// that resolves differently later is caught too).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (internal addresses are not allowed)"
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Delivery

/// Sends the notifications of a run that ended, on a task of its own; returns at once.
pub fn run_ended(state: AppState, run_id: String, event: Event) {
    tokio::spawn(async move {
        if let Err(e) = notify_run(&state, &run_id, event).await {
            tracing::warn!(run = %run_id, "cannot send the run's notifications: {e}");
        }
    });
}

async fn notify_run(state: &AppState, run_id: &str, event: Event) -> Result<(), String> {
    let row = sqlx::query(
        "SELECT r.owner_id, r.model_id, r.version, r.status, r.error, r.error_kind, r.done, \
         r.total, r.created_at, r.started_at, r.finished_at, m.name \
         FROM runs r JOIN models m ON m.id = r.model_id WHERE r.id = $1",
    )
    .bind(run_id.to_owned())
    .fetch_optional(&state.db)
    .await
    .map_err(|e| format!("database: {e}"))?
    .ok_or("the run no longer exists")?;
    let owner: String = row.try_get("owner_id").map_err(|e| e.to_string())?;
    let stored = load(state, &owner)
        .await
        .map_err(|e| format!("database: {e}"))?;
    if !stored.settings.events.iter().any(|e| e == event.name()) {
        return Ok(());
    }
    let payload = payload(state, run_id, event, &row).map_err(|e| format!("database: {e}"))?;
    let body = payload.to_string();
    let event = format!("run.{}", event.name());
    // Both deliveries are queued before either is attempted: a daemon that stops now leaves
    // them to the next one.
    let mut email = None;
    if stored.settings.email_enabled
        && let (Some(address), Some(_)) = (&stored.settings.email, &state.notifier.mailer)
    {
        let id = enqueue(
            state,
            Channel::Email,
            &owner,
            run_id,
            &event,
            address,
            &body,
        )
        .await
        .map_err(|e| format!("cannot queue the email: {e}"))?;
        email = Some(id);
    }
    let mut webhook = None;
    if let Some(url) = &stored.settings.webhook_url
        && stored.secret.is_some()
    {
        let id = enqueue(state, Channel::Webhook, &owner, run_id, &event, url, &body)
            .await
            .map_err(|e| format!("cannot queue the webhook: {e}"))?;
        webhook = Some(id);
    }
    tokio::join!(
        async {
            if let Some(id) = &email {
                deliver_queued(state, Channel::Email, id).await;
            }
        },
        async {
            if let Some(id) = &webhook {
                deliver_queued(state, Channel::Webhook, id).await;
            }
        },
    );
    Ok(())
}

/// The webhook's JSON body (and what the email is written from).
fn payload(
    state: &AppState,
    run_id: &str,
    event: Event,
    row: &sqlx::any::AnyRow,
) -> Result<Value, sqlx::Error> {
    let link = |path: &str| {
        state
            .notifier
            .public_url
            .as_ref()
            .map(|base| format!("{base}/api/v1/runs/{run_id}{path}"))
    };
    Ok(json!({
        "event": format!("run.{}", event.name()),
        "run": {
            "id": run_id,
            "model_id": row.try_get::<String, _>("model_id")?,
            "model": row.try_get::<String, _>("name")?,
            "version": row.try_get::<i64, _>("version")?,
            "status": row.try_get::<String, _>("status")?,
            "error": row.try_get::<Option<String>, _>("error")?,
            "error_kind": row.try_get::<Option<String>, _>("error_kind")?,
            "done": row.try_get::<i64, _>("done")?,
            "total": row.try_get::<i64, _>("total")?,
            "created_at": row.try_get::<i64, _>("created_at")?,
            "started_at": row.try_get::<Option<i64>, _>("started_at")?,
            "finished_at": row.try_get::<Option<i64>, _>("finished_at")?,
            "url": link(""),
            "report_url": link("/report"),
        },
        "sent_at": now(),
    }))
}

/// The HMAC-SHA256 of `TIMESTAMP.BODY` with `secret`, in lower-case hex.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    crate::auth::hex(&mac.finalize().into_bytes())
}

/// The wait before retry `attempt` (1 for the first retry): `backoff_ms` doubled at each
/// retry, at most 5 minutes.
pub fn backoff(backoff_ms: u64, attempt: u32) -> Duration {
    let factor = 1u64
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u64::MAX);
    Duration::from_millis(backoff_ms.saturating_mul(factor)).min(MAX_BACKOFF)
}

/// How long a delivering process keeps its hold on a delivery beyond its next attempt and
/// that attempt's timeout, in milliseconds.
pub const LEASE_MARGIN_MS: i64 = 60_000;

/// How often a daemon looks for queued deliveries that no live process holds.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(15);

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The queued notifications: each channel has its table of deliveries, which the same code
/// queues, attempts, retries, leases and sweeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Webhooks (`webhook_deliveries`, a row removed once delivered or given up).
    Webhook,
    /// Emails (`email_deliveries`, a row kept, marked `sent` or `failed`).
    Email,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Channel::Webhook, Channel::Email];

    /// The channel's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }

    /// The table of its deliveries.
    pub fn table(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook_deliveries",
            Channel::Email => "email_deliveries",
        }
    }

    /// The column holding where a delivery goes.
    fn target(self) -> &'static str {
        match self {
            Channel::Webhook => "url",
            Channel::Email => "address",
        }
    }

    /// The condition, after `AND`, that a row is still to deliver: an email row stays once
    /// sent or failed, a webhook row does not.
    fn pending(self) -> &'static str {
        match self {
            Channel::Webhook => "TRUE",
            Channel::Email => "status = 'pending'",
        }
    }
}

/// A statement on a channel's table: `{table}`, `{target}` and `{pending}` in `sql` are
/// replaced by [`Channel::table`], [`Channel::target`] and [`Channel::pending`] (fixed names,
/// never user input).
fn on(channel: Channel, sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(
        sql.replace("{table}", channel.table())
            .replace("{target}", channel.target())
            .replace("{pending}", channel.pending()),
    )
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// Failed, and worth another attempt (no answer, a passing error).
    Retry(String),
    /// Failed for good (a permanent SMTP error, a webhook secret removed): no more attempts.
    GiveUp(String),
}

impl Notifier {
    /// Attempts after the first.
    fn retries(&self, channel: Channel) -> u32 {
        match channel {
            Channel::Webhook => self.webhooks.retries,
            Channel::Email => self.mailer.as_ref().map_or(0, |m| m.retries),
        }
    }

    /// The first wait before a retry, in milliseconds.
    fn backoff_ms(&self, channel: Channel) -> u64 {
        match channel {
            Channel::Webhook => self.webhooks.backoff_ms,
            Channel::Email => self.mailer.as_ref().map_or(0, |m| m.backoff_ms),
        }
    }

    /// The lease a delivery's holder takes until `at` (Unix milliseconds): past the attempt
    /// then due and its timeout, with [`LEASE_MARGIN_MS`] to spare.
    fn lease_until(&self, channel: Channel, at: i64) -> i64 {
        let timeout = match channel {
            Channel::Webhook => Duration::from_secs(self.webhooks.timeout_seconds.max(1)),
            Channel::Email => SMTP_TIMEOUT,
        };
        at.saturating_add(millis(timeout))
            .saturating_add(LEASE_MARGIN_MS)
    }
}

/// Queues a delivery on `channel` to `target` (a URL, an address), held by this process;
/// returns its id.
pub async fn enqueue(
    state: &AppState,
    channel: Channel,
    user_id: &str,
    run_id: &str,
    event: &str,
    target: &str,
    body: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id(match channel {
        Channel::Webhook => "d",
        Channel::Email => "e",
    });
    let at = now_ms();
    sqlx::query(on(
        channel,
        "INSERT INTO {table} (id, user_id, run_id, event, {target}, body, attempts, \
         next_at_ms, holder, held_until_ms, last_error, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, NULL, $10)",
    ))
    .bind(id.clone())
    .bind(user_id.to_owned())
    .bind(run_id.to_owned())
    .bind(event.to_owned())
    .bind(target.to_owned())
    .bind(body.to_owned())
    .bind(at)
    .bind(state.notifier.process.clone())
    .bind(state.notifier.lease_until(channel, at))
    .bind(now())
    .execute(&state.db)
    .await?;
    Ok(id)
}

/// Makes the attempts of a queued delivery this process holds, until it is delivered, out of
/// retries, or taken by another process; waits for each attempt's time.
pub async fn deliver_queued(state: &AppState, channel: Channel, id: &str) {
    let name = channel.name();
    match deliver_attempts(state, channel, id).await {
        Ok(Some(Ok(attempts))) => {
            tracing::info!(delivery = %id, attempts, "{name} delivered");
            state.metrics.notification(name, "delivered");
        }
        Ok(Some(Err(e))) => {
            tracing::warn!(delivery = %id, "{name} not delivered: {e}");
            state.metrics.notification(name, "failed");
        }
        // Another process holds it now (or it is gone, or this daemon is stopping): theirs to
        // finish.
        Ok(None) => {}
        Err(e) => tracing::warn!(delivery = %id, "{name} delivery interrupted: {e}"),
    }
}

/// `Some(Ok(attempts))` when delivered, `Some(Err(why))` when given up, `None` when no longer
/// held by this process.
async fn deliver_attempts(
    state: &AppState,
    channel: Channel,
    id: &str,
) -> Result<Option<Result<u32, String>>, sqlx::Error> {
    let notifier = &state.notifier;
    let process = notifier.process.clone();
    let retries = notifier.retries(channel);
    loop {
        let Some(row) = sqlx::query(on(
            channel,
            "SELECT user_id, {target} AS target, event, body, attempts, next_at_ms, last_error \
             FROM {table} WHERE id = $1 AND holder = $2 AND {pending}",
        ))
        .bind(id.to_owned())
        .bind(process.clone())
        .fetch_optional(&state.db)
        .await?
        else {
            return Ok(None);
        };
        let attempts = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
        let next_at: i64 = row.try_get("next_at_ms")?;
        if attempts > retries {
            // Left by a process that stopped after its last attempt.
            let last = row
                .try_get::<Option<String>, _>("last_error")?
                .unwrap_or_default();
            finish(state, channel, id, attempts, Some(&last)).await?;
            return Ok(Some(Err(last)));
        }
        let wait = next_at.saturating_sub(now_ms());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
        }
        if state
            .jobs
            .shutting_down
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(None);
        }
        // The lease covers this attempt.
        let renewed = sqlx::query(on(
            channel,
            "UPDATE {table} SET held_until_ms = $1 WHERE id = $2 AND holder = $3 AND {pending}",
        ))
        .bind(notifier.lease_until(channel, now_ms()))
        .bind(id.to_owned())
        .bind(process.clone())
        .execute(&state.db)
        .await?;
        if renewed.rows_affected() == 0 {
            return Ok(None);
        }
        let attempt = attempts + 1;
        let user_id: String = row.try_get("user_id")?;
        let target: String = row.try_get("target")?;
        let event: String = row.try_get("event")?;
        let body: String = row.try_get("body")?;
        let outcome = match channel {
            Channel::Webhook => {
                attempt_webhook(state, &user_id, &target, &event, id, attempt, &body).await?
            }
            Channel::Email => attempt_email(notifier, &target, id, &body).await,
        };
        let error = match outcome {
            Attempt::Delivered => {
                finish(state, channel, id, attempt, None).await?;
                return Ok(Some(Ok(attempt)));
            }
            Attempt::GiveUp(e) => {
                finish(state, channel, id, attempt, Some(&e)).await?;
                return Ok(Some(Err(e)));
            }
            Attempt::Retry(e) => e,
        };
        tracing::debug!(delivery = %id, attempt, "{} attempt failed: {error}", channel.name());
        if attempt > retries {
            let why = format!("{attempt} attempt(s) failed; the last: {error}");
            finish(state, channel, id, attempt, Some(&why)).await?;
            return Ok(Some(Err(why)));
        }
        let next = now_ms().saturating_add(millis(backoff(notifier.backoff_ms(channel), attempt)));
        let recorded = sqlx::query(on(
            channel,
            "UPDATE {table} SET attempts = $1, next_at_ms = $2, held_until_ms = $3, \
             last_error = $4 WHERE id = $5 AND holder = $6 AND {pending}",
        ))
        .bind(i64::from(attempt))
        .bind(next)
        .bind(notifier.lease_until(channel, next))
        .bind(error)
        .bind(id.to_owned())
        .bind(process.clone())
        .execute(&state.db)
        .await?;
        if recorded.rows_affected() == 0 {
            return Ok(None);
        }
    }
}

/// Ends a delivery after `attempts`: delivered (`error` None) or given up. A webhook's row is
/// removed; an email's is kept, marked `sent` or `failed`, with no holder.
async fn finish(
    state: &AppState,
    channel: Channel,
    id: &str,
    attempts: u32,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    match channel {
        Channel::Webhook => {
            sqlx::query("DELETE FROM webhook_deliveries WHERE id = $1")
                .bind(id.to_owned())
                .execute(&state.db)
                .await?;
        }
        Channel::Email => {
            sqlx::query(
                "UPDATE email_deliveries SET status = $1, attempts = $2, holder = NULL, \
                 held_until_ms = 0, last_error = COALESCE($3, last_error), finished_at = $4 \
                 WHERE id = $5",
            )
            .bind(if error.is_none() { "sent" } else { "failed" })
            .bind(i64::from(attempts))
            .bind(error.map(str::to_owned))
            .bind(now())
            .bind(id.to_owned())
            .execute(&state.db)
            .await?;
        }
    }
    Ok(())
}

/// One webhook attempt, signed with the user's secret as it is now (a webhook whose user
/// removed their secret is not sent).
async fn attempt_webhook(
    state: &AppState,
    user_id: &str,
    url: &str,
    event: &str,
    id: &str,
    attempt: u32,
    body: &str,
) -> Result<Attempt, sqlx::Error> {
    let Some(secret) = load(state, user_id).await?.secret else {
        return Ok(Attempt::GiveUp(
            "the user removed their webhook secret".to_owned(),
        ));
    };
    let client = &state.notifier.http;
    Ok(
        match post_webhook(client, url, &secret, event, id, attempt, body).await {
            Ok(()) => Attempt::Delivered,
            Err(e) => Attempt::Retry(e),
        },
    )
}

/// One email attempt: the message written from the run's payload, with the delivery's id as
/// its `Message-ID` (the same at every attempt); an SMTP server's permanent refusal (5xx) is
/// not retried.
async fn attempt_email(notifier: &Notifier, address: &str, id: &str, body: &str) -> Attempt {
    let Some(mailer) = &notifier.mailer else {
        return Attempt::GiveUp("no [smtp] server is configured".to_owned());
    };
    let payload: Value = match serde_json::from_str(body) {
        Ok(payload) => payload,
        Err(e) => return Attempt::GiveUp(format!("the queued email is unreadable: {e}")),
    };
    let message = match email(&mailer.from, address, id, &payload) {
        Ok(message) => message,
        Err(e) => return Attempt::GiveUp(e),
    };
    match mailer.transport.send(message).await {
        Ok(_) => Attempt::Delivered,
        Err(e) if e.is_permanent() => Attempt::GiveUp(crate::error::chain(&e)),
        Err(e) => Attempt::Retry(crate::error::chain(&e)),
    }
}

/// One attempt: posts `body` to `url`, signed; `Err` for no answer or a status other than 2xx.
async fn post_webhook(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    attempt: u32,
    body: &str,
) -> Result<(), String> {
    let timestamp = now();
    let result = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Mcsim-Event", event)
        .header("X-Mcsim-Delivery", delivery)
        .header("X-Mcsim-Attempt", attempt.to_string())
        .header("X-Mcsim-Timestamp", timestamp.to_string())
        .header(
            "X-Mcsim-Signature",
            format!("sha256={}", signature(secret.as_bytes(), timestamp, body)),
        )
        .body(body.to_owned())
        .send()
        .await;
    match result {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("the receiver answered {}", response.status())),
        Err(e) => Err(crate::error::chain(&e)),
    }
}

/// Takes over the queued deliveries on `channel` that no live process holds (left by a stopped
/// daemon, or by a replica whose lease ran out) and makes them, each on a task of its own;
/// returns how many. Each is claimed by one conditional `UPDATE`, so of two daemons sweeping
/// at once only one gets it.
pub async fn take_over(state: &AppState, channel: Channel) -> Result<usize, sqlx::Error> {
    let at = now_ms();
    let rows = sqlx::query(on(
        channel,
        "SELECT id, next_at_ms FROM {table} \
         WHERE (holder IS NULL OR held_until_ms < $1) AND {pending} \
         ORDER BY next_at_ms LIMIT 1000",
    ))
    .bind(at)
    .fetch_all(&state.db)
    .await?;
    let mut taken = 0;
    for row in rows {
        let id: String = row.try_get("id")?;
        let next_at: i64 = row.try_get("next_at_ms")?;
        let claimed = sqlx::query(on(
            channel,
            "UPDATE {table} SET holder = $1, held_until_ms = $2 \
             WHERE id = $3 AND (holder IS NULL OR held_until_ms < $4) AND {pending}",
        ))
        .bind(state.notifier.process.clone())
        .bind(state.notifier.lease_until(channel, next_at.max(at)))
        .bind(id.clone())
        .bind(at)
        .execute(&state.db)
        .await?;
        if claimed.rows_affected() == 1 {
            taken += 1;
            let state = state.clone();
            tokio::spawn(async move { deliver_queued(&state, channel, &id).await });
        }
    }
    Ok(taken)
}

/// The channels this daemon delivers: emails only with an `[smtp]` server (a daemon without
/// one leaves queued emails to one that has it).
fn channels(notifier: &Notifier) -> impl Iterator<Item = Channel> + '_ {
    Channel::ALL
        .into_iter()
        .filter(|c| *c != Channel::Email || notifier.mailer.is_some())
}

/// Resumes queued deliveries at startup, then every [`SWEEP_INTERVAL`] takes over those whose
/// holder stopped; runs until the daemon shuts down.
pub async fn resume_deliveries(state: AppState) {
    loop {
        for channel in channels(&state.notifier) {
            let name = channel.name();
            match take_over(&state, channel).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("{n} queued {name} delivery(ies) resumed"),
                Err(e) => tracing::warn!("cannot read the queued {name} deliveries: {e}"),
            }
        }
        tokio::time::sleep(SWEEP_INTERVAL).await;
        if state
            .jobs
            .shutting_down
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
    }
}

/// Gives back this process's leases (at a graceful shutdown), so that the next daemon to start
/// resumes those deliveries at once.
pub async fn release_deliveries(state: &AppState) {
    for channel in Channel::ALL {
        let name = channel.name();
        let result = sqlx::query(on(
            channel,
            "UPDATE {table} SET holder = NULL, held_until_ms = 0 \
             WHERE holder = $1 AND {pending}",
        ))
        .bind(state.notifier.process.clone())
        .execute(&state.db)
        .await;
        match result {
            Ok(done) if done.rows_affected() > 0 => tracing::info!(
                "{} {name} delivery(ies) left queued for the next start",
                done.rows_affected()
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot release the queued {name} deliveries: {e}"),
        }
    }
}

/// The email of a run's end, written from its payload; `id` (the delivery's) makes its
/// `Message-ID`, the same at every attempt, so a mail system can tell a repeat.
fn email(from: &Mailbox, to: &str, id: &str, payload: &Value) -> Result<Message, String> {
    let to: Mailbox = to
        .parse()
        .map_err(|e| format!("invalid email address `{to}`: {e}"))?;
    let run = &payload["run"];
    let text = |key: &str| run[key].as_str().unwrap_or("").to_owned();
    let status = text("status");
    let subject = format!(
        "mcsim: run {} of {} (version {}) {status}",
        text("id"),
        text("model"),
        run["version"]
    );
    let mut body = format!(
        "Run {} of model {} (version {}) {status}.\n\nIterations: {} of {}\n",
        text("id"),
        text("model"),
        run["version"],
        run["done"],
        run["total"]
    );
    if let Some(error) = run["error"].as_str() {
        body.push_str(&format!("Error: {error}\n"));
    }
    if let Some(url) = run["report_url"].as_str() {
        body.push_str(&format!("Report: {url}\n"));
    }
    body.push_str(&format!(
        "\nOr: mcsim results --remote {}\n\nYou get this email because of your notification \
         settings (PUT /api/v1/notifications).\n",
        text("id")
    ));
    Message::builder()
        .message_id(Some(format!("<{id}@mcsim>")))
        .from(from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| format!("cannot build the email: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // The HMAC itself: RFC 4231, test case 2.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            crate::auth::hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // "12.{}" signed with "secret": computed with Python's hmac module
        // (hmac.new(b"secret", b"12.{}", "sha256").hexdigest()).
        assert_eq!(
            signature(b"secret", 12, "{}"),
            "773e3168d620c0ffe05ebb73e13b0cded4fe6220daed68d8fcb2a796f2d784dc"
        );
        assert_ne!(
            signature(b"secret", 13, "{}"),
            signature(b"secret", 12, "{}")
        );
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(100, 1), Duration::from_millis(100));
        assert_eq!(backoff(100, 2), Duration::from_millis(200));
        assert_eq!(backoff(100, 4), Duration::from_millis(800));
        assert_eq!(backoff(1000, 40), MAX_BACKOFF);
        assert_eq!(backoff(u64::MAX, 70), MAX_BACKOFF);
    }

    #[test]
    fn updates_tell_null_from_missing() {
        let u: SettingsUpdate = serde_json::from_str(r#"{"email": null}"#).unwrap();
        assert_eq!(u.email, Some(None));
        assert_eq!(u.webhook_url, None);
        let u: SettingsUpdate =
            serde_json::from_str(r#"{"webhook_url": "http://h/x", "events": ["failed"]}"#).unwrap();
        assert_eq!(u.webhook_url, Some(Some("http://h/x".into())));
        assert!(serde_json::from_str::<SettingsUpdate>(r#"{"mail": "x"}"#).is_err());
    }

    #[test]
    fn webhook_urls_are_checked() {
        assert!(check_webhook_url("https://hooks.example.com/mcsim", false).is_ok());
        assert!(check_webhook_url("https://93.184.215.14/x", false).is_ok());
        assert!(check_webhook_url("ftp://example.com/", true).is_err());
        assert!(check_webhook_url("not a url", true).is_err());
        for internal in [
            "http://127.0.0.1:9/x",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/",
            "http://[::1]/",
            "http://[::ffff:192.168.1.1]/",
            "http://0.0.0.0/",
        ] {
            assert!(check_webhook_url(internal, false).is_err(), "{internal}");
            assert!(check_webhook_url(internal, true).is_ok(), "{internal}");
        }
    }

    #[test]
    fn internal_addresses_are_not_public() {
        let public = |s: &str| is_public(s.parse().unwrap());
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "100.128.0.1",
            "172.32.0.1",
        ] {
            assert!(public(ip), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.0.8",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!public(ip), "{ip}");
        }
    }

    #[tokio::test]
    async fn the_resolver_drops_internal_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match PublicOnly.resolve(name).await {
            Ok(_) => panic!("localhost resolved"),
            Err(e) => e.to_string(),
        };
        // (Where `localhost` does not resolve at all, the lookup's own error.)
        assert!(
            err.contains("no public address") || err.contains("lookup"),
            "{err}"
        );
    }
}
