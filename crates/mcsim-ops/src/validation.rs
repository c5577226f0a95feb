//! Data validation and conditional formatting checked against the recalculated values: the
//! cells whose value breaks their own validation rule, and the rules whose formulas do not
//! resolve (a table, name or sheet that is not there).
//!
//! A rule's formulas are stored relative to the top-left cell of its first range, as Excel
//! stores them; each cell checks them shifted to its own position. Structured references
//! (`Table1[Region]`), `INDIRECT("Table1[Region]")` and defined names resolve as in any
//! formula.

use mcsim_engine::{CellId, Evaluator, Model, Value};
use mcsim_formula::{ErrorKind, Expr, parse};
use mcsim_workbook::{ConditionalFormat, DataValidation, Range};
use serde::Serialize;

use crate::compare::JsonValue;

/// Cells checked at most over all data validation rules of a workbook (a guard against rules
/// over whole columns of large sheets); the rest are counted in
/// [`DataValidationReport::unchecked_cells`].
pub const MAX_CHECKED_CELLS: usize = 200_000;

/// Violations listed at most (all are counted in [`DataValidationReport::violation_count`]).
pub const MAX_LISTED_VIOLATIONS: usize = 1_000;

/// The data validation rules of a workbook and the cells that break them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataValidationReport {
    /// Rules (`<dataValidation>`, plain and x14).
    pub rules: usize,
    /// Non-blank cells checked against a rule.
    pub cells: usize,
    /// Cells whose value breaks their rule, at most [`MAX_LISTED_VIOLATIONS`], in rule order.
    pub violations: Vec<Violation>,
    /// All violations, listed or not.
    pub violation_count: usize,
    /// Rules that could not be checked: a formula that does not parse, or that answers `#REF!`
    /// or `#NAME?` (a table, name or sheet that is not there).
    pub unresolved: Vec<UnresolvedRule>,
    /// Cells left unchecked beyond [`MAX_CHECKED_CELLS`].
    pub unchecked_cells: usize,
    /// Simulation inputs under a whole-number, decimal, date or time rule whose distribution
    /// can draw values outside the rule's bounds (a value Excel would refuse if typed in).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_warnings: Vec<String>,
}

/// A cell whose value breaks its validation rule.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    /// `Sheet1!B3`.
    pub cell: String,
    /// The cell's recalculated value.
    pub value: JsonValue,
    /// The rule: its type, operator and formulas (`list Table1[Region]`,
    /// `whole between 1 and 10`).
    pub rule: String,
}

/// A rule whose formulas do not resolve.
#[derive(Debug, Clone, Serialize)]
pub struct UnresolvedRule {
    /// The cells it applies to: `Sheet1!B2:B9`.
    pub range: String,
    /// The rule, as in [`Violation::rule`].
    pub rule: String,
    /// Why.
    pub reason: String,
}

/// The conditional formats of a workbook.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConditionalFormatReport {
    /// Rules (`<cfRule>`, plain and x14).
    pub rules: usize,
    /// Formulas of those rules.
    pub formulas: usize,
    /// Rules whose formula does not parse or answers `#REF!`/`#NAME?` at the top-left cell.
    pub unresolved: Vec<UnresolvedRule>,
}

/// `Sheet1!B2:B9 D4` for the ranges of a rule.
fn ranges_label(model: &Model, sheet: usize, ranges: &[Range]) -> String {
    let name = model.sheets.get(sheet).map_or("?", |s| s.name.as_str());
    let parts: Vec<String> = ranges
        .iter()
        .map(|&(r1, c1, r2, c2)| {
            if (r1, c1) == (r2, c2) {
                mcsim_formula::a1(r1, c1)
            } else {
                format!(
                    "{}:{}",
                    mcsim_formula::a1(r1, c1),
                    mcsim_formula::a1(r2, c2)
                )
            }
        })
        .collect();
    format!("{}!{}", mcsim_formula::quote_sheet(name), parts.join(" "))
}

/// `list Table1[Region]`, `whole between 1 and 10`, `decimal greaterThan 0`.
fn rule_label(dv: &DataValidation) -> String {
    let f1 = dv.formula1.as_deref().unwrap_or("");
    match dv.kind.as_str() {
        "list" | "custom" => format!("{} {f1}", dv.kind),
        _ => match dv.operator.as_str() {
            "between" | "notBetween" => format!(
                "{} {} {f1} and {}",
                dv.kind,
                dv.operator,
                dv.formula2.as_deref().unwrap_or("")
            ),
            op => format!("{} {op} {f1}", dv.kind),
        },
    }
}

/// A rule formula, parsed once, and evaluated at any cell of the rule.
struct RuleFormula<'a> {
    text: &'a str,
    expr: Expr,
    sheet: u32,
    origin: (u32, u32),
    /// The formula has the same value at every cell of the rule (no relative reference, no
    /// `[@Col]`, no `ROW()`/`COLUMN()`): a list's source is evaluated once.
    fixed: bool,
}

impl RuleFormula<'_> {
    /// The formula's value at (`row`, `col`): its relative references shifted from the origin,
    /// its structured references resolved there.
    fn eval(
        &self,
        model: &Model,
        ev: &mut Evaluator<'_>,
        row: u32,
        col: u32,
        array: bool,
    ) -> Value {
        let mut e = self.expr.clone();
        e.shift_relative(
            i64::from(row) - i64::from(self.origin.0),
            i64::from(col) - i64::from(self.origin.1),
        );
        model.resolve_references(&mut e, (self.sheet, row, col));
        ev.eval_at(&e, self.sheet, row, col, array)
    }
}

/// Parses a rule's formula; `Err` is the reason it cannot be used.
fn compile<'a>(text: &'a str, sheet: usize, ranges: &[Range]) -> Result<RuleFormula<'a>, String> {
    let expr = parse(text).map_err(|e| format!("`{text}` does not parse: {}", e.message))?;
    let origin = ranges.first().map_or((0, 0), |r| (r.0, r.1));
    let mut shifted = expr.clone();
    shifted.shift_relative(1, 1);
    let upper = text.to_uppercase();
    let fixed = shifted.to_string() == expr.to_string()
        && !upper.contains('@')
        && !upper.contains("THIS ROW")
        && !upper.contains("ROW(")
        && !upper.contains("COLUMN(")
        && !upper.contains("CELL(");
    Ok(RuleFormula {
        text,
        expr,
        sheet: sheet as u32,
        origin,
        fixed,
    })
}

/// `Some(reason)` when the formula answers `#REF!` or `#NAME?` at the rule's top-left cell.
fn unresolved_at_origin(
    f: &RuleFormula<'_>,
    model: &Model,
    ev: &mut Evaluator<'_>,
) -> Option<String> {
    let v = f.eval(model, ev, f.origin.0, f.origin.1, true);
    let first = match &v {
        Value::Array(a) => a.data.first().cloned().unwrap_or(Value::Empty),
        v => v.clone(),
    };
    // @RISK's cell-colouring rules name formulas that @RISK defines while it runs.
    let risk_name = matches!(&f.expr.kind, mcsim_formula::ExprKind::Name { sheet: None, name }
        if name.get(..14).is_some_and(|p| p.eq_ignore_ascii_case("RiskColorCells")));
    match first {
        Value::Error(ErrorKind::Name) if risk_name => Some(format!(
            "`{}` is an @RISK display rule (the name is defined by @RISK while it runs)",
            f.text
        )),
        Value::Error(e @ (ErrorKind::Ref | ErrorKind::Name)) => Some(format!(
            "`{}` answers {} at {}",
            f.text,
            e.as_str(),
            mcsim_formula::a1(f.origin.0, f.origin.1)
        )),
        _ => None,
    }
}

/// Checks the data validation rules against the evaluator's (recalculated) values.
pub fn check_validations(
    model: &Model,
    ev: &mut Evaluator<'_>,
    rules: &[DataValidation],
) -> DataValidationReport {
    let mut report = DataValidationReport {
        rules: rules.len(),
        ..DataValidationReport::default()
    };
    for dv in rules {
        let label = rule_label(dv);
        let checked = matches!(
            dv.kind.as_str(),
            "whole" | "decimal" | "date" | "time" | "textLength" | "list" | "custom"
        );
        if !checked {
            continue;
        }
        let unresolved = |reason: String| UnresolvedRule {
            range: ranges_label(model, dv.sheet, &dv.ranges),
            rule: label.clone(),
            reason,
        };
        let needs_second = matches!(dv.operator.as_str(), "between" | "notBetween")
            && !matches!(dv.kind.as_str(), "list" | "custom");
        let f1 = match dv.formula1.as_deref() {
            Some(t) => compile(t, dv.sheet, &dv.ranges),
            None => Err("the rule has no formula".to_owned()),
        };
        let f2 = match (needs_second, dv.formula2.as_deref()) {
            (false, _) => Ok(None),
            (true, Some(t)) => compile(t, dv.sheet, &dv.ranges).map(Some),
            (true, None) => Err("the rule has no second formula".to_owned()),
        };
        let (f1, f2) = match (f1, f2) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                report.unresolved.push(unresolved(e));
                continue;
            }
        };
        if let Some(reason) = unresolved_at_origin(&f1, model, ev)
            .or_else(|| f2.as_ref().and_then(|f| unresolved_at_origin(f, model, ev)))
        {
            report.unresolved.push(unresolved(reason));
            continue;
        }
        // A list whose source is the same for every cell is evaluated once.
        let list = (dv.kind == "list" && f1.fixed)
            .then(|| f1.eval(model, ev, f1.origin.0, f1.origin.1, true));
        for cell in rule_cells(model, dv.sheet, &dv.ranges) {
            if report.cells >= MAX_CHECKED_CELLS {
                report.unchecked_cells += 1;
                continue;
            }
            let value = ev.value(cell).clone();
            if matches!(value, Value::Empty) {
                continue;
            }
            report.cells += 1;
            let (row, col) = {
                let c = &model.cells[cell as usize];
                (c.row, c.col)
            };
            let ok = match &list {
                Some(source) => !matches!(value, Value::Error(_)) && in_list(&value, source),
                None => passes(dv, &value, &f1, f2.as_ref(), model, ev, row, col),
            };
            if !ok {
                report.violation_count += 1;
                if report.violations.len() < MAX_LISTED_VIOLATIONS {
                    report.violations.push(Violation {
                        cell: model.cell_label(cell),
                        value: JsonValue::from(&value),
                        rule: label.clone(),
                    });
                }
            }
        }
    }
    report
}

/// Flags the simulation inputs (distribution cells) under a whole-number, decimal, date or time
/// rule whose distribution, with its truncation and shift, reaches outside the rule's bounds.
pub fn input_warnings(
    model: &Model,
    ev: &mut Evaluator<'_>,
    rules: &[DataValidation],
    inputs: &[crate::parse::ParsedInput],
) -> Vec<String> {
    let mut out = Vec::new();
    if inputs.is_empty() {
        return out;
    }
    let by_cell: std::collections::HashMap<&str, &crate::parse::ParsedInput> =
        inputs.iter().map(|i| (i.cell.as_str(), i)).collect();
    for dv in rules {
        if !matches!(dv.kind.as_str(), "whole" | "decimal" | "date" | "time") {
            continue;
        }
        let Some(Ok(f1)) = dv
            .formula1
            .as_deref()
            .map(|t| compile(t, dv.sheet, &dv.ranges))
        else {
            continue;
        };
        let f2 = dv
            .formula2
            .as_deref()
            .and_then(|t| compile(t, dv.sheet, &dv.ranges).ok());
        for cell in rule_cells(model, dv.sheet, &dv.ranges) {
            let label = model.cell_label(cell);
            let Some(input) = by_cell.get(label.as_str()) else {
                continue;
            };
            let Ok(sampler) =
                mcsim_sampling::Sampler::with_modifiers(&input.distribution, input.modifiers)
            else {
                continue;
            };
            let (lo, hi) = (sampler.quantile(0.0), sampler.quantile(1.0));
            let (row, col) = {
                let c = &model.cells[cell as usize];
                (c.row, c.col)
            };
            let Some(a) = as_number(&f1.eval(model, ev, row, col, false)) else {
                continue;
            };
            let b = f2
                .as_ref()
                .and_then(|f| as_number(&f.eval(model, ev, row, col, false)));
            let escapes = match dv.operator.as_str() {
                "between" => match b {
                    Some(b) => lo < a.min(b) || hi > a.max(b),
                    None => false,
                },
                "greaterThan" => lo <= a,
                "greaterThanOrEqual" => lo < a,
                "lessThan" => hi >= a,
                "lessThanOrEqual" => hi > a,
                // `equal`, `notEqual`, `notBetween`: a continuous draw hits or misses a point or
                // a gap by chance; not flagged.
                _ => false,
            };
            if escapes {
                let named = if input.name == label {
                    String::new()
                } else {
                    format!(" ({})", input.name)
                };
                out.push(format!(
                    "{label}: the input{named} draws from {} to {}, outside its validation rule {}",
                    show_bound(lo),
                    show_bound(hi),
                    rule_label(dv)
                ));
            }
        }
    }
    out
}

fn show_bound(x: f64) -> String {
    if x == f64::INFINITY {
        "+inf".into()
    } else if x == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{x}")
    }
}

/// The stored cells of a rule's ranges, each once, in range then column then row order.
fn rule_cells(model: &Model, sheet: usize, ranges: &[Range]) -> Vec<CellId> {
    let Some(s) = model.sheets.get(sheet) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &(r1, c1, r2, c2) in ranges {
        let last = c2.min(s.columns.len().saturating_sub(1) as u32);
        for col in c1..=last {
            for &(_, id) in s.column_slice(col, r1, r2) {
                if seen.insert(id) {
                    out.push(id);
                }
            }
        }
    }
    out
}

/// A number for a comparison: numbers as they are, text that reads as a number, blank as 0.
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Empty => Some(0.0),
        Value::Text(t) => t.trim().parse().ok(),
        Value::Array(a) => a.data.first().and_then(as_number),
        Value::Bool(_) | Value::Error(_) => None,
    }
}

fn compare(operator: &str, x: f64, a: f64, b: Option<f64>) -> bool {
    let (lo, hi) = match b {
        Some(b) => (a.min(b), a.max(b)),
        None => (a, a),
    };
    match operator {
        "notBetween" => x < lo || x > hi,
        "equal" => x == a,
        "notEqual" => x != a,
        "greaterThan" => x > a,
        "lessThan" => x < a,
        "greaterThanOrEqual" => x >= a,
        "lessThanOrEqual" => x <= a,
        // `between`, the default.
        _ => x >= lo && x <= hi,
    }
}

/// Does `value`, the value of the cell (`row`, `col`), pass the rule?
#[allow(clippy::too_many_arguments)]
fn passes(
    dv: &DataValidation,
    value: &Value,
    f1: &RuleFormula<'_>,
    f2: Option<&RuleFormula<'_>>,
    model: &Model,
    ev: &mut Evaluator<'_>,
    row: u32,
    col: u32,
) -> bool {
    if matches!(value, Value::Error(_)) && dv.kind != "custom" {
        return false;
    }
    match dv.kind.as_str() {
        "list" => {
            let source = f1.eval(model, ev, row, col, true);
            in_list(value, &source)
        }
        "custom" => match f1.eval(model, ev, row, col, false) {
            Value::Bool(b) => b,
            Value::Number(n) => n != 0.0,
            _ => false,
        },
        kind => {
            let x = if kind == "textLength" {
                match value.to_text() {
                    Ok(t) => t.chars().count() as f64,
                    Err(_) => return false,
                }
            } else {
                match value {
                    Value::Number(n) => *n,
                    _ => return false,
                }
            };
            if kind == "whole" && x.fract() != 0.0 {
                return false;
            }
            let Some(a) = as_number(&f1.eval(model, ev, row, col, false)) else {
                return false;
            };
            let b = match f2 {
                Some(f) => match as_number(&f.eval(model, ev, row, col, false)) {
                    Some(b) => Some(b),
                    None => return false,
                },
                None => None,
            };
            compare(&dv.operator, x, a, b)
        }
    }
}

/// Is `value` one of the list's items? A text source is a comma-separated list
/// (`"East,West"`); a range or array lists its values. Text matches case-insensitively, a
/// number matches a number or text that reads as the same number.
fn in_list(value: &Value, source: &Value) -> bool {
    let matches = |item: &Value| -> bool {
        match (value, item) {
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Number(a), Value::Text(t)) => t.trim().parse::<f64>().is_ok_and(|b| b == *a),
            (Value::Text(a), Value::Text(b)) => a.trim().to_lowercase() == b.trim().to_lowercase(),
            (Value::Text(a), Value::Number(b)) => a.trim().parse::<f64>().is_ok_and(|a| a == *b),
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        }
    };
    match source {
        Value::Text(t) => t
            .split(',')
            .any(|item| matches(&Value::Text(std::sync::Arc::from(item)))),
        Value::Array(a) => a.data.iter().any(matches),
        v => matches(v),
    }
}

/// Counts the conditional formats' rules and finds those whose formulas do not resolve.
pub fn check_formats(
    model: &Model,
    ev: &mut Evaluator<'_>,
    formats: &[ConditionalFormat],
) -> ConditionalFormatReport {
    let mut report = ConditionalFormatReport::default();
    for cf in formats {
        for rule in &cf.rules {
            report.rules += 1;
            let label = || {
                let mut l = rule.kind.clone();
                if let Some(op) = &rule.operator {
                    l.push(' ');
                    l.push_str(op);
                }
                for f in &rule.formulas {
                    l.push(' ');
                    l.push_str(f);
                }
                l
            };
            for text in &rule.formulas {
                report.formulas += 1;
                let reason = match compile(text, cf.sheet, &cf.ranges) {
                    Err(e) => Some(e),
                    Ok(f) => unresolved_at_origin(&f, model, ev),
                };
                if let Some(reason) = reason {
                    report.unresolved.push(UnresolvedRule {
                        range: ranges_label(model, cf.sheet, &cf.ranges),
                        rule: label(),
                        reason,
                    });
                    break;
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn text(s: &str) -> Value {
        Value::Text(Arc::from(s))
    }

    #[test]
    fn comparisons_and_lists() {
        assert!(compare("between", 5.0, 10.0, Some(1.0)));
        assert!(!compare("between", 11.0, 1.0, Some(10.0)));
        assert!(compare("notBetween", 11.0, 1.0, Some(10.0)));
        assert!(compare("greaterThanOrEqual", 1.0, 1.0, None));
        assert!(!compare("lessThan", 1.0, 1.0, None));
        assert!(in_list(&text("east"), &text("East, West")));
        assert!(in_list(&text("West"), &text("East, West")));
        assert!(!in_list(&text("North"), &text("East,West")));
        assert!(in_list(&Value::Number(2.0), &text("1,2,3")));
        assert!(!in_list(&Value::Number(4.0), &text("1,2,3")));
    }

    #[test]
    fn position_independent_formulas() {
        let fixed = |t: &str| compile(t, 0, &[(1, 1, 5, 1)]).unwrap().fixed;
        assert!(fixed("$A$1:$A$3"));
        assert!(fixed("Regions[Region]"));
        assert!(fixed("INDIRECT(\"Regions[Region]\")"));
        assert!(fixed("RegionList"));
        assert!(!fixed("A1:A3"));
        assert!(!fixed("$A1"));
        assert!(!fixed("INDIRECT(\"Regions[@Region]\")"));
        assert!(!fixed("OFFSET($A$1,ROW()-1,0)"));
    }
}
