/* Matrix-vector and matrix-matrix products against stored weights.
 *
 * Activations are converted once per call to the weight type's vec_dot_type
 * (Q8_0, Q8_K, F16, ...) exactly as the reference engine does, then threads
 * take chunks of weight rows from a shared counter and dot each against
 * every token, so each weight row is read from memory once per call. Which
 * dot (and which activation conversion) serves a token is the kernel plan's
 * choice (src/kernels/dispatch.c).
 *
 * Products of one input (q, k and v; a gated FFN's gate and up) go through
 * one pass over the threads: a decode step is ~130 such passes, and the
 * wake-up, the wait for the slowest thread and the serial work between two
 * passes cost a 2-core machine ~10 % of its decode time (issue 4). */
#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "infer/infer.h"
#include "core/cpu.h"
#include "kernels/kernels.h"
#include "quant/interleave.h"
#include "quant/quant.h"

enum {
    MAX_PLANNED = 512, /* tokens whose dot a call looks up before it starts */
    MAX_PARTS = 3,
    CHUNK_BYTES = 1 << 20, /* weight bytes a chunk reads at most */
};

/* One weight of a pass and the kernel plan for it, looked up once per call
 * rather than per row: the leading tokens that share token 0's tile, and
 * the dot of each later one. */
typedef struct mm_part {
    const umi_tensor *w;
    const umi_type_traits *wt;
    float *y;
    int64_t chunk;       /* rows per chunk */
    int64_t first_chunk; /* index of its first chunk in the pass */
    umi_kernel_plan tiled;
    int n_tiled;
    umi_kernel_plan rest; /* interleaved weights: the tile of tokens [n_tiled, n), one dot (or no tile) */
    umi_dot_fn dots[MAX_PLANNED]; /* tokens [n_tiled, MAX_PLANNED); any beyond look theirs up */
} mm_part;

typedef struct matmul_task {
    const umi_type_traits *at; /* activation (vec_dot) type, the same for every part */
    const float *x;
    const void *xq; /* converted activations, n rows of xq_row bytes */
    size_t xq_row;
    int n;
    bool solo; /* every row as its own single-token product (a multi-sequence pass) */
    int glu;   /* GLU_*: parts 0 and 1 are gate and up, chunked together */
    int n_parts;
    int64_t n_chunks;
    atomic_int_fast64_t next_chunk; /* chunks handed out so far (chunk stealing) */
    mm_part part[MAX_PARTS];
} matmul_task;

enum { GLU_NONE, GLU_SILU, GLU_GELU };

/* Rows per chunk that threads take from the shared counter: small enough
 * that a thread slowed down (by the OS, a hyperthread sibling, a page
 * fault on a cold mapping) leaves its share to the others and the last
 * chunk keeps no one waiting long, large enough that taking one costs
 * nothing next to computing it. A multiple of 16 so register tiles (up to
 * 16 rows) stay whole. */
static int64_t chunk_rows(int64_t m, size_t row_bytes, int nth) {
    int64_t c = m / ((int64_t)nth * 8);
    const int64_t cap = (int64_t)(CHUNK_BYTES / (row_bytes ? row_bytes : 1));
    if (c > cap) c = cap;
    return c < 16 ? 16 : c - c % 16;
}

static umi_kernel_plan plan_for(const matmul_task *t, const umi_tensor *w, int tok) {
    /* solo: the dot of a 1-token call, whose summation order each row's
     * solo decode used (an n-token plan may pick a dot summing in another
     * order), tiled across the tokens */
    umi_kernel_plan p = !t->solo   ? umi_kernels_plan(w->type, w->ne[0], w->ne[1], t->n, tok)
                        : t->n > 1 ? umi_kernels_plan_solo_batch(w->type, w->ne[0], w->ne[1])
                                   : umi_kernels_plan_solo(w->type, w->ne[0], w->ne[1]);
    if (!p.act) p.act = t->at->from_float;
    return p;
}

/* Interleaved weights are read only by their layout's tiles, which give
 * every token the bits of the plan's dot (kernels.h). */
void umi_matmul_layout_tile(const umi_tensor *w, umi_kernel_plan *p) {
    p->tile = umi_kernels_layout_tile(w->type, w->layout, p->dot, umi_cpu_level_get(), &p->tile_m, &p->tile_n);
    assert(p->tile && w->ne[1] % UMI_X16_ROWS == 0); /* whole groups; a tile takes any number up to tile_m */
}

static void convert_rows(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    int64_t r0, r1;
    umi_split_rows(t->n, ith, nth, &r0, &r1);
    const int64_t k = t->part[0].w->ne[0];
    for (int64_t r = r0; r < r1; r++)
        plan_for(t, t->part[0].w, (int)r).act(t->x + r * k, (char *)t->xq + r * t->xq_row, k);
}

/* Rows [r0, r1) of one part for every token. */
static void part_rows(const matmul_task *t, const mm_part *P, int64_t r0, int64_t r1) {
    const int64_t k = P->w->ne[0], m = P->w->ne[1];
    const size_t w_row = umi_type_row_size(P->w->type, k);
    if (P->n_tiled > 0)
        umi_kernels_tile_rows(&P->tiled, (int)k, P->w->data, w_row, r0, r1, t->xq, t->xq_row, P->n_tiled, P->y,
                              (size_t)m);
    if (P->rest.tile) {
        const char *xr = (const char *)t->xq + P->n_tiled * t->xq_row;
        umi_kernels_tile_rows(&P->rest, (int)k, P->w->data, w_row, r0, r1, xr, t->xq_row, t->n - P->n_tiled,
                              P->y + P->n_tiled * m, (size_t)m);
        return;
    }
    for (int64_t r = r0; r < r1; r++) {
        const void *wr = (const char *)P->w->data + r * w_row;
        for (int i = P->n_tiled; i < t->n; i++) {
            const void *xi = (const char *)t->xq + i * t->xq_row;
            const umi_dot_fn dot = i < MAX_PLANNED ? P->dots[i] : plan_for(t, P->w, i).dot;
            if (dot) P->y[i * m + r] = dot((int)k, wr, xi);
            else P->wt->vec_dot((int)k, &P->y[i * m + r], wr, xi);
        }
    }
}

static void dot_rows(void *arg, int ith, int nth) {
    (void)ith, (void)nth;
    matmul_task *t = arg;
    for (;;) {
        const int64_t c = atomic_fetch_add(&t->next_chunk, 1);
        if (c >= t->n_chunks) break;
        int p = 0;
        while (p + 1 < t->n_parts && c >= t->part[p + 1].first_chunk) p++;
        const mm_part *P = &t->part[p];
        const int64_t m = P->w->ne[1], r0 = (c - P->first_chunk) * P->chunk;
        const int64_t r1 = r0 + P->chunk < m ? r0 + P->chunk : m;
        part_rows(t, P, r0, r1);
        if (t->glu == GLU_NONE) continue;
        part_rows(t, &t->part[1], r0, r1);
        for (int i = 0; i < t->n; i++)
            umi_glu_span(P->y + i * m, t->part[1].y + i * m, r0, r1, (int)m, t->glu == GLU_GELU);
    }
}

static void plan_part(matmul_task *t, mm_part *P) {
    const umi_tensor *w = P->w;
    const int n = t->n;
    /* The leading tokens that share token 0's tile and dot go through the
     * tile (for repacked layouts: all but the n % 4 remainder, which the
     * reference sends to its gemv); the rest dot by dot. A plan offers a
     * single-token tile only where it beats the dot. */
    P->tiled = plan_for(t, w, 0);
    if (w->layout != UMI_LAYOUT_GGUF) umi_matmul_layout_tile(w, &P->tiled);
    P->n_tiled = 0;
    while (P->tiled.tile && P->n_tiled < n && plan_for(t, w, P->n_tiled).dot == P->tiled.dot) P->n_tiled++;
    P->rest = (umi_kernel_plan){0};
    if (w->layout != UMI_LAYOUT_GGUF && P->n_tiled < n) {
        /* The plans of interleaved weights change dot at most once (Q4_K:
         * gemm order, then the gemv remainder), so one more tile serves the rest. */
        P->rest = plan_for(t, w, P->n_tiled);
        umi_matmul_layout_tile(w, &P->rest);
        for (int i = P->n_tiled; i < n; i++) assert(plan_for(t, w, i).dot == P->rest.dot);
    }
    for (int i = P->n_tiled; i < n && i < MAX_PLANNED; i++) P->dots[i] = plan_for(t, w, i).dot;
}

/* Whether the parts can share one conversion of the input: the same input
 * width and, token by token, the same conversion. */
static bool shared_input(const matmul_task *t) {
    const umi_tensor *w0 = t->part[0].w;
    for (int p = 1; p < t->n_parts; p++) {
        const umi_tensor *w = t->part[p].w;
        if (w->ne[0] != w0->ne[0] || t->part[p].wt->vec_dot_type != t->part[0].wt->vec_dot_type) return false;
        for (int i = 0; i < t->n; i++)
            if (plan_for(t, w, i).act != plan_for(t, w0, i).act) return false;
    }
    return true;
}

/* One pass: convert x once, then every part's rows as chunks of one
 * counter. Returns false (nothing computed) when the parts cannot share
 * the conversion. */
static bool run_parts(umi_pool *pool, void *qbuf, matmul_task *t) {
    const int nth = umi_pool_size(pool);
    const umi_tensor *w0 = t->part[0].w;
    t->at = umi_type_traits_get(t->part[0].wt->vec_dot_type);
    if (t->n_parts > 1 && !shared_input(t)) return false;
    atomic_init(&t->next_chunk, 0);
    t->n_chunks = 0;
    for (int p = 0; p < t->n_parts; p++) {
        mm_part *P = &t->part[p];
        P->chunk = chunk_rows(P->w->ne[1], umi_type_row_size(P->w->type, P->w->ne[0]), nth);
        if (t->glu != GLU_NONE && p == 1) P->chunk = t->part[0].chunk; /* gate and up share rows */
        P->first_chunk = t->n_chunks;
        if (t->glu == GLU_NONE || p == 0) t->n_chunks += (P->w->ne[1] + P->chunk - 1) / P->chunk;
    }
    if (t->part[0].wt->vec_dot_type == UMI_TYPE_F32) {
        t->xq = t->x;
        t->xq_row = (size_t)w0->ne[0] * sizeof(float);
    } else {
        t->xq = qbuf;
        /* A plan reads widened rows for every token or for none (kernels.h). */
        t->xq_row = plan_for(t, w0, 0).act_wide ? (size_t)w0->ne[0] * sizeof(float)
                                                : umi_type_row_size(t->part[0].wt->vec_dot_type, w0->ne[0]);
        /* One row converts faster than waking the workers for it. */
        if (t->n == 1) convert_rows(t, 0, 1);
        else umi_pool_run(pool, convert_rows, t);
    }
    for (int p = 0; p < t->n_parts; p++) plan_part(t, &t->part[p]);
    umi_pool_run(pool, dot_rows, t);
    return true;
}

static void init_part(mm_part *P, const umi_tensor *w, float *y) {
    P->w = w;
    P->wt = umi_type_traits_get(w->type);
    P->y = y;
}

void umi_matmul(umi_context *ctx, const umi_tensor *w, const float *x, int n, float *y) {
    matmul_task t = {.x = x, .n = n, .solo = ctx->multi != NULL, .n_parts = 1};
    init_part(&t.part[0], w, y);
    run_parts(ctx->pool, ctx->qbuf, &t);
}

void umi_matmul_pool(umi_pool *pool, void *qbuf, const umi_tensor *w, const float *x, int n, float *y) {
    matmul_task t = {.x = x, .n = n, .n_parts = 1};
    init_part(&t.part[0], w, y);
    run_parts(pool, qbuf, &t);
}

void umi_matmul_many(umi_context *ctx, int parts, const umi_tensor *const *w, const float *x, int n,
                     float *const *y) {
    assert(parts >= 1 && parts <= MAX_PARTS);
    matmul_task t = {.x = x, .n = n, .solo = ctx->multi != NULL, .n_parts = parts};
    for (int p = 0; p < parts; p++) init_part(&t.part[p], w[p], y[p]);
    if (run_parts(ctx->pool, ctx->qbuf, &t)) return;
    for (int p = 0; p < parts; p++) umi_matmul(ctx, w[p], x, n, y[p]);
}

void umi_matmul_glu(umi_context *ctx, const umi_tensor *gate, const umi_tensor *up, const float *x, int n,
                    float *gate_y, float *up_y, bool gelu) {
    assert(gate->ne[1] == up->ne[1]);
    matmul_task t = {.x = x, .n = n, .solo = ctx->multi != NULL, .n_parts = 2, .glu = gelu ? GLU_GELU : GLU_SILU};
    init_part(&t.part[0], gate, gate_y);
    init_part(&t.part[1], up, up_y);
    if (run_parts(ctx->pool, ctx->qbuf, &t)) return;
    umi_matmul(ctx, gate, x, n, gate_y);
    umi_matmul(ctx, up, x, n, up_y);
    for (int i = 0; i < n; i++)
        umi_glu_span(gate_y + (int64_t)i * gate->ne[1], up_y + (int64_t)i * gate->ne[1], 0, gate->ne[1],
                     (int)gate->ne[1], gelu);
}
