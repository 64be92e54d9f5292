/* utf8.h — the few UTF-8 facts the tokenizers need.
 *
 * Tokenizers work on bytes and never reject malformed input: a stray
 * continuation byte or a truncated sequence is simply a short "character",
 * which then falls back to byte tokens. So these helpers report lengths, they
 * do not validate. */
#ifndef UMI_TOKENIZER_UTF8_H
#define UMI_TOKENIZER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the sequence a lead byte announces, judged from its high four bits
 * only: 0xxx and 10xx give 1 (a lone continuation byte stands alone), 110x
 * gives 2, 1110 gives 3, 1111 gives 4. This is the rule the reference SPM
 * tokenizer splits text with; callers clamp it to the bytes that remain. */
static inline size_t umi_utf8_seq_len(uint8_t lead) {
    static const uint8_t len_by_high_nibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                   1, 1, 1, 1, 2, 2, 3, 4};
    return len_by_high_nibble[lead >> 4];
}

/* Encode code point cp (<= 0x10FFFF) into out (room for 4 bytes). Returns the
 * number of bytes written, or 0 when cp is out of range. Surrogates are
 * encoded as-is (tests feed every code point through the tokenizer). */
size_t umi_utf8_encode(uint32_t cp, char out[4]);

/* Decode one code point from s[0..n). Returns the bytes consumed (>= 1 when
 * n > 0) and stores the code point in *cp; malformed or truncated input
 * consumes one byte and yields U+FFFD. */
size_t umi_utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif
