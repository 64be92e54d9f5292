/* The X16 interleaved layouts (interleave.h). */
#include "quant/interleave.h"

#include <string.h>

#include "quant/quant.h"

#include "quant/blocks.h"

enum { BLOCK = 18, QS = 16, D_BYTES = 2, CHUNK = 4 };
enum { Q8_QS = 32, Q8_BLOCK = D_BYTES + Q8_QS }; /* Q8_0 */
enum { K4_BLOCK = sizeof(umi_block_q4_K), K4_CHUNKS = K4_BLOCK / CHUNK, K4_GROUP_BLOCK = UMI_X16_ROWS * K4_BLOCK };
/* Q6_K: the 208 bytes before d in chunks, the d's after all of them. */
enum { K6_BLOCK = sizeof(umi_block_q6_K), K6_CHUNKS = (K6_BLOCK - D_BYTES) / CHUNK,
       K6_GROUP_BLOCK = UMI_X16_ROWS * K6_CHUNKS * CHUNK };

int umi_x16_supported(uint32_t type) {
    return type == UMI_TYPE_Q4_0 || type == UMI_TYPE_IQ4_NL;
}

/* X16 and X16_Q8_0: blocks of qs quant bytes in pairs (interleave.h). */
static void pack_pairs(void *dst, const void *vsrc, int64_t nb, int qs) {
    const size_t block = (size_t)(D_BYTES + qs), group_qs = (size_t)UMI_X16_ROWS * qs;
    for (int r = 0; r < UMI_X16_ROWS; r++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = (const uint8_t *)vsrc + ((size_t)r * nb + b) * block;
            uint8_t *d = (uint8_t *)dst + umi_x16_pair_d_at(group_qs, b);
            uint8_t *q = (uint8_t *)dst + umi_x16_pair_qs_at(group_qs, nb, b);
            memcpy(d + r * D_BYTES, blk, D_BYTES);
            for (int c = 0; c < qs / CHUNK; c++)
                memcpy(q + (c * UMI_X16_ROWS + r) * CHUNK, blk + D_BYTES + c * CHUNK, CHUNK);
        }
}

static void get_pair_block(const void *group, int64_t nb, int r, int64_t b, void *block, int qs) {
    const size_t group_qs = (size_t)UMI_X16_ROWS * qs;
    const uint8_t *d = (const uint8_t *)group + umi_x16_pair_d_at(group_qs, b);
    const uint8_t *q = (const uint8_t *)group + umi_x16_pair_qs_at(group_qs, nb, b);
    uint8_t *blk = block;
    memcpy(blk, d + r * D_BYTES, D_BYTES);
    for (int c = 0; c < qs / CHUNK; c++) memcpy(blk + D_BYTES + c * CHUNK, q + (c * UMI_X16_ROWS + r) * CHUNK, CHUNK);
}

void umi_x16_pack_group(void *dst, const void *src, int64_t nb) {
    pack_pairs(dst, src, nb, QS);
}

void umi_x16_get_block(const void *group, int64_t nb, int r, int64_t b, void *block) {
    get_pair_block(group, nb, r, b, block, QS);
}

void umi_x16_q8_0_pack_group(void *dst, const void *src, int64_t nb) {
    pack_pairs(dst, src, nb, Q8_QS);
}

void umi_x16_q8_0_get_block(const void *group, int64_t nb, int r, int64_t b, void *block) {
    get_pair_block(group, nb, r, b, block, Q8_QS);
}

void umi_x16_q4_K_pack_group(void *dst, const void *vsrc, int64_t nb) {
    const size_t row = (size_t)nb * K4_BLOCK;
    for (int r = 0; r < UMI_X16_ROWS; r++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = (const uint8_t *)vsrc + r * row + b * K4_BLOCK;
            uint8_t *out = (uint8_t *)dst + b * K4_GROUP_BLOCK + r * CHUNK;
            for (int c = 0; c < K4_CHUNKS; c++) memcpy(out + c * UMI_X16_ROWS * CHUNK, blk + c * CHUNK, CHUNK);
        }
}

void umi_x16_q4_K_get_block(const void *group, int r, int64_t b, void *block) {
    const uint8_t *in = (const uint8_t *)group + b * K4_GROUP_BLOCK + r * CHUNK;
    for (int c = 0; c < K4_CHUNKS; c++) memcpy((uint8_t *)block + c * CHUNK, in + c * UMI_X16_ROWS * CHUNK, CHUNK);
}

int umi_x16_q6_K_dword(int c) {
    if (c < 4) return 48 + c; /* scales */
    const int q = (c - 4) / 12, i = (c - 4) % 12, j = q / 2, h = q % 2;
    return i < 4 ? 16 * h + 4 * j + i : i < 8 ? 32 + 8 * h + 4 * j + (i - 4) : 16 * h + 8 + 4 * j + (i - 8);
}

/* Where block b of row r of an X16_Q6_K group keeps its first chunk and its d. */
static size_t q6_K_chunks_at(int r, int64_t b) {
    return (size_t)b * K6_GROUP_BLOCK + (size_t)r * CHUNK;
}

static size_t q6_K_d_at(int64_t nb, int r, int64_t b) {
    return (size_t)nb * K6_GROUP_BLOCK + ((size_t)b * UMI_X16_ROWS + (size_t)r) * D_BYTES;
}

void umi_x16_q6_K_pack_group(void *dst, const void *vsrc, int64_t nb) {
    for (int r = 0; r < UMI_X16_ROWS; r++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = (const uint8_t *)vsrc + ((size_t)r * nb + b) * K6_BLOCK;
            uint8_t *out = (uint8_t *)dst + q6_K_chunks_at(r, b);
            for (int c = 0; c < K6_CHUNKS; c++)
                memcpy(out + c * UMI_X16_ROWS * CHUNK, blk + umi_x16_q6_K_dword(c) * CHUNK, CHUNK);
            memcpy((uint8_t *)dst + q6_K_d_at(nb, r, b), blk + K6_BLOCK - D_BYTES, D_BYTES);
        }
}

void umi_x16_q6_K_get_block(const void *group, int64_t nb, int r, int64_t b, void *block) {
    const uint8_t *in = (const uint8_t *)group + q6_K_chunks_at(r, b);
    for (int c = 0; c < K6_CHUNKS; c++)
        memcpy((uint8_t *)block + umi_x16_q6_K_dword(c) * CHUNK, in + c * UMI_X16_ROWS * CHUNK, CHUNK);
    memcpy((uint8_t *)block + K6_BLOCK - D_BYTES, (const uint8_t *)group + q6_K_d_at(nb, r, b), D_BYTES);
}

int umi_layout_for_type(uint32_t type) {
    return umi_x16_supported(type)      ? UMI_LAYOUT_X16
           : type == UMI_TYPE_Q4_K ? UMI_LAYOUT_X16_Q4_K
           : type == UMI_TYPE_Q6_K ? UMI_LAYOUT_X16_Q6_K
           : type == UMI_TYPE_Q8_0 ? UMI_LAYOUT_X16_Q8_0
                                   : UMI_LAYOUT_GGUF;
}

void umi_layout_pack_group(int layout, void *dst, const void *src, int64_t k) {
    if (layout == UMI_LAYOUT_X16) umi_x16_pack_group(dst, src, k / 32);
    else if (layout == UMI_LAYOUT_X16_Q4_K) umi_x16_q4_K_pack_group(dst, src, k / UMI_QK_K);
    else if (layout == UMI_LAYOUT_X16_Q6_K) umi_x16_q6_K_pack_group(dst, src, k / UMI_QK_K);
    else if (layout == UMI_LAYOUT_X16_Q8_0) umi_x16_q8_0_pack_group(dst, src, k / 32);
}

void umi_layout_get_row(int layout, const void *data, size_t row_bytes, int64_t k, int64_t r, void *out) {
    const uint8_t *group = (const uint8_t *)data + (size_t)(r / UMI_X16_ROWS) * UMI_X16_ROWS * row_bytes;
    const int rr = (int)(r % UMI_X16_ROWS);
    uint8_t *o = out;
    if (layout == UMI_LAYOUT_X16) {
        for (int64_t b = 0; b < k / 32; b++) umi_x16_get_block(group, k / 32, rr, b, o + b * BLOCK);
    } else if (layout == UMI_LAYOUT_X16_Q4_K) {
        for (int64_t b = 0; b < k / UMI_QK_K; b++) umi_x16_q4_K_get_block(group, rr, b, o + b * K4_BLOCK);
    } else if (layout == UMI_LAYOUT_X16_Q6_K) {
        for (int64_t b = 0; b < k / UMI_QK_K; b++)
            umi_x16_q6_K_get_block(group, k / UMI_QK_K, rr, b, o + b * sizeof(umi_block_q6_K));
    } else if (layout == UMI_LAYOUT_X16_Q8_0) {
        for (int64_t b = 0; b < k / 32; b++) umi_x16_q8_0_get_block(group, k / 32, rr, b, o + b * Q8_BLOCK);
    } else {
        memcpy(o, (const uint8_t *)data + (size_t)r * row_bytes, row_bytes);
    }
}
