/* The inference context and the forward-pass building blocks.
 *
 * A context owns the KV cache and every scratch buffer, all sized once in
 * umi_context_init for n_batch tokens, so decoding never allocates. The
 * forward pass (forward.c) runs the shared decoder over a chunk of tokens;
 * the blocks below are its pieces, each in its own file. */
#ifndef UMI_INFER_INFER_H
#define UMI_INFER_INFER_H

#include <math.h>

#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "model/model.h"

/* Routing and expert buffers for a mixture-of-experts FFN (moe.c); all
 * NULL for a dense model. An entry is one (token, slot) pair, token * n_used + slot. */
typedef struct umi_moe_scratch {
    float *logits;   /* [n_batch][n_expert] router logits, then probabilities */
    int32_t *sel;    /* [n_batch][n_used] chosen experts, best first; once grouped, positions in rows */
    float *w;        /* [n_batch][n_used] their weights */
    int32_t *rows;   /* [n_batch * n_used] entries grouped by expert */
    int32_t *start;  /* [n_expert + 1] each expert's range in rows */
    float *gate;     /* [n_batch * n_used][n_ff_exp] */
    float *up;       /* [n_batch * n_used][n_ff_exp] */
    float *out;      /* [n_batch * n_used][n_embd] each slot's expert output */
    void *xq;        /* activations converted for the expert weights */
} umi_moe_scratch;

typedef struct umi_embed_acc umi_embed_acc; /* embed.c */

/* A multi-sequence pass (multi.c): row i of the chunk is the next token of
 * seqs[i], at that context's n_past, against its own KV cache. */
typedef struct umi_multi {
    umi_context *const *seqs;
    int n;
} umi_multi;

struct umi_context {
    umi_model *model;
    umi_pool *pool;
    uint32_t n_ctx;
    uint32_t n_batch;
    uint32_t n_past;
    const char *trace; /* $UMI_TRACE: directory for intermediate dumps (forward.c), or NULL */

    /* KV cache of kv_type (F16, or Q8_0/Q4_0 rows: kvquant.h), addressed in
     * bytes (umi_kv_bytes): layer il's cells start at cell kv_first[il], each
     * [n_head_kv][head_dim] (with MLA k_data alone, F16 [kv_lora + n_rot] per
     * cell; memory.c); umi_kv_cell maps a position to its cell (kvcache.c:
     * full layers n_ctx cells, sliding-window layers a ring). */
    uint32_t kv_type;
    uint64_t kv_bytes; /* k_data + v_data */
    uint8_t *k_data;
    uint8_t *v_data;
    size_t *kv_first;   /* [n_layer] */
    uint32_t *kv_cells; /* [n_layer] */
    uint32_t ring_cells; /* cells of the sliding-window rings (0: none) */
    uint32_t ring_lo;    /* oldest position the rings still hold */

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

    umi_moe_scratch moe;

    float *logits;       /* [n_logits_cap][n_vocab] */
    uint32_t n_logits_cap;
    uint32_t n_logits;   /* rows valid after the last decode */
    umi_embed_acc *embd; /* set by umi_embed while it runs */
    /* Set on the first context while umi_decode_multi runs its pass through
     * this context's scratch: rope, KV store and attention then follow each
     * row's own sequence, and every matmul row takes the single-token kernel
     * order so each row's bits equal its solo decode. NULL otherwise. */
    const umi_multi *multi;
};

/* The context whose KV cache row t of the current pass belongs to, and the
 * position of that row. */
static inline umi_context *umi_row_ctx(umi_context *ctx, int t) {
    return ctx->multi ? ctx->multi->seqs[t] : ctx;
}
static inline uint32_t umi_row_pos(const umi_context *ctx, int t) {
    return ctx->multi ? ctx->multi->seqs[t]->n_past : ctx->n_past + (uint32_t)t;
}

/* The cell of layer il that holds position pos. */
static inline size_t umi_kv_cell(const umi_context *ctx, int il, uint32_t pos) {
    return ctx->kv_first[il] + pos % ctx->kv_cells[il];
}
/* Lay out the per-layer cells (context init) / release the layout. */
umi_status umi_kv_layout_init(umi_context *ctx, umi_error *err);
void umi_kv_layout_free(umi_context *ctx);
/* Note that the last chunk advanced n_past (the rings forget the oldest). */
void umi_kv_advanced(umi_context *ctx);
/* Keep the first n positions if the rings still hold what position n needs,
 * else none; returns the positions kept. */
uint32_t umi_kv_truncate(umi_context *ctx, uint32_t n);

/* One piece of the KV cache as state.c serializes it: row r holds what
 * position r (a ring buffer: position p at row p % n_rows) cached. Whoever
 * changes the cache layout updates umi_kv_regions and nothing else. */
typedef struct umi_kv_region {
    uint8_t *data;
    size_t row_bytes;
    uint32_t n_rows;
} umi_kv_region;

/* The context's KV cache as regions (per layer K, then V); returns how many
 * there are, writing at most max of them. */
size_t umi_kv_regions(const umi_context *ctx, umi_kv_region *out, size_t max);

/* y[n][W.ne[1]] = x[n][W.ne[0]] · Wᵀ, through the weight type's vec_dot.
 * Converts x to the vec_dot_type into ctx->qbuf first. Multithreaded. */
void umi_matmul(umi_context *ctx, const umi_tensor *w, const float *x, int n, float *y);
/* umi_matmul on a caller's pool and conversion buffer (qbuf: n rows of
 * the weight type's vec_dot_type), outside any context (the decode-rate probe). */
void umi_matmul_pool(umi_pool *pool, void *qbuf, const umi_tensor *w, const float *x, int n, float *y);
/* p's tile for w's interleaved layout: the one that gives p's dot's bits
 * (the only kernel that reads such weights; w's rows whole groups). */
void umi_matmul_layout_tile(const umi_tensor *w, umi_kernel_plan *p);
/* y[p] = x · w[p]ᵀ for parts (at most 3) weights of one input width, in one
 * pass over the threads (q, k and v). */
void umi_matmul_many(umi_context *ctx, int parts, const umi_tensor *const *w, const float *x, int n,
                     float *const *y);
/* A gated FFN's two products in one pass: gate_y = act(x · gateᵀ) * (x ·
 * upᵀ) (umi_swiglu or umi_geglu of the two), up_y = x · upᵀ. */
void umi_matmul_glu(umi_context *ctx, const umi_tensor *gate, const umi_tensor *up, const float *x, int n,
                    float *gate_y, float *up_y, bool gelu);


/* out[n][dim] = x / rms(x) * w (w may be NULL); the sum of squares in double
 * as the reference does, so near-ties resolve the same way. */
void umi_rmsnorm(float *out, const float *x, const float *w, int n, int dim, float eps);

/* Rotate the first n_rot dims of each of n_heads heads (width head_dim) of
 * n token rows at positions pos0..pos0+n-1. */
void umi_rope(const umi_hparams *hp, const float *freq_factors, float *x, int n, int n_heads,
              int head_dim, uint32_t pos0);

/* umi_rope of ctx->q and ctx->k for the n rows of a multi-sequence pass,
 * each at its own sequence's position, with the frequency divisors of its
 * own context's size (umi_model_rope_factors; multi.c). */
void umi_multi_rope(umi_context *ctx, const umi_hparams *hp, int n);

/* y[i] += b[i % dim] for n rows. */
void umi_add_bias(float *y, const float *b, int n, int dim);
/* gate = silu(gate) * up for n_rows rows of dim. */
void umi_swiglu(float *gate, const float *up, int n_rows, int dim);
/* out[n_rows][dim] = silu(gate) * up where each row of gate_up is [gate | up]. */
void umi_swiglu_fused(float *out, const float *gate_up, int n_rows, int dim);
/* gate = gelu(gate) * up (tanh approximation, through half precision as the reference). */
void umi_geglu(float *gate, const float *up, int n_rows, int dim);
/* One of the two above on elements [from, to) of a single row of dim,
 * rounding each element as the whole-row functions do. */
void umi_glu_span(float *gate, const float *up, int64_t from, int64_t to, int dim, bool gelu);
/* x *= s. */
void umi_scale(float *x, int64_t n, float s);
/* x = cap * tanh(x / cap). */
void umi_softcap(float *x, int64_t n, float cap);

/* Size (for n_batch tokens; xq_bytes of converted inputs, from memory.c's
 * layout) and release the expert scratch; nothing for a dense model. On
 * failure everything is released. */
umi_status umi_moe_scratch_init(umi_moe_scratch *s, const umi_hparams *hp, uint32_t n_batch,
                                size_t xq_bytes, umi_error *err);
void umi_moe_scratch_free(umi_moe_scratch *s);

/* Mixture-of-experts FFN of layer L for n rows of ctx->xb (the normed
 * input): out[n][n_embd], shared experts included. Uses ctx->moe and
 * ctx->qbuf. Multithreaded. */
void umi_moe_ffn(umi_context *ctx, const umi_layer *L, int n, float *out);
/* Add layer L's shared experts (ffn_*_shexp, gated when ffn_gate_inp_shexp
 * is bound) of n rows of ctx->xb into out[n][n_embd]; umi_moe_ffn calls it
 * last, and it reuses that scratch (shexp.c). */
void umi_shared_expert_ffn(umi_context *ctx, const umi_layer *L, int n, float *out);

/* Causal attention for n query rows at positions n_past.. over the layer's
 * KV cache (which must already hold those positions). Multithreaded. */
void umi_attention(umi_context *ctx, int layer, int n);

/* How a q·k dot becomes a score: times scale, then (when softcap is set)
 * softcap * tanh(score) — scale already holds the 1 / softcap. */
typedef struct umi_att_scores {
    float scale;
    float softcap;
} umi_att_scores;

/* One position of an online softmax (Milakov & Gimelshein 2018) with score
 * s and running maximum *M: *ms scales what was accumulated, *vs weighs
 * this position. True when the maximum grew (the caller rescales by *ms). */
static inline bool umi_softmax_step(float s, float *M, float *ms, float *vs) {
    *ms = 1.0f;
    *vs = 1.0f;
    if (s > *M) {
        *ms = expf(*M - s);
        *M = s;
        return true;
    }
    *vs = expf(s - *M);
    return false;
}

/* One query row of one head against cached F16 positions first..n_kv-1
 * (keys of hd_k, values of hd_v, each k_stride / v_stride elements apart;
 * position p in cell p % cells, a sliding-window ring, or cells >= n_kv for
 * a full cache), by the path the reference takes for a batch of n_rows
 * query rows. scratch holds the per-thread attention scratch (memory.c
 * sizes it). */
void umi_attention_head(const uint16_t *kc, size_t k_stride, const uint16_t *vc, size_t v_stride,
                        int hd_k, int hd_v, int first, int n_kv, int cells, const float *q,
                        const umi_att_scores *sc, int n_rows, float *out, float *scratch);

/* The decode path's g heads that share one KV head (q rows hd_k apart,
 * outputs hd_v apart) over F16 positions first..n_kv-1 (cells as for
 * umi_attention_head), as a decode step runs them when g <=
 * UMI_ATT_GROUP_MAX and head dims <= UMI_ATT_HD_MAX; also the planner's
 * attention-rate probe (rate.c). */
enum { UMI_ATT_GROUP_MAX = 8, UMI_ATT_HD_MAX = 256 };
void umi_attention_group_small(const uint16_t *kc, size_t k_stride, const uint16_t *vc, size_t v_stride, int hd_k,
                               int hd_v, int first, int n_kv, int cells, const float *q, int g,
                               const umi_att_scores *sc, float *out);

/* Multi-head latent attention of layer `layer` for n rows of ctx->xb (the
 * normed input), caching the latent rows: the per-head values, ready for
 * attn_output, in ctx->att (mla.c). Multithreaded. */
void umi_mla_attention(umi_context *ctx, int layer, int n);

/* UMI_TRACE: dump n floats of an intermediate as <name>-<il> (forward.c). */
void umi_trace(const umi_context *ctx, const char *name, int il, const float *x, int64_t n);

/* Run n tokens (n <= n_batch) at positions n_past.. through the model and
 * advance n_past; writes logits [out][n_vocab] for the last `out` rows: n
 * (every row), 1 (the last), or 0 (none: a prompt chunk before the last
 * only fills the cache, and its last layer stops after attention, as the
 * reference's does when no row is output). */
void umi_forward(umi_context *ctx, const umi_token *tokens, int n, int out, float *logits);
/* With logits NULL, umi_forward hands the final-norm rows to this (embed.c)
 * instead of projecting them to logits. */
void umi_embed_collect(umi_context *ctx, const float *rows, int n);

#endif
