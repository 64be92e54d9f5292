/* umi tokenize: the ids and pieces of a text under a model's vocabulary.
 * Works on vocab-only GGUF files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "textout.h"

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL, *file = NULL;
    bool ids = false, no_bos = false, special = false;
    const cli_opt opts[] = {
        {"model", 'm', OPT_STR, &model, "FILE", "GGUF model or vocab file"},
        {"prompt", 'p', OPT_STR, &prompt, "TEXT", "text to tokenize"},
        {"file", 'f', OPT_STR, &file, "FILE", "read the text from a file"},
        {"ids", 0, OPT_FLAG, &ids, NULL, "print only the ids, space-separated on one line"},
        {"no-bos", 0, OPT_FLAG, &no_bos, NULL, "do not add BOS/EOS"},
        {"parse-special", 0, OPT_FLAG, &special, NULL, "match control tokens written in the text"},
    };
    const cli_cmd cmd = {"umi tokenize -m MODEL [-p TEXT | -f FILE] [--ids] [--no-bos]",
                         "Print the token ids and pieces of a text.", opts,
                         (int)(sizeof opts / sizeof *opts), NULL, NULL};
    int rc = cli_parse(&cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!prompt == !file) {
        cli_error("give exactly one of -p TEXT or -f FILE");
        return EXIT_USAGE;
    }
    if (!model) model = cli_default_model();
    char *text = NULL;
    size_t len = 0;
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            cli_error("%s: cannot open", file);
            return EXIT_RUNTIME;
        }
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = malloc(sz > 0 ? (size_t)sz : 1);
        len = text && sz > 0 ? fread(text, 1, (size_t)sz, f) : 0;
        fclose(f);
        if (!text) return EXIT_RUNTIME;
    }
    const char *src = file ? text : prompt;
    if (!file) len = strlen(prompt);
    umi_model *m = NULL;
    if ((rc = cli_load_model(model, true, false, false, true, &m))) {
        free(text);
        return rc;
    }
    int32_t cap = (int32_t)len + 8;
    umi_token *toks = malloc((size_t)cap * sizeof *toks);
    int32_t n = toks ? umi_tokenize(m, src, len, toks, cap, !no_bos, special) : 0;
    if (n < 0) {
        cap = -n;
        umi_token *t2 = realloc(toks, (size_t)cap * sizeof *toks);
        if (t2) toks = t2, n = umi_tokenize(m, src, len, toks, cap, !no_bos, special);
    }
    textout out;
    textout_init(&out, stdout);
    for (int32_t i = 0; i < n; i++) {
        if (ids) {
            printf(i ? " %d" : "%d", toks[i]);
            continue;
        }
        char piece[512];
        int32_t pl = umi_token_to_piece(m, toks[i], piece, sizeof piece, true);
        printf("%6d -> '", toks[i]);
        if (pl > 0) textout_write(&out, piece, pl);
        textout_finish(&out);
        printf("'\n");
    }
    if (ids) printf("\n");
    free(toks);
    free(text);
    umi_model_free(m);
    return EXIT_OK;
}
