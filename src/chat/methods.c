/* methods.c — Python methods templates call on strings, dicts and lists.
 *
 * `x.strip()` evaluates `x.strip` to a bound method, then calls it. The
 * immutable sandbox makes mutating methods (list.append, dict.update, ...)
 * an Undefined whose use raises SecurityError; templates keep state in
 * namespace() objects instead.
 *
 * Case mapping (upper/lower/title) covers ASCII letters only.
 */
#include "chat/jinja.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STR_METHODS[] = {
    "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
    "upper", "lower", "title", "capitalize", "replace", "find", "rfind", "index", "count",
    "format", "join", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower",
    "isnumeric", "isdecimal", NULL};
static const char *const DICT_METHODS[] = {"items", "keys", "values", "get", "copy", NULL};
static const char *const DICT_UNSAFE[] = {"pop", "popitem", "setdefault", "update", "clear", NULL};
static const char *const LIST_METHODS[] = {"index", "count", "copy", NULL};
static const char *const LIST_UNSAFE[] = {"append", "extend", "insert", "pop", "remove",
                                          "reverse", "sort", "clear", NULL};

static bool in_list(const char *const *names, const char *name) {
    for (; *names; names++)
        if (!strcmp(*names, name))
            return true;
    return false;
}

bool jmethod_lookup(jctx *c, jv obj, const char *name, jv *out, bool *found) {
    *found = false;
    bool is_list = obj.kind == JV_LIST && !(obj.flags & JV_F_GEN);
    bool is_dict = obj.kind == JV_DICT && !(obj.flags & JV_F_NAMESPACE);
    bool unsafe = (is_dict && in_list(DICT_UNSAFE, name)) ||
                  (is_list && !(obj.flags & JV_F_TUPLE) && in_list(LIST_UNSAFE, name));
    if (unsafe) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "access to attribute '%s' of '%s' object is unsafe.", name,
                         jv_type_name(obj));
        jv s;
        if (!jv_str_copy(c, msg, (size_t)n, &s))
            return false;
        *out = jv_undef(s.u.s, s.n);
        out->flags = JV_F_UNSAFE;
        *found = true;
        return true;
    }
    bool method = (obj.kind == JV_STR && in_list(STR_METHODS, name)) ||
                  (is_dict && in_list(DICT_METHODS, name)) || (is_list && in_list(LIST_METHODS, name));
    if (!method)
        return true;
    jfunc *fn = jalloc(c, sizeof *fn);
    if (!fn)
        return false;
    fn->kind = JF_METHOD;
    fn->name = name;
    fn->self = obj;
    *out = (jv){.kind = JV_FUNC, .u.fn = fn};
    *found = true;
    return true;
}

/* ---------------------------------------------------------------- whitespace */

/* Byte length of the Python whitespace character at s[i], or 0. */
static size_t ws_at(const char *s, size_t n, size_t i) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == ' ' || (ch >= '\t' && ch <= '\r') || (ch >= 0x1c && ch <= 0x1f))
        return 1;
    if (ch == 0xC2 && i + 1 < n && ((unsigned char)s[i + 1] == 0x85 || (unsigned char)s[i + 1] == 0xA0))
        return 2;
    if (ch == 0xE3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 && (unsigned char)s[i + 2] == 0x80)
        return 3; /* U+3000 */
    if (ch == 0xE2 && i + 2 < n) {
        unsigned b1 = (unsigned char)s[i + 1], b2 = (unsigned char)s[i + 2];
        if (b1 == 0x80 && (b2 <= 0x8A || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF))
            return 3; /* U+2000..200A, 2028, 2029, 202F */
        if (b1 == 0x81 && b2 == 0x9F)
            return 3; /* U+205F */
    }
    return 0;
}

/* Length of the (whitespace or chars-set) character ending at s[end-1]. */
static size_t char_before(const char *s, size_t end) {
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return end - i;
}

static size_t char_len_at(const char *s, size_t n, size_t i) {
    size_t j = i + 1;
    while (j < n && ((unsigned char)s[j] & 0xC0) == 0x80)
        j++;
    return j - i;
}

static bool in_chars(jv chars, const char *s, size_t len) {
    for (size_t i = 0; i < chars.n;) {
        size_t cl = char_len_at(chars.u.s, chars.n, i);
        if (cl == len && memcmp(chars.u.s + i, s, len) == 0)
            return true;
        i += cl;
    }
    return false;
}

static bool strippable(jv chars, const char *s, size_t n, size_t i, size_t len) {
    if (chars.kind == JV_STR)
        return in_chars(chars, s + i, len);
    return ws_at(s, n, i) == len;
}

bool jstr_strip(jctx *c, jv s, jv chars, int which, jv *out) {
    if (chars.kind != JV_STR && chars.kind != JV_NONE && chars.kind != JV_UNDEF)
        return jfail(c, JERR_TYPE, "strip arg must be None or str");
    size_t a = 0, b = s.n;
    while ((which & 1) && a < b) {
        size_t len = char_len_at(s.u.s, b, a);
        if (!strippable(chars, s.u.s, b, a, len))
            break;
        a += len;
    }
    while ((which & 2) && b > a) {
        size_t len = char_before(s.u.s, b);
        if (!strippable(chars, s.u.s, s.n, b - len, len))
            break;
        b -= len;
    }
    *out = jv_str(s.u.s + a, b - a);
    out->flags = s.flags & JV_F_SAFE;
    return true;
}

/* ---------------------------------------------------------------- split, replace */

static bool push_str(jctx *c, jlist *l, const char *s, size_t n) {
    return jlist_push(c, l, jv_str(s, n));
}

static bool split_whitespace(jctx *c, jv s, int64_t maxsplit, jlist *l) {
    size_t i = 0, n = s.n;
    for (;;) {
        while (i < n && ws_at(s.u.s, n, i))
            i += ws_at(s.u.s, n, i);
        if (i >= n)
            return true;
        if (maxsplit >= 0 && (int64_t)l->n == maxsplit) {
            size_t end = n;
            while (end > i && ws_at(s.u.s, n, end - char_before(s.u.s, end)))
                end -= char_before(s.u.s, end);
            return push_str(c, l, s.u.s + i, end - i);
        }
        size_t start = i;
        while (i < n && !ws_at(s.u.s, n, i))
            i++;
        if (!push_str(c, l, s.u.s + start, i - start))
            return false;
    }
}

bool jstr_split(jctx *c, jv s, jv sep, int64_t maxsplit, jv *out) {
    jlist *l = jlist_new(c, 0);
    if (!l)
        return false;
    *out = jv_list(l, 0);
    if (sep.kind == JV_NONE || sep.kind == JV_UNDEF)
        return split_whitespace(c, s, maxsplit, l);
    if (sep.kind != JV_STR)
        return jfail(c, JERR_TYPE, "must be str or None, not %s", jv_type_name(sep));
    if (sep.n == 0)
        return jfail(c, JERR_TYPE, "empty separator");
    size_t start = 0;
    for (;;) {
        const char *hit = maxsplit >= 0 && (int64_t)l->n >= maxsplit
                              ? NULL
                              : memmem(s.u.s + start, s.n - start, sep.u.s, sep.n);
        if (!hit)
            return push_str(c, l, s.u.s + start, s.n - start);
        size_t at = (size_t)(hit - s.u.s);
        if (!push_str(c, l, s.u.s + start, at - start))
            return false;
        start = at + sep.n;
    }
}

static bool rsplit(jctx *c, jv s, jv sep, int64_t maxsplit, jv *out) {
    if (sep.kind != JV_STR || sep.n == 0 || maxsplit < 0)
        return jstr_split(c, s, sep, maxsplit, out);
    /* collect split points from the right, then emit left to right */
    size_t end = s.n, cuts[64];
    int64_t k = 0;
    while (k < maxsplit && k < 64 && end >= sep.n) {
        size_t i = end - sep.n;
        for (;; i--) {
            if (memcmp(s.u.s + i, sep.u.s, sep.n) == 0)
                break;
            if (i == 0)
                goto done;
        }
        cuts[k++] = i;
        end = i;
    }
done:;
    jlist *l = jlist_new(c, (size_t)k + 1);
    if (!l)
        return false;
    size_t start = 0;
    for (int64_t j = k - 1; j >= 0; j--) {
        l->v[l->n++] = jv_str(s.u.s + start, cuts[j] - start);
        start = cuts[j] + sep.n;
    }
    l->v[l->n++] = jv_str(s.u.s + start, s.n - start);
    *out = jv_list(l, 0);
    return true;
}

bool jstr_replace(jctx *c, jv s, jv old, jv new_, int64_t count, jv *out) {
    if (old.kind != JV_STR || new_.kind != JV_STR)
        return jfail(c, JERR_TYPE, "replace() arguments must be str");
    jbuf b = {0};
    bool ok = true;
    size_t i = 0;
    int64_t done = 0;
    if (old.n == 0) {
        /* Python inserts `new` before every character and at the end */
        while (ok && (count < 0 || done < count) && i <= s.n) {
            ok = jbuf_put(&b, new_.u.s, new_.n);
            done++;
            if (i == s.n)
                break;
            size_t cl = char_len_at(s.u.s, s.n, i);
            ok = ok && jbuf_put(&b, s.u.s + i, cl);
            i += cl;
        }
        ok = ok && (i >= s.n || jbuf_put(&b, s.u.s + i, s.n - i));
    } else {
        while (ok) {
            const char *hit = count >= 0 && done >= count ? NULL
                                                          : memmem(s.u.s + i, s.n - i, old.u.s, old.n);
            if (!hit) {
                ok = jbuf_put(&b, s.u.s + i, s.n - i);
                break;
            }
            size_t at = (size_t)(hit - s.u.s);
            ok = jbuf_put(&b, s.u.s + i, at - i) && jbuf_put(&b, new_.u.s, new_.n);
            i = at + old.n;
            done++;
        }
    }
    if (!ok) {
        jbuf_free(&b);
        return jfail(c, JERR_LIMIT, "replace() result too large");
    }
    return jv_str_from_buf(c, &b, out);
}

/* ---------------------------------------------------------------- string methods */

static bool affix_match(jv s, jv affix, bool start) {
    if (affix.kind != JV_STR || affix.n > s.n)
        return false;
    const char *at = start ? s.u.s : s.u.s + s.n - affix.n;
    return memcmp(at, affix.u.s, affix.n) == 0;
}

static bool starts_ends(jctx *c, jv s, const jcall *a, bool start, jv *out) {
    jv arg;
    if (!jcall_arg(a, 0, NULL, &arg))
        return jfail(c, JERR_TYPE, "%s() takes at least 1 argument", start ? "startswith" : "endswith");
    bool r = false;
    if (arg.kind == JV_LIST && (arg.flags & JV_F_TUPLE)) {
        for (size_t i = 0; i < arg.u.list->n && !r; i++)
            r = affix_match(s, arg.u.list->v[i], start);
    } else if (arg.kind == JV_STR) {
        r = affix_match(s, arg, start);
    } else {
        return jfail(c, JERR_TYPE, "%s arg must be str or a tuple of str", start ? "startswith" : "endswith");
    }
    *out = jv_bool(r);
    return true;
}

static bool find_count(jctx *c, jv s, const jcall *a, const char *name, jv *out) {
    jv sub;
    if (!jcall_arg(a, 0, NULL, &sub) || sub.kind != JV_STR)
        return jfail(c, JERR_TYPE, "%s() needs a string argument", name);
    if (!strcmp(name, "count")) {
        int64_t n = 0;
        if (sub.n == 0)
            n = (int64_t)utf8_len(s.u.s, s.n) + 1;
        for (size_t i = 0; sub.n && i + sub.n <= s.n;) {
            const char *hit = memmem(s.u.s + i, s.n - i, sub.u.s, sub.n);
            if (!hit)
                break;
            n++;
            i = (size_t)(hit - s.u.s) + sub.n;
        }
        *out = jv_int(n);
        return true;
    }
    bool reverse = name[0] == 'r';
    int64_t at = -1;
    for (size_t i = 0; sub.n <= s.n && i <= s.n - sub.n; i++)
        if (memcmp(s.u.s + i, sub.u.s, sub.n) == 0) {
            at = (int64_t)utf8_len(s.u.s, i);
            if (!reverse)
                break;
        }
    if (at < 0 && !strcmp(name, "index"))
        return jfail(c, JERR_TYPE, "substring not found");
    *out = jv_int(at);
    return true;
}

static bool char_class(jv s, const char *name) {
    if (s.n == 0)
        return false;
    bool any_cased = false;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.u.s[i];
        bool digit = ch >= '0' && ch <= '9', lower = ch >= 'a' && ch <= 'z',
             upper = ch >= 'A' && ch <= 'Z';
        any_cased |= lower || upper;
        if (!strcmp(name, "isdigit") || !strcmp(name, "isnumeric") || !strcmp(name, "isdecimal")) {
            if (!digit)
                return false;
        } else if (!strcmp(name, "isalpha")) {
            if (!lower && !upper)
                return false;
        } else if (!strcmp(name, "isalnum")) {
            if (!lower && !upper && !digit)
                return false;
        } else if (!strcmp(name, "isspace")) {
            if (!ws_at(s.u.s, s.n, i))
                return false;
        } else if (!strcmp(name, "isupper")) {
            if (lower)
                return false;
        } else if (lower == false && upper) {
            return false; /* islower */
        }
    }
    return strcmp(name, "isupper") && strcmp(name, "islower") ? true : any_cased;
}

static bool str_join(jctx *c, jv sep, const jcall *a, jv *out) {
    jv seq, *items;
    size_t n;
    if (!jcall_arg(a, 0, NULL, &seq) || !jv_iterate(c, seq, &items, &n))
        return jcall_arg(a, 0, NULL, &seq) ? false : jfail(c, JERR_TYPE, "join() takes 1 argument");
    jbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (items[i].kind != JV_STR) {
            jbuf_free(&b);
            return jfail(c, JERR_TYPE, "sequence item %zu: expected str instance, %s found", i,
                         jv_type_name(items[i]));
        }
        if ((i && !jbuf_put(&b, sep.u.s, sep.n)) || !jbuf_put(&b, items[i].u.s, items[i].n)) {
            jbuf_free(&b);
            return jfail(c, JERR_LIMIT, "join() result too large");
        }
    }
    return jv_str_from_buf(c, &b, out);
}

/* str.format: {} / {0} / {name} fields with str() conversion; format specs
 * are not supported. */
static bool str_format(jctx *c, jv fmt, const jcall *a, jv *out) {
    jbuf b = {0};
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.n; i++) {
        char ch = fmt.u.s[i];
        bool ok = true;
        if ((ch == '{' || ch == '}') && i + 1 < fmt.n && fmt.u.s[i + 1] == ch) {
            ok = jbuf_put(&b, &ch, 1);
            i++;
        } else if (ch == '{') {
            const char *close = memchr(fmt.u.s + i, '}', fmt.n - i);
            if (!close) {
                jbuf_free(&b);
                return jfail(c, JERR_TYPE, "Single '{' encountered in format string");
            }
            size_t len = (size_t)(close - fmt.u.s) - i - 1;
            const char *field = fmt.u.s + i + 1;
            char name[64];
            if (len >= sizeof name || memchr(field, ':', len) || memchr(field, '!', len)) {
                jbuf_free(&b);
                return jfail(c, JERR_TYPE, "format specs are not supported");
            }
            memcpy(name, field, len);
            name[len] = '\0';
            jv v;
            bool have = len == 0 ? jcall_arg(a, auto_index++, "\x01", &v)
                        : (name[0] >= '0' && name[0] <= '9') ? jcall_arg(a, (size_t)atoi(name), "\x01", &v)
                                                             : jcall_arg(a, SIZE_MAX, name, &v);
            if (!have) {
                jbuf_free(&b);
                return jfail(c, JERR_TYPE, "format field '%s' has no argument", name);
            }
            if (!jv_write_str(c, &b, v)) {
                jbuf_free(&b);
                return false;
            }
            i += len + 1;
        } else {
            ok = jbuf_put(&b, &ch, 1);
        }
        if (!ok) {
            jbuf_free(&b);
            return jfail_nomem(c);
        }
    }
    return jv_str_from_buf(c, &b, out);
}

static int64_t int_arg(const jcall *a, size_t index, const char *name, int64_t def) {
    jv v;
    if (jcall_arg(a, index, name, &v) && v.kind == JV_INT)
        return v.u.i;
    return def;
}

static bool str_method(jctx *c, jv s, const char *name, const jcall *a, jv *out) {
    jv arg = jv_none(), arg2;
    jcall_arg(a, 0, NULL, &arg);
    if (!strcmp(name, "strip")) return jstr_strip(c, s, arg, 3, out);
    if (!strcmp(name, "lstrip")) return jstr_strip(c, s, arg, 1, out);
    if (!strcmp(name, "rstrip")) return jstr_strip(c, s, arg, 2, out);
    if (!strcmp(name, "split") || !strcmp(name, "rsplit")) {
        jcall_arg(a, 0, "sep", &arg);
        int64_t max = int_arg(a, 1, "maxsplit", -1);
        return name[0] == 'r' ? rsplit(c, s, arg, max, out) : jstr_split(c, s, arg, max, out);
    }
    if (!strcmp(name, "splitlines")) return jstr_split(c, s, jv_cstr("\n"), -1, out);
    if (!strcmp(name, "startswith")) return starts_ends(c, s, a, true, out);
    if (!strcmp(name, "endswith")) return starts_ends(c, s, a, false, out);
    if (!strcmp(name, "lower")) return jstr_case(c, s, 0, out);
    if (!strcmp(name, "upper")) return jstr_case(c, s, 1, out);
    if (!strcmp(name, "title")) return jstr_case(c, s, 4, out);
    if (!strcmp(name, "capitalize")) return jstr_case(c, s, 3, out);
    if (!strcmp(name, "replace")) {
        if (!jcall_arg(a, 1, NULL, &arg2))
            return jfail(c, JERR_TYPE, "replace() takes at least 2 arguments");
        return jstr_replace(c, s, arg, arg2, int_arg(a, 2, "count", -1), out);
    }
    if (!strcmp(name, "find") || !strcmp(name, "rfind") || !strcmp(name, "index") || !strcmp(name, "count"))
        return find_count(c, s, a, name, out);
    if (!strcmp(name, "format")) return str_format(c, s, a, out);
    if (!strcmp(name, "join")) return str_join(c, s, a, out);
    *out = jv_bool(char_class(s, name));
    return true;
}

/* ---------------------------------------------------------------- dict and list methods */

static bool dict_method(jctx *c, jv d, const char *name, const jcall *a, jv *out) {
    const jdict *dict = d.u.dict;
    if (!strcmp(name, "get")) {
        jv key, def = jv_none();
        if (!jcall_arg(a, 0, "key", &key))
            return jfail(c, JERR_TYPE, "get expected at least 1 argument");
        jcall_arg(a, 1, "default", &def);
        const jv *v = jdict_get(dict, key);
        *out = v ? *v : def;
        return true;
    }
    if (!strcmp(name, "copy")) {
        jdict *n = jdict_new(c);
        for (size_t i = 0; n && i < dict->n; i++)
            if (!jdict_set(c, n, dict->keys[i], dict->vals[i]))
                return false;
        *out = jv_dict(n, 0);
        return n != NULL;
    }
    /* items / keys / values: fresh lists (Python's views, materialized) */
    jlist *l = jlist_new(c, dict->n);
    if (!l)
        return false;
    for (size_t i = 0; i < dict->n; i++) {
        if (!strcmp(name, "items")) {
            jlist *pair = jlist_new(c, 2);
            if (!pair)
                return false;
            pair->v[0] = dict->keys[i];
            pair->v[1] = dict->vals[i];
            pair->n = 2;
            l->v[i] = jv_list(pair, JV_F_TUPLE);
        } else {
            l->v[i] = !strcmp(name, "keys") ? dict->keys[i] : dict->vals[i];
        }
    }
    l->n = dict->n;
    *out = jv_list(l, 0);
    return true;
}

static bool list_method(jctx *c, jv lv, const char *name, const jcall *a, jv *out) {
    const jlist *l = lv.u.list;
    if (!strcmp(name, "copy")) {
        *out = lv;
        return true;
    }
    jv x;
    if (!jcall_arg(a, 0, NULL, &x))
        return jfail(c, JERR_TYPE, "%s() takes exactly one argument", name);
    int64_t count = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!jv_equal(l->v[i], x))
            continue;
        if (!strcmp(name, "index")) {
            *out = jv_int((int64_t)i);
            return true;
        }
        count++;
    }
    if (!strcmp(name, "index"))
        return jfail(c, JERR_TYPE, "value is not in list");
    *out = jv_int(count);
    return true;
}

bool jcall_method(jctx *c, const jfunc *fn, const jcall *args, jv *out) {
    switch (fn->self.kind) {
    case JV_STR: return str_method(c, fn->self, fn->name, args, out);
    case JV_DICT: return dict_method(c, fn->self, fn->name, args, out);
    case JV_LIST: return list_method(c, fn->self, fn->name, args, out);
    default: return jfail(c, JERR_TYPE, "no method %s", fn->name);
    }
}
