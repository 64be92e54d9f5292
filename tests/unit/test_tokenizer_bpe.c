/* test_tokenizer_bpe.c — byte-level BPE and WordPiece against the reference
 * engine's own test vectors, plus the pre-tokenizer cuts that differ between
 * a textbook regex engine and the reference.
 *
 * Usage: test_tokenizer_bpe <source_dir> <shared_dir>
 *
 *   1. shared/vocab/ggml-vocab-<name>.gguf for every BPE ("gpt2") and
 *      WordPiece ("bert") vocab there: each input of the .inp file must
 *      tokenize (add_special=false, parse_special=false, as the reference's
 *      test-tokenizer-0 does) to the ids on the matching line of .out.
 *   2. Pre-tokenizer cuts, one case per rule where PCRE2 alone would cut
 *      elsewhere than the reference (expected words taken from the
 *      reference's own splitter): case-insensitive contractions, '~' and
 *      \p{S}, Unicode 15.1 letters, U+180E, U+3000 in a literal class, `$`,
 *      empty matches, surrogates, the hand-written digit and kimi-k2 rules.
 *   3. Round trips (byte-level BPE is lossless): every code point
 *      detokenizes back to itself for gpt-2, llama-bpe and qwen2; with
 *      ignore_merges (llama-bpe) every token's text tokenizes to that one
 *      token again.
 *   4. Behaviours: special tokens and BOS, the newline token, malformed
 *      UTF-8, WordPiece normalization and [CLS]/[SEP], load errors, and a
 *      long single word (the merge loop is a heap, not quadratic).
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf/gguf.h"
#include "tokenizer/pretok.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"
#include "unit/testkit.h"
#include "unit/tokkit.h"

/* ---------------------------------------------------------------- helpers */

static umi_vocab *load_vocab(const char *shared, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf", shared, name);
    umi_error err = {0};
    umi_gguf *g = NULL;
    umi_vocab *v = NULL;
    if (umi_gguf_open(path, true, &g, &err) == UMI_OK) {
        umi_vocab_load(g, &v, &err);
        umi_gguf_close(g); /* the vocab keeps copies */
    }
    if (!v) {
        fprintf(stderr, "  %s: %s\n", path, err.msg);
    }
    return v;
}

/* Detokenize (special tokens rendered) into buf; returns the length or -1. */
static int32_t detok(const umi_vocab *v, const int32_t *ids, int32_t n, char *buf, int32_t cap) {
    int32_t got = umi_vocab_detokenize(v, ids, n, buf, cap, false, true);
    return got >= 0 ? got : -1;
}

static bool ids_are(const umi_vocab *v, const char *text, bool add_special, bool parse_special,
                    const int32_t *want, int32_t n_want) {
    int32_t *ids = NULL;
    int32_t n = tokenize_all(v, text, strlen(text), add_special, parse_special, &ids);
    bool ok = n >= 0 && ids_equal(ids, n, want, n_want);
    if (!ok) {
        fprintf(stderr, "  '%s':\n", text);
        print_ids("expected", want, n_want);
        print_ids("got     ", ids, n > 0 ? n : 0);
    }
    free(ids);
    return ok;
}

/* ---------------------------------------------------------------- 1: vectors */

/* Inputs are separated by "\n__ggml_vocab_test__\n", one .out line each,
 * exactly as the reference's reader splits them. */
static void test_vectors(const char *shared, const char *name) {
    char path[1024];
    umi_vocab *v = load_vocab(shared, name);
    check(v != NULL, "load test vocab");
    if (!v) {
        return;
    }
    size_t inp_len = 0, out_len = 0;
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf.inp", shared, name);
    char *inp = read_file(path, &inp_len);
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf.out", shared, name);
    char *out = read_file(path, &out_len);
    check(inp && out, "read .inp/.out");

    static const char sep[] = "\n__ggml_vocab_test__\n";
    const char *p = inp, *inp_end = inp ? inp + inp_len : NULL;
    const char *o = out, *out_end = out ? out + out_len : NULL;
    int n_cases = 0, n_ok = 0;
    int32_t expect[2048];
    while (inp && out && p < inp_end) {
        const char *next = strstr(p, sep);
        size_t len = next ? (size_t)(next - p) : (size_t)(inp_end - p);
        const char *eol = memchr(o, '\n', (size_t)(out_end - o));
        eol = eol ? eol : out_end;
        int32_t n_expect = parse_ids(o, eol, expect, 2048);
        o = eol < out_end ? eol + 1 : out_end;

        int32_t *ids = NULL;
        int32_t n = tokenize_all(v, p, len, false, false, &ids);
        bool ok = n >= 0 && n_expect <= 2048 && ids_equal(ids, n, expect, n_expect);
        n_cases++;
        n_ok += ok;
        if (!ok) {
            fprintf(stderr, "FAIL %s case %d: '%.*s'\n", name, n_cases, (int)len, p);
            print_ids("expected", expect, n_expect < 2048 ? n_expect : 2048);
            print_ids("got     ", ids, n > 0 ? n : 0);
        }
        check(ok, "tokenizer vector");
        free(ids);
        if (!next) {
            break;
        }
        p = next + sizeof sep - 1;
    }
    check(n_cases >= 40, "vector file has its cases");
    printf("%s (%s): %d/%d vectors match\n", name, umi_vocab_pre_name(v), n_ok, n_cases);
    free(inp);
    free(out);
    umi_vocab_free(v);
}

/* ---------------------------------------------------------------- 2: cuts */

typedef struct cut_case {
    const char *pre;
    const char *text;
    const char *words; /* expected words joined by '|' */
    const char *why;
} cut_case;

/* Expected words come from the reference's unicode_regex_split. */
static const cut_case k_cuts[] = {
    {"gpt-2", "I'm 'S He's   there\n\n  x", "I|'m| '|S| He|'s|  | there|\n\n | x",
     "GPT-2 contractions are lower case only; whitespace before a word"},
    {"llama-bpe", "I'M \xc5\xbf'S \xc5\xbft", "I|'M| \xc5\xbf|'S| \xc5\xbft",
     "llama3 contractions: any case, but U+017F is no 's'"},
    {"llama-bpe", "1234567 \xf0\xae\xaf\xb0\xf0\xae\xaf\xb0x\r\n\r\n  y",
     "123|456|7| \xf0\xae\xaf\xb0\xf0\xae\xaf\xb0x|\r\n\r\n| | y",
     "digits by three; U+2EBF0 (Unicode 15.1) is a letter; newline runs"},
    {"llama-bpe", "a\xe1\xa0\x8e\xe1\xa0\x8e b\xc2\xa0\xc2\xa0" "c",
     "a|\xe1\xa0\x8e\xe1\xa0\x8e| b|\xc2\xa0|\xc2\xa0" "c",
     "U+180E is not whitespace; U+00A0 is"},
    {"qwen2", "abc123 \xf0\xb1\x8d\x90\xf0\xb1\x8d\x90!?", "abc|1|2|3| \xf0\xb1\x8d\x90\xf0\xb1\x8d\x90|!?",
     "qwen2 single digits; U+31350 (Unicode 15.0) is a letter"},
    {"deepseek-llm", "Hi\xe3\x80\x80\xe3\x80\x81x  \n  ", "Hi|\xe3\x80\x80|\xe3\x80\x81|x|  |\n|  ",
     "U+3000 is whitespace, not a member of the literal range U+3000..U+3002"},
    {"deepseek-llm", "ab  ", "ab|  ", "$ matches at the very end only"},
    {"deepseek-v3", "a~b ~~c x!~!y", "a|~b| |~|~c| x|!|~|!y", "the reference's \\p{S} lacks '~'"},
    {"youtu", "HelloWORLD AbC", "HelloWORLD| AbC", "the reference's \\p{Lu} is any letter"},
    {"tiny_aya", "x1234567 ab12", "x|1|234|567| ab|12", "digits grouped by three from the end"},
    {"afmoe", "ab12345c\xed\xa0\x80", "ab|12|345|c|\xed\xa0\x80",
     "digit groups; a surrogate is inside afmoe's U+8C48..U+FAFF"},
    {"superbpe", "1234567 12", "1|234|567| |12", "empty matches cut without making words"},
    {"kimi-k2", "Hello\xe4\xb8\xad\xe6\x96\x87World's 12345 !!", "Hello|\xe4\xb8\xad\xe6\x96\x87|World's| |123|45| !!",
     "kimi-k2's hand-written rules"},
    {"falcon", "a`x`, b", "a|`|x|`,| b", "falcon's punctuation run includes '`'"},
    {"default", "a`x`, 12345", "a|`|x|`|,| |123|45", "the default's does not"},
    {"exaone-moe", "ab\xcc\x81 cd ef", "ab\xcc\x81 cd ef", "exaone-moe keeps spaced letter groups"},
    {"gemma4", "a b\n\nc", "a\xe2\x96\x81" "b|\n\n|c", "gemma4 escapes spaces, splits newline runs"},
    {"gpt-2", "\xff\xc0\xa1", "\xef\xbf\xbd!", "a stray byte reads as U+FFFD, an overlong '!' as '!'"},
};

static void test_cuts(void) {
    umi_pretok_words w = {0};
    for (size_t i = 0; i < sizeof k_cuts / sizeof k_cuts[0]; i++) {
        const cut_case *c = &k_cuts[i];
        umi_pretok *p = NULL;
        umi_error err = {0};
        if (umi_pretok_init(c->pre, &p, &err) != UMI_OK) {
            check(false, "pre-tokenizer compiles");
            fprintf(stderr, "  %s\n", err.msg);
            continue;
        }
        char got[512];
        size_t n = 0, start = 0;
        bool ok = umi_pretok_split(p, c->text, strlen(c->text), &w) == UMI_OK;
        for (size_t k = 0; ok && k < w.n_words; k++) {
            size_t len = w.word_end[k] - start;
            if (n + len + 2 > sizeof got) {
                ok = false;
                break;
            }
            if (k > 0) {
                got[n++] = '|';
            }
            memcpy(got + n, w.text + start, len);
            n += len;
            start = w.word_end[k];
        }
        ok = ok && n == strlen(c->words) && memcmp(got, c->words, n) == 0;
        if (!ok) {
            fprintf(stderr, "  %s: '%s' -> '%.*s', want '%s'\n", c->pre, c->text, (int)n, got,
                    c->words);
        }
        check(ok, c->why);
        umi_pretok_free(p);
    }
    umi_pretok_words_free(&w);

    umi_pretok *p = NULL;
    umi_error err = {0};
    check(umi_pretok_init("no-such-pre", &p, &err) == UMI_ERR_UNSUPPORTED && p == NULL &&
              strstr(err.msg, "no-such-pre") != NULL,
          "unknown pre-tokenizer is refused by name");
    check(umi_pretok_init("", &p, &err) == UMI_OK && strcmp(umi_pretok_name(p), "default") == 0,
          "no pre-tokenizer means the default one");
    umi_pretok_free(p);
}

/* ---------------------------------------------------------------- 3: round trips */

/* The reference's test-tokenizer-1-bpe: every code point (surrogates and
 * planes 4..14 skipped) tokenizes and detokenizes back to itself. */
static void test_codepoint_round_trip(const char *shared, const char *name) {
    umi_vocab *v = load_vocab(shared, name);
    check(v != NULL, "load vocab for round trips");
    if (!v) {
        return;
    }
    int bad = 0;
    for (uint32_t cp = 0; cp < 0x110000; cp++) {
        if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x40000 && cp <= 0xE0000)) {
            continue;
        }
        char s[4], back[64];
        size_t len = umi_utf8_encode(cp, s);
        int32_t ids[16];
        int32_t n = umi_vocab_tokenize(v, s, len, ids, 16, false, false);
        int32_t got = n >= 0 ? detok(v, ids, n, back, sizeof back) : -1;
        if (got != (int32_t)len || memcmp(back, s, len) != 0) {
            if (bad++ < 5) {
                fprintf(stderr, "  %s: U+%04X does not round-trip\n", name, cp);
            }
        }
    }
    char what[128];
    snprintf(what, sizeof what, "%s: every code point round-trips", name);
    check(bad == 0, what);
    umi_vocab_free(v);
}

static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = umi_utf8_decode(s + i, n - i, &cp);
        if (cp == 0xFFFD && !(k == 3 && memcmp(s + i, "\xef\xbf\xbd", 3) == 0)) {
            return false;
        }
        i += k;
    }
    return true;
}

/* With ignore_merges a token's own piece is that token again. (The piece,
 * not the detokenized text, whose space clean-up turns " ?" into "?".)
 * Tokens whose bytes are not valid UTF-8 (lone continuation bytes) are
 * skipped: text reads malformed bytes as U+FFFD. */
static void test_token_round_trip(const char *shared) {
    umi_vocab *v = load_vocab(shared, "llama-bpe");
    check(v != NULL, "load llama-bpe for token round trips");
    if (!v) {
        return;
    }
    int bad = 0;
    char buf[512];
    for (int32_t i = 0; i < umi_vocab_n_tokens(v); i++) {
        int32_t len = umi_vocab_token_to_piece(v, i, buf, sizeof buf, true);
        int32_t ids[64];
        int32_t n = len > 0 ? umi_vocab_tokenize(v, buf, (size_t)len, ids, 64, false, true) : -1;
        if (len > 0 && valid_utf8(buf, (size_t)len) && !(n == 1 && ids[0] == i)) {
            if (bad++ < 5) {
                fprintf(stderr, "  token %d ('%.*s') tokenizes to %d tokens\n", i, len, buf, n);
            }
        }
    }
    check(bad == 0, "llama-bpe: every token's text is that token");
    umi_vocab_free(v);
}

/* ---------------------------------------------------------------- 4: behaviours */

static void test_bpe_behaviour(const char *shared) {
    umi_vocab *v = load_vocab(shared, "llama-bpe");
    check(v != NULL, "load llama-bpe");
    if (!v) {
        return;
    }
    check(umi_vocab_get_kind(v) == UMI_VOCAB_KIND_BPE && strcmp(umi_vocab_pre_name(v), "llama3") == 0,
          "llama-bpe is BPE with the llama3 pre-tokenizer");
    check(umi_vocab_bos(v) == 128000 && umi_vocab_eos(v) == 128001 && umi_vocab_nl(v) == 198,
          "llama-bpe special ids and newline token");
    check(umi_vocab_is_eog(v, 128009) && umi_vocab_eot(v) == 128009, "<|eot_id|> ends generation");
    /* Values from the reference's llama-tokenize. */
    check(ids_are(v, "Hello world", true, false, (const int32_t[]){128000, 9906, 1917}, 3),
          "BOS + text");
    check(ids_are(v, "<|begin_of_text|>Hello<|eot_id|>", true, true,
                  (const int32_t[]){128000, 128000, 9906, 128009}, 4),
          "special tokens parsed, BOS added once more");
    char buf[64];
    int32_t n = umi_vocab_token_to_piece(v, 1917, buf, sizeof buf, false);
    check(n == 6 && memcmp(buf, " world", 6) == 0, "piece of \xc4\xa0world is ' world'");
    n = umi_vocab_token_to_piece(v, 198, buf, sizeof buf, false);
    check(n == 1 && buf[0] == '\n', "piece of \xc4\x8a is a newline");
    check(umi_vocab_token_to_piece(v, 128009, buf, sizeof buf, false) == 0 &&
              umi_vocab_token_to_piece(v, 128009, buf, sizeof buf, true) == 10,
          "control piece only with special=true");

    /* Malformed UTF-8 tokenizes as U+FFFD, as in the reference. */
    int32_t *a = NULL, *b = NULL;
    int32_t na = tokenize_all(v, "x\xffy", 3, false, false, &a);
    int32_t nb = tokenize_all(v, "x\xef\xbf\xbdy", 5, false, false, &b);
    check(na > 0 && ids_equal(a, na, b, nb), "a stray byte reads as U+FFFD");
    free(a);
    free(b);

    /* One 200 KB word: the merge loop must not be quadratic. */
    size_t big = 200 * 1024;
    char *text = malloc(big);
    if (text) {
        memset(text, 'a', big);
        clock_t t0 = clock();
        int32_t count = umi_vocab_tokenize(v, text, big, NULL, 0, false, false);
        double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
        check(count < 0 && secs < 5.0, "a 200 KB word tokenizes in well under quadratic time");
        free(text);
    }
    umi_vocab_free(v);

    v = load_vocab(shared, "qwen2");
    check(v != NULL, "load qwen2");
    if (v) {
        check(ids_are(v, "<|im_start|>user\nhi<|im_end|>", false, true,
                      (const int32_t[]){151644, 872, 198, 6023, 151645}, 5),
              "qwen2 chat tokens");
        check(!umi_vocab_get_add_bos(v) && umi_vocab_is_eog(v, 151645), "qwen2 flags");
        umi_vocab_free(v);
    }
}

static void test_wpm_behaviour(const char *shared) {
    umi_vocab *v = load_vocab(shared, "bert-bge");
    check(v != NULL, "load bert-bge");
    if (!v) {
        return;
    }
    check(umi_vocab_get_kind(v) == UMI_VOCAB_KIND_WPM && umi_vocab_bos(v) == 101 &&
              umi_vocab_sep(v) == 102 && umi_vocab_unk(v) == 100,
          "bert-bge is WordPiece with [CLS]/[SEP]/[UNK]");
    /* From the reference's llama-tokenize: lowercased, accents stripped,
     * punctuation and ideographs split, wrapped in [CLS] ... [SEP]. */
    static const int32_t want[] = {101, 7592, 2088, 1010, 1746, 1861, 1060, 4160, 2480, 3501, 2860, 2615, 999, 102};
    check(ids_are(v, "H\xc3\xa9llo WORLD, \xe4\xb8\xad\xe6\x96\x87 xqzjwv!", true, false, want, 14),
          "WordPiece normalization and [CLS]/[SEP]");
    check(ids_are(v, "hello world, \xe4\xb8\xad\xe6\x96\x87 xqzjwv!", true, false, want, 14),
          "accents and case do not matter");
    check(ids_are(v, "\xe2\x98\x83\xe2\x98\x83", false, false, (const int32_t[]){100}, 1),
          "a word without pieces is [UNK]");
    char buf[256];
    int32_t n = umi_vocab_detokenize(v, want, 14, buf, sizeof buf, true, false);
    /* The reference keeps the first word's space (WordPiece has no
     * add_space_prefix to undo) and drops the one before ','. */
    check(n == 29 && memcmp(buf, " hello world, \xe4\xb8\xad \xe6\x96\x87 xqzjwv!", 29) == 0,
          "WordPiece detokenize cleans spaces before punctuation");
    umi_vocab_free(v);
}

/* A vocab GGUF built in memory from the given model/pre and token list. */
static umi_status load_synthetic(const char *model, const char *pre, bool merges,
                                 umi_vocab **out, umi_error *err) {
    static const char *const tokens[] = {"a", "b", "ab", "\xc4\x8a"};
    static const char *const merge_list[] = {"a b"};
    umi_gguf_writer *w = umi_gguf_writer_init();
    void *buf = NULL;
    size_t size = 0;
    umi_gguf *g = NULL;
    *out = NULL;
    umi_status st = w ? UMI_OK : UMI_ERR_NOMEM;
    if (st == UMI_OK) {
        umi_gguf_writer_add_str(w, "tokenizer.ggml.model", model);
        if (pre) {
            umi_gguf_writer_add_str(w, "tokenizer.ggml.pre", pre);
        }
        umi_gguf_writer_add_str_arr(w, "tokenizer.ggml.tokens", tokens, 4);
        if (merges) {
            umi_gguf_writer_add_str_arr(w, "tokenizer.ggml.merges", merge_list, 1);
        }
        st = umi_gguf_writer_to_buffer(w, &buf, &size, err);
    }
    if (st == UMI_OK) {
        st = umi_gguf_parse(buf, size, &g, err);
    }
    if (st == UMI_OK) {
        st = umi_vocab_load(g, out, err);
    }
    umi_gguf_close(g);
    free(buf);
    umi_gguf_writer_free(w);
    return st;
}

static void test_load_errors(void) {
    umi_vocab *v = NULL;
    umi_error err = {0};
    umi_status st = load_synthetic("gpt2", "gpt-2", true, &v, &err);
    check(st == UMI_OK && v, "synthetic BPE vocab loads");
    if (v) {
        int32_t ids[8];
        int32_t n = umi_vocab_tokenize(v, "ab a\n", 5, ids, 8, false, false);
        /* "ab" merges; " a" has no token for "Ġ" and no single-byte "\xc4":
         * its bytes are dropped as in the reference; "\n" is "Ċ". */
        check(n == 3 && ids[0] == 2 && ids[1] == 0 && ids[2] == 3, "synthetic merges apply");
        check(umi_vocab_nl(v) == 3 && umi_vocab_bos(v) == -1, "newline found, default BOS 11 disabled");
        umi_vocab_free(v);
    }
    st = load_synthetic("gpt2", "gpt-2", false, &v, &err);
    check(st == UMI_ERR_FORMAT && !v && strstr(err.msg, "tokenizer.ggml.merges") != NULL,
          "missing merges are a format error naming the key");
    st = load_synthetic("gpt2", "not-a-pre", true, &v, &err);
    check(st == UMI_ERR_UNSUPPORTED && !v && strstr(err.msg, "not-a-pre") != NULL,
          "unknown pre-tokenizer is refused by name");
    st = load_synthetic("gpt2", NULL, true, &v, &err);
    check(st == UMI_OK && v && strcmp(umi_vocab_pre_name(v), "default") == 0,
          "no tokenizer.ggml.pre means the default pre-tokenizer");
    umi_vocab_free(v);
}

static void test_unicode_tables(void) {
    check(umi_cpt_category(0x2EBF0) == UMI_CPT_LETTER, "U+2EBF0 is a letter (Unicode 15.1)");
    check(umi_cpt_category(0x31EF) == UMI_CPT_SYMBOL, "U+31EF is a symbol (Unicode 15.1)");
    check(umi_cpt_category(0x10D40) == UMI_CPT_UNASSIGNED, "U+10D40 is unassigned in 15.1");
    check(!umi_cpt_is_whitespace(0x180E) && umi_cpt_is_whitespace(0x85) &&
              umi_cpt_is_whitespace(0x3000),
          "White_Space");
    check(umi_cpt_tolower(0x3A3) == 0x3C3 && umi_cpt_tolower('A') == 'a' &&
              umi_cpt_tolower(0x130) == 'i',
          "simple lowercase");
    check(umi_cpt_nfd_first(0xE9) == 'e' && umi_cpt_nfd_first(0xAC00) == 0x1100 &&
              umi_cpt_nfd_first(0x1E09) == 'c',
          "first code point of NFD");
    bool bijective = true;
    for (int b = 0; b < 256; b++) {
        bijective = bijective && umi_bytelevel_byte(umi_bytelevel_cpt((uint8_t)b)) == b;
    }
    check(bijective && umi_bytelevel_cpt(' ') == 0x120 && umi_bytelevel_cpt('\n') == 0x10A &&
              umi_bytelevel_cpt(0xAD) == 0x143,
          "GPT-2 byte mapping");
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
    static const char *const vocabs[] = {"gpt-2", "llama-bpe", "qwen2", "deepseek-llm",
                                         "falcon", "starcoder", "bert-bge"};
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) {
        test_vectors(shared, vocabs[i]);
    }
    test_cuts();
    test_unicode_tables();
    test_codepoint_round_trip(shared, "gpt-2");
    if (!getenv("UMI_TEST_QUICK")) {
        test_codepoint_round_trip(shared, "llama-bpe");
        test_codepoint_round_trip(shared, "qwen2");
    }
    test_token_round_trip(shared);
    test_bpe_behaviour(shared);
    test_wpm_behaviour(shared);
    test_load_errors();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
