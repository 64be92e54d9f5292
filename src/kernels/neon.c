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

typedef struct f32x16 {
    float32x4_t v[4]; /* lanes 0-3, 4-7, 8-11, 12-15 */
} f32x16;

static inline f32x16 zero16(void) {
    const float32x4_t z = vdupq_n_f32(0.0f);
    return (f32x16){{z, z, z, z}};
}

static inline float hsum4(float32x4_t h4) {
    return umi_neon_hsum4(h4);
}

/* v[l+8] + v[l], then the 4-lane halves, as umi_reduce16. */
static inline float hsum16(f32x16 a) {
    const float32x4_t h8lo = vaddq_f32(a.v[2], a.v[0]), h8hi = vaddq_f32(a.v[3], a.v[1]);
    return hsum4(vaddq_f32(h8hi, h8lo));
}

static inline f32x16 add16(f32x16 a, f32x16 b) {
    for (int i = 0; i < 4; i++) a.v[i] = vaddq_f32(a.v[i], b.v[i]);
    return a;
}

static inline f32x16 load16_f32(const float *p) {
    return (f32x16){{vld1q_f32(p), vld1q_f32(p + 4), vld1q_f32(p + 8), vld1q_f32(p + 12)}};
}

static inline f32x16 load16_f16(const uint16_t *p) {
    f32x16 r;
    for (int i = 0; i < 4; i++) r.v[i] = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + 4 * i)));
    return r;
}

static inline f32x16 fma16(f32x16 acc, f32x16 a, f32x16 b) {
    for (int i = 0; i < 4; i++) acc.v[i] = vfmaq_f32(acc.v[i], a.v[i], b.v[i]);
    return acc;
}

static float dot_f32_vec(int k, const void *w, const void *x) {
    const float *a = w, *b = x;
    const int np = k & ~63;
    f32x16 s[4] = {zero16(), zero16(), zero16(), zero16()};
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++) s[j] = fma16(s[j], load16_f32(a + i + 16 * j), load16_f32(b + i + 16 * j));
    float sum = np > 0 ? hsum16(add16(add16(s[0], s[2]), add16(s[1], s[3]))) : 0.0f;
    for (int i = np; i < k; i++) sum += a[i] * b[i];
    return sum;
}

static float dot_f32_gemm(int k, const void *w, const void *x) {
    const float *a = w, *b = x;
    f32x16 acc = zero16();
    for (int i = 0; i < k; i += 16) acc = fma16(acc, load16_f32(a + i), load16_f32(b + i));
    return hsum16(acc);
}

static float dot_f16_vec(int k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    const int np = k & ~63;
    f32x16 s[4] = {zero16(), zero16(), zero16(), zero16()};
    for (int i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++) s[j] = fma16(s[j], load16_f16(a + i + 16 * j), load16_f16(b + i + 16 * j));
    double sum = np > 0 ? (double)hsum16(add16(add16(s[0], s[2]), add16(s[1], s[3]))) : 0.0;
    for (int i = np; i < k; i++) sum += (double)(umi_fp16_to_fp32(a[i]) * umi_fp16_to_fp32(b[i]));
    return (float)sum;
}

static float dot_f16_gemm(int k, const void *w, const void *x) {
    const uint16_t *a = w, *b = x;
    f32x16 acc = zero16();
    for (int i = 0; i < k; i += 16) acc = fma16(acc, load16_f16(a + i), load16_f16(b + i));
    return hsum16(acc);
}

static float dot_q8_0(int k, const void *vx, const void *vy) {
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

umi_dot_fn umi_kernels_simd_twin(umi_dot_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_NEON) return scalar;
    if (scalar == umi_plan_dot_f32_vec) return dot_f32_vec;
    if (scalar == umi_plan_dot_f32_gemm) return dot_f32_gemm;
    if (scalar == umi_plan_dot_f16_vec) return dot_f16_vec;
    if (scalar == umi_plan_dot_f16_gemm) return dot_f16_gemm;
    if (scalar == umi_dot_q8_0_lanes8) return dot_q8_0;
    return scalar;
}

umi_tile_fn umi_kernels_tile_for(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
