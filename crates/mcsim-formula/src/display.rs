//! Writes a syntax tree back as formula text.

use crate::ast::{BinaryOp, Expr, ExprKind, PostfixOp, UnaryOp};
use crate::reference::quote_sheet;
use std::fmt::{self, Write};

/// Formats a number as Excel writes it in a formula (shortest round-trip form).
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n}");
        if s.len() > 20 { format!("{n:E}") } else { s }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number(n) => f.write_str(&format_number(*n)),
            ExprKind::Text(s) => {
                f.write_char('"')?;
                f.write_str(&s.replace('"', "\"\""))?;
                f.write_char('"')
            }
            ExprKind::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            ExprKind::Error(e) => f.write_str(e.as_str()),
            ExprKind::Array(rows) => {
                f.write_char('{')?;
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        f.write_char(';')?;
                    }
                    for (j, el) in row.iter().enumerate() {
                        if j > 0 {
                            f.write_char(',')?;
                        }
                        write!(f, "{el}")?;
                    }
                }
                f.write_char('}')
            }
            ExprKind::Ref(r) => write!(f, "{r}"),
            ExprKind::Structured(r) => write!(f, "{r}"),
            ExprKind::Name { sheet, name } => {
                if let Some(s) = sheet {
                    write!(f, "{}!", quote_sheet(s))?;
                }
                f.write_str(name)
            }
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            ExprKind::Invoke { callee, args } => {
                write!(f, "{callee}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            ExprKind::Unary { op, expr } => {
                let o = match op {
                    UnaryOp::Neg => "-",
                    UnaryOp::Plus => "+",
                };
                write!(f, "{o}{expr}")
            }
            ExprKind::Postfix {
                op: PostfixOp::Percent,
                expr,
            } => write!(f, "{expr}%"),
            ExprKind::Binary { op, lhs, rhs } => {
                let sep = match op {
                    BinaryOp::Intersect => " ",
                    o => o.as_str(),
                };
                write!(f, "{lhs}{sep}{rhs}")
            }
            ExprKind::Missing => Ok(()),
            ExprKind::Paren(e) => write!(f, "({e})"),
        }
    }
}
