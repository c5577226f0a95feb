//! The S3 client (feature `aws`): downloads streamed to a file, uploads streamed from a file
//! (multipart above [`PART_SIZE`](crate::PART_SIZE), one part in memory at a time), listings
//! of a prefix. [`Store`] is async (the server); [`BlockingStore`] runs it on its own
//! single-threaded runtime (the command line).

use std::path::Path;

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{PART_SIZE, S3Error, S3Options, S3Url};

/// An S3 client with mcsim's settings.
#[derive(Debug, Clone)]
pub struct Store {
    client: aws_sdk_s3::Client,
    part_size: usize,
}

/// A failed request as an [`S3Error`]: HTTP 404 (no such key or bucket) as `NotFound`.
fn failed<E>(url: &S3Url, operation: &'static str, e: SdkError<E, HttpResponse>) -> S3Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
        return S3Error::NotFound(url.to_string());
    }
    S3Error::Request {
        url: url.to_string(),
        operation,
        message: DisplayErrorContext(&e).to_string(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> S3Error + '_ {
    move |source| S3Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Store {
    /// A client from the standard AWS configuration chain and `options`. `what` names the URL
    /// the caller wants (for errors; connecting makes no request).
    pub async fn connect(options: &S3Options, what: &str) -> Result<Store, S3Error> {
        let _ = what;
        let region = RegionProviderChain::default_provider().or_else(aws_config::Region::new(
            options
                .default_region
                .clone()
                .unwrap_or_else(|| "us-east-1".to_owned()),
        ));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
        if let Some(endpoint) = &options.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let sdk = loader.load().await;
        let sdk_endpoint = sdk.endpoint_url().is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
        let custom = options.endpoint.is_some() || sdk_endpoint;
        let mut config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(options.resolved_path_style(sdk_endpoint));
        if custom {
            // S3-compatible stores differ in their support of the newer default checksums;
            // send and check them only where the API requires them.
            config = config
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        Ok(Store {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            part_size: PART_SIZE,
        })
    }

    /// Sets the part size of multipart uploads (at least 5 MiB, S3's minimum).
    pub fn with_part_size(mut self, bytes: usize) -> Store {
        self.part_size = bytes.max(5 << 20);
        self
    }

    /// Creates a bucket (for tests and first setup); an existing bucket is fine.
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), S3Error> {
        let url = S3Url {
            bucket: bucket.to_owned(),
            key: String::new(),
        };
        match self.client.create_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(failed(&url, "CreateBucket", e)),
        }
    }

    /// Streams an object into a local file (created or replaced); returns its size.
    pub async fn download(&self, url: &S3Url, path: &Path) -> Result<u64, S3Error> {
        let object = self
            .client
            .get_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
            .map_err(|e| failed(url, "GetObject", e))?;
        let mut body = object.body;
        let mut file = tokio::fs::File::create(path).await.map_err(io(path))?;
        let mut size = 0u64;
        loop {
            let chunk = body.try_next().await.map_err(|e| S3Error::Request {
                url: url.to_string(),
                operation: "GetObject",
                message: DisplayErrorContext(&e).to_string(),
            })?;
            let Some(chunk) = chunk else { break };
            size += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(io(path))?;
        }
        file.flush().await.map_err(io(path))?;
        Ok(size)
    }

    /// Uploads a local file, streamed: one request up to the part size, else a multipart
    /// upload that reads one part at a time (aborted on failure, so no parts are left behind).
    /// Returns the size.
    pub async fn upload(&self, path: &Path, url: &S3Url) -> Result<u64, S3Error> {
        let size = tokio::fs::metadata(path).await.map_err(io(path))?.len();
        if size <= self.part_size as u64 {
            let body = ByteStream::from_path(path).await.map_err(|e| S3Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e),
            })?;
            self.client
                .put_object()
                .bucket(&url.bucket)
                .key(&url.key)
                .body(body)
                .send()
                .await
                .map_err(|e| failed(url, "PutObject", e))?;
            return Ok(size);
        }
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
            .map_err(|e| failed(url, "CreateMultipartUpload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| S3Error::Request {
                url: url.to_string(),
                operation: "CreateMultipartUpload",
                message: "the answer has no upload id".into(),
            })?
            .to_owned();
        let parts = self.upload_parts(path, url, &upload_id).await;
        let completed = match parts {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| failed(url, "CompleteMultipartUpload", e)),
            Err(e) => Err(e),
        };
        if let Err(e) = completed {
            let aborted = self
                .client
                .abort_multipart_upload()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(&upload_id)
                .send()
                .await;
            if let Err(abort) = aborted {
                tracing::warn!(
                    "{url}: cannot abort the failed multipart upload {upload_id}: {}",
                    DisplayErrorContext(&abort)
                );
            }
            return Err(e);
        }
        Ok(size)
    }

    /// The parts of a multipart upload, read from the file one at a time.
    async fn upload_parts(
        &self,
        path: &Path,
        url: &S3Url,
        upload_id: &str,
    ) -> Result<Vec<CompletedPart>, S3Error> {
        let mut file = tokio::fs::File::open(path).await.map_err(io(path))?;
        let mut parts = Vec::new();
        for number in 1i32.. {
            let mut buffer = vec![0u8; self.part_size];
            let mut filled = 0;
            while filled < buffer.len() {
                let n = file.read(&mut buffer[filled..]).await.map_err(io(path))?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            buffer.truncate(filled);
            let part = self
                .client
                .upload_part()
                .bucket(&url.bucket)
                .key(&url.key)
                .upload_id(upload_id)
                .part_number(number)
                .body(ByteStream::from(buffer))
                .send()
                .await
                .map_err(|e| failed(url, "UploadPart", e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_owned))
                    .build(),
            );
            if filled < self.part_size {
                break;
            }
        }
        Ok(parts)
    }

    /// Writes a small object from memory.
    pub async fn put_bytes(&self, bytes: Vec<u8>, url: &S3Url) -> Result<(), S3Error> {
        self.client
            .put_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(url, "PutObject", e))
    }

    /// The objects under a prefix (every page), sorted by key.
    pub async fn list(&self, prefix: &S3Url) -> Result<Vec<S3Url>, S3Error> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&prefix.bucket)
                .prefix(&prefix.key)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| failed(prefix, "ListObjectsV2", e))?;
            found.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .map(|k| prefix.with_key(k)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        found.sort();
        Ok(found)
    }

    /// Whether an object exists.
    pub async fn exists(&self, url: &S3Url) -> Result<bool, S3Error> {
        match self
            .client
            .head_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match failed(url, "HeadObject", e) {
                S3Error::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// The object's entity tag (a multipart upload's ends in `-PARTS`).
    pub async fn etag(&self, url: &S3Url) -> Result<Option<String>, S3Error> {
        let head = self
            .client
            .head_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
            .map_err(|e| failed(url, "HeadObject", e))?;
        Ok(head.e_tag().map(|t| t.trim_matches('"').to_owned()))
    }

    /// Deletes an object (deleting a missing one is not an error).
    pub async fn delete(&self, url: &S3Url) -> Result<(), S3Error> {
        self.client
            .delete_object()
            .bucket(&url.bucket)
            .key(&url.key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(url, "DeleteObject", e))
    }
}

/// [`Store`] for synchronous callers, on a runtime of its own. Not for use inside an async
/// runtime (its calls block).
#[derive(Debug)]
pub struct BlockingStore {
    runtime: tokio::runtime::Runtime,
    store: Store,
}

impl BlockingStore {
    /// A client from the standard AWS configuration chain and `options`; `what` names the URL
    /// the caller wants (for errors).
    pub fn connect(options: &S3Options, what: &str) -> Result<BlockingStore, S3Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| S3Error::Request {
                url: what.to_owned(),
                operation: "connect",
                message: format!("cannot start the async runtime: {e}"),
            })?;
        let store = runtime.block_on(Store::connect(options, what))?;
        Ok(BlockingStore { runtime, store })
    }

    /// The async client.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Sets the part size of multipart uploads (at least 5 MiB).
    pub fn with_part_size(mut self, bytes: usize) -> BlockingStore {
        self.store = self.store.with_part_size(bytes);
        self
    }

    /// Runs any of the async client's calls to completion.
    pub fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    /// See [`Store::download`].
    pub fn download(&self, url: &S3Url, path: &Path) -> Result<u64, S3Error> {
        self.runtime.block_on(self.store.download(url, path))
    }

    /// See [`Store::upload`].
    pub fn upload(&self, path: &Path, url: &S3Url) -> Result<u64, S3Error> {
        self.runtime.block_on(self.store.upload(path, url))
    }

    /// See [`Store::list`].
    pub fn list(&self, prefix: &S3Url) -> Result<Vec<S3Url>, S3Error> {
        self.runtime.block_on(self.store.list(prefix))
    }
}
