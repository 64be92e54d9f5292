/* umi_embed (src/infer/embed.c) on the bundled stories260K:
 *   1. unit L2 norm; the same tokens give the same bits; prompt chunks of
 *      3 tokens give (nearly) the vector of one chunk;
 *   2. the context is left empty and decodes afterwards exactly as a fresh one;
 *   3. errors: no tokens, more than the context, ids outside the vocabulary;
 *   4. the GGUF's pooling_type: copies of the file with llama.pooling_type
 *      added: cls = the first token (which under causal attention sees only
 *      itself, so it equals the mean embedding of that token alone), last =
 *      the last token, rank refused.
 * usage: test_embed SRC_DIR SHARED_DIR */
#include <math.h>
#include <string.h>

#include "testkit.h"
#include "umi.h"

enum { N_CTX = 64 };

typedef struct {
    umi_model *m;
    umi_context *ctx;
    int n_embd;
} rig;

static bool rig_open(rig *r, const char *path, uint32_t n_batch) {
    umi_error err = {0};
    umi_model_params mp = umi_model_default_params();
    umi_context_params cp = umi_context_default_params();
    cp.n_ctx = N_CTX;
    cp.n_batch = n_batch;
    cp.n_threads = 1;
    r->m = NULL;
    r->ctx = NULL;
    if (!check(umi_model_load(path, &mp, &r->m, &err) == UMI_OK, "load %s: %s", path, err.msg)) return false;
    if (!check(umi_context_init(r->m, &cp, &r->ctx, &err) == UMI_OK, "context: %s", err.msg)) return false;
    umi_model_info info;
    umi_model_get_info(r->m, &info);
    r->n_embd = (int)info.n_embd;
    return true;
}

static void rig_close(rig *r) {
    umi_context_free(r->ctx);
    umi_model_free(r->m);
}

static umi_status embed(rig *r, const umi_token *t, int n, float *out) {
    umi_error err = {0};
    return umi_embed(r->ctx, t, n, out, &err);
}

static double max_diff(const float *a, const float *b, int n) {
    double d = 0;
    for (int i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void test_basics(const char *path) {
    rig r = {0}, small = {0};
    if (!rig_open(&r, path, 512) || !rig_open(&small, path, 3)) {
        rig_close(&r);
        rig_close(&small);
        return;
    }
    umi_token t[32];
    const char *text = "Once upon a time there was a little dog";
    int n = umi_tokenize(r.m, text, strlen(text), t, 32, true, false);
    check(n > 4, "tokenized %d", n);
    float a[512], b[512], c[512];
    const int E = r.n_embd;
    check(embed(&r, t, n, a) == UMI_OK, "embed");
    double norm = 0;
    for (int i = 0; i < E; i++) norm += (double)a[i] * a[i];
    check(fabs(norm - 1) < 1e-5, "L2 norm %f", sqrt(norm));
    check(embed(&r, t, n, b) == UMI_OK && memcmp(a, b, (size_t)E * sizeof *a) == 0, "same tokens, same bits");
    check(embed(&small, t, n, c) == UMI_OK && max_diff(a, c, E) < 1e-4, "chunks of 3: differs by %g",
          max_diff(a, c, E));
    check(embed(&r, t, n - 1, b) == UMI_OK && max_diff(a, b, E) > 1e-3, "another input, another vector");

    /* The context is empty afterwards and decodes as a fresh one. */
    check(umi_context_n_past(r.ctx) == 0, "n_past %u after embedding", umi_context_n_past(r.ctx));
    umi_error err = {0};
    check(umi_decode(r.ctx, t, n, false, &err) == UMI_OK, "decode after embed: %s", err.msg);
    rig fresh = {0};
    if (rig_open(&fresh, path, 512)) {
        check(umi_decode(fresh.ctx, t, n, false, &err) == UMI_OK, "decode: %s", err.msg);
        check(memcmp(umi_get_logits(r.ctx, -1), umi_get_logits(fresh.ctx, -1),
                     (size_t)umi_vocab_size(r.m) * sizeof(float)) == 0,
              "logits after an embedding equal a fresh context's");
    }
    rig_close(&fresh);

    /* Errors. */
    umi_token many[N_CTX + 1], bad[2] = {1, umi_vocab_size(r.m)};
    for (int i = 0; i <= N_CTX; i++) many[i] = t[i % n];
    check(embed(&r, t, 0, a) == UMI_ERR_ARG, "no tokens");
    check(embed(&r, many, N_CTX + 1, a) == UMI_ERR_CONTEXT_FULL, "more than the context");
    check(embed(&r, bad, 2, a) == UMI_ERR_ARG, "an id outside the vocabulary");
    check(embed(&r, many, N_CTX, a) == UMI_OK, "exactly the context");
    rig_close(&r);
    rig_close(&small);
}

/* ---------------------------------------------------------------- pooling_type */

static void put_u32(char **p, uint32_t v) { memcpy(*p, &v, 4), *p += 4; }
static void put_u64(char **p, uint64_t v) { memcpy(*p, &v, 8), *p += 8; }
static void put_str(char **p, const char *s) {
    put_u64(p, strlen(s));
    memcpy(*p, s, strlen(s));
    *p += strlen(s);
}

/* A copy of the file with llama.pooling_type = v and a filler string, placed
 * first: together 128 bytes, a multiple of the alignment, so the data
 * section stays aligned and every tensor offset stays valid. */
static bool write_with_pooling(const char *src, const char *dst, uint32_t v) {
    size_t len;
    char *in = read_file(src, &len);
    if (!in) return false;
    char head[128], *p = head;
    put_str(&p, "llama.pooling_type");
    put_u32(&p, 4); /* GGUF UINT32 */
    put_u32(&p, v);
    const size_t filler = sizeof head - (size_t)(p - head) - 8 - 8 - 4 - 8;
    put_str(&p, "umi.test");
    put_u32(&p, 8); /* GGUF STRING */
    put_u64(&p, filler);
    memset(p, 'x', filler);
    uint64_t n_kv;
    memcpy(&n_kv, in + 16, 8);
    n_kv += 2;
    FILE *f = fopen(dst, "wb");
    bool ok = f && fwrite(in, 1, 16, f) == 16 && fwrite(&n_kv, 8, 1, f) == 1 &&
              fwrite(head, 1, sizeof head, f) == sizeof head && fwrite(in + 24, 1, len - 24, f) == len - 24;
    if (f) ok &= fclose(f) == 0;
    free(in);
    return ok;
}

static void test_pooling(const char *path) {
    char dir[] = "/tmp/umi_embed_XXXXXX";
    if (!check(mkdtemp(dir) != NULL, "temp dir")) return;
    char cls_path[64], last_path[64], rank_path[64];
    snprintf(cls_path, sizeof cls_path, "%s/cls.gguf", dir);
    snprintf(last_path, sizeof last_path, "%s/last.gguf", dir);
    snprintf(rank_path, sizeof rank_path, "%s/rank.gguf", dir);
    check(write_with_pooling(path, cls_path, 2) && write_with_pooling(path, last_path, 3) &&
              write_with_pooling(path, rank_path, 4),
          "write copies with pooling_type");
    rig mean = {0}, cls = {0}, last = {0}, rank = {0};
    if (rig_open(&mean, path, 512) && rig_open(&cls, cls_path, 512) && rig_open(&last, last_path, 512) &&
        rig_open(&rank, rank_path, 512)) {
        const umi_token t[4] = {1, 40, 50, 60}; /* stories260K has 512 tokens */
        float a[512], b[512], c[512];
        const int E = mean.n_embd;
        /* (not bit for bit: a batch of 4 may take other matmul kernels than one token) */
        check(embed(&cls, t, 4, a) == UMI_OK && embed(&mean, t, 1, b) == UMI_OK && max_diff(a, b, E) < 1e-5,
              "cls pooling = the first token alone (differs by %g)", max_diff(a, b, E));
        check(embed(&last, t, 4, a) == UMI_OK && embed(&mean, t, 4, b) == UMI_OK && max_diff(a, b, E) > 1e-3,
              "last pooling differs from mean");
        check(embed(&last, t, 1, a) == UMI_OK && embed(&mean, t, 1, c) == UMI_OK &&
                  memcmp(a, c, (size_t)E * sizeof *a) == 0,
              "last pooling of one token = mean pooling of it");
        check(embed(&rank, t, 4, a) == UMI_ERR_UNSUPPORTED, "rank pooling refused");
    }
    rig_close(&mean);
    rig_close(&cls);
    rig_close(&last);
    rig_close(&rank);
    remove(cls_path);
    remove(last_path);
    remove(rank_path);
    remove(dir);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SRC_DIR [SHARED_DIR]\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/models/stories260K.gguf", argv[1]);
    test_basics(path);
    test_pooling(path);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
