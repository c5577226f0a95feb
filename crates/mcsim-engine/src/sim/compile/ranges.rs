//! Functions over ranges in the compiled part: SUM, PRODUCT, MIN, MAX, AVERAGE, NPV, SUMPRODUCT,
//! COUNTIF, AND, OR, MATCH and INDEX, with Excel's rules for what a range holds (see
//! [`super::typing`]) and in the interpreter's order of operations, so that both paths give the
//! same bits.

use super::typing::{Item, Ty};
use super::{Compiler, R};
use crate::functions::criteria::{Criterion, Op as CriterionOp};
use crate::model::Area;
use crate::sim::program::{Arith, Cmp, Instr, Operand, Reduce};
use crate::value::Value;
use mcsim_formula::{Expr, ExprKind};

/// A cell MATCH never finds (NaN equals nothing).
const NEVER: f64 = f64::NAN;

impl Compiler<'_, '_> {
    /// SUM, PRODUCT, MIN, MAX, AVERAGE.
    pub(super) fn reduce(&mut self, op: Reduce, args: &[Expr]) -> R<Operand> {
        let (items, skipped) = self.aggregate_items(args)?;
        let mask = self.error_mask(&skipped);
        if items.is_empty() {
            // No number at all: 0 (AVERAGE: #DIV/0!), or the error of a skipped cell.
            let k = if op == Reduce::Average { f64::NAN } else { 0.0 };
            return Ok(self.with_mask(Operand::Const(k), mask));
        }
        let count = items.len() as u32;
        let r = match op {
            Reduce::Min | Reduce::Max => {
                // The order does not change a minimum: constants are combined first.
                let mut konst: Option<f64> = None;
                let mut slots = Vec::new();
                for it in items {
                    match it {
                        Operand::Const(k) => {
                            konst = Some(match konst {
                                None => k,
                                Some(s) if op == Reduce::Min => {
                                    if k.is_nan() || k < s {
                                        k
                                    } else {
                                        s
                                    }
                                }
                                Some(s) => {
                                    if k.is_nan() || k > s {
                                        k
                                    } else {
                                        s
                                    }
                                }
                            })
                        }
                        Operand::Slot(s) => slots.push(s),
                    }
                }
                self.emit(|dst| Instr::Reduce {
                    op,
                    dst,
                    slots,
                    konst,
                    count,
                })
            }
            Reduce::Sum | Reduce::Product | Reduce::Average => {
                // Sums and products in the interpreter's order (left to right), for the same
                // rounding: constants before the first column are combined, a constant after a
                // column starts a new reduction from the running result.
                let base = if op == Reduce::Product {
                    Reduce::Product
                } else {
                    Reduce::Sum
                };
                let combine = |a: Option<f64>, k: f64| match (a, base) {
                    (None, _) => k,
                    (Some(s), Reduce::Product) => s * k,
                    (Some(s), _) => s + k,
                };
                let mut konst: Option<f64> = None;
                let mut slots: Vec<u32> = Vec::new();
                for it in items {
                    match it {
                        Operand::Const(k) if slots.is_empty() => konst = Some(combine(konst, k)),
                        Operand::Const(k) => {
                            let prev = std::mem::take(&mut slots);
                            let g = self.emit(|dst| Instr::Reduce {
                                op: base,
                                dst,
                                slots: prev,
                                konst,
                                count: 0,
                            });
                            match g {
                                Operand::Slot(s) => {
                                    slots.push(s);
                                    konst = Some(k);
                                }
                                Operand::Const(c) => konst = Some(combine(Some(c), k)),
                            }
                        }
                        Operand::Slot(s) => slots.push(s),
                    }
                }
                let acc = if slots.is_empty() {
                    Operand::Const(konst.unwrap_or(0.0))
                } else {
                    self.emit(|dst| Instr::Reduce {
                        op: base,
                        dst,
                        slots,
                        konst,
                        count,
                    })
                };
                if op == Reduce::Average {
                    self.emit(|dst| Instr::Arith {
                        op: Arith::Div,
                        dst,
                        a: acc,
                        b: Operand::Const(count as f64),
                    })
                } else {
                    acc
                }
            }
        };
        Ok(self.with_mask(r, mask))
    }

    /// COUNT over references: a constant number counts once; a stochastic cell that is a number
    /// counts in the iterations where it is not an error (COUNT skips errors, booleans, text and
    /// blanks in references). Values given directly are left to the interpreter.
    pub(super) fn count(&mut self, args: &[Expr]) -> R<Operand> {
        let mut konst = 0.0;
        let mut slots = Vec::new();
        for a in args {
            let Some(area) = self.resolve_area(a) else {
                return Err("COUNT of something other than references".into());
            };
            for it in self.area_items(area)? {
                match it {
                    Item::Const(Value::Number(_)) => konst += 1.0,
                    Item::Const(_) => {}
                    Item::Cell(op, Ty::Num | Ty::Empty) => {
                        match self.emit(|dst| Instr::IsError {
                            dst,
                            a: op,
                            negate: true,
                        }) {
                            Operand::Slot(s) => slots.push(s),
                            Operand::Const(k) => konst += k,
                        }
                    }
                    Item::Cell(_, Ty::Bool) => {}
                    Item::Cell(..) => {
                        return Err("COUNT over a number-or-boolean cell".into());
                    }
                }
            }
        }
        if slots.is_empty() {
            return Ok(Operand::Const(konst));
        }
        let count = slots.len() as u32;
        Ok(self.emit(|dst| Instr::Reduce {
            op: Reduce::Sum,
            dst,
            slots,
            konst: Some(konst),
            count,
        }))
    }

    /// VLOOKUP/HLOOKUP(number, table, index[, match]) over constant keys (the discrete-sampling
    /// idiom `VLOOKUP(RAND(), cumulative table, 2)`, or an exact match of a number). Keys that
    /// change per iteration and results that are not numbers are left to the interpreter.
    pub(super) fn table_lookup(&mut self, vertical: bool, args: &[Expr]) -> R<Operand> {
        if args.len() < 3 || args.len() > 4 {
            return Err("VLOOKUP/HLOOKUP with the wrong number of arguments".into());
        }
        let area = self
            .resolve_area(&args[1])
            .ok_or("VLOOKUP/HLOOKUP in something other than a range")?;
        let approx = match args.get(3) {
            None => true,
            Some(e) if matches!(e.kind, ExprKind::Missing) || self.depends(e) => {
                return Err("VLOOKUP/HLOOKUP whose match type is not a constant".into());
            }
            Some(e) => match self.fold(e) {
                Operand::Const(x) if !x.is_nan() => x != 0.0,
                _ => return Err("VLOOKUP/HLOOKUP whose match type is not a constant".into()),
            },
        };
        if self.depends(&args[2]) {
            return Err("VLOOKUP/HLOOKUP whose column index changes".into());
        }
        let b = area.bounds;
        let width = if vertical { b.cols() } else { b.rows() } as f64;
        let idx = match self.fold(&args[2]) {
            Operand::Const(x) if x.trunc() >= 1.0 && x.trunc() <= width => x.trunc() as u32 - 1,
            _ => return Err("VLOOKUP/HLOOKUP with a column index outside the table".into()),
        };
        if self.expr_ty(&args[0]) != Ty::Num
            || (self.may_be_reference(&args[0]) && !matches!(args[0].kind, ExprKind::Ref(_)))
        {
            return Err("VLOOKUP/HLOOKUP of a key that may not be a number".into());
        }
        let key = self.expr(&args[0])?;
        let line = |at: u32| -> Area {
            let mut bounds = b;
            if vertical {
                bounds.c1 = b.c1 + at;
                bounds.c2 = b.c1 + at;
            } else {
                bounds.r1 = b.r1 + at;
                bounds.r2 = b.r1 + at;
            }
            Area {
                sheet: area.sheet,
                bounds,
            }
        };
        let mut keys = Vec::new();
        for it in self.area_items(line(0))? {
            keys.push(match it {
                // Only numbers are compared with a number; the search steps over the rest.
                Item::Const(Value::Number(n)) => Operand::Const(n),
                Item::Const(_) => Operand::Const(f64::NAN),
                Item::Cell(..) => {
                    return Err("VLOOKUP/HLOOKUP over keys that change per iteration".into());
                }
            });
        }
        let mut values = Vec::new();
        for it in self.area_items(line(idx))? {
            values.push(match it {
                Item::Const(Value::Number(n)) => Operand::Const(n),
                Item::Const(Value::Error(_)) => Operand::Const(f64::NAN),
                Item::Cell(op, Ty::Num) => op,
                _ => return Err("VLOOKUP/HLOOKUP of a value that is not a number".into()),
            });
        }
        Ok(self.emit(|dst| Instr::LookupApprox {
            dst,
            exact: !approx,
            key,
            keys,
            values,
        }))
    }

    /// NPV(rate, flows...).
    pub(super) fn npv(&mut self, args: &[Expr]) -> R<Operand> {
        let rate = self.expr(&args[0])?;
        let (flows, skipped) = self.aggregate_items(&args[1..])?;
        let mask = self.error_mask(&skipped);
        let v = self.emit(|dst| Instr::Npv { dst, rate, flows });
        Ok(self.with_mask(v, mask))
    }

    /// SUMPRODUCT of two ranges of the same shape (text, booleans and blanks count as 0).
    pub(super) fn sumproduct(&mut self, args: &[Expr]) -> R<Operand> {
        let (Some(x), Some(y)) = (self.resolve_area(&args[0]), self.resolve_area(&args[1])) else {
            return Err("SUMPRODUCT of something other than two ranges".into());
        };
        if (x.bounds.rows(), x.bounds.cols()) != (y.bounds.rows(), y.bounds.cols()) {
            return Ok(Operand::Const(f64::NAN));
        }
        let mut lists = Vec::with_capacity(2);
        for area in [x, y] {
            let mut ops = Vec::new();
            for it in self.area_items(area)? {
                ops.push(match it {
                    Item::Const(Value::Number(n)) => Operand::Const(n),
                    Item::Const(Value::Error(_)) => Operand::Const(f64::NAN),
                    Item::Const(_) => Operand::Const(0.0),
                    Item::Cell(op, Ty::Num | Ty::Empty) => op,
                    // 0, or the cell's error.
                    Item::Cell(op, Ty::Bool) => self.error_mask(&[op]).unwrap_or(op),
                    Item::Cell(..) => {
                        return Err("SUMPRODUCT over a number-or-boolean cell".into());
                    }
                });
            }
            lists.push(ops);
        }
        let b = lists.pop().unwrap_or_default();
        let a = lists.pop().unwrap_or_default();
        Ok(self.emit(|dst| Instr::SumProduct { dst, a, b }))
    }

    /// COUNTIF(range, criterion) with a criterion computed once.
    pub(super) fn countif(&mut self, args: &[Expr]) -> R<Operand> {
        let crit = {
            let d = &self.model.cells[self.cur as usize];
            let (s, r, c) = (d.sheet, d.row, d.col);
            self.ev.eval_at(&args[1], s, r, c, false)
        };
        let (op, rhs) =
            numeric_criterion(&crit).ok_or("a COUNTIF criterion that is not numeric")?;
        let area = self
            .resolve_area(&args[0])
            .ok_or("COUNTIF over something other than a range")?;
        let criterion = Criterion::parse(&crit);
        let mut konst = 0.0;
        let mut items = Vec::new();
        for it in self.area_items(area)? {
            match it {
                // Cells computed once are tested once, with the interpreter's own rules.
                Item::Const(v) => {
                    if criterion.matches(&v) {
                        konst += 1.0;
                    }
                }
                Item::Cell(op, Ty::Num | Ty::Empty) => items.push(op),
                // A boolean (or an error) only satisfies `<>n`.
                Item::Cell(_, Ty::Bool) => {
                    if op == Cmp::Ne {
                        konst += 1.0;
                    }
                }
                Item::Cell(..) => {
                    return Err("COUNTIF over a number-or-boolean cell".into());
                }
            }
        }
        if items.is_empty() {
            return Ok(Operand::Const(konst));
        }
        let n = self.emit(|dst| Instr::CountIf {
            dst,
            items,
            op,
            rhs,
        });
        Ok(if konst != 0.0 {
            self.emit(|dst| Instr::Arith {
                op: Arith::Add,
                dst,
                a: n,
                b: Operand::Const(konst),
            })
        } else {
            n
        })
    }

    /// AND / OR: numbers and booleans count, wherever they are; text and blanks in ranges are
    /// skipped; nothing to test at all is `#VALUE!`.
    pub(super) fn and_or(&mut self, and: bool, args: &[Expr]) -> R<Operand> {
        let mut items = Vec::new();
        for a in args {
            if let Some(area) = self.resolve_area(a) {
                for it in self.area_items(area)? {
                    match it {
                        Item::Const(Value::Number(n)) => items.push(Operand::Const(n)),
                        Item::Const(Value::Bool(b)) => items.push(Operand::Const(b as u8 as f64)),
                        Item::Const(Value::Error(_)) => items.push(Operand::Const(f64::NAN)),
                        Item::Const(_) => {}
                        Item::Cell(op, _) => items.push(op),
                    }
                }
            } else if matches!(a.kind, ExprKind::Missing) {
                return Err("an omitted argument of AND/OR".into());
            } else if self.may_be_reference(a) {
                return Err(
                    "a function that may return a reference, as an argument of AND/OR".into(),
                );
            } else {
                items.push(self.expr(a)?);
            }
        }
        let mut acc: Option<Operand> = None;
        for it in items {
            let t = self.emit(|dst| Instr::Compare {
                op: Cmp::Ne,
                dst,
                a: it,
                b: Operand::Const(0.0),
            });
            acc = Some(match acc {
                None => t,
                Some(p) => {
                    let s = self.emit(|dst| Instr::Arith {
                        op: if and { Arith::Mul } else { Arith::Add },
                        dst,
                        a: p,
                        b: t,
                    });
                    if and {
                        s
                    } else {
                        self.emit(|dst| Instr::Compare {
                            op: Cmp::Gt,
                            dst,
                            a: s,
                            b: Operand::Const(0.0),
                        })
                    }
                }
            });
        }
        Ok(acc.unwrap_or(Operand::Const(f64::NAN)))
    }

    /// MATCH(key, range, 0) with a numeric key.
    pub(super) fn match_exact(&mut self, args: &[Expr]) -> R<Operand> {
        let area = self
            .resolve_area(&args[1])
            .ok_or("MATCH in something other than a range")?;
        match self.expr_ty(&args[0]) {
            Ty::Num => {}
            _ => return Err("MATCH of a key that is not a number".into()),
        }
        // A key that is a reference to a blank matches nothing, where the blank as a value is 0.
        if self.may_be_reference(&args[0]) && !matches!(args[0].kind, ExprKind::Ref(_)) {
            return Err("MATCH of a key that may be a reference".into());
        }
        let key = self.expr(&args[0])?;
        let mut items = Vec::new();
        for it in self.area_items(area)? {
            items.push(match it {
                Item::Const(Value::Number(n)) => Operand::Const(n),
                // Only numbers match a number.
                Item::Const(_) => Operand::Const(NEVER),
                Item::Cell(op, Ty::Num | Ty::Empty) => op,
                Item::Cell(_, Ty::Bool) => Operand::Const(NEVER),
                Item::Cell(..) => return Err("MATCH in a number-or-boolean cell".into()),
            });
        }
        Ok(self.emit(|dst| Instr::MatchExact { dst, key, items }))
    }

    /// INDEX(range, i) over a one-dimensional range.
    pub(super) fn index(&mut self, args: &[Expr]) -> R<Operand> {
        let area = self
            .resolve_area(&args[0])
            .ok_or("INDEX over something other than a range")?;
        let b = area.bounds;
        if b.rows() > 1 && b.cols() > 1 {
            return Err("two-dimensional INDEX in the simulated part".into());
        }
        let mut items = Vec::new();
        for it in self.area_items(area)? {
            items.push(match it {
                Item::Const(Value::Text(_)) => {
                    return Err("INDEX of a range holding text in the simulated part".into());
                }
                Item::Const(v) => Operand::Const(super::num(&v)),
                Item::Cell(op, _) => op,
            });
        }
        let idx = self.expr(&args[1])?;
        // INDEX(range, 0) is the whole range, which a cell reads by implicit intersection.
        let d = &self.model.cells[self.cur as usize];
        let whole = if b.r1 == b.r2 && b.c1 == b.c2 {
            Some(0)
        } else if b.c1 == b.c2 && d.row >= b.r1 && d.row <= b.r2 {
            Some((d.row - b.r1) as usize)
        } else if b.r1 == b.r2 && d.col >= b.c1 && d.col <= b.c2 {
            Some((d.col - b.c1) as usize)
        } else {
            None
        };
        let picked = match whole.and_then(|i| items.get(i).copied()) {
            Some(at_zero) => {
                let v = self.emit(|dst| Instr::Index {
                    dst,
                    items: items.clone(),
                    idx,
                });
                // 0 <= idx < 1: the intersected cell; idx < 0: #VALUE!. Compared with 0 (where
                // Compare's 15-digit equality is exact equality); idx - 1 is exact near 1.
                let less_one = self.emit(|dst| Instr::Arith {
                    op: Arith::Sub,
                    dst,
                    a: idx,
                    b: Operand::Const(1.0),
                });
                let below_one = self.emit(|dst| Instr::Compare {
                    op: Cmp::Lt,
                    dst,
                    a: less_one,
                    b: Operand::Const(0.0),
                });
                let z = self.emit(|dst| Instr::Select {
                    dst,
                    cond: below_one,
                    t: at_zero,
                    f: v,
                });
                let negative = self.emit(|dst| Instr::Compare {
                    op: Cmp::Lt,
                    dst,
                    a: idx,
                    b: Operand::Const(0.0),
                });
                self.emit(|dst| Instr::Select {
                    dst,
                    cond: negative,
                    t: Operand::Const(f64::NAN),
                    f: z,
                })
            }
            None => self.emit(|dst| Instr::Index { dst, items, idx }),
        };
        Ok(picked)
    }
}

/// The criterion as `(op, number)` when it is numeric (`5`, `">=0"`, `"<>2.5"`), as
/// [`Criterion::parse`] reads it; `None` for text, booleans, blanks and errors.
pub(super) fn numeric_criterion(v: &Value) -> Option<(Cmp, f64)> {
    let (op, n) = Criterion::parse(v).numeric()?;
    let op = match op {
        CriterionOp::Eq => Cmp::Eq,
        CriterionOp::Ne => Cmp::Ne,
        CriterionOp::Lt => Cmp::Lt,
        CriterionOp::Le => Cmp::Le,
        CriterionOp::Gt => Cmp::Gt,
        CriterionOp::Ge => Cmp::Ge,
    };
    Some((op, n))
}
