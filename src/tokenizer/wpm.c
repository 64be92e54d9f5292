/* wpm.c — WordPiece (tokenizer.ggml.model = "bert"), as the reference does it.
 *
 * Per raw-text fragment (after special-token splitting, special.c):
 *   1. Normalize and split into words, code point by code point (malformed
 *      UTF-8 reads as U+FFFD):
 *        - with strip_accents, each code point is first replaced by the first
 *          code point of its canonical decomposition ("é" -> "e" + accent),
 *          and combining marks are then dropped;
 *        - whitespace ends the current word;
 *        - NUL, U+FFFD and control/format characters are dropped;
 *        - with lowercase, letters are lowercased (simple mapping);
 *        - punctuation, ASCII symbols and CJK ideographs are words of their
 *          own; everything else extends the current word.
 *      (tokenizer.ggml.normalizer.lowercase defaults to true, and
 *      strip_accents defaults to lowercase.)
 *   2. Each word, prefixed with U+2581 (the converted vocab marks
 *      word-initial pieces that way instead of continuation pieces with
 *      "##"), is covered greedily from the left by the longest token at each
 *      byte position. If some position has no token, the whole word becomes
 *      the unknown token.
 * With add_special the result is wrapped in [CLS] (the BOS id) ... [SEP].
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

/* The ideograph blocks BERT isolates. The supplementary block starting at
 * U+2B920 (not U+2B820) is what the reference and Hugging Face's BERT
 * normalizer use. */
static bool is_cjk(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

typedef struct wpm_state {
    const umi_vocab *v;
    char *word;      /* "\u2581" + the current word */
    size_t len, cap;
} wpm_state;

static bool word_append(wpm_state *s, uint32_t cp) {
    if (s->len + 4 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char *p = realloc(s->word, cap);
        if (!p) {
            return false;
        }
        s->word = p;
        s->cap = cap;
    }
    s->len += umi_utf8_encode(cp, s->word + s->len);
    return true;
}

static void word_reset(wpm_state *s) {
    s->len = 0;
    word_append(s, 0x2581); /* cap >= 64 after the first call; cannot fail after that */
}

/* Cover the current word with tokens, or emit the unknown token. */
static void finish_word(wpm_state *s, umi_tok_sink *sink) {
    const size_t n = s->len;
    if (n <= 3) {
        return; /* only the marker: no word */
    }
    const umi_vocab *v = s->v;
    const int64_t first = sink->n;
    for (size_t i = 0; i < n;) {
        size_t j = i + v->max_token_len + 1 < n ? i + v->max_token_len + 1 : n;
        int32_t id = -1;
        for (; j > i; j--) {
            id = umi_vocab_find(v, s->word + i, j - i);
            if (id >= 0) {
                break;
            }
        }
        if (id < 0) {
            sink->n = first; /* drop the word's pieces */
            break;
        }
        umi_tok_sink_push(sink, id);
        i = j;
    }
    if (sink->n == first && v->unk >= 0) {
        umi_tok_sink_push(sink, v->unk);
    }
    word_reset(s);
}

static bool wpm_fragment(wpm_state *s, const char *text, size_t len, umi_tok_sink *sink) {
    const umi_vocab *v = s->v;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += umi_cpt_decode(text + i, len - i, &cp);
        if (v->wpm_strip_accents) {
            cp = umi_cpt_nfd_first(cp);
        }
        if (umi_cpt_is_whitespace(cp)) {
            finish_word(s, sink);
            continue;
        }
        enum umi_cpt_category cat = umi_cpt_category(cp);
        if (cp == 0 || cp == 0xFFFD || cat == UMI_CPT_CONTROL ||
            (v->wpm_strip_accents && cat == UMI_CPT_MARK)) {
            continue;
        }
        uint32_t out = v->wpm_lowercase ? umi_cpt_tolower(cp) : cp;
        bool alone = cat == UMI_CPT_PUNCTUATION || (cp < 0x7F && cat == UMI_CPT_SYMBOL) ||
                     is_cjk(cp);
        if (alone) {
            finish_word(s, sink);
        }
        if (!word_append(s, out)) {
            return false;
        }
        if (alone) {
            finish_word(s, sink);
        }
    }
    finish_word(s, sink);
    return true;
}

umi_status umi_wpm_tokenize(const umi_vocab *v, const char *text, const umi_tok_fragment *frags,
                            size_t n_frags, bool add_special, umi_tok_sink *sink) {
    wpm_state s = {.v = v};
    if (!word_append(&s, 0x2581)) {
        return UMI_ERR_NOMEM;
    }
    umi_status st = UMI_OK;
    if (add_special && v->bos >= 0) {
        umi_tok_sink_push(sink, v->bos);
    }
    for (size_t i = 0; i < n_frags && st == UMI_OK; i++) {
        const umi_tok_fragment *f = &frags[i];
        if (f->token >= 0) {
            umi_tok_sink_push(sink, f->token);
        } else if (!wpm_fragment(&s, text + f->off, f->len, sink)) {
            st = UMI_ERR_NOMEM;
        }
    }
    if (add_special && v->sep >= 0) {
        umi_tok_sink_push(sink, v->sep);
    }
    free(s.word);
    return st;
}
