/* Batched F16 products with the activations widened to floats once.
 *
 * The reference converts a batch's activations to F16 (the weight type's
 * vec_dot_type) and its batched kernel widens both operands back to floats
 * before each fused multiply-add. Widening is exact, so converting each
 * activation to F16 and straight back to float once per product gives the
 * very values those multiply-adds see: a tile reading the widened rows
 * converts only its weights (x86_tile.c), with the same bits. */
#include "kernels/kernels.h"

#include <math.h>

#include "core/fp16.h"

void umi_act_f16_wide(const float *x, void *y, int64_t k) {
    float *out = y;
    int64_t i = 0;
#if defined(__F16C__)
    /* 8 at a time: the conversions fp16.h's scalar forms use under F16C
     * (round to nearest even), which the compiler does not vectorize. */
    for (; i + 8 <= k; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT)));
#endif
    for (; i < k; i++) out[i] = umi_fp16_to_fp32(umi_fp32_to_fp16(x[i]));
}

/* umi_dot_f16_gemm's order (one 16-lane fused multiply-add chain), x widened. */
float umi_plan_dot_f16_gemm_wide(int k, const void *w, const void *x) {
    const uint16_t *wh = w;
    const float *xf = x;
    float acc[UMI_LANES] = {0};
    for (int i = 0; i < k; i += UMI_LANES)
        for (int l = 0; l < UMI_LANES; l++) acc[l] = fmaf(umi_fp16_to_fp32(wh[i + l]), xf[i + l], acc[l]);
    return umi_reduce16(acc);
}

/* Only where a tile reads the widened rows: twice the bytes per activation
 * are worth it when they are loaded once per tile, not once per dot. */
void umi_kernels_plan_widen(umi_kernel_plan *p, int cpu_level) {
    int tm, tn;
    if (p->dot != umi_plan_dot_f16_gemm || !umi_kernels_tile_for(umi_plan_dot_f16_gemm_wide, cpu_level, &tm, &tn))
        return;
    p->dot = umi_plan_dot_f16_gemm_wide;
    p->act = umi_act_f16_wide;
    p->act_wide = true;
}

float umi_plan_dot_f16_vec_wide(int k, const void *w, const void *x) { return umi_dot_f16_vec_wide(k, w, x); }

/* Only for whole 64-element steps: the tile has no tail. */
void umi_kernels_plan_widen_vec(umi_kernel_plan *p, int64_t k, int cpu_level) {
    int tm, tn;
    if (p->dot != umi_plan_dot_f16_vec || k % (4 * UMI_LANES) ||
        !umi_kernels_tile_for(umi_plan_dot_f16_vec_wide, cpu_level, &tm, &tn))
        return;
    p->dot = umi_plan_dot_f16_vec_wide;
    p->act = umi_act_f16_wide;
    p->act_wide = true;
}
