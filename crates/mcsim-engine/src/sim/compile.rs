//! Compiles the stochastic cone of a model into a [`Program`].
//!
//! Cells that depend on no uncertain input keep the values the scalar evaluator computed once;
//! subexpressions that touch no uncertain input are folded to constants with that same evaluator,
//! so Excel's full semantics apply to everything computed once. What remains is numeric code over
//! columns. A construct the compiler does not handle yet (text in the cone, lookups it cannot
//! specialise, OFFSET, ...) makes [`compile`] return [`Unsupported`], and the caller falls back to
//! evaluating the cone cell by cell per iteration with the scalar evaluator: slower, never wrong.

use super::inputs::{is_bookkeeping_sheet, is_distribution, statistic};
use super::program::{
    Arith, Cmp, Instr, Kernel1, Kernel2, Kernel3, Operand, Program, Reduce, RoundMode,
};
use super::sites::{Site, SiteKey, SiteKind};
use crate::eval::Evaluator;
use crate::graph::Graph;
use crate::model::{Area, Calls, CellId, Model};
use crate::value::Value;
use mcsim_formula::{BinaryOp, ErrorKind, Expr, ExprKind, PostfixOp, UnaryOp};
use mcsim_sampling::Modifiers;
use rustc_hash::FxHashMap as HashMap;
use std::hash::BuildHasher;

mod ranges;
mod typing;
mod value_key;
use typing::Ty;
use value_key::ValueKey;

/// Why the cone could not be compiled (the run then uses the interpreter).
#[derive(Debug, Clone, PartialEq)]
pub struct Unsupported {
    /// The cell.
    pub cell: String,
    /// What the compiler does not handle.
    pub what: String,
}

/// A compiled simulation.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The program, shared with the CPU backend's loaded copy ([`CpuBackend::load_shared`]):
    /// grid_20k's is 9 MB.
    ///
    /// [`CpuBackend::load_shared`]: super::backend::CpuBackend::load_shared
    pub program: std::sync::Arc<Program>,
    /// The slot each input's samples go into, in the order of the `inputs` given to [`compile`].
    pub input_slots: Vec<u32>,
    /// The slot of each random call site (in the order of the `sites` given to [`compile`]);
    /// `None` for a site the simulated part never reads.
    pub site_slots: Vec<Option<u32>>,
    /// Each output's value: a column, or a constant when the output does not depend on any input.
    pub outputs: Vec<Operand>,
}

/// Which cells depend on the inputs (directly, through formulas, or by calling RAND), with the
/// cells holding random call `sites` as further seeds. Cells in `fixed` (what-if overrides) and
/// cells on @RISK's bookkeeping sheets never count.
pub fn stochastic_cells(
    model: &Model,
    graph: &Graph,
    inputs: &[CellId],
    sites: &[Site],
    fixed: &[CellId],
) -> Vec<bool> {
    let mut seeds = vec![false; model.cells.len()];
    for &i in inputs {
        seeds[i as usize] = true;
    }
    // One pass over the formulas (a call of RAND seeds the cell; a statistic blocks it), without
    // collecting each formula's function names.
    let mut statistic_cells = Vec::new();
    for f in &model.formulas {
        // Without any of these calls, neither the walk below nor `random_in_names` (which, for
        // a cell's own text, looks only at calls of functions the library lacks) finds anything.
        if !f
            .calls
            .any(Calls::RANDOM.with(Calls::VENDOR).with(Calls::UNSUPPORTED))
        {
            continue;
        }
        let Ok(e) = &f.expr else { continue };
        let (mut random, mut stat) = (false, false);
        e.each_call(&mut |n| {
            random |= is_random(n);
            stat |= statistic(n).is_some();
        });
        if random || random_in_names(model, e, model.cells[f.cell as usize].sheet, 0) {
            seeds[f.cell as usize] = true;
        }
        if stat {
            statistic_cells.push(f.cell);
        }
    }
    for s in sites {
        if let Some(c) = model.find(s.key.sheet, s.key.row, s.key.col) {
            seeds[c as usize] = true;
        }
    }
    let bookkeeping: Vec<bool> = model
        .sheets
        .iter()
        .map(|s| is_bookkeeping_sheet(&s.name))
        .collect();
    let mut blocked = vec![false; model.cells.len()];
    for (b, c) in blocked.iter_mut().zip(&model.cells) {
        *b = bookkeeping[c.sheet as usize];
    }
    for &c in fixed {
        if let Some(b) = blocked.get_mut(c as usize) {
            *b = true;
        }
    }
    // `=RiskMean(B5)` reads B5's simulated values after the run, not B5 per iteration.
    for c in statistic_cells {
        blocked[c as usize] = true;
    }
    graph.downstream_except(model, &seeds, &blocked)
}

fn is_random(name: &str) -> bool {
    matches!(name, "RAND" | "RANDBETWEEN" | "RANDARRAY")
}

/// Does a LAMBDA name that the expression calls (`=MYDRAW(2)`), or a name its body reads, hold a
/// random or distribution call? Such a cell is stochastic although its own text draws nothing
/// (the evaluator answers `#CALC!` for a draw inside a LAMBDA in a simulation, never a frozen one).
fn random_in_names(model: &Model, e: &Expr, sheet: crate::model::SheetId, depth: u32) -> bool {
    if depth >= 16 {
        return false;
    }
    let mut hit = false;
    e.walk(&mut |n| {
        let (q, name) = match &n.kind {
            // A plain name read from a cell's own text is left as before (a draw in it is not a
            // call site either); inside a LAMBDA's body every name counts.
            ExprKind::Name { sheet: q, name } if depth > 0 => (q.as_deref(), name.as_str()),
            ExprKind::Call { name, .. } if !crate::functions::is_supported(name) => {
                (None, name.as_str())
            }
            _ => return,
        };
        let scope = match q {
            Some(s) => model.sheet_id(s),
            None => Some(sheet),
        };
        if let Some(nm) = model.name(scope, name)
            && let Ok(ne) = &nm.expr
        {
            let s = nm.scope.unwrap_or(sheet);
            hit |= ne
                .functions()
                .iter()
                .any(|f| is_random(f) || is_distribution(f))
                || random_in_names(model, ne, s, depth + 1);
        }
    });
    hit
}

struct Compiler<'a, 'm> {
    model: &'m Model,
    ev: &'a mut Evaluator<'m>,
    sto: &'a [bool],
    cell_op: HashMap<CellId, Operand>,
    instrs: Vec<Instr>,
    next: u32,
    /// Each site's column, and for a distribution whose parameters change per iteration, its
    /// truncation and shift.
    sites: HashMap<SiteKey, (usize, Option<Modifiers>)>,
    site_slots: Vec<Option<u32>>,
    /// Offset of the call being compiled (its site key).
    call_offset: u32,
    /// Compiling a single-cell array formula: a range in a scalar position is an array there.
    /// Compiling an element of an array formula: its (row, column) offset in the array's range.
    /// A range in a single-value position then gives that element (broadcast along a single
    /// row or column), as Excel evaluates array formulas element by element.
    elem: Option<(u32, u32)>,
    cur: CellId,
    /// Value numbering: an instruction already emitted with the same operation and operands
    /// (slots are single-assignment before allocation, so equal keys mean equal values), found
    /// by its key's hash: the index in `instrs` of the first instruction emitted with that hash.
    /// Keyed by the whole instruction (104 bytes), the map of grid_20k's 86,000 instructions took
    /// 16 MB of new pages and a tenth of preparing its run (perf, session 9); by hash, 2 MB.
    seen: HashMap<u64, u32>,
    /// The instructions whose key's hash an earlier, different instruction already has.
    seen_more: HashMap<ValueKey, Operand>,
    /// `x^n` already computed, by (base slot, n): the next power is one multiplication.
    powers: HashMap<(u32, i32), Operand>,
    /// The type of each stochastic cell compiled (absent: a number).
    cell_ty: HashMap<CellId, Ty>,
    /// Set when a subexpression folded to text: the cell is declined (text is not a column).
    folded_text: bool,
}

type R<T> = Result<T, String>;

/// Compiles the cone. `ev` must already hold the deterministic values (run once over the model);
/// `sto` is [`stochastic_cells`] of these inputs and sites (the caller needs it too, and on a
/// large model each pass over every formula counts).
pub fn compile<'m>(
    model: &'m Model,
    graph: &Graph,
    ev: &mut Evaluator<'m>,
    inputs: &[CellId],
    sites: &[Site],
    sto: &[bool],
    outputs: &[CellId],
) -> Result<Compiled, Unsupported> {
    let mut c = Compiler::new(model, ev, sto, sites);
    let mut input_slots = Vec::with_capacity(inputs.len());
    for &i in inputs {
        let s = c.slot();
        c.cell_op.insert(i, Operand::Slot(s));
        input_slots.push(s);
    }
    // Only the part of the cone that reaches the outputs is computed per iteration.
    let needed = graph.upstream(model, outputs, sto);
    for &cell in &graph.order {
        if !sto[cell as usize] || !needed[cell as usize] || c.cell_op.contains_key(&cell) {
            continue;
        }
        c.cur = cell;
        let op = c.cell(cell).map_err(|what| Unsupported {
            cell: model.cell_label(cell),
            what,
        })?;
        c.cell_op.insert(cell, op);
    }
    let mut outs = Vec::with_capacity(outputs.len());
    for &o in outputs {
        let op = match c.cell_op.get(&o) {
            Some(op) => *op,
            None => c.constant_of_cell(o),
        };
        outs.push(op);
    }
    let site_slots = c.site_slots.clone();
    let mut program = Program {
        instrs: c.instrs,
        slots: c.next,
    };
    let mut pinned: Vec<u32> = input_slots.clone();
    pinned.extend(site_slots.iter().flatten().copied());
    pinned.extend(outs.iter().filter_map(|o| match o {
        Operand::Slot(s) => Some(*s),
        _ => None,
    }));
    let remap = allocate(&mut program, &pinned);
    let map = |s: u32| remap[s as usize];
    Ok(Compiled {
        input_slots: input_slots.iter().map(|&s| map(s)).collect(),
        site_slots: site_slots.iter().map(|s| s.map(map)).collect(),
        outputs: outs
            .iter()
            .map(|o| match o {
                Operand::Slot(s) => Operand::Slot(map(*s)),
                k => *k,
            })
            .collect(),
        program: std::sync::Arc::new(program),
    })
}

/// Every cell of the cone the compiler declines, not only the first (for diagnostics and the
/// differential test): a declined cell is treated as an error column and compiling goes on.
pub fn unsupported_cells<'m>(
    model: &'m Model,
    graph: &Graph,
    ev: &mut Evaluator<'m>,
    inputs: &[CellId],
) -> Vec<(CellId, Unsupported)> {
    let sites = super::rand_sites(model);
    unsupported_cells_with(model, graph, ev, inputs, &sites, &[], None)
}

/// [`unsupported_cells`] for a simulation's inputs, sites and fixed cells; with `outputs`, only
/// the part of the cone that reaches them.
pub fn unsupported_cells_with<'m>(
    model: &'m Model,
    graph: &Graph,
    ev: &mut Evaluator<'m>,
    inputs: &[CellId],
    sites: &[Site],
    fixed: &[CellId],
    outputs: Option<&[CellId]>,
) -> Vec<(CellId, Unsupported)> {
    let mut sto = stochastic_cells(model, graph, inputs, sites, fixed);
    if let Some(outs) = outputs {
        sto = graph.upstream(model, outs, &sto);
        for &i in inputs {
            sto[i as usize] = true;
        }
    }
    let mut c = Compiler::new(model, ev, &sto, sites);
    for &i in inputs {
        let s = c.slot();
        c.cell_op.insert(i, Operand::Slot(s));
    }
    let mut out = Vec::new();
    for &cell in &graph.order {
        if !sto[cell as usize] || c.cell_op.contains_key(&cell) {
            continue;
        }
        c.cur = cell;
        let op = match c.cell(cell) {
            Ok(op) => op,
            Err(what) => {
                out.push((
                    cell,
                    Unsupported {
                        cell: model.cell_label(cell),
                        what,
                    },
                ));
                Operand::Const(f64::NAN)
            }
        };
        c.cell_op.insert(cell, op);
    }
    out
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Array(_) => num(&v.first()),
        Value::Error(_) | Value::Text(_) => f64::NAN,
        v => v.to_number().unwrap_or(f64::NAN),
    }
}

impl<'a, 'm> Compiler<'a, 'm> {
    fn new(model: &'m Model, ev: &'a mut Evaluator<'m>, sto: &'a [bool], sites: &[Site]) -> Self {
        let stochastic = sto.iter().filter(|&&s| s).count();
        Compiler {
            model,
            ev,
            sto,
            cell_op: HashMap::with_capacity_and_hasher(stochastic, Default::default()),
            // A few instructions per stochastic cell (grid_20k: 4.3). Reserved, not grown: a
            // reallocation copies every instruction so far, and the capacity never used is never
            // touched, so it costs no memory.
            instrs: Vec::with_capacity(5 * stochastic),
            next: 0,
            sites: sites
                .iter()
                .enumerate()
                .map(|(j, s)| {
                    let dynamic = match &s.kind {
                        SiteKind::Dynamic(d) => Some(d.modifiers),
                        _ => None,
                    };
                    (s.key, (j, dynamic))
                })
                .collect(),
            site_slots: vec![None; sites.len()],
            call_offset: 0,
            elem: None,
            cur: 0,
            // A few instructions per stochastic cell: sized once, not rehashed as it grows.
            seen: HashMap::with_capacity_and_hasher(4 * stochastic, Default::default()),
            seen_more: HashMap::default(),
            powers: HashMap::default(),
            cell_ty: HashMap::default(),
            folded_text: false,
        }
    }
}

impl Compiler<'_, '_> {
    fn slot(&mut self) -> u32 {
        self.next += 1;
        self.next - 1
    }

    fn constant_of_cell(&mut self, cell: CellId) -> Operand {
        Operand::Const(num(self.ev.value(cell)))
    }

    fn cell(&mut self, cell: CellId) -> R<Operand> {
        let model = self.model;
        let data = &model.cells[cell as usize];
        let Some(fid) = data.formula else {
            return Ok(self.constant_of_cell(cell));
        };
        let mut f = &model.formulas[fid as usize];
        self.elem = None;
        if let Some(part) = f.array {
            // Every cell of an array formula is its element of the anchor's formula.
            self.elem = Some((data.row - part.range.r1, data.col - part.range.c1));
            if part.anchor != cell {
                let Some(afid) = model.cells[part.anchor as usize].formula else {
                    return Err("an array formula without its anchor".into());
                };
                f = &model.formulas[afid as usize];
            }
        }
        let e = f
            .expr
            .as_ref()
            .map_err(|_| "a formula that does not parse".to_string())?;
        self.folded_text = false;
        let op = self.expr(e);
        self.elem = None;
        let op = op?;
        if self.folded_text {
            return Err("text in the simulated part of the model".into());
        }
        let ty = self.expr_ty(e).of_cell();
        if ty != Ty::Num {
            self.cell_ty.insert(cell, ty);
        }
        Ok(op)
    }

    fn area_is_stochastic(&self, a: &Area) -> bool {
        let Some(sheet) = self.model.sheets.get(a.sheet as usize) else {
            return false;
        };
        let b = a.bounds;
        let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
        if sheet.columns.is_empty() || b.c1 > c2 {
            return false;
        }
        (b.c1..=c2).any(|c| {
            sheet
                .column_slice(c, b.r1, b.r2)
                .iter()
                .any(|&(_, id)| self.sto[id as usize])
        })
    }

    /// Does the expression depend on the stochastic part? Stops at the first node that does
    /// (`expr` asks again at every level of a stochastic tree, so a full walk each time would
    /// cost the tree's size times its depth).
    fn depends(&self, e: &Expr) -> bool {
        fn go(c: &Compiler<'_, '_>, sheet: crate::model::SheetId, e: &Expr) -> bool {
            match &e.kind {
                ExprKind::Ref(r) => {
                    let s = match &r.sheet {
                        None => Some(sheet),
                        Some(name) => c.model.sheet_id(name),
                    };
                    s.is_some_and(|s| {
                        c.area_is_stochastic(&Area {
                            sheet: s,
                            bounds: r.bounds(),
                        })
                    })
                }
                ExprKind::Name { .. } => true, // resolved below, conservatively
                ExprKind::Call { name, args } => {
                    is_random(name)
                        || is_distribution(name)
                        // A LAMBDA called through a name: what its body reads is not walked
                        // here, so conservatively (the compiler declines it, the interpreter runs).
                        || !crate::functions::is_supported(name)
                        // Their targets are known only when evaluated.
                        || matches!(name.as_str(), "OFFSET" | "INDIRECT")
                        || args.iter().any(|a| go(c, sheet, a))
                }
                // A LAMBDA called where it is written, conservatively (as above).
                ExprKind::Invoke { .. } => true,
                ExprKind::Array(rows) => rows.iter().flatten().any(|a| go(c, sheet, a)),
                ExprKind::Unary { expr, .. }
                | ExprKind::Postfix { expr, .. }
                | ExprKind::Paren(expr) => go(c, sheet, expr),
                ExprKind::Binary { lhs, rhs, .. } => go(c, sheet, lhs) || go(c, sheet, rhs),
                _ => false,
            }
        }
        go(self, self.model.cells[self.cur as usize].sheet, e)
    }

    fn fold(&mut self, e: &Expr) -> Operand {
        let d = &self.model.cells[self.cur as usize];
        let (s, r, c) = (d.sheet, d.row, d.col);
        let v = match self.elem {
            None => self.ev.eval_at(e, s, r, c, false),
            Some((dr, dc)) => {
                let v = self.ev.eval_at(e, s, r, c, true);
                element(&v, dr as usize, dc as usize)
            }
        };
        if matches!(v.first(), Value::Text(_)) {
            self.folded_text = true;
        }
        Operand::Const(num(&v))
    }

    /// Does the expression hold a reference (or a defined name) that may span several cells?
    fn has_range(&self, e: &Expr) -> bool {
        let mut hit = false;
        e.walk(&mut |n| match &n.kind {
            ExprKind::Ref(r) => {
                let b = r.bounds();
                if b.r1 != b.r2 || b.c1 != b.c2 {
                    hit = true;
                }
            }
            ExprKind::Name { .. } => hit = true,
            _ => {}
        });
        hit
    }

    fn emit(&mut self, f: impl FnOnce(u32) -> Instr) -> Operand {
        // Build with a placeholder destination to look the operation up first.
        self.emit_instr(f(u32::MAX))
    }

    fn emit_instr(&mut self, probe: Instr) -> Operand {
        // Algebraic identities that hold bit for bit: x*1, x/1, x+0, x-0.
        if let Instr::Arith { op, a, b, .. } = &probe {
            match (op, b) {
                (Arith::Mul | Arith::Div, Operand::Const(k)) if *k == 1.0 => return *a,
                (Arith::Add | Arith::Sub, Operand::Const(k))
                    if *k == 0.0 && k.is_sign_positive() =>
                {
                    return *a;
                }
                _ => {}
            }
            if let (Arith::Mul, Operand::Const(k)) = (op, a)
                && *k == 1.0
            {
                return *b;
            }
        }
        // x^n after x^(n-1): one multiplication (a running product, as hand-written code does).
        if let Instr::PowI {
            a: Operand::Slot(base),
            n,
            ..
        } = &probe
            && *n >= 2
            && let Some(&prev) = self.powers.get(&(*base, n - 1))
        {
            let key = (*base, *n);
            let r = self.emit_instr(Instr::Arith {
                op: Arith::Mul,
                dst: u32::MAX,
                a: prev,
                b: Operand::Slot(key.0),
            });
            self.powers.insert(key, r);
            return r;
        }
        let key = ValueKey(probe);
        let hash = rustc_hash::FxBuildHasher.hash_one(&key);
        let first = self.seen.get(&hash).copied();
        if let Some(i) = first {
            let prev = &self.instrs[i as usize];
            if key == ValueKey(set_dst(prev.clone(), u32::MAX)) {
                return Operand::Slot(prev.dst());
            }
            if let Some(&op) = self.seen_more.get(&key) {
                return op;
            }
        }
        let dst = self.slot();
        if first.is_some() {
            // Another instruction has this hash: this one is looked up by its whole key.
            self.seen_more
                .insert(ValueKey(key.0.clone()), Operand::Slot(dst));
        } else {
            self.seen.insert(hash, self.instrs.len() as u32);
        }
        let ins = set_dst(key.0, dst);
        if let Instr::PowI {
            a: Operand::Slot(base),
            n,
            ..
        } = &ins
        {
            self.powers.insert((*base, *n), Operand::Slot(dst));
        }
        self.instrs.push(ins);
        Operand::Slot(dst)
    }

    /// The area a reference (in parentheses, or through a defined name) stands for.
    fn resolve_area(&self, e: &Expr) -> Option<Area> {
        let r = match &e.kind {
            ExprKind::Ref(r) => r,
            ExprKind::Paren(inner) => return self.resolve_area(inner),
            ExprKind::Name { sheet, name } => {
                let scope = match sheet {
                    Some(s) => self.model.sheet_id(s),
                    None => Some(self.model.cells[self.cur as usize].sheet),
                };
                return match self.model.name(scope, name).map(|n| &n.expr) {
                    Some(Ok(ne)) if !matches!(ne.kind, ExprKind::Name { .. }) => {
                        self.resolve_area(ne)
                    }
                    _ => None,
                };
            }
            _ => return None,
        };
        let sheet = match &r.sheet {
            None => self.model.cells[self.cur as usize].sheet,
            Some(n) => self.model.sheet_id(n)?,
        };
        Some(Area {
            sheet,
            bounds: r.bounds(),
        })
    }

    fn expr(&mut self, e: &Expr) -> R<Operand> {
        if !self.depends(e) {
            return Ok(self.fold(e));
        }
        match &e.kind {
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Ref(r) => {
                let area = self
                    .resolve_area(e)
                    .ok_or("a reference to a missing sheet")?;
                let b = area.bounds;
                let (row, col) = {
                    let d = &self.model.cells[self.cur as usize];
                    (d.row, d.col)
                };
                // Implicit intersection; in an array formula, the element.
                let (r0, c0) = if b.r1 == b.r2 && b.c1 == b.c2 {
                    (b.r1, b.c1)
                } else if let Some((dr, dc)) = self.elem {
                    let r0 = if b.r1 == b.r2 { b.r1 } else { b.r1 + dr };
                    let c0 = if b.c1 == b.c2 { b.c1 } else { b.c1 + dc };
                    if r0 > b.r2 || c0 > b.c2 {
                        // Beyond the range: #N/A.
                        return Ok(Operand::Const(f64::NAN));
                    }
                    (r0, c0)
                } else if b.c1 == b.c2 && row >= b.r1 && row <= b.r2 {
                    (row, b.c1)
                } else if b.r1 == b.r2 && col >= b.c1 && col <= b.c2 {
                    (b.r1, col)
                } else {
                    return Err(format!("the range {r} used as a single value"));
                };
                match self.model.find(area.sheet, r0, c0) {
                    Some(id) => match self.cell_op.get(&id) {
                        Some(op) => Ok(*op),
                        // A stochastic cell not compiled yet: a circular reference.
                        None if self.sto[id as usize] => {
                            Err("a reference the dependency order did not see".into())
                        }
                        None => {
                            let v = self.ev.value(id).clone();
                            self.direct_constant(&v)
                        }
                    },
                    None => Ok(Operand::Const(0.0)),
                }
            }
            ExprKind::Name { sheet, name } => {
                let scope = match sheet {
                    Some(s) => self.model.sheet_id(s),
                    None => Some(self.model.cells[self.cur as usize].sheet),
                };
                let model = self.model;
                match model.name(scope, name).map(|n| &n.expr) {
                    Some(Ok(ne)) => self.expr(ne),
                    _ => Err(format!("the name {name}")),
                }
            }
            ExprKind::Unary { op, expr } => {
                let a = self.expr(expr)?;
                Ok(match op {
                    UnaryOp::Plus => a,
                    UnaryOp::Neg => self.emit(|dst| Instr::Neg { dst, a }),
                })
            }
            ExprKind::Postfix {
                op: PostfixOp::Percent,
                expr,
            } => {
                let a = self.expr(expr)?;
                // `/ 100` as the interpreter computes it (`* 0.01` rounds differently).
                Ok(self.emit(|dst| Instr::Arith {
                    op: Arith::Div,
                    dst,
                    a,
                    b: Operand::Const(100.0),
                }))
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs),
            ExprKind::Call { name, args } => {
                self.call_offset = e.span.start;
                self.call(name, args)
            }
            ExprKind::Text(_) => Err("text in the simulated part of the model".into()),
            ExprKind::Invoke { .. } => Err("a LAMBDA call".into()),
            _ => Ok(self.fold(e)),
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> R<Operand> {
        let cmp = |op| match op {
            BinaryOp::Eq => Some(Cmp::Eq),
            BinaryOp::Ne => Some(Cmp::Ne),
            BinaryOp::Lt => Some(Cmp::Lt),
            BinaryOp::Le => Some(Cmp::Le),
            BinaryOp::Gt => Some(Cmp::Gt),
            BinaryOp::Ge => Some(Cmp::Ge),
            _ => None,
        };
        if op == BinaryOp::Pow
            && !self.depends(rhs)
            && let Operand::Const(n) = self.fold(rhs)
        {
            let a = self.expr(lhs)?;
            if n.fract() == 0.0 && n.abs() <= 64.0 {
                let n = n as i32;
                if n == 1 {
                    return Ok(a);
                }
                return Ok(self.emit(|dst| Instr::PowI { dst, a, n }));
            }
            if n == 0.5 {
                return Ok(self.emit(|dst| Instr::Call1 {
                    f: Kernel1::Sqrt,
                    dst,
                    a,
                }));
            }
            return Ok(self.emit(|dst| Instr::Arith {
                op: Arith::Pow,
                dst,
                a,
                b: Operand::Const(n),
            }));
        }
        // The power with a stochastic exponent and a constant base that is folded below is fine.
        let a = self.expr(lhs)?;
        let b = self.expr(rhs)?;
        if let Some(c) = cmp(op) {
            self.comparable(lhs, rhs)?;
            return Ok(self.emit(|dst| Instr::Compare { op: c, dst, a, b }));
        }
        let ar = match op {
            BinaryOp::Add => Arith::Add,
            BinaryOp::Sub => Arith::Sub,
            BinaryOp::Mul => Arith::Mul,
            BinaryOp::Div => Arith::Div,
            BinaryOp::Pow => Arith::Pow,
            BinaryOp::Concat => return Err("text concatenation (&) in the simulated part".into()),
            _ => return Err(format!("the reference operator `{}`", op.as_str())),
        };
        Ok(self.emit(|dst| Instr::Arith { op: ar, dst, a, b }))
    }

    /// The column of the random call site being compiled.
    fn site(&mut self, name: &str, args: &[Expr]) -> R<Operand> {
        let d = &self.model.cells[self.cur as usize];
        let key = SiteKey {
            sheet: d.sheet,
            row: d.row,
            col: d.col,
            offset: self.call_offset,
        };
        let Some(&(j, dynamic)) = self.sites.get(&key) else {
            return Err(format!("{name} outside the sampled calls"));
        };
        let slot = match self.site_slots[j] {
            Some(s) => s,
            None => {
                let s = self.slot();
                self.site_slots[j] = Some(s);
                s
            }
        };
        match dynamic {
            None => Ok(Operand::Slot(slot)),
            Some(modifiers) => self.dynamic_distribution(name, args, modifiers, slot),
        }
    }

    /// A distribution whose parameters change from iteration to iteration: its quantile at the
    /// site's uniform with the iteration's parameters (scalar numbers; truncation is left to the
    /// interpreter).
    fn dynamic_distribution(
        &mut self,
        name: &str,
        args: &[Expr],
        modifiers: Modifiers,
        u: u32,
    ) -> R<Operand> {
        let decline = || {
            Err(format!(
                "{name} with parameters that change from iteration to iteration"
            ))
        };
        if modifiers.truncate.is_some() {
            return decline();
        }
        let (vendor, dist) = if let Some(r) = name.strip_prefix("RISK") {
            ("RISK", r)
        } else if let Some(r) = name.strip_prefix("VOSE") {
            ("VOSE", r)
        } else if let Some(r) = name.strip_prefix("PSI") {
            ("PSI", r)
        } else {
            return decline();
        };
        let mut ops = Vec::with_capacity(args.len());
        for a in args {
            if let ExprKind::Call { name: pn, .. } = &a.kind
                && super::inputs::is_property(pn)
            {
                continue;
            }
            if matches!(a.kind, ExprKind::Missing | ExprKind::Array(_))
                || self.has_multi_cell_reference(a)
                || self.expr_ty(a) != Ty::Num
            {
                return decline();
            }
            ops.push(self.expr(a)?);
        }
        Ok(self.emit(|dst| Instr::Quantile {
            dst,
            vendor: vendor.to_string(),
            dist: dist.to_string(),
            shift: modifiers.shift,
            args: ops,
            u: Operand::Slot(u),
        }))
    }

    /// Does the expression read a range of several cells (directly or through a defined name)?
    fn has_multi_cell_reference(&self, e: &Expr) -> bool {
        let mut hit = false;
        e.walk(&mut |n| match &n.kind {
            ExprKind::Ref(r) => {
                let b = r.bounds();
                hit |= b.r1 != b.r2 || b.c1 != b.c2;
            }
            ExprKind::Name { .. } => {
                if let Some(area) = self.resolve_area(n) {
                    let b = area.bounds;
                    hit |= b.r1 != b.r2 || b.c1 != b.c2;
                }
            }
            _ => {}
        });
        hit
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> R<Operand> {
        let arg = |i: usize| args.get(i);
        macro_rules! one {
            ($f:expr) => {{
                let a = self.expr(arg(0).ok_or("missing argument")?)?;
                return Ok(self.emit(|dst| Instr::Call1 { f: $f, dst, a }));
            }};
        }
        macro_rules! two {
            ($f:expr, $default:expr) => {{
                let a = self.expr(arg(0).ok_or("missing argument")?)?;
                let b = match arg(1) {
                    Some(e) if !matches!(e.kind, ExprKind::Missing) => self.expr(e)?,
                    _ => Operand::Const($default),
                };
                return Ok(self.emit(|dst| Instr::Call2 { f: $f, dst, a, b }));
            }};
        }
        if name == "RAND" || is_distribution(name) {
            return self.site(name, args);
        }
        match name {
            "RANDBETWEEN" => {
                let u = self.site(name, args)?;
                let lo = self.expr(arg(0).ok_or("missing argument")?)?;
                let hi = self.expr(arg(1).ok_or("missing argument")?)?;
                Ok(self.emit(|dst| Instr::Call3 {
                    f: Kernel3::RandBetween,
                    dst,
                    args: [lo, hi, u],
                }))
            }
            "RISKOUTPUT" | "PSIOUTPUT" | "VOSEOUTPUT" | "VOSEINPUT" => Ok(Operand::Const(0.0)),
            "IF" => {
                let cond = self.expr(arg(0).ok_or("missing argument")?)?;
                let t = match arg(1) {
                    Some(e) if !matches!(e.kind, ExprKind::Missing) => self.expr(e)?,
                    Some(_) => Operand::Const(0.0),
                    None => Operand::Const(1.0),
                };
                let f = match arg(2) {
                    Some(e) if !matches!(e.kind, ExprKind::Missing) => self.expr(e)?,
                    _ => Operand::Const(0.0),
                };
                Ok(self.emit(|dst| Instr::Select { dst, cond, t, f }))
            }
            "IFERROR" => {
                let a = self.expr(arg(0).ok_or("missing argument")?)?;
                let alt = self.expr(arg(1).ok_or("missing argument")?)?;
                Ok(self.emit(|dst| Instr::IfError { dst, a, alt }))
            }
            "ISERROR" | "ISNUMBER" => {
                let e = arg(0).ok_or("missing argument")?;
                let a = self.expr(e)?;
                let negate = name == "ISNUMBER";
                if negate {
                    // ISNUMBER of a reference to a blank (`INDEX(r, i)`, `IF(c, A1, 0)`) is
                    // FALSE, where the blank read as a value is 0.
                    if self.may_be_reference(e) && !matches!(e.kind, ExprKind::Ref(_)) {
                        return Err("ISNUMBER of a function that may return a reference".into());
                    }
                    // ISNUMBER(TRUE) is FALSE.
                    match self.expr_ty(e) {
                        Ty::Num | Ty::Empty => {}
                        Ty::Bool => return Ok(Operand::Const(0.0)),
                        Ty::Mixed => {
                            return Err("ISNUMBER of a number-or-boolean cell".into());
                        }
                    }
                }
                Ok(self.emit(|dst| Instr::IsError { dst, a, negate }))
            }
            "AND" | "OR" => self.and_or(name == "AND", args),
            "COUNT" => self.count(args),
            "VLOOKUP" => self.table_lookup(true, args),
            "HLOOKUP" => self.table_lookup(false, args),
            "NOT" => {
                let a = self.expr(arg(0).ok_or("missing argument")?)?;
                Ok(self.emit(|dst| Instr::Compare {
                    op: Cmp::Eq,
                    dst,
                    a,
                    b: Operand::Const(0.0),
                }))
            }
            "SUM" => self.reduce(Reduce::Sum, args),
            "PRODUCT" => self.reduce(Reduce::Product, args),
            "MIN" => self.reduce(Reduce::Min, args),
            "MAX" => self.reduce(Reduce::Max, args),
            "AVERAGE" => self.reduce(Reduce::Average, args),
            "NPV" if args.len() >= 2 => self.npv(args),
            "SUMPRODUCT" if args.len() == 2 => self.sumproduct(args),
            "COUNTIF" if args.len() == 2 && !self.depends(&args[1]) => self.countif(args),
            "MATCH" if args.len() == 3 && !self.depends(&args[2]) => {
                let mt = self.fold(&args[2]);
                if mt != Operand::Const(0.0) {
                    return Err("MATCH with approximate matching in the simulated part".into());
                }
                self.match_exact(args)
            }
            "INDEX" if args.len() == 2 => self.index(args),
            // The same kernels as the scalar evaluator's functions: one definition for both paths.
            "ABS" => one!(Kernel1::Abs),
            "SQRT" => one!(Kernel1::Sqrt),
            "EXP" => one!(Kernel1::Exp),
            "LN" => one!(Kernel1::Ln),
            "LOG10" => one!(Kernel1::Log10),
            "INT" => one!(Kernel1::Int),
            "SIGN" => one!(Kernel1::Sign),
            "NORM.S.INV" | "NORMSINV" => one!(Kernel1::NormSInv),
            "ROUND" | "ROUNDUP" | "ROUNDDOWN"
                if args.len() <= 2
                    && args.get(1).is_none_or(|d| !self.depends(d))
                    && let Some(digits) = match args.get(1) {
                        None => Some(0.0),
                        Some(d) if matches!(d.kind, ExprKind::Missing) => Some(0.0),
                        Some(d) => match self.fold(d) {
                            // Negative digits divide (as the kernel does): the kernel path.
                            Operand::Const(k) if k.is_finite() && (0.0..=15.0).contains(&k) => {
                                Some(k.trunc())
                            }
                            _ => None,
                        },
                    } =>
            {
                let a = self.expr(arg(0).ok_or("missing argument")?)?;
                let mode = match name {
                    "ROUND" => RoundMode::Nearest,
                    "ROUNDUP" => RoundMode::Up,
                    _ => RoundMode::Down,
                };
                let scale = 10f64.powi(digits as i32);
                Ok(self.emit(|dst| Instr::Round {
                    dst,
                    a,
                    scale,
                    mode,
                }))
            }
            "ROUND" => two!(Kernel2::Round, 0.0),
            "ROUNDUP" => two!(Kernel2::RoundUp, 0.0),
            "ROUNDDOWN" | "TRUNC" => two!(Kernel2::RoundDown, 0.0),
            "MOD" => two!(Kernel2::Mod, f64::NAN),
            "POWER" => two!(Kernel2::Power, f64::NAN),
            "CEILING" => two!(Kernel2::Ceiling, 1.0),
            "FLOOR" => two!(Kernel2::Floor, 1.0),
            "CEILING.PRECISE" | "ISO.CEILING" => two!(Kernel2::CeilingPrecise, 1.0),
            "FLOOR.PRECISE" => two!(Kernel2::FloorPrecise, 1.0),
            "NORM.INV" | "NORMINV" | "LOGNORM.INV" | "LOGINV" => {
                let mut ops = [Operand::Const(0.0); 3];
                for (i, o) in ops.iter_mut().enumerate() {
                    *o = self.expr(arg(i).ok_or("missing argument")?)?;
                }
                let f = if name.starts_with("NORM") {
                    Kernel3::NormInv
                } else {
                    Kernel3::LogNormInv
                };
                Ok(self.emit(|dst| Instr::Call3 { f, dst, args: ops }))
            }
            _ => Err(format!("the function {name}")),
        }
    }
}

/// Element (`dr`, `dc`) of an array value, a single row or column broadcast; beyond it #N/A.
fn element(v: &Value, dr: usize, dc: usize) -> Value {
    match v {
        Value::Array(a) => {
            let r = if a.rows == 1 { 0 } else { dr };
            let c = if a.cols == 1 { 0 } else { dc };
            a.get(r, c).cloned().unwrap_or(Value::Error(ErrorKind::Na))
        }
        v => v.clone(),
    }
}

/// Assigns physical slots so that columns whose values are dead are reused (keeps a block's
/// working set small enough for the caches). Returns virtual → physical.
fn allocate(p: &mut Program, pinned: &[u32]) -> Vec<u32> {
    let n = p.slots as usize;
    let mut last_use = vec![usize::MAX; n];
    for (i, ins) in p.instrs.iter().enumerate() {
        for s in reads(ins) {
            last_use[s as usize] = i;
        }
    }
    let mut is_pinned = vec![false; n];
    for &s in pinned {
        is_pinned[s as usize] = true;
    }
    let mut map = vec![u32::MAX; n];
    let mut next_phys = 0u32;
    let mut free: Vec<u32> = Vec::new();
    // Pinned slots (inputs, RAND sites, outputs) get fixed places first.
    for &s in pinned {
        if map[s as usize] == u32::MAX {
            map[s as usize] = next_phys;
            next_phys += 1;
        }
    }
    for (i, ins) in p.instrs.iter_mut().enumerate() {
        let rd = reads(ins);
        let d = ins.dst();
        if map[d as usize] == u32::MAX {
            map[d as usize] = free.pop().unwrap_or_else(|| {
                next_phys += 1;
                next_phys - 1
            });
        }
        rewrite(ins, &map);
        for s in rd {
            if last_use[s as usize] == i && !is_pinned[s as usize] && s != d {
                free.push(map[s as usize]);
                last_use[s as usize] = usize::MAX - 1;
            }
        }
        // A value never read (a dead cell) frees its slot at once.
        if last_use[d as usize] == usize::MAX && !is_pinned[d as usize] {
            free.push(map[d as usize]);
        }
    }
    p.slots = next_phys;
    map
}

/// The slots an instruction reads ([`Instr::for_each_read`]).
fn reads(ins: &Instr) -> Vec<u32> {
    let mut v = Vec::new();
    ins.for_each_read(|s| v.push(s));
    v
}

fn set_dst(mut ins: Instr, d: u32) -> Instr {
    match &mut ins {
        Instr::Arith { dst, .. }
        | Instr::PowI { dst, .. }
        | Instr::Neg { dst, .. }
        | Instr::Compare { dst, .. }
        | Instr::Select { dst, .. }
        | Instr::IfError { dst, .. }
        | Instr::IsError { dst, .. }
        | Instr::Call1 { dst, .. }
        | Instr::Call2 { dst, .. }
        | Instr::Call3 { dst, .. }
        | Instr::Reduce { dst, .. }
        | Instr::Npv { dst, .. }
        | Instr::SumProduct { dst, .. }
        | Instr::CountIf { dst, .. }
        | Instr::MatchExact { dst, .. }
        | Instr::LookupApprox { dst, .. }
        | Instr::Quantile { dst, .. }
        | Instr::Index { dst, .. }
        | Instr::Round { dst, .. }
        | Instr::Copy { dst, .. } => *dst = d,
    }
    ins
}

fn rewrite(ins: &mut Instr, map: &[u32]) {
    let m = |o: &mut Operand| {
        if let Operand::Slot(s) = o {
            *s = map[*s as usize];
        }
    };
    let ms = |s: &mut u32| *s = map[*s as usize];
    match ins {
        Instr::Arith { dst, a, b, .. }
        | Instr::Compare { dst, a, b, .. }
        | Instr::Call2 { dst, a, b, .. } => {
            ms(dst);
            m(a);
            m(b);
        }
        Instr::IfError { dst, a, alt } => {
            ms(dst);
            m(a);
            m(alt);
        }
        Instr::PowI { dst, a, .. }
        | Instr::Neg { dst, a }
        | Instr::IsError { dst, a, .. }
        | Instr::Call1 { dst, a, .. }
        | Instr::Round { dst, a, .. }
        | Instr::Copy { dst, a } => {
            ms(dst);
            m(a);
        }
        Instr::Select { dst, cond, t, f } => {
            ms(dst);
            m(cond);
            m(t);
            m(f);
        }
        Instr::Call3 { dst, args, .. } => {
            ms(dst);
            args.iter_mut().for_each(m);
        }
        Instr::Reduce { dst, slots, .. } => {
            ms(dst);
            slots.iter_mut().for_each(ms);
        }
        Instr::Npv { dst, rate, flows } => {
            ms(dst);
            m(rate);
            flows.iter_mut().for_each(m);
        }
        Instr::SumProduct { dst, a, b } => {
            ms(dst);
            a.iter_mut().for_each(m);
            b.iter_mut().for_each(m);
        }
        Instr::CountIf { dst, items, .. } => {
            ms(dst);
            items.iter_mut().for_each(m);
        }
        Instr::MatchExact { dst, key, items } => {
            ms(dst);
            m(key);
            items.iter_mut().for_each(m);
        }
        Instr::LookupApprox {
            dst, key, values, ..
        } => {
            ms(dst);
            m(key);
            values.iter_mut().for_each(m);
        }
        Instr::Quantile { dst, u, args, .. } => {
            ms(dst);
            m(u);
            args.iter_mut().for_each(m);
        }
        Instr::Index { dst, items, idx } => {
            ms(dst);
            m(idx);
            items.iter_mut().for_each(m);
        }
    }
}
