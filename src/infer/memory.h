/* What an inference context allocates, as a pure function of the
 * hyperparameters and the context parameters.
 *
 * umi_context_init sizes every buffer from this breakdown and the planner
 * (src/plan/) reports the same numbers, so `umi plan` cannot drift from what
 * the engine reserves: a new buffer in the context belongs here first.
 * Allocates nothing; never fails. */
#ifndef UMI_INFER_MEMORY_H
#define UMI_INFER_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

typedef struct umi_mem_params {
    uint32_t n_ctx;    /* cache length in tokens (per sequence) */
    uint32_t n_batch;  /* tokens per forward chunk: scratch is sized for this many */
    int n_threads;     /* per-thread attention scratch */
    uint32_t n_seq;    /* parallel sequences, each with its own cache (0 = 1) */
    uint32_t kv_type;  /* GGML type of the cache: F16 (the engine's), Q8_0, Q4_0 */
    size_t hb_width;   /* widest projection into the ffn scratch (fused qkv or gate|up), if wider
                          than the dense FFN */
    bool moe_only;     /* every layer's FFN is routed experts: no dense FFN scratch */
    double act_bytes;  /* bytes per element of converted matmul activations: the largest
                          umi_mem_act_bytes over the model's matrices (0: none converted) */
} umi_mem_params;

typedef struct umi_mem_layout {
    /* Element counts, as the context's buffers are declared (infer.h). */
    size_t cache_k, cache_v;  /* KV cache elements over all layers (and sequences) */
    size_t n_e, n_q, n_k, n_v, n_att, n_ff, n_hb; /* floats per scratch row: [n_batch][width] */
    size_t qbuf_bytes;        /* activations converted to a weight's vec_dot_type */
    size_t att_scratch_stride; /* floats per thread */
    size_t moe_xq_bytes;      /* expert inputs converted to the experts' activation type */
    size_t n_logits;          /* floats: one row of n_vocab (grows on demand for all_logits) */
    /* Byte totals. */
    uint64_t kv_bytes;        /* the cache */
    uint64_t scratch_bytes;   /* activations, converted activations, attention scratch, logits */
    uint64_t moe_bytes;       /* expert routing and expert buffers (umi_moe_scratch_init) */
    uint64_t total_bytes;
} umi_mem_layout;

/* KV cells layer il keeps: n_ctx, or for a sliding-window layer (hp's
 * n_swa / swa_period) a ring of window + n_batch - 1 positions, so that the
 * first query of an n_batch chunk still sees its whole window after the
 * chunk's own keys are stored; never more than n_ctx. */
uint32_t umi_mem_layer_kv_cells(const umi_hparams *hp, uint32_t il, uint32_t n_ctx, uint32_t n_batch);

/* Fill *out from hp and p. kv_type must be F16, Q8_0 or Q4_0 (others count as F16). */
void umi_mem_context_layout(const umi_hparams *hp, const umi_mem_params *p, umi_mem_layout *out);

/* Bytes per element of the activations a matrix of this GGML type is dotted
 * against (its vec_dot_type: Q8_0 1.0625, Q8_K ~1.14, F16 2); 0 when that is
 * F32, which the matmul reads in place without converting. */
double umi_mem_act_bytes(uint32_t weight_type);

/* MLA (hp->n_lora_kv > 0) caches one row of the latent plus the shared rope
 * dims per token and layer instead of per-head K and V: that width, or 0. */
uint32_t umi_mem_mla_width(const umi_hparams *hp);

/* Floats per token of the expert gate/up scratch: the routed slots'
 * n_used * n_ff_exp, or the shared experts' n_ff_shexp when wider. */
uint64_t umi_mem_moe_ffn_width(const umi_hparams *hp);

/* Bytes of n elements of a cache of GGML type kv_type (block types round up). */
uint64_t umi_mem_kv_type_bytes(uint32_t kv_type, uint64_t n);

/* The cache type named s ("f16", "q8_0", "q4_0", any case; NULL or "" is
 * f16), its canonical name in *name; *name = NULL when s names none. */
uint32_t umi_mem_kv_type_parse(const char *s, const char **name);

#endif
