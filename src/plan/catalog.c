/* The catalog: hyperparameters of popular open models, as their GGUF
 * conversions record them, and the hardware people run them on.
 *
 * A model entry is everything needed to rebuild its tensor table
 * (src/plan/tensors.c): widths, head counts, experts, MLA ranks, which
 * optional tensors exist. Fine-tunes share their base's shapes, so one entry
 * covers them all (Magnum v4 123B is Mistral Large 2407's shapes).
 *
 * Hardware entries carry peak bandwidth (decode is bandwidth-bound) and an
 * effective matmul rate calibrated on published llama.cpp pp512 runs
 * (../shared/plan/published-speeds.tsv), not the vendor's peak. */
#include <strings.h>

#include "plan/plan.h"

/* Shorthands keep the table one entry per line group. */
#define LLAMA3_VOCAB .n_vocab = 128256, .n_merges = 280147
#define QWEN_VOCAB .n_vocab = 152064, .n_merges = 151387
#define QWEN_VOCAB_SMALL .n_vocab = 151936, .n_merges = 151387
#define DENSE(E, L, H, HKV, HD, FF) \
    .n_embd = E, .n_layer = L, .n_head = H, .n_head_kv = HKV, .head_dim = HD, .n_ff = FF

const umi_cat_model umi_cat_models[] = {
    /* ---- Meta Llama 3.x (BPE, 128k vocab; 3.1+ carry rope frequency factors) */
    {"llama-3.1-8b", "Llama 3.1 8B", "llama", "chat", UMI_CAT_LLAMA, UMI_CAT_ROPE_FREQS,
     LLAMA3_VOCAB, DENSE(4096, 32, 32, 8, 128, 14336), .n_ctx_train = 131072},
    {"llama-3.1-70b", "Llama 3.1 70B", "llama", "chat reasoning", UMI_CAT_LLAMA,
     UMI_CAT_ROPE_FREQS | UMI_CAT_70B, LLAMA3_VOCAB, DENSE(8192, 80, 64, 8, 128, 28672),
     .n_ctx_train = 131072},
    {"llama-3.3-70b", "Llama 3.3 70B", "llama", "chat reasoning code", UMI_CAT_LLAMA,
     UMI_CAT_ROPE_FREQS | UMI_CAT_70B, LLAMA3_VOCAB, DENSE(8192, 80, 64, 8, 128, 28672),
     .n_ctx_train = 131072},
    {"llama-3.1-405b", "Llama 3.1 405B", "llama", "chat reasoning", UMI_CAT_LLAMA,
     UMI_CAT_ROPE_FREQS, LLAMA3_VOCAB, DENSE(16384, 126, 128, 8, 128, 53248),
     .n_ctx_train = 131072},
    /* The first 405B conversions (July 2024) carried 16 KV heads; many published files are those. */
    {"llama-3.1-405b-kv16", "Llama 3.1 405B (first release, 16 KV heads)", "llama",
     "chat reasoning", UMI_CAT_LLAMA, UMI_CAT_ROPE_FREQS, LLAMA3_VOCAB,
     DENSE(16384, 126, 128, 16, 128, 53248), .n_ctx_train = 131072},
    {"llama-3.2-1b", "Llama 3.2 1B", "llama", "chat", UMI_CAT_LLAMA,
     UMI_CAT_ROPE_FREQS | UMI_CAT_TIED, LLAMA3_VOCAB, DENSE(2048, 16, 32, 8, 64, 8192),
     .n_ctx_train = 131072},
    {"llama-3.2-3b", "Llama 3.2 3B", "llama", "chat", UMI_CAT_LLAMA,
     UMI_CAT_ROPE_FREQS | UMI_CAT_TIED, LLAMA3_VOCAB, DENSE(3072, 28, 24, 8, 128, 8192),
     .n_ctx_train = 131072},
    /* ---- Llama 2 family and merges built from it (SentencePiece, 32k vocab) */
    {"llama-2-7b", "Llama 2 7B", "llama", "chat", UMI_CAT_LLAMA, UMI_CAT_SPM, .n_vocab = 32000,
     DENSE(4096, 32, 32, 32, 128, 11008), .n_ctx_train = 4096},
    {"llama-2-13b", "Llama 2 13B", "llama", "chat creative", UMI_CAT_LLAMA, UMI_CAT_SPM,
     .n_vocab = 32000, DENSE(5120, 40, 40, 40, 128, 13824), .n_ctx_train = 4096},
    {"llama-2-70b", "Llama 2 70B", "llama", "chat creative", UMI_CAT_LLAMA,
     UMI_CAT_SPM | UMI_CAT_70B, .n_vocab = 32000, DENSE(8192, 80, 64, 8, 128, 28672),
     .n_ctx_train = 4096},
    {"midnight-miqu-70b", "Midnight Miqu 70B", "llama", "creative chat", UMI_CAT_LLAMA,
     UMI_CAT_SPM | UMI_CAT_70B, .n_vocab = 32000, DENSE(8192, 80, 64, 8, 128, 28672),
     .n_ctx_train = 32764},
    {"midnight-miqu-103b", "Midnight Miqu 103B", "llama", "creative chat", UMI_CAT_LLAMA,
     UMI_CAT_SPM, .n_vocab = 32000, DENSE(8192, 120, 64, 8, 128, 28672), .n_ctx_train = 32764},
    /* ---- Mistral (SentencePiece; Nemo and Small 3 use the 131k tekken BPE) */
    {"mistral-7b", "Mistral 7B v0.3", "llama", "chat", UMI_CAT_LLAMA, UMI_CAT_SPM,
     .n_vocab = 32768, DENSE(4096, 32, 32, 8, 128, 14336), .n_ctx_train = 32768},
    {"mistral-nemo-12b", "Mistral Nemo 12B", "llama", "chat creative", UMI_CAT_LLAMA, 0,
     .n_vocab = 131072, .n_merges = 269443, DENSE(5120, 40, 32, 8, 128, 14336),
     .n_ctx_train = 131072},
    {"mistral-small-24b", "Mistral Small 3 24B", "llama", "chat code", UMI_CAT_LLAMA, 0,
     .n_vocab = 131072, .n_merges = 269443, DENSE(5120, 40, 32, 8, 128, 32768),
     .n_ctx_train = 32768},
    {"mistral-large-2407", "Mistral Large 2 (2407) 123B", "llama", "chat code reasoning",
     UMI_CAT_LLAMA, UMI_CAT_SPM, .n_vocab = 32768, DENSE(12288, 88, 96, 8, 128, 28672),
     .n_ctx_train = 131072},
    {"magnum-v4-123b", "Magnum v4 123B", "llama", "creative chat", UMI_CAT_LLAMA, UMI_CAT_SPM,
     .n_vocab = 32768, DENSE(12288, 88, 96, 8, 128, 28672), .n_ctx_train = 131072},
    {"mixtral-8x7b", "Mixtral 8x7B", "llama", "chat code", UMI_CAT_LLAMA, UMI_CAT_SPM,
     .n_vocab = 32000, DENSE(4096, 32, 32, 8, 128, 0), .n_ctx_train = 32768, .n_expert = 8,
     .n_expert_used = 2, .n_ff_exp = 14336},
    {"mixtral-8x22b", "Mixtral 8x22B", "llama", "chat code", UMI_CAT_LLAMA, UMI_CAT_SPM,
     .n_vocab = 32768, DENSE(6144, 56, 48, 8, 128, 0), .n_ctx_train = 65536, .n_expert = 8,
     .n_expert_used = 2, .n_ff_exp = 16384},
    /* ---- Qwen 2.5 (q/k/v biases; the small ones tie their embeddings) */
    {"qwen2.5-0.5b", "Qwen2.5 0.5B", "qwen2", "chat", UMI_CAT_LLAMA,
     UMI_CAT_QKV_BIAS | UMI_CAT_TIED, QWEN_VOCAB_SMALL, DENSE(896, 24, 14, 2, 64, 4864),
     .n_ctx_train = 32768},
    {"qwen2.5-1.5b", "Qwen2.5 1.5B", "qwen2", "chat", UMI_CAT_LLAMA,
     UMI_CAT_QKV_BIAS | UMI_CAT_TIED, QWEN_VOCAB_SMALL, DENSE(1536, 28, 12, 2, 128, 8960),
     .n_ctx_train = 32768},
    {"qwen2.5-3b", "Qwen2.5 3B", "qwen2", "chat", UMI_CAT_LLAMA, UMI_CAT_QKV_BIAS | UMI_CAT_TIED,
     QWEN_VOCAB_SMALL, DENSE(2048, 36, 16, 2, 128, 11008), .n_ctx_train = 32768},
    {"qwen2.5-7b", "Qwen2.5 7B", "qwen2", "chat", UMI_CAT_LLAMA, UMI_CAT_QKV_BIAS, QWEN_VOCAB,
     DENSE(3584, 28, 28, 4, 128, 18944), .n_ctx_train = 32768},
    {"qwen2.5-coder-7b", "Qwen2.5 Coder 7B", "qwen2", "code", UMI_CAT_LLAMA, UMI_CAT_QKV_BIAS,
     QWEN_VOCAB, DENSE(3584, 28, 28, 4, 128, 18944), .n_ctx_train = 32768},
    {"qwen2.5-14b", "Qwen2.5 14B", "qwen2", "chat", UMI_CAT_LLAMA, UMI_CAT_QKV_BIAS, QWEN_VOCAB,
     DENSE(5120, 48, 40, 8, 128, 13824), .n_ctx_train = 32768},
    {"qwen2.5-32b", "Qwen2.5 32B", "qwen2", "chat reasoning", UMI_CAT_LLAMA, UMI_CAT_QKV_BIAS,
     QWEN_VOCAB, DENSE(5120, 64, 40, 8, 128, 27648), .n_ctx_train = 32768},
    {"qwen2.5-coder-32b", "Qwen2.5 Coder 32B", "qwen2", "code", UMI_CAT_LLAMA, UMI_CAT_QKV_BIAS,
     QWEN_VOCAB, DENSE(5120, 64, 40, 8, 128, 27648), .n_ctx_train = 32768},
    {"qwen2.5-72b", "Qwen2.5 72B", "qwen2", "chat reasoning", UMI_CAT_LLAMA,
     UMI_CAT_QKV_BIAS | UMI_CAT_70B, QWEN_VOCAB, DENSE(8192, 80, 64, 8, 128, 29568),
     .n_ctx_train = 32768},
    /* ---- Qwen 3 (per-head q/k norms, no biases) */
    {"qwen3-4b", "Qwen3 4B", "qwen3", "chat reasoning", UMI_CAT_LLAMA,
     UMI_CAT_QK_NORM | UMI_CAT_TIED, QWEN_VOCAB_SMALL, DENSE(2560, 36, 32, 8, 128, 9728),
     .n_ctx_train = 40960},
    {"qwen3-8b", "Qwen3 8B", "qwen3", "chat reasoning", UMI_CAT_LLAMA, UMI_CAT_QK_NORM,
     QWEN_VOCAB_SMALL, DENSE(4096, 36, 32, 8, 128, 12288), .n_ctx_train = 40960},
    {"qwen3-14b", "Qwen3 14B", "qwen3", "chat reasoning code", UMI_CAT_LLAMA, UMI_CAT_QK_NORM,
     QWEN_VOCAB_SMALL, DENSE(5120, 40, 40, 8, 128, 17408), .n_ctx_train = 40960},
    {"qwen3-32b", "Qwen3 32B", "qwen3", "chat reasoning code", UMI_CAT_LLAMA, UMI_CAT_QK_NORM,
     QWEN_VOCAB_SMALL, DENSE(5120, 64, 64, 8, 128, 25600), .n_ctx_train = 40960},
    {"qwen3-30b-a3b", "Qwen3 30B-A3B", "qwen3moe", "chat reasoning code", UMI_CAT_LLAMA,
     UMI_CAT_QK_NORM, QWEN_VOCAB_SMALL, DENSE(2048, 48, 32, 4, 128, 0), .n_ctx_train = 40960,
     .n_expert = 128, .n_expert_used = 8, .n_ff_exp = 768},
    {"qwen3-235b-a22b", "Qwen3 235B-A22B", "qwen3moe", "chat reasoning code", UMI_CAT_LLAMA,
     UMI_CAT_QK_NORM, QWEN_VOCAB_SMALL, DENSE(4096, 94, 64, 4, 128, 0), .n_ctx_train = 40960,
     .n_expert = 128, .n_expert_used = 8, .n_ff_exp = 1536},
    /* ---- DeepSeek (MLA: the cache holds a 512-wide latent plus 64 rope dims per token) */
    {"deepseek-coder-v2-lite", "DeepSeek Coder V2 Lite 16B", "deepseek2", "code",
     UMI_CAT_DEEPSEEK2, 0, .n_vocab = 102400, .n_merges = 99757,
     DENSE(2048, 27, 16, 16, 192, 10944), .head_dim_v = 128, .n_ctx_train = 163840,
     .n_expert = 64, .n_expert_used = 6, .n_ff_exp = 1408, .n_expert_shared = 2,
     .n_dense_lead = 1, .kv_lora = 512, .rope_dim = 64},
    {"deepseek-v2", "DeepSeek V2 236B", "deepseek2", "chat code", UMI_CAT_DEEPSEEK2, 0,
     .n_vocab = 102400, .n_merges = 99757, DENSE(5120, 60, 128, 128, 192, 12288),
     .head_dim_v = 128, .n_ctx_train = 163840, .n_expert = 160, .n_expert_used = 6,
     .n_ff_exp = 1536, .n_expert_shared = 2, .n_dense_lead = 1, .q_lora = 1536, .kv_lora = 512,
     .rope_dim = 64},
    {"deepseek-coder-v2", "DeepSeek Coder V2 236B", "deepseek2", "code", UMI_CAT_DEEPSEEK2, 0,
     .n_vocab = 102400, .n_merges = 99757, DENSE(5120, 60, 128, 128, 192, 12288),
     .head_dim_v = 128, .n_ctx_train = 163840, .n_expert = 160, .n_expert_used = 6,
     .n_ff_exp = 1536, .n_expert_shared = 2, .n_dense_lead = 1, .q_lora = 1536, .kv_lora = 512,
     .rope_dim = 64},
    {"deepseek-v3", "DeepSeek V3 671B", "deepseek2", "chat code", UMI_CAT_DEEPSEEK2,
     UMI_CAT_EXP_BIAS, .n_vocab = 129280, .n_merges = 127741,
     DENSE(7168, 61, 128, 128, 192, 18432), .head_dim_v = 128, .n_ctx_train = 163840,
     .n_expert = 256, .n_expert_used = 8, .n_ff_exp = 2048, .n_expert_shared = 1,
     .n_dense_lead = 3, .q_lora = 1536, .kv_lora = 512, .rope_dim = 64},
    {"deepseek-r1", "DeepSeek R1 671B", "deepseek2", "reasoning code", UMI_CAT_DEEPSEEK2,
     UMI_CAT_EXP_BIAS, .n_vocab = 129280, .n_merges = 127741,
     DENSE(7168, 61, 128, 128, 192, 18432), .head_dim_v = 128, .n_ctx_train = 163840,
     .n_expert = 256, .n_expert_used = 8, .n_ff_exp = 2048, .n_expert_shared = 1,
     .n_dense_lead = 3, .q_lora = 1536, .kv_lora = 512, .rope_dim = 64},
    /* ---- Gemma 2 (tied 256k SentencePiece vocab, sliding window on every other layer) */
    {"gemma-2-2b", "Gemma 2 2B", "gemma2", "chat", UMI_CAT_LLAMA,
     UMI_CAT_TIED | UMI_CAT_POST_NORMS | UMI_CAT_SPM, .n_vocab = 256000,
     DENSE(2304, 26, 8, 4, 256, 9216), .n_ctx_train = 8192, .n_swa = 4096},
    {"gemma-2-9b", "Gemma 2 9B", "gemma2", "chat creative", UMI_CAT_LLAMA,
     UMI_CAT_TIED | UMI_CAT_POST_NORMS | UMI_CAT_SPM, .n_vocab = 256000,
     DENSE(3584, 42, 16, 8, 256, 14336), .n_ctx_train = 8192, .n_swa = 4096},
    {"gemma-2-27b", "Gemma 2 27B", "gemma2", "chat creative", UMI_CAT_LLAMA,
     UMI_CAT_TIED | UMI_CAT_POST_NORMS | UMI_CAT_SPM, .n_vocab = 256000,
     DENSE(4608, 46, 32, 16, 128, 36864), .n_ctx_train = 8192, .n_swa = 4096},
    /* ---- Phi (fused qkv and gate+up) */
    {"phi-3-mini-4k", "Phi-3 mini 4k 3.8B", "phi3", "chat", UMI_CAT_PHI3, UMI_CAT_SPM,
     .n_vocab = 32064, DENSE(3072, 32, 32, 32, 96, 8192), .n_ctx_train = 4096},
    {"phi-4", "Phi-4 14B", "phi3", "chat reasoning code", UMI_CAT_PHI3, 0, .n_vocab = 100352,
     .n_merges = 100000, DENSE(5120, 40, 40, 10, 128, 17920), .n_ctx_train = 16384},
};
const size_t umi_cat_n_models = sizeof umi_cat_models / sizeof *umi_cat_models;

const umi_cat_model *umi_cat_find(const char *name) {
    for (size_t i = 0; name && i < umi_cat_n_models; i++)
        if (strcasecmp(name, umi_cat_models[i].name) == 0) return &umi_cat_models[i];
    return NULL;
}

/* ---------------------------------------------------------------- hardware
 *
 * Apple: bandwidth by chip tier; the GPU may wire about 2/3 of memory on
 * machines up to 36 GB and 3/4 above (macOS's default, raised with
 * `sysctl iogpu.wired_limit_mb`). tflops are calibrated on llama.cpp Metal
 * pp512 (7B Q4_0: M1 Ultra 1030 t/s, M2 Ultra 1238, M3 Ultra 1471, M4 Max 886,
 * M4 Pro 440); tiers without a published run are scaled by GPU cores. */
#define APPLE(N, T, MEM, BW, TF) {N, T, UMI_HW_APPLE, MEM, BW, TF, (MEM) > 36 ? 0.75 : 0.67, 0}

const umi_hw_profile umi_hw_profiles[] = {
    APPLE("m1-8", "Apple M1, 8 GB", 8, 68.25, 1.6),
    APPLE("m1-16", "Apple M1, 16 GB", 16, 68.25, 1.6),
    APPLE("m1-pro-16", "Apple M1 Pro, 16 GB", 16, 200, 3.4),
    APPLE("m1-pro-32", "Apple M1 Pro, 32 GB", 32, 200, 3.4),
    APPLE("m1-max-32", "Apple M1 Max, 32 GB", 32, 400, 6.9),
    APPLE("m1-max-64", "Apple M1 Max, 64 GB", 64, 400, 6.9),
    APPLE("m1-ultra-64", "Apple M1 Ultra, 64 GB", 64, 800, 13.9),
    APPLE("m1-ultra-128", "Apple M1 Ultra, 128 GB", 128, 800, 13.9),
    APPLE("m2-8", "Apple M2, 8 GB", 8, 100, 2.1),
    APPLE("m2-16", "Apple M2, 16 GB", 16, 100, 2.1),
    APPLE("m2-24", "Apple M2, 24 GB", 24, 100, 2.1),
    APPLE("m2-pro-16", "Apple M2 Pro, 16 GB", 16, 200, 4.2),
    APPLE("m2-pro-32", "Apple M2 Pro, 32 GB", 32, 200, 4.2),
    APPLE("m2-max-32", "Apple M2 Max, 32 GB", 32, 400, 8.4),
    APPLE("m2-max-64", "Apple M2 Max, 64 GB", 64, 400, 8.4),
    APPLE("m2-max-96", "Apple M2 Max, 96 GB", 96, 400, 8.4),
    APPLE("m2-ultra-64", "Apple M2 Ultra, 64 GB", 64, 800, 16.7),
    APPLE("m2-ultra-128", "Apple M2 Ultra, 128 GB", 128, 800, 16.7),
    APPLE("m2-ultra-192", "Apple M2 Ultra, 192 GB", 192, 800, 16.7),
    APPLE("m3-8", "Apple M3, 8 GB", 8, 100, 2.5),
    APPLE("m3-16", "Apple M3, 16 GB", 16, 100, 2.5),
    APPLE("m3-24", "Apple M3, 24 GB", 24, 100, 2.5),
    APPLE("m3-pro-18", "Apple M3 Pro, 18 GB", 18, 150, 4.5),
    APPLE("m3-pro-36", "Apple M3 Pro, 36 GB", 36, 150, 4.5),
    APPLE("m3-max-36", "Apple M3 Max (30-core GPU), 36 GB", 36, 300, 7.5),
    APPLE("m3-max-48", "Apple M3 Max, 48 GB", 48, 400, 9.9),
    APPLE("m3-max-64", "Apple M3 Max, 64 GB", 64, 400, 9.9),
    APPLE("m3-max-128", "Apple M3 Max, 128 GB", 128, 400, 9.9),
    APPLE("m3-ultra-96", "Apple M3 Ultra, 96 GB", 96, 819, 19.8),
    APPLE("m3-ultra-256", "Apple M3 Ultra, 256 GB", 256, 819, 19.8),
    APPLE("m3-ultra-512", "Apple M3 Ultra, 512 GB", 512, 819, 19.8),
    APPLE("m4-16", "Apple M4, 16 GB", 16, 120, 2.9),
    APPLE("m4-24", "Apple M4, 24 GB", 24, 120, 2.9),
    APPLE("m4-32", "Apple M4, 32 GB", 32, 120, 2.9),
    APPLE("m4-pro-24", "Apple M4 Pro, 24 GB", 24, 273, 5.9),
    APPLE("m4-pro-48", "Apple M4 Pro, 48 GB", 48, 273, 5.9),
    APPLE("m4-pro-64", "Apple M4 Pro, 64 GB", 64, 273, 5.9),
    APPLE("m4-max-36", "Apple M4 Max (32-core GPU), 36 GB", 36, 410, 9.5),
    APPLE("m4-max-48", "Apple M4 Max, 48 GB", 48, 546, 11.9),
    APPLE("m4-max-64", "Apple M4 Max, 64 GB", 64, 546, 11.9),
    APPLE("m4-max-128", "Apple M4 Max, 128 GB", 128, 546, 11.9),
    /* Strix Halo: 256-bit LPDDR5X-8000; the GPU pool (BIOS carve-out plus GTT) is
     * commonly set to 96 of 128 GB; calibrated on Vulkan pp512 (Llama 2 7B Q4_K_M 1074 t/s). */
    {"ryzen-ai-max-395-64", "AMD Ryzen AI Max+ 395, 64 GB", UMI_HW_UNIFIED, 64, 256, 12.0, 0.75, 16},
    {"ryzen-ai-max-395-128", "AMD Ryzen AI Max+ 395, 128 GB", UMI_HW_UNIFIED, 128, 256, 12.0, 0.75, 16},
    /* Discrete GPUs: the budget is VRAM less the driver's context. */
    {"rtx-3090", "NVIDIA RTX 3090, 24 GB", UMI_HW_DGPU, 24, 936, 60, 0.96, 0},
    {"rtx-4090", "NVIDIA RTX 4090, 24 GB", UMI_HW_DGPU, 24, 1008, 140, 0.96, 0},
    {"rtx-5090", "NVIDIA RTX 5090, 32 GB", UMI_HW_DGPU, 32, 1792, 190, 0.96, 0},
    {"h100", "NVIDIA H100 SXM, 80 GB", UMI_HW_DGPU, 80, 3350, 350, 0.97, 0},
    {"h200", "NVIDIA H200 SXM, 141 GB", UMI_HW_DGPU, 141, 4800, 380, 0.97, 0},
};
const size_t umi_hw_n_profiles = sizeof umi_hw_profiles / sizeof *umi_hw_profiles;

const umi_hw_profile *umi_hw_find(const char *name) {
    for (size_t i = 0; name && i < umi_hw_n_profiles; i++)
        if (strcasecmp(name, umi_hw_profiles[i].name) == 0) return &umi_hw_profiles[i];
    return NULL;
}
