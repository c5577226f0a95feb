//! What a streaming run asks the device to reduce of a chunk, and what comes back: the
//! accumulator records of [`REDUCE_SEGS_KERNEL_NAME`](super::REDUCE_SEGS_KERNEL_NAME), the
//! histograms of `mcsim_hist` and the pass-2 selection of `mcsim_select` (`kernels/mcsim_hist.cuh`).
//! The outputs themselves never leave the device.
//!
//! Everything but the records is integer counts and exact fixed-point sums, so parts from several
//! devices (or chunks) merge in any order ([`Reduced::merge`]).

use super::BlockRecord;

/// Buckets of a histogram (and of a counting cell): the top 16 bits of the key.
pub const BUCKETS: usize = 1 << 16;

/// Limbs of an exact sum (`mcsim_results`' `ExactSum`: 32-bit limbs in `i64`, limb `j` weighing
/// `2^(32 j - 1074)`).
pub const LIMBS: usize = 70;

/// No key seen in a bucket.
pub const NO_KEY: u64 = 0;
/// Several distinct keys seen in a bucket.
pub const MANY_KEYS: u64 = u64::MAX;

/// The non-empty buckets of a histogram: `(bucket, count, key)`, ascending, `key` the one key
/// the bucket held or [`MANY_KEYS`].
pub type SparseCounts = Vec<(u32, u64, u64)>;

/// What the selection does with the values of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellMode {
    /// Copy the values back (at most `capacity` of them per call).
    Keep {
        /// Values the cell holds in the whole run (the plan's count): the buffer's size.
        capacity: u64,
    },
    /// Count them per bucket `(key >> shift) & mask` (`mask < 2^16`).
    Count {
        /// Right shift of the key.
        shift: u32,
        /// Mask after the shift.
        mask: u64,
    },
    /// The cell held this one key; count values with another as foreign.
    Known(u64),
}

/// One key range `[lo, hi]` of a quantile plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectCell {
    /// First key.
    pub lo: u64,
    /// Last key.
    pub hi: u64,
    /// What to do with its values.
    pub mode: CellMode,
}

/// The reductions of one chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReduceJob {
    /// Accumulator blocks as ascending lane offsets, `0` first and the chunk's lanes last (block
    /// `b` is `[segments[b], segments[b + 1])`); empty for no records.
    pub segments: Vec<u64>,
    /// Histogram parts as ascending lane offsets (part `p` is `[hist_parts[p],
    /// hist_parts[p + 1])`); empty for no histograms.
    pub hist_parts: Vec<u64>,
    /// Per column, the cells of its plan, ascending and disjoint; `None` for no selection.
    pub select: Option<Vec<Vec<SelectCell>>>,
}

impl ReduceJob {
    /// Accumulator blocks.
    pub fn blocks(&self) -> usize {
        self.segments.len().saturating_sub(1)
    }

    /// Histogram parts.
    pub fn parts(&self) -> usize {
        self.hist_parts.len().saturating_sub(1)
    }

    /// Serialises the job for the host shim's driver (`kernels/host_main.cpp`, `run_job`).
    pub(crate) fn to_words(&self, cols: usize) -> Vec<u64> {
        let mut w = vec![self.blocks() as u64];
        w.extend(&self.segments);
        if self.segments.is_empty() {
            w.push(0);
        }
        w.push(self.parts() as u64);
        w.extend(&self.hist_parts);
        if self.hist_parts.is_empty() {
            w.push(0);
        }
        match &self.select {
            None => w.push(0),
            Some(cells) => {
                w.push(1);
                let t = SelectTables::new(cells, cols);
                w.push(t.lo.len() as u64);
                for v in [
                    &t.off, &t.lo, &t.hi, &t.mode, &t.arg, &t.arg2, &t.base, &t.cap,
                ] {
                    w.extend(v.iter());
                }
                w.push(t.kept_capacity);
                w.push(t.counting);
            }
        }
        w
    }
}

/// A job's cells as the flat arrays `mcsim_select` reads.
#[derive(Debug, Clone, Default)]
pub struct SelectTables {
    /// Per column `c`, its cells are `off[c] .. off[c + 1]` (`cols + 1` entries).
    pub off: Vec<u64>,
    /// First keys.
    pub lo: Vec<u64>,
    /// Last keys.
    pub hi: Vec<u64>,
    /// 0 keep, 1 count, 2 known.
    pub mode: Vec<u64>,
    /// Count: the shift; known: the key.
    pub arg: Vec<u64>,
    /// Count: the mask.
    pub arg2: Vec<u64>,
    /// Keep: the offset in the kept buffer; count: the counting cell's number.
    pub base: Vec<u64>,
    /// Keep: the capacity.
    pub cap: Vec<u64>,
    /// Size of the kept buffer.
    pub kept_capacity: u64,
    /// Counting cells.
    pub counting: u64,
}

impl SelectTables {
    /// The tables of `cells` (per column; missing columns have no cells).
    pub fn new(cells: &[Vec<SelectCell>], cols: usize) -> SelectTables {
        let mut t = SelectTables {
            off: vec![0],
            ..Default::default()
        };
        for c in 0..cols {
            for cell in cells.get(c).map_or(&[][..], Vec::as_slice) {
                t.lo.push(cell.lo);
                t.hi.push(cell.hi);
                let (mode, arg, arg2, base, cap) = match cell.mode {
                    CellMode::Keep { capacity } => {
                        let b = t.kept_capacity;
                        t.kept_capacity += capacity;
                        (0, 0, 0, b, capacity)
                    }
                    CellMode::Count { shift, mask } => {
                        t.counting += 1;
                        (1, u64::from(shift), mask, t.counting - 1, 0)
                    }
                    CellMode::Known(k) => (2, k, 0, 0, 0),
                };
                t.mode.push(mode);
                t.arg.push(arg);
                t.arg2.push(arg2);
                t.base.push(base);
                t.cap.push(cap);
            }
            t.off.push(t.lo.len() as u64);
        }
        t
    }
}

/// The selection of one column: what `mcsim_results`' `Collector::add` gathers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selected {
    /// Finite values.
    pub n: u64,
    /// `+0.0` values.
    pub pos_zeros: u64,
    /// Values in a known cell with another key.
    pub foreign: u64,
    /// Per cell: values in it.
    pub cell_n: Vec<u64>,
    /// Per cell: values between the previous cell and it.
    pub gap_n: Vec<u64>,
    /// Per cell: the exact sum of its values ([`LIMBS`] limbs).
    pub cell_sum: Vec<Vec<i64>>,
    /// Per cell: the exact sum of the values of its gap.
    pub gap_sum: Vec<Vec<i64>>,
    /// Per cell: the kept values (keep cells; in no particular order).
    pub kept: Vec<Vec<f64>>,
    /// Per cell: the counts per bucket (counting cells).
    pub sub: Vec<SparseCounts>,
}

/// The reductions of a chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reduced {
    /// Per column, per accumulator block (column-major: `records[c * blocks + b]`).
    pub records: Vec<BlockRecord>,
    /// Per histogram part, per column.
    pub hists: Vec<Vec<SparseCounts>>,
    /// Per column (empty without selection).
    pub selected: Vec<Selected>,
}

/// Merges the sparse counts `b` into `a` (counts add; keys combine as `BucketCounts` does).
pub fn merge_sparse(a: &mut SparseCounts, b: &SparseCounts) {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = j >= b.len() || (i < a.len() && a[i].0 < b[j].0);
        let take_b = i >= a.len() || (j < b.len() && b[j].0 < a[i].0);
        if take_a {
            out.push(a[i]);
            i += 1;
        } else if take_b {
            out.push(b[j]);
            j += 1;
        } else {
            let (x, y) = (a[i], b[j]);
            let key = if x.2 == y.2 || y.2 == NO_KEY {
                x.2
            } else if x.2 == NO_KEY {
                y.2
            } else {
                MANY_KEYS
            };
            out.push((x.0, x.1 + y.1, key));
            i += 1;
            j += 1;
        }
    }
    *a = out;
}

fn add_limbs(a: &mut [i64], b: &[i64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.wrapping_add(*y);
    }
}

impl Selected {
    /// Adds another part of the same column and plan (any order).
    pub fn merge(&mut self, o: &Selected) {
        self.n += o.n;
        self.pos_zeros += o.pos_zeros;
        self.foreign += o.foreign;
        for (a, b) in self.cell_n.iter_mut().zip(&o.cell_n) {
            *a += b;
        }
        for (a, b) in self.gap_n.iter_mut().zip(&o.gap_n) {
            *a += b;
        }
        for (a, b) in self.cell_sum.iter_mut().zip(&o.cell_sum) {
            add_limbs(a, b);
        }
        for (a, b) in self.gap_sum.iter_mut().zip(&o.gap_sum) {
            add_limbs(a, b);
        }
        for (a, b) in self.kept.iter_mut().zip(&o.kept) {
            a.extend_from_slice(b);
        }
        for (a, b) in self.sub.iter_mut().zip(&o.sub) {
            merge_sparse(a, b);
        }
    }
}

impl Reduced {
    /// Appends the reductions of the lanes after `self`'s (another device's slice): records
    /// follow per column (`self_blocks` and `later_blocks` blocks each), counts and sums add.
    pub fn merge(&mut self, later: Reduced, self_blocks: usize, later_blocks: usize) {
        let cols = self
            .records
            .len()
            .checked_div(self_blocks)
            .or_else(|| later.records.len().checked_div(later_blocks))
            .unwrap_or(0);
        if later_blocks > 0 {
            let mut recs = Vec::with_capacity(self.records.len() + later.records.len());
            for c in 0..cols {
                recs.extend_from_slice(&self.records[c * self_blocks..(c + 1) * self_blocks]);
                recs.extend_from_slice(&later.records[c * later_blocks..(c + 1) * later_blocks]);
            }
            self.records = recs;
        }
        if self.hists.is_empty() {
            self.hists = later.hists;
        } else {
            for (a, b) in self.hists.iter_mut().zip(&later.hists) {
                for (x, y) in a.iter_mut().zip(b) {
                    merge_sparse(x, y);
                }
            }
        }
        if self.selected.is_empty() {
            self.selected = later.selected;
        } else {
            for (a, b) in self.selected.iter_mut().zip(&later.selected) {
                a.merge(b);
            }
        }
    }
}

/// Reads the results of a job from the words the host shim's driver (or the CUDA runner, after
/// copying its buffers back) lays out: see `run_job` in `kernels/host_main.cpp`.
pub(crate) fn parse_words(job: &ReduceJob, cols: usize, w: &[u64]) -> Result<Reduced, String> {
    let mut cur = Cursor { w, at: 0 };
    let mut out = Reduced::default();
    let nseg = job.blocks();
    if nseg > 0 {
        let rec = cur.take(nseg * cols * super::RECORD_LEN)?;
        let doubles: Vec<f64> = rec.iter().map(|&b| f64::from_bits(b)).collect();
        out.records = doubles
            .chunks_exact(super::RECORD_LEN)
            .map(BlockRecord::from_slice)
            .collect();
    }
    for _ in 0..job.parts() {
        let mut part = Vec::with_capacity(cols);
        for _ in 0..cols {
            part.push(cur.sparse()?);
        }
        out.hists.push(part);
    }
    if let Some(cells) = &job.select {
        let t = SelectTables::new(cells, cols);
        let n = t.lo.len();
        let col_n = cur.take(3 * cols)?;
        let cell_n = cur.take(n)?;
        let gap_n = cur.take(n)?;
        let cell_sum = cur.take(n * LIMBS)?;
        let gap_sum = cur.take(n * LIMBS)?;
        let kept_n = cur.take(n)?;
        let mut kept: Vec<Vec<f64>> = vec![Vec::new(); n];
        for (j, k) in kept.iter_mut().enumerate() {
            if t.mode[j] == 0 {
                let m = kept_n[j].min(t.cap[j]) as usize;
                *k = cur.take(m)?.iter().map(|&b| f64::from_bits(b)).collect();
            }
        }
        let mut sub: Vec<SparseCounts> = vec![Vec::new(); n];
        for (j, s) in sub.iter_mut().enumerate() {
            if t.mode[j] == 1 {
                *s = cur.sparse()?;
            }
        }
        let limbs = |v: &[u64], j: usize| -> Vec<i64> {
            v[j * LIMBS..(j + 1) * LIMBS]
                .iter()
                .map(|&x| x as i64)
                .collect()
        };
        for c in 0..cols {
            let r = t.off[c] as usize..t.off[c + 1] as usize;
            out.selected.push(Selected {
                n: col_n[3 * c],
                pos_zeros: col_n[3 * c + 1],
                foreign: col_n[3 * c + 2],
                cell_n: cell_n[r.clone()].to_vec(),
                gap_n: gap_n[r.clone()].to_vec(),
                cell_sum: r.clone().map(|j| limbs(cell_sum, j)).collect(),
                gap_sum: r.clone().map(|j| limbs(gap_sum, j)).collect(),
                kept: kept[r.clone()].to_vec(),
                sub: sub[r].to_vec(),
            });
        }
    }
    if cur.at != w.len() {
        return Err(format!(
            "{} words of reductions, {} expected",
            w.len(),
            cur.at
        ));
    }
    Ok(out)
}

/// Reads words in order.
struct Cursor<'a> {
    w: &'a [u64],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u64], String> {
        let s = self
            .w
            .get(self.at..self.at + n)
            .ok_or_else(|| format!("the reductions end after {} words", self.w.len()))?;
        self.at += n;
        Ok(s)
    }

    /// `m`, then `m` (bucket, count, key).
    fn sparse(&mut self) -> Result<SparseCounts, String> {
        let m = self.take(1)?[0] as usize;
        let e = self.take(m.saturating_mul(3))?;
        Ok(e.chunks_exact(3)
            .map(|t| (t[0] as u32, t[1], t[2]))
            .collect())
    }
}
