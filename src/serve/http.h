/* The HTTP side of the server: one request being answered, the helpers that
 * answer it, streaming, and the route handlers. */
#ifndef UMI_SERVE_HTTP_H
#define UMI_SERVE_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "serve.h"

typedef struct server {
    const serve_config *cfg;
    registry reg;
    int64_t started;        /* Unix seconds */
    atomic_uint_fast64_t n_requests;
} server;

typedef struct http_req {
    server *srv;
    struct MHD_Connection *conn;
    const char *url, *method;
    char *body;             /* NUL-terminated */
    size_t len, cap;
    bool too_big;
    bool openai;            /* /v1/...: errors in OpenAI's shape */
    int status;             /* what we answered, for the log line */
} http_req;

typedef enum MHD_Result http_result;

/* Answer with a JSON value (ownership taken). */
http_result http_json(http_req *r, int status, cJSON *obj);
/* Answer with an error in the route's shape: {"error":{"message","type","code"}} on
 * /v1, {"error":"..."} elsewhere. */
http_result http_error(http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
http_result http_text(http_req *r, int status, const char *content_type, const char *text);
/* The body as a JSON object; NULL after answering 400 (*res holds the result). */
cJSON *http_body_object(http_req *r, http_result *res);
/* The model a request names ("model"; Ollama's legacy "name" too); NULL after
 * answering 400/404. */
model_entry *http_model(http_req *r, const cJSON *body, http_result *res);
/* The connection's socket, to notice a client that went away. */
int http_fd(http_req *r);

/* ---------------------------------------------------------------- stream.c */

typedef struct stream stream;

/* How a route writes its stream: an interface, one per wire format. */
typedef struct stream_fmt {
    const char *content_type;
    void (*delta)(stream *s, const char *text, size_t n); /* new text */
    void (*done)(stream *s);                             /* the last record(s) */
    void (*error)(stream *s, const char *msg);           /* failure after the headers */
    /* optional: the logprobs of tokens from..to, built under the job's lock
     * and handed to the next delta or done in stream.lp_pending */
    cJSON *(*logprobs)(const job *j, int from, int to);
} stream_fmt;

struct stream {
    job *j;
    const stream_fmt *fmt;
    model_entry *e;
    char id[48];
    int64_t created;        /* Unix seconds */
    bool include_usage;     /* OpenAI stream_options.include_usage */
    bool sent_role;
    int fd;
    size_t seen;            /* bytes of j->out already formatted */
    int lp_seen;            /* logprob entries already formatted */
    cJSON *lp_pending;      /* logprobs for the next chunk (owned), or NULL */
    bool finished;
    char *buf;              /* formatted bytes not yet handed to libmicrohttpd */
    size_t len, pos, cap;
};

/* Append formatted bytes to the stream's buffer. */
void stream_put(stream *s, const char *bytes, size_t n);
/* Append prefix + JSON(obj) + suffix; obj is freed. */
void stream_put_json(stream *s, const char *prefix, cJSON *obj, const char *suffix);

/* Submit j to e and answer: waits until the worker accepts the job (or fails
 * it: then an error reply), then streams with fmt. tmpl gives id, created,
 * include_usage. Takes over the caller's reference to j. */
http_result stream_respond(http_req *r, model_entry *e, job *j, const stream_fmt *fmt,
                           const stream *tmpl);
/* Submit j to e and wait until it ends. false: the client went away (the job
 * is cancelled) or it failed and an error was answered (*res). */
bool job_run(http_req *r, model_entry *e, job *j, http_result *res);

/* ---------------------------------------------------------------- logprobs.c */

/* The logprobs of generated tokens from..to (j->mu held, or the job done):
 * chat's {"content":[...]} and the completions API's legacy shape. */
cJSON *logprobs_chat_json(const job *j, int from, int to);
cJSON *logprobs_legacy_json(const job *j, int from, int to);

/* ---------------------------------------------------------------- routes */

http_result openai_chat(http_req *r);
http_result openai_completions(http_req *r);
http_result openai_models(http_req *r);
http_result ollama_chat(http_req *r);
http_result ollama_generate(http_req *r);
http_result ollama_tags(http_req *r);
http_result ollama_ps(http_req *r);
http_result ollama_show(http_req *r);
http_result ollama_version(http_req *r);
http_result openai_embeddings(http_req *r); /* routes_embed.c */
http_result ollama_embed(http_req *r);
http_result ollama_embeddings(http_req *r); /* the legacy /api/embeddings */
http_result route_metrics(http_req *r); /* metrics.c: Prometheus text */

http_result route_slots(http_req *r);  /* routes_slots.c: POST /slots/{id}?action=save|restore */
/* lifecycle.c: Ollama's "keep_alive" (absent or null leaves *ms); false with a message naming it. */
bool req_keep_alive(const cJSON *body, int64_t *ms, char *msg, size_t len);

/* Shared by the routes: Unix seconds, and Ollama's RFC 3339 time with nanoseconds. */
int64_t now_unix(void);
void rfc3339_now(char *buf, size_t len);
void rfc3339(int64_t unix_s, char *buf, size_t len);

#endif
