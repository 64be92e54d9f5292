/* K-quant (Q2_K .. Q6_K) and IQ4_XS dots in the reference engine's orders.
 *
 * Every dot here is weights (one row of k elements, k a multiple of 256)
 * against Q8_K activations. The integer part of a super-block is exact in
 * any order; what differs between the reference's kernels, and so what these
 * functions reproduce, is how the integer sums are split before they are
 * converted to float, which scale products are rounded, and in which order
 * the float partial sums are added:
 *
 *  - "lanes8" (the reference's single-row vec_dot, AVX2 code on x86): 8
 *    float lanes; lane l holds, per super-block, the integer sum over the
 *    elements e with (e % 32) / 4 == l, accumulated as fma(d, sum, lane);
 *    lanes reduced as (0+4 .. 3+7), then (0+2) + (1+3). The mins of
 *    Q2_K/Q4_K/Q5_K and the -32 offset of Q6_K are folded in per type (see
 *    each function).
 *  - "gemv" / "gemm" (weights repacked 8 rows at a time, Q2_K and Q4_K): one
 *    float accumulator per output for the scaled quants and one for the
 *    mins, fma(sum, d_w * d_a, acc), subtracted at the end. The gemv adds
 *    one term per super-block; the gemm one per 128 (Q2_K) or 64 (Q4_K)
 *    elements.
 */
#ifndef UMI_KERNELS_KQUANT_H
#define UMI_KERNELS_KQUANT_H

#include <stddef.h>
#include <stdint.h>

float umi_dot_q2_K_lanes8(int k, const void *w, const void *a);
float umi_dot_q3_K_lanes8(int k, const void *w, const void *a);
float umi_dot_q4_K_lanes8(int k, const void *w, const void *a);
float umi_dot_q5_K_lanes8(int k, const void *w, const void *a);
float umi_dot_q6_K_lanes8(int k, const void *w, const void *a);
float umi_dot_iq4_xs_lanes8(int k, const void *w, const void *a);

float umi_dot_q2_K_gemv(int k, const void *w, const void *a);
float umi_dot_q2_K_gemm(int k, const void *w, const void *a);
float umi_dot_q4_K_gemv(int k, const void *w, const void *a);
float umi_dot_q4_K_gemm(int k, const void *w, const void *a);

/* The gemv and gemm orders on Q4_K weights in the X16_Q4_K layout
 * (quant/interleave.h), with the tile signature (kernels.h): w is one group
 * of 16 rows (ws unused), y[j * ys + r] for rows r < rm and tokens j < rn,
 * each the bits of umi_dot_q4_K_gemv / _gemm on row r before the packing.
 * The oracles of the SIMD tiles on that layout. */
void umi_tile_q4_K_x16_gemv(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                            size_t ys);
void umi_tile_q4_K_x16_gemm(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                            size_t ys);

/* The lanes8 order on Q6_K weights in the X16_Q6_K layout, same contract:
 * each output the bits of umi_dot_q6_K_lanes8 on row r before the packing
 * (Q6_K has that one order for every token count). The SIMD tile's oracle. */
void umi_tile_q6_K_x16(int k, const void *w, size_t ws, int rm, const void *x, size_t xs, int rn, float *y,
                       size_t ys);

/* Q8_K as the reference quantizes rows that go to its 4-row gemm: as the
 * traits' from_float except for the sign of the scale when +amax and -amax
 * both occur in a block (the positive one always wins here; the traits
 * quantizer takes whichever comes first). Then every quant and d are
 * negated, which leaves every dot product unchanged. Output in the plain
 * umi_block_q8_K layout. */
void umi_quant_from_float_q8_K_x4(const float *x, void *y, int64_t k);

#endif
