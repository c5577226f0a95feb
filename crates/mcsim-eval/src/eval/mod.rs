//! The scalar evaluator: the whole formula language with Excel's semantics.
//!
//! It evaluates one cell at a time over [`Value`]s and is used for the parts of a model that are
//! computed once (everything that does not depend on an uncertain input) and for `parse --recalc`.
//! Cells are visited in dependency order (see [`crate::graph`]); a reference that static analysis
//! could not see (OFFSET, INDIRECT) is evaluated on demand, with a guard against cycles.

use crate::functions::{self, Context, Lift};
use crate::model::{Area, CellId, Model, SheetId};
use crate::ops;
use crate::sites::{SiteKey, SiteKind, SiteTable};
use crate::value::{Array, Value, compare};
use lambda::Local;
use mcsim_formula::{
    BinaryOp, Bounds, ErrorKind, Expr, ExprKind, MAX_COLS, MAX_ROWS, PostfixOp, RefKind, UnaryOp,
};
use std::collections::HashMap;
use std::sync::Arc;

mod lambda;

pub use lambda::{MAX_LAMBDA_DEPTH, unsupported_calls};

pub use crate::functions::{Arg, Ctx};
pub use crate::ops::{arith, binary_op, broadcast2, pow};

/// `^` for the block program: Excel's rules, an error as NaN.
#[inline]
pub fn pow_kernel(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    pow(x, y).unwrap_or(f64::NAN)
}

/// The result of an array formula's anchor: a value (array or scalar), or a reference whose cells
/// are read one by one (so `{=Sheet1!1:1}` over a whole row costs nothing for unused cells).
#[derive(Debug, Clone)]
enum ArrayResult {
    Value(Value),
    Area(Area),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Done,
    Pending,
    InProgress,
}

#[derive(Debug, Clone, Copy)]
struct Pos {
    sheet: SheetId,
    row: u32,
    col: u32,
    array_mode: bool,
}

/// Evaluates a [`Model`]'s formulas.
pub struct Evaluator<'m> {
    model: &'m Model,
    values: Vec<Value>,
    state: Vec<State>,
    array_results: HashMap<CellId, ArrayResult>,
    /// LET and LAMBDA variables in scope, innermost last.
    locals: Vec<(String, Local)>,
    /// Nested LAMBDA calls being evaluated.
    lambda_depth: u32,
    pos: Pos,
    ret_ref: Option<Arg>,
    rng_state: u64,
    depth: u32,
    /// Cells found inside a circular reference while evaluating.
    pub circular: Vec<CellId>,
    /// In a simulation: the random call sites and this iteration's value of each.
    sites: Option<Arc<SiteTable>>,
    site_values: Vec<f64>,
    /// Offset in the formula text of the function call being evaluated (for [`SiteTable`]).
    call_offset: u32,
    /// After a simulation: the simulated values that statistics functions (`RiskMean`) read.
    results: Option<Arc<dyn SimResults>>,
    /// Which simulation of a `RiskSimtable` run (0 for the first).
    simulation: usize,
}

/// The simulated values of tracked cells, for @RISK's statistics functions in cells.
pub trait SimResults: Send + Sync {
    /// The cell's values over the iterations, sorted ascending, error iterations left out; and
    /// the number of error iterations. `None` when the cell was not tracked.
    fn sorted(&self, cell: CellId) -> Option<(&[f64], usize)>;
}

/// The evaluator's side of [`Context`]: what functions see of it.
struct EvalCtx<'e, 'm> {
    ev: &'e mut Evaluator<'m>,
}

const MAX_DEPTH: u32 = 4_000;

impl<'m> Evaluator<'m> {
    /// An evaluator with every formula cell pending and constants in place.
    pub fn new(model: &'m Model) -> Self {
        let mut values = Vec::with_capacity(model.cells.len());
        let mut state = Vec::with_capacity(model.cells.len());
        for c in &model.cells {
            if c.formula.is_some() {
                values.push(Value::Number(0.0));
                state.push(State::Pending);
            } else {
                values.push(c.stored.clone());
                state.push(State::Done);
            }
        }
        Evaluator {
            model,
            values,
            state,
            array_results: HashMap::new(),
            locals: Vec::new(),
            lambda_depth: 0,
            pos: Pos {
                sheet: 0,
                row: 0,
                col: 0,
                array_mode: false,
            },
            ret_ref: None,
            rng_state: 0x9E37_79B9_7F4A_7C15,
            depth: 0,
            circular: Vec::new(),
            sites: None,
            site_values: Vec::new(),
            call_offset: 0,
            results: None,
            simulation: 0,
        }
    }

    /// After a simulation: statistics functions in cells read these values.
    pub fn set_results(&mut self, results: Arc<dyn SimResults>) {
        self.results = Some(results);
    }

    /// Selects the simulation of a `RiskSimtable` run (0-based): `RiskSimtable(values)` takes
    /// its value number `k`.
    pub fn set_simulation(&mut self, k: usize) {
        self.simulation = k;
    }

    /// In a simulation: from now on the calls listed in `table` take their values from
    /// [`Evaluator::site_values_mut`] instead of drawing or showing their mean.
    pub fn set_sites(&mut self, table: Arc<SiteTable>) {
        self.site_values = vec![0.0; table.len()];
        self.sites = Some(table);
    }

    /// This iteration's value of each site (see [`Evaluator::set_sites`]).
    pub fn site_values_mut(&mut self) -> &mut [f64] {
        &mut self.site_values
    }

    /// The model.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Seeds RAND() (recalculation without a simulation still needs some value).
    pub fn seed_rand(&mut self, seed: u64) {
        self.rng_state = seed ^ 0x9E37_79B9_7F4A_7C15;
    }

    /// Replaces a cell's value (a what-if override or a sampled input): the cell is no longer
    /// computed from its formula.
    pub fn set_value(&mut self, cell: CellId, v: Value) {
        if let Some(slot) = self.values.get_mut(cell as usize) {
            *slot = v;
            self.state[cell as usize] = State::Done;
        }
    }

    /// A copy of this evaluator's state (values computed so far), for another thread.
    pub fn fork(&self) -> Evaluator<'m> {
        Evaluator {
            model: self.model,
            values: self.values.clone(),
            state: self.state.clone(),
            array_results: self.array_results.clone(),
            locals: Vec::new(),
            lambda_depth: 0,
            pos: self.pos,
            ret_ref: None,
            rng_state: self.rng_state,
            depth: 0,
            circular: Vec::new(),
            sites: self.sites.clone(),
            site_values: self.site_values.clone(),
            call_offset: 0,
            results: self.results.clone(),
            simulation: self.simulation,
        }
    }

    /// Marks these formula cells pending again (the cone of a simulation, per iteration).
    pub fn reset_cells(&mut self, cells: &[CellId]) {
        for &c in cells {
            if self.model.cells[c as usize].formula.is_some() {
                self.state[c as usize] = State::Pending;
            }
        }
    }

    /// Marks every formula cell pending again (except overridden ones, given in `keep`).
    pub fn reset(&mut self, keep: &[CellId]) {
        for (i, c) in self.model.cells.iter().enumerate() {
            if c.formula.is_some() {
                self.state[i] = State::Pending;
            }
        }
        for &k in keep {
            self.state[k as usize] = State::Done;
        }
        self.array_results.clear();
    }

    /// Evaluates the given cells in order (a dependency order keeps recursion shallow), then any
    /// formula cell still pending.
    pub fn run(&mut self, order: &[CellId]) {
        for &c in order {
            self.eval_cell(c);
        }
        for c in 0..self.model.cells.len() as u32 {
            if self.state[c as usize] == State::Pending {
                self.eval_cell(c);
            }
        }
    }

    /// Recalculates circular references by iteration, as Excel does with iterative calculation
    /// (up to `max_iterations` passes over the cycles' cells, until no numeric value changes by
    /// more than `max_change`). Each pass reads the previous pass's values where a cell is
    /// still being computed. Returns the passes made and whether the values settled.
    pub fn iterate_cycles(
        &mut self,
        cycles: &[Vec<CellId>],
        max_iterations: u32,
        max_change: f64,
    ) -> (u32, bool) {
        let cells: Vec<CellId> = cycles.iter().flatten().copied().collect();
        if cells.is_empty() {
            return (0, true);
        }
        let mut before: Vec<Value> = cells
            .iter()
            .map(|&c| self.values[c as usize].clone())
            .collect();
        for pass in 1..=max_iterations {
            self.reset_cells(&cells);
            for &c in &cells {
                self.eval_cell(c);
            }
            let mut settled = true;
            for (b, &c) in before.iter_mut().zip(&cells) {
                let now = &self.values[c as usize];
                let same = match (&*b, now) {
                    (Value::Number(x), Value::Number(y)) => (x - y).abs() <= max_change,
                    (x, y) => x == y,
                };
                if !same {
                    settled = false;
                    *b = now.clone();
                }
            }
            if settled {
                return (pass, true);
            }
        }
        (max_iterations, false)
    }

    /// The current value of a cell (evaluating it first if needed).
    pub fn value(&mut self, cell: CellId) -> &Value {
        self.eval_cell(cell);
        &self.values[cell as usize]
    }

    /// All cell values (index = [`CellId`]).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Evaluates a cell if it is pending.
    pub fn eval_cell(&mut self, cell: CellId) {
        let idx = cell as usize;
        match self.state.get(idx) {
            Some(State::Pending) => {}
            Some(State::InProgress) => {
                if !self.circular.contains(&cell) {
                    self.circular.push(cell);
                }
                return;
            }
            _ => return,
        }
        if self.depth > MAX_DEPTH {
            // Far too deep for the stack: leave it for the outer loop, which follows dependency order.
            return;
        }
        self.state[idx] = State::InProgress;
        self.depth += 1;
        let saved = self.pos;
        // A cell read on demand from inside a LET or a LAMBDA sees none of their variables.
        let saved_locals = std::mem::take(&mut self.locals);
        let saved_lambda = std::mem::replace(&mut self.lambda_depth, 0);
        let data = &self.model.cells[idx];
        let v = match data.formula {
            Some(fid) => {
                let f = &self.model.formulas[fid as usize];
                self.pos = Pos {
                    sheet: data.sheet,
                    row: data.row,
                    col: data.col,
                    array_mode: f.array.is_some(),
                };
                match f.array {
                    Some(part) => {
                        if part.anchor == cell {
                            let r = match &f.expr {
                                Ok(e) => match self.eval(e) {
                                    Arg::Ref(area) => ArrayResult::Area(area),
                                    other => ArrayResult::Value(self.deref_array(other)),
                                },
                                Err(_) => ArrayResult::Value(Value::Error(ErrorKind::Name)),
                            };
                            self.array_results.insert(cell, r);
                        } else {
                            self.eval_cell(part.anchor);
                        }
                        let whole = self
                            .array_results
                            .get(&part.anchor)
                            .cloned()
                            .unwrap_or(ArrayResult::Value(Value::Error(ErrorKind::Na)));
                        let (dr, dc) = (
                            (data.row - part.range.r1) as usize,
                            (data.col - part.range.c1) as usize,
                        );
                        let el = match whole {
                            ArrayResult::Value(Value::Array(a)) => a.get_broadcast(dr, dc),
                            ArrayResult::Value(v) => v,
                            ArrayResult::Area(area) => {
                                let b = area.bounds;
                                // A single row or column repeats, like an array; beyond the area is #N/A.
                                let r = if b.r1 == b.r2 {
                                    b.r1 as usize
                                } else {
                                    b.r1 as usize + dr
                                };
                                let c = if b.c1 == b.c2 {
                                    b.c1 as usize
                                } else {
                                    b.c1 as usize + dc
                                };
                                if r > b.r2 as usize || c > b.c2 as usize {
                                    Value::Error(ErrorKind::Na)
                                } else {
                                    self.cell_value(area.sheet, r as u32, c as u32)
                                }
                            }
                        };
                        finalize(el)
                    }
                    None => match &f.expr {
                        Ok(e) => {
                            let a = self.eval(e);
                            let v = self.deref_scalar(a);
                            finalize(v.first())
                        }
                        Err(_) => Value::Error(ErrorKind::Name),
                    },
                }
            }
            None => data.stored.clone(),
        };
        self.pos = saved;
        self.locals = saved_locals;
        self.lambda_depth = saved_lambda;
        self.depth -= 1;
        self.values[idx] = v;
        self.state[idx] = State::Done;
    }

    fn cell_value(&mut self, sheet: SheetId, row: u32, col: u32) -> Value {
        match self.model.find(sheet, row, col) {
            Some(id) => {
                self.eval_cell(id);
                self.values[id as usize].clone()
            }
            None => Value::Empty,
        }
    }

    /// Evaluates an expression at the given position (used for defined names and tests).
    pub fn eval_at(
        &mut self,
        e: &Expr,
        sheet: SheetId,
        row: u32,
        col: u32,
        array_mode: bool,
    ) -> Value {
        let saved = self.pos;
        self.pos = Pos {
            sheet,
            row,
            col,
            array_mode,
        };
        let a = self.eval(e);
        let v = if array_mode {
            self.deref_array(a)
        } else {
            self.deref_scalar(a)
        };
        self.pos = saved;
        v
    }

    fn deref_scalar(&mut self, a: Arg) -> Value {
        match a {
            Arg::Value(v) => v,
            Arg::Ref(area) => EvalCtx { ev: self }.intersect(area),
            Arg::Union(_) => Value::Error(ErrorKind::Value),
        }
    }

    fn deref_array(&mut self, a: Arg) -> Value {
        match a {
            Arg::Value(v) => v,
            Arg::Ref(area) => {
                if area.bounds.r1 == area.bounds.r2 && area.bounds.c1 == area.bounds.c2 {
                    self.cell_value(area.sheet, area.bounds.r1, area.bounds.c1)
                } else {
                    Value::Array(Arc::new(EvalCtx { ev: self }.area_array(area)))
                }
            }
            Arg::Union(_) => Value::Error(ErrorKind::Value),
        }
    }

    /// A reference or value read as a value in the current mode.
    fn operand(&mut self, a: Arg) -> Value {
        if self.pos.array_mode {
            self.deref_array(a)
        } else {
            self.deref_scalar(a)
        }
    }

    fn eval_value(&mut self, e: &Expr) -> Value {
        let a = self.eval(e);
        self.operand(a)
    }

    fn resolve_sheet(&self, sheet: &Option<String>) -> Option<SheetId> {
        match sheet {
            None => Some(self.pos.sheet),
            Some(name) => self.model.sheet_id(name),
        }
    }

    /// Evaluates an expression to an argument (a reference stays a reference).
    pub(crate) fn eval(&mut self, e: &Expr) -> Arg {
        match &e.kind {
            ExprKind::Number(n) => Arg::Value(Value::Number(*n)),
            ExprKind::Text(s) => Arg::Value(Value::Text(Arc::from(s.as_str()))),
            ExprKind::Bool(b) => Arg::Value(Value::Bool(*b)),
            ExprKind::Error(k) => Arg::Value(Value::Error(*k)),
            ExprKind::Missing => Arg::Value(Value::Empty),
            ExprKind::Paren(inner) => self.eval(inner),
            ExprKind::Array(rows) => {
                let cols = rows.first().map_or(0, Vec::len);
                let mut data = Vec::with_capacity(rows.len() * cols);
                for el in rows.iter().flatten() {
                    data.push(self.eval_value(el));
                }
                Arg::Value(Value::Array(Arc::new(Array::new(rows.len(), cols, data))))
            }
            ExprKind::Ref(r) => match self.resolve_sheet(&r.sheet) {
                Some(sheet) => Arg::Ref(Area {
                    sheet,
                    bounds: r.bounds(),
                }),
                None => Arg::Value(Value::Error(ErrorKind::Ref)),
            },
            ExprKind::Name { sheet, name } => self.eval_name(sheet, name),
            // Resolved when the model is built (`Expr::resolve`); one left over names no table.
            ExprKind::Structured(_) => Arg::Value(Value::Error(ErrorKind::Ref)),
            ExprKind::Unary { op, expr } => {
                let v = self.eval_value(expr);
                let r = ops::map1(&v, &|x| match op {
                    UnaryOp::Plus => x.clone(),
                    UnaryOp::Neg => match x.to_number() {
                        Ok(n) => Value::Number(-n),
                        Err(e) => Value::Error(e),
                    },
                });
                Arg::Value(r)
            }
            ExprKind::Postfix {
                op: PostfixOp::Percent,
                expr,
            } => {
                let v = self.eval_value(expr);
                Arg::Value(ops::map1(&v, &|x| match x.to_number() {
                    Ok(n) => Value::Number(n / 100.0),
                    Err(e) => Value::Error(e),
                }))
            }
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinaryOp::Range | BinaryOp::Intersect | BinaryOp::Union => {
                    let a = self.eval(lhs);
                    let b = self.eval(rhs);
                    ref_op(*op, a, b)
                }
                _ => {
                    let a = self.eval_value(lhs);
                    let b = self.eval_value(rhs);
                    Arg::Value(binary_op(*op, &a, &b))
                }
            },
            ExprKind::Call { name, args } => {
                let saved = self.call_offset;
                self.call_offset = e.span.start;
                let r = self.call(name, args);
                self.call_offset = saved;
                r
            }
            ExprKind::Invoke { .. } => Self::local_arg(self.eval_local(e)),
        }
    }

    fn eval_name(&mut self, sheet: &Option<String>, name: &str) -> Arg {
        if sheet.is_none()
            && let Some(v) = self.local(name)
        {
            return Self::local_arg(v.clone());
        }
        let scope = match sheet {
            Some(s) => match self.model.sheet_id(s) {
                Some(id) => Some(id),
                None => return Arg::Value(Value::Error(ErrorKind::Ref)),
            },
            None => Some(self.pos.sheet),
        };
        let model = self.model;
        match model.name(scope, name) {
            Some(n) => match &n.expr {
                Ok(e) => {
                    if self.depth > MAX_DEPTH {
                        return Arg::Value(Value::Error(ErrorKind::Ref));
                    }
                    self.depth += 1;
                    let r = self.eval(e);
                    self.depth -= 1;
                    r
                }
                Err(_) => Arg::Value(Value::Error(ErrorKind::Name)),
            },
            None => Arg::Value(Value::Error(ErrorKind::Name)),
        }
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> Arg {
        // A LET or LAMBDA variable holding a LAMBDA: `LET(f,LAMBDA(x,x*2),f(3))`.
        if !self.locals.is_empty()
            && let Some(l) = self.call_user(name, args, false)
        {
            return Self::local_arg(l);
        }
        if self.lambda_depth > 0
            && self.sites.is_some()
            && (matches!(name, "RAND" | "RANDBETWEEN" | "RANDARRAY")
                || crate::risk_names::is_distribution(name))
        {
            // A random call inside a LAMBDA is drawn once per call in Excel; the simulation has
            // one value per call site and iteration, so it would repeat one draw: an error
            // rather than a wrong distribution.
            return Arg::Value(Value::Error(ErrorKind::Calc));
        }
        match name {
            "IF" => return self.special_if(args),
            "IFERROR" | "IFNA" => return self.special_iferror(name == "IFNA", args),
            "IFS" => return self.special_ifs(args),
            "CHOOSE" => return self.special_choose(args),
            "SWITCH" => return self.special_switch(args),
            "LET" => return Self::local_arg(self.let_local(args)),
            _ if lambda::is_lambda_form(name) => return self.lambda_form(name, args),
            _ => {}
        }
        let Some(spec) = functions::lookup(name) else {
            // A defined name whose formula is a LAMBDA: `=CAL_MONTH(3)`.
            return match self.call_user(name, args, true) {
                Some(l) => Self::local_arg(l),
                None => Arg::Value(Value::Error(ErrorKind::Name)),
            };
        };
        if args.len() < spec.min_args as usize
            || (spec.max_args != functions::VARIADIC && args.len() > spec.max_args as usize)
        {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        let mut vals: Vec<Arg> = Vec::with_capacity(args.len());
        let mut lifted_shape: Option<(usize, usize)> = None;
        // Parameters that take arrays are evaluated as arrays even in an ordinary formula
        // (`SUMPRODUCT((A1:A4>1)*B1:B4)`), as Excel does; a plain reference stays a reference.
        let saved_mode = self.pos.array_mode;
        let array_args = takes_arrays(name);
        for (i, a) in args.iter().enumerate() {
            if array_args && !spec.lift.is_scalar(i) {
                self.pos.array_mode = true;
            }
            let arg = self.eval(a);
            self.pos.array_mode = saved_mode;
            if spec.lift.is_scalar(i) && !matches!(a.kind, ExprKind::Missing) {
                let v = self.operand(arg);
                if let Value::Array(arr) = &v {
                    let (r, c) = lifted_shape.unwrap_or((1, 1));
                    lifted_shape = Some((r.max(arr.rows), c.max(arr.cols)));
                }
                vals.push(Arg::Value(v));
            } else {
                vals.push(arg);
            }
        }
        if let (Some((rows, cols)), true) = (lifted_shape, spec.lift != Lift::None) {
            let mut data = Vec::with_capacity(rows * cols);
            let mut scalar_args = vals.clone();
            for r in 0..rows {
                for c in 0..cols {
                    for (i, v) in vals.iter().enumerate() {
                        if let Arg::Value(Value::Array(arr)) = v
                            && spec.lift.is_scalar(i)
                        {
                            scalar_args[i] = Arg::Value(arr.get_broadcast(r, c));
                        }
                    }
                    let v = self.invoke(spec.imp, &scalar_args);
                    data.push(match v {
                        Arg::Value(v) => v.first(),
                        other => self.deref_scalar(other),
                    });
                }
            }
            return Arg::Value(Value::Array(Arc::new(Array::new(rows, cols, data))));
        }
        self.invoke(spec.imp, &vals)
    }

    fn invoke(&mut self, imp: functions::FnImpl, args: &[Arg]) -> Arg {
        self.ret_ref = None;
        let v = imp(&mut EvalCtx { ev: self }, args);
        match self.ret_ref.take() {
            Some(r) => r,
            None => Arg::Value(v),
        }
    }

    fn special_if(&mut self, args: &[Expr]) -> Arg {
        if args.is_empty() || args.len() > 3 {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        let cond = self.eval_value(&args[0]);
        if let Value::Array(c) = &cond {
            let t = args
                .get(1)
                .map(|e| self.eval_value(e))
                .unwrap_or(Value::Bool(true));
            let f = match args.get(2) {
                Some(e) => self.eval_value(e),
                None => Value::Bool(false),
            };
            let (rows, cols) = shape3(c, &t, &f);
            let mut data = Vec::with_capacity(rows * cols);
            for r in 0..rows {
                for col in 0..cols {
                    let cv = c.get_broadcast(r, col);
                    data.push(match cv.to_bool() {
                        Ok(true) => pick(&t, r, col),
                        Ok(false) => pick(&f, r, col),
                        Err(e) => Value::Error(e),
                    });
                }
            }
            return Arg::Value(Value::Array(Arc::new(Array::new(rows, cols, data))));
        }
        match cond.to_bool() {
            Err(e) => Arg::Value(Value::Error(e)),
            Ok(true) => match args.get(1) {
                Some(e) if matches!(e.kind, ExprKind::Missing) => Arg::Value(Value::Number(0.0)),
                Some(e) => self.eval(e),
                None => Arg::Value(Value::Bool(true)),
            },
            Ok(false) => match args.get(2) {
                Some(e) if matches!(e.kind, ExprKind::Missing) => Arg::Value(Value::Number(0.0)),
                Some(e) => self.eval(e),
                None => Arg::Value(Value::Bool(false)),
            },
        }
    }

    fn special_iferror(&mut self, na_only: bool, args: &[Expr]) -> Arg {
        if args.len() != 2 {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        let catches = |v: &Value| match v {
            Value::Error(ErrorKind::Na) => true,
            Value::Error(_) => !na_only,
            _ => false,
        };
        let first = self.eval(&args[0]);
        let v = self.operand(first.clone());
        match &v {
            Value::Array(a) => {
                if !a.data.iter().any(catches) {
                    return Arg::Value(v);
                }
                let alt = self.eval_value(&args[1]);
                let data = (0..a.rows)
                    .flat_map(|r| (0..a.cols).map(move |c| (r, c)))
                    .map(|(r, c)| {
                        let x = a.get_broadcast(r, c);
                        if catches(&x) { pick(&alt, r, c) } else { x }
                    })
                    .collect();
                Arg::Value(Value::Array(Arc::new(Array::new(a.rows, a.cols, data))))
            }
            _ if catches(&v) => {
                let alt = self.eval(&args[1]);
                match alt {
                    Arg::Value(Value::Empty) => Arg::Value(Value::Number(0.0)),
                    a => a,
                }
            }
            Value::Empty if !matches!(first, Arg::Value(_)) => Arg::Value(Value::Number(0.0)),
            _ => match first {
                Arg::Ref(_) if !self.pos.array_mode => Arg::Value(v),
                other => other,
            },
        }
    }

    fn special_ifs(&mut self, args: &[Expr]) -> Arg {
        if args.len() < 2 || !args.len().is_multiple_of(2) {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        for pair in args.chunks(2) {
            let c = self.eval_value(&pair[0]);
            match c.first().to_bool() {
                Err(e) => return Arg::Value(Value::Error(e)),
                Ok(true) => return self.eval(&pair[1]),
                Ok(false) => {}
            }
        }
        Arg::Value(Value::Error(ErrorKind::Na))
    }

    fn special_choose(&mut self, args: &[Expr]) -> Arg {
        if args.len() < 2 {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        let idx = self.eval_value(&args[0]);
        if let Value::Array(a) = &idx {
            let choices: Vec<Value> = args[1..].iter().map(|e| self.eval_value(e)).collect();
            let data = a
                .data
                .iter()
                .enumerate()
                .map(|(k, iv)| match iv.to_number() {
                    Ok(n) if n >= 1.0 && (n as usize) <= choices.len() => {
                        pick(&choices[n as usize - 1], k / a.cols, k % a.cols)
                    }
                    Ok(_) => Value::Error(ErrorKind::Value),
                    Err(e) => Value::Error(e),
                })
                .collect();
            return Arg::Value(Value::Array(Arc::new(Array::new(a.rows, a.cols, data))));
        }
        match idx.to_number() {
            Err(e) => Arg::Value(Value::Error(e)),
            Ok(n) => {
                let i = n.trunc();
                if i < 1.0 || i as usize >= args.len() {
                    Arg::Value(Value::Error(ErrorKind::Value))
                } else {
                    match self.eval(&args[i as usize]) {
                        Arg::Value(Value::Empty) => Arg::Value(Value::Number(0.0)),
                        a => a,
                    }
                }
            }
        }
    }

    fn special_switch(&mut self, args: &[Expr]) -> Arg {
        if args.len() < 3 {
            return Arg::Value(Value::Error(ErrorKind::Value));
        }
        let v = self.eval_value(&args[0]).first();
        if let Value::Error(e) = v {
            return Arg::Value(Value::Error(e));
        }
        let rest = &args[1..];
        let pairs = rest.len() / 2;
        for k in 0..pairs {
            let c = self.eval_value(&rest[2 * k]).first();
            if let Value::Error(e) = c {
                return Arg::Value(Value::Error(e));
            }
            if std::mem::discriminant(&c) == std::mem::discriminant(&v)
                && compare(&c, &v) == std::cmp::Ordering::Equal
            {
                return self.eval(&rest[2 * k + 1]);
            }
        }
        if !rest.len().is_multiple_of(2) {
            self.eval(&rest[rest.len() - 1])
        } else {
            Arg::Value(Value::Error(ErrorKind::Na))
        }
    }

    fn next_random(&mut self) -> f64 {
        // splitmix64: only for RAND() outside a simulation, where any uniform will do.
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Functions whose array parameters are evaluated in array mode.
fn takes_arrays(name: &str) -> bool {
    matches!(
        name,
        "SUMPRODUCT"
            | "MMULT"
            | "MDETERM"
            | "MINVERSE"
            | "SUMX2MY2"
            | "SUMX2PY2"
            | "SUMXMY2"
            | "FREQUENCY"
            | "TRANSPOSE"
            | "LOOKUP"
            | "MATCH"
            | "XMATCH"
            | "XLOOKUP"
            | "INDEX"
            | "CORREL"
            | "PEARSON"
            | "RSQ"
            | "SLOPE"
            | "INTERCEPT"
            | "STEYX"
            | "COVAR"
            | "COVARIANCE.P"
            | "COVARIANCE.S"
            | "FILTER"
            | "SORT"
            | "SORTBY"
            | "UNIQUE"
            | "TEXTJOIN"
            | "CONCAT"
            | "AGGREGATE"
    )
}

/// A formula's final value: an empty result shows as 0.
fn finalize(v: Value) -> Value {
    match v {
        Value::Empty => Value::Number(0.0),
        Value::Number(n) if !n.is_finite() => Value::Error(ErrorKind::Num),
        v => v,
    }
}

fn pick(v: &Value, r: usize, c: usize) -> Value {
    match v {
        Value::Array(a) => a.get_broadcast(r, c),
        v => v.clone(),
    }
}

fn dims(v: &Value) -> (usize, usize) {
    match v {
        Value::Array(a) => (a.rows, a.cols),
        _ => (1, 1),
    }
}

fn shape3(c: &Array, t: &Value, f: &Value) -> (usize, usize) {
    let (tr, tc) = dims(t);
    let (fr, fc) = dims(f);
    (c.rows.max(tr).max(fr), c.cols.max(tc).max(fc))
}

fn ref_op(op: BinaryOp, a: Arg, b: Arg) -> Arg {
    let areas = |x: &Arg| -> Option<Vec<Area>> {
        match x {
            Arg::Ref(a) => Some(vec![*a]),
            Arg::Union(u) => Some(u.to_vec()),
            _ => None,
        }
    };
    if let Arg::Value(Value::Error(e)) = a {
        return Arg::Value(Value::Error(e));
    }
    if let Arg::Value(Value::Error(e)) = b {
        return Arg::Value(Value::Error(e));
    }
    let (Some(x), Some(y)) = (areas(&a), areas(&b)) else {
        return Arg::Value(Value::Error(ErrorKind::Value));
    };
    match op {
        BinaryOp::Union => Arg::Union(x.into_iter().chain(y).collect()),
        BinaryOp::Range => {
            let all: Vec<Area> = x.into_iter().chain(y).collect();
            let sheet = all[0].sheet;
            if all.iter().any(|a| a.sheet != sheet) {
                return Arg::Value(Value::Error(ErrorKind::Ref));
            }
            let mut b = all[0].bounds;
            for a in &all[1..] {
                b.r1 = b.r1.min(a.bounds.r1);
                b.c1 = b.c1.min(a.bounds.c1);
                b.r2 = b.r2.max(a.bounds.r2);
                b.c2 = b.c2.max(a.bounds.c2);
            }
            Arg::Ref(Area { sheet, bounds: b })
        }
        _ => {
            let mut out = Vec::new();
            for p in &x {
                for q in &y {
                    if p.sheet != q.sheet {
                        continue;
                    }
                    let b = Bounds {
                        r1: p.bounds.r1.max(q.bounds.r1),
                        c1: p.bounds.c1.max(q.bounds.c1),
                        r2: p.bounds.r2.min(q.bounds.r2),
                        c2: p.bounds.c2.min(q.bounds.c2),
                    };
                    if b.r1 <= b.r2 && b.c1 <= b.c2 {
                        out.push(Area {
                            sheet: p.sheet,
                            bounds: b,
                        });
                    }
                }
            }
            match out.len() {
                0 => Arg::Value(Value::Error(ErrorKind::Null)),
                1 => Arg::Ref(out[0]),
                _ => Arg::Union(out.into()),
            }
        }
    }
}

impl<'m> Context<'m> for EvalCtx<'_, 'm> {
    /// The model being evaluated.
    fn model(&self) -> &'m Model {
        self.ev.model
    }

    /// `true` for the 1904 date system.
    fn date1904(&self) -> bool {
        self.ev.model.date1904
    }

    /// The calling cell: sheet, zero-based row and column.
    fn position(&self) -> (SheetId, u32, u32) {
        (self.ev.pos.sheet, self.ev.pos.row, self.ev.pos.col)
    }

    /// `true` inside an array formula.
    fn array_mode(&self) -> bool {
        self.ev.pos.array_mode
    }

    /// A uniform random number in [0, 1): in a simulation, the value of this call's site; outside
    /// one, any uniform.
    fn random(&mut self) -> f64 {
        match self.site() {
            Some((u, SiteKind::Rand)) => u,
            _ => self.ev.next_random(),
        }
    }

    /// After a simulation, the simulated values of a tracked cell (see [`SimResults`]).
    fn results(&self, cell: CellId) -> Option<(&[f64], usize)> {
        self.ev.results.as_ref()?.sorted(cell)
    }

    /// Were simulation results given (see [`Evaluator::set_results`])?
    fn has_results(&self) -> bool {
        self.ev.results.is_some()
    }

    /// Which simulation of a `RiskSimtable` run this is (0-based).
    fn simulation(&self) -> usize {
        self.ev.simulation
    }

    /// In a simulation, the site of the function call being evaluated: this iteration's value and
    /// what it is (see [`crate::sites`]).
    fn site(&self) -> Option<(f64, &SiteKind)> {
        let table = self.ev.sites.as_ref()?;
        let key = SiteKey {
            sheet: self.ev.pos.sheet,
            row: self.ev.pos.row,
            col: self.ev.pos.col,
            offset: self.ev.call_offset,
        };
        let (j, kind) = table.get(&key)?;
        Some((*self.ev.site_values.get(j)?, kind))
    }

    /// Makes the function return a reference instead of a value (INDEX, OFFSET, INDIRECT). Return
    /// the result of this call from the implementation.
    fn reference(&mut self, area: Area) -> Value {
        if area.bounds.r2 >= MAX_ROWS
            || area.bounds.c2 >= MAX_COLS
            || area.sheet as usize >= self.ev.model.sheets.len()
        {
            return Value::Error(ErrorKind::Ref);
        }
        self.ev.ret_ref = Some(Arg::Ref(area));
        Value::Empty
    }

    /// The value of one cell.
    fn cell(&mut self, sheet: SheetId, row: u32, col: u32) -> Value {
        self.ev.cell_value(sheet, row, col)
    }

    /// Visits the stored cells of an area row by row: `f(row, col, value)`. Empty cells are skipped.
    fn visit_area(&mut self, area: Area, f: &mut dyn FnMut(u32, u32, &Value)) {
        let model = self.ev.model;
        let Some(sheet) = model.sheets.get(area.sheet as usize) else {
            return;
        };
        let b = area.bounds;
        let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
        if sheet.columns.is_empty() || b.c1 > c2 {
            return;
        }
        let mut cells: Vec<(u32, u32, CellId)> = Vec::new();
        for c in b.c1..=c2 {
            for &(r, id) in sheet.column_slice(c, b.r1, b.r2) {
                cells.push((r, c, id));
            }
        }
        if b.c1 != c2 {
            cells.sort_unstable_by_key(|&(r, c, _)| (r, c));
        }
        for (r, c, id) in cells {
            self.ev.eval_cell(id);
            let v = &self.ev.values[id as usize];
            if !v.is_empty() {
                f(r, c, v);
            }
        }
    }

    /// The area as a dense array. An area spanning whole rows or columns is clipped to the used
    /// part of the sheet, so `A:A` costs what the sheet holds, not a million cells.
    fn area_array(&mut self, area: Area) -> Array {
        let model = self.ev.model;
        let mut b = area.bounds;
        if let Some(sheet) = model.sheets.get(area.sheet as usize) {
            if b.r2 == MAX_ROWS - 1 {
                b.r2 = b.r2.min(sheet.used_rows.saturating_sub(1).max(b.r1));
            }
            if b.c2 == MAX_COLS - 1 {
                b.c2 =
                    b.c2.min((sheet.columns.len() as u32).saturating_sub(1).max(b.c1));
            }
        }
        let (rows, cols) = (b.rows() as usize, b.cols() as usize);
        let mut data = vec![Value::Empty; rows * cols];
        let clipped = Area {
            sheet: area.sheet,
            bounds: b,
        };
        self.visit_area(clipped, &mut |r, c, v| {
            data[(r - b.r1) as usize * cols + (c - b.c1) as usize] = v.clone();
        });
        Array::new(rows, cols, data)
    }

    /// Implicit intersection of an area with the calling cell's row or column.
    fn intersect(&mut self, area: Area) -> Value {
        let b = area.bounds;
        let (_, row, col) = self.position();
        if b.r1 == b.r2 && b.c1 == b.c2 {
            return self.cell(area.sheet, b.r1, b.c1);
        }
        if b.c1 == b.c2 && row >= b.r1 && row <= b.r2 {
            return self.cell(area.sheet, row, b.c1);
        }
        if b.r1 == b.r2 && col >= b.c1 && col <= b.c2 {
            return self.cell(area.sheet, b.r1, col);
        }
        Value::Error(ErrorKind::Value)
    }

    /// Resolves a sheet name (case-insensitive).
    fn sheet_id(&self, name: &str) -> Option<SheetId> {
        self.ev.model.sheet_id(name)
    }

    /// Parses and resolves reference text such as `Sheet2!B3:C4` or a defined name (INDIRECT).
    fn parse_reference(&mut self, text: &str) -> Option<Area> {
        let e = mcsim_formula::parse(text).ok()?;
        match self.ev.eval(&e) {
            Arg::Ref(a) => Some(a),
            _ => None,
        }
    }

    /// Evaluates an expression tree in the calling cell's context.
    fn eval_expr(&mut self, e: &Expr) -> Arg {
        self.ev.eval(e)
    }
}

/// Reference kinds are re-exported for function implementations.
pub type RefShape = RefKind;

#[cfg(test)]
mod tests;
