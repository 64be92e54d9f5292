/* Interleaved weight layouts: rows of a quantized matrix rearranged at load
 * time so that a SIMD kernel reads several rows' blocks with plain vector
 * loads instead of gathering and transposing them (issue 4's repack).
 *
 * X16 (Q4_0 and IQ4_NL, whose 18-byte blocks are an fp16 scale d and 16
 * bytes of nibbles): 16 consecutive rows form a group that takes exactly the
 * bytes the 16 rows took, so rows keep their byte offsets at group
 * boundaries and memory use does not change. A group of nb blocks per row:
 *
 *   nb x 32 bytes   scales: block b holds d of rows 0..15 (fp16, row order)
 *   nb x 256 bytes  quants: block b is 4 chunks of 64 bytes; in chunk c,
 *                   bytes 4p..4p+3 are qs[4c..4c+3] of row p
 *
 * so one 64-byte load gives elements 4c..4c+3 (low nibbles) and
 * 16+4c..16+4c+3 (high nibbles) of all 16 rows, one row per 32-bit lane.
 * The scales come first so the quants start 64-byte aligned whenever the
 * group does. */
#ifndef UMI_QUANT_INTERLEAVE_H
#define UMI_QUANT_INTERLEAVE_H

#include <stddef.h>
#include <stdint.h>

enum umi_layout {
    UMI_LAYOUT_GGUF = 0, /* rows as the file stores them */
    UMI_LAYOUT_X16 = 1,  /* 16-row groups, above */
};

enum { UMI_X16_ROWS = 16 };

/* Whether weights of this type have an X16 form (Q4_0, IQ4_NL). */
int umi_x16_supported(uint32_t type);

/* One group: 16 rows of nb blocks at src (rows of nb * 18 bytes) written as
 * an X16 group at dst (the same number of bytes; the two must not overlap). */
void umi_x16_pack_group(void *dst, const void *src, int64_t nb);

/* Block b of row r (0..15) of an X16 group, back in the file's 18-byte
 * form (the scalar kernels' and the tests' view of the layout). */
void umi_x16_get_block(const void *group, int64_t nb, int r, int64_t b, void *block);

#endif
