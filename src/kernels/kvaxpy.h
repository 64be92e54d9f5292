/* acc += w * row for a quantized KV cache row (Q8_0 or Q4_0): the V update
 * of attention over a quantized cache. The reference dequantizes the row
 * (to_float: each element q * d) and then adds it with fused multiply-adds
 * (vec_mad_f32); these do the same two roundings per element without the
 * intermediate row, so every version gives identical bits. */
#ifndef UMI_KERNELS_KVAXPY_H
#define UMI_KERNELS_KVAXPY_H

#include <stdint.h>

/* n elements (a multiple of 32) of `row` in the type's blocks. */
typedef void (*umi_kv_axpy_fn)(int n, float *acc, const void *row, float w);

/* The fastest version for this CPU of the type's axpy (NULL for other types). */
umi_kv_axpy_fn umi_kv_axpy_get(uint32_t type);
/* The portable versions, the oracle of the SIMD ones. */
void umi_kv_axpy_q8_0(int n, float *acc, const void *row, float w);
void umi_kv_axpy_q4_0(int n, float *acc, const void *row, float w);

#endif
