/* parse_expr.c — expressions, by recursive descent in Jinja2's precedence:
 *
 *   condexpr   a if cond else b
 *   or, and, not
 *   compare    == != < <= > >= in, not in
 *   math1      + -
 *   concat     ~
 *   math2      * / // %
 *   pow        **
 *   unary      - + (the operand binds postfix first; filters apply to the result)
 *   primary    literal, name, (tuple), [list], {dict}, then .attr [sub] (call)
 *   filters    |name(args), is [not] test, (call) — after postfix
 */
#include "chat/jinja.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

jnode *jp_node(jparser *p, jnode_kind kind, int line) {
    jnode *n = jarena_alloc(p->arena, sizeof *n);
    if (!n) {
        p->err->kind = JERR_NOMEM;
        snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->line = line;
    return n;
}

/* Lists grow in powers of two; the capacity is implied by n. */
bool jp_push(jparser *p, jnodes *list, jnode *node) {
    size_t n = list->n;
    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? n * 2 : 2;
        jnode **v = jarena_alloc(p->arena, cap * sizeof *v);
        if (!v) {
            p->err->kind = JERR_NOMEM;
            snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
            return false;
        }
        if (n)
            memcpy(v, list->v, n * sizeof *v);
        list->v = v;
    }
    list->v[list->n++] = node;
    return true;
}

bool jp_fail(jparser *p, const char *fmt, ...) {
    if (p->err->kind != JERR_NONE)
        return false;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->err->kind = JERR_SYNTAX;
    p->err->line = jp_peek(p)->line;
    snprintf(p->err->msg, sizeof p->err->msg, "line %d: %s", p->err->line, msg);
    return false;
}

const jtok *jp_peek(const jparser *p) { return &p->t[p->pos < p->n ? p->pos : p->n - 1]; }

static const jtok *advance(jparser *p) {
    const jtok *t = jp_peek(p);
    if (p->pos < p->n - 1)
        p->pos++;
    return t;
}

bool jp_is_op(const jtok *t, const char *op) {
    return t->kind == JT_OP && t->n == strlen(op) && memcmp(t->s, op, t->n) == 0;
}

bool jp_is_name(const jtok *t, const char *name) {
    return t->kind == JT_NAME && t->n == strlen(name) && memcmp(t->s, name, t->n) == 0;
}

bool jp_expect_op(jparser *p, const char *op) {
    if (!jp_is_op(jp_peek(p), op))
        return jp_fail(p, "expected '%s'", op);
    advance(p);
    return true;
}

const char *jp_strdup(jparser *p, const char *s, size_t n) {
    char *d = jarena_alloc(p->arena, n + 1);
    if (!d) {
        p->err->kind = JERR_NOMEM;
        snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static const char *expect_name(jparser *p) {
    const jtok *t = jp_peek(p);
    if (t->kind != JT_NAME) {
        jp_fail(p, "expected a name");
        return NULL;
    }
    advance(p);
    return jp_strdup(p, t->s, t->n);
}

static jnode *binary(jparser *p, jnode_kind kind, jop op, jnode *a, jnode *b, int line) {
    if (!a || !b)
        return NULL;
    jnode *n = jp_node(p, kind, line);
    if (n) {
        n->op = op;
        n->a = a;
        n->b = b;
    }
    return n;
}

/* ---------------------------------------------------------------- literals */

static jnode *lit(jparser *p, jv v, int line) {
    jnode *n = jp_node(p, JN_LIT, line);
    if (n)
        n->lit = v;
    return n;
}

static jnode *string_literal(jparser *p) {
    /* adjacent literals concatenate, as in Python */
    const jtok *t = advance(p);
    int line = t->line;
    size_t total = t->n;
    size_t first = p->pos - 1;
    while (jp_peek(p)->kind == JT_STRING)
        total += advance(p)->n;
    char *s = jarena_alloc(p->arena, total + 1);
    if (!s)
        return jp_fail(p, "out of memory"), NULL;
    size_t w = 0;
    for (size_t i = first; i < p->pos && p->t[i].kind == JT_STRING; i++) {
        memcpy(s + w, p->t[i].s, p->t[i].n);
        w += p->t[i].n;
    }
    return lit(p, jv_str(s, w), line);
}

static jnode *name_or_constant(jparser *p) {
    const jtok *t = advance(p);
    static const char *const trues[] = {"true", "True"}, *const falses[] = {"false", "False"},
                             *const nones[] = {"none", "None"};
    for (int i = 0; i < 2; i++) {
        if (jp_is_name(t, trues[i]))
            return lit(p, jv_bool(true), t->line);
        if (jp_is_name(t, falses[i]))
            return lit(p, jv_bool(false), t->line);
        if (jp_is_name(t, nones[i]))
            return lit(p, jv_none(), t->line);
    }
    jnode *n = jp_node(p, JN_NAME, t->line);
    if (n && !(n->name = jp_strdup(p, t->s, t->n)))
        return NULL;
    return n;
}

static jnode *list_or_dict(jparser *p, bool dict) {
    int line = advance(p)->line;
    jnode *n = jp_node(p, dict ? JN_DICT : JN_LIST, line);
    if (!n)
        return NULL;
    const char *close = dict ? "}" : "]";
    while (!jp_is_op(jp_peek(p), close)) {
        if (n->list.n && !jp_expect_op(p, ","))
            return NULL;
        if (jp_is_op(jp_peek(p), close))
            break; /* trailing comma */
        jnode *item = jp_expression(p, true);
        if (!item || !jp_push(p, &n->list, item))
            return NULL;
        if (dict) {
            jnode *val;
            if (!jp_expect_op(p, ":") || !(val = jp_expression(p, true)) || !jp_push(p, &n->list2, val))
                return NULL;
        }
    }
    advance(p);
    return n;
}

jnode *jp_primary(jparser *p) {
    const jtok *t = jp_peek(p);
    switch (t->kind) {
    case JT_NAME: return name_or_constant(p);
    case JT_STRING: return string_literal(p);
    case JT_INT: advance(p); return lit(p, jv_int(t->i), t->line);
    case JT_FLOAT: advance(p); return lit(p, jv_float(t->f), t->line);
    default: break;
    }
    if (jp_is_op(t, "(")) {
        advance(p);
        jnode *n = jp_tuple(p, true, true);
        if (!n || !jp_expect_op(p, ")"))
            return NULL;
        return n;
    }
    if (jp_is_op(t, "["))
        return list_or_dict(p, false);
    if (jp_is_op(t, "{"))
        return list_or_dict(p, true);
    jp_fail(p, "unexpected '%.*s'", (int)(t->n ? t->n : 3), t->n ? t->s : "end");
    return NULL;
}

/* ---------------------------------------------------------------- postfix: .attr [sub] (call) */

bool jp_call_args(jparser *p, jargs *args) {
    advance(p); /* ( */
    size_t n_kw = 0;
    while (!jp_is_op(jp_peek(p), ")")) {
        if ((args->pos.n || n_kw) && !jp_expect_op(p, ","))
            return false;
        if (jp_is_op(jp_peek(p), ")"))
            break;
        const jtok *t = jp_peek(p);
        if (jp_is_op(t, "*") || jp_is_op(t, "**"))
            return jp_fail(p, "*args and **kwargs in calls are not supported");
        if (t->kind == JT_NAME && p->pos + 1 < p->n && jp_is_op(&p->t[p->pos + 1], "=")) {
            const char *name = expect_name(p);
            advance(p); /* = */
            jnode *val = name ? jp_expression(p, true) : NULL;
            if (!val || !jp_push(p, &args->kw, val))
                return false;
            /* names are kept in a parallel array grown the same way */
            const char **names = jarena_alloc(p->arena, (n_kw + 1) * sizeof *names);
            if (!names)
                return jp_fail(p, "out of memory");
            if (n_kw)
                memcpy(names, args->kw_names, n_kw * sizeof *names);
            names[n_kw++] = name;
            args->kw_names = names;
        } else {
            if (n_kw)
                return jp_fail(p, "positional argument follows keyword argument");
            jnode *val = jp_expression(p, true);
            if (!val || !jp_push(p, &args->pos, val))
                return false;
        }
    }
    advance(p);
    return true;
}

static jnode *subscript(jparser *p, jnode *obj) {
    int line = advance(p)->line; /* [ */
    jnode *parts[3] = {NULL, NULL, NULL};
    int nparts = 0;
    for (;;) {
        const jtok *t = jp_peek(p);
        if (!jp_is_op(t, ":") && !jp_is_op(t, "]")) {
            if (!(parts[nparts] = jp_expression(p, true)))
                return NULL;
        }
        if (!jp_is_op(jp_peek(p), ":"))
            break;
        if (++nparts == 3)
            return jp_fail(p, "too many ':' in slice"), NULL;
        advance(p);
    }
    if (!jp_expect_op(p, "]"))
        return NULL;
    if (nparts == 0) {
        if (!parts[0])
            return jp_fail(p, "expected a subscript"), NULL;
        return binary(p, JN_ITEM, 0, obj, parts[0], line);
    }
    jnode *n = jp_node(p, JN_SLICE, line);
    if (!n)
        return NULL;
    n->a = obj;
    n->b = parts[0];
    n->c = parts[1];
    if (parts[2] && !jp_push(p, &n->list, parts[2]))
        return NULL;
    return n;
}

static jnode *call(jparser *p, jnode *callee) {
    jnode *n = jp_node(p, JN_CALL, jp_peek(p)->line);
    if (!n)
        return NULL;
    n->a = callee;
    return jp_call_args(p, &n->args) ? n : NULL;
}

jnode *jp_postfix(jparser *p, jnode *node) {
    while (node) {
        const jtok *t = jp_peek(p);
        if (jp_is_op(t, ".")) {
            advance(p);
            const jtok *attr = jp_peek(p);
            if (attr->kind == JT_INT) {
                advance(p);
                node = binary(p, JN_ITEM, 0, node, lit(p, jv_int(attr->i), attr->line), attr->line);
                continue;
            }
            jnode *n = jp_node(p, JN_ATTR, t->line);
            if (!n || !(n->name = expect_name(p)))
                return NULL;
            n->a = node;
            node = n;
        } else if (jp_is_op(t, "[")) {
            node = subscript(p, node);
        } else if (jp_is_op(t, "(")) {
            node = call(p, node);
        } else {
            break;
        }
    }
    return node;
}

/* ---------------------------------------------------------------- filters and tests */

static const char *dotted_name(jparser *p) {
    const char *name = expect_name(p);
    while (name && jp_is_op(jp_peek(p), ".")) {
        advance(p);
        const char *more = expect_name(p);
        if (!more)
            return NULL;
        size_t a = strlen(name), b = strlen(more);
        char *joined = jarena_alloc(p->arena, a + b + 2);
        if (!joined)
            return NULL;
        memcpy(joined, name, a);
        joined[a] = '.';
        memcpy(joined + a + 1, more, b);
        name = joined;
    }
    return name;
}

static bool test_takes_bare_arg(const jtok *t) {
    if (t->kind == JT_NAME)
        return !jp_is_name(t, "else") && !jp_is_name(t, "or") && !jp_is_name(t, "and") &&
               !jp_is_name(t, "if") && !jp_is_name(t, "is");
    return t->kind == JT_STRING || t->kind == JT_INT || t->kind == JT_FLOAT ||
           jp_is_op(t, "[") || jp_is_op(t, "{");
}

static jnode *test(jparser *p, jnode *node) {
    int line = advance(p)->line; /* is */
    jnode *n = jp_node(p, JN_TEST, line);
    if (!n)
        return NULL;
    n->a = node;
    if (jp_is_name(jp_peek(p), "not")) {
        advance(p);
        n->negate = true;
    }
    if (!(n->name = dotted_name(p)))
        return NULL;
    const jtok *t = jp_peek(p);
    if (jp_is_op(t, "(")) {
        if (!jp_call_args(p, &n->args))
            return NULL;
    } else if (test_takes_bare_arg(t)) {
        jnode *arg = jp_postfix(p, jp_primary(p));
        if (!arg || !jp_push(p, &n->args.pos, arg))
            return NULL;
    }
    return n;
}

jnode *jp_filter_chain(jparser *p, jnode *node) {
    while (node) {
        const jtok *t = jp_peek(p);
        if (jp_is_op(t, "|")) {
            advance(p);
            jnode *n = jp_node(p, JN_FILTER, t->line);
            if (!n || !(n->name = dotted_name(p)))
                return NULL;
            n->a = node;
            if (jp_is_op(jp_peek(p), "(") && !jp_call_args(p, &n->args))
                return NULL;
            node = n;
        } else if (jp_is_name(t, "is")) {
            node = test(p, node);
        } else if (jp_is_op(t, "(")) {
            node = call(p, node);
        } else {
            break;
        }
    }
    return node;
}

/* ---------------------------------------------------------------- operators */

static bool deeper(jparser *p) {
    if (++p->depth > JINJA_MAX_PARSE_DEPTH)
        return jp_fail(p, "expression nested too deeply");
    return true;
}

static jnode *unary(jparser *p, bool with_filter) {
    const jtok *t = jp_peek(p);
    jnode *node;
    if (jp_is_op(t, "-") || jp_is_op(t, "+")) {
        if (!deeper(p))
            return NULL;
        advance(p);
        node = jp_node(p, jp_is_op(t, "-") ? JN_NEG : JN_POS, t->line);
        if (!node || !(node->a = unary(p, false)))
            return NULL;
        p->depth--;
    } else {
        node = jp_postfix(p, jp_primary(p));
    }
    return with_filter ? jp_filter_chain(p, node) : node;
}

static jnode *power(jparser *p) {
    jnode *a = unary(p, true);
    while (a && jp_is_op(jp_peek(p), "**")) {
        int line = advance(p)->line;
        a = binary(p, JN_BIN, JOP_POW, a, unary(p, true), line);
    }
    return a;
}

static jnode *math2(jparser *p) {
    static const char *const ops[] = {"*", "/", "//", "%"};
    static const jop codes[] = {JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD};
    jnode *a = power(p);
    while (a) {
        int k = 0;
        while (k < 4 && !jp_is_op(jp_peek(p), ops[k]))
            k++;
        if (k == 4)
            break;
        int line = advance(p)->line;
        a = binary(p, JN_BIN, codes[k], a, power(p), line);
    }
    return a;
}

static jnode *concat(jparser *p) {
    jnode *a = math2(p);
    while (a && jp_is_op(jp_peek(p), "~")) {
        int line = advance(p)->line;
        a = binary(p, JN_BIN, JOP_CONCAT, a, math2(p), line);
    }
    return a;
}

static jnode *math1(jparser *p) {
    jnode *a = concat(p);
    while (a && (jp_is_op(jp_peek(p), "+") || jp_is_op(jp_peek(p), "-"))) {
        const jtok *t = advance(p);
        a = binary(p, JN_BIN, jp_is_op(t, "+") ? JOP_ADD : JOP_SUB, a, concat(p), t->line);
    }
    return a;
}

static bool compare_op(jparser *p, jop *op) {
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    static const jop codes[] = {JOP_EQ, JOP_NE, JOP_LT, JOP_LE, JOP_GT, JOP_GE};
    const jtok *t = jp_peek(p);
    for (int k = 0; k < 6; k++)
        if (jp_is_op(t, ops[k])) {
            advance(p);
            *op = codes[k];
            return true;
        }
    if (jp_is_name(t, "in")) {
        advance(p);
        *op = JOP_IN;
        return true;
    }
    if (jp_is_name(t, "not") && p->pos + 1 < p->n && jp_is_name(&p->t[p->pos + 1], "in")) {
        advance(p);
        advance(p);
        *op = JOP_NOTIN;
        return true;
    }
    return false;
}

/* Chains (a < b < c) become (a < b) and (b < c); b is evaluated twice,
 * which is harmless for side-effect-free expressions. */
static jnode *compare(jparser *p) {
    jnode *a = math1(p), *result = a, *prev = a;
    jop op;
    bool chained = false;
    while (prev && compare_op(p, &op)) {
        int line = jp_peek(p)->line;
        jnode *b = math1(p);
        jnode *cmp = binary(p, JN_CMP, op, prev, b, line);
        result = chained ? binary(p, JN_AND, 0, result, cmp, line) : cmp;
        chained = true;
        prev = b;
    }
    return prev ? result : NULL;
}

static jnode *not_expr(jparser *p) {
    if (jp_is_name(jp_peek(p), "not")) {
        if (!deeper(p))
            return NULL;
        int line = advance(p)->line;
        jnode *n = jp_node(p, JN_NOT, line);
        if (!n || !(n->a = not_expr(p)))
            return NULL;
        p->depth--;
        return n;
    }
    return compare(p);
}

static jnode *and_expr(jparser *p) {
    jnode *a = not_expr(p);
    while (a && jp_is_name(jp_peek(p), "and")) {
        int line = advance(p)->line;
        a = binary(p, JN_AND, 0, a, not_expr(p), line);
    }
    return a;
}

static jnode *or_expr(jparser *p) {
    jnode *a = and_expr(p);
    while (a && jp_is_name(jp_peek(p), "or")) {
        int line = advance(p)->line;
        a = binary(p, JN_OR, 0, a, and_expr(p), line);
    }
    return a;
}

jnode *jp_expression(jparser *p, bool with_condexpr) {
    if (!deeper(p))
        return NULL;
    jnode *a = or_expr(p);
    while (with_condexpr && a && jp_is_name(jp_peek(p), "if")) {
        int line = advance(p)->line;
        jnode *n = jp_node(p, JN_COND, line);
        if (!n || !(n->a = or_expr(p)))
            return NULL;
        n->b = a;
        if (jp_is_name(jp_peek(p), "else")) {
            advance(p);
            if (!(n->c = jp_expression(p, true)))
                return NULL;
        }
        a = n;
    }
    p->depth--;
    return a;
}

static bool tuple_end(const jtok *t) {
    return t->kind == JT_VAR_END || t->kind == JT_BLOCK_END || t->kind == JT_EOF ||
           jp_is_op(t, ")") || jp_is_name(t, "recursive");
}

/* One expression, or a tuple when commas follow (`a, b` / `(a, b)`). */
jnode *jp_tuple(jparser *p, bool with_condexpr, bool allow_empty) {
    int line = jp_peek(p)->line;
    jnodes items = {0};
    bool is_tuple = false;
    for (;;) {
        if (items.n && !jp_expect_op(p, ","))
            return NULL;
        if (tuple_end(jp_peek(p)))
            break;
        jnode *e = jp_expression(p, with_condexpr);
        if (!e || !jp_push(p, &items, e))
            return NULL;
        if (!jp_is_op(jp_peek(p), ","))
            break;
        is_tuple = true;
    }
    if (!is_tuple && items.n == 1)
        return items.v[0];
    if (items.n == 0 && !allow_empty) {
        jp_fail(p, "expected an expression");
        return NULL;
    }
    jnode *n = jp_node(p, JN_TUPLE, line);
    if (n)
        n->list = items;
    return n;
}
