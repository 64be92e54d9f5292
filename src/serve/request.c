/* Request fields both APIs share: chat messages and sampling options. Each
 * parser checks types and ranges and says which field was wrong, so a bad
 * request gets a 400 naming it instead of being half-understood. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

static bool fail(char *msg, size_t len, const char *fmt, const char *field) {
    snprintf(msg, len, fmt, field);
    return false;
}

/* A message's content: a string, null, or OpenAI's array of parts (the text
 * parts are joined; images are refused since no model here can see them). */
static char *content_text(const cJSON *c, char *msg, size_t len) {
    if (!c || cJSON_IsNull(c)) return strdup("");
    if (cJSON_IsString(c)) return strdup(c->valuestring);
    if (!cJSON_IsArray(c)) {
        fail(msg, len, "'%s' must be a string or an array of parts", "content");
        return NULL;
    }
    size_t total = 1;
    const cJSON *part;
    cJSON_ArrayForEach(part, c) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0 || !cJSON_IsString(text)) {
            fail(msg, len, "%s: only parts of type \"text\" with a string \"text\" are supported",
                 "content");
            return NULL;
        }
        total += strlen(text->valuestring);
    }
    char *out = malloc(total);
    if (!out) return NULL;
    out[0] = 0;
    cJSON_ArrayForEach(part, c) strcat(out, cJSON_GetObjectItemCaseSensitive(part, "text")->valuestring);
    return out;
}

bool req_messages(const cJSON *body, job *j, char *msg, size_t len) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!m) return fail(msg, len, "'%s' is required", "messages");
    if (!cJSON_IsArray(m)) return fail(msg, len, "'%s' must be an array", "messages");
    int n = cJSON_GetArraySize(m);
    if (n == 0) return fail(msg, len, "'%s' must not be empty", "messages");
    j->msgs = calloc((size_t)n, sizeof *j->msgs);
    if (!j->msgs) return fail(msg, len, "%s", "out of memory");
    const cJSON *it;
    cJSON_ArrayForEach(it, m) {
        if (!cJSON_IsObject(it)) return fail(msg, len, "each of '%s' must be an object", "messages");
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(it, "role");
        if (!cJSON_IsString(role) || !role->valuestring[0])
            return fail(msg, len, "each message needs a string '%s'", "role");
        char *text = content_text(cJSON_GetObjectItemCaseSensitive(it, "content"), msg, len);
        if (!text) return false;
        char *r = strdup(role->valuestring);
        if (!r) { free(text); return fail(msg, len, "%s", "out of memory"); }
        j->msgs[j->n_msgs++] = (umi_chat_message){.role = r, .content = text};
    }
    return true;
}

/* ---------------------------------------------------------------- numbers */

/* A number field in [lo, hi]; absent or null leaves *dst. */
static bool get_num(const cJSON *o, const char *key, double lo, double hi, double *dst, char *msg,
                    size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return fail(msg, len, "'%s' must be a number", key);
    if (v->valuedouble < lo || v->valuedouble > hi) {
        snprintf(msg, len, "'%s' must be between %g and %g", key, lo, hi);
        return false;
    }
    *dst = v->valuedouble;
    return true;
}

static bool get_float(const cJSON *o, const char *key, double lo, double hi, float *dst, char *msg,
                      size_t len) {
    double d = *dst;
    if (!get_num(o, key, lo, hi, &d, msg, len)) return false;
    *dst = (float)d;
    return true;
}

static bool get_int(const cJSON *o, const char *key, double lo, double hi, int32_t *dst, char *msg,
                    size_t len) {
    double d = *dst;
    if (!get_num(o, key, lo, hi, &d, msg, len)) return false;
    if (d != floor(d)) return fail(msg, len, "'%s' must be an integer", key);
    *dst = (int32_t)d;
    return true;
}

bool req_bool(const cJSON *o, const char *key, bool *dst, char *msg, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsBool(v)) return fail(msg, len, "'%s' must be true or false", key);
    *dst = cJSON_IsTrue(v);
    return true;
}

static bool get_seed(const cJSON *o, const char *key, job_params *p, char *msg, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return fail(msg, len, "'%s' must be an integer", key);
    p->sp.seed = (uint64_t)(int64_t)v->valuedouble;
    return true;
}

static bool get_stop(const cJSON *o, job_params *p, char *msg, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "stop");
    if (!v || cJSON_IsNull(v)) return true;
    int n = cJSON_IsString(v) ? 1 : cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 0) return fail(msg, len, "'%s' must be a string or an array of strings", "stop");
    if (n > 16) return fail(msg, len, "'%s' takes at most 16 strings", "stop");
    p->stop = calloc((size_t)(n ? n : 1), sizeof *p->stop);
    if (!p->stop) return fail(msg, len, "%s", "out of memory");
    if (cJSON_IsString(v)) {
        p->stop[p->n_stop++] = strdup(v->valuestring);
        return true;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, v) {
        if (!cJSON_IsString(s)) return fail(msg, len, "'%s' must be a string or an array of strings", "stop");
        p->stop[p->n_stop++] = strdup(s->valuestring);
    }
    return true;
}

static void default_seed(job_params *p) {
    static atomic_uint_fast64_t counter;
    p->sp.seed = (uint64_t)umi_time_us() ^ (atomic_fetch_add(&counter, 1) * 0x9E3779B97F4A7C15ull);
}

bool req_openai_params(const cJSON *b, job_params *p, char *msg, size_t len) {
    default_seed(p);
    int32_t n = 1, max_tokens = p->n_predict;
    if (!get_float(b, "temperature", 0, 2, &p->sp.temp, msg, len)) return false;
    if (!get_float(b, "top_p", 0, 1, &p->sp.top_p, msg, len)) return false;
    /* llama-server's extensions, accepted as it does */
    if (!get_int(b, "top_k", -1, 1e9, &p->sp.top_k, msg, len)) return false;
    if (!get_float(b, "min_p", 0, 1, &p->sp.min_p, msg, len)) return false;
    if (!get_float(b, "repeat_penalty", 0, 10, &p->sp.repeat_penalty, msg, len)) return false;
    if (!get_int(b, "max_tokens", 0, 1e9, &max_tokens, msg, len)) return false;
    if (!get_int(b, "max_completion_tokens", 0, 1e9, &max_tokens, msg, len)) return false;
    if (!get_int(b, "n", 1, 1e9, &n, msg, len)) return false;
    if (n != 1) return fail(msg, len, "'%s' > 1 is not supported", "n");
    p->n_predict = max_tokens;
    if (!get_seed(b, "seed", p, msg, len)) return false;
    if (!req_bool(b, "cache_prompt", &p->cache_prompt, msg, len)) return false;
    if (!get_float(b, "frequency_penalty", -2, 2, &(float){0}, msg, len)) return false;
    if (!get_float(b, "presence_penalty", -2, 2, &(float){0}, msg, len)) return false;
    return get_stop(b, p, msg, len);
}

bool req_ollama_params(const cJSON *b, job_params *p, char *msg, size_t len) {
    default_seed(p);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, "options");
    if (!o || cJSON_IsNull(o)) return true;
    if (!cJSON_IsObject(o)) return fail(msg, len, "'%s' must be an object", "options");
    int32_t num_ctx = 0, last_n = p->sp.repeat_last_n;
    if (!get_float(o, "temperature", 0, 100, &p->sp.temp, msg, len)) return false;
    if (!get_int(o, "top_k", -1, 1e9, &p->sp.top_k, msg, len)) return false;
    if (!get_float(o, "top_p", 0, 1, &p->sp.top_p, msg, len)) return false;
    if (!get_float(o, "min_p", 0, 1, &p->sp.min_p, msg, len)) return false;
    if (!get_float(o, "repeat_penalty", 0, 100, &p->sp.repeat_penalty, msg, len)) return false;
    if (!get_int(o, "repeat_last_n", -1, 1e9, &last_n, msg, len)) return false;
    if (!get_int(o, "num_ctx", 0, 1 << 24, &num_ctx, msg, len)) return false;
    if (!get_int(o, "num_predict", -2, 1e9, &p->n_predict, msg, len)) return false;
    if (p->n_predict < 0) p->n_predict = -1; /* -1 infinite, -2 fill the context: the same here */
    p->sp.repeat_last_n = last_n;
    p->n_ctx = (uint32_t)num_ctx;
    if (!get_seed(o, "seed", p, msg, len)) return false;
    return get_stop(o, p, msg, len);
}

bool req_string(const cJSON *o, const char *key, bool required, char **dst, char *msg, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (required) return fail(msg, len, "'%s' is required", key);
        return true;
    }
    if (!cJSON_IsString(v)) return fail(msg, len, "'%s' must be a string", key);
    *dst = strdup(v->valuestring);
    if (!*dst) return fail(msg, len, "%s", "out of memory");
    return true;
}

bool req_top_logprobs(const cJSON *o, const char *key, job_params *p, char *msg, size_t len) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return true;
    int32_t n = 0;
    if (!get_int(o, key, 0, LP_MAX_TOP, &n, msg, len)) return false;
    p->top_logprobs = n;
    return true;
}

bool req_logprobs(const cJSON *o, job_params *p, char *msg, size_t len) {
    bool on = false;
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(o, "top_logprobs");
    if (!req_bool(o, "logprobs", &on, msg, len)) return false;
    if (!on && top && !cJSON_IsNull(top))
        return fail(msg, len, "'%s' needs 'logprobs': true", "top_logprobs");
    if (!on) return true;
    p->top_logprobs = 0;
    return req_top_logprobs(o, "top_logprobs", p, msg, len);
}

bool req_json_schema(const cJSON *schema, job_params *p, char *msg, size_t len) {
    char *text = cJSON_PrintUnformatted(schema);
    if (!text) return fail(msg, len, "%s", "out of memory");
    umi_error err = {0};
    if (umi_json_schema_check(text, strlen(text), &err) != UMI_OK) {
        snprintf(msg, len, "JSON schema not supported: %s", err.msg);
        cJSON_free(text);
        return false;
    }
    free(p->json_schema);
    p->json_schema = strdup(text);
    cJSON_free(text);
    if (!p->json_schema) return fail(msg, len, "%s", "out of memory");
    p->json = true;
    return true;
}
