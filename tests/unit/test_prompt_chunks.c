/* A prompt longer than n_batch runs in chunks, and only the last chunk's
 * last row is projected to logits: the chunks before it fill the cache and
 * stop their last layer after attention (src/infer/forward.c), as the
 * reference does when a batch outputs no row. Skipping that work must not
 * change anything: the last logits of a 45-token prompt decoded in one call
 * (8-token chunks inside) equal, bit for bit, those of the same prompt fed
 * as separate 8-token calls, each of which still projects its own last row;
 * so do the next greedy steps. Dense, MoE, MLA and sliding-window models. */
#include <stdlib.h>
#include <string.h>

#include "testkit.h"
#include "ctxkit.h"

enum { N_CTX = 96, N_BATCH = 8, N_PROMPT = 45, N_GEN = 4 };

static void run(const char *path) {
    umi_model *m = load_model(path, NULL);
    umi_error err = {0};
    const int n_vocab = umi_vocab_size(m);
    umi_token prompt[N_PROMPT];
    for (int i = 0; i < N_PROMPT; i++) prompt[i] = (umi_token)(1 + (i * 37) % (n_vocab - 1));
    umi_context *whole = open_ctx_sized(m, N_CTX, N_BATCH, NULL), *calls = open_ctx_sized(m, N_CTX, N_BATCH, NULL);
    bool ok = !umi_decode(whole, prompt, N_PROMPT, false, &err);
    for (int done = 0; ok && done < N_PROMPT; done += N_BATCH) {
        const int n = N_PROMPT - done < N_BATCH ? N_PROMPT - done : N_BATCH;
        ok = !umi_decode(calls, prompt + done, n, false, &err);
    }
    check(ok, "%s: decode: %s", path, err.msg);
    for (int step = 0; ok && step <= N_GEN; step++) {
        const float *a = umi_get_logits(whole, -1), *b = umi_get_logits(calls, -1);
        check(!memcmp(a, b, (size_t)n_vocab * sizeof(float)), "%s: step %d: logits differ", path, step);
        if (step == N_GEN) break;
        umi_token t = argmax(a, n_vocab);
        ok = !umi_decode(whole, &t, 1, false, &err) && !umi_decode(calls, &t, 1, false, &err);
    }
    umi_context_free(whole);
    umi_context_free(calls);
    umi_model_free(m);
}

int main(int argc, char **argv) {
    const char *src = argc > 1 ? argv[1] : ".", *shared = argc > 2 ? argv[2] : "../shared";
    static const char *const shared_models[] = {"rnd-llama-q4_k_m", "rnd-moe-q8_0", "rnd-deepseek2-q8_0",
                                                "rnd-gemma2-q8_0", "rnd-qwen3moe-q8_0"};
    char path[1024];
    for (size_t i = 0; i < sizeof shared_models / sizeof *shared_models; i++) {
        snprintf(path, sizeof path, "%s/models/%s.gguf", shared, shared_models[i]);
        run(path);
    }
    snprintf(path, sizeof path, "%s/tests/models/rnd-gemma3-q8_0.gguf", src);
    run(path);
    printf("test_prompt_chunks: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
