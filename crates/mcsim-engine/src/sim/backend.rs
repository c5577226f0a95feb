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

use super::program::{Columns, Program, ProgramError};

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

/// The CPU executor ([`Program::run`]), the reference backend.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuBackend;

/// A program checked for the CPU executor.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuProgram {
    program: Program,
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
        program.validate()?;
        Ok(CpuProgram {
            program: program.clone(),
        })
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
