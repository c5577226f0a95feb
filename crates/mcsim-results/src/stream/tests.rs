//! End-to-end tests of the streaming statistics against the in-memory ones.

#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use crate::sorted::SortedColumn;
use crate::{Sensitivity, Summary, SummaryOptions};

/// A small deterministic generator (tests only need reproducible, roughly uniform numbers).
struct Rng(u64);

impl Rng {
    fn u(&mut self) -> f64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (a, b) = (self.u(), self.u());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
}

fn options() -> SummaryOptions {
    SummaryOptions::default()
        .with_percentile(0.0)
        .with_percentile(1.0)
        .with_percentile(0.333)
        .with_risk_level(0.01)
        .with_risk_level(0.5)
        .with_target(0.0)
        .with_target(100.0)
}

/// Streams `xs` in blocks: pass 1 (block stats + histogram), then passes until resolved.
fn streamed(
    xs: &[f64],
    opts: &SummaryOptions,
    budget: usize,
    block: usize,
) -> (BlockStats, Summary, u32) {
    let mut stats = BlockStats::new(&opts.targets);
    let mut hist = Histogram::new();
    for c in xs.chunks(block.max(1)) {
        stats.add_block(c);
        let mut h = Histogram::new();
        h.add(c);
        hist.merge(&h);
    }
    let positions = summary_positions(stats.n(), opts);
    let mut plan = QuantilePlan::new(&hist, &positions, budget);
    let mut passes = 1;
    loop {
        passes += 1;
        assert_eq!(plan.pass_number(), passes);
        assert!(plan.kept_values() <= budget as u64);
        // Collectors per block, merged in reverse order: the result must not care.
        let mut parts: Vec<Collector> = xs
            .chunks(block.max(1))
            .map(|c| {
                let mut col = plan.collector();
                col.add(c);
                col
            })
            .collect();
        let mut acc = plan.collector();
        while let Some(p) = parts.pop() {
            acc.merge(p);
        }
        match plan.resolve(acc) {
            Resolved::Done(order) => {
                let s = Summary::from_stats_order(&stats, &order, opts).unwrap();
                return (stats, s, passes);
            }
            Resolved::Refine(p) => plan = p,
            Resolved::Failed(e) => panic!("{e}"),
        }
        assert!(passes <= 5, "too many passes");
    }
}

fn check(name: &str, xs: &[f64], budget: usize, block: usize) -> u32 {
    let opts = options();
    let (stats, s, passes) = streamed(xs, &opts, budget, block);
    let sorted = SortedColumn::new(xs).sorted;
    let from_sorted = Summary::from_stats_sorted(&stats, &sorted, &opts).unwrap();
    // Identical, bit for bit (JSON: shortest round-trip floats, -0.0 kept, NaN as null).
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        serde_json::to_string(&from_sorted).unwrap(),
        "{name}"
    );
    // Percentiles, VaR, targets, min, max, n and errors equal the in-memory summary's bits; CVaR
    // within an ulp or so (compensated vs exact sum).
    let mem = Summary::compute(xs, 0, &opts).unwrap();
    let bits = |v: f64| v.to_bits();
    assert_eq!((s.n, s.errors), (mem.n, mem.errors), "{name}");
    assert_eq!(bits(s.min), bits(mem.min), "{name}");
    assert_eq!(bits(s.max), bits(mem.max), "{name}");
    for (a, b) in s.percentiles.iter().zip(&mem.percentiles) {
        assert_eq!(bits(a.value), bits(b.value), "{name} p{}", a.p);
    }
    for (a, b) in s.risk.iter().zip(&mem.risk) {
        assert_eq!(bits(a.var), bits(b.var), "{name} VaR {}", a.level);
        let tol = 1e-15 * b.cvar.abs().max(f64::MIN_POSITIVE);
        assert!(
            (a.cvar - b.cvar).abs() <= tol || (a.cvar.is_nan() && b.cvar.is_nan()),
            "{name} CVaR {} vs {}",
            a.cvar,
            b.cvar
        );
    }
    for (a, b) in s.targets.iter().zip(&mem.targets) {
        assert_eq!(bits(a.p_below), bits(b.p_below), "{name}");
        assert_eq!(bits(a.p_above), bits(b.p_above), "{name}");
    }
    if mem.n > 1 && mem.variance > 0.0 {
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(s.mean, mem.mean) < 1e-14, "{name} mean");
        assert!(rel(s.std_dev, mem.std_dev) < 1e-13, "{name} sd");
    }
    passes
}

#[test]
fn order_statistics_are_exact_on_many_shapes() {
    let mut r = Rng(1);
    let n = 50_000;
    let normal: Vec<f64> = (0..n).map(|_| 100.0 + r.normal()).collect();
    let lognormal: Vec<f64> = (0..n).map(|_| (0.5 * r.normal()).exp() * 1e4).collect();
    let ties: Vec<f64> = (0..n)
        .map(|i| {
            if i % 3 == 0 {
                (r.u() * 5.0).floor()
            } else {
                r.u() * 20.0
            }
        })
        .collect();
    let negatives: Vec<f64> = (0..n)
        .map(|i| match i % 50 {
            0 => -0.0,
            1 => 0.0,
            _ => r.normal() * 1e3 - 200.0,
        })
        .collect();
    let errors: Vec<f64> = (0..n)
        .map(|i| match i % 37 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            _ => r.normal(),
        })
        .collect();
    let budget = 1 << 20;
    for (name, xs) in [
        ("normal", &normal),
        ("lognormal", &lognormal),
        ("ties", &ties),
        ("negatives", &negatives),
        ("errors", &errors),
    ] {
        for block in [1000, 4096] {
            assert_eq!(
                check(name, xs, budget, block),
                2,
                "{name}: one pass after histogram"
            );
        }
    }
    // Point masses only (a discrete output): nothing is kept, still one pass (for CVaR sums).
    let discrete: Vec<f64> = (0..n).map(|_| (r.u() * 7.0).floor() * 2.5).collect();
    check("discrete", &discrete, 0, 1000);
}

#[test]
fn tiny_budgets_refine_and_stay_exact() {
    let mut r = Rng(2);
    let normal: Vec<f64> = (0..30_000).map(|_| 100.0 + r.normal()).collect();
    for budget in [0, 10, 1000] {
        let passes = check("normal, tiny budget", &normal, budget, 997);
        assert!(passes > 2, "budget {budget} should need refinement");
        assert!(passes <= 5);
    }
    let ties: Vec<f64> = (0..30_000)
        .map(|i| if i % 2 == 0 { 7.0 } else { r.u() })
        .collect();
    check("ties, tiny budget", &ties, 5, 1000);
}

#[test]
fn degenerate_columns() {
    check("one value", &[3.25], 100, 10);
    check("all equal", &[2.0; 1000], 0, 64);
    check("all errors", &[f64::NAN; 10], 100, 3);
    check("empty", &[], 100, 3);
    check("two", &[5.0, -1.0], 0, 1);
    // VaR exactly at -0.0 with +0.0 values after it: CVaR counts the zeros as at or below.
    let mut z = vec![-5.0, -4.0];
    z.extend([-0.0; 50]);
    z.extend([0.0; 50]);
    z.extend((0..99).map(f64::from)); // n = 201: VaR at 10 % reads position 20 exactly
    let opts = SummaryOptions {
        percentiles: vec![0.1, 0.5],
        risk_levels: vec![0.1, 0.3, 0.45],
        targets: vec![0.0],
    };
    for budget in [0, 1000] {
        let (stats, s, _) = streamed(&z, &opts, budget, 7);
        let sorted = SortedColumn::new(&z).sorted;
        let want = Summary::from_stats_sorted(&stats, &sorted, &opts).unwrap();
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
        assert_eq!(s.risk[0].var.to_bits(), (-0.0f64).to_bits());
    }
}

#[test]
fn a_pass_over_other_values_fails() {
    let xs: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5).collect();
    let mut h = Histogram::new();
    h.add(&xs);
    let plan = QuantilePlan::new(&h, &[10, 500, 990], 1000);
    let mut c = plan.collector();
    c.add(&xs[..999]);
    assert!(matches!(plan.resolve(c), Resolved::Failed(_)));
    let other = QuantilePlan::new(&h, &[10], 1000);
    assert!(matches!(
        plan.resolve(other.collector()),
        Resolved::Failed(_)
    ));
    // Missing positions and targets are errors, not wrong numbers.
    let mut stats = BlockStats::new(&[]);
    stats.add_block(&xs);
    let mut c = plan.collector();
    c.add(&xs);
    let Resolved::Done(order) = plan.resolve(c) else {
        panic!("expected Done")
    };
    assert!(Summary::from_stats_order(&stats, &order, &SummaryOptions::default()).is_err());
    let opts = SummaryOptions {
        percentiles: vec![0.5],
        risk_levels: vec![],
        targets: vec![1.0],
    };
    assert!(Summary::from_stats_order(&stats, &order, &opts).is_err());
}

#[test]
fn rank_map_is_exact_for_point_masses_and_bounded_otherwise() {
    let mut r = Rng(3);
    let xs: Vec<f64> = (0..20_000)
        .map(|i| {
            if i % 2 == 0 {
                (r.u() * 12.0).floor()
            } else {
                r.normal() * 3.0 + 30.0
            }
        })
        .collect();
    let mut h = Histogram::new();
    h.add(&xs);
    let sorted = SortedColumn::new(&xs).sorted;
    let map = RankMap::new(&h, sorted[0], sorted[sorted.len() - 1]);
    assert_eq!(map.n(), xs.len() as u64);
    let exact = crate::ranks(&xs);
    let entries: Vec<_> = h.counts.entries().collect();
    for (&x, &want) in xs.iter().zip(&exact) {
        let got = map.rank(x);
        let e = entries
            .iter()
            .find(|e| e.bucket == (crate::sorted::key(x) >> 48) as u16)
            .unwrap();
        if e.key != histogram::MANY_KEYS {
            assert_eq!(got, want, "point mass {x}");
        } else {
            assert!((got - want).abs() <= e.count as f64, "{x}: {got} vs {want}");
        }
    }
    assert!(map.rank(f64::NAN).is_nan());
}

#[test]
fn streaming_sensitivity_matches_exact_figures() {
    let mut r = Rng(4);
    let n = 40_000;
    let a: Vec<f64> = (0..n).map(|_| r.normal()).collect();
    let b: Vec<f64> = (0..n).map(|_| (r.u() * 10.0).floor()).collect();
    let c: Vec<f64> = (0..n).map(|_| 5.0).collect();
    // Narrow (2 % CV): most values in two top-level buckets, ranked through their detail.
    let d: Vec<f64> = (0..n).map(|_| 100.0 + 2.0 * r.normal()).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| {
            if i % 101 == 7 {
                f64::NAN
            } else {
                3.0 * a[i] + b[i] + d[i] + 0.5 * r.normal()
            }
        })
        .collect();
    let cols = [&a, &b, &c, &d, &y];
    let mut hists = vec![Histogram::new(); 5];
    let mut stats = vec![BlockStats::new(&[]); 5];
    for (j, col) in cols.iter().enumerate() {
        for block in col.chunks(4096) {
            hists[j].add(block);
            stats[j].add_block(block);
        }
    }
    let maps: Vec<RankMap> = (0..5)
        .map(|j| RankMap::new(&hists[j], stats[j].min(), stats[j].max()))
        .collect();
    let mut total = SensitivityStats::new(4);
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let mut s = SensitivityStats::new(4);
        s.add_block(
            &[&maps[0], &maps[1], &maps[2], &maps[3]],
            &[
                stats[0].mean(),
                stats[1].mean(),
                stats[2].mean(),
                stats[3].mean(),
            ],
            &[
                &a[start..end],
                &b[start..end],
                &c[start..end],
                &d[start..end],
            ],
            &maps[4],
            stats[4].mean(),
            &y[start..end],
        );
        total.merge(&s);
    }
    let got = Sensitivity::from_stream("y", &["a", "b", "c", "d"], &total);
    let want =
        Sensitivity::compute("y", &y, &[("a", &a), ("b", &b), ("c", &c), ("d", &d)]).unwrap();
    assert_eq!(got.n, want.n);
    for (g, w) in got.entries.iter().zip(&want.entries) {
        match (g.spearman, w.spearman) {
            (Some(x), Some(z)) => assert!((x - z).abs() < 1e-3, "{}: {x} vs {z}", g.input),
            (x, z) => assert_eq!(x.is_some(), z.is_some(), "{}", g.input),
        }
        match (g.src, w.src) {
            (Some(x), Some(z)) => assert!((x - z).abs() < 1e-10, "{}: {x} vs {z}", g.input),
            (x, z) => assert_eq!(x.is_some(), z.is_some(), "{}", g.input),
        }
    }
    let json = serde_json::to_string(&total).unwrap();
    let back: SensitivityStats = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn quantile_estimates_are_close_in_rank() {
    // Narrow and wide distributions, fed in blocks as a run does.
    let mut r = Rng(6);
    let narrow: Vec<f64> = (0..100_000).map(|_| 100.0 + r.normal()).collect();
    let wide: Vec<f64> = (0..100_000).map(|_| (2.0 * r.normal()).exp()).collect();
    for xs in [&narrow, &wide] {
        let mut h = Histogram::new();
        let mut s = BlockStats::new(&[]);
        for c in xs.chunks(4096) {
            h.add(c);
            s.add_block(c);
        }
        let sorted = SortedColumn::new(xs).sorted;
        let n = sorted.len() as f64;
        for p in [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] {
            let est = h.quantile_estimate(p, s.min(), s.max());
            let rank = sorted.partition_point(|&v| v < est) as f64 / (n - 1.0);
            assert!((rank - p).abs() < 2e-3, "p {p}: estimate at rank {rank}");
        }
        assert!(h.quantile_estimate(1.5, s.min(), s.max()).is_nan());
        assert_eq!(h.quantile_estimate(0.0, s.min(), s.max()), s.min());
    }
}

#[test]
fn exact_detail_narrows_what_a_pass_keeps() {
    // A narrow column: half its values in one bucket. Every block makes its buckets heavy, so
    // their detail counts every value, and the plan keeps 1/256-bucket ranges only.
    let mut r = Rng(8);
    let xs: Vec<f64> = (0..200_000).map(|_| 100.0 + r.normal()).collect();
    let opts = SummaryOptions::default();
    let mut h = Histogram::new();
    let mut s = BlockStats::new(&[]);
    for c in xs.chunks(4096) {
        h.add(c);
        s.add_block(c);
    }
    let positions = summary_positions(s.n(), &opts);
    let need = QuantilePlan::new(&h, &positions, usize::MAX).kept_values();
    assert!(need < xs.len() as u64 / 20, "keeps {need}");
    let (_, got, passes) = streamed(&xs, &opts, need as usize, 4096);
    assert_eq!(passes, 2);
    let mem = Summary::compute(&xs, 0, &opts).unwrap();
    for (a, b) in got.percentiles.iter().zip(&mem.percentiles) {
        assert_eq!(a.value.to_bits(), b.value.to_bits());
    }
}

#[test]
fn prepared_sensitivity_blocks_give_the_bits_of_add_block() {
    // Inputs with an error row now and then; outputs: one clean, one with errors on rows where
    // the inputs are finite (falls back to `add_block`), one shorter than the inputs.
    let n = 20_000;
    let mut r = Rng(17);
    let a: Vec<f64> = (0..n)
        .map(|i| if i % 997 == 3 { f64::NAN } else { r.normal() })
        .collect();
    let b: Vec<f64> = (0..n).map(|_| 50.0 + 5.0 * r.u()).collect();
    let c: Vec<f64> = (0..n).map(|_| 100.0 + 2.0 * r.normal()).collect();
    let y0: Vec<f64> = (0..n).map(|i| 3.0 * a[i] + b[i] - c[i]).collect();
    let y1: Vec<f64> = (0..n)
        .map(|i| if i % 101 == 7 { f64::NAN } else { b[i] * c[i] })
        .collect();
    let cols = [&a, &b, &c, &y0, &y1];
    let mut hists = vec![Histogram::new(); 5];
    let mut stats = vec![BlockStats::new(&[]); 5];
    for (j, col) in cols.iter().enumerate() {
        for block in col.chunks(4096) {
            hists[j].add(block);
            stats[j].add_block(block);
        }
    }
    let maps: Vec<RankMap> = (0..5)
        .map(|j| RankMap::new(&hists[j], stats[j].min(), stats[j].max()))
        .collect();
    let ranks = [&maps[0], &maps[1], &maps[2]];
    let means = [stats[0].mean(), stats[1].mean(), stats[2].mean()];
    let outputs: [(&[f64], usize); 3] = [(&y0, 3), (&y1, 4), (&y0, 3)];
    let mut direct: Vec<SensitivityStats> = (0..3).map(|_| SensitivityStats::new(3)).collect();
    let mut prepared: Vec<SensitivityStats> = direct.clone();
    for start in (0..n).step_by(4096) {
        let end = (start + 4096).min(n);
        let ins = [&a[start..end], &b[start..end], &c[start..end]];
        let block = SensitivityBlock::new(&ranks, &means, &ins);
        for (o, &(y, m)) in outputs.iter().enumerate() {
            // The third output is one row short in every block.
            let y = if o == 2 {
                &y[start..end - 1]
            } else {
                &y[start..end]
            };
            direct[o].add_block(&ranks, &means, &ins, &maps[m], stats[m].mean(), y);
            prepared[o].add_prepared(&block, &maps[m], stats[m].mean(), y);
        }
    }
    for (d, p) in direct.iter().zip(&prepared) {
        assert!(d.n() > 19_000, "{}", d.n());
        assert_eq!(
            serde_json::to_string(d).unwrap(),
            serde_json::to_string(p).unwrap()
        );
    }
    assert!(direct[1].n() < direct[0].n(), "the error rows are dropped");
    // Stats centred elsewhere keep their centres (the fallback), as `add_block` does.
    let other = [1.0, 2.0, 3.0];
    let ins = [&a[..4096], &b[..4096], &c[..4096]];
    let (mut d, mut p) = (SensitivityStats::new(3), SensitivityStats::new(3));
    d.add_block(&ranks, &other, &ins, &maps[3], 0.0, &y0[..4096]);
    p.add_block(&ranks, &other, &ins, &maps[3], 0.0, &y0[..4096]);
    d.add_block(&ranks, &means, &ins, &maps[3], 0.0, &y0[..4096]);
    p.add_prepared(
        &SensitivityBlock::new(&ranks, &means, &ins),
        &maps[3],
        0.0,
        &y0[..4096],
    );
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        serde_json::to_string(&p).unwrap()
    );
}
