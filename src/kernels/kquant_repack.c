/* Q2_K and Q4_K dots in the order of the reference's repacked kernels, and
 * the activation quantizer of its 4-row gemm.
 *
 * On x86 the reference repacks Q4_K (AVX2) and Q2_K (AVX-512) weights with a
 * multiple of 8 rows into 8-row interleaved blocks, and multiplies them with
 * ggml_gemv_* (one activation row) or ggml_gemm_* (4 rows at a time). For
 * every output both keep two float accumulators, one for the scaled quants
 * and one for the mins, and add integer partial sums (exact) as
 * fma((float)sum, d_w * d_a, acc); the output is acc - acc_min. They differ
 * in how much of a super-block one partial sum covers: the gemv adds whole
 * super-blocks, the gemm adds each pass of its inner loop (128 elements for
 * Q2_K, 64 for Q4_K). */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/fp16.h"
#include "kernels/kquant.h"
#include "kernels/kquant_decode.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

static inline float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

/* Mins part of elements [e0, e1): sum of mn * bsums over their 16-groups. */
static int32_t min_sum(const kq_unpacked *u, const umi_block_q8_K *a, int e0, int e1) {
    int32_t sum = 0;
    for (int s = e0 / 16; s < e1 / 16; s++) sum += u->mn[s] * a->bsums[s];
    return sum;
}

/* The shared shape: `span` elements per accumulation step. */
static void dot_steps(const kq_unpacked *u, const umi_block_q8_K *a, float d, float dmin,
                      int span, float acc[2]) {
    for (int e = 0; e < UMI_QK_K; e += span) {
        acc[0] = fmaf((float)kq_scaled_sum(u, a->qs, e, e + span), d * a->d, acc[0]);
        acc[1] = fmaf((float)min_sum(u, a, e, e + span), dmin * a->d, acc[1]);
    }
}

static float dot_q2_K(int k, const void *vw, const void *va, int span) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[2] = {0.0f, 0.0f};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_unpack_q2_K(&w[b], &u);
        dot_steps(&u, &a[b], half(w[b].d), half(w[b].dmin), span, acc);
    }
    return acc[0] - acc[1];
}

static void block_q4_K(const umi_block_q4_K *w, const umi_block_q8_K *a, int span, float acc[2]) {
    kq_unpacked u;
    kq_unpack_q4_K(w, &u);
    dot_steps(&u, a, half(w->d), half(w->dmin), span, acc);
}

static float dot_q4_K(int k, const void *vw, const void *va, int span) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[2] = {0.0f, 0.0f};
    for (int b = 0; b < k / UMI_QK_K; b++) block_q4_K(&w[b], &a[b], span, acc);
    return acc[0] - acc[1];
}

/* The same on an X16_Q4_K group: each row's blocks read back one by one. */
static void tile_q4_K_x16(int k, const void *group, int rm, const void *x, size_t xs, int rn, float *y, size_t ys,
                          int span) {
    for (int j = 0; j < rn; j++) {
        const umi_block_q8_K *a = (const umi_block_q8_K *)(const void *)((const char *)x + j * xs);
        for (int r = 0; r < rm; r++) {
            float acc[2] = {0.0f, 0.0f};
            for (int b = 0; b < k / UMI_QK_K; b++) {
                umi_block_q4_K w;
                umi_x16_q4_K_get_block(group, r, b, &w);
                block_q4_K(&w, &a[b], span, acc);
            }
            y[j * ys + r] = acc[0] - acc[1];
        }
    }
}

/* ggml_gemv_q2_K_8x8_q8_K / ggml_gemm_q2_K_8x8_q8_K (AVX-512 and AVX2 tails). */
float umi_dot_q2_K_gemv(int k, const void *w, const void *a) { return dot_q2_K(k, w, a, UMI_QK_K); }
float umi_dot_q2_K_gemm(int k, const void *w, const void *a) { return dot_q2_K(k, w, a, 128); }

/* ggml_gemv_q4_K_8x8_q8_K / ggml_gemm_q4_K_8x8_q8_K. */
float umi_dot_q4_K_gemv(int k, const void *w, const void *a) { return dot_q4_K(k, w, a, UMI_QK_K); }
float umi_dot_q4_K_gemm(int k, const void *w, const void *a) { return dot_q4_K(k, w, a, 64); }

void umi_tile_q4_K_x16_gemv(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                            size_t ys) {
    (void)ws;
    tile_q4_K_x16(k, w, rm, x, xs, rn, y, ys, UMI_QK_K);
}

void umi_tile_q4_K_x16_gemm(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                            size_t ys) {
    (void)ws;
    tile_q4_K_x16(k, w, rm, x, xs, rn, y, ys, 64);
}

/* ---------------------------------------------------------------- 4-row activation quantizer */

/* Round to nearest, ties to even (|v| < 2^22), as the reference's vector
 * rounding does in the default rounding mode. */
static inline int round_even(float v) {
    const float biased = v + 12582912.0f;
    uint32_t bits;
    memcpy(&bits, &biased, sizeof bits);
    return (int)(bits & 0x7fffffu) - 0x400000;
}

/* Mirrors ggml_quantize_mat_q8_K_4x8 (AVX2) for one row: amax over the
 * block; iscale = -127/amax if some element equals +amax, else 127/amax
 * (0 for an all-zero block); d = 1/iscale (0 if amax is 0). */
void umi_quant_from_float_q8_K_x4(const float *x, void *vy, int64_t k) {
    umi_block_q8_K *y = vy;
    for (int64_t b = 0; b < k / UMI_QK_K; b++, x += UMI_QK_K) {
        float amax = 0.0f;
        for (int e = 0; e < UMI_QK_K; e++) amax = fmaxf(amax, fabsf(x[e]));
        bool positive = false;
        for (int e = 0; e < UMI_QK_K; e++) positive |= x[e] == amax;
        const float iscale = amax == 0.0f ? 0.0f : positive ? -127.0f / amax : 127.0f / amax;
        y[b].d = amax == 0.0f ? 0.0f : 1.0f / iscale;
        for (int e = 0; e < UMI_QK_K; e++) {
            const int q = round_even(x[e] * iscale);
            y[b].qs[e] = (int8_t)(q > 127 ? 127 : q < -128 ? -128 : q);
        }
        for (int g = 0; g < UMI_QK_K / 16; g++) {
            int sum = 0;
            for (int e = 16 * g; e < 16 * g + 16; e++) sum += y[b].qs[e];
            y[b].bsums[g] = (int16_t)sum;
        }
    }
}
