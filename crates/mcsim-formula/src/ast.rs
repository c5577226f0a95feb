//! The formula syntax tree.

use crate::reference::Reference;
use crate::structured::StructuredRef;
use std::fmt;

/// A byte range in the formula text (without the leading `=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

/// Excel's error values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// `#NULL!`: an empty intersection.
    Null,
    /// `#DIV/0!`
    Div0,
    /// `#VALUE!`: a wrong type.
    Value,
    /// `#REF!`: an invalid reference.
    Ref,
    /// `#NAME?`: an unknown name or function.
    Name,
    /// `#NUM!`: a number out of range.
    Num,
    /// `#N/A`: not available.
    Na,
    /// `#GETTING_DATA`
    GettingData,
    /// `#SPILL!`
    Spill,
    /// `#CALC!`
    Calc,
}

impl ErrorKind {
    /// Every error value, in Excel's `ERROR.TYPE` order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Null,
        ErrorKind::Div0,
        ErrorKind::Value,
        ErrorKind::Ref,
        ErrorKind::Name,
        ErrorKind::Num,
        ErrorKind::Na,
        ErrorKind::GettingData,
        ErrorKind::Spill,
        ErrorKind::Calc,
    ];

    /// The text Excel shows: `#DIV/0!`, `#N/A`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Null => "#NULL!",
            ErrorKind::Div0 => "#DIV/0!",
            ErrorKind::Value => "#VALUE!",
            ErrorKind::Ref => "#REF!",
            ErrorKind::Name => "#NAME?",
            ErrorKind::Num => "#NUM!",
            ErrorKind::Na => "#N/A",
            ErrorKind::GettingData => "#GETTING_DATA",
            ErrorKind::Spill => "#SPILL!",
            ErrorKind::Calc => "#CALC!",
        }
    }

    /// Parses Excel's spelling (case-insensitive).
    pub fn from_str_excel(s: &str) -> Option<ErrorKind> {
        let up = s.to_ascii_uppercase();
        ErrorKind::ALL.into_iter().find(|e| e.as_str() == up)
    }

    /// `ERROR.TYPE` number (1 for `#NULL!`, ... 7 for `#N/A`).
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::Null => 1,
            ErrorKind::Div0 => 2,
            ErrorKind::Value => 3,
            ErrorKind::Ref => 4,
            ErrorKind::Name => 5,
            ErrorKind::Num => 6,
            ErrorKind::Na => 7,
            ErrorKind::GettingData => 8,
            ErrorKind::Spill => 9,
            ErrorKind::Calc => 14,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x` (no effect on the value)
    Plus,
}

/// Postfix `%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostfixOp {
    /// `x%` = x / 100
    Percent,
}

/// Infix operators, from loosest to tightest: comparisons, `&`, `+ -`, `* /`, `^`, then the
/// reference operators `:`, space (intersection) and `,` (union, inside parentheses only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&`
    Concat,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `:` between two reference expressions.
    Range,
    /// ` ` (space): intersection.
    Intersect,
    /// `,` inside parentheses: union.
    Union,
}

impl BinaryOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Concat => "&",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
            BinaryOp::Range => ":",
            BinaryOp::Intersect => " ",
            BinaryOp::Union => ",",
        }
    }
}

/// A node of the syntax tree with its position in the formula text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Where it is in the formula text.
    pub span: Span,
}

/// The kinds of node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Number(f64),
    /// A string literal, with `""` already unescaped.
    Text(String),
    /// `TRUE` or `FALSE`.
    Bool(bool),
    /// An error literal such as `#N/A`.
    Error(ErrorKind),
    /// An array constant `{1,2;3,4}`: rows of literal elements.
    Array(Vec<Vec<Expr>>),
    /// A cell, range, whole-row or whole-column reference, optionally on another sheet.
    Ref(Reference),
    /// A structured reference to an Excel table (`Table1[Qty]`, `[@Qty]`), as written; it means
    /// nothing until [`Expr::resolve`] turns it into a [`ExprKind::Ref`] (or an error).
    Structured(StructuredRef),
    /// A defined name (or a LET variable), optionally qualified by a sheet (`Sheet1!Rate`).
    Name {
        /// The sheet that qualifies the name, if any.
        sheet: Option<String>,
        /// The name as written.
        name: String,
    },
    /// A function call. `name` is upper-cased, with the `_xlfn.`/`_xlws.` prefixes removed.
    Call {
        /// The function name, upper case, prefixes removed (`XLOOKUP`, `NORM.INV`).
        name: String,
        /// The arguments; an omitted argument (`IF(A1,,2)`) is [`ExprKind::Missing`].
        args: Vec<Expr>,
    },
    /// A call of a value that is not a function name: `LAMBDA(x,x+1)(2)`, `f(1)(2)`.
    Invoke {
        /// What is called (a `LAMBDA(..)` call, or a call that returns a LAMBDA).
        callee: Box<Expr>,
        /// The arguments; an omitted one is [`ExprKind::Missing`].
        args: Vec<Expr>,
    },
    /// A prefix operator.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// A postfix operator.
    Postfix {
        /// The operator.
        op: PostfixOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// An infix operator.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// An omitted function argument.
    Missing,
    /// A parenthesised expression (kept so that `(A1,B1)` unions and display round-trip).
    Paren(Box<Expr>),
}

impl Expr {
    /// Builds a node.
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Array(rows) => rows.iter().flatten().for_each(|e| e.walk(f)),
            ExprKind::Call { args, .. } => args.iter().for_each(|e| e.walk(f)),
            ExprKind::Invoke { callee, args } => {
                callee.walk(f);
                args.iter().for_each(|e| e.walk(f));
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::Postfix { expr, .. }
            | ExprKind::Paren(expr) => expr.walk(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            _ => {}
        }
    }

    /// Calls `f` on every node, children first, allowing changes.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match &mut self.kind {
            ExprKind::Array(rows) => rows.iter_mut().flatten().for_each(|e| e.walk_mut(f)),
            ExprKind::Call { args, .. } => args.iter_mut().for_each(|e| e.walk_mut(f)),
            ExprKind::Invoke { callee, args } => {
                callee.walk_mut(f);
                args.iter_mut().for_each(|e| e.walk_mut(f));
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::Postfix { expr, .. }
            | ExprKind::Paren(expr) => expr.walk_mut(f),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.walk_mut(f);
                rhs.walk_mut(f);
            }
            _ => {}
        }
        f(self);
    }

    /// Shifts every relative reference by (`drow`, `dcol`), as Excel does when it copies a formula
    /// (and when it expands a shared formula). References pushed off the sheet become `#REF!`.
    pub fn shift_relative(&mut self, drow: i64, dcol: i64) {
        self.walk_mut(&mut |e| {
            if let ExprKind::Ref(r) = &mut e.kind
                && r.shift_relative(drow, dcol).is_err()
            {
                e.kind = ExprKind::Error(ErrorKind::Ref);
            }
        });
    }

    /// Calls `f` with the name of every function called in this expression (upper case, prefixes
    /// removed), in the order of [`Expr::functions`], without collecting them: for a test over
    /// every formula of a large model.
    pub fn each_call<'a>(&'a self, f: &mut dyn FnMut(&'a str)) {
        self.walk(&mut |e| {
            if let ExprKind::Call { name, .. } = &e.kind {
                f(name.as_str());
            }
        });
    }

    /// Every function name called in this expression (upper case, prefixes removed).
    pub fn functions(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.each_call(&mut |n| out.push(n));
        out
    }
}
