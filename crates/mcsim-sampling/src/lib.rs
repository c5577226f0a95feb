//! mcsim's sampler: the distributions of @RISK's `Risk*` functions, counter-based random streams,
//! Latin Hypercube sampling and Iman-Conover rank correlation, built so that the same seed gives
//! the same samples whatever the thread count, block size or shard.
//!
//! # Main types
//!
//! - [`Distribution`]: the @RISK distributions with their parameters in @RISK's order,
//!   [`Distribution::validate`] (errors name the rule broken), closed-form [`Distribution::mean`]
//!   and [`Distribution::variance`], [`Distribution::quantile`] and [`Distribution::cdf`].
//! - [`Sampler`]: a distribution prepared once (tables, converted parameters, `RiskTruncate` as a
//!   window of the uniform, `RiskShift`) that turns blocks of uniforms into samples by inverse CDF
//!   in one tight loop per distribution, allocating nothing.
//! - [`Streams`]: the uniform of the input with stream key k at iteration i is a pure function of
//!   (seed, k, i) (ChaCha8, stream k, word position 2i); [`Streams::fill_lhs_uniforms`]
//!   stratifies every input over the whole run of N iterations with a keyed random-access
//!   permutation of the N strata, so any slice of iterations is computed on its own.
//! - [`stream_key`]: an input's stream key from its identity (sheet, row, column, call index), so
//!   adding or fixing other inputs never changes its draws.
//! - [`CorrelationPlan`]: Iman-Conover rank correlation applied per design block of
//!   [`DESIGN_BLOCK`] iterations, with repair of a matrix that is not positive semi-definite.
//! - [`sample_block`]: fills the column-major block of many inputs.
//!
//! Every sampler is an inverse CDF, so samples are monotone in their uniforms: Latin Hypercube
//! strata and Iman-Conover ranks carry over to every distribution, truncation included.
//!
//! ```
//! use mcsim_sampling::{
//!     sample_block, stream_key, Distribution, Method, Modifiers, Sampler, Streams, Truncation,
//! };
//!
//! let inputs = [
//!     Sampler::new(&Distribution::Pert { min: 10.0, mode: 12.0, max: 20.0, lambda: 4.0 })?,
//!     Sampler::with_modifiers(
//!         &Distribution::Normal { mean: 100.0, sd: 15.0 },
//!         Modifiers { truncate: Some(Truncation { min: Some(80.0), max: None }), shift: 0.0 },
//!     )?,
//! ];
//! let streams = Streams::new(42);
//! let n = 4096;
//! let mut block = vec![0.0; inputs.len() * n];
//! let keys = [stream_key("Inputs", 2, 1, 0), stream_key("Inputs", 3, 1, 0)];
//! // Iterations 8192..12288 of a 20,000-iteration run, column-major: input 0 then input 1.
//! sample_block(&inputs, &keys, Method::LatinHypercube, &streams, 20_000, 8192, &mut block)?;
//! assert!(block[n..].iter().all(|&x| x >= 80.0));
//! # Ok::<(), mcsim_sampling::SamplingError>(())
//! ```
#![deny(missing_docs)]

mod correlation;
mod device;
mod distribution;
mod error;
pub mod fmath;
mod inverse;
mod kind;
mod lanes;
mod permutation;
mod sampler;
mod special;
mod streams;
mod tables;

pub use correlation::{CorrelationPlan, Repair};
pub use device::{
    DeviceForm, DeviceQuintic, DeviceRegion, DeviceSampler, DeviceTable, DeviceWindow,
};
pub use distribution::{DEFAULT_PERT_LAMBDA, Distribution};
pub use error::SamplingError;
pub use sampler::{Modifiers, Sampler, Truncation, sample_block};
/// The standard normal quantile (AS241), shared with the engine's NORM.S.INV so that every path
/// computes it identically.
pub use special::{ln_gamma, normal_quantile, regularized_beta, regularized_gamma};
pub use streams::{DESIGN_BLOCK, Method, Streams, stream_key};

/// Whether this processor has AVX-512 (F, DQ, VL and BW), for which the hottest lane loops of
/// mcsim (the sampler's inverse CDFs, the engine's block program, some of the statistics) have
/// a second compilation on 512-bit vectors. Both compilations compute the same IEEE operations
/// on each lane, so the same bits; the standard library caches the answer.
///
/// [`on_wide_lanes`] runs a piece of code on that second compilation.
#[cfg(target_arch = "x86_64")]
pub fn wide_lanes() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
        && std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512bw")
}

/// Runs `f`, compiled a second time for AVX-512 when this processor has it ([`wide_lanes`]):
/// `f`'s body, and what it inlines, is compiled into an AVX-512 copy of this function, so its
/// lane loops run on 512-bit vectors. Code that must stay the same bits on both compilations
/// must not depend on the compilation: the same IEEE operations on each lane (Rust never fuses a
/// multiply and an add by itself) and no `cfg!(target_feature)`. Mark the closure
/// `#[inline(always)]` (it has two call sites here, and a large closure called twice is not
/// inlined otherwise), and the functions it calls with loops that matter likewise: a function `f`
/// calls without inlining it (a rayon task, a large function) runs as compiled for the build's
/// target.
#[inline]
pub fn on_wide_lanes<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if wide_lanes() {
        #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
        fn wide<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[allow(unsafe_code)]
        // SAFETY: `wide` needs the AVX-512 features it is compiled for, and `wide_lanes` has
        // just found them on this processor.
        return unsafe { wide(f) };
    }
    f()
}
