/* Register-tiled products for prompt processing (x86): 4 weight rows x 4
 * tokens per tile, every element accumulated in exactly the lane order of
 * its single-dot twin, so tiles change speed, never results. */
#include "kernels/kernels.h"

#include "core/cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "core/fp16.h"
#include "kernels/x86_reduce.h"
#include "quant/blocks.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

enum { TM = 4, TN = 4 };

/* The SIMD twins of the dots the tiles stand for, for the edges. */
AVX512 static float f32_gemm_dot_512(int k, const void *w, const void *x) {
    return umi_dot_f32_gemm_avx512(k, w, x);
}

/* umi_plan_dot_f16_gemm_wide: only the weights widen. */
AVX512 static float f16_wide_dot_512(int k, const void *w, const void *x) {
    __m512 acc = _mm512_setzero_ps();
    for (int l = 0; l < k; l += 16)
        acc = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + l))),
                              _mm512_loadu_ps((const float *)x + l), acc);
    return umi_hsum16_ps(acc);
}

AVX512 static float f16_vec_dot_512(int k, const void *w, const void *x) {
    return umi_dot_f16_vec_avx512(k, w, x);
}

/* ---------------------------------------------------------------- F32 / F16 (16 lanes) */

AVX512 static void tile_f32_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs,
                                int rn, float *y, size_t ys) {
    if (rm != TM || rn != TN) {
        umi_tile_edge(f32_gemm_dot_512, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    __m512 acc[TM][TN];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < TM; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) acc[i][j] = _mm512_setzero_ps();
    for (int l = 0; l < k; l += 16) {
        __m512 wv[TM];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < TM; i++) wv[i] = _mm512_loadu_ps((const float *)(wc + i * ws) + l);
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) {
            const __m512 xv = _mm512_loadu_ps((const float *)(xc + j * xs) + l);
            _Pragma("GCC unroll 4")
            for (int i = 0; i < TM; i++) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);
        }
    }
    umi_hsum16_4x4(acc, y, ys);
}

/* F16 weights, activations widened to floats once per product (wide.c):
 * only the weights are converted, so TM x TN multiply-adds cost TM
 * conversions instead of TM + TN (6 x 4, 4 x 6, 5 x 5 measured no faster
 * than 4 x 4, whose sums hsum16_4x4 reduces together). */
AVX512 static void tile_f16_wide_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                     float *y, size_t ys) {
    if (rm != TM || rn != TN) {
        umi_tile_edge(f16_wide_dot_512, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    __m512 acc[TM][TN];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < TM; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) acc[i][j] = _mm512_setzero_ps();
    for (int l = 0; l < k; l += 16) {
        __m512 wv[TM];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < TM; i++)
            wv[i] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)(wc + i * ws) + l)));
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) {
            __m512 xv = _mm512_loadu_ps((const float *)(xc + j * xs) + l);
            /* Kept in a register: folded into each multiply-add (as GCC's
             * Zen tuning does) it is loaded TM times, ~20 % slower. */
            __asm__("" : "+v"(xv));
            _Pragma("GCC unroll 4")
            for (int i = 0; i < TM; i++) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);
        }
    }
    umi_hsum16_4x4(acc, y, ys);
}

/* The same on AVX2: umi_dot_f16_gemm's 16 lanes as two 8-lane halves
 * (reduced as umi_hsum8 of hi + lo, which is umi_reduce16), W2M rows x
 * W2N tokens: the 16 ymm registers hold the 8 accumulators, the rows'
 * converted halves and one token's. */
enum { W2M = 2, W2N = 2 }; /* 1 x 4, 2 x 3, 3 x 2 (x from memory) measured slower */

AVX2 static float f16_wide_dot_256(int k, const void *w, const void *x) {
    const uint16_t *wh = w;
    const float *xf = x;
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int l = 0; l < k; l += 16) {
        lo = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wh + l))), _mm256_loadu_ps(xf + l), lo);
        hi = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wh + l + 8))),
                             _mm256_loadu_ps(xf + l + 8), hi);
    }
    return umi_hsum16_halves_ps(lo, hi);
}

/* One pass of a 2 x 2 tile over elements l0, l0 + step, ... (16 each, as
 * lo and hi halves): the gemm order's only pass (step 16), or one class of
 * the vec order's four (l0 = 16a, step 64). */
AVX2 static inline __attribute__((always_inline)) void wide_pass_256(int k, const char *wc, size_t ws,
                                                                     const char *xc, size_t xs, int l0, int step,
                                                                     __m256 lo[W2M][W2N], __m256 hi[W2M][W2N]) {
    _Pragma("GCC unroll 4")
    for (int i = 0; i < W2M; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < W2N; j++) lo[i][j] = hi[i][j] = _mm256_setzero_ps();
    for (int l = l0; l < k; l += step) {
        __m256 wl[W2M], wh[W2M];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < W2M; i++) {
            const uint16_t *r = (const uint16_t *)(wc + i * ws) + l;
            wl[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)r));
            wh[i] = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(r + 8)));
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < W2N; j++) {
            const float *xr = (const float *)(xc + j * xs) + l;
            __m256 xl = _mm256_loadu_ps(xr), xh = _mm256_loadu_ps(xr + 8);
            __asm__("" : "+v"(xl), "+v"(xh));
            _Pragma("GCC unroll 4")
            for (int i = 0; i < W2M; i++) {
                lo[i][j] = _mm256_fmadd_ps(wl[i], xl, lo[i][j]);
                hi[i][j] = _mm256_fmadd_ps(wh[i], xh, hi[i][j]);
            }
        }
    }
}

AVX2 static void tile_f16_wide_256(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                   float *y, size_t ys) {
    if (rm != W2M || rn != W2N) {
        umi_tile_edge(f16_wide_dot_256, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    __m256 lo[W2M][W2N], hi[W2M][W2N];
    wide_pass_256(k, w, ws, x, xs, 0, 16, lo, hi);
    for (int j = 0; j < W2N; j++)
        for (int i = 0; i < W2M; i++) y[j * ys + i] = umi_hsum16_halves_ps(lo[i][j], hi[i][j]);
}

/* umi_plan_dot_f16_vec_wide's edges on AVX2 (the vec order of
 * umi_dot_f16_vec_avx2 with the activations already floats). */
AVX2 static float f16_vec_wide_dot_256(int k, const void *w, const void *x) {
    const uint16_t *wh = w;
    const float *xf = x;
    __m256 lo[4], hi[4];
    for (int a = 0; a < 4; a++) lo[a] = hi[a] = _mm256_setzero_ps();
    for (int l = 0; l < k; l += 64)
        _Pragma("GCC unroll 4")
        for (int a = 0; a < 4; a++) {
            const int e = l + 16 * a;
            lo[a] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wh + e))),
                                    _mm256_loadu_ps(xf + e), lo[a]);
            hi[a] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wh + e + 8))),
                                    _mm256_loadu_ps(xf + e + 8), hi[a]);
        }
    return umi_hsum16_halves_ps(_mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3])),
                                _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3])));
}

/* The vec order on widened activations for AVX2 (a multi-sequence decode
 * step's F16 tile, as tile_f16_vecw_512): the four classes one pass each,
 * then each half's (0+2) + (1+3), then umi_hsum8 of hi + lo. */
AVX2 static void tile_f16_vecw_256(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                   float *y, size_t ys) {
    if (rm != W2M || rn != W2N || k % 64) {
        umi_tile_edge(f16_vec_wide_dot_256, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    __m256 lo[4][W2M][W2N], hi[4][W2M][W2N];
    for (int a = 0; a < 4; a++) wide_pass_256(k, w, ws, x, xs, 16 * a, 64, lo[a], hi[a]);
    for (int j = 0; j < W2N; j++)
        for (int i = 0; i < W2M; i++) {
            const __m256 h = _mm256_add_ps(_mm256_add_ps(hi[0][i][j], hi[2][i][j]), _mm256_add_ps(hi[1][i][j], hi[3][i][j]));
            const __m256 l = _mm256_add_ps(_mm256_add_ps(lo[0][i][j], lo[2][i][j]), _mm256_add_ps(lo[1][i][j], lo[3][i][j]));
            y[j * ys + i] = umi_hsum16_halves_ps(l, h);
        }
}

/* F16 in "vec" order (the single-token dot, which the reference's expert
 * products use for every token): each output has 4 accumulators, class a
 * taking the 16-element chunks 4i + a of the row. The classes are
 * independent chains, so they are run one after another (16-24 registers
 * for the tile's outputs instead of 4 times as many), each pass reading a
 * quarter of every row, which the previous pass left in L1. Missing rows
 * and tokens of an edge tile repeat the last one (outputs are independent)
 * and are not stored.
 *
 * Two tiles: the experts' (4 x 6, F16 activations; one token alone goes to
 * the single dot) and a multi-sequence decode step's (4 x 4, activations
 * widened to floats, wide.c, so only the weights are converted: ~1.5x from
 * cache). The latter's weights come straight from memory: passes 0 and 2,
 * which first touch each 128-byte span's two lines, prefetch the same lines
 * of the next 4 rows (tile_rows' next call) into L2. */
enum { VEC_STEP = 64, VTM = 4, VTN = 6, VWN = 4 };

AVX512 static inline __attribute__((always_inline)) void vec_tile(int k, const void *w, size_t ws, int rm,
                                                                  const void *x, size_t xs, int rn, float *y,
                                                                  size_t ys, const int tn, const bool wide) {
    const uint16_t *wr[VTM];
    const char *xr[VTN];
    for (int i = 0; i < VTM; i++) wr[i] = (const uint16_t *)((const char *)w + (i < rm ? i : rm - 1) * ws);
    for (int j = 0; j < tn; j++) xr[j] = (const char *)x + (j < rn ? j : rn - 1) * xs;
    const size_t next = VTM * ws;
    __m512 part[4][VTM][VTN];
    for (int a = 0; a < 4; a++) {
        __m512 acc[VTM][VTN];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < VTM; i++)
            _Pragma("GCC unroll 6")
            for (int j = 0; j < tn; j++) acc[i][j] = _mm512_setzero_ps();
        for (int l = 16 * a; l < k; l += VEC_STEP) {
            __m512 wv[VTM];
            _Pragma("GCC unroll 4")
            for (int i = 0; i < VTM; i++) {
                wv[i] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(wr[i] + l)));
                if (wide && a % 2 == 0) _mm_prefetch((const char *)(wr[i] + l) + next, _MM_HINT_T1);
            }
            _Pragma("GCC unroll 6")
            for (int j = 0; j < tn; j++) {
                __m512 xv = wide ? _mm512_loadu_ps((const float *)xr[j] + l)
                                 : _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)xr[j] + l)));
                if (wide) __asm__("" : "+v"(xv)); /* in a register, as in tile_f16_wide_512 */
                _Pragma("GCC unroll 4")
                for (int i = 0; i < VTM; i++) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);
            }
        }
        _Pragma("GCC unroll 4")
        for (int i = 0; i < VTM; i++)
            _Pragma("GCC unroll 6")
            for (int j = 0; j < tn; j++) part[a][i][j] = acc[i][j];
    }
    for (int j = 0; j < rn; j++)
        for (int i = 0; i < rm; i++) {
            const __m512 v = _mm512_add_ps(_mm512_add_ps(part[0][i][j], part[2][i][j]),
                                           _mm512_add_ps(part[1][i][j], part[3][i][j]));
            y[j * ys + i] = umi_hsum16_ps(v);
        }
}

AVX512 static void tile_f16_vec_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs,
                                    int rn, float *y, size_t ys) {
    if (rn < 2 || k % VEC_STEP) umi_tile_edge(f16_vec_dot_512, k, w, ws, rm, x, xs, rn, y, ys);
    else vec_tile(k, w, ws, rm, x, xs, rn, y, ys, VTN, false);
}

AVX512 static void tile_f16_vecw_512(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                                     float *y, size_t ys) {
    if (k % VEC_STEP) umi_tile_edge(umi_plan_dot_f16_vec_wide, k, w, ws, rm, x, xs, rn, y, ys);
    else vec_tile(k, w, ws, rm, x, xs, rn, y, ys, VWN, true);
}

/* ---------------------------------------------------------------- Q8_0 (8 lanes) */

AVX2 static void tile_q8_0_avx2(int k, const void *w, size_t ws, int rm, const void *x, size_t xs,
                                int rn, float *y, size_t ys) {
    if (rm != TM || rn != TN) {
        umi_tile_edge(umi_dot_q8_0_avx2, k, w, ws, rm, x, xs, rn, y, ys);
        return;
    }
    const char *wc = w, *xc = x;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[TM][TN];
    _Pragma("GCC unroll 4")
    for (int i = 0; i < TM; i++)
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) acc[i][j] = _mm256_setzero_ps();
    for (int b = 0; b < k / UMI_QK8_0; b++) {
        __m256i wq[TM], wabs[TM];
        float wd[TM];
        _Pragma("GCC unroll 4")
        for (int i = 0; i < TM; i++) {
            const umi_block_q8_0 *blk = (const umi_block_q8_0 *)(wc + i * ws) + b;
            wq[i] = _mm256_loadu_si256((const __m256i *)blk->qs);
            wabs[i] = _mm256_sign_epi8(wq[i], wq[i]);
            wd[i] = umi_fp16_to_fp32_f16c(blk->d);
        }
        _Pragma("GCC unroll 4")
        for (int j = 0; j < TN; j++) {
            const umi_block_q8_0 *xb = (const umi_block_q8_0 *)(xc + j * xs) + b;
            const __m256i xq = _mm256_loadu_si256((const __m256i *)xb->qs);
            const float xd = umi_fp16_to_fp32_f16c(xb->d);
            _Pragma("GCC unroll 4")
            for (int i = 0; i < TM; i++) {
                const __m256i pairs = _mm256_maddubs_epi16(wabs[i], _mm256_sign_epi8(xq, wq[i]));
                const __m256 q = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
                acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(wd[i] * xd), q, acc[i][j]);
            }
        }
    }
    _Pragma("GCC unroll 4")
    for (int j = 0; j < TN; j++)
        _Pragma("GCC unroll 4")
        for (int i = 0; i < TM; i++) y[j * ys + i] = umi_hsum8_ps(acc[i][j]);
}

umi_tile_fn umi_kernels_tile_for(umi_dot_fn dot, int cpu_level, int *tile_m, int *tile_n) {
    *tile_m = TM;
    *tile_n = TN;
    if (cpu_level == UMI_CPU_AVX512 && dot == umi_plan_dot_f32_gemm) return tile_f32_512;
    if (cpu_level == UMI_CPU_AVX512 && dot == umi_plan_dot_f16_gemm_wide) return tile_f16_wide_512;
    if (cpu_level == UMI_CPU_AVX2 && dot == umi_plan_dot_f16_vec_wide) {
        *tile_m = W2M, *tile_n = W2N;
        return tile_f16_vecw_256;
    }
    if (cpu_level == UMI_CPU_AVX2 && dot == umi_plan_dot_f16_gemm_wide) {
        *tile_m = W2M, *tile_n = W2N;
        return tile_f16_wide_256;
    }
    if (cpu_level == UMI_CPU_AVX512 && dot == umi_plan_dot_f16_vec_wide) {
        *tile_m = VTM, *tile_n = VWN;
        return tile_f16_vecw_512;
    }
    if (cpu_level == UMI_CPU_AVX512 && dot == umi_plan_dot_f16_vec) {
        *tile_m = VTM, *tile_n = VTN;
        return tile_f16_vec_512;
    }
    /* With AVX-512 VNNI, Q8_0's tile is the legacy family's (x86_legacy.c). */
    if ((cpu_level == UMI_CPU_AVX2 || (cpu_level == UMI_CPU_AVX512 && !umi_cpu_features_get()->avx512vnni)) &&
        dot == umi_dot_q8_0_lanes8)
        return tile_q8_0_avx2;
    return NULL;
}

#endif
