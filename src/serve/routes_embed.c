/* Embeddings: OpenAI's POST /v1/embeddings, Ollama's POST /api/embed and its
 * legacy POST /api/embeddings. The worker pools each input's final-norm
 * hidden states (umi_embed: the model's pooling type, mean for decoder LLMs)
 * and L2-normalizes them, as both services return them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "request.h"

enum { MAX_INPUTS = 2048 }; /* OpenAI's limit on inputs per request */

static bool add_text(job *j, const char *text, char *msg, size_t len) {
    if (!text[0]) {
        snprintf(msg, len, "input %d is an empty string", j->n_inputs);
        return false;
    }
    if (!(j->inputs[j->n_inputs].text = strdup(text))) {
        snprintf(msg, len, "out of memory");
        return false;
    }
    j->n_inputs++;
    return true;
}

/* An array of token ids as one input. */
static bool add_tokens(job *j, const cJSON *arr, char *msg, size_t len) {
    const int n = cJSON_GetArraySize(arr);
    embed_input *in = &j->inputs[j->n_inputs];
    if (n == 0) {
        snprintf(msg, len, "input %d is an empty token list", j->n_inputs);
        return false;
    }
    if (!(in->toks = malloc((size_t)n * sizeof *in->toks))) {
        snprintf(msg, len, "out of memory");
        return false;
    }
    j->n_inputs++; /* owned by the job from here */
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        if (!cJSON_IsNumber(t) || t->valuedouble != (double)(int32_t)t->valuedouble) {
            snprintf(msg, len, "input %d: token ids must be integers", j->n_inputs - 1);
            return false;
        }
        in->toks[in->n_toks++] = (umi_token)t->valuedouble;
    }
    return true;
}

/* "input": a string, an array of strings, and (OpenAI) an array of token
 * ids or an array of such arrays. */
static bool parse_inputs(const cJSON *v, bool tokens_ok, job *j, char *msg, size_t len) {
    if (!v || cJSON_IsNull(v)) {
        snprintf(msg, len, "'input' is required");
        return false;
    }
    const int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 1;
    if (!cJSON_IsString(v) && !cJSON_IsArray(v)) {
        snprintf(msg, len, "'input' must be a string or an array of strings%s",
                 tokens_ok ? " or token ids" : "");
        return false;
    }
    if (n == 0 || n > MAX_INPUTS) {
        snprintf(msg, len, "'input' must hold 1 to %d items", MAX_INPUTS);
        return false;
    }
    if (!(j->inputs = calloc((size_t)n, sizeof *j->inputs))) {
        snprintf(msg, len, "out of memory");
        return false;
    }
    if (cJSON_IsString(v)) return add_text(j, v->valuestring, msg, len);
    if (tokens_ok && cJSON_IsNumber(cJSON_GetArrayItem(v, 0))) return add_tokens(j, v, msg, len);
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        bool ok;
        if (cJSON_IsString(it)) {
            ok = add_text(j, it->valuestring, msg, len);
        } else if (tokens_ok && cJSON_IsArray(it)) {
            ok = add_tokens(j, it, msg, len);
        } else {
            snprintf(msg, len, "each item of 'input' must be a string%s",
                     tokens_ok ? " or an array of token ids" : "");
            ok = false;
        }
        if (!ok) return false;
    }
    return true;
}

/* Standard base64 (RFC 4648) of the vector's float32 bytes, little-endian as
 * OpenAI's encoding_format "base64" sends them. */
static cJSON *base64_floats(const float *v, int n) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const size_t nb = (size_t)n * 4;
    unsigned char *b = malloc(nb);
    char *out = malloc((nb + 2) / 3 * 4 + 1), *o = out;
    if (!b || !out) {
        free(b);
        free(out);
        return cJSON_CreateString("");
    }
    for (int i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        for (int k = 0; k < 4; k++) b[(size_t)i * 4 + k] = (unsigned char)(u >> (8 * k));
    }
    for (size_t i = 0; i < nb; i += 3) {
        const uint32_t x = (uint32_t)b[i] << 16 | (i + 1 < nb ? (uint32_t)b[i + 1] << 8 : 0) |
                           (i + 2 < nb ? b[i + 2] : 0);
        *o++ = A[x >> 18 & 63];
        *o++ = A[x >> 12 & 63];
        *o++ = i + 1 < nb ? A[x >> 6 & 63] : '=';
        *o++ = i + 2 < nb ? A[x & 63] : '=';
    }
    *o = 0;
    cJSON *s = cJSON_CreateString(out);
    free(b);
    free(out);
    return s;
}

static const float *vec(const job *j, int i) { return j->embd + (size_t)i * j->n_embd; }
static cJSON *vector(const job *j, int i, int n) { return cJSON_CreateFloatArray(vec(j, i), n); }

/* OpenAI's `dimensions`: the first n components, scaled back to unit length
 * (the vectors are L2-normalized; a shortened one is renormalized). */
static void shorten(job *j, int n) {
    for (int i = 0; i < j->n_inputs; i++) {
        float *v = j->embd + (size_t)i * j->n_embd;
        double ss = 0.0;
        for (int d = 0; d < n; d++) ss += (double)v[d] * v[d];
        const float inv = ss > 0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (int d = 0; d < n; d++) v[d] *= inv;
    }
}

typedef enum { API_OPENAI, API_OLLAMA, API_OLLAMA_LEGACY } api;

static http_result embed(http_req *r, api which) {
    http_result res = MHD_NO;
    cJSON *b = http_body_object(r, &res);
    if (!b) return res;
    char msg[300];
    model_entry *e = NULL;
    bool b64 = false;
    int dims = 0; /* OpenAI `dimensions`: 0 = the model's */
    job *j = job_new(JOB_EMBED);
    if (!j) {
        res = http_error(r, 500, "server_error", "out of memory");
        goto out;
    }
    if (!(e = http_model(r, b, &res))) goto out;
    j->p.truncate = which != API_OPENAI; /* Ollama's "truncate" defaults to true */
    bool ok;
    if (which == API_OPENAI) {
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(b, "encoding_format");
        const cJSON *dims_j = cJSON_GetObjectItemCaseSensitive(b, "dimensions");
        ok = parse_inputs(cJSON_GetObjectItemCaseSensitive(b, "input"), true, j, msg, sizeof msg);
        if (ok && fmt && !cJSON_IsNull(fmt)) {
            b64 = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "base64") == 0;
            ok = b64 || (cJSON_IsString(fmt) && strcmp(fmt->valuestring, "float") == 0);
            if (!ok) snprintf(msg, sizeof msg, "'encoding_format' must be \"float\" or \"base64\"");
        }
        if (ok && dims_j && !cJSON_IsNull(dims_j)) {
            ok = cJSON_IsNumber(dims_j) && dims_j->valuedouble >= 1 && dims_j->valuedouble <= 1e6 &&
                 dims_j->valuedouble == (double)(int)dims_j->valuedouble;
            if (ok) dims = (int)dims_j->valuedouble;
            else snprintf(msg, sizeof msg, "'dimensions' must be a positive integer");
        }
    } else if (which == API_OLLAMA) {
        ok = parse_inputs(cJSON_GetObjectItemCaseSensitive(b, "input"), false, j, msg, sizeof msg) &&
             req_bool(b, "truncate", &j->p.truncate, msg, sizeof msg) &&
             req_ollama_params(b, &j->p, msg, sizeof msg);
    } else {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(b, "prompt");
        ok = cJSON_IsString(p) && parse_inputs(p, false, j, msg, sizeof msg) &&
             req_ollama_params(b, &j->p, msg, sizeof msg);
        if (!cJSON_IsString(p)) snprintf(msg, sizeof msg, "'prompt' must be a string");
    }
    if (!ok) {
        res = http_error(r, 400, "invalid_value", "%s", msg);
        goto out;
    }
    if (!job_run(r, e, j, &res)) goto out;
    if (dims > j->n_embd) {
        res = http_error(r, 400, "invalid_value", "'dimensions' %d exceeds the model's %d", dims, j->n_embd);
        goto out;
    }
    const int n_out = dims ? dims : j->n_embd;
    if (dims) shorten(j, dims);
    cJSON *o = cJSON_CreateObject();
    if (which == API_OPENAI) {
        cJSON_AddStringToObject(o, "object", "list");
        cJSON *data = cJSON_AddArrayToObject(o, "data");
        for (int i = 0; i < j->n_inputs; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "object", "embedding");
            cJSON_AddNumberToObject(d, "index", i);
            cJSON *v = b64 ? base64_floats(vec(j, i), n_out) : vector(j, i, n_out);
            cJSON_AddItemToObject(d, "embedding", v);
            cJSON_AddItemToArray(data, d);
        }
        cJSON_AddStringToObject(o, "model", e->name);
        cJSON *u = cJSON_AddObjectToObject(o, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", j->n_prompt);
        cJSON_AddNumberToObject(u, "total_tokens", j->n_prompt);
    } else if (which == API_OLLAMA) {
        cJSON_AddStringToObject(o, "model", e->name);
        cJSON *arr = cJSON_AddArrayToObject(o, "embeddings");
        for (int i = 0; i < j->n_inputs; i++) cJSON_AddItemToArray(arr, vector(j, i, n_out));
        cJSON_AddNumberToObject(o, "total_duration", (double)(j->t_end - j->t_queued) * 1e3);
        cJSON_AddNumberToObject(o, "load_duration", (double)j->load_us * 1e3);
        cJSON_AddNumberToObject(o, "prompt_eval_count", j->n_prompt);
    } else {
        cJSON_AddItemToObject(o, "embedding", vector(j, 0, n_out));
    }
    res = http_json(r, 200, o);
out:
    cJSON_Delete(b);
    job_release(j);
    return res;
}

http_result openai_embeddings(http_req *r) { return embed(r, API_OPENAI); }
http_result ollama_embed(http_req *r) { return embed(r, API_OLLAMA); }
http_result ollama_embeddings(http_req *r) { return embed(r, API_OLLAMA_LEGACY); }
