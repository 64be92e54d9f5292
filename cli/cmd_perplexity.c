/* umi perplexity: how well a model predicts a text, computed the way the
 * reference's llama-perplexity does so numbers are comparable:
 * tokenize the whole text once (BOS first when the vocab adds it); chunk k
 * is tokens [k*n_ctx, (k+1)*n_ctx) with its first token replaced by BOS,
 * evaluated from an empty cache; only the second half of each chunk is
 * scored (positions n_ctx/2 .. n_ctx-2 predict the next token), so every
 * scored token has at least n_ctx/2 tokens of context. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"

/* -log p(target) from raw logits, in double. */
static double nll(const float *logits, int n_vocab, umi_token target) {
    float max = logits[0];
    for (int i = 1; i < n_vocab; i++)
        if (logits[i] > max) max = logits[i];
    double sum = 0.0;
    for (int i = 0; i < n_vocab; i++) sum += exp((double)logits[i] - max);
    return log(sum) - ((double)logits[target] - max);
}

static int evaluate(umi_model *m, umi_context *ctx, const umi_token *toks, int n_toks, int n_ctx,
                    int n_chunks) {
    const int n_vocab = umi_vocab_size(m);
    const umi_token bos = umi_token_bos(m);
    const bool add_bos = umi_vocab_add_bos(m) && bos >= 0;
    umi_token *chunk = malloc((size_t)n_ctx * sizeof *chunk);
    if (!chunk) return EXIT_RUNTIME;
    double sum_nll = 0.0;
    long n_scored = 0;
    const int64_t t0 = umi_time_us();
    for (int k = 0; k < n_chunks; k++) {
        memcpy(chunk, toks + (size_t)k * n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (add_bos) chunk[0] = bos;
        umi_context_reset(ctx);
        umi_error err = {0};
        if (umi_decode(ctx, chunk, n_ctx, true, &err) != UMI_OK) {
            cli_error("%s", err.msg);
            free(chunk);
            return EXIT_RUNTIME;
        }
        for (int j = n_ctx / 2; j < n_ctx - 1; j++) {
            sum_nll += nll(umi_get_logits(ctx, j), n_vocab, chunk[j + 1]);
            n_scored++;
        }
        if (k == 0)
            fprintf(stderr, "perplexity: %.2f s per chunk, %d chunks of %d tokens\n",
                    (umi_time_us() - t0) / 1e6, n_chunks, n_ctx);
        printf("[%d]%.4f,", k + 1, exp(sum_nll / n_scored));
        fflush(stdout);
    }
    printf("\nPPL = %.4f\n", exp(sum_nll / n_scored));
    free(chunk);
    return EXIT_OK;
}

int cmd_perplexity(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *kv_type = NULL;
    int n_ctx = 512, chunks = -1, threads = 0, n_batch = 0;
    bool no_mmap = false, no_repack = false, repack_q8 = false;
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, "FILE", "GGUF model (default: the bundled stories260K)"},
        {"file", 'f', OPT_STR, &file, "TEXT", "text file to score"},
        {"ctx-size", 'c', OPT_INT, &n_ctx, "N", "tokens per chunk (default 512)"},
        {"chunks", 0, OPT_INT, &chunks, "N", "score at most N chunks (default: all)"},
        {"batch-size", 'b', OPT_INT, &n_batch, "N", "tokens per forward pass (default: the chunk)"},
        {"threads", 't', OPT_INT, &threads, "N", "threads (default: physical cores)"},
        {"kv-type", 0, OPT_STR, &kv_type, "T", CLI_KV_TYPE_HELP},
        {"no-mmap", 0, OPT_FLAG, &no_mmap, NULL, "read the model instead of mapping it"},
        {"no-repack", 0, OPT_FLAG, &no_repack, NULL, CLI_NO_REPACK_HELP},
        {"repack-q8", 0, OPT_FLAG, &repack_q8, NULL, CLI_REPACK_Q8_HELP},
    };
    const cli_cmd cmd = {"umi perplexity [-m MODEL] -f TEXT [-c N] [--chunks N] [--kv-type T]",
                         "Perplexity of a model over a text file, computed as llama-perplexity does.",
                         opts, (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!file) {
        cli_error("no text: give -f FILE (see --help)");
        return EXIT_USAGE;
    }
    if (n_ctx < 4) {
        cli_error("--ctx-size must be at least 4");
        return EXIT_USAGE;
    }
    if (!model) model = cli_default_model();
    size_t len = 0;
    char *text = cli_read_file(file, &len);
    if (!text) {
        cli_error("%s: cannot read the file", file);
        return EXIT_RUNTIME;
    }
    umi_model *m = NULL;
    umi_context *ctx = NULL;
    umi_token *toks = NULL;
    if ((rc = cli_load_model(model, !no_mmap, !no_repack, repack_q8, false, &m))) goto done;
    toks = malloc((len + 2) * sizeof *toks);
    if (!toks) { rc = EXIT_RUNTIME; goto done; }
    int n_toks = umi_tokenize(m, text, len, toks, (int32_t)(len + 2), true, false);
    if (n_toks < 0) {
        cli_error("tokenizing produced more tokens than bytes; cannot score this text");
        rc = EXIT_RUNTIME;
        goto done;
    }
    int n_chunks = n_toks / n_ctx;
    if (chunks >= 0 && chunks < n_chunks) n_chunks = chunks;
    if (n_chunks == 0) {
        cli_error("%s: %d tokens is less than one chunk of %d", file, n_toks, n_ctx);
        rc = EXIT_RUNTIME;
        goto done;
    }
    if ((rc = cli_make_context(m, n_ctx, n_batch > 0 ? n_batch : n_ctx, threads, kv_type, &ctx))) goto done;
    rc = evaluate(m, ctx, toks, n_toks, n_ctx, n_chunks);
done:
    free(toks);
    free(text);
    umi_context_free(ctx);
    umi_model_free(m);
    return rc;
}
