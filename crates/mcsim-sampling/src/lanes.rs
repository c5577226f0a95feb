//! Lane-parallel versions of the per-sample arithmetic of the hottest inverse CDF, the normal
//! quantile: the same IEEE operations in the same order as the scalar [`normal_quantile`], so the
//! samples are bit-identical, but arranged so that LLVM vectorises them.
//!
//! AS241's central branch (85% of the draws) is a rational function of degree 7/7; evaluated one
//! sample at a time behind the `|q| <= 0.425` test, the branch mispredicts on about one draw in
//! seven and nothing vectorises. Here a chunk of [`LANES`] samples evaluates the central formula on
//! every lane without branches (fixed-size arrays that LLVM turns into vector registers; `unsafe`
//! intrinsics are denied in the workspace); the lanes outside the central region are collected and
//! evaluated together by the tail formula, with libm's `ln` per lane (the one operation that must
//! stay libm's to keep the bits) and the rest vectorised.
//!
//! The coefficients and polynomial evaluation are `special.rs`'s (one copy); the test below
//! checks that the lane path agrees with the scalar function bit for bit on every region.

use crate::special::normal_quantile;

/// Samples per chunk: two AVX2 vectors of `f64` (one AVX-512 vector).
pub(crate) const LANES: usize = 8;

// The AS241 coefficients and Horner evaluation are `special`'s own, so both paths compute
// the same operations.
use crate::special::{AS241_A, AS241_B, AS241_C, AS241_D, AS241_E, AS241_F, poly};

/// Tail lanes collected before they are evaluated together (a multiple of [`LANES`]).
const TAIL_CAP: usize = 64;

/// The scalar standard normal quantile from the pair (p, q = 1 − p): the lower tail from p, the
/// upper from q (as `kind::normal_z`).
#[inline(always)]
pub(crate) fn normal_z(p: f64, q: f64) -> f64 {
    if p <= 0.5 {
        normal_quantile(p)
    } else {
        -normal_quantile(q)
    }
}

/// The central-branch value of [`normal_z`] at (p, q) and whether the lane is in that branch
/// (otherwise the value is meaningless and the lane must take the scalar [`normal_z`]).
#[inline(always)]
fn normal_z_central(p: f64, q: f64) -> (f64, bool) {
    let lower = p <= 0.5;
    let x = if lower { p } else { q };
    let s = x - 0.5;
    let r = 0.180_625 - s * s;
    let v = s * poly(&AS241_A, r) / poly(&AS241_B, r);
    (if lower { v } else { -v }, s.abs() <= 0.425)
}

/// Replaces every `u` in `buf` by `post(z)`, `z` the standard normal quantile at
/// `(p, q) = map(u)`: bit-identical to `post(normal_z(p, q))` lane by lane.
///
/// Chunks of [`LANES`] evaluate the central branch on every lane; a lane outside it keeps its `u`
/// and its index joins a list of up to [`TAIL_CAP`] tail lanes, which [`tail_fill`] evaluates
/// together (one `ln` per lane from libm, the rest vectorised).
#[inline(always)]
pub(crate) fn normal_fill<M, P>(buf: &mut [f64], map: M, post: P)
where
    M: Fn(f64) -> (f64, f64),
    P: Fn(f64) -> f64,
{
    let mut tails = [0usize; TAIL_CAP];
    let mut n_tails = 0;
    let whole = buf.len() / LANES;
    for c in 0..whole {
        let first = c * LANES;
        let Some(chunk) = buf
            .get_mut(first..first + LANES)
            .and_then(|s| <&mut [f64; LANES]>::try_from(s).ok())
        else {
            continue;
        };
        let mut z = [0.0; LANES];
        let mut central = [false; LANES];
        for i in 0..LANES {
            let (p, q) = map(chunk[i]);
            (z[i], central[i]) = normal_z_central(p, q);
        }
        let mut tail = 0u32;
        for i in 0..LANES {
            chunk[i] = if central[i] { post(z[i]) } else { chunk[i] };
            tail |= u32::from(!central[i]) << i;
        }
        while tail != 0 {
            let i = tail.trailing_zeros() as usize;
            tail &= tail - 1;
            if let Some(t) = tails.get_mut(n_tails) {
                *t = first + i;
                n_tails += 1;
            }
        }
        if n_tails > TAIL_CAP - LANES {
            tail_fill(buf, &tails[..n_tails], &map, &post);
            n_tails = 0;
        }
    }
    tail_fill(buf, &tails[..n_tails], &map, &post);
    for v in buf.iter_mut().skip(whole * LANES) {
        let (p, q) = map(*v);
        *v = post(normal_z(p, q));
    }
}

/// Evaluates the lanes `at` of `buf` (each still holding its `u`, outside AS241's central
/// branch): AS241's tail branch exactly as `special::normal_quantile_tail` computes it, with the
/// logarithms from libm one lane at a time and the square root and rational functions over all
/// lanes at once. A lane that is not strictly inside (0, 0.075) on its side (NaN, 0) takes the
/// scalar function.
#[inline(always)]
fn tail_fill<M, P>(buf: &mut [f64], at: &[usize], map: &M, post: &P)
where
    M: Fn(f64) -> (f64, f64),
    P: Fn(f64) -> f64,
{
    if at.is_empty() {
        return;
    }
    let mut logs = [0.0; TAIL_CAP];
    let mut upper = [false; TAIL_CAP];
    let mut plain = [true; TAIL_CAP];
    for (k, &i) in at.iter().enumerate().take(TAIL_CAP) {
        let (p, q) = map(buf.get(i).copied().unwrap_or(f64::NAN));
        let lower = p <= 0.5;
        let x = if lower { p } else { q };
        upper[k] = !lower;
        // AS241's tail of the smaller probability x: r = x (x − 0.5 < 0), then sqrt(−ln r).
        plain[k] = x > 0.0 && x < 0.5;
        logs[k] = if plain[k] { x.ln() } else { -1.0 };
    }
    let mut z = [0.0; TAIL_CAP];
    for k in 0..TAIL_CAP {
        let r = (-logs[k]).sqrt();
        // The coefficients of whichever branch the lane takes, then one shared evaluation: the
        // same operations as evaluating that branch alone.
        let near = r <= 5.0;
        let t = if near { r - 1.6 } else { r - 5.0 };
        let num: [f64; 8] = std::array::from_fn(|j| if near { AS241_C[j] } else { AS241_E[j] });
        let den: [f64; 8] = std::array::from_fn(|j| if near { AS241_D[j] } else { AS241_F[j] });
        let v = -(poly(&num, t) / poly(&den, t));
        z[k] = if upper[k] { -v } else { v };
    }
    for (k, &i) in at.iter().enumerate().take(TAIL_CAP) {
        if let Some(v) = buf.get_mut(i) {
            *v = if plain[k] {
                post(z[k])
            } else {
                let (p, q) = map(*v);
                post(normal_z(p, q))
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch and the scalar quantile on the same uniforms, compared bit for bit (NaN equal to
    /// NaN).
    fn check(us: &[f64]) {
        let mut got = us.to_vec();
        normal_fill(&mut got, |u| (u, 1.0 - u), |z| 3.0 + 2.0 * z);
        for (&u, &g) in us.iter().zip(&got) {
            let want = 3.0 + 2.0 * normal_z(u, 1.0 - u);
            assert!(
                g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
                "u = {u:e}: {g:e} vs {want:e}"
            );
        }
    }

    #[test]
    fn matches_the_scalar_quantile_bit_for_bit() {
        // A dense grid over (0, 1), every lane position and the remainder included.
        let n = 1_000_003;
        let us: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
        check(&us);
        // Around the branch points 0.075, 0.5 and 0.925 (grid steps of 2⁻⁵³ either side), the
        // extremes of the grid, and values no uniform takes (0, 1, NaN, out of range).
        let mut edge = Vec::new();
        for c in [0.075, 0.5, 0.925] {
            for k in -64i32..=64 {
                edge.push(c + f64::from(k) * 2f64.powi(-53));
            }
        }
        edge.extend([2f64.powi(-53), 1.0 - 2f64.powi(-53), 1e-300, 0.0, 1.0]);
        edge.extend([f64::NAN, -0.5, 1.5, 0.3, 0.7, 1e-10, 1.0 - 1e-10]);
        check(&edge);
    }

    #[test]
    fn windows_map_through_the_same_lanes() {
        // A truncation window maps u to (lo + s·u, lo_c − s·u): same results as the scalar path.
        let (lo, lo_c, s) = (0.01, 0.99, 0.5);
        let us: Vec<f64> = (0..10_007).map(|i| (i as f64 + 0.5) / 10_007.0).collect();
        let mut got = us.clone();
        normal_fill(&mut got, |u| (lo + s * u, lo_c - s * u), |z| z);
        for (&u, &g) in us.iter().zip(&got) {
            assert_eq!(g.to_bits(), normal_z(lo + s * u, lo_c - s * u).to_bits());
        }
    }
}
