/* Which kernel serves a product: asks each type family in turn (kernels.h). */
#include "kernels/kernels.h"

#include "core/cpu.h"

umi_kernel_plan umi_kernels_plan(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok) {
    umi_kernel_plan p = {0};
    if (umi_kernels_plan_float(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_legacy(wtype, k, m, n_tok, tok, &p) ||
        umi_kernels_plan_kquant(wtype, k, m, n_tok, tok, &p)) {
        const int level = umi_cpu_level_get();
        if (p.dot && n_tok >= 2) p.tile = umi_kernels_tile_for(p.dot, level, &p.tile_m, &p.tile_n);
        if (p.dot) p.dot = umi_kernels_simd_twin(p.dot, level);
        return p;
    }
    return (umi_kernel_plan){0};
}
