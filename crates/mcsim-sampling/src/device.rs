//! A prepared sampler's parameters as plain numbers, for a backend that evaluates the same
//! quantile formulas elsewhere (the engine's CUDA generator ports them operation for operation,
//! so a device draws the same bits as [`Sampler::transform`]). Read-only: nothing here changes
//! how the CPU samples.

use crate::kind::Kind;
use crate::sampler::Sampler;
use crate::streams::Streams;

/// The quantile of a prepared distribution, with the parameters [`Sampler`] computed once
/// (`(p, q)` is the uniform and its complement, `z` the AS241 normal quantile of `(p, q)`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DeviceForm<'a> {
    /// Always `value`.
    Constant(f64),
    /// `mean + sd·z`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// `exp(mu + sigma·z)`.
    Lognormal {
        /// Mean of the logarithm.
        mu: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// `a + √(p·left)` when `p <= fc`, else `c − √(q·right)`.
    Triangular {
        /// Minimum.
        a: f64,
        /// Maximum.
        c: f64,
        /// F(mode).
        fc: f64,
        /// (c − a)(mode − a).
        left: f64,
        /// (c − a)(c − mode).
        right: f64,
    },
    /// `min + width·p`.
    Uniform {
        /// Minimum.
        min: f64,
        /// Maximum minus minimum.
        width: f64,
    },
    /// `−mean·ln q`, with `ln q = ln_1p(−p)` when `p < 0.5`.
    Expon {
        /// Mean.
        mean: f64,
    },
    /// `offset + j` with `j` the [`DeviceTable`] index of `p`.
    IntTable {
        /// The first value (as the CPU converts it, `i64 as f64`).
        offset: f64,
        /// The cumulative table.
        table: DeviceTable<'a>,
    },
    /// A [`DeviceQuintic`] table (every segment tabulated: none left to the exact inverse).
    Quintic(DeviceQuintic<'a>),
    /// `values[j]` with `j` the [`DeviceTable`] index of `p`.
    ValueTable {
        /// Sorted distinct values.
        values: &'a [f64],
        /// The cumulative table.
        table: DeviceTable<'a>,
    },
}

/// A piecewise-quintic quantile table (beta family: Beta, BetaGeneral, PERT): the centre
/// `p_lo <= p, q` is `center(p)`; below, `lo_base + lo_factor·exp(lower(ln p))` when `p < q`, else
/// `hi_base + hi_factor·exp(upper(ln q))`; see [`DeviceRegion`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceQuintic<'a> {
    /// The centre region.
    pub center: DeviceRegion<'a>,
    /// The lower tail, on ln p.
    pub lower: DeviceRegion<'a>,
    /// The upper tail, on ln q.
    pub upper: DeviceRegion<'a>,
    /// Lower tail: base.
    pub lo_base: f64,
    /// Lower tail: factor.
    pub lo_factor: f64,
    /// Upper tail: base.
    pub hi_base: f64,
    /// Upper tail: factor.
    pub hi_factor: f64,
    /// Where the tails begin.
    pub p_lo: f64,
}

/// One region of a [`DeviceQuintic`]: at coordinate `c`, `s = (c − c0)·inv_w` (none if NaN or
/// negative), segment `k = min(⌊s⌋, segs − 1)` = `(first, last, scale)` (none if `first = 0`:
/// the exact inverse), `f = (s − k)·scale`, `j = min(⌊f⌋, last)`, and the value is cell
/// `first + j` at `w = f − j`: `(a0 + w·a1) + w²·((a2 + w·a3) + w²·(a4 + w·a5))`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRegion<'a> {
    /// Start of the coordinate.
    pub c0: f64,
    /// Segments per unit of the coordinate.
    pub inv_w: f64,
    /// `(first cell, last cell index, cell count)` per segment.
    pub segs: Vec<(u64, u64, f64)>,
    /// The cells' coefficients (cell 0 is a placeholder).
    pub cells: &'a [[f64; 6]],
}

/// A cumulative table and its guide: the index of `p` is `j = guide[g]` with
/// `g = min(⌊p·n⌋, n − 1)` (`n = cum.len()`), then `j += 1` while `j + 1 < n` and `cum[j] < p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceTable<'a> {
    /// Non-decreasing, ending at 1.
    pub cum: &'a [f64],
    /// Where the search starts for each `g`.
    pub guide: &'a [u32],
}

/// `RiskTruncate` as a window of the uniform: `(p, q) = (lo + scale·u, lo_c − scale·u)`, and the
/// sample is clamped as `x.max(min).min(max)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceWindow {
    /// F(min) of the untruncated distribution.
    pub lo: f64,
    /// 1 − F(min), kept separately.
    pub lo_c: f64,
    /// The window's width in probability.
    pub scale: f64,
    /// Lower bound (−∞ when absent).
    pub min: f64,
    /// Upper bound (+∞ when absent).
    pub max: f64,
}

/// What a backend needs to draw a [`Sampler`]'s samples from uniforms:
/// `form((p, q))`, clamped by the window when there is one, then `+ shift` when `shift != 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSampler<'a> {
    /// The quantile.
    pub form: DeviceForm<'a>,
    /// `RiskTruncate`.
    pub window: Option<DeviceWindow>,
    /// `RiskShift` (added only when non-zero, as the CPU does).
    pub shift: f64,
}

impl Sampler {
    /// The prepared quantile as plain parameters, or `None` for a distribution not described by
    /// [`DeviceForm`] (gamma, Student, the integer searches, ..., and a beta-family table with a
    /// segment left to the exact inverse).
    pub fn device_form(&self) -> Option<DeviceSampler<'_>> {
        let form = match *self.kind() {
            Kind::Constant(c) => DeviceForm::Constant(c),
            Kind::Normal { mean, sd } => DeviceForm::Normal { mean, sd },
            Kind::Lognormal { mu, sigma } => DeviceForm::Lognormal { mu, sigma },
            Kind::Triangular {
                a,
                c,
                fc,
                left,
                right,
                ..
            } => DeviceForm::Triangular {
                a,
                c,
                fc,
                left,
                right,
            },
            Kind::Uniform { min, width } => DeviceForm::Uniform { min, width },
            Kind::Expon { mean } => DeviceForm::Expon { mean },
            Kind::IntTable {
                offset, ref table, ..
            } => DeviceForm::IntTable {
                offset: offset as f64,
                table: DeviceTable {
                    cum: &table.cum,
                    guide: table.guide(),
                },
            },
            Kind::ValueTable {
                ref values,
                ref table,
            } => DeviceForm::ValueTable {
                values,
                table: DeviceTable {
                    cum: &table.cum,
                    guide: table.guide(),
                },
            },
            Kind::Beta {
                table: Some(ref t), ..
            } => {
                let t = t.device();
                let tabulated = |r: &DeviceRegion| r.segs.iter().all(|s| s.0 != 0);
                if !(tabulated(&t.center) && tabulated(&t.lower) && tabulated(&t.upper)) {
                    return None;
                }
                DeviceForm::Quintic(t)
            }
            _ => return None,
        };
        Some(DeviceSampler {
            form,
            window: self.window_parts(),
            shift: self.modifiers().shift,
        })
    }
}

impl Streams {
    /// The ChaCha8 key these streams use (the seed expanded by SplitMix64; see [`Streams::new`]):
    /// stream `k`'s word `w` is word `w mod 16` of the ChaCha8 block with counter `w / 16` and
    /// 64-bit nonce `k`.
    pub fn chacha_key(&self) -> [u8; 32] {
        self.key_bytes()
    }
}
