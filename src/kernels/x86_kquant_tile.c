/* x86 register tiles of the K-quant ordered dots (AVX-512): several weight
 * rows times several tokens at once, every output exactly its row dot's bits
 * (tests/unit/test_kernels_x86_kquant.c). Partial tiles take the row dots
 * themselves, the SIMD twins of x86_kquant.c. */
#include "kernels/kernels.h"

#include "core/cpu.h"
#include "kernels/kquant.h"

#if defined(__x86_64__)
#include "kernels/x86_kquant_simd.h"

/* Inlined whole, so each caller's type and shape constants fold away. */
#define FORCE_INLINE __attribute__((always_inline)) static inline

/* The SIMD twin of a K-quant row dot, for the edges. */
static umi_dot_fn twin(umi_dot_fn scalar) {
    return umi_kernels_simd_twin_kquant(scalar, UMI_CPU_AVX512);
}

/* ---------------------------------------------------------------- tiles (AVX-512) */

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

/* The integer sums of NT (1 or 2) tokens against laid-out rows: `units`
 * scale units of `per_unit` four-element groups, each unit's byte products
 * added in 16 bits then multiplied by its scale (madd), `per_step` units
 * to an accumulation step: isum[token][step], lane r = row r. */
AVX512 FORCE_INLINE void kr_int_sums(const __m512i *q, const __m512i *sc, const int units, const int per_unit,
                                      const int per_step, const umi_block_q8_K *const a[2], const int nt,
                                      __m512i isum[2][4]) {
#pragma GCC unroll 16
    for (int u = 0; u < units; u++) {
        __m512i t0 = _mm512_setzero_si512(), t1 = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int g = 0; g < per_unit; g++) {
            const int qi = per_unit * u + g;
            int32_t v0, v1;
            memcpy(&v0, a[0]->qs + 4 * qi, 4);
            t0 = _mm512_add_epi16(t0, _mm512_maddubs_epi16(q[qi], _mm512_set1_epi32(v0)));
            if (nt == 2) {
                memcpy(&v1, a[1]->qs + 4 * qi, 4);
                t1 = _mm512_add_epi16(t1, _mm512_maddubs_epi16(q[qi], _mm512_set1_epi32(v1)));
            }
        }
        const __m512i p0 = _mm512_madd_epi16(t0, sc[u]);
        isum[0][u / per_step] = u % per_step ? _mm512_add_epi32(isum[0][u / per_step], p0) : p0;
        if (nt == 2) {
            const __m512i p1 = _mm512_madd_epi16(t1, sc[u]);
            isum[1][u / per_step] = u % per_step ? _mm512_add_epi32(isum[1][u / per_step], p1) : p1;
        }
    }
}

/* One token's float steps over a super-block of the repacked orders:
 * acc = fma(quants sum, d * d_a, acc) and accm = fma(mins sum, dmin * d_a,
 * accm) per step, or once with the steps' integer sums added exactly
 * (`whole`, the gemv order). Lane r: row r. */
AVX512 FORCE_INLINE void kr_float_steps(const __m512i *isum, const __m512i *msum, int n, __m512 d, __m512 dmin,
                                         float da, __m512 *acc, __m512 *accm, bool whole) {
    const __m512 dd = _mm512_mul_ps(d, _mm512_set1_ps(da)), dm = _mm512_mul_ps(dmin, _mm512_set1_ps(da));
    __m512 ac = *acc, am = *accm;
    __m512i it = _mm512_setzero_si512(), mt = _mm512_setzero_si512();
    for (int c = 0; c < n; c++) {
        if (whole) {
            it = _mm512_add_epi32(it, isum[c]);
            mt = _mm512_add_epi32(mt, msum[c]);
        } else {
            ac = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[c]), dd, ac);
            am = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum[c]), dm, am);
        }
    }
    if (whole) {
        ac = _mm512_fmadd_ps(_mm512_cvtepi32_ps(it), dd, ac);
        am = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mt), dm, am);
    }
    *acc = ac, *accm = am;
}

/* One super-block of NT (1 or 2) tokens against the laid-out rows: one
 * float step per 64 elements (gemm order) or per super-block (`whole`, the
 * gemv order, whose integer sums are the same steps added exactly). */
AVX512 static inline void k4_tokens(const k4_layout *L, const umi_block_q8_K *const a[2], int nt, __m512 *acc[2],
                                    __m512 *accm[2], bool whole) {
    __m512i isum[2][4];
    kr_int_sums(L->q, L->sc, 8, 8, 2, a, nt, isum); /* sub-blocks of 32: 16 products per 16-bit lane */
    for (int j = 0; j < nt; j++) {
        __m512i ms[4];
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            const int b0 = a[j]->bsums[4 * c] + a[j]->bsums[4 * c + 1];
            const int b1 = a[j]->bsums[4 * c + 2] + a[j]->bsums[4 * c + 3];
            const __m512i bp = _mm512_set1_epi32((int)((uint32_t)(uint16_t)b0 | (uint32_t)(uint16_t)b1 << 16));
            ms[c] = _mm512_madd_epi16(L->mn[c], bp);
        }
        kr_float_steps(isum[j], ms, 4, L->d, L->dmin, a[j]->d, acc[j], accm[j], whole);
    }
}

/* Q2_K, its repacked gemm (128-element steps) and gemv orders, laid out as
 * Q4_K's above: group q of the 16 rows holds elements 4q .. 4q+3 (codes
 * 0..3, bit pair j of qs[32h + l] for element 128h + 32j + l) of row r in
 * bytes 4r .. 4r+3, a scale and a min per 16-group. */
typedef struct k2_layout {
    __m512i q[UMI_QK_K / 4]; /* group q: 16 rows x 4 codes */
    __m512i sc[16];          /* 16-group c: sc[r][c] in both 16-bit halves of lane r */
    __m512i mn[8];           /* 16-groups 2c, 2c+1: (mn[r][2c], mn[r][2c+1]) in lane r */
    __m512 d, dmin;
} k2_layout;

AVX512 static void k2_lay_out(const char *blk0, size_t ws, k2_layout *L) {
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32((int)ws));
    const __m512i m2 = _mm512_set1_epi8(0x03);
    const char *qs = blk0 + offsetof(umi_block_q2_K, qs);
#pragma GCC unroll 16
    for (int p = 0; p < 16; p++) { /* dword p of qs: half p / 8, bytes l = 4 (p % 8) .. +3 */
        const __m512i v = _mm512_i32gather_epi32(rows, qs + 4 * p, 1);
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) L->q[32 * (p / 8) + 8 * j + p % 8] = _mm512_and_si512(_mm512_srli_epi16(v, 2 * j), m2);
    }
    const __m512i nib = _mm512_set1_epi32(0x0f);
    __m512i s[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) s[i] = _mm512_i32gather_epi32(rows, blk0 + offsetof(umi_block_q2_K, scales) + 4 * i, 1);
#pragma GCC unroll 16
    for (int c = 0; c < 16; c++) {
        const __m512i v = _mm512_and_si512(_mm512_srli_epi32(s[c / 4], 8 * (c % 4)), nib);
        L->sc[c] = _mm512_or_si512(v, _mm512_slli_epi32(v, 16));
    }
#pragma GCC unroll 8
    for (int c = 0; c < 8; c++) { /* the high nibbles of bytes 2c, 2c+1 */
        const __m512i v = _mm512_srli_epi32(s[c / 2], 16 * (c % 2) + 4);
        L->mn[c] = _mm512_or_si512(_mm512_and_si512(v, nib), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(v, 8), nib), 16));
    }
    const __m512i hdr = _mm512_i32gather_epi32(rows, blk0 + offsetof(umi_block_q2_K, d), 1); /* d | dmin << 16 */
    L->d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(hdr));
    L->dmin = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(hdr, 16)));
}

/* One super-block of NT (1 or 2) tokens: per 16-group the 4 groups' byte
 * products added in 16 bits (at most 16 x 3 x 128), times the scale; one
 * float step per 128 elements, or per super-block (`whole`). */
AVX512 static inline void k2_tokens(const k2_layout *L, const umi_block_q8_K *const a[2], int nt, __m512 *acc[2],
                                    __m512 *accm[2], bool whole) {
    __m512i isum[2][4];
    kr_int_sums(L->q, L->sc, 16, 4, 8, a, nt, isum); /* 16-groups: 8 products per 16-bit lane */
    for (int j = 0; j < nt; j++) {
        __m512i ms[2];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) { /* 128-element steps */
            ms[h] = _mm512_setzero_si512();
#pragma GCC unroll 4
            for (int c = 4 * h; c < 4 * h + 4; c++) {
                const __m512i bp = _mm512_set1_epi32(
                    (int)((uint32_t)(uint16_t)a[j]->bsums[2 * c] | (uint32_t)(uint16_t)a[j]->bsums[2 * c + 1] << 16));
                ms[h] = _mm512_add_epi32(ms[h], _mm512_madd_epi16(L->mn[c], bp));
            }
        }
        kr_float_steps(isum[j], ms, 2, L->d, L->dmin, a[j]->d, acc[j], accm[j], whole);
    }
}

/* The repacked orders' tile driver: each super-block of the 16 rows laid
 * out once, then the tokens two by two. */
AVX512 FORCE_INLINE void tile_kr_512(bool q2, int k, const void *w, size_t ws, int rm, const void *x, size_t xs,
                                      int rn, float *y, size_t ys, bool whole) {
    if (rm != K4_ROWS || (whole && rn < 2)) { /* one gemv token is faster as a dot */
        const umi_dot_fn dot = q2 ? (whole ? umi_dot_q2_K_gemv : umi_dot_q2_K_gemm)
                                  : (whole ? umi_dot_q4_K_gemv : umi_dot_q4_K_gemm);
        umi_tile_edge(twin(dot), k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    __m512 acc[K4_TOKS], accm[K4_TOKS];
    union {
        k4_layout k4;
        k2_layout k2;
    } L;
    const size_t bsize = q2 ? sizeof(umi_block_q2_K) : sizeof(umi_block_q4_K);
    for (int j = 0; j < rn; j++) acc[j] = accm[j] = _mm512_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        if (q2) k2_lay_out((const char *)w + b * bsize, ws, &L.k2);
        else k4_lay_out((const char *)w + b * bsize, ws, &L.k4);
        for (int j = 0; j < rn; j += 2) {
            const int nt = j + 2 <= rn ? 2 : 1;
            const umi_block_q8_K *a[2] = {(const umi_block_q8_K *)(const void *)((const char *)x + j * xs) + b,
                                          nt == 2 ? (const umi_block_q8_K *)(const void *)((const char *)x + (j + 1) * xs) + b
                                                  : NULL};
            __m512 *pa[2] = {&acc[j], nt == 2 ? &acc[j + 1] : NULL}, *pm[2] = {&accm[j], nt == 2 ? &accm[j + 1] : NULL};
            if (q2) {
                if (nt == 2) k2_tokens(&L.k2, a, 2, pa, pm, whole);
                else k2_tokens(&L.k2, a, 1, pa, pm, whole);
            } else {
                if (nt == 2) k4_tokens(&L.k4, a, 2, pa, pm, whole);
                else k4_tokens(&L.k4, a, 1, pa, pm, whole);
            }
        }
    }
    for (int j = 0; j < rn; j++) _mm512_storeu_ps(y + j * ys, _mm512_sub_ps(acc[j], accm[j]));
}

AVX512 static void tile_q4_K_gemm_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    tile_kr_512(false, k, w, ws, rm, x, xs, rn, y, ys, false);
}

/* The gemv order serves every token of an expert's group (moe.c). */
AVX512 static void tile_q4_K_gemv_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    tile_kr_512(false, k, w, ws, rm, x, xs, rn, y, ys, true);
}

AVX512 static void tile_q2_K_gemm_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    tile_kr_512(true, k, w, ws, rm, x, xs, rn, y, ys, false);
}

AVX512 static void tile_q2_K_gemv_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                      float *y, size_t ys) {
    tile_kr_512(true, k, w, ws, rm, x, xs, rn, y, ys, true);
}

/* Q6_K, Q5_K and Q3_K, lanes8 order, 4 rows x 4 tokens in registers: each
 * 64-element step decodes the 4 rows once and reads each token's
 * activations once; every (row, token) keeps its dot's own integer lanes,
 * fused multiply-adds and (Q5_K) separate mins sum. Q6_K's codes carry
 * its -32 through the block sums (q6_K_offset); Q3_K's weights are signed
 * (-4..3) where the byte multiply wants unsigned ones, so each step
 * multiplies w + 4 and takes 4 x the token's byte pair sums away in 16
 * bits: the same integers per lane. */
enum { L8_ROWS = 4, L8_TOKS = 4 };

enum { L8_Q3_K, L8_Q5_K, L8_Q6_K };

AVX512 FORCE_INLINE __m512i l8_chunk(int kind, const void *blk, int c) {
    return kind == L8_Q6_K ? q6_K_chunk_512(blk, c) : kind == L8_Q5_K ? q5_K_chunk_512(blk, c) : q3_K_chunk_512(blk, c);
}

AVX512 FORCE_INLINE void tile_lanes8_512(const int kind, int k, const void *w, size_t ws, int rm, const void *x,
                                          size_t xs, int rn, float *y, size_t ys, umi_dot_fn dot) {
    if (rm != L8_ROWS || rn != L8_TOKS) {
        umi_tile_edge(twin(dot), k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const size_t bsize = kind == L8_Q6_K   ? sizeof(umi_block_q6_K)
                         : kind == L8_Q5_K ? sizeof(umi_block_q5_K)
                                           : sizeof(umi_block_q3_K);
    const char *wc = w, *xc = x;
    const __m512i four = _mm512_set1_epi8(4);
    __m256 accf[L8_ROWS][L8_TOKS];
    float summs[L8_ROWS][L8_TOKS] = {{0}};
    for (int i = 0; i < L8_ROWS; i++)
        for (int j = 0; j < L8_TOKS; j++) accf[i][j] = _mm256_setzero_ps();
    for (int b = 0; b < k / UMI_QK_K; b++) {
        const char *wb[L8_ROWS];
        const umi_block_q8_K *ab[L8_TOKS];
        __m256i sc16[L8_ROWS];
        float dw[L8_ROWS];
        __m512i acc[L8_ROWS][L8_TOKS];
        for (int j = 0; j < L8_TOKS; j++) ab[j] = (const umi_block_q8_K *)(const void *)(xc + j * xs) + b;
        for (int i = 0; i < L8_ROWS; i++) {
            wb[i] = wc + i * ws + b * bsize;
            if (kind == L8_Q6_K) {
                const umi_block_q6_K *blk = (const umi_block_q6_K *)(const void *)wb[i];
                sc16[i] = q6_K_scales(blk), dw[i] = half(blk->d);
            } else if (kind == L8_Q3_K) {
                const umi_block_q3_K *blk = (const umi_block_q3_K *)(const void *)wb[i];
                sc16[i] = scales_q3_K(blk->scales), dw[i] = half(blk->d);
            } else {
                const umi_block_q5_K *blk = (const umi_block_q5_K *)(const void *)wb[i];
                uint8_t sc[8], mn[8];
                scales_k4(blk->scales, sc, mn);
                sc16[i] = dup16_epu8(sc), dw[i] = half(blk->d);
                const __m256i mn16 = dup16_epu8(mn);
                for (int j = 0; j < L8_TOKS; j++) {
                    const int32_t m = hsum8_epi32(_mm256_madd_epi16(load_bsums(ab[j]), mn16));
                    summs[i][j] = fma1(-ab[j]->d * half(blk->dmin), (float)m, summs[i][j]);
                }
            }
        }
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m512i wq[L8_ROWS], scv[L8_ROWS];
#pragma GCC unroll 4
            for (int i = 0; i < L8_ROWS; i++) {
                wq[i] = l8_chunk(kind, wb[i], c);
                scv[i] = step_scales(sc16[i], c);
            }
#pragma GCC unroll 4
            for (int j = 0; j < L8_TOKS; j++) {
                const __m512i q = _mm512_loadu_si512(ab[j]->qs + 64 * c);
                const __m512i q4 = kind == L8_Q3_K ? _mm512_maddubs_epi16(four, q) : _mm512_setzero_si512();
#pragma GCC unroll 4
                for (int i = 0; i < L8_ROWS; i++) {
                    __m512i pairs = _mm512_maddubs_epi16(wq[i], q);
                    if (kind == L8_Q3_K) pairs = _mm512_sub_epi16(pairs, q4);
                    const __m512i p = _mm512_madd_epi16(pairs, scv[i]);
                    acc[i][j] = c ? _mm512_add_epi32(acc[i][j], p) : p;
                }
            }
        }
        for (int i = 0; i < L8_ROWS; i++)
            for (int j = 0; j < L8_TOKS; j++) {
                __m256i s = fold512(acc[i][j]);
                if (kind == L8_Q6_K) s = _mm256_sub_epi32(s, q6_K_offset(sc16[i], ab[j]));
                accf[i][j] = fma_lanes(ab[j]->d * dw[i], s, accf[i][j]);
            }
    }
    for (int j = 0; j < L8_TOKS; j++)
        for (int i = 0; i < L8_ROWS; i++) y[j * ys + i] = umi_hsum8_ps(accf[i][j]) + (kind == L8_Q5_K ? summs[i][j] : 0.0f);
}

AVX512 static void tile_q6_K_lanes8_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                        float *y, size_t ys) {
    tile_lanes8_512(L8_Q6_K, k, w, ws, rm, x, xs, rn, y, ys, umi_dot_q6_K_lanes8);
}

AVX512 static void tile_q5_K_lanes8_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                        float *y, size_t ys) {
    tile_lanes8_512(L8_Q5_K, k, w, ws, rm, x, xs, rn, y, ys, umi_dot_q5_K_lanes8);
}

AVX512 static void tile_q3_K_lanes8_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                        float *y, size_t ys) {
    tile_lanes8_512(L8_Q3_K, k, w, ws, rm, x, xs, rn, y, ys, umi_dot_q3_K_lanes8);
}

umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    if (cpu_level != UMI_CPU_AVX512) return NULL;
    if (dot == umi_dot_q4_K_gemm || dot == umi_dot_q4_K_gemv) {
        *tile_m = K4_ROWS, *tile_n = K4_TOKS;
        return dot == umi_dot_q4_K_gemm ? tile_q4_K_gemm_512 : tile_q4_K_gemv_512;
    }
    if (dot == umi_dot_q2_K_gemm || dot == umi_dot_q2_K_gemv) {
        *tile_m = K4_ROWS, *tile_n = K4_TOKS;
        return dot == umi_dot_q2_K_gemm ? tile_q2_K_gemm_512 : tile_q2_K_gemv_512;
    }
    if (dot == umi_dot_q6_K_lanes8) {
        *tile_m = L8_ROWS, *tile_n = L8_TOKS;
        return tile_q6_K_lanes8_512;
    }
    if (dot == umi_dot_q5_K_lanes8) {
        *tile_m = L8_ROWS, *tile_n = L8_TOKS;
        return tile_q5_K_lanes8_512;
    }
    if (dot == umi_dot_q3_K_lanes8) {
        *tile_m = L8_ROWS, *tile_n = L8_TOKS;
        return tile_q3_K_lanes8_512;
    }
    return NULL;
}

#endif

#if !(defined(__aarch64__) && defined(__ARM_NEON)) /* neon_kquant_tile.c has ARM's */
#if !defined(__x86_64__)
umi_tile_fn umi_kernels_tile_for_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}
#endif

/* x86 decodes Q4_K through its interleaved layout's tiles instead. */
umi_tile_fn umi_kernels_tile_solo_kquant(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    (void)dot, (void)cpu_level, (void)tile_m, (void)tile_n;
    return NULL;
}

#endif
