//! Sharded runs (`--shard I/N`) and `mcsim results merge`: the merged samples are the unsharded
//! run's, bit for bit, and so are the statistics.

use crate::common::{Run, mcsim_env, mcsim_in, outputs, root, same_samples, temp};
use std::path::Path;

const N: &str = "20000";

fn setup(dir: &Path) {
    std::fs::copy(
        root().join("bench/models/npv_project_risk.xlsx"),
        dir.join("npv.xlsx"),
    )
    .unwrap();
}

#[test]
fn merged_shards_are_the_unsharded_run() {
    let dir = temp();
    let d = dir.path();
    setup(d);
    let full = mcsim_in(
        d,
        &[
            "run",
            "npv.xlsx",
            "-n",
            N,
            "--seed",
            "9",
            "--out",
            "full.parquet",
            "--format",
            "json",
            "-q",
        ],
    );
    full.expect_code(0);
    let from_file = mcsim_in(d, &["results", "full.parquet", "--format", "json"]);
    from_file.expect_code(0);
    // Statistics re-derived from the run's own samples file equal the run's.
    assert_eq!(outputs(&full.json()), outputs(&from_file.json()));

    for n in [1u32, 3, 8] {
        let sub = d.join(format!("n{n}"));
        std::fs::create_dir(&sub).unwrap();
        let mut rows = 0;
        for i in 0..n {
            let r = mcsim_in(
                d,
                &[
                    "run",
                    "npv.xlsx",
                    "-n",
                    N,
                    "--seed",
                    "9",
                    "--shard",
                    &format!("{i}/{n}"),
                    "--out",
                    &format!("n{n}/shard-{i}.parquet"),
                    "--format",
                    "json",
                    "-q",
                ],
            );
            r.expect_code(0);
            let j = r.json();
            assert_eq!(j["shard"]["index"], i);
            assert_eq!(j["shard"]["count"], n);
            rows += j["iterations"].as_u64().unwrap();
        }
        assert_eq!(rows, 20_000, "{n} shards cover the run");
        let merged = mcsim_in(
            d,
            &[
                "results",
                "merge",
                &format!("n{n}/shard-*.parquet"),
                "--out",
                &format!("n{n}/merged.parquet"),
                "--format",
                "json",
            ],
        );
        merged.expect_code(0);
        same_samples(&d.join("full.parquet"), &sub.join("merged.parquet"));
        assert_eq!(outputs(&merged.json()), outputs(&full.json()), "{n} shards");
    }

    // One shard missing, one given twice, one from another run, a file of no shard: each named.
    for (files, message) in [
        (
            &["n3/shard-0.parquet", "n3/shard-2.parquet"][..],
            "missing: 1/3",
        ),
        (
            &[
                "n3/shard-0.parquet",
                "n3/shard-0.parquet",
                "n3/shard-1.parquet",
            ],
            "given twice",
        ),
        (
            &["n3/shard-0.parquet", "n8/shard-1.parquet"],
            "not shards of one run",
        ),
        (&["full.parquet"], "not a shard"),
    ] {
        let mut args = vec!["results", "merge"];
        args.extend_from_slice(files);
        args.extend(["--out", "x.parquet"]);
        let r = mcsim_in(d, &args);
        r.expect_code(2);
        assert!(r.stderr.contains(message), "{files:?}: {}", r.stderr);
    }
}

/// `mcsim ARGS` with `env` set and every scheduler's index variables removed but those.
fn run_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let Run {
        code,
        stdout,
        stderr,
    } = mcsim_env(
        dir,
        args,
        env,
        &[
            "JOB_COMPLETION_INDEX",
            "MCSIM_SHARDS",
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_MAX",
            "AWS_BATCH_JOB_ARRAY_INDEX",
            "AWS_BATCH_JOB_ARRAY_SIZE",
        ],
    );
    (code, stdout, stderr)
}

#[test]
fn shard_auto_reads_the_scheduler() {
    let dir = temp();
    let d = dir.path();
    setup(d);
    let args = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec![
            "run", "npv.xlsx", "-n", "5000", "--seed", "1", "--format", "json", "-q", "--shard",
            "auto",
        ];
        v.extend_from_slice(extra);
        v
    };
    let shard = |stdout: &str| -> (u64, u64) {
        let j: serde_json::Value = serde_json::from_str(stdout).unwrap();
        (
            j["shard"]["index"].as_u64().unwrap(),
            j["shard"]["count"].as_u64().unwrap(),
        )
    };
    // (environment, extra arguments, expected (index, count)).
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'static str], (u64, u64));
    let cases: [Case<'_>; 4] = [
        (&[("JOB_COMPLETION_INDEX", "2")], &["--shards", "4"], (2, 4)),
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "5"),
            ],
            &[],
            (3, 5),
        ),
        (
            &[
                ("SLURM_ARRAY_TASK_ID", "11"),
                ("SLURM_ARRAY_TASK_MIN", "10"),
                ("SLURM_ARRAY_TASK_MAX", "13"),
            ],
            &[],
            (1, 4),
        ),
        (
            &[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "0"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "2"),
            ],
            &[],
            (0, 2),
        ),
    ];
    for (env, extra, want) in cases {
        let (code, stdout, stderr) = run_with_env(d, &args(extra), env);
        assert_eq!(code, 0, "{env:?}: {stderr}");
        assert_eq!(shard(&stdout), want, "{env:?}");
    }
    let (code, _, stderr) = run_with_env(d, &args(&[]), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no scheduler index found"), "{stderr}");
    let (code, _, stderr) = run_with_env(d, &args(&[]), &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--shards N"), "{stderr}");
    let (code, _, stderr) = run_with_env(d, &["run", "npv.xlsx", "--shard", "4/4", "-q"], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not below the count"), "{stderr}");
}

/// The JSON numbers of a statistic, compared bit for bit (`null` for NaN).
fn bits(v: &serde_json::Value) -> Option<u64> {
    v.as_f64().map(f64::to_bits)
}

#[test]
fn merged_accumulators_give_the_unsharded_statistics() {
    let dir = temp();
    let d = dir.path();
    setup(d);
    let common = [
        "-n",
        N,
        "--seed",
        "9",
        "--target",
        "0",
        "--percentile",
        "2.5",
    ];
    let mut args = vec!["run", "npv.xlsx", "--format", "json", "-q"];
    args.extend(common);
    let full = mcsim_in(d, &args);
    full.expect_code(0);
    let full = full.json();

    for n in [1u32, 3, 8] {
        let sub = d.join(format!("n{n}"));
        std::fs::create_dir(&sub).unwrap();
        for i in 0..n {
            let shard = format!("{i}/{n}");
            let mut args = vec!["run", "npv.xlsx", "--shard", &shard, "-q"];
            args.extend(common);
            // Accumulators beside the samples by default; with --stats and no samples; and
            // from a streaming shard (a small --memory budget) for the 3-shard run.
            let out = format!("n{n}/shard-{i}.parquet");
            let stats = format!("n{n}/shard-{i}.stats.json");
            match (n, i % 2) {
                (3, _) => args.extend(["--stats", &stats, "--memory", "1"]),
                (_, 0) => args.extend(["--out", &out]),
                _ => args.extend(["--stats", &stats]),
            }
            mcsim_in(d, &args).expect_code(0);
            assert!(sub.join(format!("shard-{i}.stats.json")).is_file());
            if n == 3 {
                assert!(!sub.join(format!("shard-{i}.parquet")).exists());
            }
        }
        let merged = mcsim_in(
            d,
            &[
                "results",
                "merge",
                &format!("n{n}/shard-*.stats.json"),
                "--format",
                "json",
                "-q",
            ],
        );
        merged.expect_code(0);
        let merged = merged.json();
        assert_eq!(merged["mode"], "merged-accumulators");
        assert_eq!(merged["shards"], n);
        assert_eq!(merged["iterations"], 20_000);
        assert_eq!(merged["seed"], 9);
        assert_eq!(merged["workbook_hash"], full["workbook_hash"]);
        let (a, b) = (
            full["outputs"].as_array().unwrap(),
            merged["outputs"].as_array().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        for (o, m) in a.iter().zip(b) {
            assert_eq!(o["name"], m["name"]);
            let (s, t) = (&o["summary"], &m["summary"]);
            let name = o["name"].as_str().unwrap();
            for k in [
                "n",
                "errors",
                "mean",
                "std_dev",
                "variance",
                "min",
                "max",
                "skewness",
                "kurtosis",
                "excess_kurtosis",
                "std_error",
                "ci95_low",
                "ci95_high",
            ] {
                assert_eq!(bits(&s[k]), bits(&t[k]), "{n} shards, {name}: {k}");
                assert_eq!(s[k].is_null(), t[k].is_null(), "{n} shards, {name}: {k}");
            }
            assert_eq!(s["targets"], t["targets"], "{n} shards, {name}: targets");
            // Every percentile's bracket holds the exact value, and the estimate is inside.
            let (ps, qs) = (
                s["percentiles"].as_array().unwrap(),
                t["percentiles"].as_array().unwrap(),
            );
            assert_eq!(ps.len(), qs.len(), "{name}");
            assert!(ps.iter().any(|p| p["p"] == 0.025), "--percentile 2.5 kept");
            for (p, q) in ps.iter().zip(qs) {
                assert_eq!(p["p"], q["p"]);
                let exact = p["value"].as_f64().unwrap();
                let (lo, est, hi) = (
                    q["low"].as_f64().unwrap(),
                    q["value"].as_f64().unwrap(),
                    q["high"].as_f64().unwrap(),
                );
                assert!(
                    lo <= exact && exact <= hi && lo <= est && est <= hi,
                    "{n} shards, {name}, p = {}: exact {exact}, estimate {est}, bracket [{lo}, {hi}]",
                    p["p"]
                );
                // A bucket is at most 1/16 of a binade wide: brackets are narrow.
                assert!(hi - lo <= exact.abs().max(lo.abs()).max(hi.abs()) / 8.0 + 1e-300);
            }
            let var = &s["risk"][0];
            let mvar = &t["var"][0];
            assert_eq!(var["level"], mvar["p"]);
            let v = var["var"].as_f64().unwrap();
            assert!(mvar["low"].as_f64().unwrap() <= v && v <= mvar["high"].as_f64().unwrap());
        }
    }

    // The samples too: the merge is exact, as before, and says so.
    let merged = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n8/shard-*",
            "--out",
            "n8/merged.parquet",
            "--format",
            "json",
            "-q",
        ],
    );
    merged.expect_code(2);
    assert!(merged.stderr.contains("missing"), "{}", merged.stderr);
    let merged = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n1/shard-*",
            "--out",
            "n1/merged.parquet",
            "--format",
            "json",
            "-q",
        ],
    );
    merged.expect_code(0);
    assert_eq!(merged.json()["mode"], "exact");

    // One shard missing, one given twice: named.
    let r = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n8/shard-0.stats.json",
            "n8/shard-1.stats.json",
            "n8/shard-2.stats.json",
            "n8/shard-3.stats.json",
            "n8/shard-4.stats.json",
            "n8/shard-6.stats.json",
            "n8/shard-7.stats.json",
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("1 of 8 shards missing: 5/8"),
        "{}",
        r.stderr
    );
    let r = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n3/shard-*.stats.json",
            "n3/shard-1.stats.json",
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("shard 1/3 is given twice") && r.stderr.contains("shard-1.stats.json"),
        "{}",
        r.stderr
    );
    // Another run's shard (another seed) is refused.
    mcsim_in(
        d,
        &[
            "run",
            "npv.xlsx",
            "-n",
            N,
            "--seed",
            "10",
            "--target",
            "0",
            "--percentile",
            "2.5",
            "--shard",
            "1/3",
            "--stats",
            "other.stats.json",
            "-q",
        ],
    )
    .expect_code(0);
    let r = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n3/shard-0.stats.json",
            "other.stats.json",
            "n3/shard-2.stats.json",
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("differ in mcsim.seed") && r.stderr.contains("not shards of one run"),
        "{}",
        r.stderr
    );
    // A merge of accumulators writes statistics, not samples.
    let r = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n3/shard-*.stats.json",
            "--out",
            "x.parquet",
        ],
    );
    r.expect_code(2);
    assert!(r.stderr.contains("--out FILE.json"), "{}", r.stderr);
    let r = mcsim_in(
        d,
        &[
            "results",
            "merge",
            "n3/shard-*.stats.json",
            "--out",
            "merged.json",
            "-q",
        ],
    );
    r.expect_code(0);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("merged.json")).unwrap()).unwrap();
    assert_eq!(written["mode"], "merged-accumulators");
    assert!(r.stdout.contains("merged-accumulators"), "{}", r.stdout);
}

#[test]
fn stats_needs_a_shard() {
    let dir = temp();
    let d = dir.path();
    setup(d);
    let r = mcsim_in(d, &["run", "npv.xlsx", "-n", "1000", "--stats", "x.json"]);
    r.expect_code(2);
    assert!(r.stderr.contains("--shard"), "{}", r.stderr);
}
