/* Portable scalar kernels in the reference engine's summation order; see kernels.h. */
#include "kernels/kernels.h"

#include <math.h>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"

enum { ARR = 4, STEP = UMI_LANES * ARR };

float umi_reduce16(const float v[UMI_LANES]) {
    float h8[8], h4[4];
    for (int l = 0; l < 8; l++) h8[l] = v[l + 8] + v[l];
    for (int l = 0; l < 4; l++) h4[l] = h8[l + 4] + h8[l];
    return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

/* The 4 x 16 accumulators of "vec" order, combined (0+2, 1+3, then both). */
static float reduce_arr(float acc[ARR][UMI_LANES]) {
    float v[UMI_LANES];
    for (int l = 0; l < UMI_LANES; l++) v[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    return umi_reduce16(v);
}

float umi_dot_f32_vec(int n, const float *x, const float *y) {
    const int np = n & ~(STEP - 1);
    float acc[ARR][UMI_LANES] = {{0}};
    for (int i = 0; i < np; i += STEP)
        for (int j = 0; j < ARR; j++)
            for (int l = 0; l < UMI_LANES; l++) {
                const int k = i + j * UMI_LANES + l;
                acc[j][l] = fmaf(x[k], y[k], acc[j][l]);
            }
    float sum = np > 0 ? reduce_arr(acc) : 0.0f;
    for (int i = np; i < n; i++) sum += x[i] * y[i];
    return sum;
}

float umi_dot_f32_gemm(int n, const float *x, const float *y) {
    float acc[UMI_LANES] = {0};
    for (int i = 0; i < n; i += UMI_LANES)
        for (int l = 0; l < UMI_LANES; l++) acc[l] = fmaf(x[i + l], y[i + l], acc[l]);
    return umi_reduce16(acc);
}

/* y as F16 (yh) or as F16 values already widened to floats (yf): the same bits. */
static float dot_f16_vec(int n, const uint16_t *x, const uint16_t *yh, const float *yf) {
    const int np = n & ~(STEP - 1);
    float acc[ARR][UMI_LANES] = {{0}};
    for (int i = 0; i < np; i += STEP)
        for (int j = 0; j < ARR; j++)
            for (int l = 0; l < UMI_LANES; l++) {
                const int k = i + j * UMI_LANES + l;
                acc[j][l] = fmaf(umi_fp16_to_fp32(x[k]), yf ? yf[k] : umi_fp16_to_fp32(yh[k]), acc[j][l]);
            }
    /* The tail is summed in double; a product of two halves is exact in float. */
    double sum = np > 0 ? (double)reduce_arr(acc) : 0.0;
    for (int i = np; i < n; i++) sum += (double)(umi_fp16_to_fp32(x[i]) * (yf ? yf[i] : umi_fp16_to_fp32(yh[i])));
    return (float)sum;
}

float umi_dot_f16_vec(int n, const uint16_t *x, const uint16_t *y) { return dot_f16_vec(n, x, y, NULL); }
float umi_dot_f16_vec_wide(int n, const uint16_t *x, const float *y) { return dot_f16_vec(n, x, NULL, y); }

float umi_dot_f16_gemm(int n, const uint16_t *x, const uint16_t *y) {
    float acc[UMI_LANES] = {0};
    for (int i = 0; i < n; i += UMI_LANES)
        for (int l = 0; l < UMI_LANES; l++)
            acc[l] = fmaf(umi_fp16_to_fp32(x[i + l]), umi_fp16_to_fp32(y[i + l]), acc[l]);
    return umi_reduce16(acc);
}

float umi_dot_q8_0_lanes8(int n, const void *vx, const void *vy) {
    const umi_block_q8_0 *x = vx, *y = vy;
    float acc[8] = {0};
    for (int b = 0; b < n / UMI_QK8_0; b++) {
        const float d = umi_fp16_to_fp32(x[b].d) * umi_fp16_to_fp32(y[b].d);
        for (int l = 0; l < 8; l++) {
            int32_t s = 0;
            for (int j = 4 * l; j < 4 * l + 4; j++) s += x[b].qs[j] * y[b].qs[j];
            acc[l] = fmaf(d, (float)s, acc[l]);
        }
    }
    float h4[4];
    for (int l = 0; l < 4; l++) h4[l] = acc[l + 4] + acc[l];
    return (h4[0] + h4[2]) + (h4[1] + h4[3]);
}

/* The float dots with the plan's untyped signature. */
float umi_plan_dot_f32_vec(int k, const void *w, const void *x) { return umi_dot_f32_vec(k, w, x); }
float umi_plan_dot_f32_gemm(int k, const void *w, const void *x) { return umi_dot_f32_gemm(k, w, x); }
float umi_plan_dot_f16_vec(int k, const void *w, const void *x) { return umi_dot_f16_vec(k, w, x); }
float umi_plan_dot_f16_gemm(int k, const void *w, const void *x) { return umi_dot_f16_gemm(k, w, x); }

/* The reference's batched path (tinyBLAS) serves two or more tokens when k
 * is a multiple of its 16 lanes and the rows come in fours (its tiles'
 * shapes); otherwise its vector path does. */
bool umi_kernels_plan_float(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                            umi_kernel_plan *p) {
    (void)tok;
    const bool gemm = n_tok >= 2 && k % UMI_LANES == 0 && m % 4 == 0;
    if (wtype == UMI_TYPE_F32) p->dot = gemm ? umi_plan_dot_f32_gemm : umi_plan_dot_f32_vec;
    else if (wtype == UMI_TYPE_F16) p->dot = gemm ? umi_plan_dot_f16_gemm : umi_plan_dot_f16_vec;
    else return false;
    return true;
}

#if !defined(__x86_64__) && !(defined(__aarch64__) && defined(__ARM_NEON))
/* No SIMD for this CPU: every plan dot stays scalar. */
umi_dot_fn umi_kernels_simd_twin(umi_dot_fn scalar, int cpu_level) {
    (void)cpu_level;
    return scalar;
}

umi_tile_fn umi_kernels_tile_for(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}
#endif
