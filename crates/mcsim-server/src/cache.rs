//! In-process caches on the request path, so that a request reading a run costs one database
//! query (the access check) instead of three or four:
//!
//! - [`TokenCache`]: bearer token (its SHA-256) → the user it authenticates, for
//!   [`TOKEN_CACHE_TTL`]. Logout, disabling an account and a password change forget the
//!   entries they end in this process at once. With several replicas behind one database, a
//!   token revoked on another replica (logout, disable, password change) is still accepted
//!   here for up to [`TOKEN_CACHE_TTL`]; an expired token never is (the expiry is checked at
//!   every request).
//! - [`ReportCache`]: a finished run's report, as the JSON text stored in the database. A
//!   report never changes once its run has finished, so the cache needs no invalidation beyond
//!   the deletion of the run (runs' ids are never reused, and the access check that precedes
//!   every read fails for a deleted run anyway). Bounded by [`REPORT_CACHE_BYTES`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::auth::AuthUser;

/// How long a token's user is taken from the cache before the database is asked again.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);

/// Tokens kept at most (past it, stale entries are dropped, then all if needed).
const MAX_TOKENS: usize = 100_000;

/// The reports' total size kept at most, in bytes.
pub const REPORT_CACHE_BYTES: usize = 64 << 20;

/// One cached token.
#[derive(Debug, Clone)]
struct CachedUser {
    user: AuthUser,
    expires_at: i64,
    cached_at: Instant,
}

/// Bearer token hash → user, for [`TOKEN_CACHE_TTL`].
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, CachedUser>>,
}

impl TokenCache {
    /// The user of the token whose hash is `token_hash` and the token's expiry (Unix seconds),
    /// if cached less than [`TOKEN_CACHE_TTL`] ago.
    pub fn get(&self, token_hash: &str) -> Option<(AuthUser, i64)> {
        let map = self.entries.lock().ok()?;
        let entry = map.get(token_hash)?;
        (entry.cached_at.elapsed() < TOKEN_CACHE_TTL)
            .then(|| (entry.user.clone(), entry.expires_at))
    }

    /// Remembers a token the database accepted.
    pub fn insert(&self, user: &AuthUser, expires_at: i64) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= MAX_TOKENS {
            map.retain(|_, e| e.cached_at.elapsed() < TOKEN_CACHE_TTL);
            if map.len() >= MAX_TOKENS {
                map.clear();
            }
        }
        map.insert(
            user.token_hash.clone(),
            CachedUser {
                user: user.clone(),
                expires_at,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets one token (logout).
    pub fn forget_token(&self, token_hash: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(token_hash);
        }
    }

    /// Forgets every token of a user but `keep` (disabled account, password change).
    pub fn forget_user(&self, user_id: &str, keep: Option<&str>) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|hash, e| e.user.id != user_id || keep == Some(hash.as_str()));
        }
    }
}

/// Finished runs' reports, by run id, at most [`REPORT_CACHE_BYTES`] in all.
#[derive(Debug, Default)]
pub struct ReportCache {
    inner: Mutex<Reports>,
}

#[derive(Debug, Default)]
struct Reports {
    by_run: HashMap<String, Bytes>,
    bytes: usize,
}

impl ReportCache {
    /// The report of a finished run, if cached.
    pub fn get(&self, run_id: &str) -> Option<Bytes> {
        self.inner.lock().ok()?.by_run.get(run_id).cloned()
    }

    /// Keeps the report of a finished run (one larger than a quarter of the budget is not
    /// kept); older entries make room, in no particular order.
    pub fn insert(&self, run_id: &str, report: Bytes) {
        if report.len() > REPORT_CACHE_BYTES / 4 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(old) = inner.by_run.remove(run_id) {
            inner.bytes -= old.len();
        }
        while inner.bytes + report.len() > REPORT_CACHE_BYTES {
            let Some(victim) = inner.by_run.keys().next().cloned() else {
                break;
            };
            if let Some(old) = inner.by_run.remove(&victim) {
                inner.bytes -= old.len();
            }
        }
        inner.bytes += report.len();
        inner.by_run.insert(run_id.to_owned(), report);
    }

    /// Forgets a run's report (the run was deleted).
    pub fn forget(&self, run_id: &str) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(old) = inner.by_run.remove(run_id)
        {
            inner.bytes -= old.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, hash: &str) -> AuthUser {
        AuthUser {
            id: id.into(),
            username: format!("name-{id}"),
            is_admin: false,
            token_hash: hash.into(),
        }
    }

    #[test]
    fn tokens_are_forgotten_by_token_and_by_user() {
        let cache = TokenCache::default();
        cache.insert(&user("u1", "h1"), 100);
        cache.insert(&user("u1", "h2"), 200);
        cache.insert(&user("u2", "h3"), 300);
        let (found, expires) = cache.get("h2").unwrap();
        assert_eq!((found.id.as_str(), expires), ("u1", 200));
        cache.forget_token("h1");
        assert!(cache.get("h1").is_none());
        assert!(cache.get("h2").is_some());
        // A password change keeps the token it was made with.
        cache.insert(&user("u1", "h1"), 100);
        cache.forget_user("u1", Some("h2"));
        assert!(cache.get("h1").is_none());
        assert!(cache.get("h2").is_some());
        cache.forget_user("u1", None);
        assert!(cache.get("h2").is_none());
        assert_eq!(cache.get("h3").unwrap().0.id, "u2");
    }

    #[test]
    fn reports_stay_within_the_budget() {
        let cache = ReportCache::default();
        let chunk = REPORT_CACHE_BYTES / 8;
        for i in 0..20 {
            cache.insert(&format!("r{i}"), Bytes::from(vec![b'x'; chunk]));
            let inner = cache.inner.lock().unwrap();
            assert!(inner.bytes <= REPORT_CACHE_BYTES);
            assert_eq!(
                inner.bytes,
                inner.by_run.values().map(Bytes::len).sum::<usize>()
            );
        }
        assert!(cache.get("r19").is_some());
        cache.forget("r19");
        assert!(cache.get("r19").is_none());
        // Too large to keep.
        cache.insert("big", Bytes::from(vec![b'x'; REPORT_CACHE_BYTES / 2]));
        assert!(cache.get("big").is_none());
        // Replacing an entry counts its size once.
        cache.insert("r0", Bytes::from_static(b"{}"));
        cache.insert("r0", Bytes::from_static(b"{}"));
        let inner = cache.inner.lock().unwrap();
        assert_eq!(
            inner.bytes,
            inner.by_run.values().map(Bytes::len).sum::<usize>()
        );
    }
}
