/* Where each layer's keys and values live in the context's KV cache.
 *
 * A layer attending to the whole context keeps n_ctx cells, position p in
 * cell p. A sliding-window layer keeps a ring of umi_mem_layer_kv_cells
 * cells (window + n_batch - 1), position p in cell p % cells, so its memory
 * follows the window instead of the context. Readers still walk positions
 * in order, so the arithmetic is the same as with a full cache.
 *
 * The rings hold positions [ring_lo, n_past): writing a chunk forgets what
 * falls out of the ring, and a truncation can only go back as far as the
 * rings still hold the window of the next position. */
#include <stdlib.h>

#include "infer/infer.h"
#include "infer/memory.h"

umi_status umi_kv_layout_init(umi_context *ctx, umi_error *err) {
    const umi_hparams *hp = &ctx->model->hp;
    ctx->kv_first = malloc(hp->n_layer * sizeof *ctx->kv_first);
    ctx->kv_cells = malloc(hp->n_layer * sizeof *ctx->kv_cells);
    if (!ctx->kv_first || !ctx->kv_cells) return umi_err(err, UMI_ERR_NOMEM, "out of memory (KV layout)");
    size_t first = 0;
    ctx->ring_cells = 0;
    for (uint32_t il = 0; il < hp->n_layer; il++) {
        ctx->kv_first[il] = first;
        ctx->kv_cells[il] = umi_mem_layer_kv_cells(hp, il, ctx->n_ctx, ctx->n_batch);
        first += ctx->kv_cells[il];
        if (ctx->kv_cells[il] < ctx->n_ctx) ctx->ring_cells = ctx->kv_cells[il];
    }
    ctx->ring_lo = 0;
    return UMI_OK;
}

void umi_kv_layout_free(umi_context *ctx) {
    free(ctx->kv_first);
    free(ctx->kv_cells);
}

/* After a chunk advanced n_past: the oldest positions left the rings. */
void umi_kv_advanced(umi_context *ctx) {
    if (ctx->ring_cells && ctx->n_past > ctx->ring_lo + ctx->ring_cells)
        ctx->ring_lo = ctx->n_past - ctx->ring_cells;
}

uint32_t umi_kv_truncate(umi_context *ctx, uint32_t n) {
    if (n >= ctx->n_past) return ctx->n_past;
    /* The next position (n) needs the window before it: its oldest key is
     * n - window + 1. A ring that no longer holds it means starting over. */
    const uint32_t w = ctx->model->hp.n_swa;
    const uint32_t oldest = n + 1 > w ? n + 1 - w : 0;
    if (ctx->ring_cells && n > 0 && oldest < ctx->ring_lo) n = 0;
    ctx->n_past = n;
    if (n == 0) ctx->ring_lo = 0;
    return n;
}
