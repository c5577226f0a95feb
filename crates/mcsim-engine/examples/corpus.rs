//! Recalculates Excel-computed workbooks and compares with Excel's stored values.
//!
//! `cargo run --release -p mcsim-engine --example corpus -- [DIR] [--function NAME] [--show N] [--file SUBSTR]`
//!
//! DIR defaults to `tests/corpus/excel` (the copy in the repository). Prints mismatches for the
//! selected function (or all), then match rates overall and by function.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use mcsim_engine::{Evaluator, Graph, Model, Value, functions};
use mcsim_workbook::{LoadOptions, load};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
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

fn matches(v: &Value, cached: &Value) -> bool {
    match (v, cached) {
        (Value::Number(a), Value::Number(b)) => {
            a == b || (a - b).abs() <= 1e-12 || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
        }
        (a, b) => a == b,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut dir = PathBuf::from("tests/corpus/excel");
    let mut function: Option<String> = None;
    let mut file_filter: Option<String> = None;
    let mut show = 30usize;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--function" => {
                function = args.get(i + 1).map(|s| s.to_uppercase());
                i += 1;
            }
            "--file" => {
                file_filter = args.get(i + 1).cloned();
                i += 1;
            }
            "--show" => {
                show = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(30);
                i += 1;
            }
            "--help" | "-h" => {
                println!("corpus [DIR] [--function NAME] [--file SUBSTR] [--show N]");
                return;
            }
            d => dir = PathBuf::from(d),
        }
        i += 1;
    }
    let mut files = Vec::new();
    walk(&dir, &mut files);
    let mut per_fn: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let (mut total, mut ok, mut skipped) = (0u32, 0u32, 0u32);
    let mut shown = 0;
    for f in files {
        if let Some(ff) = &file_filter
            && !f.to_string_lossy().contains(ff.as_str())
        {
            continue;
        }
        if std::env::var_os("CORPUS_TRACE").is_some() {
            eprintln!("{}", f.display());
        }
        let wb = match load(&f, &LoadOptions::default()) {
            Ok(wb) => wb,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                continue;
            }
        };
        let model = Model::from_workbook(&wb);
        let graph = Graph::build(&model);
        let mut ev = Evaluator::new(&model);
        ev.run(&graph.order);
        for fm in &model.formulas {
            let cell = &model.cells[fm.cell as usize];
            if cell.stored.is_empty() {
                continue;
            }
            let fns: Vec<String> = match &fm.expr {
                Ok(e) => e.functions().into_iter().map(str::to_string).collect(),
                Err(_) => vec!["<PARSE ERROR>".into()],
            };
            let fns: Vec<String> = if fm.array.is_some_and(|a| a.anchor != fm.cell) {
                let anchor = &model.formulas[model.cells[fm.array.unwrap().anchor as usize]
                    .formula
                    .unwrap() as usize];
                anchor
                    .expr
                    .as_ref()
                    .map(|e| e.functions().into_iter().map(str::to_string).collect())
                    .unwrap_or_default()
            } else {
                fns
            };
            if fns.iter().any(|n| functions::is_volatile(n)) {
                skipped += 1;
                continue;
            }
            let v = &ev.values()[fm.cell as usize];
            let good = matches(v, &cell.stored);
            total += 1;
            ok += good as u32;
            let mut uniq = fns.clone();
            uniq.sort();
            uniq.dedup();
            for n in &uniq {
                let e = per_fn.entry(n.clone()).or_default();
                e.0 += 1;
                e.1 += good as u32;
            }
            let selected = function.as_ref().is_none_or(|f| uniq.contains(f));
            if !good && selected && shown < show {
                shown += 1;
                println!(
                    "{}  {}  ={}  computed {:?}  excel {:?}",
                    f.strip_prefix(&dir).unwrap_or(&f).display(),
                    model.cell_label(fm.cell),
                    fm.text(),
                    v,
                    cell.stored
                );
            }
        }
    }
    println!(
        "\nall: {ok}/{total} match ({:.2}%), {skipped} volatile skipped",
        100.0 * ok as f64 / total.max(1) as f64
    );
    let mut rows: Vec<_> = per_fn.into_iter().collect();
    rows.sort_by_key(|(_, (t, g))| std::cmp::Reverse(t - g));
    println!("function  cells  match  supported");
    let limit = if function.is_some() { usize::MAX } else { 60 };
    for (name, (t, g)) in rows
        .iter()
        .filter(|(n, _)| function.as_ref().is_none_or(|f| f == n))
        .take(limit)
    {
        {
            println!(
                "{name:<20} {t:>6} {g:>6}  {}",
                functions::is_supported(name)
            );
        }
    }
}
