/* special.c — split input text on special tokens before tokenizing.
 *
 * Text like "<s>[INST] hi" must become the id of "<s>" followed by the
 * tokenization of "[INST] hi", not the tokenization of the characters '<',
 * 's', '>'. The reference does this in one fixed way and the tokenizers'
 * output depends on it (e.g. SPM adds its space prefix after every special
 * token), so umi reproduces it exactly:
 *
 *   - candidates are the vocab's control, user-defined and unknown-type
 *     tokens, longest text first (umi_vocab.special);
 *   - without parse_special, control and unknown-type tokens are skipped, so
 *     only user-defined tokens are matched (as Hugging Face tokenizers do);
 *   - each candidate in turn splits every fragment that is still raw text at
 *     all of its non-overlapping occurrences, scanning left to right;
 *   - an LSTRIP token drops the whitespace just before it, an RSTRIP token
 *     the whitespace just after it (isspace in the C locale).
 */
#include "tokenizer/vocab.h"

#include <stdlib.h>
#include <string.h>

typedef struct frag_list {
    umi_tok_fragment *items;
    size_t n, cap;
} frag_list;

static bool frag_push(frag_list *l, int32_t token, size_t off, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        umi_tok_fragment *p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            return false;
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = (umi_tok_fragment){token, off, len};
    return true;
}

static bool is_space(char c) {
    /* isspace() in the C locale, without its locale and sign pitfalls. */
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* First occurrence of needle in hay[0, hay_len), or NULL. */
static const char *find_bytes(const char *hay, size_t hay_len, const char *needle,
                              size_t needle_len) {
    if (needle_len > hay_len) {
        return NULL;
    }
    const char *end = hay + (hay_len - needle_len);
    for (const char *p = hay; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p) {
            return NULL;
        }
        if (memcmp(p, needle, needle_len) == 0) {
            return p;
        }
    }
    return NULL;
}

/* Split raw fragment [off, off+len) on token id into dst. */
static bool split_fragment(const umi_vocab *v, const char *text, size_t off, size_t len,
                           int32_t id, frag_list *dst) {
    const umi_vocab_token *t = &v->tokens[id];
    const char *needle = v->text + t->text_off;
    const size_t n_len = t->text_len;
    for (;;) {
        const char *m = len ? find_bytes(text + off, len, needle, n_len) : NULL;
        if (!m) {
            return len == 0 || frag_push(dst, -1, off, len);
        }
        size_t pos = (size_t)(m - text);
        size_t left = pos - off;
        if (t->attr & UMI_TOKEN_ATTR_LSTRIP) {
            while (left > 0 && is_space(text[off + left - 1])) {
                left--;
            }
        }
        if (left > 0 && !frag_push(dst, -1, off, left)) {
            return false;
        }
        if (!frag_push(dst, id, pos, n_len)) {
            return false;
        }
        size_t r_off = pos + n_len;
        size_t r_len = off + len - r_off;
        if (t->attr & UMI_TOKEN_ATTR_RSTRIP) {
            while (r_len > 0 && is_space(text[r_off])) {
                r_off++;
                r_len--;
            }
        }
        off = r_off;
        len = r_len;
    }
}

umi_status umi_vocab_split_special(const umi_vocab *v, const char *text, size_t len,
                                   bool parse_special, umi_tok_fragment **frags,
                                   size_t *n_frags) {
    *frags = NULL;
    *n_frags = 0;
    if (len == 0) {
        return UMI_OK;
    }
    frag_list cur = {0}, next = {0};
    if (!frag_push(&cur, -1, 0, len)) {
        return UMI_ERR_NOMEM;
    }
    /* Which bytes occur at all: most candidates can be skipped without a
     * search because their first byte never appears in the text. */
    bool present[256] = {false};
    for (size_t i = 0; i < len; i++) {
        present[(uint8_t)text[i]] = true;
    }
    const uint32_t skip_unparsed = UMI_TOKEN_ATTR_CONTROL | UMI_TOKEN_ATTR_UNKNOWN;
    for (int32_t s = 0; s < v->n_special; s++) {
        int32_t id = v->special[s];
        const umi_vocab_token *t = &v->tokens[id];
        if (!parse_special && (t->attr & skip_unparsed)) {
            continue;
        }
        if (!present[(uint8_t)v->text[t->text_off]] || t->text_len > len) {
            continue;
        }
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++) {
            const umi_tok_fragment f = cur.items[i];
            bool ok = f.token >= 0 ? frag_push(&next, f.token, f.off, f.len)
                                   : split_fragment(v, text, f.off, f.len, id, &next);
            if (!ok) {
                free(cur.items);
                free(next.items);
                return UMI_ERR_NOMEM;
            }
        }
        frag_list tmp = cur;
        cur = next;
        next = tmp;
    }
    free(next.items);
    *frags = cur.items;
    *n_frags = cur.n;
    return UMI_OK;
}
