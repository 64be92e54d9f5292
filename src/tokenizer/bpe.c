/* bpe.c — byte-level BPE (tokenizer.ggml.model = "gpt2", and "gemma4").
 *
 * Per raw-text fragment (after special-token splitting, special.c):
 *   1. The pre-tokenizer named by tokenizer.ggml.pre cuts the text into words
 *      (pretok.c); BPE never merges across a word boundary.
 *   2. Each byte of a word is written as its GPT-2 stand-in character
 *      (unicode.c), so every word is a string of the 256 byte characters the
 *      vocab is built on. (gemma4-style vocabs skip this and work on the
 *      UTF-8 characters themselves.)
 *   3. With ignore_merges (llama3 and a few others), a word that is a token as
 *      a whole becomes that token.
 *   4. Otherwise the word starts as one symbol per character, and the
 *      adjacent pair of lowest merge rank (tokenizer.ggml.merges, rank =
 *      index; ties to the leftmost) is merged until no pair has a rank. A
 *      min-heap of candidate pairs keeps this O(n log n) in the word length:
 *      a merge invalidates at most two queued pairs (skipped when popped) and
 *      queues at most two new ones.
 *   5. Each final symbol becomes its token. One that is not a token (only in
 *      vocabs whose merges make strings the vocab lacks) becomes the tokens
 *      of its single bytes where those exist, as in the reference.
 *
 * Merges are keyed by symbol ids rather than strings: every string a merge
 * mentions, as a part or as the joined result, gets an id at load time — its
 * token id, or an id past the vocab for the rare string that is no token.
 * One string, one id, so a pair of ids stands for a pair of strings exactly
 * and the merge loop does integer lookups only.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretok.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

/* One merge: symbols left + right become result. Empty slots have rank -1. */
typedef struct bpe_merge {
    uint64_t key; /* (uint32)left << 32 | (uint32)right */
    int32_t rank;
    int32_t result;
} bpe_merge;

struct umi_bpe {
    bpe_merge *slots; /* open addressing, linear probing */
    uint64_t mask;
    int32_t n_merges;

    /* Strings merges mention that are no token: ids n_tokens + i. */
    char *extra_text;
    size_t extra_len, extra_cap;
    uint32_t *extra_off; /* [n_extra + 1] */
    int32_t n_extra, extra_cap_ids;
    int32_t *extra_slots; /* hash over extras, -1 = empty */
    uint32_t extra_mask;

    int32_t byte_sym[256]; /* id of each byte's stand-in character, -1 if none */
};

/* ---------------------------------------------------------------- symbol ids */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static const char *extra_str(const umi_bpe *b, int32_t i, size_t *n) {
    *n = b->extra_off[i + 1] - b->extra_off[i];
    return b->extra_text + b->extra_off[i];
}

static int32_t extra_find(const umi_bpe *b, const char *s, size_t n) {
    if (b->n_extra == 0) {
        return -1;
    }
    for (uint32_t i = (uint32_t)hash_bytes(s, n) & b->extra_mask;; i = (i + 1) & b->extra_mask) {
        int32_t e = b->extra_slots[i];
        if (e < 0) {
            return -1;
        }
        size_t len;
        const char *t = extra_str(b, e, &len);
        if (len == n && memcmp(t, s, n) == 0) {
            return e;
        }
    }
}

/* The id of string s: its token id, else its extra id, else -1. */
static int32_t sym_find(const umi_vocab *v, const char *s, size_t n) {
    int32_t id = umi_vocab_find(v, s, n);
    if (id >= 0) {
        return id;
    }
    int32_t e = extra_find(v->bpe, s, n);
    return e >= 0 ? v->n_tokens + e : -1;
}

static bool extra_rehash(umi_bpe *b, uint32_t n_slots) {
    int32_t *slots = malloc((size_t)n_slots * sizeof *slots);
    if (!slots) {
        return false;
    }
    for (uint32_t i = 0; i < n_slots; i++) {
        slots[i] = -1;
    }
    for (int32_t e = 0; e < b->n_extra; e++) {
        size_t len;
        const char *t = extra_str(b, e, &len);
        uint32_t i = (uint32_t)hash_bytes(t, len) & (n_slots - 1);
        while (slots[i] >= 0) {
            i = (i + 1) & (n_slots - 1);
        }
        slots[i] = e;
    }
    free(b->extra_slots);
    b->extra_slots = slots;
    b->extra_mask = n_slots - 1;
    return true;
}

/* The id of s, making an extra id when s is no token. -1 when out of memory
 * or when the ids would pass INT32_MAX. */
static int32_t sym_intern(umi_vocab *v, const char *s, size_t n) {
    int32_t id = sym_find(v, s, n);
    if (id >= 0) {
        return id;
    }
    umi_bpe *b = v->bpe;
    if (b->n_extra >= INT32_MAX - v->n_tokens - 1 || b->extra_len + n > UINT32_MAX) {
        return -1;
    }
    if (b->n_extra + 2 > b->extra_cap_ids) {
        int32_t cap = b->extra_cap_ids ? b->extra_cap_ids * 2 : 64;
        uint32_t *off = realloc(b->extra_off, (size_t)cap * sizeof *off);
        if (!off) {
            return -1;
        }
        b->extra_off = off;
        b->extra_cap_ids = cap;
        if (b->n_extra == 0) {
            off[0] = 0;
        }
    }
    if (b->extra_len + n > b->extra_cap) {
        size_t cap = b->extra_cap ? b->extra_cap : 1024;
        while (cap < b->extra_len + n) {
            cap *= 2;
        }
        char *t = realloc(b->extra_text, cap);
        if (!t) {
            return -1;
        }
        b->extra_text = t;
        b->extra_cap = cap;
    }
    memcpy(b->extra_text + b->extra_len, s, n);
    b->extra_len += n;
    b->extra_off[b->n_extra + 1] = (uint32_t)b->extra_len;
    int32_t e = b->n_extra++;
    /* Keep the table at most half full. */
    uint32_t n_slots = b->extra_slots ? b->extra_mask + 1 : 0;
    if (2u * (uint32_t)b->n_extra > n_slots) {
        if (!extra_rehash(b, n_slots ? 2 * n_slots : 16)) {
            b->n_extra--;
            b->extra_len -= n;
            return -1;
        }
    } else {
        uint32_t i = (uint32_t)hash_bytes(s, n) & b->extra_mask;
        while (b->extra_slots[i] >= 0) {
            i = (i + 1) & b->extra_mask;
        }
        b->extra_slots[i] = e;
    }
    return v->n_tokens + b->n_extra - 1;
}

/* ---------------------------------------------------------------- merge table */

static uint64_t pair_key(int32_t left, int32_t right) {
    return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

static uint64_t key_slot(uint64_t key, uint64_t mask) {
    return (key * 0x9E3779B97F4A7C15ull >> 17) & mask;
}

static const bpe_merge *merge_find(const umi_bpe *b, int32_t left, int32_t right) {
    if (left < 0 || right < 0 || b->n_merges == 0) {
        return NULL;
    }
    uint64_t key = pair_key(left, right);
    for (uint64_t i = key_slot(key, b->mask);; i = (i + 1) & b->mask) {
        const bpe_merge *m = &b->slots[i];
        if (m->rank < 0) {
            return NULL;
        }
        if (m->key == key) {
            return m;
        }
    }
}

/* Insert unless the pair is there already: a repeated merge keeps its first
 * (lowest) rank, as the reference's map insertion does. */
static void merge_insert(umi_bpe *b, int32_t left, int32_t right, int32_t rank, int32_t result) {
    uint64_t key = pair_key(left, right);
    for (uint64_t i = key_slot(key, b->mask);; i = (i + 1) & b->mask) {
        bpe_merge *m = &b->slots[i];
        if (m->rank < 0) {
            *m = (bpe_merge){key, rank, result};
            b->n_merges++;
            return;
        }
        if (m->key == key) {
            return;
        }
    }
}

/* ---------------------------------------------------------------- load */

/* One merge line "left right": the parts are split at the first space after
 * the first byte (a part may start with a space). Lines without such a
 * space, and the text after a NUL byte, are ignored, as in the reference. */
static umi_status add_merge(umi_vocab *v, const umi_gguf_str *line, int32_t rank, char *join) {
    size_t len = strnlen(line->ptr, (size_t)line->len);
    const char *sp = len > 1 ? memchr(line->ptr + 1, ' ', len - 1) : NULL;
    if (!sp) {
        return UMI_OK;
    }
    size_t n_left = (size_t)(sp - line->ptr), n_right = len - n_left - 1;
    memcpy(join, line->ptr, n_left);
    memcpy(join + n_left, sp + 1, n_right);
    int32_t left = sym_intern(v, line->ptr, n_left);
    int32_t right = left >= 0 ? sym_intern(v, sp + 1, n_right) : -1;
    int32_t result = right >= 0 ? sym_intern(v, join, n_left + n_right) : -1;
    if (result < 0) {
        return UMI_ERR_NOMEM;
    }
    merge_insert(v->bpe, left, right, rank, result);
    return UMI_OK;
}

static umi_status load_merges(umi_vocab *v, const umi_gguf *g, umi_error *err) {
    const char *key = "tokenizer.ggml.merges";
    const umi_gguf_kv *kv = umi_gguf_find(g, key);
    if (!kv) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: missing (a BPE vocab needs its merges)", key);
    }
    if (kv->type != UMI_GGUF_ARRAY || kv->arr_type != UMI_GGUF_STRING || !kv->strs) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: expected an array of strings (key at byte %llu)",
                       key, (unsigned long long)kv->offset);
    }
    if (kv->arr_n > (uint64_t)INT32_MAX / 2) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: %llu merges is out of range", key,
                       (unsigned long long)kv->arr_n);
    }
    umi_bpe *b = v->bpe;
    uint64_t n_slots = 16;
    while (n_slots < kv->arr_n + kv->arr_n / 2) {
        n_slots *= 2;
    }
    b->slots = malloc(n_slots * sizeof *b->slots);
    size_t longest = 0;
    for (uint64_t i = 0; i < kv->arr_n; i++) {
        longest = kv->strs[i].len > longest ? (size_t)kv->strs[i].len : longest;
    }
    char *join = malloc(longest + 1);
    if (!b->slots || !join) {
        free(join);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for %llu merges",
                       (unsigned long long)kv->arr_n);
    }
    for (uint64_t i = 0; i < n_slots; i++) {
        b->slots[i].rank = -1;
    }
    b->mask = n_slots - 1;
    for (uint64_t i = 0; i < kv->arr_n; i++) {
        if (add_merge(v, &kv->strs[i], (int32_t)i, join) != UMI_OK) {
            free(join);
            return umi_err(err, UMI_ERR_NOMEM, "out of memory for merge %llu",
                           (unsigned long long)i);
        }
    }
    free(join);
    return UMI_OK;
}

umi_status umi_bpe_init(umi_vocab *v, const umi_gguf *g, bool need_merges, umi_error *err) {
    v->bpe = calloc(1, sizeof *v->bpe);
    if (!v->bpe) {
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for the BPE tables");
    }
    umi_status st = UMI_OK;
    if (need_merges || umi_gguf_find(g, "tokenizer.ggml.merges")) {
        st = load_merges(v, g, err);
    }
    for (int c = 0; c < 256 && st == UMI_OK; c++) {
        char s[4];
        size_t n = umi_utf8_encode(umi_bytelevel_cpt((uint8_t)c), s);
        v->bpe->byte_sym[c] = sym_find(v, s, n);
    }
    return st;
}

void umi_bpe_free(umi_bpe *b) {
    if (!b) {
        return;
    }
    free(b->slots);
    free(b->extra_text);
    free(b->extra_off);
    free(b->extra_slots);
    free(b);
}

/* ---------------------------------------------------------------- merging */

typedef struct bpe_symbol {
    int32_t prev, next; /* live neighbours, -1 at the ends */
    uint32_t off, n;    /* bytes word[off, off+n); n == 0 once merged away */
    int32_t id;         /* symbol id (token or extra), -1 if the string has none */
} bpe_symbol;

typedef struct bpe_pair {
    int32_t rank;
    int32_t left, right;
    int32_t left_id, right_id; /* ids when queued: stale if either changed */
} bpe_pair;

typedef struct bpe_state {
    const umi_vocab *v;
    umi_pretok_words words;
    char *word;         /* the word being merged (byte-level encoded) */
    size_t word_cap;
    bpe_symbol *sym;
    size_t sym_cap;
    bpe_pair *heap;     /* binary min-heap by pair_before */
    size_t n_heap, heap_cap;
} bpe_state;

static bool pair_before(const bpe_pair *a, const bpe_pair *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static bool heap_push(bpe_state *s, bpe_pair p) {
    if (s->n_heap == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
        bpe_pair *h = realloc(s->heap, cap * sizeof *h);
        if (!h) {
            return false;
        }
        s->heap = h;
        s->heap_cap = cap;
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

static bpe_pair heap_pop(bpe_state *s) {
    bpe_pair top = s->heap[0];
    bpe_pair last = s->heap[--s->n_heap];
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

/* Queue the merge of symbols left and right if their pair has a rank. */
static bool try_pair(bpe_state *s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) {
        return true;
    }
    const bpe_merge *m = merge_find(s->v->bpe, s->sym[left].id, s->sym[right].id);
    if (!m) {
        return true;
    }
    return heap_push(s, (bpe_pair){m->rank, left, right, s->sym[left].id, s->sym[right].id});
}

/* A symbol that is no token: the tokens of its single bytes, where those
 * exist (byte-level vocabs look up each byte of the encoded text as a
 * one-byte token; raw-UTF-8 vocabs use their <0xNN> byte tokens). */
static void emit_bytes(const umi_vocab *v, const char *p, uint32_t n, umi_tok_sink *sink) {
    static const char hex[] = "0123456789ABCDEF";
    for (uint32_t j = 0; j < n; j++) {
        uint8_t c = (uint8_t)p[j];
        int32_t id;
        if (v->byte_encode) {
            id = umi_vocab_find(v, (const char *)&p[j], 1);
        } else {
            char name[6] = {'<', '0', 'x', hex[c >> 4], hex[c & 15], '>'};
            id = umi_vocab_find(v, name, 6);
        }
        if (id >= 0) {
            umi_tok_sink_push(sink, id);
        }
    }
}

static void emit_symbol(const bpe_state *s, const bpe_symbol *sym, umi_tok_sink *sink) {
    if (sym->id >= 0 && sym->id < s->v->n_tokens) {
        umi_tok_sink_push(sink, sym->id);
    } else {
        emit_bytes(s->v, s->word + sym->off, sym->n, sink);
    }
}

/* Split s->word[0, len) into its first symbols, one per character; *n_sym
 * gets their count. */
static bool init_symbols(bpe_state *s, const char *raw, size_t raw_len, size_t len,
                         int32_t *n_sym) {
    if (len > s->sym_cap) {
        bpe_symbol *p = realloc(s->sym, len * sizeof *p);
        if (!p) {
            return false;
        }
        s->sym = p;
        s->sym_cap = len;
    }
    const umi_vocab *v = s->v;
    int32_t n = 0;
    if (v->byte_encode) {
        /* One symbol per raw byte: its stand-in is 1 or 2 bytes of word. */
        uint32_t off = 0;
        for (size_t i = 0; i < raw_len; i++) {
            uint8_t c = (uint8_t)raw[i];
            uint32_t k = c >= 0x21 && c <= 0x7E ? 1 : 2;
            s->sym[n] = (bpe_symbol){n - 1, n + 1, off, k, v->bpe->byte_sym[c]};
            off += k;
            n++;
        }
    } else {
        for (size_t off = 0; off < len;) {
            size_t k = umi_utf8_seq_len((uint8_t)s->word[off]);
            k = k < len - off ? k : len - off;
            s->sym[n] = (bpe_symbol){n - 1, n + 1, (uint32_t)off, (uint32_t)k,
                                     sym_find(v, s->word + off, k)};
            off += k;
            n++;
        }
    }
    if (n > 0) {
        s->sym[n - 1].next = -1;
    }
    *n_sym = n;
    return true;
}

/* Merge one word (s->word[0, len) holds its symbol text) into sink. */
static bool bpe_merge_word(bpe_state *s, const char *raw, size_t raw_len, size_t len,
                           umi_tok_sink *sink) {
    int32_t n = 0;
    if (!init_symbols(s, raw, raw_len, len, &n)) {
        return false;
    }
    s->n_heap = 0;
    for (int32_t i = 1; i < n; i++) {
        if (!try_pair(s, i - 1, i)) {
            return false;
        }
    }
    while (s->n_heap > 0) {
        bpe_pair p = heap_pop(s);
        bpe_symbol *l = &s->sym[p.left], *r = &s->sym[p.right];
        if (l->n == 0 || r->n == 0 || l->id != p.left_id || r->id != p.right_id) {
            continue; /* stale: a side was merged away or has grown */
        }
        l->n += r->n;
        l->id = merge_find(s->v->bpe, p.left_id, p.right_id)->result;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) {
            s->sym[r->next].prev = p.left;
        }
        if (!try_pair(s, l->prev, p.left) || !try_pair(s, p.left, l->next)) {
            return false;
        }
    }
    for (int32_t i = 0; i != -1 && n > 0; i = s->sym[i].next) {
        emit_symbol(s, &s->sym[i], sink);
    }
    return true;
}

static bool all_newlines(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            return false;
        }
    }
    return n > 0;
}

/* Tokenize one pre-tokenized word raw[0, raw_len). */
static bool bpe_word(bpe_state *s, const char *raw, size_t raw_len, umi_tok_sink *sink) {
    const umi_vocab *v = s->v;
    size_t need = v->byte_encode ? 2 * raw_len : raw_len;
    if (need > s->word_cap) {
        char *p = realloc(s->word, need);
        if (!p) {
            return false;
        }
        s->word = p;
        s->word_cap = need;
    }
    size_t len = 0;
    if (v->byte_encode) {
        for (size_t i = 0; i < raw_len; i++) {
            len += umi_utf8_encode(umi_bytelevel_cpt((uint8_t)raw[i]), s->word + len);
        }
    } else {
        memcpy(s->word, raw, raw_len);
        len = raw_len;
    }
    if (v->ignore_merges || (v->newline_words && all_newlines(raw, raw_len))) {
        int32_t id = umi_vocab_find(v, s->word, len);
        if (id >= 0) {
            umi_tok_sink_push(sink, id);
            return true;
        }
    }
    return bpe_merge_word(s, raw, raw_len, len, sink);
}

/* ---------------------------------------------------------------- driver */

umi_status umi_bpe_tokenize(const umi_vocab *v, const char *text, const umi_tok_fragment *frags,
                            size_t n_frags, bool add_special, umi_tok_sink *sink) {
    bpe_state s = {.v = v};
    umi_status st = UMI_OK;
    if (add_special && v->add_bos && v->bos >= 0) {
        umi_tok_sink_push(sink, v->bos);
    }
    for (size_t i = 0; i < n_frags && st == UMI_OK; i++) {
        const umi_tok_fragment *f = &frags[i];
        if (f->token >= 0) {
            umi_tok_sink_push(sink, f->token);
            continue;
        }
        st = umi_pretok_split(v->pretok, text + f->off, f->len, &s.words);
        size_t start = 0;
        for (size_t w = 0; w < s.words.n_words && st == UMI_OK; w++) {
            size_t end = s.words.word_end[w];
            if (!bpe_word(&s, s.words.text + start, end - start, sink)) {
                st = UMI_ERR_NOMEM;
            }
            start = end;
        }
    }
    if (add_special && v->add_eos && v->eos >= 0) {
        umi_tok_sink_push(sink, v->eos);
    }
    umi_pretok_words_free(&s.words);
    free(s.word);
    free(s.sym);
    free(s.heap);
    return st;
}
