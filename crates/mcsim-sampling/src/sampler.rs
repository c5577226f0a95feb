//! [`Sampler`]: a distribution prepared once (tables, converted parameters, truncation bounds) and
//! then applied to blocks of uniforms, and [`sample_block`], which fills the columns of a block of
//! iterations.

use serde::{Deserialize, Serialize};

use crate::distribution::Distribution;
use crate::error::SamplingError;
use crate::kind::Kind;
use crate::streams::{DESIGN_BLOCK, Method, Streams};

/// `RiskTruncate(min, max)`: either bound may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Truncation {
    /// Lower bound, inclusive.
    pub min: Option<f64>,
    /// Upper bound, inclusive.
    pub max: Option<f64>,
}

/// Property functions that change a distribution: `RiskTruncate` and `RiskShift`. Truncation
/// applies to the unshifted distribution, then the shift is added, as in @RISK.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Modifiers {
    /// `RiskTruncate(min, max)`.
    #[serde(default)]
    pub truncate: Option<Truncation>,
    /// `RiskShift(amount)`.
    #[serde(default)]
    pub shift: f64,
}

/// Truncation as the uniform range [lo, lo + scale] of the untruncated CDF (so it works with
/// LHS strata), with `lo_c = 1 − lo` kept separately for upper-tail accuracy.
#[derive(Debug, Clone, Copy)]
struct Window {
    lo: f64,
    lo_c: f64,
    scale: f64,
    min: f64,
    max: f64,
}

/// A distribution prepared for sampling: tables built, parameters converted, truncation turned into
/// a uniform window. Drawing allocates nothing.
///
/// ```
/// use mcsim_sampling::{Distribution, Method, Sampler, Streams};
/// let s = Sampler::new(&Distribution::Triangular { min: 1.0, mode: 2.0, max: 4.0 })?;
/// let mut xs = vec![0.0; 1000];
/// // Input with stream key 0, iterations 0..1000 of a 1000-iteration run.
/// s.sample_into(Method::LatinHypercube, &Streams::new(7), 0, 1000, 0, &mut xs);
/// assert!(xs.iter().all(|&x| (1.0..=4.0).contains(&x)));
/// # Ok::<(), mcsim_sampling::SamplingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sampler {
    distribution: Distribution,
    modifiers: Modifiers,
    kind: Kind,
    window: Option<Window>,
}

impl Sampler {
    /// Validates and prepares a distribution without modifiers.
    pub fn new(distribution: &Distribution) -> Result<Sampler, SamplingError> {
        Sampler::with_modifiers(distribution, Modifiers::default())
    }

    /// Validates and prepares a distribution with `RiskTruncate`/`RiskShift` modifiers.
    pub fn with_modifiers(
        distribution: &Distribution,
        modifiers: Modifiers,
    ) -> Result<Sampler, SamplingError> {
        let kind = Kind::new(distribution)?.with_tables();
        let function = distribution.function_name();
        if !modifiers.shift.is_finite() {
            return Err(SamplingError::InvalidShift {
                function,
                value: modifiers.shift,
            });
        }
        let window = match modifiers.truncate {
            None
            | Some(Truncation {
                min: None,
                max: None,
            }) => None,
            Some(t) => {
                let min = t.min.unwrap_or(f64::NEG_INFINITY);
                let max = t.max.unwrap_or(f64::INFINITY);
                let err = |rule| SamplingError::InvalidTruncation {
                    function,
                    rule,
                    min,
                    max,
                };
                if min.is_nan() || max.is_nan() || min == f64::INFINITY || max == f64::NEG_INFINITY
                {
                    return Err(err("bounds must be numbers"));
                }
                if min > max {
                    return Err(err("minimum must not exceed the maximum"));
                }
                let (lo, lo_c) = if min == f64::NEG_INFINITY {
                    (0.0, 1.0)
                } else {
                    kind.cdf_below(min)
                };
                let (hi, hi_c) = if max == f64::INFINITY {
                    (1.0, 0.0)
                } else {
                    kind.cdf(max)
                };
                // The window's width from whichever side is more accurate.
                let scale = if lo < 0.5 { hi - lo } else { lo_c - hi_c };
                if scale.is_nan() || scale <= 0.0 {
                    return Err(err("range must have a positive probability"));
                }
                Some(Window {
                    lo,
                    lo_c,
                    scale,
                    min,
                    max,
                })
            }
        };
        Ok(Sampler {
            distribution: distribution.clone(),
            modifiers,
            kind,
            window,
        })
    }

    /// The distribution sampled.
    pub fn distribution(&self) -> &Distribution {
        &self.distribution
    }

    /// The prepared distribution (read by [`Sampler::device_form`]).
    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The truncation window as plain numbers (read by [`Sampler::device_form`]).
    pub(crate) fn window_parts(&self) -> Option<crate::device::DeviceWindow> {
        self.window.map(|w| crate::device::DeviceWindow {
            lo: w.lo,
            lo_c: w.lo_c,
            scale: w.scale,
            min: w.min,
            max: w.max,
        })
    }

    /// The modifiers applied.
    pub fn modifiers(&self) -> Modifiers {
        self.modifiers
    }

    /// Transforms uniforms in (0, 1), in place, into samples: the inverse CDF of the truncated
    /// distribution, then the shift. Monotone in u, so it keeps LHS strata and ranks.
    ///
    /// On a processor with AVX-512 the lane loops run on 512-bit vectors: the same IEEE
    /// operations on each lane, so the same bits (see [`crate::on_wide_lanes`]).
    pub fn transform(&self, buf: &mut [f64]) {
        crate::on_wide_lanes(
            #[inline(always)]
            || self.transform_baseline(buf),
        );
    }

    /// [`Sampler::transform`] with the lane loops compiled for the build's target only (the
    /// same bits; tests compare the two). Its body is inlined into each compilation.
    #[inline(always)]
    pub fn transform_baseline(&self, buf: &mut [f64]) {
        match self.window {
            None => self.kind.fill(buf, |u| (u, 1.0 - u)),
            Some(w) => {
                self.kind
                    .fill(buf, |u| (w.lo + w.scale * u, w.lo_c - w.scale * u));
                for v in buf.iter_mut() {
                    *v = v.max(w.min).min(w.max);
                }
            }
        }
        let shift = self.modifiers.shift;
        if shift != 0.0 {
            for v in buf.iter_mut() {
                *v += shift;
            }
        }
    }

    /// Draws the samples of the input with stream key `key` (see [`crate::stream_key`]) for
    /// iterations `first_iteration .. first_iteration + out.len()` of a run of `iterations`
    /// iterations (the Latin Hypercube design size) into `out`. The values depend only on
    /// (seed, key, iterations, iteration), never on how the range is split.
    pub fn sample_into(
        &self,
        method: Method,
        streams: &Streams,
        key: u64,
        iterations: u64,
        first_iteration: u64,
        out: &mut [f64],
    ) {
        self.sample_into_keeping_strata(
            method,
            streams,
            key,
            iterations,
            first_iteration,
            out,
            &mut [],
        );
    }

    /// [`Sampler::sample_into`], also writing each value's Latin Hypercube stratum into
    /// `strata` (see [`Streams::fill_lhs_uniforms_keeping`]); with Monte Carlo, or an empty
    /// `strata`, it is left alone.
    #[allow(clippy::too_many_arguments)]
    pub fn sample_into_keeping_strata(
        &self,
        method: Method,
        streams: &Streams,
        key: u64,
        iterations: u64,
        first_iteration: u64,
        out: &mut [f64],
        strata: &mut [u32],
    ) {
        match method {
            Method::LatinHypercube => {
                streams.fill_lhs_uniforms_keeping(key, iterations, first_iteration, out, strata);
            }
            Method::MonteCarlo => streams.fill(method, key, iterations, first_iteration, out),
        }
        self.transform(out);
    }

    /// The quantile of the modified distribution at u in (0, 1).
    pub fn quantile(&self, u: f64) -> f64 {
        let mut b = [u];
        self.transform(&mut b);
        b[0]
    }

    /// The CDF of the modified distribution.
    pub fn cdf(&self, x: f64) -> f64 {
        let x = x - self.modifiers.shift;
        match self.window {
            None => self.kind.cdf(x).0,
            Some(w) => {
                if x < w.min {
                    0.0
                } else if x >= w.max {
                    1.0
                } else {
                    ((self.kind.cdf(x).0 - w.lo) / w.scale).clamp(0.0, 1.0)
                }
            }
        }
    }

    /// The mean of the modified distribution: closed form plus shift without truncation; with
    /// truncation, the integral of the quantile over the window by the midpoint rule on
    /// [`DESIGN_BLOCK`] points (about 1e-6 relative for smooth distributions, less in heavy
    /// tails).
    pub fn mean(&self) -> f64 {
        match self.window {
            None => self.distribution.mean() + self.modifiers.shift,
            Some(_) => self.numeric_moments().0,
        }
    }

    /// The variance of the modified distribution (see [`Sampler::mean`] for the truncated case).
    pub fn variance(&self) -> f64 {
        match self.window {
            None => self.distribution.variance(),
            Some(_) => self.numeric_moments().1,
        }
    }

    fn numeric_moments(&self) -> (f64, f64) {
        let n = DESIGN_BLOCK;
        let mut buf: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
        self.transform(&mut buf);
        let mean = buf.iter().sum::<f64>() / n as f64;
        let var = buf.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        (mean, var)
    }
}

/// Fills a column-major block: column `j` (`out[j*n .. (j+1)*n]` with
/// `n = out.len() / samplers.len()`) gets the samples of `samplers[j]`, drawn from the stream
/// `keys[j]`, for iterations `first_iteration .. first_iteration + n` of a run of `iterations`
/// iterations.
///
/// ```
/// use mcsim_sampling::{sample_block, stream_key, Distribution, Method, Sampler, Streams};
/// let samplers = [
///     Sampler::new(&Distribution::Normal { mean: 0.0, sd: 1.0 })?,
///     Sampler::new(&Distribution::Poisson { lambda: 3.0 })?,
/// ];
/// let keys = [stream_key("Sheet1", 0, 0, 0), stream_key("Sheet1", 1, 0, 0)];
/// let mut block = vec![0.0; 2 * 4096];
/// sample_block(&samplers, &keys, Method::MonteCarlo, &Streams::new(1), 20_000, 8192, &mut block)?;
/// # Ok::<(), mcsim_sampling::SamplingError>(())
/// ```
pub fn sample_block(
    samplers: &[Sampler],
    keys: &[u64],
    method: Method,
    streams: &Streams,
    iterations: u64,
    first_iteration: u64,
    out: &mut [f64],
) -> Result<(), SamplingError> {
    if keys.len() != samplers.len() {
        return Err(SamplingError::BufferShape {
            detail: format!(
                "{} stream keys given for {} inputs",
                keys.len(),
                samplers.len()
            ),
        });
    }
    if samplers.is_empty() {
        return if out.is_empty() {
            Ok(())
        } else {
            Err(SamplingError::BufferShape {
                detail: format!("{} values given for no inputs", out.len()),
            })
        };
    }
    if !out.len().is_multiple_of(samplers.len()) {
        return Err(SamplingError::BufferShape {
            detail: format!(
                "{} values is not a whole number of columns of {} inputs",
                out.len(),
                samplers.len()
            ),
        });
    }
    let n = out.len() / samplers.len();
    if n == 0 {
        return Ok(());
    }
    for ((sampler, &key), column) in samplers.iter().zip(keys).zip(out.chunks_exact_mut(n)) {
        sampler.sample_into(method, streams, key, iterations, first_iteration, column);
    }
    Ok(())
}
