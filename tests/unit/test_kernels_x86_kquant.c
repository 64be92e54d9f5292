/* test_kernels_x86_kquant — the x86 SIMD twins and tiles of the K-quant
 * ordered dots (src/kernels/x86_kquant.c) against their scalar twins
 * (kquant_lanes.c, kquant_repack.c): identical bits, no tolerance.
 *
 *   1. Every twin, at every SIMD level this CPU has, on random rows of many
 *      lengths, with activations from both Q8_K quantizers (the traits' one
 *      and the 4-row one, whose blocks may carry negative scales).
 *   2. Every tile, for every tile shape up to its maximum (edge tiles
 *      included), with padded strides: each element equals the scalar dot.
 *   3. Extreme inputs: all-maximum codes and activations of +-127 (the
 *      16-bit pair sums closest to saturation), all-zero blocks.
 *   4. The tiles on the X16_Q4_K layout (quant/interleave.h), gemv and gemm
 *      orders, and on the X16_Q6_K layout, lanes8 order: the bits of the
 *      layouts' scalar tiles for every row count
 *      and 1 .. 11 tokens (whole and partial groups of 4 in registers), and
 *      no writes outside; and where the loader chooses that layout.
 *   5. The twins of both Q8_K activation quantizers (x86_act_q8_K.c): the
 *      scalar bytes, special values included.
 *
 * Usage: test_kernels_x86_kquant <source_dir> <shared_dir> (both unused).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/kquant.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

#define TESTKIT_SEED 0x5eed
#include "unit/testkit.h"

/* ---------------------------------------------------------------- harness */

static bool same_bits(float a, float b) {
    return umi_fp32_to_bits(a) == umi_fp32_to_bits(b);
}

/* A finite half 2^-12 .. 2^2 of either sign. */
static void put_half(uint8_t *block, size_t offset) {
    const uint64_t r = rng_next();
    const uint16_t exp = (uint16_t)(3 + (r >> 8) % 15);
    const uint16_t h = (uint16_t)((r >> 16 & 0x8000) | exp << 10 | (r >> 24 & 0x3ff));
    memcpy(block + offset, &h, 2);
}

/* Where each type keeps its fp16 scales. */
static void fix_halves(uint32_t type, uint8_t *b) {
    switch (type) {
    case UMI_TYPE_Q2_K:
        put_half(b, offsetof(umi_block_q2_K, d));
        put_half(b, offsetof(umi_block_q2_K, dmin));
        break;
    case UMI_TYPE_Q3_K: put_half(b, offsetof(umi_block_q3_K, d)); break;
    case UMI_TYPE_Q4_K: put_half(b, offsetof(umi_block_q4_K, d)), put_half(b, offsetof(umi_block_q4_K, dmin)); break;
    case UMI_TYPE_Q5_K: put_half(b, offsetof(umi_block_q5_K, d)), put_half(b, offsetof(umi_block_q5_K, dmin)); break;
    case UMI_TYPE_Q6_K: put_half(b, offsetof(umi_block_q6_K, d)); break;
    case UMI_TYPE_IQ4_XS: put_half(b, offsetof(umi_block_iq4_xs, d)); break;
    }
}

/* n_bytes of weights: random bytes (or all ones when `extreme`), every fp16
 * scale finite. */
static void fill_weights(uint32_t type, uint8_t *w, size_t n_bytes, bool extreme) {
    const size_t bs = umi_type_traits_get(type)->type_size;
    for (size_t i = 0; i < n_bytes; i++) w[i] = extreme ? 0xff : (uint8_t)rng_next();
    for (size_t i = 0; i < n_bytes / bs; i++) fix_halves(type, w + i * bs);
}

/* Activations: random, or alternating +-amax (quants of +-127), sometimes
 * with an all-zero block. */
static void fill_acts(float *x, int k, bool extreme) {
    const float scale = (float)(1 << (rng_next() % 6)) * 0.125f;
    for (int e = 0; e < k; e++) x[e] = extreme ? ((rng_next() & 1) ? scale : -scale) : rng_signed() * scale;
    if (k > UMI_QK_K && rng_next() % 3 == 0) memset(x + UMI_QK_K, 0, UMI_QK_K * sizeof *x);
}

/* ---------------------------------------------------------------- the dots */

typedef struct dot_case {
    const char *name;
    uint32_t type;
    umi_dot_fn dot;
} dot_case;

static const dot_case DOTS[] = {
    {"q2_K lanes8", UMI_TYPE_Q2_K, umi_dot_q2_K_lanes8},
    {"q3_K lanes8", UMI_TYPE_Q3_K, umi_dot_q3_K_lanes8},
    {"q4_K lanes8", UMI_TYPE_Q4_K, umi_dot_q4_K_lanes8},
    {"q5_K lanes8", UMI_TYPE_Q5_K, umi_dot_q5_K_lanes8},
    {"q6_K lanes8", UMI_TYPE_Q6_K, umi_dot_q6_K_lanes8},
    {"iq4_xs lanes8", UMI_TYPE_IQ4_XS, umi_dot_iq4_xs_lanes8},
    {"q2_K gemv", UMI_TYPE_Q2_K, umi_dot_q2_K_gemv},
    {"q2_K gemm", UMI_TYPE_Q2_K, umi_dot_q2_K_gemm},
    {"q4_K gemv", UMI_TYPE_Q4_K, umi_dot_q4_K_gemv},
    {"q4_K gemm", UMI_TYPE_Q4_K, umi_dot_q4_K_gemm},
};
enum { N_DOTS = sizeof DOTS / sizeof DOTS[0] };

/* Quantizes `rows` rows of k activations with either Q8_K quantizer. */
static void quantize(const float *x, void *a, int k, int rows, bool x4) {
    const size_t a_row = umi_type_row_size(UMI_TYPE_Q8_K, k);
    for (int r = 0; r < rows; r++) {
        if (x4) umi_quant_from_float_q8_K_x4(x + (size_t)r * k, (char *)a + r * a_row, k);
        else umi_type_traits_get(UMI_TYPE_Q8_K)->from_float(x + (size_t)r * k, (char *)a + r * a_row, k);
    }
}

/* ---------------------------------------------------------------- 1, 3. twins */

static void test_twins(int level) {
    static const int lens[] = {256, 512, 768, 1024, 2048, 2816, 4096, 8192};
    enum { MAXK = 8192 };
    uint8_t *w = xmalloc(umi_type_row_size(UMI_TYPE_Q6_K, MAXK) + 64);
    float *x = xmalloc(MAXK * sizeof(float));
    void *a = xmalloc(umi_type_row_size(UMI_TYPE_Q8_K, MAXK));
    for (int d = 0; d < N_DOTS; d++) {
        const umi_dot_fn twin = umi_kernels_simd_twin_kquant(DOTS[d].dot, level);
        if (!check(twin != NULL && twin != DOTS[d].dot, "%s: no twin at level %s", DOTS[d].name,
                   umi_cpu_level_name((umi_cpu_level)level)))
            continue;
        int bad = 0, runs = 0;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (int rep = 0; rep < 12; rep++) {
                const int k = lens[li];
                const bool extreme = rep >= 10;
                fill_weights(DOTS[d].type, w, umi_type_row_size(DOTS[d].type, k), extreme);
                fill_acts(x, k, extreme);
                quantize(x, a, k, 1, rep % 2);
                const float want = DOTS[d].dot(k, w, a), got = twin(k, w, a);
                runs++;
                if (!same_bits(want, got)) {
                    if (!bad++)
                        check(false, "%s at %s, k %d rep %d: %a, scalar %a", DOTS[d].name,
                              umi_cpu_level_name((umi_cpu_level)level), k, rep, got, want);
                }
            }
        check(bad == 0, "%s at %s: %d of %d differ", DOTS[d].name, umi_cpu_level_name((umi_cpu_level)level),
              bad, runs);
    }
    free(w), free(x), free(a);
}

/* ---------------------------------------------------------------- 2. tiles */

/* The scalar dot a tile stands for: its plan's dot before the twin. */
static void test_tiles(int level) {
    static const int lens[] = {256, 512, 2048};
    enum { MAXR = 40, MAXT = 160, PAD = 3 };
    for (int d = 0; d < N_DOTS; d++) {
        int tm = 0, tn = 0;
        const umi_tile_fn tile = umi_kernels_tile_for_kquant(DOTS[d].dot, level, &tm, &tn);
        if (!tile) continue;
        check(tm >= 1 && tn >= 1 && tm <= MAXR && tn <= MAXT, "%s tile %dx%d", DOTS[d].name, tm, tn);
        const uint32_t type = DOTS[d].type;
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const int k = lens[li];
            const size_t w_row = umi_type_row_size(type, k) + PAD * 4; /* padded strides */
            const size_t a_row = umi_type_row_size(UMI_TYPE_Q8_K, k) + PAD * 4;
            uint8_t *w = xmalloc(w_row * tm);
            uint8_t *a = xmalloc(a_row * tn);
            float *x = xmalloc((size_t)k * sizeof(float));
            const size_t ys = (size_t)tm + PAD;
            float *y = xmalloc(ys * tn * sizeof(float));
            for (int r = 0; r < tm; r++) fill_weights(type, w + r * w_row, umi_type_row_size(type, k), r == 1);
            for (int t = 0; t < tn; t++) {
                fill_acts(x, k, t == 2);
                quantize(x, a + t * a_row, k, 1, t % 2);
            }
            /* Shapes: full, one short in each direction, single row/token. */
            const int rms[] = {tm, tm - 1, 1, tm / 2 + 1}, rns[] = {tn, tn - 1, 1, 2, tn / 2 + 1};
            int bad = 0;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 5; j++) {
                    const int rm = rms[i], rn = rns[j];
                    if (rm < 1 || rn < 1) continue;
                    for (size_t e = 0; e < ys * tn; e++) y[e] = -1.0f;
                    tile(k, w, w_row, rm, a, a_row, rn, y, ys);
                    for (int t = 0; t < tn; t++)
                        for (int r = 0; r < (int)ys; r++) {
                            const float got = y[t * ys + r];
                            if (t < rn && r < rm) {
                                const float want = DOTS[d].dot(k, w + r * w_row, a + t * a_row);
                                if (!same_bits(got, want) && !bad++)
                                    check(false, "%s tile at %s, k %d, %dx%d: [%d,%d] %a, scalar %a",
                                          DOTS[d].name, umi_cpu_level_name((umi_cpu_level)level), k, rm, rn,
                                          r, t, got, want);
                            } else if (got != -1.0f && !bad++) {
                                check(false, "%s tile %dx%d wrote outside [%d,%d]", DOTS[d].name, rm, rn, r, t);
                            }
                        }
                }
            check(bad == 0, "%s tile at %s, k %d: %d wrong", DOTS[d].name,
                  umi_cpu_level_name((umi_cpu_level)level), k, bad);
            free(w), free(a), free(x), free(y);
        }
    }
}

/* ---------------------------------------------------------------- 4. X16_Q4_K and X16_Q6_K tiles */

static void pack_q4_K(void *g, const void *w, int64_t nb) {
    umi_x16_q4_K_pack_group(g, w, nb);
}

static void pack_q6_K(void *g, const void *w, int64_t nb) {
    umi_x16_q6_K_pack_group(g, w, nb);
}

static void test_layout_tiles(int level) {
    static const struct {
        const char *name;
        uint32_t type;
        int layout;
        umi_tile_fn oracle;
        umi_dot_fn dot;
        void (*pack)(void *g, const void *w, int64_t nb);
    } CASES[] = {{"X16_Q4_K gemv", UMI_TYPE_Q4_K, UMI_LAYOUT_X16_Q4_K, umi_tile_q4_K_x16_gemv, umi_dot_q4_K_gemv,
                  pack_q4_K},
                 {"X16_Q4_K gemm", UMI_TYPE_Q4_K, UMI_LAYOUT_X16_Q4_K, umi_tile_q4_K_x16_gemm, umi_dot_q4_K_gemm,
                  pack_q4_K},
                 {"X16_Q6_K lanes8", UMI_TYPE_Q6_K, UMI_LAYOUT_X16_Q6_K, umi_tile_q6_K_x16, umi_dot_q6_K_lanes8,
                  pack_q6_K}};
    enum { ROWS = UMI_X16_ROWS, TOKS = 11, YS = ROWS + 1 };
    for (size_t ci = 0; ci < sizeof CASES / sizeof *CASES; ci++) {
        const uint32_t type = CASES[ci].type;
        const int layout = CASES[ci].layout;
        int tm = 0, tn = 0;
        const umi_tile_fn tile = umi_kernels_layout_tile(type, layout, umi_kernels_simd_twin_kquant(CASES[ci].dot, level),
                                                         level, &tm, &tn);
        const char *lv = umi_cpu_level_name((umi_cpu_level)level);
        if (!tile) { /* only where the CPU has one (AVX-512 VNNI) */
            check(level != UMI_CPU_AVX512 || !umi_cpu_features_get()->avx512vnni, "%s: a tile at %s", CASES[ci].name, lv);
            continue;
        }
        check(tm == ROWS && tn >= TOKS && tn % 4 == 0, "%s tile %dx%d", CASES[ci].name, tm, tn);
        check(umi_kernels_layout_tile(type, layout, CASES[ci].dot, level, &tm, &tn) == tile,
              "%s: the scalar dot and its twin find the same tile", CASES[ci].name);
        check(umi_kernels_layout(type, 2048, 64, level) == layout && umi_kernels_layout(type, 2048, 72, level) == UMI_LAYOUT_GGUF &&
                  umi_kernels_layout(type, 2048 + 32, 64, level) == UMI_LAYOUT_GGUF,
              "%s: chosen for whole groups of rows and super-blocks only", CASES[ci].name);
        int bad = 0, outside = 0, shapes = 0;
        static const int KS[] = {256, 768, 2048};
        for (size_t ki = 0; ki < sizeof KS / sizeof *KS; ki++) {
            const int k = KS[ki];
            const size_t row = umi_type_row_size(type, k), a_row = umi_type_row_size(UMI_TYPE_Q8_K, k);
            uint8_t *w = xmalloc(ROWS * row), *g = xmalloc(ROWS * row), *a = xmalloc(TOKS * a_row);
            float *x = xmalloc(sizeof(float) * (size_t)k);
            for (int r = 0; r < ROWS; r++) fill_weights(type, w + r * row, row, r == 3);
            for (int t = 0; t < TOKS; t++) {
                fill_acts(x, k, t == 2);
                quantize(x, a + t * a_row, k, 1, t % 2);
            }
            CASES[ci].pack(g, w, k / UMI_QK_K);
            float want[TOKS * ROWS], got[(TOKS + 1) * YS];
            CASES[ci].oracle(k, g, row, ROWS, a, a_row, TOKS, want, ROWS);
            for (int rm = 1; rm <= ROWS; rm += rm < 4 ? 1 : 4)
                for (int rn = 1; rn <= TOKS; rn++) {
                    for (int i = 0; i < (TOKS + 1) * YS; i++) got[i] = -1234.5f;
                    tile(k, g, row, rm, a, a_row, rn, got, YS);
                    shapes++;
                    for (int j = 0; j <= TOKS; j++)
                        for (int i = 0; i < YS; i++) {
                            if (j < rn && i < rm) bad += !same_bits(got[j * YS + i], want[j * ROWS + i]);
                            else outside += got[j * YS + i] != -1234.5f;
                        }
                }
            free(w), free(g), free(a), free(x);
        }
        check(bad == 0 && outside == 0,
              "%s tile (%s): the scalar tile's bits on %d shapes, %d wrong, %d writes outside",
              CASES[ci].name, lv, shapes, bad, outside);
    }
}

/* ---------------------------------------------------------------- 5. Q8_K quantizers */

/* The x86 twins of both Q8_K quantizers give the scalar bytes on random
 * blocks of many magnitudes, ties of +-amax in either order, repeated
 * maxima, all-zero and -0.0 blocks, tiny and huge values, and blocks with
 * a NaN or an infinity (which the twins hand to the scalar code). */
static void test_acts(int level) {
    enum { NB = 7, K = NB * UMI_QK_K };
    const char *lv = umi_cpu_level_name((umi_cpu_level)level);
    const umi_act_fn scalars[2] = {umi_type_traits_get(UMI_TYPE_Q8_K)->from_float, umi_quant_from_float_q8_K_x4};
    const size_t row = umi_type_row_size(UMI_TYPE_Q8_K, K);
    float *x = malloc(sizeof(float) * K);
    uint8_t *want = malloc(row), *got = malloc(row);
    for (int q = 0; q < 2; q++) {
        const umi_act_fn twin = umi_kernels_simd_act_kquant(scalars[q], level);
        if (!check(twin != NULL, "q8_K quantizer %d: a twin at level %s", q, lv)) continue;
        int bad = 0;
        for (int trial = 0; trial < 400; trial++) {
            const float scale = powf(2.0f, (float)(int)(rng_next() % 60) - 30.0f);
            for (int e = 0; e < K; e++) x[e] = rng_signed() * scale;
            for (int b = 0; b < NB; b++) {
                float *xb = x + b * UMI_QK_K;
                const int kind = (int)((unsigned)(trial + b) % 9);
                const int i = (int)(rng_next() % UMI_QK_K), j = (int)(rng_next() % UMI_QK_K);
                if (kind == 1) xb[i] = 2.0f * scale, xb[j] = -2.0f * scale; /* a tie of signs, either order */
                if (kind == 2) xb[i] = xb[j] = -3.0f * scale;
                if (kind == 3) memset(xb, 0, UMI_QK_K * sizeof *xb);
                if (kind == 4)
                    for (int e = 0; e < UMI_QK_K; e++) xb[e] = -0.0f;
                if (kind == 5) xb[i] = (rng_next() & 1) ? NAN : -NAN;
                if (kind == 6) xb[i] = (rng_next() & 1) ? INFINITY : -INFINITY;
                if (kind == 7) /* levels at .5 exactly: iscale * x a tie for the rounding */
                    for (int e = 0; e < UMI_QK_K; e++) xb[e] = (float)((int)(rng_next() % 255) - 127) + 0.5f, xb[0] = 127.5f;
            }
            memset(want, 0xa5, row), memset(got, 0x5a, row);
            scalars[q](x, want, K);
            twin(x, got, K);
            if (memcmp(want, got, row) != 0 && bad++ < 3) check(false, "q8_K quantizer %d (%s) trial %d: bytes differ", q, lv, trial);
        }
        check(bad == 0, "q8_K quantizer %d twin (%s): the scalar bytes on 400 x %d blocks", q, lv, NB);
    }
    free(x), free(want), free(got);
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    const int top = umi_cpu_level_get();
    int levels = 0;
    for (int level = UMI_CPU_AVX2; level <= top && level <= UMI_CPU_AVX512; level++, levels++) {
        test_twins(level);
        test_tiles(level);
        test_layout_tiles(level);
        test_acts(level);
    }
    if (!levels) printf("test_kernels_x86_kquant: no x86 SIMD level on this CPU; nothing to test\n");
    printf("test_kernels_x86_kquant: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
