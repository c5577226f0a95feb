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

/// Tail lanes collected before they are evaluated together (a multiple of [`LANES`] and a power
/// of two).
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

/// `if c { a } else { b }` through the bits, so that it compiles to a mask (or a blend) and not
/// to a branch: the same value, bit for bit.
#[inline(always)]
fn select(c: bool, a: f64, b: f64) -> f64 {
    let m = u64::from(c).wrapping_neg();
    f64::from_bits((a.to_bits() & m) | (b.to_bits() & !m))
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
    normal_fill_with::<M, P, false>(buf, map, post);
}

/// [`normal_fill`] for a cheap `post` (a multiply and an add): `post` is applied to every lane of
/// a chunk, central or not, and the central lanes' results selected, so the chunk's stores are
/// one vector blend instead of a branch per lane. The same values (a lane outside the central
/// branch keeps its `u` and is evaluated by the tail pass, as in [`normal_fill`]).
#[inline(always)]
pub(crate) fn normal_fill_eager<M, P>(buf: &mut [f64], map: M, post: P)
where
    M: Fn(f64) -> (f64, f64),
    P: Fn(f64) -> f64,
{
    normal_fill_with::<M, P, true>(buf, map, post);
}

/// [`normal_fill`] (`EAGER` false) and [`normal_fill_eager`] (`EAGER` true).
#[inline(always)]
fn normal_fill_with<M, P, const EAGER: bool>(buf: &mut [f64], map: M, post: P)
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
        if EAGER {
            // One whole-chunk store of selected values (a blend): a store per lane under a
            // condition compiles to a branch per lane, mispredicted on the tail lanes.
            let w: [f64; LANES] = std::array::from_fn(|i| post(z[i]));
            let u = *chunk;
            *chunk = std::array::from_fn(|i| select(central[i], w[i], u[i]));
        } else {
            for i in 0..LANES {
                chunk[i] = if central[i] { post(z[i]) } else { chunk[i] };
            }
        }
        // The tail lanes appended without a branch per lane (how many of a chunk's lanes are in
        // the tails is unpredictable): every lane writes its index at the end of the list, and
        // only a tail lane moves the end. The list never holds more than TAIL_CAP − LANES
        // entries before a chunk, so the masked index is the plain one.
        for (i, &c) in central.iter().enumerate() {
            tails[n_tails & (TAIL_CAP - 1)] = first + i;
            n_tails += usize::from(!c);
        }
        if n_tails > TAIL_CAP - LANES {
            tail_fill(buf, tails.get(..n_tails).unwrap_or(&[]), &map, &post);
            n_tails = 0;
        }
    }
    tail_fill(buf, tails.get(..n_tails).unwrap_or(&[]), &map, &post);
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
    let mut xs = [0.0; TAIL_CAP];
    // The sides first, in a loop without calls (so the coin toss of which side a tail lane is
    // on is a select, not a branch), then the logarithms.
    let mut us = [f64::NAN; TAIL_CAP];
    for (u, &i) in us.iter_mut().zip(at) {
        *u = buf.get(i).copied().unwrap_or(f64::NAN);
    }
    for k in 0..TAIL_CAP {
        let (p, q) = map(us[k]);
        let lower = p <= 0.5;
        xs[k] = select(lower, p, q);
        upper[k] = !lower;
        // AS241's tail of the smaller probability x: r = x (x − 0.5 < 0), then sqrt(−ln r).
        plain[k] = xs[k] > 0.0 && xs[k] < 0.5;
    }
    for k in 0..at.len().min(TAIL_CAP) {
        logs[k] = if plain[k] { xs[k].ln() } else { -1.0 };
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
    fn eager_post_matches_the_scalar_quantile_bit_for_bit() {
        // Uniforms as the streams make them ((2k + 1)·2⁻⁵³, seeded), every length from 0 to 100
        // (chunks, tail batches and remainders) and long buffers whose tail list fills up, plus
        // the edge values; the eager and lazy fills and the scalar quantile agree on every bit.
        let mut z = 0x1234_5678u64;
        let mut next = || {
            z = crate::streams::mix64(z.wrapping_add(0x9e37_79b9_7f4a_7c15));
            ((z >> 12) as f64 + 0.5) * 2f64.powi(-52)
        };
        let mut cases: Vec<Vec<f64>> = (0..=100)
            .map(|len| (0..len).map(|_| next()).collect())
            .collect();
        cases.push((0..100_003).map(|_| next()).collect());
        // Mostly tail lanes (u below 0.075 or above 0.925).
        cases.push(
            (0..10_001)
                .map(|i| {
                    if i % 2 == 0 {
                        next() * 0.1
                    } else {
                        1.0 - next() * 0.1
                    }
                })
                .collect(),
        );
        let mut edge = vec![
            2f64.powi(-53),
            1.0 - 2f64.powi(-53),
            0.0,
            1.0,
            f64::NAN,
            0.5,
        ];
        for c in [0.075, 0.925] {
            edge.extend((-8i32..=8).map(|k| c + f64::from(k) * 2f64.powi(-53)));
        }
        cases.push(edge);
        let post = |z: f64| 0.05 + 0.2 * z;
        for us in &cases {
            let mut eager = us.clone();
            normal_fill_eager(&mut eager, |u| (u, 1.0 - u), post);
            let mut lazy = us.clone();
            normal_fill(&mut lazy, |u| (u, 1.0 - u), post);
            for ((&u, &e), &l) in us.iter().zip(&eager).zip(&lazy) {
                let want = post(normal_z(u, 1.0 - u));
                let same = |g: f64| g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan());
                assert!(same(e) && same(l), "u = {u:e}: {e:e} / {l:e} vs {want:e}");
            }
        }
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
