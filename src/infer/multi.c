/* Continuous batching: one decode step for many sequences in one pass.
 *
 * Each sequence keeps its own context (KV cache, n_past, logits); the pass
 * runs the shared forward (forward.c) over ctxs[0]'s scratch with one row
 * per sequence, and ctx->multi tells the three position-dependent steps —
 * rope, the KV store and attention — whose cache and position each row
 * has. Every weight row is read once per step for all rows instead of
 * once per sequence (the win where decode is memory-bound), and a tile
 * kernel unpacks each weight block once for all rows (the win where it is
 * compute-bound, as on 2 cores).
 *
 * Exactness: every row gets the bits its solo umi_decode would give. The
 * matmuls take the 1-token plan's dot for every row, through a tile of
 * that dot (matmul.c `solo`; a tile equals its dot element for element),
 * the attention the small-batch path over the row's own cache, and the
 * other steps are per-row already. Expert layers are too: the routing is
 * per row, and the expert products take the 1-token dot for every row
 * anyway, as the reference's do (moe.c), and latent attention (mla.c)
 * stores and reads each row's latent in its own sequence's cache. */
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"

void umi_multi_rope(umi_context *ctx, const umi_hparams *hp, int n) {
    const int hd = (int)hp->head_dim_k, nq = (int)hp->n_head, nk = (int)hp->n_head_kv;
    for (int t = 0; t < n; t++) {
        const uint32_t pos = umi_row_pos(ctx, t);
        const float *freq_factors = umi_model_rope_factors(ctx->model, ctx->multi->seqs[t]->n_ctx);
        umi_rope(hp, freq_factors, ctx->q + (size_t)t * nq * hd, 1, nq, hd, pos);
        umi_rope(hp, freq_factors, ctx->k + (size_t)t * nk * hd, 1, nk, hd, pos);
    }
}

static umi_status check(umi_context *const *ctxs, const umi_token *tokens, int32_t n, umi_error *err) {
    if (n <= 0 || !ctxs || !tokens) return umi_err(err, UMI_ERR_ARG, "decode_multi: no sequences");
    const umi_model *m = ctxs[0]->model;
    for (int32_t i = 0; i < n; i++) {
        const umi_context *c = ctxs[i];
        if (!c || c->model != m)
            return umi_err(err, UMI_ERR_ARG, "decode_multi: context %d is not of the first one's model", i);
        if (c->embd) return umi_err(err, UMI_ERR_ARG, "decode_multi: context %d is embedding", i);
        if (c->kv_type != ctxs[0]->kv_type) /* the pass rotates and stores rows by the first's type */
            return umi_err(err, UMI_ERR_ARG, "decode_multi: context %d has another KV cache type", i);
        for (int32_t j = 0; j < i; j++)
            if (ctxs[j] == c) return umi_err(err, UMI_ERR_ARG, "decode_multi: context %d repeats context %d", i, j);
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= m->hp.n_vocab)
            return umi_err(err, UMI_ERR_ARG, "decode_multi: token id %d of sequence %d is outside the vocabulary (%u)",
                           tokens[i], i, m->hp.n_vocab);
        if (c->n_past + 1 > c->n_ctx)
            return umi_err(err, UMI_ERR_CONTEXT_FULL, "decode_multi: sequence %d fills its %u-token context", i,
                           c->n_ctx);
    }
    return UMI_OK;
}

/* One pass of n <= ctxs[0]->n_batch rows. The logits of all rows land in
 * ctxs[0]'s buffer (grown once to n rows), then move to their contexts. */
static umi_status pass(umi_context *const *ctxs, const umi_token *tokens, int n, umi_error *err) {
    umi_context *c0 = ctxs[0];
    const size_t n_vocab = c0->model->hp.n_vocab;
    if ((uint32_t)n > c0->n_logits_cap) {
        float *l = realloc(c0->logits, (size_t)n * n_vocab * sizeof(float));
        if (!l) return umi_err(err, UMI_ERR_NOMEM, "out of memory (logits for %d sequences)", n);
        c0->logits = l;
        c0->n_logits_cap = (uint32_t)n;
    }
    const umi_multi mt = {.seqs = ctxs, .n = n};
    c0->multi = &mt;
    umi_forward(c0, tokens, n, n, c0->logits);
    c0->multi = NULL;
    for (int i = 0; i < n; i++) {
        umi_context *c = ctxs[i];
        if (i > 0) memcpy(c->logits, c0->logits + (size_t)i * n_vocab, n_vocab * sizeof(float));
        c->n_logits = 1;
        c->n_past++;
        umi_kv_advanced(c);
    }
    return UMI_OK;
}

umi_status umi_decode_multi(umi_context *const *ctxs, const umi_token *tokens, int32_t n, umi_error *err) {
    umi_status st = check(ctxs, tokens, n, err);
    if (st) return st;
    if (n == 1) {
        for (int32_t i = 0; i < n && !st; i++) st = umi_decode(ctxs[i], &tokens[i], 1, false, err);
        return st;
    }
    /* Groups of n_batch rows, each in the scratch of its first context. */
    for (int32_t i = 0, g; i < n && !st; i += g) {
        g = n - i < (int32_t)ctxs[i]->n_batch ? n - i : (int32_t)ctxs[i]->n_batch;
        st = pass(ctxs + i, tokens + i, g, err);
    }
    return st;
}
