/* The KV cache's element type: F16 (the default) or the block types Q8_0
 * and Q4_0 (32 elements and one F16 scale per block), chosen per context.
 *
 * A quantized cache stores each new K/V row block by block, and attention
 * over it mirrors the reference engine's CPU flash attention for such a
 * cache (ggml-cpu ops.cpp, flash_attn_ext one_chunk): q is converted once
 * per query row to K's vec_dot_type (Q8_0) and dotted with each K row by
 * the type's vec_dot; V rows are dequantized and accumulated in F32 with an
 * online softmax, for every batch size (the tiled F32 path is F16-only).
 *
 * Like the reference (llama-kv-cache.cpp, attn_rot_k / attn_rot_v), a
 * quantized cache holds K and V rotated by an orthonormal Walsh-Hadamard
 * matrix, which spreads outliers over the block before it is quantized:
 * q and k in chunks of the largest power of two (>= 64) dividing the head
 * dim, v in chunks of 64, and the attention output is rotated back (the
 * matrix is its own inverse). Heads not a multiple of 64 are not rotated. */
#ifndef UMI_INFER_KVQUANT_H
#define UMI_INFER_KVQUANT_H

#include "infer/infer.h"
#include "infer/memory.h"
#include "kernels/kernels.h"
#include "kernels/kvaxpy.h"
#include "quant/quant.h"

/* Bytes of n cache elements (n a multiple of 32 for a block type): offsets
 * and strides in ctx->k_data / v_data. One sizing function with memory.c. */
static inline size_t umi_kv_bytes(const umi_context *ctx, size_t n) {
    return (size_t)umi_mem_kv_type_bytes(ctx->kv_type, n);
}

/* Check that a model can keep its cache as kv_type: per-head K/V (not an MLA
 * latent) with head dims that are multiples of the 32-element block. */
umi_status umi_kv_type_check(const umi_hparams *hp, uint32_t kv_type, const char *name, umi_error *err);

/* Write n floats as row `cell` of a cache of type kv_type whose rows hold n
 * elements (F16: rounded to nearest; Q8_0/Q4_0: quantized as the reference
 * engine's CPU copy into such a cache does). */
void umi_kv_put(uint32_t kv_type, uint8_t *cache, size_t cell, size_t n, const float *src);

/* Rotate this chunk's n rows of ctx->q, ctx->k, ctx->v before they are
 * stored and attended (nothing for an F16 cache) / rotate n rows of the
 * attention output ctx->att back. */
void umi_kv_rotate_in(umi_context *ctx, int n);
void umi_kv_rotate_out(umi_context *ctx, int n);

/* The orthonormal Walsh-Hadamard transform of each n_rot-wide chunk of x[n]
 * (n_rot a power of two dividing n), in the reference's order: scaled by
 * 1/sqrt(n_rot) first, then butterflies of width 1, 2, 4, ... */
void umi_hadamard(float *x, int64_t n, int n_rot);

/* The kernels attention over a quantized cache uses. */
typedef struct umi_kvq_fns {
    umi_act_fn act;       /* q -> Q8_0 */
    umi_dot_fn dot;       /* K row (cache type) . Q8_0 q */
    umi_kv_axpy_fn axpy;  /* acc += w * V row */
} umi_kvq_fns;

umi_kvq_fns umi_kvq_fns_get(uint32_t kv_type, int hd_k);

/* umi_attention_head for a quantized cache: kc/vc point at the head's first
 * block in cell 0, k_stride / v_stride are the bytes between cells. scratch
 * holds hd_v floats and hd_k elements of Q8_0 (memory.c). */
void umi_kvq_attention_head(const umi_kvq_fns *f, const uint8_t *kc, size_t k_stride, const uint8_t *vc,
                            size_t v_stride, int hd_k, int hd_v, int first, int n_kv, int cells,
                            const float *q, const umi_att_scores *sc, float *out, float *scratch);

#endif
