/* The two inner loops of large-batch attention over an F16 KV cache, in the
 * reference's tiled flash-attention order (attention.c):
 *  - scores: per key row, a fused multiply-add chain over the head
 *    dimension, d ascending, from 0;
 *  - accumulation: per output element, a fused multiply-add chain over the
 *    tile's positions, ascending.
 * Each chain is sequential, so the SIMD versions put independent chains in
 * lanes (16 key rows; 16 output elements) and keep every chain's order:
 * identical bits (tests/unit/test_kernels.c). */
#include "kernels/kernels.h"

#include <math.h>

#include "core/cpu.h"
#include "core/fp16.h"

void umi_att_scores_f16(const uint16_t *kc, const int32_t *off, int n, const float *q, int nq, int hd, float *s,
                        int s_stride) {
    for (int a = 0; a < nq; a++)
        for (int i = 0; i < n; i++) {
            const uint16_t *kr = kc + off[i];
            float acc = 0.0f;
            for (int d = 0; d < hd; d++) acc = fmaf(umi_fp16_to_fp32(kr[d]), q[(size_t)a * hd + d], acc);
            s[(size_t)a * s_stride + i] = acc;
        }
}

void umi_att_accum_f16(const uint16_t *vc, const int32_t *off, int n, const float *p, int p_stride, int nq, int hd,
                       float *out) {
    for (int q = 0; q < nq; q++)
        for (int d = 0; d < hd; d++) {
            float a = out[(size_t)q * hd + d];
            for (int i = 0; i < n; i++) a = fmaf(umi_fp16_to_fp32(vc[off[i] + d]), p[(size_t)q * p_stride + i], a);
            out[(size_t)q * hd + d] = a;
        }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define AVX2 __attribute__((target("avx2,fma,f16c")))

/* 16 rows at a time: one gather fetches elements d and d + 1 of every row
 * (as the low and high halves of a 32-bit lane), for NQ queries at once. */
enum { MAX_NQ = 8 };

/* Elements [d0, d0 + 2 nw) of 16 rows (nw <= 16 pairs) transposed: lo[c]
 * and hi[c] hold elements d0 + 2c and d0 + 2c + 1 of rows 0..15, as halves.
 * Row loads and a 16 x 16 transpose of 32-bit pairs cost less than a
 * gather per pair. */
AVX512 static inline __attribute__((always_inline)) void transpose_rows(const uint16_t *kc, const int32_t *off, int d0,
                                                                        int nw, __m256i lo[16], __m256i hi[16]) {
    const __mmask16 m = (__mmask16)((1u << nw) - 1);
    __m512i r[16], t[16];
    _Pragma("GCC unroll 16")
    for (int i = 0; i < 16; i++) r[i] = _mm512_maskz_loadu_epi32(m, kc + off[i] + d0);
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    _Pragma("GCC unroll 4")
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    _Pragma("GCC unroll 2")
    for (int h = 0; h < 16; h += 8)
        _Pragma("GCC unroll 4")
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_i32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    _Pragma("GCC unroll 8")
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    }
    _Pragma("GCC unroll 16")
    for (int c = 0; c < 16; c++) {
        lo[c] = _mm512_cvtepi32_epi16(r[c]);
        hi[c] = _mm512_cvtepi32_epi16(_mm512_srli_epi32(r[c], 16));
    }
}

/* Rows off[0 .. 16 nb) against nq queries: s[a * s_stride + i]. */
AVX512 static inline __attribute__((always_inline)) void scores_512_rows(const uint16_t *kc, const int32_t *off,
                                                                         const float *q, const int nq, const int nb,
                                                                         int hd, float *s, int s_stride) {
    __m512 acc[2][MAX_NQ];
    __m256i lo[2][16], hi[2][16];
    _Pragma("GCC unroll 2")
    for (int b = 0; b < nb; b++)
        _Pragma("GCC unroll 8")
        for (int a = 0; a < nq; a++) acc[b][a] = _mm512_setzero_ps();
    int d0 = 0;
    for (; d0 + 2 <= hd; d0 += 32) {
        const int nw = (hd - d0) / 2 < 16 ? (hd - d0) / 2 : 16;
        _Pragma("GCC unroll 2")
        for (int b = 0; b < nb; b++) transpose_rows(kc, off + 16 * b, d0, nw, lo[b], hi[b]);
        for (int c = 0; c < nw; c++) {
            const int d = d0 + 2 * c;
            _Pragma("GCC unroll 2")
            for (int b = 0; b < nb; b++) {
                const __m512 l = _mm512_cvtph_ps(lo[b][c]), h = _mm512_cvtph_ps(hi[b][c]);
                _Pragma("GCC unroll 8")
                for (int a = 0; a < nq; a++) {
                    acc[b][a] = _mm512_fmadd_ps(l, _mm512_set1_ps(q[a * hd + d]), acc[b][a]);
                    acc[b][a] = _mm512_fmadd_ps(h, _mm512_set1_ps(q[a * hd + d + 1]), acc[b][a]);
                }
            }
        }
    }
    const int d = hd & ~1;
    _Pragma("GCC unroll 2")
    for (int b = 0; b < nb; b++) {
        if (d < hd) { /* odd head size: the last element alone (a pair would read past the row) */
            float v[16];
            for (int l = 0; l < 16; l++) v[l] = umi_fp16_to_fp32_f16c(kc[off[16 * b + l] + d]);
            const __m512 kv = _mm512_loadu_ps(v);
            _Pragma("GCC unroll 8")
            for (int a = 0; a < nq; a++) acc[b][a] = _mm512_fmadd_ps(kv, _mm512_set1_ps(q[a * hd + d]), acc[b][a]);
        }
        _Pragma("GCC unroll 8")
        for (int a = 0; a < nq; a++) _mm512_storeu_ps(s + (size_t)a * s_stride + 16 * b, acc[b][a]);
    }
}

/* nb blocks of 16 rows side by side, so that nb * nq chains (at most 8,
 * constants at every call, kept in registers) hide the multiply-add latency. */
AVX512 static inline __attribute__((always_inline)) void scores_512_nq(const uint16_t *kc, const int32_t *off,
                                                                       int n, const float *q, const int nq, int hd,
                                                                       float *s, int s_stride) {
    const int nb = nq <= 4 ? 2 : 1;
    int i = 0;
    for (; i + 16 <= n;) {
        const int nbi = i + 16 * nb <= n ? nb : 1;
        if (nbi == 2) scores_512_rows(kc, off + i, q, nq, 2, hd, s + i, s_stride), i += 32;
        else scores_512_rows(kc, off + i, q, nq, 1, hd, s + i, s_stride), i += 16;
    }
    if (i < n)
        for (int a = 0; a < nq; a++)
            umi_att_scores_f16(kc, off + i, n - i, q + (size_t)a * hd, 1, hd, s + (size_t)a * s_stride + i, 0);
}

AVX512 static void scores_512(const uint16_t *kc, const int32_t *off, int n, const float *q, int nq, int hd, float *s,
                              int s_stride) {
    for (int a = 0; a < nq;) { /* whole register sets of 8, 4, 2 or 1 queries */
        const float *qa = q + (size_t)a * hd;
        float *sa = s + (size_t)a * s_stride;
        if (nq - a >= 8) scores_512_nq(kc, off, n, qa, 8, hd, sa, s_stride), a += 8;
        else if (nq - a >= 4) scores_512_nq(kc, off, n, qa, 4, hd, sa, s_stride), a += 4;
        else if (nq - a >= 2) scores_512_nq(kc, off, n, qa, 2, hd, sa, s_stride), a += 2;
        else scores_512_nq(kc, off, n, qa, 1, hd, sa, s_stride), a += 1;
    }
}

/* Output elements 16 at a time for up to 4 queries: each V row is widened
 * once for all of them, and their chains run side by side, so the fused
 * multiply-adds of one position do not wait for the previous position's.
 * nq and nv are constants at every call, so the nq x nv accumulators (at
 * most 16) stay in registers; a partial last vector is masked. */
AVX512 static inline __attribute__((always_inline)) void accum_512_block(const uint16_t *vc, const int32_t *off, int n,
                                                                          const float *p, int p_stride, const int nq,
                                                                          const int nv, __mmask16 last, int hd,
                                                                          float *out) {
    __m512 acc[4][4];
    _Pragma("GCC unroll 4")
    for (int a = 0; a < nq; a++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            acc[a][v] = _mm512_maskz_loadu_ps(v == nv - 1 ? last : 0xffff, out + (size_t)a * hd + 16 * v);
    for (int i = 0; i < n; i++) {
        const uint16_t *vr = vc + off[i];
        __m512 vv[4];
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            vv[v] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(v == nv - 1 ? last : 0xffff, vr + 16 * v));
        _Pragma("GCC unroll 4")
        for (int a = 0; a < nq; a++) {
            const __m512 pv = _mm512_set1_ps(p[(size_t)a * p_stride + i]);
            _Pragma("GCC unroll 4")
            for (int v = 0; v < nv; v++) acc[a][v] = _mm512_fmadd_ps(vv[v], pv, acc[a][v]);
        }
    }
    _Pragma("GCC unroll 4")
    for (int a = 0; a < nq; a++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            _mm512_mask_storeu_ps(out + (size_t)a * hd + 16 * v, v == nv - 1 ? last : 0xffff, acc[a][v]);
}

/* Output elements [d0, d0 + 64) (fewer at the end of the row) of nq queries. */
AVX512 static inline __attribute__((always_inline)) void accum_512_nq(const uint16_t *vc, const int32_t *off, int n,
                                                                       const float *p, int p_stride, const int nq,
                                                                       int hd, float *out) {
    for (int d0 = 0; d0 < hd; d0 += 64) {
        const int nd = hd - d0 < 64 ? hd - d0 : 64;
        const __mmask16 last = (__mmask16)(nd % 16 ? (1u << (nd % 16)) - 1 : 0xffff);
        const uint16_t *vd = vc + d0;
        float *od = out + d0;
        switch ((nd + 15) / 16) {
        case 4: accum_512_block(vd, off, n, p, p_stride, nq, 4, last, hd, od); break;
        case 3: accum_512_block(vd, off, n, p, p_stride, nq, 3, last, hd, od); break;
        case 2: accum_512_block(vd, off, n, p, p_stride, nq, 2, last, hd, od); break;
        default: accum_512_block(vd, off, n, p, p_stride, nq, 1, last, hd, od); break;
        }
    }
}

AVX512 static void accum_512(const uint16_t *vc, const int32_t *off, int n, const float *p, int p_stride, int nq,
                             int hd, float *out) {
    for (int a = 0; a < nq;) { /* whole register sets of 4, 2 or 1 queries */
        const float *pa = p + (size_t)a * p_stride;
        float *oa = out + (size_t)a * hd;
        if (nq - a >= 4) accum_512_nq(vc, off, n, pa, p_stride, 4, hd, oa), a += 4;
        else if (nq - a >= 2) accum_512_nq(vc, off, n, pa, p_stride, 2, hd, oa), a += 2;
        else accum_512_nq(vc, off, n, pa, p_stride, 1, hd, oa), a += 1;
    }
}

/* AVX2: 8 rows per gather, 8 output elements per vector (the tail scalar). */
AVX2 static void scores_avx2_one(const uint16_t *kc, const int32_t *off, int n, const float *q, int hd, float *s) {
    int i = 0;
    const __m256i lo16 = _mm256_set1_epi32(0xffff);
    for (; i + 8 <= n; i += 8) {
        const __m256i idx = _mm256_slli_epi32(_mm256_loadu_si256((const __m256i *)(off + i)), 1);
        __m256 acc = _mm256_setzero_ps();
        int d = 0;
        for (; d + 2 <= hd; d += 2) {
            const __m256i g = _mm256_i32gather_epi32((const int *)(const void *)(kc + d), idx, 1);
            /* each half widened to a float's bits: a half in the low 16 bits of a lane */
            const __m256i l = _mm256_and_si256(g, lo16), h = _mm256_srli_epi32(g, 16);
            const __m128i l16 = _mm_packus_epi32(_mm256_castsi256_si128(l), _mm256_extracti128_si256(l, 1));
            const __m128i h16 = _mm_packus_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
            acc = _mm256_fmadd_ps(_mm256_cvtph_ps(l16), _mm256_set1_ps(q[d]), acc);
            acc = _mm256_fmadd_ps(_mm256_cvtph_ps(h16), _mm256_set1_ps(q[d + 1]), acc);
        }
        if (d < hd) {
            float v[8];
            for (int l = 0; l < 8; l++) v[l] = umi_fp16_to_fp32_f16c(kc[off[i + l] + d]);
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(v), _mm256_set1_ps(q[d]), acc);
        }
        _mm256_storeu_ps(s + i, acc);
    }
    if (i < n) umi_att_scores_f16(kc, off + i, n - i, q, 1, hd, s + i, 0);
}

AVX2 static void scores_avx2(const uint16_t *kc, const int32_t *off, int n, const float *q, int nq, int hd, float *s,
                             int s_stride) {
    for (int a = 0; a < nq; a++) scores_avx2_one(kc, off, n, q + (size_t)a * hd, hd, s + (size_t)a * s_stride);
}

AVX2 static void accum_avx2_one(const uint16_t *vc, const int32_t *off, int n, const float *p, int hd, float *out) {
    enum { NV = 8 };
    const int hd8 = hd - hd % 8;
    for (int d0 = 0; d0 < hd8; d0 += 8 * NV) {
        const int nv = (hd8 - d0) / 8 < NV ? (hd8 - d0) / 8 : NV;
        __m256 acc[NV];
        for (int v = 0; v < nv; v++) acc[v] = _mm256_loadu_ps(out + d0 + 8 * v);
        for (int i = 0; i < n; i++) {
            const uint16_t *vr = vc + off[i] + d0;
            const __m256 pv = _mm256_set1_ps(p[i]);
            for (int v = 0; v < nv; v++)
                acc[v] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vr + 8 * v))), pv, acc[v]);
        }
        for (int v = 0; v < nv; v++) _mm256_storeu_ps(out + d0 + 8 * v, acc[v]);
    }
    for (int d = hd8; d < hd; d++) { /* the last hd % 8 elements, as the scalar loop */
        float a = out[d];
        for (int i = 0; i < n; i++) a = fmaf(umi_fp16_to_fp32(vc[off[i] + d]), p[i], a);
        out[d] = a;
    }
}

AVX2 static void accum_avx2(const uint16_t *vc, const int32_t *off, int n, const float *p, int p_stride, int nq, int hd,
                            float *out) {
    for (int a = 0; a < nq; a++) accum_avx2_one(vc, off, n, p + (size_t)a * p_stride, hd, out + (size_t)a * hd);
}

umi_att_kernels umi_kernels_att(int cpu_level) {
    if (cpu_level == UMI_CPU_AVX512) return (umi_att_kernels){scores_512, accum_512};
    if (cpu_level == UMI_CPU_AVX2) return (umi_att_kernels){scores_avx2, accum_avx2};
    return (umi_att_kernels){umi_att_scores_f16, umi_att_accum_f16};
}

#else

umi_att_kernels umi_kernels_att(int cpu_level) {
    (void)cpu_level;
    return (umi_att_kernels){umi_att_scores_f16, umi_att_accum_f16};
}

#endif
