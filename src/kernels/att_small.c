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

typedef float (*f16_dot_fn)(int n, const uint16_t *x, const uint16_t *y);
typedef void (*scale_fn)(int n, uint16_t *acc, float s);
typedef void (*mad_fn)(int n, uint16_t *acc, const uint16_t *v, float w);

/* The runs as their definitions in att_small.h say, one step at a time
 * with a level's dot, scale and mad: the scalar oracle, and what a SIMD
 * level does for head sizes its register kernels do not take. */
static void scores_by_dot(f16_dot_fn dot, int n, const uint16_t *const *k, const uint16_t *q16, int g, float *out,
                          int n_pos) {
    for (int j = 0; j < g; j++)
        for (int i = 0; i < n_pos; i++) out[j * n_pos + i] = dot(n, k[i], q16 + (size_t)j * n);
}

static void rows_by_steps(scale_fn scale, mad_fn mad, int n, uint16_t *acc, int g, const uint16_t *const *v,
                          const bool *rescale, const float *ms, const float *vs, int n_pos) {
    for (int j = 0; j < g; j++)
        for (int i = 0; i < n_pos; i++) {
            const int o = j * n_pos + i;
            if (rescale[o]) scale(n, acc + (size_t)j * n, ms[o]);
            mad(n, acc + (size_t)j * n, v[i], vs[o]);
        }
}

void umi_f16acc_scores(int n, const uint16_t *const *k, const uint16_t *q16, int g, float *out, int n_pos) {
    scores_by_dot(umi_dot_f16_vec, n, k, q16, g, out, n_pos);
}

void umi_f16acc_rows(int n, uint16_t *acc, int g, const uint16_t *const *v, const bool *rescale, const float *ms,
                     const float *vs, int n_pos) {
    rows_by_steps(umi_f16acc_scale, umi_f16acc_mad, n, acc, g, v, rescale, ms, vs, n_pos);
}

#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/x86_reduce.h"

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

static void rows_avx2(int n, uint16_t *acc, int g, const uint16_t *const *v, const bool *rescale, const float *ms,
                      const float *vs, int n_pos) {
    rows_by_steps(scale_avx2, mad_avx2, n, acc, g, v, rescale, ms, vs, n_pos);
}

static void scores_avx2(int n, const uint16_t *const *k, const uint16_t *q16, int g, float *out, int n_pos) {
    scores_by_dot(umi_dot_f16_vec_avx2, n, k, q16, g, out, n_pos);
}

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

/* Runs of positions for the heads that share a KV head, their
 * accumulators in registers as F32 values that each step rounds to F16 and
 * widens again (exact): the roundings of scale_512 / mad_512, without a
 * store and reload between positions, and with the heads' independent
 * chains of conversions side by side (one head alone waits ~20 cycles a
 * position on its own chain). Each value row is widened once for all the
 * heads. NV vectors of 16 per head (head sizes 64, 128, 256), HH heads at
 * once (16 accumulators). */
AVX512 static inline __attribute__((always_inline)) void rows_512_hh(const int nv, const int hh, uint16_t *acc,
                                                                     const uint16_t *const *v, const bool *rescale,
                                                                     const float *ms, const float *vs, int n_pos) {
    const int n = 16 * nv;
    __m512 a[16];
    _Pragma("GCC unroll 16") for (int h = 0; h < hh; h++)
        _Pragma("GCC unroll 16") for (int j = 0; j < nv; j++)
            a[h * nv + j] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(acc + h * n + 16 * j)));
    for (int i = 0; i < n_pos; i++) {
        _Pragma("GCC unroll 16") for (int h = 0; h < hh; h++)
            if (rescale[h * n_pos + i]) {
                const __m512 sv = _mm512_set1_ps(ms[h * n_pos + i]);
                _Pragma("GCC unroll 16") for (int j = 0; j < nv; j++)
                    a[h * nv + j] = _mm512_cvtph_ps(
                        _mm512_cvtps_ph(_mm512_mul_ps(a[h * nv + j], sv), _MM_FROUND_TO_NEAREST_INT));
            }
        __m512 w[4];
        _Pragma("GCC unroll 4") for (int h = 0; h < hh; h++) w[h] = _mm512_set1_ps(vs[h * n_pos + i]);
        _Pragma("GCC unroll 16") for (int j = 0; j < nv; j++) {
            const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v[i] + 16 * j)));
            _Pragma("GCC unroll 4") for (int h = 0; h < hh; h++)
                a[h * nv + j] = _mm512_cvtph_ps(
                    _mm512_cvtps_ph(_mm512_fmadd_ps(x, w[h], a[h * nv + j]), _MM_FROUND_TO_NEAREST_INT));
        }
    }
    _Pragma("GCC unroll 16") for (int h = 0; h < hh; h++)
        _Pragma("GCC unroll 16") for (int j = 0; j < nv; j++)
            _mm256_storeu_si256((__m256i *)(acc + h * n + 16 * j),
                                _mm512_cvtps_ph(a[h * nv + j], _MM_FROUND_TO_NEAREST_INT));
}

typedef void (*rows_fn)(uint16_t *, const uint16_t *const *, const bool *, const float *, const float *, int);

/* The instantiations rows_512 dispatches to: HH heads of NV vectors. */
#define ROWS_HH(nv, hh)                                                                                          \
    AVX512 static void rows_512_##nv##_##hh(uint16_t *acc, const uint16_t *const *v, const bool *rescale,      \
                                            const float *ms, const float *vs, int n_pos) {                    \
        rows_512_hh(nv, hh, acc, v, rescale, ms, vs, n_pos);                                                   \
    }
ROWS_HH(4, 1)
ROWS_HH(4, 2)
ROWS_HH(4, 3)
ROWS_HH(4, 4)
ROWS_HH(8, 1)
ROWS_HH(8, 2)
ROWS_HH(16, 1)
#undef ROWS_HH

AVX512 static void rows_512(int n, uint16_t *acc, int g, const uint16_t *const *v, const bool *rescale,
                            const float *ms, const float *vs, int n_pos) {
    static const rows_fn R4[4] = {rows_512_4_1, rows_512_4_2, rows_512_4_3, rows_512_4_4};
    static const rows_fn R8[2] = {rows_512_8_1, rows_512_8_2};
    const int per = n == 64 ? 4 : n == 128 ? 2 : n == 256 ? 1 : 0; /* heads at once */
    if (!per) {
        rows_by_steps(scale_512, mad_512, n, acc, g, v, rescale, ms, vs, n_pos);
        return;
    }
    for (int h0 = 0; h0 < g; h0 += per) {
        const int hh = g - h0 < per ? g - h0 : per, o = h0 * n_pos;
        const rows_fn f = n == 64 ? R4[hh - 1] : n == 128 ? R8[hh - 1] : rows_512_16_1;
        f(acc + (size_t)h0 * n, v, rescale + o, ms + o, vs + o, n_pos);
    }
}

/* umi_dot_f16_vec's reduction of its 4 x 16 accumulators: (0+2) + (1+3),
 * then umi_reduce16 (kernels.h). */
AVX512 static inline float reduce_vec(const __m512 s[4]) {
    return umi_hsum16_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[2]), _mm512_add_ps(s[1], s[3])));
}

/* Scores with each key row widened once for all g queries (themselves
 * widened once per call); NV vectors of 16 (head sizes 64, 128, 256: no
 * tail, so the vec order's double-precision tail never arises). */
AVX512 static inline __attribute__((always_inline)) void scores_512_nv(const int nv, const uint16_t *const *k,
                                                                       const uint16_t *q16, int g, float *out,
                                                                       int n_pos) {
    const int n = 16 * nv;
    for (int j = 0; j < g; j++) {
        __m512 q[16];
        _Pragma("GCC unroll 16") for (int b = 0; b < nv; b++)
            q[b] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(q16 + (size_t)j * n + 16 * b)));
        for (int i = 0; i < n_pos; i++) {
            __m512 s[4];
            _Pragma("GCC unroll 4") for (int l = 0; l < 4; l++)
                s[l] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(k[i] + 16 * l))), q[l],
                                       _mm512_setzero_ps());
            _Pragma("GCC unroll 16") for (int b = 4; b < nv; b++)
                s[b % 4] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(k[i] + 16 * b))),
                                           q[b], s[b % 4]);
            out[j * n_pos + i] = reduce_vec(s);
        }
    }
}

AVX512 static void scores_512(int n, const uint16_t *const *k, const uint16_t *q16, int g, float *out, int n_pos) {
    switch (n) {
    case 64: scores_512_nv(4, k, q16, g, out, n_pos); return;
    case 128: scores_512_nv(8, k, q16, g, out, n_pos); return;
    case 256: scores_512_nv(16, k, q16, g, out, n_pos); return;
    }
    scores_by_dot(umi_dot_f16_vec_avx512, n, k, q16, g, out, n_pos);
}

umi_att_small_kernels umi_kernels_att_small(int cpu_level) {
    const umi_dot_fn score = umi_kernels_simd_twin(umi_plan_dot_f16_vec, cpu_level);
    if (cpu_level == UMI_CPU_AVX512)
        return (umi_att_small_kernels){
            .score = score, .scale = scale_512, .mad = mad_512, .scores = scores_512, .rows = rows_512};
    if (cpu_level == UMI_CPU_AVX2)
        return (umi_att_small_kernels){.score = score,
                                       .scale = scale_avx2,
                                       .mad = mad_avx2,
                                       .scores = scores_avx2,
                                       .rows = rows_avx2};
    return (umi_att_small_kernels){.score = score,
                                   .scale = umi_f16acc_scale,
                                   .mad = umi_f16acc_mad,
                                   .scores = umi_f16acc_scores,
                                   .rows = umi_f16acc_rows};
}

#else

umi_att_small_kernels umi_kernels_att_small(int cpu_level) {
    return (umi_att_small_kernels){.score = umi_kernels_simd_twin(umi_plan_dot_f16_vec, cpu_level),
                                   .scale = umi_f16acc_scale,
                                   .mad = umi_f16acc_mad,
                                   .scores = umi_f16acc_scores,
                                   .rows = umi_f16acc_rows};
}

#endif
