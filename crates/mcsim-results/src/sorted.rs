//! One sort per column: the sorted view of an output's samples, shared by every statistic.
//!
//! Sorting is by the `f64` bit patterns, mapped so that unsigned order is exactly
//! [`f64::total_cmp`]'s order; the result is therefore the same sequence of values as
//! `sort_unstable_by(f64::total_cmp)` gives (values that compare equal under `total_cmp` have the
//! same bits), so every statistic read from it is bit-identical to one read from a comparison sort.

/// Maps `x`'s bits to a `u64` whose unsigned order is `f64::total_cmp`'s order.
#[inline]
pub(crate) fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

/// Inverse of [`key`].
#[inline]
pub(crate) fn unkey(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// Sorts `(key, position)` pairs by key. A comparison sort of the integer keys: an LSD radix
/// sort (11-bit digits, 6 passes, with and without a separate position array) measured slower on
/// 3 million samples (107-150 ms against 85-95 ms), so the sort is `sort_unstable_by_key`.
fn sort_pairs(pairs: &mut [(u64, u32)]) {
    pairs.sort_unstable_by_key(|p| p.0);
}

/// Columns with at most this many distinct finite values are sorted by counting.
const FEW_DISTINCT: usize = 64;

/// The finite values of a column, sorted ascending once, with the iteration each came from.
#[derive(Debug, Clone, Default)]
pub struct SortedColumn {
    /// The finite samples, ascending (non-finite values, i.e. error iterations, removed).
    pub sorted: Vec<f64>,
    /// `order[i]`: the position in the original samples of `sorted[i]`.
    pub order: Vec<u32>,
    /// Length of the original samples (valid and not).
    pub len: usize,
}

/// Buffers reused from one column's sort to the next (and for its ranks), so that a run that
/// sorts several columns of millions of samples on one thread takes the pages of those buffers
/// from the kernel once instead of once per column (the page faults and the zeroing of fresh
/// pages cost about as much as a tenth of the sort itself).
#[derive(Debug, Default)]
pub struct SortScratch {
    pairs: Vec<(u64, u32)>,
    pub(crate) ranks: Vec<u32>,
}

impl SortedColumn {
    /// Sorts the finite values of `samples`.
    pub fn new(samples: &[f64]) -> SortedColumn {
        Self::new_in(samples, &mut SortScratch::default())
    }

    /// [`SortedColumn::new`] with the sort's working buffer taken from (and left in) `scratch`.
    pub fn new_in(samples: &[f64], scratch: &mut SortScratch) -> SortedColumn {
        if let Some(sorted) = Self::by_counting(samples) {
            return sorted;
        }
        let pairs = &mut scratch.pairs;
        pairs.clear();
        pairs.extend(
            samples
                .iter()
                .enumerate()
                .filter(|(_, x)| x.is_finite())
                .map(|(i, &x)| (key(x), i as u32)),
        );
        sort_pairs(pairs);
        SortedColumn {
            sorted: pairs.iter().map(|p| unkey(p.0)).collect(),
            order: pairs.iter().map(|p| p.1).collect(),
            len: samples.len(),
        }
    }

    /// A column of at most [`FEW_DISTINCT`] distinct finite values (a year, a count, a 0/1
    /// flag), sorted by counting: one pass finds the distinct values in a small open-addressed
    /// table (giving up at the first value too many, so a continuous column costs a few dozen
    /// lookups), a second writes each position after those of smaller values. Two linear passes
    /// instead of a comparison sort; the same sorted values, and within a run of equal values
    /// the positions ascend. `None`: more distinct values, or a column too short to matter.
    fn by_counting(samples: &[f64]) -> Option<SortedColumn> {
        if samples.len() < 1 << 12 || u32::try_from(samples.len()).is_err() {
            return None;
        }
        // Slot of a key: its multiplicative hash, then the next free or equal slot.
        const SLOTS: usize = 4 * FEW_DISTINCT;
        const EMPTY: u64 = u64::MAX; // the key of a NaN with every bit set: never finite.
        let mut keys = [EMPTY; SLOTS];
        let slot_of = |keys: &[u64; SLOTS], k: u64| {
            let mut at = (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % SLOTS;
            while keys[at] != k && keys[at] != EMPTY {
                at = (at + 1) % SLOTS;
            }
            at
        };
        let mut counts = [0u32; SLOTS];
        let mut distinct = 0usize;
        for &x in samples.iter().filter(|x| x.is_finite()) {
            let k = key(x);
            let at = slot_of(&keys, k);
            if keys[at] == EMPTY {
                distinct += 1;
                if distinct > FEW_DISTINCT {
                    return None;
                }
                keys[at] = k;
            }
            counts[at] += 1;
        }
        // Slots in key order; each slot's first place in the sorted view.
        let mut by_key: Vec<usize> = (0..SLOTS).filter(|&i| keys[i] != EMPTY).collect();
        by_key.sort_unstable_by_key(|&i| keys[i]);
        let finite: usize = counts.iter().map(|&c| c as usize).sum();
        let mut sorted = Vec::with_capacity(finite);
        let mut next = [0u32; SLOTS];
        for &i in &by_key {
            next[i] = sorted.len() as u32;
            sorted.resize(sorted.len() + counts[i] as usize, unkey(keys[i]));
        }
        let mut order = vec![0u32; finite];
        for (row, &x) in samples.iter().enumerate() {
            if x.is_finite() {
                let at = slot_of(&keys, key(x));
                order[next[at] as usize] = row as u32;
                next[at] += 1;
            }
        }
        Some(SortedColumn {
            sorted,
            order,
            len: samples.len(),
        })
    }

    /// Whether every sample was finite.
    pub fn all_finite(&self) -> bool {
        self.sorted.len() == self.len
    }

    /// Average ranks (as [`ranks`](crate::ranks)) of the finite samples, written at their
    /// original positions in a vector as long as the samples (non-finite positions hold 0).
    pub fn ranks_in_place(&self) -> Vec<f64> {
        let mut r = vec![0.0; self.len];
        let s = &self.sorted;
        let mut i = 0;
        while i < s.len() {
            let mut j = i + 1;
            while j < s.len() && s[j] == s[i] {
                j += 1;
            }
            let avg = (i + 1 + j) as f64 / 2.0;
            for &k in &self.order[i..j] {
                r[k as usize] = avg;
            }
            i = j;
        }
        r
    }
}

impl SortedColumn {
    /// Doubled average ranks (`2 * rank`, integers) of the finite samples at their original
    /// positions (non-finite positions hold 0): [`SortedColumn::ranks_in_place`] times two,
    /// for exact integer correlation sums. Needs fewer than 2^31 samples.
    pub fn doubled_ranks(&self) -> Vec<u32> {
        let mut r = Vec::new();
        self.doubled_ranks_into(&mut r);
        r
    }

    /// [`SortedColumn::doubled_ranks`] written into `r` (cleared first), reusing its buffer.
    pub fn doubled_ranks_into(&self, r: &mut Vec<u32>) {
        r.clear();
        r.resize(self.len, 0);
        let s = &self.sorted;
        let mut i = 0;
        while i < s.len() {
            let mut j = i + 1;
            while j < s.len() && s[j] == s[i] {
                j += 1;
            }
            let twice = (i + 1 + j) as u32;
            for &k in &self.order[i..j] {
                r[k as usize] = twice;
            }
            i = j;
        }
    }
}

/// Average ranks of every value of `x` in `total_cmp` order (as [`ranks`](crate::ranks)).
pub(crate) fn ranks_by_key(x: &[f64]) -> Vec<f64> {
    let mut pairs: Vec<(u64, u32)> = x
        .iter()
        .enumerate()
        .map(|(i, &v)| (key(v), i as u32))
        .collect();
    sort_pairs(&mut pairs);
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < pairs.len() {
        let vi = unkey(pairs[i].0);
        let mut j = i + 1;
        while j < pairs.len() && unkey(pairs[j].0) == vi {
            j += 1;
        }
        let avg = (i + 1 + j) as f64 / 2.0;
        for &(_, k) in &pairs[i..j] {
            r[k as usize] = avg;
        }
        i = j;
    }
    r
}

/// The average ranks among the rows where `keep` is true, from the average ranks `full` of the
/// whole column (as [`ranks`](crate::ranks) returns them), in O(n) without sorting again: the
/// result equals `ranks` of the kept values.
pub(crate) fn subset_ranks(full: &[f64], keep: &[bool]) -> Vec<f64> {
    // Twice a rank is an integer in [2, 2n], distinct per group of tied values.
    let n = full.len();
    let mut count = vec![0u32; 2 * n + 2];
    for (&r, &k) in full.iter().zip(keep) {
        if k {
            count[(2.0 * r) as usize] += 1;
        }
    }
    // below[g]: kept values in groups before g.
    let mut below = vec![0u32; 2 * n + 2];
    let mut acc = 0u32;
    for (b, &c) in below.iter_mut().zip(&count) {
        *b = acc;
        acc += c;
    }
    full.iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(&r, _)| {
            let g = (2.0 * r) as usize;
            let (i, c) = (below[g] as usize, count[g] as usize);
            (i + 1 + i + c) as f64 / 2.0
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sensitivity::ranks;

    fn data(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                match i % 97 {
                    0 => f64::NAN,
                    1 => 0.0,
                    2 => -0.0,
                    3 => f64::INFINITY,
                    4 => 1e-310,             // subnormal
                    5 => (u * 10.0).round(), // ties
                    _ => (u - 0.3) * 1e6,
                }
            })
            .collect()
    }

    #[test]
    fn order_is_total_cmp_order() {
        for n in [0, 1, 5, 1000, 5000, 70_000] {
            let x = data(n, n as u64 + 3);
            let s = SortedColumn::new(&x);
            let mut want: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
            want.sort_unstable_by(f64::total_cmp);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&s.sorted), bits(&want), "n = {n}");
            for (v, &i) in s.sorted.iter().zip(&s.order) {
                assert_eq!(v.to_bits(), x[i as usize].to_bits());
            }
            assert_eq!(s.all_finite(), x.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn few_distinct_values_are_sorted_by_counting() {
        // 64 distinct finite values (the most counted; -0.0 and 0.0 are two), then 65 (sorted
        // by comparison), a 0/1 flag, and one value; with NaN and infinities among them.
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (distinct, flags) in [(64usize, false), (65, false), (2, true), (1, false)] {
            let n = 20_011;
            let x: Vec<f64> = (0..n)
                .map(|i| match (i * 7919) % 101 {
                    0 => f64::NAN,
                    1 => f64::NEG_INFINITY,
                    _ if flags => ((i * 31) % 2) as f64,
                    _ => match (i * 7) % distinct {
                        0 => -0.0,
                        1 if distinct > 1 => 0.0,
                        k => (k as f64 - 20.25) * 1.5,
                    },
                })
                .collect();
            let counted = SortedColumn::by_counting(&x);
            assert_eq!(counted.is_some(), distinct <= FEW_DISTINCT, "{distinct}");
            let s = SortedColumn::new(&x);
            let mut want: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
            want.sort_unstable_by(f64::total_cmp);
            assert_eq!(bits(&s.sorted), bits(&want), "{distinct}");
            assert_eq!(s.len, n);
            let mut rows = s.order.clone();
            for (w, (v, &i)) in s.sorted.iter().zip(&s.order).enumerate() {
                assert_eq!(v.to_bits(), x[i as usize].to_bits());
                // Counted: positions ascend within a run of one value.
                if counted.is_some() && w > 0 && s.sorted[w - 1].to_bits() == v.to_bits() {
                    assert!(s.order[w - 1] < i);
                }
            }
            rows.sort_unstable();
            rows.dedup();
            assert_eq!(rows.len(), want.len(), "each finite row once");
            // Ranks as the comparison sort's.
            let mut pairs: Vec<(u64, u32)> = x
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| (key(v), i as u32))
                .collect();
            sort_pairs(&mut pairs);
            let by_comparison = SortedColumn {
                sorted: pairs.iter().map(|p| unkey(p.0)).collect(),
                order: pairs.iter().map(|p| p.1).collect(),
                len: n,
            };
            assert_eq!(
                s.doubled_ranks(),
                by_comparison.doubled_ranks(),
                "{distinct}"
            );
        }
    }

    #[test]
    fn reused_scratch_gives_fresh_results() {
        // Columns of different lengths (longer, then shorter) through one scratch.
        let mut scratch = SortScratch::default();
        for (n, seed) in [(5000, 1), (70_000, 2), (900, 3), (900, 4)] {
            let x = data(n, seed);
            let fresh = SortedColumn::new(&x);
            let reused = SortedColumn::new_in(&x, &mut scratch);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&reused.sorted), bits(&fresh.sorted), "n = {n}");
            assert_eq!(reused.order, fresh.order);
            assert_eq!(reused.len, fresh.len);
            let want = fresh.doubled_ranks();
            reused.doubled_ranks_into(&mut scratch.ranks);
            assert_eq!(scratch.ranks, want);
            // Against the average ranks: twice them at finite positions, 0 elsewhere.
            for ((&d, &r), v) in want.iter().zip(&fresh.ranks_in_place()).zip(&x) {
                assert_eq!(f64::from(d), if v.is_finite() { 2.0 * r } else { 0.0 });
            }
        }
    }

    #[test]
    fn ranks_match_comparison_ranks() {
        for n in [3, 900, 5000] {
            let x: Vec<f64> = data(n, 11).into_iter().filter(|v| !v.is_nan()).collect();
            let want = ranks(&x);
            assert_eq!(ranks_by_key(&x), want);
            let s = SortedColumn::new(&x);
            let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
            let got: Vec<f64> = s
                .ranks_in_place()
                .into_iter()
                .zip(&x)
                .filter(|(_, v)| v.is_finite())
                .map(|(r, _)| r)
                .collect();
            assert_eq!(got, ranks(&finite));
            // Subsets: every third row dropped.
            let keep: Vec<bool> = (0..x.len()).map(|i| i % 3 != 1).collect();
            let kept: Vec<f64> = x.iter().zip(&keep).filter(|p| *p.1).map(|p| *p.0).collect();
            assert_eq!(subset_ranks(&want, &keep), ranks(&kept));
        }
    }
}
