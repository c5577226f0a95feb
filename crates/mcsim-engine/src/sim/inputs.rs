//! Finding a model's uncertain inputs and outputs in its formulas: @RISK-style distribution
//! functions (`=RiskNormal(100, 10, RiskTruncate(0,), RiskName("Price"))`), Analytic Solver's `Psi`
//! equivalents, and output markers (`=RiskOutput("NPV")+...`, `=PsiOutput()+...`).
//!
//! The engine only reads the calls and evaluates their arguments (which must not depend on other
//! uncertain cells); turning a name and arguments into a distribution is the sampler's business.

use crate::eval::Evaluator;
use crate::model::{CellId, Model};
use crate::value::Value;
use mcsim_formula::{BinaryOp, Expr, ExprKind};

/// A distribution call found in a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct DistCall {
    /// The cell.
    pub cell: CellId,
    /// `Sheet1!B3`.
    pub label: String,
    /// The distribution, upper case, without its `RISK`/`PSI` prefix: `NORMAL`, `TRIANG`, `PERT`, ...
    pub dist: String,
    /// The prefix it was written with (`RISK` or `PSI`).
    pub vendor: &'static str,
    /// Evaluated parameters (numbers, or arrays for `{values}` and ranges).
    pub params: Vec<Value>,
    /// `RiskTruncate(min, max)`: either bound may be missing.
    pub truncate: Option<(Option<f64>, Option<f64>)>,
    /// `RiskShift(x)`.
    pub shift: Option<f64>,
    /// `RiskName("..")`.
    pub name: Option<String>,
    /// `RiskStatic(x)`: the value shown when not simulating.
    pub static_value: Option<f64>,
    /// `RiskCorrmat(matrix, position)`: the matrix (as evaluated) and this input's 1-based position.
    pub corrmat: Option<(Value, usize, String)>,
    /// Other property functions seen and ignored (RiskSeed, RiskUnits, ...).
    pub ignored: Vec<String>,
    /// The whole formula is the call (otherwise the call is part of a larger formula, which the
    /// simulation does not support yet).
    pub whole_cell: bool,
}

/// An output marker.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputMark {
    /// The cell.
    pub cell: CellId,
    /// The name given (`RiskOutput("NPV")`), if any.
    pub name: Option<String>,
}

/// What the formulas say about the simulation.
#[derive(Debug, Clone, Default)]
pub struct Detected {
    /// Distribution cells.
    pub inputs: Vec<DistCall>,
    /// Output cells.
    pub outputs: Vec<OutputMark>,
    /// Cells that call RAND() or RANDBETWEEN() (each call is an independent uniform per iteration).
    pub rand_cells: Vec<CellId>,
}

const PROPERTY: &[&str] = &[
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
    // ModelRisk: VoseXBounds(min, max) truncates; VoseInput("name")+... labels an input.
    "XBOUNDS",
    "INPUT",
];

fn split_vendor(name: &str) -> Option<(&'static str, &str)> {
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
        Some((_, rest)) => {
            !PROPERTY.contains(&rest)
                && !matches!(
                    rest,
                    "OUTPUT"
                        | "MEAN"
                        | "STDDEV"
                        | "PERCENTILE"
                        | "PTOX"
                        | "XTOP"
                        | "MIN"
                        | "MAX"
                        | "SIMTABLE"
                        | "CORRELATION"
                        | "TARGET"
                        | "VARIANCE"
                        | "SKEWNESS"
                        | "KURTOSIS"
                        | "MODE"
                        | "RANGE"
                        | "OPTIONS"
                        | "DATA"
                )
        }
        None => false,
    }
}

fn strip_output(e: &Expr) -> (&Expr, Option<Option<String>>) {
    // `RiskOutput(..)+X` or `X+RiskOutput(..)`
    if let ExprKind::Binary {
        op: BinaryOp::Add,
        lhs,
        rhs,
    } = &e.kind
    {
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            if let ExprKind::Call { name, args } = &a.kind
                && matches!(name.as_str(), "RISKOUTPUT" | "PSIOUTPUT" | "VOSEOUTPUT")
            {
                let n = args.first().and_then(|x| match &x.kind {
                    ExprKind::Text(s) if !s.is_empty() => Some(s.clone()),
                    _ => None,
                });
                return (b, Some(n));
            }
        }
    }
    (e, None)
}

/// Scans every formula (evaluating distribution arguments with `ev`, which should have run).
pub fn detect(model: &Model, ev: &mut Evaluator<'_>) -> Detected {
    let mut d = Detected::default();
    for f in &model.formulas {
        let Ok(expr) = &f.expr else { continue };
        let cell = &model.cells[f.cell as usize];
        let (core, out) = strip_output(expr);
        let (core, vose_name) = super::dists::strip_vose_input(core);
        if let Some(name) = out {
            d.outputs.push(OutputMark { cell: f.cell, name });
        } else {
            let mut found = None;
            expr.walk(&mut |n| {
                if let ExprKind::Call { name, args } = &n.kind
                    && matches!(name.as_str(), "RISKOUTPUT" | "PSIOUTPUT" | "VOSEOUTPUT")
                {
                    found = Some(args.first().and_then(|x| match &x.kind {
                        ExprKind::Text(s) if !s.is_empty() => Some(s.clone()),
                        _ => None,
                    }));
                }
            });
            if let Some(name) = found {
                d.outputs.push(OutputMark { cell: f.cell, name });
            }
        }
        let names = expr.functions();
        if names.iter().any(|n| matches!(*n, "RAND" | "RANDBETWEEN")) {
            d.rand_cells.push(f.cell);
        }
        // Distribution calls.
        let mut calls: Vec<&Expr> = Vec::new();
        core.walk(&mut |n| {
            if let ExprKind::Call { name, .. } = &n.kind
                && is_distribution(name)
            {
                calls.push(n);
            }
        });
        for (k, call) in calls.iter().enumerate() {
            let ExprKind::Call { name, args } = &call.kind else {
                continue;
            };
            let Some((vendor, dist)) = split_vendor(name) else {
                continue;
            };
            let mut dc = DistCall {
                cell: f.cell,
                label: model.cell_label(f.cell),
                dist: dist.to_string(),
                vendor,
                params: Vec::new(),
                truncate: None,
                shift: None,
                name: None,
                static_value: None,
                corrmat: None,
                ignored: Vec::new(),
                whole_cell: k == 0 && calls.len() == 1 && std::ptr::eq(*call, core),
            };
            for a in args {
                if let ExprKind::Call {
                    name: pn,
                    args: pargs,
                } = &a.kind
                    && let Some((_, prop)) = split_vendor(pn)
                    && PROPERTY.contains(&prop)
                {
                    let mut nums: Vec<Option<f64>> = Vec::with_capacity(pargs.len());
                    for e in pargs {
                        nums.push(if matches!(e.kind, ExprKind::Missing) {
                            None
                        } else {
                            ev.eval_at(e, cell.sheet, cell.row, cell.col, false)
                                .to_number()
                                .ok()
                        });
                    }
                    let num = |i: usize| nums.get(i).copied().flatten();
                    match prop {
                        "TRUNCATE" | "XBOUNDS" => dc.truncate = Some((num(0), num(1))),
                        "SHIFT" => dc.shift = num(0),
                        "STATIC" => dc.static_value = num(0),
                        "NAME" => {
                            dc.name = pargs.first().and_then(|e| {
                                ev.eval_at(e, cell.sheet, cell.row, cell.col, false)
                                    .to_text()
                                    .ok()
                                    .map(|s| s.to_string())
                            })
                        }
                        "CORRMAT" => {
                            let m = pargs
                                .first()
                                .map(|e| ev.eval_at(e, cell.sheet, cell.row, cell.col, true))
                                .unwrap_or(Value::Empty);
                            let pos = num(1).unwrap_or(0.0) as usize;
                            let key = pargs.first().map(|e| e.to_string()).unwrap_or_default();
                            dc.corrmat = Some((m, pos, key));
                        }
                        other => dc.ignored.push(format!("Risk{}", other.to_lowercase())),
                    }
                    continue;
                }
                dc.params
                    .push(ev.eval_at(a, cell.sheet, cell.row, cell.col, true));
            }
            if let (None, Some(e)) = (&dc.name, vose_name) {
                let v = ev.eval_at(e, cell.sheet, cell.row, cell.col, false);
                dc.name = v.to_text().ok().map(|s| s.to_string());
            }
            d.inputs.push(dc);
        }
    }
    d
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Graph;
    use crate::quick::workbook;

    #[test]
    fn finds_distributions_properties_and_outputs() {
        let wb = workbook(&[
            ("A1", "10"),
            (
                "B1",
                "=RiskNormal(A1*10,5,RiskTruncate(0,),RiskName(\"Price\"),RiskStatic(99))",
            ),
            ("B2", "=RiskDiscrete({1,2,3},{0.2,0.3,0.5})"),
            ("B3", "=PsiTriangular(1,2,4)"),
            ("B4", "=RiskOutput(\"Total\")+B1+B2"),
            ("B5", "=PsiOutput()+B3*2"),
            ("B6", "=NORM.INV(RAND(),0,1)"),
        ]);
        let m = Model::from_workbook(&wb);
        let g = Graph::build(&m);
        let mut ev = Evaluator::new(&m);
        ev.run(&g.order);
        let d = detect(&m, &mut ev);
        assert_eq!(d.inputs.len(), 3);
        let n = &d.inputs[0];
        assert_eq!(n.dist, "NORMAL");
        assert_eq!(n.params, vec![Value::Number(100.0), Value::Number(5.0)]);
        assert_eq!(n.truncate, Some((Some(0.0), None)));
        assert_eq!(n.name.as_deref(), Some("Price"));
        assert_eq!(n.static_value, Some(99.0));
        assert!(n.whole_cell);
        assert!(matches!(d.inputs[1].params[0], Value::Array(_)));
        assert_eq!(d.inputs[2].vendor, "PSI");
        assert_eq!(d.inputs[2].dist, "TRIANGULAR");
        assert_eq!(d.outputs.len(), 2);
        assert_eq!(d.outputs[0].name.as_deref(), Some("Total"));
        assert_eq!(d.outputs[1].name, None);
        assert_eq!(d.rand_cells.len(), 1);
    }
}
