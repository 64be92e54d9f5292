/* exec.c — executing statements: output, if, for, set, macros, blocks.
 *
 * Scoping follows Jinja: a for loop, macro call, call/filter/set block and
 * generation block each get a child scope, so a plain `set` inside them does
 * not leak out (templates use namespace() to carry state out of loops); if
 * blocks do not create scopes. Macros resolve free names in the scope they
 * were defined in, looked up at call time.
 */
#include "chat/jinja.h"

#include <string.h>

static jflow exec_node(jctx *c, const jnode *n);

static bool step(jctx *c) {
    if (++c->steps > JINJA_MAX_STEPS)
        return jfail(c, JERR_LIMIT, "template exceeded %u loop iterations and calls",
                     JINJA_MAX_STEPS);
    return true;
}

static bool write_out(jctx *c, const char *s, size_t n) {
    if (!jbuf_put(c->out, s, n))
        return c->out->n + n > JINJA_MAX_OUTPUT
                   ? jfail(c, JERR_LIMIT, "output larger than %u MiB", JINJA_MAX_OUTPUT >> 20)
                   : jfail_nomem(c);
    return true;
}

jflow jexec_body(jctx *c, jscope *s, const jnodes *body) {
    jscope *saved = c->scope;
    c->scope = s;
    jflow r = JFLOW_OK;
    for (size_t i = 0; i < body->n && r == JFLOW_OK; i++)
        r = exec_node(c, body->v[i]);
    c->scope = saved;
    return r;
}

bool jrender_capture(jctx *c, jscope *s, const jnodes *body, jv *out) {
    jbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    jflow r = jexec_body(c, s, body);
    c->out = saved;
    if (r == JFLOW_ERR) {
        jbuf_free(&buf);
        return false;
    }
    return jv_str_from_buf(c, &buf, out);
}

/* ---------------------------------------------------------------- assignment */

static bool assign(jctx *c, jscope *s, const jnode *target, jv v) {
    if (target->kind == JN_NAME)
        return jscope_set(c, s, target->name, v);
    if (target->kind == JN_ATTR) {
        jv ns = jscope_lookup(c->scope, target->a->name);
        if (ns.kind != JV_DICT || !(ns.flags & JV_F_NAMESPACE))
            return jfail(c, JERR_TYPE, "cannot assign attribute on non-namespace object");
        return jdict_set(c, ns.u.dict, jv_cstr(target->name), v);
    }
    /* tuple unpacking */
    jv *items;
    size_t n;
    if (!jv_iterate(c, v, &items, &n))
        return false;
    if (n != target->list.n)
        return jfail(c, JERR_TYPE, "cannot unpack %zu values into %zu names", n, target->list.n);
    for (size_t i = 0; i < n; i++)
        if (!assign(c, s, target->list.v[i], items[i]))
            return false;
    return true;
}

/* ---------------------------------------------------------------- for */

/* Apply the loop's `if` filter: loop.length and friends count only the
 * items that pass, as in Jinja. */
static bool filter_items(jctx *c, const jnode *n, jscope *s, jv **items, size_t *count) {
    jv *kept = *count ? jalloc(c, *count * sizeof *kept) : NULL;
    if (*count && !kept)
        return false;
    size_t k = 0;
    jscope *saved = c->scope;
    c->scope = s;
    for (size_t i = 0; i < *count; i++) {
        jv ok;
        if (!step(c) || !assign(c, s, n->a, (*items)[i]) || !jeval(c, n->c, &ok)) {
            c->scope = saved;
            return false;
        }
        if (jv_truthy(ok))
            kept[k++] = (*items)[i];
    }
    c->scope = saved;
    *items = kept;
    *count = k;
    return true;
}

static jflow exec_for(jctx *c, const jnode *n) {
    jv seq;
    jv *items;
    size_t count;
    if (!jeval(c, n->b, &seq) || !jv_iterate(c, seq, &items, &count))
        return JFLOW_ERR;
    jscope *s = jscope_new(c, c->scope);
    if (!s || (n->c && !filter_items(c, n, s, &items, &count)))
        return JFLOW_ERR;
    if (count == 0)
        return jexec_body(c, c->scope, &n->list2) == JFLOW_ERR ? JFLOW_ERR : JFLOW_OK;
    jloop *loop = jalloc(c, sizeof *loop);
    if (!loop)
        return JFLOW_ERR;
    loop->items = items;
    loop->n = count;
    jv loop_v = {.kind = JV_LOOP, .u.loop = loop};
    for (size_t i = 0; i < count; i++) {
        loop->index0 = i;
        c->line = n->line;
        if (!step(c) || !assign(c, s, n->a, items[i]) || !jscope_set(c, s, "loop", loop_v))
            return JFLOW_ERR;
        jflow r = jexec_body(c, s, &n->list);
        if (r == JFLOW_ERR)
            return r;
        if (r == JFLOW_BREAK)
            break;
    }
    return JFLOW_OK;
}

/* ---------------------------------------------------------------- macros */

static bool bind_params(jctx *c, const jnode *def, const jcall *args, jscope *s) {
    const jargs *params = &def->args;
    size_t n_params = params->kw.n;
    jlist *varargs = jlist_new(c, 0);
    jdict *kwargs = jdict_new(c);
    if (!varargs || !kwargs)
        return false;
    for (size_t i = 0; i < args->n_pos; i++) {
        bool ok = i < n_params ? jscope_set(c, s, params->kw_names[i], args->pos[i])
                               : jlist_push(c, varargs, args->pos[i]);
        if (!ok)
            return false;
    }
    for (size_t i = 0; i < args->n_kw; i++) {
        const char *name = args->kw_names[i];
        bool is_param = strcmp(name, "caller") == 0;
        for (size_t k = 0; k < n_params && !is_param; k++)
            is_param = strcmp(params->kw_names[k], name) == 0;
        bool ok = is_param ? jscope_set(c, s, name, args->kw[i])
                           : jdict_set(c, kwargs, jv_cstr(name), args->kw[i]);
        if (!ok)
            return false;
    }
    /* Defaults are evaluated in the macro's own scope, so they may refer
     * to earlier parameters. */
    jscope *saved = c->scope;
    c->scope = s;
    for (size_t k = args->n_pos; k < n_params; k++) {
        if (jdict_get_str(&s->vars, params->kw_names[k]))
            continue;
        jv v = jv_undef(params->kw_names[k], strlen(params->kw_names[k]));
        if ((params->kw.v[k] && !jeval(c, params->kw.v[k], &v)) ||
            !jscope_set(c, s, params->kw_names[k], v)) {
            c->scope = saved;
            return false;
        }
    }
    c->scope = saved;
    return jscope_set(c, s, "varargs", jv_list(varargs, 0)) &&
           jscope_set(c, s, "kwargs", jv_dict(kwargs, 0));
}

bool jcall_macro(jctx *c, const jfunc *fn, const jcall *args, jv *out) {
    if (c->depth >= JINJA_MAX_DEPTH)
        return jfail(c, JERR_LIMIT, "macro calls nested deeper than %d", JINJA_MAX_DEPTH);
    if (!step(c))
        return false;
    jscope *s = jscope_new(c, fn->closure);
    if (!s || !bind_params(c, fn->node, args, s))
        return false;
    c->depth++;
    bool ok = jrender_capture(c, s, &fn->node->list, out);
    c->depth--;
    return ok;
}

static bool define_macro(jctx *c, const jnode *n, jfunc_kind kind, jv *out) {
    jfunc *fn = jalloc(c, sizeof *fn);
    if (!fn)
        return false;
    fn->kind = kind;
    fn->name = n->name;
    fn->node = n;
    fn->closure = c->scope;
    *out = (jv){.kind = JV_FUNC, .u.fn = fn};
    return true;
}

/* {% call(params) m(args) %}body{% endcall %}: m gets caller= a macro
 * whose body is the block. */
static bool exec_call_block(jctx *c, const jnode *n) {
    jv fn, caller, result;
    jcall args;
    const jnode *callexpr = n->a;
    if (!define_macro(c, n, JF_CALLER, &caller) || !jeval(c, callexpr->a, &fn) ||
        !jeval_args(c, &callexpr->args, &args))
        return false;
    const char **names = jalloc(c, (args.n_kw + 1) * sizeof *names);
    jv *kw = jalloc(c, (args.n_kw + 1) * sizeof *kw);
    if (!names || !kw)
        return false;
    if (args.n_kw) {
        memcpy(names, args.kw_names, args.n_kw * sizeof *names);
        memcpy(kw, args.kw, args.n_kw * sizeof *kw);
    }
    names[args.n_kw] = "caller";
    kw[args.n_kw] = caller;
    args.kw_names = names;
    args.kw = kw;
    args.n_kw++;
    c->line = n->line;
    return jcall_func(c, fn, &args, &result) && jv_write_str(c, c->out, result);
}

/* ---------------------------------------------------------------- other statements */

static bool exec_set_block(jctx *c, const jnode *n) {
    jscope *s = jscope_new(c, c->scope);
    jv v;
    if (!s || !jrender_capture(c, s, &n->list, &v))
        return false;
    if (n->c) {
        c->body_value = v;
        if (!jeval(c, n->c, &v))
            return false;
    }
    return assign(c, c->scope, n->a, v);
}

static bool exec_filter_block(jctx *c, const jnode *n) {
    jscope *s = jscope_new(c, c->scope);
    jv body, v;
    if (!s || !jrender_capture(c, s, &n->list, &body))
        return false;
    c->body_value = body;
    return jeval(c, n->a, &v) && jv_write_str(c, c->out, v);
}

static jflow exec_scope(jctx *c, const jnode *n) {
    jscope *s = jscope_new(c, c->scope);
    if (!s)
        return JFLOW_ERR;
    for (size_t i = 0; i < n->list2.n; i++) { /* {% with %} assignments */
        jv v;
        if (!jeval(c, n->list2.v[i]->b, &v) || !assign(c, s, n->list2.v[i]->a, v))
            return JFLOW_ERR;
    }
    return jexec_body(c, s, &n->list);
}

static jflow ok_or_err(bool ok) { return ok ? JFLOW_OK : JFLOW_ERR; }

static jflow exec_node(jctx *c, const jnode *n) {
    c->line = n->line;
    jv v;
    switch (n->kind) {
    case JN_TEXT: return ok_or_err(write_out(c, n->lit.u.s, n->lit.n));
    case JN_PRINT: return ok_or_err(jeval(c, n->a, &v) && jv_write_str(c, c->out, v));
    case JN_IF:
        if (!jeval(c, n->a, &v))
            return JFLOW_ERR;
        return jexec_body(c, c->scope, jv_truthy(v) ? &n->list : &n->list2);
    case JN_FOR: return exec_for(c, n);
    case JN_SET: return ok_or_err(jeval(c, n->b, &v) && assign(c, c->scope, n->a, v));
    case JN_SETBLOCK: return ok_or_err(exec_set_block(c, n));
    case JN_MACRO:
        return ok_or_err(define_macro(c, n, JF_MACRO, &v) && jscope_set(c, c->scope, n->name, v));
    case JN_CALLBLOCK: return ok_or_err(exec_call_block(c, n));
    case JN_FILTERBLOCK: return ok_or_err(exec_filter_block(c, n));
    case JN_BREAK: return JFLOW_BREAK;
    case JN_CONTINUE: return JFLOW_CONTINUE;
    case JN_SCOPE: return exec_scope(c, n);
    default: return ok_or_err(jfail(c, JERR_SYNTAX, "expression used as a statement"));
    }
}
