//! LAMBDA: closures, their calls, and the functions that take one.
//!
//! A LAMBDA is a value only inside the evaluator: it lives in a LET or LAMBDA variable
//! ([`Local::Lambda`]) or is called where it is written, and never reaches a cell or a library
//! function (a LAMBDA left uncalled in a cell is `#CALC!`, as in Excel). It is called
//!
//! - where it is written: `LAMBDA(x,x+1)(2)` (an [`ExprKind::Invoke`]);
//! - through a LET variable: `LET(f,LAMBDA(x,x*2),f(3))`;
//! - through a defined name whose formula is a LAMBDA: `=CAL_MONTH(3)`, recursion included
//!   (bounded by [`MAX_LAMBDA_DEPTH`], past which the call is `#NUM!`);
//! - by MAP, REDUCE, SCAN, MAKEARRAY, BYROW and BYCOL (and GROUPBY and PIVOTBY, in
//!   `lambda/groupby.rs`), which are special forms here because their
//!   last argument is a LAMBDA (or a function given by name, `BYROW(A1:C3,SUM)`).
//!
//! IF and CHOOSE may choose a LAMBDA; other functions never see one.
//!
//! A closure captures the LET and LAMBDA variables in scope where it is written (lexical scope);
//! the body of a defined name sees none of the caller's variables. Parameters written
//! `_xlop.name` (`[name]` in Excel's editor) are optional; any parameter may be passed as an
//! empty argument (`f(1,)`), and ISOMITTED tells which were.

use super::Evaluator;
use crate::functions::Arg;
use crate::model::{Model, SheetId};
use crate::value::{Array, Value};
use mcsim_formula::{ErrorKind, Expr, ExprKind};
use std::sync::Arc;

/// Nested LAMBDA calls allowed before a call answers `#NUM!` (runaway recursion through a name).
pub const MAX_LAMBDA_DEPTH: u32 = 256;

/// A LAMBDA value: its parameters, its body and the variables it captured.
#[derive(Debug)]
pub(crate) struct Closure {
    params: Vec<Param>,
    body: Expr,
    env: Vec<(String, Local)>,
}

#[derive(Debug)]
struct Param {
    name: String,
    optional: bool,
}

/// What a LET or LAMBDA variable holds.
#[derive(Debug, Clone)]
pub(crate) enum Local {
    /// A value or a reference.
    Arg(Arg),
    /// A LAMBDA.
    Lambda(Arc<Closure>),
    /// A LAMBDA parameter the caller left out (ISOMITTED is TRUE; it reads as empty).
    Omitted,
}

fn err(e: ErrorKind) -> Local {
    Local::Arg(Arg::Value(Value::Error(e)))
}

/// The functions of this module, evaluated by the evaluator itself (see
/// [`crate::functions::SPECIAL_FORMS`]).
pub(crate) fn is_lambda_form(name: &str) -> bool {
    matches!(
        name,
        "LAMBDA"
            | "MAP"
            | "REDUCE"
            | "SCAN"
            | "MAKEARRAY"
            | "BYROW"
            | "BYCOL"
            | "ISOMITTED"
            | "GROUPBY"
            | "PIVOTBY"
    )
}

impl Evaluator<'_> {
    /// A variable's content as an argument: a LAMBDA used as a value is `#CALC!`.
    pub(super) fn local_arg(l: Local) -> Arg {
        match l {
            Local::Arg(a) => a,
            Local::Lambda(_) => Arg::Value(Value::Error(ErrorKind::Calc)),
            Local::Omitted => Arg::Value(Value::Empty),
        }
    }

    /// Evaluates an expression that may stand for a LAMBDA (a `LAMBDA(..)`, a variable, a defined
    /// name, a call that returns one); anything else is evaluated as usual.
    pub(super) fn eval_local(&mut self, e: &Expr) -> Local {
        match &e.kind {
            ExprKind::Paren(inner) => self.eval_local(inner),
            ExprKind::Name { sheet: None, name } if self.local(name).is_some() => {
                self.local(name).cloned().unwrap_or(Local::Omitted)
            }
            ExprKind::Name { sheet, name } => {
                let scope = match sheet {
                    Some(s) => self.model.sheet_id(s),
                    None => Some(self.pos.sheet),
                };
                let model = self.model;
                match model.name(scope, name).map(|n| &n.expr) {
                    Some(Ok(ne)) if is_lambda_expr(ne) => self.eval_isolated(ne),
                    _ => Local::Arg(self.eval(e)),
                }
            }
            ExprKind::Call { name, args } => match name.as_str() {
                "LAMBDA" => self.make_closure(args),
                "LET" => self.let_local(args),
                "IF" | "CHOOSE" => self.choice_local(e, name == "IF", args),
                _ => match self.call_user(name, args, true) {
                    Some(l) => l,
                    None => Local::Arg(self.eval(e)),
                },
            },
            ExprKind::Invoke { callee, args } => {
                let f = self.eval_local(callee);
                self.apply_exprs(f, args)
            }
            _ => Local::Arg(self.eval(e)),
        }
    }

    /// The innermost LET or LAMBDA variable of this name.
    pub(super) fn local(&self, name: &str) -> Option<&Local> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, l)| l)
    }

    /// A defined name's formula, evaluated without the caller's variables.
    fn eval_isolated(&mut self, e: &Expr) -> Local {
        let saved = std::mem::take(&mut self.locals);
        let r = self.eval_local(e);
        self.locals = saved;
        r
    }

    /// `name(args)` where `name` is a LET/LAMBDA variable or (when `names`) a defined name that is
    /// not a library function: the call's result, or `None` when `name` is neither.
    pub(super) fn call_user(&mut self, name: &str, args: &[Expr], names: bool) -> Option<Local> {
        if let Some(l) = self.local(name) {
            let f = l.clone();
            return Some(self.apply_exprs(f, args));
        }
        if !names || crate::functions::is_supported(name) {
            return None;
        }
        let model = self.model;
        let n = model.name(Some(self.pos.sheet), name)?;
        let f = match &n.expr {
            Ok(ne) => self.eval_isolated(ne),
            Err(_) => err(ErrorKind::Name),
        };
        Some(self.apply_exprs(f, args))
    }

    /// `LAMBDA(params.., body)` as a closure over the variables in scope.
    fn make_closure(&mut self, args: &[Expr]) -> Local {
        let Some((body, params)) = args.split_last() else {
            return err(ErrorKind::Value);
        };
        if matches!(body.kind, ExprKind::Missing) {
            return err(ErrorKind::Value);
        }
        let mut ps: Vec<Param> = Vec::with_capacity(params.len());
        for p in params {
            let ExprKind::Name { sheet: None, name } = &p.kind else {
                return err(ErrorKind::Value);
            };
            let (name, optional) = match name.get(..6) {
                Some(pre) if pre.eq_ignore_ascii_case("_xlop.") => (&name[6..], true),
                _ => (name.as_str(), false),
            };
            // Required parameters come first, and no name twice.
            if (!optional && ps.iter().any(|q| q.optional))
                || ps.iter().any(|q| q.name.eq_ignore_ascii_case(name))
            {
                return err(ErrorKind::Value);
            }
            ps.push(Param {
                name: name.to_string(),
                optional,
            });
        }
        Local::Lambda(Arc::new(Closure {
            params: ps,
            body: body.clone(),
            env: self.locals.clone(),
        }))
    }

    /// `LET(name1, value1, .., body)`, whose values and body may be LAMBDAs.
    pub(super) fn let_local(&mut self, args: &[Expr]) -> Local {
        if args.len() < 3 || args.len().is_multiple_of(2) {
            return err(ErrorKind::Value);
        }
        let base = self.locals.len();
        for pair in args[..args.len() - 1].chunks(2) {
            let ExprKind::Name { sheet: None, name } = &pair[0].kind else {
                self.locals.truncate(base);
                return err(ErrorKind::Value);
            };
            let v = self.eval_local(&pair[1]);
            self.locals.push((name.clone(), v));
        }
        let r = self.eval_local(&args[args.len() - 1]);
        self.locals.truncate(base);
        r
    }

    /// IF and CHOOSE with a single condition or index, whose chosen argument may be a LAMBDA
    /// (`IF(c,LAMBDA(..),LAMBDA(..))(x)`); with an array condition, the usual special form.
    fn choice_local(&mut self, e: &Expr, is_if: bool, args: &[Expr]) -> Local {
        let valid = if is_if {
            (1..=3).contains(&args.len())
        } else {
            args.len() >= 2
        };
        if !valid {
            return Local::Arg(self.eval(e));
        }
        let c = self.eval_value(&args[0]);
        if matches!(c, Value::Array(_)) {
            return Local::Arg(self.eval(e));
        }
        let chosen = if is_if {
            match c.to_bool() {
                Err(e) => return err(e),
                Ok(b) => match args.get(if b { 1 } else { 2 }) {
                    Some(a) => a,
                    None => return Local::Arg(Arg::Value(Value::Bool(b))),
                },
            }
        } else {
            match c.to_number() {
                Err(e) => return err(e),
                Ok(n) if n.trunc() >= 1.0 && (n.trunc() as usize) < args.len() => {
                    &args[n.trunc() as usize]
                }
                Ok(_) => return err(ErrorKind::Value),
            }
        };
        // As the special forms: IF's omitted branch (`IF(c,,1)`) and CHOOSE's empty choice are 0.
        let missing = matches!(chosen.kind, ExprKind::Missing);
        match self.eval_local(chosen) {
            Local::Arg(Arg::Value(Value::Empty)) if missing || !is_if => {
                Local::Arg(Arg::Value(Value::Number(0.0)))
            }
            l => l,
        }
    }

    /// Calls `f` with the arguments as written (an empty one is an omitted parameter).
    fn apply_exprs(&mut self, f: Local, args: &[Expr]) -> Local {
        let f = match f {
            Local::Lambda(f) => f,
            Local::Arg(Arg::Value(Value::Error(e))) => return err(e),
            _ => return err(ErrorKind::Value),
        };
        // Too many arguments, or too few for the required parameters: #VALUE! before any
        // argument is evaluated.
        let required = f.params.iter().filter(|p| !p.optional).count();
        if args.len() > f.params.len() || args.len() < required {
            return err(ErrorKind::Value);
        }
        let vals: Vec<Local> = args
            .iter()
            .map(|a| match a.kind {
                ExprKind::Missing => Local::Omitted,
                _ => self.eval_local(a),
            })
            .collect();
        self.apply(&f, vals)
    }

    /// Calls a closure with evaluated arguments.
    fn apply(&mut self, f: &Closure, args: Vec<Local>) -> Local {
        let required = f.params.iter().filter(|p| !p.optional).count();
        if args.len() > f.params.len() || args.len() < required {
            return err(ErrorKind::Value);
        }
        if self.lambda_depth >= MAX_LAMBDA_DEPTH {
            return err(ErrorKind::Num);
        }
        let mut frame = f.env.clone();
        let mut args = args.into_iter();
        for p in &f.params {
            frame.push((p.name.clone(), args.next().unwrap_or(Local::Omitted)));
        }
        let saved = std::mem::replace(&mut self.locals, frame);
        self.lambda_depth += 1;
        let r = self.eval_local(&f.body);
        self.lambda_depth -= 1;
        self.locals = saved;
        r
    }

    /// The special forms of this module (see [`is_lambda_form`]).
    pub(super) fn lambda_form(&mut self, name: &str, args: &[Expr]) -> Arg {
        match name {
            // A LAMBDA that is not called: Excel shows #CALC!.
            "LAMBDA" => Self::local_arg(self.make_closure(args)),
            "ISOMITTED" => {
                let [a] = args else {
                    return Arg::Value(Value::Error(ErrorKind::Value));
                };
                let omitted = match &a.kind {
                    ExprKind::Name { sheet: None, name } => {
                        matches!(self.local(name), Some(Local::Omitted))
                    }
                    ExprKind::Missing => true,
                    _ => false,
                };
                Arg::Value(Value::Bool(omitted))
            }
            "MAP" => self.map(args),
            "REDUCE" | "SCAN" => self.reduce(name == "SCAN", args),
            "MAKEARRAY" => self.make_array(args),
            "BYROW" | "BYCOL" => self.by(name == "BYROW", args),
            "GROUPBY" => self.groupby(args),
            "PIVOTBY" => self.pivotby(args),
            _ => Arg::Value(Value::Error(ErrorKind::Name)),
        }
    }

    /// The LAMBDA argument of MAP and friends, with the number of parameters it must take.
    fn lambda_arg(&mut self, e: &Expr, params: usize) -> Result<Arc<Closure>, ErrorKind> {
        if let Some(f) = self.eta(e, params) {
            return Ok(f);
        }
        match self.eval_local(e) {
            Local::Lambda(f) if f.params.len() == params => Ok(f),
            Local::Arg(Arg::Value(Value::Error(e))) => Err(e),
            _ => Err(ErrorKind::Value),
        }
    }

    /// A function given by name where a LAMBDA is expected (`BYROW(A1:C3,SUM)`, stored
    /// `_xleta.SUM`): the LAMBDA that calls it with `params` arguments. A LET variable or a
    /// defined name of that name wins over the function.
    fn eta(&self, e: &Expr, params: usize) -> Option<Arc<Closure>> {
        let f = self.eta_name(e)?;
        let params: Vec<Param> = (0..params)
            .map(|i| Param {
                name: format!("_xleta.{i}"),
                optional: false,
            })
            .collect();
        let args = params
            .iter()
            .map(|p| {
                Expr::new(
                    ExprKind::Name {
                        sheet: None,
                        name: p.name.clone(),
                    },
                    e.span,
                )
            })
            .collect();
        Some(Arc::new(Closure {
            params,
            body: Expr::new(ExprKind::Call { name: f, args }, e.span),
            env: Vec::new(),
        }))
    }

    /// The function an expression names where a LAMBDA is expected (`SUM`, `_xleta.SUM`),
    /// upper case without prefix; `None` when it is not one (a LET variable or a defined name of
    /// that name wins over the function).
    fn eta_name(&self, e: &Expr) -> Option<String> {
        let ExprKind::Name { sheet: None, name } = &e.kind else {
            return None;
        };
        let f = match name.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("_xleta.") => &name[7..],
            _ => {
                if self.local(name).is_some()
                    || self.model.name(Some(self.pos.sheet), name).is_some()
                {
                    return None;
                }
                name.as_str()
            }
        };
        let f = mcsim_formula::normalize_function_name(f);
        if !crate::functions::is_supported(&f) || is_lambda_form(&f) {
            return None;
        }
        Some(f)
    }

    /// An array argument, references read as arrays.
    fn array_arg(&mut self, e: &Expr) -> Value {
        let saved = self.pos.array_mode;
        self.pos.array_mode = true;
        let a = self.eval(e);
        let v = self.deref_array(a);
        self.pos.array_mode = saved;
        v
    }

    /// A LAMBDA's result as one element of an array: an array of more than one value there is
    /// `#CALC!` (Excel has no nested arrays).
    fn element_result(&mut self, l: Local) -> Value {
        let a = Self::local_arg(l);
        let v = self.operand(a);
        let v = match v {
            Value::Array(a) if a.rows == 1 && a.cols == 1 => a.data[0].clone(),
            Value::Array(_) => Value::Error(ErrorKind::Calc),
            v => v,
        };
        match v {
            Value::Empty => Value::Number(0.0),
            v => v,
        }
    }

    fn map(&mut self, args: &[Expr]) -> Arg {
        let Some((f, arrays)) = args.split_last() else {
            return Arg::Value(Value::Error(ErrorKind::Value));
        };
        if arrays.is_empty() {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        let mut vals = Vec::with_capacity(arrays.len());
        for a in arrays {
            match self.array_arg(a) {
                Value::Error(e) => return Arg::Value(Value::Error(e)),
                v => vals.push(v),
            }
        }
        let f = match self.lambda_arg(f, arrays.len()) {
            Ok(f) => f,
            Err(e) => return Arg::Value(Value::Error(e)),
        };
        // Arrays of different sizes: the larger size, the missing elements #N/A (as Excel).
        let (rows, cols) = vals.iter().fold((1, 1), |(r, c), v| {
            let (vr, vc) = super::dims(v);
            (r.max(vr), c.max(vc))
        });
        let mut out = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                let xs = vals
                    .iter()
                    .map(|v| match v {
                        Value::Array(a) => Local::Arg(Arg::Value(
                            a.get(r, c).cloned().unwrap_or(Value::Error(ErrorKind::Na)),
                        )),
                        v => Local::Arg(Arg::Value(v.clone())),
                    })
                    .collect();
                let l = self.apply(&f, xs);
                out.push(self.element_result(l));
            }
        }
        Arg::Value(Value::Array(Arc::new(Array::new(rows, cols, out))))
    }

    /// REDUCE(initial, array, LAMBDA(acc, x)) and SCAN (every accumulated value, in the array's
    /// shape). An omitted initial value is empty (0 in arithmetic).
    fn reduce(&mut self, scan: bool, args: &[Expr]) -> Arg {
        let [init, array, f] = args else {
            return Arg::Value(Value::Error(ErrorKind::Value));
        };
        let mut acc = match init.kind {
            ExprKind::Missing => Local::Arg(Arg::Value(Value::Empty)),
            _ => {
                let v = self.eval_value(init);
                Local::Arg(Arg::Value(v))
            }
        };
        let arr = match self.array_arg(array) {
            Value::Error(e) => return Arg::Value(Value::Error(e)),
            Value::Array(a) => a,
            v => Arc::new(Array::new(1, 1, vec![v])),
        };
        let f = match self.lambda_arg(f, 2) {
            Ok(f) => f,
            Err(e) => return Arg::Value(Value::Error(e)),
        };
        let mut out = Vec::with_capacity(if scan { arr.data.len() } else { 0 });
        for x in &arr.data {
            let next = self.apply(&f, vec![acc, Local::Arg(Arg::Value(x.clone()))]);
            acc = if scan {
                let v = self.element_result(next);
                out.push(v.clone());
                Local::Arg(Arg::Value(v))
            } else {
                next
            };
        }
        if scan {
            return Arg::Value(Value::Array(Arc::new(Array::new(arr.rows, arr.cols, out))));
        }
        match Self::local_arg(acc) {
            Arg::Value(Value::Empty) => Arg::Value(Value::Number(0.0)),
            a => a,
        }
    }

    /// MAKEARRAY(rows, cols, LAMBDA(r, c)), `r` and `c` counted from 1.
    fn make_array(&mut self, args: &[Expr]) -> Arg {
        let [rows, cols, f] = args else {
            return Arg::Value(Value::Error(ErrorKind::Value));
        };
        let mut dim = |e: &Expr| -> Result<usize, ErrorKind> {
            let n = self.eval_value(e).first().to_number()?.trunc();
            // Excel's grid is at most 1,048,576 x 16,384; MAKEARRAY answers #VALUE! below 1.
            if !(1.0..=1_048_576.0).contains(&n) {
                return Err(ErrorKind::Value);
            }
            Ok(n as usize)
        };
        let (rows, cols) = match (dim(rows), dim(cols)) {
            (Ok(r), Ok(c)) if r.saturating_mul(c) <= 16_777_216 => (r, c),
            (Err(e), _) | (_, Err(e)) => return Arg::Value(Value::Error(e)),
            _ => return Arg::Value(Value::Error(ErrorKind::Num)),
        };
        let f = match self.lambda_arg(f, 2) {
            Ok(f) => f,
            Err(e) => return Arg::Value(Value::Error(e)),
        };
        let mut out = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            for c in 0..cols {
                let xs = vec![
                    Local::Arg(Arg::Value(Value::Number((r + 1) as f64))),
                    Local::Arg(Arg::Value(Value::Number((c + 1) as f64))),
                ];
                let l = self.apply(&f, xs);
                out.push(self.element_result(l));
            }
        }
        Arg::Value(Value::Array(Arc::new(Array::new(rows, cols, out))))
    }

    /// BYROW(array, LAMBDA(row)) gives a column, BYCOL(array, LAMBDA(col)) a row.
    fn by(&mut self, by_row: bool, args: &[Expr]) -> Arg {
        let [array, f] = args else {
            return Arg::Value(Value::Error(ErrorKind::Value));
        };
        let arr = match self.array_arg(array) {
            Value::Error(e) => return Arg::Value(Value::Error(e)),
            Value::Array(a) => a,
            v => Arc::new(Array::new(1, 1, vec![v])),
        };
        let f = match self.lambda_arg(f, 1) {
            Ok(f) => f,
            Err(e) => return Arg::Value(Value::Error(e)),
        };
        let n = if by_row { arr.rows } else { arr.cols };
        let mut out = Vec::with_capacity(n);
        for k in 0..n {
            let slice = if by_row {
                Array::row(arr.data[k * arr.cols..(k + 1) * arr.cols].to_vec())
            } else {
                Array::column(
                    (0..arr.rows)
                        .map(|r| arr.data[r * arr.cols + k].clone())
                        .collect(),
                )
            };
            let l = self.apply(
                &f,
                vec![Local::Arg(Arg::Value(Value::Array(Arc::new(slice))))],
            );
            out.push(self.element_result(l));
        }
        let a = if by_row {
            Array::column(out)
        } else {
            Array::row(out)
        };
        Arg::Value(Value::Array(Arc::new(a)))
    }
}

/// The functions a formula calls that mcsim does not know, upper case, in order of appearance:
/// [`crate::functions::is_supported`] minus the calls of LAMBDAs, which are not functions of the
/// library (a defined name visible from `sheet`, or a name that the formula binds with LET or as
/// a LAMBDA parameter).
pub fn unsupported_calls<'e>(model: &Model, sheet: SheetId, e: &'e Expr) -> Vec<&'e str> {
    // One walk: names the formula binds (LET variables and LAMBDA parameters), and the calls the
    // library does not know, in the order of [`Expr::functions`]; a binding may come after the
    // call, so the calls are checked against the bindings once the walk is done.
    let mut bound: Vec<&str> = Vec::new();
    let mut out: Vec<&str> = Vec::new();
    e.walk(&mut |n| {
        let ExprKind::Call { name, args } = &n.kind else {
            return;
        };
        let names = match name.as_str() {
            "LET" => &args[..2 * (args.len() / 2)],
            "LAMBDA" => &args[..args.len().saturating_sub(1)],
            _ => &[][..],
        };
        let step = if name == "LET" { 2 } else { 1 };
        for a in names.iter().step_by(step) {
            if let ExprKind::Name { sheet: None, name } = &a.kind {
                bound.push(name.trim_start_matches("_xlop."));
            }
        }
        if !crate::functions::is_supported(name) {
            out.push(name.as_str());
        }
    });
    out.retain(|f| {
        !bound.iter().any(|b| b.eq_ignore_ascii_case(f)) && model.name(Some(sheet), f).is_none()
    });
    out
}

/// Is this (a defined name's formula) a LAMBDA, or an expression that gives one?
fn is_lambda_expr(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(inner) => is_lambda_expr(inner),
        ExprKind::Call { name, args } if name == "LET" => args.last().is_some_and(is_lambda_expr),
        ExprKind::Call { name, .. } => name == "LAMBDA",
        _ => false,
    }
}

mod groupby;

#[cfg(test)]
mod tests;
