/* x86 SIMD twins and tiles of the legacy ordered dots (legacy.c) and of its
 * activation quantizers: each gives exactly the bits of its scalar twin
 * (tests/unit/test_kernels_x86_legacy.c).
 *
 * Integer sums are exact in any order, so the SIMD code is free in how it
 * forms a block's (or a lane's) integer sum; the float steps (the scale
 * products, the fused multiply-adds, the lane reductions) follow the scalar
 * code one for one. Functions carry target attributes, so the file builds
 * without -march=native and runs only where the CPU has the features.
 *
 *   twins (AVX2, used at both x86 levels): every dot of legacy.c
 *   tiles: "lanes8" order, AVX-512 VNNI, 4 rows x 8 tokens (two tokens per
 *          register); Q8_0's (64 rows x 8 tokens) is in x86_q8_0_tile.c;
 *          "blocks" order (repacked-layout Q4_0 / IQ4_NL), AVX-512 VNNI,
 *          16 rows x up to 8 tokens on the file's layout (on X16 groups:
 *          x86_x16.c), and on X16 groups (quant/interleave.h) AVX2, 16 rows
 *          x up to 4 tokens; "lanes8" order, AVX2, 4 rows x 4 tokens */
#include "kernels/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "kernels/legacy.h"
#include "kernels/x86_reduce.h"
#include "kernels/q8_0_tile.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

enum { QK = 32 };

typedef enum kind { Q4_0, Q5_0, IQ4_NL, Q4_1, Q5_1, Q8_0 } kind;

static size_t block_size(kind t) {
    switch (t) {
    case Q4_0: return sizeof(umi_block_q4_0);
    case Q5_0: return sizeof(umi_block_q5_0);
    case IQ4_NL: return sizeof(umi_block_iq4_nl);
    case Q4_1: return sizeof(umi_block_q4_1);
    case Q5_1: return sizeof(umi_block_q5_1);
    case Q8_0: return sizeof(umi_block_q8_0);
    }
    return 0;
}

/* The _1 types carry an offset and pair with Q8_1 activations. */
static inline bool is_type_1(kind t) {
    return t == Q4_1 || t == Q5_1;
}

AVX2 static inline float half(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return umi_fp16_to_fp32_f16c(h);
}

/* ---------------------------------------------------------------- horizontal sums */

AVX2 INLINE int32_t hsum8_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_extracti128_si256(v, 1), _mm256_castsi256_si128(v));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* ---------------------------------------------------------------- weight blocks as bytes */

/* The 32 nibbles of qs in element order: low nibbles (elements 0..15),
 * then high nibbles (16..31). */
AVX2 INLINE __m256i nibbles32(const uint8_t *qs) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

/* Byte j = 0x10 when bit j of the little-endian 32-bit qh is set. */
AVX2 INLINE __m256i high_bits32(const uint8_t qh[4]) {
    uint32_t h;
    memcpy(&h, qh, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)h), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                                    2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

/* One block's 32 levels, element j at byte j (signed for the _0 types and
 * IQ4_NL, unsigned for the _1 types), as legacy.c's unpack_* give them;
 * *d gets the scale, *m the _1 types' offset. */
AVX2 INLINE __m256i unpack(kind t, const void *vb, float *d, float *m) {
    switch (t) {
    case Q4_0: {
        const umi_block_q4_0 *b = vb;
        *d = umi_fp16_to_fp32_f16c(b->d);
        return _mm256_sub_epi8(nibbles32(b->qs), _mm256_set1_epi8(8));
    }
    case Q5_0: {
        const umi_block_q5_0 *b = vb;
        *d = umi_fp16_to_fp32_f16c(b->d);
        const __m256i q = _mm256_or_si256(nibbles32(b->qs), high_bits32(b->qh));
        return _mm256_sub_epi8(q, _mm256_set1_epi8(16));
    }
    case IQ4_NL: {
        const umi_block_iq4_nl *b = vb;
        *d = umi_fp16_to_fp32_f16c(b->d);
        const __m128i tab = _mm_loadu_si128((const __m128i *)umi_iq4nl_values);
        return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(tab), nibbles32(b->qs));
    }
    case Q4_1: {
        const umi_block_q4_1 *b = vb;
        *d = umi_fp16_to_fp32_f16c(b->d), *m = umi_fp16_to_fp32_f16c(b->m);
        return nibbles32(b->qs);
    }
    case Q5_1: {
        const umi_block_q5_1 *b = vb;
        *d = umi_fp16_to_fp32_f16c(b->d), *m = umi_fp16_to_fp32_f16c(b->m);
        return _mm256_or_si256(nibbles32(b->qs), high_bits32(b->qh));
    }
    case Q8_0: {
        const umi_block_q8_0 *b = vb;
        *d = umi_fp16_to_fp32_f16c(b->d);
        return _mm256_loadu_si256((const __m256i *)b->qs);
    }
    }
    return _mm256_setzero_si256();
}

/* Lane l = the integer sum of products 4l..4l+3. Signed w: |w| times a with
 * w's sign (|w| <= 127, and the quantizers never write -128, so no pair of
 * products saturates), then pairs of pairs. */
AVX2 INLINE __m256i lane_sums(kind t, __m256i w, __m256i a) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (is_type_1(t)) return _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), ones);
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
    return _mm256_madd_epi16(p, ones);
}

/* ---------------------------------------------------------------- twins: lanes8 order */

/* legacy.c's lanes8_0 / lanes8_1: per block acc = fma(dw*dx, lane sums,
 * acc) in 8 lanes; the _1 types add summs = fma(m, s, summs) after the
 * reduction. */
AVX2 INLINE float lanes8(kind t, int k, const void *vw, const void *vx) {
    const char *w = vw, *x = vx;
    const size_t bs = block_size(t);
    const size_t xs = is_type_1(t) ? sizeof(umi_block_q8_1) : sizeof(umi_block_q8_0);
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int b = 0; b < k / QK; b++) {
        float dw, m = 0.0f;
        const __m256i q = unpack(t, w + b * bs, &dw, &m);
        const char *xb = x + b * xs;
        const float d = dw * half(xb);
        if (is_type_1(t)) summs = fmaf(m, half(xb + 2), summs);
        const __m256i a = _mm256_loadu_si256((const __m256i *)(xb + xs - QK));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lane_sums(t, q, a)), acc);
    }
    return is_type_1(t) ? umi_hsum8_ps(acc) + summs : umi_hsum8_ps(acc);
}

AVX2 static float dot_q4_0_lanes8(int k, const void *w, const void *x) { return lanes8(Q4_0, k, w, x); }
AVX2 static float dot_q5_0_lanes8(int k, const void *w, const void *x) { return lanes8(Q5_0, k, w, x); }
AVX2 static float dot_iq4_nl_lanes8(int k, const void *w, const void *x) { return lanes8(IQ4_NL, k, w, x); }
AVX2 static float dot_q4_1_lanes8(int k, const void *w, const void *x) { return lanes8(Q4_1, k, w, x); }
AVX2 static float dot_q5_1_lanes8(int k, const void *w, const void *x) { return lanes8(Q5_1, k, w, x); }

/* ---------------------------------------------------------------- twins: blocks order */

/* legacy.c's blocks_0: acc = fma(float(block sum), dw*dx, acc), block after
 * block. Eight blocks' integer sums are formed at once, then fed to the
 * chain in order. */
AVX2 INLINE float blocks(kind t, int k, const void *vw, const void *vx) {
    const char *w = vw;
    const umi_block_q8_0 *x = vx;
    const size_t bs = block_size(t);
    const int nb = k / QK;
    float acc = 0.0f, m;
    int b = 0;
    for (; b + 8 <= nb; b += 8) {
        __m256i s[8];
        float d[8], sf[8];
        for (int i = 0; i < 8; i++) {
            const __m256i q = unpack(t, w + (b + i) * bs, &d[i], &m);
            d[i] *= umi_fp16_to_fp32_f16c(x[b + i].d);
            s[i] = lane_sums(t, q, _mm256_loadu_si256((const __m256i *)x[b + i].qs));
        }
        _mm256_storeu_ps(sf, _mm256_cvtepi32_ps(umi_reduce8x8_epi32(s)));
        for (int i = 0; i < 8; i++) acc = fmaf(sf[i], d[i], acc);
    }
    for (; b < nb; b++) {
        float d;
        const __m256i q = unpack(t, w + b * bs, &d, &m);
        d *= umi_fp16_to_fp32_f16c(x[b].d);
        const int32_t s = hsum8_epi32(lane_sums(t, q, _mm256_loadu_si256((const __m256i *)x[b].qs)));
        acc = fmaf((float)s, d, acc);
    }
    return acc;
}

AVX2 static float dot_q4_0_blocks(int k, const void *w, const void *x) { return blocks(Q4_0, k, w, x); }
AVX2 static float dot_iq4_nl_blocks(int k, const void *w, const void *x) { return blocks(IQ4_NL, k, w, x); }

/* ---------------------------------------------------------------- twins: IQ4_NL vector dot */

/* legacy.c's umi_dot_iq4_nl_vec: even and odd blocks to two sets of 8
 * lanes, added lane by lane before the reduction; an odd last block's
 * block sum times d is added after it, unfused. */
AVX2 static float dot_iq4_nl_vec(int k, const void *vw, const void *vx) {
    const umi_block_iq4_nl *w = vw;
    const umi_block_q8_0 *x = vx;
    const int nb = k / QK;
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    float dw, m;
    int b = 0;
    for (; b + 1 < nb; b += 2)
        for (int h = 0; h < 2; h++) {
            const __m256i q = unpack(IQ4_NL, &w[b + h], &dw, &m);
            const float d = umi_fp16_to_fp32_f16c(x[b + h].d) * dw;
            const __m256i s = lane_sums(IQ4_NL, q, _mm256_loadu_si256((const __m256i *)x[b + h].qs));
            acc[h] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(s), acc[h]);
        }
    float sum = umi_hsum8_ps(_mm256_add_ps(acc[0], acc[1]));
    if (b < nb) {
        const __m256i q = unpack(IQ4_NL, &w[b], &dw, &m);
        const float d = umi_fp16_to_fp32_f16c(x[b].d) * dw;
        const int32_t s = hsum8_epi32(lane_sums(IQ4_NL, q, _mm256_loadu_si256((const __m256i *)x[b].qs)));
        const float p = (float)s * d;
        sum = sum + p;
    }
    return sum;
}

static const struct twin {
    umi_dot_fn scalar, simd;
} TWINS[] = {
    {umi_dot_q4_0_lanes8, dot_q4_0_lanes8},     {umi_dot_q5_0_lanes8, dot_q5_0_lanes8},
    {umi_dot_iq4_nl_lanes8, dot_iq4_nl_lanes8}, {umi_dot_q4_1_lanes8, dot_q4_1_lanes8},
    {umi_dot_q5_1_lanes8, dot_q5_1_lanes8},     {umi_dot_q4_0_blocks, dot_q4_0_blocks},
    {umi_dot_iq4_nl_blocks, dot_iq4_nl_blocks}, {umi_dot_iq4_nl_vec, dot_iq4_nl_vec},
};

static umi_dot_fn twin_of(umi_dot_fn scalar) {
    for (size_t i = 0; i < sizeof TWINS / sizeof *TWINS; i++)
        if (TWINS[i].scalar == scalar) return TWINS[i].simd;
    return NULL;
}

umi_dot_fn umi_kernels_simd_twin_legacy(umi_dot_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_AVX2 && cpu_level != UMI_CPU_AVX512) return NULL;
    return twin_of(scalar);
}

/* ---------------------------------------------------------------- tiles: lanes8 order */

enum { L8_M = 4, L8_N = 4 };

/* 4 rows x 4 tokens: each weight block is unpacked once for 4 tokens, each
 * activation block loaded once for 4 rows; every element follows lanes8(). */
AVX2 INLINE void tile_lanes8(kind t, umi_dot_fn dot, int k, const char *w, size_t ws, int rm,
                             const char *x, size_t xs, int rn, float *y, size_t ys) {
    if (rm != L8_M || rn != L8_N) {
        umi_tile_edge(dot, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const size_t bs = block_size(t);
    const size_t xbs = is_type_1(t) ? sizeof(umi_block_q8_1) : sizeof(umi_block_q8_0);
    __m256 acc[L8_M][L8_N];
    float summs[L8_M][L8_N] = {{0}};
    _Pragma("GCC unroll 4")
    for (int i = 0; i < L8_M; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < L8_N; j++) acc[i][j] = _mm256_setzero_ps();
    for (int b = 0; b < k / QK; b++) {
        __m256i q[L8_M];
        float dw[L8_M], m[L8_M] = {0};
        _Pragma("GCC unroll 4")
        for (int i = 0; i < L8_M; i++) q[i] = unpack(t, w + i * ws + b * bs, &dw[i], &m[i]);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < L8_N; j++) {
            const char *xb = x + j * xs + b * xbs;
            const float dx = half(xb);
            const __m256i a = _mm256_loadu_si256((const __m256i *)(xb + xbs - QK));
            if (is_type_1(t)) {
                const float s = half(xb + 2);
                _Pragma("GCC unroll 4")
                for (int i = 0; i < L8_M; i++) summs[i][j] = fmaf(m[i], s, summs[i][j]);
            }
            _Pragma("GCC unroll 4")
            for (int i = 0; i < L8_M; i++)
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dw[i] * dx), _mm256_cvtepi32_ps(lane_sums(t, q[i], a)),
                                            acc[i][j]);
        }
    }
    _Pragma("GCC unroll 4")
    for (int j = 0; j < L8_N; j++)
        _Pragma("GCC unroll 4")
        for (int i = 0; i < L8_M; i++)
            y[j * ys + i] = is_type_1(t) ? umi_hsum8_ps(acc[i][j]) + summs[i][j] : umi_hsum8_ps(acc[i][j]);
}

#define TILE_LANES8(name, t, dot)                                                                     \
    AVX2 static void name(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, \
                          float *y, size_t ys) {                                                      \
        tile_lanes8(t, dot, k, w, ws, rm, x, xs, rn, y, ys);                                          \
    }
TILE_LANES8(tile_q4_0_lanes8, Q4_0, dot_q4_0_lanes8)
TILE_LANES8(tile_q5_0_lanes8, Q5_0, dot_q5_0_lanes8)
TILE_LANES8(tile_iq4_nl_lanes8, IQ4_NL, dot_iq4_nl_lanes8)
TILE_LANES8(tile_q4_1_lanes8, Q4_1, dot_q4_1_lanes8)
TILE_LANES8(tile_q5_1_lanes8, Q5_1, dot_q5_1_lanes8)

/* ---------------------------------------------------------------- tiles: lanes8 order (AVX-512 VNNI)
 *
 * 4 rows x 8 tokens: a register holds one row's 8 lanes for two tokens
 * (tokens 2p and 2p+1 in its 256-bit halves), so each dpbusd serves two
 * (row, token) pairs. Every type's levels enter as signed bytes w (unpack)
 * and the activations as unsigned a + 128, each lane starting from -128 x
 * (its 4 weights' sum): the same exact integer lane sums as lane_sums(), so
 * the float steps, fma(dw*dx, lanes, acc) per lane and hsum8 per token
 * (plus the _1 types' summs), are lanes8()'s. */

enum { LV_M = 4, LV_N = 8 };

VNNI512 INLINE void tile_lanes8_vnni(kind t, umi_dot_fn dot, int k, const char *w, size_t ws, int rm,
                                     const char *x, size_t xs, int rn, float *y, size_t ys) {
    if (rm != LV_M || rn != LV_N) {
        umi_tile_edge(dot, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const size_t bs = block_size(t);
    const size_t xbs = is_type_1(t) ? sizeof(umi_block_q8_1) : sizeof(umi_block_q8_0);
    const __m256i ones = _mm256_set1_epi8(1);
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc[LV_M][LV_N / 2];
    float summs[LV_M][LV_N] = {{0}};
    _Pragma("GCC unroll 4")
    for (int i = 0; i < LV_M; i++)
        _Pragma("GCC unroll 4")
        for (int p = 0; p < LV_N / 2; p++) acc[i][p] = _mm512_setzero_ps();
    for (int b = 0; b < k / QK; b++) {
        __m512i wq[LV_M], wneg[LV_M];
        __m512 dwv[LV_M];
        float m[LV_M] = {0};
        _Pragma("GCC unroll 4")
        for (int i = 0; i < LV_M; i++) {
            float dw;
            const __m256i q = unpack(t, w + i * ws + b * bs, &dw, &m[i]);
            const __m256i sum = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, q);
            wq[i] = _mm512_broadcast_i64x4(q);
            wneg[i] = _mm512_broadcast_i64x4(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sum, 7)));
            dwv[i] = _mm512_set1_ps(dw);
        }
        _Pragma("GCC unroll 4")
        for (int p = 0; p < LV_N / 2; p++) {
            const char *x0 = x + (size_t)(2 * p) * xs + b * xbs, *x1 = x0 + xs;
            const __m512i a = _mm512_xor_si512(
                _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(x0 + xbs - QK))),
                                   _mm256_loadu_si256((const __m256i *)(x1 + xbs - QK)), 1),
                flip);
            const __m512 dx = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_set1_ps(half(x0))),
                                                                  _mm256_castps_pd(_mm256_set1_ps(half(x1))), 1));
            if (is_type_1(t)) {
                const float s0 = half(x0 + 2), s1 = half(x1 + 2);
                _Pragma("GCC unroll 4")
                for (int i = 0; i < LV_M; i++) {
                    summs[i][2 * p] = fmaf(m[i], s0, summs[i][2 * p]);
                    summs[i][2 * p + 1] = fmaf(m[i], s1, summs[i][2 * p + 1]);
                }
            }
            _Pragma("GCC unroll 4")
            for (int i = 0; i < LV_M; i++) {
                const __m512i s = _mm512_dpbusd_epi32(wneg[i], a, wq[i]);
                acc[i][p] = _mm512_fmadd_ps(_mm512_mul_ps(dwv[i], dx), _mm512_cvtepi32_ps(s), acc[i][p]);
            }
        }
    }
    _Pragma("GCC unroll 4")
    for (int p = 0; p < LV_N / 2; p++)
        _Pragma("GCC unroll 4")
        for (int i = 0; i < LV_M; i++)
            _Pragma("GCC unroll 2")
            for (int h = 0; h < 2; h++) {
                const __m256 v = h ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[i][p]), 1)) : _mm512_castps512_ps256(acc[i][p]);
                const float r = umi_hsum8_ps(v);
                y[(2 * p + h) * ys + i] = is_type_1(t) ? r + summs[i][2 * p + h] : r;
            }
}

#define TILE_LANES8_VNNI(name, t, dot)                                                                   \
    VNNI512 static void name(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, \
                             float *y, size_t ys) {                                                      \
        tile_lanes8_vnni(t, dot, k, w, ws, rm, x, xs, rn, y, ys);                                        \
    }
TILE_LANES8_VNNI(tile_q4_0_lanes8_vnni, Q4_0, dot_q4_0_lanes8)
TILE_LANES8_VNNI(tile_q5_0_lanes8_vnni, Q5_0, dot_q5_0_lanes8)
TILE_LANES8_VNNI(tile_iq4_nl_lanes8_vnni, IQ4_NL, dot_iq4_nl_lanes8)
TILE_LANES8_VNNI(tile_q4_1_lanes8_vnni, Q4_1, dot_q4_1_lanes8)
TILE_LANES8_VNNI(tile_q5_1_lanes8_vnni, Q5_1, dot_q5_1_lanes8)

/* ---------------------------------------------------------------- tiles: blocks order (AVX-512 VNNI)
 *
 * 16 weight rows x up to 8 tokens, one float lane per weight row: the
 * accumulator of token j holds the 16 rows' chains acc = fma(block sum,
 * dw*dx, acc) side by side, so every lane follows blocks() exactly.
 *
 * The block sums come without horizontal adds: each block's 16 rows are
 * transposed so that lane p of vector g holds bytes 4g..4g+3 of row p's
 * levels; one dpbusd per g against the token's 4 activation bytes
 * broadcast then adds those 4 products into every row's lane. dpbusd
 * multiplies unsigned by signed bytes, so the levels enter as u = w + c
 * (Q4_0: the raw nibble, c = 8; IQ4_NL: the table value + 128) and c times
 * the block's activation sum is taken off: sum (u - c) a = sum u a - c sum a.
 *
 * Lane order: the transpose leaves row 4r + L in lane 4L + r; the scales
 * are read in that order and the results permuted back on the store. */

enum { BT_M = 16, BT_N = 8, BT_CHUNK = 32 };


/* Lane p holds row ROW_OF_LANE(p) (before clamping to the tile's rows). */
static inline int row_of_lane(int p) {
    return 4 * (p % 4) + p / 4;
}

VNNI512 INLINE void tile_blocks_body(kind t, int k, const char *w, size_t ws, int rm, const char *x,
                                     size_t xs, const int rn, float *y, size_t ys) {
    const size_t bs = sizeof(umi_block_q4_0), xbs = sizeof(umi_block_q8_0);
    const int nb = k / QK, shift = t == Q4_0 ? 3 : 7; /* c = 8 or 128 */
    size_t roff[BT_M]; /* byte offsets of the rows, the last repeated past rm */
    #pragma GCC unroll 8
    for (int i = 0; i < BT_M; i++) roff[i] = (size_t)(i < rm ? i : rm - 1) * ws;
    const __m512i lo4 = _mm512_set1_epi8(0x0f);
    const __m512i table = _mm512_xor_si512(
        _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)umi_iq4nl_values)), _mm512_set1_epi8(-128));
    const __m256i ones8 = _mm256_set1_epi8(1);
    /* Dword selections from pairs of Z vectors (see the block loop). */
    const __m512i qs_idx = _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    const __m512i d_idx1 = _mm512_setr_epi32(3, 11, 19, 27, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i d_idx2 = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 0, 0, 0, 0, 0, 0, 0, 0);
    int32_t lane_src[BT_M];
    for (int p = 0; p < BT_M; p++) lane_src[p] = row_of_lane(p) < 8 ? row_of_lane(p) : 16 + row_of_lane(p) - 8;
    const __m512i d_idx3 = _mm512_loadu_si512(lane_src);
    __m512 acc[BT_N];
    #pragma GCC unroll 8
    for (int j = 0; j < rn; j++) acc[j] = _mm512_setzero_ps();

    for (int b0 = 0; b0 < nb; b0 += BT_CHUNK) {
        const int nc = nb - b0 < BT_CHUNK ? nb - b0 : BT_CHUNK;
        /* Per token and block: c * (sum of the activations), and dx. */
        int32_t csum[BT_N][BT_CHUNK];
        float dx[BT_N][BT_CHUNK];
        #pragma GCC unroll 8
        for (int j = 0; j < rn; j++) {
            const umi_block_q8_0 *xj = (const umi_block_q8_0 *)(x + j * xs) + b0;
            for (int c0 = 0; c0 < nc; c0 += 8) {
                __m256i v[8];
                #pragma GCC unroll 8
                for (int i = 0; i < 8; i++)
                    v[i] = c0 + i < nc ? _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones8,
                                                             _mm256_loadu_si256((const __m256i *)xj[c0 + i].qs))
                                       : _mm256_setzero_si256();
                _mm256_storeu_si256((__m256i *)&csum[j][c0], _mm256_slli_epi32(umi_reduce8x8_epi32(v), shift));
            }
            for (int c = 0; c < nc; c++) dx[j][c] = _cvtsh_ss(xj[c].d);
        }
        for (int c = 0; c < nc; c++) {
            __m512 dw;
            __m512i T[4];
            {
            /* Row i's block as the last 18 bytes of a 32-byte masked load
             * (no byte outside the block is read): d in bytes 14..15, the
             * quants in 16..31. Z[h] holds rows 2h and 2h+1. */
            const char *wend = w + (size_t)(b0 + c + 1) * bs - 32;
            __m512i Z[8];
#pragma GCC unroll 8
            for (int h = 0; h < 8; h++) {
                const __m256i lo = _mm256_maskz_loadu_epi8(0xffffc000u, wend + roff[2 * h]);
                const __m256i hi = _mm256_maskz_loadu_epi8(0xffffc000u, wend + roff[2 * h + 1]);
                Z[h] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            }
            /* A[r]: rows 4r..4r+3, one row's 16 quant bytes per 128-bit lane. */
            __m512i A[4], E[4];
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                A[r] = _mm512_permutex2var_epi32(Z[2 * r], qs_idx, Z[2 * r + 1]);
                E[r] = _mm512_permutex2var_epi32(Z[2 * r], d_idx1, Z[2 * r + 1]); /* rows 4r.. in 0..3 */
            }
            const __m512i F0 = _mm512_permutex2var_epi32(E[0], d_idx2, E[1]); /* rows 0..7 */
            const __m512i F1 = _mm512_permutex2var_epi32(E[2], d_idx2, E[3]); /* rows 8..15 */
            const __m512i G = _mm512_permutex2var_epi32(F0, d_idx3, F1);      /* lane order */
            dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(G, 16)));
            /* 4x4 dword transpose in every 128-bit lane: T[d] lane 4L + r =
             * dword d of row 4r + L. */
            const __m512i t0 = _mm512_unpacklo_epi32(A[0], A[1]), t1 = _mm512_unpackhi_epi32(A[0], A[1]);
            const __m512i t2 = _mm512_unpacklo_epi32(A[2], A[3]), t3 = _mm512_unpackhi_epi32(A[2], A[3]);
            T[0] = _mm512_unpacklo_epi64(t0, t2), T[1] = _mm512_unpackhi_epi64(t0, t2);
            T[2] = _mm512_unpacklo_epi64(t1, t3), T[3] = _mm512_unpackhi_epi64(t1, t3);
            }
            /* Group g < 4: low nibbles of dword g (elements 4g..4g+3);
             * g >= 4: its high nibbles (elements 16 + 4(g-4) ..). */
            __m512i u[8];
            #pragma GCC unroll 8
            for (int d = 0; d < 4; d++) {
                u[d] = _mm512_and_si512(T[d], lo4);
                u[d + 4] = _mm512_and_si512(_mm512_srli_epi16(T[d], 4), lo4);
                if (t == IQ4_NL) {
                    u[d] = _mm512_shuffle_epi8(table, u[d]);
                    u[d + 4] = _mm512_shuffle_epi8(table, u[d + 4]);
                }
            }
            #pragma GCC unroll 8
            for (int j = 0; j < rn; j++) {
                acc[j] = umi_block_step_vnni(u, x + j * xs + (size_t)(b0 + c) * xbs + 2, -csum[j][c], dw, dx[j][c],
                                             acc[j]);
            }
        }
    }
    int32_t perm[BT_M];
    #pragma GCC unroll 8
    for (int i = 0; i < BT_M; i++) perm[i] = 4 * (i % 4) + i / 4; /* lane of row i */
    const __m512i back = _mm512_loadu_si512(perm);
    const __mmask16 keep = (__mmask16)((1u << rm) - 1);
    #pragma GCC unroll 8
    for (int j = 0; j < rn; j++) _mm512_mask_storeu_ps(y + j * ys, keep, _mm512_permutexvar_ps(back, acc[j]));
}

/* rn as a constant, so the accumulators live in registers. */
VNNI512 INLINE void tile_blocks(kind t, int k, const void *w, size_t ws, int rm, const void *x,
                                size_t xs, int rn, float *y, size_t ys) {
    switch (rn) {
    case 1: tile_blocks_body(t, k, w, ws, rm, x, xs, 1, y, ys); break;
    case 2: tile_blocks_body(t, k, w, ws, rm, x, xs, 2, y, ys); break;
    case 3: tile_blocks_body(t, k, w, ws, rm, x, xs, 3, y, ys); break;
    case 4: tile_blocks_body(t, k, w, ws, rm, x, xs, 4, y, ys); break;
    case 5: tile_blocks_body(t, k, w, ws, rm, x, xs, 5, y, ys); break;
    case 6: tile_blocks_body(t, k, w, ws, rm, x, xs, 6, y, ys); break;
    case 7: tile_blocks_body(t, k, w, ws, rm, x, xs, 7, y, ys); break;
    case 8: tile_blocks_body(t, k, w, ws, rm, x, xs, 8, y, ys); break;
    default: break;
    }
}

VNNI512 static void tile_q4_0_blocks(int k, const void *w, size_t ws, int rm, const void *x, size_t xs,
                                     int rn, float *y, size_t ys) {
    tile_blocks(Q4_0, k, w, ws, rm, x, xs, rn, y, ys);
}

VNNI512 static void tile_iq4_nl_blocks(int k, const void *w, size_t ws, int rm, const void *x, size_t xs,
                                       int rn, float *y, size_t ys) {
    tile_blocks(IQ4_NL, k, w, ws, rm, x, xs, rn, y, ys);
}

/* IQ4_NL's X16 tile for AVX2 (no VNNI), in the same blocks order: the 16
 * rows as two halves of 8 lanes; each lane's 4-byte group of signed levels
 * is dotted with the token's 4 activation bytes (sign trick, maddubs,
 * madd), the 8 groups summed to the block's exact integer sum. Q4_0's is
 * x86_x16_avx2.c. */
enum { X2_N = 4 };

AVX2 static void tile_iq4_nl_x16_avx2(int k, const void *vw, size_t ws, int rm, const void *vx, size_t xs, int rn,
                                     float *y, size_t ys) {
    (void)ws;
    const char *w = vw, *x = vx;
    const int nb = k / QK;
    const __m256i lo4 = _mm256_set1_epi8(0x0f), ones16 = _mm256_set1_epi16(1);
    const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)umi_iq4nl_values));
    for (int h = 0; h < 2 && 8 * h < rm; h++) {
        __m256 acc[X2_N];
        for (int j = 0; j < X2_N; j++) acc[j] = _mm256_setzero_ps();
        for (int b = 0; b < nb; b++) {
            const char *d16 = w + umi_x16_pair_d_at(256, b) + 16 * h;
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)d16));
            const char *q = w + umi_x16_pair_qs_at(256, nb, b) + 32 * h;
            __m256i lv[8]; /* group g < 4: low nibbles of dword g; g >= 4: its high nibbles */
            for (int d = 0; d < 4; d++) {
                const __m256i T = _mm256_loadu_si256((const __m256i *)(q + 64 * d));
                const __m256i n0 = _mm256_and_si256(T, lo4), n1 = _mm256_and_si256(_mm256_srli_epi16(T, 4), lo4);
                lv[d] = _mm256_shuffle_epi8(table, n0);
                lv[d + 4] = _mm256_shuffle_epi8(table, n1);
            }
            for (int j = 0; j < rn; j++) {
                const umi_block_q8_0 *xb = (const umi_block_q8_0 *)(x + j * xs) + b;
                const umi_i32_unaligned *a4 = (const umi_i32_unaligned *)xb->qs;
                __m256i s = _mm256_setzero_si256();
                for (int g = 0; g < 8; g++) {
                    const __m256i a = _mm256_set1_epi32(a4[g]);
                    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(lv[g], lv[g]), _mm256_sign_epi8(a, lv[g]));
                    s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones16));
                }
                const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(_cvtsh_ss(xb->d)));
                acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), d, acc[j]);
            }
        }
        for (int j = 0; j < rn; j++) {
            float v[8];
            _mm256_storeu_ps(v, acc[j]);
            for (int p = 0; p < 8 && 8 * h + p < rm; p++) y[j * ys + 8 * h + p] = v[p];
        }
    }
}


/* The tiles that read weights in an interleaved layout (quant/interleave.h),
 * keyed by their scalar oracles (legacy.h). */
umi_tile_fn umi_kernels_layout_tile_legacy(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level == UMI_CPU_AVX512 && umi_cpu_features_get()->avx512vnni)
        return umi_kernels_x16_tile_vnni(oracle, tile_m, tile_n); /* x86_x16.c */
    if (cpu_level != UMI_CPU_AVX2 && cpu_level != UMI_CPU_AVX512) return NULL;
    const umi_tile_fn q4_0 = umi_kernels_x16_tile_avx2(oracle, tile_m, tile_n); /* x86_x16_avx2.c */
    if (q4_0) return q4_0;
    *tile_m = BT_M, *tile_n = X2_N;
    if (oracle == umi_tile_iq4_nl_x16) return tile_iq4_nl_x16_avx2;
    return NULL;
}

/* ---------------------------------------------------------------- tile lookup */

umi_tile_fn umi_kernels_tile_for_legacy(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_AVX2 && cpu_level != UMI_CPU_AVX512) return NULL;
    const bool vnni = cpu_level == UMI_CPU_AVX512 && umi_cpu_features_get()->avx512vnni;
    static const struct {
        umi_dot_fn scalar;
        umi_tile_fn tile, vnni;
    } LANES8[] = {
        {umi_dot_q4_0_lanes8, tile_q4_0_lanes8, tile_q4_0_lanes8_vnni},
        {umi_dot_q5_0_lanes8, tile_q5_0_lanes8, tile_q5_0_lanes8_vnni},
        {umi_dot_iq4_nl_lanes8, tile_iq4_nl_lanes8, tile_iq4_nl_lanes8_vnni},
        {umi_dot_q4_1_lanes8, tile_q4_1_lanes8, tile_q4_1_lanes8_vnni},
        {umi_dot_q5_1_lanes8, tile_q5_1_lanes8, tile_q5_1_lanes8_vnni},
    };
    if (vnni && dot == umi_dot_q8_0_lanes8) { /* x86_q8_0_tile.c; AVX2: x86_tile.c */
        *tile_m = UMI_Q8_0_TILE_M, *tile_n = UMI_Q8_0_TILE_N;
        return umi_tile_q8_0_vnni;
    }
    for (size_t i = 0; i < sizeof LANES8 / sizeof *LANES8; i++)
        if (LANES8[i].scalar == dot && (vnni || LANES8[i].tile)) {
            if (vnni) *tile_m = LV_M, *tile_n = LV_N;
            else *tile_m = L8_M, *tile_n = L8_N;
            return vnni ? LANES8[i].vnni : LANES8[i].tile;
        }
    if (vnni && (dot == umi_dot_q4_0_blocks || dot == umi_dot_iq4_nl_blocks)) {
        *tile_m = BT_M, *tile_n = BT_N;
        return dot == umi_dot_q4_0_blocks ? tile_q4_0_blocks : tile_iq4_nl_blocks;
    }
    return NULL;
}

/* ---------------------------------------------------------------- activation quantizers */

/* The scalar umi_act_q8_0 / q8_1: amax (a maximum, exact in any order),
 * id = 127 / amax, q = x * id rounded half to even (cvtps, the default
 * rounding mode) and saturated to int8; the fp16 scales use the same
 * portable converter as the scalar code. Returns the 32 levels' sum. */
AVX2 INLINE int quantize_block(const float *x, int8_t *q, float *amax_out) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 v[4];
    for (int i = 0; i < 4; i++) v[i] = _mm256_loadu_ps(x + 8 * i);
    __m256 mx = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], abs_mask), _mm256_and_ps(v[1], abs_mask)),
                              _mm256_max_ps(_mm256_and_ps(v[2], abs_mask), _mm256_and_ps(v[3], abs_mask)));
    const float amax = umi_hmax8_ps(mx);
    *amax_out = amax;
    const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
    __m256i i32[4];
    for (int i = 0; i < 4; i++) i32[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id));
    /* packs interleave the 128-bit halves; the permute puts them back */
    const __m256i p16 = _mm256_packs_epi16(_mm256_packs_epi32(i32[0], i32[1]), _mm256_packs_epi32(i32[2], i32[3]));
    const __m256i p8 = _mm256_permutevar8x32_epi32(p16, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p8);
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), p8), _mm256_set1_epi16(1));
    return hsum8_epi32(s);
}

AVX2 static void act_q8_0_avx2(const float *x, void *vy, int64_t k) {
    umi_block_q8_0 *y = vy;
    for (int64_t i = 0; i < k / QK; i++, x += QK) {
        float amax;
        (void)quantize_block(x, y[i].qs, &amax);
        y[i].d = umi_fp32_to_fp16_f16c(amax / 127.0f);
    }
}

AVX2 static void act_q8_1_avx2(const float *x, void *vy, int64_t k) {
    umi_block_q8_1 *y = vy;
    for (int64_t i = 0; i < k / QK; i++, x += QK) {
        float amax;
        const int sum = quantize_block(x, y[i].qs, &amax);
        const float d = amax / 127.0f;
        y[i].d = umi_fp32_to_fp16_f16c(d);
        y[i].s = umi_fp32_to_fp16_f16c(d * (float)sum);
    }
}

umi_act_fn umi_kernels_simd_act_legacy(umi_act_fn scalar, int cpu_level) {
    if (cpu_level != UMI_CPU_AVX2 && cpu_level != UMI_CPU_AVX512) return NULL;
    if (scalar == umi_act_q8_0) return act_q8_0_avx2;
    if (scalar == umi_act_q8_1) return act_q8_1_avx2;
    return NULL;
}

#else

#if !(defined(__aarch64__) && defined(__ARM_NEON)) /* neon_quant.c has the ARM twins and tiles */
umi_dot_fn umi_kernels_simd_twin_legacy(umi_dot_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

umi_tile_fn umi_kernels_tile_for_legacy(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}
#endif

umi_act_fn umi_kernels_simd_act_legacy(umi_act_fn scalar, int cpu_level) {
    (void)scalar, (void)cpu_level;
    return NULL;
}

umi_tile_fn umi_kernels_layout_tile_legacy(umi_tile_fn oracle, int cpu_level, int *tile_m, int *tile_n) {
    (void)oracle, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
