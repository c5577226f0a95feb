//! REGEXTEST, REGEXEXTRACT, REGEXREPLACE, and two small reference functions: HYPERLINK and
//! TRIMRANGE.
//!
//! Excel's regular expressions are PCRE2. `regex-lite` reads the same syntax for everything but
//! look-around and back-references (a pattern that uses them is `#VALUE!`, as Excel answers an
//! invalid pattern); it was chosen over `regex` for its build cost, since workbooks match short
//! texts where the missing Unicode tables and literal optimisations do not matter.

use super::args::opt;
use super::{Arg, Ctx, FnSpec, Lift};
use crate::model::Area;
use crate::tri;
use crate::value::{Array, Value};
use mcsim_formula::{Bounds, ErrorKind};
use regex_lite::{Regex, RegexBuilder};
use std::sync::Arc;

/// The functions of this module.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("REGEXTEST", 2, 3, Lift::All, regextest),
    FnSpec::new("REGEXEXTRACT", 2, 4, Lift::All, regexextract),
    FnSpec::new("REGEXREPLACE", 3, 5, Lift::All, regexreplace),
    FnSpec::new("HYPERLINK", 1, 2, Lift::All, hyperlink),
    FnSpec::new("TRIMRANGE", 1, 3, Lift::Mask(0b110), trimrange),
];

/// The pattern of argument `i`, case-insensitive when `case_at` holds 1 (0, the default, is
/// case-sensitive; anything else is `#VALUE!`).
fn pattern(
    ctx: &mut Ctx<'_, '_>,
    args: &[Arg],
    i: usize,
    case_at: usize,
) -> Result<Regex, ErrorKind> {
    let p = ctx.text(&args[i])?;
    let insensitive = match opt(args, case_at) {
        None => false,
        Some(a) => match ctx.number(a)?.trunc() {
            0.0 => false,
            1.0 => true,
            _ => return Err(ErrorKind::Value),
        },
    };
    RegexBuilder::new(&p)
        .case_insensitive(insensitive)
        .build()
        .map_err(|_| ErrorKind::Value)
}

/// REGEXTEST(text, pattern, [case_sensitivity]).
fn regextest(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let text = tri!(ctx.text(&args[0]));
    let re = tri!(pattern(ctx, args, 1, 2));
    Value::Bool(re.is_match(&text))
}

fn text_value(s: &str) -> Value {
    Value::Text(Arc::from(s))
}

/// REGEXEXTRACT(text, pattern, [return_mode], [case_sensitivity]): mode 0 the first match, 1 every
/// match (a row, as Excel spills it), 2 the capture groups of the first match (a row; an unmatched group is
/// empty text). No match is `#N/A`.
fn regexextract(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let text = tri!(ctx.text(&args[0]));
    let re = tri!(pattern(ctx, args, 1, 3));
    let mode = tri!(ctx.number_or(args, 2, 0.0)).trunc();
    match mode {
        0.0 => re
            .find(&text)
            .map_or(Value::Error(ErrorKind::Na), |m| text_value(m.as_str())),
        1.0 => {
            let all: Vec<Value> = re
                .find_iter(&text)
                .map(|m| text_value(m.as_str()))
                .collect();
            if all.is_empty() {
                Value::Error(ErrorKind::Na)
            } else {
                Value::Array(Arc::new(Array::row(all)))
            }
        }
        2.0 => {
            let Some(caps) = re.captures(&text) else {
                return Value::Error(ErrorKind::Na);
            };
            if caps.len() < 2 {
                return Value::Error(ErrorKind::Na);
            }
            let groups: Vec<Value> = (1..caps.len())
                .map(|g| text_value(caps.get(g).map_or("", |m| m.as_str())))
                .collect();
            Value::Array(Arc::new(Array::row(groups)))
        }
        _ => Value::Error(ErrorKind::Value),
    }
}

/// REGEXREPLACE(text, pattern, replacement, [occurrence], [case_sensitivity]): occurrence 0 (the
/// default) replaces every match, n > 0 the n-th, n < 0 the n-th from the end. The replacement
/// reads `$1`, `${name}` as the groups.
fn regexreplace(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let text = tri!(ctx.text(&args[0]));
    let re = tri!(pattern(ctx, args, 1, 4));
    let rep = tri!(ctx.text(&args[2]));
    let occurrence = tri!(ctx.number_or(args, 3, 0.0)).trunc();
    if occurrence == 0.0 {
        return text_value(&re.replace_all(&text, rep.as_ref()));
    }
    let matches: Vec<_> = re.captures_iter(&text).collect();
    let n = matches.len() as f64;
    let idx = if occurrence > 0.0 {
        occurrence - 1.0
    } else {
        n + occurrence
    };
    if idx < 0.0 || idx >= n {
        return text_value(&text);
    }
    let caps = &matches[idx as usize];
    let Some(whole) = caps.get(0) else {
        return text_value(&text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..whole.start()]);
    caps.expand(&rep, &mut out);
    out.push_str(&text[whole.end()..]);
    text_value(&out)
}

/// HYPERLINK(link_location, [friendly_name]): the friendly name (or the location) as the cell's
/// value; the link itself is not followed.
fn hyperlink(_ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    // A friendly name that is given but empty shows as 0, like any empty cell.
    let shown = match args.get(1) {
        Some(Arg::Value(v)) => v.clone(),
        _ => match &args[0] {
            Arg::Value(v) => v.clone(),
            _ => Value::Error(ErrorKind::Value),
        },
    };
    match shown {
        Value::Empty => Value::Number(0.0),
        v => v,
    }
}

/// Which ends TRIMRANGE trims: 0 none, 1 leading, 2 trailing, 3 both (the default).
fn trim_mode(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<(bool, bool), ErrorKind> {
    let m = ctx.number_or(args, i, 3.0)?.trunc();
    match m {
        0.0 => Ok((false, false)),
        1.0 => Ok((true, false)),
        2.0 => Ok((false, true)),
        3.0 => Ok((true, true)),
        _ => Err(ErrorKind::Value),
    }
}

/// TRIMRANGE(range, [trim_rows], [trim_cols]): the range without its blank outer rows and
/// columns. A reference stays a reference; an array is trimmed of its empty elements' rows and
/// columns. Nothing left is `#REF!`.
fn trimrange(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let (lead_r, trail_r) = tri!(trim_mode(ctx, args, 1));
    let (lead_c, trail_c) = tri!(trim_mode(ctx, args, 2));
    match &args[0] {
        Arg::Ref(area) => {
            let mut used: Option<Bounds> = None;
            ctx.visit_area(*area, &mut |r, c, _| {
                let b = used.get_or_insert(Bounds {
                    r1: r,
                    c1: c,
                    r2: r,
                    c2: c,
                });
                b.r1 = b.r1.min(r);
                b.r2 = b.r2.max(r);
                b.c1 = b.c1.min(c);
                b.c2 = b.c2.max(c);
            });
            let Some(u) = used else {
                return Value::Error(ErrorKind::Ref);
            };
            let b = area.bounds;
            let bounds = Bounds {
                r1: if lead_r { u.r1 } else { b.r1 },
                r2: if trail_r { u.r2 } else { b.r2 },
                c1: if lead_c { u.c1 } else { b.c1 },
                c2: if trail_c { u.c2 } else { b.c2 },
            };
            ctx.reference(Area {
                sheet: area.sheet,
                bounds,
            })
        }
        Arg::Value(Value::Array(a)) => {
            let filled = |r: usize, c: usize| a.get(r, c).is_some_and(|v| !v.is_empty());
            let rows_used: Vec<usize> = (0..a.rows)
                .filter(|&r| (0..a.cols).any(|c| filled(r, c)))
                .collect();
            let cols_used: Vec<usize> = (0..a.cols)
                .filter(|&c| (0..a.rows).any(|r| filled(r, c)))
                .collect();
            let (Some(&fr), Some(&lr), Some(&fc), Some(&lc)) = (
                rows_used.first(),
                rows_used.last(),
                cols_used.first(),
                cols_used.last(),
            ) else {
                return Value::Error(ErrorKind::Ref);
            };
            let (r1, r2) = (
                if lead_r { fr } else { 0 },
                if trail_r { lr } else { a.rows - 1 },
            );
            let (c1, c2) = (
                if lead_c { fc } else { 0 },
                if trail_c { lc } else { a.cols - 1 },
            );
            let mut data = Vec::with_capacity((r2 - r1 + 1) * (c2 - c1 + 1));
            for r in r1..=r2 {
                for c in c1..=c2 {
                    data.push(a.get(r, c).cloned().unwrap_or(Value::Empty));
                }
            }
            Value::Array(Arc::new(Array::new(r2 - r1 + 1, c2 - c1 + 1, data)))
        }
        Arg::Value(v) => v.clone(),
        Arg::Union(_) => Value::Error(ErrorKind::Value),
    }
}

#[cfg(test)]
mod tests {
    use crate::quick::{eval, eval_cells};
    use crate::value::Value;
    use mcsim_formula::ErrorKind;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn regex_functions_follow_the_help_pages() {
        assert_eq!(eval(r#"=REGEXTEST("alpha","[a-z]+")"#), Value::Bool(true));
        assert_eq!(
            eval(r#"=REGEXTEST("Alpha","^[a-z]+$")"#),
            Value::Bool(false)
        );
        assert_eq!(
            eval(r#"=REGEXTEST("Alpha","^[a-z]+$",1)"#),
            Value::Bool(true)
        );
        assert_eq!(
            eval(r#"=REGEXEXTRACT("DylanWilliams","[A-Z][a-z]+")"#),
            t("Dylan")
        );
        assert_eq!(
            eval(r#"=INDEX(REGEXEXTRACT("DylanWilliams","[A-Z][a-z]+",1),2)"#),
            t("Williams")
        );
        assert_eq!(
            eval(r#"=INDEX(REGEXEXTRACT("tel 555-0199","(\d+)-(\d+)",2),1,2)"#),
            t("0199")
        );
        assert_eq!(
            eval(r#"=REGEXEXTRACT("abc","\d")"#),
            Value::Error(ErrorKind::Na)
        );
        assert_eq!(
            eval(r#"=REGEXREPLACE("Sonia Rees","([A-Z][a-z]+) ([A-Z][a-z]+)","$2, $1")"#),
            t("Rees, Sonia")
        );
        assert_eq!(eval(r##"=REGEXREPLACE("a1b2c3","\d","#")"##), t("a#b#c#"));
        assert_eq!(eval(r##"=REGEXREPLACE("a1b2c3","\d","#",2)"##), t("a1b#c3"));
        assert_eq!(
            eval(r##"=REGEXREPLACE("a1b2c3","\d","#",-1)"##),
            t("a1b2c#")
        );
        assert_eq!(
            eval(r#"=REGEXTEST("a","(")"#),
            Value::Error(ErrorKind::Value)
        );
    }

    #[test]
    fn hyperlink_shows_its_friendly_name() {
        assert_eq!(
            eval(r#"=HYPERLINK("https://example.com","Example")"#),
            t("Example")
        );
        assert_eq!(
            eval(r#"=HYPERLINK("https://example.com")"#),
            t("https://example.com")
        );
        assert_eq!(eval(r##"=HYPERLINK("#A1",42)"##), Value::Number(42.0));
    }

    #[test]
    fn trimrange_drops_blank_outer_rows_and_columns() {
        let cells = [
            ("B3", "1"),
            ("C4", "2"),
            ("C5", "x"),
            ("E1", "=ROWS(TRIMRANGE(A1:D10))"),
            ("E2", "=COLUMNS(TRIMRANGE(A1:D10))"),
            ("E3", "=SUM(TRIMRANGE(A1:D10))"),
            ("E4", "=ROWS(TRIMRANGE(A1:D10,2))"),
            ("E5", "=COLUMNS(TRIMRANGE(A1:D10,0,1))"),
            ("E6", "=TRIMRANGE(A7:D9)"),
        ];
        assert_eq!(eval_cells(&cells, "E1"), Value::Number(3.0));
        assert_eq!(eval_cells(&cells, "E2"), Value::Number(2.0));
        assert_eq!(eval_cells(&cells, "E3"), Value::Number(3.0));
        assert_eq!(eval_cells(&cells, "E4"), Value::Number(5.0));
        assert_eq!(eval_cells(&cells, "E5"), Value::Number(3.0));
        assert_eq!(eval_cells(&cells, "E6"), Value::Error(ErrorKind::Ref));
    }
}
