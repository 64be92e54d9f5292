/* Horizontal reductions the x86 kernels share: the float sums in the order
 * of the scalar reductions (kernels.h's umi_reduce16, legacy.c's reduce8),
 * and what the "blocks"-order kernels of the legacy types share
 * (x86_legacy.c on the file's layout, x86_x16.c on X16 groups): an integer
 * reduction and the per-block, per-token step. Static inline: each file
 * gets its own copy. Include only on x86-64. */
#ifndef UMI_KERNELS_X86_REDUCE_H
#define UMI_KERNELS_X86_REDUCE_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* (0+2) + (1+3) of 4 lanes: the last steps of every float horizontal sum. */
__attribute__((target("avx2"))) static inline float umi_hsum4_ps(__m128 h4) {
    const __m128 t = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

/* reduce8: (v[l+4] + v[l]) first. */
__attribute__((target("avx2"))) static inline float umi_hsum8_ps(__m256 v) {
    return umi_hsum4_ps(_mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v)));
}

/* umi_reduce16 of 16 lanes held as 8-lane halves (lo, hi), for AVX2:
 * v[l+8] + v[l] first. */
__attribute__((target("avx2"))) static inline float umi_hsum16_halves_ps(__m256 lo, __m256 hi) {
    return umi_hsum8_ps(_mm256_add_ps(hi, lo));
}

/* umi_reduce16: (v[l+8] + v[l]) first. */
__attribute__((target("avx512f,avx2"))) static inline float umi_hsum16_ps(__m512 v) {
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return umi_hsum8_ps(_mm256_add_ps(hi, _mm512_castps512_ps256(v)));
}

/* The largest of 8 lanes (a maximum: any order gives the same value). */
__attribute__((target("avx2"))) static inline float umi_hmax8_ps(__m256 v) {
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    return _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
}

/* The 4 integer sums of 4 vectors' 8 lanes: lane i of the result is the
 * sum of v_i (exact, so any order). */
__attribute__((target("avx2"))) static inline __m128i umi_hsum4x8_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* Lane c of the result is the sum of v[c]'s 8 lanes (exact integers, so
 * the order of the adds does not matter). */
__attribute__((target("avx2"))) static inline __m256i umi_reduce8x8_epi32(const __m256i v[8]) {
    const __m256i s01 = _mm256_hadd_epi32(v[0], v[1]), s23 = _mm256_hadd_epi32(v[2], v[3]);
    const __m256i s45 = _mm256_hadd_epi32(v[4], v[5]), s67 = _mm256_hadd_epi32(v[6], v[7]);
    const __m256i t0 = _mm256_hadd_epi32(s01, s23), t1 = _mm256_hadd_epi32(s45, s67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(t0, t1, 0x20), _mm256_permute2x128_si256(t0, t1, 0x31));
}

typedef int32_t __attribute__((may_alias, aligned(1))) umi_i32_unaligned;

/* One block of 16 rows against one token: u[g] holds the rows' level bytes
 * 4g..4g+3 (g < 4, low nibbles) and 16 + 4(g-4).. (g >= 4), one row per
 * 32-bit lane, as unsigned values offset by c; q: the token's 32 quants;
 * start: -c * (their sum). Each lane's exact block sum, then acc = fma(sum,
 * dw * dx, acc): the blocks order of legacy.c, lane by lane. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c"))) static inline
    __attribute__((always_inline)) __m512 umi_block_step_vnni(const __m512i u[8], const void *q, int32_t start,
                                                               __m512 dw, float dx, __m512 acc) {
    const umi_i32_unaligned *a4 = (const umi_i32_unaligned *)q; /* broadcast from memory */
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_set1_epi32(start), u[0], _mm512_set1_epi32(a4[0]));
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[4], _mm512_set1_epi32(a4[4]));
#pragma GCC unroll 4
    for (int g = 1; g < 4; g++) {
        s0 = _mm512_dpbusd_epi32(s0, u[g], _mm512_set1_epi32(a4[g]));
        s1 = _mm512_dpbusd_epi32(s1, u[g + 4], _mm512_set1_epi32(a4[g + 4]));
    }
    const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(dx));
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), d, acc);
}

/* hsum16 of all 16 accumulators of a 4 x 4 tile at once: the same adds of
 * the same operands (v[l+8] + v[l], then h[l+4] + h[l], then (0+2) +
 * (1+3)), each instruction doing 4 outputs' worth; the result holds token
 * j's 4 rows in its 128-bit block j. y[j * ys + i] =
 * umi_hsum16_ps(acc[i][j]) (the F32/F16 and BF16 tiles). */
__attribute__((target("avx512f,avx2"))) static inline void umi_hsum16_4x4(__m512 acc[4][4], float *y, size_t ys) {
    __m512 s[8], t[4];
    _Pragma("GCC unroll 8")
    for (int p = 0; p < 8; p++) { /* accumulators 2p, 2p + 1 (n = 4i + j): each one's 8-lane half sums */
        const __m512 a = acc[p / 2][2 * (p % 2)], b = acc[p / 2][2 * (p % 2) + 1];
        s[p] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0xEE), _mm512_shuffle_f32x4(a, b, 0x44));
    }
    _Pragma("GCC unroll 4")
    for (int q = 0; q < 4; q++) /* 4-lane sums of accumulators 4q .. 4q + 3, one per block */
        t[q] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * q], s[2 * q + 1], 0xDD),
                             _mm512_shuffle_f32x4(s[2 * q], s[2 * q + 1], 0x88));
    const __m512 u0 = _mm512_add_ps(_mm512_shuffle_ps(t[0], t[1], 0x44), _mm512_shuffle_ps(t[0], t[1], 0xEE));
    const __m512 u1 = _mm512_add_ps(_mm512_shuffle_ps(t[2], t[3], 0x44), _mm512_shuffle_ps(t[2], t[3], 0xEE));
    const __m512 r = _mm512_add_ps(_mm512_shuffle_ps(u0, u1, 0x88), _mm512_shuffle_ps(u0, u1, 0xDD));
    _mm_storeu_ps(y, _mm512_castps512_ps128(r));
    _mm_storeu_ps(y + ys, _mm512_extractf32x4_ps(r, 1));
    _mm_storeu_ps(y + 2 * ys, _mm512_extractf32x4_ps(r, 2));
    _mm_storeu_ps(y + 3 * ys, _mm512_extractf32x4_ps(r, 3));
}

#endif
