/* tojson.c — the `tojson` filter as transformers defines it:
 * json.dumps(x, ensure_ascii=False, indent=None, separators=None,
 * sort_keys=False), with those four keywords overridable.
 *
 * Facts of Python's json module this reproduces: default separators are
 * ", " and ": " without indent and "," and ": " with it; empty containers
 * stay "[]" / "{}" even when indenting; non-string keys are converted
 * (True -> "true", None -> "null", 1 -> "1"); floats print as repr(), NaN
 * and infinities as NaN/Infinity; ensure_ascii escapes as \uXXXX with
 * surrogate pairs; only ", \ and control characters are escaped otherwise.
 */
#include "chat/jinja.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static bool put(jctx *c, jbuf *b, const char *s, size_t n) {
    if (!jbuf_put(b, s, n))
        return jfail(c, JERR_LIMIT, "tojson output too large");
    return true;
}

/* Decode one UTF-8 sequence; malformed bytes come back as themselves. */
static uint32_t utf8_decode(const unsigned char *s, size_t n, size_t *used) {
    unsigned char c0 = s[0];
    int len = c0 >= 0xF0 ? 4 : c0 >= 0xE0 ? 3 : c0 >= 0xC0 ? 2 : 1;
    if ((size_t)len > n)
        len = 1;
    uint32_t cp = len == 1 ? c0 : len == 2 ? c0 & 0x1F : len == 3 ? c0 & 0x0F : c0 & 0x07;
    for (int i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    *used = (size_t)len;
    return cp;
}

static bool write_escaped_cp(jctx *c, jbuf *b, uint32_t cp) {
    char tmp[16];
    if (cp >= 0x10000) {
        cp -= 0x10000;
        snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
    } else {
        snprintf(tmp, sizeof tmp, "\\u%04x", cp);
    }
    return put(c, b, tmp, strlen(tmp));
}

static bool write_json_string(jctx *c, jbuf *b, const char *s, size_t n, bool ascii) {
    if (!put(c, b, "\"", 1))
        return false;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *e = NULL;
        char esc[8];
        switch (ch) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        default:
            if (ch < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", ch);
                e = esc;
            }
        }
        if (!e && !(ascii && ch >= 0x80)) {
            run++;
            continue;
        }
        if (!put(c, b, s + i - run, run))
            return false;
        run = 0;
        if (e) {
            if (!put(c, b, e, strlen(e)))
                return false;
            continue;
        }
        size_t used;
        uint32_t cp = utf8_decode((const unsigned char *)s + i, n - i, &used);
        if (!write_escaped_cp(c, b, cp))
            return false;
        i += used - 1;
    }
    return put(c, b, s + n - run, run) && put(c, b, "\"", 1);
}

static bool write_number(jctx *c, jbuf *b, jv v) {
    char tmp[48];
    size_t n;
    if (v.kind == JV_BOOL)
        n = (size_t)snprintf(tmp, sizeof tmp, "%s", v.u.b ? "true" : "false");
    else if (v.kind == JV_INT)
        n = (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v.u.i);
    else if (isnan(v.u.f))
        n = (size_t)snprintf(tmp, sizeof tmp, "NaN");
    else if (isinf(v.u.f))
        n = (size_t)snprintf(tmp, sizeof tmp, v.u.f < 0 ? "-Infinity" : "Infinity");
    else
        n = py_float_repr(v.u.f, tmp);
    return put(c, b, tmp, n);
}

static bool newline_indent(jctx *c, jbuf *b, const jjson_opts *o, int level) {
    if (!o->has_indent)
        return true;
    if (!put(c, b, "\n", 1))
        return false;
    for (int i = 0; i < level; i++) {
        if (o->indent.kind == JV_STR) {
            if (!put(c, b, o->indent.u.s, o->indent.n))
                return false;
        } else {
            for (int64_t k = 0; k < o->indent.u.i; k++)
                if (!put(c, b, " ", 1))
                    return false;
        }
    }
    return true;
}

static bool write_key(jctx *c, jbuf *b, jv k, const jjson_opts *o) {
    if (k.kind == JV_STR)
        return write_json_string(c, b, k.u.s, k.n, o->ensure_ascii);
    if (k.kind == JV_NONE)
        return put(c, b, "\"null\"", 6);
    if (jv_is_num(k))
        return put(c, b, "\"", 1) && write_number(c, b, k) && put(c, b, "\"", 1);
    return jfail(c, JERR_TYPE, "keys must be str, int, float, bool or None, not %s",
                 jv_type_name(k));
}

/* Key order for sort_keys: Python sorts the keys themselves. */
static bool sorted_order(jctx *c, const jdict *d, size_t *order) {
    for (size_t i = 0; i < d->n; i++)
        order[i] = i;
    for (size_t i = 1; i < d->n; i++) {
        size_t x = order[i], j = i;
        while (j > 0) {
            int cmp;
            if (!jv_compare(c, d->keys[order[j - 1]], d->keys[x], &cmp))
                return false;
            if (cmp <= 0)
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    return true;
}

static bool write_object(jctx *c, jbuf *b, const jdict *d, const jjson_opts *o, int level) {
    if (d->n == 0)
        return put(c, b, "{}", 2);
    size_t *order = jalloc(c, d->n * sizeof *order);
    if (!order)
        return false;
    for (size_t i = 0; i < d->n; i++)
        order[i] = i;
    if (o->sort_keys && !sorted_order(c, d, order))
        return false;
    if (!put(c, b, "{", 1))
        return false;
    for (size_t i = 0; i < d->n; i++) {
        size_t k = order[i];
        if (i && !put(c, b, o->item_sep, o->item_sep_n))
            return false;
        if (!newline_indent(c, b, o, level + 1) || !write_key(c, b, d->keys[k], o) ||
            !put(c, b, o->key_sep, o->key_sep_n) || !jv_write_json(c, b, d->vals[k], o, level + 1))
            return false;
    }
    return newline_indent(c, b, o, level) && put(c, b, "}", 1);
}

static bool write_array(jctx *c, jbuf *b, const jlist *l, const jjson_opts *o, int level) {
    if (l->n == 0)
        return put(c, b, "[]", 2);
    if (!put(c, b, "[", 1))
        return false;
    for (size_t i = 0; i < l->n; i++) {
        if (i && !put(c, b, o->item_sep, o->item_sep_n))
            return false;
        if (!newline_indent(c, b, o, level + 1) || !jv_write_json(c, b, l->v[i], o, level + 1))
            return false;
    }
    return newline_indent(c, b, o, level) && put(c, b, "]", 1);
}

bool jv_write_json(jctx *c, jbuf *b, jv v, const jjson_opts *o, int level) {
    if (level > JINJA_MAX_PARSE_DEPTH)
        return jfail(c, JERR_LIMIT, "tojson: value nested too deeply");
    switch (v.kind) {
    case JV_NONE: return put(c, b, "null", 4);
    case JV_BOOL:
    case JV_INT:
    case JV_FLOAT: return write_number(c, b, v);
    case JV_STR: return write_json_string(c, b, v.u.s, v.n, o->ensure_ascii);
    case JV_LIST:
        if (v.flags & JV_F_GEN)
            break;
        return write_array(c, b, v.u.list, o, level);
    case JV_DICT:
        if (v.flags & JV_F_NAMESPACE)
            break;
        return write_object(c, b, v.u.dict, o, level);
    default: break;
    }
    return jfail(c, JERR_TYPE, "Object of type %s is not JSON serializable", jv_type_name(v));
}
