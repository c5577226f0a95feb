//! Comparing two runs of the same output.

use serde::Serialize;

use crate::Summary;
use crate::summary::{Z95, sorted_finite};

/// One percentile in both runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PercentileDiff {
    /// Level as a fraction.
    pub p: f64,
    /// Value in run A.
    pub a: f64,
    /// Value in run B.
    pub b: f64,
    /// `b - a`.
    pub diff: f64,
}

/// Two-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KsTest {
    /// `D = sup |F_a(x) - F_b(x)|` over the empirical CDFs (exact, ties handled).
    pub statistic: f64,
    /// Asymptotic p-value: the Kolmogorov distribution's tail at
    /// `(sqrt(m) + 0.12 + 0.11 / sqrt(m)) * D` with `m = na * nb / (na + nb)` (Stephens' correction).
    pub p_value: f64,
}

/// Run B compared with run A (`diff` is always `b - a`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Mean of A.
    pub mean_a: f64,
    /// Mean of B.
    pub mean_b: f64,
    /// `mean_b - mean_a`.
    pub mean_diff: f64,
    /// Standard error of the difference, `sqrt(se_a² + se_b²)`.
    pub std_error_diff: f64,
    /// Welch's t-statistic, `mean_diff / std_error_diff`.
    pub welch_t: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub welch_df: f64,
    /// Whether the means differ by more than Monte Carlo error: `|welch_t| > 1.96` (a two-sided
    /// 5 % test, using the normal approximation, which is what Monte Carlo sample sizes justify).
    pub mean_differs: bool,
    /// `std_dev_b - std_dev_a`.
    pub std_dev_diff: f64,
    /// Percentiles reported in both summaries.
    pub percentiles: Vec<PercentileDiff>,
    /// Kolmogorov-Smirnov test, when the samples were available ([`compare_samples`]).
    pub ks: Option<KsTest>,
}

/// Compares two summaries. No KS test (it needs the samples; see [`compare_samples`]).
///
/// ```
/// use mcsim_results::{Summary, compare};
/// let a: Vec<f64> = (0..1000).map(|i| (i % 100) as f64).collect();
/// let b: Vec<f64> = a.iter().map(|x| x + 10.0).collect();
/// let c = compare(&Summary::new(&a, 0), &Summary::new(&b, 0));
/// assert_eq!(c.mean_diff, 10.0);
/// assert!(c.mean_differs);
/// ```
pub fn compare(a: &Summary, b: &Summary) -> Comparison {
    let va = a.std_error * a.std_error;
    let vb = b.std_error * b.std_error;
    let se = (va + vb).sqrt();
    let diff = b.mean - a.mean;
    let t = diff / se;
    let df = (va + vb).powi(2) / (va * va / (a.n as f64 - 1.0) + vb * vb / (b.n as f64 - 1.0));
    let percentiles = a
        .percentiles
        .iter()
        .filter_map(|pa| {
            b.percentile(pa.p).map(|vb| PercentileDiff {
                p: pa.p,
                a: pa.value,
                b: vb,
                diff: vb - pa.value,
            })
        })
        .collect();
    Comparison {
        mean_a: a.mean,
        mean_b: b.mean,
        mean_diff: diff,
        std_error_diff: se,
        welch_t: t,
        welch_df: df,
        mean_differs: t.abs() > Z95,
        std_dev_diff: b.std_dev - a.std_dev,
        percentiles,
        ks: None,
    }
}

/// Compares two runs' samples: summaries with the default options, plus the KS test.
pub fn compare_samples(a: &[f64], b: &[f64]) -> Comparison {
    let mut c = compare(&Summary::new(a, 0), &Summary::new(b, 0));
    c.ks = ks_two_sample(a, b);
    c
}

/// Two-sample Kolmogorov-Smirnov test over the finite values; `None` if either side is empty.
///
/// ```
/// use mcsim_results::ks_two_sample;
/// let ks = ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.0, 4.0, 5.0, 6.0]).unwrap();
/// assert_eq!(ks.statistic, 0.5);
/// ```
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Option<KsTest> {
    let (a, b) = (sorted_finite(a), sorted_finite(b));
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    let en = (na * nb / (na + nb)).sqrt();
    let p_value = kolmogorov_q((en + 0.12 + 0.11 / en) * d);
    Some(KsTest {
        statistic: d,
        p_value,
    })
}

/// `Q_KS(λ) = 2 Σ_{k≥1} (-1)^{k-1} exp(-2 k² λ²)`, clamped to `[0, 1]`.
fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let a2 = -2.0 * lambda * lambda;
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = sign * 2.0 * (a2 * kf * kf).exp();
        sum += term;
        if term.abs() < 1e-12 * sum.abs() || term.abs() < 1e-300 {
            break;
        }
        sign = -sign;
    }
    sum.clamp(0.0, 1.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn welch_on_known_data() {
        // A = 1..=100, B = A + 5: equal variance 841.67, se² = 8.4167 each.
        let a: Vec<f64> = (1..=100).map(f64::from).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 5.0).collect();
        let c = compare_samples(&a, &b);
        assert_eq!(c.mean_diff, 5.0);
        let se = (2.0 * 841.666_666_666_666_7 / 100.0f64).sqrt();
        assert!((c.std_error_diff - se).abs() < 1e-9);
        assert!((c.welch_t - 5.0 / se).abs() < 1e-9); // 1.2187
        assert!((c.welch_df - 198.0).abs() < 1e-6);
        assert!(!c.mean_differs);
        assert!(c.std_dev_diff.abs() < 1e-12);
        assert_eq!(c.percentiles.len(), 9);
        assert!(c.percentiles.iter().all(|p| (p.diff - 5.0).abs() < 1e-9));
        let ks = c.ks.unwrap();
        assert!((ks.statistic - 0.05).abs() < 1e-12);
        assert!(ks.p_value > 0.99);
    }

    #[test]
    fn ks_detects_shift_and_handles_ties() {
        let a: Vec<f64> = (0..500).map(|i| (i % 50) as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 10.0).collect();
        let ks = ks_two_sample(&a, &b).unwrap();
        assert!((ks.statistic - 0.2).abs() < 1e-12, "{}", ks.statistic);
        assert!(ks.p_value < 1e-6, "{}", ks.p_value);
        let same = ks_two_sample(&a, &a).unwrap();
        assert_eq!(same.statistic, 0.0);
        assert_eq!(same.p_value, 1.0);
        assert!(ks_two_sample(&[], &a).is_none());
        // Known value: Q_KS(1.0) = 0.26999967...
        assert!((kolmogorov_q(1.0) - 0.269_999_67).abs() < 1e-7);
    }
}
