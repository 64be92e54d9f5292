/* The worker's half of an embedding job: the inputs become token lists and
 * the result buffer is sized; worker.c then embeds one input per step on a
 * free slot's context (umi_embed). */
#include <stdlib.h>
#include <string.h>

#include "serve.h"

/* Tokenize text the way a prompt is (BOS/EOS as the vocabulary says, no
 * control tokens parsed from client text). */
static int tokenize(umi_model *model, const char *text, umi_token **out) {
    const size_t len = strlen(text);
    int32_t cap = (int32_t)(len < 0x7ffffff0 ? len + 8 : 0x7ffffff0);
    umi_token *t = malloc((size_t)cap * sizeof *t);
    int32_t n = t ? umi_tokenize(model, text, len, t, cap, true, false) : -1;
    if (n < -1) { /* more tokens than bytes: grow once */
        cap = -n;
        umi_token *t2 = realloc(t, (size_t)cap * sizeof *t);
        if (t2) t = t2;
        n = t2 ? umi_tokenize(model, text, len, t, cap, true, false) : -1;
    }
    if (n < 0) {
        free(t);
        return -1;
    }
    *out = t;
    return n;
}

bool embed_prepare(umi_model *model, job *j, uint32_t limit) {
    const int32_t n_vocab = umi_vocab_size(model);
    int total = 0;
    for (int i = 0; i < j->n_inputs; i++) {
        embed_input *in = &j->inputs[i];
        if (in->text) {
            free(in->toks);
            in->toks = NULL;
            in->n_toks = tokenize(model, in->text, &in->toks);
            if (in->n_toks < 0) {
                job_fail(j, 500, "server_error", "cannot tokenize input %d", i);
                return false;
            }
        }
        for (int k = 0; k < in->n_toks; k++)
            if (in->toks[k] < 0 || in->toks[k] >= n_vocab) {
                job_fail(j, 400, "invalid_value", "input %d: token %d is outside the vocabulary (%d)", i,
                         in->toks[k], n_vocab);
                return false;
            }
        if (in->n_toks == 0) {
            job_fail(j, 400, "invalid_value", "input %d is empty", i);
            return false;
        }
        if ((uint32_t)in->n_toks > limit) {
            if (!j->p.truncate) {
                job_fail(j, 400, "context_length_exceeded",
                         "input %d has %d tokens but the context holds %u; shorten it (or, with "
                         "Ollama's API, set truncate)",
                         i, in->n_toks, limit);
                return false;
            }
            in->n_toks = (int)limit;
        }
        total += in->n_toks;
    }
    umi_model_info info;
    umi_model_get_info(model, &info);
    j->n_embd = (int)info.n_embd;
    j->embd = calloc((size_t)j->n_inputs * info.n_embd, sizeof *j->embd);
    if (!j->embd) {
        job_fail(j, 500, "server_error", "out of memory (embeddings)");
        return false;
    }
    job_accept(j, total, 0);
    return true;
}
