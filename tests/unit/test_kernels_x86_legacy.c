/* test_kernels_x86_legacy — the x86 SIMD twins and tiles of the legacy
 * dots and the SIMD activation quantizers (src/kernels/x86_legacy.c)
 * against their scalar versions (src/kernels/legacy.c): identical bits.
 *
 *   1. Every scalar dot has a twin at every x86 level; the twin's result
 *      equals the scalar's bit for bit for block counts 1..70 and a few
 *      large ones (odd counts, counts around the twins' groups of 8).
 *   2. Every tile, for every tile shape up to the full one (edge tiles),
 *      writes exactly the scalar dot's bits into its rm x rn outputs and
 *      nothing outside them; with the last weight row at the end of its
 *      buffer, so reads past a row show up under the sanitizers.
 *   4. The tiles on the X16 layouts (quant/interleave.h) write the bits of
 *      the layout's scalar tile, for 1..8 tokens and partial row counts
 *      (Q8_0's X16_Q8_0 tile: its own exact-block order, not lanes8; the
 *      scalar tile is checked against umi_dot_q8_0_blocks in
 *      test_kernels_legacy). Only where the CPU has them (AVX-512 VNNI);
 *      elsewhere, that no such layout is chosen.
 *   3. The activation quantizers write the scalar quantizer's bytes, on
 *      blocks of every magnitude, all-zero blocks and exact ties.
 *
 * Skips (passes) on CPUs without AVX2. Usage: test_kernels_x86_legacy.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/legacy.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

#define TESTKIT_SEED 12345
#include "unit/testkit.h"

static bool same_bits(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* ---------------------------------------------------------------- the dots under test */

static const struct dot_case {
    const char *name;
    uint32_t wtype;
    umi_dot_fn scalar;
    umi_act_fn act;
} DOTS[] = {
    {"q4_0 lanes8", UMI_TYPE_Q4_0, umi_dot_q4_0_lanes8, umi_act_q8_0},
    {"q4_0 blocks", UMI_TYPE_Q4_0, umi_dot_q4_0_blocks, umi_act_q8_0},
    {"q5_0 lanes8", UMI_TYPE_Q5_0, umi_dot_q5_0_lanes8, umi_act_q8_0},
    {"iq4_nl lanes8", UMI_TYPE_IQ4_NL, umi_dot_iq4_nl_lanes8, umi_act_q8_0},
    {"iq4_nl blocks", UMI_TYPE_IQ4_NL, umi_dot_iq4_nl_blocks, umi_act_q8_0},
    {"iq4_nl vec", UMI_TYPE_IQ4_NL, umi_dot_iq4_nl_vec, umi_act_q8_0},
    {"q4_1 lanes8", UMI_TYPE_Q4_1, umi_dot_q4_1_lanes8, umi_act_q8_1},
    {"q5_1 lanes8", UMI_TYPE_Q5_1, umi_dot_q5_1_lanes8, umi_act_q8_1},
};
enum { N_DOTS = sizeof DOTS / sizeof DOTS[0] };

/* Tiles also serve Q8_0 (its twin lives with the float dots, x86.c). */
static const struct dot_case TILE_ONLY[] = {
    {"q8_0 lanes8", UMI_TYPE_Q8_0, umi_dot_q8_0_lanes8, umi_act_q8_0},
};

/* Random blocks: random bytes, then scales of every sign and a wide range
 * of magnitudes (and offsets for the _1 types). */
static void fill_weights(uint32_t type, void *w, int64_t nblocks) {
    const size_t bsize = umi_type_traits_get(type)->type_size;
    uint8_t *p = w;
    for (size_t i = 0; i < (size_t)nblocks * bsize; i++) p[i] = (uint8_t)rng_next();
    for (int64_t b = 0; b < nblocks; b++) {
        uint8_t *blk = p + b * bsize;
        const float mag = powf(2.0f, (float)(int)(rng_next() % 16) - 12.0f);
        const uint16_t d = umi_fp32_to_fp16(mag * rng_signed());
        memcpy(blk, &d, 2);
        if (type == UMI_TYPE_Q4_1 || type == UMI_TYPE_Q5_1) {
            const uint16_t m = umi_fp32_to_fp16(0.05f * rng_signed());
            memcpy(blk + 2, &m, 2);
        }
        if (type == UMI_TYPE_Q8_0) /* the quantizer never writes -128 */
            for (size_t j = 2; j < bsize; j++)
                if (blk[j] == 0x80) blk[j] = 0x81;
    }
}

/* n rows of k activations through the scalar quantizer (so levels stay in
 * -127..127 as the quantizers write them). */
static void fill_acts(umi_act_fn act, size_t row_bytes, void *xq, int64_t k, int n) {
    float *x = xmalloc(sizeof(float) * k);
    for (int r = 0; r < n; r++) {
        const float scale = powf(10.0f, (float)(int)(rng_next() % 7) - 3.0f);
        for (int64_t i = 0; i < k; i++) x[i] = scale * rng_signed();
        act(x, (char *)xq + r * row_bytes, k);
    }
    free(x);
}

static const char *level_name(int level) {
    return umi_cpu_level_name((umi_cpu_level)level);
}

/* ---------------------------------------------------------------- 1. twins */

static void test_twins(int level) {
    for (int di = 0; di < N_DOTS; di++) {
        const struct dot_case *dc = &DOTS[di];
        const umi_dot_fn twin = umi_kernels_simd_twin_legacy(dc->scalar, level);
        if (!check(twin && twin != dc->scalar, "%s: a twin at level %s", dc->name, level_name(level)))
            continue;
        const umi_type_traits *wt = umi_type_traits_get(dc->wtype);
        const uint32_t atype = wt->vec_dot_type;
        int bad = 0;
        for (int nb = 1; nb <= 80; nb++) {
            const int64_t k = nb <= 70 ? 32 * nb : 32 * (64 * (nb - 70) + nb % 3);
            const size_t wrow = umi_type_row_size(dc->wtype, k), xrow = umi_type_row_size(atype, k);
            void *w = xmalloc(wrow), *xq = xmalloc(xrow);
            for (int trial = 0; trial < 4; trial++) {
                fill_weights(dc->wtype, w, k / 32);
                fill_acts(dc->act, xrow, xq, k, 1);
                const float want = dc->scalar((int)k, w, xq), got = twin((int)k, w, xq);
                if (!same_bits(want, got) && bad++ < 3)
                    check(false, "%s twin (%s) k=%lld: %a, scalar %a", dc->name, level_name(level),
                          (long long)k, got, want);
            }
            free(w), free(xq);
        }
        check(bad == 0, "%s twin (%s): identical bits for 80 lengths", dc->name, level_name(level));
    }
}

/* ---------------------------------------------------------------- 2. tiles */

static void test_tiles(int level) {
    static const int64_t KS[] = {32, 96, 256, 1024 + 32, 2048, 32 * 67};
    for (int di = 0; di < N_DOTS + (int)(sizeof TILE_ONLY / sizeof *TILE_ONLY); di++) {
        const struct dot_case *dc = di < N_DOTS ? &DOTS[di] : &TILE_ONLY[di - N_DOTS];
        int tm = 0, tn = 0;
        const umi_tile_fn tile = umi_kernels_tile_for_legacy(dc->scalar, level, &tm, &tn);
        if (!tile) continue;
        const umi_type_traits *wt = umi_type_traits_get(dc->wtype);
        const uint32_t atype = wt->vec_dot_type;
        int bad = 0, outside = 0, shapes = 0;
        for (size_t ki = 0; ki < sizeof KS / sizeof KS[0]; ki++) {
            const int64_t k = KS[ki];
            const size_t wrow = umi_type_row_size(dc->wtype, k), xrow = umi_type_row_size(atype, k);
            for (int rm = 1; rm <= tm; rm++)
                for (int rn = 1; rn <= tn; rn++) {
                    /* exactly rm rows and rn tokens, so over-reads hit the end */
                    void *w = xmalloc(wrow * rm), *xq = xmalloc(xrow * rn);
                    const size_t ys = (size_t)tm + 3;
                    float *y = xmalloc(sizeof(float) * ys * (tn + 1));
                    fill_weights(dc->wtype, w, k / 32 * rm);
                    fill_acts(dc->act, xrow, xq, k, rn);
                    for (size_t i = 0; i < ys * (tn + 1); i++) y[i] = -1234.5f;
                    tile((int)k, w, wrow, rm, xq, xrow, rn, y, ys);
                    shapes++;
                    for (int j = 0; j <= tn; j++)
                        for (size_t i = 0; i < ys; i++) {
                            const float got = y[j * ys + i];
                            if (j < rn && (int)i < rm) {
                                const float want = dc->scalar((int)k, (char *)w + i * wrow, (char *)xq + j * xrow);
                                if (!same_bits(got, want) && bad++ < 3)
                                    check(false, "%s tile (%s) k=%lld %dx%d: out[%d][%zu] %a, scalar %a",
                                          dc->name, level_name(level), (long long)k, rm, rn, j, i, got, want);
                            } else if (got != -1234.5f) {
                                outside++;
                            }
                        }
                    free(w), free(xq), free(y);
                }
        }
        check(bad == 0 && outside == 0, "%s tile %dx%d (%s): identical bits on %d shapes, %d writes outside",
              dc->name, tm, tn, level_name(level), shapes, outside);
    }
}

/* ---------------------------------------------------------------- 3. activation quantizers */

static void test_acts(int level) {
    enum { N = 32 * 2048 };
    float *x = xmalloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) {
        const int blk = i / 32;
        const float scale = blk % 97 == 5 ? 0.0f : powf(10.0f, (float)(blk % 13) - 7.0f);
        x[i] = scale * rng_signed();
        if (blk % 5 == 1) x[i] = (float)(int)(rng_signed() * 100.0f) + 0.5f; /* ties */
        if (blk % 5 == 1 && i % 32 == 3) x[i] = 127.0f;
    }
    const umi_act_fn scalars[] = {umi_act_q8_0, umi_act_q8_1};
    const uint32_t types[] = {UMI_TYPE_Q8_0, UMI_TYPE_Q8_1};
    for (int t = 0; t < 2; t++) {
        const umi_act_fn simd = umi_kernels_simd_act_legacy(scalars[t], level);
        const char *name = umi_type_traits_get(types[t])->name;
        if (!check(simd != NULL, "%s quantizer: a twin at level %s", name, level_name(level))) continue;
        const size_t row = umi_type_row_size(types[t], N);
        uint8_t *a = xmalloc(row), *b = xmalloc(row);
        bool ok = true;
        for (int64_t n = 32; n <= N; n *= 4) {
            memset(a, 0x55, row), memset(b, 0xaa, row);
            scalars[t](x, a, n);
            simd(x, b, n);
            ok &= memcmp(a, b, umi_type_row_size(types[t], n)) == 0;
        }
        check(ok, "%s quantizer (%s): identical bytes", name, level_name(level));
        free(a), free(b);
    }
    free(x);
}

/* ---------------------------------------------------------------- 4. X16 tiles */

static void test_layout_tiles(int level) {
    static const struct {
        uint32_t type;
        int layout;
        umi_tile_fn oracle;
    } CASES[] = {{UMI_TYPE_Q4_0, UMI_LAYOUT_X16, umi_tile_q4_0_x16},
                 {UMI_TYPE_IQ4_NL, UMI_LAYOUT_X16, umi_tile_iq4_nl_x16},
                 {UMI_TYPE_Q8_0, UMI_LAYOUT_X16_Q8_0, umi_tile_q8_0_x16}};
    for (size_t ci = 0; ci < sizeof CASES / sizeof *CASES; ci++) {
        int tm = 0, tn = 0;
        const umi_tile_fn tile = umi_kernels_layout_tile_legacy(CASES[ci].oracle, level, &tm, &tn);
        const char *name = umi_type_traits_get(CASES[ci].type)->name;
        if (!tile) { /* only where the CPU has one (AVX-512 VNNI): Q8_0 keeps the file's layout elsewhere */
            if (CASES[ci].type == UMI_TYPE_Q8_0)
                check(umi_kernels_layout(CASES[ci].type, 2048, 64, level) == UMI_LAYOUT_GGUF,
                      "%s: no X16_Q8_0 without its tile (%s)", name, level_name(level));
            continue;
        }
        check(umi_kernels_layout(CASES[ci].type, 2048, 64, level) == CASES[ci].layout &&
                  umi_kernels_layout(CASES[ci].type, 2048, 72, level) == UMI_LAYOUT_GGUF,
              "%s: X16 chosen for whole groups of rows only", name);
        int bad = 0, outside = 0, shapes = 0;
        static const int64_t KS[] = {32, 96, 1024 + 32, 32 * 67, 32 * 64}; /* odd and even block counts */
        for (size_t ki = 0; ki < sizeof KS / sizeof *KS; ki++) {
            const int64_t k = KS[ki];
            const size_t row = umi_type_row_size(CASES[ci].type, k), xrow = umi_type_row_size(UMI_TYPE_Q8_0, k);
            uint8_t *w = xmalloc(16 * row), *g = xmalloc(16 * row);
            void *xq = xmalloc(xrow * tn);
            fill_weights(CASES[ci].type, w, k / 32 * 16);
            fill_acts(umi_act_q8_0, xrow, xq, k, tn);
            umi_layout_pack_group(CASES[ci].layout, g, w, k);
            float *want = xmalloc(sizeof(float) * 16 * tn), *got = xmalloc(sizeof(float) * 17 * (tn + 1));
            CASES[ci].oracle((int)k, g, row, 16, xq, xrow, tn, want, 16);
            for (int rm = 1; rm <= 16; rm += 5)
                for (int rn = 1; rn <= tn; rn++) {
                    for (int i = 0; i < 17 * (tn + 1); i++) got[i] = -1234.5f;
                    tile((int)k, g, row, rm, xq, xrow, rn, got, 17);
                    shapes++;
                    for (int j = 0; j <= tn; j++)
                        for (int i = 0; i < 17; i++) {
                            if (j < rn && i < rm) bad += !same_bits(got[j * 17 + i], want[j * 16 + i]);
                            else outside += got[j * 17 + i] != -1234.5f;
                        }
                }
            free(w), free(g), free(xq), free(want), free(got);
        }
        check(bad == 0 && outside == 0, "%s X16 tile %dx%d (%s): the scalar tile's bits on %d shapes, %d wrong, "
              "%d writes outside", name, tm, tn, level_name(level), shapes, bad, outside);
        /* Several groups in one call (tiles whose tile_m spans groups): each
         * group as the scalar tile gives it, rows up to rm only. */
        bad = outside = shapes = 0;
        for (size_t ki = 0; ki < sizeof KS / sizeof *KS && tm > 16; ki++) {
            const int64_t k = KS[ki] * (ki == 3 ? 3 : 1); /* also k > 2048: several block chunks */
            const int ng = tm / 16;
            const size_t row = umi_type_row_size(CASES[ci].type, k), xrow = umi_type_row_size(UMI_TYPE_Q8_0, k);
            uint8_t *w = xmalloc(16 * row * ng), *g = xmalloc(16 * row * ng);
            void *xq = xmalloc(xrow * tn);
            fill_weights(CASES[ci].type, w, k / 32 * 16 * ng);
            fill_acts(umi_act_q8_0, xrow, xq, k, tn);
            const int ys = tm + 3;
            float *want = xmalloc(sizeof(float) * ys * tn), *got = xmalloc(sizeof(float) * ys * (tn + 1));
            for (int gi = 0; gi < ng; gi++) {
                umi_layout_pack_group(CASES[ci].layout, g + gi * 16 * row, w + gi * 16 * row, k);
                CASES[ci].oracle((int)k, g + gi * 16 * row, row, 16, xq, xrow, tn, want + gi * 16, ys);
            }
            for (int rm = 16; rm <= tm; rm += 7)
                for (int rn = 1; rn <= tn; rn += 3) {
                    for (int i = 0; i < ys * (tn + 1); i++) got[i] = -1234.5f;
                    tile((int)k, g, row, rm, xq, xrow, rn, got, ys);
                    shapes++;
                    for (int j = 0; j <= tn; j++)
                        for (int i = 0; i < ys; i++) {
                            if (j < rn && i < rm) bad += !same_bits(got[j * ys + i], want[j * ys + i]);
                            else outside += got[j * ys + i] != -1234.5f;
                        }
                }
            free(w), free(g), free(xq), free(want), free(got);
        }
        if (tm > 16)
            check(bad == 0 && outside == 0 && shapes > 0, "%s X16 tile over %d groups (%s): %d shapes, %d wrong, "
                  "%d writes outside", name, tm / 16, level_name(level), shapes, bad, outside);
    }
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    const int top = umi_cpu_level_get();
    for (int level = UMI_CPU_AVX2; level <= top && level <= UMI_CPU_AVX512; level++) {
        test_twins(level);
        test_tiles(level);
        test_acts(level);
        test_layout_tiles(level);
    }
    printf("test_kernels_x86_legacy: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
