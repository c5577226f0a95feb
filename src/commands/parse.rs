//! `mcsim parse`: check a workbook, optionally recalculate it.

use std::io::{self, BufWriter, Write};

use anyhow::{Context, Result};
use mcsim_ops::parse::{CellStatus, ParseReport};
use mcsim_ops::{JsonValue, ParseOptions};

use super::{ExitStatus, Printer};
use crate::cli::{Format, ParseArgs};

/// Runs `mcsim parse`.
pub fn parse(args: ParseArgs, printer: Printer) -> Result<ExitStatus> {
    let options = ParseOptions {
        path: args.workbook,
        recalc: args.recalc,
        load: args.load.options(),
    };
    let report = mcsim_ops::parse(&options)?;
    for warning in &report.warnings {
        printer.warn(warning);
    }

    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report)
                .context("cannot encode the report as JSON")?;
            writeln!(out, "{json}")?;
        }
        Format::Table => write_table(&mut out, &report, args.show)?,
    }
    out.flush()?;

    Ok(if report.has_mismatches() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The human-readable summary.
fn write_table(out: &mut impl Write, report: &ParseReport, show: usize) -> io::Result<()> {
    let t = &report.totals;
    writeln!(
        out,
        "{}: {} sheet{}, {} cells, {} formula cells, {} date system",
        report.path,
        t.sheets,
        plural(t.sheets),
        t.cells,
        t.formulas,
        report.date_system
    )?;

    writeln!(out)?;
    writeln!(out, "Sheets")?;
    let width = report
        .sheets
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    for s in &report.sheets {
        writeln!(
            out,
            "  {:<width$}  {:>8} cell{}  {:>8} formula{}",
            s.name,
            s.cells,
            plural(s.cells),
            s.formulas,
            plural(s.formulas)
        )?;
    }

    writeln!(out)?;
    if report.functions.is_empty() {
        writeln!(out, "Functions: none")?;
    } else {
        let listed = report.functions.len().min(show);
        let more = if listed < report.functions.len() {
            format!(", the {listed} most used")
        } else {
            String::new()
        };
        writeln!(out, "Functions ({} distinct{more})", report.functions.len())?;
        let width = report.functions[..listed]
            .iter()
            .map(|f| f.name.len())
            .max()
            .unwrap_or(0);
        for f in &report.functions[..listed] {
            let note = if f.supported { "" } else { "  (not supported)" };
            writeln!(
                out,
                "  {:<width$}  {:>8} cell{}{note}",
                f.name,
                f.cells,
                plural(f.cells)
            )?;
        }
    }

    writeln!(out)?;
    if report.unsupported.is_empty() {
        writeln!(out, "Unsupported functions: none")?;
    } else {
        // The names on one line, then where each is called.
        let names: Vec<&str> = report.unsupported.iter().map(|f| f.name.as_str()).collect();
        writeln!(
            out,
            "Unsupported functions ({}): {} (cells calling them evaluate to #NAME?)",
            report.unsupported.len(),
            names.join(", ")
        )?;
        for f in &report.unsupported {
            let listed = f.cells.len().min(show);
            let mut cells = f.cells[..listed].join(", ");
            if listed < f.cells.len() {
                cells.push_str(&format!(", ... and {} more", f.cells.len() - listed));
            }
            writeln!(
                out,
                "  {}  {} cell{}: {cells}",
                f.name,
                f.cells.len(),
                plural(f.cells.len())
            )?;
        }
    }

    if report.parse_errors.is_empty() {
        writeln!(out, "Parse errors: none")?;
    } else {
        writeln!(
            out,
            "Parse errors ({}): these cells evaluate to #NAME?",
            report.parse_errors.len()
        )?;
        for e in report.parse_errors.iter().take(show) {
            writeln!(
                out,
                "  {}!{}  {}  position {}: {}",
                mcsim_formula::quote_sheet(&e.sheet),
                e.cell,
                truncate(&e.formula, 60),
                e.position,
                e.message
            )?;
        }
        more_line(out, report.parse_errors.len(), show)?;
    }

    if report.cycles.is_empty() {
        writeln!(out, "Circular references: none")?;
    } else {
        writeln!(out, "Circular references ({})", report.cycles.len())?;
        for cycle in report.cycles.iter().take(show) {
            let listed = cycle.len().min(show.max(2));
            let mut cells = cycle[..listed].join(", ");
            if listed < cycle.len() {
                cells.push_str(&format!(", ... and {} more", cycle.len() - listed));
            }
            writeln!(out, "  {cells}")?;
        }
        more_line(out, report.cycles.len(), show)?;
    }

    let sim = &report.simulation;
    if !(sim.inputs.is_empty()
        && sim.outputs.is_empty()
        && sim.rand_cells.is_empty()
        && sim.problems.is_empty())
    {
        writeln!(out)?;
        writeln!(out, "Simulation inputs ({})", sim.inputs.len())?;
        for i in sim.inputs.iter().take(show) {
            let label = if i.name == i.cell {
                i.cell.clone()
            } else {
                format!("{} ({})", i.name, i.cell)
            };
            writeln!(
                out,
                "  {label:<30} {:<60} shows {}",
                truncate(&format!("{:?}", i.distribution), 60),
                show_number(i.value)
            )?;
        }
        more_line(out, sim.inputs.len(), show)?;
        if !sim.rand_cells.is_empty() {
            writeln!(
                out,
                "  RAND() in {} cell{}: {}",
                sim.rand_cells.len(),
                plural(sim.rand_cells.len()),
                truncate(&sim.rand_cells.join(", "), 80)
            )?;
        }
        writeln!(out, "Simulation outputs ({})", sim.outputs.len())?;
        for o in sim.outputs.iter().take(show) {
            let det = if o.deterministic {
                "  (deterministic: depends on no input)"
            } else {
                ""
            };
            writeln!(
                out,
                "  {} {}{det}",
                o.name,
                if o.name == o.cell {
                    String::new()
                } else {
                    format!("({})", o.cell)
                }
            )?;
        }
        more_line(out, sim.outputs.len(), show)?;
        for p in &sim.problems {
            writeln!(out, "  problem: {p}")?;
        }
    }

    if !report.data_tables.is_empty() {
        writeln!(out)?;
        writeln!(out, "Data tables ({})", report.data_tables.len())?;
        for t in report.data_tables.iter().take(show) {
            let kind = if t.simulation_loop {
                "data table used as a simulation loop"
            } else if t.volatile {
                "what-if table over a RAND() model"
            } else {
                "what-if table"
            };
            writeln!(
                out,
                "  {} {}  {} recalculation{}; {kind}; result formula{}: {}",
                t.range,
                t.formula,
                t.runs,
                plural(t.runs as usize),
                plural(t.result_formulas.len()),
                truncate(&t.result_formulas.join(", "), 60)
            )?;
        }
        more_line(out, report.data_tables.len(), show)?;
    }
    let dv = &report.data_validations;
    if dv.rules > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "Data validation: {} rule{}, {} cell{} checked, {} violation{}",
            dv.rules,
            plural(dv.rules),
            dv.cells,
            plural(dv.cells),
            dv.violation_count,
            plural(dv.violation_count)
        )?;
        for v in dv.violations.iter().take(show) {
            writeln!(
                out,
                "  {:<20} {:<20} breaks {}",
                v.cell,
                truncate(&show_value(&v.value), 20),
                truncate(&v.rule, 60)
            )?;
        }
        more_line(out, dv.violation_count, show)?;
        for u in dv.unresolved.iter().take(show) {
            writeln!(
                out,
                "  not checked: {} {}: {}",
                u.range,
                truncate(&u.rule, 40),
                u.reason
            )?;
        }
        more_line(out, dv.unresolved.len(), show)?;
        for w in &dv.input_warnings {
            writeln!(out, "  warning: {w}")?;
        }
        if dv.unchecked_cells > 0 {
            writeln!(out, "  {} more cells not checked", dv.unchecked_cells)?;
        }
    }
    let cf = &report.conditional_formats;
    if cf.rules > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "Conditional formatting: {} rule{}, {} formula{}, {} unresolved",
            cf.rules,
            plural(cf.rules),
            cf.formulas,
            plural(cf.formulas),
            cf.unresolved.len()
        )?;
        for u in cf.unresolved.iter().take(show) {
            writeln!(out, "  {} {}: {}", u.range, truncate(&u.rule, 40), u.reason)?;
        }
        more_line(out, cf.unresolved.len(), show)?;
    }
    if let Some(cmd) = &sim.suggested_command {
        writeln!(out)?;
        if let Some(t) = report.data_tables.iter().find(|t| t.simulation_loop) {
            writeln!(
                out,
                "No outputs are marked; the data table {} is the simulation loop: `mcsim run` simulates its result formula{} ({}) directly, {} iterations by default:",
                t.range,
                plural(t.result_formulas.len()),
                t.result_formulas.join(", "),
                t.runs
            )?;
        } else if !report.data_tables.is_empty()
            && sim.suggested_outputs.iter().all(|o| {
                report
                    .data_tables
                    .iter()
                    .any(|t| t.result_formulas.contains(o))
            })
        {
            writeln!(
                out,
                "No outputs are marked; `mcsim run` simulates the data tables' result formulas ({}):",
                sim.suggested_outputs.join(", ")
            )?;
        } else {
            writeln!(
                out,
                "No outputs are marked; name some with --output (suggested: {}):",
                sim.suggested_outputs.join(", ")
            )?;
        }
        writeln!(out, "  {cmd}")?;
    }

    if let Some(recalc) = &report.recalc {
        let s = &recalc.summary;
        writeln!(out)?;
        writeln!(
            out,
            "Recalculation: {} formula cell{}",
            s.formula_cells,
            plural(s.formula_cells)
        )?;
        writeln!(out, "  compared with stored values  {:>8}", s.compared)?;
        writeln!(out, "  matched                      {:>8}", s.matched)?;
        writeln!(out, "  mismatched                   {:>8}", s.mismatched)?;
        writeln!(
            out,
            "  skipped (volatile)           {:>8}",
            s.skipped_volatile
        )?;
        writeln!(
            out,
            "  no stored value              {:>8}",
            s.no_cached_value
        )?;

        let mismatches: Vec<_> = recalc
            .cells
            .iter()
            .filter(|c| c.status == CellStatus::Mismatch)
            .collect();
        if !mismatches.is_empty() {
            let listed = mismatches.len().min(show);
            writeln!(out)?;
            if listed < mismatches.len() {
                writeln!(
                    out,
                    "Mismatches (the first {listed} of {}; --show N lists more)",
                    mismatches.len()
                )?;
            } else {
                writeln!(out, "Mismatches ({})", mismatches.len())?;
            }
            let rows: Vec<[String; 4]> = mismatches[..listed]
                .iter()
                .map(|c| {
                    [
                        c.reference.clone(),
                        truncate(&c.formula, 50),
                        show_value(&c.value),
                        show_value(&c.cached),
                    ]
                })
                .collect();
            let header = [
                "cell".to_owned(),
                "formula".to_owned(),
                "computed".to_owned(),
                "stored".to_owned(),
            ];
            let mut widths = [0usize; 4];
            for row in std::iter::once(&header).chain(&rows) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for row in std::iter::once(&header).chain(&rows) {
                writeln!(
                    out,
                    "  {:<w0$}  {:<w1$}  {:<w2$}  {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2]
                )?;
            }
        }
        writeln!(out)?;
        if s.compared == 0 {
            writeln!(
                out,
                "Result: ok, nothing to compare (the file stores no values for these formula cells)"
            )?;
        } else if s.mismatched == 0 {
            writeln!(
                out,
                "Result: ok, {} of {} compared cells match",
                s.matched, s.compared
            )?;
        } else {
            writeln!(
                out,
                "Result: FAIL, {} of {} compared cells differ from the stored values",
                s.mismatched, s.compared
            )?;
        }
    }
    Ok(())
}

/// `... and N more` after a list cut at `show` items.
fn more_line(out: &mut impl Write, total: usize, show: usize) -> io::Result<()> {
    if total > show {
        writeln!(out, "  ... and {} more (--show N lists more)", total - show)?;
    }
    Ok(())
}

fn show_number(v: f64) -> String {
    // Ten significant digits, shortest form.
    let r: f64 = format!("{v:.9e}").parse().unwrap_or(v);
    format!("{r}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Shortens text to `max` characters, ending with `...` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(3)).collect();
        cut.push_str("...");
        cut
    }
}

/// A value as the table shows it.
fn show_value(v: &JsonValue) -> String {
    match v {
        JsonValue::Null => "(empty)".to_owned(),
        JsonValue::Number(n) => format!("{n}"),
        JsonValue::Text(t) => format!("{:?}", truncate(t, 40)),
        JsonValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        JsonValue::Error { error } => error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_values() {
        assert_eq!(show_value(&JsonValue::Number(0.5)), "0.5");
        assert_eq!(show_value(&JsonValue::Text("a".into())), "\"a\"");
        assert_eq!(show_value(&JsonValue::Bool(true)), "TRUE");
        assert_eq!(show_value(&JsonValue::Null), "(empty)");
        assert_eq!(
            show_value(&JsonValue::Error {
                error: "#N/A".into()
            }),
            "#N/A"
        );
    }

    #[test]
    fn truncates_long_text() {
        assert_eq!(truncate("abcdef", 10), "abcdef");
        assert_eq!(truncate("abcdefghijkl", 8), "abcde...");
        assert_eq!(truncate("ééééé", 4), "é...");
    }
}
