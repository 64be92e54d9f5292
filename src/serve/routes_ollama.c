/* Ollama's API: POST /api/chat, POST /api/generate (newline-delimited JSON
 * streams unless "stream": false), GET /api/tags, GET /api/ps, POST /api/show,
 * GET /api/version. Durations are nanoseconds, as Ollama reports them; the
 * last record carries done_reason and the counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "request.h"

/* The final record's statistics, added to o. */
static void add_stats(cJSON *o, const job *j) {
    const char *f = j->finish ? j->finish : "stop";
    bool own = !strcmp(f, "length") || !strcmp(f, "load") || !strcmp(f, "unload");
    cJSON_AddStringToObject(o, "done_reason", own ? f : "stop");
    cJSON_AddNumberToObject(o, "total_duration", (double)(j->t_end - j->t_queued) * 1e3);
    cJSON_AddNumberToObject(o, "load_duration", (double)j->load_us * 1e3);
    cJSON_AddNumberToObject(o, "prompt_eval_count", j->n_prompt);
    cJSON_AddNumberToObject(o, "prompt_eval_duration", (double)(j->t_prompt_done - j->t_accepted) * 1e3);
    cJSON_AddNumberToObject(o, "eval_count", j->n_gen);
    cJSON_AddNumberToObject(o, "eval_duration", (double)(j->t_end - j->t_prompt_done) * 1e3);
}

static cJSON *record(const char *model) {
    char ts[48];
    rfc3339_now(ts, sizeof ts);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "created_at", ts);
    return o;
}

/* One record's text: chat puts it in message.content, generate in response. */
static cJSON *with_text(cJSON *o, bool chat, const char *text, size_t n) {
    char *copy = strndup(text, n);
    if (chat) {
        cJSON *m = cJSON_AddObjectToObject(o, "message");
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddStringToObject(m, "content", copy ? copy : "");
    } else {
        cJSON_AddStringToObject(o, "response", copy ? copy : "");
    }
    free(copy);
    return o;
}

/* Ollama's "logprobs": the array of OpenAI chat's logprobs.content. */
static cJSON *ollama_logprobs(const job *j, int from, int to) {
    cJSON *o = logprobs_chat_json(j, from, to);
    cJSON *content = cJSON_DetachItemFromObject(o, "content");
    cJSON_Delete(o);
    return content;
}

/* ---------------------------------------------------------------- streams */

static void add_pending_logprobs(stream *s, cJSON *o) {
    if (s->lp_pending) cJSON_AddItemToObject(o, "logprobs", s->lp_pending);
    s->lp_pending = NULL;
}

static void nd_delta(stream *s, bool chat, const char *t, size_t n) {
    cJSON *o = with_text(record(s->e->name), chat, t, n);
    add_pending_logprobs(s, o);
    cJSON_AddBoolToObject(o, "done", false);
    stream_put_json(s, "", o, "\n");
}

static void nd_done(stream *s, bool chat) {
    cJSON *o = with_text(record(s->e->name), chat, "", 0);
    add_pending_logprobs(s, o);
    cJSON_AddBoolToObject(o, "done", true);
    add_stats(o, s->j);
    stream_put_json(s, "", o, "\n");
}

static void nd_error(stream *s, const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    stream_put_json(s, "", o, "\n");
}

static void chat_delta(stream *s, const char *t, size_t n) { nd_delta(s, true, t, n); }
static void chat_done(stream *s) { nd_done(s, true); }
static void gen_delta(stream *s, const char *t, size_t n) { nd_delta(s, false, t, n); }
static void gen_done(stream *s) { nd_done(s, false); }

static const stream_fmt CHAT_ND = {"application/x-ndjson", chat_delta, chat_done, nd_error,
                                   ollama_logprobs};
static const stream_fmt GEN_ND = {"application/x-ndjson", gen_delta, gen_done, nd_error,
                                  ollama_logprobs};

/* "format": "json" constrains the output to a JSON object, a JSON schema
 * object to a value of that schema, "" or null means plain text. The
 * logprobs fields follow Ollama (its Python client, late 2025): "logprobs"
 * true, "top_logprobs" 0..20. */
static bool format_and_logprobs(const cJSON *b, job_params *p, char *msg, size_t len) {
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(b, "format");
    if (fmt && !cJSON_IsNull(fmt) && !(cJSON_IsString(fmt) && !fmt->valuestring[0])) {
        if (cJSON_IsObject(fmt)) {
            char why[600];
            if (!req_json_schema(fmt, p, why, sizeof why)) {
                snprintf(msg, len, "'format': %s", why);
                return false;
            }
        } else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "json") != 0) {
            snprintf(msg, len, "'format' must be \"json\" or a JSON schema object");
            return false;
        }
        p->json = true;
    }
    return req_logprobs(b, p, msg, len);
}

/* ---------------------------------------------------------------- chat, generate */

static http_result run(http_req *r, bool chat) {
    http_result res = MHD_NO;
    cJSON *b = http_body_object(r, &res);
    if (!b) return res;
    char msg[700]; /* room for a schema error with its path */
    bool stream_on = true, raw = false;
    model_entry *e = NULL;
    job *j = job_new(chat ? JOB_CHAT : JOB_GENERATE);
    if (!j) {
        res = http_error(r, 500, "server_error", "out of memory");
        goto out;
    }
    j->p.n_predict = r->srv->cfg->n_predict;
    if (!(e = http_model(r, b, &res))) goto out;
    if (!req_bool(b, "stream", &stream_on, msg, sizeof msg) || !req_bool(b, "raw", &raw, msg, sizeof msg) ||
        !req_ollama_params(b, &j->p, msg, sizeof msg) || !req_keep_alive(b, &j->keep_alive_ms, msg, sizeof msg)) {
        res = http_error(r, 400, "invalid_value", "%s", msg);
        goto out;
    }
    if (!format_and_logprobs(b, &j->p, msg, sizeof msg)) {
        res = http_error(r, 400, "invalid_value", "%s", msg);
        goto out;
    }
    if (chat) {
        /* (Ollama loads the model on an empty list; we say what is wrong instead.) */
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, "messages");
        if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 0) {
            res = http_error(r, 400, "invalid_value", "'messages' must not be empty");
            goto out;
        }
        if (!req_messages(b, j, msg, sizeof msg)) {
            res = http_error(r, 400, "invalid_value", "%s", msg);
            goto out;
        }
    } else {
        if (!req_string(b, "prompt", false, &j->prompt, msg, sizeof msg) ||
            !req_string(b, "system", false, &j->system, msg, sizeof msg)) {
            res = http_error(r, 400, "invalid_value", "%s", msg);
            goto out;
        }
        if (raw) j->kind = JOB_COMPLETION;
        if (!j->prompt || !j->prompt[0]) j->kind = JOB_LOAD; /* Ollama: empty prompt loads the model */
    }
    if (stream_on && j->kind != JOB_LOAD) {
        cJSON_Delete(b);
        return stream_respond(r, e, j, chat ? &CHAT_ND : &GEN_ND, NULL);
    }
    if (!job_run(r, e, j, &res)) goto out;
    cJSON *o = with_text(record(e->name), chat, j->out ? j->out : "", j->out_len);
    if (j->p.top_logprobs >= 0) cJSON_AddItemToObject(o, "logprobs", ollama_logprobs(j, 0, j->n_lp));
    cJSON_AddBoolToObject(o, "done", true);
    add_stats(o, j);
    res = http_json(r, 200, o);
out:
    cJSON_Delete(b);
    job_release(j);
    return res;
}

http_result ollama_chat(http_req *r) { return run(r, true); }
http_result ollama_generate(http_req *r) { return run(r, false); }

/* ---------------------------------------------------------------- model listings */

/* "260K", "1.2B": Ollama's parameter_size. */
static void param_size(uint64_t n, char *buf, size_t len) {
    if (n >= 1000000000ull) snprintf(buf, len, "%.1fB", n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, len, "%.1fM", n / 1e6);
    else snprintf(buf, len, "%.0fK", n / 1e3);
}

static cJSON *details(const model_entry *e) {
    char ps[32], q[16];
    param_size(e->n_params, ps, sizeof ps);
    snprintf(q, sizeof q, "%s", e->type_name);
    for (char *p = q; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "parent_model", "");
    cJSON_AddStringToObject(d, "format", "gguf");
    cJSON_AddStringToObject(d, "family", e->arch);
    cJSON *f = cJSON_AddArrayToObject(d, "families");
    cJSON_AddItemToArray(f, cJSON_CreateString(e->arch));
    cJSON_AddStringToObject(d, "parameter_size", ps);
    cJSON_AddStringToObject(d, "quantization_level", q);
    return d;
}

/* A stable stand-in for Ollama's sha256 digest: FNV-1a of name, size, mtime. */
static void digest(const model_entry *e, char *buf, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = e->name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ e->file_bytes) * 1099511628211ull;
    h = (h ^ (uint64_t)e->mtime) * 1099511628211ull;
    snprintf(buf, len, "%016llx", (unsigned long long)h);
}

static cJSON *model_item(const model_entry *e) {
    char dg[32], ts[48];
    digest(e, dg, sizeof dg);
    rfc3339(e->mtime, ts, sizeof ts);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", e->name);
    cJSON_AddStringToObject(m, "model", e->name);
    cJSON_AddStringToObject(m, "modified_at", ts);
    cJSON_AddNumberToObject(m, "size", (double)e->file_bytes);
    cJSON_AddStringToObject(m, "digest", dg);
    cJSON_AddItemToObject(m, "details", details(e));
    return m;
}

http_result ollama_tags(http_req *r) {
    model_entry **v = NULL;
    int n = registry_list(&r->srv->reg, &v);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; i < n; i++)
        if (registry_describe(v[i])) cJSON_AddItemToArray(arr, model_item(v[i]));
    free(v);
    return http_json(r, 200, o);
}

http_result ollama_ps(http_req *r) {
    model_entry **v = NULL;
    int n = registry_list(&r->srv->reg, &v);
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "models");
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->mu);
        bool loaded = v[i]->loaded;
        uint64_t bytes = lifecycle_footprint(v[i]);
        int64_t expires = v[i]->expires_ms;
        pthread_mutex_unlock(&v[i]->mu);
        if (!loaded || !registry_describe(v[i])) continue;
        cJSON *m = model_item(v[i]);
        cJSON_DeleteItemFromObject(m, "modified_at");
        cJSON_ReplaceItemInObject(m, "size", cJSON_CreateNumber((double)bytes));
        char ts[48] = "9999-12-31T23:59:59Z"; /* keep_alive < 0: never */
        if (expires != INT64_MAX) rfc3339(expires / 1000, ts, sizeof ts);
        cJSON_AddStringToObject(m, "expires_at", ts);
        cJSON_AddNumberToObject(m, "size_vram", 0);
        cJSON_AddItemToArray(arr, m);
    }
    free(v);
    return http_json(r, 200, o);
}

http_result ollama_show(http_req *r) {
    http_result res = MHD_NO;
    cJSON *b = http_body_object(r, &res);
    if (!b) return res;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(b, "model");
    if (!m) m = cJSON_GetObjectItemCaseSensitive(b, "name");
    if (!m || cJSON_IsNull(m)) {
        cJSON_Delete(b);
        return http_error(r, 400, "missing_model", "'model' is required");
    }
    model_entry *e = http_model(r, b, &res);
    cJSON_Delete(b);
    if (!e) return res;
    if (!registry_describe(e)) return http_error(r, 500, "server_error", "cannot read model '%s'", e->name);
    /* The template: a vocabulary-only handle of our own (the served model is the worker's). */
    umi_model_params mp = umi_model_default_params();
    mp.vocab_only = true;
    umi_model *vm = NULL;
    umi_error err = {0};
    const char *tmpl = NULL;
    if (umi_model_load(e->path, &mp, &vm, &err) == UMI_OK) tmpl = umi_model_chat_template(vm, NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "license", "");
    cJSON_AddStringToObject(o, "modelfile", "");
    cJSON_AddStringToObject(o, "parameters", "");
    cJSON_AddStringToObject(o, "template", tmpl ? tmpl : "");
    cJSON_AddItemToObject(o, "details", details(e));
    cJSON *mi = cJSON_AddObjectToObject(o, "model_info");
    char key[96];
    cJSON_AddStringToObject(mi, "general.architecture", e->arch);
    cJSON_AddNumberToObject(mi, "general.parameter_count", (double)e->n_params);
#define KV(suffix, val) (snprintf(key, sizeof key, "%s." suffix, e->arch), cJSON_AddNumberToObject(mi, key, (double)(val)))
    KV("context_length", e->n_ctx_train);
    KV("embedding_length", e->n_embd);
    KV("block_count", e->n_layer);
    KV("attention.head_count", e->n_head);
    KV("attention.head_count_kv", e->n_head_kv);
#undef KV
    cJSON_AddNumberToObject(mi, "tokenizer.ggml.vocab_size", e->n_vocab);
    cJSON *caps = cJSON_AddArrayToObject(o, "capabilities");
    cJSON_AddItemToArray(caps, cJSON_CreateString("completion"));
    char ts[48];
    rfc3339(e->mtime, ts, sizeof ts);
    cJSON_AddStringToObject(o, "modified_at", ts);
    umi_model_free(vm);
    return http_json(r, 200, o);
}

http_result ollama_version(http_req *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", UMI_SERVE_VERSION);
    return http_json(r, 200, o);
}
