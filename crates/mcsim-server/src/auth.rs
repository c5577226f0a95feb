//! Accounts: argon2id password hashes, random bearer tokens stored as SHA-256 hashes with an
//! expiry, the authenticated-user extractor, and the login rate limiter.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::AppState;
use crate::error::ApiError;

/// How long a login token is valid by default (30 days).
pub const TOKEN_TTL_SECONDS: i64 = 30 * 24 * 3600;

/// Fills `out` from the operating system's random source. Failure to read it is not
/// recoverable for a server that issues tokens, so the process stops rather than issue
/// predictable ones.
pub fn random_bytes(out: &mut [u8]) {
    if let Err(e) = getrandom::fill(out) {
        tracing::error!("the operating system's random source failed: {e}");
        std::process::abort();
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The argon2id hash of a password, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Does `password` match the stored PHC string?
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// Checks a new account's name: 1 to 64 letters, digits, `.`, `_` or `-`.
pub fn check_username(name: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(ApiError::bad_request(format!(
            "invalid user name `{name}`: use 1 to 64 letters, digits, '.', '_' or '-'"
        )));
    }
    Ok(())
}

/// Checks a new password: 8 to 1024 characters.
pub fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 8 {
        return Err(ApiError::bad_request(
            "the password is too short: use at least 8 characters",
        ));
    }
    if password.len() > 1024 {
        return Err(ApiError::bad_request(
            "the password is too long: at most 1024 bytes",
        ));
    }
    Ok(())
}

/// A new token: the secret given to the client, and the hash stored.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    random_bytes(&mut bytes);
    let token = format!("mcs_{}", hex(&bytes));
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

/// The user a request is made by (from its `Authorization: Bearer` token).
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user's id.
    pub id: String,
    /// The user's name.
    pub username: String,
    /// An administrator.
    pub is_admin: bool,
    /// The hash of the token used (for logout).
    pub token_hash: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("not logged in: run `mcsim login`"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not `Bearer TOKEN`")
            })?;
        let hash = sha256_hex(token.as_bytes());
        let now = crate::db::now();
        if let Some((user, expires_at)) = state.tokens.get(&hash) {
            if expires_at <= now {
                state.tokens.forget_token(&hash);
                return Err(expired());
            }
            return Ok(user);
        }
        let row = sqlx::query(
            "SELECT u.id, u.username, u.is_admin, u.disabled, t.expires_at \
             FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = CAST($1 AS TEXT)",
        )
        .bind(hash.clone())
        .fetch_optional(&state.db)
        .await?;
        let Some(row) = row else {
            return Err(ApiError::unauthorized(
                "not logged in: the token is not valid (run `mcsim login`)",
            ));
        };
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now {
            return Err(expired());
        }
        if row.try_get::<i64, _>("disabled")? != 0 {
            return Err(ApiError::forbidden("this account is disabled"));
        }
        let user = AuthUser {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            is_admin: row.try_get::<i64, _>("is_admin")? != 0,
            token_hash: hash,
        };
        state.tokens.insert(&user, expires_at);
        Ok(user)
    }
}

fn expired() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "token_expired",
        "the token has expired: run `mcsim login` again",
    )
}

/// Failed login attempts allowed per account and per address in [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// The rate limiter's window.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed logins per account and per client address; past [`MAX_FAILURES`] in
/// [`WINDOW`], logins are refused (429) until the window ends. In memory: a restart forgets
/// (the argon2 cost still bounds guessing).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    fn keys(user: &str, ip: IpAddr) -> [String; 2] {
        [format!("user:{user}"), format!("ip:{ip}")]
    }

    /// `Err(seconds to wait)` when this account or address is locked out.
    pub fn check(&self, user: &str, ip: IpAddr) -> Result<(), u64> {
        let Ok(mut map) = self.failures.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        map.retain(|_, (_, start)| now.duration_since(*start) < WINDOW);
        for key in Self::keys(user, ip) {
            if let Some((count, start)) = map.get(&key)
                && *count >= MAX_FAILURES
            {
                let left = WINDOW.saturating_sub(now.duration_since(*start));
                return Err(left.as_secs().max(1));
            }
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn failed(&self, user: &str, ip: IpAddr) {
        if let Ok(mut map) = self.failures.lock() {
            let now = Instant::now();
            for key in Self::keys(user, ip) {
                let entry = map.entry(key).or_insert((0, now));
                entry.0 += 1;
            }
        }
    }

    /// Forgets the account's failures after a successful login.
    pub fn succeeded(&self, user: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("user:{user}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let stored = hash_password("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("wrong horse", &stored));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(ha, sha256_hex(a.as_bytes()));
        assert_eq!(ha.len(), 64);
    }

    #[test]
    fn limiter_locks_after_failures() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("bob", ip).is_ok());
            limiter.failed("bob", ip);
        }
        assert!(limiter.check("bob", ip).is_err());
        // The address is locked out for other accounts too.
        assert!(limiter.check("carol", ip).is_err());
        let other: IpAddr = "10.0.0.1".parse().unwrap();
        limiter.succeeded("bob");
        assert!(limiter.check("bob", other).is_ok());
    }
}
