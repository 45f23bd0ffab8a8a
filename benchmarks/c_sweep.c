/* Plain C reference of mcsgd's sequential single-site sweeps on a q-colouring (benchmark only).
 *
 * The same scheme as mcsgd.kernels.table_sweeps (colouring, sequential order): per update one
 * xoshiro256** draw x; proposal b = a + 1 + ((x >> 32) * (q - 1) >> 32) (mod q); n_old / n_new
 * = neighbours with colour a / b; accept iff (x & 0xffffffff) < thr, with
 *   mode 0 (Metropolis):        thr = thr1[n_new - n_old + D]          (uint64[2D+1])
 *   mode 1 (reference SGD-like): thr = thr2[n_old * (D + 1) + n_new]   (uint64[(D+1)^2])
 * int32 CSR, int8 colours, 32-bit fixed-point thresholds held in uint64.
 *
 * Input file (little endian, written by bench_kernels.py):
 *   int64 n, nnz, q, mode, dmax, nsweeps, ntab
 *   uint64 thr[ntab]; int32 indptr[n+1]; int32 indices[nnz]; int8 s[n]; uint64 rng[4]
 * Usage: c_sweep IN [OUT]
 *   prints "ns_per_update <float> accepted <int> de <int>" on stdout; with OUT, writes the final
 *   int8 s[n] followed by uint64 rng[4].
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(uint64_t *st) {
    const uint64_t result = rotl(st[1] * 5, 7) * 9;
    const uint64_t t = st[1] << 17;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 45);
    return result;
}

static void die(const char *msg) {
    fprintf(stderr, "c_sweep: %s\n", msg);
    exit(2);
}

static void *load(FILE *f, size_t size, size_t count) {
    void *p = malloc(size * count + 1);
    if (!p) die("out of memory");
    if (fread(p, size, count, f) != count) die("short read");
    return p;
}

/* The two sweeps share the code but not the table lookup; separate functions keep each loop
 * as simple as the compiler can make it (no mode test inside). */
static void sweeps_metropolis(int64_t n, int q, int64_t nsweeps, int dmax, const int32_t *indptr,
                              const int32_t *indices, const uint64_t *thr, int8_t *s,
                              uint64_t *st, int64_t *acc_out, int64_t *de_out) {
    int64_t acc = 0, de = 0;
    const uint64_t qm1 = (uint64_t)(q - 1);
    const uint64_t *thr0 = thr + dmax;
    for (int64_t sw = 0; sw < nsweeps; sw++) {
        for (int64_t i = 0; i < n; i++) {
            const uint64_t x = next_u64(st);
            const int a = s[i];
            int b = a + 1 + (int)(((x >> 32) * qm1) >> 32);
            if (b >= q) b -= q;
            int n_old = 0, n_new = 0;
            for (int32_t k = indptr[i]; k < indptr[i + 1]; k++) {
                const int c = s[indices[k]];
                n_old += (c == a);
                n_new += (c == b);
            }
            if ((x & 0xffffffffu) < thr0[n_new - n_old]) {
                s[i] = (int8_t)b;
                de += n_new - n_old;
                acc++;
            }
        }
    }
    *acc_out = acc;
    *de_out = de;
}

static void sweeps_sgd_table(int64_t n, int q, int64_t nsweeps, int dmax, const int32_t *indptr,
                             const int32_t *indices, const uint64_t *thr, int8_t *s,
                             uint64_t *st, int64_t *acc_out, int64_t *de_out) {
    int64_t acc = 0, de = 0;
    const uint64_t qm1 = (uint64_t)(q - 1);
    const int64_t stride = dmax + 1;
    for (int64_t sw = 0; sw < nsweeps; sw++) {
        for (int64_t i = 0; i < n; i++) {
            const uint64_t x = next_u64(st);
            const int a = s[i];
            int b = a + 1 + (int)(((x >> 32) * qm1) >> 32);
            if (b >= q) b -= q;
            int n_old = 0, n_new = 0;
            for (int32_t k = indptr[i]; k < indptr[i + 1]; k++) {
                const int c = s[indices[k]];
                n_old += (c == a);
                n_new += (c == b);
            }
            if ((x & 0xffffffffu) < thr[n_old * stride + n_new]) {
                s[i] = (int8_t)b;
                de += n_new - n_old;
                acc++;
            }
        }
    }
    *acc_out = acc;
    *de_out = de;
}

int main(int argc, char **argv) {
    if (argc < 2) die("usage: c_sweep IN [OUT]");
    FILE *f = fopen(argv[1], "rb");
    if (!f) die("cannot open input");
    int64_t hdr[7];
    if (fread(hdr, sizeof(int64_t), 7, f) != 7) die("short header");
    const int64_t n = hdr[0], nnz = hdr[1], q = hdr[2], mode = hdr[3], dmax = hdr[4];
    const int64_t nsweeps = hdr[5], ntab = hdr[6];
    if (mode == 0 && ntab != 2 * dmax + 1) die("bad Metropolis table size");
    if (mode == 1 && ntab != (dmax + 1) * (dmax + 1)) die("bad SGD table size");
    uint64_t *thr = load(f, sizeof(uint64_t), (size_t)ntab);
    int32_t *indptr = load(f, sizeof(int32_t), (size_t)(n + 1));
    int32_t *indices = load(f, sizeof(int32_t), (size_t)nnz);
    int8_t *s = load(f, sizeof(int8_t), (size_t)n);
    uint64_t st[4];
    if (fread(st, sizeof(uint64_t), 4, f) != 4) die("short rng state");
    fclose(f);

    int64_t acc = 0, de = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (mode == 0)
        sweeps_metropolis(n, (int)q, nsweeps, (int)dmax, indptr, indices, thr, s, st, &acc, &de);
    else
        sweeps_sgd_table(n, (int)q, nsweeps, (int)dmax, indptr, indices, thr, s, st, &acc, &de);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    const double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("ns_per_update %.6f accepted %lld de %lld\n", 1e9 * sec / ((double)n * nsweeps),
           (long long)acc, (long long)de);
    if (argc > 2) {
        FILE *g = fopen(argv[2], "wb");
        if (!g) die("cannot open output");
        fwrite(s, 1, (size_t)n, g);
        fwrite(st, sizeof(uint64_t), 4, g);
        fclose(g);
    }
    free(thr);
    free(indptr);
    free(indices);
    free(s);
    return 0;
}
