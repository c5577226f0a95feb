//! Portable `exp` and `ln`: the same bits on every machine, and branch-free so lane loops vectorise.
//!
//! The platform's libm (`f64::exp`, `f64::ln`) is a call per value that no loop can vectorise,
//! and its last bit differs between libms (glibc, musl, the MSVC CRT) and from CUDA's device
//! functions. These two functions are written with IEEE additions, multiplications and divisions
//! and integer operations on the bit patterns only, no branch on the value (special cases are
//! selected at the end), so:
//!
//! - a loop over lanes that calls them vectorises (the block executor's EXP and LN loops);
//! - `kernels/mcsim_math.cuh` carries the same operations in CUDA C, and a
//!   GPU or the host-compiled kernel gives the same bits as the CPU (no FMA contraction on
//!   either side).
//!
//! The algorithms are fdlibm's `e_exp.c` and `e_log.c` (Sun Microsystems, 1993): argument
//! reduction by a two-part ln 2 and the same minimax polynomials, with fdlibm's branches
//! replaced by selects. Both are accurate to under 1 ulp (fdlibm's bound; the tests here measure
//! the distance to the platform libm over a sweep). A crate was not used because none offers a
//! branch-free, bit-reproducible scalar that also has a CUDA twin.

/// ln 2, high part: its low 32 bits are zero, so `k * LN2_HI` is exact for |k| < 2^20.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
/// ln 2 - LN2_HI.
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
/// 1 / ln 2.
const INV_LN2: f64 = f64::from_bits(0x3FF7_1547_652B_82FE);
/// 1.5 * 2^52: adding it rounds a value below 2^51 in magnitude to an integer (round to nearest
/// even), which then sits in the low bits of the sum's bit pattern.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// Above this, exp overflows.
const EXP_MAX: f64 = f64::from_bits(0x4086_2E42_FEFA_39EF); // 709.782712893384
/// Below this, exp underflows to zero.
const EXP_MIN: f64 = -745.133_219_101_941_1;

// fdlibm e_exp.c: the rational approximation's polynomial on [-0.5 ln 2, 0.5 ln 2].
const P1: f64 = f64::from_bits(0x3FC5_5555_5555_553E);
const P2: f64 = f64::from_bits(0xBF66_C16C_16BE_BD93);
const P3: f64 = f64::from_bits(0x3F11_566A_AF25_DE2C);
const P4: f64 = f64::from_bits(0xBEBB_BD41_C5D2_6BF1);
const P5: f64 = f64::from_bits(0x3E66_3769_72BE_A4D0);

// fdlibm e_log.c: log(1+f) = 2s + s*R(s^2), s = f/(2+f).
const LG1: f64 = f64::from_bits(0x3FE5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3FD9_9999_9997_FA04);
const LG3: f64 = f64::from_bits(0x3FD2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3FCC_71C5_1D8E_78AF);
const LG5: f64 = f64::from_bits(0x3FC7_4664_96CB_03DE);
const LG6: f64 = f64::from_bits(0x3FC3_9A09_D078_C69F);
const LG7: f64 = f64::from_bits(0x3FC2_F112_DF3E_5244);
/// 2^54, to bring a subnormal into the normal range.
const TWO54: f64 = 18_014_398_509_481_984.0;

/// 2^m for -1022 <= m <= 1023, from its bit pattern.
#[inline(always)]
fn pow2(m: i64) -> f64 {
    f64::from_bits(((m + 1023) as u64) << 52)
}

/// e^x, to under 1 ulp; +inf above 709.78, 0 below -745.13, NaN for NaN.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // Clamped so that the reduction below stays in range; the ends are selected at the bottom.
    let xc = x.clamp(EXP_MIN - 1.0, EXP_MAX + 1.0);
    // k = round(x / ln 2), as a float and as an integer (from the sum's low bits: no conversion
    // instruction, which 256-bit AVX2 lacks for 64-bit integers).
    let t = xc * INV_LN2 + SHIFT;
    let kf = t - SHIFT;
    let k = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let hi = xc - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // y * 2^k in two exact steps, so that a subnormal result rounds once and 2^1024 is never
    // formed: k1 = floor(k / 2) with a logical shift of a non-negative number (AVX2 has no
    // 64-bit arithmetic shift), k2 = k - k1, both in [-538, 513].
    let k1 = ((k + 2048) >> 1) - 1024;
    let k2 = k - k1;
    let v = y * pow2(k1) * pow2(k2);
    let v = if x > EXP_MAX { f64::INFINITY } else { v };
    let v = if x < EXP_MIN { 0.0 } else { v };
    if x.is_nan() { x } else { v }
}

/// ln x, to under 1 ulp; -inf at 0, NaN below 0 and for NaN, +inf at +inf.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    // A subnormal is scaled into the normal range first.
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * TWO54 } else { x };
    let bits = xs.to_bits();
    let hx = (bits >> 32) as i64 & 0x7FFF_FFFF;
    let mut k = (hx >> 20) - 1023 - if sub { 54 } else { 0 };
    let hm = hx & 0x000F_FFFF;
    // Normalise the mantissa to [sqrt(2)/2, sqrt(2)): i is 0x100000 when the mantissa is at
    // least sqrt(2), and then x is halved (exponent 0x3fe instead of 0x3ff).
    let i = (hm + 0x95F64) & 0x10_0000;
    let high = (hm | (i ^ 0x3FF0_0000)) as u64;
    let m = f64::from_bits((high << 32) | (bits & 0xFFFF_FFFF));
    k += i >> 20;
    let f = m - 1.0;
    // The exponent as a float, without an integer conversion (k + 1100 is positive).
    let dk = f64::from_bits(0x4330_0000_0000_0000 | (k + 1100) as u64)
        - (4_503_599_627_370_496.0 + 1100.0);
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    // fdlibm takes the hfsq form when the mantissa is far from 1 (i > 0 below).
    let far = ((hm - 0x6147A) | (0x6B851 - hm)) > 0;
    let hfsq = 0.5 * f * f;
    let near_form = dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
    let far_form = dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
    let v = if far { far_form } else { near_form };
    let v = if x == f64::INFINITY { x } else { v };
    let v = if x == 0.0 { f64::NEG_INFINITY } else { v };
    if x < 0.0 || x.is_nan() { f64::NAN } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in ulps between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// A deterministic sweep: a fixed-seed xorshift over [lo, hi].
    fn sweep(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
        let mut s = 0x9E37_79B9_7F4A_7C15_u64;
        (0..n).map(move |_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
    }

    #[test]
    fn exp_is_within_one_ulp_of_libm() {
        let mut worst = 0;
        for x in sweep(-745.0, 709.7, 200_000).chain(sweep(-1.0, 1.0, 200_000)) {
            let (a, b) = (exp(x), x.exp());
            if b == 0.0 || !b.is_normal() {
                continue;
            }
            worst = worst.max(ulps(a, b));
        }
        // libm is itself within ~0.5 ulp of the truth and fdlibm within 1: at most 1 apart.
        assert!(worst <= 1, "worst distance {worst} ulps");
    }

    #[test]
    fn ln_is_within_one_ulp_of_libm() {
        let mut worst = 0;
        let spans = [
            (1e-300, 1e-290),
            (1e-10, 1e-5),
            (0.5, 2.0),
            (0.99, 1.01),
            (1.0, 1e6),
            (1e300, 1e308),
        ];
        for (lo, hi) in spans {
            for x in sweep(lo, hi, 100_000) {
                worst = worst.max(ulps(ln(x), x.ln()));
            }
        }
        assert!(worst <= 1, "worst distance {worst} ulps");
    }

    #[test]
    fn exact_and_special_values() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 1);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
        assert_eq!(exp(-746.0), 0.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert!(exp(f64::NAN).is_nan());
        // The largest finite result, and the subnormal range (rounded once).
        assert!(ulps(exp(709.78), 709.78_f64.exp()) <= 1);
        for x in [-708.5, -710.0, -720.3, -740.0, -745.0] {
            assert!(ulps(exp(x), x.exp()) <= 1, "exp({x})");
        }
        assert_eq!(ln(1.0), 0.0);
        assert!(ulps(ln(std::f64::consts::E), 1.0) <= 1);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(-1.0).is_nan());
        assert!(ln(f64::NEG_INFINITY).is_nan());
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(2.0), std::f64::consts::LN_2);
        assert!(ulps(ln(10.0), std::f64::consts::LN_10) <= 1);
        // Subnormals: ln(2^-1074) = -1074 ln 2.
        assert!(ulps(ln(f64::from_bits(1)), -1074.0 * std::f64::consts::LN_2) <= 1);
        assert!(ulps(ln(f64::MIN_POSITIVE / 3.0), (f64::MIN_POSITIVE / 3.0).ln()) <= 1);
        assert!(ulps(ln(f64::MAX), f64::MAX.ln()) <= 1);
    }

    #[test]
    fn a_lane_loop_gives_the_scalar_bits() {
        // The executor calls these in loops the compiler vectorises: same bits as one at a time.
        let xs: Vec<f64> = sweep(-20.0, 20.0, 4099).collect();
        let mut out = vec![0.0; xs.len()];
        out.iter_mut().zip(&xs).for_each(|(o, &x)| *o = exp(x));
        for (o, &x) in out.iter().zip(&xs) {
            assert_eq!(o.to_bits(), std::hint::black_box(exp)(x).to_bits());
        }
        out.iter_mut().zip(&xs).for_each(|(o, &x)| *o = ln(x.abs()));
        for (o, &x) in out.iter().zip(&xs) {
            assert_eq!(o.to_bits(), std::hint::black_box(ln)(x.abs()).to_bits());
        }
    }
}
