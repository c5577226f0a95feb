//! `mcsim doctor`: what this machine offers mcsim (CPU, GPUs, CUDA driver, NVRTC).

use std::io::{self, Write};

use anyhow::Result;

use super::{ExitStatus, Printer};

/// Prints one line per finding to stdout.
pub fn doctor(_printer: Printer) -> Result<ExitStatus> {
    let mut out = io::stdout().lock();
    writeln!(out, "mcsim {}", env!("CARGO_PKG_VERSION"))?;
    for (topic, finding) in mcsim_ops::run::doctor() {
        writeln!(out, "  {topic:<13}{finding}")?;
    }
    Ok(ExitStatus::Success)
}
