/* The JSON constraint over a vocabulary: which tokens may come next.
 *
 * A token is allowed when the automaton (json_constraint.c) survives its
 * bytes. Checking all of a 128k vocabulary every step would cost more than
 * the draw, so candidates are checked lazily in logit order: the best few
 * hundred first, more only when too few of them are valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sample/sampler_private.h"

/* Without top_k, the draw considers this many valid tokens (top-p and
 * min-p then cut further; the tail past them carries negligible mass). */
enum { JSON_DEFAULT_POOL = 256 };

void umi_sampler_json_free(umi_sampler *s) {
    if (!s->json) return;
    free(s->json->off);
    free(s->json->bytes);
    free(s->json->never);
    free(s->json);
    s->json = NULL;
}

/* Read every token's piece into one buffer. */
static umi_status load_pieces(json_vocab *v, const umi_model *model, int32_t nv, umi_error *err) {
    size_t cap = (size_t)nv * 8 + 64, len = 0;
    int32_t buf_len = 256;
    char *buf = malloc((size_t)buf_len);
    v->off = malloc(((size_t)nv + 1) * sizeof *v->off);
    v->never = calloc((size_t)nv, sizeof *v->never);
    v->bytes = malloc(cap);
    for (int32_t t = 0; buf && v->off && v->never && v->bytes && t < nv; t++) {
        int32_t n = umi_token_to_piece(model, t, buf, buf_len, false);
        if (n < 0) { /* a long piece: grow and read it again */
            char *b = realloc(buf, (size_t)-n);
            if (!b) break;
            buf = b;
            buf_len = -n;
            n = umi_token_to_piece(model, t, buf, buf_len, false);
        }
        if (n < 0) n = 0;
        if (len + (size_t)n > cap) {
            char *b = realloc(v->bytes, cap = (len + (size_t)n) * 2);
            if (!b) break;
            v->bytes = b;
        }
        memcpy(v->bytes + len, buf, (size_t)n);
        v->off[t] = (uint32_t)len;
        len += (size_t)n;
        v->off[t + 1] = (uint32_t)len;
        /* An empty piece would let the model stall without advancing. */
        v->never[t] = n == 0 || umi_token_is_eog(model, t);
        if (t == nv - 1) {
            free(buf);
            return UMI_OK;
        }
    }
    free(buf);
    return umi_err(err, UMI_ERR_NOMEM, "out of memory (token pieces for the JSON constraint)");
}

umi_status umi_sampler_set_json(umi_sampler *s, const umi_model *model, umi_error *err) {
    if (umi_vocab_size(model) != s->n_vocab)
        return umi_err(err, UMI_ERR_ARG, "the sampler has %d tokens but the model %d", s->n_vocab,
                       umi_vocab_size(model));
    const umi_token eos = umi_token_eos(model);
    if (eos < 0)
        return umi_err(err, UMI_ERR_UNSUPPORTED,
                       "the model has no end-of-sequence token to end JSON output with");
    umi_sampler_json_free(s);
    json_vocab *v = calloc(1, sizeof *v);
    if (!v) return umi_err(err, UMI_ERR_NOMEM, "out of memory (JSON constraint)");
    s->json = v;
    umi_status st = load_pieces(v, model, s->n_vocab, err);
    if (st != UMI_OK) {
        umi_sampler_json_free(s);
        return st;
    }
    /* Structure needs these characters alone (a token may hold more, but
     * single bytes make every valid prefix completable). */
    for (const char *c = "{}\":,"; *c; c++) {
        int32_t t = 0;
        while (t < s->n_vocab && !(v->off[t + 1] - v->off[t] == 1 && v->bytes[v->off[t]] == *c)) t++;
        if (t == s->n_vocab) {
            umi_sampler_json_free(s);
            return umi_err(err, UMI_ERR_UNSUPPORTED,
                           "the vocabulary has no token for '%c': it cannot write JSON", *c);
        }
    }
    umi_json_init(&s->js, true);
    s->json_eos = eos;
    return UMI_OK;
}

bool umi_sampler_json_done(const umi_sampler *s) { return s->json && umi_json_complete(&s->js); }

static bool allowed(const umi_sampler *s, umi_token t) {
    const json_vocab *v = s->json;
    if (v->never[t]) return false;
    umi_json_state st = s->js;
    return umi_json_feed(&st, v->bytes + v->off[t], v->off[t + 1] - v->off[t]);
}

int32_t umi_sampler_json_filter(umi_sampler *s) {
    if (s->js.dead || umi_json_complete(&s->js)) return 0;
    const int32_t nv = s->n_vocab;
    int32_t want = s->p.temp <= 0.0f ? 1 : s->p.top_k > 0 ? s->p.top_k : JSON_DEFAULT_POOL;
    if (want > nv) want = nv;
    /* Take the m best, sorted; keep the valid ones at the front; widen m
     * fourfold while too few are valid. The array stays a permutation, so a
     * wider pass sees every candidate again. */
    int32_t found = 0;
    for (int32_t m = want * 4 < 1024 ? 1024 : want * 4;; m *= 4) {
        if (m >= nv) m = nv;
        if (m < nv) umi_cand_select_top(s->c, nv, m);
        qsort(s->c, (size_t)m, sizeof *s->c, umi_cand_by_logit_desc);
        found = 0;
        for (int32_t i = 0; i < m && found < want; i++)
            if (allowed(s, s->c[i].id)) {
                cand t = s->c[found];
                s->c[found++] = s->c[i];
                s->c[i] = t;
            }
        if (found >= want || m == nv) break;
    }
    return found;
}

void umi_sampler_json_accept(umi_sampler *s, umi_token tok) {
    if (tok < 0 || tok >= s->n_vocab || tok == s->json_eos) return;
    const json_vocab *v = s->json;
    if (v->never[tok]) {
        s->js.dead = true;
        return;
    }
    umi_json_feed(&s->js, v->bytes + v->off[tok], v->off[tok + 1] - v->off[tok]);
}
