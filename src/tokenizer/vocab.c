/* vocab.c — load the tokenizer vocabulary from GGUF metadata; queries and
 * the tokenize dispatch on the kind. (Pieces and detokenizing: detok.c.)
 *
 * Loading follows the reference engine's rules so that the same file yields
 * the same special ids, attributes and end-of-generation set:
 *   1. tokenizer.ggml.model picks the kind and its default special ids and
 *      flags (SPM: bos 1, eos 2, unk 0, add_bos, add_space_prefix; BPE: bos
 *      and eos 11, the flags of its pre-tokenizer; WordPiece: [CLS] 101,
 *      [UNK] 100, [SEP] 102, [PAD] 0, [MASK] 103).
 *   2. tokens / scores / token_type arrays give texts, scores, attributes;
 *      BPE reads its merges.
 *   3. The newline token is picked (before the id keys are read, as in the
 *      reference: it can fall back to the kind's default pad id).
 *   4. *_token_id keys override the defaults when they are in range; flags
 *      come from add_bos_token, add_eos_token, add_sep_token,
 *      add_space_prefix and the WordPiece normalizer keys.
 *   5. Name-based fix-ups (special_ids.c): well-known end-of-turn and
 *      fill-in-the-middle texts are found and forced to CONTROL, control
 *      tokens named "unused" are marked UNUSED, the end-of-generation set is
 *      collected.
 *   6. Caches: the special tokens to split text on (longest first) and each
 *      token's detokenized piece.
 */
#include "tokenizer/vocab.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretok.h"

/* ---------------------------------------------------------------- hash map */

static uint64_t hash_bytes(const char *s, size_t n) {
    /* FNV-1a: short keys, no need for anything stronger. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static const char *tok_text(const umi_vocab *v, int32_t id) {
    return v->text + v->tokens[id].text_off;
}

int32_t umi_vocab_find(const umi_vocab *v, const char *text, size_t len) {
    if (len > v->max_token_len) {
        return -1;
    }
    uint32_t i = (uint32_t)hash_bytes(text, len) & v->hash_mask;
    for (;;) {
        int32_t id = v->hash_slots[i];
        if (id < 0) {
            return -1;
        }
        if (v->tokens[id].text_len == len && memcmp(tok_text(v, id), text, len) == 0) {
            return id;
        }
        i = (i + 1) & v->hash_mask;
    }
}

/* Insert every token; a text that occurs twice maps to the later id, as the
 * reference's map assignment leaves it (it then asserts; umi just loads). */
static umi_status build_hash(umi_vocab *v) {
    uint32_t n_slots = 16;
    while (n_slots < 2u * (uint32_t)v->n_tokens) {
        n_slots *= 2;
    }
    v->hash_slots = malloc((size_t)n_slots * sizeof *v->hash_slots);
    if (!v->hash_slots) {
        return UMI_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < n_slots; i++) {
        v->hash_slots[i] = -1;
    }
    v->hash_mask = n_slots - 1;
    for (int32_t id = 0; id < v->n_tokens; id++) {
        const umi_vocab_token *t = &v->tokens[id];
        uint32_t i = (uint32_t)hash_bytes(tok_text(v, id), t->text_len) & v->hash_mask;
        for (;;) {
            int32_t other = v->hash_slots[i];
            if (other < 0) {
                v->hash_slots[i] = id;
                break;
            }
            if (v->tokens[other].text_len == t->text_len &&
                memcmp(tok_text(v, other), tok_text(v, id), t->text_len) == 0) {
                v->hash_slots[i] = id;
                break;
            }
            i = (i + 1) & v->hash_mask;
        }
    }
    return UMI_OK;
}

/* ---------------------------------------------------------------- metadata helpers */

static bool kv_is_int(enum umi_gguf_type t) {
    switch (t) {
    case UMI_GGUF_UINT8: case UMI_GGUF_INT8: case UMI_GGUF_UINT16: case UMI_GGUF_INT16:
    case UMI_GGUF_UINT32: case UMI_GGUF_INT32: case UMI_GGUF_UINT64: case UMI_GGUF_INT64:
        return true;
    default:
        return false;
    }
}

static bool kv_is_signed(enum umi_gguf_type t) {
    return t == UMI_GGUF_INT8 || t == UMI_GGUF_INT16 || t == UMI_GGUF_INT32 ||
           t == UMI_GGUF_INT64;
}

/* A special-token id key. Absent: *id untouched. Present but out of range
 * (files write 0xFFFFFFFF or -1 for "none"): the default stays, as the
 * reference does. Present with a non-integer type: malformed. */
static umi_status read_token_id(const umi_gguf *g, const char *key, int32_t n_tokens,
                                int32_t *id, umi_error *err) {
    const umi_gguf_kv *kv = umi_gguf_find(g, key);
    if (!kv) {
        return UMI_OK;
    }
    if (!kv_is_int(kv->type)) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: expected an integer token id (key at byte %llu)",
                       key, (unsigned long long)kv->offset);
    }
    if (kv_is_signed(kv->type)) {
        if (kv->v.i64 >= 0 && kv->v.i64 < n_tokens) {
            *id = (int32_t)kv->v.i64;
        }
    } else if (kv->v.u64 < (uint64_t)n_tokens) {
        *id = (int32_t)kv->v.u64;
    }
    return UMI_OK;
}

/* ---------------------------------------------------------------- tokens */

/* tokenizer.ggml.token_type values (the reference's llama_token_type). */
enum {
    TOKEN_TYPE_UNDEFINED = 0,
    TOKEN_TYPE_NORMAL = 1,
    TOKEN_TYPE_UNKNOWN = 2,
    TOKEN_TYPE_CONTROL = 3,
    TOKEN_TYPE_USER_DEFINED = 4,
    TOKEN_TYPE_UNUSED = 5,
    TOKEN_TYPE_BYTE = 6,
};

static uint32_t attr_from_type(int64_t type) {
    switch (type) {
    case TOKEN_TYPE_UNKNOWN: return UMI_TOKEN_ATTR_UNKNOWN;
    case TOKEN_TYPE_UNUSED: return UMI_TOKEN_ATTR_UNUSED;
    case TOKEN_TYPE_NORMAL: return UMI_TOKEN_ATTR_NORMAL;
    case TOKEN_TYPE_CONTROL: return UMI_TOKEN_ATTR_CONTROL;
    case TOKEN_TYPE_USER_DEFINED: return UMI_TOKEN_ATTR_USER_DEFINED;
    case TOKEN_TYPE_BYTE: return UMI_TOKEN_ATTR_BYTE;
    default: return UMI_TOKEN_ATTR_UNDEFINED;
    }
}

/* Texts, scores and attributes. Token texts are cut at the first NUL byte
 * and empty ones renamed "[EMPTY_<i>]", because that is what the reference's
 * C-string copy of each text ends up holding. */
static umi_status load_tokens(umi_vocab *v, const umi_gguf *g, umi_error *err) {
    const char *key = "tokenizer.ggml.tokens";
    const umi_gguf_kv *kt = umi_gguf_find(g, key);
    if (!kt) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: missing (no token list in the file)", key);
    }
    if (kt->type != UMI_GGUF_ARRAY || kt->arr_type != UMI_GGUF_STRING || !kt->strs) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: expected an array of strings (key at byte %llu)",
                       key, (unsigned long long)kt->offset);
    }
    if (kt->arr_n == 0 || kt->arr_n > (uint64_t)INT32_MAX / 4) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: %llu tokens is out of range", key,
                       (unsigned long long)kt->arr_n);
    }
    const int32_t n = (int32_t)kt->arr_n;

    const umi_gguf_kv *ks = umi_gguf_find(g, "tokenizer.ggml.scores");
    if (ks && (ks->type != UMI_GGUF_ARRAY ||
               (ks->arr_type != UMI_GGUF_FLOAT32 && ks->arr_type != UMI_GGUF_FLOAT64))) {
        return umi_err(err, UMI_ERR_FORMAT,
                       "tokenizer.ggml.scores: expected an array of floats (key at byte %llu)",
                       (unsigned long long)ks->offset);
    }
    if (ks && ks->arr_n < (uint64_t)n) {
        return umi_err(err, UMI_ERR_FORMAT, "tokenizer.ggml.scores: %llu scores for %d tokens",
                       (unsigned long long)ks->arr_n, n);
    }
    const umi_gguf_kv *ky = umi_gguf_find(g, "tokenizer.ggml.token_type");
    if (ky && (ky->type != UMI_GGUF_ARRAY || !kv_is_int(ky->arr_type))) {
        return umi_err(err, UMI_ERR_FORMAT,
                       "tokenizer.ggml.token_type: expected an array of integers (key at byte %llu)",
                       (unsigned long long)ky->offset);
    }
    if (ky && ky->arr_n < (uint64_t)n) {
        return umi_err(err, UMI_ERR_FORMAT, "tokenizer.ggml.token_type: %llu types for %d tokens",
                       (unsigned long long)ky->arr_n, n);
    }

    /* First pass: the bytes needed for all texts (each + NUL). */
    uint64_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = strnlen(kt->strs[i].ptr, (size_t)kt->strs[i].len);
        total += (len ? len : 32) + 1;
    }
    if (total > UINT32_MAX) {
        return umi_err(err, UMI_ERR_FORMAT, "%s: %llu bytes of token text is too much", key,
                       (unsigned long long)total);
    }
    v->tokens = calloc((size_t)n, sizeof *v->tokens);
    v->text = malloc((size_t)total);
    if (!v->tokens || !v->text) {
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for %d tokens", n);
    }
    v->n_tokens = n;

    uint32_t off = 0;
    for (int32_t i = 0; i < n; i++) {
        umi_vocab_token *t = &v->tokens[i];
        size_t len = strnlen(kt->strs[i].ptr, (size_t)kt->strs[i].len);
        char *dst = v->text + off;
        if (len == 0) {
            len = (size_t)snprintf(dst, 32, "[EMPTY_%d]", i);
        } else {
            memcpy(dst, kt->strs[i].ptr, len);
            dst[len] = '\0';
        }
        t->text_off = off;
        t->text_len = (uint32_t)len;
        off += (uint32_t)len + 1;
        if (len > v->max_token_len) {
            v->max_token_len = (uint32_t)len;
        }
        t->score = ks ? (float)umi_gguf_arr_f64(ks, (uint64_t)i) : 0.0f;
        t->attr = ky ? attr_from_type(umi_gguf_arr_i64(ky, (uint64_t)i)) : UMI_TOKEN_ATTR_NORMAL;
    }
    return UMI_OK;
}

/* ---------------------------------------------------------------- special ids */

static umi_status load_special_ids(umi_vocab *v, const umi_gguf *g, umi_error *err) {
    struct {
        const char *key;
        int32_t *id;
    } keys[] = {
        {"tokenizer.ggml.bos_token_id", &v->bos},
        {"tokenizer.ggml.eos_token_id", &v->eos},
        {"tokenizer.ggml.eot_token_id", &v->eot},
        {"tokenizer.ggml.eom_token_id", &v->eom},
        {"tokenizer.ggml.unknown_token_id", &v->unk},
        {"tokenizer.ggml.seperator_token_id", &v->sep}, /* sic: the format's spelling */
        {"tokenizer.ggml.padding_token_id", &v->pad},
        {"tokenizer.ggml.mask_token_id", &v->mask},
        {"tokenizer.ggml.fim_pre_token_id", &v->fim_pre},
        {"tokenizer.ggml.fim_suf_token_id", &v->fim_suf},
        {"tokenizer.ggml.fim_mid_token_id", &v->fim_mid},
        {"tokenizer.ggml.fim_pad_token_id", &v->fim_pad},
        {"tokenizer.ggml.fim_rep_token_id", &v->fim_rep},
        {"tokenizer.ggml.fim_sep_token_id", &v->fim_sep},
        /* older names, read after the new ones so they win as in the reference */
        {"tokenizer.ggml.prefix_token_id", &v->fim_pre},
        {"tokenizer.ggml.suffix_token_id", &v->fim_suf},
        {"tokenizer.ggml.middle_token_id", &v->fim_mid},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (*keys[i].id >= v->n_tokens) {
            *keys[i].id = -1; /* a kind's default that this small vocab lacks */
        }
        umi_status st = read_token_id(g, keys[i].key, v->n_tokens, keys[i].id, err);
        if (st != UMI_OK) {
            return st;
        }
    }

    umi_status st;
    if ((st = umi_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", false, &v->add_bos, err)) ||
        (st = umi_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", false, &v->add_eos, err)) ||
        (st = umi_gguf_get_bool(g, "tokenizer.ggml.add_sep_token", false, &v->add_sep, err))) {
        return st;
    }
    /* Gemma 4 vocabs always start with BOS, whatever the file says. */
    if (v->pretok && strcmp(umi_pretok_name(v->pretok), "gemma4") == 0) {
        v->add_bos = true;
    }
    /* WordPiece normalizer; strip_accents follows lowercase unless given. */
    v->wpm_lowercase = true;
    if ((st = umi_gguf_get_bool(g, "tokenizer.ggml.normalizer.lowercase", false,
                                &v->wpm_lowercase, err))) {
        return st;
    }
    v->wpm_strip_accents = v->wpm_lowercase;
    if ((st = umi_gguf_get_bool(g, "tokenizer.ggml.normalizer.strip_accents", false,
                                &v->wpm_strip_accents, err))) {
        return st;
    }

    return umi_vocab_detect_special(v, err);
}

/* ---------------------------------------------------------------- caches */

/* Longest text first; equal lengths by id so the order is reproducible (the
 * reference's unstable sort leaves ties unspecified; ties only matter when
 * two equal-length special texts overlap in the input). */
typedef struct special_key {
    uint32_t len;
    int32_t id;
} special_key;

static int cmp_special(const void *a, const void *b) {
    const special_key *x = a, *y = b;
    if (x->len != y->len) {
        return x->len > y->len ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

static umi_status build_special_cache(umi_vocab *v, umi_error *err) {
    const uint32_t wanted =
        UMI_TOKEN_ATTR_CONTROL | UMI_TOKEN_ATTR_USER_DEFINED | UMI_TOKEN_ATTR_UNKNOWN;
    int32_t n = 0;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        n += (v->tokens[i].attr & wanted) != 0;
    }
    special_key *keys = malloc(((size_t)n + 1) * sizeof *keys);
    v->special = malloc(((size_t)n + 1) * sizeof *v->special);
    if (!keys || !v->special) {
        free(keys);
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for the special token list");
    }
    n = 0;
    for (int32_t i = 0; i < v->n_tokens; i++) {
        if (v->tokens[i].attr & wanted) {
            keys[n].len = v->tokens[i].text_len;
            keys[n].id = i;
            n++;
        }
    }
    qsort(keys, (size_t)n, sizeof *keys, cmp_special);
    for (int32_t i = 0; i < n; i++) {
        v->special[i] = keys[i].id;
    }
    v->n_special = n;
    free(keys);
    return UMI_OK;
}

/* ---------------------------------------------------------------- load */

/* BPE defaults: those of the "gpt2" kind (the reference's Falcon-era ids
 * 11) or "gemma4" (no defaults), then the pre-tokenizer's flags. */
static umi_status pick_bpe(umi_vocab *v, const umi_gguf *g, umi_error *err) {
    bool gemma4 = strcmp(v->model, "gemma4") == 0;
    char pre[128] = "gemma4";
    if (!gemma4) {
        umi_gguf_get_cstr(g, "tokenizer.ggml.pre", pre, sizeof pre);
    }
    umi_status st = umi_pretok_init(pre, &v->pretok, err);
    if (st != UMI_OK) {
        return st;
    }
    const umi_pretok_traits *t = umi_pretok_get_traits(v->pretok);
    v->kind = UMI_VOCAB_KIND_BPE;
    v->bos = v->eos = gemma4 ? -1 : 11;
    if (t->no_bos) {
        v->bos = -1;
    }
    v->add_bos = t->add_bos;
    v->add_sep = t->add_sep;
    v->add_space_prefix = false;
    v->escape_whitespaces = t->escape_whitespaces;
    v->clean_spaces = t->clean_spaces;
    v->ignore_merges = t->ignore_merges;
    v->byte_encode = t->byte_encode;
    v->newline_words = t->newline_words;
    return UMI_OK;
}

/* The kind and its defaults. Kinds umi cannot tokenize are refused here,
 * with a message naming the kind. */
static umi_status pick_kind(umi_vocab *v, const umi_gguf *g, umi_error *err) {
    umi_gguf_str model = {0};
    umi_status st = umi_gguf_get_str(g, "tokenizer.ggml.model", true, &model, err);
    if (st != UMI_OK) {
        return st;
    }
    size_t n = model.len < sizeof v->model - 1 ? (size_t)model.len : sizeof v->model - 1;
    memcpy(v->model, model.ptr, n);
    v->model[n] = '\0';

    if (strcmp(v->model, "llama") == 0) {
        v->kind = UMI_VOCAB_KIND_SPM;
        v->bos = 1;
        v->eos = 2;
        v->unk = 0;
        v->add_space_prefix = true;
        v->add_bos = true;
        v->add_eos = false;
        v->escape_whitespaces = true;
        v->clean_spaces = false;
        return UMI_OK;
    }
    if (strcmp(v->model, "gpt2") == 0 || strcmp(v->model, "gemma4") == 0) {
        return pick_bpe(v, g, err);
    }
    if (strcmp(v->model, "bert") == 0) {
        v->kind = UMI_VOCAB_KIND_WPM;
        v->bos = 101; /* [CLS] */
        v->unk = 100;
        v->sep = 102;
        v->pad = 0;
        v->mask = 103;
        v->add_bos = true;
        v->add_sep = true;
        v->clean_spaces = true;
        return UMI_OK;
    }
    if (strcmp(v->model, "t5") == 0 || strcmp(v->model, "rwkv") == 0 ||
        strcmp(v->model, "plamo2") == 0 || strcmp(v->model, "hybriddna") == 0 ||
        strcmp(v->model, "whitespace") == 0) {
        return umi_err(err, UMI_ERR_UNSUPPORTED, "tokenizer '%s' is not supported yet", v->model);
    }
    if (strcmp(v->model, "none") == 0 || strcmp(v->model, "no_vocab") == 0) {
        return umi_err(err, UMI_ERR_UNSUPPORTED,
                       "model has no tokenizer (tokenizer.ggml.model = '%s')", v->model);
    }
    return umi_err(err, UMI_ERR_UNSUPPORTED, "unknown tokenizer '%s' (tokenizer.ggml.model)",
                   v->model);
}

/* The reference's newline token: SPM's byte token for '\n', WordPiece's
 * default pad id, BPE's first token for "\n" (or the default pad id). */
static void pick_newline(umi_vocab *v) {
    switch (v->kind) {
    case UMI_VOCAB_KIND_SPM:
        v->nl = v->byte_token['\n'];
        break;
    case UMI_VOCAB_KIND_WPM:
        v->nl = v->pad;
        break;
    case UMI_VOCAB_KIND_BPE: {
        umi_tok_fragment f = {-1, 0, 1};
        int32_t id = -1;
        umi_tok_sink sink = {&id, 1, 0};
        bool ok = umi_bpe_tokenize(v, "\n", &f, 1, false, &sink) == UMI_OK && sink.n > 0;
        v->nl = ok ? id : v->pad;
        break;
    }
    }
}

umi_status umi_vocab_load(const umi_gguf *g, umi_vocab **out, umi_error *err) {
    *out = NULL;
    umi_vocab *v = calloc(1, sizeof *v);
    if (!v) {
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for the vocab");
    }
    v->bos = v->eos = v->eot = v->eom = v->unk = v->sep = v->pad = v->mask = v->nl = -1;
    v->fim_pre = v->fim_suf = v->fim_mid = v->fim_pad = v->fim_rep = v->fim_sep = -1;

    umi_status st = pick_kind(v, g, err);
    if (st == UMI_OK) {
        st = umi_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", false, &v->add_space_prefix,
                               err);
    }
    if (st == UMI_OK) {
        st = umi_gguf_get_bool(g, "tokenizer.ggml.remove_extra_whitespaces", false,
                               &v->remove_extra_whitespaces, err);
    }
    if (st == UMI_OK) {
        st = load_tokens(v, g, err);
    }
    if (st == UMI_OK && build_hash(v) != UMI_OK) {
        st = umi_err(err, UMI_ERR_NOMEM, "out of memory for the token map");
    }
    if (st == UMI_OK) {
        static const char hex[] = "0123456789ABCDEF";
        for (int b = 0; b < 256; b++) {
            char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
            char raw = (char)b;
            int32_t id = umi_vocab_find(v, name, 6);
            v->byte_token[b] = id >= 0 ? id : umi_vocab_find(v, &raw, 1);
        }
        if (v->kind == UMI_VOCAB_KIND_BPE) {
            const char *pre = umi_pretok_name(v->pretok);
            st = umi_bpe_init(v, g, strcmp(pre, "kimi-k2") != 0, err);
        }
    }
    if (st == UMI_OK) {
        pick_newline(v);
        st = load_special_ids(v, g, err);
    }
    if (st == UMI_OK) {
        st = build_special_cache(v, err);
    }
    if (st == UMI_OK) {
        st = umi_vocab_build_pieces(v, err);
    }
    if (st != UMI_OK) {
        umi_vocab_free(v);
        return st;
    }
    umi_vocab_apply_name_rules(v, g);
    *out = v;
    return UMI_OK;
}

void umi_vocab_free(umi_vocab *v) {
    if (!v) {
        return;
    }
    free(v->tokens);
    free(v->text);
    free(v->pieces);
    free(v->hash_slots);
    free(v->special);
    free(v->eog);
    umi_pretok_free(v->pretok);
    umi_bpe_free(v->bpe);
    free(v);
}

/* ---------------------------------------------------------------- queries */

umi_vocab_kind umi_vocab_get_kind(const umi_vocab *v) { return v->kind; }
int32_t umi_vocab_n_tokens(const umi_vocab *v) { return v->n_tokens; }
int32_t umi_vocab_bos(const umi_vocab *v) { return v->bos; }
int32_t umi_vocab_eos(const umi_vocab *v) { return v->eos; }
int32_t umi_vocab_eot(const umi_vocab *v) { return v->eot; }
int32_t umi_vocab_eom(const umi_vocab *v) { return v->eom; }
int32_t umi_vocab_unk(const umi_vocab *v) { return v->unk; }
int32_t umi_vocab_pad(const umi_vocab *v) { return v->pad; }
int32_t umi_vocab_sep(const umi_vocab *v) { return v->sep; }
int32_t umi_vocab_nl(const umi_vocab *v) { return v->nl; }
bool umi_vocab_get_add_bos(const umi_vocab *v) { return v->add_bos; }
bool umi_vocab_get_add_eos(const umi_vocab *v) { return v->add_eos; }
bool umi_vocab_get_add_space_prefix(const umi_vocab *v) { return v->add_space_prefix; }
bool umi_vocab_get_add_sep(const umi_vocab *v) { return v->add_sep; }
const char *umi_vocab_pre_name(const umi_vocab *v) {
    return v->pretok ? umi_pretok_name(v->pretok) : "";
}

bool umi_vocab_is_eog(const umi_vocab *v, int32_t tok) {
    if (tok < 0 || tok >= v->n_tokens) {
        return false;
    }
    for (int32_t i = 0; i < v->n_eog; i++) {
        if (v->eog[i] == tok) {
            return true;
        }
    }
    return false;
}

const int32_t *umi_vocab_eog_ids(const umi_vocab *v, int32_t *n) {
    *n = v->n_eog;
    return v->eog;
}

const char *umi_vocab_token_text(const umi_vocab *v, int32_t tok) {
    return tok >= 0 && tok < v->n_tokens ? tok_text(v, tok) : NULL;
}

float umi_vocab_token_score(const umi_vocab *v, int32_t tok) {
    return tok >= 0 && tok < v->n_tokens ? v->tokens[tok].score : 0.0f;
}

uint32_t umi_vocab_token_attr(const umi_vocab *v, int32_t tok) {
    return tok >= 0 && tok < v->n_tokens ? v->tokens[tok].attr : 0;
}

/* ---------------------------------------------------------------- tokenize */

int32_t umi_vocab_tokenize(const umi_vocab *v, const char *text, size_t len, int32_t *out,
                           int32_t n_max, bool add_special, bool parse_special) {
    umi_tok_fragment *frags = NULL;
    size_t n_frags = 0;
    if (umi_vocab_split_special(v, text, len, parse_special, &frags, &n_frags) != UMI_OK) {
        return INT32_MIN;
    }
    umi_tok_sink sink = {out, n_max > 0 ? n_max : 0, 0};
    umi_status st = UMI_ERR_UNSUPPORTED;
    switch (v->kind) {
    case UMI_VOCAB_KIND_SPM:
        st = umi_spm_tokenize(v, text, frags, n_frags, add_special, &sink);
        break;
    case UMI_VOCAB_KIND_BPE:
        st = umi_bpe_tokenize(v, text, frags, n_frags, add_special, &sink);
        break;
    case UMI_VOCAB_KIND_WPM:
        st = umi_wpm_tokenize(v, text, frags, n_frags, add_special, &sink);
        break;
    }
    free(frags);
    if (st != UMI_OK || sink.n >= INT32_MAX) {
        return INT32_MIN;
    }
    return sink.n <= sink.cap ? (int32_t)sink.n : -(int32_t)sink.n;
}
