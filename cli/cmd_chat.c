/* umi chat: a multi-turn conversation in the terminal. Each turn renders the
 * whole conversation with the model's chat template, and only the tokens
 * after the longest prefix already in the KV cache are processed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "textout.h"

typedef struct chat_opts {
    const char *model, *system, *kv_type;
    int n_predict, threads, n_ctx, n_batch;
    umi_sampler_params sp; /* the sampling options write straight into it */
    bool no_mmap, no_repack, repack_q8, force;
    float mem_gb;
} chat_opts;

typedef struct conversation {
    umi_chat_message *msgs;
    char **owned; /* texts we allocated, parallel to msgs */
    size_t n, cap;
} conversation;

static bool conv_add(conversation *c, const char *role, const char *text) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        umi_chat_message *m = realloc(c->msgs, cap * sizeof *m);
        if (!m) return false;
        c->msgs = m;
        char **o = realloc(c->owned, cap * sizeof *o);
        if (!o) return false;
        c->owned = o;
        c->cap = cap;
    }
    char *copy = strdup(text);
    if (!copy) return false;
    c->owned[c->n] = copy;
    c->msgs[c->n++] = (umi_chat_message){.role = role, .content = copy};
    return true;
}

static void conv_truncate(conversation *c, size_t n) {
    while (c->n > n) free(c->owned[--c->n]);
}

/* One line from stdin without its newline; NULL at end of input. */
static char *read_line(void) {
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    int ch;
    while (buf && (ch = getchar()) != EOF && ch != '\n') {
        if (n + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) { free(buf); return NULL; }
            buf = b;
        }
        buf[n++] = (char)ch;
    }
    if (!buf || (n == 0 && ch == EOF)) { free(buf); return NULL; }
    buf[n] = 0;
    return buf;
}

typedef struct chat_state {
    umi_model *m;
    umi_context *ctx;
    umi_sampler *smp;
    umi_token *cached; /* tokens in the KV cache, [n_ctx] */
    int n_cached;
    const chat_opts *o;
} chat_state;

/* Render, tokenize, reuse the cached prefix, generate the reply into *reply. */
static int take_turn(chat_state *s, conversation *conv, char **reply) {
    char *text = NULL;
    umi_error err = {0};
    if (umi_chat_apply(s->m, conv->msgs, conv->n, true, &text, NULL, &err)) {
        cli_error("chat template: %s", err.msg);
        return EXIT_RUNTIME;
    }
    const int n_ctx = (int)umi_context_n_ctx(s->ctx);
    umi_token *toks = malloc((strlen(text) + 8) * sizeof *toks);
    int n = toks ? umi_tokenize(s->m, text, strlen(text), toks, (int32_t)strlen(text) + 8, true, true) : -1;
    umi_free(text);
    if (n <= 0 || n >= n_ctx) {
        if (n > 0) cli_error("the conversation (%d tokens) no longer fits the %d-token context; /clear starts over", n, n_ctx);
        free(toks);
        return EXIT_RUNTIME;
    }
    int p = 0;
    while (p < n && p < s->n_cached && toks[p] == s->cached[p]) p++;
    if (p == n) p--; /* always decode at least one token to get logits */
    p = (int)umi_context_truncate(s->ctx, (uint32_t)p); /* 0 when a window ring cannot go back */
    const int64_t t0 = umi_time_us();
    umi_status st = umi_decode(s->ctx, toks + p, n - p, false, &err);
    memcpy(s->cached, toks, (size_t)n * sizeof *toks);
    s->n_cached = n;
    const int64_t t_prompt = umi_time_us() - t0;

    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    textout to;
    textout_init(&to, stdout);
    int n_gen = 0;
    const int64_t t1 = umi_time_us();
    while (st == UMI_OK && out && n_gen < s->o->n_predict && s->n_cached < n_ctx) {
        umi_token tok = umi_sampler_sample(s->smp, umi_get_logits(s->ctx, -1));
        if (umi_token_is_eog(s->m, tok)) break;
        umi_sampler_accept(s->smp, tok);
        n_gen++;
        char piece[256];
        int32_t pl = umi_token_to_piece(s->m, tok, piece, sizeof piece, false);
        if (pl > 0) {
            textout_write(&to, piece, pl);
            if (len + (size_t)pl + 1 > cap) {
                char *b = realloc(out, cap = (len + (size_t)pl + 1) * 2);
                if (!b) break;
                out = b;
            }
            memcpy(out + len, piece, (size_t)pl);
            len += (size_t)pl;
        }
        s->cached[s->n_cached++] = tok;
        st = umi_decode(s->ctx, &tok, 1, false, &err);
    }
    textout_finish(&to);
    putchar('\n');
    fflush(stdout);
    free(toks);
    if (!out) return EXIT_RUNTIME;
    out[len] = 0;
    *reply = out;
    if (st) {
        cli_error("%s", err.msg);
        return EXIT_RUNTIME;
    }
    const int64_t t_gen = umi_time_us() - t1;
    fprintf(stderr, "[prompt %d new tokens (%d cached), %.1f t/s | generated %d tokens, %.1f t/s]\n",
            n - p, p, t_prompt > 0 ? (n - p) * 1e6 / t_prompt : 0.0, n_gen,
            t_gen > 0 ? n_gen * 1e6 / t_gen : 0.0);
    return EXIT_OK;
}

static int chat_loop(chat_state *s) {
    conversation conv = {0};
    size_t base = 0;
    if (s->o->system) {
        if (!conv_add(&conv, "system", s->o->system)) return EXIT_RUNTIME;
        base = 1;
    }
    const bool tty = isatty(fileno(stdin));
    if (tty) fprintf(stderr, "umi chat — /clear starts over, /exit or Ctrl-D quits\n");
    int rc = EXIT_OK;
    for (;;) {
        if (tty) fputs("> ", stdout), fflush(stdout);
        char *line = read_line();
        if (!line || strcmp(line, "/exit") == 0) {
            free(line);
            break;
        }
        if (strcmp(line, "/clear") == 0) {
            conv_truncate(&conv, base);
            umi_context_reset(s->ctx);
            s->n_cached = 0;
            free(line);
            continue;
        }
        if (!line[0]) { free(line); continue; }
        bool ok = conv_add(&conv, "user", line);
        free(line);
        char *reply = NULL;
        if (!ok) { rc = EXIT_RUNTIME; break; }
        rc = take_turn(s, &conv, &reply);
        if (rc == EXIT_OK) ok = conv_add(&conv, "assistant", reply);
        free(reply);
        if (rc != EXIT_OK || !ok) {
            rc = EXIT_RUNTIME;
            conv_truncate(&conv, conv.n - 1); /* drop the turn that failed */
            if (!tty) break;
            rc = EXIT_OK;
        }
    }
    conv_truncate(&conv, 0);
    free(conv.msgs);
    free(conv.owned);
    return rc;
}

int cmd_chat(int argc, char **argv) {
    chat_opts o = {.n_predict = 512, .sp = umi_sampler_default_params()};
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &o.model, "FILE", "GGUF model (default: the bundled stories260K)"},
        {"system", 0, OPT_STR, &o.system, "TEXT", "system prompt"},
        {"n-predict", 'n', OPT_INT, &o.n_predict, "N", "at most N tokens per reply (default 512)"},
        {"temp", 0, OPT_FLOAT, &o.sp.temp, "T", "temperature (default 0.8; 0 = greedy)"},
        {"top-k", 0, OPT_INT, &o.sp.top_k, "K", "top-k (default 40)"},
        {"top-p", 0, OPT_FLOAT, &o.sp.top_p, "P", "top-p (default 0.95)"},
        {"min-p", 0, OPT_FLOAT, &o.sp.min_p, "P", "min-p (default 0.05)"},
        {"repeat-penalty", 0, OPT_FLOAT, &o.sp.repeat_penalty, "R", "repeat penalty (default 1.0 = off)"},
        {"seed", 's', OPT_U64, &o.sp.seed, "S", "random seed (default: from the clock)"},
        {"threads", 't', OPT_INT, &o.threads, "N", "threads (default: physical cores)"},
        {"ctx-size", 'c', OPT_INT, &o.n_ctx, "N", "context length (default: min(model, 4096))"},
        {"batch-size", 'b', OPT_INT, &o.n_batch, "N", CLI_BATCH_HELP},
        {"kv-type", 0, OPT_STR, &o.kv_type, "T", CLI_KV_TYPE_HELP},
        {"no-mmap", 0, OPT_FLAG, &o.no_mmap, NULL, "read the model instead of mapping it"},
        {"no-repack", 0, OPT_FLAG, &o.no_repack, NULL, CLI_NO_REPACK_HELP},
        {"repack-q8", 0, OPT_FLAG, &o.repack_q8, NULL, CLI_REPACK_Q8_HELP},
        {"force", 0, OPT_FLAG, &o.force, NULL, "load even when the planner says it will not fit"},
        {"mem", 0, OPT_FLOAT, &o.mem_gb, "GB", "memory budget for the load guard (default: detected)"},
    };
    const cli_cmd cmd = {"umi chat [-m MODEL] [--system TEXT] [options]",
                         "Chat with a model using its chat template (ChatML when it has none). "
                         "Lines typed are user turns; /clear starts over, /exit quits.",
                         opts, (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (o.n_batch < 0) {
        cli_error("--batch-size must be at least 1 (0: the default)");
        return EXIT_USAGE;
    }
    if (!o.model) o.model = cli_default_model();
    chat_state s = {.o = &o};
    if ((rc = cli_guard(o.model, o.n_ctx, o.n_batch, o.kv_type, o.force, o.mem_gb, o.no_mmap))) return rc;
    if ((rc = cli_load_model(o.model, !o.no_mmap, !o.no_repack, o.repack_q8, false, &s.m))) return rc;
    if (!umi_model_chat_template(s.m, NULL))
        fprintf(stderr, "umi: %s has no chat template; using ChatML\n", o.model);
    umi_model_info info;
    umi_model_get_info(s.m, &info);
    int n_ctx = o.n_ctx > 0 ? o.n_ctx : (info.n_ctx_train < 4096 ? (int)info.n_ctx_train : 4096);
    if ((rc = cli_make_context(s.m, n_ctx, o.n_batch, o.threads, o.kv_type, &s.ctx))) goto done;
    umi_sampler_params sp = o.sp;
    if (!sp.seed) sp.seed = (uint64_t)umi_time_us();
    s.smp = umi_sampler_init(&sp, umi_vocab_size(s.m));
    s.cached = malloc((size_t)n_ctx * sizeof *s.cached);
    if (!s.smp || !s.cached) {
        cli_error("out of memory");
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = chat_loop(&s);
done:
    free(s.cached);
    umi_sampler_free(s.smp);
    umi_context_free(s.ctx);
    umi_model_free(s.m);
    return rc;
}
