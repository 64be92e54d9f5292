/* spm.c — the SentencePiece-style tokenizer (tokenizer.ggml.model = "llama").
 *
 * Per raw-text fragment (after special-token splitting, special.c):
 *   1. Prepend ' ' when the vocab has add_space_prefix and the fragment comes
 *      first or right after a special token; then every ' ' becomes U+2581
 *      ("▁"), the marker SentencePiece vocabularies store spaces as.
 *   2. Split into characters (the lead byte's length, clamped at the end).
 *   3. Repeatedly merge the adjacent pair whose concatenation is a token with
 *      the highest score; ties go to the leftmost pair. A max-heap of
 *      candidate pairs makes this O(n log n) in the fragment length: each
 *      merge invalidates at most two queued pairs (they are skipped when
 *      popped, recognised by their recorded size no longer matching) and
 *      queues at most two new ones.
 *   4. Emit each remaining symbol's token. A symbol with no token is a single
 *      character the vocab lacks: it becomes its bytes' <0xNN> tokens (byte
 *      fallback). When some byte has no token either (vocabs built without
 *      byte fallback), the whole character becomes the unknown token; the
 *      reference engine aborts there instead.
 * This matches the reference token for token (tests/unit/test_tokenizer_spm.c
 * checks its own test vectors).
 */
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

#include <stdlib.h>
#include <string.h>

/* A run of bytes text[off, off+n) of the escaped fragment; n == 0 once merged
 * into its left neighbour. prev/next link the live symbols (-1 at the ends). */
typedef struct spm_symbol {
    int32_t prev;
    int32_t next;
    uint32_t off;
    uint32_t n;
} spm_symbol;

/* A candidate merge of symbols left and right, whose joint text (size bytes)
 * is a token with the given score. */
typedef struct spm_pair {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;
} spm_pair;

typedef struct spm_state {
    const umi_vocab *v;
    char *text;       /* escaped fragment */
    spm_symbol *sym;  /* [n_sym], room for cap_sym */
    int32_t n_sym;
    size_t cap_sym;
    spm_pair *heap;   /* binary max-heap by pair_before */
    size_t n_heap, cap_heap;
} spm_state;

/* ---------------------------------------------------------------- pair heap */

/* Higher score first; on equal scores the leftmost pair. */
static bool pair_before(const spm_pair *a, const spm_pair *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(spm_state *s, spm_pair p) {
    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 64;
        spm_pair *h = realloc(s->heap, cap * sizeof *h);
        if (!h) {
            return false;
        }
        s->heap = h;
        s->cap_heap = cap;
    }
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pair_before(&p, &s->heap[parent])) {
            break;
        }
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = p;
    return true;
}

static spm_pair heap_pop(spm_state *s) {
    spm_pair top = s->heap[0];
    spm_pair last = s->heap[--s->n_heap];
    size_t i = 0, n = s->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && pair_before(&s->heap[c + 1], &s->heap[c])) {
            c++;
        }
        if (!pair_before(&s->heap[c], &last)) {
            break;
        }
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n > 0) {
        s->heap[i] = last;
    }
    return top;
}

/* ---------------------------------------------------------------- merging */

/* Queue the merge of left and right if their joint text is a token. */
static bool try_pair(spm_state *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) {
        return true;
    }
    const spm_symbol *l = &s->sym[left], *r = &s->sym[right];
    uint32_t size = l->n + r->n;
    int32_t id = umi_vocab_find(s->v, s->text + l->off, size);
    if (id < 0) {
        return true;
    }
    return heap_push(s, (spm_pair){s->v->tokens[id].score, left, right, size});
}

/* Output one final symbol: its token, or byte fallback, or unknown. */
static void emit_symbol(const spm_state *s, const spm_symbol *sym, umi_tok_sink *sink) {
    const umi_vocab *v = s->v;
    const char *p = s->text + sym->off;
    int32_t id = umi_vocab_find(v, p, sym->n);
    if (id >= 0) {
        umi_tok_sink_push(sink, id);
        return;
    }
    bool all_bytes = true;
    for (uint32_t j = 0; j < sym->n; j++) {
        all_bytes = all_bytes && v->byte_token[(uint8_t)p[j]] >= 0;
    }
    if (all_bytes) {
        for (uint32_t j = 0; j < sym->n; j++) {
            umi_tok_sink_push(sink, v->byte_token[(uint8_t)p[j]]);
        }
    } else if (v->unk >= 0) {
        umi_tok_sink_push(sink, v->unk);
    }
    /* else: no way to represent the character at all; it is dropped. */
}

/* Tokenize s->text[0, len) (already escaped) into sink. */
static bool spm_word(spm_state *s, size_t len, umi_tok_sink *sink) {
    /* Count the characters first so the symbol array is sized exactly. */
    size_t count = 0;
    for (size_t off = 0; off < len; count++) {
        size_t k = umi_utf8_seq_len((uint8_t)s->text[off]);
        off += k < len - off ? k : len - off;
    }
    if (count > s->cap_sym) {
        spm_symbol *p = realloc(s->sym, count * sizeof *p);
        if (!p) {
            return false;
        }
        s->sym = p;
        s->cap_sym = count;
    }
    int32_t n = 0;
    for (size_t off = 0; off < len;) {
        size_t k = umi_utf8_seq_len((uint8_t)s->text[off]);
        if (k > len - off) {
            k = len - off;
        }
        s->sym[n] = (spm_symbol){n - 1, off + k == len ? -1 : n + 1, (uint32_t)off, (uint32_t)k};
        off += k;
        n++;
    }
    s->n_sym = n;
    if (n == 0) {
        return true;
    }
    s->n_heap = 0;
    for (int32_t i = 1; i < n; i++) {
        if (!try_pair(s, i - 1, i)) {
            return false;
        }
    }
    while (s->n_heap > 0) {
        spm_pair p = heap_pop(s);
        spm_symbol *l = &s->sym[p.left], *r = &s->sym[p.right];
        /* Stale: one side was merged away or grew since this was queued.
         * (Live symbols only grow, so an unchanged sum means unchanged sides.) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != p.size) {
            continue;
        }
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) {
            s->sym[r->next].prev = p.left;
        }
        if (!try_pair(s, l->prev, p.left) || !try_pair(s, p.left, l->next)) {
            return false;
        }
    }
    for (int32_t i = 0; i != -1; i = s->sym[i].next) {
        emit_symbol(s, &s->sym[i], sink);
    }
    return true;
}

/* ---------------------------------------------------------------- driver */

/* Write the fragment, with an optional leading space, into dst with every
 * ' ' replaced by U+2581. Returns the escaped length. */
static size_t escape_spaces(const char *src, size_t len, bool space_prefix, char *dst) {
    static const char marker[3] = {'\xe2', '\x96', '\x81'};
    size_t n = 0;
    if (space_prefix) {
        memcpy(dst, marker, 3);
        n = 3;
    }
    for (size_t i = 0; i < len; i++) {
        if (src[i] == ' ') {
            memcpy(dst + n, marker, 3);
            n += 3;
        } else {
            dst[n++] = src[i];
        }
    }
    return n;
}

umi_status umi_spm_tokenize(const umi_vocab *v, const char *text,
                            const umi_tok_fragment *frags, size_t n_frags, bool add_special,
                            umi_tok_sink *sink) {
    /* The escape buffer is sized once for the longest raw fragment: escaping
     * at most triples it, plus the prefix. Symbols and pairs grow on demand. */
    size_t max_len = 0;
    for (size_t i = 0; i < n_frags; i++) {
        if (frags[i].token < 0 && frags[i].len > max_len) {
            max_len = frags[i].len;
        }
    }
    if (max_len > (size_t)INT32_MAX / 4) {
        return UMI_ERR_ARG; /* symbol offsets are 32-bit */
    }
    spm_state s = {.v = v};
    if (max_len > 0) {
        s.text = malloc(3 * (max_len + 1));
        if (!s.text) {
            return UMI_ERR_NOMEM;
        }
    }

    umi_status st = UMI_OK;
    bool prev_special = true; /* the text start counts as "after a special token" */
    if (add_special && v->add_bos && v->bos >= 0) {
        umi_tok_sink_push(sink, v->bos);
    }
    for (size_t i = 0; i < n_frags && st == UMI_OK; i++) {
        const umi_tok_fragment *f = &frags[i];
        if (f->token >= 0) {
            umi_tok_sink_push(sink, f->token);
            prev_special = true;
            continue;
        }
        size_t n = escape_spaces(text + f->off, f->len, v->add_space_prefix && prev_special,
                                 s.text);
        if (!spm_word(&s, n, sink)) {
            st = UMI_ERR_NOMEM;
        }
        prev_special = false;
    }
    if (add_special && v->add_eos && v->eos >= 0) {
        umi_tok_sink_push(sink, v->eos);
    }
    free(s.text);
    free(s.sym);
    free(s.heap);
    return st;
}
