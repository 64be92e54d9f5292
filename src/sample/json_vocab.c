/* The JSON constraint over a vocabulary: which tokens may come next.
 *
 * A token is allowed when the automaton (json_constraint.c) survives its
 * bytes (json_schema_step.c's with a schema). Checking all of a 128k
 * vocabulary every step would cost more than the draw, so candidates are
 * checked lazily in logit order: those whose first byte cannot come next
 * leave at once, then the best few first, more only when too few of them
 * are valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "sample/sampler_private.h"

/* Without top_k, the draw considers this many valid tokens (top-p and
 * min-p then cut further; the tail past them carries negligible mass). */
enum { JSON_DEFAULT_POOL = 256 };

void umi_sampler_json_free(umi_sampler *s) {
    umi_schema_free(s->schema);
    free(s->ss);
    s->schema = NULL;
    s->ss = NULL;
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

/* The token pieces and the checks both JSON modes need. */
static umi_status load_vocab(umi_sampler *s, const umi_model *model, umi_error *err) {
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
    s->json_eos = eos;
    return UMI_OK;
}

umi_status umi_sampler_set_json(umi_sampler *s, const umi_model *model, umi_error *err) {
    umi_status st = load_vocab(s, model, err);
    if (st == UMI_OK) umi_json_init(&s->js, true);
    return st;
}

/* Parse and compile a schema text; the caller frees *out. */
static umi_status compile_text(const char *schema, size_t len, umi_schema **out, umi_error *err) {
    cJSON *doc = cJSON_ParseWithLength(schema, len);
    if (!doc) return umi_err(err, UMI_ERR_ARG, "the schema is not valid JSON");
    umi_status st = umi_schema_compile(doc, out, err);
    cJSON_Delete(doc);
    return st;
}

umi_status umi_json_schema_check(const char *schema, size_t len, umi_error *err) {
    umi_schema *sc = NULL;
    umi_status st = compile_text(schema, len, &sc, err);
    umi_schema_free(sc);
    return st;
}

umi_status umi_sampler_set_json_schema(umi_sampler *s, const umi_model *model, const char *schema, size_t len,
                                       umi_error *err) {
    umi_schema *sc = NULL;
    umi_status st = compile_text(schema, len, &sc, err);
    if (st != UMI_OK) return st;
    if ((st = load_vocab(s, model, err)) != UMI_OK) {
        umi_schema_free(sc);
        return st;
    }
    s->schema = sc;
    if (!(s->ss = malloc(sizeof *s->ss))) {
        umi_sampler_json_free(s);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory (schema state)");
    }
    umi_schema_state_init(s->ss, sc);
    return UMI_OK;
}

bool umi_sampler_json_done(const umi_sampler *s) {
    if (!s->json) return false;
    return s->ss ? umi_schema_complete(s->ss) : umi_json_complete(&s->js);
}

static bool dead(const umi_sampler *s) { return s->ss ? s->ss->dead : s->js.dead; }

static bool feed(umi_sampler *s, const char *bytes, size_t n) {
    return s->ss ? umi_schema_feed(s->ss, bytes, n) : umi_json_feed(&s->js, bytes, n);
}

/* Whether the automaton survives these bytes, on a copy of its state. */
static bool survives(const umi_sampler *s, const char *bytes, size_t n) {
    if (s->ss) {
        umi_schema_state st;
        umi_schema_state_copy(&st, s->ss);
        return umi_schema_feed(&st, bytes, n);
    }
    umi_json_state st = s->js;
    return umi_json_feed(&st, bytes, n);
}

/* The bytes a token may begin with now: 256 one-byte trials per step. */
static void first_bytes(const umi_sampler *s, bool ok[256]) {
    for (unsigned c = 0; c < 256; c++) {
        const char b = (char)c;
        ok[c] = survives(s, &b, 1);
    }
}

static bool allowed(const umi_sampler *s, umi_token t) {
    const json_vocab *v = s->json;
    return survives(s, v->bytes + v->off[t], v->off[t + 1] - v->off[t]);
}

int32_t umi_sampler_json_filter(umi_sampler *s) {
    if (dead(s)) return 0;
    /* A complete value ends the output, unless it could go on (a top-level
     * number): then end-of-sequence competes with the tokens that extend it. */
    const bool done = umi_sampler_json_done(s);
    if (done && !(s->ss && umi_schema_open_ended(s->ss))) return 0;
    /* Tokens that cannot even begin here leave first, in one pass: inside a
     * key or an enum value that is nearly the whole vocabulary, which the
     * widening below would otherwise sort. */
    bool first_ok[256];
    first_bytes(s, first_ok);
    const json_vocab *v = s->json;
    int32_t nv = 0;
    for (int32_t i = 0; i < s->n_vocab; i++) {
        const umi_token t = s->c[i].id;
        if (v->never[t] || !first_ok[(unsigned char)v->bytes[v->off[t]]]) continue;
        cand keep = s->c[nv];
        s->c[nv++] = s->c[i];
        s->c[i] = keep;
    }
    if (nv == 0) return 0;
    int32_t want = s->p.temp <= 0.0f ? 1 : s->p.top_k > 0 ? s->p.top_k : JSON_DEFAULT_POOL;
    if (want > nv) want = nv;
    /* Check candidates in batches, best first, each token once: c[0, found)
     * is valid, c[found, n) not yet checked, c[n, nv) refused. Every valid
     * token of a batch beats every unchecked one, so once want are found
     * (or none is left) the best valid ones are the want best found. */
    int32_t found = 0, n = nv;
    for (int32_t k = want * 2 < 64 ? 64 : want * 2; found < want && found < n; k *= 4) {
        if (k >= n - found) k = n - found;
        else umi_cand_select_top(s->c + found, n - found, k);
        const int32_t end = found + k;
        for (int32_t i = found; i < end; i++)
            if (allowed(s, s->c[i].id)) {
                cand t = s->c[found];
                s->c[found++] = s->c[i];
                s->c[i] = t;
            }
        /* [found, end) are refused: move them behind the unchecked rest. */
        const int32_t bad = end - found, rest = n - end, swap = bad < rest ? bad : rest;
        for (int32_t q = 0; q < swap; q++) {
            cand t = s->c[found + q];
            s->c[found + q] = s->c[found + bad + rest - 1 - q];
            s->c[found + bad + rest - 1 - q] = t;
        }
        n = found + rest;
    }
    if (found > want) {
        umi_cand_select_top(s->c, found, want);
        found = want;
    }
    if (done) { /* end-of-sequence is never in c[0, found): bring it there */
        int32_t i = found;
        while (i < s->n_vocab && s->c[i].id != s->json_eos) i++;
        if (i < s->n_vocab) {
            cand t = s->c[found];
            s->c[found++] = s->c[i];
            s->c[i] = t;
        }
    }
    qsort(s->c, (size_t)found, sizeof *s->c, umi_cand_by_logit_desc);
    return found;
}

void umi_sampler_json_accept(umi_sampler *s, umi_token tok) {
    if (tok < 0 || tok >= s->n_vocab || tok == s->json_eos) return;
    const json_vocab *v = s->json;
    if (v->never[tok]) {
        if (s->ss) s->ss->dead = true;
        else s->js.dead = true;
        return;
    }
    feed(s, v->bytes + v->off[tok], v->off[tok + 1] - v->off[tok]);
}
