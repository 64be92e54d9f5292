/* AVX2 twins of the two Q8_K activation quantizers: umi_quant_from_float_q8_K
 * (quant/kquants.c: every K-quant single-token product and the vec_dot
 * path) and umi_quant_from_float_q8_K_x4 (kquant_repack.c: the 4-row gemm
 * of repacked Q2_K/Q4_K prompts). Same bytes as the scalar functions
 * (tests/unit/test_kernels_x86_kquant.c).
 *
 * Why: the scalar quantizer took ~3.5 us for 2048 floats on Zen 4, ten
 * times the Q8_0 one, and a decode step converts each layer's input 4
 * times on one thread while the others wait (~0.4 ms a token on the 1B
 * model), a prompt once per token and product.
 *
 * The bits match because every step is one rounding the scalar code also
 * makes: the largest magnitude is a maximum (exact in any order), iscale
 * and d are the same scalar divisions, each level is round(iscale * x)
 * with one multiply and cvtps (ties to even in the default rounding mode,
 * the scalar code's 1.5 * 2^23 trick), and the bsums are integer sums. */
#include "kernels/kernels.h"

#include "kernels/kquant.h"
#include "quant/quant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#include "core/cpu.h"
#include "kernels/x86_reduce.h"
#include "quant/blocks.h"

#define AVX2 __attribute__((target("avx2,fma")))

enum { VECS = UMI_QK_K / 8 };

/* One super-block. first_sign: the sign of the first element of largest
 * magnitude picks iscale's (umi_quant_from_float_q8_K); otherwise iscale is
 * negative whenever +amax occurs (the _x4 gemm quantizer). Returns false
 * (nothing written) for a block with a NaN or an infinity: the caller then
 * takes the scalar path. */
AVX2 static bool block(const float *x, umi_block_q8_K *y, bool first_sign) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
    for (int i = 0; i < VECS; i++) {
        const __m256 v = _mm256_loadu_ps(x + 8 * i);
        mx = _mm256_max_ps(_mm256_and_ps(v, abs_mask), mx);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    const float amax = umi_hmax8_ps(mx);
    /* NaN and infinite inputs: the scalar code's rounding trick and cvtps
     * disagree on the NaN levels they make */
    if (_mm256_movemask_ps(nan) || amax > 3.4e38f) return false;
    if (amax == 0.0f) {
        memset(y, 0, sizeof *y);
        return true;
    }
    const __m256 va = _mm256_set1_ps(amax);
    float max = 0.0f;
    bool found = false, positive = false;
    for (int i = 0; i < VECS && !(found && (first_sign || positive)); i++) {
        const __m256 v = _mm256_loadu_ps(x + 8 * i);
        const int at = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(v, abs_mask), va, _CMP_EQ_OQ));
        if (at && !found) found = true, max = x[8 * i + __builtin_ctz((unsigned)at)];
        positive |= _mm256_movemask_ps(_mm256_cmp_ps(v, va, _CMP_EQ_OQ)) != 0;
    }
    const float iscale = first_sign ? -127.0f / max : positive ? -127.0f / amax : 127.0f / amax;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i top = _mm256_set1_epi32(127);
    __m256i q[VECS];
    for (int i = 0; i < VECS; i++)
        q[i] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), vs)), top);
    /* packs interleave 128-bit halves; the permute puts the bytes back in order */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int i = 0; i < VECS; i += 4) {
        const __m256i p16 = _mm256_packs_epi16(_mm256_packs_epi32(q[i], q[i + 1]), _mm256_packs_epi32(q[i + 2], q[i + 3]));
        _mm256_storeu_si256((__m256i *)(y->qs + 8 * i), _mm256_permutevar8x32_epi32(p16, order));
    }
    /* bsums: group g is vectors 2g and 2g + 1 */
    __m128i s[4];
    for (int c = 0; c < 4; c++) {
        __m256i t[4];
        for (int g = 0; g < 4; g++) t[g] = _mm256_add_epi32(q[2 * (4 * c + g)], q[2 * (4 * c + g) + 1]);
        s[c] = umi_hsum4x8_epi32(t[0], t[1], t[2], t[3]);
    }
    _mm_storeu_si128((__m128i *)y->bsums, _mm_packs_epi32(s[0], s[1]));
    _mm_storeu_si128((__m128i *)(y->bsums + 8), _mm_packs_epi32(s[2], s[3]));
    y->d = 1.0f / iscale;
    return true;
}

AVX2 static void act_q8_K_avx2(const float *x, void *vy, int64_t k) {
    umi_block_q8_K *y = vy;
    for (int64_t b = 0; b < k / UMI_QK_K; b++)
        if (!block(x + b * UMI_QK_K, &y[b], true)) umi_quant_from_float_q8_K(x + b * UMI_QK_K, &y[b], UMI_QK_K);
}

AVX2 static void act_q8_K_x4_avx2(const float *x, void *vy, int64_t k) {
    umi_block_q8_K *y = vy;
    for (int64_t b = 0; b < k / UMI_QK_K; b++)
        if (!block(x + b * UMI_QK_K, &y[b], false))
            umi_quant_from_float_q8_K_x4(x + b * UMI_QK_K, &y[b], UMI_QK_K);
}

umi_act_fn umi_kernels_simd_act_kquant(umi_act_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_AVX2 && cpu_level != UMI_CPU_AVX512) return NULL;
    if (scalar == umi_quant_from_float_q8_K) return act_q8_K_avx2;
    if (scalar == umi_quant_from_float_q8_K_x4) return act_q8_K_x4_avx2;
    return NULL;
}

#else

umi_act_fn umi_kernels_simd_act_kquant(umi_act_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

#endif
