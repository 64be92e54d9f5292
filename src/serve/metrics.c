/* GET /metrics: Prometheus text exposition of what the server has done —
 * requests, tokens in and out (and how many came from the prefix cache),
 * generation speed, time-to-first-token histogram, decode batch sizes,
 * queue depth, busy slots and memory per model. Counters live in each model_entry under its mutex. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "serve.h"

static const double TTFT_LE[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; /* seconds; +Inf last */
enum { N_LE = sizeof TTFT_LE / sizeof *TTFT_LE };

void metrics_record(model_entry *e, job *j) {
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    const int n_prompt = j->n_prompt, n_cached = j->n_cached, n_gen = j->n_gen;
    const int64_t t_queued = j->t_queued, t_first = j->t_first;
    const int64_t t_gen0 = j->t_prompt_done, t_end = j->t_end ? j->t_end : umi_time_us();
    pthread_mutex_unlock(&j->mu);
    pthread_mutex_lock(&e->mu);
    e->m_requests++;
    e->m_prompt_tokens += (uint64_t)(n_prompt > 0 ? n_prompt : 0);
    e->m_cached_tokens += (uint64_t)(n_cached > 0 ? n_cached : 0);
    e->m_gen_tokens += (uint64_t)(n_gen > 0 ? n_gen : 0);
    if (t_gen0 > 0 && t_end > t_gen0) e->m_gen_seconds += (t_end - t_gen0) / 1e6;
    if (t_first > 0 && t_queued > 0) {
        const double ttft = (t_first - t_queued) / 1e6;
        e->m_ttft_sum += ttft;
        int b = 0;
        while (b < N_LE && ttft > TTFT_LE[b]) b++;
        e->m_ttft_bucket[b]++;
    }
    pthread_mutex_unlock(&e->mu);
}

static const double BATCH_LE[] = {1, 2, 4, 8, 16, 32}; /* sequences per decode pass; +Inf last */
enum { N_BATCH_LE = sizeof BATCH_LE / sizeof *BATCH_LE };

void metrics_batch(model_entry *e, int n) {
    int b = 0;
    while (b < N_BATCH_LE && n > BATCH_LE[b]) b++;
    pthread_mutex_lock(&e->mu);
    e->m_batch_last = n;
    e->m_batch_bucket[b]++;
    e->m_batch_sum += (uint64_t)n;
    pthread_mutex_unlock(&e->mu);
}

/* A growing text buffer; on allocation failure it stops growing and the
 * reply is cut, never corrupt. */
typedef struct text {
    char *p;
    size_t n, cap;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int need = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (need < 0) return;
        if (t->p && t->n + (size_t)need < t->cap) {
            t->n += (size_t)need;
            return;
        }
        const size_t cap = (t->cap + (size_t)need + 1) * 2;
        char *q = realloc(t->p, cap);
        if (!q) return;
        t->p = q;
        t->cap = cap;
    }
}

/* Model names are file names: escape what a label value cannot hold. */
static void label(char *out, size_t len, const char *name) {
    size_t o = 0;
    for (const char *c = name; *c && o + 3 < len; c++) {
        if (*c == '"' || *c == '\\') out[o++] = '\\';
        out[o++] = *c == '\n' ? ' ' : *c;
    }
    out[o] = 0;
}

typedef struct snapshot {
    char name[256];
    bool loaded;
    int busy, queued;
    uint64_t memory, requests, prompt, cached, gen, ttft_bucket[N_LE + 1];
    int batch_last;
    uint64_t batch_bucket[N_BATCH_LE + 1], batch_sum;
    double gen_seconds, ttft_sum;
    uint64_t borrowed;
} snapshot;

static void family(text *t, const char *name, const char *type, const char *help) {
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One model's histogram rows: cumulative buckets (n_le bounds, then +Inf), sum, count. */
static void histogram(text *t, const char *name, const char *model, const double *le, int n_le,
                      const uint64_t *bucket, double sum) {
    uint64_t cum = 0;
    for (int b = 0; b <= n_le; b++) {
        cum += bucket[b];
        if (b < n_le) put(t, "%s_bucket{model=\"%s\",le=\"%g\"} %llu\n", name, model, le[b], (unsigned long long)cum);
        else put(t, "%s_bucket{model=\"%s\",le=\"+Inf\"} %llu\n", name, model, (unsigned long long)cum);
    }
    put(t, "%s_sum{model=\"%s\"} %.6f\n", name, model, sum);
    put(t, "%s_count{model=\"%s\"} %llu\n", name, model, (unsigned long long)cum);
}

http_result route_metrics(http_req *r) {
    model_entry **v = NULL;
    const int n = registry_list(&r->srv->reg, &v);
    snapshot *s = calloc(n > 0 ? (size_t)n : 1, sizeof *s);
    if (!s) {
        free(v);
        return http_text(r, 500, "text/plain; charset=utf-8", "out of memory\n");
    }
    for (int i = 0; i < n; i++) {
        model_entry *e = v[i];
        pthread_mutex_lock(&e->mu);
        s[i] = (snapshot){.loaded = e->loaded, .busy = e->n_active, .queued = e->q_len,
                          .memory = e->resident_bytes, .requests = e->m_requests,
                          .prompt = e->m_prompt_tokens, .cached = e->m_cached_tokens,
                          .borrowed = e->m_borrowed_tokens,
                          .gen = e->m_gen_tokens, .gen_seconds = e->m_gen_seconds,
                          .ttft_sum = e->m_ttft_sum, .batch_last = e->m_batch_last,
                          .batch_sum = e->m_batch_sum};
        memcpy(s[i].batch_bucket, e->m_batch_bucket, sizeof s[i].batch_bucket);
        label(s[i].name, sizeof s[i].name, e->name);
        memcpy(s[i].ttft_bucket, e->m_ttft_bucket, sizeof s[i].ttft_bucket);
        pthread_mutex_unlock(&e->mu);
    }
    free(v);
    text t = {0};
    family(&t, "umi_requests_total", "counter", "Requests finished (completed, stopped, failed or cancelled).");
    for (int i = 0; i < n; i++) put(&t, "umi_requests_total{model=\"%s\"} %llu\n", s[i].name, (unsigned long long)s[i].requests);
    family(&t, "umi_prompt_tokens_total", "counter", "Prompt tokens of finished requests.");
    for (int i = 0; i < n; i++) put(&t, "umi_prompt_tokens_total{model=\"%s\"} %llu\n", s[i].name, (unsigned long long)s[i].prompt);
    family(&t, "umi_prompt_tokens_cached_total", "counter", "Prompt tokens served from the prefix cache.");
    for (int i = 0; i < n; i++) put(&t, "umi_prompt_tokens_cached_total{model=\"%s\"} %llu\n", s[i].name, (unsigned long long)s[i].cached);
    family(&t, "umi_prompt_tokens_borrowed_total", "counter",
           "Prompt tokens whose KV rows were copied from another slot sharing the prefix.");
    for (int i = 0; i < n; i++) put(&t, "umi_prompt_tokens_borrowed_total{model=\"%s\"} %llu\n", s[i].name, (unsigned long long)s[i].borrowed);
    family(&t, "umi_generated_tokens_total", "counter", "Tokens generated.");
    for (int i = 0; i < n; i++) put(&t, "umi_generated_tokens_total{model=\"%s\"} %llu\n", s[i].name, (unsigned long long)s[i].gen);
    family(&t, "umi_generation_tokens_per_second", "gauge", "Generated tokens per second of generation time, since start.");
    for (int i = 0; i < n; i++)
        put(&t, "umi_generation_tokens_per_second{model=\"%s\"} %.3f\n", s[i].name, s[i].gen_seconds > 0 ? s[i].gen / s[i].gen_seconds : 0.0);
    family(&t, "umi_time_to_first_token_seconds", "histogram", "Time from a request's arrival to its first generated token.");
    for (int i = 0; i < n; i++)
        histogram(&t, "umi_time_to_first_token_seconds", s[i].name, TTFT_LE, N_LE, s[i].ttft_bucket, s[i].ttft_sum);
    family(&t, "umi_decode_batch_size", "gauge", "Sequences in the last decode pass (continuous batching).");
    for (int i = 0; i < n; i++) put(&t, "umi_decode_batch_size{model=\"%s\"} %d\n", s[i].name, s[i].batch_last);
    family(&t, "umi_decode_batch_sequences", "histogram", "Sequences per decode pass.");
    for (int i = 0; i < n; i++)
        histogram(&t, "umi_decode_batch_sequences", s[i].name, BATCH_LE, N_BATCH_LE, s[i].batch_bucket,
                  (double)s[i].batch_sum);
    family(&t, "umi_queue_depth", "gauge", "Requests waiting for the model's inference thread.");
    for (int i = 0; i < n; i++) put(&t, "umi_queue_depth{model=\"%s\"} %d\n", s[i].name, s[i].queued);
    family(&t, "umi_slots_busy", "gauge", "Slots generating now.");
    for (int i = 0; i < n; i++) put(&t, "umi_slots_busy{model=\"%s\"} %d\n", s[i].name, s[i].busy);
    family(&t, "umi_model_loaded", "gauge", "1 when the model is in memory.");
    for (int i = 0; i < n; i++) put(&t, "umi_model_loaded{model=\"%s\"} %d\n", s[i].name, s[i].loaded ? 1 : 0);
    family(&t, "umi_model_memory_bytes", "gauge", "Weights plus KV caches of a loaded model.");
    for (int i = 0; i < n; i++) put(&t, "umi_model_memory_bytes{model=\"%s\"} %llu\n", s[i].name, (unsigned long long)s[i].memory);
    free(s);
    const http_result res = http_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", t.p ? t.p : "");
    free(t.p);
    return res;
}
