//! Exact, order-independent summation of `f64` values (a fixed-point "long accumulator").
//!
//! Every finite `f64` is an integer multiple of `2^-1074`; the accumulator holds the exact sum as
//! a big integer in that unit, in 32-bit limbs stored in `i64` (so up to 2^30 additions fit before
//! carries must be propagated). Integer addition is associative, so the result does not depend on
//! the order of the values or on how partial sums were merged, and [`ExactSum::value`] rounds the
//! exact total once, to nearest (ties to even). Hand-written rather than taken from a crate: it is
//! ~100 lines, needs no allocation per value, and its merge is the point (collectors built per
//! block on different threads, shards, GPU results must give the same bits).

use serde::{Deserialize, Serialize};

/// Limbs of 32 bits: the largest finite value sits below bit 2098 in units of `2^-1074`; 70 limbs
/// (2240 bits) leave room for 2^64 additions of the largest magnitude.
const LIMBS: usize = 70;
/// Carries are propagated after this many additions (each changes a limb by less than 2^32).
const NORMALIZE_EVERY: u32 = 1 << 30;

/// The exact sum of the values added so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ExactSum {
    /// `limbs[j]` weighs `2^(32 j - 1074)`; empty until the first non-zero value.
    limbs: Vec<i64>,
    /// Additions since the last carry propagation.
    pending: u32,
}

/// `(negative, mantissa m, shift s)` with `|x| = m * 2^(s - 1074)`, for finite `x`.
#[inline]
fn decompose(x: f64) -> (bool, u64, u32) {
    let bits = x.to_bits();
    let neg = bits >> 63 == 1;
    let exp = ((bits >> 52) & 0x7FF) as u32;
    let frac = bits & ((1 << 52) - 1);
    if exp == 0 {
        (neg, frac, 0)
    } else {
        (neg, frac | (1 << 52), exp - 1)
    }
}

impl ExactSum {
    /// An empty sum (value 0).
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `±v * 2^(32 limb)` for `v < 2^96` (three limbs).
    #[inline]
    fn add_shifted(&mut self, neg: bool, v: u128, limb: usize) {
        if self.limbs.is_empty() {
            self.limbs = vec![0; LIMBS];
        }
        let sign = if neg { -1 } else { 1 };
        let parts = [
            (v & 0xFFFF_FFFF) as i64,
            ((v >> 32) & 0xFFFF_FFFF) as i64,
            ((v >> 64) & 0xFFFF_FFFF) as i64,
        ];
        // limb <= 63, so limb + 2 < LIMBS.
        for (l, p) in self.limbs[limb..limb + 3].iter_mut().zip(parts) {
            *l += sign * p;
        }
        self.pending += 1;
        if self.pending >= NORMALIZE_EVERY {
            self.normalize();
        }
    }

    /// The exact sum of `xs` (non-finite values ignored).
    pub(crate) fn of(xs: &[f64]) -> Self {
        let mut s = ExactSum::new();
        for &x in xs {
            s.add(x);
        }
        s
    }

    /// Adds a finite value (non-finite values are ignored: callers filter them).
    #[inline]
    pub(crate) fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        let (neg, m, s) = decompose(x);
        if m == 0 {
            return;
        }
        let v = (m as u128) << (s % 32);
        self.add_shifted(neg, v, (s / 32) as usize);
    }

    /// A sum from its limbs as a device accumulated them (`kernels/mcsim_hist.cuh`, any
    /// order: integer additions) over `additions` values; an error unless there are [`LIMBS`].
    pub(crate) fn from_limbs(limbs: &[i64], additions: u64) -> crate::error::Result<Self> {
        if limbs.len() != LIMBS {
            return Err(crate::error::ResultsError::StreamMismatch {
                what: format!("an exact sum of {} limbs instead of {LIMBS}", limbs.len()),
            });
        }
        if limbs.iter().all(|&l| l == 0) {
            // As `add` leaves a sum of no (or only zero) values: no limbs.
            return Ok(ExactSum::new());
        }
        let mut s = ExactSum {
            limbs: limbs.to_vec(),
            pending: u32::try_from(additions).unwrap_or(u32::MAX),
        };
        if s.pending >= NORMALIZE_EVERY {
            s.normalize();
        }
        Ok(s)
    }

    /// Adds another exact sum.
    pub(crate) fn merge(&mut self, other: &ExactSum) {
        if other.limbs.is_empty() {
            return;
        }
        if self.limbs.is_empty() {
            self.limbs = vec![0; LIMBS];
        }
        for (a, b) in self.limbs.iter_mut().zip(&other.limbs) {
            *a += b;
        }
        self.pending = self.pending.saturating_add(other.pending).saturating_add(1);
        if self.pending >= NORMALIZE_EVERY {
            self.normalize();
        }
    }

    /// Propagates carries: every limb but the last in `[0, 2^32)`, the last holding the sign.
    fn normalize(&mut self) {
        for j in 0..self.limbs.len().saturating_sub(1) {
            let c = self.limbs[j] >> 32;
            self.limbs[j] -= c << 32;
            self.limbs[j + 1] += c;
        }
        self.pending = 0;
    }

    /// The exact sum rounded to the nearest `f64` (ties to even); `±inf` past `f64::MAX`.
    pub(crate) fn value(&self) -> f64 {
        if self.limbs.is_empty() {
            return 0.0;
        }
        let mut t = self.clone();
        t.normalize();
        let neg = t.limbs[LIMBS - 1] < 0;
        if neg {
            for v in t.limbs.iter_mut() {
                *v = -*v;
            }
            t.normalize();
        }
        let mag = magnitude_to_f64(&t.limbs);
        if neg { -mag } else { mag }
    }
}

/// Rounds the non-negative big integer `limbs` (normalized: each in `[0, 2^32)`, the last
/// non-negative) times `2^-1074` to the nearest `f64`.
fn magnitude_to_f64(limbs: &[i64]) -> f64 {
    let Some(top) = limbs.iter().rposition(|&v| v != 0) else {
        return 0.0;
    };
    let limb = |j: isize| -> u128 { if j < 0 { 0 } else { limbs[j as usize] as u128 } };
    let t = top as isize;
    // The top limb may exceed 32 bits only in the last limb (a sum past 2^1166: infinite).
    if limbs[top] >= 1 << 32 {
        return f64::INFINITY;
    }
    let msb_in_top = 63 - (limbs[top] as u64).leading_zeros() as i64; // 0..=31
    let p = 32 * top as i64 + msb_in_top; // the most significant bit, in units of 2^-1074
    if p <= 52 {
        // Below 2^53 units: exact (subnormal or the smallest normal binade).
        let v = (limb(1) << 32) | limb(0);
        return v as f64 * f64::from_bits(1); // 2^-1074, exact product
    }
    // A 96-bit window whose top limb holds the most significant bit.
    let w = (limb(t) << 64) | (limb(t - 1) << 32) | limb(t - 2);
    let msb_w = 64 + msb_in_top; // bit index of the msb in w
    let drop = (msb_w - 52) as u32; // >= 12
    let mantissa = (w >> drop) as u64;
    let round = (w >> (drop - 1)) & 1 == 1;
    let sticky = (w & ((1u128 << (drop - 1)) - 1)) != 0
        || limbs[..top.saturating_sub(2)].iter().any(|&v| v != 0);
    let mut m = mantissa;
    if round && (sticky || m & 1 == 1) {
        m += 1;
    }
    let mut e = p - 1074; // unbiased exponent of the msb
    if m == 1 << 53 {
        m >>= 1;
        e += 1;
    }
    if e > 1023 {
        return f64::INFINITY;
    }
    f64::from_bits((((e + 1023) as u64) << 52) | (m & ((1 << 52) - 1)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn exact_sum(xs: &[f64]) -> f64 {
        ExactSum::of(xs).value()
    }

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn known_sums_and_rounding() {
        assert_eq!(exact_sum(&[]), 0.0);
        assert_eq!(exact_sum(&[1e100, 1.0, -1e100]), 1.0);
        assert_eq!(exact_sum(&[1.0, 2.0, 3.5]), 6.5);
        assert_eq!(exact_sum(&[-1.0, -2.0]), -3.0);
        let half_ulp = 2f64.powi(-53);
        // A tie rounds to even (1.0); a sticky bit below breaks the tie upwards.
        assert_eq!(exact_sum(&[1.0, half_ulp]), 1.0);
        assert_eq!(
            exact_sum(&[1.0, half_ulp, 2f64.powi(-200)]),
            1.0 + 2f64.powi(-52)
        );
        assert_eq!(
            exact_sum(&[1.0 + 2f64.powi(-52), half_ulp]),
            1.0 + 2.0 * 2f64.powi(-52)
        );
        // Subnormals and the smallest normals are exact.
        let tiny = f64::from_bits(1);
        assert_eq!(exact_sum(&[tiny, tiny, tiny]), f64::from_bits(3));
        assert_eq!(
            exact_sum(&[f64::MIN_POSITIVE, -tiny]),
            f64::from_bits(f64::MIN_POSITIVE.to_bits() - 1)
        );
        assert_eq!(exact_sum(&[f64::MAX, f64::MAX]), f64::INFINITY);
        assert_eq!(exact_sum(&[f64::MAX, f64::MAX, -f64::MAX]), f64::MAX);
        assert_eq!(exact_sum(&[-f64::MAX, -f64::MAX]), f64::NEG_INFINITY);
    }

    #[test]
    fn order_and_merging_do_not_change_bits() {
        let mut seed = 7;
        let xs: Vec<f64> = (0..20_000)
            .map(|i| {
                let u = lcg(&mut seed);
                (u - 0.5) * 10f64.powi((i % 41) - 20)
            })
            .collect();
        let whole = exact_sum(&xs);
        let mut rev = xs.clone();
        rev.reverse();
        assert_eq!(exact_sum(&rev).to_bits(), whole.to_bits());
        let mut merged = ExactSum::new();
        for c in xs.chunks(333).rev() {
            let mut part = ExactSum::new();
            c.iter().for_each(|&x| part.add(x));
            merged.merge(&part);
        }
        assert_eq!(merged.value().to_bits(), whole.to_bits());
        // Against a double-double reference of the same data (sorted by magnitude first, so the
        // reference is accurate well below one ulp of the total).
        let mut by_mag = xs.clone();
        by_mag.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
        let (mut hi, mut lo) = (0.0f64, 0.0f64);
        for x in by_mag {
            let s = hi + x;
            let bb = s - hi;
            let e = (hi - (s - bb)) + (x - bb);
            hi = s;
            lo += e;
        }
        assert_eq!((hi + lo).to_bits(), whole.to_bits());
    }
}
