//! @RISK-style distribution, property and output functions, as seen outside a simulation.
//!
//! In a simulation these cells are inputs and outputs, replaced by samples (see `mcsim_engine::sim`).
//! Recalculated without one (`mcsim parse --recalc`), a distribution shows its `RiskStatic` value
//! or else its mean, as @RISK does, and `RiskOutput()` is 0.

use super::distributions::distribution;
use super::statistical::percentile_inc_sorted;
use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::sites::SiteKind;
use crate::value::Value;
use mcsim_formula::ErrorKind;
use mcsim_sampling::Sampler;
use std::sync::Arc;

/// What a property function (RiskTruncate, RiskName, ...) evaluates to inside a distribution's
/// arguments: a marker the distribution skips.
const PROPERTY_MARK: &str = "\u{1}mcsim-property";

fn output(_: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Number(0.0)
}

fn property(_: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Text(Arc::from(PROPERTY_MARK))
}

/// A distribution's value without a simulation: its mean (modifiers are applied by the callers
/// that see them, e.g. `parse --recalc`, which uses the full cell).
fn dist_value(ctx: &mut Ctx<'_, '_>, name: &str, args: &[Arg]) -> Value {
    // In a simulation the call is a site: its sampled value, or the quantile at its uniform.
    let site = match ctx.site() {
        Some((x, SiteKind::Sampled)) => return Value::number(x),
        Some((u, SiteKind::Dynamic(d))) => Some((u, d.modifiers)),
        _ => None,
    };
    let (vendor, dist) = if let Some(r) = name.strip_prefix("RISK") {
        ("RISK", r)
    } else if let Some(r) = name.strip_prefix("VOSE") {
        ("VOSE", r)
    } else {
        ("PSI", name.strip_prefix("PSI").unwrap_or(name))
    };
    let mut params = Vec::with_capacity(args.len());
    for a in args {
        let v = match a {
            Arg::Value(v) => v.clone(),
            Arg::Ref(area)
                if area.bounds.r1 == area.bounds.r2 && area.bounds.c1 == area.bounds.c2 =>
            {
                ctx.scalar(a)
            }
            Arg::Ref(_) => match ctx.array(a) {
                Ok(arr) => Value::Array(arr),
                Err(e) => Value::Error(e),
            },
            Arg::Union(_) => Value::Error(ErrorKind::Value),
        };
        if matches!(&v, Value::Text(t) if &**t == PROPERTY_MARK) {
            continue;
        }
        if let Value::Error(e) = v {
            return Value::Error(e);
        }
        params.push(v);
    }
    let Ok(d) = distribution(vendor, dist, &params) else {
        return Value::Error(ErrorKind::Value);
    };
    match site {
        None => Value::number(d.mean()),
        // Without truncation, the exact quantile without preparing tables (the parameters
        // change every iteration); with it, a prepared sampler's window.
        Some((u, modifiers)) if modifiers.truncate.is_none() => {
            Value::number(d.quantile(u) + modifiers.shift)
        }
        Some((u, modifiers)) => match Sampler::with_modifiers(&d, modifiers) {
            Ok(s) => Value::number(s.quantile(u)),
            Err(_) => Value::Error(ErrorKind::Value),
        },
    }
}

/// `RiskSimtable(values)`: value number `k` in simulation `k` (the first outside a simulation).
fn simtable(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let Some(a) = args.first() else {
        return Value::Error(ErrorKind::Value);
    };
    let k = ctx.simulation();
    match a {
        Arg::Value(Value::Array(arr)) => arr
            .data
            .get(k)
            .cloned()
            .unwrap_or(Value::Error(ErrorKind::Na)),
        Arg::Value(v) => v.clone(),
        other => match ctx.array(other) {
            Ok(arr) => arr
                .data
                .get(k)
                .cloned()
                .unwrap_or(Value::Error(ErrorKind::Na)),
            Err(e) => Value::Error(e),
        },
    }
}

/// The value a cell stored in the file (what @RISK left there after its last simulation).
fn stored_value(ctx: &mut Ctx<'_, '_>) -> Value {
    let (sheet, row, col) = ctx.position();
    let model = ctx.model();
    match model.find(sheet, row, col) {
        Some(id) => match &model.cells[id as usize].stored {
            Value::Empty => Value::Error(ErrorKind::Na),
            v => v.clone(),
        },
        None => Value::Error(ErrorKind::Na),
    }
}

/// Mean, variance (n − 1), third and fourth central moment sums of the values.
fn moments(xs: &[f64]) -> (f64, f64, f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &x in xs {
        let d = x - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    (mean, m2 / (n - 1.0).max(1.0), m3 / n, m4 / n)
}

/// @RISK's statistics functions: after a simulation, the statistic of the referenced cell's
/// simulated values; without one, the value the file stored.
fn statistic(ctx: &mut Ctx<'_, '_>, stat: &str, args: &[Arg]) -> Value {
    if !ctx.has_results() {
        return stored_value(ctx);
    }
    let Some(Arg::Ref(area)) = args.first() else {
        return Value::Error(ErrorKind::Value);
    };
    let Some(cell) = ctx.model().find(area.sheet, area.bounds.r1, area.bounds.c1) else {
        return Value::Error(ErrorKind::Na);
    };
    let mut extra = Vec::with_capacity(args.len().saturating_sub(1));
    for a in &args[1..] {
        extra.push(match a {
            Arg::Value(Value::Empty) => None,
            a => Some(ctx.scalar(a)),
        });
    }
    let num = |i: usize| -> Result<Option<f64>, ErrorKind> {
        match extra.get(i) {
            Some(Some(v)) => v.to_number().map(Some),
            _ => Ok(None),
        }
    };
    let Some((xs, _errors)) = ctx.results(cell) else {
        return Value::Error(ErrorKind::Na);
    };
    if xs.is_empty() {
        return Value::Error(ErrorKind::Div0);
    }
    let n = xs.len() as f64;
    let r = (|| -> Result<f64, ErrorKind> {
        Ok(match stat {
            "MEAN" => moments(xs).0,
            "STDDEV" => moments(xs).1.sqrt(),
            "VARIANCE" => moments(xs).1,
            "MIN" => xs[0],
            "MAX" => xs[xs.len() - 1],
            "RANGE" => xs[xs.len() - 1] - xs[0],
            "SKEWNESS" => {
                let (_, var, m3, _) = moments(xs);
                let pop = var * (n - 1.0) / n;
                m3 / pop.powf(1.5)
            }
            "KURTOSIS" => {
                let (_, var, _, m4) = moments(xs);
                let pop = var * (n - 1.0) / n;
                m4 / (pop * pop)
            }
            "COEFFOFVARIATION" => {
                let (mean, var, _, _) = moments(xs);
                var.sqrt() / mean
            }
            "PERCENTILE" | "PTOX" => percentile_inc_sorted(xs, num(0)?.ok_or(ErrorKind::Value)?)?,
            "PERCENTILED" | "QTOX" => {
                percentile_inc_sorted(xs, 1.0 - num(0)?.ok_or(ErrorKind::Value)?)?
            }
            "TARGET" | "XTOP" => {
                let x = num(0)?.ok_or(ErrorKind::Value)?;
                xs.partition_point(|&v| v <= x) as f64 / n
            }
            "TARGETD" | "XTOQ" => {
                let x = num(0)?.ok_or(ErrorKind::Value)?;
                1.0 - xs.partition_point(|&v| v <= x) as f64 / n
            }
            "CIMEAN" => {
                let conf = num(0)?.unwrap_or(0.95);
                let lower = match extra.get(1) {
                    Some(Some(v)) => v.to_bool()?,
                    _ => true,
                };
                if !(0.0 < conf && conf < 1.0) {
                    return Err(ErrorKind::Num);
                }
                let (mean, var, _, _) = moments(xs);
                let z = mcsim_sampling::normal_quantile(0.5 + conf / 2.0);
                let half = z * (var / n).sqrt();
                if lower { mean - half } else { mean + half }
            }
            "MODE" => mode(xs),
            _ => return Err(ErrorKind::Na),
        })
    })();
    match r {
        Ok(x) => Value::number(x),
        Err(e) => Value::Error(e),
    }
}

/// The most frequent value when values repeat (discrete outputs); otherwise the middle of the
/// fullest of 100 equal-width bins.
fn mode(xs: &[f64]) -> f64 {
    let (mut best, mut best_n, mut i) = (xs[0], 0usize, 0usize);
    while i < xs.len() {
        let j = xs[i..].partition_point(|&v| v <= xs[i]) + i;
        if j - i > best_n {
            best_n = j - i;
            best = xs[i];
        }
        i = j;
    }
    if best_n > 1 {
        return best;
    }
    let (lo, hi) = (xs[0], xs[xs.len() - 1]);
    if hi <= lo {
        return lo;
    }
    let w = (hi - lo) / 100.0;
    let mut counts = [0usize; 100];
    for &x in xs {
        counts[(((x - lo) / w) as usize).min(99)] += 1;
    }
    let k = (0..100)
        .max_by_key(|&k| (counts[k], std::cmp::Reverse(k)))
        .unwrap_or(0);
    lo + (k as f64 + 0.5) * w
}

macro_rules! stats {
    ($($name:literal => $stat:literal),* $(,)?) => {
        /// @RISK and Analytic Solver statistics functions.
        pub const STATISTICS: &[FnSpec] = &[
            $(FnSpec::new($name, 1, VARIADIC, Lift::None, |ctx, args| statistic(ctx, $stat, args)),)*
            FnSpec::new("RISKSIMTABLE", 1, 1, Lift::None, simtable),
            // RiskMakeInput(formula, ...): the formula's value, reported as an input by @RISK.
            FnSpec::new("RISKMAKEINPUT", 1, VARIADIC, Lift::None, |ctx, args| match args.first() {
                Some(a) => ctx.scalar(a),
                None => Value::Error(ErrorKind::Value),
            }),
        ];
    };
}

stats!(
    "RISKMEAN" => "MEAN", "RISKSTDDEV" => "STDDEV", "RISKVARIANCE" => "VARIANCE",
    "RISKMIN" => "MIN", "RISKMAX" => "MAX", "RISKRANGE" => "RANGE",
    "RISKSKEWNESS" => "SKEWNESS", "RISKKURTOSIS" => "KURTOSIS", "RISKMODE" => "MODE",
    "RISKPERCENTILE" => "PERCENTILE", "RISKPTOX" => "PTOX", "RISKPERCENTILED" => "PERCENTILED",
    "RISKQTOX" => "QTOX", "RISKTARGET" => "TARGET", "RISKXTOP" => "XTOP",
    "RISKTARGETD" => "TARGETD", "RISKXTOQ" => "XTOQ", "RISKCIMEAN" => "CIMEAN",
    "RISKCOEFFOFVARIATION" => "COEFFOFVARIATION",
    "PSIMEAN" => "MEAN", "PSISTDDEV" => "STDDEV", "PSIVARIANCE" => "VARIANCE",
    "PSIMIN" => "MIN", "PSIMAX" => "MAX", "PSIRANGE" => "RANGE", "PSISKEWNESS" => "SKEWNESS",
    "PSIKURTOSIS" => "KURTOSIS", "PSIPERCENTILE" => "PERCENTILE", "PSITARGET" => "TARGET",
    "PSIMODE" => "MODE", "PSICIMEAN" => "CIMEAN",
    "VOSESIMMEAN" => "MEAN", "VOSESIMMIN" => "MIN", "VOSESIMMAX" => "MAX",
    "VOSESIMPERCENTILE" => "PERCENTILE", "VOSESIMPROBABILITY" => "TARGET",
    "VOSESIMSTDEV" => "STDDEV", "VOSESIMVARIANCE" => "VARIANCE",
    "VOSESIMCOFV" => "COEFFOFVARIATION", "VOSESIMSKEWNESS" => "SKEWNESS",
    "VOSESIMKURTOSIS" => "KURTOSIS",
);

/// A distribution function mcsim samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistFunction {
    /// The function's name, upper case with its vendor prefix (`"RISKNORMAL"`, `"PSIBETAGEN"`).
    pub name: &'static str,
    /// For a ModelRisk function, the number of parameters before its optional U argument.
    pub vose_arity: Option<usize>,
}

macro_rules! dists {
    (@arity) => { None };
    (@arity $n:literal) => { Some($n) };
    ($($name:literal $(=> $arity:literal)?),* $(,)?) => {
        /// Every distribution function mcsim samples: the one list. The evaluator registers each
        /// as a function ([`FUNCTIONS`]); the simulation recognises its calls
        /// (`crate::risk_names::is_distribution`) and reads ModelRisk parameter counts from
        /// it; [`super::distributions::distribution`] maps each to a sampler (a test checks
        /// that every name here maps).
        pub const DISTRIBUTIONS: &[DistFunction] = &[
            $(DistFunction { name: $name, vose_arity: dists!(@arity $($arity)?) },)*
        ];

        /// The functions of this category.
        pub const FUNCTIONS: &[FnSpec] = &[
            FnSpec::new("RISKOUTPUT", 0, VARIADIC, Lift::None, output),
            FnSpec::new("PSIOUTPUT", 0, VARIADIC, Lift::None, output),
            FnSpec::new("VOSEOUTPUT", 0, VARIADIC, Lift::None, output),
            // `VoseInput("name")+VoseNormal(..)` labels an input; it adds 0.
            FnSpec::new("VOSEINPUT", 0, VARIADIC, Lift::None, output),
            FnSpec::new("VOSEXBOUNDS", 0, VARIADIC, Lift::None, property),
            FnSpec::new("VOSESHIFT", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKTRUNCATE", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKTRUNCATE2", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKSHIFT", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKNAME", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKSTATIC", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKCORRMAT", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKSEED", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKUNITS", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKCONVERGENCE", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKCATEGORY", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKCOLLECT", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKLOCK", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKISDATE", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKISDISCRETE", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKSIXSIGMA", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKINDEPC", 0, VARIADIC, Lift::None, property),
            FnSpec::new("RISKDEPC", 0, VARIADIC, Lift::None, property),
            $(FnSpec::new($name, 0, VARIADIC, Lift::None, |ctx, args| dist_value(ctx, $name, args)),)*
        ];
    };
}

dists!(
    "RISKNORMAL",
    "RISKLOGNORM",
    "RISKLOGNORM2",
    "RISKTRIANG",
    "RISKTRIGEN",
    "RISKPERT",
    "RISKUNIFORM",
    "RISKBETA",
    "RISKBETAGENERAL",
    "RISKGAMMA",
    "RISKWEIBULL",
    "RISKEXPON",
    "RISKPOISSON",
    "RISKBINOMIAL",
    "RISKBERNOULLI",
    "RISKNEGBIN",
    "RISKGEOMET",
    "RISKHYPERGEO",
    "RISKDISCRETE",
    "RISKDUNIFORM",
    "RISKINTUNIFORM",
    "RISKCUMUL",
    "RISKGENERAL",
    "RISKHISTOGRM",
    "RISKLOGISTIC",
    "RISKLOGLOGISTIC",
    "RISKPARETO",
    "RISKSTUDENT",
    "RISKCHISQ",
    "RISKERLANG",
    "RISKEXTVALUE",
    "RISKCUMULD",
    "RISKEXTVALUEMIN",
    "RISKLAPLACE",
    "RISKLEVY",
    "RISKRAYLEIGH",
    "RISKPEARSON5",
    "RISKPEARSON6",
    "RISKINVGAUSS",
    "PSINORMAL",
    "PSILOGNORMAL",
    "PSILOGNORMAL2",
    "PSITRIANGULAR",
    "PSIPERT",
    "PSIUNIFORM",
    "PSIBETA",
    "PSIBETAGEN",
    "PSIGAMMA",
    "PSIWEIBULL",
    "PSIEXPONENTIAL",
    "PSIPOISSON",
    "PSIBINOMIAL",
    "PSIBERNOULLI",
    "PSIDISCRETE",
    "PSIINTUNIFORM",
    "PSILOGISTIC",
    "PSIPARETO",
    "PSIERLANG",
    "PSINEGBINOMIAL",
    "PSIGEOMETRIC",
    "PSIHYPERGEO",
    "PSIDISCUNIFORM",
    "PSICUMUL",
    "PSIGENERAL",
    "PSILOGLOGISTIC",
    "PSISTUDENT",
    "PSICHISQUARE",
    "PSIEXTVALUE",
    "PSITRIGEN",
    "VOSENORMAL" => 2,
    "VOSELOGNORMAL" => 2,
    "VOSETRIANGLE" => 3,
    "VOSEPERT" => 3,
    "VOSEMODPERT" => 4,
    "VOSEUNIFORM" => 2,
    "VOSEBETA" => 2,
    "VOSEBETA4" => 4,
    "VOSEGAMMA" => 2,
    "VOSEWEIBULL" => 2,
    "VOSEEXPON" => 1,
    "VOSEPOISSON" => 1,
    "VOSEBINOMIAL" => 2,
    "VOSEBERNOULLI" => 1,
    "VOSENEGBIN" => 2,
    "VOSEGEOMETRIC" => 1,
    "VOSEHYPERGEO" => 3,
    "VOSEDISCRETE" => 2,
    "VOSEDUNIFORM" => 1,
    "VOSEINTUNIFORM" => 2,
    "VOSECUMULA" => 4,
    "VOSECUMULD" => 4,
    "VOSERELATIVE" => 4,
    "VOSEHISTOGRAM" => 3,
    "VOSELOGISTIC" => 2,
    "VOSELOGLOGISTIC" => 2,
    "VOSEPARETO" => 2,
    "VOSESTUDENT" => 1,
    "VOSECHISQ" => 1,
    "VOSEERLANG" => 2,
    "VOSEEXTVALUEMAX" => 2,
    "VOSEEXTVALUEMIN" => 2,
    "VOSELAPLACE" => 2,
    "VOSERAYLEIGH" => 1,
    "VOSEPEARSON5" => 2,
    "VOSEPEARSON6" => 3,
    "VOSEINVGAUSS" => 2,
);

/// Is `name` one of the distributions registered here?
pub fn is_registered_distribution(name: &str) -> bool {
    dist_function(name).is_some()
}

/// The distribution function called `name` (upper case, vendor prefix included).
pub fn dist_function(name: &str) -> Option<&'static DistFunction> {
    DISTRIBUTIONS.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use crate::Value;
    use crate::quick::eval;

    #[test]
    fn without_a_simulation_distributions_show_their_mean() {
        assert_eq!(eval("=RiskNormal(10,2)"), Value::Number(10.0));
        assert_eq!(
            eval("=RiskTriang(1,2,6,RiskName(\"x\"))"),
            Value::Number(3.0)
        );
        assert_eq!(eval("=RiskOutput(\"NPV\")+5"), Value::Number(5.0));
        assert_eq!(eval("=PsiUniform(0,4)"), Value::Number(2.0));
        assert!(matches!(eval("=RiskNormal(10,-2)"), Value::Error(_)));
    }

    #[test]
    fn modelrisk_and_new_risk_functions_show_their_mean() {
        assert_eq!(eval("=VoseTriangle(1,2,6)"), Value::Number(3.0));
        assert_eq!(
            eval("=VoseInput(\"Demand\")+VoseNormal(5,1)"),
            Value::Number(5.0)
        );
        assert_eq!(
            eval("=VoseNormal(100,10,,VoseXBounds(90,120))"),
            Value::Number(100.0)
        );
        assert_eq!(eval("=VoseOutput(\"y\")+2"), Value::Number(2.0));
        assert!(matches!(eval("=VoseNormal(100,10,0.95)"), Value::Error(_)));
        assert_eq!(
            eval("=RiskCumul(0,10,{0,5,10},{0,0.5,1})"),
            Value::Number(5.0)
        );
        assert_eq!(eval("=RiskLaplace(3,2)"), Value::Number(3.0));
        assert_eq!(eval("=RiskInvGauss(2,5)"), Value::Number(2.0));
    }
}
