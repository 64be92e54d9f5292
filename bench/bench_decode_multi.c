/* bench_decode_multi.c — engine-level continuous batching speed (not a test:
 * prints numbers).
 *
 * Usage: bench_decode_multi MODEL.gguf [S=4] [STEPS=16] [THREADS=2] [ROUNDS=3]
 *
 * S contexts each hold a short prompt; then, alternating in every round so
 * that a shared machine's load hits both alike, STEPS solo decode steps of
 * one context (umi_decode, one token) and STEPS multi-sequence steps of all
 * S (umi_decode_multi). Prints wall time per step, tokens/s and the ratio
 * of aggregate to solo tokens/s, plus the process CPU seconds per token
 * (less sensitive to other processes than wall time). The model is loaded
 * as `umi serve --parallel S` loads it (umi_model_params.batch_decode).
 *
 * Built with the project: `make && ./build/bench_decode_multi MODEL.gguf`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "umi.h"

enum { MAX_S = 64 };

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_decode_multi MODEL.gguf [S] [STEPS] [THREADS] [ROUNDS]\n");
        return 2;
    }
    const int S = argc > 2 ? atoi(argv[2]) : 4, steps = argc > 3 ? atoi(argv[3]) : 16;
    const int threads = argc > 4 ? atoi(argv[4]) : 2, rounds = argc > 5 ? atoi(argv[5]) : 3;
    if (S < 1 || S > MAX_S || steps < 1 || rounds < 1) {
        fprintf(stderr, "S must be 1..%d, STEPS and ROUNDS positive\n", MAX_S);
        return 2;
    }
    umi_model *m = NULL;
    umi_error err = {0};
    umi_model_params mp = umi_model_default_params();
    mp.batch_decode = S > 1; /* load as `umi serve --parallel S` does */
    if (umi_model_load(argv[1], &mp, &m, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    umi_context *ctx[MAX_S];
    umi_token tok[MAX_S];
    umi_context_params cp = umi_context_default_params();
    cp.n_ctx = (uint32_t)(8 + 2 * rounds * steps);
    cp.n_batch = S > 8 ? (uint32_t)S : 8;
    cp.n_threads = threads;
    for (int i = 0; i < S; i++) {
        const umi_token prompt[4] = {1, 100 + i, 200 + i, 300 + i};
        if (umi_context_init(m, &cp, &ctx[i], &err) || umi_decode(ctx[i], prompt, 4, false, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        tok[i] = 400 + i;
    }
    printf("%s, %d sequences, %d threads\n", argv[1], S, threads);
    for (int r = 0; r < rounds; r++) {
        double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int s = 0; s < steps && !err.code; s++) umi_decode(ctx[0], tok, 1, false, &err);
        const double solo = (seconds(CLOCK_MONOTONIC) - w0) / steps;
        const double solo_cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / steps;
        w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int s = 0; s < steps && !err.code; s++) umi_decode_multi(ctx, tok, S, &err);
        const double multi = (seconds(CLOCK_MONOTONIC) - w0) / steps;
        const double multi_cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / steps / S;
        if (err.code) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        printf("round %d: solo %.1f ms/token (%.2f t/s, %.1f ms CPU); %d together %.1f ms/step "
               "(%.2f t/s aggregate, %.2fx; %.1f ms CPU per token)\n",
               r + 1, solo * 1e3, 1 / solo, solo_cpu * 1e3, S, multi * 1e3, S / multi,
               (S / multi) * solo, multi_cpu * 1e3);
    }
    for (int i = 0; i < S; i++) umi_context_free(ctx[i]);
    umi_model_free(m);
    return 0;
}
