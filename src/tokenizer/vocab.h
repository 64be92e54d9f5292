/* vocab.h — the tokenizer vocabulary and the tokenize/detokenize entry points.
 *
 * A umi_vocab holds everything the tokenizers need from a GGUF file's
 * tokenizer.ggml.* metadata: token texts, scores, attributes, special token
 * ids and flags, a text -> id hash map, and for BPE the merges and the
 * compiled pre-tokenizer. umi_vocab_load copies all of it, so the umi_gguf
 * may be closed afterwards. The vocab is immutable after loading; tokenizing
 * allocates only per-call scratch, so one vocab can serve several threads at
 * once.
 *
 * Tokenizer kinds (tokenizer.ggml.model):
 *   "llama"   SentencePiece-style (spm.c)
 *   "gpt2"    byte-level BPE (bpe.c) with the pre-tokenizer named by
 *             tokenizer.ggml.pre (pretok.c)
 *   "gemma4"  BPE over UTF-8 with SentencePiece spaces (bpe.c)
 *   "bert"    WordPiece (wpm.c)
 * Other kinds give UMI_ERR_UNSUPPORTED at load.
 * The behaviour follows the reference engine (llama.cpp) token for token;
 * where the reference aborts (a character an SPM vocab cannot cover), umi
 * emits the unknown token instead. See the comments at each function.
 *
 * The first half of this header is the interface for the rest of umi; the
 * second half ("internals") is shared only by the files in src/tokenizer/.
 */
#ifndef UMI_TOKENIZER_VOCAB_H
#define UMI_TOKENIZER_VOCAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "gguf/gguf.h"

typedef struct umi_vocab umi_vocab;

typedef enum umi_vocab_kind {
    UMI_VOCAB_KIND_SPM = 0, /* "llama": SentencePiece-style BPE over scores */
    UMI_VOCAB_KIND_BPE = 1, /* "gpt2", "gemma4": BPE with merges */
    UMI_VOCAB_KIND_WPM = 2, /* "bert": WordPiece */
} umi_vocab_kind;

/* Token attributes, a bit set (the reference's llama_token_attr values, so the
 * numbers mean the same in both engines). Derived from
 * tokenizer.ggml.token_type at load and adjusted by the same name-based
 * rules the reference applies (e.g. "<|eot_id|>" is forced to CONTROL). */
enum umi_token_attr {
    UMI_TOKEN_ATTR_UNDEFINED = 0,
    UMI_TOKEN_ATTR_UNKNOWN = 1 << 0,
    UMI_TOKEN_ATTR_UNUSED = 1 << 1,
    UMI_TOKEN_ATTR_NORMAL = 1 << 2,
    UMI_TOKEN_ATTR_CONTROL = 1 << 3,
    UMI_TOKEN_ATTR_USER_DEFINED = 1 << 4,
    UMI_TOKEN_ATTR_BYTE = 1 << 5,
    UMI_TOKEN_ATTR_NORMALIZED = 1 << 6,
    UMI_TOKEN_ATTR_LSTRIP = 1 << 7, /* eat whitespace before it when matched in text */
    UMI_TOKEN_ATTR_RSTRIP = 1 << 8, /* eat whitespace after it */
    UMI_TOKEN_ATTR_SINGLE_WORD = 1 << 9,
};

/* ---------------------------------------------------------------- loading */

/* Read the tokenizer from g's metadata. On success *out is owned by the
 * caller (umi_vocab_free) and holds copies of everything, so g may be closed.
 * On failure *out is NULL and err says why: UMI_ERR_FORMAT for missing or
 * mistyped keys ("tokenizer.ggml.tokens: expected an array of strings"),
 * UMI_ERR_UNSUPPORTED for a tokenizer kind or pre-tokenizer umi lacks
 * ("tokenizer 't5' is not supported yet", "unknown pre-tokenizer type 'x'"),
 * UMI_ERR_NOMEM. */
umi_status umi_vocab_load(const umi_gguf *g, umi_vocab **out, umi_error *err);
void umi_vocab_free(umi_vocab *v); /* NULL is fine */

/* ---------------------------------------------------------------- queries */

umi_vocab_kind umi_vocab_get_kind(const umi_vocab *v);
int32_t umi_vocab_n_tokens(const umi_vocab *v);

/* Special token ids; -1 when the vocab has none. */
int32_t umi_vocab_bos(const umi_vocab *v);
int32_t umi_vocab_eos(const umi_vocab *v);
int32_t umi_vocab_eot(const umi_vocab *v);
int32_t umi_vocab_eom(const umi_vocab *v);
int32_t umi_vocab_unk(const umi_vocab *v);
int32_t umi_vocab_pad(const umi_vocab *v);
int32_t umi_vocab_sep(const umi_vocab *v);
int32_t umi_vocab_nl(const umi_vocab *v); /* the token for "\n" (as the reference picks it), -1 if none */

/* End of generation: eos, eot, eom and the tokens the reference recognises by
 * text ("<|im_end|>", "<end_of_turn>", ...). Out-of-range ids give false. */
bool umi_vocab_is_eog(const umi_vocab *v, int32_t tok);
/* All end-of-generation ids, ascending; *n gets the count. Owned by v. */
const int32_t *umi_vocab_eog_ids(const umi_vocab *v, int32_t *n);

bool umi_vocab_get_add_bos(const umi_vocab *v); /* tokenizer.ggml.add_bos_token */
bool umi_vocab_get_add_eos(const umi_vocab *v); /* tokenizer.ggml.add_eos_token */
bool umi_vocab_get_add_space_prefix(const umi_vocab *v);
bool umi_vocab_get_add_sep(const umi_vocab *v);   /* tokenizer.ggml.add_sep_token */
/* The pre-tokenizer's canonical name for BPE vocabs ("llama3", "qwen2", ...),
 * "" for other kinds. Owned by v. */
const char *umi_vocab_pre_name(const umi_vocab *v);

/* Raw token text as stored in the file (with the SPM space marker U+2581,
 * "<0x0A>" for byte tokens). NUL-terminated, owned by v; NULL when tok is out
 * of range. */
const char *umi_vocab_token_text(const umi_vocab *v, int32_t tok);
float umi_vocab_token_score(const umi_vocab *v, int32_t tok);    /* 0 when out of range */
uint32_t umi_vocab_token_attr(const umi_vocab *v, int32_t tok);  /* 0 when out of range */
/* Exact text -> id lookup over all tokens; -1 when no token has that text. */
int32_t umi_vocab_find(const umi_vocab *v, const char *text, size_t len);

/* ---------------------------------------------------------------- tokenize */

/* Tokenize len bytes of UTF-8 (text may be NULL when len is 0). Writes at most
 * n_max ids to out and returns the number of tokens; when n_max is too small
 * the first n_max ids are written and -(needed) is returned, so a caller can
 * size its buffer with a first call of n_max = 0.
 * add_special: add BOS/EOS as the vocab's add_bos/add_eos flags say.
 * parse_special: control tokens written in the text ("<s>", "<|im_end|>")
 * become their ids; without it only user-defined tokens are matched, as in
 * the reference. Returns INT32_MIN when scratch memory cannot be allocated or
 * the result would not fit in an int32_t. Allocates only scratch, freed
 * before returning. */
int32_t umi_vocab_tokenize(const umi_vocab *v, const char *text, size_t len, int32_t *out,
                           int32_t n_max, bool add_special, bool parse_special);

/* The bytes of one token: the SPM space marker becomes ' ', byte tokens
 * <0xNN> give that raw byte, byte-level BPE tokens give the bytes their
 * characters stand for, control and unknown-type tokens give "" unless
 * special is true (then their text, e.g. "</s>"). Writes no NUL. Returns the
 * length, or -(needed) when buf_len is too small; out-of-range ids give 0.
 * The output may be part of a UTF-8 sequence; the caller reassembles. */
int32_t umi_vocab_token_to_piece(const umi_vocab *v, int32_t tok, char *buf, int32_t buf_len,
                                 bool special);

/* Concatenated pieces of n_tokens tokens, as the reference's detokenize:
 * the leading space the tokenizer added (add_space_prefix) is removed from the
 * first piece; remove_special drops a leading BOS / trailing EOS when the vocab
 * adds them; unparse_special renders control tokens as text. Writes no NUL.
 * Returns the length, or -(needed) when buf_len is too small. */
int32_t umi_vocab_detokenize(const umi_vocab *v, const int32_t *tokens, int32_t n_tokens,
                             char *buf, int32_t buf_len, bool remove_special,
                             bool unparse_special);

/* ================================================================ internals
 * Shared by the files in src/tokenizer/. Nothing outside src/tokenizer/
 * should depend on what follows. */

typedef struct umi_bpe umi_bpe;       /* bpe.c: merge table */
typedef struct umi_pretok umi_pretok; /* pretok.c: compiled pre-tokenizer */

typedef struct umi_vocab_token {
    uint32_t text_off;  /* into umi_vocab.text; NUL-terminated there */
    uint32_t text_len;
    uint32_t piece_off; /* into umi_vocab.pieces: the piece with special=true */
    uint32_t piece_len;
    float score;
    uint32_t attr; /* enum umi_token_attr bits */
} umi_vocab_token;

struct umi_vocab {
    umi_vocab_kind kind;
    char model[32];        /* tokenizer.ggml.model, for messages */
    int32_t n_tokens;
    umi_vocab_token *tokens; /* [n_tokens] */
    char *text;            /* all token texts, each NUL-terminated */
    char *pieces;          /* all detokenized pieces (special=true), not terminated */
    uint32_t max_token_len; /* longest token text in bytes */

    /* text -> id: open addressing with linear probing over token ids;
     * slot value -1 is empty. n_slots is a power of two >= 2 * n_tokens. */
    int32_t *hash_slots;
    uint32_t hash_mask;

    /* byte b -> the token that stands for it on its own: "<0xNN>" or else the
     * one-byte text; -1 when neither exists (vocabs without byte fallback). */
    int32_t byte_token[256];

    /* Tokens matched in raw text before the tokenizer runs (control,
     * user-defined and unknown-type tokens), longest text first. */
    int32_t *special; /* [n_special] */
    int32_t n_special;

    int32_t *eog; /* [n_eog], ascending */
    int32_t n_eog;

    int32_t bos, eos, eot, eom, unk, sep, pad, mask, nl;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;

    bool add_bos, add_eos, add_sep;
    bool add_space_prefix;        /* SPM: prepend ' ' at the start and after special tokens */
    bool remove_extra_whitespaces; /* read for later kinds; SPM ignores it, as the reference */
    bool escape_whitespaces;      /* spaces become U+2581 before tokenizing */
    bool clean_spaces;            /* detokenize: " ," -> "," etc. (BPE/WPM) */

    /* BPE only (NULL / false otherwise). */
    umi_pretok *pretok;
    umi_bpe *bpe;
    bool ignore_merges;  /* a word that is a token is not merged (llama3) */
    bool byte_encode;    /* GPT-2 byte-level words (false: gemma4-style UTF-8) */
    bool newline_words;  /* gemma4: a newline run that is a token stays whole */

    /* WordPiece only. */
    bool wpm_lowercase;
    bool wpm_strip_accents;
};

/* Output of a tokenizer run: writes while there is room, always counts, so
 * one pass both fills the caller's buffer and measures the full result. */
typedef struct umi_tok_sink {
    int32_t *out; /* caller's buffer; may be NULL when cap is 0 */
    int64_t cap;
    int64_t n;    /* tokens produced so far; may exceed cap */
} umi_tok_sink;

static inline void umi_tok_sink_push(umi_tok_sink *s, int32_t id) {
    if (s->n < s->cap) {
        s->out[s->n] = id;
    }
    s->n++;
}

/* A piece of the input after special-token splitting: either raw text
 * text[off, off+len) still to be tokenized, or one already-known token. */
typedef struct umi_tok_fragment {
    int32_t token; /* -1: raw text */
    size_t off;
    size_t len;
} umi_tok_fragment;

/* special.c: split text[0, len) on the vocab's special tokens as the
 * reference does (longest token first; each token splits every remaining
 * raw fragment at all its non-overlapping occurrences, left to right; LSTRIP /
 * RSTRIP tokens swallow adjacent whitespace). parse_special=false skips
 * control and unknown-type tokens. On success *frags is malloc'd (caller
 * frees; NULL with *n_frags 0 for empty text). Fails only with UMI_ERR_NOMEM. */
umi_status umi_vocab_split_special(const umi_vocab *v, const char *text, size_t len,
                                   bool parse_special, umi_tok_fragment **frags,
                                   size_t *n_frags);

/* The tokenizers: tokenize the fragments into sink, adding the special
 * tokens the kind adds when add_special (SPM/BPE: BOS/EOS as the vocab's
 * flags say; WordPiece: [CLS] ... [SEP] always). They return UMI_OK,
 * UMI_ERR_NOMEM (scratch), or for BPE UMI_ERR_ARG when PCRE2 gives up.
 * Scratch is freed before returning. */
umi_status umi_spm_tokenize(const umi_vocab *v, const char *text,
                            const umi_tok_fragment *frags, size_t n_frags, bool add_special,
                            umi_tok_sink *sink);
umi_status umi_bpe_tokenize(const umi_vocab *v, const char *text,
                            const umi_tok_fragment *frags, size_t n_frags, bool add_special,
                            umi_tok_sink *sink);
umi_status umi_wpm_tokenize(const umi_vocab *v, const char *text,
                            const umi_tok_fragment *frags, size_t n_frags, bool add_special,
                            umi_tok_sink *sink);

/* bpe.c: read tokenizer.ggml.merges (required when need_merges, else read
 * if present) into v->bpe, which the vocab owns; v->tokens and the token
 * hash must be loaded. UMI_ERR_FORMAT / UMI_ERR_NOMEM with err filled. */
umi_status umi_bpe_init(umi_vocab *v, const umi_gguf *g, bool need_merges, umi_error *err);
void umi_bpe_free(umi_bpe *b); /* NULL is fine */

/* special_ids.c: after the id keys are read, find the remaining special
 * tokens by text, fix their attributes and collect the end-of-generation
 * set into v->eog (allocated here, owned by v). UMI_OK or UMI_ERR_NOMEM. */
umi_status umi_vocab_detect_special(umi_vocab *v, umi_error *err);
/* special_ids.c: attribute fix-ups keyed on model and tokenizer names. */
void umi_vocab_apply_name_rules(umi_vocab *v, const umi_gguf *g);

/* detok.c: compute every token's piece into v->pieces (attributes final). */
umi_status umi_vocab_build_pieces(umi_vocab *v, umi_error *err);

#endif
