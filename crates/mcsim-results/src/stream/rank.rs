//! Streaming sensitivity: approximate ranks from a first pass, sums merged per block.

use serde::{Deserialize, Serialize};

use crate::sensitivity::{Sensitivity, solve_spd_dropping};
use crate::sorted::key;

use super::histogram::{Histogram, MANY_KEYS, clamped_range, clamped_sub_range};
use super::moments::{Dd, dd_add_f64};

/// How one bucket maps values to ranks: `clamp(base + (x - lo) * scale, rmin, rmax)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Slot {
    lo: f64,
    scale: f64,
    base: f64,
    rmin: f64,
    rmax: f64,
}

impl Slot {
    fn point(r: f64) -> Slot {
        Slot {
            base: r,
            rmin: r,
            rmax: r,
            ..Slot::default()
        }
    }

    /// Ranks `base + c * F` for `F` linear from 0 at `lo` to `1` at `hi`, clamped to
    /// `[rmin, rmax]`.
    fn linear(lo: f64, hi: f64, base: f64, c: f64, rmin: f64, rmax: f64) -> Slot {
        if hi > lo {
            Slot {
                lo,
                scale: c / (hi - lo),
                base,
                rmin,
                rmax,
            }
        } else {
            Slot::point((base + c / 2.0).max(rmin).min(rmax))
        }
    }

    /// The rank of a finite `x` (a point slot gives `base` for any finite `x`: `x * 0` is a
    /// zero and `base > 0`).
    #[inline]
    fn at(&self, x: f64) -> f64 {
        (self.base + (x - self.lo) * self.scale)
            .max(self.rmin)
            .min(self.rmax)
    }
}

/// Pages of 16 buckets: the top 12 key bits.
const PAGES: usize = 4096;

/// Maps a value to its approximate mid-rank (1-based, among `n`) from a first pass's histogram:
/// cumulative count below its bucket + linear interpolation inside the bucket (bucket bounds
/// clamped by `min`/`max`), i.e. the first pass's empirical CDF made piecewise linear between
/// bucket bounds.
///
/// Point masses: a bucket whose values all had the same bits (the histogram records it) maps to
/// its exact mid-rank `below + (count + 1) / 2`, so discrete inputs (binomial, integer, rounded)
/// get exact ranks. In a bucket with several distinct values the rank is
/// `below + 0.5 + count * F(x)`, clamped to `[below + 1, below + count]`, with `F` the estimated
/// share of the bucket's values below `x`: linear from `lo` to `hi` (the bucket's value range), or,
/// when the histogram has detail for the bucket (a heavy bucket: narrow distributions),
/// piecewise linear through the detail's 256 sub-bucket shares. The error is at most the
/// bucket's count, and in practice a small fraction of it (measured by
/// `examples/stream_accuracy.rs`). A value in a bucket the first pass never saw gets
/// `below + 0.5`. Non-finite values map to `NaN`.
///
/// Lookup is O(1) and branch-free: a page table over the top 12 key bits gives the page's 16
/// bucket entries, and a bucket's entry the position of its slot in one flat array (of its 256
/// sub-bucket slots, picked by the next 8 key bits, when it has detail); pages the first pass
/// never hit share one page of point slots per run of such pages. Memory ~16 KiB plus 0.7 KiB
/// per 16 buckets the column hit plus 10 KiB per bucket with detail. One per column, shared
/// read-only by all workers.
#[derive(Debug, Clone)]
pub struct RankMap {
    n: u64,
    /// Per page: the position in `buckets` of its 16 entries.
    pages: Box<[u32; PAGES]>,
    /// Per bucket: `2 * (position of its slot in `slots`) + 1 if it has 256 sub-bucket slots`.
    buckets: Vec<u32>,
    slots: Vec<Slot>,
}

impl RankMap {
    /// The rank map of a column from its first-pass histogram and its min and max.
    pub fn new(hist: &Histogram, min: f64, max: f64) -> Self {
        let mut pages = Box::new([0u32; PAGES]);
        let mut buckets: Vec<u32> = Vec::new();
        let mut slots: Vec<Slot> = Vec::new();
        let entries: Vec<_> = hist.counts.entries().collect();
        let mut below = 0u64;
        let mut ei = 0;
        // The shared page of the current run of pages never hit (reset after each hit page).
        let mut gap_page: Option<u32> = None;
        for (p, page_at) in pages.iter_mut().enumerate() {
            if ei >= entries.len() || (entries[ei].bucket as usize >> 4) != p {
                let at = *gap_page.get_or_insert_with(|| {
                    let at = buckets.len() as u32;
                    buckets.extend([2 * slots.len() as u32; 16]);
                    slots.push(Slot::point(below as f64 + 0.5));
                    at
                });
                *page_at = at;
                continue;
            }
            gap_page = None;
            *page_at = buckets.len() as u32;
            for s in 0..16usize {
                let bucket = ((p << 4) | s) as u16;
                let b = below as f64;
                if ei < entries.len() && entries[ei].bucket == bucket {
                    let e = entries[ei];
                    ei += 1;
                    let c = e.count as f64;
                    let (lo, hi) = clamped_range(bucket, min, max);
                    let (rmin, rmax) = (b + 1.0, b + c);
                    if e.key != MANY_KEYS {
                        buckets.push(2 * slots.len() as u32);
                        slots.push(Slot::point(b + (c + 1.0) / 2.0));
                    } else if let Some(sub) = hist
                        .detail
                        .get(&bucket)
                        .filter(|sub| sub.iter().any(|&c| c > 0))
                    {
                        // Piecewise linear through the detail's cumulative shares.
                        buckets.push(2 * slots.len() as u32 + 1);
                        let m: u64 = sub.iter().sum();
                        let mut cum = 0u64;
                        for (si, &cs) in sub.iter().enumerate() {
                            let (slo, shi) = clamped_sub_range(bucket, si, min, max);
                            let base = b + 0.5 + c * cum as f64 / m as f64;
                            let width = c * cs as f64 / m as f64;
                            slots.push(Slot::linear(
                                slo,
                                shi,
                                base,
                                width,
                                base.max(rmin),
                                (base + width).min(rmax),
                            ));
                            cum += cs;
                        }
                    } else {
                        buckets.push(2 * slots.len() as u32);
                        slots.push(Slot::linear(lo, hi, b + 0.5, c, rmin, rmax));
                    }
                    below += e.count;
                } else {
                    buckets.push(2 * slots.len() as u32);
                    slots.push(Slot::point(b + 0.5));
                }
            }
        }
        RankMap {
            n: below,
            pages,
            buckets,
            slots,
        }
    }

    /// Number of values the ranks are among.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The approximate mid-rank of `x` (1-based); `NaN` for a non-finite `x`.
    #[inline]
    pub fn rank(&self, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let k = key(x);
        let at = self.pages[(k >> 52) as usize] as usize + ((k >> 48) & 15) as usize;
        let e = self.buckets.get(at).copied().unwrap_or(0);
        // The sub-bucket (next 8 key bits) only where the bucket has detail.
        let sub = ((k >> 40) & 0xFF) as u32 & 0u32.wrapping_sub(e & 1);
        self.slots
            .get(((e >> 1) + sub) as usize)
            .map_or(f64::NAN, |s| s.at(x))
    }
}

/// Per-block sums for the Spearman correlation (approximate ranks) of each input with the
/// output, and for the standardized regression (values centred by first-pass means: `X'X`, `X'y`,
/// `y'y`), merged in block order.
///
/// Sums are plain `f64` within a block and double-double across blocks; merging
/// strictly in block order gives the same bits for any thread count. The regression is exact up
/// to rounding (centring by the first-pass means and correcting by the sums makes it independent
/// of how close those means are); Spearman's correlation uses [`RankMap`] ranks, which are
/// approximate (see its docs for the error). Memory: `(k + 1)(k + 2) / 2 + 3k + 3` double-doubles
/// for `k` inputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SensitivityStats {
    k: usize,
    n: u64,
    /// The centres the values were taken relative to: `(input means, output mean)`.
    centres: Option<(Vec<f64>, f64)>,
    rank_x: Vec<Dd>,
    rank_xx: Vec<Dd>,
    rank_xy: Vec<Dd>,
    rank_y: Dd,
    rank_yy: Dd,
    x: Vec<Dd>,
    /// Lower triangle, row-major: `(i, j)` with `j <= i` at `i (i + 1) / 2 + j`.
    xx: Vec<Dd>,
    xy: Vec<Dd>,
    y: Dd,
    yy: Dd,
}

/// Σ a·b over equally long slices, in four lanes.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Σ v in the lanes and order of [`dot`] (so `total(v)` has the bits of `dot(v, &[1.0; n])`:
/// `x * 1.0 == x`), without a vector of ones.
#[inline]
fn total(v: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let c = v.chunks_exact(4);
    let r = c.remainder();
    for x in c {
        for l in 0..4 {
            acc[l] += x[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for x in r {
        s += x;
    }
    s
}

/// One block of input columns prepared once for the [`SensitivityStats`] of every output
/// ([`SensitivityStats::add_prepared`]): the rows where every input is finite, the inputs'
/// centred ranks and values on those rows, and the sums that involve the inputs only. With
/// several outputs this ranks each input value once instead of once per output, and computes
/// the `X'X` sums once; an output gets bit for bit what [`SensitivityStats::add_block`] gives.
#[derive(Debug)]
pub struct SensitivityBlock<'a> {
    input_ranks: &'a [&'a RankMap],
    inputs: &'a [&'a [f64]],
    means: Vec<f64>,
    /// Rows read (the shortest input), and those where every input is finite.
    rows: usize,
    keep: Vec<usize>,
    /// Per input, on the kept rows: centred ranks and centred values.
    rx: Vec<Vec<f64>>,
    xv: Vec<Vec<f64>>,
    /// Per input: Σ rx, Σ rx², Σ xv; and the lower triangle of Σ xv_i xv_j.
    sum_rx: Vec<f64>,
    sum_rxx: Vec<f64>,
    sum_x: Vec<f64>,
    sum_xx: Vec<f64>,
}

impl<'a> SensitivityBlock<'a> {
    /// Prepares one block of `inputs[j][i]` with the columns' [`RankMap`]s and centres (the
    /// first `input_ranks.len()` columns; the arguments of [`SensitivityStats::add_block`]).
    pub fn new(
        input_ranks: &'a [&'a RankMap],
        input_means: &[f64],
        inputs: &'a [&'a [f64]],
    ) -> Self {
        let k = input_ranks.len();
        let usable = input_means.len() >= k && inputs.len() >= k;
        let rows = if usable {
            inputs[..k].iter().map(|x| x.len()).min().unwrap_or(0)
        } else {
            0
        };
        let keep: Vec<usize> = if usable {
            (0..rows)
                .filter(|&i| inputs[..k].iter().all(|x| x[i].is_finite()))
                .collect()
        } else {
            Vec::new()
        };
        let means = input_means[..k.min(input_means.len())].to_vec();
        let mut b = SensitivityBlock {
            input_ranks,
            inputs,
            means,
            rows,
            keep,
            rx: Vec::new(),
            xv: Vec::new(),
            sum_rx: Vec::new(),
            sum_rxx: Vec::new(),
            sum_x: Vec::new(),
            sum_xx: Vec::new(),
        };
        if b.keep.is_empty() {
            return b;
        }
        for j in 0..k {
            let (x, rmap) = (inputs[j], input_ranks[j]);
            let c = (rmap.n as f64 + 1.0) / 2.0;
            let rx: Vec<f64> = b.keep.iter().map(|&i| rmap.rank(x[i]) - c).collect();
            let xv: Vec<f64> = b.keep.iter().map(|&i| x[i] - b.means[j]).collect();
            b.sum_rx.push(total(&rx));
            b.sum_rxx.push(dot(&rx, &rx));
            b.sum_x.push(total(&xv));
            b.rx.push(rx);
            b.xv.push(xv);
        }
        for i in 0..k {
            for j in 0..=i {
                b.sum_xx.push(dot(&b.xv[i], &b.xv[j]));
            }
        }
        b
    }
}

fn dd_val(d: Dd) -> f64 {
    d[0] + d[1]
}

impl SensitivityStats {
    /// Empty sums for `n_inputs` inputs.
    pub fn new(n_inputs: usize) -> Self {
        let k = n_inputs;
        SensitivityStats {
            k,
            n: 0,
            centres: None,
            rank_x: vec![[0.0; 2]; k],
            rank_xx: vec![[0.0; 2]; k],
            rank_xy: vec![[0.0; 2]; k],
            rank_y: [0.0; 2],
            rank_yy: [0.0; 2],
            x: vec![[0.0; 2]; k],
            xx: vec![[0.0; 2]; k * (k + 1) / 2],
            xy: vec![[0.0; 2]; k],
            y: [0.0; 2],
            yy: [0.0; 2],
        }
    }

    /// Rows used so far (the output and every input finite).
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Adds one block: rows where the output and every input are finite only; `inputs[j][i]`,
    /// `output[i]`. `input_ranks`/`output_rank` are the columns' [`RankMap`]s and
    /// `input_means`/`output_mean` their first-pass means (any fixed values work; the means keep
    /// the sums well conditioned). Slices shorter than `output` limit the rows read; the
    /// centres of the first block are kept (later ones are assumed equal).
    pub fn add_block(
        &mut self,
        input_ranks: &[&RankMap],
        input_means: &[f64],
        inputs: &[&[f64]],
        output_rank: &RankMap,
        output_mean: f64,
        output: &[f64],
    ) {
        let k = self.k;
        if input_ranks.len() < k || input_means.len() < k || inputs.len() < k {
            return;
        }
        let rows = inputs[..k]
            .iter()
            .map(|x| x.len())
            .fold(output.len(), usize::min);
        let keep: Vec<usize> = (0..rows)
            .filter(|&i| output[i].is_finite() && inputs[..k].iter().all(|x| x[i].is_finite()))
            .collect();
        if keep.is_empty() {
            return;
        }
        let (xc, yc) = self
            .centres
            .get_or_insert_with(|| (input_means[..k].to_vec(), output_mean))
            .clone();
        let rc = |r: &RankMap| (r.n as f64 + 1.0) / 2.0;
        let ry_c = rc(output_rank);
        let ry: Vec<f64> = keep
            .iter()
            .map(|&i| output_rank.rank(output[i]) - ry_c)
            .collect();
        let yv: Vec<f64> = keep.iter().map(|&i| output[i] - yc).collect();
        let mut xs: Vec<Vec<f64>> = Vec::with_capacity(k);
        for j in 0..k {
            let (x, rmap) = (inputs[j], input_ranks[j]);
            let c = rc(rmap);
            let rx: Vec<f64> = keep.iter().map(|&i| rmap.rank(x[i]) - c).collect();
            self.rank_x[j] = dd_add_f64(self.rank_x[j], total(&rx));
            self.rank_xx[j] = dd_add_f64(self.rank_xx[j], dot(&rx, &rx));
            self.rank_xy[j] = dd_add_f64(self.rank_xy[j], dot(&rx, &ry));
            let xv: Vec<f64> = keep.iter().map(|&i| x[i] - xc[j]).collect();
            self.x[j] = dd_add_f64(self.x[j], total(&xv));
            self.xy[j] = dd_add_f64(self.xy[j], dot(&xv, &yv));
            xs.push(xv);
        }
        for i in 0..k {
            for j in 0..=i {
                let t = i * (i + 1) / 2 + j;
                self.xx[t] = dd_add_f64(self.xx[t], dot(&xs[i], &xs[j]));
            }
        }
        self.rank_y = dd_add_f64(self.rank_y, total(&ry));
        self.rank_yy = dd_add_f64(self.rank_yy, dot(&ry, &ry));
        self.y = dd_add_f64(self.y, total(&yv));
        self.yy = dd_add_f64(self.yy, dot(&yv, &yv));
        self.n += keep.len() as u64;
    }

    /// [`SensitivityStats::add_block`] for a block prepared once for every output: the same
    /// sums, bit for bit, without ranking the inputs again. Falls back to `add_block` when the
    /// output is shorter than the inputs, has errors on rows where the inputs have none, or the
    /// stats were centred elsewhere.
    pub fn add_prepared(
        &mut self,
        block: &SensitivityBlock<'_>,
        output_rank: &RankMap,
        output_mean: f64,
        output: &[f64],
    ) {
        let k = self.k;
        let shapes_match = block.input_ranks.len() == k && block.means.len() == k;
        if shapes_match && block.keep.is_empty() {
            return;
        }
        let prepared_fits = shapes_match
            && self
                .centres
                .as_ref()
                .is_none_or(|(xc, _)| *xc == block.means)
            && output.len() >= block.rows
            && block.keep.iter().all(|&i| output[i].is_finite());
        if !prepared_fits {
            self.add_block(
                block.input_ranks,
                &block.means,
                block.inputs,
                output_rank,
                output_mean,
                output,
            );
            return;
        }
        let yc = self
            .centres
            .get_or_insert_with(|| (block.means.clone(), output_mean))
            .1;
        let ry_c = (output_rank.n as f64 + 1.0) / 2.0;
        let ry: Vec<f64> = block
            .keep
            .iter()
            .map(|&i| output_rank.rank(output[i]) - ry_c)
            .collect();
        let yv: Vec<f64> = block.keep.iter().map(|&i| output[i] - yc).collect();
        for j in 0..k {
            self.rank_x[j] = dd_add_f64(self.rank_x[j], block.sum_rx[j]);
            self.rank_xx[j] = dd_add_f64(self.rank_xx[j], block.sum_rxx[j]);
            self.rank_xy[j] = dd_add_f64(self.rank_xy[j], dot(&block.rx[j], &ry));
            self.x[j] = dd_add_f64(self.x[j], block.sum_x[j]);
            self.xy[j] = dd_add_f64(self.xy[j], dot(&block.xv[j], &yv));
        }
        for (t, &s) in block.sum_xx.iter().enumerate() {
            self.xx[t] = dd_add_f64(self.xx[t], s);
        }
        self.rank_y = dd_add_f64(self.rank_y, total(&ry));
        self.rank_yy = dd_add_f64(self.rank_yy, dot(&ry, &ry));
        self.y = dd_add_f64(self.y, total(&yv));
        self.yy = dd_add_f64(self.yy, dot(&yv, &yv));
        self.n += block.keep.len() as u64;
    }

    /// Merges `later` (the sums of the blocks right after `self`'s; same inputs and centres).
    pub fn merge(&mut self, later: &SensitivityStats) {
        if later.n == 0 || later.k != self.k {
            return;
        }
        if self.centres.is_none() {
            self.centres = later.centres.clone();
        }
        let add = |a: &mut Vec<Dd>, b: &[Dd]| {
            for (x, y) in a.iter_mut().zip(b) {
                *x = super::moments::dd_add(*x, *y);
            }
        };
        add(&mut self.rank_x, &later.rank_x);
        add(&mut self.rank_xx, &later.rank_xx);
        add(&mut self.rank_xy, &later.rank_xy);
        add(&mut self.x, &later.x);
        add(&mut self.xx, &later.xx);
        add(&mut self.xy, &later.xy);
        let add1 = |a: Dd, b: Dd| super::moments::dd_add(a, b);
        self.rank_y = add1(self.rank_y, later.rank_y);
        self.rank_yy = add1(self.rank_yy, later.rank_yy);
        self.y = add1(self.y, later.y);
        self.yy = add1(self.yy, later.yy);
        self.n += later.n;
    }

    /// Spearman correlations (of the approximate ranks) of each input with the output.
    fn spearman(&self) -> Vec<Option<f64>> {
        let n = self.n as f64;
        if self.n < 2 {
            return vec![None; self.k];
        }
        let (sy, syy) = (dd_val(self.rank_y), dd_val(self.rank_yy));
        let vy = syy - sy * sy / n;
        (0..self.k)
            .map(|j| {
                let (sx, sxx, sxy) = (
                    dd_val(self.rank_x[j]),
                    dd_val(self.rank_xx[j]),
                    dd_val(self.rank_xy[j]),
                );
                let vx = sxx - sx * sx / n;
                // Constant ranks (a constant column) give zero up to rounding.
                if !(vx > 1e-12 * sxx && vy > 1e-12 * syy) {
                    return None;
                }
                let c = sxy - sx * sy / n;
                Some((c / (vx.sqrt() * vy.sqrt())).clamp(-1.0, 1.0))
            })
            .collect()
    }

    /// Standardized regression coefficients, as
    /// [`standardized_regression`](crate::standardized_regression) computes them.
    fn regression(&self) -> Vec<Option<f64>> {
        let k = self.k;
        let mut out = vec![None; k];
        let Some((xc, yc)) = &self.centres else {
            return out;
        };
        if self.n < 2 {
            return out;
        }
        let n = self.n as f64;
        let d = n - 1.0;
        let cov = |sab: Dd, sa: Dd, sb: Dd| (dd_val(sab) - dd_val(sa) * dd_val(sb) / n) / d;
        // A column whose spread is rounding noise relative to its level is constant (as
        // `Sensitivity::compute` decides).
        let scale = |v: f64, mean: f64| -> Option<f64> {
            let sd = v.sqrt();
            (sd.is_finite() && sd > 0.0 && sd > mean.abs() * 1e-13).then_some(sd)
        };
        let Some(sdy) = scale(cov(self.yy, self.y, self.y), yc + dd_val(self.y) / n) else {
            return out;
        };
        let sd: Vec<Option<f64>> = (0..k)
            .map(|j| {
                let t = j * (j + 1) / 2 + j;
                scale(
                    cov(self.xx[t], self.x[j], self.x[j]),
                    xc[j] + dd_val(self.x[j]) / n,
                )
            })
            .collect();
        let active: Vec<usize> = (0..k).filter(|&j| sd[j].is_some()).collect();
        let m = active.len();
        let mut r = vec![vec![0.0; m]; m];
        let mut ry = vec![0.0; m];
        for (a, &i) in active.iter().enumerate() {
            let si = sd[i].unwrap_or(1.0);
            for (b, &j) in active.iter().enumerate().take(a + 1) {
                let sj = sd[j].unwrap_or(1.0);
                let t = i * (i + 1) / 2 + j;
                let v = cov(self.xx[t], self.x[i], self.x[j]) / (si * sj);
                r[a][b] = v;
                r[b][a] = v;
            }
            ry[a] = cov(self.xy[i], self.x[i], self.y) / (si * sdy);
        }
        let beta = solve_spd_dropping(&r, &ry, 1e-9);
        for (a, b) in active.iter().zip(beta) {
            out[*a] = b;
        }
        out
    }
}

impl Sensitivity {
    /// The sensitivity of `output` to `inputs` (names, in the order the stats were built with)
    /// from streaming sums: Spearman correlations from the approximate ranks of [`RankMap`],
    /// standardized regression coefficients from the centred sums (exact up to rounding),
    /// contributions to variance from the correlations (as [`Sensitivity::compute`]). Ranks are
    /// each column's ranks among all its finite values (the exact path ranks among the rows
    /// kept); the two agree when no row has an error.
    pub fn from_stream(output: &str, inputs: &[&str], stats: &SensitivityStats) -> Sensitivity {
        let mut rho = stats.spearman();
        let mut src = stats.regression();
        rho.resize(inputs.len(), None);
        src.resize(inputs.len(), None);
        Sensitivity::assemble_names(output, stats.n as usize, inputs, rho, src)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The `RankMap` that the flat, branch-free one replaced (per-page slots, sub-bucket pages,
    /// a branch per lookup), kept as the bit-for-bit reference.
    mod reference {
        use super::super::{Histogram, MANY_KEYS, clamped_range, clamped_sub_range, key};

        /// How one bucket maps values to ranks: `clamp(base + (x - lo) * scale, rmin, rmax)`.
        #[derive(Debug, Clone, Copy, Default)]
        struct OldSlot {
            lo: f64,
            scale: f64,
            base: f64,
            rmin: f64,
            rmax: f64,
            /// 1 + the position in `RankMap::subs` of the bucket's 256 sub-bucket slots, or 0.
            detail: u32,
        }

        impl OldSlot {
            fn point(r: f64) -> OldSlot {
                OldSlot {
                    base: r,
                    rmin: r,
                    rmax: r,
                    ..OldSlot::default()
                }
            }

            /// Ranks `base + c * F` for `F` linear from 0 at `lo` to `1` at `hi`, clamped to
            /// `[rmin, rmax]`.
            fn linear(lo: f64, hi: f64, base: f64, c: f64, rmin: f64, rmax: f64) -> OldSlot {
                if hi > lo {
                    OldSlot {
                        lo,
                        scale: c / (hi - lo),
                        base,
                        rmin,
                        rmax,
                        detail: 0,
                    }
                } else {
                    OldSlot::point((base + c / 2.0).max(rmin).min(rmax))
                }
            }

            #[inline]
            fn at(&self, x: f64) -> f64 {
                (self.base + (x - self.lo) * self.scale)
                    .max(self.rmin)
                    .min(self.rmax)
            }
        }

        /// Maps a value to its approximate mid-rank (1-based, among `n`) from a first pass's histogram:
        /// cumulative count below its bucket + linear interpolation inside the bucket (bucket bounds
        /// clamped by `min`/`max`), i.e. the first pass's empirical CDF made piecewise linear between
        /// bucket bounds.
        ///
        /// Point masses: a bucket whose values all had the same bits (the histogram records it) maps to
        /// its exact mid-rank `below + (count + 1) / 2`, so discrete inputs (binomial, integer, rounded)
        /// get exact ranks. In a bucket with several distinct values the rank is
        /// `below + 0.5 + count * F(x)`, clamped to `[below + 1, below + count]`, with `F` the estimated
        /// share of the bucket's values below `x`: linear from `lo` to `hi` (the bucket's value range), or,
        /// when the histogram has detail for the bucket (a heavy bucket: narrow distributions),
        /// piecewise linear through the detail's 256 sub-bucket shares. The error is at most the
        /// bucket's count, and in practice a small fraction of it (measured by
        /// `examples/stream_accuracy.rs`). A value in a bucket the first pass never saw gets
        /// `below + 0.5`. Non-finite values map to `NaN`.
        ///
        /// Lookup is O(1) (a page table over the top 12 key bits); memory ~40 KiB plus 0.7 KiB per 16
        /// buckets the column hit plus 10 KiB per bucket with detail. One per column, shared read-only
        /// by all workers.
        #[derive(Debug, Clone)]
        pub(super) struct OldRankMap {
            n: u64,
            /// 1 + the page's position in `slots`, or 0.
            index: Vec<u16>,
            /// Values in lower pages, for pages the first pass never hit.
            page_below: Vec<f64>,
            slots: Vec<[OldSlot; 16]>,
            /// Sub-bucket slots of the buckets with detail (256 each).
            subs: Vec<Vec<OldSlot>>,
        }

        impl OldRankMap {
            /// The rank map of a column from its first-pass histogram and its min and max.
            pub(super) fn new(hist: &Histogram, min: f64, max: f64) -> Self {
                let mut index = vec![0u16; 4096];
                let mut page_below = vec![0.0; 4096];
                let mut slots: Vec<[OldSlot; 16]> = Vec::new();
                let mut subs: Vec<Vec<OldSlot>> = Vec::new();
                let entries: Vec<_> = hist.counts.entries().collect();
                let mut below = 0u64;
                let mut ei = 0;
                for p in 0..4096usize {
                    page_below[p] = below as f64 + 0.5;
                    if ei >= entries.len() || (entries[ei].bucket as usize >> 4) != p {
                        continue;
                    }
                    let mut page = [OldSlot::default(); 16];
                    for (s, slot) in page.iter_mut().enumerate() {
                        let bucket = ((p << 4) | s) as u16;
                        let b = below as f64;
                        if ei < entries.len() && entries[ei].bucket == bucket {
                            let e = entries[ei];
                            ei += 1;
                            let c = e.count as f64;
                            let (lo, hi) = clamped_range(bucket, min, max);
                            let (rmin, rmax) = (b + 1.0, b + c);
                            *slot = if e.key != MANY_KEYS {
                                OldSlot::point(b + (c + 1.0) / 2.0)
                            } else if let Some(sub) = hist
                                .detail
                                .get(&bucket)
                                .filter(|sub| sub.iter().any(|&c| c > 0))
                            {
                                // Piecewise linear through the detail's cumulative shares.
                                let m: u64 = sub.iter().sum();
                                let mut cum = 0u64;
                                let mut page = Vec::with_capacity(256);
                                for (si, &cs) in sub.iter().enumerate() {
                                    let (slo, shi) = clamped_sub_range(bucket, si, min, max);
                                    let base = b + 0.5 + c * cum as f64 / m as f64;
                                    let width = c * cs as f64 / m as f64;
                                    page.push(OldSlot::linear(
                                        slo,
                                        shi,
                                        base,
                                        width,
                                        base.max(rmin),
                                        (base + width).min(rmax),
                                    ));
                                    cum += cs;
                                }
                                subs.push(page);
                                OldSlot {
                                    detail: subs.len() as u32,
                                    ..OldSlot::default()
                                }
                            } else {
                                OldSlot::linear(lo, hi, b + 0.5, c, rmin, rmax)
                            };
                            below += e.count;
                        } else {
                            *slot = OldSlot::point(b + 0.5);
                        }
                    }
                    slots.push(page);
                    index[p] = slots.len() as u16;
                }
                OldRankMap {
                    n: below,
                    index,
                    page_below,
                    slots,
                    subs,
                }
            }

            /// Number of values the ranks are among.
            pub(super) fn n(&self) -> u64 {
                self.n
            }

            /// The approximate mid-rank of `x` (1-based); `NaN` for a non-finite `x`.
            #[inline]
            pub(super) fn rank(&self, x: f64) -> f64 {
                if !x.is_finite() {
                    return f64::NAN;
                }
                let k = key(x);
                let b = (k >> 48) as usize;
                let i = self.index[b >> 4] as usize;
                if i == 0 {
                    return self.page_below[b >> 4];
                }
                let s = &self.slots[i - 1][b & 15];
                if s.detail != 0 {
                    return self.subs[s.detail as usize - 1][((k >> 40) & 0xFF) as usize].at(x);
                }
                s.at(x)
            }
        }
    }

    #[test]
    fn flat_lookup_gives_the_reference_ranks_bit_for_bit() {
        let mut s = 3u64;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        // Columns of every shape: narrow (detail), wide, discrete (point masses), signed
        // zeros, negative and positive, with errors.
        let columns: Vec<Vec<f64>> = vec![
            (0..50_000).map(|_| 100.0 + next() * 0.5).collect(),
            (0..50_000).map(|_| (next() - 0.5) * 1e9 * next()).collect(),
            (0..50_000).map(|_| (next() * 12.0).floor()).collect(),
            (0..50_000)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => f64::NAN,
                    3 => 1e-300 * next(),
                    _ => -(next() + 1.0) * 1e3,
                })
                .collect(),
            (0..50_000)
                .map(|_| {
                    let u = next();
                    if u < 0.98 { 5.0 + u * 1e-6 } else { 1e6 * u }
                })
                .collect(),
            Vec::new(),
        ];
        let probes: Vec<f64> = (0..20_000)
            .map(|i| {
                let u = next();
                match i % 9 {
                    0 => f64::INFINITY,
                    1 => (u - 0.5) * 1e300,
                    2 => (u - 0.5) * 1e-300,
                    3 => 100.0 + u * 0.6 - 0.05,
                    4 => (u * 14.0).floor() - 1.0,
                    5 => -0.0,
                    6 => 0.0,
                    _ => (u - 0.5) * 2e9,
                }
            })
            .collect();
        for (c, col) in columns.iter().enumerate() {
            let mut h = Histogram::new();
            for block in col.chunks(4096) {
                h.add(block);
            }
            let finite: Vec<f64> = col.iter().copied().filter(|x| x.is_finite()).collect();
            let min = finite
                .iter()
                .copied()
                .min_by(f64::total_cmp)
                .unwrap_or(f64::NAN);
            let max = finite
                .iter()
                .copied()
                .max_by(f64::total_cmp)
                .unwrap_or(f64::NAN);
            let (new, old) = (
                RankMap::new(&h, min, max),
                reference::OldRankMap::new(&h, min, max),
            );
            assert_eq!(new.n(), old.n());
            for &x in col.iter().chain(&probes) {
                let (a, b) = (new.rank(x), old.rank(x));
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "column {c}, x {x}: {a} vs {b}"
                );
            }
        }
    }
}
