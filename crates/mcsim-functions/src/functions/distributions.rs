//! From an in-cell distribution call (`=RiskTriang(1,2,4)`, `=PsiNormal(0,1)`) to a
//! [`Distribution`], with @RISK's argument orders (see `RISK_FUNCTIONS.md` in the reference).
//!
//! This is part of the function library (the evaluator shows a distribution's mean, or its
//! quantile at an iteration's uniform); the simulation builds its inputs with it through
//! `crate::sim::dists`.

use super::risk::DISTRIBUTIONS;
use crate::value::Value;
use mcsim_sampling::Distribution;

fn numbers(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a
            .data
            .iter()
            .filter_map(|x| match x {
                Value::Number(n) => Some(*n),
                Value::Bool(b) => Some(*b as u8 as f64),
                _ => None,
            })
            .collect(),
        Value::Number(n) => vec![*n],
        _ => Vec::new(),
    }
}

/// A distribution function resolved from its vendor and name: which [`Distribution`] its
/// parameters describe, in which order. Resolving compares strings; building from numbers then
/// compares none, so a call whose parameters change from iteration to iteration is resolved
/// once ([`DynamicDist`]) and built for each iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Normal,
    Lognormal,
    Lognormal2,
    Triangular,
    Trigen,
    Pert,
    ModPert,
    Uniform,
    Beta,
    BetaGeneral,
    Gamma,
    Weibull,
    Expon,
    Poisson,
    Binomial,
    Bernoulli,
    Negbin,
    Geomet,
    Hypergeo,
    Discrete,
    DUniform,
    IntUniform,
    CumulD,
    Cumul,
    General,
    Histogrm,
    Logistic,
    LoglogisticVose,
    Loglogistic,
    Pareto,
    Student,
    ChiSq,
    Erlang,
    ExtValue,
    ExtValueMin,
    Laplace,
    LaplaceVose,
    Levy,
    Rayleigh,
    Pearson5,
    Pearson6,
    InvGauss,
}

impl Family {
    /// The family of `vendor` (normalised: `"RISK"`, `"PSI"` or `"VOSE"`) and `dist`.
    fn resolve(vendor: &str, dist: &str) -> Option<Family> {
        match (vendor, dist) {
            (_, "NORMAL") => Some(Family::Normal),
            ("RISK", "LOGNORM") | ("PSI" | "VOSE", "LOGNORMAL") => Some(Family::Lognormal),
            ("RISK", "LOGNORM2") | ("PSI", "LOGNORMAL2") => Some(Family::Lognormal2),
            ("RISK", "TRIANG") | ("PSI", "TRIANGULAR") | ("VOSE", "TRIANGLE") => {
                Some(Family::Triangular)
            }
            (_, "TRIGEN") => Some(Family::Trigen),
            (_, "PERT") => Some(Family::Pert),
            ("VOSE", "MODPERT") => Some(Family::ModPert),
            (_, "UNIFORM") => Some(Family::Uniform),
            (_, "BETA") => Some(Family::Beta),
            ("RISK", "BETAGENERAL") | ("PSI", "BETAGEN") | ("VOSE", "BETA4") => {
                Some(Family::BetaGeneral)
            }
            (_, "GAMMA") => Some(Family::Gamma),
            (_, "WEIBULL") => Some(Family::Weibull),
            ("RISK" | "VOSE", "EXPON") => Some(Family::Expon),
            // Analytic Solver's PsiExponential takes the mean, like RiskExpon.
            ("PSI", "EXPONENTIAL") => Some(Family::Expon),
            (_, "POISSON") => Some(Family::Poisson),
            (_, "BINOMIAL") => Some(Family::Binomial),
            (_, "BERNOULLI") => Some(Family::Bernoulli),
            ("RISK" | "VOSE", "NEGBIN") | ("PSI", "NEGBINOMIAL") => Some(Family::Negbin),
            ("RISK", "GEOMET") | ("PSI" | "VOSE", "GEOMETRIC") => Some(Family::Geomet),
            ("RISK" | "PSI" | "VOSE", "HYPERGEO") => Some(Family::Hypergeo),
            (_, "DISCRETE") => Some(Family::Discrete),
            ("RISK" | "VOSE", "DUNIFORM") | ("PSI", "DISCUNIFORM") => Some(Family::DUniform),
            ("RISK" | "PSI" | "VOSE", "INTUNIFORM") => Some(Family::IntUniform),
            ("RISK" | "VOSE", "CUMULD") => Some(Family::CumulD),
            ("RISK" | "PSI", "CUMUL") | ("VOSE", "CUMULA") => Some(Family::Cumul),
            ("RISK" | "PSI", "GENERAL") | ("VOSE", "RELATIVE") => Some(Family::General),
            ("RISK", "HISTOGRM") | ("VOSE", "HISTOGRAM") => Some(Family::Histogrm),
            (_, "LOGISTIC") => Some(Family::Logistic),
            ("VOSE", "LOGLOGISTIC") => Some(Family::LoglogisticVose),
            (_, "LOGLOGISTIC") => Some(Family::Loglogistic),
            (_, "PARETO") => Some(Family::Pareto),
            ("RISK" | "PSI" | "VOSE", "STUDENT") => Some(Family::Student),
            ("RISK" | "VOSE", "CHISQ") | ("PSI", "CHISQUARE") => Some(Family::ChiSq),
            (_, "ERLANG") => Some(Family::Erlang),
            ("RISK" | "PSI", "EXTVALUE") | ("VOSE", "EXTVALUEMAX") => Some(Family::ExtValue),
            ("RISK" | "VOSE", "EXTVALUEMIN") => Some(Family::ExtValueMin),
            ("RISK", "LAPLACE") => Some(Family::Laplace),
            ("VOSE", "LAPLACE") => Some(Family::LaplaceVose),
            ("RISK", "LEVY") => Some(Family::Levy),
            ("RISK" | "VOSE", "RAYLEIGH") => Some(Family::Rayleigh),
            ("RISK" | "VOSE", "PEARSON5") => Some(Family::Pearson5),
            ("RISK" | "VOSE", "PEARSON6") => Some(Family::Pearson6),
            ("RISK" | "VOSE", "INVGAUSS") => Some(Family::InvGauss),
            _ => None,
        }
    }
}

/// A call's parameters as [`build`] reads them: the cells' values (errors are messages) or an
/// iteration's numbers (errors are only errors).
trait Args {
    type Err;
    fn len(&self) -> usize;
    fn is_number(&self, i: usize) -> bool;
    fn num(&self, i: usize) -> Result<f64, Self::Err>;
    fn list(&self, i: usize) -> Result<Vec<f64>, Self::Err>;
    /// An error unless there are exactly `n` parameters.
    fn arity(&self, n: usize) -> Result<(), Self::Err>;
    fn unsupported(&self) -> Self::Err;
}

/// Values of a call named `name` (`RiskTriang`), for messages.
struct ValueArgs<'a> {
    name: &'a str,
    p: &'a [Value],
}

impl Args for ValueArgs<'_> {
    type Err = String;
    fn len(&self) -> usize {
        self.p.len()
    }
    fn is_number(&self, i: usize) -> bool {
        matches!(self.p.get(i), Some(Value::Number(_)))
    }
    fn num(&self, i: usize) -> Result<f64, String> {
        let name = self.name;
        match self.p.get(i) {
            Some(Value::Number(n)) => Ok(*n),
            Some(Value::Bool(b)) => Ok(*b as u8 as f64),
            Some(Value::Error(e)) => Err(format!("{name}: argument {} is the error {e}", i + 1)),
            Some(Value::Array(_)) => Err(format!(
                "{name}: argument {} must be a single number",
                i + 1
            )),
            Some(other) => other.to_number().map_err(|_| {
                format!(
                    "{name}: argument {} must be a number, got {}",
                    i + 1,
                    other.type_name()
                )
            }),
            None => Err(format!("{name}: argument {} is missing", i + 1)),
        }
    }
    fn list(&self, i: usize) -> Result<Vec<f64>, String> {
        let name = self.name;
        let v = numbers(
            self.p
                .get(i)
                .ok_or_else(|| format!("{name}: argument {} is missing", i + 1))?,
        );
        if v.is_empty() {
            return Err(format!(
                "{name}: argument {} must be a list of numbers such as {{1,2,3}} or a range",
                i + 1
            ));
        }
        Ok(v)
    }
    fn arity(&self, n: usize) -> Result<(), String> {
        if self.p.len() != n {
            Err(format!(
                "{} takes {n} argument(s), got {}",
                self.name,
                self.p.len()
            ))
        } else {
            Ok(())
        }
    }
    fn unsupported(&self) -> String {
        format!("{} is not a supported distribution", self.name)
    }
}

/// An iteration's numbers: as values that are all numbers, without the messages.
impl Args for [f64] {
    type Err = ();
    fn len(&self) -> usize {
        <[f64]>::len(self)
    }
    fn is_number(&self, i: usize) -> bool {
        i < <[f64]>::len(self)
    }
    fn num(&self, i: usize) -> Result<f64, ()> {
        self.get(i).copied().ok_or(())
    }
    fn list(&self, i: usize) -> Result<Vec<f64>, ()> {
        self.get(i).map(|&x| vec![x]).ok_or(())
    }
    fn arity(&self, n: usize) -> Result<(), ()> {
        if <[f64]>::len(self) == n {
            Ok(())
        } else {
            Err(())
        }
    }
    fn unsupported(&self) {}
}

/// The distribution of a call of `family` with parameters `p`, before
/// [`Distribution::validate`]; `point`: the call is to a range distribution ([`point_range`]).
fn build<P: Args + ?Sized>(
    point: bool,
    family: Option<Family>,
    p: &P,
) -> Result<Distribution, P::Err> {
    // A range distribution whose range is one point (`RiskTriang(0,0,0)`, seen in real models
    // where a scenario switches an uncertainty off) is that constant, as in @RISK.
    if point && p.len() >= 2 && (0..p.len().min(3)).all(|i| p.is_number(i)) {
        let first = p.num(0)?;
        if (0..p.len().min(3)).all(|i| p.num(i).is_ok_and(|x| x == first)) {
            return Ok(Distribution::Discrete {
                values: vec![first],
                weights: vec![1.0],
            });
        }
    }
    let Some(family) = family else {
        return Err(p.unsupported());
    };
    Ok(match family {
        Family::Normal => {
            p.arity(2)?;
            Distribution::Normal {
                mean: p.num(0)?,
                sd: p.num(1)?,
            }
        }
        Family::Lognormal => {
            p.arity(2)?;
            Distribution::Lognormal {
                mean: p.num(0)?,
                sd: p.num(1)?,
            }
        }
        Family::Lognormal2 => {
            p.arity(2)?;
            Distribution::Lognormal2 {
                mu: p.num(0)?,
                sigma: p.num(1)?,
            }
        }
        Family::Triangular => {
            p.arity(3)?;
            Distribution::Triangular {
                min: p.num(0)?,
                mode: p.num(1)?,
                max: p.num(2)?,
            }
        }
        Family::Trigen => {
            p.arity(5)?;
            Distribution::Trigen {
                bottom: p.num(0)?,
                mode: p.num(1)?,
                top: p.num(2)?,
                bottom_pct: p.num(3)?,
                top_pct: p.num(4)?,
            }
        }
        Family::Pert => {
            p.arity(3)?;
            Distribution::Pert {
                min: p.num(0)?,
                mode: p.num(1)?,
                max: p.num(2)?,
                lambda: mcsim_sampling::DEFAULT_PERT_LAMBDA,
            }
        }
        Family::ModPert => {
            p.arity(4)?;
            Distribution::Pert {
                min: p.num(0)?,
                mode: p.num(1)?,
                max: p.num(2)?,
                lambda: p.num(3)?,
            }
        }
        Family::Uniform => {
            p.arity(2)?;
            Distribution::Uniform {
                min: p.num(0)?,
                max: p.num(1)?,
            }
        }
        Family::Beta => {
            p.arity(2)?;
            Distribution::Beta {
                alpha1: p.num(0)?,
                alpha2: p.num(1)?,
            }
        }
        Family::BetaGeneral => {
            p.arity(4)?;
            Distribution::BetaGeneral {
                alpha1: p.num(0)?,
                alpha2: p.num(1)?,
                min: p.num(2)?,
                max: p.num(3)?,
            }
        }
        Family::Gamma => {
            p.arity(2)?;
            Distribution::Gamma {
                shape: p.num(0)?,
                scale: p.num(1)?,
            }
        }
        Family::Weibull => {
            p.arity(2)?;
            Distribution::Weibull {
                shape: p.num(0)?,
                scale: p.num(1)?,
            }
        }
        Family::Expon => {
            p.arity(1)?;
            Distribution::Expon { mean: p.num(0)? }
        }
        Family::Poisson => {
            p.arity(1)?;
            Distribution::Poisson { lambda: p.num(0)? }
        }
        Family::Binomial => {
            p.arity(2)?;
            Distribution::Binomial {
                n: p.num(0)?,
                p: p.num(1)?,
            }
        }
        Family::Bernoulli => {
            p.arity(1)?;
            Distribution::Bernoulli { p: p.num(0)? }
        }
        Family::Negbin => {
            p.arity(2)?;
            Distribution::Negbin {
                s: p.num(0)?,
                p: p.num(1)?,
            }
        }
        Family::Geomet => {
            p.arity(1)?;
            Distribution::Geomet { p: p.num(0)? }
        }
        Family::Hypergeo => {
            p.arity(3)?;
            Distribution::Hypergeo {
                n: p.num(0)?,
                d: p.num(1)?,
                m: p.num(2)?,
            }
        }
        Family::Discrete => {
            p.arity(2)?;
            Distribution::Discrete {
                values: p.list(0)?,
                weights: p.list(1)?,
            }
        }
        Family::DUniform => {
            p.arity(1)?;
            Distribution::DUniform { values: p.list(0)? }
        }
        Family::IntUniform => {
            p.arity(2)?;
            Distribution::IntUniform {
                min: p.num(0)?,
                max: p.num(1)?,
            }
        }
        Family::CumulD => {
            p.arity(4)?;
            Distribution::CumulD {
                min: p.num(0)?,
                max: p.num(1)?,
                xs: p.list(2)?,
                ps: p.list(3)?,
            }
        }
        Family::Cumul => {
            p.arity(4)?;
            Distribution::Cumul {
                min: p.num(0)?,
                max: p.num(1)?,
                xs: p.list(2)?,
                ps: p.list(3)?,
            }
        }
        Family::General => {
            p.arity(4)?;
            Distribution::General {
                min: p.num(0)?,
                max: p.num(1)?,
                xs: p.list(2)?,
                weights: p.list(3)?,
            }
        }
        Family::Histogrm => {
            p.arity(3)?;
            Distribution::Histogrm {
                min: p.num(0)?,
                max: p.num(1)?,
                probs: p.list(2)?,
            }
        }
        Family::Logistic => {
            p.arity(2)?;
            Distribution::Logistic {
                alpha: p.num(0)?,
                beta: p.num(1)?,
            }
        }
        Family::LoglogisticVose => {
            // ModelRisk's LogLogistic(alpha, beta): shape, scale, no location.
            p.arity(2)?;
            Distribution::Loglogistic {
                gamma: 0.0,
                beta: p.num(1)?,
                alpha: p.num(0)?,
            }
        }
        Family::Loglogistic => {
            p.arity(3)?;
            Distribution::Loglogistic {
                gamma: p.num(0)?,
                beta: p.num(1)?,
                alpha: p.num(2)?,
            }
        }
        Family::Pareto => {
            p.arity(2)?;
            Distribution::Pareto {
                theta: p.num(0)?,
                a: p.num(1)?,
            }
        }
        Family::Student => {
            p.arity(1)?;
            Distribution::Student { nu: p.num(0)? }
        }
        Family::ChiSq => {
            p.arity(1)?;
            Distribution::ChiSq { nu: p.num(0)? }
        }
        Family::Erlang => {
            p.arity(2)?;
            Distribution::Erlang {
                m: p.num(0)?,
                beta: p.num(1)?,
            }
        }
        Family::ExtValue => {
            p.arity(2)?;
            Distribution::ExtValue {
                alpha: p.num(0)?,
                beta: p.num(1)?,
            }
        }
        Family::ExtValueMin => {
            p.arity(2)?;
            Distribution::ExtValueMin {
                alpha: p.num(0)?,
                beta: p.num(1)?,
            }
        }
        Family::Laplace => {
            p.arity(2)?;
            Distribution::Laplace {
                mu: p.num(0)?,
                sigma: p.num(1)?,
            }
        }
        Family::LaplaceVose => {
            // ModelRisk's Laplace(m, s) is m + Expon(s) − Expon(s): s is the exponential scale,
            // so the standard deviation is s·√2.
            p.arity(2)?;
            Distribution::Laplace {
                mu: p.num(0)?,
                sigma: p.num(1)? * std::f64::consts::SQRT_2,
            }
        }
        Family::Levy => {
            p.arity(2)?;
            Distribution::Levy {
                a: p.num(0)?,
                c: p.num(1)?,
            }
        }
        Family::Rayleigh => {
            p.arity(1)?;
            Distribution::Rayleigh { beta: p.num(0)? }
        }
        Family::Pearson5 => {
            p.arity(2)?;
            Distribution::Pearson5 {
                alpha: p.num(0)?,
                beta: p.num(1)?,
            }
        }
        Family::Pearson6 => {
            p.arity(3)?;
            Distribution::Pearson6 {
                beta1: p.num(0)?,
                beta2: p.num(1)?,
                beta: p.num(2)?,
            }
        }
        Family::InvGauss => {
            p.arity(2)?;
            Distribution::InvGauss {
                mu: p.num(0)?,
                lambda: p.num(1)?,
            }
        }
    })
}

/// Whether `dist` is a range distribution (`TRIANG`, `PERT`, `UNIFORM`, ...), which is a
/// constant when its range is one point.
fn point_range(dist: &str) -> bool {
    matches!(
        dist,
        "TRIANG" | "TRIANGULAR" | "TRIANGLE" | "PERT" | "MODPERT" | "UNIFORM"
    )
}

/// `"PSI"`, `"VOSE"`, or `"RISK"` for anything else.
fn normalise(vendor: &str) -> &'static str {
    match vendor {
        "PSI" => "PSI",
        "VOSE" => "VOSE",
        _ => "RISK",
    }
}

/// A distribution call whose parameters change from iteration to iteration, resolved once:
/// [`DynamicDist::quantile`] then builds the iteration's distribution from its numbers with no
/// string comparison and no allocation (but for the list distributions), where resolving it for
/// every iteration formatted its name and converted its parameters.
#[derive(Debug, Clone, Copy)]
pub struct DynamicDist {
    family: Option<Family>,
    point_range: bool,
    /// For a ModelRisk call, its parameters before the optional U argument (`None` for a
    /// ModelRisk function that is not mapped); `Some(usize::MAX)` for the other vendors.
    most: Option<usize>,
}

impl DynamicDist {
    /// The call `vendor` + `dist` (`"RISK"`, `"NORMAL"`).
    pub fn new(vendor: &str, dist: &str) -> DynamicDist {
        let vendor = normalise(vendor);
        DynamicDist {
            family: Family::resolve(vendor, dist),
            point_range: point_range(dist),
            most: if vendor == "VOSE" {
                vose_arity(dist)
            } else {
                Some(usize::MAX)
            },
        }
    }

    /// The quantile at `u`, plus `shift`, of the distribution with these numeric parameters,
    /// without truncation; NaN when the parameters are invalid. The same value as
    /// [`distribution`] of the parameters as numbers gives, bit for bit.
    pub fn quantile(&self, params: &[f64], shift: f64, u: f64) -> f64 {
        // ModelRisk: a U argument asks for a fixed percentile ([`vose_params`]).
        if self.most.is_none_or(|n| params.len() > n) {
            return f64::NAN;
        }
        match build(self.point_range, self.family, params) {
            Ok(d) if d.validate().is_ok() => d.quantile(u) + shift,
            _ => f64::NAN,
        }
    }
}

/// The quantile at `u`, plus `shift`, of the distribution `vendor`+`dist` (`"RISK"`, `"NORMAL"`)
/// with these numeric parameters: a distribution call whose parameters change from iteration to
/// iteration, without truncation. NaN when the parameters are invalid. The same value as
/// [`distribution`] of the parameters as numbers gives (the interpreter's), bit for bit. A caller
/// with many iterations (the block program) resolves the call once with [`DynamicDist`].
pub fn dynamic_quantile(vendor: &str, dist: &str, params: &[f64], shift: f64, u: f64) -> f64 {
    DynamicDist::new(vendor, dist).quantile(params, shift, u)
}

/// The distribution that a call of `vendor` (`"RISK"`, `"PSI"` or `"VOSE"`) and `dist` (the name
/// without its prefix, upper case: `"NORMAL"`) with these parameters describes, or a message
/// naming what is wrong.
pub fn distribution(vendor: &str, dist: &str, params: &[Value]) -> Result<Distribution, String> {
    let vendor = normalise(vendor);
    let name = format!(
        "{}{}",
        match vendor {
            "PSI" => "Psi",
            "VOSE" => "Vose",
            _ => "Risk",
        },
        title(dist)
    );
    let vose = vose_params(vendor, dist, params, &name)?;
    let p = ValueArgs {
        name: &name,
        p: vose.as_deref().unwrap_or(params),
    };
    let d = build(point_range(dist), Family::resolve(vendor, dist), &p)?;
    // The sampler's message names the @RISK function (`RiskNormal: standard deviation ...`);
    // a Psi or Vose call is named as written.
    d.validate().map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix(d.function_name()) {
            Some(rest) if vendor != "RISK" => format!("{name}{rest}"),
            _ => text,
        }
    })?;
    Ok(d)
}

/// The number of parameters of each ModelRisk distribution mapped here, before its optional
/// U argument (from the one list of distributions, [`super::risk::DISTRIBUTIONS`]).
fn vose_arity(dist: &str) -> Option<usize> {
    DISTRIBUTIONS
        .iter()
        .find(|d| d.name.strip_prefix("VOSE") == Some(dist))?
        .vose_arity
}

/// A ModelRisk call's parameters without its optional U argument (`VoseNormal(100,10)`,
/// `VoseNormal(100,10,,VoseXBounds(90,120))`: the empty U is dropped). A given U makes the
/// function return that percentile, usually fed by a copula cell; that is not a sampled input,
/// so it is refused with a message. `None` for calls of other vendors.
fn vose_params(
    vendor: &str,
    dist: &str,
    params: &[Value],
    name: &str,
) -> Result<Option<Vec<Value>>, String> {
    if vendor != "VOSE" {
        return Ok(None);
    }
    let Some(n) = vose_arity(dist) else {
        return Err(format!(
            "{name} is not a supported distribution (ModelRisk functions mapped: see              docs/distributions.md)"
        ));
    };
    let mut params = params.to_vec();
    while params.len() > n && matches!(params.last(), Some(Value::Empty)) {
        params.pop();
    }
    if params.len() > n {
        return Err(format!(
            "{name}: the U argument (argument {}) asks for a fixed percentile, usually from a              copula; mcsim samples the distribution itself, so leave U empty and correlate              inputs with RiskCorrmat or the model file",
            n + 1
        ));
    }
    Ok(Some(params))
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_string() + &c.as_str().to_lowercase(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;

    /// A call as the tests write it.
    struct Call {
        vendor: &'static str,
        dist: String,
        params: Vec<Value>,
    }

    fn call(vendor: &'static str, dist: &str, params: Vec<Value>) -> Call {
        Call {
            vendor,
            dist: dist.into(),
            params,
        }
    }

    fn distribution(c: &Call) -> Result<Distribution, String> {
        super::distribution(c.vendor, &c.dist, &c.params)
    }

    #[test]
    fn maps_argument_orders() {
        let n = |x: f64| Value::Number(x);
        assert_eq!(
            distribution(&call("RISK", "TRIANG", vec![n(1.0), n(2.0), n(4.0)])).unwrap(),
            Distribution::Triangular {
                min: 1.0,
                mode: 2.0,
                max: 4.0
            }
        );
        assert_eq!(
            distribution(&call("PSI", "TRIANGULAR", vec![n(1.0), n(2.0), n(4.0)])).unwrap(),
            Distribution::Triangular {
                min: 1.0,
                mode: 2.0,
                max: 4.0
            }
        );
        let arr = |v: &[f64]| {
            Value::Array(Arc::new(crate::Array::row(
                v.iter().map(|&x| Value::Number(x)).collect(),
            )))
        };
        assert_eq!(
            distribution(&call(
                "RISK",
                "DISCRETE",
                vec![arr(&[1.0, 2.0]), arr(&[0.25, 0.75])]
            ))
            .unwrap(),
            Distribution::Discrete {
                values: vec![1.0, 2.0],
                weights: vec![0.25, 0.75]
            }
        );
    }

    #[test]
    fn modelrisk_calls_map_to_the_same_distributions() {
        let n = |x: f64| Value::Number(x);
        assert_eq!(
            distribution(&call("VOSE", "TRIANGLE", vec![n(1.0), n(2.0), n(4.0)])).unwrap(),
            Distribution::Triangular {
                min: 1.0,
                mode: 2.0,
                max: 4.0
            }
        );
        // An empty U argument (`VoseNormal(100,10,,VoseXBounds(90,120))`) is dropped.
        assert_eq!(
            distribution(&call(
                "VOSE",
                "NORMAL",
                vec![n(100.0), n(10.0), Value::Empty]
            ))
            .unwrap(),
            Distribution::Normal {
                mean: 100.0,
                sd: 10.0
            }
        );
        assert_eq!(
            distribution(&call(
                "VOSE",
                "MODPERT",
                vec![n(1.0), n(2.0), n(5.0), n(6.0)]
            ))
            .unwrap(),
            Distribution::Pert {
                min: 1.0,
                mode: 2.0,
                max: 5.0,
                lambda: 6.0
            }
        );
        assert_eq!(
            distribution(&call(
                "VOSE",
                "BETA4",
                vec![n(2.0), n(3.0), n(10.0), n(20.0)]
            ))
            .unwrap(),
            Distribution::BetaGeneral {
                alpha1: 2.0,
                alpha2: 3.0,
                min: 10.0,
                max: 20.0
            }
        );
        // ModelRisk's help: the 70th percentile of Pareto(20, 0.95) is 1.00895.
        let d = distribution(&call("VOSE", "PARETO", vec![n(20.0), n(0.95)])).unwrap();
        assert!(
            (d.quantile(0.7) - 1.00895).abs() < 5e-6,
            "{}",
            d.quantile(0.7)
        );
        // ModelRisk's Laplace(m, s) has standard deviation s·√2.
        let d = distribution(&call("VOSE", "LAPLACE", vec![n(0.0), n(1.0)])).unwrap();
        assert!((d.variance() - 2.0).abs() < 1e-12);
        // A U argument fixes a percentile: refused with a message naming it.
        let e =
            distribution(&call("VOSE", "NORMAL", vec![n(100.0), n(10.0), n(0.95)])).unwrap_err();
        assert!(e.starts_with("VoseNormal: the U argument"), "{e}");
        // Messages name the function as written.
        let e = distribution(&call("VOSE", "NORMAL", vec![n(1.0), n(-2.0)])).unwrap_err();
        assert!(e.starts_with("VoseNormal: standard deviation"), "{e}");
        let e = distribution(&call("VOSE", "COPULAMULTINORMAL", vec![n(1.0)])).unwrap_err();
        assert!(e.contains("not a supported distribution"), "{e}");
    }

    #[test]
    fn risk_piecewise_points_may_equal_min_and_max() {
        let n = |x: f64| Value::Number(x);
        let arr = |v: &[f64]| {
            Value::Array(Arc::new(crate::Array::row(
                v.iter().map(|&x| Value::Number(x)).collect(),
            )))
        };
        let d = distribution(&call(
            "RISK",
            "CUMUL",
            vec![
                n(0.0),
                n(10.0),
                arr(&[0.0, 5.0, 10.0]),
                arr(&[0.0, 0.5, 1.0]),
            ],
        ))
        .unwrap();
        assert!((d.mean() - 5.0).abs() < 1e-12);
        let d = distribution(&call(
            "RISK",
            "CUMULD",
            vec![
                n(0.0),
                n(10.0),
                arr(&[1.0, 5.0, 9.0]),
                arr(&[0.9, 0.3, 0.1]),
            ],
        ))
        .unwrap();
        assert!((d.cdf(5.0) - 0.7).abs() < 1e-12);
        assert!(
            distribution(&call(
                "RISK",
                "CUMUL",
                vec![n(0.0), n(10.0), arr(&[-1.0, 5.0]), arr(&[0.1, 0.5])],
            ))
            .is_err()
        );
        assert!(distribution(&call("RISK", "HISTOGRM", vec![n(5.0), n(5.0), arr(&[1.0])])).is_ok());
    }

    #[test]
    fn bad_parameters_name_the_rule() {
        let n = |x: f64| Value::Number(x);
        let e = distribution(&call("RISK", "NORMAL", vec![n(1.0), n(-2.0)])).unwrap_err();
        assert!(e.starts_with("RiskNormal"), "{e}");
        let e = distribution(&call("RISK", "NORMAL", vec![n(1.0)])).unwrap_err();
        assert!(e.contains("takes 2"), "{e}");
        let e = distribution(&call("RISK", "TRIANG", vec![n(5.0), n(2.0), n(4.0)])).unwrap_err();
        assert!(e.starts_with("RiskTriang"), "{e}");
    }

    /// One list of distribution names ([`DISTRIBUTIONS`]): every name on it maps to a sampler
    /// here, and every vendor/name pair this mapping accepts is on it, so the interpreter (which
    /// registers the list as functions) and the simulation agree on what a distribution is.
    /// (Ten Analytic Solver distributions were once sampled here but unknown to the evaluator.)
    #[test]
    fn the_distribution_list_and_the_mapping_agree() {
        let supported =
            |vendor: &'static str, dist: &str| match distribution(&call(vendor, dist, vec![])) {
                Ok(_) => true,
                Err(e) => !e.contains("is not a supported distribution"),
            };
        let split = |name: &'static str| -> (&'static str, &'static str) {
            for v in ["RISK", "PSI", "VOSE"] {
                if let Some(rest) = name.strip_prefix(v) {
                    return (v, rest);
                }
            }
            panic!("{name} has no vendor prefix");
        };
        for d in DISTRIBUTIONS {
            let (vendor, dist) = split(d.name);
            assert!(
                supported(vendor, dist),
                "{} is listed but not mapped",
                d.name
            );
            assert_eq!(vendor == "VOSE", d.vose_arity.is_some(), "{}", d.name);
        }
        // Every listed suffix under every vendor: accepted only if listed.
        for d in DISTRIBUTIONS {
            let dist = split(d.name).1;
            for vendor in ["RISK", "PSI", "VOSE"] {
                let listed = DISTRIBUTIONS
                    .iter()
                    .any(|x| split(x.name) == (vendor, dist));
                assert_eq!(supported(vendor, dist), listed, "{vendor}{dist}");
            }
        }
        assert!(crate::functions::lookup("PSINEGBINOMIAL").is_some());
    }

    /// A call resolved once and built from numbers for each iteration gives the quantile that
    /// the call built from values gives, bit for bit, and NaN exactly where that is an error:
    /// every family, valid and invalid parameters, ModelRisk's U argument, a collapsed range.
    #[test]
    fn a_resolved_call_gives_the_quantiles_of_the_call_built_from_values() {
        let calls: &[(&str, &str, &[f64])] = &[
            ("RISK", "NORMAL", &[10.0, 2.0]),
            ("RISK", "NORMAL", &[10.0, -2.0]),
            ("RISK", "NORMAL", &[10.0]),
            ("RISK", "LOGNORM", &[10.0, 2.0]),
            ("PSI", "LOGNORMAL", &[10.0, 2.0]),
            ("RISK", "LOGNORM2", &[1.0, 0.5]),
            ("PSI", "LOGNORMAL2", &[1.0, 0.5]),
            ("RISK", "TRIANG", &[1.0, 2.0, 4.0]),
            ("RISK", "TRIANG", &[3.0, 3.0, 3.0]),
            ("PSI", "TRIANG", &[3.0, 3.0, 3.0]),
            ("RISK", "TRIANG", &[4.0, 2.0, 1.0]),
            ("PSI", "TRIANGULAR", &[1.0, 2.0, 4.0]),
            ("VOSE", "TRIANGLE", &[1.0, 2.0, 4.0]),
            ("VOSE", "TRIANGLE", &[1.0, 2.0, 4.0, 0.3]),
            ("RISK", "TRIGEN", &[1.0, 2.0, 4.0, 10.0, 90.0]),
            ("RISK", "PERT", &[1.0, 2.0, 4.0]),
            ("VOSE", "MODPERT", &[1.0, 2.0, 4.0, 3.0]),
            ("RISK", "UNIFORM", &[1.0, 4.0]),
            ("RISK", "UNIFORM", &[2.0, 2.0]),
            ("RISK", "BETA", &[2.0, 3.0]),
            ("RISK", "BETAGENERAL", &[2.0, 3.0, 1.0, 5.0]),
            ("PSI", "BETAGEN", &[2.0, 3.0, 1.0, 5.0]),
            ("VOSE", "BETA4", &[2.0, 3.0, 1.0, 5.0]),
            ("RISK", "GAMMA", &[2.0, 3.0]),
            ("RISK", "WEIBULL", &[2.0, 3.0]),
            ("RISK", "EXPON", &[3.0]),
            ("PSI", "EXPONENTIAL", &[3.0]),
            ("RISK", "POISSON", &[3.0]),
            ("RISK", "BINOMIAL", &[10.0, 0.3]),
            ("RISK", "BERNOULLI", &[0.3]),
            ("RISK", "NEGBIN", &[3.0, 0.4]),
            ("PSI", "NEGBINOMIAL", &[3.0, 0.4]),
            ("RISK", "GEOMET", &[0.4]),
            ("PSI", "GEOMETRIC", &[0.4]),
            ("RISK", "HYPERGEO", &[5.0, 4.0, 20.0]),
            ("RISK", "DISCRETE", &[3.0, 1.0]),
            ("RISK", "DUNIFORM", &[3.0]),
            ("RISK", "INTUNIFORM", &[1.0, 6.0]),
            ("RISK", "CUMULD", &[0.0, 10.0, 5.0, 0.5]),
            ("RISK", "CUMUL", &[0.0, 10.0, 5.0, 0.5]),
            ("VOSE", "CUMULA", &[0.0, 10.0, 5.0, 0.5]),
            ("RISK", "GENERAL", &[0.0, 10.0, 5.0, 1.0]),
            ("VOSE", "RELATIVE", &[0.0, 10.0, 5.0, 1.0]),
            ("RISK", "HISTOGRM", &[0.0, 10.0, 1.0]),
            ("VOSE", "HISTOGRAM", &[0.0, 10.0, 1.0]),
            ("RISK", "LOGISTIC", &[2.0, 3.0]),
            ("VOSE", "LOGLOGISTIC", &[2.0, 3.0]),
            ("RISK", "LOGLOGISTIC", &[1.0, 2.0, 3.0]),
            ("RISK", "PARETO", &[2.0, 3.0]),
            ("RISK", "STUDENT", &[5.0]),
            ("RISK", "CHISQ", &[5.0]),
            ("PSI", "CHISQUARE", &[5.0]),
            ("RISK", "ERLANG", &[3.0, 2.0]),
            ("RISK", "EXTVALUE", &[2.0, 3.0]),
            ("VOSE", "EXTVALUEMAX", &[2.0, 3.0]),
            ("RISK", "EXTVALUEMIN", &[2.0, 3.0]),
            ("RISK", "LAPLACE", &[2.0, 3.0]),
            ("VOSE", "LAPLACE", &[2.0, 3.0]),
            ("RISK", "LEVY", &[2.0, 3.0]),
            ("RISK", "RAYLEIGH", &[3.0]),
            ("RISK", "PEARSON5", &[3.0, 2.0]),
            ("RISK", "PEARSON6", &[3.0, 2.0, 1.0]),
            ("RISK", "INVGAUSS", &[3.0, 2.0]),
            ("RISK", "NOSUCH", &[3.0, 2.0]),
            ("VOSE", "NOSUCH", &[3.0, 2.0]),
        ];
        let mut valid = 0;
        for &(vendor, dist, params) in calls {
            let resolved = DynamicDist::new(vendor, dist);
            let values: Vec<Value> = params.iter().map(|&x| Value::Number(x)).collect();
            let built = super::distribution(vendor, dist, &values);
            valid += usize::from(built.is_ok());
            for u in [1e-9, 0.01, 0.3, 0.5, 0.77, 0.999] {
                let got = resolved.quantile(params, 0.25, u);
                match &built {
                    Ok(d) => assert_eq!(
                        got.to_bits(),
                        (d.quantile(u) + 0.25).to_bits(),
                        "{vendor} {dist} {params:?} at {u}"
                    ),
                    Err(_) => assert!(got.is_nan(), "{vendor} {dist} {params:?}: {got}"),
                }
                assert_eq!(
                    got.to_bits(),
                    dynamic_quantile(vendor, dist, params, 0.25, u).to_bits()
                );
            }
        }
        // All but the six written to be wrong (a negative deviation, a missing parameter, a
        // reversed range, a U argument, two unknown names).
        assert_eq!(valid, calls.len() - 6);
    }
}
