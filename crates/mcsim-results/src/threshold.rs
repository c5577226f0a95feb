//! Threshold expressions for CI gating, such as `P(NPV < 0) > 0.2`.
//!
//! # Grammar
//!
//! ```text
//! threshold := statistic cmp number | number cmp statistic
//! statistic := P(name cmp number)          probability, over valid samples
//!            | mean(name) | std(name) | min(name) | max(name) | median(name)
//!            | pNN(name)                   percentile NN in [0, 100], e.g. p5, p50, p99.5
//!            | var(name, α) | cvar(name, α)   α in (0, 1), see `RiskMeasure`
//! cmp       := < | <= | > | >= | ==
//! name      := identifier ([A-Za-z_][A-Za-z0-9_.]*) | "quoted" (a `""` inside is one `"`)
//! number    := decimal or scientific literal with optional sign: 0.2, -2e6, 1E+3
//! ```
//!
//! Function names are case-insensitive. `std` is the sample standard deviation (`n - 1`),
//! percentiles use Excel's `PERCENTILE.INC` rule, `var`/`cvar` follow [`RiskMeasure`]'s lower-tail
//! convention (`var(NPV, 0.05)` is the 5th percentile), `P(...)` is a fraction of the valid
//! samples, and `==` is exact floating-point equality. Every statistic ignores non-finite samples
//! (error iterations); a statistic with too few valid samples is an error, not a pass or fail.
//!
//! [`RiskMeasure`]: crate::RiskMeasure

use std::fmt;

use serde::Serialize;

use crate::error::{Result, ResultsError};
use crate::summary::{Moments, percentile_inc, sorted_finite, var_cvar_sorted};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
}

impl CmpOp {
    /// Applies the comparison `a op b`.
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
        }
    }

    fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Eq => CmpOp::Eq,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
        }
    }
}

/// The statistic on the left of a threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub enum Statistic {
    /// `P(output op value)`: fraction of valid samples satisfying the comparison.
    Probability {
        /// Output name.
        output: String,
        /// Comparison applied to each sample.
        op: CmpOp,
        /// Right-hand side of that comparison.
        value: f64,
    },
    /// `mean(output)`.
    Mean(String),
    /// `std(output)`: sample standard deviation.
    Std(String),
    /// `min(output)`.
    Min(String),
    /// `max(output)`.
    Max(String),
    /// `pNN(output)` (and `median`): `p` is the fraction, `NN / 100`.
    Percentile {
        /// Output name.
        output: String,
        /// Level as a fraction.
        p: f64,
    },
    /// `var(output, level)`: the `level`-quantile.
    Var {
        /// Output name.
        output: String,
        /// Tail level in `(0, 1)`.
        level: f64,
    },
    /// `cvar(output, level)`: mean of the samples at or below `var(output, level)`.
    CVar {
        /// Output name.
        output: String,
        /// Tail level in `(0, 1)`.
        level: f64,
    },
}

impl Statistic {
    /// The output the statistic is of.
    pub fn output(&self) -> &str {
        match self {
            Statistic::Probability { output, .. }
            | Statistic::Percentile { output, .. }
            | Statistic::Var { output, .. }
            | Statistic::CVar { output, .. } => output,
            Statistic::Mean(o) | Statistic::Std(o) | Statistic::Min(o) | Statistic::Max(o) => o,
        }
    }

    /// Computes the statistic over `samples` (non-finite values ignored).
    pub fn compute(&self, samples: &[f64]) -> Result<f64> {
        self.compute_sorted(&sorted_finite(samples))
    }

    /// Computes the statistic from the finite samples already sorted ascending (as
    /// [`SortedColumn::sorted`](crate::SortedColumn) holds them); same result as
    /// [`compute`](Self::compute) without sorting again.
    pub fn compute_sorted(&self, sorted: &[f64]) -> Result<f64> {
        let undefined = |reason| ResultsError::Undefined {
            statistic: self.to_string(),
            output: self.output().to_string(),
            reason,
        };
        if sorted.is_empty() {
            return Err(undefined("no valid samples"));
        }
        Ok(match self {
            Statistic::Probability { op, value, .. } => {
                sorted.iter().filter(|&&x| op.apply(x, *value)).count() as f64 / sorted.len() as f64
            }
            Statistic::Mean(_) => Moments::of(sorted).mean,
            Statistic::Std(_) => {
                if sorted.len() < 2 {
                    return Err(undefined("fewer than two valid samples"));
                }
                Moments::of(sorted).std_dev
            }
            Statistic::Min(_) => sorted[0],
            Statistic::Max(_) => sorted[sorted.len() - 1],
            Statistic::Percentile { p, .. } => percentile_inc(sorted, *p),
            Statistic::Var { level, .. } => var_cvar_sorted(sorted, *level).0,
            Statistic::CVar { level, .. } => var_cvar_sorted(sorted, *level).1,
        })
    }
}

fn fmt_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::Probability { output, op, value } => {
                write!(f, "P({} {} {value})", fmt_name(output), op.as_str())
            }
            Statistic::Mean(o) => write!(f, "mean({})", fmt_name(o)),
            Statistic::Std(o) => write!(f, "std({})", fmt_name(o)),
            Statistic::Min(o) => write!(f, "min({})", fmt_name(o)),
            Statistic::Max(o) => write!(f, "max({})", fmt_name(o)),
            Statistic::Percentile { output, p } => {
                write!(f, "p{}({})", p * 100.0, fmt_name(output))
            }
            Statistic::Var { output, level } => write!(f, "var({}, {level})", fmt_name(output)),
            Statistic::CVar { output, level } => {
                write!(f, "cvar({}, {level})", fmt_name(output))
            }
        }
    }
}

/// A parsed threshold: `statistic op value`.
///
/// ```
/// use mcsim_results::Threshold;
/// let t = Threshold::parse("P(NPV < 0) > 0.2").unwrap();
/// let npv = [-1.0, 2.0, 3.0, -4.0];
/// let fired = t.evaluate(&|name: &str| (name == "NPV").then_some(&npv[..])).unwrap();
/// assert!(fired); // P(NPV < 0) = 0.5 > 0.2
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// The statistic compared.
    pub statistic: Statistic,
    /// The comparison, with the statistic on the left.
    pub op: CmpOp,
    /// The value compared against.
    pub value: f64,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.statistic, self.op.as_str(), self.value)
    }
}

/// The outcome of evaluating a [`Threshold`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdOutcome {
    /// The threshold, in canonical form.
    pub threshold: String,
    /// The statistic's value on the data.
    pub statistic_value: f64,
    /// Whether the comparison holds.
    pub holds: bool,
}

impl Threshold {
    /// Parses a threshold expression (grammar in the [module docs](self)). Errors give the byte
    /// position of the problem.
    pub fn parse(expr: &str) -> Result<Threshold> {
        let toks = lex(expr)?;
        Parser { expr, toks, pos: 0 }.threshold()
    }

    /// The output the threshold reads, so a caller can check it exists before a run.
    pub fn output(&self) -> &str {
        self.statistic.output()
    }

    /// Evaluates the threshold; `lookup` returns an output's samples (per iteration, `NaN` for
    /// error iterations, which are ignored) or `None` for an unknown name, reported as
    /// [`ResultsError::UnknownOutput`] with an empty list (use
    /// [`evaluate_detail`](Self::evaluate_detail) to list the known outputs).
    pub fn evaluate<'s>(&self, lookup: &dyn Fn(&str) -> Option<&'s [f64]>) -> Result<bool> {
        self.evaluate_detail(lookup, &[]).map(|o| o.holds)
    }

    /// Evaluates the threshold and returns the statistic's value too; `available` names the
    /// outputs to list in an unknown-output error.
    pub fn evaluate_detail<'s>(
        &self,
        lookup: &dyn Fn(&str) -> Option<&'s [f64]>,
        available: &[&str],
    ) -> Result<ThresholdOutcome> {
        let name = self.output();
        let samples = lookup(name).ok_or_else(|| ResultsError::UnknownOutput {
            name: name.to_string(),
            available: available.iter().map(|s| s.to_string()).collect(),
        })?;
        let v = self.statistic.compute(samples)?;
        Ok(self.outcome(v))
    }

    /// Like [`evaluate_detail`](Self::evaluate_detail), with `lookup_sorted` returning an
    /// output's finite samples sorted ascending (as [`SortedColumn::sorted`](crate::SortedColumn)
    /// holds them), so the samples are not sorted again; the outcome is identical.
    pub fn evaluate_detail_sorted<'s>(
        &self,
        lookup_sorted: &dyn Fn(&str) -> Option<&'s [f64]>,
        available: &[&str],
    ) -> Result<ThresholdOutcome> {
        let name = self.output();
        let sorted = lookup_sorted(name).ok_or_else(|| ResultsError::UnknownOutput {
            name: name.to_string(),
            available: available.iter().map(|s| s.to_string()).collect(),
        })?;
        let v = self.statistic.compute_sorted(sorted)?;
        Ok(self.outcome(v))
    }

    fn outcome(&self, v: f64) -> ThresholdOutcome {
        ThresholdOutcome {
            threshold: self.to_string(),
            statistic_value: v,
            holds: self.op.apply(v, self.value),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Number(f64),
    LParen,
    RParen,
    Comma,
    Cmp(CmpOp),
}

fn describe(t: Option<&(Tok, usize)>) -> String {
    match t.map(|t| &t.0) {
        None => "the end of the expression".into(),
        Some(Tok::Ident(s)) => format!("`{s}`"),
        Some(Tok::Quoted(s)) => format!("\"{s}\""),
        Some(Tok::Number(n)) => format!("the number `{n}`"),
        Some(Tok::LParen) => "`(`".into(),
        Some(Tok::RParen) => "`)`".into(),
        Some(Tok::Comma) => "`,`".into(),
        Some(Tok::Cmp(op)) => format!("`{}`", op.as_str()),
    }
}

fn syntax(expr: &str, position: usize, message: impl Into<String>) -> ResultsError {
    ResultsError::ThresholdSyntax {
        expr: expr.to_string(),
        position,
        message: message.into(),
    }
}

fn lex(expr: &str) -> Result<Vec<(Tok, usize)>> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((Tok::LParen, i));
                i += 1
            }
            b')' => {
                out.push((Tok::RParen, i));
                i += 1
            }
            b',' => {
                out.push((Tok::Comma, i));
                i += 1
            }
            b'<' | b'>' | b'=' => {
                let two = b.get(i + 1) == Some(&b'=');
                let op = match (c, two) {
                    (b'<', false) => CmpOp::Lt,
                    (b'<', true) => CmpOp::Le,
                    (b'>', false) => CmpOp::Gt,
                    (b'>', true) => CmpOp::Ge,
                    (b'=', true) => CmpOp::Eq,
                    (b'=', false) => {
                        return Err(syntax(expr, i, "`=` is not an operator; use `==`"));
                    }
                    _ => return Err(syntax(expr, i, "unexpected operator")),
                };
                out.push((Tok::Cmp(op), i));
                i += if two { 2 } else { 1 };
            }
            b'"' => {
                i += 1;
                let mut s = Vec::new();
                loop {
                    match b.get(i) {
                        None => return Err(syntax(expr, start, "unterminated quoted name")),
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => {
                            s.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                let s = String::from_utf8(s)
                    .map_err(|_| syntax(expr, start, "quoted name is not valid UTF-8"))?;
                if s.is_empty() {
                    return Err(syntax(expr, start, "empty quoted name"));
                }
                out.push((Tok::Quoted(s), start));
            }
            b'0'..=b'9' | b'.' | b'-' | b'+' => {
                i += 1;
                while i < b.len() {
                    let d = b[i];
                    let exp_sign = (d == b'-' || d == b'+') && matches!(b[i - 1], b'e' | b'E');
                    if d.is_ascii_digit() || d == b'.' || d == b'e' || d == b'E' || exp_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let text = &expr[start..i];
                let v: f64 = text
                    .parse()
                    .map_err(|_| syntax(expr, start, format!("`{text}` is not a number")))?;
                if !v.is_finite() {
                    return Err(syntax(
                        expr,
                        start,
                        format!("`{text}` is not a finite number"),
                    ));
                }
                out.push((Tok::Number(v), start));
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                return Err(syntax(
                    expr,
                    i,
                    "`!=` is not supported; use <, <=, >, >= or ==",
                ));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.')
                {
                    i += 1;
                }
                out.push((Tok::Ident(expr[start..i].to_string()), start));
            }
            _ => {
                let ch = expr[i..].chars().next().unwrap_or('?');
                return Err(syntax(
                    expr,
                    i,
                    format!(
                        "unexpected character `{ch}`; quote output names that are not plain identifiers with \"\""
                    ),
                ));
            }
        }
    }
    Ok(out)
}

struct Parser<'e> {
    expr: &'e str,
    toks: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser<'_> {
    fn here(&self) -> usize {
        self.toks.get(self.pos).map_or(self.expr.len(), |(_, p)| *p)
    }

    fn err(&self, msg: impl Into<String>) -> ResultsError {
        syntax(self.expr, self.here(), msg)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn found(&self) -> String {
        describe(self.toks.get(self.pos))
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<()> {
        if self.peek() == Some(&want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected {what}, found {}", self.found())))
        }
    }

    fn cmp(&mut self) -> Result<CmpOp> {
        match self.peek() {
            Some(Tok::Cmp(op)) => {
                let op = *op;
                self.pos += 1;
                Ok(op)
            }
            _ => Err(self.err(format!(
                "expected a comparison (<, <=, >, >=, ==), found {}",
                self.found()
            ))),
        }
    }

    fn number(&mut self) -> Result<f64> {
        match self.peek() {
            Some(Tok::Number(v)) => {
                let v = *v;
                self.pos += 1;
                Ok(v)
            }
            _ => Err(self.err(format!("expected a number, found {}", self.found()))),
        }
    }

    fn name(&mut self) -> Result<String> {
        match self.peek() {
            Some(Tok::Ident(s)) | Some(Tok::Quoted(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.err(format!("expected an output name, found {}", self.found()))),
        }
    }

    fn threshold(mut self) -> Result<Threshold> {
        let t = if let Some(Tok::Number(_)) = self.peek() {
            let value = self.number()?;
            let op = self.cmp()?;
            let statistic = self.statistic()?;
            Threshold {
                statistic,
                op: op.flip(),
                value,
            }
        } else {
            let statistic = self.statistic()?;
            let op = self.cmp()?;
            let value = self.number()?;
            Threshold {
                statistic,
                op,
                value,
            }
        };
        if self.pos < self.toks.len() {
            return Err(self.err(format!(
                "unexpected {} after the end of the threshold",
                self.found()
            )));
        }
        Ok(t)
    }

    fn statistic(&mut self) -> Result<Statistic> {
        let fpos = self.here();
        let func = match self.peek() {
            Some(Tok::Ident(s)) => s.clone(),
            _ => {
                return Err(self.err(format!(
                    "expected a statistic (P, mean, std, min, max, median, pNN, var, cvar), found {}",
                    self.found()
                )));
            }
        };
        self.pos += 1;
        let lower = func.to_ascii_lowercase();
        self.expect(Tok::LParen, &format!("`(` after `{func}`"))?;
        let output = self.name()?;
        let stat = match lower.as_str() {
            "p" => {
                let op = self.cmp()?;
                let value = self.number()?;
                Statistic::Probability { output, op, value }
            }
            "mean" => Statistic::Mean(output),
            "std" | "stdev" | "sd" => Statistic::Std(output),
            "min" => Statistic::Min(output),
            "max" => Statistic::Max(output),
            "median" => Statistic::Percentile { output, p: 0.5 },
            "var" | "cvar" => {
                self.expect(Tok::Comma, "`,` and a tail level such as 0.05")?;
                let lpos = self.here();
                let level = self.number()?;
                if !(level > 0.0 && level < 1.0) {
                    return Err(syntax(
                        self.expr,
                        lpos,
                        format!(
                            "tail level {level} must be between 0 and 1 (exclusive), e.g. 0.05"
                        ),
                    ));
                }
                if lower == "var" {
                    Statistic::Var { output, level }
                } else {
                    Statistic::CVar { output, level }
                }
            }
            _ if lower.starts_with('p') => {
                let nn: f64 = lower[1..]
                    .parse()
                    .map_err(|_| syntax(self.expr, fpos, format!("unknown statistic `{func}`")))?;
                if !(0.0..=100.0).contains(&nn) {
                    return Err(syntax(
                        self.expr,
                        fpos,
                        format!("percentile `{func}` must be between p0 and p100"),
                    ));
                }
                Statistic::Percentile {
                    output,
                    p: nn / 100.0,
                }
            }
            _ => {
                return Err(syntax(
                    self.expr,
                    fpos,
                    format!(
                        "unknown statistic `{func}`; expected P, mean, std, min, max, median, pNN, var or cvar"
                    ),
                ));
            }
        };
        self.expect(Tok::RParen, "`)`")?;
        Ok(stat)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn data(name: &str) -> Option<&'static [f64]> {
        static NPV: [f64; 10] = [-3.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, f64::NAN];
        static CASH: [f64; 5] = [-3e6, -1e6, 0.0, 1e6, 2e6];
        match name {
            "NPV" => Some(&NPV),
            "Total Cash" | "TotalCash" => Some(&CASH),
            _ => None,
        }
    }

    fn eval(s: &str) -> bool {
        Threshold::parse(s).unwrap().evaluate(&data).unwrap()
    }

    #[test]
    fn parses_and_evaluates() {
        // NPV valid samples: -3,-1,0,1,2,3,4,5,6 (9 values, NaN ignored); mean 17/9.
        assert!(eval("P(NPV < 0) > 0.2")); // 2/9 = 0.222
        assert!(!eval("P(NPV < 0) > 0.25"));
        assert!(eval("P(NPV >= 0) < 0.8")); // 7/9 = 0.778
        assert!(eval("mean(NPV) < 1e6"));
        assert!(eval("mean(NPV) > 1.88") && eval("mean(NPV) < 1.89"));
        assert!(eval("std(NPV) > 2.9") && eval("std(NPV) < 3.0")); // sqrt(8.61) = 2.93
        assert!(eval("min(NPV) == -3") && eval("max(NPV) == 6"));
        assert!(eval("p50(NPV) == 2") && eval("median(NPV) == 2"));
        assert!(eval("p5(\"Total Cash\") <= -2e6")); // -3e6 + 0.2*2e6 = -2.6e6
        assert!(eval("p5(TotalCash) <= -2e6"));
        assert!(!eval("p25(TotalCash) <= -2e6")); // -1e6
        assert!(eval("var(NPV, 0.25) == 0")); // h = 2 -> 0
        assert!(eval("cvar(NPV, 0.25) < -1.3")); // mean(-3,-1,0) = -1.333
        assert!(eval("0.2 < P(NPV < 0)"));
        assert!(eval("  MEAN( NPV )>=1 "));
        assert!(eval("p99.5(NPV) > 5.9"));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "P(NPV < 0) > 0.2",
            "p5(\"Total Cash\") <= -2000000",
            "cvar(NPV, 0.05) >= -1",
            "p99.5(NPV) == 3",
        ] {
            let t = Threshold::parse(s).unwrap();
            assert_eq!(Threshold::parse(&t.to_string()).unwrap(), t, "{s}");
        }
        assert_eq!(
            Threshold::parse("P(NPV < 0) > 0.2").unwrap().to_string(),
            "P(NPV < 0) > 0.2"
        );
    }

    fn syntax_err(s: &str) -> (usize, String) {
        match Threshold::parse(s) {
            Err(ResultsError::ThresholdSyntax {
                position, message, ..
            }) => (position, message),
            other => panic!("{s}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_problem_and_position() {
        let (p, m) = syntax_err("P(NPV < 0) > ");
        assert_eq!(p, 13);
        assert!(m.contains("expected a number") && m.contains("end"), "{m}");
        let (p, m) = syntax_err("mean(NPV) = 3");
        assert_eq!(p, 10);
        assert!(m.contains("=="), "{m}");
        let (p, m) = syntax_err("avg(NPV) > 3");
        assert_eq!(p, 0);
        assert!(m.contains("unknown statistic `avg`"), "{m}");
        let (p, m) = syntax_err("mean(NPV > 3");
        assert_eq!(p, 9);
        assert!(m.contains("`)`"), "{m}");
        let (p, _) = syntax_err("var(NPV, 1.5) > 0");
        assert_eq!(p, 9);
        let (p, m) = syntax_err("p5(\"Total Cash) < 0");
        assert_eq!(p, 3);
        assert!(m.contains("unterminated"), "{m}");
        let (p, m) = syntax_err("mean(NPV) > 3 extra");
        assert_eq!(p, 14);
        assert!(m.contains("after the end"), "{m}");
        let (p, _) = syntax_err("p101(NPV) > 0");
        assert_eq!(p, 0);
        let (_, m) = syntax_err("mean(Sheet1!A1) > 0");
        assert!(m.contains("quote"), "{m}");
    }

    #[test]
    fn unknown_output_lists_available() {
        let t = Threshold::parse("mean(IRR) > 0").unwrap();
        let err = t.evaluate_detail(&data, &["NPV", "TotalCash"]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("`IRR`") && msg.contains("NPV, TotalCash"),
            "{msg}"
        );
        let empty: [f64; 2] = [f64::NAN, f64::NAN];
        let t = Threshold::parse("mean(E) > 0").unwrap();
        assert!(matches!(
            t.evaluate(&|_: &str| Some(&empty[..])),
            Err(ResultsError::Undefined { .. })
        ));
    }
}
