/* Context lifetime and umi_decode: sizes the KV cache and scratch once,
 * splits long inputs into n_batch chunks, and keeps the logits. */
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "infer/kvquant.h"
#include "infer/memory.h"
#include "quant/quant.h"

umi_context_params umi_context_default_params(void) {
    return (umi_context_params){.n_ctx = 0, .n_batch = 512, .n_threads = 0};
}

void umi_context_free(umi_context *ctx) {
    if (!ctx) return;
    umi_pool_free(ctx->pool);
    float **bufs[] = {&ctx->x, &ctx->xb, &ctx->xb2, &ctx->q, &ctx->k, &ctx->v, &ctx->att,
                      &ctx->hb, &ctx->hb2, &ctx->att_scratch, &ctx->logits};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(*bufs[i]);
    free(ctx->k_data);
    free(ctx->v_data);
    umi_kv_layout_free(ctx);
    free(ctx->qbuf);
    umi_moe_scratch_free(&ctx->moe);
    free(ctx);
}

static size_t max3(size_t a, size_t b, size_t c) {
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* ctx->hb also receives fused projections: q|k|v (wqkv) and gate|up (an
 * ffn_up of 2 * n_ff rows). */
static size_t hb_width(const umi_model *model) {
    size_t w = 0;
    for (uint32_t il = 0; il < model->hp.n_layer; il++) {
        const umi_layer *L = &model->layers[il];
        if (L->wqkv) w = max3(w, (size_t)L->wqkv->ne[1], 0);
        if (L->ffn_up) w = max3(w, (size_t)L->ffn_up->ne[1], 0);
    }
    return w;
}

/* No layer has a dense FFN (all route to experts): its scratch is not needed. */
static bool moe_only(const umi_model *model) {
    for (uint32_t il = 0; il < model->hp.n_layer; il++)
        if (model->layers[il].ffn_up) return false;
    return true;
}

/* The widest converted activation any matrix of the model needs (an untied
 * token embedding is only looked up, never multiplied). */
static double act_bytes(const umi_model *model) {
    double b = 0;
    for (uint64_t i = 0; i < model->gguf->n_tensors; i++) {
        const umi_tensor *w = &model->tensors[i];
        const bool lookup_only = w == model->tok_embd && model->output != w;
        const double t = w->ne[1] > 1 && !lookup_only ? umi_mem_act_bytes(w->type) : 0;
        if (t > b) b = t;
    }
    return b;
}

umi_status umi_context_init(umi_model *model, const umi_context_params *params, umi_context **out,
                            umi_error *err) {
    *out = NULL;
    if (model->vocab_only)
        return umi_err(err, UMI_ERR_ARG, "model was loaded vocab-only; it cannot run");
    umi_context_params p = params ? *params : umi_context_default_params();
    const umi_hparams *hp = &model->hp;
    if (p.n_ctx == 0) p.n_ctx = hp->n_ctx_train;
    if (p.n_batch == 0) p.n_batch = 512;
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;
    if (p.n_threads <= 0) p.n_threads = umi_cpu_physical_cores();
    if (p.n_ctx > (uint32_t)UMI_MAX_CTX)
        return umi_err(err, UMI_ERR_ARG, "context %u is larger than umi supports (16M)", p.n_ctx);
    const char *kv_name;
    const uint32_t kv_type = umi_mem_kv_type_parse(p.kv_type, &kv_name);
    if (!kv_name) return umi_err(err, UMI_ERR_ARG, "unknown KV cache type '%s' (f16, q8_0, q4_0)", p.kv_type);
    umi_status st = umi_kv_type_check(hp, kv_type, kv_name, err);
    if (st) return st;

    umi_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return umi_err(err, UMI_ERR_NOMEM, "out of memory (context)");
    ctx->model = model;
    ctx->n_ctx = p.n_ctx;
    ctx->n_batch = p.n_batch;
    ctx->kv_type = kv_type;
    const char *trace = getenv("UMI_TRACE");
    ctx->trace = trace && *trace ? trace : NULL;
    st = umi_pool_init(p.n_threads, &ctx->pool, err);
    if (!st) st = umi_kv_layout_init(ctx, err);
    if (st) {
        umi_context_free(ctx);
        return st;
    }

    /* Every size comes from the breakdown `umi plan` reports too (memory.c). */
    umi_mem_layout lay;
    const umi_mem_params mp = {.n_ctx = p.n_ctx, .n_batch = p.n_batch, .n_threads = p.n_threads,
                               .n_seq = 1, .kv_type = kv_type, .hb_width = hb_width(model), .moe_only = moe_only(model),
                               .act_bytes = act_bytes(model)};
    umi_mem_context_layout(hp, &mp, &lay);
    const size_t B = p.n_batch, E = lay.n_e, F = lay.n_ff;
    const size_t QD = lay.n_q, OD = lay.n_att, KD = lay.n_k, VD = lay.n_v;
    ctx->att_scratch_stride = lay.att_scratch_stride;
    ctx->qbuf_size = lay.qbuf_bytes;
    ctx->n_logits_cap = 1;
    const size_t bytes_k = umi_kv_bytes(ctx, lay.cache_k), bytes_v = umi_kv_bytes(ctx, lay.cache_v);
    ctx->kv_bytes = bytes_k + bytes_v;
    ctx->k_data = calloc(bytes_k, 1);
    ctx->v_data = calloc(bytes_v ? bytes_v : 1, 1); /* none with MLA */
    ctx->x = malloc(B * E * sizeof(float));
    ctx->xb = malloc(B * E * sizeof(float));
    ctx->xb2 = malloc(B * E * sizeof(float));
    ctx->q = malloc(B * QD * sizeof(float));
    ctx->k = malloc(B * KD * sizeof(float));
    ctx->v = malloc(B * VD * sizeof(float));
    ctx->att = malloc(B * OD * sizeof(float));
    ctx->hb = malloc(B * lay.n_hb * sizeof(float));
    ctx->hb2 = malloc(B * (F ? F : 1) * sizeof(float));
    ctx->qbuf = malloc(ctx->qbuf_size);
    ctx->att_scratch = malloc((size_t)p.n_threads * ctx->att_scratch_stride * sizeof(float));
    ctx->logits = malloc((size_t)hp->n_vocab * sizeof(float));
    if (!ctx->k_data || !ctx->v_data || !ctx->x || !ctx->xb || !ctx->xb2 || !ctx->q || !ctx->k ||
        !ctx->v || !ctx->att || !ctx->hb || !ctx->hb2 || !ctx->qbuf || !ctx->att_scratch ||
        !ctx->logits) {
        umi_context_free(ctx);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory allocating the context (KV cache %.1f MiB)",
                       (double)lay.kv_bytes / (1 << 20));
    }
    if ((st = umi_moe_scratch_init(&ctx->moe, hp, p.n_batch, lay.moe_xq_bytes, err))) {
        umi_context_free(ctx);
        return st;
    }
    *out = ctx;
    return UMI_OK;
}

uint32_t umi_context_n_ctx(const umi_context *ctx) { return ctx->n_ctx; }
uint32_t umi_context_n_past(const umi_context *ctx) { return ctx->n_past; }
uint64_t umi_context_kv_bytes(const umi_context *ctx) { return ctx->kv_bytes; }
void umi_context_reset(umi_context *ctx) { umi_kv_truncate(ctx, 0); }
/* Positions past n_past are never read, so forgetting is just moving it
 * (as far back as the sliding-window rings allow). */
uint32_t umi_context_truncate(umi_context *ctx, uint32_t n) { return umi_kv_truncate(ctx, n); }

umi_status umi_decode(umi_context *ctx, const umi_token *tokens, int32_t n_tokens, bool all_logits,
                      umi_error *err) {
    const uint32_t n_vocab = ctx->model->hp.n_vocab;
    if (n_tokens <= 0) return umi_err(err, UMI_ERR_ARG, "decode: no tokens");
    if ((uint64_t)ctx->n_past + (uint64_t)n_tokens > ctx->n_ctx)
        return umi_err(err, UMI_ERR_CONTEXT_FULL,
                       "%d tokens do not fit: %u of the %u-token context are used", n_tokens,
                       ctx->n_past, ctx->n_ctx);
    for (int32_t i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab)
            return umi_err(err, UMI_ERR_ARG, "token id %d at index %d is outside the vocabulary (%u)",
                           tokens[i], i, n_vocab);
    /* Every row's logits are kept only when asked: the buffer grows once to
     * the largest request and is reused after that. */
    const uint32_t rows = all_logits ? (uint32_t)n_tokens : 1;
    if (rows > ctx->n_logits_cap) {
        float *l = realloc(ctx->logits, (size_t)rows * n_vocab * sizeof(float));
        if (!l) return umi_err(err, UMI_ERR_NOMEM, "out of memory (logits for %u tokens)", rows);
        ctx->logits = l;
        ctx->n_logits_cap = rows;
    }
    for (int32_t done = 0; done < n_tokens;) {
        int32_t n = n_tokens - done;
        if (n > (int32_t)ctx->n_batch) n = (int32_t)ctx->n_batch;
        /* Without all_logits only the last chunk's last row is projected. */
        float *dst = all_logits ? ctx->logits + (size_t)done * n_vocab : ctx->logits;
        umi_forward(ctx, tokens + done, n, all_logits ? n : done + n == n_tokens, dst);
        umi_kv_advanced(ctx);
        done += n;
    }
    ctx->n_logits = rows;
    return UMI_OK;
}

const float *umi_get_logits(const umi_context *ctx, int32_t i) {
    if (i < 0) i = (int32_t)ctx->n_logits - 1;
    if (i < 0 || (uint32_t)i >= ctx->n_logits) return NULL;
    return ctx->logits + (size_t)i * ctx->model->hp.n_vocab;
}

size_t umi_kv_regions(const umi_context *ctx, umi_kv_region *out, size_t max) {
    const umi_hparams *hp = &ctx->model->hp;
    /* MLA caches one F16 latent row per position in k_data and nothing in v_data;
     * rows of a quantized cache are whole blocks (kvquant.h). */
    const size_t mla = umi_mem_mla_width(hp);
    const size_t kd = mla ? mla : (size_t)hp->n_head_kv * hp->head_dim_k;
    const size_t vd = mla ? 0 : (size_t)hp->n_head_kv * hp->head_dim_v;
    size_t n = 0;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        /* Layer il's cells (kvcache.c): n_ctx of them, or a sliding-window ring. */
        const uint32_t cells = ctx->kv_cells[il];
        const umi_kv_region k = {ctx->k_data + umi_kv_bytes(ctx, ctx->kv_first[il] * kd), umi_kv_bytes(ctx, kd), cells};
        if (n < max) out[n] = k;
        n++;
        if (!vd) continue;
        const umi_kv_region v = {ctx->v_data + umi_kv_bytes(ctx, ctx->kv_first[il] * vd), umi_kv_bytes(ctx, vd), cells};
        if (n < max) out[n] = v;
        n++;
    }
    return n;
}
