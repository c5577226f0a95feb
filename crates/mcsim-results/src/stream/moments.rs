//! Mergeable moments, extremes, error and target counts of one column.

use serde::{Deserialize, Serialize};

use crate::sorted::key;

/// A double-double number `hi + lo` (about 106 bits of precision).
pub(crate) type Dd = [f64; 2];

#[inline]
pub(crate) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

#[inline]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `x + y` in double-double.
#[inline]
pub(crate) fn dd_add(x: Dd, y: Dd) -> Dd {
    let (s1, s2) = two_sum(x[0], y[0]);
    let (t1, t2) = two_sum(x[1], y[1]);
    let (s1, s2) = fast_two_sum(s1, s2 + t1);
    let (h, l) = fast_two_sum(s1, s2 + t2);
    [h, l]
}

/// `x + y` for a double-double `x` and a double `y`.
#[inline]
pub(crate) fn dd_add_f64(x: Dd, y: f64) -> Dd {
    let (s, e) = two_sum(x[0], y);
    let (h, l) = fast_two_sum(s, e + x[1]);
    [h, l]
}

/// `x / n` in double-double (`n < 2^53`).
pub(crate) fn dd_div(x: Dd, n: f64) -> Dd {
    let q1 = x[0] / n;
    // r = x[0] - q1 * n exactly (fused multiply-add).
    let r = (-q1).mul_add(n, x[0]);
    let q2 = (r + x[1]) / n;
    let (h, l) = fast_two_sum(q1, q2);
    [h, l]
}

/// Four double-double accumulators as separate `hi` and `lo` lanes (see
/// [`BlockStats::add_block`]).
#[derive(Default)]
struct Lanes {
    hi: [f64; 4],
    lo: [f64; 4],
}

/// `if keep { a } else { b }` as a bit mask (`keep` = all ones or zero), which vectorises.
#[inline(always)]
fn select(keep: u64, a: f64, b: f64) -> f64 {
    f64::from_bits((a.to_bits() & keep) | (b.to_bits() & !keep))
}

impl Lanes {
    /// Lane `l` += `y[l]` ([`dd_add_f64`]'s operations) where `keep[l]` is all ones; unchanged
    /// where it is zero.
    #[inline(always)]
    fn add(&mut self, y: [f64; 4], keep: [u64; 4]) {
        let mut hi = [0.0; 4];
        let mut lo = [0.0; 4];
        for l in 0..4 {
            let (h0, l0) = (self.hi[l], self.lo[l]);
            let s = h0 + y[l];
            let bb = s - h0;
            let e = (h0 - (s - bb)) + (y[l] - bb);
            let t = e + l0;
            let h = s + t;
            hi[l] = select(keep[l], h, h0);
            lo[l] = select(keep[l], t - (h - s), l0);
        }
        self.hi = hi;
        self.lo = lo;
    }

    /// `(lane 0 + lane 1) + (lane 2 + lane 3)` in double-double.
    fn fold(&self) -> Dd {
        let d = |l: usize| [self.hi[l], self.lo[l]];
        dd_add(dd_add(d(0), d(1)), dd_add(d(2), d(3)))
    }
}

/// The masks of four values: all ones where finite.
#[inline(always)]
fn finite_mask(x: [f64; 4]) -> [u64; 4] {
    x.map(|v| 0u64.wrapping_sub(u64::from(v.is_finite())))
}

/// `xs` four values at a time, the last values padded with NaN (an error, which leaves every
/// lane unchanged).
#[inline(always)]
fn quads(xs: &[f64]) -> (&[[f64; 4]], Option<[f64; 4]>) {
    let (quads, rest) = xs.as_chunks::<4>();
    let tail = (!rest.is_empty()).then(|| {
        let mut x = [f64::NAN; 4];
        x[..rest.len()].copy_from_slice(rest);
        x
    });
    (quads, tail)
}

/// The first pass of [`BlockStats::add_block`]: per lane, the sum, the count of finite values
/// and the extremes by the signed form of the order-preserving key (signed order of
/// `key ^ 2^63` = unsigned order of `key` = `total_cmp`), which vectors compare; an error
/// compares as the identity of min (max).
struct FirstPass {
    sum: Lanes,
    counts: [u64; 4],
    kmin: [i64; 4],
    kmax: [i64; 4],
}

impl FirstPass {
    #[inline(always)]
    fn step(&mut self, x: [f64; 4]) {
        let keep = finite_mask(x);
        self.sum.add(x, keep);
        for l in 0..4 {
            self.counts[l] += keep[l] & 1;
            let (k, m) = (skey(x[l]), keep[l] as i64);
            self.kmin[l] = self.kmin[l].min((k & m) | (i64::MAX & !m));
            self.kmax[l] = self.kmax[l].max((k & m) | (i64::MIN & !m));
        }
    }
}

/// The second pass of [`BlockStats::add_block`]: per lane, the central moment sums around
/// `mean`.
struct CentralPass {
    mean: Dd,
    s2: Lanes,
    s3: Lanes,
    s4: Lanes,
}

impl CentralPass {
    #[inline(always)]
    fn step(&mut self, x: [f64; 4]) {
        let keep = finite_mask(x);
        let d = x.map(|x| (x - self.mean[0]) - self.mean[1]);
        let d2 = d.map(|d| d * d);
        self.s2.add(d2, keep);
        self.s3.add(
            [d2[0] * d[0], d2[1] * d[1], d2[2] * d[2], d2[3] * d[3]],
            keep,
        );
        self.s4.add(d2.map(|v| v * v), keep);
    }
}

/// The order-preserving key of `x` ([`key`]) as a signed integer: `key(x) ^ 2^63`, so that
/// signed order is [`f64::total_cmp`]'s.
#[inline(always)]
fn skey(x: f64) -> i64 {
    (key(x) ^ (1 << 63)) as i64
}

/// Inverse of [`skey`], as a [`key`].
#[inline]
fn unskey(k: i64) -> u64 {
    (k as u64) ^ (1 << 63)
}

/// Accumulator of one column over one or more consecutive blocks of iterations. Merged in block
/// order.
///
/// Holds the count of finite values, the count of errors (NaN or infinite values), the sum and
/// the central moment sums `M2 = Σ(x-mean)²`, `M3`, `M4` (double-double), the minimum and maximum
/// (by [`f64::total_cmp`], as a sorted column gives them) and, per target `t`, the counts of
/// values `< t` and `<= t` (exact integers, so target probabilities equal the sorted-array ones
/// bit for bit).
///
/// Moments: [`BlockStats::add_block`] computes a block's mean with a compensated sum and its
/// central moments two-pass around it; [`BlockStats::merge`] combines two consecutive ranges by
/// the pairwise update of Chan et al. / Pébay (2008), with the running sum and moment sums in
/// double-double. Accuracy (measured against exact rational moments in the tests): the mean is the
/// correctly rounded or one-ulp-off `sum / n`; variance, skewness and kurtosis are within about
/// `1e-14` relative of the exact values, and differ from [`Summary::compute`](crate::Summary)'s
/// two-pass figures only in the last bits.
///
/// Determinism contract: the floating-point merge is not associative, so the result depends on
/// the sequence of merges. Callers fold per-block stats **strictly left to right in block
/// order** (`acc.merge(&b0); acc.merge(&b1); ...`) with fixed block boundaries; then the bits are
/// the same whatever thread computed which block, i.e. for any thread count. Grouping merges
/// differently (`(b0+b1)+(b2+b3)`) gives results equal only to ~1e-15.
///
/// Serializes without NaN (an empty accumulator has `min`/`max` `None` and zero sums), so it
/// round-trips through JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockStats {
    n: u64,
    errors: u64,
    sum: Dd,
    m2: Dd,
    m3: Dd,
    m4: Dd,
    min: Option<f64>,
    max: Option<f64>,
    targets: Vec<f64>,
    below: Vec<u64>,
    at_or_below: Vec<u64>,
}

impl BlockStats {
    /// An empty accumulator counting values below each of `targets`.
    pub fn new(targets: &[f64]) -> Self {
        BlockStats {
            n: 0,
            errors: 0,
            sum: [0.0; 2],
            m2: [0.0; 2],
            m3: [0.0; 2],
            m4: [0.0; 2],
            min: None,
            max: None,
            targets: targets.to_vec(),
            below: vec![0; targets.len()],
            at_or_below: vec![0; targets.len()],
        }
    }

    /// A one-block accumulator without targets from its parts, as a backend that folded the
    /// block elsewhere reports them (the CUDA reduction kernel computes `add_block`'s operations
    /// on the device): `n` finite values, `errors`, the double-double sum and central moment sums,
    /// and the extremes (`None` when `n = 0`). Merge such blocks in block order, as the type's
    /// determinism contract asks.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        n: u64,
        errors: u64,
        sum: [f64; 2],
        m2: [f64; 2],
        m3: [f64; 2],
        m4: [f64; 2],
        min: Option<f64>,
        max: Option<f64>,
    ) -> Self {
        BlockStats {
            n,
            errors,
            sum,
            m2,
            m3,
            m4,
            min,
            max,
            targets: Vec::new(),
            below: Vec::new(),
            at_or_below: Vec::new(),
        }
    }

    /// One block's values (NaN or infinite = error iteration). Computes the block's moments
    /// two-pass within the block, then merges them after the values already held.
    pub fn add_block(&mut self, xs: &[f64]) {
        // Four interleaved double-double accumulators per sum (value `j` goes to lane `j % 4`):
        // a double-double addition is a chain of dependent operations, so one accumulator would
        // wait on the previous value's; four independent chains, combined at the end in a fixed
        // order, keep the pipeline full (the result depends only on the block's values, never on
        // threads). The lanes are kept as separate `hi`/`lo` arrays and an error value leaves
        // its lane unchanged by a select rather than a branch, so the four lanes run as one
        // 256-bit vector: the same operations on the same values, bit for bit, as lane-by-lane
        // scalar code.
        let mut b = BlockStats::new(&self.targets);
        let mut first = FirstPass {
            sum: Lanes::default(),
            counts: [0; 4],
            kmin: [i64::MAX; 4],
            kmax: [i64::MIN; 4],
        };
        let (full, tail) = quads(xs);
        for &q in full {
            first.step(q);
        }
        if let Some(q) = tail {
            first.step(q);
        }
        let FirstPass {
            sum: lanes,
            counts,
            kmin,
            kmax,
        } = first;
        b.n = counts.iter().sum();
        b.errors = xs.len() as u64 - b.n;
        for (t, (bl, ab)) in self
            .targets
            .iter()
            .zip(b.below.iter_mut().zip(b.at_or_below.iter_mut()))
        {
            let t = *t;
            *bl = xs.iter().map(|&x| u64::from(x.is_finite() & (x < t))).sum();
            *ab = xs
                .iter()
                .map(|&x| u64::from(x.is_finite() & (x <= t)))
                .sum();
        }
        if b.n > 0 {
            let sum = lanes.fold();
            let mean = dd_div(sum, b.n as f64);
            let mut central = CentralPass {
                mean,
                s2: Lanes::default(),
                s3: Lanes::default(),
                s4: Lanes::default(),
            };
            for &q in full {
                central.step(q);
            }
            if let Some(q) = tail {
                central.step(q);
            }
            let CentralPass { s2, s3, s4, .. } = central;
            b.sum = sum;
            b.m2 = s2.fold();
            b.m3 = s3.fold();
            b.m4 = s4.fold();
            let lo = kmin.iter().copied().min().unwrap_or(i64::MAX);
            let hi = kmax.iter().copied().max().unwrap_or(i64::MIN);
            b.min = Some(crate::sorted::unkey(unskey(lo)));
            b.max = Some(crate::sorted::unkey(unskey(hi)));
        }
        self.merge(&b);
    }

    /// Merges `later`, which covers the iterations right after `self`'s. Callers merge per-block
    /// stats in block order, so results are bit-identical for any thread count (see the type's
    /// determinism contract). Both must have been made with the same targets (targets are matched
    /// by position; counts of targets `self` lacks are dropped).
    pub fn merge(&mut self, later: &BlockStats) {
        self.errors += later.errors;
        for i in 0..self.targets.len().min(later.targets.len()) {
            self.below[i] += later.below[i];
            self.at_or_below[i] += later.at_or_below[i];
        }
        if later.n == 0 {
            return;
        }
        if self.n == 0 {
            self.n = later.n;
            self.sum = later.sum;
            self.m2 = later.m2;
            self.m3 = later.m3;
            self.m4 = later.m4;
            self.min = later.min;
            self.max = later.max;
            return;
        }
        let (na, nb) = (self.n as f64, later.n as f64);
        let n = na + nb;
        let ma = dd_div(self.sum, na);
        let mb = dd_div(later.sum, nb);
        let dm = dd_add(mb, [-ma[0], -ma[1]]);
        let d = dm[0] + dm[1];
        let (m2a, m2b) = (self.m2[0] + self.m2[1], later.m2[0] + later.m2[1]);
        let (m3a, m3b) = (self.m3[0] + self.m3[1], later.m3[0] + later.m3[1]);
        let w = na / n * nb; // na nb / n
        let d2 = d * d;
        let c2 = d2 * w;
        let c3 = d2 * d * w * ((na - nb) / n) + 3.0 * d * (na * m2b - nb * m2a) / n;
        let c4 = d2 * d2 * w * ((na * na - na * nb + nb * nb) / (n * n))
            + 6.0 * d2 * ((na / n) * (na / n) * m2b + (nb / n) * (nb / n) * m2a)
            + 4.0 * d * (na * m3b - nb * m3a) / n;
        self.m2 = dd_add_f64(dd_add(self.m2, later.m2), c2);
        self.m3 = dd_add_f64(dd_add(self.m3, later.m3), c3);
        self.m4 = dd_add_f64(dd_add(self.m4, later.m4), c4);
        self.sum = dd_add(self.sum, later.sum);
        self.n += later.n;
        self.min = match (self.min, later.min) {
            (Some(a), Some(b)) => Some(if b.total_cmp(&a).is_lt() { b } else { a }),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, later.max) {
            (Some(a), Some(b)) => Some(if b.total_cmp(&a).is_gt() { b } else { a }),
            (a, b) => a.or(b),
        };
    }

    /// Number of finite values.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Number of error iterations (NaN or infinite values).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Arithmetic mean; `NaN` when `n = 0`.
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let m = dd_div(self.sum, self.n as f64);
        m[0] + m[1]
    }

    /// Sample variance (divisor `n - 1`); `NaN` when `n < 2`.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            return f64::NAN;
        }
        (self.m2[0] + self.m2[1]) / (self.n as f64 - 1.0)
    }

    /// Sample standard deviation (divisor `n - 1`, as `STDEV.S`); `NaN` when `n < 2`.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// `(skewness g1, kurtosis b2)` as [`Summary`](crate::Summary) defines them; `NaN` when the
    /// variance is zero or `n = 0`.
    pub fn shape(&self) -> (f64, f64) {
        if self.n == 0 {
            return (f64::NAN, f64::NAN);
        }
        let nf = self.n as f64;
        let m2 = (self.m2[0] + self.m2[1]) / nf;
        let m3 = (self.m3[0] + self.m3[1]) / nf;
        let m4 = (self.m4[0] + self.m4[1]) / nf;
        if m2 > 0.0 {
            (m3 / m2.powf(1.5), m4 / (m2 * m2))
        } else {
            (f64::NAN, f64::NAN)
        }
    }

    /// Smallest finite value (by [`f64::total_cmp`]); `NaN` when `n = 0`.
    pub fn min(&self) -> f64 {
        self.min.unwrap_or(f64::NAN)
    }

    /// Largest finite value (by [`f64::total_cmp`]); `NaN` when `n = 0`.
    pub fn max(&self) -> f64 {
        self.max.unwrap_or(f64::NAN)
    }

    /// The targets counted.
    pub fn targets(&self) -> &[f64] {
        &self.targets
    }

    /// `(values < t, values <= t)` among the finite values, for a target `t` given to
    /// [`BlockStats::new`] (matched by bits); `None` for other targets.
    pub fn target_counts(&self, t: f64) -> Option<(u64, u64)> {
        let i = self
            .targets
            .iter()
            .position(|x| x.to_bits() == t.to_bits())?;
        Some((self.below[i], self.at_or_below[i]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Exact central moments of `k * scale + offset` from integer power sums (i128), as f64:
    /// `(mean, M2, M3, M4)`.
    fn exact_moments(ks: &[i64], scale: f64, offset: f64) -> (f64, f64, f64, f64) {
        let n = ks.len() as i128;
        let (mut s1, mut s2, mut s3, mut s4) = (0i128, 0i128, 0i128, 0i128);
        for &k in ks {
            let k = k as i128;
            s1 += k;
            s2 += k * k;
            s3 += k * k * k;
            s4 += k * k * k * k;
        }
        // n M2 = n S2 - S1²; n² M3 = n² S3 - 3 n S1 S2 + 2 S1³;
        // n³ M4 = n³ S4 - 4 n² S1 S3 + 6 n S1² S2 - 3 S1⁴ (in units of scale^k).
        let m2 = (n * s2 - s1 * s1) as f64 / n as f64;
        let m3 = (n * n * s3 - 3 * n * s1 * s2 + 2 * s1 * s1 * s1) as f64 / (n * n) as f64;
        let m4 = (n * n * n * s4 - 4 * n * n * s1 * s3 + 6 * n * s1 * s1 * s2
            - 3 * s1 * s1 * s1 * s1) as f64
            / (n * n * n) as f64;
        let mean = offset + (s1 as f64 / n as f64) * scale;
        (
            mean,
            m2 * scale * scale,
            m3 * scale.powi(3),
            m4 * scale.powi(4),
        )
    }

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    fn skewed_ints(n: usize, seed: u64) -> Vec<i64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                // Skewed: squares of uniforms, up to 4096.
                (u * u * 8192.0) as i64 - 1000
            })
            .collect()
    }

    #[test]
    fn moments_match_exact_rationals_for_any_block_sizes() {
        let ks = skewed_ints(100_000, 42);
        // Dyadic scales and offsets: every value is exact, so the reference is exact.
        for (scale, offset) in [
            (1.0 / 64.0, 1000.0),
            (1.0 / 1024.0, 1_048_576.0),
            (3.0, -5.0),
        ] {
            let xs: Vec<f64> = ks.iter().map(|&k| k as f64 * scale + offset).collect();
            let (mean, m2, m3, m4) = exact_moments(&ks, scale, offset);
            for block in [1usize, 7, 1024, 65_536, 100_000] {
                let mut s = BlockStats::new(&[]);
                for c in xs.chunks(block) {
                    s.add_block(c);
                }
                assert_eq!(s.n(), 100_000);
                let nf = 100_000.0;
                let (g1, b2) = s.shape();
                let tol = 1e-13;
                assert!(rel(s.mean(), mean) < 1e-15, "mean {} vs {mean}", s.mean());
                assert!(rel(s.variance(), m2 / (nf - 1.0)) < tol, "block {block}");
                assert!(
                    rel(g1, (m3 / nf) / (m2 / nf).powf(1.5)) < tol,
                    "g1 block {block}"
                );
                assert!(
                    rel(b2, (m4 / nf) / (m2 / nf).powi(2)) < tol,
                    "b2 block {block}"
                );
            }
        }
    }

    #[test]
    fn sequential_merge_is_deterministic_and_counts_are_exact() {
        let ks = skewed_ints(50_000, 9);
        let xs: Vec<f64> = ks
            .iter()
            .enumerate()
            .map(|(i, &k)| {
                if i % 101 == 5 {
                    f64::NAN
                } else {
                    k as f64 * 0.01
                }
            })
            .collect();
        let targets = [0.0, 5.0, 100.0];
        let blocks: Vec<BlockStats> = xs
            .chunks(1000)
            .map(|c| {
                let mut b = BlockStats::new(&targets);
                b.add_block(c);
                b
            })
            .collect();
        // Block stats computed in any order (as threads would), folded in block order.
        let fold = |order: &[usize]| {
            let mut computed: Vec<Option<BlockStats>> = vec![None; blocks.len()];
            for &i in order {
                computed[i] = Some(blocks[i].clone());
            }
            let mut acc = BlockStats::new(&targets);
            for b in computed.into_iter().flatten() {
                acc.merge(&b);
            }
            acc
        };
        let fwd: Vec<usize> = (0..blocks.len()).collect();
        let rev: Vec<usize> = (0..blocks.len()).rev().collect();
        let (a, b) = (fold(&fwd), fold(&rev));
        assert_eq!(a, b);
        assert_eq!(a.mean().to_bits(), b.mean().to_bits());
        // Same as add_block on the same blocks.
        let mut direct = BlockStats::new(&targets);
        xs.chunks(1000).for_each(|c| direct.add_block(c));
        assert_eq!(direct, a);
        // Exact counts.
        let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        assert_eq!(a.n(), finite.len() as u64);
        assert_eq!(a.errors(), (xs.len() - finite.len()) as u64);
        for t in targets {
            let below = finite.iter().filter(|&&x| x < t).count() as u64;
            let at = finite.iter().filter(|&&x| x <= t).count() as u64;
            assert_eq!(a.target_counts(t), Some((below, at)));
        }
        let min = finite.iter().copied().min_by(f64::total_cmp).unwrap();
        let max = finite.iter().copied().max_by(f64::total_cmp).unwrap();
        assert_eq!((a.min(), a.max()), (min, max));
        // JSON round trip.
        let back: BlockStats = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }

    /// The scalar `add_block` the vectorised one replaced (value `j` in lane `j & 3`, branches
    /// on errors), kept as the bit-for-bit reference.
    fn add_block_scalar(acc: &mut BlockStats, xs: &[f64]) {
        let mut b = BlockStats::new(&acc.targets);
        let mut sums: [Dd; 4] = [[0.0; 2]; 4];
        let mut counts = [0u64; 4];
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for (j, &x) in xs.iter().enumerate() {
            if x.is_finite() {
                counts[j & 3] += 1;
                sums[j & 3] = dd_add_f64(sums[j & 3], x);
                let k = key(x);
                lo = lo.min(k);
                hi = hi.max(k);
            }
        }
        b.n = counts.iter().sum();
        b.errors = xs.len() as u64 - b.n;
        for &x in xs {
            if x.is_finite() {
                for (t, (bl, ab)) in acc
                    .targets
                    .iter()
                    .zip(b.below.iter_mut().zip(b.at_or_below.iter_mut()))
                {
                    *bl += u64::from(x < *t);
                    *ab += u64::from(x <= *t);
                }
            }
        }
        if b.n > 0 {
            let sum = dd_add(dd_add(sums[0], sums[1]), dd_add(sums[2], sums[3]));
            let mean = dd_div(sum, b.n as f64);
            let mut s2: [Dd; 4] = [[0.0; 2]; 4];
            let mut s3: [Dd; 4] = [[0.0; 2]; 4];
            let mut s4: [Dd; 4] = [[0.0; 2]; 4];
            for (j, &x) in xs.iter().enumerate() {
                if x.is_finite() {
                    let d = (x - mean[0]) - mean[1];
                    let d2 = d * d;
                    let l = j & 3;
                    s2[l] = dd_add_f64(s2[l], d2);
                    s3[l] = dd_add_f64(s3[l], d2 * d);
                    s4[l] = dd_add_f64(s4[l], d2 * d2);
                }
            }
            let fold = |a: [Dd; 4]| dd_add(dd_add(a[0], a[1]), dd_add(a[2], a[3]));
            b.sum = sum;
            b.m2 = fold(s2);
            b.m3 = fold(s3);
            b.m4 = fold(s4);
            b.min = Some(crate::sorted::unkey(lo));
            b.max = Some(crate::sorted::unkey(hi));
        }
        acc.merge(&b);
    }

    /// Bits of every field, so that `-0.0` and `0.0` (or two NaNs) are told apart.
    fn bits(s: &BlockStats) -> Vec<u64> {
        let mut v = vec![s.n, s.errors];
        for d in [s.sum, s.m2, s.m3, s.m4] {
            v.extend(d.iter().map(|x| x.to_bits()));
        }
        v.extend([s.min, s.max].iter().map(|m| m.map_or(1, f64::to_bits)));
        v.extend(s.below.iter().chain(&s.at_or_below));
        v
    }

    #[test]
    fn vector_lanes_match_the_scalar_lanes_bit_for_bit() {
        // Values of every kind: wide magnitudes, signed zeros, errors in any lane, point masses,
        // and blocks of every length modulo 4.
        let mut s = 7u64;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s >> 11
        };
        let mut xs = Vec::new();
        for i in 0..40_000usize {
            let r = next();
            let u = r as f64 / (1u64 << 53) as f64;
            xs.push(match r % 23 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => 0.0,
                4 => -0.0,
                5 => 1e300 * (u - 0.5),
                6 => 1e-300 * u,
                7 => 2.5,
                _ => (u - 0.3) * 1e6 + (i % 17) as f64,
            });
        }
        let targets = [0.0, -0.0, 2.5, 1e5, f64::NEG_INFINITY];
        for len in [0usize, 1, 2, 3, 4, 5, 7, 8, 13, 4093, 4096, 4099] {
            for start in [0usize, 1, 2, 3, 1000, 30_000] {
                let block = &xs[start..start + len];
                let mut fast = BlockStats::new(&targets);
                let mut slow = BlockStats::new(&targets);
                // A prefix first, so the merge after a non-empty accumulator is compared too.
                fast.add_block(&xs[20_000..20_100]);
                add_block_scalar(&mut slow, &xs[20_000..20_100]);
                fast.add_block(block);
                add_block_scalar(&mut slow, block);
                assert_eq!(bits(&fast), bits(&slow), "len {len} start {start}");
            }
        }
        // Only errors, only zeros, all one value.
        for block in [
            vec![f64::NAN; 9],
            vec![-0.0, 0.0, -0.0, 0.0, -0.0],
            vec![0.0; 6],
            vec![-3.25; 11],
        ] {
            let (mut fast, mut slow) = (BlockStats::new(&[0.0]), BlockStats::new(&[0.0]));
            fast.add_block(&block);
            add_block_scalar(&mut slow, &block);
            assert_eq!(bits(&fast), bits(&slow), "{block:?}");
        }
        // Whole columns in 4096-value blocks, as a run folds them.
        let (mut fast, mut slow) = (BlockStats::new(&targets), BlockStats::new(&targets));
        for c in xs.chunks(4096) {
            fast.add_block(c);
            add_block_scalar(&mut slow, c);
        }
        assert_eq!(bits(&fast), bits(&slow));
    }

    #[test]
    fn degenerate_columns() {
        let mut s = BlockStats::new(&[1.0]);
        s.add_block(&[]);
        s.add_block(&[f64::NAN, f64::INFINITY]);
        assert_eq!((s.n(), s.errors()), (0, 2));
        assert!(s.mean().is_nan() && s.min().is_nan() && s.std_dev().is_nan());
        s.add_block(&[2.5]);
        assert_eq!((s.mean(), s.min(), s.max()), (2.5, 2.5, 2.5));
        assert!(s.std_dev().is_nan());
        s.add_block(&[2.5; 1000]);
        assert_eq!(s.variance(), 0.0);
        assert!(s.shape().0.is_nan());
        let empty: BlockStats =
            serde_json::from_str(&serde_json::to_string(&BlockStats::new(&[])).unwrap()).unwrap();
        assert_eq!(empty, BlockStats::new(&[]));
    }
}
