/* The 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
 *
 * Format facts (GGML's ggml-common.h; docs/FORMATS.md): one fp16 scale d per
 * 32 elements (plus an fp16 offset m for the "_1" types); 4-bit quants packed
 * two per byte with byte j holding element j in its low nibble and element
 * j + 16 in its high nibble; the 5-bit types keep the 5th bits in a 32-bit
 * little-endian mask, bit j for element j.
 *
 * Weights of types _0 are dotted against Q8_0 activations, types _1 against
 * Q8_1 (whose s = d * sum(q) folds the offset m into one product per block).
 * The quantizers are the reference's simple deterministic ones ("_ref"), so a
 * tensor quantized here is byte-identical to one from llama-quantize without
 * an importance matrix.
 */
#include <float.h>
#include <math.h>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"

/* Exact rounding order matters here (results must match the reference's
 * scalar path bit for bit): never fuse a*b + c. GCC does not in ISO C mode
 * (-std=c11); clang would by default. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* ---------------------------------------------------------------- helpers */

static inline float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

static inline uint32_t load_u32_le(const uint8_t b[4]) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline void store_u32_le(uint8_t b[4], uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

/* Element j (0..31) of a 5-bit block: low nibble from qs, 5th bit from qh. */
static inline int quant5(const uint8_t *qs, uint32_t qh, int j) {
    const int nibble = j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
    return nibble | (int)((qh >> j) & 1u) << 4;
}

/* Element j (0..31) of a 4-bit block. */
static inline int quant4(const uint8_t *qs, int j) {
    return j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
}

/* Signed levels of the _0 types. */
static inline int level4_0(const uint8_t *qs, int j) {
    return quant4(qs, j) - 8;
}

static inline int level5_0(const uint8_t *qs, uint32_t qh, int j) {
    return quant5(qs, qh, j) - 16;
}

static inline int sum_q8(const int8_t *q) {
    int sum = 0;
    for (int j = 0; j < 32; j++)
        sum += q[j];
    return sum;
}

/* The element of largest magnitude, with its sign; the first one wins a tie
 * (the _0 quantizers map it to the extreme level -8 or -16). */
static float signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void min_max(const float *x, int n, float *min, float *max) {
    *min = FLT_MAX;
    *max = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < *min) *min = x[j];
        if (x[j] > *max) *max = x[j];
    }
}

/* Truncate toward zero (the reference converts v + 0.5 with a C cast) and
 * keep within 0..top, which only matters for inputs out of the block range. */
static inline int trunc_clamp(float v, int top) {
    int q = (int)v;
    return q < 0 ? 0 : q > top ? top : q;
}

/* ---------------------------------------------------------------- to_float */

void umi_quant_to_float_q4_0(const void *vx, float *y, int64_t n) {
    const umi_block_q4_0 *x = vx;
    for (int64_t i = 0; i < n / UMI_QK4_0; i++, y += UMI_QK4_0) {
        const float d = half(x[i].d);
        for (int j = 0; j < UMI_QK4_0; j++)
            y[j] = (float)level4_0(x[i].qs, j) * d;
    }
}

void umi_quant_to_float_q4_1(const void *vx, float *y, int64_t n) {
    const umi_block_q4_1 *x = vx;
    for (int64_t i = 0; i < n / UMI_QK4_1; i++, y += UMI_QK4_1) {
        const float d = half(x[i].d), m = half(x[i].m);
        for (int j = 0; j < UMI_QK4_1; j++)
            y[j] = (float)quant4(x[i].qs, j) * d + m;
    }
}

void umi_quant_to_float_q5_0(const void *vx, float *y, int64_t n) {
    const umi_block_q5_0 *x = vx;
    for (int64_t i = 0; i < n / UMI_QK5_0; i++, y += UMI_QK5_0) {
        const float d = half(x[i].d);
        const uint32_t qh = load_u32_le(x[i].qh);
        for (int j = 0; j < UMI_QK5_0; j++)
            y[j] = (float)level5_0(x[i].qs, qh, j) * d;
    }
}

void umi_quant_to_float_q5_1(const void *vx, float *y, int64_t n) {
    const umi_block_q5_1 *x = vx;
    for (int64_t i = 0; i < n / UMI_QK5_1; i++, y += UMI_QK5_1) {
        const float d = half(x[i].d), m = half(x[i].m);
        const uint32_t qh = load_u32_le(x[i].qh);
        for (int j = 0; j < UMI_QK5_1; j++)
            y[j] = (float)quant5(x[i].qs, qh, j) * d + m;
    }
}

void umi_quant_to_float_q8_0(const void *vx, float *y, int64_t n) {
    const umi_block_q8_0 *x = vx;
    for (int64_t i = 0; i < n / UMI_QK8_0; i++, y += UMI_QK8_0) {
        const float d = half(x[i].d);
        for (int j = 0; j < UMI_QK8_0; j++)
            y[j] = (float)x[i].qs[j] * d;
    }
}

void umi_quant_to_float_q8_1(const void *vx, float *y, int64_t n) {
    const umi_block_q8_1 *x = vx;
    for (int64_t i = 0; i < n / UMI_QK8_1; i++, y += UMI_QK8_1) {
        const float d = half(x[i].d); /* s is redundant for decoding */
        for (int j = 0; j < UMI_QK8_1; j++)
            y[j] = (float)x[i].qs[j] * d;
    }
}

/* ---------------------------------------------------------------- from_float */

/* Q4_0: d = -max/8 so that the largest-magnitude element lands exactly on
 * level 0 (value -8 * d); levels are then floor(x/d + 8.5), capped at 15. */
void umi_quant_from_float_q4_0(const float *x, void *vy, int64_t n) {
    umi_block_q4_0 *y = vy;
    for (int64_t i = 0; i < n / UMI_QK4_0; i++, x += UMI_QK4_0) {
        const float d = signed_absmax(x, UMI_QK4_0) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = umi_fp32_to_fp16(d);
        for (int j = 0; j < UMI_QK4_0 / 2; j++) {
            const int lo = trunc_clamp(x[j] * id + 8.5f, 15);
            const int hi = trunc_clamp(x[j + 16] * id + 8.5f, 15);
            y[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

/* Q4_1: 16 levels spanning [min, max]; m = min, d = (max - min)/15. */
void umi_quant_from_float_q4_1(const float *x, void *vy, int64_t n) {
    umi_block_q4_1 *y = vy;
    for (int64_t i = 0; i < n / UMI_QK4_1; i++, x += UMI_QK4_1) {
        float min, max;
        min_max(x, UMI_QK4_1, &min, &max);
        const float d = (max - min) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = umi_fp32_to_fp16(d);
        y[i].m = umi_fp32_to_fp16(min);
        for (int j = 0; j < UMI_QK4_1 / 2; j++) {
            const int lo = trunc_clamp((x[j] - min) * id + 0.5f, 15);
            const int hi = trunc_clamp((x[j + 16] - min) * id + 0.5f, 15);
            y[i].qs[j] = (uint8_t)(lo | hi << 4);
        }
    }
}

/* Q5_0: as Q4_0 with 32 levels, d = -max/16. */
void umi_quant_from_float_q5_0(const float *x, void *vy, int64_t n) {
    umi_block_q5_0 *y = vy;
    for (int64_t i = 0; i < n / UMI_QK5_0; i++, x += UMI_QK5_0) {
        const float d = signed_absmax(x, UMI_QK5_0) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = umi_fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < UMI_QK5_0 / 2; j++) {
            const int lo = trunc_clamp(x[j] * id + 16.5f, 31);
            const int hi = trunc_clamp(x[j + 16] * id + 16.5f, 31);
            y[i].qs[j] = (uint8_t)((lo & 0x0f) | (hi & 0x0f) << 4);
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
        }
        store_u32_le(y[i].qh, qh);
    }
}

/* Q5_1: as Q4_1 with 32 levels, d = (max - min)/31. */
void umi_quant_from_float_q5_1(const float *x, void *vy, int64_t n) {
    umi_block_q5_1 *y = vy;
    for (int64_t i = 0; i < n / UMI_QK5_1; i++, x += UMI_QK5_1) {
        float min, max;
        min_max(x, UMI_QK5_1, &min, &max);
        const float d = (max - min) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = umi_fp32_to_fp16(d);
        y[i].m = umi_fp32_to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < UMI_QK5_1 / 2; j++) {
            const int lo = trunc_clamp((x[j] - min) * id + 0.5f, 31);
            const int hi = trunc_clamp((x[j + 16] - min) * id + 0.5f, 31);
            y[i].qs[j] = (uint8_t)((lo & 0x0f) | (hi & 0x0f) << 4);
            qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
        }
        store_u32_le(y[i].qh, qh);
    }
}

static float absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++)
        amax = fmaxf(amax, fabsf(x[j]));
    return amax;
}

/* Q8_0: symmetric, d = amax/127, q = roundf(x/d) (ties away from zero);
 * the reciprocal is taken of the fp32 d, before d is rounded to fp16. */
void umi_quant_from_float_q8_0(const float *x, void *vy, int64_t n) {
    umi_block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / UMI_QK8_0; i++, x += UMI_QK8_0) {
        const float d = absmax(x, UMI_QK8_0) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = umi_fp32_to_fp16(d);
        for (int j = 0; j < UMI_QK8_0; j++)
            y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

/* Q8_1: Q8_0 plus s = fp16(sum(q) * d) with the fp32 d. */
void umi_quant_from_float_q8_1(const float *x, void *vy, int64_t n) {
    umi_block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / UMI_QK8_1; i++, x += UMI_QK8_1) {
        const float d = absmax(x, UMI_QK8_1) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = umi_fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < UMI_QK8_1; j++) {
            y[i].qs[j] = (int8_t)roundf(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].s = umi_fp32_to_fp16((float)sum * d);
    }
}

/* ---------------------------------------------------------------- vec_dot
 *
 * One exact integer sum per block, then float scaling. The grouping of the
 * float products differs between types on purpose: it is the reference's,
 * and float multiplication is not associative. */

void umi_quant_vec_dot_q4_0_q8_0(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q4_0 *x = vx;
    const umi_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK8_0; i++) {
        /* sum((q - 8) * y) as sum(q * y) - 8 * sum(y): the same integer.
         * Written this way because GCC 12.2 with AVX512-VNNI vectorizes
         * `sum += (nibble - 8) * int8` into an unsigned-by-signed byte dot
         * product (vpdpbusd) and so gets it wrong. */
        int sumi = 0;
        for (int j = 0; j < UMI_QK8_0; j++)
            sumi += quant4(x[i].qs, j) * y[i].qs[j];
        sumi -= 8 * sum_q8(y[i].qs);
        sum += (float)sumi * half(x[i].d) * half(y[i].d);
    }
    *s = sum;
}

void umi_quant_vec_dot_q4_1_q8_1(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q4_1 *x = vx;
    const umi_block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK8_1; i++) {
        int sumi = 0;
        for (int j = 0; j < UMI_QK8_1; j++)
            sumi += quant4(x[i].qs, j) * y[i].qs[j];
        /* sum((q*dx + m) * qy*dy) = dx*dy*sum(q*qy) + m*(dy*sum(qy)) */
        sum += half(x[i].d) * half(y[i].d) * (float)sumi + half(x[i].m) * half(y[i].s);
    }
    *s = sum;
}

void umi_quant_vec_dot_q5_0_q8_0(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q5_0 *x = vx;
    const umi_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK8_0; i++) {
        const uint32_t qh = load_u32_le(x[i].qh);
        int sumi = 0; /* sum((q - 16) * y), computed as in Q4_0 */
        for (int j = 0; j < UMI_QK8_0; j++)
            sumi += quant5(x[i].qs, qh, j) * y[i].qs[j];
        sumi -= 16 * sum_q8(y[i].qs);
        sum += (half(x[i].d) * half(y[i].d)) * (float)sumi;
    }
    *s = sum;
}

void umi_quant_vec_dot_q5_1_q8_1(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q5_1 *x = vx;
    const umi_block_q8_1 *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK8_1; i++) {
        const uint32_t qh = load_u32_le(x[i].qh);
        int sumi = 0;
        for (int j = 0; j < UMI_QK8_1; j++)
            sumi += quant5(x[i].qs, qh, j) * y[i].qs[j];
        sum += half(x[i].d) * half(y[i].d) * (float)sumi + half(x[i].m) * half(y[i].s);
    }
    *s = sum;
}

void umi_quant_vec_dot_q8_0_q8_0(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q8_0 *x = vx;
    const umi_block_q8_0 *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < UMI_QK8_0; j++)
            sumi += x[i].qs[j] * y[i].qs[j];
        sum += (float)sumi * (half(x[i].d) * half(y[i].d));
    }
    *s = sum;
}
