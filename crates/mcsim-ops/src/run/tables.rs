//! Plain-Excel workbooks in a run: outputs named on the command line (`--output REF[=NAME]`),
//! data tables (their result formulas as default outputs, their values recalculated once), and
//! cells mcsim cannot evaluate (external links, `PY()`, unsupported functions), which keep the
//! values the file stored.

use mcsim_engine::model::Calls;
use mcsim_engine::table::{DataTable, TableUse};
use mcsim_engine::{CellId, Evaluator, Graph, Model, Value};
use mcsim_formula::ExprKind;

/// Resolves an output reference: `Sheet!B5`, `B5` (first sheet) or a defined name of one cell.
pub(crate) fn output_cell(model: &Model, r: &str) -> Result<CellId, String> {
    let r = r.trim();
    let (sheet, addr) = match r.rsplit_once('!') {
        Some((s, a)) => (
            Some(
                s.strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .map_or_else(|| s.to_string(), |s| s.replace("''", "'")),
            ),
            a,
        ),
        None => (None, r),
    };
    if let Some((row, col)) = mcsim_formula::parse_a1(addr) {
        let sid = match &sheet {
            Some(name) => model
                .sheet_id(name)
                .ok_or_else(|| format!("no sheet named `{name}`"))?,
            None => 0,
        };
        if model.sheets.get(sid as usize).is_none() {
            return Err("the workbook has no sheets".into());
        }
        return model
            .find(sid, row, col)
            .ok_or_else(|| format!("`{r}` is an empty cell"));
    }
    // A defined name (sheet-scoped when qualified).
    let scope = sheet.as_deref().and_then(|s| model.sheet_id(s));
    let name = model
        .name(scope, addr)
        .ok_or_else(|| format!("`{r}` is neither a cell reference nor a defined name"))?;
    let expr = name
        .expr
        .as_ref()
        .map_err(|_| format!("the defined name `{addr}` does not parse"))?;
    let ExprKind::Ref(reference) = &expr.kind else {
        return Err(format!(
            "the defined name `{addr}` is `{}`, not a cell",
            name.text
        ));
    };
    let b = reference.bounds();
    if b.r1 != b.r2 || b.c1 != b.c2 {
        return Err(format!(
            "the defined name `{addr}` is the range `{}`; an output is one cell",
            name.text
        ));
    }
    let sid = match &reference.sheet {
        Some(s) => model
            .sheet_id(s)
            .ok_or_else(|| format!("the defined name `{addr}` refers to a missing sheet `{s}`"))?,
        None => name.scope.or(scope).unwrap_or(0),
    };
    model
        .find(sid, b.r1, b.c1)
        .ok_or_else(|| format!("the defined name `{addr}` is an empty cell"))
}

/// Without outputs: the result formulas of the data tables whose model is stochastic (a
/// simulation loop first), and the iterations a simulation-loop table asks for (its row count).
pub(crate) fn table_outputs(
    model: &Model,
    graph: &Graph,
    warnings: &mut Vec<String>,
) -> (Vec<CellId>, Option<u64>) {
    let uses = mcsim_engine::table::uses(model, graph);
    let mut tables: Vec<(&DataTable, &TableUse)> = model
        .tables
        .iter()
        .zip(&uses)
        .filter(|(_, u)| u.volatile)
        .collect();
    // Simulation loops first.
    tables.sort_by_key(|(_, u)| !u.simulation_loop());
    let iterations = tables
        .iter()
        .find(|(_, u)| u.simulation_loop())
        .map(|(t, _)| t.runs());
    let mut cells: Vec<CellId> = Vec::new();
    for (t, u) in tables {
        let formulas: Vec<CellId> = t
            .result_formulas(model)
            .into_iter()
            .filter(|&c| !cells.contains(&c) && !cells.iter().any(|&o| same_reference(model, o, c)))
            .collect();
        if formulas.is_empty() {
            continue;
        }
        warnings.push(format!(
            "no outputs named: the result formula{} of the data table {} ({}{}) {} simulated as output{}",
            if formulas.len() == 1 { "" } else { "s" },
            t.label(model),
            formulas
                .iter()
                .map(|&c| model.cell_label(c))
                .collect::<Vec<_>>()
                .join(", "),
            if u.simulation_loop() {
                format!(
                    "; the table is the simulation loop: each iteration recalculates the model once, {} iterations unless -n says otherwise",
                    t.runs()
                )
            } else {
                String::new()
            },
            if formulas.len() == 1 { "is" } else { "are" },
            if formulas.len() == 1 { "" } else { "s" },
        ));
        cells.extend(formulas);
    }
    (cells, iterations)
}

/// Two cells whose formulas are the same plain reference (`=B26` in both): the same output.
fn same_reference(model: &Model, a: CellId, b: CellId) -> bool {
    let target = |c: CellId| {
        let cell = &model.cells[c as usize];
        let f = &model.formulas[cell.formula? as usize];
        let e = f.expr.as_ref().ok()?;
        let ExprKind::Ref(r) = &e.kind else {
            return None;
        };
        let sheet = match &r.sheet {
            Some(s) => model.sheet_id(s)?,
            None => cell.sheet,
        };
        let b = r.bounds();
        (b.r1 == b.r2 && b.c1 == b.c2).then_some((sheet, b.r1, b.c1))
    };
    matches!((target(a), target(b)), (Some(x), Some(y)) if x == y)
}

/// Values fixed for the run besides the what-if overrides:
/// - cells that cannot be evaluated (a formula that does not parse, such as a link to another
///   workbook, or one calling a function mcsim lacks, such as `PY()`) and that depend on no
///   uncertain cell keep the value the file stored (a warning names them);
/// - data tables read by an output are recalculated once, at the base values (a warning says so
///   when their model is uncertain: they are not recalculated per iteration).
///
/// `uncertain` marks the input and RAND() cells; `fixed` holds the overrides and base values.
pub(crate) fn fixed_values(
    model: &Model,
    graph: &Graph,
    uncertain: &[CellId],
    fixed: &[(CellId, Value)],
    outputs: &[CellId],
    warnings: &mut Vec<String>,
) -> Vec<(CellId, Value)> {
    let mut seeds = vec![false; model.cells.len()];
    for &c in uncertain {
        seeds[c as usize] = true;
    }
    let stochastic = graph.downstream(model, &seeds);
    let mut out: Vec<(CellId, Value)> = Vec::new();
    let mut frozen: Vec<String> = Vec::new();
    for f in &model.formulas {
        let cell = f.cell;
        if f.array.is_some_and(|p| p.anchor != cell) {
            continue;
        }
        let stored = &model.cells[cell as usize].stored;
        if stored.is_empty() || stochastic[cell as usize] {
            continue;
        }
        let broken = match &f.expr {
            Err(_) => true,
            Ok(e) => {
                f.calls.any(Calls::UNSUPPORTED)
                    && !mcsim_engine::eval::unsupported_calls(
                        model,
                        model.cells[cell as usize].sheet,
                        e,
                    )
                    .is_empty()
            }
        };
        if !broken {
            continue;
        }
        out.push((cell, stored.clone()));
        frozen.push(model.cell_label(cell));
        // An array formula's other cells keep theirs too.
        if let Some(p) = f.array {
            let b = p.range;
            let sheet = model.cells[cell as usize].sheet;
            for r in b.r1..=b.r2 {
                for c in b.c1..=b.c2 {
                    if let Some(id) = model.find(sheet, r, c)
                        && id != cell
                    {
                        out.push((id, model.cells[id as usize].stored.clone()));
                    }
                }
            }
        }
    }
    if !frozen.is_empty() {
        let shown: Vec<&str> = frozen.iter().take(5).map(String::as_str).collect();
        warnings.push(format!(
            "{} cell{} cannot be evaluated (a link to another workbook, PY() or an unsupported function) and keep{} the value stored in the file: {}{}",
            frozen.len(),
            if frozen.len() == 1 { "" } else { "s" },
            if frozen.len() == 1 { "s" } else { "" },
            shown.join(", "),
            if frozen.len() > 5 {
                format!(" and {} more", frozen.len() - 5)
            } else {
                String::new()
            }
        ));
    }

    // Data tables read (directly or not) by an output.
    if !model.tables.is_empty() {
        let mut table_cell = vec![false; model.cells.len()];
        for t in &model.tables {
            for c in t.cells(model) {
                table_cell[c as usize] = true;
            }
        }
        let down = graph.downstream(model, &table_cell);
        if outputs.iter().any(|&o| down[o as usize]) {
            let mut ev = Evaluator::new(model);
            for (c, v) in fixed.iter().chain(out.iter()) {
                ev.set_value(*c, v.clone());
            }
            ev.run(&graph.order);
            let keep: Vec<CellId> = fixed.iter().chain(out.iter()).map(|f| f.0).collect();
            let values = mcsim_engine::table::recalc(model, graph, &mut ev, &keep);
            let uses = mcsim_engine::table::uses(model, graph);
            for (t, u) in model.tables.iter().zip(&uses) {
                let cells = t.cells(model);
                let read = {
                    let mut m = vec![false; model.cells.len()];
                    for &c in &cells {
                        m[c as usize] = true;
                    }
                    graph.downstream(model, &m)
                };
                if !outputs.iter().any(|&o| read[o as usize]) {
                    continue;
                }
                let uncertain_model = u.volatile
                    || t.result_formulas(model)
                        .iter()
                        .any(|&f| stochastic[f as usize]);
                if uncertain_model {
                    warnings.push(format!(
                        "data table {} depends on uncertain cells; outputs read its values computed once at the base values, not per iteration",
                        t.label(model)
                    ));
                }
            }
            out.extend(values);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use mcsim_engine::quick::workbook;
    use mcsim_workbook::DefinedName;

    fn model() -> Model {
        let mut wb = workbook(&[
            ("A1", "=RAND()"),
            ("B2", "=A1*2"),
            ("Data!C3", "=Sheet1!B2+1"),
        ]);
        for (name, formula, scope) in [
            ("Profit", "Data!$C$3", None),
            ("Both", "Sheet1!$A$1:$B$2", None),
            ("Rate", "0.05", None),
            ("Local", "$B$2", Some(0)),
        ] {
            wb.names.push(DefinedName {
                name: name.into(),
                scope,
                formula: formula.into(),
                hidden: false,
            });
        }
        Model::from_workbook(&wb)
    }

    #[test]
    fn table_result_formulas_are_outputs_once() {
        // Two what-if tables over a RAND() model whose result formulas are both `=B1`, and a
        // simulation-loop table (input Z1 unused) with its own result formula E1.
        let mut wb = workbook(&[
            ("A1", "=RAND()"),
            ("B1", "=A1*C1"),
            ("C1", "2"),
            ("D1", "=B1"),
            ("G1", "=B1"),
            ("E1", "=A1+1"),
            ("C2", "1"),
            ("C3", "2"),
        ]);
        let t = |range: (u32, u32, u32, u32), r1: (u32, u32)| mcsim_workbook::DataTable {
            sheet: 0,
            range,
            two_d: false,
            row_input: false,
            r1: Some(r1),
            r2: None,
        };
        wb.data_tables = vec![
            t((1, 3, 2, 3), (0, 2)),  // D2:D3 over C1
            t((1, 6, 2, 6), (0, 2)),  // G2:G3 over C1
            t((1, 4, 2, 4), (0, 25)), // E2:E3 over Z1 (unused)
        ];
        let m = Model::from_workbook(&wb);
        let graph = Graph::build(&m);
        let mut warnings = Vec::new();
        let (cells, iterations) = table_outputs(&m, &graph, &mut warnings);
        let labels: Vec<String> = cells.iter().map(|&c| m.cell_label(c)).collect();
        assert_eq!(labels, vec!["Sheet1!E1", "Sheet1!D1"]);
        assert_eq!(iterations, Some(2));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("simulation loop"), "{warnings:?}");
    }

    #[test]
    fn output_references_resolve() {
        let m = model();
        let label = |r: &str| output_cell(&m, r).map(|c| m.cell_label(c));
        assert_eq!(label("B2").unwrap(), "Sheet1!B2");
        assert_eq!(label("Sheet1!B2").unwrap(), "Sheet1!B2");
        assert_eq!(label("'Data'!C3").unwrap(), "Data!C3");
        assert_eq!(label("data!$C$3").unwrap(), "Data!C3");
        assert_eq!(label("Profit").unwrap(), "Data!C3");
        assert_eq!(label("Sheet1!Local").unwrap(), "Sheet1!B2");
        assert!(label("Z9").unwrap_err().contains("empty cell"));
        assert!(
            label("Nope!A1")
                .unwrap_err()
                .contains("no sheet named `Nope`")
        );
        assert!(label("Both").unwrap_err().contains("one cell"));
        assert!(label("Rate").unwrap_err().contains("not a cell"));
        assert!(label("Missing").unwrap_err().contains("neither"));
    }
}
