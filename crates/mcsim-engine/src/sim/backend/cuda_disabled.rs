//! The CUDA backend in a build without the `cuda` feature: the same API as `cuda.rs`, and
//! [`CudaBackend::new`] says the backend is not built in.

use super::{Backend, BackendError, KernelRunner, LoadedProgram};
use crate::sim::cuda_gen::KernelSource;
use crate::sim::program::{Columns, Program};

/// Why no GPU can be used: this build has no CUDA backend.
pub fn unusable_reason() -> Option<String> {
    Some(
        BackendError::NotBuilt {
            backend: "cuda",
            feature: "cuda",
        }
        .to_string(),
    )
}

/// GPUs the driver reports: none in this build.
pub fn device_count() -> usize {
    0
}

/// The GPUs a run uses (never made in this build: [`CudaRunner::load`] always fails).
#[derive(Debug)]
pub struct CudaRunner {
    never: Never,
}

impl CudaRunner {
    /// In this build, [`BackendError::NotBuilt`].
    pub fn load(_k: &KernelSource, _ordinals: &[usize]) -> Result<CudaRunner, BackendError> {
        Err(BackendError::NotBuilt {
            backend: "cuda",
            feature: "cuda",
        })
    }
}

impl KernelRunner for CudaRunner {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn devices(&self) -> usize {
        match self.never {}
    }

    fn columns(&self) -> usize {
        match self.never {}
    }

    fn run(&self, _d: usize, _l: usize, _f: u64) -> Result<Vec<Vec<f64>>, BackendError> {
        match self.never {}
    }
}

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
