/* Which kernel serves a product: asks each type family in turn (kernels.h). */
#include "kernels/kernels.h"

#include "core/cpu.h"

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

/* wide_tile: any tile of the chosen dot, else (single tokens) only those
 * that keep rn = 1 in registers. */
static umi_kernel_plan plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok, bool wide_tile) {
    umi_kernel_plan p = {0};
    if (umi_kernels_plan_float(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_legacy(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_kquant(wtype, k, m, n_tok, tok, &p)) {
        const int level = umi_cpu_level_get();
        /* Single tokens: only tiles that keep rn = 1 in registers (the
         * legacy family's blocks tile: 16 rows at once). */
        if (p.dot && wide_tile) p.tile = find_tile(p.dot, level, &p.tile_m, &p.tile_n);
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
