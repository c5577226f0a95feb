//! Backends: what runs a compiled [`Program`] over blocks of lanes.
//!
//! The program is data (see [`super::program`] for the contract a backend implements), so the
//! same program runs on any backend. [`CpuBackend`] is the reference implementation: the executor
//! in [`super::program`], one tight loop per instruction. The CUDA backend ([`cuda`]) is behind
//! the cargo feature `cuda` (off by default); without it, and until it is written, its
//! constructor returns a typed error instead of failing to compile.
//!
//! A backend is used in two steps: [`Backend::load`] checks and prepares a program once per
//! simulation (a GPU backend generates and compiles its kernels there), then
//! [`LoadedProgram::run_block`] runs it over each block of iterations.

use super::cuda_gen::job::{ReduceJob, Reduced};
use super::program::{Columns, Program, ProgramError};
use std::sync::Arc;

#[cfg(feature = "cuda")]
pub mod cuda;
#[cfg(not(feature = "cuda"))]
#[path = "backend/cuda_disabled.rs"]
pub mod cuda;

/// Why a backend cannot load or run a program.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The program breaks a rule the executor relies on ([`Program::validate`]).
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// The block's storage has fewer columns than the program's slots.
    #[error("a block of {got} columns for a program of {needed} slots")]
    Columns {
        /// The program's slots.
        needed: u32,
        /// The block's columns.
        got: usize,
    },
    /// This build of mcsim does not include the backend.
    #[error("mcsim was built without the {backend} backend (rebuild with `--features {feature}`)")]
    NotBuilt {
        /// The backend ("cuda").
        backend: &'static str,
        /// The cargo feature that includes it.
        feature: &'static str,
    },
    /// The backend cannot run here (no driver, no device, no NVRTC).
    #[error("the GPU cannot be used: {reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
    /// A kernel failed while running (a driver error, the host shim's process failing).
    #[error("running the kernel failed: {reason}")]
    Launch {
        /// What failed.
        reason: String,
    },
    /// The backend is not written yet.
    #[error("the {backend} backend is not implemented yet")]
    NotImplemented {
        /// The backend ("cuda").
        backend: &'static str,
    },
}

/// Something that runs programs: the CPU executor, a GPU.
pub trait Backend {
    /// A program loaded onto this backend, ready to run blocks.
    type Loaded: LoadedProgram;

    /// The backend's name (`"cpu"`, `"cuda"`).
    fn name(&self) -> &'static str;

    /// Checks `program` ([`Program::validate`]) and prepares it to run: once per simulation.
    fn load(&self, program: &Program) -> Result<Self::Loaded, BackendError>;
}

/// A program loaded onto a backend.
///
/// Blocks are independent: `run_block` may be called from several threads at once, each with its
/// own [`Columns`], and a block's results must not depend on the blocks run before it.
pub trait LoadedProgram: Send + Sync {
    /// Columns a block needs ([`Program::slots`]): make its storage with
    /// `Columns::new(loaded.slots(), lanes)`.
    fn slots(&self) -> u32;

    /// Runs the program over one block whose input columns are filled; afterwards every slot the
    /// program writes holds its value for each lane (NaN in an error lane).
    fn run_block(&self, cols: &mut Columns) -> Result<(), BackendError>;
}

/// Runs a generated sampling kernel ([`crate::sim::cuda_gen::generate_sampled`]) on one or more
/// devices: the CUDA GPUs of `--devices` ([`cuda::CudaRunner`]) or, in tests, the same kernel
/// source compiled for the host ([`crate::sim::cuda_gen::host::HostRunner`]). `mcsim run` drives
/// both through this trait and [`run_split`], so the host shim exercises the GPU run's wiring on
/// every commit.
pub trait KernelRunner: Send + Sync {
    /// The backend's name as the report gives it (`"cuda"`; `"cuda (host shim)"` in tests).
    fn name(&self) -> &'static str;

    /// Devices it runs on (at least 1).
    fn devices(&self) -> usize;

    /// Columns the kernel writes ([`crate::sim::cuda_gen::KernelSource::n_outputs`]).
    fn columns(&self) -> usize;

    /// Runs iterations `first .. first + lanes` on device `device` (an index into its devices,
    /// not a CUDA ordinal): [`KernelRunner::columns`] columns of `lanes` values.
    fn run(&self, device: usize, lanes: usize, first: u64) -> Result<Vec<Vec<f64>>, BackendError>;

    /// Runs iterations `first .. first + lanes` on device `device` and reduces the outputs there
    /// as `job` asks (accumulator records, histograms, a quantile plan's selection); only the
    /// reductions come back. Runners without device reductions say so with
    /// [`BackendError::NotImplemented`] (the caller then copies the columns back).
    fn run_reduced(
        &self,
        device: usize,
        lanes: usize,
        first: u64,
        job: &ReduceJob,
    ) -> Result<Reduced, BackendError> {
        let _ = (device, lanes, first, job);
        Err(BackendError::NotImplemented {
            backend: self.name(),
        })
    }
}

/// [`KernelRunner::run_reduced`] over iterations `first .. first + lanes` on every device of
/// `runner`: each device takes a contiguous run of whole accumulator blocks (or, for a job
/// without blocks, an equal slice), concurrently; the parts merge into what one device would
/// give (records in block order, counts and exact sums added).
pub fn run_split_reduced(
    runner: &dyn KernelRunner,
    first: u64,
    lanes: usize,
    job: &ReduceJob,
) -> Result<Reduced, BackendError> {
    let devices = runner.devices().max(1);
    if devices == 1 || lanes == 0 {
        return runner.run_reduced(0, lanes, first, job);
    }
    // Cut points (lane offsets): block boundaries nearest to equal parts.
    let mut cuts = vec![0u64];
    for d in 1..devices {
        let want = (lanes as u64 * d as u64) / devices as u64;
        let at = if job.segments.is_empty() {
            want.div_ceil(KERNEL_BLOCK as u64) * KERNEL_BLOCK as u64
        } else {
            job.segments
                .iter()
                .copied()
                .find(|&s| s >= want)
                .unwrap_or(lanes as u64)
        };
        cuts.push(at.min(lanes as u64).max(*cuts.last().unwrap_or(&0)));
    }
    cuts.push(lanes as u64);
    cuts.dedup();
    let subjobs: Vec<(u64, usize, ReduceJob, usize)> = cuts
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let segments: Vec<u64> = job
                .segments
                .iter()
                .filter(|&&s| s >= a && s <= b)
                .map(|&s| s - a)
                .collect();
            let hist_parts: Vec<u64> = job.hist_parts.iter().map(|&s| s.clamp(a, b) - a).collect();
            let blocks = segments.len().saturating_sub(1);
            (
                first + a,
                (b - a) as usize,
                ReduceJob {
                    segments,
                    hist_parts,
                    select: job.select.clone(),
                },
                blocks,
            )
        })
        .collect();
    let parts: Vec<Result<Reduced, BackendError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = subjobs
            .iter()
            .enumerate()
            .map(|(d, (f, n, j, _))| scope.spawn(move || runner.run_reduced(d, *n, *f, j)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(BackendError::Launch {
                        reason: "a device thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut out: Option<(Reduced, usize)> = None;
    for (part, (_, _, _, blocks)) in parts.into_iter().zip(&subjobs) {
        let part = part?;
        out = Some(match out {
            None => (part, *blocks),
            Some((mut acc, acc_blocks)) => {
                acc.merge(part, acc_blocks, *blocks);
                (acc, acc_blocks + blocks)
            }
        });
    }
    Ok(out.map(|o| o.0).unwrap_or_default())
}

/// Threads per block of the generated kernels; device slices are cut on multiples of it.
pub const KERNEL_BLOCK: usize = 256;

/// The contiguous slices `(first, lanes)` of iterations `first .. first + lanes` that `devices`
/// devices run, in order: equal parts rounded up to [`KERNEL_BLOCK`] lanes, empty ones left out.
/// Every iteration's numbers depend only on the seed and its index (counter-based streams), so
/// the joined slices do not depend on the number of devices.
pub fn split_range(first: u64, lanes: usize, devices: usize) -> Vec<(u64, usize)> {
    let per = lanes.div_ceil(devices.max(1)).div_ceil(KERNEL_BLOCK).max(1) * KERNEL_BLOCK;
    let mut out = Vec::new();
    let mut at = 0;
    while at < lanes {
        let n = per.min(lanes - at);
        out.push((first + at as u64, n));
        at += n;
    }
    out
}

/// Runs iterations `first .. first + lanes` on every device of `runner`, each its slice of
/// [`split_range`] (one host thread per device, concurrently), and joins the slices in order:
/// [`KernelRunner::columns`] columns of `lanes` values.
pub fn run_split(
    runner: &dyn KernelRunner,
    first: u64,
    lanes: usize,
) -> Result<Vec<Vec<f64>>, BackendError> {
    let slices = split_range(first, lanes, runner.devices());
    let parts: Vec<Result<Vec<Vec<f64>>, BackendError>> = if slices.len() <= 1 {
        slices.iter().map(|&(f, n)| runner.run(0, n, f)).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = slices
                .iter()
                .enumerate()
                .map(|(d, &(f, n))| scope.spawn(move || runner.run(d, n, f)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(BackendError::Launch {
                            reason: "a device thread panicked".into(),
                        })
                    })
                })
                .collect()
        })
    };
    let mut cols: Vec<Vec<f64>> = (0..runner.columns())
        .map(|_| Vec::with_capacity(lanes))
        .collect();
    for (part, &(_, n)) in parts.into_iter().zip(&slices) {
        let part = part?;
        if part.len() != cols.len() || part.iter().any(|c| c.len() != n) {
            return Err(BackendError::Launch {
                reason: format!(
                    "a device returned {} columns for {} of {n} lanes",
                    part.len(),
                    cols.len()
                ),
            });
        }
        for (c, p) in cols.iter_mut().zip(part) {
            c.extend_from_slice(&p);
        }
    }
    Ok(cols)
}

/// The CPU executor ([`Program::run`]), the reference backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

/// A program checked for the CPU executor.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuProgram {
    program: Arc<Program>,
}

impl CpuProgram {
    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }
}

impl Backend for CpuBackend {
    type Loaded = CpuProgram;

    fn name(&self) -> &'static str {
        "cpu"
    }

    fn load(&self, program: &Program) -> Result<CpuProgram, BackendError> {
        self.load_shared(Arc::new(program.clone()))
    }
}

impl CpuBackend {
    /// [`Backend::load`] of a program the caller keeps too, without copying it.
    pub fn load_shared(&self, program: Arc<Program>) -> Result<CpuProgram, BackendError> {
        program.validate()?;
        Ok(CpuProgram { program })
    }
}

impl LoadedProgram for CpuProgram {
    fn slots(&self) -> u32 {
        self.program.slots
    }

    fn run_block(&self, cols: &mut Columns) -> Result<(), BackendError> {
        if cols.slots() < self.program.slots as usize {
            return Err(BackendError::Columns {
                needed: self.program.slots,
                got: cols.slots(),
            });
        }
        self.program.run(cols);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sim::program::{Arith, Instr, Kernel1, Operand};

    /// `s2 = s0 + s1; s3 = sqrt(s2)` over 3 lanes.
    fn program() -> Program {
        Program {
            instrs: vec![
                Instr::Arith {
                    op: Arith::Add,
                    dst: 2,
                    a: Operand::Slot(0),
                    b: Operand::Slot(1),
                },
                Instr::Call1 {
                    f: Kernel1::Sqrt,
                    dst: 3,
                    a: Operand::Slot(2),
                },
            ],
            slots: 4,
        }
    }

    #[test]
    fn cpu_backend_runs_a_program() {
        let p = CpuBackend.load(&program()).unwrap();
        assert_eq!(CpuBackend.name(), "cpu");
        let mut cols = Columns::new(p.slots(), 3);
        cols.col_mut(0).copy_from_slice(&[1.0, 5.0, -9.0]);
        cols.col_mut(1).copy_from_slice(&[3.0, 4.0, 1.0]);
        p.run_block(&mut cols).unwrap();
        assert_eq!(&cols.col(3)[..2], &[2.0, 3.0]);
        assert!(cols.col(3)[2].is_nan(), "SQRT(-8) is an error lane");
    }

    #[test]
    fn cpu_backend_rejects_invalid_programs_and_small_blocks() {
        let mut p = program();
        p.slots = 3;
        assert_eq!(
            CpuBackend.load(&p).unwrap_err(),
            BackendError::Program(ProgramError::SlotOutOfRange {
                instr: 1,
                slot: 3,
                slots: 3
            })
        );
        let mut p = program();
        p.instrs[1] = Instr::Call1 {
            f: Kernel1::Sqrt,
            dst: 2,
            a: Operand::Slot(2),
        };
        assert_eq!(
            CpuBackend.load(&p).unwrap_err(),
            BackendError::Program(ProgramError::ReadsDestination { instr: 1, slot: 2 })
        );
        let loaded = CpuBackend.load(&program()).unwrap();
        let mut small = Columns::new(2, 3);
        assert_eq!(
            loaded.run_block(&mut small).unwrap_err(),
            BackendError::Columns { needed: 4, got: 2 }
        );
    }

    /// A runner whose "devices" write each iteration's index and the device that ran it.
    struct Fake(usize);
    impl KernelRunner for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }
        fn devices(&self) -> usize {
            self.0
        }
        fn columns(&self) -> usize {
            2
        }
        fn run(&self, d: usize, lanes: usize, first: u64) -> Result<Vec<Vec<f64>>, BackendError> {
            assert!(d < self.0);
            Ok(vec![
                (0..lanes).map(|i| (first + i as u64) as f64).collect(),
                vec![d as f64; lanes],
            ])
        }
    }

    #[test]
    fn split_range_covers_every_iteration_once_in_order() {
        for devices in 1..=5 {
            for (first, lanes) in [(0u64, 0usize), (7, 1), (100, 255), (3, 256), (9, 10_001)] {
                let s = split_range(first, lanes, devices);
                assert!(s.len() <= devices, "{devices} {lanes}: {s:?}");
                let mut at = first;
                for &(f, n) in &s {
                    assert_eq!(f, at);
                    assert!(n > 0);
                    at += n as u64;
                }
                assert_eq!(at, first + lanes as u64);
                // Every slice but the last is whole blocks of threads.
                for &(_, n) in s.iter().rev().skip(1) {
                    assert_eq!(n % KERNEL_BLOCK, 0);
                }
            }
        }
        assert_eq!(split_range(0, 1000, 2), vec![(0, 512), (512, 488)]);
    }

    #[test]
    fn run_split_joins_the_devices_slices_in_order() {
        for devices in 1..=3 {
            let cols = run_split(&Fake(devices), 1_000, 2_000).unwrap();
            assert_eq!(
                cols[0],
                (1_000..3_000).map(|i| i as f64).collect::<Vec<_>>()
            );
            let used: std::collections::BTreeSet<u64> = cols[1].iter().map(|&d| d as u64).collect();
            assert_eq!(used.len(), devices, "every device ran a slice");
        }
    }

    #[test]
    fn cuda_backend_is_a_typed_error_until_written() {
        let e = cuda::CudaBackend::new().err().unwrap();
        if cfg!(feature = "cuda") {
            // No GPU: a reason; a GPU: launching is not written yet.
            assert!(
                matches!(
                    e,
                    BackendError::Unavailable { .. } | BackendError::NotImplemented { .. }
                ),
                "{e:?}"
            );
        } else {
            assert_eq!(
                e,
                BackendError::NotBuilt {
                    backend: "cuda",
                    feature: "cuda"
                }
            );
            assert!(e.to_string().contains("--features cuda"), "{e}");
        }
    }
}
