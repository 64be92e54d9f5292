/* detok.c — token -> text: each token's piece, and detokenizing id lists.
 *
 * Every token's piece (its text as the reference's token_to_piece gives it
 * with special=true) is computed once at load into umi_vocab.pieces, so
 * detokenizing is copying. How a token renders depends on its attributes and
 * the tokenizer kind:
 *   - control, unknown and user-defined tokens: their text as stored;
 *   - normal tokens, SPM and WordPiece (and BPE vocabs that escape spaces,
 *     gemma4-style): the text with each U+2581 turned back into ' ';
 *   - normal tokens, byte-level BPE: each character of the text mapped back
 *     to the byte it stands for (GPT-2's table, unicode.c). A character that
 *     is none of the 256 renders as "[UNK_BYTE_0x<its UTF-8 in hex><the whole
 *     token text>]", the reference's marker for a broken vocab;
 *   - byte tokens "<0xNN>": that byte;
 *   - anything else (unused, undefined): nothing.
 * Without special=true, control and unknown tokens render as nothing.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

/* ---------------------------------------------------------------- pieces */

/* The byte a byte token stands for: hex digits at text[3..5) of "<0xNN>",
 * read like strtol would (stops at the first non-hex character). */
static uint8_t byte_of_token(const char *text, uint32_t len) {
    unsigned value = 0;
    for (uint32_t i = 3; i < len && i < 5; i++) {
        int c = (unsigned char)text[i];
        int d = isdigit(c) ? c - '0' : (isxdigit(c) ? (tolower(c) - 'a' + 10) : -1);
        if (d < 0) {
            break;
        }
        value = value * 16 + (unsigned)d;
    }
    return (uint8_t)value;
}

/* Output that counts always and writes only when dst is non-NULL, so the
 * same code measures (first pass) and fills (second pass). */
typedef struct piece_out {
    char *dst;
    size_t n;
} piece_out;

static void put(piece_out *o, const char *s, size_t n) {
    if (o->dst) {
        memcpy(o->dst + o->n, s, n);
    }
    o->n += n;
}

static void put_unescaped(piece_out *o, const char *s, uint32_t len) {
    for (uint32_t j = 0; j < len;) {
        if (j + 3 <= len && memcmp(s + j, "\xe2\x96\x81", 3) == 0) {
            put(o, " ", 1);
            j += 3;
        } else {
            put(o, s + j, 1);
            j++;
        }
    }
}

static void put_bytelevel(piece_out *o, const char *s, uint32_t len) {
    for (uint32_t j = 0; j < len;) {
        uint32_t cp;
        size_t k = umi_cpt_decode(s + j, len - j, &cp);
        int b = umi_bytelevel_byte(cp);
        if (b >= 0) {
            char c = (char)b;
            put(o, &c, 1);
        } else {
            char enc[4], hex[16];
            size_t n_enc = umi_utf8_encode(cp, enc);
            put(o, "[UNK_BYTE_0x", 12);
            for (size_t i = 0; i < n_enc; i++) {
                snprintf(hex, sizeof hex, "%02x", (unsigned)(uint8_t)enc[i]);
                put(o, hex, 2);
            }
            put(o, s, len);
            put(o, "]", 1);
        }
        j += k;
    }
}

static void put_piece(const umi_vocab *v, int32_t id, piece_out *o) {
    const umi_vocab_token *t = &v->tokens[id];
    const char *s = v->text + t->text_off;
    if (t->attr & (UMI_TOKEN_ATTR_UNKNOWN | UMI_TOKEN_ATTR_CONTROL |
                   UMI_TOKEN_ATTR_USER_DEFINED)) {
        put(o, s, t->text_len);
    } else if (t->attr & UMI_TOKEN_ATTR_NORMAL) {
        if (v->kind == UMI_VOCAB_KIND_BPE && !v->escape_whitespaces) {
            put_bytelevel(o, s, t->text_len);
        } else {
            put_unescaped(o, s, t->text_len);
        }
    } else if (t->attr & UMI_TOKEN_ATTR_BYTE) {
        char c = (char)byte_of_token(s, t->text_len);
        put(o, &c, 1);
    }
}

umi_status umi_vocab_build_pieces(umi_vocab *v, umi_error *err) {
    piece_out o = {NULL, 0};
    for (int32_t i = 0; i < v->n_tokens; i++) {
        put_piece(v, i, &o);
    }
    if (o.n > UINT32_MAX) {
        return umi_err(err, UMI_ERR_FORMAT, "token pieces take %zu bytes, too many", o.n);
    }
    v->pieces = malloc(o.n + 1);
    if (!v->pieces) {
        return umi_err(err, UMI_ERR_NOMEM, "out of memory for token pieces");
    }
    o = (piece_out){v->pieces, 0};
    for (int32_t i = 0; i < v->n_tokens; i++) {
        uint32_t off = (uint32_t)o.n;
        put_piece(v, i, &o);
        v->tokens[i].piece_off = off;
        v->tokens[i].piece_len = (uint32_t)o.n - off;
    }
    return UMI_OK;
}

/* ---------------------------------------------------------------- detokenize */

/* Copy a token's piece, first dropping up to lstrip leading spaces. */
static int32_t copy_piece(const umi_vocab *v, int32_t tok, char *buf, int32_t buf_len,
                          int32_t lstrip, bool special) {
    if (tok < 0 || tok >= v->n_tokens) {
        return 0;
    }
    const umi_vocab_token *t = &v->tokens[tok];
    if (!special && (t->attr & (UMI_TOKEN_ATTR_UNKNOWN | UMI_TOKEN_ATTR_CONTROL))) {
        return 0;
    }
    const char *p = v->pieces + t->piece_off;
    int32_t n = (int32_t)t->piece_len;
    for (int32_t i = 0; i < lstrip && n > 0 && *p == ' '; i++) {
        p++;
        n--;
    }
    if (buf_len < n) {
        return -n;
    }
    if (n > 0) {
        memcpy(buf, p, (size_t)n);
    }
    return n;
}

int32_t umi_vocab_token_to_piece(const umi_vocab *v, int32_t tok, char *buf, int32_t buf_len,
                                 bool special) {
    return copy_piece(v, tok, buf, buf_len, 0, special);
}

/* The reference's post-pass for clean_spaces vocabs: drop the space before
 * "?!.,", around a lone "'", and before "'s", "'m", "'re", "'ve". Works in
 * place on text[0, n); returns the new length. */
static int32_t clean_up_spaces(char *text, int32_t n) {
    int32_t total = n ? 1 : 0;
    for (int32_t i = 1; i < n; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
            total--;
        }
        text[total++] = x;
    }
    n = total;
    total = n ? 1 : 0;
    for (int32_t i = 1; i < n; i++) {
        char x = text[i];
        if (x == '\'' && i + 1 < n && text[i - 1] == ' ' && text[i + 1] == ' ') {
            total--;
            text[++i] = '\0'; /* skipped: the space after the quote goes too */
        }
        text[total++] = x;
    }
    n = total;
    total = n ? 1 : 0;
    for (int32_t i = 1; i < n; i++) {
        char x = text[i];
        if (text[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            char x1 = text[i + 1];
            if (x1 == 's' || x1 == 'm') {
                total--;
            } else if (i + 2 < n) {
                char x2 = text[i + 2];
                if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                    total--;
                }
            }
        }
        text[total++] = x;
    }
    return total;
}

int32_t umi_vocab_detokenize(const umi_vocab *v, const int32_t *tokens, int32_t n_tokens,
                             char *buf, int32_t buf_len, bool remove_special,
                             bool unparse_special) {
    bool remove_space = v->add_space_prefix;
    if (remove_special && v->add_bos && n_tokens > 0 && tokens[0] == v->bos) {
        remove_space = false;
        tokens++;
        n_tokens--;
    }
    if (remove_special && v->add_eos && n_tokens > 0 && tokens[n_tokens - 1] == v->eos) {
        n_tokens--;
    }
    int64_t avail = buf_len > 0 ? buf_len : 0;
    int64_t total = 0;
    for (int32_t i = 0; i < n_tokens; i++) {
        char *dst = avail > 0 ? buf + total : NULL;
        int32_t n = copy_piece(v, tokens[i], dst, (int32_t)avail, remove_space ? 1 : 0,
                               unparse_special);
        remove_space = false;
        if (n < 0) {
            avail = 0; /* keep measuring, stop writing */
            total -= n;
        } else {
            avail -= n;
            total += n;
        }
        if (total > INT32_MAX) {
            return INT32_MIN;
        }
    }
    if (total > buf_len) {
        return -(int32_t)total;
    }
    if (v->clean_spaces) {
        total = clean_up_spaces(buf, (int32_t)total);
    }
    return (int32_t)total;
}
