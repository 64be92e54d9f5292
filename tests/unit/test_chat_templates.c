/* test_chat_templates.c — the chat-template engine against Python Jinja2.
 *
 * Usage: test_chat_templates <source_dir> <shared_dir>
 *
 *   1. Every case file in <shared>/templates/cases/ (see
 *      <shared>/templates/README.md): the template is rendered with the
 *      case's messages, add_generation_prompt, bos/eos tokens, tools (null is
 *      None), documents = None and every member of `extra`, and must match
 *      `expected` byte for byte; cases with `error` must fail, and for
 *      TemplateError (raise_exception) with exactly that message.
 *   2. Small inline templates for corners the real templates do not reach:
 *      whitespace control, Python printing, filters, sandbox limits.
 * Known failures are listed in KNOWN_FAILURES with the reason; they are
 * reported but do not fail the test. Prints "N passed, M failed".
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/chat.h"

/* The shared cases were rendered with strftime_now frozen at
 * 2026-11-21 12:00:00 UTC (../shared/templates/README.md). */
#define CASES_NOW INT64_C(1795262400)

static int g_passed, g_failed, g_known;

/* Cases expected to fail, each with the reason. Empty: all pass. */
static const struct {
    const char *name;
    const char *reason;
} KNOWN_FAILURES[] = {
    {NULL, NULL},
};

static bool is_known_failure(const char *name) {
    for (size_t i = 0; KNOWN_FAILURES[i].name; i++)
        if (!strcmp(KNOWN_FAILURES[i].name, name))
            return true;
    return false;
}

static void record(const char *name, bool ok) {
    if (ok) {
        g_passed++;
    } else if (is_known_failure(name)) {
        g_known++;
    } else {
        g_failed++;
    }
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Print where two strings first differ, with a little context. */
static void show_diff(const char *want, const char *got) {
    size_t i = 0;
    while (want[i] && want[i] == got[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    fprintf(stderr, "    first difference at byte %zu\n    want: ", i);
    for (size_t k = from; want[k] && k < i + 60; k++)
        fputc(want[k] == '\n' ? '|' : want[k], stderr);
    fprintf(stderr, "\n    got:  ");
    for (size_t k = from; got[k] && k < i + 60; k++)
        fputc(got[k] == '\n' ? '|' : got[k], stderr);
    fprintf(stderr, "\n");
}

/* ---------------------------------------------------------------- case files */

static cJSON *case_vars(const cJSON *input) {
    cJSON *vars = cJSON_CreateObject();
    static const char *const names[] = {"messages", "add_generation_prompt", "bos_token",
                                        "eos_token", "tools"};
    for (size_t i = 0; vars && i < sizeof names / sizeof *names; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(input, names[i]);
        cJSON_AddItemToObject(vars, names[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    }
    cJSON_AddItemToObject(vars, "documents", cJSON_CreateNull());
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(input, "extra");
    for (const cJSON *e = extra ? extra->child : NULL; e; e = e->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(vars, e->string);
        cJSON_AddItemToObject(vars, e->string, cJSON_Duplicate(e, true));
    }
    return vars;
}

static bool run_case(const char *shared, const char *name, const cJSON *doc) {
    const cJSON *tname = cJSON_GetObjectItemCaseSensitive(doc, "template");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(doc, "input");
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(doc, "expected");
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *error_type = cJSON_GetObjectItemCaseSensitive(doc, "error_type");
    if (!cJSON_IsString(tname) || !input) {
        fprintf(stderr, "FAIL %s: malformed case file\n", name);
        return false;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/templates/jinja/%s", shared, tname->valuestring);
    size_t len;
    char *src = read_file(path, &len);
    if (!src) {
        fprintf(stderr, "FAIL %s: cannot read %s\n", name, path);
        return false;
    }
    umi_error err = {0};
    umi_chat_template *t;
    umi_status st = umi_chat_template_parse(src, len, &t, &err);
    free(src);
    if (st != UMI_OK) {
        fprintf(stderr, "FAIL %s: parse: %s\n", name, err.msg);
        return false;
    }
    cJSON *vars = case_vars(input);
    char *out = NULL;
    st = umi_chat_template_render(t, vars, CASES_NOW, &out, &err);
    cJSON_Delete(vars);
    umi_chat_template_free(t);
    bool ok;
    if (cJSON_IsString(error)) {
        bool exact = cJSON_IsString(error_type) && !strcmp(error_type->valuestring, "TemplateError");
        ok = st != UMI_OK && (!exact || (st == UMI_ERR_ARG && !strcmp(err.msg, error->valuestring)));
        if (!ok)
            fprintf(stderr, "FAIL %s: want error \"%s\", got %s\n", name, error->valuestring,
                    st == UMI_OK ? "success" : err.msg);
    } else if (st != UMI_OK) {
        ok = false;
        fprintf(stderr, "FAIL %s: %s\n", name, err.msg);
    } else {
        ok = cJSON_IsString(expected) && !strcmp(out, expected->valuestring);
        if (!ok) {
            fprintf(stderr, "FAIL %s: output differs\n", name);
            if (cJSON_IsString(expected))
                show_diff(expected->valuestring, out);
        }
    }
    free(out);
    return ok;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cases(const char *shared) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/templates/cases", shared);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "FAIL: cannot open %s\n", dir);
        g_failed++;
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json"))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 512;
            char **p = realloc(names, cap * sizeof *names);
            if (!p)
                break;
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *text = read_file(path, &len);
        cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
        free(text);
        char name[1024];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(names[i]) - 5), names[i]);
        if (!doc) {
            fprintf(stderr, "FAIL %s: cannot parse case file\n", name);
            record(name, false);
        } else {
            record(name, run_case(shared, name, doc));
            cJSON_Delete(doc);
        }
        free(names[i]);
    }
    free(names);
}

/* ---------------------------------------------------------------- inline templates */

/* Render src with vars given as JSON text; want_out NULL means "must fail",
 * and then want_err (if non-NULL) must be a substring of the message. */
static void check_inline(const char *src, const char *vars_json, const char *want_out,
                         const char *want_err) {
    umi_error err = {0};
    umi_chat_template *t;
    char *out = NULL;
    umi_status st = umi_chat_template_parse(src, strlen(src), &t, &err);
    if (st == UMI_OK) {
        cJSON *vars = cJSON_Parse(vars_json ? vars_json : "{}");
        st = umi_chat_template_render(t, vars, CASES_NOW, &out, &err);
        cJSON_Delete(vars);
        umi_chat_template_free(t);
    }
    bool ok;
    if (want_out)
        ok = st == UMI_OK && !strcmp(out, want_out);
    else
        ok = st != UMI_OK && (!want_err || strstr(err.msg, want_err));
    if (!ok) {
        fprintf(stderr, "FAIL inline: %.200s\n    want: %s\n    got:  %s\n", src,
                want_out ? want_out : want_err ? want_err : "(an error)",
                st == UMI_OK ? out : err.msg);
    }
    record("inline", ok);
    free(out);
}

static void test_inline(void) {
    /* whitespace control */
    check_inline("a\n  {% if true %}\n  b\n  {% endif %}\nc\n", NULL, "a\n  b\nc", NULL);
    check_inline("a  {%- if true -%}  b  {%- endif %}", NULL, "ab", NULL);
    check_inline("x\n    {%+ if true %}y{% endif %}", NULL, "x\n    y", NULL);
    check_inline("{# c #}\nz{{- ' ' -}}\nw", NULL, "z w", NULL);
    check_inline("{% if true +%}\nkept{% endif %}", NULL, "\nkept", NULL);
    check_inline("a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", NULL, "a\nb\n", NULL);
    check_inline("{% raw %}{{ x }}{% endraw %}", NULL, "{{ x }}", NULL);
    /* printing values as Python does */
    check_inline("{{ [1, 'a', none, true, 1.5, {'k': \"it's\"}] }}", NULL,
                 "[1, 'a', None, True, 1.5, {'k': \"it's\"}]", NULL);
    check_inline("{{ 1e20 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}",
                 NULL, "1e+20 0.30000000000000004 2.5 3 2 1024", NULL);
    check_inline("{{ (1,) }}{{ x }}{{ x is defined }}", NULL, "(1,)False", NULL);
    /* strings */
    check_inline("{{ 'a,b,,c'.split(',') }} {{ '  x y  '.split() }} {{ 'a-b-c'.split('-', 1) }}",
                 NULL, "['a', 'b', '', 'c'] ['x', 'y'] ['a', 'b-c']", NULL);
    check_inline("{{ 'xxhixx'.strip('x') }}|{{ 'hello'[1:-1] }}|{{ 'abc'[::-1] }}|{{ 'ü🚀x'[1] }}",
                 NULL, "hi|ell|cba|🚀", NULL);
    check_inline("{{ '{} and {name}'.format(1, name='x') }}", NULL, "1 and x", NULL);
    check_inline("{{ 'hello world' | title }} {{ 'hELLO' | capitalize }} {{ 'ab' | center(6) }}|",
                 NULL, "Hello World Hello   ab  |", NULL);
    check_inline("{{ 'a\nb\n\nc' | indent(2) }}", NULL, "a\n  b\n\n  c", NULL);
    /* filters on sequences */
    check_inline("{{ [3, 1, 2] | sort | join(',') }} {{ ['b', 'A', 'c'] | sort | list }}", NULL,
                 "1,2,3 ['A', 'b', 'c']", NULL);
    check_inline("{{ {'b': 1, 'a': 2} | dictsort }} {{ [1, 2, 3, 4] | select('even') | list }}",
                 NULL, "[('a', 2), ('b', 1)] [2, 4]", NULL);
    check_inline("{{ x | map(attribute='n') | list }} {{ x | selectattr('n', 'gt', 1) | list | length }}",
                 "{\"x\": [{\"n\": 1}, {\"n\": 2}]}", "[1, 2] 1", NULL);
    check_inline("{{ {'a': [1, 'é'], 'b': none} | tojson }}|{{ [1, {}] | tojson(indent=2) }}", NULL,
                 "{\"a\": [1, \"é\"], \"b\": null}|[\n  1,\n  {}\n]", NULL);
    check_inline("{{ 'é' | tojson(ensure_ascii=true) }}", NULL, "\"\\u00e9\"", NULL);
    check_inline("{{ [1, 2] | map('string') | tojson }}", NULL, NULL, "JSON serializable");
    /* expressions and small filters */
    check_inline("{{ 'a' if false }}|{{ {'a': 1}.get('b', 2) }}|{{ [1, 2, 3][-1] }}|{{ [1, 2, 3][1:] }}",
                 NULL, "|2|3|[2, 3]", NULL);
    check_inline("{{ x | default('d') }}|{{ y | default('d') }}|{{ '' | default('e', true) }}",
                 "{\"x\": null}", "None|d|e", NULL);
    check_inline("{{ 3 is divisibleby 3 }}{{ 'a' in ['a'] }}{{ -1 | abs }}{{ [1, 2] | sum }}"
                 "{{ 'x' * 3 }}{{ [3, 1] | max }}{{ true | string }}{{ 5 / 2 | int }}",
                 NULL, "TrueTrue13xxx3True2.5", NULL);
    check_inline("{{ 1.5 | round }} {{ 2.5 | round }} {{ 2.675 | round(2) }} {{ 3 | round }}", NULL,
                 "2.0 2.0 2.67 3", NULL);
    check_inline("{{ '%s-%s' | format(1, 'a') }}|{{ 'a b c' | wordcount }}|{{ range(3) | list }}"
                 "|{{ dict(a=1) }}|{{ x is none }}|{{ x is iterable }}",
                 NULL, "1-a|3|[0, 1, 2]|{'a': 1}|False|True", NULL);
    check_inline("{% set a, b = [1, 2] %}{{ b }}{{ loop }}{% for c in 'ab' %}{{ loop.previtem }}"
                 "{{ c }}{{ loop.nextitem }};{% endfor %}",
                 NULL, "2ab;ab;", NULL);
    check_inline("{{ '<a>' | safe + '<b>' }} {{ '<a>' | e }} {{ 'x' ~ '<' | safe }}", NULL,
                 "<a>&lt;b&gt; &lt;a&gt; x<", NULL);
    check_inline("{{ 'Hello World' .lower().startswith(('x', 'he')) }}{{ 'a.b.c'.rsplit('.', 1) }}",
                 NULL, "True['a.b', 'c']", NULL);
    /* statements */
    check_inline("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ loop.index }}{{ k }}{{ v }}"
                 "{% if not loop.last %},{% endif %}{% endfor %}",
                 NULL, "1a1,2b2", NULL);
    check_inline("{% for i in range(10) if i is odd %}{% if i > 6 %}{% break %}{% endif %}"
                 "{{ i }}{{ loop.length }} {% else %}none{% endfor %}",
                 NULL, "15 35 55 ", NULL);
    check_inline("{% set ns = namespace(n=0) %}{% for i in [1, 2] %}{% set ns.n = ns.n + i %}"
                 "{% set local = 1 %}{% endfor %}{{ ns.n }}{{ local is defined }}",
                 NULL, "3False", NULL);
    check_inline("{% macro m(a, b=2) %}{{ a }}{{ b }}{{ caller() if caller else '' }}{% endmacro %}"
                 "{{ m(1) }}{% call m(3, b=4) %}C{% endcall %}",
                 NULL, "1234C", NULL);
    check_inline("{% set x %}  body {% endset %}[{{ x }}]{% filter upper %}up{% endfilter %}", NULL,
                 "[  body ]UP", NULL);
    check_inline("{% generation %}{% set g = 1 %}gen{% endgeneration %}{{ g is defined }}", NULL,
                 "genFalse", NULL);
    check_inline("{{ strftime_now('%d %b %Y') }}", NULL, "21 Nov 2026", NULL);
    /* errors */
    check_inline("{{ raise_exception('bad ' ~ 1) }}", NULL, NULL, "bad 1");
    check_inline("{% set l = [] %}{{ l.append(1) }}", NULL, NULL, "unsafe");
    check_inline("{{ x.y }}", NULL, NULL, "undefined");
    check_inline("{{ 1 + 'a' }}", NULL, NULL, "line 1");
    check_inline("line1\n{{ 1 +\n 'a' }}", NULL, NULL, "line 2");
    check_inline("{{ x | no_such_filter }}", NULL, NULL, "no_such_filter");
    check_inline("{% for %}", NULL, NULL, "line 1");
    check_inline("{% if x %}", NULL, NULL, "endif");
    /* sandbox bounds: no hang, no crash */
    check_inline("{% for i in range(100000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
                 NULL, NULL, "loop iterations");
    check_inline("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}", NULL, NULL, "nested");
    check_inline("{{ 1 ** 1000000000000 }} {{ 2 ** 62 }}", NULL, "1 4611686018427387904", NULL);
    check_inline("{{ 2 ** 64 }}", NULL, NULL, "overflow");
    {
        /* 50k-term sums and 10k nested parentheses: an error, not a stack overflow */
        static char deep[120000];
        size_t w = 0;
        w += (size_t)snprintf(deep + w, sizeof deep - w, "{{ 1");
        for (int i = 0; i < 50000; i++)
            deep[w++] = '+', deep[w++] = '1';
        snprintf(deep + w, sizeof deep - w, " }}");
        check_inline(deep, NULL, NULL, "nested");
        w = (size_t)snprintf(deep, sizeof deep, "{{ ");
        for (int i = 0; i < 10000; i++)
            deep[w++] = '(';
        deep[w++] = '1';
        for (int i = 0; i < 10000; i++)
            deep[w++] = ')';
        snprintf(deep + w, sizeof deep - w, " }}");
        check_inline(deep, NULL, NULL, "nested");
        w = (size_t)snprintf(deep, sizeof deep, "{{ ");
        for (int i = 0; i < 10000; i++)
            w += (size_t)snprintf(deep + w, sizeof deep - w, "not -");
        snprintf(deep + w, sizeof deep - w, "1 }}");
        check_inline(deep, NULL, NULL, "nested");
    }
    check_inline("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                 "{% endfor %}",
                 NULL, NULL, NULL);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s <source_dir> <shared_dir>\n", argv[0]);
        return 2;
    }
    test_cases(argv[2]);
    test_inline();
    for (size_t i = 0; KNOWN_FAILURES[i].name; i++)
        fprintf(stderr, "known failure %s: %s\n", KNOWN_FAILURES[i].name, KNOWN_FAILURES[i].reason);
    printf("%d passed, %d failed (%d known failures)\n", g_passed, g_failed, g_known);
    return g_failed ? 1 : 0;
}
