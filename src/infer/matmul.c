/* Matrix-vector and matrix-matrix products against stored weights.
 *
 * Activations are converted once per call to the weight type's vec_dot_type
 * (Q8_0, Q8_K, F16, ...) exactly as the reference engine does, then each
 * thread takes a contiguous range of weight rows and dots it against every
 * token, so each weight row is read from memory once per call. Which dot
 * (and which activation conversion) serves a token is the kernel plan's
 * choice (src/kernels/dispatch.c). */
#include <assert.h>
#include <stdatomic.h>
#include <string.h>

#include "infer/infer.h"
#include "core/cpu.h"
#include "kernels/kernels.h"
#include "quant/interleave.h"
#include "quant/quant.h"

enum { MAX_PLANNED = 512 }; /* tokens whose dot a call looks up before it starts */

typedef struct matmul_task {
    const umi_tensor *w;
    const umi_type_traits *wt;
    const umi_type_traits *at; /* activation (vec_dot) type */
    const float *x;
    const void *xq; /* converted activations, n rows of xq_row bytes */
    size_t xq_row;
    float *y;
    int n;
    bool solo; /* every row as its own single-token product (a multi-sequence pass) */
    atomic_int_fast64_t next_chunk; /* rows handed out so far (chunk stealing) */
    /* The kernel plan, looked up once per call rather than per row: the
     * leading tokens that share token 0's tile, and the dot of each later one. */
    umi_kernel_plan tiled;
    int n_tiled;
    umi_kernel_plan rest; /* interleaved weights: the tile of tokens [n_tiled, n), one dot (or no tile) */
    umi_dot_fn dots[MAX_PLANNED]; /* tokens [n_tiled, MAX_PLANNED); any beyond look theirs up */
} matmul_task;


/* Rows per chunk that threads take from the shared counter: small enough
 * that a thread slowed down (by the OS, a hyperthread sibling, a page
 * fault on a cold mapping) leaves its share to the others, large enough
 * that taking one costs nothing next to computing it. A multiple of 16 so
 * register tiles (up to 16 rows) stay whole. */
static int64_t chunk_rows(int64_t m, int nth) {
    int64_t c = m / ((int64_t)nth * 8);
    c = c < 16 ? 16 : c - c % 16;
    return c;
}

static umi_kernel_plan plan_for(const matmul_task *t, int tok) {
    /* solo: the dot of a 1-token call, whose summation order each row's
     * solo decode used (an n-token plan may pick a dot summing in another
     * order), tiled across the tokens */
    umi_kernel_plan p = t->solo ? umi_kernels_plan_solo(t->w->type, t->w->ne[0], t->w->ne[1])
                                : umi_kernels_plan(t->w->type, t->w->ne[0], t->w->ne[1], t->n, tok);
    if (!p.act) p.act = t->at->from_float;
    return p;
}

/* Interleaved weights are read only by their layout's tiles, which give
 * every token the bits of the plan's dot (kernels.h). */
static void layout_tile(const umi_tensor *w, umi_kernel_plan *p) {
    p->tile = umi_kernels_layout_tile(w->type, w->layout, p->dot, umi_cpu_level_get(), &p->tile_m, &p->tile_n);
    assert(p->tile && w->ne[1] % p->tile_m == 0);
}

static void convert_rows(void *arg, int ith, int nth) {
    matmul_task *t = arg;
    int64_t r0, r1;
    umi_split_rows(t->n, ith, nth, &r0, &r1);
    const int64_t k = t->w->ne[0];
    for (int64_t r = r0; r < r1; r++)
        plan_for(t, (int)r).act(t->x + r * k, (char *)t->xq + r * t->xq_row, k);
}

static void dot_rows(void *arg, int ith, int nth) {
    (void)ith;
    matmul_task *t = arg;
    const int64_t k = t->w->ne[0], m = t->w->ne[1];
    const size_t w_row = umi_type_row_size(t->w->type, k);
    const int64_t chunk = chunk_rows(m, nth);
    const umi_kernel_plan tiled = t->tiled;
    const int n_tiled = t->n_tiled;
    const umi_dot_fn *dots = t->dots;
    for (;;) {
        const int64_t r0 = atomic_fetch_add(&t->next_chunk, chunk);
        if (r0 >= m) break;
        const int64_t r1 = r0 + chunk < m ? r0 + chunk : m;
        if (n_tiled > 0)
            umi_kernels_tile_rows(&tiled, (int)k, t->w->data, w_row, r0, r1, t->xq, t->xq_row, n_tiled, t->y,
                                  (size_t)m);
        if (t->rest.tile) {
            const char *xr = (const char *)t->xq + n_tiled * t->xq_row;
            umi_kernels_tile_rows(&t->rest, (int)k, t->w->data, w_row, r0, r1, xr, t->xq_row, t->n - n_tiled,
                                  t->y + n_tiled * m, (size_t)m);
            continue;
        }
        for (int64_t r = r0; r < r1; r++) {
            const void *wr = (const char *)t->w->data + r * w_row;
            for (int i = n_tiled; i < t->n; i++) {
                const void *xi = (const char *)t->xq + i * t->xq_row;
                const umi_dot_fn dot = i < MAX_PLANNED ? dots[i] : plan_for(t, i).dot;
                if (dot) t->y[i * m + r] = dot((int)k, wr, xi);
                else t->wt->vec_dot((int)k, &t->y[i * m + r], wr, xi);
            }
        }
    }
}

void umi_matmul(umi_context *ctx, const umi_tensor *w, const float *x, int n, float *y) {
    matmul_task t = {.w = w, .x = x, .y = y, .n = n, .solo = ctx->multi != NULL};
    atomic_init(&t.next_chunk, 0);
    t.wt = umi_type_traits_get(w->type);
    t.at = umi_type_traits_get(t.wt->vec_dot_type);
    if (t.wt->vec_dot_type == UMI_TYPE_F32) {
        t.xq = x;
        t.xq_row = (size_t)w->ne[0] * sizeof(float);
    } else {
        t.xq = ctx->qbuf;
        t.xq_row = umi_type_row_size(t.wt->vec_dot_type, w->ne[0]);
        /* One row converts faster than waking the workers for it. */
        if (n == 1) convert_rows(&t, 0, 1);
        else umi_pool_run(ctx->pool, convert_rows, &t);
    }
    /* The leading tokens that share token 0's tile and dot go through the
     * tile (for repacked layouts: all but the n % 4 remainder, which the
     * reference sends to its gemv); the rest dot by dot. A plan offers a
     * single-token tile only where it beats the dot. */
    t.tiled = plan_for(&t, 0);
    if (w->layout != UMI_LAYOUT_GGUF) layout_tile(w, &t.tiled);
    while (t.tiled.tile && t.n_tiled < n && plan_for(&t, t.n_tiled).dot == t.tiled.dot) t.n_tiled++;
    if (w->layout != UMI_LAYOUT_GGUF && t.n_tiled < n) {
        /* The plans of interleaved weights change dot at most once (Q4_K:
         * gemm order, then the gemv remainder), so one more tile serves the rest. */
        t.rest = plan_for(&t, t.n_tiled);
        layout_tile(w, &t.rest);
        for (int i = t.n_tiled; i < n; i++) assert(plan_for(&t, i).dot == t.rest.dot);
    }
    for (int i = t.n_tiled; i < n && i < MAX_PLANNED; i++) t.dots[i] = plan_for(&t, i).dot;
    umi_pool_run(ctx->pool, dot_rows, &t);
}
