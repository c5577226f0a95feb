//! Compiled vs interpreted over the whole Excel corpus (`tests/corpus/excel`) and the bench models
//! (`bench/models`): every numeric constant that feeds a formula becomes an uncertain input, and
//! for 64 perturbed iterations every formula cell of the cone must agree between the compiled
//! program and the scalar evaluator, unless the compiler declines (see
//! `mcsim_engine::sim::differential`).
//!
//! ```text
//! cargo bench -p mcsim-engine --bench differential                 # everything
//! cargo bench -p mcsim-engine --bench differential -- --prune 8 --show 40 --file ironcalc
//! ```
//!
//! Prints how many workbooks compile with every input, compile after the inputs upstream of a
//! declined cell are put back as constants (`--prune N` rounds, default 8), decline, or disagree,
//! the most frequent reasons for declining, and every disagreement (up to `--show N`). Exits with
//! status 1 when any cell disagrees.

#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use mcsim_engine::sim::differential::{Options, check};
use mcsim_engine::{Graph, Model};
use mcsim_workbook::{LoadOptions, load};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let prune: usize = get("--prune").and_then(|s| s.parse().ok()).unwrap_or(8);
    let show: usize = get("--show").and_then(|s| s.parse().ok()).unwrap_or(50);
    let filter = get("--file");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    walk(&root.join("tests/corpus/excel"), &mut files);
    walk(&root.join("bench/models"), &mut files);
    if let Some(f) = &filter {
        files.retain(|p| p.to_string_lossy().contains(f.as_str()));
    }
    let opts = Options {
        prune_rounds: prune,
        ..Options::default()
    };
    let t0 = Instant::now();
    let (mut n, mut no_inputs, mut full, mut pruned, mut declined, mut bad) = (0, 0, 0, 0, 0, 0);
    let (mut cells_full, mut cells_any) = (0usize, 0usize);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut shown = 0;
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let wb = match load(f, &LoadOptions::default()) {
            Ok(wb) => wb,
            Err(e) => {
                println!("{rel}: does not load: {e}");
                continue;
            }
        };
        n += 1;
        let model = Model::from_workbook(&wb);
        let graph = Graph::build(&model);
        let t = Instant::now();
        let r = check(&model, &graph, &opts);
        let secs = t.elapsed().as_secs_f64();
        if r.candidates == 0 {
            no_inputs += 1;
        } else if r.compiled_fully() {
            full += 1;
        } else if r.compiled_any() {
            pruned += 1;
        } else {
            declined += 1;
        }
        if let Some(u) = r.declined() {
            let key = u.what.split(" in the simulated").next().unwrap_or(&u.what);
            *reasons.entry(key.to_string()).or_default() += 1;
        }
        if let Some(a) = r.attempts.first()
            && a.declined.is_none()
        {
            cells_full += a.cells;
        }
        cells_any += r
            .attempts
            .iter()
            .filter(|a| a.declined.is_none())
            .map(|a| a.cells)
            .max()
            .unwrap_or(0);
        let mism: Vec<_> = r.mismatches().collect();
        if !mism.is_empty() {
            bad += 1;
        }
        for m in mism {
            if shown < show {
                println!("MISMATCH {rel} {m}");
            }
            shown += 1;
        }
        if args.iter().any(|a| a == "--verbose") {
            for a in &r.attempts {
                println!(
                    "  {rel}: {} inputs, {} cells, {}",
                    a.inputs,
                    a.cells,
                    a.declined
                        .as_ref()
                        .map_or("compiled".to_string(), |u| format!(
                            "declined at {}: {}",
                            u.cell, u.what
                        ))
                );
            }
        }
        if secs > 5.0 {
            println!("{rel}: {secs:.1} s");
        }
    }
    println!();
    println!("workbooks: {n} ({:.1} s)", t0.elapsed().as_secs_f64());
    println!("  no numeric constant feeding a formula: {no_inputs}");
    println!(
        "  compiled with every constant as an input: {full} ({cells_full} formula cells compared)"
    );
    println!("  compiled after pruning inputs upstream of a declined cell: {pruned}");
    println!("  declined: {declined}");
    println!("  with a mismatch: {bad} ({shown} cells)");
    println!("  formula cells compared (largest compiled attempt per workbook): {cells_any}");
    let mut rs: Vec<_> = reasons.into_iter().collect();
    rs.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!("reasons the first attempt declined:");
    for (r, k) in rs.iter().take(25) {
        println!("  {k:4} {r}");
    }
    if shown > 0 {
        std::process::exit(1);
    }
}
