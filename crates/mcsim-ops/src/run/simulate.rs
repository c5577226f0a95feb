//! Simulating a [`Prepared`] model: iterations cut into tasks aligned to absolute iteration
//! indices, run on the caller's thread pool, chunk after chunk; after each chunk its values go to
//! the samples sink, to the kept samples (exact statistics) and to mergeable accumulators.
//!
//! Two statistics modes ([`StatisticsMode`]):
//! - **exact**: every sample is kept in memory (the run fits the memory budget, or something
//!   needs the samples: `--until-converged`, statistics cells, `--save-as`); statistics, ranks and
//!   thresholds read one sort per column.
//! - **streaming**: beyond the budget. Pass 1 fills, per column, [`BlockStats`] (moments, min, max,
//!   errors, target counts) and a [`Histogram`] of the f64 bit patterns; pass 2 recomputes the
//!   iterations (the streams are counter-based, so pass 2 draws the same numbers) and keeps only
//!   the values in the buckets that hold the requested ranks ([`QuantilePlan`]), so percentiles,
//!   VaR and CVaR are exact; a bucket too big for the budget is refined by one more pass.
//!   Sensitivity uses ranks read from pass 1's histograms ([`RankMap`]).
//!
//! Every accumulator reads each column in iteration order, cut into blocks of [`STATS_BLOCK`]
//! iterations at absolute positions (and at the convergence checkpoints), so every number is
//! the same for any thread count.

use super::device::DeviceRun;
use super::prepare::Prepared;
use super::{
    BLOCK_VALUES, CONVERGENCE_STEP, INTERPRETED_TASK, LANES, Shard, ShardInfo, StatisticsMode,
};
use crate::error::OpsError;
use mcsim_engine::sim::{Plan, Simulation};
use mcsim_results::{
    BlockStats, Collector, ConvergenceCheck, ConvergencePoint, Histogram, OrderStats,
    PercentileValue, QuantilePlan, RankMap, Resolved, SamplesWriter, SensitivityBlock,
    SensitivityStats, SummaryOptions, Z95, summary_positions,
};
use mcsim_sampling::{DESIGN_BLOCK, Method, Sampler, Streams};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

mod device_stream;
pub use device_stream::{collected_part, select_cells};

/// Iterations per accumulator block: statistics are merged block by block in this grid of
/// absolute iteration positions, whatever the thread count.
pub const STATS_BLOCK: u64 = 4096;

/// Points of the convergence trace: the ten tenths of the run.
const CHECKPOINTS: u64 = 10;

/// How to simulate.
#[derive(Debug, Clone)]
pub struct SimulateSpec {
    /// Iterations (the maximum with `until_converged`).
    pub iterations: u64,
    /// Seed.
    pub seed: u64,
    /// Sampling method.
    pub method: Method,
    /// Stop once the mean and percentiles are stable within this relative tolerance.
    pub until_converged: Option<f64>,
    /// Bytes the kept samples may take; beyond it the statistics stream.
    pub memory: u64,
    /// Keep every sample whatever the budget (statistics cells and `--save-as` read them).
    pub keep_samples: bool,
    /// The statistics the accumulators must answer (percentiles, VaR levels, targets).
    pub summary: SummaryOptions,
    /// Simulate only this shard's slice of the iterations.
    pub shard: Option<Shard>,
}

/// Progress and cancellation of a simulation.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// Called after each chunk of iterations with (done, total); a streaming run's passes count
    /// together (total = passes × iterations once the number of passes is known).
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
    /// When set (by another thread), the simulation stops at the next chunk with
    /// [`OpsError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

/// Where the samples go as blocks of iterations finish, in iteration order: the input columns
/// then the output columns, each the same length.
pub trait SampleSink {
    /// Writes one block.
    fn write_block(&mut self, columns: &[&[f64]]) -> Result<(), OpsError>;
}

impl SampleSink for SamplesWriter {
    fn write_block(&mut self, columns: &[&[f64]]) -> Result<(), OpsError> {
        SamplesWriter::write_block(self, columns).map_err(|e| OpsError::Run {
            message: format!("writing samples: {}", crate::results::chain(&e)),
        })
    }
}

/// A finished simulation: what [`analyse`](super::analyse()) reads.
#[derive(Debug)]
pub struct Simulated {
    /// Iterations run.
    pub iterations: u64,
    /// Seed.
    pub seed: u64,
    /// Sampling method.
    pub method: Method,
    /// Worker threads.
    pub threads: usize,
    /// With `until_converged`: whether it converged before the maximum.
    pub converged: Option<bool>,
    /// Seconds spent sampling and evaluating (every pass, and writing samples).
    pub simulation_seconds: f64,
    /// How the statistics are computed.
    pub mode: StatisticsMode,
    /// Passes over the iterations (1 when exact; 2 or 3 when streaming).
    pub passes: u32,
    /// With a shard: which, and its iterations.
    pub shard: Option<ShardInfo>,
    /// Warnings (a budget that could not be kept, ...).
    pub warnings: Vec<String>,
    /// Per output, over every iteration.
    pub(crate) out_stats: Vec<BlockStats>,
    /// Exact mode: per output, the statistics of the iterations before each convergence
    /// checkpoint (empty when the run stopped early or is a shard).
    pub(crate) prefix_stats: Vec<Vec<(u64, BlockStats)>>,
    /// Exact mode: every kept input's and output's samples.
    pub(crate) in_samples: Vec<Vec<f64>>,
    pub(crate) out_samples: Vec<Vec<f64>>,
    /// Exact mode, a whole Latin Hypercube run: per kept input, the stratum of each iteration
    /// as sampled (`None` where not kept: correlated inputs, runs that may stop early), for
    /// the statistics' rank hints.
    pub(crate) in_strata: Vec<Option<Vec<u32>>>,
    /// Streaming mode.
    pub(crate) streamed: Option<Streamed>,
    /// A shard's mergeable accumulators, per output: every accumulator block's statistics (in
    /// block order, to be folded after the previous shards' blocks) and the histogram.
    pub(crate) shard_blocks: Vec<(Vec<BlockStats>, Histogram)>,
}

/// One accumulator block's statistics, folded into `stats` (bit for bit what
/// `stats.add_block(xs)` does) and, for a shard, kept with its histogram.
fn add_block(
    stats: &mut BlockStats,
    record: Option<&mut (Vec<BlockStats>, Histogram)>,
    xs: &[f64],
) {
    match record {
        None => stats.add_block(xs),
        Some((blocks, hist)) => {
            let mut block = BlockStats::new(stats.targets());
            block.add_block(xs);
            stats.merge(&block);
            blocks.push(block);
            hist.add(xs);
        }
    }
}

/// What a streaming run keeps per output.
#[derive(Debug)]
pub(crate) struct Streamed {
    pub(crate) order: Vec<OrderStats>,
    pub(crate) sensitivity: Vec<SensitivityStats>,
    pub(crate) convergence: Vec<Vec<ConvergencePoint>>,
}

/// The checkpoints of the convergence trace: after `ceil(k * n / 10)` iterations.
fn checkpoints(n: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (1..=CHECKPOINTS)
        .map(|k| (k * n).div_ceil(CHECKPOINTS))
        .collect();
    v.dedup();
    v
}

/// The accumulator blocks of iterations `start..start + len`: cut at multiples of
/// [`STATS_BLOCK`] and at `cuts`; each as (from, to) offsets and the cut it ends at, if any.
fn blocks(start: u64, len: usize, cuts: &[u64]) -> Vec<(usize, usize, Option<u64>)> {
    let end = start + len as u64;
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        let next_block = (i / STATS_BLOCK + 1) * STATS_BLOCK;
        let next_cut = cuts.iter().copied().find(|&c| c > i).unwrap_or(u64::MAX);
        let j = end.min(next_block).min(next_cut);
        out.push((
            (i - start) as usize,
            (j - start) as usize,
            (j == next_cut).then_some(j),
        ));
        i = j;
    }
    out
}

/// A streaming run's convergence point after `at` iterations: the mean and its confidence
/// interval exactly (from the block statistics so far), the 5th/50th/95th percentiles estimated
/// from the histogram so far (see [`Histogram::quantile_estimate`]).
fn trace_point(at: u64, stats: &BlockStats, hist: &Histogram) -> ConvergencePoint {
    let n = stats.n();
    ConvergencePoint {
        iterations: at as usize,
        n: n as usize,
        mean: stats.mean(),
        ci95_half_width: Z95 * stats.std_dev() / (n as f64).sqrt(),
        percentiles: [0.05, 0.5, 0.95]
            .iter()
            .map(|&p| PercentileValue {
                p,
                value: hist.quantile_estimate(p, stats.min(), stats.max()),
            })
            .collect(),
    }
}

/// What a pass does with each chunk: `(start, inputs, outputs)` → where the run stops, if it
/// stops in this chunk.
type Consumer<'a> = dyn FnMut(u64, &[&[f64]], &[&[f64]]) -> Result<Option<u64>, OpsError> + 'a;

/// Every input's and output's kept column, a whole pass long, for [`Runner::pass`] to compute
/// its chunks in place.
type WholeColumns<'a> = (&'a mut [Vec<f64>], &'a mut [Vec<f64>]);

/// The fixed part of a simulation: how iterations are cut into tasks and drawn.
struct Runner<'p, 'm> {
    p: &'p Prepared<'m>,
    /// The iterations this simulation computes, `[lo, hi)` (a shard's slice, or all).
    lo: u64,
    hi: u64,
    iterations: u64,
    seed: u64,
    method: Method,
    streams: Streams,
    samplers: Vec<&'p Sampler>,
    group_keys: Vec<Vec<u64>>,
    task_len: u64,
    chunk_len: u64,
    two_phase: bool,
    lanes_per_block: usize,
    n_out: usize,
    /// The GPU (or the host shim) that computes each chunk instead of the CPU.
    device: Option<&'p DeviceRun>,
}

/// Iterations per task: an Iman-Conover design block when inputs are correlated; otherwise the
/// interpreter's iterations are slow enough that small tasks keep every thread busy (and the
/// progress bar moving).
fn task_len(p: &Prepared<'_>) -> u64 {
    let interpreted = matches!(p.sim.plan(), Plan::Interpreted { .. });
    if !p.groups.is_empty() {
        DESIGN_BLOCK as u64
    } else if interpreted {
        INTERPRETED_TASK
    } else {
        // 4,096 iterations: the statistics' block, so that the shard grid stays 4,096.
        4 * LANES as u64
    }
}

/// The grid that chunks, and shards, are cut on: a multiple of both the task length and
/// [`STATS_BLOCK`] (both powers of two), so no task or accumulator block is ever cut.
pub fn shard_grid(p: &Prepared<'_>) -> u64 {
    task_len(p).max(STATS_BLOCK)
}

/// The accumulator of a whole column, on the same block grid (and convergence checkpoints) as a
/// run's, so that statistics re-derived from a samples file equal the run's bit for bit.
pub fn stats_of(values: &[f64], targets: &[f64]) -> BlockStats {
    stats_with_prefixes(values, targets).0
}

/// [`stats_of`], with the statistics of the iterations before each of the ten convergence
/// checkpoints of a run of `values.len()` iterations (what a whole run snapshots).
pub(crate) fn stats_with_prefixes(
    values: &[f64],
    targets: &[f64],
) -> (BlockStats, Vec<(u64, BlockStats)>) {
    let mut stats = BlockStats::new(targets);
    let mut prefixes = Vec::new();
    for (a, b, cut) in blocks(0, values.len(), &checkpoints(values.len() as u64)) {
        stats.add_block(&values[a..b]);
        if let Some(at) = cut {
            prefixes.push((at, stats.clone()));
        }
    }
    (stats, prefixes)
}

impl<'p, 'm> Runner<'p, 'm> {
    fn new(
        p: &'p Prepared<'m>,
        spec: &SimulateSpec,
        threads: usize,
        device: Option<&'p DeviceRun>,
    ) -> Self {
        let task_len = task_len(p);
        // Chunks end on the accumulators' block grid, so no block is cut by a chunk end (which
        // depends on the thread count).
        let grid = shard_grid(p);
        let chunk_len = match device {
            Some(d) => d.chunk_len(grid),
            None => ((threads as u64 * 4 * task_len).div_ceil(grid)) * grid,
        };
        let (lo, hi) = match spec.shard {
            Some(sh) => sh.range(spec.iterations, grid),
            None => (0, spec.iterations),
        };
        Runner {
            p,
            lo,
            hi,
            iterations: spec.iterations,
            seed: spec.seed,
            method: spec.method,
            streams: Streams::new(spec.seed),
            samplers: p.inputs.iter().map(|i| &i.sampler).collect(),
            group_keys: p
                .groups
                .iter()
                .map(|(idx, _)| idx.iter().map(|&k| p.keys[k]).collect())
                .collect(),
            task_len,
            chunk_len,
            // An interpreted model with correlation groups samples per design block, then
            // evaluates in small tasks (a design block is far more work than one thread should
            // take alone).
            two_phase: matches!(p.sim.plan(), Plan::Interpreted { .. }) && !p.groups.is_empty(),
            // Fewer lanes per block when a model has very many random calls, so that a block's
            // columns stay within a few megabytes.
            lanes_per_block: (BLOCK_VALUES / p.inputs.len().max(1)).clamp(16, LANES),
            n_out: p.out_cells.len(),
            device,
        }
    }

    /// One pass over every iteration: each chunk is computed into `chunk_in`/`chunk_out`, then
    /// handed to `consume(start, ins, outs)`, which returns where the run stops (`None`: go on).
    /// With `whole` (every input's and output's column, a whole pass long from `lo`), each chunk
    /// is computed in place into its part of them instead: nothing is copied after.
    fn pass(
        &self,
        pool: &rayon::ThreadPool,
        control: &Control<'_>,
        progress: (u64, u64),
        strata: &mut [Vec<u32>],
        mut whole: Option<WholeColumns<'_>>,
        consume: &mut Consumer<'_>,
    ) -> Result<u64, OpsError> {
        let mut own_in: Vec<Vec<f64>> = vec![Vec::new(); self.p.infos.len()];
        let mut own_out: Vec<Vec<f64>> = vec![Vec::new(); self.n_out];
        let mut done = self.lo;
        while done < self.hi {
            if control.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(OpsError::Cancelled);
            }
            let chunk_end = (done + self.chunk_len).min(self.hi);
            let chunk_n = (chunk_end - done) as usize;
            let (mut chunk_in, mut chunk_out): (Vec<&mut [f64]>, Vec<&mut [f64]>) =
                match whole.as_mut() {
                    Some((ins, outs)) => {
                        let range = (done - self.lo) as usize..(chunk_end - self.lo) as usize;
                        (
                            ins.iter_mut()
                                .map(|c| part_of(c, range.clone()))
                                .collect::<Result<_, _>>()?,
                            outs.iter_mut()
                                .map(|c| part_of(c, range.clone()))
                                .collect::<Result<_, _>>()?,
                        )
                    }
                    None => {
                        for c in own_in.iter_mut().chain(own_out.iter_mut()) {
                            c.resize(chunk_n, 0.0);
                        }
                        (
                            own_in.iter_mut().map(|c| &mut c[..]).collect(),
                            own_out.iter_mut().map(|c| &mut c[..]).collect(),
                        )
                    }
                };
            self.chunk(
                pool,
                (done, chunk_end),
                &mut chunk_in,
                &mut chunk_out,
                strata,
            )?;
            let chunk_in: Vec<&[f64]> = chunk_in.into_iter().map(|c| &*c).collect();
            let chunk_out: Vec<&[f64]> = chunk_out.into_iter().map(|c| &*c).collect();
            let stop = consume(done, &chunk_in, &chunk_out)?;
            done = stop.unwrap_or(chunk_end);
            (control.progress)(progress.0 + done - self.lo, progress.1);
            if stop.is_some() {
                break;
            }
        }
        Ok(done)
    }

    /// Computes iterations `done..chunk_end` into the chunk columns, and the strata of the
    /// inputs whose `strata` column (a whole run long, from `lo`) is not empty into it.
    fn chunk(
        &self,
        pool: &rayon::ThreadPool,
        (done, chunk_end): (u64, u64),
        chunk_in: &mut [&mut [f64]],
        chunk_out: &mut [&mut [f64]],
        strata: &mut [Vec<u32>],
    ) -> Result<(), OpsError> {
        if let Some(d) = self.device {
            return d.fill(done, chunk_in, chunk_out);
        }
        let (task_len, method, seed, iterations) =
            (self.task_len, self.method, self.seed, self.iterations);
        let (two_phase, lanes_per_block, n_out) =
            (self.two_phase, self.lanes_per_block, self.n_out);
        // Split every column into per-task slices.
        let mut tasks: Vec<Task<'_>> = Vec::new();
        {
            let mut in_iters: Vec<_> = chunk_in
                .iter_mut()
                .map(|c| c.chunks_mut(task_len as usize))
                .collect();
            let mut out_iters: Vec<_> = chunk_out
                .iter_mut()
                .map(|c| c.chunks_mut(task_len as usize))
                .collect();
            // The chunk's part of each kept strata column, cut like the input columns.
            let (from, to) = ((done - self.lo) as usize, (chunk_end - self.lo) as usize);
            let mut strata_iters: Vec<_> = strata
                .iter_mut()
                .map(|c| {
                    c.get_mut(from..to)
                        .unwrap_or(&mut [])
                        .chunks_mut(task_len as usize)
                })
                .collect();
            let mut start = done;
            while start < chunk_end {
                let ins: Vec<&mut [f64]> = in_iters.iter_mut().filter_map(|it| it.next()).collect();
                let outs: Vec<&mut [f64]> =
                    out_iters.iter_mut().filter_map(|it| it.next()).collect();
                let kept: Vec<&mut [u32]> = strata_iters
                    .iter_mut()
                    .map(|it| it.next().unwrap_or(&mut []))
                    .collect();
                tasks.push((start, ins, outs, kept));
                start = (start + task_len).min(chunk_end);
            }
        }
        let failure = std::sync::Mutex::new(None::<String>);
        let failure = &failure;
        let groups = &self.p.groups;
        let group_keys = &self.group_keys;
        let keys = &self.p.keys[..];
        let samplers = &self.samplers[..];
        let sim = &self.p.sim;
        let streams = &self.streams;
        pool.install(|| {
            tasks.into_par_iter().for_each_init(
                || {
                    (
                        sim.block(lanes_per_block),
                        vec![Vec::with_capacity(lanes_per_block); n_out],
                    )
                },
                |(block, outbuf), (start, mut ins, mut outs, mut kept)| {
                    // Latin Hypercube strata span the whole run (the maximum with
                    // `--until-converged`), so any task computes its own slice.
                    for (k, col) in ins.iter_mut().enumerate() {
                        match kept.get_mut(k).filter(|st| !st.is_empty()) {
                            Some(st) => samplers[k].sample_into_keeping_strata(
                                method, streams, keys[k], iterations, start, col, st,
                            ),
                            None => samplers[k]
                                .sample_into(method, streams, keys[k], iterations, start, col),
                        }
                    }
                    for ((idx, plan), gkeys) in groups.iter().zip(group_keys) {
                        let mut cols: Vec<&mut [f64]> = Vec::new();
                        // Borrow the group's columns in group order.
                        let mut rest: Vec<Option<&mut [f64]>> =
                            ins.iter_mut().map(|c| Some(&mut **c)).collect();
                        for &k in idx {
                            if let Some(c) = rest.get_mut(k).and_then(Option::take) {
                                cols.push(c);
                            }
                        }
                        if let Err(e) =
                            plan.apply(start / DESIGN_BLOCK as u64, gkeys, &mut cols, seed)
                            && let Ok(mut slot) = failure.lock()
                        {
                            *slot = Some(e.to_string());
                        }
                    }
                    if two_phase {
                        return;
                    }
                    let ins: Vec<&[f64]> = ins.iter().map(|c| &**c).collect();
                    evaluate_task(
                        sim,
                        block,
                        outbuf,
                        Draws {
                            samplers,
                            keys,
                            method,
                            streams,
                            iterations,
                            lanes: lanes_per_block,
                        },
                        start,
                        &ins,
                        &mut outs,
                    );
                },
            );
        });
        if let Some(msg) = failure.lock().ok().and_then(|mut f| f.take()) {
            return Err(OpsError::Run {
                message: format!("correlating inputs: {msg}"),
            });
        }
        if two_phase {
            let eval_len = INTERPRETED_TASK as usize;
            let mut eval_tasks: Vec<EvalTask<'_>> = Vec::new();
            {
                let mut in_iters: Vec<_> = chunk_in.iter().map(|c| c.chunks(eval_len)).collect();
                let mut out_iters: Vec<_> = chunk_out
                    .iter_mut()
                    .map(|c| c.chunks_mut(eval_len))
                    .collect();
                let mut start = done;
                while start < chunk_end {
                    let ins: Vec<&[f64]> = in_iters.iter_mut().filter_map(|it| it.next()).collect();
                    let outs: Vec<&mut [f64]> =
                        out_iters.iter_mut().filter_map(|it| it.next()).collect();
                    eval_tasks.push((start, ins, outs));
                    start = (start + eval_len as u64).min(chunk_end);
                }
            }
            pool.install(|| {
                eval_tasks.into_par_iter().for_each_init(
                    || {
                        (
                            sim.block(lanes_per_block),
                            vec![Vec::with_capacity(lanes_per_block); n_out],
                        )
                    },
                    |(block, outbuf), (start, ins, mut outs)| {
                        evaluate_task(
                            sim,
                            block,
                            outbuf,
                            Draws {
                                samplers,
                                keys,
                                method,
                                streams,
                                iterations,
                                lanes: lanes_per_block,
                            },
                            start,
                            &ins,
                            &mut outs,
                        );
                    },
                );
            });
        }
        Ok(())
    }
}

/// Simulates `p` on `pool`.
pub fn simulate(
    p: &Prepared<'_>,
    spec: &SimulateSpec,
    pool: &rayon::ThreadPool,
    control: &Control<'_>,
    sink: Option<&mut dyn SampleSink>,
) -> Result<Simulated, OpsError> {
    simulate_on(p, spec, pool, control, sink, None)
}

/// [`simulate`], with every chunk of iterations computed by `device` (a GPU, see
/// [`Prepared::choose_backend`]) when given; the statistics are then computed on `pool` from the
/// chunks copied back, as for the CPU's.
pub fn simulate_on(
    p: &Prepared<'_>,
    spec: &SimulateSpec,
    pool: &rayon::ThreadPool,
    control: &Control<'_>,
    mut sink: Option<&mut dyn SampleSink>,
    device: Option<&DeviceRun>,
) -> Result<Simulated, OpsError> {
    let iterations = spec.iterations;
    if iterations == 0 {
        return Err(OpsError::Model {
            message: "the number of iterations must be at least 1".into(),
        });
    }
    if spec.shard.is_some() && spec.until_converged.is_some() {
        return Err(OpsError::Option {
            option: "--until-converged".into(),
            message: "cannot be used with --shard (where to stop depends on every shard)".into(),
        });
    }
    let threads = pool.current_num_threads();
    let runner = Runner::new(p, spec, threads, device);
    let (lo, hi) = (runner.lo, runner.hi);
    let n_in = p.infos.len();
    let n_out = p.out_cells.len();
    let needed = (hi - lo).saturating_mul(p.bytes_per_iteration());
    let mode = if spec.keep_samples || spec.until_converged.is_some() || needed <= spec.memory {
        StatisticsMode::Exact
    } else {
        StatisticsMode::Streaming
    };
    let exact = mode == StatisticsMode::Exact;
    let mut warnings = Vec::new();
    if let Some(sh) = spec.shard
        && lo == hi
    {
        warnings.push(format!(
            "shard {}/{} holds no iterations: shards are cut on blocks of {} iterations, and this run has {iterations}",
            sh.index,
            sh.count,
            shard_grid(p)
        ));
    }
    if exact && needed > spec.memory {
        let why = if spec.until_converged.is_some() {
            "--until-converged"
        } else {
            "statistics cells or --save-as"
        };
        warnings.push(format!(
            "{why} needs every sample in memory: about {} MiB, over the --memory budget of {} MiB",
            needed >> 20,
            spec.memory >> 20
        ));
    }
    let cuts = checkpoints(iterations);
    let targets = &spec.summary.targets;
    let sim_started = Instant::now();

    let mut in_samples: Vec<Vec<f64>> = vec![Vec::new(); if exact { n_in } else { 0 }];
    // A whole Latin Hypercube run keeps each uncorrelated input's strata as it samples them:
    // the statistics' rank hints, which would otherwise be computed again after the run.
    let whole_lhs = exact
        && spec.method == Method::LatinHypercube
        && spec.shard.is_none()
        && spec.until_converged.is_none()
        && runner.device.is_none()
        && u32::try_from(iterations).is_ok();
    let grouped: std::collections::HashSet<usize> = p
        .groups
        .iter()
        .flat_map(|(idx, _)| idx.iter().copied())
        .collect();
    let mut in_strata: Vec<Vec<u32>> = (0..n_in)
        .map(|k| {
            if whole_lhs && !grouped.contains(&k) {
                vec![0; iterations as usize]
            } else {
                Vec::new()
            }
        })
        .collect();
    let mut out_samples: Vec<Vec<f64>> = vec![Vec::new(); if exact { n_out } else { 0 }];
    // An exact run without a convergence check keeps every iteration: its chunks are computed
    // in place into the kept columns (zeroed memory, which the kernel maps as the chunks first
    // touch it), with no copy after each chunk. A run that may stop early appends its chunks.
    let in_place = exact && spec.until_converged.is_none();
    for v in in_samples.iter_mut().chain(out_samples.iter_mut()) {
        if in_place {
            *v = vec![0.0; (hi - lo) as usize];
        } else {
            v.reserve_exact((hi - lo).min(1 << 26) as usize);
        }
    }
    let mut out_stats: Vec<BlockStats> = (0..n_out).map(|_| BlockStats::new(targets)).collect();
    // Streaming: the inputs' stats (means) and every column's histogram, with the outputs'
    // convergence points.
    let mut in_stats: Vec<BlockStats> = Vec::new();
    let mut in_hist: Vec<Histogram> = Vec::new();
    let mut out_hist: Vec<Histogram> = Vec::new();
    let mut trace: Vec<Vec<ConvergencePoint>> = vec![Vec::new(); n_out];
    let mut prefix_stats: Vec<Vec<(u64, BlockStats)>> = vec![Vec::new(); n_out];
    // A shard keeps its blocks' statistics and histograms for `results merge`.
    let mut shard_blocks: Vec<Option<(Vec<BlockStats>, Histogram)>> = (0..n_out)
        .map(|_| spec.shard.map(|_| (Vec::new(), Histogram::new())))
        .collect();
    if !exact {
        in_stats = (0..n_in).map(|_| BlockStats::new(&[])).collect();
        in_hist = (0..n_in).map(|_| Histogram::new()).collect();
        out_hist = (0..n_out).map(|_| Histogram::new()).collect();
    }
    let mut checks: Option<Vec<ConvergenceCheck>> = spec.until_converged.map(|tol| {
        (0..n_out)
            .map(|_| ConvergenceCheck::new(tol).with_min_samples(1000))
            .collect()
    });
    let mut converged = None;
    let passes_hint = if exact { 1 } else { 2 };
    // A streaming run on a device reduces there (no samples file, shard or targets: those read
    // the values, or counts the device does not make).
    let on_device = !exact
        && runner.device.is_some()
        && sink.is_none()
        && spec.shard.is_none()
        && targets.is_empty();
    let done = if on_device {
        device_stream::pass1(
            &runner,
            control,
            (0, passes_hint * (hi - lo)),
            &cuts,
            device_stream::Pass1 {
                out_stats: &mut out_stats,
                out_hist: &mut out_hist,
                in_stats: &mut in_stats,
                in_hist: &mut in_hist,
                trace: &mut trace,
            },
        )?
    } else {
        // The kept columns go to the pass (computed in place) or to the consumer (appended).
        let (whole, mut appended) = if in_place {
            (Some((&mut in_samples[..], &mut out_samples[..])), None)
        } else if exact {
            (None, Some((&mut in_samples, &mut out_samples)))
        } else {
            (None, None)
        };
        runner.pass(
            pool,
            control,
            (0, passes_hint * (hi - lo)),
            &mut in_strata,
            whole,
            &mut |start, chunk_in, chunk_out| {
                let chunk_end = start + chunk_out.first().map_or(0, |c| c.len()) as u64;
                let mut stop = None;
                if let Some((in_samples, out_samples)) = appended.as_mut() {
                    pool.install(|| append_chunk(in_samples, chunk_in, out_samples, chunk_out));
                    // `--until-converged` checks at fixed iteration counts (multiples of
                    // CONVERGENCE_STEP, and the maximum), never at chunk ends, which depend on the
                    // thread count: the stopping point and every statistic are the same for any
                    // `--threads`. Iterations computed past the stopping point are dropped.
                    if let Some(cs) = checks.as_mut() {
                        let mut points: Vec<u64> = Vec::new();
                        let mut at = (start / CONVERGENCE_STEP + 1) * CONVERGENCE_STEP;
                        while at <= chunk_end && at < iterations {
                            points.push(at);
                            at += CONVERGENCE_STEP;
                        }
                        if chunk_end == iterations {
                            points.push(iterations);
                        }
                        for point in points {
                            let upto = point as usize;
                            // Every output's check sees this checkpoint (no short-circuit), then
                            // all must agree.
                            let states: Vec<bool> = cs
                                .iter_mut()
                                .zip(out_samples.iter())
                                .map(|(c, s)| c.converged(&s[..upto]))
                                .collect();
                            if states.iter().all(|&b| b) {
                                converged = Some(true);
                                stop = Some(point);
                                break;
                            }
                        }
                    }
                    if let Some(at) = stop {
                        for v in in_samples.iter_mut().chain(out_samples.iter_mut()) {
                            v.truncate((at - lo) as usize);
                        }
                    }
                }
                let keep = (stop.unwrap_or(chunk_end) - start) as usize;
                if let Some(w) = sink.as_mut() {
                    let cols: Vec<&[f64]> = chunk_in
                        .iter()
                        .chain(chunk_out.iter())
                        .map(|c| &c[..keep])
                        .collect();
                    w.write_block(&cols)?;
                }
                // Accumulators, a column per task, each column in iteration order. Streaming runs
                // also fill histograms and read the convergence trace at each checkpoint.
                let segments = blocks(start, keep, &cuts);
                let segments = &segments;
                pool.install(|| {
                    if exact {
                        out_stats
                            .par_iter_mut()
                            .zip(chunk_out.par_iter())
                            .zip(prefix_stats.par_iter_mut())
                            .zip(shard_blocks.par_iter_mut())
                            .with_max_len(1)
                            .for_each(|(((stats, col), prefixes), record)| {
                                for &(a, b, cut) in segments {
                                    add_block(stats, record.as_mut(), &col[a..b]);
                                    if let Some(at) = cut {
                                        prefixes.push((at, stats.clone()));
                                    }
                                }
                            });
                        return;
                    }
                    out_stats
                        .par_iter_mut()
                        .zip(out_hist.par_iter_mut())
                        .zip(chunk_out.par_iter())
                        .zip(trace.par_iter_mut())
                        .zip(shard_blocks.par_iter_mut())
                        .for_each(|((((stats, hist), col), points), record)| {
                            for &(a, b, cut) in segments {
                                add_block(stats, record.as_mut(), &col[a..b]);
                                hist.add(&col[a..b]);
                                if let Some(at) = cut {
                                    points.push(trace_point(at, stats, hist));
                                }
                            }
                        });
                    in_stats
                        .par_iter_mut()
                        .zip(in_hist.par_iter_mut())
                        .zip(chunk_in.par_iter())
                        .for_each(|((stats, hist), col)| {
                            for &(a, b, _) in segments {
                                stats.add_block(&col[a..b]);
                                hist.add(&col[a..b]);
                            }
                        });
                });
                Ok(stop)
            },
        )?
    };
    if in_place {
        // Only the iterations the pass reached (all of them, unless it failed first).
        for v in in_samples.iter_mut().chain(out_samples.iter_mut()) {
            v.truncate((done - lo) as usize);
        }
    }
    if checks.is_some() && converged.is_none() {
        converged = Some(false);
    }
    // The snapshots are the checkpoints of a whole, unsharded run only.
    if done != iterations || spec.shard.is_some() {
        prefix_stats.iter_mut().for_each(Vec::clear);
    }
    let mut passes = 1;
    let streamed = if exact {
        None
    } else {
        let (streamed, more) = stream_passes(
            &runner, pool, control, spec, &out_stats, &out_hist, &in_stats, &in_hist, trace,
            on_device,
        )?;
        passes += more;
        Some(streamed)
    };
    let simulation_seconds = sim_started.elapsed().as_secs_f64();
    Ok(Simulated {
        iterations: done - lo,
        shard: spec.shard.map(|sh| ShardInfo {
            index: sh.index,
            count: sh.count,
            shard_of: iterations,
            first_iteration: lo + 1,
            last_iteration: hi,
        }),
        seed: spec.seed,
        method: spec.method,
        threads,
        converged,
        simulation_seconds,
        mode,
        passes,
        warnings,
        out_stats,
        prefix_stats,
        in_samples,
        out_samples,
        in_strata: in_strata
            .into_iter()
            .map(|st| (!st.is_empty() && done == hi).then_some(st))
            .collect(),
        streamed,
        shard_blocks: shard_blocks.into_iter().flatten().collect(),
    })
}

/// The part `range` of a kept column a whole pass long, where a chunk is computed in place.
fn part_of(column: &mut [f64], range: std::ops::Range<usize>) -> Result<&mut [f64], OpsError> {
    let len = column.len();
    column.get_mut(range.clone()).ok_or_else(|| OpsError::Run {
        message: format!("iterations {range:?} of a pass past its kept column of {len}"),
    })
}

/// Appends a chunk's columns to the kept samples, a column per task of the current pool: the
/// copies, and the first touch of the kept columns' pages, are a serial part of every chunk
/// otherwise.
fn append_chunk(
    in_samples: &mut [Vec<f64>],
    chunk_in: &[&[f64]],
    out_samples: &mut [Vec<f64>],
    chunk_out: &[&[f64]],
) {
    in_samples
        .par_iter_mut()
        .zip(chunk_in)
        .chain(out_samples.par_iter_mut().zip(chunk_out))
        .with_max_len(1)
        .for_each(|(dst, src)| dst.extend_from_slice(src));
}

/// The streaming passes after the first: exact order statistics (and refinements), and the
/// sensitivity sums over ranks from the first pass's histograms. Returns the passes run.
#[allow(clippy::too_many_arguments)]
fn stream_passes(
    runner: &Runner<'_, '_>,
    pool: &rayon::ThreadPool,
    control: &Control<'_>,
    spec: &SimulateSpec,
    out_stats: &[BlockStats],
    out_hist: &[Histogram],
    in_stats: &[BlockStats],
    in_hist: &[Histogram],
    trace: Vec<Vec<ConvergencePoint>>,
    on_device: bool,
) -> Result<(Streamed, u32), OpsError> {
    let iterations = runner.hi - runner.lo;
    let n_out = out_stats.len();
    // The budget is shared by the outputs' kept values.
    let budget_values = ((spec.memory / 8) as usize / n_out.max(1)).max(1 << 16);
    let mut plans: Vec<QuantilePlan> = out_stats
        .iter()
        .zip(out_hist)
        .map(|(s, h)| QuantilePlan::new(h, &summary_positions(s.n(), &spec.summary), budget_values))
        .collect();
    let in_ranks: Vec<RankMap> = in_hist
        .iter()
        .zip(in_stats)
        .map(|(h, s)| RankMap::new(h, s.min(), s.max()))
        .collect();
    let out_ranks: Vec<RankMap> = out_hist
        .iter()
        .zip(out_stats)
        .map(|(h, s)| RankMap::new(h, s.min(), s.max()))
        .collect();
    let in_means: Vec<f64> = in_stats.iter().map(BlockStats::mean).collect();
    let in_rank_refs: Vec<&RankMap> = in_ranks.iter().collect();
    let mut sensitivity: Vec<SensitivityStats> = (0..n_out)
        .map(|_| SensitivityStats::new(in_stats.len()))
        .collect();
    let mut order: Vec<Option<OrderStats>> = vec![None; n_out];
    let mut passes = 0u32;
    let mut first = true;
    while order.iter().any(Option::is_none) {
        passes += 1;
        if passes > 4 {
            return Err(OpsError::Run {
                message: "streaming percentiles did not resolve in 4 passes".into(),
            });
        }
        let mut collectors: Vec<Option<Collector>> = plans
            .iter()
            .zip(&order)
            .map(|(plan, o)| o.is_none().then(|| plan.collector()))
            .collect();
        let with_sensitivity = first;
        let progress = (iterations * passes as u64, iterations * (passes as u64 + 1));
        // The sensitivity pass reads every iteration's inputs and outputs: its chunks come
        // back; the other quantile passes select on the device.
        let copies_back = with_sensitivity && !in_rank_refs.is_empty();
        if on_device && !copies_back {
            device_stream::select_pass(runner, control, progress, &plans, &mut collectors)?;
        } else {
            runner.pass(
                pool,
                control,
                progress,
                &mut [],
                None,
                &mut |start, chunk_in, chunk_out| {
                    let len = chunk_out.first().map_or(0, |c| c.len());
                    let segments = blocks(start, len, &[]);
                    pool.install(|| {
                        // The inputs of each accumulator block are ranked and centred once,
                        // for every output (the sums are bit for bit those of a per-output
                        // pass).
                        let ins: Vec<Vec<&[f64]>> = if copies_back {
                            segments
                                .iter()
                                .map(|&(a, b, _)| chunk_in.iter().map(|c| &c[a..b]).collect())
                                .collect()
                        } else {
                            Vec::new()
                        };
                        let prepared: Vec<SensitivityBlock<'_>> = ins
                            .par_iter()
                            .map(|cols| SensitivityBlock::new(&in_rank_refs, &in_means, cols))
                            .collect();
                        collectors
                            .par_iter_mut()
                            .zip(chunk_out.par_iter())
                            .zip(sensitivity.par_iter_mut())
                            .enumerate()
                            .for_each(|(k, ((collector, col), sens))| {
                                if let Some(c) = collector.as_mut() {
                                    c.add(col);
                                }
                                for (block, &(a, b, _)) in prepared.iter().zip(&segments) {
                                    sens.add_prepared(
                                        block,
                                        &out_ranks[k],
                                        out_stats[k].mean(),
                                        &col[a..b],
                                    );
                                }
                            });
                    });
                    Ok(None)
                },
            )?;
        }
        first = false;
        for k in 0..n_out {
            if let Some(c) = collectors[k].take() {
                match plans[k].resolve(c) {
                    Resolved::Done(o) => order[k] = Some(o),
                    Resolved::Refine(finer) => plans[k] = finer,
                    Resolved::Failed(e) => {
                        return Err(OpsError::Run {
                            message: format!(
                                "streaming percentiles: {}",
                                crate::results::chain(&e)
                            ),
                        });
                    }
                }
            }
        }
    }
    Ok((
        Streamed {
            order: order.into_iter().flatten().collect(),
            sensitivity,
            convergence: trace,
        },
        passes,
    ))
}

/// An evaluation task of a two-phase chunk: its first iteration, the inputs drawn already, and
/// its slices of the output columns.
type EvalTask<'a> = (u64, Vec<&'a [f64]>, Vec<&'a mut [f64]>);

/// How the inputs a task does not keep are drawn.
#[derive(Clone, Copy)]
struct Draws<'a> {
    samplers: &'a [&'a Sampler],
    keys: &'a [u64],
    method: Method,
    streams: &'a Streams,
    iterations: u64,
    /// Lanes per block.
    lanes: usize,
}

/// Evaluates a task's iterations block by block: the kept inputs from `ins`, the others drawn
/// here; each output's values go to `outs`.
#[allow(clippy::too_many_arguments)]
fn evaluate_task<'m>(
    sim: &Simulation<'m>,
    block: &mut mcsim_engine::sim::Block<'m>,
    outbuf: &mut [Vec<f64>],
    draws: Draws<'_>,
    start: u64,
    ins: &[&[f64]],
    outs: &mut [&mut [f64]],
) {
    let len = outs.first().map_or(0, |o| o.len());
    let lanes_per_block = draws.lanes;
    let mut off = 0;
    while off < len {
        let lanes = lanes_per_block.min(len - off);
        for (k, col) in ins.iter().enumerate() {
            block.input_mut(k)[..lanes].copy_from_slice(&col[off..off + lanes]);
        }
        for (k, sampler) in draws.samplers.iter().enumerate().skip(ins.len()) {
            sampler.sample_into(
                draws.method,
                draws.streams,
                draws.keys[k],
                draws.iterations,
                start + off as u64,
                &mut block.input_mut(k)[..lanes],
            );
        }
        sim.run_block(block, lanes, outbuf);
        for (o, buf) in outs.iter_mut().zip(outbuf.iter()) {
            o[off..off + lanes].copy_from_slice(&buf[..lanes]);
        }
        off += lanes;
    }
}

/// One task: its first iteration, then its slices of the input and output columns, and of the
/// kept strata columns (empty where an input's strata are not kept).
type Task<'a> = (
    u64,
    Vec<&'a mut [f64]>,
    Vec<&'a mut [f64]>,
    Vec<&'a mut [u32]>,
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::run::config::ModelConfig;
    use crate::run::{LoadedModel, PrepareSpec, prepare, thread_pool};

    /// A whole exact Latin Hypercube run keeps each uncorrelated input's strata while it samples
    /// them, for the analysis to rank the inputs from (`lhs_rank_hints`): the kept strata are the
    /// streams' own permutation of every such input, whatever the thread count, across several
    /// chunks; a correlated input keeps none (its ranks come from the correlation's reordering).
    #[test]
    fn an_exact_lhs_run_keeps_every_uncorrelated_inputs_strata() {
        for model in ["npv_project_risk.xlsx", "portfolio_risk.xlsx"] {
            let path = format!("{}/../../bench/models/{model}", env!("CARGO_MANIFEST_DIR"));
            let loaded =
                LoadedModel::from_bytes(std::fs::read(&path).unwrap(), model, &Default::default())
                    .unwrap();
            let p = prepare(&loaded, &ModelConfig::default(), &PrepareSpec::default()).unwrap();
            // More than two chunks of one thread (4 x 8,192 iterations each).
            let iterations = 70_001;
            let grouped: Vec<usize> = p.groups.iter().flat_map(|g| g.0.clone()).collect();
            let mut kept = 0;
            for threads in [1, 2] {
                let spec = SimulateSpec {
                    iterations,
                    seed: 7,
                    method: Method::LatinHypercube,
                    until_converged: None,
                    memory: 1 << 30,
                    keep_samples: false,
                    summary: SummaryOptions::default(),
                    shard: None,
                };
                let pool = thread_pool(Some(threads)).unwrap();
                let control = Control {
                    progress: &|_, _| {},
                    cancel: None,
                };
                let s = simulate(&p, &spec, &pool, &control, None).unwrap();
                let streams = Streams::new(7);
                let stored: Vec<(usize, &super::super::prepare::Input)> = p
                    .inputs
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| i.stored)
                    .collect();
                assert_eq!(s.in_strata.len(), stored.len(), "{model}");
                for ((k, input), strata) in stored.iter().zip(&s.in_strata) {
                    if grouped.contains(k) {
                        assert!(
                            strata.is_none(),
                            "{model}: correlated input {k} kept strata"
                        );
                        continue;
                    }
                    let strata = strata
                        .as_ref()
                        .unwrap_or_else(|| panic!("{model}: input {k} kept no strata"));
                    assert!(
                        Some(strata) == streams.lhs_strata(input.key, iterations).as_ref(),
                        "{model}, {threads} threads: input {k}'s kept strata are not its stream's"
                    );
                    kept += 1;
                }
            }
            assert!(kept > 0, "{model}: no input kept strata");
        }
    }
}
