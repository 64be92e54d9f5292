/* pretok.h — BPE pre-tokenization: cut text into the words BPE merges within.
 *
 * Every byte-level BPE vocab names its pre-tokenizer in tokenizer.ggml.pre
 * ("llama-bpe", "qwen2", "gpt-2", ...). Each name stands for an ordered list
 * of steps, mostly regular expressions, as the reference engine defines them;
 * each step cuts every piece the previous steps left into matches and the
 * gaps between matches. The regexes run on PCRE2, compiled once when the
 * vocab loads (JIT where the platform has it).
 *
 * To cut exactly where the reference cuts, pretok.c reproduces how the
 * reference classifies characters rather than PCRE2's own tables (which
 * follow an older Unicode version): before a step that uses \p{..} runs, each
 * non-ASCII code point is replaced by a stand-in of the same class (a letter,
 * a number, whitespace, ...) as umi's Unicode 15.1 tables say. See pretok.c.
 *
 * Also decided by the name: flags the reference keys on it (ignore_merges,
 * clean_spaces, ...), reported in umi_pretok_traits.
 */
#ifndef UMI_TOKENIZER_PRETOK_H
#define UMI_TOKENIZER_PRETOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct umi_pretok umi_pretok;

/* What a pre-tokenizer name implies besides the split. */
typedef struct umi_pretok_traits {
    bool ignore_merges;      /* a word that is a token stays whole (llama3, tekken) */
    bool clean_spaces;       /* detokenize drops " ," style spaces */
    bool add_bos;            /* default for add_bos before the file's key */
    bool add_sep;            /* default for add_sep before the file's key */
    bool no_bos;             /* the vocab has no BOS (chatglm) */
    bool escape_whitespaces; /* ' ' -> U+2581 before splitting (gemma4-style BPE) */
    bool byte_encode;        /* GPT-2 byte-level encoding of the words */
    bool newline_words;      /* a word of only '\n' that is a token stays whole (gemma4) */
} umi_pretok_traits;

/* Find the pre-tokenizer called name (tokenizer.ggml.pre; "" means
 * "default") and compile its regexes. On success *out is owned by the caller
 * (umi_pretok_free). Fails with UMI_ERR_UNSUPPORTED for a name the reference
 * does not know or one umi lacks, UMI_ERR_NOMEM, or UMI_ERR_FORMAT if PCRE2
 * rejects a pattern (a bug: the message names the pattern and offset). */
umi_status umi_pretok_init(const char *name, umi_pretok **out, umi_error *err);
void umi_pretok_free(umi_pretok *p); /* NULL is fine */
const umi_pretok_traits *umi_pretok_get_traits(const umi_pretok *p);
const char *umi_pretok_name(const umi_pretok *p); /* the table's canonical name */

/* Per-call scratch and result of umi_pretok_split. Zero-initialize, reuse
 * for several calls, release with umi_pretok_words_free. */
typedef struct umi_pretok_words {
    /* Result: the fragment re-encoded as UTF-8 (invalid bytes became U+FFFD
     * as in the reference) and the words, word i being
     * text[word_end[i-1], word_end[i]) with word_end[-1] = 0. */
    char *text;
    size_t text_len;
    size_t *word_end;
    size_t n_words;

    /* private scratch */
    size_t text_cap, word_cap;
    uint32_t *cps;          /* [n_cps] decoded code points */
    size_t n_cps, cps_cap;
    char *match_text;       /* the text a regex step runs on */
    size_t match_cap;
    size_t *match_off;      /* [n_cps + 1] byte offset of each code point in match_text */
    size_t match_off_cap;
    int match_kind;         /* which stand-in mapping match_text holds (-1: none) */
    size_t *seg, *seg_next; /* code point piece ends */
    size_t seg_cap;
    void *match_data;       /* pcre2_match_data_8 */
    void *match_ctx;        /* pcre2_match_context_8 */
    void *jit_stack;        /* pcre2_jit_stack_8 */
} umi_pretok_words;

/* Split text[0, len) into words (w is cleared first). Returns UMI_OK,
 * UMI_ERR_NOMEM, or UMI_ERR_ARG if PCRE2 gives up on the input (match or
 * stack limit; the regexes here do not backtrack enough to reach it). */
umi_status umi_pretok_split(const umi_pretok *p, const char *text, size_t len,
                            umi_pretok_words *w);
void umi_pretok_words_free(umi_pretok_words *w);

#endif
