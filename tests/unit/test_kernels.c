/* Every SIMD kernel against its scalar twin: identical bits, for lengths
 * with and without a tail, on random data. Also the plan's choices. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "core/expf.h"
#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/kquant.h"
#include "kernels/legacy.h"
#include "quant/blocks.h"
#include "quant/quant.h"

static int passed, failed;

static void check(bool ok, const char *what, int level, int n) {
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL %s at level %s, n=%d\n", what, umi_cpu_level_name((umi_cpu_level)level), n);
    }
}

static uint64_t rng = 88172645463325252ULL;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

static bool same(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* umi_expf_poly as first written, scaling by ldexpf: the power-of-two
 * shortcut must give the same bits. */
static float expf_poly_ldexpf(float x) {
    const float shift = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, shift);
    const float n = z - shift;
    if (fabsf(n) > 192.0f) return n > 0.0f ? INFINITY : 0.0f;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                         u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    return ldexpf(j, (int)n);
}

/* ---------------------------------------------------------------- quantized twins
 *
 * Every quantized dot's SIMD twin at each level (x86_legacy.c /
 * x86_kquant.c on x86, neon_quant.c on ARM) against the scalar order, bit
 * for bit: random weight bytes with finite fp16 scales, activations from
 * the plans' quantizers, many block counts; plus all-ones weights against
 * +-amax activations (the largest integer sums). */

enum { ACT_Q8_0, ACT_Q8_1, ACT_Q8_K };

typedef struct quant_case {
    const char *name;
    uint32_t type;
    umi_dot_fn dot;
    int act;
    int n_halves;
    size_t halves[2]; /* byte offsets of the block's fp16 scales */
} quant_case;

static const quant_case QUANT_CASES[] = {
    {"q4_0 lanes8", UMI_TYPE_Q4_0, umi_dot_q4_0_lanes8, ACT_Q8_0, 1, {offsetof(umi_block_q4_0, d)}},
    {"q4_0 blocks", UMI_TYPE_Q4_0, umi_dot_q4_0_blocks, ACT_Q8_0, 1, {offsetof(umi_block_q4_0, d)}},
    {"q5_0 lanes8", UMI_TYPE_Q5_0, umi_dot_q5_0_lanes8, ACT_Q8_0, 1, {offsetof(umi_block_q5_0, d)}},
    {"iq4_nl lanes8", UMI_TYPE_IQ4_NL, umi_dot_iq4_nl_lanes8, ACT_Q8_0, 1, {offsetof(umi_block_iq4_nl, d)}},
    {"iq4_nl blocks", UMI_TYPE_IQ4_NL, umi_dot_iq4_nl_blocks, ACT_Q8_0, 1, {offsetof(umi_block_iq4_nl, d)}},
    {"iq4_nl vec", UMI_TYPE_IQ4_NL, umi_dot_iq4_nl_vec, ACT_Q8_0, 1, {offsetof(umi_block_iq4_nl, d)}},
    {"q4_1 lanes8", UMI_TYPE_Q4_1, umi_dot_q4_1_lanes8, ACT_Q8_1, 2,
     {offsetof(umi_block_q4_1, d), offsetof(umi_block_q4_1, m)}},
    {"q5_1 lanes8", UMI_TYPE_Q5_1, umi_dot_q5_1_lanes8, ACT_Q8_1, 2,
     {offsetof(umi_block_q5_1, d), offsetof(umi_block_q5_1, m)}},
    {"q2_K lanes8", UMI_TYPE_Q2_K, umi_dot_q2_K_lanes8, ACT_Q8_K, 2,
     {offsetof(umi_block_q2_K, d), offsetof(umi_block_q2_K, dmin)}},
    {"q2_K gemv", UMI_TYPE_Q2_K, umi_dot_q2_K_gemv, ACT_Q8_K, 2,
     {offsetof(umi_block_q2_K, d), offsetof(umi_block_q2_K, dmin)}},
    {"q2_K gemm", UMI_TYPE_Q2_K, umi_dot_q2_K_gemm, ACT_Q8_K, 2,
     {offsetof(umi_block_q2_K, d), offsetof(umi_block_q2_K, dmin)}},
    {"q3_K lanes8", UMI_TYPE_Q3_K, umi_dot_q3_K_lanes8, ACT_Q8_K, 1, {offsetof(umi_block_q3_K, d)}},
    {"q4_K lanes8", UMI_TYPE_Q4_K, umi_dot_q4_K_lanes8, ACT_Q8_K, 2,
     {offsetof(umi_block_q4_K, d), offsetof(umi_block_q4_K, dmin)}},
    {"q4_K gemv", UMI_TYPE_Q4_K, umi_dot_q4_K_gemv, ACT_Q8_K, 2,
     {offsetof(umi_block_q4_K, d), offsetof(umi_block_q4_K, dmin)}},
    {"q4_K gemm", UMI_TYPE_Q4_K, umi_dot_q4_K_gemm, ACT_Q8_K, 2,
     {offsetof(umi_block_q4_K, d), offsetof(umi_block_q4_K, dmin)}},
    {"q5_K lanes8", UMI_TYPE_Q5_K, umi_dot_q5_K_lanes8, ACT_Q8_K, 2,
     {offsetof(umi_block_q5_K, d), offsetof(umi_block_q5_K, dmin)}},
    {"q6_K lanes8", UMI_TYPE_Q6_K, umi_dot_q6_K_lanes8, ACT_Q8_K, 1, {offsetof(umi_block_q6_K, d)}},
    {"iq4_xs lanes8", UMI_TYPE_IQ4_XS, umi_dot_iq4_xs_lanes8, ACT_Q8_K, 1, {offsetof(umi_block_iq4_xs, d)}},
};

/* A finite half of either sign, 2^-14 .. 2^2. */
static uint16_t rand_half(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint16_t)((rng >> 40 & 0x8000) | (1 + (rng >> 20) % 17) << 10 | (rng & 0x3ff));
}

static uint8_t rand_byte(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint8_t)(rng >> 32);
}

/* One row of activations for the case's dot, from k floats. Q8_K comes from
 * either of its quantizers (the 4-row one may store negative scales). */
static void quantize_act(int act, const float *x, void *a, int k, bool x4) {
    if (act == ACT_Q8_0) umi_act_q8_0(x, a, k);
    else if (act == ACT_Q8_1) umi_act_q8_1(x, a, k);
    else if (x4) umi_quant_from_float_q8_K_x4(x, a, k);
    else umi_type_traits_get(UMI_TYPE_Q8_K)->from_float(x, a, k);
}

static void test_quant_twins(int level) {
    enum { MAXK = 64 * 256 };
    static uint8_t w[MAXK]; /* every type stores < 1 byte per element */
    static float x[MAXK];
    static umi_block_q8_K a[MAXK / 256];
    const int blocks[] = {1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64};
    for (size_t c = 0; c < sizeof QUANT_CASES / sizeof *QUANT_CASES; c++) {
        const quant_case *qc = &QUANT_CASES[c];
        umi_dot_fn twin = umi_kernels_simd_twin_legacy(qc->dot, level);
        if (!twin) twin = umi_kernels_simd_twin_kquant(qc->dot, level);
        check(twin != NULL && twin != qc->dot, qc->name, level, 0);
        if (!twin) continue;
        const umi_type_traits *t = umi_type_traits_get(qc->type);
        for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++) {
            const int k = blocks[bi] * (int)t->blck_size;
            if (k > MAXK) continue;
            bool ok = true;
            for (int rep = 0; rep < 12; rep++) {
                const bool extreme = rep == 0;
                const size_t bytes = umi_type_row_size(qc->type, k);
                for (size_t i = 0; i < bytes; i++) w[i] = extreme ? 0xff : rand_byte();
                for (size_t b = 0; b < bytes / t->type_size; b++)
                    for (int h = 0; h < qc->n_halves; h++) {
                        const uint16_t v = rand_half();
                        memcpy(w + b * t->type_size + qc->halves[h], &v, sizeof v);
                    }
                const float scale = (float)(1 << rep % 5);
                for (int i = 0; i < k; i++) x[i] = extreme ? (i % 3 ? scale : -scale) : frand() * scale;
                quantize_act(qc->act, x, a, k, rep % 2);
                ok &= same(twin(k, w, a), qc->dot(k, w, a));
            }
            check(ok, qc->name, level, k);
        }
    }
}

/* The quantized families' register tiles on the file's layout (NEON's
 * blocks and K-quant tiles, x86's lanes8, blocks and K-quant tiles):
 * every shape up to the tile's, every output the scalar dot's bits, on
 * random blocks (weight rows and activation rows apart, as in a matrix;
 * Q8_K rows from both quantizers). */
static void test_quant_tiles(int level) {
    enum { ROWS = 17, TOKS = 9, NB = 12, YS = 20, ROW_MAX = 1024 };
    static uint8_t w[ROWS * ROW_MAX];
    static umi_block_q8_K a[TOKS * 3]; /* NB Q8_0 blocks or 3 Q8_K blocks a row */
    static float x[3 * 256];
    for (size_t c = 0; c < sizeof QUANT_CASES / sizeof *QUANT_CASES; c++) {
        const quant_case *qc = &QUANT_CASES[c];
        int tm = 0, tn = 0;
        const umi_tile_fn tile = qc->act == ACT_Q8_0   ? umi_kernels_tile_for_legacy(qc->dot, level, &tm, &tn)
                                 : qc->act == ACT_Q8_K ? umi_kernels_tile_for_kquant(qc->dot, level, &tm, &tn)
                                                       : NULL;
        if (!tile) continue;
        const umi_type_traits *t = umi_type_traits_get(qc->type);
        const int k = qc->act == ACT_Q8_0 ? NB * 32 : 3 * 256;
        const size_t row = umi_type_row_size(qc->type, k);
        const size_t xrow = qc->act == ACT_Q8_0 ? (size_t)NB * sizeof(umi_block_q8_0) : 3 * sizeof(umi_block_q8_K);
        for (int r = 0; r < ROWS; r++)
            for (size_t b = 0; b < row / t->type_size; b++) {
                uint8_t *blk = w + (size_t)r * row + b * t->type_size;
                for (size_t i = 0; i < t->type_size; i++) blk[i] = rand_byte();
                for (int h = 0; h < qc->n_halves; h++) {
                    const uint16_t v = rand_half();
                    memcpy(blk + qc->halves[h], &v, sizeof v);
                }
            }
        for (int j = 0; j < TOKS; j++) {
            for (int i = 0; i < k; i++) x[i] = frand() * (float)(1 << j % 5);
            quantize_act(qc->act, x, (char *)a + j * xrow, k, j % 2);
        }
        bool ok = true;
        for (int rm = 1; rm <= tm && rm <= ROWS; rm++)
            for (int rn = 1; rn <= tn && rn <= TOKS; rn++) {
                float out[TOKS * YS];
                tile(k, w, row, rm, a, xrow, rn, out, YS);
                for (int j = 0; j < rn; j++)
                    for (int i = 0; i < rm; i++)
                        ok &= same(out[j * YS + i], qc->dot(k, w + (size_t)i * row, (const char *)a + j * xrow));
            }
        check(ok, qc->name, level, 1000 + tm * 10 + tn);
    }
}

/* A bf16 of every class the dot meets: mostly ordinary values, some
 * denormals (read as zeros by VDPBF16PS), tiny ones (products flushed) and
 * large ones, all finite sums (an infinity would hide the order). */
static uint16_t rand_bf16(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    const uint32_t r = (uint32_t)(rng >> 16), sign = (r >> 8 & 1) << 15, mant = r >> 12 & 0x7f;
    switch (r % 16) {
    case 0: return (uint16_t)(sign | (r >> 9 & 0x7f));                       /* denormal */
    case 1: return (uint16_t)(sign | (1 + (r >> 9) % 8) << 7 | mant);         /* exponent 1..8 */
    case 2: return (uint16_t)(sign | (140 + (r >> 9) % 12) << 7 | mant);      /* large, products finite */
    default: return (uint16_t)(sign | (110 + (r >> 9) % 30) << 7 | mant);
    }
}

/* BF16's twins at each level against the emulated VDPBF16PS orders (on a
 * CPU with AVX512-BF16 this checks the emulation against the instruction),
 * and its tile against the dot; the plan's choice of order. */
static void test_bf16(int level) {
    enum { MAXN = 4096, ROWS = 6, TOKS = 5, K = 512 };
    static uint16_t a[MAXN], b[MAXN], w[ROWS * K], xs[TOKS * K];
    const int lens[] = {32, 64, 96, 100, 128, 250, 256, 2048, 4096};
    const umi_dot_fn vec = umi_kernels_simd_twin_bf16(umi_plan_dot_bf16_vec, level);
    const umi_dot_fn gemm = umi_kernels_simd_twin_bf16(umi_plan_dot_bf16_gemm, level);
    check(vec && gemm, "bf16 twins", level, 0);
    if (!vec || !gemm) return;
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
        const int n = lens[li];
        bool ok = true;
        for (int rep = 0; rep < 20; rep++) {
            for (int i = 0; i < n; i++) a[i] = rand_bf16(), b[i] = rand_bf16();
            if (rep % 4 == 3) /* sums near the smallest normal: each flush of VDPBF16PS shows */
                for (int i = 0; i < n; i++) a[i] = (uint16_t)((a[i] & 0x807f) | (1 + i % 12) << 7), b[i] = (uint16_t)((b[i] & 0x807f) | (110 + i % 18) << 7);
            ok &= same(vec(n, a, b), umi_plan_dot_bf16_vec(n, a, b));
            if (n % 32 == 0) ok &= same(gemm(n, a, b), umi_plan_dot_bf16_gemm(n, a, b));
        }
        check(ok, "bf16 vec/gemm twins", level, n);
    }
    for (int order = 0; order < 2; order++) {
        const umi_dot_fn dot = order ? umi_plan_dot_bf16_vec : umi_plan_dot_bf16_gemm;
        const int k = order ? K - 32 : K; /* the vector order with a tail */
        int tm = 0, tn = 0;
        const umi_tile_fn tile = umi_kernels_tile_for_bf16(dot, level, &tm, &tn);
        if (!tile) continue;
        for (int i = 0; i < ROWS * K; i++) w[i] = rand_bf16();
        for (int i = 0; i < TOKS * K; i++) xs[i] = rand_bf16();
        bool ok = true;
        for (int rm = 1; rm <= tm && rm <= ROWS; rm++)
            for (int rn = 1; rn <= tn && rn <= TOKS; rn++) {
                float out[TOKS * 8];
                tile(k, w, K * 2, rm, xs, K * 2, rn, out, 8);
                for (int j = 0; j < rn; j++)
                    for (int i = 0; i < rm; i++) ok &= same(out[j * 8 + i], dot(k, w + i * K, xs + j * K));
            }
        check(ok, order ? "bf16 vec tile" : "bf16 gemm tile", level, tm * 10 + tn);
    }
}

/* The dispatcher hands out the twins at the CPU's level: a decode product's dot. */
static void test_quant_plans(int level) {
    const umi_kernel_plan q4k = umi_kernels_plan(UMI_TYPE_Q4_K, 256, 8, 1, 0);
    const umi_kernel_plan q6k = umi_kernels_plan(UMI_TYPE_Q6_K, 256, 8, 1, 0);
    const umi_kernel_plan q41 = umi_kernels_plan(UMI_TYPE_Q4_1, 256, 8, 1, 0);
    check(q4k.dot == umi_kernels_simd_twin_kquant(umi_dot_q4_K_gemv, level), "plan q4_K twin", level, 256);
    check(q6k.dot == umi_kernels_simd_twin_kquant(umi_dot_q6_K_lanes8, level), "plan q6_K twin", level, 256);
    check(q41.dot == umi_kernels_simd_twin_legacy(umi_dot_q4_1_lanes8, level), "plan q4_1 twin", level, 256);
    /* ARM decodes Q4_K (no interleaved layout there) through its tile, 4 rows a reduction */
    if (level == UMI_CPU_NEON) check(q4k.tile != NULL && q4k.tile_m == 4, "plan q4_K decode tile", level, 256);
    if (level == UMI_CPU_NEON)
        check(umi_kernels_plan(UMI_TYPE_Q2_K, 256, 8, 1, 0).tile != NULL, "plan q2_K decode tile", level, 256);
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    enum { MAXN = 4096 };
    static float x[MAXN], y[MAXN];
    static uint16_t hx[MAXN], hy[MAXN];
    static umi_block_q8_0 qx[MAXN / 32], qy[MAXN / 32];
    const int lens[] = {16, 32, 48, 64, 96, 128, 172, 256, 768, 2048, 4096};
    const int top = umi_cpu_level_get();
    /* The SIMD levels this CPU runs: AVX2 and AVX-512 on x86, NEON on ARM. */
    int levels[3], n_levels = 0;
    if (top == UMI_CPU_NEON) levels[n_levels++] = UMI_CPU_NEON;
    for (int l = UMI_CPU_AVX2; top != UMI_CPU_NEON && l <= top; l++) levels[n_levels++] = l;
    for (int li_ = 0; li_ < n_levels; li_++) {
        const int level = levels[li_];
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            const int n = lens[li];
            for (int rep = 0; rep < 20; rep++) {
                for (int i = 0; i < n; i++) {
                    x[i] = frand() * 3, y[i] = frand();
                    hx[i] = umi_fp32_to_fp16(x[i]), hy[i] = umi_fp32_to_fp16(y[i]);
                }
                const umi_dot_fn fns[] = {umi_plan_dot_f32_vec, umi_plan_dot_f32_gemm,
                                          umi_plan_dot_f16_vec, umi_plan_dot_f16_gemm};
                const char *names[] = {"f32 vec", "f32 gemm", "f16 vec", "f16 gemm"};
                for (int f = 0; f < 4; f++) {
                    if ((f == 1 || f == 3) && n % 16) continue;
                    const void *a = f < 2 ? (const void *)x : (const void *)hx;
                    const void *b = f < 2 ? (const void *)y : (const void *)hy;
                    const umi_dot_fn twin = umi_kernels_simd_twin(fns[f], level);
                    check(twin != fns[f] && same(twin(n, a, b), fns[f](n, a, b)), names[f], level, n);
                }
                if (n % 32 == 0) {
                    const umi_type_traits *q8 = umi_type_traits_get(UMI_TYPE_Q8_0);
                    q8->from_float(x, qx, n);
                    q8->from_float(y, qy, n);
                    const umi_dot_fn twin = umi_kernels_simd_twin(umi_dot_q8_0_lanes8, level);
                    check(twin != umi_dot_q8_0_lanes8 &&
                              same(twin(n, qx, qy), umi_dot_q8_0_lanes8(n, qx, qy)),
                          "q8_0", level, n);
                    float ref;
                    q8->vec_dot(n, &ref, qx, qy);
                    check(fabsf(ref - umi_dot_q8_0_lanes8(n, qx, qy)) <= 1e-4f * (1 + fabsf(ref)),
                          "q8_0 lanes vs traits", level, n);
                }
            }
        }
    }
    for (int li_ = 0; li_ < n_levels; li_++) test_quant_twins(levels[li_]);
    for (int li_ = 0; li_ < n_levels; li_++) test_quant_tiles(levels[li_]);
    for (int li_ = 0; li_ < n_levels; li_++) test_bf16(levels[li_]);
    if (n_levels > 0) test_quant_plans(top);
    /* Tiles: every element equals the single dot, for full and edge tiles. */
    for (int li_ = 0; li_ < n_levels; li_++) {
        const int level = levels[li_];
        enum { K = 256, ROWS = 7, TOKS = 6 };
        static float w32[ROWS * K], x32[TOKS * K];
        static uint16_t w16[ROWS * K], x16[TOKS * K];
        static float x16w[TOKS * K]; /* x16 widened, as batched F16 tiles read it (wide.c) */
        static umi_block_q8_0 w8[ROWS * K / 32], x8[TOKS * K / 32];
        for (int i = 0; i < ROWS * K; i++) w32[i] = frand(), w16[i] = umi_fp32_to_fp16(w32[i]);
        for (int i = 0; i < TOKS * K; i++)
            x32[i] = frand(), x16[i] = umi_fp32_to_fp16(x32[i]), x16w[i] = umi_fp16_to_fp32(x16[i]);
        const umi_type_traits *q8 = umi_type_traits_get(UMI_TYPE_Q8_0);
        q8->from_float(w32, w8, ROWS * K);
        q8->from_float(x32, x8, TOKS * K);
        const struct { umi_dot_fn dot; const void *w, *x; size_t row, xrow; const char *name; } cases[] = {
            {umi_plan_dot_f32_gemm, w32, x32, K * sizeof(float), K * sizeof(float), "f32 tile"},
            {umi_plan_dot_f16_gemm_wide, w16, x16w, K * sizeof(uint16_t), K * sizeof(float), "f16 wide tile"},
            {umi_plan_dot_f16_vec, w16, x16, K * sizeof(uint16_t), K * sizeof(uint16_t), "f16 vec tile"},
            {umi_dot_q8_0_lanes8, w8, x8, K / 32 * sizeof(umi_block_q8_0), K / 32 * sizeof(umi_block_q8_0),
             "q8_0 tile"},
        };
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            int tm = 0, tn = 0;
            umi_tile_fn tile = umi_kernels_tile_for(cases[c].dot, level, &tm, &tn);
            if (!tile) continue;
            for (int rm = 1; rm <= tm; rm++)
                for (int rn = 1; rn <= tn; rn++) {
                    float out[16 * 16];
                    tile(K, cases[c].w, cases[c].row, rm, cases[c].x, cases[c].xrow, rn, out, 16);
                    bool ok = true;
                    for (int j = 0; j < rn; j++)
                        for (int i = 0; i < rm; i++)
                            ok &= same(out[j * 16 + i],
                                       cases[c].dot(K, (const char *)cases[c].w + i * cases[c].row,
                                                    (const char *)cases[c].x + j * cases[c].xrow));
                    check(ok, cases[c].name, level, rm * 10 + rn);
                }
        }
    }

    /* The plan: F32 weights take the batched order for >= 2 tokens when k % 16 == 0. */
    umi_kernel_plan p1 = umi_kernels_plan(UMI_TYPE_F32, 256, 8, 1, 0);
    umi_kernel_plan p2 = umi_kernels_plan(UMI_TYPE_F32, 256, 8, 2, 1);
    umi_kernel_plan p3 = umi_kernels_plan(UMI_TYPE_F32, 172, 8, 2, 1);
    check(p1.dot == umi_kernels_simd_twin(umi_plan_dot_f32_vec, top), "plan f32 decode", top, 256);
    check(p2.dot == umi_kernels_simd_twin(umi_plan_dot_f32_gemm, top), "plan f32 batch", top, 256);
    check(p3.dot == umi_kernels_simd_twin(umi_plan_dot_f32_vec, top), "plan f32 k%16", top, 172);
    /* BF16: the batched order for >= 2 tokens when k % 32 == 0 and the rows come in fours */
    const umi_dot_fn bf_vec = umi_kernels_simd_twin_bf16(umi_plan_dot_bf16_vec, top);
    const umi_dot_fn bf_gemm = umi_kernels_simd_twin_bf16(umi_plan_dot_bf16_gemm, top);
    check(umi_kernels_plan(UMI_TYPE_BF16, 256, 8, 2, 1).dot == (bf_gemm ? bf_gemm : umi_plan_dot_bf16_gemm),
          "plan bf16 batch", top, 256);
    check(umi_kernels_plan(UMI_TYPE_BF16, 256, 8, 1, 0).dot == (bf_vec ? bf_vec : umi_plan_dot_bf16_vec),
          "plan bf16 decode", top, 256);
    check(umi_kernels_plan(UMI_TYPE_BF16, 240, 8, 2, 1).dot == (bf_vec ? bf_vec : umi_plan_dot_bf16_vec),
          "plan bf16 k%32", top, 240);
    check(umi_kernels_plan(UMI_TYPE_BF16, 256, 6, 2, 1).dot == (bf_vec ? bf_vec : umi_plan_dot_bf16_vec),
          "plan bf16 m%4", top, 256);
    /* exp: every float step from -150 to 150 by 2^-12, plus the edges of the
     * normal range (results near 2^-126, subnormal, overflowing). */
    {
        int bad = 0;
        for (float xv = -150.0f; xv <= 150.0f; xv += 0x1p-12f) bad += !same(umi_expf_poly(xv), expf_poly_ldexpf(xv));
        for (int i = 0; i < 200000; i++) {
            const float xv = -88.5f + frand() * 2.0f, xw = 88.0f + frand() * 1.5f;
            bad += !same(umi_expf_poly(xv), expf_poly_ldexpf(xv)) + !same(umi_expf_poly(xw), expf_poly_ldexpf(xw));
        }
        check(bad == 0, "expf_poly scaling", top, bad);
    }

    /* Attention chains over an F16 cache, rows in scrambled cell order. */
    for (int li_ = 0; li_ < n_levels; li_++) {
        const int level = levels[li_];
        enum { CELLS = 80, STRIDE = 136 };
        static uint16_t cache[CELLS * STRIDE];
        static float q[5 * STRIDE], s0[5 * 64], s1[5 * 64], o0[5 * STRIDE], o1[5 * STRIDE];
        for (int i = 0; i < CELLS * STRIDE; i++) cache[i] = umi_fp32_to_fp16(frand());
        const umi_att_kernels att = umi_kernels_att(level);
        const int hds[] = {7, 16, 63, 64, 80, 128, 136}, ns[] = {1, 5, 16, 37, 64};
        for (size_t h = 0; h < sizeof hds / sizeof *hds; h++)
            for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
                const int hd = hds[h], n = ns[c];
                int32_t off[64];
                for (int i = 0; i < n; i++) off[i] = ((i * 37 + 11) % CELLS) * STRIDE;
                for (int d = 0; d < 5 * hd; d++) q[d] = frand();
                for (int i = 0; i < 5 * 64; i++) s0[i] = frand() * 0.1f;
                bool ok = true;
                for (int nq = 1; nq <= 5; nq++) { /* query sets of 1, 2, 4 and mixes */
                    umi_att_scores_f16(cache, off, n, q, nq, hd, s1, 64);
                    float sv[5 * 64];
                    att.scores(cache, off, n, q, nq, hd, sv, 64);
                    for (int a = 0; a < nq; a++)
                        for (int i = 0; i < n; i++) ok &= same(sv[a * 64 + i], s1[a * 64 + i]);
                }
                check(ok, "att scores", level, hd * 100 + n);
                ok = true;
                for (int nq = 1; nq <= 5; nq++) { /* weight rows of 1, 2, 4 and mixes */
                    for (int d = 0; d < nq * hd; d++) o0[d] = o1[d] = frand();
                    umi_att_accum_f16(cache, off, n, s0, 64, nq, hd, o0);
                    att.accum(cache, off, n, s0, 64, nq, hd, o1);
                    for (int d = 0; d < nq * hd; d++) ok &= same(o0[d], o1[d]);
                }
                check(ok, "att accum", level, hd * 100 + n);
            }
    }

    /* Routed (expert) products: the single-token dot for every token, and
     * a tile only if it is that same dot's. */
    const umi_kernel_plan r1 = umi_kernels_plan_solo(UMI_TYPE_F16, 256, 64);
    check(r1.dot == umi_kernels_simd_twin(umi_plan_dot_f16_vec, top), "routed f16 dot", top,
          256);
    int rtm = 0, rtn = 0;
    check(r1.tile == umi_kernels_tile_for(umi_plan_dot_f16_vec, top, &rtm, &rtn), "routed f16 tile", top, 256);
    printf("cpu level %s\n%d passed, %d failed\n", umi_cpu_level_name((umi_cpu_level)top), passed,
           failed);
    return failed ? 1 : 0;
}
