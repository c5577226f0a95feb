//! The CUDA backend in a build without the `cuda` feature: the same API as `cuda.rs`, and
//! [`CudaBackend::new`] says the backend is not built in.

use super::{Backend, BackendError, LoadedProgram};
use crate::sim::program::{Columns, Program};

/// The CUDA backend (not in this build: [`CudaBackend::new`] always fails).
#[derive(Debug)]
pub struct CudaBackend {
    never: Never,
}

/// A program loaded onto the GPU (never made in this build).
#[derive(Debug)]
pub struct CudaProgram {
    never: Never,
}

#[derive(Debug)]
enum Never {}

impl CudaBackend {
    /// Opens the GPU: in this build, [`BackendError::NotBuilt`].
    pub fn new() -> Result<CudaBackend, BackendError> {
        Err(BackendError::NotBuilt {
            backend: "cuda",
            feature: "cuda",
        })
    }
}

impl Backend for CudaBackend {
    type Loaded = CudaProgram;

    fn name(&self) -> &'static str {
        "cuda"
    }

    fn load(&self, _program: &Program) -> Result<CudaProgram, BackendError> {
        match self.never {}
    }
}

impl LoadedProgram for CudaProgram {
    fn slots(&self) -> u32 {
        match self.never {}
    }

    fn run_block(&self, _cols: &mut Columns) -> Result<(), BackendError> {
        match self.never {}
    }
}
