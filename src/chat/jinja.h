/* jinja.h — internals of the chat-template interpreter (a Jinja2 subset).
 *
 * Shared by the files of src/chat/ only; the public entry is chat.h.
 *
 * Memory: everything a template owns (normalized source, AST, literal
 * strings) lives in the template's arena; everything a render creates
 * (values, scopes, strings) lives in a per-render arena freed in one go when
 * the render ends. Values are small structs passed by value; their payloads
 * point into one of the two arenas, so a value never needs freeing. Lists and
 * dicts are immutable once built (the sandbox forbids mutating methods),
 * except namespaces, which `set ns.attr = ...` changes in place.
 *
 * Errors: evaluation functions return false after recording the first error
 * in the context (kind, line, message); callers just propagate false.
 */
#ifndef UMI_CHAT_JINJA_H
#define UMI_CHAT_JINJA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- limits */

#define JINJA_MAX_OUTPUT (64u << 20)      /* bytes of rendered text */
#define JINJA_MAX_ARENA (512u << 20)      /* bytes of values per render */
#define JINJA_MAX_STEPS 10000000u         /* loop iterations + macro calls */
#define JINJA_MAX_DEPTH 200               /* nested macro calls */
#define JINJA_MAX_PARSE_DEPTH 256         /* nested expressions/blocks */
#define JINJA_MAX_EVAL_DEPTH 2000         /* nested evaluation (a+a+...+a is deep too) */
#define JINJA_MAX_RANGE 1000000           /* items range() may build */

/* ---------------------------------------------------------------- arena */

typedef struct jblock jblock;
typedef struct jarena {
    jblock *head;
    size_t total; /* bytes handed out, checked against limit */
    size_t limit;
} jarena;

void jarena_init(jarena *a, size_t limit);
void jarena_free(jarena *a);
/* Zeroed, 16-byte aligned memory; NULL when out of memory or over the limit. */
void *jarena_alloc(jarena *a, size_t n);

/* A malloc-backed growable byte buffer (rendered output, string building). */
typedef struct jbuf {
    char *p;
    size_t n, cap;
} jbuf;

bool jbuf_put(jbuf *b, const char *s, size_t n); /* false: out of memory or too large */
void jbuf_free(jbuf *b);

/* ---------------------------------------------------------------- values */

typedef enum jkind {
    JV_UNDEF, /* Jinja Undefined: prints empty, falsy, iterates empty */
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STR,
    JV_LIST, /* list, tuple or one-shot iterator (see JV_F_*) */
    JV_DICT, /* dict or namespace */
    JV_FUNC, /* macro, global function, bound method, caller */
    JV_LOOP, /* the `loop` variable of a for loop */
} jkind;

enum {
    JV_F_TUPLE = 1,     /* JV_LIST: a tuple (prints with parentheses) */
    JV_F_GEN = 2,       /* JV_LIST: a Python generator/iterator (no len, no JSON) */
    JV_F_NAMESPACE = 4, /* JV_DICT: a namespace() object */
    JV_F_UNSAFE = 8,    /* JV_UNDEF: a blocked attribute; using it is a SecurityError */
    JV_F_SAFE = 16,     /* JV_STR: a markupsafe.Markup (from |safe): `+` HTML-escapes
                           the other operand, as Markup.__add__ does */
};

typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jfunc jfunc;
typedef struct jloop jloop;

typedef struct jv {
    jkind kind;
    uint32_t flags;
    size_t n; /* JV_STR: byte length; JV_UNDEF: length of the name */
    union {
        bool b;
        int64_t i;
        double f;
        const char *s; /* JV_STR bytes (UTF-8, not NUL-terminated); JV_UNDEF name */
        jlist *list;
        jdict *dict;
        jfunc *fn;
        jloop *loop;
    } u;
} jv;

struct jlist {
    jv *v;
    size_t n, cap;
};

struct jdict {
    jv *keys, *vals; /* insertion order, as Python dicts keep it */
    size_t n, cap;
};

/* ---------------------------------------------------------------- AST */

typedef enum jnode_kind {
    /* expressions */
    JN_LIT, JN_NAME, JN_ATTR, JN_ITEM, JN_SLICE, JN_LIST, JN_TUPLE, JN_DICT,
    JN_NEG, JN_POS, JN_NOT, JN_BIN, JN_AND, JN_OR, JN_CMP, JN_COND,
    JN_FILTER, JN_TEST, JN_CALL, JN_BODY,
    /* statements */
    JN_TEXT, JN_PRINT, JN_IF, JN_FOR, JN_SET, JN_SETBLOCK, JN_MACRO, JN_CALLBLOCK,
    JN_FILTERBLOCK, JN_BREAK, JN_CONTINUE, JN_SCOPE,
} jnode_kind;

/* Binary and comparison operators (jnode.op). */
typedef enum jop {
    JOP_ADD, JOP_SUB, JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD, JOP_POW, JOP_CONCAT,
    JOP_EQ, JOP_NE, JOP_LT, JOP_LE, JOP_GT, JOP_GE, JOP_IN, JOP_NOTIN,
} jop;

typedef struct jnode jnode;
typedef struct jnodes {
    jnode **v;
    size_t n;
} jnodes;

/* Call arguments; also macro parameters (kw_names = parameter names, kw =
 * default expressions or NULL). */
typedef struct jargs {
    jnodes pos;
    const char **kw_names;
    jnodes kw;
} jargs;

struct jnode {
    jnode_kind kind;
    int line;
    jop op;
    bool negate;      /* JN_TEST: `is not` */
    const char *name; /* NAME/ATTR/FILTER/TEST: identifier; MACRO: its name */
    jv lit;           /* JN_LIT, JN_TEXT */
    jnode *a, *b, *c; /* operands; IF: a=cond; FOR: a=target b=iter c=filter; SET: a=target b=value */
    jnodes list;      /* LIST/TUPLE/DICT keys, or the body of a block */
    jnodes list2;     /* DICT values, or an else body */
    jargs args;       /* FILTER/TEST/CALL arguments; MACRO/CALLBLOCK parameters */
};

/* A parsed template. */
typedef struct jtemplate {
    jarena arena;
    jnodes body;
} jtemplate;

/* ---------------------------------------------------------------- errors */

typedef enum jerr_kind {
    JERR_NONE,
    JERR_SYNTAX,    /* TemplateSyntaxError */
    JERR_RAISED,    /* raise_exception(): message is the template's own */
    JERR_UNDEFINED, /* UndefinedError */
    JERR_TYPE,      /* TypeError / ValueError */
    JERR_SECURITY,  /* SecurityError */
    JERR_LIMIT,     /* a sandbox bound was hit */
    JERR_NOMEM,
} jerr_kind;

typedef struct jerror {
    jerr_kind kind;
    int line;
    char msg[400];
} jerror;

/* ---------------------------------------------------------------- lexer/parser */

typedef enum jtok_kind {
    JT_EOF, JT_TEXT, JT_VAR_BEGIN, JT_VAR_END, JT_BLOCK_BEGIN, JT_BLOCK_END,
    JT_NAME, JT_STRING, JT_INT, JT_FLOAT, JT_OP,
} jtok_kind;

typedef struct jtok {
    jtok_kind kind;
    int line;
    const char *s; /* TEXT/NAME/OP: source bytes; STRING: unescaped bytes (arena) */
    size_t n;
    int64_t i;
    double f;
} jtok;

typedef struct jtoks {
    jtok *v; /* malloc'd; the caller frees v */
    size_t n, cap;
} jtoks;

/* Tokenize a normalized template source (whitespace control applied to the
 * text tokens). Strings it creates go into arena. */
bool jinja_lex(const char *src, size_t len, jarena *arena, jtoks *out, jerror *err);

typedef struct jparser {
    const jtok *t;
    size_t n, pos;
    jarena *arena;
    jerror *err;
    int depth;
} jparser;

/* parse_expr.c */
jnode *jp_node(jparser *p, jnode_kind kind, int line);
bool jp_push(jparser *p, jnodes *list, jnode *node);
bool jp_fail(jparser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const jtok *jp_peek(const jparser *p);
bool jp_is_op(const jtok *t, const char *op);
bool jp_is_name(const jtok *t, const char *name);
bool jp_expect_op(jparser *p, const char *op);
jnode *jp_expression(jparser *p, bool with_condexpr);
jnode *jp_tuple(jparser *p, bool with_condexpr, bool allow_empty);
jnode *jp_primary(jparser *p);
jnode *jp_postfix(jparser *p, jnode *node);
jnode *jp_filter_chain(jparser *p, jnode *node);
bool jp_call_args(jparser *p, jargs *args);
const char *jp_strdup(jparser *p, const char *s, size_t n);

/* parse_stmt.c: the whole template. */
bool jinja_parse(jtemplate *t, const char *src, size_t len, jerror *err);

/* ---------------------------------------------------------------- render */

typedef struct jscope jscope;
struct jscope {
    jscope *parent;
    jdict vars;
};

typedef struct jctx {
    jarena arena;
    jbuf *out;     /* where output goes now (swapped while capturing) */
    jscope *root;  /* template globals and top-level sets */
    jscope *scope; /* where names resolve and `set` assigns now */
    jv body_value; /* the rendered body a filter block / set block filters */
    int depth;     /* macro call depth */
    int eval_depth;
    uint64_t steps;
    int line;      /* line of the node being evaluated, for messages */
    int64_t now;   /* strftime_now's clock, Unix seconds (UTC) */
    jerror err;
} jctx;

/* Record the first error (later ones are dropped); returns false. */
bool jfail(jctx *c, jerr_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool jfail_nomem(jctx *c);
void *jalloc(jctx *c, size_t n); /* sets a NOMEM/LIMIT error on failure */

/* value.c: constructors */
jv jv_undef(const char *name, size_t n);
jv jv_none(void);
jv jv_bool(bool b);
jv jv_int(int64_t i);
jv jv_float(double f);
jv jv_str(const char *s, size_t n);        /* no copy */
jv jv_cstr(const char *s);                 /* no copy */
bool jv_str_copy(jctx *c, const char *s, size_t n, jv *out);
bool jv_str_from_buf(jctx *c, jbuf *b, jv *out); /* copies and frees b */
jlist *jlist_new(jctx *c, size_t cap);
bool jlist_push(jctx *c, jlist *l, jv v);
jv jv_list(jlist *l, uint32_t flags);
jdict *jdict_new(jctx *c);
bool jdict_set(jctx *c, jdict *d, jv key, jv val);
jv *jdict_get(const jdict *d, jv key);
jv *jdict_get_str(const jdict *d, const char *key);
jv jv_dict(jdict *d, uint32_t flags);

/* value.c: Python semantics */
const char *jv_type_name(jv v); /* "str", "NoneType", "dict", ... */
bool jv_truthy(jv v);
bool jv_equal(jv a, jv b);
bool jv_is_num(jv v); /* int, float or bool */
double jv_num(jv v);
/* Three-way ordering as Python's < does; false (error set) for unorderable. */
bool jv_compare(jctx *c, jv a, jv b, int *cmp);
/* The items for iteration: list items, dict keys, string characters. The
 * array may alias the value's own storage: do not modify it. */
bool jv_iterate(jctx *c, jv v, jv **items, size_t *n);
bool jv_length(jctx *c, jv v, int64_t *out);
bool jv_contains(jctx *c, jv container, jv item, bool *out);

/* pystr.c: printing as Python's str() / repr() */
bool jv_write_str(jctx *c, jbuf *b, jv v);
bool jv_write_repr(jctx *c, jbuf *b, jv v);
bool jv_to_str(jctx *c, jv v, jv *out); /* string values pass through */
size_t py_float_repr(double f, char out[40]);
size_t utf8_len(const char *s, size_t n);        /* code points */
size_t utf8_offset(const char *s, size_t n, size_t cp); /* byte offset of code point cp */

/* tojson.c */
typedef struct jjson_opts {
    bool ensure_ascii;
    bool sort_keys;
    bool has_indent;
    jv indent;                  /* int or string */
    const char *item_sep, *key_sep;
    size_t item_sep_n, key_sep_n;
} jjson_opts;
bool jv_write_json(jctx *c, jbuf *b, jv v, const jjson_opts *o, int level);

/* expr.c */
bool jeval(jctx *c, const jnode *n, jv *out);
bool jv_getattr(jctx *c, jv obj, const char *name, jv *out);
bool jv_getitem(jctx *c, jv obj, jv key, jv *out);
jv jscope_lookup(const jscope *s, const char *name);
bool jscope_set(jctx *c, jscope *s, const char *name, jv v);
jscope *jscope_new(jctx *c, jscope *parent);

/* Evaluated call arguments. */
typedef struct jcall {
    jv *pos;
    size_t n_pos;
    const char **kw_names;
    jv *kw;
    size_t n_kw;
} jcall;
bool jeval_args(jctx *c, const jargs *a, jcall *out);
/* Argument by position or keyword; false when absent. */
bool jcall_arg(const jcall *a, size_t index, const char *name, jv *out);
bool jcall_func(jctx *c, jv fn, const jcall *args, jv *out);

/* exec.c */
typedef enum jflow { JFLOW_OK, JFLOW_BREAK, JFLOW_CONTINUE, JFLOW_ERR } jflow;
jflow jexec_body(jctx *c, jscope *s, const jnodes *body);
bool jrender_capture(jctx *c, jscope *s, const jnodes *body, jv *out);
bool jcall_macro(jctx *c, const jfunc *fn, const jcall *args, jv *out);

/* filters.c, filters_seq.c, tests.c */
bool japply_filter(jctx *c, const char *name, jv v, const jcall *args, jv *out);
bool japply_seq_filter(jctx *c, const char *name, jv v, const jcall *args, jv *out, bool *found);
bool japply_test(jctx *c, const char *name, jv v, const jcall *args, bool *out);
bool jstr_case(jctx *c, jv s, int mode, jv *out);
bool jstr_escape(jctx *c, jv v, jv *out); /* HTML escape; the result is safe */ /* mode: 0 lower, 1 upper, 2 title (Jinja), 3 capitalize, 4 title (Python) */

/* methods.c, globals.c */
typedef enum jfunc_kind {
    JF_MACRO, JF_CALLER, JF_METHOD, JF_GLOBAL, JF_LOOP_CYCLE,
} jfunc_kind;

struct jfunc {
    jfunc_kind kind;
    const char *name;    /* method or global name */
    const jnode *node;   /* MACRO/CALLER: the definition */
    jscope *closure;     /* MACRO/CALLER: scope names resolve in */
    jv self;             /* METHOD: the object; CALLER: nothing */
};

bool jmethod_lookup(jctx *c, jv obj, const char *name, jv *out, bool *found);
bool jcall_method(jctx *c, const jfunc *fn, const jcall *args, jv *out);
bool jcall_global(jctx *c, const char *name, const jcall *args, jv *out);
bool jglobals_install(jctx *c, jscope *root);

/* strings (methods.c) used by filters too */
bool jstr_strip(jctx *c, jv s, jv chars, int which, jv *out); /* which: 1 left, 2 right, 3 both */
bool jstr_replace(jctx *c, jv s, jv old, jv new_, int64_t count, jv *out);
bool jstr_split(jctx *c, jv s, jv sep, int64_t maxsplit, jv *out);

struct jloop {
    jv *items;
    size_t n, index0;
};

#endif
