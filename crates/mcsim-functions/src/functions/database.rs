//! Database functions: DSUM, DCOUNT, DAVERAGE, DGET and their kin.
//!
//! `Dxxx(database, field, criteria)` aggregates the `field` column over the records (rows below
//! the header row of `database`) that satisfy `criteria`, a range whose first row names columns
//! of the database and whose further rows hold conditions. Excel's rules, as observed in Excel:
//! - conditions in one criteria row must all hold (AND); a record is selected when any criteria
//!   row holds (OR); an empty criteria cell sets no condition, so an empty criteria row selects
//!   every record;
//! - column names (the field, the criteria headers) match the database header case-insensitively
//!   by their text (`"true"` finds a header cell `TRUE`, `"1"` a header `1`); the first matching
//!   column wins;
//! - a condition reads as in COUNTIF ([`Criterion`]), except that plain text without an operator
//!   matches text that *begins* with it (`"Berlin"` selects `Berlino`; `"=Berlin"` does not);
//! - a condition under a header that is not a column of the database selects nothing;
//! - `field` is a column name or a 1-based column number (truncated); anything else, a database
//!   without records, or a criteria range without conditions is `#VALUE!`;
//! - DGET is `#VALUE!` without a match and `#NUM!` with more than one.
//!
//! Computed criteria (a formula under a header that is not a column name, evaluated against each
//! record) would need the evaluator to re-evaluate the formula per record; a boolean condition
//! under an unknown header is therefore `#VALUE!` rather than a guess.

use super::criteria::Criterion;
use super::{Arg, Ctx, FnSpec, Lift};
use crate::tri;
use crate::value::{Array, Value, compare_text, number_to_text, parse_number};
use mcsim_formula::ErrorKind;
use std::cmp::Ordering;
use std::sync::Arc;

/// The field (argument 1) is scalar; the database and the criteria are ranges.
const FIELD: Lift = Lift::Mask(0b010);

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("DSUM", 3, 3, FIELD, dsum),
    FnSpec::new("DCOUNT", 3, 3, FIELD, dcount),
    FnSpec::new("DCOUNTA", 3, 3, FIELD, dcounta),
    FnSpec::new("DAVERAGE", 3, 3, FIELD, daverage),
    FnSpec::new("DPRODUCT", 3, 3, FIELD, dproduct),
    FnSpec::new("DMAX", 3, 3, FIELD, dmax),
    FnSpec::new("DMIN", 3, 3, FIELD, dmin),
    FnSpec::new("DSTDEV", 3, 3, FIELD, dstdev),
    FnSpec::new("DSTDEVP", 3, 3, FIELD, dstdevp),
    FnSpec::new("DVAR", 3, 3, FIELD, dvar),
    FnSpec::new("DVARP", 3, 3, FIELD, dvarp),
    FnSpec::new("DGET", 3, 3, FIELD, dget),
];

/// The text by which a header cell is named.
fn header_text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.to_string()),
        Value::Number(n) => Some(number_to_text(*n)),
        Value::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.to_string()),
        _ => None,
    }
}

/// The first database column whose header is named `name` (case-insensitively).
fn find_column(db: &Array, name: &str) -> Option<usize> {
    (0..db.cols).find(|&c| {
        db.get(0, c)
            .and_then(header_text)
            .is_some_and(|h| compare_text(&h, name) == Ordering::Equal)
    })
}

/// A database argument: a reference or an array with a header row and at least one record.
fn database(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<Arc<Array>, ErrorKind> {
    let db = match a {
        Arg::Value(Value::Error(e)) => return Err(*e),
        Arg::Value(Value::Array(_)) | Arg::Ref(_) => ctx.array(a)?,
        _ => return Err(ErrorKind::Value),
    };
    if db.rows < 2 || db.cols == 0 {
        return Err(ErrorKind::Value);
    }
    Ok(db)
}

/// The column the field argument names; `None` when the field is omitted (DCOUNT, DCOUNTA).
fn field(db: &Array, v: &Value, optional: bool) -> Result<Option<usize>, ErrorKind> {
    let index = |n: f64| {
        let n = n.trunc();
        if n >= 1.0 && n <= db.cols as f64 {
            Ok(Some(n as usize - 1))
        } else {
            Err(ErrorKind::Value)
        }
    };
    match v {
        Value::Error(e) => Err(*e),
        Value::Empty if optional => Ok(None),
        Value::Empty => Err(ErrorKind::Value),
        Value::Number(n) => index(*n),
        Value::Bool(b) => index(if *b { 1.0 } else { 0.0 }),
        Value::Text(s) => find_column(db, s).map(Some).ok_or(ErrorKind::Value),
        Value::Array(_) => field(db, &v.first(), optional),
    }
}

/// One condition of a criteria row: a database column and what its value must satisfy, or
/// `None` for a condition on no column (it selects nothing).
type Condition = (Option<usize>, Criterion);

/// A criteria cell as a condition: `None` when the cell sets no condition.
fn condition(v: &Value) -> Option<Criterion> {
    match v {
        Value::Empty => None,
        Value::Text(s) if s.is_empty() => None,
        Value::Text(s) => {
            let operator = s.starts_with(['=', '<', '>']);
            let special = parse_number(s).is_some()
                || s.eq_ignore_ascii_case("TRUE")
                || s.eq_ignore_ascii_case("FALSE")
                || ErrorKind::from_str_excel(s).is_some();
            if operator || special || s.ends_with('*') {
                Some(Criterion::parse(v))
            } else {
                // Plain text matches the text that begins with it.
                Some(Criterion::parse(&Value::from(format!("{s}*"))))
            }
        }
        v => Some(Criterion::parse(v)),
    }
}

/// The criteria rows (OR of ANDs).
fn criteria(ctx: &mut Ctx<'_, '_>, a: &Arg, db: &Array) -> Result<Vec<Vec<Condition>>, ErrorKind> {
    let crit = match a {
        Arg::Value(Value::Error(e)) => return Err(*e),
        Arg::Value(Value::Array(_)) | Arg::Ref(_) => ctx.array(a)?,
        _ => return Err(ErrorKind::Value),
    };
    if crit.rows < 2 {
        return Err(ErrorKind::Value);
    }
    let columns: Vec<Option<usize>> = (0..crit.cols)
        .map(|c| {
            crit.get(0, c)
                .and_then(header_text)
                .and_then(|h| find_column(db, &h))
        })
        .collect();
    let mut rows = Vec::with_capacity(crit.rows - 1);
    for r in 1..crit.rows {
        let mut conds = Vec::new();
        for (c, col) in columns.iter().enumerate() {
            let v = crit.get(r, c).cloned().unwrap_or(Value::Empty);
            let Some(criterion) = condition(&v) else {
                continue;
            };
            if col.is_none() && matches!(v, Value::Bool(_)) {
                // A computed criterion: not supported (see the module docs).
                return Err(ErrorKind::Value);
            }
            conds.push((*col, criterion));
        }
        rows.push(conds);
    }
    Ok(rows)
}

/// The records (row indices into the database, header excluded) that the criteria select.
fn selected(db: &Array, rows: &[Vec<Condition>]) -> Vec<usize> {
    let empty = Value::Empty;
    (1..db.rows)
        .filter(|&r| {
            rows.iter().any(|conds| {
                conds.iter().all(|(col, crit)| match col {
                    Some(c) => crit.matches(db.get(r, *c).unwrap_or(&empty)),
                    None => false,
                })
            })
        })
        .collect()
}

/// The database, the field column and the selected records.
type Query = (Arc<Array>, Option<usize>, Vec<usize>);

/// Reads the arguments: the database, the field column and the selected records.
fn query(ctx: &mut Ctx<'_, '_>, args: &[Arg], optional_field: bool) -> Result<Query, ErrorKind> {
    let db = database(ctx, &args[0])?;
    let fv = ctx.scalar(&args[1]);
    let col = field(&db, &fv, optional_field)?;
    let rows = criteria(ctx, &args[2], &db)?;
    let sel = selected(&db, &rows);
    Ok((db, col, sel))
}

/// The numbers of the field column in the selected records (text, booleans and blanks are
/// skipped; an error propagates).
fn numbers(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Vec<f64>, ErrorKind> {
    let (db, col, sel) = query(ctx, args, false)?;
    let col = col.ok_or(ErrorKind::Value)?;
    let mut out = Vec::with_capacity(sel.len());
    for r in sel {
        match db.get(r, col) {
            Some(Value::Number(n)) => out.push(*n),
            Some(Value::Error(e)) => return Err(*e),
            _ => {}
        }
    }
    Ok(out)
}

fn variance(xs: &[f64], sample: bool) -> Result<f64, ErrorKind> {
    let n = xs.len();
    if n == 0 || (sample && n < 2) {
        return Err(ErrorKind::Div0);
    }
    let m = xs.iter().sum::<f64>() / n as f64;
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    Ok(ss / if sample { (n - 1) as f64 } else { n as f64 })
}

macro_rules! over_numbers {
    ($($name:ident => $body:expr),* $(,)?) => {
        $(fn $name(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
            let xs = tri!(numbers(ctx, args));
            let f: fn(Vec<f64>) -> Result<f64, ErrorKind> = $body;
            f(xs).into()
        })*
    };
}

over_numbers! {
    dsum => |xs| Ok(xs.iter().sum()),
    daverage => |xs| {
        if xs.is_empty() {
            return Err(ErrorKind::Div0);
        }
        Ok(xs.iter().sum::<f64>() / xs.len() as f64)
    },
    dproduct => |xs| Ok(if xs.is_empty() { 0.0 } else { xs.iter().product() }),
    dmax => |xs| Ok(xs.into_iter().reduce(f64::max).unwrap_or(0.0)),
    dmin => |xs| Ok(xs.into_iter().reduce(f64::min).unwrap_or(0.0)),
    dstdev => |xs| variance(&xs, true).map(f64::sqrt),
    dstdevp => |xs| variance(&xs, false).map(f64::sqrt),
    dvar => |xs| variance(&xs, true),
    dvarp => |xs| variance(&xs, false),
}

fn count(ctx: &mut Ctx<'_, '_>, args: &[Arg], keep: fn(&Value) -> bool) -> Value {
    let (db, col, sel) = tri!(query(ctx, args, true));
    let n = match col {
        None => sel.len(),
        Some(c) => sel
            .into_iter()
            .filter(|&r| db.get(r, c).is_some_and(keep))
            .count(),
    };
    Value::Number(n as f64)
}

fn dcount(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    count(ctx, args, |v| matches!(v, Value::Number(_)))
}

fn dcounta(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    count(ctx, args, |v| !matches!(v, Value::Empty))
}

fn dget(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (db, col, sel) = tri!(query(ctx, args, false));
    let Some(col) = col else {
        return Value::Error(ErrorKind::Value);
    };
    match sel.as_slice() {
        [] => Value::Error(ErrorKind::Value),
        [r] => match db.get(*r, col) {
            None | Some(Value::Empty) => Value::Number(0.0),
            Some(v) => v.clone(),
        },
        _ => Value::Error(ErrorKind::Num),
    }
}

#[cfg(test)]
mod tests {
    use crate::quick::eval_cells;
    use crate::value::Value;
    use mcsim_formula::ErrorKind;

    /// Microsoft's example database for the D functions (A1:F3 criteria, A5:E11 database).
    fn trees<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut cells = vec![
            ("A1", "Tree"),
            ("B1", "Height"),
            ("C1", "Age"),
            ("D1", "Yield"),
            ("E1", "Profit"),
            ("F1", "Height"),
            ("A2", "=\"=Apple\""),
            ("B2", ">10"),
            ("F2", "<16"),
            ("A3", "=\"=Pear\""),
            ("A5", "Tree"),
            ("B5", "Height"),
            ("C5", "Age"),
            ("D5", "Yield"),
            ("E5", "Profit"),
            ("A6", "Apple"),
            ("B6", "18"),
            ("C6", "20"),
            ("D6", "14"),
            ("E6", "105"),
            ("A7", "Pear"),
            ("B7", "12"),
            ("C7", "12"),
            ("D7", "10"),
            ("E7", "96"),
            ("A8", "Cherry"),
            ("B8", "13"),
            ("C8", "14"),
            ("D8", "9"),
            ("E8", "105"),
            ("A9", "Apple"),
            ("B9", "14"),
            ("C9", "15"),
            ("D9", "10"),
            ("E9", "75"),
            ("A10", "Pear"),
            ("B10", "9"),
            ("C10", "8"),
            ("D10", "8"),
            ("E10", "76.8"),
            ("A11", "Apple"),
            ("B11", "8"),
            ("C11", "9"),
            ("D11", "6"),
            ("E11", "45"),
        ];
        cells.extend_from_slice(extra);
        cells
    }

    fn at(formula: &str) -> Value {
        eval_cells(&trees(&[("H1", formula)]), "H1")
    }

    fn close(formula: &str, expected: f64) {
        match at(formula) {
            Value::Number(n) => assert!(
                (n - expected).abs() < 1e-9 * expected.abs().max(1.0),
                "{formula}: {n}"
            ),
            v => panic!("{formula}: {v:?}"),
        }
    }

    #[test]
    fn microsoft_examples() {
        // Criteria A1:B2: Tree "=Apple" AND Height > 10; A1:A3 adds OR Tree "=Pear".
        close("=DCOUNT(A5:E11,\"Age\",A1:F2)", 1.0);
        close("=DCOUNTA(A5:E11,\"Profit\",A1:F2)", 1.0);
        close("=DMAX(A5:E11,\"Profit\",A1:A3)", 105.0);
        close("=DMIN(A5:E11,\"Profit\",A1:B2)", 75.0);
        close("=DSUM(A5:E11,\"Profit\",A1:A2)", 225.0);
        close("=DSUM(A5:E11,\"Profit\",A1:F2)", 75.0);
        close("=DPRODUCT(A5:E11,\"Yield\",A1:F2)", 10.0);
        close("=DAVERAGE(A5:E11,\"Yield\",A1:B2)", 12.0);
        close("=DAVERAGE(A5:E11,3,A5:E11)", 13.0);
        close("=DSTDEV(A5:E11,\"Yield\",A1:A3)", 2.96647939483827);
        close("=DSTDEVP(A5:E11,\"Yield\",A1:A3)", 2.65329983228432);
        close("=DVAR(A5:E11,\"Yield\",A1:A3)", 8.8);
        close("=DVARP(A5:E11,\"Yield\",A1:A3)", 7.04);
        assert_eq!(
            at("=DGET(A5:E11,\"Yield\",A1:A3)"),
            Value::Error(ErrorKind::Num)
        );
        close("=DGET(A5:E11,\"Yield\",A1:F2)", 10.0);
    }

    #[test]
    fn criteria_rules() {
        let v = |f: &str, extra: &[(&str, &str)]| {
            let mut cells = trees(extra);
            cells.push(("Z1", f));
            eval_cells(&cells, "Z1")
        };
        // Plain text matches as a prefix, case-insensitively.
        let crit = [("H1", "Tree"), ("H2", "ap")];
        assert_eq!(v("=DCOUNTA(A5:E11,1,H1:H2)", &crit), Value::Number(3.0));
        let crit = [("H1", "tree"), ("H2", "=ap")];
        assert_eq!(v("=DCOUNTA(A5:E11,1,H1:H2)", &crit), Value::Number(0.0));
        // An empty criteria cell sets no condition; an unknown header with a condition selects none.
        let crit = [("H1", "Nope"), ("I1", "Tree")];
        assert_eq!(
            v("=DCOUNT(A5:E11,\"Age\",H1:I2)", &crit),
            Value::Number(6.0)
        );
        let crit = [("H1", "Nope"), ("H2", "x")];
        assert_eq!(v("=DSUM(A5:E11,\"Age\",H1:H2)", &crit), Value::Number(0.0));
        // DCOUNT without a field counts the selected records.
        let crit = [("H1", "Height"), ("H2", ">10")];
        assert_eq!(v("=DCOUNT(A5:E11,,H1:H2)", &crit), Value::Number(4.0));
        // Field errors, a database without records, no match for DGET/DAVERAGE.
        assert_eq!(
            v("=DSUM(A5:E11,\"Weight\",H1:H2)", &crit),
            Value::Error(ErrorKind::Value)
        );
        assert_eq!(
            v("=DSUM(A5:E11,0,H1:H2)", &crit),
            Value::Error(ErrorKind::Value)
        );
        assert_eq!(
            v("=DSUM(A5:E11,6,H1:H2)", &crit),
            Value::Error(ErrorKind::Value)
        );
        assert_eq!(v("=DSUM(A5:E11,2.9,H1:H2)", &crit), Value::Number(57.0));
        assert_eq!(
            v("=DSUM(A5:E5,2,H1:H2)", &crit),
            Value::Error(ErrorKind::Value)
        );
        let crit = [("H1", "Height"), ("H2", ">100")];
        assert_eq!(
            v("=DGET(A5:E11,2,H1:H2)", &crit),
            Value::Error(ErrorKind::Value)
        );
        assert_eq!(
            v("=DAVERAGE(A5:E11,2,H1:H2)", &crit),
            Value::Error(ErrorKind::Div0)
        );
        assert_eq!(v("=DMAX(A5:E11,2,H1:H2)", &crit), Value::Number(0.0));
        assert_eq!(v("=DPRODUCT(A5:E11,2,H1:H2)", &crit), Value::Number(0.0));
        // DGET returns text too.
        let crit = [("H1", "Height"), ("H2", "=18")];
        assert_eq!(
            v("=DGET(A5:E11,\"tree\",H1:H2)", &crit),
            Value::from("Apple")
        );
    }
}
