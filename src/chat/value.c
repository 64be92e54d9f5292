/* value.c — the dynamic value type and its Python semantics.
 *
 * Templates were written against Python objects, so truthiness, equality,
 * ordering, iteration, len() and `in` follow Python: 1 == 1.0 == True,
 * strings compare by code point, dicts iterate their keys in insertion
 * order, None is not iterable.
 */
#include "chat/jinja.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- constructors */

jv jv_undef(const char *name, size_t n) {
    jv v = {.kind = JV_UNDEF, .n = n};
    v.u.s = name;
    return v;
}

jv jv_none(void) { return (jv){.kind = JV_NONE}; }

jv jv_bool(bool b) {
    jv v = {.kind = JV_BOOL};
    v.u.b = b;
    return v;
}

jv jv_int(int64_t i) {
    jv v = {.kind = JV_INT};
    v.u.i = i;
    return v;
}

jv jv_float(double f) {
    jv v = {.kind = JV_FLOAT};
    v.u.f = f;
    return v;
}

jv jv_str(const char *s, size_t n) {
    jv v = {.kind = JV_STR, .n = n};
    v.u.s = s;
    return v;
}

jv jv_cstr(const char *s) { return jv_str(s, strlen(s)); }

bool jv_str_copy(jctx *c, const char *s, size_t n, jv *out) {
    char *p = jalloc(c, n + 1);
    if (!p)
        return false;
    if (n)
        memcpy(p, s, n);
    *out = jv_str(p, n);
    return true;
}

bool jv_str_from_buf(jctx *c, jbuf *b, jv *out) {
    bool ok = jv_str_copy(c, b->p ? b->p : "", b->n, out);
    jbuf_free(b);
    return ok;
}

jlist *jlist_new(jctx *c, size_t cap) {
    jlist *l = jalloc(c, sizeof *l);
    if (!l)
        return NULL;
    if (cap) {
        l->v = jalloc(c, cap * sizeof *l->v);
        if (!l->v)
            return NULL;
        l->cap = cap;
    }
    return l;
}

bool jlist_push(jctx *c, jlist *l, jv v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jv *nv = jalloc(c, cap * sizeof *nv);
        if (!nv)
            return false;
        if (l->n)
            memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return true;
}

jv jv_list(jlist *l, uint32_t flags) {
    jv v = {.kind = JV_LIST, .flags = flags};
    v.u.list = l;
    return v;
}

jdict *jdict_new(jctx *c) { return jalloc(c, sizeof(jdict)); }

jv *jdict_get(const jdict *d, jv key) {
    for (size_t i = 0; i < d->n; i++)
        if (jv_equal(d->keys[i], key))
            return &d->vals[i];
    return NULL;
}

jv *jdict_get_str(const jdict *d, const char *key) {
    size_t n = strlen(key);
    for (size_t i = 0; i < d->n; i++) {
        const jv *k = &d->keys[i];
        if (k->kind == JV_STR && k->n == n && memcmp(k->u.s, key, n) == 0)
            return &d->vals[i];
    }
    return NULL;
}

bool jdict_set(jctx *c, jdict *d, jv key, jv val) {
    jv *slot = jdict_get(d, key);
    if (slot) {
        *slot = val;
        return true;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        jv *nk = jalloc(c, cap * sizeof *nk);
        jv *nv = nk ? jalloc(c, cap * sizeof *nv) : NULL;
        if (!nv)
            return false;
        if (d->n) {
            memcpy(nk, d->keys, d->n * sizeof *nk);
            memcpy(nv, d->vals, d->n * sizeof *nv);
        }
        d->keys = nk;
        d->vals = nv;
        d->cap = cap;
    }
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
    return true;
}

jv jv_dict(jdict *d, uint32_t flags) {
    jv v = {.kind = JV_DICT, .flags = flags};
    v.u.dict = d;
    return v;
}

/* ---------------------------------------------------------------- Python semantics */

const char *jv_type_name(jv v) {
    switch (v.kind) {
    case JV_UNDEF: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return "str";
    case JV_LIST:
        if (v.flags & JV_F_GEN)
            return "generator";
        return (v.flags & JV_F_TUPLE) ? "tuple" : "list";
    case JV_DICT: return (v.flags & JV_F_NAMESPACE) ? "Namespace" : "dict";
    case JV_FUNC: return "function";
    case JV_LOOP: return "LoopContext";
    }
    return "object";
}

bool jv_truthy(jv v) {
    switch (v.kind) {
    case JV_UNDEF:
    case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STR: return v.n > 0;
    case JV_LIST: return (v.flags & JV_F_GEN) || v.u.list->n > 0; /* a generator object is truthy */
    case JV_DICT: return (v.flags & JV_F_NAMESPACE) || v.u.dict->n > 0;
    case JV_FUNC:
    case JV_LOOP: return true;
    }
    return false;
}

bool jv_is_num(jv v) { return v.kind == JV_INT || v.kind == JV_FLOAT || v.kind == JV_BOOL; }

double jv_num(jv v) {
    switch (v.kind) {
    case JV_INT: return (double)v.u.i;
    case JV_FLOAT: return v.u.f;
    case JV_BOOL: return v.u.b ? 1.0 : 0.0;
    default: return 0.0;
    }
}

static bool num_equal(jv a, jv b) {
    if (a.kind != JV_FLOAT && b.kind != JV_FLOAT) {
        int64_t x = a.kind == JV_BOOL ? a.u.b : a.u.i;
        int64_t y = b.kind == JV_BOOL ? b.u.b : b.u.i;
        return x == y;
    }
    return jv_num(a) == jv_num(b);
}

static bool equal_at(jv a, jv b, int depth);

static bool dict_equal(const jdict *a, const jdict *b, int depth) {
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const jv *other = jdict_get(b, a->keys[i]);
        if (!other || !equal_at(a->vals[i], *other, depth + 1))
            return false;
    }
    return true;
}

/* Values nested deeper than any real data compare unequal rather than
 * recursing without bound. */
static bool equal_at(jv a, jv b, int depth) {
    if (depth > JINJA_MAX_PARSE_DEPTH)
        return false;
    if (jv_is_num(a) && jv_is_num(b))
        return num_equal(a, b);
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case JV_UNDEF:
    case JV_NONE: return true;
    case JV_STR: return a.n == b.n && memcmp(a.u.s, b.u.s, a.n) == 0;
    case JV_LIST:
        if ((a.flags & (JV_F_TUPLE | JV_F_GEN)) != (b.flags & (JV_F_TUPLE | JV_F_GEN)))
            return false;
        if (a.flags & JV_F_GEN)
            return a.u.list == b.u.list;
        if (a.u.list->n != b.u.list->n)
            return false;
        for (size_t i = 0; i < a.u.list->n; i++)
            if (!equal_at(a.u.list->v[i], b.u.list->v[i], depth + 1))
                return false;
        return true;
    case JV_DICT:
        if ((a.flags & JV_F_NAMESPACE) || (b.flags & JV_F_NAMESPACE))
            return a.u.dict == b.u.dict;
        return dict_equal(a.u.dict, b.u.dict, depth);
    case JV_FUNC: return a.u.fn == b.u.fn;
    case JV_LOOP: return a.u.loop == b.u.loop;
    default: return false;
    }
}

bool jv_equal(jv a, jv b) { return equal_at(a, b, 0); }

static int cmp3(double x, double y) { return (x > y) - (x < y); }

bool jv_compare(jctx *c, jv a, jv b, int *cmp) {
    if (jv_is_num(a) && jv_is_num(b)) {
        if (a.kind != JV_FLOAT && b.kind != JV_FLOAT) {
            int64_t x = a.kind == JV_BOOL ? a.u.b : a.u.i;
            int64_t y = b.kind == JV_BOOL ? b.u.b : b.u.i;
            *cmp = (x > y) - (x < y);
        } else {
            *cmp = cmp3(jv_num(a), jv_num(b));
        }
        return true;
    }
    if (a.kind == JV_STR && b.kind == JV_STR) {
        /* UTF-8 byte order is code point order. */
        size_t n = a.n < b.n ? a.n : b.n;
        int r = n ? memcmp(a.u.s, b.u.s, n) : 0;
        *cmp = r ? (r > 0) - (r < 0) : (a.n > b.n) - (a.n < b.n);
        return true;
    }
    if (a.kind == JV_LIST && b.kind == JV_LIST && !((a.flags | b.flags) & JV_F_GEN)) {
        const jlist *x = a.u.list, *y = b.u.list;
        for (size_t i = 0; i < x->n && i < y->n; i++) {
            if (jv_equal(x->v[i], y->v[i]))
                continue;
            if (c->eval_depth >= JINJA_MAX_EVAL_DEPTH)
                return jfail(c, JERR_LIMIT, "values nested too deeply to compare");
            c->eval_depth++;
            bool ok = jv_compare(c, x->v[i], y->v[i], cmp);
            c->eval_depth--;
            return ok;
        }
        *cmp = (x->n > y->n) - (x->n < y->n);
        return true;
    }
    if (a.kind == JV_UNDEF || b.kind == JV_UNDEF)
        return jfail(c, JERR_UNDEFINED, "cannot compare an undefined value");
    return jfail(c, JERR_TYPE, "'<' not supported between instances of '%s' and '%s'",
                 jv_type_name(a), jv_type_name(b));
}

static bool string_chars(jctx *c, jv s, jv **items, size_t *n) {
    size_t count = utf8_len(s.u.s, s.n);
    jv *v = count ? jalloc(c, count * sizeof *v) : NULL;
    if (count && !v)
        return false;
    size_t pos = 0;
    for (size_t i = 0; i < count; i++) {
        size_t start = pos;
        pos++;
        while (pos < s.n && ((unsigned char)s.u.s[pos] & 0xC0) == 0x80)
            pos++;
        v[i] = jv_str(s.u.s + start, pos - start);
    }
    *items = v;
    *n = count;
    return true;
}

bool jv_iterate(jctx *c, jv v, jv **items, size_t *n) {
    switch (v.kind) {
    case JV_UNDEF:
        *items = NULL;
        *n = 0;
        return true;
    case JV_LIST:
        *items = v.u.list->v;
        *n = v.u.list->n;
        return true;
    case JV_DICT:
        if (v.flags & JV_F_NAMESPACE)
            break;
        *items = v.u.dict->keys;
        *n = v.u.dict->n;
        return true;
    case JV_STR: return string_chars(c, v, items, n);
    default: break;
    }
    return jfail(c, JERR_TYPE, "'%s' object is not iterable", jv_type_name(v));
}

bool jv_length(jctx *c, jv v, int64_t *out) {
    switch (v.kind) {
    case JV_UNDEF: *out = 0; return true;
    case JV_STR: *out = (int64_t)utf8_len(v.u.s, v.n); return true;
    case JV_LIST:
        if (v.flags & JV_F_GEN)
            break;
        *out = (int64_t)v.u.list->n;
        return true;
    case JV_DICT:
        if (v.flags & JV_F_NAMESPACE)
            break;
        *out = (int64_t)v.u.dict->n;
        return true;
    default: break;
    }
    return jfail(c, JERR_TYPE, "object of type '%s' has no len()", jv_type_name(v));
}

static bool str_find(jv hay, jv needle) {
    if (needle.n == 0)
        return true;
    if (needle.n > hay.n)
        return false;
    return memmem(hay.u.s, hay.n, needle.u.s, needle.n) != NULL;
}

bool jv_contains(jctx *c, jv container, jv item, bool *out) {
    switch (container.kind) {
    case JV_UNDEF: *out = false; return true; /* iterates empty */
    case JV_STR:
        if (item.kind != JV_STR)
            return jfail(c, JERR_TYPE, "'in <string>' requires string as left operand, not %s",
                         jv_type_name(item));
        *out = str_find(container, item);
        return true;
    case JV_LIST:
        *out = false;
        for (size_t i = 0; i < container.u.list->n; i++)
            if (jv_equal(container.u.list->v[i], item)) {
                *out = true;
                break;
            }
        return true;
    case JV_DICT:
        *out = jdict_get(container.u.dict, item) != NULL;
        return true;
    default: break;
    }
    return jfail(c, JERR_TYPE, "argument of type '%s' is not iterable", jv_type_name(container));
}
