/* x86 SIMD twins and tiles of the K-quant ordered dots (kquant.h): each
 * gives exactly the bits of its scalar twin in kquant_lanes.c /
 * kquant_repack.c (tests/unit/test_kernels_x86_kquant.c).
 *
 * Why the bits can match: every dot sums integer products into partial sums
 * (exact in any order and any vector width), converts each partial sum to
 * float once, and combines the floats in a fixed order. The SIMD code only
 * has to produce the same integer partial sums and then repeat the float
 * steps one for one: the same products (d_activation * d_weight, rounded
 * once), the same fused multiply-adds, the same reduction tree.
 *
 * Integer lanes: a super-block's weights are decoded into 32-byte vectors in
 * element order (group g = elements 32g .. 32g+31). The unsigned-by-signed
 * byte multiply-add sums adjacent pairs into 16-bit lanes (never saturating:
 * |w| <= 63 for the unsigned types, |w| <= 127 with |q8| <= 127 for the
 * signed ones), and the 16-bit multiply-add by the scales sums pairs of
 * pairs, so 32-bit lane l of group g holds sc * (w . q8) over elements
 * 32g + 4l .. 32g + 4l + 3: exactly the scalar "lanes8" lane l.
 *
 * The tiles multiply several weight rows by several tokens at once; the
 * repacked-order Q4_K tile lays 16 rows side by side (one 32-bit lane per
 * row) so that its per-64-element partial sums need no horizontal adds. The
 * tiles are in x86_kquant_tile.c, the helpers both use in x86_kquant_simd.h. */
#include "kernels/kernels.h"

#include "core/cpu.h"
#include "kernels/kquant.h"

#if defined(__x86_64__)
#include "kernels/x86_kquant_simd.h"

/* ---------------------------------------------------------------- lanes8 twins (AVX2) */

AVX2 static float q2_K_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const float d = a[b].d * half(w[b].d), dmin = -a[b].d * half(w[b].dmin);
        const __m128i sb = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sb, _mm_set1_epi8(0x0f)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), _mm_set1_epi8(0x0f)));
        acc = fma_lanes(dmin, _mm256_madd_epi16(mn16, load_bsums(&a[b])), acc);
        decode_bits2(w[b].qs, q);
        acc = fma_lanes(d, lanes_256(q, a[b].qs, sc16, false), acc);
    }
    return umi_hsum8_ps(acc);
}

AVX2 static float q3_K_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_q3_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        decode_q3_K(&w[b], q);
        const __m256i s = lanes_256(q, a[b].qs, scales_q3_K(w[b].scales), true);
        acc = fma_lanes(a[b].d * half(w[b].d), s, acc);
    }
    return umi_hsum8_ps(acc);
}

/* Q4_K/Q5_K mins: lane l = mn[2l] * bsum32(2l) + mn[2l+1] * bsum32(2l+1). */
AVX2 static inline __m128i mins4_k4(const uint8_t mn[8], const umi_block_q8_K *a) {
    const __m256i p = _mm256_madd_epi16(load_bsums(a), dup16_epu8(mn));
    return _mm_hadd_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
}

AVX2 static float q4_K_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8], mn[8];
        scales_k4(w[b].scales, sc, mn);
        const float dmin = -a[b].d * half(w[b].dmin);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(mins4_k4(mn, &a[b])), acc_m);
        decode_nibbles(w[b].qs, q);
        acc = fma_lanes(a[b].d * half(w[b].d), lanes_256(q, a[b].qs, dup16_epu8(sc), false), acc);
    }
    return umi_hsum8_ps(acc) + umi_hsum4_ps(acc_m);
}

/* A Q5_K block's scales into sc, and its mins' term added to the running
 * sum the way the reference does: one float, block by block. */
AVX2 static inline float q5_K_mins(const umi_block_q5_K *w, const umi_block_q8_K *a, uint8_t sc[8], float summs) {
    uint8_t mn[8];
    scales_k4(w->scales, sc, mn);
    const int32_t m = hsum8_epi32(_mm256_madd_epi16(load_bsums(a), dup16_epu8(mn)));
    return fma1(-a->d * half(w->dmin), (float)m, summs);
}

AVX2 static float q5_K_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_q5_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8];
        summs = q5_K_mins(&w[b], &a[b], sc, summs);
        decode_q5_K(&w[b], q);
        acc = fma_lanes(a[b].d * half(w[b].d), lanes_256(q, a[b].qs, dup16_epu8(sc), false), acc);
    }
    return umi_hsum8_ps(acc) + summs;
}

AVX2 static float q6_K_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_q6_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const __m256i sc16 = q6_K_scales(&w[b]);
        decode_q6_K(&w[b], q);
        const __m256i s = _mm256_sub_epi32(lanes_256(q, a[b].qs, sc16, false), q6_K_offset(sc16, &a[b]));
        acc = fma_lanes(a[b].d * half(w[b].d), s, acc);
    }
    return umi_hsum8_ps(acc);
}

AVX2 static float iq4_xs_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_iq4_xs *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        decode_iq4_xs(&w[b], q);
        const __m256i s = lanes_256(q, a[b].qs, scales_iq4_xs(&w[b]), true);
        acc = fma_lanes(half(w[b].d) * a[b].d, s, acc);
    }
    return umi_hsum8_ps(acc);
}

/* ---------------------------------------------------------------- repacked orders (AVX2) */

/* acc[0] += isum * (d_w d_a), acc[1] += msum * (dmin_w d_a), one step. */
AVX2 static inline void repack_step(int32_t isum, int32_t msum, float dd, float dm, float acc[2]) {
    acc[0] = fma1((float)isum, dd, acc[0]);
    acc[1] = fma1((float)msum, dm, acc[1]);
}

/* Q4_K: steps of 64 elements (gemm) or 256 (gemv). */
AVX2 static inline float q4_K_repack_avx2(int k, const void *vw, const void *va, bool whole) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[2] = {0.0f, 0.0f};
    __m256i q[GROUPS], g[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8], mn[8];
        scales_k4(w[b].scales, sc, mn);
        decode_nibbles(w[b].qs, q);
        groups_256(q, a[b].qs, dup16_epu8(sc), g);
        const __m128i is = umi_hsum4x8_epi32(_mm256_add_epi32(g[0], g[1]), _mm256_add_epi32(g[2], g[3]),
                                         _mm256_add_epi32(g[4], g[5]), _mm256_add_epi32(g[6], g[7]));
        const __m128i ms = mins4_k4(mn, &a[b]);
        const float dd = half(w[b].d) * a[b].d, dm = half(w[b].dmin) * a[b].d;
        int32_t iv[4], mv[4];
        _mm_storeu_si128((__m128i *)iv, is), _mm_storeu_si128((__m128i *)mv, ms);
        if (whole) repack_step(iv[0] + iv[1] + iv[2] + iv[3], mv[0] + mv[1] + mv[2] + mv[3], dd, dm, acc);
        else
            #pragma GCC unroll 8
            for (int c = 0; c < 4; c++) repack_step(iv[c], mv[c], dd, dm, acc);
    }
    return acc[0] - acc[1];
}

/* Q2_K: steps of 128 elements (gemm) or 256 (gemv). */
AVX2 static inline float q2_K_repack_avx2(int k, const void *vw, const void *va, bool whole) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    float acc[2] = {0.0f, 0.0f};
    __m256i q[GROUPS], g[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const __m128i sb = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sb, _mm_set1_epi8(0x0f)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), _mm_set1_epi8(0x0f)));
        decode_bits2(w[b].qs, q);
        groups_256(q, a[b].qs, sc16, g);
        const __m256i lo = _mm256_add_epi32(_mm256_add_epi32(g[0], g[1]), _mm256_add_epi32(g[2], g[3]));
        const __m256i hi = _mm256_add_epi32(_mm256_add_epi32(g[4], g[5]), _mm256_add_epi32(g[6], g[7]));
        /* madd lanes 0-3 cover 16-groups 0-7 (the first 128 elements). */
        const __m256i mp = _mm256_madd_epi16(mn16, load_bsums(&a[b]));
        const __m128i m0 = _mm256_castsi256_si128(mp), m1 = _mm256_extracti128_si256(mp, 1);
        const __m128i h = _mm_hadd_epi32(m0, m1); /* m0: 0+1, 2+3; m1: 0+1, 2+3 */
        const int32_t ms0 = _mm_extract_epi32(h, 0) + _mm_extract_epi32(h, 1);
        const int32_t ms1 = _mm_extract_epi32(h, 2) + _mm_extract_epi32(h, 3);
        const int32_t is0 = hsum8_epi32(lo), is1 = hsum8_epi32(hi);
        const float dd = half(w[b].d) * a[b].d, dm = half(w[b].dmin) * a[b].d;
        if (whole) repack_step(is0 + is1, ms0 + ms1, dd, dm, acc);
        else repack_step(is0, ms0, dd, dm, acc), repack_step(is1, ms1, dd, dm, acc);
    }
    return acc[0] - acc[1];
}

AVX2 static float q4_K_gemv_avx2(int k, const void *w, const void *a) { return q4_K_repack_avx2(k, w, a, true); }
AVX2 static float q4_K_gemm_avx2(int k, const void *w, const void *a) { return q4_K_repack_avx2(k, w, a, false); }
AVX2 static float q2_K_gemv_avx2(int k, const void *w, const void *a) { return q2_K_repack_avx2(k, w, a, true); }
AVX2 static float q2_K_gemm_avx2(int k, const void *w, const void *a) { return q2_K_repack_avx2(k, w, a, false); }

/* ---------------------------------------------------------------- twins (AVX-512) */

/* Both repacked accumulators as lanes 0 and 1 of one vector: lane 0 the
 * scaled quants, lane 1 the mins, each updated as fma(sum, d * d_a, acc). */
AVX512 static inline float q4_K_repack_512(int k, const void *vw, const void *va, bool whole) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    __m128 acc = _mm_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8], mn[8];
        scales_k4(w[b].scales, sc, mn);
        const __m256i sc16 = dup16_epu8(sc);
        /* (d_w, dmin_w) * d_a: the two products of the scalar code */
        const __m128 ddm = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)(w[b].d | (uint32_t)w[b].dmin << 16))),
                                      _mm_set1_ps(a[b].d));
        const __m256i mp = _mm256_madd_epi16(load_bsums(&a[b]), dup16_epu8(mn));
        if (whole) {
            __m512i t = step_u(q4_K_chunk_512(w[b].qs, 0), a[b].qs, 0, sc16);
#pragma GCC unroll 4
            for (int c = 1; c < 4; c++) t = _mm512_add_epi32(t, step_u(q4_K_chunk_512(w[b].qs, c), a[b].qs, c, sc16));
            const __m256i u = _mm256_hadd_epi32(fold512(t), mp); /* t01 t23 m01 m23 | t45 t67 m45 m67 */
            __m128i v = _mm_add_epi32(_mm256_castsi256_si128(u), _mm256_extracti128_si256(u, 1));
            v = _mm_hadd_epi32(v, v); /* total quants, total mins */
            acc = _mm_fmadd_ps(_mm_cvtepi32_ps(v), ddm, acc);
        } else {
            __m256i p[4];
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) p[c] = fold512(step_u(q4_K_chunk_512(w[b].qs, c), a[b].qs, c, sc16));
            const __m128i is = umi_hsum4x8_epi32(p[0], p[1], p[2], p[3]);
            const __m128i ms = _mm_hadd_epi32(_mm256_castsi256_si128(mp), _mm256_extracti128_si256(mp, 1));
            const __m128 lo = _mm_cvtepi32_ps(_mm_unpacklo_epi32(is, ms)); /* i0 m0 i1 m1 */
            const __m128 hi = _mm_cvtepi32_ps(_mm_unpackhi_epi32(is, ms)); /* i2 m2 i3 m3 */
            acc = _mm_fmadd_ps(lo, ddm, acc);
            acc = _mm_fmadd_ps(_mm_movehl_ps(lo, lo), ddm, acc);
            acc = _mm_fmadd_ps(hi, ddm, acc);
            acc = _mm_fmadd_ps(_mm_movehl_ps(hi, hi), ddm, acc);
        }
    }
    return _mm_cvtss_f32(_mm_sub_ss(acc, _mm_movehdup_ps(acc)));
}

/* Q2_K as q4_K_repack_512: the quants' and the mins' accumulators as
 * lanes 0 and 1, one step per 128 elements (gemm) or per super-block. */
AVX512 static inline float q2_K_repack_512(int k, const void *vw, const void *va, bool whole) {
    const umi_block_q2_K *w = vw;
    const umi_block_q8_K *a = va;
    __m128 acc = _mm_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const __m128i sb = _mm_loadu_si128((const __m128i *)w[b].scales);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sb, _mm_set1_epi8(0x0f)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sb, 4), _mm_set1_epi8(0x0f)));
        const __m128 ddm = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)(w[b].d | (uint32_t)w[b].dmin << 16))),
                                      _mm_set1_ps(a[b].d));
        /* lanes 0-3: the 16-groups of the first 128 elements, 4-7 the rest */
        const __m256i mp = _mm256_madd_epi16(mn16, load_bsums(&a[b]));
        __m256i p[2];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++)
            p[h] = fold512(_mm512_add_epi32(step_u(bits2_chunk_512(w[b].qs, 2 * h), a[b].qs, 2 * h, sc16),
                                            step_u(bits2_chunk_512(w[b].qs, 2 * h + 1), a[b].qs, 2 * h + 1, sc16)));
        const int32_t is0 = hsum8_epi32(p[0]), is1 = hsum8_epi32(p[1]);
        const __m128i m0 = _mm256_castsi256_si128(mp), m1 = _mm256_extracti128_si256(mp, 1);
        const int32_t ms0 = _mm_extract_epi32(m0, 0) + _mm_extract_epi32(m0, 1) + _mm_extract_epi32(m0, 2) + _mm_extract_epi32(m0, 3);
        const int32_t ms1 = _mm_extract_epi32(m1, 0) + _mm_extract_epi32(m1, 1) + _mm_extract_epi32(m1, 2) + _mm_extract_epi32(m1, 3);
        if (whole) {
            acc = _mm_fmadd_ps(_mm_cvtepi32_ps(_mm_setr_epi32(is0 + is1, ms0 + ms1, 0, 0)), ddm, acc);
        } else {
            acc = _mm_fmadd_ps(_mm_cvtepi32_ps(_mm_setr_epi32(is0, ms0, 0, 0)), ddm, acc);
            acc = _mm_fmadd_ps(_mm_cvtepi32_ps(_mm_setr_epi32(is1, ms1, 0, 0)), ddm, acc);
        }
    }
    return _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

AVX512 static float q2_K_gemv_512(int k, const void *w, const void *a) { return q2_K_repack_512(k, w, a, true); }
AVX512 static float q2_K_gemm_512(int k, const void *w, const void *a) { return q2_K_repack_512(k, w, a, false); }

AVX512 static float q4_K_gemv_512(int k, const void *w, const void *a) { return q4_K_repack_512(k, w, a, true); }
AVX512 static float q4_K_gemm_512(int k, const void *w, const void *a) { return q4_K_repack_512(k, w, a, false); }

AVX512 static float q4_K_lanes8_512(int k, const void *vw, const void *va) {
    const umi_block_q4_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    __m128 acc_m = _mm_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8], mn[8];
        scales_k4(w[b].scales, sc, mn);
        const float dmin = -a[b].d * half(w[b].dmin);
        acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(mins4_k4(mn, &a[b])), acc_m);
        const __m256i sc16 = dup16_epu8(sc);
        __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) s = _mm512_add_epi32(s, step_u(q4_K_chunk_512(w[b].qs, c), a[b].qs, c, sc16));
        acc = fma_lanes(a[b].d * half(w[b].d), fold512(s), acc);
    }
    return umi_hsum8_ps(acc) + umi_hsum4_ps(acc_m);
}


/* Q5_K as q4_K_lanes8_512 with the fifth bit merged per step; the mins
 * summed in one float as the AVX2 twin does. Single-token products with
 * the weights in cache (2 threads, K = 4096): ~1.2x the AVX2 twin. */
AVX512 static float q5_K_lanes8_512(int k, const void *vw, const void *va) {
    const umi_block_q5_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8];
        summs = q5_K_mins(&w[b], &a[b], sc, summs);
        const __m256i sc16 = dup16_epu8(sc);
        __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) s = _mm512_add_epi32(s, step_u(q5_K_chunk_512(&w[b], c), a[b].qs, c, sc16));
        acc = fma_lanes(a[b].d * half(w[b].d), fold512(s), acc);
    }
    return umi_hsum8_ps(acc) + summs;
}

/* Q3_K: each step's products of w + 4, less 4 x the token's byte pair
 * sums, in 16 bits (the same integers as the signed products). */
AVX512 static float q3_K_lanes8_512(int k, const void *vw, const void *va) {
    const umi_block_q3_K *w = vw;
    const umi_block_q8_K *a = va;
    const __m512i four = _mm512_set1_epi8(4);
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const __m256i sc16 = scales_q3_K(w[b].scales);
        __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m512i q = _mm512_loadu_si512(a[b].qs + 64 * c);
            const __m512i p = _mm512_sub_epi16(_mm512_maddubs_epi16(q3_K_chunk_512(&w[b], c), q), _mm512_maddubs_epi16(four, q));
            s = _mm512_add_epi32(s, _mm512_madd_epi16(p, step_scales(sc16, c)));
        }
        acc = fma_lanes(a[b].d * half(w[b].d), fold512(s), acc);
    }
    return umi_hsum8_ps(acc);
}

/* How far ahead (bytes) the single-token Q6_K dot prefetches its weights,
 * non-temporally (read once): a decode step streams rows back to back, and
 * the hardware prefetcher alone kept fewer lines in flight. 3-4 KiB NTA gave
 * +6-8% in a paired two-thread microbenchmark; T0 +2-4%, 1-2 KiB nothing.
 *
 * Measured on Zen 4 (3.65 GHz), k = 2048, weights in L2: ~25 cycles a
 * super-block (32 GB/s of weights a core), against 20-25 GB/s streaming
 * from memory on one core and 40-45 GB/s on both, so two decode threads
 * wait on memory, one nearly so. Not worth it: vpdpwssd for madd + add
 * (VNNI, 4 %), two blocks per iteration, 4 rows per call (2 %). */
enum { Q6_PF = 4096 };

AVX512 static float q6_K_lanes8_512(int k, const void *vw, const void *va) {
    const umi_block_q6_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        /* a block is 210 bytes: 4 lines from its start cover it (with the next block's) */
        const char *pf = (const char *)&w[b] + Q6_PF;
#pragma GCC unroll 4
        for (int l = 0; l < 4; l++) _mm_prefetch(pf + 64 * l, _MM_HINT_NTA);
        const __m256i sc16 = q6_K_scales(&w[b]);
        __m512i s = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) s = _mm512_add_epi32(s, step_u(q6_K_chunk_512(&w[b], c), a[b].qs, c, sc16));
        acc = fma_lanes(a[b].d * half(w[b].d), _mm256_sub_epi32(fold512(s), q6_K_offset(sc16, &a[b])), acc);
    }
    return umi_hsum8_ps(acc);
}


/* ---------------------------------------------------------------- lookups */

static const struct {
    umi_dot_fn scalar, avx2, avx512;
} TWINS[] = {
    {umi_dot_q2_K_lanes8, q2_K_lanes8_avx2, q2_K_lanes8_avx2},
    {umi_dot_q3_K_lanes8, q3_K_lanes8_avx2, q3_K_lanes8_512},
    {umi_dot_q4_K_lanes8, q4_K_lanes8_avx2, q4_K_lanes8_512},
    {umi_dot_q5_K_lanes8, q5_K_lanes8_avx2, q5_K_lanes8_512},
    {umi_dot_q6_K_lanes8, q6_K_lanes8_avx2, q6_K_lanes8_512},
    {umi_dot_iq4_xs_lanes8, iq4_xs_lanes8_avx2, iq4_xs_lanes8_avx2},
    {umi_dot_q2_K_gemv, q2_K_gemv_avx2, q2_K_gemv_512},
    {umi_dot_q2_K_gemm, q2_K_gemm_avx2, q2_K_gemm_512},
    {umi_dot_q4_K_gemv, q4_K_gemv_avx2, q4_K_gemv_512},
    {umi_dot_q4_K_gemm, q4_K_gemm_avx2, q4_K_gemm_512},
};

umi_dot_fn umi_kernels_simd_twin_kquant(umi_dot_fn scalar, int cpu_level) {
    for (size_t i = 0; i < sizeof TWINS / sizeof *TWINS; i++) {
        if (TWINS[i].scalar != scalar) continue;
        if (cpu_level == UMI_CPU_AVX512) return TWINS[i].avx512;
        if (cpu_level == UMI_CPU_AVX2) return TWINS[i].avx2;
    }
    return NULL;
}

#elif !(defined(__aarch64__) && defined(__ARM_NEON)) /* neon_quant.c has the ARM twins */

umi_dot_fn umi_kernels_simd_twin_kquant(umi_dot_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

#endif
