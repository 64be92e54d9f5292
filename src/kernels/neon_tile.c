/* ARM NEON register tiles (kernels.h): several weight rows times several
 * tokens per call, each weight block loaded and converted once for all of
 * the tile's tokens instead of once per token, every output exactly the
 * bits of its row dot (neon.c; tests/unit/test_kernels.c checks every tile
 * shape against the dot, under qemu in tests/cli/test_arm.sh). Prompts and
 * multi-sequence decode steps go through them; a single token keeps the
 * dot. Partial tiles take the dots.
 *
 *   - F32 and F16 weights (the latter on activations widened to floats
 *     once per product, wide.c), the batched 16-lane order: 2 rows x 2
 *     tokens, 16 accumulator registers of AArch64's 32, a row's 4 weight
 *     registers each, one token's 4.
 *   - Q8_0, the lanes8 order: 4 rows x 2 tokens, two 4-lane accumulators
 *     per output (16 registers), each row's 32 bytes in 2 (8).
 *
 * Speed is not measured on the project's x86 machine (qemu emulates);
 * the shapes follow the register budget. */
#include "kernels/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <stdbool.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/neon.h"
#include "quant/blocks.h"

#define INLINE static inline __attribute__((always_inline))

enum { FM = 2, FN = 2, QM = 4, QN = 2 };

/* umi_plan_dot_f16_gemm_wide: F16 weights, F32 (widened) activations. */
static float dot_f16_gemm_wide(int k, const void *w, const void *x) {
    const uint16_t *a = w;
    const float *b = x;
    umi_f32x16 acc = umi_neon_zero16();
    for (int i = 0; i < k; i += 16) acc = umi_neon_fma16(acc, umi_neon_load16_f16(a + i), umi_neon_load16_f32(b + i));
    return umi_neon_hsum16(acc);
}

INLINE void float_tile(int k, const char *w, size_t ws, const char *x, size_t xs, float *y, size_t ys,
                       bool half_w) {
    umi_f32x16 acc[FM][FN];
    for (int i = 0; i < FM; i++)
        for (int j = 0; j < FN; j++) acc[i][j] = umi_neon_zero16();
    for (int l = 0; l < k; l += 16) {
        umi_f32x16 wv[FM];
        for (int i = 0; i < FM; i++)
            wv[i] = half_w ? umi_neon_load16_f16((const uint16_t *)(const void *)(w + i * ws) + l)
                           : umi_neon_load16_f32((const float *)(const void *)(w + i * ws) + l);
        for (int j = 0; j < FN; j++) {
            const umi_f32x16 xv = umi_neon_load16_f32((const float *)(const void *)(x + j * xs) + l);
            for (int i = 0; i < FM; i++) acc[i][j] = umi_neon_fma16(acc[i][j], wv[i], xv);
        }
    }
    for (int j = 0; j < FN; j++)
        for (int i = 0; i < FM; i++) y[j * ys + i] = umi_neon_hsum16(acc[i][j]);
}

static void tile_f32(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                     size_t ys) {
    if (rm != FM || rn != FN || k % 16) umi_tile_edge(umi_neon_dot_f32_gemm, k, w, ws, rm, x, xs, rn, y, ys);
    else float_tile(k, w, ws, x, xs, y, ys, false);
}

static void tile_f16_wide(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                          size_t ys) {
    if (rm != FM || rn != FN || k % 16) umi_tile_edge(dot_f16_gemm_wide, k, w, ws, rm, x, xs, rn, y, ys);
    else float_tile(k, w, ws, x, xs, y, ys, true);
}

/* Q8_0 in lanes8 order (umi_neon_dot_q8_0): per block and output, lanes
 * 0-3 and 4-7 of the byte products' quad sums, each converted and
 * multiply-added with d_w * d_x; the output (l + l+4), then (0+2) + (1+3). */
static void tile_q8_0(int k, const void *vw, size_t ws, int rm, const void *vx, size_t xs, int rn, float *y,
                      size_t ys) {
    if (rm != QM || rn != QN) {
        umi_tile_edge(umi_neon_dot_q8_0, k, vw, ws, rm, vx, xs, rn, y, ys);
        return;
    }
    const char *w = vw, *x = vx;
    float32x4_t lo[QM][QN], hi[QM][QN];
    for (int i = 0; i < QM; i++)
        for (int j = 0; j < QN; j++) lo[i][j] = hi[i][j] = vdupq_n_f32(0.0f);
    for (int b = 0; b < k / UMI_QK8_0; b++) {
        int8x16_t wl[QM], wh[QM];
        float dw[QM];
        for (int i = 0; i < QM; i++) {
            const umi_block_q8_0 *blk = (const umi_block_q8_0 *)(const void *)(w + i * ws) + b;
            wl[i] = vld1q_s8(blk->qs), wh[i] = vld1q_s8(blk->qs + 16);
            dw[i] = umi_fp16_to_fp32(blk->d);
        }
        for (int j = 0; j < QN; j++) {
            const umi_block_q8_0 *xb = (const umi_block_q8_0 *)(const void *)(x + j * xs) + b;
            const int8x16_t xl = vld1q_s8(xb->qs), xh = vld1q_s8(xb->qs + 16);
            const float dx = umi_fp16_to_fp32(xb->d);
            for (int i = 0; i < QM; i++) {
                const float32x4_t d = vdupq_n_f32(dw[i] * dx);
                lo[i][j] = vfmaq_f32(lo[i][j], d, vcvtq_f32_s32(umi_neon_quad_sums(wl[i], xl)));
                hi[i][j] = vfmaq_f32(hi[i][j], d, vcvtq_f32_s32(umi_neon_quad_sums(wh[i], xh)));
            }
        }
    }
    for (int j = 0; j < QN; j++)
        for (int i = 0; i < QM; i++) y[j * ys + i] = umi_neon_hsum4(vaddq_f32(hi[i][j], lo[i][j]));
}

umi_tile_fn umi_kernels_tile_for(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_NEON) return NULL;
    if (dot == umi_plan_dot_f32_gemm || dot == umi_plan_dot_f16_gemm_wide) {
        *tile_m = FM, *tile_n = FN;
        return dot == umi_plan_dot_f32_gemm ? tile_f32 : tile_f16_wide;
    }
    if (dot == umi_dot_q8_0_lanes8) {
        *tile_m = QM, *tile_n = QN;
        return tile_q8_0;
    }
    return NULL;
}

#endif
