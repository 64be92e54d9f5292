/* OpenAI's API: POST /v1/chat/completions, POST /v1/completions, GET /v1/models.
 * Replies follow api.openai.com's shapes (as the official clients parse them);
 * streams are server-sent events ending with `data: [DONE]`. `usage` carries
 * prompt_tokens_details.cached_tokens (the prefix served from a slot's KV
 * cache) and `timings` the speeds, as llama-server reports them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "request.h"

static void make_id(char *buf, size_t len, const char *prefix) {
    static atomic_uint_fast64_t counter;
    uint64_t n = atomic_fetch_add(&counter, 1) + 1;
    snprintf(buf, len, "%s%llx%06llx", prefix, (unsigned long long)umi_time_us(), (unsigned long long)n);
}

static cJSON *usage_of(const job *j) {
    cJSON *u = cJSON_CreateObject();
    cJSON_AddNumberToObject(u, "prompt_tokens", j->n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", j->n_gen);
    cJSON_AddNumberToObject(u, "total_tokens", j->n_prompt + j->n_gen);
    cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", j->n_cached);
    return u;
}

static cJSON *timings_of(const job *j) {
    cJSON *t = cJSON_CreateObject();
    const double prompt_ms = (j->t_prompt_done - j->t_accepted) / 1e3;
    const double gen_ms = (j->t_end - j->t_prompt_done) / 1e3;
    const int prompt_n = j->n_prompt - j->n_cached;
    cJSON_AddNumberToObject(t, "cache_n", j->n_cached);
    cJSON_AddNumberToObject(t, "prompt_n", prompt_n);
    cJSON_AddNumberToObject(t, "prompt_ms", prompt_ms);
    cJSON_AddNumberToObject(t, "prompt_per_second", prompt_ms > 0 ? prompt_n * 1e3 / prompt_ms : 0);
    cJSON_AddNumberToObject(t, "predicted_n", j->n_gen);
    cJSON_AddNumberToObject(t, "predicted_ms", gen_ms);
    cJSON_AddNumberToObject(t, "predicted_per_second", gen_ms > 0 ? j->n_gen * 1e3 / gen_ms : 0);
    cJSON_AddNumberToObject(t, "ttft_ms", j->t_first ? (j->t_first - j->t_queued) / 1e3 : 0);
    cJSON_AddNumberToObject(t, "load_ms", j->load_us / 1e3);
    return t;
}

static cJSON *envelope(const char *id, const char *object, int64_t created, const char *model) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)created);
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddStringToObject(o, "system_fingerprint", "umi-" UMI_SERVE_VERSION);
    return o;
}

/* ---------------------------------------------------------------- streams */

static void sse_chunk(stream *s, bool chat, const char *text, size_t n, const char *finish) {
    cJSON *o = envelope(s->id, chat ? "chat.completion.chunk" : "text_completion", s->created, s->e->name);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    char *copy = strndup(text ? text : "", n);
    if (chat) {
        cJSON *d = cJSON_AddObjectToObject(c, "delta");
        if (!s->sent_role) cJSON_AddStringToObject(d, "role", "assistant");
        if (text) cJSON_AddStringToObject(d, "content", copy ? copy : "");
        s->sent_role = true;
    } else {
        cJSON_AddStringToObject(c, "text", copy ? copy : "");
    }
    free(copy);
    if (s->lp_pending) cJSON_AddItemToObject(c, "logprobs", s->lp_pending);
    else cJSON_AddNullToObject(c, "logprobs");
    s->lp_pending = NULL;
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
    else cJSON_AddNullToObject(c, "finish_reason");
    stream_put_json(s, "data: ", o, "\n\n");
}

static void sse_done(stream *s, bool chat) {
    const job *j = s->j;
    const char *finish = strcmp(j->finish, "length") == 0 ? "length" : "stop";
    sse_chunk(s, chat, chat ? NULL : "", 0, finish);
    if (s->include_usage) {
        cJSON *o = envelope(s->id, chat ? "chat.completion.chunk" : "text_completion", s->created, s->e->name);
        cJSON_AddArrayToObject(o, "choices");
        cJSON_AddItemToObject(o, "usage", usage_of(j));
        cJSON_AddItemToObject(o, "timings", timings_of(j));
        stream_put_json(s, "data: ", o, "\n\n");
    }
    stream_put(s, "data: [DONE]\n\n", 14);
}

static void sse_error(stream *s, const char *msg) {
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", "server_error");
    cJSON_AddStringToObject(e, "code", "generation_failed");
    stream_put_json(s, "data: ", o, "\n\n");
    stream_put(s, "data: [DONE]\n\n", 14);
}

static void chat_delta(stream *s, const char *t, size_t n) { sse_chunk(s, true, t, n, NULL); }
static void chat_done(stream *s) { sse_done(s, true); }
static void text_delta(stream *s, const char *t, size_t n) { sse_chunk(s, false, t, n, NULL); }
static void text_done(stream *s) { sse_done(s, false); }

static const stream_fmt CHAT_SSE = {"text/event-stream", chat_delta, chat_done, sse_error,
                                    logprobs_chat_json};
static const stream_fmt TEXT_SSE = {"text/event-stream", text_delta, text_done, sse_error,
                                    logprobs_legacy_json};

/* ---------------------------------------------------------------- shared request part */

/* response_format {"type":"json_schema","json_schema":{"name":..,"schema":{..},"strict":..}}:
 * output constrained to the schema ("strict" changes nothing: it always is);
 * without "schema", any JSON object as with json_object. */
static bool json_schema_format(http_req *r, const cJSON *rf, job *j, http_result *res) {
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    if (!cJSON_IsObject(js)) {
        *res = http_error(r, 400, "invalid_type", "'response_format.json_schema' must be an object");
        return false;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(js, "name");
    const cJSON *strict = cJSON_GetObjectItemCaseSensitive(js, "strict");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
    if (!cJSON_IsString(name) || (strict && !cJSON_IsBool(strict) && !cJSON_IsNull(strict))) {
        *res = http_error(r, 400, "invalid_type", /* OpenAI requires the name too */
                          "'response_format.json_schema' needs a string 'name'; 'strict' is a boolean");
        return false;
    }
    j->p.json = true;
    if (!schema || cJSON_IsNull(schema)) return true;
    char msg[600];
    if (!req_json_schema(schema, &j->p, msg, sizeof msg)) {
        *res = http_error(r, 400, "invalid_value", "response_format.json_schema.schema: %s", msg);
        return false;
    }
    return true;
}

/* Fields both endpoints take; false after answering 400. */
static bool common(http_req *r, const cJSON *b, job *j, bool chat, bool *stream_on, bool *usage,
                   http_result *res) {
    char msg[300];
    if (!req_openai_params(b, &j->p, msg, sizeof msg) || !req_bool(b, "stream", stream_on, msg, sizeof msg)) {
        *res = http_error(r, 400, "invalid_value", "%s", msg);
        return false;
    }
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(b, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) {
            *res = http_error(r, 400, "invalid_type", "'stream_options' must be an object");
            return false;
        }
        if (!req_bool(so, "include_usage", usage, msg, sizeof msg)) {
            *res = http_error(r, 400, "invalid_type", "stream_options.%s", msg);
            return false;
        }
    }
    /* Chat: "logprobs" true with "top_logprobs" 0..20; completions (legacy): "logprobs" a
     * count 0..20 of alternatives (OpenAI allows 5, llama-server more). */
    const bool lp_ok = chat ? req_logprobs(b, &j->p, msg, sizeof msg)
                            : req_top_logprobs(b, "logprobs", &j->p, msg, sizeof msg);
    if (!lp_ok) {
        *res = http_error(r, 400, "invalid_value", "%s", msg);
        return false;
    }
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(b, "response_format");
    if (rf && !cJSON_IsNull(rf)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rf, "type");
        if (!cJSON_IsObject(rf) || !cJSON_IsString(t)) {
            *res = http_error(r, 400, "invalid_type",
                              "'response_format' must be an object with a string 'type'");
            return false;
        }
        if (strcmp(t->valuestring, "json_object") == 0) {
            j->p.json = true;
        } else if (strcmp(t->valuestring, "json_schema") == 0) {
            return json_schema_format(r, rf, j, res);
        } else if (strcmp(t->valuestring, "text") != 0) {
            *res = http_error(r, 400, "invalid_value",
                              "response_format type must be text, json_object or json_schema");
            return false;
        }
    }
    return true;
}

static http_result complete(http_req *r, bool chat) {
    http_result res = MHD_NO;
    cJSON *b = http_body_object(r, &res);
    if (!b) return res;
    job *j = job_new(chat ? JOB_CHAT : JOB_COMPLETION);
    model_entry *e = NULL;
    bool stream_on = false, usage = false;
    char msg[300];
    if (!j) {
        res = http_error(r, 500, "server_error", "out of memory");
        goto out;
    }
    j->p.n_predict = r->srv->cfg->n_predict;
    if (!(e = http_model(r, b, &res))) goto out;
    if (chat) {
        if (!req_messages(b, j, msg, sizeof msg)) {
            res = http_error(r, 400, "invalid_value", "%s", msg);
            goto out;
        }
    } else {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(b, "prompt");
        if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1) p = cJSON_GetArrayItem(p, 0);
        if (!cJSON_IsString(p)) {
            res = http_error(r, 400, "invalid_value",
                             p ? "'prompt' must be a string (or an array of one string)" : "'prompt' is required");
            goto out;
        }
        if (!(j->prompt = strdup(p->valuestring))) goto out;
    }
    if (!common(r, b, j, chat, &stream_on, &usage, &res)) goto out;
    stream tmpl = {.created = now_unix(), .include_usage = usage};
    make_id(tmpl.id, sizeof tmpl.id, chat ? "chatcmpl-" : "cmpl-");
    if (stream_on) {
        cJSON_Delete(b);
        return stream_respond(r, e, j, chat ? &CHAT_SSE : &TEXT_SSE, &tmpl);
    }
    if (!job_run(r, e, j, &res)) goto out;
    cJSON *o = envelope(tmpl.id, chat ? "chat.completion" : "text_completion", tmpl.created, e->name);
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (chat) {
        cJSON *m = cJSON_AddObjectToObject(c, "message");
        cJSON_AddStringToObject(m, "role", "assistant");
        cJSON_AddStringToObject(m, "content", j->out ? j->out : "");
    } else {
        cJSON_AddStringToObject(c, "text", j->out ? j->out : "");
    }
    if (j->p.top_logprobs < 0) cJSON_AddNullToObject(c, "logprobs");
    else cJSON_AddItemToObject(c, "logprobs", chat ? logprobs_chat_json(j, 0, j->n_lp)
                                                   : logprobs_legacy_json(j, 0, j->n_lp));
    cJSON_AddStringToObject(c, "finish_reason", strcmp(j->finish, "length") == 0 ? "length" : "stop");
    cJSON_AddItemToObject(o, "usage", usage_of(j));
    cJSON_AddItemToObject(o, "timings", timings_of(j));
    res = http_json(r, 200, o);
out:
    cJSON_Delete(b);
    job_release(j);
    return res;
}

http_result openai_chat(http_req *r) { return complete(r, true); }
http_result openai_completions(http_req *r) { return complete(r, false); }

http_result openai_models(http_req *r) {
    model_entry **v = NULL;
    int n = registry_list(&r->srv->reg, &v);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(o, "data");
    for (int i = 0; i < n; i++) {
        registry_describe(v[i]);
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "id", v[i]->name);
        cJSON_AddStringToObject(m, "object", "model");
        cJSON_AddNumberToObject(m, "created", (double)(v[i]->mtime ? v[i]->mtime : r->srv->started));
        cJSON_AddStringToObject(m, "owned_by", "umi");
        cJSON_AddItemToArray(data, m);
    }
    free(v);
    return http_json(r, 200, o);
}
