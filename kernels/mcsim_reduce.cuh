// mcsim on-device reduction: each thread folds one output column over one block of iterations
// into the accumulators of mcsim_results::stream::BlockStats::add_block, operation for operation
// (four interleaved double-double chains by iteration mod 4, combined (0+1)+(2+3); the mean by
// dd_div with fma; the central moments two-pass around it; min/max by f64::total_cmp's order;
// the error count), so the host merges the records in block order as the CPU merges its blocks
// and gets the same bits. Needs no FMA contraction (--fmad=false); fma() is explicit.
//
// Record (MC_REC doubles per column and block, at rec[(col * blocks + b) * MC_REC]):
// n, errors, sum hi, sum lo, m2 hi, m2 lo, m3 hi, m3 lo, m4 hi, m4 lo, min, max
// (min and max NaN when n = 0).

#define MC_REC 12

__device__ __forceinline__ void mc_two_sum(double a, double b, double* s, double* e) {
    double ss = a + b;
    double bb = ss - a;
    *s = ss;
    *e = (a - (ss - bb)) + (b - bb);
}

__device__ __forceinline__ void mc_fast_two_sum(double a, double b, double* s, double* e) {
    double ss = a + b;
    *s = ss;
    *e = b - (ss - a);
}

// moments::dd_add.
__device__ __forceinline__ void mc_dd_add(const double* x, const double* y, double* r) {
    double s1, s2, t1, t2, h, l;
    mc_two_sum(x[0], y[0], &s1, &s2);
    mc_two_sum(x[1], y[1], &t1, &t2);
    mc_fast_two_sum(s1, s2 + t1, &s1, &s2);
    mc_fast_two_sum(s1, s2 + t2, &h, &l);
    r[0] = h;
    r[1] = l;
}

// moments::dd_add_f64.
__device__ __forceinline__ void mc_dd_add_f64(double* x, double y) {
    double s, e, h, l;
    mc_two_sum(x[0], y, &s, &e);
    mc_fast_two_sum(s, e + x[1], &h, &l);
    x[0] = h;
    x[1] = l;
}

// moments::dd_div.
__device__ __forceinline__ void mc_dd_div(const double* x, double n, double* r) {
    double q1 = x[0] / n;
    double rr = fma(-q1, n, x[0]);
    double q2 = (rr + x[1]) / n;
    mc_fast_two_sum(q1, q2, &r[0], &r[1]);
}

// sorted::key: f64::total_cmp's order as unsigned integers.
__device__ __forceinline__ unsigned long long mc_key(double x) {
    unsigned long long b = (unsigned long long)__double_as_longlong(x);
    return (b >> 63) == 1 ? ~b : (b | (1ull << 63));
}

__device__ __forceinline__ double mc_unkey(unsigned long long k) {
    return __longlong_as_double((long long)((k >> 63) == 1 ? (k & ~(1ull << 63)) : ~k));
}

__device__ __forceinline__ void mc_fold4(double (*a)[2], double* r) {
    double x[2], y[2];
    mc_dd_add(a[0], a[1], x);
    mc_dd_add(a[2], a[3], y);
    mc_dd_add(x, y, r);
}

// One record r of the `len` values at xs.
__device__ void mc_reduce_range(const double* __restrict__ xs, unsigned long long len, double* __restrict__ r) {
    double sums[4][2] = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}};
    unsigned long long counts[4] = {0, 0, 0, 0};
    unsigned long long lo = ~0ull, hi = 0;
    for (unsigned long long j = 0; j < len; j++) {
        double x = xs[j];
        if (mc_isfinite(x)) {
            counts[j & 3]++;
            mc_dd_add_f64(sums[j & 3], x);
            unsigned long long k = mc_key(x);
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    unsigned long long n = counts[0] + counts[1] + counts[2] + counts[3];
    for (int k = 0; k < MC_REC; k++) r[k] = 0.0;
    r[0] = (double)n;
    r[1] = (double)(len - n);
    r[10] = mc_nan();
    r[11] = mc_nan();
    if (n == 0) return;
    double sum[2], mean[2];
    mc_fold4(sums, sum);
    mc_dd_div(sum, (double)n, mean);
    double s2[4][2] = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}};
    double s3[4][2] = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}};
    double s4[4][2] = {{0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}, {0.0, 0.0}};
    for (unsigned long long j = 0; j < len; j++) {
        double x = xs[j];
        if (mc_isfinite(x)) {
            double d = (x - mean[0]) - mean[1];
            double d2 = d * d;
            int l = (int)(j & 3);
            mc_dd_add_f64(s2[l], d2);
            mc_dd_add_f64(s3[l], d2 * d);
            mc_dd_add_f64(s4[l], d2 * d2);
        }
    }
    r[2] = sum[0];
    r[3] = sum[1];
    mc_fold4(s2, r + 4);
    mc_fold4(s3, r + 6);
    mc_fold4(s4, r + 8);
    r[10] = mc_unkey(lo);
    r[11] = mc_unkey(hi);
}

extern "C" __global__ void mcsim_reduce(const double* __restrict__ out, double* __restrict__ rec, unsigned long long lanes, unsigned long long cols, unsigned long long block_len) {
    unsigned long long t = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long blocks = (lanes + block_len - 1) / block_len;
    if (t >= blocks * cols) return;
    unsigned long long col = t / blocks, b = t % blocks;
    unsigned long long start = b * block_len;
    unsigned long long end = start + block_len < lanes ? start + block_len : lanes;
    mc_reduce_range(out + col * lanes + start, end - start, rec + (col * blocks + b) * MC_REC);
}

// The records of the blocks [seg[b], seg[b + 1]) for b < nseg (ascending lane offsets, the last
// at most `lanes`): the accumulator blocks of a streaming run, cut at multiples of its block
// length and at its convergence checkpoints. One thread per (column, block); the record of
// column c, block b at rec[(c * nseg + b) * MC_REC].
extern "C" __global__ void mcsim_reduce_segs(const double* __restrict__ out, double* __restrict__ rec, unsigned long long lanes, unsigned long long cols, const unsigned long long* __restrict__ seg, unsigned long long nseg) {
    unsigned long long t = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nseg * cols) return;
    unsigned long long col = t / nseg, b = t % nseg;
    mc_reduce_range(out + col * lanes + seg[b], seg[b + 1] - seg[b], rec + (col * nseg + b) * MC_REC);
}
