
// mcsim on-device histograms and pass-2 selection, for streaming statistics without copying
// samples back (mcsim_results::stream).
//
// Every result here is a set of integer counts (and exact fixed-point sums), accumulated with
// atomics: integer addition is associative, so the order in which threads land does not change a
// bit, and the host merges chunks and devices in any order.
//
// - mcsim_hist: per column, the count of each of the 65,536 buckets of the f64 key's top 16 bits
//   (mcsim_results::stream::Histogram's buckets: the key is f64::total_cmp's order, mc_key), and
//   per bucket the one key it held (a point mass) or MC_MANY_KEYS, as BucketCounts::add does.
//   NaN and infinities (error iterations) are skipped, as Histogram::add skips them.
// - mcsim_select: QuantilePlan's pass over a column (Collector::add): the finite count, the +0.0
//   count, per cell of the plan the count, the exact sum and, by the cell's mode, the values
//   (Keep), the counts per next key bits (Count) or the values foreign to its one key (Known);
//   per gap below a cell the count and the exact sum.

#define MC_HIST_BUCKETS 65536ull
#define MC_NO_KEY 0ull
#define MC_MANY_KEYS 0xFFFFFFFFFFFFFFFFull
// ExactSum's limbs: 70 of 32 bits in i64 (two's complement in unsigned long long here).
#define MC_LIMBS 70

// BucketCounts' key summary: NO_KEY -> the key -> MANY_KEYS, whatever the order of the values.
__device__ __forceinline__ void mc_key_merge(unsigned long long* slot, unsigned long long k) {
    unsigned long long old = *slot;
    while (old != k && old != MC_MANY_KEYS) {
        unsigned long long want = old == MC_NO_KEY ? k : MC_MANY_KEYS;
        unsigned long long prev = atomicCAS(slot, old, want);
        if (prev == old) return;
        old = prev;
    }
}

// Counts key k in bucket b of (counts, keys).
__device__ __forceinline__ void mc_count(unsigned long long* counts, unsigned long long* keys, unsigned long long b, unsigned long long k) {
    atomicAdd(counts + b, 1ull);
    mc_key_merge(keys + b, k);
}

// ExactSum::add: |x| = m 2^(s - 1074), added as three 32-bit parts at limb s / 32.
__device__ __forceinline__ void mc_exact_add(unsigned long long* limbs, double x) {
    unsigned long long bits = (unsigned long long)__double_as_longlong(x);
    int neg = (int)(bits >> 63);
    unsigned long long e = (bits >> 52) & 0x7FFull;
    unsigned long long m = bits & ((1ull << 52) - 1);
    unsigned long long s = 0;
    if (e != 0) {
        m |= 1ull << 52;
        s = e - 1;
    }
    if (m == 0) return;
    unsigned int sh = (unsigned int)(s % 32);
    unsigned long long lo = m << sh;
    unsigned long long hi = sh == 0 ? 0ull : (m >> (64 - sh));
    unsigned long long p[3] = {lo & 0xFFFFFFFFull, lo >> 32, hi & 0xFFFFFFFFull};
    unsigned long long* l = limbs + s / 32;
    for (int j = 0; j < 3; j++) {
        if (p[j] != 0) atomicAdd(l + j, neg ? (0ull - p[j]) : p[j]);
    }
}

// Lanes [lo, hi) of each of `cols` columns of `lanes` (column-major in `out`): thread t takes
// column t / (hi - lo), lane lo + t % (hi - lo). counts and keys: MC_HIST_BUCKETS per column,
// zeroed by the caller (keys zero = MC_NO_KEY).
extern "C" __global__ void mcsim_hist(const double* __restrict__ out, unsigned long long* counts, unsigned long long* keys, unsigned long long lanes, unsigned long long cols, unsigned long long lo, unsigned long long hi) {
    unsigned long long t = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long width = hi - lo;
    if (hi <= lo || t >= width * cols) return;
    unsigned long long col = t / width, i = lo + t % width;
    double x = out[col * lanes + i];
    if (!mc_isfinite(x)) return;
    unsigned long long k = mc_key(x);
    mc_count(counts + col * MC_HIST_BUCKETS, keys + col * MC_HIST_BUCKETS, k >> 48, k);
}

// Cell modes (QuantilePlan's Mode).
#define MC_CELL_KEEP 0ull
#define MC_CELL_COUNT 1ull
#define MC_CELL_KNOWN 2ull

// Per column c the plan's cells are cells [cell_off[c], cell_off[c + 1]), ascending and disjoint;
// cell j is [cell_lo[j], cell_hi[j]] of keys with mode cell_mode[j] and:
//  Keep: values written at kept[cell_base[j] + atomicAdd(kept_n[j], 1)] while below cell_cap[j];
//  Count: counted per bucket (k >> cell_arg[j]) & cell_arg2[j] into sub_counts/sub_keys at
//    cell_base[j] * MC_HIST_BUCKETS (one block of MC_HIST_BUCKETS per counting cell);
//  Known: key cell_arg[j]; other keys count as foreign.
// Outputs (zeroed by the caller): per column, col_n[3 c ..] = finite values, +0.0 values, foreign
// values; per cell, cell_n[j], gap_n[j] (values between cell j - 1 and cell j),
// cell_sum[j * MC_LIMBS ..] and gap_sum[j * MC_LIMBS ..] (exact sums). One thread per (column,
// lane).
extern "C" __global__ void mcsim_select(const double* __restrict__ out, unsigned long long lanes, unsigned long long cols,
    const unsigned long long* __restrict__ cell_off, const unsigned long long* __restrict__ cell_lo,
    const unsigned long long* __restrict__ cell_hi, const unsigned long long* __restrict__ cell_mode,
    const unsigned long long* __restrict__ cell_arg, const unsigned long long* __restrict__ cell_arg2,
    const unsigned long long* __restrict__ cell_base, const unsigned long long* __restrict__ cell_cap,
    unsigned long long* col_n, unsigned long long* cell_n, unsigned long long* gap_n,
    unsigned long long* cell_sum, unsigned long long* gap_sum, unsigned long long* kept_n, double* kept,
    unsigned long long* sub_counts, unsigned long long* sub_keys) {
    unsigned long long t = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= lanes * cols) return;
    unsigned long long col = t / lanes;
    double x = out[t];
    if (!mc_isfinite(x)) return;
    atomicAdd(col_n + 3 * col, 1ull);
    unsigned long long k = mc_key(x);
    // +0.0: the key of 0.0 (-0.0 has another).
    if (k == (1ull << 63)) atomicAdd(col_n + 3 * col + 1, 1ull);
    unsigned long long first = cell_off[col], end = cell_off[col + 1];
    if (first == end || k > cell_hi[end - 1]) return;
    // i: the cells with lo <= k (partition_point), by binary search.
    unsigned long long a = first, b = end;
    while (a < b) {
        unsigned long long m = a + (b - a) / 2;
        if (cell_lo[m] <= k) a = m + 1; else b = m;
    }
    if (a > first && k <= cell_hi[a - 1]) {
        unsigned long long j = a - 1;
        atomicAdd(cell_n + j, 1ull);
        mc_exact_add(cell_sum + j * MC_LIMBS, x);
        if (cell_mode[j] == MC_CELL_KEEP) {
            unsigned long long at = atomicAdd(kept_n + j, 1ull);
            if (at < cell_cap[j]) kept[cell_base[j] + at] = x;
        } else if (cell_mode[j] == MC_CELL_COUNT) {
            unsigned long long sb = (k >> cell_arg[j]) & cell_arg2[j];
            mc_count(sub_counts + cell_base[j] * MC_HIST_BUCKETS, sub_keys + cell_base[j] * MC_HIST_BUCKETS, sb, k);
        } else if (k != cell_arg[j]) {
            atomicAdd(col_n + 3 * col + 2, 1ull);
        }
    } else {
        atomicAdd(gap_n + a, 1ull);
        mc_exact_add(gap_sum + a * MC_LIMBS, x);
    }
}
