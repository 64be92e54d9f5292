/* unicode.c — code point lookups over the generated tables (see unicode.h). */
#include "tokenizer/unicode.h"

#include "tokenizer/utf8.h"

enum umi_cpt_category umi_cpt_category(uint32_t cp) {
    if (cp > UMI_UNICODE_MAX_CP) {
        return UMI_CPT_UNASSIGNED;
    }
    /* Last run whose first code point is <= cp. Run 0 starts at U+0000. */
    size_t lo = 0, hi = umi_unicode_category_runs_len;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if ((umi_unicode_category_runs[mid] >> 8) <= cp) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return (enum umi_cpt_category)(umi_unicode_category_runs[lo] & 0xFF);
}

bool umi_cpt_is_whitespace(uint32_t cp) {
    /* PropList.txt White_Space. */
    if (cp <= 0x20) {
        return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    }
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

uint32_t umi_cpt_tolower(uint32_t cp) {
    size_t lo = 0, hi = umi_unicode_lower_pairs_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (umi_unicode_lower_pairs[mid].cp < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < umi_unicode_lower_pairs_len && umi_unicode_lower_pairs[lo].cp == cp) {
        return umi_unicode_lower_pairs[lo].to;
    }
    return cp;
}

uint32_t umi_cpt_nfd_first(uint32_t cp) {
    size_t lo = 0, hi = umi_unicode_nfd_runs_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (umi_unicode_nfd_runs[mid].last < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < umi_unicode_nfd_runs_len && umi_unicode_nfd_runs[lo].first <= cp) {
        return umi_unicode_nfd_runs[lo].to;
    }
    return cp;
}

size_t umi_cpt_decode(const char *s, size_t n, uint32_t *cp) {
    size_t k = umi_utf8_decode(s, n, cp);
    if (*cp > UMI_UNICODE_MAX_CP) {
        *cp = 0xFFFD;
        return 1;
    }
    return k;
}

/* ---------------------------------------------------------------- byte level */

static bool byte_is_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

uint32_t umi_bytelevel_cpt(uint8_t byte) {
    if (byte_is_printable(byte)) {
        return byte;
    }
    /* Rank of byte among the non-printable ones: 0x00..0x20 are the first
     * 33, 0x7F..0xA0 the next 34, 0xAD the last. */
    uint32_t rank;
    if (byte <= 0x20) {
        rank = byte;
    } else if (byte <= 0xA0) {
        rank = 33u + (byte - 0x7Fu);
    } else {
        rank = 67;
    }
    return 0x100 + rank;
}

int umi_bytelevel_byte(uint32_t cp) {
    if (cp < 0x100) {
        return byte_is_printable(cp) ? (int)cp : -1;
    }
    if (cp < 0x100 + 33) {
        return (int)(cp - 0x100);
    }
    if (cp < 0x100 + 67) {
        return (int)(cp - 0x100 - 33 + 0x7F);
    }
    if (cp == 0x100 + 67) {
        return 0xAD;
    }
    return -1;
}
