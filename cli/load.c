#include <stdio.h>

#include "args.h"
#include "commands.h"

int cli_load_model(const char *path, bool use_mmap, bool vocab_only, umi_model **model) {
    umi_model_params mp = umi_model_default_params();
    mp.use_mmap = use_mmap;
    mp.vocab_only = vocab_only;
    umi_error err = {0};
    if (umi_model_load(path, &mp, model, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int cli_make_context(umi_model *model, int n_ctx, int n_batch, int n_threads, umi_context **ctx) {
    umi_context_params cp = umi_context_default_params();
    if (n_ctx > 0) cp.n_ctx = (uint32_t)n_ctx;
    if (n_batch > 0) cp.n_batch = (uint32_t)n_batch;
    cp.n_threads = n_threads;
    umi_error err = {0};
    if (umi_context_init(model, &cp, ctx, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}
