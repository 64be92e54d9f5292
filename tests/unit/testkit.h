/* The small harness the unit tests share: pass/fail counting with a
 * printf-style message, an exact pseudo-random generator (splitmix64; the
 * floats carry 24 random bits, so generated data is the same under any
 * compiler flags), a malloc that stops the test when memory runs out, and
 * reading a whole file.
 * Define TESTKIT_SEED before including to start the generator elsewhere. */
#ifndef UMI_TESTS_TESTKIT_H
#define UMI_TESTS_TESTKIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef TESTKIT_SEED
#define TESTKIT_SEED 0
#endif

static int n_pass, n_fail;

/* Count ok; print "FAIL: <message>" when it is false. Returns ok. */
__attribute__((format(printf, 2, 3), unused)) static bool check(bool ok, const char *fmt, ...) {
    if (ok) {
        n_pass++;
        return true;
    }
    n_fail++;
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    return false;
}

static uint64_t rng_state = TESTKIT_SEED;

__attribute__((unused)) static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1), exactly representable. */
__attribute__((unused)) static float rng_signed(void) {
    return (float)((int32_t)(rng_next() >> 40) - 0x800000) * 0x1p-23f;
}

__attribute__((unused)) static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* A whole file in a malloc'd NUL-terminated buffer (the caller frees);
 * *len excludes the NUL. NULL when it cannot be read. */
__attribute__((unused)) static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    const long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

#endif
