/* umi_decode_multi (src/infer/multi.c): several sequences decoded in one
 * pass give each sequence the very logits it gets decoded alone.
 *
 * For each model, K sequences with different prompts (different lengths)
 * join at different steps and leave after different numbers of tokens, as
 * a server's slots do; each step decodes every active sequence's greedy
 * token together, in a rotating order (so each context in turn lends its
 * scratch to the pass), with n_batch smaller than K so the pass is split.
 * The logits of every step must be bit-identical (memcmp) to the same
 * sequence decoded alone. Covers the single-token tiles (q4_0, q8_0), the
 * k-quants, f16, biases (qwen2), fused qkv (phi3), q/k norms (qwen3),
 * sliding-window rings past the window (gemma2, gemma3), quantized KV
 * caches (q8_0, q4_0), expert layers (Mixtral-style, qwen3moe's normalized
 * top-k, qwen2moe's gated shared expert; k-quant experts) and latent
 * attention (deepseek2: V2 and V2-Lite with YaRN, the fused attn_kv_b). */
#include <string.h>

#include "testkit.h"
#include "ctxkit.h"
#include "umi.h"

enum { K = 6, N_CTX = 96, N_BATCH = 4, MAX_STEPS = 16 };

static const int prompt_len[K] = {3, 17, 1, 30, 9, 24};
static const int join_step[K] = {0, 0, 2, 3, 3, 7};
static const int n_steps[K] = {16, 5, 12, 14, 1, 9};

static const char *kv_type; /* of every context of the current run (NULL: f16) */

static umi_context *open_ctx(umi_model *m) { return open_ctx_sized(m, N_CTX, N_BATCH, kv_type); }


static void run(const char *path, const char *chars, size_t len) {
    umi_model *m = load_model(path, NULL);
    umi_error err = {0};
    const int n_vocab = umi_vocab_size(m);
    umi_token text[2048];
    const int n_text = umi_tokenize(m, chars, len < 2000 ? len : 2000, text, 2048, false, false);
    check(n_text > 80, "%s: text gives %d tokens", path, n_text);
    if (n_text <= 80) exit(2);
    /* solo[i][s]: sequence i's logits after its s-th decode step (s = 0: the prompt) */
    float *solo = xmalloc((size_t)K * (MAX_STEPS + 1) * n_vocab * sizeof(float));
#define SOLO(i, s) (solo + ((size_t)(i) * (MAX_STEPS + 1) + (s)) * n_vocab)
    umi_context *ctx[K];
    bool ok = true;
    for (int i = 0; i < K && ok; i++) {
        umi_context *c = open_ctx(m);
        const umi_token *p = text + 7 * i % (n_text - 32);
        ok = !umi_decode(c, p, prompt_len[i], false, &err);
        for (int s = 0; ok && s <= n_steps[i]; s++) {
            memcpy(SOLO(i, s), umi_get_logits(c, -1), (size_t)n_vocab * sizeof(float));
            umi_token t = argmax(SOLO(i, s), n_vocab);
            if (s < n_steps[i]) ok = !umi_decode(c, &t, 1, false, &err);
        }
        umi_context_free(c);
    }
    check(ok, "%s: solo decode: %s", path, err.msg);

    /* Together: sequence i prefills at its join step, then rides the passes. */
    int done[K] = {0};
    bool joined[K] = {false};
    for (int i = 0; i < K; i++) ctx[i] = open_ctx(m);
    int mismatch = -1, passes = 0;
    for (int step = 0; ok && step < 32; step++) {
        umi_context *batch[K];
        umi_token toks[K];
        int n = 0;
        for (int j = 0; j < K; j++) {
            const int i = (j + step) % K; /* rotate who comes first */
            if (!joined[i] && step == join_step[i]) {
                joined[i] = true;
                ok = ok && !umi_decode(ctx[i], text + 7 * i % (n_text - 32), prompt_len[i], false, &err);
                if (ok && memcmp(umi_get_logits(ctx[i], -1), SOLO(i, 0), (size_t)n_vocab * sizeof(float)))
                    mismatch = i;
                continue; /* a joining sequence decodes from the next step */
            }
            if (!joined[i] || done[i] == n_steps[i]) continue;
            batch[n] = ctx[i];
            toks[n++] = argmax(umi_get_logits(ctx[i], -1), n_vocab);
        }
        if (!ok || n == 0) continue;
        ok = !umi_decode_multi(batch, toks, n, &err);
        passes += n > 1;
        for (int r = 0; ok && r < n; r++) {
            int i = 0;
            while (ctx[i] != batch[r]) i++;
            done[i]++;
            if (memcmp(umi_get_logits(ctx[i], -1), SOLO(i, done[i]), (size_t)n_vocab * sizeof(float))) {
                if (mismatch < 0) printf("%s: sequence %d differs at step %d (pass of %d)\n", path, i, done[i], n);
                mismatch = i;
            }
        }
    }
    check(ok, "%s: decode_multi: %s", path, err.msg);
    check(mismatch < 0, "%s: sequence %d's logits differ from its solo decode", path, mismatch);
    for (int i = 0; i < K; i++) check(done[i] == n_steps[i], "%s: sequence %d ran %d steps", path, i, done[i]);
    check(passes > 5, "%s: only %d multi-sequence passes", path, passes);

    /* Errors leave every context untouched. */
    const uint32_t past = umi_context_n_past(ctx[0]);
    umi_context *twice[2] = {ctx[0], ctx[0]};
    umi_token bad[2] = {1, (umi_token)n_vocab};
    check(umi_decode_multi(twice, bad, 2, &err) == UMI_ERR_ARG, "%s: a repeated context is refused", path);
    check(umi_decode_multi(ctx, bad, 2, &err) == UMI_ERR_ARG && umi_context_n_past(ctx[0]) == past,
          "%s: a token outside the vocabulary is refused", path);
    for (int i = 0; i < K; i++) umi_context_free(ctx[i]);
    free(solo);
    umi_model_free(m);
#undef SOLO
}

int main(int argc, char **argv) {
    const char *src = argc > 1 ? argv[1] : ".", *shared = argc > 2 ? argv[2] : "../shared";
    char path[1024];
    snprintf(path, sizeof path, "%s/text/gpl3-head.txt", shared);
    size_t len = 0;
    char *text = read_file(path, &len);
    if (!text) {
        printf("cannot read %s\n", path);
        return 2;
    }
    static const char *const shared_models[] = {
        "rnd-llama-q8_0", "rnd-llama-q4_0", "rnd-llama-q4_k_m", "rnd-llama-f16", "rnd-qwen2-q8_0",
        "rnd-phi3-q8_0",  "rnd-qwen3-q8_0", "rnd-gemma2-q8_0",  "rnd-moe-q8_0",  "rnd-deepseek2-q8_0",
        "rnd-moe-q4_k_m", "rnd-qwen3moe-q8_0", "rnd-llama-bf16"};
    for (size_t i = 0; i < sizeof shared_models / sizeof *shared_models; i++) {
        snprintf(path, sizeof path, "%s/models/%s.gguf", shared, shared_models[i]);
        run(path, text, len);
    }
    snprintf(path, sizeof path, "%s/tests/models/rnd-gemma3-q8_0.gguf", src);
    run(path, text, len);
    snprintf(path, sizeof path, "%s/tests/models/rnd-qwen2moe-q8_0.gguf", src);
    run(path, text, len);
    snprintf(path, sizeof path, "%s/tests/models/rnd-deepseek2-lite-yarn-f32.gguf", src);
    run(path, text, len);
    snprintf(path, sizeof path, "%s/tests/models/rnd-deepseek2-fused-f32.gguf", src);
    run(path, text, len);
    snprintf(path, sizeof path, "%s/tests/models/rnd-phi3-longrope-f32.gguf", src); /* LongRoPE tables */
    run(path, text, len);
    /* quantized KV caches (rotated rows, their own attention path) */
    snprintf(path, sizeof path, "%s/models/rnd-llama-q4_k_m.gguf", shared);
    kv_type = "q8_0";
    run(path, text, len);
    snprintf(path, sizeof path, "%s/models/rnd-qwen2-q8_0.gguf", shared);
    kv_type = "q4_0";
    run(path, text, len);
    free(text);
    printf("test_decode_multi: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
