#include <stdio.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"

/* A load step's progress on a terminal: one line on stderr, rewritten at
 * each whole percent and erased when the step ends. Steps under SHOWN
 * bytes pass too quickly to be worth a line. */
enum { SHOWN = 256 << 20 };

static void show_progress(void *user, const char *what, uint64_t done, uint64_t total) {
    int *last = user; /* the percent on the line, -1 when there is none */
    if (total < SHOWN) return;
    const int pct = (int)(100.0 * (double)done / (double)total);
    if (done < total && pct == *last) return;
    if (done < total)
        fprintf(stderr, "\r%s %3d %% (%.1f of %.1f GB)", what, pct, (double)done / 1e9, (double)total / 1e9);
    else if (*last >= 0)
        fputs("\r\033[K", stderr);
    *last = done < total ? pct : -1;
    fflush(stderr);
}

int cli_load_model(const char *path, bool use_mmap, bool repack, bool repack_q8_0, bool vocab_only,
                   umi_model **model) {
    umi_model_params mp = umi_model_default_params();
    mp.use_mmap = use_mmap;
    mp.no_repack = !repack;
    mp.repack_q8_0 = repack_q8_0;
    mp.vocab_only = vocab_only;
    int shown = -1;
    if (isatty(fileno(stderr))) {
        mp.progress = show_progress;
        mp.progress_user = &shown;
    }
    umi_error err = {0};
    if (umi_model_load(path, &mp, model, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int cli_make_context(umi_model *model, int n_ctx, int n_batch, int n_threads, const char *kv_type,
                     umi_context **ctx) {
    umi_context_params cp = umi_context_default_params();
    if (n_ctx > 0) cp.n_ctx = (uint32_t)n_ctx;
    if (n_batch > 0) cp.n_batch = (uint32_t)n_batch;
    cp.n_threads = n_threads;
    cp.kv_type = kv_type;
    umi_error err = {0};
    if (umi_context_init(model, &cp, ctx, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

/* The load guard: ask the planner (header only, nothing loaded) whether the
 * model and this context fit in memory, and refuse with the numbers and what
 * would help, rather than start a load that swaps. */
int cli_guard(const char *path, int n_ctx, int n_batch, const char *kv_type, bool force, double mem_gb,
              bool no_mmap) {
    umi_plan_params pp = umi_plan_default_params();
    pp.model_path = path;
    pp.no_mmap = no_mmap;
    pp.n_ctx = n_ctx > 0 ? (uint32_t)n_ctx : 0;
    pp.n_batch = n_batch > 0 ? (uint32_t)n_batch : 0;
    pp.kv_type = kv_type;
    pp.hw = "this";
    pp.mem_gb = mem_gb;
    pp.memory_only = true; /* no bandwidth probe before a load */
    umi_plan_result r;
    umi_error err = {0};
    if (umi_plan_compute(&pp, &r, &err) != UMI_OK) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    if (r.verdict != UMI_PLAN_NO_FIT || force) return EXIT_OK;
    const double gib = 1073741824.0;
    cli_error("%s needs %.2f GiB (weights %.2f, KV cache %.2f for %u tokens, compute %.2f) but "
              "%.2f GiB is available; not loading it",
              path, r.total_bytes / gib, r.weight_bytes / gib, r.kv_bytes / gib, r.n_ctx,
              r.compute_bytes / gib, r.budget_bytes / gib);
    if (r.n_ctx_max > 0 && r.n_ctx_max < r.n_ctx)
        fprintf(stderr, "  - a shorter context fits: -c %u\n", r.n_ctx_max);
    fprintf(stderr, "  - or a smaller quantization of the model (umi plan --model NAME --quant Q4_K_M)\n");
    fprintf(stderr, "  - or --force to load anyway (it may swap)\n");
    return EXIT_RUNTIME;
}
