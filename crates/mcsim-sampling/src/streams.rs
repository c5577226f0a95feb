//! Counter-based uniform streams and the Latin Hypercube design.
//!
//! # The uniform grid
//!
//! Every uniform is `(2k + 1)·2⁻⁵³` for a 52-bit integer k: the midpoints of 2⁵² equal cells of
//! (0, 1). So 0 and 1 never occur, every value is exact, and `1 − u` is on the same grid (exact
//! too), which lets quantile functions read upper tails from `1 − u` without losing digits.
//! (Taking 53 bits and adding half an ulp would round the top value to exactly 1.0.)
//!
//! # Reproducibility
//!
//! The uniform of input `k` at iteration `i` is a pure function of (seed, k, i): ChaCha8 keyed by
//! the seed, stream `k`, word position `2i` (one `u64` per iteration). A block of iterations seeks
//! once and then draws sequentially, so any split of the iteration range into blocks, over any
//! number of threads, gives the same bits.
//!
//! Latin Hypercube sampling uses fixed design blocks of [`DESIGN_BLOCK`] iterations aligned to
//! absolute iteration indices: iteration `i` lies in block `i / B` and stratum
//! `perm(i mod B)`, where `perm` is a keyed bijection of [0, B) (a Feistel network), keyed by
//! (seed, k, block). The stratum is the top 14 bits of the 52-bit grid index and the jitter is the
//! stream's 38 high bits, so LHS uniforms lie on the same grid and exactly one falls in each
//! stratum of a full block.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Iterations per Latin Hypercube (and Iman-Conover) design block, aligned to absolute iteration
/// indices: block `b` is iterations `b·DESIGN_BLOCK .. (b+1)·DESIGN_BLOCK`.
pub const DESIGN_BLOCK: usize = 1 << DESIGN_BITS;
const DESIGN_BITS: u32 = 14;
/// Bits of the 52-bit grid index left for the jitter within a stratum.
const JITTER_BITS: u32 = 52 - DESIGN_BITS;
/// 2⁻⁵², the grid step.
const GRID: f64 = 1.0 / (1u64 << 52) as f64;
/// ChaCha words (u32) consumed per iteration.
const WORDS_PER_SAMPLE: u128 = 2;

/// How the uniforms of an input are drawn.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Independent uniforms.
    MonteCarlo,
    /// Latin Hypercube: one sample per stratum of each design block (@RISK's default).
    #[default]
    LatinHypercube,
}

/// Maps a 52-bit grid index to its uniform `(2k + 1)·2⁻⁵³`.
#[inline(always)]
fn grid_uniform(k: u64) -> f64 {
    (k as f64 + 0.5) * GRID
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

/// A keyed bijection on [0, n): a balanced Feistel network on the smallest even number of bits
/// covering n, with cycle walking for values that land in [n, 2^bits).
#[derive(Debug, Clone)]
pub(crate) struct Permutation {
    n: u64,
    half_bits: u32,
    half_mask: u64,
    keys: [u64; Permutation::ROUNDS],
}

impl Permutation {
    const ROUNDS: usize = 6;

    pub(crate) fn new(n: u64, key: u64) -> Permutation {
        let bits = (64 - n.saturating_sub(1).leading_zeros()).max(2);
        let half_bits = bits.div_ceil(2);
        let mut keys = [0u64; Self::ROUNDS];
        for (r, k) in keys.iter_mut().enumerate() {
            *k = mix64(key ^ mix64(r as u64 + 1));
        }
        Permutation {
            n,
            half_bits,
            half_mask: (1u64 << half_bits) - 1,
            keys,
        }
    }

    #[inline(always)]
    fn encrypt(&self, x: u64) -> u64 {
        let mut left = x >> self.half_bits;
        let mut right = x & self.half_mask;
        for &k in &self.keys {
            let f = mix64(right ^ k) & self.half_mask;
            let next = left ^ f;
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    /// The round functions as lookup tables, when the halves have at most 8 bits (n <= 65536):
    /// the same bijection, without the per-sample hashing.
    fn tabulate(&self) -> Option<TabledPermutation> {
        if self.half_bits > 8 {
            return None;
        }
        let size = 1usize << self.half_bits;
        let mut rounds = [[0u16; 256]; Permutation::ROUNDS];
        for (table, &k) in rounds.iter_mut().zip(&self.keys) {
            for (x, f) in table.iter_mut().take(size).enumerate() {
                *f = (mix64(x as u64 ^ k) & self.half_mask) as u16;
            }
        }
        Some(TabledPermutation {
            n: self.n,
            half_bits: self.half_bits,
            half_mask: self.half_mask,
            rounds,
        })
    }

    /// The image of `x` (`x < n`).
    #[inline(always)]
    pub(crate) fn apply(&self, x: u64) -> u64 {
        let mut y = self.encrypt(x);
        while y >= self.n {
            y = self.encrypt(y);
        }
        y
    }
}

/// A [`Permutation`] with its round functions tabulated.
struct TabledPermutation {
    n: u64,
    half_bits: u32,
    half_mask: u64,
    rounds: [[u16; 256]; Permutation::ROUNDS],
}

impl TabledPermutation {
    #[inline(always)]
    fn encrypt(&self, x: u64) -> u64 {
        let mut left = x >> self.half_bits;
        let mut right = x & self.half_mask;
        for table in &self.rounds {
            let next = left ^ u64::from(table[right as usize]);
            left = right;
            right = next;
        }
        (left << self.half_bits) | right
    }

    #[inline(always)]
    fn apply(&self, x: u64) -> u64 {
        let mut y = self.encrypt(x);
        while y >= self.n {
            y = self.encrypt(y);
        }
        y
    }
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

    /// Fills `out` with the Monte Carlo uniforms of `input` for iterations
    /// `first_iteration .. first_iteration + out.len()`, each in (0, 1).
    pub fn fill_uniforms(&self, input: u64, first_iteration: u64, out: &mut [f64]) {
        let mut rng = self.rng(input, first_iteration);
        for v in out.iter_mut() {
            *v = grid_uniform(rng.next_u64() >> 12);
        }
    }

    /// Fills `out` with the Latin Hypercube uniforms of `input` for iterations
    /// `first_iteration .. first_iteration + out.len()`: in each full design block, exactly one
    /// value falls in each of the [`DESIGN_BLOCK`] strata `[j/B, (j+1)/B)`.
    pub fn fill_lhs_uniforms(&self, input: u64, first_iteration: u64, out: &mut [f64]) {
        let mut rng = self.rng(input, first_iteration);
        let mut i = first_iteration;
        let mut rest = out;
        while !rest.is_empty() {
            let block = i >> DESIGN_BITS;
            let offset = (i & (DESIGN_BLOCK as u64 - 1)) as usize;
            let take = (DESIGN_BLOCK - offset).min(rest.len());
            let (head, tail) = rest.split_at_mut(take);
            let perm = self.lhs_permutation(input, block);
            let mut put = |stratum: u64, v: &mut f64| {
                let jitter = rng.next_u64() >> (64 - JITTER_BITS);
                *v = grid_uniform((stratum << JITTER_BITS) | jitter);
            };
            // Tabulating the rounds costs 6·2⁷ hashes: worth it beyond a few dozen samples.
            match perm.tabulate().filter(|_| take >= 64) {
                Some(t) => {
                    for (j, v) in head.iter_mut().enumerate() {
                        put(t.apply((offset + j) as u64), v);
                    }
                }
                None => {
                    for (j, v) in head.iter_mut().enumerate() {
                        put(perm.apply((offset + j) as u64), v);
                    }
                }
            }
            i += take as u64;
            rest = tail;
        }
    }

    /// The stratum permutation of an input's design block.
    pub(crate) fn lhs_permutation(&self, input: u64, block: u64) -> Permutation {
        Permutation::new(
            DESIGN_BLOCK as u64,
            hash_words(&[self.seed, 0x004c_4853, input, block]),
        )
    }

    /// Fills `out` with uniforms by `method`.
    pub fn fill(&self, method: Method, input: u64, first_iteration: u64, out: &mut [f64]) {
        match method {
            Method::MonteCarlo => self.fill_uniforms(input, first_iteration, out),
            Method::LatinHypercube => self.fill_lhs_uniforms(input, first_iteration, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection_for_awkward_sizes() {
        for &n in &[1u64, 2, 3, 5, 17, 1000, 16384, 10007] {
            let p = Permutation::new(n, 42);
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = p.apply(x) as usize;
                assert!(!seen[y], "n={n} repeated {y}");
                seen[y] = true;
            }
        }
    }

    #[test]
    fn tabled_permutation_is_the_same_bijection() {
        for &n in &[5u64, 1000, 16384, 65536] {
            let p = Permutation::new(n, 7);
            let t = p.tabulate().unwrap_or_else(|| unreachable!());
            assert!((0..n).all(|x| p.apply(x) == t.apply(x)));
        }
    }

    #[test]
    fn grid_extremes_stay_inside_the_open_interval() {
        assert_eq!(grid_uniform(0), 2f64.powi(-53));
        let top = grid_uniform((1u64 << 52) - 1);
        assert!(top < 1.0);
        assert_eq!(1.0 - top, 2f64.powi(-53));
    }
}
