/* filters_seq.c — filters over sequences: length, list, first/last, join,
 * sort, dictsort, unique, map, select/reject(attr), min/max, sum, batch.
 *
 * Python facts kept: map/select/reject/unique/items/batch (and reverse on a
 * list) return one-shot generators, so `tojson` and `length` fail on them
 * until `|list` is applied; sorting is stable and, by default,
 * case-insensitive for strings; attribute= paths may be dotted ("a.b.0").
 */
#include "chat/jinja.h"

#include <string.h>

static bool arg_or(const jcall *a, size_t index, const char *name, jv def, jv *out) {
    if (!jcall_arg(a, index, name, out))
        *out = def;
    return true;
}

/* attribute="a.b.0": each part looked up item-first, as Jinja's getitem. */
static bool attr_path(jctx *c, jv v, jv path, jv *out) {
    if (path.kind == JV_INT)
        return jv_getitem(c, v, path, out);
    if (path.kind != JV_STR)
        return jfail(c, JERR_TYPE, "attribute must be a string or an integer");
    size_t start = 0;
    for (size_t i = 0; i <= path.n; i++) {
        if (i < path.n && path.u.s[i] != '.')
            continue;
        jv key = jv_str(path.u.s + start, i - start);
        bool digits = i > start;
        int64_t num = 0;
        for (size_t k = start; k < i && digits; k++) {
            digits = path.u.s[k] >= '0' && path.u.s[k] <= '9';
            num = num * 10 + (path.u.s[k] - '0');
        }
        if (digits)
            key = jv_int(num);
        if (!jv_getitem(c, v, key, &v))
            return false;
        start = i + 1;
    }
    *out = v;
    return true;
}

/* Sort key: the attribute (if any), lowercased when case-insensitive. */
static bool sort_key(jctx *c, jv v, jv attr, bool case_sensitive, jv *out) {
    if (attr.kind != JV_NONE && !attr_path(c, v, attr, &v))
        return false;
    if (!case_sensitive && v.kind == JV_STR)
        return jstr_case(c, v, 0, out);
    *out = v;
    return true;
}

/* Stable merge sort of idx by keys[idx]; false when keys are unorderable. */
static bool merge_sort(jctx *c, const jv *keys, size_t *idx, size_t *tmp, size_t n, bool reverse) {
    if (n < 2)
        return true;
    size_t half = n / 2;
    if (!merge_sort(c, keys, idx, tmp, half, reverse) ||
        !merge_sort(c, keys, idx + half, tmp, n - half, reverse))
        return false;
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) {
        int cmp;
        if (!jv_compare(c, keys[idx[j]], keys[idx[i]], &cmp))
            return false;
        bool take_right = reverse ? cmp > 0 : cmp < 0;
        tmp[k++] = take_right ? idx[j++] : idx[i++];
    }
    while (i < half)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
    return true;
}

static bool sorted_list(jctx *c, jv *items, size_t n, jv attr, bool case_sensitive, bool reverse,
                        jlist **out) {
    jv *keys = n ? jalloc(c, n * sizeof *keys) : NULL;
    size_t *idx = n ? jalloc(c, n * sizeof *idx) : NULL, *tmp = n ? jalloc(c, n * sizeof *tmp) : NULL;
    if (n && (!keys || !idx || !tmp))
        return false;
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        if (!sort_key(c, items[i], attr, case_sensitive, &keys[i]))
            return false;
    }
    if (!merge_sort(c, keys, idx, tmp, n, reverse))
        return false;
    jlist *l = jlist_new(c, n);
    if (!l)
        return false;
    for (size_t i = 0; i < n; i++)
        l->v[i] = items[idx[i]];
    l->n = n;
    *out = l;
    return true;
}

static bool pair(jctx *c, jv a, jv b, jv *out) {
    jlist *p = jlist_new(c, 2);
    if (!p)
        return false;
    p->v[0] = a;
    p->v[1] = b;
    p->n = 2;
    *out = jv_list(p, JV_F_TUPLE);
    return true;
}

static bool dict_items(jctx *c, jv v, jlist **out) {
    if (v.kind != JV_DICT || (v.flags & JV_F_NAMESPACE))
        return jfail(c, JERR_TYPE, "Can only get item pairs from a mapping.");
    const jdict *d = v.u.dict;
    jlist *l = jlist_new(c, d->n);
    if (!l)
        return false;
    for (size_t i = 0; i < d->n; i++)
        if (!pair(c, d->keys[i], d->vals[i], &l->v[i]))
            return false;
    l->n = d->n;
    *out = l;
    return true;
}

static bool filter_dictsort(jctx *c, jv v, const jcall *a, jv *out) {
    jv cs, by, rev;
    arg_or(a, 0, "case_sensitive", jv_bool(false), &cs);
    arg_or(a, 1, "by", jv_cstr("key"), &by);
    arg_or(a, 2, "reverse", jv_bool(false), &rev);
    jlist *items, *sorted;
    if (!dict_items(c, v, &items))
        return false;
    bool by_value = by.kind == JV_STR && by.n == 5 && !memcmp(by.u.s, "value", 5);
    if (!sorted_list(c, items->v, items->n, jv_int(by_value ? 1 : 0), jv_truthy(cs), jv_truthy(rev),
                     &sorted))
        return false;
    *out = jv_list(sorted, 0);
    return true;
}

static bool filter_unique(jctx *c, jv *items, size_t n, const jcall *a, jv *out) {
    jv cs, attr;
    arg_or(a, 0, "case_sensitive", jv_bool(false), &cs);
    arg_or(a, 1, "attribute", jv_none(), &attr);
    jlist *l = jlist_new(c, n), *seen = jlist_new(c, n);
    if (!l || !seen)
        return false;
    for (size_t i = 0; i < n; i++) {
        jv key;
        bool dup;
        if (!sort_key(c, items[i], attr, jv_truthy(cs), &key) ||
            !jv_contains(c, jv_list(seen, 0), key, &dup))
            return false;
        if (dup)
            continue;
        seen->v[seen->n++] = key;
        l->v[l->n++] = items[i];
    }
    *out = jv_list(l, JV_F_GEN);
    return true;
}

static bool filter_minmax(jctx *c, jv *items, size_t n, const jcall *a, bool max, jv *out) {
    jv cs, attr;
    arg_or(a, 0, "case_sensitive", jv_bool(false), &cs);
    arg_or(a, 1, "attribute", jv_none(), &attr);
    if (n == 0) {
        *out = jv_undef("min/max of an empty sequence", 28);
        return true;
    }
    size_t best = 0;
    jv best_key;
    if (!sort_key(c, items[0], attr, jv_truthy(cs), &best_key))
        return false;
    for (size_t i = 1; i < n; i++) {
        jv key;
        int cmp;
        if (!sort_key(c, items[i], attr, jv_truthy(cs), &key) || !jv_compare(c, key, best_key, &cmp))
            return false;
        if (max ? cmp > 0 : cmp < 0) {
            best = i;
            best_key = key;
        }
    }
    *out = items[best];
    return true;
}

static bool filter_sum(jctx *c, jv *items, size_t n, const jcall *a, jv *out) {
    jv attr, start;
    arg_or(a, 0, "attribute", jv_none(), &attr);
    arg_or(a, 1, "start", jv_int(0), &start);
    jv total = start;
    for (size_t i = 0; i < n; i++) {
        jv v = items[i];
        if (attr.kind != JV_NONE && !attr_path(c, v, attr, &v))
            return false;
        if (!jv_is_num(v) || !jv_is_num(total))
            return jfail(c, JERR_TYPE, "sum(): unsupported operand types '%s' and '%s'",
                         jv_type_name(total), jv_type_name(v));
        if (total.kind != JV_FLOAT && v.kind != JV_FLOAT)
            total = jv_int((total.kind == JV_BOOL ? total.u.b : total.u.i) +
                           (v.kind == JV_BOOL ? v.u.b : v.u.i));
        else
            total = jv_float(jv_num(total) + jv_num(v));
    }
    *out = total;
    return true;
}

static bool filter_join(jctx *c, jv *items, size_t n, const jcall *a, jv *out) {
    jv sep, attr;
    arg_or(a, 0, "d", jv_str("", 0), &sep);
    arg_or(a, 1, "attribute", jv_none(), &attr);
    if (!jv_to_str(c, sep, &sep))
        return false;
    jbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        jv v = items[i];
        bool ok = (attr.kind == JV_NONE || attr_path(c, v, attr, &v)) &&
                  (i == 0 || jbuf_put(&b, sep.u.s, sep.n)) && jv_write_str(c, &b, v);
        if (!ok) {
            jbuf_free(&b);
            return c->err.kind ? false : jfail_nomem(c);
        }
    }
    return jv_str_from_buf(c, &b, out);
}

/* map(attribute='x', default=d) or map('filter', args...) */
static bool filter_map(jctx *c, jv *items, size_t n, const jcall *a, jv *out) {
    jv attr, def, fname;
    bool by_attr = jcall_arg(a, SIZE_MAX, "attribute", &attr);
    bool has_default = jcall_arg(a, SIZE_MAX, "default", &def);
    if (!by_attr && (!jcall_arg(a, 0, NULL, &fname) || fname.kind != JV_STR || fname.n >= 64))
        return jfail(c, JERR_TYPE, "map needs a filter name or attribute=");
    char name[64] = "";
    jcall rest = *a;
    if (!by_attr) {
        memcpy(name, fname.u.s, fname.n);
        name[fname.n] = '\0';
        rest.pos++;
        rest.n_pos--;
    }
    jlist *l = jlist_new(c, n);
    if (!l)
        return false;
    for (size_t i = 0; i < n; i++) {
        jv v;
        if (by_attr) {
            if (!attr_path(c, items[i], attr, &v))
                return false;
            if (has_default && v.kind == JV_UNDEF)
                v = def;
        } else if (!japply_filter(c, name, items[i], &rest, &v)) {
            return false;
        }
        l->v[l->n++] = v;
    }
    *out = jv_list(l, JV_F_GEN);
    return true;
}

/* select/reject(test, args...), selectattr/rejectattr(attr, test, args...) */
static bool filter_select(jctx *c, const char *fname, jv *items, size_t n, const jcall *a, jv *out) {
    bool by_attr = strstr(fname, "attr") != NULL, reject = fname[0] == 'r';
    jcall rest = *a;
    jv attr = jv_none(), test = jv_none();
    if (by_attr) {
        if (rest.n_pos == 0)
            return jfail(c, JERR_TYPE, "%s needs an attribute", fname);
        attr = rest.pos[0];
        rest.pos++;
        rest.n_pos--;
    }
    if (rest.n_pos > 0) {
        test = rest.pos[0];
        rest.pos++;
        rest.n_pos--;
    }
    char tname[64] = "";
    if (test.kind == JV_STR && test.n < sizeof tname)
        memcpy(tname, test.u.s, test.n);
    else if (test.kind != JV_NONE)
        return jfail(c, JERR_TYPE, "%s: test must be a name", fname);
    jlist *l = jlist_new(c, n);
    if (!l)
        return false;
    for (size_t i = 0; i < n; i++) {
        jv v = items[i];
        bool r;
        if (by_attr && !attr_path(c, v, attr, &v))
            return false;
        if (tname[0]) {
            if (!japply_test(c, tname, v, &rest, &r))
                return false;
        } else {
            r = jv_truthy(v);
        }
        if (r != reject)
            l->v[l->n++] = items[i];
    }
    *out = jv_list(l, JV_F_GEN);
    return true;
}

static bool filter_batch(jctx *c, jv *items, size_t n, const jcall *a, jv *out) {
    jv count, fill;
    if (!jcall_arg(a, 0, "linecount", &count) || count.kind != JV_INT || count.u.i <= 0)
        return jfail(c, JERR_TYPE, "batch needs a positive count");
    bool has_fill = jcall_arg(a, 1, "fill_with", &fill) && fill.kind != JV_NONE;
    size_t per = (size_t)count.u.i;
    jlist *l = jlist_new(c, 0);
    if (!l)
        return false;
    for (size_t i = 0; i < n; i += per) {
        jlist *row = jlist_new(c, per);
        if (!row)
            return false;
        for (size_t k = 0; k < per; k++) {
            if (i + k < n)
                row->v[row->n++] = items[i + k];
            else if (has_fill)
                row->v[row->n++] = fill;
        }
        if (!jlist_push(c, l, jv_list(row, 0)))
            return false;
    }
    *out = jv_list(l, JV_F_GEN);
    return true;
}

static bool reverse(jctx *c, jv v, jv *items, size_t n, jv *out) {
    if (v.kind == JV_STR) {
        char *p = jalloc(c, v.n + 1);
        if (!p)
            return false;
        size_t w = 0;
        for (size_t i = n; i-- > 0;) {
            memcpy(p + w, items[i].u.s, items[i].n);
            w += items[i].n;
        }
        *out = jv_str(p, w);
        return true;
    }
    jlist *l = jlist_new(c, n);
    if (!l)
        return false;
    for (size_t i = 0; i < n; i++)
        l->v[i] = items[n - 1 - i];
    l->n = n;
    *out = jv_list(l, JV_F_GEN);
    return true;
}

bool japply_seq_filter(jctx *c, const char *name, jv v, const jcall *a, jv *out, bool *found) {
    *found = true;
    if (!strcmp(name, "length") || !strcmp(name, "count")) {
        int64_t n;
        if (!jv_length(c, v, &n))
            return false;
        *out = jv_int(n);
        return true;
    }
    if (!strcmp(name, "dictsort"))
        return filter_dictsort(c, v, a, out);
    if (!strcmp(name, "items")) {
        jlist *l;
        if (v.kind == JV_UNDEF)
            l = jlist_new(c, 0);
        else if (!dict_items(c, v, &l))
            return false;
        *out = jv_list(l, JV_F_GEN);
        return l != NULL;
    }
    static const char *const seq_names[] = {"list", "first", "last", "join", "sort", "unique", "map",
                                            "select", "reject", "selectattr", "rejectattr", "min",
                                            "max", "sum", "batch", "reverse", NULL};
    size_t k = 0;
    while (seq_names[k] && strcmp(seq_names[k], name))
        k++;
    if (!seq_names[k]) {
        *found = false;
        return true;
    }
    if (!strcmp(name, "last") && v.kind == JV_LIST && (v.flags & JV_F_GEN))
        return jfail(c, JERR_TYPE, "'generator' object is not reversible");
    bool lazy = !strcmp(name, "map") || !strcmp(name, "select") || !strcmp(name, "reject") ||
                !strcmp(name, "selectattr") || !strcmp(name, "rejectattr");
    if (lazy && !jv_truthy(v)) {
        /* Jinja's map/select start with `if value:`: a falsy input (None) yields nothing */
        jlist *l = jlist_new(c, 0);
        *out = jv_list(l, JV_F_GEN);
        return l != NULL;
    }
    jv *items;
    size_t n;
    if (!jv_iterate(c, v, &items, &n))
        return false;
    if (!strcmp(name, "list")) {
        jlist *l = jlist_new(c, n);
        if (!l)
            return false;
        if (n)
            memcpy(l->v, items, n * sizeof *items);
        l->n = n;
        *out = jv_list(l, 0);
        return true;
    }
    if (!strcmp(name, "first") || !strcmp(name, "last")) {
        *out = n ? items[name[0] == 'f' ? 0 : n - 1] : jv_undef(name, strlen(name));
        return true;
    }
    if (!strcmp(name, "join")) return filter_join(c, items, n, a, out);
    if (!strcmp(name, "sort")) {
        jv rev, cs, attr;
        jlist *l;
        arg_or(a, 0, "reverse", jv_bool(false), &rev);
        arg_or(a, 1, "case_sensitive", jv_bool(false), &cs);
        arg_or(a, 2, "attribute", jv_none(), &attr);
        if (!sorted_list(c, items, n, attr, jv_truthy(cs), jv_truthy(rev), &l))
            return false;
        *out = jv_list(l, 0);
        return true;
    }
    if (!strcmp(name, "unique")) return filter_unique(c, items, n, a, out);
    if (!strcmp(name, "map")) return filter_map(c, items, n, a, out);

    if (!strcmp(name, "min") || !strcmp(name, "max")) return filter_minmax(c, items, n, a, name[1] == 'a', out);
    if (!strcmp(name, "sum")) return filter_sum(c, items, n, a, out);
    if (!strcmp(name, "batch")) return filter_batch(c, items, n, a, out);
    if (!strcmp(name, "reverse")) return reverse(c, v, items, n, out);
    return filter_select(c, name, items, n, a, out);
}
