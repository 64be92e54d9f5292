/* Small-batch attention steps over an F16 cache (att_small.h): scalar,
 * AVX2 + F16C (8 elements per step) and AVX-512 (16; a decode step's 64-wide
 * V rows take 4 steps instead of 8). The hardware conversion rounds to
 * nearest even, as umi_fp32_to_fp16 does. */
#include "kernels/att_small.h"

#include <math.h>

#include "core/cpu.h"
#include "core/fp16.h"

void umi_f16acc_scale(int n, uint16_t *acc, float s) {
    for (int i = 0; i < n; i++) acc[i] = umi_fp32_to_fp16(umi_fp16_to_fp32(acc[i]) * s);
}

void umi_f16acc_mad(int n, uint16_t *acc, const uint16_t *v, float w) {
    for (int i = 0; i < n; i++) acc[i] = umi_fp32_to_fp16(fmaf(umi_fp16_to_fp32(v[i]), w, umi_fp16_to_fp32(acc[i])));
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static void scale_avx2(int n, uint16_t *acc, float s) {
    const __m256 sv = _mm256_set1_ps(s);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + i)));
        _mm_storeu_si128((__m128i *)(acc + i), _mm256_cvtps_ph(_mm256_mul_ps(a, sv), _MM_FROUND_TO_NEAREST_INT));
    }
    umi_f16acc_scale(n - i, acc + i, s);
}

AVX2 static void mad_avx2(int n, uint16_t *acc, const uint16_t *v, float w) {
    const __m256 wv = _mm256_set1_ps(w);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + i)));
        const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i)));
        _mm_storeu_si128((__m128i *)(acc + i), _mm256_cvtps_ph(_mm256_fmadd_ps(x, wv, a), _MM_FROUND_TO_NEAREST_INT));
    }
    umi_f16acc_mad(n - i, acc + i, v + i, w);
}

#define AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))

AVX512 static void scale_512(int n, uint16_t *acc, float s) {
    const __m512 sv = _mm512_set1_ps(s);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(acc + i)));
        _mm256_storeu_si256((__m256i *)(acc + i), _mm512_cvtps_ph(_mm512_mul_ps(a, sv), _MM_FROUND_TO_NEAREST_INT));
    }
    scale_avx2(n - i, acc + i, s);
}

AVX512 static void mad_512(int n, uint16_t *acc, const uint16_t *v, float w) {
    const __m512 wv = _mm512_set1_ps(w);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 a = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(acc + i)));
        const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + i)));
        _mm256_storeu_si256((__m256i *)(acc + i),
                            _mm512_cvtps_ph(_mm512_fmadd_ps(x, wv, a), _MM_FROUND_TO_NEAREST_INT));
    }
    mad_avx2(n - i, acc + i, v + i, w);
}

umi_att_small_kernels umi_kernels_att_small(int cpu_level) {
    const umi_dot_fn score = umi_kernels_simd_twin(umi_plan_dot_f16_vec, cpu_level);
    if (cpu_level == UMI_CPU_AVX512) return (umi_att_small_kernels){.score = score, .scale = scale_512, .mad = mad_512};
    if (cpu_level == UMI_CPU_AVX2)
        return (umi_att_small_kernels){.score = score, .scale = scale_avx2, .mad = mad_avx2};
    return (umi_att_small_kernels){.score = score, .scale = umi_f16acc_scale, .mad = umi_f16acc_mad};
}

#else

umi_att_small_kernels umi_kernels_att_small(int cpu_level) {
    return (umi_att_small_kernels){.score = umi_kernels_simd_twin(umi_plan_dot_f16_vec, cpu_level),
                                   .scale = umi_f16acc_scale,
                                   .mad = umi_f16acc_mad};
}

#endif
