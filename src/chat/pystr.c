/* pystr.c — printing values the way Python's str() and repr() do.
 *
 * `{{ x }}`, `~` and `|string` show Python's str(): None as "None", True as
 * "True", floats in shortest round-trip form ("1.0", "1e+16"), and
 * containers with repr() of their elements ({'a': [1, 'b']}). Templates
 * depend on this (e.g. functionary prints `example|string`).
 */
#include "chat/jinja.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- UTF-8 */

size_t utf8_len(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

size_t utf8_offset(const char *s, size_t n, size_t cp) {
    size_t i = 0;
    while (i < n && cp > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

/* ---------------------------------------------------------------- floats */

/* Python's float repr: the shortest digits that round-trip, in fixed
 * notation when the decimal exponent is in [-4, 16), else d.ddde+XX. */
size_t py_float_repr(double f, char out[40]) {
    if (isnan(f))
        return (size_t)snprintf(out, 40, "nan");
    if (isinf(f))
        return (size_t)snprintf(out, 40, f < 0 ? "-inf" : "inf");
    char buf[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    /* buf = [-]d.ddde[+-]XX: split into digits and exponent */
    char digits[24];
    size_t nd = 0;
    const char *p = buf;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = -1; i > exp; i--)
                out[o++] = '0';
            for (size_t i = 0; i < nd; i++)
                out[o++] = digits[i];
        } else {
            for (int i = 0; i <= exp; i++)
                out[o++] = (size_t)i < nd ? digits[i] : '0';
            out[o++] = '.';
            if ((size_t)exp + 1 < nd)
                for (size_t i = (size_t)exp + 1; i < nd; i++)
                    out[o++] = digits[i];
            else
                out[o++] = '0';
        }
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (size_t i = 1; i < nd; i++)
                out[o++] = digits[i];
        }
        o += (size_t)snprintf(out + o, 40 - o, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    }
    out[o] = '\0';
    return o;
}

/* ---------------------------------------------------------------- str() / repr() */

static bool put(jctx *c, jbuf *b, const char *s, size_t n) {
    if (!jbuf_put(b, s, n))
        return b->n + n > JINJA_MAX_OUTPUT
                   ? jfail(c, JERR_LIMIT, "output larger than %u MiB", JINJA_MAX_OUTPUT >> 20)
                   : jfail_nomem(c);
    return true;
}

static bool puts_(jctx *c, jbuf *b, const char *s) { return put(c, b, s, strlen(s)); }

static bool write_str_repr(jctx *c, jbuf *b, const char *s, size_t n) {
    bool has_single = memchr(s, '\'', n) != NULL, has_double = memchr(s, '"', n) != NULL;
    char q = has_single && !has_double ? '"' : '\'';
    if (!put(c, b, &q, 1))
        return false;
    size_t run = 0; /* bytes copied verbatim are flushed in runs */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        const char *e = NULL;
        size_t skip = 1;
        if (ch == '\\')
            e = "\\\\";
        else if (ch == (unsigned char)q)
            e = q == '\'' ? "\\'" : "\\\"";
        else if (ch == '\n')
            e = "\\n";
        else if (ch == '\r')
            e = "\\r";
        else if (ch == '\t')
            e = "\\t";
        else if (ch < 0x20 || ch == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", ch);
            e = esc;
        } else if (ch == 0xC2 && i + 1 < n) {
            /* U+0080..U+00A0 and U+00AD are not printable for Python */
            unsigned char c2 = (unsigned char)s[i + 1];
            if (c2 <= 0xA0 || c2 == 0xAD) {
                snprintf(esc, sizeof esc, "\\x%02x", c2);
                e = esc;
                skip = 2;
            }
        }
        if (!e) {
            run++;
            continue;
        }
        if (!put(c, b, s + i - run, run) || !puts_(c, b, e))
            return false;
        run = 0;
        i += skip - 1;
    }
    return put(c, b, s + n - run, run) && put(c, b, &q, 1);
}

static bool write_scalar(jctx *c, jbuf *b, jv v) {
    char tmp[48];
    switch (v.kind) {
    case JV_NONE: return puts_(c, b, "None");
    case JV_BOOL: return puts_(c, b, v.u.b ? "True" : "False");
    case JV_INT:
        snprintf(tmp, sizeof tmp, "%" PRId64, v.u.i);
        return puts_(c, b, tmp);
    case JV_FLOAT: return put(c, b, tmp, py_float_repr(v.u.f, tmp));
    default: return true;
    }
}

static bool write_repr(jctx *c, jbuf *b, jv v, int depth);

static bool write_container(jctx *c, jbuf *b, jv v, int depth) {
    if (depth > JINJA_MAX_PARSE_DEPTH)
        return jfail(c, JERR_LIMIT, "value nested too deeply to print");
    if (v.kind == JV_LIST) {
        if (v.flags & JV_F_GEN)
            return puts_(c, b, "<generator object>");
        bool tuple = v.flags & JV_F_TUPLE;
        const jlist *l = v.u.list;
        if (!puts_(c, b, tuple ? "(" : "["))
            return false;
        for (size_t i = 0; i < l->n; i++)
            if ((i && !puts_(c, b, ", ")) || !write_repr(c, b, l->v[i], depth + 1))
                return false;
        if (tuple && l->n == 1 && !puts_(c, b, ","))
            return false;
        return puts_(c, b, tuple ? ")" : "]");
    }
    bool ns = v.flags & JV_F_NAMESPACE;
    const jdict *d = v.u.dict;
    if (!puts_(c, b, ns ? "<Namespace {" : "{"))
        return false;
    for (size_t i = 0; i < d->n; i++)
        if ((i && !puts_(c, b, ", ")) || !write_repr(c, b, d->keys[i], depth + 1) ||
            !puts_(c, b, ": ") || !write_repr(c, b, d->vals[i], depth + 1))
            return false;
    return puts_(c, b, ns ? "}>" : "}");
}

static bool write_repr(jctx *c, jbuf *b, jv v, int depth) {
    switch (v.kind) {
    case JV_UNDEF: return puts_(c, b, "Undefined");
    case JV_STR: return write_str_repr(c, b, v.u.s, v.n);
    case JV_LIST:
    case JV_DICT: return write_container(c, b, v, depth);
    case JV_FUNC: return puts_(c, b, "<function>");
    case JV_LOOP: return puts_(c, b, "<LoopContext>");
    default: return write_scalar(c, b, v);
    }
}

bool jv_write_repr(jctx *c, jbuf *b, jv v) { return write_repr(c, b, v, 0); }

bool jv_write_str(jctx *c, jbuf *b, jv v) {
    switch (v.kind) {
    case JV_UNDEF: return true;
    case JV_STR: return put(c, b, v.u.s, v.n);
    default: return jv_write_repr(c, b, v);
    }
}

bool jv_to_str(jctx *c, jv v, jv *out) {
    if (v.kind == JV_STR) {
        *out = v;
        return true;
    }
    if (v.kind == JV_UNDEF) {
        *out = jv_str("", 0);
        return true;
    }
    jbuf b = {0};
    if (!jv_write_str(c, &b, v)) {
        jbuf_free(&b);
        return false;
    }
    return jv_str_from_buf(c, &b, out);
}
