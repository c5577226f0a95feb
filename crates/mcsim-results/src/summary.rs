//! Summary statistics of one output's samples.

use serde::Serialize;

use crate::error::{Result, ResultsError};
use crate::sum::{StableSum, stable_sum};

/// Percentiles reported by default, as fractions: 1, 5, 10, 25, 50, 75, 90, 95 and 99 %.
pub const DEFAULT_PERCENTILES: [f64; 9] = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99];

/// The two-sided 95 % standard normal quantile, used for confidence intervals of the mean.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The `p`-quantile of already **sorted** data by Excel's `PERCENTILE.INC` rule.
///
/// With `n` values `x[0] <= .. <= x[n-1]` and `h = (n - 1) * p`, the result is
/// `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`: linear interpolation between
/// order statistics, `p = 0` giving the minimum and `p = 1` the maximum. Returns `NaN` for empty
/// data or `p` outside `[0, 1]` (callers validate levels first).
///
/// ```
/// use mcsim_results::percentile_inc;
/// let x: Vec<f64> = (1..=100).map(f64::from).collect();
/// assert_eq!(percentile_inc(&x, 0.05), 5.95); // =PERCENTILE.INC(1..100, 0.05)
/// ```
pub fn percentile_inc(sorted: &[f64], p: f64) -> f64 {
    percentile_inc_by(sorted.len(), p, |i| sorted[i])
}

/// [`percentile_inc`] of `n` sorted values read through `at(i)` (the `i`-th smallest, 0-based);
/// only the positions [`inc_positions`] lists are read.
pub(crate) fn percentile_inc_by(n: usize, p: f64, at: impl Fn(usize) -> f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor();
    let i = lo as usize;
    if i + 1 >= n {
        return at(n - 1);
    }
    let frac = h - lo;
    if frac == 0.0 {
        at(i)
    } else {
        let (a, b) = (at(i), at(i + 1));
        a + frac * (b - a)
    }
}

/// The positions (0-based, in sorted order) that [`percentile_inc_by`] reads for `n` and `p`.
pub(crate) fn inc_positions(n: usize, p: f64) -> Vec<usize> {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return Vec::new();
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor();
    let i = lo as usize;
    if i + 1 >= n {
        vec![n - 1]
    } else if h - lo == 0.0 {
        vec![i]
    } else {
        vec![i, i + 1]
    }
}

/// Copies the finite values of `samples` and sorts them ascending.
pub(crate) fn sorted_finite(samples: &[f64]) -> Vec<f64> {
    crate::sorted::SortedColumn::new(samples).sorted
}

/// Checks that `p` is a probability in `[0, 1]` (inclusive when `closed`, else open).
pub(crate) fn check_level(what: &'static str, p: f64, closed: bool) -> Result<()> {
    let ok = if closed {
        (0.0..=1.0).contains(&p)
    } else {
        p > 0.0 && p < 1.0
    };
    if ok {
        Ok(())
    } else {
        Err(ResultsError::InvalidLevel {
            what,
            value: p,
            range: if closed { "[0, 1]" } else { "(0, 1)" },
        })
    }
}

/// What to compute beyond the fixed statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryOptions {
    /// Percentiles to report, as fractions in `[0, 1]` (0.05 is the 5th percentile). Defaults to
    /// [`DEFAULT_PERCENTILES`]; add to it with [`SummaryOptions::with_percentile`].
    pub percentiles: Vec<f64>,
    /// Tail levels `α` in `(0, 1)` for VaR and CVaR (see [`RiskMeasure`]). Default `[0.05]`.
    pub risk_levels: Vec<f64>,
    /// Targets for which to report the probabilities of falling below and exceeding them.
    pub targets: Vec<f64>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        Self {
            percentiles: DEFAULT_PERCENTILES.to_vec(),
            risk_levels: vec![0.05],
            targets: Vec::new(),
        }
    }
}

impl SummaryOptions {
    /// Adds a percentile (a fraction in `[0, 1]`) to report, keeping the list sorted and unique.
    pub fn with_percentile(mut self, p: f64) -> Self {
        if !self.percentiles.contains(&p) {
            self.percentiles.push(p);
            self.percentiles.sort_by(f64::total_cmp);
        }
        self
    }

    /// Adds a VaR/CVaR tail level `α` in `(0, 1)`.
    pub fn with_risk_level(mut self, alpha: f64) -> Self {
        self.risk_levels.push(alpha);
        self
    }

    /// Adds a target for the exceedance probabilities.
    pub fn with_target(mut self, target: f64) -> Self {
        self.targets.push(target);
        self
    }
}

/// One reported percentile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PercentileValue {
    /// The level as a fraction (0.05 = 5th percentile).
    pub p: f64,
    /// The value by Excel's `PERCENTILE.INC` rule ([`percentile_inc`]).
    pub value: f64,
}

/// Value at risk and conditional value at risk at one tail level, on the output's own scale.
///
/// Sign convention: mcsim looks at the **lower** tail of the output itself (an NPV or a cash
/// balance, where low is bad) and does not negate it. `var` is the `level`-quantile of the output
/// ([`percentile_inc`]), so `level = 0.05` gives the 5th percentile (a "95 % VaR" in finance
/// wording, but reported as the output value, typically negative for a loss, rather than as a
/// positive loss). `cvar` is the mean of the samples at or below `var` (the expected shortfall in
/// the same units), so `cvar <= var` always.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskMeasure {
    /// The tail level `α`, in `(0, 1)`.
    pub level: f64,
    /// `VaR_α`: the `α`-quantile of the output.
    pub var: f64,
    /// `CVaR_α`: the mean of the samples `<= VaR_α`.
    pub cvar: f64,
}

/// Probabilities of falling below and exceeding one target, over the valid samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetProbability {
    /// The target value.
    pub target: f64,
    /// Fraction of valid samples strictly below `target`.
    pub p_below: f64,
    /// Fraction of valid samples strictly above `target`.
    pub p_above: f64,
}

/// Summary statistics of one output.
///
/// Samples that are not finite (`NaN`, which is how error iterations are read back from a samples
/// file, or infinities) are not statistics: they are counted in `errors` together with the error
/// count passed in, and every statistic is over the `n` valid samples only. Statistics that are
/// undefined for the data (anything with `n = 0`, the standard deviation with `n = 1`, the
/// shape statistics with zero variance) are `NaN`, which `serde_json` writes as `null`.
///
/// Moments use the two-pass method with [`StableSum`](crate::StableSum) in sample order, so the
/// result does not depend on how the engine chunked the iterations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of valid (finite) samples.
    pub n: usize,
    /// Number of error iterations (passed in, plus non-finite samples found).
    pub errors: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`, as Excel's `STDEV.S`).
    pub std_dev: f64,
    /// Sample variance (divisor `n - 1`).
    pub variance: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Skewness, moment estimator `g1 = m3 / m2^1.5` with `mk = Σ(x - mean)^k / n` (as @RISK; Excel's
    /// `SKEW` applies a small-sample correction and differs by the factor `sqrt(n(n-1))/(n-2)`).
    pub skewness: f64,
    /// Kurtosis with the normal distribution at **3**: `b2 = m4 / m2^2` (as @RISK reports it).
    pub kurtosis: f64,
    /// Excess kurtosis, `kurtosis - 3` (normal = 0; Excel's `KURT` is a bias-corrected variant).
    pub excess_kurtosis: f64,
    /// Standard error of the mean, `std_dev / sqrt(n)`.
    pub std_error: f64,
    /// Lower end of the 95 % confidence interval of the mean, `mean - 1.96 * std_error`.
    pub ci95_low: f64,
    /// Upper end of the 95 % confidence interval of the mean, `mean + 1.96 * std_error`.
    pub ci95_high: f64,
    /// Requested percentiles, ascending by level ([`percentile_inc`]).
    pub percentiles: Vec<PercentileValue>,
    /// VaR and CVaR at the requested tail levels ([`RiskMeasure`] defines the sign convention).
    pub risk: Vec<RiskMeasure>,
    /// Exceedance probabilities for the requested targets.
    pub targets: Vec<TargetProbability>,
}

impl Summary {
    /// Summary with [`SummaryOptions::default`]: the default percentiles and VaR/CVaR at 5 %.
    ///
    /// ```
    /// use mcsim_results::Summary;
    /// let x: Vec<f64> = (1..=100).map(f64::from).collect();
    /// let s = Summary::new(&x, 0);
    /// assert_eq!(s.mean, 50.5);
    /// assert_eq!(s.percentile(0.5), Some(50.5));
    /// ```
    pub fn new(samples: &[f64], errors: usize) -> Summary {
        let sorted = sorted_finite(samples);
        Self::from_parts(samples, &sorted, errors, &SummaryOptions::default())
    }

    /// Summary with the given options. Fails only when a level is out of range.
    pub fn compute(samples: &[f64], errors: usize, options: &SummaryOptions) -> Result<Summary> {
        for &p in &options.percentiles {
            check_level("percentile", p, true)?;
        }
        for &a in &options.risk_levels {
            check_level("VaR level", a, false)?;
        }
        let sorted = sorted_finite(samples);
        Ok(Self::from_parts(samples, &sorted, errors, options))
    }

    /// Like [`Summary::compute`], reading percentiles, VaR/CVaR, targets, min and max from
    /// `sorted`, which must be the finite values of `samples` sorted ascending (as
    /// [`SortedColumn::sorted`](crate::SortedColumn) holds them), so a caller that already sorted
    /// the column does not sort it again. The result is identical.
    pub fn compute_with_sorted(
        samples: &[f64],
        sorted: &[f64],
        errors: usize,
        options: &SummaryOptions,
    ) -> Result<Summary> {
        for &p in &options.percentiles {
            check_level("percentile", p, true)?;
        }
        for &a in &options.risk_levels {
            check_level("VaR level", a, false)?;
        }
        Ok(Self::from_parts(samples, sorted, errors, options))
    }

    fn from_parts(
        samples: &[f64],
        sorted: &[f64],
        errors: usize,
        options: &SummaryOptions,
    ) -> Summary {
        let n = sorted.len();
        let errors = errors + (samples.len() - n);
        let m = Moments::of(samples);
        let nf = n as f64;
        let std_error = m.std_dev / nf.sqrt();
        let mut percentiles: Vec<PercentileValue> = options
            .percentiles
            .iter()
            .map(|&p| PercentileValue {
                p,
                value: percentile_inc(sorted, p),
            })
            .collect();
        percentiles.sort_by(|a, b| a.p.total_cmp(&b.p));
        percentiles.dedup_by(|a, b| a.p == b.p);
        let risk = options
            .risk_levels
            .iter()
            .map(|&level| {
                let (var, cvar) = var_cvar_sorted(sorted, level);
                RiskMeasure { level, var, cvar }
            })
            .collect();
        let targets = options
            .targets
            .iter()
            .map(|&target| {
                let (p_below, p_above) = below_above(sorted, target);
                TargetProbability {
                    target,
                    p_below,
                    p_above,
                }
            })
            .collect();
        Summary {
            n,
            errors,
            mean: m.mean,
            std_dev: m.std_dev,
            variance: m.variance,
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            skewness: m.skewness,
            kurtosis: m.kurtosis,
            excess_kurtosis: m.kurtosis - 3.0,
            std_error,
            ci95_low: m.mean - Z95 * std_error,
            ci95_high: m.mean + Z95 * std_error,
            percentiles,
            risk,
            targets,
        }
    }

    /// Moments, min, max, errors and targets from `stats`, percentiles/VaR/CVaR from the exact
    /// sorted finite values `sorted` (ascending, as [`SortedColumn::sorted`](crate::SortedColumn)
    /// holds them; `stats.n()` of them). Targets `stats` was not made with are counted in
    /// `sorted`.
    ///
    /// Differences from [`Summary::compute`]: moments come from the merged block moments (equal
    /// to the two-pass figures to ~1e-14 relative, see [`BlockStats`](crate::BlockStats)), and
    /// CVaR's tail sum is exact (rounded once) instead of compensated, which can differ in the
    /// last bit. Percentiles, VaR, targets, min and max are bit-identical.
    pub fn from_stats_sorted(
        stats: &crate::stream::BlockStats,
        sorted: &[f64],
        options: &SummaryOptions,
    ) -> Result<Summary> {
        if sorted.len() as u64 != stats.n() {
            return Err(ResultsError::LengthMismatch {
                what: "sorted finite values (against the block statistics' count)".to_string(),
                got: sorted.len(),
                expected: stats.n() as usize,
            });
        }
        Self::from_stats_with(
            stats,
            options,
            &|i| sorted[i],
            &|var| {
                let k = sorted.partition_point(|&x| x <= var);
                Ok((k as u64, crate::stream::ExactSum::of(&sorted[..k])))
            },
            &|t| Ok(below_above(sorted, t)),
        )
    }

    /// Same as [`Summary::from_stats_sorted`] from a streaming run: percentiles/VaR/CVaR from
    /// `order` (exact order statistics at [`summary_positions`](crate::summary_positions)`(stats.n(),
    /// options)`). Gives the same `Summary`, bit for bit, as `from_stats_sorted` on the same data.
    /// Fails when `order` lacks a position the options need, covers another count of values, or
    /// a target was not counted in `stats`.
    pub fn from_stats_order(
        stats: &crate::stream::BlockStats,
        order: &crate::stream::OrderStats,
        options: &SummaryOptions,
    ) -> Result<Summary> {
        let missing = |what: String| ResultsError::StreamMismatch { what };
        if order.n() != stats.n() {
            return Err(missing(format!(
                "order statistics over {} values, block statistics over {}",
                order.n(),
                stats.n()
            )));
        }
        for p in crate::stream::summary_positions(stats.n(), options) {
            if order.value(p).is_none() {
                return Err(missing(format!(
                    "order statistic at position {p} was not planned (plan with summary_positions)"
                )));
            }
        }
        Self::from_stats_with(
            stats,
            options,
            &|i| order.value(i as u64).unwrap_or(f64::NAN),
            &|var| {
                order.tail(var).ok_or_else(|| {
                    missing(format!("the values up to VaR {var} were not collected"))
                })
            },
            &|t| {
                Err(missing(format!(
                    "target {t} was not counted (pass it to BlockStats::new)"
                )))
            },
        )
    }

    #[allow(clippy::type_complexity)]
    fn from_stats_with(
        stats: &crate::stream::BlockStats,
        options: &SummaryOptions,
        at: &dyn Fn(usize) -> f64,
        tail: &dyn Fn(f64) -> Result<(u64, crate::stream::ExactSum)>,
        target_fallback: &dyn Fn(f64) -> Result<(f64, f64)>,
    ) -> Result<Summary> {
        for &p in &options.percentiles {
            check_level("percentile", p, true)?;
        }
        for &a in &options.risk_levels {
            check_level("VaR level", a, false)?;
        }
        let n = stats.n() as usize;
        let mut percentiles: Vec<PercentileValue> = options
            .percentiles
            .iter()
            .map(|&p| PercentileValue {
                p,
                value: percentile_inc_by(n, p, at),
            })
            .collect();
        percentiles.sort_by(|a, b| a.p.total_cmp(&b.p));
        percentiles.dedup_by(|a, b| a.p == b.p);
        let mut risk = Vec::with_capacity(options.risk_levels.len());
        for &level in &options.risk_levels {
            let var = percentile_inc_by(n, level, at);
            let cvar = if var.is_nan() {
                f64::NAN
            } else {
                let (k, sum) = tail(var)?;
                sum.value() / k as f64
            };
            risk.push(RiskMeasure { level, var, cvar });
        }
        let mut targets = Vec::with_capacity(options.targets.len());
        for &target in &options.targets {
            let (p_below, p_above) = match stats.target_counts(target) {
                Some(_) if n == 0 => (f64::NAN, f64::NAN),
                Some((below, at_or_below)) => (
                    below as f64 / n as f64,
                    (stats.n() - at_or_below) as f64 / n as f64,
                ),
                None => target_fallback(target)?,
            };
            targets.push(TargetProbability {
                target,
                p_below,
                p_above,
            });
        }
        let nf = n as f64;
        let std_dev = stats.std_dev();
        let (skewness, kurtosis) = stats.shape();
        let mean = stats.mean();
        let std_error = std_dev / nf.sqrt();
        Ok(Summary {
            n,
            errors: stats.errors() as usize,
            mean,
            std_dev,
            variance: stats.variance(),
            min: stats.min(),
            max: stats.max(),
            skewness,
            kurtosis,
            excess_kurtosis: kurtosis - 3.0,
            std_error,
            ci95_low: mean - Z95 * std_error,
            ci95_high: mean + Z95 * std_error,
            percentiles,
            risk,
            targets,
        })
    }

    /// The reported value of percentile `p` (a fraction), if it was requested.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        self.percentiles
            .iter()
            .find(|q| (q.p - p).abs() < 1e-12)
            .map(|q| q.value)
    }
}

/// Mean and central moments of the finite values of `samples`, summed in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    pub n: usize,
    pub mean: f64,
    pub variance: f64,
    pub std_dev: f64,
    pub skewness: f64,
    pub kurtosis: f64,
}

impl Moments {
    pub(crate) fn of(samples: &[f64]) -> Moments {
        // One pass for the count and the sum, one for the three central moments; each sum is
        // in sample order, so the values are those of separate passes.
        let mut total = StableSum::new();
        for &x in samples {
            if x.is_finite() {
                total.add(x);
            }
        }
        let n = total.count() as usize;
        let nf = n as f64;
        if n == 0 {
            return Moments {
                n,
                mean: f64::NAN,
                variance: f64::NAN,
                std_dev: f64::NAN,
                skewness: f64::NAN,
                kurtosis: f64::NAN,
            };
        }
        let mean = total.value() / nf;
        let (mut s2, mut s3, mut s4) = (StableSum::new(), StableSum::new(), StableSum::new());
        for &x in samples {
            if x.is_finite() {
                let d = x - mean;
                s2.add(d * d);
                s3.add(d.powi(3));
                s4.add(d.powi(4));
            }
        }
        let (m2s, m3s, m4s) = (s2.value(), s3.value(), s4.value());
        let variance = if n > 1 { m2s / (nf - 1.0) } else { f64::NAN };
        let (m2, m3, m4) = (m2s / nf, m3s / nf, m4s / nf);
        let (skewness, kurtosis) = if m2 > 0.0 {
            (m3 / m2.powf(1.5), m4 / (m2 * m2))
        } else {
            (f64::NAN, f64::NAN)
        };
        Moments {
            n,
            mean,
            variance,
            std_dev: variance.sqrt(),
            skewness,
            kurtosis,
        }
    }
}

/// `(VaR_α, CVaR_α)` of sorted finite data (see [`RiskMeasure`]).
pub(crate) fn var_cvar_sorted(sorted: &[f64], alpha: f64) -> (f64, f64) {
    let var = percentile_inc(sorted, alpha);
    if var.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    let k = sorted.partition_point(|&x| x <= var);
    // k >= 1: the minimum is always <= any interpolated quantile.
    let cvar = stable_sum(sorted[..k].iter().copied()) / k as f64;
    (var, cvar)
}

/// `(P(X < t), P(X > t))` over sorted finite data; `NaN` when empty.
pub(crate) fn below_above(sorted: &[f64], t: f64) -> (f64, f64) {
    if sorted.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = sorted.len() as f64;
    let below = sorted.partition_point(|&x| x < t);
    let at_or_below = sorted.partition_point(|&x| x <= t);
    (below as f64 / n, (sorted.len() - at_or_below) as f64 / n)
}

/// Value at risk and CVaR of raw samples (non-finite values ignored) at tail level `alpha`.
///
/// ```
/// use mcsim_results::var_cvar;
/// let x: Vec<f64> = (1..=100).map(f64::from).collect();
/// let (var, cvar) = var_cvar(&x, 0.05).unwrap();
/// assert_eq!(var, 5.95);
/// assert_eq!(cvar, 3.0); // mean of 1..=5
/// ```
pub fn var_cvar(samples: &[f64], alpha: f64) -> Result<(f64, f64)> {
    check_level("VaR level", alpha, false)?;
    Ok(var_cvar_sorted(&sorted_finite(samples), alpha))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b} (tol {tol})");
    }

    #[test]
    fn one_to_hundred_closed_forms() {
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::new(&x, 0);
        assert_eq!(s.n, 100);
        assert_eq!(s.mean, 50.5);
        // Var = n(n+1)/12 = 841.666..., sd = 29.011491975882016 (=STDEV.S(1..100)).
        close(s.variance, 10100.0 / 12.0, 1e-9);
        close(s.std_dev, 29.011_491_975_882_016, 1e-12);
        assert_eq!((s.min, s.max), (1.0, 100.0));
        close(s.skewness, 0.0, 1e-12);
        // Discrete uniform on 1..n: b2 = (3/5)(3n^2 - 7)/(n^2 - 1) = 1.79982...
        close(s.kurtosis, 0.6 * (3.0 * 10000.0 - 7.0) / 9999.0, 1e-12);
        close(s.excess_kurtosis, s.kurtosis - 3.0, 0.0);
        close(s.std_error, 2.901_149_197_588_201_6, 1e-12);
        close(s.ci95_low, 50.5 - Z95 * s.std_error, 1e-12);
        // PERCENTILE.INC by hand: h = 99p; 1 + h.
        let expected = [
            (0.01, 1.99),
            (0.05, 5.95),
            (0.10, 10.9),
            (0.25, 25.75),
            (0.50, 50.5),
            (0.75, 75.25),
            (0.90, 90.1),
            (0.95, 95.05),
            (0.99, 99.01),
        ];
        assert_eq!(s.percentiles.len(), 9);
        for (p, v) in expected {
            close(s.percentile(p).unwrap(), v, 1e-9);
        }
    }

    #[test]
    fn known_skew_and_kurtosis() {
        // x = 1,2,3,4,10: mean 4, deviations -3,-2,-1,0,6.
        // m2 = 50/5 = 10, m3 = (-27-8-1+216)/5 = 36, m4 = (81+16+1+1296)/5 = 278.8.
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        let s = Summary::new(&x, 0);
        close(s.skewness, 36.0 / 10f64.powf(1.5), 1e-12);
        close(s.kurtosis, 278.8 / 100.0, 1e-12);
        close(s.excess_kurtosis, -0.212, 1e-12);
        close(s.variance, 12.5, 1e-12);
    }

    #[test]
    fn var_cvar_and_targets() {
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        let opts = SummaryOptions::default()
            .with_risk_level(0.10)
            .with_target(10.0)
            .with_percentile(0.333);
        let s = Summary::compute(&x, 0, &opts).unwrap();
        assert_eq!(s.risk[0].var, 5.95);
        assert_eq!(s.risk[0].cvar, 3.0);
        close(s.risk[1].var, 10.9, 1e-12);
        assert_eq!(s.risk[1].cvar, 5.5); // mean of 1..=10
        assert_eq!(s.targets[0].p_below, 0.09);
        assert_eq!(s.targets[0].p_above, 0.90);
        close(s.percentile(0.333).unwrap(), 1.0 + 99.0 * 0.333, 1e-9);
        // Unsorted input and negative losses.
        let y = [-5.0, 3.0, -20.0, 7.0, 0.0, -1.0, 2.0, 4.0, 6.0, 8.0];
        let (var, cvar) = var_cvar(&y, 0.2).unwrap();
        // sorted: -20,-5,-1,0,2,3,4,6,7,8; h = 9*0.2 = 1.8 -> -5 + 0.8*4 = -1.8.
        close(var, -1.8, 1e-12);
        close(cvar, -12.5, 1e-12);
    }

    #[test]
    fn errors_and_empty() {
        let s = Summary::new(&[1.0, f64::NAN, 3.0], 2);
        assert_eq!((s.n, s.errors), (2, 3));
        assert_eq!(s.mean, 2.0);
        let e = Summary::new(&[], 5);
        assert_eq!(e.n, 0);
        assert!(e.mean.is_nan() && e.min.is_nan() && e.percentiles[0].value.is_nan());
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"mean\":null"), "{json}");
        let one = Summary::new(&[4.0], 0);
        assert_eq!(one.mean, 4.0);
        assert!(one.std_dev.is_nan());
        assert!(
            Summary::compute(&[1.0], 0, &SummaryOptions::default().with_percentile(1.5)).is_err()
        );
        assert!(var_cvar(&[1.0], 0.0).is_err());
    }
}
