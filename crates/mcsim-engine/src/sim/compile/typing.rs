//! What kind of value each compiled column holds, and how ranges are read with Excel's rules.
//!
//! A column is numbers, but the cell it stands for may hold booleans (`=A1>0.5`): Excel skips
//! booleans (and text, and blanks) found in references by SUM, AVERAGE, MIN, MAX, PRODUCT, NPV and
//! COUNTIF, counts them when they are given directly as arguments (`SUM(A1>0, 1)`), orders them
//! above every number in comparisons, and ISNUMBER says FALSE for them. So every stochastic cell
//! gets a static type here ([`Ty`]); where the type is only known per iteration (`IF(c, TRUE, 5)`)
//! the compiler declines rather than guess.
//!
//! Errors travel as NaN lanes whatever the type: a boolean cell skipped by SUM still makes the SUM
//! an error in the iterations where the cell is an error (see [`Compiler::error_mask`]).

use super::{Compiler, R, num};
use crate::model::{Area, CellId};
use crate::sim::program::{Arith, Instr, Operand};
use crate::value::Value;
use mcsim_formula::{Expr, ExprKind};

/// The static type of a value in the compiled part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    /// A number (or an error) in every iteration.
    Num,
    /// A boolean (or an error) in every iteration.
    Bool,
    /// A number in some iterations and a boolean in others.
    Mixed,
    /// A reference to an empty cell (equal to 0 and to FALSE; 0 as a cell's value).
    Empty,
}

impl Ty {
    /// The type of a value that may be either.
    pub(super) fn join(self, o: Ty) -> Ty {
        match (self, o) {
            (a, b) if a == b => a,
            (Ty::Empty, Ty::Num) | (Ty::Num, Ty::Empty) => Ty::Num,
            _ => Ty::Mixed,
        }
    }

    /// The type of the value a cell holds (an empty result is 0).
    pub(super) fn of_cell(self) -> Ty {
        if self == Ty::Empty { Ty::Num } else { self }
    }
}

/// The type of a computed value.
pub(super) fn value_ty(v: &Value) -> Ty {
    match v {
        Value::Bool(_) => Ty::Bool,
        Value::Empty => Ty::Empty,
        Value::Array(_) => value_ty(&v.first()),
        _ => Ty::Num,
    }
}

/// One cell of a range: the value of a cell computed once, or the column of a stochastic cell.
#[derive(Debug, Clone)]
pub(super) enum Item {
    /// A cell that depends on no input (`Value::Empty` for a cell that does not exist).
    Const(Value),
    /// A stochastic cell: its column and type.
    Cell(Operand, Ty),
}

/// Functions whose result can be a reference (then an aggregate reads it as a range, skipping
/// booleans, text and blanks, where a computed value would be counted).
fn returns_reference(name: &str) -> bool {
    matches!(
        name,
        "IF" | "IFS"
            | "IFERROR"
            | "IFNA"
            | "CHOOSE"
            | "SWITCH"
            | "INDEX"
            | "OFFSET"
            | "INDIRECT"
            | "LET"
            | "XLOOKUP"
    )
}

impl Compiler<'_, '_> {
    /// The type of a stochastic cell already compiled (inputs are numbers).
    pub(super) fn cell_type(&self, cell: CellId) -> Ty {
        self.cell_ty.get(&cell).copied().unwrap_or(Ty::Num)
    }

    /// The static type of an expression read as a value in the current cell.
    pub(super) fn expr_ty(&mut self, e: &Expr) -> Ty {
        if !self.depends(e) {
            let d = &self.model.cells[self.cur as usize];
            let (s, r, c) = (d.sheet, d.row, d.col);
            return value_ty(&self.ev.eval_at(e, s, r, c, false));
        }
        match &e.kind {
            ExprKind::Paren(inner) => self.expr_ty(inner),
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Ref(_) => match self.single_cell(e) {
                Some(Some(id)) => match self.cell_op.get(&id) {
                    Some(_) => self.cell_type(id),
                    None => value_ty(self.ev.value(id)),
                },
                Some(None) => Ty::Empty,
                None => Ty::Mixed,
            },
            ExprKind::Name { sheet, name } => {
                let scope = match sheet {
                    Some(s) => self.model.sheet_id(s),
                    None => Some(self.model.cells[self.cur as usize].sheet),
                };
                let model = self.model;
                match model.name(scope, name).map(|n| &n.expr) {
                    Some(Ok(ne)) => self.expr_ty(ne),
                    _ => Ty::Mixed,
                }
            }
            ExprKind::Unary {
                op: mcsim_formula::UnaryOp::Plus,
                expr,
            } => self.expr_ty(expr),
            ExprKind::Binary { op, .. } => {
                use mcsim_formula::BinaryOp as B;
                match op {
                    B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => Ty::Bool,
                    _ => Ty::Num,
                }
            }
            ExprKind::Call { name, args } => match name.as_str() {
                "AND" | "OR" | "NOT" | "ISERROR" | "ISNUMBER" => Ty::Bool,
                "IF" => {
                    let t = match args.get(1) {
                        Some(a) if matches!(a.kind, ExprKind::Missing) => Ty::Num,
                        Some(a) => self.expr_ty(a),
                        None => Ty::Bool,
                    };
                    let f = match args.get(2) {
                        Some(a) if matches!(a.kind, ExprKind::Missing) => Ty::Num,
                        Some(a) => self.expr_ty(a),
                        None => Ty::Bool,
                    };
                    t.join(f).of_cell()
                }
                "IFERROR" => {
                    let a = args.first().map_or(Ty::Mixed, |a| self.expr_ty(a));
                    let b = args.get(1).map_or(Ty::Mixed, |b| self.expr_ty(b));
                    a.join(b).of_cell()
                }
                "INDEX" => {
                    let Some(area) = args.first().and_then(|a| self.resolve_area(a)) else {
                        return Ty::Mixed;
                    };
                    let Ok(items) = self.area_items(area) else {
                        return Ty::Mixed;
                    };
                    items
                        .iter()
                        .map(|it| match it {
                            Item::Const(v) => value_ty(v).of_cell(),
                            Item::Cell(_, t) => *t,
                        })
                        .reduce(Ty::join)
                        .unwrap_or(Ty::Num)
                }
                _ => Ty::Num,
            },
            _ => Ty::Num,
        }
    }

    /// Can the two sides of a comparison be compared as numbers? Excel orders every boolean above
    /// every number (`TRUE > 5`); a blank equals both 0 and FALSE.
    pub(super) fn comparable(&mut self, lhs: &Expr, rhs: &Expr) -> R<()> {
        match (self.expr_ty(lhs), self.expr_ty(rhs)) {
            (Ty::Mixed, _) | (_, Ty::Mixed) => {
                Err("a comparison with a number-or-boolean cell".into())
            }
            (a, b) if a == b || a == Ty::Empty || b == Ty::Empty => Ok(()),
            _ => Err("a comparison of a boolean with a number".into()),
        }
    }

    /// The cell a single-cell reference (or a range read by implicit intersection) stands for:
    /// `Some(None)` when no cell exists there, `None` when it is not a single cell.
    fn single_cell(&self, e: &Expr) -> Option<Option<CellId>> {
        let area = self.resolve_area(e)?;
        let b = area.bounds;
        let d = &self.model.cells[self.cur as usize];
        let (r0, c0) = if b.r1 == b.r2 && b.c1 == b.c2 {
            (b.r1, b.c1)
        } else if b.c1 == b.c2 && d.row >= b.r1 && d.row <= b.r2 {
            (d.row, b.c1)
        } else if b.r1 == b.r2 && d.col >= b.c1 && d.col <= b.c2 {
            (b.r1, d.col)
        } else {
            return None;
        };
        Some(self.model.find(area.sheet, r0, c0))
    }

    /// Every cell of a range, row by row.
    pub(super) fn area_items(&mut self, a: Area) -> R<Vec<Item>> {
        let b = a.bounds;
        let n = b.rows() as u64 * b.cols() as u64;
        if n > 100_000 {
            return Err("a range of more than 100,000 cells in the simulated part".into());
        }
        let mut out = Vec::with_capacity(n as usize);
        for r in b.r1..=b.r2 {
            for c in b.c1..=b.c2 {
                out.push(match self.model.find(a.sheet, r, c) {
                    Some(id) => match self.cell_op.get(&id) {
                        Some(op) => Item::Cell(*op, self.cell_type(id)),
                        None if self.sto[id as usize] => {
                            return Err("a reference the dependency order did not see".into());
                        }
                        None => Item::Const(self.ev.value(id).clone()),
                    },
                    None => Item::Const(Value::Empty),
                });
            }
        }
        Ok(out)
    }

    /// Can this argument be a reference (read as a range by an aggregate) rather than a value?
    pub(super) fn may_be_reference(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ref(_) | ExprKind::Name { .. } => true,
            ExprKind::Paren(inner) => self.may_be_reference(inner),
            // `+x` passes a blank through as a blank.
            ExprKind::Unary {
                op: mcsim_formula::UnaryOp::Plus,
                expr,
            } => self.may_be_reference(expr),
            // IF passes a branch through as it is; IFERROR returns its value (a reference read
            // as a value), or the alternative as it is.
            ExprKind::Call { name, args } if name == "IF" => {
                args.iter().skip(1).any(|a| self.may_be_reference(a))
            }
            ExprKind::Call { name, args } if name == "IFERROR" || name == "IFNA" => {
                args.get(1).is_some_and(|a| self.may_be_reference(a))
            }
            ExprKind::Call { name, .. } => returns_reference(name),
            _ => false,
        }
    }

    /// The numbers an aggregate (SUM, AVERAGE, MIN, MAX, PRODUCT, NPV's flows) sees in its
    /// arguments, in order, and the columns of the booleans it skips (which still carry errors).
    /// Ranges skip booleans, text and blanks; values given directly are counted (booleans as 1/0).
    pub(super) fn aggregate_items(&mut self, args: &[Expr]) -> R<(Vec<Operand>, Vec<Operand>)> {
        let (mut nums, mut skipped) = (Vec::new(), Vec::new());
        for a in args {
            if let Some(area) = self.resolve_area(a) {
                for it in self.area_items(area)? {
                    match it {
                        Item::Const(Value::Number(n)) => nums.push(Operand::Const(n)),
                        Item::Const(Value::Error(_)) => nums.push(Operand::Const(f64::NAN)),
                        Item::Const(_) => {}
                        Item::Cell(op, Ty::Num | Ty::Empty) => nums.push(op),
                        Item::Cell(op, Ty::Bool) => skipped.push(op),
                        Item::Cell(..) => {
                            return Err(
                                "a cell that is a number in some iterations and a boolean in \
                                 others, in a range read by an aggregate"
                                    .into(),
                            );
                        }
                    }
                }
            } else if matches!(a.kind, ExprKind::Missing) {
                // `SUM(1,,2)`: how an omitted argument counts is left to the interpreter.
                return Err("an omitted argument of an aggregate".into());
            } else if self.may_be_reference(a) {
                return Err(
                    "a function that may return a reference, as an argument of an \
                            aggregate"
                        .into(),
                );
            } else if self.elem.is_some() && self.depends(a) && self.has_range(a) {
                // In an array formula, `SUM(A1:A3*B1:B3)` sums an array.
                return Err("an array expression inside an aggregate of an array formula".into());
            } else {
                let op = self.expr(a)?;
                nums.push(op);
            }
        }
        Ok((nums, skipped))
    }

    /// A column that is 0 where every one of `cols` is a value and NaN (an error) where any is an
    /// error; `None` when `cols` is empty.
    pub(super) fn error_mask(&mut self, cols: &[Operand]) -> Option<Operand> {
        let mut acc: Option<Operand> = None;
        for &c in cols {
            let z = self.emit(|dst| Instr::Arith {
                op: Arith::Mul,
                dst,
                a: c,
                b: Operand::Const(0.0),
            });
            acc = Some(match acc {
                None => z,
                Some(p) => self.emit(|dst| Instr::Arith {
                    op: Arith::Add,
                    dst,
                    a: p,
                    b: z,
                }),
            });
        }
        acc
    }

    /// `v + mask` (errors of skipped cells), or `v`.
    pub(super) fn with_mask(&mut self, v: Operand, mask: Option<Operand>) -> Operand {
        match mask {
            None => v,
            Some(m) => self.emit(|dst| Instr::Arith {
                op: Arith::Add,
                dst,
                a: m,
                b: v,
            }),
        }
    }

    /// A numeric value of a constant cell read directly (not through a range), or an error when
    /// it holds text (its coercion depends on the function reading it: decline).
    pub(super) fn direct_constant(&self, v: &Value) -> R<Operand> {
        match v {
            Value::Text(_) => Err("text in the simulated part of the model".into()),
            v => Ok(Operand::Const(num(v))),
        }
    }
}
