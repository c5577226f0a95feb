//! Hypothesis tests: T.TEST, Z.TEST, F.TEST, CHISQ.TEST (and TTEST, ZTEST, FTEST, CHITEST).

use super::*;

/// P(T > t) for Student's t with `df` degrees of freedom, `df` not truncated (Welch's test has
/// fractional degrees of freedom).
fn t_upper(t: f64, df: f64) -> f64 {
    t_cdf(t, df).1
}

/// T.TEST(array1, array2, tails, type): the p-value of Student's t-test; type 1 paired, 2 two
/// samples of equal variance, 3 unequal variance (Welch).
pub fn t_test_kernel(xs: &[f64], ys: &[f64], tails: f64, kind: f64) -> Result<f64, ErrorKind> {
    let (tails, kind) = (tails.trunc(), kind.trunc());
    if !(tails == 1.0 || tails == 2.0) || !(1.0..=3.0).contains(&kind) {
        return Err(ErrorKind::Num);
    }
    let (t, df) = if kind == 1.0 {
        let d: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| x - y).collect();
        if d.len() < 2 {
            return Err(ErrorKind::Div0);
        }
        let n = d.len() as f64;
        let m = mean(&d)?;
        let v = variance(&d, true)?;
        if v == 0.0 {
            return Err(ErrorKind::Div0);
        }
        (m / (v / n).sqrt(), n - 1.0)
    } else {
        if xs.len() < 2 || ys.len() < 2 {
            return Err(ErrorKind::Div0);
        }
        let (n1, n2) = (xs.len() as f64, ys.len() as f64);
        let (m1, m2) = (mean(xs)?, mean(ys)?);
        let (v1, v2) = (variance(xs, true)?, variance(ys, true)?);
        if kind == 2.0 {
            let pooled = ((n1 - 1.0) * v1 + (n2 - 1.0) * v2) / (n1 + n2 - 2.0);
            let se = (pooled * (1.0 / n1 + 1.0 / n2)).sqrt();
            if se == 0.0 {
                return Err(ErrorKind::Div0);
            }
            ((m1 - m2) / se, n1 + n2 - 2.0)
        } else {
            let (a, b) = (v1 / n1, v2 / n2);
            if a + b == 0.0 {
                return Err(ErrorKind::Div0);
            }
            let df = (a + b) * (a + b) / (a * a / (n1 - 1.0) + b * b / (n2 - 1.0));
            ((m1 - m2) / (a + b).sqrt(), df)
        }
    };
    finite(tails * t_upper(t.abs(), df))
}

pub(super) fn t_test(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let tails = tri!(ctx.number(&args[2]));
    let kind = tri!(ctx.number(&args[3]));
    let (xs, ys) = if kind.trunc() == 1.0 {
        tri!(pairs(ctx, args))
    } else {
        (tri!(nums(ctx, &args[..1])), tri!(nums(ctx, &args[1..2])))
    };
    t_test_kernel(&xs, &ys, tails, kind).into()
}

/// Z.TEST(array, x, [sigma]): `1 - NORM.S.DIST((mean - x) / (sigma / sqrt(n)), TRUE)`, sigma the
/// sample standard deviation when omitted.
pub(super) fn z_test(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(nums(ctx, &args[..1]));
    let x = tri!(ctx.number(&args[1]));
    if xs.is_empty() {
        return Value::Error(ErrorKind::Na);
    }
    let sigma = match opt(args, 2) {
        Some(a) => tri!(ctx.number(a)),
        None => tri!(variance(&xs, true)).sqrt(),
    };
    if sigma <= 0.0 {
        return Value::Error(if sigma == 0.0 {
            ErrorKind::Div0
        } else {
            ErrorKind::Num
        });
    }
    let n = xs.len() as f64;
    let z = (tri!(mean(&xs)) - x) / (sigma / n.sqrt());
    finite(1.0 - norm_s_cdf(z)).into()
}

/// F.TEST(array1, array2): the two-tailed p-value of the ratio of the sample variances.
pub(super) fn f_test(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(nums(ctx, &args[..1]));
    let ys = tri!(nums(ctx, &args[1..2]));
    if xs.len() < 2 || ys.len() < 2 {
        return Value::Error(ErrorKind::Div0);
    }
    let (v1, v2) = (tri!(variance(&xs, true)), tri!(variance(&ys, true)));
    if v1 == 0.0 || v2 == 0.0 {
        return Value::Error(ErrorKind::Div0);
    }
    let (d1, d2) = ((xs.len() - 1) as f64, (ys.len() - 1) as f64);
    let (p, q, _) = f_cdf(v1 / v2, d1, d2);
    finite((2.0 * p.min(q)).min(1.0)).into()
}

/// CHISQ.TEST(actual_range, expected_range): the p-value of Pearson's chi-squared statistic, with
/// (rows − 1)(columns − 1) degrees of freedom (n − 1 for a single row or column).
pub(super) fn chisq_test(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let e = tri!(ctx.array(&args[1]));
    if a.rows != e.rows || a.cols != e.cols {
        return Value::Error(ErrorKind::Na);
    }
    let df = match (a.rows, a.cols) {
        (1, 1) => return Value::Error(ErrorKind::Na),
        (1, c) => c - 1,
        (r, 1) => r - 1,
        (r, c) => (r - 1) * (c - 1),
    };
    let mut chi = 0.0;
    for (x, y) in a.data.iter().zip(&e.data) {
        if let Value::Error(err) = x {
            return Value::Error(*err);
        }
        if let Value::Error(err) = y {
            return Value::Error(*err);
        }
        if let (Value::Number(x), Value::Number(y)) = (x, y) {
            if *y == 0.0 {
                return Value::Error(ErrorKind::Div0);
            }
            if *y < 0.0 {
                return Value::Error(ErrorKind::Num);
            }
            chi += (x - y) * (x - y) / y;
        }
    }
    finite(gamma_pq(df as f64 / 2.0, chi / 2.0).1).into()
}
