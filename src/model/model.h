/* The loaded model: hyperparameters, weight views bound to GGUF tensors,
 * the vocabulary, and the architecture that knows how to run them.
 *
 * Weights are never copied: each umi_tensor points into the GGUF mapping.
 * Shapes follow GGML: ne[0] is the contiguous (input) dimension, so a matrix
 * W with ne = {n_in, n_out} computes y[n_out] = W x[n_in], one stored row
 * per output. */
#ifndef UMI_MODEL_MODEL_H
#define UMI_MODEL_MODEL_H

#include "core/progress.h"
#include "gguf/gguf.h"
#include "tokenizer/vocab.h"
#include "umi.h"

typedef struct umi_tensor {
    const char *name;
    uint32_t type;   /* GGML type id */
    int64_t ne[4];
    const void *data;
    int layout;      /* enum umi_layout: UMI_LAYOUT_GGUF, or rearranged at load (model/repack.c) */
} umi_tensor;

enum umi_rope_type {
    UMI_ROPE_NORM = 0, /* rotate adjacent pairs (x[2i], x[2i+1]) — GPT-J / llama */
    UMI_ROPE_NEOX = 2, /* rotate halves (x[i], x[i + n_rot/2]) — GPT-NeoX / qwen */
};

enum umi_gating {
    UMI_GATING_SOFTMAX = 0, /* softmax over all experts (Mixtral, Qwen MoE) */
    UMI_GATING_SIGMOID = 1, /* independent sigmoid per expert (DeepSeek-V3) */
};

enum umi_ffn_act {
    UMI_FFN_SILU = 0, /* SwiGLU: silu(gate) * up */
    UMI_FFN_GELU = 1, /* GeGLU: gelu_tanh(gate) * up (gemma) */
};

typedef struct umi_hparams {
    uint32_t n_vocab;
    uint32_t n_ctx_train;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;
    uint32_t n_head_kv;
    uint32_t n_ff;
    uint32_t head_dim_k; /* per-head size of q and k */
    uint32_t head_dim_v;
    uint32_t n_rot;      /* rotated dims per head (<= head_dim_k) */
    float norm_eps;
    float rope_freq_base;
    float rope_freq_scale; /* 1 / linear scaling factor */
    enum umi_rope_type rope_type;
    /* YaRN (rope.scaling.type yarn; off when yarn_ext_factor is 0), as the
     * reference's context sets it up: ramp between interpolated and original
     * frequencies over the correction dims, cos/sin times yarn_attn_factor. */
    float yarn_ext_factor;
    float yarn_attn_factor;     /* 1 unless yarn (or rope.scaling.attn_factor) */
    float yarn_beta_fast, yarn_beta_slow;
    float yarn_log_mul;         /* deepseek2: mscale_all_dim (file value / 0.1) */
    uint32_t n_ctx_orig_yarn;   /* rope.scaling.original_context_length */

    /* Multi-head latent attention (deepseek2; off when n_lora_kv == 0): K and
     * V come from one cached latent of n_lora_kv plus n_rot shared rope dims. */
    uint32_t n_lora_q;          /* q through a rank-n_lora_q bottleneck (0: one attn_q) */
    uint32_t n_lora_kv;         /* width of the cached latent */
    uint32_t head_dim_k_mla;    /* per-head q/k width once decompressed (nope + rope) */
    uint32_t head_dim_v_mla;    /* per-head v width once decompressed */

    /* Mixture of experts (n_expert == 0: a dense FFN in every layer). */
    uint32_t n_expert;           /* experts per MoE layer */
    uint32_t n_expert_used;      /* experts each token is routed to */
    uint32_t n_ff_exp;           /* hidden width of one expert */
    enum umi_gating gating;      /* router probabilities from its logits */
    bool expert_weights_norm;    /* renormalize the chosen experts' weights to sum 1 */
    float expert_weights_scale;  /* multiply them by this (0 or 1: not at all) */
    uint32_t n_expert_groups;    /* group-limited routing: experts in this many groups... */
    uint32_t n_group_used;       /* ...and only the best n_group_used groups compete (0: off) */
    uint32_t n_layer_dense_lead; /* the first layers keep a dense FFN (deepseek2) */
    uint32_t n_expert_shared;    /* always-on shared experts (deepseek2) */
    uint32_t n_ff_shexp;         /* shared-expert width: all of deepseek2's, or qwen2moe's one gated expert (0: none) */

    /* Variations on the block (all off when 0 / false). */
    float embd_scale;       /* token embeddings times this (gemma: sqrt(n_embd)) */
    float q_scale;          /* q times this after rope; attention scores are then
                               not scaled again (otherwise by 1/sqrt(head_dim_k)) */
    float attn_softcap;     /* scores -> cap * tanh(scores / cap) */
    float final_softcap;    /* logits -> cap * tanh(logits / cap) */
    enum umi_ffn_act ffn_act;

    /* Sliding-window attention: layer il attends to the n_swa positions up
     * to its own when il % swa_period < swa_period - 1 (gemma2: period 2,
     * the even layers; gemma3: 6, five local layers then a global one).
     * Those layers rotate with rope_freq_base_swa / _scale_swa when set. */
    uint32_t n_swa;      /* 0: every layer attends to the whole context */
    uint32_t swa_period;
    float rope_freq_base_swa, rope_freq_scale_swa;
} umi_hparams;

/* One transformer block. Optional tensors are NULL. */
typedef struct umi_layer {
    const umi_tensor *attn_norm;          /* [n_embd] */
    const umi_tensor *wq, *wk, *wv, *wo;  /* [n_embd, n_head*hd_k] ... [n_head*hd_v, n_embd] */
    const umi_tensor *bq, *bk, *bv, *bo;  /* biases (qwen2) */
    const umi_tensor *ffn_norm;           /* [n_embd] */
    const umi_tensor *ffn_gate, *ffn_up;  /* [n_embd, n_ff] */
    const umi_tensor *ffn_down;           /* [n_ff, n_embd] */
    const umi_tensor *attn_q_norm, *attn_k_norm; /* [hd_k] RMSNorm per head (qwen3) */

    /* Mixture of experts: the router and the experts stacked along ne[2]. */
    const umi_tensor *ffn_gate_inp;       /* [n_embd, n_expert] */
    const umi_tensor *ffn_gate_exps;      /* [n_embd, n_ff_exp, n_expert] */
    const umi_tensor *ffn_up_exps;        /* [n_embd, n_ff_exp, n_expert] */
    const umi_tensor *ffn_down_exps;      /* [n_ff_exp, n_embd, n_expert] */
    const umi_tensor *ffn_exp_probs_b;    /* [n_expert] selection bias (DeepSeek-V3), optional */
    /* Shared experts every token runs beside the routed ones: one SwiGLU of
     * width n_ff_shexp (deepseek2), its output gated by
     * sigmoid(ffn_gate_inp_shexp · x) when that is bound (qwen2moe). */
    const umi_tensor *ffn_gate_inp_shexp; /* [n_embd] */
    const umi_tensor *ffn_gate_shexp, *ffn_up_shexp; /* [n_embd, n_ff_shexp] */
    const umi_tensor *ffn_down_shexp;     /* [n_ff_shexp, n_embd] */

    const umi_tensor *wqkv;               /* [n_embd, q+k+v] fused projection (phi3); then wq/wk/wv are NULL */
    const umi_tensor *attn_post_norm;     /* [n_embd] RMSNorm of the attention output (gemma2) */
    const umi_tensor *ffn_post_norm;      /* [n_embd] RMSNorm of the FFN output (gemma2) */
    /* A dense FFN without ffn_gate has ffn_up [n_embd, 2*n_ff] holding gate then up (phi3). */

    /* Multi-head latent attention (deepseek2, src/infer/mla.c); wq/wk/wv are NULL. */
    const umi_tensor *wq_a, *attn_q_a_norm, *wq_b; /* [n_embd, q_lora], [q_lora], [q_lora, n_head*hd_k_mla] */
    const umi_tensor *wkv_a_mqa;      /* [n_embd, kv_lora + n_rot]: latent | shared rope part */
    const umi_tensor *attn_kv_a_norm; /* [kv_lora] */
    const umi_tensor *wk_b;           /* [nope, kv_lora, n_head]: absorbs q_nope into latent space */
    const umi_tensor *wv_b;           /* [kv_lora, hd_v_mla, n_head]: latent output to v heads */
    const umi_tensor *wkv_b;          /* older files instead: [kv_lora, n_head * (nope + hd_v_mla)],
                                         per head the rows of wk_b (transposed) then of wv_b */
    uint32_t n_swa;                       /* sliding window: keys within n_swa positions (0: all) */
} umi_layer;

typedef struct umi_arch umi_arch;

struct umi_model {
    umi_gguf *gguf;
    umi_vocab *vocab;
    const umi_arch *arch;
    umi_hparams hp;
    char arch_name[64];
    char name[256];
    char tok_model[32];
    bool vocab_only;

    /* tokenizer.chat_template[.<name>] keys and NUL-terminated copies of their text */
    struct umi_chat_template_text {
        char *key;
        char *text;
    } *chat_templates;
    size_t n_chat_templates;

    umi_tensor *tensors;  /* one per GGUF tensor, same order */
    const umi_tensor *tok_embd;    /* [n_embd, n_vocab] */
    const umi_tensor *output_norm; /* [n_embd] */
    const umi_tensor *output;      /* [n_embd, n_vocab]; tok_embd when tied */
    const umi_tensor *rope_freqs;  /* [n_rot/2] frequency divisors (llama 3.1), optional */
    /* LongRoPE (Phi-3-128k, Phi-3.5, Phi-4-mini): [n_rot/2] divisors for
     * contexts beyond rope.scaling.original_context_length and for shorter
     * ones; optional, both or neither (umi_model_rope_factors picks). */
    const umi_tensor *rope_long, *rope_short;
    umi_layer *layers;             /* [n_layer] */
    void *repacked;                /* anonymous mapping holding repacked weights (model/repack.c), or NULL */
    size_t repacked_bytes;
};

/* An architecture: reads its hyperparameters and binds its tensors. The
 * forward pass is shared (src/infer/forward.c) and driven by what is bound. */
struct umi_arch {
    const char *name; /* general.architecture */
    enum umi_rope_type rope_type;
    umi_status (*load)(umi_model *m, umi_error *err); /* bind tensors, arch-specific checks */
    /* Optional: read the architecture's own hyperparameters; also runs for
     * info-only loads, so `umi plan` sees them (before load). */
    umi_status (*load_hparams)(umi_model *m, umi_error *err);
};

/* ---- helpers for architecture files (src/model/loader.c) ---- */

/* Read "<arch>.<suffix>" into *out (required or not). */
umi_status umi_model_get_u32(const umi_model *m, const char *suffix, bool required, uint32_t *out,
                             umi_error *err);
umi_status umi_model_get_f32(const umi_model *m, const char *suffix, bool required, float *out,
                             umi_error *err);
/* Read the hyperparameters every decoder shares (context, widths, heads, rope, norm eps). */
umi_status umi_model_load_common_hparams(umi_model *m, umi_error *err);

/* Find tensor `name` (printf-style with the layer index) and check its shape
 * (ne entries beyond n_dims must be 1; pass -1 to accept any size in a dim).
 * Missing optional tensors give NULL and UMI_OK. */
umi_status umi_model_bind(umi_model *m, const umi_tensor **out, bool required, int n_dims,
                          const int64_t ne[], umi_error *err, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Bind the standard llama-style block names (attn_norm, attn_q/k/v/output with
 * optional biases, optional per-head attn_q_norm/attn_k_norm, ffn_norm, and
 * either ffn_gate/up/down or, when hp.n_expert > 0, the router ffn_gate_inp
 * and ffn_{gate,up,down}_exps), token_embd, output_norm, output (tied to
 * token_embd when absent), rope_freqs and the LongRoPE tables. */
umi_status umi_model_bind_llama_like(umi_model *m, umi_error *err);

/* The rotary frequency divisors a context of n_ctx tokens per sequence uses:
 * rope_freqs.weight, else the long LongRoPE table when n_ctx exceeds the
 * original context and the short one otherwise (as the reference chooses
 * them per context), else NULL (none). */
const float *umi_model_rope_factors(const umi_model *m, uint32_t n_ctx);

/* Bind one layer's feed-forward: ffn_gate (optional: then ffn_up holds gate
 * and up), ffn_up, ffn_down, or with experts the router ffn_gate_inp, the
 * stacked ffn_{gate,up,down}_exps and the optional exp_probs_b. */
umi_status umi_model_bind_ffn(umi_model *m, umi_layer *L, uint32_t il, bool experts, umi_error *err);

/* The Gemma 2 block gemma2 and gemma3 share (gemma2.c): scaled embeddings,
 * q scale, GeGLU, bound tensors with post norms checked. */
umi_status umi_gemma_load_block(umi_model *m, umi_error *err);

/* The sliding window of layer il (0: it attends to the whole context). */
uint32_t umi_hparams_layer_swa(const umi_hparams *hp, uint32_t il);

/* Read expert_count / expert_used_count / expert_feed_forward_length
 * (n_ff_exp defaults to feed_forward_length) and check them. No experts is
 * fine (n_expert stays 0). */
umi_status umi_model_load_moe_hparams(umi_model *m, umi_error *err);

/* Rewrite the matmul weights this CPU's kernels read faster in an
 * interleaved layout, in place (model/repack.c); sets their layout. */
umi_status umi_model_repack(umi_model *m, const umi_model_params *p, const umi_progress *pr, umi_error *err);
/* Untied token-embedding rows by pread from the mapped file
 * (model/embd_rows.c): whether they are read (an untied table, the file
 * mapped), and a row's bytes in the file's layout: buf (row bytes) when
 * read, else the row in memory. */
bool umi_model_embd_read(const umi_model *m);
const void *umi_model_embd_row(const umi_model *m, int32_t token, void *buf);
/* Bytes of a tensor's data in the file's type (any layout keeps the size). */
uint64_t umi_tensor_bytes(const umi_tensor *t);
/* A layer's expert stacks (gate, up, down: ne[2] experts of ne[1] rows
 * each), those it has, into out; their count (model/prefault.c). */
int umi_layer_expert_stacks(const umi_layer *L, const umi_tensor *out[3]);
/* Map every expert weight still in the file's mapping now rather than on
 * first use, when they fit in the available memory (model/prefault.c). */
void umi_model_prefault_experts(const umi_model *m, const umi_progress *pr);
/* Whether the loader interleaves weights of this type under p where the CPU
 * has a layout for them (umi_kernels_layout): all but Q8_0, which only on
 * request (p->repack_q8_0: its tile does not give the reference's bits).
 * The planner and the decode-rate probe ask it too, to time what loads. */
bool umi_repack_type_wanted(uint32_t type, const umi_model_params *p);
/* Whether a tensor read mostly one token at a time (the output matrix, an
 * expert stack) of this type is interleaved too: Q6_K only for batch
 * decoding (model/repack.c says why). */
bool umi_repack_per_token_wanted(uint32_t type, bool batch_decode);

/* hp.yarn_attn_factor from the rope scaling settings read so far (1 without
 * YaRN); an architecture that sets hp.yarn_log_mul recomputes it. */
float umi_model_yarn_attn_factor(const umi_model *m);

extern const umi_arch umi_arch_llama;
extern const umi_arch umi_arch_qwen2;
extern const umi_arch umi_arch_qwen3;
extern const umi_arch umi_arch_qwen3moe;
extern const umi_arch umi_arch_qwen2moe;
extern const umi_arch umi_arch_gemma2;
extern const umi_arch umi_arch_gemma3;
extern const umi_arch umi_arch_phi3;
extern const umi_arch umi_arch_deepseek2;

#endif
