//! The `parse` operation: load a workbook, analyse its formulas, and optionally recalculate it
//! and compare with the values Excel stored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use mcsim_engine::{CellId, Evaluator, Graph, Model, Value};
use mcsim_workbook::LoadOptions;
use serde::Serialize;

use crate::compare::{JsonValue, values_match};
use crate::error::OpsError;
use crate::validation::{ConditionalFormatReport, DataValidationReport};

/// What [`parse()`] does.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseOptions {
    /// The workbook (`.xlsx` or `.xlsm`).
    pub path: PathBuf,
    /// Recalculate every formula cell and compare with the values stored in the file.
    pub recalc: bool,
    /// The loader's limits.
    pub load: LoadOptions,
}

impl ParseOptions {
    /// Options for the workbook at `path`: no recalculation, default loader limits.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ParseOptions {
            path: path.into(),
            recalc: false,
            load: LoadOptions::default(),
        }
    }

    /// Sets [`recalc`](Self::recalc).
    #[must_use]
    pub fn with_recalc(mut self, recalc: bool) -> Self {
        self.recalc = recalc;
        self
    }

    /// Sets [`load`](Self::load).
    #[must_use]
    pub fn with_load_options(mut self, load: LoadOptions) -> Self {
        self.load = load;
        self
    }
}

/// What [`parse()`] found. Serialises to the JSON that `mcsim parse --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ParseReport {
    /// The workbook's path, as given.
    pub path: String,
    /// The file name part of the path.
    pub file_name: String,
    /// The workbook's date system: `"1900"` or `"1904"`.
    pub date_system: &'static str,
    /// Worksheets in workbook order.
    pub sheets: Vec<SheetSummary>,
    /// Counts over the whole workbook.
    pub totals: Totals,
    /// Every function called, with the number of formula cells calling it; most used first.
    pub functions: Vec<FunctionUse>,
    /// Functions mcsim does not implement (cells using them evaluate to `#NAME?`), by name.
    pub unsupported: Vec<UnsupportedFunction>,
    /// Formulas that do not parse.
    pub parse_errors: Vec<FormulaError>,
    /// Circular references: each is the list of formula cells of one cycle (`Sheet1!A1`).
    pub cycles: Vec<Vec<String>>,
    /// Non-fatal problems met while loading.
    pub warnings: Vec<String>,
    /// With [`ParseOptions::recalc`]: the recalculation and its comparison with the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recalc: Option<Recalc>,
    /// What a simulation would use: distribution cells (inputs), output markers, RAND() cells.
    pub simulation: SimulationSummary,
    /// What-If data tables (`{=TABLE(..)}`), recalculated with `--recalc` and in runs.
    pub data_tables: Vec<TableSummary>,
    /// Data validation rules, checked against the recalculated values: the cells that break
    /// them, and the rules whose formulas do not resolve.
    pub data_validations: DataValidationReport,
    /// Conditional formats: their rules, and those whose formulas do not resolve.
    pub conditional_formats: ConditionalFormatReport,
}

/// One What-If data table.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    /// The result cells: `Sheet!B2:C20`.
    pub range: String,
    /// `=TABLE(row_input,col_input)`.
    pub formula: String,
    /// The result formulas' cells (the cells the table recalculates for each input value).
    pub result_formulas: Vec<String>,
    /// Recalculations the table does (its number of input values).
    pub runs: u64,
    /// The result formulas depend on RAND() or another volatile function.
    pub volatile: bool,
    /// The table is the simulation loop: a RAND() model whose input cell is blank or unused, so
    /// each row is one more draw. `mcsim run` then simulates the result formulas directly, with
    /// as many iterations as the table has rows.
    pub simulation_loop: bool,
}

/// The uncertain inputs and outputs the workbook declares in its formulas.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SimulationSummary {
    /// Distribution cells (`=RiskNormal(..)`, `=PsiTriangular(..)`).
    pub inputs: Vec<ParsedInput>,
    /// Output cells (`=RiskOutput("NPV")+..`).
    pub outputs: Vec<ParsedOutput>,
    /// Cells calling RAND()/RANDBETWEEN(): each call is an independent uniform per iteration.
    pub rand_cells: Vec<String>,
    /// Distribution cells that cannot be simulated as written, with the reason.
    pub problems: Vec<String>,
    /// When the workbook has uncertainty but marks no outputs: cells a user would likely pick
    /// as outputs (data-table result formulas, else summaries such as AVERAGE/PERCENTILE of
    /// stochastic cells, else stochastic formula cells no other formula reads).
    pub suggested_outputs: Vec<String>,
    /// The `mcsim run` command line to start from, when the workbook marks no outputs.
    pub suggested_command: Option<String>,
}

/// One distribution cell.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedInput {
    /// `Sheet!A1`.
    pub cell: String,
    /// RiskName, or the cell.
    pub name: String,
    /// The distribution.
    pub distribution: mcsim_sampling::Distribution,
    /// Truncation and shift.
    pub modifiers: mcsim_sampling::Modifiers,
    /// The value shown without a simulation: RiskStatic, else the mean (after truncation/shift).
    pub value: f64,
}

/// One output cell.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedOutput {
    /// `Sheet!A1`.
    pub cell: String,
    /// The name given, or the cell.
    pub name: String,
    /// `true` when it depends on no input, distribution or RAND() (the same every iteration).
    pub deterministic: bool,
}

impl ParseReport {
    /// `true` when a recalculation was done and some computed value disagrees with the value
    /// stored in the file.
    pub fn has_mismatches(&self) -> bool {
        self.recalc
            .as_ref()
            .is_some_and(|r| r.summary.mismatched > 0)
    }
}

/// One worksheet.
#[derive(Debug, Clone, Serialize)]
pub struct SheetSummary {
    /// The sheet's name.
    pub name: String,
    /// Non-empty cells (values and formulas).
    pub cells: usize,
    /// Formula cells (each cell of an array formula's range counts).
    pub formulas: usize,
}

/// Counts over the whole workbook.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    /// Worksheets.
    pub sheets: usize,
    /// Non-empty cells.
    pub cells: usize,
    /// Formula cells.
    pub formulas: usize,
    /// Distinct functions called.
    pub functions: usize,
    /// Distinct functions mcsim does not implement.
    pub unsupported_functions: usize,
    /// Formulas that do not parse.
    pub parse_errors: usize,
    /// Circular references.
    pub cycles: usize,
}

/// How often a function is used.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionUse {
    /// Upper-case name without `_xlfn.` (`NORM.INV`).
    pub name: String,
    /// Formula cells that call it (a cell calling it twice counts once).
    pub cells: usize,
    /// Whether mcsim implements it.
    pub supported: bool,
}

/// A function mcsim does not implement, and where it is used.
#[derive(Debug, Clone, Serialize)]
pub struct UnsupportedFunction {
    /// Upper-case name without `_xlfn.`.
    pub name: String,
    /// The cells that call it (`Sheet1!B3`), in workbook order.
    pub cells: Vec<String>,
}

/// A formula that does not parse.
#[derive(Debug, Clone, Serialize)]
pub struct FormulaError {
    /// The sheet.
    pub sheet: String,
    /// The cell (`B3`).
    pub cell: String,
    /// The formula as stored, with its leading `=`.
    pub formula: String,
    /// 1-based character position of the problem in `formula` (the `=` is position 1).
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

/// A recalculation compared with the values stored in the file.
#[derive(Debug, Clone, Serialize)]
pub struct Recalc {
    /// The counts.
    pub summary: RecalcSummary,
    /// Every formula cell, in workbook order (sheet, then row, then column).
    pub cells: Vec<CellResult>,
}

/// Counts of a recalculation. `compared + skipped_volatile + no_cached_value == formula_cells`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecalcSummary {
    /// Formula cells recalculated.
    pub formula_cells: usize,
    /// Cells whose computed value was compared with a stored one.
    pub compared: usize,
    /// Compared cells that match (see [`values_match`]).
    pub matched: usize,
    /// Compared cells that do not match.
    pub mismatched: usize,
    /// Cells not compared because their formula calls a volatile function (RAND, NOW, ...).
    pub skipped_volatile: usize,
    /// Cells not compared because the file stored no value for them.
    pub no_cached_value: usize,
}

/// The outcome for one formula cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// The computed value matches the stored one.
    Match,
    /// It does not.
    Mismatch,
    /// Not compared: the formula calls a volatile function.
    Volatile,
    /// Not compared: the file stored no value.
    NoCachedValue,
}

/// One formula cell after recalculation.
#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    /// The cell: `Sheet1!B3`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its formula, with the leading `=`.
    pub formula: String,
    /// The value mcsim computed.
    pub value: JsonValue,
    /// The value stored in the file (`null` when none was stored).
    pub cached: JsonValue,
    /// The comparison's outcome.
    pub status: CellStatus,
}

/// Loads the workbook at `options.path` and reports on its formulas; with `options.recalc`,
/// recalculates every formula cell and compares the results with the values Excel stored.
///
/// A workbook that loads always gives a report: unsupported functions, formulas that do not
/// parse and circular references are findings in it, not errors.
///
/// # Errors
///
/// [`OpsError::Load`] when the file cannot be loaded.
#[tracing::instrument(skip_all, fields(path = %options.path.display(), recalc = options.recalc))]
pub fn parse(options: &ParseOptions) -> Result<ParseReport, OpsError> {
    let started = Instant::now();
    let mut workbook = mcsim_workbook::load(&options.path, &options.load)?;
    let validations = std::mem::take(&mut workbook.data_validations);
    let formats = std::mem::take(&mut workbook.conditional_formats);
    tracing::debug!(elapsed = ?started.elapsed(), sheets = workbook.sheets.len(), "loaded");

    let started = Instant::now();
    let model = Model::from_workbook(&workbook);
    drop(workbook);
    let graph = Graph::build(&model);
    tracing::debug!(
        elapsed = ?started.elapsed(),
        cells = model.cells.len(),
        formulas = model.formulas.len(),
        cycles = graph.cycles.len(),
        "compiled"
    );

    let mut report = analyse(&options.path, &model, &graph);
    let (mut simulation, fixed) = simulation_summary(&model, &graph);
    report.data_tables = table_summaries(&model, &graph);
    suggest(
        &options.path,
        &model,
        &graph,
        &report.data_tables,
        &mut simulation,
    );
    report.simulation = simulation;
    // One recalculation serves the validation check and `--recalc`. Conditional formats alone
    // only need their formulas resolved: a lazy evaluator computes what they read.
    let mut state =
        (options.recalc || !validations.is_empty()).then(|| recalculated(&model, &graph, &fixed));
    if !(validations.is_empty() && formats.is_empty()) {
        let started = Instant::now();
        let mut lazy;
        let ev = match state.as_mut() {
            Some((ev, _)) => ev,
            None => {
                lazy = Evaluator::new(&model);
                for &(cell, v) in &fixed {
                    lazy.set_value(cell, Value::Number(v));
                }
                &mut lazy
            }
        };
        report.data_validations = crate::validation::check_validations(&model, ev, &validations);
        report.data_validations.input_warnings =
            crate::validation::input_warnings(&model, ev, &validations, &report.simulation.inputs);
        report.conditional_formats = crate::validation::check_formats(&model, ev, &formats);
        tracing::debug!(elapsed = ?started.elapsed(), "validation checked");
    }
    if options.recalc
        && let Some(state) = state
    {
        let started = Instant::now();
        report.recalc = Some(recalc_with(&model, &graph, state));
        tracing::debug!(elapsed = ?started.elapsed(), "recalculated");
    }
    Ok(report)
}

/// Distribution cells, outputs and RAND() cells; and the value each distribution cell shows
/// without a simulation.
fn simulation_summary(model: &Model, graph: &Graph) -> (SimulationSummary, Vec<(CellId, f64)>) {
    use mcsim_engine::sim::inputs::is_distribution;
    let mut summary = SimulationSummary::default();
    let relevant = model.formulas.iter().any(|f| {
        f.expr.as_ref().is_ok_and(|e| {
            e.functions().into_iter().any(|n| {
                is_distribution(n) || n.ends_with("OUTPUT") || n == "RAND" || n == "RANDBETWEEN"
            })
        })
    });
    if !relevant {
        return (summary, Vec::new());
    }
    let mut ev = Evaluator::new(model);
    mcsim_engine::sim::recalculate(&mut ev, graph, &[]);
    let mut detected = mcsim_engine::sim::inputs::detect(model, &mut ev);
    {
        let sites: Vec<mcsim_engine::sim::Site> = detected
            .inputs
            .iter()
            .map(|c| {
                let d = &model.cells[c.cell as usize];
                mcsim_engine::sim::Site {
                    key: mcsim_engine::sim::SiteKey {
                        sheet: d.sheet,
                        row: d.row,
                        col: d.col,
                        offset: c.offset,
                    },
                    kind: mcsim_engine::sim::SiteKind::Sampled,
                }
            })
            .collect();
        let sto = mcsim_engine::sim::stochastic_cells(model, graph, &[], &sites, &[]);
        mcsim_engine::sim::inputs::mark_dynamic(model, &mut detected, &sto);
    }
    let mut fixed = Vec::new();
    let mut seeds = vec![false; model.cells.len()];
    for call in &detected.inputs {
        seeds[call.cell as usize] = true;
        let dist = match mcsim_engine::sim::dists::distribution(call) {
            // Parameters that change from iteration to iteration may be invalid at the base case.
            Err(_) if call.dynamic => continue,
            Ok(d) => d,
            Err(m) => {
                summary.problems.push(format!("{}: {m}", call.label));
                continue;
            }
        };
        let modifiers = mcsim_sampling::Modifiers {
            truncate: call
                .truncate
                .map(|(min, max)| mcsim_sampling::Truncation { min, max }),
            shift: call.shift.unwrap_or(0.0),
        };
        let value = match mcsim_sampling::Sampler::with_modifiers(&dist, modifiers) {
            Ok(s) => call.static_value.unwrap_or_else(|| s.mean()),
            Err(e) => {
                summary.problems.push(format!("{}: {e}", call.label));
                continue;
            }
        };
        // A cell that is only the call shows its static value or mean; a call inside a larger
        // formula is computed with the formula.
        if call.whole_cell {
            fixed.push((call.cell, value));
        }
        summary.inputs.push(ParsedInput {
            cell: call.label.clone(),
            name: call.name.clone().unwrap_or_else(|| call.label.clone()),
            distribution: dist,
            modifiers,
            value,
        });
    }
    for &c in &detected.rand_cells {
        seeds[c as usize] = true;
        summary.rand_cells.push(model.cell_label(c));
    }
    let downstream = graph.downstream(model, &seeds);
    for o in &detected.outputs {
        summary.outputs.push(ParsedOutput {
            cell: model.cell_label(o.cell),
            name: o.name.clone().unwrap_or_else(|| model.cell_label(o.cell)),
            deterministic: !downstream[o.cell as usize],
        });
    }
    (summary, fixed)
}

/// Everything but the recalculation.
fn analyse(path: &Path, model: &Model, graph: &Graph) -> ParseReport {
    let mut sheets: Vec<SheetSummary> = model
        .sheets
        .iter()
        .map(|s| SheetSummary {
            name: s.name.clone(),
            cells: 0,
            formulas: 0,
        })
        .collect();
    for cell in &model.cells {
        if let Some(s) = sheets.get_mut(cell.sheet as usize) {
            s.cells += 1;
            if cell.formula.is_some() {
                s.formulas += 1;
            }
        }
    }

    // Function use, per cell, in workbook order.
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut unsupported: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut parse_errors = Vec::new();
    for cell_id in workbook_order(model) {
        let cell = &model.cells[cell_id as usize];
        let Some(fid) = cell.formula else { continue };
        let formula = &model.formulas[fid as usize];
        match &formula.expr {
            Ok(expr) => {
                let mut names = expr.functions();
                names.sort_unstable();
                names.dedup();
                // Calls of LAMBDAs (defined names, LET variables) are not missing functions.
                let missing = mcsim_engine::eval::unsupported_calls(model, cell.sheet, expr);
                for name in names {
                    *counts.entry(name).or_default() += 1;
                    if missing.contains(&name) {
                        unsupported
                            .entry(name)
                            .or_default()
                            .push(model.cell_label(cell_id));
                    }
                }
            }
            // A cell of a shared formula has no text of its own: its anchor's error is reported.
            Err(err) if !formula.source.is_empty() => {
                let text = &formula.source;
                let start = (err.span.start as usize).min(text.len());
                let chars_before = text
                    .get(..start)
                    .map_or(start, |prefix| prefix.chars().count());
                parse_errors.push(FormulaError {
                    sheet: model.sheets[cell.sheet as usize].name.clone(),
                    cell: mcsim_formula::a1(cell.row, cell.col),
                    formula: format!("={text}"),
                    position: chars_before + 2,
                    message: err.message.clone(),
                });
            }
            Err(_) => {}
        }
    }
    let mut functions: Vec<FunctionUse> = counts
        .into_iter()
        .map(|(name, cells)| FunctionUse {
            name: name.to_owned(),
            cells,
            supported: !unsupported.contains_key(name),
        })
        .collect();
    functions.sort_by(|a, b| b.cells.cmp(&a.cells).then_with(|| a.name.cmp(&b.name)));
    let unsupported: Vec<UnsupportedFunction> = unsupported
        .into_iter()
        .map(|(name, cells)| UnsupportedFunction {
            name: name.to_owned(),
            cells,
        })
        .collect();

    let cycles: Vec<Vec<String>> = graph
        .cycles
        .iter()
        .map(|cycle| {
            let mut cells = cycle.clone();
            cells.sort_by_key(|&id| position(model, id));
            cells.iter().map(|&id| model.cell_label(id)).collect()
        })
        .collect();

    let totals = Totals {
        sheets: sheets.len(),
        cells: sheets.iter().map(|s| s.cells).sum(),
        formulas: sheets.iter().map(|s| s.formulas).sum(),
        functions: functions.len(),
        unsupported_functions: unsupported.len(),
        parse_errors: parse_errors.len(),
        cycles: cycles.len(),
    };
    ParseReport {
        path: path.display().to_string(),
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        date_system: if model.date1904 { "1904" } else { "1900" },
        sheets,
        totals,
        functions,
        unsupported,
        parse_errors,
        cycles,
        warnings: model.warnings.clone(),
        recalc: None,
        simulation: SimulationSummary::default(),
        data_tables: Vec::new(),
        data_validations: DataValidationReport::default(),
        conditional_formats: ConditionalFormatReport::default(),
    }
}

/// A recalculated evaluator and the data-table cells with their new values.
type Recalculated<'m> = (Evaluator<'m>, Vec<(CellId, Value)>);

/// Recalculates the workbook: distribution cells show their RiskStatic value or their mean, as
/// @RISK does outside a simulation; circular references iterate, as Excel's iterative
/// calculation; then the data tables.
fn recalculated<'m>(model: &'m Model, graph: &Graph, fixed: &[(CellId, f64)]) -> Recalculated<'m> {
    let mut evaluator = Evaluator::new(model);
    for &(cell, v) in fixed {
        evaluator.set_value(cell, Value::Number(v));
    }
    let keep: Vec<CellId> = fixed.iter().map(|f| f.0).collect();
    mcsim_engine::sim::recalculate(&mut evaluator, graph, &keep);
    let tables = mcsim_engine::table::recalc(model, graph, &mut evaluator, &keep);
    (evaluator, tables)
}

/// Recalculates every formula cell and compares with the stored values.
#[cfg(test)]
fn recalc(model: &Model, graph: &Graph, fixed: &[(CellId, f64)]) -> Recalc {
    recalc_with(model, graph, recalculated(model, graph, fixed))
}

/// Compares the values of a recalculation ([`recalculated`]) with the stored values.
fn recalc_with(model: &Model, graph: &Graph, (evaluator, tables): Recalculated<'_>) -> Recalc {
    let values = evaluator.values();

    // A cell is volatile when it calls a volatile function (RAND, NOW, TODAY, ...) or depends on
    // one: Excel's stored value is from another moment. Array cells follow their anchor. The
    // cells of a data table whose model is volatile are volatile too, and so are their readers.
    let mut volatile = graph.volatile_cells(model);
    let uses = mcsim_engine::table::uses(model, graph);
    let mut table_formula: HashMap<CellId, String> = HashMap::new();
    let mut volatile_table = false;
    for (t, u) in model.tables.iter().zip(&uses) {
        let text = format!("={}", t.formula_text(model));
        for c in t.cells(model) {
            table_formula.insert(c, text.clone());
            if u.volatile {
                volatile[c as usize] = true;
                volatile_table = true;
            }
        }
    }
    if volatile_table {
        volatile = graph.downstream(model, &volatile);
    }
    let volatile_cells: HashSet<CellId> = tables
        .iter()
        .map(|t| t.0)
        .filter(|&c| volatile[c as usize])
        .collect();
    let volatile_formula: HashSet<CellId> = model
        .formulas
        .iter()
        .filter(|f| volatile[f.cell as usize])
        .map(|f| f.cell)
        .collect();

    let mut summary = RecalcSummary::default();
    let mut cells = Vec::new();
    for cell_id in workbook_order(model) {
        let cell = &model.cells[cell_id as usize];
        let (text, owner) = match (cell.formula, table_formula.get(&cell_id)) {
            (Some(fid), _) => {
                let formula = &model.formulas[fid as usize];
                (
                    format!("={}", formula.text()),
                    formula.array.map_or(cell_id, |part| part.anchor),
                )
            }
            (None, Some(text)) => (text.clone(), cell_id),
            (None, None) => continue,
        };
        let computed = values.get(cell_id as usize).unwrap_or(&Value::Empty);
        let status = if volatile_formula.contains(&owner) || volatile_cells.contains(&owner) {
            summary.skipped_volatile += 1;
            CellStatus::Volatile
        } else if cell.stored.is_empty() {
            summary.no_cached_value += 1;
            CellStatus::NoCachedValue
        } else {
            summary.compared += 1;
            if values_match(computed, &cell.stored) {
                summary.matched += 1;
                CellStatus::Match
            } else {
                summary.mismatched += 1;
                CellStatus::Mismatch
            }
        };
        summary.formula_cells += 1;
        cells.push(CellResult {
            reference: model.cell_label(cell_id),
            formula: text,
            value: JsonValue::from(computed),
            cached: JsonValue::from(&cell.stored),
            status,
        });
    }
    Recalc { summary, cells }
}

/// The data tables and how each is used.
fn table_summaries(model: &Model, graph: &Graph) -> Vec<TableSummary> {
    let uses = mcsim_engine::table::uses(model, graph);
    model
        .tables
        .iter()
        .zip(uses)
        .map(|(t, u)| TableSummary {
            range: t.label(model),
            formula: format!("={}", t.formula_text(model)),
            result_formulas: t
                .result_formulas(model)
                .into_iter()
                .map(|c| model.cell_label(c))
                .collect(),
            runs: t.runs(),
            volatile: u.volatile,
            simulation_loop: u.simulation_loop(),
        })
        .collect()
}

/// Summary functions whose cell a user would pick as an output, best first.
const SUMMARY_FUNCTIONS: &[&[&str]] = &[
    &[
        "AVERAGE",
        "PERCENTILE",
        "PERCENTILE.INC",
        "PERCENTILE.EXC",
        "MEDIAN",
    ],
    &[
        "STDEV",
        "STDEV.S",
        "STDEV.P",
        "VAR",
        "VAR.S",
        "VAR.P",
        "QUARTILE",
        "QUARTILE.INC",
        "COUNTIF",
        "COUNTIFS",
        "AVERAGEIF",
        "AVERAGEIFS",
    ],
];

/// Quotes a reference for a POSIX shell: `'Sheet 1!B5'` (the sheet's own quotes dropped,
/// which `mcsim run --output` accepts).
fn shell_ref(model: &Model, cell: CellId) -> String {
    let c = &model.cells[cell as usize];
    let sheet = &model.sheets[c.sheet as usize].name;
    let plain = format!("{sheet}!{}", mcsim_formula::a1(c.row, c.col));
    if plain
        .chars()
        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '!' | '_' | '.' | '-'))
    {
        plain
    } else if !plain.contains('\'') {
        format!("'{plain}'")
    } else {
        format!("\"{}\"", plain.replace('"', "\\\""))
    }
}

fn shell_path(path: &Path) -> String {
    let p = path.display().to_string();
    if p.chars()
        .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '/' | '_' | '.' | '-'))
    {
        p
    } else {
        format!("'{}'", p.replace('\'', "'\\''"))
    }
}

/// Suggests outputs and a command line for a workbook with uncertainty and no outputs.
fn suggest(
    path: &Path,
    model: &Model,
    graph: &Graph,
    tables: &[TableSummary],
    sim: &mut SimulationSummary,
) {
    if !sim.outputs.is_empty() || (sim.inputs.is_empty() && sim.rand_cells.is_empty()) {
        return;
    }
    let path_text = shell_path(path);
    // Data tables: their result formulas are the outputs, no flag needed.
    if tables.iter().any(|t| t.volatile || t.simulation_loop) {
        sim.suggested_outputs = tables
            .iter()
            .filter(|t| t.volatile)
            .flat_map(|t| t.result_formulas.iter().cloned())
            .collect();
        sim.suggested_outputs.dedup();
        sim.suggested_command = Some(format!("mcsim run {path_text}"));
        return;
    }
    // Stochastic formula cells: downstream of RAND() cells and distribution cells.
    let mut seeds = vec![false; model.cells.len()];
    for label in sim
        .rand_cells
        .iter()
        .chain(sim.inputs.iter().map(|i| &i.cell))
    {
        if let Some(id) = find_label(model, label) {
            seeds[id as usize] = true;
        }
    }
    let stochastic = graph.downstream(model, &seeds);
    // Cells some formula reads.
    let mut read = vec![false; model.cells.len()];
    for areas in &graph.reads {
        for a in areas {
            let Some(sheet) = model.sheets.get(a.sheet as usize) else {
                continue;
            };
            let Some(b) = sheet.clip(a.bounds) else {
                continue;
            };
            for col in b.c1..=b.c2 {
                for &(_, id) in sheet.column_slice(col, b.r1, b.r2) {
                    read[id as usize] = true;
                }
            }
        }
    }
    let calls = |cell: CellId, names: &[&str]| {
        model.cells[cell as usize]
            .formula
            .and_then(|f| model.formulas[f as usize].expr.as_ref().ok())
            .is_some_and(|e| e.functions().iter().any(|n| names.contains(n)))
    };
    let candidates: Vec<CellId> = workbook_order(model)
        .into_iter()
        .filter(|&c| {
            stochastic[c as usize]
                && !seeds[c as usize]
                && model.cells[c as usize].formula.is_some()
        })
        .collect();
    let mut picked: Vec<CellId> = Vec::new();
    for names in SUMMARY_FUNCTIONS {
        if picked.is_empty() {
            picked = candidates
                .iter()
                .copied()
                .filter(|&c| calls(c, names))
                .collect();
        }
    }
    if !picked.is_empty() {
        // Summaries that feed a model result (an option price from an average payoff): the
        // results nothing else reads.
        let mut marks = vec![false; model.cells.len()];
        for &c in &picked {
            marks[c as usize] = true;
        }
        let fed = graph.downstream(model, &marks);
        let results: Vec<CellId> = candidates
            .iter()
            .copied()
            .filter(|&c| fed[c as usize] && !marks[c as usize] && !read[c as usize])
            .collect();
        if (1..=4).contains(&results.len()) {
            picked = results;
        }
    }
    if picked.is_empty() {
        // Stochastic formula cells nothing reads (a per-iteration model's results), RAND() cells
        // included: all of them when few, else the first and the last.
        let sinks: Vec<CellId> = workbook_order(model)
            .into_iter()
            .filter(|&c| {
                stochastic[c as usize]
                    && !read[c as usize]
                    && model.cells[c as usize].formula.is_some()
            })
            .collect();
        picked = if sinks.len() <= 3 {
            sinks
        } else {
            vec![sinks[0], sinks[sinks.len() - 1]]
        };
    }
    picked.truncate(4);
    if picked.is_empty() {
        return;
    }
    sim.suggested_outputs = picked.iter().map(|&c| model.cell_label(c)).collect();
    let flags: Vec<String> = picked
        .iter()
        .map(|&c| format!("--output {}", shell_ref(model, c)))
        .collect();
    sim.suggested_command = Some(format!("mcsim run {path_text} {}", flags.join(" ")));
}

/// The cell of a `Sheet!A1` label.
fn find_label(model: &Model, label: &str) -> Option<CellId> {
    let (sheet, addr) = label.rsplit_once('!')?;
    let sheet = sheet
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .map_or_else(|| sheet.to_string(), |s| s.replace("''", "'"));
    let (r, c) = mcsim_formula::parse_a1(addr)?;
    model.find(model.sheet_id(&sheet)?, r, c)
}

/// A cell's position for sorting: sheet, row, column.
fn position(model: &Model, id: CellId) -> (u32, u32, u32) {
    let c = &model.cells[id as usize];
    (c.sheet, c.row, c.col)
}

/// Every cell id, by sheet, then row, then column.
fn workbook_order(model: &Model) -> Vec<CellId> {
    let mut ids: Vec<CellId> = (0..model.cells.len() as CellId).collect();
    ids.sort_by_key(|&id| position(model, id));
    ids
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use mcsim_engine::quick::workbook;

    fn report(cells: &[(&str, &str)], with_recalc: bool) -> ParseReport {
        let model = Model::from_workbook(&workbook(cells));
        let graph = Graph::build(&model);
        let mut r = analyse(Path::new("dir/book.xlsx"), &model, &graph);
        if with_recalc {
            r.recalc = Some(recalc(&model, &graph, &[]));
        }
        r
    }

    #[test]
    fn counts_sheets_cells_and_formulas() {
        let r = report(&[("A1", "1"), ("A2", "=A1+1"), ("Data!B2", "=A1")], false);
        assert_eq!(r.file_name, "book.xlsx");
        assert_eq!(r.date_system, "1900");
        assert_eq!(r.totals.sheets, 2);
        assert_eq!(r.totals.cells, 3);
        assert_eq!(r.totals.formulas, 2);
        assert_eq!(r.sheets[0].name, "Sheet1");
        assert_eq!(r.sheets[0].formulas, 1);
        assert!(r.recalc.is_none());
    }

    #[test]
    fn reports_unsupported_functions_with_their_cells() {
        let r = report(
            &[
                ("A1", "=NOSUCHFN(1)+NOSUCHFN(2)"),
                ("B2", "=NOSUCHFN(3)"),
                ("C1", "=IF(TRUE,1,2)"),
            ],
            false,
        );
        let f = r.functions.iter().find(|f| f.name == "NOSUCHFN").unwrap();
        assert_eq!(f.cells, 2);
        assert!(!f.supported);
        assert_eq!(r.unsupported.len(), 1);
        assert_eq!(r.unsupported[0].cells, vec!["Sheet1!A1", "Sheet1!B2"]);
        assert!(r.functions.iter().any(|f| f.name == "IF" && f.supported));
        assert_eq!(r.totals.unsupported_functions, 1);
    }

    #[test]
    fn reports_parse_errors_with_a_position() {
        let r = report(&[("B3", "=1+*2")], false);
        assert_eq!(r.parse_errors.len(), 1);
        let e = &r.parse_errors[0];
        assert_eq!((e.sheet.as_str(), e.cell.as_str()), ("Sheet1", "B3"));
        assert_eq!(e.formula, "=1+*2");
        assert_eq!(e.position, 4, "{e:?}");
    }

    #[test]
    fn reports_cycles() {
        let r = report(&[("A1", "=B1"), ("B1", "=A1"), ("C1", "=C1")], false);
        assert_eq!(r.totals.cycles, 2);
        assert!(
            r.cycles
                .contains(&vec!["Sheet1!A1".to_owned(), "Sheet1!B1".to_owned()])
        );
    }

    #[test]
    fn recalc_lists_every_formula_cell() {
        let r = report(&[("A1", "2"), ("B1", "=A1*3"), ("C1", "=RAND()")], true);
        let recalc = r.recalc.unwrap();
        assert_eq!(recalc.cells.len(), 2);
        assert_eq!(recalc.cells[0].reference, "Sheet1!B1");
        assert_eq!(recalc.cells[0].formula, "=A1*3");
        assert_eq!(recalc.cells[0].value, JsonValue::Number(6.0));
        assert_eq!(recalc.cells[0].cached, JsonValue::Null);
        assert_eq!(recalc.cells[0].status, CellStatus::NoCachedValue);
        assert_eq!(recalc.cells[1].status, CellStatus::Volatile);
        assert_eq!(recalc.summary.formula_cells, 2);
        assert_eq!(recalc.summary.no_cached_value, 1);
        assert_eq!(recalc.summary.skipped_volatile, 1);
        assert_eq!(recalc.summary.compared, 0);
    }

    #[test]
    fn recalc_compares_with_cached_values() {
        let mut wb = workbook(&[("A1", "2"), ("B1", "=A1*3"), ("C1", "=A1+1")]);
        for c in &mut wb.sheets[0].cells {
            match c.col {
                1 => c.value = mcsim_workbook::CellValue::Number(6.0),
                2 => c.value = mcsim_workbook::CellValue::Number(4.0),
                _ => {}
            }
        }
        let model = Model::from_workbook(&wb);
        let graph = Graph::build(&model);
        let mut r = analyse(Path::new("x.xlsx"), &model, &graph);
        r.recalc = Some(recalc(&model, &graph, &[]));
        let s = &r.recalc.as_ref().unwrap().summary;
        assert_eq!((s.compared, s.matched, s.mismatched), (2, 1, 1));
        assert!(r.has_mismatches());
    }
}
