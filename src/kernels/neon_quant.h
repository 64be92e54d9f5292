/* NEON decoding of quantized blocks into signed bytes in element order,
 * shared by the quantized dots (neon_quant.c) and the K-quant register
 * tiles (neon_kquant_tile.c): the 8 float lanes of the scalar code, and
 * each K-quant / IQ4_XS super-block read as 8 groups of 32 elements. */
#ifndef UMI_KERNELS_NEON_QUANT_H
#define UMI_KERNELS_NEON_QUANT_H

#include <arm_neon.h>

#include "core/fp16.h"
#include "kernels/kquant_decode.h"
#include "kernels/neon.h"
#include "quant/blocks.h"

#define INLINE static inline __attribute__((always_inline))

INLINE float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

/* The 8 float lanes of the scalar code: lanes 0-3 and 4-7. */
typedef struct f32x8 {
    float32x4_t lo, hi;
} f32x8;

INLINE f32x8 zero8(void) {
    return (f32x8){vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
}

/* acc[l] = fma(d, (float)s[l], acc[l]) for the 8 lanes. */
INLINE f32x8 fma8(f32x8 acc, float d, int32x4_t s_lo, int32x4_t s_hi) {
    const float32x4_t dv = vdupq_n_f32(d);
    return (f32x8){vfmaq_f32(acc.lo, dv, vcvtq_f32_s32(s_lo)), vfmaq_f32(acc.hi, dv, vcvtq_f32_s32(s_hi))};
}

/* (l + l+4), then (0+2) + (1+3): hsum8 / reduce8 of the scalar code. */
INLINE float hsum8(f32x8 a) {
    return umi_neon_hsum4(vaddq_f32(a.hi, a.lo));
}

/* One 32-element block as signed bytes: elements 0-15 and 16-31. */
typedef struct bytes32 {
    int8x16_t lo, hi;
} bytes32;

INLINE bytes32 or32(bytes32 a, bytes32 b) {
    return (bytes32){vorrq_s8(a.lo, b.lo), vorrq_s8(a.hi, b.hi)};
}

/* ---------------------------------------------------------------- K-quants, IQ4_XS
 *
 * A super-block is read as 8 groups of 32 elements (group g = elements
 * 32g .. 32g+31), each decoded straight into two byte vectors in element
 * order; the per-16 scales sc and mins mn go to a kq_unpacked
 * (kquant_decode.h), whose w is left unused. */

typedef bytes32 (*group_fn)(const void *block, int g);

INLINE bytes32 as_bytes(uint8x16_t lo, uint8x16_t hi) {
    return (bytes32){vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi)};
}

/* Bit pair j of each byte of 16 (variable shift: negative counts shift right). */
INLINE uint8x16_t pair(uint8x16_t v, int j) {
    return vandq_u8(vshlq_u8(v, vdupq_n_s8((int8_t)(-2 * j))), vdupq_n_u8(3));
}

/* Q2_K / Q3_K low bits: element 128h + 32j + l is bit pair j of qs[32h + l]. */
INLINE bytes32 low2(const uint8_t *qs, int g) {
    const uint8_t *p = qs + 32 * (g / 4);
    return as_bytes(pair(vld1q_u8(p), g % 4), pair(vld1q_u8(p + 16), g % 4));
}

INLINE bytes32 group_q2_K(const void *vb, int g) {
    return low2(((const umi_block_q2_K *)vb)->qs, g);
}

/* Q3_K: minus 4 unless bit g of hmask[e % 32] is set. */
INLINE bytes32 group_q3_K(const void *vb, int g) {
    const umi_block_q3_K *b = vb;
    const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << g)), four = vdupq_n_u8(4);
    const bytes32 low = low2(b->qs, g);
    const uint8x16_t h0 = vandq_u8(vtstq_u8(vld1q_u8(b->hmask), bit), four); /* 4 if set */
    const uint8x16_t h1 = vandq_u8(vtstq_u8(vld1q_u8(b->hmask + 16), bit), four);
    return (bytes32){vsubq_s8(vaddq_s8(low.lo, vreinterpretq_s8_u8(h0)), vdupq_n_s8(4)),
                     vsubq_s8(vaddq_s8(low.hi, vreinterpretq_s8_u8(h1)), vdupq_n_s8(4))};
}

/* Q4_K / Q5_K low bits: group g is the low (g even) or high nibbles of
 * qs[32(g/2) ..]. */
INLINE bytes32 nibble_group(const uint8_t *qs, int g) {
    const uint8x16_t v0 = vld1q_u8(qs + 32 * (g / 2)), v1 = vld1q_u8(qs + 32 * (g / 2) + 16);
    const uint8x16_t lo = vdupq_n_u8(0x0f);
    return g % 2 ? as_bytes(vshrq_n_u8(v0, 4), vshrq_n_u8(v1, 4)) : as_bytes(vandq_u8(v0, lo), vandq_u8(v1, lo));
}

INLINE bytes32 group_q4_K(const void *vb, int g) {
    return nibble_group(((const umi_block_q4_K *)vb)->qs, g);
}

/* Q5_K: plus 16 where bit g of qh[e % 32] is set. */
INLINE bytes32 group_q5_K(const void *vb, int g) {
    const umi_block_q5_K *b = vb;
    const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << g)), ten = vdupq_n_u8(0x10);
    const uint8x16_t h0 = vandq_u8(vtstq_u8(vld1q_u8(b->qh), bit), ten);
    const uint8x16_t h1 = vandq_u8(vtstq_u8(vld1q_u8(b->qh + 16), bit), ten);
    return or32(nibble_group(b->qs, g), as_bytes(h0, h1));
}

/* Q6_K code of element 128h + 32j + l: nibble (low for j < 2) of
 * ql[64h + 32(j%2) + l], plus bit pair j of qh[32h + l] as bits 4-5. */
INLINE bytes32 group_q6_K(const void *vb, int g) {
    const umi_block_q6_K *b = vb;
    const int h = g / 4, j = g % 4;
    const uint8x16_t lo = vdupq_n_u8(0x0f), top = vdupq_n_u8(0x30);
    const int8x16_t shift = vdupq_n_s8((int8_t)(4 - 2 * j));
    uint8x16_t r[2];
    for (int i = 0; i < 2; i++) {
        const uint8x16_t l = vld1q_u8(b->ql + 64 * h + 32 * (j % 2) + 16 * i);
        const uint8x16_t n = j < 2 ? vandq_u8(l, lo) : vshrq_n_u8(l, 4);
        r[i] = vorrq_u8(n, vandq_u8(vshlq_u8(vld1q_u8(b->qh + 32 * h + 16 * i), shift), top));
    }
    return as_bytes(r[0], r[1]);
}

/* IQ4_XS: sub-block g's 16 bytes, low nibbles first, through the table. */
INLINE bytes32 group_iq4_xs(const void *vb, int g) {
    const umi_block_iq4_xs *b = vb;
    const int8x16_t table = vld1q_s8(umi_iq4nl_values);
    const uint8x16_t v = vld1q_u8(b->qs + 16 * g);
    return (bytes32){vqtbl1q_s8(table, vandq_u8(v, vdupq_n_u8(0x0f))), vqtbl1q_s8(table, vshrq_n_u8(v, 4))};
}

INLINE void scales_q2_K(const umi_block_q2_K *b, kq_unpacked *u) {
    for (int s = 0; s < KQ_GROUPS; s++) u->sc[s] = b->scales[s] & 0x0f, u->mn[s] = b->scales[s] >> 4;
}

INLINE void scales_only(kq_unpacked *u, const int sc[KQ_GROUPS]) {
    for (int s = 0; s < KQ_GROUPS; s++) u->sc[s] = sc[s], u->mn[s] = 0;
}

/* Group g's two 16-groups: sc times the quad sums, into lo (16-group 2g) and hi. */
INLINE void group_quads(const void *blk, group_fn group, const kq_unpacked *u, const int8_t *q8, int g,
                        int32x4_t *lo, int32x4_t *hi) {
    const bytes32 w = group(blk, g);
    *lo = vmlaq_n_s32(*lo, umi_neon_quad_sums(w.lo, vld1q_s8(q8 + 32 * g)), u->sc[2 * g]);
    *hi = vmlaq_n_s32(*hi, umi_neon_quad_sums(w.hi, vld1q_s8(q8 + 32 * g + 16)), u->sc[2 * g + 1]);
}

/* The super-block's 8 integer lanes (kquant_lanes.c lane_sums): even
 * 16-groups feed lanes 0-3, odd ones lanes 4-7. */
INLINE void sb_lanes(const void *blk, group_fn group, const kq_unpacked *u, const int8_t *q8, int32x4_t *lo,
                     int32x4_t *hi) {
    *lo = vdupq_n_s32(0), *hi = vdupq_n_s32(0);
#pragma GCC unroll 8
    for (int g = 0; g < UMI_QK_K / 32; g++) group_quads(blk, group, u, q8, g, lo, hi);
}

INLINE f32x8 sb_fma(f32x8 acc, float d, const void *blk, group_fn group, const kq_unpacked *u, const int8_t *q8) {
    int32x4_t lo, hi;
    sb_lanes(blk, group, u, q8, &lo, &hi);
    return fma8(acc, d, lo, hi);
}

INLINE int bsum32(const umi_block_q8_K *a, int j) {
    return a->bsums[2 * j] + a->bsums[2 * j + 1];
}

#endif
