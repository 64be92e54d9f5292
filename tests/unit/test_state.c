/* KV state files (src/infer/state.c) through the public API: a state saved
 * after a prompt and restored into a fresh context of another length gives
 * bit-identical logits for the next token; a saved prefix (n < n_past) works;
 * every byte flipped anywhere, a truncated file, another model and a context
 * too short are refused and leave the context empty. Models with different
 * cache shapes (GQA llama, qwen2, gemma2's sliding window) are covered. */
#include <string.h>
#include <unistd.h>

#include "testkit.h"
#include "umi.h"

static bool same_logits(const float *a, const float *b, int n) { return memcmp(a, b, (size_t)n * sizeof *a) == 0; }

static umi_context *make_ctx(umi_model *m, uint32_t n_ctx) {
    umi_context_params cp = umi_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = 1;
    umi_context *ctx = NULL;
    umi_error err = {0};
    if (umi_context_init(m, &cp, &ctx, &err) != UMI_OK) {
        fprintf(stderr, "context: %s\n", err.msg);
        exit(2);
    }
    return ctx;
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Save after 12 tokens; restore elsewhere; the 13th token's logits must match. */
static void roundtrip(const char *path, const char *state, umi_model *m, umi_model *other) {
    const int32_t nv = umi_vocab_size(m);
    umi_token toks[13];
    for (int i = 0; i < 13; i++) toks[i] = (umi_token)((i * 37 + 5) % nv);
    umi_error err = {0};
    umi_context *a = make_ctx(m, 64);
    check(umi_decode(a, toks, 12, false, &err) == UMI_OK, "%s: decode", path);
    check(umi_context_state_save(a, toks, 13, state, &err) == UMI_ERR_ARG, "%s: more tokens than cached refused", path);
    check(umi_context_state_save(a, toks, 12, state, &err) == UMI_OK, "%s: save: %s", path, err.msg);
    uint32_t nf = 0;
    check(umi_state_file_tokens(state, &nf, &err) == UMI_OK && nf == 12, "%s: file tokens %u", path, nf);
    check(umi_decode(a, toks + 12, 1, false, &err) == UMI_OK, "%s: next", path);
    float *want = xmalloc((size_t)nv * sizeof *want);
    memcpy(want, umi_get_logits(a, -1), (size_t)nv * sizeof *want);

    umi_context *b = make_ctx(m, 32); /* another length: rows are copied per position */
    umi_token got[16] = {0};
    uint32_t n = 0;
    check(umi_context_state_load(b, state, got, 16, &n, &err) == UMI_OK, "%s: load: %s", path, err.msg);
    check(n == 12 && umi_context_n_past(b) == 12 && memcmp(got, toks, 12 * sizeof *got) == 0, "%s: tokens back", path);
    check(umi_decode(b, toks + 12, 1, false, &err) == UMI_OK, "%s: next after load", path);
    check(same_logits(umi_get_logits(b, -1), want, nv), "%s: logits after restore equal the uninterrupted run", path);

    /* A prefix: 8 of the 13 cached tokens, then the rest decoded again. */
    check(umi_context_state_save(a, toks, 8, state, &err) == UMI_OK, "%s: save a prefix", path);
    check(umi_context_state_load(b, state, got, 16, &n, &err) == UMI_OK && n == 8, "%s: load the prefix", path);
    check(umi_decode(b, toks + 8, 5, false, &err) == UMI_OK && same_logits(umi_get_logits(b, -1), want, nv),
          "%s: prefix + the rest gives the same logits", path);

    /* Refusals: each leaves the context empty. */
    check(umi_context_state_load(b, state, got, 4, &n, &err) != UMI_OK && umi_context_n_past(b) == 0,
          "%s: no room for the tokens", path);
    umi_context *tiny = make_ctx(m, 4);
    check(umi_context_state_load(tiny, state, got, 16, &n, &err) == UMI_ERR_CONTEXT_FULL, "%s: context too short", path);
    umi_context *o = make_ctx(other, 32);
    check(umi_context_state_load(o, state, got, 16, &n, &err) == UMI_ERR_ARG, "%s: another model: %s", path, err.msg);
    umi_context_free(o);
    umi_context_free(tiny);
    long size = file_size(state);
    FILE *f = fopen(state, "rb");
    unsigned char *bytes = xmalloc((size_t)size);
    check(f && fread(bytes, 1, (size_t)size, f) == (size_t)size, "%s: read back", path);
    if (f) fclose(f);
    char bad[600];
    snprintf(bad, sizeof bad, "%s.bad", state);
    int refused = 0, tried = 0;
    for (long at = 0; at < size; at += size / 97 + 1) { /* a flipped bit anywhere */
        bytes[at] ^= 0x10;
        f = fopen(bad, "wb");
        fwrite(bytes, 1, (size_t)size, f);
        fclose(f);
        bytes[at] ^= 0x10;
        tried++;
        refused += umi_context_state_load(b, bad, got, 16, &n, &err) != UMI_OK && umi_context_n_past(b) == 0;
    }
    check(refused == tried, "%s: %d of %d corrupted files refused", path, refused, tried);
    f = fopen(bad, "wb");
    fwrite(bytes, 1, (size_t)size - 5, f);
    fclose(f);
    check(umi_context_state_load(b, bad, got, 16, &n, &err) == UMI_ERR_FORMAT, "%s: truncated refused", path);
    check(umi_context_state_load(b, "/nonexistent/x.bin", got, 16, &n, &err) == UMI_ERR_IO, "%s: missing file", path);
    remove(bad);
    free(bytes);
    free(want);
    umi_context_free(b);
    umi_context_free(a);
}

/* A prefix copied from another context continues as if decoded there. */
static void copy_prefix(const char *path, umi_model *m) {
    const int32_t nv = umi_vocab_size(m);
    umi_token toks[20];
    for (int i = 0; i < 20; i++) toks[i] = (umi_token)((i * 53 + 11) % nv);
    umi_error err = {0};
    umi_context *a = make_ctx(m, 64), *b = make_ctx(m, 64);
    check(umi_decode(a, toks, 20, false, &err) == UMI_OK, "%s: decode", path);
    check(umi_context_copy_prefix(b, a, 21, &err) == UMI_ERR_ARG, "%s: more than cached refused", path);
    check(umi_context_copy_prefix(a, a, 4, &err) == UMI_ERR_ARG, "%s: copy onto itself refused", path);
    check(umi_context_copy_prefix(b, a, 12, &err) == UMI_OK && umi_context_n_past(b) == 12, "%s: copy: %s", path, err.msg);
    check(umi_decode(b, toks + 12, 1, false, &err) == UMI_OK, "%s: next after copy", path);
    /* The source, cut back to the same 12 positions, takes the same step. */
    umi_context_truncate(a, 12);
    check(umi_decode(a, toks + 12, 1, false, &err) == UMI_OK, "%s: next in the source", path);
    check(same_logits(umi_get_logits(b, -1), umi_get_logits(a, -1), nv), "%s: logits after a copied prefix", path);
    umi_context_free(b);
    umi_context_free(a);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: test_state SRC_DIR SHARED_DIR\n");
        return 2;
    }
    const char *models[] = {"rnd-llama-q4_0", "rnd-qwen2-q8_0", "rnd-gemma2-q8_0", "rnd-deepseek2-q8_0"};
    char other_path[512], state[64];
    snprintf(other_path, sizeof other_path, "%s/models/stories260K.gguf", argv[1]);
    snprintf(state, sizeof state, "/tmp/umi-test-state-%d.bin", (int)getpid());
    umi_model *other = NULL;
    umi_error err = {0};
    umi_model_params mp = umi_model_default_params();
    if (umi_model_load(other_path, &mp, &other, &err) != UMI_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/models/%s.gguf", argv[2], models[i]);
        umi_model *m = NULL;
        if (umi_model_load(path, &mp, &m, &err) != UMI_OK) {
            check(false, "load %s: %s", path, err.msg);
            continue;
        }
        roundtrip(models[i], state, m, other);
        copy_prefix(models[i], m);
        umi_model_free(m);
    }
    remove(state);
    umi_model_free(other);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
