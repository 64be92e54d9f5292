/* NEON building blocks shared by the ARM twins (neon.c, neon_quant.c). */
#ifndef UMI_KERNELS_NEON_H
#define UMI_KERNELS_NEON_H

#include <arm_neon.h>

/* (0+2) + (1+3) of four lanes: the last steps of umi_reduce16 and of the
 * quantized dots' 8-lane reduction. */
static inline float umi_neon_hsum4(float32x4_t h4) {
    const float32x4_t t = vaddq_f32(h4, vextq_f32(h4, h4, 2));
    return vgetq_lane_f32(t, 0) + vgetq_lane_f32(t, 1);
}

/* Lane l = sum of byte products 4l..4l+3 of 16 bytes, as int32x4: exactly a
 * "lanes8" lane. The dot-product instruction when the build targets it,
 * widening multiplies and pairwise adds otherwise (|products| <= 2^14, so
 * the 16-bit products are exact). */
static inline int32x4_t umi_neon_quad_sums(int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdupq_n_s32(0), a, b);
#else
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
    const int32x4_t pairs_lo = vpaddlq_s16(lo), pairs_hi = vpaddlq_s16(hi); /* 2 products each */
    return vpaddq_s32(pairs_lo, pairs_hi);                                 /* 4 adjacent */
#endif
}

/* The NEON dots the tiles (neon_tile.c) hand their edges to (neon.c). */
float umi_neon_dot_f32_gemm(int k, const void *w, const void *x);
float umi_neon_dot_q8_0(int k, const void *w, const void *x);

/* 16 float lanes as four registers (lanes 0-3, 4-7, 8-11, 12-15): the
 * batched float order's accumulator. */
typedef struct umi_f32x16 {
    float32x4_t v[4];
} umi_f32x16;

static inline umi_f32x16 umi_neon_zero16(void) {
    const float32x4_t z = vdupq_n_f32(0.0f);
    return (umi_f32x16){{z, z, z, z}};
}

/* v[l+8] + v[l], then the 4-lane halves, as umi_reduce16. */
static inline float umi_neon_hsum16(umi_f32x16 a) {
    const float32x4_t h8lo = vaddq_f32(a.v[2], a.v[0]), h8hi = vaddq_f32(a.v[3], a.v[1]);
    return umi_neon_hsum4(vaddq_f32(h8hi, h8lo));
}

static inline umi_f32x16 umi_neon_load16_f32(const float *p) {
    return (umi_f32x16){{vld1q_f32(p), vld1q_f32(p + 4), vld1q_f32(p + 8), vld1q_f32(p + 12)}};
}

static inline umi_f32x16 umi_neon_load16_f16(const uint16_t *p) {
    umi_f32x16 r;
    for (int i = 0; i < 4; i++) r.v[i] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + 4 * i)));
    return r;
}

static inline umi_f32x16 umi_neon_fma16(umi_f32x16 acc, umi_f32x16 a, umi_f32x16 b) {
    for (int i = 0; i < 4; i++) acc.v[i] = vfmaq_f32(acc.v[i], a.v[i], b.v[i]);
    return acc;
}

#endif
