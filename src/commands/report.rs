//! Printing simulation results for people, shared by `run` and `results`: number formatting,
//! aligned tables, the statistics table and each output's details.

use std::io::{self, Write};

use mcsim_results::{Sensitivity, Summary};

/// A number in at most about 6 significant digits; scientific notation for very large or small
/// magnitudes; `-` for an undefined statistic.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "-".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let a = v.abs();
    if !(1e-4..1e10).contains(&a) {
        return format!("{v:.4e}");
    }
    let magnitude = a.log10().floor() as i32;
    let decimals = (5 - magnitude).max(0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A percentile level (a fraction) as its percent label: `p5`, `p99.5`.
pub fn percentile_label(p: f64) -> String {
    format!("p{}", percent(p))
}

/// A fraction as a percent number without trailing zeros: 0.05 -> `5`, 0.995 -> `99.5`.
pub fn percent(p: f64) -> String {
    let text = format!("{:.6}", p * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A probability: 4 decimals.
pub fn probability(p: f64) -> String {
    if p.is_nan() {
        "-".to_owned()
    } else {
        format!("{p:.4}")
    }
}

/// A correlation-like coefficient with its sign.
fn coefficient(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:+.3}"))
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// Writes a table with a header row, columns separated by two spaces, indented by two.
pub fn write_table(
    out: &mut impl Write,
    header: &[&str],
    align: &[Align],
    rows: &[Vec<String>],
) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::from(" ");
        for (k, cell) in row.iter().enumerate() {
            let width = widths[k];
            line.push(' ');
            if k > 0 {
                line.push(' ');
            }
            match align.get(k).copied().unwrap_or(Align::Left) {
                Align::Left => line.push_str(&format!("{cell:<width$}")),
                Align::Right => line.push_str(&format!("{cell:>width$}")),
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The statistics table: one row per output.
pub fn write_statistics<'a>(
    out: &mut impl Write,
    outputs: impl IntoIterator<Item = (&'a str, &'a Summary)>,
) -> io::Result<()> {
    let header = [
        "output", "mean", "sd", "min", "p5", "p50", "p95", "max", "errors",
    ];
    let mut align = vec![Align::Right; header.len()];
    align[0] = Align::Left;
    let rows: Vec<Vec<String>> = outputs
        .into_iter()
        .map(|(name, s)| {
            let pct = |p: f64| s.percentile(p).map_or_else(|| "-".to_owned(), num);
            vec![
                name.to_owned(),
                num(s.mean),
                num(s.std_dev),
                num(s.min),
                pct(0.05),
                pct(0.5),
                pct(0.95),
                num(s.max),
                s.errors.to_string(),
            ]
        })
        .collect();
    write_table(out, &header, &align, &rows)
}

/// What to show of one output beyond the statistics table.
pub struct Details<'a> {
    /// The output's name.
    pub name: &'a str,
    /// Where it is (`Outputs!B2`), if known.
    pub cell: Option<&'a str>,
    /// Its statistics.
    pub summary: &'a Summary,
    /// Its sensitivities.
    pub sensitivity: Option<&'a Sensitivity>,
    /// Percentiles the user asked for (shown besides the table's p5/p50/p95).
    pub extra_percentiles: &'a [f64],
    /// Why there is no sensitivity table, if there is none.
    pub no_sensitivity: &'a str,
    /// At most this many inputs in the sensitivity table.
    pub top: usize,
}

/// One output's block: extra percentiles, VaR/CVaR, target probabilities, top sensitivities.
pub fn write_details(out: &mut impl Write, d: &Details<'_>) -> io::Result<()> {
    let s = d.summary;
    match d.cell {
        Some(cell) => writeln!(out, "{} ({cell})", d.name)?,
        None => writeln!(out, "{}", d.name)?,
    }
    writeln!(
        out,
        "  mean         {}  (95% CI {} to {}, n = {})",
        num(s.mean),
        num(s.ci95_low),
        num(s.ci95_high),
        s.n
    )?;
    let extra: Vec<String> = s
        .percentiles
        .iter()
        .filter(|q| d.extra_percentiles.iter().any(|p| (p - q.p).abs() < 1e-12))
        .map(|q| format!("{} {}", percentile_label(q.p), num(q.value)))
        .collect();
    if !extra.is_empty() {
        writeln!(out, "  percentiles  {}", extra.join("  "))?;
    }
    for r in &s.risk {
        writeln!(
            out,
            "  VaR {:<7}  {}  (CVaR {})",
            format!("{}%", percent(r.level)),
            num(r.var),
            num(r.cvar)
        )?;
    }
    for t in &s.targets {
        writeln!(
            out,
            "  target {:<5} P(< {}) {}  P(> {}) {}",
            num(t.target),
            num(t.target),
            probability(t.p_below),
            num(t.target),
            probability(t.p_above)
        )?;
    }
    match d.sensitivity {
        Some(sens) if !sens.entries.is_empty() => {
            let ranked = sens.tornado();
            let shown = ranked.len().min(d.top.max(1));
            writeln!(
                out,
                "  sensitivity ({}{} inputs, by |Spearman|)",
                if shown < ranked.len() {
                    format!("top {shown} of ")
                } else {
                    String::new()
                },
                ranked.len()
            )?;
            let rows: Vec<Vec<String>> = ranked[..shown]
                .iter()
                .map(|e| {
                    vec![
                        e.input.clone(),
                        coefficient(e.spearman),
                        coefficient(e.src),
                        e.contribution
                            .map_or_else(|| "-".to_owned(), |c| format!("{:.1}%", c * 100.0)),
                    ]
                })
                .collect();
            let mut table = Vec::new();
            write_table(
                &mut table,
                &["input", "spearman", "src", "contribution"],
                &[Align::Left, Align::Right, Align::Right, Align::Right],
                &rows,
            )?;
            for line in String::from_utf8_lossy(&table).lines() {
                writeln!(out, "  {line}")?;
            }
        }
        _ => writeln!(out, "  sensitivity: none ({})", d.no_sensitivity)?,
    }
    Ok(())
}

/// Threshold results: condition, statistic value, `HOLDS`/`ok`.
pub fn write_thresholds(
    out: &mut impl Write,
    thresholds: &[mcsim_ops::run::ThresholdResult],
) -> io::Result<()> {
    if thresholds.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "Thresholds (--fail-if)")?;
    let rows: Vec<Vec<String>> = thresholds
        .iter()
        .map(|t| {
            vec![
                t.condition.clone(),
                num(t.value),
                if t.holds { "HOLDS" } else { "ok" }.to_owned(),
            ]
        })
        .collect();
    write_table(
        out,
        &["condition", "value", "result"],
        &[Align::Left, Align::Right, Align::Left],
        &rows,
    )?;
    let holding = thresholds.iter().filter(|t| t.holds).count();
    writeln!(out)?;
    if holding == 0 {
        writeln!(
            out,
            "Result: ok, no --fail-if condition holds ({} checked)",
            thresholds.len()
        )
    } else {
        writeln!(
            out,
            "Result: FAIL, {holding} of {} --fail-if conditions hold",
            thresholds.len()
        )
    }
}

/// Names each holding condition on stderr (these lines are not silenced by `--quiet`).
pub fn report_failures(printer: super::Printer, thresholds: &[mcsim_ops::run::ThresholdResult]) {
    for t in thresholds.iter().filter(|t| t.holds) {
        printer.always(format_args!(
            "failed: --fail-if `{}` holds (the statistic is {})",
            t.condition,
            num(t.value)
        ));
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A number for CSV: shortest round-trip form; empty when undefined.
pub fn csv_number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(f64::NAN), "-");
        assert_eq!(num(4_234_567.89), "4234568");
        assert_eq!(num(0.08), "0.08");
        assert_eq!(num(-1234.5678), "-1234.57");
        assert_eq!(num(55.0), "55");
        assert_eq!(num(1.5e12), "1.5000e12");
        assert_eq!(num(2e-7), "2.0000e-7");
    }

    #[test]
    fn percents() {
        assert_eq!(percentile_label(0.05), "p5");
        assert_eq!(percentile_label(0.995), "p99.5");
        assert_eq!(percent(0.5), "50");
        assert_eq!(probability(0.12345), "0.1235");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("NPV"), "NPV");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_number(0.1), "0.1");
        assert_eq!(csv_number(f64::NAN), "");
    }

    #[test]
    fn tables_align() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &["name", "value"],
            &[Align::Left, Align::Right],
            &[
                vec!["a".into(), "1".into()],
                vec!["longer".into(), "22".into()],
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  name    value\n  a           1\n  longer     22\n"
        );
    }
}
