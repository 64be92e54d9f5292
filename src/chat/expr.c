/* expr.c — evaluating expressions.
 *
 * Attribute and item access follow Jinja's sandboxed environment: `a.b`
 * tries the Python attribute first (so `d.items` is the dict method), then
 * the item; `a['b']` tries the item first, then the attribute. Missing
 * things are Undefined, not errors; using an Undefined in arithmetic, taking
 * its attribute or calling it is the error. Mutating methods come back as
 * an "unsafe" Undefined that fails with a SecurityError when called.
 */
#include "chat/jinja.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- scopes */

jscope *jscope_new(jctx *c, jscope *parent) {
    jscope *s = jalloc(c, sizeof *s);
    if (s)
        s->parent = parent;
    return s;
}

jv jscope_lookup(const jscope *s, const char *name) {
    for (; s; s = s->parent) {
        const jv *v = jdict_get_str(&s->vars, name);
        if (v)
            return *v;
    }
    return jv_undef(name, strlen(name));
}

bool jscope_set(jctx *c, jscope *s, const char *name, jv v) {
    return jdict_set(c, &s->vars, jv_cstr(name), v);
}

/* ---------------------------------------------------------------- attributes and items */

static bool fail_undefined(jctx *c, jv u) {
    if (u.flags & JV_F_UNSAFE)
        return jfail(c, JERR_SECURITY, "%.*s", (int)u.n, u.u.s);
    return jfail(c, JERR_UNDEFINED, "'%.*s' is undefined", (int)u.n, u.u.s);
}

static bool loop_attr(jctx *c, const jloop *l, const char *name, jv *out) {
    int64_t i = (int64_t)l->index0, n = (int64_t)l->n;
    if (!strcmp(name, "index")) *out = jv_int(i + 1);
    else if (!strcmp(name, "index0")) *out = jv_int(i);
    else if (!strcmp(name, "revindex")) *out = jv_int(n - i);
    else if (!strcmp(name, "revindex0")) *out = jv_int(n - i - 1);
    else if (!strcmp(name, "first")) *out = jv_bool(i == 0);
    else if (!strcmp(name, "last")) *out = jv_bool(i == n - 1);
    else if (!strcmp(name, "length")) *out = jv_int(n);
    else if (!strcmp(name, "depth")) *out = jv_int(1);
    else if (!strcmp(name, "depth0")) *out = jv_int(0);
    else if (!strcmp(name, "previtem"))
        *out = i > 0 ? l->items[i - 1] : jv_undef("previtem", 8);
    else if (!strcmp(name, "nextitem"))
        *out = i + 1 < n ? l->items[i + 1] : jv_undef("nextitem", 8);
    else if (!strcmp(name, "cycle")) {
        jfunc *fn = jalloc(c, sizeof *fn);
        if (!fn)
            return false;
        fn->kind = JF_LOOP_CYCLE;
        fn->self.kind = JV_LOOP;
        fn->self.u.loop = (jloop *)l;
        *out = (jv){.kind = JV_FUNC, .u.fn = fn};
    } else
        *out = jv_undef(name, strlen(name));
    return true;
}

bool jv_getattr(jctx *c, jv obj, const char *name, jv *out) {
    if (obj.kind == JV_UNDEF)
        return fail_undefined(c, obj);
    if (obj.kind == JV_LOOP)
        return loop_attr(c, obj.u.loop, name, out);
    if (obj.kind == JV_DICT && (obj.flags & JV_F_NAMESPACE)) {
        const jv *v = jdict_get_str(obj.u.dict, name);
        *out = v ? *v : jv_undef(name, strlen(name));
        return true;
    }
    bool found;
    if (!jmethod_lookup(c, obj, name, out, &found))
        return false;
    if (found)
        return true;
    if (obj.kind == JV_DICT) {
        const jv *v = jdict_get_str(obj.u.dict, name);
        if (v) {
            *out = *v;
            return true;
        }
    }
    *out = jv_undef(name, strlen(name));
    return true;
}

/* Python index normalization: negative counts from the end. */
static bool norm_index(jv key, size_t len, size_t *idx) {
    if (key.kind != JV_INT && key.kind != JV_BOOL)
        return false;
    int64_t i = key.kind == JV_BOOL ? key.u.b : key.u.i;
    if (i < 0)
        i += (int64_t)len;
    if (i < 0 || i >= (int64_t)len)
        return false;
    *idx = (size_t)i;
    return true;
}

bool jv_getitem(jctx *c, jv obj, jv key, jv *out) {
    size_t idx;
    switch (obj.kind) {
    case JV_UNDEF: return fail_undefined(c, obj);
    case JV_DICT:
        if (!(obj.flags & JV_F_NAMESPACE)) {
            const jv *v = jdict_get(obj.u.dict, key);
            if (v) {
                *out = *v;
                return true;
            }
        }
        break;
    case JV_LIST:
        if (!(obj.flags & JV_F_GEN) && norm_index(key, obj.u.list->n, &idx)) {
            *out = obj.u.list->v[idx];
            return true;
        }
        break;
    case JV_STR:
        if (norm_index(key, utf8_len(obj.u.s, obj.n), &idx)) {
            size_t a = utf8_offset(obj.u.s, obj.n, idx);
            size_t b = utf8_offset(obj.u.s, obj.n, idx + 1);
            *out = jv_str(obj.u.s + a, b - a);
            return true;
        }
        break;
    default: break;
    }
    if (key.kind == JV_STR && key.n < 64) {
        char name[64];
        memcpy(name, key.u.s, key.n);
        name[key.n] = '\0';
        if (obj.kind == JV_LOOP || (obj.kind == JV_DICT && (obj.flags & JV_F_NAMESPACE)))
            return jv_getattr(c, obj, name, out);
        bool found;
        if (!jmethod_lookup(c, obj, name, out, &found))
            return false;
        if (found)
            return true;
    }
    *out = jv_undef("item", 4);
    return true;
}

/* ---------------------------------------------------------------- slices */

/* Python's slice.indices(): clamp start/stop for the step's direction. */
static bool slice_bounds(jctx *c, const jv *parts, int64_t len, int64_t *start, int64_t *stop,
                         int64_t *step) {
    *step = 1;
    if (parts[2].kind == JV_INT)
        *step = parts[2].u.i;
    else if (parts[2].kind != JV_NONE)
        return jfail(c, JERR_TYPE, "slice indices must be integers or None");
    if (*step == 0)
        return jfail(c, JERR_TYPE, "slice step cannot be zero");
    int64_t lo = *step < 0 ? -1 : 0, hi = *step < 0 ? len - 1 : len;
    int64_t *ends[2] = {start, stop};
    for (int k = 0; k < 2; k++) {
        if (parts[k].kind == JV_NONE) {
            *ends[k] = (*step < 0) == (k == 0) ? hi : lo;
            continue;
        }
        if (parts[k].kind != JV_INT)
            return jfail(c, JERR_TYPE, "slice indices must be integers or None");
        int64_t v = parts[k].u.i;
        if (v < 0) {
            v += len;
            if (v < lo)
                v = lo;
        } else if (v > hi) {
            v = hi;
        }
        *ends[k] = v;
    }
    return true;
}

static bool eval_slice(jctx *c, const jnode *n, jv *out) {
    jv obj, parts[3] = {jv_none(), jv_none(), jv_none()};
    if (!jeval(c, n->a, &obj) || (n->b && !jeval(c, n->b, &parts[0])) ||
        (n->c && !jeval(c, n->c, &parts[1])) || (n->list.n && !jeval(c, n->list.v[0], &parts[2])))
        return false;
    jv *items = NULL;
    size_t len;
    if (obj.kind == JV_UNDEF)
        return fail_undefined(c, obj);
    if ((obj.kind != JV_STR && obj.kind != JV_LIST) || (obj.flags & JV_F_GEN))
        return jfail(c, JERR_TYPE, "'%s' object is not subscriptable", jv_type_name(obj));
    if (!jv_iterate(c, obj, &items, &len))
        return false;
    int64_t start = 0, stop = 0, step = 1;
    if (!slice_bounds(c, parts, (int64_t)len, &start, &stop, &step))
        return false;
    jlist *l = jlist_new(c, 0);
    if (!l)
        return false;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step)
        if (!jlist_push(c, l, items[i]))
            return false;
    if (obj.kind == JV_LIST) {
        *out = jv_list(l, obj.flags & JV_F_TUPLE);
        return true;
    }
    jbuf b = {0};
    for (size_t i = 0; i < l->n; i++)
        if (!jbuf_put(&b, l->v[i].u.s, l->v[i].n)) {
            jbuf_free(&b);
            return jfail_nomem(c);
        }
    return jv_str_from_buf(c, &b, out);
}

/* ---------------------------------------------------------------- arithmetic */

static bool int_of(jv v, int64_t *i) {
    if (v.kind == JV_INT)
        *i = v.u.i;
    else if (v.kind == JV_BOOL)
        *i = v.u.b;
    else
        return false;
    return true;
}

static bool repeat(jctx *c, jv seq, int64_t times, jv *out) {
    if (times < 0)
        times = 0;
    if (seq.kind == JV_STR) {
        if (seq.n && (uint64_t)times > JINJA_MAX_OUTPUT / seq.n)
            return jfail(c, JERR_LIMIT, "string repetition too large");
        jbuf b = {0};
        for (int64_t k = 0; k < times; k++)
            if (!jbuf_put(&b, seq.u.s, seq.n)) {
                jbuf_free(&b);
                return jfail_nomem(c);
            }
        return jv_str_from_buf(c, &b, out);
    }
    const jlist *src = seq.u.list;
    if (src->n && (uint64_t)times > JINJA_MAX_RANGE / src->n)
        return jfail(c, JERR_LIMIT, "list repetition too large");
    jlist *l = jlist_new(c, (size_t)times * src->n);
    if (!l)
        return false;
    for (int64_t k = 0; k < times; k++)
        for (size_t i = 0; i < src->n; i++)
            l->v[l->n++] = src->v[i];
    *out = jv_list(l, seq.flags & JV_F_TUPLE);
    return true;
}

static bool concat_seq(jctx *c, jv a, jv b, jv *out) {
    if (a.kind == JV_STR) {
        char *s = jalloc(c, a.n + b.n + 1);
        if (!s)
            return false;
        if (a.n)
            memcpy(s, a.u.s, a.n);
        if (b.n)
            memcpy(s + a.n, b.u.s, b.n);
        *out = jv_str(s, a.n + b.n);
        return true;
    }
    jlist *l = jlist_new(c, a.u.list->n + b.u.list->n);
    if (!l)
        return false;
    if (a.u.list->n)
        memcpy(l->v, a.u.list->v, a.u.list->n * sizeof *l->v);
    if (b.u.list->n)
        memcpy(l->v + a.u.list->n, b.u.list->v, b.u.list->n * sizeof *l->v);
    l->n = a.u.list->n + b.u.list->n;
    *out = jv_list(l, a.flags & JV_F_TUPLE);
    return true;
}

static bool int_arith(jctx *c, jop op, int64_t x, int64_t y, jv *out) {
    int64_t r;
    switch (op) {
    case JOP_ADD: if (__builtin_add_overflow(x, y, &r)) goto overflow; break;
    case JOP_SUB: if (__builtin_sub_overflow(x, y, &r)) goto overflow; break;
    case JOP_MUL: if (__builtin_mul_overflow(x, y, &r)) goto overflow; break;
    case JOP_FLOORDIV:
    case JOP_MOD:
        if (y == 0)
            return jfail(c, JERR_TYPE, "integer division or modulo by zero");
        if (x == INT64_MIN && y == -1)
            goto overflow;
        r = op == JOP_MOD ? x % y : x / y;
        if (op == JOP_MOD && r != 0 && ((r < 0) != (y < 0)))
            r += y; /* Python's modulo takes the divisor's sign */
        else if (op == JOP_FLOORDIV && (x % y != 0) && ((x < 0) != (y < 0)))
            r -= 1;
        break;
    case JOP_POW:
        if (y < 0) {
            *out = jv_float(pow((double)x, (double)y));
            return true;
        }
        /* square-and-multiply: a huge exponent of 0, 1 or -1 must not loop long */
        r = 1;
        for (int64_t base = x, e = y; e > 0; e >>= 1) {
            if ((e & 1) && __builtin_mul_overflow(r, base, &r))
                goto overflow;
            if (e > 1 && __builtin_mul_overflow(base, base, &base))
                goto overflow;
        }
        break;
    default: return false;
    }
    *out = jv_int(r);
    return true;
overflow:
    return jfail(c, JERR_TYPE, "integer overflow");
}

static bool float_arith(jctx *c, jop op, double x, double y, jv *out) {
    double r;
    switch (op) {
    case JOP_ADD: r = x + y; break;
    case JOP_SUB: r = x - y; break;
    case JOP_MUL: r = x * y; break;
    case JOP_DIV:
    case JOP_FLOORDIV:
    case JOP_MOD:
        if (y == 0)
            return jfail(c, JERR_TYPE, "float division by zero");
        if (op == JOP_DIV)
            r = x / y;
        else if (op == JOP_FLOORDIV)
            r = floor(x / y);
        else {
            r = fmod(x, y);
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;
        }
        break;
    case JOP_POW: r = pow(x, y); break;
    default: return false;
    }
    *out = jv_float(r);
    return true;
}

static bool arith(jctx *c, jop op, jv a, jv b, jv *out) {
    if (a.kind == JV_UNDEF)
        return fail_undefined(c, a);
    if (b.kind == JV_UNDEF)
        return fail_undefined(c, b);
    int64_t x, y;
    if (int_of(a, &x) && int_of(b, &y) && op != JOP_DIV)
        return int_arith(c, op, x, y, out);
    if (jv_is_num(a) && jv_is_num(b))
        return float_arith(c, op, jv_num(a), jv_num(b), out);
    if (op == JOP_ADD && a.kind == b.kind && (a.kind == JV_STR || a.kind == JV_LIST) &&
        !((a.flags | b.flags) & JV_F_GEN)) {
        if (a.kind == JV_STR && ((a.flags | b.flags) & JV_F_SAFE)) {
            if ((!(a.flags & JV_F_SAFE) && !jstr_escape(c, a, &a)) ||
                (!(b.flags & JV_F_SAFE) && !jstr_escape(c, b, &b)) || !concat_seq(c, a, b, out))
                return false;
            out->flags |= JV_F_SAFE;
            return true;
        }
        return concat_seq(c, a, b, out);
    }
    if (op == JOP_MUL && (a.kind == JV_STR || a.kind == JV_LIST) && int_of(b, &y))
        return repeat(c, a, y, out);
    if (op == JOP_MUL && (b.kind == JV_STR || b.kind == JV_LIST) && int_of(a, &x))
        return repeat(c, b, x, out);
    if (op == JOP_ADD && a.kind == JV_STR)
        return jfail(c, JERR_TYPE, "can only concatenate str (not \"%s\") to str", jv_type_name(b));
    static const char *const names[] = {"+", "-", "*", "/", "//", "%", "**"};
    return jfail(c, JERR_TYPE, "unsupported operand type(s) for %s: '%s' and '%s'", names[op],
                 jv_type_name(a), jv_type_name(b));
}

static bool eval_binary(jctx *c, const jnode *n, jv *out) {
    jv a, b;
    if (!jeval(c, n->a, &a) || !jeval(c, n->b, &b))
        return false;
    c->line = n->line;
    if (n->op == JOP_CONCAT) {
        jv sa, sb;
        return jv_to_str(c, a, &sa) && jv_to_str(c, b, &sb) && concat_seq(c, sa, sb, out);
    }
    return arith(c, n->op, a, b, out);
}

static bool eval_compare(jctx *c, const jnode *n, jv *out) {
    jv a, b;
    if (!jeval(c, n->a, &a) || !jeval(c, n->b, &b))
        return false;
    c->line = n->line;
    bool r;
    int cmp;
    switch (n->op) {
    case JOP_EQ: r = jv_equal(a, b); break;
    case JOP_NE: r = !jv_equal(a, b); break;
    case JOP_IN:
    case JOP_NOTIN:
        if (!jv_contains(c, b, a, &r))
            return false;
        r = n->op == JOP_IN ? r : !r;
        break;
    default:
        if (!jv_compare(c, a, b, &cmp))
            return false;
        r = n->op == JOP_LT ? cmp < 0 : n->op == JOP_LE ? cmp <= 0 : n->op == JOP_GT ? cmp > 0 : cmp >= 0;
    }
    *out = jv_bool(r);
    return true;
}

static bool eval_unary(jctx *c, const jnode *n, jv *out) {
    jv a;
    if (!jeval(c, n->a, &a))
        return false;
    if (a.kind == JV_UNDEF)
        return fail_undefined(c, a);
    if (!jv_is_num(a))
        return jfail(c, JERR_TYPE, "bad operand type for unary %s: '%s'",
                     n->kind == JN_NEG ? "-" : "+", jv_type_name(a));
    if (n->kind == JN_POS)
        *out = a.kind == JV_BOOL ? jv_int(a.u.b) : a;
    else if (a.kind == JV_FLOAT)
        *out = jv_float(-a.u.f);
    else if (a.kind == JV_INT && a.u.i == INT64_MIN)
        return jfail(c, JERR_TYPE, "integer overflow");
    else
        *out = jv_int(a.kind == JV_BOOL ? -(int64_t)a.u.b : -a.u.i);
    return true;
}

/* ---------------------------------------------------------------- containers and calls */

static bool eval_list(jctx *c, const jnode *n, jv *out) {
    jlist *l = jlist_new(c, n->list.n);
    if (!l)
        return false;
    for (size_t i = 0; i < n->list.n; i++)
        if (!jeval(c, n->list.v[i], &l->v[l->n++]))
            return false;
    *out = jv_list(l, n->kind == JN_TUPLE ? JV_F_TUPLE : 0);
    return true;
}

static bool eval_dict(jctx *c, const jnode *n, jv *out) {
    jdict *d = jdict_new(c);
    if (!d)
        return false;
    for (size_t i = 0; i < n->list.n; i++) {
        jv k, v;
        if (!jeval(c, n->list.v[i], &k) || !jeval(c, n->list2.v[i], &v) || !jdict_set(c, d, k, v))
            return false;
    }
    *out = jv_dict(d, 0);
    return true;
}

bool jeval_args(jctx *c, const jargs *a, jcall *out) {
    memset(out, 0, sizeof *out);
    if (a->pos.n && !(out->pos = jalloc(c, a->pos.n * sizeof *out->pos)))
        return false;
    if (a->kw.n && !(out->kw = jalloc(c, a->kw.n * sizeof *out->kw)))
        return false;
    for (size_t i = 0; i < a->pos.n; i++)
        if (!jeval(c, a->pos.v[i], &out->pos[i]))
            return false;
    for (size_t i = 0; i < a->kw.n; i++)
        if (!jeval(c, a->kw.v[i], &out->kw[i]))
            return false;
    out->n_pos = a->pos.n;
    out->n_kw = a->kw.n;
    out->kw_names = a->kw_names;
    return true;
}

bool jcall_arg(const jcall *a, size_t index, const char *name, jv *out) {
    if (index < a->n_pos) {
        *out = a->pos[index];
        return true;
    }
    for (size_t i = 0; name && i < a->n_kw; i++)
        if (strcmp(a->kw_names[i], name) == 0) {
            *out = a->kw[i];
            return true;
        }
    return false;
}

bool jcall_func(jctx *c, jv fn, const jcall *args, jv *out) {
    if (fn.kind == JV_UNDEF)
        return fail_undefined(c, fn);
    if (fn.kind != JV_FUNC)
        return jfail(c, JERR_TYPE, "'%s' object is not callable", jv_type_name(fn));
    const jfunc *f = fn.u.fn;
    switch (f->kind) {
    case JF_MACRO:
    case JF_CALLER: return jcall_macro(c, f, args, out);
    case JF_METHOD: return jcall_method(c, f, args, out);
    case JF_GLOBAL: return jcall_global(c, f->name, args, out);
    case JF_LOOP_CYCLE:
        if (args->n_pos == 0)
            return jfail(c, JERR_TYPE, "no items for cycling given");
        *out = args->pos[f->self.u.loop->index0 % args->n_pos];
        return true;
    }
    return false;
}

static bool eval_call(jctx *c, const jnode *n, jv *out) {
    jv fn;
    jcall args;
    if (!jeval(c, n->a, &fn) || !jeval_args(c, &n->args, &args))
        return false;
    c->line = n->line;
    return jcall_func(c, fn, &args, out);
}

static bool eval_filter(jctx *c, const jnode *n, jv *out) {
    jv v;
    jcall args;
    if (!jeval(c, n->a, &v) || !jeval_args(c, &n->args, &args))
        return false;
    c->line = n->line;
    return japply_filter(c, n->name, v, &args, out);
}

static bool eval_test(jctx *c, const jnode *n, jv *out) {
    jv v;
    jcall args;
    bool r;
    if (!jeval(c, n->a, &v) || !jeval_args(c, &n->args, &args))
        return false;
    c->line = n->line;
    if (!japply_test(c, n->name, v, &args, &r))
        return false;
    *out = jv_bool(n->negate ? !r : r);
    return true;
}

static bool eval_node(jctx *c, const jnode *n, jv *out) {
    c->line = n->line;
    jv a;
    switch (n->kind) {
    case JN_LIT: *out = n->lit; return true;
    case JN_NAME: *out = jscope_lookup(c->scope, n->name); return true;
    case JN_BODY: *out = c->body_value; return true;
    case JN_ATTR: return jeval(c, n->a, &a) && jv_getattr(c, a, n->name, out);
    case JN_ITEM: {
        jv key;
        return jeval(c, n->a, &a) && jeval(c, n->b, &key) && jv_getitem(c, a, key, out);
    }
    case JN_SLICE: return eval_slice(c, n, out);
    case JN_LIST:
    case JN_TUPLE: return eval_list(c, n, out);
    case JN_DICT: return eval_dict(c, n, out);
    case JN_NEG:
    case JN_POS: return eval_unary(c, n, out);
    case JN_NOT:
        if (!jeval(c, n->a, &a))
            return false;
        *out = jv_bool(!jv_truthy(a));
        return true;
    case JN_AND:
    case JN_OR:
        /* Python returns the deciding operand, not a bool */
        if (!jeval(c, n->a, &a))
            return false;
        if (jv_truthy(a) == (n->kind == JN_OR)) {
            *out = a;
            return true;
        }
        return jeval(c, n->b, out);
    case JN_BIN: return eval_binary(c, n, out);
    case JN_CMP: return eval_compare(c, n, out);
    case JN_COND:
        if (!jeval(c, n->a, &a))
            return false;
        if (jv_truthy(a))
            return jeval(c, n->b, out);
        if (n->c)
            return jeval(c, n->c, out);
        *out = jv_undef("conditional", 11);
        return true;
    case JN_FILTER: return eval_filter(c, n, out);
    case JN_TEST: return eval_test(c, n, out);
    case JN_CALL: return eval_call(c, n, out);
    default: return jfail(c, JERR_SYNTAX, "statement used as an expression");
    }
}

/* Left-deep chains (a + a + ... or x|f|g|...) are parsed iteratively but
 * evaluate recursively, so the depth is bounded here, not in the parser. */
bool jeval(jctx *c, const jnode *n, jv *out) {
    if (c->eval_depth >= JINJA_MAX_EVAL_DEPTH)
        return jfail(c, JERR_LIMIT, "expression nested deeper than %d", JINJA_MAX_EVAL_DEPTH);
    c->eval_depth++;
    bool ok = eval_node(c, n, out);
    c->eval_depth--;
    return ok;
}
