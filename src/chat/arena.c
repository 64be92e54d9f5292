/* arena.c — bump allocation for templates and renders, plus a byte buffer.
 *
 * A render allocates many small values and frees them all at once, so an
 * arena is both faster and leak-proof. The arena has a byte limit: a template
 * that builds ever larger strings in a loop fails with a clear error instead
 * of exhausting memory.
 */
#include "chat/jinja.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jblock {
    jblock *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define JARENA_BLOCK (64u << 10)

void jarena_init(jarena *a, size_t limit) {
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
}

void jarena_free(jarena *a) {
    jblock *b = a->head;
    while (b) {
        jblock *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *jarena_alloc(jarena *a, size_t n) {
    if (n > a->limit || a->total > a->limit - n)
        return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    jblock *b = a->head;
    if (!b || b->cap - b->used < n) {
        /* Large requests get a block of their own so the current block's
         * free space is not wasted. */
        size_t cap = n > JARENA_BLOCK / 4 ? n : JARENA_BLOCK;
        jblock *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b && cap != JARENA_BLOCK) {
            nb->next = b->next; /* keep filling the current block */
            b->next = nb;
            b = nb;
        } else {
            nb->next = b;
            a->head = nb;
            b = nb;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    a->total += n;
    memset(p, 0, n);
    return p;
}

/* ---------------------------------------------------------------- byte buffer */

bool jbuf_put(jbuf *b, const char *s, size_t n) {
    if (n == 0)
        return true;
    if (n > JINJA_MAX_OUTPUT || b->n > JINJA_MAX_OUTPUT - n)
        return false;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return false;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return true;
}

void jbuf_free(jbuf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---------------------------------------------------------------- render errors */

bool jfail(jctx *c, jerr_kind kind, const char *fmt, ...) {
    if (c->err.kind != JERR_NONE)
        return false;
    c->err.kind = kind;
    c->err.line = c->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
    va_end(ap);
    return false;
}

bool jfail_nomem(jctx *c) {
    if (c->arena.total + 4096 > c->arena.limit)
        return jfail(c, JERR_LIMIT, "template used more than %u MiB of memory",
                     (unsigned)(c->arena.limit >> 20));
    return jfail(c, JERR_NOMEM, "out of memory");
}

void *jalloc(jctx *c, size_t n) {
    void *p = jarena_alloc(&c->arena, n);
    if (!p)
        jfail_nomem(c);
    return p;
}
