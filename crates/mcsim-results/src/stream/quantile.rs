//! Exact order statistics in bounded memory, by further passes over recomputable data.

use std::sync::Arc;

use crate::error::ResultsError;
use crate::sorted::{key, unkey};
use crate::summary::{SummaryOptions, inc_positions};

use super::exact::ExactSum;

mod device;
use super::histogram::{BucketCounts, Histogram, MANY_KEYS, cell_hi};
pub use device::{CellKind, CellRange, CollectedPart};

/// 0-based positions among the `n` finite values (ascending) that a
/// [`Summary`](crate::Summary) with `options` reads: the `PERCENTILE.INC` positions of each
/// percentile and each VaR level (one position, or two to interpolate between), sorted and
/// without duplicates. Levels out of range contribute nothing (the summary rejects them).
pub fn summary_positions(n: u64, options: &SummaryOptions) -> Vec<u64> {
    let mut v: Vec<u64> = options
        .percentiles
        .iter()
        .chain(&options.risk_levels)
        .flat_map(|&p| inc_positions(n as usize, p))
        .map(|i| i as u64)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// What a pass does with the values of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every value in the cell had the same key (known): only count and sum.
    Known(u64),
    /// Keep the values (they fit the budget).
    Keep,
    /// Too many to keep: count them per next 16 key bits.
    Count,
}

/// A key range `[lo, cell_hi(lo, bits)]` holding requested positions.
#[derive(Debug, Clone)]
struct Cell {
    lo: u64,
    hi: u64,
    /// Top key bits fixed (16 for a histogram bucket, 24 for a sub-bucket of its detail, up to
    /// 64 for a single key).
    bits: u32,
    /// Finite values with a smaller key.
    below: u64,
    /// Values in the cell.
    count: u64,
    mode: Mode,
}

#[derive(Debug)]
struct PlanInner {
    n: u64,
    positions: Vec<u64>,
    cells: Vec<Cell>,
    budget: usize,
    /// Passes done before this plan's (1 = the histogram pass).
    passes: u32,
}

/// Which keys a second pass keeps so the order statistics at `positions` become exact.
///
/// The plan is a list of disjoint key ranges ("cells") holding the requested positions: the
/// histogram buckets that hold them, or, for a bucket whose detail counted all its values (a
/// heavy bucket in every block, as in a narrow distribution), the 1/256-bucket sub-range. A cell
/// that held one distinct value needs nothing kept (its value is known); the others are kept
/// whole when their values fit the budget (smallest first), and otherwise counted per next 16
/// key bits, which a further pass narrows ([`Resolved::Refine`]). Every pass also sums, exactly,
/// the values between and in the cells, so CVaR (the mean of the values at or below VaR) is exact
/// too. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct QuantilePlan {
    inner: Arc<PlanInner>,
}

/// Splits the non-empty buckets `entries` (ascending, `(lo key, count, one key or MANY)`) of a
/// range starting at rank `base` into cells for the positions that fall in them.
fn cells_for(
    entries: impl Iterator<Item = (u64, u64, u64)>,
    bits: u32,
    base: u64,
    positions: &[u64],
    out: &mut Vec<Cell>,
) {
    let mut below = base;
    let mut pi = positions.partition_point(|&p| p < base);
    for (lo, count, one) in entries {
        let end = below + count;
        if pi < positions.len() && positions[pi] < end {
            while pi < positions.len() && positions[pi] < end {
                pi += 1;
            }
            let mode = if one != MANY_KEYS || bits >= 64 {
                Mode::Known(if one != MANY_KEYS { one } else { lo })
            } else {
                Mode::Count // decided by the budget afterwards
            };
            out.push(Cell {
                lo,
                hi: cell_hi(lo, bits),
                bits,
                below,
                count,
                mode,
            });
        }
        below = end;
    }
}

/// Gives `Keep` to the smallest undecided cells while their values fit `budget`.
fn assign_budget(cells: &mut [Cell], budget: usize) {
    let mut open: Vec<usize> = (0..cells.len())
        .filter(|&i| !matches!(cells[i].mode, Mode::Known(_)))
        .collect();
    open.sort_by_key(|&i| (cells[i].count, i));
    let mut used = 0u64;
    for i in open {
        if used + cells[i].count <= budget as u64 {
            used += cells[i].count;
            cells[i].mode = Mode::Keep;
        } else {
            cells[i].mode = Mode::Count;
        }
    }
}

impl QuantilePlan {
    /// The plan for one more pass after the histogram pass. `budget_values`: how many f64 values
    /// the next pass may keep in memory at most (across all columns the caller shares the budget;
    /// this plan's share). `positions` are 0-based ranks among `hist.total()` finite values (see
    /// [`summary_positions`]); positions past the end are ignored.
    pub fn new(hist: &Histogram, positions: &[u64], budget_values: usize) -> QuantilePlan {
        let n = hist.total();
        let mut positions: Vec<u64> = positions.iter().copied().filter(|&p| p < n).collect();
        positions.sort_unstable();
        positions.dedup();
        // Histogram buckets, or, where the bucket's detail counted every one of its values (it
        // was heavy in every block: the usual case for the buckets of a narrow distribution), the
        // detail's 256 exact sub-bucket counts: 256 times smaller ranges to keep.
        let mut entries: Vec<(u64, u64, u64, u32)> = Vec::new();
        for e in hist.counts.entries() {
            let lo = (e.bucket as u64) << 48;
            match hist.detail.get(&e.bucket) {
                Some(sub) if e.key == MANY_KEYS && sub.iter().sum::<u64>() == e.count => {
                    for (s, &c) in sub.iter().enumerate() {
                        if c > 0 {
                            entries.push((lo | ((s as u64) << 40), c, MANY_KEYS, 24));
                        }
                    }
                }
                _ => entries.push((lo, e.count, e.key, 16)),
            }
        }
        let mut cells = Vec::new();
        let mut below = 0;
        for (lo, count, one, bits) in entries {
            cells_for(
                std::iter::once((lo, count, one)),
                bits,
                below,
                &positions,
                &mut cells,
            );
            below += count;
        }
        assign_budget(&mut cells, budget_values);
        QuantilePlan {
            inner: Arc::new(PlanInner {
                n,
                positions,
                cells,
                budget: budget_values,
                passes: 1,
            }),
        }
    }

    /// A fresh accumulator for this plan's pass (one per block; merge them).
    pub fn collector(&self) -> Collector {
        let cells = &self.inner.cells;
        Collector {
            plan: Arc::clone(&self.inner),
            cell_n: vec![0; cells.len()],
            cell_sum: vec![ExactSum::new(); cells.len()],
            kept: vec![Vec::new(); cells.len()],
            sub: vec![BucketCounts::default(); cells.len()],
            gap_n: vec![0; cells.len()],
            gap_sum: vec![ExactSum::new(); cells.len()],
            pos_zeros: 0,
            foreign: 0,
            total: 0,
        }
    }

    /// Whether a pass is needed at all: `false` when there is nothing to find (no finite values
    /// or no positions), in which case `resolve(plan.collector())` gives the (empty) result.
    pub fn needs_pass(&self) -> bool {
        !self.inner.cells.is_empty()
    }

    /// How many values this plan's pass keeps at most (the merged collector's memory is about
    /// 8 bytes times this, plus ~0.6 KiB per cell).
    pub fn kept_values(&self) -> u64 {
        self.inner
            .cells
            .iter()
            .filter(|c| c.mode == Mode::Keep)
            .map(|c| c.count)
            .sum()
    }

    /// Passes over the data this plan's pass will make it, counting the histogram pass as 1
    /// (so 2 for the plan from [`QuantilePlan::new`]).
    pub fn pass_number(&self) -> u32 {
        self.inner.passes + 1
    }

    /// After a pass: the exact order statistics, or a finer plan for one more pass (a cell held
    /// more values than the budget: refine by the next 16 key bits). At most three refinements
    /// follow the first plan (64 key bits), usually none. [`Resolved::Failed`] when the pass did
    /// not see the values the plan was made from (a non-reproducible stream) or the collector
    /// belongs to another plan.
    pub fn resolve(&self, collected: Collector) -> Resolved {
        let plan = &self.inner;
        if !Arc::ptr_eq(plan, &collected.plan) {
            return Resolved::Failed(mismatch("the collector belongs to another plan"));
        }
        // The pass must have seen what the plan expects.
        if collected.total != plan.n {
            return Resolved::Failed(mismatch(&format!(
                "pass {} saw {} finite values, the first pass {}: the iterations were not \
                 reproduced exactly",
                plan.passes + 1,
                collected.total,
                plan.n
            )));
        }
        let mut prev_end = 0u64;
        for (i, c) in plan.cells.iter().enumerate() {
            if collected.gap_n[i] != c.below - prev_end || collected.cell_n[i] != c.count {
                return Resolved::Failed(mismatch(&format!(
                    "pass {} counted {} values in a key range where the previous pass counted {} \
                     (and {} below it instead of {}): the iterations were not reproduced exactly",
                    plan.passes + 1,
                    collected.cell_n[i],
                    c.count,
                    collected.gap_n[i],
                    c.below - prev_end
                )));
            }
            prev_end = c.below + c.count;
        }
        if collected.foreign > 0 {
            return Resolved::Failed(mismatch(
                "a value differs from the single value the previous pass saw in its key range",
            ));
        }
        let Collector {
            cell_sum,
            kept,
            sub,
            gap_sum,
            pos_zeros,
            ..
        } = collected;
        let mut resolved_cells = Vec::with_capacity(plan.cells.len());
        let mut refined = Vec::new();
        let mut done = true;
        for ((c, sum), (mut values, sub)) in plan
            .cells
            .iter()
            .zip(cell_sum)
            .zip(kept.into_iter().zip(sub))
        {
            let values = match c.mode {
                Mode::Known(k) => CellValues::Single(unkey(k)),
                Mode::Keep => {
                    values.sort_unstable_by_key(|&x| key(x));
                    CellValues::Sorted(values)
                }
                Mode::Count => {
                    let entries: Vec<_> = sub.entries().collect();
                    let mut keys = entries.iter().map(|e| e.key);
                    let first = keys.next().unwrap_or(MANY_KEYS);
                    if entries.len() == 1 && first != MANY_KEYS {
                        CellValues::Single(unkey(first))
                    } else {
                        done = false;
                        let step = refine_step(c.bits);
                        let bits = c.bits + step;
                        cells_for(
                            entries.iter().map(|e| {
                                (c.lo | ((e.bucket as u64) << (64 - bits)), e.count, e.key)
                            }),
                            bits,
                            c.below,
                            &plan.positions,
                            &mut refined,
                        );
                        CellValues::Sorted(Vec::new())
                    }
                }
            };
            resolved_cells.push(ResolvedCell {
                lo: c.lo,
                hi: c.hi,
                below: c.below,
                count: c.count,
                sum,
                values,
            });
        }
        if !done {
            // Carry over the other cells (kept again: each pass is self-contained).
            let mut cells: Vec<Cell> = Vec::with_capacity(plan.cells.len() + refined.len());
            for (c, r) in plan.cells.iter().zip(&resolved_cells) {
                match (&c.mode, &r.values) {
                    (Mode::Count, CellValues::Sorted(_)) => {}
                    (Mode::Count, CellValues::Single(v)) => cells.push(Cell {
                        mode: Mode::Known(key(*v)),
                        ..c.clone()
                    }),
                    _ => cells.push(c.clone()),
                }
            }
            // Cells kept this pass are kept again (so a pass never undoes an earlier choice and
            // the passes are bounded: every counted cell is 16 key bits finer next time, and a
            // cell of all 64 bits is a single value); the new, finer cells share what is left.
            let used: u64 = cells
                .iter()
                .filter(|c| c.mode == Mode::Keep)
                .map(|c| c.count)
                .sum();
            let left = (plan.budget as u64).saturating_sub(used);
            assign_budget(&mut refined, usize::try_from(left).unwrap_or(usize::MAX));
            cells.extend(refined);
            cells.sort_by_key(|c| c.lo);
            return Resolved::Refine(QuantilePlan {
                inner: Arc::new(PlanInner {
                    n: plan.n,
                    positions: plan.positions.clone(),
                    cells,
                    budget: plan.budget,
                    passes: plan.passes + 1,
                }),
            });
        }
        let mut order = OrderStats {
            n: plan.n,
            values: Vec::with_capacity(plan.positions.len()),
            cells: resolved_cells,
            gaps: gap_sum,
            pos_zeros,
        };
        for &p in &plan.positions {
            let v = order.lookup(p).unwrap_or(f64::NAN);
            order.values.push((p, v));
        }
        Resolved::Done(order)
    }
}

/// How many more key bits a counting pass splits a cell of `bits` by (16, less near 64).
#[inline]
fn refine_step(bits: u32) -> u32 {
    (64 - bits).min(16)
}

fn mismatch(what: &str) -> ResultsError {
    ResultsError::StreamMismatch {
        what: what.to_string(),
    }
}

/// Pass-2 accumulator for one column; the caller makes one per block
/// ([`QuantilePlan::collector`]) and merges them ([`Collector::merge`]).
///
/// It keeps the values of the plan's cells that fit the budget, counts per finer bucket those
/// that do not, and sums exactly (a fixed-point accumulator: integer arithmetic) the values in
/// and between the cells, for CVaR. Every part is order-independent, so merging in block order
/// is not required for the bits (merging in block order is still the natural thing to do);
/// values outside the cells are only counted and summed. Memory: the kept values (8 bytes
/// each) plus, per cell, ~1.2 KiB of sums and, in counting cells, up to ~0.5 MiB of counts.
#[derive(Debug, Clone)]
pub struct Collector {
    plan: Arc<PlanInner>,
    cell_n: Vec<u64>,
    cell_sum: Vec<ExactSum>,
    kept: Vec<Vec<f64>>,
    sub: Vec<BucketCounts>,
    /// `gap_n[i]`: values between cell `i - 1` and cell `i` (below cell 0 for `i = 0`).
    gap_n: Vec<u64>,
    gap_sum: Vec<ExactSum>,
    /// Count of `+0.0` values (CVaR at a VaR of `-0.0` counts them).
    pos_zeros: u64,
    /// Values found in a `Known` cell with another key.
    foreign: u64,
    /// Finite values seen.
    total: u64,
}

impl Collector {
    /// Adds one block's values (non-finite values, i.e. error iterations, are skipped).
    pub fn add(&mut self, xs: &[f64]) {
        let cells = &self.plan.cells;
        let Some(last) = cells.last() else {
            return;
        };
        let last_hi = last.hi;
        for &x in xs {
            if !x.is_finite() {
                continue;
            }
            self.total += 1;
            let k = key(x);
            if x == 0.0 && k == key(0.0) {
                self.pos_zeros += 1;
            }
            if k > last_hi {
                continue;
            }
            let i = cells.partition_point(|c| c.lo <= k);
            if i > 0 && k <= cells[i - 1].hi {
                let c = &cells[i - 1];
                let j = i - 1;
                self.cell_n[j] += 1;
                self.cell_sum[j].add(x);
                match c.mode {
                    Mode::Keep => self.kept[j].push(x),
                    Mode::Count => {
                        let step = refine_step(c.bits);
                        let b = ((k >> (64 - c.bits - step)) & ((1 << step) - 1)) as u16;
                        self.sub[j].add(b, 1, k);
                    }
                    Mode::Known(one) => self.foreign += u64::from(k != one),
                }
            } else {
                self.gap_n[i] += 1;
                self.gap_sum[i].add(x);
            }
        }
    }

    /// Merges `later` (a collector of the same plan; its block follows `self`'s).
    pub fn merge(&mut self, later: Collector) {
        if !Arc::ptr_eq(&self.plan, &later.plan) {
            // Recorded as a mismatch that `resolve` reports.
            self.foreign += 1;
            return;
        }
        for j in 0..self.cell_n.len() {
            self.cell_n[j] += later.cell_n[j];
            self.gap_n[j] += later.gap_n[j];
            self.cell_sum[j].merge(&later.cell_sum[j]);
            self.gap_sum[j].merge(&later.gap_sum[j]);
            self.sub[j].merge(&later.sub[j]);
        }
        for (a, b) in self.kept.iter_mut().zip(later.kept) {
            if a.is_empty() {
                *a = b;
            } else {
                a.extend(b);
            }
        }
        self.pos_zeros += later.pos_zeros;
        self.foreign += later.foreign;
        self.total += later.total;
    }
}

/// The outcome of [`QuantilePlan::resolve`].
#[derive(Debug)]
pub enum Resolved {
    /// Every requested order statistic is known exactly.
    Done(OrderStats),
    /// Some cell held more values than the budget: make one more pass with this plan.
    Refine(QuantilePlan),
    /// The pass saw other values than the plan was made from (the iterations were not reproduced
    /// exactly), or the collector came from another plan.
    Failed(ResultsError),
}

#[derive(Debug, Clone)]
enum CellValues {
    Single(f64),
    Sorted(Vec<f64>),
}

#[derive(Debug, Clone)]
struct ResolvedCell {
    lo: u64,
    hi: u64,
    below: u64,
    count: u64,
    sum: ExactSum,
    values: CellValues,
}

/// Exact order statistics at the planned positions, plus what CVaR needs (exact sums of the
/// values below and within the planned key ranges).
#[derive(Debug, Clone)]
pub struct OrderStats {
    n: u64,
    /// `(position, value)`, ascending by position.
    values: Vec<(u64, f64)>,
    cells: Vec<ResolvedCell>,
    gaps: Vec<ExactSum>,
    pos_zeros: u64,
}

impl OrderStats {
    /// Number of finite values the statistics are over.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// The `position`-th smallest finite value (0-based), if it was planned.
    pub fn value(&self, position: u64) -> Option<f64> {
        let i = self.values.binary_search_by_key(&position, |v| v.0).ok()?;
        Some(self.values[i].1)
    }

    /// The planned positions and their values, ascending.
    pub fn values(&self) -> &[(u64, f64)] {
        &self.values
    }

    fn lookup(&self, p: u64) -> Option<f64> {
        let c = self
            .cells
            .iter()
            .find(|c| c.below <= p && p < c.below + c.count)?;
        match &c.values {
            CellValues::Single(v) => Some(*v),
            CellValues::Sorted(v) => v.get((p - c.below) as usize).copied(),
        }
    }

    /// `(k, exact sum)` of the finite values `<= var` (float comparison, as
    /// `partition_point(|x| x <= var)` on the sorted values), when `var` lies where this pass
    /// knows the values: between the smallest planned value and the end of its key range, as a
    /// VaR read from planned positions does. The sum is rounded once, so it is bit-identical to
    /// the exact sum of the sorted values' prefix. `None` otherwise.
    pub(crate) fn tail(&self, var: f64) -> Option<(u64, ExactSum)> {
        if var.is_nan() {
            return None;
        }
        // x <= var (floats) <=> key(x) <= key(var'), with var' = +0.0 for a zero var.
        let kv = key(if var == 0.0 { 0.0 } else { var });
        let mut count = 0u64;
        let mut sum = ExactSum::new();
        let mut prev_end = 0u64;
        let mut prev_hi: Option<u64> = None;
        for (c, gap) in self.cells.iter().zip(&self.gaps) {
            let gap_count = c.below - prev_end;
            if kv < c.lo {
                // var falls in the gap before this cell: fine when no value there is <= var.
                if gap_count == 0 {
                    return Some((count, sum));
                }
                if kv == key(0.0) && prev_hi == Some(key(-0.0)) {
                    // Only +0.0 values lie in (key(-0.0), key(+0.0)].
                    return Some((count + self.pos_zeros, sum));
                }
                return None;
            }
            count += gap_count;
            sum.merge(gap);
            if kv > c.hi {
                count += c.count;
                sum.merge(&c.sum);
            } else {
                match &c.values {
                    CellValues::Single(v) => {
                        if key(*v) <= kv {
                            count += c.count;
                            sum.merge(&c.sum);
                        }
                    }
                    CellValues::Sorted(v) => {
                        let m = v.partition_point(|&x| key(x) <= kv);
                        count += m as u64;
                        v[..m].iter().for_each(|&x| sum.add(x));
                    }
                }
                return Some((count, sum));
            }
            prev_end = c.below + c.count;
            prev_hi = Some(c.hi);
        }
        // Past the last cell: only when nothing lies beyond it.
        (prev_end == self.n).then_some((count, sum))
    }
}
