//! Convergence of the mean and percentiles as iterations accumulate.

use serde::Serialize;

use crate::error::Result;
use crate::sorted::SortedColumn;
use crate::sum::StableSum;
use crate::summary::{
    Moments, PercentileValue, Z95, check_level, inc_positions, percentile_inc, percentile_inc_by,
};

/// The statistics after the first `iterations` samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvergencePoint {
    /// Iterations so far (including error iterations).
    pub iterations: usize,
    /// Valid (finite) samples among them.
    pub n: usize,
    /// Running mean of the valid samples.
    pub mean: f64,
    /// Half-width of the 95 % confidence interval of the mean, `1.96 * sd / sqrt(n)`.
    pub ci95_half_width: f64,
    /// The chosen percentiles of the valid samples so far ([`percentile_inc`]).
    pub percentiles: Vec<PercentileValue>,
}

/// Running mean, CI half-width and percentiles of `samples` (in iteration order) at
/// `checkpoints` evenly spaced points: after `ceil(k * len / checkpoints)` iterations for
/// `k = 1..=checkpoints` (the last is all samples; duplicates are removed when there are fewer
/// samples than checkpoints). `checkpoints = 20` gives the usual "every n/20". Non-finite samples
/// (error iterations) count as iterations but not in the statistics.
///
/// ```
/// use mcsim_results::convergence_trace;
/// let x: Vec<f64> = (1..=100).map(f64::from).collect();
/// let t = convergence_trace(&x, &[0.5], 4).unwrap();
/// assert_eq!(t.len(), 4);
/// assert_eq!((t[0].iterations, t[0].mean), (25, 13.0));
/// assert_eq!(t[3].percentiles[0].value, 50.5);
/// ```
pub fn convergence_trace(
    samples: &[f64],
    percentiles: &[f64],
    checkpoints: usize,
) -> Result<Vec<ConvergencePoint>> {
    for &p in percentiles {
        check_level("percentile", p, true)?;
    }
    convergence_trace_sorted(
        samples,
        &SortedColumn::new(samples),
        percentiles,
        checkpoints,
    )
}

/// Like [`convergence_trace`], with the column's sorted view `sorted` (which must be
/// [`SortedColumn::new`] of `samples`): the percentiles of each prefix are read from the one
/// sorted order (the values whose iteration falls in the prefix, in that order, are the sorted
/// prefix), so no prefix is sorted again. The result is identical.
pub fn convergence_trace_sorted(
    samples: &[f64],
    sorted: &SortedColumn,
    percentiles: &[f64],
    checkpoints: usize,
) -> Result<Vec<ConvergencePoint>> {
    for &p in percentiles {
        check_level("percentile", p, true)?;
    }
    let len = samples.len();
    let checkpoints = checkpoints.max(1);
    let mut ends: Vec<usize> = (1..=checkpoints)
        .map(|k| (k * len).div_ceil(checkpoints))
        .collect();
    ends.dedup();
    ends.retain(|&e| e > 0);

    let mut sum = StableSum::new();
    let mut start = 0;
    let mut out = Vec::with_capacity(ends.len());
    let mut wanted: Vec<(usize, f64)> = Vec::new();
    for end in ends {
        samples[start..end]
            .iter()
            .filter(|x| x.is_finite())
            .for_each(|&x| sum.add(x));
        let n = sum.count() as usize;
        let mean = if n > 0 {
            sum.value() / n as f64
        } else {
            f64::NAN
        };
        // The sample standard deviation of the prefix, two-pass around the running mean (the
        // same sums, in the same order, as `Moments::of(&samples[..end])`).
        let std_dev = if n > 1 {
            let mut m2 = StableSum::new();
            for &x in &samples[..end] {
                if x.is_finite() {
                    m2.add((x - mean) * (x - mean));
                }
            }
            (m2.value() / (n as f64 - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        out.push(ConvergencePoint {
            iterations: end,
            n,
            mean,
            ci95_half_width: Z95 * std_dev / (n as f64).sqrt(),
            percentiles: prefix_percentiles(sorted, end, n, percentiles, &mut wanted),
        });
        start = end;
    }
    Ok(out)
}

/// The `percentiles` of the `n` finite values among the first `end` iterations, read from the
/// column's sorted view by one scan (stopping at the largest position needed). `wanted` is
/// scratch space, reused between prefixes.
fn prefix_percentiles(
    sorted: &SortedColumn,
    end: usize,
    n: usize,
    percentiles: &[f64],
    wanted: &mut Vec<(usize, f64)>,
) -> Vec<PercentileValue> {
    wanted.clear();
    for &p in percentiles {
        for i in inc_positions(n, p) {
            wanted.push((i, f64::NAN));
        }
    }
    wanted.sort_by_key(|w| w.0);
    wanted.dedup_by_key(|w| w.0);
    if !wanted.is_empty() {
        // Branch-free counting: whether a value is in the prefix is unpredictable, so it is
        // added as 0 or 1, and only a hit on a wanted position branches.
        let mut next = 0;
        let mut target = wanted[0].0;
        let mut c = 0usize;
        for (&v, &i) in sorted.sorted.iter().zip(&sorted.order) {
            let inside = (i as usize) < end;
            if inside & (c == target) {
                while next < wanted.len() && wanted[next].0 == c {
                    wanted[next].1 = v;
                    next += 1;
                }
                if next == wanted.len() {
                    break;
                }
                target = wanted[next].0;
            }
            c += usize::from(inside);
        }
    }
    let at = |i: usize| {
        wanted
            .binary_search_by_key(&i, |w| w.0)
            .map_or(f64::NAN, |k| wanted[k].1)
    };
    percentiles
        .iter()
        .map(|&p| PercentileValue {
            p,
            value: percentile_inc_by(n, p, at),
        })
        .collect()
}

/// Like [`convergence_trace_sorted`] with ten checkpoints, taking each prefix's mean and
/// confidence interval from the block accumulator the simulation snapshotted there
/// (`prefixes`: the checkpoint's iteration count and the statistics of every iteration before
/// it), so the trace's last mean is the summary's, and no prefix is summed again. The
/// percentiles are read from `sorted` as [`convergence_trace_sorted`] reads them.
pub fn convergence_trace_from_stats(
    sorted: &SortedColumn,
    prefixes: &[(u64, crate::stream::BlockStats)],
    percentiles: &[f64],
) -> Result<Vec<ConvergencePoint>> {
    for &p in percentiles {
        check_level("percentile", p, true)?;
    }
    let ends: Vec<usize> = prefixes.iter().map(|(e, _)| *e as usize).collect();
    let index = PrefixIndex::new(sorted, &ends);
    let mut out = Vec::with_capacity(prefixes.len());
    let mut wanted: Vec<(usize, f64)> = Vec::new();
    for (k, (end, stats)) in prefixes.iter().enumerate() {
        let end = *end as usize;
        let n = stats.n() as usize;
        let percentiles = match &index {
            Some(index) => percentiles
                .iter()
                .map(|&p| PercentileValue {
                    p,
                    value: percentile_inc_by(n, p, |i| index.nth(k, i)),
                })
                .collect(),
            None => prefix_percentiles(sorted, end, n, percentiles, &mut wanted),
        };
        out.push(ConvergencePoint {
            iterations: end,
            n,
            mean: if n > 0 { stats.mean() } else { f64::NAN },
            ci95_half_width: Z95 * stats.std_dev() / (n as f64).sqrt(),
            percentiles,
        });
    }
    Ok(out)
}

/// Rows of the sorted view per chunk of [`PrefixIndex`].
const PREFIX_CHUNK: usize = 4096;

/// Order statistics of several prefixes of a column at once: the sorted view cut in chunks of
/// [`PREFIX_CHUNK`] values, with, per chunk and prefix, how many of the chunk's values come from
/// the prefix's iterations. One pass builds it; the `i`-th smallest value of a prefix is then
/// found by a binary search over chunks and a scan of one chunk, instead of a scan of the whole
/// view per prefix.
struct PrefixIndex<'a> {
    sorted: &'a SortedColumn,
    /// The prefixes' ends (iterations), ascending.
    ends: &'a [usize],
    /// `inside[c * k_len + k]`: values of prefix `k` in chunks `0 .. c` (`c` up to the chunk
    /// count, inclusive).
    inside: Vec<u32>,
    /// Chunks of the sorted view.
    chunks: usize,
}

impl<'a> PrefixIndex<'a> {
    /// `None` when the ends are not ascending or the view is too long for `u32` counts (the
    /// caller scans instead).
    fn new(sorted: &'a SortedColumn, ends: &'a [usize]) -> Option<Self> {
        if !ends.windows(2).all(|w| w[0] <= w[1]) || u32::try_from(sorted.order.len()).is_err() {
            return None;
        }
        let k_len = ends.len();
        let chunks = sorted.order.len().div_ceil(PREFIX_CHUNK);
        let mut inside = vec![0u32; (chunks + 1) * k_len];
        // Per chunk: how many values fall in each gap between ends (value of iteration `i` is
        // in gap `#{ends ≤ i}`, and in prefix k when its gap is at most k).
        let mut gap = vec![0u32; k_len + 1];
        for (c, chunk) in sorted.order.chunks(PREFIX_CHUNK).enumerate() {
            gap.iter_mut().for_each(|g| *g = 0);
            for &i in chunk {
                let i = i as usize;
                let g: usize = ends.iter().map(|&e| usize::from(e <= i)).sum();
                gap[g] += 1;
            }
            let mut acc = 0u32;
            for k in 0..k_len {
                acc += gap[k];
                inside[(c + 1) * k_len + k] = inside[c * k_len + k] + acc;
            }
        }
        Some(PrefixIndex {
            sorted,
            ends,
            inside,
            chunks,
        })
    }

    /// The `i`-th smallest (0-based) finite value among prefix `k`'s iterations (NaN when there
    /// are not that many).
    fn nth(&self, k: usize, i: usize) -> f64 {
        let (k_len, chunks) = (self.ends.len(), self.chunks);
        let at = |c: usize| self.inside[c * k_len + k] as usize;
        if k >= k_len || at(chunks) <= i {
            return f64::NAN;
        }
        // The first chunk c whose cumulative count through it exceeds i.
        let (mut lo, mut hi) = (0, chunks);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if at(mid + 1) > i {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let end = self.ends[k];
        let mut need = i - at(lo);
        let from = lo * PREFIX_CHUNK;
        let to = (from + PREFIX_CHUNK).min(self.sorted.order.len());
        for (&v, &row) in self.sorted.sorted[from..to]
            .iter()
            .zip(&self.sorted.order[from..to])
        {
            if (row as usize) < end {
                if need == 0 {
                    return v;
                }
                need -= 1;
            }
        }
        f64::NAN
    }
}

/// The state of a [`ConvergenceCheck`] after one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConvergenceStatus {
    /// Valid samples at this checkpoint.
    pub n: usize,
    /// Mean of the valid samples.
    pub mean: f64,
    /// Half-width of the 95 % CI of the mean.
    pub ci95_half_width: f64,
    /// `ci95_half_width / |mean|` (infinite when the mean is 0).
    pub relative_half_width: f64,
    /// The largest relative change of a chosen percentile since the previous checkpoint; `None`
    /// at the first checkpoint.
    pub max_percentile_change: Option<f64>,
    /// Whether the stopping rule is met (see [`ConvergenceCheck`]).
    pub converged: bool,
}

/// An incremental stopping rule for a simulation.
///
/// Call [`converged`](Self::converged) at each checkpoint (for example after every block of
/// iterations) with all samples so far, in iteration order. It returns `true` when, at once:
///
/// 1. there are at least `min_samples` valid samples;
/// 2. the mean is precise: the 95 % CI half-width `1.96 * sd / sqrt(n)` is at most
///    `tol * |mean|` (relative to the mean), or at most `abs_tol` (for outputs whose mean is near
///    0, where a relative rule never holds; `abs_tol` is 0 by default, so off);
/// 3. the percentiles are stable: each chosen percentile changed, since the **previous call**, by
///    at most `tol` relative to `max(|old|, |new|)` (or by at most `abs_tol` absolutely). The
///    first call has no previous checkpoint and so never converges.
///
/// Non-finite samples (error iterations) are ignored.
///
/// ```
/// use mcsim_results::ConvergenceCheck;
/// let mut check = ConvergenceCheck::new(0.01);
/// let x: Vec<f64> = (0..20_000).map(|i| 100.0 + ((i * 7919) % 1000) as f64 / 100.0).collect();
/// assert!(!check.converged(&x[..10_000])); // first checkpoint
/// assert!(check.converged(&x));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConvergenceCheck {
    /// Relative tolerance for the CI half-width and the percentile changes.
    pub tol: f64,
    /// Absolute tolerance that also passes either criterion (default 0).
    pub abs_tol: f64,
    /// Percentiles that must be stable, as fractions (default 5 %, 50 %, 95 %).
    pub percentiles: Vec<f64>,
    /// Minimum valid samples before convergence can be declared (default 100).
    pub min_samples: usize,
    last: Option<Vec<f64>>,
}

impl ConvergenceCheck {
    /// A check with relative tolerance `tol` and the defaults above.
    pub fn new(tol: f64) -> Self {
        Self {
            tol,
            abs_tol: 0.0,
            percentiles: vec![0.05, 0.5, 0.95],
            min_samples: 100,
            last: None,
        }
    }

    /// Sets the percentiles that must be stable (fractions in `[0, 1]`).
    pub fn with_percentiles(mut self, percentiles: &[f64]) -> Result<Self> {
        for &p in percentiles {
            check_level("percentile", p, true)?;
        }
        self.percentiles = percentiles.to_vec();
        Ok(self)
    }

    /// Sets the absolute tolerance.
    pub fn with_abs_tol(mut self, abs_tol: f64) -> Self {
        self.abs_tol = abs_tol;
        self
    }

    /// Sets the minimum number of valid samples.
    pub fn with_min_samples(mut self, min_samples: usize) -> Self {
        self.min_samples = min_samples;
        self
    }

    /// Records a checkpoint and says whether the rule is met; see [`ConvergenceCheck`].
    pub fn converged(&mut self, samples_so_far: &[f64]) -> bool {
        self.check(samples_so_far).converged
    }

    /// Like [`converged`](Self::converged), with the numbers behind the decision.
    pub fn check(&mut self, samples_so_far: &[f64]) -> ConvergenceStatus {
        let m = Moments::of(samples_so_far);
        let sorted = crate::summary::sorted_finite(samples_so_far);
        let now: Vec<f64> = self
            .percentiles
            .iter()
            .map(|&p| percentile_inc(&sorted, p))
            .collect();
        let half = Z95 * m.std_dev / (m.n as f64).sqrt();
        let relative = half / m.mean.abs();
        let change = self.last.as_ref().map(|old| {
            old.iter()
                .zip(&now)
                .map(|(&o, &v)| {
                    let d = (v - o).abs();
                    if d <= self.abs_tol {
                        0.0
                    } else {
                        d / o.abs().max(v.abs())
                    }
                })
                .fold(
                    0.0,
                    |a: f64, b| if b.is_nan() { f64::NAN } else { a.max(b) },
                )
        });
        let mean_ok = half <= self.tol * m.mean.abs() || half <= self.abs_tol;
        let pct_ok = change.is_some_and(|c| c <= self.tol);
        let converged = m.n >= self.min_samples && m.n >= 2 && mean_ok && pct_ok;
        self.last = Some(now);
        ConvergenceStatus {
            n: m.n,
            mean: m.mean,
            ci95_half_width: half,
            relative_half_width: relative,
            max_percentile_change: change,
            converged,
        }
    }

    /// Forgets the previous checkpoint.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The trace computed the plain way: every prefix sorted from scratch.
    fn reference(samples: &[f64], ps: &[f64], checkpoints: usize) -> Vec<ConvergencePoint> {
        let len = samples.len();
        let mut ends: Vec<usize> = (1..=checkpoints)
            .map(|k| (k * len).div_ceil(checkpoints))
            .collect();
        ends.dedup();
        ends.retain(|&e| e > 0);
        ends.into_iter()
            .map(|end| {
                let mut sorted: Vec<f64> = samples[..end]
                    .iter()
                    .copied()
                    .filter(|x| x.is_finite())
                    .collect();
                sorted.sort_by(f64::total_cmp);
                let m = Moments::of(&samples[..end]);
                ConvergencePoint {
                    iterations: end,
                    n: m.n,
                    mean: m.mean,
                    ci95_half_width: Z95 * m.std_dev / (m.n as f64).sqrt(),
                    percentiles: ps
                        .iter()
                        .map(|&p| PercentileValue {
                            p,
                            value: percentile_inc(&sorted, p),
                        })
                        .collect(),
                }
            })
            .collect()
    }

    #[test]
    fn trace_matches_sorting_every_prefix_bit_for_bit() {
        let mut s = 99u64;
        let x: Vec<f64> = (0..20_011)
            .map(|i| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                match i % 53 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => (u * 5.0).round(),
                    _ => (u - 0.4).powi(3) * 1e4,
                }
            })
            .collect();
        let ps = [0.0, 0.05, 0.5, 0.95, 1.0, 0.333];
        for (data, cp) in [(&x[..], 10), (&x[..7], 10), (&x[..1], 3), (&x[..0], 10)] {
            let got = convergence_trace(data, &ps, cp).unwrap();
            let want = reference(data, &ps, cp);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((g.iterations, g.n), (w.iterations, w.n));
                assert_eq!(g.mean.to_bits(), w.mean.to_bits());
                assert_eq!(g.ci95_half_width.to_bits(), w.ci95_half_width.to_bits());
                for (a, b) in g.percentiles.iter().zip(&w.percentiles) {
                    assert_eq!(a.value.to_bits(), b.value.to_bits(), "p {}", a.p);
                }
            }
        }
    }

    #[test]
    fn indexed_prefix_percentiles_equal_the_scan() {
        // Several chunks of the index, NaNs, ties and signed zeros; uneven and repeated ends.
        let mut s = 7u64;
        let x: Vec<f64> = (0..50_003)
            .map(|i| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                match i % 41 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    3 => (u * 3.0).round(),
                    _ => (u - 0.5) * 1e3,
                }
            })
            .collect();
        let sorted = SortedColumn::new(&x);
        let ps = [0.0, 0.05, 0.5, 0.95, 1.0, 0.333];
        let ends = [1usize, 4_095, 4_096, 4_097, 12_000, 12_000, 33_333, 50_003];
        let mut stats = crate::stream::BlockStats::new(&[]);
        let mut prefixes = Vec::new();
        let mut from = 0;
        for &e in &ends {
            stats.add_block(&x[from..e]);
            prefixes.push((e as u64, stats.clone()));
            from = e;
        }
        let got = convergence_trace_from_stats(&sorted, &prefixes, &ps).unwrap();
        let mut wanted = Vec::new();
        for (g, &e) in got.iter().zip(&ends) {
            let n = x[..e].iter().filter(|v| v.is_finite()).count();
            assert_eq!(g.n, n);
            let scan = prefix_percentiles(&sorted, e, n, &ps, &mut wanted);
            for (a, b) in g.percentiles.iter().zip(&scan) {
                assert_eq!(a.value.to_bits(), b.value.to_bits(), "end {e}, p {}", a.p);
            }
        }
    }

    #[test]
    fn trace_checkpoints() {
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        let t = convergence_trace(&x, &[0.0, 0.5, 1.0], 20).unwrap();
        assert_eq!(t.len(), 20);
        assert_eq!(t[0].iterations, 5);
        assert_eq!(t[0].mean, 3.0);
        assert_eq!(t[19].mean, 50.5);
        assert_eq!(t[9].percentiles[2].value, 50.0);
        assert_eq!(t[9].percentiles[1].value, 25.5);
        // sd of 1..=5 is sqrt(2.5).
        assert!((t[0].ci95_half_width - Z95 * 2.5f64.sqrt() / 5f64.sqrt()).abs() < 1e-12);
        // Fewer samples than checkpoints.
        let t = convergence_trace(&[1.0, f64::NAN, 3.0], &[0.5], 20).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!((t[1].iterations, t[1].n), (2, 1));
        assert_eq!(t[2].mean, 2.0);
        assert!(convergence_trace(&x, &[2.0], 5).is_err());
    }

    #[test]
    fn stopping_rule() {
        // Slowly drifting data never stabilises its percentiles at tol 1e-4.
        let x: Vec<f64> = (0..4000).map(|i| 1000.0 + i as f64).collect();
        let mut c = ConvergenceCheck::new(1e-4);
        assert!(!c.converged(&x[..2000]));
        let st = c.check(&x);
        assert!(!st.converged);
        assert!(st.max_percentile_change.unwrap() > 1e-4);

        // Stationary data with a mean far from 0 converges at 1 %.
        let y: Vec<f64> = (0..4000)
            .map(|i| 50.0 + ((i * 37) % 100) as f64 / 10.0)
            .collect();
        let mut c = ConvergenceCheck::new(0.01).with_min_samples(10);
        assert!(!c.converged(&y[..2000]));
        assert!(c.converged(&y));

        // Mean 0: the relative rule never holds; abs_tol rescues it.
        let z: Vec<f64> = (0..4000)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let mut c = ConvergenceCheck::new(0.01);
        c.converged(&z[..2000]);
        assert!(!c.converged(&z));
        let mut c = ConvergenceCheck::new(0.01).with_abs_tol(0.05);
        c.converged(&z[..2000]);
        assert!(c.converged(&z));
    }
}
