/* Sliding-window layers keep a ring of window + n_batch - 1 KV cells
 * instead of n_ctx (src/infer/kvcache.c). For gemma3 (tests/models) and
 * gemma2 (../shared/models), both with a window of 32:
 *  - a 128-token context with 8-token chunks allocates rings of 39 cells for
 *    the sliding layers and less KV than a full-length cache;
 *  - prompt logits (every row) and a greedy continuation far past the window
 *    are bit-identical to a context of the same model whose caches are full
 *    length (the same windows masked, the rings disabled);
 *  - truncation keeps tokens only while the rings still hold the window of
 *    the next position, and says so (returns 0 otherwise).
 * gemma2 runs twice, the second time with a Q8_0 cache (kvquant.c): the
 * rings must not change a quantized cache's results either. */
#include <string.h>

#include "infer/infer.h"
#include "infer/memory.h"
#include "testkit.h"
#include "ctxkit.h"

enum { N_CTX = 128, N_BATCH = 8, N_PROMPT = 70 };

static umi_context *open_ctx(umi_model *m, const char *kv_type) {
    return open_ctx_sized(m, N_CTX, N_BATCH, kv_type);
}

static size_t total_cells(const umi_context *ctx) {
    size_t n = 0;
    for (uint32_t il = 0; il < ctx->model->hp.n_layer; il++) n += ctx->kv_cells[il];
    return n;
}

static bool same_logits(umi_context *a, umi_context *b, int rows, int n_vocab) {
    for (int r = 0; r < rows; r++)
        if (memcmp(umi_get_logits(a, r), umi_get_logits(b, r), (size_t)n_vocab * sizeof(float))) return false;
    return true;
}

static void run(const char *path, const char *text, const char *kv_type) {
    umi_model *m = NULL, *full_m = NULL;
    umi_error err = {0};
    if (umi_model_load(path, NULL, &m, &err) || umi_model_load(path, NULL, &full_m, &err)) {
        printf("%s: %s\n", path, err.msg);
        exit(2);
    }
    /* The reference context: the same windows are masked (the layers keep
     * them) but the caches are sized as if no layer slid. */
    full_m->hp.n_swa = 0;
    umi_context *ring = open_ctx(m, kv_type), *full = open_ctx(full_m, kv_type);
    const int n_vocab = umi_vocab_size(m);
    const uint32_t w = m->hp.n_swa;
    check(w == 32, "%s: window %u, expected 32", path, w);

    int n_slide = 0;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const uint32_t want = m->layers[il].n_swa ? w + N_BATCH - 1 : N_CTX;
        n_slide += m->layers[il].n_swa != 0;
        check(ring->kv_cells[il] == want, "%s: layer %u has %u cells, expected %u", path, il,
              ring->kv_cells[il], want);
    }
    check(n_slide > 0 && n_slide < (int)m->hp.n_layer, "%s: %d sliding layers", path, n_slide);
    check(total_cells(ring) < total_cells(full) && total_cells(full) == (size_t)m->hp.n_layer * N_CTX,
          "%s: %zu ring cells vs %zu full", path, total_cells(ring), total_cells(full));

    const int32_t cap = (int32_t)strlen(text) + 8;
    /* `umi plan` sizes the cache with the same function (memory.c). */
    const umi_mem_params mp = {.n_ctx = N_CTX, .n_batch = N_BATCH, .n_threads = 2, .kv_type = ring->kv_type};
    umi_mem_layout lay;
    umi_mem_context_layout(&m->hp, &mp, &lay);
    const size_t kd = (size_t)m->hp.n_head_kv * m->hp.head_dim_k;
    check(lay.cache_k == total_cells(ring) * kd, "%s: planner counts %zu K elements, context has %zu", path,
          lay.cache_k, total_cells(ring) * kd);

    umi_token *toks = xmalloc((size_t)cap * sizeof *toks);
    const int n = N_PROMPT;
    check(umi_tokenize(m, text, strlen(text), toks, cap, true, false) > N_CTX, "%s: text too short", path);
    bool ok = !umi_decode(ring, toks, n, true, &err) && !umi_decode(full, toks, n, true, &err);
    check(ok && same_logits(ring, full, n, n_vocab), "%s: prompt logits differ from a full cache", path);

    /* Greedy to the end of the context: 58 more positions, past the rings. */
    int steps = 0;
    for (; ok && umi_context_n_past(ring) < N_CTX; steps++) {
        umi_token t = argmax(umi_get_logits(ring, -1), n_vocab);
        ok = argmax(umi_get_logits(full, -1), n_vocab) == t && !umi_decode(ring, &t, 1, false, &err) &&
             !umi_decode(full, &t, 1, false, &err) && same_logits(ring, full, 1, n_vocab);
        toks[umi_context_n_past(ring) - 1] = t;
    }
    check(ok && steps == N_CTX - N_PROMPT, "%s: greedy differs from a full cache at step %d", path, steps);

    /* The rings hold positions 128 - 39 = 89 .. 127. Going back to 120 needs
     * 89.. (window 32): kept; and decoding from there still matches. */
    check(umi_context_truncate(ring, 120) == 120 && umi_context_truncate(full, 120) == 120,
          "%s: truncate to 120", path);
    ok = !umi_decode(ring, toks + 120, 4, true, &err) && !umi_decode(full, toks + 120, 4, true, &err);
    check(ok && same_logits(ring, full, 4, n_vocab), "%s: after truncation the logits differ", path);
    /* Going back to 100 would need 69..: gone from the rings, so nothing is
     * kept; a full cache keeps 100. */
    check(umi_context_truncate(ring, 100) == 0 && umi_context_n_past(ring) == 0,
          "%s: truncate to 100 kept %u", path, umi_context_n_past(ring));
    check(umi_context_truncate(full, 100) == 100, "%s: full truncate to 100", path);
    umi_context_reset(full);
    ok = !umi_decode(ring, toks, 100, true, &err) && !umi_decode(full, toks, 100, true, &err);
    check(ok && same_logits(ring, full, 100, n_vocab), "%s: recomputed after the reset", path);

    free(toks);
    umi_context_free(ring);
    umi_context_free(full);
    umi_model_free(m);
    umi_model_free(full_m);
}

int main(int argc, char **argv) {
    const char *src = argc > 1 ? argv[1] : ".", *shared = argc > 2 ? argv[2] : "../shared";
    char path[1024], text_path[1024];
    snprintf(text_path, sizeof text_path, "%s/text/gpl3-head.txt", shared);
    size_t len = 0;
    char *text = read_file(text_path, &len);
    if (!text) {
        printf("cannot read %s\n", text_path);
        return 2;
    }
    snprintf(path, sizeof path, "%s/tests/models/rnd-gemma3-f16.gguf", src);
    run(path, text, NULL);
    snprintf(path, sizeof path, "%s/models/rnd-gemma2-f32.gguf", shared);
    run(path, text, NULL);
    run(path, text, "q8_0");
    free(text);
    printf("test_kv_ring: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
