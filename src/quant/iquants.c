/* Non-linear 4-bit types: IQ4_NL and IQ4_XS.
 *
 * Format facts (GGML's ggml-common.h; docs/FORMATS.md): the 4-bit code
 * indexes a fixed table of 16 int8 levels, denser near zero, instead of being
 * the level itself. IQ4_NL is laid out like Q4_0 (fp16 d, 32 codes) and is
 * dotted against Q8_0; IQ4_XS packs 8 sub-blocks of 32 under one fp16 d with
 * 6-bit signed sub-block scales and is dotted against Q8_K.
 */
#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"

/* Exact rounding order matters here (results must match the reference's
 * scalar path bit for bit): never fuse a*b + c. GCC does not in ISO C mode
 * (-std=c11); clang would by default. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

const int8_t umi_iq4nl_values[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

static inline float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

/* Level of element j (0..31) of a 16-byte group of codes: byte j holds
 * element j in its low nibble and element j + 16 in its high nibble. */
static inline int level(const uint8_t *qs, int j) {
    const int code = j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
    return umi_iq4nl_values[code];
}

/* ---------------------------------------------------------------- to_float */

void umi_quant_to_float_iq4_nl(const void *vx, float *y, int64_t n) {
    const umi_block_iq4_nl *x = vx;
    for (int64_t i = 0; i < n / UMI_QK4_NL; i++, y += UMI_QK4_NL) {
        const float d = half(x[i].d);
        for (int j = 0; j < UMI_QK4_NL; j++)
            y[j] = d * (float)level(x[i].qs, j);
    }
}

void umi_quant_to_float_iq4_xs(const void *vx, float *y, int64_t n) {
    const umi_block_iq4_xs *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++) {
        const float d = half(x[i].d);
        for (int sb = 0; sb < 8; sb++, y += 32) {
            const float dl = d * (float)umi_iq4_xs_scale(&x[i], sb);
            const uint8_t *qs = x[i].qs + 16 * sb;
            for (int j = 0; j < 32; j++)
                y[j] = dl * (float)level(qs, j);
        }
    }
}

/* ---------------------------------------------------------------- vec_dot */

void umi_quant_vec_dot_iq4_nl_q8_0(int n, float *s, const void *vx, const void *vy) {
    const umi_block_iq4_nl *x = vx;
    const umi_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK4_NL; i++) {
        int sumi = 0;
        for (int j = 0; j < UMI_QK4_NL; j++)
            sumi += y[i].qs[j] * level(x[i].qs, j);
        const float d = half(y[i].d) * half(x[i].d);
        sum += d * (float)sumi;
    }
    *s = sum;
}

/* One float product per 32-element sub-block: (d * d8 * scale) * sum. */
void umi_quant_vec_dot_iq4_xs_q8_K(int n, float *s, const void *vx, const void *vy) {
    const umi_block_iq4_xs *x = vx;
    const umi_block_q8_K *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK_K; i++) {
        const float d = half(x[i].d) * y[i].d;
        for (int sb = 0; sb < 8; sb++) {
            const uint8_t *qs = x[i].qs + 16 * sb;
            const int8_t *q8 = y[i].qs + 32 * sb;
            int sumi = 0;
            for (int j = 0; j < 32; j++)
                sumi += q8[j] * level(qs, j);
            sum += d * (float)umi_iq4_xs_scale(&x[i], sb) * (float)sumi;
        }
    }
    *s = sum;
}
