//! Counts per bucket of the order-preserving key of `f64`.

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

    /// Adds every bucket of `other` (counts are integers: any merge order gives the same).
    pub(crate) fn merge(&mut self, other: &BucketCounts) {
        for e in other.entries() {
            self.add(e.bucket, e.count, e.key);
        }
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
/// Stored sparsely (pages of 16 buckets allocated on first use): memory is 8 KiB plus 256 bytes
/// per 16 buckets hit, typically 10 to 40 KiB per column. Each bucket also remembers whether all
/// its values had the same bits (a point mass), which [`QuantilePlan`](crate::QuantilePlan) and
/// [`RankMap`](crate::RankMap) use to resolve discrete values without a further pass.
///
/// Serialized as a sparse list of `{bucket, count, key}` (`key` = the bucket's one key, or
/// `u64::MAX` when it held several distinct values).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(into = "Vec<BucketEntry>", try_from = "Vec<BucketEntry>")]
pub struct Histogram {
    pub(crate) counts: BucketCounts,
}

impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        self.counts.entries().eq(other.counts.entries())
    }
}

impl From<Histogram> for Vec<BucketEntry> {
    fn from(h: Histogram) -> Self {
        h.counts.entries().collect()
    }
}

impl TryFrom<Vec<BucketEntry>> for Histogram {
    type Error = ResultsError;
    fn try_from(entries: Vec<BucketEntry>) -> Result<Self> {
        let mut h = Histogram::new();
        for e in entries {
            if e.key != MANY_KEYS && (e.key == NO_KEY || (e.key >> 48) as u16 != e.bucket) {
                return Err(ResultsError::StreamMismatch {
                    what: format!(
                        "histogram bucket {} holds key {:#x}, which is outside it",
                        e.bucket, e.key
                    ),
                });
            }
            if e.count > 0 {
                h.counts.add(e.bucket, e.count, e.key);
            }
        }
        Ok(h)
    }
}

/// The first key of a bucket at `level` (16 bits per level).
#[inline]
pub(crate) fn bucket_lo(bucket_prefix: u64, level: u32) -> u64 {
    if level >= 4 {
        bucket_prefix
    } else {
        bucket_prefix << (64 - 16 * level)
    }
}

/// The last key of the cell that starts at `lo` at `level`.
#[inline]
pub(crate) fn cell_hi(lo: u64, level: u32) -> u64 {
    if level >= 4 {
        lo
    } else {
        lo | ((1u64 << (64 - 16 * level)) - 1)
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the finite values of `xs` (NaN and infinities, i.e. error iterations, are skipped).
    pub fn add(&mut self, xs: &[f64]) {
        for &x in xs {
            if x.is_finite() {
                let k = key(x);
                self.counts.add((k >> 48) as u16, 1, k);
            }
        }
    }

    /// Adds another histogram's counts (any order gives the same result).
    pub fn merge(&mut self, other: &Histogram) {
        self.counts.merge(&other.counts);
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
    /// The `i`-th smallest value is estimated as `lo + (i - below + 0.5) / count * (hi - lo)`,
    /// with `[lo, hi]` the value range of the bucket holding it (clamped to `[min, max]`),
    /// `below` the values in lower buckets and `count` the bucket's; a bucket that held a single
    /// distinct value gives that value exactly. The two estimates are then interpolated as
    /// [`percentile_inc`](crate::percentile_inc) does.
    ///
    /// Error bound: each estimate lies in the value range of the bucket that holds the exact order
    /// statistic, so its error is at most that bucket's width, `2^(e-4)` for values in
    /// `[2^e, 2^(e+1))` (at most 6.25 % of `|x|`; between `-2^-1018` and `2^-1018` the buckets
    /// are absolutely narrower still); in rank terms the estimate is off by at most the
    /// bucket's count (as a fraction of `n`). `NaN` when empty or `p` is outside `[0, 1]`.
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
            // The bucket holding position i: the last with cum <= i.
            let b = cum.partition_point(|&c| c <= i).saturating_sub(1);
            let e = entries[b];
            if e.key != MANY_KEYS {
                return unkey(e.key);
            }
            let (lo, hi) = clamped_range(e.bucket, min, max);
            let f = ((i - cum[b]) as f64 + 0.5) / e.count as f64;
            lo + f * (hi - lo)
        };
        percentile_inc_by(n as usize, p, at)
    }
}

/// The value range of top-level bucket `bucket`, clamped to `[min, max]` when those are finite
/// and ordered.
pub(crate) fn clamped_range(bucket: u16, min: f64, max: f64) -> (f64, f64) {
    let lo_key = bucket_lo(bucket as u64, 1);
    let (mut lo, mut hi) = (unkey(lo_key), unkey(cell_hi(lo_key, 1)));
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
        let mut merged = Histogram::new();
        for c in xs.chunks(999).rev() {
            let mut h = Histogram::new();
            h.add(c);
            merged.merge(&h);
        }
        assert_eq!(merged, whole);
        let json = serde_json::to_string(&whole).unwrap();
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back, whole);
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
}
