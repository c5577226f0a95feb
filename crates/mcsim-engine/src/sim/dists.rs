//! A detected distribution call ([`DistCall`]) as a [`Distribution`]: the mapping itself is the
//! function library's ([`crate::functions::distributions`]), shared with the evaluator.

use super::inputs::DistCall;
pub use crate::functions::distributions::{DynamicDist, dynamic_quantile};
use mcsim_sampling::Distribution;

/// The distribution a call describes, or a message naming what is wrong.
pub fn distribution(call: &DistCall) -> Result<Distribution, String> {
    crate::functions::distributions::distribution(call.vendor, &call.dist, &call.params)
}

/// Splits a ModelRisk input label off a formula: `VoseInput(name, ...)+formula` (or
/// `formula+VoseInput(...)`) gives (`formula`, the `name` argument to evaluate); any other
/// formula is returned as it is, with `None`.
pub fn strip_vose_input(
    e: &mcsim_formula::Expr,
) -> (&mcsim_formula::Expr, Option<&mcsim_formula::Expr>) {
    use mcsim_formula::{BinaryOp, ExprKind};
    if let ExprKind::Binary {
        op: BinaryOp::Add,
        lhs,
        rhs,
    } = &e.kind
    {
        for (label, rest) in [(lhs, rhs), (rhs, lhs)] {
            if let ExprKind::Call { name, args } = &label.kind
                && name == "VOSEINPUT"
            {
                return (rest, args.first());
            }
        }
    }
    (e, None)
}

#[cfg(test)]
mod tests {
    use super::super::inputs::is_distribution;

    /// The simulation recognises the listed distributions (the one list in
    /// `functions::risk::DISTRIBUTIONS`), and not ModelRisk's statistics.
    #[test]
    fn listed_distributions_are_detected() {
        assert!(is_distribution("PSICHISQUARE"));
        assert!(is_distribution("_XLL.VOSENORMAL"));
        assert!(!is_distribution("VOSESIMMEAN"));
        assert!(!is_distribution("RISKOUTPUT"));
    }
}
