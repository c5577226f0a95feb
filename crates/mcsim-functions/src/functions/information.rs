//! Information functions: the IS family, NA, N, TYPE, ERROR.TYPE, FORMULATEXT, SHEET, SHEETS.

use super::{Arg, Ctx, FnSpec, Lift};
use crate::tri;
use crate::value::Value;
use mcsim_formula::ErrorKind;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("ISERROR", 1, 1, Lift::All, iserror),
    FnSpec::new("ISERR", 1, 1, Lift::All, iserr),
    FnSpec::new("ISNA", 1, 1, Lift::All, isna),
    FnSpec::new("ISNUMBER", 1, 1, Lift::All, isnumber),
    FnSpec::new("ISTEXT", 1, 1, Lift::All, istext),
    FnSpec::new("ISNONTEXT", 1, 1, Lift::All, isnontext),
    FnSpec::new("ISLOGICAL", 1, 1, Lift::All, islogical),
    FnSpec::new("ISBLANK", 1, 1, Lift::All, isblank),
    FnSpec::new("ISEVEN", 1, 1, Lift::All, iseven),
    FnSpec::new("ISODD", 1, 1, Lift::All, isodd),
    FnSpec::new("ISREF", 1, 1, Lift::None, isref),
    FnSpec::new("ISFORMULA", 1, 1, Lift::None, isformula),
    FnSpec::new("ERROR.TYPE", 1, 1, Lift::All, error_type),
    FnSpec::new("TYPE", 1, 1, Lift::None, type_fn),
    FnSpec::new("N", 1, 1, Lift::All, n),
    FnSpec::new("NA", 0, 0, Lift::None, na),
    FnSpec::new("FORMULATEXT", 1, 1, Lift::None, formulatext),
    FnSpec::new("SHEET", 0, 1, Lift::None, sheet),
    FnSpec::new("SHEETS", 0, 1, Lift::None, sheets),
    FnSpec::new("CELL", 1, 2, Lift::Mask(0b1), cell),
    FnSpec::new("INFO", 1, 1, Lift::All, info).volatile(),
];

/// The (already lifted, so scalar) value of the only argument.
fn arg0(args: &[Arg]) -> Value {
    match args.first() {
        Some(Arg::Value(v)) => v.first(),
        _ => Value::Error(ErrorKind::Value),
    }
}

fn iserror(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Error(_)))
}

fn iserr(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Error(e) if e != ErrorKind::Na))
}

fn isna(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Error(ErrorKind::Na)))
}

fn isnumber(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Number(_)))
}

fn istext(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Text(_)))
}

fn isnontext(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(!matches!(arg0(args), Value::Text(_)))
}

fn islogical(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Bool(_)))
}

fn isblank(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(arg0(args), Value::Empty))
}

/// ISEVEN/ISODD: the number is truncated; booleans and non-numeric text are `#VALUE!`.
fn parity(args: &[Arg]) -> Result<bool, ErrorKind> {
    let v = arg0(args);
    if matches!(v, Value::Bool(_)) {
        return Err(ErrorKind::Value);
    }
    let x = v.to_number()?.trunc();
    Ok(x.rem_euclid(2.0) == 0.0)
}

fn iseven(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match parity(args) {
        Ok(even) => Value::Bool(even),
        Err(e) => Value::Error(e),
    }
}

fn isodd(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match parity(args) {
        Ok(even) => Value::Bool(!even),
        Err(e) => Value::Error(e),
    }
}

fn isref(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Bool(matches!(args.first(), Some(Arg::Ref(_) | Arg::Union(_))))
}

/// The formula cell at the top-left of a reference argument, if any (the cell is not evaluated:
/// `FORMULATEXT(A1)` in a cell that A1 depends on is not a circular reference).
fn formula_of<'m>(
    ctx: &Ctx<'_, 'm>,
    a: &Arg,
) -> Result<Option<&'m crate::model::Formula>, ErrorKind> {
    let area = match a {
        Arg::Ref(area) => *area,
        Arg::Union(areas) => match areas.first() {
            Some(area) => *area,
            None => return Err(ErrorKind::Value),
        },
        Arg::Value(Value::Error(e)) => return Err(*e),
        Arg::Value(_) => return Err(ErrorKind::Value),
    };
    let model = ctx.model();
    let Some(id) = model.find(area.sheet, area.bounds.r1, area.bounds.c1) else {
        return Ok(None);
    };
    let Some(fid) = model.cells.get(id as usize).and_then(|c| c.formula) else {
        return Ok(None);
    };
    Ok(model.formulas.get(fid as usize))
}

fn isformula(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match formula_of(ctx, &args[0]) {
        Ok(f) => Value::Bool(f.is_some()),
        Err(e) => Value::Error(e),
    }
}

/// Removes the `_xlfn.`/`_xlws.`/`_xlpm.` prefixes the file format adds to newer function names.
fn strip_prefixes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut in_string = false;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            in_string = !in_string;
        }
        if !in_string
            && rest.len() >= 6
            && rest.is_char_boundary(6)
            && matches!(
                rest[..6].to_ascii_lowercase().as_str(),
                "_xlfn." | "_xlws." | "_xlpm."
            )
        {
            rest = &rest[6..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn formulatext(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match formula_of(ctx, &args[0]) {
        Ok(Some(f)) => {
            let text = strip_prefixes(f.text().trim_start_matches('='));
            if f.array.is_some() {
                Value::from(format!("{{={text}}}"))
            } else {
                Value::from(format!("={text}"))
            }
        }
        Ok(None) => Value::Error(ErrorKind::Na),
        Err(e) => Value::Error(e),
    }
}

fn error_type(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match arg0(args) {
        Value::Error(e) => Value::Number(e.code() as f64),
        _ => Value::Error(ErrorKind::Na),
    }
}

fn type_code(v: &Value) -> f64 {
    match v {
        Value::Empty | Value::Number(_) => 1.0,
        Value::Text(_) => 2.0,
        Value::Bool(_) => 4.0,
        Value::Error(_) => 16.0,
        Value::Array(_) => 64.0,
    }
}

fn type_fn(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match &args[0] {
        Arg::Value(v) => Value::Number(type_code(v)),
        Arg::Ref(area) => {
            let b = area.bounds;
            if b.r1 == b.r2 && b.c1 == b.c2 {
                Value::Number(type_code(&ctx.cell(area.sheet, b.r1, b.c1)))
            } else {
                Value::Number(64.0)
            }
        }
        Arg::Union(_) => Value::Number(16.0),
    }
}

fn n(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match arg0(args) {
        Value::Number(x) => Value::Number(x),
        Value::Bool(b) => Value::Number(if b { 1.0 } else { 0.0 }),
        Value::Error(e) => Value::Error(e),
        _ => Value::Number(0.0),
    }
}

fn na(_: &mut Ctx<'_, '_>, _: &[Arg]) -> Value {
    Value::Error(ErrorKind::Na)
}

fn sheet(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match args.first() {
        None | Some(Arg::Value(Value::Empty)) => Value::Number(ctx.position().0 as f64 + 1.0),
        Some(Arg::Ref(area)) => Value::Number(area.sheet as f64 + 1.0),
        Some(Arg::Union(areas)) => match areas.first() {
            Some(a) => Value::Number(a.sheet as f64 + 1.0),
            None => Value::Error(ErrorKind::Ref),
        },
        Some(Arg::Value(v)) => match v.first() {
            Value::Error(e) => Value::Error(e),
            Value::Text(t) => match ctx.sheet_id(&t) {
                Some(id) => Value::Number(id as f64 + 1.0),
                None => Value::Error(ErrorKind::Na),
            },
            _ => Value::Error(ErrorKind::Na),
        },
    }
}

fn sheets(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match args.first() {
        None | Some(Arg::Value(Value::Empty)) => Value::Number(ctx.model().sheets.len() as f64),
        Some(Arg::Ref(_)) => Value::Number(1.0),
        Some(Arg::Union(areas)) => {
            let mut ids: Vec<u32> = areas.iter().map(|a| a.sheet).collect();
            ids.sort_unstable();
            ids.dedup();
            Value::Number(ids.len() as f64)
        }
        Some(Arg::Value(Value::Error(e))) => Value::Error(*e),
        Some(Arg::Value(_)) => Value::Error(ErrorKind::Na),
    }
}

/// CELL for the information that does not depend on formatting or the file: `address` (on the
/// same sheet), `col`, `row`, `contents` and `type`. Other kinds (`filename`, `format`, `width`,
/// ...) are `#VALUE!` here: mcsim does not model them.
fn cell(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let kind = match arg0(args) {
        Value::Error(e) => return Value::Error(e),
        Value::Text(t) => t.to_ascii_lowercase(),
        _ => return Value::Error(ErrorKind::Value),
    };
    let (sheet, row, col) = match args.get(1) {
        None => ctx.position(),
        Some(Arg::Ref(a)) => (a.sheet, a.bounds.r1, a.bounds.c1),
        Some(Arg::Union(u)) => match u.first() {
            Some(a) => (a.sheet, a.bounds.r1, a.bounds.c1),
            None => return Value::Error(ErrorKind::Value),
        },
        Some(Arg::Value(Value::Error(e))) => return Value::Error(*e),
        Some(Arg::Value(_)) => return Value::Error(ErrorKind::Value),
    };
    match kind.as_str() {
        // Another sheet's address carries the workbook's file name, which mcsim does not model.
        "address" if sheet == ctx.position().0 => {
            Value::from(format!("${}${}", mcsim_formula::col_name(col), row + 1))
        }
        "col" => Value::Number(col as f64 + 1.0),
        "row" => Value::Number(row as f64 + 1.0),
        "contents" => ctx.cell(sheet, row, col),
        "type" => {
            let v = ctx.cell(sheet, row, col);
            let model = ctx.model();
            let is_formula = model
                .find(sheet, row, col)
                .and_then(|id| model.cells.get(id as usize))
                .is_some_and(|c| c.formula.is_some());
            Value::from(match v {
                Value::Empty => "b",
                Value::Text(_) if !is_formula => "l",
                _ => "v",
            })
        }
        _ => Value::Error(ErrorKind::Value),
    }
}

/// INFO(type_text): what Excel for Windows answers about its environment, where mcsim has an
/// equivalent (`numfile`: the workbook's sheets; `recalc`: Automatic; `system`: pcdos; `release`;
/// `osversion`; `origin`: the top-left cell). `directory` and the retired memory types are
/// `#N/A`; anything else is `#VALUE!`.
fn info(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(ctx.text(&args[0])).to_ascii_lowercase();
    let text = |s: &str| Value::Text(s.into());
    match t.as_str() {
        "numfile" => Value::Number(ctx.model().sheets.len() as f64),
        "recalc" => text("Automatic"),
        "system" => text("pcdos"),
        "release" => text("16.0"),
        "osversion" => text("Windows (64-bit) NT 10.00"),
        "origin" => text("$A:$A$1"),
        "directory" | "memavail" | "memused" | "totmem" => Value::Error(ErrorKind::Na),
        _ => Value::Error(ErrorKind::Value),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use crate::Value;
    use crate::quick::{eval, eval_cells};
    use mcsim_formula::ErrorKind;

    fn b(x: bool) -> Value {
        Value::Bool(x)
    }

    #[test]
    fn is_family() {
        let cells = [
            ("A1", "1"),
            ("A2", "hello"),
            ("A3", "=NA()"),
            ("A4", "TRUE"),
            ("A5", "=1/0"),
            ("A6", "=\"\""),
            ("B1", "=ISNUMBER(A1)"),
            ("B2", "=ISTEXT(A2)"),
            ("B3", "=ISNA(A3)"),
            ("B4", "=ISERR(A3)"),
            ("B5", "=ISERR(A5)"),
            ("B6", "=ISERROR(A3)"),
            ("B7", "=ISLOGICAL(A4)"),
            ("B8", "=ISBLANK(A7)"),
            ("B9", "=ISBLANK(A6)"),
            ("B10", "=ISNONTEXT(A3)"),
            ("B11", "=ISNONTEXT(A6)"),
            ("B12", "=ISNUMBER(\"12\")"),
        ];
        for (cell, expect) in [
            ("B1", true),
            ("B2", true),
            ("B3", true),
            ("B4", false),
            ("B5", true),
            ("B6", true),
            ("B7", true),
            ("B8", true),
            ("B9", false),
            ("B10", true),
            ("B11", false),
            ("B12", false),
        ] {
            assert_eq!(eval_cells(&cells, cell), b(expect), "{cell}");
        }
    }

    #[test]
    fn is_functions_over_arrays() {
        assert_eq!(
            eval("=SUMPRODUCT(--ISNUMBER({1,\"a\",3}))"),
            Value::Number(2.0)
        );
    }

    #[test]
    fn even_odd() {
        assert_eq!(eval("=ISEVEN(2.9)"), b(true));
        assert_eq!(eval("=ISODD(-5.5)"), b(true));
        assert_eq!(eval("=ISEVEN(-4.5)"), b(true));
        assert_eq!(eval("=ISEVEN(\"12\")"), b(true));
        assert_eq!(eval("=ISODD(TRUE)"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=ISODD(\"x\")"), Value::Error(ErrorKind::Value));
        assert_eq!(eval("=ISEVEN(#N/A)"), Value::Error(ErrorKind::Na));
    }

    #[test]
    fn isref_isformula_formulatext() {
        let cells = [
            ("A1", "5"),
            ("A2", "=1+1"),
            ("A3", "=_xlfn.FORMULATEXT(A2)"),
            ("B1", "=ISREF(A1)"),
            ("B2", "=ISREF(12)"),
            ("B3", "=ISREF(OFFSET(A1,1,1))"),
            ("B4", "=ISFORMULA(A2)"),
            ("B5", "=ISFORMULA(A1)"),
            ("B6", "=FORMULATEXT(A1)"),
            ("B7", "=FORMULATEXT(A3)"),
            ("E1", "=CONCATENATE(FORMULATEXT(F1),\"!\")"),
            ("F1", "=E1"),
        ];
        assert_eq!(eval_cells(&cells, "B1"), b(true));
        assert_eq!(eval_cells(&cells, "B2"), b(false));
        assert_eq!(eval_cells(&cells, "B3"), b(true));
        assert_eq!(eval_cells(&cells, "B4"), b(true));
        assert_eq!(eval_cells(&cells, "B5"), b(false));
        assert_eq!(eval_cells(&cells, "B6"), Value::Error(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "A3"), Value::from("=1+1"));
        assert_eq!(eval_cells(&cells, "B7"), Value::from("=FORMULATEXT(A2)"));
    }

    #[test]
    fn error_type_type_n_na() {
        assert_eq!(eval("=ERROR.TYPE(1/0)"), Value::Number(2.0));
        assert_eq!(eval("=ERROR.TYPE(NA())"), Value::Number(7.0));
        assert_eq!(eval("=ERROR.TYPE(1)"), Value::Error(ErrorKind::Na));
        assert_eq!(eval("=TYPE(1)"), Value::Number(1.0));
        assert_eq!(eval("=TYPE(\"a\")"), Value::Number(2.0));
        assert_eq!(eval("=TYPE(TRUE)"), Value::Number(4.0));
        assert_eq!(eval("=TYPE(1/0)"), Value::Number(16.0));
        assert_eq!(eval("=TYPE({1,2})"), Value::Number(64.0));
        assert_eq!(eval("=N(TRUE)"), Value::Number(1.0));
        assert_eq!(eval("=N(\"10\")"), Value::Number(0.0));
        assert_eq!(eval("=N(#DIV/0!)"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval("=NA()"), Value::Error(ErrorKind::Na));
    }

    #[test]
    fn cell_info() {
        let cells = [
            ("A1", "10"),
            ("A2", "hola"),
            ("A3", "=1/0"),
            ("B1", "=CELL(\"address\",A2:A4)"),
            ("B2", "=CELL(\"row\",A11:A21)"),
            ("B3", "=CELL(\"col\",C8:D8)"),
            ("B4", "=CELL(\"contents\",A3)"),
            ("B5", "=CELL(\"type\",A1)"),
            ("B6", "=CELL(\"type\",A2)"),
            ("B7", "=CELL(\"TYPE\",A9)"),
            ("B8", "=CELL(\"hello\",A1)"),
            ("B9", "=CELL(2)"),
            ("B10", "=CELL(\"address\",Other!C3)"),
            ("Other!A1", "1"),
        ];
        assert_eq!(eval_cells(&cells, "B1"), Value::from("$A$2"));
        assert_eq!(eval_cells(&cells, "B2"), Value::Number(11.0));
        assert_eq!(eval_cells(&cells, "B3"), Value::Number(3.0));
        assert_eq!(eval_cells(&cells, "B4"), Value::Error(ErrorKind::Div0));
        assert_eq!(eval_cells(&cells, "B5"), Value::from("v"));
        assert_eq!(eval_cells(&cells, "B6"), Value::from("l"));
        assert_eq!(eval_cells(&cells, "B7"), Value::from("b"));
        assert_eq!(eval_cells(&cells, "B8"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "B9"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "B10"), Value::Error(ErrorKind::Value));
    }

    #[test]
    fn sheet_and_sheets() {
        let cells = [
            ("A1", "=SHEET()"),
            ("A2", "=SHEETS()"),
            ("A3", "=SHEET(Other!B2)"),
            ("A4", "=SHEET(\"other\")"),
            ("A5", "=SHEET(\"nope\")"),
            ("Other!A1", "1"),
        ];
        assert_eq!(eval_cells(&cells, "A1"), Value::Number(1.0));
        assert_eq!(eval_cells(&cells, "A2"), Value::Number(2.0));
        assert_eq!(eval_cells(&cells, "A3"), Value::Number(2.0));
        assert_eq!(eval_cells(&cells, "A4"), Value::Number(2.0));
        assert_eq!(eval_cells(&cells, "A5"), Value::Error(ErrorKind::Na));
    }

    #[test]
    fn info_describes_the_environment() {
        assert_eq!(
            eval_cells(&[("A1", "=INFO(\"numfile\")"), ("Other!A1", "1")], "A1"),
            Value::Number(2.0)
        );
        assert_eq!(eval("=INFO(\"RECALC\")"), Value::Text("Automatic".into()));
        assert_eq!(eval("=INFO(\"directory\")"), Value::Error(ErrorKind::Na));
        assert_eq!(eval("=INFO(\"colour\")"), Value::Error(ErrorKind::Value));
        assert!(crate::functions::is_volatile("INFO"));
    }
}
