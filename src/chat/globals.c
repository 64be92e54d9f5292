/* globals.c — the functions every template can call.
 *
 * Jinja's range, namespace and dict, plus the two transformers adds:
 * raise_exception(msg), which aborts rendering with the template's own
 * message, and strftime_now(fmt), whose clock the caller
 * passes to the render call (so tests can freeze it).
 */
#include "chat/jinja.h"

#include <string.h>
#include <time.h>

static const char *const GLOBALS[] = {"range", "namespace", "dict", "raise_exception",
                                      "strftime_now", NULL};

bool jglobals_install(jctx *c, jscope *root) {
    for (size_t i = 0; GLOBALS[i]; i++) {
        jfunc *fn = jalloc(c, sizeof *fn);
        if (!fn)
            return false;
        fn->kind = JF_GLOBAL;
        fn->name = GLOBALS[i];
        if (!jscope_set(c, root, GLOBALS[i], (jv){.kind = JV_FUNC, .u.fn = fn}))
            return false;
    }
    return true;
}

static bool int_param(jctx *c, jv v, int64_t *out) {
    if (v.kind == JV_INT || v.kind == JV_BOOL) {
        *out = v.kind == JV_BOOL ? v.u.b : v.u.i;
        return true;
    }
    return jfail(c, JERR_TYPE, "'%s' object cannot be interpreted as an integer", jv_type_name(v));
}

static bool range(jctx *c, const jcall *a, jv *out) {
    int64_t start = 0, stop = 0, step = 1;
    if (a->n_pos == 0 || a->n_pos > 3)
        return jfail(c, JERR_TYPE, "range expected 1 to 3 arguments, got %zu", a->n_pos);
    if (a->n_pos == 1) {
        if (!int_param(c, a->pos[0], &stop))
            return false;
    } else if (!int_param(c, a->pos[0], &start) || !int_param(c, a->pos[1], &stop) ||
               (a->n_pos == 3 && !int_param(c, a->pos[2], &step))) {
        return false;
    }
    if (step == 0)
        return jfail(c, JERR_TYPE, "range() arg 3 must not be zero");
    /* count computed in floating point to stay clear of overflow */
    double count = step > 0 ? ((double)stop - (double)start + (double)step - 1) / (double)step
                            : ((double)start - (double)stop - (double)step - 1) / (double)-step;
    if (count > JINJA_MAX_RANGE)
        return jfail(c, JERR_LIMIT, "range() with more than %d items", JINJA_MAX_RANGE);
    size_t n = count > 0 ? (size_t)count : 0;
    jlist *l = jlist_new(c, n);
    if (!l)
        return false;
    for (size_t i = 0; i < n; i++)
        l->v[i] = jv_int(start + (int64_t)i * step);
    l->n = n;
    *out = jv_list(l, 0);
    return true;
}

/* namespace(mapping?, **kw) and dict(mapping?, **kw) */
static bool make_dict(jctx *c, const jcall *a, uint32_t flags, jv *out) {
    jdict *d = jdict_new(c);
    if (!d)
        return false;
    if (a->n_pos > 1)
        return jfail(c, JERR_TYPE, "expected at most 1 positional argument");
    if (a->n_pos == 1) {
        jv init = a->pos[0];
        if (init.kind != JV_DICT)
            return jfail(c, JERR_TYPE, "cannot build a mapping from '%s'", jv_type_name(init));
        for (size_t i = 0; i < init.u.dict->n; i++)
            if (!jdict_set(c, d, init.u.dict->keys[i], init.u.dict->vals[i]))
                return false;
    }
    for (size_t i = 0; i < a->n_kw; i++)
        if (!jdict_set(c, d, jv_cstr(a->kw_names[i]), a->kw[i]))
            return false;
    *out = jv_dict(d, flags);
    return true;
}

static bool strftime_now(jctx *c, const jcall *a, jv *out) {
    jv fmt;
    if (!jcall_arg(a, 0, "format", &fmt) || fmt.kind != JV_STR)
        return jfail(c, JERR_TYPE, "strftime_now() needs a format string");
    const time_t now = (time_t)c->now;
    struct tm tm;
    gmtime_r(&now, &tm);
    char f[256], buf[512];
    if (fmt.n >= sizeof f)
        return jfail(c, JERR_TYPE, "strftime_now() format too long");
    memcpy(f, fmt.u.s, fmt.n);
    f[fmt.n] = '\0';
    size_t n = strftime(buf, sizeof buf, f, &tm);
    return jv_str_copy(c, buf, n, out);
}

bool jcall_global(jctx *c, const char *name, const jcall *a, jv *out) {
    if (!strcmp(name, "range"))
        return range(c, a, out);
    if (!strcmp(name, "namespace"))
        return make_dict(c, a, JV_F_NAMESPACE, out);
    if (!strcmp(name, "dict"))
        return make_dict(c, a, 0, out);
    if (!strcmp(name, "strftime_now"))
        return strftime_now(c, a, out);
    /* raise_exception */
    jv msg = jv_str("", 0);
    if (jcall_arg(a, 0, "message", &msg) && !jv_to_str(c, msg, &msg))
        return false;
    return jfail(c, JERR_RAISED, "%.*s", (int)msg.n, msg.u.s);
}
