//! Criteria as SUMIF, COUNTIF and their kin read them (`">=10"`, `"<>x"`, `"a*"`, `5`).
//!
//! The public API is small: [`Criterion::parse`] reads a criterion value and
//! [`Criterion::matches`] tests a cell value against it. Excel's rules, as observed in Excel:
//! - a number (or text that reads as one, `"5"`, `"=5"`, `">=1/1/2020"`) compares numerically;
//!   equality also matches text cells that read as that number (`COUNTIF(r, 5)` counts `"5"`),
//!   the orderings (`">5"`) only match numbers;
//! - text matches case-insensitively, with the wildcards `*` and `?` (`~` escapes) for `=`/`<>`;
//! - `TRUE`/`FALSE` (as booleans or text) match booleans only; `#N/A` (error or text) matches
//!   that error only;
//! - `""` matches empty cells and empty text, `"="` only empty cells, `"<>"` every non-empty cell;
//! - `"<>x"` matches everything that `"=x"` does not, blanks included;
//! - an empty criterion (a reference to an empty cell) means 0.
//!
//! The module also holds the range machinery the `*IF`/`*IFS` functions share ([`Grid`],
//! [`select`]): it walks only the stored cells of a reference when it can, so that
//! `SUMIF(A:A, "x", B:B)` costs what the sheet holds.

use super::{Arg, Ctx};
use crate::model::Area;
use crate::value::{Array, Value, compare_text, numbers_equal, parse_number};
use mcsim_formula::{Bounds, ErrorKind, MAX_COLS, MAX_ROWS};
use std::cmp::Ordering;
use std::sync::Arc;

/// The comparison of a criterion (`=` when none is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`, or no operator.
    Eq,
    /// `<>`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Number(f64),
    /// Lower-cased text; `pattern` is set when it holds wildcards.
    Text {
        text: String,
        pattern: Option<Vec<Tok>>,
    },
    Bool(bool),
    Error(ErrorKind),
    /// `""` (blank or empty text) when `strict` is false, `"="` (blank only) when true.
    Blank {
        strict: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Lit(char),
    One,
    Any,
}

/// A parsed criterion.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    op: Op,
    operand: Operand,
}

impl Criterion {
    /// Reads a criterion value (a number, text such as `">=10"` or `"a*"`, a boolean, an error).
    pub fn parse(v: &Value) -> Criterion {
        let eq = |operand| Criterion {
            op: Op::Eq,
            operand,
        };
        match v {
            Value::Number(n) => eq(Operand::Number(*n)),
            Value::Bool(b) => eq(Operand::Bool(*b)),
            Value::Error(e) => eq(Operand::Error(*e)),
            Value::Empty => eq(Operand::Number(0.0)),
            Value::Array(_) => Criterion::parse(&v.first()),
            Value::Text(s) => Criterion::parse_text(s),
        }
    }

    fn parse_text(s: &str) -> Criterion {
        let (op, rest) = if let Some(r) = s.strip_prefix(">=") {
            (Some(Op::Ge), r)
        } else if let Some(r) = s.strip_prefix("<=") {
            (Some(Op::Le), r)
        } else if let Some(r) = s.strip_prefix("<>") {
            (Some(Op::Ne), r)
        } else if let Some(r) = s.strip_prefix('>') {
            (Some(Op::Gt), r)
        } else if let Some(r) = s.strip_prefix('<') {
            (Some(Op::Lt), r)
        } else if let Some(r) = s.strip_prefix('=') {
            (Some(Op::Eq), r)
        } else {
            (None, s)
        };
        let explicit = op.is_some();
        let op = op.unwrap_or(Op::Eq);
        let operand = if rest.is_empty() {
            match op {
                Op::Eq | Op::Ne => Operand::Blank { strict: explicit },
                _ => Operand::Text {
                    text: String::new(),
                    pattern: None,
                },
            }
        } else if let Some(n) = parse_number(rest) {
            Operand::Number(n)
        } else if rest.eq_ignore_ascii_case("TRUE") {
            Operand::Bool(true)
        } else if rest.eq_ignore_ascii_case("FALSE") {
            Operand::Bool(false)
        } else if let Some(e) = ErrorKind::from_str_excel(rest) {
            Operand::Error(e)
        } else {
            let text = rest.to_lowercase();
            let pattern = if matches!(op, Op::Eq | Op::Ne) && text.contains(['*', '?', '~']) {
                Some(compile(&text))
            } else {
                None
            };
            Operand::Text { text, pattern }
        };
        Criterion { op, operand }
    }

    /// The criterion as `(comparison, number)` when its operand is a number (`5`, `">=0"`,
    /// `"<>2.5"`, an empty cell); `None` for text, booleans, blanks and errors. The block
    /// compiler's COUNTIF reads criteria through this, so both paths parse them alike.
    pub fn numeric(&self) -> Option<(Op, f64)> {
        match self.operand {
            Operand::Number(n) => Some((self.op, n)),
            _ => None,
        }
    }

    /// Does the value satisfy the criterion?
    pub fn matches(&self, v: &Value) -> bool {
        match self.op {
            Op::Eq => self.equals(v),
            // "<>5" rejects only the number 5 (text "5" is "not equal"), though "=5" accepts it.
            Op::Ne => match (&self.operand, v) {
                (Operand::Number(n), Value::Number(x)) => !numbers_equal(*x, *n),
                (Operand::Number(_), _) => true,
                _ => !self.equals(v),
            },
            op => {
                let ord = match (&self.operand, v) {
                    (Operand::Number(n), Value::Number(x)) => {
                        if numbers_equal(*x, *n) {
                            Ordering::Equal
                        } else if x < n {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (Operand::Text { text, .. }, Value::Text(x)) if !text.is_empty() => {
                        compare_text(x, text)
                    }
                    (Operand::Bool(b), Value::Bool(x)) => x.cmp(b),
                    _ => return false,
                };
                match op {
                    Op::Lt => ord == Ordering::Less,
                    Op::Le => ord != Ordering::Greater,
                    Op::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                }
            }
        }
    }

    /// Does an empty cell satisfy the criterion?
    pub fn matches_blank(&self) -> bool {
        self.matches(&Value::Empty)
    }

    fn equals(&self, v: &Value) -> bool {
        match (&self.operand, v) {
            (Operand::Number(n), Value::Number(x)) => numbers_equal(*x, *n),
            (Operand::Number(n), Value::Text(t)) => {
                parse_number(t).is_some_and(|x| numbers_equal(x, *n))
            }
            (Operand::Text { text, pattern }, Value::Text(t)) => match pattern {
                Some(p) => wildcard_match(p, &t.to_lowercase()),
                None => compare_text(t, text) == Ordering::Equal,
            },
            (Operand::Bool(b), Value::Bool(x)) => b == x,
            (Operand::Error(e), Value::Error(x)) => e == x,
            (Operand::Blank { .. }, Value::Empty) => true,
            (Operand::Blank { strict: false }, Value::Text(t)) => t.is_empty(),
            _ => false,
        }
    }
}

fn compile(text: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push(Tok::Any),
            '?' => out.push(Tok::One),
            '~' => match chars.next() {
                Some(n) => out.push(Tok::Lit(n)),
                None => out.push(Tok::Lit('~')),
            },
            c => out.push(Tok::Lit(c)),
        }
    }
    out
}

/// Matches lower-cased text against a compiled pattern (greedy `*` with backtracking).
fn wildcard_match(p: &[Tok], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Lit(c)) if *c == t[ti] => {
                pi += 1;
                ti += 1;
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
    p[pi.min(p.len())..].iter().all(|t| *t == Tok::Any)
}

/// Does `text` match the Excel wildcard pattern (`*`, `?`, `~` escapes; case-insensitive)?
/// For MATCH, XLOOKUP, SEARCH and others that take wildcards.
pub fn wildcard_matches(pattern: &str, text: &str) -> bool {
    wildcard_match(&compile(&pattern.to_lowercase()), &text.to_lowercase())
}

/// A range argument of a `*IF` function: a reference or an array.
#[derive(Debug, Clone)]
pub enum Grid {
    /// A reference, read cell by cell.
    Area(Area),
    /// An array (or a scalar as 1×1).
    Array(Arc<Array>),
}

impl Grid {
    /// Reads a range argument. Errors given as the argument itself propagate.
    pub fn from_arg(a: &Arg) -> Result<Grid, ErrorKind> {
        match a {
            Arg::Ref(area) => Ok(Grid::Area(*area)),
            Arg::Value(Value::Array(arr)) => Ok(Grid::Array(arr.clone())),
            Arg::Value(Value::Error(e)) => Err(*e),
            Arg::Value(v) => Ok(Grid::Array(Arc::new(Array::new(1, 1, vec![v.clone()])))),
            Arg::Union(_) => Err(ErrorKind::Value),
        }
    }

    /// Rows and columns.
    pub fn dims(&self) -> (usize, usize) {
        match self {
            Grid::Area(a) => (a.bounds.rows() as usize, a.bounds.cols() as usize),
            Grid::Array(arr) => (arr.rows, arr.cols),
        }
    }

    /// The same top-left corner, another size (SUMIF's sum range takes the criteria range's shape).
    pub fn resized(&self, rows: usize, cols: usize) -> Grid {
        match self {
            Grid::Area(a) => {
                let r2 = (a.bounds.r1 as usize + rows.max(1) - 1).min(MAX_ROWS as usize - 1) as u32;
                let c2 = (a.bounds.c1 as usize + cols.max(1) - 1).min(MAX_COLS as usize - 1) as u32;
                Grid::Area(Area {
                    sheet: a.sheet,
                    bounds: Bounds {
                        r1: a.bounds.r1,
                        c1: a.bounds.c1,
                        r2,
                        c2,
                    },
                })
            }
            g => g.clone(),
        }
    }

    /// The value at offset (`i`, `j`) from the top-left corner (empty outside).
    pub fn get(&self, ctx: &mut Ctx<'_, '_>, i: usize, j: usize) -> Value {
        match self {
            Grid::Area(a) => {
                let (r, c) = (a.bounds.r1 as usize + i, a.bounds.c1 as usize + j);
                if r > a.bounds.r2 as usize || c > a.bounds.c2 as usize {
                    return Value::Empty;
                }
                ctx.cell(a.sheet, r as u32, c as u32)
            }
            Grid::Array(arr) => arr.get(i, j).cloned().unwrap_or(Value::Empty),
        }
    }

    /// Rows and columns that may hold anything (beyond them every cell is empty).
    fn used_extent(&self, ctx: &Ctx<'_, '_>) -> (usize, usize) {
        match self {
            Grid::Area(a) => match ctx.model().sheets.get(a.sheet as usize) {
                Some(s) => (
                    (s.used_rows as usize).saturating_sub(a.bounds.r1 as usize),
                    s.columns.len().saturating_sub(a.bounds.c1 as usize),
                ),
                None => (0, 0),
            },
            Grid::Array(arr) => (arr.rows, arr.cols),
        }
    }

    /// The part of the grid within `rows`×`cols`, as an area or an array.
    fn clipped_area(&self, rows: usize, cols: usize) -> Option<Area> {
        match self {
            Grid::Area(a) if rows > 0 && cols > 0 => {
                let mut b = a.bounds;
                b.r2 = b.r2.min(b.r1 + rows as u32 - 1);
                b.c2 = b.c2.min(b.c1 + cols as u32 - 1);
                Some(Area {
                    sheet: a.sheet,
                    bounds: b,
                })
            }
            _ => None,
        }
    }
}

/// Every offset `(i, j)` of a `rows`×`cols` block where all conditions hold, in row-major order.
/// `extra` are further grids whose cells will be read at those offsets (the sum range): they
/// matter only for clipping whole columns to the used part of the sheets. Grids must have been
/// checked to share the shape (or resized). Walks the stored cells of a condition's reference
/// when that condition rejects blanks; otherwise visits the used part densely.
pub fn select(
    ctx: &mut Ctx<'_, '_>,
    rows: usize,
    cols: usize,
    conds: &[(Grid, Criterion)],
    extra: &[&Grid],
) -> Vec<(usize, usize)> {
    // Beyond the used rows/columns of every sheet involved, all cells are blank.
    let (mut ur, mut uc) = (0usize, 0usize);
    for g in conds.iter().map(|(g, _)| g).chain(extra.iter().copied()) {
        let (r, c) = g.used_extent(ctx);
        ur = ur.max(r);
        uc = uc.max(c);
    }
    let (er, ec) = (rows.min(ur), cols.min(uc));
    let mut out = Vec::new();
    // Offsets beyond the used block: blank in every grid, so they match iff every criterion
    // matches blanks. The caller reads empty values there, which aggregate to nothing — except for
    // counting, which uses `blank_tail`.
    let driver = conds
        .iter()
        .position(|(g, c)| matches!(g, Grid::Area(_)) && !c.matches_blank());
    match driver {
        Some(d) => {
            let (g, crit) = &conds[d];
            let Some(area) = g.clipped_area(er, ec) else {
                return out;
            };
            let (r0, c0) = (area.bounds.r1, area.bounds.c1);
            let mut cand = Vec::new();
            ctx.visit_area(area, &mut |r, c, v| {
                if crit.matches(v) {
                    cand.push(((r - r0) as usize, (c - c0) as usize));
                }
            });
            for (i, j) in cand {
                if conds
                    .iter()
                    .enumerate()
                    .all(|(k, (g, c))| k == d || c.matches(&g.get(ctx, i, j)))
                {
                    out.push((i, j));
                }
            }
        }
        None => {
            if er == 0 || ec == 0 {
                return out;
            }
            let mut dense: Vec<Arc<Array>> = Vec::with_capacity(conds.len());
            for (g, _) in conds {
                dense.push(match g {
                    Grid::Area(_) => match g.clipped_area(er, ec) {
                        Some(a) => Arc::new(ctx.area_array(a)),
                        None => Arc::new(Array::new(1, 1, vec![Value::Empty])),
                    },
                    Grid::Array(a) => a.clone(),
                });
            }
            let empty = Value::Empty;
            for i in 0..er {
                for j in 0..ec {
                    if conds
                        .iter()
                        .zip(&dense)
                        .all(|((_, c), a)| c.matches(a.get(i, j).unwrap_or(&empty)))
                    {
                        out.push((i, j));
                    }
                }
            }
        }
    }
    out
}

/// How many cells of a `rows`×`cols` block lie outside the used extent that [`select`] visits
/// and match every condition (all blank there): what COUNTIFS adds for whole-column ranges.
pub fn blank_tail(ctx: &Ctx<'_, '_>, rows: usize, cols: usize, conds: &[(Grid, Criterion)]) -> f64 {
    if !conds.iter().all(|(_, c)| c.matches_blank()) {
        return 0.0;
    }
    let (mut ur, mut uc) = (0usize, 0usize);
    for (g, _) in conds {
        let (r, c) = g.used_extent(ctx);
        ur = ur.max(r);
        uc = uc.max(c);
    }
    let (er, ec) = (rows.min(ur), cols.min(uc));
    rows as f64 * cols as f64 - er as f64 * ec as f64
}

/// The (range, criterion) pairs of a `*IFS` function.
pub type Conditions = Vec<(Grid, Criterion)>;

/// Reads the (range, criterion) pairs of a `*IFS` function starting at `args[start]`; every range
/// must have the shape `rows`×`cols` (`#VALUE!` otherwise).
pub fn conditions(
    ctx: &mut Ctx<'_, '_>,
    args: &[Arg],
    start: usize,
    shape: Option<(usize, usize)>,
) -> Result<(Conditions, (usize, usize)), ErrorKind> {
    let pairs = args.get(start..).unwrap_or(&[]);
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(ErrorKind::Value);
    }
    let mut out = Vec::with_capacity(pairs.len() / 2);
    let mut dims = shape;
    for p in pairs.chunks(2) {
        let g = Grid::from_arg(&p[0])?;
        let d = g.dims();
        match dims {
            None => dims = Some(d),
            Some(x) if x != d => return Err(ErrorKind::Value),
            _ => {}
        }
        let cv = ctx.scalar(&p[1]);
        out.push((g, Criterion::parse(&cv)));
    }
    Ok((out, dims.unwrap_or((1, 1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Criterion {
        Criterion::parse(&Value::from(s))
    }

    #[test]
    fn numbers_and_text() {
        assert!(Criterion::parse(&Value::Number(5.0)).matches(&Value::Number(5.0)));
        assert!(Criterion::parse(&Value::Number(5.0)).matches(&Value::from("5")));
        assert!(!Criterion::parse(&Value::Number(5.0)).matches(&Value::Bool(true)));
        assert!(c(">=10").matches(&Value::Number(10.0)));
        assert!(!c(">=10").matches(&Value::from("20")));
        assert!(!c(">=10").matches(&Value::Empty));
        assert!(c("<>x").matches(&Value::Empty));
        assert!(c("<>5").matches(&Value::from("5")));
        assert!(c("=5").matches(&Value::from("5")));
        assert!(!c("<=").matches(&Value::from("")));
        assert!(!c("<>X").matches(&Value::from("x")));
        assert!(c("=").matches(&Value::Empty));
        assert!(!c("=").matches(&Value::from("")));
        assert!(c("").matches(&Value::from("")));
        assert!(c("").matches(&Value::Empty));
        assert!(!c("<>").matches(&Value::Empty));
        assert!(c("<>").matches(&Value::from("")));
        assert!(c("apple").matches(&Value::from("APPLE")));
        assert!(c("a*e").matches(&Value::from("Apple")));
        assert!(c("a?p*").matches(&Value::from("app")));
        assert!(!c("a?p*").matches(&Value::from("ap")));
        assert!(c("~*x").matches(&Value::from("*x")));
        assert!(!c("~*x").matches(&Value::from("ax")));
        assert!(c("true").matches(&Value::Bool(true)));
        assert!(!c("true").matches(&Value::from("TRUE")));
        assert!(c("#N/A").matches(&Value::Error(ErrorKind::Na)));
        assert!(!c("#N/A").matches(&Value::from("#N/A")));
        assert!(Criterion::parse(&Value::Empty).matches(&Value::Number(0.0)));
        assert!(!Criterion::parse(&Value::Empty).matches(&Value::Empty));
        assert!(c(">b").matches(&Value::from("C")));
        assert!(!c(">b").matches(&Value::Number(5.0)));
        assert!(wildcard_matches("*brown", "Mr. Brown"));
        assert!(!wildcard_matches("*brown", "Mr. Browne"));
    }

    /// The numeric view the block compiler's COUNTIF uses ([`Criterion::numeric`]) says exactly
    /// what `matches` does on numbers: the compiler once parsed criteria with a copy of this
    /// parser, which could drift.
    #[test]
    fn numeric_view_agrees_with_matches_on_numbers() {
        let criteria = [
            Value::Number(5.0),
            Value::Empty,
            Value::from(">=10"),
            Value::from("<=-2.5"),
            Value::from("<>3"),
            Value::from(">1e3"),
            Value::from("<0.1"),
            Value::from("=7"),
            Value::from("7"),
            Value::from(" 7 "),
            Value::from(">=1/1/2020"),
            Value::from("abc"),
            Value::from(">"),
            Value::from("="),
            Value::from("<>"),
            Value::from("TRUE"),
            Value::from("#N/A"),
            Value::Bool(true),
        ];
        let xs = [
            -3.0, -2.5, 0.0, 0.1, 3.0, 5.0, 7.0, 10.0, 1000.0, 1001.0, 43831.0, 1e300,
        ];
        for v in &criteria {
            let crit = Criterion::parse(v);
            let Some((op, n)) = crit.numeric() else {
                // Not numeric: it matches no number by numeric comparison; `<>x` (any x) and `<>`
                // match every number, which the compiler declines by not compiling.
                continue;
            };
            for &x in &xs {
                let eq = numbers_equal(x, n);
                let want = match op {
                    Op::Eq => eq,
                    Op::Ne => !eq,
                    Op::Lt => !eq && x < n,
                    Op::Le => eq || x < n,
                    Op::Gt => !eq && x > n,
                    Op::Ge => eq || x > n,
                };
                assert_eq!(crit.matches(&Value::Number(x)), want, "{v:?} on {x}");
            }
        }
        assert_eq!(c("<>3").numeric(), Some((Op::Ne, 3.0)));
        assert_eq!(
            Criterion::parse(&Value::Empty).numeric(),
            Some((Op::Eq, 0.0))
        );
        assert_eq!(c("abc").numeric(), None);
        assert_eq!(c("=").numeric(), None);
    }
}
