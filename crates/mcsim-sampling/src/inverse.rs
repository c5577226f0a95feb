//! Fast inverse CDFs for the distributions whose quantile has no closed form: the beta family
//! (Beta, BetaGeneral, PERT), the gamma family (Gamma, Erlang, ChiSq) and Student's t.
//!
//! Solving I_x(a, b) = p per sample costs Halley steps on an incomplete-beta continued fraction
//! (a few hundred ns to µs). Instead, a [`QuantileTable`] built once per sampler holds a piecewise
//! quintic approximation of the quantile function, and a sample is an arithmetic cell lookup and a
//! degree-5 polynomial: no iteration, no special function, a pure function of the uniform.
//!
//! # Construction
//!
//! The quantile is split in three regions, each on a coordinate where it is smooth:
//!
//! - the centre, `P_LO` <= p <= 1 − `P_LO`: the quantile x as a function of p;
//! - the lower tail, p < `P_LO`: g = ln(distance of x from the lower end of the support) (or ln |x|
//!   where the support is unbounded) as a function of t = ln p; power-law and exponential tails
//!   are nearly linear there;
//! - the upper tail, likewise with t = ln q, q = 1 − p.
//!
//! Each region is cut into equal segments of its coordinate, and each segment into 2^L equal cells.
//! On a cell, the approximation is the quintic Hermite interpolant of the exact quantile's value and
//! first two derivatives at both ends (dx/dp = 1/f(x), d²x/dp² = −f′(x)/f(x)³, carried through
//! the coordinate and value changes): an error of order h⁶ · x⁽⁶⁾ / 46080, largest mid-cell. The
//! level L of each segment is found at setup by doubling until the interpolant at every cell
//! midpoint agrees with the exact inverse within `ABS_TOL` × the interquartile range plus
//! `REL_TOL` × the distance from the support's end (|x| for an unbounded side). A segment that
//! cannot reach the tolerance within `MAX_LEVEL` doublings, stops converging (the exact inverse's
//! own rounding noise, e.g. gamma shapes near 1e5), has exact values that under/overflow (beta or
//! gamma shapes near 0.01) or exceeds the `MAX_EVALS` setup budget is marked, and its samples take
//! the exact inverse, as do p below e^`T_MIN` (reachable only through extreme `RiskTruncate`
//! windows: the uniform grid stops at 2⁻⁵³ ≈ e^−36.7). Typical tables (PERT, gamma 0.3 to 1000)
//! hold 300–700 cells (15–35 KB) and take about 1 ms to build. Everything is a deterministic
//! function of the parameters, so samples stay a pure function of the uniform.
//!
//! # Per sample
//!
//! Region by two comparisons; segment by one multiply and truncation; cell by another (the cell
//! count is a power of two, so the position inside the segment is exact); then a Horner
//! polynomial. The tails (2 × `P_LO` of the draws) add one `ln` and one `exp`.

use std::cell::Cell;

use crate::special::{inv_beta, inv_gamma};

/// The centre region is p ∈ [P_LO, 1 − P_LO].
const P_LO: f64 = 1.0 / 64.0;
/// The tail regions cover ln p (or ln q) ∈ [T_MIN, ln P_LO].
const T_MIN: f64 = -48.0;
/// Segments of the centre region.
const CENTER_SEGS: usize = 32;
/// Segments of each tail region.
const TAIL_SEGS: usize = 16;
/// At most 2^MAX_LEVEL cells per segment.
const MAX_LEVEL: u32 = 10;
/// At most this many exact quantiles per table, bounding the setup time (segments beyond it fall
/// back to the exact inverse). A typical table needs about a thousand.
const MAX_EVALS: usize = 40_000;
/// From level 2 on, a doubling must cut the worst midpoint error by this factor (the interpolant
/// converges as h⁶, a factor 64); less means the exact inverse's own rounding noise has been
/// reached, and the segment falls back to the exact inverse.
const MIN_GAIN: f64 = 8.0;
/// Tolerance relative to the interquartile range.
const ABS_TOL: f64 = 1e-12;
/// Tolerance relative to the distance from the end of the support (or |x|).
const REL_TOL: f64 = 1e-12;
/// Midpoints must be within this fraction of the tolerance (margin for off-midpoint maxima).
const CHECK_MARGIN: f64 = 0.25;

/// The exact quantile at one point, with what the derivatives need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Knot {
    /// The quantile.
    pub(crate) x: f64,
    /// x − lower end, accurate near the end; −x where the support is unbounded below.
    pub(crate) below: f64,
    /// Upper end − x, accurate near the end; x where the support is unbounded above.
    pub(crate) above: f64,
    /// ln f(x).
    pub(crate) ln_f: f64,
    /// f′(x) / f(x).
    pub(crate) dln_f: f64,
}

impl Knot {
    /// (dx/dp, d²x/dp²).
    #[inline]
    fn dx(&self) -> (f64, f64) {
        let d1 = (-self.ln_f).exp();
        (d1, -self.dln_f * d1 * d1)
    }
}

/// The support of the canonical variable and the affine map to the output, `out = offset +
/// mult · x`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) lower: Option<f64>,
    pub(crate) upper: Option<f64>,
    pub(crate) offset: f64,
    pub(crate) mult: f64,
}

/// A segment: `count` cells from `first`, with `scale = count` and `last = count − 1`. Segments
/// left to the exact inverse have `first = 0` (cell 0 is a NaN placeholder).
#[derive(Debug, Clone, Copy)]
struct Seg {
    first: usize,
    last: usize,
    scale: f64,
}

/// One region: equal segments of a coordinate from `c0`, `inv_w` segments per unit.
#[derive(Debug, Clone)]
struct Region {
    c0: f64,
    inv_w: f64,
    segs: Vec<Seg>,
    cells: Vec<[f64; 6]>,
}

/// The cell polynomial at w (Estrin's scheme: a shorter dependency chain than Horner's).
#[inline(always)]
fn poly(a: &[f64; 6], w: f64) -> f64 {
    let w2 = w * w;
    (a[0] + w * a[1]) + w2 * ((a[2] + w * a[3]) + w2 * (a[4] + w * a[5]))
}

impl Region {
    /// The polynomial at coordinate `c` (c beyond the region's end is clamped into its last
    /// cell), or `None` below the region or in a segment left to the exact inverse.
    #[inline(always)]
    fn get(&self, c: f64) -> Option<f64> {
        let s = (c - self.c0) * self.inv_w;
        if s.is_nan() || s < 0.0 {
            return None;
        }
        let k = (s as usize).min(self.segs.len() - 1);
        let seg = self.segs[k];
        if seg.first == 0 {
            return None;
        }
        let f = (s - k as f64) * seg.scale;
        let j = (f as usize).min(seg.last);
        let a = self.cells.get(seg.first + j)?;
        Some(poly(a, f - j as f64))
    }
}

/// Quintic Hermite coefficients on s ∈ [0, 1] from values and derivatives (scaled to the cell).
fn quintic(v0: [f64; 3], v1: [f64; 3], h: f64) -> [f64; 6] {
    let (a0, a1, a2) = (v0[0], v0[1] * h, 0.5 * v0[2] * h * h);
    let r0 = v1[0] - (a0 + a1 + a2);
    let r1 = v1[1] * h - (a1 + 2.0 * a2);
    let r2 = v1[2] * h * h - 2.0 * a2;
    [
        a0,
        a1,
        a2,
        10.0 * r0 - 4.0 * r1 + 0.5 * r2,
        -15.0 * r0 + 7.0 * r1 - r2,
        6.0 * r0 - 3.0 * r1 + 0.5 * r2,
    ]
}

/// Which region a builder fills.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Center,
    Lower,
    Upper,
}

/// The builder's view of one region: coordinate → (p, q), knot → (value, d/dc, d²/dc²) and the
/// tolerance check.
struct Builder<'a, E: Fn(f64, f64) -> Knot> {
    exact: &'a E,
    part: Part,
    /// +1 where the tail's distance is x − end, −1 where it is end − x (Lower/Upper only).
    sigma: f64,
    /// Absolute tolerance in the canonical unit.
    abs_tol: f64,
    /// Exact quantiles computed so far, shared by the regions of a table.
    evals: &'a Cell<usize>,
}

impl<E: Fn(f64, f64) -> Knot> Builder<'_, E> {
    /// The exact (value, d/dc, d²/dc²) at coordinate c, with the tolerance there, or `None` if
    /// not finite.
    fn knot(&self, c: f64) -> Option<([f64; 3], f64)> {
        if self.evals.get() >= MAX_EVALS {
            return None;
        }
        self.evals.set(self.evals.get() + 1);
        let (v, tol) = match self.part {
            Part::Center => {
                let k = (self.exact)(c, 1.0 - c);
                let (d1, d2) = k.dx();
                let near = k.below.abs().min(k.above.abs());
                ([k.x, d1, d2], self.abs_tol + REL_TOL * near)
            }
            Part::Lower | Part::Upper => {
                let e = c.exp();
                let (k, d) = if self.part == Part::Lower {
                    let k = (self.exact)(e, -c.exp_m1());
                    (k, k.below)
                } else {
                    let k = (self.exact)(-c.exp_m1(), e);
                    (k, k.above)
                };
                let (d1, d2) = k.dx();
                // x_t and x_tt for t = ln p (lower) or t = ln q (upper, where dp/dt = −q).
                let (xt, xtt) = if self.part == Part::Lower {
                    (e * d1, e * d1 + e * e * d2)
                } else {
                    (-e * d1, -e * d1 + e * e * d2)
                };
                let (dt, dtt) = (self.sigma * xt, self.sigma * xtt);
                let gt = dt / d;
                ([d.ln(), gt, dtt / d - gt * gt], self.abs_tol + REL_TOL * d)
            }
        };
        (v.iter().all(|x| x.is_finite()) && tol.is_finite()).then_some((v, tol))
    }

    /// The error of an interpolated value in units of the tolerance.
    fn error(&self, fast: f64, exact: [f64; 3], tol: f64) -> f64 {
        let err = match self.part {
            Part::Center => (fast - exact[0]).abs(),
            Part::Lower | Part::Upper => (fast.exp() - exact[0].exp()).abs(),
        };
        err / tol
    }

    fn build(&self, c0: f64, c1: f64, n: usize) -> Region {
        let w = (c1 - c0) / n as f64;
        let mut region = Region {
            c0,
            inv_w: 1.0 / w,
            segs: Vec::with_capacity(n),
            cells: vec![[f64::NAN; 6]],
        };
        for k in 0..n {
            let seg = self.segment(&mut region.cells, c0, w, k);
            region.segs.push(seg);
        }
        region
    }

    /// Refines segment k until every midpoint is within tolerance; appends its cells.
    fn segment(&self, cells: &mut Vec<[f64; 6]>, c0: f64, w: f64, k: usize) -> Seg {
        let fallback = Seg {
            first: 0,
            last: 0,
            scale: 1.0,
        };
        let at = |i: usize, level: u32| c0 + (k as f64 + i as f64 / f64::from(1u32 << level)) * w;
        let (Some(a), Some(b)) = (self.knot(at(0, 0)), self.knot(at(1, 0))) else {
            return fallback;
        };
        let mut knots = vec![a.0, b.0];
        let mut last = f64::INFINITY;
        for level in 0..=MAX_LEVEL {
            let count = 1usize << level;
            let h = w / count as f64;
            let polys: Vec<[f64; 6]> = knots.windows(2).map(|v| quintic(v[0], v[1], h)).collect();
            let mut mids = Vec::with_capacity(count);
            let mut worst: f64 = 0.0;
            for (i, cell) in polys.iter().enumerate() {
                let Some((m, tol)) = self.knot(at(2 * i + 1, level + 1)) else {
                    return fallback;
                };
                worst = worst.max(self.error(poly(cell, 0.5), m, tol));
                mids.push(m);
            }
            if level >= 2 && (worst.is_nan() || worst * MIN_GAIN > last) {
                return fallback;
            }
            last = worst;
            if worst <= CHECK_MARGIN {
                let first = cells.len();
                cells.extend_from_slice(&polys);
                return Seg {
                    first,
                    last: count - 1,
                    scale: count as f64,
                };
            }
            let mut next = Vec::with_capacity(2 * count + 1);
            for (v, m) in knots.iter().zip(&mids) {
                next.push(*v);
                next.push(*m);
            }
            next.push(knots[count]);
            knots = next;
        }
        fallback
    }
}

/// A piecewise-quintic quantile function (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct QuantileTable {
    center: Region,
    lower: Region,
    upper: Region,
    /// Tails: out = base + factor · exp(g).
    lo_base: f64,
    lo_factor: f64,
    hi_base: f64,
    hi_factor: f64,
}

impl QuantileTable {
    /// Builds the table of the distribution `offset + mult · X`, where `exact(p, q)` gives X's
    /// exact quantile at p (q = 1 − p).
    pub(crate) fn new<E: Fn(f64, f64) -> Knot>(shape: Shape, exact: E) -> QuantileTable {
        let iqr = (exact(0.75, 0.25).x - exact(0.25, 0.75).x).abs();
        let abs_tol = ABS_TOL * iqr;
        let evals = Cell::new(2);
        let builder = |part, sigma| Builder {
            exact: &exact,
            part,
            sigma,
            abs_tol,
            evals: &evals,
        };
        let (lo_sigma, lo_end) = shape.lower.map_or((-1.0, 0.0), |e| (1.0, e));
        let (hi_sigma, hi_end) = shape.upper.map_or((1.0, 0.0), |e| (-1.0, e));
        let mut center = builder(Part::Center, 1.0).build(P_LO, 1.0 - P_LO, CENTER_SEGS);
        for a in &mut center.cells {
            a[0] = shape.offset + shape.mult * a[0];
            for c in &mut a[1..] {
                *c *= shape.mult;
            }
        }
        let t_lo = P_LO.ln();
        QuantileTable {
            center,
            lower: builder(Part::Lower, lo_sigma).build(T_MIN, t_lo, TAIL_SEGS),
            upper: builder(Part::Upper, hi_sigma).build(T_MIN, t_lo, TAIL_SEGS),
            lo_base: shape.offset + shape.mult * lo_end,
            lo_factor: shape.mult * lo_sigma,
            hi_base: shape.offset + shape.mult * hi_end,
            hi_factor: shape.mult * hi_sigma,
        }
    }

    /// The quantile at p (q = 1 − p) in output units, or `None` where the exact inverse must be
    /// used.
    #[inline(always)]
    pub(crate) fn quantile(&self, p: f64, q: f64) -> Option<f64> {
        if p >= P_LO && q >= P_LO {
            self.center.get(p)
        } else {
            self.tail(p, q)
        }
    }

    /// The quantile in a tail region (p or q below `P_LO`), out of line: 2·`P_LO` of the draws.
    #[inline(never)]
    fn tail(&self, p: f64, q: f64) -> Option<f64> {
        if p < q {
            let g = self.lower.get(p.ln())?;
            Some(self.lo_base + self.lo_factor * g.exp())
        } else {
            let g = self.upper.get(q.ln())?;
            Some(self.hi_base + self.hi_factor * g.exp())
        }
    }

    /// Cells in the table (for tests and diagnostics).
    #[cfg(test)]
    pub(crate) fn cells(&self) -> [usize; 3] {
        [
            self.lower.cells.len() - 1,
            self.center.cells.len() - 1,
            self.upper.cells.len() - 1,
        ]
    }

    /// Segments that fall back to the exact inverse.
    #[cfg(test)]
    pub(crate) fn fallback_segments(&self) -> usize {
        [&self.lower, &self.center, &self.upper]
            .iter()
            .map(|r| r.segs.iter().filter(|s| s.first == 0).count())
            .sum()
    }
}

impl QuantileTable {
    /// The table as plain numbers (read by [`crate::DeviceForm::Quintic`]).
    pub(crate) fn device(&self) -> crate::device::DeviceQuintic<'_> {
        fn region(r: &Region) -> crate::device::DeviceRegion<'_> {
            crate::device::DeviceRegion {
                c0: r.c0,
                inv_w: r.inv_w,
                segs: r
                    .segs
                    .iter()
                    .map(|g| (g.first as u64, g.last as u64, g.scale))
                    .collect(),
                cells: &r.cells,
            }
        }
        crate::device::DeviceQuintic {
            center: region(&self.center),
            lower: region(&self.lower),
            upper: region(&self.upper),
            lo_base: self.lo_base,
            lo_factor: self.lo_factor,
            hi_base: self.hi_base,
            hi_factor: self.hi_factor,
            p_lo: P_LO,
        }
    }
}

/// The exact beta(a, b) knot.
pub(crate) fn beta_knot(p: f64, q: f64, a: f64, b: f64, lnb: f64) -> Knot {
    let (x, y) = inv_beta(p, q, a, b, lnb);
    Knot {
        x,
        below: x,
        above: y,
        ln_f: (a - 1.0) * x.ln() + (b - 1.0) * y.ln() - lnb,
        dln_f: (a - 1.0) / x - (b - 1.0) / y,
    }
}

/// The exact unit-scale gamma(a) knot.
pub(crate) fn gamma_knot(p: f64, q: f64, a: f64, lng: f64) -> Knot {
    let x = inv_gamma(p, q, a, lng);
    Knot {
        x,
        below: x,
        above: x,
        ln_f: (a - 1.0) * x.ln() - x - lng,
        dln_f: (a - 1.0) / x - 1.0,
    }
}

/// The exact Student t(ν) knot, given its exact quantile `x`; `lnb` = ln B(ν/2, 1/2).
pub(crate) fn student_knot(x: f64, nu: f64, lnb: f64) -> Knot {
    Knot {
        x,
        below: -x,
        above: x,
        ln_f: -0.5 * (nu + 1.0) * (x * x / nu).ln_1p() - 0.5 * nu.ln() - lnb,
        dln_f: -(nu + 1.0) * x / (nu + x * x),
    }
}

/// The beta(a, b) table, scaled to [min, min + width].
pub(crate) fn beta_table(a: f64, b: f64, lnb: f64, min: f64, width: f64) -> QuantileTable {
    QuantileTable::new(
        Shape {
            lower: Some(0.0),
            upper: Some(1.0),
            offset: min,
            mult: width,
        },
        |p, q| beta_knot(p, q, a, b, lnb),
    )
}

/// The gamma(shape) table times `scale`.
pub(crate) fn gamma_table(shape: f64, lng: f64, scale: f64) -> QuantileTable {
    QuantileTable::new(
        Shape {
            lower: Some(0.0),
            upper: None,
            offset: 0.0,
            mult: scale,
        },
        |p, q| gamma_knot(p, q, shape, lng),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::{ln_beta, ln_gamma};

    /// The worst error of a unit-scale table against the exact inverse, in units of the build
    /// tolerance (plus the output's own rounding, a few ulps of x), over a fine grid of p and
    /// of ln p, ln q in the tails.
    fn worst<E: Fn(f64, f64) -> Knot>(t: &QuantileTable, exact: E) -> f64 {
        let iqr = exact(0.75, 0.25).x - exact(0.25, 0.75).x;
        let mut worst: f64 = 0.0;
        let mut check = |p: f64, q: f64| {
            let Some(fast) = t.quantile(p, q) else {
                return;
            };
            let k = exact(p, q);
            let d = if p < P_LO {
                k.below
            } else if q < P_LO {
                k.above
            } else {
                k.below.min(k.above)
            };
            let tol = ABS_TOL * iqr + REL_TOL * d.abs() + 4.0 * f64::EPSILON * k.x.abs();
            worst = worst.max((fast - k.x).abs() / tol);
        };
        for i in 0..20_000 {
            let u = (i as f64 + 0.37) / 20_000.0;
            check(u, 1.0 - u);
        }
        for i in 0..2_000 {
            let e = (T_MIN * (i as f64 + 0.5) / 2_000.0).exp();
            check(e, 1.0 - e);
            check(1.0 - e, e);
        }
        worst
    }

    #[test]
    fn beta_tables_match_the_exact_inverse() {
        for &(a, b, fallbacks) in &[
            (1.8, 3.2, 0),
            (1.0, 1.0, 0),
            (0.5, 0.5, 0),
            (3.0, 3.0, 0),
            (50.0, 2.0, 0),
            (2.0, 50.0, 0),
            (0.2, 7.0, 0),
            (1000.0, 1000.0, 0),
            // x underflows in the lower tail: those segments use the exact inverse.
            (0.05, 0.05, 10),
        ] {
            let lnb = ln_beta(a, b);
            let t = beta_table(a, b, lnb, 0.0, 1.0);
            let w = worst(&t, |p, q| beta_knot(p, q, a, b, lnb));
            assert!(w <= 1.0, "beta({a}, {b}): {w} tolerances");
            assert!(t.fallback_segments() <= fallbacks, "beta({a}, {b})");
            assert!(t.cells().iter().sum::<usize>() < 1500, "{:?}", t.cells());
        }
    }

    #[test]
    fn gamma_tables_match_the_exact_inverse() {
        for &a in &[0.3, 1.0, 2.5, 40.0, 200.0, 1000.0] {
            let lng = ln_gamma(a);
            let t = gamma_table(a, lng, 1.0);
            let w = worst(&t, |p, q| gamma_knot(p, q, a, lng));
            assert!(w <= 1.0, "gamma({a}): {w} tolerances, {:?}", t.cells());
            assert_eq!(t.fallback_segments(), 0, "gamma({a})");
        }
    }

    #[test]
    fn extreme_shapes_fall_back_instead_of_failing() {
        // Underflowing quantiles (x < 1e-308 for p below about 1e-3 at shape 0.01): those
        // segments use the exact inverse, and what is tabulated still meets the tolerance.
        let a = 0.01;
        let lng = ln_gamma(a);
        let t = gamma_table(a, lng, 1.0);
        assert!(t.fallback_segments() > 0);
        assert!(worst(&t, |p, q| gamma_knot(p, q, a, lng)) <= 1.0);
        let (a, b) = (0.01, 3.0);
        let lnb = ln_beta(a, b);
        let t = beta_table(a, b, lnb, 0.0, 1.0);
        assert!(worst(&t, |p, q| beta_knot(p, q, a, b, lnb)) <= 1.0);
    }

    #[test]
    fn quintic_reproduces_a_quintic() {
        let f = |x: f64| [1.0 + x.powi(5), 5.0 * x.powi(4), 20.0 * x.powi(3)];
        let c = quintic(f(0.5), f(0.75), 0.25);
        for i in 0..=8 {
            let s = i as f64 / 8.0;
            assert!((poly(&c, s) - f(0.5 + 0.25 * s)[0]).abs() < 1e-15);
        }
    }
}
