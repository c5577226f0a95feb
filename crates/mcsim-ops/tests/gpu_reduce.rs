#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]
//! The device reductions of streaming runs (`kernels/mcsim_hist.cuh`, `mcsim_reduce_segs`)
//! through the host shim: histograms, accumulator records and a quantile plan's selection, each
//! identical to what `mcsim_results::stream` computes from the same values on the CPU.

use mcsim_engine::sim::cuda_gen::host::{HostKernel, compiler, compiler_available};
use mcsim_engine::sim::cuda_gen::job::ReduceJob;
use mcsim_engine::sim::cuda_gen::{
    DEVICE_HELPERS, DEVICE_HIST, DEVICE_REDUCE, KERNEL_NAME, KernelSource,
};
use mcsim_ops::run::{collected_part, select_cells};
use mcsim_results::{
    BlockStats, Histogram, QuantilePlan, Resolved, SummaryOptions, summary_positions,
};

/// A kernel that copies its `cols` input columns to its outputs: the reductions then see
/// exactly the values the test chose (NaN, infinities, signed zeros, subnormals, point masses).
fn identity_kernel(cols: usize) -> KernelSource {
    let source = format!(
        "{DEVICE_HELPERS}\nextern \"C\" __global__ void {KERNEL_NAME}(const double* __restrict__ in, double* __restrict__ out, unsigned long long lanes, unsigned long long first) {{\n    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= lanes) return;\n    for (unsigned long long c = 0; c < {cols}ull; c++) out[c * lanes + i] = in[c * lanes + i];\n}}\n{DEVICE_REDUCE}{DEVICE_HIST}"
    );
    KernelSource {
        source,
        n_inputs: cols,
        n_outputs: cols,
    }
}

/// A deterministic pseudo-random stream (splitmix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Three columns: a wide spread with every special value, a narrow normal-like column (heavy
/// buckets), and a discrete column (point masses).
fn columns(lanes: usize) -> Vec<Vec<f64>> {
    let specials = [
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.0,
        -0.0,
        f64::MIN_POSITIVE / 8.0,
        -f64::MIN_POSITIVE / 8.0,
        f64::MAX,
        f64::MIN,
        5e-324,
    ];
    let wide = (0..lanes)
        .map(|i| {
            let r = mix(i as u64);
            if r.is_multiple_of(17) {
                specials[(r >> 8) as usize % specials.len()]
            } else {
                let u = (r >> 11) as f64 / (1u64 << 53) as f64;
                (u - 0.3) * 10f64.powi(((r >> 3) % 9) as i32 - 3)
            }
        })
        .collect();
    let narrow = (0..lanes)
        .map(|i| {
            let s: f64 = (0..4)
                .map(|k| (mix(i as u64 * 4 + k) >> 11) as f64 / (1u64 << 53) as f64)
                .sum();
            100.0 + (s - 2.0)
        })
        .collect();
    let discrete = (0..lanes)
        .map(|i| match mix(i as u64 + 7) % 5 {
            0 => 1.0,
            1 => 2.5,
            2 => -3.0,
            3 => f64::NAN,
            _ => 1000.0,
        })
        .collect();
    vec![wide, narrow, discrete]
}

fn skip() -> bool {
    if !compiler_available() {
        eprintln!(
            "SKIPPED: no host C++ compiler ({}): the device reductions were not run",
            compiler()
        );
        return true;
    }
    false
}

#[test]
fn device_histograms_and_records_equal_the_cpu_accumulators() {
    if skip() {
        return;
    }
    let lanes = 20_000;
    let cols = columns(lanes);
    let hk = HostKernel::compile(&identity_kernel(cols.len())).unwrap();
    // Blocks cut at 4096 and at an odd checkpoint; histogram parts cut at the checkpoint.
    let segments = vec![0, 3001, 4096, 8192, 12_288, 16_384, 20_000];
    let parts = vec![0, 3001, 20_000];
    let job = ReduceJob {
        segments: segments.clone(),
        hist_parts: parts.clone(),
        select: None,
    };
    let red = hk.run_job(&cols, lanes, 0, &job).unwrap();
    let nseg = segments.len() - 1;
    assert_eq!(red.records.len(), nseg * cols.len());
    assert_eq!(red.hists.len(), 2);
    for (c, col) in cols.iter().enumerate() {
        for b in 0..nseg {
            let xs = &col[segments[b] as usize..segments[b + 1] as usize];
            let mut cpu = BlockStats::new(&[]);
            cpu.add_block(xs);
            let r = red.records[c * nseg + b];
            let dev = BlockStats::from_parts(r.n, r.errors, r.sum, r.m2, r.m3, r.m4, r.min, r.max);
            // Debug prints each double's shortest round-trip form: equal text, equal bits.
            assert_eq!(
                format!("{dev:?}"),
                format!("{cpu:?}"),
                "column {c} block {b}"
            );
        }
        for p in 0..2 {
            let xs = &col[parts[p] as usize..parts[p + 1] as usize];
            let mut cpu = Histogram::new();
            cpu.add(xs);
            assert_eq!(red.hists[p][c], cpu.bucket_counts(), "column {c} part {p}");
            let mut dev = Histogram::new();
            dev.add_counts(&red.hists[p][c]).unwrap();
            assert_eq!(dev.to_dense(), cpu.to_dense());
        }
    }
    // The special values: NaN and infinities are not counted, -0.0 and +0.0 are two buckets.
    let wide = &red.hists[1][0];
    let key = |x: f64| {
        let b = x.to_bits();
        if b >> 63 == 1 { !b } else { b | (1 << 63) }
    };
    for x in [0.0, -0.0, f64::MAX, f64::MIN, 5e-324] {
        assert!(
            wide.iter().any(|e| e.0 == (key(x) >> 48) as u32),
            "{x:e} has no bucket"
        );
    }
    let counted: u64 = wide.iter().map(|e| e.1).sum();
    let finite = cols[0][3001..].iter().filter(|x| x.is_finite()).count() as u64;
    assert_eq!(counted, finite);
    // Point masses: the discrete column's buckets each hold one key.
    assert!(red.hists[0][2].iter().all(|e| e.2 != u64::MAX));
    // Several devices: the same reductions, merged.
    let two = mcsim_engine::sim::backend::run_split_reduced(
        &Shim {
            kernel: &hk,
            cols: &cols,
        },
        0,
        lanes,
        &job,
    )
    .unwrap();
    assert_eq!(format!("{two:?}"), format!("{red:?}"));
}

/// The host kernel as a two-device runner over fixed input columns.
struct Shim<'a> {
    kernel: &'a HostKernel,
    cols: &'a [Vec<f64>],
}

impl mcsim_engine::sim::backend::KernelRunner for Shim<'_> {
    fn name(&self) -> &'static str {
        "shim"
    }
    fn devices(&self) -> usize {
        2
    }
    fn columns(&self) -> usize {
        self.cols.len()
    }
    fn run(
        &self,
        _device: usize,
        _lanes: usize,
        _first: u64,
    ) -> Result<Vec<Vec<f64>>, mcsim_engine::sim::backend::BackendError> {
        unreachable!()
    }
    fn run_reduced(
        &self,
        _device: usize,
        lanes: usize,
        first: u64,
        job: &ReduceJob,
    ) -> Result<mcsim_engine::sim::cuda_gen::job::Reduced, mcsim_engine::sim::backend::BackendError>
    {
        let f = first as usize;
        let ins: Vec<Vec<f64>> = self.cols.iter().map(|c| c[f..f + lanes].to_vec()).collect();
        Ok(self.kernel.run_job(&ins, lanes, 0, job).unwrap())
    }
}

/// Debug text without ExactSum's `pending` (a count of additions since the last carry
/// propagation: bookkeeping, not the sum, which is in the limbs).
fn without_pending(s: String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(i) = rest.find("pending: ") {
        out.push_str(&rest[..i]);
        rest = rest[i + 9..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

#[test]
fn device_selection_resolves_to_the_cpu_collectors_order_statistics() {
    if skip() {
        return;
    }
    let lanes = 20_000;
    let cols = columns(lanes);
    let hk = HostKernel::compile(&identity_kernel(cols.len())).unwrap();
    let opts = SummaryOptions::default();
    // A budget that keeps the wide column's cells and counts the narrow one's (a refinement),
    // then the exact answer.
    for budget in [1usize << 20, 64] {
        let mut plans: Vec<QuantilePlan> = cols
            .iter()
            .map(|col| {
                let mut h = Histogram::new();
                let mut n = 0;
                for xs in col.chunks(4096) {
                    h.add(xs);
                    n += xs.iter().filter(|x| x.is_finite()).count() as u64;
                }
                QuantilePlan::new(&h, &summary_positions(n, &opts), budget)
            })
            .collect();
        let mut modes = std::collections::HashSet::new();
        for pass in 0..4 {
            let job = ReduceJob {
                segments: Vec::new(),
                hist_parts: Vec::new(),
                select: Some(plans.iter().map(select_cells).collect()),
            };
            for p in &plans {
                for c in p.cell_ranges() {
                    modes.insert(std::mem::discriminant(&c.kind));
                }
            }
            // Two chunks, as a run feeds them.
            let half = lanes / 2;
            let parts: Vec<_> = [(0, half), (half, lanes)]
                .iter()
                .map(|&(a, b)| {
                    let ins: Vec<Vec<f64>> = cols.iter().map(|c| c[a..b].to_vec()).collect();
                    hk.run_job(&ins, b - a, 0, &job).unwrap()
                })
                .collect();
            let mut done = true;
            for (c, col) in cols.iter().enumerate() {
                let mut cpu = plans[c].collector();
                for xs in col.chunks(4096) {
                    cpu.add(xs);
                }
                let mut dev = plans[c].collector();
                for part in &parts {
                    let s = &part.selected[c];
                    dev.add_collected(&collected_part(s)).unwrap();
                }
                let (a, b) = (plans[c].resolve(cpu), plans[c].resolve(dev));
                match (a, b) {
                    (Resolved::Done(x), Resolved::Done(y)) => {
                        assert_eq!(x.values(), y.values(), "column {c}");
                        assert_eq!(
                            without_pending(format!("{x:?}")),
                            without_pending(format!("{y:?}")),
                            "column {c}"
                        );
                    }
                    (Resolved::Refine(x), Resolved::Refine(y)) => {
                        assert_eq!(format!("{x:?}"), format!("{y:?}"), "column {c}");
                        plans[c] = y;
                        done = false;
                    }
                    (x, y) => panic!("column {c} pass {pass}: {x:?} vs {y:?}"),
                }
            }
            if done {
                break;
            }
        }
        if budget == 64 {
            // Keep, Count and Known cells were all exercised.
            assert_eq!(modes.len(), 3, "budget {budget}");
        }
    }
}
