//! What another backend (the CUDA code generator and its tests) needs from a prepared model: the
//! compiled program, and input columns drawn as a run draws them.

use super::prepare::Prepared;
use mcsim_engine::sim::cuda_gen::{DeviceSampling, GenError};
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

impl Prepared<'_> {
    /// Why this model cannot run on a GPU here: the first of no CUDA in this build, no driver,
    /// no device, no NVRTC, an interpreted model, an instruction not ported to the GPU, and
    /// launching not written yet (`None` would mean it can; that is never the case yet).
    pub fn gpu_unusable(&self) -> Option<String> {
        use mcsim_engine::sim::backend::cuda::CudaBackend;
        let device = CudaBackend::new().err().map(|e| match e {
            mcsim_engine::sim::backend::BackendError::NotImplemented { .. } => {
                "launching generated kernels on a GPU is not implemented yet".to_string()
            }
            e => e.to_string(),
        });
        if let Some(why) = device.as_ref().filter(|w| !w.contains("not implemented")) {
            return Some(why.clone());
        }
        let Some(c) = self.compiled() else {
            return Some("the model is interpreted, not compiled".into());
        };
        if let Err(e) = mcsim_engine::sim::cuda_gen::generate_compiled(c) {
            return Some(e.to_string());
        }
        device
    }

    /// The backend that runs this model for `choice`: its name, and a note when `auto` fell back
    /// to the CPU; an error for `cuda` when no GPU can be used.
    pub fn choose_backend(
        &self,
        choice: BackendChoice,
    ) -> Result<(&'static str, Option<String>), crate::error::OpsError> {
        match choice {
            BackendChoice::Cpu => Ok(("cpu", None)),
            BackendChoice::Auto => Ok((
                "cpu",
                self.gpu_unusable()
                    .map(|why| format!("auto: no GPU used: {why}")),
            )),
            BackendChoice::Cuda => match self.gpu_unusable() {
                Some(why) => Err(crate::error::OpsError::Option {
                    option: "--backend cuda".into(),
                    message: why,
                }),
                None => Ok(("cuda", None)),
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
