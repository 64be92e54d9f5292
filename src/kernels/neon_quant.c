/* ARM NEON twins of the quantized ordered dots: the legacy types (legacy.c:
 * lanes8, blocks and IQ4_NL's vec order) and the K-quants / IQ4_XS
 * (kquant_lanes.c lanes8, kquant_repack.c gemv and gemm), each giving
 * exactly the bits of its scalar twin (tests/unit/test_kernels.c, run under
 * qemu by tests/cli/test_arm.sh), and the register tiles of the blocks order
 * (Q4_0 and IQ4_NL, whose plans take it for matrices the reference repacks).
 *
 * Integer sums are exact in any order, so the weights are decoded into
 * signed bytes in element order and multiplied 16 at a time: 32-bit lane l
 * of umi_neon_quad_sums holds elements 4l..4l+3 of its 16, which is lane l
 * (first 16) or l+4 (second 16) of the scalar code's 8 lanes of a 32-element
 * group. The float steps (scale products, fused multiply-adds as fmaf /
 * vfmaq, the unfused adds, the reductions) follow the scalar code one for
 * one. The activation quantizers stay the plan's (scalar) ones. */
#include "kernels/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <math.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/kquant.h"
#include "kernels/kquant_decode.h"
#include "kernels/legacy.h"
#include "kernels/neon.h"
#include "kernels/neon_quant.h"
#include "quant/blocks.h"

enum { QK = 32 };

/* ================================================================ legacy types */

INLINE bytes32 nibbles(const uint8_t *qs) {
    const uint8x16_t v = vld1q_u8(qs);
    return (bytes32){vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0f))), vreinterpretq_s8_u8(vshrq_n_u8(v, 4))};
}

/* 0x10 at byte j where bit j of the little-endian 32-bit qh is set. */
INLINE bytes32 fifth_bits(const uint8_t qh[4]) {
    static const uint8_t BIT[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(BIT), ten = vdupq_n_u8(0x10);
    const uint8x16_t lo = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    const uint8x16_t hi = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    return (bytes32){vreinterpretq_s8_u8(vandq_u8(vtstq_u8(lo, bit), ten)),
                     vreinterpretq_s8_u8(vandq_u8(vtstq_u8(hi, bit), ten))};
}

INLINE bytes32 sub32(bytes32 a, int8_t c) {
    return (bytes32){vsubq_s8(a.lo, vdupq_n_s8(c)), vsubq_s8(a.hi, vdupq_n_s8(c))};
}

/* Each unpacks a block (as legacy.c's unpack_*) and returns its d; the _1
 * types also set *m. */
INLINE float unpack_q4_0(const void *vb, bytes32 *w, float *m) {
    const umi_block_q4_0 *b = vb;
    (void)m;
    *w = sub32(nibbles(b->qs), 8);
    return half(b->d);
}

INLINE float unpack_q5_0(const void *vb, bytes32 *w, float *m) {
    const umi_block_q5_0 *b = vb;
    (void)m;
    *w = sub32(or32(nibbles(b->qs), fifth_bits(b->qh)), 16);
    return half(b->d);
}

INLINE float unpack_iq4_nl(const void *vb, bytes32 *w, float *m) {
    const umi_block_iq4_nl *b = vb;
    (void)m;
    const int8x16_t table = vld1q_s8(umi_iq4nl_values);
    const bytes32 n = nibbles(b->qs);
    *w = (bytes32){vqtbl1q_s8(table, vreinterpretq_u8_s8(n.lo)), vqtbl1q_s8(table, vreinterpretq_u8_s8(n.hi))};
    return half(b->d);
}

INLINE float unpack_q4_1(const void *vb, bytes32 *w, float *m) {
    const umi_block_q4_1 *b = vb;
    *w = nibbles(b->qs);
    *m = half(b->m);
    return half(b->d);
}

INLINE float unpack_q5_1(const void *vb, bytes32 *w, float *m) {
    const umi_block_q5_1 *b = vb;
    *w = or32(nibbles(b->qs), fifth_bits(b->qh));
    *m = half(b->m);
    return half(b->d);
}

typedef float (*unpack_fn)(const void *block, bytes32 *w, float *m);

/* The block's integer sum (blocks order and the vec order's odd tail). */
INLINE int32_t block_sum(bytes32 w, const int8_t *a) {
    return vaddvq_s32(vaddq_s32(umi_neon_quad_sums(w.lo, vld1q_s8(a)), umi_neon_quad_sums(w.hi, vld1q_s8(a + 16))));
}

/* One block's 8 lanes times d into acc. */
INLINE f32x8 block_lanes(f32x8 acc, float d, bytes32 w, const int8_t *a) {
    return fma8(acc, d, umi_neon_quad_sums(w.lo, vld1q_s8(a)), umi_neon_quad_sums(w.hi, vld1q_s8(a + 16)));
}

INLINE float lanes8_0(int k, const void *vw, size_t bsize, unpack_fn unpack, const umi_block_q8_0 *y) {
    const char *w = vw;
    f32x8 acc = zero8();
    for (int b = 0; b < k / QK; b++) {
        bytes32 q;
        float m;
        const float d = unpack(w + b * bsize, &q, &m) * half(y[b].d);
        acc = block_lanes(acc, d, q, y[b].qs);
    }
    return hsum8(acc);
}

INLINE float blocks_0(int k, const void *vw, size_t bsize, unpack_fn unpack, const umi_block_q8_0 *y) {
    const char *w = vw;
    float acc = 0.0f;
    for (int b = 0; b < k / QK; b++) {
        bytes32 q;
        float m;
        const float d = unpack(w + b * bsize, &q, &m) * half(y[b].d);
        acc = fmaf((float)block_sum(q, y[b].qs), d, acc);
    }
    return acc;
}

INLINE float lanes8_1(int k, const void *vw, size_t bsize, unpack_fn unpack, const umi_block_q8_1 *y) {
    const char *w = vw;
    f32x8 acc = zero8();
    float summs = 0.0f;
    for (int b = 0; b < k / QK; b++) {
        bytes32 q;
        float m;
        const float d = unpack(w + b * bsize, &q, &m) * half(y[b].d);
        summs = fmaf(m, half(y[b].s), summs);
        acc = block_lanes(acc, d, q, y[b].qs);
    }
    return hsum8(acc) + summs;
}

static float q4_0_lanes8(int k, const void *w, const void *x) {
    return lanes8_0(k, w, sizeof(umi_block_q4_0), unpack_q4_0, x);
}

static float q5_0_lanes8(int k, const void *w, const void *x) {
    return lanes8_0(k, w, sizeof(umi_block_q5_0), unpack_q5_0, x);
}

static float iq4_nl_lanes8(int k, const void *w, const void *x) {
    return lanes8_0(k, w, sizeof(umi_block_iq4_nl), unpack_iq4_nl, x);
}

static float q4_0_blocks(int k, const void *w, const void *x) {
    return blocks_0(k, w, sizeof(umi_block_q4_0), unpack_q4_0, x);
}

static float iq4_nl_blocks(int k, const void *w, const void *x) {
    return blocks_0(k, w, sizeof(umi_block_iq4_nl), unpack_iq4_nl, x);
}

/* The blocks order for 4 rows x up to BN tokens (a register tile,
 * kernels.h): each row's block unpacked once for the tokens; per token the
 * 4 rows' exact block sums gathered into one vector by pairwise adds, then
 * acc = fma(sum, d_w * d_x, acc) lane by lane, as blocks_0 does per row.
 * One token too (a decode step): one reduction and one multiply-add serve
 * 4 rows. Partial row tiles take the row dot. */
enum { BM = 4, BN = 2 };

INLINE void blocks_tile_n(int k, const char *w, size_t ws, const char *x, size_t xs, const int nt, float *y,
                          size_t ys, size_t bsize, unpack_fn unpack) {
    float32x4_t acc[BN];
    for (int j = 0; j < nt; j++) acc[j] = vdupq_n_f32(0.0f);
    for (int b = 0; b < k / QK; b++) {
        bytes32 q[BM];
        float dw[BM], m;
#pragma GCC unroll 4
        for (int i = 0; i < BM; i++) dw[i] = unpack(w + i * ws + b * bsize, &q[i], &m);
        const float32x4_t dwv = vld1q_f32(dw);
#pragma GCC unroll 2
        for (int j = 0; j < nt; j++) {
            const umi_block_q8_0 *a = (const umi_block_q8_0 *)(const void *)(x + j * xs) + b;
            const int8x16_t alo = vld1q_s8(a->qs), ahi = vld1q_s8(a->qs + 16);
            int32x4_t s[BM];
#pragma GCC unroll 4
            for (int i = 0; i < BM; i++)
                s[i] = vaddq_s32(umi_neon_quad_sums(q[i].lo, alo), umi_neon_quad_sums(q[i].hi, ahi));
            const int32x4_t sums = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3])); /* row i in lane i */
            acc[j] = vfmaq_f32(acc[j], vcvtq_f32_s32(sums), vmulq_f32(dwv, vdupq_n_f32(half(a->d))));
        }
    }
    for (int j = 0; j < nt; j++) vst1q_f32(y + j * ys, acc[j]);
}

INLINE void blocks_tile(int k, const char *w, size_t ws, int rm, const char *x, size_t xs, int rn, float *y,
                        size_t ys, size_t bsize, unpack_fn unpack, umi_dot_fn dot) {
    if (rm == BM && rn == 2) blocks_tile_n(k, w, ws, x, xs, 2, y, ys, bsize, unpack);
    else if (rm == BM && rn == 1) blocks_tile_n(k, w, ws, x, xs, 1, y, ys, bsize, unpack);
    else umi_tile_edge(dot, k, w, ws, rm, x, xs, rn, y, ys);
}

static void tile_q4_0_blocks(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                             float *y, size_t ys) {
    blocks_tile(k, w, ws, rm, x, xs, rn, y, ys, sizeof(umi_block_q4_0), unpack_q4_0, q4_0_blocks);
}

static void tile_iq4_nl_blocks(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                               float *y, size_t ys) {
    blocks_tile(k, w, ws, rm, x, xs, rn, y, ys, sizeof(umi_block_iq4_nl), unpack_iq4_nl, iq4_nl_blocks);
}

static float q4_1_lanes8(int k, const void *w, const void *x) {
    return lanes8_1(k, w, sizeof(umi_block_q4_1), unpack_q4_1, x);
}

static float q5_1_lanes8(int k, const void *w, const void *x) {
    return lanes8_1(k, w, sizeof(umi_block_q5_1), unpack_q5_1, x);
}

/* umi_dot_iq4_nl_vec: even and odd blocks into two sets of lanes, added
 * lane by lane before the reduction; an odd last block added unfused. */
static float iq4_nl_vec(int k, const void *vw, const void *vx) {
    const umi_block_iq4_nl *w = vw;
    const umi_block_q8_0 *y = vx;
    const int nb = k / QK;
    f32x8 acc[2] = {zero8(), zero8()};
    int b = 0;
    for (; b + 1 < nb; b += 2)
        for (int h = 0; h < 2; h++) {
            bytes32 q;
            float m;
            const float dw = unpack_iq4_nl(&w[b + h], &q, &m);
            acc[h] = block_lanes(acc[h], half(y[b + h].d) * dw, q, y[b + h].qs);
        }
    float sum = hsum8((f32x8){vaddq_f32(acc[0].lo, acc[1].lo), vaddq_f32(acc[0].hi, acc[1].hi)});
    if (b < nb) {
        bytes32 q;
        float m;
        const float dw = unpack_iq4_nl(&w[b], &q, &m);
        const float d = half(y[b].d) * dw;
        sum = sum + (float)block_sum(q, y[b].qs) * d;
    }
    return sum;
}

static float q2_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    f32x8 acc = zero8();
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        scales_q2_K(&w[b], &u);
        const float d = a[b].d * half(w[b].d);
        const float dmin = -a[b].d * half(w[b].dmin);
        int32_t s[8];
        for (int l = 0; l < 8; l++)
            s[l] = u.mn[2 * l] * a[b].bsums[2 * l] + u.mn[2 * l + 1] * a[b].bsums[2 * l + 1];
        acc = fma8(acc, dmin, vld1q_s32(s), vld1q_s32(s + 4));
        acc = sb_fma(acc, d, &w[b], group_q2_K, &u, a[b].qs);
    }
    return hsum8(acc);
}

static float q3_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q3_K *w = vw;
    const umi_block_q8_K *a = va;
    f32x8 acc = zero8();
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        int sc[KQ_GROUPS];
        for (int s = 0; s < KQ_GROUPS; s++) sc[s] = umi_q3_K_scale(w[b].scales, s);
        scales_only(&u, sc);
        acc = sb_fma(acc, a[b].d * half(w[b].d), &w[b], group_q3_K, &u, a[b].qs);
    }
    return hsum8(acc);
}

/* The mins in 4 lanes (sub-blocks 2l, 2l+1), reduced (0+2) + (1+3). */
static float q4_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    f32x8 acc = zero8();
    float32x4_t acc_m = vdupq_n_f32(0.0f);
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_scales_k4(w[b].scales, &u);
        const float dmin = -a[b].d * half(w[b].dmin);
        int32_t m[4];
        for (int l = 0; l < 4; l++)
            m[l] = u.mn[4 * l] * bsum32(&a[b], 2 * l) + u.mn[4 * l + 2] * bsum32(&a[b], 2 * l + 1);
        acc_m = vfmaq_f32(acc_m, vdupq_n_f32(dmin), vcvtq_f32_s32(vld1q_s32(m)));
        acc = sb_fma(acc, a[b].d * half(w[b].d), &w[b], group_q4_K, &u, a[b].qs);
    }
    return hsum8(acc) + umi_neon_hsum4(acc_m);
}

static float q5_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q5_K *w = vw;
    const umi_block_q8_K *a = va;
    f32x8 acc = zero8();
    float summs = 0.0f;
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_scales_k4(w[b].scales, &u);
        const float dmin = -a[b].d * half(w[b].dmin);
        int32_t m = 0;
        for (int j = 0; j < 8; j++) m += u.mn[2 * j] * bsum32(&a[b], j);
        summs = fmaf(dmin, (float)m, summs);
        acc = sb_fma(acc, a[b].d * half(w[b].d), &w[b], group_q5_K, &u, a[b].qs);
    }
    return hsum8(acc) + summs;
}

/* The -32 offset per lane from the bsums of 16-groups 2l and 2l+1. */
static float q6_K_lanes8(int k, const void *vw, const void *va) {
    const umi_block_q6_K *w = vw;
    const umi_block_q8_K *a = va;
    f32x8 acc = zero8();
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        int sc[KQ_GROUPS];
        for (int s = 0; s < KQ_GROUPS; s++) sc[s] = w[b].scales[s];
        scales_only(&u, sc);
        int32x4_t lo, hi;
        sb_lanes(&w[b], group_q6_K, &u, a[b].qs, &lo, &hi);
        int32_t off[8];
        for (int l = 0; l < 8; l++)
            off[l] = 32 * (a[b].bsums[2 * l] * u.sc[2 * l] + a[b].bsums[2 * l + 1] * u.sc[2 * l + 1]);
        acc = fma8(acc, a[b].d * half(w[b].d), vsubq_s32(lo, vld1q_s32(off)), vsubq_s32(hi, vld1q_s32(off + 4)));
    }
    return hsum8(acc);
}

static float iq4_xs_lanes8(int k, const void *vw, const void *va) {
    const umi_block_iq4_xs *w = vw;
    const umi_block_q8_K *a = va;
    f32x8 acc = zero8();
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        int sc[KQ_GROUPS];
        for (int s = 0; s < KQ_GROUPS; s++) sc[s] = umi_iq4_xs_scale(&w[b], s / 2);
        scales_only(&u, sc);
        acc = sb_fma(acc, half(w[b].d) * a[b].d, &w[b], group_iq4_xs, &u, a[b].qs);
    }
    return hsum8(acc);
}

/* ---------------------------------------------------------------- repacked orders (kquant_repack.c) */

/* One super-block in steps of `span` elements: acc[0] takes the scaled
 * quants, acc[1] the mins, each fma(float(partial sum), d * d_a, acc). */
INLINE void sb_steps(const void *blk, group_fn group, const kq_unpacked *u, const umi_block_q8_K *a, float d,
                     float dmin, int span, float acc[2]) {
#pragma GCC unroll 4
    for (int e = 0; e < UMI_QK_K; e += span) {
        int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
#pragma GCC unroll 8
        for (int g = e / 32; g < (e + span) / 32; g++) group_quads(blk, group, u, a->qs, g, &lo, &hi);
        int32_t mins = 0;
        for (int c = e / 16; c < (e + span) / 16; c++) mins += u->mn[c] * a->bsums[c];
        acc[0] = fmaf((float)vaddvq_s32(vaddq_s32(lo, hi)), d * a->d, acc[0]);
        acc[1] = fmaf((float)mins, dmin * a->d, acc[1]);
    }
}

INLINE float q2_K_repacked(int k, const void *vw, const void *va, int span) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[2] = {0.0f, 0.0f};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        scales_q2_K(&w[b], &u);
        sb_steps(&w[b], group_q2_K, &u, &a[b], half(w[b].d), half(w[b].dmin), span, acc);
    }
    return acc[0] - acc[1];
}

INLINE float q4_K_repacked(int k, const void *vw, const void *va, int span) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[2] = {0.0f, 0.0f};
    kq_unpacked u;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kq_scales_k4(w[b].scales, &u);
        sb_steps(&w[b], group_q4_K, &u, &a[b], half(w[b].d), half(w[b].dmin), span, acc);
    }
    return acc[0] - acc[1];
}

static float q2_K_gemv(int k, const void *w, const void *a) { return q2_K_repacked(k, w, a, UMI_QK_K); }
static float q2_K_gemm(int k, const void *w, const void *a) { return q2_K_repacked(k, w, a, 128); }
static float q4_K_gemv(int k, const void *w, const void *a) { return q4_K_repacked(k, w, a, UMI_QK_K); }
static float q4_K_gemm(int k, const void *w, const void *a) { return q4_K_repacked(k, w, a, 64); }

/* ================================================================ lookups */

typedef struct twin {
    umi_dot_fn scalar, simd;
} twin;

static const twin LEGACY[] = {
    {umi_dot_q4_0_lanes8, q4_0_lanes8},     {umi_dot_q5_0_lanes8, q5_0_lanes8},
    {umi_dot_iq4_nl_lanes8, iq4_nl_lanes8}, {umi_dot_q4_1_lanes8, q4_1_lanes8},
    {umi_dot_q5_1_lanes8, q5_1_lanes8},     {umi_dot_q4_0_blocks, q4_0_blocks},
    {umi_dot_iq4_nl_blocks, iq4_nl_blocks}, {umi_dot_iq4_nl_vec, iq4_nl_vec},
};

static const twin KQUANT[] = {
    {umi_dot_q2_K_lanes8, q2_K_lanes8}, {umi_dot_q3_K_lanes8, q3_K_lanes8},
    {umi_dot_q4_K_lanes8, q4_K_lanes8}, {umi_dot_q5_K_lanes8, q5_K_lanes8},
    {umi_dot_q6_K_lanes8, q6_K_lanes8}, {umi_dot_iq4_xs_lanes8, iq4_xs_lanes8},
    {umi_dot_q2_K_gemv, q2_K_gemv},     {umi_dot_q2_K_gemm, q2_K_gemm},
    {umi_dot_q4_K_gemv, q4_K_gemv},     {umi_dot_q4_K_gemm, q4_K_gemm},
};

static umi_dot_fn find(const twin *t, size_t n, umi_dot_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_NEON) return NULL;
    for (size_t i = 0; i < n; i++)
        if (t[i].scalar == scalar) return t[i].simd;
    return NULL;
}

umi_dot_fn umi_kernels_simd_twin_legacy(umi_dot_fn scalar, int cpu_level) {
    return find(LEGACY, sizeof LEGACY / sizeof *LEGACY, scalar, cpu_level);
}

umi_dot_fn umi_kernels_simd_twin_kquant(umi_dot_fn scalar, int cpu_level) {
    return find(KQUANT, sizeof KQUANT / sizeof *KQUANT, scalar, cpu_level);
}

umi_tile_fn umi_kernels_tile_for_legacy(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_NEON) return NULL;
    *tile_m = BM, *tile_n = BN;
    if (dot == umi_dot_q4_0_blocks) return tile_q4_0_blocks;
    if (dot == umi_dot_iq4_nl_blocks) return tile_iq4_nl_blocks;
    return NULL;
}

#endif
