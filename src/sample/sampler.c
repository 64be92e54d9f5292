/* Token sampling: repetition penalty → top-k → top-p → min-p → temperature
 * → draw, the order llama.cpp and Ollama users expect. temp <= 0 is greedy
 * (argmax, lowest id on ties). The sampler owns its candidate buffer, sized
 * once for the vocabulary, so sampling never allocates. With a JSON
 * constraint (json_vocab.c) the candidates are first narrowed to the tokens
 * the JSON automaton accepts, taken in logit order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sample/sampler_private.h"

umi_sampler_params umi_sampler_default_params(void) {
    return (umi_sampler_params){.temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
                                .repeat_penalty = 1.0f, .repeat_last_n = 64, .seed = 0};
}

/* splitmix64: a tiny, well-distributed generator; reproducible per seed. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

umi_sampler *umi_sampler_init(const umi_sampler_params *params, int32_t n_vocab) {
    if (n_vocab <= 0) return NULL;
    umi_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = params ? *params : umi_sampler_default_params();
    if (s->p.repeat_last_n < 0) s->p.repeat_last_n = 0;
    s->n_vocab = n_vocab;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->recent = malloc((size_t)(s->p.repeat_last_n + 1) * sizeof *s->recent);
    if (!s->c || !s->recent) {
        umi_sampler_free(s);
        return NULL;
    }
    s->rng = s->p.seed;
    return s;
}

void umi_sampler_free(umi_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->recent);
    umi_sampler_json_free(s);
    free(s);
}

void umi_sampler_accept(umi_sampler *s, umi_token tok) {
    if (s->json) umi_sampler_json_accept(s, tok);
    if (s->p.repeat_last_n == 0) return;
    s->recent[s->recent_head] = tok;
    s->recent_head = (s->recent_head + 1) % s->p.repeat_last_n;
    if (s->n_recent < s->p.repeat_last_n) s->n_recent++;
}

int umi_cand_by_logit_desc(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

/* Move the k best candidates to the front (unordered): quickselect, O(n). */
void umi_cand_select_top(cand *c, int32_t n, int32_t k) {
    int32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        const cand pivot = c[lo + (hi - lo) / 2];
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (umi_cand_by_logit_desc(&c[i], &pivot) < 0) i++;
            while (umi_cand_by_logit_desc(&c[j], &pivot) > 0) j--;
            if (i <= j) {
                cand t = c[i];
                c[i++] = c[j];
                c[j--] = t;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

/* CTRL-style penalty (Keskar et al. 2019): divide positive logits, multiply
 * negative ones, once per distinct recent token. */
static void apply_repeat_penalty(umi_sampler *s) {
    for (int32_t i = 0; i < s->n_recent; i++) {
        umi_token t = s->recent[i];
        bool seen = false;
        for (int32_t j = 0; j < i; j++) seen |= s->recent[j] == t;
        if (seen || t < 0 || t >= s->n_vocab) continue;
        float *l = &s->c[t].logit;
        *l = *l > 0 ? *l / s->p.repeat_penalty : *l * s->p.repeat_penalty;
    }
}

static umi_token draw(umi_sampler *s, int32_t n, double total);

/* Without top-k, min-p alone bounds what can be drawn: a token below
 * p_max * min_p is dropped whatever top-p keeps. So only the tokens within
 * (a margin of) that bound are sorted; the normalization still counts every
 * token, as top-p's mass must. Returns the survivors, best first, and their
 * sum of exp(logit - max) over the whole vocabulary in *total. */
static int32_t min_p_prefilter(umi_sampler *s, int32_t n, double *total) {
    float lmax = s->c[0].logit;
    for (int32_t i = 1; i < n; i++) lmax = s->c[i].logit > lmax ? s->c[i].logit : lmax;
    const float cut = lmax + logf(s->p.min_p) - 1.0f; /* a margin below the exact test in draw() */
    double sum = 0.0;
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++) {
        sum += expf(s->c[i].logit - lmax);
        if (s->c[i].logit >= cut) {
            const cand t = s->c[k];
            s->c[k++] = s->c[i], s->c[i] = t;
        }
    }
    qsort(s->c, (size_t)k, sizeof *s->c, umi_cand_by_logit_desc);
    *total = sum;
    return k;
}

/* The first index of the largest value (NaN never wins; a NaN first value
 * keeps index 0), as `if (x[i] > x[best]) best = i` gives it, in two
 * passes that do not wait on a load per element: the maximum in 8
 * independent lanes, then its first index. */
static umi_token argmax(const float *x, int32_t n) {
    float m[8];
    for (int k = 0; k < 8; k++) m[k] = x[0];
    int32_t i = 1;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
    for (; i < n; i++) m[0] = x[i] > m[0] ? x[i] : m[0];
    float best = m[0];
    for (int k = 1; k < 8; k++) best = m[k] > best ? m[k] : best;
    if (!(best == best)) return 0; /* x[0] is NaN: nothing compares greater */
    for (i = 0; i < n; i++)
        if (x[i] == best) return i;
    return 0;
}

umi_token umi_sampler_sample(umi_sampler *s, const float *logits) {
    const int32_t nv = s->n_vocab;
    if (s->p.temp <= 0.0f && !s->json && (s->p.repeat_penalty == 1.0f || s->n_recent == 0)) {
        /* greedy with nothing to adjust: the first largest logit, read in
         * place (filling 128k candidates first cost ~0.6 ms a token, 6 % of
         * a 4-sequence decode step in umi serve) */
        return argmax(logits, nv);
    }
    for (int32_t i = 0; i < nv; i++) s->c[i] = (cand){.id = i, .logit = logits[i]};
    if (s->p.repeat_penalty != 1.0f && s->n_recent > 0) apply_repeat_penalty(s);
    int32_t n = nv;
    if (s->json) { /* the valid candidates, best first; the greedy pick is the first */
        n = umi_sampler_json_filter(s);
        if (n <= 0) return s->json_eos;
        if (s->p.temp <= 0.0f) return s->c[0].id;
        return draw(s, n, -1.0);
    }
    if (s->p.temp <= 0.0f) {
        umi_token best = 0;
        for (int32_t i = 1; i < nv; i++)
            if (s->c[i].logit > s->c[best].logit) best = i;
        return best;
    }
    if (s->p.top_k > 0 && s->p.top_k < n) {
        umi_cand_select_top(s->c, n, s->p.top_k);
        n = s->p.top_k;
    } else if (s->p.min_p > 0.0f && n > 1024) { /* a 128k vocabulary sorted per token costs ms */
        double total;
        n = min_p_prefilter(s, n, &total);
        return draw(s, n, total);
    }
    qsort(s->c, (size_t)n, sizeof *s->c, umi_cand_by_logit_desc);
    return draw(s, n, -1.0);
}

/* top-p, min-p and temperature over the n best candidates (sorted, best
 * first), then the draw. total: the softmax normalization (sum of
 * exp(logit - max)) over more tokens than these n, or < 0 for these n. */
static umi_token draw(umi_sampler *s, int32_t n, double total) {
    /* Softmax over the survivors (max first, so exp never overflows). */
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        s->c[i].p = expf(s->c[i].logit - s->c[0].logit);
        sum += s->c[i].p;
    }
    if (total >= 0.0) sum = total;
    for (int32_t i = 0; i < n; i++) s->c[i].p = (float)(s->c[i].p / sum);

    if (s->p.top_p < 1.0f) { /* nucleus (Holtzman et al. 2019): smallest set with mass >= top_p */
        double acc = 0.0;
        for (int32_t i = 0; i < n; i++) {
            acc += s->c[i].p;
            if (acc >= s->p.top_p) {
                n = i + 1;
                break;
            }
        }
    }
    if (s->p.min_p > 0.0f) { /* keep tokens with p >= min_p * p_max */
        const float floor_p = s->p.min_p * s->c[0].p;
        int32_t keep = 1;
        while (keep < n && s->c[keep].p >= floor_p) keep++;
        n = keep;
    }
    /* Temperature on the survivors' logits, then draw. */
    sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        s->c[i].p = expf((s->c[i].logit - s->c[0].logit) / s->p.temp);
        sum += s->c[i].p;
    }
    double r = next_unit(&s->rng) * sum;
    for (int32_t i = 0; i < n; i++) {
        r -= s->c[i].p;
        if (r <= 0.0) return s->c[i].id;
    }
    return s->c[n - 1].id;
}
