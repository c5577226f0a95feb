//! The host shim: a generated kernel compiled by the host C++ compiler (`g++`, or `$CXX`) with
//! `kernels/host_shim.h` (which maps `__global__`/`__device__` and the thread index to a loop)
//! and run on the CPU. It tests the generator's semantics on every commit without a GPU; it links
//! glibc's `exp`/`log`/`pow`, as the CPU executor does, so results are bit-identical with it.

use super::{DEVICE_HELPERS, KERNEL_NAME, KernelSource};
use crate::sim::backend::{BackendError, KernelRunner};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The shim header (prepended to the kernel source for the host compiler).
pub const HOST_SHIM: &str = include_str!("../../../../../kernels/host_shim.h");
/// The driver: reads input columns from a file, runs the grid as a loop, writes the outputs.
pub const HOST_MAIN: &str = include_str!("../../../../../kernels/host_main.cpp");

/// Flags for the host compiler: no contraction into fused multiply-add, no fast math.
pub const CXX_FLAGS: &[&str] = &[
    "-x",
    "c++",
    "-std=c++14",
    // No optimisation: the generated function of a large model (86,000 instructions for
    // grid_20k) takes g++ minutes at -O1; the arithmetic is the same (SSE2, no contraction).
    "-O0",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-w",
];

/// The host C++ compiler: `$CXX`, else `g++`.
pub fn compiler() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "g++".into())
}

/// Is the host C++ compiler present (it answers `--version`)?
pub fn compiler_available() -> bool {
    Command::new(compiler())
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A kernel compiled for the host: an executable in a temporary directory (removed on drop).
#[derive(Debug)]
pub struct HostKernel {
    dir: PathBuf,
    exe: PathBuf,
    n_inputs: usize,
    n_outputs: usize,
}

impl Drop for HostKernel {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static SEQ: AtomicU64 = AtomicU64::new(0);

impl HostKernel {
    /// Compiles `k` with the host compiler and the shim.
    pub fn compile(k: &KernelSource) -> Result<HostKernel, String> {
        let dir = std::env::temp_dir().join(format!(
            "mcsim-host-shim-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let src = dir.join("kernel.cpp");
        let exe = dir.join("kernel");
        let text = format!(
            "{HOST_SHIM}\n#define MC_N_IN {}\n#define MC_N_OUT {}\n#define MC_KERNEL {KERNEL_NAME}\n{}\n{HOST_MAIN}",
            k.n_inputs, k.n_outputs, k.source
        );
        debug_assert!(k.source.starts_with(DEVICE_HELPERS));
        std::fs::write(&src, text).map_err(|e| format!("{}: {e}", src.display()))?;
        let out = Command::new(compiler())
            .args(CXX_FLAGS)
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .output()
            .map_err(|e| format!("{}: {e}", compiler()))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let head: String = err.lines().take(30).collect::<Vec<_>>().join("\n");
            return Err(format!(
                "{} failed on {}:\n{head}",
                compiler(),
                src.display()
            ));
        }
        Ok(HostKernel {
            dir,
            exe,
            n_inputs: k.n_inputs,
            n_outputs: k.n_outputs,
        })
    }

    /// Runs the kernel over `lanes` lanes of `inputs` (one column per kernel input, each at least
    /// `lanes` long); returns its output columns.
    pub fn run(&self, inputs: &[Vec<f64>], lanes: usize) -> Result<Vec<Vec<f64>>, String> {
        self.run_from(inputs, lanes, 0)
    }

    /// [`HostKernel::run`] with the kernel's `first` argument: a kernel that samples its inputs
    /// ([`super::generate_sampled`], no input columns) evaluates iterations
    /// `first .. first + lanes`.
    pub fn run_from(
        &self,
        inputs: &[Vec<f64>],
        lanes: usize,
        first: u64,
    ) -> Result<Vec<Vec<f64>>, String> {
        self.run_inner(inputs, lanes, first, 0).map(|r| r.0)
    }

    /// [`HostKernel::run_from`], then the reduction kernel ([`super::REDUCE_KERNEL_NAME`]) over
    /// the output columns in blocks of `block` iterations: the outputs and the records
    /// ([`super::BlockRecord`], column by column, block by block).
    pub fn run_reduced(
        &self,
        inputs: &[Vec<f64>],
        lanes: usize,
        first: u64,
        block: u64,
    ) -> Result<(Vec<Vec<f64>>, Vec<super::BlockRecord>), String> {
        if block == 0 {
            return Err("the reduction block must not be empty".into());
        }
        let (outs, rec) = self.run_inner(inputs, lanes, first, block)?;
        let recs = rec
            .chunks_exact(super::RECORD_LEN)
            .map(super::BlockRecord::from_slice)
            .collect();
        Ok((outs, recs))
    }

    /// Runs the kernel over iterations `first .. first + lanes`, then the reductions of `job`
    /// over its outputs; only the reductions come back (see [`super::job`]).
    pub fn run_job(
        &self,
        inputs: &[Vec<f64>],
        lanes: usize,
        first: u64,
        job: &super::job::ReduceJob,
    ) -> Result<super::job::Reduced, String> {
        let bytes = self.input_bytes(inputs, lanes)?;
        let jb: Vec<u8> = job
            .to_words(self.n_outputs)
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let call = SEQ.fetch_add(1, Ordering::Relaxed);
        let (fin, fout, fjob) = (
            self.dir.join(format!("in-{call}.bin")),
            self.dir.join(format!("out-{call}.bin")),
            self.dir.join(format!("job-{call}.bin")),
        );
        let result = (|| {
            std::fs::write(&fin, &bytes).map_err(|e| format!("{}: {e}", fin.display()))?;
            std::fs::write(&fjob, &jb).map_err(|e| format!("{}: {e}", fjob.display()))?;
            let out = Command::new(&self.exe)
                .arg(&fin)
                .arg(&fout)
                .arg(first.to_string())
                .arg("job")
                .arg(&fjob)
                .output()
                .map_err(|e| format!("{}: {e}", self.exe.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "the host kernel failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let b = std::fs::read(&fout).map_err(|e| format!("{}: {e}", fout.display()))?;
            let words: Vec<u64> = b
                .chunks_exact(8)
                .map(|c| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    u64::from_le_bytes(a)
                })
                .collect();
            super::job::parse_words(job, self.n_outputs, &words)
        })();
        for f in [&fin, &fout, &fjob] {
            let _ = std::fs::remove_file(f);
        }
        result
    }

    /// The input file the host driver reads: `lanes`, the number of columns, then each
    /// column's first `lanes` values (little-endian `f64`).
    fn input_bytes(&self, inputs: &[Vec<f64>], lanes: usize) -> Result<Vec<u8>, String> {
        if inputs.len() != self.n_inputs || inputs.iter().any(|c| c.len() < lanes) {
            return Err(format!(
                "{} input columns of at least {lanes} lanes needed",
                self.n_inputs
            ));
        }
        let mut bytes = Vec::with_capacity(16 + 8 * lanes * inputs.len());
        bytes.extend_from_slice(&(lanes as u64).to_le_bytes());
        bytes.extend_from_slice(&(inputs.len() as u64).to_le_bytes());
        for c in inputs {
            for v in &c[..lanes] {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        Ok(bytes)
    }

    fn run_inner(
        &self,
        inputs: &[Vec<f64>],
        lanes: usize,
        first: u64,
        block: u64,
    ) -> Result<(Vec<Vec<f64>>, Vec<f64>), String> {
        let bytes = self.input_bytes(inputs, lanes)?;
        // Each call its own files: a runner pretending several devices runs them concurrently.
        let call = SEQ.fetch_add(1, Ordering::Relaxed);
        let (fin, fout) = (
            self.dir.join(format!("in-{call}.bin")),
            self.dir.join(format!("out-{call}.bin")),
        );
        let result = self.run_files(&bytes, &fin, &fout, lanes, first, block);
        let _ = std::fs::remove_file(&fin);
        let _ = std::fs::remove_file(&fout);
        result
    }

    fn run_files(
        &self,
        bytes: &[u8],
        fin: &std::path::Path,
        fout: &std::path::Path,
        lanes: usize,
        first: u64,
        block: u64,
    ) -> Result<(Vec<Vec<f64>>, Vec<f64>), String> {
        std::fs::write(fin, bytes).map_err(|e| format!("{}: {e}", fin.display()))?;
        let out = Command::new(&self.exe)
            .arg(fin)
            .arg(fout)
            .arg(first.to_string())
            .args((block > 0).then(|| block.to_string()))
            .output()
            .map_err(|e| format!("{}: {e}", self.exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "the host kernel failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let b = std::fs::read(fout).map_err(|e| format!("{}: {e}", fout.display()))?;
        let want = 16 + 8 * lanes * self.n_outputs;
        let n_rec = if block > 0 {
            lanes.div_ceil(block as usize) * self.n_outputs * super::RECORD_LEN
        } else {
            0
        };
        let total = want + if block > 0 { 8 + 8 * n_rec } else { 0 };
        if b.len() != total {
            return Err(format!("{} bytes of output, {total} expected", b.len()));
        }
        let doubles = |bytes: &[u8]| -> Vec<f64> {
            bytes
                .chunks_exact(8)
                .map(|c| {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    f64::from_le_bytes(a)
                })
                .collect()
        };
        let vals = doubles(&b[16..want]);
        let rec = if block > 0 {
            doubles(&b[want + 8..])
        } else {
            Vec::new()
        };
        Ok((vals.chunks(lanes.max(1)).map(|c| c.to_vec()).collect(), rec))
    }
}

/// The host shim as a [`KernelRunner`]: `mcsim run`'s GPU path with the generated kernel
/// compiled by the host C++ compiler instead of NVRTC, pretending to be `devices` devices (each
/// slice of [`crate::sim::backend::run_split`] runs in its own process). For tests only:
/// `mcsim run` uses it when `MCSIM_TEST_HOST_KERNEL=1`, so the GPU run's wiring (device
/// sampling, chunks, the device split, the statistics) is tested on every commit without a GPU.
#[derive(Debug)]
pub struct HostRunner {
    kernel: HostKernel,
    devices: usize,
}

impl HostRunner {
    /// Compiles `k` (a sampling kernel: no input columns) for the host.
    pub fn compile(k: &KernelSource, devices: usize) -> Result<HostRunner, BackendError> {
        if k.n_inputs != 0 {
            return Err(BackendError::Launch {
                reason: "the kernel reads input columns; a run needs a sampling kernel".into(),
            });
        }
        if !compiler_available() {
            return Err(BackendError::Unavailable {
                reason: format!("no host C++ compiler ({}) for the host shim", compiler()),
            });
        }
        let kernel = HostKernel::compile(k).map_err(|reason| BackendError::Launch { reason })?;
        Ok(HostRunner {
            kernel,
            devices: devices.max(1),
        })
    }
}

impl KernelRunner for HostRunner {
    fn name(&self) -> &'static str {
        "cuda (host shim)"
    }

    fn devices(&self) -> usize {
        self.devices
    }

    fn columns(&self) -> usize {
        self.kernel.n_outputs
    }

    fn run(&self, device: usize, lanes: usize, first: u64) -> Result<Vec<Vec<f64>>, BackendError> {
        if device >= self.devices {
            return Err(BackendError::Launch {
                reason: format!("device {device} of {}", self.devices),
            });
        }
        if lanes == 0 {
            return Ok(vec![Vec::new(); self.kernel.n_outputs]);
        }
        self.kernel
            .run_from(&[], lanes, first)
            .map_err(|reason| BackendError::Launch { reason })
    }

    fn run_reduced(
        &self,
        device: usize,
        lanes: usize,
        first: u64,
        job: &super::job::ReduceJob,
    ) -> Result<super::job::Reduced, BackendError> {
        if device >= self.devices {
            return Err(BackendError::Launch {
                reason: format!("device {device} of {}", self.devices),
            });
        }
        self.kernel
            .run_job(&[], lanes, first, job)
            .map_err(|reason| BackendError::Launch { reason })
    }
}
