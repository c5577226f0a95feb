//! Prometheus metrics at `/metrics`, in the text exposition format: requests by route and
//! status, request latencies (a histogram per route), runs by state and the queue depth (read
//! from the database at each scrape, so every replica reports the shared queue), iterations
//! done and the current iterations per second, and notifications sent.
//!
//! Written by hand rather than with `metrics-exporter-prometheus`: the server has a handful of
//! series, all known here, and the exporter would add its registry, its recorder and their
//! dependencies (quanta, sketches, atomics crates) to the build for no gain.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row;

use crate::AppState;

/// The latency histogram's upper bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// One route's latencies.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Counts per bucket (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One route's counters.
#[derive(Debug, Default)]
struct RouteStats {
    /// (method, status, requests), a handful per route.
    requests: Vec<(String, u16, u64)>,
    latency: Histogram,
}

/// The counters the server keeps in memory (per process).
#[derive(Debug, Default)]
pub struct Metrics {
    /// route → (method, status, requests), and the route's latencies. Keyed by route so that
    /// counting a request of a known series allocates nothing.
    routes: Mutex<BTreeMap<String, RouteStats>>,
    /// Iterations simulated by this process.
    pub iterations: AtomicU64,
    /// (channel, result) → notifications.
    notifications: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// Counts a request to `route` (the route's pattern, not the path: ids would make a series
    /// per object).
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut map) = self.routes.lock() else {
            return;
        };
        if !map.contains_key(route) {
            map.insert(route.to_owned(), RouteStats::default());
        }
        let Some(stats) = map.get_mut(route) else {
            return;
        };
        match stats
            .requests
            .iter_mut()
            .find(|(m, s, _)| m == method && *s == status)
        {
            Some((_, _, n)) => *n += 1,
            None => stats.requests.push((method.to_owned(), status, 1)),
        }
        let h = &mut stats.latency;
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Counts a notification: `channel` is `email` or `webhook`, `result` `delivered` or
    /// `failed`.
    pub fn notification(&self, channel: &'static str, result: &'static str) {
        if let Ok(mut map) = self.notifications.lock() {
            *map.entry((channel, result)).or_default() += 1;
        }
    }

    /// The exposition of the in-memory counters.
    fn write_counters(&self, out: &mut String) {
        out.push_str(
            "# HELP mcsim_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE mcsim_http_requests_total counter\n");
        if let Ok(map) = self.routes.lock() {
            let mut series: Vec<(&str, &str, u16, u64)> = map
                .iter()
                .flat_map(|(route, stats)| {
                    stats.requests.iter().map(move |(method, status, n)| {
                        (method.as_str(), route.as_str(), *status, *n)
                    })
                })
                .collect();
            series.sort_unstable();
            for (method, route, status, n) in series {
                let _ = writeln!(
                    out,
                    "mcsim_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(method),
                    escape(route)
                );
            }
        }
        out.push_str(
            "# HELP mcsim_http_request_duration_seconds Time to answer a request (to its headers), by route.\n",
        );
        out.push_str("# TYPE mcsim_http_request_duration_seconds histogram\n");
        if let Ok(map) = self.routes.lock() {
            for (route, stats) in map.iter() {
                let h = &stats.latency;
                let route = escape(route);
                let mut cumulative = 0;
                for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                    cumulative += n;
                    let _ = writeln!(
                        out,
                        "mcsim_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "mcsim_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "mcsim_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "mcsim_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        out.push_str("# HELP mcsim_iterations_total Iterations simulated by this process.\n");
        out.push_str("# TYPE mcsim_iterations_total counter\n");
        let _ = writeln!(
            out,
            "mcsim_iterations_total {}",
            self.iterations.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP mcsim_notifications_total Notifications by channel and result (after retries).\n",
        );
        out.push_str("# TYPE mcsim_notifications_total counter\n");
        if let Ok(map) = self.notifications.lock() {
            for ((channel, result), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "mcsim_notifications_total{{channel=\"{channel}\",result=\"{result}\"}} {n}"
                );
            }
        }
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The run states reported even when no run is in them (so that a dashboard sees zeros).
const STATES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

/// The whole exposition: the counters, then the runs by state and the queue depth (from the
/// database), and this process's running jobs and their iterations per second.
pub async fn render(state: &AppState) -> Result<String, sqlx::Error> {
    let mut out = String::with_capacity(4096);
    state.metrics.write_counters(&mut out);
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM runs GROUP BY status")
        .fetch_all(&state.db)
        .await?;
    let mut by_state: BTreeMap<String, i64> = STATES.iter().map(|s| ((*s).to_owned(), 0)).collect();
    for row in rows {
        let status: String = row.try_get("status")?;
        let n: i64 = row.try_get("n")?;
        by_state.insert(status, n);
    }
    out.push_str("# HELP mcsim_runs Runs in the database by state.\n");
    out.push_str("# TYPE mcsim_runs gauge\n");
    for (status, n) in &by_state {
        let _ = writeln!(out, "mcsim_runs{{state=\"{}\"}} {n}", escape(status));
    }
    out.push_str("# HELP mcsim_queue_depth Runs waiting for a worker.\n");
    out.push_str("# TYPE mcsim_queue_depth gauge\n");
    let _ = writeln!(
        out,
        "mcsim_queue_depth {}",
        by_state.get("queued").copied().unwrap_or(0)
    );
    let (running, rate) = state.jobs.rates();
    out.push_str("# HELP mcsim_jobs_running Runs this process is executing.\n");
    out.push_str("# TYPE mcsim_jobs_running gauge\n");
    let _ = writeln!(out, "mcsim_jobs_running {running}");
    out.push_str(
        "# HELP mcsim_iterations_per_second Iterations per second of the runs this process is executing (since each started).\n",
    );
    out.push_str("# TYPE mcsim_iterations_per_second gauge\n");
    let _ = writeln!(out, "mcsim_iterations_per_second {rate}");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_are_exposed() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/runs/{id}", 200, Duration::from_millis(3));
        m.request("GET", "/api/v1/runs/{id}", 200, Duration::from_millis(30));
        m.request("GET", "/api/v1/runs/{id}", 404, Duration::from_secs(20));
        m.request("POST", "a\"b", 500, Duration::from_millis(1));
        m.notification("webhook", "delivered");
        m.iterations.fetch_add(1234, Ordering::Relaxed);
        let mut out = String::new();
        m.write_counters(&mut out);
        assert!(out.contains(
            "mcsim_http_requests_total{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"200\"} 2\n"
        ));
        assert!(out.contains(
            "mcsim_http_requests_total{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"404\"} 1\n"
        ));
        assert!(out.contains("route=\"a\\\"b\""), "{out}");
        // Cumulative buckets: 3 ms falls in le=0.005, 30 ms in le=0.05, 20 s only in +Inf.
        let bucket = |le: &str| {
            format!(
                "mcsim_http_request_duration_seconds_bucket{{route=\"/api/v1/runs/{{id}}\",le=\"{le}\"}} "
            )
        };
        let value = |le: &str| -> u64 {
            let key = bucket(le);
            let line = out.lines().find(|l| l.starts_with(&key)).unwrap();
            line[key.len()..].parse().unwrap()
        };
        assert_eq!(value("0.0025"), 0);
        assert_eq!(value("0.005"), 1);
        assert_eq!(value("0.05"), 2);
        assert_eq!(value("10"), 2);
        assert_eq!(value("+Inf"), 3);
        assert!(out.contains(
            "mcsim_http_request_duration_seconds_count{route=\"/api/v1/runs/{id}\"} 3\n"
        ));
        assert!(out.contains("mcsim_iterations_total 1234\n"));
        assert!(
            out.contains("mcsim_notifications_total{channel=\"webhook\",result=\"delivered\"} 1\n")
        );
    }
}
