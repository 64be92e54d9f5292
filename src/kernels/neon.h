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

#endif
