// mcsim device sampling: the CPU's counter-based streams and inverse CDFs, operation for
// operation (crates/mcsim-sampling: streams.rs, permutation.rs, special.rs, kind.rs,
// sampler.rs), so that a thread draws the uniform and the sample of input k at iteration i from
// (seed, k, i) alone, with the CPU's bits. Prepended to a kernel (after mcsim_math.cuh) when the
// generator samples on the device. Compile without FMA contraction (--fmad=false).
//
// What is not bit-identical on a GPU: `log`, `log1p` and `exp` (normal tails, lognormal,
// exponential) are CUDA's there and glibc's on the CPU, both within 1 ulp; the host shim links
// glibc and is bit-identical.

typedef unsigned long long mc_u64;
typedef unsigned int mc_u32;

__device__ __forceinline__ mc_u32 mc_rotl32(mc_u32 x, int n) { return (x << n) | (x >> (32 - n)); }

#define MC_QR(a, b, c, d)              \
    a += b; d ^= a; d = mc_rotl32(d, 16); \
    c += d; b ^= c; b = mc_rotl32(b, 12); \
    a += b; d ^= a; d = mc_rotl32(d, 8);  \
    c += d; b ^= c; b = mc_rotl32(b, 7);

// The u64 that rand_chacha's ChaCha8Rng (key `key`, stream `stream`) returns at word position
// 2i: words 2(i mod 8) and 2(i mod 8) + 1 of the block with counter i / 8, low word first.
__device__ mc_u64 mc_chacha8_u64(const mc_u32* key, mc_u64 stream, mc_u64 i) {
    mc_u64 block = i >> 3;
    mc_u32 s[16] = {0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u,
                    key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
                    (mc_u32)block, (mc_u32)(block >> 32), (mc_u32)stream, (mc_u32)(stream >> 32)};
    mc_u32 x[16];
    for (int k = 0; k < 16; k++) x[k] = s[k];
    for (int r = 0; r < 4; r++) {
        MC_QR(x[0], x[4], x[8], x[12]);
        MC_QR(x[1], x[5], x[9], x[13]);
        MC_QR(x[2], x[6], x[10], x[14]);
        MC_QR(x[3], x[7], x[11], x[15]);
        MC_QR(x[0], x[5], x[10], x[15]);
        MC_QR(x[1], x[6], x[11], x[12]);
        MC_QR(x[2], x[7], x[8], x[13]);
        MC_QR(x[3], x[4], x[9], x[14]);
    }
    int w = (int)(i & 7) * 2;
    mc_u32 lo = x[w] + s[w], hi = x[w + 1] + s[w + 1];
    return ((mc_u64)hi << 32) | (mc_u64)lo;
}

// The grid uniform (2k + 1)·2⁻⁵³ of a 52-bit cell k.
__device__ __forceinline__ double mc_grid_uniform(mc_u64 k) { return ((double)k + 0.5) * (1.0 / 4503599627370496.0); }

// streams::mix64 (the SplitMix64 finaliser).
__device__ __forceinline__ mc_u64 mc_mix64(mc_u64 z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// streams::hash_words folded over one word.
__device__ __forceinline__ mc_u64 mc_hash_step(mc_u64 h, mc_u64 w) { return mc_mix64((h + 0x9e3779b97f4a7c15ull) ^ w); }

// The high 64 bits of x·y (streams::mul_hi, from 32-bit halves: exact).
__device__ __forceinline__ mc_u64 mc_mul_hi(mc_u64 x, mc_u64 y) {
    const mc_u64 LO = 0xffffffffull;
    mc_u64 xl = x & LO, xh = x >> 32, yl = y & LO, yh = y >> 32;
    mc_u64 ll = xl * yl, lh = xl * yh, hl = xh * yl, hh = xh * yh;
    mc_u64 mid = (ll >> 32) + (lh & LO) + (hl & LO);
    return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

// The Latin Hypercube stratum of iteration `offset` (< n) of design `design` of the input with
// stream key `key`: permutation.rs's mixed-radix Feistel network (a×b, 4 rounds) with cycle
// walking, keyed by hash_words([seed, "LHS2", key, n, design]).
__device__ mc_u64 mc_lhs_stratum(mc_u64 seed, mc_u64 key, mc_u64 n, mc_u64 a, mc_u64 b, mc_u64 design, mc_u64 offset) {
    mc_u64 h = 0x243f6a8885a308d3ull;
    h = mc_hash_step(h, seed);
    h = mc_hash_step(h, 0x4c485332ull);
    h = mc_hash_step(h, key);
    h = mc_hash_step(h, n);
    h = mc_hash_step(h, design);
    mc_u64 k[4];
    for (int r = 0; r < 4; r++) k[r] = mc_mix64(h ^ mc_mix64((mc_u64)r + 1));
    mc_u64 y = offset;
    do {
        mc_u64 l = y / b, r = y % b;
        for (int round = 0; round < 4; round++) {
            mc_u64 m = (round % 2 == 0) ? a : b;
            mc_u64 f = mc_mul_hi(mc_mix64(r ^ k[round]), m);
            mc_u64 s = l + f;
            mc_u64 next = s >= m ? s - m : s;
            l = r;
            r = next;
        }
        y = l * b + r;
    } while (y >= n);
    return y;
}

// The Latin Hypercube uniform of iteration `it` of a run of n iterations (a, b the permutation's
// shape, c = 2⁵²/n as the CPU computes it): stratum s = π(it mod n), its grid cells
// [base(s), base(s + 1)), the cell picked by the top 52 bits of the stream's word.
__device__ double mc_lhs_uniform(const mc_u32* ckey, mc_u64 seed, mc_u64 key, mc_u64 n, mc_u64 a, mc_u64 b, double c, mc_u64 it) {
    const mc_u64 CELLS = 1ull << 52, MAX_CELL = CELLS - 1;
    mc_u64 s = mc_lhs_stratum(seed, key, n, a, b, it / n, it % n);
    mc_u64 word = mc_chacha8_u64(ckey, key, it);
    mc_u64 lo = s >= n ? CELLS : (mc_u64)(long long)((double)(long long)s * c);
    if (lo > MAX_CELL && s < n) lo = MAX_CELL;
    mc_u64 hi = s + 1 >= n ? CELLS : (mc_u64)(long long)((double)(long long)(s + 1) * c);
    if (hi > MAX_CELL && s + 1 < n) hi = MAX_CELL;
    mc_u64 width = hi > lo ? hi - lo : 0;
    mc_u64 off = mc_mul_hi(word & ~0xfffull, width);
    mc_u64 cell = lo + off;
    return mc_grid_uniform(cell < MAX_CELL ? cell : MAX_CELL);
}

// The Monte Carlo uniform of iteration `it`.
__device__ __forceinline__ double mc_mc_uniform(const mc_u32* ckey, mc_u64 key, mc_u64 it) {
    return mc_grid_uniform(mc_chacha8_u64(ckey, key, it) >> 12);
}

// special::poly (Horner, no contraction).
__device__ __forceinline__ double mc_poly8(const double* c, double x) {
    return ((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x + c[0];
}

__device__ __constant__ double MC_AS241_A[8] = {3.387132872796366608, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4, 4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3};
__device__ __constant__ double MC_AS241_B[8] = {1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3, 2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3};
__device__ __constant__ double MC_AS241_C[8] = {1.42343711074968357734, 4.63033784615654529590, 5.76949722146069140550, 3.64784832476320460504, 1.27045825245236838258, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4};
__device__ __constant__ double MC_AS241_D[8] = {1.0, 2.05319162663775882187, 1.67638483018380384940, 6.89767334985100004550e-1, 1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9};
__device__ __constant__ double MC_AS241_E[8] = {6.65790464350110377720, 5.46378491116411436990, 1.78482653991729133580, 2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7};
__device__ __constant__ double MC_AS241_F[8] = {1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2, 7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15};

// special::normal_quantile (AS241).
__device__ double mc_normal_quantile(double p) {
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * mc_poly8(MC_AS241_A, r) / mc_poly8(MC_AS241_B, r);
    }
    double r = q < 0.0 ? p : 1.0 - p;
    if (mc_isnan(r) || r < 0.0) return mc_nan();
    if (r == 0.0) return q < 0.0 ? -mc_inf() : mc_inf();
    r = sqrt(-log(r));
    double val;
    if (r <= 5.0) {
        r = r - 1.6;
        val = mc_poly8(MC_AS241_C, r) / mc_poly8(MC_AS241_D, r);
    } else {
        r = r - 5.0;
        val = mc_poly8(MC_AS241_E, r) / mc_poly8(MC_AS241_F, r);
    }
    return q < 0.0 ? -val : val;
}

// lanes::normal_z: the lower tail from p, the upper from q.
__device__ __forceinline__ double mc_normal_z(double p, double q) {
    return p <= 0.5 ? mc_normal_quantile(p) : -mc_normal_quantile(q);
}

// kind::ln_q: ln(q) accurately near 0 and 1.
__device__ __forceinline__ double mc_ln_q(double p, double q) { return p < 0.5 ? log1p(-p) : log(q); }

// tables::CumTable::index through its guide table.
__device__ __forceinline__ mc_u64 mc_table_index(const double* cum, const mc_u32* guide, mc_u64 n, double u) {
    mc_u64 g = (mc_u64)(u * (double)n);
    if (g > n - 1) g = n - 1;
    mc_u64 j = guide[g];
    while (j + 1 < n && cum[j] < u) j++;
    return j;
}

// Rust's f64::max/min as the sampler's clamp uses them (the non-NaN operand wins).
__device__ __forceinline__ double mc_rmax(double x, double y) { return mc_isnan(x) ? y : (mc_isnan(y) ? x : (x > y ? x : y)); }
__device__ __forceinline__ double mc_rmin(double x, double y) { return mc_isnan(x) ? y : (mc_isnan(y) ? x : (x < y ? x : y)); }

// inverse.rs Region::get: the quintic cell polynomial at coordinate c (Estrin's scheme). The
// generator only folds tables with every segment tabulated and coordinates that stay in range
// (c >= c0): the NaN returns (where the CPU takes the exact inverse) are not reached.
__device__ double mc_region_get(double c, double c0, double inv_w, const mc_u64* first, const mc_u64* last, const double* scale, mc_u64 nsegs, const double* cells) {
    double s = (c - c0) * inv_w;
    if (mc_isnan(s) || s < 0.0) return mc_nan();
    mc_u64 k = (mc_u64)s;
    if (k > nsegs - 1) k = nsegs - 1;
    if (first[k] == 0) return mc_nan();
    double f = (s - (double)k) * scale[k];
    mc_u64 j = (mc_u64)f;
    if (j > last[k]) j = last[k];
    const double* a = cells + 6 * (first[k] + j);
    double w = f - (double)j;
    double w2 = w * w;
    return (a[0] + w * a[1]) + w2 * ((a[2] + w * a[3]) + w2 * (a[4] + w * a[5]));
}
