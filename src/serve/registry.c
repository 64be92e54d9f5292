/* Which models the server offers, and the door to each one's inference
 * thread. Names come from file names: a -m FILE is pinned under its base name
 * without ".gguf", and every *.gguf in --models-dir is served by its name. A
 * client's name is only ever compared with names found by listing the
 * directory, never joined to a path, so no name can reach outside it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "serve.h"

/* "dir/llama-3.2-1b.Q4_0.gguf" -> "llama-3.2-1b.Q4_0" (malloc'd). */
static char *name_of(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".gguf") == 0) n -= 5;
    return strndup(base, n);
}

static model_entry *lookup(registry *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->v[i]->name, name) == 0) return r->v[i];
    return NULL;
}

/* Caller holds r->mu (or is the only thread). Takes ownership of name and path. */
static bool add(registry *r, char *name, char *path, bool pinned) {
    if (!name || !path || lookup(r, name)) {
        free(name), free(path);
        return name != NULL && path != NULL;
    }
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 8;
        model_entry **v = realloc(r->v, (size_t)cap * sizeof *v);
        if (!v) { free(name), free(path); return false; }
        r->v = v;
        r->cap = cap;
    }
    model_entry *e = calloc(1, sizeof *e);
    if (!e) { free(name), free(path); return false; }
    e->name = name;
    e->path = path;
    e->pinned = pinned;
    e->cfg = r->cfg;
    e->reg = r;
    e->expires_ms = INT64_MAX;
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    r->v[r->n++] = e;
    return true;
}

/* Add the directory's *.gguf files not known yet. Caller holds r->mu. */
static void scan_dir(registry *r) {
    if (!r->cfg->models_dir) return;
    DIR *d = opendir(r->cfg->models_dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *f = de->d_name;
        size_t n = strlen(f);
        if (f[0] == '.' || n <= 5 || strcmp(f + n - 5, ".gguf") != 0) continue;
        char *path = malloc(strlen(r->cfg->models_dir) + n + 2);
        if (!path) break;
        sprintf(path, "%s/%s", r->cfg->models_dir, f);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { free(path); continue; }
        char *name = name_of(f);
        if (name && lookup(r, name)) { free(name), free(path); continue; }
        add(r, name, path, false);
    }
    closedir(d);
}

int registry_init(registry *r, const serve_config *cfg, char *msg, size_t msg_len) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->load_mu, NULL);
    pthread_cond_init(&r->load_cv, NULL);
    r->cfg = cfg;
    for (int i = 0; i < cfg->n_model_files; i++) {
        struct stat st;
        if (stat(cfg->model_files[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(msg, msg_len, "%s: no such model file", cfg->model_files[i]);
            return -1;
        }
        if (!add(r, name_of(cfg->model_files[i]), strdup(cfg->model_files[i]), true)) {
            snprintf(msg, msg_len, "out of memory");
            return -1;
        }
    }
    if (cfg->models_dir) {
        DIR *d = opendir(cfg->models_dir);
        if (!d) {
            snprintf(msg, msg_len, "%s: cannot open the models directory", cfg->models_dir);
            return -1;
        }
        closedir(d);
        scan_dir(r);
    }
    if (r->n == 0) {
        snprintf(msg, msg_len, "no models: give -m FILE or --models-dir DIR with .gguf files");
        return -1;
    }
    lifecycle_init(r);
    return 0;
}

/* Every thread is told first and joined after, without the registry lock: a
 * worker in the middle of a load may be waiting for another to unload. */
void registry_stop(registry *r) {
    model_entry **v = NULL;
    int n = registry_list(r, &v);
    bool *started = calloc((size_t)(n ? n : 1), sizeof *started);
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->mu);
        v[i]->stop = true;
        if (started) started[i] = v[i]->thread_started;
        v[i]->thread_started = started ? false : v[i]->thread_started;
        pthread_cond_broadcast(&v[i]->cv);
        pthread_mutex_unlock(&v[i]->mu);
    }
    pthread_mutex_lock(&r->load_mu);
    pthread_cond_broadcast(&r->load_cv);
    pthread_mutex_unlock(&r->load_mu);
    for (int i = 0; i < n; i++)
        if (started && started[i]) pthread_join(v[i]->thread, NULL);
    free(started);
    free(v);
}

void registry_free(registry *r) {
    registry_stop(r);
    for (int i = 0; i < r->n; i++) {
        model_entry *e = r->v[i];
        pthread_mutex_destroy(&e->mu);
        pthread_cond_destroy(&e->cv);
        free(e->name);
        free(e->path);
        free(e);
    }
    free(r->v);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->load_mu);
    pthread_cond_destroy(&r->load_cv);
    memset(r, 0, sizeof *r);
}

model_entry *registry_find(registry *r, const char *name) {
    if (!name || !name[0]) return NULL;
    char buf[512];
    size_t n = strlen(name);
    /* Ollama clients say "name:latest" for the default tag. */
    if (n > 7 && n < sizeof buf && strcmp(name + n - 7, ":latest") == 0) {
        memcpy(buf, name, n - 7);
        buf[n - 7] = 0;
        name = buf;
    }
    pthread_mutex_lock(&r->mu);
    model_entry *e = lookup(r, name);
    if (!e) {
        scan_dir(r);
        e = lookup(r, name);
    }
    pthread_mutex_unlock(&r->mu);
    return e;
}

model_entry *registry_default(registry *r) {
    pthread_mutex_lock(&r->mu);
    model_entry *e = NULL;
    if (r->n > 0 && (r->v[0]->pinned || r->n == 1)) e = r->v[0];
    pthread_mutex_unlock(&r->mu);
    return e;
}

int registry_list(registry *r, model_entry ***out) {
    pthread_mutex_lock(&r->mu);
    scan_dir(r);
    *out = malloc((size_t)(r->n ? r->n : 1) * sizeof **out);
    int n = *out ? r->n : 0;
    if (n) memcpy(*out, r->v, (size_t)n * sizeof **out);
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool registry_describe(model_entry *e) {
    pthread_mutex_lock(&e->mu);
    bool have = e->have_info;
    pthread_mutex_unlock(&e->mu);
    if (have) return true;
    /* A header-only handle of our own: the served model belongs to its thread. */
    umi_model_params mp = umi_model_default_params();
    mp.info_only = true;
    umi_model *m = NULL;
    umi_error err = {0};
    if (umi_model_load(e->path, &mp, &m, &err) != UMI_OK) return false;
    umi_model_info info;
    umi_model_get_info(m, &info);
    /* The most common tensor type by bytes names the quantization, as Ollama shows it. */
    int best = 0;
    for (int t = 0; t < UMI_MAX_TYPES; t++)
        if (info.type_bytes[t] > info.type_bytes[best]) best = t;
    struct stat st;
    int64_t mtime = stat(e->path, &st) == 0 ? (int64_t)st.st_mtime : 0;
    pthread_mutex_lock(&e->mu);
    snprintf(e->arch, sizeof e->arch, "%s", info.arch ? info.arch : "");
    snprintf(e->type_name, sizeof e->type_name, "%s", umi_type_name(best));
    e->n_params = info.n_params;
    e->file_bytes = info.file_bytes;
    e->kv_bytes_per_token = info.kv_bytes_per_token;
    e->n_ctx_train = info.n_ctx_train;
    e->n_embd = info.n_embd;
    e->n_layer = info.n_layer;
    e->n_head = info.n_head;
    e->n_head_kv = info.n_head_kv;
    e->n_vocab = info.n_vocab;
    e->mtime = mtime;
    e->have_info = true;
    pthread_mutex_unlock(&e->mu);
    umi_model_free(m);
    return true;
}

void registry_submit(model_entry *e, job *j) {
    pthread_mutex_lock(&j->mu);
    j->refs++;
    pthread_mutex_unlock(&j->mu);
    pthread_mutex_lock(&e->mu);
    if (e->stop) {
        pthread_mutex_unlock(&e->mu);
        job_fail(j, 503, "shutting_down", "the server is shutting down");
        job_release(j);
        return;
    }
    if (e->q_tail) e->q_tail->next = j;
    else e->q_head = j;
    e->q_tail = j;
    e->q_len++;
    if (!e->thread_started) {
        if (pthread_create(&e->thread, NULL, worker_main, e) == 0) {
            e->thread_started = true;
        } else {
            e->q_head = e->q_tail = NULL;
            e->q_len = 0;
            pthread_mutex_unlock(&e->mu);
            job_fail(j, 500, "server_error", "cannot start the inference thread for '%s'", e->name);
            job_release(j);
            return;
        }
    }
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}
