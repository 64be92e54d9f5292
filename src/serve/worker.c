/* The inference thread of one model. It alone owns the umi_model and the
 * contexts; HTTP threads reach it only through the entry's job queue.
 *
 * Slots: --parallel N gives the model N slots, each its own umi_context with
 * the full context length (never a share of one). Continuous batching: each
 * step first processes prompt chunks of the slots still reading their
 * prompts, in turn, until PROMPT_CHUNK tokens have run (a chunk is always
 * whole — min(512, what is left) — so a prompt is split the same way however
 * busy the server is); then every generating slot samples its next token and
 * all those tokens go through ONE forward pass (umi_decode_multi), which
 * reads each weight once for all of them and gives each sequence the very
 * logits it would get alone. A request joins at the next step (or this one,
 * if it arrives while the step's prompt chunks run); a finished or
 * cancelled one frees its slot at once.
 *
 * Prefix cache: each slot remembers the tokens in its KV cache. A new request
 * goes to the free slot sharing the longest prefix with its prompt; the cache
 * is truncated there and only the rest of the prompt is processed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve.h"

struct slot {
    umi_context *ctx;    /* NULL until first used */
    uint32_t n_ctx;
    umi_token *cache;    /* tokens in the KV cache, [n_ctx] */
    int n_cache;
    job *job;            /* NULL when free */
    int n_done;          /* prompt tokens in the cache for the current job */
    uint32_t limit;      /* the job's context limit */
    int64_t last_used;
    unsigned step;       /* the last step that stepped its job; 0: not yet */
};

static uint32_t default_n_ctx(const model_entry *e) {
    if (e->cfg->n_ctx > 0) return (uint32_t)e->cfg->n_ctx;
    umi_model_info info;
    umi_model_get_info(e->model, &info);
    return info.n_ctx_train > 0 && info.n_ctx_train < 4096 ? info.n_ctx_train : 4096;
}

static uint32_t train_ctx(const model_entry *e) {
    umi_model_info info;
    umi_model_get_info(e->model, &info);
    return info.n_ctx_train;
}

static void update_resident(model_entry *e) {
    umi_model_info info;
    umi_model_get_info(e->model, &info);
    uint64_t bytes = info.file_bytes;
    int active = 0;
    for (int i = 0; i < e->n_slots; i++) {
        if (e->slots[i].ctx) bytes += umi_context_kv_bytes(e->slots[i].ctx);
        active += e->slots[i].job != NULL;
    }
    pthread_mutex_lock(&e->mu);
    e->resident_bytes = bytes;
    e->n_active = active;
    e->last_used = umi_time_us();
    pthread_mutex_unlock(&e->mu);
}

/* ---------------------------------------------------------------- loading */

/* The load guard and the budget (lifecycle.c) first: a model that does not
 * fit is refused with 507 and the numbers, never loaded into a swap storm. */
static bool load(model_entry *e, char *msg, size_t len, int *status) {
    umi_model_params mp = umi_model_default_params();
    mp.no_repack = e->cfg->no_repack;
    mp.repack_q8_0 = e->cfg->repack_q8_0;
    mp.batch_decode = e->cfg->n_parallel > 1; /* its slots decode together */
    umi_error err = {0};
    if (!lifecycle_admit(e, msg, len, status)) return false;
    if (umi_model_load(e->path, &mp, &e->model, &err) != UMI_OK) {
        snprintf(msg, len, "cannot load model '%s': %s", e->name, err.msg);
        *status = err.code == UMI_ERR_UNSUPPORTED || err.code == UMI_ERR_FORMAT ? 400 : 500;
        lifecycle_loaded(e, false);
        return false;
    }
    e->n_slots = e->cfg->n_parallel > 0 ? e->cfg->n_parallel : 1;
    e->slots = calloc((size_t)e->n_slots, sizeof *e->slots);
    if (!e->slots) {
        umi_model_free(e->model);
        e->model = NULL;
        snprintf(msg, len, "out of memory");
        *status = 500;
        lifecycle_loaded(e, false);
        return false;
    }
    pthread_mutex_lock(&e->mu);
    e->loaded = true;
    e->loaded_at = (int64_t)time(NULL);
    pthread_mutex_unlock(&e->mu);
    lifecycle_loaded(e, true);
    lifecycle_touch(e, KEEP_UNSET); /* the default until a request says otherwise */
    update_resident(e);
    return true;
}

static void unload(model_entry *e) {
    for (int i = 0; i < e->n_slots; i++) {
        umi_context_free(e->slots[i].ctx);
        free(e->slots[i].cache);
    }
    free(e->slots);
    e->slots = NULL;
    e->n_slots = 0;
    umi_model_free(e->model);
    e->model = NULL;
    pthread_mutex_lock(&e->mu);
    e->loaded = false;
    e->resident_bytes = 0;
    pthread_mutex_unlock(&e->mu);
    lifecycle_unloaded(e);
}

/* (Re)build a slot's context so it holds at least n tokens. Only the context
 * is rebuilt; the weights stay. */
static bool slot_ensure(model_entry *e, slot *s, uint32_t n, umi_error *err) {
    if (s->ctx && s->n_ctx >= n) return true;
    /* Past the context the model was admitted with, the budget must have room first
     * (UMI_ERR_NOMEM: the callers answer 507). */
    uint32_t had = s->ctx && s->n_ctx > default_n_ctx(e) ? s->n_ctx : default_n_ctx(e);
    if (n > had) {
        umi_model_info info;
        umi_model_get_info(e->model, &info);
        pthread_mutex_lock(&e->mu);
        uint64_t bytes = e->planned_bytes + (uint64_t)(n - had) * info.kv_bytes_per_token;
        pthread_mutex_unlock(&e->mu);
        int status = 507;
        if (!lifecycle_grow(e, bytes, n, err->msg, sizeof err->msg, &status)) {
            err->code = UMI_ERR_NOMEM;
            return false;
        }
    }
    umi_context_free(s->ctx);
    free(s->cache);
    s->ctx = NULL;
    s->n_cache = 0;
    umi_context_params cp = umi_context_default_params();
    cp.n_ctx = n;
    cp.n_threads = e->cfg->n_threads;
    cp.kv_type = e->cfg->kv_type;
    s->cache = malloc((size_t)n * sizeof *s->cache);
    if (!s->cache) {
        err->code = UMI_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return false;
    }
    if (umi_context_init(e->model, &cp, &s->ctx, err) != UMI_OK) {
        free(s->cache);
        s->cache = NULL;
        return false;
    }
    s->n_ctx = n;
    update_resident(e);
    return true;
}

/* ---------------------------------------------------------------- preparing a job */

/* Append a job to a singly linked list. */
static void list_push(job **head, job *j) {
    j->next = NULL;
    while (*head) head = &(*head)->next;
    *head = j;
}

/* The context a job asks for (Ollama's num_ctx) or the slot default, at most the training context. */
static uint32_t job_limit(const model_entry *e, const job *j) {
    uint32_t limit = j->p.n_ctx ? j->p.n_ctx : default_n_ctx(e);
    uint32_t train = train_ctx(e);
    return train && limit > train ? train : limit;
}

/* Render and tokenize the prompt; check it fits. false: the job failed. */
static bool prepare(model_entry *e, job *j) {
    umi_error err = {0};
    if (j->kind == JOB_EMBED) {
        j->p.n_ctx = job_limit(e, j);
        j->p.cache_prompt = false;
        return embed_prepare(e->model, j, j->p.n_ctx);
    }
    char *text = NULL;
    const char *src = j->prompt ? j->prompt : "";
    bool templated = j->kind == JOB_CHAT ||
                     (j->kind == JOB_GENERATE && umi_model_chat_template(e->model, NULL));
    if (templated) {
        umi_chat_message gen[2];
        const umi_chat_message *msgs = j->msgs;
        size_t n = j->n_msgs;
        if (j->kind == JOB_GENERATE) {
            n = 0;
            if (j->system) gen[n++] = (umi_chat_message){"system", j->system};
            gen[n++] = (umi_chat_message){"user", src};
            msgs = gen;
        }
        if (umi_chat_apply(e->model, msgs, n, true, &text, NULL, &err) != UMI_OK) {
            job_fail(j, 400, "template_error", "chat template: %s", err.msg);
            return false;
        }
        src = text;
    }
    size_t len = strlen(src);
    int32_t cap = (int32_t)(len < 0x7ffffff0 ? len + 8 : 0x7ffffff0);
    j->toks = malloc((size_t)cap * sizeof *j->toks);
    int32_t n = j->toks ? umi_tokenize(e->model, src, len, j->toks, cap, true, templated) : 0;
    umi_free(text);
    if (!j->toks || n < 0) {
        job_fail(j, 500, "server_error", "cannot tokenize the prompt");
        return false;
    }
    /* A template that writes bos_token itself plus the tokenizer's BOS would
     * give two; the model saw one in training. */
    umi_token bos = umi_token_bos(e->model);
    if (n >= 2 && bos >= 0 && j->toks[0] == bos && j->toks[1] == bos) {
        memmove(j->toks, j->toks + 1, (size_t)(n - 1) * sizeof *j->toks);
        n--;
    }
    if (n == 0) {
        job_fail(j, 400, "empty_prompt", "the prompt is empty");
        return false;
    }
    j->n_toks = n;
    const uint32_t limit = job_limit(e, j);
    if ((uint32_t)n >= limit) {
        job_fail(j, 400, "context_length_exceeded",
                 "the prompt has %d tokens but the context holds %u; shorten it or ask for a larger "
                 "context (num_ctx, or --ctx-size on the server)", n, limit);
        return false;
    }
    j->p.n_ctx = limit;
    j->smp = umi_sampler_init(&j->p.sp, umi_vocab_size(e->model));
    if (!j->smp) {
        job_fail(j, 500, "server_error", "out of memory (sampler)");
        return false;
    }
    for (int i = 0; i < n; i++) umi_sampler_accept(j->smp, j->toks[i]);
    /* after the prompt */
    const umi_status js = j->p.json_schema ? umi_sampler_set_json_schema(j->smp, e->model, j->p.json_schema,
                                                                         strlen(j->p.json_schema), &err)
                          : j->p.json      ? umi_sampler_set_json(j->smp, e->model, &err)
                                           : UMI_OK;
    if (js != UMI_OK) {
        job_fail(j, 400, "json_unsupported", "JSON output: %s", err.msg);
        return false;
    }
    job_accept(j, n, 0);
    return true;
}

static int common_prefix(const slot *s, const job *j) {
    int p = 0;
    if (!s->ctx) return 0;
    while (p < s->n_cache && p < j->n_toks && s->cache[p] == j->toks[p]) p++;
    return p;
}

/* Another slot (busy or not) may already hold more of j's prompt than the
 * one j got (several users with one system prompt): copy its KV rows rather
 * than recompute them. Returns the prefix s now holds. */
static int borrow_prefix(model_entry *e, slot *s, const job *j, int p) {
    enum { WORTH = 32 }; /* fewer tokens decode about as fast as they copy */
    slot *donor = NULL;
    int best = p;
    for (int i = 0; i < e->n_slots; i++) {
        slot *d = &e->slots[i];
        if (d == s || !d->ctx) continue;
        int q = common_prefix(d, j);
        const int held = (int)umi_context_n_past(d->ctx); /* rows with their KV computed */
        if (q > held) q = held;
        if (q > best) {
            best = q;
            donor = d;
        }
    }
    if (!donor || best < p + WORTH) return p;
    umi_error err = {0};
    if (umi_context_copy_prefix(s->ctx, donor->ctx, (uint32_t)best, &err) != UMI_OK) return p;
    memcpy(s->cache, donor->cache, (size_t)best * sizeof *s->cache);
    s->n_cache = best;
    pthread_mutex_lock(&e->mu);
    e->m_borrowed_tokens += (uint64_t)(best - p);
    pthread_mutex_unlock(&e->mu);
    return best;
}

/* Give pending jobs free slots: the longest shared prefix wins, then the
 * least recently used slot (its cache is the least likely to be wanted). */
static void assign(model_entry *e) {
    while (e->pending) {
        job *j = e->pending;
        if (atomic_load(&j->cancel)) {
            e->pending = j->next;
            job_fail(j, 499, "cancelled", "client disconnected");
            job_release(j);
            continue;
        }
        int best = -1, best_p = -1;
        for (int i = 0; i < e->n_slots; i++) {
            slot *s = &e->slots[i];
            if (s->job) continue;
            int p = j->p.cache_prompt && s->n_ctx >= j->p.n_ctx ? common_prefix(s, j) : 0;
            if (p > best_p || (p == best_p && s->last_used < e->slots[best].last_used)) {
                best = i;
                best_p = p;
            }
        }
        if (best < 0) return;
        e->pending = j->next;
        slot *s = &e->slots[best];
        umi_error err = {0};
        if (!slot_ensure(e, s, j->p.n_ctx, &err)) {
            bool mem = err.code == UMI_ERR_NOMEM;
            job_fail(j, mem ? 507 : 500, mem ? "insufficient_memory" : "server_error",
                     "cannot create a context of %u tokens: %s", j->p.n_ctx, err.msg);
            job_release(j);
            continue;
        }
        int p = j->p.cache_prompt ? common_prefix(s, j) : 0;
        if (j->p.cache_prompt) p = borrow_prefix(e, s, j, p);
        if (p == j->n_toks && p > 0) p--; /* decode at least one token to have logits */
        p = (int)umi_context_truncate(s->ctx, (uint32_t)p); /* 0 when a window ring cannot go back */
        s->n_cache = p;
        s->n_done = p;
        s->limit = j->p.n_ctx;
        s->job = j;
        s->step = 0;
        pthread_mutex_lock(&j->mu);
        j->n_cached = p;
        j->t_accepted = umi_time_us(); /* prompt time counts from here, not from the queue */
        pthread_mutex_unlock(&j->mu);
        update_resident(e);
    }
}

/* ---------------------------------------------------------------- one step */

static void slot_release(model_entry *e, slot *s) {
    metrics_record(e, s->job);
    lifecycle_touch(e, s->job->keep_alive_ms);
    job_release(s->job);
    s->job = NULL;
    s->last_used = umi_time_us();
    update_resident(e);
}

static void slot_fail(model_entry *e, slot *s, const umi_error *err) {
    job_fail(s->job, 500, "server_error", "decode failed: %s", err->msg);
    umi_context_reset(s->ctx);
    s->n_cache = 0;
    slot_release(e, s);
}

/* One input of an embedding job per step, so the other slots keep generating. */
static void embed_step(model_entry *e, slot *s) {
    job *j = s->job;
    umi_error err = {0};
    const embed_input *in = &j->inputs[j->n_embd_done];
    s->n_cache = 0; /* umi_embed uses the cache from position 0 and leaves it empty */
    float *out = j->embd + (size_t)j->n_embd_done * j->n_embd;
    if (umi_embed(s->ctx, in->toks, in->n_toks, out, &err) != UMI_OK) {
        bool client = err.code == UMI_ERR_UNSUPPORTED || err.code == UMI_ERR_ARG;
        job_fail(j, client ? 400 : 500, client ? "embeddings_unsupported" : "server_error",
                 "embedding: %s", err.msg);
        slot_release(e, s);
        return;
    }
    if (++j->n_embd_done < j->n_inputs) return;
    job_finish(j, "stop");
    slot_release(e, s);
}

/* Prompt tokens per chunk, and the budget of one step over all slots: the
 * chunk that reaches it is the step's last, so the generating slots wait
 * for about one chunk between their tokens. */
enum { PROMPT_CHUNK = 512 };

/* Everything of a step but the shared decode pass: cancellation, an
 * embedding input, a prompt chunk (while *prompt_budget lasts), or sampling
 * the next token. Returns the token the slot's sequence decodes in this
 * step's pass, or -1 when it has nothing to decode (still reading its
 * prompt, or its job ended). */
static umi_token slot_step(model_entry *e, slot *s, int *prompt_budget) {
    job *j = s->job;
    umi_error err = {0};
    if (atomic_load(&j->cancel)) {
        job_finish(j, "cancelled");
        slot_release(e, s);
        return -1;
    }
    if (j->kind == JOB_EMBED) {
        embed_step(e, s);
        return -1;
    }
    if (s->n_done < j->n_toks) { /* the prompt, one chunk per step */
        if (*prompt_budget <= 0) return -1; /* another slot's chunk ran this step */
        /* always whole chunks, however busy: the split shapes the logits */
        int n = j->n_toks - s->n_done;
        if (n > PROMPT_CHUNK) n = PROMPT_CHUNK;
        *prompt_budget -= n;
        if (umi_decode(s->ctx, j->toks + s->n_done, n, false, &err) != UMI_OK) {
            s->n_cache = s->n_done;
            slot_fail(e, s, &err);
            return -1;
        }
        memcpy(s->cache + s->n_done, j->toks + s->n_done, (size_t)n * sizeof *s->cache);
        s->n_done += n;
        s->n_cache = s->n_done;
        if (s->n_done < j->n_toks) return -1;
        pthread_mutex_lock(&j->mu);
        j->t_prompt_done = umi_time_us();
        pthread_mutex_unlock(&j->mu); /* and its first token right away */
    }
    const float *logits = umi_get_logits(s->ctx, -1);
    umi_token tok = umi_sampler_sample(j->smp, logits);
    if (j->p.json && !umi_sampler_json_done(j->smp) && umi_token_is_eog(e->model, tok)) {
        /* The constrained sampler ends an unfinished value only when no token
         * of the vocabulary continues it: an error, never "stop". */
        job_fail(j, 500, "json_dead_end", "constrained JSON output: no token of the vocabulary can continue it");
        slot_release(e, s);
        return -1;
    }
    if ((!j->p.ignore_eos || umi_sampler_json_done(j->smp)) && umi_token_is_eog(e->model, tok)) {
        job_finish(j, "stop");
        slot_release(e, s);
        return -1;
    }
    if (j->p.top_logprobs >= 0) logprobs_record(e->model, j, logits, tok);
    umi_sampler_accept(j->smp, tok);
    pthread_mutex_lock(&j->mu);
    j->n_gen++;
    int n_gen = j->n_gen;
    pthread_mutex_unlock(&j->mu);
    char piece[256];
    int32_t pl = umi_token_to_piece(e->model, tok, piece, sizeof piece, false);
    bool stopped = job_append(j, piece, pl > 0 ? (size_t)pl : 0);
    if (stopped) {
        job_finish(j, "stop");
        slot_release(e, s);
        return -1;
    }
    if ((j->p.n_predict >= 0 && n_gen >= j->p.n_predict) || (uint32_t)s->n_cache >= s->limit) {
        job_finish(j, "length");
        slot_release(e, s);
        return -1;
    }
    return tok;
}

/* The step's decode pass: one token for each of n generating slots. */
typedef struct step_batch {
    slot **slots;
    umi_context **ctxs;
    umi_token *toks;
    int n, cap;
    unsigned step;
} step_batch;

static void batch_decode(model_entry *e, step_batch *b) {
    if (b->n == 0) return;
    metrics_batch(e, b->n);
    umi_error err = {0};
    const bool ok = umi_decode_multi(b->ctxs, b->toks, b->n, &err) == UMI_OK;
    for (int i = 0; i < b->n; i++) {
        slot *s = b->slots[i];
        /* After a failed pass, a sequence it did not advance retries alone,
         * so only the one at fault fails. */
        if (!ok && umi_context_n_past(s->ctx) == (uint32_t)s->n_cache &&
            umi_decode(s->ctx, &b->toks[i], 1, false, &err) != UMI_OK) {
            slot_fail(e, s, &err);
            continue;
        }
        s->cache[s->n_cache++] = b->toks[i];
    }
    b->n = 0;
}

static bool admit(model_entry *e);

/* Step every busy slot; false when out of memory for the batch arrays. */
static bool step_all(model_entry *e, step_batch *b) {
    if (b->cap < e->n_slots) {
        slot **ss = realloc(b->slots, (size_t)e->n_slots * sizeof *ss);
        if (ss) b->slots = ss;
        umi_context **cs = realloc(b->ctxs, (size_t)e->n_slots * sizeof *cs);
        if (cs) b->ctxs = cs;
        umi_token *ts = realloc(b->toks, (size_t)e->n_slots * sizeof *ts);
        if (ts) b->toks = ts;
        if (!ss || !cs || !ts) return false;
        b->cap = e->n_slots;
    }
    /* The first slot in line for a prompt chunk rotates, so joiners share. */
    const unsigned step = ++b->step;
    const int first = (int)((step - 1) % (unsigned)(e->n_slots > 0 ? e->n_slots : 1));
    int prompt_budget = PROMPT_CHUNK;
    for (int k = 0; k < e->n_slots; k++) { /* toks by slot first, -1 for none */
        slot *s = &e->slots[(first + k) % e->n_slots];
        s->step = step;
        b->toks[s - e->slots] = s->job ? slot_step(e, s, &prompt_budget) : -1;
    }
    /* Requests that reached the queue while this step's prompt chunks ran
     * (a burst's clients never all arrive at once) read their prompts in
     * this step too, so a burst starts generating in one step: joining a
     * step later cost every burst one extra decode pass at its start and
     * another at its end (issue 7). */
    while (prompt_budget < PROMPT_CHUNK && prompt_budget > 0 && admit(e)) {
        const int budget = prompt_budget;
        for (int i = 0; i < e->n_slots; i++) {
            slot *s = &e->slots[i];
            if (!s->job || s->step == step) continue;
            s->step = step;
            b->toks[i] = slot_step(e, s, &prompt_budget);
        }
        if (prompt_budget == budget) break; /* no slot was free, or nothing had a prompt to read */
    }
    /* The pass runs on its first context's thread pool: in slot order, the
     * same warm pool leads step after step (rotating, each step woke another
     * pool while the last one's workers spun on the 2 cores). */
    for (int i = 0; i < e->n_slots; i++)
        if (b->toks[i] >= 0) {
            b->slots[b->n] = &e->slots[i];
            b->ctxs[b->n] = e->slots[i].ctx;
            b->toks[b->n++] = b->toks[i]; /* b->n <= i: compacts in place */
        }
    batch_decode(e, b);
    return true;
}

/* ---------------------------------------------------------------- slot files */

static int state_status(umi_status st) {
    switch (st) {
    case UMI_ERR_IO: return 404;
    case UMI_ERR_ARG: return 409; /* saved from another model */
    case UMI_ERR_NOMEM: return 507;
    default: return 400;          /* corrupted, truncated, too long for the context */
    }
}

/* JOB_SLOT_SAVE / JOB_SLOT_RESTORE (routes_slots.c): a free slot's tokens and
 * KV cache to or from j->slot_file. A restored slot is an ordinary prefix
 * cache: the next request whose prompt extends its tokens reuses them. */
static void slot_file_job(model_entry *e, job *j) {
    umi_error err = {0};
    if (j->slot_id < 0 || j->slot_id >= e->n_slots) {
        job_fail(j, 400, "invalid_slot", "slot %d does not exist (--parallel %d: slots 0..%d)", j->slot_id,
                 e->n_slots, e->n_slots - 1);
        return;
    }
    slot *s = &e->slots[j->slot_id];
    if (s->job) {
        job_fail(j, 409, "slot_busy", "slot %d is processing a request; try again when it is done", j->slot_id);
        return;
    }
    job_accept(j, 0, 0);
    if (j->kind == JOB_SLOT_SAVE) {
        if (!s->ctx || s->n_cache == 0) {
            job_fail(j, 400, "slot_empty", "slot %d holds no tokens to save", j->slot_id);
            return;
        }
        if (umi_context_state_save(s->ctx, s->cache, (uint32_t)s->n_cache, j->slot_file, &err) != UMI_OK) {
            job_fail(j, 500, "save_failed", "%s", err.msg);
            return;
        }
        j->n_slot_tokens = s->n_cache;
    } else {
        uint32_t n_file = 0, n = 0;
        umi_status st = umi_state_file_tokens(j->slot_file, &n_file, &err);
        uint32_t need = default_n_ctx(e) > n_file + 1 ? default_n_ctx(e) : n_file + 1;
        if (!st && !slot_ensure(e, s, need, &err)) st = err.code ? err.code : UMI_ERR_NOMEM;
        if (!st) { /* from here the slot's old cache is gone, restored or not */
            st = umi_context_state_load(s->ctx, j->slot_file, s->cache, s->n_ctx, &n, &err);
            s->n_cache = (int)n;
            s->last_used = umi_time_us();
        }
        if (st) {
            job_fail(j, state_status(st), st == UMI_ERR_ARG ? "model_mismatch" : "restore_failed", "%s", err.msg);
            return;
        }
        j->n_slot_tokens = (int)n;
    }
    lifecycle_touch(e, j->keep_alive_ms);
    job_finish(j, "stop");
}

/* ---------------------------------------------------------------- the loop */

static bool any_active(const model_entry *e) {
    for (int i = 0; i < e->n_slots; i++)
        if (e->slots[i].job) return true;
    return false;
}

static void fail_list(job *j, int status, const char *code, const char *msg) {
    while (j) {
        job *next = j->next;
        job_fail(j, status, code, "%s", msg);
        job_release(j);
        j = next;
    }
}

static bool is_unload(const job *j) { return j->kind == JOB_LOAD && j->keep_alive_ms == 0; }

/* Every job in the list only asks to unload (Ollama's keep_alive 0 with an empty prompt). */
static bool only_unloads(const job *j) {
    for (; j; j = j->next)
        if (!is_unload(j)) return false;
    return true;
}

/* Sleep until there is work, an eviction request, or the model's keep_alive
 * runs out. Caller holds e->mu. */
static void wait_for_work(model_entry *e) {
    while (!e->stop && !e->q_head && !any_active(e) && !e->pending && !e->evict) {
        if (!e->model || e->expires_ms == INT64_MAX) {
            pthread_cond_wait(&e->cv, &e->mu);
            continue;
        }
        if (now_ms() >= e->expires_ms) return;
        struct timespec ts = {(time_t)(e->expires_ms / 1000), (long)(e->expires_ms % 1000) * 1000000L};
        pthread_cond_timedwait(&e->cv, &e->mu, &ts);
    }
}

static void handle_incoming(model_entry *e, job *incoming) {
    while (incoming) {
        job *j = incoming;
        incoming = j->next;
        if (j->kind == JOB_LOAD) {
            if (is_unload(j)) { /* busy: unload as soon as the running requests end */
                pthread_mutex_lock(&e->mu);
                e->unload_asked = true;
                pthread_mutex_unlock(&e->mu);
            }
            lifecycle_touch(e, j->keep_alive_ms);
            job_accept(j, 0, 0);
            job_finish(j, is_unload(j) ? "unload" : "load");
            job_release(j);
        } else if (j->kind == JOB_SLOT_SAVE || j->kind == JOB_SLOT_RESTORE) {
            slot_file_job(e, j);
            job_release(j);
        } else if (atomic_load(&j->cancel)) {
            job_fail(j, 499, "cancelled", "client disconnected");
            lifecycle_touch(e, j->keep_alive_ms);
            job_release(j);
        } else if (prepare(e, j)) {
            list_push(&e->pending, j);
        } else {
            lifecycle_touch(e, j->keep_alive_ms);
            job_release(j);
        }
    }
}

/* The queued jobs, in order; the queue is left empty. Caller holds e->mu. */
static job *take_queue(model_entry *e) {
    job *j = e->q_head;
    e->q_head = e->q_tail = NULL;
    e->q_len = 0;
    return j;
}

/* Take the jobs queued since the loop last looked (not while stopping:
 * the loop fails those), prepare them and give them free slots. false:
 * the queue was empty. */
static bool admit(model_entry *e) {
    pthread_mutex_lock(&e->mu);
    job *incoming = e->stop ? NULL : take_queue(e);
    pthread_mutex_unlock(&e->mu);
    if (!incoming) return false;
    handle_incoming(e, incoming);
    assign(e);
    return true;
}

void *worker_main(void *arg) {
    model_entry *e = arg;
    step_batch batch = {0};
    for (;;) {
        pthread_mutex_lock(&e->mu);
        wait_for_work(e);
        job *incoming = take_queue(e);
        bool stop = e->stop, evict = e->evict;
        bool expired = e->model && now_ms() >= e->expires_ms;
        pthread_mutex_unlock(&e->mu);
        if (stop) {
            fail_list(incoming, 503, "shutting_down", "the server is shutting down");
            fail_list(e->pending, 503, "shutting_down", "the server is shutting down");
            e->pending = NULL;
            for (int i = 0; i < e->n_slots; i++)
                if (e->slots[i].job) {
                    job_fail(e->slots[i].job, 503, "shutting_down", "the server is shutting down");
                    slot_release(e, &e->slots[i]);
                }
            break;
        }
        const bool idle = !any_active(e) && !e->pending;
        /* Unload: evicted for another model, keep_alive run out, or asked to (keep_alive 0). */
        if (e->model && idle && only_unloads(incoming) && (evict || expired || incoming)) {
            unload(e);
            fprintf(stderr, "umi serve: unloaded %s (%s)\n", e->name,
                    evict ? "evicted for another model" : incoming ? "keep_alive 0" : "keep_alive expired");
        } else if (evict) {
            lifecycle_declined(e); /* busy (or already unloaded): it stays */
        }
        if (!e->model && incoming && only_unloads(incoming)) {
            for (job *j = incoming; j;) { /* not loaded (any more): nothing to load just to unload */
                job *next = j->next;
                job_accept(j, 0, 0);
                job_finish(j, "unload");
                job_release(j);
                j = next;
            }
            continue;
        }
        if (incoming && !e->model) {
            char msg[900];
            int status = 500;
            int64_t t0 = umi_time_us();
            if (!load(e, msg, sizeof msg, &status)) {
                fail_list(incoming, status,
                          status == 400 ? "model_unsupported" : status == 507 ? "insufficient_memory"
                          : "server_error", msg);
                continue;
            }
            int64_t dt = umi_time_us() - t0;
            for (job *j = incoming; j; j = j->next) j->load_us = dt;
            fprintf(stderr, "umi serve: loaded %s (%.1f ms)\n", e->name, dt / 1e3);
        }
        handle_incoming(e, incoming);
        assign(e);
        if (!step_all(e, &batch)) {
            umi_error err = {.code = UMI_ERR_NOMEM, .msg = "out of memory (decode batch)"};
            for (int i = 0; i < e->n_slots; i++)
                if (e->slots[i].job) slot_fail(e, &e->slots[i], &err);
        }
    }
    free(batch.slots);
    free(batch.ctxs);
    free(batch.toks);
    if (e->model) unload(e);
    return NULL;
}
