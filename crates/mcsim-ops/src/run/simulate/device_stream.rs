//! A streaming run's statistics reduced on the device ([`DeviceRun::reduce`]): pass 1's
//! accumulator records and histograms, and the quantile passes' selection, so that the outputs
//! never come back to the host. What still comes back per iteration: the chunks of the one pass
//! that accumulates the sensitivity sums (Spearman and regression read every iteration's inputs
//! and outputs; see `docs/gpu.md`).

use super::{Control, Runner, blocks, trace_point};
use crate::error::OpsError;
use mcsim_engine::sim::cuda_gen::BlockRecord;
use mcsim_engine::sim::cuda_gen::job::{CellMode, ReduceJob, Reduced, SelectCell, Selected};
use mcsim_results::{
    BlockStats, CellKind, CollectedPart, Collector, ConvergencePoint, Histogram, QuantilePlan,
};
use std::sync::atomic::Ordering;

/// One accumulator block from the device's record.
fn block_stats(r: &BlockRecord) -> BlockStats {
    BlockStats::from_parts(r.n, r.errors, r.sum, r.m2, r.m3, r.m4, r.min, r.max)
}

fn stream_err(e: mcsim_results::ResultsError) -> OpsError {
    OpsError::Run {
        message: format!("device reductions: {}", crate::results::chain(&e)),
    }
}

/// Pass 1's accumulators, per output and per kept input.
pub(super) struct Pass1<'a> {
    pub out_stats: &'a mut [BlockStats],
    pub out_hist: &'a mut [Histogram],
    pub in_stats: &'a mut [BlockStats],
    pub in_hist: &'a mut [Histogram],
    pub trace: &'a mut [Vec<ConvergencePoint>],
}

/// Runs the device over every chunk, calling `each(start, len, reduced, segments)`.
fn for_chunks(
    runner: &Runner<'_, '_>,
    control: &Control<'_>,
    progress: (u64, u64),
    job_of: &dyn Fn(u64, usize) -> ReduceJob,
    each: &mut dyn FnMut(u64, usize, Reduced) -> Result<(), OpsError>,
) -> Result<u64, OpsError> {
    let Some(d) = runner.device else {
        return Err(OpsError::Run {
            message: "device reductions without a device".into(),
        });
    };
    let mut done = runner.lo;
    while done < runner.hi {
        if control.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(OpsError::Cancelled);
        }
        let end = (done + runner.chunk_len).min(runner.hi);
        let len = (end - done) as usize;
        let red = d.reduce(done, len, &job_of(done, len))?;
        each(done, len, red)?;
        done = end;
        (control.progress)(progress.0 + done - runner.lo, progress.1);
    }
    Ok(done)
}

/// Pass 1 on the device: each chunk's accumulator blocks (cut as the CPU cuts them: at multiples
/// of the block length and at the convergence checkpoints `cuts`) come back as records, merged
/// in block order (the CPU's bits), and its histograms as counts per bucket, one part per
/// checkpoint so that the convergence trace reads the histogram as it stood there.
pub(super) fn pass1(
    runner: &Runner<'_, '_>,
    control: &Control<'_>,
    progress: (u64, u64),
    cuts: &[u64],
    acc: Pass1<'_>,
) -> Result<u64, OpsError> {
    let n_out = acc.out_stats.len();
    let n_kept = acc.in_stats.len();
    let job_of = |start: u64, len: usize| {
        let segs = blocks(start, len, cuts);
        let mut segments = vec![0u64];
        segments.extend(segs.iter().map(|s| s.1 as u64));
        let mut parts = vec![0u64];
        parts.extend(segs.iter().filter(|s| s.2.is_some()).map(|s| s.1 as u64));
        if parts.last() != Some(&(len as u64)) {
            parts.push(len as u64);
        }
        ReduceJob {
            segments,
            hist_parts: parts,
            select: None,
        }
    };
    let Pass1 {
        out_stats,
        out_hist,
        in_stats,
        in_hist,
        trace,
    } = acc;
    for_chunks(
        runner,
        control,
        progress,
        &job_of,
        &mut |start, len, red| {
            let segs = blocks(start, len, cuts);
            let nseg = segs.len();
            if red.records.len() < (n_out + n_kept) * nseg {
                return Err(OpsError::Run {
                    message: format!(
                        "the device returned {} accumulator records, {} expected",
                        red.records.len(),
                        (n_out + n_kept) * nseg
                    ),
                });
            }
            for k in 0..n_out {
                let mut part = 0;
                for (b, seg) in segs.iter().enumerate() {
                    out_stats[k].merge(&block_stats(&red.records[k * nseg + b]));
                    if let Some(at) = seg.2 {
                        if let Some(h) = red.hists.get(part) {
                            out_hist[k].add_counts(&h[k]).map_err(stream_err)?;
                        }
                        part += 1;
                        trace[k].push(trace_point(at, &out_stats[k], &out_hist[k]));
                    }
                }
                for h in red.hists.iter().skip(part) {
                    out_hist[k].add_counts(&h[k]).map_err(stream_err)?;
                }
            }
            for i in 0..n_kept {
                let c = n_out + i;
                for b in 0..nseg {
                    in_stats[i].merge(&block_stats(&red.records[c * nseg + b]));
                }
                for h in &red.hists {
                    in_hist[i].add_counts(&h[c]).map_err(stream_err)?;
                }
            }
            Ok(())
        },
    )
}

/// What the device selected for one column, as the CPU collector merges it (the engine's
/// [`Selected`] mirrors [`CollectedPart`]: the engine does not depend on `mcsim_results`).
pub fn collected_part(s: &Selected) -> CollectedPart {
    CollectedPart {
        n: s.n,
        pos_zeros: s.pos_zeros,
        foreign: s.foreign,
        cell_n: s.cell_n.clone(),
        gap_n: s.gap_n.clone(),
        cell_sum: s.cell_sum.clone(),
        gap_sum: s.gap_sum.clone(),
        kept: s.kept.clone(),
        sub: s.sub.clone(),
    }
}

/// A plan's cells as the device's selection ([`SelectCell`]) takes them.
pub fn select_cells(plan: &QuantilePlan) -> Vec<SelectCell> {
    plan.cell_ranges()
        .into_iter()
        .map(|c| SelectCell {
            lo: c.lo,
            hi: c.hi,
            mode: match c.kind {
                CellKind::Keep(n) => CellMode::Keep { capacity: n },
                CellKind::Count { shift, mask } => CellMode::Count { shift, mask },
                CellKind::Known(k) => CellMode::Known(k),
            },
        })
        .collect()
}

/// A quantile pass on the device: per chunk, each output with a collector gets what the
/// device's selection gathered of its plan's cells (counts, exact sums, the kept values).
pub(super) fn select_pass(
    runner: &Runner<'_, '_>,
    control: &Control<'_>,
    progress: (u64, u64),
    plans: &[QuantilePlan],
    collectors: &mut [Option<Collector>],
) -> Result<u64, OpsError> {
    let cells: Vec<Vec<SelectCell>> = plans
        .iter()
        .zip(collectors.iter())
        .map(|(p, c)| {
            if c.is_some() {
                select_cells(p)
            } else {
                Vec::new()
            }
        })
        .collect();
    let job_of = |_: u64, _: usize| ReduceJob {
        segments: Vec::new(),
        hist_parts: Vec::new(),
        select: Some(cells.clone()),
    };
    for_chunks(runner, control, progress, &job_of, &mut |_, _, red| {
        for (c, s) in collectors.iter_mut().zip(&red.selected) {
            if let Some(c) = c.as_mut() {
                c.add_collected(&collected_part(s)).map_err(stream_err)?;
            }
        }
        Ok(())
    })
}
