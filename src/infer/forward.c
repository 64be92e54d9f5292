/* The decoder forward pass shared by every llama-layout architecture:
 *
 *   x = embed(tokens)
 *   per layer:  x += Wo · attn(rope(Wq·n), rope(Wk·n), Wv·n)   n = rmsnorm(x)·attn_norm
 *               x += Wdown · (silu(Wgate·n) ⊙ Wup·n)            n = rmsnorm(x)·ffn_norm
 *   logits = Wout · rmsnorm(x)·output_norm
 *
 * Optional pieces (biases, rope frequency factors) are used when the model
 * bound them. Buffers are the context's scratch; nothing is allocated here. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "infer/infer.h"
#include "infer/kvquant.h"
#include "quant/interleave.h"
#include "quant/quant.h"

static const float *f32_data(const umi_tensor *t) { return t ? (const float *)t->data : NULL; }

/* UMI_TRACE=DIR: print each intermediate's sum to stderr and write its
 * floats to DIR/<name>-<layer>.f32, named as the reference engine names its
 * graph nodes, to find where two engines part ways when bringing up an
 * architecture. */
static void trace(const umi_context *ctx, const char *name, int il, const float *x, int64_t n) {
    if (!ctx->trace) return;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    fprintf(stderr, "trace %s-%d sum = %f\n", name, il, sum);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%d.f32", ctx->trace, name, il);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(x, sizeof *x, (size_t)n, f);
        fclose(f);
    }
}

void umi_trace(const umi_context *ctx, const char *name, int il, const float *x, int64_t n) {
    trace(ctx, name, il, x, n);
}

static void embed(umi_context *ctx, const umi_token *tokens, int n) {
    const umi_tensor *e = ctx->model->tok_embd;
    const int64_t dim = e->ne[0];
    const size_t row = umi_type_row_size(e->type, dim);
    const umi_type_traits *tt = umi_type_traits_get(e->type);
    for (int i = 0; i < n; i++) {
        const void *r; /* the row in the file's form, in xb2 (n_embd floats: room for any row) or mapped */
        if (e->layout != UMI_LAYOUT_GGUF) { /* a tied output, repacked */
            umi_layout_get_row(e->layout, e->data, row, dim, tokens[i], ctx->xb2);
            r = ctx->xb2;
        } else {
            r = umi_model_embd_row(ctx->model, tokens[i], ctx->xb2);
        }
        tt->to_float(r, ctx->x + (size_t)i * dim, dim);
    }
}

/* Project with an optional bias. */
static void linear(umi_context *ctx, const umi_tensor *w, const umi_tensor *b, const float *in,
                   int n, float *out) {
    umi_matmul(ctx, w, in, n, out);
    if (b) umi_add_bias(out, f32_data(b), n, (int)w->ne[1]);
}

/* Append this chunk's keys and values (already roped) to the cache, in its
 * element type (kvquant.h). */
static void store_kv(umi_context *ctx, int layer, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    const size_t kd = (size_t)hp->n_head_kv * hp->head_dim_k, vd = (size_t)hp->n_head_kv * hp->head_dim_v;
    for (int t = 0; t < n; t++) {
        umi_context *owner = umi_row_ctx(ctx, t);
        const size_t cell = umi_kv_cell(owner, layer, umi_row_pos(ctx, t));
        umi_kv_put(owner->kv_type, owner->k_data, cell, kd, ctx->k + (size_t)t * kd);
        umi_kv_put(owner->kv_type, owner->v_data, cell, vd, ctx->v + (size_t)t * vd);
    }
}

/* The fused q|k|v projection (phi3), split into the q, k and v buffers. */
static void split_qkv(umi_context *ctx, const umi_layer *L, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    const size_t qd = (size_t)hp->n_head * hp->head_dim_k, kd = (size_t)hp->n_head_kv * hp->head_dim_k;
    const size_t vd = (size_t)hp->n_head_kv * hp->head_dim_v, w = qd + kd + vd;
    umi_matmul(ctx, L->wqkv, ctx->xb, n, ctx->hb);
    for (int t = 0; t < n; t++) {
        const float *r = ctx->hb + (size_t)t * w;
        memcpy(ctx->q + (size_t)t * qd, r, qd * sizeof(float));
        memcpy(ctx->k + (size_t)t * kd, r + qd, kd * sizeof(float));
        memcpy(ctx->v + (size_t)t * vd, r + qd + kd, vd * sizeof(float));
    }
}

static void add_into(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}

static void dense_ffn(umi_context *ctx, const umi_layer *L, int n);

/* Multi-head attention of n rows of ctx->xb over the per-head KV cache,
 * into ctx->att. */
static void self_attention(umi_context *ctx, const umi_layer *L, int il, int n) {
    const umi_model *m = ctx->model;
    const umi_hparams *hp = &m->hp;
    const int64_t QD = (int64_t)n * hp->n_head * hp->head_dim_k;
    const int64_t KD = (int64_t)n * hp->n_head_kv * hp->head_dim_k;
    const int64_t VD = (int64_t)n * hp->n_head_kv * hp->head_dim_v;
    if (L->wqkv) {
        split_qkv(ctx, L, n);
    } else {
        const umi_tensor *w[] = {L->wq, L->wk, L->wv};
        float *const y[] = {ctx->q, ctx->k, ctx->v};
        umi_matmul_many(ctx, 3, w, ctx->xb, n, y);
        if (L->bq) umi_add_bias(ctx->q, f32_data(L->bq), n, (int)L->wq->ne[1]);
        if (L->bk) umi_add_bias(ctx->k, f32_data(L->bk), n, (int)L->wk->ne[1]);
        if (L->bv) umi_add_bias(ctx->v, f32_data(L->bv), n, (int)L->wv->ne[1]);
    }
    trace(ctx, "Qcur", il, ctx->q, QD);
    trace(ctx, "Kcur", il, ctx->k, KD);
    trace(ctx, "Vcur", il, ctx->v, VD);
    if (L->attn_q_norm) { /* qwen3: RMSNorm over each head before the rotation */
        umi_rmsnorm(ctx->q, ctx->q, f32_data(L->attn_q_norm), n * (int)hp->n_head, (int)hp->head_dim_k,
                    hp->norm_eps);
        umi_rmsnorm(ctx->k, ctx->k, f32_data(L->attn_k_norm), n * (int)hp->n_head_kv,
                    (int)hp->head_dim_k, hp->norm_eps);
        trace(ctx, "Qcur_normed", il, ctx->q, QD);
        trace(ctx, "Kcur_normed", il, ctx->k, KD);
    }
    /* Sliding-window layers may rotate with their own base (gemma3). */
    umi_hparams rope_hp = *hp;
    if (L->n_swa && hp->rope_freq_base_swa != 0.0f) {
        rope_hp.rope_freq_base = hp->rope_freq_base_swa;
        rope_hp.rope_freq_scale = hp->rope_freq_scale_swa;
    }
    if (ctx->multi) { /* each row at its own sequence's position (and its context's factors) */
        umi_multi_rope(ctx, &rope_hp, n);
    } else {
        const float *ff = umi_model_rope_factors(m, ctx->n_ctx);
        umi_rope(&rope_hp, ff, ctx->q, n, (int)hp->n_head, (int)hp->head_dim_k, ctx->n_past);
        umi_rope(&rope_hp, ff, ctx->k, n, (int)hp->n_head_kv, (int)hp->head_dim_k, ctx->n_past);
    }
    trace(ctx, "Qcur_rope", il, ctx->q, QD);
    trace(ctx, "Kcur_rope", il, ctx->k, KD);
    if (hp->q_scale != 0.0f) umi_scale(ctx->q, QD, hp->q_scale);
    umi_kv_rotate_in(ctx, n); /* a quantized cache keeps K and V rotated (kvquant.h) */
    store_kv(ctx, il, n);
    umi_attention(ctx, il, n);
    umi_kv_rotate_out(ctx, n);
}

/* One block over n rows. `keep` is the number of trailing rows whose output
 * is needed after this block: in the last block only the rows whose logits
 * are wanted go on past attention (every row's K/V is cached by then), which
 * saves the FFN for the rest — and is what the reference does, so its FFN
 * sees the same batch size. */
static void layer_forward(umi_context *ctx, int il, int n, int keep) {
    const umi_model *m = ctx->model;
    const umi_hparams *hp = &m->hp;
    const umi_layer *L = &m->layers[il];
    const int E = (int)hp->n_embd;

    umi_rmsnorm(ctx->xb, ctx->x, f32_data(L->attn_norm), n, E, hp->norm_eps);
    trace(ctx, "attn_norm", il, ctx->xb, (int64_t)n * E);
    if (L->wkv_a_mqa) umi_mla_attention(ctx, il, n); /* latent cache (deepseek2) */
    else self_attention(ctx, L, il, n);
    if (keep == 0) return; /* every row's K/V is cached; no row goes on */
    trace(ctx, "kqv_out", il, ctx->att, (int64_t)n * L->wo->ne[0]);
    linear(ctx, L->wo, L->bo, ctx->att, n, ctx->xb2);
    trace(ctx, "attn_out", il, ctx->xb2, (int64_t)n * E);
    if (keep < n) { /* move the kept rows to the front */
        memmove(ctx->x, ctx->x + (size_t)(n - keep) * E, (size_t)keep * E * sizeof(float));
        memmove(ctx->xb2, ctx->xb2 + (size_t)(n - keep) * E, (size_t)keep * E * sizeof(float));
        n = keep;
    }
    if (L->attn_post_norm) {
        umi_rmsnorm(ctx->xb2, ctx->xb2, f32_data(L->attn_post_norm), n, E, hp->norm_eps);
        trace(ctx, "attn_post_norm", il, ctx->xb2, (int64_t)n * E);
    }
    add_into(ctx->x, ctx->xb2, (int64_t)n * E);

    umi_rmsnorm(ctx->xb, ctx->x, f32_data(L->ffn_norm), n, E, hp->norm_eps);
    trace(ctx, "ffn_norm", il, ctx->xb, (int64_t)n * E);
    if (L->ffn_gate_inp) umi_moe_ffn(ctx, L, n, ctx->xb2);
    else dense_ffn(ctx, L, n);
    trace(ctx, "ffn_out", il, ctx->xb2, (int64_t)n * E);
    if (L->ffn_post_norm) {
        umi_rmsnorm(ctx->xb2, ctx->xb2, f32_data(L->ffn_post_norm), n, E, hp->norm_eps);
        trace(ctx, "ffn_post_norm", il, ctx->xb2, (int64_t)n * E);
    }
    add_into(ctx->x, ctx->xb2, (int64_t)n * E);
    trace(ctx, "l_out", il, ctx->x, (int64_t)n * E);
}

/* SwiGLU feed-forward of n rows of ctx->xb into ctx->xb2. */
static void dense_ffn(umi_context *ctx, const umi_layer *L, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    const int64_t F = (int64_t)n * hp->n_ff;
    const int il = (int)(L - ctx->model->layers);
    if (!L->ffn_gate) { /* fused: each row of hb is [gate | up] */
        umi_matmul(ctx, L->ffn_up, ctx->xb, n, ctx->hb);
        trace(ctx, "ffn_up", il, ctx->hb, 2 * F);
        umi_swiglu_fused(ctx->hb2, ctx->hb, n, (int)hp->n_ff);
        trace(ctx, "ffn_swiglu", il, ctx->hb2, F);
        umi_matmul(ctx, L->ffn_down, ctx->hb2, n, ctx->xb2);
        return;
    }
    const bool gelu = hp->ffn_act == UMI_FFN_GELU;
    if (ctx->trace) { /* the products before the activation, for the trace */
        umi_matmul(ctx, L->ffn_gate, ctx->xb, n, ctx->hb);
        umi_matmul(ctx, L->ffn_up, ctx->xb, n, ctx->hb2);
        trace(ctx, "ffn_gate", il, ctx->hb, F);
        trace(ctx, "ffn_up", il, ctx->hb2, F);
        if (gelu) umi_geglu(ctx->hb, ctx->hb2, n, (int)hp->n_ff);
        else umi_swiglu(ctx->hb, ctx->hb2, n, (int)hp->n_ff);
    } else {
        /* each thread applies the activation to the rows it just computed */
        umi_matmul_glu(ctx, L->ffn_gate, L->ffn_up, ctx->xb, n, ctx->hb, ctx->hb2, gelu);
    }
    trace(ctx, hp->ffn_act == UMI_FFN_GELU ? "ffn_geglu" : "ffn_swiglu", il, ctx->hb, F);
    umi_matmul(ctx, L->ffn_down, ctx->hb, n, ctx->xb2);
}

void umi_forward(umi_context *ctx, const umi_token *tokens, int n, int out, float *logits) {
    const umi_model *m = ctx->model;
    const int E = (int)m->hp.n_embd;
    assert(out == 0 || out == 1 || out == n);
    embed(ctx, tokens, n);
    if (m->hp.embd_scale != 0.0f) umi_scale(ctx->x, (int64_t)n * E, m->hp.embd_scale);
    trace(ctx, "embd", 0, ctx->x, (int64_t)n * E);
    /* Only the rows whose logits are wanted leave the last block. */
    const int rows = out, n_layer = (int)m->hp.n_layer;
    for (int il = 0; il < n_layer; il++) layer_forward(ctx, il, n, il == n_layer - 1 ? rows : n);
    if (rows == 0) { /* the cache is filled: nothing to project */
        if (!ctx->multi) ctx->n_past += (uint32_t)n;
        return;
    }

    umi_rmsnorm(ctx->xb, ctx->x, f32_data(m->output_norm), rows, E, m->hp.norm_eps);
    trace(ctx, "result_norm", 0, ctx->xb, (int64_t)rows * E);
    if (!logits) { /* embeddings (embed.c): the normed states are the output */
        umi_embed_collect(ctx, ctx->xb, rows);
        ctx->n_past += (uint32_t)n;
        return;
    }
    umi_matmul(ctx, m->output, ctx->xb, rows, logits);
    if (m->hp.final_softcap != 0.0f)
        umi_softcap(logits, (int64_t)rows * m->hp.n_vocab, m->hp.final_softcap);
    trace(ctx, "result_output", 0, logits, (int64_t)rows * m->hp.n_vocab);
    if (!ctx->multi) ctx->n_past += (uint32_t)n; /* multi.c advances each sequence */
}
