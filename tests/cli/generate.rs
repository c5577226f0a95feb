//! The committed man pages and completion scripts match the command line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{mcsim_in, root, temp};

fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn committed_man_pages_and_completions_are_up_to_date() {
    let dir = temp();
    let run = mcsim_in(dir.path(), &["generate", "all", "."]);
    run.expect_code(0);
    assert_eq!(run.stdout, "", "generate writes files, not stdout");
    let mut stale = Vec::new();
    for sub in ["man", "completions"] {
        let fresh = files_in(&dir.path().join(sub));
        let committed = files_in(&root().join(sub));
        assert!(!fresh.is_empty(), "nothing generated in {sub}/");
        let names: std::collections::BTreeSet<&String> =
            fresh.keys().chain(committed.keys()).collect();
        for name in names {
            if fresh.get(name) != committed.get(name) {
                stale.push(format!("{sub}/{name}"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files differ from the committed ones: {}\n\
         run `cargo run -- generate all` to refresh them (and delete files no longer generated)",
        stale.join(", ")
    );
    assert!(root().join("man/mcsim.1").is_file());
    assert!(root().join("man/mcsim-parse.1").is_file());
}

#[test]
fn check_mode_reports_stale_files() {
    let dir = temp();
    mcsim_in(dir.path(), &["generate", "completions", "bash", "out"]).expect_code(0);
    mcsim_in(
        dir.path(),
        &["generate", "--check", "completions", "bash", "out"],
    )
    .expect_code(0);
    std::fs::write(dir.path().join("out/mcsim.bash"), "stale").unwrap();
    let run = mcsim_in(
        dir.path(),
        &["generate", "--check", "completions", "bash", "out"],
    );
    run.expect_code(1);
    assert!(run.stderr.contains("out of date"), "{}", run.stderr);
    assert!(
        run.stderr.contains("cargo run -- generate all"),
        "{}",
        run.stderr
    );
}
