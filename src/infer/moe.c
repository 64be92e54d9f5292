/* Mixture-of-experts feed-forward: route each token to a few experts, run
 * only those experts, and sum their outputs weighted by the router.
 *
 *   logits = W_router · x                       [n][n_expert]
 *   probs  = softmax(logits) | sigmoid(logits)
 *   chosen = the n_used largest probs (+ selection bias), best first
 *   w      = probs[chosen] (/ their sum) (* scale)
 *   out    = Σ_slot w[slot] · down_e(silu(gate_e · x) ⊙ up_e · x),  e = chosen[slot]
 *            (+ the shared experts' down(silu(gate · x) ⊙ up · x) when bound)
 *
 * Group-limited routing (DeepSeek-V3) first keeps only the n_group_used
 * expert groups whose two best (biased) scores sum highest.
 *
 * Tokens are grouped by expert before the expert products, so a prompt reads
 * each chosen expert's weights once per batch, and a decoded token reads
 * only its n_used experts. The arithmetic follows the reference engine's
 * expert product (mul_mat_id), which never takes its batched (tinyBLAS /
 * repacked gemm) paths: every routed row goes through the single-token dot
 * of the weight type, so the kernel plan is asked as for one token. The
 * slot outputs are summed in slot order, as the reference adds them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/expf.h"
#include "infer/infer.h"
#include "infer/memory.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

/* ---------------------------------------------------------------- scratch */

void umi_moe_scratch_free(umi_moe_scratch *s) {
    free(s->logits);
    free(s->sel);
    free(s->w);
    free(s->rows);
    free(s->start);
    free(s->gate);
    free(s->up);
    free(s->out);
    free(s->xq);
    memset(s, 0, sizeof *s);
}

umi_status umi_moe_scratch_init(umi_moe_scratch *s, const umi_hparams *hp, uint32_t n_batch,
                                size_t xq_bytes, umi_error *err) {
    memset(s, 0, sizeof *s);
    if (hp->n_expert == 0) return UMI_OK;
    const size_t B = n_batch, X = hp->n_expert, U = hp->n_expert_used;
    const size_t FU = umi_mem_moe_ffn_width(hp), E = hp->n_embd;
    s->logits = malloc(B * X * sizeof(float));
    s->sel = malloc(B * U * sizeof(int32_t));
    s->w = malloc(B * U * sizeof(float));
    s->rows = malloc(B * U * sizeof(int32_t));
    s->start = malloc((X + 1) * sizeof(int32_t));
    s->gate = malloc(B * FU * sizeof(float));
    s->up = malloc(B * FU * sizeof(float));
    s->out = malloc(B * U * E * sizeof(float));
    s->xq = malloc(xq_bytes); /* memory.c sizes it for the widest expert input */
    if (!s->logits || !s->sel || !s->w || !s->rows || !s->start || !s->gate || !s->up || !s->out ||
        !s->xq) {
        umi_moe_scratch_free(s);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory (expert scratch for %u tokens)", n_batch);
    }
    return UMI_OK;
}

/* ---------------------------------------------------------------- routing */

/* The reference's softmax: exponentials of x - max in 16-lane groups by the
 * vector exp (each group's sum reduced in lanes, accumulated in double), the
 * remainder by expf; then every value times the float of 1 / sum. */
static void softmax_row(float *x, int n) {
    float max = -INFINITY;
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    int i = 0;
    for (; i + UMI_LANES <= n; i += UMI_LANES) {
        for (int l = 0; l < UMI_LANES; l++) x[i + l] = umi_expf_poly(x[i + l] - max);
        sum += (double)umi_reduce16(x + i);
    }
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += (double)x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < n; i++) x[i] *= inv;
}

static void sigmoid_row(float *x, int n) {
    for (int i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* Indices of the k largest of score[0..n), best first; equal scores keep
 * index order (an insertion sort, as the reference's sort is for so few). */
static void top_k(const float *score, int n, int k, int32_t *out) {
    int32_t idx[256];
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && score[idx[j - 1]] < score[i]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    memcpy(out, idx, (size_t)k * sizeof *out);
}

/* Group-limited routing: score each of n_groups groups of experts by the
 * sum of its two best scores, keep the n_used best groups and set every
 * other group's scores to -inf (as the reference masks them). */
static void mask_groups(float *score, int n_expert, int n_groups, int n_used) {
    const int per = n_expert / n_groups;
    float group[256];
    int32_t best[256];
    for (int g = 0; g < n_groups; g++) {
        int32_t two[2];
        top_k(score + g * per, per, per < 2 ? per : 2, two);
        group[g] = per < 2 ? score[g * per + two[0]] : score[g * per + two[0]] + score[g * per + two[1]];
    }
    top_k(group, n_groups, n_used, best);
    bool keep[256] = {0};
    for (int j = 0; j < n_used; j++) keep[best[j]] = true;
    for (int g = 0; g < n_groups; g++)
        if (!keep[g])
            for (int e = 0; e < per; e++) score[g * per + e] = -INFINITY;
}

/* Router for n tokens: chosen experts and their weights into s->sel, s->w. */
static void route(umi_context *ctx, const umi_layer *L, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    umi_moe_scratch *s = &ctx->moe;
    const int X = (int)hp->n_expert, U = (int)hp->n_expert_used;
    umi_matmul(ctx, L->ffn_gate_inp, ctx->xb, n, s->logits);
    const float *bias = L->ffn_exp_probs_b ? (const float *)L->ffn_exp_probs_b->data : NULL;
    for (int t = 0; t < n; t++) {
        float *p = s->logits + (size_t)t * X;
        if (hp->gating == UMI_GATING_SIGMOID) sigmoid_row(p, X);
        else softmax_row(p, X);
        int32_t *sel = s->sel + (size_t)t * U;
        float *w = s->w + (size_t)t * U;
        /* the bias steers the choice only; weights stay unbiased */
        float score[256];
        for (int e = 0; e < X; e++) score[e] = bias ? p[e] + bias[e] : p[e];
        if (hp->n_expert_groups > 1)
            mask_groups(score, X, (int)hp->n_expert_groups, (int)hp->n_group_used);
        top_k(score, X, U, sel);
        for (int j = 0; j < U; j++) w[j] = p[sel[j]];
        if (hp->expert_weights_norm) {
            double sum = 0.0;
            for (int j = 0; j < U; j++) sum += (double)w[j];
            /* clamped to the smallest normal half, as the reference does */
            float fsum = (float)sum;
            if (fsum < 6.103515625e-5f) fsum = 6.103515625e-5f;
            for (int j = 0; j < U; j++) w[j] /= fsum;
        }
        if (hp->expert_weights_scale != 0.0f && hp->expert_weights_scale != 1.0f)
            for (int j = 0; j < U; j++) w[j] *= hp->expert_weights_scale;
    }
}

/* Group the n * n_used (token, slot) entries by expert, in token order
 * within each expert: s->start[e] .. s->start[e + 1] index s->rows. */
static void group_by_expert(umi_moe_scratch *s, int n, int X, int U) {
    memset(s->start, 0, (size_t)(X + 1) * sizeof *s->start);
    for (int i = 0; i < n * U; i++) s->start[s->sel[i] + 1]++;
    for (int e = 0; e < X; e++) s->start[e + 1] += s->start[e];
    int32_t fill[256];
    memcpy(fill, s->start, (size_t)X * sizeof *fill);
    for (int i = 0; i < n * U; i++) s->rows[fill[s->sel[i]]++] = i;
}

/* ---------------------------------------------------------------- expert products */

typedef struct expert_task {
    const umi_tensor *w;   /* [k, m, n_expert] */
    const umi_moe_scratch *s;
    int n_expert;
    int in_div;            /* input row of entry i is i / in_div (1: the entry itself) */
    const float *x;        /* input rows [.][k] */
    int n_in;              /* number of input rows */
    void *xq;              /* converted input rows */
    size_t xq_row;
    umi_act_fn act;
    umi_dot_fn dot;
    umi_vec_dot_fn vec_dot;
    float *y;              /* [entry][m] */
} expert_task;

static void expert_convert(void *arg, int ith, int nth) {
    expert_task *t = arg;
    const int64_t k = t->w->ne[0];
    int64_t r0, r1;
    umi_split_rows(t->n_in, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) t->act(t->x + r * k, (char *)t->xq + r * t->xq_row, k);
}

/* Each thread takes a slice of every expert's rows and dots it against the
 * entries routed to that expert: each weight row is read once. */
static void expert_dots(void *arg, int ith, int nth) {
    const expert_task *t = arg;
    const int64_t k = t->w->ne[0], m = t->w->ne[1];
    const size_t w_row = umi_type_row_size(t->w->type, k);
    int64_t r0, r1;
    umi_split_rows(m, ith, nth, &r0, &r1);
    for (int e = 0; e < t->n_expert; e++) {
        const int32_t j0 = t->s->start[e], j1 = t->s->start[e + 1];
        if (j0 == j1) continue;
        const char *we = (const char *)t->w->data + (size_t)e * m * w_row;
        for (int64_t r = r0; r < r1; r++) {
            const void *wr = we + r * w_row;
            for (int32_t j = j0; j < j1; j++) {
                const int32_t entry = t->s->rows[j];
                const void *xr = (const char *)t->xq + (size_t)(entry / t->in_div) * t->xq_row;
                float *yr = t->y + (size_t)entry * m + r;
                if (t->dot) *yr = t->dot((int)k, wr, xr);
                else t->vec_dot((int)k, yr, wr, xr);
            }
        }
    }
}

/* y[entry] = W_{expert(entry)} · x[entry / in_div] for every routed entry. */
static void expert_matmul(umi_context *ctx, const umi_tensor *w, const float *x, int n_in, int in_div,
                          float *y) {
    const umi_type_traits *wt = umi_type_traits_get(w->type);
    const umi_type_traits *at = umi_type_traits_get(wt->vec_dot_type);
    const umi_kernel_plan p = umi_kernels_plan(w->type, w->ne[0], w->ne[1], 1, 0);
    expert_task t = {.w = w, .s = &ctx->moe, .n_expert = (int)w->ne[2], .in_div = in_div, .x = x,
                     .n_in = n_in, .act = p.act ? p.act : at->from_float, .dot = p.dot,
                     .vec_dot = wt->vec_dot, .y = y};
    if (wt->vec_dot_type == UMI_TYPE_F32) {
        t.xq = (void *)x;
        t.xq_row = (size_t)w->ne[0] * sizeof(float);
    } else {
        t.xq = ctx->moe.xq;
        t.xq_row = umi_type_row_size(wt->vec_dot_type, w->ne[0]);
        umi_pool_run(ctx->pool, expert_convert, &t);
    }
    umi_pool_run(ctx->pool, expert_dots, &t);
}

void umi_moe_ffn(umi_context *ctx, const umi_layer *L, int n, float *out) {
    const umi_hparams *hp = &ctx->model->hp;
    umi_moe_scratch *s = &ctx->moe;
    const int X = (int)hp->n_expert, U = (int)hp->n_expert_used;
    const int E = (int)hp->n_embd, FX = (int)hp->n_ff_exp;
    route(ctx, L, n);
    group_by_expert(s, n, X, U);
    expert_matmul(ctx, L->ffn_up_exps, ctx->xb, n, U, s->up);
    expert_matmul(ctx, L->ffn_gate_exps, ctx->xb, n, U, s->gate);
    umi_swiglu(s->gate, s->up, n * U, FX);
    expert_matmul(ctx, L->ffn_down_exps, s->gate, n * U, 1, s->out);
    for (int t = 0; t < n; t++) {
        const float *w = s->w + (size_t)t * U;
        float *o = out + (size_t)t * E;
        const float *e0 = s->out + (size_t)t * U * E;
        for (int i = 0; i < E; i++) o[i] = e0[i] * w[0];
        for (int j = 1; j < U; j++) {
            const float *ej = e0 + (size_t)j * E;
            for (int i = 0; i < E; i++) o[i] += ej[i] * w[j];
        }
    }
    if (L->ffn_up_shexp) umi_shared_expert_ffn(ctx, L, n, out);
}
