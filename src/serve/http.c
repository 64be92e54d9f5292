/* The HTTP daemon (libmicrohttpd, one thread per connection so a handler may
 * wait for its job), request bodies with a size limit, the API key check,
 * routing, and the JSON/error replies every route uses. serve_run also owns
 * start-up and the orderly shutdown on SIGINT/SIGTERM. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

/* ---------------------------------------------------------------- replies */

static http_result respond(http_req *r, int status, const char *ctype, char *text, size_t len) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    r->status = status;
    http_result res = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return res;
}

http_result http_json(http_req *r, int status, cJSON *obj) {
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) return MHD_NO;
    return respond(r, status, "application/json", text, strlen(text));
}

http_result http_text(http_req *r, int status, const char *content_type, const char *text) {
    char *copy = strdup(text);
    if (!copy) return MHD_NO;
    return respond(r, status, content_type, copy, strlen(copy));
}

static const char *openai_type(int status) {
    switch (status) {
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: case 503: return "unavailable_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

http_result http_error(http_req *r, int status, const char *code, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    if (r->openai) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddStringToObject(e, "type", openai_type(status));
        cJSON_AddStringToObject(e, "code", code);
    } else {
        cJSON_AddStringToObject(o, "error", msg);
    }
    if (r->srv->cfg->verbose) fprintf(stderr, "umi serve: %s %s -> %d %s\n", r->method, r->url, status, msg);
    return http_json(r, status, o);
}

cJSON *http_body_object(http_req *r, http_result *res) {
    if (r->len == 0) {
        *res = http_error(r, 400, "invalid_json", "the request body is empty; a JSON object is expected");
        return NULL;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(r->body, r->len, &end, false);
    /* Only whitespace may follow the value (an embedded NUL or a second value is malformed). */
    while (o && end < r->body + r->len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')) end++;
    if (o && end != r->body + r->len) {
        cJSON_Delete(o);
        o = NULL;
    }
    if (!o) {
        size_t at = end ? (size_t)(end - r->body) : 0;
        *res = http_error(r, 400, "invalid_json", "malformed JSON in the request body near byte %zu", at);
        return NULL;
    }
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        *res = http_error(r, 400, "invalid_json", "the request body must be a JSON object");
        return NULL;
    }
    return o;
}

model_entry *http_model(http_req *r, const cJSON *body, http_result *res) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "model");
    if (!m || cJSON_IsNull(m)) m = cJSON_GetObjectItemCaseSensitive(body, "name");
    if (!m || cJSON_IsNull(m)) {
        model_entry *e = registry_default(&r->srv->reg);
        if (!e) *res = http_error(r, 400, "missing_model", "'model' is required (several models are served)");
        return e;
    }
    if (!cJSON_IsString(m)) {
        *res = http_error(r, 400, "invalid_type", "'model' must be a string");
        return NULL;
    }
    model_entry *e = registry_find(&r->srv->reg, m->valuestring);
    if (!e) *res = http_error(r, 404, "model_not_found", "model '%.200s' not found", m->valuestring);
    return e;
}

int http_fd(http_req *r) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

int64_t now_unix(void) { return (int64_t)time(NULL); }

void rfc3339(int64_t unix_s, char *buf, size_t len) {
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void rfc3339_now(char *buf, size_t len) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%09ldZ", base, (long)ts.tv_nsec);
}

/* ---------------------------------------------------------------- small routes */

/* Also how busy the server is (counters only; no model is touched). */
static http_result route_health(http_req *r) {
    model_entry **v = NULL;
    int n = registry_list(&r->srv->reg, &v), loaded = 0, busy = 0, queued = 0;
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->mu);
        loaded += v[i]->loaded;
        busy += v[i]->n_active;
        queued += v[i]->q_len;
        pthread_mutex_unlock(&v[i]->mu);
    }
    free(v);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddNumberToObject(o, "models_loaded", loaded);
    cJSON_AddNumberToObject(o, "slots_busy", busy);
    cJSON_AddNumberToObject(o, "requests_queued", queued);
    return http_json(r, 200, o);
}

static http_result route_root(http_req *r) {
    return http_text(r, 200, "text/plain; charset=utf-8", "umi is running");
}

/* ---------------------------------------------------------------- routing */

typedef struct route {
    const char *method, *path;
    http_result (*fn)(http_req *r);
    bool open; /* no API key needed */
} route;

static const route ROUTES[] = {
    {"GET", "/health", route_health, true},
    {"GET", "/", route_root, true},
    {"HEAD", "/", route_root, true},
    {"GET", "/v1/models", openai_models, false},
    {"POST", "/v1/chat/completions", openai_chat, false},
    {"POST", "/v1/completions", openai_completions, false},
    {"POST", "/api/chat", ollama_chat, false},
    {"POST", "/api/generate", ollama_generate, false},
    {"GET", "/api/tags", ollama_tags, false},
    {"GET", "/api/ps", ollama_ps, false},
    {"POST", "/api/show", ollama_show, false},
    {"GET", "/api/version", ollama_version, false},
    {"GET", "/metrics", route_metrics, false},
    {"POST", "/v1/embeddings", openai_embeddings, false},
    {"POST", "/api/embed", ollama_embed, false},
    {"POST", "/api/embeddings", ollama_embeddings, false},
};

/* Constant time, so the key cannot be guessed a byte at a time from timings. */
static bool key_ok(const char *header, const char *key) {
    static const char bearer[] = "Bearer ";
    if (!header || strncmp(header, bearer, sizeof bearer - 1) != 0) return false;
    header += sizeof bearer - 1;
    size_t hl = strlen(header), kl = strlen(key);
    unsigned char diff = hl != kl;
    for (size_t i = 0; i < hl && i < kl; i++) diff |= (unsigned char)(header[i] ^ key[i]);
    return diff == 0;
}

static http_result dispatch(http_req *r) {
    const route *hit = NULL;
    bool path_known = false;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++) {
        if (strcmp(r->url, ROUTES[i].path) != 0) continue;
        path_known = true;
        if (strcmp(r->method, ROUTES[i].method) == 0) hit = &ROUTES[i];
    }
    static const route SLOTS = {"POST", "/slots/{id}", route_slots, false}; /* the one path with a parameter */
    if (strncmp(r->url, "/slots/", 7) == 0) {
        path_known = true;
        if (strcmp(r->method, SLOTS.method) == 0) hit = &SLOTS;
    }
    if (!path_known) return http_error(r, 404, "not_found", "no such endpoint: %s %.200s", r->method, r->url);
    if (!hit) return http_error(r, 405, "method_not_allowed", "%s is not allowed on %s", r->method, r->url);
    const char *key = r->srv->cfg->api_key;
    if (key && !hit->open &&
        !key_ok(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization"), key))
        return http_error(r, 401, "invalid_api_key", "a valid API key is required (Authorization: Bearer KEY)");
    if (r->too_big)
        return http_error(r, 413, "body_too_large", "the request body exceeds the %zu-byte limit",
                          r->srv->cfg->max_body);
    atomic_fetch_add(&r->srv->n_requests, 1);
    return hit->fn(r);
}

static http_result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    server *srv = cls;
    http_req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->srv = srv;
        r->conn = conn;
        r->url = url;
        r->method = method;
        r->openai = strncmp(url, "/v1/", 4) == 0;
        *con_cls = r;
        /* Refuse a declared oversize body before reading it. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > srv->cfg->max_body) {
            r->too_big = true;
            return http_error(r, 413, "body_too_large", "the request body exceeds the %zu-byte limit",
                              srv->cfg->max_body);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_big || r->len + n > srv->cfg->max_body) {
            r->too_big = true; /* keep reading (and dropping) so the reply can be sent */
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = (r->len + n + 1) * 2;
            if (cap > srv->cfg->max_body + 1) cap = srv->cfg->max_body + 1;
            char *b = realloc(r->body, cap);
            if (!b) return MHD_NO;
            r->body = b;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        r->body[r->len] = 0;
        return MHD_YES;
    }
    if (r->status) return MHD_YES; /* already answered (the early 413) */
    if (!r->body) r->body = calloc(1, 1);
    if (!r->body) return MHD_NO;
    return dispatch(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    http_req *r = *con_cls;
    if (!r) return;
    if (r->srv->cfg->verbose) fprintf(stderr, "umi serve: %s %s %d\n", r->method, r->url, r->status);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    server *srv = cls;
    if (!srv->cfg->verbose) return;
    fprintf(stderr, "umi serve: microhttpd: ");
    vfprintf(stderr, fmt, ap);
}

/* ---------------------------------------------------------------- start and stop */

int serve_run(const serve_config *cfg) {
    server srv = {.cfg = cfg, .started = now_unix()};
    char msg[600];
    if (registry_init(&srv.reg, cfg, msg, sizeof msg) != 0) {
        fprintf(stderr, "umi: %s\n", msg);
        registry_free(&srv.reg);
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port)};
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1) {
        fprintf(stderr, "umi: --host %s is not an IPv4 address\n", cfg->host);
        registry_free(&srv.reg);
        return 1;
    }
    /* Signals go to this thread only (blocked before any other thread starts). */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
            MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, on_request, &srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, &srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, &srv,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "umi: cannot listen on %s:%d (in use, or not an address of this machine)\n",
                cfg->host, cfg->port);
        registry_free(&srv.reg);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    int port = di ? di->port : cfg->port;
    fprintf(stderr, "umi serve: listening on http://%s:%d (%d model%s)\n", cfg->host, port,
            srv.reg.n, srv.reg.n == 1 ? "" : "s");
    if (cfg->port_file) {
        FILE *f = fopen(cfg->port_file, "w");
        if (f) fprintf(f, "%d\n", port), fclose(f);
    }
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "umi serve: %s, shutting down\n", sig == SIGINT ? "interrupted" : "terminated");
    /* Order matters: stop accepting, let the workers fail what is queued (so
     * waiting handlers return), then join the connection threads, then free. */
    MHD_quiesce_daemon(d);
    registry_stop(&srv.reg);
    MHD_stop_daemon(d);
    registry_free(&srv.reg);
    return 0;
}
