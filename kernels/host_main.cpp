// The host shim's driver: `prog IN OUT [FIRST [BLOCK]]` reads the input columns (u64 lanes, u64 columns, then
// each column's doubles), runs the kernel once per (block, thread) as a grid of 256-thread blocks
// would, and writes the output columns (u64 lanes, u64 columns, doubles).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    if (argc < 3 || argc > 5) { fprintf(stderr, "usage: prog IN OUT [FIRST [BLOCK]]\n"); return 2; }
    // The first lane's iteration (kernels that sample their inputs draw iteration first + i).
    unsigned long long first = argc == 4 ? strtoull(argv[3], 0, 10) : 0;
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
