/* umi run: generate text from a prompt, streaming it to stdout, and print
 * one timing line on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "textout.h"

enum { DEFAULT_CTX = 4096 };

typedef struct run_opts {
    const char *model, *prompt, *prompt_tokens, *kv_type;
    const char *prompt_cache; /* --prompt-cache FILE: reuse and save the prompt's KV state */
    bool prompt_cache_ro;
    int n_predict, threads, n_ctx, n_batch;
    umi_sampler_params sp; /* the sampling options write straight into it */
    bool ids, no_bos, ignore_eos, no_mmap, no_repack, repack_q8, force, json;
    const char *json_schema; /* --json-schema FILE */
    char *schema_text;       /* its contents, checked */
    size_t schema_len;
    float mem_gb;
} run_opts;

/* "1,2,3" -> ids; returns the count or -1 on a malformed list. */
static int parse_ids(const char *s, umi_token *out, int cap) {
    int n = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX || n >= cap) return -1;
        out[n++] = (umi_token)v;
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return n;
}

static int tokenize_prompt(const umi_model *m, const run_opts *o, umi_token **out, int *n_out) {
    int cap = o->prompt_tokens ? (int)strlen(o->prompt_tokens) / 2 + 2 : (int)strlen(o->prompt) + 8;
    umi_token *toks = malloc((size_t)cap * sizeof *toks);
    if (!toks) return EXIT_RUNTIME;
    int n;
    if (o->prompt_tokens) {
        n = parse_ids(o->prompt_tokens, toks, cap);
        if (n < 0) {
            cli_error("--prompt-tokens: expected comma-separated token ids, got '%s'", o->prompt_tokens);
            free(toks);
            return EXIT_USAGE;
        }
    } else {
        n = umi_tokenize(m, o->prompt, strlen(o->prompt), toks, cap, !o->no_bos, false);
        if (n < 0) { /* more tokens than bytes: only with many specials */
            cap = -n;
            umi_token *t2 = realloc(toks, (size_t)cap * sizeof *toks);
            if (!t2) { free(toks); return EXIT_RUNTIME; }
            toks = t2;
            n = umi_tokenize(m, o->prompt, strlen(o->prompt), toks, cap, !o->no_bos, false);
        }
    }
    if (n == 0) {
        cli_error("the prompt is empty (give -p TEXT or --prompt-tokens IDS)");
        free(toks);
        return EXIT_USAGE;
    }
    *out = toks;
    *n_out = n;
    return EXIT_OK;
}

/* --prompt-cache: restore FILE when it was saved from this model and keep
 * its longest common prefix with the prompt; returns the tokens reused. A
 * missing, foreign or damaged file is only a warning: the prompt is processed. */
static int prompt_cache_load(umi_context *ctx, const char *path, const umi_token *prompt, int n_prompt) {
    umi_error err = {0};
    uint32_t n_file = 0, n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0; /* first run: nothing to reuse yet */
    fclose(f);
    if (umi_state_file_tokens(path, &n_file, &err) != UMI_OK) {
        fprintf(stderr, "umi: --prompt-cache: %s; not using it\n", err.msg);
        return 0;
    }
    umi_token *toks = malloc(((size_t)n_file + 1) * sizeof *toks);
    if (!toks) return 0;
    if (umi_context_state_load(ctx, path, toks, n_file, &n, &err) != UMI_OK) {
        fprintf(stderr, "umi: --prompt-cache: %s; not using it\n", err.msg);
        free(toks);
        return 0;
    }
    int p = 0;
    while (p < (int)n && p < n_prompt && toks[p] == prompt[p]) p++;
    if (p == n_prompt) p--; /* decode at least one token to have logits */
    umi_context_truncate(ctx, (uint32_t)p);
    free(toks);
    return p;
}

static int generate(umi_model *m, umi_context *ctx, const run_opts *o, const umi_token *prompt,
                    int n_prompt, int n_cached, int64_t t_load_us) {
    umi_sampler_params sp = o->sp;
    if (!sp.seed) sp.seed = (uint64_t)umi_time_us();
    umi_sampler *smp = umi_sampler_init(&sp, umi_vocab_size(m));
    if (!smp) {
        cli_error("out of memory (sampler)");
        return EXIT_RUNTIME;
    }
    for (int i = 0; i < n_prompt; i++) umi_sampler_accept(smp, prompt[i]);
    umi_error err = {0};
    /* after the prompt: see umi.h */
    const umi_status js = o->schema_text ? umi_sampler_set_json_schema(smp, m, o->schema_text, o->schema_len, &err)
                          : o->json      ? umi_sampler_set_json(smp, m, &err)
                                         : UMI_OK;
    if (js != UMI_OK) {
        cli_error("%s: %s", o->schema_text ? "--json-schema" : "--json", err.msg);
        umi_sampler_free(smp);
        return EXIT_RUNTIME;
    }

    textout out;
    textout_init(&out, stdout);
    /* --json prints only the generated object, so the output can be piped to a parser. */
    if (!o->ids && !o->json && o->prompt && !o->prompt_tokens)
        textout_write(&out, o->prompt, (int)strlen(o->prompt));
    const int64_t t0 = umi_time_us();
    int64_t t_first = 0;
    int n_gen = 0, rc = EXIT_OK;
    umi_status st = umi_decode(ctx, prompt + n_cached, n_prompt - n_cached, false, &err);
    const int64_t t_prompt = umi_time_us() - t0;
    const int n_eval = n_prompt - n_cached;
    if (st == UMI_OK && o->prompt_cache && !o->prompt_cache_ro) {
        umi_error serr = {0};
        if (umi_context_state_save(ctx, prompt, (uint32_t)n_prompt, o->prompt_cache, &serr) != UMI_OK)
            fprintf(stderr, "umi: --prompt-cache: %s\n", serr.msg);
    }
    const int64_t t_gen0 = umi_time_us();
    while (st == UMI_OK && (o->n_predict < 0 || n_gen < o->n_predict)) {
        umi_token tok = umi_sampler_sample(smp, umi_get_logits(ctx, -1));
        if (n_gen == 0) t_first = umi_time_us() - t0;
        if (o->json && !umi_sampler_json_done(smp) && umi_token_is_eog(m, tok)) { /* see umi.h */
            cli_error("--json: no token of the vocabulary can continue the output");
            rc = EXIT_RUNTIME;
            break;
        }
        if ((!o->ignore_eos || umi_sampler_json_done(smp)) && umi_token_is_eog(m, tok)) break;
        umi_sampler_accept(smp, tok);
        n_gen++;
        if (o->ids) {
            printf(n_gen > 1 ? " %d" : "%d", tok);
        } else {
            char piece[256];
            int32_t len = umi_token_to_piece(m, tok, piece, sizeof piece, false);
            if (len > 0) textout_write(&out, piece, len);
        }
        if (o->n_predict >= 0 && n_gen >= o->n_predict) break;
        if (umi_context_n_past(ctx) >= umi_context_n_ctx(ctx)) break; /* context full: stop cleanly */
        st = umi_decode(ctx, &tok, 1, false, &err);
    }
    const int64_t t_gen = umi_time_us() - t_gen0;
    if (o->ids) putchar('\n');
    else {
        textout_finish(&out);
        putchar('\n');
    }
    fflush(stdout);
    if (st != UMI_OK) {
        cli_error("%s", err.msg);
        rc = EXIT_RUNTIME;
    }
    fprintf(stderr,
            "load %.1f ms | prompt %d tokens (%d cached), %.1f t/s | generated %d tokens, %.1f t/s | "
            "first token %.1f ms\n",
            t_load_us / 1e3, n_eval, n_cached, t_prompt > 0 ? n_eval * 1e6 / t_prompt : 0.0, n_gen,
            t_gen > 0 ? (n_gen > 1 ? (n_gen - 1) * 1e6 / t_gen : 0.0) : 0.0, t_first / 1e3);
    umi_sampler_free(smp);
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_opts o = {.n_predict = 128, .sp = umi_sampler_default_params()};
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &o.model, "FILE", "GGUF model (default: the bundled stories260K)"},
        {"prompt", 'p', OPT_STR, &o.prompt, "TEXT", "prompt text"},
        {"prompt-tokens", 0, OPT_STR, &o.prompt_tokens, "IDS", "prompt as comma-separated token ids"},
        {"n-predict", 'n', OPT_INT, &o.n_predict, "N", "tokens to generate (default 128; -1 = until EOS/context)"},
        {"temp", 0, OPT_FLOAT, &o.sp.temp, "T", "temperature (default 0.8; 0 = greedy)"},
        {"top-k", 0, OPT_INT, &o.sp.top_k, "K", "keep the K most likely tokens (default 40; 0 = off)"},
        {"top-p", 0, OPT_FLOAT, &o.sp.top_p, "P", "nucleus sampling mass (default 0.95; 1 = off)"},
        {"min-p", 0, OPT_FLOAT, &o.sp.min_p, "P", "drop tokens below P x the best (default 0.05; 0 = off)"},
        {"repeat-penalty", 0, OPT_FLOAT, &o.sp.repeat_penalty, "R", "penalize recent tokens (default 1.0 = off)"},
        {"repeat-last-n", 0, OPT_INT, &o.sp.repeat_last_n, "N", "window of the repeat penalty (default 64)"},
        {"seed", 's', OPT_U64, &o.sp.seed, "S", "random seed (default: from the clock)"},
        {"threads", 't', OPT_INT, &o.threads, "N", "threads (default: physical cores)"},
        {"ctx-size", 'c', OPT_INT, &o.n_ctx, "N", "context length in tokens (default: min(model, 4096))"},
        {"batch-size", 'b', OPT_INT, &o.n_batch, "N", CLI_BATCH_HELP},
        {"prompt-cache", 0, OPT_STR, &o.prompt_cache, "FILE", "reuse the KV state saved in FILE for the prompt's common prefix, then save the prompt's state to it"},
        {"prompt-cache-ro", 0, OPT_FLAG, &o.prompt_cache_ro, NULL, "use --prompt-cache FILE but do not update it"},
        {"kv-type", 0, OPT_STR, &o.kv_type, "T", CLI_KV_TYPE_HELP},
        {"ids", 0, OPT_FLAG, &o.ids, NULL, "print generated token ids instead of text"},
        {"no-bos", 0, OPT_FLAG, &o.no_bos, NULL, "do not add the BOS token"},
        {"ignore-eos", 0, OPT_FLAG, &o.ignore_eos, NULL, "keep generating past end-of-sequence"},
        {"json", 0, OPT_FLAG, &o.json, NULL, "output one valid JSON object (constrained), printed alone"},
        {"json-schema", 0, OPT_STR, &o.json_schema, "FILE", "as --json, a value valid against the JSON schema in FILE (subset: docs/SERVER.md)"},
        {"no-mmap", 0, OPT_FLAG, &o.no_mmap, NULL, "read the model into memory instead of mapping it"},
        {"no-repack", 0, OPT_FLAG, &o.no_repack, NULL, CLI_NO_REPACK_HELP},
        {"repack-q8", 0, OPT_FLAG, &o.repack_q8, NULL, CLI_REPACK_Q8_HELP},
        {"force", 0, OPT_FLAG, &o.force, NULL, "load even when the planner says it will not fit"},
        {"mem", 0, OPT_FLOAT, &o.mem_gb, "GB", "memory budget for the load guard (default: detected)"},
    };
    const cli_cmd cmd = {
        "umi run [-m MODEL] -p PROMPT [options]",
        "Generate text from a prompt and stream it to stdout; a timing line goes to stderr.",
        opts, (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!o.prompt && !o.prompt_tokens) {
        cli_error("no prompt: give -p TEXT or --prompt-tokens IDS (see --help)");
        return EXIT_USAGE;
    }
    if (o.n_batch < 0) {
        cli_error("--batch-size must be at least 1 (0: the default)");
        return EXIT_USAGE;
    }
    if (!o.model) o.model = cli_default_model();
    if (o.json_schema) { /* checked before the model loads: a bad schema is a usage error */
        umi_error err = {0};
        if (!(o.schema_text = cli_read_file(o.json_schema, &o.schema_len))) {
            cli_error("--json-schema %s: cannot read it", o.json_schema);
            return EXIT_USAGE;
        }
        if (umi_json_schema_check(o.schema_text, o.schema_len, &err) != UMI_OK) {
            cli_error("--json-schema %s: %s", o.json_schema, err.msg);
            free(o.schema_text);
            return EXIT_USAGE;
        }
        o.json = true;
    }

    const int64_t t0 = umi_time_us();
    umi_model *m = NULL;
    umi_context *ctx = NULL;
    umi_token *prompt = NULL;
    if ((rc = cli_guard(o.model, o.n_ctx, o.n_batch, o.kv_type, o.force, o.mem_gb, o.no_mmap))) goto done;
    if ((rc = cli_load_model(o.model, !o.no_mmap, !o.no_repack, o.repack_q8, false, &m))) goto done;
    umi_model_info info;
    umi_model_get_info(m, &info);
    int n_ctx = o.n_ctx > 0 ? o.n_ctx : (info.n_ctx_train < DEFAULT_CTX ? (int)info.n_ctx_train : DEFAULT_CTX);
    int n_prompt = 0;
    if ((rc = tokenize_prompt(m, &o, &prompt, &n_prompt))) goto done;
    if (n_prompt >= n_ctx) {
        cli_error("the prompt is %d tokens but the context holds %d (raise -c)", n_prompt, n_ctx);
        rc = EXIT_RUNTIME;
        goto done;
    }
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] >= umi_vocab_size(m)) {
            cli_error("prompt token %d is outside the vocabulary (%d tokens)", prompt[i], umi_vocab_size(m));
            rc = EXIT_USAGE;
            goto done;
        }
    if ((rc = cli_make_context(m, n_ctx, o.n_batch, o.threads, o.kv_type, &ctx))) goto done;
    int n_cached = o.prompt_cache ? prompt_cache_load(ctx, o.prompt_cache, prompt, n_prompt) : 0;
    rc = generate(m, ctx, &o, prompt, n_prompt, n_cached, umi_time_us() - t0);
done:
    free(o.schema_text);
    free(prompt);
    umi_context_free(ctx);
    umi_model_free(m);
    return rc;
}
