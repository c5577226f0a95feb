//! Iman-Conover rank correlation (`RiskCorrmat`), applied per design block.
//!
//! For a block of n iterations and k correlated inputs:
//! 1. Build an n×k score matrix R whose columns are the van der Waerden scores
//!    Φ⁻¹(r/(n+1)), r = 1..n, each column in its own keyed random order (a Feistel permutation
//!    keyed by seed, block, the input's stream key and n, so the result is a pure function of
//!    those). Keying by the input's identity rather than its position in the group keeps two
//!    groups independent of each other: with position keys, the first inputs of two groups would
//!    get the same score order, and so the same ranks.
//! 2. Whiten R by the Cholesky factor F of its sample correlation E and colour it with a factor P
//!    of the score correlation S: T = R·F⁻ᵀ·Pᵀ has Pearson correlation exactly S.
//! 3. Reorder each input column so that its ranks match the ranks of T's column. The values (the
//!    marginal) are untouched; only their pairing across inputs changes.
//!
//! S is the target rank correlation C mapped through Pearson's relation for normal scores,
//! S = 2·sin(π·C/6), so the *Spearman* correlation of the result is ≈ C rather than the
//! ≈ (6/π)·asin(C/2) plain Iman-Conover gives (0.786 for a target of 0.8).

use crate::error::SamplingError;
use crate::permutation::Permutation;
use crate::special::normal_quantile;
use crate::streams::hash_words;

/// Eigenvalues below this are treated as negative when deciding whether a matrix needs repair.
const PSD_TOLERANCE: f64 = 1e-10;
/// Eigenvalue floor used when repairing.
const EIGEN_FLOOR: f64 = 1e-8;

/// How a target correlation matrix that was not positive semi-definite was repaired.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// The largest absolute change to any entry.
    pub max_abs_change: f64,
    /// The smallest eigenvalue of the matrix as given (negative).
    pub min_eigenvalue: f64,
    /// The matrix used instead: negative eigenvalues clipped, rescaled to a unit diagonal.
    pub matrix: Vec<Vec<f64>>,
}

/// A validated (and if need be repaired) rank-correlation target, ready to reorder blocks.
#[derive(Debug, Clone)]
pub struct CorrelationPlan {
    dim: usize,
    /// The effective target, row-major.
    target: Vec<f64>,
    /// Lower-triangular P with P·Pᵀ = S, the score correlation, row-major.
    factor: Vec<f64>,
}

/// Symmetric eigen-decomposition by cyclic Jacobi rotations: (eigenvalues, V row-major with the
/// eigenvectors in its columns).
fn jacobi_eigen(m: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = m.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let mut off = 0.0;
        for p in 0..n {
            for q in p + 1..n {
                off += a[p * n + q] * a[p * n + q];
            }
        }
        if off <= 1e-32 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// Clips eigenvalues below `floor` and rescales to a unit diagonal.
fn clip_to_correlation(m: &[f64], n: usize, floor: f64) -> Vec<f64> {
    let (vals, v) = jacobi_eigen(m, n);
    let vals: Vec<f64> = vals.iter().map(|&l| l.max(floor)).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n).map(|k| v[i * n + k] * vals[k] * v[j * n + k]).sum();
        }
    }
    let d: Vec<f64> = (0..n).map(|i| out[i * n + i].sqrt()).collect();
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = if i == j {
                1.0
            } else {
                (out[i * n + j] / (d[i] * d[j])).clamp(-1.0, 1.0)
            };
        }
    }
    out
}

/// Cholesky factor (lower, row-major) of a positive semi-definite matrix; pivots below a
/// tolerance give zero columns. `None` if the matrix is clearly not PSD.
fn cholesky(m: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let d = m[j * n + j] - (0..j).map(|k| l[j * n + k] * l[j * n + k]).sum::<f64>();
        if d < -1e-9 {
            return None;
        }
        if d <= 1e-12 {
            continue;
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let s = m[i * n + j] - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
            l[i * n + j] = s / ljj;
        }
    }
    Some(l)
}

impl CorrelationPlan {
    /// Validates a target rank-correlation matrix (square, finite, unit diagonal, symmetric,
    /// entries in [−1, 1]) and prepares it. A matrix that is not positive semi-definite is
    /// repaired (negative eigenvalues clipped, unit diagonal restored) and the repair returned,
    /// so the caller can tell the user how much it changed.
    pub fn new(matrix: &[Vec<f64>]) -> Result<(CorrelationPlan, Option<Repair>), SamplingError> {
        let n = matrix.len();
        for (i, row) in matrix.iter().enumerate() {
            if row.len() != n {
                return Err(SamplingError::CorrelationShape {
                    row: i,
                    len: row.len(),
                    rows: n,
                });
            }
        }
        let entry = |row, col, rule, value| SamplingError::CorrelationEntry {
            row,
            col,
            rule,
            value,
        };
        for (i, row) in matrix.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                if !x.is_finite() {
                    return Err(entry(i, j, "must be a finite number", x));
                }
                if i == j && x != 1.0 {
                    return Err(entry(i, j, "is on the diagonal and must be 1", x));
                }
                if !(-1.0..=1.0).contains(&x) {
                    return Err(entry(i, j, "must be between -1 and 1", x));
                }
                if (x - matrix[j][i]).abs() > 1e-9 {
                    return Err(entry(
                        i,
                        j,
                        "must equal its mirror entry (the matrix must be symmetric)",
                        x,
                    ));
                }
            }
        }
        // Symmetrise exactly (average mirror entries that differ by rounding).
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                c[i * n + j] = 0.5 * (matrix[i][j] + matrix[j][i]);
            }
        }
        let (vals, _) = jacobi_eigen(&c, n);
        let min_eig = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let mut repair = None;
        if n > 0 && min_eig < -PSD_TOLERANCE {
            let fixed = clip_to_correlation(&c, n, EIGEN_FLOOR);
            let max_abs_change = c
                .iter()
                .zip(&fixed)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            repair = Some(Repair {
                max_abs_change,
                min_eigenvalue: min_eig,
                matrix: fixed.chunks(n.max(1)).map(<[f64]>::to_vec).collect(),
            });
            c = fixed;
        }
        // Score (Pearson) correlation giving Spearman ≈ target for normal scores.
        let mut s: Vec<f64> = c
            .iter()
            .map(|&r| 2.0 * (std::f64::consts::PI * r / 6.0).sin())
            .collect();
        // The mapped matrix can lose positive semi-definiteness (sin is not linear): clip it
        // again. The clipped matrix has eigenvalues ≥ the floor, so the factorisation cannot
        // fail short of a numerical breakdown, which is reported rather than papered over.
        let factor = match cholesky(&s, n) {
            Some(f) => f,
            None => {
                s = clip_to_correlation(&s, n, EIGEN_FLOOR);
                cholesky(&s, n).ok_or_else(|| SamplingError::CorrelationFactor {
                    detail: format!(
                        "the {n}x{n} score correlation could not be factorised even after repair"
                    ),
                })?
            }
        };
        Ok((
            CorrelationPlan {
                dim: n,
                target: c,
                factor,
            },
            repair,
        ))
    }

    /// Number of correlated inputs.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The target in effect (after any repair).
    pub fn matrix(&self) -> Vec<Vec<f64>> {
        self.target
            .chunks(self.dim.max(1))
            .map(<[f64]>::to_vec)
            .collect()
    }

    /// Reorders the samples of one design block so that their rank correlation approaches the
    /// target. `columns[j]` holds the samples of the input with stream key `keys[j]` (see
    /// [`crate::stream_key`]) for every iteration of design block `block_index` (all
    /// [`crate::DESIGN_BLOCK`] of them, or the remainder at the end of a run), in iteration
    /// order; all columns have the same length. Each column keeps its multiset of values. The
    /// result depends only on (seed, block_index, keys, the samples), never on threads; inputs
    /// with different keys get independent score orders, so separate groups stay independent.
    pub fn apply(
        &self,
        block_index: u64,
        keys: &[u64],
        columns: &mut [&mut [f64]],
        seed: u64,
    ) -> Result<(), SamplingError> {
        let k = self.dim;
        if keys.len() != k {
            return Err(SamplingError::BufferShape {
                detail: format!(
                    "{} stream keys given for a {k}x{k} correlation matrix",
                    keys.len()
                ),
            });
        }
        if columns.len() != k {
            return Err(SamplingError::BufferShape {
                detail: format!(
                    "{} columns given for a {k}x{k} correlation matrix",
                    columns.len()
                ),
            });
        }
        let n = columns.first().map_or(0, |c| c.len());
        if let Some(bad) = columns.iter().position(|c| c.len() != n) {
            return Err(SamplingError::BufferShape {
                detail: format!(
                    "column {bad} has {} values, column 0 has {n}",
                    columns[bad].len()
                ),
            });
        }
        if n < 2 || k < 2 {
            return Ok(());
        }
        // 1. Scores in keyed random orders, row-major n×k.
        let scores: Vec<f64> = (1..=n)
            .map(|r| normal_quantile(r as f64 / (n as f64 + 1.0)))
            .collect();
        let mut r = vec![0.0; n * k];
        for (j, &key) in keys.iter().enumerate() {
            let perm = Permutation::new(
                n as u64,
                hash_words(&[seed, 0x4943_4b32, block_index, key, n as u64]),
            );
            let mut i = 0;
            perm.for_range(0, n, |y| {
                r[i * k + j] = scores[y as usize];
                i += 1;
            });
        }
        // 2. Sample correlation E of R; whiten with its Cholesky factor, colour with P.
        let mean_s = scores.iter().sum::<f64>() / n as f64;
        let mut e = vec![0.0; k * k];
        for row in r.chunks_exact(k) {
            for a in 0..k {
                let da = row[a] - mean_s;
                for b in 0..=a {
                    e[a * k + b] += da * (row[b] - mean_s);
                }
            }
        }
        let ss = e[0];
        for a in 0..k {
            for b in 0..=a {
                let v = e[a * k + b] / ss;
                e[a * k + b] = v;
                e[b * k + a] = v;
            }
        }
        let whiten = cholesky(&e, k).filter(|f| (0..k).all(|i| f[i * k + i] > 1e-6));
        let mut z = vec![0.0; k];
        for row in r.chunks_exact_mut(k) {
            // z = F⁻¹·(row − mean) by forward substitution (identity if E is singular).
            for (a, &value) in row.iter().enumerate() {
                let x = value - mean_s;
                z[a] = match &whiten {
                    Some(f) => {
                        let acc: f64 = (0..a).map(|b| f[a * k + b] * z[b]).sum();
                        (x - acc) / f[a * k + a]
                    }
                    None => x,
                };
            }
            for (a, value) in row.iter_mut().enumerate() {
                *value = (0..=a).map(|b| self.factor[a * k + b] * z[b]).sum();
            }
        }
        // 3. Give each column the ranks of T's column.
        let mut order: Vec<usize> = Vec::with_capacity(n);
        let mut sorted: Vec<f64> = Vec::with_capacity(n);
        for (j, col) in columns.iter_mut().enumerate() {
            order.clear();
            order.extend(0..n);
            order.sort_by(|&a, &b| r[a * k + j].total_cmp(&r[b * k + j]));
            sorted.clear();
            sorted.extend_from_slice(col);
            sorted.sort_by(f64::total_cmp);
            for (rank, &i) in order.iter().enumerate() {
                col[i] = sorted[rank];
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_reconstructs_the_matrix() {
        let m = [4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let (vals, v) = jacobi_eigen(&m, 3);
        for i in 0..3 {
            for j in 0..3 {
                let x: f64 = (0..3).map(|k| v[i * 3 + k] * vals[k] * v[j * 3 + k]).sum();
                assert!((x - m[i * 3 + j]).abs() < 1e-12);
            }
        }
        let trace: f64 = vals.iter().sum();
        assert!((trace - 12.0).abs() < 1e-12);
    }

    #[test]
    fn cholesky_handles_a_singular_psd_matrix() {
        let m = [1.0, 1.0, 1.0, 1.0];
        let l = cholesky(&m, 2).unwrap_or_default();
        assert_eq!(l, vec![1.0, 0.0, 1.0, 0.0]);
    }
}
