//! Keyed random-access permutations of `[0, n)` for any `n`: a Feistel network on mixed radix
//! (`x = l·b + r` with `l < a`, `r < b`, `a = ⌈√n⌉`, `b = ⌈n/a⌉`), with cycle walking for the
//! fewer than `a` values of `[n, a·b)`.
//!
//! Each round maps `(l, r)` (`l < a`, `r < b`) to `(r, (l + F(r)) mod a)`, so the shape alternates
//! between `a×b` and `b×a` and comes back after an even number of rounds; every round is
//! invertible, so the whole is a bijection of `[0, a·b)`. Because `a·b − n < a ≈ √n`, a value
//! almost never needs walking: the loop is branch-predictable, unlike a binary Feistel network on
//! the next power of four, which walks up to 3 times in 4.
//!
//! The round functions are keyed 64-bit hashes reduced into range by multiply-high. For a
//! contiguous range of inputs, [`Permutation::for_range`] tabulates them and steps `(l, r)`
//! without dividing. The tables of a permutation depend only on its keys and shape, so each thread
//! keeps the tables it has built (up to [`CACHE_BYTES`]): a run builds them once per input and
//! thread instead of once per task. Tables are only a faster way to evaluate the same round
//! functions; the values never depend on whether they are used.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use crate::streams::mix64;

/// Feistel rounds (even, so the shape returns to `a×b`). Four rounds of independent random
/// round functions make a strong pseudo-random permutation (Luby-Rackoff).
const ROUNDS: usize = 4;

/// `h` reduced into `[0, m)` by multiply-high (Lemire): unbiased to within `m/2⁶⁴`.
#[inline(always)]
fn reduce(h: u64, m: u64) -> u64 {
    ((u128::from(h) * u128::from(m)) >> 64) as u64
}

/// `(x + y) mod m` for `x, y < m`.
#[inline(always)]
fn add_mod(x: u64, y: u64, m: u64) -> u64 {
    let s = x + y;
    if s >= m { s - m } else { s }
}

/// Values per chunk of [`Permutation::images_into`].
const CHUNK: usize = 64;

/// Tables larger than this many entries (`u32`s) are only built for one call, when that call
/// alone pays for them, never cached: 2¹⁶ entries (256 KiB) is `a + b ≤ 2¹⁵`, `n` up to about
/// 2.7·10⁸.
const CACHE_ENTRIES_MAX: u64 = 1 << 16;

/// Bytes of tables a thread keeps before it forgets them all and starts again.
const CACHE_BYTES: usize = 64 << 20;

/// What identifies a permutation's tables: `(a, b, keys)`.
type TableId = (u64, u64, [u64; ROUNDS]);

/// A thread's tables, by permutation (shape and keys, compared exactly).
#[derive(Default)]
struct TableCache {
    tables: HashMap<TableId, Rc<Tables>, BuildHasherDefault<KeyHasher>>,
    bytes: usize,
}

/// Hashes cache keys, which are already random (keyed 64-bit hashes): a multiply-fold of the words
/// is enough, and cheaper than SipHash on every call of a small block.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(23) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, w: usize) {
        self.write_u64(w as u64);
    }
}

thread_local! {
    static TABLES: RefCell<TableCache> = RefCell::new(TableCache::default());
}

/// A keyed bijection of `[0, n)`.
#[derive(Debug, Clone)]
pub(crate) struct Permutation {
    n: u64,
    a: u64,
    b: u64,
    keys: [u64; ROUNDS],
}

/// The round functions of a [`Permutation`] as tables: round `i` maps `r` (`< b` in even rounds,
/// `< a` in odd ones) to `F_i(r)` reduced mod `a` (even) or `b` (odd).
struct Tables {
    /// `ROUNDS` tables, concatenated; `start[i]` is where round `i`'s begins.
    values: Vec<u32>,
    start: [usize; ROUNDS],
}

impl Permutation {
    /// The permutation of `[0, n)` for `key` (`n = 0` is taken as 1).
    pub(crate) fn new(n: u64, key: u64) -> Permutation {
        let n = n.max(1);
        let mut a = n.isqrt();
        if a * a < n {
            a += 1;
        }
        let b = n.div_ceil(a);
        let mut keys = [0u64; ROUNDS];
        for (r, k) in keys.iter_mut().enumerate() {
            *k = mix64(key ^ mix64(r as u64 + 1));
        }
        Permutation { n, a, b, keys }
    }

    /// The modulus of round `round`'s output.
    #[inline(always)]
    fn modulus(&self, round: usize) -> u64 {
        if round.is_multiple_of(2) {
            self.a
        } else {
            self.b
        }
    }

    /// One pass of the network on `(l, r)` (`l < a`, `r < b`), as a number in `[0, a·b)`.
    #[inline(always)]
    fn encrypt_parts(&self, mut l: u64, mut r: u64) -> u64 {
        for (round, &k) in self.keys.iter().enumerate() {
            let m = self.modulus(round);
            let next = add_mod(l, reduce(mix64(r ^ k), m), m);
            l = r;
            r = next;
        }
        l * self.b + r
    }

    /// The same pass with tabulated round functions (`rounds[i]` is round `i`'s table).
    #[inline(always)]
    fn encrypt_tabled(&self, rounds: &[&[u32]; ROUNDS], mut l: u64, mut r: u64) -> u64 {
        for pair in rounds.chunks_exact(2) {
            // a×b → b×a → a×b.
            let f = pair[0].get(r as usize).copied().unwrap_or(0);
            let next = add_mod(l, u64::from(f), self.a);
            l = r;
            r = next;
            let f = pair[1].get(r as usize).copied().unwrap_or(0);
            let next = add_mod(l, u64::from(f), self.b);
            l = r;
            r = next;
        }
        l * self.b + r
    }

    #[inline(always)]
    fn encrypt(&self, x: u64) -> u64 {
        self.encrypt_parts(x / self.b, x % self.b)
    }

    /// The image of `x` (`x < n`).
    #[cfg(test)]
    pub(crate) fn apply(&self, x: u64) -> u64 {
        let mut y = self.encrypt(x);
        while y >= self.n {
            y = self.encrypt(y);
        }
        y
    }

    fn tabulate(&self) -> Tables {
        let mut values = Vec::with_capacity(ROUNDS / 2 * (self.a + self.b) as usize);
        let mut start = [0usize; ROUNDS];
        for (round, &k) in self.keys.iter().enumerate() {
            start[round] = values.len();
            let m = self.modulus(round);
            // Even rounds read r < b, odd rounds r < a.
            let domain = if round.is_multiple_of(2) {
                self.b
            } else {
                self.a
            };
            values.extend((0..domain).map(|r| reduce(mix64(r ^ k), m) as u32));
            // Padded with zeros to a power of two, so that `images_into` indexes with a mask
            // (no bounds-check branch); entries past the domain are never read.
            let padded = (domain as usize).next_power_of_two();
            values.resize(start[round] + padded, 0);
        }
        Tables { values, start }
    }

    /// The tables for a call on `count` values: the thread's cached ones, or new ones (cached
    /// when small enough), or none when evaluating directly costs fewer hashes.
    fn tables_for(&self, count: usize) -> Option<Rc<Tables>> {
        // Tables hold u32 values (a, b ≤ 2³² always) and cost ROUNDS/2·(a + b) hashes; direct
        // evaluation costs ROUNDS per value.
        let entries = (self.a + self.b).saturating_mul(ROUNDS as u64 / 2);
        let pays_now = entries <= (count as u64).saturating_mul(ROUNDS as u64);
        if entries > CACHE_ENTRIES_MAX {
            return pays_now.then(|| Rc::new(self.tabulate()));
        }
        let id = (self.a, self.b, self.keys);
        TABLES
            .try_with(|cache| {
                let mut cache = cache.try_borrow_mut().ok()?;
                if let Some(t) = cache.tables.get(&id) {
                    return Some(Rc::clone(t));
                }
                let t = Rc::new(self.tabulate());
                let bytes = t.values.len() * size_of::<u32>() + 64;
                if cache.bytes + bytes > CACHE_BYTES {
                    cache.tables.clear();
                    cache.bytes = 0;
                }
                cache.bytes += bytes;
                cache.tables.insert(id, Rc::clone(&t));
                Some(t)
            })
            .ok()
            .flatten()
            .or_else(|| pays_now.then(|| Rc::new(self.tabulate())))
    }

    /// Calls `put` with the images of `first, first + 1, .., first + count − 1` (all `< n`), in
    /// order. Uses tabulated round functions (see [`Permutation::tables_for`]).
    pub(crate) fn for_range(&self, first: u64, count: usize, put: impl FnMut(u64)) {
        let (l, r) = (first / self.b, first % self.b);
        let tables = self.tables_for(count);
        let rounds: Option<[&[u32]; ROUNDS]> = tables.as_ref().map(|t| {
            std::array::from_fn(|i| {
                let end = t.start.get(i + 1).copied().unwrap_or(t.values.len());
                &t.values[t.start[i]..end]
            })
        });
        // One loop per way of evaluating the rounds, so the choice is not made per value.
        match &rounds {
            Some(t) => self.walk(l, r, count, put, |l, r| self.encrypt_tabled(t, l, r)),
            None => self.walk(l, r, count, put, |l, r| self.encrypt_parts(l, r)),
        }
    }

    /// Stores the images of `first, first + 1, .., first + out.len() − 1` (all `< n`) in `out`, as
    /// integer bits (`f64::from_bits(image)`): the values of [`Permutation::for_range`], computed
    /// round by round over chunks of [`CHUNK`] values when the round functions are tabulated, so
    /// that the table reads of different values overlap instead of forming one long chain.
    pub(crate) fn images_into(&self, first: u64, out: &mut [f64]) {
        let tables = self.tables_for(out.len());
        let Some(t) = tables.as_deref() else {
            return self.images_walked(first, out);
        };
        let rounds: [&[u32]; ROUNDS] = std::array::from_fn(|i| {
            let end = t.start.get(i + 1).copied().unwrap_or(t.values.len());
            t.values.get(t.start[i]..end).unwrap_or(&[])
        });
        // Each table's length is a power of two (see `tabulate`).
        if rounds.iter().any(|t| !t.len().is_power_of_two()) {
            return self.images_walked(first, out);
        }
        let (a, b) = (self.a, self.b);
        let mut digits = (first / b, first % b);
        for chunk in out.chunks_mut(CHUNK) {
            let mut ls = [0u64; CHUNK];
            let mut rs = [0u64; CHUNK];
            self.chunk_digits(&mut digits, &mut ls, &mut rs);
            // a×b → b×a → a×b, twice; each round over the whole chunk.
            for (round, table) in rounds.iter().enumerate() {
                let m = if round.is_multiple_of(2) { a } else { b };
                let mask = table.len() - 1;
                let table = table.get(..=mask).unwrap_or(&[0]);
                let mask = table.len() - 1;
                for (x, y) in ls.iter_mut().zip(rs.iter_mut()) {
                    let f = table[*y as usize & mask];
                    let s = *x + u64::from(f);
                    let next = if s >= m { s - m } else { s };
                    *x = *y;
                    *y = next;
                }
            }
            self.put_images(chunk, &ls, &rs);
        }
    }

    /// The digits `(l, r)` of the next [`CHUNK`] values from `digits` (the next value's), which
    /// it advances past them, into `ls` and `rs`. Within a row of the `a×b` grid (no carry into `l`, the common
    /// case) the lanes are `r + i`, with no dependency from one lane to the next.
    #[inline(always)]
    fn chunk_digits(&self, digits: &mut (u64, u64), ls: &mut [u64; CHUNK], rs: &mut [u64; CHUNK]) {
        let (l, r) = digits;
        let b = self.b;
        if *r + CHUNK as u64 <= b {
            for (i, (x, y)) in ls.iter_mut().zip(rs.iter_mut()).enumerate() {
                (*x, *y) = (*l, *r + i as u64);
            }
            *r += CHUNK as u64;
            if *r == b {
                *r = 0;
                *l += 1;
            }
        } else {
            for (x, y) in ls.iter_mut().zip(rs.iter_mut()) {
                (*x, *y) = (*l, *r);
                *r += 1;
                if *r == b {
                    *r = 0;
                    *l += 1;
                }
            }
        }
    }

    /// Stores the images `l·b + r` of a chunk's digits after the rounds, as integer bits, in one
    /// branch-free pass; the rare values of `[n, a·b)` (fewer than `a` of them in the whole
    /// range) are walked afterwards.
    #[inline(always)]
    fn put_images(&self, chunk: &mut [f64], ls: &[u64; CHUNK], rs: &[u64; CHUNK]) {
        let (b, n) = (self.b, self.n);
        let mut outside = false;
        for ((v, &x), &y) in chunk.iter_mut().zip(ls).zip(rs) {
            let image = x * b + y;
            outside |= image >= n;
            *v = f64::from_bits(image);
        }
        if outside {
            for v in chunk.iter_mut() {
                let mut image = v.to_bits();
                while image >= n {
                    image = self.encrypt(image);
                }
                *v = f64::from_bits(image);
            }
        }
    }

    /// [`Permutation::images_into`] through [`Permutation::for_range`].
    fn images_walked(&self, first: u64, out: &mut [f64]) {
        let count = out.len();
        let mut values = out.iter_mut();
        self.for_range(first, count, |y| {
            if let Some(v) = values.next() {
                *v = f64::from_bits(y);
            }
        });
    }

    /// Calls `put` with the images of `count` values from `(l, r)` on, `encrypt` applying one
    /// pass of the network.
    #[inline(always)]
    fn walk(
        &self,
        mut l: u64,
        mut r: u64,
        count: usize,
        mut put: impl FnMut(u64),
        encrypt: impl Fn(u64, u64) -> u64,
    ) {
        for _ in 0..count {
            let mut y = encrypt(l, r);
            while y >= self.n {
                y = self.encrypt(y);
            }
            put(y);
            r += 1;
            if r == self.b {
                r = 0;
                l += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_bijection_for_awkward_sizes() {
        for &n in &[1u64, 2, 3, 5, 17, 1000, 16384, 10007, 99_999] {
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
    fn ranges_match_single_values_tabled_or_not() {
        for &n in &[5u64, 1000, 65536, 100_003, 1 << 40] {
            let p = Permutation::new(n, 7);
            for (first, count) in [(0u64, 3000usize), (n.saturating_sub(10), 10), (n / 3, 1)] {
                let count = count.min((n - first) as usize);
                let mut got = Vec::new();
                p.for_range(first, count, |y| got.push(y));
                let want: Vec<u64> = (first..first + count as u64).map(|x| p.apply(x)).collect();
                assert_eq!(got, want, "n {n} first {first}");
            }
        }
    }

    #[test]
    fn images_into_matches_single_values() {
        for &n in &[1u64, 5, 63, 1000, 65536, 100_003, 1 << 40] {
            let p = Permutation::new(n, 9);
            for (first, count) in [(0u64, 3000usize), (n.saturating_sub(70), 70), (n / 3, 1)] {
                let first = first.min(n - 1);
                let count = count.min((n - first) as usize);
                let want: Vec<u64> = (first..first + count as u64).map(|x| p.apply(x)).collect();
                let mut got = vec![0.0; count];
                p.images_into(first, &mut got);
                let got: Vec<u64> = got.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "n {n} first {first}");
            }
        }
    }

    #[test]
    fn cached_tables_give_the_images_of_direct_evaluation() {
        // Short calls: the first builds and caches the tables, later ones (other offsets, other
        // permutations of the same shape in between) read them back.
        let n = 1_000_003u64;
        let (p, q) = (Permutation::new(n, 11), Permutation::new(n, 12));
        for first in [0u64, 5, n / 2, n - 3] {
            for perm in [&p, &q] {
                let mut got = Vec::new();
                perm.for_range(first, 3, |y| got.push(y));
                let want: Vec<u64> = (first..first + 3).map(|x| perm.apply(x)).collect();
                assert_eq!(got, want, "first {first}");
            }
        }
        // Entries for p and q, each keyed by the full keys (equal shapes do not share).
        let cached = TABLES.with(|c| {
            let c = c.borrow();
            [&p, &q].map(|perm| c.tables.contains_key(&(perm.a, perm.b, perm.keys)))
        });
        assert_eq!(cached, [true, true]);
    }

    #[test]
    fn keys_give_unrelated_orders() {
        // Two keys' orders of 10,000 values: Spearman correlation within 4/√n of 0.
        let n = 10_000u64;
        let (p, q) = (Permutation::new(n, 1), Permutation::new(n, 2));
        let m = (n as f64 - 1.0) / 2.0;
        let (mut cov, mut var) = (0.0, 0.0);
        for x in 0..n {
            let (a, b) = (p.apply(x) as f64 - m, q.apply(x) as f64 - m);
            cov += a * b;
            var += a * a;
        }
        assert!((cov / var).abs() < 0.04, "{}", cov / var);
        // Nor is an order correlated with the identity.
        let cov: f64 = (0..n)
            .map(|x| (x as f64 - m) * (p.apply(x) as f64 - m))
            .sum();
        assert!((cov / var).abs() < 0.04, "{}", cov / var);
    }
}
