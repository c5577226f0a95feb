//! @RISK-style distribution, property and output functions, as seen outside a simulation.
//!
//! In a simulation these cells are inputs and outputs, replaced by samples (see [`crate::sim`]).
//! Recalculated without one (`mcsim parse --recalc`), a distribution shows its `RiskStatic` value
//! or else its mean, as @RISK does, and `RiskOutput()` is 0.

use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::sim::dists::distribution;
use crate::sim::inputs::{DistCall, is_distribution};
use crate::value::Value;
use mcsim_formula::ErrorKind;
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
    let (sheet, row, col) = ctx.position();
    let call = DistCall {
        cell: ctx.model().find(sheet, row, col).unwrap_or(0),
        label: String::new(),
        dist: dist.to_string(),
        vendor,
        params,
        truncate: None,
        shift: None,
        name: None,
        static_value: None,
        corrmat: None,
        ignored: Vec::new(),
        whole_cell: true,
    };
    match distribution(&call) {
        Ok(d) => Value::number(d.mean()),
        Err(_) => Value::Error(ErrorKind::Value),
    }
}

macro_rules! dists {
    ($($name:literal),* $(,)?) => {
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
    "VOSENORMAL",
    "VOSELOGNORMAL",
    "VOSETRIANGLE",
    "VOSEPERT",
    "VOSEMODPERT",
    "VOSEUNIFORM",
    "VOSEBETA",
    "VOSEBETA4",
    "VOSEGAMMA",
    "VOSEWEIBULL",
    "VOSEEXPON",
    "VOSEPOISSON",
    "VOSEBINOMIAL",
    "VOSEBERNOULLI",
    "VOSENEGBIN",
    "VOSEGEOMETRIC",
    "VOSEHYPERGEO",
    "VOSEDISCRETE",
    "VOSEDUNIFORM",
    "VOSEINTUNIFORM",
    "VOSECUMULA",
    "VOSECUMULD",
    "VOSERELATIVE",
    "VOSEHISTOGRAM",
    "VOSELOGISTIC",
    "VOSELOGLOGISTIC",
    "VOSEPARETO",
    "VOSESTUDENT",
    "VOSECHISQ",
    "VOSEERLANG",
    "VOSEEXTVALUEMAX",
    "VOSEEXTVALUEMIN",
    "VOSELAPLACE",
    "VOSERAYLEIGH",
    "VOSEPEARSON5",
    "VOSEPEARSON6",
    "VOSEINVGAUSS",
);

/// Is `name` one of the distributions registered here?
pub fn is_registered_distribution(name: &str) -> bool {
    is_distribution(name) && FUNCTIONS.iter().any(|f| f.name == name)
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
