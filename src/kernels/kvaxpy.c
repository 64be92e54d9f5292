/* Fused dequantize-and-accumulate of KV cache rows (kvaxpy.h), scalar and
 * AVX2. The AVX2 functions carry target attributes and are chosen only when
 * the CPU has the features. */
#include "kernels/kvaxpy.h"

#include <math.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"

void umi_kv_axpy_q8_0(int n, float *acc, const void *row, float w) {
    const umi_block_q8_0 *x = row;
    for (int b = 0; b < n / UMI_QK8_0; b++, acc += UMI_QK8_0) {
        const float d = umi_fp16_to_fp32(x[b].d);
        for (int j = 0; j < UMI_QK8_0; j++) acc[j] = fmaf((float)x[b].qs[j] * d, w, acc[j]);
    }
}

void umi_kv_axpy_q4_0(int n, float *acc, const void *row, float w) {
    const umi_block_q4_0 *x = row;
    for (int b = 0; b < n / UMI_QK4_0; b++, acc += UMI_QK4_0) {
        const float d = umi_fp16_to_fp32(x[b].d);
        for (int j = 0; j < UMI_QK4_0 / 2; j++) {
            acc[j] = fmaf((float)((x[b].qs[j] & 0x0F) - 8) * d, w, acc[j]);
            acc[j + 16] = fmaf((float)((x[b].qs[j] >> 4) - 8) * d, w, acc[j + 16]);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

/* acc[0..7] = fma(q * d, w, acc) for 8 int8 levels. */
AVX2 static inline void axpy8(float *acc, __m128i q8, __m256 d, __m256 w) {
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8)), d);
    _mm256_storeu_ps(acc, _mm256_fmadd_ps(v, w, _mm256_loadu_ps(acc)));
}

AVX2 static void axpy_q8_0_avx2(int n, float *acc, const void *row, float w) {
    const umi_block_q8_0 *x = row;
    const __m256 wv = _mm256_set1_ps(w);
    for (int b = 0; b < n / UMI_QK8_0; b++, acc += UMI_QK8_0) {
        const __m256 d = _mm256_set1_ps(umi_fp16_to_fp32_f16c(x[b].d));
        for (int g = 0; g < 4; g++) axpy8(acc + 8 * g, _mm_loadl_epi64((const __m128i *)(x[b].qs + 8 * g)), d, wv);
    }
}

AVX2 static void axpy_q4_0_avx2(int n, float *acc, const void *row, float w) {
    const umi_block_q4_0 *x = row;
    const __m256 wv = _mm256_set1_ps(w);
    const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    for (int b = 0; b < n / UMI_QK4_0; b++, acc += UMI_QK4_0) {
        const __m256 d = _mm256_set1_ps(umi_fp16_to_fp32_f16c(x[b].d));
        const __m128i qs = _mm_loadu_si128((const __m128i *)x[b].qs);
        const __m128i lo = _mm_sub_epi8(_mm_and_si128(qs, mask), eight);                    /* elements 0..15 */
        const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(qs, 4), mask), eight); /* 16..31 */
        axpy8(acc, lo, d, wv);
        axpy8(acc + 8, _mm_srli_si128(lo, 8), d, wv);
        axpy8(acc + 16, hi, d, wv);
        axpy8(acc + 24, _mm_srli_si128(hi, 8), d, wv);
    }
}

#else
#define axpy_q8_0_avx2 umi_kv_axpy_q8_0 /* never chosen: no x86 levels here */
#define axpy_q4_0_avx2 umi_kv_axpy_q4_0
#endif

umi_kv_axpy_fn umi_kv_axpy_get(uint32_t type) {
    const umi_cpu_level l = umi_cpu_level_get();
    const bool avx2 = l == UMI_CPU_AVX2 || l == UMI_CPU_AVX512;
    switch (type) {
    case UMI_TYPE_Q8_0: return avx2 ? axpy_q8_0_avx2 : umi_kv_axpy_q8_0;
    case UMI_TYPE_Q4_0: return avx2 ? axpy_q4_0_avx2 : umi_kv_axpy_q4_0;
    default: return NULL;
    }
}
