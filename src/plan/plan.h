/* The planner's internals: the catalog of model architectures, the
 * reference quantizer's per-tensor type choices, hardware profiles, and the
 * arithmetic that turns them into bytes and tokens per second.
 *
 * Nothing here allocates model memory or reads weights: a plan comes from
 * hyperparameters (the catalog) or from a GGUF header, so it is fast even
 * for a 400 GB file on a slow external drive. The public face is the
 * umi_plan_* section of include/umi.h. */
#ifndef UMI_PLAN_PLAN_H
#define UMI_PLAN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "umi.h"

/* ---------------------------------------------------------------- catalog */

/* How a family lays out its tensors (src/plan/tensors.c builds the list). */
typedef enum umi_cat_layout {
    UMI_CAT_LLAMA,     /* llama, mistral, qwen2/3, gemma2: q/k/v/o + gate/up/down (or experts) */
    UMI_CAT_PHI3,      /* fused attn_qkv, ffn_up holding gate and up */
    UMI_CAT_DEEPSEEK2, /* MLA attention (q_a/q_b or q, kv_a_mqa, kv_b), dense lead + experts */
} umi_cat_layout;

enum {
    UMI_CAT_TIED = 1 << 0,       /* no output.weight: token_embd doubles as the output */
    UMI_CAT_QKV_BIAS = 1 << 1,   /* attn_q/k/v biases (qwen2) */
    UMI_CAT_QK_NORM = 1 << 2,    /* per-head attn_q_norm / attn_k_norm (qwen3) */
    UMI_CAT_ROPE_FREQS = 1 << 3, /* rope_freqs.weight (llama 3.1 frequency factors) */
    UMI_CAT_POST_NORMS = 1 << 4, /* post_attention_norm / post_ffw_norm (gemma2) */
    UMI_CAT_70B = 1 << 5,        /* the reference classifies it as a "70B" model, which gives
                                    attn_v more bits in the K mixes */
    UMI_CAT_EXP_BIAS = 1 << 6,   /* exp_probs_b selection bias (deepseek v3) */
    UMI_CAT_SPM = 1 << 7,        /* SentencePiece vocab (scores, no merges) — only sizes metadata */
};

typedef struct umi_cat_model {
    const char *name;  /* catalog key, Hugging Face style without the org */
    const char *title; /* what people call it */
    const char *arch;  /* general.architecture */
    const char *tasks; /* space-separated: chat code reasoning creative */
    umi_cat_layout layout;
    uint32_t flags;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv;
    uint32_t head_dim;   /* q/k per-head width (deepseek2: nope + rope) */
    uint32_t head_dim_v; /* 0 = head_dim */
    uint32_t n_ff;       /* dense feed-forward width */
    uint32_t n_ctx_train;
    uint32_t n_expert, n_expert_used, n_ff_exp, n_expert_shared, n_dense_lead;
    uint32_t q_lora, kv_lora, rope_dim; /* deepseek2 MLA */
    uint32_t n_swa;                     /* sliding window on every other layer (gemma2), 0 = none */
    uint32_t n_merges;                  /* BPE merges in the vocab (metadata size only) */
} umi_cat_model;

extern const umi_cat_model umi_cat_models[];
extern const size_t umi_cat_n_models;

/* Find a catalog model by name (case-insensitive); NULL when absent. */
const umi_cat_model *umi_cat_find(const char *name);

/* ---------------------------------------------------------------- file types */

/* The reference quantizer's file types (llama-quantize's names). */
typedef enum umi_ftype {
    UMI_FT_F32, UMI_FT_F16, UMI_FT_BF16, UMI_FT_Q8_0, UMI_FT_Q6_K, UMI_FT_Q5_K_M, UMI_FT_Q5_K_S,
    UMI_FT_Q5_1, UMI_FT_Q5_0, UMI_FT_Q4_K_M, UMI_FT_Q4_K_S, UMI_FT_Q4_1, UMI_FT_Q4_0,
    UMI_FT_IQ4_XS, UMI_FT_IQ4_NL, UMI_FT_Q3_K_L, UMI_FT_Q3_K_M, UMI_FT_Q3_K_S, UMI_FT_IQ3_M,
    UMI_FT_IQ3_S, UMI_FT_IQ3_XS, UMI_FT_IQ3_XXS, UMI_FT_Q2_K, UMI_FT_Q2_K_S, UMI_FT_IQ2_M,
    UMI_FT_IQ2_S, UMI_FT_IQ2_XS, UMI_FT_IQ2_XXS, UMI_FT_IQ1_M, UMI_FT_IQ1_S,
    UMI_FT_COUNT
} umi_ftype;

/* "Q4_K_M" (case-insensitive) → file type; -1 when unknown. */
int umi_ftype_parse(const char *name);
const char *umi_ftype_name(umi_ftype ft);
/* The tensor type most weights of a file type get (GGML id). */
uint32_t umi_ftype_default_type(umi_ftype ft);
/* True for the types that need an importance matrix (the reference refuses without one). */
bool umi_ftype_needs_imatrix(umi_ftype ft);

/* GGML ids of the types quant.h has no enum for (umi cannot compute with them yet). */
enum {
    UMI_PT_IQ2_XXS = 16, UMI_PT_IQ2_XS = 17, UMI_PT_IQ3_XXS = 18, UMI_PT_IQ1_S = 19,
    UMI_PT_IQ3_S = 21, UMI_PT_IQ2_S = 22, UMI_PT_IQ1_M = 29,
};

/* ---------------------------------------------------------------- tensors */

typedef struct umi_cat_tensor {
    char name[48];
    int n_dims;
    int64_t ne[4];
    uint32_t type; /* GGML id: the source type (F32 for 1-D, F16/BF16 for matrices) until mixed */
    int layer;     /* -1 for tensors outside the blocks */
    bool expert;   /* a routed-expert stack: a token reads n_expert_used of ne[2] slices */
} umi_cat_tensor;

/* The tensors a converted GGUF of this model holds, in the order the reference
 * quantizer visits them (by layer, then by name). *out is malloc'd. */
umi_status umi_cat_tensors(const umi_cat_model *m, umi_cat_tensor **out, size_t *n, umi_error *err);

/* Give every tensor the type the reference quantizer chooses for file type ft.
 * imatrix: the file was made with an importance matrix (changes a few choices). */
void umi_quant_mix(const umi_cat_model *m, umi_ftype ft, bool imatrix, umi_cat_tensor *t, size_t n);

/* Bytes of the GGUF file: header, metadata (estimated from the vocab), tensor
 * table and the 32-byte-aligned data. */
uint64_t umi_cat_file_bytes(const umi_cat_model *m, const umi_cat_tensor *t, size_t n);

/* Predicted file size of a catalog model quantized as ft; 0 when a name is unknown. */
uint64_t umi_cat_predict_file_bytes(const umi_cat_model *m, umi_ftype ft, bool imatrix);

/* ---------------------------------------------------------------- hardware */

typedef enum umi_hw_kind {
    UMI_HW_APPLE,    /* unified memory; the GPU may wire only part of it (iogpu.wired_limit_mb) */
    UMI_HW_UNIFIED,  /* other unified-memory APUs (Strix Halo): GPU pool set by BIOS / GTT */
    UMI_HW_DGPU,     /* discrete GPU: the budget is its VRAM */
    UMI_HW_CPU,      /* plain CPU inference out of system RAM */
} umi_hw_kind;

typedef struct umi_hw_profile {
    const char *name;   /* "m3-ultra-512" */
    const char *title;  /* "Apple M3 Ultra, 512 GB" */
    umi_hw_kind kind;
    double mem_gb;      /* memory (VRAM for discrete GPUs), 1e9 bytes */
    double bw_gbps;     /* peak memory bandwidth */
    double tflops;      /* matmul throughput prompt processing reaches (calibrated, not peak) */
    double gpu_limit;   /* fraction of mem_gb the inference device may use by default */
    int cores;          /* CPU cores (0 = not relevant) */
} umi_hw_profile;

extern const umi_hw_profile umi_hw_profiles[];
extern const size_t umi_hw_n_profiles;
const umi_hw_profile *umi_hw_find(const char *name);

/* The `this` profile (src/plan/host.c). measure: when no cached bandwidth
 * exists, measure it (about a second) and cache it; otherwise guess. */
void umi_plan_host_profile(umi_plan_hw *hw, bool measure);

/* This machine's decode rate (GB/s of weights, umi_measure_decode_rate) of
 * a weight type with `threads` threads, in its loaded layout or (file_layout)
 * the file's, from the cache in the config dir; when missing (or fresh) and
 * measure, measured now (~0.3 s) and cached. 0 when unknown. */
double umi_plan_decode_rate(int type, int threads, bool file_layout, bool measure, bool fresh);

/* The same for prompt processing: GFLOP/s of a prompt chunk's products of
 * the type (umi_measure_prompt_rate_as, ~0.2 s), cached beside. */
double umi_plan_prompt_rate(int type, int threads, bool file_layout, bool measure, bool fresh);

/* The same for decode attention: (head, cached position) pairs per second
 * on one thread (umi_measure_attention_rate, ~0.05 s) for heads of hd_k /
 * hd_v dims in GQA groups of `group`, cached in attention-rates. */
double umi_plan_attention_rate(int hd_k, int hd_v, int group, bool measure, bool fresh);

/* path = <config dir>/name, the user's umi config dir ($XDG_CONFIG_HOME/umi,
 * else ~/.config/umi), made first when create_dir. False without a home or
 * when the dir cannot be made. */
bool umi_plan_config_file(const char *name, bool create_dir, char *path, size_t cap);


#endif
