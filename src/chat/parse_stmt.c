/* parse_stmt.c — statements and the template as a whole.
 *
 * Supported tags: if/elif/else, for (with `if` filter and else), set (plain,
 * namespace attribute, tuple unpacking, block form with filters), macro,
 * call, filter, with, break/continue (the loopcontrols extension) and
 * transformers' generation block. raw is handled by the lexer. Template
 * inheritance and includes are not: chat templates are single files.
 */
#include "chat/jinja.h"

#include <stdlib.h>
#include <string.h>

static bool parse_body(jparser *p, jnodes *body, const char *const *stops, const char **which);

static const jtok *advance(jparser *p) {
    const jtok *t = jp_peek(p);
    if (p->pos < p->n - 1)
        p->pos++;
    return t;
}

static bool expect_block_end(jparser *p) {
    if (jp_peek(p)->kind != JT_BLOCK_END)
        return jp_fail(p, "expected end of block tag '%%}'");
    advance(p);
    return true;
}

static bool expect_name_kw(jparser *p, const char *kw) {
    if (!jp_is_name(jp_peek(p), kw))
        return jp_fail(p, "expected '%s'", kw);
    advance(p);
    return true;
}

static jnode *name_node(jparser *p) {
    const jtok *t = jp_peek(p);
    if (t->kind != JT_NAME) {
        jp_fail(p, "expected a name");
        return NULL;
    }
    advance(p);
    jnode *n = jp_node(p, JN_NAME, t->line);
    if (n && !(n->name = jp_strdup(p, t->s, t->n)))
        return NULL;
    return n;
}

/* Assignment target: `x`, `a, b` or (for set) `ns.attr`. */
static jnode *parse_target(jparser *p, bool with_namespace) {
    bool paren = jp_is_op(jp_peek(p), "(");
    if (paren)
        advance(p);
    jnode *first = name_node(p);
    if (!first)
        return NULL;
    if (with_namespace && !paren && jp_is_op(jp_peek(p), ".")) {
        advance(p);
        jnode *attr = jp_node(p, JN_ATTR, first->line);
        jnode *name = attr ? name_node(p) : NULL;
        if (!name)
            return NULL;
        attr->a = first;
        attr->name = name->name;
        return attr;
    }
    if (!jp_is_op(jp_peek(p), ",")) {
        if (paren && !jp_expect_op(p, ")"))
            return NULL;
        return first;
    }
    jnode *tuple = jp_node(p, JN_TUPLE, first->line);
    if (!tuple || !jp_push(p, &tuple->list, first))
        return NULL;
    while (jp_is_op(jp_peek(p), ",")) {
        advance(p);
        if (jp_peek(p)->kind != JT_NAME)
            break;
        jnode *n = name_node(p);
        if (!n || !jp_push(p, &tuple->list, n))
            return NULL;
    }
    if (paren && !jp_expect_op(p, ")"))
        return NULL;
    return tuple;
}

/* ---------------------------------------------------------------- block statements */

static const char *const STOP_ENDFOR[] = {"endfor", "else", NULL};
static const char *const STOP_ENDFOR_ONLY[] = {"endfor", NULL};
static const char *const STOP_IF[] = {"endif", "elif", "else", NULL};
static const char *const STOP_ENDIF[] = {"endif", NULL};

static bool parse_for(jparser *p, jnode *n) {
    if (!(n->a = parse_target(p, false)) || !expect_name_kw(p, "in") ||
        !(n->b = jp_tuple(p, false, false)))
        return false;
    if (jp_is_name(jp_peek(p), "if")) {
        advance(p);
        if (!(n->c = jp_expression(p, true)))
            return false;
    }
    if (jp_is_name(jp_peek(p), "recursive"))
        return jp_fail(p, "recursive for loops are not supported");
    const char *which;
    if (!expect_block_end(p) || !parse_body(p, &n->list, STOP_ENDFOR, &which))
        return false;
    if (strcmp(which, "else") == 0 &&
        (!expect_block_end(p) || !parse_body(p, &n->list2, STOP_ENDFOR_ONLY, &which)))
        return false;
    return expect_block_end(p);
}

static bool parse_if(jparser *p, jnode *n) {
    if (!(n->a = jp_tuple(p, false, false)) || !expect_block_end(p))
        return false;
    const char *which;
    if (!parse_body(p, &n->list, STOP_IF, &which))
        return false;
    if (strcmp(which, "elif") == 0) {
        jnode *elif = jp_node(p, JN_IF, jp_peek(p)->line);
        return elif && jp_push(p, &n->list2, elif) && parse_if(p, elif);
    }
    if (strcmp(which, "else") == 0 &&
        (!expect_block_end(p) || !parse_body(p, &n->list2, STOP_ENDIF, &which)))
        return false;
    return expect_block_end(p);
}

/* `trim | upper(args)` after {% filter %} or {% set x | ... %}: the chain
 * applies to a JN_BODY placeholder that stands for the rendered body. */
static jnode *parse_block_filters(jparser *p, bool leading_pipe) {
    jnode *node = jp_node(p, JN_BODY, jp_peek(p)->line);
    if (!node)
        return NULL;
    if (!leading_pipe) {
        jnode *f = jp_node(p, JN_FILTER, jp_peek(p)->line);
        jnode *name = f ? name_node(p) : NULL;
        if (!name)
            return NULL;
        f->name = name->name;
        f->a = node;
        if (jp_is_op(jp_peek(p), "(") && !jp_call_args(p, &f->args))
            return NULL;
        node = f;
    }
    return jp_filter_chain(p, node);
}

static bool parse_set(jparser *p, jnode *n) {
    if (!(n->a = parse_target(p, true)))
        return false;
    if (jp_is_op(jp_peek(p), "=")) {
        advance(p);
        return (n->b = jp_tuple(p, true, false)) && expect_block_end(p);
    }
    n->kind = JN_SETBLOCK;
    if (n->a->kind != JN_NAME && n->a->kind != JN_ATTR)
        return jp_fail(p, "block set needs a single target");
    if (jp_is_op(jp_peek(p), "|") && !(n->c = parse_block_filters(p, true)))
        return false;
    static const char *const stops[] = {"endset", NULL};
    const char *which;
    return expect_block_end(p) && parse_body(p, &n->list, stops, &which) && expect_block_end(p);
}

/* Macro and caller parameters: names with optional default expressions. */
static bool parse_params(jparser *p, jargs *params) {
    if (!jp_expect_op(p, "("))
        return false;
    size_t count = 0;
    while (!jp_is_op(jp_peek(p), ")")) {
        if (count && !jp_expect_op(p, ","))
            return false;
        jnode *name = name_node(p);
        if (!name)
            return false;
        jnode *def = NULL;
        if (jp_is_op(jp_peek(p), "=")) {
            advance(p);
            if (!(def = jp_expression(p, true)))
                return false;
        }
        const char **names = jarena_alloc(p->arena, (count + 1) * sizeof *names);
        if (!names)
            return jp_fail(p, "out of memory");
        if (count)
            memcpy(names, params->kw_names, count * sizeof *names);
        names[count++] = name->name;
        params->kw_names = names;
        if (!jp_push(p, &params->kw, def))
            return false;
    }
    advance(p);
    return true;
}

static bool parse_macro(jparser *p, jnode *n) {
    jnode *name = name_node(p);
    if (!name)
        return false;
    n->name = name->name;
    static const char *const stops[] = {"endmacro", NULL};
    const char *which;
    return parse_params(p, &n->args) && expect_block_end(p) &&
           parse_body(p, &n->list, stops, &which) && expect_block_end(p);
}

static bool parse_call_block(jparser *p, jnode *n) {
    if (jp_is_op(jp_peek(p), "(") && !parse_params(p, &n->args))
        return false;
    if (!(n->a = jp_expression(p, true)))
        return false;
    if (n->a->kind != JN_CALL)
        return jp_fail(p, "expected a call after {%% call %%}");
    static const char *const stops[] = {"endcall", NULL};
    const char *which;
    return expect_block_end(p) && parse_body(p, &n->list, stops, &which) && expect_block_end(p);
}

static bool parse_filter_block(jparser *p, jnode *n) {
    static const char *const stops[] = {"endfilter", NULL};
    const char *which;
    return (n->a = parse_block_filters(p, false)) && expect_block_end(p) &&
           parse_body(p, &n->list, stops, &which) && expect_block_end(p);
}

/* {% with a = 1, b = x %}: assignments (list2) visible only in the body. */
static bool parse_with(jparser *p, jnode *n) {
    while (jp_peek(p)->kind != JT_BLOCK_END) {
        if (n->list2.n && !jp_expect_op(p, ","))
            return false;
        jnode *set = jp_node(p, JN_SET, jp_peek(p)->line);
        if (!set || !(set->a = parse_target(p, false)) || !jp_expect_op(p, "=") ||
            !(set->b = jp_expression(p, true)) || !jp_push(p, &n->list2, set))
            return false;
    }
    static const char *const stops[] = {"endwith", NULL};
    const char *which;
    return expect_block_end(p) && parse_body(p, &n->list, stops, &which) && expect_block_end(p);
}

static bool parse_scope(jparser *p, jnode *n, const char *end) {
    const char *const stops[] = {end, NULL};
    const char *which;
    return expect_block_end(p) && parse_body(p, &n->list, stops, &which) && expect_block_end(p);
}

static jnode *parse_statement(jparser *p) {
    const jtok *t = jp_peek(p);
    if (t->kind != JT_NAME) {
        jp_fail(p, "expected a tag name");
        return NULL;
    }
    advance(p);
    static const struct {
        const char *name;
        jnode_kind kind;
    } tags[] = {
        {"for", JN_FOR},       {"if", JN_IF},           {"set", JN_SET},
        {"macro", JN_MACRO},   {"call", JN_CALLBLOCK},  {"filter", JN_FILTERBLOCK},
        {"break", JN_BREAK},   {"continue", JN_CONTINUE}, {"generation", JN_SCOPE},
        {"with", JN_SCOPE},
    };
    size_t k = 0;
    while (k < sizeof tags / sizeof *tags && !jp_is_name(t, tags[k].name))
        k++;
    if (k == sizeof tags / sizeof *tags) {
        jp_fail(p, "unknown or unsupported tag '%.*s'", (int)t->n, t->s);
        return NULL;
    }
    jnode *n = jp_node(p, tags[k].kind, t->line);
    if (!n)
        return NULL;
    bool ok;
    switch (tags[k].kind) {
    case JN_FOR: ok = parse_for(p, n); break;
    case JN_IF: ok = parse_if(p, n); break;
    case JN_SET: ok = parse_set(p, n); break;
    case JN_MACRO: ok = parse_macro(p, n); break;
    case JN_CALLBLOCK: ok = parse_call_block(p, n); break;
    case JN_FILTERBLOCK: ok = parse_filter_block(p, n); break;
    case JN_SCOPE:
        ok = jp_is_name(t, "with") ? parse_with(p, n) : parse_scope(p, n, "endgeneration");
        break;
    default: ok = expect_block_end(p); break;
    }
    return ok ? n : NULL;
}

/* ---------------------------------------------------------------- bodies */

static bool is_stop(const jtok *t, const char *const *stops, const char **which) {
    for (size_t i = 0; stops && stops[i]; i++)
        if (jp_is_name(t, stops[i])) {
            *which = stops[i];
            return true;
        }
    return false;
}

/* Parse nodes until a block tag named in stops; on return the tag's name is
 * consumed and *which names it. With stops == NULL, parse to the end. */
static bool parse_body(jparser *p, jnodes *body, const char *const *stops, const char **which) {
    if (++p->depth > JINJA_MAX_PARSE_DEPTH)
        return jp_fail(p, "blocks nested too deeply");
    for (;;) {
        const jtok *t = jp_peek(p);
        jnode *n = NULL;
        if (t->kind == JT_EOF) {
            if (stops)
                return jp_fail(p, "unexpected end of template, expected '%s'", stops[0]);
            break;
        }
        if (t->kind == JT_TEXT) {
            advance(p);
            if (!(n = jp_node(p, JN_TEXT, t->line)))
                return false;
            n->lit = jv_str(t->s, t->n);
        } else if (t->kind == JT_VAR_BEGIN) {
            advance(p);
            if (!(n = jp_node(p, JN_PRINT, t->line)) || !(n->a = jp_tuple(p, true, false)))
                return false;
            if (jp_peek(p)->kind != JT_VAR_END)
                return jp_fail(p, "expected end of print tag '}}'");
            advance(p);
        } else if (t->kind == JT_BLOCK_BEGIN) {
            advance(p);
            if (is_stop(jp_peek(p), stops, which)) {
                advance(p);
                break;
            }
            if (!(n = parse_statement(p)))
                return false;
        } else {
            return jp_fail(p, "unexpected token");
        }
        if (!jp_push(p, body, n))
            return false;
    }
    p->depth--;
    return true;
}

/* Jinja normalizes line endings to \n and, without keep_trailing_newline,
 * drops one trailing newline of the source. */
static char *normalize(jarena *a, const char *src, size_t len, size_t *out_len) {
    char *s = jarena_alloc(a, len + 1);
    if (!s)
        return NULL;
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            s[w++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n')
                i++;
        } else {
            s[w++] = src[i];
        }
    }
    if (w > 0 && s[w - 1] == '\n')
        w--;
    *out_len = w;
    return s;
}

bool jinja_parse(jtemplate *t, const char *src, size_t len, jerror *err) {
    size_t n;
    char *s = normalize(&t->arena, src, len, &n);
    if (!s) {
        err->kind = JERR_NOMEM;
        strcpy(err->msg, "out of memory");
        return false;
    }
    jtoks toks = {0};
    bool ok = jinja_lex(s, n, &t->arena, &toks, err);
    if (ok) {
        jparser p = {.t = toks.v, .n = toks.n, .arena = &t->arena, .err = err};
        ok = parse_body(&p, &t->body, NULL, NULL);
    }
    free(toks.v);
    return ok;
}
