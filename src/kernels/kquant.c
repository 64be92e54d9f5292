/* Q2_K .. Q6_K and IQ4_XS in the reference engine's order. */
#include "kernels/kernels.h"
#include "quant/quant.h"

bool umi_kernels_plan_kquant(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                             umi_kernel_plan *p) {
    (void)wtype, (void)k, (void)m, (void)n_tok, (void)tok, (void)p;
    return false;
}
