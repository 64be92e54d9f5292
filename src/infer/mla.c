/* Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434), computed in
 * the absorbed form: the cache holds one latent row per token and layer,
 * never per-head keys and values.
 *
 *   q_h      = Wq_b · rmsnorm(Wq_a · x)      (or Wq · x)   [nope | rope] per head
 *   c | k_pe = Wkv_a · x;  c = rmsnorm(c)                  latent | shared rope dims
 *   cache   <- [c | rope(k_pe)]                             kv_lora + n_rot per token
 *   q'_h     = [Wk_b,h · q_nope,h | rope(q_pe,h)]           the query in latent space
 *   o_h      = Σ_p softmax(q'_h · cache_p) · c_p            attention over latent rows
 *   out_h    = Wv_b,h · o_h                                 back to the head's values
 *
 * so q_nope · k_nope = q_nope · Wk_b c = (Wk_bᵀ q_nope) · c and the values
 * decompress after the weighted sum. (Files from older converters hold Wk_b
 * and Wv_b in one attn_kv_b; the reference expands K and V for those, umi
 * absorbs them all the same, so they agree within rounding only.) This is the order the reference engine
 * runs (one shared KV "head" of width kv_lora + n_rot, its first kv_lora
 * columns doubling as V), so its rounding is reproduced: the latent rows are
 * stored as F16 and attention takes the same small- and large-batch paths as
 * every other model (attention.c). */
#include <math.h>
#include <string.h>

#include "core/fp16.h"
#include "infer/infer.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

/* ---------------------------------------------------------------- per-head products */

/* The rows of a weight that serve head h: m rows from h * stride + row0.
 * A stacked [k, m, n_head] weight (attn_k_b, attn_v_b) has stride m and
 * row0 0; the fused attn_kv_b keeps each head's V rows after its K rows. */
typedef struct head_rows {
    const umi_tensor *w;
    int64_t n_head, m, stride, row0;
} head_rows;

static head_rows stacked(const umi_tensor *w) { return (head_rows){w, w->ne[2], w->ne[1], w->ne[1], 0}; }

/* y[t][h] = W_h · x[t][h], rows addressed by token and head strides (in
 * floats). The reference runs these on permuted (non-contiguous)
 * activations, which never take its batched gemm for F32 weights: each
 * product is the single-token dot. */
typedef struct head_task {
    head_rows hr;
    const float *x;
    size_t x_tok, x_head;
    float *y;
    size_t y_tok, y_head;
    int n;
    void *xq;      /* converted rows, [head][token], or NULL when the dot takes floats */
    size_t xq_row;
    umi_kernel_plan plan;
    umi_vec_dot_fn vec_dot;
} head_task;

static void head_convert(void *arg, int ith, int nth) {
    const head_task *t = arg;
    const int64_t k = t->hr.w->ne[0];
    int64_t i0, i1;
    umi_split_rows(t->hr.n_head * t->n, ith, nth, &i0, &i1);
    for (int64_t i = i0; i < i1; i++) {
        const int64_t h = i / t->n, tok = i % t->n;
        t->plan.act(t->x + tok * t->x_tok + h * t->x_head, (char *)t->xq + i * t->xq_row, k);
    }
}

static void head_dots(void *arg, int ith, int nth) {
    const head_task *t = arg;
    const int64_t k = t->hr.w->ne[0], m = t->hr.m;
    const size_t w_row = umi_type_row_size(t->hr.w->type, k);
    int64_t r0, r1;
    umi_split_rows(t->hr.n_head * m, ith, nth, &r0, &r1); /* rows of all heads: each read once */
    for (int64_t hr = r0; hr < r1; hr++) {
        const int64_t h = hr / m, r = hr % m;
        const void *wr = (const char *)t->hr.w->data + (size_t)(h * t->hr.stride + t->hr.row0 + r) * w_row;
        for (int tok = 0; tok < t->n; tok++) {
            const void *xr = t->xq ? (const void *)((const char *)t->xq + (size_t)(h * t->n + tok) * t->xq_row)
                                   : (const void *)(t->x + tok * t->x_tok + h * t->x_head);
            float *yr = t->y + tok * t->y_tok + h * t->y_head + r;
            if (t->plan.dot) *yr = t->plan.dot((int)k, wr, xr);
            else t->vec_dot((int)k, yr, wr, xr);
        }
    }
}

static void head_matmul(umi_context *ctx, head_rows hr, const float *x, size_t x_tok, size_t x_head,
                        int n, float *y, size_t y_tok, size_t y_head) {
    const umi_tensor *w = hr.w;
    const umi_type_traits *wt = umi_type_traits_get(w->type);
    head_task t = {.hr = hr, .x = x, .x_tok = x_tok, .x_head = x_head, .y = y, .y_tok = y_tok,
                   .y_head = y_head, .n = n, .vec_dot = wt->vec_dot,
                   .plan = umi_kernels_plan(w->type, w->ne[0], hr.m, 1, 0)};
    if (wt->vec_dot_type != UMI_TYPE_F32) {
        if (!t.plan.act) t.plan.act = umi_type_traits_get(wt->vec_dot_type)->from_float;
        t.xq = ctx->qbuf; /* memory.c sizes it for n_head * max(nope, kv_lora) per token */
        t.xq_row = umi_type_row_size(wt->vec_dot_type, w->ne[0]);
        umi_pool_run(ctx->pool, head_convert, &t);
    }
    umi_pool_run(ctx->pool, head_dots, &t);
}

/* Absorbing through the fused attn_kv_b, whose K rows are W_kb transposed:
 * q'[t][h] = Σ_j q_nope[t][h][j] · row(h, j), each row decoded to floats
 * in the thread's attention scratch (kv_lora fits there). */
typedef struct absorb_task {
    umi_context *ctx;
    const umi_tensor *w;
    int n, n_head, nope, stride; /* stride: rows per head (nope + v) */
    const float *q;              /* [n][n_head][head_dim_k_mla], q_nope first */
    size_t q_head;
    float *y;                    /* [n][n_head][width], latent part first */
    size_t y_head;
} absorb_task;

static void absorb_rows(void *arg, int ith, int nth) {
    const absorb_task *t = arg;
    const int64_t kvl = t->w->ne[0];
    const size_t w_row = umi_type_row_size(t->w->type, kvl);
    const umi_type_traits *wt = umi_type_traits_get(t->w->type);
    float *row = t->ctx->att_scratch + (size_t)ith * t->ctx->att_scratch_stride;
    int64_t i0, i1;
    umi_split_rows((int64_t)t->n * t->n_head, ith, nth, &i0, &i1);
    for (int64_t item = i0; item < i1; item++) {
        const int64_t h = item % t->n_head;
        const float *q = t->q + item * t->q_head;
        float *y = t->y + item * t->y_head;
        memset(y, 0, (size_t)kvl * sizeof *y);
        for (int j = 0; j < t->nope; j++) {
            wt->to_float((const char *)t->w->data + (size_t)(h * t->stride + j) * w_row, row, kvl);
            for (int64_t c = 0; c < kvl; c++) y[c] += q[j] * row[c];
        }
    }
}

/* ---------------------------------------------------------------- attention over latents */

typedef struct latent_task {
    umi_context *ctx;
    int il, n, n_head, width, kv_lora;
    umi_att_scores sc;
} latent_task;

/* Layer il's latent rows ([n_ctx][width], F16) of the context row t reads:
 * in a multi-sequence pass, its own sequence's. */
static uint16_t *latent_cache(umi_context *ctx, int t, int il, int width) {
    const umi_context *kv = umi_row_ctx(ctx, t);
    return (uint16_t *)kv->k_data + kv->kv_first[il] * (size_t)width; /* always F16 (kvquant.c) */
}

static void latent_rows(void *arg, int ith, int nth) {
    const latent_task *t = arg;
    umi_context *ctx = t->ctx;
    float *scratch = ctx->att_scratch + (size_t)ith * ctx->att_scratch_stride;
    /* round-robin: later tokens attend over more positions (attention.c) */
    for (int64_t item = ith; item < (int64_t)t->n * t->n_head; item += nth) {
        const int tok = (int)(item / t->n_head);
        const int n_kv = (int)umi_row_pos(ctx, tok) + 1; /* causal: positions 0..pos */
        const uint16_t *cache = latent_cache(ctx, tok, t->il, t->width);
        /* the first kv_lora columns of each cached row are its value; a row
         * of a multi-sequence pass attends as a one-row batch */
        umi_attention_head(cache, (size_t)t->width, cache, (size_t)t->width, t->width, t->kv_lora, 0, n_kv, n_kv,
                           ctx->q + item * t->width, &t->sc, ctx->multi ? 1 : t->n, ctx->v + item * t->kv_lora,
                           scratch);
    }
}

/* The score scale: 1/sqrt(head width) times YaRN's mscale squared, with
 * mscale as the reference derives it from the stored log multiplier. */
static float score_scale(const umi_hparams *hp) {
    const float inv_fs = 1.0f / hp->rope_freq_scale;
    const float attn_factor = hp->yarn_attn_factor * (1.0f + 0.1f * logf(inv_fs));
    const float mscale = attn_factor * (1.0f + 0.1f * hp->yarn_log_mul * logf(inv_fs));
    return 1.0f * mscale * mscale / sqrtf((float)hp->head_dim_k_mla);
}

/* ---------------------------------------------------------------- the layer */

void umi_mla_attention(umi_context *ctx, int il, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    const umi_layer *L = &ctx->model->layers[il];
    const int H = (int)hp->n_head, KVL = (int)hp->n_lora_kv, R = (int)hp->n_rot;
    const int HK = (int)hp->head_dim_k_mla, HV = (int)hp->head_dim_v_mla, NOPE = HK - R;
    const int W = KVL + R; /* a cached row: latent | rope */

    /* Queries [n][H][nope | rope] into ctx->v (through the low-rank
     * hb where there is one), and the new cache rows [n][latent | k_pe]
     * into ctx->k, both products of xb in one pass. */
    const umi_tensor *w[] = {L->wq_a ? L->wq_a : L->wq, L->wkv_a_mqa};
    float *const y[] = {L->wq_a ? ctx->hb : ctx->v, ctx->k};
    umi_matmul_many(ctx, 2, w, ctx->xb, n, y);
    if (L->wq_a) {
        umi_rmsnorm(ctx->hb, ctx->hb, (const float *)L->attn_q_a_norm->data, n, (int)hp->n_lora_q,
                    hp->norm_eps);
        umi_matmul(ctx, L->wq_b, ctx->hb, n, ctx->v);
    }
    umi_trace(ctx, "q", il, ctx->v, (int64_t)n * H * HK);

    /* Rope the cache rows' shared part, normalize the latent. */
    umi_trace(ctx, "kv_cmpr_pe", il, ctx->k, (int64_t)n * W);
    for (int t = 0; t < n; t += ctx->multi ? 1 : n) { /* a multi-sequence pass: each row at its position */
        const int rows = ctx->multi ? 1 : n;
        umi_rope(hp, NULL, ctx->v + (size_t)t * H * HK + NOPE, rows, H, HK, umi_row_pos(ctx, t));
        umi_rope(hp, NULL, ctx->k + (size_t)t * W + KVL, rows, 1, W, umi_row_pos(ctx, t));
    }
    for (int t = 0; t < n; t++)
        umi_rmsnorm(ctx->k + (size_t)t * W, ctx->k + (size_t)t * W, (const float *)L->attn_kv_a_norm->data,
                    1, KVL, hp->norm_eps);
    umi_trace(ctx, "Kcur", il, ctx->k, (int64_t)n * W);

    /* Absorbed queries [n][H][latent | rope] into ctx->q. */
    if (L->wk_b) {
        head_matmul(ctx, stacked(L->wk_b), ctx->v, (size_t)H * HK, (size_t)HK, n, ctx->q, (size_t)H * W,
                    (size_t)W);
    } else {
        absorb_task at = {.ctx = ctx, .w = L->wkv_b, .n = n, .n_head = H, .nope = NOPE, .stride = NOPE + HV,
                          .q = ctx->v, .q_head = (size_t)HK, .y = ctx->q, .y_head = (size_t)W};
        umi_pool_run(ctx->pool, absorb_rows, &at);
    }
    for (int t = 0; t < n; t++)
        for (int h = 0; h < H; h++)
            memcpy(ctx->q + ((size_t)t * H + h) * W + KVL, ctx->v + ((size_t)t * H + h) * HK + NOPE,
                   (size_t)R * sizeof(float));
    umi_trace(ctx, "Qcur", il, ctx->q, (int64_t)n * H * W);

    /* MLA layers never slide: a full cache of n_ctx latent rows. */
    for (int t = 0; t < n; t++) {
        uint16_t *row = latent_cache(ctx, t, il, W) + (size_t)umi_row_pos(ctx, t) * W;
        for (int i = 0; i < W; i++) row[i] = umi_fp32_to_fp16(ctx->k[(size_t)t * W + i]);
    }

    /* Per-head latent outputs [n][H][kv_lora] into ctx->v, then the values. */
    latent_task lt = {.ctx = ctx, .il = il, .n = n, .n_head = H, .width = W, .kv_lora = KVL,
                      .sc = {.scale = score_scale(hp), .softcap = 0.0f}};
    umi_pool_run(ctx->pool, latent_rows, &lt);
    const head_rows vb = L->wv_b ? stacked(L->wv_b) : (head_rows){L->wkv_b, H, HV, NOPE + HV, NOPE};
    head_matmul(ctx, vb, ctx->v, (size_t)H * KVL, (size_t)KVL, n, ctx->att, (size_t)H * HV, (size_t)HV);
}
