/* Compiling a JSON Schema (cJSON) into the node graph json_schema_step.c
 * walks. Keywords follow JSON Schema 2020-12 (json-schema.org, "Validation"
 * and "Core"); the subset is the one clients send for structured output
 * (OpenAI's strict json_schema, Pydantic's model_json_schema, Ollama's
 * format). A keyword outside it is refused by name rather than ignored, since
 * ignoring one would let output through that the schema rejects.
 * Annotations (title, description, default, ...) change no validity and are
 * skipped. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sample/json_schema.h"

typedef struct memo {
    const cJSON *schema;
    int32_t node;
} memo;

typedef struct compiler {
    umi_schema *sc;
    const cJSON *doc;   /* the whole schema, for $ref */
    memo *memo;
    int32_t n_memo;
    int32_t cap_nodes, cap_props, cap_lits, cap_alts;
    char path[256];     /* JSON pointer of the schema being compiled, for messages */
    umi_error *err;
    bool failed;
} compiler;

static const char *const ANNOTATIONS[] = {"title", "description", "default", "examples", "$schema", "$id",
                                          "$comment", "deprecated", "readOnly", "writeOnly", "$defs",
                                          "definitions", NULL};
/* Keywords that constrain one type each; a schema without "type" takes its
 * type from them. */
static const char *const OBJECT_KEYS[] = {"properties", "required", "additionalProperties", NULL};
static const char *const ARRAY_KEYS[] = {"items", "minItems", "maxItems", NULL};
static const char *const STRING_KEYS[] = {"minLength", "maxLength", NULL};
/* Bounds: integers only (a bounded number would need decimal ranges). */
static const char *const INTEGER_KEYS[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", NULL};

static bool in_list(const char *const *list, const char *k) {
    for (; *list; list++)
        if (strcmp(*list, k) == 0) return true;
    return false;
}

static int32_t fail(compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int32_t fail(compiler *c, const char *fmt, ...) {
    if (c->failed) return -1;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    c->failed = true;
    umi_err(c->err, UMI_ERR_UNSUPPORTED, "schema at '%s': %s", c->path[0] ? c->path : "/", what);
    return -1;
}

/* Grow an array of n used elements to hold one more. */
static bool grow(void **arr, int32_t n, int32_t *cap, size_t size) {
    if (n < *cap) return true;
    int32_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, (size_t)nc * size);
    if (!p) return false;
    *arr = p;
    *cap = nc;
    return true;
}

static int32_t new_node(compiler *c, schema_kind kind) {
    umi_schema *sc = c->sc;
    if (sc->n_nodes >= UMI_SCHEMA_MAX_NODES) return fail(c, "more than %d schemas in all", UMI_SCHEMA_MAX_NODES);
    if (!grow((void **)&sc->nodes, sc->n_nodes, &c->cap_nodes, sizeof *sc->nodes)) return fail(c, "out of memory");
    sc->nodes[sc->n_nodes] = (schema_node){.kind = (uint8_t)kind, .items = -1, .max = -1};
    return sc->n_nodes++;
}

static bool add_text(compiler *c, schema_text *t, char *printed, bool strip_quotes) {
    if (!printed) return fail(c, "out of memory"), false;
    size_t n = strlen(printed);
    if (strip_quotes) {
        memmove(printed, printed + 1, n - 2);
        n -= 2;
        printed[n] = 0;
    }
    *t = (schema_text){.s = printed, .len = (uint32_t)n};
    return true;
}

/* ---------------------------------------------------------------- paths */

static size_t path_push(compiler *c, const char *seg) {
    size_t old = strlen(c->path);
    snprintf(c->path + old, sizeof c->path - old, "/%s", seg);
    return old;
}

static void path_pop(compiler *c, size_t old) { c->path[old] = 0; }

static int32_t compile(compiler *c, const cJSON *s);

static int32_t compile_at(compiler *c, const cJSON *s, const char *seg) {
    size_t old = path_push(c, seg);
    int32_t n = compile(c, s);
    path_pop(c, old);
    return n;
}

/* ---------------------------------------------------------------- types */

static bool get_count(compiler *c, const cJSON *s, const char *key, int32_t *dst) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
    if (!v) return true;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9 || v->valuedouble != (int32_t)v->valuedouble)
        return fail(c, "'%s' must be a non-negative integer", key), false;
    *dst = (int32_t)v->valuedouble;
    return true;
}

static int32_t compile_literals(compiler *c, const cJSON *values, const char *type);

static int32_t compile_object(compiler *c, const cJSON *s) {
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    if (props && !cJSON_IsObject(props)) return fail(c, "'properties' must be an object");
    if (req && !cJSON_IsArray(req)) return fail(c, "'required' must be an array of names");
    const cJSON *r;
    cJSON_ArrayForEach(r, req) {
        if (!cJSON_IsString(r)) return fail(c, "'required' must be an array of names");
        if (!cJSON_GetObjectItemCaseSensitive(props, r->valuestring))
            return fail(c, "required property '%s' is not in 'properties'", r->valuestring);
    }
    /* No properties and extra keys allowed: any object. Extra keys restricted
     * (false, or a schema): only {} is sure to validate, so that is what we
     * write. With properties we never write other keys, which every value of
     * additionalProperties allows. */
    if (cJSON_GetArraySize(props) == 0 && (!extra || cJSON_IsTrue(extra)) && cJSON_GetArraySize(req) == 0) {
        int32_t n = new_node(c, SK_ANY);
        if (n >= 0) c->sc->nodes[n].object_only = true;
        return n;
    }
    if (extra && !cJSON_IsBool(extra) && !cJSON_IsObject(extra))
        return fail(c, "'additionalProperties' must be a boolean or a schema");
    const int32_t np = cJSON_GetArraySize(props);
    if (np > UMI_SCHEMA_MAX_SET) return fail(c, "more than %d properties in one object", UMI_SCHEMA_MAX_SET);
    int32_t node = new_node(c, SK_OBJECT);
    if (node < 0) return -1;
    umi_schema *sc = c->sc;
    /* The props of one object are contiguous: reserve them before compiling
     * the values (which add props of their own). */
    const int32_t first = sc->n_props;
    for (int32_t i = 0; i < np; i++)
        if (!grow((void **)&sc->props, sc->n_props, &c->cap_props, sizeof *sc->props)) return fail(c, "out of memory");
        else sc->props[sc->n_props++] = (schema_prop){.node = -1};
    sc->nodes[node].first = first;
    sc->nodes[node].n = np;
    size_t old = path_push(c, "properties");
    int32_t i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, props) {
        cJSON *name = cJSON_CreateString(p->string);
        schema_text t;
        bool ok = name && add_text(c, &t, cJSON_PrintUnformatted(name), true);
        cJSON_Delete(name);
        if (!ok) return fail(c, "out of memory");
        c->sc->props[first + i].name = t;
        int32_t v = compile_at(c, p, p->string);
        if (v < 0) return -1;
        c->sc->props[first + i++].node = v;
    }
    path_pop(c, old);
    bool required[UMI_SCHEMA_MAX_SET] = {false};
    i = 0;
    cJSON_ArrayForEach(p, props) {
        cJSON_ArrayForEach(r, req) required[i] |= strcmp(r->valuestring, p->string) == 0;
        i++;
    }
    for (int32_t next = np; i-- > 0;) {
        if (required[i]) next = i;
        c->sc->props[first + i].next_required = next;
    }
    return node;
}

static int32_t compile_array(compiler *c, const cJSON *s) {
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    int32_t lo = 0, hi = -1;
    if (!get_count(c, s, "minItems", &lo) || !get_count(c, s, "maxItems", &hi)) return -1;
    if (hi >= 0 && lo > hi) return fail(c, "'minItems' %d is more than 'maxItems' %d", lo, hi);
    if (items && cJSON_IsArray(items)) return fail(c, "'items' as an array (tuples) is not supported");
    int32_t node = new_node(c, SK_ARRAY);
    if (node < 0) return -1;
    int32_t it = items ? compile_at(c, items, "items") : new_node(c, SK_ANY);
    if (it < 0) return -1;
    schema_node *n = &c->sc->nodes[node];
    n->items = it, n->min = lo, n->max = hi;
    return node;
}

static int32_t compile_string(compiler *c, const cJSON *s) {
    int32_t lo = 0, hi = -1;
    if (!get_count(c, s, "minLength", &lo) || !get_count(c, s, "maxLength", &hi)) return -1;
    if (hi >= 0 && lo > hi) return fail(c, "'minLength' %d is more than 'maxLength' %d", lo, hi);
    int32_t node = new_node(c, SK_STRING);
    if (node < 0) return -1;
    c->sc->nodes[node].min = lo, c->sc->nodes[node].max = hi;
    return node;
}

/* Integer bounds as inclusive lo..hi; 1e15 bounds magnitudes so that the
 * automaton's digit arithmetic stays exact. */
static int32_t compile_integer(compiler *c, const cJSON *s) {
    const double LIMIT = 1e15;
    double lo = -LIMIT, hi = LIMIT;
    bool bounded = false;
    for (int i = 0; INTEGER_KEYS[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, INTEGER_KEYS[i]);
        if (!v) continue;
        if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) <= LIMIT))
            return fail(c, "'%s' must be a number within +-1e15", INTEGER_KEYS[i]);
        const double x = v->valuedouble;
        if (i == 0) lo = fmax(lo, ceil(x));
        else if (i == 1) hi = fmin(hi, floor(x));
        else if (i == 2) lo = fmax(lo, floor(x) + 1);
        else hi = fmin(hi, ceil(x) - 1);
        bounded = true;
    }
    if (lo > hi) return fail(c, "no integer lies within the bounds");
    int32_t node = new_node(c, SK_INTEGER);
    if (node < 0) return -1;
    schema_node *n = &c->sc->nodes[node];
    n->bounded = bounded, n->lo = (int64_t)lo, n->hi = (int64_t)hi;
    return node;
}

/* One JSON type's node, with the keywords of that type from s. */
static int32_t compile_type(compiler *c, const cJSON *s, const char *type) {
    if (strcmp(type, "object") == 0) return compile_object(c, s);
    if (strcmp(type, "array") == 0) return compile_array(c, s);
    if (strcmp(type, "string") == 0) return compile_string(c, s);
    if (strcmp(type, "number") == 0) {
        for (int i = 0; INTEGER_KEYS[i]; i++)
            if (cJSON_GetObjectItemCaseSensitive(s, INTEGER_KEYS[i]))
                return fail(c, "'%s' is supported on integers only", INTEGER_KEYS[i]);
        return new_node(c, SK_NUMBER);
    }
    if (strcmp(type, "integer") == 0) return compile_integer(c, s);
    if (strcmp(type, "boolean") == 0 || strcmp(type, "null") == 0) {
        cJSON *v = cJSON_Parse(type[0] == 'b' ? "[true,false]" : "[null]");
        int32_t n = v ? compile_literals(c, v, NULL) : fail(c, "out of memory");
        cJSON_Delete(v);
        return n;
    }
    return fail(c, "unknown type '%s'", type);
}

/* ---------------------------------------------------------------- literals */

static bool literal_has_type(const cJSON *v, const char *type) {
    if (!type) return true;
    if (strcmp(type, "string") == 0) return cJSON_IsString(v);
    if (strcmp(type, "number") == 0) return cJSON_IsNumber(v);
    if (strcmp(type, "integer") == 0) return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble);
    if (strcmp(type, "boolean") == 0) return cJSON_IsBool(v);
    if (strcmp(type, "null") == 0) return cJSON_IsNull(v);
    if (strcmp(type, "object") == 0) return cJSON_IsObject(v);
    if (strcmp(type, "array") == 0) return cJSON_IsArray(v);
    return false;
}

/* enum/const: each value as its compact JSON text (cJSON's printing), the
 * ones of the wrong type (when "type" is given) left out. */
static int32_t compile_literals(compiler *c, const cJSON *values, const char *type) {
    int32_t node = new_node(c, SK_LITERALS);
    if (node < 0) return -1;
    umi_schema *sc = c->sc;
    sc->nodes[node].first = sc->n_lits;
    const cJSON *v;
    cJSON_ArrayForEach(v, values) {
        if (!literal_has_type(v, type)) continue;
        if (sc->n_lits - sc->nodes[node].first >= UMI_SCHEMA_MAX_SET)
            return fail(c, "more than %d values in 'enum'", UMI_SCHEMA_MAX_SET);
        if (!grow((void **)&sc->lits, sc->n_lits, &c->cap_lits, sizeof *sc->lits)) return fail(c, "out of memory");
        if (!add_text(c, &sc->lits[sc->n_lits], cJSON_PrintUnformatted(v), false)) return -1;
        sc->n_lits++;
    }
    sc->nodes[node].n = sc->n_lits - sc->nodes[node].first;
    if (sc->nodes[node].n == 0) return fail(c, "no value of 'enum'/'const' fits 'type'");
    return node;
}

/* ---------------------------------------------------------------- schemas */

static int32_t add_union(compiler *c, int32_t node, const int32_t *alts, int32_t n) {
    umi_schema *sc = c->sc;
    sc->nodes[node].kind = SK_UNION;
    sc->nodes[node].first = sc->n_alts;
    sc->nodes[node].n = n;
    for (int32_t i = 0; i < n; i++) {
        if (!grow((void **)&sc->alts, sc->n_alts, &c->cap_alts, sizeof *sc->alts)) return fail(c, "out of memory");
        sc->alts[sc->n_alts++] = alts[i];
    }
    return node;
}

/* "#", "#/$defs/Name" or "#/definitions/Name" (JSON Pointer, RFC 6901, with ~0 ~1). */
static const cJSON *resolve_ref(compiler *c, const char *ref) {
    if (strcmp(ref, "#") == 0) return c->doc;
    const char *defs = strncmp(ref, "#/$defs/", 8) == 0 ? "$defs" : strncmp(ref, "#/definitions/", 14) == 0 ? "definitions" : NULL;
    if (!defs) return fail(c, "'$ref' %s: only '#', '#/$defs/NAME' and '#/definitions/NAME' are supported", ref), NULL;
    char name[256];
    size_t k = 0;
    for (const char *p = ref + strlen(defs) + 3; *p && k + 1 < sizeof name; p++) {
        if (*p == '/') return fail(c, "'$ref' %s: only '#', '#/$defs/NAME' and '#/definitions/NAME' are supported", ref), NULL;
        if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) name[k++] = p[1] == '0' ? '~' : '/', p++;
        else name[k++] = *p;
    }
    name[k] = 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->doc, defs), name);
    if (!t) return fail(c, "'$ref' %s: no such definition", ref), NULL;
    return t;
}

/* The keywords of s other than annotations, checked against what we
 * support; *only names the first validation keyword (for combinations). */
static bool check_keywords(compiler *c, const cJSON *s, const char **first) {
    static const char *const OTHER[] = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", NULL};
    *first = NULL;
    const cJSON *k;
    cJSON_ArrayForEach(k, s) {
        if (in_list(ANNOTATIONS, k->string)) continue;
        if (!in_list(OTHER, k->string) && !in_list(OBJECT_KEYS, k->string) && !in_list(ARRAY_KEYS, k->string) &&
            !in_list(STRING_KEYS, k->string) && !in_list(INTEGER_KEYS, k->string))
            return fail(c, "'%s' is not supported", k->string), false;
        if (!*first) *first = k->string;
    }
    return true;
}

/* A combinator ($ref, allOf, anyOf, oneOf) must stand alone among the validation keywords. */
static bool alone(compiler *c, const cJSON *s, const char *kw) {
    const cJSON *k;
    cJSON_ArrayForEach(k, s)
        if (!in_list(ANNOTATIONS, k->string) && strcmp(k->string, kw) != 0)
            return fail(c, "'%s' together with '%s' is not supported", kw, k->string), false;
    return true;
}

static const char *infer_type(compiler *c, const cJSON *s) {
    const char *type = NULL;
    const cJSON *k;
    cJSON_ArrayForEach(k, s) {
        /* bounds without a type bound any number, which is refused by name */
        const char *t = in_list(OBJECT_KEYS, k->string) ? "object" : in_list(ARRAY_KEYS, k->string) ? "array"
                      : in_list(STRING_KEYS, k->string) ? "string" : in_list(INTEGER_KEYS, k->string) ? "number" : NULL;
        if (t && type && strcmp(t, type) != 0) return fail(c, "keywords of several types without 'type'"), "";
        if (t) type = t;
    }
    return type;
}

static int32_t compile_alts(compiler *c, const cJSON *arr, const char *kw, int32_t node) {
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) return fail(c, "'%s' must be a non-empty array", kw);
    int32_t alts[UMI_SCHEMA_MAX_SET], n = 0;
    const cJSON *a;
    size_t old = path_push(c, kw);
    cJSON_ArrayForEach(a, arr) {
        if (n == UMI_SCHEMA_MAX_SET) return fail(c, "more than %d alternatives", UMI_SCHEMA_MAX_SET);
        char seg[16];
        snprintf(seg, sizeof seg, "%d", n);
        if ((alts[n++] = compile_at(c, a, seg)) < 0) return -1;
    }
    path_pop(c, old);
    return add_union(c, node, alts, n);
}

static int32_t compile(compiler *c, const cJSON *s) {
    if (c->failed) return -1;
    if (cJSON_IsTrue(s)) return new_node(c, SK_ANY);
    if (cJSON_IsFalse(s)) return fail(c, "the schema false admits no value");
    if (!cJSON_IsObject(s)) return fail(c, "a schema must be an object or a boolean");
    for (int32_t i = 0; i < c->n_memo; i++)
        if (c->memo[i].schema == s) return c->memo[i].node; /* shared or recursive ($ref) */
    const char *kw;
    if (!check_keywords(c, s, &kw)) return -1;
    /* Reserve the node first so a $ref back to s finds it. */
    int32_t node = new_node(c, SK_UNION);
    if (node < 0) return -1;
    int32_t cap = c->n_memo + 1;
    memo *m = realloc(c->memo, (size_t)cap * sizeof *m);
    if (!m) return fail(c, "out of memory");
    c->memo = m;
    c->memo[c->n_memo++] = (memo){s, node};
    const cJSON *v;
    int32_t alt;
    if ((v = cJSON_GetObjectItemCaseSensitive(s, "$ref"))) {
        if (!alone(c, s, "$ref")) return -1;
        if (!cJSON_IsString(v)) return fail(c, "'$ref' must be a string");
        const cJSON *t = resolve_ref(c, v->valuestring);
        char seg[300];
        snprintf(seg, sizeof seg, "$ref(%s)", v->valuestring);
        if (!t || (alt = compile_at(c, t, seg)) < 0) return -1;
        return add_union(c, node, &alt, 1);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(s, "allOf"))) { /* Pydantic wraps a $ref so */
        if (!alone(c, s, "allOf")) return -1;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 1) return fail(c, "'allOf' with other than one schema is not supported");
        return compile_alts(c, v, "allOf", node);
    }
    for (int k = 0; k < 2; k++) /* the alternatives must start differently, so anyOf and oneOf agree */
        if ((v = cJSON_GetObjectItemCaseSensitive(s, k ? "oneOf" : "anyOf"))) {
            if (!alone(c, s, k ? "oneOf" : "anyOf")) return -1;
            return compile_alts(c, v, k ? "oneOf" : "anyOf", node);
        }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (type && !cJSON_IsString(type) && !cJSON_IsArray(type)) return fail(c, "'type' must be a string or an array");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum"), *cn = cJSON_GetObjectItemCaseSensitive(s, "const");
    if (en || cn) {
        if (en && cn) return fail(c, "'enum' together with 'const' is not supported");
        const cJSON *k;
        cJSON_ArrayForEach(k, s)
            if (!in_list(ANNOTATIONS, k->string) && strcmp(k->string, "type") != 0 && k != en && k != cn)
                return fail(c, "'%s' together with '%s' is not supported", en ? "enum" : "const", k->string);
        if (en && !cJSON_IsArray(en)) return fail(c, "'enum' must be an array");
        if (type && !cJSON_IsString(type)) return fail(c, "'enum'/'const' with a list of types is not supported");
        cJSON *one = NULL;
        if (cn && !(one = cJSON_CreateArray())) return fail(c, "out of memory");
        if (one) cJSON_AddItemReferenceToArray(one, (cJSON *)cn);
        alt = compile_literals(c, en ? en : one, type ? type->valuestring : NULL);
        cJSON_Delete(one);
        return alt < 0 ? -1 : add_union(c, node, &alt, 1);
    }
    if (!type) {
        const char *t = infer_type(c, s);
        if (c->failed) return -1;
        alt = t ? compile_type(c, s, t) : new_node(c, SK_ANY);
        return alt < 0 ? -1 : add_union(c, node, &alt, 1);
    }
    if (cJSON_IsString(type)) {
        if ((alt = compile_type(c, s, type->valuestring)) < 0) return -1;
        return add_union(c, node, &alt, 1);
    }
    int32_t alts[8], n = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, type) {
        if (!cJSON_IsString(t) || n == 8) return fail(c, "'type' must be a type name or a list of them");
        if ((alts[n++] = compile_type(c, s, t->valuestring)) < 0) return -1;
    }
    if (n == 0) return fail(c, "'type' is an empty list");
    return add_union(c, node, alts, n);
}

/* ---------------------------------------------------------------- analysis */

static void set_bytes(schema_node *n, const char *bytes) {
    for (; *bytes; bytes++) n->start[(unsigned char)*bytes >> 6] |= 1ull << ((unsigned char)*bytes & 63);
}

/* The first bytes of every node, and the fewest nested containers each
 * needs to complete, by iterating to a fixed point (recursive schemas refer
 * back through $ref). */
static void analyse(umi_schema *sc) {
    enum { INF = 1 << 20 };
    for (int32_t i = 0; i < sc->n_nodes; i++) {
        schema_node *n = &sc->nodes[i];
        memset(n->start, 0, sizeof n->start);
        n->depth = INF;
        switch (n->kind) {
        case SK_OBJECT: set_bytes(n, "{"); break;
        case SK_ARRAY: set_bytes(n, "["); break;
        case SK_STRING: set_bytes(n, "\""); n->depth = 0; break;
        case SK_NUMBER:
        case SK_INTEGER: set_bytes(n, "-0123456789"); n->depth = 0; break;
        case SK_ANY: set_bytes(n, n->object_only ? "{" : "{[\"-0123456789tfn"); n->depth = 0; break;
        case SK_LITERALS:
            for (int32_t k = 0; k < n->n; k++) {
                const char b[2] = {sc->lits[n->first + k].s[0], 0};
                set_bytes(n, b);
            }
            n->depth = 0;
            break;
        }
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (int32_t i = 0; i < sc->n_nodes; i++) {
            schema_node *n = &sc->nodes[i];
            int32_t d = n->depth;
            if (n->kind == SK_OBJECT) {
                d = 1;
                for (int32_t k = 0; k < n->n; k++) {
                    const schema_prop *p = &sc->props[n->first + k];
                    if (p->next_required == k && sc->nodes[p->node].depth + 1 > d) d = sc->nodes[p->node].depth + 1;
                }
            } else if (n->kind == SK_ARRAY) {
                d = 1 + (n->min > 0 ? sc->nodes[n->items].depth : 0);
            } else if (n->kind == SK_UNION) {
                for (int32_t k = 0; k < n->n; k++) {
                    const schema_node *a = &sc->nodes[sc->alts[n->first + k]];
                    if (a->depth < d) d = a->depth;
                    for (int w = 0; w < 4; w++)
                        if (a->start[w] & ~n->start[w]) n->start[w] |= a->start[w], changed = true;
                }
            }
            if (d > INF) d = INF;
            if (d != n->depth) n->depth = d, changed = true;
        }
    }
}

/* Alternatives are told apart by their first byte: two that can begin
 * alike (two objects, a string and a string enum, integer and number) would
 * need both followed at once, which this automaton does not do. */
static umi_status check_unions(const umi_schema *sc, umi_error *err) {
    for (int32_t i = 0; i < sc->n_nodes; i++) {
        const schema_node *n = &sc->nodes[i];
        if (n->kind != SK_UNION) continue;
        uint64_t seen[4] = {0};
        for (int32_t k = 0; k < n->n; k++) {
            const schema_node *a = &sc->nodes[sc->alts[n->first + k]];
            for (int w = 0; w < 4; w++) {
                if (a->start[w] & seen[w])
                    return umi_err(err, UMI_ERR_UNSUPPORTED,
                                   "schema: alternatives of 'anyOf'/'oneOf'/'type' must be of different JSON "
                                   "types (two can start with the same character)");
                seen[w] |= a->start[w];
            }
        }
    }
    return UMI_OK;
}

void umi_schema_free(umi_schema *sc) {
    if (!sc) return;
    for (int32_t i = 0; i < sc->n_props; i++) cJSON_free(sc->props[i].name.s);
    for (int32_t i = 0; i < sc->n_lits; i++) cJSON_free(sc->lits[i].s);
    free(sc->nodes);
    free(sc->props);
    free(sc->lits);
    free(sc->alts);
    free(sc);
}

umi_status umi_schema_compile(const cJSON *schema, umi_schema **out, umi_error *err) {
    *out = NULL;
    compiler c = {.doc = schema, .err = err};
    if (!(c.sc = calloc(1, sizeof *c.sc))) return umi_err(err, UMI_ERR_NOMEM, "out of memory (schema)");
    c.sc->root = compile(&c, schema);
    free(c.memo);
    umi_status st = c.failed ? (err ? err->code : UMI_ERR_UNSUPPORTED) : UMI_OK;
    if (st == UMI_OK) {
        analyse(c.sc);
        st = check_unions(c.sc, err);
    }
    if (st == UMI_OK && c.sc->nodes[c.sc->root].depth > UMI_JSON_MAX_DEPTH)
        st = umi_err(err, UMI_ERR_UNSUPPORTED, "schema: no value satisfies it within %d levels of nesting "
                     "(required properties that contain themselves?)", UMI_JSON_MAX_DEPTH);
    if (st != UMI_OK) {
        umi_schema_free(c.sc);
        return st;
    }
    *out = c.sc;
    return UMI_OK;
}
