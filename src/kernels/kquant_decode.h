/* Unpacking one K-quant / IQ4_XS super-block into plain integers, for the
 * ordered dots of kquant_lanes.c and kquant_repack.c (layouts: quant/blocks.h,
 * docs/FORMATS.md).
 *
 * w[e] is the integer the reference's kernels multiply with activation e
 * (for Q6_K the unsigned 0..63 code: its -32 is applied through the
 * activation block sums), sc[s] the scale of 16-element group s (types with
 * 32-element sub-blocks repeat it), mn[s] the min where the type has one. */
#ifndef UMI_KERNELS_KQUANT_DECODE_H
#define UMI_KERNELS_KQUANT_DECODE_H

#include <stdint.h>

#include "quant/blocks.h"

enum { KQ_GROUPS = UMI_QK_K / 16 };

typedef struct kq_unpacked {
    int8_t w[UMI_QK_K];
    int sc[KQ_GROUPS];
    int mn[KQ_GROUPS];
} kq_unpacked;

/* 2-bit field e of a 64-byte array: half e/128 uses 32 bytes, bit pair
 * (e%128)/32, byte e%32. */
static inline int kq_bits2(const uint8_t *qs, int e) {
    return (qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

/* 4-bit field e of a 128-byte array: chunk e/64 uses 32 bytes, low nibble
 * for its first 32 elements, high nibble for the next 32. */
static inline int kq_bits4(const uint8_t *qs, int e) {
    const uint8_t byte = qs[(e / 64) * 32 + e % 32];
    return (e / 32) % 2 ? byte >> 4 : byte & 0x0f;
}

static inline void kq_unpack_q2_K(const umi_block_q2_K *b, kq_unpacked *u) {
    for (int e = 0; e < UMI_QK_K; e++) u->w[e] = (int8_t)kq_bits2(b->qs, e);
    for (int s = 0; s < KQ_GROUPS; s++) {
        u->sc[s] = b->scales[s] & 0x0f;
        u->mn[s] = b->scales[s] >> 4;
    }
}

/* Q3_K: low 2 bits minus 4 unless the high bit (bit e/32 of hmask[e%32]) is set. */
static inline void kq_unpack_q3_K(const umi_block_q3_K *b, kq_unpacked *u) {
    for (int e = 0; e < UMI_QK_K; e++) {
        const int high = (b->hmask[e % 32] >> (e / 32)) & 1;
        u->w[e] = (int8_t)(kq_bits2(b->qs, e) - (high ? 0 : 4));
    }
    for (int s = 0; s < KQ_GROUPS; s++) u->sc[s] = umi_q3_K_scale(b->scales, s), u->mn[s] = 0;
}

static inline void kq_scales_k4(const uint8_t *packed, kq_unpacked *u) {
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        umi_q4_K_scale_min(packed, j, &sc, &mn);
        u->sc[2 * j] = u->sc[2 * j + 1] = sc;
        u->mn[2 * j] = u->mn[2 * j + 1] = mn;
    }
}

static inline void kq_unpack_q4_K(const umi_block_q4_K *b, kq_unpacked *u) {
    for (int c = 0; c < UMI_QK_K / 64; c++) /* 64-element chunks of 32 bytes */
        for (int l = 0; l < 32; l++) {
            u->w[64 * c + l] = (int8_t)(b->qs[32 * c + l] & 0x0f);
            u->w[64 * c + 32 + l] = (int8_t)(b->qs[32 * c + l] >> 4);
        }
    kq_scales_k4(b->scales, u);
}

/* Q5_K: the 5th bit of e is bit e/32 of qh[e%32]. */
static inline void kq_unpack_q5_K(const umi_block_q5_K *b, kq_unpacked *u) {
    for (int e = 0; e < UMI_QK_K; e++)
        u->w[e] = (int8_t)(kq_bits4(b->qs, e) | ((b->qh[e % 32] >> (e / 32)) & 1) << 4);
    kq_scales_k4(b->scales, u);
}

/* Q6_K code 0..63. Within half h, quarter g and position l: low nibble of
 * ql[64h + 32(g%2) + l] (low for g < 2, high after), top bits from bit pair
 * g of qh[32h + l]. */
static inline void kq_unpack_q6_K(const umi_block_q6_K *b, kq_unpacked *u) {
    for (int e = 0; e < UMI_QK_K; e++) {
        const int h = e / 128, g = (e % 128) / 32, l = e % 32;
        const uint8_t lo = b->ql[64 * h + 32 * (g % 2) + l];
        const int low = g < 2 ? lo & 0x0f : lo >> 4;
        u->w[e] = (int8_t)(low | ((b->qh[32 * h + l] >> (2 * g)) & 3) << 4);
    }
    for (int s = 0; s < KQ_GROUPS; s++) u->sc[s] = b->scales[s], u->mn[s] = 0;
}

/* IQ4_XS: sub-block s of 32 has codes in qs[16s..]: byte j holds element j
 * (low nibble) and j + 16 (high nibble). */
static inline void kq_unpack_iq4_xs(const umi_block_iq4_xs *b, kq_unpacked *u) {
    for (int s = 0; s < UMI_QK_K / 32; s++)
        for (int j = 0; j < 16; j++) {
            const uint8_t byte = b->qs[16 * s + j];
            u->w[32 * s + j] = umi_iq4nl_values[byte & 0x0f];
            u->w[32 * s + j + 16] = umi_iq4nl_values[byte >> 4];
        }
    for (int s = 0; s < KQ_GROUPS; s++) u->sc[s] = umi_iq4_xs_scale(b, s / 2), u->mn[s] = 0;
}

/* sum over e in [e0, e1) of sc[e/16] * w[e] * q8[e]: exact in int32. */
static inline int32_t kq_scaled_sum(const kq_unpacked *u, const int8_t *q8, int e0, int e1) {
    int32_t sum = 0;
    for (int e = e0; e < e1; e++) sum += u->sc[e / 16] * (u->w[e] * q8[e]);
    return sum;
}

#endif
