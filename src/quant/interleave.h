/* Interleaved weight layouts: rows of a quantized matrix rearranged at load
 * time so that a SIMD kernel reads several rows' blocks with plain vector
 * loads instead of gathering and transposing them (issue 4's repack).
 *
 * X16 (Q4_0 and IQ4_NL, whose 18-byte blocks are an fp16 scale d and 16
 * bytes of nibbles): 16 consecutive rows form a group that takes exactly the
 * bytes the 16 rows took, so rows keep their byte offsets at group
 * boundaries and memory use does not change. A group of nb blocks per row
 * keeps them in pairs, each pair's d's right before its quants, so that it
 * is one sequential stream (decode on 2 threads: ~1.15x the rate of all the
 * d's first, a second stream; kernels/x86_x16.c). Blocks 2p and 2p+1 at
 * byte 576 p:
 *
 *   32 bytes    d of rows 0..15 of block 2p (fp16, row order)
 *   32 bytes    the same for block 2p+1
 *   256 bytes   quants of block 2p: 4 chunks of 64 bytes; in chunk c,
 *               bytes 4r..4r+3 are qs[4c..4c+3] of row r
 *   256 bytes   the same for block 2p+1
 *
 * and an odd last block alone: its 32 bytes of d's, then its 256 of
 * quants. One 64-byte load gives elements 4c..4c+3 (low nibbles) and
 * 16+4c..16+4c+3 (high nibbles) of all 16 rows, one row per 32-bit lane;
 * a pair is 9 cache lines, so every chunk is 64-byte aligned whenever the
 * group is.
 *
 * X16_Q8_0 (Q8_0, 34-byte blocks: fp16 d and 32 int8 quants): 16 rows in
 * the rows' own bytes, blocks in pairs as in X16 (decode on 2 threads: the
 * file layout's speed; d's kept apart ran ~15 % slower). Blocks 2p and
 * 2p+1 at byte 1088 p:
 *
 *   32 bytes    d of rows 0..15 of block 2p (fp16, row order)
 *   32 bytes    the same for block 2p+1
 *   512 bytes   quants of block 2p: 8 chunks of 64 bytes; in chunk c, bytes
 *               4r..4r+3 are qs[4c..4c+3] of row r
 *   512 bytes   the same for block 2p+1
 *
 * and an odd last block alone: its 32 bytes of d's, then its 512 of
 * quants. 8 loads give a block of all 16 rows, row r's quants 4c..4c+3 in
 * 32-bit lane r, ready for dpbusd against the token's bytes 4c..4c+3
 * broadcast. Kernels on this layout sum each block exactly in integers and
 * round once (kernels/legacy.c, umi_tile_q8_0_x16), not in the reference's
 * lanes8 order: results differ from the file layout's in the last bits.
 *
 * X16_Q4_K (Q4_K, 144-byte super-blocks: d, dmin, 12 bytes of packed scales
 * and mins, 128 bytes of nibbles; quant/blocks.h): again 16 rows per group
 * in the rows' own bytes, super-block b of the group at byte 2304 b, its 16
 * rows' blocks transposed 4 bytes at a time:
 *
 *   36 chunks of 64 bytes; in chunk c, bytes 4p..4p+3 are bytes 4c..4c+3
 *   of row p's block b
 *
 * so chunk 0 holds every row's (d, dmin), chunks 1-3 their scale words and
 * chunks 4-35 their quants, each row in one 32-bit lane: one plain 64-byte
 * load per 4 bytes of 16 rows, and the whole group one sequential stream.
 *
 * X16_Q6_K (Q6_K, 210-byte super-blocks: ql[128], qh[64], 16 int8 scales,
 * fp16 d; quant/blocks.h): 16 rows per group in the rows' own bytes, the
 * first 208 bytes of each block in 52 chunks of 4 bytes per row as in
 * X16_Q4_K, but in the order the kernel uses them, and the d's apart:
 *
 *   nb x 3328 bytes  super-block b at 3328 b: 52 chunks of 64 bytes; in
 *                    chunk c, bytes 4p..4p+3 are dword umi_x16_q6_K_dword(c)
 *                    of row p's block b: first the scales (dwords 48-51),
 *                    then for q = 0..3 (quarter j = q / 2 of each 32-byte
 *                    run, half h = q % 2) 12 chunks: ql dwords 16h + 4j ..
 *                    +3, qh dwords 32 + 8h + 4j .. +3, ql dwords 16h + 8 +
 *                    4j .. +3
 *   nb x 32 bytes    d of rows 0..15 of block b at nb * 3328 + 32 b
 *
 * Each 12-chunk run holds all 6 bits of elements 32G + 4L .. +3 for G in
 * half h and L in 4j .. 4j+3 (the lanes8 lanes the kernel computes
 * together), so a group is read front to back, which the hardware
 * prefetcher follows (the file order, ql then qh, read lane by lane ran at
 * a third of the bandwidth). The d's go last so that every chunk is 64-byte
 * aligned whenever the group is. */
#ifndef UMI_QUANT_INTERLEAVE_H
#define UMI_QUANT_INTERLEAVE_H

#include <stddef.h>
#include <stdint.h>

enum umi_layout {
    UMI_LAYOUT_GGUF = 0, /* rows as the file stores them */
    UMI_LAYOUT_X16 = 1,  /* 16-row groups, above */
    UMI_LAYOUT_X16_Q4_K = 2, /* 16-row groups of Q4_K super-blocks, above */
    UMI_LAYOUT_X16_Q6_K = 3, /* 16-row groups of Q6_K super-blocks, above */
    UMI_LAYOUT_X16_Q8_0 = 4, /* 16-row groups of Q8_0 blocks, above */
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

/* The same two for X16_Q8_0: rows of nb * 34 bytes, blocks of 34. */
void umi_x16_q8_0_pack_group(void *dst, const void *src, int64_t nb);
void umi_x16_q8_0_get_block(const void *group, int64_t nb, int r, int64_t b, void *block);

/* Where block b of an X16 or X16_Q8_0 group of nb blocks keeps its 16 d's
 * and its quants (qs_bytes: the 16 rows' quants of one block, 256 for X16,
 * 512 for X16_Q8_0). */
static inline size_t umi_x16_pair_d_at(size_t qs_bytes, int64_t b) {
    const size_t u = (size_t)b; /* b >= 0: unsigned halves cost a shift, not a signed division */
    return (u >> 1) * (64 + 2 * qs_bytes) + (u & 1) * 32;
}
static inline size_t umi_x16_pair_qs_at(size_t qs_bytes, int64_t nb, int64_t b) {
    const size_t u = (size_t)b, in_pair = (u | 1) < (size_t)nb ? 2 : 1; /* an odd last block is alone */
    return (u >> 1) * (64 + 2 * qs_bytes) + in_pair * 32 + (u & 1) * qs_bytes;
}

/* The same two for X16_Q4_K: nb super-blocks per row (rows of nb * 144
 * bytes), block b of row r as its 144 file bytes. */
void umi_x16_q4_K_pack_group(void *dst, const void *src, int64_t nb);
void umi_x16_q4_K_get_block(const void *group, int r, int64_t b, void *block);

/* The same two for X16_Q6_K: rows of nb * 210 bytes, blocks of 210; and
 * which dword of the file's block chunk c (0..51) of a super-block holds. */
int umi_x16_q6_K_dword(int c);
void umi_x16_q6_K_pack_group(void *dst, const void *src, int64_t nb);
void umi_x16_q6_K_get_block(const void *group, int64_t nb, int r, int64_t b, void *block);

/* The layout an interleaved weight of this type takes (UMI_LAYOUT_GGUF: it
 * has none), and one group of it packed from 16 rows of k elements (the
 * loader's entry, model/repack.c). */
int umi_layout_for_type(uint32_t type);
void umi_layout_pack_group(int layout, void *dst, const void *src, int64_t k);

/* Row r of a tensor of rows of k elements (row_bytes each in the file's
 * form) stored in `layout`, back in the file's form at out (row_bytes):
 * how a repacked tied embedding is looked up. */
void umi_layout_get_row(int layout, const void *data, size_t row_bytes, int64_t k, int64_t r, void *out);

#endif
