/* x86 twins of the BF16 orders (bf16.c), bit for bit:
 *   - CPUs with AVX512-BF16 (Zen 4 and later, Sapphire Rapids and later):
 *     VDPBF16PS itself, 32 products per instruction, a 4 x 4 register
 *     tile of the batched order for prompts (each weight register serves 4
 *     tokens, each token register 4 rows) and a 4 x 2 one of the vector
 *     order (decode steps of several sequences, MoE experts);
 *   - other AVX2 / AVX-512 CPUs: the instruction emulated 8 lanes at a time
 *     (odd then even elements, fused multiply-adds, denormals flushed by a
 *     compare and a blend), about 5x the scalar code. */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/x86_reduce.h"

#define AVX2 __attribute__((target("avx2,fma")))
#define BF16 __attribute__((target("avx512f,avx512bf16,avx2,fma")))

enum { CHUNK = 32, VEC_STEP = 64, TM = 4, TN = 4 };

/* ---------------------------------------------------------------- AVX512-BF16 */

BF16 static inline __m512bh load_bh(const uint16_t *p) {
    return (__m512bh)_mm512_loadu_si512(p);
}

BF16 static float bf16_vec_512(int n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m512 c1 = _mm512_setzero_ps(), c2 = _mm512_setzero_ps();
    int i = 0;
    for (; i + VEC_STEP <= n; i += VEC_STEP) {
        c1 = _mm512_dpbf16_ps(c1, load_bh(x + i), load_bh(y + i));
        c2 = _mm512_dpbf16_ps(c2, load_bh(x + i + CHUNK), load_bh(y + i + CHUNK));
    }
    double sum = 0.0;
    sum += (double)umi_hsum16_ps(c1);
    sum += (double)umi_hsum16_ps(c2);
    for (; i < n; i++) sum += (double)(umi_bf16_to_fp32(x[i]) * umi_bf16_to_fp32(y[i]));
    return (float)sum;
}

BF16 static float bf16_gemm_512(int n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m512 acc = _mm512_setzero_ps();
    for (int i = 0; i < n; i += CHUNK) acc = _mm512_dpbf16_ps(acc, load_bh(x + i), load_bh(y + i));
    return umi_hsum16_ps(acc);
}

/* The batched order for 4 rows x 4 tokens: 16 accumulators, 4 + 4 loads
 * and 16 VDPBF16PS per 32 elements. Partial tiles take the dot. */
BF16 static void tile_bf16_gemm_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                    float *y, size_t ys) {
    if (rm != TM || rn != TN) {
        umi_tile_edge(bf16_gemm_512, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    __m512 acc[TM][TN];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < TM; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) acc[i][j] = _mm512_setzero_ps();
    for (int l = 0; l < k; l += CHUNK) {
        __m512bh wv[TM];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < TM; i++) wv[i] = load_bh((const uint16_t *)(wc + i * ws) + l);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) {
            const __m512bh xv = load_bh((const uint16_t *)(xc + j * xs) + l);
            _Pragma("GCC unroll 4")
            for (int i = 0; i < TM; i++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], wv[i], xv);
        }
    }
    umi_hsum16_4x4(acc, y, ys);
}

/* The vector order for 4 rows x 2 tokens (several sequences decoding
 * together, a MoE expert's group of tokens): each output's two
 * accumulators, 16 registers in all, reduced 16 at a time and added in
 * double as the dot does, its tail too. */
enum { VM = 4, VN = 2 };

BF16 static void tile_bf16_vec_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                   float *y, size_t ys) {
    if (rm != VM || rn != VN) {
        umi_tile_edge(bf16_vec_512, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    __m512 acc[VM][2 * VN]; /* [row][2 * token + accumulator] */
    _Pragma("GCC unroll 4")
    for (int i = 0; i < VM; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < 2 * VN; j++) acc[i][j] = _mm512_setzero_ps();
    int l = 0;
    for (; l + VEC_STEP <= k; l += VEC_STEP)
        _Pragma("GCC unroll 2")
        for (int h = 0; h < 2; h++) {
            __m512bh wv[VM];
            _Pragma("GCC unroll 4")
            for (int i = 0; i < VM; i++) wv[i] = load_bh((const uint16_t *)(wc + i * ws) + l + CHUNK * h);
            _Pragma("GCC unroll 2")
            for (int j = 0; j < VN; j++) {
                const __m512bh xv = load_bh((const uint16_t *)(xc + j * xs) + l + CHUNK * h);
                _Pragma("GCC unroll 4")
                for (int i = 0; i < VM; i++) acc[i][2 * j + h] = _mm512_dpbf16_ps(acc[i][2 * j + h], wv[i], xv);
            }
        }
    float r[2 * VN][VM]; /* r[2 * token + accumulator][row] */
    umi_hsum16_4x4(acc, &r[0][0], VM);
    for (int j = 0; j < VN; j++)
        for (int i = 0; i < VM; i++) {
            const uint16_t *wr = (const uint16_t *)(wc + i * ws), *xr = (const uint16_t *)(xc + j * xs);
            double sum = 0.0;
            sum += (double)r[2 * j][i];
            sum += (double)r[2 * j + 1][i];
            for (int t = l; t < k; t++) sum += (double)(umi_bf16_to_fp32(wr[t]) * umi_bf16_to_fp32(xr[t]));
            y[j * ys + i] = (float)sum;
        }
}

/* ---------------------------------------------------------------- emulated (AVX2) */

/* A denormal as the zero of its sign: a zero exponent field. */
AVX2 static inline __m256 flush8(__m256 v) {
    const __m256 exp = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32(0x7f800000)));
    const __m256 zero = _mm256_cmp_ps(exp, _mm256_setzero_ps(), _CMP_EQ_OQ);
    return _mm256_blendv_ps(v, _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u))), zero);
}

/* 16 bf16 as 8 pairs: the odd elements (high halves) and the even ones. */
AVX2 static inline void pairs8(const uint16_t *p, __m256 *odd, __m256 *even) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
    *odd = flush8(_mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u))));
    *even = flush8(_mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
}

/* VDPBF16PS on 8 lanes (16 elements). */
AVX2 static inline __m256 dp8(__m256 acc, const uint16_t *x, const uint16_t *y) {
    __m256 xo, xe, yo, ye;
    pairs8(x, &xo, &xe);
    pairs8(y, &yo, &ye);
    return flush8(_mm256_fmadd_ps(xe, ye, flush8(_mm256_fmadd_ps(xo, yo, acc))));
}

AVX2 static float bf16_vec_256(int n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m256 c1l = _mm256_setzero_ps(), c1h = c1l, c2l = c1l, c2h = c1l;
    int i = 0;
    for (; i + VEC_STEP <= n; i += VEC_STEP) {
        c1l = dp8(c1l, x + i, y + i), c1h = dp8(c1h, x + i + 16, y + i + 16);
        c2l = dp8(c2l, x + i + 32, y + i + 32), c2h = dp8(c2h, x + i + 48, y + i + 48);
    }
    double sum = 0.0;
    sum += (double)umi_hsum16_halves_ps(c1l, c1h);
    sum += (double)umi_hsum16_halves_ps(c2l, c2h);
    for (; i < n; i++) sum += (double)(umi_bf16_to_fp32(x[i]) * umi_bf16_to_fp32(y[i]));
    return (float)sum;
}

AVX2 static float bf16_gemm_256(int n, const void *vx, const void *vy) {
    const uint16_t *x = vx, *y = vy;
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    for (int i = 0; i < n; i += CHUNK) lo = dp8(lo, x + i, y + i), hi = dp8(hi, x + i + 16, y + i + 16);
    return umi_hsum16_halves_ps(lo, hi);
}

/* ---------------------------------------------------------------- lookups */

umi_dot_fn umi_kernels_simd_twin_bf16(umi_dot_fn scalar, int cpu_level) {
    if (scalar != umi_plan_dot_bf16_vec && scalar != umi_plan_dot_bf16_gemm) return NULL;
    if (cpu_level == UMI_CPU_AVX512 && umi_cpu_features_get()->avx512bf16)
        return scalar == umi_plan_dot_bf16_vec ? bf16_vec_512 : bf16_gemm_512;
    if (cpu_level == UMI_CPU_AVX512 || cpu_level == UMI_CPU_AVX2)
        return scalar == umi_plan_dot_bf16_vec ? bf16_vec_256 : bf16_gemm_256;
    return NULL;
}

umi_tile_fn umi_kernels_tile_for_bf16(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_AVX512 || !umi_cpu_features_get()->avx512bf16) return NULL;
    if (dot == umi_plan_dot_bf16_gemm) {
        *tile_m = TM, *tile_n = TN;
        return tile_bf16_gemm_512;
    }
    if (dot == umi_plan_dot_bf16_vec) {
        *tile_m = VM, *tile_n = VN;
        return tile_bf16_vec_512;
    }
    return NULL;
}

#elif !(defined(__aarch64__) && defined(__ARM_NEON)) /* neon.c has ARM's */

umi_dot_fn umi_kernels_simd_twin_bf16(umi_dot_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

umi_tile_fn umi_kernels_tile_for_bf16(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
