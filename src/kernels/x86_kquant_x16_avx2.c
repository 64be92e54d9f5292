/* Q4_K tiles on the X16_Q4_K layout (quant/interleave.h) for AVX2 without
 * VNNI: the gemv and gemm orders of kquant_repack.c, each output exactly
 * the bits of the scalar tiles umi_tile_q4_K_x16_gemv / _gemm
 * (tests/unit/test_kernels_x86_kquant.c), as the AVX-512 VNNI tiles of
 * x86_kquant_x16.c give them. Without them an AVX2 CPU keeps Q4_K in the
 * file's layout, where every token dots every row on its own: prompts ran
 * 6x slower than with AVX-512 (bench-1b Q4_K_M pp256 37 against 232
 * tokens/s on the same cores) and a decode step was bound by arithmetic.
 *
 * A 64-byte chunk holds 4 bytes of each of the 16 rows; a ymm register
 * takes 8 rows (bytes 32h .. 32h + 31: half h), both halves of a
 * super-block one after the other. Per sub-block of 32 elements, chunk i
 * holds elements 4i .. 4i + 3 of every row:
 *
 *   - maddubs of the row's 4 codes (0..15) with the token's 4 bytes,
 *     broadcast, gives two 16-bit pair sums per row, |.| <= 2 * 15 * 128;
 *     the 8 chunks of a sub-block add up in 16 bits (<= 30720, no
 *     overflow), so a sub-block costs 8 maddubs and 7 adds per token;
 *   - one madd of those pair sums with the row's 6-bit scale in both
 *     16-bit halves: scale * (the sub-block's integer sum), exact in int32
 *     — the integer the scalar code and the VNNI tile form (which keeps the
 *     high nibbles times 16 and shifts the product back);
 *   - mins, float steps and the output as in x86_kquant_x16.c. */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kquant.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* SB: bytes of one super-block of the group; QS0: its first quant chunk;
 * NT: tokens in registers; TILE_N: tokens per call the matmul may pass. */

enum { SB = UMI_X16_ROWS * sizeof(umi_block_q4_K), QS0 = 4 * 64, NT = 4, TILE_N = 64 };

typedef int32_t __attribute__((may_alias, aligned(1))) i32_unaligned;

AVX2 INLINE __m256i load(const char *p) {
    return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

/* The 4 activation bytes at q, in every lane. */
AVX2 INLINE __m256i bcast4(const int8_t *q) {
    return _mm256_set1_epi32(*(const i32_unaligned *)q);
}

/* The 16-bit halves (lo: low, else high) of 8 dwords as floats from F16. */
AVX2 INLINE __m256 halves_f16(__m256i v, bool lo) {
    const __m256i pick = lo ? _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 4, 5,
                                                8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1)
                            : _mm256_setr_epi8(2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, 6,
                                                7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(v, pick), 0x08); /* qwords 0, 2 */
    return _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
}

/* A dword with v in both 16-bit halves (v < 2^16). */
AVX2 INLINE __m256i dup16(__m256i v) {
    return _mm256_or_si256(v, _mm256_slli_epi32(v, 16));
}

/* One group (16 rows, nb super-blocks at w) against nt tokens (rows of xs
 * bytes of Q8_K at x), each super-block's two halves (rows 0-7: bytes
 * 0..31 of every chunk, rows 8-15: bytes 32..63) one after the other, so
 * the group streams front to back once (half by half over the whole group
 * ran at half the memory's pace); out[h][j] lane r = the dot of row 8h + r
 * and token j. */
AVX2 INLINE void group_body(int nb, const char *w, const char *x, size_t xs, const int nt, const bool whole,
                            __m256 out[2][NT]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), byte = _mm256_set1_epi32(0xff);
    const __m256i m63 = _mm256_set1_epi32(0x3f3f3f3f), m15 = _mm256_set1_epi32(0x0f0f0f0f);
    const __m256i m3 = _mm256_set1_epi32(0x03030303);
    __m256 acc[2][NT], accm[2][NT];
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) acc[h][j] = accm[h][j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const umi_block_q8_K *a[NT];
        int32_t bpair[NT][4]; /* step c: the two 32-element sums of bsums as 16-bit halves */
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) {
            a[j] = (const umi_block_q8_K *)(const void *)(x + (size_t)j * xs) + b;
            for (int c = 0; c < 4; c++) {
                const int16_t *s = a[j]->bsums + 4 * c; /* |32-element sum| <= 4096: 16 bits */
                const uint16_t s0 = (uint16_t)(s[0] + s[1]), s1 = (uint16_t)(s[2] + s[3]);
                bpair[j][c] = (int32_t)((uint32_t)s0 | (uint32_t)s1 << 16);
            }
        }
#pragma GCC unroll 1
        for (int h = 0; h < 2; h++) {
            const char *blk = w + (size_t)b * SB + 32 * h;
            /* Chunk 0: (d, dmin) per row; chunks 1-3: the scale words, decoded
             * per lane by the bit layout of umi_q4_K_scale_min. */
            const __m256i hdr = load(blk), w0 = load(blk + 64), w1 = load(blk + 128), w2 = load(blk + 192);
            const __m256 d = halves_f16(hdr, true), dmin = halves_f16(hdr, false);
            const __m256i sc_lo = _mm256_and_si256(w0, m63), mn_lo = _mm256_and_si256(w1, m63);
            const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(w2, m15),
                                                  _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(w0, 6), m3), 4));
            const __m256i mn_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), m15),
                                                  _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(w1, 6), m3), 4));
            __m256i it[NT], mt[NT];
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                const __m256i scw = c < 2 ? sc_lo : sc_hi;
                const __m256i mnw = _mm256_srli_epi32(c < 2 ? mn_lo : mn_hi, 16 * (c % 2));
                const __m256i sc0 = dup16(_mm256_and_si256(_mm256_srli_epi32(scw, 16 * (c % 2)), byte));
                const __m256i sc1 = dup16(_mm256_and_si256(_mm256_srli_epi32(scw, 16 * (c % 2) + 8), byte));
                const __m256i mn1 = _mm256_and_si256(_mm256_srli_epi32(mnw, 8), byte);
                const __m256i mnp = _mm256_or_si256(_mm256_and_si256(mnw, byte), _mm256_slli_epi32(mn1, 16));
                __m256i t0[NT], t1[NT]; /* 16-bit pair sums of sub-blocks 2c and 2c + 1 */
#pragma GCC unroll 4
                for (int j = 0; j < nt; j++) t0[j] = t1[j] = _mm256_setzero_si256();
#pragma GCC unroll 1 /* unrolled, GCC hoisted all 64 multiplies and spilled them: ~15 % slower */
                for (int i = 0; i < 8; i++) {
                    const __m256i v = load(blk + QS0 + 64 * (8 * c + i));
                    const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
#pragma GCC unroll 4
                    for (int j = 0; j < nt; j++) {
                        const int8_t *q = a[j]->qs + 64 * c + 4 * i;
                        t0[j] = _mm256_add_epi16(t0[j], _mm256_maddubs_epi16(lo, bcast4(q)));
                        t1[j] = _mm256_add_epi16(t1[j], _mm256_maddubs_epi16(hi, bcast4(q + 32)));
                    }
                }
#pragma GCC unroll 4
                for (int j = 0; j < nt; j++) {
                    const __m256i is = _mm256_add_epi32(_mm256_madd_epi16(t0[j], sc0), _mm256_madd_epi16(t1[j], sc1));
                    const __m256i ms = _mm256_madd_epi16(mnp, _mm256_set1_epi32(bpair[j][c]));
                    if (whole) {
                        it[j] = c ? _mm256_add_epi32(it[j], is) : is;
                        mt[j] = c ? _mm256_add_epi32(mt[j], ms) : ms;
                    } else {
                        const __m256 da = _mm256_set1_ps(a[j]->d);
                        acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(is), _mm256_mul_ps(d, da), acc[h][j]);
                        accm[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ms), _mm256_mul_ps(dmin, da), accm[h][j]);
                    }
                }
            }
            if (whole)
#pragma GCC unroll 4
                for (int j = 0; j < nt; j++) {
                    const __m256 da = _mm256_set1_ps(a[j]->d);
                    acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(it[j]), _mm256_mul_ps(d, da), acc[h][j]);
                    accm[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mt[j]), _mm256_mul_ps(dmin, da), accm[h][j]);
                }
        }
    }
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) out[h][j] = _mm256_sub_ps(acc[h][j], accm[h][j]);
}

/* Tokens NT at a time (nt a constant in each call, so the accumulators
 * stay in registers where they fit); the group's weights are read again
 * from cache for each further NT. Rows past rm are computed, not stored. */
AVX2 INLINE void tile(int k, const char *w, int rm, const char *x, size_t xs, int rn, float *y, size_t ys,
                      bool whole) {
    const int nb = k / UMI_QK_K;
    for (int j0 = 0; j0 < rn; j0 += NT) {
        const int nt = rn - j0 < NT ? rn - j0 : NT;
        const char *xj = x + (size_t)j0 * xs;
        __m256 out[2][NT];
        switch (nt) {
        case 1: group_body(nb, w, xj, xs, 1, whole, out); break;
        case 2: group_body(nb, w, xj, xs, 2, whole, out); break;
        case 3: group_body(nb, w, xj, xs, 3, whole, out); break;
        default: group_body(nb, w, xj, xs, 4, whole, out); break;
        }
        for (int j = 0; j < nt; j++) {
            float v[16];
            _mm256_storeu_ps(v, out[0][j]);
            _mm256_storeu_ps(v + 8, out[1][j]);
            memcpy(y + (size_t)(j0 + j) * ys, v, sizeof(float) * (size_t)rm);
        }
    }
}

AVX2 static void tile_q4_K_x16_gemv_avx2(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                         float *y, size_t ys) {
    (void)ws;
    tile(k, w, rm, x, xs, rn, y, ys, true);
}

AVX2 static void tile_q4_K_x16_gemm_avx2(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                         float *y, size_t ys) {
    (void)ws;
    tile(k, w, rm, x, xs, rn, y, ys, false);
}

umi_tile_fn umi_kernels_layout_tile_kquant_avx2(umi_tile_fn oracle, int *tile_m, int *tile_n) {
    *tile_m = UMI_X16_ROWS, *tile_n = TILE_N;
    if (oracle == umi_tile_q4_K_x16_gemv) return tile_q4_K_x16_gemv_avx2;
    if (oracle == umi_tile_q4_K_x16_gemm) return tile_q4_K_x16_gemm_avx2;
    return NULL;
}

#else

umi_tile_fn umi_kernels_layout_tile_kquant_avx2(umi_tile_fn oracle, int *tile_m, int *tile_n) {
    (void)oracle, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
