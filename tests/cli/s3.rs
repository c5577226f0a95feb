//! `s3://` paths: without the `s3` feature, a clear error; with it, against a real
//! S3-compatible server on 127.0.0.1 (moto, started by `.ci/run`) whose endpoint is in
//! `MCSIM_TEST_S3_ENDPOINT` (the tests print a note and pass when it is unset): sharded runs
//! written to S3 and merged from an S3 prefix, a missing shard, a workbook and a model file
//! read from S3, and the team server with S3 storage.

use crate::common::{mcsim_in, root, temp, yaml};

/// A Job's first container's command.
fn command(job: &serde_json::Value) -> Vec<String> {
    job["spec"]["template"]["spec"]["containers"][0]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_kubernetes_s3_example_has_what_mcsim_relies_on() {
    let job = yaml("shards-s3.yaml");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let completions = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    for file in ["shards-s3.yaml", "merge-s3.yaml"] {
        let container = &yaml(file)["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["envFrom"][0]["secretRef"]["name"], "mcsim-s3",
            "{file}: credentials for the AWS chain"
        );
    }
    let env = spec["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let shards = env.iter().find(|e| e["name"] == "MCSIM_SHARDS").unwrap();
    assert_eq!(shards["value"], completions.to_string());
    let run = command(&job);
    assert_eq!(
        run[..3],
        [
            "mcsim",
            "run",
            "s3://mcsim-example/models/npv_project_risk.xlsx"
        ]
    );
    assert!(run.windows(2).any(|w| w == ["--shard", "auto"]));
    assert!(run.windows(2).any(|w| w[0] == "--out"
        && w[1] == "s3://mcsim-example/runs/npv-42/shard-$(JOB_COMPLETION_INDEX).parquet"));
    let merge = command(&yaml("merge-s3.yaml"));
    assert_eq!(
        merge[..4],
        [
            "mcsim",
            "results",
            "merge",
            "s3://mcsim-example/runs/npv-42/"
        ]
    );
}

#[cfg(not(feature = "s3"))]
#[test]
fn without_the_feature_s3_paths_say_how_to_get_them() {
    let dir = temp();
    let d = dir.path();
    let wb = root()
        .join("examples/npv_project_risk.xlsx")
        .display()
        .to_string();
    for args in [
        vec!["run", "s3://bucket/npv.xlsx", "-n", "10"],
        vec![
            "run",
            &wb,
            "-n",
            "10",
            "--out",
            "s3://bucket/run/samples.parquet",
        ],
        vec!["results", "merge", "s3://bucket/run/", "--out", "x.parquet"],
        vec!["results", "s3://bucket/run/samples.parquet"],
    ] {
        let r = mcsim_in(d, &args);
        r.expect_code(2);
        assert!(
            r.stderr.contains("built without S3 support") && r.stderr.contains("--features s3"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("s3://bucket/"), "{args:?}: {}", r.stderr);
    }
    // Nothing was written for the local --out of a failed run.
    assert!(!d.join("x.parquet").exists());
    let r = mcsim_in(
        d,
        &[
            "serve",
            "--data-dir",
            "data",
            "--bind",
            "127.0.0.1:0",
            "--storage",
            "s3://bucket/team",
        ],
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("--storage") && r.stderr.contains("built without S3 support"),
        "{}",
        r.stderr
    );
}

#[cfg(feature = "s3")]
mod live {
    use super::*;
    use crate::common::{Run, mcsim_env, outputs, same_samples};
    use mcsim_s3::{BlockingStore, S3Options, S3Url};
    use serde_json::Value;
    use std::io::{BufRead, BufReader, Write};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    /// The test server's endpoint, or `None` (with a note) when none is configured.
    fn endpoint(test: &str) -> Option<String> {
        let endpoint = std::env::var("MCSIM_TEST_S3_ENDPOINT")
            .ok()
            .filter(|e| !e.is_empty());
        if endpoint.is_none() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{test}: skipped: MCSIM_TEST_S3_ENDPOINT is not set (see .ci/run)");
            }
        }
        assert!(
            endpoint.is_none() || std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values) with MCSIM_TEST_S3_ENDPOINT"
        );
        endpoint
    }

    /// A client of the test server, with `bucket` created and empty (each test has its own
    /// bucket; the server may have served an earlier run of the tests).
    fn store(endpoint: &str, bucket: &str) -> BlockingStore {
        let options = S3Options {
            endpoint: Some(endpoint.to_owned()),
            ..S3Options::default()
        };
        let store = BlockingStore::connect(&options, "test").unwrap();
        store.block_on(store.store().create_bucket(bucket)).unwrap();
        for object in store.list(&url(&format!("s3://{bucket}/"))).unwrap() {
            store.block_on(store.store().delete(&object)).unwrap();
        }
        store
    }

    /// The endpoint, a client with `bucket` created and empty, and a temporary directory; `None`
    /// (with a note) when no test server is configured.
    fn live(test: &str, bucket: &str) -> Option<(String, BlockingStore, tempfile::TempDir)> {
        let endpoint = endpoint(test)?;
        let s3 = store(&endpoint, bucket);
        Some((endpoint, s3, temp()))
    }

    fn url(text: &str) -> S3Url {
        S3Url::parse(text).unwrap().unwrap()
    }

    /// `mcsim ARGS` in `dir` with the endpoint in `MCSIM_S3_ENDPOINT`.
    fn mcsim_s3(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
        mcsim_env(
            dir,
            args,
            &[("MCSIM_S3_ENDPOINT", endpoint)],
            &["AWS_ENDPOINT_URL"],
        )
    }

    /// The report of the unsharded run the example jobs split: `examples/npv_project_risk.xlsx`,
    /// 16,000 iterations, seed 42.
    fn whole_example_run(dir: &Path) -> Value {
        let whole = mcsim_in(
            dir,
            &[
                "run",
                root()
                    .join("examples/npv_project_risk.xlsx")
                    .to_str()
                    .unwrap(),
                "-n",
                "16000",
                "--seed",
                "42",
                "--format",
                "json",
            ],
        );
        whole.expect_code(0);
        whole.json()
    }

    /// The number of iterations in the samples file at `url_text`, downloaded to `local`.
    fn iterations_at(s3: &BlockingStore, url_text: &str, local: &Path) -> usize {
        s3.download(&url(url_text), local).unwrap();
        mcsim_results::read_samples(local).unwrap().iterations.len()
    }

    #[test]
    fn shards_written_to_s3_merge_from_a_prefix_into_the_unsharded_run() {
        let Some((endpoint, s3, dir)) =
            live("shards_written_to_s3_merge_from_a_prefix", "mcsim-shards")
        else {
            return;
        };
        let d = dir.path();
        // The workbook itself is read from S3 too.
        s3.upload(
            &root().join("bench/models/npv_project_risk.xlsx"),
            &url("s3://mcsim-shards/models/npv.xlsx"),
        )
        .unwrap();
        let wb = "s3://mcsim-shards/models/npv.xlsx";
        let common = ["-n", "30000", "--seed", "11", "--format", "json", "-q"];

        let mut args = vec!["run", wb, "--out", "full.parquet"];
        args.extend(common);
        let full = mcsim_s3(d, &endpoint, &args);
        full.expect_code(0);
        assert_eq!(full.json()["workbook"], wb);
        // The samples file names the workbook by its URL, not by the downloaded copy's path.
        let samples = mcsim_results::read_samples(d.join("full.parquet")).unwrap();
        assert_eq!(
            samples.metadata.get("mcsim.workbook").map(String::as_str),
            Some(wb)
        );

        for n in [1u32, 3] {
            for i in 0..n {
                let out = format!("s3://mcsim-shards/run{n}/shard-{i}.parquet");
                let shard = format!("{i}/{n}");
                let mut args = vec!["run", wb, "--shard", &shard, "--out", &out];
                args.extend(common);
                let r = mcsim_s3(d, &endpoint, &args);
                r.expect_code(0);
                assert_eq!(r.json()["samples_file"], out.as_str());
            }
            // Nothing is left behind locally: the shards went to S3 only.
            assert_eq!(
                std::fs::read_dir(d).unwrap().count(),
                1,
                "only full.parquet"
            );
            // Each shard's samples, and its accumulators beside them.
            let listed = s3
                .list(&url(&format!("s3://mcsim-shards/run{n}/")))
                .unwrap();
            assert_eq!(listed.len(), 2 * n as usize, "{listed:?}");
            for i in 0..n {
                let stats = url(&format!("s3://mcsim-shards/run{n}/shard-{i}.stats.json"));
                assert!(listed.contains(&stats), "{listed:?}");
            }

            // The accumulators alone, merged from S3: the run's moments, bit for bit.
            let merged = mcsim_s3(
                d,
                &endpoint,
                &[
                    "results",
                    "merge",
                    &format!("s3://mcsim-shards/run{n}/*.stats.json"),
                    "--format",
                    "json",
                    "-q",
                ],
            );
            merged.expect_code(0);
            let (m, f) = (merged.json(), full.json());
            assert_eq!(m["mode"], "merged-accumulators");
            assert_eq!(m["workbook"], wb, "the URL, not a temporary path");
            assert_eq!(
                m["files"][0],
                format!("s3://mcsim-shards/run{n}/shard-0.stats.json").as_str()
            );
            for (a, b) in f["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .zip(m["outputs"].as_array().unwrap())
            {
                for k in ["n", "mean", "std_dev", "skewness", "kurtosis", "min", "max"] {
                    assert_eq!(a["summary"][k], b["summary"][k], "{n} shards: {k}");
                }
            }

            // Merged from the prefix, into S3: the unsharded run's samples and statistics.
            let merged_url = format!("s3://mcsim-shards/merged{n}/all.parquet");
            let merged = mcsim_s3(
                d,
                &endpoint,
                &[
                    "results",
                    "merge",
                    &format!("s3://mcsim-shards/run{n}/"),
                    "--out",
                    &merged_url,
                    "--format",
                    "json",
                ],
            );
            merged.expect_code(0);
            assert_eq!(merged.json()["file"], merged_url.as_str());
            assert_eq!(outputs(&merged.json()), outputs(&full.json()), "{n} shards");
            let local = d.join(format!("merged{n}.parquet"));
            s3.download(&url(&merged_url), &local).unwrap();
            same_samples(&d.join("full.parquet"), &local);
            std::fs::remove_file(&local).unwrap();
        }

        // A pattern works like a prefix; the merge's own output under the prefix is left out.
        let r = mcsim_s3(
            d,
            &endpoint,
            &[
                "results",
                "merge",
                "s3://mcsim-shards/run3/shard-*.parquet",
                "--out",
                "s3://mcsim-shards/run3/merged.parquet",
                "-q",
            ],
        );
        r.expect_code(0);
        let again = mcsim_s3(
            d,
            &endpoint,
            &[
                "results",
                "merge",
                "s3://mcsim-shards/run3/",
                "--out",
                "s3://mcsim-shards/run3/merged.parquet",
                "--format",
                "json",
            ],
        );
        again.expect_code(0);
        assert_eq!(outputs(&again.json()), outputs(&full.json()));

        // A shard missing from S3 is named; the merged file is not written.
        s3.block_on(
            s3.store()
                .delete(&url("s3://mcsim-shards/run3/shard-1.parquet")),
        )
        .unwrap();
        let r = mcsim_s3(
            d,
            &endpoint,
            &[
                "results",
                "merge",
                "s3://mcsim-shards/run3/shard-*.parquet",
                "--out",
                "s3://mcsim-shards/broken/all.parquet",
            ],
        );
        r.expect_code(2);
        assert!(r.stderr.contains("missing: 1/3"), "{}", r.stderr);
        assert!(
            s3.list(&url("s3://mcsim-shards/broken/"))
                .unwrap()
                .is_empty(),
            "a failed merge uploads nothing"
        );
        // A key that does not exist is named with its URL.
        let r = mcsim_s3(
            d,
            &endpoint,
            &[
                "results",
                "merge",
                "s3://mcsim-shards/run3/shard-0.parquet",
                "s3://mcsim-shards/run3/shard-1.parquet",
                "s3://mcsim-shards/run3/shard-2.parquet",
                "--out",
                "x.parquet",
            ],
        );
        r.expect_code(2);
        assert!(
            r.stderr
                .contains("s3://mcsim-shards/run3/shard-1.parquet: no such object"),
            "{}",
            r.stderr
        );
        // Errors about a file name its URL, not the local copy.
        let r = mcsim_s3(
            d,
            &endpoint,
            &[
                "results",
                "merge",
                "s3://mcsim-shards/run3/shard-0.parquet",
                "s3://mcsim-shards/run1/shard-0.parquet",
                "--out",
                "x.parquet",
            ],
        );
        r.expect_code(2);
        assert!(
            r.stderr.contains("s3://mcsim-shards/run1/shard-0.parquet")
                && !r.stderr.contains("mcsim-s3-"),
            "{}",
            r.stderr
        );
    }

    #[test]
    fn a_workbook_and_its_model_file_are_read_from_s3() {
        let Some((endpoint, s3, dir)) = live(
            "a_workbook_and_its_model_file_are_read_from_s3",
            "mcsim-models",
        ) else {
            return;
        };
        let d = dir.path();
        let (wb, config) = (
            root().join("examples/npv_project.xlsx"),
            root().join("examples/npv_project.mcsim.toml"),
        );
        s3.upload(&wb, &url("s3://mcsim-models/npv/npv_project.xlsx"))
            .unwrap();
        s3.upload(&config, &url("s3://mcsim-models/npv/model.toml"))
            .unwrap();
        let local = mcsim_s3(
            d,
            &endpoint,
            &[
                "run",
                wb.to_str().unwrap(),
                "--config",
                config.to_str().unwrap(),
                "-n",
                "3000",
                "--format",
                "json",
            ],
        );
        local.expect_code(0);
        let remote = mcsim_s3(
            d,
            &endpoint,
            &[
                "run",
                "s3://mcsim-models/npv/npv_project.xlsx",
                "--config",
                "s3://mcsim-models/npv/model.toml",
                "-n",
                "3000",
                "--format",
                "json",
            ],
        );
        remote.expect_code(0);
        let (l, r) = (local.json(), remote.json());
        // The model file's seed (42) and inputs were used: the same run as from local files.
        assert_eq!(r["seed"], 42);
        assert_eq!(r["inputs"], l["inputs"]);
        assert_eq!(outputs(&r), outputs(&l));
        assert_eq!(r["workbook"], "s3://mcsim-models/npv/npv_project.xlsx");

        let r = mcsim_s3(
            d,
            &endpoint,
            &["run", "s3://mcsim-models/npv/missing.xlsx", "-n", "10"],
        );
        r.expect_code(2);
        assert!(
            r.stderr
                .contains("s3://mcsim-models/npv/missing.xlsx: no such object in S3"),
            "{}",
            r.stderr
        );
    }

    #[test]
    fn the_slurm_s3_example_runs_against_s3() {
        let Some((endpoint, s3, dir)) = live("the_slurm_s3_example_runs_against_s3", "mcsim-slurm")
        else {
            return;
        };
        let d = dir.path();
        s3.upload(
            &root().join("examples/npv_project_risk.xlsx"),
            &url("s3://mcsim-slurm/models/npv_project_risk.xlsx"),
        )
        .unwrap();
        let read = |name: &str| {
            std::fs::read_to_string(root().join("examples/slurm").join(name))
                .unwrap()
                .replace("8000000", "16000")
        };
        // Every array task as Slurm runs it, with fewer iterations.
        let (shards, merge) = (read("shards-s3.sbatch"), read("merge-s3.sbatch"));
        let bash = |script: &str, id: Option<u32>| {
            let mut cmd = Command::new("bash");
            cmd.arg("-c")
                .arg(script)
                .current_dir(d)
                .env("MCSIM", env!("CARGO_BIN_EXE_mcsim"))
                .env("MCSIM_S3", "s3://mcsim-slurm")
                .env("MCSIM_S3_ENDPOINT", &endpoint)
                .env("SLURM_CPUS_PER_TASK", "1")
                .env_remove("JOB_COMPLETION_INDEX")
                .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
                .env_remove("RUST_LOG")
                .stdin(Stdio::null());
            if let Some(id) = id {
                cmd.env("SLURM_ARRAY_TASK_ID", id.to_string())
                    .env("SLURM_ARRAY_TASK_COUNT", "8");
            } else {
                cmd.env_remove("SLURM_ARRAY_TASK_ID");
            }
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{id:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        for id in 0..8 {
            bash(&shards, Some(id));
        }
        let listed = s3.list(&url("s3://mcsim-slurm/runs/npv-42/")).unwrap();
        assert_eq!(listed.len(), 16, "8 samples files and 8 accumulator files");
        // The merge step prints the accumulators' report, then the exact one.
        let log = bash(&merge, None);
        let mut reports = serde_json::Deserializer::from_str(&log).into_iter::<Value>();
        let acc = reports.next().unwrap().unwrap();
        let exact = reports.next().unwrap().unwrap();
        assert_eq!(acc["mode"], "merged-accumulators");
        assert_eq!(acc["shards"], 8);
        assert_eq!(
            acc["workbook"],
            "s3://mcsim-slurm/models/npv_project_risk.xlsx"
        );
        assert_eq!(exact["mode"], "exact");
        let whole = whole_example_run(d);
        assert_eq!(outputs(&exact), outputs(&whole));
        for (w, a) in whole["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .zip(acc["outputs"].as_array().unwrap())
        {
            assert_eq!(w["summary"]["mean"], a["summary"]["mean"]);
            assert_eq!(w["summary"]["std_dev"], a["summary"]["std_dev"]);
        }
        let stats = d.join("stats.json");
        s3.download(&url("s3://mcsim-slurm/runs/npv-42/stats.json"), &stats)
            .unwrap();
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
        assert_eq!(written["mode"], "merged-accumulators");
        let samples = d.join("merged.parquet");
        assert_eq!(
            iterations_at(&s3, "s3://mcsim-slurm/runs/npv-42.parquet", &samples),
            16_000
        );
    }

    #[test]
    fn the_kubernetes_s3_example_runs_against_s3() {
        let Some((endpoint, s3, dir)) =
            live("the_kubernetes_s3_example_runs_against_s3", "mcsim-example")
        else {
            return;
        };
        let d = dir.path();
        s3.upload(
            &root().join("examples/npv_project_risk.xlsx"),
            &url("s3://mcsim-example/models/npv_project_risk.xlsx"),
        )
        .unwrap();
        // Every pod's command as Kubernetes runs it ($(VAR) expanded), with fewer iterations.
        let job = yaml("shards-s3.yaml");
        let run = command(&job);
        let completions = job["spec"]["completions"].as_u64().unwrap();
        for i in 0..completions {
            let args: Vec<String> = run[1..]
                .iter()
                .map(|a| {
                    a.replace("$(JOB_COMPLETION_INDEX)", &i.to_string())
                        .replace("8000000", "16000")
                })
                .collect();
            let out = Command::new(env!("CARGO_BIN_EXE_mcsim"))
                .args(&args)
                .current_dir(d)
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .env("MCSIM_SHARDS", completions.to_string())
                .env("MCSIM_S3_ENDPOINT", &endpoint)
                .env_remove("SLURM_ARRAY_TASK_ID")
                .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "pod {i}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let merge = command(&yaml("merge-s3.yaml"));
        let args: Vec<&str> = merge[1..].iter().map(String::as_str).collect();
        let merged = mcsim_s3(d, &endpoint, &args);
        merged.expect_code(0);
        assert_eq!(outputs(&merged.json()), outputs(&whole_example_run(d)));
        let samples = d.join("merged.parquet");
        assert_eq!(
            iterations_at(&s3, "s3://mcsim-example/runs/npv-42.parquet", &samples),
            16_000
        );
    }

    /// A running `mcsim serve`, killed on drop.
    struct Server {
        child: Child,
        url: String,
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn serve(endpoint: &str, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcsim"))
            .arg("serve")
            .args(args)
            .args(["--bind", "127.0.0.1:0", "--threads", "2"])
            .env_remove("RUST_LOG")
            .env_remove("MCSIM_DATABASE_URL")
            .env("MCSIM_S3_ENDPOINT", endpoint)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(url) = line.strip_prefix("mcsim server listening on ") {
                    let _ = tx.send(url.to_owned());
                    sent = true;
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server did not start");
        Server { child, url }
    }

    /// `mcsim ARGS` as the user whose login lives in `config`, with `stdin`.
    fn mcsim_as(config: &Path, endpoint: &str, args: &[&str], stdin: &str) -> Run {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcsim"))
            .args(args)
            .env("MCSIM_CONFIG_DIR", config)
            .env("MCSIM_S3_ENDPOINT", endpoint)
            .env_remove("RUST_LOG")
            .env_remove("MCSIM_DATABASE_URL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).unwrap();
        drop(input);
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    #[test]
    fn the_server_keeps_workbooks_and_samples_in_s3() {
        let Some((endpoint, s3, dir)) =
            live("the_server_keeps_workbooks_and_samples_in_s3", "mcsim-team")
        else {
            return;
        };
        let d = dir.path();
        let alice = d.join("alice");
        let db = format!("sqlite://{}?mode=rwc", d.join("shared.db").display());
        let storage = "s3://mcsim-team/prod";
        let replica = |data: &str| {
            vec![
                "--data-dir".to_owned(),
                d.join(data).display().to_string(),
                "--database".to_owned(),
                db.clone(),
                "--storage".to_owned(),
                storage.to_owned(),
            ]
        };
        let one = replica("one");
        let one: Vec<&str> = one.iter().map(String::as_str).collect();
        let mut create = vec!["serve"];
        create.extend(&one);
        create.extend(["--create-admin", "alice"]);
        mcsim_as(&alice, &endpoint, &create, "alice-password\n").expect_code(0);

        let server = serve(&endpoint, &one);
        mcsim_as(
            &alice,
            &endpoint,
            &[
                "login",
                "--server",
                &server.url,
                "--user",
                "alice",
                "--password-stdin",
            ],
            "alice-password\n",
        )
        .expect_code(0);
        let model = root().join("bench/models/npv_project_risk.xlsx");
        let up = mcsim_as(
            &alice,
            &endpoint,
            &[
                "upload",
                model.to_str().unwrap(),
                "--name",
                "npv",
                "--format",
                "json",
            ],
            "",
        );
        up.expect_code(0);
        // The workbook is in S3, stored by its content's SHA-256.
        let blobs = s3.list(&url("s3://mcsim-team/prod/blobs/")).unwrap();
        assert_eq!(blobs.len(), 1, "{blobs:?}");
        let stored = d.join("stored.xlsx");
        s3.download(&blobs[0], &stored).unwrap();
        assert!(std::fs::read(&stored).unwrap() == std::fs::read(&model).unwrap());

        let run = mcsim_as(
            &alice,
            &endpoint,
            &[
                "run", "--remote", "npv", "-n", "2000", "--seed", "7", "--wait", "--format", "json",
            ],
            "",
        );
        run.expect_code(0);
        let remote = run.json();
        let local = mcsim_in(
            d,
            &[
                "run",
                model.to_str().unwrap(),
                "-n",
                "2000",
                "--seed",
                "7",
                "--format",
                "json",
            ],
        );
        local.expect_code(0);
        assert_eq!(outputs(&remote), outputs(&local.json()));
        let runs = s3.list(&url("s3://mcsim-team/prod/runs/")).unwrap();
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert!(runs[0].key.ends_with("/samples.parquet"), "{runs:?}");
        let run_id = runs[0].key.split('/').nth(2).unwrap().to_owned();
        drop(server);

        // A second replica with an empty cache (same database and bucket) serves the run's
        // samples and results from S3, and runs the stored workbook.
        let two = replica("two");
        let two: Vec<&str> = two.iter().map(String::as_str).collect();
        let server = serve(&endpoint, &two);
        mcsim_as(
            &alice,
            &endpoint,
            &[
                "login",
                "--server",
                &server.url,
                "--user",
                "alice",
                "--password-stdin",
            ],
            "alice-password\n",
        )
        .expect_code(0);
        let samples = d.join("samples.parquet");
        let r = mcsim_as(
            &alice,
            &endpoint,
            &[
                "results",
                "--remote",
                &run_id,
                "--samples",
                samples.to_str().unwrap(),
            ],
            "",
        );
        r.expect_code(0);
        let from_samples = mcsim_in(d, &["results", "samples.parquet", "--format", "json"]);
        from_samples.expect_code(0);
        assert_eq!(outputs(&from_samples.json()), outputs(&local.json()));
        let started = Instant::now();
        let again = mcsim_as(
            &alice,
            &endpoint,
            &[
                "run", "--remote", "npv", "-n", "2000", "--seed", "7", "--wait", "--format", "json",
            ],
            "",
        );
        again.expect_code(0);
        assert_eq!(outputs(&again.json()), outputs(&local.json()));
        assert!(started.elapsed() < Duration::from_secs(120));
        assert_eq!(
            s3.list(&url("s3://mcsim-team/prod/runs/")).unwrap().len(),
            2
        );
    }
}
