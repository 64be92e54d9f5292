/* Constrained sampling on random logits, shared by the JSON tests: a
 * vocabulary loaded alone, the sampling settings of run r (greedy, top-k,
 * or the 256-token pool), and one run of a constrained sampler until it
 * gives the end-of-sequence token. After 40 steps the tokens with closing
 * characters get a boost so every run ends (which tokens are allowed does
 * not change). Include after testkit.h. */
#ifndef UMI_TESTS_CONSTRAINKIT_H
#define UMI_TESTS_CONSTRAINKIT_H

#include <string.h>
#include <time.h>

#include "umi.h"

typedef struct ck_vocab {
    umi_model *m;
    int32_t nv;
    float *logits;  /* [nv] */
    bool *closer;   /* [nv] the token's text has '"', '}' or ']' */
    umi_token eos;
} ck_vocab;

static bool ck_load(ck_vocab *v, const char *path) {
    umi_model_params mp = umi_model_default_params();
    mp.vocab_only = true;
    umi_error err = {0};
    *v = (ck_vocab){0};
    if (!check(umi_model_load(path, &mp, &v->m, &err) == UMI_OK, "load %s: %s", path, err.msg)) return false;
    v->nv = umi_vocab_size(v->m);
    v->logits = xmalloc((size_t)v->nv * sizeof *v->logits);
    v->closer = xmalloc((size_t)v->nv);
    for (int32_t t = 0; t < v->nv; t++) {
        char p[256];
        int32_t n = umi_token_to_piece(v->m, t, p, sizeof p - 1, false);
        p[n > 0 ? n : 0] = 0;
        v->closer[t] = n > 0 && strpbrk(p, "\"}]") != NULL;
    }
    v->eos = umi_token_eos(v->m);
    return true;
}

static void ck_free(ck_vocab *v) {
    free(v->logits);
    free(v->closer);
    umi_model_free(v->m);
}

static umi_sampler_params ck_params(int r) {
    umi_sampler_params sp = umi_sampler_default_params();
    sp.temp = r % 3 == 0 ? 0.0f : 1.0f;
    sp.top_k = r % 3 == 2 ? 0 : 40;
    sp.top_p = 1.0f;
    sp.min_p = 0.0f;
    sp.seed = (uint64_t)r;
    return sp;
}

static double ck_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sample up to max_steps tokens into out (NUL-terminated, *len bytes);
 * true when the sampler ended with end-of-sequence. *ms and *draws (when
 * not NULL) add the time spent in umi_sampler_sample and its calls. */
static bool ck_run(const ck_vocab *v, umi_sampler *s, int max_steps, char *out, size_t cap, size_t *len, double *ms,
                   int *draws) {
    bool ended = false;
    *len = 0;
    for (int step = 0; step < max_steps && *len + 300 < cap; step++) {
        for (int32_t t = 0; t < v->nv; t++) v->logits[t] = rng_signed() * 8.0f + (step > 40 && v->closer[t] ? 12.0f : 0);
        const double t0 = ck_now_ms();
        umi_token tok = umi_sampler_sample(s, v->logits);
        if (ms) *ms += ck_now_ms() - t0;
        if (draws) ++*draws;
        if (tok == v->eos) {
            ended = true;
            break;
        }
        umi_sampler_accept(s, tok);
        int32_t n = umi_token_to_piece(v->m, tok, out + *len, 256, false);
        if (n > 0) *len += (size_t)n;
    }
    out[*len] = 0;
    return ended;
}

#endif
