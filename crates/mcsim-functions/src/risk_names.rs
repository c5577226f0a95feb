//! The names of the simulation's functions: distributions (`RiskNormal`, `PsiTriangular`,
//! `VoseNormal`), their property functions, output markers and statistics, by vendor prefix.
//!
//! The one place that classifies these names, below both the evaluator (which refuses a random
//! call inside a LAMBDA) and the simulation (which finds a model's inputs): the distributions
//! themselves are listed once, in [`crate::functions::risk::DISTRIBUTIONS`].

/// Property functions (without their vendor prefix): `TRUNCATE`, `NAME`, ...
pub const PROPERTY: &[&str] = &[
    "TRUNCATE",
    "TRUNCATE2",
    "SHIFT",
    "NAME",
    "STATIC",
    "CORRMAT",
    "SEED",
    "UNITS",
    "CONVERGENCE",
    "CATEGORY",
    "COLLECT",
    "LOCK",
    "ISDATE",
    "ISDISCRETE",
    "SIXSIGMA",
    "INDEPC",
    "DEPC",
    // ModelRisk: VoseXBounds(min, max) truncates; VoseInput("name")+... labels an input.
    "XBOUNDS",
    "INPUT",
];

/// @RISK's statistics functions (without the prefix), evaluated after a simulation.
pub const STATISTICS: &[&str] = &[
    "MEAN",
    "STDDEV",
    "VARIANCE",
    "MIN",
    "MAX",
    "PERCENTILE",
    "PTOX",
    "PERCENTILED",
    "QTOX",
    "XTOP",
    "XTOQ",
    "TARGET",
    "TARGETD",
    "SKEWNESS",
    "KURTOSIS",
    "RANGE",
    "MODE",
    "CIMEAN",
    "CIPERCENTILE",
    "COEFFOFVARIATION",
];

/// Other @RISK functions that are neither distributions nor properties.
const OTHER: &[&str] = &[
    "OUTPUT",
    "SIMTABLE",
    "CORRELATION",
    "OPTIONS",
    "DATA",
    "CONVERGED",
    "CONVERGENCELEVEL",
    "SENSITIVITY",
    "CURRENTITER",
    "CURRENTSIM",
    "STOPRUN",
    "MAKEINPUT",
    "COMPOUND",
    "CORRMATRIX",
    "SIMULATIONINFO",
];

/// The vendor prefix (`RISK`, `PSI`, `VOSE`; `_XLL.` ignored) and the rest of a name.
pub fn split_vendor(name: &str) -> Option<(&'static str, &str)> {
    // Add-in functions may be stored with the `_xll.` prefix.
    let name = name.strip_prefix("_XLL.").unwrap_or(name);
    if let Some(r) = name.strip_prefix("RISK") {
        Some(("RISK", r))
    } else if let Some(r) = name.strip_prefix("PSI") {
        Some(("PSI", r))
    } else if let Some(r) = name.strip_prefix("VOSE") {
        Some(("VOSE", r))
    } else {
        None
    }
}

/// Is this call a distribution (not a property function, output marker or statistic)?
pub fn is_distribution(name: &str) -> bool {
    match split_vendor(name) {
        Some((vendor, rest)) => {
            let excluded = rest.is_empty()
                || PROPERTY.contains(&rest)
                || STATISTICS.contains(&rest)
                || OTHER.contains(&rest)
                || rest.starts_with("THEO")
                || (vendor == "PSI" && is_psi_statistic(rest));
            // ModelRisk has hundreds of functions; only the distributions mcsim maps count.
            let unmapped_vose = vendor == "VOSE"
                && !crate::functions::risk::is_registered_distribution(
                    name.strip_prefix("_XLL.").unwrap_or(name),
                );
            !excluded && !unmapped_vose
        }
        None => false,
    }
}

/// Analytic Solver's statistics (`PsiMean`, `PsiPercentile`, ...) share @RISK's names.
fn is_psi_statistic(rest: &str) -> bool {
    STATISTICS.contains(&rest) || matches!(rest, "STDDEV" | "FREQUENCY" | "BVAR" | "CVAR")
}

/// The statistic a call computes (`MEAN` for `RiskMean`/`PsiMean`), if it is one.
pub fn statistic(name: &str) -> Option<&'static str> {
    let (vendor, rest) = split_vendor(name)?;
    if vendor == "VOSE" {
        // ModelRisk's VoseSimMean, VoseSimPercentile, ...
        return VOSE_STATISTICS
            .iter()
            .find(|(v, _)| *v == rest)
            .map(|(_, s)| *s);
    }
    STATISTICS.iter().copied().find(|s| *s == rest)
}

/// ModelRisk's statistics functions (without `VOSE`) and the @RISK statistic each computes.
const VOSE_STATISTICS: &[(&str, &str)] = &[
    ("SIMMEAN", "MEAN"),
    ("SIMMIN", "MIN"),
    ("SIMMAX", "MAX"),
    ("SIMPERCENTILE", "PERCENTILE"),
    ("SIMPROBABILITY", "TARGET"),
    ("SIMSTDEV", "STDDEV"),
    ("SIMVARIANCE", "VARIANCE"),
    ("SIMCOFV", "COEFFOFVARIATION"),
    ("SIMSKEWNESS", "SKEWNESS"),
    ("SIMKURTOSIS", "KURTOSIS"),
];

/// Is this a property function (`RiskTruncate`, `RiskName`, `VoseXBounds`, ...), which a
/// distribution's arguments may hold?
pub fn is_property(name: &str) -> bool {
    split_vendor(name).is_some_and(|(_, p)| PROPERTY.contains(&p))
}

/// Is this an output marker (`RiskOutput`, `PsiOutput`, `VoseOutput`)?
pub fn is_output_marker(name: &str) -> bool {
    matches!(split_vendor(name), Some((_, "OUTPUT")))
}
