//! What another backend (the CUDA code generator and its tests) needs from a prepared model: the
//! compiled program, and input columns drawn as a run draws them.

use super::prepare::Prepared;
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
