/* Q4_K tiles on the X16_Q4_K layout (quant/interleave.h), AVX-512 VNNI: the
 * gemv and gemm orders of kquant_repack.c for one 16-row group against up
 * to 4 tokens at a time, each output exactly the bits of the scalar tiles
 * umi_tile_q4_K_x16_gemv / _gemm (tests/unit/test_kernels_x86_kquant.c).
 *
 * Issue 4: a decode step streams every weight once, so the kernel must keep
 * up with memory. On the file's layout each row is its own 144-byte block
 * with its scales to unpack and its sums to reduce across lanes; here a
 * group's super-block is 36 plain 64-byte loads, one row per 32-bit lane,
 * and nothing is ever reduced across lanes:
 *
 *   - chunk 4 + 8c + i holds qs dword 8c + i of every row: its low nibbles
 *     are elements 64c + 4i .. +3 (sub-block 2c), its high nibbles elements
 *     64c + 32 + 4i .. +3 (sub-block 2c + 1); one dpbusd against the
 *     token's 4 activation bytes broadcast adds those products into each
 *     row's lane (unsigned nibbles times signed bytes, exact in int32);
 *   - each sub-block's sum times its 6-bit scale (mullo), the two
 *     sub-blocks of a 64-element step added: the step's integer sum, the
 *     same integer the scalar code forms;
 *   - mins: lane r gets (mn[2c], mn[2c+1]) as 16-bit halves, multiplied by
 *     the token's two 32-element sums of bsums in one madd;
 *   - float steps as the scalar order: fma(sum, d_w * d_a, acc) once per
 *     64 elements (gemm) or per super-block (gemv, whose step sum is the
 *     four integer step sums added exactly), output acc - acc_min.
 *
 * One token: no software prefetch. The stream is sequential (a thread's
 * rows are whole consecutive groups) and the hardware prefetcher keeps up;
 * on this VM prefetching 2 KiB ahead, as the X16 tile of x86_legacy.c does,
 * made this denser kernel slower (27 -> 23 GB/s on two cores, from memory).
 * Several tokens (a multi-sequence decode step) spend 2-4x longer on each
 * line and the prefetcher no longer hid memory: every line prefetched into
 * L2 8 KiB ahead took bench-1b-q4_k_m's 4-sequence Q4_K products from
 * 21-24 to 28-30 GB/s (bench_decode_multi, rdtsc around each pass). */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/cpu.h"
#include "kernels/kquant.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* SB: bytes of one super-block of the group; QS0: its first quant chunk;
 * NT: tokens in registers; TILE_N: tokens per call the matmul may pass;
 * PF_MULTI: how far ahead several tokens prefetch (above). */
enum { SB = UMI_X16_ROWS * sizeof(umi_block_q4_K), QS0 = 4 * 64, NT = 4, TILE_N = 64, PF_MULTI = 8192 };

typedef int32_t __attribute__((may_alias, aligned(1))) i32_unaligned;

VNNI512 INLINE __m512i load(const char *p) {
    return _mm512_loadu_si512(p);
}

/* The 4 activation bytes at q, in every lane. */
VNNI512 INLINE __m512i bcast4(const int8_t *q) {
    return _mm512_set1_epi32(*(const i32_unaligned *)q);
}

/* One group (16 rows, nb super-blocks at w) against nt tokens (rows of xs
 * bytes of Q8_K at x); out[j] lane r = the dot of row r and token j. */
VNNI512 INLINE void group_body(int nb, const char *w, const char *x, size_t xs, const int nt, const bool whole,
                               __m512 out[NT]) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), byte = _mm512_set1_epi32(0xff);
    const __m512i m63 = _mm512_set1_epi32(0x3f3f3f3f), m15 = _mm512_set1_epi32(0x0f0f0f0f);
    const __m512i m3 = _mm512_set1_epi32(0x03030303);
    __m512 acc[NT], accm[NT];
#pragma GCC unroll 4
    for (int j = 0; j < nt; j++) acc[j] = accm[j] = _mm512_setzero_ps();
    for (int b = 0; b < nb; b++) {
        const char *blk = w + (size_t)b * SB;
        /* Chunk 0: (d, dmin) per row; chunks 1-3: the scale words, decoded
         * per lane by the bit layout of umi_q4_K_scale_min. */
        const __m512i hdr = load(blk), w0 = load(blk + 64), w1 = load(blk + 128), w2 = load(blk + 192);
        const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hdr));
        const __m512 dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(hdr, 16)));
        const __m512i sc_lo = _mm512_and_si512(w0, m63), mn_lo = _mm512_and_si512(w1, m63);
        const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(w2, m15),
                                              _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w0, 6), m3), 4));
        const __m512i mn_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), m15),
                                              _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(w1, 6), m3), 4));
        const umi_block_q8_K *a[NT];
        __m512 dd[NT], dm[NT];
        int32_t bpair[NT][4]; /* step c: the two 32-element sums of bsums as 16-bit halves */
        __m512i it[NT], mt[NT];
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) {
            a[j] = (const umi_block_q8_K *)(const void *)(x + (size_t)j * xs) + b;
            const __m512 da = _mm512_set1_ps(a[j]->d);
            dd[j] = _mm512_mul_ps(d, da), dm[j] = _mm512_mul_ps(dmin, da);
            const __m256i s32 = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a[j]->bsums),
                                                  _mm256_set1_epi16(1));
            _mm_storeu_si128((__m128i *)bpair[j], _mm256_cvtepi32_epi16(s32));
        }
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const __m512i scw = c < 2 ? sc_lo : sc_hi, mnw = _mm512_srli_epi32(c < 2 ? mn_lo : mn_hi, 16 * (c % 2));
            const __m512i sc0 = _mm512_and_si512(_mm512_srli_epi32(scw, 16 * (c % 2)), byte);
            const __m512i sc1 = _mm512_and_si512(_mm512_srli_epi32(scw, 16 * (c % 2) + 8), byte);
            const __m512i mn1 = _mm512_and_si512(_mm512_srli_epi32(mnw, 8), byte);
            const __m512i mnp = _mm512_or_si512(_mm512_and_si512(mnw, byte), _mm512_slli_epi32(mn1, 16));
            if (nt > 1) /* a quarter of the super-block's 36 lines, PF_MULTI bytes ahead (above) */
                for (int l = 9 * c; l < 9 * c + 9; l++) _mm_prefetch(blk + PF_MULTI + 64 * l, _MM_HINT_T1);
            __m512i s0[NT], s1[NT];
#pragma GCC unroll 4
            for (int j = 0; j < nt; j++) s0[j] = s1[j] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int i = 0; i < 8; i++) {
                const __m512i v = load(blk + QS0 + 64 * (8 * c + i));
                const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_andnot_si512(m4, v); /* 16 x high nibble */
#pragma GCC unroll 4
                for (int j = 0; j < nt; j++) {
                    s0[j] = _mm512_dpbusd_epi32(s0[j], lo, bcast4(a[j]->qs + 64 * c + 4 * i));
                    s1[j] = _mm512_dpbusd_epi32(s1[j], hi, bcast4(a[j]->qs + 64 * c + 32 + 4 * i));
                }
            }
#pragma GCC unroll 4
            for (int j = 0; j < nt; j++) {
                const __m512i is = _mm512_add_epi32(_mm512_mullo_epi32(s0[j], sc0),
                                                    _mm512_srai_epi32(_mm512_mullo_epi32(s1[j], sc1), 4));
                const __m512i ms = _mm512_madd_epi16(mnp, _mm512_set1_epi32(bpair[j][c]));
                if (whole) {
                    it[j] = c ? _mm512_add_epi32(it[j], is) : is;
                    mt[j] = c ? _mm512_add_epi32(mt[j], ms) : ms;
                } else {
                    acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), dd[j], acc[j]);
                    accm[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ms), dm[j], accm[j]);
                }
            }
        }
        if (whole)
#pragma GCC unroll 4
            for (int j = 0; j < nt; j++) {
                acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(it[j]), dd[j], acc[j]);
                accm[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mt[j]), dm[j], accm[j]);
            }
    }
#pragma GCC unroll 4
    for (int j = 0; j < nt; j++) out[j] = _mm512_sub_ps(acc[j], accm[j]);
}

/* Tokens NT at a time (nt a constant in each call, so the accumulators
 * stay in registers); the group's weights are read again from cache for
 * each further NT. Rows past rm are computed and not stored. */
VNNI512 INLINE void tile(int k, const char *w, int rm, const char *x, size_t xs, int rn, float *y, size_t ys,
                         bool whole) {
    const int nb = k / UMI_QK_K;
    const __mmask16 keep = (__mmask16)((1u << rm) - 1);
    for (int j0 = 0; j0 < rn; j0 += NT) {
        const int nt = rn - j0 < NT ? rn - j0 : NT;
        const char *xj = x + (size_t)j0 * xs;
        __m512 out[NT];
        switch (nt) {
        case 1: group_body(nb, w, xj, xs, 1, whole, out); break;
        case 2: group_body(nb, w, xj, xs, 2, whole, out); break;
        case 3: group_body(nb, w, xj, xs, 3, whole, out); break;
        default: group_body(nb, w, xj, xs, 4, whole, out); break;
        }
        for (int j = 0; j < nt; j++) _mm512_mask_storeu_ps(y + (size_t)(j0 + j) * ys, keep, out[j]);
    }
}

VNNI512 static void tile_q4_K_x16_gemv(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                       float *y, size_t ys) {
    (void)ws;
    tile(k, w, rm, x, xs, rn, y, ys, true);
}

VNNI512 static void tile_q4_K_x16_gemm(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                       float *y, size_t ys) {
    (void)ws;
    tile(k, w, rm, x, xs, rn, y, ys, false);
}

umi_tile_fn umi_kernels_layout_tile_kquant(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level == UMI_CPU_AVX2 || (cpu_level == UMI_CPU_AVX512 && !umi_cpu_features_get()->avx512vnni))
        return umi_kernels_layout_tile_kquant_avx2(oracle, tile_m, tile_n);
    if (cpu_level != UMI_CPU_AVX512) return NULL;
    *tile_m = UMI_X16_ROWS, *tile_n = TILE_N;
    if (oracle == umi_tile_q4_K_x16_gemv) return tile_q4_K_x16_gemv;
    if (oracle == umi_tile_q4_K_x16_gemm) return tile_q4_K_x16_gemm;
    return NULL;
}

#else

umi_tile_fn umi_kernels_layout_tile_kquant(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n) {
    (void)oracle, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
