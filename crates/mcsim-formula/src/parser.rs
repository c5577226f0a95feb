//! A Pratt parser for Excel formulas.
//!
//! Precedence, loosest first: comparisons, `&`, `+ -`, `* /`, `^`, `%`, prefix `-`/`+`, then the
//! reference operators union `,` (inside parentheses only), intersection (space) and range `:`.
//! Prefix minus binds tighter than `^`, so `-2^2` is 4, as in Excel.

use crate::ast::{BinaryOp, ErrorKind, Expr, ExprKind, PostfixOp, Span, UnaryOp};
use crate::error::ParseError;
use crate::lexer::{Tok, Token, tokenize};
use crate::reference::{CellRef, MAX_COLS, MAX_ROWS, RefKind, Reference, parse_col};
use crate::structured::StructuredRef;

/// Parses a formula (with or without its leading `=`).
pub fn parse(formula: &str) -> Result<Expr, ParseError> {
    let (offset, body) = match formula.strip_prefix('=') {
        Some(rest) => (1, rest),
        None => (0, formula),
    };
    let tokens = tokenize(body).map_err(|e| shift_err(e, offset))?;
    let mut p = Parser {
        toks: tokens,
        pos: 0,
        len: body.len(),
    };
    p.skip_ws();
    if p.peek().is_none() {
        return Err(shift_err(ParseError::new("empty formula", 0, 0), offset));
    }
    let e = p.expr(0, false).map_err(|e| shift_err(e, offset))?;
    p.skip_ws();
    if let Some(t) = p.peek() {
        let span = t.span;
        return Err(shift_err(
            ParseError::new(
                "unexpected token after the end of the formula",
                span.start as usize,
                span.end as usize,
            ),
            offset,
        ));
    }
    Ok(shift_expr(e, offset))
}

fn shift_err(mut e: ParseError, offset: u32) -> ParseError {
    e.span.start += offset;
    e.span.end += offset;
    e
}

fn shift_expr(mut e: Expr, offset: u32) -> Expr {
    if offset > 0 {
        e.walk_mut(&mut |n| {
            n.span.start += offset;
            n.span.end += offset;
        });
    }
    e
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    len: usize,
}

// Binding powers.
const BP_CMP: u8 = 1;
const BP_CONCAT: u8 = 2;
const BP_ADD: u8 = 3;
const BP_MUL: u8 = 4;
const BP_POW: u8 = 5;
const BP_PERCENT: u8 = 6;
const BP_PREFIX: u8 = 7;
const BP_UNION: u8 = 8;
const BP_ISECT: u8 = 9;
const BP_RANGE: u8 = 10;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_kind(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek_kind(), Some(Tok::Ws)) {
            self.pos += 1;
        }
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    #[allow(dead_code)]
    fn err_here(&self, msg: &str) -> ParseError {
        match self.peek() {
            Some(t) => ParseError::new(msg, t.span.start as usize, t.span.end as usize),
            None => ParseError::new(msg, self.len, self.len),
        }
    }

    /// After whitespace, does an operand start (which makes the whitespace an intersection)?
    fn ws_is_intersection(&self) -> bool {
        let mut i = self.pos;
        while matches!(self.toks.get(i).map(|t| &t.kind), Some(Tok::Ws)) {
            i += 1;
        }
        matches!(
            self.toks.get(i).map(|t| &t.kind),
            Some(Tok::Word(_) | Tok::Sheet(_) | Tok::Structured(..) | Tok::LParen)
        )
    }

    fn expr(&mut self, min_bp: u8, allow_union: bool) -> Result<Expr, ParseError> {
        self.skip_ws();
        let mut lhs = self.prefix(allow_union)?;
        loop {
            // Whitespace: intersection if an operand follows, otherwise skip it.
            if matches!(self.peek_kind(), Some(Tok::Ws)) {
                if self.ws_is_intersection() && is_reference_like(&lhs) {
                    if BP_ISECT < min_bp {
                        break;
                    }
                    self.skip_ws();
                    let rhs = self.expr(BP_ISECT + 1, allow_union)?;
                    lhs = binary(BinaryOp::Intersect, lhs, rhs);
                    continue;
                }
                self.skip_ws();
            }
            let Some(tok) = self.peek_kind() else { break };
            let (op, bp) = match tok {
                Tok::Op("=") => (BinaryOp::Eq, BP_CMP),
                Tok::Op("<>") => (BinaryOp::Ne, BP_CMP),
                Tok::Op("<") => (BinaryOp::Lt, BP_CMP),
                Tok::Op("<=") => (BinaryOp::Le, BP_CMP),
                Tok::Op(">") => (BinaryOp::Gt, BP_CMP),
                Tok::Op(">=") => (BinaryOp::Ge, BP_CMP),
                Tok::Op("&") => (BinaryOp::Concat, BP_CONCAT),
                Tok::Op("+") => (BinaryOp::Add, BP_ADD),
                Tok::Op("-") => (BinaryOp::Sub, BP_ADD),
                Tok::Op("*") => (BinaryOp::Mul, BP_MUL),
                Tok::Op("/") => (BinaryOp::Div, BP_MUL),
                Tok::Op("^") => (BinaryOp::Pow, BP_POW),
                Tok::Colon => (BinaryOp::Range, BP_RANGE),
                Tok::Comma if allow_union => (BinaryOp::Union, BP_UNION),
                Tok::Op("%") => {
                    if BP_PERCENT < min_bp {
                        break;
                    }
                    let t = self.next();
                    let end = t.map_or(lhs.span.end, |t| t.span.end);
                    let span = Span {
                        start: lhs.span.start,
                        end,
                    };
                    lhs = Expr::new(
                        ExprKind::Postfix {
                            op: PostfixOp::Percent,
                            expr: Box::new(lhs),
                        },
                        span,
                    );
                    continue;
                }
                _ => break,
            };
            if bp < min_bp {
                break;
            }
            self.next();
            // Left associative: the right side binds one tighter. (`^` is left-associative in Excel.)
            let rhs = self.expr(bp + 1, allow_union)?;
            lhs = if op == BinaryOp::Range {
                fold_range(lhs, rhs)?
            } else {
                binary(op, lhs, rhs)
            };
        }
        Ok(lhs)
    }

    fn prefix(&mut self, allow_union: bool) -> Result<Expr, ParseError> {
        let Some(tok) = self.next() else {
            return Err(ParseError::new(
                "formula ends too early",
                self.len,
                self.len,
            ));
        };
        let span = tok.span;
        match tok.kind {
            Tok::Op(op @ ("-" | "+")) => {
                let e = self.expr(BP_PREFIX, allow_union)?;
                let op = if op == "-" {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Plus
                };
                let span = Span {
                    start: span.start,
                    end: e.span.end,
                };
                Ok(Expr::new(
                    ExprKind::Unary {
                        op,
                        expr: Box::new(e),
                    },
                    span,
                ))
            }
            Tok::Op("@") => {
                let e = self.expr(BP_PREFIX, allow_union)?;
                let span = Span {
                    start: span.start,
                    end: e.span.end,
                };
                Ok(Expr::new(
                    ExprKind::Call {
                        name: "SINGLE".into(),
                        args: vec![e],
                    },
                    span,
                ))
            }
            Tok::Num(n) => {
                // `1:3` is a whole-row range.
                if matches!(self.peek_kind(), Some(Tok::Colon))
                    && let Some(r) = row_number(&Tok::Num(n))
                    && let Some(end) = self.toks.get(self.pos + 1)
                    && let Some(r2) = row_number(&end.kind)
                {
                    let end_span = end.span;
                    self.pos += 2;
                    return Ok(rows_ref(None, r, r2, span, end_span));
                }
                Ok(Expr::new(ExprKind::Number(n), span))
            }
            Tok::Str(s) => Ok(Expr::new(ExprKind::Text(s), span)),
            Tok::Err(e) => Ok(Expr::new(ExprKind::Error(e), span)),
            Tok::LParen => {
                let inner = self.expr(0, true)?;
                self.skip_ws();
                match self.next() {
                    Some(Token {
                        kind: Tok::RParen,
                        span: close,
                    }) => Ok(Expr::new(
                        ExprKind::Paren(Box::new(inner)),
                        Span {
                            start: span.start,
                            end: close.end,
                        },
                    )),
                    _ => Err(ParseError::new(
                        "missing `)`",
                        span.start as usize,
                        self.len,
                    )),
                }
            }
            Tok::LBrace => self.array(span),
            Tok::Sheet(sheet) => self.qualified(sheet, span),
            Tok::Word(w) => self.word(None, w, span),
            Tok::Structured(table, body) => match StructuredRef::parse_body(table, &body) {
                Ok(r) => Ok(Expr::new(ExprKind::Structured(r), span)),
                Err(msg) => Err(ParseError::new(msg, span.start as usize, span.end as usize)),
            },
            _ => Err(ParseError::new(
                "expected a value, reference or function",
                span.start as usize,
                span.end as usize,
            )),
        }
    }

    fn qualified(&mut self, sheet: String, span: Span) -> Result<Expr, ParseError> {
        let Some(tok) = self.next() else {
            return Err(ParseError::new(
                "expected a reference after the sheet name",
                span.start as usize,
                self.len,
            ));
        };
        let tspan = tok.span;
        let joined = Span {
            start: span.start,
            end: tspan.end,
        };
        match tok.kind {
            Tok::Word(w) => {
                let mut e = self.word(Some(sheet), w, tspan)?;
                e.span.start = span.start;
                Ok(e)
            }
            Tok::Err(ErrorKind::Ref) => Ok(Expr::new(ExprKind::Error(ErrorKind::Ref), joined)),
            Tok::Num(n) => {
                if matches!(self.peek_kind(), Some(Tok::Colon))
                    && let Some(r) = row_number(&Tok::Num(n))
                    && let Some(end) = self.toks.get(self.pos + 1)
                    && let Some(r2) = row_number(&end.kind)
                {
                    let end_span = end.span;
                    self.pos += 2;
                    return Ok(rows_ref(Some(sheet), r, r2, span, end_span));
                }
                Err(ParseError::new(
                    "expected a reference after the sheet name",
                    tspan.start as usize,
                    tspan.end as usize,
                ))
            }
            _ => Err(ParseError::new(
                "expected a reference after the sheet name",
                tspan.start as usize,
                tspan.end as usize,
            )),
        }
    }

    fn word(&mut self, sheet: Option<String>, w: String, span: Span) -> Result<Expr, ParseError> {
        // Function call.
        if sheet.is_none() && matches!(self.peek_kind(), Some(Tok::LParen)) {
            self.next();
            return self.call(w, span);
        }
        // A 3D reference `Sheet1:Sheet3!A1`: kept as a reference whose sheet is `Sheet1:Sheet3`
        // (see `Reference::sheet_span`).
        if sheet.is_none()
            && matches!(self.peek_kind(), Some(Tok::Colon))
            && cell_ref(&w).is_none()
            && let Some(Token {
                kind: Tok::Sheet(last),
                span: last_span,
            }) = self.toks.get(self.pos + 1)
        {
            let (joined, last_span) = (format!("{w}:{last}"), *last_span);
            self.pos += 2;
            let mut e = self.qualified(joined, last_span)?;
            e.span.start = span.start;
            return Ok(e);
        }
        // Whole columns `A:C` and whole rows `$1:$3`.
        if matches!(self.peek_kind(), Some(Tok::Colon))
            && let Some(end) = self.toks.get(self.pos + 1)
        {
            if let (Some(a), Some(b)) = (col_only(&w), col_only_tok(&end.kind)) {
                let end_span = end.span;
                self.pos += 2;
                return Ok(Expr::new(
                    ExprKind::Ref(Reference {
                        sheet,
                        kind: RefKind::Cols(a, b),
                    }),
                    Span {
                        start: span.start,
                        end: end_span.end,
                    },
                ));
            }
            if let (Some(a), Some(b)) = (row_number(&Tok::Word(w.clone())), row_number(&end.kind)) {
                let end_span = end.span;
                self.pos += 2;
                return Ok(rows_ref(sheet, a, b, span, end_span));
            }
        }
        if sheet.is_none() {
            if w.eq_ignore_ascii_case("TRUE") {
                return Ok(Expr::new(ExprKind::Bool(true), span));
            }
            if w.eq_ignore_ascii_case("FALSE") {
                return Ok(Expr::new(ExprKind::Bool(false), span));
            }
        }
        if let Some(c) = cell_ref(&w) {
            return Ok(Expr::new(
                ExprKind::Ref(Reference {
                    sheet,
                    kind: RefKind::Cell(c),
                }),
                span,
            ));
        }
        if w.contains('$') {
            return Err(ParseError::new(
                format!("`{w}` is not a valid cell reference"),
                span.start as usize,
                span.end as usize,
            ));
        }
        // LET/LAMBDA parameters are stored as `_xlpm.name`; an optional LAMBDA parameter (`[b]`
        // in Excel's editor) as `_xlop.b`, which keeps its prefix so that the evaluator knows it
        // may be left out.
        let name = match w.get(..6) {
            Some(p) if p.eq_ignore_ascii_case("_xlpm.") => w[6..].to_string(),
            Some(p) if p.eq_ignore_ascii_case("_xlop.") => format!("_xlop.{}", &w[6..]),
            _ => w,
        };
        Ok(Expr::new(ExprKind::Name { sheet, name }, span))
    }

    fn call(&mut self, raw: String, span: Span) -> Result<Expr, ParseError> {
        let name = normalize_function_name(&raw);
        let (args, end) = self.arguments(&name, span)?;
        let mut e = Expr::new(
            ExprKind::Call { name, args },
            Span {
                start: span.start,
                end,
            },
        );
        // `LAMBDA(x,x+1)(2)` and `f(1)(2)`: the value of a call, called in turn.
        while matches!(self.peek_kind(), Some(Tok::LParen)) {
            self.next();
            let (args, end) = self.arguments("the LAMBDA call", e.span)?;
            let start = e.span.start;
            e = Expr::new(
                ExprKind::Invoke {
                    callee: Box::new(e),
                    args,
                },
                Span { start, end },
            );
        }
        Ok(e)
    }

    /// The arguments after an opening parenthesis, up to and including the closing one; the end
    /// of the closing parenthesis.
    fn arguments(&mut self, name: &str, span: Span) -> Result<(Vec<Expr>, u32), ParseError> {
        let mut args = Vec::new();
        self.skip_ws();
        if matches!(self.peek_kind(), Some(Tok::RParen)) {
            let close = self.next().map_or(span.end, |t| t.span.end);
            return Ok((args, close));
        }
        loop {
            self.skip_ws();
            let arg = match self.peek_kind() {
                Some(Tok::Comma | Tok::RParen) => {
                    let at = self.peek().map_or(span.end, |t| t.span.start);
                    Expr::new(ExprKind::Missing, Span { start: at, end: at })
                }
                _ => self.expr(0, false)?,
            };
            args.push(arg);
            self.skip_ws();
            match self.next() {
                Some(Token {
                    kind: Tok::Comma, ..
                }) => continue,
                Some(Token {
                    kind: Tok::RParen,
                    span: close,
                }) => return Ok((args, close.end)),
                Some(t) => {
                    return Err(ParseError::new(
                        format!("expected `,` or `)` in the arguments of {name}"),
                        t.span.start as usize,
                        t.span.end as usize,
                    ));
                }
                None => {
                    return Err(ParseError::new(
                        format!("missing `)` after the arguments of {name}"),
                        span.start as usize,
                        self.len,
                    ));
                }
            }
        }
    }

    fn array(&mut self, open: Span) -> Result<Expr, ParseError> {
        let mut rows = vec![Vec::new()];
        loop {
            self.skip_ws();
            let Some(tok) = self.next() else {
                return Err(ParseError::new(
                    "missing `}`",
                    open.start as usize,
                    self.len,
                ));
            };
            let span = tok.span;
            let el = match tok.kind {
                Tok::Num(n) => Expr::new(ExprKind::Number(n), span),
                Tok::Op(op @ ("-" | "+")) => match self.next() {
                    Some(Token {
                        kind: Tok::Num(n),
                        span: s2,
                    }) => Expr::new(
                        ExprKind::Number(if op == "-" { -n } else { n }),
                        Span {
                            start: span.start,
                            end: s2.end,
                        },
                    ),
                    _ => {
                        return Err(ParseError::new(
                            "expected a number in the array constant",
                            span.start as usize,
                            span.end as usize,
                        ));
                    }
                },
                Tok::Str(s) => Expr::new(ExprKind::Text(s), span),
                Tok::Err(e) => Expr::new(ExprKind::Error(e), span),
                Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => {
                    Expr::new(ExprKind::Bool(true), span)
                }
                Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => {
                    Expr::new(ExprKind::Bool(false), span)
                }
                _ => {
                    return Err(ParseError::new(
                        "an array constant may hold only numbers, text, booleans and errors",
                        span.start as usize,
                        span.end as usize,
                    ));
                }
            };
            if let Some(row) = rows.last_mut() {
                row.push(el);
            }
            self.skip_ws();
            match self.next() {
                Some(Token {
                    kind: Tok::Comma, ..
                }) => {}
                Some(Token {
                    kind: Tok::Semi, ..
                }) => rows.push(Vec::new()),
                Some(Token {
                    kind: Tok::RBrace,
                    span: close,
                }) => {
                    let width = rows[0].len();
                    if rows.iter().any(|r| r.len() != width) {
                        return Err(ParseError::new(
                            "array constant rows differ in length",
                            open.start as usize,
                            close.end as usize,
                        ));
                    }
                    return Ok(Expr::new(
                        ExprKind::Array(rows),
                        Span {
                            start: open.start,
                            end: close.end,
                        },
                    ));
                }
                _ => {
                    return Err(ParseError::new(
                        "expected `,`, `;` or `}` in the array constant",
                        span.start as usize,
                        span.end as usize,
                    ));
                }
            }
        }
    }
}

fn binary(op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = Span {
        start: lhs.span.start,
        end: rhs.span.end,
    };
    Expr::new(
        ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    )
}

/// `A1:B2` becomes one range reference; anything else stays a `:` operator.
fn fold_range(lhs: Expr, rhs: Expr) -> Result<Expr, ParseError> {
    if let (ExprKind::Ref(a), ExprKind::Ref(b)) = (&lhs.kind, &rhs.kind)
        && (b.sheet.is_none() || b.sheet == a.sheet)
        && let (RefKind::Cell(x), RefKind::Cell(y)) = (a.kind, b.kind)
    {
        let span = Span {
            start: lhs.span.start,
            end: rhs.span.end,
        };
        return Ok(Expr::new(
            ExprKind::Ref(Reference {
                sheet: a.sheet.clone(),
                kind: RefKind::Range(x, y),
            }),
            span,
        ));
    }
    Ok(binary(BinaryOp::Range, lhs, rhs))
}

fn is_reference_like(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Ref(_) | ExprKind::Name { .. } | ExprKind::Structured(_) => true,
        ExprKind::Call { name, .. } => {
            matches!(
                name.as_str(),
                "OFFSET" | "INDEX" | "INDIRECT" | "CHOOSE" | "IF"
            )
        }
        ExprKind::Paren(inner) => is_reference_like(inner),
        ExprKind::Binary { op, .. } => {
            matches!(op, BinaryOp::Range | BinaryOp::Intersect | BinaryOp::Union)
        }
        _ => false,
    }
}

fn rows_ref(sheet: Option<String>, a: (u32, bool), b: (u32, bool), s: Span, e: Span) -> Expr {
    let mk = |(row, abs): (u32, bool)| CellRef {
        row,
        col: 0,
        row_abs: abs,
        col_abs: false,
    };
    Expr::new(
        ExprKind::Ref(Reference {
            sheet,
            kind: RefKind::Rows(mk(a), mk(b)),
        }),
        Span {
            start: s.start,
            end: e.end,
        },
    )
}

/// `_xlfn.NORM.INV` → `NORM.INV`, `_xlpm.f` → `F`; upper case.
pub fn normalize_function_name(raw: &str) -> String {
    let mut s = raw;
    // `_xlpm.f(2)` calls the LET or LAMBDA variable `f`. The prefixes are compared in place (no
    // lower-case copy of the name per call: every function call of every formula comes here).
    while let Some(p) = ["_xlfn.", "_xlws.", "_xll.", "_xlpm."].iter().find(|p| {
        s.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    }) {
        s = &s[p.len()..];
    }
    s.to_ascii_uppercase()
}

fn split_dollar(s: &str) -> (bool, &str) {
    match s.strip_prefix('$') {
        Some(r) => (true, r),
        None => (false, s),
    }
}

/// `$A$1`, `b7`: a cell reference.
fn cell_ref(w: &str) -> Option<CellRef> {
    let (col_abs, rest) = split_dollar(w);
    let letters = rest.find(|c: char| !c.is_ascii_alphabetic())?;
    let col = parse_col(&rest[..letters])?;
    let (row_abs, digits) = split_dollar(&rest[letters..]);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 7 {
        return None;
    }
    let row: u32 = digits.parse().ok()?;
    if row == 0 || row > MAX_ROWS {
        return None;
    }
    Some(CellRef {
        row: row - 1,
        col,
        row_abs,
        col_abs,
    })
}

fn col_only(w: &str) -> Option<CellRef> {
    let (abs, rest) = split_dollar(w);
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let col = parse_col(rest)?;
    (col < MAX_COLS).then_some(CellRef {
        row: 0,
        col,
        row_abs: false,
        col_abs: abs,
    })
}

fn col_only_tok(t: &Tok) -> Option<CellRef> {
    match t {
        Tok::Word(w) => col_only(w),
        _ => None,
    }
}

/// A row number token: `3` or `$3`; zero-based row and whether it is absolute.
fn row_number(t: &Tok) -> Option<(u32, bool)> {
    let (abs, n) = match t {
        Tok::Num(n) => (false, *n),
        Tok::Word(w) => {
            let (abs, rest) = split_dollar(w);
            if !abs || rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (true, rest.parse::<f64>().ok()?)
        }
        _ => return None,
    };
    (n.fract() == 0.0 && n >= 1.0 && n <= MAX_ROWS as f64).then(|| (n as u32 - 1, abs))
}
