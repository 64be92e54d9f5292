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
 * row) so that its per-64-element partial sums need no horizontal adds. */
#include "kernels/kernels.h"

#include "core/cpu.h"
#include "kernels/kquant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "quant/blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

enum { GROUPS = UMI_QK_K / 32 }; /* 32-element groups per super-block */

AVX2 static inline float half(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/* fmaf without a library call. */
AVX2 static inline float fma1(float a, float b, float c) {
    return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
}

/* (0+2) + (1+3): the last steps of the scalar reduce8. */
AVX2 static inline float hsum4(__m128 h4) {
    const __m128 t = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

/* reduce8: (l + l+4) first. */
AVX2 static inline float hsum8(__m256 v) {
    return hsum4(_mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v)));
}

/* Integer sums of 8 lanes (exact, so any order). */
AVX2 static inline int32_t hsum8_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* The 4 sums of 4 vectors, lane i = hsum(v_i). */
AVX2 static inline __m128i hsum4x8_epi32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* ---------------------------------------------------------------- scales */

/* 16-bit scale vector for group g: lanes 0-7 (elements 32g .. +15) take
 * sc16[2g], lanes 8-15 sc16[2g+1]. s_lo / s_hi hold sc16[0..7] / [8..15] in
 * both 128-bit halves. */
AVX2 static inline __m256i scale_vec(__m256i s_lo, __m256i s_hi, int g) {
    const int p = g & 3;
    const __m256i ctrl = _mm256_set_m128i(_mm_set1_epi16((short)((4 * p + 3) << 8 | (4 * p + 2))),
                                          _mm_set1_epi16((short)((4 * p + 1) << 8 | (4 * p))));
    return _mm256_shuffle_epi8(g < 4 ? s_lo : s_hi, ctrl);
}

/* Q4_K/Q5_K: 8 six-bit scales and 8 mins from the 12 packed bytes, as bytes.
 * Scales/mins 0-3 are the low 6 bits of bytes 0-3 / 4-7; 4-7 take their low
 * nibble from bytes 8-11 (low/high nibble) and their top 2 bits from the top
 * of bytes 0-3 / 4-7 (quant/blocks.h). */
static inline void scales_k4(const uint8_t *packed, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t w0, w1, w2;
    memcpy(&w0, packed, 4), memcpy(&w1, packed + 4, 4), memcpy(&w2, packed + 8, 4);
    const uint32_t sc_lo = w0 & 0x3f3f3f3fu, mn_lo = w1 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 6) & 0x03030303u) << 4;
    const uint32_t mn_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 6) & 0x03030303u) << 4;
    memcpy(sc, &sc_lo, 4), memcpy(sc + 4, &sc_hi, 4);
    memcpy(mn, &mn_lo, 4), memcpy(mn + 4, &mn_hi, 4);
}

/* 8 per-32 byte values -> 16 int16 lanes, each repeated (per 16-group). */
AVX2 static inline __m256i dup16_epu8(const uint8_t v8[8]) {
    const __m128i b = _mm_loadl_epi64((const __m128i *)v8);
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(b, b));
}

/* Q3_K: 16 signed 6-bit scales (stored minus 32) from 12 packed bytes: low
 * nibbles from bytes 0-7 (low nibble for 0-7, high for 8-15), top bits from
 * bytes 8-11, bit pair j/4 of byte 8 + j%4. */
AVX2 static inline __m256i scales_q3_K(const uint8_t *packed) {
    uint32_t a0, a1, a2, s[4];
    memcpy(&a0, packed, 4), memcpy(&a1, packed + 4, 4), memcpy(&a2, packed + 8, 4);
    s[0] = (a0 & 0x0f0f0f0fu) | (a2 & 0x03030303u) << 4;
    s[1] = (a1 & 0x0f0f0f0fu) | ((a2 >> 2) & 0x03030303u) << 4;
    s[2] = ((a0 >> 4) & 0x0f0f0f0fu) | ((a2 >> 4) & 0x03030303u) << 4;
    s[3] = ((a1 >> 4) & 0x0f0f0f0fu) | ((a2 >> 6) & 0x03030303u) << 4;
    const __m128i b = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)s), _mm_set1_epi8(32));
    return _mm256_cvtepi8_epi16(b);
}

/* ---------------------------------------------------------------- decoders (AVX2) */

/* Each writes the super-block's 256 weights as 8 vectors in element order. */

/* 2-bit fields of a 64-byte array (kq_bits2): group 4h+j is bit pair j of
 * bytes 32h .. 32h+31. */
AVX2 static inline void decode_bits2(const uint8_t *qs, __m256i w[GROUPS]) {
    const __m256i m3 = _mm256_set1_epi8(3);
    #pragma GCC unroll 8
    for (int h = 0; h < 2; h++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        w[4 * h + 0] = _mm256_and_si256(v, m3);
        w[4 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 2), m3);
        w[4 * h + 2] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m3);
        w[4 * h + 3] = _mm256_and_si256(_mm256_srli_epi16(v, 6), m3);
    }
}

/* Signed -4 .. 3: low 2 bits, minus 4 where bit g of hmask[e % 32] is clear. */
AVX2 static inline void decode_q3_K(const umi_block_q3_K *x, __m256i w[GROUPS]) {
    decode_bits2(x->qs, w);
    const __m256i hm = _mm256_loadu_si256((const __m256i *)x->hmask);
    const __m256i four = _mm256_set1_epi8(4);
    #pragma GCC unroll 8
    for (int g = 0; g < GROUPS; g++) {
        const __m256i bit = _mm256_set1_epi8((char)(1 << g));
        const __m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), _mm256_setzero_si256());
        w[g] = _mm256_sub_epi8(w[g], _mm256_and_si256(clear, four));
    }
}

AVX2 static inline void decode_nibbles(const uint8_t *qs, __m256i w[GROUPS]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    #pragma GCC unroll 8
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        w[2 * c] = _mm256_and_si256(v, m4);
        w[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
}

/* Q5_K: the nibble plus 16 where bit g of qh[e % 32] is set. */
AVX2 static inline void decode_q5_K(const umi_block_q5_K *x, __m256i w[GROUPS]) {
    decode_nibbles(x->qs, w);
    const __m256i qh = _mm256_loadu_si256((const __m256i *)x->qh);
    const __m256i sixteen = _mm256_set1_epi8(16);
    #pragma GCC unroll 8
    for (int g = 0; g < GROUPS; g++) {
        const __m256i bit = _mm256_set1_epi8((char)(1 << g));
        const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
        w[g] = _mm256_or_si256(w[g], _mm256_and_si256(set, sixteen));
    }
}

/* Q6_K codes 0..63 (see kq_unpack_q6_K): group 4h+j takes the low (j < 2) or
 * high nibble of ql[64h + 32(j%2) ..] and bit pair j of qh[32h ..]. */
AVX2 static inline void decode_q6_K(const umi_block_q6_K *x, __m256i w[GROUPS]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
    #pragma GCC unroll 8
    for (int h = 0; h < 2; h++) {
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
        const __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
        w[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                       _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30));
        w[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                       _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30));
        w[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                       _mm256_and_si256(qh, m30));
        w[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                       _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30));
    }
}

/* IQ4_XS: sub-block s keeps elements j and j + 16 in byte j's nibbles; the
 * codes index the fixed table (signed values). */
AVX2 static inline void decode_iq4_xs(const umi_block_iq4_xs *x, __m256i w[GROUPS]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)umi_iq4nl_values));
    #pragma GCC unroll 8
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(x->qs + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        w[2 * c] = _mm256_shuffle_epi8(table, _mm256_permute2x128_si256(lo, hi, 0x20));
        w[2 * c + 1] = _mm256_shuffle_epi8(table, _mm256_permute2x128_si256(lo, hi, 0x31));
    }
}

AVX2 static inline __m256i scales_iq4_xs(const umi_block_iq4_xs *x) {
    int16_t sc[16];
    #pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        const int low = (x->scales_l[j / 2] >> (4 * (j % 2))) & 0x0f;
        const int high = (x->scales_h >> (2 * j)) & 3;
        sc[2 * j] = sc[2 * j + 1] = (int16_t)((low | high << 4) - 32);
    }
    return _mm256_loadu_si256((const __m256i *)sc);
}

/* ---------------------------------------------------------------- lane sums (AVX2) */

/* Group g's 8 lanes: sc * (w . q8) over 4 elements each; w unsigned. */
AVX2 static inline __m256i group_u(__m256i w, __m256i q, __m256i scv) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(w, q), scv);
}

/* The same for signed w: |w| times q with w's sign gives the same products. */
AVX2 static inline __m256i group_s(__m256i w, __m256i q, __m256i scv) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(q, w)), scv);
}

/* The 8 lanes of a super-block (lane_sums of kquant_lanes.c). */
AVX2 static inline __m256i lanes_256(const __m256i w[GROUPS], const int8_t *q8, __m256i sc16, bool is_signed) {
    const __m256i s_lo = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    const __m256i s_hi = _mm256_permute2x128_si256(sc16, sc16, 0x11);
    __m256i acc = _mm256_setzero_si256();
    #pragma GCC unroll 8
    for (int g = 0; g < GROUPS; g++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(q8 + 32 * g));
        const __m256i scv = scale_vec(s_lo, s_hi, g);
        acc = _mm256_add_epi32(acc, is_signed ? group_s(w[g], q, scv) : group_u(w[g], q, scv));
    }
    return acc;
}

/* Per-group lanes (for the repacked orders, which split by group). */
AVX2 static inline void groups_256(const __m256i w[GROUPS], const int8_t *q8, __m256i sc16, __m256i out[GROUPS]) {
    const __m256i s_lo = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    const __m256i s_hi = _mm256_permute2x128_si256(sc16, sc16, 0x11);
    #pragma GCC unroll 8
    for (int g = 0; g < GROUPS; g++)
        out[g] = group_u(w[g], _mm256_loadu_si256((const __m256i *)(q8 + 32 * g)), scale_vec(s_lo, s_hi, g));
}

AVX2 static inline __m256 fma_lanes(float d, __m256i s, __m256 acc) {
    return _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc);
}

AVX2 static inline __m256i load_bsums(const umi_block_q8_K *a) {
    return _mm256_loadu_si256((const __m256i *)a->bsums);
}

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
    return hsum8(acc);
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
    return hsum8(acc);
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
    return hsum8(acc) + hsum4(acc_m);
}

AVX2 static float q5_K_lanes8_avx2(int k, const void *vw, const void *va) {
    const umi_block_q5_K *w = vw;
    const umi_block_q8_K *a = va;
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    __m256i q[GROUPS];
    for (int b = 0; b < k / UMI_QK_K; b++) {
        uint8_t sc[8], mn[8];
        scales_k4(w[b].scales, sc, mn);
        const float dmin = -a[b].d * half(w[b].dmin);
        const int32_t m = hsum8_epi32(_mm256_madd_epi16(load_bsums(&a[b]), dup16_epu8(mn)));
        summs = fma1(dmin, (float)m, summs);
        decode_q5_K(&w[b], q);
        acc = fma_lanes(a[b].d * half(w[b].d), lanes_256(q, a[b].qs, dup16_epu8(sc), false), acc);
    }
    return hsum8(acc) + summs;
}

/* Q6_K's -32 per lane: 32 * (bsums[2l] sc[2l] + bsums[2l+1] sc[2l+1]). */
AVX2 static inline __m256i q6_K_offset(__m256i sc16, const umi_block_q8_K *a) {
    return _mm256_slli_epi32(_mm256_madd_epi16(load_bsums(a), sc16), 5);
}

AVX2 static inline __m256i q6_K_scales(const umi_block_q6_K *x) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
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
    return hsum8(acc);
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
    return hsum8(acc);
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
        const __m128i is = hsum4x8_epi32(_mm256_add_epi32(g[0], g[1]), _mm256_add_epi32(g[2], g[3]),
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

/* 64-element steps: 32-bit lane L of step c covers elements 64c + 4L ..
 * 64c + 4L + 3, i.e. lane L % 8 of group 2c + L / 8, so adding the two
 * 256-bit halves gives the 8 lanes of the AVX2 code. */

/* 16-bit lane L of step c takes the scale of 16-group 4c + L / 8. */
static const int16_t STEP_SCALE_IDX[4][32] __attribute__((aligned(64))) = {
    {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
    {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
    {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
    {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13,
     14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15},
};

AVX512 static inline __m512i step_scales(__m256i sc16, int c) {
    return _mm512_permutexvar_epi16(_mm512_load_si512(STEP_SCALE_IDX[c]), _mm512_castsi256_si512(sc16));
}

AVX512 static inline __m256i fold512(__m512i v) {
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Q4_K step c: elements 64c .. 64c+63 are the two nibbles of qs[32c ..]. */
AVX512 static inline __m512i q4_K_chunk_512(const uint8_t *qs, int c) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
    return _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, 4), 1),
                            _mm512_set1_epi8(0x0f));
}

AVX512 static inline __m512i step_u(__m512i w, const int8_t *q8, int c, __m256i sc16) {
    return _mm512_madd_epi16(_mm512_maddubs_epi16(w, _mm512_loadu_si512(q8 + 64 * c)), step_scales(sc16, c));
}

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
            const __m128i is = hsum4x8_epi32(p[0], p[1], p[2], p[3]);
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
    return hsum8(acc) + hsum4(acc_m);
}

AVX512 static inline __m512i q6_K_chunk_512(const umi_block_q6_K *x, int c);

/* How far ahead (bytes) the single-token Q6_K dot prefetches its weights,
 * non-temporally (read once): a decode step streams rows back to back, and
 * the hardware prefetcher alone kept fewer lines in flight. 3-4 KiB NTA gave
 * +6-8% in a paired two-thread microbenchmark; T0 +2-4%, 1-2 KiB nothing. */
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
    return hsum8(acc);
}

/* ---------------------------------------------------------------- tiles (AVX-512) */

/* Partial tiles fall back to the single dot (bit-identical by construction). */
static void edge(umi_dot_fn dot, int k, const char *w, size_t ws, int rm, const char *x, size_t xs, int rn,
                 float *y, size_t ys) {
    for (int j = 0; j < rn; j++)
        for (int i = 0; i < rm; i++) y[j * ys + i] = dot(k, w + i * ws, x + j * xs);
}

/* Q4_K, repacked gemm order, 16 rows x up to 64 tokens. Each super-block
 * of the 16 rows is first laid out as 64 four-element groups, group q
 * holding elements 4q .. 4q+3 of row r in bytes 4r .. 4r+3; one token's
 * group q is then a single 4-byte broadcast, and every 32-bit lane of every
 * product belongs to one row, so a 64-element step's partial sums (and the
 * float steps after them) are plain per-lane operations. */
enum { K4_ROWS = 16, K4_TOKS = 128 };

typedef struct k4_layout {
    __m512i q[UMI_QK_K / 4]; /* group q: 16 rows x 4 codes 0..15 */
    __m512i sc[8];           /* sub-block s: sc[r][s] in both 16-bit halves of lane r */
    __m512i mn[4];           /* step c: (mn[r][2c], mn[r][2c+1]) in lane r */
    __m512 d, dmin;          /* per row */
} k4_layout;

AVX512 static void k4_lay_out(const char *blk0, size_t ws, k4_layout *L) {
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int)ws));
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    const char *qs = blk0 + offsetof(umi_block_q4_K, qs);
#pragma GCC unroll 8
    for (int p = 0; p < 32; p++) { /* dword p of qs: chunk p/8, low and high nibbles */
        const __m512i v = _mm512_i32gather_epi32(rows, qs + 4 * p, 1);
        L->q[16 * (p / 8) + p % 8] = _mm512_and_si512(v, m4);
        L->q[16 * (p / 8) + 8 + p % 8] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    /* Scales and mins of the 16 rows at once, by the bit layout of
     * scales_k4 applied to 32-bit lanes (lane r = row r). */
    const __m512i hdr = _mm512_i32gather_epi32(rows, blk0, 1); /* d | dmin << 16 */
    const __m512i w0 = _mm512_i32gather_epi32(rows, blk0 + 4, 1);
    const __m512i w1 = _mm512_i32gather_epi32(rows, blk0 + 8, 1);
    const __m512i w2 = _mm512_i32gather_epi32(rows, blk0 + 12, 1);
    const __m512i m63 = _mm512_set1_epi32(0x3f3f3f3f), m15 = _mm512_set1_epi32(0x0f0f0f0f);
    const __m512i m3 = _mm512_set1_epi32(0x03030303), byte = _mm512_set1_epi32(0xff);
    const __m512i sc_lo = _mm512_and_si512(w0, m63), mn_lo = _mm512_and_si512(w1, m63);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(w2, m15),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w0, 6), m3), 4));
    const __m512i mn_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), m15),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w1, 6), m3), 4));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) { /* sc[r][j] in both 16-bit halves */
        const __m512i v = _mm512_and_si512(_mm512_srli_epi32(j < 4 ? sc_lo : sc_hi, 8 * (j % 4)), byte);
        L->sc[j] = _mm512_or_si512(v, _mm512_slli_epi32(v, 16));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; c++) { /* (mn[r][2c], mn[r][2c+1]) */
        const __m512i v = _mm512_srli_epi32(c < 2 ? mn_lo : mn_hi, 16 * (c % 2));
        L->mn[c] = _mm512_or_si512(_mm512_and_si512(v, byte),
                                   _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v, 8), byte), 16));
    }
    L->d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hdr));
    L->dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(hdr, 16)));
}

/* One super-block of NT (1 or 2) tokens against the laid-out rows: one
 * float step per 64 elements (gemm order) or per super-block (`whole`, the
 * gemv order, whose integer sums are the same steps added exactly). */
AVX512 static inline void k4_tokens(const k4_layout *L, const umi_block_q8_K *const a[2], int nt, __m512 *acc[2],
                                    __m512 *accm[2], bool whole) {
    __m512i isum[2][4];
#pragma GCC unroll 8
    for (int s = 0; s < 8; s++) { /* sub-blocks of 32: 16 products per 16-bit lane, no overflow */
        __m512i t0 = _mm512_setzero_si512(), t1 = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int g = 0; g < 8; g++) {
            const int q = 8 * s + g;
            int32_t v0, v1;
            memcpy(&v0, a[0]->qs + 4 * q, 4);
            t0 = _mm512_add_epi16(t0, _mm512_maddubs_epi16(L->q[q], _mm512_set1_epi32(v0)));
            if (nt == 2) {
                memcpy(&v1, a[1]->qs + 4 * q, 4);
                t1 = _mm512_add_epi16(t1, _mm512_maddubs_epi16(L->q[q], _mm512_set1_epi32(v1)));
            }
        }
        const __m512i p0 = _mm512_madd_epi16(t0, L->sc[s]);
        isum[0][s / 2] = s % 2 ? _mm512_add_epi32(isum[0][s / 2], p0) : p0;
        if (nt == 2) {
            const __m512i p1 = _mm512_madd_epi16(t1, L->sc[s]);
            isum[1][s / 2] = s % 2 ? _mm512_add_epi32(isum[1][s / 2], p1) : p1;
        }
    }
    for (int j = 0; j < nt; j++) {
        const __m512 da = _mm512_set1_ps(a[j]->d);
        const __m512 dd = _mm512_mul_ps(L->d, da), dm = _mm512_mul_ps(L->dmin, da);
        __m512 ac = *acc[j], am = *accm[j];
        __m512i it = _mm512_setzero_si512(), mt = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const int b0 = a[j]->bsums[4 * c] + a[j]->bsums[4 * c + 1];
            const int b1 = a[j]->bsums[4 * c + 2] + a[j]->bsums[4 * c + 3];
            const __m512i bp = _mm512_set1_epi32((int)((uint32_t)(uint16_t)b0 | (uint32_t)(uint16_t)b1 << 16));
            const __m512i ms = _mm512_madd_epi16(L->mn[c], bp);
            if (whole) {
                it = _mm512_add_epi32(it, isum[j][c]);
                mt = _mm512_add_epi32(mt, ms);
            } else {
                ac = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[j][c]), dd, ac);
                am = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ms), dm, am);
            }
        }
        if (whole) {
            ac = _mm512_fmadd_ps(_mm512_cvtepi32_ps(it), dd, ac);
            am = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mt), dm, am);
        }
        *acc[j] = ac, *accm[j] = am;
    }
}

AVX512 static inline void tile_q4_K_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                        float *y, size_t ys, bool whole) {
    if (rm != K4_ROWS || (whole && rn < 2)) { /* one gemv token is faster as a dot */
        edge(whole ? q4_K_gemv_512 : q4_K_gemm_512, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    __m512 acc[K4_TOKS], accm[K4_TOKS];
    k4_layout L;
    for (int j = 0; j < rn; j++) acc[j] = accm[j] = _mm512_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        k4_lay_out((const char *)w + b * sizeof(umi_block_q4_K), ws, &L);
        int j = 0;
        for (; j + 2 <= rn; j += 2) {
            const umi_block_q8_K *a[2] = {(const umi_block_q8_K *)(const void *)((const char *)x + j * xs) + b,
                                          (const umi_block_q8_K *)(const void *)((const char *)x + (j + 1) * xs) + b};
            __m512 *pa[2] = {&acc[j], &acc[j + 1]}, *pm[2] = {&accm[j], &accm[j + 1]};
            k4_tokens(&L, a, 2, pa, pm, whole);
        }
        if (j < rn) {
            const umi_block_q8_K *a[2] = {(const umi_block_q8_K *)(const void *)((const char *)x + j * xs) + b, NULL};
            __m512 *pa[2] = {&acc[j], NULL}, *pm[2] = {&accm[j], NULL};
            k4_tokens(&L, a, 1, pa, pm, whole);
        }
    }
    for (int j = 0; j < rn; j++) _mm512_storeu_ps(y + j * ys, _mm512_sub_ps(acc[j], accm[j]));
}

AVX512 static void tile_q4_K_gemm_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    tile_q4_K_512(k, w, ws, rm, x, xs, rn, y, ys, false);
}

/* The gemv order serves every token of an expert's group (moe.c). */
AVX512 static void tile_q4_K_gemv_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    tile_q4_K_512(k, w, ws, rm, x, xs, rn, y, ys, true);
}

/* Q6_K, lanes8 order, 4 rows x 4 tokens in registers: each 64-element step
 * decodes the 4 rows once and reads each token's activations once. */
enum { Q6_ROWS = 4, Q6_TOKS = 4 };

AVX512 static inline __m512i q6_K_chunk_512(const umi_block_q6_K *x, int c) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const int h = c / 2;
    const __m512i l = _mm512_loadu_si512(x->ql + 64 * h);
    const __m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
    __m512i lo, hi;
    if (c % 2 == 0) {
        lo = _mm512_and_si512(l, m4);
        hi = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_slli_epi16(qh, 4)), _mm256_slli_epi16(qh, 2), 1);
    } else {
        lo = _mm512_and_si512(_mm512_srli_epi16(l, 4), m4);
        hi = _mm512_inserti64x4(_mm512_castsi256_si512(qh), _mm256_srli_epi16(qh, 2), 1);
    }
    return _mm512_or_si512(lo, _mm512_and_si512(hi, m30));
}

AVX512 static void tile_q6_K_lanes8_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                        float *y, size_t ys) {
    if (rm != Q6_ROWS || rn != Q6_TOKS) {
        edge(q6_K_lanes8_512, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    __m256 accf[Q6_ROWS][Q6_TOKS];
    for (int i = 0; i < Q6_ROWS; i++)
        for (int j = 0; j < Q6_TOKS; j++) accf[i][j] = _mm256_setzero_ps();
    __m512i idx[4];
    for (int c = 0; c < 4; c++) {
        int16_t v[32];
        for (int l = 0; l < 32; l++) v[l] = (int16_t)(4 * c + l / 8);
        idx[c] = _mm512_loadu_si512(v);
    }
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const umi_block_q6_K *wb[Q6_ROWS];
        const umi_block_q8_K *ab[Q6_TOKS];
        __m512i sc[Q6_ROWS], acc[Q6_ROWS][Q6_TOKS];
        for (int i = 0; i < Q6_ROWS; i++) {
            wb[i] = (const umi_block_q6_K *)(const void *)(wc + i * ws) + b;
            sc[i] = _mm512_castsi256_si512(q6_K_scales(wb[i]));
        }
        for (int j = 0; j < Q6_TOKS; j++) ab[j] = (const umi_block_q8_K *)(const void *)(xc + j * xs) + b;
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m512i wq[Q6_ROWS], scv[Q6_ROWS];
#pragma GCC unroll 4
            for (int i = 0; i < Q6_ROWS; i++) {
                wq[i] = q6_K_chunk_512(wb[i], c);
                scv[i] = _mm512_permutexvar_epi16(idx[c], sc[i]);
            }
#pragma GCC unroll 4
            for (int j = 0; j < Q6_TOKS; j++) {
                const __m512i q = _mm512_loadu_si512(ab[j]->qs + 64 * c);
#pragma GCC unroll 4
                for (int i = 0; i < Q6_ROWS; i++) {
                    const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(wq[i], q), scv[i]);
                    acc[i][j] = c ? _mm512_add_epi32(acc[i][j], p) : p;
                }
            }
        }
        for (int i = 0; i < Q6_ROWS; i++) {
            const __m256i sc16 = _mm512_castsi512_si256(sc[i]);
            const float dw = half(wb[i]->d);
            for (int j = 0; j < Q6_TOKS; j++) {
                const __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(acc[i][j]),
                                                    _mm512_extracti64x4_epi64(acc[i][j], 1));
                const __m256i s = _mm256_sub_epi32(s8, q6_K_offset(sc16, ab[j]));
                accf[i][j] = fma_lanes(ab[j]->d * dw, s, accf[i][j]);
            }
        }
    }
    for (int j = 0; j < Q6_TOKS; j++)
        for (int i = 0; i < Q6_ROWS; i++) y[j * ys + i] = hsum8(accf[i][j]);
}

/* Q5_K, lanes8 order, 4 rows x 4 tokens, as the Q6_K tile: each 64-element
 * step decodes the 4 rows once; every (row, token) keeps the dot's own
 * integer lanes, fused multiply-adds and separate mins sum. */
enum { Q5_ROWS = 4, Q5_TOKS = 4 };

/* Q5_K step c: the Q4_K nibbles plus 16 where bit 2c (low half: group 2c)
 * or bit 2c + 1 (high half) of qh[e % 32] is set. */
AVX512 static inline __m512i q5_K_chunk_512(const umi_block_q5_K *x, int c) {
    const __m256i qh = _mm256_loadu_si256((const __m256i *)x->qh), sixteen = _mm256_set1_epi8(16);
    const __m256i lo = _mm256_maskz_mov_epi8(_mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << 2 * c))), sixteen);
    const __m256i hi =
        _mm256_maskz_mov_epi8(_mm256_test_epi8_mask(qh, _mm256_set1_epi8((char)(1 << (2 * c + 1)))), sixteen);
    return _mm512_or_si512(q4_K_chunk_512(x->qs, c), _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
}

AVX512 static void tile_q5_K_lanes8_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                        float *y, size_t ys) {
    if (rm != Q5_ROWS || rn != Q5_TOKS) {
        edge(q5_K_lanes8_avx2, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    __m256 accf[Q5_ROWS][Q5_TOKS];
    float summs[Q5_ROWS][Q5_TOKS] = {{0}};
    for (int i = 0; i < Q5_ROWS; i++)
        for (int j = 0; j < Q5_TOKS; j++) accf[i][j] = _mm256_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const umi_block_q5_K *wb[Q5_ROWS];
        const umi_block_q8_K *ab[Q5_TOKS];
        __m256i sc16[Q5_ROWS];
        __m512i acc[Q5_ROWS][Q5_TOKS];
        for (int j = 0; j < Q5_TOKS; j++) ab[j] = (const umi_block_q8_K *)(const void *)(xc + j * xs) + b;
        for (int i = 0; i < Q5_ROWS; i++) {
            wb[i] = (const umi_block_q5_K *)(const void *)(wc + i * ws) + b;
            uint8_t sc[8], mn[8];
            scales_k4(wb[i]->scales, sc, mn);
            sc16[i] = dup16_epu8(sc);
            const __m256i mn16 = dup16_epu8(mn);
            for (int j = 0; j < Q5_TOKS; j++) {
                const int32_t m = hsum8_epi32(_mm256_madd_epi16(load_bsums(ab[j]), mn16));
                summs[i][j] = fma1(-ab[j]->d * half(wb[i]->dmin), (float)m, summs[i][j]);
            }
        }
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m512i wq[Q5_ROWS], scv[Q5_ROWS];
#pragma GCC unroll 4
            for (int i = 0; i < Q5_ROWS; i++) {
                wq[i] = q5_K_chunk_512(wb[i], c);
                scv[i] = step_scales(sc16[i], c);
            }
#pragma GCC unroll 4
            for (int j = 0; j < Q5_TOKS; j++) {
                const __m512i q = _mm512_loadu_si512(ab[j]->qs + 64 * c);
#pragma GCC unroll 4
                for (int i = 0; i < Q5_ROWS; i++) {
                    const __m512i p = _mm512_madd_epi16(_mm512_maddubs_epi16(wq[i], q), scv[i]);
                    acc[i][j] = c ? _mm512_add_epi32(acc[i][j], p) : p;
                }
            }
        }
        for (int i = 0; i < Q5_ROWS; i++)
            for (int j = 0; j < Q5_TOKS; j++)
                accf[i][j] = fma_lanes(ab[j]->d * half(wb[i]->d), fold512(acc[i][j]), accf[i][j]);
    }
    for (int j = 0; j < Q5_TOKS; j++)
        for (int i = 0; i < Q5_ROWS; i++) y[j * ys + i] = hsum8(accf[i][j]) + summs[i][j];
}

/* ---------------------------------------------------------------- lookups */

static const struct {
    umi_dot_fn scalar, avx2, avx512;
} TWINS[] = {
    {umi_dot_q2_K_lanes8, q2_K_lanes8_avx2, q2_K_lanes8_avx2},
    {umi_dot_q3_K_lanes8, q3_K_lanes8_avx2, q3_K_lanes8_avx2},
    {umi_dot_q4_K_lanes8, q4_K_lanes8_avx2, q4_K_lanes8_512},
    {umi_dot_q5_K_lanes8, q5_K_lanes8_avx2, q5_K_lanes8_avx2},
    {umi_dot_q6_K_lanes8, q6_K_lanes8_avx2, q6_K_lanes8_512},
    {umi_dot_iq4_xs_lanes8, iq4_xs_lanes8_avx2, iq4_xs_lanes8_avx2},
    {umi_dot_q2_K_gemv, q2_K_gemv_avx2, q2_K_gemv_avx2},
    {umi_dot_q2_K_gemm, q2_K_gemm_avx2, q2_K_gemm_avx2},
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

umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_AVX512) return NULL;
    if (dot == umi_dot_q4_K_gemm || dot == umi_dot_q4_K_gemv) {
        *tile_m = K4_ROWS, *tile_n = K4_TOKS;
        return dot == umi_dot_q4_K_gemm ? tile_q4_K_gemm_512 : tile_q4_K_gemv_512;
    }
    if (dot == umi_dot_q6_K_lanes8) {
        *tile_m = Q6_ROWS, *tile_n = Q6_TOKS;
        return tile_q6_K_lanes8_512;
    }
    if (dot == umi_dot_q5_K_lanes8) {
        *tile_m = Q5_ROWS, *tile_n = Q5_TOKS;
        return tile_q5_K_lanes8_512;
    }
    return NULL;
}

#else

#if !(defined(__aarch64__) && defined(__ARM_NEON)) /* neon_quant.c has the ARM twins */
umi_dot_fn umi_kernels_simd_twin_kquant(umi_dot_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}
#endif

umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
