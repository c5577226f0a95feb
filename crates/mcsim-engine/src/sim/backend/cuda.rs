//! The CUDA backend (feature `cuda`), through cudarc loading libcuda and libnvrtc at run time
//! (no CUDA toolkit is needed to build, and the binary runs without one).
//!
//! Written so far: the probe ([`probe`]: driver, devices, NVRTC), NVRTC compilation of a
//! generated kernel ([`compile_ptx`], see [`crate::sim::cuda_gen`]). Not written yet: loading the
//! PTX and launching it ([`CudaBackend::new`] says why no GPU can be used, or that launching is
//! not implemented when one could).
// cudarc's presence checks (`is_culib_present`) and the version queries are `unsafe` FFI calls
// with no preconditions beyond the library being loadable, which is what they check.
#![allow(unsafe_code)]

use super::{Backend, BackendError, LoadedProgram};
use crate::sim::cuda_gen::{KernelSource, NVRTC_OPTIONS};
use crate::sim::program::{Columns, Program};

/// The CUDA backend (launching is not written yet: [`CudaBackend::new`] always fails).
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

/// What this machine offers the CUDA backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// libcuda (the driver) was found.
    pub driver: bool,
    /// The driver's CUDA version (e.g. 12080 for 12.8), when it answered.
    pub driver_version: Option<i32>,
    /// GPUs the driver reports (`None` when the driver is absent or failed to initialise).
    pub devices: Option<i32>,
    /// Why the driver failed to initialise, if it did.
    pub driver_error: Option<String>,
    /// libnvrtc's version (major, minor), when libnvrtc was found.
    pub nvrtc: Option<(i32, i32)>,
}

/// Is libnvrtc loadable?
pub fn nvrtc_present() -> bool {
    // SAFETY: only tries to load the library.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// Is libcuda (the driver) loadable?
pub fn driver_present() -> bool {
    // SAFETY: only tries to load the library.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Probes the driver, the devices and NVRTC without creating a context.
pub fn probe() -> Probe {
    let mut p = Probe {
        driver: driver_present(),
        ..Probe::default()
    };
    if p.driver {
        match cudarc::driver::result::init() {
            Ok(()) => {
                p.devices = cudarc::driver::result::device::get_count().ok();
                let mut v = 0;
                // SAFETY: the driver is loaded and initialised; `v` is a valid out-pointer.
                let r = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) };
                if r == cudarc::driver::sys::CUresult::CUDA_SUCCESS {
                    p.driver_version = Some(v);
                }
            }
            Err(e) => p.driver_error = Some(format!("{e:?}")),
        }
    }
    if nvrtc_present() {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: libnvrtc is loadable; both are valid out-pointers.
        let r = unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) };
        if r == cudarc::nvrtc::sys::nvrtcResult::NVRTC_SUCCESS {
            p.nvrtc = Some((major, minor));
        }
    }
    p
}

/// Compiles a generated kernel to PTX with NVRTC ([`NVRTC_OPTIONS`]: no fused multiply-add).
pub fn compile_ptx(k: &KernelSource) -> Result<String, BackendError> {
    if !nvrtc_present() {
        return Err(BackendError::Unavailable {
            reason: "NVRTC (libnvrtc.so) was not found".into(),
        });
    }
    let opts = cudarc::nvrtc::CompileOptions {
        fmad: Some(false),
        options: NVRTC_OPTIONS
            .iter()
            .filter(|o| !o.starts_with("--fmad"))
            .map(|o| o.to_string())
            .collect(),
        ..Default::default()
    };
    cudarc::nvrtc::compile_ptx_with_opts(&k.source, opts)
        .map(|p| p.to_src())
        .map_err(|e| BackendError::Unavailable {
            reason: format!("NVRTC failed on the generated kernel: {e}"),
        })
}

impl CudaBackend {
    /// Opens the GPU: an error saying why none can be used (no driver, no device, no NVRTC), or
    /// [`BackendError::NotImplemented`] where one could (launching is not written yet).
    pub fn new() -> Result<CudaBackend, BackendError> {
        let p = probe();
        let reason = if !p.driver {
            Some("no CUDA driver (libcuda.so) was found".to_string())
        } else if let Some(e) = p.driver_error {
            Some(format!("the CUDA driver failed to initialise: {e}"))
        } else if p.devices.unwrap_or(0) == 0 {
            Some("the CUDA driver reports no GPU".to_string())
        } else if p.nvrtc.is_none() {
            Some("NVRTC (libnvrtc.so) was not found".to_string())
        } else {
            None
        };
        match reason {
            Some(reason) => Err(BackendError::Unavailable { reason }),
            None => Err(BackendError::NotImplemented { backend: "cuda" }),
        }
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
