/* test_tokenizer_spm.c — the SentencePiece-style tokenizer against the
 * reference engine's own test vectors and goldens.
 *
 * Usage: test_tokenizer_spm <source_dir> <shared_dir>
 *
 *   1. shared/vocab/ggml-vocab-{llama-spm,phi-3}.gguf: every input of the
 *      .inp file must tokenize (add_special=false, parse_special=false, as
 *      the reference's test-tokenizer-0 does) to the ids on the matching line
 *      of the .out file.
 *   2. llama-spm: the reference's test-tokenizer-1-spm round trips — every
 *      token's text, and every Unicode code point, must survive
 *      detokenize -> tokenize -> detokenize.
 *   3. shared/golden/greedy.tsv rows for stories260K.gguf and
 *      TinyStories-656K-Q8_0.gguf: the prompt tokenized with BOS gives the
 *      golden prompt ids.
 *   4. Behaviours the vectors do not cover: special-token parsing, RSTRIP,
 *      the unknown token for vocabs without byte fallback, buffer sizing,
 *      pieces, unsupported tokenizer kinds. (BPE and WordPiece:
 *      test_tokenizer_bpe.c.)
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"
#include "unit/testkit.h"
#include "unit/tokkit.h"

/* ---------------------------------------------------------------- helpers */

static umi_vocab *load_vocab(const char *path, umi_error *err) {
    umi_gguf *g = NULL;
    if (umi_gguf_open(path, true, &g, err) != UMI_OK) {
        return NULL;
    }
    umi_vocab *v = NULL;
    umi_vocab_load(g, &v, err);
    umi_gguf_close(g); /* the vocab keeps copies */
    return v;
}

/* Detokenize into a malloc'd NUL-terminated string; *len gets its length. */
static char *detokenize_all(const umi_vocab *v, const int32_t *ids, int32_t n, bool special,
                            size_t *len) {
    int32_t need = umi_vocab_detokenize(v, ids, n, NULL, 0, false, special);
    if (need < 0) {
        need = -need;
    }
    char *buf = malloc((size_t)need + 1);
    if (!buf) {
        return NULL;
    }
    int32_t got = umi_vocab_detokenize(v, ids, n, buf, need, false, special);
    if (got != need) {
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    *len = (size_t)got;
    return buf;
}

/* ---------------------------------------------------------------- 1: vectors */

/* Inputs are separated by "\n__ggml_vocab_test__\n"; the text after the last
 * separator (empty in these files) is one more input only if non-empty,
 * exactly as the reference's reader splits. */
static void test_vectors(const char *shared, const char *name) {
    char path[1024], inp_path[1100], out_path[1100];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf", shared, name);
    snprintf(inp_path, sizeof inp_path, "%s.inp", path);
    snprintf(out_path, sizeof out_path, "%s.out", path);

    umi_error err = {0};
    umi_vocab *v = load_vocab(path, &err);
    check(v != NULL, "load SPM test vocab");
    if (!v) {
        fprintf(stderr, "  %s: %s\n", path, err.msg);
        return;
    }
    size_t inp_len = 0, out_len = 0;
    char *inp = read_file(inp_path, &inp_len);
    char *out = read_file(out_path, &out_len);
    check(inp && out, "read .inp/.out");
    if (!inp || !out) {
        free(inp);
        free(out);
        umi_vocab_free(v);
        return;
    }

    static const char sep[] = "\n__ggml_vocab_test__\n";
    const size_t sep_len = sizeof sep - 1;
    const char *p = inp, *inp_end = inp + inp_len;
    const char *o = out, *out_end = out + out_len;
    int n_cases = 0, n_ok = 0;
    int32_t expect[1024];
    while (p < inp_end) {
        const char *next = strstr(p, sep); /* inputs contain no NUL bytes */
        size_t len = next ? (size_t)(next - p) : (size_t)(inp_end - p);

        const char *eol = memchr(o, '\n', (size_t)(out_end - o));
        if (!eol) {
            eol = out_end;
        }
        int32_t n_expect = parse_ids(o, eol, expect, 1024);
        o = eol < out_end ? eol + 1 : out_end;

        int32_t *ids = NULL;
        int32_t n = tokenize_all(v, p, len, false, false, &ids);
        bool ok = n >= 0 && n_expect <= 1024 && ids_equal(ids, n, expect, n_expect);
        n_cases++;
        n_ok += ok;
        if (!ok) {
            fprintf(stderr, "FAIL %s case %d: '%.*s'\n", name, n_cases, (int)len, p);
            print_ids("expected", expect, n_expect < 1024 ? n_expect : 1024);
            print_ids("got     ", ids, n > 0 ? n : 0);
        }
        check(ok, "tokenizer vector");
        free(ids);
        if (!next) {
            break;
        }
        p = next + sep_len;
    }
    check(o >= out_end || *o == '\0', ".out has no lines left over");
    printf("%s: %d/%d vectors match\n", name, n_ok, n_cases);
    free(inp);
    free(out);
    umi_vocab_free(v);
}

/* ---------------------------------------------------------------- 2: round trips */

/* test-tokenizer-1-spm: detokenize(tokenize(detokenize([i]))) must equal
 * detokenize([i]) for every token, and detokenize(tokenize(cp)) must equal cp
 * for every code point except U+2581 (the space marker itself), skipping
 * surrogates and planes 4..14 as the reference does. Special tokens are
 * parsed and rendered (parse_special = unparse_special = true). */
static void test_round_trip(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-spm.gguf", shared);
    umi_error err = {0};
    umi_vocab *v = load_vocab(path, &err);
    check(v != NULL, "load llama-spm for round trips");
    if (!v) {
        return;
    }
    int bad_tokens = 0;
    for (int32_t i = 0; i < umi_vocab_n_tokens(v); i++) {
        size_t len = 0, len2 = 0;
        char *str = detokenize_all(v, &i, 1, true, &len);
        int32_t *ids = NULL;
        int32_t n = str ? tokenize_all(v, str, len, false, true, &ids) : -1;
        char *again = n >= 0 ? detokenize_all(v, ids, n, true, &len2) : NULL;
        if (!again || len != len2 || memcmp(str, again, len) != 0) {
            if (bad_tokens++ < 5) {
                fprintf(stderr, "  token %d: '%s' round-trips to '%s'\n", i, str ? str : "?",
                        again ? again : "?");
            }
        }
        free(str);
        free(ids);
        free(again);
    }
    check(bad_tokens == 0, "every token round-trips");

    int bad_cps = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x40000 && cp <= 0xE0000) || cp == 0x2581) {
            continue;
        }
        char s[4];
        size_t len = umi_utf8_encode(cp, s), len2 = 0;
        int32_t *ids = NULL;
        int32_t n = tokenize_all(v, s, len, false, true, &ids);
        char *again = n >= 0 ? detokenize_all(v, ids, n, true, &len2) : NULL;
        if (!again || len != len2 || memcmp(s, again, len) != 0) {
            if (bad_cps++ < 5) {
                fprintf(stderr, "  code point U+%04X does not round-trip\n", cp);
            }
        }
        free(ids);
        free(again);
    }
    check(bad_cps == 0, "every code point round-trips");
    umi_vocab_free(v);
}

/* ---------------------------------------------------------------- 3: goldens */

static void test_greedy_prompts(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/greedy.tsv", shared);
    size_t len = 0;
    char *tsv = read_file(path, &len);
    check(tsv != NULL, "read golden/greedy.tsv");
    if (!tsv) {
        return;
    }
    int rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab1 = strchr(line, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        char *tab3 = tab2 ? strchr(tab2 + 1, '\t') : NULL;
        if (!tab3) {
            continue;
        }
        *tab1 = *tab2 = *tab3 = '\0';
        const char *model = line, *prompt = tab1 + 1, *ids_text = tab2 + 1;
        if (strcmp(model, "stories260K.gguf") != 0 &&
            strcmp(model, "TinyStories-656K-Q8_0.gguf") != 0) {
            continue;
        }
        char mpath[1200];
        snprintf(mpath, sizeof mpath, "%s/models/%s", shared, model);
        umi_error err = {0};
        umi_vocab *v = load_vocab(mpath, &err);
        check(v != NULL, "load golden model's vocab");
        if (!v) {
            fprintf(stderr, "  %s: %s\n", mpath, err.msg);
            continue;
        }
        int32_t expect[512];
        int32_t n_expect = parse_ids(ids_text, ids_text + strlen(ids_text), expect, 512);
        int32_t *ids = NULL;
        int32_t n = tokenize_all(v, prompt, strlen(prompt), true, false, &ids);
        bool ok = n >= 0 && n_expect <= 512 && ids_equal(ids, n, expect, n_expect);
        if (!ok) {
            fprintf(stderr, "FAIL %s prompt '%s'\n", model, prompt);
            print_ids("expected", expect, n_expect < 512 ? n_expect : 512);
            print_ids("got     ", ids, n > 0 ? n : 0);
        }
        check(ok, "golden prompt ids");
        rows++;
        free(ids);
        umi_vocab_free(v);
    }
    check(rows >= 2, "greedy.tsv has rows for the real models");
    printf("greedy.tsv: %d prompt rows checked\n", rows);
    free(tsv);
}

/* ---------------------------------------------------------------- 4: behaviours */

/* ids of a + ids of b, tokenized separately (no special handling). */
static bool same_as(const umi_vocab *v, const char *text, bool add_special, bool parse_special,
                    int32_t before, const char *inner, int32_t after) {
    int32_t *got = NULL, *in = NULL;
    int32_t n = tokenize_all(v, text, strlen(text), add_special, parse_special, &got);
    int32_t n_in = tokenize_all(v, inner, strlen(inner), false, false, &in);
    int32_t want[256];
    int32_t k = 0;
    if (before >= 0) {
        want[k++] = before;
    }
    for (int32_t i = 0; i < n_in && k < 255; i++) {
        want[k++] = in[i];
    }
    if (after >= 0) {
        want[k++] = after;
    }
    bool ok = n >= 0 && n_in >= 0 && ids_equal(got, n, want, k);
    if (!ok) {
        fprintf(stderr, "  '%s':\n", text);
        print_ids("expected", want, k);
        print_ids("got     ", got, n > 0 ? n : 0);
    }
    free(got);
    free(in);
    return ok;
}

static void test_llama_spm_behaviour(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-spm.gguf", shared);
    umi_error err = {0};
    umi_vocab *v = load_vocab(path, &err);
    check(v != NULL, "load llama-spm");
    if (!v) {
        return;
    }
    check(umi_vocab_n_tokens(v) == 32000, "llama-spm has 32000 tokens");
    check(umi_vocab_bos(v) == 1 && umi_vocab_eos(v) == 2 && umi_vocab_unk(v) == 0,
          "llama-spm special ids");
    check(umi_vocab_get_add_bos(v) && !umi_vocab_get_add_eos(v), "llama-spm add_bos/add_eos");
    check(umi_vocab_is_eog(v, 2) && !umi_vocab_is_eog(v, 1) && !umi_vocab_is_eog(v, -1) &&
              !umi_vocab_is_eog(v, 1 << 30),
          "is_eog");
    check(umi_vocab_nl(v) == 13, "newline token is <0x0A>");

    /* Empty text: nothing, or just BOS. */
    int32_t ids[64];
    check(umi_vocab_tokenize(v, NULL, 0, ids, 64, false, false) == 0, "empty text");
    check(umi_vocab_tokenize(v, "", 0, ids, 64, true, false) == 1 && ids[0] == 1,
          "empty text with BOS");

    /* Buffer too small: -(needed), first n_max ids written. */
    int32_t full[64];
    int32_t n_full = umi_vocab_tokenize(v, "Hello world, again", 18, full, 64, true, false);
    int32_t part[2] = {-7, -7};
    check(n_full > 2 && umi_vocab_tokenize(v, "Hello world, again", 18, part, 2, true, false) ==
                            -n_full,
          "short buffer returns -(needed)");
    check(part[0] == full[0] && part[1] == full[1], "short buffer holds the first ids");

    /* Control tokens are text unless parse_special; a space prefix follows
     * every special token. */
    check(same_as(v, "<s>Hello</s>", false, true, 1, "Hello", 2), "parse_special <s>...</s>");
    check(same_as(v, "Hello", true, false, 1, "Hello", -1), "BOS + text");
    {
        int32_t *a = NULL;
        int32_t n = tokenize_all(v, "<s>", 3, false, false, &a);
        bool literal = n > 1;
        for (int32_t i = 0; i < n; i++) {
            literal = literal && a[i] != 1;
        }
        check(literal, "without parse_special <s> is plain text");
        free(a);
    }

    /* Pieces. */
    char buf[64];
    int32_t hello = umi_vocab_find(v, "\xe2\x96\x81Hello", 8);
    check(hello >= 0 && umi_vocab_token_to_piece(v, hello, buf, 64, false) == 6 &&
              memcmp(buf, " Hello", 6) == 0,
          "piece of \xe2\x96\x81Hello is ' Hello'");
    check(umi_vocab_token_to_piece(v, 13, buf, 64, false) == 1 && buf[0] == '\n',
          "piece of <0x0A> is a newline byte");
    check(umi_vocab_token_to_piece(v, 2, buf, 64, false) == 0, "control piece is empty");
    check(umi_vocab_token_to_piece(v, 2, buf, 64, true) == 4 && memcmp(buf, "</s>", 4) == 0,
          "control piece with special=true");
    check(hello >= 0 && umi_vocab_token_to_piece(v, hello, buf, 3, false) == -6,
          "piece into a short buffer returns -(needed)");
    check(umi_vocab_token_to_piece(v, 99999, buf, 64, true) == 0, "out-of-range piece");

    /* Byte fallback: a character the vocab lacks becomes its UTF-8 bytes. */
    {
        int32_t *a = NULL;
        int32_t n = tokenize_all(v, "\xf0\x9f\xa6\x99", 4, false, false, &a); /* U+1F999 */
        check(n == 5 && a[0] == umi_vocab_find(v, "\xe2\x96\x81", 3) && a[1] == 3 + 0xF0 &&
                  a[2] == 3 + 0x9F && a[3] == 3 + 0xA6 && a[4] == 3 + 0x99,
              "byte fallback for an emoji");
        free(a);
    }

    /* Detokenize drops the leading space the tokenizer added. As in the
     * reference, it does so only when the first token is not a BOS: dropping
     * the BOS (remove_special) keeps the space. */
    {
        const char *text = "Hello world";
        int32_t *a = NULL;
        int32_t n = tokenize_all(v, text, strlen(text), false, false, &a);
        int32_t got = umi_vocab_detokenize(v, a, n, buf, 64, false, false);
        check(got == 11 && memcmp(buf, text, 11) == 0, "detokenize inverts tokenize");
        check(umi_vocab_detokenize(v, a, n, buf, 4, false, false) == -11,
              "detokenize into a short buffer returns -(needed)");
        free(a);
        n = tokenize_all(v, text, strlen(text), true, false, &a);
        got = umi_vocab_detokenize(v, a, n, buf, 64, true, false);
        check(got == 12 && memcmp(buf, " Hello world", 12) == 0,
              "detokenize after BOS keeps the space (reference behaviour)");
        free(a);
    }
    umi_vocab_free(v);
}

static void test_phi3_behaviour(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-phi-3.gguf", shared);
    umi_error err = {0};
    umi_vocab *v = load_vocab(path, &err);
    check(v != NULL, "load phi-3");
    if (!v) {
        return;
    }
    int32_t user = umi_vocab_find(v, "<|user|>", 8);
    int32_t end = umi_vocab_find(v, "<|end|>", 7);
    int32_t eot = umi_vocab_find(v, "<|endoftext|>", 13);
    check(user == 32010 && end == 32007 && eot == 32000, "phi-3 chat token ids");
    check(umi_vocab_is_eog(v, end) && umi_vocab_is_eog(v, eot) && umi_vocab_is_eog(v, 2) &&
              !umi_vocab_is_eog(v, user),
          "phi-3 end-of-generation set");
    /* Phi-3's chat tokens swallow the whitespace after them (RSTRIP); the
     * text after a special token gets the space prefix. */
    check(same_as(v, "<|user|>\n  Hello<|end|>", false, true, user, "Hello", end),
          "phi-3 RSTRIP after <|user|>");
    /* "</s>" is user-defined in this file but the reference's end-of-
     * generation rule makes it control, so plain text does not match it. */
    check(umi_vocab_token_attr(v, 2) & UMI_TOKEN_ATTR_CONTROL, "phi-3 </s> forced to control");
    umi_vocab_free(v);
}

static void test_no_byte_fallback(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/TinyStories-656K-Q8_0.gguf", shared);
    umi_error err = {0};
    umi_vocab *v = load_vocab(path, &err);
    check(v != NULL, "load TinyStories vocab");
    if (!v) {
        fprintf(stderr, "  %s: %s\n", path, err.msg);
        return;
    }
    check(umi_vocab_n_tokens(v) == 2048 && umi_vocab_unk(v) == 0, "TinyStories vocab shape");
    check(umi_vocab_nl(v) == 3, "TinyStories newline is the plain \"\\n\" token");
    /* A snowman and an e-acute are not in the vocab and have no byte tokens:
     * each becomes one unknown token, and the text around them is intact. */
    const char *text = "Once \xe2\x98\x83 upon \xc3\xa9";
    int32_t *a = NULL;
    int32_t n = tokenize_all(v, text, strlen(text), true, false, &a);
    int n_unk = 0;
    for (int32_t i = 0; i < n; i++) {
        n_unk += a[i] == 0;
    }
    check(n > 3 && a[0] == 1 && n_unk == 2, "uncovered characters become <unk>");
    free(a);
    /* Text that only uses known characters never yields <unk>. */
    n = tokenize_all(v, "The cat sat.\nThe end!", 21, false, false, &a);
    n_unk = 0;
    for (int32_t i = 0; i < n; i++) {
        n_unk += a[i] == 0;
    }
    check(n > 0 && n_unk == 0, "known text has no <unk>");
    free(a);
    umi_vocab_free(v);
}

/* A tokenizer kind umi lacks is refused at load, naming the kind. */
static void test_unsupported(void) {
    static const char *const tokens[] = {"<pad>", "</s>", "<unk>"};
    umi_gguf_writer *w = umi_gguf_writer_init();
    void *buf = NULL;
    size_t size = 0;
    umi_gguf *g = NULL;
    umi_error err = {0};
    umi_vocab *v = (umi_vocab *)1;
    umi_status st = UMI_ERR_NOMEM;
    if (w && umi_gguf_writer_add_str(w, "tokenizer.ggml.model", "t5") == UMI_OK &&
        umi_gguf_writer_add_str_arr(w, "tokenizer.ggml.tokens", tokens, 3) == UMI_OK &&
        umi_gguf_writer_to_buffer(w, &buf, &size, &err) == UMI_OK &&
        umi_gguf_parse(buf, size, &g, &err) == UMI_OK) {
        st = umi_vocab_load(g, &v, &err);
    }
    check(st == UMI_ERR_UNSUPPORTED && v == NULL &&
              strstr(err.msg, "tokenizer 't5' is not supported yet") != NULL,
          "a t5 vocab is refused with a clear message");
    umi_gguf_close(g);
    free(buf);
    umi_gguf_writer_free(w);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <source_dir> <shared_dir>\n", argv[0]);
        return 2;
    }
    const char *shared = argv[2];
    if (argc > 3) { /* one vocab's reference vectors only: ctest vocab_<name> */
        test_vectors(shared, argv[3]);
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return n_fail || !n_pass ? 1 : 0;
    }
    test_vectors(shared, "llama-spm");
    test_vectors(shared, "phi-3");
    test_round_trip(shared);
    test_greedy_prompts(shared);
    test_llama_spm_behaviour(shared);
    test_phi3_behaviour(shared);
    test_no_byte_fallback(shared);
    test_unsupported();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
