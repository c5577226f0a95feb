//! Statistics in constant memory: mergeable per-block accumulators and exact order statistics
//! by further passes over recomputable iterations.
//!
//! The simulation's random streams are counter-based, so any iteration can be recomputed. A
//! streaming run therefore never keeps the samples:
//!
//! 1. **Pass 1** (the simulation): per block, each worker fills, per column, a [`BlockStats`]
//!    (count, errors, moments, min/max, target counts) and a [`Histogram`] (counts per bucket of
//!    the `f64` key's top 16 bits). The caller folds the `BlockStats` strictly in block order
//!    (bit-identical for any thread count); histograms merge in any order.
//! 2. **Pass 2** (re-simulation): per column, a [`QuantilePlan`] built from the histogram and the
//!    positions a [`Summary`](crate::Summary) reads ([`summary_positions`]) says which key ranges
//!    to keep within a memory budget; per block, [`QuantilePlan::collector`] gives a [`Collector`]
//!    that is fed the block and merged. [`QuantilePlan::resolve`] then gives the exact
//!    [`OrderStats`] (usually) or a finer plan for one more pass (only when a bucket holding a
//!    requested rank has more values than the budget). [`Summary::from_stats_order`](crate::Summary::from_stats_order)
//!    assembles a summary identical to the in-memory one's percentiles, VaR, CVaR and targets.
//!    In the same pass, [`SensitivityStats`] accumulate, per block, the sums for Spearman (ranks
//!    from the first pass's histogram through a [`RankMap`]) and the standardized regression;
//!    [`Sensitivity::from_stream`](crate::Sensitivity::from_stream) finishes them.
//!
//! Everything here serializes (serde) where it crosses machines (shards, GPU results):
//! [`BlockStats`], [`Histogram`] and [`SensitivityStats`].

mod exact;
mod histogram;
mod moments;
mod quantile;
mod rank;

pub(crate) use exact::ExactSum;
pub use histogram::Histogram;
pub use moments::BlockStats;
pub use quantile::{Collector, OrderStats, QuantilePlan, Resolved, summary_positions};
pub use rank::{RankMap, SensitivityStats};

#[cfg(test)]
mod tests;
