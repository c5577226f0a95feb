//! From an in-cell distribution call (`=RiskTriang(1,2,4)`, `=PsiNormal(0,1)`) to a
//! [`Distribution`], with @RISK's argument orders (see `RISK_FUNCTIONS.md` in the reference).

use super::inputs::DistCall;
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

/// The distribution a call describes, or a message naming what is wrong.
pub fn distribution(call: &DistCall) -> Result<Distribution, String> {
    let p = &call.params;
    let name = format!(
        "{}{}",
        if call.vendor == "PSI" { "Psi" } else { "Risk" },
        title(&call.dist)
    );
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
    let d = match (call.vendor, call.dist.as_str()) {
        (_, "NORMAL") => {
            arity(2)?;
            Distribution::Normal {
                mean: num(0)?,
                sd: num(1)?,
            }
        }
        ("RISK", "LOGNORM") | ("PSI", "LOGNORMAL") => {
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
        ("RISK", "TRIANG") | ("PSI", "TRIANGULAR") => {
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
        ("RISK", "BETAGENERAL") | ("PSI", "BETAGEN") => {
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
        ("RISK", "EXPON") => {
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
        ("RISK", "NEGBIN") | ("PSI", "NEGBINOMIAL") => {
            arity(2)?;
            Distribution::Negbin {
                s: num(0)?,
                p: num(1)?,
            }
        }
        ("RISK", "GEOMET") | ("PSI", "GEOMETRIC") => {
            arity(1)?;
            Distribution::Geomet { p: num(0)? }
        }
        ("RISK", "HYPERGEO") | ("PSI", "HYPERGEO") => {
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
        ("RISK", "DUNIFORM") | ("PSI", "DISCUNIFORM") => {
            arity(1)?;
            Distribution::DUniform { values: list(0)? }
        }
        ("RISK", "INTUNIFORM") | ("PSI", "INTUNIFORM") => {
            arity(2)?;
            Distribution::IntUniform {
                min: num(0)?,
                max: num(1)?,
            }
        }
        (_, "CUMUL") => {
            arity(4)?;
            Distribution::Cumul {
                min: num(0)?,
                max: num(1)?,
                xs: list(2)?,
                ps: list(3)?,
            }
        }
        (_, "GENERAL") => {
            arity(4)?;
            Distribution::General {
                min: num(0)?,
                max: num(1)?,
                xs: list(2)?,
                weights: list(3)?,
            }
        }
        ("RISK", "HISTOGRM") => {
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
        ("RISK", "STUDENT") | ("PSI", "STUDENT") => {
            arity(1)?;
            Distribution::Student { nu: num(0)? }
        }
        ("RISK", "CHISQ") | ("PSI", "CHISQUARE") => {
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
        ("RISK", "EXTVALUE") | ("PSI", "EXTVALUE") => {
            arity(2)?;
            Distribution::ExtValue {
                alpha: num(0)?,
                beta: num(1)?,
            }
        }
        _ => return Err(format!("{name} is not a supported distribution")),
    };
    // The sampler's message already names the function (`RiskNormal: standard deviation ...`).
    d.validate().map_err(|e| e.to_string())?;
    Ok(d)
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

    fn call(vendor: &'static str, dist: &str, params: Vec<Value>) -> DistCall {
        DistCall {
            cell: 0,
            label: "S!A1".into(),
            dist: dist.into(),
            vendor,
            params,
            truncate: None,
            shift: None,
            name: None,
            static_value: None,
            corrmat: None,
            ignored: vec![],
            depc: None,
            offset: 0,
            index: 0,
            dynamic: false,
            whole_cell: true,
        }
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
    fn bad_parameters_name_the_rule() {
        let n = |x: f64| Value::Number(x);
        let e = distribution(&call("RISK", "NORMAL", vec![n(1.0), n(-2.0)])).unwrap_err();
        assert!(e.starts_with("RiskNormal"), "{e}");
        let e = distribution(&call("RISK", "NORMAL", vec![n(1.0)])).unwrap_err();
        assert!(e.contains("takes 2"), "{e}");
        let e = distribution(&call("RISK", "TRIANG", vec![n(5.0), n(2.0), n(4.0)])).unwrap_err();
        assert!(e.starts_with("RiskTriang"), "{e}");
    }
}
