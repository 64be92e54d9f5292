/* Row forms of the fp16/bf16 conversions in fp16.h. */
#include "core/fp16.h"

void umi_fp16_to_fp32_row(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = umi_fp16_to_fp32(x[i]);
}

void umi_fp32_to_fp16_row(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = umi_fp32_to_fp16(x[i]);
}

void umi_bf16_to_fp32_row(const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = umi_bf16_to_fp32(x[i]);
}

void umi_fp32_to_bf16_row(const float *x, uint16_t *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = umi_fp32_to_bf16(x[i]);
}
