//! Cumulative tables for discrete distributions, searched through a guide table (Chen & Asau) so
//! that a lookup is O(1) on average, and the integer families' exact CDFs.

use crate::special::{beta_pq, gamma_pq, ln_beta, ln_gamma, normal_quantile};

/// Largest table built; wider supports fall back to a search on the exact CDF.
pub(crate) const MAX_TABLE: usize = 1 << 20;

/// Probability mass (relative to the mode's) below which the tails of a tabulated integer
/// distribution are dropped. Draws are on a 2⁻⁵³ grid, so mass this small is never reached.
const TAIL_CUTOFF: f64 = 1e-20;

/// A non-decreasing cumulative table ending at exactly 1, with a guide table for lookups.
#[derive(Debug, Clone)]
pub(crate) struct CumTable {
    pub(crate) cum: Vec<f64>,
    guide: Vec<u32>,
}

impl CumTable {
    /// Builds from non-negative weights with a positive sum.
    pub(crate) fn from_weights(weights: &[f64]) -> CumTable {
        let total: f64 = weights.iter().sum();
        let mut acc = 0.0;
        let mut cum: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w;
                (acc / total).min(1.0)
            })
            .collect();
        if let Some(last) = cum.last_mut() {
            *last = 1.0;
        }
        let n = cum.len();
        let mut guide = Vec::with_capacity(n);
        let mut j = 0usize;
        for g in 0..n {
            let level = g as f64 / n as f64;
            while j + 1 < n && cum[j] < level {
                j += 1;
            }
            guide.push(j as u32);
        }
        CumTable { cum, guide }
    }

    /// The guide table (read by [`crate::DeviceTable`]).
    pub(crate) fn guide(&self) -> &[u32] {
        &self.guide
    }

    /// The first index j with cum[j] >= u (the last index if none).
    #[inline(always)]
    pub(crate) fn index(&self, u: f64) -> usize {
        let n = self.cum.len();
        let g = ((u * n as f64) as usize).min(n - 1);
        let mut j = self.guide[g] as usize;
        while j + 1 < n && self.cum[j] < u {
            j += 1;
        }
        j
    }
}

/// The integer-valued families tabulated from a pmf recurrence, with exact CDFs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IntFamily {
    Poisson { lambda: f64 },
    Binomial { n: f64, p: f64 },
    Negbin { s: f64, p: f64 },
    Hypergeo { n: f64, d: f64, m: f64 },
}

impl IntFamily {
    /// Smallest and largest value in the support.
    pub(crate) fn support(&self) -> (i64, i64) {
        match *self {
            IntFamily::Poisson { .. } | IntFamily::Negbin { .. } => (0, i64::MAX),
            IntFamily::Binomial { n, .. } => (0, n as i64),
            IntFamily::Hypergeo { n, d, m } => ((n + d - m).max(0.0) as i64, n.min(d) as i64),
        }
    }

    fn mean_sd(&self) -> (f64, f64) {
        match *self {
            IntFamily::Poisson { lambda } => (lambda, lambda.sqrt()),
            IntFamily::Binomial { n, p } => (n * p, (n * p * (1.0 - p)).sqrt()),
            IntFamily::Negbin { s, p } => (s * (1.0 - p) / p, (s * (1.0 - p)).sqrt() / p),
            IntFamily::Hypergeo { n, d, m } => {
                let f = d / m;
                let var = if m > 1.0 {
                    n * f * (1.0 - f) * (m - n) / (m - 1.0)
                } else {
                    0.0
                };
                (n * f, var.sqrt())
            }
        }
    }

    fn mode(&self) -> i64 {
        let (lo, hi) = self.support();
        let m = match *self {
            IntFamily::Poisson { lambda } => lambda.floor(),
            IntFamily::Binomial { n, p } => ((n + 1.0) * p).floor(),
            IntFamily::Negbin { s, p } => {
                if s > 1.0 {
                    ((s - 1.0) * (1.0 - p) / p).floor()
                } else {
                    0.0
                }
            }
            IntFamily::Hypergeo { n, d, m } => ((n + 1.0) * (d + 1.0) / (m + 2.0)).floor(),
        };
        (m as i64).clamp(lo, hi)
    }

    /// pmf(k + 1) / pmf(k).
    fn ratio(&self, k: i64) -> f64 {
        let k = k as f64;
        match *self {
            IntFamily::Poisson { lambda } => lambda / (k + 1.0),
            IntFamily::Binomial { n, p } => (n - k) / (k + 1.0) * (p / (1.0 - p)),
            IntFamily::Negbin { s, p } => (s + k) / (k + 1.0) * (1.0 - p),
            IntFamily::Hypergeo { n, d, m } => {
                (d - k) * (n - k) / ((k + 1.0) * (m - d - n + k + 1.0))
            }
        }
    }

    /// ln pmf(k), used by the hypergeometric CDF.
    fn ln_pmf(&self, k: f64) -> f64 {
        let ln_choose =
            |a: f64, b: f64| ln_gamma(a + 1.0) - ln_gamma(b + 1.0) - ln_gamma(a - b + 1.0);
        match *self {
            IntFamily::Hypergeo { n, d, m } => {
                ln_choose(d, k) + ln_choose(m - d, n - k) - ln_choose(m, n)
            }
            _ => f64::NAN,
        }
    }

    /// Exact F(k) = P(X <= k), from the incomplete gamma/beta functions (or, for the
    /// hypergeometric, a sum of log-gamma pmfs); independent of the table.
    pub(crate) fn cdf(&self, k: i64) -> f64 {
        let (lo, hi) = self.support();
        if k < lo {
            return 0.0;
        }
        if k >= hi {
            return 1.0;
        }
        let kf = k as f64;
        match *self {
            IntFamily::Poisson { lambda } => gamma_pq(kf + 1.0, lambda, ln_gamma(kf + 1.0)).1,
            IntFamily::Binomial { n, p } => {
                let (a, b) = (n - kf, kf + 1.0);
                beta_pq(a, b, ln_beta(a, b), 1.0 - p).0
            }
            IntFamily::Negbin { s, p } => beta_pq(s, kf + 1.0, ln_beta(s, kf + 1.0), p).0,
            IntFamily::Hypergeo { .. } => {
                let mut acc = 0.0;
                for j in lo..=k {
                    acc += self.ln_pmf(j as f64).exp();
                }
                acc.min(1.0)
            }
        }
    }

    /// Tabulates the pmf from the mode outwards until the tails fall below [`TAIL_CUTOFF`].
    /// `None` when the table would exceed [`MAX_TABLE`] entries.
    pub(crate) fn table(&self) -> Option<(i64, CumTable)> {
        let (lo, hi) = self.support();
        let (_, sd) = self.mean_sd();
        if sd * 24.0 > MAX_TABLE as f64 {
            return None;
        }
        let mode = self.mode();
        let mut up = Vec::new();
        let mut w = 1.0;
        let mut k = mode;
        while k < hi {
            w *= self.ratio(k);
            k += 1;
            if w.is_nan() || w <= TAIL_CUTOFF {
                break;
            }
            up.push(w);
            if up.len() > MAX_TABLE {
                return None;
            }
        }
        let mut down = Vec::new();
        let mut w = 1.0;
        let mut k = mode;
        while k > lo {
            w /= self.ratio(k - 1);
            k -= 1;
            if w.is_nan() || w <= TAIL_CUTOFF {
                break;
            }
            down.push(w);
            if down.len() + up.len() > MAX_TABLE {
                return None;
            }
        }
        let offset = mode - down.len() as i64;
        let mut weights: Vec<f64> = down.into_iter().rev().collect();
        weights.push(1.0);
        weights.extend(up);
        Some((offset, CumTable::from_weights(&weights)))
    }

    /// Smallest k with F(k) >= u by bracketing and bisection on the exact CDF (for supports too
    /// wide to tabulate).
    pub(crate) fn search(&self, u: f64) -> f64 {
        let (lo, hi) = self.support();
        let (mean, sd) = self.mean_sd();
        let guess = (mean + sd * normal_quantile(u)).round();
        let guess = if guess.is_finite() {
            (guess.max(lo as f64).min(hi as f64)) as i64
        } else {
            lo
        };
        // Find a < b with F(a) < u <= F(b); a may be lo - 1.
        let (mut a, mut b);
        if self.cdf(guess) >= u {
            b = guess;
            let mut step = 1i64;
            loop {
                let cand = b.saturating_sub(step);
                if cand < lo {
                    a = lo - 1;
                    break;
                }
                if self.cdf(cand) < u {
                    a = cand;
                    break;
                }
                b = cand;
                step = step.saturating_mul(2);
            }
        } else {
            a = guess;
            let mut step = 1i64;
            loop {
                let cand = a.saturating_add(step);
                if cand >= hi {
                    b = hi;
                    break;
                }
                if self.cdf(cand) >= u {
                    b = cand;
                    break;
                }
                a = cand;
                step = step.saturating_mul(2);
            }
        }
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            if self.cdf(mid) >= u {
                b = mid;
            } else {
                a = mid;
            }
        }
        b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_table_finds_first_index_at_or_above() {
        let t = CumTable::from_weights(&[0.0, 1.0, 0.0, 2.0, 1.0]);
        assert_eq!(t.cum, vec![0.0, 0.25, 0.25, 0.75, 1.0]);
        assert_eq!(t.index(1e-12), 1);
        assert_eq!(t.index(0.25), 1);
        assert_eq!(t.index(0.2500001), 3);
        assert_eq!(t.index(0.75), 3);
        assert_eq!(t.index(0.99), 4);
    }

    #[test]
    fn search_matches_table() {
        let f = IntFamily::Poisson { lambda: 37.5 };
        let (offset, table) = f.table().unwrap_or_else(|| unreachable!());
        for i in 1..200 {
            let u = i as f64 / 200.0 - 1e-9;
            let via_table = offset + table.index(u) as i64;
            assert_eq!(f.search(u), via_table as f64, "u={u}");
        }
    }
}
