/* K-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and the activation type Q8_K.
 *
 * Format facts (GGML's ggml-common.h; docs/FORMATS.md): 256-weight
 * super-blocks with one or two fp16 super-scales and per-sub-block integer
 * scales (Q2_K: 16 sub-blocks of 16 with 4-bit scale and min; Q3_K: 16 of 16
 * with 6-bit signed scales; Q4_K/Q5_K: 8 of 32 with 6-bit scale and min;
 * Q6_K: 16 of 16 with int8 scales). Quants are interleaved in 128-element
 * halves: for the 2-bit fields, byte l of a 32-byte group holds elements l,
 * l+32, l+64, l+96 of the half in bit pairs 0-1, 2-3, 4-5, 6-7; for 4-bit
 * fields, byte l of a 32-byte group holds elements l (low nibble) and l+32
 * (high nibble) of a 64-element chunk.
 *
 * All K-quants are dotted against Q8_K: fp32 scale d, 256 int8 quants and
 * the sums of each 16 quants (bsums), which let the "- dmin * min" part of
 * Q2_K/Q4_K/Q5_K be applied per sub-block without touching the quants.
 *
 * The dot products of Q3_K..Q6_K keep eight lane accumulators (element j goes
 * to lane j % 8), scale each lane by d per block in float and add the lanes
 * at the end: that is how the reference's scalar path groups the float
 * roundings, so results match it bit for bit.
 *
 * Quantizers for the weight types are not here yet (traits from_float NULL).
 */
#include <math.h>
#include <string.h>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/quant.h"

/* Exact rounding order matters here (results must match the reference's
 * scalar path bit for bit): never fuse a*b + c. GCC does not in ISO C mode
 * (-std=c11); clang would by default. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

enum { N_LANES = 8 };

static inline float half(uint16_t h) {
    return umi_fp16_to_fp32(h);
}

/* ---------------------------------------------------------------- element access */

/* 2-bit field j (0..255) of a Q2_K/Q3_K qs array: half j/128 uses bytes
 * 32*(j/128).., bit pair (j%128)/32, byte j%32. */
static inline int quant2(const uint8_t *qs, int j) {
    return (qs[(j / 128) * 32 + j % 32] >> (2 * ((j % 128) / 32))) & 3;
}

/* Q3_K quant j in -4..3: the low two bits, minus 4 unless the high bit
 * (bit j/32 of hmask byte j%32) is set. */
static inline int8_t quant3(const umi_block_q3_K *b, int j) {
    const int high = (b->hmask[j % 32] >> (j / 32)) & 1;
    return (int8_t)(quant2(b->qs, j) - (high ? 0 : 4));
}

/* 4-bit field j of a Q4_K/Q5_K qs array: chunk j/64 uses bytes 32*(j/64)..,
 * low nibble for the first 32 elements of the chunk, high for the next. */
static inline int quant4(const uint8_t *qs, int j) {
    const uint8_t byte = qs[(j / 64) * 32 + j % 32];
    return (j / 32) % 2 ? byte >> 4 : byte & 0x0f;
}

/* Q5_K quant j in 0..31: 5th bit is bit j/32 of qh byte j%32. */
static inline int quant5(const umi_block_q5_K *b, int j) {
    return quant4(b->qs, j) | ((b->qh[j % 32] >> (j / 32)) & 1) << 4;
}

/* Q6_K quant j in -32..31. Within a 128-element half h, quarter g = 0..3 and
 * position l = 0..31: low nibble from ql[64h + 32(g%2) + l] (low nibble for
 * g < 2, high for g >= 2), high two bits from qh[32h + l] bit pair g. */
static inline int8_t quant6(const umi_block_q6_K *b, int j) {
    const int h = j / 128, g = (j % 128) / 32, l = j % 32;
    const uint8_t low_byte = b->ql[64 * h + 32 * (g % 2) + l];
    const int low = g < 2 ? low_byte & 0x0f : low_byte >> 4;
    const int high = (b->qh[32 * h + l] >> (2 * g)) & 3;
    return (int8_t)((low | high << 4) - 32);
}

static void unpack_scale_min_k4(const uint8_t *packed, int sc[8], int mn[8]) {
    for (int j = 0; j < 8; j++)
        umi_q4_K_scale_min(packed, j, &sc[j], &mn[j]);
}

/* ---------------------------------------------------------------- to_float */

void umi_quant_to_float_q2_K(const void *vx, float *y, int64_t n) {
    const umi_block_q2_K *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, y += UMI_QK_K) {
        const float d = half(x[i].d), dmin = half(x[i].dmin);
        for (int sb = 0; sb < 16; sb++) {
            const float dl = d * (float)(x[i].scales[sb] & 0x0f);
            const float ml = dmin * (float)(x[i].scales[sb] >> 4);
            for (int j = 16 * sb; j < 16 * sb + 16; j++)
                y[j] = dl * (float)quant2(x[i].qs, j) - ml;
        }
    }
}

void umi_quant_to_float_q3_K(const void *vx, float *y, int64_t n) {
    const umi_block_q3_K *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, y += UMI_QK_K) {
        const float d = half(x[i].d);
        for (int sb = 0; sb < 16; sb++) {
            const float dl = d * (float)umi_q3_K_scale(x[i].scales, sb);
            for (int j = 16 * sb; j < 16 * sb + 16; j++)
                y[j] = dl * (float)quant3(&x[i], j);
        }
    }
}

void umi_quant_to_float_q4_K(const void *vx, float *y, int64_t n) {
    const umi_block_q4_K *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, y += UMI_QK_K) {
        const float d = half(x[i].d), dmin = half(x[i].dmin);
        for (int sb = 0; sb < 8; sb++) {
            int sc, mn;
            umi_q4_K_scale_min(x[i].scales, sb, &sc, &mn);
            const float dl = d * (float)sc, ml = dmin * (float)mn;
            for (int j = 32 * sb; j < 32 * sb + 32; j++)
                y[j] = dl * (float)quant4(x[i].qs, j) - ml;
        }
    }
}

void umi_quant_to_float_q5_K(const void *vx, float *y, int64_t n) {
    const umi_block_q5_K *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, y += UMI_QK_K) {
        const float d = half(x[i].d), dmin = half(x[i].dmin);
        for (int sb = 0; sb < 8; sb++) {
            int sc, mn;
            umi_q4_K_scale_min(x[i].scales, sb, &sc, &mn);
            const float dl = d * (float)sc, ml = dmin * (float)mn;
            for (int j = 32 * sb; j < 32 * sb + 32; j++)
                y[j] = dl * (float)quant5(&x[i], j) - ml;
        }
    }
}

void umi_quant_to_float_q6_K(const void *vx, float *y, int64_t n) {
    const umi_block_q6_K *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, y += UMI_QK_K) {
        const float d = half(x[i].d);
        /* (d * scale) * q: the scale product is rounded first */
        for (int j = 0; j < UMI_QK_K; j++)
            y[j] = d * (float)x[i].scales[j / 16] * (float)quant6(&x[i], j);
    }
}

void umi_quant_to_float_q8_K(const void *vx, float *y, int64_t n) {
    const umi_block_q8_K *x = vx;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, y += UMI_QK_K) {
        for (int j = 0; j < UMI_QK_K; j++)
            y[j] = x[i].d * (float)x[i].qs[j];
    }
}

/* ---------------------------------------------------------------- Q8_K quantizer */

/* Round to nearest, ties to even, for |v| < 2^22: adding 1.5 * 2^23 moves v
 * into [2^23, 2^24), where the float spacing is exactly 1, so the addition
 * itself rounds (in the default rounding mode) and the integer sits in the
 * low mantissa bits, offset by 2^22. */
static inline int round_ties_even(float v) {
    const float biased = v + 12582912.0f;
    uint32_t bits;
    memcpy(&bits, &biased, sizeof bits);
    return (int)(bits & 0x7fffffu) - 0x400000;
}

/* Q8_K: scale from the signed element of largest magnitude (first on ties):
 * iscale = -127/max, so that element becomes -127 and d = 1/iscale is
 * negative when max is positive. Quants are capped at 127 (never -128). */
void umi_quant_from_float_q8_K(const float *x, void *vy, int64_t n) {
    umi_block_q8_K *y = vy;
    for (int64_t i = 0; i < n / UMI_QK_K; i++, x += UMI_QK_K) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < UMI_QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) { /* all zero (the reference leaves bsums unset here) */
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < UMI_QK_K; j++) {
            const int q = round_ties_even(iscale * x[j]);
            y[i].qs[j] = (int8_t)(q > 127 ? 127 : q);
        }
        for (int g = 0; g < UMI_QK_K / 16; g++) {
            int sum = 0;
            for (int j = 16 * g; j < 16 * g + 16; j++)
                sum += y[i].qs[j];
            y[i].bsums[g] = (int16_t)sum;
        }
        y[i].d = 1.0f / iscale;
    }
}

/* ---------------------------------------------------------------- vec_dot */

/* Adds the eight lanes in order, after any terms already in total. */
static float sum_lanes(float total, const float lanes[N_LANES]) {
    for (int l = 0; l < N_LANES; l++)
        total += lanes[l];
    return total;
}

/* sum over the 16 groups of bsums[g] * min of g's sub-block (mins are per
 * 32 elements for Q4_K/Q5_K: two groups share one). */
static int min_dot_bsums_k4(const umi_block_q8_K *y, const int mn[8]) {
    int sum = 0;
    for (int g = 0; g < 16; g++)
        sum += y->bsums[g] * mn[g / 2];
    return sum;
}

void umi_quant_vec_dot_q2_K_q8_K(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q2_K *x = vx;
    const umi_block_q8_K *y = vy;
    float sum = 0.0f;
    for (int i = 0; i < n / UMI_QK_K; i++) {
        int min_sum = 0, isum = 0;
        for (int sb = 0; sb < 16; sb++) {
            min_sum += y[i].bsums[sb] * (x[i].scales[sb] >> 4);
            int part = 0;
            for (int j = 16 * sb; j < 16 * sb + 16; j++)
                part += y[i].qs[j] * quant2(x[i].qs, j);
            isum += (x[i].scales[sb] & 0x0f) * part;
        }
        const float dall = y[i].d * half(x[i].d);
        const float dmin = y[i].d * half(x[i].dmin);
        sum += dall * (float)isum - dmin * (float)min_sum;
    }
    *s = sum;
}

void umi_quant_vec_dot_q3_K_q8_K(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q3_K *x = vx;
    const umi_block_q8_K *y = vy;
    float lanes[N_LANES] = {0};
    for (int i = 0; i < n / UMI_QK_K; i++) {
        int scale[16];
        for (int sb = 0; sb < 16; sb++)
            scale[sb] = umi_q3_K_scale(x[i].scales, sb);
        int32_t acc[N_LANES] = {0};
        for (int j = 0; j < UMI_QK_K; j++)
            acc[j % N_LANES] += scale[j / 16] * (y[i].qs[j] * quant3(&x[i], j));
        const float d = half(x[i].d) * y[i].d;
        for (int l = 0; l < N_LANES; l++)
            lanes[l] += d * (float)acc[l];
    }
    *s = sum_lanes(0.0f, lanes);
}

void umi_quant_vec_dot_q4_K_q8_K(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q4_K *x = vx;
    const umi_block_q8_K *y = vy;
    float lanes[N_LANES] = {0};
    float mins = 0.0f;
    for (int i = 0; i < n / UMI_QK_K; i++) {
        int sc[8], mn[8];
        unpack_scale_min_k4(x[i].scales, sc, mn);
        int32_t acc[N_LANES] = {0};
        for (int j = 0; j < UMI_QK_K; j++)
            acc[j % N_LANES] += sc[j / 32] * (y[i].qs[j] * quant4(x[i].qs, j));
        const float d = half(x[i].d) * y[i].d;
        for (int l = 0; l < N_LANES; l++)
            lanes[l] += d * (float)acc[l];
        const float dmin = half(x[i].dmin) * y[i].d;
        mins -= dmin * (float)min_dot_bsums_k4(&y[i], mn);
    }
    *s = sum_lanes(mins, lanes);
}

void umi_quant_vec_dot_q5_K_q8_K(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q5_K *x = vx;
    const umi_block_q8_K *y = vy;
    float lanes[N_LANES] = {0};
    float mins = 0.0f;
    for (int i = 0; i < n / UMI_QK_K; i++) {
        int sc[8], mn[8];
        unpack_scale_min_k4(x[i].scales, sc, mn);
        int32_t acc[N_LANES] = {0};
        for (int j = 0; j < UMI_QK_K; j++)
            acc[j % N_LANES] += sc[j / 32] * (y[i].qs[j] * quant5(&x[i], j));
        const float d = half(x[i].d) * y[i].d;
        for (int l = 0; l < N_LANES; l++)
            lanes[l] += d * (float)acc[l];
        const float dmin = half(x[i].dmin) * y[i].d;
        mins -= dmin * (float)min_dot_bsums_k4(&y[i], mn);
    }
    *s = sum_lanes(mins, lanes);
}

void umi_quant_vec_dot_q6_K_q8_K(int n, float *s, const void *vx, const void *vy) {
    const umi_block_q6_K *x = vx;
    const umi_block_q8_K *y = vy;
    float lanes[N_LANES] = {0};
    for (int i = 0; i < n / UMI_QK_K; i++) {
        int32_t acc[N_LANES] = {0};
        for (int j = 0; j < UMI_QK_K; j++)
            acc[j % N_LANES] += x[i].scales[j / 16] * (y[i].qs[j] * quant6(&x[i], j));
        const float d = half(x[i].d) * y[i].d;
        for (int l = 0; l < N_LANES; l++)
            lanes[l] += d * (float)acc[l];
    }
    *s = sum_lanes(0.0f, lanes);
}
