/* unicode.h — the Unicode facts the BPE and WordPiece tokenizers need.
 *
 * The reference engine classifies code points with its own tables (Unicode
 * 15.1), not with the C library or the regex engine, and token boundaries
 * depend on that classification. umi carries the same facts, generated from
 * the Unicode Character Database by gen_unicode_data.py into unicode_data.c:
 *   - the major general category of every code point (L, N, P, S, M, Z, C,
 *     or unassigned);
 *   - the White_Space property (a fixed list, below in unicode.c);
 *   - the simple lowercase mapping;
 *   - the first code point of the canonical decomposition (NFD), which is
 *     what WordPiece's accent stripping keeps.
 * Also here: GPT-2's byte <-> code point mapping for byte-level BPE.
 * Everything is constant data; nothing allocates.
 */
#ifndef UMI_TOKENIZER_UNICODE_H
#define UMI_TOKENIZER_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UMI_UNICODE_MAX_CP 0x10FFFFu

enum umi_cpt_category {
    UMI_CPT_UNASSIGNED = 0, /* Cn, and anything above U+10FFFF */
    UMI_CPT_NUMBER = 1,     /* Nd Nl No */
    UMI_CPT_LETTER = 2,     /* Lu Ll Lt Lm Lo */
    UMI_CPT_SEPARATOR = 3,  /* Zs Zl Zp */
    UMI_CPT_MARK = 4,       /* Mn Mc Me */
    UMI_CPT_PUNCTUATION = 5,/* Pc Pd Ps Pe Pi Pf Po */
    UMI_CPT_SYMBOL = 6,     /* Sm Sc Sk So */
    UMI_CPT_CONTROL = 7,    /* Cc Cf Cs Co */
};

enum umi_cpt_category umi_cpt_category(uint32_t cp);
bool umi_cpt_is_whitespace(uint32_t cp); /* Unicode White_Space */
uint32_t umi_cpt_tolower(uint32_t cp);    /* simple mapping; cp itself when none */
uint32_t umi_cpt_nfd_first(uint32_t cp);  /* cp itself when it does not decompose */

/* Decode one code point from s[0..n) the way the reference's tokenizers do:
 * well-formed lead and continuation bytes give the code point (overlong forms
 * and surrogates included), anything else consumes one byte and gives
 * U+FFFD. Sequences that would decode above U+10FFFF also give U+FFFD (the
 * reference fails on those). n must be > 0. Returns the bytes consumed. */
size_t umi_cpt_decode(const char *s, size_t n, uint32_t *cp);

/* GPT-2 byte-level BPE writes every byte as a printable code point: bytes
 * that are printable Latin-1 ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand
 * for themselves, the other 68 take U+0100.. in byte order. */
uint32_t umi_bytelevel_cpt(uint8_t byte);
/* The byte a code point stands for, or -1 when cp is not one of the 256. */
int umi_bytelevel_byte(uint32_t cp);

/* ---------------------------------------------------------------- data
 * Generated tables (unicode_data.c), sorted by code point. */

typedef struct umi_unicode_pair {
    uint32_t cp;
    uint32_t to;
} umi_unicode_pair;

typedef struct umi_unicode_nfd_run {
    uint32_t first;
    uint32_t last;
    uint32_t to;
} umi_unicode_nfd_run;

extern const uint32_t umi_unicode_category_runs[]; /* first cp << 8 | category */
extern const size_t umi_unicode_category_runs_len;
extern const umi_unicode_pair umi_unicode_lower_pairs[];
extern const size_t umi_unicode_lower_pairs_len;
extern const umi_unicode_nfd_run umi_unicode_nfd_runs[];
extern const size_t umi_unicode_nfd_runs_len;

#endif
