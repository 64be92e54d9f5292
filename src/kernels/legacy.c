/* Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL in the reference engine's order.
 *
 * Which reference kernel serves a product with these weights (llama.cpp's
 * CPU backend built with -march=native on an AVX2/AVX-512/VNNI machine):
 *
 *   type    rows % 8   tokens   reference kernel                     here
 *   Q4_0    0          any      repacked q4_0_8x8 gemv / gemm        umi_dot_q4_0_blocks
 *   Q4_0    else       1        vec_dot (AVX2)                       umi_dot_q4_0_lanes8
 *   Q4_0    else       >= 2     tinyBLAS_Q0_AVX (llamafile sgemm)    umi_dot_q4_0_lanes8
 *   IQ4_NL  0          any      repacked iq4_nl_8x8 gemv / gemm      umi_dot_iq4_nl_blocks
 *   IQ4_NL  else       1        vec_dot (AVX2, two accumulators)     umi_dot_iq4_nl_vec
 *   IQ4_NL  else       >= 2     tinyBLAS_Q0_AVX                      umi_dot_iq4_nl_lanes8
 *   Q5_0    any        1 / >=2  vec_dot / tinyBLAS_Q0_AVX            umi_dot_q5_0_lanes8
 *   Q8_0    any        1 / >=2  vec_dot / tinyBLAS_Q0_AVX            umi_dot_q8_0_lanes8
 *   Q4_1    any        any      vec_dot (no sgemm, no repack)        umi_dot_q4_1_lanes8
 *   Q5_1    any        any      vec_dot (no sgemm, no repack)        umi_dot_q5_1_lanes8
 *
 * Integer sums are exact, so only the float steps need to follow the
 * reference. Two orders occur:
 *  - "lanes8": per 32-element block, 8 float lanes each fed the integer sum
 *    of 4 adjacent products (elements 4l..4l+3), scaled by dx*dy with a fused
 *    multiply-add; the 8 lanes are reduced as (l + l+4), then (0+2) + (1+3).
 *    The vector dot and tinyBLAS share it (the same per-block byte dot and
 *    the same reduction).
 *  - "blocks" (repacked weights): one float accumulator per output, fed the
 *    integer sum of the whole block times dw*dx with a fused multiply-add.
 *    The repacked gemv and gemm (4 or 16 token rows at a time, the rest by
 *    gemv) agree on this order, so the token's index does not matter.
 * The repack happens for 2-D weights used by a matrix product whose row
 * count is a multiple of 8 (token_embd, read by get_rows, is not repacked;
 * the output matrix is, even when tied to token_embd).
 * umi's own load-time repack of Q8_0 (X16_Q8_0, on request) uses the
 * blocks order too, which is not the reference's for Q8_0: umi_dot_q8_0_blocks.
 *
 * Activations: every path quantizes them with the x86 run-time quantizer
 * (quantize_row_q8_0 / q8_1, AVX2 branch, and the 4-row interleaved
 * quantize_mat_q8_0_4x8 for repacked gemm, which gives the same values):
 * id = 127 / amax and q = x * id rounded half to even, where the traits'
 * portable quantizer takes id = 1 / d and rounds half away from zero.
 *
 * The reference compiles its C kernels as GNU C, where GCC fuses a*b + c;
 * umi builds with -ffp-contract=off, so the fused steps are written as
 * fmaf and everything else stays unfused.
 */
#include <math.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/legacy.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

enum { QK = 32, LANES8 = 8 };

static inline float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

/* ---------------------------------------------------------------- activation quantizers */

static float block_amax(const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < QK; j++) {
        const float a = fabsf(x[j]);
        if (a > amax) amax = a;
    }
    return amax;
}

/* cvtps_epi32 of a value already rounded half to even, then the saturating
 * packs to int8. */
static inline int8_t round_even_i8(float v) {
    const float r = nearbyintf(v); /* default rounding mode: ties to even */
    return (int8_t)(r > 127.0f ? 127 : r < -128.0f ? -128 : (int)r);
}

/* Mirrors quantize_row_q8_0 (x86 AVX2 branch): d = amax / 127 stored as
 * fp16, q = x * (127 / amax) rounded half to even. */
void umi_act_q8_0(const float *x, void *vy, int64_t k) {
    umi_block_q8_0 *y = vy;
    for (int64_t i = 0; i < k / QK; i++, x += QK) {
        const float amax = block_amax(x);
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = umi_fp32_to_fp16(amax / 127.0f);
        for (int j = 0; j < QK; j++) y[i].qs[j] = round_even_i8(x[j] * id);
    }
}

/* Mirrors quantize_row_q8_1 (x86 AVX2 branch): as umi_act_q8_0, plus
 * s = fp16(d * sum(q)) with the fp32 d. */
void umi_act_q8_1(const float *x, void *vy, int64_t k) {
    umi_block_q8_1 *y = vy;
    for (int64_t i = 0; i < k / QK; i++, x += QK) {
        const float amax = block_amax(x);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < QK; j++) {
            y[i].qs[j] = round_even_i8(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].d = umi_fp32_to_fp16(d);
        y[i].s = umi_fp32_to_fp16(d * (float)sum);
    }
}

/* ---------------------------------------------------------------- weight blocks as bytes
 *
 * Each unpacks one block to its 32 integer levels, element j at index j
 * (the low nibbles are elements 0..15, the high nibbles 16..31, as the
 * reference's byte vectors hold them), and returns the fp16 scale d. */

static inline int nibble(const uint8_t *qs, int j) {
    return j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
}

static inline uint32_t load_u32_le(const uint8_t b[4]) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline float unpack_q4_0(const void *vb, int8_t w[QK]) {
    const umi_block_q4_0 *b = vb;
    for (int j = 0; j < QK; j++) w[j] = (int8_t)(nibble(b->qs, j) - 8);
    return half(b->d);
}

static inline float unpack_q5_0(const void *vb, int8_t w[QK]) {
    const umi_block_q5_0 *b = vb;
    const uint32_t qh = load_u32_le(b->qh);
    for (int j = 0; j < QK; j++)
        w[j] = (int8_t)((nibble(b->qs, j) | (int)((qh >> j) & 1u) << 4) - 16);
    return half(b->d);
}

static inline float unpack_iq4_nl(const void *vb, int8_t w[QK]) {
    const umi_block_iq4_nl *b = vb;
    for (int j = 0; j < QK; j++) w[j] = umi_iq4nl_values[nibble(b->qs, j)];
    return half(b->d);
}

static inline float unpack_q8_0(const void *vb, int8_t w[QK]) {
    const umi_block_q8_0 *b = vb;
    for (int j = 0; j < QK; j++) w[j] = b->qs[j];
    return half(b->d);
}

/* The _1 types also return their offset m. */
static inline float unpack_q4_1(const void *vb, int8_t w[QK], float *m) {
    const umi_block_q4_1 *b = vb;
    for (int j = 0; j < QK; j++) w[j] = (int8_t)nibble(b->qs, j);
    *m = half(b->m);
    return half(b->d);
}

static inline float unpack_q5_1(const void *vb, int8_t w[QK], float *m) {
    const umi_block_q5_1 *b = vb;
    const uint32_t qh = load_u32_le(b->qh);
    for (int j = 0; j < QK; j++) w[j] = (int8_t)(nibble(b->qs, j) | (int)((qh >> j) & 1u) << 4);
    *m = half(b->m);
    return half(b->d);
}

/* ---------------------------------------------------------------- the two orders */

/* One block's 8 lanes: lane l holds the products of elements 4l..4l+3
 * (the reference's dpbusd per 32-bit lane). Each product fits in 16 bits
 * (|w|, |a| <= 128); products first, then sums, vectorizes well. */
static inline void lane_sums(const int8_t *w, const int8_t *a, int32_t lane[LANES8]) {
    int16_t p[QK];
    for (int j = 0; j < QK; j++) p[j] = (int16_t)(w[j] * a[j]);
    for (int l = 0; l < LANES8; l++)
        lane[l] = ((int32_t)p[4 * l] + p[4 * l + 1]) + ((int32_t)p[4 * l + 2] + p[4 * l + 3]);
}

static inline int32_t block_sum(const int8_t *w, const int8_t *a) {
    int32_t s = 0;
    for (int j = 0; j < QK; j++) s += w[j] * a[j];
    return s;
}

/* hsum_float_8 (vec path) and tinyBLAS's hsum(__m256): upper half plus lower
 * half, then (0+2) + (1+3). */
static inline float hsum8(const float v[LANES8]) {
    float h4[4];
    for (int l = 0; l < 4; l++) h4[l] = v[l + 4] + v[l];
    return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

typedef float (*unpack0_fn)(const void *block, int8_t w[QK]);

/* Weights with signed levels (the _0 types and IQ4_NL) against Q8_0:
 * ggml_vec_dot_{q4_0,q5_0}_q8_0 (AVX2 branch) and tinyBLAS_Q0_AVX. */
static inline float lanes8_0(int k, const void *vw, size_t bsize, unpack0_fn unpack,
                             const umi_block_q8_0 *y) {
    const char *w = vw;
    float acc[LANES8] = {0};
    for (int b = 0; b < k / QK; b++) {
        int8_t q[QK];
        int32_t lane[LANES8];
        const float d = unpack(w + b * bsize, q) * half(y[b].d);
        lane_sums(q, y[b].qs, lane);
        for (int l = 0; l < LANES8; l++) acc[l] = fmaf(d, (float)lane[l], acc[l]);
    }
    return hsum8(acc);
}

/* Repacked weights: gemv_q4_b32_8x8_q8_0_lut_avx and its gemm twin (x86
 * repack.cpp): acc = fma(float(block sum), dw * dx, acc), block by block. */
static inline float blocks_0(int k, const void *vw, size_t bsize, unpack0_fn unpack,
                             const umi_block_q8_0 *y) {
    const char *w = vw;
    float acc = 0.0f;
    for (int b = 0; b < k / QK; b++) {
        int8_t q[QK];
        const float d = unpack(w + b * bsize, q) * half(y[b].d);
        acc = fmaf((float)block_sum(q, y[b].qs), d, acc);
    }
    return acc;
}

float umi_dot_q4_0_lanes8(int k, const void *w, const void *x) {
    return lanes8_0(k, w, sizeof(umi_block_q4_0), unpack_q4_0, x);
}

float umi_dot_q4_0_blocks(int k, const void *w, const void *x) {
    return blocks_0(k, w, sizeof(umi_block_q4_0), unpack_q4_0, x);
}

float umi_dot_q5_0_lanes8(int k, const void *w, const void *x) {
    return lanes8_0(k, w, sizeof(umi_block_q5_0), unpack_q5_0, x);
}

float umi_dot_iq4_nl_lanes8(int k, const void *w, const void *x) {
    return lanes8_0(k, w, sizeof(umi_block_iq4_nl), unpack_iq4_nl, x);
}

float umi_dot_iq4_nl_blocks(int k, const void *w, const void *x) {
    return blocks_0(k, w, sizeof(umi_block_iq4_nl), unpack_iq4_nl, x);
}

/* Q8_0 in the blocks order: umi's own, not the reference's (which sums
 * Q8_0 in lanes8). Only weights in the X16_Q8_0 layout take it. */
float umi_dot_q8_0_blocks(int k, const void *w, const void *x) {
    return blocks_0(k, w, sizeof(umi_block_q8_0), unpack_q8_0, x);
}

typedef void (*get_block_fn)(const void *group, int64_t nb, int r, int64_t b, void *block);

/* The blocks order on an X16 group (quant/interleave.h): rows [0, rm) of
 * the group against rn tokens, each output exactly blocks_0 of that row. */
static inline void blocks_x16(int k, const void *group, int rm, get_block_fn get, unpack0_fn unpack,
                              const void *vx, size_t xs, int rn, float *y, size_t ys) {
    const int64_t nb = k / QK;
    for (int r = 0; r < rm; r++)
        for (int j = 0; j < rn; j++) {
            const umi_block_q8_0 *x = (const umi_block_q8_0 *)((const char *)vx + j * xs);
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                uint8_t blk[sizeof(umi_block_q8_0)]; /* the largest block read here */
                int8_t q[QK];
                get(group, nb, r, b, blk);
                const float d = unpack(blk, q) * half(x[b].d);
                acc = fmaf((float)block_sum(q, x[b].qs), d, acc);
            }
            y[j * ys + r] = acc;
        }
}

void umi_tile_q4_0_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                       size_t ys) {
    (void)ws;
    blocks_x16(k, w, rm, umi_x16_get_block, unpack_q4_0, x, xs, rn, y, ys);
}

void umi_tile_iq4_nl_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                         size_t ys) {
    (void)ws;
    blocks_x16(k, w, rm, umi_x16_get_block, unpack_iq4_nl, x, xs, rn, y, ys);
}

void umi_tile_q8_0_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                       size_t ys) {
    (void)ws;
    blocks_x16(k, w, rm, umi_x16_q8_0_get_block, unpack_q8_0, x, xs, rn, y, ys);
}

/* ggml_vec_dot_iq4_nl_q8_0 (AVX2 branch): blocks in pairs, even blocks to
 * one set of 8 lanes and odd blocks to another, the two sets added lane by
 * lane before the reduction; an odd last block is added after it, unfused
 * (as the reference's compiler left it). */
float umi_dot_iq4_nl_vec(int k, const void *vw, const void *vx) {
    const umi_block_iq4_nl *w = vw;
    const umi_block_q8_0 *y = vx;
    const int nb = k / QK;
    float acc[2][LANES8] = {{0}};
    int b = 0;
    for (; b + 1 < nb; b += 2)
        for (int h = 0; h < 2; h++) {
            int8_t q[QK];
            int32_t lane[LANES8];
            const float d = half(y[b + h].d) * unpack_iq4_nl(&w[b + h], q);
            lane_sums(q, y[b + h].qs, lane);
            for (int l = 0; l < LANES8; l++) acc[h][l] = fmaf(d, (float)lane[l], acc[h][l]);
        }
    float v[LANES8];
    for (int l = 0; l < LANES8; l++) v[l] = acc[0][l] + acc[1][l];
    float sum = hsum8(v);
    if (b < nb) {
        int8_t q[QK];
        const float d = half(y[b].d) * unpack_iq4_nl(&w[b], q);
        sum = sum + (float)block_sum(q, y[b].qs) * d;
    }
    return sum;
}

typedef float (*unpack1_fn)(const void *block, int8_t w[QK], float *m);

/* Unsigned levels with an offset against Q8_1: ggml_vec_dot_{q4_1,q5_1}_q8_1
 * (AVX2 branch). The offsets accumulate separately as m*s with fused
 * multiply-adds and are added once, after the lane reduction. */
static inline float lanes8_1(int k, const void *vw, size_t bsize, unpack1_fn unpack,
                             const umi_block_q8_1 *y) {
    const char *w = vw;
    float acc[LANES8] = {0};
    float summs = 0.0f;
    for (int b = 0; b < k / QK; b++) {
        int8_t q[QK];
        int32_t lane[LANES8];
        float m;
        const float d = unpack(w + b * bsize, q, &m) * half(y[b].d);
        summs = fmaf(m, half(y[b].s), summs);
        lane_sums(q, y[b].qs, lane);
        for (int l = 0; l < LANES8; l++) acc[l] = fmaf(d, (float)lane[l], acc[l]);
    }
    return hsum8(acc) + summs;
}

float umi_dot_q4_1_lanes8(int k, const void *w, const void *x) {
    return lanes8_1(k, w, sizeof(umi_block_q4_1), unpack_q4_1, x);
}

float umi_dot_q5_1_lanes8(int k, const void *w, const void *x) {
    return lanes8_1(k, w, sizeof(umi_block_q5_1), unpack_q5_1, x);
}

/* ---------------------------------------------------------------- plan */

bool umi_kernels_plan_legacy(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                             umi_kernel_plan *p) {
    (void)k, (void)tok;
    const bool repacked = m % 8 == 0; /* ggml_repack_get_optimal_repack_type */
    switch (wtype) {
    case UMI_TYPE_Q4_0:
        p->dot = repacked ? umi_dot_q4_0_blocks : umi_dot_q4_0_lanes8;
        break;
    case UMI_TYPE_IQ4_NL:
        p->dot = repacked     ? umi_dot_iq4_nl_blocks
                 : n_tok >= 2 ? umi_dot_iq4_nl_lanes8
                              : umi_dot_iq4_nl_vec;
        break;
    case UMI_TYPE_Q5_0: p->dot = umi_dot_q5_0_lanes8; break;
    case UMI_TYPE_Q8_0: p->dot = umi_dot_q8_0_lanes8; break;
    case UMI_TYPE_Q4_1: p->dot = umi_dot_q4_1_lanes8; break;
    case UMI_TYPE_Q5_1: p->dot = umi_dot_q5_1_lanes8; break;
    default: return false;
    }
    p->act = wtype == UMI_TYPE_Q4_1 || wtype == UMI_TYPE_Q5_1 ? umi_act_q8_1 : umi_act_q8_0;
    return true;
}
