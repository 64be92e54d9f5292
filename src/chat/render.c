/* render.c — the public entry points: parse, render, free.
 *
 * Variables arrive as cJSON (which keeps object key order, as tojson and
 * .items() need) and are converted into render-arena values once.
 */
#include "chat/chat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja.h"

struct umi_chat_template {
    jtemplate t;
};

/* 1 MiB of AST per 10 KB of source is far beyond any real template. */
#define JINJA_MAX_TEMPLATE_ARENA (256u << 20)

umi_status umi_chat_template_parse(const char *src, size_t len, umi_chat_template **out,
                                   umi_error *err) {
    *out = NULL;
    if (!src && len)
        return umi_err(err, UMI_ERR_ARG, "chat template: NULL source");
    umi_chat_template *ct = calloc(1, sizeof *ct);
    if (!ct)
        return umi_err(err, UMI_ERR_NOMEM, "chat template: out of memory");
    jarena_init(&ct->t.arena, JINJA_MAX_TEMPLATE_ARENA);
    jerror e = {0};
    if (!jinja_parse(&ct->t, src ? src : "", len, &e)) {
        umi_chat_template_free(ct);
        if (e.kind == JERR_NOMEM)
            return umi_err(err, UMI_ERR_NOMEM, "chat template: out of memory");
        return umi_err(err, UMI_ERR_FORMAT, "chat template %s", e.msg);
    }
    *out = ct;
    return UMI_OK;
}

void umi_chat_template_free(umi_chat_template *t) {
    if (!t)
        return;
    jarena_free(&t->t.arena);
    free(t);
}

/* ---------------------------------------------------------------- JSON to values */

static bool from_json(jctx *c, const cJSON *j, jv *out, int depth) {
    if (depth > JINJA_MAX_PARSE_DEPTH)
        return jfail(c, JERR_LIMIT, "variables nested too deeply");
    if (cJSON_IsNull(j)) {
        *out = jv_none();
    } else if (cJSON_IsBool(j)) {
        *out = jv_bool(cJSON_IsTrue(j));
    } else if (cJSON_IsNumber(j)) {
        double d = j->valuedouble;
        bool integral = isfinite(d) && d == floor(d) && fabs(d) < 9.0e18;
        *out = integral ? jv_int((int64_t)d) : jv_float(d);
    } else if (cJSON_IsString(j)) {
        *out = jv_str(j->valuestring, strlen(j->valuestring)); /* vars outlive the render */
    } else if (cJSON_IsArray(j)) {
        jlist *l = jlist_new(c, (size_t)cJSON_GetArraySize(j));
        if (!l)
            return false;
        for (const cJSON *e = j->child; e; e = e->next)
            if (!from_json(c, e, &l->v[l->n++], depth + 1))
                return false;
        *out = jv_list(l, 0);
    } else if (cJSON_IsObject(j)) {
        jdict *d = jdict_new(c);
        if (!d)
            return false;
        for (const cJSON *e = j->child; e; e = e->next) {
            jv v;
            if (!from_json(c, e, &v, depth + 1) || !jdict_set(c, d, jv_cstr(e->string), v))
                return false;
        }
        *out = jv_dict(d, 0);
    } else {
        *out = jv_none();
    }
    return true;
}

static bool setup(jctx *c, const cJSON *vars) {
    c->root = jscope_new(c, NULL);
    if (!c->root || !jglobals_install(c, c->root))
        return false;
    c->scope = c->root;
    if (!cJSON_IsObject(vars))
        return true;
    for (const cJSON *e = vars->child; e; e = e->next) {
        jv v;
        if (!e->string || !from_json(c, e, &v, 0) || !jscope_set(c, c->root, e->string, v))
            return false;
    }
    return true;
}

static umi_status report(const jctx *c, umi_error *err) {
    switch (c->err.kind) {
    case JERR_RAISED: return umi_err(err, UMI_ERR_ARG, "%s", c->err.msg);
    case JERR_NOMEM: return umi_err(err, UMI_ERR_NOMEM, "chat template: out of memory");
    default:
        return umi_err(err, UMI_ERR_FORMAT, "chat template line %d: %s", c->err.line, c->err.msg);
    }
}

umi_status umi_chat_template_render(const umi_chat_template *t, const cJSON *vars, int64_t now,
                                    char **out, umi_error *err) {
    *out = NULL;
    if (!t)
        return umi_err(err, UMI_ERR_ARG, "chat template: NULL template");
    jctx c = {0};
    jbuf buf = {0};
    jarena_init(&c.arena, JINJA_MAX_ARENA);
    c.out = &buf;
    c.line = 1;
    c.now = now;
    bool ok = setup(&c, vars) && jexec_body(&c, c.root, &t->t.body) != JFLOW_ERR;
    umi_status st = UMI_OK;
    if (ok && !buf.p) {
        buf.p = malloc(1);
        if (buf.p)
            buf.p[0] = '\0';
        else
            ok = jfail_nomem(&c);
    }
    if (ok) {
        *out = buf.p;
    } else {
        if (c.err.kind == JERR_NONE)
            jfail(&c, JERR_TYPE, "rendering failed");
        st = report(&c, err);
        jbuf_free(&buf);
    }
    jarena_free(&c.arena);
    return st;
}
