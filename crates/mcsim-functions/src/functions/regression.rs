//! Least-squares regression over arrays: LINEST, LOGEST, TREND, GROWTH.
//!
//! The fit is a Householder QR decomposition of the (centred, when there is a constant) matrix of
//! the x variables, which is what Excel has used since 2003. An x variable that is a linear
//! combination of the earlier ones is dropped, as Excel drops it: its coefficient and standard
//! error are 0 and it does not count in the degrees of freedom. LOGEST and GROWTH fit `ln y`.

use super::{Arg, Ctx, FnSpec, Lift};
use crate::tri;
use crate::value::{Array, Value};
use mcsim_formula::ErrorKind;
use std::sync::Arc;

/// The functions of this module.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("LINEST", 1, 4, Lift::Mask(0b1100), linest),
    FnSpec::new("LOGEST", 1, 4, Lift::Mask(0b1100), logest),
    FnSpec::new("TREND", 1, 4, Lift::Mask(0b1000), trend),
    FnSpec::new("GROWTH", 1, 4, Lift::Mask(0b1000), growth),
];

/// How the x variables are laid out against y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// y is a column: each column of x is a variable.
    Columns,
    /// y is a row: each row of x is a variable.
    Rows,
    /// y and x have the same shape (one variable).
    Same,
}

/// A regression problem: n observations of y and k variables.
struct Problem {
    y: Vec<f64>,
    /// `x[j][i]`: variable j at observation i.
    x: Vec<Vec<f64>>,
    layout: Layout,
}

/// A fit: coefficients per variable (0 for a dropped one), the constant, and the statistics.
#[derive(Debug, Clone)]
pub struct Fit {
    /// Coefficient of each x variable, in the variables' order.
    pub coef: Vec<f64>,
    /// The constant (0 when forced).
    pub b: f64,
    /// Standard error of each coefficient.
    pub se: Vec<f64>,
    /// Standard error of the constant (`None` when the constant was forced to 0).
    pub se_b: Option<f64>,
    /// Coefficient of determination.
    pub r2: f64,
    /// Standard error of the y estimate.
    pub sey: f64,
    /// The F statistic.
    pub f: f64,
    /// Residual degrees of freedom.
    pub df: f64,
    /// Regression sum of squares.
    pub ssreg: f64,
    /// Residual sum of squares.
    pub ssresid: f64,
}

fn numbers_of(a: &Array) -> Result<Vec<f64>, ErrorKind> {
    a.data
        .iter()
        .map(|v| match v {
            Value::Number(n) => Ok(*n),
            Value::Error(e) => Err(*e),
            _ => Err(ErrorKind::Value),
        })
        .collect()
}

/// Reads known_y and known_x (arguments 0 and 1) into a problem; `log` takes `ln y` (y > 0).
fn problem(ctx: &mut Ctx<'_, '_>, args: &[Arg], log: bool) -> Result<Problem, ErrorKind> {
    let ya = ctx.array(&args[0])?;
    let mut y = numbers_of(&ya)?;
    if log {
        if y.iter().any(|&v| v <= 0.0) {
            return Err(ErrorKind::Num);
        }
        y.iter_mut().for_each(|v| *v = v.ln());
    }
    let n = y.len();
    let xa = match super::args::opt(args, 1) {
        Some(a) => Some(ctx.array(a)?),
        None => None,
    };
    let Some(xa) = xa else {
        let x = vec![(1..=n).map(|i| i as f64).collect()];
        let layout = if ya.cols == 1 {
            Layout::Columns
        } else if ya.rows == 1 {
            Layout::Rows
        } else {
            Layout::Same
        };
        return Ok(Problem { y, x, layout });
    };
    let xs = numbers_of(&xa)?;
    if xa.rows == ya.rows && xa.cols == ya.cols {
        let layout = if ya.cols == 1 {
            Layout::Columns
        } else if ya.rows == 1 {
            Layout::Rows
        } else {
            Layout::Same
        };
        return Ok(Problem {
            y,
            x: vec![xs],
            layout,
        });
    }
    if ya.cols == 1 && xa.rows == ya.rows {
        let x = (0..xa.cols)
            .map(|j| (0..xa.rows).map(|i| xs[i * xa.cols + j]).collect())
            .collect();
        return Ok(Problem {
            y,
            x,
            layout: Layout::Columns,
        });
    }
    if ya.rows == 1 && xa.cols == ya.cols {
        let x = (0..xa.rows)
            .map(|j| xs[j * xa.cols..(j + 1) * xa.cols].to_vec())
            .collect();
        return Ok(Problem {
            y,
            x,
            layout: Layout::Rows,
        });
    }
    Err(ErrorKind::Ref)
}

/// Least squares of `y` on the columns `x` (no constant) by Householder QR. Returns the
/// coefficients (0 for a dropped, collinear column), the diagonal of `(XᵀX)⁻¹` over the kept
/// columns (0 for dropped ones) and the number of kept columns.
// Index loops read as the textbook algorithms they are.
#[allow(clippy::needless_range_loop)]
fn least_squares(x: &[Vec<f64>], y: &[f64]) -> (Vec<f64>, Vec<f64>, usize) {
    let n = y.len();
    let k = x.len();
    let mut cols: Vec<Vec<f64>> = x.to_vec();
    let mut qty = y.to_vec();
    let mut kept: Vec<usize> = Vec::new();
    // r[a][b]: the upper-triangular factor over the kept columns (a, b index `kept`).
    let mut r: Vec<Vec<f64>> = Vec::new();
    let mut row = 0;
    for j in 0..k {
        if row >= n {
            break;
        }
        let norm0 = cols[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        let tail = cols[j][row..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm0 == 0.0 || tail <= 1e-12 * norm0 {
            continue;
        }
        // The reflector that maps cols[j][row..] to (∓tail, 0, ...).
        let alpha = if cols[j][row] > 0.0 { -tail } else { tail };
        let mut v: Vec<f64> = cols[j][row..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|t| t * t).sum();
        let reflect = |c: &mut [f64]| {
            if vnorm2 == 0.0 {
                return;
            }
            let dot: f64 = v.iter().zip(c.iter()).map(|(a, b)| a * b).sum();
            let s = 2.0 * dot / vnorm2;
            c.iter_mut().zip(&v).for_each(|(ci, vi)| *ci -= s * vi);
        };
        for c in cols.iter_mut().skip(j) {
            reflect(&mut c[row..]);
        }
        reflect(&mut qty[row..]);
        kept.push(j);
        row += 1;
    }
    let p = kept.len();
    for a in 0..p {
        r.push((0..p).map(|b| cols[kept[b]][a]).collect());
    }
    // Back substitution R·β = Qᵀy.
    let mut beta = vec![0.0; p];
    for a in (0..p).rev() {
        let mut s = qty[a];
        for b in a + 1..p {
            s -= r[a][b] * beta[b];
        }
        beta[a] = s / r[a][a];
    }
    // R⁻¹ (upper triangular), then diag((RᵀR)⁻¹) = row sums of squares of R⁻¹.
    let mut rinv = vec![vec![0.0; p]; p];
    for c in 0..p {
        for a in (0..=c).rev() {
            let mut s = if a == c { 1.0 } else { 0.0 };
            for b in a + 1..=c {
                s -= r[a][b] * rinv[b][c];
            }
            rinv[a][c] = s / r[a][a];
        }
    }
    let mut coef = vec![0.0; k];
    let mut diag = vec![0.0; k];
    for (a, &j) in kept.iter().enumerate() {
        coef[j] = beta[a];
        diag[j] = rinv[a].iter().map(|t| t * t).sum();
    }
    (coef, diag, p)
}

/// Fits `y = b + Σ coef_j x_j` (`constant`) or `y = Σ coef_j x_j`.
pub fn fit(x: &[Vec<f64>], y: &[f64], constant: bool) -> Result<Fit, ErrorKind> {
    let n = y.len();
    if n == 0 || x.iter().any(|c| c.len() != n) {
        return Err(ErrorKind::Ref);
    }
    let nf = n as f64;
    let (ym, xm): (f64, Vec<f64>) = if constant {
        (
            y.iter().sum::<f64>() / nf,
            x.iter().map(|c| c.iter().sum::<f64>() / nf).collect(),
        )
    } else {
        (0.0, vec![0.0; x.len()])
    };
    let xc: Vec<Vec<f64>> = x
        .iter()
        .zip(&xm)
        .map(|(c, m)| c.iter().map(|v| v - m).collect())
        .collect();
    let yc: Vec<f64> = y.iter().map(|v| v - ym).collect();
    let (coef, diag, p) = least_squares(&xc, &yc);
    let b = if constant {
        ym - coef.iter().zip(&xm).map(|(c, m)| c * m).sum::<f64>()
    } else {
        0.0
    };
    let mut ssresid = 0.0;
    for (i, yi) in yc.iter().enumerate() {
        let fitted: f64 = coef.iter().zip(&xc).map(|(c, col)| c * col[i]).sum();
        ssresid += (yi - fitted) * (yi - fitted);
    }
    let sstotal: f64 = yc.iter().map(|v| v * v).sum();
    let ssreg = (sstotal - ssresid).max(0.0);
    let df = nf - p as f64 - if constant { 1.0 } else { 0.0 };
    let sigma2 = if df > 0.0 { ssresid / df } else { f64::NAN };
    let se: Vec<f64> = diag.iter().map(|d| (sigma2 * d).sqrt()).collect();
    let se_b = if constant {
        // Var(b) = σ²(1/n + x̄ᵀ(XcᵀXc)⁻¹x̄); the cross terms need the full inverse, so recompute
        // it as the variance of the fitted value at x = 0 through a second solve.
        Some(se_constant(&xc, &xm, sigma2, nf))
    } else {
        None
    };
    Ok(Fit {
        coef,
        b,
        se,
        se_b,
        r2: if sstotal == 0.0 { 1.0 } else { ssreg / sstotal },
        sey: sigma2.sqrt(),
        f: if ssresid == 0.0 {
            f64::NAN
        } else {
            (ssreg / p as f64) / (ssresid / df)
        },
        df,
        ssreg,
        ssresid,
    })
}

/// The standard error of the constant: `sqrt(σ²(1/n + x̄ᵀ(XcᵀXc)⁻¹x̄))`, with `(XcᵀXc)⁻¹x̄`
/// found by least squares of a vector whose normal equations give it.
fn se_constant(xc: &[Vec<f64>], xm: &[f64], sigma2: f64, n: f64) -> f64 {
    // Solve (XcᵀXc) w = x̄ through the QR of Xc: w = R⁻¹R⁻ᵀx̄ and x̄ᵀw = |R⁻ᵀx̄|².
    let k = xc.len();
    let gram: Vec<Vec<f64>> = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| xc[a].iter().zip(&xc[b]).map(|(u, v)| u * v).sum())
                .collect()
        })
        .collect();
    let quad = quadratic_inverse(&gram, xm);
    (sigma2 * (1.0 / n + quad)).sqrt()
}

/// `vᵀ G⁺ v` for a symmetric positive semi-definite `G`, by Gaussian elimination with the
/// singular directions (collinear variables) skipped.
#[allow(clippy::needless_range_loop)]
fn quadratic_inverse(g: &[Vec<f64>], v: &[f64]) -> f64 {
    let k = v.len();
    let mut a: Vec<Vec<f64>> = g.to_vec();
    let mut w = v.to_vec();
    let scale = (0..k).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    let mut active = vec![false; k];
    for i in 0..k {
        if a[i][i].abs() <= 1e-12 * scale.max(f64::MIN_POSITIVE) {
            continue;
        }
        active[i] = true;
        for r in i + 1..k {
            let m = a[r][i] / a[i][i];
            if m == 0.0 {
                continue;
            }
            for c in i..k {
                a[r][c] -= m * a[i][c];
            }
            w[r] -= m * w[i];
        }
    }
    // Back substitution over the active variables.
    let mut z = vec![0.0; k];
    for i in (0..k).rev() {
        if !active[i] {
            continue;
        }
        let mut s = w[i];
        for c in i + 1..k {
            s -= a[i][c] * z[c];
        }
        z[i] = s / a[i][i];
    }
    v.iter().zip(&z).map(|(a, b)| a * b).sum()
}

/// `F(known_y, known_x, const, stats)`: LINEST (`log` false) or LOGEST.
fn estimate(ctx: &mut Ctx<'_, '_>, args: &[Arg], log: bool) -> Value {
    let pr = tri!(problem(ctx, args, log));
    let constant = tri!(ctx.boolean_or(args, 2, true));
    let stats = tri!(ctx.boolean_or(args, 3, false));
    let f = tri!(fit(&pr.x, &pr.y, constant));
    let k = pr.x.len();
    let tr = |v: f64| if log { v.exp() } else { v };
    let num = |v: f64| {
        if v.is_finite() {
            Value::Number(v)
        } else {
            Value::Error(ErrorKind::Num)
        }
    };
    let mut data = Vec::new();
    // Coefficients in reverse order of the variables, then the constant.
    data.extend(f.coef.iter().rev().map(|&c| Value::Number(tr(c))));
    data.push(Value::Number(if constant { tr(f.b) } else { tr(0.0) }));
    if !stats {
        return Value::Array(Arc::new(Array::new(1, k + 1, data)));
    }
    let na = || Value::Error(ErrorKind::Na);
    data.extend(f.se.iter().rev().map(|&s| num(s)));
    data.push(f.se_b.map_or_else(na, num));
    let rows = [
        [num(f.r2), num(f.sey)],
        [num(f.f), Value::Number(f.df)],
        [Value::Number(f.ssreg), Value::Number(f.ssresid)],
    ];
    for r in rows {
        data.extend(r);
        data.extend((2..k + 1).map(|_| na()));
    }
    Value::Array(Arc::new(Array::new(5, k + 1, data)))
}

fn linest(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    estimate(ctx, args, false)
}

fn logest(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    estimate(ctx, args, true)
}

/// `F(known_y, known_x, new_x, const)`: TREND (`log` false) or GROWTH.
fn predict(ctx: &mut Ctx<'_, '_>, args: &[Arg], log: bool) -> Value {
    let pr = tri!(problem(ctx, args, log));
    let constant = tri!(ctx.boolean_or(args, 3, true));
    let f = tri!(fit(&pr.x, &pr.y, constant));
    let k = pr.x.len();
    // The points to predict at: new_x, else known_x (else 1..n), with their shape.
    let (rows, cols, points): (usize, usize, Vec<Vec<f64>>) = match super::args::opt(args, 2) {
        Some(a) => {
            let na = tri!(ctx.array(a));
            let xs = tri!(numbers_of(&na));
            if k == 1 {
                (na.rows, na.cols, xs.into_iter().map(|v| vec![v]).collect())
            } else if pr.layout == Layout::Columns {
                if na.cols != k {
                    return Value::Error(ErrorKind::Ref);
                }
                let pts = (0..na.rows)
                    .map(|i| xs[i * na.cols..(i + 1) * na.cols].to_vec())
                    .collect();
                (na.rows, 1, pts)
            } else {
                if na.rows != k {
                    return Value::Error(ErrorKind::Ref);
                }
                let pts = (0..na.cols)
                    .map(|c| (0..na.rows).map(|r| xs[r * na.cols + c]).collect())
                    .collect();
                (1, na.cols, pts)
            }
        }
        None => {
            let n = pr.y.len();
            let pts = (0..n)
                .map(|i| pr.x.iter().map(|c| c[i]).collect())
                .collect();
            let ya = tri!(ctx.array(&args[0]));
            (ya.rows, ya.cols, pts)
        }
    };
    let data = points
        .iter()
        .map(|p| {
            let v = f.b + f.coef.iter().zip(p).map(|(c, x)| c * x).sum::<f64>();
            Value::number(if log { v.exp() } else { v })
        })
        .collect();
    Value::Array(Arc::new(Array::new(rows, cols, data)))
}

fn trend(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    predict(ctx, args, false)
}

fn growth(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    predict(ctx, args, true)
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use crate::quick::{eval, eval_cells};
    use crate::value::Value;
    use mcsim_formula::ErrorKind;

    fn close(v: Value, want: f64, tol: f64) {
        match v {
            Value::Number(x) => assert!(
                (x - want).abs() <= tol * want.abs().max(1e-300),
                "{x} vs {want}"
            ),
            other => panic!("expected {want}, got {other:?}"),
        }
    }

    /// LINEST's help page, example 4: floor space, offices, entrances, age (A..D) and the
    /// assessed value (E) of 11 office buildings.
    const BUILDINGS: [[&str; 5]; 11] = [
        ["2310", "2", "2", "20", "142000"],
        ["2333", "2", "2", "12", "144000"],
        ["2356", "3", "1.5", "33", "151000"],
        ["2379", "3", "2", "43", "150000"],
        ["2402", "2", "3", "53", "139000"],
        ["2425", "4", "2", "23", "169000"],
        ["2448", "2", "1.5", "99", "126000"],
        ["2471", "2", "2", "34", "142900"],
        ["2494", "3", "3", "23", "163000"],
        ["2517", "4", "4", "55", "169000"],
        ["2540", "2", "3", "22", "149000"],
    ];

    fn buildings(formula: &str) -> Value {
        let mut refs = Vec::new();
        for (i, row) in BUILDINGS.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                refs.push((format!("{}{}", ["A", "B", "C", "D", "E"][j], i + 1), *v));
            }
        }
        let mut cells: Vec<(&str, &str)> = refs.iter().map(|(r, v)| (r.as_str(), *v)).collect();
        cells.push(("G1", formula));
        eval_cells(&cells, "G1")
    }

    #[test]
    fn linest_multiple_regression_with_statistics() {
        // Expected values: numpy.linalg.lstsq on the same data (the help page shows them rounded:
        // -234.2371645, 2553.21066, 12_529.76817, 27.64138737, 52_317.83051, ...), 1e-9 relative.
        let at = |r: usize, c: usize| {
            buildings(&format!("=INDEX(LINEST(E1:E11,A1:D11,TRUE,TRUE),{r},{c})"))
        };
        let want = [
            [
                -234.237_164_471_206_09,
                2_553.210_660_391_550_4,
                12_529.768_167_086_731,
                27.641_387_366_020_087,
                52_317.830_507_292_05,
            ],
            [
                13.268_011_475_500_312,
                530.669_151_930_368_9,
                400.066_838_193_952,
                5.429_374_041_545_029,
                12_237.361_602_861_673,
            ],
        ];
        for (r, row) in want.iter().enumerate() {
            for (c, w) in row.iter().enumerate() {
                close(at(r + 1, c + 1), *w, 1e-9);
            }
        }
        close(at(3, 1), 0.996_747_993_384_510_1, 1e-9);
        close(at(3, 2), 970.578_462_928_503_4, 1e-9);
        close(at(4, 1), 459.753_674_225_395_1, 1e-9);
        assert_eq!(at(4, 2), Value::Number(6.0));
        close(at(5, 1), 1_732_393_319.229_250_7, 1e-9);
        close(at(5, 2), 5_652_135.316_203_938, 1e-8);
        assert_eq!(at(3, 3), Value::Error(ErrorKind::Na));
        // Without statistics: one row.
        assert_eq!(
            buildings("=ROWS(LINEST(E1:E11,A1:D11))"),
            Value::Number(1.0)
        );
        // A variable that repeats another is dropped: coefficient 0, fit unchanged.
        close(
            eval("=INDEX(LINEST({1;2;3;5},{1,2;2,4;3,6;4,8}),1,1)"),
            0.0,
            0.0,
        );
        close(
            eval("=INDEX(LINEST({1;2;3;5},{1,2;2,4;3,6;4,8}),1,2)"),
            1.3,
            1e-12,
        );
    }

    #[test]
    fn regression_edge_cases_are_errors_not_panics() {
        // More variables than observations: no residual degrees of freedom.
        let v = eval("=INDEX(LINEST({1;2},{1,2,3;4,5,7},TRUE,TRUE),3,2)");
        assert_eq!(v, Value::Error(ErrorKind::Num));
        assert_eq!(eval("=LINEST({1;2;3},{1;2})"), Value::Error(ErrorKind::Ref));
        assert_eq!(eval("=LINEST({1;\"a\";3})"), Value::Error(ErrorKind::Value));
        // A constant y: the slope is 0.
        assert_eq!(eval("=INDEX(LINEST({2;2;2}),1,1)"), Value::Number(0.0));
    }

    #[test]
    fn linest_without_constant() {
        // numpy: y = m·x through the origin, x = 1..4, y = 2.1, 3.9, 6.2, 7.8.
        let f = |r: usize, c: usize| {
            eval(&format!(
                "=INDEX(LINEST({{2.1;3.9;6.2;7.8}},{{1;2;3;4}},FALSE,TRUE),{r},{c})"
            ))
        };
        close(f(1, 1), 1.99, 1e-12);
        assert_eq!(f(1, 2), Value::Number(0.0));
        close(f(2, 1), 0.032_829_526_005_987_08, 1e-9);
        assert_eq!(f(2, 2), Value::Error(ErrorKind::Na));
        close(f(3, 1), 0.999_184_188_393_608_1, 1e-9);
        close(f(3, 2), 0.179_814_719_456_816_04, 1e-9);
        close(f(4, 1), 3_674.319_587_628_852_3, 1e-9);
        assert_eq!(f(4, 2), Value::Number(3.0));
        close(f(5, 1), 118.803, 1e-12);
        close(f(5, 2), 0.097, 1e-9);
    }

    #[test]
    fn logest_growth_trend_match_help_pages() {
        // LOGEST/GROWTH help pages: months 11..16, units sold; numpy on ln(y).
        let units = "{33100;47300;69000;102000;150000;220000}";
        let months = "{11;12;13;14;15;16}";
        close(
            eval(&format!("=INDEX(LOGEST({units},{months}),1,1)")),
            1.463_275_628_116_174_7,
            1e-9,
        );
        close(
            eval(&format!("=INDEX(LOGEST({units},{months}),1,2)")),
            495.304_770_158_730_04,
            1e-9,
        );
        close(
            eval(&format!("=INDEX(GROWTH({units},{months},{{17;18}}),1)")),
            320_196.718_363_470_4,
            1e-9,
        );
        close(
            eval(&format!("=INDEX(GROWTH({units},{months},{{17;18}}),2)")),
            468_536.054_184_045_47,
            1e-9,
        );
        assert_eq!(eval("=GROWTH({1;-2;3})"), Value::Error(ErrorKind::Num));
        // TREND help page: costs of months 1..12, predicted for 13..17.
        let costs =
            "{133890;135000;135790;137300;138130;139100;139900;141120;141890;143230;144000;145290}";
        let want = [
            146_171.515_151_515_17,
            147_189.696_969_697,
            148_207.878_787_878_8,
            149_226.060_606_060_64,
            150_244.242_424_242_46,
        ];
        for (i, w) in want.iter().enumerate() {
            close(
                eval(&format!(
                    "=INDEX(TREND({costs},,{{13;14;15;16;17}}),{})",
                    i + 1
                )),
                *w,
                1e-9,
            );
        }
        // Without new_x: the fitted values at the known x, in y's shape.
        close(
            eval(&format!("=INDEX(TREND({costs}),1)")),
            133_953.333_333_333_28,
            1e-9,
        );
        assert_eq!(eval(&format!("=ROWS(TREND({costs}))")), Value::Number(12.0));
    }
}
