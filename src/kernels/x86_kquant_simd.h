/* What the x86 K-quant twins (x86_kquant.c) and tiles (x86_kquant_tile.c)
 * share: target attributes, super-block decoders, scale helpers and the
 * integer lane sums (x86_kquant.c says why the bits match the scalar
 * orders). Static inline: each file gets its own copy. Include only on
 * x86-64. */
#ifndef UMI_KERNELS_X86_KQUANT_SIMD_H
#define UMI_KERNELS_X86_KQUANT_SIMD_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/kquant.h"
#include "kernels/x86_reduce.h"
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

/* Integer sums of 8 lanes (exact, so any order). */
AVX2 static inline int32_t hsum8_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
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

/* Q6_K's -32 per lane: 32 * (bsums[2l] sc[2l] + bsums[2l+1] sc[2l+1]). */
AVX2 static inline __m256i q6_K_offset(__m256i sc16, const umi_block_q8_K *a) {
    return _mm256_slli_epi32(_mm256_madd_epi16(load_bsums(a), sc16), 5);
}

AVX2 static inline __m256i q6_K_scales(const umi_block_q6_K *x) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
}


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

/* Q6_K step c: codes 0..63 of elements 64c .. 64c+63, the low (c even) or
 * high nibbles of ql[64h ..] (h = c / 2) and, per 256-bit half, one bit
 * pair of qh[32h ..] (pair c % 2 * 2 below, pair c % 2 * 2 + 1 above; see
 * decode_q6_K). qh is masked once to the pairs the half may use (0x33
 * below, 0xcc above), so after the shift nothing is set above bit 5 and
 * one bit select merges it with the nibble: 3 ops a step where
 * shift-and-or per half took 7 (the row dot 27.5 -> 24.5 cycles a block). */
AVX512 static inline __m512i q6_K_chunk_512(const umi_block_q6_K *x, int c) {
    const int h = c / 2;
    const __m512i l = _mm512_loadu_si512(x->ql + 64 * h);
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(x->qh + 32 * h)));
    const __m512i qm = _mm512_and_si512(qh, _mm512_inserti64x4(_mm512_set1_epi8(0x33), _mm256_set1_epi8((char)0xcc), 1));
    const __m512i hi = c % 2 == 0 ? _mm512_sllv_epi64(qm, _mm512_set_epi64(2, 2, 2, 2, 4, 4, 4, 4))
                                  : _mm512_srlv_epi64(qm, _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0));
    const __m512i lo = c % 2 == 0 ? l : _mm512_srli_epi16(l, 4);
    return _mm512_ternarylogic_epi32(hi, lo, _mm512_set1_epi8(0x0f), 0xD8); /* bits 0-3 of lo, 4-7 of hi */
}


/* Q2_K / Q3_K low bits of step c (elements 64c .. 64c+63, groups 2c and
 * 2c+1): bit pair g % 4 of qs[32 (g / 4) ..], codes 0..3. */
AVX512 static inline __m512i bits2_chunk_512(const uint8_t *qs, int c) {
    const __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(qs + 32 * (c / 2))));
    const __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16((short)(2 * (2 * c % 4))),
                                             _mm256_set1_epi16((short)(2 * ((2 * c + 1) % 4))), 1);
    return _mm512_and_si512(_mm512_srlv_epi16(v, shift), _mm512_set1_epi8(3));
}

/* Q3_K step c as w + 4, unsigned for the byte multiply: the 2 low bits
 * plus 4 where bit g of hmask[e % 32] is set. */
AVX512 static inline __m512i q3_K_chunk_512(const umi_block_q3_K *x, int c) {
    const __m512i lo2 = bits2_chunk_512(x->qs, c);
    const __m512i hm = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->hmask));
    const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << 2 * c)), _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
    return _mm512_mask_add_epi8(lo2, _mm512_test_epi8_mask(hm, bit), lo2, _mm512_set1_epi8(4));
}

/* Q5_K step c: the Q4_K nibbles plus 16 where bit 2c (low half: group 2c)
 * or bit 2c + 1 (high half) of qh[e % 32] is set: one test against qh in
 * both halves and one masked add (the row dot ~1.2x faster in L2 than
 * testing each half apart and merging). */
AVX512 static inline __m512i q5_K_chunk_512(const umi_block_q5_K *x, int c) {
    const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)x->qh));
    const __m512i bit = _mm512_inserti64x4(_mm512_set1_epi8((char)(1 << 2 * c)), _mm256_set1_epi8((char)(1 << (2 * c + 1))), 1);
    const __m512i q4 = q4_K_chunk_512(x->qs, c);
    return _mm512_mask_add_epi8(q4, _mm512_test_epi8_mask(qh, bit), q4, _mm512_set1_epi8(16));
}


#endif
