/* Which models stay in memory: keep_alive with Ollama's semantics, the
 * --max-models limit, and a memory budget with least-recently-used eviction
 * of idle models.
 *
 * A model's inference thread owns its weights, so only that thread loads or
 * unloads them. Loading goes through lifecycle_admit: under the registry's
 * load lock the planner's figure for the model (weights + every slot's
 * context + scratch, what `umi plan` prints) is compared with the budget less
 * what the other models hold; while it does not fit, the least recently used
 * idle model is asked to unload and its thread answers (unloads, or declines
 * because a request arrived meanwhile). A model that does not fit after every
 * idle one is gone is refused with 507 and the numbers. Expiry needs no
 * reaper thread: an idle worker sleeps until its model's expires_ms and
 * unloads then (worker.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

static const double GIB = 1073741824.0;

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- keep_alive */

/* Go's time.ParseDuration units, which Ollama's keep_alive strings use. */
static double unit_ms(const char *u, size_t n) {
    static const struct { const char *name; double ms; } U[] = {
        {"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 6e4}, {"h", 3.6e6},
    };
    for (size_t i = 0; i < sizeof U / sizeof *U; i++)
        if (strlen(U[i].name) == n && memcmp(U[i].name, u, n) == 0) return U[i].ms;
    return -1;
}

/* A plain decimal number ("12", "1.5", ".5"): no sign, exponent, hex or "inf". */
static bool decimal(const char *p, const char **end, double *v) {
    const char *q = p;
    while ((*q >= '0' && *q <= '9') || *q == '.') q++;
    if (q == p) return false;
    char buf[64];
    if ((size_t)(q - p) >= sizeof buf) return false;
    memcpy(buf, p, (size_t)(q - p));
    buf[q - p] = 0;
    char *e;
    *v = strtod(buf, &e);
    *end = q;
    return *e == 0;
}

bool keep_alive_parse(const char *s, int64_t *ms) {
    while (*s == ' ') s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    double total = 0, v;
    const char *end;
    if (!decimal(s, &end, &v)) return false;
    if (!*end) {
        total = v * 1e3; /* a bare number: seconds, as Ollama reads a JSON number */
    } else {
        /* "1h30m", "2.5s": number-unit pairs, as Go's time.ParseDuration */
        for (const char *p = s; *p; p = end) {
            if (!decimal(p, &end, &v)) return false;
            const char *u = end;
            while (*end && !(*end >= '0' && *end <= '9') && *end != '.') end++;
            double f = unit_ms(u, (size_t)(end - u));
            if (f < 0) return false;
            total += v * f;
        }
    }
    if (neg && total > 0) { *ms = KEEP_FOREVER; return true; }
    if (total > 9.2e15) total = 9.2e15;
    *ms = (int64_t)total;
    return true;
}

bool req_keep_alive(const cJSON *body, int64_t *ms, char *msg, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "keep_alive");
    if (!v || cJSON_IsNull(v)) return true;
    if (cJSON_IsNumber(v)) {
        double s = v->valuedouble;
        *ms = s < 0 ? KEEP_FOREVER : s > 9.2e12 ? (int64_t)9.2e15 : (int64_t)(s * 1e3);
        return true;
    }
    if (cJSON_IsString(v) && keep_alive_parse(v->valuestring, ms)) return true;
    snprintf(msg, len, "'keep_alive' must be a duration (\"5m\", \"30s\", \"1h\"), a number of seconds, "
             "0 to unload at once or negative to keep the model loaded");
    return false;
}

void lifecycle_touch(model_entry *e, int64_t ka) {
    pthread_mutex_lock(&e->mu);
    if (ka == KEEP_UNSET) ka = e->pinned ? KEEP_FOREVER : e->cfg->keep_alive_ms;
    if (e->unload_asked) ka = 0;
    e->keep_alive_ms = ka;
    e->expires_ms = ka < 0 ? INT64_MAX : now_ms() + ka;
    pthread_mutex_unlock(&e->mu);
}

/* ---------------------------------------------------------------- the budget */

void lifecycle_init(registry *r) {
    r->budget = 0;
    if (r->cfg->mem_gb > 0) {
        r->budget = (uint64_t)(r->cfg->mem_gb * 1e9);
        return;
    }
    /* The planner's view of this machine (any catalog model will do: only hw is read). */
    umi_plan_catalog_entry ce;
    if (!umi_plan_catalog_get(0, &ce)) return;
    umi_plan_params pp = umi_plan_default_params();
    pp.catalog = ce.name;
    pp.hw = "this";
    pp.memory_only = true; /* no bandwidth probe before a load */
    umi_plan_result res;
    umi_error err = {0};
    if (umi_plan_compute(&pp, &res, &err) == UMI_OK) r->budget = res.budget_bytes / 10 * 9;
}

uint64_t lifecycle_footprint(const model_entry *e) {
    if (!e->loaded && !e->loading) return 0;
    return e->planned_bytes > e->resident_bytes ? e->planned_bytes : e->resident_bytes;
}

/* The planner's total for e as the server runs it. false: it cannot be planned (the load will say why). */
static bool plan(const model_entry *e, uint64_t budget, umi_plan_result *res) {
    umi_plan_params pp = umi_plan_default_params();
    pp.model_path = e->path;
    pp.n_ctx = e->cfg->n_ctx > 0 ? (uint32_t)e->cfg->n_ctx : 0;
    pp.n_parallel = e->cfg->n_parallel > 0 ? (uint32_t)e->cfg->n_parallel : 1;
    pp.kv_type = e->cfg->kv_type;
    pp.hw = "this";
    pp.mem_gb = budget ? budget / 1e9 : 0;
    pp.memory_only = true;
    umi_error err = {0};
    return umi_plan_compute(&pp, res, &err) == UMI_OK;
}

/* The idle model to evict first: loaded, not pinned, nothing queued or
 * running, least recently used. Caller holds load_mu. */
static model_entry *lru_idle(registry *r, const model_entry *self) {
    model_entry *best = NULL;
    int64_t best_t = INT64_MAX;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        model_entry *o = r->v[i];
        if (o == self) continue;
        pthread_mutex_lock(&o->mu);
        bool idle = o->loaded && !o->loading && !o->pinned && !o->stop && o->q_len == 0 && o->n_active == 0;
        if (idle && o->last_used < best_t) best = o, best_t = o->last_used;
        pthread_mutex_unlock(&o->mu);
    }
    pthread_mutex_unlock(&r->mu);
    return best;
}

/* Bytes held and models loaded by the others; busy lists those that cannot be evicted. */
static void usage(registry *r, const model_entry *self, uint64_t *used, int *n_loaded, char *busy, size_t len) {
    *used = 0;
    *n_loaded = 0;
    busy[0] = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->n; i++) {
        model_entry *o = r->v[i];
        if (o == self) continue;
        pthread_mutex_lock(&o->mu);
        uint64_t b = lifecycle_footprint(o);
        if (o->loaded || o->loading) {
            *used += b;
            (*n_loaded)++;
            size_t at = strlen(busy);
            snprintf(busy + at, len - at, "%s%s %.2f GiB%s", at ? ", " : "", o->name, b / GIB,
                     o->pinned ? " (pinned)" : o->n_active || o->q_len ? " (in use)" : "");
        }
        pthread_mutex_unlock(&o->mu);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Ask o's thread to unload o if it is still idle and wait for its answer.
 * Caller holds load_mu (released while waiting). */
static void evict(registry *r, model_entry *o) {
    pthread_mutex_lock(&o->mu);
    o->evict = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    for (;;) {
        pthread_mutex_lock(&o->mu);
        bool pending = o->evict && o->loaded && !o->stop;
        pthread_mutex_unlock(&o->mu);
        if (!pending) return;
        pthread_cond_wait(&r->load_cv, &r->load_mu);
    }
}

/* Unload idle models, least recently used first, until need bytes for e fit
 * next to what the others hold (and, for a load, --max-models allows one
 * more); then e's planned bytes become need. what names the request in
 * messages. */
static bool make_room(model_entry *e, uint64_t need, bool load, const char *what, char *msg, size_t len,
                      int *status) {
    registry *r = e->reg;
    const bool check_mem = !e->cfg->force && r->budget > 0;
    pthread_mutex_lock(&r->load_mu);
    for (;;) {
        uint64_t used;
        int n_loaded;
        char busy[400];
        pthread_mutex_lock(&e->mu);
        bool stopping = e->stop;
        pthread_mutex_unlock(&e->mu);
        if (stopping) {
            snprintf(msg, len, "the server is shutting down");
            *status = 503;
            pthread_mutex_unlock(&r->load_mu);
            return false;
        }
        usage(r, e, &used, &n_loaded, busy, sizeof busy);
        bool mem_ok = !check_mem || used + need <= r->budget;
        bool count_ok = !load || e->cfg->max_models <= 0 || n_loaded < e->cfg->max_models;
        if (mem_ok && count_ok) break;
        model_entry *victim = lru_idle(r, e);
        if (victim) {
            fprintf(stderr, "umi serve: unloading %s (idle, least recently used) for %s\n", victim->name, what);
            evict(r, victim);
            continue;
        }
        if (!mem_ok) {
            snprintf(msg, len,
                     "%s needs %.2f GiB; the memory budget is %.2f GiB and %.2f GiB of it is held by "
                     "models that cannot be unloaded now (%s)",
                     what, need / GIB, r->budget / GIB, used / GIB, busy);
            *status = 507;
        } else {
            snprintf(msg, len, "%d models are loaded (--max-models %d) and none is idle (%s); try again later",
                     n_loaded, e->cfg->max_models, busy);
            *status = 503;
        }
        pthread_mutex_unlock(&r->load_mu);
        return false;
    }
    pthread_mutex_lock(&e->mu);
    if (load) e->loading = true;
    e->planned_bytes = need;
    pthread_mutex_unlock(&e->mu);
    pthread_mutex_unlock(&r->load_mu);
    return true;
}

bool lifecycle_admit(model_entry *e, char *msg, size_t len, int *status) {
    registry *r = e->reg;
    const bool check_mem = !e->cfg->force && r->budget > 0;
    umi_plan_result res;
    bool planned = plan(e, check_mem ? r->budget : 0, &res);
    uint64_t need = planned ? res.total_bytes : 0;
    if (check_mem && planned && need > r->budget) {
        snprintf(msg, len,
                 "model '%s' needs %.2f GiB (weights %.2f, KV cache %.2f for %u slots of %u tokens) but "
                 "%.2f GiB is available (the memory budget)%s",
                 e->name, need / GIB, res.weight_bytes / GIB, res.kv_bytes / GIB, res.n_parallel, res.n_ctx,
                 r->budget / GIB,
                 res.n_ctx_max > 0 && res.n_ctx_max < res.n_ctx ? "; a shorter context (num_ctx) would fit" : "");
        *status = 507;
        return false;
    }
    char what[200];
    snprintf(what, sizeof what, "model '%s'", e->name);
    return make_room(e, need, true, what, msg, len, status);
}

bool lifecycle_grow(model_entry *e, uint64_t bytes, uint32_t n_ctx, char *msg, size_t len, int *status) {
    registry *r = e->reg;
    pthread_mutex_lock(&e->mu);
    bool within = bytes <= lifecycle_footprint(e);
    pthread_mutex_unlock(&e->mu);
    if (within) return true;
    char what[200];
    snprintf(what, sizeof what, "model '%s' with a %u-token context", e->name, n_ctx);
    if (!e->cfg->force && r->budget > 0 && bytes > r->budget) {
        snprintf(msg, len, "%s needs %.2f GiB but the memory budget is %.2f GiB; ask for a smaller num_ctx",
                 what, bytes / GIB, r->budget / GIB);
        *status = 507;
        return false;
    }
    return make_room(e, bytes, false, what, msg, len, status);
}

static void signal_loads(registry *r) {
    pthread_mutex_lock(&r->load_mu);
    pthread_cond_broadcast(&r->load_cv);
    pthread_mutex_unlock(&r->load_mu);
}

void lifecycle_loaded(model_entry *e, bool ok) {
    pthread_mutex_lock(&e->mu);
    e->loading = false;
    if (!ok) e->planned_bytes = 0;
    pthread_mutex_unlock(&e->mu);
    if (!ok) signal_loads(e->reg);
}

void lifecycle_declined(model_entry *e) {
    pthread_mutex_lock(&e->mu);
    e->evict = false;
    pthread_mutex_unlock(&e->mu);
    signal_loads(e->reg);
}

void lifecycle_unloaded(model_entry *e) {
    pthread_mutex_lock(&e->mu);
    e->planned_bytes = 0;
    e->evict = false;
    e->unload_asked = false;
    pthread_mutex_unlock(&e->mu);
    signal_loads(e->reg);
}
