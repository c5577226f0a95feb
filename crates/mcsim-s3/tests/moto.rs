//! The client against a real S3-compatible server (moto, started by `.ci/run`): the endpoint
//! comes from `MCSIM_TEST_S3_ENDPOINT`; without it the tests print a note and pass.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use mcsim_s3::{BlockingStore, S3Options, S3Url};

/// A client for the test server, or `None` (with a note) when none is configured.
fn store(test: &str) -> Option<BlockingStore> {
    let Some(endpoint) = std::env::var("MCSIM_TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        eprintln!("{test}: skipped: MCSIM_TEST_S3_ENDPOINT is not set (see .ci/run)");
        return None;
    };
    // moto accepts any credentials, but the SDK wants some (`.ci/run` exports them).
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values) with MCSIM_TEST_S3_ENDPOINT"
    );
    let options = S3Options {
        endpoint: Some(endpoint),
        ..S3Options::default()
    };
    Some(BlockingStore::connect(&options, "test").unwrap())
}

fn bucket(store: &BlockingStore, name: &str) -> S3Url {
    store.block_on(store.store().create_bucket(name)).unwrap();
    S3Url::parse(&format!("s3://{name}/")).unwrap().unwrap()
}

#[test]
fn small_and_multipart_uploads_round_trip() {
    let Some(store) = store("small_and_multipart_uploads_round_trip") else {
        return;
    };
    let store = store.with_part_size(5 << 20);
    let root = bucket(&store, "mcsim-s3-roundtrip");
    let dir = tempfile::tempdir().unwrap();

    // 11 MiB + 3 bytes of varied content: three parts of 5, 5 and 1 MiB + 3.
    let big: Vec<u8> = (0..(11u32 << 20) + 3)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let small = b"model.toml contents".to_vec();
    std::fs::write(dir.path().join("big.bin"), &big).unwrap();
    std::fs::write(dir.path().join("small.txt"), &small).unwrap();

    let big_url = root.with_key("run/big.bin");
    let small_url = root.with_key("run/small.txt");
    assert_eq!(
        store.upload(&dir.path().join("big.bin"), &big_url).unwrap(),
        big.len() as u64
    );
    store
        .upload(&dir.path().join("small.txt"), &small_url)
        .unwrap();
    // A multipart upload's entity tag ends in the number of parts.
    let etag = store
        .block_on(store.store().etag(&big_url))
        .unwrap()
        .unwrap();
    assert!(etag.ends_with("-3"), "etag {etag}");
    let etag = store
        .block_on(store.store().etag(&small_url))
        .unwrap()
        .unwrap();
    assert!(!etag.contains('-'), "etag {etag}");

    store
        .download(&big_url, &dir.path().join("big.back"))
        .unwrap();
    store
        .download(&small_url, &dir.path().join("small.back"))
        .unwrap();
    assert!(std::fs::read(dir.path().join("big.back")).unwrap() == big);
    assert_eq!(std::fs::read(dir.path().join("small.back")).unwrap(), small);

    let listed = store.list(&root.with_key("run/")).unwrap();
    assert_eq!(listed, vec![big_url.clone(), small_url.clone()]);
    assert!(store.list(&root.with_key("other/")).unwrap().is_empty());

    assert!(store.block_on(store.store().exists(&small_url)).unwrap());
    store.block_on(store.store().delete(&small_url)).unwrap();
    assert!(!store.block_on(store.store().exists(&small_url)).unwrap());
    let err = store
        .download(&small_url, &dir.path().join("gone"))
        .unwrap_err();
    assert!(
        matches!(&err, mcsim_s3::S3Error::NotFound(u) if u == "s3://mcsim-s3-roundtrip/run/small.txt"),
        "{err}"
    );
    let err = store
        .list(&S3Url::parse("s3://no-such-bucket-here/").unwrap().unwrap())
        .unwrap_err();
    assert!(err.to_string().contains("no-such-bucket-here"), "{err}");
}
