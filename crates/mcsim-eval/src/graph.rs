//! Dependency analysis, kept apart from evaluation: which cells each formula reads, an order in
//! which to evaluate them, the circular references, and (for the simulation) which cells lie
//! downstream of a set of inputs.

use crate::model::{Area, Calls, CellId, Model, SheetId};
use mcsim_formula::{Expr, ExprKind};
use rustc_hash::FxHashMap as HashMap;

/// The static dependency graph of a model.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Per formula (index = `FormulaId`): the areas it reads.
    pub reads: Vec<Vec<Area>>,
    /// Per formula: it calls OFFSET or INDIRECT, whose targets are known only when evaluated.
    pub dynamic: Vec<bool>,
    /// Formula cells in an order where every cell comes after the formula cells it reads.
    pub order: Vec<CellId>,
    /// Circular references: each is the set of formula cells of one cycle.
    pub cycles: Vec<Vec<CellId>>,
}

/// Collects the areas an expression reads (through defined names too).
fn collect(
    model: &Model,
    e: &Expr,
    sheet: SheetId,
    out: &mut Vec<Area>,
    dynamic: &mut bool,
    depth: u32,
) {
    // A reference given straight to ROW/COLUMN/ROWS/COLUMNS is not read (`ROW(E3)` in E3 is no
    // circular reference in Excel).
    // One walk: parents come before their arguments, so such a call marks its arguments before
    // they are visited.
    let mut shape_only: Vec<*const Expr> = Vec::new();
    e.walk(&mut |n| match &n.kind {
        ExprKind::Call { name, args }
            if matches!(name.as_str(), "ROW" | "COLUMN" | "ROWS" | "COLUMNS") =>
        {
            shape_only.extend(
                args.iter()
                    .filter(|a| matches!(a.kind, ExprKind::Ref(_)))
                    .map(|a| a as *const Expr),
            );
        }
        ExprKind::Ref(_) if shape_only.contains(&(n as *const Expr)) => {}
        ExprKind::Ref(r) => {
            let s = match &r.sheet {
                None => Some(sheet),
                Some(name) => model.sheet_id(name),
            };
            if let Some(s) = s {
                out.push(Area {
                    sheet: s,
                    bounds: r.bounds(),
                });
            }
        }
        ExprKind::Name { sheet: q, name } => {
            let scope = match q {
                Some(s) => model.sheet_id(s),
                None => Some(sheet),
            };
            if depth < 16
                && let Some(nm) = model.name(scope, name)
                && let Ok(ne) = &nm.expr
            {
                collect(
                    model,
                    ne,
                    nm.scope.unwrap_or(sheet),
                    out,
                    dynamic,
                    depth + 1,
                );
            }
        }
        ExprKind::Call { name, .. } if name == "OFFSET" || name == "INDIRECT" => *dynamic = true,
        // A call of a defined name bound to a LAMBDA (`=CAL_MONTH(3)`) reads what its formula reads.
        ExprKind::Call { name, .. } if !crate::functions::is_supported(name) => {
            if depth < 16
                && let Some(nm) = model.name(Some(sheet), name)
                && let Ok(ne) = &nm.expr
            {
                collect(
                    model,
                    ne,
                    nm.scope.unwrap_or(sheet),
                    out,
                    dynamic,
                    depth + 1,
                );
            }
        }
        _ => {}
    });
}

impl Graph {
    /// Analyses every formula of the model.
    pub fn build(model: &Model) -> Graph {
        let nf = model.formulas.len();
        let mut reads = Vec::with_capacity(nf);
        let mut dynamic = vec![false; nf];
        for (fi, f) in model.formulas.iter().enumerate() {
            let mut out = Vec::new();
            let cell = &model.cells[f.cell as usize];
            if let Some(part) = f.array
                && part.anchor != f.cell
            {
                // A cell of an array formula depends on its anchor.
                let a = &model.cells[part.anchor as usize];
                out.push(Area::cell(a.sheet, a.row, a.col));
            } else if let Ok(e) = &f.expr {
                collect(model, e, cell.sheet, &mut out, &mut dynamic[fi], 0);
            }
            reads.push(out);
        }

        // Nodes: every cell, then one node per distinct area of more than one cell (its edges go
        // to the formula cells inside it), so a range read by many formulas is scanned once.
        let ncells = model.cells.len();
        let mut area_nodes: HashMap<Area, usize> = HashMap::default();
        let mut area_list: Vec<Area> = Vec::new();
        let mut edges: Vec<Vec<u32>> = vec![Vec::new(); ncells];
        for (fi, f) in model.formulas.iter().enumerate() {
            let from = f.cell as usize;
            for a in &reads[fi] {
                let b = a.bounds;
                if b.r1 == b.r2 && b.c1 == b.c2 {
                    if let Some(id) = model.find(a.sheet, b.r1, b.c1)
                        && model.cells[id as usize].formula.is_some()
                    {
                        edges[from].push(id);
                    }
                } else {
                    let node = *area_nodes.entry(*a).or_insert_with(|| {
                        area_list.push(*a);
                        ncells + area_list.len() - 1
                    });
                    edges[from].push(node as u32);
                }
            }
        }
        for a in &area_list {
            let mut inside = Vec::new();
            if let Some(sheet) = model.sheets.get(a.sheet as usize) {
                let b = a.bounds;
                let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
                if !sheet.columns.is_empty() && b.c1 <= c2 {
                    for c in b.c1..=c2 {
                        for &(_, id) in sheet.column_slice(c, b.r1, b.r2) {
                            if model.cells[id as usize].formula.is_some() {
                                inside.push(id);
                            }
                        }
                    }
                }
            }
            edges.push(inside);
        }

        let (order, cycles) = tarjan(&edges, ncells, model);
        Graph {
            reads,
            dynamic,
            order,
            cycles,
        }
    }
}

/// Iterative Tarjan: strongly connected components come out after everything they depend on,
/// which is an evaluation order.
fn tarjan(edges: &[Vec<u32>], ncells: usize, model: &Model) -> (Vec<CellId>, Vec<Vec<CellId>>) {
    const UNVISITED: u32 = u32::MAX;
    let n = edges.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut order = Vec::new();
    let mut cycles = Vec::new();
    let mut next_index = 0u32;
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..ncells {
        if model.cells[root].formula.is_none() || index[root] != UNVISITED {
            continue;
        }
        call.push((root as u32, 0));
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut ei)) = call.last_mut() {
            let vu = v as usize;
            if *ei < edges[vu].len() {
                let w = edges[vu][*ei] as usize;
                *ei += 1;
                if index[w] == UNVISITED {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, 0));
                } else if on_stack[w] {
                    low[vu] = low[vu].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    let p = parent as usize;
                    low[p] = low[p].min(low[vu]);
                }
                if low[vu] == index[vu] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let cells: Vec<CellId> = comp
                        .iter()
                        .copied()
                        .filter(|&c| (c as usize) < ncells)
                        .collect();
                    let self_loop = comp.len() == 1 && edges[vu].contains(&v);
                    if comp.len() > 1 || self_loop {
                        let mut cyc = cells.clone();
                        cyc.sort_unstable();
                        if !cyc.is_empty() {
                            cycles.push(cyc);
                        }
                    }
                    order.extend(cells);
                }
            }
        }
    }
    (order, cycles)
}

impl Graph {
    /// Marks every formula cell that reads, directly or through other formulas, a cell marked in
    /// `seeds` (indexed by cell); the seeds stay marked. Formulas with OFFSET/INDIRECT are marked
    /// when anything is, since their targets are not known statically.
    pub fn downstream(&self, model: &Model, seeds: &[bool]) -> Vec<bool> {
        self.downstream_except(model, seeds, &[])
    }

    /// [`Graph::downstream`], where the cells marked in `blocked` (indexed by cell; shorter means
    /// unblocked) are never marked and so pass nothing on: cells fixed by a what-if override, or
    /// cells that are not part of the model.
    pub fn downstream_except(&self, model: &Model, seeds: &[bool], blocked: &[bool]) -> Vec<bool> {
        let mut marked = seeds.to_vec();
        marked.resize(model.cells.len(), false);
        for (m, &b) in marked.iter_mut().zip(blocked) {
            if b {
                *m = false;
            }
        }
        let any = marked.iter().any(|&m| m);
        for &cell in &self.order {
            if marked[cell as usize] || blocked.get(cell as usize).copied().unwrap_or(false) {
                continue;
            }
            let Some(fid) = model.cells[cell as usize].formula else {
                continue;
            };
            let mut hit = any && self.dynamic[fid as usize];
            if !hit {
                'areas: for a in &self.reads[fid as usize] {
                    let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                        continue;
                    };
                    let b = a.bounds;
                    let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
                    if sheet.columns.is_empty() || b.c1 > c2 {
                        continue;
                    }
                    for c in b.c1..=c2 {
                        if sheet
                            .column_slice(c, b.r1, b.r2)
                            .iter()
                            .any(|&(_, id)| marked[id as usize])
                        {
                            hit = true;
                            break 'areas;
                        }
                    }
                }
            }
            marked[cell as usize] = hit;
        }
        for f in &model.formulas {
            if let Some(p) = f.array
                && marked[p.anchor as usize]
                && !blocked.get(f.cell as usize).copied().unwrap_or(false)
            {
                marked[f.cell as usize] = true;
            }
        }
        marked
    }

    /// The cells among `within` (indexed by cell) that `targets` read, directly or through other
    /// cells of `within`, the targets included: the part of the stochastic cone that reaches the
    /// outputs. A formula with OFFSET/INDIRECT in that part makes all of `within` count.
    pub fn upstream(&self, model: &Model, targets: &[CellId], within: &[bool]) -> Vec<bool> {
        let mut marked = vec![false; model.cells.len()];
        let mut stack: Vec<CellId> = Vec::new();
        for &t in targets {
            if within.get(t as usize).copied().unwrap_or(false) && !marked[t as usize] {
                marked[t as usize] = true;
                stack.push(t);
            }
        }
        while let Some(cell) = stack.pop() {
            let Some(fid) = model.cells[cell as usize].formula else {
                continue;
            };
            if self.dynamic[fid as usize] {
                return within.to_vec();
            }
            let f = &model.formulas[fid as usize];
            if let Some(p) = f.array
                && p.anchor != cell
                && within.get(p.anchor as usize).copied().unwrap_or(false)
                && !marked[p.anchor as usize]
            {
                marked[p.anchor as usize] = true;
                stack.push(p.anchor);
            }
            for a in &self.reads[fid as usize] {
                let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                    continue;
                };
                let b = a.bounds;
                let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
                if sheet.columns.is_empty() || b.c1 > c2 {
                    continue;
                }
                for c in b.c1..=c2 {
                    for &(_, id) in sheet.column_slice(c, b.r1, b.r2) {
                        if within.get(id as usize).copied().unwrap_or(false) && !marked[id as usize]
                        {
                            marked[id as usize] = true;
                            stack.push(id);
                        }
                    }
                }
            }
        }
        marked
    }

    /// Formula cells whose value changes between recalculations: they call a volatile function
    /// (RAND, NOW, TODAY, ...) or depend on a cell that does.
    pub fn volatile_cells(&self, model: &Model) -> Vec<bool> {
        let mut seeds = vec![false; model.cells.len()];
        for f in &model.formulas {
            if let Ok(e) = &f.expr
                && f.calls.any(Calls::VOLATILE)
            {
                let mut volatile = false;
                e.each_call(&mut |n| volatile = volatile || crate::functions::is_volatile(n));
                seeds[f.cell as usize] = volatile;
            }
        }
        // Static reads only here: OFFSET/INDIRECT alone do not make a cell volatile in value.
        let mut marked = seeds.clone();
        for &cell in &self.order {
            if marked[cell as usize] {
                continue;
            }
            let Some(fid) = model.cells[cell as usize].formula else {
                continue;
            };
            marked[cell as usize] = self.reads[fid as usize].iter().any(|a| {
                let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                    return false;
                };
                let b = a.bounds;
                let c2 = b.c2.min((sheet.columns.len() as u32).saturating_sub(1));
                !sheet.columns.is_empty()
                    && b.c1 <= c2
                    && (b.c1..=c2).any(|c| {
                        sheet
                            .column_slice(c, b.r1, b.r2)
                            .iter()
                            .any(|&(_, id)| marked[id as usize])
                    })
            });
        }
        for f in &model.formulas {
            if let Some(p) = f.array
                && marked[p.anchor as usize]
            {
                marked[f.cell as usize] = true;
            }
        }
        marked
    }
}
