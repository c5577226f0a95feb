//! Sensitivity of an output to the inputs: rank correlation, standardized regression, tornado.

use mcsim_sampling::on_wide_lanes;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Result, ResultsError};
use crate::sorted::{SortScratch, SortedColumn, subset_ranks};
use crate::sum::{StableSum, stable_sum};

/// Ranks of `x`, 1-based, with tied values given the average of the ranks they span (so `[10, 20,
/// 20, 30]` ranks as `[1, 2.5, 2.5, 4]`). `NaN`s sort last (callers drop them first).
pub fn ranks(x: &[f64]) -> Vec<f64> {
    // One sort of the bit patterns in `total_cmp` order; ties are averaged.
    crate::sorted::ranks_by_key(x)
}

/// Doubled average ranks (`2 * rank`, an integer in `[2, 2n]`) from average ranks.
fn doubled(ranks: &[f64]) -> Vec<u32> {
    ranks.iter().map(|&r| (2.0 * r) as u32).collect()
}

/// Σa and Σa² of doubled ranks, exactly: each chunk's sums run in `u64` over as many rows as
/// cannot overflow (a doubled rank of n rows is at most 2n + 2), then in `i128`.
fn rank_sums(r: &[u32]) -> (i128, i128) {
    on_wide_lanes(
        #[inline(always)]
        || rank_sums_lanes(r),
    )
}

/// [`rank_sums`]' body, inlined into each compilation.
#[inline(always)]
fn rank_sums_lanes(r: &[u32]) -> (i128, i128) {
    let top = 2 * r.len() as u64 + 2;
    let per = (u64::MAX / top.saturating_mul(top).max(1)).clamp(1, 4096) as usize;
    let (mut s, mut ss) = (0i128, 0i128);
    for c in r.chunks(per) {
        s += c.iter().map(|&a| u64::from(a)).sum::<u64>() as i128;
        ss += c.iter().map(|&a| u64::from(a) * u64::from(a)).sum::<u64>() as i128;
    }
    (s, ss)
}

/// Σ ry·rx for every rx, exactly, in one pass over the rows: a chunk of `ry` is read once for all
/// inputs while it is in cache, and each product sum runs in `u64` over as many rows as cannot
/// overflow (a doubled rank is at most 2n, so a product is at most 4n²), then in `i128`.
/// On a processor with AVX-512 the products run on 512-bit vectors ([`on_wide_lanes`]; integer
/// sums, so the same values): on portfolio (51 inputs, 6 outputs, 500,000 iterations), 101 perf
/// samples in two runs against 131 for the AVX2 build's loop.
fn rank_cross_sums(ry: &[u32], rxs: &[&[u32]]) -> Vec<i128> {
    on_wide_lanes(
        #[inline(always)]
        || rank_cross_sums_lanes(ry, rxs),
    )
}

/// [`rank_cross_sums`]' body, inlined into each compilation.
#[inline(always)]
fn rank_cross_sums_lanes(ry: &[u32], rxs: &[&[u32]]) -> Vec<i128> {
    let top = 2 * ry.len() as u64 + 2;
    let per = (u64::MAX / top.saturating_mul(top).max(1)).clamp(1, 4096) as usize;
    let mut acc = vec![0i128; rxs.len()];
    for start in (0..ry.len()).step_by(per) {
        let end = (start + per).min(ry.len());
        let y = &ry[start..end];
        for (a, rx) in acc.iter_mut().zip(rxs) {
            let x = &rx[start..end];
            let s: u64 = x
                .iter()
                .zip(y)
                .map(|(&a, &b)| u64::from(a) * u64::from(b))
                .sum();
            *a += s as i128;
        }
    }
    acc
}

/// Working buffers of [`doubled_ranks_from_hint`], reused from input to input.
#[derive(Debug, Default)]
pub(crate) struct HintScratch {
    /// The rows' order keys and candidate ranks, grouped by bucket of candidate ranks; once a
    /// bucket is checked, its part of `keys` holds its keys in candidate-rank order.
    keys: Vec<u64>,
    slots: Vec<u32>,
    /// One bucket's keys at their candidate ranks.
    local: Vec<u64>,
}

/// Doubled average ranks of `x` (as `doubled(&ranks(x))`) from a candidate order `hint`
/// (`hint[row]`: the row's 0-based rank if there were no ties), in linear time, reusing `hint`'s
/// buffer for the result: `None` when the hint is not a permutation of `0 .. n` or `x` is not
/// non-decreasing (in `total_cmp` order) along it. Ties (values equal under `==`) get the
/// average of the ranks they span, as [`ranks`] gives them. `scratch` holds working buffers.
pub(crate) fn doubled_ranks_from_hint(
    x: &[f64],
    mut hint: Vec<u32>,
    scratch: &mut HintScratch,
) -> Option<Vec<u32>> {
    let n = x.len();
    if hint.len() != n || !fits_doubled(n) {
        return None;
    }
    // Candidate ranks go in buckets of `size` consecutive ranks, at most about a thousand of
    // them: one sequential pass appends each row's key and rank to its bucket (a thousand
    // write streams, which the caches absorb, instead of a write at a random place of the whole
    // column for every row), then each bucket's keys are put at their ranks in a buffer small
    // enough for the first-level cache and checked there. Every slot of the buffers is written
    // before it is read, so reused buffers are not cleared.
    let shift = (usize::BITS - n.leading_zeros()).saturating_sub(10).max(12);
    let size = 1usize << shift;
    let HintScratch { keys, slots, local } = scratch;
    fit(keys, n);
    fit(slots, n);
    fit(local, size.min(n));
    let mut cursor: Vec<usize> = (0..n.div_ceil(size)).map(|b| b * size).collect();
    for (&s, &v) in hint.iter().zip(x) {
        let s = s as usize;
        let b = s >> shift;
        // A rank beyond n, or a bucket already full (some rank repeated): not a permutation.
        let p = *cursor.get(b)?;
        if p >= ((b + 1) << shift).min(n) {
            return None;
        }
        cursor[b] = p + 1;
        keys[p] = crate::sorted::key(v);
        slots[p] = s as u32;
    }
    // n rows in buckets that hold n ranks, none overfull: every bucket is exactly full.
    let mut seen = vec![0u64; size.min(n).div_ceil(64)];
    let mut last: Option<u64> = None;
    let mut tied = false;
    for b in 0..n.div_ceil(size) {
        let (from, to) = (b * size, ((b + 1) * size).min(n));
        let local = &mut local[..to - from];
        seen.fill(0);
        for (&s, &k) in slots[from..to].iter().zip(&keys[from..to]) {
            let s = s as usize - from;
            let (word, bit) = (&mut seen[s >> 6], 1u64 << (s & 63));
            if *word & bit != 0 {
                return None;
            }
            *word |= bit;
            local[s] = k;
        }
        // Distinct ranks of the bucket, as many as it holds: every one is written. Sorted along
        // the hint (across the previous bucket's end too), and tied or not.
        if let (Some(l), Some(&f)) = (last, local.first()) {
            if f < l {
                return None;
            }
            tied |= crate::sorted::unkey(f) == crate::sorted::unkey(l);
        }
        for w in local.windows(2) {
            if w[1] < w[0] {
                return None;
            }
            tied |= crate::sorted::unkey(w[1]) == crate::sorted::unkey(w[0]);
        }
        last = local.last().copied();
        keys[from..to].copy_from_slice(local);
    }
    if !tied {
        // Without ties (any continuous input) the ranks are the hint itself.
        for s in &mut hint {
            *s = 2 * *s + 2;
        }
        return Some(hint);
    }
    // `keys` now holds the keys in candidate-rank order. Each run of equal values gets its
    // average rank: per slot first, then read by each row.
    let mut twice = vec![0u32; n];
    let mut run = 0;
    for s in 1..=n {
        if s == n || crate::sorted::unkey(keys[s]) != crate::sorted::unkey(keys[s - 1]) {
            let t = (run + 1 + s) as u32;
            twice[run..s].fill(t);
            run = s;
        }
    }
    for s in &mut hint {
        *s = twice[*s as usize];
    }
    Some(hint)
}

/// Makes `v` `len` long, keeping its buffer (and stale values: callers write before reading).
fn fit<T: Copy + Default>(v: &mut Vec<T>, len: usize) {
    if v.len() != len {
        v.clear();
        v.resize(len, T::default());
    }
}

/// Pearson correlation of two rank vectors from exact sums of their doubled ranks (twice a rank
/// is an integer, so every sum is exact and the only rounding is the final division). `None`
/// when either side is constant.
fn rank_correlation_from_sums(
    n: usize,
    x: (i128, i128),
    y: (i128, i128),
    sxy: i128,
) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let n = n as i128;
    let cxy = n * sxy - x.0 * y.0;
    let cxx = n * x.1 - x.0 * x.0;
    let cyy = n * y.1 - y.0 * y.0;
    if cxx <= 0 || cyy <= 0 {
        return None;
    }
    Some((cxy as f64 / ((cxx as f64).sqrt() * (cyy as f64).sqrt())).clamp(-1.0, 1.0))
}

/// Whether the doubled ranks of `n` rows fit a `u32`.
fn fits_doubled(n: usize) -> bool {
    (n as u64) < (u32::MAX as u64) / 2 - 1
}

/// Inputs prepared once for the sensitivity of many outputs: their ranks are computed a single
/// time (ranking is the costly part of Spearman's correlation on millions of iterations).
#[derive(Debug, Clone)]
pub struct RankedInputs<'a> {
    inputs: Vec<(&'a str, &'a [f64])>,
    /// Per input: doubled average ranks (`2 * rank`, exact integers), and their Σ and Σ².
    ranks: Vec<Vec<u32>>,
    rank_sums: Vec<(i128, i128)>,
    all_finite: bool,
    /// Per input: mean and sd for standardizing (`None` = constant, left out of the regression).
    scales: Vec<Option<(f64, f64)>>,
    /// Correlation matrix of the non-constant inputs (the regression's left-hand side).
    corr: Vec<Vec<f64>>,
}

impl<'a> RankedInputs<'a> {
    /// Ranks every input column.
    pub fn new(inputs: &[(&'a str, &'a [f64])]) -> Self {
        Self::with_hints(inputs, Vec::new())
    }

    /// Like [`RankedInputs::new`], with an optional candidate order per input (`hints[i]`, the
    /// same length as the input: `hints[i][row]` a guess of the row's 0-based rank, such as a
    /// Latin Hypercube stratum). A hint is checked in linear time (one walk along it)
    /// and used only when the input's values are non-decreasing along it; otherwise that input
    /// is sorted. The results are identical to [`RankedInputs::new`]'s either way. A hint's
    /// buffer becomes its input's ranks.
    pub fn with_hints(inputs: &[(&'a str, &'a [f64])], mut hints: Vec<Option<Vec<u32>>>) -> Self {
        hints.resize_with(inputs.len(), || None);
        let all_finite = inputs
            .par_iter()
            .all(|(_, x)| x.iter().all(|v| v.is_finite()));
        let (scales, corr) = if all_finite {
            let cols: Vec<&[f64]> = inputs.iter().map(|(_, x)| *x).collect();
            let scales = scales_of(&cols);
            let active: Vec<usize> = (0..inputs.len()).filter(|&i| scales[i].is_some()).collect();
            let m = active.len();
            // The lower triangle in one blocked pass (`zdot_lower`: the same bits as `zdot` of
            // each pair, whatever the thread count).
            let cols: Vec<(&[f64], (f64, f64))> = active
                .iter()
                .filter_map(|&i| scales[i].map(|sc| (inputs[i].1, sc)))
                .collect();
            let mut flat = zdot_lower(&cols).into_iter();
            let lower: Vec<Vec<f64>> = (0..m)
                .map(|i| flat.by_ref().take(i + 1).collect())
                .collect();
            let mut corr = vec![vec![0.0; m]; m];
            for (i, row) in lower.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    corr[i][j] = v;
                    corr[j][i] = v;
                }
            }
            (scales, corr)
        } else {
            (Vec::new(), Vec::new())
        };
        // Doubled ranks fit a u32 below 2^31 rows; beyond, the general path is taken.
        // Each input's ranks and their sums in one task, while the ranks are in cache.
        let (ranks, sums): (Vec<Vec<u32>>, Vec<(i128, i128)>) =
            if all_finite && fits_doubled(inputs.first().map_or(0, |x| x.1.len())) {
                // One set of working buffers per worker, reused from input to input.
                inputs
                    .par_iter()
                    .zip(hints.into_par_iter())
                    .map_init(HintScratch::default, |scratch, ((_, x), hint)| {
                        let r = hint
                            .and_then(|h| doubled_ranks_from_hint(x, h, scratch))
                            .unwrap_or_else(|| doubled(&ranks(x)));
                        let sums = rank_sums(&r);
                        (r, sums)
                    })
                    .unzip()
            } else {
                (Vec::new(), Vec::new())
            };
        RankedInputs {
            inputs: inputs.to_vec(),
            rank_sums: sums,
            all_finite: all_finite && ranks.len() == inputs.len(),
            ranks,
            scales,
            corr,
        }
    }

    /// The regression's right-hand sides of several outputs at once: for each output, the
    /// correlation of every non-constant input with it, in one pass over the inputs for all the
    /// outputs (each block of a few input columns read once for every output) instead of one
    /// pass over every input per output.
    /// Pass each output's entry to [`Sensitivity::compute_ranked_sorted_with`]; the results are
    /// bit for bit those of [`Sensitivity::compute_ranked_sorted_in`]. An output gets `None`
    /// (and is then summed alone, or takes the general path) when it has error iterations or
    /// is constant, or when an input has.
    pub fn against(&self, outputs: &[&[f64]]) -> Vec<Option<Against>> {
        let n = self.inputs.first().map_or(0, |x| x.1.len());
        let usable: Vec<bool> = outputs
            .par_iter()
            .map(|y| self.all_finite && y.len() == n && y.iter().all(|v| v.is_finite()))
            .collect();
        let picked: Vec<&[f64]> = outputs
            .iter()
            .zip(&usable)
            .filter(|p| *p.1)
            .map(|p| *p.0)
            .collect();
        let scales = scales_of(&picked);
        let ys: Vec<(&[f64], (f64, f64))> = picked
            .iter()
            .zip(&scales)
            .filter_map(|(y, sc)| sc.map(|sc| (*y, sc)))
            .collect();
        let cols: Vec<(&[f64], (f64, f64))> = self
            .inputs
            .iter()
            .zip(&self.scales)
            .filter_map(|((_, x), sc)| sc.map(|sc| (*x, sc)))
            .collect();
        let mut sums = zdot_against_many(&cols, &ys).into_iter();
        let mut scales = scales.into_iter();
        usable
            .iter()
            .map(|&u| {
                u.then(|| scales.next().flatten())
                    .flatten()
                    .and_then(|_| sums.next().map(|sums| Against { sums }))
            })
            .collect()
    }
}

/// One output's correlations with every non-constant input, from [`RankedInputs::against`].
#[derive(Debug, Clone)]
pub struct Against {
    /// In the order of the non-constant inputs.
    sums: Vec<f64>,
}

/// The correlation of two standardized columns, standardizing on the fly:
/// Σ(a−ma)(b−mb) / ((n−1)·sa·sb). The sum runs in fixed blocks with eight accumulators, so it
/// vectorises and is the same whatever the caller's threading (sensitivities need ~1e-12, not
/// compensated sums, and this is the O(n·k²) part with many inputs). The reference for
/// [`zdot_lower`] and [`zdot_against`], which the code uses.
#[cfg(test)]
fn zdot(a: &[f64], sa: Option<(f64, f64)>, b: &[f64], sb: Option<(f64, f64)>) -> f64 {
    let (Some((ma, da)), Some((mb, db))) = (sa, sb) else {
        return 0.0;
    };
    let denom = (a.len() - 1) as f64;
    let mut total = 0.0;
    for (ca, cb) in a.chunks(4096).zip(b.chunks(4096)) {
        let mut acc = [0.0f64; 8];
        let (ea, eb) = (ca.chunks_exact(8), cb.chunks_exact(8));
        let (ra, rb) = (ea.remainder(), eb.remainder());
        for (x, y) in ea.zip(eb) {
            for i in 0..8 {
                acc[i] += (x[i] - ma) * (y[i] - mb);
            }
        }
        let mut block: f64 = acc.iter().sum();
        for (x, y) in ra.iter().zip(rb) {
            block += (x - ma) * (y - mb);
        }
        total += block;
    }
    total / (denom * da * db)
}

/// [`zdot`] of every pair `(i, j)`, `j <= i`, of the standardized columns `cols`, in the order
/// `(0, 0), (1, 0), (1, 1), (2, 0), ...` (the lower triangle of their correlation matrix), in one
/// pass over the rows: each part of [`zdot`]'s blocks of 4,096 rows is centred once per column
/// (`x - mean`: the same bits as centring it in every pair's loop) and read from the cache for
/// every pair, each pair's eight accumulators kept across the block's parts. Pairs go in 2x2
/// tiles of columns, so each loaded value serves two pairs and the four pairs' additions are
/// independent chains (one pair's eight accumulators wait on the latency of their additions);
/// each pair's sum still runs exactly as in [`zdot`] (the same block, accumulators and order),
/// so the results are bit for bit `zdot`'s. Tiles are split among the pool's threads; a pair's
/// result does not depend on the split. On a processor with AVX-512 the tiles run on 512-bit
/// vectors ([`on_wide_lanes`]). Parts and wide vectors together: on portfolio (51 inputs,
/// 500,000 iterations), 156 perf samples in two runs against 232 before.
fn zdot_lower(cols: &[(&[f64], (f64, f64))]) -> Vec<f64> {
    let m = cols.len();
    // Tile (ti, tj), tj <= ti: columns 2ti, 2ti + 1 against 2tj, 2tj + 1 (fewer at the end).
    let t = m.div_ceil(2);
    let tiles: Vec<(usize, usize)> = (0..t).flat_map(|i| (0..=i).map(move |j| (i, j))).collect();
    let threads = rayon::current_num_threads().max(1);
    let group = tiles
        .len()
        .div_ceil(if threads > 1 { threads * 4 } else { 1 })
        .max(1);
    let sums: Vec<((usize, usize), f64)> = tiles
        .par_chunks(group)
        .flat_map_iter(|tiles| {
            on_wide_lanes(
                #[inline(always)]
                || lower_tiles(cols, tiles),
            )
        })
        .collect();
    // Each pair once, in tile order: put in lower-triangle order.
    let mut out = vec![0.0; m * (m + 1) / 2];
    for ((i, j), v) in sums {
        if let Some(o) = out.get_mut(i * (i + 1) / 2 + j) {
            *o = v;
        }
    }
    out
}

/// [`zdot_lower`]'s pairs of one group of tiles, each with its value, in tile order.
#[inline(always)]
fn lower_tiles(
    cols: &[(&[f64], (f64, f64))],
    tiles: &[(usize, usize)],
) -> Vec<((usize, usize), f64)> {
    // Rows centred at a time: a part of every column of a group stays in the second-level cache
    // while every tile reads it (51 columns: 204 KiB), where a whole block of 4,096 rows (1.6
    // MiB) came from the third level once per tile. A multiple of eight.
    const PART: usize = 512;
    let m = cols.len();
    let n = cols.first().map_or(0, |c| c.0.len());
    let denom = (n.max(1) - 1) as f64;
    let span = |ti: usize| 2 * ti..(2 * ti + 2).min(m);
    // The columns the group reads, each in its slot of the centred parts.
    let mut slot = vec![usize::MAX; m];
    let mut used = Vec::new();
    for &(ti, tj) in tiles {
        for c in span(ti).chain(span(tj)) {
            if slot[c] == usize::MAX {
                slot[c] = used.len();
                used.push(c);
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for &(ti, tj) in tiles {
        for i in span(ti) {
            pairs.extend(span(tj).filter(|&j| j <= i).map(|j| (i, j)));
        }
    }
    // Rows `from..to` (at most PART of them) of the group's columns, centred.
    let centre = |centred: &mut [f64], from: usize, to: usize| {
        for (buf, &c) in centred.chunks_exact_mut(PART).zip(&used) {
            let (x, (mean, _)) = cols[c];
            let x = x.get(from..to).unwrap_or(&[]);
            for (z, &v) in buf.iter_mut().zip(x) {
                *z = v - mean;
            }
        }
    };
    let mut totals = vec![0.0f64; pairs.len()];
    // Each tile's four pairs' accumulators, kept across a block's parts.
    let mut accs = vec![[[0.0f64; 8]; 4]; tiles.len()];
    let mut centred = vec![0.0f64; used.len() * PART];
    for start in (0..n).step_by(4096) {
        let end = (start + 4096).min(n);
        // The rows the accumulators take (whole groups of eight); the rest, fewer than
        // eight, are added after the accumulators' sum, as `zdot` does.
        let whole = start + (end - start) / 8 * 8;
        accs.fill([[0.0; 8]; 4]);
        for from in (start..whole).step_by(PART) {
            let to = (from + PART).min(whole);
            centre(&mut centred, from, to);
            let col = |c: usize| &centred[slot[c] * PART..slot[c] * PART + (to - from)];
            for (&(ti, tj), acc) in tiles.iter().zip(accs.iter_mut()) {
                // A tile of one column on a side reads that column twice; the second
                // row or column of sums is not used.
                let (a, b) = (span(ti), span(tj));
                let (a1, b1) = ((a.end - 1).min(a.start + 1), (b.end - 1).min(b.start + 1));
                centred_tile([col(a.start), col(a1)], [col(b.start), col(b1)], acc);
            }
        }
        // The rows past the last whole group of eight, centred.
        centre(&mut centred, whole, end);
        let tail = |c: usize| &centred[slot[c] * PART..slot[c] * PART + (end - whole)];
        let mut out = totals.iter_mut();
        for (&(ti, tj), acc) in tiles.iter().zip(&accs) {
            let (a, b) = (span(ti), span(tj));
            for (r, i) in a.clone().enumerate() {
                for (c, j) in b.clone().enumerate().filter(|&(_, j)| j <= i) {
                    let mut block: f64 = acc[2 * r + c].iter().sum();
                    for (x, y) in tail(i).iter().zip(tail(j)) {
                        block += x * y;
                    }
                    if let Some(t) = out.next() {
                        *t += block;
                    }
                }
            }
        }
    }
    pairs
        .into_iter()
        .zip(totals)
        .map(|((i, j), t)| ((i, j), t / (denom * cols[i].1.1 * cols[j].1.1)))
        .collect::<Vec<_>>()
}

/// [`zdot`] of every column of `cols` with `y`: [`zdot_against_many`] of one `y`.
fn zdot_against(cols: &[(&[f64], (f64, f64))], y: (&[f64], (f64, f64))) -> Vec<f64> {
    zdot_against_many(cols, &[y]).pop().unwrap_or_default()
}

/// [`zdot`] of every column of `cols` with every `y` (`out[j][k]`: column `k` with `ys[j]`), in
/// one pass over the rows: each block of 4,096 rows of a group of columns is read from memory
/// once for every `y` (the inputs are the large side: an output is summed against all of them),
/// and columns go four at a time against a `y`, `y - mean` computed once per row for the four
/// (the same bits as in each pair's loop); each pair's sum runs exactly as in [`zdot`], so the
/// results are bit for bit `zdot`'s. Column groups are split among the pool's threads (at most
/// eight columns to a group with several `y`s, so that a block of the group stays in the
/// second-level cache while every `y` passes over it); a result does not depend on the split.
fn zdot_against_many(cols: &[(&[f64], (f64, f64))], ys: &[(&[f64], (f64, f64))]) -> Vec<Vec<f64>> {
    let n = ys.first().map_or(0, |y| y.0.len());
    let denom = (n.max(1) - 1) as f64;
    let threads = rayon::current_num_threads().max(1);
    let group = if ys.len() > 1 {
        cols.len().div_ceil(threads).clamp(1, 8)
    } else {
        cols.len()
            .div_ceil(if threads > 1 { threads * 2 } else { 1 })
            .max(1)
    };
    let per_group: Vec<Vec<Vec<f64>>> = cols
        .par_chunks(group)
        .map(|cols| {
            let mut totals = vec![vec![0.0f64; cols.len()]; ys.len()];
            for start in (0..n).step_by(4096) {
                let end = (start + 4096).min(n);
                let part = |k: usize| (cols[k].0.get(start..end).unwrap_or(&[]), cols[k].1.0);
                let quads = cols.len() / 4;
                for (&(yv, (my, _)), totals) in ys.iter().zip(totals.iter_mut()) {
                    let b = yv.get(start..end).unwrap_or(&[]);
                    for q in 0..quads {
                        let k = 4 * q;
                        let s =
                            tile_against([part(k), part(k + 1), part(k + 2), part(k + 3)], b, my);
                        for (t, v) in totals[k..k + 4].iter_mut().zip(s) {
                            *t += v;
                        }
                    }
                    for (k, t) in totals.iter_mut().enumerate().skip(4 * quads) {
                        let (a, ma) = part(k);
                        *t += block_dot(a, ma, b, my);
                    }
                }
            }
            totals
                .into_iter()
                .zip(ys)
                .map(|(totals, &(_, (_, sy)))| {
                    totals
                        .into_iter()
                        .zip(cols)
                        .map(|(t, c)| t / (denom * c.1.1 * sy))
                        .collect()
                })
                .collect()
        })
        .collect();
    (0..ys.len())
        .map(|j| {
            per_group
                .iter()
                .flat_map(|g| g.get(j).into_iter().flatten().copied())
                .collect()
        })
        .collect()
}

/// Adds the products of one part of a centred block to the eight accumulators of every pair of
/// an `a` with a `b` (`acc[2r + c]`: `a[r]` with `b[c]`), eight rows at a time as [`zdot`] does
/// (slices of whole groups of eight rows, all as long). The four pairs' additions are
/// independent chains, and each loaded value serves two pairs.
#[inline(always)]
fn centred_tile(a: [&[f64]; 2], b: [&[f64]; 2], acc: &mut [[f64; 8]; 4]) {
    let ([a0, a1], [b0, b1]) = (
        a.map(|s| s.as_chunks::<8>().0),
        b.map(|s| s.as_chunks::<8>().0),
    );
    // Four pairs' accumulators, each in its own registers.
    let [mut s00, mut s01, mut s10, mut s11] = *acc;
    for (((x0, x1), y0), y1) in a0.iter().zip(a1).zip(b0).zip(b1) {
        for k in 0..8 {
            s00[k] += x0[k] * y0[k];
            s01[k] += x0[k] * y1[k];
            s10[k] += x1[k] * y0[k];
            s11[k] += x1[k] * y1[k];
        }
    }
    *acc = [s00, s01, s10, s11];
}

/// One block's Σ(a−ma)(b−mb) of each of four `(a, ma)` with `b`, each exactly as [`block_dot`]
/// sums it; `b − mb` is taken once for the four (the same bits). Slices of unequal length fall
/// back on [`block_dot`] one by one.
#[inline]
fn tile_against(a: [(&[f64], f64); 4], b: &[f64], mb: f64) -> [f64; 4] {
    let len = b.len();
    if a.iter().any(|s| s.0.len() != len) {
        return a.map(|(a, ma)| block_dot(a, ma, b, mb));
    }
    let [x0, x1, x2, x3] = a.map(|s| s.0.as_chunks::<8>().0);
    let [m0, m1, m2, m3] = a.map(|s| s.1);
    let b8 = b.as_chunks::<8>().0;
    let (mut s0, mut s1, mut s2, mut s3) = ([0.0f64; 8], [0.0f64; 8], [0.0f64; 8], [0.0f64; 8]);
    for ((((y, c0), c1), c2), c3) in b8.iter().zip(x0).zip(x1).zip(x2).zip(x3) {
        for k in 0..8 {
            let yc = y[k] - mb;
            s0[k] += (c0[k] - m0) * yc;
            s1[k] += (c1[k] - m1) * yc;
            s2[k] += (c2[k] - m2) * yc;
            s3[k] += (c3[k] - m3) * yc;
        }
    }
    let tail = b8.len() * 8;
    let finish = |acc: [f64; 8], (x, ma): (&[f64], f64)| {
        let mut block: f64 = acc.iter().sum();
        for (x, y) in x[tail..].iter().zip(&b[tail..]) {
            block += (x - ma) * (y - mb);
        }
        block
    };
    [
        finish(s0, a[0]),
        finish(s1, a[1]),
        finish(s2, a[2]),
        finish(s3, a[3]),
    ]
}

/// One block's Σ(a−ma)(b−mb) as [`zdot`] sums it: eight accumulators, then the remainder.
#[inline]
fn block_dot(ca: &[f64], ma: f64, cb: &[f64], mb: f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ea, eb) = (ca.chunks_exact(8), cb.chunks_exact(8));
    let (ra, rb) = (ea.remainder(), eb.remainder());
    for (x, y) in ea.zip(eb) {
        for k in 0..8 {
            acc[k] += (x[k] - ma) * (y[k] - mb);
        }
    }
    let mut block: f64 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        block += (x - ma) * (y - mb);
    }
    block
}

/// Pearson correlation of two equally long slices; `None` when fewer than two rows or either
/// side is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    check_len("y", y.len(), x.len())?;
    let n = x.len();
    if n < 2 {
        return Ok(None);
    }
    let mx = stable_sum(x.iter().copied()) / n as f64;
    let my = stable_sum(y.iter().copied()) / n as f64;
    let sxy = stable_sum(x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)));
    let sxx = stable_sum(x.iter().map(|a| (a - mx) * (a - mx)));
    let syy = stable_sum(y.iter().map(|b| (b - my) * (b - my)));
    if !(sxx > 0.0 && syy > 0.0) {
        return Ok(None);
    }
    // sqrt(s * s) == s exactly, so identical columns give exactly 1; fall back on overflow.
    let denom = match (sxx * syy).sqrt() {
        d if d.is_finite() => d,
        _ => sxx.sqrt() * syy.sqrt(),
    };
    Ok(Some((sxy / denom).clamp(-1.0, 1.0)))
}

/// Spearman rank correlation: the Pearson correlation of the average ranks ([`ranks`]), so ties
/// are handled exactly. `None` when fewer than two rows or either side is constant.
///
/// ```
/// use mcsim_results::spearman;
/// let r = spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 100.0, 1000.0, 10000.0]).unwrap();
/// assert_eq!(r, Some(1.0));
/// ```
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    check_len("y", y.len(), x.len())?;
    pearson(&ranks(x), &ranks(y))
}

fn check_len(what: &str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(ResultsError::LengthMismatch {
            what: what.to_string(),
            got,
            expected,
        })
    }
}

/// Standardized regression coefficients of `y` on `inputs` (each a column as long as `y`).
///
/// Every variable is standardized (`(x - mean) / sd`) and `y` is regressed on all of them at
/// once by least squares; the coefficients are the solution of `R β = r`, with `R` the inputs'
/// correlation matrix and `r` their correlations with `y`, solved by Cholesky factorisation.
/// A coefficient is `None` when its input is constant, or is (within `1e-9` of residual
/// variance) a linear combination of the inputs before it (collinear inputs: the first one is
/// kept); such inputs are left out of the regression rather than failing it. All `None` when
/// `y` is constant or there are fewer than two rows.
pub fn standardized_regression(inputs: &[&[f64]], y: &[f64]) -> Result<Vec<Option<f64>>> {
    for (i, x) in inputs.iter().enumerate() {
        check_len(&format!("input {i}"), x.len(), y.len())?;
    }
    let k = inputs.len();
    let n = y.len();
    let mut out = vec![None; k];
    let Some(zy) = standardize(y) else {
        return Ok(out);
    };
    let cols: Vec<Option<Vec<f64>>> = inputs.iter().map(|x| standardize(x)).collect();
    let active: Vec<usize> = (0..k).filter(|&i| cols[i].is_some()).collect();
    let z: Vec<&[f64]> = active.iter().filter_map(|&i| cols[i].as_deref()).collect();
    let m = z.len();
    let denom = (n - 1) as f64;
    let dot = |a: &[f64], b: &[f64]| stable_sum(a.iter().zip(b).map(|(p, q)| p * q)) / denom;
    // (`RankedInputs` computes the same dot products by standardizing on the fly.)
    let mut r = vec![vec![0.0; m]; m];
    let mut ry = vec![0.0; m];
    for i in 0..m {
        for j in 0..=i {
            let v = dot(z[i], z[j]);
            r[i][j] = v;
            r[j][i] = v;
        }
        ry[i] = dot(z[i], &zy);
    }
    let beta = solve_spd_dropping(&r, &ry, 1e-9);
    for (a, b) in active.iter().zip(beta) {
        out[*a] = b;
    }
    Ok(out)
}

/// z-scores of `x`; `None` when fewer than two values or constant.
fn standardize(x: &[f64]) -> Option<Vec<f64>> {
    let (mean, sd) = scale_of(x)?;
    Some(x.iter().map(|v| (v - mean) / sd).collect())
}

/// Mean and standard deviation used to standardize `x`; `None` when it is (numerically) constant.
fn scale_of(x: &[f64]) -> Option<(f64, f64)> {
    let n = x.len();
    if n < 2 {
        return None;
    }
    let mean = stable_sum(x.iter().copied()) / n as f64;
    let ss = stable_sum(x.iter().map(|v| (v - mean) * (v - mean)));
    scale_from(n, mean, ss)
}

/// [`scale_of`] of every column. Columns of one length go four at a time: each column's two
/// compensated sums see exactly the values, in exactly the order, that `scale_of` gives them, so
/// the results are its bits; interleaved, the four serial sums overlap instead of each one
/// waiting on the latency of its own additions.
fn scales_of(cols: &[&[f64]]) -> Vec<Option<(f64, f64)>> {
    // Groups of four on the pool's threads; each group's results do not depend on the split.
    let groups: Vec<Vec<Option<(f64, f64)>>> = cols.par_chunks(4).map(scales_of_group).collect();
    groups.concat()
}

/// [`scales_of`] of at most four columns.
fn scales_of_group(group: &[&[f64]]) -> Vec<Option<(f64, f64)>> {
    let n = group.first().map_or(0, |x| x.len());
    let [a, b, c, d] = group else {
        return group.iter().map(|x| scale_of(x)).collect();
    };
    if n < 2 || group.iter().any(|x| x.len() != n) {
        return group.iter().map(|x| scale_of(x)).collect();
    }
    let rows = || {
        a.iter()
            .zip(*b)
            .zip(*c)
            .zip(*d)
            .map(|(((a, b), c), d)| [*a, *b, *c, *d])
    };
    let mut sums = [StableSum::new(); 4];
    for v in rows() {
        for (s, v) in sums.iter_mut().zip(v) {
            s.add(v);
        }
    }
    let means = sums.map(|s| s.value() / n as f64);
    let mut sums = [StableSum::new(); 4];
    for v in rows() {
        for ((s, v), m) in sums.iter_mut().zip(v).zip(means) {
            s.add((v - m) * (v - m));
        }
    }
    sums.iter()
        .zip(means)
        .map(|(ss, mean)| scale_from(n, mean, ss.value()))
        .collect()
}

/// Mean and standard deviation from the mean and the sum of squared deviations of `n` values,
/// as [`scale_of`] judges them (`None`: constant).
fn scale_from(n: usize, mean: f64, ss: f64) -> Option<(f64, f64)> {
    let sd = (ss / (n - 1) as f64).sqrt();
    if !sd.is_finite() || sd <= 0.0 {
        return None;
    }
    // A column whose spread is rounding noise relative to its level is constant.
    if sd <= mean.abs() * 1e-13 {
        return None;
    }
    Some((mean, sd))
}

/// Solves `a x = b` for a symmetric positive semi-definite `a` (unit diagonal scale) by Cholesky,
/// skipping any column whose pivot falls below `tol` (dependent on earlier columns): its
/// coefficient is `None` and it is left out of the system.
pub(crate) fn solve_spd_dropping(a: &[Vec<f64>], b: &[f64], tol: f64) -> Vec<Option<f64>> {
    let m = b.len();
    let mut l = vec![vec![0.0; m]; m];
    let mut keep = vec![false; m];
    for j in 0..m {
        let kept: Vec<usize> = (0..j).filter(|&q| keep[q]).collect();
        let d = a[j][j] - kept.iter().map(|&q| l[j][q] * l[j][q]).sum::<f64>();
        if d.is_nan() || d <= tol * a[j][j].max(f64::MIN_POSITIVE) {
            continue;
        }
        keep[j] = true;
        let ljj = d.sqrt();
        l[j][j] = ljj;
        for i in j + 1..m {
            let s = a[i][j] - kept.iter().map(|&q| l[i][q] * l[j][q]).sum::<f64>();
            l[i][j] = s / ljj;
        }
    }
    let idx: Vec<usize> = (0..m).filter(|&q| keep[q]).collect();
    // Forward: L y = b; backward: L^T x = y, over the kept indices only.
    let mut yv = vec![0.0; m];
    for (pi, &i) in idx.iter().enumerate() {
        let s: f64 = idx[..pi].iter().map(|&q| l[i][q] * yv[q]).sum();
        yv[i] = (b[i] - s) / l[i][i];
    }
    let mut x = vec![0.0; m];
    for (pi, &i) in idx.iter().enumerate().rev() {
        let s: f64 = idx[pi + 1..].iter().map(|&q| l[q][i] * x[q]).sum();
        x[i] = (yv[i] - s) / l[i][i];
    }
    (0..m).map(|q| keep[q].then_some(x[q])).collect()
}

/// Sensitivity of one output to one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityEntry {
    /// The input's name.
    pub input: String,
    /// Spearman rank correlation of the input with the output ([`spearman`]).
    pub spearman: Option<f64>,
    /// Standardized regression coefficient ([`standardized_regression`]).
    pub src: Option<f64>,
    /// Contribution to variance: this input's squared rank correlation divided by the sum of all
    /// inputs' squared rank correlations (`ρᵢ² / Σ ρⱼ²`), so the shares add up to 1. This is
    /// a normalised ranking measure, not a variance decomposition (inputs that are correlated with
    /// each other share credit).
    pub contribution: Option<f64>,
}

/// Sensitivity of one output to every input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The output's name.
    pub output: String,
    /// Rows used: iterations where the output and every input are finite (error iterations of
    /// the output, read back as `NaN`, are dropped).
    pub n: usize,
    /// One entry per input, in the order given.
    pub entries: Vec<SensitivityEntry>,
}

impl Sensitivity {
    /// Computes rank correlations, standardized regression coefficients and contributions for
    /// `output` against each `(name, samples)` input. All slices are per iteration and must have
    /// the same length.
    ///
    /// ```
    /// use mcsim_results::Sensitivity;
    /// let a: Vec<f64> = (0..50).map(|i| (i * 7 % 50) as f64).collect();
    /// let b: Vec<f64> = (0..50).map(|i| (i * 13 % 50) as f64).collect();
    /// let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| 2.0 * a - b).collect();
    /// let s = Sensitivity::compute("y", &y, &[("a", &a), ("b", &b)]).unwrap();
    /// assert_eq!(s.tornado()[0].input, "a");
    /// ```
    pub fn compute(output: &str, samples: &[f64], inputs: &[(&str, &[f64])]) -> Result<Self> {
        for (name, x) in inputs {
            check_len(&format!("input `{name}`"), x.len(), samples.len())?;
        }
        let rows: Vec<usize> = (0..samples.len())
            .filter(|&i| samples[i].is_finite() && inputs.iter().all(|(_, x)| x[i].is_finite()))
            .collect();
        let pick = |x: &[f64]| -> Vec<f64> { rows.iter().map(|&i| x[i]).collect() };
        let y = pick(samples);
        let xs: Vec<Vec<f64>> = inputs.iter().map(|(_, x)| pick(x)).collect();
        let ry = ranks(&y);
        let mut rho = Vec::with_capacity(xs.len());
        for x in &xs {
            rho.push(pearson(&ranks(x), &ry)?);
        }
        let refs: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
        let src = standardized_regression(&refs, &y)?;
        Ok(Self::assemble(output, rows.len(), inputs, rho, src))
    }

    /// Like [`Sensitivity::compute`], reusing the inputs' ranks (the results are identical).
    pub fn compute_ranked(
        output: &str,
        samples: &[f64],
        ranked: &RankedInputs<'_>,
    ) -> Result<Self> {
        Self::compute_ranked_sorted(output, samples, &SortedColumn::new(samples), ranked)
    }

    /// Like [`Sensitivity::compute_ranked`], with the output's sorted view `sorted` (which must
    /// be [`SortedColumn::new`] of `samples`) giving its ranks without another sort. When the
    /// output has error iterations (`NaN` rows, dropped), the inputs' ranks over the remaining
    /// rows are derived from their full ranks in linear time rather than by sorting each input
    /// again; the results are identical to [`Sensitivity::compute`].
    pub fn compute_ranked_sorted(
        output: &str,
        samples: &[f64],
        sorted: &SortedColumn,
        ranked: &RankedInputs<'_>,
    ) -> Result<Self> {
        Self::compute_ranked_sorted_in(output, samples, sorted, ranked, &mut SortScratch::default())
    }

    /// [`Sensitivity::compute_ranked_sorted`] with the output's ranks written in `scratch`'s
    /// buffer (reused from output to output).
    pub fn compute_ranked_sorted_in(
        output: &str,
        samples: &[f64],
        sorted: &SortedColumn,
        ranked: &RankedInputs<'_>,
        scratch: &mut SortScratch,
    ) -> Result<Self> {
        Self::compute_ranked_sorted_with(output, samples, sorted, ranked, None, scratch)
    }

    /// [`Sensitivity::compute_ranked_sorted_in`] with the output's correlations with the inputs
    /// already summed by [`RankedInputs::against`] (`None`: summed here).
    pub fn compute_ranked_sorted_with(
        output: &str,
        samples: &[f64],
        sorted: &SortedColumn,
        ranked: &RankedInputs<'_>,
        against: Option<&Against>,
        scratch: &mut SortScratch,
    ) -> Result<Self> {
        for (name, x) in &ranked.inputs {
            check_len(&format!("input `{name}`"), x.len(), samples.len())?;
        }
        if !ranked.all_finite || sorted.len != samples.len() {
            return Self::compute(output, samples, &ranked.inputs);
        }
        if !sorted.all_finite() {
            // The rows kept are those where the output is finite (every input is).
            let keep: Vec<bool> = samples.iter().map(|v| v.is_finite()).collect();
            let pick = |x: &[f64]| -> Vec<f64> {
                x.iter().zip(&keep).filter(|p| *p.1).map(|p| *p.0).collect()
            };
            let y = pick(samples);
            let ry = pick(&sorted.ranks_in_place());
            let mut rho = Vec::with_capacity(ranked.ranks.len());
            for rx in &ranked.ranks {
                let full: Vec<f64> = rx.iter().map(|&d| f64::from(d) / 2.0).collect();
                rho.push(pearson(&subset_ranks(&full, &keep), &ry)?);
            }
            let xs: Vec<Vec<f64>> = ranked.inputs.iter().map(|(_, x)| pick(x)).collect();
            let refs: Vec<&[f64]> = xs.iter().map(Vec::as_slice).collect();
            let src = standardized_regression(&refs, &y)?;
            return Ok(Self::assemble(output, y.len(), &ranked.inputs, rho, src));
        }
        // The rank correlations and the regression are independent: two tasks, so that the
        // pool's threads share the last outputs' work instead of one thread finishing alone.
        let (rho, src) = rayon::join(
            || {
                // Exact integer sums of doubled ranks: the same value as `rank_correlation` of
                // each pair, with the output's ranks read once per chunk for every input.
                sorted.doubled_ranks_into(&mut scratch.ranks);
                let ry = &scratch.ranks;
                let y_sums = rank_sums(ry);
                let rxs: Vec<&[u32]> = ranked.ranks.iter().map(Vec::as_slice).collect();
                rank_cross_sums(ry, &rxs)
                    .into_iter()
                    .zip(&ranked.rank_sums)
                    .map(|(sxy, &x_sums)| rank_correlation_from_sums(ry.len(), x_sums, y_sums, sxy))
                    .collect::<Vec<_>>()
            },
            || {
                let mut src = vec![None; ranked.inputs.len()];
                let active: Vec<usize> = (0..ranked.inputs.len())
                    .filter(|&i| ranked.scales[i].is_some())
                    .collect();
                let ry = match against {
                    Some(a) => Some(a.sums.clone()),
                    // Every input against the output in one blocked pass (the same bits as
                    // `zdot`).
                    None => scale_of(samples).map(|sy| {
                        let cols: Vec<(&[f64], (f64, f64))> = active
                            .iter()
                            .filter_map(|&i| ranked.scales[i].map(|sc| (ranked.inputs[i].1, sc)))
                            .collect();
                        zdot_against(&cols, (samples, sy))
                    }),
                };
                if let Some(ry) = ry {
                    let beta = solve_spd_dropping(&ranked.corr, &ry, 1e-9);
                    for (a, b) in active.iter().zip(beta) {
                        src[*a] = b;
                    }
                }
                src
            },
        );
        Ok(Self::assemble(
            output,
            samples.len(),
            &ranked.inputs,
            rho,
            src,
        ))
    }

    fn assemble(
        output: &str,
        n: usize,
        inputs: &[(&str, &[f64])],
        rho: Vec<Option<f64>>,
        src: Vec<Option<f64>>,
    ) -> Self {
        let names: Vec<&str> = inputs.iter().map(|(name, _)| *name).collect();
        Self::assemble_names(output, n, &names, rho, src)
    }

    /// The entries from per-input correlations and coefficients; contributions are the squared
    /// correlations' shares.
    pub(crate) fn assemble_names(
        output: &str,
        n: usize,
        inputs: &[&str],
        rho: Vec<Option<f64>>,
        src: Vec<Option<f64>>,
    ) -> Self {
        let total: f64 = rho.iter().flatten().map(|r| r * r).sum();
        let entries = inputs
            .iter()
            .zip(rho.iter().zip(src))
            .map(|(name, (r, s))| SensitivityEntry {
                input: (*name).to_string(),
                spearman: *r,
                src: s,
                contribution: r.and_then(|r| (total > 0.0).then(|| r * r / total)),
            })
            .collect();
        Sensitivity {
            output: output.to_string(),
            n,
            entries,
        }
    }

    /// The tornado ranking: entries sorted by `|spearman|`, largest first; inputs without a
    /// correlation (constant) come last; ties keep the input order.
    pub fn tornado(&self) -> Vec<&SensitivityEntry> {
        let mut v: Vec<&SensitivityEntry> = self.entries.iter().collect();
        v.sort_by(|a, b| {
            let key = |e: &SensitivityEntry| e.spearman.map_or(-1.0, f64::abs);
            key(b).total_cmp(&key(a))
        });
        v
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The candidate order that a Latin Hypercube stratum would give: each row's 0-based rank,
    /// ties broken by row.
    fn true_order(x: &[f64]) -> Vec<u32> {
        let mut idx: Vec<usize> = (0..x.len()).collect();
        idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(a.cmp(&b)));
        let mut h = vec![0u32; x.len()];
        for (rank, &row) in idx.iter().enumerate() {
            h[row] = rank as u32;
        }
        h
    }

    #[test]
    fn ranks_from_a_hint_equal_sorted_ranks_or_are_refused() {
        // 9,000 rows: three buckets of candidate ranks (4,096 each, the last one part full).
        let u = uniforms(5, 9_000);
        // Distinct values, then heavy ties (runs across buckets), then signed zeros and ties
        // across them.
        let distinct: Vec<f64> = u.iter().map(|v| (v - 0.5) * 1e3).collect();
        let tied: Vec<f64> = u.iter().map(|v| (v * 7.0).floor()).collect();
        let zeros: Vec<f64> = u
            .iter()
            .map(|&v| {
                if v < 0.3 {
                    -0.0
                } else if v < 0.6 {
                    0.0
                } else {
                    v
                }
            })
            .collect();
        for x in [&distinct, &tied, &zeros] {
            let want = doubled(&ranks(x));
            let hint = true_order(x);
            let mut scratch = HintScratch::default();
            let from = |h: &[u32], scratch: &mut HintScratch| {
                doubled_ranks_from_hint(x, h.to_vec(), scratch)
            };
            assert_eq!(from(&hint, &mut scratch), Some(want.clone()));
            let at = |r: u32| hint.iter().position(|&h| h == r).unwrap();
            // Hints that break the order: within a bucket, and across a bucket's end.
            let mut swapped = hint.clone();
            let (a, b) = (at(10), at(4_000));
            swapped.swap(a, b);
            let mut across = hint.clone();
            across.swap(at(4_095), at(4_096));
            // Values that are equal may swap: the result is the same only if they are tied.
            let tied_there = x[at(4_095)] == x[at(4_096)];
            assert_eq!(
                from(&across, &mut scratch),
                tied_there.then(|| want.clone()),
                "across"
            );
            // Not permutations: a rank repeated within its bucket, a rank repeated in another
            // bucket (which is then overfull), one beyond n; and a hint too short.
            let mut repeated = hint.clone();
            repeated[a] = hint[b];
            let mut elsewhere = hint.clone();
            elsewhere[a] = 8_500;
            let mut beyond = hint.clone();
            beyond[a] = x.len() as u32;
            for bad in [&repeated, &elsewhere, &beyond] {
                assert_eq!(from(bad, &mut scratch), None);
            }
            assert_eq!(from(&hint[1..], &mut scratch), None);
            assert_eq!(from(&swapped, &mut scratch), None);
            // And the good hint again through the same buffers.
            assert_eq!(from(&hint, &mut scratch), Some(want.clone()));
            // Through RankedInputs: a good, a bad and a missing hint give `new`'s ranks.
            let named = [
                ("a", x.as_slice()),
                ("b", x.as_slice()),
                ("c", x.as_slice()),
            ];
            let hinted = RankedInputs::with_hints(&named, vec![Some(hint), Some(swapped), None]);
            let plain = RankedInputs::new(&named);
            assert_eq!(hinted.ranks, plain.ranks);
            assert_eq!(hinted.rank_sums, plain.rank_sums);
        }
    }

    #[test]
    fn a_reused_key_buffer_does_not_leak_into_the_next_input() {
        // Inputs of one length through one set of buffers (stale keys are overwritten), then
        // shorter ones (the buffers are resized: one bucket, then part of one); each as if
        // ranked alone.
        let mut scratch = HintScratch::default();
        for (seed, n, levels) in [
            (7, 10_000, 0.0),
            (8, 10_000, 5.0),
            (9, 10_000, 0.0),
            (10, 4_096, 3.0),
            (11, 1_500, 3.0),
            (12, 1, 0.0),
            (13, 0, 0.0),
        ] {
            let u = uniforms(seed, n);
            let x: Vec<f64> = if levels > 0.0 {
                u.iter().map(|v| (v * levels).floor()).collect()
            } else {
                u.iter().map(|v| v.ln()).collect()
            };
            let got = doubled_ranks_from_hint(&x, true_order(&x), &mut scratch);
            assert_eq!(got, Some(doubled(&ranks(&x))), "seed {seed}");
        }
    }

    #[test]
    fn scales_of_gives_scale_of_bit_for_bit() {
        // Nine columns (two groups of four and one left over), with a constant column, one of
        // huge level and tiny spread (judged constant), and one with magnitudes far apart.
        let n = 10_001;
        let mut cols: Vec<Vec<f64>> = (0..6u64)
            .map(|k| {
                uniforms(k + 40, n)
                    .iter()
                    .map(|u| (u - 0.4) * 10f64.powi(k as i32 * 3 - 6))
                    .collect()
            })
            .collect();
        cols.push(vec![3.5; n]);
        cols.push(uniforms(50, n).iter().map(|u| 1e9 + u * 1e-6).collect());
        cols.push(
            uniforms(51, n)
                .iter()
                .enumerate()
                .map(|(i, u)| if i % 7 == 0 { u * 1e12 } else { *u })
                .collect(),
        );
        let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let bits = |s: Option<(f64, f64)>| s.map(|(m, d)| (m.to_bits(), d.to_bits()));
        let many = scales_of(&refs);
        assert_eq!(many.len(), refs.len());
        for (got, col) in many.iter().zip(&refs) {
            assert_eq!(bits(*got), bits(scale_of(col)));
        }
        assert_eq!(many[6], None);
        assert_eq!(many[7], None);
        // Columns of unequal length, and a group shorter than four.
        let uneven = [refs[0], &refs[1][..500], refs[2], refs[3], refs[4]];
        for (got, col) in scales_of(&uneven).iter().zip(&uneven) {
            assert_eq!(bits(*got), bits(scale_of(col)));
        }
    }

    #[test]
    fn tiled_zdots_give_zdot_bit_for_bit() {
        // 10,001 rows: two whole 4,096-row blocks, then a partial one ending in a part-group;
        // and 4,100 rows (a short last block of whole groups). Column counts: odd and even
        // (whole and part tiles, the against-loop's groups of four and remainders), one alone.
        for rows in [10_001, 4_100, 7] {
            let cols: Vec<Vec<f64>> = (0..11u64)
                .map(|k| {
                    uniforms(k + 11, rows)
                        .iter()
                        .map(|u| u * (k as f64 + 1.0) + k as f64 - 3.0)
                        .collect()
                })
                .collect();
            let scaled: Vec<(&[f64], (f64, f64))> = cols
                .iter()
                .map(|c| (c.as_slice(), scale_of(c).unwrap()))
                .collect();
            let want = |i: usize, j: usize| {
                zdot(
                    scaled[i].0,
                    Some(scaled[i].1),
                    scaled[j].0,
                    Some(scaled[j].1),
                )
                .to_bits()
            };
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                for m in [1, 2, 3, 4, 5, 9, 10] {
                    let lower = pool.install(|| zdot_lower(&scaled[..m]));
                    assert_eq!(lower.len(), m * (m + 1) / 2);
                    let mut k = 0;
                    for i in 0..m {
                        for j in 0..=i {
                            assert_eq!(lower[k].to_bits(), want(i, j), "({i}, {j}) {m} {threads}");
                            k += 1;
                        }
                    }
                    // Each of the first m columns against the last one (an output's row).
                    let y = scaled[10];
                    let row = pool.install(|| zdot_against(&scaled[..m], y));
                    assert_eq!(row.len(), m);
                    for (i, got) in row.iter().enumerate() {
                        assert_eq!(got.to_bits(), want(i, 10), "({i}, y) {m} {threads}");
                    }
                    // Several `y`s at once: each row as if alone.
                    let ys = [scaled[10], scaled[m.min(9)], scaled[0]];
                    let rows = pool.install(|| zdot_against_many(&scaled[..m], &ys));
                    assert_eq!(rows.len(), ys.len());
                    for (row, j) in rows.iter().zip([10, m.min(9), 0]) {
                        assert_eq!(row.len(), m);
                        for (i, got) in row.iter().enumerate() {
                            assert_eq!(got.to_bits(), want(i, j), "({i}, {j}) {m} {threads}");
                        }
                    }
                }
            }
            // A column with itself: 1 up to rounding.
            assert!((f64::from_bits(want(0, 0)) - 1.0).abs() < 1e-12);
        }
        assert!(zdot_lower(&[]).is_empty());
    }

    #[test]
    fn outputs_against_inputs_at_once_give_each_outputs_sensitivity() {
        // 9 inputs (one constant, left out of the regression) and outputs that take each path:
        // ordinary ones, one with error iterations and one constant (no shared sums: summed
        // alone or by the general path), on 10,001 rows.
        let rows = 10_001;
        let mut inputs: Vec<Vec<f64>> = (0..8u64).map(|k| uniforms(k + 40, rows)).collect();
        inputs.push(vec![2.5; rows]);
        let y = |w: &[f64]| -> Vec<f64> {
            (0..rows)
                .map(|r| inputs.iter().zip(w).map(|(x, w)| x[r] * w).sum::<f64>())
                .collect()
        };
        let mut with_errors = y(&[1.0, -2.0, 0.5, 0.0, 3.0, 1.0, 1.0, -1.0, 0.0]);
        with_errors[17] = f64::NAN;
        let outputs = [
            y(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 0.0]),
            y(&[-1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.0]),
            with_errors,
            vec![7.0; rows],
            y(&[0.0, 0.0, 9.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
        ];
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "k"];
        let named: Vec<(&str, &[f64])> = names
            .iter()
            .copied()
            .zip(inputs.iter().map(Vec::as_slice))
            .collect();
        let outs: Vec<&[f64]> = outputs.iter().map(Vec::as_slice).collect();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let ranked = pool.install(|| RankedInputs::new(&named));
            let against = pool.install(|| ranked.against(&outs));
            assert_eq!(against.len(), outs.len());
            let shared: Vec<bool> = against.iter().map(Option::is_some).collect();
            assert_eq!(
                shared,
                [true, true, false, false, true],
                "{threads} threads"
            );
            for (k, out) in outs.iter().enumerate() {
                let sorted = SortedColumn::new(out);
                let mut scratch = SortScratch::default();
                let alone = pool.install(|| {
                    Sensitivity::compute_ranked_sorted_in("y", out, &sorted, &ranked, &mut scratch)
                });
                let with = pool.install(|| {
                    Sensitivity::compute_ranked_sorted_with(
                        "y",
                        out,
                        &sorted,
                        &ranked,
                        against[k].as_ref(),
                        &mut scratch,
                    )
                });
                // Debug prints each f64 so that it reads back to the same bits.
                assert_eq!(
                    format!("{:?}", with.unwrap()),
                    format!("{:?}", alone.unwrap()),
                    "output {k}, {threads} threads"
                );
            }
        }
    }

    /// A small deterministic generator (SplitMix64) for test data.
    fn uniforms(seed: u64, n: usize) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                (z >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect()
    }

    #[test]
    fn average_ranks_for_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 30.0]), vec![1.0, 2.5, 2.5, 4.0]);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 3.0]), vec![3.0, 1.0, 3.0, 3.0]);
    }

    #[test]
    fn spearman_with_ties_matches_hand_value() {
        // x ranks: 1, 2.5, 2.5, 4, 5; y ranks: 2, 1, 4, 3, 5.
        // Pearson of those: mean 3 each; dx = -2,-.5,-.5,1,2; dy = -1,-2,1,0,2.
        // sxy = 2+1-.5+0+4 = 6.5; sxx = 4+.25+.25+1+4 = 9.5; syy = 1+4+1+0+4 = 10.
        let x = [1.0, 2.0, 2.0, 3.0, 4.0];
        let y = [20.0, 10.0, 40.0, 30.0, 50.0];
        let r = spearman(&x, &y).unwrap().unwrap();
        assert!((r - 6.5 / (9.5f64 * 10.0).sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(spearman(&x, &[1.0; 5]).unwrap(), None);
        assert!(spearman(&x, &[1.0; 4]).is_err());
    }

    #[test]
    fn src_recovers_linear_model() {
        let n = 5000;
        let a = uniforms(1, n);
        let b = uniforms(2, n);
        let e = uniforms(3, n);
        let c = vec![7.0; n]; // constant input
        let y: Vec<f64> = (0..n)
            .map(|i| 2.0 * a[i] - b[i] + 0.1 * (e[i] - 0.5))
            .collect();
        let src = standardized_regression(&[&a, &b, &c], &y).unwrap();
        // Uniform inputs have equal sd, so SRC_a / SRC_b ≈ -2 and SRC_a ≈ 2/sqrt(5) ≈ 0.894.
        let (sa, sb) = (src[0].unwrap(), src[1].unwrap());
        assert!((sa - 2.0 / 5f64.sqrt()).abs() < 0.02, "{sa}");
        assert!((sb + 1.0 / 5f64.sqrt()).abs() < 0.02, "{sb}");
        assert_eq!(src[2], None);

        let s = Sensitivity::compute("y", &y, &[("a", &a), ("b", &b), ("c", &c)]).unwrap();
        let t: Vec<&str> = s.tornado().iter().map(|e| e.input.as_str()).collect();
        assert_eq!(t, ["a", "b", "c"]);
        assert!(s.entries[0].spearman.unwrap() > 0.85);
        assert!(s.entries[1].spearman.unwrap() < -0.35);
        let shares: f64 = s.entries.iter().filter_map(|e| e.contribution).sum();
        assert!((shares - 1.0).abs() < 1e-12);
        assert_eq!(s.entries[2].contribution, None);
    }

    #[test]
    fn collinear_input_is_none_not_error() {
        let a = uniforms(4, 200);
        let b = uniforms(5, 200);
        let a2: Vec<f64> = a.iter().map(|v| 3.0 * v + 1.0).collect();
        let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| a + b).collect();
        let src = standardized_regression(&[&a, &a2, &b], &y).unwrap();
        assert!(src[0].is_some() && src[2].is_some());
        assert_eq!(src[1], None);
        assert!((src[0].unwrap() - src[2].unwrap()).abs() < 0.2);
    }

    #[test]
    fn error_rows_are_dropped() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [1.0, f64::NAN, 9.0, 16.0];
        let s = Sensitivity::compute("y", &y, &[("x", &x)]).unwrap();
        assert_eq!(s.n, 3);
        assert!((s.entries[0].spearman.unwrap() - 1.0).abs() < 1e-12);
    }
}

#[cfg(test)]
mod ranked_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ranked_inputs_give_the_same_sensitivity() {
        let a: Vec<f64> = (0..500).map(|i| ((i * 7919) % 500) as f64 * 0.37).collect();
        let b: Vec<f64> = (0..500).map(|i| ((i * 104_729) % 500) as f64).collect();
        let y: Vec<f64> = a
            .iter()
            .zip(&b)
            .map(|(a, b)| 2.0 * a - b + (a * b).sin())
            .collect();
        let inputs = [("a", a.as_slice()), ("b", b.as_slice())];
        let plain = Sensitivity::compute("y", &y, &inputs).unwrap();
        let ranked = Sensitivity::compute_ranked("y", &y, &RankedInputs::new(&inputs)).unwrap();
        for (p, r) in plain.entries.iter().zip(&ranked.entries) {
            let (x, z) = (p.spearman.unwrap(), r.spearman.unwrap());
            assert!((x - z).abs() <= 1e-13, "{x} vs {z}");
            let (x, z) = (p.src.unwrap(), r.src.unwrap());
            assert!((x - z).abs() <= 1e-12 * x.abs(), "{x} vs {z}");
        }
    }

    #[test]
    fn nan_rows_reuse_input_ranks_with_identical_results() {
        let n = 3000;
        let a: Vec<f64> = (0..n).map(|i| ((i * 7919) % 613) as f64 * 0.37).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 1999) as f64).collect();
        let y: Vec<f64> = a
            .iter()
            .zip(&b)
            .enumerate()
            .map(|(i, (a, b))| {
                if i % 17 == 3 {
                    f64::NAN
                } else {
                    2.0 * a - b + (a * b).sin()
                }
            })
            .collect();
        let inputs = [("a", a.as_slice()), ("b", b.as_slice())];
        let plain = Sensitivity::compute("y", &y, &inputs).unwrap();
        let ranked = Sensitivity::compute_ranked("y", &y, &RankedInputs::new(&inputs)).unwrap();
        assert_eq!(plain.n, ranked.n);
        assert!(plain.n < n);
        for (p, r) in plain.entries.iter().zip(&ranked.entries) {
            assert_eq!(p.spearman.unwrap().to_bits(), r.spearman.unwrap().to_bits());
            assert_eq!(p.src.unwrap().to_bits(), r.src.unwrap().to_bits());
        }
    }
}
