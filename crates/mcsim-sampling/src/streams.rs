//! Counter-based uniform streams, stream keys and the Latin Hypercube design.
//!
//! # The uniform grid
//!
//! Every uniform is `(2k + 1)·2⁻⁵³` for a 52-bit integer k: the midpoints of 2⁵² equal cells of
//! (0, 1). So 0 and 1 never occur, every value is exact, and `1 − u` is on the same grid (exact
//! too), which lets quantile functions read upper tails from `1 − u` without losing digits.
//! (Taking 53 bits and adding half an ulp would round the top value to exactly 1.0.)
//!
//! # Stream keys
//!
//! Each input draws from its own stream, named by a 64-bit key derived from the input's identity
//! ([`stream_key`]: sheet, row, column and the index of the distribution call in the formula),
//! never from its position in a list. Adding, removing or fixing another input therefore leaves
//! an input's draws unchanged.
//!
//! # Reproducibility
//!
//! The Monte Carlo uniform of the input with key `k` at iteration `i` is a pure function of
//! (seed, k, i): ChaCha8 keyed by the seed, stream `k`, word position `2i` (one `u64` per
//! iteration). A block of iterations seeks once and then draws sequentially, so any split of the
//! iteration range into blocks, over any number of threads, gives the same bits.
//!
//! # Latin Hypercube over the whole run
//!
//! A run of `N` iterations is one Latin Hypercube design of `N` strata per input: iteration `i`
//! of input `k` falls in stratum `π_k(i)`, where `π_k` is a keyed bijection of `[0, N)` (a
//! mixed-radix Feistel network with cycle walking, keyed by (seed, k, N)) that can be evaluated at any `i`
//! on its own. Its uniform is `(π_k(i) + v)/N` with `v` the stream's uniform jitter, computed on
//! the 52-bit grid: grid cell `⌊(π_k(i)·2⁵² + J)/N⌋` for the stream's 52 random bits `J`. Strata
//! are thus a partition of the grid (stratum `s` is the cells `⌊s·2⁵²/N⌋ ..` up to the next
//! stratum's first cell), and every iteration of the run lands in a different one. The value is a
//! pure function of (seed, k, N, i): any thread, chunk or shard computes its own slice.
//!
//! Iterations at or past `N` (never reached by a run of `N` iterations) continue with further
//! designs of `N` strata: iteration `i` uses design `i / N`, stratum `π_{k, i/N}(i mod N)`.

use crate::permutation::Permutation;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Iterations per Iman-Conover design block, aligned to absolute iteration indices: block `b` is
/// iterations `b·DESIGN_BLOCK .. (b+1)·DESIGN_BLOCK`. (Latin Hypercube strata span the whole run;
/// see the module documentation.)
pub const DESIGN_BLOCK: usize = 1 << 14;
/// Random bits of a grid index.
const GRID_BITS: u32 = 52;
/// The last grid cell.
const MAX_CELL: u64 = (1 << GRID_BITS) - 1;
/// 2⁻⁵², the grid step.
const GRID: f64 = 1.0 / (1u64 << GRID_BITS) as f64;
/// ChaCha words (u32) consumed per iteration.
const WORDS_PER_SAMPLE: u128 = 2;

/// The key of an input's random stream, from its identity: the sheet name (as stored in the
/// workbook, case included), the cell's row and column (from 0) and `call`, the index of the
/// distribution call within the cell's formula (0 for a cell that holds one distribution, and for
/// an input from a model file).
///
/// The hash is fixed here (FNV-1a 64 over the name's UTF-8 bytes, a separator and the three
/// numbers in little-endian, then the SplitMix64 finaliser) and will not change between releases:
/// the same cell gets the same stream in every version, whatever other inputs the model has.
///
/// ```
/// use mcsim_sampling::stream_key;
/// assert_eq!(stream_key("Sheet1", 0, 0, 0), stream_key("Sheet1", 0, 0, 0));
/// assert_ne!(stream_key("Sheet1", 0, 0, 0), stream_key("Sheet1", 0, 0, 1));
/// assert_ne!(stream_key("Sheet1", 1, 0, 0), stream_key("Sheet1", 0, 1, 0));
/// ```
pub fn stream_key(sheet: &str, row: u32, col: u32, call: u32) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    for &b in sheet.as_bytes() {
        eat(b);
    }
    // 0xFF never occurs in UTF-8: the name cannot run into the numbers.
    eat(0xff);
    for n in [row, col, call] {
        for b in n.to_le_bytes() {
            eat(b);
        }
    }
    mix64(h)
}

/// How the uniforms of an input are drawn.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Independent uniforms.
    MonteCarlo,
    /// Latin Hypercube: one sample per stratum, the strata spanning the whole run (@RISK's
    /// default).
    #[default]
    LatinHypercube,
}

/// Maps a 52-bit grid index to its uniform `(2k + 1)·2⁻⁵³`.
#[inline(always)]
fn grid_uniform(k: u64) -> f64 {
    (k as f64 + 0.5) * GRID
}

/// `k as f64` for `k < 2⁵²`, through the bits of `2⁵² + k` (exact; AVX2 has no 64-bit
/// integer-to-float conversion, this vectorises).
#[inline(always)]
fn small_to_f64(k: u64) -> f64 {
    f64::from_bits(k | TWO52_BITS) - TWO52
}

/// `y as u64` for `0 <= y <= 2⁵²` (truncation, exact; the float-to-integer counterpart of
/// [`small_to_f64`]).
#[inline(always)]
fn small_to_u64(y: f64) -> u64 {
    (y.trunc() + TWO52).to_bits() - TWO52_BITS
}

/// 2⁵² and its bit pattern.
const TWO52: f64 = (1u64 << 52) as f64;
const TWO52_BITS: u64 = 0x4330_0000_0000_0000;

/// The high 64 bits of `x·y`, from 32-bit halves (which vectorise as 32×32→64 multiplies, unlike
/// a `u128` product).
#[inline(always)]
fn mul_hi(x: u64, y: u64) -> u64 {
    const LO: u64 = 0xffff_ffff;
    let (xl, xh, yl, yh) = (x & LO, x >> 32, y & LO, y >> 32);
    let (ll, lh, hl, hh) = (xl * yl, xl * yh, xh * yl, xh * yh);
    let mid = (ll >> 32) + (lh & LO) + (hl & LO);
    hh + (lh >> 32) + (hl >> 32) + (mid >> 32)
}

/// Iterations per chunk of the vectorised Latin Hypercube loop.
const LANES: usize = 8;

/// The grid uniforms of `LANES` Latin Hypercube iterations of a design of `n <= 2⁵²` strata
/// (`c = 2⁵²/n`): `out` holds each iteration's stratum as integer bits and gets its uniform, the
/// stratum's cell picked by the top 52 bits of `words`. The same integers as the scalar loop in
/// [`Streams::fill_lhs_uniforms`] (`base(s) = ⌊s·c⌋` with the same float product), so the same
/// bits.
#[inline(always)]
fn lane_cells(out: &mut [f64; LANES], words: &[u64; LANES], n: u64, c: f64) {
    for (v, &w) in out.iter_mut().zip(words) {
        let s = v.to_bits();
        // base(s) for s < n: ⌊s·c⌋ ≤ 2⁵² (s·c < 2⁵², rounding at most to 2⁵²), capped at the
        // last cell; base(n) is 2⁵².
        let base = |s: u64| {
            let b = small_to_u64(small_to_f64(s) * c).min(MAX_CELL);
            if s >= n { 1u64 << GRID_BITS } else { b }
        };
        let (lo, hi) = (base(s), base(s + 1));
        let offset = mul_hi(w & !0xfff, hi.saturating_sub(lo));
        *v = (small_to_f64((lo + offset).min(MAX_CELL)) + 0.5) * GRID;
    }
}

/// A strong 64-bit mixer (the SplitMix64 / MurmurHash3 finaliser).
#[inline(always)]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hashes a sequence of words into a key.
pub(crate) fn hash_words(words: &[u64]) -> u64 {
    words.iter().fold(0x243f_6a88_85a3_08d3, |h, &w| {
        mix64(h.wrapping_add(GOLDEN) ^ w)
    })
}

/// The random streams of a simulation: one per input, addressed by iteration.
#[derive(Debug, Clone)]
pub struct Streams {
    seed: u64,
    key: [u8; 32],
}

impl Streams {
    /// Streams for a seed. The ChaCha key is the seed expanded by SplitMix64 (fixed here, so it
    /// cannot change with a `rand` release).
    pub fn new(seed: u64) -> Streams {
        let mut key = [0u8; 32];
        let mut state = seed;
        for chunk in key.chunks_exact_mut(8) {
            state = state.wrapping_add(GOLDEN);
            chunk.copy_from_slice(&mix64(state).to_le_bytes());
        }
        Streams { seed, key }
    }

    /// The ChaCha key (read by [`Streams::chacha_key`]).
    pub(crate) fn key_bytes(&self) -> [u8; 32] {
        self.key
    }

    /// The seed these streams were made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn rng(&self, input: u64, first_iteration: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(input);
        rng.set_word_pos(u128::from(first_iteration) * WORDS_PER_SAMPLE);
        rng
    }

    /// Fills `out` with the Monte Carlo uniforms of the input with stream key `input` for iterations
    /// `first_iteration .. first_iteration + out.len()`, each in (0, 1).
    pub fn fill_uniforms(&self, input: u64, first_iteration: u64, out: &mut [f64]) {
        let mut rng = self.rng(input, first_iteration);
        for v in out.iter_mut() {
            *v = grid_uniform(rng.next_u64() >> 12);
        }
    }

    /// Fills `out` with the Latin Hypercube uniforms of the input with stream key `key` for
    /// iterations `first_iteration .. first_iteration + out.len()` of a run of `iterations`
    /// iterations: over iterations `0 .. iterations`, exactly one value falls in each of the
    /// `iterations` strata (see the module documentation). `iterations = 0` is taken as 1.
    pub fn fill_lhs_uniforms(
        &self,
        key: u64,
        iterations: u64,
        first_iteration: u64,
        out: &mut [f64],
    ) {
        self.fill_lhs_uniforms_keeping(key, iterations, first_iteration, out, &mut []);
    }

    /// [`fill_lhs_uniforms`](Streams::fill_lhs_uniforms), also writing each value's stratum
    /// (the [`lhs_strata`](Streams::lhs_strata) of its iteration, as the sampling computes it
    /// anyway) into `strata`, when `strata` is as long as `out`; an empty `strata` is left alone.
    /// The strata of iterations past the first `iterations` (a second design) are those of
    /// their own design. A stratum is truncated to `u32`: ask only when `iterations` fits one.
    pub fn fill_lhs_uniforms_keeping(
        &self,
        key: u64,
        iterations: u64,
        first_iteration: u64,
        out: &mut [f64],
        strata: &mut [u32],
    ) {
        let keep = strata.len() == out.len();
        let mut strata = strata;
        let n = iterations.max(1);
        let mut rng = self.rng(key, first_iteration);
        let mut i = first_iteration;
        let mut rest = out;
        while !rest.is_empty() {
            let design = i / n;
            let offset = i % n;
            let take = usize::try_from(n - offset).map_or(rest.len(), |r| r.min(rest.len()));
            let (head, tail) = rest.split_at_mut(take);
            let perm = self.lhs_permutation(key, n, design);
            // Stratum s is the grid cells [base(s), base(s + 1)), base(s) = ⌊s·c⌋ with
            // c = 2⁵²/N in floating point: exact IEEE products, so a partition of the grid
            // (increasing while c ≥ 2, i.e. N ≤ 2⁵¹) within a cell of [s/N, (s+1)/N).
            let c = (1u64 << GRID_BITS) as f64 / n as f64;
            let base = |s: u64| {
                if s >= n {
                    1u64 << GRID_BITS
                } else {
                    // Through i64: one conversion instruction each way on x86-64 (s < N ≤ 2⁶³
                    // in any run; the product is below 2⁵³).
                    ((s as i64 as f64 * c) as i64 as u64).min(MAX_CELL)
                }
            };
            // Two passes, each a tight loop: the strata (parked in `head` as integer bits), then
            // each stratum's cell from the stream.
            perm.images_into(offset, head);
            if keep {
                let (kept, later) = std::mem::take(&mut strata).split_at_mut(take);
                for (k, v) in kept.iter_mut().zip(head.iter()) {
                    *k = v.to_bits() as u32;
                }
                strata = later;
            }
            let cell = |stratum: u64, word: u64| {
                let (lo, hi) = (base(stratum), base(stratum + 1));
                // The top 52 bits of the stream's word, scaled into the stratum's cells.
                let word = word & !0xfff;
                let offset = (u128::from(word) * u128::from(hi.saturating_sub(lo))) >> 64;
                grid_uniform((lo + offset as u64).min(MAX_CELL))
            };
            if n <= 1 << GRID_BITS {
                // The same cells, LANES at a time without 128-bit products or integer/float
                // conversions that AVX2 lacks (see `lane_cells`), so the loop vectorises.
                let mut chunks = head.chunks_exact_mut(LANES);
                for chunk in &mut chunks {
                    let Ok(chunk) = <&mut [f64; LANES]>::try_from(chunk) else {
                        continue;
                    };
                    let words: [u64; LANES] = std::array::from_fn(|_| rng.next_u64());
                    lane_cells(chunk, &words, n, c);
                }
                for v in chunks.into_remainder() {
                    *v = cell(v.to_bits(), rng.next_u64());
                }
            } else {
                for v in head.iter_mut() {
                    *v = cell(v.to_bits(), rng.next_u64());
                }
            }
            i += take as u64;
            rest = tail;
        }
    }

    /// The Latin Hypercube stratum (in `0 .. iterations`) of each of the first `iterations`
    /// iterations of the input with stream key `key`: iteration `i`'s uniform from
    /// [`fill_lhs_uniforms`](Streams::fill_lhs_uniforms) lies in stratum `out[i]`, and strata
    /// are increasing intervals of (0, 1). So when an input's values are a non-decreasing function
    /// of its uniform (an inverse CDF, uncorrelated), sorting its samples is ordering the
    /// iterations by stratum: statistics use this as a hint that they verify, never trust.
    /// `None` when `iterations` does not fit a `u32`.
    pub fn lhs_strata(&self, key: u64, iterations: u64) -> Option<Vec<u32>> {
        let n = u32::try_from(iterations.max(1)).ok()?;
        let perm = self.lhs_permutation(key, u64::from(n), 0);
        let mut out = Vec::with_capacity(iterations as usize);
        // The permutation's images are parked as integer bits in a f64 buffer, a chunk at a time.
        let mut buf = vec![0.0; 1 << 16];
        let mut first = 0u64;
        while first < iterations {
            let take = buf.len().min((iterations - first) as usize);
            let chunk = &mut buf[..take];
            perm.images_into(first, chunk);
            // An image is below n, which fits a u32.
            out.extend(chunk.iter().map(|v| v.to_bits() as u32));
            first += take as u64;
        }
        Some(out)
    }

    /// The stratum permutation of an input's design (`design` counts runs of `n` iterations; a
    /// run only ever uses design 0).
    pub(crate) fn lhs_permutation(&self, key: u64, n: u64, design: u64) -> Permutation {
        Permutation::new(n, hash_words(&[self.seed, 0x4c48_5332, key, n, design]))
    }

    /// Fills `out` with uniforms by `method` for iterations `first_iteration ..` of a run of
    /// `iterations` iterations (the Latin Hypercube design size; unused by Monte Carlo).
    pub fn fill(
        &self,
        method: Method,
        key: u64,
        iterations: u64,
        first_iteration: u64,
        out: &mut [f64],
    ) {
        match method {
            Method::MonteCarlo => self.fill_uniforms(key, first_iteration, out),
            Method::LatinHypercube => self.fill_lhs_uniforms(key, iterations, first_iteration, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar cell of stratum `s` (the formula `lane_cells` vectorises), with `u128`
    /// products and native conversions.
    fn scalar_cell(s: u64, word: u64, n: u64) -> f64 {
        let c = (1u64 << GRID_BITS) as f64 / n as f64;
        let base = |s: u64| {
            if s >= n {
                1u64 << GRID_BITS
            } else {
                ((s as i64 as f64 * c) as i64 as u64).min(MAX_CELL)
            }
        };
        let (lo, hi) = (base(s), base(s + 1));
        let offset = (u128::from(word & !0xfff) * u128::from(hi.saturating_sub(lo))) >> 64;
        grid_uniform((lo + offset as u64).min(MAX_CELL))
    }

    #[test]
    fn lane_cells_match_the_scalar_formula_bit_for_bit() {
        let mut z = 12345u64;
        for &n in &[
            1u64,
            2,
            3,
            1000,
            1 << 20,
            1_000_003,
            (1 << 32) + 7,
            1 << 51,
            1 << 52,
        ] {
            let c = (1u64 << GRID_BITS) as f64 / n as f64;
            for round in 0..2000u64 {
                let strata: [u64; LANES] = std::array::from_fn(|i| {
                    z = mix64(z.wrapping_add(i as u64 + 1));
                    match (round + i as u64) % 4 {
                        0 => 0,
                        1 => n - 1,
                        _ => z % n,
                    }
                });
                let words: [u64; LANES] = std::array::from_fn(|i| {
                    z = mix64(z ^ (i as u64 + round));
                    if round % 7 == 0 { u64::MAX } else { z }
                });
                let mut out = strata.map(f64::from_bits);
                lane_cells(&mut out, &words, n, c);
                for i in 0..LANES {
                    let want = scalar_cell(strata[i], words[i], n);
                    assert_eq!(out[i].to_bits(), want.to_bits(), "n {n} s {}", strata[i]);
                }
            }
        }
        assert_eq!(mul_hi(u64::MAX, u64::MAX), u64::MAX - 1);
    }

    #[test]
    fn grid_extremes_stay_inside_the_open_interval() {
        assert_eq!(grid_uniform(0), 2f64.powi(-53));
        let top = grid_uniform((1u64 << 52) - 1);
        assert!(top < 1.0);
        assert_eq!(1.0 - top, 2f64.powi(-53));
    }

    #[test]
    fn lhs_strata_order_the_uniforms() {
        // The stratum of each iteration is the rank (0-based) of its uniform among the run's.
        for n in [1u64, 2, 7, 1000, 70_001] {
            let s = Streams::new(99);
            let strata = s.lhs_strata(42, n).unwrap_or_default();
            assert_eq!(strata.len() as u64, n);
            let mut u = vec![0.0; n as usize];
            s.fill_lhs_uniforms(42, n, 0, &mut u);
            let mut idx: Vec<usize> = (0..u.len()).collect();
            idx.sort_by(|&a, &b| u[a].total_cmp(&u[b]));
            for (rank, &i) in idx.iter().enumerate() {
                assert_eq!(strata[i] as usize, rank, "n {n}, iteration {i}");
            }
        }
        assert!(Streams::new(1).lhs_strata(1, 1 << 33).is_none());
    }

    #[test]
    fn strata_kept_while_sampling_are_lhs_strata() {
        // Any split of the run, including one into a second design (iterations past n), and
        // one slice with nowhere to keep its strata: the same uniforms as without keeping, and
        // the strata of `lhs_strata` (of the slice's own design past n).
        let s = Streams::new(5);
        let n = 70_001u64;
        let whole = s.lhs_strata(3, n).unwrap_or_default();
        let mut want = vec![0.0; n as usize + 100];
        s.fill_lhs_uniforms(3, n, 0, &mut want);
        let mut got = vec![0.0; want.len()];
        let mut strata = vec![u32::MAX; want.len()];
        let cuts = [0usize, 1, 4096, 65_537, 69_990, want.len()];
        for (k, w) in cuts.windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            let keep: &mut [u32] = if k == 1 { &mut [] } else { &mut strata[a..b] };
            s.fill_lhs_uniforms_keeping(3, n, a as u64, &mut got[a..b], keep);
        }
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        for (i, &st) in strata.iter().enumerate() {
            if (cuts[1]..cuts[2]).contains(&i) {
                assert_eq!(st, u32::MAX, "iteration {i} has nowhere to go");
            } else if i < n as usize {
                assert_eq!(st, whole[i], "iteration {i}");
            } else {
                // The second design's stratum: where its uniform falls among n strata.
                assert_eq!(u64::from(st), (want[i] * n as f64) as u64, "iteration {i}");
            }
        }
    }
}
