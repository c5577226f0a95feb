//! `mcsim parse --recalc` time and peak memory: `bench/models/grid_20k.xlsx`, and generated
//! one-sheet workbooks of 10k / 100k / 1M formulas (plain and shared formulas).
//!
//! ```text
//! cargo bench --bench parse_scaling                           # sizes 10k,100k,1M; 3 rounds
//! cargo bench --bench parse_scaling -- --sizes 10000,100000 --reps 5 --no-shared --no-cli
//! ```
//!
//! The generated sheet has constants in row 1 and in column A, and ten formula columns B..K,
//! rows 2..R+1: `C7 = B7*1.01+C6` (each cell reads its left neighbour and the cell above: every
//! column is a dependency chain R cells long). Cached values are written, computed in the same
//! order, so `--recalc` must report every cell as matching (checked).
//!
//! Every measurement runs in a fresh child process (this binary re-executed with `--child`) so
//! that its peak RSS (`VmHWM`) belongs to that one parse. The child times
//! `mcsim_workbook::load` alone, then the whole `mcsim_ops::parse(.., recalc: true)` (load, model,
//! dependency graph, analysis, recalculation, comparison). Unless `--no-cli`, the release binary
//! is also run as `mcsim parse --recalc --format json FILE > /dev/null` under `/usr/bin/time -v`
//! (which adds the JSON report of every cell).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use common::{CpuSnapshot, arg, cpu_model, loadavg, median, min_max, ncpu, peak_rss_kib};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const COLS: usize = 10;

fn col_name(c: usize) -> char {
    (b'A' + c as u8) as char
}

/// Writes a workbook with `COLS * rows` formulas; `shared` uses one shared formula per column.
fn generate(path: &Path, rows: usize, shared: bool) -> std::io::Result<()> {
    use std::fmt::Write as _;
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    const PKG_REL: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    let mut sheet = String::with_capacity(rows * COLS * 60 + 1024);
    let last_row = rows + 1;
    let _ = write!(
        sheet,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}"><dimension ref="A1:{}{last_row}"/><sheetData>"#,
        col_name(COLS)
    );
    // Row 1: constants.
    let mut above = [0.0f64; COLS + 1];
    sheet.push_str(r#"<row r="1">"#);
    for (c, v) in above.iter_mut().enumerate() {
        *v = 1.0 + c as f64 * 0.25;
        let _ = write!(sheet, r#"<c r="{}1"><v>{v}</v></c>"#, col_name(c));
    }
    sheet.push_str("</row>");
    for r in 2..=last_row {
        let _ = write!(sheet, r#"<row r="{r}">"#);
        let a = ((r * 7919) % 1000) as f64 / 100.0;
        let _ = write!(sheet, r#"<c r="A{r}"><v>{a}</v></c>"#);
        let mut left = a;
        above[0] = a;
        #[allow(clippy::needless_range_loop)] // `c` is also the column letter below
        for c in 1..=COLS {
            let v = left * 1.01 + above[c];
            let (l, me) = (col_name(c - 1), col_name(c));
            if !shared {
                let _ = write!(
                    sheet,
                    r#"<c r="{me}{r}"><f>{l}{r}*1.01+{me}{}</f><v>{v}</v></c>"#,
                    r - 1
                );
            } else if r == 2 {
                let _ = write!(
                    sheet,
                    r#"<c r="{me}{r}"><f t="shared" ref="{me}2:{me}{last_row}" si="{}">{l}{r}*1.01+{me}{}</f><v>{v}</v></c>"#,
                    c - 1,
                    r - 1
                );
            } else {
                let _ = write!(
                    sheet,
                    r#"<c r="{me}{r}"><f t="shared" si="{}"/><v>{v}</v></c>"#,
                    c - 1
                );
            }
            above[c] = v;
            left = v;
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts: Vec<(&str, String)> = vec![
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
                .to_owned(),
        ),
        (
            "_rels/.rels",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in &parts {
        zip.start_file(*name, options)
            .map_err(std::io::Error::other)?;
        zip.write_all(content.as_bytes())?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    std::fs::rename(tmp, path)
}

/// In the child: time load, then the whole parse with recalculation; print one JSON line.
fn child(path: &Path) {
    let t = Instant::now();
    let wb = mcsim_workbook::load(path, &mcsim_workbook::LoadOptions::default()).expect("load");
    let load_secs = t.elapsed().as_secs_f64();
    drop(wb);
    let opts = mcsim_ops::ParseOptions::new(path).with_recalc(true);
    let t = Instant::now();
    let report = mcsim_ops::parse(&opts).expect("parse");
    let parse_secs = t.elapsed().as_secs_f64();
    let rc = report
        .recalc
        .as_ref()
        .map(|r| r.summary.clone())
        .unwrap_or_default();
    let out = serde_json::json!({
        "load_secs": load_secs,
        "parse_secs": parse_secs,
        "formulas": report.totals.formulas,
        "compared": rc.compared,
        "matched": rc.matched,
        "mismatched": rc.mismatched,
        "cycles": report.totals.cycles,
        "peak_rss_kib": peak_rss_kib(),
    });
    println!("{out}");
}

struct Sample {
    load: f64,
    parse: f64,
    rss_mib: f64,
    other_load: f64,
    formulas: u64,
    matched: u64,
    mismatched: u64,
}

fn measure(path: &Path) -> Option<Sample> {
    let exe = std::env::current_exe().ok()?;
    let before = CpuSnapshot::now();
    let out = Command::new(exe)
        .arg("--child")
        .arg(path)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let after = CpuSnapshot::now();
    if !out.status.success() {
        eprintln!("child failed on {}: {}", path.display(), out.status);
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Sample {
        load: v["load_secs"].as_f64()?,
        parse: v["parse_secs"].as_f64()?,
        rss_mib: v["peak_rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0,
        other_load: before.other_load(&after),
        formulas: v["formulas"].as_u64()?,
        matched: v["matched"].as_u64()?,
        mismatched: v["mismatched"].as_u64()?,
    })
}

/// `mcsim parse --recalc --format json FILE > /dev/null` under `/usr/bin/time -v`:
/// (wall seconds, max RSS MiB).
fn measure_cli(path: &Path) -> Option<(f64, f64)> {
    let bin = env!("CARGO_BIN_EXE_mcsim");
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin)
        .args(["parse", "--recalc", "--format", "json"])
        .arg(path)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let err = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let rss_kib: f64 = field("Maximum resident set size (kbytes):")?.parse().ok()?;
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")?;
    let secs = wall
        .split(':')
        .fold(0.0, |acc, p| acc * 60.0 + p.parse::<f64>().unwrap_or(0.0));
    Some((secs, rss_kib / 1024.0))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(p) = arg(&args, "--child") {
        child(Path::new(&p));
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let reps: usize = arg(&args, "--reps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "10000,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let shared_too = !args.iter().any(|a| a == "--no-shared");
    let cli = !args.iter().any(|a| a == "--no-cli") && Path::new("/usr/bin/time").exists();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("parse-scaling");
    std::fs::create_dir_all(&dir).expect("cannot create the work folder");

    let mut files: Vec<(String, PathBuf)> = vec![(
        "bench/models/grid_20k.xlsx".into(),
        root.join("bench/models/grid_20k.xlsx"),
    )];
    for &n in &sizes {
        let rows = n.div_ceil(COLS);
        for shared in [false, true] {
            if shared && !shared_too {
                continue;
            }
            let name = format!("chain_{n}_{}.xlsx", if shared { "shared" } else { "plain" });
            let path = dir.join(&name);
            if !path.is_file() {
                let t = Instant::now();
                generate(&path, rows, shared).expect("cannot write the workbook");
                eprintln!(
                    "generated {} in {:.1} s",
                    path.display(),
                    t.elapsed().as_secs_f64()
                );
            }
            let label = format!(
                "generated {} formulas, {}",
                rows * COLS,
                if shared { "shared" } else { "plain" }
            );
            files.push((label, path));
        }
    }

    println!("# mcsim parse --recalc: time and peak RSS");
    println!();
    println!(
        "machine: nproc {}, CPU {}, loadavg at start {}; {reps} round(s), each in a fresh process",
        ncpu(),
        cpu_model(),
        loadavg()
    );
    let mut samples: Vec<Vec<Sample>> = files.iter().map(|_| Vec::new()).collect();
    let mut cli_samples: Vec<Vec<(f64, f64)>> = files.iter().map(|_| Vec::new()).collect();
    for rep in 0..reps {
        for (k, (label, path)) in files.iter().enumerate() {
            if let Some(s) = measure(path) {
                eprintln!(
                    "round {} {label}: load {:.3} s, parse+recalc {:.3} s, peak RSS {:.0} MiB, other load {:.2}",
                    rep + 1,
                    s.load,
                    s.parse,
                    s.rss_mib,
                    s.other_load
                );
                samples[k].push(s);
            }
            if cli && let Some(c) = measure_cli(path) {
                eprintln!(
                    "round {} {label}: CLI {:.2} s wall, max RSS {:.0} MiB",
                    rep + 1,
                    c.0,
                    c.1
                );
                cli_samples[k].push(c);
            }
        }
    }
    println!();
    println!(
        "| workbook | formulas | load (s) | parse --recalc in-process (s), median | min – max | µs / formula | matched / mismatched | peak RSS (MiB) | CLI wall (s) | CLI max RSS (MiB) | other load (cores) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
    for (k, (label, _)) in files.iter().enumerate() {
        let s = &samples[k];
        if s.is_empty() {
            println!("| {label} | – | – | failed | – | – | – | – | – | – | – |");
            continue;
        }
        let parse: Vec<f64> = s.iter().map(|x| x.parse).collect();
        let (lo, hi) = min_max(&parse);
        let f = s[0].formulas;
        let c = &cli_samples[k];
        let cw: Vec<f64> = c.iter().map(|x| x.0).collect();
        let cr: Vec<f64> = c.iter().map(|x| x.1).collect();
        println!(
            "| {label} | {f} | {:.3} | **{:.3}** | {lo:.3} – {hi:.3} | {:.2} | {} / {} | {:.0} | {} | {} | {:.2} |",
            median(&s.iter().map(|x| x.load).collect::<Vec<_>>()),
            median(&parse),
            median(&parse) / f as f64 * 1e6,
            s[0].matched,
            s[0].mismatched,
            median(&s.iter().map(|x| x.rss_mib).collect::<Vec<_>>()),
            if cw.is_empty() {
                "–".into()
            } else {
                format!("{:.2}", median(&cw))
            },
            if cr.is_empty() {
                "–".into()
            } else {
                format!("{:.0}", median(&cr))
            },
            median(&s.iter().map(|x| x.other_load).collect::<Vec<_>>()),
        );
    }
    println!();
    println!("loadavg at end: {}", loadavg());
}
