//! Every distribution at a fixed seed, 20,000 Monte Carlo samples:
//! - continuous: Kolmogorov-Smirnov against the CDF, D < 1.63/√n (α = 0.01);
//! - discrete: chi-square of the empirical pmf against the exact pmf (bins pooled to expected
//!   counts >= 5) below the α = 0.001 critical value;
//! - sample mean and variance within 4 standard errors of the closed forms (the variance's
//!   standard error from the sample's fourth central moment).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use mcsim_sampling::{Distribution, Method, Modifiers, Sampler, Streams, Truncation};

const N: usize = 20_000;
const SEED: u64 = 20_240_601;

fn draw(sampler: &Sampler, input: u64, method: Method) -> Vec<f64> {
    let mut xs = vec![0.0; N];
    sampler.sample_into(method, &Streams::new(SEED), input, N as u64, 0, &mut xs);
    xs
}

fn ks_statistic(xs: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len() as f64;
    s.iter()
        .enumerate()
        .map(|(i, &x)| {
            // F(x−) below the sample and F(x) at it, so an atom (a run of ties) is compared
            // with its jump.
            let (below, at) = (cdf(x.next_down()), cdf(x));
            (below - i as f64 / n).max((i + 1) as f64 / n - at)
        })
        .fold(0.0, f64::max)
}

/// Chi-square critical value at α = 0.001 (Wilson–Hilferty).
fn chi2_critical(df: f64) -> f64 {
    let z = 3.090_232;
    let h = 2.0 / (9.0 * df);
    df * (1.0 - h + z * h.sqrt()).powi(3)
}

/// Chi-square test of samples against `support` (ascending; first bin takes everything at or
/// below support[0], last everything above the second-to-last point).
fn chi_square(xs: &[f64], support: &[f64], cdf: impl Fn(f64) -> f64) -> (f64, f64) {
    let k = support.len();
    let mut expected: Vec<f64> = (0..k)
        .map(|i| {
            let hi = if i + 1 == k { 1.0 } else { cdf(support[i]) };
            let lo = if i == 0 { 0.0 } else { cdf(support[i - 1]) };
            (hi - lo) * xs.len() as f64
        })
        .collect();
    let mut observed = vec![0.0; k];
    for &x in xs {
        let i = support.partition_point(|&v| v < x).min(k - 1);
        observed[i] += 1.0;
    }
    // Pool adjacent bins until each expects >= 5.
    let (mut e_pooled, mut o_pooled) = (vec![], vec![]);
    let (mut e_acc, mut o_acc) = (0.0, 0.0);
    for i in 0..k {
        e_acc += expected[i];
        o_acc += observed[i];
        if e_acc >= 5.0 {
            e_pooled.push(e_acc);
            o_pooled.push(o_acc);
            e_acc = 0.0;
            o_acc = 0.0;
        }
    }
    if let (Some(e), Some(o)) = (e_pooled.last_mut(), o_pooled.last_mut()) {
        *e += e_acc;
        *o += o_acc;
    }
    expected.clear();
    let stat: f64 = e_pooled
        .iter()
        .zip(&o_pooled)
        .map(|(e, o)| (o - e) * (o - e) / e)
        .sum();
    let df = (e_pooled.len() as f64 - 1.0).max(1.0);
    (stat, chi2_critical(df))
}

fn check_moments(name: &str, xs: &[f64], mean: f64, var: f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let s2 = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let se_mean = (var / n).sqrt();
    let se_var = ((m4 - s2 * s2).max(0.0) / n).sqrt();
    assert!(
        (m - mean).abs() <= 4.0 * se_mean,
        "{name}: sample mean {m} vs {mean} (4 SE = {})",
        4.0 * se_mean
    );
    assert!(
        (s2 - var).abs() <= 4.0 * se_var,
        "{name}: sample variance {s2} vs {var} (4 SE = {})",
        4.0 * se_var
    );
}

fn continuous_cases() -> Vec<(Distribution, bool)> {
    use Distribution::*;
    // (distribution, whether its fourth moment is finite so the moment test applies)
    vec![
        (
            Normal {
                mean: 10.0,
                sd: 2.0,
            },
            true,
        ),
        (
            Lognormal {
                mean: 10.0,
                sd: 4.0,
            },
            true,
        ),
        (
            Lognormal2 {
                mu: 1.0,
                sigma: 0.5,
            },
            true,
        ),
        (
            Triangular {
                min: 1.0,
                mode: 3.0,
                max: 10.0,
            },
            true,
        ),
        (
            Triangular {
                min: 0.0,
                mode: 0.0,
                max: 1.0,
            },
            true,
        ),
        (
            Trigen {
                bottom: 2.0,
                mode: 5.0,
                top: 9.0,
                bottom_pct: 10.0,
                top_pct: 90.0,
            },
            true,
        ),
        (
            Pert {
                min: 10.0,
                mode: 12.0,
                max: 20.0,
                lambda: 4.0,
            },
            true,
        ),
        (
            Pert {
                min: 0.0,
                mode: 0.0,
                max: 5.0,
                lambda: 4.0,
            },
            true,
        ),
        (
            Uniform {
                min: -3.0,
                max: 7.0,
            },
            true,
        ),
        (
            Beta {
                alpha1: 0.5,
                alpha2: 0.5,
            },
            true,
        ),
        (
            Beta {
                alpha1: 2.0,
                alpha2: 5.0,
            },
            true,
        ),
        (
            BetaGeneral {
                alpha1: 2.0,
                alpha2: 3.0,
                min: 10.0,
                max: 20.0,
            },
            true,
        ),
        (
            Gamma {
                shape: 0.5,
                scale: 2.0,
            },
            true,
        ),
        (
            Gamma {
                shape: 7.5,
                scale: 1.5,
            },
            true,
        ),
        (
            Weibull {
                shape: 1.5,
                scale: 3.0,
            },
            true,
        ),
        (
            Weibull {
                shape: 0.7,
                scale: 1.0,
            },
            true,
        ),
        (Expon { mean: 4.0 }, true),
        (
            Logistic {
                alpha: 2.0,
                beta: 1.5,
            },
            true,
        ),
        (
            Loglogistic {
                gamma: 1.0,
                beta: 2.0,
                alpha: 6.0,
            },
            true,
        ),
        (Pareto { theta: 5.0, a: 2.0 }, true),
        (Pareto { theta: 1.5, a: 1.0 }, false),
        (Student { nu: 10.0 }, true),
        (Student { nu: 1.0 }, false),
        (Student { nu: 2.0 }, false),
        (Student { nu: 3.5 }, false),
        (ChiSq { nu: 3.0 }, true),
        (Erlang { m: 3.0, beta: 2.0 }, true),
        (
            ExtValue {
                alpha: 5.0,
                beta: 2.0,
            },
            true,
        ),
        (
            Cumul {
                min: 0.0,
                max: 10.0,
                xs: vec![2.0, 5.0, 7.0],
                ps: vec![0.1, 0.6, 0.9],
            },
            true,
        ),
        (
            Cumul {
                min: 0.0,
                max: 4.0,
                xs: vec![1.0, 2.0, 3.0],
                ps: vec![0.3, 0.3, 0.5],
            },
            true,
        ),
        (
            General {
                min: 0.0,
                max: 10.0,
                xs: vec![2.0, 5.0, 8.0],
                weights: vec![1.0, 3.0, 1.0],
            },
            true,
        ),
        (
            General {
                min: 0.0,
                max: 6.0,
                xs: vec![1.0, 2.0, 4.0],
                weights: vec![2.0, 0.0, 2.0],
            },
            true,
        ),
        (
            Histogrm {
                min: 0.0,
                max: 10.0,
                probs: vec![1.0, 2.0, 0.0, 4.0],
            },
            true,
        ),
        // Points equal to min and max: atoms of 0.2 at 0 and 0.1 at 10.
        (
            Cumul {
                min: 0.0,
                max: 10.0,
                xs: vec![0.0, 5.0, 10.0],
                ps: vec![0.2, 0.5, 0.9],
            },
            true,
        ),
        (
            CumulD {
                min: 0.0,
                max: 10.0,
                xs: vec![1.0, 5.0, 9.0],
                ps: vec![0.9, 0.3, 0.1],
            },
            true,
        ),
        (
            General {
                min: 0.0,
                max: 10.0,
                xs: vec![0.0, 5.0, 10.0],
                weights: vec![1.0, 2.0, 1.0],
            },
            true,
        ),
        (
            ExtValueMin {
                alpha: 5.0,
                beta: 2.0,
            },
            true,
        ),
        (
            Laplace {
                mu: 10.0,
                sigma: 20.0,
            },
            true,
        ),
        (Levy { a: 1.0, c: 2.0 }, false),
        (Rayleigh { beta: 3.0 }, true),
        (
            Pearson5 {
                alpha: 6.0,
                beta: 10.0,
            },
            true,
        ),
        (
            Pearson6 {
                beta1: 2.0,
                beta2: 7.0,
                beta: 3.0,
            },
            true,
        ),
        (
            InvGauss {
                mu: 3.0,
                lambda: 5.0,
            },
            true,
        ),
        (
            InvGauss {
                mu: 1.0,
                lambda: 400.0,
            },
            true,
        ),
    ]
}

/// @RISK's rules for the piecewise distributions: x points may equal min or max
/// (RiskCumul(0,10,{0,5,10},{0,0.5,1}) is accepted), must increase strictly and stay within
/// [min, max]; RiskHistogrm accepts min = max; RiskCumulD takes descending probabilities.
#[test]
fn piecewise_argument_rules_follow_risk() {
    use Distribution::*;
    let ok = |d: Distribution| d.validate().unwrap_or_else(|e| panic!("{d:?}: {e}"));
    let refused = |d: Distribution| assert!(d.validate().is_err(), "{d:?} must be refused");
    ok(Cumul {
        min: 0.0,
        max: 10.0,
        xs: vec![0.0, 5.0, 10.0],
        ps: vec![0.0, 0.5, 1.0],
    });
    let d = Cumul {
        min: 0.0,
        max: 10.0,
        xs: vec![0.0, 5.0, 10.0],
        ps: vec![0.0, 0.5, 1.0],
    };
    // The same as RiskCumul(0,10,{5},{0.5}).
    assert!((d.mean() - 5.0).abs() < 1e-12);
    assert!((d.cdf(2.5) - 0.25).abs() < 1e-12);
    assert!((d.quantile(0.75) - 7.5).abs() < 1e-12);
    ok(General {
        min: 0.0,
        max: 10.0,
        xs: vec![0.0, 10.0],
        weights: vec![1.0, 1.0],
    });
    refused(Cumul {
        min: 0.0,
        max: 10.0,
        xs: vec![-1.0, 5.0],
        ps: vec![0.1, 0.5],
    });
    refused(Cumul {
        min: 0.0,
        max: 10.0,
        xs: vec![5.0, 11.0],
        ps: vec![0.1, 0.5],
    });
    refused(Cumul {
        min: 0.0,
        max: 10.0,
        xs: vec![5.0, 5.0],
        ps: vec![0.1, 0.5],
    });
    refused(Cumul {
        min: 0.0,
        max: 10.0,
        xs: vec![2.0, 5.0],
        ps: vec![0.6, 0.5],
    });
    // RiskCumulD(0,10,{1,5,9},{0.9,0.3,0.1}): 70% of the values are <= 5 (help example).
    let d = CumulD {
        min: 0.0,
        max: 10.0,
        xs: vec![1.0, 5.0, 9.0],
        ps: vec![0.9, 0.3, 0.1],
    };
    d.validate().unwrap();
    assert!((d.cdf(5.0) - 0.7).abs() < 1e-12);
    assert!((d.cdf(1.0) - 0.1).abs() < 1e-12);
    assert_eq!(d.function_name(), "RiskCumulD");
    refused(CumulD {
        min: 0.0,
        max: 10.0,
        xs: vec![1.0, 5.0, 9.0],
        ps: vec![0.1, 0.7, 0.9],
    });
    // RiskHistogrm(5,5,{1,2}) is the constant 5; min > max is refused.
    let h = Histogrm {
        min: 5.0,
        max: 5.0,
        probs: vec![1.0, 2.0],
    };
    h.validate().unwrap();
    assert_eq!(h.mean(), 5.0);
    assert_eq!(h.variance(), 0.0);
    assert_eq!(h.quantile(0.3), 5.0);
    refused(Histogrm {
        min: 6.0,
        max: 5.0,
        probs: vec![1.0],
    });
    // RiskLaplace(μ, 0) is supported (degenerate); a negative σ is not.
    let l = Laplace {
        mu: 3.0,
        sigma: 0.0,
    };
    l.validate().unwrap();
    assert_eq!(l.quantile(0.9), 3.0);
    refused(Laplace {
        mu: 3.0,
        sigma: -1.0,
    });
    refused(Pearson5 {
        alpha: 0.0,
        beta: 1.0,
    });
    refused(InvGauss {
        mu: 1.0,
        lambda: 0.0,
    });
}

/// The new distributions against independent forms: Pearson5 = β/Gamma(α, 1),
/// Pearson6 = β·B/(1 − B) with B ~ Beta, Rayleigh's median β√(2 ln 2), Lévy's median
/// a + c/(2·erfc⁻¹(½)²), ExtValueMin = −ExtValue(−α, β).
#[test]
fn new_distributions_match_independent_forms() {
    use Distribution::*;
    let p5 = Pearson5 {
        alpha: 3.0,
        beta: 2.0,
    };
    let g = Gamma {
        shape: 3.0,
        scale: 0.5,
    };
    let p6 = Pearson6 {
        beta1: 2.0,
        beta2: 3.0,
        beta: 4.0,
    };
    let b = Beta {
        alpha1: 2.0,
        alpha2: 3.0,
    };
    let emin = ExtValueMin {
        alpha: 1.0,
        beta: 2.0,
    };
    let emax = ExtValue {
        alpha: -1.0,
        beta: 2.0,
    };
    for &x in &[0.1, 0.5, 1.0, 2.0, 7.5] {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-10;
        assert!(close(p5.cdf(x), 1.0 - g.cdf(1.0 / x)), "Pearson5 at {x}");
        assert!(close(p6.cdf(x), b.cdf(x / (x + 4.0))), "Pearson6 at {x}");
        assert!(close(emin.cdf(x), 1.0 - emax.cdf(-x)), "ExtValueMin at {x}");
    }
    for &u in &[0.01, 0.3, 0.5, 0.9, 0.999] {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.abs().max(1.0);
        assert!(close(p5.quantile(u), 1.0 / g.quantile(1.0 - u)), "{u}");
        let bq = b.quantile(u);
        assert!(close(p6.quantile(u), 4.0 * bq / (1.0 - bq)), "{u}");
        let ig = InvGauss {
            mu: 2.0,
            lambda: 3.0,
        };
        assert!((ig.cdf(ig.quantile(u)) - u).abs() < 1e-12, "InvGauss {u}");
    }
    let r = Rayleigh { beta: 3.0 };
    assert!((r.quantile(0.5) - 3.0 * (2.0 * 2f64.ln()).sqrt()).abs() < 1e-12);
    // Lévy median: erfc(s/√2)=½ at s = 0.674489750196082 (the normal's 75th percentile).
    let l = Levy { a: 1.0, c: 2.0 };
    let s = 0.674_489_750_196_081_7_f64;
    assert!((l.quantile(0.5) - (1.0 + 2.0 / (s * s))).abs() < 1e-9);
    // The Laplace's σ is its standard deviation: P(|X − μ| <= σ) = 1 − exp(−√2).
    let lp = Laplace {
        mu: 10.0,
        sigma: 20.0,
    };
    let inside = lp.cdf(30.0) - lp.cdf(-10.0);
    assert!((inside - (1.0 - (-(2f64).sqrt()).exp())).abs() < 1e-12);
}

#[test]
fn continuous_distributions_pass_ks_and_moment_tests() {
    let limit = 1.63 / (N as f64).sqrt();
    for (input, (d, moments)) in continuous_cases().into_iter().enumerate() {
        let s = Sampler::new(&d).unwrap();
        let xs = draw(&s, input as u64, Method::MonteCarlo);
        let ks = ks_statistic(&xs, |x| d.cdf(x));
        assert!(ks < limit, "{d:?}: KS D = {ks} >= {limit}");
        if moments {
            check_moments(&format!("{d:?}"), &xs, d.mean(), d.variance());
        }
        // LHS draws the same distribution, more evenly.
        let lhs = draw(&s, input as u64, Method::LatinHypercube);
        let ks_lhs = ks_statistic(&lhs, |x| d.cdf(x));
        assert!(ks_lhs < limit, "{d:?}: LHS KS D = {ks_lhs}");
    }
}

fn discrete_cases() -> Vec<Distribution> {
    use Distribution::*;
    vec![
        Poisson { lambda: 3.5 },
        Poisson { lambda: 250.0 },
        Binomial { n: 20.0, p: 0.3 },
        Binomial { n: 1000.0, p: 0.02 },
        Bernoulli { p: 0.3 },
        Negbin { s: 3.0, p: 0.4 },
        Negbin { s: 2.0, p: 1e-6 },
        Geomet { p: 0.2 },
        Hypergeo {
            n: 10.0,
            d: 30.0,
            m: 100.0,
        },
        Discrete {
            values: vec![1.0, 5.0, 2.0, 10.0],
            weights: vec![0.1, 0.2, 0.3, 0.4],
        },
        DUniform {
            values: vec![3.0, 1.0, 4.0, 1.5, 9.0],
        },
        IntUniform {
            min: -2.0,
            max: 5.0,
        },
    ]
}

fn support_of(d: &Distribution, xs: &[f64]) -> Vec<f64> {
    match d {
        Distribution::Discrete { values, .. } | Distribution::DUniform { values } => {
            let mut v = values.clone();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        }
        _ => {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let count = (hi - lo) as usize + 1;
            if count > 5000 {
                // Wide supports (the untabulated negative binomial): 200 quantile bins.
                let mut v: Vec<f64> = (1..200).map(|i| d.quantile(i as f64 / 200.0)).collect();
                v.push(hi);
                v.dedup();
                v
            } else {
                (0..count).map(|i| lo + i as f64).collect()
            }
        }
    }
}

#[test]
fn discrete_distributions_pass_chi_square_and_moment_tests() {
    for (input, d) in discrete_cases().into_iter().enumerate() {
        let s = Sampler::new(&d).unwrap();
        let xs = draw(&s, 100 + input as u64, Method::MonteCarlo);
        let support = support_of(&d, &xs);
        if !matches!(
            d,
            Distribution::Discrete { .. } | Distribution::DUniform { .. }
        ) {
            assert!(
                xs.iter().all(|x| x.fract() == 0.0),
                "{d:?}: non-integer sample"
            );
        } else {
            assert!(
                xs.iter().all(|x| support.contains(x)),
                "{d:?}: value outside the list"
            );
        }
        let (stat, crit) = chi_square(&xs, &support, |x| d.cdf(x));
        assert!(stat < crit, "{d:?}: chi-square {stat} >= {crit}");
        check_moments(&format!("{d:?}"), &xs, d.mean(), d.variance());
    }
}

#[test]
fn quantile_is_the_smallest_x_with_cdf_at_least_u() {
    for d in discrete_cases() {
        if matches!(d, Distribution::Negbin { p, .. } if p < 1e-3) {
            continue;
        }
        for i in 1..100 {
            let u = i as f64 / 100.0 + 1e-7;
            let x = d.quantile(u);
            assert!(d.cdf(x) >= u - 1e-12, "{d:?} u={u} x={x}");
            let below = match d {
                Distribution::Discrete { .. } | Distribution::DUniform { .. } => x - 1e-9,
                _ => x - 1.0,
            };
            assert!(
                d.cdf(below) < u,
                "{d:?} u={u} x={x}: a smaller value qualifies"
            );
        }
    }
}

#[test]
fn closed_forms_match_the_risk_documented_moments() {
    // Independent of the prepared parameters the sampler uses.
    let pert = Distribution::Pert {
        min: 10.0,
        mode: 12.0,
        max: 20.0,
        lambda: 4.0,
    };
    assert!((pert.mean() - (10.0 + 4.0 * 12.0 + 20.0) / 6.0).abs() < 1e-12);
    let ln = Distribution::Lognormal {
        mean: 10.0,
        sd: 4.0,
    };
    let s2 = (1.0f64 + 0.16).ln();
    let ln2 = Distribution::Lognormal2 {
        mu: 10f64.ln() - 0.5 * s2,
        sigma: s2.sqrt(),
    };
    assert!((ln2.mean() - 10.0).abs() < 1e-12 && (ln2.variance() - 16.0).abs() < 1e-10);
    assert!((ln.quantile(0.3) - ln2.quantile(0.3)).abs() < 1e-12);
    let chi = Distribution::ChiSq { nu: 3.0 };
    let gam = Distribution::Gamma {
        shape: 1.5,
        scale: 2.0,
    };
    assert!((chi.quantile(0.95) - 7.814_727_903_251_178).abs() < 1e-11);
    assert!((chi.quantile(0.95) - gam.quantile(0.95)).abs() < 1e-12);
    // Trigen: the bottom/top values sit at their percentiles.
    let tg = Distribution::Trigen {
        bottom: 2.0,
        mode: 5.0,
        top: 9.0,
        bottom_pct: 10.0,
        top_pct: 90.0,
    };
    assert!((tg.cdf(2.0) - 0.10).abs() < 1e-12, "{}", tg.cdf(2.0));
    assert!((tg.cdf(9.0) - 0.90).abs() < 1e-12, "{}", tg.cdf(9.0));
    // Geomet counts failures: P(0) = p.
    let g = Distribution::Geomet { p: 0.2 };
    assert!((g.cdf(0.0) - 0.2).abs() < 1e-15 && g.quantile(0.1) == 0.0);
    // Normal quantile reference.
    let n = Distribution::Normal { mean: 0.0, sd: 1.0 };
    assert!((n.quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-15);
}

#[test]
fn truncation_and_shift_follow_risk_semantics() {
    let d = Distribution::Normal {
        mean: 10.0,
        sd: 5.0,
    };
    let m = Modifiers {
        truncate: Some(Truncation {
            min: Some(8.0),
            max: Some(13.0),
        }),
        shift: 100.0,
    };
    let s = Sampler::with_modifiers(&d, m).unwrap();
    for method in [Method::MonteCarlo, Method::LatinHypercube] {
        let xs = draw(&s, 7, method);
        assert!(xs.iter().all(|&x| (108.0..=113.0).contains(&x)));
        let ks = ks_statistic(&xs, |x| s.cdf(x));
        assert!(ks < 1.63 / (N as f64).sqrt(), "{method:?} KS {ks}");
        check_moments("truncated normal", &xs, s.mean(), s.variance());
    }
    // One-sided truncation deep in the upper tail keeps its accuracy (P(X >= 8σ) ≈ 6e-16).
    let tail = Sampler::with_modifiers(
        &Distribution::Normal { mean: 0.0, sd: 1.0 },
        Modifiers {
            truncate: Some(Truncation {
                min: Some(8.0),
                max: None,
            }),
            shift: 0.0,
        },
    )
    .unwrap();
    let xs = draw(&tail, 8, Method::MonteCarlo);
    assert!(xs.iter().all(|&x| (8.0..13.0).contains(&x)));
    let mean = xs.iter().sum::<f64>() / N as f64;
    // E[X | X > 8] = φ(8)/(1 − Φ(8)) ≈ 8.1226.
    assert!((mean - 8.1226).abs() < 0.01, "{mean}");

    // Discrete truncation keeps both bounds (inclusive).
    let p = Sampler::with_modifiers(
        &Distribution::Poisson { lambda: 4.0 },
        Modifiers {
            truncate: Some(Truncation {
                min: Some(2.0),
                max: Some(5.0),
            }),
            shift: 0.0,
        },
    )
    .unwrap();
    let xs = draw(&p, 9, Method::LatinHypercube);
    for v in 2..=5 {
        assert!(xs.contains(&(v as f64)), "missing {v}");
    }
    assert!(xs.iter().all(|&x| (2.0..=5.0).contains(&x)));

    // An empty window is an error naming the rule.
    let err = Sampler::with_modifiers(
        &Distribution::Uniform { min: 0.0, max: 1.0 },
        Modifiers {
            truncate: Some(Truncation {
                min: Some(2.0),
                max: Some(3.0),
            }),
            shift: 0.0,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("positive probability"), "{err}");
}

#[test]
fn distributions_round_trip_through_json() {
    for (d, _) in continuous_cases() {
        let json = serde_json::to_string(&d).unwrap();
        let back: Distribution = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }
    let d: Distribution =
        serde_json::from_str(r#"{"type":"pert","min":1,"mode":2,"max":5}"#).unwrap();
    assert_eq!(
        d,
        Distribution::Pert {
            min: 1.0,
            mode: 2.0,
            max: 5.0,
            lambda: 4.0
        }
    );
}

#[test]
fn the_tests_detect_small_errors() {
    // The same checks reject a 0.05 sd error in the mean and a 3% error in a Poisson rate.
    let d = Distribution::Normal {
        mean: 10.0,
        sd: 2.0,
    };
    let xs = draw(&Sampler::new(&d).unwrap(), 0, Method::MonteCarlo);
    let wrong = Distribution::Normal {
        mean: 10.1,
        sd: 2.0,
    };
    assert!(ks_statistic(&xs, |x| wrong.cdf(x)) > 1.63 / (N as f64).sqrt());
    let moments = std::panic::catch_unwind(|| check_moments("wrong", &xs, 10.1, 4.0));
    assert!(moments.is_err());

    let p = Distribution::Poisson { lambda: 3.5 };
    let xs = draw(&Sampler::new(&p).unwrap(), 100, Method::MonteCarlo);
    let wrong = Distribution::Poisson { lambda: 3.6 };
    let (stat, crit) = chi_square(&xs, &support_of(&p, &xs), |x| wrong.cdf(x));
    assert!(stat > crit, "chi-square {stat} <= {crit}");
}

/// Whether this test process takes the AVX-512 paths (`wide_lanes`); elsewhere both sides of the
/// comparisons below are the baseline and the tests say so.
fn wide() -> bool {
    #[cfg(target_arch = "x86_64")]
    return mcsim_sampling::wide_lanes();
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[test]
fn the_wide_transform_gives_the_baseline_bits() {
    if !wide() {
        eprintln!("no AVX-512 here: both transforms below are the baseline");
    }
    // Uniforms over the whole of (0, 1): a Latin Hypercube design (every region of AS241 and of
    // the tables), the extremes of the grid, and the normal's branch points from both sides.
    let mut us = vec![0.0; 4099];
    Streams::new(SEED).fill_lhs_uniforms(3, us.len() as u64, 0, &mut us);
    let g = 2f64.powi(-53);
    us.extend([
        g,
        3.0 * g,
        0.075,
        0.074_999_999,
        0.075_000_001,
        0.5,
        0.925,
        1.0 - g,
    ]);
    let modifiers = [
        Modifiers::default(),
        Modifiers {
            truncate: Some(Truncation {
                min: Some(-1.0),
                max: Some(12.0),
            }),
            shift: 2.5,
        },
    ];
    let cases = continuous_cases()
        .into_iter()
        .map(|(d, _)| d)
        .chain(discrete_cases());
    let mut compared = 0;
    for d in cases {
        for m in modifiers {
            // A window that leaves nothing of the distribution is refused: nothing to compare.
            let Ok(s) = Sampler::with_modifiers(&d, m) else {
                continue;
            };
            let (mut got, mut want) = (us.clone(), us.clone());
            s.transform(&mut got);
            s.transform_baseline(&mut want);
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "{d:?} {m:?} at u = {}", us[i]);
            }
            compared += 1;
        }
    }
    assert!(compared > 60, "{compared} samplers compared");
}
