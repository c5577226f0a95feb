//! Lookup and reference functions.
//!
//! Searches follow Excel: exact matches compare numbers with numbers, text with text
//! (case-insensitively, with `*`, `?` and `~` wildcards where Excel allows them) and booleans with
//! booleans; a number never matches the text `"1"`, and empty cells never match. Approximate
//! matches (MATCH types 1 and -1, VLOOKUP/HLOOKUP/LOOKUP with a sorted table, XLOOKUP's binary
//! search modes) are binary searches, as Excel's are: on unsorted data they give what Excel gives,
//! not what a linear scan would. Elements of another type than the lookup value are stepped over,
//! which is what makes idioms such as `LOOKUP(2,1/(A1:A9="x"),B1:B9)` and
//! `MATCH(9.99E+307,A:A)` work.
//!
//! Tables given as references are read lazily and clipped to the used part of the sheet, so
//! `VLOOKUP(x,A:C,2,FALSE)` reads the stored cells of column A and one cell of the result column.
//! INDEX, OFFSET, INDIRECT and XLOOKUP (with a reference as return array) return references.

use super::args::opt;
use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::model::Area;
use crate::tri;
use crate::value::{Array, Value, compare_text};
use mcsim_formula::{BinaryOp, Bounds, ErrorKind, ExprKind, MAX_COLS, MAX_ROWS};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("INDEX", 2, 4, Lift::Mask(0b1110), index),
    FnSpec::new("MATCH", 2, 3, Lift::Mask(0b101), match_fn),
    FnSpec::new("VLOOKUP", 3, 4, Lift::Mask(0b1101), vlookup),
    FnSpec::new("HLOOKUP", 3, 4, Lift::Mask(0b1101), hlookup),
    FnSpec::new("LOOKUP", 2, 3, Lift::Mask(0b1), lookup),
    FnSpec::new("XLOOKUP", 3, 6, Lift::Mask(0b110001), xlookup),
    FnSpec::new("XMATCH", 2, 4, Lift::Mask(0b1101), xmatch),
    FnSpec::new("OFFSET", 3, 5, Lift::Mask(0b11110), offset),
    FnSpec::new("INDIRECT", 1, 2, Lift::All, indirect),
    FnSpec::new("ROW", 0, 1, Lift::None, row),
    FnSpec::new("COLUMN", 0, 1, Lift::None, column),
    FnSpec::new("ROWS", 1, 1, Lift::None, rows),
    FnSpec::new("COLUMNS", 1, 1, Lift::None, columns),
    FnSpec::new("AREAS", 1, 1, Lift::None, areas),
    FnSpec::new("ADDRESS", 2, 5, Lift::All, address),
    FnSpec::new("TRANSPOSE", 1, 1, Lift::None, transpose),
    FnSpec::new("MMULT", 2, 2, Lift::None, mmult),
    FnSpec::new("SEQUENCE", 1, 4, Lift::All, sequence),
    FnSpec::new("FILTER", 2, 3, Lift::None, filter),
    FnSpec::new("UNIQUE", 1, 3, Lift::Mask(0b110), unique),
    FnSpec::new("SORT", 1, 4, Lift::Mask(0b1000), sort),
    FnSpec::new("SORTBY", 2, VARIADIC, Lift::None, sortby),
    FnSpec::new("CHOOSECOLS", 2, VARIADIC, Lift::None, choosecols),
    FnSpec::new("CHOOSEROWS", 2, VARIADIC, Lift::None, chooserows),
    FnSpec::new("TAKE", 2, 3, Lift::Mask(0b110), take),
    FnSpec::new("DROP", 2, 3, Lift::Mask(0b110), drop),
    FnSpec::new("EXPAND", 2, 4, Lift::Mask(0b1110), expand),
    FnSpec::new("HSTACK", 1, VARIADIC, Lift::None, hstack),
    FnSpec::new("VSTACK", 1, VARIADIC, Lift::None, vstack),
    FnSpec::new("TOCOL", 1, 3, Lift::Mask(0b110), tocol),
    FnSpec::new("TOROW", 1, 3, Lift::Mask(0b110), torow),
    FnSpec::new("WRAPROWS", 2, 3, Lift::Mask(0b010), wraprows),
    FnSpec::new("WRAPCOLS", 2, 3, Lift::Mask(0b010), wrapcols),
    FnSpec::new("SINGLE", 1, 1, Lift::None, single),
    FnSpec::new("ANCHORARRAY", 1, 1, Lift::None, anchorarray),
];

// ---------------------------------------------------------------------------------------------
// Reading arguments
// ---------------------------------------------------------------------------------------------

/// A lifted (scalar) argument's value.
fn val(args: &[Arg], i: usize) -> Value {
    match args.get(i) {
        Some(Arg::Value(v)) => v.first(),
        Some(_) => Value::Error(ErrorKind::Value),
        None => Value::Empty,
    }
}

/// A number argument where an argument given empty (`F(x,)`) reads as 0 and only an absent one
/// takes the default (Excel: `VLOOKUP(x,t,2,)` is an exact match).
fn num_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize, default: f64) -> Result<f64, ErrorKind> {
    match args.get(i) {
        None => Ok(default),
        Some(a) => ctx.number(a),
    }
}

/// A boolean argument with the same convention as [`num_arg`].
fn bool_arg(
    ctx: &mut Ctx<'_, '_>,
    args: &[Arg],
    i: usize,
    default: bool,
) -> Result<bool, ErrorKind> {
    match args.get(i) {
        None => Ok(default),
        Some(a) => ctx.boolean(a),
    }
}

/// A table argument: a reference (read lazily) or an array.
enum Source {
    Area(Area),
    Array(Arc<Array>),
}

impl Source {
    fn from_arg(a: &Arg) -> Result<Source, ErrorKind> {
        match a {
            Arg::Ref(area) => Ok(Source::Area(*area)),
            Arg::Union(_) => Err(ErrorKind::Value),
            Arg::Value(Value::Array(arr)) => Ok(Source::Array(arr.clone())),
            Arg::Value(Value::Error(e)) => Err(*e),
            Arg::Value(v) => Ok(Source::Array(Arc::new(Array::new(1, 1, vec![v.clone()])))),
        }
    }

    fn rows(&self) -> usize {
        match self {
            Source::Area(a) => a.bounds.rows() as usize,
            Source::Array(a) => a.rows,
        }
    }

    fn cols(&self) -> usize {
        match self {
            Source::Area(a) => a.bounds.cols() as usize,
            Source::Array(a) => a.cols,
        }
    }

    /// The element at (`r`, `c`), zero-based (a reference may be read beyond its bounds, as
    /// LOOKUP's result vector is).
    fn get(&self, ctx: &mut Ctx<'_, '_>, r: usize, c: usize) -> Value {
        match self {
            Source::Area(a) => {
                let (row, col) = (a.bounds.r1 as usize + r, a.bounds.c1 as usize + c);
                if row >= MAX_ROWS as usize || col >= MAX_COLS as usize {
                    return Value::Error(ErrorKind::Ref);
                }
                ctx.cell(a.sheet, row as u32, col as u32)
            }
            Source::Array(a) => a.get(r, c).cloned().unwrap_or(Value::Error(ErrorKind::Na)),
        }
    }

    /// Column `index` (`vertical`) or row `index` as values. A reference is clipped to the used
    /// part of its sheet: trailing cells that cannot hold anything are left out.
    fn line(&self, ctx: &mut Ctx<'_, '_>, vertical: bool, index: usize) -> Vec<Value> {
        match self {
            Source::Area(a) => {
                let b = a.bounds;
                let (used_rows, used_cols) = match ctx.model().sheets.get(a.sheet as usize) {
                    Some(s) => (s.used_rows, s.columns.len() as u32),
                    None => (0, 0),
                };
                let sub = if vertical {
                    let c = b.c1 + index as u32;
                    let r2 = b.r2.min(used_rows.saturating_sub(1));
                    if used_rows == 0 || r2 < b.r1 || c > b.c2 {
                        return Vec::new();
                    }
                    Bounds {
                        r1: b.r1,
                        r2,
                        c1: c,
                        c2: c,
                    }
                } else {
                    let r = b.r1 + index as u32;
                    let c2 = b.c2.min(used_cols.saturating_sub(1));
                    if used_cols == 0 || c2 < b.c1 || r > b.r2 {
                        return Vec::new();
                    }
                    Bounds {
                        r1: r,
                        r2: r,
                        c1: b.c1,
                        c2,
                    }
                };
                ctx.area_array(Area {
                    sheet: a.sheet,
                    bounds: sub,
                })
                .data
            }
            Source::Array(a) => {
                if vertical {
                    (0..a.rows)
                        .filter_map(|r| a.get(r, index).cloned())
                        .collect()
                } else {
                    (0..a.cols)
                        .filter_map(|c| a.get(index, c).cloned())
                        .collect()
                }
            }
        }
    }

    /// The sub-table of rows `r1..=r2` and columns `c1..=c2`: a reference for an area, a value
    /// for an array (a scalar when it is a single element).
    fn slice(&self, ctx: &mut Ctx<'_, '_>, r1: usize, r2: usize, c1: usize, c2: usize) -> Value {
        match self {
            Source::Area(a) => {
                let b = a.bounds;
                let bounds = Bounds {
                    r1: b.r1 + r1 as u32,
                    r2: b.r1 + r2 as u32,
                    c1: b.c1 + c1 as u32,
                    c2: b.c1 + c2 as u32,
                };
                ctx.reference(Area {
                    sheet: a.sheet,
                    bounds,
                })
            }
            Source::Array(a) => sub_array(a, r1, r2, c1, c2),
        }
    }
}

fn sub_array(a: &Array, r1: usize, r2: usize, c1: usize, c2: usize) -> Value {
    if r1 == r2 && c1 == c2 {
        return a
            .get(r1, c1)
            .cloned()
            .unwrap_or(Value::Error(ErrorKind::Ref));
    }
    let mut data = Vec::with_capacity((r2 - r1 + 1) * (c2 - c1 + 1));
    for r in r1..=r2 {
        for c in c1..=c2 {
            data.push(a.get(r, c).cloned().unwrap_or(Value::Error(ErrorKind::Ref)));
        }
    }
    Value::Array(Arc::new(Array::new(r2 - r1 + 1, c2 - c1 + 1, data)))
}

/// A one-dimensional lookup vector (MATCH, XMATCH): `None` when the source is two-dimensional.
fn vector(ctx: &mut Ctx<'_, '_>, src: &Source) -> Option<Vec<Value>> {
    if src.cols() == 1 {
        Some(src.line(ctx, true, 0))
    } else if src.rows() == 1 {
        Some(src.line(ctx, false, 0))
    } else {
        None
    }
}

fn array_value(a: Array) -> Value {
    if a.rows == 1 && a.cols == 1 {
        a.data.into_iter().next().unwrap_or(Value::Empty)
    } else {
        Value::Array(Arc::new(a))
    }
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

fn same_kind(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Number(_), Value::Number(_))
            | (Value::Text(_), Value::Text(_))
            | (Value::Bool(_), Value::Bool(_))
    )
}

/// Ordering of two values of the same kind (see [`same_kind`]).
fn cmp_same(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Text(x), Value::Text(y)) => compare_text(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    One,
    Many,
}

fn lower_chars(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// A wildcard pattern (`*`, `?`, `~` escapes), lower-cased; `None` when it has no wildcard.
fn wildcard_pattern(s: &str) -> Option<Vec<Tok>> {
    let mut toks = Vec::new();
    let mut wild = false;
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' => {
                wild = true;
                toks.push(Tok::Many)
            }
            '?' => {
                wild = true;
                toks.push(Tok::One)
            }
            '~' if matches!(it.peek(), Some('*' | '?' | '~')) => {
                wild = true;
                if let Some(n) = it.next() {
                    toks.push(Tok::Lit(n));
                }
            }
            c => toks.extend(c.to_lowercase().map(Tok::Lit)),
        }
    }
    wild.then_some(toks)
}

fn wild_match(p: &[Tok], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::Lit(c)) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Many) => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|t| *t == Tok::Many)
}

/// Exact matching of a lookup value, with wildcards for text when allowed.
struct Matcher {
    target: Value,
    pattern: Option<Vec<Tok>>,
    /// Match mode 3 (XLOOKUP/XMATCH): `Some(pattern)`, a regular expression that text must
    /// contain, `Some(None)` when the target is not text (nothing matches).
    regex: Option<Option<regex_lite::Regex>>,
}

impl Matcher {
    fn new(target: &Value, wildcards: bool) -> Matcher {
        let pattern = match target {
            Value::Text(s) if wildcards => wildcard_pattern(s),
            _ => None,
        };
        Matcher {
            target: target.clone(),
            pattern,
            regex: None,
        }
    }

    /// Match mode 3: the target text read as a regular expression (a number target matches
    /// nothing, an invalid pattern is `#VALUE!`).
    fn regex(target: &Value) -> Result<Matcher, ErrorKind> {
        let regex = match target {
            Value::Text(p) => Some(regex_lite::Regex::new(p).map_err(|_| ErrorKind::Value)?),
            _ => None,
        };
        Ok(Matcher {
            target: Value::Empty,
            pattern: None,
            regex: Some(regex),
        })
    }

    fn matches(&self, v: &Value) -> bool {
        if let Some(re) = &self.regex {
            return match (re, v) {
                (Some(re), Value::Text(s)) => re.is_match(s),
                _ => false,
            };
        }
        match (&self.pattern, v) {
            (Some(p), Value::Text(s)) => wild_match(p, &lower_chars(s)),
            (Some(_), _) => false,
            (None, v) => same_kind(&self.target, v) && cmp_same(&self.target, v) == Ordering::Equal,
        }
    }
}

/// Excel's binary search. `cmp` orders an element against the target, or says it is to be stepped
/// over (to the right); `go_right(ordering)` says whether the answer lies right of the element.
/// Returns the last element where `go_right` held and the first where it failed.
fn bsearch<T>(
    v: &[T],
    cmp: impl Fn(&T) -> Option<Ordering>,
    go_right: impl Fn(Ordering) -> bool,
) -> (Option<usize>, Option<usize>) {
    let (mut lo, mut hi) = (0usize, v.len());
    let (mut last_true, mut first_false) = (None, None);
    while lo < hi {
        let mid = lo + (hi - 1 - lo) / 2;
        let mut j = mid;
        let mut o = None;
        while j < hi {
            o = cmp(&v[j]);
            if o.is_some() {
                break;
            }
            j += 1;
        }
        let Some(o) = o else {
            hi = mid;
            continue;
        };
        if go_right(o) {
            last_true = Some(j);
            lo = j + 1;
        } else {
            first_false = Some(j);
            hi = mid;
        }
    }
    (last_true, first_false)
}

/// The ordering MATCH, VLOOKUP, HLOOKUP and LOOKUP search with: only elements of the target's type.
fn typed(t: &Value) -> impl Fn(&Value) -> Option<Ordering> + '_ {
    move |x| same_kind(x, t).then(|| cmp_same(x, t))
}

/// The ordering XLOOKUP and XMATCH search with: numbers < text < booleans; blanks and errors are
/// stepped over.
fn xcmp(x: &Value, t: &Value) -> Option<Ordering> {
    fn rank(v: &Value) -> Option<u8> {
        match v {
            Value::Number(_) => Some(0),
            Value::Text(_) => Some(1),
            Value::Bool(_) => Some(2),
            _ => None,
        }
    }
    let (a, b) = (rank(x)?, rank(t)?);
    Some(if a == b { cmp_same(x, t) } else { a.cmp(&b) })
}

/// The largest element `<=` the target in an ascending vector (MATCH type 1, VLOOKUP TRUE).
fn approx_asc(v: &[Value], t: &Value) -> Option<usize> {
    bsearch(v, typed(t), |o| o != Ordering::Greater).0
}

/// `approx_asc` for a number among keys that are numbers (NaN marks a key that is not a
/// number, which the search steps over): the same positions, for the block compiler.
pub fn approx_asc_numbers(keys: &[f64], t: f64) -> Option<usize> {
    bsearch(
        keys,
        |x: &f64| (!x.is_nan()).then(|| x.partial_cmp(&t).unwrap_or(Ordering::Equal)),
        |o| o != Ordering::Greater,
    )
    .0
}

/// The smallest element `>=` the target in a descending vector (MATCH type -1).
fn approx_desc(v: &[Value], t: &Value) -> Option<usize> {
    bsearch(v, typed(t), |o| o != Ordering::Less).0
}

fn find_exact(v: &[Value], t: &Value, wildcards: bool) -> Option<usize> {
    let m = Matcher::new(t, wildcards);
    v.iter().position(|x| m.matches(x))
}

// ---------------------------------------------------------------------------------------------
// MATCH, VLOOKUP, HLOOKUP, LOOKUP, XLOOKUP, XMATCH
// ---------------------------------------------------------------------------------------------

fn match_fn(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let target = val(args, 0);
    if let Value::Error(e) = target {
        return Value::Error(e);
    }
    let src = tri!(Source::from_arg(&args[1]));
    let mt = tri!(num_arg(ctx, args, 2, 1.0));
    let Some(v) = vector(ctx, &src) else {
        return Value::Error(ErrorKind::Na);
    };
    if target.is_empty() {
        return Value::Error(ErrorKind::Na);
    }
    let pos = if mt == 0.0 {
        find_exact(&v, &target, true)
    } else if mt > 0.0 {
        approx_asc(&v, &target)
    } else {
        approx_desc(&v, &target)
    };
    match pos {
        Some(i) => Value::Number(i as f64 + 1.0),
        None => Value::Error(ErrorKind::Na),
    }
}

/// VLOOKUP (`vertical`) and HLOOKUP.
fn table_lookup(ctx: &mut Ctx<'_, '_>, args: &[Arg], vertical: bool) -> Value {
    let target = val(args, 0);
    if let Value::Error(e) = target {
        return Value::Error(e);
    }
    if let Arg::Value(Value::Text(_)) = &args[1] {
        return Value::Error(ErrorKind::Value);
    }
    let src = tri!(Source::from_arg(&args[1]));
    let idx = tri!(ctx.number(&args[2])).trunc();
    let approx = tri!(bool_arg(ctx, args, 3, true));
    if idx < 1.0 {
        return Value::Error(ErrorKind::Value);
    }
    let width = if vertical { src.cols() } else { src.rows() };
    if idx > width as f64 {
        return Value::Error(ErrorKind::Ref);
    }
    if target.is_empty() {
        return Value::Error(ErrorKind::Na);
    }
    let keys = src.line(ctx, vertical, 0);
    let pos = if approx {
        approx_asc(&keys, &target)
    } else {
        find_exact(&keys, &target, true)
    };
    match pos {
        Some(i) if vertical => src.get(ctx, i, idx as usize - 1),
        Some(i) => src.get(ctx, idx as usize - 1, i),
        None => Value::Error(ErrorKind::Na),
    }
}

fn vlookup(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    table_lookup(ctx, args, true)
}

fn hlookup(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    table_lookup(ctx, args, false)
}

fn lookup(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let target = val(args, 0);
    if let Value::Error(e) = target {
        return Value::Error(e);
    }
    let src = tri!(Source::from_arg(&args[1]));
    if target.is_empty() {
        return Value::Error(ErrorKind::Na);
    }
    if let Some(res) = args.get(2) {
        // Vector form: the lookup vector's position indexes the result vector, which (as a
        // reference) extends beyond its end along its direction.
        let keys = if src.rows() == 1 && src.cols() > 1 {
            src.line(ctx, false, 0)
        } else {
            src.line(ctx, true, 0)
        };
        let Some(i) = approx_asc(&keys, &target) else {
            return Value::Error(ErrorKind::Na);
        };
        let res = tri!(Source::from_arg(res));
        if res.rows() == 1 && res.cols() > 1 {
            res.get(ctx, 0, i)
        } else if res.cols() == 1 || matches!(res, Source::Area(_)) {
            res.get(ctx, i, 0)
        } else {
            Value::Error(ErrorKind::Na)
        }
    } else if src.cols() > src.rows() {
        let keys = src.line(ctx, false, 0);
        match approx_asc(&keys, &target) {
            Some(i) => src.get(ctx, src.rows() - 1, i),
            None => Value::Error(ErrorKind::Na),
        }
    } else {
        let keys = src.line(ctx, true, 0);
        match approx_asc(&keys, &target) {
            Some(i) => src.get(ctx, i, src.cols() - 1),
            None => Value::Error(ErrorKind::Na),
        }
    }
}

/// XLOOKUP/XMATCH's search: `mm` match mode (0 exact, -1 exact or next smaller, 1 exact or next
/// larger, 2 wildcard), `sm` search mode (1 first to last, -1 last to first, 2 binary ascending,
/// -2 binary descending). Match mode 3 reads the target as a regular expression (`#VALUE!` when it
/// is not one).
fn xfind(v: &[Value], t: &Value, mm: i32, sm: i32) -> Result<Option<usize>, ErrorKind> {
    use Ordering::*;
    let eq = |x: &Value| same_kind(x, t) && cmp_same(x, t) == Equal;
    if sm.abs() == 2 {
        // Binary search. Ascending: the first of equal elements, else the last smaller or the
        // first larger one. Descending data is searched as its reverse.
        let search = |w: &[Value]| {
            let (lt, ge) = bsearch(w, |x| xcmp(x, t), |o| o == Less);
            match mm {
                0 | 2 => ge.filter(|&i| eq(&w[i])),
                -1 => match ge {
                    Some(i) if eq(&w[i]) => Some(i),
                    _ => lt,
                },
                _ => ge,
            }
        };
        return Ok(if sm == 2 {
            search(v)
        } else {
            let r: Vec<Value> = v.iter().rev().cloned().collect();
            search(&r).map(|i| v.len() - 1 - i)
        });
    }
    let order: Box<dyn Iterator<Item = usize>> = if sm < 0 {
        Box::new((0..v.len()).rev())
    } else {
        Box::new(0..v.len())
    };
    let m = if mm == 3 {
        Matcher::regex(t)?
    } else {
        Matcher::new(t, mm == 2)
    };
    let mut best: Option<usize> = None;
    for i in order {
        let x = &v[i];
        if m.matches(x) {
            return Ok(Some(i));
        }
        if mm == 0 || mm >= 2 {
            continue;
        }
        let wanted = if mm == -1 { Less } else { Greater };
        if xcmp(x, t) != Some(wanted) {
            continue;
        }
        // Closer to the target than the best so far (ties keep the first met).
        let better = match best {
            None => true,
            Some(b) => xcmp(x, &v[b]) == Some(wanted.reverse()),
        };
        if better {
            best = Some(i);
        }
    }
    Ok(best)
}

/// XLOOKUP/XMATCH with an empty lookup value find an empty cell (`keys` may be the clipped start
/// of a vector of `n` elements, the rest being empty).
fn find_empty(keys: &[Value], n: usize, sm: i32) -> Option<usize> {
    if sm < 0 {
        if keys.len() < n {
            return Some(n - 1);
        }
        keys.iter().rposition(Value::is_empty)
    } else {
        let beyond = (keys.len() < n).then_some(keys.len());
        keys.iter().position(Value::is_empty).or(beyond)
    }
}

fn modes(ctx: &mut Ctx<'_, '_>, args: &[Arg], mm_at: usize) -> Result<(i32, i32), ErrorKind> {
    let mm = match opt(args, mm_at) {
        None => 0.0,
        Some(a) => ctx.number(a)?.trunc(),
    };
    let sm = match opt(args, mm_at + 1) {
        None => 1.0,
        Some(a) => ctx.number(a)?.trunc(),
    };
    if ![-1.0, 0.0, 1.0, 2.0, 3.0].contains(&mm) || ![-2.0, -1.0, 1.0, 2.0].contains(&sm) {
        return Err(ErrorKind::Value);
    }
    // Wildcards and regular expressions need a linear search.
    if mm >= 2.0 && sm.abs() == 2.0 {
        return Err(ErrorKind::Value);
    }
    Ok((mm as i32, sm as i32))
}

fn xlookup(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let target = val(args, 0);
    if let Value::Error(e) = target {
        return Value::Error(e);
    }
    let look = tri!(Source::from_arg(&args[1]));
    let ret = tri!(Source::from_arg(&args[2]));
    let (mm, sm) = tri!(modes(ctx, args, 4));
    let vertical = if look.cols() == 1 && look.rows() > 1 {
        true
    } else if look.rows() == 1 && look.cols() > 1 {
        false
    } else if look.rows() == 1 && look.cols() == 1 {
        ret.rows() == 1 || ret.cols() != 1
    } else {
        return Value::Error(ErrorKind::Value);
    };
    let n = if vertical { look.rows() } else { look.cols() };
    if (vertical && ret.rows() != n) || (!vertical && ret.cols() != n) {
        return Value::Error(ErrorKind::Value);
    }
    let keys = look.line(ctx, vertical, 0);
    let found = if target.is_empty() {
        find_empty(&keys, n, sm)
    } else {
        tri!(xfind(&keys, &target, mm, sm))
    };
    match found {
        Some(i) if vertical => ret.slice(ctx, i, i, 0, ret.cols() - 1),
        Some(i) => ret.slice(ctx, 0, ret.rows() - 1, i, i),
        None => match opt(args, 3) {
            None => Value::Error(ErrorKind::Na),
            Some(Arg::Ref(a)) => ctx.reference(*a),
            Some(Arg::Value(v)) => v.clone(),
            Some(Arg::Union(_)) => Value::Error(ErrorKind::Value),
        },
    }
}

fn xmatch(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let target = val(args, 0);
    if let Value::Error(e) = target {
        return Value::Error(e);
    }
    let src = tri!(Source::from_arg(&args[1]));
    let (mm, sm) = tri!(modes(ctx, args, 2));
    let Some(v) = vector(ctx, &src) else {
        return Value::Error(ErrorKind::Value);
    };
    let found = if target.is_empty() {
        find_empty(&v, src.rows().max(src.cols()), sm)
    } else {
        tri!(xfind(&v, &target, mm, sm))
    };
    match found {
        Some(i) => Value::Number(i as f64 + 1.0),
        None => Value::Error(ErrorKind::Na),
    }
}

// ---------------------------------------------------------------------------------------------
// INDEX, OFFSET, INDIRECT, ROW, COLUMN, ROWS, COLUMNS, AREAS, ADDRESS
// ---------------------------------------------------------------------------------------------

fn index(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let row = match opt(args, 1) {
        None => 0.0,
        Some(a) => tri!(ctx.number(a)),
    };
    let col_given = args.len() >= 3;
    let col = match opt(args, 2) {
        None => 0.0,
        Some(a) => tri!(ctx.number(a)),
    };
    let area_num = match opt(args, 3) {
        None => 1.0,
        Some(a) => tri!(ctx.number(a)).trunc(),
    };
    if row < 0.0 || col < 0.0 || area_num < 1.0 {
        return Value::Error(ErrorKind::Value);
    }
    let (row, col) = (row.trunc().min(1e9) as usize, col.trunc().min(1e9) as usize);
    let src = match &args[0] {
        Arg::Ref(a) => {
            if area_num != 1.0 {
                return Value::Error(ErrorKind::Ref);
            }
            Source::Area(*a)
        }
        Arg::Union(areas) => match areas.get(area_num as usize - 1) {
            Some(a) => Source::Area(*a),
            None => return Value::Error(ErrorKind::Ref),
        },
        other => {
            if area_num != 1.0 {
                return Value::Error(ErrorKind::Ref);
            }
            tri!(Source::from_arg(other))
        }
    };
    let (h, w) = (src.rows(), src.cols());
    // INDEX(range, n) on a single row: n is the position along it.
    let (row, col) = if !col_given && h == 1 {
        (1, row)
    } else {
        (row, col)
    };
    if row > h || col > w {
        return Value::Error(ErrorKind::Ref);
    }
    let (r1, r2) = if row == 0 {
        (0, h - 1)
    } else {
        (row - 1, row - 1)
    };
    let (c1, c2) = if col == 0 {
        (0, w - 1)
    } else {
        (col - 1, col - 1)
    };
    src.slice(ctx, r1, r2, c1, c2)
}

fn offset(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let area = match &args[0] {
        Arg::Ref(a) => *a,
        Arg::Value(Value::Error(e)) => return Value::Error(*e),
        _ => return Value::Error(ErrorKind::Value),
    };
    let dr = tri!(ctx.number(&args[1])).trunc();
    let dc = tri!(ctx.number(&args[2])).trunc();
    let b = area.bounds;
    let h = match opt(args, 3) {
        None => b.rows() as f64,
        Some(a) => tri!(ctx.number(a)),
    };
    let w = match opt(args, 4) {
        None => b.cols() as f64,
        Some(a) => tri!(ctx.number(a)),
    };
    if h == 0.0 || w == 0.0 {
        return Value::Error(ErrorKind::Ref);
    }
    // A fractional size is truncated, but never to nothing (`OFFSET(A1,0,0,1,0.9)` is one column).
    let at_least_one = |x: f64| {
        if x.trunc() == 0.0 {
            x.signum()
        } else {
            x.trunc()
        }
    };
    let (h, w) = (at_least_one(h), at_least_one(w));
    let r = b.r1 as f64 + dr;
    let c = b.c1 as f64 + dc;
    // A negative height or width extends up or left from the moved corner.
    let (r1, r2) = if h > 0.0 {
        (r, r + h - 1.0)
    } else {
        (r + h + 1.0, r)
    };
    let (c1, c2) = if w > 0.0 {
        (c, c + w - 1.0)
    } else {
        (c + w + 1.0, c)
    };
    if r1 < 0.0 || c1 < 0.0 || r2 >= MAX_ROWS as f64 || c2 >= MAX_COLS as f64 {
        return Value::Error(ErrorKind::Ref);
    }
    ctx.reference(Area {
        sheet: area.sheet,
        bounds: Bounds {
            r1: r1 as u32,
            r2: r2 as u32,
            c1: c1 as u32,
            c2: c2 as u32,
        },
    })
}

fn indirect(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let text = match val(args, 0) {
        Value::Error(e) => return Value::Error(e),
        Value::Text(t) => t,
        _ => return Value::Error(ErrorKind::Ref),
    };
    let a1 = tri!(bool_arg(ctx, args, 1, true));
    let text = text.trim();
    let area = if a1 {
        parse_a1_reference(ctx, text)
    } else {
        parse_r1c1_reference(ctx, text)
    };
    match area {
        Some(a) => ctx.reference(a),
        None => Value::Error(ErrorKind::Ref),
    }
}

/// Reference text in A1 style: a cell, a range, whole rows or columns, a defined name, optionally
/// sheet-qualified. Anything else (formulas, numbers) is not a reference.
fn parse_a1_reference(ctx: &mut Ctx<'_, '_>, text: &str) -> Option<Area> {
    if text.is_empty() || text.starts_with('=') {
        return None;
    }
    let mut e = mcsim_formula::parse(text).ok()?;
    // Table references (`Table1[Qty]`) resolve as in a stored formula; a 3D reference becomes a
    // union of sheets, which is not plain: `#REF!`, as in Excel.
    ctx.model().resolve_references(&mut e, ctx.position());
    fn plain(e: &mcsim_formula::Expr) -> bool {
        match &e.kind {
            ExprKind::Ref(_) | ExprKind::Name { .. } => true,
            ExprKind::Binary {
                op: BinaryOp::Range,
                lhs,
                rhs,
            } => plain(lhs) && plain(rhs),
            _ => false,
        }
    }
    if !plain(&e) {
        return None;
    }
    match ctx.eval_expr(&e) {
        Arg::Ref(a) => Some(a),
        _ => None,
    }
}

/// One end of an R1C1 reference: `R2C3`, `R[-1]C`, `RC[2]`; whole rows (`R2`) and columns
/// (`C3`) give `None` for the missing part.
fn r1c1_part(s: &str, base: (u32, u32)) -> Option<(Option<u32>, Option<u32>)> {
    fn coord(s: &str, base: u32, max: u32) -> Option<(u32, &str)> {
        let (v, rest) = if let Some(inner) = s.strip_prefix('[') {
            let end = inner.find(']')?;
            let d: i64 = inner[..end].trim().parse().ok()?;
            (base as i64 + d, &inner[end + 1..])
        } else {
            let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            if end == 0 {
                (base as i64, s)
            } else {
                (s[..end].parse::<i64>().ok()? - 1, &s[end..])
            }
        };
        (v >= 0 && v < max as i64).then_some((v as u32, rest))
    }
    let up = s.to_ascii_uppercase();
    let mut rest = up.as_str();
    let mut row = None;
    let mut col = None;
    if let Some(r) = rest.strip_prefix('R') {
        let (v, after) = coord(r, base.0, MAX_ROWS)?;
        row = Some(v);
        rest = after;
    }
    if let Some(c) = rest.strip_prefix('C') {
        let (v, after) = coord(c, base.1, MAX_COLS)?;
        col = Some(v);
        rest = after;
    }
    (rest.is_empty() && (row.is_some() || col.is_some())).then_some((row, col))
}

fn parse_r1c1_reference(ctx: &mut Ctx<'_, '_>, text: &str) -> Option<Area> {
    let (sheet, body) = match text.rfind('!') {
        Some(i) => {
            let name = &text[..i];
            let name = match name.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')) {
                Some(q) => q.replace("''", "'"),
                None => name.to_string(),
            };
            (ctx.sheet_id(&name)?, &text[i + 1..])
        }
        None => (ctx.position().0, text),
    };
    let (_, row, col) = ctx.position();
    let (a, b) = body.split_once(':').unwrap_or((body, body));
    let p = r1c1_part(a.trim(), (row, col))?;
    let q = r1c1_part(b.trim(), (row, col))?;
    let bounds = match (p, q) {
        ((Some(r1), Some(c1)), (Some(r2), Some(c2))) => Bounds {
            r1: r1.min(r2),
            r2: r1.max(r2),
            c1: c1.min(c2),
            c2: c1.max(c2),
        },
        ((Some(r1), None), (Some(r2), None)) => Bounds {
            r1: r1.min(r2),
            r2: r1.max(r2),
            c1: 0,
            c2: MAX_COLS - 1,
        },
        ((None, Some(c1)), (None, Some(c2))) => Bounds {
            r1: 0,
            r2: MAX_ROWS - 1,
            c1: c1.min(c2),
            c2: c1.max(c2),
        },
        _ => return None,
    };
    Some(Area { sheet, bounds })
}

/// ROW (`rows`) and COLUMN: the calling cell without an argument; with a multi-cell reference, an
/// array of numbers in an array formula and the first one otherwise.
fn row_or_column(ctx: &mut Ctx<'_, '_>, args: &[Arg], rows: bool) -> Value {
    let area = match args.first() {
        None | Some(Arg::Value(Value::Empty)) => {
            let (_, r, c) = ctx.position();
            return Value::Number(if rows { r } else { c } as f64 + 1.0);
        }
        Some(Arg::Ref(a)) => *a,
        Some(Arg::Union(_)) => return Value::Error(ErrorKind::Ref),
        Some(Arg::Value(Value::Error(e))) => return Value::Error(*e),
        Some(Arg::Value(_)) => return Value::Error(ErrorKind::Value),
    };
    let b = area.bounds;
    let (first, last) = if rows { (b.r1, b.r2) } else { (b.c1, b.c2) };
    if first == last || !ctx.array_mode() {
        return Value::Number(first as f64 + 1.0);
    }
    let data: Vec<Value> = (first..=last)
        .map(|i| Value::Number(i as f64 + 1.0))
        .collect();
    Value::Array(Arc::new(if rows {
        Array::column(data)
    } else {
        Array::row(data)
    }))
}

fn row(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    row_or_column(ctx, args, true)
}

fn column(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    row_or_column(ctx, args, false)
}

/// `_xlfn.SINGLE`, the file form of the `@` operator: implicit intersection of a reference, the
/// first element of an array.
fn single(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match &args[0] {
        Arg::Ref(a) => ctx.intersect(*a),
        Arg::Union(_) => Value::Error(ErrorKind::Value),
        Arg::Value(v) => v.first(),
    }
}

/// `_xlfn.ANCHORARRAY`, the file form of the spill operator `A1#`: the range the dynamic array
/// formula anchored at the cell fills; `#REF!` when the cell does not hold one.
fn anchorarray(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let area = match &args[0] {
        Arg::Ref(a) => *a,
        Arg::Value(Value::Error(e)) => return Value::Error(*e),
        _ => return Value::Error(ErrorKind::Ref),
    };
    let model = ctx.model();
    let part = model
        .find(area.sheet, area.bounds.r1, area.bounds.c1)
        .and_then(|id| {
            let f = model.cells.get(id as usize)?.formula?;
            let part = model.formulas.get(f as usize)?.array?;
            (part.anchor == id).then_some(part)
        });
    match part {
        Some(p) => ctx.reference(Area {
            sheet: area.sheet,
            bounds: p.range,
        }),
        None => Value::Error(ErrorKind::Ref),
    }
}

fn dims(a: &Arg) -> Result<(usize, usize), ErrorKind> {
    match a {
        Arg::Ref(area) => Ok((area.bounds.rows() as usize, area.bounds.cols() as usize)),
        Arg::Union(_) => Err(ErrorKind::Ref),
        Arg::Value(Value::Array(arr)) => Ok((arr.rows, arr.cols)),
        Arg::Value(Value::Error(e)) => Err(*e),
        Arg::Value(_) => Ok((1, 1)),
    }
}

fn rows(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match dims(&args[0]) {
        Ok((r, _)) => Value::Number(r as f64),
        Err(e) => Value::Error(e),
    }
}

fn columns(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match dims(&args[0]) {
        Ok((_, c)) => Value::Number(c as f64),
        Err(e) => Value::Error(e),
    }
}

fn areas(_: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    match &args[0] {
        Arg::Ref(_) => Value::Number(1.0),
        Arg::Union(u) => Value::Number(u.len() as f64),
        Arg::Value(Value::Error(e)) => Value::Error(*e),
        Arg::Value(_) => Value::Error(ErrorKind::Value),
    }
}

fn address(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let row = tri!(ctx.number(&args[0])).trunc();
    let col = tri!(ctx.number(&args[1])).trunc();
    let abs = match opt(args, 2) {
        None => 1.0,
        Some(a) => tri!(ctx.number(a)).trunc(),
    };
    let a1 = tri!(ctx.boolean_or(args, 3, true));
    let sheet = match opt(args, 4) {
        None => None,
        Some(a) => Some(tri!(ctx.text(a))),
    };
    if !(1.0..=4.0).contains(&abs) {
        return Value::Error(ErrorKind::Value);
    }
    if row < 1.0 || col < 1.0 || row > MAX_ROWS as f64 || col > MAX_COLS as f64 {
        return Value::Error(ErrorKind::Value);
    }
    let (row_abs, col_abs) = match abs as u8 {
        1 => (true, true),
        2 => (true, false),
        3 => (false, true),
        _ => (false, false),
    };
    let (r, c) = (row as u32, col as u32);
    let body = if a1 {
        format!(
            "{}{}{}{}",
            if col_abs { "$" } else { "" },
            mcsim_formula::col_name(c - 1),
            if row_abs { "$" } else { "" },
            r
        )
    } else {
        let rp = if row_abs {
            format!("R{r}")
        } else {
            format!("R[{r}]")
        };
        let cp = if col_abs {
            format!("C{c}")
        } else {
            format!("C[{c}]")
        };
        format!("{rp}{cp}")
    };
    match sheet {
        Some(s) if !s.is_empty() => {
            Value::from(format!("{}!{body}", mcsim_formula::quote_sheet(&s)))
        }
        _ => Value::from(body),
    }
}

// ---------------------------------------------------------------------------------------------
// Array functions
// ---------------------------------------------------------------------------------------------

fn transpose(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let mut data = Vec::with_capacity(a.data.len());
    for c in 0..a.cols {
        for r in 0..a.rows {
            data.push(a.get(r, c).cloned().unwrap_or(Value::Empty));
        }
    }
    array_value(Array::new(a.cols, a.rows, data))
}

fn numeric_matrix(a: &Array) -> Result<Vec<f64>, ErrorKind> {
    a.data
        .iter()
        .map(|v| match v {
            Value::Number(n) => Ok(*n),
            Value::Error(e) => Err(*e),
            _ => Err(ErrorKind::Value),
        })
        .collect()
}

fn mmult(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let b = tri!(ctx.array(&args[1]));
    let x = tri!(numeric_matrix(&a));
    let y = tri!(numeric_matrix(&b));
    if a.cols != b.rows {
        return Value::Error(ErrorKind::Value);
    }
    let mut data = Vec::with_capacity(a.rows * b.cols);
    for i in 0..a.rows {
        for j in 0..b.cols {
            let s: f64 = (0..a.cols)
                .map(|k| x[i * a.cols + k] * y[k * b.cols + j])
                .sum();
            data.push(Value::number(s));
        }
    }
    array_value(Array::new(a.rows, b.cols, data))
}

/// The most elements an array function builds (Excel's grid holds 17 billion cells; a Monte
/// Carlo model never needs more than this).
pub(crate) const MAX_ELEMENTS: f64 = 16_777_216.0;

fn sequence(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let rows = tri!(ctx.number_or(args, 0, 1.0)).trunc();
    let cols = tri!(ctx.number_or(args, 1, 1.0)).trunc();
    let start = tri!(ctx.number_or(args, 2, 1.0));
    let step = tri!(ctx.number_or(args, 3, 1.0));
    if rows < 0.0 || cols < 0.0 {
        return Value::Error(ErrorKind::Value);
    }
    if rows == 0.0 || cols == 0.0 {
        return Value::Error(ErrorKind::Calc);
    }
    if rows * cols > MAX_ELEMENTS {
        return Value::Error(ErrorKind::Num);
    }
    let (r, c) = (rows as usize, cols as usize);
    let data = (0..r * c)
        .map(|k| Value::number(start + step * k as f64))
        .collect();
    array_value(Array::new(r, c, data))
}

/// An include/keep flag (FILTER): numbers and booleans; text is `#VALUE!`, empty is false.
fn flag(v: &Value) -> Result<bool, ErrorKind> {
    match v {
        Value::Empty => Ok(false),
        Value::Text(_) => Err(ErrorKind::Value),
        v => v.to_bool(),
    }
}

/// The value of an optional argument given as a reference or a value.
fn arg_value(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Value {
    match a {
        Arg::Value(v) => v.clone(),
        Arg::Ref(_) => match ctx.array(a) {
            Ok(arr) => array_value((*arr).clone()),
            Err(e) => Value::Error(e),
        },
        Arg::Union(_) => Value::Error(ErrorKind::Value),
    }
}

fn filter(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let inc = tri!(ctx.array(&args[1]));
    let by_rows = if inc.cols == 1 && inc.rows == a.rows {
        true
    } else if inc.rows == 1 && inc.cols == a.cols {
        false
    } else {
        return Value::Error(ErrorKind::Value);
    };
    let mut keep = Vec::with_capacity(inc.data.len());
    for v in &inc.data {
        keep.push(tri!(flag(v)));
    }
    let n = keep.iter().filter(|&&k| k).count();
    if n == 0 {
        return match opt(args, 2) {
            Some(x) => arg_value(ctx, x),
            None => Value::Error(ErrorKind::Calc),
        };
    }
    let mut data = Vec::new();
    if by_rows {
        for r in (0..a.rows).filter(|&r| keep[r]) {
            data.extend_from_slice(&a.data[r * a.cols..(r + 1) * a.cols]);
        }
        array_value(Array::new(n, a.cols, data))
    } else {
        for r in 0..a.rows {
            for c in (0..a.cols).filter(|&c| keep[c]) {
                data.push(a.data[r * a.cols + c].clone());
            }
        }
        array_value(Array::new(a.rows, n, data))
    }
}

/// A hashable key for a value, equal for values Excel's UNIQUE treats as duplicates
/// (text case-insensitively).
fn unique_key(v: &Value) -> String {
    match v {
        Value::Empty => "e".into(),
        Value::Number(n) => format!("n{}", if *n == 0.0 { 0.0 } else { *n }.to_bits()),
        Value::Text(s) => format!("t{}", s.to_lowercase()),
        Value::Bool(b) => format!("b{b}"),
        Value::Error(e) => format!("x{}", e.as_str()),
        Value::Array(_) => "a".into(),
    }
}

/// The rows (or columns) of an array as lists of values.
fn lines(a: &Array, by_col: bool) -> Vec<Vec<Value>> {
    if by_col {
        (0..a.cols)
            .map(|c| {
                (0..a.rows)
                    .map(|r| a.data[r * a.cols + c].clone())
                    .collect()
            })
            .collect()
    } else {
        a.data
            .chunks(a.cols.max(1))
            .map(<[Value]>::to_vec)
            .collect()
    }
}

/// Builds an array from rows (or columns when `by_col`), all of length `width`.
fn from_lines(ls: Vec<Vec<Value>>, width: usize, by_col: bool) -> Value {
    let n = ls.len();
    if n == 0 || width == 0 {
        return Value::Error(ErrorKind::Calc);
    }
    if by_col {
        let mut data = Vec::with_capacity(n * width);
        for r in 0..width {
            for l in &ls {
                data.push(l.get(r).cloned().unwrap_or(Value::Error(ErrorKind::Na)));
            }
        }
        array_value(Array::new(width, n, data))
    } else {
        let data = ls.into_iter().flatten().collect();
        array_value(Array::new(n, width, data))
    }
}

fn unique(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let by_col = tri!(ctx.boolean_or(args, 1, false));
    let once = tri!(ctx.boolean_or(args, 2, false));
    let ls = lines(&a, by_col);
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, l) in ls.iter().enumerate() {
        let key: String = l.iter().map(unique_key).collect::<Vec<_>>().join("\u{1}");
        match seen.get_mut(&key) {
            Some(e) => e.1 += 1,
            None => {
                seen.insert(key.clone(), (i, 1));
                order.push(key);
            }
        }
    }
    let width = if by_col { a.rows } else { a.cols };
    let kept: Vec<Vec<Value>> = order
        .iter()
        .filter_map(|k| seen.get(k))
        .filter(|(_, count)| !once || *count == 1)
        .filter_map(|(i, _)| ls.get(*i).cloned())
        .collect();
    from_lines(kept, width, by_col)
}

/// The ordering SORT/SORTBY use: numbers, text, booleans, errors, then blanks (blanks stay last
/// in either direction).
fn sort_cmp(a: &Value, b: &Value, desc: bool) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::Text(_) => 1,
            Value::Bool(_) => 2,
            Value::Error(_) => 3,
            _ => 4,
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra == 4 || rb == 4 {
        return ra.cmp(&rb);
    }
    let o = match (a, b) {
        _ if ra != rb => ra.cmp(&rb),
        (Value::Error(x), Value::Error(y)) => x.code().cmp(&y.code()),
        _ => cmp_same(a, b),
    };
    if desc { o.reverse() } else { o }
}

/// Numbers in an argument (a scalar or an array of them).
fn number_list(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<Vec<f64>, ErrorKind> {
    let arr = ctx.array(a)?;
    arr.data.iter().map(Value::to_number).collect()
}

fn sort(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let by_col = tri!(ctx.boolean_or(args, 3, false));
    let idx = match opt(args, 1) {
        None => vec![1.0],
        Some(x) => tri!(number_list(ctx, x)),
    };
    let ord = match opt(args, 2) {
        None => vec![1.0],
        Some(x) => tri!(number_list(ctx, x)),
    };
    let width = if by_col { a.rows } else { a.cols };
    let mut keys = Vec::with_capacity(idx.len());
    for (k, i) in idx.iter().enumerate() {
        let i = i.trunc();
        if i < 1.0 || i > width as f64 {
            return Value::Error(ErrorKind::Value);
        }
        let o = if ord.len() == 1 {
            ord[0]
        } else {
            ord.get(k).copied().unwrap_or(1.0)
        };
        let desc = match o {
            1.0 => false,
            -1.0 => true,
            _ => return Value::Error(ErrorKind::Value),
        };
        keys.push((i as usize - 1, desc));
    }
    let mut ls = lines(&a, by_col);
    ls.sort_by(|x, y| {
        for &(i, desc) in &keys {
            let o = sort_cmp(&x[i], &y[i], desc);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    from_lines(ls, width, by_col)
}

fn sortby(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let mut keys: Vec<(Arc<Array>, bool)> = Vec::new();
    let mut by_col: Option<bool> = None;
    let mut i = 1;
    while i < args.len() {
        let k = tri!(ctx.array(&args[i]));
        let desc = match args.get(i + 1) {
            None | Some(Arg::Value(Value::Empty)) => false,
            Some(o) => match tri!(ctx.number(o)) {
                1.0 => false,
                -1.0 => true,
                _ => return Value::Error(ErrorKind::Value),
            },
        };
        let this_col = if k.cols == 1 && k.rows == a.rows {
            false
        } else if k.rows == 1 && k.cols == a.cols {
            true
        } else {
            return Value::Error(ErrorKind::Value);
        };
        if by_col.is_some_and(|b| b != this_col) {
            return Value::Error(ErrorKind::Value);
        }
        by_col = Some(this_col);
        keys.push((k, desc));
        i += 2;
    }
    let by_col = by_col.unwrap_or(false);
    let ls = lines(&a, by_col);
    let mut order: Vec<usize> = (0..ls.len()).collect();
    order.sort_by(|&x, &y| {
        for (k, desc) in &keys {
            let o = sort_cmp(&k.data[x], &k.data[y], *desc);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    let width = if by_col { a.rows } else { a.cols };
    let sorted = order
        .into_iter()
        .filter_map(|i| ls.get(i).cloned())
        .collect();
    from_lines(sorted, width, by_col)
}

/// CHOOSEROWS / CHOOSECOLS (`by_col`): positions from 1, negative from the end.
fn choose_lines(ctx: &mut Ctx<'_, '_>, args: &[Arg], by_col: bool) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let ls = lines(&a, by_col);
    let n = ls.len() as f64;
    let mut picked = Vec::new();
    for x in &args[1..] {
        for k in tri!(number_list(ctx, x)) {
            let k = k.trunc();
            if k == 0.0 || k.abs() > n {
                return Value::Error(ErrorKind::Value);
            }
            let i = if k > 0.0 { k - 1.0 } else { n + k } as usize;
            if let Some(l) = ls.get(i) {
                picked.push(l.clone());
            }
        }
    }
    from_lines(picked, if by_col { a.rows } else { a.cols }, by_col)
}

fn choosecols(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    choose_lines(ctx, args, true)
}

fn chooserows(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    choose_lines(ctx, args, false)
}

/// The kept range `[from, to)` of `n` items for TAKE (`take`) or DROP with count `k`.
fn take_range(n: usize, k: Option<f64>, take: bool) -> (usize, usize) {
    let Some(k) = k else { return (0, n) };
    let m = (k.trunc().abs() as usize).min(n);
    match (take, k >= 0.0) {
        (true, true) => (0, m),
        (true, false) => (n - m, n),
        (false, true) => (m, n),
        (false, false) => (0, n - m),
    }
}

fn take_drop(ctx: &mut Ctx<'_, '_>, args: &[Arg], take: bool) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let r = match opt(args, 1) {
        None => None,
        Some(x) => Some(tri!(ctx.number(x))),
    };
    let c = match opt(args, 2) {
        None => None,
        Some(x) => Some(tri!(ctx.number(x))),
    };
    if take && (r.is_some_and(|v| v.trunc() == 0.0) || c.is_some_and(|v| v.trunc() == 0.0)) {
        return Value::Error(ErrorKind::Calc);
    }
    let (r1, r2) = take_range(a.rows, r, take);
    let (c1, c2) = take_range(a.cols, c, take);
    if r1 >= r2 || c1 >= c2 {
        return Value::Error(ErrorKind::Calc);
    }
    sub_array(&a, r1, r2 - 1, c1, c2 - 1)
}

fn take(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    take_drop(ctx, args, true)
}

fn drop(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    take_drop(ctx, args, false)
}

fn expand(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let rows = match opt(args, 1) {
        None => a.rows as f64,
        Some(x) => tri!(ctx.number(x)).trunc(),
    };
    let cols = match opt(args, 2) {
        None => a.cols as f64,
        Some(x) => tri!(ctx.number(x)).trunc(),
    };
    let pad = match opt(args, 3) {
        None => Value::Error(ErrorKind::Na),
        Some(x) => val(std::slice::from_ref(x), 0),
    };
    if rows < a.rows as f64 || cols < a.cols as f64 {
        return Value::Error(ErrorKind::Value);
    }
    if rows * cols > MAX_ELEMENTS {
        return Value::Error(ErrorKind::Num);
    }
    let (r, c) = (rows as usize, cols as usize);
    let mut data = Vec::with_capacity(r * c);
    for i in 0..r {
        for j in 0..c {
            data.push(a.get(i, j).cloned().unwrap_or_else(|| pad.clone()));
        }
    }
    array_value(Array::new(r, c, data))
}

fn stack(ctx: &mut Ctx<'_, '_>, args: &[Arg], horizontal: bool) -> Value {
    let mut parts = Vec::with_capacity(args.len());
    for a in args {
        parts.push(tri!(ctx.array(a)));
    }
    let na = Value::Error(ErrorKind::Na);
    if horizontal {
        let rows = parts.iter().map(|p| p.rows).max().unwrap_or(1);
        let cols: usize = parts.iter().map(|p| p.cols).sum();
        let mut data = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for p in &parts {
                for c in 0..p.cols {
                    data.push(p.get(r, c).cloned().unwrap_or_else(|| na.clone()));
                }
            }
        }
        array_value(Array::new(rows, cols, data))
    } else {
        let cols = parts.iter().map(|p| p.cols).max().unwrap_or(1);
        let rows: usize = parts.iter().map(|p| p.rows).sum();
        let mut data = Vec::with_capacity(rows * cols);
        for p in &parts {
            for r in 0..p.rows {
                for c in 0..cols {
                    data.push(p.get(r, c).cloned().unwrap_or_else(|| na.clone()));
                }
            }
        }
        array_value(Array::new(rows, cols, data))
    }
}

fn hstack(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    stack(ctx, args, true)
}

fn vstack(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    stack(ctx, args, false)
}

/// TOCOL / TOROW: the elements in row order (or column order), skipping blanks (`ignore` 1),
/// errors (2) or both (3).
fn to_line(ctx: &mut Ctx<'_, '_>, args: &[Arg], as_col: bool) -> Value {
    let a = tri!(ctx.array(&args[0]));
    let ignore = tri!(ctx.number_or(args, 1, 0.0)).trunc();
    let by_col = tri!(ctx.boolean_or(args, 2, false));
    if !(0.0..=3.0).contains(&ignore) {
        return Value::Error(ErrorKind::Value);
    }
    let ignore = ignore as u8;
    let mut out = Vec::with_capacity(a.data.len());
    let (outer, inner) = if by_col {
        (a.cols, a.rows)
    } else {
        (a.rows, a.cols)
    };
    for i in 0..outer {
        for j in 0..inner {
            let (r, c) = if by_col { (j, i) } else { (i, j) };
            let v = a.get(r, c).cloned().unwrap_or(Value::Empty);
            let skip = match v {
                Value::Empty => ignore & 1 != 0,
                Value::Error(_) => ignore & 2 != 0,
                _ => false,
            };
            if !skip {
                out.push(v);
            }
        }
    }
    if out.is_empty() {
        return Value::Error(ErrorKind::Calc);
    }
    array_value(if as_col {
        Array::column(out)
    } else {
        Array::row(out)
    })
}

fn tocol(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    to_line(ctx, args, true)
}

fn torow(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    to_line(ctx, args, false)
}

/// WRAPROWS (`rows`) / WRAPCOLS: a vector wrapped into rows (columns) of `count` elements.
fn wrap(ctx: &mut Ctx<'_, '_>, args: &[Arg], rows: bool) -> Value {
    let a = tri!(ctx.array(&args[0]));
    if a.rows != 1 && a.cols != 1 {
        return Value::Error(ErrorKind::Value);
    }
    let count = tri!(ctx.number(&args[1])).trunc();
    if count < 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    let pad = match opt(args, 2) {
        None => Value::Error(ErrorKind::Na),
        Some(x) => arg_value(ctx, x).first(),
    };
    let n = a.data.len();
    let k = (count as usize).min(n.max(1));
    let m = n.div_ceil(k);
    let at = |i: usize| a.data.get(i).cloned().unwrap_or_else(|| pad.clone());
    let mut data = Vec::with_capacity(m * k);
    if rows {
        for i in 0..m * k {
            data.push(at(i));
        }
        array_value(Array::new(m, k, data))
    } else {
        for r in 0..k {
            for c in 0..m {
                data.push(at(c * k + r));
            }
        }
        array_value(Array::new(k, m, data))
    }
}

fn wraprows(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    wrap(ctx, args, true)
}

fn wrapcols(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    wrap(ctx, args, false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::quick::{eval, eval_cells};

    fn n(x: f64) -> Value {
        Value::Number(x)
    }
    fn err(e: ErrorKind) -> Value {
        Value::Error(e)
    }

    #[test]
    fn wildcards() {
        let m = |p: &str, t: &str| wild_match(&wildcard_pattern(p).unwrap(), &lower_chars(t));
        assert!(m("*a*", "Patata"));
        assert!(m("a*", "ata"));
        assert!(!m("a*", "Patata"));
        assert!(m("??l*", "Mulata"));
        assert!(m("*~?", "Question?"));
        assert!(!m("*~?", "Question"));
        assert!(m("*", ""));
        assert!(m("Q*", "question?"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYYcd"));
        assert!(wildcard_pattern("abc").is_none());
    }

    #[test]
    fn binary_search_is_excel_like() {
        let v: Vec<Value> = [1.0, 2.0, 2.0, 2.0, 3.0].iter().map(|&x| n(x)).collect();
        // Duplicates: the last of the run.
        assert_eq!(approx_asc(&v, &n(2.0)), Some(3));
        assert_eq!(approx_asc(&v, &n(0.5)), None);
        assert_eq!(approx_asc(&v, &n(9.0)), Some(4));
        // Text and errors are stepped over: the LOOKUP(2,1/(...)) idiom finds the last 1.
        let w = vec![
            n(1.0),
            err(ErrorKind::Div0),
            n(1.0),
            err(ErrorKind::Div0),
            Value::from("x"),
        ];
        assert_eq!(approx_asc(&w, &n(2.0)), Some(2));
        // Unsorted data: what binary search finds, not a linear scan.
        let u: Vec<Value> = [1.0, 5.0, 3.0, 0.0, 9.0].iter().map(|&x| n(x)).collect();
        assert_eq!(approx_asc(&u, &n(5.0)), Some(3));
    }

    #[test]
    fn match_function() {
        let cells = [
            ("A1", "Alpha"),
            ("A2", "Beta"),
            ("A3", "Delta"),
            ("A4", "Delta"),
            ("A5", "Gamma"),
            ("B1", "1"),
            ("B2", "2"),
            ("B3", "3"),
            ("B4", "4"),
            ("B5", "5"),
            ("C1", "=MATCH(\"beta\",A1:A5)"),
            ("C2", "=MATCH(\"a\",A1:A5)"),
            ("C3", "=MATCH(\"delta\",A1:A5,0)"),
            ("C4", "=MATCH(\"delta\",A1:A5)"),
            ("C5", "=MATCH(4.5,B1:B5)"),
            ("C6", "=MATCH(0.5,B1:B5)"),
            ("C7", "=MATCH(\"g*\",A1:A5,0)"),
            ("C8", "=MATCH(\"4\",B1:B5,0)"),
            ("C9", "=MATCH(D1,A1:A5,0)"),
            ("C10", "=MATCH(3,A1:B5,0)"),
            ("C11", "=MATCH(3,{5,4,3,2,1},-1)"),
            ("C12", "=MATCH(3.5,{5,4,3,2,1},-1)"),
            ("C13", "=MATCH(6,{5,4,3,2,1},-1)"),
            ("C14", "=MATCH(3,B:B,0)"),
            ("C15", "=MATCH(9.99E+307,A1:B5)"),
        ];
        assert_eq!(eval_cells(&cells, "C1"), n(2.0));
        assert_eq!(eval_cells(&cells, "C2"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C3"), n(3.0));
        assert_eq!(eval_cells(&cells, "C4"), n(4.0));
        assert_eq!(eval_cells(&cells, "C5"), n(4.0));
        assert_eq!(eval_cells(&cells, "C6"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C7"), n(5.0));
        assert_eq!(eval_cells(&cells, "C8"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C9"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C10"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C11"), n(3.0));
        assert_eq!(eval_cells(&cells, "C12"), n(2.0));
        assert_eq!(eval_cells(&cells, "C13"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "C14"), n(3.0));
        assert_eq!(eval_cells(&cells, "C15"), err(ErrorKind::Na));
    }

    #[test]
    fn vlookup_hlookup() {
        let cells = [
            ("A1", "1"),
            ("A2", "2"),
            ("A3", "3"),
            ("A4", "apple"),
            ("B1", "one"),
            ("B2", "two"),
            ("B3", "three"),
            ("B4", "fruit"),
            ("D1", "=VLOOKUP(2,A1:B4,2,FALSE)"),
            ("D2", "=VLOOKUP(2.5,A1:B3,2)"),
            ("D3", "=VLOOKUP(\"APP*\",A:B,2,FALSE)"),
            ("D4", "=VLOOKUP(2,A1:B4,3,FALSE)"),
            ("D5", "=VLOOKUP(2,A1:B4,0,FALSE)"),
            ("D6", "=VLOOKUP(\"2\",A1:B4,2,FALSE)"),
            ("D7", "=VLOOKUP(0,A1:B4,2)"),
            ("D8", "=VLOOKUP(3,A1:B4,2,)"),
            ("D9", "=HLOOKUP(\"b\",{\"a\",\"b\",\"c\";1,2,3},2,FALSE)"),
            ("D10", "=HLOOKUP(\"bb\",{\"a\",\"b\",\"c\";1,2,3},2)"),
            ("D11", "=VLOOKUP(3,A1:C3,3,FALSE)"),
            ("D12", "=VLOOKUP(#N/A,A1:B4,5,FALSE)"),
            ("D13", "=VLOOKUP(1,\"Nothing\",1)"),
        ];
        assert_eq!(eval_cells(&cells, "D1"), Value::from("two"));
        assert_eq!(eval_cells(&cells, "D2"), Value::from("two"));
        assert_eq!(eval_cells(&cells, "D3"), Value::from("fruit"));
        assert_eq!(eval_cells(&cells, "D4"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "D5"), err(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "D6"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "D7"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "D8"), Value::from("three"));
        assert_eq!(eval_cells(&cells, "D9"), n(2.0));
        assert_eq!(eval_cells(&cells, "D10"), n(2.0));
        // The result cell is empty: a formula shows 0.
        assert_eq!(eval_cells(&cells, "D11"), n(0.0));
        assert_eq!(eval_cells(&cells, "D12"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "D13"), err(ErrorKind::Value));
    }

    #[test]
    fn lookup_forms() {
        assert_eq!(
            eval("=LOOKUP(4.19,{4.14,4.19,5.17},{\"red\",\"orange\",\"yellow\"})"),
            Value::from("orange")
        );
        assert_eq!(
            eval("=LOOKUP(5,{4.14,4.19,5.17},{\"red\",\"orange\",\"yellow\"})"),
            Value::from("orange")
        );
        assert_eq!(
            eval("=LOOKUP(0,{4.14,4.19,5.17},{\"red\",\"orange\",\"yellow\"})"),
            err(ErrorKind::Na)
        );
        assert_eq!(
            eval("=LOOKUP(\"c\",{\"a\",\"b\",\"c\",\"d\";1,2,3,4})"),
            n(3.0)
        );
        assert_eq!(eval("=LOOKUP(\"bump\",{\"a\",1;\"b\",2;\"c\",3})"), n(2.0));
        let cells = [
            ("A1", "x"),
            ("A2", "y"),
            ("A3", "x"),
            ("A4", "z"),
            ("B1", "10"),
            ("B2", "20"),
            ("B3", "30"),
            ("B4", "40"),
            ("C1", "{=LOOKUP(2,1/(A1:A4=\"x\"),B1:B4)}"),
        ];
        assert_eq!(eval_cells(&cells, "C1"), n(30.0));
    }

    #[test]
    fn xmatch_regular_expression_mode() {
        let cells = [
            ("A1", "apple"),
            ("A2", "Berry"),
            ("A3", "cherry"),
            ("A4", "Dandy"),
            ("A5", "42"),
            ("B1", r#"=XMATCH("[A-Z][a-z]+y",A1:A5,3)"#),
            ("B2", r#"=XMATCH("[A-Z][a-z]+y",A1:A5,3,-1)"#),
            ("B3", "=XMATCH(42,A1:A5,3)"),
            ("B4", r#"=XMATCH("(",A1:A5,3)"#),
            ("B5", r#"=XMATCH("rr",A1:A5,3,2)"#),
            ("B6", r#"=XLOOKUP("^c",A1:A5,A1:A5,"none",3)"#),
        ];
        assert_eq!(eval_cells(&cells, "B1"), Value::Number(2.0));
        assert_eq!(eval_cells(&cells, "B2"), Value::Number(4.0));
        assert_eq!(eval_cells(&cells, "B3"), Value::Error(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "B4"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "B5"), Value::Error(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "B6"), Value::Text("cherry".into()));
    }

    #[test]
    fn xlookup_and_xmatch() {
        let cells = [
            ("A1", "10"),
            ("A2", "20"),
            ("A3", "30"),
            ("A4", "20"),
            ("B1", "a"),
            ("B2", "b"),
            ("B3", "c"),
            ("B4", "d"),
            ("C1", "x1"),
            ("C2", "x2"),
            ("C3", "x3"),
            ("C4", "x4"),
            ("E1", "=XLOOKUP(20,A1:A4,B1:B4)"),
            ("E2", "=XLOOKUP(20,A1:A4,B1:B4,,0,-1)"),
            ("E3", "=XLOOKUP(25,A1:A4,B1:B4)"),
            ("E4", "=XLOOKUP(25,A1:A4,B1:B4,\"none\")"),
            ("E5", "=XLOOKUP(25,A1:A4,B1:B4,,-1)"),
            ("E6", "=XLOOKUP(25,A1:A4,B1:B4,,1)"),
            ("E7", "=XLOOKUP(\"?\",B1:B4,A1:A4,,2)"),
            ("E8", "=SUM(XLOOKUP(30,A1:A4,A1:C4))"),
            ("E9", "=XLOOKUP(20,A1:A3,B1:B4)"),
            ("E10", "=XMATCH(20,A1:A4)"),
            ("E11", "=XMATCH(25,A1:A4,1)"),
            ("E12", "=XMATCH(20,A1:A4,0,-1)"),
            ("E13", "=XMATCH(25,{10,20,30,40},-1,2)"),
            ("E14", "=XMATCH(25,{40,30,20,10},1,-2)"),
            ("E15", "=XLOOKUP(30,A1:A4,C1:C4)&\"!\""),
            ("E16", "=XMATCH(5,A1:A4,4)"),
            ("E17", "=XLOOKUP(\"a*\",B1:B4,A1:A4,,2,2)"),
        ];
        assert_eq!(eval_cells(&cells, "E1"), Value::from("b"));
        assert_eq!(eval_cells(&cells, "E2"), Value::from("d"));
        assert_eq!(eval_cells(&cells, "E3"), err(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "E4"), Value::from("none"));
        assert_eq!(eval_cells(&cells, "E5"), Value::from("b"));
        assert_eq!(eval_cells(&cells, "E6"), Value::from("c"));
        assert_eq!(eval_cells(&cells, "E7"), n(10.0));
        assert_eq!(eval_cells(&cells, "E9"), err(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "E10"), n(2.0));
        assert_eq!(eval_cells(&cells, "E11"), n(3.0));
        assert_eq!(eval_cells(&cells, "E12"), n(4.0));
        assert_eq!(eval_cells(&cells, "E13"), n(2.0));
        assert_eq!(eval_cells(&cells, "E14"), n(2.0));
        assert_eq!(eval_cells(&cells, "E15"), Value::from("x3!"));
        assert_eq!(eval_cells(&cells, "E16"), err(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "E17"), err(ErrorKind::Value));
        // A row of a reference: SUM adds the number and skips the text.
        assert_eq!(eval_cells(&cells, "E8"), n(30.0));
    }

    #[test]
    fn xlookup_binary_search_and_mixed_types() {
        let asc = "{1;2;3;4;5;5;5;6;7;7;7;8}";
        let letters = "{\"a\";\"b\";\"c\";\"d\";\"e\";\"f\";\"g\";\"h\";\"i\";\"j\";\"k\";\"l\"}";
        let x =
            |v: &str, mm: i32, sm: i32| eval(&format!("=XLOOKUP({v},{asc},{letters},,{mm},{sm})"));
        // Equal elements: the first of them.
        assert_eq!(x("5", 0, 2), Value::from("e"));
        assert_eq!(x("5", -1, 2), Value::from("e"));
        assert_eq!(x("7.1", -1, 2), Value::from("k"));
        assert_eq!(x("7.1", 1, 2), Value::from("l"));
        assert_eq!(x("0.5", -1, 2), err(ErrorKind::Na));
        let desc = "{9;8;7;7;7;6;5}";
        let y = |v: &str, mm: i32| {
            eval(&format!(
                "=XLOOKUP({v},{desc},{{\"a\";\"b\";\"c\";\"d\";\"e\";\"f\";\"g\"}},,{mm},-2)"
            ))
        };
        assert_eq!(y("7", 0), Value::from("e"));
        assert_eq!(y("7.1", -1), Value::from("c"));
        assert_eq!(y("7.1", 1), Value::from("b"));
        // Numbers < text < booleans.
        let mixed = "{2;5;4;5;3;TRUE;\"ala\"}";
        let z = |v: &str, mm: i32, sm: i32| eval(&format!("=XMATCH({v},{mixed},{mm},{sm})"));
        assert_eq!(z("10", -1, 1), n(2.0));
        assert_eq!(z("10", -1, -1), n(4.0));
        assert_eq!(z("FALSE", -1, 1), n(7.0));
        assert_eq!(z("\"qwerty\"", -1, 1), n(7.0));
        assert_eq!(z("1", -1, 1), err(ErrorKind::Na));
        assert_eq!(z("1", 1, 1), n(1.0));
    }

    #[test]
    fn index_returns_references() {
        let cells = [
            ("A1", "1"),
            ("A2", "2"),
            ("A3", "3"),
            ("B1", "4"),
            ("B2", "5"),
            ("B3", "6"),
            ("C1", "7"),
            ("C2", "8"),
            ("C3", "9"),
            ("E1", "=INDEX(A1:C3,2,3)"),
            ("E2", "=SUM(INDEX(A1:C3,2,0))"),
            ("E3", "=SUM(INDEX(A1:C3,0,2))"),
            ("E4", "=SUM(A1:INDEX(A1:C3,2,2))"),
            ("E5", "=INDEX(A1:A3,3)"),
            ("E6", "=INDEX(A1:C1,3)"),
            ("E7", "=INDEX(A1:C3,4,1)"),
            ("E8", "=INDEX(A1:C3,-1,1)"),
            ("E9", "=INDEX((A1:A3,C1:C3),2,1,2)"),
            ("E10", "=INDEX((A1:A3,C1:C3),2,1,3)"),
            ("E11", "=INDEX({1,2;3,4},2,1)"),
            ("E12", "=INDEX({1,2,3},2)"),
            ("E13", "=SUM(INDEX({1,2;3,4},0,2))"),
            ("E14", "=INDEX(A:A,2)"),
            ("E15", "=SUM(INDEX(A1:C3,2))"),
            ("E16", "=ROWS(INDEX(A1:C3,0,1))"),
        ];
        assert_eq!(eval_cells(&cells, "E1"), n(8.0));
        assert_eq!(eval_cells(&cells, "E2"), n(15.0));
        assert_eq!(eval_cells(&cells, "E3"), n(15.0));
        assert_eq!(eval_cells(&cells, "E4"), n(12.0));
        assert_eq!(eval_cells(&cells, "E5"), n(3.0));
        assert_eq!(eval_cells(&cells, "E6"), n(7.0));
        assert_eq!(eval_cells(&cells, "E7"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "E8"), err(ErrorKind::Value));
        assert_eq!(eval_cells(&cells, "E9"), n(8.0));
        assert_eq!(eval_cells(&cells, "E10"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "E11"), n(3.0));
        assert_eq!(eval_cells(&cells, "E12"), n(2.0));
        assert_eq!(eval_cells(&cells, "E13"), n(6.0));
        assert_eq!(eval_cells(&cells, "E14"), n(2.0));
        assert_eq!(eval_cells(&cells, "E15"), n(15.0));
        assert_eq!(eval_cells(&cells, "E16"), n(3.0));
    }

    #[test]
    fn offset_and_indirect() {
        let cells = [
            ("A1", "1"),
            ("A2", "2"),
            ("A3", "3"),
            ("B1", "10"),
            ("B2", "20"),
            ("B3", "30"),
            ("Other!A1", "99"),
            ("D1", "=OFFSET(A1,1,1)"),
            ("D2", "=SUM(OFFSET(A1,0,0,3,2))"),
            ("D3", "=OFFSET(A1,-1,0)"),
            ("D4", "=SUM(OFFSET(A3,0,0,-2,1))"),
            ("D5", "=OFFSET(A1,0,0,0,1)"),
            ("D6", "=INDIRECT(\"B\"&2)"),
            ("D7", "=SUM(INDIRECT(\"A1:B3\"))"),
            ("D8", "=INDIRECT(\"Other!A1\")"),
            ("D9", "=INDIRECT(\"nonsense!!\")"),
            ("D10", "=INDIRECT(\"R2C2\",FALSE)"),
            ("D11", "=SUM(INDIRECT(\"R[-10]C[-3]:R[-9]C[-3]\",FALSE))"),
            ("D12", "=INDIRECT(\"1+1\")"),
            ("D13", "=ROWS(OFFSET(A1:B3,1,0))"),
            ("D14", "=SUM(OFFSET(A1:A3,0,1))"),
            ("D15", "=SUM(OFFSET(A1,0,0,3,0.9))"),
            ("D16", "=SUM(OFFSET(A1,0,0,2.9,1.99))"),
        ];
        assert_eq!(eval_cells(&cells, "D1"), n(20.0));
        assert_eq!(eval_cells(&cells, "D2"), n(66.0));
        assert_eq!(eval_cells(&cells, "D3"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "D4"), n(5.0));
        assert_eq!(eval_cells(&cells, "D5"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "D6"), n(20.0));
        assert_eq!(eval_cells(&cells, "D7"), n(66.0));
        assert_eq!(eval_cells(&cells, "D8"), n(99.0));
        assert_eq!(eval_cells(&cells, "D9"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "D10"), n(20.0));
        assert_eq!(eval_cells(&cells, "D11"), n(3.0));
        assert_eq!(eval_cells(&cells, "D12"), err(ErrorKind::Ref));
        assert_eq!(eval_cells(&cells, "D13"), n(3.0));
        assert_eq!(eval_cells(&cells, "D14"), n(60.0));
        assert_eq!(eval_cells(&cells, "D15"), n(6.0));
        assert_eq!(eval_cells(&cells, "D16"), n(3.0));
    }

    #[test]
    fn row_column_rows_columns() {
        let cells = [
            ("B3", "=ROW()"),
            ("C3", "=COLUMN()"),
            ("D3", "=ROW(E5:E9)"),
            ("E3", "=COLUMN(AB1)"),
            ("F3", "{=SUM(ROW(A1:A10))}"),
            ("G3", "=SUMPRODUCT(COLUMN(A1:D1)*1)"),
            ("H3", "=ROWS(A1:C5)"),
            ("I3", "=COLUMNS(A1:C5)"),
            ("J3", "=ROWS({1,2;3,4;5,6})"),
            ("K3", "=COLUMNS(A:C)"),
            ("L3", "=AREAS((A1,B2:C3))"),
            ("M3", "{=ROW(A1:A3)}@M3:M5"),
            ("D18", "1"),
            ("D19", "2"),
            ("D20", "3"),
            ("N20", "=N(_xlfn.SINGLE(D18:D22))"),
            ("N21", "=SINGLE({7,8})"),
            ("P1", "{=SEQUENCE(3)}@P1:P3"),
            ("Q1", "=SUM(_xlfn.ANCHORARRAY(P1))"),
            ("Q2", "=ANCHORARRAY(D18)"),
        ];
        assert_eq!(eval_cells(&cells, "B3"), n(3.0));
        assert_eq!(eval_cells(&cells, "C3"), n(3.0));
        assert_eq!(eval_cells(&cells, "D3"), n(5.0));
        assert_eq!(eval_cells(&cells, "E3"), n(28.0));
        assert_eq!(eval_cells(&cells, "F3"), n(55.0));
        assert_eq!(eval_cells(&cells, "H3"), n(5.0));
        assert_eq!(eval_cells(&cells, "I3"), n(3.0));
        assert_eq!(eval_cells(&cells, "J3"), n(3.0));
        assert_eq!(eval_cells(&cells, "K3"), n(3.0));
        assert_eq!(eval_cells(&cells, "L3"), n(2.0));
        assert_eq!(eval_cells(&cells, "M5"), n(3.0));
        assert_eq!(eval_cells(&cells, "N20"), n(3.0));
        assert_eq!(eval_cells(&cells, "N21"), n(7.0));
        assert_eq!(eval_cells(&cells, "Q1"), n(6.0));
        assert_eq!(eval_cells(&cells, "Q2"), err(ErrorKind::Ref));
    }

    #[test]
    fn address() {
        assert_eq!(eval("=ADDRESS(2,3)"), Value::from("$C$2"));
        assert_eq!(eval("=ADDRESS(2,3,2)"), Value::from("C$2"));
        assert_eq!(eval("=ADDRESS(2,3,4)"), Value::from("C2"));
        assert_eq!(eval("=ADDRESS(2,3,1,FALSE)"), Value::from("R2C3"));
        assert_eq!(eval("=ADDRESS(2,3,4,FALSE)"), Value::from("R[2]C[3]"));
        assert_eq!(
            eval("=ADDRESS(1,1,1,TRUE,\"My Sheet\")"),
            Value::from("'My Sheet'!$A$1")
        );
        assert_eq!(eval("=ADDRESS(0,1)"), err(ErrorKind::Value));
    }

    #[test]
    fn array_functions() {
        assert_eq!(eval("=SUM(TRANSPOSE({1,2,3})*{1;2;3})"), n(14.0));
        assert_eq!(eval("=INDEX(TRANSPOSE({1,2,3}),3,1)"), n(3.0));
        assert_eq!(eval("=INDEX(MMULT({1,2;3,4},{5;6}),2,1)"), n(39.0));
        assert_eq!(eval("=MMULT({1,2},{1,2})"), err(ErrorKind::Value));
        assert_eq!(eval("=SUM(SEQUENCE(4))"), n(10.0));
        assert_eq!(eval("=INDEX(SEQUENCE(2,3,10,5),2,3)"), n(35.0));
        assert_eq!(eval("=SEQUENCE(0)"), err(ErrorKind::Calc));
        assert_eq!(eval("=SUM(FILTER({1,2,3,4},{1,0,1,0}))"), n(4.0));
        assert_eq!(eval("=FILTER({1,2,3},{0,0,0})"), err(ErrorKind::Calc));
        assert_eq!(
            eval("=FILTER({1,2,3},{0,0,0},\"none\")"),
            Value::from("none")
        );
        assert_eq!(eval("=ROWS(UNIQUE({1;2;1;3;2}))"), n(3.0));
        assert_eq!(eval("=SUM(UNIQUE({1;2;1;3;2},,TRUE))"), n(3.0));
        assert_eq!(eval("=ROWS(UNIQUE({\"a\";\"A\";\"b\"}))"), n(2.0));
        assert_eq!(eval("=INDEX(SORT({3;1;2}),1)"), n(1.0));
        assert_eq!(eval("=INDEX(SORT({3;1;2},1,-1),1)"), n(3.0));
        assert_eq!(
            eval("=INDEX(SORT({#N/A;#DIV/0!;\"a\";1}),3)"),
            err(ErrorKind::Div0)
        );
        assert_eq!(eval("=INDEX(SORT({1,9;2,8;3,7},2),1,1)"), n(3.0));
        assert_eq!(
            eval("=INDEX(SORTBY({\"a\";\"b\";\"c\"},{3;1;2}),1)"),
            Value::from("b")
        );
        assert_eq!(eval("=SUM(CHOOSECOLS({1,2,3;4,5,6},1,-1))"), n(14.0));
        assert_eq!(eval("=SUM(CHOOSEROWS({1,2,3;4,5,6},2))"), n(15.0));
        assert_eq!(eval("=CHOOSEROWS({1,2,3;4,5,6},3)"), err(ErrorKind::Value));
        assert_eq!(eval("=SUM(TAKE({1,2,3;4,5,6},1))"), n(6.0));
        assert_eq!(eval("=SUM(TAKE({1,2,3;4,5,6},,-1))"), n(9.0));
        assert_eq!(eval("=SUM(DROP({1,2,3;4,5,6},1,1))"), n(11.0));
        assert_eq!(eval("=DROP({1,2,3},1)"), err(ErrorKind::Calc));
        assert_eq!(eval("=COLUMNS(HSTACK({1,2},{3;4}))"), n(3.0));
        assert_eq!(eval("=INDEX(HSTACK({1,2},{3;4}),2,1)"), err(ErrorKind::Na));
        assert_eq!(eval("=ROWS(VSTACK({1,2},{3,4},5))"), n(3.0));
        assert_eq!(eval("=ROWS(TOCOL({1,2;3,4}))"), n(4.0));
        assert_eq!(eval("=INDEX(TOCOL({1,2;3,4},0,TRUE),2)"), n(3.0));
        assert_eq!(eval("=COLUMNS(TOROW({1,2;3,4}))"), n(4.0));
        assert_eq!(
            eval("=INDEX(WRAPROWS({1,2,3,4,5},2),3,2)"),
            err(ErrorKind::Na)
        );
        assert_eq!(eval("=INDEX(WRAPCOLS({1,2,3,4,5},2,0),2,2)"), n(4.0));
        assert_eq!(eval("=INDEX(EXPAND({1,2},2,3,0),2,3)"), n(0.0));
    }
}
