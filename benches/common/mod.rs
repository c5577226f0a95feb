//! Helpers shared by the benchmark binaries: load accounting, medians, formatting.

#![allow(dead_code)]

use std::time::Instant;

/// CPU time counters read around a measurement, to tell how busy the rest of the machine was.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    /// Busy ticks over all CPUs (`/proc/stat`, everything but idle and iowait).
    busy: u64,
    /// All ticks over all CPUs.
    total: u64,
    /// This process's CPU ticks, its waited-for children included (`/proc/self/stat`).
    own: u64,
    at: Instant,
}

impl CpuSnapshot {
    /// Reads the counters now (zeros where `/proc` is unavailable).
    pub fn now() -> Self {
        let (busy, total) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let line = s.lines().next()?.to_owned();
                let v: Vec<u64> = line
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|x| x.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal guest guest_nice; guest time is
                // already counted in user.
                let total: u64 = v.iter().take(8).sum();
                let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
                Some((total - idle, total))
            })
            .unwrap_or((0, 0));
        let own = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let after = s.rsplit_once(')')?.1.to_owned();
                let f: Vec<u64> = after
                    .split_whitespace()
                    .map(|x| x.parse().unwrap_or(0))
                    .collect();
                // After the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
                Some(f.get(11)? + f.get(12)? + f.get(13)? + f.get(14)?)
            })
            .unwrap_or(0);
        CpuSnapshot {
            busy,
            total,
            own,
            at: Instant::now(),
        }
    }

    /// Cores that other processes kept busy between `self` and `later` (median-friendly, >= 0).
    pub fn other_load(&self, later: &CpuSnapshot) -> f64 {
        let total = later.total.saturating_sub(self.total);
        if total == 0 {
            return f64::NAN;
        }
        let busy = later.busy.saturating_sub(self.busy) as f64;
        let own = later.own.saturating_sub(self.own) as f64;
        ((busy - own) / total as f64 * ncpu() as f64).max(0.0)
    }

    /// Seconds between the two snapshots.
    pub fn secs(&self, later: &CpuSnapshot) -> f64 {
        later.at.duration_since(self.at).as_secs_f64()
    }
}

/// Logical CPUs.
pub fn ncpu() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The CPU model from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Median (NaN for an empty slice).
pub fn median(xs: &[f64]) -> f64 {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Min and max.
pub fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// `1.23 M`, `456.7 k`, `12.3`.
pub fn si(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.1}")
    }
}

/// Peak resident set of this process in KiB (`VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The value of `--name VALUE` among the arguments.
pub fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}
