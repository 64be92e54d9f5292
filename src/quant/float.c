/* Float element types: F32, F16 (IEEE binary16) and BF16 (brain float).
 *
 * Each is its own vec_dot type. The dot products multiply in fp32 and sum
 * the products in double, as the reference's scalar path does (its
 * accumulator type ggml_float is double), then narrow once at the end.
 */
#include <string.h>

#include "core/fp16.h"
#include "quant/quant.h"

/* Exact rounding order matters here (results must match the reference's
 * scalar path bit for bit): never fuse a*b + c. GCC does not in ISO C mode
 * (-std=c11); clang would by default. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ---------------------------------------------------------------- F32 */

void umi_quant_to_float_f32(const void *x, float *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void umi_quant_from_float_f32(const float *x, void *y, int64_t n) {
    memcpy(y, x, (size_t)n * sizeof(float));
}

void umi_quant_vec_dot_f32(int n, float *s, const void *vx, const void *vy) {
    const float *x = vx;
    const float *y = vy;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)(x[i] * y[i]);
    *s = (float)sum;
}

/* ---------------------------------------------------------------- F16 */

void umi_quant_to_float_f16(const void *x, float *y, int64_t n) {
    umi_fp16_to_fp32_row(x, y, n);
}

void umi_quant_from_float_f16(const float *x, void *y, int64_t n) {
    umi_fp32_to_fp16_row(x, y, n);
}

void umi_quant_vec_dot_f16(int n, float *s, const void *vx, const void *vy) {
    const uint16_t *x = vx;
    const uint16_t *y = vy;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)(umi_fp16_to_fp32(x[i]) * umi_fp16_to_fp32(y[i]));
    *s = (float)sum;
}

/* ---------------------------------------------------------------- BF16 */

void umi_quant_to_float_bf16(const void *x, float *y, int64_t n) {
    umi_bf16_to_fp32_row(x, y, n);
}

void umi_quant_from_float_bf16(const float *x, void *y, int64_t n) {
    umi_fp32_to_bf16_row(x, y, n);
}

void umi_quant_vec_dot_bf16(int n, float *s, const void *vx, const void *vy) {
    const uint16_t *x = vx;
    const uint16_t *y = vy;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)(umi_bf16_to_fp32(x[i]) * umi_bf16_to_fp32(y[i]));
    *s = (float)sum;
}
