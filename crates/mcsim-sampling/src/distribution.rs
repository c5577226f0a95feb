//! The distributions of @RISK's `Risk*` functions, their parameter rules and closed-form moments.

use std::f64::consts::PI;
use std::fmt::Display;

use serde::{Deserialize, Serialize};

use crate::error::SamplingError;
use crate::kind::Kind;
use crate::special::{gamma_fn, ln_gamma};

/// Euler–Mascheroni constant (mean of the standard Gumbel).
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// The default PERT shape parameter λ (@RISK's `RiskPert` always uses 4).
pub const DEFAULT_PERT_LAMBDA: f64 = 4.0;

fn default_pert_lambda() -> f64 {
    DEFAULT_PERT_LAMBDA
}

/// A probability distribution, with @RISK's parameters in @RISK's order.
///
/// Each variant names the `Risk*` function it mirrors. Parameters are `f64` even where they must be
/// integers (`n`, `s`, ...) because they come from spreadsheet cells; [`Distribution::validate`]
/// enforces integrality and ranges with a message naming the rule.
///
/// Serialized with an internal `type` tag, e.g. `{"type":"normal","mean":10,"sd":2}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Distribution {
    /// `RiskNormal(mean, sd)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation, > 0.
        sd: f64,
    },
    /// `RiskLognorm(mean, sd)`: mean and standard deviation of the lognormal variable itself.
    Lognormal {
        /// Mean of the variable, > 0.
        mean: f64,
        /// Standard deviation of the variable, > 0.
        sd: f64,
    },
    /// `RiskLognorm2(mu, sigma)`: mean and standard deviation of the underlying normal (of ln X).
    Lognormal2 {
        /// Mean of ln X.
        mu: f64,
        /// Standard deviation of ln X, > 0.
        sigma: f64,
    },
    /// `RiskTriang(min, most likely, max)`.
    Triangular {
        /// Minimum.
        min: f64,
        /// Most likely value, in [min, max].
        mode: f64,
        /// Maximum, > min.
        max: f64,
    },
    /// `RiskTrigen(bottom, most likely, top, bottom%, top%)`: a triangular distribution whose
    /// `bottom_pct` percentile is `bottom` and whose `top_pct` percentile is `top` (percentages
    /// 0–100); its min and max are solved for.
    Trigen {
        /// Value at the `bottom_pct` percentile.
        bottom: f64,
        /// Most likely value, in [bottom, top].
        mode: f64,
        /// Value at the `top_pct` percentile.
        top: f64,
        /// Percentile of `bottom`, in [0, 100).
        bottom_pct: f64,
        /// Percentile of `top`, in (bottom_pct, 100].
        top_pct: f64,
    },
    /// `RiskPert(min, most likely, max)`: a beta on [min, max] with shapes
    /// 1 + λ(mode − min)/(max − min) and 1 + λ(max − mode)/(max − min); mean
    /// (min + λ·mode + max)/(λ + 2).
    Pert {
        /// Minimum.
        min: f64,
        /// Most likely value, in [min, max].
        mode: f64,
        /// Maximum, > min.
        max: f64,
        /// Shape λ > 0 (4 in @RISK; "modified PERT" tools expose it).
        #[serde(default = "default_pert_lambda")]
        lambda: f64,
    },
    /// `RiskUniform(min, max)`.
    Uniform {
        /// Minimum.
        min: f64,
        /// Maximum, > min.
        max: f64,
    },
    /// `RiskBeta(alpha1, alpha2)` on [0, 1].
    Beta {
        /// First shape, > 0.
        alpha1: f64,
        /// Second shape, > 0.
        alpha2: f64,
    },
    /// `RiskBetaGeneral(alpha1, alpha2, min, max)`.
    BetaGeneral {
        /// First shape, > 0.
        alpha1: f64,
        /// Second shape, > 0.
        alpha2: f64,
        /// Minimum.
        min: f64,
        /// Maximum, > min.
        max: f64,
    },
    /// `RiskGamma(alpha, beta)`: shape and scale; mean = shape·scale.
    Gamma {
        /// Shape α > 0.
        shape: f64,
        /// Scale β > 0.
        scale: f64,
    },
    /// `RiskWeibull(alpha, beta)`: F(x) = 1 − exp(−(x/β)^α).
    Weibull {
        /// Shape α > 0.
        shape: f64,
        /// Scale β > 0.
        scale: f64,
    },
    /// `RiskExpon(beta)`: exponential with mean β (not a rate).
    Expon {
        /// Mean β > 0.
        mean: f64,
    },
    /// `RiskPoisson(lambda)`.
    Poisson {
        /// Mean λ > 0.
        lambda: f64,
    },
    /// `RiskBinomial(n, p)`: successes in n trials.
    Binomial {
        /// Trials, a non-negative integer.
        n: f64,
        /// Success probability in [0, 1].
        p: f64,
    },
    /// `RiskBernoulli(p)`: 1 with probability p, else 0.
    Bernoulli {
        /// Probability of 1, in [0, 1].
        p: f64,
    },
    /// `RiskNegbin(s, p)`: failures before the s-th success.
    Negbin {
        /// Successes s, a positive integer.
        s: f64,
        /// Success probability in (0, 1].
        p: f64,
    },
    /// `RiskGeomet(p)`: failures before the first success (support 0, 1, 2, ...; mean (1 − p)/p).
    ///
    /// Convention note: @RISK's help describes the value as the number of failures before the
    /// first success; the page was not available to check (see `docs/distributions.md`). Some
    /// tools count trials (support 1, 2, ...), which would add 1.
    Geomet {
        /// Success probability in (0, 1].
        p: f64,
    },
    /// `RiskHypergeo(n, D, M)`: successes in a sample of n drawn without replacement from a
    /// population of M holding D successes.
    ///
    /// Convention note: the argument order (sample size, successes in population, population size)
    /// rests on secondary sources; unverified (see `docs/distributions.md`).
    Hypergeo {
        /// Sample size n, an integer in [0, M].
        n: f64,
        /// Successes in the population D, an integer in [0, M].
        d: f64,
        /// Population size M, a positive integer.
        m: f64,
    },
    /// `RiskDiscrete({values}, {weights})`: weights are normalised to sum to 1.
    Discrete {
        /// Possible values.
        values: Vec<f64>,
        /// Non-negative weights, one per value, with a positive sum.
        weights: Vec<f64>,
    },
    /// `RiskDUniform({values})`: each value equally likely.
    DUniform {
        /// Possible values.
        values: Vec<f64>,
    },
    /// `RiskIntUniform(min, max)`: integers min..=max equally likely.
    IntUniform {
        /// Smallest integer.
        min: f64,
        /// Largest integer, >= min.
        max: f64,
    },
    /// `RiskCumul(min, max, {x}, {p})`: piecewise-linear CDF through (min, 0), (x_i, p_i), (max, 1).
    ///
    /// The x values are strictly increasing within [min, max]. A point equal to min (or max) is
    /// accepted as @RISK accepts it: the CDF jumps there, i.e. min takes probability p_1 (max
    /// takes 1 − p_n).
    Cumul {
        /// Minimum.
        min: f64,
        /// Maximum, > min.
        max: f64,
        /// Points, strictly increasing, within [min, max].
        xs: Vec<f64>,
        /// Cumulative probabilities at `xs`, non-decreasing, in [0, 1].
        ps: Vec<f64>,
    },
    /// `RiskCumulD(min, max, {x}, {p})`: like [`Distribution::Cumul`] with descending
    /// cumulative probabilities p_i = P(X > x_i) (non-increasing, in [0, 1]).
    CumulD {
        /// Minimum.
        min: f64,
        /// Maximum, > min.
        max: f64,
        /// Points, strictly increasing, within [min, max].
        xs: Vec<f64>,
        /// P(X > x_i), non-increasing, in [0, 1].
        ps: Vec<f64>,
    },
    /// `RiskGeneral(min, max, {x}, {weights})`: piecewise-linear density through (min, 0),
    /// (x_i, w_i), (max, 0), normalised. Points equal to min or max are accepted (the density
    /// then starts or ends at that point's weight).
    General {
        /// Minimum.
        min: f64,
        /// Maximum, > min.
        max: f64,
        /// Points, strictly increasing, within [min, max].
        xs: Vec<f64>,
        /// Non-negative density weights at `xs`.
        weights: Vec<f64>,
    },
    /// `RiskHistogrm(min, max, {p})`: equal-width classes on [min, max] with the given
    /// probabilities (normalised). min = max is accepted, as in @RISK, and gives the constant
    /// min.
    Histogrm {
        /// Minimum.
        min: f64,
        /// Maximum, >= min.
        max: f64,
        /// Non-negative class weights, with a positive sum.
        probs: Vec<f64>,
    },
    /// `RiskLogistic(alpha, beta)`: F(x) = 1/(1 + exp(−(x − α)/β)).
    ///
    /// Convention note: α location, β scale (not the standard deviation, which is βπ/√3); the
    /// same order as ModelRisk's Logistic(a, b); unverified for @RISK (see
    /// `docs/distributions.md`).
    Logistic {
        /// Location α.
        alpha: f64,
        /// Scale β > 0.
        beta: f64,
    },
    /// `RiskLoglogistic(gamma, beta, alpha)`: F(x) = 1/(1 + ((x − γ)/β)^(−α)) for x > γ.
    ///
    /// Convention note: the order (location, scale, shape) rests on secondary sources;
    /// unverified (see `docs/distributions.md`).
    Loglogistic {
        /// Location γ.
        gamma: f64,
        /// Scale β > 0.
        beta: f64,
        /// Shape α > 0.
        alpha: f64,
    },
    /// `RiskPareto(theta, a)`: F(x) = 1 − (a/x)^θ for x >= a.
    ///
    /// Shape first, then the scale (= the minimum), as ModelRisk's Pareto(θ, a), whose help
    /// example (70th percentile of Pareto(20, 0.95) = 1.00895) is a test; `RiskPareto2(b, q)`
    /// (scale, shape, a Lomax form) is a different function and is not covered here.
    Pareto {
        /// Shape θ > 0.
        theta: f64,
        /// Scale a > 0 (the minimum).
        a: f64,
    },
    /// `RiskStudent(nu)`: Student's t with ν degrees of freedom.
    ///
    /// Convention note: @RISK documents ν as an integer; any ν > 0 is accepted here (unverified,
    /// see `docs/distributions.md`).
    Student {
        /// Degrees of freedom ν > 0.
        nu: f64,
    },
    /// `RiskChiSq(nu)`: chi-square with ν degrees of freedom.
    ///
    /// Convention note: @RISK documents ν as an integer; any ν > 0 is accepted here.
    ChiSq {
        /// Degrees of freedom ν > 0.
        nu: f64,
    },
    /// `RiskErlang(m, beta)`: gamma with integer shape m and scale β.
    Erlang {
        /// Shape m, a positive integer.
        m: f64,
        /// Scale β > 0.
        beta: f64,
    },
    /// `RiskExtValue(alpha, beta)`: Gumbel (maximum), F(x) = exp(−exp(−(x − α)/β)).
    ExtValue {
        /// Location α (the mode).
        alpha: f64,
        /// Scale β > 0.
        beta: f64,
    },
    /// `RiskExtValueMin(alpha, beta)`: Gumbel (minimum), F(x) = 1 − exp(−exp((x − α)/β)).
    ExtValueMin {
        /// Location α (the mode).
        alpha: f64,
        /// Scale β > 0.
        beta: f64,
    },
    /// `RiskLaplace(mu, sigma)`: double exponential with location μ and standard deviation σ
    /// (f(x) = exp(−√2|x − μ|/σ)/(√2σ)); σ = 0 gives the constant μ, as in @RISK.
    Laplace {
        /// Location μ (mean, median and mode).
        mu: f64,
        /// Scale σ >= 0 (the standard deviation).
        sigma: f64,
    },
    /// `RiskLevy(a, c)`: Lévy with location a and scale c, F(x) = erfc(√(c/(2(x − a)))).
    Levy {
        /// Location a (the minimum).
        a: f64,
        /// Scale c > 0.
        c: f64,
    },
    /// `RiskRayleigh(beta)`: F(x) = 1 − exp(−x²/(2β²)), x >= 0.
    Rayleigh {
        /// Scale β > 0 (the mode).
        beta: f64,
    },
    /// `RiskPearson5(alpha, beta)`: inverse gamma, β/Gamma(α, 1).
    Pearson5 {
        /// Shape α > 0.
        alpha: f64,
        /// Scale β > 0.
        beta: f64,
    },
    /// `RiskPearson6(beta1, beta2, beta)`: β·B/(1 − B) with B ~ Beta(β1, β2) (a beta prime).
    Pearson6 {
        /// Shape β1 > 0.
        beta1: f64,
        /// Shape β2 > 0.
        beta2: f64,
        /// Scale β > 0.
        beta: f64,
    },
    /// `RiskInvGauss(mu, lambda)`: inverse Gaussian (Wald) with mean μ and shape λ.
    InvGauss {
        /// Mean μ > 0.
        mu: f64,
        /// Shape λ > 0.
        lambda: f64,
    },
}

/// Builds an [`SamplingError::InvalidParameter`].
pub(crate) fn invalid(
    function: &'static str,
    parameter: &'static str,
    rule: &'static str,
    value: impl Display,
) -> SamplingError {
    SamplingError::InvalidParameter {
        function,
        parameter,
        rule,
        value: value.to_string(),
    }
}

/// Parameter checks, each naming the function and parameter in its error.
pub(crate) struct Check(pub(crate) &'static str);

impl Check {
    pub(crate) fn finite(&self, name: &'static str, x: f64) -> Result<(), SamplingError> {
        if x.is_finite() {
            Ok(())
        } else {
            Err(invalid(self.0, name, "must be a finite number", x))
        }
    }
    pub(crate) fn positive(&self, name: &'static str, x: f64) -> Result<(), SamplingError> {
        self.finite(name, x)?;
        if x > 0.0 {
            Ok(())
        } else {
            Err(invalid(self.0, name, "must be positive", x))
        }
    }
    pub(crate) fn probability(&self, name: &'static str, x: f64) -> Result<(), SamplingError> {
        self.finite(name, x)?;
        if (0.0..=1.0).contains(&x) {
            Ok(())
        } else {
            Err(invalid(self.0, name, "must be a probability in [0, 1]", x))
        }
    }
    pub(crate) fn open_probability(&self, name: &'static str, x: f64) -> Result<(), SamplingError> {
        self.finite(name, x)?;
        if x > 0.0 && x <= 1.0 {
            Ok(())
        } else {
            Err(invalid(self.0, name, "must be a probability in (0, 1]", x))
        }
    }
    pub(crate) fn integer(&self, name: &'static str, x: f64) -> Result<(), SamplingError> {
        self.finite(name, x)?;
        if x.fract() == 0.0 && x.abs() < 9.0e15 {
            Ok(())
        } else {
            Err(invalid(self.0, name, "must be a whole number", x))
        }
    }
    pub(crate) fn non_negative_integer(
        &self,
        name: &'static str,
        x: f64,
    ) -> Result<(), SamplingError> {
        self.integer(name, x)?;
        if x >= 0.0 {
            Ok(())
        } else {
            Err(invalid(
                self.0,
                name,
                "must be zero or a positive whole number",
                x,
            ))
        }
    }
    pub(crate) fn positive_integer(&self, name: &'static str, x: f64) -> Result<(), SamplingError> {
        self.integer(name, x)?;
        if x >= 1.0 {
            Ok(())
        } else {
            Err(invalid(self.0, name, "must be a positive whole number", x))
        }
    }
    pub(crate) fn less(&self, min: f64, max: f64) -> Result<(), SamplingError> {
        self.finite("minimum", min)?;
        self.finite("maximum", max)?;
        if min < max {
            Ok(())
        } else {
            Err(invalid(
                self.0,
                "minimum",
                "must be less than the maximum",
                format_args!("min {min}, max {max}"),
            ))
        }
    }
    pub(crate) fn mode_between(&self, min: f64, mode: f64, max: f64) -> Result<(), SamplingError> {
        self.less(min, max)?;
        self.finite("most likely value", mode)?;
        if (min..=max).contains(&mode) {
            Ok(())
        } else {
            Err(invalid(
                self.0,
                "most likely value",
                "must lie between the minimum and the maximum",
                format_args!("min {min}, most likely {mode}, max {max}"),
            ))
        }
    }
    pub(crate) fn weights(&self, name: &'static str, w: &[f64]) -> Result<(), SamplingError> {
        if w.is_empty() {
            return Err(invalid(self.0, name, "must not be empty", "an empty list"));
        }
        for &x in w {
            self.finite(name, x)?;
            if x < 0.0 {
                return Err(invalid(self.0, name, "must not be negative", x));
            }
        }
        let sum: f64 = w.iter().sum();
        if sum > 0.0 && sum.is_finite() {
            Ok(())
        } else {
            Err(invalid(
                self.0,
                name,
                "must have a positive, finite sum",
                sum,
            ))
        }
    }
    pub(crate) fn same_len(
        &self,
        name: &'static str,
        a: usize,
        b: usize,
    ) -> Result<(), SamplingError> {
        if a == b {
            Ok(())
        } else {
            Err(invalid(
                self.0,
                name,
                "must have one entry per value",
                format_args!("{b} entries for {a} values"),
            ))
        }
    }
    pub(crate) fn interior_points(
        &self,
        min: f64,
        max: f64,
        xs: &[f64],
    ) -> Result<(), SamplingError> {
        self.less(min, max)?;
        let mut prev = min;
        let mut first = true;
        for &x in xs {
            self.finite("x values", x)?;
            if (first && x < min) || (!first && x <= prev) || x > max {
                return Err(invalid(
                    self.0,
                    "x values",
                    "must be strictly increasing and between the minimum and the maximum",
                    format_args!("{x} (min {min}, max {max})"),
                ));
            }
            prev = x;
            first = false;
        }
        Ok(())
    }
}

impl Distribution {
    /// The @RISK function this distribution mirrors, e.g. `RiskNormal`.
    pub fn function_name(&self) -> &'static str {
        match self {
            Distribution::Normal { .. } => "RiskNormal",
            Distribution::Lognormal { .. } => "RiskLognorm",
            Distribution::Lognormal2 { .. } => "RiskLognorm2",
            Distribution::Triangular { .. } => "RiskTriang",
            Distribution::Trigen { .. } => "RiskTrigen",
            Distribution::Pert { .. } => "RiskPert",
            Distribution::Uniform { .. } => "RiskUniform",
            Distribution::Beta { .. } => "RiskBeta",
            Distribution::BetaGeneral { .. } => "RiskBetaGeneral",
            Distribution::Gamma { .. } => "RiskGamma",
            Distribution::Weibull { .. } => "RiskWeibull",
            Distribution::Expon { .. } => "RiskExpon",
            Distribution::Poisson { .. } => "RiskPoisson",
            Distribution::Binomial { .. } => "RiskBinomial",
            Distribution::Bernoulli { .. } => "RiskBernoulli",
            Distribution::Negbin { .. } => "RiskNegbin",
            Distribution::Geomet { .. } => "RiskGeomet",
            Distribution::Hypergeo { .. } => "RiskHypergeo",
            Distribution::Discrete { .. } => "RiskDiscrete",
            Distribution::DUniform { .. } => "RiskDUniform",
            Distribution::IntUniform { .. } => "RiskIntUniform",
            Distribution::Cumul { .. } => "RiskCumul",
            Distribution::CumulD { .. } => "RiskCumulD",
            Distribution::ExtValueMin { .. } => "RiskExtValueMin",
            Distribution::Laplace { .. } => "RiskLaplace",
            Distribution::Levy { .. } => "RiskLevy",
            Distribution::Rayleigh { .. } => "RiskRayleigh",
            Distribution::Pearson5 { .. } => "RiskPearson5",
            Distribution::Pearson6 { .. } => "RiskPearson6",
            Distribution::InvGauss { .. } => "RiskInvGauss",
            Distribution::General { .. } => "RiskGeneral",
            Distribution::Histogrm { .. } => "RiskHistogrm",
            Distribution::Logistic { .. } => "RiskLogistic",
            Distribution::Loglogistic { .. } => "RiskLoglogistic",
            Distribution::Pareto { .. } => "RiskPareto",
            Distribution::Student { .. } => "RiskStudent",
            Distribution::ChiSq { .. } => "RiskChiSq",
            Distribution::Erlang { .. } => "RiskErlang",
            Distribution::ExtValue { .. } => "RiskExtValue",
        }
    }

    /// Whether the distribution takes only isolated values (its CDF is a step function).
    pub fn is_discrete(&self) -> bool {
        matches!(
            self,
            Distribution::Poisson { .. }
                | Distribution::Binomial { .. }
                | Distribution::Bernoulli { .. }
                | Distribution::Negbin { .. }
                | Distribution::Geomet { .. }
                | Distribution::Hypergeo { .. }
                | Distribution::Discrete { .. }
                | Distribution::DUniform { .. }
                | Distribution::IntUniform { .. }
        )
    }

    /// Checks the parameters, naming the rule broken and the value given.
    ///
    /// ```
    /// use mcsim_sampling::Distribution;
    /// let err = Distribution::Normal { mean: 10.0, sd: -2.0 }.validate().unwrap_err();
    /// assert_eq!(err.to_string(), "RiskNormal: standard deviation must be positive, got -2");
    /// ```
    pub fn validate(&self) -> Result<(), SamplingError> {
        let c = Check(self.function_name());
        match *self {
            Distribution::Normal { mean, sd } => {
                c.finite("mean", mean)?;
                c.positive("standard deviation", sd)
            }
            Distribution::Lognormal { mean, sd } => {
                c.positive("mean", mean)?;
                c.positive("standard deviation", sd)
            }
            Distribution::Lognormal2 { mu, sigma } => {
                c.finite("mu", mu)?;
                c.positive("sigma", sigma)
            }
            Distribution::Triangular { min, mode, max } => c.mode_between(min, mode, max),
            Distribution::Trigen {
                bottom,
                mode,
                top,
                bottom_pct,
                top_pct,
            } => {
                c.finite("bottom", bottom)?;
                c.finite("top", top)?;
                c.finite("most likely value", mode)?;
                if bottom >= top {
                    return Err(invalid(
                        c.0,
                        "bottom",
                        "must be less than top",
                        format_args!("bottom {bottom}, top {top}"),
                    ));
                }
                if !(bottom..=top).contains(&mode) {
                    return Err(invalid(
                        c.0,
                        "most likely value",
                        "must lie between bottom and top",
                        format_args!("bottom {bottom}, most likely {mode}, top {top}"),
                    ));
                }
                c.finite("bottom percentile", bottom_pct)?;
                c.finite("top percentile", top_pct)?;
                if !(0.0..100.0).contains(&bottom_pct) {
                    return Err(invalid(
                        c.0,
                        "bottom percentile",
                        "must be in [0, 100) (a percentage)",
                        bottom_pct,
                    ));
                }
                if !(top_pct > bottom_pct && top_pct <= 100.0) {
                    return Err(invalid(
                        c.0,
                        "top percentile",
                        "must be greater than the bottom percentile and at most 100",
                        format_args!("bottom {bottom_pct}, top {top_pct}"),
                    ));
                }
                Ok(())
            }
            Distribution::Pert {
                min,
                mode,
                max,
                lambda,
            } => {
                c.mode_between(min, mode, max)?;
                c.positive("lambda", lambda)
            }
            Distribution::Uniform { min, max } => c.less(min, max),
            Distribution::Beta { alpha1, alpha2 } => {
                c.positive("alpha1", alpha1)?;
                c.positive("alpha2", alpha2)
            }
            Distribution::BetaGeneral {
                alpha1,
                alpha2,
                min,
                max,
            } => {
                c.positive("alpha1", alpha1)?;
                c.positive("alpha2", alpha2)?;
                c.less(min, max)
            }
            Distribution::Gamma { shape, scale } | Distribution::Weibull { shape, scale } => {
                c.positive("shape (alpha)", shape)?;
                c.positive("scale (beta)", scale)
            }
            Distribution::Expon { mean } => c.positive("mean (beta)", mean),
            Distribution::Poisson { lambda } => c.positive("lambda", lambda),
            Distribution::Binomial { n, p } => {
                c.non_negative_integer("number of trials n", n)?;
                c.probability("probability p", p)
            }
            Distribution::Bernoulli { p } => c.probability("probability p", p),
            Distribution::Negbin { s, p } => {
                c.positive_integer("number of successes s", s)?;
                c.open_probability("probability p", p)
            }
            Distribution::Geomet { p } => c.open_probability("probability p", p),
            Distribution::Hypergeo { n, d, m } => {
                c.positive_integer("population size M", m)?;
                c.non_negative_integer("sample size n", n)?;
                c.non_negative_integer("successes in population D", d)?;
                if n > m {
                    return Err(invalid(
                        c.0,
                        "sample size n",
                        "must not exceed the population size M",
                        format_args!("n {n}, M {m}"),
                    ));
                }
                if d > m {
                    return Err(invalid(
                        c.0,
                        "successes in population D",
                        "must not exceed the population size M",
                        format_args!("D {d}, M {m}"),
                    ));
                }
                Ok(())
            }
            Distribution::Discrete {
                ref values,
                ref weights,
            } => {
                c.weights("weights", weights)?;
                c.same_len("weights", values.len(), weights.len())?;
                values.iter().try_for_each(|&v| c.finite("values", v))
            }
            Distribution::DUniform { ref values } => {
                if values.is_empty() {
                    return Err(invalid(c.0, "values", "must not be empty", "an empty list"));
                }
                values.iter().try_for_each(|&v| c.finite("values", v))
            }
            Distribution::IntUniform { min, max } => {
                c.integer("minimum", min)?;
                c.integer("maximum", max)?;
                if min <= max {
                    Ok(())
                } else {
                    Err(invalid(
                        c.0,
                        "minimum",
                        "must not exceed the maximum",
                        format_args!("min {min}, max {max}"),
                    ))
                }
            }
            Distribution::Cumul {
                min,
                max,
                ref xs,
                ref ps,
            } => {
                c.interior_points(min, max, xs)?;
                c.same_len("cumulative probabilities", xs.len(), ps.len())?;
                let mut prev = 0.0;
                for &p in ps {
                    c.probability("cumulative probabilities", p)?;
                    if p < prev {
                        return Err(invalid(
                            c.0,
                            "cumulative probabilities",
                            "must be non-decreasing",
                            format_args!("{p} after {prev}"),
                        ));
                    }
                    prev = p;
                }
                Ok(())
            }
            Distribution::CumulD {
                min,
                max,
                ref xs,
                ref ps,
            } => {
                c.interior_points(min, max, xs)?;
                c.same_len("cumulative probabilities", xs.len(), ps.len())?;
                let mut prev = 1.0;
                for &p in ps {
                    c.probability("cumulative probabilities", p)?;
                    if p > prev {
                        return Err(invalid(
                            c.0,
                            "cumulative probabilities",
                            "must be non-increasing (descending: P(X > x))",
                            format_args!("{p} after {prev}"),
                        ));
                    }
                    prev = p;
                }
                Ok(())
            }
            Distribution::General {
                min,
                max,
                ref xs,
                ref weights,
            } => {
                c.interior_points(min, max, xs)?;
                c.same_len("density weights", xs.len(), weights.len())?;
                c.weights("density weights", weights)
            }
            Distribution::Histogrm {
                min,
                max,
                ref probs,
            } => {
                c.finite("minimum", min)?;
                c.finite("maximum", max)?;
                if min > max {
                    return Err(invalid(
                        c.0,
                        "minimum",
                        "must not exceed the maximum",
                        format_args!("min {min}, max {max}"),
                    ));
                }
                c.weights("class probabilities", probs)
            }
            Distribution::Logistic { alpha, beta }
            | Distribution::ExtValue { alpha, beta }
            | Distribution::ExtValueMin { alpha, beta } => {
                c.finite("location (alpha)", alpha)?;
                c.positive("scale (beta)", beta)
            }
            Distribution::Loglogistic { gamma, beta, alpha } => {
                c.finite("location (gamma)", gamma)?;
                c.positive("scale (beta)", beta)?;
                c.positive("shape (alpha)", alpha)
            }
            Distribution::Pareto { theta, a } => {
                c.positive("shape (theta)", theta)?;
                c.positive("scale (a)", a)
            }
            Distribution::Student { nu } | Distribution::ChiSq { nu } => {
                c.positive("degrees of freedom (nu)", nu)
            }
            Distribution::Erlang { m, beta } => {
                c.positive_integer("shape (m)", m)?;
                c.positive("scale (beta)", beta)
            }
            Distribution::Laplace { mu, sigma } => {
                c.finite("location (mu)", mu)?;
                c.finite("scale (sigma)", sigma)?;
                if sigma >= 0.0 {
                    Ok(())
                } else {
                    Err(invalid(c.0, "scale (sigma)", "must not be negative", sigma))
                }
            }
            Distribution::Levy { a, c: scale } => {
                c.finite("location (a)", a)?;
                c.positive("scale (c)", scale)
            }
            Distribution::Rayleigh { beta } => c.positive("scale (beta)", beta),
            Distribution::Pearson5 { alpha, beta } => {
                c.positive("shape (alpha)", alpha)?;
                c.positive("scale (beta)", beta)
            }
            Distribution::Pearson6 { beta1, beta2, beta } => {
                c.positive("shape (beta1)", beta1)?;
                c.positive("shape (beta2)", beta2)?;
                c.positive("scale (beta)", beta)
            }
            Distribution::InvGauss { mu, lambda } => {
                c.positive("mean (mu)", mu)?;
                c.positive("shape (lambda)", lambda)
            }
        }
    }

    /// The inverse CDF: the smallest x with F(x) >= u, for u in (0, 1). NaN when the parameters
    /// are invalid. This prepares the distribution on every call (tables included); prepare a
    /// [`crate::Sampler`] once to evaluate many quantiles.
    pub fn quantile(&self, u: f64) -> f64 {
        Kind::new(self).map_or(f64::NAN, |k| k.quantile(u, 1.0 - u))
    }

    /// The CDF F(x) = P(X <= x). NaN when the parameters are invalid.
    pub fn cdf(&self, x: f64) -> f64 {
        Kind::new(self).map_or(f64::NAN, |k| k.cdf(x).0)
    }

    /// The mean, in closed form (what @RISK shows in a distribution cell outside a simulation).
    /// +∞ where the mean is infinite (Pareto θ <= 1, log-logistic α <= 1); NaN where it is
    /// undefined (Student ν <= 1) or the parameters are invalid.
    pub fn mean(&self) -> f64 {
        if self.validate().is_err() {
            return f64::NAN;
        }
        match *self {
            Distribution::Normal { mean, .. } | Distribution::Lognormal { mean, .. } => mean,
            Distribution::Lognormal2 { mu, sigma } => (mu + 0.5 * sigma * sigma).exp(),
            Distribution::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Distribution::Trigen { .. } => match Kind::new(self) {
                Ok(Kind::Triangular { a, c, m, .. }) => (a + m + c) / 3.0,
                _ => f64::NAN,
            },
            Distribution::Pert {
                min,
                mode,
                max,
                lambda,
            } => (min + lambda * mode + max) / (lambda + 2.0),
            Distribution::Uniform { min, max } => 0.5 * (min + max),
            Distribution::Beta { alpha1, alpha2 } => alpha1 / (alpha1 + alpha2),
            Distribution::BetaGeneral {
                alpha1,
                alpha2,
                min,
                max,
            } => min + (max - min) * alpha1 / (alpha1 + alpha2),
            Distribution::Gamma { shape, scale } => shape * scale,
            Distribution::Weibull { shape, scale } => scale * gamma_fn(1.0 + 1.0 / shape),
            Distribution::Expon { mean } => mean,
            Distribution::Poisson { lambda } => lambda,
            Distribution::Binomial { n, p } => n * p,
            Distribution::Bernoulli { p } => p,
            Distribution::Negbin { s, p } => s * (1.0 - p) / p,
            Distribution::Geomet { p } => (1.0 - p) / p,
            Distribution::Hypergeo { n, d, m } => n * d / m,
            Distribution::Discrete {
                ref values,
                ref weights,
            } => {
                let total: f64 = weights.iter().sum();
                values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total
            }
            Distribution::DUniform { ref values } => {
                values.iter().sum::<f64>() / values.len() as f64
            }
            Distribution::IntUniform { min, max } => 0.5 * (min + max),
            Distribution::Cumul { .. }
            | Distribution::CumulD { .. }
            | Distribution::General { .. }
            | Distribution::Histogrm { .. } => piecewise_moments(self).0,
            Distribution::ExtValueMin { alpha, beta } => alpha - EULER_GAMMA * beta,
            Distribution::Laplace { mu, .. } => mu,
            Distribution::Levy { .. } => f64::INFINITY,
            Distribution::Rayleigh { beta } => beta * (0.5 * PI).sqrt(),
            Distribution::Pearson5 { alpha, beta } => {
                if alpha <= 1.0 {
                    f64::INFINITY
                } else {
                    beta / (alpha - 1.0)
                }
            }
            Distribution::Pearson6 { beta1, beta2, beta } => {
                if beta2 <= 1.0 {
                    f64::INFINITY
                } else {
                    beta * beta1 / (beta2 - 1.0)
                }
            }
            Distribution::InvGauss { mu, .. } => mu,
            Distribution::Logistic { alpha, .. } => alpha,
            Distribution::Loglogistic { gamma, beta, alpha } => {
                if alpha <= 1.0 {
                    f64::INFINITY
                } else {
                    let t = PI / alpha;
                    gamma + beta * t / t.sin()
                }
            }
            Distribution::Pareto { theta, a } => {
                if theta <= 1.0 {
                    f64::INFINITY
                } else {
                    theta * a / (theta - 1.0)
                }
            }
            Distribution::Student { nu } => {
                if nu > 1.0 {
                    0.0
                } else {
                    f64::NAN
                }
            }
            Distribution::ChiSq { nu } => nu,
            Distribution::Erlang { m, beta } => m * beta,
            Distribution::ExtValue { alpha, beta } => alpha + EULER_GAMMA * beta,
        }
    }

    /// The variance, in closed form. +∞ where it is infinite, NaN where undefined or the
    /// parameters are invalid.
    pub fn variance(&self) -> f64 {
        if self.validate().is_err() {
            return f64::NAN;
        }
        match *self {
            Distribution::Normal { sd, .. } | Distribution::Lognormal { sd, .. } => sd * sd,
            Distribution::Lognormal2 { mu, sigma } => {
                let s2 = sigma * sigma;
                s2.exp_m1() * (2.0 * mu + s2).exp()
            }
            Distribution::Triangular { min, mode, max } => triangular_variance(min, mode, max),
            Distribution::Trigen { .. } => match Kind::new(self) {
                Ok(Kind::Triangular { a, c, m, .. }) => triangular_variance(a, m, c),
                _ => f64::NAN,
            },
            Distribution::Pert {
                min,
                mode,
                max,
                lambda,
            } => {
                let w = max - min;
                let a = 1.0 + lambda * (mode - min) / w;
                let b = 1.0 + lambda * (max - mode) / w;
                w * w * beta_variance(a, b)
            }
            Distribution::Uniform { min, max } => (max - min).powi(2) / 12.0,
            Distribution::Beta { alpha1, alpha2 } => beta_variance(alpha1, alpha2),
            Distribution::BetaGeneral {
                alpha1,
                alpha2,
                min,
                max,
            } => (max - min).powi(2) * beta_variance(alpha1, alpha2),
            Distribution::Gamma { shape, scale } => shape * scale * scale,
            Distribution::Weibull { shape, scale } => {
                let g1 = gamma_fn(1.0 + 1.0 / shape);
                let g2 = (ln_gamma(1.0 + 2.0 / shape)).exp();
                scale * scale * (g2 - g1 * g1)
            }
            Distribution::Expon { mean } => mean * mean,
            Distribution::Poisson { lambda } => lambda,
            Distribution::Binomial { n, p } => n * p * (1.0 - p),
            Distribution::Bernoulli { p } => p * (1.0 - p),
            Distribution::Negbin { s, p } => s * (1.0 - p) / (p * p),
            Distribution::Geomet { p } => (1.0 - p) / (p * p),
            Distribution::Hypergeo { n, d, m } => {
                if m <= 1.0 {
                    0.0
                } else {
                    n * (d / m) * (1.0 - d / m) * (m - n) / (m - 1.0)
                }
            }
            Distribution::Discrete {
                ref values,
                ref weights,
            } => {
                let total: f64 = weights.iter().sum();
                let mean = self.mean();
                values
                    .iter()
                    .zip(weights)
                    .map(|(v, w)| w * (v - mean).powi(2))
                    .sum::<f64>()
                    / total
            }
            Distribution::DUniform { ref values } => {
                let mean = self.mean();
                values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
            }
            Distribution::IntUniform { min, max } => ((max - min + 1.0).powi(2) - 1.0) / 12.0,
            Distribution::Cumul { .. }
            | Distribution::CumulD { .. }
            | Distribution::General { .. }
            | Distribution::Histogrm { .. } => piecewise_moments(self).1,
            Distribution::ExtValueMin { beta, .. } => PI * PI * beta * beta / 6.0,
            Distribution::Laplace { sigma, .. } => sigma * sigma,
            Distribution::Levy { .. } => f64::INFINITY,
            Distribution::Rayleigh { beta } => (2.0 - 0.5 * PI) * beta * beta,
            Distribution::Pearson5 { alpha, beta } => {
                if alpha <= 2.0 {
                    f64::INFINITY
                } else {
                    beta * beta / ((alpha - 1.0).powi(2) * (alpha - 2.0))
                }
            }
            Distribution::Pearson6 { beta1, beta2, beta } => {
                if beta2 <= 2.0 {
                    f64::INFINITY
                } else {
                    beta * beta * beta1 * (beta1 + beta2 - 1.0)
                        / ((beta2 - 1.0).powi(2) * (beta2 - 2.0))
                }
            }
            Distribution::InvGauss { mu, lambda } => mu * mu * mu / lambda,
            Distribution::Logistic { beta, .. } => beta * beta * PI * PI / 3.0,
            Distribution::Loglogistic { beta, alpha, .. } => {
                if alpha <= 2.0 {
                    f64::INFINITY
                } else {
                    let t = PI / alpha;
                    beta * beta * t * (2.0 / (2.0 * t).sin() - t / (t.sin() * t.sin()))
                }
            }
            Distribution::Pareto { theta, a } => {
                if theta <= 2.0 {
                    f64::INFINITY
                } else {
                    theta * a * a / ((theta - 1.0).powi(2) * (theta - 2.0))
                }
            }
            Distribution::Student { nu } => {
                if nu > 2.0 {
                    nu / (nu - 2.0)
                } else if nu > 1.0 {
                    f64::INFINITY
                } else {
                    f64::NAN
                }
            }
            Distribution::ChiSq { nu } => 2.0 * nu,
            Distribution::Erlang { m, beta } => m * beta * beta,
            Distribution::ExtValue { beta, .. } => PI * PI * beta * beta / 6.0,
        }
    }

    /// The standard deviation, √variance.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }
}

fn triangular_variance(a: f64, m: f64, c: f64) -> f64 {
    (a * a + m * m + c * c - a * m - a * c - m * c) / 18.0
}

fn beta_variance(a: f64, b: f64) -> f64 {
    a * b / ((a + b).powi(2) * (a + b + 1.0))
}

/// Mean and variance of the piecewise distributions (Cumul, General, Histogrm) by exact
/// integration over their segments.
fn piecewise_moments(d: &Distribution) -> (f64, f64) {
    // Each segment [x0, x1] carries a linear density f0 -> f1 (uniform when f0 == f1); Simpson's
    // rule is exact for x^k times a linear density, k <= 2.
    // Point masses: a vertical step of a Cumul CDF (a point equal to min or max).
    let mut atoms: Vec<(f64, f64)> = Vec::new();
    let segments: Vec<(f64, f64, f64, f64)> = match Kind::new(d) {
        Ok(Kind::Constant(c)) => return (c, 0.0),
        Ok(Kind::Cumul { xs, ps, .. }) => xs
            .windows(2)
            .zip(ps.windows(2))
            .filter(|(_, p)| p[1] > p[0])
            .filter_map(|(x, p)| {
                if x[1] > x[0] {
                    let f = (p[1] - p[0]) / (x[1] - x[0]);
                    Some((x[0], x[1], f, f))
                } else {
                    atoms.push((x[0], p[1] - p[0]));
                    None
                }
            })
            .collect(),
        Ok(Kind::General { xs, dens, .. }) => xs
            .windows(2)
            .zip(dens.windows(2))
            .map(|(x, f)| (x[0], x[1], f[0], f[1]))
            .collect(),
        Ok(Kind::Histogram {
            min, width, probs, ..
        }) => probs
            .iter()
            .enumerate()
            .map(|(j, &p)| {
                let x0 = min + width * j as f64;
                (x0, x0 + width, p / width, p / width)
            })
            .collect(),
        _ => return (f64::NAN, f64::NAN),
    };
    let moment = |k: i32| -> f64 {
        segments
            .iter()
            .map(|&(x0, x1, f0, f1)| {
                let xm = 0.5 * (x0 + x1);
                let fm = 0.5 * (f0 + f1);
                (x1 - x0) / 6.0 * (x0.powi(k) * f0 + 4.0 * xm.powi(k) * fm + x1.powi(k) * f1)
            })
            .sum()
    };
    let m0 = moment(0) + atoms.iter().map(|a| a.1).sum::<f64>();
    let m1 = (moment(1) + atoms.iter().map(|a| a.0 * a.1).sum::<f64>()) / m0;
    // Variance about the mean, integrated directly to avoid cancellation in E[X²] − E[X]².
    let var = segments
        .iter()
        .map(|&(x0, x1, f0, f1)| {
            let xm = 0.5 * (x0 + x1);
            let fm = 0.5 * (f0 + f1);
            let g = |x: f64| (x - m1) * (x - m1);
            (x1 - x0) / 6.0 * (g(x0) * f0 + 4.0 * g(xm) * fm + g(x1) * f1)
        })
        .sum::<f64>();
    let var = (var + atoms.iter().map(|a| (a.0 - m1).powi(2) * a.1).sum::<f64>()) / m0;
    (m1, var)
}
