/* ARM NEON register tiles of the K-quant orders on the file's layout
 * (kernels.h): several weight rows times several tokens per call, each
 * super-block's scales and each 32-element group decoded once for all of
 * the tile's tokens, every output exactly the bits of its row dot
 * (neon_quant.c; tests/unit/test_kernels.c checks every shape under qemu,
 * tests/cli/test_arm.sh). Before these, ARM prompts dotted each token with
 * each K-quant row on its own.
 *
 *   - Q4_K and Q2_K, kquant_repack.c's gemm (64- and 128-element steps)
 *     and gemv (256) orders:
 *     4 rows x 1-4 tokens, the 4 rows of a step's exact integer sums
 *     gathered into one vector, so the float steps (one fused multiply-add
 *     for the quants and one for the mins per step) run with rows in lanes;
 *     a decode step's single token too (umi_kernels_tile_solo_kquant). The
 *     sums come from dot products, or for 2+ tokens from the 8-bit matrix
 *     multiply where the build targets it (i8mm: ARMv8.6, Apple M2 on).
 *   - Q6_K, Q5_K, Q3_K and IQ4_XS, kquant_lanes.c's lanes8 order: 2 rows x 4
 *     tokens, each output's 8 integer lanes in two registers (16 of
 *     AArch64's 32), its float lanes touched once per super-block.
 *
 * Speed is not measured on the project's x86 machine (qemu emulates);
 * the shapes follow the register budget. */
#include "kernels/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <math.h>
#include <string.h>

#include "core/cpu.h"
#include "kernels/kquant.h"
#include "kernels/neon_quant.h"

static umi_dot_fn twin(umi_dot_fn scalar) {
    return umi_kernels_simd_twin_kquant(scalar, UMI_CPU_NEON);
}

/* acc + the quad sums of a and b: integers, exact in any order. */
INLINE int32x4_t quad_acc(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    return vaddq_s32(acc, umi_neon_quad_sums(a, b));
#endif
}

/* acc + v * s[lane] (lane a constant once the loops unroll). */
INLINE int32x4_t mla_lane(int32x4_t acc, int32x4_t v, int32x4_t s, const int lane) {
    switch (lane) {
    case 0: return vmlaq_laneq_s32(acc, v, s, 0);
    case 1: return vmlaq_laneq_s32(acc, v, s, 1);
    case 2: return vmlaq_laneq_s32(acc, v, s, 2);
    default: return vmlaq_laneq_s32(acc, v, s, 3);
    }
}

/* ---------------------------------------------------------------- Q4_K and Q2_K, gemm and gemv orders */

enum { KR_Q4_K, KR_Q2_K };
enum { K4_ROWS = 4, K4_TOKS = 4 };

/* Q4_K's 12 scale bytes as its 8 6-bit scales (bytes 0-7) and 8 mins
 * (8-15), four at a time: sub-blocks 0-3 keep the low 6 bits of bytes 0-3
 * (scales) and 4-7 (mins); sub-blocks 4-7 take the low (scales) or high
 * (mins) nibbles of bytes 8-11, topped by the 2 high bits of bytes 0-3
 * (scales) or 4-7 (mins). The integers umi_q4_K_scale_min gives one by one. */
INLINE uint8x16_t q4_K_scales_mins(const uint8_t s[12]) {
    uint32_t a, b, c;
    memcpy(&a, s, 4), memcpy(&b, s + 4, 4), memcpy(&c, s + 8, 4);
    const uint32_t m6 = 0x3f3f3f3fu, m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const uint64_t sc = (a & m6) | (uint64_t)((c & m4) | ((a >> 6) & m2) << 4) << 32;
    const uint64_t mn = (b & m6) | (uint64_t)(((c >> 4) & m4) | ((b >> 6) & m2) << 4) << 32;
    return vcombine_u8(vcreate_u8(sc), vcreate_u8(mn));
}

/* Byte j of 4 rows' 16 as out[j], a row per lane: two zips interleave
 * the rows, then widening to 32 bits. */
INLINE void rows_in_lanes(const uint8x16_t v[4], int32_t out[16][4]) {
    const uint8x16x2_t z01 = vzipq_u8(v[0], v[1]), z23 = vzipq_u8(v[2], v[3]);
    for (int h = 0; h < 2; h++) { /* bytes 8h .. 8h + 7 */
        const uint16x8x2_t q = vzipq_u16(vreinterpretq_u16_u8(z01.val[h]), vreinterpretq_u16_u8(z23.val[h]));
        for (int p = 0; p < 2; p++) { /* bytes 8h + 4p .. 8h + 4p + 3 */
            const uint16x8_t lo = vmovl_u8(vget_low_u8(vreinterpretq_u8_u16(q.val[p])));
            const uint16x8_t hi = vmovl_u8(vget_high_u8(vreinterpretq_u8_u16(q.val[p])));
            int32_t(*o)[4] = out + 8 * h + 4 * p;
            vst1q_s32(o[0], vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(lo))));
            vst1q_s32(o[1], vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(lo))));
            vst1q_s32(o[2], vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(hi))));
            vst1q_s32(o[3], vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(hi))));
        }
    }
}

/* A super-block of 4 rows: its scales and mins as read, a row per lane
 * (Q4_K: sub-block j's scale in lanes[j], min in lanes[8 + j]; Q2_K:
 * 16-group c's in lanes[c] and lanes[16 + c]), d and dmin. */
typedef struct kr_block {
    const uint8_t *qs[K4_ROWS];
    int32_t lanes[32][K4_ROWS];
    float d[K4_ROWS], dmin[K4_ROWS];
} kr_block;

/* The rows' scale of 16-group c (Q4_K's two 16-groups of a sub-block share it). */
INLINE int32x4_t kr_scale(const int kind, const kr_block *B, int c) {
    return vld1q_s32(B->lanes[kind == KR_Q4_K ? c / 2 : c]);
}

/* The mins of elements [e0, e1): sum of min x block sums over the type's
 * min groups (Q4_K: sub-blocks of 32, Q2_K: 16-groups), exact integers. */
INLINE int32x4_t kr_mins(const int kind, const kr_block *B, const umi_block_q8_K *a, int e0, int e1) {
    int32x4_t m = vdupq_n_s32(0);
    if (kind == KR_Q4_K)
        for (int j = e0 / 32; j < e1 / 32; j++) m = vmlaq_n_s32(m, vld1q_s32(B->lanes[8 + j]), bsum32(a, j));
    else
        for (int c = e0 / 16; c < e1 / 16; c++) m = vmlaq_n_s32(m, vld1q_s32(B->lanes[16 + c]), a->bsums[c]);
    return m;
}

INLINE void kr_prep(const int kind, const char *w, size_t ws, int b, kr_block *B) {
    uint8x16_t v[K4_ROWS], u[K4_ROWS];
#pragma GCC unroll 8
    for (int i = 0; i < K4_ROWS; i++) {
        if (kind == KR_Q4_K) {
            const umi_block_q4_K *blk = (const umi_block_q4_K *)(const void *)(w + i * ws) + b;
            B->qs[i] = blk->qs, B->d[i] = half(blk->d), B->dmin[i] = half(blk->dmin);
            v[i] = q4_K_scales_mins(blk->scales);
        } else { /* Q2_K: a 4-bit scale (low nibble) and min per 16-group */
            const umi_block_q2_K *blk = (const umi_block_q2_K *)(const void *)(w + i * ws) + b;
            B->qs[i] = blk->qs, B->d[i] = half(blk->d), B->dmin[i] = half(blk->dmin);
            const uint8x16_t s = vld1q_u8(blk->scales);
            v[i] = vandq_u8(s, vdupq_n_u8(0x0f)), u[i] = vshrq_n_u8(s, 4);
        }
    }
    rows_in_lanes(v, B->lanes);
    if (kind == KR_Q2_K) rows_in_lanes(u, B->lanes + 16);
}

INLINE bytes32 kr_group(const int kind, const uint8_t *qs, int g) {
    return kind == KR_Q4_K ? nibble_group(qs, g) : low2(qs, g);
}

/* A super-block's step sums by dot products: sums[step][t] holds token t's
 * 4 rows (a row per lane), each sum over 16-groups c of sc_c x (c's byte
 * products); Q4_K's two 16-groups of a sub-block in one multiply. */
INLINE void kr_sums_dot(const int kind, const kr_block *B, const umi_block_q8_K *const ab[K4_TOKS], const int nt,
                        const int span, int32x4_t sums[UMI_QK_K / 64][K4_TOKS]) {
#pragma GCC unroll 1
    for (int e = 0; e < UMI_QK_K; e += span) {
        int32x4_t s[K4_ROWS][K4_TOKS];
#pragma GCC unroll 8
        for (int i = 0; i < K4_ROWS; i++)
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) s[i][t] = vdupq_n_s32(0);
#pragma GCC unroll 1
        for (int g = e / 32; g < (e + span) / 32; g++) {
            bytes32 q[K4_ROWS];
#pragma GCC unroll 8
            for (int i = 0; i < K4_ROWS; i++) q[i] = kr_group(kind, B->qs[i], g);
            const int32x4_t sclo = kr_scale(kind, B, 2 * g), schi = kr_scale(kind, B, 2 * g + 1);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                const int8x16_t alo = vld1q_s8(ab[t]->qs + 32 * g), ahi = vld1q_s8(ab[t]->qs + 32 * g + 16);
#pragma GCC unroll 8
                for (int i = 0; i < K4_ROWS; i++)
                    s[i][t] = kind == KR_Q4_K
                                  ? mla_lane(s[i][t], quad_acc(umi_neon_quad_sums(q[i].lo, alo), q[i].hi, ahi), sclo, i)
                                  : mla_lane(mla_lane(s[i][t], umi_neon_quad_sums(q[i].lo, alo), sclo, i),
                                             umi_neon_quad_sums(q[i].hi, ahi), schi, i);
            }
        }
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            sums[e / span][t] = vpaddq_s32(vpaddq_s32(s[0][t], s[1][t]), vpaddq_s32(s[2][t], s[3][t]));
    }
}

#if defined(__ARM_FEATURE_MATMUL_INT8)
/* The same sums by the 8-bit matrix multiply (i8mm: SMMLA multiplies a 2 x 8
 * by an 8 x 2 block of bytes into 2 x 2 int32 sums): rows and tokens in
 * pairs, 8 bytes of each of a pair's two rows in one register, so 2 SMMLA
 * give a 16-group's exact sums for 2 rows x 2 tokens, twice the products
 * per instruction of the dot products. A third token pairs with a copy of
 * itself. The pair sums [r0t0 r0t1 r1t0 r1t1] of the two row pairs are
 * unzipped into rows-in-lanes per token. */
INLINE int8x16_t pair8(const int8_t *p0, const int8_t *p1) {
    return vcombine_s8(vld1_s8(p0), vld1_s8(p1));
}

/* s[p][q] += sc(16-group c) x (row pair p . token pair q over c's 16 bytes). */
INLINE int32x4_t mm16(int32x4_t s, int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1, int32x4_t scp) {
    return vmlaq_s32(s, vmmlaq_s32(vmmlaq_s32(vdupq_n_s32(0), w0, a0), w1, a1), scp);
}

INLINE void kr_sums_mm(const int kind, const kr_block *B, const umi_block_q8_K *const ab[K4_TOKS], const int nt,
                       const int span, int32x4_t sums[UMI_QK_K / 64][K4_TOKS]) {
    const int np = (nt + 1) / 2;              /* token pairs */
    const int gs = kind == KR_Q4_K ? 2 : 4;   /* groups sharing 32 bytes of quants */
#pragma GCC unroll 1
    for (int e = 0; e < UMI_QK_K; e += span) {
        int32x4_t s[2][2]; /* row pair, token pair */
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++)
#pragma GCC unroll 2
            for (int q = 0; q < np; q++) s[p][q] = vdupq_n_s32(0);
#pragma GCC unroll 1
        for (int g0 = e / 32; g0 < (e + span) / 32; g0 += gs) {
            uint8x16_t raw[2][4]; /* row pair, 8-byte column of the 32 bytes */
#pragma GCC unroll 2
            for (int p = 0; p < 2; p++)
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++) {
                    const size_t off = (size_t)(kind == KR_Q4_K ? 16 * g0 : 8 * g0) + 8 * c; /* 32 (g0 / gs) + 8c */
                    raw[p][c] = vreinterpretq_u8_s8(pair8((const int8_t *)B->qs[2 * p] + off, (const int8_t *)B->qs[2 * p + 1] + off));
                }
#pragma GCC unroll 2
            for (int h = 0; h < gs; h++) {
                const int g = g0 + h;
                int8x16_t wv[2][4];
#pragma GCC unroll 2
                for (int p = 0; p < 2; p++)
#pragma GCC unroll 4
                    for (int c = 0; c < 4; c++)
                        wv[p][c] = vreinterpretq_s8_u8(kind == KR_Q4_K ? (h ? vshrq_n_u8(raw[p][c], 4) : vandq_u8(raw[p][c], vdupq_n_u8(0x0f)))
                                                                       : vandq_u8(vshlq_u8(raw[p][c], vdupq_n_s8((int8_t)(-2 * h))), vdupq_n_u8(3)));
                const int32x4_t lo = kr_scale(kind, B, 2 * g), hi = kr_scale(kind, B, 2 * g + 1);
                /* [s0 s0 s1 s1] and [s2 s2 s3 s3]: each row pair's scales by token pair */
                const int32x4_t sp_lo[2] = {vzip1q_s32(lo, lo), vzip2q_s32(lo, lo)}, sp_hi[2] = {vzip1q_s32(hi, hi), vzip2q_s32(hi, hi)};
#pragma GCC unroll 2
                for (int q = 0; q < np; q++) {
                    const int8_t *a0 = ab[2 * q]->qs + 32 * g, *a1 = ab[2 * q + 1 < nt ? 2 * q + 1 : 2 * q]->qs + 32 * g;
                    int8x16_t av[4];
#pragma GCC unroll 4
                    for (int c = 0; c < 4; c++) av[c] = pair8(a0 + 8 * c, a1 + 8 * c);
#pragma GCC unroll 2
                    for (int p = 0; p < 2; p++)
                        s[p][q] = mm16(mm16(s[p][q], wv[p][0], wv[p][1], av[0], av[1], sp_lo[p]), wv[p][2], wv[p][3], av[2],
                                       av[3], sp_hi[p]);
                }
            }
        }
#pragma GCC unroll 2
        for (int q = 0; q < np; q++) {
            sums[e / span][2 * q] = vuzp1q_s32(s[0][q], s[1][q]);
            if (2 * q + 1 < nt) sums[e / span][2 * q + 1] = vuzp2q_s32(s[0][q], s[1][q]);
        }
    }
}
#endif

/* Per row and token, as kquant_repack.c's dot_steps: a step's quants sum q
 * and mins sum m (exact integers), then acc = fma(q, d * d_a, acc), accm =
 * fma(m, dmin * d_a, accm); the result acc - accm. */
INLINE void kr_tile(const int kind, int k, const char *w, size_t ws, const char *x, size_t xs, const int nt, float *y,
                    size_t ys, const int span) {
    float32x4_t acc[K4_TOKS], accm[K4_TOKS]; /* lane i: row i */
#pragma GCC unroll 8
    for (int j = 0; j < nt; j++) acc[j] = accm[j] = vdupq_n_f32(0.0f);
    for (int b = 0; b < k / UMI_QK_K; b++) {
        kr_block B;
        kr_prep(kind, w, ws, b, &B);
        const umi_block_q8_K *ab[K4_TOKS];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) ab[t] = (const umi_block_q8_K *)(const void *)(x + t * xs) + b;
        /* each step's integer sums first, rows in lanes; the float steps
         * after, so the accumulators stay out of the integer loop's registers */
        int32x4_t sums[UMI_QK_K / 64][K4_TOKS];
#if defined(__ARM_FEATURE_MATMUL_INT8)
        if (nt >= 2) kr_sums_mm(kind, &B, ab, nt, span, sums);
        else
#endif
            kr_sums_dot(kind, &B, ab, nt, span, sums);
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            const float32x4_t ad = vdupq_n_f32(ab[t]->d);
            const float32x4_t dd = vmulq_f32(vld1q_f32(B.d), ad), dm = vmulq_f32(vld1q_f32(B.dmin), ad);
            for (int e = 0; e < UMI_QK_K; e += span) {
                const int32x4_t mins = kr_mins(kind, &B, ab[t], e, e + span);
                acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(sums[e / span][t]), dd);
                accm[t] = vfmaq_f32(accm[t], vcvtq_f32_s32(mins), dm);
            }
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) vst1q_f32(y + t * ys, vsubq_f32(acc[t], accm[t]));
}

/* Each token count its own copy, so the accumulators stay in registers. */
INLINE void kr_tiles(const int kind, int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                     float *y, size_t ys, int span, umi_dot_fn dot) {
    switch (rm == K4_ROWS ? rn : 0) {
    case 4: kr_tile(kind, k, w, ws, x, xs, 4, y, ys, span); break;
    case 3: kr_tile(kind, k, w, ws, x, xs, 3, y, ys, span); break;
    case 2: kr_tile(kind, k, w, ws, x, xs, 2, y, ys, span); break;
    case 1: kr_tile(kind, k, w, ws, x, xs, 1, y, ys, span); break; /* a decode step: one reduction for 4 rows */
    default: umi_tile_edge(twin(dot), k, w, ws, rm, x, xs, rn, y, ys);
    }
}

static void tile_q4_K_gemm(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                           size_t ys) {
    kr_tiles(KR_Q4_K, k, w, ws, rm, x, xs, rn, y, ys, 64, umi_dot_q4_K_gemm);
}

static void tile_q4_K_gemv(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                           size_t ys) {
    kr_tiles(KR_Q4_K, k, w, ws, rm, x, xs, rn, y, ys, UMI_QK_K, umi_dot_q4_K_gemv);
}

static void tile_q2_K_gemm(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                           size_t ys) {
    kr_tiles(KR_Q2_K, k, w, ws, rm, x, xs, rn, y, ys, 128, umi_dot_q2_K_gemm);
}

static void tile_q2_K_gemv(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                           size_t ys) {
    kr_tiles(KR_Q2_K, k, w, ws, rm, x, xs, rn, y, ys, UMI_QK_K, umi_dot_q2_K_gemv);
}

/* ---------------------------------------------------------------- lanes8 order */

enum { L8_ROWS = 2, L8_TOKS = 4 };

enum { L8_Q3_K, L8_Q5_K, L8_Q6_K, L8_IQ4_XS };

/* A row's super-block: the scales (u) and d, as the type's lanes8 dot
 * reads them; Q6_K's even and odd 16-group scales apart (sce, sco) for
 * its offsets. */
typedef struct l8_row {
    kq_unpacked u;
    float d, dmin;
    int16x8_t sce, sco;
} l8_row;

INLINE void l8_prep(int kind, const void *blk, l8_row *r) {
    int sc[KQ_GROUPS];
    switch (kind) {
    case L8_Q3_K: {
        const umi_block_q3_K *b = blk;
        for (int s = 0; s < KQ_GROUPS; s++) sc[s] = umi_q3_K_scale(b->scales, s);
        scales_only(&r->u, sc);
        r->d = half(b->d);
        break;
    }
    case L8_Q5_K: {
        const umi_block_q5_K *b = blk;
        kq_scales_k4(b->scales, &r->u);
        r->d = half(b->d), r->dmin = half(b->dmin);
        break;
    }
    case L8_Q6_K: {
        const umi_block_q6_K *b = blk;
        for (int s = 0; s < KQ_GROUPS; s++) sc[s] = b->scales[s];
        scales_only(&r->u, sc);
        r->d = half(b->d);
        const int8x8x2_t eo = vld2_s8(b->scales);
        r->sce = vmovl_s8(eo.val[0]), r->sco = vmovl_s8(eo.val[1]);
        break;
    }
    default: {
        const umi_block_iq4_xs *b = blk;
        for (int s = 0; s < KQ_GROUPS; s++) sc[s] = umi_iq4_xs_scale(b, s / 2);
        scales_only(&r->u, sc);
        r->d = half(b->d);
    }
    }
}

/* One output's super-block into its float lanes, as the type's dot. */
INLINE void l8_finish(int kind, const l8_row *r, const umi_block_q8_K *a, int32x4_t lo, int32x4_t hi, f32x8 *acc,
                      float *summs) {
    switch (kind) {
    case L8_Q5_K: {
        const float dmin = -a->d * r->dmin;
        int32_t m = 0;
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) m += r->u.mn[2 * j] * bsum32(a, j);
        *summs = fmaf(dmin, (float)m, *summs);
        *acc = fma8(*acc, a->d * r->d, lo, hi);
        break;
    }
    case L8_Q6_K: { /* lane l's -32: 32 * (bsums[2l] sc[2l] + bsums[2l+1] sc[2l+1]) */
        const int16x8x2_t bs = vld2q_s16(a->bsums);
        const int32x4_t off_lo = vmlal_s16(vmull_s16(vget_low_s16(bs.val[0]), vget_low_s16(r->sce)),
                                           vget_low_s16(bs.val[1]), vget_low_s16(r->sco));
        const int32x4_t off_hi = vmlal_high_s16(vmull_high_s16(bs.val[0], r->sce), bs.val[1], r->sco);
        *acc = fma8(*acc, a->d * r->d, vsubq_s32(lo, vshlq_n_s32(off_lo, 5)), vsubq_s32(hi, vshlq_n_s32(off_hi, 5)));
        break;
    }
    default: *acc = fma8(*acc, a->d * r->d, lo, hi);
    }
}

INLINE void lanes8_tile(int k, const char *w, size_t ws, size_t bsize, const char *x, size_t xs, float *y,
                        size_t ys, int kind, group_fn group) {
    f32x8 acc[L8_ROWS][L8_TOKS];
    float summs[L8_ROWS][L8_TOKS];
#pragma GCC unroll 8
    for (int i = 0; i < L8_ROWS; i++)
#pragma GCC unroll 8
        for (int t = 0; t < L8_TOKS; t++) acc[i][t] = zero8(), summs[i][t] = 0.0f;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const void *wb[L8_ROWS];
        l8_row r[L8_ROWS];
#pragma GCC unroll 8
        for (int i = 0; i < L8_ROWS; i++) {
            wb[i] = w + i * ws + b * bsize;
            l8_prep(kind, wb[i], &r[i]);
        }
        const umi_block_q8_K *ab[L8_TOKS];
#pragma GCC unroll 8
        for (int t = 0; t < L8_TOKS; t++) ab[t] = (const umi_block_q8_K *)(const void *)(x + t * xs) + b;
        int32x4_t lo[L8_ROWS][L8_TOKS], hi[L8_ROWS][L8_TOKS];
#pragma GCC unroll 8
        for (int i = 0; i < L8_ROWS; i++)
#pragma GCC unroll 8
            for (int t = 0; t < L8_TOKS; t++) lo[i][t] = hi[i][t] = vdupq_n_s32(0);
#pragma GCC unroll 4
        for (int g = 0; g < UMI_QK_K / 32; g++) {
            bytes32 q[L8_ROWS];
#pragma GCC unroll 8
            for (int i = 0; i < L8_ROWS; i++) q[i] = group(wb[i], g);
#pragma GCC unroll 8
            for (int t = 0; t < L8_TOKS; t++) {
                const int8x16_t alo = vld1q_s8(ab[t]->qs + 32 * g), ahi = vld1q_s8(ab[t]->qs + 32 * g + 16);
#pragma GCC unroll 8
                for (int i = 0; i < L8_ROWS; i++) {
                    lo[i][t] = vmlaq_n_s32(lo[i][t], umi_neon_quad_sums(q[i].lo, alo), r[i].u.sc[2 * g]);
                    hi[i][t] = vmlaq_n_s32(hi[i][t], umi_neon_quad_sums(q[i].hi, ahi), r[i].u.sc[2 * g + 1]);
                }
            }
        }
#pragma GCC unroll 8
        for (int i = 0; i < L8_ROWS; i++)
#pragma GCC unroll 8
            for (int t = 0; t < L8_TOKS; t++) l8_finish(kind, &r[i], ab[t], lo[i][t], hi[i][t], &acc[i][t], &summs[i][t]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < L8_TOKS; t++)
#pragma GCC unroll 8
        for (int i = 0; i < L8_ROWS; i++) y[t * ys + i] = hsum8(acc[i][t]) + (kind == L8_Q5_K ? summs[i][t] : 0.0f);
}

/* A lanes8 tile's entry: partial tiles take the row dot. */
INLINE void lanes8_tiles(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                         size_t ys, int kind, size_t bsize, group_fn group, umi_dot_fn dot) {
    if (rm != L8_ROWS || rn != L8_TOKS) umi_tile_edge(twin(dot), k, w, ws, rm, x, xs, rn, y, ys);
    else lanes8_tile(k, w, ws, bsize, x, xs, y, ys, kind, group);
}

static void tile_q3_K_lanes8(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                             size_t ys) {
    lanes8_tiles(k, w, ws, rm, x, xs, rn, y, ys, L8_Q3_K, sizeof(umi_block_q3_K), group_q3_K, umi_dot_q3_K_lanes8);
}

static void tile_q5_K_lanes8(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                             size_t ys) {
    lanes8_tiles(k, w, ws, rm, x, xs, rn, y, ys, L8_Q5_K, sizeof(umi_block_q5_K), group_q5_K, umi_dot_q5_K_lanes8);
}

static void tile_q6_K_lanes8(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                             size_t ys) {
    lanes8_tiles(k, w, ws, rm, x, xs, rn, y, ys, L8_Q6_K, sizeof(umi_block_q6_K), group_q6_K, umi_dot_q6_K_lanes8);
}

static void tile_iq4_xs_lanes8(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                               float *y, size_t ys) {
    lanes8_tiles(k, w, ws, rm, x, xs, rn, y, ys, L8_IQ4_XS, sizeof(umi_block_iq4_xs), group_iq4_xs,
                 umi_dot_iq4_xs_lanes8);
}

umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_NEON) return NULL;
    if (dot == umi_dot_q4_K_gemm || dot == umi_dot_q4_K_gemv || dot == umi_dot_q2_K_gemm || dot == umi_dot_q2_K_gemv) {
        *tile_m = K4_ROWS, *tile_n = K4_TOKS;
        return dot == umi_dot_q4_K_gemm   ? tile_q4_K_gemm
               : dot == umi_dot_q4_K_gemv ? tile_q4_K_gemv
               : dot == umi_dot_q2_K_gemm ? tile_q2_K_gemm
                                          : tile_q2_K_gemv;
    }
    static const struct {
        umi_dot_fn dot;
        umi_tile_fn tile;
    } LANES8[] = {
        {umi_dot_q3_K_lanes8, tile_q3_K_lanes8},
        {umi_dot_q5_K_lanes8, tile_q5_K_lanes8},
        {umi_dot_q6_K_lanes8, tile_q6_K_lanes8},
        {umi_dot_iq4_xs_lanes8, tile_iq4_xs_lanes8},
    };
    for (size_t i = 0; i < sizeof LANES8 / sizeof *LANES8; i++)
        if (LANES8[i].dot == dot) {
            *tile_m = L8_ROWS, *tile_n = L8_TOKS;
            return LANES8[i].tile;
        }
    return NULL;
}

umi_tile_fn umi_kernels_tile_solo_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    return dot == umi_dot_q4_K_gemv || dot == umi_dot_q2_K_gemv ? umi_kernels_tile_for_kquant(dot, cpu_level, tile_m, tile_n)
                                                                : NULL;
}

#endif
