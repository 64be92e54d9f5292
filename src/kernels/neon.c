/* ARM NEON twins of the ordered dots (kernels.h), bit-identical to the
 * scalar order: a 16-lane accumulator is four float32x4 registers, an
 * 8-lane one two. Q8_0 uses the dot-product instruction when the build
 * targets it (each 32-bit lane sums 4 adjacent byte products, exactly the
 * lanes the order needs), widening multiplies and pairwise adds otherwise. */
#include "kernels/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/neon.h"
#include "quant/blocks.h"

static inline float hsum4(float32x4_t h4) {
    return umi_neon_hsum4(h4);
}

static inline umi_f32x16 add16(umi_f32x16 a, umi_f32x16 b) {
    for (int i = 0; i < 4; i++) a.v[i] = vaddq_f32(a.v[i], b.v[i]);
    return a;
}

static float dot_f32_vec(int k, const void *w, const void *x) {
    const float *a = w, *b = x;
    const int np = k & ~63;
    umi_f32x16 s[4] = {umi_neon_zero16(), umi_neon_zero16(), umi_neon_zero16(), umi_neon_zero16()};
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++) s[j] = umi_neon_fma16(s[j], umi_neon_load16_f32(a + i + 16 * j), umi_neon_load16_f32(b + i + 16 * j));
    float sum = np > 0 ? umi_neon_hsum16(add16(add16(s[0], s[2]), add16(s[1], s[3]))) : 0.0f;
    for (int i = np; i < k; i++) sum += a[i] * b[i];
    return sum;
}

float umi_neon_dot_f32_gemm(int k, const void *w, const void *x) {
    const float *a = w, *b = x;
    umi_f32x16 acc = umi_neon_zero16();
    for (int i = 0; i < k; i += 16) acc = umi_neon_fma16(acc, umi_neon_load16_f32(a + i), umi_neon_load16_f32(b + i));
    return umi_neon_hsum16(acc);
}

static float dot_f16_vec(int k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    const int np = k & ~63;
    umi_f32x16 s[4] = {umi_neon_zero16(), umi_neon_zero16(), umi_neon_zero16(), umi_neon_zero16()};
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++) s[j] = umi_neon_fma16(s[j], umi_neon_load16_f16(a + i + 16 * j), umi_neon_load16_f16(b + i + 16 * j));
    double sum = np > 0 ? (double)umi_neon_hsum16(add16(add16(s[0], s[2]), add16(s[1], s[3]))) : 0.0;
    for (int i = np; i < k; i++) sum += (double)(umi_fp16_to_fp32(a[i]) * umi_fp16_to_fp32(b[i]));
    return (float)sum;
}

static float dot_f16_gemm(int k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    umi_f32x16 acc = umi_neon_zero16();
    for (int i = 0; i < k; i += 16) acc = umi_neon_fma16(acc, umi_neon_load16_f16(a + i), umi_neon_load16_f16(b + i));
    return umi_neon_hsum16(acc);
}

float umi_neon_dot_q8_0(int k, const void *vx, const void *vy) {
    const umi_block_q8_0 *x = vx, *y = vy;
    float32x4_t lo = vdupq_n_f32(0.0f), hi = vdupq_n_f32(0.0f);
    for (int b = 0; b < k / UMI_QK8_0; b++) {
        const float32x4_t d = vdupq_n_f32(umi_fp16_to_fp32(x[b].d) * umi_fp16_to_fp32(y[b].d));
        const int32x4_t s0 = umi_neon_quad_sums(vld1q_s8(x[b].qs), vld1q_s8(y[b].qs));
        const int32x4_t s1 = umi_neon_quad_sums(vld1q_s8(x[b].qs + 16), vld1q_s8(y[b].qs + 16));
        lo = vfmaq_f32(lo, d, vcvtq_f32_s32(s0));
        hi = vfmaq_f32(hi, d, vcvtq_f32_s32(s1));
    }
    return hsum4(vaddq_f32(hi, lo));
}

/* ---------------------------------------------------------------- BF16 (bf16.c's orders)
 *
 * VDPBF16PS emulated 4 lanes (8 elements) at a time: the odd elements are
 * the high halves of each 32-bit pair, the even ones the low halves
 * shifted up; fused multiply-adds, odd then even, denormals flushed to the
 * zero of their sign on the way in and out. */

static inline float32x4_t flush4(float32x4_t v) {
    const uint32x4_t u = vreinterpretq_u32_f32(v);
    const uint32x4_t denormal = vceqq_u32(vandq_u32(u, vdupq_n_u32(0x7f800000u)), vdupq_n_u32(0));
    return vreinterpretq_f32_u32(vbslq_u32(denormal, vandq_u32(u, vdupq_n_u32(0x80000000u)), u));
}

static inline float32x4_t dp4(float32x4_t acc, const uint16_t *x, const uint16_t *y) {
    const uint32x4_t a = vreinterpretq_u32_u16(vld1q_u16(x)), b = vreinterpretq_u32_u16(vld1q_u16(y));
    const uint32x4_t hi = vdupq_n_u32(0xffff0000u);
    const float32x4_t ao = flush4(vreinterpretq_f32_u32(vandq_u32(a, hi)));
    const float32x4_t bo = flush4(vreinterpretq_f32_u32(vandq_u32(b, hi)));
    const float32x4_t ae = flush4(vreinterpretq_f32_u32(vshlq_n_u32(a, 16)));
    const float32x4_t be = flush4(vreinterpretq_f32_u32(vshlq_n_u32(b, 16)));
    return flush4(vfmaq_f32(flush4(vfmaq_f32(acc, ao, bo)), ae, be));
}

/* One VDPBF16PS: 32 elements into 16 lanes. */
static inline umi_f32x16 dp16(umi_f32x16 acc, const uint16_t *x, const uint16_t *y) {
    for (int i = 0; i < 4; i++) acc.v[i] = dp4(acc.v[i], x + 8 * i, y + 8 * i);
    return acc;
}

static float dot_bf16_vec(int k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    umi_f32x16 c1 = umi_neon_zero16(), c2 = umi_neon_zero16();
    int i = 0;
    for (; i + 64 <= k; i += 64) c1 = dp16(c1, a + i, b + i), c2 = dp16(c2, a + i + 32, b + i + 32);
    double sum = 0.0;
    sum += (double)umi_neon_hsum16(c1);
    sum += (double)umi_neon_hsum16(c2);
    for (; i < k; i++) sum += (double)(umi_bf16_to_fp32(a[i]) * umi_bf16_to_fp32(b[i]));
    return (float)sum;
}

static float dot_bf16_gemm(int k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    umi_f32x16 acc = umi_neon_zero16();
    for (int i = 0; i < k; i += 32) acc = dp16(acc, a + i, b + i);
    return umi_neon_hsum16(acc);
}

umi_dot_fn umi_kernels_simd_twin_bf16(umi_dot_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_NEON) return NULL;
    return scalar == umi_plan_dot_bf16_vec ? dot_bf16_vec : scalar == umi_plan_dot_bf16_gemm ? dot_bf16_gemm : NULL;
}

umi_tile_fn umi_kernels_tile_for_bf16(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

umi_dot_fn umi_kernels_simd_twin(umi_dot_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_NEON) return scalar;
    if (scalar == umi_plan_dot_f32_vec) return dot_f32_vec;
    if (scalar == umi_plan_dot_f32_gemm) return umi_neon_dot_f32_gemm;
    if (scalar == umi_plan_dot_f16_vec) return dot_f16_vec;
    if (scalar == umi_plan_dot_f16_gemm) return dot_f16_gemm;
    if (scalar == umi_dot_q8_0_lanes8) return umi_neon_dot_q8_0;
    return scalar;
}

#endif
