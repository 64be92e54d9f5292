/* serve.h — `umi serve`, an OpenAI- and Ollama-compatible HTTP server built on
 * the public API (include/umi.h) only, as any embedding program would be.
 *
 * The pieces, one file each:
 *   http.c            libmicrohttpd daemon: request bodies, auth, routing, JSON replies
 *   stream.c          waiting for a job and streaming its text (SSE / NDJSON), disconnects
 *   request.c         JSON request fields shared by both APIs (messages, sampling options)
 *   routes_openai.c   /v1/chat/completions, /v1/completions, /v1/models
 *   routes_ollama.c   /api/chat, /api/generate, /api/tags, /api/ps, /api/show, /api/version
 *   routes_embed.c    /v1/embeddings, /api/embed, /api/embeddings
 *   logprobs.c        recording a token's log-probabilities and formatting them
 *   embed_job.c       an embedding job's inputs, tokenized on the model's thread
 *   queue.c           a job: the request handed to a model's thread and the text it produces
 *   registry.c        which models exist (-m files, --models-dir) and their per-model queue
 *   lifecycle.c       keep_alive, --max-models, the memory budget and LRU eviction of idle models
 *   routes_slots.c    POST /slots/{id}?action=save|restore (KV state files in --slot-save-path)
 *   worker.c          one inference thread per loaded model: slots, prefix cache, batched decode steps
 *
 * Threads: libmicrohttpd runs one thread per connection; those threads only
 * parse JSON, enqueue a job and wait on it. Each model has one inference thread
 * that owns the umi_model and its contexts; nothing else touches them.
 */
#ifndef UMI_SERVE_H
#define UMI_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "umi.h"

#define UMI_SERVE_VERSION "0.1.0"

typedef struct serve_config {
    const char *host;          /* bind address, default 127.0.0.1 */
    int port;                  /* default 8080; 0 = any free port (printed) */
    const char **model_files;  /* -m FILE, pinned; served by file name without .gguf */
    int n_model_files;
    const char *models_dir;    /* --models-dir: every *.gguf inside, by name */
    const char *api_key;       /* NULL: no auth */
    size_t max_body;           /* request body limit in bytes */
    int n_parallel;            /* slots per model */
    int n_ctx;                 /* context per slot; 0 = min(model, 4096) */
    int n_threads;             /* per context; 0 = physical cores */
    const char *kv_type;       /* KV cache type (umi_context_params); NULL = f16 */
    int n_predict;             /* default generation limit; -1 = until the context is full */
    const char *port_file;     /* write the bound port here once listening (tests) */
    bool verbose;              /* one log line per request on stderr */
    double mem_gb;             /* > 0: memory budget (--mem-budget) instead of the detected one */
    bool force;                /* load even when the planner says a model will not fit */
    int64_t keep_alive_ms;     /* --keep-alive: default for requests; KEEP_FOREVER = never unload */
    int max_models;            /* --max-models: loaded at once; 0 = no limit */
    const char *slot_save_path; /* --slot-save-path: where /slots save and restore; NULL = off */
    bool no_repack;            /* --no-repack: weights stay in the file's layout (umi_model_params) */
    bool repack_q8_0;          /* --repack-q8: Q8_0 weights are interleaved too (umi_model_params) */
} serve_config;

/* Run until SIGINT/SIGTERM. Returns 0 after a clean shutdown, 1 when the
 * server cannot start (message printed on stderr). */
int serve_run(const serve_config *cfg);

/* ---------------------------------------------------------------- jobs (queue.c) */

typedef enum job_kind {
    JOB_CHAT,       /* msgs rendered with the model's chat template */
    JOB_COMPLETION, /* prompt tokenized as is */
    JOB_GENERATE,   /* Ollama generate: template(system, prompt) if the model has one, else as is */
    JOB_LOAD,       /* only make sure the model is loaded (Ollama's empty prompt) */
    JOB_EMBED,      /* embeddings of inputs[] (embed_job.c) */
    JOB_SLOT_SAVE,  /* write a slot's KV state to slot_file (routes_slots.c) */
    JOB_SLOT_RESTORE, /* read a slot's KV state from slot_file */
} job_kind;

/* keep_alive in milliseconds: unset (the default applies), never unload. */
#define KEEP_UNSET INT64_MIN
#define KEEP_FOREVER (-1)

typedef enum job_state {
    JOB_QUEUED,   /* waiting for the model's thread */
    JOB_RUNNING,  /* accepted: tokenized, fits the context; text may follow */
    JOB_DONE,     /* finished; finish_reason says why */
    JOB_FAILED,   /* http_status + err say why */
} job_state;

typedef struct job_params {
    umi_sampler_params sp;
    int32_t n_predict;   /* -1 = until the context is full */
    uint32_t n_ctx;      /* 0 = the slot's; larger rebuilds the slot's context (Ollama num_ctx) */
    char **stop;         /* stop strings, owned */
    int n_stop;
    bool cache_prompt;   /* reuse the slot's cached prefix (default true) */
    bool ignore_eos;
    bool json;           /* constrain the output to one JSON object */
    char *json_schema;   /* owned; or constrain it to a value of this JSON schema (text) */
    int top_logprobs;    /* -1: no logprobs; else record the chosen token and this many alternatives */
    bool truncate;       /* embeddings: cut inputs longer than the context instead of failing */
} job_params;

/* One input of an embedding job: text, or token ids the client gave. */
typedef struct embed_input {
    char *text;          /* owned; NULL when toks came from the client */
    umi_token *toks;     /* owned */
    int n_toks;
} embed_input;

/* One generated token's log-probabilities (logprobs.c); the pieces live in
 * the job's lp_text. */
typedef struct lp_alt {
    umi_token id;
    float logprob;
    uint32_t off, len;   /* the token's bytes in job.lp_text */
} lp_alt;

#define LP_MAX_TOP 20
typedef struct lp_token {
    lp_alt chosen;
    lp_alt top[LP_MAX_TOP];
    int n_top;
    size_t text_offset;  /* bytes generated before this token */
} lp_token;

typedef struct job {
    /* set by the HTTP thread before enqueueing, read-only afterwards */
    job_kind kind;
    umi_chat_message *msgs; /* owned, with owned strings */
    size_t n_msgs;
    char *prompt;           /* JOB_COMPLETION / JOB_GENERATE text, owned */
    char *system;           /* JOB_GENERATE system prompt or NULL, owned */
    job_params p;
    int64_t keep_alive_ms;  /* Ollama keep_alive; KEEP_UNSET = the model's default */
    int slot_id;            /* JOB_SLOT_*: which slot */
    char *slot_file;        /* JOB_SLOT_*: full path inside --slot-save-path, owned */

    /* results, guarded by mu; cv signals every change of state, and each
     * new piece of text only while someone streams it */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job_state state;
    bool streamed;          /* a waiter wants every piece (stream.c sets it) */
    int http_status;        /* when FAILED */
    const char *err_code;   /* short code for the OpenAI error shape */
    char err[512];
    char *out;              /* committed text: valid UTF-8, no stop string */
    size_t out_len, out_cap;
    const char *finish;     /* "stop" or "length" when DONE */
    int n_prompt, n_cached, n_gen;
    int n_slot_tokens;      /* JOB_SLOT_*: tokens saved or restored */
    int64_t t_queued, t_accepted, t_prompt_done, t_first, t_end; /* umi_time_us */
    int64_t load_us;        /* model load time, when this job waited for it */
    lp_token *lp;           /* logprobs of the generated tokens (when asked) */
    int n_lp, lp_cap;
    char *lp_text;
    size_t lp_text_len, lp_text_cap, lp_gen_bytes;
    embed_input *inputs;    /* JOB_EMBED, set by the HTTP thread */
    int n_inputs;
    float *embd;            /* JOB_EMBED results: [n_inputs][n_embd], read once DONE */
    int n_embd, n_embd_done;
    atomic_bool cancel;     /* client went away: the worker drops the job */
    int refs;

    /* worker-private */
    struct job *next;
    umi_token *toks;
    int n_toks;
    umi_sampler *smp;
    char *pend;             /* generated bytes not yet committed (UTF-8 / stop holdback) */
    size_t pend_len, pend_cap;
    size_t gen_raw;         /* token bytes appended so far (the lp text_offset scale) */
    size_t raw_committed;   /* of them, committed to out (or cut by a stop); guarded by mu */
} job;

job *job_new(job_kind kind);
/* Drop one reference (the HTTP side and the queue hold one each). */
void job_release(job *j);
void job_free_params(job_params *p);

/* Worker side. */
void job_accept(job *j, int n_prompt, int n_cached);
void job_fail(job *j, int http_status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Append generated bytes; returns true when a stop string ended the text. */
bool job_append(job *j, const char *bytes, size_t n);
/* Commit what is held back and mark the job done. */
void job_finish(job *j, const char *reason);

/* ---------------------------------------------------------------- registry.c */

typedef struct slot slot;
struct registry;

typedef struct model_entry {
    char *name;   /* what clients ask for */
    char *path;   /* never built from client input: found by listing the directory */
    bool pinned;
    const serve_config *cfg;
    struct registry *reg;

    pthread_mutex_t mu;     /* guards everything below */
    pthread_cond_t cv;      /* new job or stop */
    job *q_head, *q_tail;
    int q_len;
    bool thread_started, stop;
    pthread_t thread;
    bool loaded;            /* the worker holds a umi_model */
    int64_t loaded_at;      /* Unix seconds */
    int64_t last_used;      /* umi_time_us of the last slot activity: LRU order */
    uint64_t resident_bytes; /* file + KV of the contexts made so far */
    int n_active;
    /* lifecycle.c */
    bool loading;           /* admitted: its planned bytes count against the budget */
    bool evict;             /* another model's load asks this one to unload if idle */
    uint64_t planned_bytes; /* the planner's total for this model when it was admitted */
    int64_t keep_alive_ms;  /* of the last request that finished */
    int64_t expires_ms;     /* Unix ms when an idle model unloads; INT64_MAX = never */
    bool unload_asked;      /* keep_alive 0 came while busy: unload once idle, whatever later requests say */

    /* /metrics counters (metrics.c), updated when a slot lets its job go */
    uint64_t m_requests, m_prompt_tokens, m_cached_tokens, m_gen_tokens;
    uint64_t m_borrowed_tokens; /* prefix tokens copied from another slot's cache (worker.c) */
    double m_gen_seconds, m_ttft_sum;
    uint64_t m_ttft_bucket[9]; /* time to first token <= 0.05 .. 10 s, then +Inf */
    /* ... and by the worker after each decode pass (metrics_batch) */
    int m_batch_last;               /* sequences in the last decode pass */
    uint64_t m_batch_bucket[7];     /* passes of <= 1, 2, 4, 8, 16, 32 sequences, then more */
    uint64_t m_batch_sum;           /* sequences over all passes */

    /* header facts for /api/tags, /api/show (read once with info_only) */
    bool have_info;
    char arch[64], type_name[16];
    uint64_t n_params, file_bytes, kv_bytes_per_token;
    uint32_t n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_vocab;
    int64_t mtime;

    /* worker-private (worker.c) */
    umi_model *model;
    slot *slots;
    int n_slots;
    job *pending;           /* accepted jobs waiting for a free slot */
} model_entry;

typedef struct registry {
    pthread_mutex_t mu;
    model_entry **v;
    int n, cap;
    const serve_config *cfg;
    /* lifecycle.c: one load is admitted at a time; load_cv signals an unload or a declined eviction */
    pthread_mutex_t load_mu;
    pthread_cond_t load_cv;
    uint64_t budget;        /* bytes all loaded models may use; 0 = unknown (no limit) */
} registry;

int registry_init(registry *r, const serve_config *cfg, char *msg, size_t msg_len);
/* Stop every model's thread: queued and running jobs fail with 503. */
void registry_stop(registry *r);
void registry_free(registry *r); /* stops what is still running, frees */
/* The entry named name (a trailing ":latest" is ignored), rescanning the
 * models directory when it is not known yet. NULL when there is none. */
model_entry *registry_find(registry *r, const char *name);
/* The model used when a request names none: the first -m file, else the only model. */
model_entry *registry_default(registry *r);
/* Snapshot of the entries (the pointers stay valid until registry_free). */
int registry_list(registry *r, model_entry ***out);

/* ---------------------------------------------------------------- metrics (metrics.c) */

/* Add a finished job's counts to its model's /metrics counters. */
void metrics_record(model_entry *e, job *j);
/* Count a decode pass of n sequences (the batch-size gauge and histogram). */
void metrics_batch(model_entry *e, int n);
/* Fill the header facts (arch, sizes) once; false when the file is unreadable. */
bool registry_describe(model_entry *e);
/* Hand a job to the model's thread (starting it on first use). Takes a reference. */
void registry_submit(model_entry *e, job *j);

/* ---------------------------------------------------------------- lifecycle.c */

/* The memory budget: --mem-budget, else what the planner says is available now less 10%. */
void lifecycle_init(registry *r);
/* Ollama's keep_alive: a number of seconds or a Go duration ("5m", "1h30m",
 * "300ms", "-1"); negative = forever. false on anything else. */
bool keep_alive_parse(const char *s, int64_t *ms);
/* Before e's worker loads its model: plan it, evict idle models least
 * recently used first until it fits the budget and --max-models, and reserve
 * its bytes. false: *status (507 / 503 / 500) and msg say why. */
bool lifecycle_admit(model_entry *e, char *msg, size_t len, int *status);
/* Before a slot's context grows so that e would hold bytes: make room as
 * lifecycle_admit does. false: *status 507 and msg say why. */
bool lifecycle_grow(model_entry *e, uint64_t bytes, uint32_t n_ctx, char *msg, size_t len, int *status);
/* After e's worker loaded its model (ok) or failed to. */
void lifecycle_loaded(model_entry *e, bool ok);
/* e's worker was asked to unload for another model but is busy: it stays. */
void lifecycle_declined(model_entry *e);
/* After e's worker unloaded its model: its bytes are free again. */
void lifecycle_unloaded(model_entry *e);
/* A request on e finished: its keep_alive (or the default) sets when e expires. */
void lifecycle_touch(model_entry *e, int64_t keep_alive_ms);
/* What the budget counts for e (planned or resident, whichever is larger); 0 when unloaded. Caller holds e->mu. */
uint64_t lifecycle_footprint(const model_entry *e);
/* Unix milliseconds. */
int64_t now_ms(void);

/* ---------------------------------------------------------------- worker.c */

void *worker_main(void *arg);

/* embed_job.c: tokenize an embedding job's inputs (cut to limit tokens when
 * it asks for truncation) and size its results; false: the job failed. */
bool embed_prepare(umi_model *model, job *j, uint32_t limit);
/* logprobs.c: record the chosen token's log-probability and the best
 * alternatives from the raw logits (before any sampling transform). */
void logprobs_record(const umi_model *model, job *j, const float *logits, umi_token tok);
/* With j->mu held: drop the tokens whose text starts at or after raw byte
 * `end` (a stop string cut there); how many tokens' text is committed, so
 * a stream sends no logprobs for text it may still hold back or cut. */
void logprobs_trim_locked(job *j, size_t end);
int logprobs_ready_locked(const job *j);

#endif
