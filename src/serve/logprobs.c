/* Log-probabilities of generated tokens: recorded by the worker from the
 * raw logits (a log-softmax over the whole vocabulary, before repetition
 * penalty, top-k/p, temperature or a JSON constraint change anything), and
 * formatted in OpenAI's two shapes: chat's logprobs.content[] and the legacy
 * completions' tokens / token_logprobs / top_logprobs / text_offset. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static bool text_put(job *j, const char *b, size_t n, uint32_t *off) {
    if (j->lp_text_len + n > j->lp_text_cap) {
        size_t cap = (j->lp_text_len + n) * 2 + 256;
        char *t = realloc(j->lp_text, cap);
        if (!t) return false;
        j->lp_text = t;
        j->lp_text_cap = cap;
    }
    memcpy(j->lp_text + j->lp_text_len, b, n);
    *off = (uint32_t)j->lp_text_len;
    j->lp_text_len += n;
    return true;
}

/* A token's text for logprobs: control tokens by name (so an alternative
 * like "<|im_end|>" is visible). */
static lp_alt alt_of(const umi_model *model, job *j, umi_token id, float lp) {
    char piece[256];
    int32_t n = umi_token_to_piece(model, id, piece, sizeof piece, true);
    lp_alt a = {.id = id, .logprob = lp};
    if (n > 0 && text_put(j, piece, (size_t)n, &a.off)) a.len = (uint32_t)n;
    return a;
}

void logprobs_record(const umi_model *model, job *j, const float *logits, umi_token tok) {
    const int32_t nv = umi_vocab_size(model);
    int k = j->p.top_logprobs > LP_MAX_TOP ? LP_MAX_TOP : j->p.top_logprobs;
    float mx = logits[0];
    for (int32_t i = 1; i < nv; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0.0;
    for (int32_t i = 0; i < nv; i++) sum += exp((double)logits[i] - mx);
    const double lse = mx + log(sum);
    /* The k best by insertion (k <= 20): ties keep the lower id first. */
    umi_token best[LP_MAX_TOP];
    int nb = 0;
    for (int32_t i = 0; i < nv && k > 0; i++) {
        if (nb == k && logits[i] <= logits[best[nb - 1]]) continue;
        int p = nb < k ? nb++ : k - 1;
        while (p > 0 && logits[best[p - 1]] < logits[i]) {
            best[p] = best[p - 1];
            p--;
        }
        best[p] = i;
    }
    pthread_mutex_lock(&j->mu);
    if (j->n_lp == j->lp_cap) {
        int cap = j->lp_cap ? j->lp_cap * 2 : 64;
        lp_token *v = realloc(j->lp, (size_t)cap * sizeof *v);
        if (!v) {
            pthread_mutex_unlock(&j->mu);
            return;
        }
        j->lp = v;
        j->lp_cap = cap;
    }
    lp_token *t = &j->lp[j->n_lp++];
    t->chosen = alt_of(model, j, tok, (float)(logits[tok] - lse));
    t->n_top = nb;
    for (int i = 0; i < nb; i++) t->top[i] = alt_of(model, j, best[i], (float)(logits[best[i]] - lse));
    t->text_offset = j->lp_gen_bytes;
    char piece[256];
    int32_t n = umi_token_to_piece(model, tok, piece, sizeof piece, false);
    j->lp_gen_bytes += n > 0 ? (size_t)n : 0;
    pthread_mutex_unlock(&j->mu);
}

void logprobs_trim_locked(job *j, size_t end) {
    while (j->n_lp > 0 && j->lp[j->n_lp - 1].text_offset >= end) j->n_lp--;
}

int logprobs_ready_locked(const job *j) {
    if (j->state == JOB_DONE) return j->n_lp;
    int n = j->n_lp;
    while (n > 0 && j->lp[n - 1].text_offset >= j->raw_committed) n--; /* none of its text out yet */
    return n;
}

/* ---------------------------------------------------------------- JSON */

/* The token's text as valid UTF-8 (a piece may be part of a character:
 * those bytes become U+FFFD; "bytes" carries the exact ones). */
static cJSON *token_string(const job *j, const lp_alt *a) {
    const unsigned char *p = (const unsigned char *)j->lp_text + a->off;
    char *s = malloc((size_t)a->len * 3 + 1), *o = s;
    if (!s) return cJSON_CreateString("");
    for (uint32_t i = 0; i < a->len;) {
        const unsigned c = p[i];
        uint32_t n = c < 0x80                  ? 1
                     : c >= 0xC2 && c <= 0xDF ? 2
                     : c >= 0xE0 && c <= 0xEF ? 3
                     : c >= 0xF0 && c <= 0xF4 ? 4
                                              : 0;
        bool ok = n > 0 && i + n <= a->len && c != 0;
        for (uint32_t k = 1; ok && k < n; k++) ok = (p[i + k] & 0xC0) == 0x80;
        if (ok) {
            memcpy(o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = 0;
    cJSON *r = cJSON_CreateString(s);
    free(s);
    return r;
}

static cJSON *bytes_array(const job *j, const lp_alt *a) {
    cJSON *b = cJSON_CreateArray();
    for (uint32_t i = 0; i < a->len; i++)
        cJSON_AddItemToArray(b, cJSON_CreateNumber((unsigned char)j->lp_text[a->off + i]));
    return b;
}

static cJSON *chat_item(const job *j, const lp_alt *a) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "token", token_string(j, a));
    cJSON_AddNumberToObject(o, "logprob", a->logprob);
    cJSON_AddItemToObject(o, "bytes", bytes_array(j, a));
    return o;
}

cJSON *logprobs_chat_json(const job *j, int from, int to) {
    cJSON *o = cJSON_CreateObject();
    cJSON *content = cJSON_AddArrayToObject(o, "content");
    for (int i = from; i < to; i++) {
        const lp_token *t = &j->lp[i];
        cJSON *c = chat_item(j, &t->chosen);
        cJSON *top = cJSON_AddArrayToObject(c, "top_logprobs");
        for (int k = 0; k < t->n_top; k++) cJSON_AddItemToArray(top, chat_item(j, &t->top[k]));
        cJSON_AddItemToArray(content, c);
    }
    cJSON_AddNullToObject(o, "refusal");
    return o;
}

cJSON *logprobs_legacy_json(const job *j, int from, int to) {
    cJSON *o = cJSON_CreateObject();
    cJSON *toks = cJSON_AddArrayToObject(o, "tokens");
    cJSON *lps = cJSON_AddArrayToObject(o, "token_logprobs");
    cJSON *tops = cJSON_AddArrayToObject(o, "top_logprobs");
    cJSON *offs = cJSON_AddArrayToObject(o, "text_offset");
    for (int i = from; i < to; i++) {
        const lp_token *t = &j->lp[i];
        cJSON_AddItemToArray(toks, token_string(j, &t->chosen));
        cJSON_AddItemToArray(lps, cJSON_CreateNumber(t->chosen.logprob));
        cJSON *top = cJSON_CreateObject();
        for (int k = 0; k < t->n_top; k++) {
            cJSON *name = token_string(j, &t->top[k]);
            /* Two alternatives with the same text (rare): the first, the more likely, stays. */
            if (!cJSON_GetObjectItemCaseSensitive(top, name->valuestring))
                cJSON_AddNumberToObject(top, name->valuestring, t->top[k].logprob);
            cJSON_Delete(name);
        }
        cJSON_AddItemToArray(tops, top);
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)t->text_offset));
    }
    return o;
}
