//! Finding a model's uncertain inputs and outputs in its formulas: @RISK-style distribution
//! functions (`=RiskNormal(100, 10, RiskTruncate(0,), RiskName("Price"))`), Analytic Solver's `Psi`
//! equivalents, and output markers (`=RiskOutput("NPV")+...`, `=PsiOutput()+...`).
//!
//! The engine only reads the calls and evaluates their arguments (which must not depend on other
//! uncertain cells); turning a name and arguments into a distribution is the sampler's business.

use crate::eval::Evaluator;
use crate::model::{Calls, CellId, Model};
use crate::value::Value;
use mcsim_formula::{BinaryOp, Expr, ExprKind};

/// A distribution call found in a formula.
#[derive(Debug, Clone, PartialEq)]
pub struct DistCall {
    /// The cell.
    pub cell: CellId,
    /// `Sheet1!B3`, with `#k` appended for the k-th (1-based) distribution call of a formula
    /// that holds more than one.
    pub label: String,
    /// The distribution, upper case, without its `RISK`/`PSI`/`VOSE` prefix: `NORMAL`, `TRIANG`, ...
    pub dist: String,
    /// The prefix it was written with (`RISK`, `PSI` or `VOSE`).
    pub vendor: &'static str,
    /// Evaluated parameters (numbers, or arrays for `{values}` and ranges). For a call whose
    /// parameters are uncertain ([`DistCall::dynamic`]) these are the values at the base case.
    pub params: Vec<Value>,
    /// `RiskTruncate(min, max)`: either bound may be missing.
    pub truncate: Option<(Option<f64>, Option<f64>)>,
    /// `RiskShift(x)`.
    pub shift: Option<f64>,
    /// `RiskName("..")`.
    pub name: Option<String>,
    /// `RiskStatic(x)`: the value shown when not simulating.
    pub static_value: Option<f64>,
    /// `RiskCorrmat(matrix, position[, instance])`: the matrix (as evaluated), this input's
    /// 1-based position, and a key that identifies the matrix and instance.
    pub corrmat: Option<(Value, usize, String)>,
    /// `RiskIndepC("id")` (coefficient `None`) or `RiskDepC("id", coefficient)`.
    pub depc: Option<(String, Option<f64>)>,
    /// Other property functions seen and ignored (RiskSeed, RiskUnits, ...).
    pub ignored: Vec<String>,
    /// The whole formula is the call (after a `RiskOutput()+` marker).
    pub whole_cell: bool,
    /// Byte offset of the call in the formula text: with the cell, the call's identity.
    pub offset: u32,
    /// Index of the call among the distribution calls of its formula (0 for the first).
    pub index: u32,
    /// The parameters depend on uncertain cells or other distribution calls, so the
    /// distribution changes from iteration to iteration (set by [`mark_dynamic`]).
    pub dynamic: bool,
}

/// An output marker.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputMark {
    /// The cell.
    pub cell: CellId,
    /// The name given (`RiskOutput("NPV")`), if any.
    pub name: Option<String>,
    /// `RiskOutput(name, range name, position)`: the output range's name and this cell's
    /// position in it.
    pub range: Option<(String, Option<f64>)>,
}

/// A statistics function in a cell (`=RiskMean(B5)`, `=RiskPercentile(NPV, 0.9)/10^6`): its
/// value is known only after a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct StatCall {
    /// The cell holding the call.
    pub cell: CellId,
    /// The function, upper case, without its prefix: `MEAN`, `PERCENTILE`, ...
    pub function: String,
    /// The cells whose simulated values it summarises (the first cell of the reference).
    pub target: Option<CellId>,
}

/// What the formulas say about the simulation.
#[derive(Debug, Clone, Default)]
pub struct Detected {
    /// Distribution calls, in formula order.
    pub inputs: Vec<DistCall>,
    /// Output cells.
    pub outputs: Vec<OutputMark>,
    /// Cells that call RAND() or RANDBETWEEN() (each call is an independent uniform per iteration).
    pub rand_cells: Vec<CellId>,
    /// Each RAND()/RANDBETWEEN() call: its cell and offset in the formula.
    pub rand_sites: Vec<(CellId, u32)>,
    /// Statistics functions in cells.
    pub statistics: Vec<StatCall>,
    /// `RiskSimtable(values)` cells and their values (one simulation per value).
    pub simtables: Vec<(CellId, Vec<Value>)>,
}

use mcsim_functions::risk_names::{PROPERTY, split_vendor};
pub use mcsim_functions::risk_names::{
    STATISTICS, is_distribution, is_output_marker, is_property, statistic,
};

/// Sheets where @RISK keeps its own bookkeeping (`RiskSerializationData*`, `rsklibSimData`):
/// never part of the simulated model.
pub fn is_bookkeeping_sheet(name: &str) -> bool {
    let up = name.to_ascii_uppercase();
    up.starts_with("RISKSERIALIZATIONDATA") || up.starts_with("RSKLIBSIMDATA")
}

fn strip_output(e: &Expr) -> (&Expr, Option<&[Expr]>) {
    // `RiskOutput(..)+X` or `X+RiskOutput(..)`, or `RiskOutput(..)` alone.
    if let ExprKind::Call { name, args } = &e.kind
        && is_output_marker(name)
    {
        return (e, Some(args));
    }
    if let ExprKind::Binary {
        op: BinaryOp::Add,
        lhs,
        rhs,
    } = &e.kind
    {
        for (a, b) in [(lhs, rhs), (rhs, lhs)] {
            if let ExprKind::Call { name, args } = &a.kind
                && is_output_marker(name)
            {
                return (b, Some(args));
            }
        }
        // `RiskOutput()+A+B` parses as `(RiskOutput()+A)+B`.
        if let (inner, Some(args)) = strip_output(lhs)
            && !std::ptr::eq(inner, &**lhs)
        {
            return (e, Some(args));
        }
    }
    (e, None)
}

/// The text an argument evaluates to (a literal or a cell holding a label).
fn text_arg(ev: &mut Evaluator<'_>, cell: &crate::model::CellData, e: &Expr) -> Option<String> {
    if matches!(e.kind, ExprKind::Missing) {
        return None;
    }
    match ev.eval_at(e, cell.sheet, cell.row, cell.col, false) {
        Value::Text(t) if !t.is_empty() => Some(t.to_string()),
        v @ Value::Number(_) => Some(v.to_text().ok()?.to_string()),
        _ => None,
    }
}

fn output_mark(ev: &mut Evaluator<'_>, cell_id: CellId, args: &[Expr]) -> OutputMark {
    let cell = &ev.model().cells[cell_id as usize];
    let name = args.first().and_then(|e| text_arg(ev, cell, e));
    let range = args.get(1).and_then(|e| text_arg(ev, cell, e)).map(|r| {
        let pos = args.get(2).and_then(|e| {
            ev.eval_at(e, cell.sheet, cell.row, cell.col, false)
                .to_number()
                .ok()
        });
        (r, pos)
    });
    OutputMark {
        cell: cell_id,
        name,
        range,
    }
}

/// The cell a statistics function's first argument points at (a reference or a defined name).
fn stat_target(model: &Model, cell: &crate::model::CellData, e: &Expr) -> Option<CellId> {
    match &e.kind {
        ExprKind::Ref(r) => {
            let sheet = match &r.sheet {
                None => cell.sheet,
                Some(n) => model.sheet_id(n)?,
            };
            let b = r.bounds();
            model.find(sheet, b.r1, b.c1)
        }
        ExprKind::Name { sheet, name } => {
            let scope = match sheet {
                Some(s) => model.sheet_id(s),
                None => Some(cell.sheet),
            };
            let n = model.name(scope, name)?;
            let ne = n.expr.as_ref().ok()?;
            let at = crate::model::CellData {
                sheet: n.scope.unwrap_or(cell.sheet),
                ..cell.clone()
            };
            stat_target(model, &at, ne)
        }
        ExprKind::Paren(inner) => stat_target(model, cell, inner),
        _ => None,
    }
}

/// Scans every formula (evaluating distribution arguments with `ev`, which should have run).
/// Formulas on @RISK's bookkeeping sheets are skipped.
pub fn detect(model: &Model, ev: &mut Evaluator<'_>) -> Detected {
    let mut d = Detected::default();
    // Once per sheet, not per formula (the test upper-cases the name).
    let bookkeeping: Vec<bool> = model
        .sheets
        .iter()
        .map(|s| is_bookkeeping_sheet(&s.name))
        .collect();
    for f in &model.formulas {
        // Everything looked for below is an add-in's function or a RAND call.
        if !f.calls.any(Calls::VENDOR.with(Calls::RANDOM)) {
            continue;
        }
        let Ok(expr) = &f.expr else { continue };
        let cell = &model.cells[f.cell as usize];
        if bookkeeping
            .get(cell.sheet as usize)
            .copied()
            .unwrap_or(false)
        {
            continue;
        }
        // Only the anchor of an array formula holds the calls.
        if f.array.is_some_and(|a| a.anchor != f.cell) {
            continue;
        }
        let (core, out) = strip_output(expr);
        let (core, vose_name) = super::dists::strip_vose_input(core);
        // The output marker: the one `strip_output` found, else the first one anywhere in the
        // formula (found by the walk below, which looks at every call for it).
        let mut found: Option<&[Expr]> = out;
        // Calls: distributions (not inside property functions), RAND sites, statistics.
        let mut calls: Vec<&Expr> = Vec::new();
        let mut rand_sites: Vec<u32> = Vec::new();
        let mut skip_until: u32 = 0;
        expr.walk(&mut |n| {
            let ExprKind::Call { name, args } = &n.kind else {
                return;
            };
            if found.is_none() && is_output_marker(name) {
                found = Some(args);
            }
            if n.span.start < skip_until {
                return;
            }
            if let Some((_, rest)) = split_vendor(name)
                && PROPERTY.contains(&rest)
            {
                skip_until = n.span.end;
                return;
            }
            if is_distribution(name) {
                calls.push(n);
            } else if matches!(name.as_str(), "RAND" | "RANDBETWEEN") {
                rand_sites.push(n.span.start);
            } else if let Some(stat) = statistic(name) {
                d.statistics.push(StatCall {
                    cell: f.cell,
                    function: stat.to_string(),
                    target: args.first().and_then(|a| stat_target(model, cell, a)),
                });
            } else if let Some((_, "SIMTABLE")) = split_vendor(name)
                && let Some(a) = args.first()
            {
                let v = ev.eval_at(a, cell.sheet, cell.row, cell.col, true);
                let values = match v {
                    Value::Array(arr) => arr.data.clone(),
                    v => vec![v],
                };
                d.simtables.push((f.cell, values));
            }
        });
        if let Some(args) = found {
            d.outputs.push(output_mark(ev, f.cell, args));
        }
        if !rand_sites.is_empty() {
            d.rand_cells.push(f.cell);
            d.rand_sites
                .extend(rand_sites.into_iter().map(|o| (f.cell, o)));
        }
        let many = calls.len() > 1;
        for (k, call) in calls.iter().enumerate() {
            let ExprKind::Call { name, args } = &call.kind else {
                continue;
            };
            let Some((vendor, dist)) = split_vendor(name) else {
                continue;
            };
            let label = if many {
                format!("{}#{}", model.cell_label(f.cell), k + 1)
            } else {
                model.cell_label(f.cell)
            };
            let mut dc = DistCall {
                cell: f.cell,
                label,
                dist: dist.to_string(),
                vendor,
                params: Vec::new(),
                truncate: None,
                shift: None,
                name: None,
                static_value: None,
                corrmat: None,
                depc: None,
                ignored: Vec::new(),
                whole_cell: std::ptr::eq(*call, core) || is_paren_of(core, call),
                offset: call.span.start,
                index: k as u32,
                dynamic: false,
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
                        "NAME" | "INPUT" => {
                            dc.name = pargs.first().and_then(|e| text_arg(ev, cell, e));
                        }
                        "CORRMAT" => {
                            let m = pargs
                                .first()
                                .map(|e| ev.eval_at(e, cell.sheet, cell.row, cell.col, true))
                                .unwrap_or(Value::Empty);
                            let pos = num(1).unwrap_or(0.0) as usize;
                            let mut key = pargs.first().map(|e| e.to_string()).unwrap_or_default();
                            if let Some(inst) = pargs.get(2).and_then(|e| text_arg(ev, cell, e)) {
                                key = format!("{key}, instance {inst}");
                            }
                            dc.corrmat = Some((m, pos, key));
                        }
                        "INDEPC" => {
                            if let Some(id) = pargs.first().and_then(|e| text_arg(ev, cell, e)) {
                                dc.depc = Some((id, None));
                            }
                        }
                        "DEPC" => {
                            if let Some(id) = pargs.first().and_then(|e| text_arg(ev, cell, e)) {
                                dc.depc = Some((id, Some(num(1).unwrap_or(f64::NAN))));
                            }
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

fn is_paren_of(core: &Expr, call: &Expr) -> bool {
    match &core.kind {
        ExprKind::Paren(inner) => std::ptr::eq(&**inner, call) || is_paren_of(inner, call),
        _ => false,
    }
}

/// Marks the distribution calls whose parameters change from iteration to iteration: an argument
/// refers to a cell that depends on an uncertain input (`stochastic`, by cell), or holds another
/// distribution or RAND call.
pub fn mark_dynamic(model: &Model, detected: &mut Detected, stochastic: &[bool]) {
    for dc in &mut detected.inputs {
        let Some(fid) = model.cells[dc.cell as usize].formula else {
            continue;
        };
        let Ok(expr) = &model.formulas[fid as usize].expr else {
            continue;
        };
        let sheet = model.cells[dc.cell as usize].sheet;
        let mut call: Option<&Expr> = None;
        expr.walk(&mut |n| {
            if n.span.start == dc.offset
                && matches!(n.kind, ExprKind::Call { .. })
                && call.is_none()
            {
                call = Some(n);
            }
        });
        let Some(ExprKind::Call { args, .. }) = call.map(|c| &c.kind) else {
            continue;
        };
        let mut dynamic = false;
        for a in args {
            if let ExprKind::Call { name, .. } = &a.kind
                && split_vendor(name).is_some_and(|(_, p)| PROPERTY.contains(&p))
            {
                continue;
            }
            a.walk(&mut |n| match &n.kind {
                ExprKind::Call { name, .. }
                    if is_distribution(name)
                        || matches!(name.as_str(), "RAND" | "RANDBETWEEN" | "RANDARRAY") =>
                {
                    dynamic = true;
                }
                // A LAMBDA name (`RiskNormal(MEAN_OF(B1),1)`) may read stochastic cells in its
                // body: its parameters are recomputed per iteration, conservatively.
                ExprKind::Call { name, .. } if !crate::functions::is_supported(name) => {
                    dynamic = true;
                }
                ExprKind::Ref(r) => {
                    let s = match &r.sheet {
                        None => Some(sheet),
                        Some(name) => model.sheet_id(name),
                    };
                    if let Some(s) = s
                        && area_touches(model, s, r.bounds(), stochastic)
                    {
                        dynamic = true;
                    }
                }
                ExprKind::Name { sheet: qs, name } => {
                    let scope = match qs {
                        Some(q) => model.sheet_id(q),
                        None => Some(sheet),
                    };
                    if let Some(Ok(ne)) = model.name(scope, name).map(|n| &n.expr) {
                        ne.walk(&mut |m| {
                            if let ExprKind::Ref(r) = &m.kind {
                                let s = match &r.sheet {
                                    None => Some(sheet),
                                    Some(q) => model.sheet_id(q),
                                };
                                if let Some(s) = s
                                    && area_touches(model, s, r.bounds(), stochastic)
                                {
                                    dynamic = true;
                                }
                            }
                        });
                    }
                }
                _ => {}
            });
        }
        dc.dynamic = dynamic;
    }
}

fn area_touches(model: &Model, sheet: u32, b: mcsim_formula::Bounds, stochastic: &[bool]) -> bool {
    let Some(sh) = model.sheets.get(sheet as usize) else {
        return false;
    };
    let Some(b) = sh.clip(b) else { return false };
    (b.c1..=b.c2).any(|c| {
        sh.column_slice(c, b.r1, b.r2)
            .iter()
            .any(|&(_, id)| stochastic.get(id as usize).copied().unwrap_or(false))
    })
}

/// @RISK's automatic name for a cell without one: the nearest text label to the left in its row,
/// else the nearest text label above in its column. `None` when neither exists. Where several
/// cells share a row label (a table of years across), [`auto_name_parts`] gives the column label
/// to tell them apart.
pub fn auto_name(model: &Model, values: &[Value], cell: CellId) -> Option<String> {
    let (row, col) = auto_name_parts(model, values, cell);
    row.or(col)
}

/// The row label (nearest text to the left) and column label (nearest text above) of a cell.
pub fn auto_name_parts(
    model: &Model,
    values: &[Value],
    cell: CellId,
) -> (Option<String>, Option<String>) {
    let Some(c) = model.cells.get(cell as usize) else {
        return (None, None);
    };
    let Some(sheet) = model.sheets.get(c.sheet as usize) else {
        return (None, None);
    };
    let label_at = |r: u32, col: u32| -> Option<String> {
        let id = sheet.find(r, col)?;
        match values.get(id as usize)? {
            Value::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => None,
        }
    };
    let row_label = (0..c.col).rev().find_map(|col| label_at(c.row, col));
    let col_label = (0..c.row).rev().find_map(|r| label_at(r, c.col));
    (row_label, col_label)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::graph::Graph;
    use crate::quick::workbook;

    fn detected(cells: &[(&str, &str)]) -> (Model, Detected) {
        let model = Model::from_workbook(&workbook(cells));
        let graph = Graph::build(&model);
        let d = {
            let mut ev = Evaluator::new(&model);
            crate::sim::recalculate(&mut ev, &graph, &[]);
            detect(&model, &mut ev)
        };
        (model, d)
    }

    /// One walk per formula finds the output marker wherever it stands (the first one), the
    /// distribution calls outside property functions, RAND sites and statistics; formulas on
    /// @RISK's bookkeeping sheets are skipped.
    #[test]
    fn detect_finds_markers_calls_and_sites() {
        let (m, d) = detected(&[
            ("A1", "=RiskOutput(\"Total\")+RiskNormal(10,1)"),
            (
                "A2",
                "=1+(RiskOutput(\"In parens\")*0+RiskUniform(0,1,RiskName(\"U\")))",
            ),
            ("A3", "=RAND()+RiskTriang(1,2,3)+RAND()"),
            (
                "A4",
                "=RiskMean(A1)+RiskOutput(\"second\")*0+RiskOutput(\"third\")*0",
            ),
            ("A5", "=RiskPert(1,2,3,RiskStatic(RiskNormal(0,1)))"),
            (
                "RiskSerializationData!A1",
                "=RiskOutput(\"hidden\")+RiskNormal(0,1)",
            ),
        ]);
        let at = |r| m.find(0, r, 0).unwrap();
        let outs: Vec<(CellId, Option<String>)> =
            d.outputs.iter().map(|o| (o.cell, o.name.clone())).collect();
        assert_eq!(
            outs,
            vec![
                (at(0), Some("Total".into())),
                (at(1), Some("In parens".into())),
                (at(3), Some("second".into())),
            ]
        );
        let calls: Vec<(CellId, &str, Option<&str>)> = d
            .inputs
            .iter()
            .map(|c| (c.cell, c.dist.as_str(), c.name.as_deref()))
            .collect();
        assert_eq!(
            calls,
            vec![
                (at(0), "NORMAL", None),
                (at(1), "UNIFORM", Some("U")),
                (at(2), "TRIANG", None),
                (at(4), "PERT", None),
            ]
        );
        assert!(d.inputs[0].whole_cell && !d.inputs[1].whole_cell);
        assert_eq!(d.rand_cells, vec![at(2)]);
        assert_eq!(d.rand_sites.len(), 2);
        assert_eq!(d.statistics.len(), 1);
        assert_eq!(d.statistics[0].target, Some(at(0)));
    }
}
