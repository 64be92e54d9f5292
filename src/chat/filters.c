/* filters.c — filters on single values: strings, numbers, tojson, default.
 *
 * Sequence filters (map, select, sort, join, ...) are in filters_seq.c.
 * Filter lookup happens when the filter runs, so an unknown filter in a
 * branch that never executes is harmless (templates use `from_json` so).
 */
#include "chat/jinja.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool arg_or(const jcall *a, size_t index, const char *name, jv def, jv *out) {
    if (!jcall_arg(a, index, name, out))
        *out = def;
    return true;
}

static bool need_str(jctx *c, jv v, jv *out) { return jv_to_str(c, v, out); }

/* ---------------------------------------------------------------- case */

static char lower_c(char ch) { return ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch; }
static char upper_c(char ch) { return ch >= 'a' && ch <= 'z' ? (char)(ch - 32) : ch; }
static bool alpha_c(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }

/* Jinja's title splits words at runs of whitespace, '-', '(', '{', '[', '<'. */
static bool jinja_word_break(char ch) {
    return ch == ' ' || (ch >= '\t' && ch <= '\r') || ch == '-' || ch == '(' || ch == '{' ||
           ch == '[' || ch == '<';
}

bool jstr_case(jctx *c, jv s, int mode, jv *out) {
    if (!need_str(c, s, &s))
        return false;
    char *p = jalloc(c, s.n + 1);
    if (!p)
        return false;
    bool prev_alpha = false, prev_break = true;
    for (size_t i = 0; i < s.n; i++) {
        char ch = s.u.s[i];
        switch (mode) {
        case 0: ch = lower_c(ch); break;
        case 1: ch = upper_c(ch); break;
        case 2: /* Jinja title: first char of every piece upper, rest lower */
            ch = prev_break ? upper_c(ch) : lower_c(ch);
            prev_break = jinja_word_break(s.u.s[i]);
            break;
        case 3: ch = i == 0 ? upper_c(ch) : lower_c(ch); break;
        default: /* Python str.title: upper after a non-letter */
            ch = prev_alpha ? lower_c(ch) : upper_c(ch);
            prev_alpha = alpha_c(ch) || ((unsigned char)ch >= 0x80 && prev_alpha);
        }
        p[i] = ch;
    }
    *out = jv_str(p, s.n);
    out->flags = s.flags & JV_F_SAFE; /* Markup methods return Markup */
    return true;
}

/* ---------------------------------------------------------------- tojson */

static bool filter_tojson(jctx *c, jv v, const jcall *a, jv *out) {
    jjson_opts o = {.item_sep = ", ", .item_sep_n = 2, .key_sep = ": ", .key_sep_n = 2};
    jv ascii, indent, seps, sort;
    arg_or(a, 0, "ensure_ascii", jv_bool(false), &ascii);
    arg_or(a, 1, "indent", jv_none(), &indent);
    arg_or(a, 2, "separators", jv_none(), &seps);
    arg_or(a, 3, "sort_keys", jv_bool(false), &sort);
    o.ensure_ascii = jv_truthy(ascii);
    o.sort_keys = jv_truthy(sort);
    if (indent.kind == JV_INT || indent.kind == JV_STR) {
        o.has_indent = true;
        o.indent = indent;
        o.item_sep = ",";
        o.item_sep_n = 1;
    } else if (indent.kind != JV_NONE) {
        return jfail(c, JERR_TYPE, "tojson: indent must be an int or a string");
    }
    if (seps.kind == JV_LIST && seps.u.list->n == 2 && seps.u.list->v[0].kind == JV_STR &&
        seps.u.list->v[1].kind == JV_STR) {
        o.item_sep = seps.u.list->v[0].u.s;
        o.item_sep_n = seps.u.list->v[0].n;
        o.key_sep = seps.u.list->v[1].u.s;
        o.key_sep_n = seps.u.list->v[1].n;
    } else if (seps.kind != JV_NONE) {
        return jfail(c, JERR_TYPE, "tojson: separators must be a pair of strings");
    }
    jbuf b = {0};
    if (!jv_write_json(c, &b, v, &o, 0)) {
        jbuf_free(&b);
        return false;
    }
    return jv_str_from_buf(c, &b, out);
}

/* ---------------------------------------------------------------- numbers */

/* Python int(str): optional sign and surrounding whitespace, '_' between digits. */
static bool parse_int(jv s, int64_t *out) {
    char buf[64];
    size_t w = 0;
    for (size_t i = 0; i < s.n && w + 1 < sizeof buf; i++)
        if (s.u.s[i] != '_')
            buf[w++] = s.u.s[i];
    buf[w] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (end == buf)
        return false;
    while (*end == ' ' || (*end >= '\t' && *end <= '\r'))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static bool parse_float(jv s, double *out) {
    char buf[128];
    if (s.n >= sizeof buf)
        return false;
    memcpy(buf, s.u.s, s.n);
    buf[s.n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end == buf)
        return false;
    while (*end == ' ' || (*end >= '\t' && *end <= '\r'))
        end++;
    if (*end)
        return false;
    *out = d;
    return true;
}

static bool filter_int(jctx *c, jv v, const jcall *a, jv *out) {
    jv def;
    arg_or(a, 0, "default", jv_int(0), &def);
    int64_t i;
    double d;
    if (v.kind == JV_INT || v.kind == JV_BOOL)
        *out = jv_int(v.kind == JV_BOOL ? v.u.b : v.u.i);
    else if (v.kind == JV_FLOAT && isfinite(v.u.f) && fabs(v.u.f) < 9.2e18)
        *out = jv_int((int64_t)v.u.f);
    else if (v.kind == JV_STR && parse_int(v, &i))
        *out = jv_int(i);
    else if (v.kind == JV_STR && parse_float(v, &d) && isfinite(d) && fabs(d) < 9.2e18)
        *out = jv_int((int64_t)d);
    else
        *out = def;
    (void)c;
    return true;
}

static bool filter_float(jctx *c, jv v, const jcall *a, jv *out) {
    jv def;
    arg_or(a, 0, "default", jv_float(0.0), &def);
    double d;
    if (jv_is_num(v))
        *out = jv_float(jv_num(v));
    else if (v.kind == JV_STR && parse_float(v, &d))
        *out = jv_float(d);
    else
        *out = def;
    (void)c;
    return true;
}

static bool filter_round(jctx *c, jv v, const jcall *a, jv *out) {
    jv prec_v, method;
    arg_or(a, 0, "precision", jv_int(0), &prec_v);
    arg_or(a, 1, "method", jv_cstr("common"), &method);
    if (!jv_is_num(v))
        return jfail(c, JERR_TYPE, "round() needs a number, not %s", jv_type_name(v));
    int prec = prec_v.kind == JV_INT ? (int)prec_v.u.i : 0;
    if (prec < 0 || prec > 15)
        return jfail(c, JERR_TYPE, "round(): precision out of range");
    bool common = method.kind == JV_STR && method.n == 6 && !memcmp(method.u.s, "common", 6);
    if (common && v.kind != JV_FLOAT) {
        *out = jv_int(v.kind == JV_BOOL ? v.u.b : v.u.i); /* Python round(int) is an int */
        return true;
    }
    double x = jv_num(v), scale = pow(10.0, prec);
    if (common) {
        /* printf rounds the exact binary value half-to-even, like Python's round() */
        char buf[400];
        snprintf(buf, sizeof buf, "%.*f", prec, x);
        *out = jv_float(strtod(buf, NULL));
    } else if (method.kind == JV_STR && method.n == 4 && !memcmp(method.u.s, "ceil", 4)) {
        *out = jv_float(ceil(x * scale) / scale);
    } else if (method.kind == JV_STR && method.n == 5 && !memcmp(method.u.s, "floor", 5)) {
        *out = jv_float(floor(x * scale) / scale);
    } else {
        return jfail(c, JERR_TYPE, "method must be common, ceil or floor");
    }
    return true;
}

/* ---------------------------------------------------------------- strings */

static bool filter_indent(jctx *c, jv v, const jcall *a, jv *out) {
    jv width, first, blank;
    arg_or(a, 0, "width", jv_int(4), &width);
    arg_or(a, 1, "first", jv_bool(false), &first);
    arg_or(a, 2, "blank", jv_bool(false), &blank);
    jv pad = width;
    if (width.kind == JV_INT) {
        int64_t w = width.u.i < 0 ? 0 : width.u.i > 1000 ? 1000 : width.u.i;
        char *p = jalloc(c, (size_t)w + 1);
        if (!p)
            return false;
        memset(p, ' ', (size_t)w);
        pad = jv_str(p, (size_t)w);
    } else if (width.kind != JV_STR) {
        return jfail(c, JERR_TYPE, "indent width must be an int or a string");
    }
    if (!need_str(c, v, &v))
        return false;
    /* Jinja appends "\n" and takes splitlines(): that is split("\n").
     * Empty lines get no indentation unless blank=true. */
    jbuf b = {0};
    bool ok = !jv_truthy(first) || jbuf_put(&b, pad.u.s, pad.n);
    size_t start = 0;
    for (size_t i = 0; ok && i <= v.n; i++) {
        if (i < v.n && v.u.s[i] != '\n')
            continue;
        if (start > 0) {
            ok = jbuf_put(&b, "\n", 1);
            if (ok && (i > start || jv_truthy(blank)))
                ok = jbuf_put(&b, pad.u.s, pad.n);
        }
        ok = ok && jbuf_put(&b, v.u.s + start, i - start);
        start = i + 1;
    }
    if (!ok) {
        jbuf_free(&b);
        return jfail_nomem(c);
    }
    return jv_str_from_buf(c, &b, out);
}

bool jstr_escape(jctx *c, jv v, jv *out) {
    if (v.kind == JV_STR && (v.flags & JV_F_SAFE)) {
        *out = v;
        return true;
    }
    if (!need_str(c, v, &v))
        return false;
    jbuf b = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < v.n; i++) {
        const char *e = NULL;
        switch (v.u.s[i]) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&#34;"; break;
        case '\'': e = "&#39;"; break;
        }
        ok = e ? jbuf_put(&b, e, strlen(e)) : jbuf_put(&b, v.u.s + i, 1);
    }
    if (!ok) {
        jbuf_free(&b);
        return jfail_nomem(c);
    }
    if (!jv_str_from_buf(c, &b, out))
        return false;
    out->flags |= JV_F_SAFE;
    return true;
}

static bool filter_center(jctx *c, jv v, const jcall *a, jv *out) {
    jv width;
    arg_or(a, 0, "width", jv_int(80), &width);
    if (!need_str(c, v, &v))
        return false;
    int64_t len = (int64_t)utf8_len(v.u.s, v.n), w = width.kind == JV_INT ? width.u.i : 80;
    if (w > 100000)
        return jfail(c, JERR_LIMIT, "center() width too large");
    if (w <= len) {
        *out = v;
        return true;
    }
    int64_t marg = w - len, left = marg / 2 + (marg & w & 1); /* CPython's split */
    char *p = jalloc(c, v.n + (size_t)marg + 1);
    if (!p)
        return false;
    memset(p, ' ', (size_t)left);
    memcpy(p + left, v.u.s, v.n);
    memset(p + left + v.n, ' ', (size_t)(marg - left));
    *out = jv_str(p, v.n + (size_t)marg);
    return true;
}

static bool filter_truncate(jctx *c, jv v, const jcall *a, jv *out) {
    jv length, killwords, end, leeway;
    arg_or(a, 0, "length", jv_int(255), &length);
    arg_or(a, 1, "killwords", jv_bool(false), &killwords);
    arg_or(a, 2, "end", jv_cstr("..."), &end);
    arg_or(a, 3, "leeway", jv_int(5), &leeway);
    if (!need_str(c, v, &v) || !need_str(c, end, &end))
        return false;
    int64_t len = (int64_t)utf8_len(v.u.s, v.n), max = length.kind == JV_INT ? length.u.i : 255;
    int64_t lee = leeway.kind == JV_INT ? leeway.u.i : 5, end_len = (int64_t)utf8_len(end.u.s, end.n);
    if (len <= max + lee) {
        *out = v;
        return true;
    }
    if (max < end_len)
        return jfail(c, JERR_TYPE, "expected length >= %lld, got %lld", (long long)end_len, (long long)max);
    size_t cut = utf8_offset(v.u.s, v.n, (size_t)(max - end_len));
    if (!jv_truthy(killwords)) {
        size_t sp = cut;
        while (sp > 0 && v.u.s[sp - 1] != ' ')
            sp--;
        if (sp > 0)
            cut = sp - 1;
    }
    char *p = jalloc(c, cut + end.n + 1);
    if (!p)
        return false;
    memcpy(p, v.u.s, cut);
    memcpy(p + cut, end.u.s, end.n);
    *out = jv_str(p, cut + end.n);
    return true;
}

static bool filter_wordcount(jctx *c, jv v, jv *out) {
    if (!need_str(c, v, &v))
        return false;
    int64_t words = 0;
    bool in_word = false;
    for (size_t i = 0; i < v.n; i++) {
        unsigned char ch = (unsigned char)v.u.s[i];
        bool w = ch >= 0x80 || ch == '_' || (ch >= '0' && ch <= '9') || alpha_c((char)ch);
        if (w && !in_word)
            words++;
        in_word = w;
    }
    *out = jv_int(words);
    return true;
}

/* "%s and %d" | format(a, b): printf-style, as Python's % operator. */
static bool filter_format(jctx *c, jv fmt, const jcall *a, jv *out) {
    if (fmt.kind != JV_STR)
        return jfail(c, JERR_TYPE, "format filter needs a string");
    jbuf b = {0};
    size_t argi = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < fmt.n; i++) {
        if (fmt.u.s[i] != '%' || i + 1 >= fmt.n) {
            ok = jbuf_put(&b, fmt.u.s + i, 1);
            continue;
        }
        char conv = fmt.u.s[++i];
        if (conv == '%') {
            ok = jbuf_put(&b, "%", 1);
            continue;
        }
        if (argi >= a->n_pos) {
            jbuf_free(&b);
            return jfail(c, JERR_TYPE, "not enough arguments for format string");
        }
        jv arg = a->pos[argi++];
        if (conv == 's')
            ok = jv_write_str(c, &b, arg);
        else if (conv == 'r')
            ok = jv_write_repr(c, &b, arg);
        else if ((conv == 'd' || conv == 'i') && jv_is_num(arg))
            ok = jv_write_str(c, &b, jv_int((int64_t)jv_num(arg)));
        else {
            jbuf_free(&b);
            return jfail(c, JERR_TYPE, "unsupported format character '%c'", conv);
        }
    }
    if (!ok) {
        jbuf_free(&b);
        return c->err.kind ? false : jfail_nomem(c);
    }
    return jv_str_from_buf(c, &b, out);
}

/* ---------------------------------------------------------------- dispatch */

static bool str_filter(jctx *c, const char *name, jv v, const jcall *a, jv *out, bool *found) {
    jv arg, arg2;
    *found = true;
    if (!strcmp(name, "trim")) {
        arg_or(a, 0, "chars", jv_none(), &arg);
        return need_str(c, v, &v) && jstr_strip(c, v, arg, 3, out);
    }
    if (!strcmp(name, "lower")) return jstr_case(c, v, 0, out);
    if (!strcmp(name, "upper")) return jstr_case(c, v, 1, out);
    if (!strcmp(name, "title")) return jstr_case(c, v, 2, out);
    if (!strcmp(name, "capitalize")) return jstr_case(c, v, 3, out);
    if (!strcmp(name, "replace")) {
        if (!jcall_arg(a, 0, "old", &arg) || !jcall_arg(a, 1, "new", &arg2))
            return jfail(c, JERR_TYPE, "replace needs two arguments");
        jv count;
        arg_or(a, 2, "count", jv_none(), &count);
        return need_str(c, v, &v) && need_str(c, arg, &arg) && need_str(c, arg2, &arg2) &&
               jstr_replace(c, v, arg, arg2, count.kind == JV_INT ? count.u.i : -1, out);
    }
    if (!strcmp(name, "string")) return jv_to_str(c, v, out); /* a Markup stays one */
    if (!strcmp(name, "safe")) {
        if (!jv_to_str(c, v, out))
            return false;
        out->flags |= JV_F_SAFE;
        return true;
    }
    if (!strcmp(name, "escape") || !strcmp(name, "e") || !strcmp(name, "forceescape"))
        return jstr_escape(c, v, out);
    if (!strcmp(name, "indent")) return filter_indent(c, v, a, out);
    if (!strcmp(name, "center")) return filter_center(c, v, a, out);
    if (!strcmp(name, "truncate")) return filter_truncate(c, v, a, out);
    if (!strcmp(name, "wordcount")) return filter_wordcount(c, v, out);
    if (!strcmp(name, "format")) return filter_format(c, v, a, out);
    *found = false;
    return true;
}

bool japply_filter(jctx *c, const char *name, jv v, const jcall *a, jv *out) {
    jv arg;
    if (!strcmp(name, "default") || !strcmp(name, "d")) {
        jv boolean;
        arg_or(a, 0, "default_value", jv_str("", 0), &arg);
        arg_or(a, 1, "boolean", jv_bool(false), &boolean);
        bool use_default = v.kind == JV_UNDEF || (jv_truthy(boolean) && !jv_truthy(v));
        *out = use_default ? arg : v;
        return true;
    }
    if (!strcmp(name, "tojson")) return filter_tojson(c, v, a, out);
    if (!strcmp(name, "int")) return filter_int(c, v, a, out);
    if (!strcmp(name, "float")) return filter_float(c, v, a, out);
    if (!strcmp(name, "round")) return filter_round(c, v, a, out);
    if (!strcmp(name, "abs")) {
        if (v.kind == JV_FLOAT)
            *out = jv_float(fabs(v.u.f));
        else if ((v.kind == JV_INT || v.kind == JV_BOOL) && !(v.kind == JV_INT && v.u.i == INT64_MIN))
            *out = jv_int(v.kind == JV_BOOL ? v.u.b : llabs(v.u.i));
        else
            return jfail(c, JERR_TYPE, "bad operand type for abs(): '%s'", jv_type_name(v));
        return true;
    }
    if (!strcmp(name, "attr")) {
        if (!jcall_arg(a, 0, "name", &arg) || arg.kind != JV_STR || arg.n >= 64)
            return jfail(c, JERR_TYPE, "attr needs a name");
        char key[64];
        memcpy(key, arg.u.s, arg.n);
        key[arg.n] = '\0';
        return jv_getattr(c, v, key, out);
    }
    bool found;
    if (!str_filter(c, name, v, a, out, &found))
        return false;
    if (found)
        return true;
    if (!japply_seq_filter(c, name, v, a, out, &found))
        return false;
    if (found)
        return true;
    return jfail(c, JERR_SYNTAX, "No filter named '%s'", name);
}
