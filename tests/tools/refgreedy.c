/* refgreedy: one row of greedy.tsv from the reference engine (libllama).
 *
 * usage: refgreedy MODEL.gguf PROMPT [STEPS]
 * Prints: prompt ids (BOS as the vocab says), STEPS (32) greedy ids, and per
 * step the margin between the best and second-best logit, each as a
 * comma-separated list on its own line. Context 128 tokens, 2 threads,
 * the library's default attention settings. Built outside umi's build
 * against the reference checkout (see tests/golden/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char *text, void *user) {
    (void)level, (void)text, (void)user;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: refgreedy MODEL PROMPT [STEPS]\n");
        return 2;
    }
    const int steps = argc > 3 ? atoi(argv[3]) : 32;
    llama_log_set(quiet, NULL);
    llama_backend_init();
    struct llama_model *model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) return 1;
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 128;
    cp.n_batch = 128;
    cp.n_threads = cp.n_threads_batch = 2;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return 1;
    llama_token toks[128];
    const int n = llama_tokenize(vocab, argv[2], (int32_t)strlen(argv[2]), toks, 128, true, false);
    if (n <= 0) return 1;
    for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", toks[i]);
    printf("\n");
    const int n_vocab = llama_vocab_n_tokens(vocab);
    char *margins = calloc((size_t)steps, 16);
    if (llama_decode(ctx, llama_batch_get_one(toks, n))) return 1;
    for (int s = 0; s < steps; s++) {
        const float *l = llama_get_logits_ith(ctx, -1);
        int a = 0, b = -1;
        for (int i = 1; i < n_vocab; i++)
            if (l[i] > l[a]) a = i;
        for (int i = 0; i < n_vocab; i++)
            if (i != a && (b < 0 || l[i] > l[b])) b = i;
        printf("%s%d", s ? "," : "", a);
        sprintf(margins + strlen(margins), "%s%.5f", s ? "," : "", l[a] - l[b]);
        llama_token t = a;
        if (s + 1 < steps && llama_decode(ctx, llama_batch_get_one(&t, 1))) return 1;
    }
    printf("\n%s\n", margins);
    free(margins);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
