/* Block layouts of the quantized tensor types, byte for byte as stored in
 * GGUF files (GGML's layouts; see docs/FORMATS.md for the meaning of every
 * field and the order in which elements are packed).
 *
 * Half-precision fields are kept as raw uint16_t bits and converted with
 * core/fp16.h. Multi-byte fields are little-endian in files; umi only builds
 * for little-endian hosts, so they are read in place.
 */
#ifndef UMI_QUANT_BLOCKS_H
#define UMI_QUANT_BLOCKS_H

#include <assert.h>
#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "umi reads GGUF block fields in place and needs a little-endian host"
#endif

enum {
    UMI_QK4_0 = 32, /* elements per block of the 32-wide "legacy" types */
    UMI_QK4_1 = 32,
    UMI_QK5_0 = 32,
    UMI_QK5_1 = 32,
    UMI_QK8_0 = 32,
    UMI_QK8_1 = 32,
    UMI_QK4_NL = 32,
    UMI_QK_K = 256,       /* elements per K-quant super-block (and IQ4_XS) */
    UMI_K_SCALE_SIZE = 12 /* bytes of packed 6-bit scales+mins in Q4_K/Q5_K */
};

/* ---------------------------------------------------------------- 32-wide blocks */

/* Q4_0: x = d * (q - 8), q in 0..15. */
typedef struct umi_block_q4_0 {
    uint16_t d;                /* fp16 scale */
    uint8_t qs[UMI_QK4_0 / 2]; /* byte j: element j (low nibble), j+16 (high) */
} umi_block_q4_0;
static_assert(sizeof(umi_block_q4_0) == 18, "q4_0 block is 18 bytes");

/* Q4_1: x = d * q + m, q in 0..15. */
typedef struct umi_block_q4_1 {
    uint16_t d; /* fp16 scale */
    uint16_t m; /* fp16 offset (the block minimum) */
    uint8_t qs[UMI_QK4_1 / 2];
} umi_block_q4_1;
static_assert(sizeof(umi_block_q4_1) == 20, "q4_1 block is 20 bytes");

/* Q5_0: x = d * (q - 16), q in 0..31; the 5th bits sit in qh. */
typedef struct umi_block_q5_0 {
    uint16_t d;
    uint8_t qh[4]; /* little-endian u32: bit j is the 5th bit of element j */
    uint8_t qs[UMI_QK5_0 / 2];
} umi_block_q5_0;
static_assert(sizeof(umi_block_q5_0) == 22, "q5_0 block is 22 bytes");

/* Q5_1: x = d * q + m, q in 0..31. */
typedef struct umi_block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t qh[4];
    uint8_t qs[UMI_QK5_1 / 2];
} umi_block_q5_1;
static_assert(sizeof(umi_block_q5_1) == 24, "q5_1 block is 24 bytes");

/* Q8_0: x = d * q, q in -127..127 (a weight type and the activation type
 * paired with Q4_0, Q5_0, Q8_0 and IQ4_NL). */
typedef struct umi_block_q8_0 {
    uint16_t d;
    int8_t qs[UMI_QK8_0];
} umi_block_q8_0;
static_assert(sizeof(umi_block_q8_0) == 34, "q8_0 block is 34 bytes");

/* Q8_1: Q8_0 plus s = d * sum(q), the activation type paired with Q4_1/Q5_1
 * (s lets their offset m be applied once per block). */
typedef struct umi_block_q8_1 {
    uint16_t d;
    uint16_t s; /* fp16 of d * sum(qs) */
    int8_t qs[UMI_QK8_1];
} umi_block_q8_1;
static_assert(sizeof(umi_block_q8_1) == 36, "q8_1 block is 36 bytes");

/* IQ4_NL: x = d * kvalues[q], q in 0..15 indexing a fixed non-uniform table. */
typedef struct umi_block_iq4_nl {
    uint16_t d;
    uint8_t qs[UMI_QK4_NL / 2]; /* nibble order as Q4_0 */
} umi_block_iq4_nl;
static_assert(sizeof(umi_block_iq4_nl) == 18, "iq4_nl block is 18 bytes");

/* ---------------------------------------------------------------- 256-wide super-blocks */

/* Q2_K: 16 sub-blocks of 16; x = d * sc * q - dmin * mn, q in 0..3,
 * sc and mn 4-bit per sub-block. */
typedef struct umi_block_q2_K {
    uint8_t scales[UMI_QK_K / 16]; /* sub-block j: low nibble sc, high nibble mn */
    uint8_t qs[UMI_QK_K / 4];      /* 2-bit quants, 4 per byte */
    uint16_t d;                    /* fp16 scale of the scales */
    uint16_t dmin;                 /* fp16 scale of the mins */
} umi_block_q2_K;
static_assert(sizeof(umi_block_q2_K) == 84, "q2_K block is 84 bytes");

/* Q3_K: 16 sub-blocks of 16; x = d * (sc - 32) * (q - 4*!hbit), q low bits
 * in 0..3, sc 6-bit. */
typedef struct umi_block_q3_K {
    uint8_t hmask[UMI_QK_K / 8]; /* high bit of each quant (set: no -4) */
    uint8_t qs[UMI_QK_K / 4];    /* low 2 bits */
    uint8_t scales[12];          /* 16 packed 6-bit scales */
    uint16_t d;
} umi_block_q3_K;
static_assert(sizeof(umi_block_q3_K) == 110, "q3_K block is 110 bytes");

/* Q4_K: 8 sub-blocks of 32; x = d * sc * q - dmin * mn, q in 0..15,
 * sc and mn 6-bit. */
typedef struct umi_block_q4_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[UMI_K_SCALE_SIZE]; /* 8 scales + 8 mins, 6 bits each */
    uint8_t qs[UMI_QK_K / 2];
} umi_block_q4_K;
static_assert(sizeof(umi_block_q4_K) == 144, "q4_K block is 144 bytes");

/* Q5_K: Q4_K plus a 5th bit per quant, q in 0..31. */
typedef struct umi_block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[UMI_K_SCALE_SIZE];
    uint8_t qh[UMI_QK_K / 8]; /* byte l, bit b: 5th bit of element 32*b + l */
    uint8_t qs[UMI_QK_K / 2];
} umi_block_q5_K;
static_assert(sizeof(umi_block_q5_K) == 176, "q5_K block is 176 bytes");

/* Q6_K: 16 sub-blocks of 16; x = d * sc * (q - 32), q in 0..63, sc int8. */
typedef struct umi_block_q6_K {
    uint8_t ql[UMI_QK_K / 2]; /* low 4 bits */
    uint8_t qh[UMI_QK_K / 4]; /* high 2 bits */
    int8_t scales[UMI_QK_K / 16];
    uint16_t d;
} umi_block_q6_K;
static_assert(sizeof(umi_block_q6_K) == 210, "q6_K block is 210 bytes");

/* Q8_K: the activation type of the K-quants and IQ4_XS; x = d * q. Only
 * ever in memory, never in files. */
typedef struct umi_block_q8_K {
    float d;                       /* fp32 scale (may be negative) */
    int8_t qs[UMI_QK_K];
    int16_t bsums[UMI_QK_K / 16];  /* sum of each 16 consecutive qs */
} umi_block_q8_K;
static_assert(sizeof(umi_block_q8_K) == 292, "q8_K block is 292 bytes");

/* IQ4_XS: 8 sub-blocks of 32; x = d * (ls - 32) * kvalues[q], ls 6-bit. */
typedef struct umi_block_iq4_xs {
    uint16_t d;
    uint16_t scales_h;             /* high 2 bits of ls, sub-block j at bits 2j..2j+1 */
    uint8_t scales_l[UMI_QK_K / 64]; /* low 4 bits of ls, two sub-blocks per byte */
    uint8_t qs[UMI_QK_K / 2];      /* per sub-block, nibble order as Q4_0 */
} umi_block_iq4_xs;
static_assert(sizeof(umi_block_iq4_xs) == 136, "iq4_xs block is 136 bytes");

/* The 16 levels of IQ4_NL and IQ4_XS (a format constant, not tunable). */
extern const int8_t umi_iq4nl_values[16];

/* ---------------------------------------------------------------- packed sub-block scales */

/* Q4_K/Q5_K sub-block j (0..7): 6-bit scale and min from the 12 scale bytes.
 * Bytes 0-3 hold scales 0-3 and bytes 4-7 mins 0-3 in their low 6 bits;
 * scales/mins 4-7 keep their low nibbles in bytes 8-11 (scale low, min high)
 * and their top 2 bits in the spare top bits of bytes 0-3 (scales) and 4-7
 * (mins). */
static inline void umi_q4_K_scale_min(const uint8_t *packed, int j, int *sc, int *mn) {
    if (j < 4) {
        *sc = packed[j] & 63;
        *mn = packed[j + 4] & 63;
    } else {
        *sc = (packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4);
        *mn = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
    }
}

/* Q3_K sub-block j (0..15): signed scale (stored 6-bit value minus 32).
 * Low nibbles: bytes 0-7, low nibble for j < 8, high nibble for j >= 8 (byte
 * j - 8). Top 2 bits: byte 8 + j%4, bit pair j/4. */
static inline int umi_q3_K_scale(const uint8_t *packed, int j) {
    const int low = j < 8 ? packed[j] & 0x0f : packed[j - 8] >> 4;
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

/* IQ4_XS sub-block j (0..7): signed scale (6-bit value minus 32). */
static inline int umi_iq4_xs_scale(const umi_block_iq4_xs *b, int j) {
    const int low = (b->scales_l[j / 2] >> (4 * (j % 2))) & 0x0f;
    const int high = (b->scales_h >> (2 * j)) & 3;
    return (low | (high << 4)) - 32;
}

#endif
