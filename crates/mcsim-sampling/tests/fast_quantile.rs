//! The tabulated quantiles of the beta, gamma and Student families (what [`Sampler`] uses) against
//! the exact inverse (what [`Distribution::quantile`] computes, by Halley iteration on the
//! incomplete functions), over 10⁵ uniforms: Monte Carlo draws plus the extremes of the grid and
//! the region boundaries.
//!
//! The tolerance is 1e-12 × the interquartile range, plus 1e-12 × the distance of x from the
//! nearer end of the support (|x| on an unbounded side), plus 4 ulps of x for the output's rounding.
#![allow(clippy::unwrap_used)]

use mcsim_sampling::{Distribution, Sampler, Streams};

fn check(d: &Distribution, lower: f64, upper: f64, n: usize) {
    let s = Sampler::new(d).unwrap();
    let iqr = d.quantile(0.75) - d.quantile(0.25);
    let mut us = vec![0.0; n];
    Streams::new(99).fill_uniforms(0, 0, &mut us);
    let tiny = 2f64.powi(-53);
    us.extend_from_slice(&[
        tiny,
        1.0 - tiny,
        1e-12,
        1.0 - 1e-12,
        1e-6,
        1.0 - 1e-6,
        1.0 / 64.0,
        63.0 / 64.0,
        0.5,
    ]);
    let mut differ = 0;
    for &u in &us {
        let fast = s.quantile(u);
        let exact = d.quantile(u);
        let dist = (exact - lower).min(upper - exact);
        let dist = if dist.is_finite() { dist } else { exact.abs() };
        let tol = 1e-12 * iqr + 1e-12 * dist.abs() + 4.0 * f64::EPSILON * exact.abs();
        let err = (fast - exact).abs() / tol;
        assert!(
            err <= 1.0,
            "{d:?} u={u:e}: {fast} vs {exact} ({err} tolerances)"
        );
        differ += usize::from(fast != exact);
    }
    // The table is in use (the two paths round differently).
    assert!(differ > n / 10, "{d:?}: {differ} of {n} differ");
}

#[test]
fn pert_and_beta_match_the_exact_inverse() {
    let pert = |min: f64, mode: f64, max: f64| Distribution::Pert {
        min,
        mode,
        max,
        lambda: 4.0,
    };
    check(&pert(10.0, 12.0, 20.0), 10.0, 20.0, 100_000);
    check(&pert(0.0, 50.0, 100.0), 0.0, 100.0, 20_000);
    check(&pert(-1e6, -1e6 + 1.0, 2e6), -1e6, 2e6, 20_000);
    check(&pert(0.0, 0.0, 1.0), 0.0, 1.0, 20_000);
    for &(a, b) in &[(0.5, 0.5), (50.0, 2.0), (2.0, 50.0), (0.3, 4.0), (1.0, 1.0)] {
        let beta = Distribution::Beta {
            alpha1: a,
            alpha2: b,
        };
        check(&beta, 0.0, 1.0, 20_000);
    }
    let general = Distribution::BetaGeneral {
        alpha1: 2.0,
        alpha2: 5.0,
        min: 100.0,
        max: 250.0,
    };
    check(&general, 100.0, 250.0, 20_000);
}

#[test]
fn gamma_family_matches_the_exact_inverse() {
    let inf = f64::INFINITY;
    let gamma = |shape: f64, scale: f64| Distribution::Gamma { shape, scale };
    check(&gamma(2.5, 1.0), 0.0, inf, 100_000);
    for &shape in &[0.3, 1.0, 7.0, 200.0] {
        check(&gamma(shape, 3.0), 0.0, inf, 20_000);
    }
    check(
        &Distribution::Erlang { m: 3.0, beta: 2.0 },
        0.0,
        inf,
        20_000,
    );
    check(&Distribution::ChiSq { nu: 5.0 }, 0.0, inf, 20_000);
}

#[test]
fn student_matches_the_exact_inverse() {
    let inf = f64::INFINITY;
    for &nu in &[3.0, 5.5, 30.0] {
        check(&Distribution::Student { nu }, -inf, inf, 20_000);
    }
}
