//! CUDA C from a compiled [`Program`]: one kernel in which each thread evaluates one lane (one
//! iteration).
//!
//! The kernel `mcsim_block(const double* in, double* out, unsigned long long lanes, unsigned long
//! long first)` reads its input columns (`in[k * lanes + i]` for column `k`, lane `i`), runs the
//! program's instructions with constants folded into the source, one local variable per slot,
//! and writes its output columns (`out[k * lanes + i]`; a non-finite output becomes NaN, the
//! error lane, as [`super::Simulation::run_block`] does).
//!
//! With [`generate_sampled`] the kernel reads no input columns: lane `i` is iteration
//! `first + i`, and each input is drawn on the device from (seed, stream key, iteration) by the
//! CPU's ChaCha8 streams, Latin Hypercube permutation and inverse CDF, ported in
//! `kernels/mcsim_random.cuh` (see [`DeviceSampling`]).
//!
//! The device helpers are hand-written in `kernels/mcsim_math.cuh` (prepended to the source, as
//! NVRTC compiles one string with no include path): each reproduces the CPU executor's kernel
//! operation for operation. The kernel must be compiled without fused multiply-add contraction
//! ([`NVRTC_OPTIONS`]; `-ffp-contract=off` for the host C++ compiler), so each operation rounds
//! as on the CPU. Where the two platforms' math libraries differ (`exp`, `log`, `log10`, `pow` on
//! a GPU are within a few ulp of glibc's, not bit-equal), results differ in the last bits; the
//! host shim ([`host`]) links glibc, as the CPU executor does, and is bit-identical.
//!
//! An instruction or kernel without a device port is a typed error ([`GenError::Unsupported`]),
//! so a caller falls back to the CPU and never computes a wrong number.

use super::compile::Compiled;
use super::program::{Arith, Cmp, Instr, Kernel1, Kernel2, Operand, Program, Reduce, RoundMode};
use mcsim_sampling::{
    DeviceForm, DeviceRegion, DeviceSampler, DeviceTable, Method, Sampler, Streams,
};
use std::fmt::Write as _;

pub mod host;
pub mod job;

/// The kernel's name (`extern "C"`, so the name is not mangled).
pub const KERNEL_NAME: &str = "mcsim_block";

/// The hand-written device helpers, prepended to every generated kernel.
pub const DEVICE_HELPERS: &str = include_str!("../../../../kernels/mcsim_math.cuh");

/// The device sampling helpers, prepended after [`DEVICE_HELPERS`] when the kernel samples its
/// inputs ([`generate_sampled`]).
pub const DEVICE_RANDOM: &str = include_str!("../../../../kernels/mcsim_random.cuh");

/// The reduction kernel ([`REDUCE_KERNEL_NAME`]), appended to every generated source.
pub const DEVICE_REDUCE: &str = include_str!("../../../../kernels/mcsim_reduce.cuh");

/// The histogram and selection kernels (`mcsim_hist`, `mcsim_select`; see [`job`]), appended
/// after [`DEVICE_REDUCE`].
pub const DEVICE_HIST: &str = include_str!("../../../../kernels/mcsim_hist.cuh");

/// The block-records kernel over arbitrary blocks: `mcsim_reduce_segs(const double* out, double*
/// rec, u64 lanes, u64 cols, const u64* seg, u64 nseg)`, one thread per (column, block).
pub const REDUCE_SEGS_KERNEL_NAME: &str = "mcsim_reduce_segs";
/// The histogram kernel (see `kernels/mcsim_hist.cuh`).
pub const HIST_KERNEL_NAME: &str = "mcsim_hist";
/// The selection kernel (see `kernels/mcsim_hist.cuh`).
pub const SELECT_KERNEL_NAME: &str = "mcsim_select";

/// The reduction kernel's name: `mcsim_reduce(const double* out, double* rec, unsigned long long
/// lanes, unsigned long long cols, unsigned long long block_len)`, one thread per (column, block
/// of `block_len` iterations), `ceil(lanes / block_len) * cols` threads; see [`BlockRecord`].
pub const REDUCE_KERNEL_NAME: &str = "mcsim_reduce";

/// Doubles per reduction record.
pub const RECORD_LEN: usize = 12;

/// What the reduction kernel reports for one output column over one block of iterations: the
/// accumulators of `mcsim_results::BlockStats::add_block` on that block (without targets), the
/// same bits, for the host to merge in block order as the CPU merges its blocks. Records are
/// laid out column by column, block by block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockRecord {
    /// Finite values.
    pub n: u64,
    /// Error iterations (NaN or infinite).
    pub errors: u64,
    /// Sum, double-double.
    pub sum: [f64; 2],
    /// Σ(x − mean)², double-double.
    pub m2: [f64; 2],
    /// Σ(x − mean)³, double-double.
    pub m3: [f64; 2],
    /// Σ(x − mean)⁴, double-double.
    pub m4: [f64; 2],
    /// Smallest finite value (`None` when `n = 0`).
    pub min: Option<f64>,
    /// Largest finite value.
    pub max: Option<f64>,
}

impl BlockRecord {
    /// A record from its [`RECORD_LEN`] doubles (missing ones read as 0).
    pub fn from_slice(r: &[f64]) -> BlockRecord {
        let at = |i: usize| r.get(i).copied().unwrap_or(0.0);
        let n = at(0) as u64;
        BlockRecord {
            n,
            errors: at(1) as u64,
            sum: [at(2), at(3)],
            m2: [at(4), at(5)],
            m3: [at(6), at(7)],
            m4: [at(8), at(9)],
            min: (n > 0).then(|| at(10)),
            max: (n > 0).then(|| at(11)),
        }
    }
}

/// Largest cumulative table (discrete distributions) folded into a kernel's source.
pub const MAX_DEVICE_TABLE: usize = 1 << 16;

/// NVRTC options the kernel needs: no fused multiply-add (bit-identity with the CPU).
pub const NVRTC_OPTIONS: &[&str] = &["--fmad=false"];

/// Why a program cannot become a kernel.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// An instruction, or an input's distribution, with no device port yet (or correlated
    /// inputs, which cannot be drawn on the device): the CPU must run this program.
    #[error("{what} is not supported on the GPU yet")]
    Unsupported {
        /// The instruction's index in the program (`None` for an input's sampling).
        instr: Option<usize>,
        /// What: `instruction 12 (Quantile RISK NORMAL)`, `input column 3: sampling RiskGamma on
        /// the device`.
        what: String,
    },
    /// An instruction reads a slot that no input column and no earlier instruction writes.
    #[error("instruction {instr} reads slot {slot}, which nothing wrote")]
    ReadsUnset {
        /// Its index in the program.
        instr: usize,
        /// The slot.
        slot: u32,
    },
    /// The device sampling description does not fit the program.
    #[error("device sampling: {why}")]
    Sampling {
        /// What does not fit.
        why: String,
    },
    /// A slot at or above the program's slot count, or an input given twice.
    #[error("bad slot {slot}: {why}")]
    BadSlot {
        /// The slot.
        slot: u32,
        /// What is wrong.
        why: &'static str,
    },
}

/// A generated kernel and how to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelSource {
    /// The CUDA C source: the device helpers, then the kernel [`KERNEL_NAME`].
    pub source: String,
    /// Input columns the kernel reads (`in` holds this many columns of `lanes`).
    pub n_inputs: usize,
    /// Output columns it writes: the outputs, then (with [`DeviceSampling::write_inputs`]) the
    /// sampled input columns.
    pub n_outputs: usize,
}

/// How a kernel draws its inputs on the device: the run's seed, method and length, and for each
/// input column (inputs, then sites, as [`Compiled::input_slots`] and [`Compiled::site_slots`]
/// number them) its prepared sampler and stream key. The draws are those of
/// [`Sampler::sample_into`] with the same arguments, bit for bit on the host shim (on a GPU,
/// `log`/`log1p`/`exp` in normal tails, lognormal and exponential samples are CUDA's).
///
/// Correlated inputs (Iman-Conover reorders a design block's samples) cannot be drawn per
/// iteration: the caller must not ask for device sampling when the model has correlation groups.
#[derive(Debug, Clone)]
pub struct DeviceSampling<'a> {
    /// The run's seed ([`Streams::new`]).
    pub seed: u64,
    /// Monte Carlo or Latin Hypercube.
    pub method: Method,
    /// The run's iterations (the Latin Hypercube design size).
    pub iterations: u64,
    /// One per input column: its sampler and stream key.
    pub columns: Vec<(&'a Sampler, u64)>,
    /// Also write every sampled column, after the outputs (for a samples file, and for tests).
    pub write_inputs: bool,
}

/// The kernel of a compiled model that samples its inputs on the device (see
/// [`DeviceSampling`]): `in` is not read; lane `i` is iteration `first + i`.
/// A distribution without a device port is [`GenError::Unsupported`].
pub fn generate_sampled(c: &Compiled, sampling: &DeviceSampling) -> Result<KernelSource, GenError> {
    let inputs: Vec<Option<u32>> = c
        .input_slots
        .iter()
        .map(|s| Some(*s))
        .chain(c.site_slots.iter().copied())
        .collect();
    if sampling.columns.len() != inputs.len() {
        return Err(GenError::Sampling {
            why: format!(
                "{} samplers given for {} input columns",
                sampling.columns.len(),
                inputs.len()
            ),
        });
    }
    generate_with(&c.program, &inputs, &c.outputs, Some(sampling))
}

/// The kernel of a compiled model: its input columns are the block's (the inputs, then every
/// site, [`Compiled::input_slots`] and [`Compiled::site_slots`]), its outputs
/// [`Compiled::outputs`].
pub fn generate_compiled(c: &Compiled) -> Result<KernelSource, GenError> {
    let inputs: Vec<Option<u32>> = c
        .input_slots
        .iter()
        .map(|s| Some(*s))
        .chain(c.site_slots.iter().copied())
        .collect();
    generate(&c.program, &inputs, &c.outputs)
}

/// The kernel of `program`: input column `k` fills slot `inputs[k]` (`None`: a column the
/// program does not read), output column `k` is `outputs[k]`.
pub fn generate(
    program: &Program,
    inputs: &[Option<u32>],
    outputs: &[Operand],
) -> Result<KernelSource, GenError> {
    generate_with(program, inputs, outputs, None)
}

fn generate_with(
    program: &Program,
    inputs: &[Option<u32>],
    outputs: &[Operand],
    sampling: Option<&DeviceSampling>,
) -> Result<KernelSource, GenError> {
    let mut g = Gen {
        out: String::new(),
        set: vec![false; program.slots as usize],
        at: 0,
    };
    let src = &mut String::with_capacity(64 * program.instrs.len() + DEVICE_HELPERS.len());
    src.push_str(DEVICE_HELPERS);
    // Sampling code per input column (tables go before the kernel, the draws into it).
    let mut draws: Vec<Option<String>> = vec![None; inputs.len()];
    if let Some(smp) = sampling {
        src.push_str(DEVICE_RANDOM);
        src.push_str("\n// ---- generated by mcsim (sim::cuda_gen) ----\n");
        for (k, (sampler, key)) in smp.columns.iter().enumerate() {
            if inputs[k].is_none() && !smp.write_inputs {
                continue;
            }
            let (tables, draw) = sample_code(k, smp, sampler, *key)?;
            src.push_str(&tables);
            draws[k] = Some(draw);
        }
    } else {
        src.push_str("\n// ---- generated by mcsim (sim::cuda_gen) ----\n");
    }
    let _ = writeln!(
        src,
        "extern \"C\" __global__ void {KERNEL_NAME}(const double* __restrict__ in, double* __restrict__ out, unsigned long long lanes, unsigned long long first) {{"
    );
    src.push_str(
        "    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= lanes) return;\n",
    );
    if let Some(smp) = sampling {
        let key = Streams::new(smp.seed).chacha_key();
        let words: Vec<String> = key
            .chunks_exact(4)
            .map(|c| format!("0x{:08x}u", u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
        let _ = writeln!(
            src,
            "    const mc_u32 mc_key[8] = {{{}}};\n    const mc_u64 it = first + i;",
            words.join(", ")
        );
        for (k, d) in draws.iter().enumerate() {
            if let Some(d) = d {
                let _ = writeln!(src, "    double x{k};\n    {{ {d} }}");
            }
        }
    }
    for (k, s) in inputs.iter().enumerate() {
        let Some(s) = *s else { continue };
        if s >= program.slots {
            return Err(GenError::BadSlot {
                slot: s,
                why: "an input beyond the program's slots",
            });
        }
        if g.set[s as usize] {
            return Err(GenError::BadSlot {
                slot: s,
                why: "two input columns fill it",
            });
        }
        g.set[s as usize] = true;
        if sampling.is_some() {
            let _ = writeln!(src, "    double s{s} = x{k};");
        } else {
            let _ = writeln!(src, "    double s{s} = in[{k}ull * lanes + i];");
        }
    }
    // Every other slot is declared once, up front: instructions reuse dead slots.
    let mut decl = String::new();
    for s in 0..program.slots {
        if !g.set[s as usize] {
            let _ = write!(decl, "s{s}, ");
        }
        if decl.len() > 100 {
            let _ = writeln!(src, "    double {};", decl.trim_end_matches(", "));
            decl.clear();
        }
    }
    if !decl.is_empty() {
        let _ = writeln!(src, "    double {};", decl.trim_end_matches(", "));
    }
    for (n, ins) in program.instrs.iter().enumerate() {
        g.at = n;
        g.instr(ins)?;
    }
    src.push_str(&g.out);
    for (k, o) in outputs.iter().enumerate() {
        let v = g.op(*o)?;
        let _ = writeln!(src, "    out[{k}ull * lanes + i] = mc_fin({v});");
    }
    let mut n_outputs = outputs.len();
    if let Some(smp) = sampling
        && smp.write_inputs
    {
        for k in 0..inputs.len() {
            let _ = writeln!(src, "    out[{}ull * lanes + i] = x{k};", n_outputs + k);
        }
        n_outputs += inputs.len();
    }
    src.push_str("}\n");
    src.push_str(DEVICE_REDUCE);
    src.push_str(DEVICE_HIST);
    Ok(KernelSource {
        source: std::mem::take(src),
        n_inputs: if sampling.is_some() { 0 } else { inputs.len() },
        n_outputs,
    })
}

/// The device code that draws input column `k`: tables to put before the kernel, and the
/// statements (inside the kernel, where `mc_key` and `it` are defined) that set `x{k}`.
fn sample_code(
    k: usize,
    smp: &DeviceSampling,
    sampler: &Sampler,
    key: u64,
) -> Result<(String, String), GenError> {
    let unsupported = |what: String| GenError::Unsupported {
        instr: None,
        what: format!("input column {k}: {what}"),
    };
    let Some(DeviceSampler {
        form,
        window,
        shift,
    }) = sampler.device_form()
    else {
        return Err(unsupported(format!(
            "sampling {} on the device",
            sampler.distribution().function_name()
        )));
    };
    let mut tables = String::new();
    let mut table = |name: &str, t: &DeviceTable| -> Result<(String, usize), GenError> {
        let n = t.cum.len();
        if n == 0 || n > MAX_DEVICE_TABLE || t.guide.len() != n {
            return Err(unsupported(format!(
                "a cumulative table of {n} entries (at most {MAX_DEVICE_TABLE} on the device)"
            )));
        }
        let cum = table_lits(t.cum.iter().copied())
            .ok_or_else(|| unsupported("a non-finite cumulative probability".into()))?;
        let guide: Vec<String> = t.guide.iter().map(|g| format!("{g}u")).collect();
        let _ = writeln!(
            tables,
            "__device__ double mc_cum_{name}[{n}] = {{{}}};\n__device__ mc_u32 mc_guide_{name}[{n}] = {{{}}};",
            cum.join(", "),
            guide.join(", ")
        );
        Ok((
            format!("mc_table_index(mc_cum_{name}, mc_guide_{name}, {n}ull, p)"),
            n,
        ))
    };
    let name = k.to_string();
    let value = match form {
        DeviceForm::Constant(c) => lit(c),
        DeviceForm::Normal { mean, sd } => {
            format!("{} + {} * mc_normal_z(p, q)", lit(mean), lit(sd))
        }
        DeviceForm::Lognormal { mu, sigma } => {
            format!("exp({} + {} * mc_normal_z(p, q))", lit(mu), lit(sigma))
        }
        DeviceForm::Triangular {
            a,
            c,
            fc,
            left,
            right,
        } => format!(
            "(p <= {}) ? {} + sqrt(p * {}) : {} - sqrt(q * {})",
            lit(fc),
            lit(a),
            lit(left),
            lit(c),
            lit(right)
        ),
        DeviceForm::Uniform { min, width } => format!("{} + {} * p", lit(min), lit(width)),
        DeviceForm::Expon { mean } => format!("{} * mc_ln_q(p, q)", lit(-mean)),
        DeviceForm::IntTable { offset, table: t } => {
            let (idx, _) = table(&name, &t)?;
            format!("{} + (double){idx}", lit(offset))
        }
        DeviceForm::Quintic(t) => {
            // Coordinates below a region's start (reachable only through a truncation window,
            // ln p < -48) take the exact inverse on the CPU, which is not ported.
            if window.is_some() {
                return Err(unsupported(format!(
                    "{} with RiskTruncate on the device",
                    sampler.distribution().function_name()
                )));
            }
            let mut region = |r: &DeviceRegion, part: &str| -> Result<String, GenError> {
                let segs = r.segs.len();
                let col = |f: &dyn Fn(&(u64, u64, f64)) -> String| -> String {
                    r.segs.iter().map(f).collect::<Vec<_>>().join(", ")
                };
                // Cell 0 is a NaN placeholder that no tabulated segment reads (every segment's
                // first cell is at least 1): written as 0, since a device array's initialiser
                // must be constant.
                let cells = table_lits(r.cells.iter().skip(1).flatten().copied())
                    .ok_or_else(|| unsupported("a non-finite quantile table cell".into()))?;
                let cells: Vec<String> = std::iter::repeat_n("0e0".to_string(), 6)
                    .chain(cells)
                    .collect();
                if r.segs.iter().any(|g| !g.2.is_finite()) {
                    return Err(unsupported("a non-finite quantile table scale".into()));
                }
                let _ = writeln!(
                    tables,
                    "__device__ mc_u64 mc_q{name}_{part}_first[{segs}] = {{{}}};\n__device__ mc_u64 mc_q{name}_{part}_last[{segs}] = {{{}}};\n__device__ double mc_q{name}_{part}_scale[{segs}] = {{{}}};\n__device__ double mc_q{name}_{part}_cells[{}] = {{{}}};",
                    col(&|g| format!("{}ull", g.0)),
                    col(&|g| format!("{}ull", g.1)),
                    col(&|g| lit(g.2)),
                    cells.len(),
                    cells.join(", ")
                );
                Ok(format!(
                    "{}, {}, mc_q{name}_{part}_first, mc_q{name}_{part}_last, mc_q{name}_{part}_scale, {segs}ull, mc_q{name}_{part}_cells",
                    lit(r.c0),
                    lit(r.inv_w)
                ))
            };
            if [&t.center, &t.lower, &t.upper]
                .iter()
                .any(|r| r.segs.is_empty() || r.cells.is_empty())
            {
                return Err(unsupported("an empty quantile table".into()));
            }
            let (c, l, u) = (
                region(&t.center, "c")?,
                region(&t.lower, "l")?,
                region(&t.upper, "u")?,
            );
            let _ = writeln!(
                tables,
                "__device__ double mc_quintic_{name}(double p, double q) {{\n    if (p >= {plo} && q >= {plo}) return mc_region_get(p, {c});\n    if (p < q) return {lb} + {lf} * exp(mc_region_get(log(p), {l}));\n    return {hb} + {hf} * exp(mc_region_get(log(q), {u}));\n}}",
                plo = lit(t.p_lo),
                lb = lit(t.lo_base),
                lf = lit(t.lo_factor),
                hb = lit(t.hi_base),
                hf = lit(t.hi_factor),
            );
            format!("mc_quintic_{name}(p, q)")
        }
        DeviceForm::ValueTable { values, table: t } => {
            let (idx, n) = table(&name, &t)?;
            if values.len() != n {
                return Err(unsupported("a value table of the wrong length".into()));
            }
            let vals = table_lits(values.iter().copied())
                .ok_or_else(|| unsupported("a non-finite value".into()))?;
            let _ = writeln!(
                tables,
                "__device__ double mc_vals_{name}[{n}] = {{{}}};",
                vals.join(", ")
            );
            format!("mc_vals_{name}[{idx}]")
        }
        _ => {
            return Err(unsupported(format!(
                "sampling {} on the device",
                sampler.distribution().function_name()
            )));
        }
    };
    let uniform = match smp.method {
        Method::MonteCarlo => format!("mc_mc_uniform(mc_key, {key}ull, it)"),
        Method::LatinHypercube => {
            let n = smp.iterations.max(1);
            let mut a = n.isqrt();
            if a * a < n {
                a += 1;
            }
            let b = n.div_ceil(a);
            let c = (1u64 << 52) as f64 / n as f64;
            format!(
                "mc_lhs_uniform(mc_key, {}ull, {key}ull, {n}ull, {a}ull, {b}ull, {}, it)",
                smp.seed,
                lit(c)
            )
        }
        _ => return Err(unsupported("an unknown sampling method".into())),
    };
    let mut d = format!("double u = {uniform}; ");
    match window {
        None => d.push_str("double p = u, q = 1.0 - u; (void)q; "),
        Some(w) => {
            let _ = write!(
                d,
                "double p = {lo} + {s} * u, q = {lo_c} - {s} * u; (void)q; ",
                lo = lit(w.lo),
                lo_c = lit(w.lo_c),
                s = lit(w.scale)
            );
        }
    }
    let _ = write!(d, "double v = {value}; ");
    if let Some(w) = window {
        let _ = write!(
            d,
            "v = mc_rmin(mc_rmax(v, {}), {}); ",
            lit(w.min),
            lit(w.max)
        );
    }
    if shift != 0.0 {
        let _ = write!(d, "v = v + {}; ", lit(shift));
    }
    let _ = write!(d, "x{k} = v;");
    Ok((tables, d))
}

/// A constant as a C expression that parses to the same double (Rust's shortest round-trip
/// form; C's strtod and NVRTC round decimal literals correctly).
fn lit(x: f64) -> String {
    if x.is_nan() {
        "mc_nan()".into()
    } else if x.is_infinite() {
        if x > 0.0 { "mc_inf()" } else { "(-mc_inf())" }.into()
    } else if x.is_sign_negative() {
        format!("(-{:e})", -x)
    } else {
        format!("{x:e}")
    }
}

/// Finite constants as literals for a device array's initialiser (which must be constant:
/// `mc_nan()` is a call), or `None` if one is not finite.
fn table_lits(xs: impl Iterator<Item = f64>) -> Option<Vec<String>> {
    xs.map(|x| x.is_finite().then(|| lit(x))).collect()
}

/// `program::near_eq`, for constants folded at generation time.
fn near_eq(x: f64, y: f64) -> bool {
    (x == y) | ((x - y).abs() <= x.abs().max(y.abs()) * 1e-15)
}

struct Gen {
    out: String,
    /// Slots written so far (inputs, then destinations).
    set: Vec<bool>,
    /// The instruction being translated.
    at: usize,
}

impl Gen {
    fn unsupported(&self, what: String) -> GenError {
        GenError::Unsupported {
            instr: Some(self.at),
            what: format!("instruction {} ({what})", self.at),
        }
    }

    fn op(&self, o: Operand) -> Result<String, GenError> {
        match o {
            Operand::Const(k) => Ok(lit(k)),
            Operand::Slot(s) => {
                if self.set.get(s as usize).copied().unwrap_or(false) {
                    Ok(format!("s{s}"))
                } else {
                    Err(GenError::ReadsUnset {
                        instr: self.at,
                        slot: s,
                    })
                }
            }
        }
    }

    fn ops(&self, os: &[Operand]) -> Result<Vec<String>, GenError> {
        os.iter().map(|o| self.op(*o)).collect()
    }

    fn dst(&mut self, d: u32) -> Result<String, GenError> {
        match self.set.get_mut(d as usize) {
            Some(b) => {
                *b = true;
                Ok(format!("s{d}"))
            }
            None => Err(GenError::BadSlot {
                slot: d,
                why: "a destination beyond the program's slots",
            }),
        }
    }

    fn line(&mut self, s: &str) {
        self.out.push_str("    ");
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn instr(&mut self, ins: &Instr) -> Result<(), GenError> {
        // Operands are read before the destination is marked written (no instruction reads its
        // own destination: `Program::validate`).
        match ins {
            Instr::Arith { op, dst, a, b } => {
                let (a, b) = (self.op(*a)?, self.op(*b)?);
                let d = self.dst(*dst)?;
                let e = match op {
                    Arith::Add => format!("mc_fin({a} + {b})"),
                    Arith::Sub => format!("mc_fin({a} - {b})"),
                    Arith::Mul => format!("mc_fin({a} * {b})"),
                    Arith::Div => format!("({b} == 0.0) ? mc_nan() : mc_fin({a} / {b})"),
                    Arith::Pow => format!("mc_pow({a}, {b})"),
                };
                self.line(&format!("{d} = {e};"));
            }
            Instr::PowI { dst, a, n } => {
                let is_col = matches!(a, Operand::Slot(_));
                let a = self.op(*a)?;
                let d = self.dst(*dst)?;
                // The executor's square-and-multiply, unrolled over the constant exponent's bits.
                let mut s = format!("{{ double v = 1.0, b = {a};");
                let mut e = n.unsigned_abs();
                while e > 0 {
                    if e & 1 == 1 {
                        s.push_str(" v *= b;");
                    }
                    e >>= 1;
                    if e > 0 {
                        s.push_str(" b *= b;");
                    }
                }
                if *n < 0 {
                    s.push_str(" v = (v == 0.0) ? mc_nan() : 1.0 / v;");
                }
                if *n == 0 && is_col {
                    // 0^0 is #NUM! in Excel.
                    let _ = write!(s, " if ({a} == 0.0 || mc_isnan({a})) v = mc_nan();");
                }
                let _ = write!(s, " {d} = mc_fin(v); }}");
                self.line(&s);
            }
            Instr::Neg { dst, a } => {
                let a = self.op(*a)?;
                let d = self.dst(*dst)?;
                self.line(&format!("{d} = -{a};"));
            }
            Instr::Compare { op, dst, a, b } => {
                let (a, b) = (self.op(*a)?, self.op(*b)?);
                let d = self.dst(*dst)?;
                let t = match op {
                    Cmp::Eq => "e",
                    Cmp::Ne => "!e",
                    Cmp::Lt => "!e & (x < y)",
                    Cmp::Le => "e | (x < y)",
                    Cmp::Gt => "!e & (x > y)",
                    Cmp::Ge => "e | (x > y)",
                };
                self.line(&format!(
                    "{{ double x = {a}, y = {b}; bool e = mc_near_eq(x, y); double r = ({t}) ? 1.0 : 0.0; {d} = mc_isnan(x - y) ? mc_nan() : r; }}"
                ));
            }
            Instr::Select { dst, cond, t, f } => {
                let (tv, fv) = (self.op(*t)?, self.op(*f)?);
                let c = self.op(*cond)?;
                let d = self.dst(*dst)?;
                match cond {
                    Operand::Const(k) => {
                        let v = if k.is_nan() {
                            "mc_nan()".to_string()
                        } else if *k != 0.0 {
                            tv
                        } else {
                            fv
                        };
                        self.line(&format!("{d} = {v};"));
                    }
                    Operand::Slot(_) => self.line(&format!(
                        "{{ double k = {c}; double v = (k != 0.0) ? {tv} : {fv}; {d} = mc_isnan(k) ? mc_nan() : v; }}"
                    )),
                }
            }
            Instr::IfError { dst, a, alt } => {
                let (a, b) = (self.op(*a)?, self.op(*alt)?);
                let d = self.dst(*dst)?;
                self.line(&format!("{d} = mc_isnan({a}) ? {b} : {a};"));
            }
            Instr::IsError { dst, a, negate } => {
                let a = self.op(*a)?;
                let d = self.dst(*dst)?;
                self.line(&format!("{d} = (mc_isnan({a}) != {negate}) ? 1.0 : 0.0;"));
            }
            Instr::Call1 { f, dst, a } => {
                let name = match f {
                    Kernel1::Abs
                    | Kernel1::Sqrt
                    | Kernel1::Exp
                    | Kernel1::Ln
                    | Kernel1::Log10
                    | Kernel1::Int
                    | Kernel1::Sign => f.id(),
                    Kernel1::NormSInv => {
                        return Err(self.unsupported(format!("Call1 {}", f.id())));
                    }
                };
                let a = self.op(*a)?;
                let d = self.dst(*dst)?;
                self.line(&format!(
                    "{{ double x = {a}; {d} = mc_isnan(x) ? mc_nan() : mc_k1_{name}(x); }}"
                ));
            }
            Instr::Call2 { f, dst, a, b } => {
                let name = match f {
                    Kernel2::Mod
                    | Kernel2::Power
                    | Kernel2::Round
                    | Kernel2::RoundUp
                    | Kernel2::RoundDown => f.id(),
                    _ => return Err(self.unsupported(format!("Call2 {}", f.id()))),
                };
                let (a, b) = (self.op(*a)?, self.op(*b)?);
                let d = self.dst(*dst)?;
                self.line(&format!(
                    "{{ double x = {a}, y = {b}; {d} = (mc_isnan(x) || mc_isnan(y)) ? mc_nan() : mc_k2_{name}(x, y); }}"
                ));
            }
            Instr::Call3 { f, .. } => {
                return Err(self.unsupported(format!("Call3 {}", f.id())));
            }
            Instr::Reduce {
                op,
                dst,
                slots,
                konst,
                count,
            } => {
                let init = match (op, konst) {
                    (_, Some(k)) => *k,
                    (Reduce::Sum | Reduce::Average, None) => 0.0,
                    (Reduce::Product, None) => 1.0,
                    (Reduce::Min, None) => f64::INFINITY,
                    (Reduce::Max, None) => f64::NEG_INFINITY,
                };
                let xs = self.ops(&slots.iter().map(|s| Operand::Slot(*s)).collect::<Vec<_>>())?;
                let d = self.dst(*dst)?;
                let mut s = format!("{{ double v = {};", lit(init));
                for x in &xs {
                    let _ = match op {
                        Reduce::Sum | Reduce::Average => write!(s, " v += {x};"),
                        Reduce::Product => write!(s, " v *= {x};"),
                        Reduce::Min => {
                            write!(s, " v = (({x} < v) | mc_isnan({x})) ? {x} : v;")
                        }
                        Reduce::Max => {
                            write!(s, " v = (({x} > v) | mc_isnan({x})) ? {x} : v;")
                        }
                    };
                }
                match op {
                    Reduce::Average => {
                        let _ = write!(s, " v /= {};", lit(*count as f64));
                    }
                    // MIN/MAX of nothing numeric is 0.
                    Reduce::Min | Reduce::Max => s.push_str(" if (fabs(v) == mc_inf()) v = 0.0;"),
                    _ => s.push_str(" v = mc_fin(v);"),
                }
                let _ = write!(s, " {d} = v; }}");
                self.line(&s);
            }
            Instr::Npv { dst, rate, flows } => {
                let r = self.op(*rate)?;
                let fl = self.ops(flows)?;
                let d = self.dst(*dst)?;
                // `financial::npv`: disc *= 1 + rate; sum += flow / disc.
                let mut s = format!("{{ double r = {r}; double f = 1.0 + r, q = 1.0, v = 0.0;");
                for x in &fl {
                    let _ = write!(s, " q *= f; v += {x} / q;");
                }
                let _ = write!(
                    s,
                    " {d} = (r == -1.0 || mc_isnan(r)) ? mc_nan() : mc_fin(v); }}"
                );
                self.line(&s);
            }
            Instr::SumProduct { dst, a, b } => {
                let (xa, xb) = (self.ops(a)?, self.ops(b)?);
                let d = self.dst(*dst)?;
                let mut s = "{ double v = 0.0;".to_string();
                for (x, y) in xa.iter().zip(&xb) {
                    let _ = write!(s, " v += {x} * {y};");
                }
                let _ = write!(s, " {d} = mc_fin(v); }}");
                self.line(&s);
            }
            Instr::CountIf {
                dst,
                items,
                op,
                rhs,
            } => {
                let test = |x: f64| {
                    let e = near_eq(x, *rhs);
                    match op {
                        Cmp::Eq => e,
                        Cmp::Ne => !e,
                        Cmp::Lt => !e & (x < *rhs),
                        Cmp::Le => e | (x < *rhs),
                        Cmp::Gt => !e & (x > *rhs),
                        Cmp::Ge => e | (x > *rhs),
                    }
                };
                let t = match op {
                    Cmp::Eq => "e",
                    Cmp::Ne => "!e",
                    Cmp::Lt => "!e & (x < r)",
                    Cmp::Le => "e | (x < r)",
                    Cmp::Gt => "!e & (x > r)",
                    Cmp::Ge => "e | (x > r)",
                };
                let mut konst = 0.0;
                let mut s = format!("{{ double r = {}, v = 0.0;", lit(*rhs));
                for it in items {
                    match it {
                        Operand::Const(x) => konst += if test(*x) { 1.0 } else { 0.0 },
                        Operand::Slot(_) => {
                            let x = self.op(*it)?;
                            let _ = write!(
                                s,
                                " {{ double x = {x}; bool e = mc_near_eq(x, r); v += ({t}) ? 1.0 : 0.0; }}"
                            );
                        }
                    }
                }
                if konst != 0.0 {
                    let _ = write!(s, " v += {};", lit(konst));
                }
                let d = self.dst(*dst)?;
                let _ = write!(s, " {d} = v; }}");
                self.line(&s);
            }
            Instr::MatchExact { dst, key, items } => {
                let k = self.op(*key)?;
                let xs = self.ops(items)?;
                let d = self.dst(*dst)?;
                let mut s = format!("{{ double k = {k}, v = mc_nan(); if (!mc_isnan(k)) {{");
                for (j, x) in xs.iter().enumerate() {
                    let _ = write!(
                        s,
                        " {}if ({x} == k) v = {};",
                        if j > 0 { "else " } else { "" },
                        lit((j + 1) as f64)
                    );
                }
                let _ = write!(s, " }} {d} = v; }}");
                self.line(&s);
            }
            Instr::LookupApprox {
                dst,
                exact,
                key,
                keys,
                values,
            } => {
                let ks: Vec<f64> = keys
                    .iter()
                    .map(|o| match o {
                        Operand::Const(x) => *x,
                        Operand::Slot(_) => f64::NAN,
                    })
                    .collect();
                let k = self.op(*key)?;
                let vs = self.ops(values)?;
                let val = |j: usize| vs.get(j).cloned().unwrap_or_else(|| "mc_nan()".into());
                let mut s = format!("{{ double t = {k}, v = mc_nan(); if (!mc_isnan(t)) {{");
                if *exact {
                    // The first key equal to the number (a NaN key never is).
                    let mut first = true;
                    for (j, x) in ks.iter().enumerate() {
                        if x.is_nan() {
                            continue;
                        }
                        let _ = write!(
                            s,
                            " {}if (t == {}) v = {};",
                            if first { "" } else { "else " },
                            lit(*x),
                            val(j)
                        );
                        first = false;
                    }
                } else {
                    if !approx_is_linear(&ks) {
                        return Err(self.unsupported(
                            "LookupApprox over keys that are not strictly ascending numbers".into(),
                        ));
                    }
                    // Strictly ascending keys: the value beside the largest key <= t.
                    let mut first = true;
                    for (j, x) in ks.iter().enumerate().rev() {
                        let _ = write!(
                            s,
                            " {}if (t >= {}) v = {};",
                            if first { "" } else { "else " },
                            lit(*x),
                            val(j)
                        );
                        first = false;
                    }
                }
                let d = self.dst(*dst)?;
                let _ = write!(s, " }} {d} = v; }}");
                self.line(&s);
            }
            Instr::Quantile { vendor, dist, .. } => {
                return Err(self.unsupported(format!("Quantile {vendor} {dist}")));
            }
            Instr::Index { dst, items, idx } => {
                let p = self.op(*idx)?;
                let xs = self.ops(items)?;
                let d = self.dst(*dst)?;
                // `p as usize > len` is `p >= len + 1` for p >= 1.
                let mut s = format!(
                    "{{ double p = {p}, v = mc_nan(); if (!(mc_isnan(p) || p < 1.0 || p >= {})) switch ((long long)p) {{",
                    lit((xs.len() + 1) as f64)
                );
                for (j, x) in xs.iter().enumerate() {
                    let _ = write!(s, " case {}: v = {x}; break;", j + 1);
                }
                let _ = write!(s, " default: break; }} {d} = v; }}");
                self.line(&s);
            }
            Instr::Round {
                dst,
                a,
                scale,
                mode,
            } => {
                // `round_lane`'s digits and `math::round_to`'s power of ten, computed here by the
                // same Rust operations the CPU performs per lane.
                let digits = scale.log10().round();
                if !digits.is_finite() {
                    return Err(self.unsupported(format!("Round with scale {scale}")));
                }
                let dd = digits.trunc().clamp(-400.0, 400.0) as i32;
                let p = match usize::try_from(dd.unsigned_abs()) {
                    Ok(i) if i < crate::value::POW10.len() => crate::value::POW10[i],
                    _ => 10f64.powi(dd.abs()),
                };
                let m = match mode {
                    RoundMode::Nearest => 0,
                    RoundMode::Up => 1,
                    RoundMode::Down => 2,
                };
                let a = self.op(*a)?;
                let d = self.dst(*dst)?;
                self.line(&format!(
                    "{d} = mc_round_instr({a}, {}, {}, {}, {m});",
                    lit(*scale),
                    lit(p),
                    dd >= 0
                ));
            }
            Instr::Copy { dst, a } => {
                let a = self.op(*a)?;
                let d = self.dst(*dst)?;
                self.line(&format!("{d} = {a};"));
            }
        }
        Ok(())
    }
}

/// Do the executor's approximate lookups over `keys` pick the largest key `<=` the number, as a
/// chain of comparisons from the top does? Checked against
/// [`crate::functions::lookup::approx_asc_numbers`] at every key, between keys and outside them,
/// for strictly ascending finite keys (anything else is left to the CPU).
fn approx_is_linear(keys: &[f64]) -> bool {
    if keys.is_empty()
        || keys.iter().any(|k| !k.is_finite())
        || keys.windows(2).any(|w| w[0] >= w[1])
    {
        return false;
    }
    let linear = |t: f64| keys.iter().rposition(|&k| t >= k);
    let mut probes = vec![keys[0] - 1.0, f64::MAX, f64::MIN];
    for w in keys.windows(2) {
        probes.push(w[0] + (w[1] - w[0]) / 2.0);
    }
    for &k in keys {
        probes.extend([k, next_down(k), next_up(k)]);
    }
    probes
        .into_iter()
        .all(|t| crate::functions::lookup::approx_asc_numbers(keys, t) == linear(t))
}

fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        return f64::from_bits(1);
    }
    let b = x.to_bits();
    f64::from_bits(if x > 0.0 { b + 1 } else { b - 1 })
}

fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

#[cfg(test)]
#[path = "cuda_gen_tests.rs"]
mod tests;
