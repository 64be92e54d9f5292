/* Embeddings: one vector per input from the final-norm hidden states.
 *
 * The forward pass runs as for generation, but with every row kept through
 * the last block and no output projection: forward.c hands the normed rows
 * (what the logits would be computed from) to umi_embed_collect, which pools
 * them. The pooling is the GGUF's `<arch>.pooling_type` (llama.cpp's enum:
 * 0 none, 1 mean, 2 cls, 3 last, 4 rank); decoder LLMs carry none, and for
 * them the mean over the tokens is used, as Ollama and llama-server's
 * --pooling mean do. The result is L2-normalized, as both APIs return it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "infer/infer.h"

enum { POOL_NONE = 0, POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3, POOL_RANK = 4 };

struct umi_embed_acc {
    uint32_t pooling;
    double *sum;   /* [n_embd] mean: sum of rows; cls/last: the chosen row */
    uint32_t rows; /* rows seen */
};

void umi_embed_collect(umi_context *ctx, const float *rows, int n) {
    umi_embed_acc *a = ctx->embd;
    const int E = (int)ctx->model->hp.n_embd;
    for (int r = 0; r < n; r++, a->rows++) {
        const float *x = rows + (size_t)r * E;
        if (a->pooling == POOL_MEAN) {
            for (int i = 0; i < E; i++) a->sum[i] += x[i];
        } else if (a->pooling == POOL_LAST || a->rows == 0) { /* last: each row; cls: the first */
            for (int i = 0; i < E; i++) a->sum[i] = x[i];
        }
    }
}

umi_status umi_embed(umi_context *ctx, const umi_token *tokens, int32_t n_tokens, float *out,
                     umi_error *err) {
    const umi_hparams *hp = &ctx->model->hp;
    if (n_tokens <= 0) return umi_err(err, UMI_ERR_ARG, "embed: no tokens");
    if ((uint32_t)n_tokens > ctx->n_ctx)
        return umi_err(err, UMI_ERR_CONTEXT_FULL, "%d tokens do not fit in the %u-token context",
                       n_tokens, ctx->n_ctx);
    for (int32_t i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || (uint32_t)tokens[i] >= hp->n_vocab)
            return umi_err(err, UMI_ERR_ARG, "token id %d at index %d is outside the vocabulary (%u)",
                           tokens[i], i, hp->n_vocab);
    uint32_t pooling = POOL_NONE;
    umi_status st = umi_model_get_u32(ctx->model, "pooling_type", false, &pooling, err);
    if (st) return st;
    if (pooling == POOL_NONE) pooling = POOL_MEAN;
    if (pooling > POOL_LAST)
        return umi_err(err, UMI_ERR_UNSUPPORTED,
                       "%s: pooling type %u (%s) is not supported for embeddings", ctx->model->arch_name,
                       pooling, pooling == POOL_RANK ? "rank" : "unknown");

    umi_embed_acc acc = {.pooling = pooling, .sum = calloc(hp->n_embd, sizeof(double))};
    if (!acc.sum) return umi_err(err, UMI_ERR_NOMEM, "out of memory (embedding)");
    /* The tokens attend only to each other: the cache starts empty. */
    ctx->n_past = 0;
    ctx->embd = &acc;
    for (int32_t done = 0; done < n_tokens;) {
        int32_t n = n_tokens - done;
        if (n > (int32_t)ctx->n_batch) n = (int32_t)ctx->n_batch;
        umi_forward(ctx, tokens + done, n, n, NULL);
        done += n;
    }
    ctx->embd = NULL;
    ctx->n_past = 0; /* the cache holds no conversation: nothing to continue from */
    ctx->n_logits = 0;

    const double scale = pooling == POOL_MEAN ? 1.0 / acc.rows : 1.0;
    double norm = 0.0;
    for (uint32_t i = 0; i < hp->n_embd; i++) norm += (acc.sum[i] * scale) * (acc.sum[i] * scale);
    norm = sqrt(norm);
    for (uint32_t i = 0; i < hp->n_embd; i++)
        out[i] = (float)(norm > 0 ? acc.sum[i] * scale / norm : 0.0);
    free(acc.sum);
    return UMI_OK;
}
