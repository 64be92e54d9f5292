/* tests.c — `x is name(args)` tests.
 *
 * Python's type model shows through: booleans are numbers (`true is
 * number`), but not integers for Jinja's `integer` test; strings, lists,
 * dicts and Undefined are iterable, None is not; only dicts are mappings.
 */
#include "chat/jinja.h"

#include <string.h>

static bool need_arg(jctx *c, const char *name, const jcall *args, jv *out) {
    if (!jcall_arg(args, 0, NULL, out))
        return jfail(c, JERR_TYPE, "test '%s' needs an argument", name);
    return true;
}

static bool str_cased(jv v, bool upper) {
    if (v.kind != JV_STR)
        return false;
    bool any = false;
    for (size_t i = 0; i < v.n; i++) {
        char ch = v.u.s[i];
        if ((upper && ch >= 'a' && ch <= 'z') || (!upper && ch >= 'A' && ch <= 'Z'))
            return false;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            any = true;
    }
    return any;
}

/* Tests comparing against an argument. Returns false when name is none. */
static bool compare_test(jctx *c, const char *name, jv v, const jcall *args, bool *out, bool *ok) {
    static const struct {
        const char *name;
        jop op;
    } ops[] = {{"eq", JOP_EQ}, {"equalto", JOP_EQ}, {"==", JOP_EQ}, {"ne", JOP_NE}, {"!=", JOP_NE},
               {"lt", JOP_LT}, {"lessthan", JOP_LT}, {"<", JOP_LT}, {"le", JOP_LE}, {"<=", JOP_LE},
               {"gt", JOP_GT}, {"greaterthan", JOP_GT}, {">", JOP_GT}, {"ge", JOP_GE}, {">=", JOP_GE},
               {"in", JOP_IN}, {"sameas", JOP_EQ}};
    size_t k = 0;
    while (k < sizeof ops / sizeof *ops && strcmp(ops[k].name, name) != 0)
        k++;
    if (k == sizeof ops / sizeof *ops)
        return false;
    jv arg;
    int cmp;
    *ok = need_arg(c, name, args, &arg);
    if (!*ok)
        return true;
    switch (ops[k].op) {
    case JOP_EQ:
        /* sameas is identity: equal scalars of the same kind are the same object */
        *out = jv_equal(v, arg) && (strcmp(name, "sameas") != 0 || v.kind == arg.kind);
        break;
    case JOP_NE: *out = !jv_equal(v, arg); break;
    case JOP_IN: *ok = jv_contains(c, arg, v, out); break;
    default:
        *ok = jv_compare(c, v, arg, &cmp);
        *out = ops[k].op == JOP_LT ? cmp < 0 : ops[k].op == JOP_LE ? cmp <= 0
             : ops[k].op == JOP_GT ? cmp > 0 : cmp >= 0;
    }
    return true;
}

static bool number_test(jctx *c, const char *name, jv v, const jcall *args, bool *out, bool *ok) {
    *ok = true;
    if (!strcmp(name, "even") || !strcmp(name, "odd")) {
        if (v.kind != JV_INT && v.kind != JV_BOOL)
            return *ok = jfail(c, JERR_TYPE, "test '%s' needs an integer", name), true;
        int64_t i = v.kind == JV_BOOL ? v.u.b : v.u.i;
        *out = (i % 2 == 0) == (name[0] == 'e');
        return true;
    }
    if (!strcmp(name, "divisibleby")) {
        jv d;
        if (!(*ok = need_arg(c, name, args, &d)))
            return true;
        if (!jv_is_num(v) || !jv_is_num(d) || jv_num(d) == 0)
            return *ok = jfail(c, JERR_TYPE, "divisibleby needs non-zero numbers"), true;
        double q = jv_num(v) / jv_num(d);
        *out = q == (double)(int64_t)q;
        return true;
    }
    return false;
}

bool japply_test(jctx *c, const char *name, jv v, const jcall *args, bool *out) {
    bool ok;
    if (compare_test(c, name, v, args, out, &ok) || number_test(c, name, v, args, out, &ok))
        return ok;
    jkind k = v.kind;
    if (!strcmp(name, "defined")) *out = k != JV_UNDEF;
    else if (!strcmp(name, "undefined")) *out = k == JV_UNDEF;
    else if (!strcmp(name, "none")) *out = k == JV_NONE;
    else if (!strcmp(name, "string")) *out = k == JV_STR;
    else if (!strcmp(name, "number")) *out = jv_is_num(v);
    else if (!strcmp(name, "integer")) *out = k == JV_INT;
    else if (!strcmp(name, "float")) *out = k == JV_FLOAT;
    else if (!strcmp(name, "boolean")) *out = k == JV_BOOL;
    else if (!strcmp(name, "true")) *out = k == JV_BOOL && v.u.b;
    else if (!strcmp(name, "false")) *out = k == JV_BOOL && !v.u.b;
    else if (!strcmp(name, "mapping")) *out = k == JV_DICT && !(v.flags & JV_F_NAMESPACE);
    else if (!strcmp(name, "iterable"))
        *out = k == JV_UNDEF || k == JV_STR || k == JV_LIST || (k == JV_DICT && !(v.flags & JV_F_NAMESPACE));
    else if (!strcmp(name, "sequence"))
        *out = k == JV_UNDEF || k == JV_STR || (k == JV_LIST && !(v.flags & JV_F_GEN)) ||
               (k == JV_DICT && !(v.flags & JV_F_NAMESPACE));
    else if (!strcmp(name, "callable")) *out = k == JV_FUNC;
    else if (!strcmp(name, "lower")) *out = str_cased(v, false);
    else if (!strcmp(name, "upper")) *out = str_cased(v, true);
    else if (!strcmp(name, "escaped")) *out = false;
    else
        return jfail(c, JERR_SYNTAX, "no test named '%s'", name);
    return true;
}
