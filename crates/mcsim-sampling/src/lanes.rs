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
//! The coefficients are AS241's (`special.rs` keeps the scalar function and its own copy; the test
//! below checks the two agree bit for bit on every region, so a typo here cannot go unnoticed).

// The published AS241 coefficients are kept digit for digit, beyond f64 precision.
#![allow(clippy::excessive_precision)]

use crate::special::normal_quantile;

/// Samples per chunk: two AVX2 vectors of `f64` (one AVX-512 vector).
pub(crate) const LANES: usize = 8;

/// Evaluates a polynomial with coefficients in ascending order (Horner's rule), exactly as
/// `special::poly` does.
#[inline(always)]
fn poly(c: &[f64; 8], x: f64) -> f64 {
    ((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x + c[0]
}

const AS241_A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
const AS241_B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];

const AS241_C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
const AS241_D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
const AS241_E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
const AS241_F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

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
