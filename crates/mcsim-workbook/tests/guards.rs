//! Hostile, damaged and unsupported files.

mod common;

use std::path::Path;

use common::{book, one_sheet, zip_of};
use mcsim_workbook::{LoadError, LoadOptions, ZipLimit, load, load_bytes};

fn try_load(bytes: &[u8], name: &str) -> Result<mcsim_workbook::Workbook, LoadError> {
    load_bytes(bytes, name, &LoadOptions::default())
}

/// A workbook whose sheet part is `size` bytes of XML that compresses extremely well.
fn bomb(size: usize) -> Vec<u8> {
    let mut sheet = String::from(
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/>"#,
    );
    sheet.push_str(&" ".repeat(size));
    sheet.push_str("</worksheet>");
    book()
        .sheet("Sheet1", "")
        .without("xl/worksheets/sheet1.xml")
        .entry("xl/worksheets/sheet1.xml", sheet)
        .build()
}

#[test]
fn zip_bomb_by_total_size() {
    let bytes = bomb(20 << 20);
    assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
    let options = LoadOptions::default()
        .with_max_decompressed_bytes(10 << 20)
        .with_max_entry_ratio(100_000);
    let err = load_bytes(&bytes, "bomb.xlsx", &options).unwrap_err();
    assert!(
        matches!(
            &err,
            LoadError::ZipBomb {
                limit: ZipLimit::DecompressedBytes { limit: 10_485_760 },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "'bomb.xlsx' would decompress to more than 10485760 bytes (limit: --max-decompressed-bytes)"
    );
    // Within the limits the same file loads.
    let options = LoadOptions::default()
        .with_max_decompressed_bytes(30 << 20)
        .with_max_entry_ratio(100_000);
    let wb = load_bytes(&bytes, "bomb.xlsx", &options).unwrap();
    assert!(wb.sheets[0].cells.is_empty());
}

#[test]
fn zip_bomb_by_compression_ratio() {
    // 20 MiB of spaces deflate at about 1000:1.
    let bytes = bomb(20 << 20);
    let err = try_load(&bytes, "bomb.xlsx").unwrap_err();
    match &err {
        LoadError::ZipBomb {
            limit:
                ZipLimit::EntryRatio {
                    entry,
                    ratio,
                    limit,
                },
            ..
        } => {
            assert_eq!(entry, "xl/worksheets/sheet1.xml");
            assert!(*ratio > 1000, "{ratio}");
            assert_eq!(*limit, 1000);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("--max-entry-ratio"), "{err}");
}

#[test]
fn too_many_entries() {
    let mut b = book().sheet("Sheet1", "");
    for i in 0..30 {
        b = b.entry(&format!("xl/media/pad{i}.bin"), vec![0u8; 4]);
    }
    let bytes = b.build();
    let options = LoadOptions::default().with_max_entries(20);
    let err = load_bytes(&bytes, "many.xlsx", &options).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::ZipBomb {
                limit: ZipLimit::Entries {
                    count: 35,
                    limit: 20
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "'many.xlsx' has 35 zip entries, more than 20 (limit: --max-zip-entries)"
    );
    assert!(try_load(&bytes, "many.xlsx").is_ok());
}

#[test]
fn lying_declared_size_is_caught_while_reading() {
    // The sheet declares 10 bytes uncompressed but inflates to much more: the zip reader
    // stops at the declared size, and the load fails instead of reading on.
    let mut bytes = bomb(5 << 20);
    let name = b"xl/worksheets/sheet1.xml";
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(46) {
        if bytes[i..].starts_with(b"PK\x03\x04") {
            let n = usize::from(u16::from_le_bytes([bytes[i + 26], bytes[i + 27]]));
            if bytes.get(i + 30..i + 30 + n) == Some(&name[..]) {
                bytes[i + 22..i + 26].copy_from_slice(&10u32.to_le_bytes());
                patched += 1;
            }
        } else if bytes[i..].starts_with(b"PK\x01\x02") {
            let n = usize::from(u16::from_le_bytes([bytes[i + 28], bytes[i + 29]]));
            if bytes.get(i + 46..i + 46 + n) == Some(&name[..]) {
                bytes[i + 24..i + 28].copy_from_slice(&10u32.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert_eq!(patched, 2);
    let err = try_load(&bytes, "liar.xlsx").unwrap_err();
    assert!(matches!(err, LoadError::Corrupt { .. }), "{err:?}");
    assert!(chain(&err).contains("sheet1.xml"), "{}", chain(&err));
}

/// The error and its sources, as a CLI would print them.
fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[test]
fn errors_are_send_sync_and_static() {
    fn check<T: Send + Sync + 'static>() {}
    check::<LoadError>();
    check::<mcsim_workbook::Workbook>();
}

#[test]
fn path_traversal_entry_names() {
    for evil in [
        "../evil.xml",
        "xl/../../evil.xml",
        "/etc/evil.xml",
        "xl\\..\\..\\evil.xml",
    ] {
        let bytes = book().sheet("Sheet1", "").entry(evil, "x").build();
        let err = try_load(&bytes, "evil.xlsx").unwrap_err();
        match &err {
            LoadError::UnsafeEntry { entry, .. } => assert_eq!(entry, evil),
            other => panic!("{evil}: {other:?}"),
        }
        assert!(err.to_string().contains("unsafe"), "{err}");
    }
}

#[test]
fn not_a_zip() {
    let csv = b"a,b\n1,2\n";
    let err = try_load(csv, "data.txt").unwrap_err();
    assert!(matches!(err, LoadError::NotAZip { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "file is not a zip archive, so not an .xlsx workbook: data.txt"
    );
    let err = try_load(csv, "data.csv").unwrap_err();
    assert!(matches!(err, LoadError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("only .xlsx and .xlsm"), "{err}");
    let err = try_load(b"", "empty.xlsx").unwrap_err();
    assert!(matches!(err, LoadError::NotAZip { .. }), "{err:?}");
}

fn ole(extra: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(1024, 0);
    bytes.extend_from_slice(extra);
    bytes.resize(4096, 0);
    bytes
}

#[test]
fn legacy_xls() {
    let err = try_load(&ole(b"Workbook"), "x.xls").unwrap_err();
    assert!(matches!(err, LoadError::Unsupported { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "'x.xls' is an Excel 97-2003 workbook (.xls); mcsim reads only .xlsx and .xlsm workbooks \
         (save it as .xlsx)"
    );
}

#[test]
fn encrypted_workbook() {
    let stream: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let err = try_load(&ole(&stream), "book.xlsx").unwrap_err();
    assert!(matches!(err, LoadError::Encrypted { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "'book.xlsx' is encrypted (password-protected); save it without a password"
    );
}

#[test]
fn other_zip_formats() {
    let xlsb = zip_of(&[
        ("[Content_Types].xml".into(), b"<Types/>".to_vec()),
        ("xl/workbook.bin".into(), vec![1, 2, 3]),
    ]);
    let err = try_load(&xlsb, "b.xlsb").unwrap_err();
    assert!(err.to_string().contains(".xlsb"), "{err}");
    let ods = zip_of(&[
        (
            "mimetype".into(),
            b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
        ),
        ("content.xml".into(), b"<office:document-content/>".to_vec()),
    ]);
    let err = try_load(&ods, "s.ods").unwrap_err();
    assert!(matches!(err, LoadError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains(".ods"), "{err}");
}

#[test]
fn missing_workbook_part() {
    let bytes = book()
        .sheet("Sheet1", "")
        .without("xl/workbook.xml")
        .build();
    let err = try_load(&bytes, "nowb.xlsx").unwrap_err();
    assert!(matches!(err, LoadError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("xl/workbook.xml"), "{err}");
}

#[test]
fn truncated_zip_never_panics() {
    let bytes = one_sheet(r#"<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>"#);
    let half = &bytes[..bytes.len() / 2];
    let err = try_load(half, "half.xlsx").unwrap_err();
    assert!(matches!(err, LoadError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("truncated"), "{err}");
    for cut in (0..bytes.len()).step_by(13) {
        assert!(try_load(&bytes[..cut], "cut.xlsx").is_err(), "cut at {cut}");
    }
}

#[test]
fn damaged_bytes_never_panic() {
    let bytes = one_sheet(r#"<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>"#);
    // Flip bytes across the whole file; every outcome must be a value, not a panic.
    for i in (0..bytes.len()).step_by(7) {
        let mut damaged = bytes.clone();
        damaged[i] ^= 0x5A;
        let _ = try_load(&damaged, "flip.xlsx");
    }
}

#[test]
fn malformed_sheet_xml_is_corrupt() {
    let bytes = book()
        .sheet("Sheet1", "")
        .without("xl/worksheets/sheet1.xml")
        .entry(
            "xl/worksheets/sheet1.xml",
            r#"<worksheet><sheetData><row r="1"><c r="A1"><v>1</v>"#,
        )
        .build();
    let err = try_load(&bytes, "bad.xlsx").unwrap_err();
    match &err {
        LoadError::Corrupt { detail, source, .. } => {
            assert!(detail.contains("Sheet1"), "{detail}");
            assert!(source.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_file() {
    let err = load(
        Path::new("/nonexistent/dir/model.xlsx"),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/nonexistent/dir/model.xlsx"),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn load_from_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.xlsm");
    std::fs::write(
        &path,
        one_sheet(r#"<row r="1"><c r="A1"><v>7</v></c></row>"#),
    )
    .unwrap();
    let wb = load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(
        wb.sheets[0].cells[0].value,
        mcsim_workbook::CellValue::Number(7.0)
    );
}
