/* The polynomial exp (core/expf.h) over arrays, for the two places it runs
 * per element of a batch: the SiLU of a gated FFN (n_ff values per token)
 * and the softmax of large-batch attention (one per score). The SIMD
 * versions do umi_expf_poly's operations lane by lane — the same fused
 * multiply-adds, the same product with 2^n — so every result has its bits
 * (tests/unit/test_kernels.c); a vector with a lane whose 2^n is not a
 * normal float (|n| in (126, 192]: exp below ~1e-38 or above ~1e38) takes
 * the scalar function for that vector. */
#include "kernels/kernels.h"

#include "core/cpu.h"
#include "core/expf.h"

void umi_silu_mul_f32(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) g[i] = g[i] / (1.0f + umi_expf_poly(-g[i])) * u[i];
}

void umi_exp_shift_f32(float *p, int n, float m) {
    for (int i = 0; i < n; i++) p[i] = umi_expf_poly(p[i] - m);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))

AVX512 static inline __attribute__((always_inline)) __m512 neg(__m512 v) {
    return _mm512_xor_ps(v, _mm512_set1_ps(-0.0f)); /* -v, as the scalar code negates (signed zeros too) */
}

/* 16 lanes of umi_expf_poly; false (and nothing written) when a lane needs
 * the scalar ldexpf path. */
AVX512 static inline __attribute__((always_inline)) bool exp16(__m512 x, __m512 *out) {
    const __m512 shift = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shift);
    const __m512 n = _mm512_sub_ps(z, shift);
    const __m512 an = _mm512_abs_ps(n);
    const __mmask16 huge = _mm512_cmp_ps_mask(an, _mm512_set1_ps(192.0f), _CMP_GT_OQ);
    const __mmask16 normal = _mm512_cmp_ps_mask(an, _mm512_set1_ps(126.0f), _CMP_LE_OQ);
    if ((__mmask16)(huge | normal) != 0xffff) return false;
    const __m512 nn = neg(n);
    const __m512 b = _mm512_fmadd_ps(nn, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                     _mm512_fmadd_ps(nn, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 r = _mm512_mul_ps(j, _mm512_castsi512_ps(e));
    /* |n| > 192: infinity for n > 0, else 0 (NaN lanes: n is NaN, neither mask, so scalar) */
    const __mmask16 pos = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_GT_OQ);
    r = _mm512_mask_mov_ps(r, huge, _mm512_maskz_mov_ps(pos, _mm512_set1_ps(INFINITY)));
    *out = r;
    return true;
}

AVX512 static void silu_mul_512(float *g, const float *u, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 gv = _mm512_loadu_ps(g + i);
        __m512 e;
        if (!exp16(neg(gv), &e)) {
            umi_silu_mul_f32(g + i, u + i, 16);
            continue;
        }
        const __m512 s = _mm512_div_ps(gv, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
        _mm512_storeu_ps(g + i, _mm512_mul_ps(s, _mm512_loadu_ps(u + i)));
    }
    umi_silu_mul_f32(g + i, u + i, n - i);
}

AVX512 static void exp_shift_512(float *p, int n, float m) {
    int i = 0;
    const __m512 mv = _mm512_set1_ps(m);
    for (; i + 16 <= n; i += 16) {
        __m512 e;
        if (exp16(_mm512_sub_ps(_mm512_loadu_ps(p + i), mv), &e)) _mm512_storeu_ps(p + i, e);
        else umi_exp_shift_f32(p + i, 16, m);
    }
    umi_exp_shift_f32(p + i, n - i, m);
}

umi_vexp_kernels umi_kernels_vexp(int cpu_level) {
    if (cpu_level == UMI_CPU_AVX512) return (umi_vexp_kernels){silu_mul_512, exp_shift_512};
    return (umi_vexp_kernels){umi_silu_mul_f32, umi_exp_shift_f32};
}

#else

umi_vexp_kernels umi_kernels_vexp(int cpu_level) {
    (void)cpu_level;
    return (umi_vexp_kernels){umi_silu_mul_f32, umi_exp_shift_f32};
}

#endif
