/* x86 SIMD versions of the ordered dot products (kernels.h): AVX-512 and
 * AVX2 (+FMA, F16C). Each adds in exactly the lane order of its scalar twin
 * in generic.c, so results are bit-identical (tests/unit/test_kernels.c).
 * Functions carry target attributes, so this file builds without
 * -march=native and is only called when the CPU has the features. */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/x86_reduce.h"
#include "quant/blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
/* Unrolls the 4 accumulators of "vec" order into registers: as a loop at
 * -O2, GCC keeps them on the stack and each step waits on a store and a
 * reload (an F16 decode streamed its weights ~8% slower). Same order. */
#define UNROLL4 _Pragma("GCC unroll 4")

/* ---------------------------------------------------------------- AVX-512 */

AVX512 static inline __m512 load_f16x16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

AVX512 float umi_dot_f32_vec_avx512(int n, const float *x, const float *y) {
    const int np = n & ~63;
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int i = 0; i < np; i += 64)
        UNROLL4 for (int j = 0; j < 4; j++)
            s[j] = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16 * j), _mm512_loadu_ps(y + i + 16 * j), s[j]);
    float sum = np > 0 ? umi_hsum16_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[2]), _mm512_add_ps(s[1], s[3]))) : 0.0f;
    for (int i = np; i < n; i++) sum += x[i] * y[i];
    return sum;
}

AVX512 float umi_dot_f32_gemm_avx512(int n, const float *x, const float *y) {
    __m512 acc = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), acc);
    return umi_hsum16_ps(acc);
}

AVX512 float umi_dot_f16_vec_avx512(int n, const uint16_t *x, const uint16_t *y) {
    const int np = n & ~63;
    __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int i = 0; i < np; i += 64)
        UNROLL4 for (int j = 0; j < 4; j++)
            s[j] = _mm512_fmadd_ps(load_f16x16(x + i + 16 * j), load_f16x16(y + i + 16 * j), s[j]);
    double sum = np > 0 ? (double)umi_hsum16_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[2]), _mm512_add_ps(s[1], s[3]))) : 0.0;
    for (int i = np; i < n; i++) sum += (double)(umi_fp16_to_fp32(x[i]) * umi_fp16_to_fp32(y[i]));
    return (float)sum;
}

AVX512 float umi_dot_f16_gemm_avx512(int n, const uint16_t *x, const uint16_t *y) {
    __m512 acc = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(load_f16x16(x + i), load_f16x16(y + i), acc);
    return umi_hsum16_ps(acc);
}

/* ---------------------------------------------------------------- AVX2 */

AVX2 static inline __m256 load_f16x8(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* 16-lane accumulators as pairs of 8-lane halves, so AVX2 adds like AVX-512. */
AVX2 float umi_dot_f32_vec_avx2(int n, const float *x, const float *y) {
    const int np = n & ~63;
    __m256 lo[4], hi[4];
    for (int j = 0; j < 4; j++) lo[j] = hi[j] = _mm256_setzero_ps();
    for (int i = 0; i < np; i += 64)
        UNROLL4 for (int j = 0; j < 4; j++) {
            const int k = i + 16 * j;
            lo[j] = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k), lo[j]);
            hi[j] = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), _mm256_loadu_ps(y + k + 8), hi[j]);
        }
    float sum = 0.0f;
    if (np > 0)
        sum = umi_hsum16_halves_ps(_mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3])),
                          _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3])));
    for (int i = np; i < n; i++) sum += x[i] * y[i];
    return sum;
}

AVX2 float umi_dot_f32_gemm_avx2(int n, const float *x, const float *y) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), hi);
    }
    return umi_hsum16_halves_ps(lo, hi);
}

AVX2 float umi_dot_f16_vec_avx2(int n, const uint16_t *x, const uint16_t *y) {
    const int np = n & ~63;
    __m256 lo[4], hi[4];
    for (int j = 0; j < 4; j++) lo[j] = hi[j] = _mm256_setzero_ps();
    for (int i = 0; i < np; i += 64)
        UNROLL4 for (int j = 0; j < 4; j++) {
            const int k = i + 16 * j;
            lo[j] = _mm256_fmadd_ps(load_f16x8(x + k), load_f16x8(y + k), lo[j]);
            hi[j] = _mm256_fmadd_ps(load_f16x8(x + k + 8), load_f16x8(y + k + 8), hi[j]);
        }
    double sum = 0.0;
    if (np > 0)
        sum = umi_hsum16_halves_ps(_mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3])),
                          _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3])));
    for (int i = np; i < n; i++) sum += (double)(umi_fp16_to_fp32(x[i]) * umi_fp16_to_fp32(y[i]));
    return (float)sum;
}

AVX2 float umi_dot_f16_gemm_avx2(int n, const uint16_t *x, const uint16_t *y) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        lo = _mm256_fmadd_ps(load_f16x8(x + i), load_f16x8(y + i), lo);
        hi = _mm256_fmadd_ps(load_f16x8(x + i + 8), load_f16x8(y + i + 8), hi);
    }
    return umi_hsum16_halves_ps(lo, hi);
}

/* Q8_0: |x| times y with x's sign gives the same products as x*y; the
 * unsigned-by-signed byte multiply-add then sums adjacent pairs, and a
 * multiply-add with ones sums those, so lane l holds bytes 4l..4l+3.
 * Decode streams weight rows through this dot one after another; for
 * short rows (n <= Q8_PF_MAX_K) a prefetch Q8_PF bytes ahead (past the
 * row's end, into the rows after it) keeps more lines in flight than the
 * hardware prefetcher, which stops at each 4 KiB page. Measured in-process
 * A/B on decode: bench-moe-q8_0 (k 1024 and 1408) +3 to +9 %, 1 KiB ahead
 * less; bench-1b-q8_0 (k >= 2048) 0 to -10 %, so longer rows go without.
 * Prefetches never fault, so reading past the matrix is harmless. */
enum { Q8_PF = 2048, Q8_PF_MAX_K = 1536 };

AVX2 float umi_dot_q8_0_avx2(int n, const void *vx, const void *vy) {
    const umi_block_q8_0 *x = vx, *y = vy;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    const bool pf = n <= Q8_PF_MAX_K;
    for (int b = 0; b < n / UMI_QK8_0; b++) {
        if (pf && b % 2 == 0) _mm_prefetch((const char *)&x[b] + Q8_PF, _MM_HINT_T0); /* a line per two blocks */
        const __m256 d = _mm256_set1_ps(umi_fp16_to_fp32_f16c(x[b].d) * umi_fp16_to_fp32_f16c(y[b].d));
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        const __m256i qy = _mm256_loadu_si256((const __m256i *)y[b].qs);
        const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones)), acc);
    }
    return umi_hsum8_ps(acc);
}

/* ---------------------------------------------------------------- twins */

#define PLAN_ADAPTER(name, fn, T) \
    static float name(int k, const void *w, const void *x) { return fn(k, (const T *)w, (const T *)x); }
PLAN_ADAPTER(f32_vec_512, umi_dot_f32_vec_avx512, float)
PLAN_ADAPTER(f32_gemm_512, umi_dot_f32_gemm_avx512, float)
PLAN_ADAPTER(f16_vec_512, umi_dot_f16_vec_avx512, uint16_t)
PLAN_ADAPTER(f16_gemm_512, umi_dot_f16_gemm_avx512, uint16_t)
PLAN_ADAPTER(f32_vec_256, umi_dot_f32_vec_avx2, float)
PLAN_ADAPTER(f32_gemm_256, umi_dot_f32_gemm_avx2, float)
PLAN_ADAPTER(f16_vec_256, umi_dot_f16_vec_avx2, uint16_t)
PLAN_ADAPTER(f16_gemm_256, umi_dot_f16_gemm_avx2, uint16_t)

static const struct {
    umi_dot_fn scalar, avx2, avx512;
} TWINS[] = {
    {umi_plan_dot_f32_vec, f32_vec_256, f32_vec_512},
    {umi_plan_dot_f32_gemm, f32_gemm_256, f32_gemm_512},
    {umi_plan_dot_f16_vec, f16_vec_256, f16_vec_512},
    {umi_plan_dot_f16_gemm, f16_gemm_256, f16_gemm_512},
    {umi_dot_q8_0_lanes8, umi_dot_q8_0_avx2, umi_dot_q8_0_avx2},
};

umi_dot_fn umi_kernels_simd_twin(umi_dot_fn scalar, int cpu_level) {
    for (size_t i = 0; i < sizeof TWINS / sizeof *TWINS; i++) {
        if (TWINS[i].scalar != scalar) continue;
        if (cpu_level == UMI_CPU_AVX512) return TWINS[i].avx512;
        if (cpu_level == UMI_CPU_AVX2) return TWINS[i].avx2;
    }
    return scalar;
}

#endif
