/* lexer.c — template source to tokens, with Jinja's whitespace control.
 *
 * The template is configured as transformers configures it: trim_blocks
 * (drop the first newline after a block or comment tag) and lstrip_blocks
 * (drop spaces and tabs between the start of a line and a block or comment
 * tag). `{%-`/`-%}` strip all whitespace on that side, `{%+` disables
 * lstrip_blocks for one tag. Inside a tag, an end marker only counts when
 * brackets are balanced, so `{{ {'a': {'b': 1}} }}` works.
 */
#include "chat/jinja.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lexer {
    const char *s;
    size_t n, pos;
    int line;
    jarena *arena;
    jtoks *out;
    jerror *err;
} lexer;

static bool lex_fail(lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool lex_fail(lexer *lx, const char *fmt, ...) {
    lx->err->kind = JERR_SYNTAX;
    lx->err->line = lx->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err->msg, sizeof lx->err->msg, fmt, ap);
    va_end(ap);
    return false;
}

static bool emit(lexer *lx, jtok_kind kind, const char *s, size_t n, int line) {
    jtoks *t = lx->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        jtok *v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            lx->err->kind = JERR_NOMEM;
            snprintf(lx->err->msg, sizeof lx->err->msg, "out of memory");
            return false;
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (jtok){.kind = kind, .line = line, .s = s, .n = n};
    return true;
}

static void count_lines(lexer *lx, size_t from, size_t to) {
    for (size_t i = from; i < to; i++)
        if (lx->s[i] == '\n')
            lx->line++;
}

static bool is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static bool is_tag_char(char ch) { return ch == '{' || ch == '%' || ch == '#'; }

/* ---------------------------------------------------------------- strings */

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Python string-literal escapes (Jinja decodes literals with
 * "unicode-escape"). Returns bytes written to o, which has room for len*4. */
static size_t unescape(const char *s, size_t len, char *o) {
    static const char simple_from[] = "\\'\"abfnrtv", simple_to[] = "\\'\"\a\b\f\n\r\t\v";
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\' || i + 1 == len) {
            o[w++] = s[i];
            continue;
        }
        char e = s[++i];
        const char *hit = strchr(simple_from, e);
        if (e && hit) {
            o[w++] = simple_to[hit - simple_from];
        } else if (e == '\n') {
            /* line continuation */
        } else if (e >= '0' && e <= '7') {
            uint32_t cp = 0;
            size_t k = 0;
            for (; k < 3 && i + k < len && s[i + k] >= '0' && s[i + k] <= '7'; k++)
                cp = cp * 8 + (uint32_t)(s[i + k] - '0');
            i += k - 1;
            w += put_utf8(o + w, cp);
        } else if (e == 'x' || e == 'u' || e == 'U') {
            size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8, k = 0;
            uint32_t cp = 0;
            for (; k < digits && i + 1 + k < len && hexval(s[i + 1 + k]) >= 0; k++)
                cp = cp * 16 + (uint32_t)hexval(s[i + 1 + k]);
            if (k == digits && cp <= 0x10FFFF) {
                i += k;
                w += put_utf8(o + w, cp);
            } else {
                o[w++] = '\\';
                o[w++] = e;
            }
        } else {
            o[w++] = '\\';
            o[w++] = e;
        }
    }
    return w;
}

static bool lex_string(lexer *lx) {
    char q = lx->s[lx->pos];
    size_t start = ++lx->pos;
    int line = lx->line;
    while (lx->pos < lx->n && lx->s[lx->pos] != q) {
        if (lx->s[lx->pos] == '\\' && lx->pos + 1 < lx->n)
            lx->pos++;
        lx->pos++;
    }
    if (lx->pos >= lx->n)
        return lex_fail(lx, "line %d: unterminated string literal", line);
    size_t len = lx->pos - start;
    char *o = jarena_alloc(lx->arena, len * 4 + 1);
    if (!o)
        return lex_fail(lx, "out of memory");
    size_t w = unescape(lx->s + start, len, o);
    count_lines(lx, start, lx->pos);
    lx->pos++;
    return emit(lx, JT_STRING, o, w, line);
}

/* ---------------------------------------------------------------- numbers, names, operators */

static size_t digits_run(const char *s, size_t n, size_t i) {
    size_t start = i;
    while (i < n && (isdigit((unsigned char)s[i]) || (s[i] == '_' && i > start && i + 1 < n &&
                                                      isdigit((unsigned char)s[i + 1]))))
        i++;
    return i;
}

static bool lex_number(lexer *lx) {
    const char *s = lx->s;
    size_t start = lx->pos, i = digits_run(s, lx->n, start);
    bool is_float = false;
    /* After a '.', only an integer: `x.0.1` is two subscripts, not a float. */
    bool after_dot = start > 0 && s[start - 1] == '.';
    if (!after_dot && i + 1 < lx->n && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        i = digits_run(s, lx->n, i + 1);
        is_float = true;
    }
    if (!after_dot && i < lx->n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < lx->n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < lx->n && isdigit((unsigned char)s[j])) {
            i = digits_run(s, lx->n, j);
            is_float = true;
        }
    }
    char buf[64];
    size_t w = 0;
    for (size_t k = start; k < i && w + 1 < sizeof buf; k++)
        if (s[k] != '_')
            buf[w++] = s[k];
    buf[w] = '\0';
    if (!emit(lx, is_float ? JT_FLOAT : JT_INT, s + start, i - start, lx->line))
        return false;
    jtok *t = &lx->out->v[lx->out->n - 1];
    if (is_float) {
        t->f = strtod(buf, NULL);
    } else {
        char *end;
        unsigned long long v = strtoull(buf, &end, 10);
        if (v > INT64_MAX)
            return lex_fail(lx, "line %d: integer literal too large", lx->line);
        t->i = (int64_t)v;
    }
    lx->pos = i;
    return true;
}

static const char *const OPERATORS[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/",
                                        "%",  "~",  "<",  ">",  "=",  "(",  ")", "[", "]", "{",
                                        "}",  ",",  ".",  ":",  "|"};

static bool lex_operator(lexer *lx, int *depth) {
    const char *p = lx->s + lx->pos;
    size_t left = lx->n - lx->pos;
    for (size_t k = 0; k < sizeof OPERATORS / sizeof *OPERATORS; k++) {
        size_t len = strlen(OPERATORS[k]);
        if (len > left || memcmp(p, OPERATORS[k], len) != 0)
            continue;
        if (len == 1 && strchr("([{", *p))
            (*depth)++;
        else if (len == 1 && strchr(")]}", *p) && *depth > 0)
            (*depth)--;
        lx->pos += len;
        return emit(lx, JT_OP, p, len, lx->line);
    }
    return lex_fail(lx, "line %d: unexpected character '%c'", lx->line, *p);
}

/* ---------------------------------------------------------------- tags */

/* Does the tag end here? Returns the marker length (0 = no) and its
 * modifier: '-' strips following whitespace, '+' keeps the newline that
 * trim_blocks would drop, 0 for neither. */
static size_t tag_end(const lexer *lx, char kind, char *mod) {
    const char *p = lx->s + lx->pos;
    size_t left = lx->n - lx->pos;
    char close = kind == '{' ? '}' : '%';
    *mod = 0;
    if (left >= 3 && (p[0] == '-' || p[0] == '+') && p[1] == close && p[2] == '}') {
        *mod = p[0];
        return 3;
    }
    if (left >= 2 && p[0] == close && p[1] == '}')
        return 2;
    return 0;
}

/* After a tag: '-' strips all whitespace; block tags drop one newline. */
static void after_tag(lexer *lx, bool strip, bool trim_newline) {
    if (strip) {
        size_t start = lx->pos;
        while (lx->pos < lx->n && is_space(lx->s[lx->pos]))
            lx->pos++;
        count_lines(lx, start, lx->pos);
    } else if (trim_newline && lx->pos < lx->n && lx->s[lx->pos] == '\n') {
        lx->pos++;
        lx->line++;
    }
}

static bool lex_tag_body(lexer *lx, char kind, char *mod) {
    int depth = 0;
    for (;;) {
        while (lx->pos < lx->n && is_space(lx->s[lx->pos])) {
            if (lx->s[lx->pos] == '\n')
                lx->line++;
            lx->pos++;
        }
        if (lx->pos >= lx->n)
            return lex_fail(lx, "line %d: unexpected end of template inside a tag", lx->line);
        size_t end = depth == 0 ? tag_end(lx, kind, mod) : 0;
        if (end) {
            lx->pos += end;
            return true;
        }
        char ch = lx->s[lx->pos];
        bool ok;
        if (ch == '\'' || ch == '"')
            ok = lex_string(lx);
        else if (isdigit((unsigned char)ch))
            ok = lex_number(lx);
        else if (isalpha((unsigned char)ch) || ch == '_') {
            size_t start = lx->pos;
            while (lx->pos < lx->n && (isalnum((unsigned char)lx->s[lx->pos]) || lx->s[lx->pos] == '_'))
                lx->pos++;
            ok = emit(lx, JT_NAME, lx->s + start, lx->pos - start, lx->line);
        } else
            ok = lex_operator(lx, &depth);
        if (!ok)
            return false;
    }
}

/* {% raw %}...{% endraw %}: the body is text, verbatim. Returns 0 when the
 * tag at pos is not a raw tag, 1 when handled, -1 on error. */
static int lex_raw(lexer *lx) {
    size_t p = lx->pos;
    while (p < lx->n && is_space(lx->s[p]))
        p++;
    if (lx->n - p < 3 || memcmp(lx->s + p, "raw", 3) != 0)
        return 0;
    p += 3;
    while (p < lx->n && is_space(lx->s[p]))
        p++;
    bool strip_after = p < lx->n && lx->s[p] == '-';
    if (strip_after || (p < lx->n && lx->s[p] == '+'))
        p++;
    if (lx->n - p < 2 || memcmp(lx->s + p, "%}", 2) != 0)
        return 0;
    size_t body = p + 2;
    for (size_t q = body; q + 1 < lx->n; q++) {
        if (lx->s[q] != '{' || lx->s[q + 1] != '%')
            continue;
        size_t r = q + 2;
        bool strip_before = r < lx->n && lx->s[r] == '-';
        if (strip_before || (r < lx->n && lx->s[r] == '+'))
            r++;
        while (r < lx->n && is_space(lx->s[r]))
            r++;
        if (lx->n - r < 6 || memcmp(lx->s + r, "endraw", 6) != 0)
            continue;
        r += 6;
        while (r < lx->n && is_space(lx->s[r]))
            r++;
        bool strip_end = r < lx->n && lx->s[r] == '-';
        if (strip_end || (r < lx->n && lx->s[r] == '+'))
            r++;
        if (lx->n - r < 2 || memcmp(lx->s + r, "%}", 2) != 0)
            continue;
        size_t b0 = body, b1 = q;
        if (strip_after)
            while (b0 < b1 && is_space(lx->s[b0]))
                b0++;
        if (strip_before)
            while (b1 > b0 && is_space(lx->s[b1 - 1]))
                b1--;
        int line = lx->line;
        count_lines(lx, lx->pos, r + 2);
        if (b1 > b0 && !emit(lx, JT_TEXT, lx->s + b0, b1 - b0, line))
            return -1;
        lx->pos = r + 2;
        after_tag(lx, strip_end, true);
        return 1;
    }
    lex_fail(lx, "line %d: missing endraw", lx->line);
    return -1;
}

/* lstrip_blocks: drop spaces/tabs between the line start and the tag. */
static size_t lstrip_text(const lexer *lx, size_t start, size_t end) {
    size_t l = end;
    while (l > start && lx->s[l - 1] != '\n')
        l--;
    bool line_start = l > start || start == 0 || lx->s[start - 1] == '\n';
    if (!line_start)
        return end;
    for (size_t i = l; i < end; i++)
        if (!is_space(lx->s[i]))
            return end;
    return l;
}

static bool lex_text(lexer *lx, size_t start, size_t end, char kind, char mod) {
    size_t stop = end;
    if (mod == '-') {
        while (stop > start && is_space(lx->s[stop - 1]))
            stop--;
    } else if (mod != '+' && kind != '{') {
        stop = lstrip_text(lx, start, end);
    }
    int line = lx->line;
    count_lines(lx, start, end);
    if (stop > start)
        return emit(lx, JT_TEXT, lx->s + start, stop - start, line);
    return true;
}

static bool lex_tag(lexer *lx, char kind) {
    int line = lx->line;
    bool strip;
    char mod;
    if (kind == '#') {
        const char *end = memmem(lx->s + lx->pos, lx->n - lx->pos, "#}", 2);
        if (!end)
            return lex_fail(lx, "line %d: unterminated comment", line);
        size_t e = (size_t)(end - lx->s);
        strip = e > lx->pos && lx->s[e - 1] == '-';
        count_lines(lx, lx->pos, e);
        lx->pos = e + 2;
        after_tag(lx, strip, true);
        return true;
    }
    if (kind == '%') {
        int raw = lex_raw(lx);
        if (raw)
            return raw > 0;
    }
    if (!emit(lx, kind == '{' ? JT_VAR_BEGIN : JT_BLOCK_BEGIN, NULL, 0, line) ||
        !lex_tag_body(lx, kind, &mod) ||
        !emit(lx, kind == '{' ? JT_VAR_END : JT_BLOCK_END, NULL, 0, lx->line))
        return false;
    after_tag(lx, mod == '-', kind == '%' && mod != '+');
    return true;
}

bool jinja_lex(const char *src, size_t len, jarena *arena, jtoks *out, jerror *err) {
    lexer lx = {.s = src, .n = len, .line = 1, .arena = arena, .out = out, .err = err};
    while (lx.pos < lx.n) {
        size_t tag = lx.pos;
        while (tag + 1 < lx.n && !(src[tag] == '{' && is_tag_char(src[tag + 1])))
            tag++;
        if (tag + 1 >= lx.n) {
            int line = lx.line;
            count_lines(&lx, lx.pos, lx.n);
            return emit(&lx, JT_TEXT, src + lx.pos, lx.n - lx.pos, line) &&
                   emit(&lx, JT_EOF, NULL, 0, lx.line);
        }
        char kind = src[tag + 1];
        char mod = tag + 2 < lx.n && (src[tag + 2] == '-' || src[tag + 2] == '+') ? src[tag + 2] : 0;
        /* `{#` needs its '-' checked the same way; `{%+` only matters to lstrip. */
        if (!lex_text(&lx, lx.pos, tag, kind, mod))
            return false;
        lx.pos = tag + 2 + (mod ? 1 : 0);
        if (!lex_tag(&lx, kind))
            return false;
    }
    return emit(&lx, JT_EOF, NULL, 0, lx.line);
}
