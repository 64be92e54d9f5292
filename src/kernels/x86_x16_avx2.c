/* Q4_0's tile on the X16 layout (quant/interleave.h) for AVX2 without
 * VNNI: the "blocks" order of legacy.c (each block's exact integer sum,
 * then acc = fma(float(sum), d_w * d_x, acc) block by block), each output
 * exactly the bits of the scalar tile umi_tile_q4_0_x16
 * (tests/unit/test_kernels_x86_legacy.c).
 *
 * A ymm register takes 8 of a group's 16 rows (bytes 32h .. 32h + 31 of
 * every 64-byte chunk: half h), one row per 32-bit lane; both halves of a
 * block are done before the next block, so the group streams from memory
 * front to back once. Per block and token:
 *
 *   - maddubs of the rows' unsigned nibbles (0..15) with the token's 4
 *     activation bytes, broadcast, for each of the 8 four-element groups;
 *     their 16-bit pair sums add up exactly (|.| <= 8 * 2 * 15 * 128 =
 *     30720), and one madd with ones makes each row's integer sum;
 *   - minus 8 times the block's activation sum (the nibbles' offset):
 *     the integer the scalar code forms from the signed levels;
 *   - the float step.
 *
 * x86_legacy.c's first AVX2 tile applied the sign trick to the signed
 * levels per group and widened each group to 32 bits: twice the
 * operations, and its halves one pass each over the group (from cache,
 * but two streams' worth of waiting): bench-1b Q4_0 decoded at ~0.7x the
 * reference's AVX2 build. IQ4_NL keeps that tile: its levels are signed,
 * and offset to unsigned bytes their pair sums would saturate. */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <string.h>

#include "kernels/legacy.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* NT: tokens per pass over the group (accumulators in registers). */
enum { QB = 32, QS_BYTES = 256, NT = 4, TILE_N = 8 };

typedef int32_t __attribute__((may_alias, aligned(1))) i32_unaligned;

/* Rows 8h + r (lane r) of one group, nb blocks at w, against nt tokens
 * (rows of xs bytes of Q8_0 at x). */
AVX2 INLINE void group_body(int nb, const char *w, const char *x, size_t xs, const int nt, __m256 out[2][NT]) {
    const __m256i lo4 = _mm256_set1_epi8(0x0f), ones16 = _mm256_set1_epi16(1);
    __m256 acc[2][NT];
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) acc[h][j] = _mm256_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const umi_block_q8_0 *xb[NT];
        int32_t off[NT]; /* -8 x the block's activation sum */
        float dx[NT];
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) {
            xb[j] = (const umi_block_q8_0 *)(const void *)(x + (size_t)j * xs) + b;
            const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)xb[j]->qs);
            const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), a); /* pairs: |.| <= 256 */
            const __m256i s32 = _mm256_madd_epi16(s16, ones16);
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(s32), _mm256_extracti128_si256(s32, 1));
            s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
            s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
            off[j] = -8 * _mm_cvtsi128_si32(s);
            dx[j] = _cvtsh_ss(xb[j]->d);
        }
        const char *dp = w + umi_x16_pair_d_at(QS_BYTES, b), *qp = w + umi_x16_pair_qs_at(QS_BYTES, nb, b);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(dp + 16 * h)));
            __m256i t[NT];
#pragma GCC unroll 4
            for (int j = 0; j < nt; j++) t[j] = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int d = 0; d < 4; d++) {
                /* dword d of each row: elements 4d.. (low nibbles), 16 + 4d.. (high) */
                const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(qp + 64 * d + 32 * h));
                const __m256i n0 = _mm256_and_si256(v, lo4), n1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), lo4);
#pragma GCC unroll 4
                for (int j = 0; j < nt; j++) {
                    const i32_unaligned *a4 = (const i32_unaligned *)(const void *)xb[j]->qs;
                    t[j] = _mm256_add_epi16(t[j], _mm256_maddubs_epi16(n0, _mm256_set1_epi32(a4[d])));
                    t[j] = _mm256_add_epi16(t[j], _mm256_maddubs_epi16(n1, _mm256_set1_epi32(a4[d + 4])));
                }
            }
#pragma GCC unroll 4
            for (int j = 0; j < nt; j++) {
                const __m256i s = _mm256_add_epi32(_mm256_madd_epi16(t[j], ones16), _mm256_set1_epi32(off[j]));
                const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(dx[j]));
                acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[h][j]);
            }
        }
    }
    for (int h = 0; h < 2; h++)
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) out[h][j] = acc[h][j];
}

AVX2 static void tile_q4_0_x16_avx2(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                   float *y, size_t ys) {
    (void)ws;
    const int nb = k / QB;
    for (int j0 = 0; j0 < rn; j0 += NT) {
        const int nt = rn - j0 < NT ? rn - j0 : NT;
        const char *xj = (const char *)x + (size_t)j0 * xs;
        __m256 out[2][NT];
        switch (nt) {
        case 1: group_body(nb, w, xj, xs, 1, out); break;
        case 2: group_body(nb, w, xj, xs, 2, out); break;
        case 3: group_body(nb, w, xj, xs, 3, out); break;
        default: group_body(nb, w, xj, xs, 4, out); break;
        }
        for (int j = 0; j < nt; j++) {
            float v[16];
            _mm256_storeu_ps(v, out[0][j]);
            _mm256_storeu_ps(v + 8, out[1][j]);
            memcpy(y + (size_t)(j0 + j) * ys, v, sizeof(float) * (size_t)rm);
        }
    }
}

umi_tile_fn umi_kernels_x16_tile_avx2(umi_tile_fn oracle, int *tile_m, int *tile_n) {
    *tile_m = UMI_X16_ROWS, *tile_n = TILE_N;
    return oracle == umi_tile_q4_0_x16 ? tile_q4_0_x16_avx2 : NULL;
}

#else

umi_tile_fn umi_kernels_x16_tile_avx2(umi_tile_fn oracle, int *tile_m, int *tile_n) {
    (void)oracle, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
