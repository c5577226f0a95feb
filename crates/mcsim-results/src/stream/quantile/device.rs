//! A quantile plan's pass done elsewhere (a GPU's `mcsim_select` kernel): the plan's cells as
//! key ranges for the device, and a [`Collector`] filled from what the device counted, summed
//! and kept. Everything a collector holds is integer counts, exact sums and (order-free) kept
//! values, so a collector built from device parts resolves to the same bits as one fed the
//! values.

use super::{Collector, Mode, QuantilePlan, refine_step};
use crate::error::{Result, ResultsError};
use crate::stream::exact::ExactSum;

/// What a pass does with a cell's values, as a device needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Keep them (the cell holds this many in the whole run).
    Keep(u64),
    /// Count them per bucket `(key >> shift) & mask`.
    Count {
        /// Right shift of the key.
        shift: u32,
        /// Mask after the shift.
        mask: u64,
    },
    /// The cell held this one key: values with another key are foreign (a mismatch).
    Known(u64),
}

/// One cell of a plan: keys `lo ..= hi` (keys of [`f64::total_cmp`]'s order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRange {
    /// First key.
    pub lo: u64,
    /// Last key.
    pub hi: u64,
    /// What to do with its values.
    pub kind: CellKind,
}

/// What a device gathered for one column over some iterations, in the plan's cell order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectedPart {
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
    /// Per cell: the exact sum of its values, as 70 limbs of 32 bits in `i64` (limb `j` weighs
    /// `2^(32 j - 1074)`).
    pub cell_sum: Vec<Vec<i64>>,
    /// Per cell: the exact sum of its gap's values.
    pub gap_sum: Vec<Vec<i64>>,
    /// Per cell: the kept values (any order).
    pub kept: Vec<Vec<f64>>,
    /// Per cell: `(bucket, count, key)` of a counting cell (key: the one key, or `u64::MAX`).
    pub sub: Vec<Vec<(u32, u64, u64)>>,
}

impl QuantilePlan {
    /// The plan's cells, ascending and disjoint, for a device to collect on its own.
    pub fn cell_ranges(&self) -> Vec<CellRange> {
        self.inner
            .cells
            .iter()
            .map(|c| CellRange {
                lo: c.lo,
                hi: c.hi,
                kind: match c.mode {
                    Mode::Keep => CellKind::Keep(c.count),
                    Mode::Count => {
                        let step = refine_step(c.bits);
                        CellKind::Count {
                            shift: 64 - c.bits - step,
                            mask: (1u64 << step) - 1,
                        }
                    }
                    Mode::Known(k) => CellKind::Known(k),
                },
            })
            .collect()
    }
}

impl Collector {
    /// Adds what a device gathered over some iterations of this collector's plan (see
    /// [`QuantilePlan::cell_ranges`]); as if those values had been [`Collector::add`]ed.
    pub fn add_collected(&mut self, part: &CollectedPart) -> Result<()> {
        let n = self.cell_n.len();
        let ok = [
            part.cell_n.len(),
            part.gap_n.len(),
            part.cell_sum.len(),
            part.gap_sum.len(),
            part.kept.len(),
            part.sub.len(),
        ]
        .iter()
        .all(|&l| l == n);
        if !ok {
            return Err(ResultsError::StreamMismatch {
                what: format!("a device's collected part does not have the plan's {n} cells"),
            });
        }
        for j in 0..n {
            self.cell_n[j] += part.cell_n[j];
            self.gap_n[j] += part.gap_n[j];
            self.cell_sum[j].merge(&ExactSum::from_limbs(&part.cell_sum[j], part.cell_n[j])?);
            self.gap_sum[j].merge(&ExactSum::from_limbs(&part.gap_sum[j], part.gap_n[j])?);
            self.kept[j].extend_from_slice(&part.kept[j]);
            for &(b, count, k) in &part.sub[j] {
                let b = u16::try_from(b).map_err(|_| ResultsError::StreamMismatch {
                    what: format!("a device counted bucket {b} of a cell (at most 65,535)"),
                })?;
                self.sub[j].add(b, count, k);
            }
        }
        self.pos_zeros += part.pos_zeros;
        self.foreign += part.foreign;
        self.total += part.n;
        Ok(())
    }
}
