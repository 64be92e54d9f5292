/* Float dot products in a fixed summation order.
 *
 * Float addition is not associative, so two engines agree to the last bit
 * only if they add in the same order. These scalar functions reproduce the
 * lane structure of the reference engine's AVX-512 kernels (which produced
 * ../shared/golden), so greedy decoding resolves near-ties the same way:
 *  - "vec" order (single-token decode): 4 accumulators of 16 lanes over
 *    blocks of 64, fused multiply-adds, combined pairwise; the tail is
 *    summed separately (in float for F32 data, in double for F16).
 *  - "gemm" order (two or more tokens, k a multiple of 16): one accumulator
 *    of 16 lanes over the whole row, fused multiply-adds.
 * Both end with the same 16-lane horizontal reduction (umi_reduce16).
 * SIMD versions of these kernels must give identical bits. */
#ifndef UMI_KERNELS_KERNELS_H
#define UMI_KERNELS_KERNELS_H

#include <stdint.h>

enum { UMI_LANES = 16 };

/* ((v0..7 + v8..15) halves, then 4-lane halves, then (0+2) + (1+3)). */
float umi_reduce16(const float v[UMI_LANES]);

float umi_dot_f32_vec(int n, const float *x, const float *y);
float umi_dot_f32_gemm(int n, const float *x, const float *y); /* n % 16 == 0 */
float umi_dot_f16_vec(int n, const uint16_t *x, const uint16_t *y);
float umi_dot_f16_gemm(int n, const uint16_t *x, const uint16_t *y); /* n % 16 == 0 */

/* Q8_0 weights x Q8_0 activations, n elements: per 32-weight block, 8 lanes
 * each holding the integer sum of 4 adjacent products, scaled by dx*dy and
 * accumulated with fused multiply-adds; 8 lanes reduced as (hi+lo) pairs.
 * The reference's vector and batched paths share this order. */
float umi_dot_q8_0_lanes8(int n, const void *x, const void *y);

#endif
