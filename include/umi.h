/* umi.h — the one public header of the umi inference library.
 *
 * Everything an embedding program (and umi's own CLI and server) needs:
 * load a GGUF model, tokenize, run the forward pass, sample. All handles are
 * opaque; every _init or _load function has a matching _free, and whoever calls the
 * init owns the handle. Functions that can fail return a umi_status and fill
 * a caller-owned umi_error with one printable line. The library never exits
 * the process and keeps no global mutable state.
 */
#ifndef UMI_H
#define UMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef enum umi_status {
    UMI_OK = 0,
    UMI_ERR_IO = 1,           /* file missing, unreadable, mmap failed */
    UMI_ERR_FORMAT = 2,       /* malformed GGUF or inconsistent model data */
    UMI_ERR_UNSUPPORTED = 3,  /* valid file, but an architecture/type umi lacks */
    UMI_ERR_NOMEM = 4,        /* allocation failed */
    UMI_ERR_ARG = 5,          /* caller passed something out of range */
    UMI_ERR_CONTEXT_FULL = 6, /* tokens do not fit in the context window */
} umi_status;

typedef struct umi_error {
    umi_status code;
    char msg[512]; /* one line, no trailing newline */
} umi_error;

/* Short static name of a status ("malformed file", ...). Never NULL. */
const char *umi_status_name(umi_status s);

/* ---------------------------------------------------------------- model */

typedef struct umi_model umi_model;
typedef int32_t umi_token;

typedef struct umi_model_params {
    bool use_mmap;   /* true: map weights read-only (default); false: read into one buffer */
    bool vocab_only; /* load only metadata + tokenizer (works on vocab-only GGUF files) */
    bool info_only;  /* read only what umi_model_get_info reports, best effort: the file is
                        validated, but an unsupported architecture or tokenizer is no error;
                        such a model cannot tokenize or run */
    bool no_repack;  /* keep every weight in the file's layout; by default weights whose kernels
                        read an interleaved layout faster (Q4_0, IQ4_NL with AVX2 or AVX-512 VNNI;
                        Q4_K, Q6_K with AVX-512 VNNI), matrices and expert stacks, are rearranged at
                        load into memory that replaces their file pages (in place with use_mmap
                        false): the file is untouched and memory use is the same */
    bool batch_decode; /* the model will decode several sequences per step (umi serve --parallel
                          > 1): a Q6_K output matrix and Q6_K expert stacks are interleaved too,
                          whose tile is ~2.5x faster for 4 rows and 10-20 % slower for one than
                          the file layout's dot (by default they stay as the file has them) */
    bool repack_q8_0; /* also interleave Q8_0 weights where the CPU has AVX-512 VNNI: prompts ~2x
                         faster, decode as fast; their tile sums each block exactly in integers,
                         so results differ from the reference's (lanes8) in the last bits, unlike
                         every other repack (off by default: the reference's bits) */
    /* Called on the loading thread as the long steps of a load advance: "reading" (use_mmap
       false), "repacking", "mapping experts"; done of total bytes of that step, each step
       starting at 0 and ending with done == total. NULL (default): no reports. */
    void (*progress)(void *user, const char *what, uint64_t done, uint64_t total);
    void *progress_user;
} umi_model_params;

umi_model_params umi_model_default_params(void);

/* Load a GGUF model. On success *out owns the mapping; free with umi_model_free.
 * On failure *out is NULL and err names the problem (field and byte offset for
 * malformed files). */
umi_status umi_model_load(const char *path, const umi_model_params *params, umi_model **out,
                          umi_error *err);
void umi_model_free(umi_model *model);

/* Summary for `umi info` and embedding programs. All strings are owned by the
 * model and live as long as it. */
#define UMI_MAX_TYPES 48
typedef struct umi_model_info {
    const char *arch;          /* general.architecture */
    const char *name;          /* general.name or "" */
    const char *tokenizer;     /* tokenizer.ggml.model or "" */
    uint32_t gguf_version;
    uint64_t file_bytes;
    uint64_t n_tensors;
    uint64_t n_params;                   /* sum of tensor element counts */
    uint64_t type_bytes[UMI_MAX_TYPES];  /* tensor bytes per GGML type id */
    uint64_t type_count[UMI_MAX_TYPES];  /* tensors per GGML type id */
    uint32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim;
    float rope_freq_base, rope_freq_scale;
    uint32_t rope_dim;
    const char *rope_type;     /* "normal" or "neox" */
    uint32_t rope_orig_ctx;    /* LongRoPE (Phi-3-128k, Phi-3.5, Phi-4-mini): the original context
                                  beyond which the long factor table is used; 0 = no tables */
    bool has_chat_template;
    uint64_t kv_bytes_per_token; /* F16 cache over all layers: K+V, or with MLA the latent */
    uint32_t kv_lora_rank;       /* MLA: width of the cached latent (0: per-head K and V) */
    uint32_t n_swa, n_swa_layers; /* sliding window and how many layers use it (0, 0: none) */
    uint64_t kv_bytes_per_token_past_window; /* what each token adds once every window is full
                                                (only the full-attention layers keep growing) */
    uint64_t weight_bytes_per_token; /* weights one decode step reads (matmuls; the
                                        embedding table only when it is also the output) */
    uint32_t n_expert, n_expert_used; /* experts per MoE layer and per token (0, 0: dense) */
    uint32_t n_ff_exp;                /* hidden width of one expert */
    uint32_t n_expert_shared;         /* always-on shared experts (deepseek2) */
    uint64_t n_params_active;         /* parameters one token uses: n_params less the
                                         experts it is not routed to */
    const char *cpu_level;     /* kernels this process uses: "avx512", "avx2", "neon", "generic" */
} umi_model_info;

void umi_model_get_info(const umi_model *model, umi_model_info *info);

/* Name of a GGML tensor type id ("q4_K", "f16", ...) or "?" when unknown. */
const char *umi_type_name(int type);

/* ---------------------------------------------------------------- vocab */

int32_t umi_vocab_size(const umi_model *model);
umi_token umi_token_bos(const umi_model *model); /* -1 when the vocab has none */
umi_token umi_token_eos(const umi_model *model);
bool umi_token_is_eog(const umi_model *model, umi_token tok); /* end of generation */
bool umi_vocab_add_bos(const umi_model *model);  /* tokenizer.ggml.add_bos_token */

/* Tokenize len bytes of UTF-8. Writes at most n_max ids to out and returns the
 * number of tokens; when n_max is too small returns -(needed). add_special adds
 * BOS/EOS as the vocab says; parse_special matches control tokens in text. */
int32_t umi_tokenize(const umi_model *model, const char *text, size_t len, umi_token *out,
                     int32_t n_max, bool add_special, bool parse_special);

/* The bytes of one token's text (byte tokens give their raw byte; the SPM
 * space marker becomes ' '). Control tokens give "" unless special is true
 * (then their text, e.g. "<|im_end|>"). Returns the length, or -(needed)
 * when buf is too small. Output may be a partial UTF-8 sequence; the caller
 * reassembles. */
int32_t umi_token_to_piece(const umi_model *model, umi_token tok, char *buf, int32_t buf_len,
                           bool special);

/* Bytes of the UTF-8 character a lead byte starts (1-4), 0 for a byte that
 * cannot start one (a continuation byte, 0xC0/0xC1, above 0xF4). A token's
 * piece may end inside a character: a program streaming pieces holds the
 * bytes back until the character is whole. */
int umi_utf8_char_len(unsigned char lead);

/* ---------------------------------------------------------------- context */

typedef struct umi_context umi_context;

typedef struct umi_context_params {
    uint32_t n_ctx;    /* KV cache length in tokens; 0 = the model's training context */
    uint32_t n_batch;  /* max tokens per umi_decode call (prompt chunk); default 512 */
    int n_threads;     /* 0 = number of physical cores */
    const char *kv_type; /* KV cache type: "f16" (NULL: default), "q8_0", "q4_0"; the
                            quantized ones need head dims that are multiples of 32 and
                            per-head K/V (not deepseek2's latent cache) */
} umi_context_params;

umi_context_params umi_context_default_params(void);

/* The longest context umi_context_init accepts, in tokens (16M). */
enum { UMI_MAX_CTX = 1 << 24 };

/* Create an inference context (KV cache + scratch, allocated once here; the
 * decode loop never allocates). The model must outlive the context. */
umi_status umi_context_init(umi_model *model, const umi_context_params *params,
                            umi_context **out, umi_error *err);
void umi_context_free(umi_context *ctx);

uint32_t umi_context_n_ctx(const umi_context *ctx);
uint32_t umi_context_n_past(const umi_context *ctx); /* tokens already in the KV cache */
/* Bytes of the KV cache the context allocated (its kv_type, sliding-window rings, MLA latent). */
uint64_t umi_context_kv_bytes(const umi_context *ctx);

/* Forget every cached token (n_past = 0). */
void umi_context_reset(umi_context *ctx);
/* Keep only the first n cached tokens (n >= n_past changes nothing): a new
 * turn that shares a prefix with the cache only processes what differs.
 * Returns the tokens kept: n, or 0 when a sliding-window layer's cache (a
 * ring of window + n_batch - 1 positions) no longer holds the window that
 * position n attends to; then everything must be decoded again. */
uint32_t umi_context_truncate(umi_context *ctx, uint32_t n);

/* Make dst hold src's first n cached positions (n <= src's n_past), copying
 * the KV rows instead of recomputing them: two requests that share a prompt
 * prefix in different server slots. Both contexts must be of one model and
 * cache type with caches laid out alike (sliding-window rings of one size);
 * otherwise UMI_ERR_ARG and dst is unchanged. dst's n_past becomes n. */
umi_status umi_context_copy_prefix(umi_context *dst, const umi_context *src, uint32_t n, umi_error *err);

/* Run n_tokens tokens through the model at positions n_past..n_past+n-1,
 * appending them to the KV cache. Prompts longer than n_batch are split
 * internally. When all_logits is true, logits for every token are kept
 * (umi_get_logits(ctx, i) for i in 0..n-1); otherwise only the last one.
 * Fails with UMI_ERR_CONTEXT_FULL when the tokens do not fit. */
umi_status umi_decode(umi_context *ctx, const umi_token *tokens, int32_t n_tokens,
                      bool all_logits, umi_error *err);

/* One next token for each of n contexts of the same model (continuous
 * batching): tokens[i] goes to ctxs[i] at its n_past, in its own KV cache,
 * and its logits land in ctxs[i] (umi_get_logits(ctxs[i], -1)) exactly as
 * umi_decode(ctxs[i], &tokens[i], 1, false) would have made them — bit for
 * bit. The n tokens share one forward pass, so each weight row is read once
 * per step; the pass runs in ctxs[0]'s scratch and thread pool (groups of
 * its n_batch). The contexts must be distinct; fails before
 * touching any of them (UMI_ERR_ARG, UMI_ERR_CONTEXT_FULL). */
umi_status umi_decode_multi(umi_context *const *ctxs, const umi_token *tokens, int32_t n,
                            umi_error *err);

/* Logits (n_vocab floats, owned by ctx, valid until the next decode) of token
 * i of the last umi_decode call; i = -1 means the last token. */
const float *umi_get_logits(const umi_context *ctx, int32_t i);

/* An embedding of n_tokens tokens into out (n_embd floats, umi_model_info):
 * their final-norm hidden states pooled as the GGUF's <arch>.pooling_type
 * says (mean, cls = first, last; mean when the file has none, as for decoder
 * LLMs) and L2-normalized. Uses the context's cache from position 0 and
 * leaves it empty. UMI_ERR_UNSUPPORTED for a pooling umi lacks (rank),
 * UMI_ERR_CONTEXT_FULL when the tokens exceed the context. */
umi_status umi_embed(umi_context *ctx, const umi_token *tokens, int32_t n_tokens, float *out,
                     umi_error *err);

/* ---------------------------------------------------------------- state (KV save/restore)
 *
 * A state file holds tokens and the KV cache rows that cache them, with the
 * model's identity (file size + CRC of its GGUF header and tensor table) and
 * a CRC-32 of the whole file; format in src/infer/state.c. */

/* Save the first n_tokens cached positions (n_tokens <= n_past) and their
 * tokens (the caller's record of what it decoded) to path, atomically
 * (written beside it, then renamed). */
umi_status umi_context_state_save(const umi_context *ctx, const umi_token *tokens, uint32_t n_tokens,
                                  const char *path, umi_error *err);
/* Restore a saved state into ctx: fills tokens (room for n_max) and sets
 * n_past = *n_out. Refuses with UMI_ERR_ARG a file saved from another model,
 * with UMI_ERR_FORMAT a corrupted or truncated one, with UMI_ERR_CONTEXT_FULL
 * one holding more tokens than the context; on any failure the context is
 * left empty (n_past 0). The logits are not saved: decode at least one token
 * before sampling. */
umi_status umi_context_state_load(umi_context *ctx, const char *path, umi_token *tokens, uint32_t n_max,
                                  uint32_t *n_out, umi_error *err);
/* How many tokens a state file holds (its header only), to size a context. */
umi_status umi_state_file_tokens(const char *path, uint32_t *n_tokens, umi_error *err);

/* ---------------------------------------------------------------- sampling */

typedef struct umi_sampler umi_sampler;

typedef struct umi_sampler_params {
    float temp;           /* <= 0: greedy (argmax) */
    int32_t top_k;        /* <= 0: off */
    float top_p;          /* >= 1: off */
    float min_p;          /* <= 0: off */
    float repeat_penalty; /* 1: off */
    int32_t repeat_last_n;
    uint64_t seed;
} umi_sampler_params;

umi_sampler_params umi_sampler_default_params(void);

/* The sampler owns a copy of the params and its scratch; NULL when out of memory. */
umi_sampler *umi_sampler_init(const umi_sampler_params *params, int32_t n_vocab);
void umi_sampler_free(umi_sampler *s);
/* Pick the next token from logits (not modified). */
umi_token umi_sampler_sample(umi_sampler *s, const float *logits);
/* Record a token (prompt or generated) for the repetition penalty. */
void umi_sampler_accept(umi_sampler *s, umi_token tok);

/* Constrained decoding to one JSON object (OpenAI's json_object, Ollama's
 * format "json"): from now on umi_sampler_sample draws only tokens whose bytes
 * keep the output a prefix of valid JSON (RFC 8259; strict UTF-8, paired
 * surrogate escapes, bounded whitespace and nesting), best logits first
 * (without top_k, among the 256 best valid tokens), and once the top-level
 * object is closed it returns the end-of-sequence token (also, before that,
 * when no token can continue the text: umi_sampler_json_done then says
 * false, which callers should report as an error). The tokens accepted
 * after this call must be the generated ones: accept the prompt first. Reads
 * every token's text once (a few ms for a 128k vocabulary). */
umi_status umi_sampler_set_json(umi_sampler *s, const umi_model *model, umi_error *err);
/* Constrained decoding to a value of a JSON schema (OpenAI's json_schema
 * response format, Ollama's format given as a schema), schema being JSON
 * text: as umi_sampler_set_json, but every prefix can still be finished as a
 * value that validates. Objects get their properties in the schema's order
 * (optional ones may be left out, no others); the subset of JSON Schema is
 * listed in docs/SERVER.md. A keyword outside it is refused with
 * UMI_ERR_UNSUPPORTED and a message naming it and where it is (never
 * ignored); text that is not JSON with UMI_ERR_ARG. */
umi_status umi_sampler_set_json_schema(umi_sampler *s, const umi_model *model, const char *schema, size_t len,
                                       umi_error *err);
/* Whether umi_sampler_set_json_schema would take this schema (same errors). */
umi_status umi_json_schema_check(const char *schema, size_t len, umi_error *err);
/* A JSON constraint is set and its value is complete. */
bool umi_sampler_json_done(const umi_sampler *s);

/* ---------------------------------------------------------------- chat */

typedef struct umi_chat_message {
    const char *role;    /* "system", "user", "assistant", "tool" */
    const char *content;
} umi_chat_message;

/* The model's chat template: tokenizer.chat_template, or the named variant
 * tokenizer.chat_template.<name> when name is non-NULL. NULL when absent.
 * Owned by the model. */
const char *umi_model_chat_template(const umi_model *model, const char *name);

/* Render a Jinja2 chat template (len bytes) the way Hugging Face transformers
 * does, with the members of the JSON object text vars_json as its variables
 * (messages, tools, add_generation_prompt, bos_token, eos_token, ...). now is
 * strftime_now()'s clock in Unix seconds (0 = the current time). On success
 * *out is a NUL-terminated string to release with umi_free. A template's
 * raise_exception() gives UMI_ERR_ARG with exactly its message; other
 * template errors UMI_ERR_FORMAT naming the line. */
umi_status umi_chat_render_json(const char *tmpl, size_t len, const char *vars_json, int64_t now,
                                char **out, umi_error *err);

/* Format a conversation with the model's template, or with ChatML when the
 * model has none (then *used_fallback is set, if non-NULL). bos_token and
 * eos_token are the vocabulary's. *out is released with umi_free. */
umi_status umi_chat_apply(const umi_model *model, const umi_chat_message *msgs, size_t n_msgs,
                          bool add_generation_prompt, char **out, bool *used_fallback,
                          umi_error *err);

/* The ChatML template umi falls back to. Static; never NULL. */
const char *umi_chat_default_template(void);

/* Release memory the library returned to the caller (rendered text). */
void umi_free(void *p);

/* ---------------------------------------------------------------- plan
 *
 * What a model needs and how fast it will run, before loading it: from a
 * GGUF file's header and tensor table (weights are never read) or from the
 * built-in catalog of model architectures and a quantization type. The
 * memory figures come from the same function umi_context_init sizes its
 * buffers with. Nothing here allocates model memory; the `this` hardware
 * profile measures bandwidth once and caches it in the user's config dir
 * ($XDG_CONFIG_HOME/umi, else ~/.config/umi). */

typedef struct umi_plan_params {
    const char *model_path;  /* a GGUF file, or NULL to plan a catalog model */
    const char *catalog;     /* catalog model name ("llama-3.1-8b"), when model_path is NULL */
    const char *quant;       /* catalog: file type ("Q4_K_M", the default; "IQ2_XS", "F16", ...) */
    bool imatrix;            /* catalog: made with an importance matrix (implied by IQ1/IQ2/IQ3_XXS) */
    uint32_t n_ctx;          /* context per sequence; 0 = as `umi run`: the model's, at most 4096 */
    uint32_t n_parallel;     /* sequences, each with its own cache; 0 = 1 */
    uint32_t n_batch;        /* tokens per forward chunk; 0 = 512 */
    int n_threads;           /* 0 = physical cores */
    const char *kv_type;     /* "f16" (NULL: the engine's), "q8_0", "q4_0" */
    const char *hw;          /* a profile name (umi_plan_hw_get), "this" or NULL (= this machine) */
    double mem_gb;           /* > 0: the memory to plan for (overrides the profile's) */
    double bw_gbps;          /* > 0: memory bandwidth (overrides the profile's or the measured) */
    double gpu_limit_pct;    /* > 0: share of memory the GPU may use (Apple, unified APUs, GPUs) */
    bool memory_only;        /* skip the speed prediction and its probes (load guards) */
    bool no_mmap;            /* the load reads the file into memory (use_mmap false): all of it is
                                resident, an untied token embedding included (mapped, that table's
                                rows are read as needed and never resident) */
    bool fresh_rates;        /* "this": measure the decode and prompt rates of each weight type
                                now (and cache them) even when the cache has them (umi bench;
                                the portable scalar kernels keep cached prompt rates) */
    bool keep_prompt_rates;  /* with fresh_rates: only the decode rates afresh (umi bench's
                                probes between repetitions, after one fresh set before them) */
} umi_plan_params;

umi_plan_params umi_plan_default_params(void);

typedef struct umi_plan_hw {
    char name[48];       /* "m3-ultra-512", "this", "custom" */
    char title[96];
    const char *kind;    /* "apple", "unified", "gpu", "cpu" */
    double mem_gb;       /* memory (a discrete GPU's VRAM), 1e9 bytes */
    double avail_gb;     /* this machine: memory available now; else mem_gb */
    double bw_gbps;
    bool bw_measured;    /* bandwidth measured on this machine (or read from the cache) */
    double tflops;       /* effective matmul rate for prompt processing */
    double gpu_limit_pct; /* default share the GPU may wire/use (100 for plain CPU) */
    int cores;
} umi_plan_hw;

typedef enum umi_plan_verdict {
    UMI_PLAN_FITS = 0,       /* at least 10% of the budget to spare */
    UMI_PLAN_TIGHT = 1,      /* fits, with under 10% to spare */
    UMI_PLAN_NO_FIT = 2,     /* does not fit */
} umi_plan_verdict;

typedef struct umi_plan_result {
    char model[128];          /* file path or catalog title */
    char arch[32];
    char quant[16];           /* catalog: the file type; file: "" */
    uint64_t n_params, n_params_active; /* active: what one token multiplies (MoE) */
    uint64_t file_bytes;      /* predicted (catalog) or actual (file) */
    uint64_t weight_bytes;    /* tensor data */
    uint64_t type_bytes[UMI_MAX_TYPES]; /* tensor data per GGML type id */
    uint32_t n_layer, n_embd, n_head, n_head_kv, head_dim, n_ctx_train, n_expert, n_expert_used;
    uint32_t n_swa;           /* sliding window of the sliding layers (0 = none) */
    uint32_t mla_kv_width;    /* MLA latent per token per layer (0 = none) */
    /* Memory (bytes). total = weights + kv + compute + overhead. */
    uint32_t n_ctx, n_parallel;
    const char *kv_type;      /* "f16", "q8_0", "q4_0" */
    uint64_t kv_bytes, kv_bytes_per_token, compute_bytes, overhead_bytes, total_bytes;
    /* The target and the verdict. */
    umi_plan_hw hw;
    uint64_t budget_bytes;    /* what the target lets the model use */
    int64_t headroom_bytes;   /* budget - total */
    umi_plan_verdict verdict;
    uint32_t n_ctx_max;       /* largest context (per sequence) that fits, <= n_ctx_train; 0 = none */
    uint64_t wired_limit_mb;  /* Apple: an iogpu.wired_limit_mb that would make it fit, 0 = not
                                 needed or not enough memory even then */
    /* Speed. */
    uint64_t bytes_per_token; /* weight bytes one decode step reads (active experts only) */
    bool tg_measured_rates;   /* decode speed from this machine's measured rate per weight type
                                 (umi_measure_decode_rate), not bandwidth x efficiency */
    double tg_tps;            /* decode tokens/s on an empty context */
    double tg_tps_full;       /* decode tokens/s with the context full */
    double pp_tps;            /* prompt tokens/s: an n_batch chunk into an empty cache */
    double pp_tps_full;       /* the same for the chunk that ends the context (after n_ctx - n_batch) */
    bool pp_measured_rates;   /* prompt speed from this machine's measured rate per weight type
                                 (a prompt chunk's products), not the profile's compute */
} umi_plan_result;

/* Plan one model on one target. Fails with UMI_ERR_ARG for an unknown catalog
 * name, file type, KV type or hardware profile (the message lists what is
 * known), or the file errors of umi_model_load. */
umi_status umi_plan_compute(const umi_plan_params *params, umi_plan_result *out, umi_error *err);

/* Short name of a verdict: "fits", "tight", "does not fit". */
const char *umi_plan_verdict_name(umi_plan_verdict v);

/* The catalog (static data; strings live forever). */
typedef struct umi_plan_catalog_entry {
    const char *name, *title, *arch;
    const char *tasks;         /* space-separated: chat code reasoning creative */
    uint64_t n_params, n_params_active;
    uint32_t n_ctx_train;
} umi_plan_catalog_entry;
size_t umi_plan_catalog_count(void);
bool umi_plan_catalog_get(size_t i, umi_plan_catalog_entry *out);

/* The file types the size predictor knows, best first ("F32" ... "IQ1_S"). */
size_t umi_plan_quant_count(void);
const char *umi_plan_quant_name(size_t i);

/* Built-in hardware profiles (not `this`). */
size_t umi_plan_hw_count(void);
bool umi_plan_hw_get(size_t i, umi_plan_hw *out);

/* ---------------------------------------------------------------- misc */

/* Monotonic clock in microseconds, for timing lines. */
int64_t umi_time_us(void);
/* Physical core count (falls back to online CPUs). */
int umi_cpu_physical_cores(void);

/* Measured memory read bandwidth in GB/s (1e9 bytes/s): n_threads threads
 * stream over a buffer of `bytes` (0 = 1 GiB), best of 3 passes. Allocates
 * and frees the buffer; returns a negative value if it cannot. */
double umi_measure_bandwidth(int n_threads, size_t bytes);

/* Measured decode rate of one weight type in GB/s of weights: n_threads
 * threads run single-token products over `bytes` (0 = 256 MiB) of random
 * weights of GGML type id `type`, through the engine's kernels in the
 * layout the loader gives that type; the median of 3 passes. Allocates and
 * frees its buffers; returns a negative value for a type without kernels
 * or when memory is short. */
double umi_measure_decode_rate(int n_threads, int type, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif
