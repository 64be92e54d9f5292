/* The legacy types' scalar kernels in the reference engine's order
 * (legacy.c), visible so that their SIMD twins and tiles (x86_legacy.c) can
 * be matched to them by pointer and tested against them.
 *
 * Dots: k elements (a multiple of 32) of one weight row against one row of
 * activations as the plan's quantizer wrote them (Q8_0, or Q8_1 for the _1
 * types). The summation orders are described in legacy.c. */
#ifndef UMI_KERNELS_LEGACY_H
#define UMI_KERNELS_LEGACY_H

#include <stddef.h>
#include <stdint.h>

float umi_dot_q4_0_lanes8(int k, const void *w, const void *x);
float umi_dot_q4_0_blocks(int k, const void *w, const void *x);
float umi_dot_q5_0_lanes8(int k, const void *w, const void *x);
float umi_dot_iq4_nl_lanes8(int k, const void *w, const void *x);
float umi_dot_iq4_nl_blocks(int k, const void *w, const void *x);
float umi_dot_iq4_nl_vec(int k, const void *w, const void *x);
float umi_dot_q4_1_lanes8(int k, const void *w, const void *x); /* x: Q8_1 */
float umi_dot_q5_1_lanes8(int k, const void *w, const void *x); /* x: Q8_1 */

/* Q8_0 in the blocks order (each block's exact integer sum, then one fused
 * multiply-add by dw * dx): not the reference's order for Q8_0 (lanes8),
 * umi's for weights it repacks to X16_Q8_0 (more accurate: one rounding per
 * block instead of eight). */
float umi_dot_q8_0_blocks(int k, const void *w, const void *x);

/* The "blocks" order on weights in the X16 layout (quant/interleave.h): w is
 * a group of 16 rows (ws unused), outputs y[j * ys + r] for rows r < rm and
 * tokens j < rn; each equals the matching blocks dot of the row before the
 * rearrangement. The oracle of the SIMD tiles on that layout. */
void umi_tile_q4_0_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                       size_t ys);
void umi_tile_iq4_nl_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                         size_t ys);
/* The same on X16_Q8_0 groups: umi_dot_q8_0_blocks of each row. */
void umi_tile_q8_0_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                       size_t ys);

/* The x86 run-time activation quantizers (round half to even), k % 32 == 0. */
void umi_act_q8_0(const float *x, void *y, int64_t k);
void umi_act_q8_1(const float *x, void *y, int64_t k);

#endif
