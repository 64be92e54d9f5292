/* Row loops on umi_expf_poly: the scalar reference, and AVX-512 versions
 * with identical bits (expf_rows.h). */
#include "kernels/expf_rows.h"

#include <math.h>
#include <stdint.h>

#include "core/cpu.h"
#include "core/expf.h"
#include "kernels/kernels.h"

/* ---------------------------------------------------------------- scalar */

static void silu_mul_scalar(float *out, const float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) out[i] = g[i] / (1.0f + umi_expf_poly(-g[i])) * u[i];
}

static double exp_sum_scalar(float *p, int n, float m) {
    double sum = 0.0;
    for (int i = 0; i < n; i += UMI_LANES) {
        for (int l = 0; l < UMI_LANES; l++) p[i + l] = umi_expf_poly(p[i + l] - m);
        sum += (double)umi_reduce16(p + i);
    }
    return sum;
}

static float scale_max_scalar(float *p, int n, float s, int lo, int hi) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (i < lo || i >= hi) {
            p[i] = -INFINITY;
            continue;
        }
        p[i] = p[i] * s;
        if (p[i] > max) max = p[i]; /* fmaxf without its libm call: a NaN is skipped */
    }
    return max;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

/* umi_expf_poly on 16 lanes, step for step. Lanes whose 2^n is not a
 * normal float and does not overflow or vanish (126 < |n| <= 192, or a
 * NaN input) take the scalar function, which calls ldexpf. */
AVX512 static inline __m512 expf16(__m512 x) {
    const __m512 shift = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shift);
    const __m512 n = _mm512_sub_ps(z, shift);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
    const __m512 an = _mm512_abs_ps(n);
    const __mmask16 normal = _mm512_cmp_ps_mask(an, _mm512_set1_ps(126.0f), _CMP_LE_OQ);
    const __mmask16 huge = _mm512_cmp_ps_mask(an, _mm512_set1_ps(192.0f), _CMP_GT_OQ);
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
    __m512 r = _mm512_mul_ps(j, _mm512_castsi512_ps(e));
    if (huge) {
        const __mmask16 pos = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_GT_OQ);
        r = _mm512_mask_blend_ps(huge, r, _mm512_mask_blend_ps(pos, _mm512_setzero_ps(), _mm512_set1_ps(INFINITY)));
    }
    const __mmask16 rest = (__mmask16)~(normal | huge);
    if (rest) {
        float xs[16], rs[16];
        _mm512_storeu_ps(xs, x);
        _mm512_storeu_ps(rs, r);
        for (int l = 0; l < 16; l++)
            if (rest >> l & 1) rs[l] = umi_expf_poly(xs[l]);
        r = _mm512_loadu_ps(rs);
    }
    return r;
}

/* umi_reduce16's tree: lanes l + 8 and l, then l + 4 and l, then (0+2) + (1+3). */
AVX512 static inline float reduce16(__m512 v) {
    const __m256 h8 = _mm256_add_ps(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)),
                                    _mm512_castps512_ps256(v));
    const __m128 h4 = _mm_add_ps(_mm256_extractf128_ps(h8, 1), _mm256_castps256_ps128(h8));
    const __m128 t = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

AVX512 static void silu_mul_512(float *out, const float *g, const float *u, int n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int i = 0; i < n; i += 16) {
        const __m512 x = _mm512_loadu_ps(g + i);
        const __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
        const __m512 e = expf16(neg);
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(u + i)));
    }
}

AVX512 static double exp_sum_512(float *p, int n, float m) {
    const __m512 mv = _mm512_set1_ps(m);
    double sum = 0.0;
    for (int i = 0; i < n; i += 16) {
        const __m512 e = expf16(_mm512_sub_ps(_mm512_loadu_ps(p + i), mv));
        _mm512_storeu_ps(p + i, e);
        sum += (double)reduce16(e);
    }
    return sum;
}

AVX512 static float scale_max_512(float *p, int n, float s, int lo, int hi) {
    const __m512 sv = _mm512_set1_ps(s), ninf = _mm512_set1_ps(-INFINITY);
    __m512 max = ninf;
    for (int i = 0; i < n; i += 16) {
        /* lanes i + l in [lo, hi) */
        const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(i), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                                                     10, 11, 12, 13, 14, 15));
        const __mmask16 keep = _mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(lo)) &
                               _mm512_cmplt_epi32_mask(idx, _mm512_set1_epi32(hi));
        const __m512 v = _mm512_mask_mul_ps(ninf, keep, _mm512_loadu_ps(p + i), sv);
        _mm512_storeu_ps(p + i, v);
        max = _mm512_max_ps(v, max); /* v > max ? v : max: a NaN lane keeps max */
    }
    /* The largest value is the same in any order; only which of +0 and -0
     * is kept can differ, and both give the same exponentials downstream. */
    return _mm512_reduce_max_ps(max);
}

#endif

umi_expf_rows umi_kernels_expf_rows(int cpu_level) {
#if defined(__x86_64__)
    if (cpu_level == UMI_CPU_AVX512) return (umi_expf_rows){silu_mul_512, exp_sum_512, scale_max_512};
#endif
    (void)cpu_level;
    return (umi_expf_rows){silu_mul_scalar, exp_sum_scalar, scale_max_scalar};
}
