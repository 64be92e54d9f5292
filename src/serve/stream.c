/* Waiting for a job on an HTTP thread, and streaming its text.
 *
 * A handler never blocks blind: it waits on the job's condition variable in
 * short slices and, between them, asks the socket whether the client hung up.
 * A client that goes away sets the job's cancel flag, and the model's thread
 * drops the job at its next step, freeing the slot. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"

enum { WAIT_SLICE_MS = 50 };

static bool client_gone(int fd) {
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

typedef enum { UNTIL_ACCEPTED, UNTIL_PROGRESS, UNTIL_END } wait_until;

/* Wait with j->mu held; false when the client went away (job cancelled). */
static bool wait_locked(job *j, int fd, wait_until until, size_t seen) {
    if (until == UNTIL_PROGRESS) j->streamed = true;
    for (;;) {
        bool ended = j->state == JOB_DONE || j->state == JOB_FAILED;
        if (ended || (until == UNTIL_ACCEPTED && j->state != JOB_QUEUED) ||
            (until == UNTIL_PROGRESS && j->out_len > seen))
            return true;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WAIT_SLICE_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (client_gone(fd)) {
            atomic_store(&j->cancel, true);
            return false;
        }
    }
}

bool job_run(http_req *r, model_entry *e, job *j, http_result *res) {
    registry_submit(e, j);
    pthread_mutex_lock(&j->mu);
    bool here = wait_locked(j, http_fd(r), UNTIL_END, 0);
    bool failed = j->state == JOB_FAILED;
    pthread_mutex_unlock(&j->mu);
    if (!here) {
        *res = MHD_NO; /* nobody to answer */
        return false;
    }
    if (failed) {
        *res = http_error(r, j->http_status, j->err_code ? j->err_code : "error", "%s", j->err);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- formatted bytes */

void stream_put(stream *s, const char *bytes, size_t n) {
    if (n == 0) return;
    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2 + 256;
        char *b = realloc(s->buf, cap);
        if (!b) return;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, bytes, n);
    s->len += n;
}

void stream_put_json(stream *s, const char *prefix, cJSON *obj, const char *suffix) {
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text) return;
    stream_put(s, prefix, strlen(prefix));
    stream_put(s, text, strlen(text));
    stream_put(s, suffix, strlen(suffix));
    free(text);
}

/* ---------------------------------------------------------------- the reader */

/* libmicrohttpd calls this on the connection's thread whenever it can send
 * more; blocking here is fine with one thread per connection. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
    stream *s = cls;
    while (s->pos == s->len) {
        if (s->finished) return MHD_CONTENT_READER_END_OF_STREAM;
        s->pos = s->len = 0;
        job *j = s->j;
        pthread_mutex_lock(&j->mu);
        if (!wait_locked(j, s->fd, UNTIL_PROGRESS, s->seen)) {
            pthread_mutex_unlock(&j->mu);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        size_t n = j->out_len - s->seen;
        char *text = n ? malloc(n) : NULL;
        if (text) memcpy(text, j->out + s->seen, n);
        s->seen = j->out_len;
        const int lp_ready = logprobs_ready_locked(j);
        if (s->fmt->logprobs && lp_ready > s->lp_seen && (text || j->state == JOB_DONE)) {
            cJSON_Delete(s->lp_pending);
            s->lp_pending = s->fmt->logprobs(j, s->lp_seen, lp_ready);
            s->lp_seen = lp_ready;
        }
        job_state st = j->state;
        pthread_mutex_unlock(&j->mu);
        if (text) s->fmt->delta(s, text, n);
        free(text);
        if (st == JOB_DONE) {
            s->fmt->done(s);
            s->finished = true;
        } else if (st == JOB_FAILED) {
            s->fmt->error(s, j->err);
            s->finished = true;
        }
    }
    size_t n = s->len - s->pos < max ? s->len - s->pos : max;
    memcpy(out, s->buf + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

/* Called when the response is done or the connection dropped: in both cases
 * nobody will read the job any more, so a running one is cancelled. */
static void stream_free(void *cls) {
    stream *s = cls;
    atomic_store(&s->j->cancel, true);
    job_release(s->j);
    cJSON_Delete(s->lp_pending);
    free(s->buf);
    free(s);
}

http_result stream_respond(http_req *r, model_entry *e, job *j, const stream_fmt *fmt,
                           const stream *tmpl) {
    registry_submit(e, j);
    pthread_mutex_lock(&j->mu);
    bool here = wait_locked(j, http_fd(r), UNTIL_ACCEPTED, 0);
    bool failed = j->state == JOB_FAILED;
    pthread_mutex_unlock(&j->mu);
    if (!here) {
        job_release(j);
        return MHD_NO;
    }
    if (failed) {
        http_result res = http_error(r, j->http_status, j->err_code ? j->err_code : "error", "%s", j->err);
        job_release(j);
        return res;
    }
    stream *s = calloc(1, sizeof *s);
    if (!s) {
        atomic_store(&j->cancel, true);
        job_release(j);
        return MHD_NO;
    }
    if (tmpl) *s = *tmpl;
    s->j = j;
    s->e = e;
    s->fmt = fmt;
    s->fd = http_fd(r);
    s->buf = NULL;
    s->len = s->pos = s->cap = s->seen = 0;
    s->lp_seen = 0;
    s->lp_pending = NULL;
    s->finished = false;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                                  stream_read, s, stream_free);
    if (!resp) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", fmt->content_type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    r->status = 200;
    http_result res = MHD_queue_response(r->conn, 200, resp);
    MHD_destroy_response(resp);
    return res;
}
