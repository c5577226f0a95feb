#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::panic)]
//! Compiled vs interpreted on real workbooks: a sample of the Excel corpus (`tests/corpus/excel`)
//! and the bench models (`bench/models`). Every numeric constant that feeds a formula becomes an
//! uncertain input; over 64 perturbed iterations every formula cell of the cone must agree between
//! the compiled program and the scalar evaluator (bit for bit, both errors, or equal to 15
//! significant digits), or the compiler must decline.
//!
//! The sample is every workbook (about 15 s in a debug build on a 2-core machine, most of it
//! `grid_20k`); `MCSIM_DIFF_STEP=N` keeps every N-th workbook plus the bench models when CI time is
//! short. `cargo bench -p mcsim-engine --bench differential` runs the same check on everything with
//! more pruning rounds and prints how many workbooks compile, decline or disagree.

use mcsim_engine::sim::differential::{Options, check};
use mcsim_engine::{Graph, Model};
use mcsim_workbook::{LoadOptions, load};
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("xlsx" | "xlsm")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn compiled_program_agrees_with_the_interpreter_on_real_workbooks() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    walk(&root.join("tests/corpus/excel"), &mut files);
    walk(&root.join("bench/models"), &mut files);
    assert!(files.len() > 250, "the corpus is missing: {}", files.len());
    let step: usize = std::env::var("MCSIM_DIFF_STEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let opts = Options {
        prune_rounds: 3,
        ..Options::default()
    };
    let (mut checked, mut compiled, mut cells) = (0, 0, 0);
    let mut failures = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        if i % step != 0 && !rel.starts_with("bench/") {
            continue;
        }
        let Ok(wb) = load(f, &LoadOptions::default()) else {
            continue;
        };
        let model = Model::from_workbook(&wb);
        let graph = Graph::build(&model);
        let r = check(&model, &graph, &opts);
        checked += 1;
        if r.compiled_any() {
            compiled += 1;
        }
        cells += r
            .attempts
            .iter()
            .filter(|a| a.declined.is_none())
            .map(|a| a.cells)
            .sum::<usize>();
        failures.extend(r.mismatches().map(|m| format!("{rel}: {m}")));
    }
    println!("{checked} workbooks checked, {compiled} compiled, {cells} formula cells compared");
    assert!(
        failures.is_empty(),
        "{} cells disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The sample must go through the compiled path, not only the fallback.
    assert!(compiled >= 5, "only {compiled} workbooks compiled");
    assert!(cells >= 1_000, "only {cells} formula cells compared");
}
