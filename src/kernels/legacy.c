/* Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and IQ4_NL in the reference engine's order. */
#include "kernels/kernels.h"
#include "quant/quant.h"

bool umi_kernels_plan_legacy(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                             umi_kernel_plan *p) {
    (void)k, (void)m, (void)n_tok, (void)tok;
    if (wtype == UMI_TYPE_Q8_0) {
        p->dot = umi_dot_q8_0_lanes8;
        return true;
    }
    return false;
}
