//! mcsim's results: what a finished simulation's samples say.
//!
//! - [`Summary`]: moments, percentiles (Excel's `PERCENTILE.INC` rule), confidence interval of
//!   the mean, VaR/CVaR ([`RiskMeasure`] gives the sign convention) and target probabilities of
//!   one output. Sums use [`StableSum`] (Neumaier), in iteration order, so results do not depend
//!   on how the engine chunked or threaded the run.
//! - [`Sensitivity`]: Spearman rank correlations, standardized regression coefficients,
//!   contribution to variance and the tornado ranking of an output against every input.
//! - [`convergence_trace`] and [`ConvergenceCheck`]: running statistics and a stopping rule.
//! - [`Threshold`]: CI gating expressions such as `P(NPV < 0) > 0.2`.
//! - [`SamplesWriter`] / [`read_samples`]: the per-iteration samples file (Parquet, Arrow IPC or
//!   CSV; layout in [`samples`]), written block by block in bounded memory.
//! - [`stream`]: the same statistics in constant memory, from mergeable per-block accumulators
//!   ([`BlockStats`], [`Histogram`]) and exact order statistics by a further pass over
//!   recomputed iterations ([`QuantilePlan`]).
//! - [`compare`] / [`compare_samples`]: two runs side by side (Welch t, percentiles, KS).
//! - [`plot_histogram`], [`plot_cdf`], [`plot_tornado`]: SVG or PNG charts.
//!
//! Error iterations: functions that take samples as `&[f64]` treat non-finite values (`NaN`) as
//! error iterations and leave them out of every statistic; the samples file stores them as nulls
//! and reads them back as `NaN`.
//!
//! ```
//! use mcsim_results::{Summary, SummaryOptions, Threshold};
//! let npv: Vec<f64> = (0..1000).map(|i| (i as f64 - 200.0) * 1e3).collect();
//! let s = Summary::compute(&npv, 0, &SummaryOptions::default().with_target(0.0)).unwrap();
//! assert_eq!(s.targets[0].p_below, 0.2);
//! let gate = Threshold::parse("P(NPV < 0) > 0.1").unwrap();
//! assert!(gate.evaluate(&|name: &str| (name == "NPV").then_some(&npv[..])).unwrap());
//! ```
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod chart;
mod compare;
mod convergence;
mod error;
pub mod samples;
mod sensitivity;
mod sorted;
pub mod stream;
mod sum;
mod summary;
pub mod threshold;

pub use chart::{plot_cdf, plot_histogram, plot_tornado};
pub use compare::{Comparison, KsTest, PercentileDiff, compare, compare_samples, ks_two_sample};
pub use convergence::{
    ConvergenceCheck, ConvergencePoint, ConvergenceStatus, convergence_trace,
    convergence_trace_from_stats, convergence_trace_sorted,
};
pub use error::{Result, ResultsError};
pub use samples::{
    ColumnRole, SampleColumn, SamplesFile, SamplesFormat, SamplesLayout, SamplesWriter,
    read_samples, read_samples_stream,
};
pub use sensitivity::{
    Against, RankedInputs, Sensitivity, SensitivityEntry, pearson, ranks, spearman,
    standardized_regression,
};
pub use sorted::{SortScratch, SortedColumn};
pub use stream::{
    BlockStats, CellKind, CellRange, CollectedPart, Collector, Histogram, OrderStats, QuantilePlan,
    RankMap, Resolved, SensitivityBlock, SensitivityStats, summary_positions,
};
pub use sum::StableSum;
pub use summary::{
    DEFAULT_PERCENTILES, PercentileValue, RiskMeasure, Summary, SummaryOptions, TargetProbability,
    Z95, percentile_inc, var_cvar,
};
pub use threshold::{CmpOp, Statistic, Threshold, ThresholdOutcome};
