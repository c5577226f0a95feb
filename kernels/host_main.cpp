// The host shim's driver: `prog IN OUT [FIRST [BLOCK]]` reads the input columns (u64 lanes, u64 columns, then
// each column's doubles), runs the kernel once per (block, thread) as a grid of 256-thread blocks
// would, and writes the output columns (u64 lanes, u64 columns, doubles).
// `prog IN OUT FIRST job JOB` runs the kernel, then the reductions JOB asks for (see run_job), and
// writes only their results: the outputs stay "on the device".
#include <stdio.h>
#include <stdlib.h>
#include <algorithm>
#include <vector>

// Runs `call` once per thread of a grid of 256-thread blocks covering `threads` threads.
#define MC_GRID(threads, call) do { \
    unsigned long long mc_th_ = (threads); \
    blockDim.x = 256; blockDim.y = 1; blockDim.z = 1; \
    gridDim.x = (unsigned)((mc_th_ + 255) / 256); gridDim.y = 1; gridDim.z = 1; \
    for (unsigned mc_b_ = 0; mc_b_ < gridDim.x; mc_b_++) \
        for (unsigned mc_t_ = 0; mc_t_ < 256; mc_t_++) { blockIdx.x = mc_b_; threadIdx.x = mc_t_; call; } \
} while (0)

static bool mc_read_u64s(FILE* f, std::vector<unsigned long long>& v, unsigned long long n) {
    v.assign(n + 1, 0);
    return fread(v.data(), 8, n, f) == n;
}

static unsigned long long mc_read_u64(FILE* f, bool* ok) {
    unsigned long long v = 0;
    if (fread(&v, 8, 1, f) != 1) *ok = false;
    return v;
}

// The non-empty buckets of (counts, keys): u64 m, then m (bucket, count, key).
static void mc_write_sparse(FILE* g, const unsigned long long* counts, const unsigned long long* keys) {
    unsigned long long m = 0;
    for (unsigned long long b = 0; b < MC_HIST_BUCKETS; b++) m += counts[b] != 0;
    fwrite(&m, 8, 1, g);
    for (unsigned long long b = 0; b < MC_HIST_BUCKETS; b++) {
        if (counts[b] != 0) {
            unsigned long long e[3] = {b, counts[b], keys[b]};
            fwrite(e, 8, 3, g);
        }
    }
}

// JOB (u64s): nseg, seg[nseg + 1]; nparts, part[nparts + 1]; has_select; with select: n cells,
// cell_off[cols + 1], then n each of lo, hi, mode, arg, arg2, base, cap; the kept capacity; the
// counting cells. Writes: the records of mcsim_reduce_segs (nseg > 0); per histogram part
// [part[p], part[p + 1]), per column, mcsim_hist's non-empty buckets; with select: col_n,
// cell_n, gap_n, cell_sum, gap_sum, kept_n, each Keep cell's kept values, each counting cell's
// non-empty buckets.
static int run_job(const char* job, FILE* g, const double* out, unsigned long long lanes, unsigned long long cols) {
    FILE* f = fopen(job, "rb");
    if (!f) { perror(job); return 1; }
    bool ok = true;
    std::vector<unsigned long long> seg, part;
    unsigned long long nseg = mc_read_u64(f, &ok);
    ok = ok && mc_read_u64s(f, seg, nseg + 1);
    unsigned long long nparts = mc_read_u64(f, &ok);
    ok = ok && mc_read_u64s(f, part, nparts + 1);
    unsigned long long sel = mc_read_u64(f, &ok);
    if (!ok) { fprintf(stderr, "short job\n"); return 1; }
    if (nseg > 0) {
        std::vector<double> rec(nseg * cols * MC_REC + 1);
        MC_GRID(nseg * cols, mcsim_reduce_segs(out, rec.data(), lanes, cols, seg.data(), nseg));
        fwrite(rec.data(), 8, nseg * cols * MC_REC, g);
    }
    std::vector<unsigned long long> counts(cols * MC_HIST_BUCKETS), keys(cols * MC_HIST_BUCKETS);
    for (unsigned long long p = 0; p < nparts; p++) {
        std::fill(counts.begin(), counts.end(), 0);
        std::fill(keys.begin(), keys.end(), 0);
        unsigned long long lo = part[p], hi = part[p + 1];
        if (hi > lo) MC_GRID((hi - lo) * cols, mcsim_hist(out, counts.data(), keys.data(), lanes, cols, lo, hi));
        for (unsigned long long c = 0; c < cols; c++)
            mc_write_sparse(g, counts.data() + c * MC_HIST_BUCKETS, keys.data() + c * MC_HIST_BUCKETS);
    }
    if (sel) {
        unsigned long long n = mc_read_u64(f, &ok);
        std::vector<unsigned long long> off, lo, hi, mode, arg, arg2, base, cap;
        ok = ok && mc_read_u64s(f, off, cols + 1) && mc_read_u64s(f, lo, n) && mc_read_u64s(f, hi, n)
            && mc_read_u64s(f, mode, n) && mc_read_u64s(f, arg, n) && mc_read_u64s(f, arg2, n)
            && mc_read_u64s(f, base, n) && mc_read_u64s(f, cap, n);
        unsigned long long kept_cap = mc_read_u64(f, &ok), ncount = mc_read_u64(f, &ok);
        if (!ok) { fprintf(stderr, "short job\n"); return 1; }
        std::vector<unsigned long long> col_n(3 * cols + 1), cell_n(n + 1), gap_n(n + 1), cell_sum(n * MC_LIMBS + 1),
            gap_sum(n * MC_LIMBS + 1), kept_n(n + 1), sub_c(ncount * MC_HIST_BUCKETS + 1), sub_k(ncount * MC_HIST_BUCKETS + 1);
        std::vector<double> kept(kept_cap + 1);
        MC_GRID(lanes * cols, mcsim_select(out, lanes, cols, off.data(), lo.data(), hi.data(), mode.data(), arg.data(),
            arg2.data(), base.data(), cap.data(), col_n.data(), cell_n.data(), gap_n.data(), cell_sum.data(),
            gap_sum.data(), kept_n.data(), kept.data(), sub_c.data(), sub_k.data()));
        fwrite(col_n.data(), 8, 3 * cols, g);
        fwrite(cell_n.data(), 8, n, g);
        fwrite(gap_n.data(), 8, n, g);
        fwrite(cell_sum.data(), 8, n * MC_LIMBS, g);
        fwrite(gap_sum.data(), 8, n * MC_LIMBS, g);
        fwrite(kept_n.data(), 8, n, g);
        for (unsigned long long j = 0; j < n; j++) {
            if (mode[j] == MC_CELL_KEEP) {
                unsigned long long m = kept_n[j] < cap[j] ? kept_n[j] : cap[j];
                fwrite(kept.data() + base[j], 8, m, g);
            }
        }
        for (unsigned long long c = 0; c < ncount; c++)
            mc_write_sparse(g, sub_c.data() + c * MC_HIST_BUCKETS, sub_k.data() + c * MC_HIST_BUCKETS);
    }
    fclose(f);
    return 0;
}

int main(int argc, char** argv) {
    if (argc < 3 || argc > 6) { fprintf(stderr, "usage: prog IN OUT [FIRST [BLOCK]] | prog IN OUT FIRST job JOB\n"); return 2; }
    // The first lane's iteration (kernels that sample their inputs draw iteration first + i).
    unsigned long long first = argc >= 4 ? strtoull(argv[3], 0, 10) : 0;
    FILE* f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    uint64_t hdr[2];
    if (fread(hdr, 8, 2, f) != 2) { fprintf(stderr, "short input\n"); return 1; }
    uint64_t lanes = hdr[0], ncols = hdr[1];
    if (ncols != MC_N_IN) { fprintf(stderr, "%llu input columns, the kernel reads %d\n", (unsigned long long)ncols, MC_N_IN); return 1; }
    double* in = (double*)malloc(8 * (lanes * ncols + 1));
    if (fread(in, 8, lanes * ncols, f) != lanes * ncols) { fprintf(stderr, "short input\n"); return 1; }
    fclose(f);
    double* out = (double*)malloc(8 * (lanes * MC_N_OUT + 1));
    blockDim.x = 256; blockDim.y = 1; blockDim.z = 1;
    gridDim.x = (unsigned)((lanes + 255) / 256); gridDim.y = 1; gridDim.z = 1;
    for (unsigned b = 0; b < gridDim.x; b++) {
        for (unsigned t = 0; t < 256; t++) {
            blockIdx.x = b; threadIdx.x = t;
            MC_KERNEL(in, out, lanes, first);
        }
    }
    FILE* g = fopen(argv[2], "wb");
    if (!g) { perror(argv[2]); return 1; }
    if (argc == 6) {
        int rc = run_job(argv[5], g, out, lanes, MC_N_OUT);
        fclose(g);
        return rc;
    }
    uint64_t oh[2] = {lanes, (uint64_t)MC_N_OUT};
    fwrite(oh, 8, 2, g);
    fwrite(out, 8, lanes * MC_N_OUT, g);
    // With BLOCK: the reduction kernel over the outputs' blocks of BLOCK iterations, its records
    // (u64 count of doubles, then the doubles) after the outputs.
    unsigned long long block = argc == 5 ? strtoull(argv[4], 0, 10) : 0;
    if (block > 0) {
        unsigned long long blocks = (lanes + block - 1) / block, threads = blocks * MC_N_OUT;
        uint64_t nrec = threads * MC_REC;
        double* rec = (double*)malloc(8 * (nrec + 1));
        gridDim.x = (unsigned)((threads + 255) / 256);
        for (unsigned b = 0; b < gridDim.x; b++) {
            for (unsigned t = 0; t < 256; t++) {
                blockIdx.x = b; threadIdx.x = t;
                mcsim_reduce(out, rec, lanes, MC_N_OUT, block);
            }
        }
        fwrite(&nrec, 8, 1, g);
        fwrite(rec, 8, nrec, g);
    }
    fclose(g);
    return 0;
}
