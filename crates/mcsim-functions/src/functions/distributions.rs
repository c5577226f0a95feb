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

/// The quantile at `u`, plus `shift`, of the distribution `vendor`+`dist` (`"RISK"`, `"NORMAL"`)
/// with these numeric parameters: a distribution call whose parameters change from iteration to
/// iteration, without truncation. NaN when the parameters are invalid. The block program and the
/// interpreter both take this, so their values agree bit for bit.
pub fn dynamic_quantile(vendor: &str, dist: &str, params: &[f64], shift: f64, u: f64) -> f64 {
    let params: Vec<Value> = params.iter().map(|&x| Value::Number(x)).collect();
    match distribution(vendor, dist, &params) {
        Ok(d) => d.quantile(u) + shift,
        Err(_) => f64::NAN,
    }
}

/// The distribution that a call of `vendor` (`"RISK"`, `"PSI"` or `"VOSE"`) and `dist` (the name
/// without its prefix, upper case: `"NORMAL"`) with these parameters describes, or a message
/// naming what is wrong.
pub fn distribution(vendor: &str, dist: &str, params: &[Value]) -> Result<Distribution, String> {
    let vendor = match vendor {
        "PSI" => "PSI",
        "VOSE" => "VOSE",
        _ => "RISK",
    };
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
    let p: &[Value] = vose.as_deref().unwrap_or(params);
    let num = |i: usize| -> Result<f64, String> {
        match p.get(i) {
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
    };
    let list = |i: usize| -> Result<Vec<f64>, String> {
        let v = numbers(
            p.get(i)
                .ok_or_else(|| format!("{name}: argument {} is missing", i + 1))?,
        );
        if v.is_empty() {
            return Err(format!(
                "{name}: argument {} must be a list of numbers such as {{1,2,3}} or a range",
                i + 1
            ));
        }
        Ok(v)
    };
    let arity = |n: usize| -> Result<(), String> {
        if p.len() != n {
            Err(format!("{name} takes {n} argument(s), got {}", p.len()))
        } else {
            Ok(())
        }
    };
    // A range distribution whose range is one point (`RiskTriang(0,0,0)`, seen in real models
    // where a scenario switches an uncertainty off) is that constant, as in @RISK.
    if matches!(
        dist,
        "TRIANG" | "TRIANGULAR" | "TRIANGLE" | "PERT" | "MODPERT" | "UNIFORM"
    ) && p.len() >= 2
        && p.iter().take(3).all(|v| matches!(v, Value::Number(_)))
    {
        let first = num(0)?;
        if (0..p.len().min(3)).all(|i| num(i).is_ok_and(|x| x == first)) {
            return Ok(Distribution::Discrete {
                values: vec![first],
                weights: vec![1.0],
            });
        }
    }
    let d = match (vendor, dist) {
        (_, "NORMAL") => {
            arity(2)?;
            Distribution::Normal {
                mean: num(0)?,
                sd: num(1)?,
            }
        }
        ("RISK", "LOGNORM") | ("PSI" | "VOSE", "LOGNORMAL") => {
            arity(2)?;
            Distribution::Lognormal {
                mean: num(0)?,
                sd: num(1)?,
            }
        }
        ("RISK", "LOGNORM2") | ("PSI", "LOGNORMAL2") => {
            arity(2)?;
            Distribution::Lognormal2 {
                mu: num(0)?,
                sigma: num(1)?,
            }
        }
        ("RISK", "TRIANG") | ("PSI", "TRIANGULAR") | ("VOSE", "TRIANGLE") => {
            arity(3)?;
            Distribution::Triangular {
                min: num(0)?,
                mode: num(1)?,
                max: num(2)?,
            }
        }
        (_, "TRIGEN") => {
            arity(5)?;
            Distribution::Trigen {
                bottom: num(0)?,
                mode: num(1)?,
                top: num(2)?,
                bottom_pct: num(3)?,
                top_pct: num(4)?,
            }
        }
        (_, "PERT") => {
            arity(3)?;
            Distribution::Pert {
                min: num(0)?,
                mode: num(1)?,
                max: num(2)?,
                lambda: mcsim_sampling::DEFAULT_PERT_LAMBDA,
            }
        }
        ("VOSE", "MODPERT") => {
            arity(4)?;
            Distribution::Pert {
                min: num(0)?,
                mode: num(1)?,
                max: num(2)?,
                lambda: num(3)?,
            }
        }
        (_, "UNIFORM") => {
            arity(2)?;
            Distribution::Uniform {
                min: num(0)?,
                max: num(1)?,
            }
        }
        (_, "BETA") => {
            arity(2)?;
            Distribution::Beta {
                alpha1: num(0)?,
                alpha2: num(1)?,
            }
        }
        ("RISK", "BETAGENERAL") | ("PSI", "BETAGEN") | ("VOSE", "BETA4") => {
            arity(4)?;
            Distribution::BetaGeneral {
                alpha1: num(0)?,
                alpha2: num(1)?,
                min: num(2)?,
                max: num(3)?,
            }
        }
        (_, "GAMMA") => {
            arity(2)?;
            Distribution::Gamma {
                shape: num(0)?,
                scale: num(1)?,
            }
        }
        (_, "WEIBULL") => {
            arity(2)?;
            Distribution::Weibull {
                shape: num(0)?,
                scale: num(1)?,
            }
        }
        ("RISK" | "VOSE", "EXPON") => {
            arity(1)?;
            Distribution::Expon { mean: num(0)? }
        }
        ("PSI", "EXPONENTIAL") => {
            // Analytic Solver's PsiExponential takes the mean, like RiskExpon.
            arity(1)?;
            Distribution::Expon { mean: num(0)? }
        }
        (_, "POISSON") => {
            arity(1)?;
            Distribution::Poisson { lambda: num(0)? }
        }
        (_, "BINOMIAL") => {
            arity(2)?;
            Distribution::Binomial {
                n: num(0)?,
                p: num(1)?,
            }
        }
        (_, "BERNOULLI") => {
            arity(1)?;
            Distribution::Bernoulli { p: num(0)? }
        }
        ("RISK" | "VOSE", "NEGBIN") | ("PSI", "NEGBINOMIAL") => {
            arity(2)?;
            Distribution::Negbin {
                s: num(0)?,
                p: num(1)?,
            }
        }
        ("RISK", "GEOMET") | ("PSI" | "VOSE", "GEOMETRIC") => {
            arity(1)?;
            Distribution::Geomet { p: num(0)? }
        }
        ("RISK" | "PSI" | "VOSE", "HYPERGEO") => {
            arity(3)?;
            Distribution::Hypergeo {
                n: num(0)?,
                d: num(1)?,
                m: num(2)?,
            }
        }
        (_, "DISCRETE") => {
            arity(2)?;
            Distribution::Discrete {
                values: list(0)?,
                weights: list(1)?,
            }
        }
        ("RISK" | "VOSE", "DUNIFORM") | ("PSI", "DISCUNIFORM") => {
            arity(1)?;
            Distribution::DUniform { values: list(0)? }
        }
        ("RISK" | "PSI" | "VOSE", "INTUNIFORM") => {
            arity(2)?;
            Distribution::IntUniform {
                min: num(0)?,
                max: num(1)?,
            }
        }
        ("RISK" | "VOSE", "CUMULD") => {
            arity(4)?;
            Distribution::CumulD {
                min: num(0)?,
                max: num(1)?,
                xs: list(2)?,
                ps: list(3)?,
            }
        }
        ("RISK" | "PSI", "CUMUL") | ("VOSE", "CUMULA") => {
            arity(4)?;
            Distribution::Cumul {
                min: num(0)?,
                max: num(1)?,
                xs: list(2)?,
                ps: list(3)?,
            }
        }
        ("RISK" | "PSI", "GENERAL") | ("VOSE", "RELATIVE") => {
            arity(4)?;
            Distribution::General {
                min: num(0)?,
                max: num(1)?,
                xs: list(2)?,
                weights: list(3)?,
            }
        }
        ("RISK", "HISTOGRM") | ("VOSE", "HISTOGRAM") => {
            arity(3)?;
            Distribution::Histogrm {
                min: num(0)?,
                max: num(1)?,
                probs: list(2)?,
            }
        }
        (_, "LOGISTIC") => {
            arity(2)?;
            Distribution::Logistic {
                alpha: num(0)?,
                beta: num(1)?,
            }
        }
        ("VOSE", "LOGLOGISTIC") => {
            // ModelRisk's LogLogistic(alpha, beta): shape, scale, no location.
            arity(2)?;
            Distribution::Loglogistic {
                gamma: 0.0,
                beta: num(1)?,
                alpha: num(0)?,
            }
        }
        (_, "LOGLOGISTIC") => {
            arity(3)?;
            Distribution::Loglogistic {
                gamma: num(0)?,
                beta: num(1)?,
                alpha: num(2)?,
            }
        }
        (_, "PARETO") => {
            arity(2)?;
            Distribution::Pareto {
                theta: num(0)?,
                a: num(1)?,
            }
        }
        ("RISK" | "PSI" | "VOSE", "STUDENT") => {
            arity(1)?;
            Distribution::Student { nu: num(0)? }
        }
        ("RISK" | "VOSE", "CHISQ") | ("PSI", "CHISQUARE") => {
            arity(1)?;
            Distribution::ChiSq { nu: num(0)? }
        }
        (_, "ERLANG") => {
            arity(2)?;
            Distribution::Erlang {
                m: num(0)?,
                beta: num(1)?,
            }
        }
        ("RISK" | "PSI", "EXTVALUE") | ("VOSE", "EXTVALUEMAX") => {
            arity(2)?;
            Distribution::ExtValue {
                alpha: num(0)?,
                beta: num(1)?,
            }
        }
        ("RISK" | "VOSE", "EXTVALUEMIN") => {
            arity(2)?;
            Distribution::ExtValueMin {
                alpha: num(0)?,
                beta: num(1)?,
            }
        }
        ("RISK", "LAPLACE") => {
            arity(2)?;
            Distribution::Laplace {
                mu: num(0)?,
                sigma: num(1)?,
            }
        }
        ("VOSE", "LAPLACE") => {
            // ModelRisk's Laplace(m, s) is m + Expon(s) − Expon(s): s is the exponential scale,
            // so the standard deviation is s·√2.
            arity(2)?;
            Distribution::Laplace {
                mu: num(0)?,
                sigma: num(1)? * std::f64::consts::SQRT_2,
            }
        }
        ("RISK", "LEVY") => {
            arity(2)?;
            Distribution::Levy {
                a: num(0)?,
                c: num(1)?,
            }
        }
        ("RISK" | "VOSE", "RAYLEIGH") => {
            arity(1)?;
            Distribution::Rayleigh { beta: num(0)? }
        }
        ("RISK" | "VOSE", "PEARSON5") => {
            arity(2)?;
            Distribution::Pearson5 {
                alpha: num(0)?,
                beta: num(1)?,
            }
        }
        ("RISK" | "VOSE", "PEARSON6") => {
            arity(3)?;
            Distribution::Pearson6 {
                beta1: num(0)?,
                beta2: num(1)?,
                beta: num(2)?,
            }
        }
        ("RISK" | "VOSE", "INVGAUSS") => {
            arity(2)?;
            Distribution::InvGauss {
                mu: num(0)?,
                lambda: num(1)?,
            }
        }
        _ => return Err(format!("{name} is not a supported distribution")),
    };
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
}
