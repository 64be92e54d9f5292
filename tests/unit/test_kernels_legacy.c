/* test_kernels_legacy — the reference-order kernels for Q4_0, Q4_1, Q5_0,
 * Q5_1, Q8_0 and IQ4_NL weights (src/kernels/legacy.c).
 *
 *   1. Plans: which variant serves which (type, rows, tokens), as far as it
 *      shows from outside (the dot changes exactly where the table in
 *      legacy.c says the reference's kernel changes).
 *   2. Every variant's dot against the traits' scalar vec_dot on random
 *      blocks: equal within a float-reordering tolerance.
 *   3. The activation quantizers against the traits' from_float: the same
 *      scales, and the same levels except where x * 127 / amax lies at (or
 *      within rounding of) a half-way point; exact ties round to even.
 *   5. The X16 layout (quant/interleave.h): packing then reading a block
 *      back gives the file's bytes, and the layout's scalar tiles give the
 *      bits of the blocks dot on the rows before packing; and each byte
 *      lands where the layout says (pairs of blocks, d's before quants).
 *   4. Pinned: on fixed inputs every variant gives, bit for bit, what the
 *      reference engine's mul_mat gave (values recorded from llama.cpp
 *      34af94cd9ab2's CPU backend, -march=native, AVX-512 VNNI machine,
 *      through vec_dot, llamafile sgemm and the repacked gemv/gemm).
 *
 * Usage: test_kernels_legacy <source_dir> <shared_dir> (both unused).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/legacy.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

#include "unit/testkit.h"

/* ---------------------------------------------------------------- harness */

static bool is_type_1(uint32_t type) {
    return type == UMI_TYPE_Q4_1 || type == UMI_TYPE_Q5_1;
}

/* Random blocks of m rows of k elements: random bytes, then sane scales
 * (d in [0.002, 0.012), and for the _1 types an offset m in (-0.05, 0]);
 * Q8_0 levels stay in -127..127 as the quantizer writes them. Every block
 * starts with its fp16 d, and the _1 blocks follow it with m. */
static void fill_weights(uint32_t type, void *w, int64_t k, int64_t m) {
    const size_t bsize = umi_type_traits_get(type)->type_size;
    const int64_t nb = k / 32 * m;
    uint8_t *p = w;
    for (size_t i = 0; i < (size_t)nb * bsize; i++) p[i] = (uint8_t)rng_next();
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *blk = p + b * bsize;
        const uint16_t d = umi_fp32_to_fp16(0.007f + 0.005f * rng_signed());
        memcpy(blk, &d, 2);
        if (is_type_1(type)) {
            const uint16_t off = umi_fp32_to_fp16(-0.05f * fabsf(rng_signed()));
            memcpy(blk + 2, &off, 2);
        }
        if (type == UMI_TYPE_Q8_0)
            for (int j = 2; j < 34; j++)
                if (blk[j] == 0x80) blk[j] = 0x81;
    }
}

/* n_tok rows of k activations in [-1, 1); block 1 of every row (when k >= 64)
 * holds exact half-way values under amax = 127, so the quantizer's tie rule
 * shows in the results. */
static void fill_acts(float *x, int64_t k, int n_tok) {
    for (int t = 0; t < n_tok; t++) {
        float *row = x + t * k;
        for (int64_t i = 0; i < k; i++) row[i] = rng_signed();
        if (k >= 64) {
            for (int j = 0; j < 32; j++) row[32 + j] = (float)(int)(rng_signed() * 40.0f) + 0.5f;
            row[32 + 7] = 127.0f;
        }
    }
}

static const char *tname(uint32_t type) {
    return umi_type_traits_get(type)->name;
}

/* ---------------------------------------------------------------- 1. plans */

static const uint32_t TYPES[] = {UMI_TYPE_Q4_0, UMI_TYPE_Q4_1, UMI_TYPE_Q5_0,
                                 UMI_TYPE_Q5_1, UMI_TYPE_Q8_0, UMI_TYPE_IQ4_NL};
enum { N_TYPES = sizeof TYPES / sizeof TYPES[0] };

static void test_plans(void) {
    for (int ti = 0; ti < N_TYPES; ti++) {
        const uint32_t type = TYPES[ti];
        const umi_kernel_plan a = umi_kernels_plan(type, 256, 16, 1, 0);
        check(a.dot && a.act, "%s: plan has a dot and an activation quantizer", tname(type));
        /* The token's index never matters for these types. */
        for (int n = 1; n <= 9; n++)
            for (int t = 0; t < n; t++) {
                const umi_kernel_plan p = umi_kernels_plan(type, 256, 16, n, t);
                const umi_kernel_plan q = umi_kernels_plan(type, 256, 16, n, 0);
                if (!check(p.dot == q.dot && p.act == q.act, "%s: plan for token %d of %d", tname(type),
                           t, n))
                    return;
            }
        /* Repacked (rows % 8 == 0) Q4_0 / IQ4_NL differ from the others. */
        const umi_kernel_plan r1 = umi_kernels_plan(type, 256, 16, 1, 0);
        const umi_kernel_plan u1 = umi_kernels_plan(type, 256, 12, 1, 0);
        const umi_kernel_plan u2 = umi_kernels_plan(type, 256, 12, 2, 0);
        const bool repacks = type == UMI_TYPE_Q4_0 || type == UMI_TYPE_IQ4_NL;
        check((r1.dot != u1.dot) == repacks, "%s: repacked rows change the dot iff the type repacks",
              tname(type));
        check((u1.dot != u2.dot) == (type == UMI_TYPE_IQ4_NL),
              "%s: vector and batched dots differ only for iq4_nl", tname(type));
        check(r1.act == u1.act && u1.act == u2.act, "%s: one activation quantizer", tname(type));
    }
}

/* ---------------------------------------------------------------- 2. dots vs traits */

/* Variants: repacked rows (16), plain rows (12) with 1 and with 2 tokens. */
static const struct variant {
    int64_t m;
    int n_tok;
} VARIANTS[] = {{16, 1}, {12, 1}, {12, 2}};

/* Magnitude of the sum: sum over elements of (|w_i| + |m_b|) * |a_i|, which
 * bounds every block term of both orders (for the _1 types the offset m_b
 * is part of w_i, and their m*s term is at most |m_b| * sum |a_i|). */
static double dot_scale(uint32_t type, const void *wrow, const float *wf, const float *af,
                        int64_t k) {
    const size_t bsize = umi_type_traits_get(type)->type_size;
    double s = 0.0;
    for (int64_t i = 0; i < k; i++) {
        double mb = 0.0;
        if (is_type_1(type)) {
            uint16_t h;
            memcpy(&h, (const uint8_t *)wrow + (i / 32) * bsize + 2, 2);
            mb = fabs((double)umi_fp16_to_fp32(h));
        }
        s += (fabs((double)wf[i]) + mb) * fabs((double)af[i]);
    }
    return 2.0 * s;
}

static void test_dots_vs_traits(void) {
    static const int64_t KS[] = {32, 64, 96, 256, 288, 768};
    for (int ti = 0; ti < N_TYPES; ti++) {
        const uint32_t type = TYPES[ti];
        const umi_type_traits *wt = umi_type_traits_get(type);
        const umi_type_traits *at = umi_type_traits_get(wt->vec_dot_type);
        double worst = 0.0;
        int fails = 0;
        for (size_t ki = 0; ki < sizeof KS / sizeof KS[0]; ki++) {
            const int64_t k = KS[ki], nb = k / 32;
            const size_t wrow_size = umi_type_row_size(type, k);
            void *w = xmalloc(wrow_size * 16);
            void *xq = xmalloc(umi_type_row_size(wt->vec_dot_type, k));
            float *x = xmalloc(sizeof(float) * k);
            float *wf = xmalloc(sizeof(float) * k), *af = xmalloc(sizeof(float) * k);
            for (int trial = 0; trial < 20; trial++) {
                rng_state = 1000 * ti + 100 * ki + trial;
                fill_weights(type, w, k, 16);
                fill_acts(x, k, 1);
                for (size_t vi = 0; vi < sizeof VARIANTS / sizeof VARIANTS[0]; vi++) {
                    const struct variant v = VARIANTS[vi];
                    const umi_kernel_plan p = umi_kernels_plan(type, k, v.m, v.n_tok, 0);
                    p.act(x, xq, k);
                    at->to_float(xq, af, k);
                    for (int r = 0; r < 4; r++) {
                        const void *wr = (const char *)w + r * wrow_size;
                        wt->to_float(wr, wf, k);
                        float want;
                        wt->vec_dot((int)k, &want, wr, xq);
                        const float got = p.dot((int)k, wr, xq);
                        /* Each order rounds at most nb + 4 times along any path. */
                        const double tol = 4.0 * (double)(nb + 4) * 0x1p-24 *
                                           dot_scale(type, wr, wf, af, k);
                        const double err = fabs((double)got - (double)want);
                        if (tol > 0 && err / tol > worst) worst = err / tol;
                        if (!(err <= tol) && fails++ < 3)
                            check(false, "%s k=%lld rows=%lld tokens=%d row %d: dot %.9g, traits %.9g",
                                  tname(type), (long long)k, (long long)v.m, v.n_tok, r, got, want);
                    }
                }
            }
            free(w), free(xq), free(x), free(wf), free(af);
        }
        check(fails == 0, "%s: every variant's dot within tolerance of vec_dot (worst %.2f of it)",
              tname(type), worst);
    }
}

/* ---------------------------------------------------------------- 3. activation quantizers */

/* Compare plan.act with the traits' from_float on n blocks of x. Levels may
 * differ by one only where v = x * 127 / amax is within 1e-5 (relative) of
 * a half-way point: the traits multiply by 1 / (amax / 127), a different
 * float, and round ties away from zero where the reference rounds to even. */
static void compare_act(uint32_t atype, umi_act_fn act, const float *x, int64_t n, int *n_ties,
                        int *n_bad) {
    const umi_type_traits *at = umi_type_traits_get(atype);
    const size_t row = umi_type_row_size(atype, n);
    uint8_t *a = xmalloc(row), *b = xmalloc(row);
    act(x, a, n);
    at->from_float(x, b, n);
    const size_t bsize = at->type_size, qoff = atype == UMI_TYPE_Q8_1 ? 4 : 2;
    for (int64_t blk = 0; blk < n / 32; blk++) {
        const uint8_t *pa = a + blk * bsize, *pb = b + blk * bsize;
        const float *xb = x + blk * 32;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(xb[j]));
        if (memcmp(pa, pb, 2) != 0) (*n_bad)++; /* d */
        int sum = 0;
        bool same = true;
        for (int j = 0; j < 32; j++) {
            const int qa = (int8_t)pa[qoff + j], qb = (int8_t)pb[qoff + j];
            sum += qa;
            if (qa == qb) continue;
            same = false;
            const double v = (double)xb[j] * 127.0 / (double)amax;
            const double frac = fabs(v - trunc(v));
            if (abs(qa - qb) == 1 && fabs(frac - 0.5) <= 1e-5 * fabs(v))
                (*n_ties)++;
            else
                (*n_bad)++;
        }
        if (atype == UMI_TYPE_Q8_1) {
            uint16_t sa, sb, d;
            memcpy(&sa, pa + 2, 2), memcpy(&sb, pb + 2, 2), memcpy(&d, pa, 2);
            const uint16_t want = umi_fp32_to_fp16((amax / 127.0f) * (float)sum);
            if (sa != want || (same && sa != sb)) (*n_bad)++;
        }
    }
    free(a), free(b);
}

static void test_act_quantizers(void) {
    const umi_act_fn act0 = umi_kernels_plan(UMI_TYPE_Q4_0, 64, 16, 1, 0).act;
    const umi_act_fn act1 = umi_kernels_plan(UMI_TYPE_Q4_1, 64, 16, 1, 0).act;
    enum { N = 32 * 4096 };
    float *x = xmalloc(sizeof(float) * N);
    rng_state = 77;
    for (int i = 0; i < N; i++) {
        /* magnitudes from 1e-6 to 1e4 block by block, some blocks all zero */
        const int blk = i / 32;
        const float scale = blk % 97 == 5 ? 0.0f : powf(10.0f, (float)(blk % 11) - 6.0f);
        x[i] = rng_signed() * scale;
    }
    for (int t = 0; t < 2; t++) {
        const uint32_t atype = t ? UMI_TYPE_Q8_1 : UMI_TYPE_Q8_0;
        int ties = 0, bad = 0;
        compare_act(atype, t ? act1 : act0, x, N, &ties, &bad);
        check(bad == 0, "%s activations: %d levels/scales differ outside ties (%d ties)",
              umi_type_traits_get(atype)->name, bad, ties);
    }

    /* Pinned: amax = 127 makes the multiplier exactly 1, so x = n + 0.5 is
     * an exact tie; the reference rounds it to even. */
    float blk[32] = {0};
    static const float in[] = {127.0f, 2.5f, -2.5f, 3.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.5f};
    static const int8_t want[] = {127, 2, -2, 4, -4, 0, 0, 2, 126};
    memcpy(blk, in, sizeof in);
    umi_block_q8_0 q0;
    umi_block_q8_1 q1;
    act0(blk, &q0, 32);
    act1(blk, &q1, 32);
    bool ok = true;
    int sum = 0;
    for (size_t j = 0; j < sizeof want; j++) ok &= q0.qs[j] == want[j] && q1.qs[j] == want[j];
    for (int j = 0; j < 32; j++) sum += q1.qs[j];
    check(ok, "activation ties round half to even");
    check(q0.d == umi_fp32_to_fp16(1.0f) && q1.d == q0.d && q1.s == umi_fp32_to_fp16((float)sum),
          "activation scales d = amax / 127, s = d * sum(q)");
    memset(blk, 0, sizeof blk);
    act0(blk, &q0, 32);
    ok = q0.d == 0;
    for (int j = 0; j < 32; j++) ok &= q0.qs[j] == 0;
    check(ok, "an all-zero block quantizes to zeros");
    free(x);
}

/* ---------------------------------------------------------------- 4. pinned reference results */

/* For each case: weights (m rows, k = 288, i.e. 9 blocks) then n_tok rows of
 * activations from fill_weights / fill_acts with rng_state = 0x5eed + case;
 * the reference's outputs for rows 0..3 of the first and of the last token
 * as float bits, and an FNV-1a hash of the bits of all m * n_tok outputs
 * (token-major). */
static const struct pinned {
    uint32_t type;
    int64_t m;
    int n_tok;
    uint32_t bits[8];
    uint32_t hash;
} PINNED[] = {
    {UMI_TYPE_Q4_0, 32, 1,
     {0xc11716ec, 0xbfbee67e, 0xbe63ce31, 0x401e5641, 0xc11716ec, 0xbfbee67e, 0xbe63ce31, 0x401e5641},
     0x9a8cdc18},
    {UMI_TYPE_Q4_0, 32, 5,
     {0xc0da7214, 0xbfff5217, 0xc0e3a299, 0x403f6fd0, 0xbf77a9c9, 0xc023e229, 0xc125ba67, 0x40962e71},
     0xfbfbd688},
    {UMI_TYPE_Q4_0, 60, 1,
     {0x3f1fc134, 0xbf861826, 0xc112c324, 0xbf4fd168, 0x3f1fc134, 0xbf861826, 0xc112c324, 0xbf4fd168},
     0x5ca3dc62},
    {UMI_TYPE_Q4_0, 60, 2,
     {0xc14fa0bf, 0x40d9d816, 0xbf0519e5, 0xc000da88, 0xbf0512a4, 0x4098f9e6, 0x3f3582a4, 0x409b1ff0},
     0x8e58b841},
    {UMI_TYPE_IQ4_NL, 32, 1,
     {0xc2976586, 0xc2202f9a, 0x427256c6, 0x42afc4fd, 0xc2976586, 0xc2202f9a, 0x427256c6, 0x42afc4fd},
     0x42345c3a},
    {UMI_TYPE_IQ4_NL, 32, 5,
     {0xc1c0dbeb, 0xc30d532f, 0x42ab3938, 0xc19279e0, 0x428fd3f4, 0xc21582b4, 0x42b86f0e, 0x41a6ad74},
     0x6336823c},
    {UMI_TYPE_IQ4_NL, 60, 1,
     {0xc300fd80, 0x424899f0, 0xc24e3613, 0xc1b90978, 0xc300fd80, 0x424899f0, 0xc24e3613, 0xc1b90978},
     0x75e5c22c},
    {UMI_TYPE_IQ4_NL, 60, 2,
     {0xc20e8496, 0xc30d626e, 0x41c644ca, 0x41d8283e, 0x421be0a3, 0xc29e0929, 0xc1f465ed, 0xc0b5c70a},
     0x47ed932c},
    {UMI_TYPE_Q5_0, 60, 1,
     {0x40b36928, 0x410282ac, 0xbf89e9b0, 0xc13ee844, 0x40b36928, 0x410282ac, 0xbf89e9b0, 0xc13ee844},
     0x8fbfb84f},
    {UMI_TYPE_Q5_0, 60, 2,
     {0x40a6a6ca, 0xc1acea10, 0x4120bbc2, 0xc18ff7cc, 0x41314fc9, 0xc11d4b41, 0x402d9148, 0xc142d198},
     0x33bf1ee5},
    {UMI_TYPE_Q8_0, 60, 1,
     {0x42438b4b, 0x42e8b966, 0xc23cca5e, 0xc29ffb06, 0x42438b4b, 0x42e8b966, 0xc23cca5e, 0xc29ffb06},
     0x39d8ca9c},
    {UMI_TYPE_Q8_0, 60, 2,
     {0x41307100, 0xc2a7619b, 0x429cdbaa, 0xbee35e00, 0xc12111c0, 0xc1bc8db4, 0x42bfdb80, 0xc349b0d4},
     0xf1f3c81b},
    {UMI_TYPE_Q4_1, 60, 1,
     {0xbfca8795, 0xc08bdcd7, 0x40cfd6db, 0x3fb4ab55, 0xbfca8795, 0xc08bdcd7, 0x40cfd6db, 0x3fb4ab55},
     0x8da95275},
    {UMI_TYPE_Q4_1, 32, 2,
     {0xbe1e7be0, 0xbf899ed4, 0x417cd556, 0xc0c6aabb, 0x3db08ff0, 0x40b1c2fa, 0x4038c3a6, 0xbd777120},
     0xfcc73cc8},
    {UMI_TYPE_Q5_1, 60, 1,
     {0x40cf453c, 0xc0bd7309, 0x3f02f0e4, 0x40b6ef9b, 0x40cf453c, 0xc0bd7309, 0x3f02f0e4, 0x40b6ef9b},
     0x74309813},
    {UMI_TYPE_Q5_1, 32, 2,
     {0xc130fa61, 0x41d93209, 0x3ff76c1e, 0xc05895d7, 0x418d74a6, 0x4154da9f, 0x3fbf2e5c, 0x4015a282},
     0x228ddd56},
};

static uint32_t fnv1a(uint32_t h, uint32_t v) {
    for (int i = 0; i < 4; i++) h = (h ^ ((v >> (8 * i)) & 0xffu)) * 16777619u;
    return h;
}

static void test_pinned(void) {
    const int64_t k = 288;
    for (size_t c = 0; c < sizeof PINNED / sizeof PINNED[0]; c++) {
        const struct pinned *pc = &PINNED[c];
        const umi_type_traits *wt = umi_type_traits_get(pc->type);
        const size_t wrow = umi_type_row_size(pc->type, k);
        void *w = xmalloc(wrow * pc->m);
        float *x = xmalloc(sizeof(float) * k * pc->n_tok);
        void *xq = xmalloc(umi_type_row_size(wt->vec_dot_type, k));
        rng_state = 0x5eed + c;
        fill_weights(pc->type, w, k, pc->m);
        fill_acts(x, k, pc->n_tok);
        bool ok = true;
        uint32_t hash = 2166136261u;
        for (int t = 0; t < pc->n_tok; t++) {
            const umi_kernel_plan p = umi_kernels_plan(pc->type, k, pc->m, pc->n_tok, t);
            p.act(x + t * k, xq, k);
            for (int r = 0; r < pc->m; r++) {
                const float got = p.dot((int)k, (const char *)w + r * wrow, xq);
                uint32_t gb;
                memcpy(&gb, &got, 4);
                hash = fnv1a(hash, gb);
                const int s = t == 0 ? 0 : t == pc->n_tok - 1 ? 1 : -1;
                if (s < 0 || r >= 4 || gb == pc->bits[4 * s + r]) continue;
                float want;
                memcpy(&want, &pc->bits[4 * s + r], 4);
                printf("  %s rows=%lld tokens=%d token %d row %d: %a, reference %a\n", tname(pc->type),
                       (long long)pc->m, pc->n_tok, t, r, got, want);
                ok = false;
            }
        }
        check(ok && hash == pc->hash, "%s rows=%lld tokens=%d: bit-identical to the reference%s",
              tname(pc->type), (long long)pc->m, pc->n_tok, ok ? " (all outputs' hash differs)" : "");
        free(w), free(x), free(xq);
    }
}

/* ---------------------------------------------------------------- 5. X16 layout */

static void test_x16(void) {
    static const struct {
        uint32_t type;
        int layout;
        umi_dot_fn dot;
        umi_tile_fn tile;
    } CASES[] = {{UMI_TYPE_Q4_0, UMI_LAYOUT_X16, umi_dot_q4_0_blocks, umi_tile_q4_0_x16},
                 {UMI_TYPE_IQ4_NL, UMI_LAYOUT_X16, umi_dot_iq4_nl_blocks, umi_tile_iq4_nl_x16},
                 {UMI_TYPE_Q8_0, UMI_LAYOUT_X16_Q8_0, umi_dot_q8_0_blocks, umi_tile_q8_0_x16}};
    for (size_t ci = 0; ci < sizeof CASES / sizeof *CASES; ci++) {
        int bad_bytes = 0, bad_bits = 0;
        for (int64_t k = 32; k <= 32 * 70; k += 32 * 23) {
            const size_t row = umi_type_row_size(CASES[ci].type, k), xrow = umi_type_row_size(UMI_TYPE_Q8_0, k);
            uint8_t *w = xmalloc(16 * row), *g = xmalloc(16 * row), *back = xmalloc(row);
            void *xq = xmalloc(3 * xrow);
            float *x = xmalloc(sizeof(float) * k), y[3 * 16];
            fill_weights(CASES[ci].type, w, k, 16);
            for (int j = 0; j < 3; j++) {
                fill_acts(x, k, 1);
                umi_act_q8_0(x, (char *)xq + j * xrow, k);
            }
            umi_layout_pack_group(CASES[ci].layout, g, w, k);
            for (int r = 0; r < 16; r++) {
                umi_layout_get_row(CASES[ci].layout, g, row, k, r, back);
                bad_bytes += memcmp(back, w + r * row, row) != 0;
            }
            CASES[ci].tile((int)k, g, row, 16, xq, xrow, 3, y, 16);
            for (int j = 0; j < 3; j++)
                for (int r = 0; r < 16; r++) {
                    const float want = CASES[ci].dot((int)k, w + r * row, (char *)xq + j * xrow);
                    bad_bits += memcmp(&want, &y[j * 16 + r], sizeof want) != 0;
                }
            free(w), free(g), free(back), free(xq), free(x);
        }
        check(bad_bytes == 0, "%s X16: every block reads back as packed", tname(CASES[ci].type));
        check(bad_bits == 0, "%s X16 scalar tile: the blocks dot's bits (%d differ)", tname(CASES[ci].type),
              bad_bits);
    }
}

/* Where the bytes go (interleave.h): blocks in pairs, the pair's 16-row d's
 * before its quants, an odd last block alone; 3 blocks per row, offsets
 * written out rather than computed by the layout's own helpers. */
static void test_x16_pairs(void) {
    static const struct {
        uint32_t type;
        int layout, qs;
        size_t d_at[3], qs_at[3];
    } CASES[] = {{UMI_TYPE_Q4_0, UMI_LAYOUT_X16, 16, {0, 32, 576}, {64, 320, 608}},
                 {UMI_TYPE_Q8_0, UMI_LAYOUT_X16_Q8_0, 32, {0, 32, 1088}, {64, 576, 1120}}};
    for (size_t ci = 0; ci < sizeof CASES / sizeof *CASES; ci++) {
        const int64_t k = 96;
        const size_t row = umi_type_row_size(CASES[ci].type, k), block = row / 3;
        uint8_t *w = xmalloc(16 * row), *g = xmalloc(16 * row);
        fill_weights(CASES[ci].type, w, k, 16);
        umi_layout_pack_group(CASES[ci].layout, g, w, k);
        int bad = 0;
        for (int r = 0; r < 16; r++)
            for (int b = 0; b < 3; b++) {
                const uint8_t *blk = w + r * row + b * block;
                bad += memcmp(g + CASES[ci].d_at[b] + 2 * r, blk, 2) != 0;
                for (int j = 0; j < CASES[ci].qs; j++)
                    bad += g[CASES[ci].qs_at[b] + (size_t)(j / 4) * 64 + 4 * r + j % 4] != blk[2 + j];
            }
        check(bad == 0, "%s X16: blocks in pairs, d's before quants (%d bytes misplaced)", tname(CASES[ci].type), bad);
        free(w), free(g);
    }
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    test_x16();
    test_x16_pairs();
    test_plans();
    test_dots_vs_traits();
    test_act_quantizers();
    test_pinned();
    printf("test_kernels_legacy: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
