/* Helpers the tokenizer tests share: tokenize into a fresh array, compare
 * and print id lists, and parse the reference's .out lines. */
#ifndef UMI_TESTS_TOKKIT_H
#define UMI_TESTS_TOKKIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/vocab.h"

/* Tokenize into a malloc'd array, sizing it with a first n_max = 0 call.
 * Returns the count (or -1 on failure); *ids is NULL when the count is 0. */
__attribute__((unused)) static int32_t tokenize_all(const umi_vocab *v, const char *text, size_t len, bool add_special,
                            bool parse_special, int32_t **ids) {
    *ids = NULL;
    int32_t n = umi_vocab_tokenize(v, text, len, NULL, 0, add_special, parse_special);
    if (n == INT32_MIN) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    int32_t need = -n;
    *ids = malloc((size_t)need * sizeof **ids);
    if (!*ids) {
        return -1;
    }
    n = umi_vocab_tokenize(v, text, len, *ids, need, add_special, parse_special);
    if (n != need) {
        free(*ids);
        *ids = NULL;
        return -1;
    }
    return n;
}

__attribute__((unused)) static bool ids_equal(const int32_t *a, int32_t na, const int32_t *b, int32_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0);
}

__attribute__((unused)) static void print_ids(const char *label, const int32_t *ids, int32_t n) {
    fprintf(stderr, "  %s:", label);
    for (int32_t i = 0; i < n; i++) {
        fprintf(stderr, " %d", ids[i]);
    }
    fprintf(stderr, "\n");
}

/* Parse up to cap integers separated by spaces or commas; returns the count. */
__attribute__((unused)) static int32_t parse_ids(const char *s, const char *end, int32_t *out, int32_t cap) {
    int32_t n = 0;
    while (s < end) {
        while (s < end && (*s == ' ' || *s == ',' || *s == '\r')) {
            s++;
        }
        if (s >= end) {
            break;
        }
        char *next;
        long x = strtol(s, &next, 10);
        if (next == s) {
            break;
        }
        if (n < cap) {
            out[n] = (int32_t)x;
        }
        n++;
        s = next;
    }
    return n;
}

#endif
