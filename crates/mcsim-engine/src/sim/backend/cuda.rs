//! The CUDA backend (feature `cuda`): its place and API. Not written yet: [`CudaBackend::new`]
//! returns [`BackendError::NotImplemented`]; `cuda_disabled.rs` is the same API without the feature.

use super::{Backend, BackendError, LoadedProgram};
use crate::sim::program::{Columns, Program};

/// The CUDA backend (not written yet: [`CudaBackend::new`] always fails).
#[derive(Debug)]
pub struct CudaBackend {
    never: Never,
}

/// A program loaded onto the GPU (never made yet).
#[derive(Debug)]
pub struct CudaProgram {
    never: Never,
}

#[derive(Debug)]
enum Never {}

impl CudaBackend {
    /// Opens the GPU: for now, [`BackendError::NotImplemented`].
    pub fn new() -> Result<CudaBackend, BackendError> {
        Err(BackendError::NotImplemented { backend: "cuda" })
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
