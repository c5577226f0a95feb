//! Integration tests of the `mcsim` binary: each runs it in a temporary directory and checks
//! the exit status, stdout and stderr.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod errors;
mod generate;
mod parse;
mod pipes;
mod plain_excel;
mod results;
mod run;
mod s3;
mod save_as;
mod scheduler_examples;
mod server;
mod shards;
mod vose;
