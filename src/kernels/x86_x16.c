/* Q4_0 and IQ4_NL tiles on the X16 layout and Q8_0's on X16_Q8_0
 * (quant/interleave.h), AVX-512 VNNI: the "blocks" order of legacy.c (each
 * block's exact integer sum, then acc = fma(float(sum), d_w * d_x, acc)
 * block by block), each output exactly the bits of the scalar tiles
 * umi_tile_q4_0_x16 / umi_tile_iq4_nl_x16 / umi_tile_q8_0_x16
 * (tests/unit/test_kernels_x86_legacy.c). Q8_0's weights enter dpbusd as
 * unsigned w + 128 (a xor), so its level offset is 128 like IQ4_NL's.
 *
 * Up to 4 groups of 16 rows per call, so the per-token work that does not
 * depend on the rows — each block's activation sum times the level offset
 * (8 for Q4_0's unsigned nibbles, 128 for IQ4_NL's shifted table) and the
 * block's activation scale — is done once for 64 rows instead of 16. A
 * decode step on 2 cores keeps up with memory only if the kernel is lean:
 * per block and token, 8 dpbusd, one add, the scale product, the
 * conversion and the fused multiply-add; the offset enters as the first
 * chain's starting value.
 *
 * An X16 group is one sequential stream (each pair of blocks' d's beside
 * its quants), every line of it prefetched 4 KiB ahead: on this VM ~1.15x
 * over the d's-apart layout with its two streams prefetched 2 KiB ahead
 * (the probe, 2 threads, in-process A/B), better than 2-3 or 5-8 KiB or
 * the hardware prefetcher alone, which varied with the machine's load.
 * X16_Q8_0 groups are the same kind of stream, which the hardware
 * prefetcher follows best alone: with the 2 KiB prefetch one token ran
 * ~15 % slower, without it as fast as the file layout's dot.
 *
 * Several tokens (a multi-sequence decode step) spend 2-4x the time on each
 * line, and lines prefetched into L1 4 KiB ahead still left the kernel
 * waiting on memory about half the time: prefetched into L2 8 KiB ahead,
 * bench-1b-q4_0's 4-sequence step took ~15 % less time in its Q4_0
 * products (bench_decode_multi, rdtsc around each pass). */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/cpu.h"
#include "kernels/legacy.h"
#include "kernels/x86_reduce.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* G: groups per call; NT: tokens in registers; CHUNK: blocks whose
 * per-token terms are formed at a time for many tokens (they stay in L1
 * while the groups use them); up to ROW_CHUNK blocks, the whole row, for
 * up to ROW_TOKENS tokens (decode): each group then streams front to back
 * once, where chunks made 4 groups' streams take turns (rows wider than
 * 2048: 8B-class models' K = 4096, every ffn_down); PF: prefetch distance
 * in bytes for one token, PF_MULTI for several. */
enum { G = 4, NT = 8, CHUNK = 64, ROW_CHUNK = 1024, ROW_TOKENS = 4, PF = 4096, PF_MULTI = 8192, QB = 32 };

/* Prefetch the line PF or PF_MULTI bytes past p for a call of rn tokens
 * (above). */
INLINE void prefetch_ahead(const char *p, int rn) {
    if (rn == 1) _mm_prefetch(p + PF, _MM_HINT_T0);
    else _mm_prefetch(p + PF_MULTI, _MM_HINT_T1);
}

/* The exact sums of n <= 8 activation blocks' 32 quants: lane c is block c's. */
VNNI512 INLINE __m256i block_sums8(const umi_block_q8_0 *xb, int n) {
    const __m256i ones = _mm256_set1_epi8(1);
    __m256i v[8];
    for (int i = 0; i < 8; i++)
        v[i] = i < n ? _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, _mm256_loadu_si256((const __m256i *)xb[i].qs))
                     : _mm256_setzero_si256();
    return umi_reduce8x8_epi32(v);
}

typedef enum kind { Q4_0, IQ4_NL, Q8_0 } kind;

VNNI512 INLINE void x16_body(kind t, int k, const char *w, size_t ws, int rm, const char *x, size_t xs,
                             const int rn, float *y, size_t ys) {
    /* rm need not fill the last group: its other rows are computed, not stored */
    const int nb = k / QB, ng = (rm + UMI_X16_ROWS - 1) / UMI_X16_ROWS, shift = t == Q4_0 ? 3 : 7;
    const size_t group = (size_t)UMI_X16_ROWS * ws;
    const __m512i lo4 = _mm512_set1_epi8(0x0f), flip = _mm512_set1_epi8((char)0x80);
    const __m512i table = _mm512_xor_si512(
        _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)umi_iq4nl_values)), _mm512_set1_epi8(-128));
    float acc_keep[G][NT][UMI_X16_ROWS]; /* accumulators between chunks */
    const int chunk = rn <= ROW_TOKENS && nb <= ROW_CHUNK ? nb : CHUNK;
    for (int b0 = 0; b0 < nb; b0 += chunk) {
        const int nc = nb - b0 < chunk ? nb - b0 : chunk;
        /* Per token and block: -(offset * activation sum), and d_x; token
         * j's at [j * chunk + c], packed, so 8 tokens' 64-block chunks share
         * a few lines rather than sit ROW_CHUNK entries apart. A partial last
         * 8-wide store runs into the next token's start, written after it
         * (+8 for the last token). */
        int32_t noff[ROW_TOKENS * ROW_CHUNK + 8]; /* >= NT * CHUNK + 8 */
        float dx[ROW_TOKENS * ROW_CHUNK + 8];
#pragma GCC unroll 8
        for (int j = 0; j < rn; j++) {
            const umi_block_q8_0 *xj = (const umi_block_q8_0 *)(x + j * xs) + b0;
            for (int c0 = 0; c0 < nc; c0 += 8) {
                const __m256i s = _mm256_slli_epi32(block_sums8(xj + c0, nc - c0), shift);
                _mm256_storeu_si256((__m256i *)&noff[j * chunk + c0], _mm256_sub_epi32(_mm256_setzero_si256(), s));
            }
            for (int c = 0; c < nc; c++) dx[j * chunk + c] = _cvtsh_ss(xj[c].d);
        }
        for (int g = 0; g < ng; g++) {
            const char *wg = w + g * group;
            __m512 acc[NT];
#pragma GCC unroll 8
            for (int j = 0; j < rn; j++) acc[j] = b0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(acc_keep[g][j]);
            for (int c = 0; c < nc; c++) {
                const int b = b0 + c;
                const size_t qs_bytes = t == Q8_0 ? 512 : 256;
                const char *dp = wg + umi_x16_pair_d_at(qs_bytes, b), *q = wg + umi_x16_pair_qs_at(qs_bytes, nb, b);
                const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)dp));
                if (t != Q8_0 && b % 2 == 0) prefetch_ahead(dp, rn); /* the pair's d's */
                __m512i u[8];
                if (t == Q8_0) {
#pragma GCC unroll 8
                    for (int d = 0; d < 8; d++) /* elements 4d..4d+3 of each row */
                        u[d] = _mm512_xor_si512(_mm512_loadu_si512(q + 64 * d), flip);
                }
#pragma GCC unroll 4
                for (int d = 0; d < 4 && t != Q8_0; d++) {
                    const __m512i v = _mm512_loadu_si512(q + 64 * d);
                    prefetch_ahead(q + 64 * d, rn);
                    /* low nibbles: elements 4d..4d+3 of each row; high: 16 + 4d.. */
                    u[d] = _mm512_and_si512(v, lo4);
                    u[d + 4] = _mm512_and_si512(_mm512_srli_epi16(v, 4), lo4);
                    if (t == IQ4_NL) {
                        u[d] = _mm512_shuffle_epi8(table, u[d]);
                        u[d + 4] = _mm512_shuffle_epi8(table, u[d + 4]);
                    }
                }
#pragma GCC unroll 8
                for (int j = 0; j < rn; j++) {
                    acc[j] = umi_block_step_vnni(u, x + j * xs + (size_t)b * sizeof(umi_block_q8_0) + 2, noff[j * chunk + c], dw,
                                                 dx[j * chunk + c], acc[j]);
                }
            }
            if (b0 + nc < nb) {
#pragma GCC unroll 8
                for (int j = 0; j < rn; j++) _mm512_storeu_ps(acc_keep[g][j], acc[j]);
            } else {
                const int rows = rm - g * UMI_X16_ROWS < UMI_X16_ROWS ? rm - g * UMI_X16_ROWS : UMI_X16_ROWS;
                const __mmask16 keep = (__mmask16)((1u << rows) - 1);
#pragma GCC unroll 8
                for (int j = 0; j < rn; j++) _mm512_mask_storeu_ps(y + j * ys + (size_t)g * UMI_X16_ROWS, keep, acc[j]);
            }
        }
    }
}

/* rn as a constant, so the accumulators live in registers. */
VNNI512 INLINE void x16_tile(kind t, int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                             float *y, size_t ys) {
    switch (rn) {
    case 1: x16_body(t, k, w, ws, rm, x, xs, 1, y, ys); break;
    case 2: x16_body(t, k, w, ws, rm, x, xs, 2, y, ys); break;
    case 3: x16_body(t, k, w, ws, rm, x, xs, 3, y, ys); break;
    case 4: x16_body(t, k, w, ws, rm, x, xs, 4, y, ys); break;
    case 5: x16_body(t, k, w, ws, rm, x, xs, 5, y, ys); break;
    case 6: x16_body(t, k, w, ws, rm, x, xs, 6, y, ys); break;
    case 7: x16_body(t, k, w, ws, rm, x, xs, 7, y, ys); break;
    case 8: x16_body(t, k, w, ws, rm, x, xs, 8, y, ys); break;
    default: break;
    }
}

VNNI512 static void tile_q4_0_x16_vnni(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                       float *y, size_t ys) {
    x16_tile(Q4_0, k, w, ws, rm, x, xs, rn, y, ys);
}

VNNI512 static void tile_iq4_nl_x16_vnni(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                         float *y, size_t ys) {
    x16_tile(IQ4_NL, k, w, ws, rm, x, xs, rn, y, ys);
}

VNNI512 static void tile_q8_0_x16_vnni(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                       float *y, size_t ys) {
    x16_tile(Q8_0, k, w, ws, rm, x, xs, rn, y, ys);
}

umi_tile_fn umi_kernels_x16_tile_vnni(umi_tile_fn oracle, int *tile_m, int *tile_n) {
    *tile_m = G * UMI_X16_ROWS, *tile_n = NT;
    if (oracle == umi_tile_q4_0_x16) return tile_q4_0_x16_vnni;
    if (oracle == umi_tile_iq4_nl_x16) return tile_iq4_nl_x16_vnni;
    if (oracle == umi_tile_q8_0_x16) return tile_q8_0_x16_vnni;
    return NULL;
}

#else

umi_tile_fn umi_kernels_x16_tile_vnni(umi_tile_fn oracle, int *tile_m, int *tile_n) {
    (void)oracle, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
