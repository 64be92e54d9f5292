/* Q6_K tile on the X16_Q6_K layout (quant/interleave.h), AVX-512 VNNI: the
 * lanes8 order of umi_dot_q6_K_lanes8 for one 16-row group against up to 4
 * tokens at a time, each output exactly the bits of the scalar tile
 * umi_tile_q6_K_x16 (tests/unit/test_kernels_x86_kquant.c).
 *
 * The order (kquant_lanes.c) keeps, per row and per super-block, 8 integer
 * lanes: lane L sums the products of elements 32G + 4L .. +3 of every
 * 32-group G, each 4 scaled by the scale of its 16-group, minus the -32
 * offset 32 * (bsums[2L] sc[2L] + bsums[2L+1] sc[2L+1]); each lane then goes
 * through its own fma(d_a * d_w, lane, acc[L]), and the 8 float lanes are
 * reduced at the end. Here one 32-bit vector lane is one row, so lane L of
 * all 16 rows is one register and nothing is reduced across vector lanes:
 *
 *   - ql dword 16h + L of every row (one chunk of the layout) holds
 *     elements 128h + 4L .. +3 (low nibbles: group 4h) and 128h + 64 + 4L
 *     .. (high: group 4h + 2), ql dword 16h + 8 + L groups 4h + 1 and 4h
 *     + 3, qh dword 32 + 8h + L the top bits of all four (bit pair g for
 *     group 4h + g): codes 0..63, 4 per row, for each group;
 *   - maddubs of those codes with the token's 4 bytes of the group,
 *     broadcast, gives two 16-bit pair sums per row (|sum| <= 2*63*128, no
 *     saturation); vpdpwssd with the row's scale in both 16-bit halves adds
 *     sc * (their sum) to lane L: exact int32, the scalar integer;
 *   - the offset: one vpdpwssd of the row's (-32 sc[2L], -32 sc[2L+1]) with
 *     the token's (bsums[2L], bsums[2L+1]), which are bsums' dword L.
 *
 * Per token 8 float accumulators of 16 rows: 32 for 4 tokens, more than
 * the registers, so they live in an array the compiler keeps partly in
 * memory (one load and store per lane per super-block, against 16 integer
 * multiply-adds). Each lane's integer is a chain of 17 dependent vpdpwssd,
 * so a single token computes 4 lanes side by side (2 for 2 tokens) to keep
 * the multipliers busy: 1.5x the throughput from cache.
 *
 * The layout's chunk order is the order of use (quant/interleave.h): read
 * lane by lane from the file's order (ql, then qh) the tile streamed a
 * third of the bandwidth from memory; front to back it keeps up with the
 * row dot (~20 GB/s on one core here). Software prefetch into L1 slowed
 * it (T0 or NTA, 1-4 super-blocks ahead, all at once: 12-15 GB/s); into L2,
 * the super-block PF_SB ahead a few lines per pass, it helps: 4 tokens
 * (one lane per pass, reads jumping 256 bytes through each super-block)
 * had streamed half what they did from L3 (~9 against 17.6 GB/s on one
 * core), and bench-1b-q4_0's output product in a 4-sequence decode step
 * went from 14-19 ms to 9-10 (bench_decode_multi, rdtsc around each
 * pass); one token, 2 threads, k = 4096 and 8192, from 21-27 to 28-31 GB/s
 * (k = 2048: +5-10 %).
 *
 * From L2 (Zen 4, 3.65 GHz, k = 2048) one token takes ~15 cycles a row and
 * super-block (the row dot on the file's layout ~25; yet bench-1b-q4_0's
 * output matrix in this layout decoded 8 % slower, 34.5 against 37.7
 * tokens/s at -t 2, so one token keeps the file's layout), 2-8 tokens ~10 a
 * token: 8 zmm multiplies plus a cvt and fma, near the multipliers' one a
 * cycle. Tried and slower by 5-20 %: vpdpbusd on the codes (four products,
 * |sum| < 2^15) with two groups' sums packed into one vpdpwssd against
 * their two scales, 3 multiplies for 4, lost to spills and the zeroed
 * accumulator every vpdpbusd needs. */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#include "core/cpu.h"
#include "kernels/kquant.h"
#include "quant/blocks.h"
#include "quant/interleave.h"

#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/* SB: bytes of one super-block's 52 chunks in the group: SC_CHUNKS of
 * scales, then 4 runs of RUN chunks of quants; NT: tokens in registers;
 * TILE_N: tokens per call the matmul may pass. */
enum { CHUNKS = 52, SB = CHUNKS * 64, SC_CHUNKS = 4, RUN = 12, LANES = 8, NT = 4, TILE_N = 64, PF_SB = 2 };

typedef int32_t __attribute__((may_alias, aligned(1))) i32_unaligned;

VNNI512 INLINE __m512i chunk(const char *blk, int c) {
    return _mm512_loadu_si512(blk + 64 * c);
}

/* The 4 bytes at p, in every lane. */
VNNI512 INLINE __m512i bcast4(const void *p) {
    return _mm512_set1_epi32(*(const i32_unaligned *)p);
}

/* Byte shuffles that put byte lo of each row's dword in the high byte of
 * its low 16-bit half and byte hi in the high byte of its high half (an
 * arithmetic shift then sign-extends): one[i] takes byte i twice (a scale
 * in both halves), pair[i] bytes 2i and 2i + 1 (the offset's two scales). */
typedef struct shuffles {
    __m512i one[4], pair[2];
} shuffles;

VNNI512 static __m512i byte_shuffle(int lo, int hi) {
    int32_t v[16];
    for (int r = 0; r < 16; r++) {
        const uint32_t o = 4u * (uint32_t)(r % 4); /* the row's dword within its 128-bit lane */
        v[r] = (int32_t)(0x80u | (o + (uint32_t)lo) << 8 | 0x80u << 16 | (o + (uint32_t)hi) << 24);
    }
    return _mm512_loadu_si512(v);
}

/* The bytes `pick` selects from each row's dword, as signed 16-bit values
 * times 2^(8 - shift). */
VNNI512 INLINE __m512i pick16(__m512i v, __m512i pick, int shift) {
    return _mm512_srai_epi16(_mm512_shuffle_epi8(v, pick), shift);
}

/* Codes 0..63 of elements 32G + 4L .. +3 of every row (G = 4h + g, L =
 * 4j + i): the low (g < 2) or high nibbles of the ql chunk (the run's
 * first four for even g, last four for odd g) and bit pair g of the qh
 * chunk of run 2j + h (quant/interleave.h). */
VNNI512 INLINE __m512i codes(const char *blk, int G, int L) {
    const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30);
    const int h = G / 4, g = G % 4, run = SC_CHUNKS + RUN * (2 * (L / 4) + h), i = L % 4;
    __m512i lo = chunk(blk, run + 8 * (g % 2) + i), hi = chunk(blk, run + 4 + i);
    if (g >= 2) lo = _mm512_srli_epi16(lo, 4);
    hi = g < 2 ? _mm512_slli_epi16(hi, 4 - 2 * g) : g == 3 ? _mm512_srli_epi16(hi, 2) : hi;
    return _mm512_or_si512(_mm512_and_si512(lo, m4), _mm512_and_si512(hi, m30));
}

/* One group (16 rows, nb super-blocks at w) against nt tokens (rows of xs
 * bytes of Q8_K at x); out[j] lane r = the dot of row r and token j. */
VNNI512 INLINE void group_body(int nb, const char *w, const char *x, size_t xs, const int nt, const shuffles *sh,
                               __m512 out[NT]) {
    const int nl = nt == 1 ? 4 : nt == 2 ? 2 : 1; /* lanes L at a time: independent chains of vpdpwssd */
    const __m512i zero = _mm512_setzero_si512();
    __m512 acc[NT][LANES];
#pragma GCC unroll 4
    for (int j = 0; j < nt; j++)
#pragma GCC unroll 8
        for (int l = 0; l < LANES; l++) acc[j][l] = _mm512_setzero_ps();
    const char *dws = w + (size_t)nb * SB; /* the d's: 32 bytes per super-block */
    for (int b = 0; b < nb; b++) {
        const char *blk = w + (size_t)b * SB;
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(dws + 32 * b)));
        const umi_block_q8_K *a[NT];
        __m512 dd[NT];
#pragma GCC unroll 4
        for (int j = 0; j < nt; j++) {
            a[j] = (const umi_block_q8_K *)(const void *)(x + (size_t)j * xs) + b;
            dd[j] = _mm512_mul_ps(_mm512_set1_ps(a[j]->d), dw);
        }
        __m512i sw[4]; /* scales[4i .. 4i+3] of every row */
#pragma GCC unroll 4
        for (int i = 0; i < 4; i++) sw[i] = chunk(blk, i);
        /* Lanes 0-3 take the scale of 16-group 2G of each 32-group G, lanes 4-7 that of 2G + 1. */
#pragma GCC unroll 2
        for (int p = 0; p < 2; p++) {
            __m512i sc[8];
#pragma GCC unroll 8
            for (int G = 0; G < 8; G++) sc[G] = pick16(sw[G / 2], sh->one[2 * (G % 2) + p], 8);
#pragma GCC unroll 4
            for (int L0 = 4 * p; L0 < 4 * p + 4; L0 += nl) {
                /* pass L0 / nl of 8 / nl: its share of the super-block PF_SB ahead (above) */
                const int per = (CHUNKS + 8 / nl - 1) / (8 / nl), c0 = L0 / nl * per;
                for (int c = c0; c < c0 + per && c < CHUNKS; c++) _mm_prefetch(blk + PF_SB * SB + 64 * c, _MM_HINT_T1);
                __m512i is[4][NT];
#pragma GCC unroll 4
                for (int i = 0; i < nl; i++) {
                    /* the offset first: (-32 sc[2L], -32 sc[2L+1]) . (bsums[2L], bsums[2L+1]) */
                    const int L = L0 + i;
                    const __m512i nsc = _mm512_sub_epi16(zero, pick16(sw[L / 2], sh->pair[L % 2], 3));
#pragma GCC unroll 4
                    for (int j = 0; j < nt; j++)
                        is[i][j] = _mm512_dpwssd_epi32(zero, nsc, bcast4(a[j]->bsums + 2 * L));
                }
#pragma GCC unroll 8
                for (int G = 0; G < 8; G++)
#pragma GCC unroll 4
                    for (int i = 0; i < nl; i++) {
                        const __m512i q = codes(blk, G, L0 + i);
#pragma GCC unroll 4
                        for (int j = 0; j < nt; j++)
                            is[i][j] = _mm512_dpwssd_epi32(
                                is[i][j], _mm512_maddubs_epi16(q, bcast4(a[j]->qs + 32 * G + 4 * (L0 + i))), sc[G]);
                    }
#pragma GCC unroll 4
                for (int i = 0; i < nl; i++)
#pragma GCC unroll 4
                    for (int j = 0; j < nt; j++)
                        acc[j][L0 + i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is[i][j]), dd[j], acc[j][L0 + i]);
            }
        }
    }
    /* reduce8: (L + L+4), then (0+2) + (1+3) */
#pragma GCC unroll 4
    for (int j = 0; j < nt; j++) {
        __m512 h[4];
#pragma GCC unroll 4
        for (int l = 0; l < 4; l++) h[l] = _mm512_add_ps(acc[j][l + 4], acc[j][l]);
        out[j] = _mm512_add_ps(_mm512_add_ps(h[0], h[2]), _mm512_add_ps(h[1], h[3]));
    }
}

/* Tokens NT at a time (nt a constant in each call, so the accumulators
 * stay in registers where they fit); the group's weights are read again
 * from cache for each further NT. Rows past rm are computed and not stored. */
VNNI512 static void tile_q6_K_x16_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    (void)ws;
    const int nb = k / UMI_QK_K;
    const __mmask16 keep = (__mmask16)((1u << rm) - 1);
    shuffles sh;
    for (int i = 0; i < 4; i++) sh.one[i] = byte_shuffle(i, i);
    for (int i = 0; i < 2; i++) sh.pair[i] = byte_shuffle(2 * i, 2 * i + 1);
    for (int j0 = 0; j0 < rn; j0 += NT) {
        const int nt = rn - j0 < NT ? rn - j0 : NT;
        const char *xj = (const char *)x + (size_t)j0 * xs;
        __m512 out[NT];
        switch (nt) {
        case 1: group_body(nb, w, xj, xs, 1, &sh, out); break;
        case 2: group_body(nb, w, xj, xs, 2, &sh, out); break;
        case 3: group_body(nb, w, xj, xs, 3, &sh, out); break;
        default: group_body(nb, w, xj, xs, 4, &sh, out); break;
        }
        for (int j = 0; j < nt; j++) _mm512_mask_storeu_ps(y + (size_t)(j0 + j) * ys, keep, out[j]);
    }
}

umi_tile_fn umi_kernels_layout_tile_q6_K(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_AVX512 || !umi_cpu_features_get()->avx512vnni || oracle != umi_tile_q6_K_x16)
        return NULL;
    *tile_m = UMI_X16_ROWS, *tile_n = TILE_N;
    return tile_q6_K_x16_512;
}

#else

umi_tile_fn umi_kernels_layout_tile_q6_K(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n) {
    (void)oracle, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
