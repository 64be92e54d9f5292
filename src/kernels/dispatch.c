/* Which kernel serves a product: asks each type family in turn (kernels.h). */
#include "kernels/kernels.h"

#include "core/cpu.h"
#include "kernels/kquant.h"
#include "kernels/legacy.h"
#include "quant/blocks.h"
#include "quant/interleave.h"
#include "quant/quant.h"

static umi_dot_fn find_twin(umi_dot_fn scalar, int level) {
    const umi_dot_fn b = umi_kernels_simd_twin_bf16(scalar, level);
    if (b) return b;
    umi_dot_fn f = umi_kernels_simd_twin(scalar, level);
    if (f == scalar) f = umi_kernels_simd_twin_legacy(scalar, level);
    if (!f) f = umi_kernels_simd_twin_kquant(scalar, level);
    return f ? f : scalar;
}

static umi_tile_fn find_tile(umi_dot_fn dot, int level, int *tm, int *tn) {
    umi_tile_fn t = umi_kernels_tile_for(dot, level, tm, tn);
    if (!t) t = umi_kernels_tile_for_bf16(dot, level, tm, tn);
    if (!t) t = umi_kernels_tile_for_legacy(dot, level, tm, tn);
    if (!t) t = umi_kernels_tile_for_kquant(dot, level, tm, tn);
    return t;
}

static umi_tile_fn solo_tile(umi_dot_fn dot, int level, int *tm, int *tn) {
    const umi_tile_fn t = umi_kernels_tile_for_legacy(dot, level, tm, tn);
    return t ? t : umi_kernels_tile_solo_kquant(dot, level, tm, tn);
}

/* The family's scalar plan, then its tile (looked up by the scalar dot)
 * and the SIMD twins for this CPU. */
static umi_kernel_plan plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok, bool many, bool batch) {
    umi_kernel_plan p = {0};
    if (umi_kernels_plan_float(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_legacy(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_kquant(wtype, k, m, n_tok, tok, &p) || umi_kernels_plan_bf16(wtype, k, m, n_tok, tok, &p)) {
        const int level = umi_cpu_level_get();
        /* Single tokens: only tiles that keep rn = 1 in registers (the
         * legacy family's blocks tile: 16 rows at once on x86, 4 on ARM;
         * ARM's Q4_K gemv tile). */
        if (p.dot && many) umi_kernels_plan_widen(&p, level);
        if (p.dot && batch) umi_kernels_plan_widen_vec(&p, k, level);
        if (p.dot && many) p.tile = find_tile(p.dot, level, &p.tile_m, &p.tile_n);
        else if (p.dot) p.tile = solo_tile(p.dot, level, &p.tile_m, &p.tile_n);
        if (p.dot) p.dot = find_twin(p.dot, level);
        /* no act: the activation type's own quantizer, which may have a twin too */
        const umi_act_fn act = p.act ? p.act : umi_type_traits_get(umi_type_traits_get(wtype)->vec_dot_type)->from_float;
        umi_act_fn a = umi_kernels_simd_act_legacy(act, level);
        if (!a) a = umi_kernels_simd_act_kquant(act, level);
        if (a) p.act = a;
        return p;
    }
    return (umi_kernel_plan){0};
}

umi_kernel_plan umi_kernels_plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok) {
    return plan(wtype, k, m, n_tok, tok, n_tok >= 2, false);
}

umi_kernel_plan umi_kernels_plan_solo(uint32_t wtype, int64_t k, int64_t m) {
    return plan(wtype, k, m, 1, 0, true, false);
}

umi_kernel_plan umi_kernels_plan_solo_batch(uint32_t wtype, int64_t k, int64_t m) {
    return plan(wtype, k, m, 1, 0, true, true);
}

void umi_tile_edge(umi_dot_fn dot, int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn,
                   float *y, size_t ys) {
    for (int j = 0; j < rn; j++)
        for (int i = 0; i < rm; i++) y[j * ys + i] = dot(k, (const char *)w + i * ws, (const char *)x + j * xs);
}

/* Register tiles (at most this many rows or tokens) serve partial tiles by
 * single dots; recomputing a few outputs of a whole tile (the same bits)
 * is cheaper. Larger tiles take any remainder themselves. */
enum { SMALL_TILE = 8 };

void umi_kernels_tile_rows(const umi_kernel_plan *p, int k, const void *w, size_t w_row, int64_t r0, int64_t r1,
                           const void *xq, size_t xq_row, int n_tok, float *y, size_t y_stride) {
    int tb = (int)(UMI_TILE_L2_BUDGET / xq_row);
    tb = tb < p->tile_n ? p->tile_n : tb - tb % p->tile_n;
    for (int j0 = 0; j0 < n_tok; j0 += tb) {
        const int j1 = j0 + tb < n_tok ? j0 + tb : n_tok;
        for (int64_t r = r0; r < r1; r += p->tile_m) {
            int64_t rs = r; /* a short last tile of small tiles overlaps the previous one instead */
            if (r1 - r < p->tile_m && p->tile_m <= SMALL_TILE && r1 - r0 >= p->tile_m) rs = r1 - p->tile_m;
            const int rm = (int)(r1 - rs < p->tile_m ? r1 - rs : p->tile_m);
            for (int j = j0; j < j1; j += p->tile_n) {
                int js = j;
                if (j1 - j < p->tile_n && p->tile_n <= SMALL_TILE && j1 - j0 >= p->tile_n) js = j1 - p->tile_n;
                const int rn = j1 - js < p->tile_n ? j1 - js : p->tile_n;
                p->tile(k, (const char *)w + rs * w_row, w_row, rm, (const char *)xq + js * xq_row, xq_row, rn,
                        y + js * y_stride + rs, y_stride);
            }
        }
    }
}

/* The scalar tile on an interleaved layout that gives the bits of `dot`
 * (a plan's dot, scalar or twin), or NULL: the key the family's SIMD tile
 * is found by. Q4_K's plan takes the gemm order for some tokens and the
 * gemv order for the rest (kquant.c); each has its tile. Q6_K's plan has
 * the lanes8 order for every token. */
static umi_tile_fn layout_oracle(uint32_t wtype, int layout, umi_dot_fn dot, int level) {
    if (layout == UMI_LAYOUT_X16)
        return wtype == UMI_TYPE_Q4_0 ? umi_tile_q4_0_x16 : wtype == UMI_TYPE_IQ4_NL ? umi_tile_iq4_nl_x16 : NULL;
    if (layout == UMI_LAYOUT_X16_Q4_K && wtype == UMI_TYPE_Q4_K)
        return dot && (dot == umi_dot_q4_K_gemm || dot == find_twin(umi_dot_q4_K_gemm, level))
                   ? umi_tile_q4_K_x16_gemm
                   : umi_tile_q4_K_x16_gemv;
    if (layout == UMI_LAYOUT_X16_Q6_K && wtype == UMI_TYPE_Q6_K) return umi_tile_q6_K_x16;
    /* Q8_0's tile sums blocks exactly (not the plan's lanes8): X16_Q8_0's own order */
    if (layout == UMI_LAYOUT_X16_Q8_0 && wtype == UMI_TYPE_Q8_0) return umi_tile_q8_0_x16;
    return NULL;
}

umi_tile_fn umi_kernels_layout_tile(uint32_t wtype, int layout, umi_dot_fn dot, int cpu_level, int *tile_m,
                                    int *tile_n) {
    const umi_tile_fn oracle = layout_oracle(wtype, layout, dot, cpu_level);
    if (!oracle) return NULL;
    const umi_tile_fn t = umi_kernels_layout_tile_legacy(oracle, cpu_level, tile_m, tile_n);
    if (t) return t;
    const umi_tile_fn k = umi_kernels_layout_tile_kquant(oracle, cpu_level, tile_m, tile_n);
    return k ? k : umi_kernels_layout_tile_q6_K(oracle, cpu_level, tile_m, tile_n);
}

/* An interleaved layout only where SIMD tiles read it for every dot the
 * plan may pick (the scalar tiles are oracles, slower than the dots on the
 * file's layout). Rows in whole groups, and so a multiple of 8: the plan's
 * dots are then the repacked orders the tiles reproduce (the blocks order
 * for Q4_0/IQ4_NL, gemv and gemm for Q4_K, lanes8 for Q6_K). Q8_0 is the
 * exception: its plan keeps the reference's lanes8, the X16_Q8_0 tile
 * sums blocks exactly instead (quant/interleave.h), so it is interleaved
 * only where that tile exists (AVX-512 VNNI). */
int umi_kernels_layout(uint32_t wtype, int64_t k, int64_t m, int cpu_level) {
    const int layout = umi_layout_for_type(wtype);
    const int64_t qk = layout == UMI_LAYOUT_X16 || layout == UMI_LAYOUT_X16_Q8_0 ? 32 : UMI_QK_K;
    int tm, tn;
    if (layout != UMI_LAYOUT_GGUF && m % UMI_X16_ROWS == 0 && k % qk == 0 &&
        umi_kernels_layout_tile(wtype, layout, umi_dot_q4_K_gemv, cpu_level, &tm, &tn) &&
        umi_kernels_layout_tile(wtype, layout, umi_dot_q4_K_gemm, cpu_level, &tm, &tn))
        return layout;
    return UMI_LAYOUT_GGUF;
}
