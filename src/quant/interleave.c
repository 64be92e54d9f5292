/* The X16 interleaved layouts (interleave.h). */
#include "quant/interleave.h"

#include <string.h>

#include "quant/quant.h"

#include "quant/blocks.h"

enum { BLOCK = 18, QS = 16, D_BYTES = 2, CHUNK = 4 };
enum { K4_BLOCK = sizeof(umi_block_q4_K), K4_CHUNKS = K4_BLOCK / CHUNK, K4_GROUP_BLOCK = UMI_X16_ROWS * K4_BLOCK };

int umi_x16_supported(uint32_t type) {
    return type == UMI_TYPE_Q4_0 || type == UMI_TYPE_IQ4_NL;
}

void umi_x16_pack_group(void *dst, const void *vsrc, int64_t nb) {
    const size_t row = (size_t)nb * BLOCK;
    uint8_t *scales = dst, *quants = (uint8_t *)dst + (size_t)nb * UMI_X16_ROWS * D_BYTES;
    for (int r = 0; r < UMI_X16_ROWS; r++) {
        const uint8_t *src = (const uint8_t *)vsrc + r * row;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = src + b * BLOCK;
            memcpy(scales + (b * UMI_X16_ROWS + r) * D_BYTES, blk, D_BYTES);
            for (int c = 0; c < QS / CHUNK; c++)
                memcpy(quants + b * UMI_X16_ROWS * QS + c * UMI_X16_ROWS * CHUNK + r * CHUNK,
                       blk + D_BYTES + c * CHUNK, CHUNK);
        }
    }
}

void umi_x16_get_block(const void *group, int64_t nb, int r, int64_t b, void *block) {
    const uint8_t *scales = group, *quants = (const uint8_t *)group + (size_t)nb * UMI_X16_ROWS * D_BYTES;
    uint8_t *blk = block;
    memcpy(blk, scales + (b * UMI_X16_ROWS + r) * D_BYTES, D_BYTES);
    for (int c = 0; c < QS / CHUNK; c++)
        memcpy(blk + D_BYTES + c * CHUNK, quants + b * UMI_X16_ROWS * QS + c * UMI_X16_ROWS * CHUNK + r * CHUNK,
               CHUNK);
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

int umi_layout_for_type(uint32_t type) {
    return umi_x16_supported(type) ? UMI_LAYOUT_X16 : type == UMI_TYPE_Q4_K ? UMI_LAYOUT_X16_Q4_K : UMI_LAYOUT_GGUF;
}

void umi_layout_pack_group(int layout, void *dst, const void *src, int64_t k) {
    if (layout == UMI_LAYOUT_X16) umi_x16_pack_group(dst, src, k / 32);
    else if (layout == UMI_LAYOUT_X16_Q4_K) umi_x16_q4_K_pack_group(dst, src, k / UMI_QK_K);
}
