//! `results merge`: the samples files of a sharded run (`mcsim run --shard I/N --out ..`) joined
//! into the samples file of the whole run, checked to belong to one run with no shard missing or
//! repeated.
//!
//! Shards are contiguous slices of one run's iterations, and every random number depends only on
//! the seed, the input and the iteration, so the merged file holds exactly the rows the unsharded
//! run writes; statistics of the merged file ([`results`](crate::results::results)) equal the
//! unsharded run's.

use crate::error::OpsError;
use crate::results::chain;
use crate::run::{SHARD_FIRST_KEY, SHARD_KEY, SHARD_LAST_KEY, Shard};
use mcsim_results::{SamplesFile, SamplesFormat, SamplesWriter, read_samples};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// The shards' samples files (any order). A path holding `*` or `?` is a pattern matched
    /// against the files of its directory.
    pub shards: Vec<PathBuf>,
    /// The merged samples file.
    pub out: PathBuf,
    /// Its format (default: from the extension).
    pub out_format: Option<SamplesFormat>,
}

/// What a merge did.
#[derive(Debug, Clone, Serialize)]
pub struct MergeReport {
    /// The merged file.
    pub out: String,
    /// Shards merged.
    pub shards: u32,
    /// Iterations in the merged file (the whole run's).
    pub iterations: u64,
}

/// Metadata that must agree between the shards of one run.
const SAME: [&str; 7] = [
    "mcsim.seed",
    "mcsim.iterations",
    "mcsim.sampling",
    "mcsim.workbook_hash",
    "mcsim.version",
    "mcsim.inputs",
    mcsim_results::samples::COLUMNS_KEY,
];

fn invalid(message: String) -> OpsError {
    OpsError::Option {
        option: "results merge".into(),
        message,
    }
}

/// Expands `*`/`?` patterns in the last component of a path (sorted); other paths as given.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, OpsError> {
    let mut out = Vec::new();
    for p in paths {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        match name {
            Some(pattern) if pattern.contains(['*', '?']) => {
                let dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let entries = std::fs::read_dir(dir).map_err(|source| OpsError::Io {
                    path: dir.to_path_buf(),
                    source,
                })?;
                let mut found: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .filter(|e| wildcard(&pattern, &e.file_name().to_string_lossy()))
                    .map(|e| e.path())
                    .collect();
                if found.is_empty() {
                    return Err(invalid(format!("no file matches `{}`", p.display())));
                }
                found.sort();
                out.extend(found);
            }
            _ => out.push(p.clone()),
        }
    }
    Ok(out)
}

/// `*` matches any run of characters, `?` one character (also used by the CLI for patterns in
/// `s3://` shard paths).
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// Merges the shards into `opts.out`.
pub fn merge(opts: &MergeOptions) -> Result<MergeReport, OpsError> {
    let paths = expand(&opts.shards)?;
    if paths.is_empty() {
        return Err(invalid("no shard files given".into()));
    }
    let mut shards: Vec<(Shard, u64, u64, PathBuf, SamplesFile)> = Vec::new();
    for path in paths {
        let file = read_samples(&path).map_err(|e| OpsError::Run {
            message: format!("{}: {}", path.display(), chain(&e)),
        })?;
        let meta = |k: &str| file.metadata.get(k).cloned();
        let shard = meta(SHARD_KEY).ok_or_else(|| {
            invalid(format!(
                "{} is not a shard's samples file (no {SHARD_KEY} metadata): write shards with `mcsim run --shard I/N --out FILE`",
                path.display()
            ))
        })?;
        let shard =
            Shard::parse(&shard).map_err(|m| invalid(format!("{}: {m}", path.display())))?;
        let num = |k: &str| -> Result<u64, OpsError> {
            meta(k)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| invalid(format!("{}: no valid {k} metadata", path.display())))
        };
        let (first, last) = (num(SHARD_FIRST_KEY)?, num(SHARD_LAST_KEY)?);
        shards.push((shard, first, last, path, file));
    }
    // One run: the same settings, workbook and columns everywhere.
    let p0 = shards[0].3.clone();
    let meta0 = shards[0].4.metadata.clone();
    let layout = shards[0].4.layout.clone();
    let reference: BTreeMap<&str, Option<&String>> =
        SAME.iter().map(|&k| (k, meta0.get(k))).collect();
    let count = shards[0].0.count;
    for (shard, _, _, path, file) in &shards[1..] {
        if shard.count != count {
            return Err(invalid(format!(
                "{} is shard {}/{} but {} is one of {count}: they are not shards of one run",
                path.display(),
                shard.index,
                shard.count,
                p0.display()
            )));
        }
        for (k, v) in &reference {
            if file.metadata.get(*k) != *v {
                return Err(invalid(format!(
                    "{} and {} differ in {k} ({} vs {}): they are not shards of one run",
                    p0.display(),
                    path.display(),
                    v.map_or("none", |s| s.as_str()),
                    file.metadata.get(*k).map_or("none", |s| s.as_str())
                )));
            }
        }
    }
    shards.sort_by_key(|s| s.0.index);
    for w in shards.windows(2) {
        if w[0].0.index == w[1].0.index {
            return Err(invalid(format!(
                "shard {}/{count} is given twice: {} and {}",
                w[0].0.index,
                w[0].3.display(),
                w[1].3.display()
            )));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !shards.iter().any(|s| s.0.index == *i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "{} of {count} shards missing: {}",
            missing.len(),
            missing.join(", ")
        )));
    }
    let total: u64 = reference
        .get("mcsim.iterations")
        .and_then(|v| v.and_then(|s| s.parse().ok()))
        .ok_or_else(|| invalid(format!("{}: no mcsim.iterations metadata", p0.display())))?;
    let mut next = 1;
    for (shard, first, last, path, file) in &shards {
        let rows = file.iterations.len() as u64;
        if *first != next || last + 1 - first != rows {
            return Err(invalid(format!(
                "{} (shard {}/{count}) holds iterations {first}..{last} in {rows} rows, but the next iteration expected is {next}: was it cut short?",
                path.display(),
                shard.index
            )));
        }
        next = last + 1;
    }
    if next != total + 1 {
        return Err(invalid(format!(
            "the shards hold {} iterations of a run of {total}",
            next - 1
        )));
    }

    // Write the run's file: its metadata without the shard keys, the rows in order.
    let mut meta: BTreeMap<String, String> = meta0.clone();
    for k in [
        SHARD_KEY,
        SHARD_FIRST_KEY,
        SHARD_LAST_KEY,
        mcsim_results::samples::COLUMNS_KEY,
    ] {
        meta.remove(k);
    }
    let format = match opts.out_format {
        Some(f) => f,
        None => SamplesFormat::from_path(&opts.out).map_err(|e| OpsError::Run {
            message: e.to_string(),
        })?,
    };
    let out_err = |e: mcsim_results::ResultsError| OpsError::Run {
        message: format!("{}: {}", opts.out.display(), chain(&e)),
    };
    let mut writer = SamplesWriter::create(&opts.out, format, &layout, &meta).map_err(out_err)?;
    for (_, _, _, path, file) in &shards {
        let cols: Vec<&[f64]> = layout
            .names()
            .map(|n| {
                file.values(n)
                    .ok_or_else(|| invalid(format!("{} has no column `{n}`", path.display())))
            })
            .collect::<Result<_, _>>()?;
        // Blocks of 65,536 rows keep Parquet row groups a reasonable size.
        let rows = file.iterations.len();
        let mut at = 0;
        while at < rows {
            let end = (at + (1 << 16)).min(rows);
            let block: Vec<&[f64]> = cols.iter().map(|c| &c[at..end]).collect();
            writer.write_block(&block).map_err(out_err)?;
            at = end;
        }
    }
    writer.finish().map_err(out_err)?;
    Ok(MergeReport {
        out: opts.out.to_string_lossy().into_owned(),
        shards: count,
        iterations: total,
    })
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_like_a_shell() {
        assert!(wildcard("shard-*.parquet", "shard-3.parquet"));
        assert!(wildcard("shard-?.parquet", "shard-3.parquet"));
        assert!(!wildcard("shard-?.parquet", "shard-10.parquet"));
        assert!(wildcard("*", "anything"));
        assert!(!wildcard("shard-*.parquet", "shard-3.csv"));
        assert!(wildcard("a*b*c", "aXXbYYc"));
    }
}
