//! The CUDA backend (feature `cuda`), through cudarc loading libcuda and libnvrtc at run time
//! (no CUDA toolkit is needed to build, and the binary runs without one).
//!
//! The probe ([`probe`]: driver, devices, NVRTC), NVRTC compilation of a generated kernel
//! ([`compile_ptx`], see [`crate::sim::cuda_gen`]), [`CudaKernel`] (the PTX loaded on a device,
//! launched over a slice of iterations, the outputs or the reduction records copied back) and
//! [`CudaRunner`], the [`KernelRunner`] `mcsim run --backend cuda|auto` uses on the GPUs of
//! `--devices`. **None of it has run on a device** (no GPU was lent to this work); it builds and
//! passes clippy without one, and the same run wiring is tested through the host shim
//! ([`crate::sim::cuda_gen::host::HostRunner`]). [`CudaBackend`] (the per-block [`Backend`] on
//! program columns) is not used by runs: [`CudaBackend::new`] always fails.
// cudarc's presence checks (`is_culib_present`) and the version queries are `unsafe` FFI calls
// with no preconditions beyond the library being loadable, which is what they check.
#![allow(unsafe_code)]

use super::{Backend, BackendError, KernelRunner, LoadedProgram};
use crate::sim::cuda_gen::job::{BUCKETS, LIMBS, ReduceJob, Reduced, SelectTables, parse_words};
use crate::sim::cuda_gen::{
    BlockRecord, HIST_KERNEL_NAME, KERNEL_NAME, KernelSource, NVRTC_OPTIONS, RECORD_LEN,
    REDUCE_KERNEL_NAME, REDUCE_SEGS_KERNEL_NAME, SELECT_KERNEL_NAME,
};
use crate::sim::program::{Columns, Program};
use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use std::sync::Arc;

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

/// Why no GPU can be used here (no driver, the driver failed, no device, no NVRTC), or `None`.
/// Probes without creating a context (`CudaContext::new` panics without libcuda, so this comes
/// first).
pub fn unusable_reason() -> Option<String> {
    let p = probe();
    if !p.driver {
        Some("no CUDA driver (libcuda.so) was found".to_string())
    } else if let Some(e) = p.driver_error {
        Some(format!("the CUDA driver failed to initialise: {e}"))
    } else if p.devices.unwrap_or(0) == 0 {
        Some("the CUDA driver reports no GPU".to_string())
    } else if p.nvrtc.is_none() {
        Some("NVRTC (libnvrtc.so) was not found".to_string())
    } else {
        None
    }
}

/// Threads per block of both kernels.
const THREADS: u32 = 256;

fn driver_err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> BackendError + '_ {
    move |e| BackendError::Unavailable {
        reason: format!("{what}: {e:?}"),
    }
}

/// `ceil(threads / 256)` blocks of 256, or an error past the grid's limit.
fn grid(threads: u64) -> Result<LaunchConfig, BackendError> {
    let blocks = u32::try_from(threads.div_ceil(u64::from(THREADS))).map_err(|_| {
        BackendError::Unavailable {
            reason: format!("{threads} threads exceed one launch's grid"),
        }
    })?;
    Ok(LaunchConfig {
        grid_dim: (blocks.max(1), 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    })
}

/// A generated kernel ([`crate::sim::cuda_gen`]) compiled by NVRTC and loaded on one GPU, with
/// its reduction kernel. **Not run on a device yet** (see `docs/gpu.md`).
#[derive(Debug)]
pub struct CudaKernel {
    stream: Arc<CudaStream>,
    block: CudaFunction,
    reduce: CudaFunction,
    reduce_segs: CudaFunction,
    hist: CudaFunction,
    select: CudaFunction,
    n_inputs: usize,
    n_outputs: usize,
}

impl CudaKernel {
    /// Compiles `k` with NVRTC and loads it on GPU `ordinal`; an error (never a panic) when no
    /// GPU can be used.
    pub fn load(k: &KernelSource, ordinal: usize) -> Result<CudaKernel, BackendError> {
        if let Some(reason) = unusable_reason() {
            return Err(BackendError::Unavailable { reason });
        }
        let ptx = compile_ptx(k)?;
        CudaKernel::from_ptx(ptx, k, ordinal)
    }

    /// Loads PTX that [`compile_ptx`] made of `k` on GPU `ordinal` (compile once, load on every
    /// device).
    pub fn from_ptx(
        ptx: String,
        k: &KernelSource,
        ordinal: usize,
    ) -> Result<CudaKernel, BackendError> {
        if let Some(reason) = unusable_reason() {
            return Err(BackendError::Unavailable { reason });
        }
        let ctx = cudarc::driver::CudaContext::new(ordinal)
            .map_err(driver_err("opening the GPU failed"))?;
        let module = ctx
            .load_module(cudarc::nvrtc::Ptx::from_src(ptx))
            .map_err(driver_err("loading the kernel failed"))?;
        let block = module
            .load_function(KERNEL_NAME)
            .map_err(driver_err("the kernel has no mcsim_block"))?;
        let reduce = module
            .load_function(REDUCE_KERNEL_NAME)
            .map_err(driver_err("the kernel has no mcsim_reduce"))?;
        let load = |name: &'static str| {
            module
                .load_function(name)
                .map_err(driver_err("the kernel lacks a reduction kernel"))
        };
        let (reduce_segs, hist, select) = (
            load(REDUCE_SEGS_KERNEL_NAME)?,
            load(HIST_KERNEL_NAME)?,
            load(SELECT_KERNEL_NAME)?,
        );
        Ok(CudaKernel {
            stream: ctx.default_stream(),
            block,
            reduce,
            reduce_segs,
            hist,
            select,
            n_inputs: k.n_inputs,
            n_outputs: k.n_outputs,
        })
    }

    /// Launches the kernel over `lanes` lanes (iterations `first ..` for a sampling kernel) on
    /// `inputs` (`n_inputs` columns of `lanes`, column-major; empty for a sampling kernel); the
    /// outputs stay on the device.
    fn launch(
        &self,
        inputs: &[f64],
        lanes: usize,
        first: u64,
    ) -> Result<CudaSlice<f64>, BackendError> {
        if inputs.len() != self.n_inputs * lanes {
            return Err(BackendError::Unavailable {
                reason: format!(
                    "{} input values given for {} columns of {lanes}",
                    inputs.len(),
                    self.n_inputs
                ),
            });
        }
        // One element at least: a zero-length allocation is not a valid pointer.
        let d_in = if inputs.is_empty() {
            self.stream.alloc_zeros::<f64>(1)
        } else {
            self.stream.clone_htod(inputs)
        }
        .map_err(driver_err("copying the inputs failed"))?;
        let d_out = self
            .stream
            .alloc_zeros::<f64>((self.n_outputs * lanes).max(1))
            .map_err(driver_err("allocating the outputs failed"))?;
        let lanes64 = lanes as u64;
        let cfg = grid(lanes64)?;
        let mut b = self.stream.launch_builder(&self.block);
        b.arg(&d_in).arg(&d_out).arg(&lanes64).arg(&first);
        // SAFETY: the arguments match mcsim_block's signature (const double*, double*, u64, u64);
        // `in` holds n_inputs·lanes values and `out` n_outputs·lanes, the kernel's bounds.
        unsafe { b.launch(cfg) }.map_err(driver_err("launching mcsim_block failed"))?;
        Ok(d_out)
    }

    /// Runs the kernel and copies its output columns back (`n_outputs` columns of `lanes`).
    /// Zero lanes give `n_outputs` empty columns without a launch.
    pub fn run(
        &self,
        inputs: &[f64],
        lanes: usize,
        first: u64,
    ) -> Result<Vec<Vec<f64>>, BackendError> {
        if lanes == 0 {
            return Ok(vec![Vec::new(); self.n_outputs]);
        }
        let d_out = self.launch(inputs, lanes, first)?;
        let out = self
            .stream
            .clone_dtoh(&d_out)
            .map_err(driver_err("copying the outputs back failed"))?;
        // A copy into pageable memory returns once done; synchronise anyway, so that the
        // values are complete whatever the host memory is.
        self.stream
            .synchronize()
            .map_err(driver_err("waiting for the GPU failed"))?;
        Ok(out
            .chunks(lanes.max(1))
            .take(self.n_outputs)
            .map(<[f64]>::to_vec)
            .collect())
    }

    /// Runs the kernel, then the reduction over blocks of `block` iterations, and copies back
    /// only the records ([`BlockRecord`], column by column, block by block): the outputs never
    /// leave the device.
    pub fn run_reduced(
        &self,
        inputs: &[f64],
        lanes: usize,
        first: u64,
        block: u64,
    ) -> Result<Vec<BlockRecord>, BackendError> {
        if block == 0 {
            return Err(BackendError::Unavailable {
                reason: "the reduction block must not be empty".into(),
            });
        }
        let d_out = self.launch(inputs, lanes, first)?;
        let lanes64 = lanes as u64;
        let cols = self.n_outputs as u64;
        let threads = lanes64.div_ceil(block) * cols;
        let d_rec = self
            .stream
            .alloc_zeros::<f64>((threads as usize * RECORD_LEN).max(1))
            .map_err(driver_err("allocating the records failed"))?;
        let cfg = grid(threads)?;
        let mut b = self.stream.launch_builder(&self.reduce);
        b.arg(&d_out)
            .arg(&d_rec)
            .arg(&lanes64)
            .arg(&cols)
            .arg(&block);
        // SAFETY: the arguments match mcsim_reduce's signature (const double*, double*, u64,
        // u64, u64); `out` holds cols·lanes values, `rec` RECORD_LEN per (column, block).
        unsafe { b.launch(cfg) }.map_err(driver_err("launching mcsim_reduce failed"))?;
        let rec = self
            .stream
            .clone_dtoh(&d_rec)
            .map_err(driver_err("copying the records back failed"))?;
        self.stream
            .synchronize()
            .map_err(driver_err("waiting for the GPU failed"))?;
        Ok(rec
            .chunks_exact(RECORD_LEN)
            .take(threads as usize)
            .map(BlockRecord::from_slice)
            .collect())
    }
}

impl CudaKernel {
    /// Copies `v` to the device (one zero element when empty: no zero-length allocations).
    fn upload(&self, v: &[u64]) -> Result<CudaSlice<u64>, BackendError> {
        if v.is_empty() {
            self.stream.alloc_zeros::<u64>(1)
        } else {
            self.stream.clone_htod(v)
        }
        .map_err(driver_err("copying a reduction table failed"))
    }

    fn zeros(&self, n: usize) -> Result<CudaSlice<u64>, BackendError> {
        self.stream
            .alloc_zeros::<u64>(n.max(1))
            .map_err(driver_err("allocating reduction buffers failed"))
    }

    fn download(&self, d: &CudaSlice<u64>, n: usize) -> Result<Vec<u64>, BackendError> {
        let mut v = self
            .stream
            .clone_dtoh(d)
            .map_err(driver_err("copying reductions back failed"))?;
        v.truncate(n);
        Ok(v)
    }

    /// Runs the sampling kernel over iterations `first .. first + lanes`, then the reductions of
    /// `job` ([`crate::sim::cuda_gen::job`]) on the outputs, which stay on the device; copies back
    /// only the records, the histograms (65,536 counts and keys per column and part) and the
    /// selection. **Not run on a device yet**; the host shim runs the same kernels in tests.
    pub fn run_job(
        &self,
        lanes: usize,
        first: u64,
        job: &ReduceJob,
    ) -> Result<Reduced, BackendError> {
        let cols = self.n_outputs;
        let d_out = self.launch(&[], lanes, first)?;
        let (lanes64, cols64) = (lanes as u64, cols as u64);
        let mut words: Vec<u64> = Vec::new();
        let nseg = job.blocks();
        if nseg > 0 {
            let d_seg = self.upload(&job.segments)?;
            let n = nseg * cols * RECORD_LEN;
            let d_rec = self
                .stream
                .alloc_zeros::<f64>(n.max(1))
                .map_err(driver_err("allocating the records failed"))?;
            let nseg64 = nseg as u64;
            let mut b = self.stream.launch_builder(&self.reduce_segs);
            b.arg(&d_out)
                .arg(&d_rec)
                .arg(&lanes64)
                .arg(&cols64)
                .arg(&d_seg)
                .arg(&nseg64);
            // SAFETY: mcsim_reduce_segs(const double*, double*, u64, u64, const u64*, u64); `seg`
            // holds nseg + 1 offsets within `lanes`, `rec` RECORD_LEN per (column, block).
            unsafe { b.launch(grid(nseg64 * cols64)?) }
                .map_err(driver_err("launching mcsim_reduce_segs failed"))?;
            let rec = self
                .stream
                .clone_dtoh(&d_rec)
                .map_err(driver_err("copying the records back failed"))?;
            words.extend(rec.iter().take(n).map(|x| x.to_bits()));
        }
        for p in 0..job.parts() {
            let (lo, hi) = (job.hist_parts[p], job.hist_parts[p + 1]);
            let d_counts = self.zeros(cols * BUCKETS)?;
            let d_keys = self.zeros(cols * BUCKETS)?;
            if hi > lo {
                let mut b = self.stream.launch_builder(&self.hist);
                b.arg(&d_out)
                    .arg(&d_counts)
                    .arg(&d_keys)
                    .arg(&lanes64)
                    .arg(&cols64)
                    .arg(&lo)
                    .arg(&hi);
                // SAFETY: mcsim_hist(const double*, u64*, u64*, u64, u64, u64, u64); counts and
                // keys hold BUCKETS per column; lo <= hi <= lanes.
                unsafe { b.launch(grid((hi - lo) * cols64)?) }
                    .map_err(driver_err("launching mcsim_hist failed"))?;
            }
            let counts = self.download(&d_counts, cols * BUCKETS)?;
            let keys = self.download(&d_keys, cols * BUCKETS)?;
            for c in 0..cols {
                push_sparse(&mut words, &counts[c * BUCKETS..], &keys[c * BUCKETS..]);
            }
        }
        if let Some(cells) = &job.select {
            let t = SelectTables::new(cells, cols);
            let n = t.lo.len();
            let tables = [
                &t.off, &t.lo, &t.hi, &t.mode, &t.arg, &t.arg2, &t.base, &t.cap,
            ];
            let d_t = tables
                .iter()
                .map(|v| self.upload(v))
                .collect::<Result<Vec<_>, _>>()?;
            let d_col_n = self.zeros(3 * cols)?;
            let (d_cell_n, d_gap_n) = (self.zeros(n)?, self.zeros(n)?);
            let (d_cell_sum, d_gap_sum) = (self.zeros(n * LIMBS)?, self.zeros(n * LIMBS)?);
            let d_kept_n = self.zeros(n)?;
            let kept_cap = usize::try_from(t.kept_capacity).unwrap_or(usize::MAX);
            let d_kept = self
                .stream
                .alloc_zeros::<f64>(kept_cap.max(1))
                .map_err(driver_err("allocating the kept values failed"))?;
            let counting = usize::try_from(t.counting).unwrap_or(usize::MAX);
            let d_sub_c = self.zeros(counting * BUCKETS)?;
            let d_sub_k = self.zeros(counting * BUCKETS)?;
            let mut b = self.stream.launch_builder(&self.select);
            b.arg(&d_out).arg(&lanes64).arg(&cols64);
            for d in &d_t {
                b.arg(d);
            }
            b.arg(&d_col_n)
                .arg(&d_cell_n)
                .arg(&d_gap_n)
                .arg(&d_cell_sum)
                .arg(&d_gap_sum)
                .arg(&d_kept_n)
                .arg(&d_kept)
                .arg(&d_sub_c)
                .arg(&d_sub_k);
            // SAFETY: the arguments match mcsim_select's signature (see kernels/mcsim_hist.cuh);
            // the tables hold the job's cells and every buffer the sizes the tables imply.
            unsafe { b.launch(grid(lanes64 * cols64)?) }
                .map_err(driver_err("launching mcsim_select failed"))?;
            words.extend(self.download(&d_col_n, 3 * cols)?);
            words.extend(self.download(&d_cell_n, n)?);
            words.extend(self.download(&d_gap_n, n)?);
            words.extend(self.download(&d_cell_sum, n * LIMBS)?);
            words.extend(self.download(&d_gap_sum, n * LIMBS)?);
            let kept_n = self.download(&d_kept_n, n)?;
            words.extend(&kept_n);
            let kept = self
                .stream
                .clone_dtoh(&d_kept)
                .map_err(driver_err("copying the kept values back failed"))?;
            for (j, &got) in kept_n.iter().enumerate() {
                if t.mode[j] == 0 {
                    let (base, m) = (t.base[j] as usize, got.min(t.cap[j]) as usize);
                    let vals = kept
                        .get(base..base + m)
                        .ok_or_else(|| BackendError::Launch {
                            reason: "the kept values overran their buffer".into(),
                        })?;
                    words.extend(vals.iter().map(|x| x.to_bits()));
                }
            }
            let sub_c = self.download(&d_sub_c, counting * BUCKETS)?;
            let sub_k = self.download(&d_sub_k, counting * BUCKETS)?;
            for c in 0..counting {
                push_sparse(&mut words, &sub_c[c * BUCKETS..], &sub_k[c * BUCKETS..]);
            }
        }
        self.stream
            .synchronize()
            .map_err(driver_err("waiting for the GPU failed"))?;
        parse_words(job, cols, &words).map_err(|reason| BackendError::Launch { reason })
    }
}

/// Appends the non-empty buckets of dense `counts`/`keys` (the first [`BUCKETS`] of each) as the
/// host shim's driver writes them: `m`, then `m` (bucket, count, key).
fn push_sparse(words: &mut Vec<u64>, counts: &[u64], keys: &[u64]) {
    let at = words.len();
    words.push(0);
    let mut m = 0;
    for (b, (&c, &k)) in counts.iter().zip(keys).take(BUCKETS).enumerate() {
        if c != 0 {
            words.extend([b as u64, c, k]);
            m += 1;
        }
    }
    words[at] = m;
}

/// The GPUs a run uses: one [`CudaKernel`] per device, each loaded with the same sampling
/// kernel; [`super::run_split`] gives each its contiguous slice of a chunk's iterations.
#[derive(Debug)]
pub struct CudaRunner {
    kernels: Vec<CudaKernel>,
    ordinals: Vec<usize>,
    columns: usize,
}

impl CudaRunner {
    /// Compiles `k` (a sampling kernel: no input columns) once per device with NVRTC and loads it
    /// on each GPU of `ordinals` (CUDA device numbers, checked against the driver's count).
    pub fn load(k: &KernelSource, ordinals: &[usize]) -> Result<CudaRunner, BackendError> {
        if let Some(reason) = unusable_reason() {
            return Err(BackendError::Unavailable { reason });
        }
        if k.n_inputs != 0 {
            return Err(BackendError::Unavailable {
                reason: "the kernel reads input columns; a run needs a sampling kernel".into(),
            });
        }
        if ordinals.is_empty() {
            return Err(BackendError::Unavailable {
                reason: "no GPU was selected (--devices is empty)".into(),
            });
        }
        let count = device_count();
        if let Some(bad) = ordinals.iter().find(|&&o| o >= count) {
            return Err(BackendError::Unavailable {
                reason: format!("--devices: GPU {bad} does not exist (the driver reports {count})"),
            });
        }
        let ptx = compile_ptx(k)?;
        let kernels = ordinals
            .iter()
            .map(|&o| CudaKernel::from_ptx(ptx.clone(), k, o))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CudaRunner {
            kernels,
            ordinals: ordinals.to_vec(),
            columns: k.n_outputs,
        })
    }

    /// The CUDA ordinals of the devices, in the order slices are given to them.
    pub fn ordinals(&self) -> &[usize] {
        &self.ordinals
    }

    /// The loaded kernel of device `d` (an index into [`CudaRunner::ordinals`]), e.g. for
    /// [`CudaKernel::run_reduced`].
    pub fn kernel(&self, d: usize) -> Option<&CudaKernel> {
        self.kernels.get(d)
    }
}

impl KernelRunner for CudaRunner {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn devices(&self) -> usize {
        self.kernels.len()
    }

    fn columns(&self) -> usize {
        self.columns
    }

    fn run(&self, device: usize, lanes: usize, first: u64) -> Result<Vec<Vec<f64>>, BackendError> {
        let k = self
            .kernels
            .get(device)
            .ok_or_else(|| BackendError::Launch {
                reason: format!("device {device} of {}", self.kernels.len()),
            })?;
        k.run(&[], lanes, first)
    }

    fn run_reduced(
        &self,
        device: usize,
        lanes: usize,
        first: u64,
        job: &ReduceJob,
    ) -> Result<Reduced, BackendError> {
        let k = self
            .kernels
            .get(device)
            .ok_or_else(|| BackendError::Launch {
                reason: format!("device {device} of {}", self.kernels.len()),
            })?;
        k.run_job(lanes, first, job)
    }
}

/// GPUs the driver reports (0 without a driver).
pub fn device_count() -> usize {
    probe()
        .devices
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

impl CudaBackend {
    /// Opens the GPU: an error saying why none can be used (no driver, no device, no NVRTC), or
    /// [`BackendError::NotImplemented`] where one could (runs do not launch kernels yet; see
    /// [`CudaKernel`]).
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
