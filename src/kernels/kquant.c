/* Q2_K .. Q6_K and IQ4_XS in the reference engine's order: which kernel the
 * reference's x86 AVX-512 build runs for each product (see kquant.h for the
 * orders themselves).
 *
 *  - Q2_K (AVX-512) and Q4_K (AVX2) weights with m % 8 == 0 are repacked at
 *    load into 8-row interleaved blocks. A product of n tokens then sends
 *    the first n - n % 4 tokens (only when n >= 4) through the 4-row gemm,
 *    with activations quantized 4 rows at a time, and the remaining n % 4
 *    through the gemv with the ordinary Q8_K quantizer.
 *  - Every other case (Q3_K, Q5_K, Q6_K, IQ4_XS, and Q2_K/Q4_K with
 *    m % 8 != 0) uses the type's vec_dot for every token, batch or not: the
 *    reference's batched tinyBLAS path has no K-quants. Its Q8_K quantizer is
 *    the generic one (the traits' from_float).
 *
 * Embedding lookups (get_rows) never reach a plan; a tied output matrix is
 * a matmul like any other here. */
#include "kernels/kernels.h"
#include "kernels/kquant.h"
#include "quant/quant.h"

/* The reference's repacked layouts interleave 8 weight rows. */
enum { REPACK_ROWS = 8, GEMM_TOKENS = 4 };

static bool in_gemm(int n_tok, int tok) {
    return tok < n_tok - n_tok % GEMM_TOKENS;
}

bool umi_kernels_plan_kquant(uint32_t wtype, int64_t k, int64_t m, int n_tok, int tok,
                             umi_kernel_plan *p) {
    (void)k;
    const bool repacked = m % REPACK_ROWS == 0;
    switch (wtype) {
    case UMI_TYPE_Q2_K:
        if (!repacked) p->dot = umi_dot_q2_K_lanes8;
        else if (in_gemm(n_tok, tok))
            p->dot = umi_dot_q2_K_gemm, p->act = umi_quant_from_float_q8_K_x4;
        else p->dot = umi_dot_q2_K_gemv;
        return true;
    case UMI_TYPE_Q4_K:
        if (!repacked) p->dot = umi_dot_q4_K_lanes8;
        else if (in_gemm(n_tok, tok))
            p->dot = umi_dot_q4_K_gemm, p->act = umi_quant_from_float_q8_K_x4;
        else p->dot = umi_dot_q4_K_gemv;
        return true;
    case UMI_TYPE_Q3_K: p->dot = umi_dot_q3_K_lanes8; return true;
    case UMI_TYPE_Q5_K: p->dot = umi_dot_q5_K_lanes8; return true;
    case UMI_TYPE_Q6_K: p->dot = umi_dot_q6_K_lanes8; return true;
    case UMI_TYPE_IQ4_XS: p->dot = umi_dot_iq4_xs_lanes8; return true;
    default: return false;
    }
}
