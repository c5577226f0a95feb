//! Bad input: exit status 2 and one clear line on stderr, nothing on stdout.

use crate::common::{assert_error, example, mcsim_in, temp, typed_row, write_xlsx};

#[test]
fn missing_file() {
    let dir = temp();
    let run = mcsim_in(dir.path(), &["parse", "nope.xlsx"]);
    assert_error(&run, &["nope.xlsx", "cannot read"]);
}

#[test]
fn csv_file() {
    let dir = temp();
    std::fs::write(dir.path().join("data.csv"), "a,b\n1,2\n").unwrap();
    let run = mcsim_in(dir.path(), &["parse", "data.csv"]);
    assert_error(&run, &["data.csv", ".xlsx"]);
}

#[test]
fn text_file_renamed_xlsx() {
    let dir = temp();
    std::fs::write(
        dir.path().join("notes.xlsx"),
        "these are not the cells you are looking for\n",
    )
    .unwrap();
    let run = mcsim_in(dir.path(), &["parse", "--format", "json", "notes.xlsx"]);
    assert_error(&run, &["notes.xlsx", "not a zip"]);
}

#[test]
fn truncated_xlsx() {
    let dir = temp();
    let bytes = std::fs::read(example("ironcalc_example.xlsx")).unwrap();
    std::fs::write(dir.path().join("cut.xlsx"), &bytes[..bytes.len() / 2]).unwrap();
    let run = mcsim_in(dir.path(), &["parse", "cut.xlsx"]);
    assert_error(&run, &["cut.xlsx"]);
}

#[test]
fn zip_bomb_over_the_decompressed_limit() {
    let dir = temp();
    let zeros = vec![0u8; 8 << 20];
    write_xlsx(
        &dir.path().join("bomb.xlsx"),
        &typed_row(Some("6")),
        &[("xl/media/zeros.bin", &zeros)],
    );
    let run = mcsim_in(
        dir.path(),
        &["parse", "--max-decompressed-bytes", "1MiB", "bomb.xlsx"],
    );
    assert_error(&run, &["bomb.xlsx", "--max-decompressed-bytes"]);
}

#[test]
fn too_many_zip_entries() {
    let dir = temp();
    write_xlsx(&dir.path().join("small.xlsx"), &typed_row(Some("6")), &[]);
    let run = mcsim_in(
        dir.path(),
        &["parse", "--max-zip-entries", "3", "small.xlsx"],
    );
    assert_error(&run, &["small.xlsx", "entries"]);
    // Under the limits, the same file is fine.
    mcsim_in(dir.path(), &["parse", "small.xlsx"]).expect_code(0);
}

#[test]
fn usage_errors_exit_2() {
    let dir = temp();
    for args in [
        &["parse"][..],
        &["parse", "--format", "xml", "x.xlsx"],
        &["parse", "--max-decompressed-bytes", "lots", "x.xlsx"],
        &["frobnicate"],
        &[],
    ] {
        let run = mcsim_in(dir.path(), args);
        run.expect_code(2);
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr.contains("error:") || run.stderr.contains("Usage:"),
            "{args:?}: {}",
            run.stderr
        );
    }
}
