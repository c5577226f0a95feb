//! Random formulas over the constructs the compiler handles, mixed with the values that trip it
//! (booleans, text, blanks and errors in ranges; overflow; near-equal numbers), each workbook
//! checked by [`super::check`]: the compiled program agrees with the interpreter or declines.

#![allow(clippy::unwrap_used, clippy::panic, clippy::print_stdout)]

use super::{Options, check, mix};
use crate::quick::workbook;
use crate::{Graph, Model};

struct Gen {
    state: u64,
    /// Formula cells written so far (C1, C2, ...), which later formulas may read.
    formulas: usize,
}

impl Gen {
    fn next(&mut self) -> u64 {
        self.state = mix(self.state);
        self.state
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }

    /// A range: numbers (A), mixed constants (B), formulas (C), or a mix of columns.
    fn range(&mut self) -> String {
        let c_rows = self.formulas.max(1);
        match self.below(6) {
            5 => format!("D!A1:A{}", 1 + self.below(3)),
            0 => format!("A1:A{}", 2 + self.below(7)),
            1 => format!("B1:B{}", 1 + self.below(6)),
            2 if self.formulas > 0 => format!("C1:C{c_rows}"),
            3 => format!("A{0}:B{0}", 1 + self.below(6)),
            _ => format!("A2:A{}", 3 + self.below(6)),
        }
    }

    fn leaf(&mut self) -> String {
        match self.below(9) {
            0 => self
                .pick(&[
                    "0",
                    "1",
                    "2",
                    "0.5",
                    "-3",
                    "1E+308",
                    "1E-300",
                    "0.1",
                    "TRUE",
                    "FALSE",
                    "(0.1+0.2)",
                    "(1-0.9)",
                ])
                .to_string(),
            1..=3 => format!("A{}", 1 + self.below(8)),
            4 => match self.below(3) {
                0 => format!("D!A{}", 1 + self.below(3)),
                _ => format!("B{}", 1 + self.below(6)),
            },
            _ if self.formulas > 0 => format!("C{}", 1 + self.below(self.formulas)),
            _ => format!("A{}", 1 + self.below(8)),
        }
    }

    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 {
            return self.leaf();
        }
        let d = depth - 1;
        match self.below(24) {
            0..=3 => {
                let op = self.pick(&["+", "-", "*", "/", "^", "+", "*"]);
                format!("({}{op}{})", self.expr(d), self.expr(d))
            }
            4 | 5 => {
                let op = self.pick(&["=", "<>", "<", ">", "<=", ">="]);
                format!("({}{op}{})", self.expr(d), self.expr(d))
            }
            6 => match self.below(3) {
                0 => format!("-{}", self.expr(d)),
                1 => format!("+{}", self.expr(d)),
                _ => format!("{}%", self.leaf()),
            },
            7 => match self.below(3) {
                0 => format!("IF({},{},{})", self.expr(d), self.expr(d), self.expr(d)),
                1 => format!("IF({},{})", self.expr(d), self.expr(d)),
                _ => format!("IFERROR({},{})", self.expr(d), self.expr(d)),
            },
            8 => {
                let f = self.pick(&["AND", "OR"]);
                if self.below(2) == 0 {
                    format!("{f}({},{})", self.expr(d), self.range())
                } else {
                    format!("{f}({},{})", self.expr(d), self.expr(d))
                }
            }
            9 => {
                let f = self.pick(&["NOT", "ISNUMBER", "ISERROR"]);
                format!("{f}({})", self.expr(d))
            }
            10..=13 => {
                let f = self.pick(&["SUM", "AVERAGE", "MIN", "MAX", "PRODUCT"]);
                match self.below(4) {
                    0 => format!("{f}({})", self.range()),
                    1 => format!("{f}({},{})", self.range(), self.expr(d)),
                    2 => format!("{f}({},,{})", self.leaf(), self.range()),
                    _ => format!("{f}({},{},{})", self.expr(d), self.leaf(), self.range()),
                }
            }
            14 => {
                let crit = self.pick(&[
                    "5",
                    "\">0\"",
                    "\"<>2\"",
                    "\"=1\"",
                    "\">=0.5\"",
                    "0",
                    "TRUE",
                    "\"=0.3\"",
                    "(0.1+0.2)",
                    "\"<0.1\"",
                ]);
                format!("COUNTIF({},{crit})", self.range())
            }
            15 | 16 => {
                let f = self.pick(&["ABS", "SQRT", "LN", "EXP", "INT", "SIGN"]);
                format!("{f}({})", self.expr(d))
            }
            17 => {
                let f = self.pick(&["ROUND", "MOD", "ROUNDDOWN", "POWER"]);
                format!("{f}({},{})", self.expr(d), self.leaf())
            }
            18 => format!("INDEX(A1:A8,{})", self.expr(d)),
            19 => format!("INDEX(B1:B6,{})", self.expr(d)),
            20 => match self.below(3) {
                0 => format!("MATCH({},B1:B6,0)", self.expr(d)),
                1 if self.formulas > 0 => {
                    let n = self.formulas;
                    format!("INDEX(C1:C{n},{})", self.expr(d))
                }
                _ => format!("MATCH({},A1:A8,0)", self.expr(d)),
            },
            21 => format!("NPV({},{})", self.expr(d), self.range()),
            22 => "SUMPRODUCT(A1:A4,A5:A8)".to_string(),
            _ => self.leaf(),
        }
    }
}

/// One random workbook: A1:A8 numbers (inputs), B1:B6 mixed constants, C1.. formulas.
fn random_workbook(seed: u64, n_formulas: usize) -> Vec<(String, String)> {
    let mut g = Gen {
        state: seed,
        formulas: 0,
    };
    let mut cells: Vec<(String, String)> = Vec::new();
    let nums = [
        "3", "0", "-2", "0.1", "1E+200", "7", "0.3", "1E-20", "100", "-0.5",
    ];
    for r in 1..=8 {
        cells.push((format!("A{r}"), g.pick(&nums).to_string()));
    }
    let mixed = ["TRUE", "FALSE", "'abc", "'3", "4", "#N/A", "2.5"];
    for r in 1..=6 {
        // Some of column B stays blank.
        if g.below(5) != 0 {
            cells.push((format!("B{r}"), g.pick(&mixed).to_string()));
        }
    }
    // Another sheet: a number, a boolean and a formula.
    cells.push(("D!A1".to_string(), g.pick(&nums).to_string()));
    cells.push(("D!A2".to_string(), g.pick(&mixed).to_string()));
    cells.push(("D!A3".to_string(), "=Sheet1!A1*2".to_string()));
    for r in 1..=n_formulas {
        let depth = 1 + g.below(3) as u32;
        let e = g.expr(depth);
        cells.push((format!("C{r}"), format!("={e}")));
        g.formulas = r;
    }
    cells
}

#[test]
fn random_formulas_compile_to_what_the_interpreter_computes() {
    let runs: u64 = std::env::var("MCSIM_FUZZ_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let n_formulas: usize = std::env::var("MCSIM_FUZZ_FORMULAS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let (mut compiled, mut declined) = (0, 0);
    let mut failures = Vec::new();
    for seed in 0..runs {
        let cells = random_workbook(seed.wrapping_mul(0x9E37_79B9) ^ 0xF00D, n_formulas);
        let refs: Vec<(&str, &str)> = cells
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let model = Model::from_workbook(&workbook(&refs));
        let graph = Graph::build(&model);
        let opts = Options {
            iterations: 64,
            seed,
            prune_rounds: 3,
            max_inputs: 0,
        };
        let r = check(&model, &graph, &opts);
        if std::env::var_os("MCSIM_FUZZ_VERBOSE").is_some()
            && let Some(u) = r.declined()
        {
            println!("declined: {}", u.what);
        }
        if r.compiled_any() {
            compiled += 1;
        } else {
            declined += 1;
        }
        for m in r.mismatches() {
            failures.push(format!("seed {seed}: {m}\n    cells: {cells:?}"));
        }
    }
    println!("{runs} random workbooks: {compiled} compiled, {declined} declined");
    assert!(
        failures.is_empty(),
        "{} mismatches ({compiled} compiled, {declined} declined):\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
    // The generator must exercise the compiled path, not only the fallback.
    assert!(
        compiled * 4 >= runs,
        "only {compiled} of {runs} random workbooks compiled"
    );
}
