//! The client's types in a build without the `aws` feature: they cannot be made, so every
//! method is unreachable and [`Store::connect`] explains how to get S3 support.

use std::convert::Infallible;
use std::path::Path;

use crate::{S3Error, S3Options, S3Url};

/// The S3 client (this build has none: [`Store::connect`] fails).
#[derive(Debug, Clone)]
pub struct Store {
    never: Infallible,
}

impl Store {
    /// Fails: this build has no S3 client. `what` names the URL the caller wanted.
    pub async fn connect(_options: &S3Options, what: &str) -> Result<Store, S3Error> {
        Err(S3Error::Disabled(what.to_owned()))
    }

    /// Unreachable.
    pub async fn download(&self, _url: &S3Url, _path: &Path) -> Result<u64, S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub async fn upload(&self, _path: &Path, _url: &S3Url) -> Result<u64, S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub async fn put_bytes(&self, _bytes: Vec<u8>, _url: &S3Url) -> Result<(), S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub async fn list(&self, _prefix: &S3Url) -> Result<Vec<S3Url>, S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub async fn exists(&self, _url: &S3Url) -> Result<bool, S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub async fn delete(&self, _url: &S3Url) -> Result<(), S3Error> {
        match self.never {}
    }
}

/// The blocking client (this build has none: [`BlockingStore::connect`] fails).
#[derive(Debug)]
pub struct BlockingStore {
    never: Infallible,
}

impl BlockingStore {
    /// Fails: this build has no S3 client. `what` names the URL the caller wanted.
    pub fn connect(_options: &S3Options, what: &str) -> Result<BlockingStore, S3Error> {
        Err(S3Error::Disabled(what.to_owned()))
    }

    /// Unreachable.
    pub fn download(&self, _url: &S3Url, _path: &Path) -> Result<u64, S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub fn upload(&self, _path: &Path, _url: &S3Url) -> Result<u64, S3Error> {
        match self.never {}
    }

    /// Unreachable.
    pub fn list(&self, _prefix: &S3Url) -> Result<Vec<S3Url>, S3Error> {
        match self.never {}
    }
}
