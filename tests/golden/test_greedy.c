/* Greedy continuations against the reference engine (../shared/golden/greedy.tsv,
 * or DATA_DIR/golden/greedy.tsv with the models in DATA_DIR/models).
 *
 * For each row naming MODEL (argv[3]): the prompt tokenized by umi must equal
 * the reference's prompt ids, and umi's 32 greedy tokens must equal the
 * reference's up to and including the first step whose reference margin
 * (best minus second-best logit) is below the near-tie threshold: 0.002 for
 * F32/F16/BF16 files, 0.02 for quantized ones; real models must match all 32.
 * Prints "N passed, M failed". Exit 0 on success, 1 on mismatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umi.h"

enum { MAX_IDS = 64, LINE = 8192 };

static int parse_list(char *s, double *out, int cap) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < cap; tok = strtok(NULL, ",")) out[n++] = atof(tok);
    return n;
}

static bool is_float_file(const char *model) {
    return strstr(model, "-f32") || strstr(model, "-f16") || strstr(model, "-bf16");
}

static bool is_random_model(const char *model) { return strncmp(model, "rnd-", 4) == 0; }

/* Returns 0 when the row passes. */
static int check_row(const char *shared, const char *model, const char *prompt, char *pids,
                     char *gids, char *margins) {
    double want_p[MAX_IDS], want_g[MAX_IDS], marg[MAX_IDS];
    int np = parse_list(pids, want_p, MAX_IDS), ng = parse_list(gids, want_g, MAX_IDS);
    parse_list(margins, marg, MAX_IDS);
    char path[1024];
    snprintf(path, sizeof path, "%s/models/%s", shared, model);
    umi_model *m = NULL;
    umi_context *ctx = NULL;
    umi_error err = {0};
    int fail = 0;
    if (umi_model_load(path, NULL, &m, &err)) {
        printf("FAIL %s: %s\n", model, err.msg);
        return 1;
    }
    umi_token toks[MAX_IDS];
    int n = umi_tokenize(m, prompt, strlen(prompt), toks, MAX_IDS, true, false);
    if (n != np) fail = 1;
    for (int i = 0; !fail && i < n; i++) fail |= toks[i] != (umi_token)want_p[i];
    if (fail) {
        printf("FAIL %s '%s': prompt tokenized to %d ids, reference has %d:", model, prompt, n, np);
        for (int i = 0; i < n && i < MAX_IDS; i++) printf(" %d", toks[i]);
        printf("\n");
        umi_model_free(m);
        return 1;
    }
    umi_context_params cp = umi_context_default_params();
    cp.n_ctx = 128;
    if (umi_context_init(m, &cp, &ctx, &err) || umi_decode(ctx, toks, n, false, &err)) {
        printf("FAIL %s: %s\n", model, err.msg);
        umi_context_free(ctx);
        umi_model_free(m);
        return 1;
    }
    const double tie = is_float_file(model) ? 0.002 : 0.02;
    const int n_vocab = umi_vocab_size(m);
    int matched = 0;
    for (int i = 0; i < ng; i++) {
        const float *l = umi_get_logits(ctx, -1);
        umi_token best = 0;
        for (int j = 1; j < n_vocab; j++)
            if (l[j] > l[best]) best = j;
        if (best != (umi_token)want_g[i]) {
            printf("FAIL %s '%s': step %d gave %d, reference %d (margin %.5f)\n", model, prompt, i,
                   best, (int)want_g[i], marg[i]);
            fail = 1;
            break;
        }
        matched++;
        if (is_random_model(model) && marg[i] < tie) break; /* near-tie: the rest may diverge */
        if (umi_decode(ctx, &best, 1, false, &err)) {
            printf("FAIL %s: %s\n", model, err.msg);
            fail = 1;
            break;
        }
    }
    if (!fail) printf("ok   %s '%s': %d tokens match\n", model, prompt, matched);
    umi_context_free(ctx);
    umi_model_free(m);
    return fail;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_greedy SRC_DIR SHARED_DIR MODEL [DATA_DIR]\n");
        return 2;
    }
    const char *shared = argc > 4 ? argv[4] : argv[2], *model = argv[3];
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/greedy.tsv", shared);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cannot open %s\n", path);
        return 1;
    }
    static char line[LINE];
    int passed = 0, failed = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *cols[5];
        char *p = line;
        int nc = 0;
        for (; nc < 5 && p; nc++) {
            cols[nc] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        if (nc < 5 || strcmp(cols[0], model) != 0) continue;
        if (check_row(shared, cols[0], cols[1], cols[2], cols[3], cols[4])) failed++;
        else passed++;
    }
    fclose(f);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || passed == 0 ? 1 : 0;
}
