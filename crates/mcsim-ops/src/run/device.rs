//! What another backend (the CUDA code generator and its tests) needs from a prepared model: the
//! compiled program, and input columns drawn as a run draws them.

use super::prepare::Prepared;
use crate::error::OpsError;
use mcsim_engine::sim::backend::cuda;
use mcsim_engine::sim::backend::{KernelRunner, run_split};
use mcsim_engine::sim::cuda_gen::host::HostRunner;
use mcsim_engine::sim::cuda_gen::{DeviceSampling, GenError, KernelSource, generate_sampled};
use mcsim_engine::sim::{Compiled, Plan};
use mcsim_sampling::{Method, Streams};

impl Prepared<'_> {
    /// The compiled block program, or `None` when the model is interpreted (a backend other than
    /// the CPU cannot run it then).
    pub fn compiled(&self) -> Option<&Compiled> {
        match self.sim.plan() {
            Plan::Compiled(c) => Some(c),
            Plan::Interpreted { .. } => None,
        }
    }

    /// The input columns (inputs, then sites, as [`Compiled::input_slots`] and
    /// [`Compiled::site_slots`] number them) of iterations `first .. first + lanes` of a run of
    /// `iterations` with `seed` and `method`. Each input is drawn independently: correlation
    /// groups are not applied (this serves backend tests, which need realistic values, not the
    /// run's exact joint draws).
    pub fn sample_columns(
        &self,
        seed: u64,
        method: Method,
        iterations: u64,
        first: u64,
        lanes: usize,
    ) -> Vec<Vec<f64>> {
        let streams = Streams::new(seed);
        self.inputs
            .iter()
            .map(|i| {
                let mut col = vec![0.0; lanes];
                i.sampler
                    .sample_into(method, &streams, i.key, iterations, first, &mut col);
                col
            })
            .collect()
    }
}

impl Prepared<'_> {
    /// How a kernel draws this model's inputs on the device for a run of `iterations` with
    /// `seed` and `method` (see [`DeviceSampling`]); `write_inputs` makes it also write the
    /// sampled columns after the outputs. Correlated inputs (Iman-Conover reorders each design
    /// block) cannot be drawn per iteration: [`GenError::Unsupported`], so the CPU runs them.
    pub fn device_sampling(
        &self,
        seed: u64,
        method: Method,
        iterations: u64,
        write_inputs: bool,
    ) -> Result<DeviceSampling<'_>, GenError> {
        if let Some((cols, _)) = self.groups.first() {
            return Err(GenError::Unsupported {
                instr: None,
                what: format!(
                    "correlated inputs ({} groups, the first of {} inputs)",
                    self.groups.len(),
                    cols.len()
                ),
            });
        }
        Ok(DeviceSampling {
            seed,
            method,
            iterations,
            columns: self.inputs.iter().map(|i| (&i.sampler, i.key)).collect(),
            write_inputs,
        })
    }
}

/// Which backend runs a model's compiled program (`mcsim run --backend`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// A GPU when one is usable and the model compiles for it, else the CPU (and the report
    /// says why).
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// A GPU, or an error saying why none can be used.
    Cuda,
}

/// The GPUs `mcsim run --devices` names: `all` (the default), or a list of CUDA device numbers
/// (`0,1`). Iterations are split across them in contiguous slices; every random number depends
/// only on the seed and the iteration, so results do not depend on the devices used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Devices {
    /// Every GPU the driver reports.
    #[default]
    All,
    /// These devices (CUDA ordinals), each once, in this order.
    List(Vec<usize>),
}

impl Devices {
    /// Parses `all` or a comma-separated list of device numbers (`0,1`), each at most once.
    pub fn parse(text: &str) -> Result<Devices, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Devices::All);
        }
        let mut list = Vec::new();
        for part in t.split(',') {
            let p = part.trim();
            let d: usize = p.parse().map_err(|_| {
                format!("`{text}`: `{p}` is not a device number (write `all` or a list like 0,1)")
            })?;
            if list.contains(&d) {
                return Err(format!("`{text}`: device {d} is named twice"));
            }
            list.push(d);
        }
        Ok(Devices::List(list))
    }

    /// The device numbers out of `count` devices.
    fn ordinals(&self, count: usize) -> Vec<usize> {
        match self {
            Devices::All => (0..count).collect(),
            Devices::List(l) => l.clone(),
        }
    }
}

/// Is the host shim to stand in for the GPU (`MCSIM_TEST_HOST_KERNEL=1`; tests only)?
fn host_kernel_requested() -> bool {
    std::env::var_os("MCSIM_TEST_HOST_KERNEL").is_some_and(|v| v == "1")
}

/// A model's sampling kernel loaded on its devices, filling a run's chunks: the device draws the
/// inputs and evaluates, and the output columns and the kept input columns are copied back into
/// the chunk, which then goes through the same statistics, samples file and sensitivity as a CPU
/// chunk.
pub struct DeviceRun {
    runner: Box<dyn KernelRunner>,
    n_out: usize,
    n_kept: usize,
    /// Iterations per chunk at most.
    max_chunk: u64,
}

impl std::fmt::Debug for DeviceRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceRun")
            .field("backend", &self.runner.name())
            .field("devices", &self.runner.devices())
            .field("columns", &self.runner.columns())
            .finish()
    }
}

/// Iterations per chunk at most on the host shim (tests): four accumulator blocks.
const HOST_CHUNK: u64 = 4 * super::STATS_BLOCK;

/// Values (columns × iterations) copied back per chunk at most: 256 MiB.
const CHUNK_VALUES: u64 = 1 << 25;

impl DeviceRun {
    /// The backend's name for the report.
    pub fn name(&self) -> &'static str {
        self.runner.name()
    }

    /// Devices used.
    pub fn devices(&self) -> usize {
        self.runner.devices()
    }

    /// Iterations per chunk: a multiple of `grid`, as large as [`CHUNK_VALUES`] allows (each
    /// launch is then large enough to fill a GPU), and at least `grid`.
    pub(crate) fn chunk_len(&self, grid: u64) -> u64 {
        let per = (CHUNK_VALUES / self.runner.columns().max(1) as u64).min(self.max_chunk);
        (per / grid).max(1) * grid
    }

    /// Computes iterations `start .. start + chunk_out[0].len()` on the devices into the chunk's
    /// columns (the outputs, and the kept inputs).
    pub(crate) fn fill(
        &self,
        start: u64,
        chunk_in: &mut [&mut [f64]],
        chunk_out: &mut [&mut [f64]],
    ) -> Result<(), OpsError> {
        let lanes = chunk_out
            .first()
            .or(chunk_in.first())
            .map_or(0, |c| c.len());
        if chunk_out.len() != self.n_out || chunk_in.len() != self.n_kept {
            return Err(OpsError::Run {
                message: format!(
                    "the GPU kernel has {} outputs and {} kept inputs; the chunk {} and {}",
                    self.n_out,
                    self.n_kept,
                    chunk_out.len(),
                    chunk_in.len()
                ),
            });
        }
        let cols = run_split(&*self.runner, start, lanes).map_err(|e| OpsError::Run {
            message: format!("{} backend: {e}", self.runner.name()),
        })?;
        for (dst, src) in chunk_out
            .iter_mut()
            .map(|c| &mut **c)
            .chain(chunk_in.iter_mut().map(|c| &mut **c))
            .zip(cols.iter())
        {
            dst.copy_from_slice(src);
        }
        Ok(())
    }
}

impl DeviceRun {
    /// Runs iterations `start .. start + lanes` on the devices and reduces them there as `job`
    /// asks; only the reductions come back (see `mcsim_engine::sim::cuda_gen::job`).
    pub(crate) fn reduce(
        &self,
        start: u64,
        lanes: usize,
        job: &mcsim_engine::sim::cuda_gen::job::ReduceJob,
    ) -> Result<mcsim_engine::sim::cuda_gen::job::Reduced, OpsError> {
        mcsim_engine::sim::backend::run_split_reduced(&*self.runner, start, lanes, job).map_err(
            |e| OpsError::Run {
                message: format!("{} backend: {e}", self.runner.name()),
            },
        )
    }
}

/// The backend chosen for a run: its name, the note saying why `auto` used the CPU, and the
/// loaded kernel when a GPU (or the host shim) runs it.
#[derive(Debug)]
pub struct Chosen {
    /// `cpu`, `cuda` (or `cuda (host shim)` in tests).
    pub name: &'static str,
    /// Why `auto` did not use a GPU.
    pub note: Option<String>,
    /// The loaded kernel (absent on the CPU).
    pub device: Option<DeviceRun>,
}

impl Prepared<'_> {
    /// Why this model cannot run on a GPU here without building anything: no CUDA in this
    /// build, no driver, no device, no NVRTC, an interpreted model, correlated inputs, an
    /// instruction or a distribution not ported to the GPU (`None`: it can, for a run with
    /// `seed`, `method` and `iterations`).
    pub fn gpu_unusable(&self, seed: u64, method: Method, iterations: u64) -> Option<String> {
        self.gpu_kernel(seed, method, iterations).err()
    }

    /// The sampling kernel a GPU run of this model uses (every input column written back, for
    /// the kept inputs), or why there is none (see [`Prepared::gpu_unusable`]).
    fn gpu_kernel(
        &self,
        seed: u64,
        method: Method,
        iterations: u64,
    ) -> Result<KernelSource, String> {
        if !host_kernel_requested()
            && let Some(why) = cuda::unusable_reason()
        {
            return Err(why);
        }
        let Some(c) = self.compiled() else {
            return Err("the model is interpreted, not compiled".into());
        };
        // The kept inputs are the first of the sampled columns (inputs, then call sites).
        let columns = c.input_slots.len() + c.site_slots.len();
        if columns != self.inputs.len()
            || self.infos.len() > columns
            || c.outputs.len() != self.out_cells.len()
        {
            return Err(format!(
                "the compiled program has {columns} input columns and {} outputs for the run's {} ({} kept) and {}",
                c.outputs.len(),
                self.inputs.len(),
                self.infos.len(),
                self.out_cells.len()
            ));
        }
        let smp = self
            .device_sampling(seed, method, iterations, true)
            .map_err(|e| e.to_string())?;
        generate_sampled(c, &smp).map_err(|e| e.to_string())
    }

    /// Loads this model's kernel on the GPUs of `devices` (or, with `MCSIM_TEST_HOST_KERNEL=1`,
    /// on the host shim pretending to be as many devices as the list names).
    fn gpu_run(
        &self,
        devices: &Devices,
        seed: u64,
        method: Method,
        iterations: u64,
    ) -> Result<DeviceRun, String> {
        let k = self.gpu_kernel(seed, method, iterations)?;
        let host = host_kernel_requested();
        let runner: Box<dyn KernelRunner> = if host {
            let n = devices.ordinals(1).len();
            if n == 0 {
                return Err("no GPU was selected (--devices is empty)".into());
            }
            Box::new(HostRunner::compile(&k, n).map_err(|e| e.to_string())?)
        } else {
            let ordinals = devices.ordinals(cuda::device_count());
            Box::new(cuda::CudaRunner::load(&k, &ordinals).map_err(|e| e.to_string())?)
        };
        let columns = self.out_cells.len() + self.inputs.len();
        if runner.columns() != columns {
            return Err(format!(
                "the kernel writes {} columns, the run needs {columns}",
                runner.columns()
            ));
        }
        Ok(DeviceRun {
            runner,
            n_out: self.out_cells.len(),
            n_kept: self.infos.len(),
            // The host shim runs small chunks, so that tests cross chunk boundaries.
            max_chunk: if host { HOST_CHUNK } else { 1 << 24 },
        })
    }

    /// The backend that runs this model for `choice` on `devices`, for a run with `seed`,
    /// `method` and `iterations`: the CPU (with a note saying why when `auto` used no GPU), or
    /// the model's kernel loaded on the GPUs; an error for `cuda` when no GPU can be used.
    pub fn choose_backend(
        &self,
        choice: BackendChoice,
        devices: &Devices,
        seed: u64,
        method: Method,
        iterations: u64,
    ) -> Result<Chosen, crate::error::OpsError> {
        let cpu = |note| Chosen {
            name: "cpu",
            note,
            device: None,
        };
        match choice {
            BackendChoice::Cpu => Ok(cpu(None)),
            BackendChoice::Auto => match self.gpu_run(devices, seed, method, iterations) {
                Ok(d) => Ok(Chosen {
                    name: d.name(),
                    note: None,
                    device: Some(d),
                }),
                Err(why) => Ok(cpu(Some(format!("auto: no GPU used: {why}")))),
            },
            BackendChoice::Cuda => match self.gpu_run(devices, seed, method, iterations) {
                Ok(d) => Ok(Chosen {
                    name: d.name(),
                    note: None,
                    device: Some(d),
                }),
                Err(why) => Err(crate::error::OpsError::Option {
                    option: "--backend cuda".into(),
                    message: why,
                }),
            },
        }
    }
}

/// What `mcsim doctor` reports: (topic, finding) lines about the CPU, the GPUs, the driver and
/// NVRTC.
pub fn doctor() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    out.push(("cpu cores".into(), cores.to_string()));
    out.push(("cpu arch".into(), std::env::consts::ARCH.to_string()));
    out.push(("cpu features".into(), cpu_features()));
    for (k, v) in gpu_lines() {
        out.push((k.into(), v));
    }
    out
}

#[cfg(target_arch = "x86_64")]
fn cpu_features() -> String {
    let mut f = Vec::new();
    macro_rules! feat {
        ($($name:tt),+) => {
            $(if std::arch::is_x86_feature_detected!($name) {
                f.push($name);
            })+
        };
    }
    feat!("sse4.2", "avx", "avx2", "fma", "avx512f");
    f.join(" ")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_features() -> String {
    "(not probed on this architecture)".into()
}

#[cfg(feature = "cuda")]
fn gpu_lines() -> Vec<(&'static str, String)> {
    let p = mcsim_engine::sim::backend::cuda::probe();
    let driver = match (p.driver, p.driver_version, &p.driver_error) {
        (false, _, _) => "not found (libcuda.so)".to_string(),
        (true, _, Some(e)) => format!("found, failed to initialise: {e}"),
        (true, Some(v), None) => format!("CUDA {}.{}", v / 1000, (v % 1000) / 10),
        (true, None, None) => "found".to_string(),
    };
    let gpus = p
        .devices
        .map_or("unknown (no driver)".to_string(), |n| n.to_string());
    let nvrtc = p
        .nvrtc
        .map_or("not found (libnvrtc.so)".to_string(), |(a, b)| {
            format!("{a}.{b}")
        });
    vec![("cuda driver", driver), ("gpus", gpus), ("nvrtc", nvrtc)]
}

#[cfg(not(feature = "cuda"))]
fn gpu_lines() -> Vec<(&'static str, String)> {
    vec![(
        "gpu",
        "built without the cuda feature (rebuild with `--features cuda`)".to_string(),
    )]
}
