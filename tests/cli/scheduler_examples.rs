//! The batch-scheduler examples (`examples/kubernetes`, `examples/slurm`): their manifests have
//! what mcsim relies on, and their commands, run here as the scheduler would run them (with the
//! shared volume in a temporary directory and fewer iterations), produce the merged run.

use crate::common::{root, temp, yaml};
use std::path::Path;
use std::process::{Command, Stdio};

/// The examples' iteration count, replaced by this one so the test stays quick.
const EXAMPLE_ITERATIONS: &str = "8000000";
const TEST_ITERATIONS: &str = "40000";

fn check_report(dir: &Path) {
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("runs/npv-42/report.json")).unwrap(),
    )
    .unwrap();
    let samples = mcsim_results::read_samples(dir.join("runs/npv-42/samples.parquet")).unwrap();
    assert_eq!(samples.iterations.len(), 40_000);
    assert_eq!(samples.iterations.first(), Some(&1));
    assert!(
        !report["outputs"].as_array().unwrap().is_empty(),
        "{report}"
    );
}

#[test]
fn kubernetes_indexed_job_runs_the_shards_and_the_merge() {
    let job = yaml("shards.yaml");
    let spec = &job["spec"];
    assert_eq!(job["kind"], "Job");
    assert_eq!(
        spec["completionMode"], "Indexed",
        "mcsim reads JOB_COMPLETION_INDEX"
    );
    let completions = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let container = &spec["template"]["spec"]["containers"][0];
    let env = container["env"].as_array().unwrap();
    let shards = env
        .iter()
        .find(|e| e["name"] == "MCSIM_SHARDS")
        .and_then(|e| e["value"].as_str())
        .expect("MCSIM_SHARDS tells --shard auto the count");
    assert_eq!(shards, completions.to_string(), "one shard per completion");
    let command: Vec<String> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(command[..2], ["mcsim", "run"]);
    assert!(command.windows(2).any(|w| w == ["--shard", "auto"]));
    assert!(
        command
            .iter()
            .any(|a| a.contains("$(JOB_COMPLETION_INDEX)")),
        "each shard writes its own file"
    );

    // Run every pod's command as Kubernetes would: $(VAR) expanded, the volume at /data.
    let dir = temp();
    let d = dir.path();
    std::fs::copy(
        root().join("examples/npv_project_risk.xlsx"),
        d.join("npv_project_risk.xlsx"),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("runs/npv-42")).unwrap();
    let data = d.to_str().unwrap();
    for i in 0..completions {
        let args: Vec<String> = command[1..]
            .iter()
            .map(|a| {
                a.replace("$(JOB_COMPLETION_INDEX)", &i.to_string())
                    .replace("/data", data)
                    .replace(EXAMPLE_ITERATIONS, TEST_ITERATIONS)
            })
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_mcsim"))
            .args(&args)
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("MCSIM_SHARDS", shards)
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

    let merge = yaml("merge.yaml");
    let mc = &merge["spec"]["template"]["spec"]["containers"][0]["command"];
    assert_eq!(mc[0], "sh");
    let script = mc[2].as_str().unwrap();
    assert!(script.contains("mcsim results merge"), "{script}");
    let script = script
        .replace("mcsim ", &format!("{} ", env!("CARGO_BIN_EXE_mcsim")))
        .replace("/data", data);
    let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "merge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(d);
}

#[test]
fn slurm_array_runs_the_shards_and_the_merge() {
    let shards = std::fs::read_to_string(root().join("examples/slurm/shards.sbatch")).unwrap();
    let merge = std::fs::read_to_string(root().join("examples/slurm/merge.sbatch")).unwrap();
    let array = shards
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .expect("a job array");
    let (lo, hi) = array.split_once('-').unwrap();
    let (lo, hi): (u32, u32) = (lo.parse().unwrap(), hi.parse().unwrap());
    assert!(shards.contains("--shard auto"));

    let dir = temp();
    let d = dir.path();
    std::fs::copy(
        root().join("examples/npv_project_risk.xlsx"),
        d.join("npv_project_risk.xlsx"),
    )
    .unwrap();
    let script = d.join("shards.sh");
    std::fs::write(&script, shards.replace(EXAMPLE_ITERATIONS, TEST_ITERATIONS)).unwrap();
    for id in lo..=hi {
        let out = Command::new("bash")
            .arg(&script)
            .env("MCSIM", env!("CARGO_BIN_EXE_mcsim"))
            .env("MCSIM_DATA", d)
            .env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_COUNT", (hi - lo + 1).to_string())
            .env("SLURM_ARRAY_TASK_MIN", lo.to_string())
            .env("SLURM_ARRAY_TASK_MAX", hi.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "array task {id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&merge)
        .env("MCSIM", env!("CARGO_BIN_EXE_mcsim"))
        .env("MCSIM_DATA", d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "merge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(d);
}

#[test]
fn the_slurm_s3_example_has_what_mcsim_relies_on() {
    let read = |name: &str| std::fs::read_to_string(root().join("examples/slurm").join(name));
    let (shards, merge) = (
        read("shards-s3.sbatch").unwrap(),
        read("merge-s3.sbatch").unwrap(),
    );
    // The same array as the shared-directory example, and every task one shard of it.
    let array = |script: &str| {
        script
            .lines()
            .find_map(|l| l.strip_prefix("#SBATCH --array="))
            .map(str::to_owned)
    };
    assert_eq!(
        array(&shards),
        array(&read("shards.sbatch").unwrap()),
        "8 array tasks"
    );
    assert!(shards.contains("--shard auto"));
    assert!(shards.contains(r#"s3="${MCSIM_S3:-s3://mcsim-example}""#));
    assert!(shards.contains(r#""${MCSIM:-mcsim}" run "$s3/models/npv_project_risk.xlsx""#));
    assert!(
        shards.contains(r#"--out "$s3/runs/npv-42/shard-${SLURM_ARRAY_TASK_ID}.parquet""#),
        "each task uploads its own shard (and its accumulators beside it)"
    );
    assert!(
        !shards.contains("--stats"),
        "the accumulators go beside --out"
    );
    // The merge: the accumulators first, then the samples, both from and to S3.
    let lines: Vec<&str> = merge
        .lines()
        .filter(|l| l.contains("results merge"))
        .collect();
    assert_eq!(lines.len(), 2, "{merge}");
    assert!(lines[0].contains(r#""$s3/runs/npv-42/shard-*.stats.json""#));
    assert!(lines[1].contains(r#""$s3/runs/npv-42/shard-*.parquet""#));
    assert!(merge.contains(r#"--out "$s3/runs/npv-42/stats.json""#));
    assert!(merge.contains(r#"--out "$s3/runs/npv-42.parquet""#));
    assert!(
        merge.contains("set -euo pipefail"),
        "a failed merge fails the job"
    );
}
