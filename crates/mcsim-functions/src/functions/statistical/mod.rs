//! Statistical functions.
//!
//! The normal distribution kernels [`norm_s_inv`] (Wichura's AS241, accurate to double precision)
//! and [`norm_s_cdf`] (W. J. Cody's rational approximations of erfc) are shared with the Monte
//! Carlo sampler.

use super::args::{Numbers, opt};
use super::criteria::{self, Criterion, Grid};
use super::math::IFS_CRITERIA_FROM_2;
use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::tri;
use crate::value::Value;
use mcsim_formula::ErrorKind;
use std::cmp::Ordering;
use std::f64::consts::PI;

mod frequency;
mod inference;

pub use frequency::percentrank_sorted;
pub use inference::t_test_kernel;

/// COUNTIFS-like layouts (range/criteria pairs): arguments 1, 3, 5, ... are criteria.
const IFS_CRITERIA_FROM_1: u32 = 0x2AAA_AAAA;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("AVERAGE", 1, VARIADIC, Lift::None, average),
    FnSpec::new("AVERAGEA", 1, VARIADIC, Lift::None, averagea),
    FnSpec::new("AVERAGEIF", 2, 3, Lift::Mask(0b10), averageif),
    FnSpec::new(
        "AVERAGEIFS",
        3,
        VARIADIC,
        Lift::Mask(IFS_CRITERIA_FROM_2),
        averageifs,
    ),
    FnSpec::new("COUNT", 1, VARIADIC, Lift::None, count),
    FnSpec::new("COUNTA", 1, VARIADIC, Lift::None, counta),
    FnSpec::new("COUNTBLANK", 1, 1, Lift::None, countblank),
    FnSpec::new("COUNTIF", 2, 2, Lift::Mask(0b10), countif),
    FnSpec::new(
        "COUNTIFS",
        2,
        VARIADIC,
        Lift::Mask(IFS_CRITERIA_FROM_1),
        countifs,
    ),
    FnSpec::new("MAX", 1, VARIADIC, Lift::None, max),
    FnSpec::new("MIN", 1, VARIADIC, Lift::None, min),
    FnSpec::new("MAXA", 1, VARIADIC, Lift::None, maxa),
    FnSpec::new("MINA", 1, VARIADIC, Lift::None, mina),
    FnSpec::new(
        "MAXIFS",
        3,
        VARIADIC,
        Lift::Mask(IFS_CRITERIA_FROM_2),
        maxifs,
    ),
    FnSpec::new(
        "MINIFS",
        3,
        VARIADIC,
        Lift::Mask(IFS_CRITERIA_FROM_2),
        minifs,
    ),
    FnSpec::new("STDEV.S", 1, VARIADIC, Lift::None, stdev_s),
    FnSpec::new("STDEV", 1, VARIADIC, Lift::None, stdev_s),
    FnSpec::new("STDEV.P", 1, VARIADIC, Lift::None, stdev_p),
    FnSpec::new("STDEVP", 1, VARIADIC, Lift::None, stdev_p),
    FnSpec::new("STDEVA", 1, VARIADIC, Lift::None, stdeva),
    FnSpec::new("STDEVPA", 1, VARIADIC, Lift::None, stdevpa),
    FnSpec::new("VAR.S", 1, VARIADIC, Lift::None, var_s),
    FnSpec::new("VAR", 1, VARIADIC, Lift::None, var_s),
    FnSpec::new("VAR.P", 1, VARIADIC, Lift::None, var_p),
    FnSpec::new("VARP", 1, VARIADIC, Lift::None, var_p),
    FnSpec::new("VARA", 1, VARIADIC, Lift::None, vara),
    FnSpec::new("VARPA", 1, VARIADIC, Lift::None, varpa),
    FnSpec::new("MEDIAN", 1, VARIADIC, Lift::None, median),
    FnSpec::new("MODE", 1, VARIADIC, Lift::None, mode),
    FnSpec::new("MODE.SNGL", 1, VARIADIC, Lift::None, mode),
    FnSpec::new("GEOMEAN", 1, VARIADIC, Lift::None, geomean),
    FnSpec::new("HARMEAN", 1, VARIADIC, Lift::None, harmean),
    FnSpec::new("AVEDEV", 1, VARIADIC, Lift::None, avedev),
    FnSpec::new("DEVSQ", 1, VARIADIC, Lift::None, devsq),
    FnSpec::new("KURT", 1, VARIADIC, Lift::None, kurt),
    FnSpec::new("SKEW", 1, VARIADIC, Lift::None, skew),
    FnSpec::new("SKEW.P", 1, VARIADIC, Lift::None, skew_p),
    FnSpec::new("PERCENTILE.INC", 2, 2, Lift::Mask(0b10), percentile_inc),
    FnSpec::new("PERCENTILE", 2, 2, Lift::Mask(0b10), percentile_inc),
    FnSpec::new("PERCENTILE.EXC", 2, 2, Lift::Mask(0b10), percentile_exc),
    FnSpec::new("QUARTILE.INC", 2, 2, Lift::Mask(0b10), quartile_inc),
    FnSpec::new("QUARTILE", 2, 2, Lift::Mask(0b10), quartile_inc),
    FnSpec::new("QUARTILE.EXC", 2, 2, Lift::Mask(0b10), quartile_exc),
    FnSpec::new("LARGE", 2, 2, Lift::Mask(0b10), large),
    FnSpec::new("SMALL", 2, 2, Lift::Mask(0b10), small),
    FnSpec::new("TRIMMEAN", 2, 2, Lift::Mask(0b10), trimmean),
    FnSpec::new("RANK.EQ", 2, 3, Lift::Mask(0b101), rank_eq),
    FnSpec::new("RANK", 2, 3, Lift::Mask(0b101), rank_eq),
    FnSpec::new("RANK.AVG", 2, 3, Lift::Mask(0b101), rank_avg),
    FnSpec::new("CORREL", 2, 2, Lift::None, correl),
    FnSpec::new("PEARSON", 2, 2, Lift::None, correl),
    FnSpec::new("RSQ", 2, 2, Lift::None, rsq),
    FnSpec::new("SLOPE", 2, 2, Lift::None, slope),
    FnSpec::new("INTERCEPT", 2, 2, Lift::None, intercept),
    FnSpec::new("STEYX", 2, 2, Lift::None, steyx),
    FnSpec::new("COVARIANCE.P", 2, 2, Lift::None, covariance_p),
    FnSpec::new("COVAR", 2, 2, Lift::None, covariance_p),
    FnSpec::new("COVARIANCE.S", 2, 2, Lift::None, covariance_s),
    FnSpec::new("STANDARDIZE", 3, 3, Lift::All, standardize),
    FnSpec::new("NORM.DIST", 4, 4, Lift::All, norm_dist),
    FnSpec::new("NORMDIST", 4, 4, Lift::All, norm_dist),
    FnSpec::new("NORM.S.DIST", 2, 2, Lift::All, norm_s_dist),
    FnSpec::new("NORMSDIST", 1, 1, Lift::All, normsdist),
    FnSpec::new("NORM.INV", 3, 3, Lift::All, norm_inv),
    FnSpec::new("NORMINV", 3, 3, Lift::All, norm_inv),
    FnSpec::new("NORM.S.INV", 1, 1, Lift::All, norm_s_inv_fn),
    FnSpec::new("NORMSINV", 1, 1, Lift::All, norm_s_inv_fn),
    FnSpec::new("LOGNORM.DIST", 4, 4, Lift::All, lognorm_dist),
    FnSpec::new("LOGNORMDIST", 3, 3, Lift::All, lognormdist),
    FnSpec::new("LOGNORM.INV", 3, 3, Lift::All, lognorm_inv),
    FnSpec::new("LOGINV", 3, 3, Lift::All, lognorm_inv),
    FnSpec::new("GAUSS", 1, 1, Lift::All, gauss),
    FnSpec::new("PHI", 1, 1, Lift::All, phi),
    FnSpec::new("CONFIDENCE.NORM", 3, 3, Lift::All, confidence_norm),
    FnSpec::new("CONFIDENCE", 3, 3, Lift::All, confidence_norm),
    FnSpec::new("FISHER", 1, 1, Lift::All, fisher),
    FnSpec::new("FISHERINV", 1, 1, Lift::All, fisherinv),
    FnSpec::new("GAMMALN", 1, 1, Lift::All, gammaln),
    FnSpec::new("GAMMALN.PRECISE", 1, 1, Lift::All, gammaln),
    FnSpec::new("GAMMA", 1, 1, Lift::All, gamma),
    FnSpec::new("EXPON.DIST", 3, 3, Lift::All, expon_dist),
    FnSpec::new("EXPONDIST", 3, 3, Lift::All, expon_dist),
    FnSpec::new("POISSON.DIST", 3, 3, Lift::All, poisson_dist),
    FnSpec::new("POISSON", 3, 3, Lift::All, poisson_dist),
    FnSpec::new("BINOM.DIST", 4, 4, Lift::All, binom_dist),
    FnSpec::new("BINOMDIST", 4, 4, Lift::All, binom_dist),
    FnSpec::new("BINOM.INV", 3, 3, Lift::All, binom_inv),
    FnSpec::new("CRITBINOM", 3, 3, Lift::All, binom_inv),
    FnSpec::new("BINOM.DIST.RANGE", 3, 4, Lift::All, binom_dist_range),
    FnSpec::new("NEGBINOM.DIST", 4, 4, Lift::All, negbinom_dist),
    FnSpec::new("WEIBULL.DIST", 4, 4, Lift::All, weibull_dist),
    FnSpec::new("WEIBULL", 4, 4, Lift::All, weibull_dist),
    FnSpec::new("PERMUT", 2, 2, Lift::All, permut),
    FnSpec::new("PERMUTATIONA", 2, 2, Lift::All, permutationa),
    FnSpec::new("GAMMA.DIST", 4, 4, Lift::All, gamma_dist),
    FnSpec::new("GAMMADIST", 4, 4, Lift::All, gamma_dist),
    FnSpec::new("GAMMA.INV", 3, 3, Lift::All, gamma_inv),
    FnSpec::new("GAMMAINV", 3, 3, Lift::All, gamma_inv),
    FnSpec::new("BETA.DIST", 4, 6, Lift::All, beta_dist),
    FnSpec::new("BETADIST", 3, 5, Lift::All, betadist),
    FnSpec::new("BETA.INV", 3, 5, Lift::All, beta_inv),
    FnSpec::new("BETAINV", 3, 5, Lift::All, beta_inv),
    FnSpec::new("CHISQ.DIST", 3, 3, Lift::All, chisq_dist),
    FnSpec::new("CHISQ.DIST.RT", 2, 2, Lift::All, chisq_dist_rt),
    FnSpec::new("CHIDIST", 2, 2, Lift::All, chisq_dist_rt),
    FnSpec::new("CHISQ.INV", 2, 2, Lift::All, chisq_inv),
    FnSpec::new("CHISQ.INV.RT", 2, 2, Lift::All, chisq_inv_rt),
    FnSpec::new("CHIINV", 2, 2, Lift::All, chisq_inv_rt),
    FnSpec::new("T.DIST", 3, 3, Lift::All, t_dist),
    FnSpec::new("T.DIST.RT", 2, 2, Lift::All, t_dist_rt),
    FnSpec::new("T.DIST.2T", 2, 2, Lift::All, t_dist_2t),
    FnSpec::new("TDIST", 3, 3, Lift::All, tdist),
    FnSpec::new("T.INV", 2, 2, Lift::All, t_inv),
    FnSpec::new("T.INV.2T", 2, 2, Lift::All, t_inv_2t),
    FnSpec::new("TINV", 2, 2, Lift::All, t_inv_2t),
    FnSpec::new("F.DIST", 4, 4, Lift::All, f_dist),
    FnSpec::new("F.DIST.RT", 3, 3, Lift::All, f_dist_rt),
    FnSpec::new("FDIST", 3, 3, Lift::All, f_dist_rt),
    FnSpec::new("F.INV", 3, 3, Lift::All, f_inv),
    FnSpec::new("F.INV.RT", 3, 3, Lift::All, f_inv_rt),
    FnSpec::new("FINV", 3, 3, Lift::All, f_inv_rt),
    FnSpec::new("CONFIDENCE.T", 3, 3, Lift::All, confidence_t),
    FnSpec::new("HYPGEOM.DIST", 5, 5, Lift::All, hypgeom_dist),
    FnSpec::new("PROB", 3, 4, Lift::Mask(0b1100), prob),
    FnSpec::new("FREQUENCY", 2, 2, Lift::None, frequency::frequency),
    FnSpec::new("MODE.MULT", 1, VARIADIC, Lift::None, frequency::mode_mult),
    FnSpec::new(
        "PERCENTRANK.INC",
        2,
        3,
        Lift::Mask(0b110),
        frequency::percentrank_inc,
    ),
    FnSpec::new(
        "PERCENTRANK",
        2,
        3,
        Lift::Mask(0b110),
        frequency::percentrank_inc,
    ),
    FnSpec::new(
        "PERCENTRANK.EXC",
        2,
        3,
        Lift::Mask(0b110),
        frequency::percentrank_exc,
    ),
    FnSpec::new("T.TEST", 4, 4, Lift::Mask(0b1100), inference::t_test),
    FnSpec::new("TTEST", 4, 4, Lift::Mask(0b1100), inference::t_test),
    FnSpec::new("Z.TEST", 2, 3, Lift::Mask(0b110), inference::z_test),
    FnSpec::new("ZTEST", 2, 3, Lift::Mask(0b110), inference::z_test),
    FnSpec::new("F.TEST", 2, 2, Lift::None, inference::f_test),
    FnSpec::new("FTEST", 2, 2, Lift::None, inference::f_test),
    FnSpec::new("CHISQ.TEST", 2, 2, Lift::None, inference::chisq_test),
    FnSpec::new("CHITEST", 2, 2, Lift::None, inference::chisq_test),
    FnSpec::new("HYPGEOMDIST", 4, 4, Lift::All, hypgeomdist),
    FnSpec::new("NEGBINOMDIST", 3, 3, Lift::All, negbinomdist),
    FnSpec::new("FORECAST", 3, 3, Lift::Mask(1), forecast),
    FnSpec::new("FORECAST.LINEAR", 3, 3, Lift::Mask(1), forecast),
    FnSpec::new("PERCENTOF", 2, 2, Lift::None, percentof),
];

// ---------------------------------------------------------------------------------------------
// Normal distribution kernels

/// The standard normal quantile (inverse CDF), Wichura's algorithm AS241 (PPND16): relative
/// accuracy about 1e-16. `p` outside (0, 1) gives NaN (callers check the domain).
pub fn norm_s_inv(p: f64) -> f64 {
    // One implementation (Wichura's AS241) serves NORM.S.INV, the compiled simulation and the
    // sampler, so the three can never disagree.
    if p > 0.0 && p < 1.0 {
        mcsim_sampling::normal_quantile(p)
    } else {
        f64::NAN
    }
}

/// The complementary error function, W. J. Cody's rational Chebyshev approximations (CALERF):
/// relative accuracy near double precision over the whole line.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let y = x.abs();
    if y <= 0.46875 {
        return 1.0 - erf_small(x);
    }
    let r = erfc_scaled_tail(y);
    if x < 0.0 { 2.0 - r } else { r }
}

/// The error function (Cody).
pub fn erf(x: f64) -> f64 {
    if x.abs() <= 0.46875 {
        erf_small(x)
    } else {
        let r = erfc_scaled_tail(x.abs());
        if x < 0.0 { r - 1.0 } else { 1.0 - r }
    }
}

fn erf_small(x: f64) -> f64 {
    const A: [f64; 5] = [
        3.161_123_743_870_565_6,
        1.138_641_541_510_501_6e2,
        3.774_852_376_853_02e2,
        3.209_377_589_138_469_5e3,
        1.857_777_061_846_031_5e-1,
    ];
    const B: [f64; 4] = [
        2.360_129_095_234_412e1,
        2.440_246_379_344_441_7e2,
        1.282_616_526_077_372_3e3,
        2.844_236_833_439_171e3,
    ];
    let ysq = if x.abs() > 1.11e-16 { x * x } else { 0.0 };
    let mut xnum = A[4] * ysq;
    let mut xden = ysq;
    for i in 0..3 {
        xnum = (xnum + A[i]) * ysq;
        xden = (xden + B[i]) * ysq;
    }
    x * (xnum + A[3]) / (xden + B[3])
}

/// erfc(y) for y > 0.46875.
fn erfc_scaled_tail(y: f64) -> f64 {
    let r = if y <= 4.0 {
        const C: [f64; 9] = [
            5.641_884_969_886_701e-1,
            8.883_149_794_388_376,
            6.611_919_063_714_163e1,
            2.986_351_381_974_001e2,
            8.819_522_212_417_69e2,
            1.712_047_612_634_070_7e3,
            2.051_078_377_826_071_6e3,
            1.230_339_354_797_997_2e3,
            2.153_115_354_744_038_5e-8,
        ];
        const D: [f64; 8] = [
            1.574_492_611_070_983_5e1,
            1.176_939_508_913_125e2,
            5.371_811_018_620_099e2,
            1.621_389_574_566_690_2e3,
            3.290_799_235_733_459_7e3,
            4.362_619_090_143_247e3,
            3.439_367_674_143_721_6e3,
            1.230_339_354_803_749_5e3,
        ];
        let mut xnum = C[8] * y;
        let mut xden = y;
        for i in 0..7 {
            xnum = (xnum + C[i]) * y;
            xden = (xden + D[i]) * y;
        }
        (xnum + C[7]) / (xden + D[7])
    } else {
        if y >= 26.55 {
            return 0.0;
        }
        const P: [f64; 6] = [
            3.053_266_349_612_323_4e-1,
            3.603_448_999_498_044e-1,
            1.257_817_261_112_292_5e-1,
            1.608_378_514_874_228e-2,
            6.587_491_615_298_378e-4,
            1.631_538_713_730_209_8e-2,
        ];
        const Q: [f64; 5] = [
            2.568_520_192_289_822,
            1.872_952_849_923_467_3,
            5.279_051_029_514_284e-1,
            6.051_834_131_244_132e-2,
            2.335_204_976_268_691_8e-3,
        ];
        const SQRPI: f64 = 5.641_895_835_477_563e-1;
        let ysq = 1.0 / (y * y);
        let mut xnum = P[5] * ysq;
        let mut xden = ysq;
        for i in 0..4 {
            xnum = (xnum + P[i]) * ysq;
            xden = (xden + Q[i]) * ysq;
        }
        let r = ysq * (xnum + P[4]) / (xden + Q[4]);
        (SQRPI - r) / y
    };
    let ysq = (y * 16.0).trunc() / 16.0;
    let del = (y - ysq) * (y + ysq);
    (-ysq * ysq).exp() * (-del).exp() * r
}

/// The standard normal CDF, accurate in both tails.
pub fn norm_s_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The standard normal density.
pub fn norm_s_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// NORM.INV(p, mean, sd).
pub fn norm_inv_kernel(p: f64, mean: f64, sd: f64) -> Result<f64, ErrorKind> {
    if !(p > 0.0 && p < 1.0) || sd <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(mean + sd * norm_s_inv(p))
}

/// NORM.S.INV(p).
pub fn norm_s_inv_kernel(p: f64) -> Result<f64, ErrorKind> {
    norm_inv_kernel(p, 0.0, 1.0)
}

/// NORM.DIST(x, mean, sd, cumulative).
pub fn norm_dist_kernel(x: f64, mean: f64, sd: f64, cumulative: bool) -> Result<f64, ErrorKind> {
    if sd <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let z = (x - mean) / sd;
    finite(if cumulative {
        norm_s_cdf(z)
    } else {
        norm_s_pdf(z) / sd
    })
}

/// LOGNORM.INV(p, mean, sd).
pub fn lognorm_inv_kernel(p: f64, mean: f64, sd: f64) -> Result<f64, ErrorKind> {
    finite(norm_inv_kernel(p, mean, sd)?.exp())
}

/// LOGNORM.DIST(x, mean, sd, cumulative).
pub fn lognorm_dist_kernel(x: f64, mean: f64, sd: f64, cumulative: bool) -> Result<f64, ErrorKind> {
    if x <= 0.0 || sd <= 0.0 {
        return Err(ErrorKind::Num);
    }
    let z = (x.ln() - mean) / sd;
    finite(if cumulative {
        norm_s_cdf(z)
    } else {
        norm_s_pdf(z) / (sd * x)
    })
}

fn finite(x: f64) -> Result<f64, ErrorKind> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(ErrorKind::Num)
    }
}

// ---------------------------------------------------------------------------------------------
// Gamma function

// ln Γ and the incomplete gamma and beta functions are mcsim-sampling's (the inverse CDFs of the
// sampled distributions are built on them): one implementation, so a worksheet's GAMMA.DIST and a
// sampled gamma agree to the last digit.
pub use mcsim_sampling::ln_gamma;
use mcsim_sampling::{regularized_beta, regularized_gamma};

/// GAMMALN.
pub fn gammaln_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(ln_gamma(x))
}

/// GAMMA: `#NUM!` at 0 and the negative integers.
pub fn gamma_kernel(x: f64) -> Result<f64, ErrorKind> {
    if x <= 0.0 && x == x.floor() {
        return Err(ErrorKind::Num);
    }
    if x > 171.7 {
        return Err(ErrorKind::Num);
    }
    if x == x.floor() && x <= 171.0 {
        let mut r = 1.0;
        let mut k = 2.0;
        while k < x {
            r *= k;
            k += 1.0;
        }
        return Ok(r);
    }
    let r = if x < 0.5 {
        PI / ((PI * x).sin() * gamma_kernel(1.0 - x)?)
    } else {
        ln_gamma(x).exp()
    };
    finite(r)
}

// ---------------------------------------------------------------------------------------------
// Shared aggregate helpers

/// The arithmetic mean; `#DIV/0!` when empty.
pub fn mean(xs: &[f64]) -> Result<f64, ErrorKind> {
    if xs.is_empty() {
        return Err(ErrorKind::Div0);
    }
    finite(xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The variance (`sample`: divide by n - 1); `#DIV/0!` with too few values.
pub fn variance(xs: &[f64], sample: bool) -> Result<f64, ErrorKind> {
    let n = xs.len();
    if n == 0 || (sample && n < 2) {
        return Err(ErrorKind::Div0);
    }
    let m = xs.iter().sum::<f64>() / n as f64;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    finite(ss / if sample { (n - 1) as f64 } else { n as f64 })
}

fn nums(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<f64>, ErrorKind> {
    ctx.numbers(args, Numbers::default())
}

fn nums_a(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<f64>, ErrorKind> {
    ctx.numbers(
        args,
        Numbers {
            include_ref_text_bool: true,
            propagate_errors: true,
        },
    )
}

fn sorted(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    xs
}

macro_rules! over_numbers {
    ($($name:ident($reader:ident) => $body:expr),* $(,)?) => {
        $(fn $name(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
            let xs = tri!($reader(ctx, args));
            let f: fn(Vec<f64>) -> Result<f64, ErrorKind> = $body;
            f(xs).into()
        })*
    };
}

over_numbers! {
    average(nums) => |xs| mean(&xs),
    averagea(nums_a) => |xs| mean(&xs),
    max(nums) => |xs| Ok(xs.into_iter().reduce(f64::max).unwrap_or(0.0)),
    min(nums) => |xs| Ok(xs.into_iter().reduce(f64::min).unwrap_or(0.0)),
    maxa(nums_a) => |xs| Ok(xs.into_iter().reduce(f64::max).unwrap_or(0.0)),
    mina(nums_a) => |xs| Ok(xs.into_iter().reduce(f64::min).unwrap_or(0.0)),
    stdev_s(nums) => |xs| variance(&xs, true).map(f64::sqrt),
    stdev_p(nums) => |xs| variance(&xs, false).map(f64::sqrt),
    stdeva(nums_a) => |xs| variance(&xs, true).map(f64::sqrt),
    stdevpa(nums_a) => |xs| variance(&xs, false).map(f64::sqrt),
    var_s(nums) => |xs| variance(&xs, true),
    var_p(nums) => |xs| variance(&xs, false),
    vara(nums_a) => |xs| variance(&xs, true),
    varpa(nums_a) => |xs| variance(&xs, false),
    median(nums) => median_of,
    mode(nums) => mode_of,
    geomean(nums) => |xs| {
        if xs.is_empty() || xs.iter().any(|&x| x <= 0.0) {
            return Err(ErrorKind::Num);
        }
        finite((xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp())
    },
    harmean(nums) => |xs| {
        if xs.is_empty() || xs.iter().any(|&x| x <= 0.0) {
            return Err(ErrorKind::Num);
        }
        finite(xs.len() as f64 / xs.iter().map(|x| 1.0 / x).sum::<f64>())
    },
    avedev(nums) => |xs| {
        if xs.is_empty() {
            return Err(ErrorKind::Num);
        }
        let m = mean(&xs)?;
        finite(xs.iter().map(|x| (x - m).abs()).sum::<f64>() / xs.len() as f64)
    },
    devsq(nums) => |xs| {
        if xs.is_empty() {
            return Err(ErrorKind::Num);
        }
        let m = mean(&xs)?;
        finite(xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>())
    },
    kurt(nums) => |xs| {
        let n = xs.len() as f64;
        if xs.len() < 4 {
            return Err(ErrorKind::Div0);
        }
        let m = mean(&xs)?;
        let s = variance(&xs, true)?.sqrt();
        if s == 0.0 {
            return Err(ErrorKind::Div0);
        }
        let s4: f64 = xs.iter().map(|x| ((x - m) / s).powi(4)).sum();
        finite(n * (n + 1.0) / ((n - 1.0) * (n - 2.0) * (n - 3.0)) * s4
            - 3.0 * (n - 1.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)))
    },
    skew(nums) => |xs| {
        let n = xs.len() as f64;
        if xs.len() < 3 {
            return Err(ErrorKind::Div0);
        }
        let m = mean(&xs)?;
        let s = variance(&xs, true)?.sqrt();
        if s == 0.0 {
            return Err(ErrorKind::Div0);
        }
        let s3: f64 = xs.iter().map(|x| ((x - m) / s).powi(3)).sum();
        finite(n / ((n - 1.0) * (n - 2.0)) * s3)
    },
    skew_p(nums) => |xs| {
        let n = xs.len() as f64;
        let m = mean(&xs)?;
        let s = variance(&xs, false)?.sqrt();
        if s == 0.0 {
            return Err(ErrorKind::Div0);
        }
        finite(xs.iter().map(|x| ((x - m) / s).powi(3)).sum::<f64>() / n)
    },
}

fn median_of(xs: Vec<f64>) -> Result<f64, ErrorKind> {
    if xs.is_empty() {
        return Err(ErrorKind::Num);
    }
    let s = sorted(xs);
    let n = s.len();
    Ok(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// Each distinct value with its count, in order of first appearance (a hash count, so that a
/// mode over a large range stays linear).
pub(super) fn value_counts(xs: &[f64]) -> Vec<(f64, usize)> {
    let mut at: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut out: Vec<(f64, usize)> = Vec::new();
    for &x in xs {
        // -0 and 0 are one value.
        let key = if x == 0.0 { 0 } else { x.to_bits() };
        match at.get(&key) {
            Some(&i) => out[i].1 += 1,
            None => {
                at.insert(key, out.len());
                out.push((x, 1));
            }
        }
    }
    out
}

fn mode_of(xs: Vec<f64>) -> Result<f64, ErrorKind> {
    // The most frequent value; ties go to the one that appears first.
    let mut best: Option<(f64, usize)> = None;
    for (x, c) in value_counts(&xs) {
        if c > 1 && best.is_none_or(|(_, bc)| c > bc) {
            best = Some((x, c));
        }
    }
    best.map(|(x, _)| x).ok_or(ErrorKind::Na)
}

fn count(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let mut n = 0usize;
    for a in args {
        match a {
            Arg::Value(Value::Array(arr)) => {
                n += arr
                    .data
                    .iter()
                    .filter(|v| matches!(v, Value::Number(_)))
                    .count()
            }
            Arg::Value(Value::Number(_) | Value::Bool(_)) => n += 1,
            Arg::Value(Value::Text(t)) => {
                if crate::value::parse_number(t).is_some() {
                    n += 1
                }
            }
            Arg::Value(_) => {}
            _ => ctx.for_each_cell(a, &mut |v| {
                if matches!(v, Value::Number(_)) {
                    n += 1
                }
            }),
        }
    }
    Value::Number(n as f64)
}

fn counta(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let mut n = 0usize;
    for a in args {
        match a {
            Arg::Value(Value::Array(arr)) => n += arr.data.iter().filter(|v| !v.is_empty()).count(),
            Arg::Value(_) => n += 1,
            _ => ctx.for_each_cell(a, &mut |v| {
                if !v.is_empty() {
                    n += 1
                }
            }),
        }
    }
    Value::Number(n as f64)
}

fn countblank(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let is_blank = |v: &Value| match v {
        Value::Empty => true,
        Value::Text(t) => t.is_empty(),
        _ => false,
    };
    match &args[0] {
        Arg::Ref(area) => {
            let total = area.bounds.rows() as f64 * area.bounds.cols() as f64;
            let mut filled = 0usize;
            ctx.visit_area(*area, &mut |_, _, v| {
                if !is_blank(v) {
                    filled += 1
                }
            });
            Value::Number(total - filled as f64)
        }
        Arg::Value(Value::Array(arr)) => {
            Value::Number(arr.data.iter().filter(|v| is_blank(v)).count() as f64)
        }
        Arg::Value(Value::Error(e)) => Value::Error(*e),
        _ => Value::Error(ErrorKind::Value),
    }
}

fn countif(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let range = tri!(Grid::from_arg(&args[0]));
    let (rows, cols) = range.dims();
    let crit = Criterion::parse(&ctx.scalar(&args[1]));
    let conds = [(range, crit)];
    let found = criteria::select(ctx, rows, cols, &conds, &[]);
    Value::Number(found.len() as f64 + criteria::blank_tail(ctx, rows, cols, &conds))
}

fn countifs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (conds, (rows, cols)) = tri!(criteria::conditions(ctx, args, 0, None));
    let found = criteria::select(ctx, rows, cols, &conds, &[]);
    Value::Number(found.len() as f64 + criteria::blank_tail(ctx, rows, cols, &conds))
}

/// The numbers of `values` at `offsets`; an error there propagates.
fn numbers_at(
    ctx: &mut Ctx<'_, '_>,
    values: &Grid,
    offsets: &[(usize, usize)],
) -> Result<Vec<f64>, ErrorKind> {
    let mut out = Vec::with_capacity(offsets.len());
    for &(i, j) in offsets {
        match values.get(ctx, i, j) {
            Value::Number(x) => out.push(x),
            Value::Error(e) => return Err(e),
            _ => {}
        }
    }
    Ok(out)
}

/// The numbers a `*IFS` function with layout (values, range1, crit1, ...) aggregates.
fn ifs_values(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<f64>, ErrorKind> {
    let values = Grid::from_arg(&args[0])?;
    let (conds, (rows, cols)) = criteria::conditions(ctx, args, 1, Some(values.dims()))?;
    let offsets = criteria::select(ctx, rows, cols, &conds, &[&values]);
    numbers_at(ctx, &values, &offsets)
}

fn averageif(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let range = tri!(Grid::from_arg(&args[0]));
    let (rows, cols) = range.dims();
    let crit = Criterion::parse(&ctx.scalar(&args[1]));
    let values = match opt(args, 2) {
        Some(a) => tri!(Grid::from_arg(a)).resized(rows, cols),
        None => range.clone(),
    };
    let conds = [(range, crit)];
    let offsets = criteria::select(ctx, rows, cols, &conds, &[&values]);
    let xs = tri!(numbers_at(ctx, &values, &offsets));
    mean(&xs).into()
}

fn averageifs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ifs_values(ctx, args));
    mean(&xs).into()
}

fn maxifs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ifs_values(ctx, args));
    Value::Number(xs.into_iter().reduce(f64::max).unwrap_or(0.0))
}

fn minifs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ifs_values(ctx, args));
    Value::Number(xs.into_iter().reduce(f64::min).unwrap_or(0.0))
}

// ---------------------------------------------------------------------------------------------
// Order statistics

/// PERCENTILE.INC over sorted data.
pub fn percentile_inc_sorted(s: &[f64], k: f64) -> Result<f64, ErrorKind> {
    if s.is_empty() || !(0.0..=1.0).contains(&k) {
        return Err(ErrorKind::Num);
    }
    let h = (s.len() - 1) as f64 * k;
    let lo = h.floor();
    let i = lo as usize;
    let frac = h - lo;
    match (s.get(i), s.get(i + 1)) {
        (Some(a), Some(b)) if frac > 0.0 => Ok(a + frac * (b - a)),
        (Some(a), _) => Ok(*a),
        _ => Err(ErrorKind::Num),
    }
}

/// PERCENTILE.EXC over sorted data.
pub fn percentile_exc_sorted(s: &[f64], k: f64) -> Result<f64, ErrorKind> {
    let n = s.len() as f64;
    if s.is_empty() || k <= 0.0 || k >= 1.0 {
        return Err(ErrorKind::Num);
    }
    let h = (n + 1.0) * k;
    if h < 1.0 || h > n {
        return Err(ErrorKind::Num);
    }
    let lo = h.floor();
    let i = lo as usize - 1;
    let frac = h - lo;
    match (s.get(i), s.get(i + 1)) {
        (Some(a), Some(b)) if frac > 0.0 => Ok(a + frac * (b - a)),
        (Some(a), _) => Ok(*a),
        _ => Err(ErrorKind::Num),
    }
}

fn data_and_k(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<(Vec<f64>, f64), ErrorKind> {
    let xs = nums(ctx, &args[..1])?;
    let k = ctx.number(&args[1])?;
    Ok((sorted(xs), k))
}

fn percentile_inc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (s, k) = tri!(data_and_k(ctx, args));
    percentile_inc_sorted(&s, k).into()
}

fn percentile_exc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (s, k) = tri!(data_and_k(ctx, args));
    percentile_exc_sorted(&s, k).into()
}

fn quartile_inc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (s, q) = tri!(data_and_k(ctx, args));
    let q = q.trunc();
    if !(0.0..=4.0).contains(&q) {
        return Value::Error(ErrorKind::Num);
    }
    percentile_inc_sorted(&s, q / 4.0).into()
}

fn quartile_exc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (s, q) = tri!(data_and_k(ctx, args));
    let q = q.trunc();
    if !(1.0..=3.0).contains(&q) {
        return Value::Error(ErrorKind::Num);
    }
    percentile_exc_sorted(&s, q / 4.0).into()
}

fn kth(ctx: &mut Ctx<'_, '_>, args: &[Arg], largest: bool) -> Value {
    let (s, k) = tri!(data_and_k(ctx, args));
    let k = k.ceil();
    if k < 1.0 || k > s.len() as f64 {
        return Value::Error(ErrorKind::Num);
    }
    let i = k as usize - 1;
    let idx = if largest { s.len() - 1 - i } else { i };
    s.get(idx)
        .map_or(Value::Error(ErrorKind::Num), |x| Value::Number(*x))
}

fn large(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    kth(ctx, args, true)
}

fn small(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    kth(ctx, args, false)
}

fn trimmean(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (s, p) = tri!(data_and_k(ctx, args));
    if s.is_empty() || !(0.0..1.0).contains(&p) {
        return Value::Error(ErrorKind::Num);
    }
    let drop = ((s.len() as f64 * p / 2.0).floor()) as usize;
    let kept = &s[drop..s.len() - drop];
    mean(kept).into()
}

fn rank(ctx: &mut Ctx<'_, '_>, args: &[Arg], avg: bool) -> Value {
    let x = tri!(ctx.number(&args[0]));
    let xs = match &args[1] {
        Arg::Ref(_) | Arg::Union(_) => tri!(nums(ctx, &args[1..2])),
        Arg::Value(Value::Error(e)) => return Value::Error(*e),
        _ => return Value::Error(ErrorKind::Value),
    };
    let ascending = tri!(ctx.number_or(args, 2, 0.0)) != 0.0;
    let (mut before, mut equal) = (0usize, 0usize);
    for &y in &xs {
        if y == x {
            equal += 1;
        } else if (ascending && y < x) || (!ascending && y > x) {
            before += 1;
        }
    }
    if equal == 0 {
        return Value::Error(ErrorKind::Na);
    }
    let r = if avg {
        before as f64 + (equal as f64 + 1.0) / 2.0
    } else {
        before as f64 + 1.0
    };
    Value::Number(r)
}

fn rank_eq(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    rank(ctx, args, false)
}

fn rank_avg(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    rank(ctx, args, true)
}

// ---------------------------------------------------------------------------------------------
// Two-sample statistics

/// The (x, y) pairs where both are numbers; arrays of different sizes are `#N/A`.
fn pairs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<(Vec<f64>, Vec<f64>), ErrorKind> {
    let a = ctx.array(&args[0])?;
    let b = ctx.array(&args[1])?;
    if a.data.len() != b.data.len() {
        return Err(ErrorKind::Na);
    }
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (x, y) in a.data.iter().zip(&b.data) {
        if let Value::Error(e) = x {
            return Err(*e);
        }
        if let Value::Error(e) = y {
            return Err(*e);
        }
        if let (Value::Number(x), Value::Number(y)) = (x, y) {
            xs.push(*x);
            ys.push(*y);
        }
    }
    Ok((xs, ys))
}

/// (sxx, syy, sxy, mean x, mean y, n) of paired data.
fn moments(xs: &[f64], ys: &[f64]) -> Result<(f64, f64, f64, f64, f64, f64), ErrorKind> {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return Err(ErrorKind::Div0);
    }
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    Ok((sxx, syy, sxy, mx, my, n))
}

fn correl_of(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<f64, ErrorKind> {
    let (xs, ys) = pairs(ctx, args)?;
    let (sxx, syy, sxy, ..) = moments(&xs, &ys)?;
    if sxx == 0.0 || syy == 0.0 {
        return Err(ErrorKind::Div0);
    }
    finite(sxy / (sxx * syy).sqrt())
}

fn correl(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    correl_of(ctx, args).into()
}

fn rsq(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    correl_of(ctx, args).map(|r| r * r).into()
}

/// SLOPE(known_y, known_x).
fn slope(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (ys, xs) = tri!(pairs(ctx, args));
    let (sxx, _, sxy, ..) = tri!(moments(&xs, &ys));
    if sxx == 0.0 {
        return Value::Error(ErrorKind::Div0);
    }
    Value::number(sxy / sxx)
}

fn intercept(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (ys, xs) = tri!(pairs(ctx, args));
    let (sxx, _, sxy, mx, my, _) = tri!(moments(&xs, &ys));
    if sxx == 0.0 {
        return Value::Error(ErrorKind::Div0);
    }
    Value::number(my - sxy / sxx * mx)
}

fn steyx(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (ys, xs) = tri!(pairs(ctx, args));
    if xs.len() < 3 {
        return Value::Error(ErrorKind::Div0);
    }
    let (sxx, syy, sxy, _, _, n) = tri!(moments(&xs, &ys));
    if sxx == 0.0 {
        return Value::Error(ErrorKind::Div0);
    }
    Value::number(((syy - sxy * sxy / sxx) / (n - 2.0)).max(0.0).sqrt())
}

fn covariance_p(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (xs, ys) = tri!(pairs(ctx, args));
    let (_, _, sxy, _, _, n) = tri!(moments(&xs, &ys));
    Value::number(sxy / n)
}

fn covariance_s(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (xs, ys) = tri!(pairs(ctx, args));
    if xs.len() < 2 {
        return Value::Error(ErrorKind::Div0);
    }
    let (_, _, sxy, _, _, n) = tri!(moments(&xs, &ys));
    Value::number(sxy / (n - 1.0))
}

// ---------------------------------------------------------------------------------------------
// Distributions (scalar wrappers)

fn num(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<f64, ErrorKind> {
    match args.get(i) {
        Some(a) => ctx.number(a),
        None => Err(ErrorKind::Value),
    }
}

fn flag(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<bool, ErrorKind> {
    match args.get(i) {
        Some(a) => ctx.boolean(a),
        None => Err(ErrorKind::Value),
    }
}

fn standardize(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    if s <= 0.0 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number((x - m) / s)
}

fn norm_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    let c = tri!(flag(ctx, args, 3));
    norm_dist_kernel(x, m, s, c).into()
}

fn norm_s_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let z = tri!(num(ctx, args, 0));
    let c = tri!(flag(ctx, args, 1));
    norm_dist_kernel(z, 0.0, 1.0, c).into()
}

fn normsdist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let z = tri!(num(ctx, args, 0));
    norm_dist_kernel(z, 0.0, 1.0, true).into()
}

fn norm_inv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let p = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    norm_inv_kernel(p, m, s).into()
}

fn norm_s_inv_fn(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let p = tri!(num(ctx, args, 0));
    norm_s_inv_kernel(p).into()
}

fn lognorm_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    let c = tri!(flag(ctx, args, 3));
    lognorm_dist_kernel(x, m, s, c).into()
}

fn lognormdist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    lognorm_dist_kernel(x, m, s, true).into()
}

fn lognorm_inv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let p = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2));
    lognorm_inv_kernel(p, m, s).into()
}

fn gauss(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let z = tri!(num(ctx, args, 0));
    // Φ(z) - 0.5 = erf(z/√2)/2, accurate near 0.
    Value::number(0.5 * erf(z / std::f64::consts::SQRT_2))
}

fn phi(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let z = tri!(num(ctx, args, 0));
    Value::number(norm_s_pdf(z))
}

fn confidence_norm(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let alpha = tri!(num(ctx, args, 0));
    let sd = tri!(num(ctx, args, 1));
    let n = tri!(num(ctx, args, 2)).trunc();
    if !(alpha > 0.0 && alpha < 1.0) || sd <= 0.0 || n < 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(norm_s_inv(1.0 - alpha / 2.0) * sd / n.sqrt())
}

fn fisher(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    if x <= -1.0 || x >= 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(0.5 * ((1.0 + x) / (1.0 - x)).ln())
}

fn fisherinv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let y = tri!(num(ctx, args, 0));
    Value::number(y.tanh())
}

fn gammaln(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    gammaln_kernel(x).into()
}

fn gamma(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    gamma_kernel(x).into()
}

fn expon_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let l = tri!(num(ctx, args, 1));
    let c = tri!(flag(ctx, args, 2));
    if x < 0.0 || l <= 0.0 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(if c {
        -(-l * x).exp_m1()
    } else {
        l * (-l * x).exp()
    })
}

fn poisson_pmf(k: f64, m: f64) -> f64 {
    if m == 0.0 {
        return if k == 0.0 { 1.0 } else { 0.0 };
    }
    (k * m.ln() - m - ln_gamma(k + 1.0)).exp()
}

fn poisson_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let m = tri!(num(ctx, args, 1));
    let c = tri!(flag(ctx, args, 2));
    if x < 0.0 || m < 0.0 {
        return Value::Error(ErrorKind::Num);
    }
    let x = x.trunc();
    if !c {
        return Value::number(poisson_pmf(x, m));
    }
    if x > MAX_TERMS {
        return Value::Error(ErrorKind::Num);
    }
    // Sum the terms by recurrence from k = 0.
    let mut term = (-m).exp();
    let mut total = term;
    let mut k = 1.0;
    while k <= x {
        term *= m / k;
        total += term;
        k += 1.0;
        if k > 1e7 {
            break;
        }
    }
    if term == 0.0 && total == 0.0 {
        // Underflow at the start: sum in log space.
        let mut t = 0.0;
        let mut k = 0.0;
        while k <= x {
            t += poisson_pmf(k, m);
            k += 1.0;
        }
        total = t;
    }
    Value::number(total.min(1.0))
}

fn binom_pmf(k: f64, n: f64, p: f64) -> f64 {
    if p == 0.0 {
        return if k == 0.0 { 1.0 } else { 0.0 };
    }
    if p == 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    (ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
        + k * p.ln()
        + (n - k) * (-p).ln_1p())
    .exp()
}

/// Terms summed at most by the discrete cumulative distributions (beyond: `#NUM!`).
const MAX_TERMS: f64 = 1e7;

/// Sum of the binomial probabilities for k in `lo..=hi`.
fn binom_sum(lo: f64, hi: f64, n: f64, p: f64) -> Result<f64, ErrorKind> {
    if hi - lo > MAX_TERMS {
        return Err(ErrorKind::Num);
    }
    let mut total = 0.0;
    let mut k = lo;
    while k <= hi {
        total += binom_pmf(k, n, p);
        k += 1.0;
    }
    finite(total.min(1.0))
}

fn binom_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let n = tri!(num(ctx, args, 1));
    let p = tri!(num(ctx, args, 2));
    let c = tri!(flag(ctx, args, 3));
    let (s, n) = (s.trunc(), n.trunc());
    if s < 0.0 || s > n || !(0.0..=1.0).contains(&p) {
        return Value::Error(ErrorKind::Num);
    }
    if !c {
        return Value::number(binom_pmf(s, n, p));
    }
    binom_sum(0.0, s, n, p).into()
}

fn binom_dist_range(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(num(ctx, args, 0)).trunc();
    let p = tri!(num(ctx, args, 1));
    let s = tri!(num(ctx, args, 2)).trunc();
    let s2 = match args.get(3) {
        None => s,
        Some(a) => tri!(ctx.number(a)).trunc(),
    };
    if n < 0.0 || s < 0.0 || s > n || s2 < s || s2 > n || !(0.0..=1.0).contains(&p) {
        return Value::Error(ErrorKind::Num);
    }
    binom_sum(s, s2, n, p).into()
}

fn binom_inv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(num(ctx, args, 0));
    let p = tri!(num(ctx, args, 1));
    let alpha = tri!(num(ctx, args, 2));
    if n < 0.0 || !(0.0..1.0).contains(&p) || alpha <= 0.0 || alpha >= 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    let n = n.trunc();
    if n > MAX_TERMS {
        return Value::Error(ErrorKind::Num);
    }
    // The smallest k whose cumulative probability reaches alpha.
    let mut total = 0.0;
    let mut k = 0.0;
    while k < n {
        total += binom_pmf(k, n, p);
        if total >= alpha {
            return Value::Number(k);
        }
        k += 1.0;
    }
    Value::Number(n)
}

fn negbinom_pmf(f: f64, s: f64, p: f64) -> f64 {
    (ln_gamma(f + s) - ln_gamma(f + 1.0) - ln_gamma(s) + s * p.ln() + f * (-p).ln_1p()).exp()
}

fn negbinom_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let f = tri!(num(ctx, args, 0));
    let s = tri!(num(ctx, args, 1));
    let p = tri!(num(ctx, args, 2));
    let c = tri!(flag(ctx, args, 3));
    let (f, s) = (f.trunc(), s.trunc());
    if f < 0.0 || s < 1.0 || p <= 0.0 || p >= 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    if !c {
        return Value::number(negbinom_pmf(f, s, p));
    }
    if f > MAX_TERMS {
        return Value::Error(ErrorKind::Num);
    }
    let mut total = 0.0;
    let mut k = 0.0;
    while k <= f {
        total += negbinom_pmf(k, s, p);
        k += 1.0;
    }
    Value::number(total.min(1.0))
}

fn weibull_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let a = tri!(num(ctx, args, 1));
    let b = tri!(num(ctx, args, 2));
    let c = tri!(flag(ctx, args, 3));
    if x < 0.0 || a <= 0.0 || b <= 0.0 {
        return Value::Error(ErrorKind::Num);
    }
    let t = (x / b).powf(a);
    Value::number(if c {
        -(-t).exp_m1()
    } else {
        a / b.powf(a) * x.powf(a - 1.0) * (-t).exp()
    })
}

fn permut(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(num(ctx, args, 0)).trunc();
    let k = tri!(num(ctx, args, 1)).trunc();
    if n < 0.0 || k < 0.0 || n < k {
        return Value::Error(ErrorKind::Num);
    }
    let mut r = 1.0;
    let mut i = 0.0;
    while i < k {
        r *= n - i;
        i += 1.0;
        if !r.is_finite() {
            return Value::Error(ErrorKind::Num);
        }
    }
    Value::number(r)
}

fn permutationa(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(num(ctx, args, 0)).trunc();
    let k = tri!(num(ctx, args, 1)).trunc();
    if n < 0.0 || k < 0.0 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(n.powf(k))
}

// ---------------------------------------------------------------------------------------------
// Incomplete gamma and beta functions (mcsim-sampling's), and the distributions built on them
// (gamma, beta, chi-squared, Student's t, F). Inverses by Newton steps safeguarded by bisection,
// solving on whichever tail keeps the precision.

/// The regularised incomplete gamma functions (P(a, x), Q(a, x)) for a > 0, x ≥ 0.
pub fn gamma_pq(a: f64, x: f64) -> (f64, f64) {
    regularized_gamma(a, x)
}

/// ln B(a, b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The regularised incomplete beta function and its complement (I_x(a, b), 1 - I_x(a, b)),
/// given x and y = 1 - x (pass both to keep the precision of the smaller one).
pub fn beta_pq(a: f64, b: f64, x: f64, y: f64) -> (f64, f64) {
    regularized_beta(a, b, x, y)
}

/// Solves `cdf(x) = p` (with `q = 1 - p`) for x in (lo, hi), where `f(x)` gives
/// (cdf, 1 - cdf, density). A non-finite `hi` is first replaced by a bracket found by doubling.
fn solve(p: f64, q: f64, lo: f64, hi: f64, f: &dyn Fn(f64) -> (f64, f64, f64)) -> f64 {
    // The residual on the tail that is smaller, where the cdf keeps its relative precision.
    let resid = |x: f64| {
        let (cp, cq, d) = f(x);
        (if p <= 0.5 { cp - p } else { q - cq }, d)
    };
    let mut lo = lo;
    let mut hi = hi;
    if !hi.is_finite() {
        hi = lo.abs().max(1.0);
        for _ in 0..2100 {
            if resid(hi).0 >= 0.0 {
                break;
            }
            lo = hi;
            hi *= 2.0;
        }
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..400 {
        let (r, d) = resid(x);
        if r == 0.0 {
            return x;
        }
        if r < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - r / d;
        let next = if d > 0.0 && newton.is_finite() && newton > lo && newton < hi {
            newton
        } else if lo > 0.0 && hi / lo > 4.0 {
            (lo * hi).sqrt()
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 2.0 * f64::EPSILON * x.abs()
            || hi - lo <= 2.0 * f64::EPSILON * x.abs()
        {
            return next;
        }
        x = next;
    }
    x
}

/// The density of the standard gamma distribution (scale 1).
fn gamma_pdf(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return if a == 1.0 {
            1.0
        } else if a > 1.0 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    ((a - 1.0) * x.ln() - x - ln_gamma(a)).exp()
}

/// GAMMA.DIST(x, alpha, beta, cumulative).
pub fn gamma_dist_kernel(x: f64, a: f64, b: f64, cumulative: bool) -> Result<f64, ErrorKind> {
    if x < 0.0 || a <= 0.0 || b <= 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(if cumulative {
        gamma_pq(a, x / b).0
    } else {
        gamma_pdf(a, x / b) / b
    })
}

/// The standard gamma quantile for the probabilities (p, q = 1 - p).
fn gamma_quantile(a: f64, p: f64, q: f64) -> f64 {
    solve(p, q, 0.0, f64::INFINITY, &|x| {
        let (cp, cq) = gamma_pq(a, x);
        (cp, cq, gamma_pdf(a, x))
    })
}

/// GAMMA.INV(probability, alpha, beta).
pub fn gamma_inv_kernel(p: f64, a: f64, b: f64) -> Result<f64, ErrorKind> {
    if !(0.0..1.0).contains(&p) || a <= 0.0 || b <= 0.0 {
        return Err(ErrorKind::Num);
    }
    if p == 0.0 {
        return Ok(0.0);
    }
    finite(gamma_quantile(a, p, 1.0 - p) * b)
}

fn beta_pdf(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 {
        let e = if x <= 0.0 { a } else { b };
        return if e == 1.0 {
            (-ln_beta(a, b)).exp()
        } else if e > 1.0 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    ((a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - ln_beta(a, b)).exp()
}

/// BETA.DIST(x, alpha, beta, cumulative, A, B).
pub fn beta_dist_kernel(
    x: f64,
    a: f64,
    b: f64,
    cumulative: bool,
    lo: f64,
    hi: f64,
) -> Result<f64, ErrorKind> {
    if a <= 0.0 || b <= 0.0 || x < lo || x > hi || lo >= hi {
        return Err(ErrorKind::Num);
    }
    let w = hi - lo;
    let z = (x - lo) / w;
    finite(if cumulative {
        beta_pq(a, b, z, (hi - x) / w).0
    } else {
        beta_pdf(a, b, z) / w
    })
}

/// BETA.INV(probability, alpha, beta, A, B).
pub fn beta_inv_kernel(p: f64, a: f64, b: f64, lo: f64, hi: f64) -> Result<f64, ErrorKind> {
    if p <= 0.0 || p >= 1.0 || a <= 0.0 || b <= 0.0 || lo >= hi {
        return Err(ErrorKind::Num);
    }
    let z = solve(p, 1.0 - p, 0.0, 1.0, &|x| {
        let (cp, cq) = beta_pq(a, b, x, 1.0 - x);
        (cp, cq, beta_pdf(a, b, x))
    });
    finite(lo + z * (hi - lo))
}

/// Degrees of freedom: truncated, at least `min` (`#NUM!` otherwise) and at most 1e10.
fn dof(df: f64, min: f64) -> Result<f64, ErrorKind> {
    let df = df.trunc();
    if df < min || df > 1e10 {
        return Err(ErrorKind::Num);
    }
    Ok(df)
}

/// CHISQ.DIST(x, df, cumulative).
pub fn chisq_dist_kernel(x: f64, df: f64, cumulative: bool) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    gamma_dist_kernel(x, df / 2.0, 2.0, cumulative)
}

/// CHISQ.DIST.RT(x, df).
pub fn chisq_dist_rt_kernel(x: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(gamma_pq(df / 2.0, x / 2.0).1)
}

/// CHISQ.INV(p, df).
pub fn chisq_inv_kernel(p: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if !(0.0..1.0).contains(&p) {
        return Err(ErrorKind::Num);
    }
    if p == 0.0 {
        return Ok(0.0);
    }
    finite(2.0 * gamma_quantile(df / 2.0, p, 1.0 - p))
}

/// CHISQ.INV.RT(p, df).
pub fn chisq_inv_rt_kernel(p: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if p <= 0.0 || p > 1.0 {
        return Err(ErrorKind::Num);
    }
    if p == 1.0 {
        return Ok(0.0);
    }
    finite(2.0 * gamma_quantile(df / 2.0, 1.0 - p, p))
}

/// Student's t: (P(T ≤ t), P(T > t), density).
fn t_cdf(t: f64, df: f64) -> (f64, f64, f64) {
    let t2 = t * t;
    let (x, y) = if t2 < df {
        (df / (df + t2), t2 / (df + t2))
    } else {
        (1.0 / (1.0 + t2 / df), 1.0 / (1.0 + df / t2))
    };
    let tail = 0.5 * beta_pq(df / 2.0, 0.5, x, y).0;
    let dens = (ln_gamma((df + 1.0) / 2.0)
        - ln_gamma(df / 2.0)
        - 0.5 * (df * PI).ln()
        - (df + 1.0) / 2.0 * (t2 / df).ln_1p())
    .exp();
    if t >= 0.0 {
        (1.0 - tail, tail, dens)
    } else {
        (tail, 1.0 - tail, dens)
    }
}

/// T.DIST(x, df, cumulative).
pub fn t_dist_kernel(x: f64, df: f64, cumulative: bool) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    let (p, _, d) = t_cdf(x, df);
    finite(if cumulative { p } else { d })
}

/// T.DIST.RT(x, df).
pub fn t_dist_rt_kernel(x: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    finite(t_cdf(x, df).1)
}

/// T.DIST.2T(x, df).
pub fn t_dist_2t_kernel(x: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    finite((2.0 * t_cdf(x, df).1).min(1.0))
}

/// The t quantile for (p, q = 1 - p).
fn t_quantile(p: f64, q: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(q, p, df);
    }
    solve(p, q, 0.0, f64::INFINITY, &|t| t_cdf(t, df))
}

/// T.INV(p, df).
pub fn t_inv_kernel(p: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if p <= 0.0 || p >= 1.0 {
        return Err(ErrorKind::Num);
    }
    finite(t_quantile(p, 1.0 - p, df))
}

/// T.INV.2T(p, df).
pub fn t_inv_2t_kernel(p: f64, df: f64) -> Result<f64, ErrorKind> {
    let df = dof(df, 1.0)?;
    if p <= 0.0 || p > 1.0 {
        return Err(ErrorKind::Num);
    }
    finite(t_quantile(1.0 - p / 2.0, p / 2.0, df))
}

/// The F distribution: (cdf, 1 - cdf, density).
fn f_cdf(x: f64, d1: f64, d2: f64) -> (f64, f64, f64) {
    if x <= 0.0 {
        let dens = if d1 == 2.0 {
            1.0
        } else if d1 > 2.0 {
            0.0
        } else {
            f64::INFINITY
        };
        return (0.0, 1.0, dens);
    }
    let s = d1 * x + d2;
    let (p, q) = beta_pq(d1 / 2.0, d2 / 2.0, d1 * x / s, d2 / s);
    let dens = (0.5 * d1 * (d1 * x).ln() + 0.5 * d2 * d2.ln()
        - 0.5 * (d1 + d2) * s.ln()
        - ln_beta(d1 / 2.0, d2 / 2.0))
    .exp()
        / x;
    (p, q, dens)
}

/// F.DIST(x, d1, d2, cumulative).
pub fn f_dist_kernel(x: f64, d1: f64, d2: f64, cumulative: bool) -> Result<f64, ErrorKind> {
    let (d1, d2) = (dof(d1, 1.0)?, dof(d2, 1.0)?);
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    let (p, _, d) = f_cdf(x, d1, d2);
    finite(if cumulative { p } else { d })
}

/// F.DIST.RT(x, d1, d2).
pub fn f_dist_rt_kernel(x: f64, d1: f64, d2: f64) -> Result<f64, ErrorKind> {
    let (d1, d2) = (dof(d1, 1.0)?, dof(d2, 1.0)?);
    if x < 0.0 {
        return Err(ErrorKind::Num);
    }
    finite(f_cdf(x, d1, d2).1)
}

/// The F quantile for (p, q = 1 - p).
fn f_quantile(p: f64, q: f64, d1: f64, d2: f64) -> f64 {
    solve(p, q, 0.0, f64::INFINITY, &|x| f_cdf(x, d1, d2))
}

/// F.INV(p, d1, d2).
pub fn f_inv_kernel(p: f64, d1: f64, d2: f64) -> Result<f64, ErrorKind> {
    let (d1, d2) = (dof(d1, 1.0)?, dof(d2, 1.0)?);
    if !(0.0..1.0).contains(&p) {
        return Err(ErrorKind::Num);
    }
    if p == 0.0 {
        return Ok(0.0);
    }
    finite(f_quantile(p, 1.0 - p, d1, d2))
}

/// F.INV.RT(p, d1, d2).
pub fn f_inv_rt_kernel(p: f64, d1: f64, d2: f64) -> Result<f64, ErrorKind> {
    let (d1, d2) = (dof(d1, 1.0)?, dof(d2, 1.0)?);
    if p <= 0.0 || p > 1.0 {
        return Err(ErrorKind::Num);
    }
    if p == 1.0 {
        return Ok(0.0);
    }
    finite(f_quantile(1.0 - p, p, d1, d2))
}

macro_rules! scalar_fns {
    ($($name:ident($($i:tt : $kind:ident),*) => $kernel:expr),* $(,)?) => {
        $(fn $name(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
            $kernel($(scalar_fns!(@arg ctx, args, $i, $kind)),*).into()
        })*
    };
    (@arg $ctx:ident, $args:ident, $i:tt, n) => { tri!(num($ctx, $args, $i)) };
    (@arg $ctx:ident, $args:ident, $i:tt, b) => { tri!(flag($ctx, $args, $i)) };
}

scalar_fns! {
    gamma_dist(0: n, 1: n, 2: n, 3: b) => gamma_dist_kernel,
    gamma_inv(0: n, 1: n, 2: n) => gamma_inv_kernel,
    chisq_dist(0: n, 1: n, 2: b) => chisq_dist_kernel,
    chisq_dist_rt(0: n, 1: n) => chisq_dist_rt_kernel,
    chisq_inv(0: n, 1: n) => chisq_inv_kernel,
    chisq_inv_rt(0: n, 1: n) => chisq_inv_rt_kernel,
    t_dist(0: n, 1: n, 2: b) => t_dist_kernel,
    t_dist_rt(0: n, 1: n) => t_dist_rt_kernel,
    t_dist_2t(0: n, 1: n) => t_dist_2t_kernel,
    t_inv(0: n, 1: n) => t_inv_kernel,
    t_inv_2t(0: n, 1: n) => t_inv_2t_kernel,
    f_dist(0: n, 1: n, 2: n, 3: b) => f_dist_kernel,
    f_dist_rt(0: n, 1: n, 2: n) => f_dist_rt_kernel,
    f_inv(0: n, 1: n, 2: n) => f_inv_kernel,
    f_inv_rt(0: n, 1: n, 2: n) => f_inv_rt_kernel,
}

/// The optional bounds A and B of BETA.DIST/BETA.INV (0 and 1 by default).
fn bounds(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<(f64, f64), ErrorKind> {
    let lo = ctx.number_or(args, i, 0.0)?;
    let hi = ctx.number_or(args, i + 1, 1.0)?;
    Ok((lo, hi))
}

fn beta_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let a = tri!(num(ctx, args, 1));
    let b = tri!(num(ctx, args, 2));
    let c = tri!(flag(ctx, args, 3));
    let (lo, hi) = tri!(bounds(ctx, args, 4));
    beta_dist_kernel(x, a, b, c, lo, hi).into()
}

fn betadist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let a = tri!(num(ctx, args, 1));
    let b = tri!(num(ctx, args, 2));
    let (lo, hi) = tri!(bounds(ctx, args, 3));
    beta_dist_kernel(x, a, b, true, lo, hi).into()
}

fn beta_inv(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let p = tri!(num(ctx, args, 0));
    let a = tri!(num(ctx, args, 1));
    let b = tri!(num(ctx, args, 2));
    let (lo, hi) = tri!(bounds(ctx, args, 3));
    beta_inv_kernel(p, a, b, lo, hi).into()
}

fn tdist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num(ctx, args, 0));
    let df = tri!(num(ctx, args, 1));
    let tails = tri!(num(ctx, args, 2)).trunc();
    if x < 0.0 {
        return Value::Error(ErrorKind::Num);
    }
    match tails {
        1.0 => t_dist_rt_kernel(x, df).into(),
        2.0 => t_dist_2t_kernel(x, df).into(),
        _ => Value::Error(ErrorKind::Num),
    }
}

fn confidence_t(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let alpha = tri!(num(ctx, args, 0));
    let sd = tri!(num(ctx, args, 1));
    let n = tri!(num(ctx, args, 2)).trunc();
    if !(alpha > 0.0 && alpha < 1.0) || sd <= 0.0 || n < 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    if n == 1.0 {
        return Value::Error(ErrorKind::Div0);
    }
    let t = tri!(t_inv_2t_kernel(alpha, n - 1.0));
    Value::number(t * sd / n.sqrt())
}

fn ln_choose(n: f64, k: f64) -> f64 {
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
}

/// HYPGEOM.DIST(sample_s, number_sample, population_s, number_pop, cumulative).
pub fn hypgeom_dist_kernel(
    s: f64,
    n: f64,
    k: f64,
    pop: f64,
    cumulative: bool,
) -> Result<f64, ErrorKind> {
    let (s, n, k, pop) = (s.trunc(), n.trunc(), k.trunc(), pop.trunc());
    let lo = (n - pop + k).max(0.0);
    if s < 0.0 || s > n.min(k) || s < lo || n <= 0.0 || n > pop || k <= 0.0 || k > pop || pop <= 0.0
    {
        return Err(ErrorKind::Num);
    }
    let pmf = |x: f64| (ln_choose(k, x) + ln_choose(pop - k, n - x) - ln_choose(pop, n)).exp();
    if !cumulative {
        return finite(pmf(s));
    }
    if s - lo > MAX_TERMS {
        return Err(ErrorKind::Num);
    }
    let mut total = 0.0;
    let mut x = lo;
    while x <= s {
        total += pmf(x);
        x += 1.0;
    }
    finite(total.min(1.0))
}

fn hypgeom_dist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let n = tri!(num(ctx, args, 1));
    let k = tri!(num(ctx, args, 2));
    let pop = tri!(num(ctx, args, 3));
    let c = tri!(flag(ctx, args, 4));
    hypgeom_dist_kernel(s, n, k, pop, c).into()
}

/// PROB(x_range, prob_range, lower_limit, [upper_limit]).
fn prob(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(ctx.array(&args[0]));
    let ps = tri!(ctx.array(&args[1]));
    if xs.data.len() != ps.data.len() {
        return Value::Error(ErrorKind::Na);
    }
    let lower = tri!(num(ctx, args, 2));
    let upper = match opt(args, 3) {
        None => lower,
        Some(a) => tri!(ctx.number(a)),
    };
    let mut pairs = Vec::new();
    for (x, p) in xs.data.iter().zip(&ps.data) {
        if let Value::Error(e) = x {
            return Value::Error(*e);
        }
        if let Value::Error(e) = p {
            return Value::Error(*e);
        }
        if let (Value::Number(x), Value::Number(p)) = (x, p) {
            if *p <= 0.0 || *p > 1.0 {
                return Value::Error(ErrorKind::Num);
            }
            pairs.push((*x, *p));
        }
    }
    if pairs.is_empty() {
        return Value::Error(ErrorKind::Div0);
    }
    let total: f64 = pairs.iter().map(|(_, p)| p).sum();
    if (total - 1.0).abs() > 1e-12 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(
        pairs
            .iter()
            .filter(|(x, _)| *x >= lower && *x <= upper)
            .map(|(_, p)| p)
            .sum(),
    )
}

// ---------------------------------------------------------------------------------------------
// Legacy probability functions, FORECAST, PERCENTOF

/// HYPGEOMDIST(sample_s, number_sample, population_s, number_pop): HYPGEOM.DIST's mass function.
fn hypgeomdist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let s = tri!(num(ctx, args, 0));
    let n = tri!(num(ctx, args, 1));
    let k = tri!(num(ctx, args, 2));
    let pop = tri!(num(ctx, args, 3));
    hypgeom_dist_kernel(s, n, k, pop, false).into()
}

/// NEGBINOMDIST(number_f, number_s, probability_s): NEGBINOM.DIST's mass function.
fn negbinomdist(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let f = tri!(num(ctx, args, 0)).trunc();
    let s = tri!(num(ctx, args, 1)).trunc();
    let p = tri!(num(ctx, args, 2));
    if f < 0.0 || s < 1.0 || p <= 0.0 || p >= 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    Value::number(negbinom_pmf(f, s, p))
}

/// FORECAST(x, known_y, known_x) and FORECAST.LINEAR: the least-squares line at `x`.
fn forecast(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(ctx.number(&args[0]));
    let (ys, xs) = tri!(pairs(ctx, &args[1..3]));
    let (sxx, _, sxy, mx, my, _) = tri!(moments(&xs, &ys));
    if sxx == 0.0 {
        return Value::Error(ErrorKind::Div0);
    }
    Value::number(my + sxy / sxx * (x - mx))
}

/// PERCENTOF(data_subset, data_all): the sum of the subset over the sum of everything.
fn percentof(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let part: f64 = tri!(nums(ctx, &args[..1])).iter().sum();
    let all: f64 = tri!(nums(ctx, &args[1..2])).iter().sum();
    if all == 0.0 {
        return Value::Error(ErrorKind::Div0);
    }
    Value::number(part / all)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::quick::{eval, eval_cells};

    fn n(v: f64) -> Value {
        Value::Number(v)
    }

    fn close(v: Value, want: f64, tol: f64) {
        match v {
            Value::Number(x) => assert!(
                (x - want).abs() <= tol * want.abs().max(1e-300),
                "{x} vs {want}"
            ),
            other => panic!("expected {want}, got {other:?}"),
        }
    }

    #[test]
    fn normal_kernels() {
        // Reference values (R / mpmath).
        assert!((norm_s_inv(0.975) - 1.959_963_984_540_054).abs() < 1e-15);
        assert!((norm_s_inv(0.01) + 2.326_347_874_040_841).abs() < 1e-14);
        assert!((norm_s_inv(1e-10) + 6.361_340_902_404_056).abs() < 1e-13);
        assert_eq!(norm_s_inv(0.5), 0.0);
        assert!(norm_s_inv(0.0).is_nan());
        assert!((norm_s_cdf(1.96) - 0.975_002_104_851_780).abs() < 1e-15);
        assert!((norm_s_cdf(-1.0) - 0.158_655_253_931_457_05).abs() < 1e-16);
        assert!((norm_s_cdf(-10.0) / 7.619_853_024_160_527e-24 - 1.0).abs() < 1e-13);
        assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-16);
        assert!((erfc(5.0) / 1.537_459_794_428_034_8e-12 - 1.0).abs() < 1e-13);
        assert!((erf(0.3) - 0.328_626_759_459_127_4).abs() < 1e-16);
        // Round trips across the range.
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            assert!((norm_s_cdf(norm_s_inv(p)) - p).abs() < 1e-15, "{p}");
        }
        for e in 3..300 {
            let p = 10f64.powi(-e);
            let back = norm_s_cdf(norm_s_inv(p));
            assert!((back / p - 1.0).abs() < 1e-12, "{p} {back}");
        }
    }

    #[test]
    fn distributions() {
        close(
            eval("=NORM.INV(0.908789,40,1.5)"),
            42.000_002_009_566_16,
            1e-12,
        );
        close(
            eval("=NORM.S.INV(0.908789)"),
            1.333_334_673_044_107_5,
            1e-12,
        );
        close(
            eval("=NORM.DIST(42,40,1.5,TRUE)"),
            0.908_788_780_274_132,
            1e-12,
        );
        close(
            eval("=NORM.DIST(42,40,1.5,FALSE)"),
            0.109_340_049_783_996,
            1e-12,
        );
        close(
            eval("=NORM.S.DIST(1.333333,TRUE)"),
            0.908_788_725_604_095,
            1e-12,
        );
        close(eval("=NORMSDIST(1.333333)"), 0.908_788_725_604_095, 1e-12);
        close(
            eval("=LOGNORM.DIST(4,3.5,1.2,TRUE)"),
            0.039_083_555_706_800_47,
            1e-12,
        );
        close(
            eval("=LOGNORM.DIST(4,3.5,1.2,FALSE)"),
            0.017_617_596_681_819_22,
            1e-12,
        );
        close(
            eval("=LOGNORM.INV(0.039084,3.5,1.2)"),
            4.000_025_218_680_635,
            1e-10,
        );
        assert_eq!(eval("=NORM.INV(0,0,1)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=NORM.INV(0.5,0,0)"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=NORM.S.INV(\"a\")"), Value::Error(ErrorKind::Value));
        close(
            eval("=CONFIDENCE.NORM(0.05,2.5,50)"),
            0.692_951_912_174_839,
            1e-12,
        );
        close(eval("=GAMMALN(4.5)"), 2.453_736_570_842_442, 1e-13);
        close(eval("=GAMMA(2.5)"), 1.329_340_388_179_137, 1e-13);
        assert_eq!(eval("=GAMMA(-1)"), Value::Error(ErrorKind::Num));
        close(
            eval("=POISSON.DIST(2,5,TRUE)"),
            0.124_652_019_483_081,
            1e-12,
        );
        close(
            eval("=POISSON.DIST(2,5,FALSE)"),
            0.084_224_337_488_568_34,
            1e-12,
        );
        close(eval("=BINOM.DIST(6,10,0.5,FALSE)"), 0.205_078_125, 1e-12);
        close(eval("=BINOM.DIST(6,10,0.5,TRUE)"), 0.828_125, 1e-12);
        close(
            eval("=EXPON.DIST(0.2,10,TRUE)"),
            0.864_664_716_763_387,
            1e-12,
        );
        close(
            eval("=WEIBULL.DIST(105,20,100,TRUE)"),
            0.929_581_390_069_276_8,
            1e-12,
        );
        close(eval("=FISHER(0.75)"), 0.972_955_074_527_657, 1e-12);
        close(eval("=GAUSS(2)"), 0.477_249_868_051_821, 1e-12);
        close(eval("=PHI(0.75)"), 0.301_137_432_154_804, 1e-12);
        assert_eq!(eval("=PERMUT(100,3)"), n(970_200.0));
        assert_eq!(eval("=PERMUTATIONA(3,2)"), n(9.0));
    }

    #[test]
    fn descriptive() {
        let cells = [
            ("A1", "2"),
            ("A2", "4"),
            ("A3", "4"),
            ("A4", "4"),
            ("A5", "5"),
            ("A6", "5"),
            ("A7", "7"),
            ("A8", "9"),
            ("A9", "x"),
            ("A10", "TRUE"),
            ("B1", "=AVERAGE(A1:A10)"),
            ("B2", "=STDEV.P(A1:A10)"),
            ("B3", "=STDEV.S(A1:A8)"),
            ("B4", "=VAR.P(A1:A8)"),
            ("B5", "=MEDIAN(A1:A8)"),
            ("B6", "=MODE.SNGL(A1:A8)"),
            ("B7", "=COUNT(A1:A10)"),
            ("B8", "=COUNTA(A1:A10)"),
            ("B9", "=MAX(A1:A10)"),
            ("B10", "=MIN(A1:A10)"),
            ("B11", "=AVERAGEA(A1:A10)"),
            ("B12", "=COUNTBLANK(A1:A12)"),
            ("B13", "=LARGE(A1:A8,2)"),
            ("B14", "=SMALL(A1:A8,{1,2})"),
            ("B15", "=RANK.EQ(4,A1:A8)"),
            ("B16", "=RANK.AVG(4,A1:A8)"),
            ("B17", "=RANK.EQ(4,A1:A8,1)"),
            ("B18", "=PERCENTILE.INC(A1:A8,0.3)"),
            ("B19", "=QUARTILE.INC(A1:A8,1)"),
            ("B20", "=PERCENTILE.EXC(A1:A8,0.3)"),
            ("B21", "=AVERAGE(A9)"),
            ("B22", "=MAX(A20:A30)"),
            ("B23", "=RANK(3,A1:A8)"),
            ("B24", "=LARGE(A1:A8,9)"),
        ];
        assert_eq!(eval_cells(&cells, "B1"), n(5.0));
        assert_eq!(eval_cells(&cells, "B2"), n(2.0));
        close(eval_cells(&cells, "B3"), 2.138_089_935_299_395, 1e-14);
        assert_eq!(eval_cells(&cells, "B4"), n(4.0));
        assert_eq!(eval_cells(&cells, "B5"), n(4.5));
        assert_eq!(eval_cells(&cells, "B6"), n(4.0));
        assert_eq!(eval_cells(&cells, "B7"), n(8.0));
        assert_eq!(eval_cells(&cells, "B8"), n(10.0));
        assert_eq!(eval_cells(&cells, "B9"), n(9.0));
        assert_eq!(eval_cells(&cells, "B10"), n(2.0));
        assert_eq!(eval_cells(&cells, "B11"), n(4.1));
        assert_eq!(eval_cells(&cells, "B12"), n(2.0));
        assert_eq!(eval_cells(&cells, "B13"), n(7.0));
        assert_eq!(eval_cells(&cells, "B14"), n(2.0));
        assert_eq!(eval_cells(&cells, "B15"), n(5.0));
        assert_eq!(eval_cells(&cells, "B16"), n(6.0));
        assert_eq!(eval_cells(&cells, "B17"), n(2.0));
        close(eval_cells(&cells, "B18"), 4.0, 1e-15);
        assert_eq!(eval_cells(&cells, "B19"), n(4.0));
        close(eval_cells(&cells, "B20"), 4.0, 1e-15);
        assert_eq!(eval_cells(&cells, "B21"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval_cells(&cells, "B22"), n(0.0));
        assert_eq!(eval_cells(&cells, "B23"), Value::Error(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "B24"), Value::Error(ErrorKind::Num));
        assert_eq!(eval("=MEDIAN(1,2,3,4)"), n(2.5));
        assert_eq!(eval("=AVERAGE(\"x\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=COUNT(1,\"2\",\"x\",TRUE,#N/A)"), n(3.0));
        assert_eq!(eval("=MODE(1,2,3)"), Value::Error(ErrorKind::Na));
        close(
            eval("=KURT(3,4,5,2,3,4,5,6,4,7)"),
            -0.151_799_637_208_414_2,
            1e-12,
        );
        close(
            eval("=SKEW(3,4,5,2,3,4,5,6,4,7)"),
            0.359_543_071_406_797_1,
            1e-12,
        );
        close(
            eval("=GEOMEAN(4,5,8,7,11,4,3)"),
            5.476_986_969_656_96,
            1e-12,
        );
        close(
            eval("=HARMEAN(4,5,8,7,11,4,3)"),
            5.028_375_962_061_23,
            1e-12,
        );
        assert_eq!(eval("=DEVSQ(4,5,8,7,11,4,3)"), n(48.0));
        close(eval("=AVEDEV(4,5,6,7,5,4,3)"), 1.020_408_163_265_31, 1e-12);
        close(
            eval("=TRIMMEAN({4,5,6,7,2,3,4,5,1,2,3},0.2)"),
            3.777_777_777_777_78,
            1e-12,
        );
    }

    #[test]
    fn pairs_statistics() {
        close(
            eval("=CORREL({3,2,4,5,6},{9,7,12,15,17})"),
            0.997_054_485_501_581,
            1e-12,
        );
        close(
            eval("=SLOPE({2,3,9,1,8,7,5},{6,5,11,7,5,4,4})"),
            0.305_555_555_555_556,
            1e-12,
        );
        close(
            eval("=INTERCEPT({2,3,9,1,8},{6,5,11,7,5})"),
            0.048_387_096_774_193_5,
            1e-10,
        );
        close(
            eval("=RSQ({2,3,9,1,8,7,5},{6,5,11,7,5,4,4})"),
            0.057_950_191_570_881_2,
            1e-12,
        );
        close(
            eval("=STEYX({2,3,9,1,8,7,5},{6,5,11,7,5,4,4})"),
            3.305_718_950_210_85,
            1e-12,
        );
        assert_eq!(eval("=COVARIANCE.P({3,2,4,5,6},{9,7,12,15,17})"), n(5.2));
        close(
            eval("=COVARIANCE.S({2,4,8},{5,11,12})"),
            9.666_666_666_666_67,
            1e-12,
        );
        assert_eq!(eval("=CORREL({1,2},{1,2,3})"), Value::Error(ErrorKind::Na));
        assert_eq!(eval("=CORREL({1,1},{1,2})"), Value::Error(ErrorKind::Div0));
    }

    #[test]
    fn countif_family() {
        let cells = [
            ("A1", "apples"),
            ("A2", "oranges"),
            ("A3", "peaches"),
            ("A4", "apples"),
            ("A5", "=\"\""),
            ("B1", "32"),
            ("B2", "54"),
            ("B3", "75"),
            ("B4", "86"),
            ("B5", "'7"),
            ("C1", "=COUNTIF(A1:A6,\"apples\")"),
            ("C2", "=COUNTIF(B1:B6,\">55\")"),
            ("C3", "=COUNTIF(B1:B6,\"<>\"&B4)"),
            ("C4", "=COUNTIF(A1:A6,\"*es\")"),
            ("C5", "=COUNTIF(A1:A6,\"?????es\")"),
            ("C6", "=COUNTIF(A1:A6,\"\")"),
            ("C7", "=COUNTIF(A1:A6,\"<>\")"),
            ("C8", "=COUNTIF(A:A,\"<>apples\")"),
            ("C9", "=COUNTIFS(A1:A5,\"apples\",B1:B5,\">40\")"),
            ("C10", "=COUNTIFS(A1:A5,\"apples\",B1:B4,\">40\")"),
            ("C11", "=AVERAGEIF(B1:B5,\">40\")"),
            ("C12", "=AVERAGEIF(A1:A5,\"apples\",B1:B5)"),
            ("C13", "=AVERAGEIFS(B1:B5,A1:A5,\"*es\",B1:B5,\"<80\")"),
            ("C14", "=MAXIFS(B1:B5,A1:A5,\"apples\")"),
            ("C15", "=MINIFS(B1:B5,A1:A5,\"nothing\")"),
            ("C16", "=AVERAGEIF(A1:A5,\"nothing\",B1:B5)"),
            ("C17", "=COUNTIF(B1:B5,7)"),
            ("C18", "=COUNTIF(A:A,\"\")"),
            ("C19", "=COUNTBLANK(A1:A6)"),
        ];
        assert_eq!(eval_cells(&cells, "C1"), n(2.0));
        assert_eq!(eval_cells(&cells, "C2"), n(2.0));
        assert_eq!(eval_cells(&cells, "C3"), n(5.0));
        assert_eq!(eval_cells(&cells, "C4"), n(4.0));
        assert_eq!(eval_cells(&cells, "C5"), n(2.0));
        assert_eq!(eval_cells(&cells, "C6"), n(2.0));
        assert_eq!(eval_cells(&cells, "C7"), n(5.0));
        assert_eq!(eval_cells(&cells, "C8"), n(1_048_574.0));
        assert_eq!(eval_cells(&cells, "C9"), n(1.0));
        assert_eq!(eval_cells(&cells, "C10"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "C11"), n(215.0 / 3.0));
        assert_eq!(eval_cells(&cells, "C12"), n(59.0));
        assert_eq!(eval_cells(&cells, "C13"), n(161.0 / 3.0));
        assert_eq!(eval_cells(&cells, "C14"), n(86.0));
        assert_eq!(eval_cells(&cells, "C15"), n(0.0));
        assert_eq!(eval_cells(&cells, "C16"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval_cells(&cells, "C17"), n(1.0));
        assert_eq!(eval_cells(&cells, "C18"), n(1_048_572.0));
        assert_eq!(eval_cells(&cells, "C19"), n(2.0));
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn gamma_beta_t_chisq_f_distributions() {
        // Full-precision values Excel computed (ironcalc's corpus), then Microsoft's examples.
        let e = |f: &str, want: f64| close(eval(f), want, 1e-12);
        e("=GAMMA.DIST(10,9,2,TRUE)", 6.8093634721848553E-2);
        e("=GAMMA.DIST(10,9,2,FALSE)", 3.2639019674079374E-2);
        e("=GAMMADIST(1,1,1,TRUE)", 0.63212055882855767);
        e("=GAMMA.INV(6.8093634721848553E-2,9,2)", 10.0);
        e("=GAMMAINV(0.63212055882855767,1,1)", 1.0);
        e("=BETA.DIST(2,8,10,TRUE,1,3)", 0.68547058105468728);
        e("=BETA.DIST(2,8,10,FALSE,1,3)", 1.4837646484375);
        e("=BETA.INV(0.68547058105468728,8,10,1,3)", 2.0);
        e("=BETADIST(2,8,10,1,3)", 0.68547058105468728);
        e("=T.DIST(3,5.2,TRUE)", 0.98495037605126867);
        e("=T.DIST.2T(3,5.2)", 3.0099247897462586E-2);
        e("=T.DIST.RT(3,5.2)", 1.5049623948731293E-2);
        e("=T.INV(0.98495037605126867,5.2)", 3.0);
        e("=T.INV.2T(3.0099247897462586E-2,5)", 3.0);
        e("=TDIST(3,5,2)", 3.0099247897462586E-2);
        e("=CHISQ.DIST(12.3,4,TRUE)", 0.98474560534423039);
        e("=CHISQ.DIST.RT(12.3,4)", 1.5254394655769613E-2);
        e("=CHISQ.DIST.RT(8,3.34)", 4.6011705689231373E-2);
        e("=CHISQ.INV.RT(1.5254394655769613E-2,4)", 12.3);
        e("=CONFIDENCE.T(0.05,1,50)", 0.28419685549572982);
        let d = |f: &str, want: f64| close(eval(f), want, 1e-5);
        d("=T.DIST(60,1,TRUE)", 0.99469533);
        d("=T.DIST(8,3,FALSE)", 0.00073691);
        d("=T.INV(0.75,2)", 0.8164966);
        d("=TINV(0.546449,60)", 0.606533);
        d("=CHISQ.DIST(0.5,1,TRUE)", 0.52049988);
        d("=CHISQ.DIST(2,3,FALSE)", 0.20755375);
        d("=CHIDIST(18.307,10)", 0.0500006);
        d("=CHISQ.INV(0.93,1)", 3.283020287);
        d("=CHISQ.INV(0.6,2)", 1.832581464);
        d("=CHIINV(0.050001,10)", 18.306973);
        d("=F.DIST(15.2069,6,4,TRUE)", 0.99);
        d("=F.DIST(15.2069,6,4,FALSE)", 0.0012238);
        d("=FDIST(15.2069,6,4)", 0.01);
        d("=F.INV(0.01,6,4)", 0.10930991);
        d("=FINV(0.01,6,4)", 15.20686);
        // Domains.
        for f in [
            "=GAMMA.DIST(-1,9,2,TRUE)",
            "=GAMMA.INV(1,9,2)",
            "=BETA.DIST(0.5,8,10,TRUE,1,3)",
            "=BETA.INV(0,8,10)",
            "=BETA.INV(1,8,10)",
            "=T.DIST(1,0,TRUE)",
            "=T.DIST.2T(-1,3)",
            "=TDIST(1,3,3)",
            "=T.INV(0,3)",
            "=CHISQ.DIST(-1,3,TRUE)",
            "=F.INV(1,6,4)",
            "=CONFIDENCE.T(1,1,50)",
        ] {
            assert_eq!(eval(f), Value::Error(ErrorKind::Num), "{f}");
        }
        assert_eq!(
            eval("=CONFIDENCE.T(0.05,1,1)"),
            Value::Error(ErrorKind::Div0)
        );
        assert_eq!(eval("=GAMMA.INV(0,9,2)"), n(0.0));
        assert_eq!(eval("=T.INV.2T(1,9)"), n(0.0));
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn prob_and_hypgeom() {
        // Microsoft's examples.
        let cells = [
            ("A2", "0"),
            ("A3", "1"),
            ("A4", "2"),
            ("A5", "3"),
            ("B2", "0.2"),
            ("B3", "0.3"),
            ("B4", "0.1"),
            ("B5", "0.4"),
            ("C1", "=PROB(A2:A5,B2:B5,2)"),
            ("C2", "=PROB(A2:A5,B2:B5,1,3)"),
            ("C3", "=PROB(A2:A5,B2:B4,1,3)"),
            ("C4", "=PROB(A2:A4,B2:B4,1,3)"),
            ("C5", "=PROB(A2:A5,B2:B5,3,1)"),
        ];
        close(eval_cells(&cells, "C1"), 0.1, 1e-15);
        close(eval_cells(&cells, "C2"), 0.8, 1e-15);
        assert_eq!(eval_cells(&cells, "C3"), Value::Error(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C4"), Value::Error(ErrorKind::Num));
        assert_eq!(eval_cells(&cells, "C5"), n(0.0));
        close(
            eval("=HYPGEOM.DIST(1,4,8,20,TRUE)"),
            0.4654282765737875,
            1e-12,
        );
        close(
            eval("=HYPGEOM.DIST(1,4,8,20,FALSE)"),
            0.3632610939112487,
            1e-12,
        );
        close(
            eval("=HYPGEOM.DIST(1.8,4.2,8.2,22,TRUE)"),
            0.53492822966507136,
            1e-12,
        );
        assert_eq!(
            eval("=HYPGEOM.DIST(5,4,8,20,TRUE)"),
            Value::Error(ErrorKind::Num)
        );
    }

    /// The incomplete gamma and beta functions (mcsim-sampling's, shared with the samplers) at
    /// awkward arguments, against closed forms: deep tails keep their relative accuracy, and
    /// `beta_pq` uses the `y = 1 - x` it is given.
    #[test]
    fn incomplete_gamma_and_beta_at_awkward_arguments() {
        let rel = |got: f64, want: f64, tol: f64| {
            assert!(
                (got - want).abs() <= tol * want.abs(),
                "{got:e} vs {want:e} (relative tolerance {tol:e})"
            );
        };
        // Q(1, x) = e^-x, far in the upper tail.
        rel(gamma_pq(1.0, 50.0).1, (-50.0f64).exp(), 1e-13);
        // Q(3, x) = e^-x (1 + x + x^2/2).
        rel(gamma_pq(3.0, 40.0).1, (-40.0f64).exp() * 841.0, 1e-13);
        // P(1/2, x) = erf(sqrt x); erf(sqrt 2) = 0.954499736103641585599...
        rel(gamma_pq(0.5, 2.0).0, 0.954_499_736_103_641_6, 1e-14);
        // P(1, x) = 1 - e^-x for a tiny x: the lower tail directly, not 1 - Q.
        rel(gamma_pq(1.0, 1e-10).0, -(-1e-10f64).exp_m1(), 1e-12);
        // I_x(a, 1) = x^a.
        rel(beta_pq(2.5, 1.0, 0.3, 0.7).0, 0.3f64.powf(2.5), 1e-13);
        // 1 - I_x(1, b) = (1 - x)^b with 1 - x = 1e-10 given exactly: 1e-30, not rounding noise.
        rel(beta_pq(1.0, 3.0, 1.0 - 1e-10, 1e-10).1, 1e-30, 1e-9);
        // I_{1/2}(a, a) = 1/2 by symmetry, for a large a (continued fraction near the mean).
        rel(beta_pq(500.0, 500.0, 0.5, 0.5).0, 0.5, 1e-12);
        // ln Γ: Γ(1/2) = sqrt(pi), ln Γ(171) = ln 170!.
        rel(ln_gamma(0.5), 0.5 * PI.ln(), 1e-14);
        rel(
            ln_gamma(171.0),
            (1..=170).map(|k| (k as f64).ln()).sum::<f64>(),
            1e-13,
        );
    }

    /// Cells A1:A9 and B1:B9 of the T.TEST help page's example.
    const TTEST_DATA: [(&str, &str); 18] = [
        ("A1", "3"),
        ("A2", "4"),
        ("A3", "5"),
        ("A4", "8"),
        ("A5", "9"),
        ("A6", "1"),
        ("A7", "2"),
        ("A8", "4"),
        ("A9", "5"),
        ("B1", "6"),
        ("B2", "19"),
        ("B3", "3"),
        ("B4", "2"),
        ("B5", "14"),
        ("B6", "4"),
        ("B7", "5"),
        ("B8", "17"),
        ("B9", "1"),
    ];

    fn with_data(formula: &str) -> Value {
        let mut cells = TTEST_DATA.to_vec();
        cells.push(("D1", formula));
        eval_cells(&cells, "D1")
    }

    #[test]
    fn hypothesis_tests() {
        // p-values from scipy 1.17 (stats.ttest_rel / ttest_ind / norm / f / chi2), 1e-9 relative;
        // the help pages' examples round them (T.TEST 0.196016, Z.TEST 0.090574, F.TEST
        // 0.648318, CHISQ.TEST 0.000308).
        close(
            with_data("=T.TEST(A1:A9,B1:B9,2,1)"),
            0.196_015_784_925_282,
            1e-9,
        );
        close(
            with_data("=TTEST(A1:A9,B1:B9,2,2)"),
            0.191_995_886_760_396,
            1e-9,
        );
        close(
            with_data("=T.TEST(A1:A9,B1:B9,1,2)"),
            0.095_997_943_380_198,
            1e-9,
        );
        close(
            with_data("=T.TEST(A1:A9,B1:B9,2,3)"),
            0.202_293_923_368_678,
            1e-9,
        );
        assert_eq!(
            with_data("=T.TEST(A1:A9,B1:B9,3,1)"),
            Value::Error(ErrorKind::Num)
        );
        assert_eq!(
            with_data("=T.TEST(A1:A9,B1:B8,2,1)"),
            Value::Error(ErrorKind::Na)
        );
        close(
            eval("=Z.TEST({3,6,7,8,6,5,4,2,1,9},4)"),
            0.090_574_196_851_363,
            1e-9,
        );
        close(
            eval("=ZTEST({3,6,7,8,6,5,4,2,1,9},6)"),
            0.863_043_389_129_530,
            1e-9,
        );
        close(
            eval("=F.TEST({6,7,9,15,21},{20,28,31,38,40})"),
            0.648_317_846_786_175,
            1e-9,
        );
        close(
            eval("=CHISQ.TEST({58,35;11,25;10,23},{45.35,47.65;17.56,18.44;16.09,16.91})"),
            0.000_308_192_017_008_3,
            1e-9,
        );
        assert_eq!(eval("=CHITEST({1,2},{1;2})"), Value::Error(ErrorKind::Na));
    }

    #[test]
    fn frequency_mode_mult_percentrank() {
        // FREQUENCY's help page: scores 79,85,78,85,50,81,95,88,97 in bins 70,79,89.
        let f = "FREQUENCY({79;85;78;85;50;81;95;88;97},{70;79;89})";
        for (i, want) in [1.0, 2.0, 4.0, 2.0].iter().enumerate() {
            assert_eq!(eval(&format!("=INDEX({f},{})", i + 1)), n(*want));
        }
        assert_eq!(eval(&format!("=ROWS({f})")), n(4.0));
        // Bins out of order: bin 3 takes (1, 3], bin 1 takes up to 1, in the bins' own order.
        assert_eq!(eval("=INDEX(FREQUENCY({1,2,3,4},{3,1}),1)"), n(2.0));
        assert_eq!(eval("=INDEX(FREQUENCY({1,2,3,4},{3,1}),2)"), n(1.0));
        assert_eq!(eval("=INDEX(FREQUENCY({1,2,3,4},{3,1}),3)"), n(1.0));
        // MODE.MULT's help page: {1,2,3,4,3,2,1,2,3,5,6,1} has modes 1, 2, 3 (in that order).
        let m = "MODE.MULT({1,2,3,4,3,2,1,2,3,5,6,1})";
        assert_eq!(eval(&format!("=ROWS({m})")), n(3.0));
        assert_eq!(eval(&format!("=INDEX({m},1)")), n(1.0));
        assert_eq!(eval(&format!("=INDEX({m},3)")), n(3.0));
        assert_eq!(eval("=MODE.MULT({1,2,3})"), Value::Error(ErrorKind::Na));
        // 200,000 values: linear time (a pairwise count would take minutes).
        assert_eq!(eval("=MODE.SNGL(MOD(SEQUENCE(200000),1000),7,7)"), n(7.0));
        assert_eq!(
            eval("=ROWS(MODE.MULT(MOD(SEQUENCE(200000),1000)))"),
            n(1000.0)
        );
        assert_eq!(eval("=MODE({0,-0,1})"), n(0.0));
        // PERCENTRANK.INC's help page: {13,12,11,8,4,3,2,1,1,1}.
        let d = "{13,12,11,8,4,3,2,1,1,1}";
        assert_eq!(eval(&format!("=PERCENTRANK.INC({d},2)")), n(0.333));
        assert_eq!(eval(&format!("=PERCENTRANK.INC({d},4)")), n(0.555));
        assert_eq!(eval(&format!("=PERCENTRANK.INC({d},8)")), n(0.666));
        assert_eq!(eval(&format!("=PERCENTRANK({d},5)")), n(0.583));
        // PERCENTRANK.EXC's help page: {1,2,3,6,6,6,7,8,9}.
        let e = "{1,2,3,6,6,6,7,8,9}";
        assert_eq!(eval(&format!("=PERCENTRANK.EXC({e},7)")), n(0.7));
        assert_eq!(eval(&format!("=PERCENTRANK.EXC({e},5.43)")), n(0.381));
        assert_eq!(eval(&format!("=PERCENTRANK.EXC({e},5.43,1)")), n(0.3));
        assert_eq!(
            eval(&format!("=PERCENTRANK.INC({d},14)")),
            Value::Error(ErrorKind::Na)
        );
        assert_eq!(
            eval(&format!("=PERCENTRANK.INC({d},2,0)")),
            Value::Error(ErrorKind::Num)
        );
    }

    #[test]
    fn legacy_probabilities_forecast_percentof() {
        // HYPGEOMDIST/NEGBINOMDIST help pages: 0.363261094, 0.05504866 (scipy: the digits below).
        close(eval("=HYPGEOMDIST(1,4,8,20)"), 0.363_261_093_911_249, 1e-9);
        close(
            eval("=NEGBINOMDIST(10,5,0.25)"),
            0.055_048_660_375_177_88,
            1e-9,
        );
        // FORECAST help page: 10.607253 (numpy.polyfit: 10.607253086419746).
        close(
            eval("=FORECAST(30,{6,7,9,15,21},{20,28,31,38,40})"),
            10.607_253_086_419_746,
            1e-9,
        );
        close(
            eval("=FORECAST.LINEAR(30,{6,7,9,15,21},{20,28,31,38,40})"),
            10.607_253_086_419_746,
            1e-9,
        );
        assert_eq!(
            eval("=FORECAST(1,{1,2},{3,3})"),
            Value::Error(ErrorKind::Div0)
        );
        close(eval("=PERCENTOF({1,2,3},{1,2,3,4})"), 0.6, 1e-15);
        assert_eq!(eval("=PERCENTOF(1,0)"), Value::Error(ErrorKind::Div0));
    }
}
