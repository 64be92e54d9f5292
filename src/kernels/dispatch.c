/* Which kernel serves a product: asks each type family in turn (kernels.h). */
#include "kernels/kernels.h"

#include "core/cpu.h"
#include "kernels/legacy.h"
#include "quant/interleave.h"
#include "quant/quant.h"

static umi_dot_fn find_twin(umi_dot_fn scalar, int level) {
    umi_dot_fn f = umi_kernels_simd_twin(scalar, level);
    if (f == scalar) f = umi_kernels_simd_twin_legacy(scalar, level);
    if (!f) f = umi_kernels_simd_twin_kquant(scalar, level);
    return f ? f : scalar;
}

static umi_tile_fn find_tile(umi_dot_fn dot, int level, int *tm, int *tn) {
    umi_tile_fn t = umi_kernels_tile_for(dot, level, tm, tn);
    if (!t) t = umi_kernels_tile_for_legacy(dot, level, tm, tn);
    if (!t) t = umi_kernels_tile_for_kquant(dot, level, tm, tn);
    return t;
}

/* The family's scalar plan, then its tile (looked up by the scalar dot)
 * and the SIMD twins for this CPU. */
static umi_kernel_plan plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok, bool many) {
    umi_kernel_plan p = {0};
    if (umi_kernels_plan_float(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_legacy(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_kquant(wtype, k, m, n_tok, tok, &p)) {
        const int level = umi_cpu_level_get();
        /* Single tokens: only tiles that keep rn = 1 in registers (the
         * legacy family's blocks tile: 16 rows at once). */
        if (p.dot && many) p.tile = find_tile(p.dot, level, &p.tile_m, &p.tile_n);
        else if (p.dot) p.tile = umi_kernels_tile_for_legacy(p.dot, level, &p.tile_m, &p.tile_n);
        if (p.dot) p.dot = find_twin(p.dot, level);
        if (p.act) {
            const umi_act_fn a = umi_kernels_simd_act_legacy(p.act, level);
            if (a) p.act = a;
        }
        return p;
    }
    return (umi_kernel_plan){0};
}

umi_kernel_plan umi_kernels_plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok) {
    return plan(wtype, k, m, n_tok, tok, n_tok >= 2);
}

umi_kernel_plan umi_kernels_plan_solo(uint32_t wtype, int64_t k, int64_t m) {
    return plan(wtype, k, m, 1, 0, true);
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

/* The X16 layout's scalar tile for a type (the oracle the SIMD tile is
 * found by), or NULL. */
static umi_tile_fn x16_oracle(uint32_t wtype) {
    return wtype == UMI_TYPE_Q4_0 ? umi_tile_q4_0_x16 : wtype == UMI_TYPE_IQ4_NL ? umi_tile_iq4_nl_x16 : NULL;
}

umi_tile_fn umi_kernels_layout_tile(uint32_t wtype, int layout, int cpu_level, int *tile_m, int *tile_n) {
    if (layout != UMI_LAYOUT_X16 || !x16_oracle(wtype)) return NULL;
    return umi_kernels_layout_tile_legacy(x16_oracle(wtype), cpu_level, tile_m, tile_n);
}

/* X16 only where a SIMD tile reads it: the scalar tile is an oracle, slower
 * than the dots on the file's layout. Rows in whole groups, and a multiple
 * of 8 so the plan's dot is the blocks order the tile reproduces. */
int umi_kernels_layout(uint32_t wtype, int64_t k, int64_t m, int cpu_level) {
    int tm, tn;
    if (umi_x16_supported(wtype) && m % UMI_X16_ROWS == 0 && k % 32 == 0 &&
        umi_kernels_layout_tile(wtype, UMI_LAYOUT_X16, cpu_level, &tm, &tn))
        return UMI_LAYOUT_X16;
    return UMI_LAYOUT_GGUF;
}
