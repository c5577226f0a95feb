//! Bad parameters are rejected with a message naming the rule broken.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mcsim_sampling::{Distribution, Sampler};

#[test]
fn each_rule_is_named() {
    use Distribution::*;
    let cases: Vec<(Distribution, &str)> = vec![
        (
            Normal {
                mean: 10.0,
                sd: -2.0,
            },
            "RiskNormal: standard deviation must be positive, got -2",
        ),
        (
            Normal {
                mean: f64::NAN,
                sd: 1.0,
            },
            "mean must be a finite number",
        ),
        (
            Lognormal {
                mean: -1.0,
                sd: 1.0,
            },
            "RiskLognorm: mean must be positive",
        ),
        (
            Lognormal2 {
                mu: 0.0,
                sigma: 0.0,
            },
            "sigma must be positive",
        ),
        (
            Triangular {
                min: 3.0,
                mode: 5.0,
                max: 4.0,
            },
            "most likely value must lie between the minimum and the maximum, got min 3, most likely 5, max 4",
        ),
        (
            Triangular {
                min: 5.0,
                mode: 5.0,
                max: 1.0,
            },
            "minimum must be less than the maximum",
        ),
        (
            Trigen {
                bottom: 1.0,
                mode: 2.0,
                top: 3.0,
                bottom_pct: 0.1,
                top_pct: 0.05,
            },
            "top percentile must be greater than the bottom percentile",
        ),
        (
            Trigen {
                bottom: 1.0,
                mode: 2.0,
                top: 3.0,
                bottom_pct: -5.0,
                top_pct: 95.0,
            },
            "bottom percentile must be in [0, 100)",
        ),
        (
            Pert {
                min: 0.0,
                mode: 1.0,
                max: 2.0,
                lambda: 0.0,
            },
            "lambda must be positive",
        ),
        (
            Uniform { min: 1.0, max: 1.0 },
            "minimum must be less than the maximum",
        ),
        (
            Beta {
                alpha1: 0.0,
                alpha2: 1.0,
            },
            "alpha1 must be positive",
        ),
        (
            Gamma {
                shape: 1.0,
                scale: -1.0,
            },
            "scale (beta) must be positive",
        ),
        (
            Expon { mean: 0.0 },
            "RiskExpon: mean (beta) must be positive",
        ),
        (Poisson { lambda: -3.0 }, "lambda must be positive"),
        (
            Binomial { n: 2.5, p: 0.5 },
            "number of trials n must be a whole number, got 2.5",
        ),
        (
            Binomial { n: 10.0, p: 1.5 },
            "probability p must be a probability in [0, 1], got 1.5",
        ),
        (Bernoulli { p: -0.1 }, "must be a probability in [0, 1]"),
        (
            Negbin { s: 0.0, p: 0.5 },
            "number of successes s must be a positive whole number",
        ),
        (
            Geomet { p: 0.0 },
            "probability p must be a probability in (0, 1]",
        ),
        (
            Hypergeo {
                n: 20.0,
                d: 5.0,
                m: 10.0,
            },
            "sample size n must not exceed the population size M",
        ),
        (
            Discrete {
                values: vec![1.0, 2.0],
                weights: vec![1.0, -1.0],
            },
            "weights must not be negative, got -1",
        ),
        (
            Discrete {
                values: vec![1.0, 2.0],
                weights: vec![0.0, 0.0],
            },
            "weights must have a positive, finite sum",
        ),
        (
            Discrete {
                values: vec![1.0, 2.0, 3.0],
                weights: vec![1.0, 1.0],
            },
            "must have one entry per value",
        ),
        (DUniform { values: vec![] }, "values must not be empty"),
        (
            IntUniform { min: 1.5, max: 4.0 },
            "minimum must be a whole number",
        ),
        (
            Cumul {
                min: 0.0,
                max: 10.0,
                xs: vec![5.0, 3.0],
                ps: vec![0.2, 0.5],
            },
            "x values must be strictly increasing",
        ),
        (
            Cumul {
                min: 0.0,
                max: 10.0,
                xs: vec![3.0, 5.0],
                ps: vec![0.6, 0.5],
            },
            "cumulative probabilities must be non-decreasing",
        ),
        (
            General {
                min: 0.0,
                max: 10.0,
                xs: vec![3.0, 12.0],
                weights: vec![1.0, 1.0],
            },
            "between the minimum and the maximum",
        ),
        (
            CumulD {
                min: 0.0,
                max: 10.0,
                xs: vec![3.0, 5.0],
                ps: vec![0.5, 0.6],
            },
            "cumulative probabilities must be non-increasing",
        ),
        (
            Histogrm {
                min: 2.0,
                max: 1.0,
                probs: vec![1.0],
            },
            "minimum must not exceed the maximum",
        ),
        (
            Laplace {
                mu: 0.0,
                sigma: -1.0,
            },
            "scale (sigma) must not be negative",
        ),
        (Levy { a: 0.0, c: 0.0 }, "scale (c) must be positive"),
        (Rayleigh { beta: -1.0 }, "scale (beta) must be positive"),
        (
            Pearson5 {
                alpha: 0.0,
                beta: 1.0,
            },
            "shape (alpha) must be positive",
        ),
        (
            Pearson6 {
                beta1: 1.0,
                beta2: -1.0,
                beta: 1.0,
            },
            "shape (beta2) must be positive",
        ),
        (
            InvGauss {
                mu: 1.0,
                lambda: 0.0,
            },
            "shape (lambda) must be positive",
        ),
        (
            ExtValueMin {
                alpha: 0.0,
                beta: 0.0,
            },
            "scale (beta) must be positive",
        ),
        (
            Histogrm {
                min: 0.0,
                max: 10.0,
                probs: vec![],
            },
            "class probabilities must not be empty",
        ),
        (
            Loglogistic {
                gamma: 0.0,
                beta: 1.0,
                alpha: -2.0,
            },
            "shape (alpha) must be positive",
        ),
        (
            Pareto { theta: 0.0, a: 1.0 },
            "shape (theta) must be positive",
        ),
        (
            Student { nu: 0.0 },
            "degrees of freedom (nu) must be positive",
        ),
        (
            Erlang { m: 2.5, beta: 1.0 },
            "shape (m) must be a whole number",
        ),
        (
            ExtValue {
                alpha: 0.0,
                beta: -1.0,
            },
            "scale (beta) must be positive",
        ),
    ];
    for (d, needle) in cases {
        let err = d.validate().unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{d:?}: `{err}` lacks `{needle}`"
        );
        assert!(Sampler::new(&d).is_err());
        assert!(d.mean().is_nan() && d.quantile(0.5).is_nan());
    }
}
