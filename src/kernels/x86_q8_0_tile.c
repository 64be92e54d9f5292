/* Q8_0's AVX-512 VNNI tile (q8_0_tile.h): every output has exactly the bits
 * of umi_dot_q8_0_lanes8 (tests/unit/test_kernels_x86_legacy.c, through the
 * legacy family's tile lookup in x86_legacy.c). */
#include "kernels/q8_0_tile.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512dq,avx2,fma,f16c")))

/* hsum8 of legacy.c: (l + l+4), then (0+2) + (1+3). */
VNNI512 static inline float hsum8_ps(__m256 v) {
    const __m128 h4 = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
    const __m128 t = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

/* Q8_0 in lanes8 order, AVX-512 VNNI, 32 rows x 8 tokens per call. The
 * weights' bytes enter dpbusd as unsigned w + 128 (a xor) and the tokens'
 * as they are; each lane starts from -128 x (its 4 activations' sum), so
 * the integer lane sums are legacy.c's lane_sums. Per call the 8 tokens
 * are laid out once, a block at a time: two tokens' bytes per register, their lane
 * corrections, and their scales dx spread as [dx0..dx7, dx0..dx7]; then
 * every 4 rows x 8 tokens take, per block, one dpbusd, conversion and
 * fused multiply-add per (row, token pair), with the scale products
 * dw * dx made once per row (one multiply for the 8 tokens) and moved into
 * place by a permute instead of a multiply per pair (Zen 4 issues permutes
 * on other pipes than the multiply-adds). Blocks go in chunks whose layout
 * stays in L1, the 4 x 8 sums held in memory between chunks. Missing rows
 * and tokens repeat the last one and are not stored; one token alone takes
 * the dot. */
enum { Q8T_M = UMI_Q8_0_TILE_M, Q8T_N = UMI_Q8_0_TILE_N, Q8T_PAIRS = Q8T_N / 2, Q8T_CHUNK = 32, QK = 32 };

VNNI512 void umi_tile_q8_0_vnni(int k, const void *vw, size_t ws, int rm, const void *vx, size_t xs, int rn,
                                   float *y, size_t ys) {
    if (rn == 1) {
        for (int i = 0; i < rm; i++) y[i] = umi_dot_q8_0_avx2(k, (const char *)vw + i * ws, vx);
        return;
    }
    const char *w = vw, *x = vx;
    const int nb = k / QK;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i xq[Q8T_CHUNK][Q8T_PAIRS], corr[Q8T_CHUNK][Q8T_PAIRS]; /* [block][pair] */
    float dx[Q8T_CHUNK][16] __attribute__((aligned(64)));
    __m512 acc[Q8T_M / 4][4][Q8T_PAIRS]; /* [row quad][row][pair] between chunks */
    __m512i spread[Q8T_PAIRS];           /* lanes 0..7 from token 2p, 8..15 from 2p + 1 */
    for (int p = 0; p < Q8T_PAIRS; p++)
        spread[p] = _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1);
    const int nq = (rm + 3) / 4;
    for (int q = 0; q < nq; q++)
        for (int i = 0; i < 4; i++)
            for (int p = 0; p < Q8T_PAIRS; p++) acc[q][i][p] = _mm512_setzero_ps();
    for (int b0 = 0; b0 < nb; b0 += Q8T_CHUNK) {
        const int nc = nb - b0 < Q8T_CHUNK ? nb - b0 : Q8T_CHUNK;
        for (int p = 0; p < Q8T_PAIRS; p++) {
            const int j0 = 2 * p < rn ? 2 * p : rn - 1, j1 = 2 * p + 1 < rn ? 2 * p + 1 : rn - 1;
            const umi_block_q8_0 *x0 = (const umi_block_q8_0 *)(x + j0 * xs) + b0;
            const umi_block_q8_0 *x1 = (const umi_block_q8_0 *)(x + j1 * xs) + b0;
            for (int c = 0; c < nc; c++) {
                const __m512i v = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)x0[c].qs)),
                    _mm256_loadu_si256((const __m256i *)x1[c].qs), 1);
                xq[c][p] = v;
                corr[c][p] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), flip, v));
                dx[c][2 * p] = dx[c][2 * p + 8] = umi_fp16_to_fp32(x0[c].d);
                dx[c][2 * p + 1] = dx[c][2 * p + 9] = umi_fp16_to_fp32(x1[c].d);
            }
        }
        for (int q = 0; q < nq; q++) {
            const char *wr[4];
            for (int i = 0; i < 4; i++) wr[i] = w + (size_t)(4 * q + i < rm ? 4 * q + i : rm - 1) * ws;
            __m512 a[4][Q8T_PAIRS];
            _Pragma("GCC unroll 4")
            for (int i = 0; i < 4; i++)
                _Pragma("GCC unroll 4")
                for (int p = 0; p < Q8T_PAIRS; p++) a[i][p] = acc[q][i][p];
            for (int c = 0; c < nc; c++) {
                const __m512 dxv = _mm512_load_ps(dx[c]);
                __m512i wu[4];
                __m512 dd[4]; /* row i: dw * dx of tokens 0..7, twice */
                _Pragma("GCC unroll 4")
                for (int i = 0; i < 4; i++) {
                    const umi_block_q8_0 *blk = (const umi_block_q8_0 *)wr[i] + b0 + c;
                    const __m256i qw = _mm256_loadu_si256((const __m256i *)blk->qs);
                    wu[i] = _mm512_xor_si512(_mm512_broadcast_i64x4(qw), flip);
                    dd[i] = _mm512_mul_ps(_mm512_set1_ps(umi_fp16_to_fp32(blk->d)), dxv);
                }
                _Pragma("GCC unroll 4")
                for (int p = 0; p < Q8T_PAIRS; p++)
                    _Pragma("GCC unroll 4")
                    for (int i = 0; i < 4; i++) {
                        const __m512i sums = _mm512_dpbusd_epi32(corr[c][p], wu[i], xq[c][p]);
                        a[i][p] = _mm512_fmadd_ps(_mm512_permutexvar_ps(spread[p], dd[i]), _mm512_cvtepi32_ps(sums),
                                                  a[i][p]);
                    }
            }
            _Pragma("GCC unroll 4")
            for (int i = 0; i < 4; i++)
                _Pragma("GCC unroll 4")
                for (int p = 0; p < Q8T_PAIRS; p++) acc[q][i][p] = a[i][p];
        }
    }
    for (int r = 0; r < rm; r++)
        for (int j = 0; j < rn; j++) {
            const __m512 v = acc[r / 4][r % 4][j / 2];
            y[j * ys + r] = hsum8_ps(j % 2 ? _mm512_extractf32x8_ps(v, 1) : _mm512_castps512_ps256(v));
        }
}

#endif
