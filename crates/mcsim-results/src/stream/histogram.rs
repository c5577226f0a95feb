//! Counts per bucket of the order-preserving key of `f64`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, ResultsError};
use crate::sorted::{key, unkey};
use crate::summary::percentile_inc_by;

/// No value seen in a bucket yet.
pub(crate) const NO_KEY: u64 = 0;
/// Several distinct values seen in a bucket. (Neither 0 nor `u64::MAX` is the key of a finite
/// value: they are the keys of NaN bit patterns.)
pub(crate) const MANY_KEYS: u64 = u64::MAX;

/// The key summary of two sets of keys: the one key both hold, or [`MANY_KEYS`].
#[inline]
pub(crate) fn combine_keys(a: u64, b: u64) -> u64 {
    if a == b || b == NO_KEY {
        a
    } else if a == NO_KEY {
        b
    } else {
        MANY_KEYS
    }
}

/// Sixteen consecutive buckets.
#[derive(Debug, Clone, Copy, Default)]
struct Page {
    counts: [u64; 16],
    /// Per bucket: the single key seen, [`NO_KEY`] or [`MANY_KEYS`].
    keys: [u64; 16],
}

/// Counts of up to 65,536 buckets (a 16-bit bucket index), stored sparsely: pages of 16 buckets
/// allocated when first hit, so a column whose values span a few binades costs a few KiB rather
/// than 512 KiB. Also records, per bucket, whether it has held one distinct key (a point mass:
/// discrete inputs, `ROUND`ed outputs), which makes its order statistics known without a pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct BucketCounts {
    /// `index[bucket >> 4]`: 1 + the page's position in `pages`, or 0 (empty until first add).
    index: Vec<u16>,
    pages: Vec<Page>,
    /// Per page of `pages`: its page number (`bucket >> 4`).
    ids: Vec<u16>,
}

/// One non-empty bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BucketEntry {
    /// Bucket index.
    pub bucket: u16,
    /// Values counted.
    pub count: u64,
    /// The key, when every value counted had that one key; else [`MANY_KEYS`].
    pub key: u64,
}

impl BucketCounts {
    #[inline]
    fn page_mut(&mut self, bucket: u16) -> &mut Page {
        if self.index.is_empty() {
            self.index = vec![0; 4096];
        }
        let p = (bucket >> 4) as usize;
        let mut i = self.index[p] as usize;
        if i == 0 {
            self.pages.push(Page::default());
            self.ids.push(p as u16);
            i = self.pages.len();
            self.index[p] = i as u16;
        }
        &mut self.pages[i - 1]
    }

    /// Counts `count` values of `bucket` whose keys summarise to `key`.
    #[inline]
    pub(crate) fn add(&mut self, bucket: u16, count: u64, key: u64) {
        let page = self.page_mut(bucket);
        let s = (bucket & 15) as usize;
        page.counts[s] += count;
        page.keys[s] = combine_keys(page.keys[s], key);
    }

    /// Adds every bucket of `other` (counts are integers and [`combine_keys`] is commutative
    /// and associative: any merge order gives the same).
    pub(crate) fn merge(&mut self, other: &BucketCounts) {
        for e in other.entries_any_order() {
            self.add(e.bucket, e.count, e.key);
        }
    }

    /// The non-empty buckets, in the order their pages were first hit (ascending within a
    /// page): [`BucketCounts::entries`] without scanning the 4,096 page slots.
    fn entries_any_order(&self) -> impl Iterator<Item = BucketEntry> + '_ {
        self.pages.iter().zip(&self.ids).flat_map(|(page, &p)| {
            (0..16)
                .filter(|&s| page.counts[s] > 0)
                .map(move |s| BucketEntry {
                    bucket: ((p as usize) << 4 | s) as u16,
                    count: page.counts[s],
                    key: page.keys[s],
                })
        })
    }

    /// The non-empty buckets, ascending.
    pub(crate) fn entries(&self) -> impl Iterator<Item = BucketEntry> + '_ {
        self.index
            .iter()
            .enumerate()
            .filter(|(_, i)| **i != 0)
            .flat_map(move |(p, &i)| {
                let page = &self.pages[i as usize - 1];
                (0..16)
                    .filter(|&s| page.counts[s] > 0)
                    .map(move |s| BucketEntry {
                        bucket: ((p << 4) | s) as u16,
                        count: page.counts[s],
                        key: page.keys[s],
                    })
            })
    }

    /// Total count.
    pub(crate) fn total(&self) -> u64 {
        self.pages.iter().flat_map(|p| p.counts.iter()).sum()
    }
}

/// Counts per bucket of the order-preserving key of `f64` (the key of
/// [`SortedColumn`](crate::SortedColumn): unsigned order = [`f64::total_cmp`]), top 16 bits of
/// the key = 65,536 buckets (sign, 11 exponent bits and 4 mantissa bits: 16 buckets per binade,
/// each at most 1/16 of its binade wide), `u64` counts. Integer counts: merge in any order.
///
/// Two refinements serve the estimates ([`RankMap`](crate::RankMap),
/// [`Histogram::quantile_estimate`]); the exact counts per bucket, which
/// [`QuantilePlan`](crate::QuantilePlan) uses, are unaffected:
/// - each bucket remembers whether all its values had the same bits (a point mass: discrete
///   inputs, rounded outputs), which makes their ranks and order statistics exact;
/// - **detail**: a bucket holding at least 1/128 of the values of one [`Histogram::add`] call
///   (and at least 32 of them) also counts those values by the next 8 key bits (256
///   sub-buckets). Since iterations are independent draws, these sub-counts estimate the shape of
///   the distribution inside the heavy buckets, which is where a narrow distribution (a
///   coefficient of variation of a few percent puts most values in two or three buckets) needs
///   it. What a call adds depends only on the slice it is given, so calling `add` once per fixed
///   block of iterations gives the same histogram, bits included, for any thread count and any
///   merge order. Pass whole blocks (1,000 values or more): small slices never qualify.
///
/// Memory: sparse, 8 KiB plus 256 bytes per 16 buckets hit plus 2 KiB per bucket with detail;
/// typically 10 to 60 KiB per column.
///
/// Serialized as `{buckets: [{bucket, count, key}], detail: [[bucket, [256 counts]]]}` (`key` =
/// the bucket's one key, or `u64::MAX` when it held several distinct values).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(into = "HistogramRepr", try_from = "HistogramRepr")]
pub struct Histogram {
    pub(crate) counts: BucketCounts,
    /// Per heavy bucket: counts by the next 8 key bits of the values of the blocks where it was
    /// heavy (256 entries).
    pub(crate) detail: BTreeMap<u16, Vec<u64>>,
}

/// A bucket qualifies for detail in an `add` call holding at least this share of its values...
const DETAIL_SHARE: u64 = 128;
/// ...and at least this many.
const DETAIL_MIN: u64 = 32;

/// The serialized form of [`Histogram`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct HistogramRepr {
    buckets: Vec<BucketEntry>,
    #[serde(default)]
    detail: Vec<(u16, Vec<u64>)>,
}

impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        self.counts.entries().eq(other.counts.entries()) && self.detail == other.detail
    }
}

impl From<Histogram> for HistogramRepr {
    fn from(h: Histogram) -> Self {
        HistogramRepr {
            buckets: h.counts.entries().collect(),
            detail: h.detail.into_iter().collect(),
        }
    }
}

impl TryFrom<HistogramRepr> for Histogram {
    type Error = ResultsError;
    fn try_from(repr: HistogramRepr) -> Result<Self> {
        let bad = |what: String| ResultsError::StreamMismatch { what };
        let mut h = Histogram::new();
        for e in repr.buckets {
            if e.key != MANY_KEYS && (e.key == NO_KEY || (e.key >> 48) as u16 != e.bucket) {
                return Err(bad(format!(
                    "histogram bucket {} holds key {:#x}, which is outside it",
                    e.bucket, e.key
                )));
            }
            if e.count > 0 {
                h.counts.add(e.bucket, e.count, e.key);
            }
        }
        for (b, sub) in repr.detail {
            if sub.len() != 256 {
                return Err(bad(format!(
                    "histogram detail of bucket {b} has {} counts instead of 256",
                    sub.len()
                )));
            }
            h.detail.insert(b, sub);
        }
        Ok(h)
    }
}

fn add_detail(detail: &mut BTreeMap<u16, Vec<u64>>, bucket: u16, sub: &[u64]) {
    let d = detail.entry(bucket).or_insert_with(|| vec![0; 256]);
    for (a, b) in d.iter_mut().zip(sub) {
        *a += b;
    }
}

/// The value at fraction `q` (in `[0, 1]`) of a bucket's values, from the bucket's detail `sub`:
/// linear inside the sub-bucket where the cumulative share reaches `q`.
pub(crate) fn detail_value(bucket: u16, sub: &[u64], q: f64, min: f64, max: f64) -> f64 {
    let m: u64 = sub.iter().sum();
    let target = q * m as f64;
    let mut cum = 0u64;
    for (s, &c) in sub.iter().enumerate() {
        if c > 0 && (cum + c) as f64 >= target {
            let (lo, hi) = clamped_sub_range(bucket, s, min, max);
            let f = ((target - cum as f64) / c as f64).clamp(0.0, 1.0);
            return lo + f * (hi - lo);
        }
        cum += c;
    }
    clamped_range(bucket, min, max).1
}

/// The last key of the cell that starts at `lo` and fixes the top `bits` key bits.
#[inline]
pub(crate) fn cell_hi(lo: u64, bits: u32) -> u64 {
    if bits >= 64 {
        lo
    } else {
        lo | (u64::MAX >> bits)
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the finite values of `xs` (NaN and infinities, i.e. error iterations, are skipped):
    /// one block of iterations (see the type's docs on detail).
    pub fn add(&mut self, xs: &[f64]) {
        let mut block = BucketCounts::default();
        for &x in xs {
            if x.is_finite() {
                let k = key(x);
                block.add((k >> 48) as u16, 1, k);
            }
        }
        let threshold = (xs.len() as u64 / DETAIL_SHARE).max(DETAIL_MIN);
        let mut heavy: Vec<u16> = block
            .entries_any_order()
            .filter(|e| e.count >= threshold && e.key == MANY_KEYS)
            .map(|e| e.bucket)
            .collect();
        heavy.sort_unstable();
        if !heavy.is_empty() {
            let mut subs = vec![vec![0u64; 256]; heavy.len()];
            for &x in xs {
                if x.is_finite() {
                    let k = key(x);
                    if let Ok(i) = heavy.binary_search(&((k >> 48) as u16)) {
                        subs[i][((k >> 40) & 0xFF) as usize] += 1;
                    }
                }
            }
            for (b, sub) in heavy.into_iter().zip(subs) {
                add_detail(&mut self.detail, b, &sub);
            }
        }
        self.counts.merge(&block);
    }

    /// Adds another histogram's counts (any order gives the same result).
    pub fn merge(&mut self, other: &Histogram) {
        self.counts.merge(&other.counts);
        for (&b, sub) in &other.detail {
            add_detail(&mut self.detail, b, sub);
        }
    }

    /// Number of values counted.
    pub fn total(&self) -> u64 {
        self.counts.total()
    }

    /// A histogram from dense per-bucket counts (`counts.len()` must be 65,536), for example
    /// from a GPU kernel. Point masses are unknown: every non-empty bucket is taken to hold
    /// several distinct values (correct, only less informative).
    pub fn from_dense(counts: &[u64]) -> Result<Histogram> {
        if counts.len() != 1 << 16 {
            return Err(ResultsError::LengthMismatch {
                what: "dense histogram counts".to_string(),
                got: counts.len(),
                expected: 1 << 16,
            });
        }
        let mut h = Histogram::new();
        for (b, &c) in counts.iter().enumerate() {
            if c > 0 {
                h.counts.add(b as u16, c, MANY_KEYS);
            }
        }
        Ok(h)
    }

    /// A histogram from a device's counts (`mcsim_hist`): `(bucket, count, key)` per non-empty
    /// bucket, `key` the one key the bucket held or `u64::MAX`. Without detail (the device
    /// counts no sub-buckets): equal to [`Histogram::add`]'s buckets and point masses, not its
    /// detail. Adds to `self` (any order).
    pub fn add_counts(&mut self, entries: &[(u32, u64, u64)]) -> Result<()> {
        for &(b, count, k) in entries {
            let bucket = u16::try_from(b)
                .ok()
                .filter(|&b| k == MANY_KEYS || (k != NO_KEY && (k >> 48) as u16 == b));
            let Some(bucket) = bucket else {
                return Err(ResultsError::StreamMismatch {
                    what: format!("device histogram bucket {b} holds key {k:#x}, outside it"),
                });
            };
            if count > 0 {
                self.counts.add(bucket, count, k);
            }
        }
        Ok(())
    }

    /// The non-empty buckets as `(bucket, count, key)` (key: the one key the bucket held, or
    /// `u64::MAX`), ascending: what [`Histogram::add_counts`] reads.
    pub fn bucket_counts(&self) -> Vec<(u32, u64, u64)> {
        self.counts
            .entries()
            .map(|e| (u32::from(e.bucket), e.count, e.key))
            .collect()
    }

    /// The count of each of the 65,536 buckets (bucket `b` holds the finite values whose key's
    /// top 16 bits are `b`).
    pub fn to_dense(&self) -> Vec<u64> {
        let mut v = vec![0; 1 << 16];
        for e in self.counts.entries() {
            v[e.bucket as usize] = e.count;
        }
        v
    }

    /// Estimated `p`-quantile (`PERCENTILE.INC` positions) by linear interpolation inside the
    /// bucket, with `min`/`max` clamping; used for the convergence trace in streaming mode.
    ///
    /// The `i`-th smallest value is estimated at the fraction `q = (i - below + 0.5) / count` of
    /// the bucket holding it (`below` values in lower buckets, `count` in it): `lo + q (hi - lo)`
    /// with `[lo, hi]` the bucket's value range clamped to `[min, max]`, or, for a bucket with
    /// detail, the same interpolation inside the sub-bucket where the detail's cumulative share
    /// reaches `q`; a bucket that held a single distinct value gives that value exactly, and the
    /// first and last positions give `min` and `max`. The two estimates are then interpolated as
    /// [`percentile_inc`](crate::percentile_inc) does.
    ///
    /// Error bound: each estimate lies in the value range of the bucket that holds the exact order
    /// statistic, so its error is at most that bucket's width, `2^(e-4)` for values in
    /// `[2^e, 2^(e+1))` (at most 6.25 % of `|x|`; between `-2^-1018` and `2^-1018` the buckets
    /// are absolutely narrower still); in rank terms the estimate is off by at most the
    /// bucket's count (as a fraction of `n`). With detail (narrow distributions) the error is
    /// that of the sub-bucket interpolation plus the sampling error of the detail's shares, far
    /// smaller (measured by `examples/stream_accuracy.rs`). `NaN` when empty or `p` is outside
    /// `[0, 1]`.
    pub fn quantile_estimate(&self, p: f64, min: f64, max: f64) -> f64 {
        let n = self.total();
        if n == 0 || !(0.0..=1.0).contains(&p) {
            return f64::NAN;
        }
        let entries: Vec<BucketEntry> = self.counts.entries().collect();
        let mut cum = Vec::with_capacity(entries.len());
        let mut acc = 0u64;
        for e in &entries {
            cum.push(acc);
            acc += e.count;
        }
        let at = |i: usize| -> f64 {
            let i = i as u64;
            // The extremes are known exactly.
            if i == 0 && min.is_finite() {
                return min;
            }
            if i + 1 == n && max.is_finite() {
                return max;
            }
            // The bucket holding position i: the last with cum <= i.
            let b = cum.partition_point(|&c| c <= i).saturating_sub(1);
            let e = entries[b];
            if e.key != MANY_KEYS {
                return unkey(e.key);
            }
            let f = ((i - cum[b]) as f64 + 0.5) / e.count as f64;
            if let Some(sub) = self
                .detail
                .get(&e.bucket)
                .filter(|s| s.iter().any(|&c| c > 0))
            {
                return detail_value(e.bucket, sub, f, min, max);
            }
            let (lo, hi) = clamped_range(e.bucket, min, max);
            lo + f * (hi - lo)
        };
        percentile_inc_by(n as usize, p, at)
    }

    /// The value range `[lo, hi]` that holds the `i`-th smallest counted value (0-based):
    /// its bucket's range clamped to `[min, max]`, a single value when the bucket held one
    /// distinct value, and `min`/`max` themselves for the first and last positions. `None` when
    /// `i` is not below [`Histogram::total`]. Used to state the accuracy of percentiles read
    /// from merged histograms (`mcsim results merge` of accumulator files).
    pub fn rank_range(&self, i: u64, min: f64, max: f64) -> Option<(f64, f64)> {
        let n = self.total();
        if i >= n {
            return None;
        }
        let first = i == 0 && min.is_finite();
        let last = i + 1 == n && max.is_finite();
        if first || last {
            let v = if first { min } else { max };
            return Some((v, v));
        }
        let mut below = 0u64;
        for e in self.counts.entries() {
            if i < below + e.count {
                if e.key != MANY_KEYS {
                    let v = unkey(e.key);
                    return Some((v, v));
                }
                return Some(clamped_range(e.bucket, min, max));
            }
            below += e.count;
        }
        None
    }
}

/// The value range of top-level bucket `bucket`, clamped to `[min, max]` when those are finite
/// and ordered.
pub(crate) fn clamped_range(bucket: u16, min: f64, max: f64) -> (f64, f64) {
    let lo_key = (bucket as u64) << 48;
    clamp_keys(lo_key, cell_hi(lo_key, 16), min, max)
}

/// The value range of sub-bucket `sub` (next 8 key bits) of top-level bucket `bucket`, clamped.
pub(crate) fn clamped_sub_range(bucket: u16, sub: usize, min: f64, max: f64) -> (f64, f64) {
    let lo_key = ((bucket as u64) << 48) | ((sub as u64) << 40);
    clamp_keys(lo_key, lo_key | ((1u64 << 40) - 1), min, max)
}

fn clamp_keys(lo_key: u64, hi_key: u64, min: f64, max: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (unkey(lo_key), unkey(hi_key));
    if min.is_finite() && max.is_finite() && min <= max {
        lo = lo.clamp(min, max);
        hi = hi.clamp(min, max);
    }
    (lo, hi)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Pages hit in descending order (the block's pages are then stored out of bucket order):
    /// the counts, point-mass keys and detail are what counting value by value gives.
    #[test]
    fn pages_hit_in_any_order_count_the_same() {
        let mut xs: Vec<f64> = Vec::new();
        for i in 0..3000 {
            // Descending binades, a point mass, and one heavy bucket with many values.
            xs.push(1e6 / (1 + i % 50) as f64);
            xs.push(-7.5);
            xs.push(100.0 + (i as f64) * 1e-4);
        }
        xs.reverse();
        let mut h = Histogram::new();
        h.add(&xs);
        // Reference: bucket by bucket, ascending.
        let mut want: BTreeMap<u16, (u64, u64)> = BTreeMap::new();
        for &x in &xs {
            let k = key(x);
            let e = want.entry((k >> 48) as u16).or_insert((0, NO_KEY));
            e.0 += 1;
            e.1 = combine_keys(e.1, k);
        }
        let got: Vec<(u16, u64, u64)> = h
            .counts
            .entries()
            .map(|e| (e.bucket, e.count, e.key))
            .collect();
        let want_v: Vec<(u16, u64, u64)> = want.iter().map(|(&b, &(c, k))| (b, c, k)).collect();
        assert_eq!(got, want_v);
        // The heavy bucket of 100.0.. got detail, with every one of its values.
        let heavy = (key(100.0) >> 48) as u16;
        let detail = h.detail.get(&heavy).unwrap();
        assert_eq!(detail.iter().sum::<u64>(), want[&heavy].0);
        // Merging in either order gives the same histogram.
        let (mut a, mut b) = (Histogram::new(), Histogram::new());
        a.add(&xs[..4500]);
        b.add(&xs[4500..]);
        let (mut ab, mut ba) = (a.clone(), b.clone());
        ab.merge(&b);
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.total(), xs.len() as u64);
    }

    #[test]
    fn counts_merge_and_round_trip() {
        let xs: Vec<f64> = (0..10_000)
            .map(|i| match i % 7 {
                0 => f64::NAN,
                1 => 3.0,
                2 => -0.0,
                _ => (i as f64 * 0.37).sin() * 1e3,
            })
            .collect();
        let mut whole = Histogram::new();
        whole.add(&xs);
        let finite = xs.iter().filter(|x| x.is_finite()).count() as u64;
        assert_eq!(whole.total(), finite);
        // Blocks added to separate histograms and merged in any order: the same histogram,
        // detail included; bucket counts equal the single-slice histogram's.
        let blocks: Vec<Histogram> = xs
            .chunks(999)
            .map(|c| {
                let mut h = Histogram::new();
                h.add(c);
                h
            })
            .collect();
        let mut fwd = Histogram::new();
        blocks.iter().for_each(|b| fwd.merge(b));
        let mut rev = Histogram::new();
        blocks.iter().rev().for_each(|b| rev.merge(b));
        let mut direct = Histogram::new();
        xs.chunks(999).for_each(|c| direct.add(c));
        assert!(fwd == rev && fwd == direct);
        assert!(!fwd.detail.is_empty());
        assert!(fwd.counts.entries().eq(whole.counts.entries()));
        let json = serde_json::to_string(&whole).unwrap();
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert!(back == whole);
        let back: Histogram = serde_json::from_str(&serde_json::to_string(&fwd).unwrap()).unwrap();
        assert!(back == fwd);
        // Point masses are remembered.
        let three = whole
            .counts
            .entries()
            .find(|e| e.bucket == (key(3.0) >> 48) as u16)
            .unwrap();
        assert_eq!(three.key, key(3.0));
        let dense = Histogram::from_dense(&whole.to_dense()).unwrap();
        assert_eq!(dense.total(), whole.total());
        assert!(dense.counts.entries().all(|e| e.key == MANY_KEYS));
        assert!(Histogram::from_dense(&[1, 2]).is_err());
    }

    #[test]
    fn rank_ranges_hold_the_order_statistics() {
        let xs: Vec<f64> = (0..5_000)
            .map(|i| match i % 11 {
                0 => f64::NAN,
                1 => 100.0,
                2 => 1000.0,
                _ => ((i as f64) * 0.731).sin() * 40.0 + (i % 13) as f64,
            })
            .collect();
        let mut h = Histogram::new();
        xs.chunks(1000).for_each(|c| h.add(c));
        let mut sorted: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
        for (i, &x) in sorted.iter().enumerate() {
            let (lo, hi) = h.rank_range(i as u64, min, max).unwrap();
            assert!(lo <= x && x <= hi, "rank {i}: {x} outside [{lo}, {hi}]");
        }
        assert_eq!(h.rank_range(0, min, max), Some((min, min)));
        assert!(h.rank_range(sorted.len() as u64, min, max).is_none());
        // The point mass at 100, alone in its bucket, is exact.
        let at = sorted.iter().position(|&x| x == 100.0).unwrap();
        assert_eq!(h.rank_range(at as u64, min, max), Some((100.0, 100.0)));
    }
}
