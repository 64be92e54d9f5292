/* Helpers of the unit tests that decode with real models: a context of a
 * given size and KV cache type (NULL: the default) on 2 threads (the test stops when it cannot be made) and the
 * greedy pick, and a model loaded or the test stopped. Include after testkit.h. */
#ifndef UMI_TESTS_CTXKIT_H
#define UMI_TESTS_CTXKIT_H

#include "umi.h"

__attribute__((unused)) static umi_context *open_ctx_sized(umi_model *m, uint32_t n_ctx, uint32_t n_batch,
                                                           const char *kv_type) {
    umi_context_params cp = umi_context_default_params();
    cp.kv_type = kv_type;
    cp.n_ctx = n_ctx;
    cp.n_batch = n_batch;
    cp.n_threads = 2;
    umi_context *ctx = NULL;
    umi_error err = {0};
    if (umi_context_init(m, &cp, &ctx, &err)) {
        printf("context: %s\n", err.msg);
        exit(2);
    }
    return ctx;
}

/* The model at path (params NULL: the defaults); the test stops (exit 2) when it cannot be loaded. */
__attribute__((unused)) static umi_model *load_model(const char *path, const umi_model_params *params) {
    umi_model *m = NULL;
    umi_error err = {0};
    if (umi_model_load(path, params, &m, &err)) {
        printf("%s: %s\n", path, err.msg);
        exit(2);
    }
    return m;
}

__attribute__((unused)) static umi_token argmax(const float *l, int n) {
    umi_token best = 0;
    for (int i = 1; i < n; i++)
        if (l[i] > l[best]) best = i;
    return best;
}

#endif
