/* The inference context and the forward-pass building blocks.
 *
 * A context owns the KV cache and every scratch buffer, all sized once in
 * umi_context_init for n_batch tokens, so decoding never allocates. The
 * forward pass (forward.c) runs the shared decoder over a chunk of tokens;
 * the blocks below are its pieces, each in its own file. */
#ifndef UMI_INFER_INFER_H
#define UMI_INFER_INFER_H

#include "core/threadpool.h"
#include "model/model.h"

struct umi_context {
    umi_model *model;
    umi_pool *pool;
    uint32_t n_ctx;
    uint32_t n_batch;
    uint32_t n_past;
    const char *trace; /* $UMI_TRACE: directory for intermediate dumps (forward.c), or NULL */

    /* KV cache, F16, layout [n_layer][n_ctx][n_head_kv][head_dim]. */
    uint16_t *k_cache;
    uint16_t *v_cache;

    /* Scratch, each [n_batch][width]. */
    float *x;      /* residual stream [E] */
    float *xb;     /* normed input [E] */
    float *xb2;    /* block output [E] */
    float *q;      /* [n_head * hd_k] */
    float *k;      /* [n_head_kv * hd_k] */
    float *v;      /* [n_head_kv * hd_v] */
    float *att;    /* attention output [n_head * hd_v] */
    float *hb;     /* ffn gate [F] */
    float *hb2;    /* ffn up [F] */
    void *qbuf;    /* activations converted to a weight's vec_dot_type */
    size_t qbuf_size;
    float *att_scratch; /* per thread: [hd_k] f16-rounded q + [hd_v] accumulator */
    size_t att_scratch_stride;

    float *logits;       /* [n_logits_cap][n_vocab] */
    uint32_t n_logits_cap;
    uint32_t n_logits;   /* rows valid after the last decode */
};

/* y[n][W.ne[1]] = x[n][W.ne[0]] · Wᵀ, through the weight type's vec_dot.
 * Converts x to the vec_dot_type into ctx->qbuf first. Multithreaded. */
void umi_matmul(umi_context *ctx, const umi_tensor *w, const float *x, int n, float *y);

/* out[n][dim] = x / rms(x) * w (w may be NULL); the sum of squares in double
 * as the reference does, so near-ties resolve the same way. */
void umi_rmsnorm(float *out, const float *x, const float *w, int n, int dim, float eps);

/* Rotate the first n_rot dims of each of n_heads heads (width head_dim) of
 * n token rows at positions pos0..pos0+n-1. */
void umi_rope(const umi_hparams *hp, const float *freq_factors, float *x, int n, int n_heads,
              int head_dim, uint32_t pos0);

/* y[i] += b[i % dim] for n rows. */
void umi_add_bias(float *y, const float *b, int n, int dim);
/* gate = silu(gate) * up for n_rows rows of dim. */
void umi_swiglu(float *gate, const float *up, int n_rows, int dim);

/* Causal attention for n query rows at positions n_past.. over the layer's
 * KV cache (which must already hold those positions). Multithreaded. */
void umi_attention(umi_context *ctx, int layer, int n);

/* Run n tokens (n <= n_batch) at positions n_past.. through the model and
 * advance n_past; writes logits [n_vocab] for the last row, or [n][n_vocab]
 * for every row when all_logits. */
void umi_forward(umi_context *ctx, const umi_token *tokens, int n, bool all_logits, float *logits);

#endif
