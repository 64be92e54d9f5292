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
 * of the weight type, so the kernel plan is asked as for one token
 * (umi_kernels_plan_solo), and its register tiles, which give that dot's
 * bits, serve an expert's tokens several at a time. The slot outputs are
 * summed in slot order, as the reference adds them. */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#include "infer/infer.h"
#include "infer/memory.h"
#include "kernels/expf_rows.h"
#include "kernels/kernels.h"
#include "quant/interleave.h"
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
    int i = n - n % UMI_LANES;
    double sum = umi_kernels_expf_rows(umi_cpu_level_get()).exp_sum(x, i, max);
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

/* The router's logits for one token on the calling thread: its few rows
 * cost less than a pool run. The plan, conversion and dot are umi_matmul's
 * for one token (whose tiles give that dot's bits), so are the results. */
static void router_one(umi_context *ctx, const umi_tensor *w, const float *x, float *y) {
    const umi_type_traits *wt = umi_type_traits_get(w->type);
    const int64_t k = w->ne[0], m = w->ne[1];
    const size_t w_row = umi_type_row_size(w->type, k);
    const umi_kernel_plan p = umi_kernels_plan(w->type, k, m, 1, 0);
    const void *xq = x;
    if (wt->vec_dot_type != UMI_TYPE_F32) {
        const umi_act_fn act = p.act ? p.act : umi_type_traits_get(wt->vec_dot_type)->from_float;
        act(x, ctx->moe.xq, k); /* free until the down product's inputs */
        xq = ctx->moe.xq;
    }
    for (int64_t r = 0; r < m; r++) {
        const void *wr = (const char *)w->data + r * w_row;
        if (p.dot) y[r] = p.dot((int)k, wr, xq);
        else wt->vec_dot((int)k, &y[r], wr, xq);
    }
}

/* Router for n tokens: chosen experts and their weights into s->sel, s->w. */
static void route(umi_context *ctx, const umi_layer *L, int n) {
    const umi_hparams *hp = &ctx->model->hp;
    umi_moe_scratch *s = &ctx->moe;
    const int X = (int)hp->n_expert, U = (int)hp->n_expert_used;
    /* interleaved weights are read only through their layout's tiles */
    if (n == 1 && L->ffn_gate_inp->layout == UMI_LAYOUT_GGUF) router_one(ctx, L->ffn_gate_inp, ctx->xb, s->logits);
    else umi_matmul(ctx, L->ffn_gate_inp, ctx->xb, n, s->logits);
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
 * within each expert: s->start[e] .. s->start[e + 1] index s->rows. From
 * here on s->sel[i] holds entry i's position in s->rows (its slot row). */
static void group_by_expert(umi_moe_scratch *s, int n, int X, int U) {
    memset(s->start, 0, (size_t)(X + 1) * sizeof *s->start);
    for (int i = 0; i < n * U; i++) s->start[s->sel[i] + 1]++;
    for (int e = 0; e < X; e++) s->start[e + 1] += s->start[e];
    int32_t fill[256];
    memcpy(fill, s->start, (size_t)X * sizeof *fill);
    for (int i = 0; i < n * U; i++) {
        const int32_t j = fill[s->sel[i]]++;
        s->rows[j] = i;
        s->sel[i] = j;
    }
}

/* ---------------------------------------------------------------- expert products
 *
 * Everything between routing and the weighted sum is in slot-row order
 * (entries grouped by expert), so each expert's inputs and outputs are
 * contiguous and its weight rows meet all of its tokens in register tiles.
 * Work items are (expert, chunk of rows) pairs taken from a shared counter,
 * so an expert with few tokens does not leave a thread idle. */

enum { MAX_EXPERTS = 256 };

typedef struct expert_task {
    const umi_tensor *w; /* [k, m, n_expert] */
    const umi_moe_scratch *s;
    umi_kernel_plan p;
    umi_vec_dot_fn vec_dot;
    float *x;       /* input rows [.][k] */
    bool gather;    /* input of slot row j: x row rows[j] / n_used (else x row j) */
    const float *up; /* when set, x row j becomes silu(x row j) * up row j first (SwiGLU) */
    int n_used;
    int n_rows;     /* slot rows to convert */
    void *xq;       /* converted inputs, one per slot row */
    size_t xq_row;
    float *y;       /* [slot row][m] */
    int64_t chunk;  /* weight rows per work item */
    int n_chunks;   /* work items per expert */
    int n_active, active[MAX_EXPERTS]; /* experts with tokens */
} expert_task;

static void copy_f32(const float *x, void *y, int64_t k) {
    memcpy(y, x, (size_t)k * sizeof *x);
}

/* Slot row j's input: SwiGLU first when the task has one, then converted. */
static void convert_row(const expert_task *t, int64_t j) {
    const int64_t k = t->w->ne[0];
    const int64_t src = t->gather ? t->s->rows[j] / t->n_used : j;
    if (t->up) umi_swiglu(t->x + src * k, t->up + j * k, 1, (int)k);
    if (t->xq != t->x) t->p.act(t->x + src * k, (char *)t->xq + j * t->xq_row, k);
}

static void expert_convert(void *arg, int ith, int nth) {
    expert_task *t = arg;
    int64_t r0, r1;
    umi_split_rows(t->n_rows, ith, nth, &r0, &r1);
    for (int64_t j = r0; j < r1; j++) convert_row(t, j);
}

/* Products run together (gate and up share a pass: one wait fewer, and
 * their items balance each other); items numbered task by task. */
typedef struct expert_pass {
    expert_task *t[2];
    int n_tasks;
    atomic_int next;
} expert_pass;

/* Work item `item` of task t: one chunk of one expert's rows against all
 * of that expert's slot rows. */
static void expert_item(const expert_task *t, int item) {
    const int64_t k = t->w->ne[0], m = t->w->ne[1];
    const size_t w_row = umi_type_row_size(t->w->type, k);
    const int e = t->active[item / t->n_chunks];
    const int64_t r0 = (item % t->n_chunks) * t->chunk, r1 = r0 + t->chunk < m ? r0 + t->chunk : m;
    const int32_t j0 = t->s->start[e], nj = t->s->start[e + 1] - j0;
    const char *we = (const char *)t->w->data + (size_t)e * m * w_row;
    const char *xe = (const char *)t->xq + (size_t)j0 * t->xq_row;
    float *ye = t->y + (size_t)j0 * m;
    if (t->p.tile && (nj >= 2 || t->w->layout != UMI_LAYOUT_GGUF)) { /* interleaved: only its tile reads it */
        umi_kernels_tile_rows(&t->p, (int)k, we, w_row, r0, r1, xe, t->xq_row, nj, ye, (size_t)m);
        return;
    }
    for (int64_t r = r0; r < r1; r++)
        for (int32_t j = 0; j < nj; j++) {
            const void *xr = xe + (size_t)j * t->xq_row;
            if (t->p.dot) ye[(size_t)j * m + r] = t->p.dot((int)k, we + r * w_row, xr);
            else t->vec_dot((int)k, &ye[(size_t)j * m + r], we + r * w_row, xr);
        }
}

static void expert_dots(void *arg, int ith, int nth) {
    (void)ith, (void)nth;
    expert_pass *ps = arg;
    for (;;) {
        int item = atomic_fetch_add(&ps->next, 1), i = 0;
        while (i < ps->n_tasks && item >= ps->t[i]->n_active * ps->t[i]->n_chunks)
            item -= ps->t[i]->n_active * ps->t[i]->n_chunks, i++;
        if (i == ps->n_tasks) break;
        expert_item(ps->t[i], item);
    }
}

/* The task of one expert product, inputs not yet converted. */
static void expert_setup(umi_context *ctx, expert_task *t, const umi_tensor *w, float *x, bool gather,
                         float *y) {
    const umi_moe_scratch *s = &ctx->moe;
    const umi_type_traits *wt = umi_type_traits_get(w->type);
    const int X = (int)w->ne[2];
    const int64_t k = w->ne[0], m = w->ne[1];
    memset(t, 0, sizeof *t);
    t->w = w, t->s = s, t->x = x, t->gather = gather, t->y = y, t->n_used = (int)ctx->model->hp.n_expert_used;
    t->p = umi_kernels_plan_solo(w->type, k, m);
    if (w->layout != UMI_LAYOUT_GGUF) umi_matmul_layout_tile(w, &t->p); /* repacked (model/repack.c) */
    t->vec_dot = wt->vec_dot;
    if (!t->p.act)
        t->p.act = wt->vec_dot_type == UMI_TYPE_F32 ? copy_f32 : umi_type_traits_get(wt->vec_dot_type)->from_float;
    t->n_rows = s->start[X];
    t->xq_row = umi_type_row_size(wt->vec_dot_type, k);
    /* Rows per item: whole 16-row tiles, about an eighth of the matrix so
     * that even a single expert splits over the threads. */
    t->chunk = m / 8 < 16 ? 16 : m / 8 - (m / 8) % 16;
    t->n_chunks = (int)((m + t->chunk - 1) / t->chunk);
    for (int e = 0; e < X && e < MAX_EXPERTS; e++)
        if (s->start[e + 1] > s->start[e]) t->active[t->n_active++] = e;
}

/* True when task b can read task a's converted inputs. */
static bool same_inputs(const expert_task *a, const expert_task *b) {
    return a->x == b->x && a->gather == b->gather && a->p.act == b->p.act && a->xq_row == b->xq_row;
}

/* Converts the task's inputs into xq (F32 inputs already in slot-row
 * order are read in place), after the SwiGLU when the task has one. */
static void expert_convert_inputs(umi_context *ctx, expert_task *t, void *xq) {
    t->xq = t->p.act == copy_f32 && !t->gather ? (void *)t->x : xq;
    if (t->xq == t->x && !t->up) return;
    /* a few rows convert faster than waking the workers for them */
    if (t->n_rows <= 4) expert_convert(t, 0, 1);
    else umi_pool_run(ctx->pool, expert_convert, t);
}

static void expert_run(umi_context *ctx, expert_task *a, expert_task *b) {
    expert_pass ps = {.t = {a, b}, .n_tasks = b ? 2 : 1};
    atomic_init(&ps.next, 0);
    umi_pool_run(ctx->pool, expert_dots, &ps);
}

/* ---------------------------------------------------------------- decode: one pass
 *
 * A few slot rows (decode) convert in no time on one thread, so the down
 * product need not wait for the whole gate/up pass. Items go out expert by
 * expert (its up and gate chunks), then the down chunks; the first down
 * item of an expert waits until that expert's gate/up chunks are done,
 * converts its input (SwiGLU, quantization) and releases the others. One
 * pool run per layer instead of two, and the first expert's down product
 * overlaps the last one's gate/up tail. Items taken earlier never wait on
 * later ones, so every wait ends. */
typedef struct fused_pass {
    expert_task *up, *gate, *down;
    int per_expert; /* gate/up items of one expert */
    int n_gate_up;
    atomic_int next;
    atomic_int done[MAX_EXPERTS];  /* gate/up items finished, per active expert */
    atomic_int state[MAX_EXPERTS]; /* its down input: 0 pending, 1 converting, 2 ready */
} fused_pass;

static void wait_at_least(atomic_int *a, int value) {
    for (int spins = 1; atomic_load_explicit(a, memory_order_acquire) < value; spins++) {
        if (spins % 64 == 0) sched_yield(); /* the thread waited for may have been descheduled */
#if defined(__x86_64__) || defined(__i386__)
        else __builtin_ia32_pause();
#endif
    }
}

static void fused_dots(void *arg, int ith, int nth) {
    (void)ith, (void)nth;
    fused_pass *f = arg;
    const expert_task *down = f->down;
    for (;;) {
        const int item = atomic_fetch_add(&f->next, 1);
        if (item < f->n_gate_up) {
            const int ai = item / f->per_expert, r = item % f->per_expert;
            if (r < f->up->n_chunks) expert_item(f->up, ai * f->up->n_chunks + r);
            else expert_item(f->gate, ai * f->gate->n_chunks + r - f->up->n_chunks);
            atomic_fetch_add_explicit(&f->done[ai], 1, memory_order_release);
            continue;
        }
        const int d = item - f->n_gate_up;
        if (d >= down->n_active * down->n_chunks) break;
        const int ai = d / down->n_chunks, e = down->active[ai];
        int pending = 0;
        if (atomic_compare_exchange_strong(&f->state[ai], &pending, 1)) {
            wait_at_least(&f->done[ai], f->per_expert);
            for (int64_t j = down->s->start[e]; j < down->s->start[e + 1]; j++) convert_row(down, j);
            atomic_store_explicit(&f->state[ai], 2, memory_order_release);
        } else {
            wait_at_least(&f->state[ai], 2);
        }
        expert_item(down, d);
    }
}

/* The three products of a decode step in one pass (gate and up sharing
 * inputs). Their converted inputs go to the end of s->out, clear of the
 * down outputs at its start; false when s->out has no room for both. */
static bool fused_run(umi_context *ctx, expert_task *up, expert_task *gate, expert_task *down) {
    umi_moe_scratch *s = &ctx->moe;
    const size_t out_bytes = (size_t)ctx->n_batch * ctx->model->hp.n_expert_used * down->w->ne[1] * sizeof(float);
    const size_t y_bytes = (size_t)down->n_rows * down->w->ne[1] * sizeof(float);
    const size_t xq_bytes = (size_t)up->n_rows * up->xq_row;
    if (up->n_rows > 4 || !same_inputs(up, gate) || y_bytes + xq_bytes + 64 > out_bytes) return false;
    const size_t at = (out_bytes - xq_bytes) & ~(size_t)63;
    expert_convert_inputs(ctx, up, (char *)s->out + at);
    gate->xq = up->xq;
    down->xq = down->p.act == copy_f32 ? (void *)down->x : s->xq; /* converted item by item */
    fused_pass f = {.up = up, .gate = gate, .down = down, .per_expert = up->n_chunks + gate->n_chunks};
    f.n_gate_up = up->n_active * f.per_expert;
    atomic_init(&f.next, 0);
    for (int i = 0; i < up->n_active; i++) atomic_init(&f.done[i], 0), atomic_init(&f.state[i], 0);
    umi_pool_run(ctx->pool, fused_dots, &f);
    return true;
}

void umi_moe_ffn(umi_context *ctx, const umi_layer *L, int n, float *out) {
    const umi_hparams *hp = &ctx->model->hp;
    umi_moe_scratch *s = &ctx->moe;
    const int X = (int)hp->n_expert, U = (int)hp->n_expert_used;
    const int E = (int)hp->n_embd;
    route(ctx, L, n);
    group_by_expert(s, n, X, U);
    /* The gate and up inputs (each token once per slot row) are converted
     * into s->out, unused until the down product writes it; the down input
     * into s->xq. */
    expert_task up, gate, down;
    expert_setup(ctx, &up, L->ffn_up_exps, ctx->xb, true, s->up);
    expert_setup(ctx, &gate, L->ffn_gate_exps, ctx->xb, true, s->gate);
    expert_setup(ctx, &down, L->ffn_down_exps, s->gate, false, s->out);
    down.up = s->up; /* SwiGLU row by row in the conversion pass, on every thread */
    if (!fused_run(ctx, &up, &gate, &down)) {
        expert_convert_inputs(ctx, &up, s->out);
        if (same_inputs(&up, &gate)) {
            gate.xq = up.xq;
            expert_run(ctx, &up, &gate);
        } else { /* gate and up of different types: one after the other */
            expert_run(ctx, &up, NULL);
            expert_convert_inputs(ctx, &gate, s->out);
            expert_run(ctx, &gate, NULL);
        }
        expert_convert_inputs(ctx, &down, s->xq);
        expert_run(ctx, &down, NULL);
    }
    for (int t = 0; t < n; t++) {
        const float *w = s->w + (size_t)t * U;
        const int32_t *pos = s->sel + (size_t)t * U; /* slot rows, after grouping */
        float *o = out + (size_t)t * E;
        const float *e0 = s->out + (size_t)pos[0] * E;
        for (int i = 0; i < E; i++) o[i] = e0[i] * w[0];
        for (int j = 1; j < U; j++) {
            const float *ej = s->out + (size_t)pos[j] * E;
            for (int i = 0; i < E; i++) o[i] += ej[i] * w[j];
        }
    }
    if (L->ffn_up_shexp) umi_shared_expert_ffn(ctx, L, n, out);
}
