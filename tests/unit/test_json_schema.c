/* The JSON-schema automaton (src/sample/json_schema*.c):
 *   1. per keyword, documents the schema admits are accepted byte by byte
 *      and complete exactly at their end; documents it rejects die or never
 *      complete;
 *   2. schemas outside the subset are refused with a message naming the
 *      keyword; random walks never dead-end and finished ones validate;
 *      randomly damaged schemas compile or are refused cleanly;
 *   3. sampling under a schema on real vocabularies (up to llama 3's 128k
 *      tokens) with random logits always ends in text that parses and
 *      validates (a small validator for the subset below), and the time one
 *      constrained draw takes on the 128k vocabulary is printed.
 * usage: test_json_schema SRC_DIR SHARED_DIR */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "sample/json_schema.h"
#include "testkit.h"
#include "constrainkit.h"
#include "umi.h"

typedef struct corpus {
    const char *schema;
    const char *good[6];
    const char *bad[8];
} corpus;

static const corpus CORPUS[] = {
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"string\"}},\"required\":[\"a\",\"b\"],\"additionalProperties\":false}",
     {"{\"a\":1,\"b\":\"x\"}", "{ \"a\" : -20 ,\n \"b\" : \"\" }", "{\"a\":0,\"b\":\"\\u00e9\\n\"}"},
     {"{}", "{\"a\":1}", "{\"b\":\"x\",\"a\":1}", "{\"a\":1.5,\"b\":\"x\"}", "{\"a\":1e3,\"b\":\"x\"}", "{\"a\":1,\"b\":\"x\",\"c\":1}",
      "{\"a\":\"1\",\"b\":\"x\"}", " {\"a\":1,\"b\":\"x\"}"}},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"},\"b\":{\"type\":\"boolean\"},\"c\":{\"type\":\"null\"}},\"required\":[\"b\"]}",
     {"{\"b\":true}", "{\"a\":-1.5e+3,\"b\":false}", "{\"b\":true,\"c\":null}", "{\"a\":0,\"b\":false,\"c\":null}"},
     {"{\"a\":1}", "{\"c\":null,\"b\":true}", "{\"b\":1}", "{\"b\":true,\"c\":0}", "{\"b\":tru}", "{\"a\":01,\"b\":true}"}},
    {"{\"type\":\"string\",\"enum\":[\"red\",\"green\",\"re\"]}",
     {"\"red\"", "\"green\"", "\"re\""},
     {"\"r\"", "\"blue\"", "\"redd\"", "red", "\"Red\""}},
    {"{\"enum\":[1,12,\"x\",null,true,{\"k\":[1]}]}",
     {"1", "12", "\"x\"", "null", "true", "{\"k\":[1]}"},
     {"2", "123", "\"y\"", "false", "{\"k\":[2]}", "{ \"k\":[1]}"}},
    {"{\"type\":\"object\",\"properties\":{\"n\":{\"enum\":[1,12]},\"m\":{\"const\":\"c\"}},\"required\":[\"n\",\"m\"]}",
     {"{\"n\":1,\"m\":\"c\"}", "{\"n\":12 ,\"m\":\"c\"}"},
     {"{\"n\":2,\"m\":\"c\"}", "{\"n\":1,\"m\":\"d\"}", "{\"n\":121,\"m\":\"c\"}"}},
    {"{\"type\":\"string\",\"minLength\":2,\"maxLength\":3}",
     {"\"ab\"", "\"abc\"", "\"\\u00e9\\n\"", "\"\xc3\xa9\xc3\xa9\"", "\"\\ud83d\\ude00x\""},
     {"\"a\"", "\"abcd\"", "\"\"", "\"\xc3\xa9\""}},
    {"{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":3}",
     {"[1]", "[1, 2,3]", "[ -5 ]"},
     {"[]", "[1,2,3,4]", "[1.0]", "[\"1\"]", "[1,]"}},
    {"{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"array\",\"items\":{\"type\":\"boolean\"}}},\"required\":[\"x\"]}}",
     {"[]", "[{\"x\":[]},{\"x\":[true,false]}]"},
     {"[{}]", "[{\"x\":[1]}]", "[{\"x\":true}]"}},
    {"{\"type\":\"integer\"}", {"12", "-3", "0"}, {"1.5", "01", "1e2", "-", "\"1\""}},
    {"{\"type\":[\"string\",\"null\"]}", {"\"s\"", "null"}, {"1", "true", "nul"}},
    {"{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"string\"}},\"required\":[\"v\"]},{\"type\":\"null\"}]}",
     {"3", "{\"v\":\"\"}", "null"}, {"3.5", "{}", "\"s\"", "[]"}},
    {"{\"$defs\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},\"next\":{\"anyOf\":[{\"$ref\":\"#/$defs/node\"},{\"type\":\"null\"}]}},\"required\":[\"v\",\"next\"]}},\"$ref\":\"#/$defs/node\"}",
     {"{\"v\":1,\"next\":null}", "{\"v\":1,\"next\":{\"v\":2,\"next\":null}}"},
     {"{\"v\":1}", "{\"v\":1,\"next\":{\"v\":2}}", "{\"v\":1,\"next\":3}"}},
    {"{\"definitions\":{\"c\":{\"enum\":[\"a\",\"b\"]}},\"type\":\"object\",\"properties\":{\"x\":{\"allOf\":[{\"$ref\":\"#/definitions/c\"}]}},\"required\":[\"x\"]}",
     {"{\"x\":\"a\"}"}, {"{\"x\":\"c\"}", "{}"}},
    {"{\"type\":\"object\"}", {"{}", "{\"any\":[1,{\"x\":null}],\"b\":\"\"}"}, {"[]", "1", "{\"a\"}"}},
    {"{\"type\":\"object\",\"additionalProperties\":false}", {"{}"}, {"{\"a\":1}"}},
    {"{\"type\":\"object\",\"properties\":{\"a\\\"b\":{},\"\":{\"type\":\"integer\"}},\"required\":[\"a\\\"b\",\"\"]}",
     {"{\"a\\\"b\":[1,2],\"\":3}", "{\"a\\\"b\":{\"k\":1} ,\"\":3}"}, {"{\"a\\\"b\":1 2}", "{\"ab\":1,\"\":3}"}},
    {"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"title\":\"Id\",\"description\":\"the id\"}},\"required\":[\"id\"],\"title\":\"T\"}",
     {"{\"id\":7}"}, {"{\"id\":\"7\"}"}},
    /* integer bounds (Pydantic's ge/le/gt/lt): digits only while a value in range can still follow */
    {"{\"type\":\"integer\",\"minimum\":1,\"maximum\":5}", {"1", "3", "5"}, {"0", "6", "-1", "10", "15", "01", "-"}},
    {"{\"type\":\"integer\",\"minimum\":10,\"maximum\":20}", {"10", "15", "20"}, {"1", "2", "21", "9", "30", "-10", "100"}},
    {"{\"type\":\"integer\",\"exclusiveMinimum\":-3,\"exclusiveMaximum\":120}", {"-2", "-1", "0", "7", "119"},
     {"-3", "120", "-20", "1000", "-0.5", "1e2"}},
    {"{\"type\":\"integer\",\"minimum\":-50,\"maximum\":-10}", {"-10", "-50", "-23"}, {"-5", "-51", "10", "0", "-9", "-500"}},
    {"{\"type\":\"integer\",\"minimum\":0.5,\"maximum\":2.5}", {"1", "2"}, {"0", "3"}},
    {"{\"type\":\"object\",\"properties\":{\"age\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":150},\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":-1}},\"required\":[\"age\",\"n\"]}",
     {"{\"age\":0,\"n\":null}", "{\"age\":42,\"n\":-1}", "{\"age\":150 ,\"n\":7}"},
     {"{\"age\":-1,\"n\":null}", "{\"age\":151,\"n\":null}", "{\"age\":1,\"n\":-2}"}},
};

static bool feed_str(umi_schema_state *st, const char *s) { return umi_schema_feed(st, s, strlen(s)); }

static umi_schema *compile_str(const char *text, umi_error *err) {
    cJSON *doc = cJSON_Parse(text);
    umi_schema *sc = NULL;
    if (!doc) return NULL;
    umi_schema_compile(doc, &sc, err);
    cJSON_Delete(doc);
    return sc;
}

static void test_corpus(void) {
    for (size_t i = 0; i < sizeof CORPUS / sizeof *CORPUS; i++) {
        const corpus *c = &CORPUS[i];
        umi_error err = {0};
        umi_schema *sc = compile_str(c->schema, &err);
        if (!check(sc != NULL, "compile %s: %s", c->schema, err.msg)) continue;
        for (int g = 0; g < 6 && c->good[g]; g++) {
            const char *doc = c->good[g];
            umi_schema_state st;
            umi_schema_state_init(&st, sc);
            const size_t n = strlen(doc);
            bool alive = true;
            for (size_t k = 0; k < n && alive; k++) {
                alive = check(umi_schema_feed(&st, doc + k, 1), "%s: %s refused at byte %zu", c->schema, doc, k);
                /* containers and strings complete only at their last byte */
                if (alive && k + 1 < n && strchr("{[\"", doc[0]) && umi_schema_complete(&st))
                    alive = check(false, "%s: %s complete early at byte %zu", c->schema, doc, k);
            }
            if (alive) check(umi_schema_complete(&st), "%s: %s not complete at its end", c->schema, doc);
        }
        for (int b = 0; b < 8 && c->bad[b]; b++) {
            umi_schema_state st;
            umi_schema_state_init(&st, sc);
            bool alive = feed_str(&st, c->bad[b]);
            check(!alive || !umi_schema_complete(&st), "%s: %s accepted", c->schema, c->bad[b]);
        }
        umi_schema_free(sc);
    }
}

static void test_refused(void) {
    static const struct { const char *schema, *says; } R[] = {
        {"{\"type\":\"string\",\"pattern\":\"^a\"}", "'pattern' is not supported"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\",\"minimum\":0}}}", "at '/properties/a': 'minimum'"},
        {"{\"type\":\"string\",\"format\":\"date\"}", "'format' is not supported"},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"enum\":[\"a\"]}]}", "different JSON types"},
        {"{\"anyOf\":[{\"type\":\"object\"},{\"type\":\"object\"}]}", "different JSON types"},
        {"{\"type\":\"objekt\"}", "unknown type 'objekt'"},
        {"{\"$ref\":\"#/$defs/none\"}", "no such definition"},
        {"{\"$ref\":\"http://x/y\"}", "only '#'"},
        {"{\"type\":\"object\",\"properties\":{},\"required\":[\"a\"]}", "required property 'a'"},
        {"{\"type\":\"string\",\"minLength\":3,\"maxLength\":2}", "'minLength' 3 is more than 'maxLength' 2"},
        {"{\"type\":\"array\",\"items\":[{}]}", "tuples"},
        {"{\"enum\":[]}", "no value"},
        {"{\"type\":\"string\",\"enum\":[1]}", "no value"},
        {"{\"enum\":[\"a\"],\"maxLength\":3}", "'enum' together with 'maxLength'"},
        {"{\"$ref\":\"#\",\"type\":\"object\"}", "'$ref' together with 'type'"},
        {"{\"type\":\"object\",\"properties\":{\"s\":{\"$ref\":\"#\"}},\"required\":[\"s\"]}", "no value satisfies it"},
        {"{\"not\":{}}", "'not' is not supported"},
        {"{\"$defs\":{\"a\":{\"type\":\"string\",\"pattern\":\"x\"}},\"$ref\":\"#/$defs/a\"}", "at '/$ref(#/$defs/a)': 'pattern'"},
        {"{\"type\":\"object\",\"properties\":{\"r\":{\"$ref\":\"#\"},\"x\":{\"minimum\":1}}}", "at '/properties/x': 'minimum'"},
        {"{\"type\":\"integer\",\"minimum\":5,\"maximum\":4}", "no integer lies within the bounds"},
        {"{\"type\":\"integer\",\"exclusiveMinimum\":true}", "'exclusiveMinimum' must be a number"},
        {"{\"type\":\"integer\",\"maximum\":1e300}", "'maximum' must be a number within"},
        {"false", "admits no value"},
    };
    for (size_t i = 0; i < sizeof R / sizeof *R; i++) {
        umi_error err = {0};
        umi_schema *sc = compile_str(R[i].schema, &err);
        check(!sc && strstr(err.msg, R[i].says), "%s: refused with '%s', got '%s'", R[i].schema, R[i].says, err.msg);
        umi_schema_free(sc);
    }
    umi_error err = {0};
    check(umi_json_schema_check("{\"type\":", 8, &err) == UMI_ERR_ARG, "schema text that is not JSON: UMI_ERR_ARG");
    /* A top-level number is complete yet open-ended; an object is not. */
    umi_schema *sc = compile_str("{\"type\":\"number\"}", &err);
    umi_schema_state st;
    umi_schema_state_init(&st, sc);
    check(feed_str(&st, "1") && umi_schema_open_ended(&st) && feed_str(&st, "2.5") && umi_schema_open_ended(&st),
          "a top-level number stays open-ended");
    umi_schema_free(sc);
    sc = compile_str("{\"type\":\"object\"}", &err);
    umi_schema_state_init(&st, sc);
    check(feed_str(&st, "{}") && umi_schema_complete(&st) && !umi_schema_open_ended(&st), "a closed object is not");
    umi_schema_free(sc);
}

/* ---------------------------------------------------------------- validator */

/* An independent check of the subset's semantics, on the parsed output. */
static bool valid(const cJSON *v, const cJSON *s, const cJSON *doc) {
    if (cJSON_IsTrue(s) || !s) return true;
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "$ref"))) {
        const char *r = k->valuestring;
        if (strcmp(r, "#") == 0) return valid(v, doc, doc);
        const char *d = strncmp(r, "#/$defs/", 8) == 0 ? "$defs" : "definitions";
        return valid(v, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, d), strrchr(r, '/') + 1), doc);
    }
    const char *comb[] = {"anyOf", "oneOf", "allOf"};
    for (int c = 0; c < 3; c++)
        if ((k = cJSON_GetObjectItemCaseSensitive(s, comb[c]))) {
            int n = 0;
            const cJSON *a;
            cJSON_ArrayForEach(a, k) n += valid(v, a, doc);
            return c == 0 ? n >= 1 : c == 1 ? n == 1 : n == cJSON_GetArraySize(k);
        }
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "const"))) return cJSON_Compare(v, k, true);
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum"))) {
        const cJSON *e;
        bool any = false;
        cJSON_ArrayForEach(e, k) any |= cJSON_Compare(v, e, true);
        if (!any) return false;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsArray(type)) {
        const cJSON *t;
        cJSON_ArrayForEach(t, type) {
            cJSON *one = cJSON_Duplicate(s, true);
            cJSON_ReplaceItemInObjectCaseSensitive(one, "type", cJSON_CreateString(t->valuestring));
            bool ok = valid(v, one, doc);
            cJSON_Delete(one);
            if (ok) return true;
        }
        return false;
    }
    const char *t = cJSON_IsString(type) ? type->valuestring : NULL;
    if (!t) return true;
    if (strcmp(t, "null") == 0) return cJSON_IsNull(v);
    if (strcmp(t, "boolean") == 0) return cJSON_IsBool(v);
    if (strcmp(t, "number") == 0) return cJSON_IsNumber(v);
    if (strcmp(t, "integer") == 0) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) return false;
        const double x = v->valuedouble;
        const cJSON *b[4] = {cJSON_GetObjectItemCaseSensitive(s, "minimum"), cJSON_GetObjectItemCaseSensitive(s, "maximum"),
                             cJSON_GetObjectItemCaseSensitive(s, "exclusiveMinimum"),
                             cJSON_GetObjectItemCaseSensitive(s, "exclusiveMaximum")};
        return (!b[0] || x >= b[0]->valuedouble) && (!b[1] || x <= b[1]->valuedouble) &&
               (!b[2] || x > b[2]->valuedouble) && (!b[3] || x < b[3]->valuedouble);
    }
    if (strcmp(t, "string") == 0) {
        if (!cJSON_IsString(v)) return false;
        int n = 0;
        for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++) n += (*p & 0xC0) != 0x80;
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(s, "minLength"), *hi = cJSON_GetObjectItemCaseSensitive(s, "maxLength");
        return (!lo || n >= lo->valueint) && (!hi || n <= hi->valueint);
    }
    if (strcmp(t, "array") == 0) {
        if (!cJSON_IsArray(v)) return false;
        const int n = cJSON_GetArraySize(v);
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(s, "minItems"), *hi = cJSON_GetObjectItemCaseSensitive(s, "maxItems");
        if ((lo && n < lo->valueint) || (hi && n > hi->valueint)) return false;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) if (!valid(e, cJSON_GetObjectItemCaseSensitive(s, "items"), doc)) return false;
        return true;
    }
    if (!cJSON_IsObject(v)) return false;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s, "required")) if (!cJSON_GetObjectItemCaseSensitive(v, e->valuestring)) return false;
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    cJSON_ArrayForEach(e, v) {
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, e->string);
        if (!ps && cJSON_IsFalse(extra)) return false;
        if (ps && !valid(e, ps, doc)) return false;
    }
    return true;
}

/* ---------------------------------------------------------------- sampling */

static const char *const SAMPLED[] = {
    "{\"type\":\"integer\"}", /* ends by end-of-sequence competing with more digits */
    "{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":-7,\"maximum\":130},\"minItems\":3,\"maxItems\":6}",
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},\"age\":{\"type\":\"integer\"},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"red\",\"green\",\"blue\"]},\"maxItems\":4},\"ok\":{\"type\":\"boolean\"},"
    "\"score\":{\"type\":[\"number\",\"null\"]}},\"required\":[\"name\",\"age\",\"tags\",\"ok\"],\"additionalProperties\":false}",
    "{\"$defs\":{\"item\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/item\"},\"maxItems\":2}},"
    "\"required\":[\"id\"]}},\"type\":\"object\",\"properties\":{\"root\":{\"$ref\":\"#/$defs/item\"},\"note\":{\"anyOf\":[{\"type\":\"string\",\"minLength\":1},{\"type\":\"null\"}]}},"
    "\"required\":[\"root\",\"note\"]}",
};

/* Constrained runs on random logits (constrainkit.h), taking the schemas in
 * turn; the output must parse and validate. */
static void sample_runs(const char *path, int runs) {
    ck_vocab v;
    if (!ck_load(&v, path)) return;
    umi_error err = {0};
    int n_ok = 0, draws = 0;
    double ms = 0;
    for (int r = 0; r < runs; r++) {
        const char *schema = SAMPLED[r % 3];
        const umi_sampler_params sp = ck_params(r);
        umi_sampler *s = umi_sampler_init(&sp, v.nv);
        if (!check(s && umi_sampler_set_json_schema(s, v.m, schema, strlen(schema), &err) == UMI_OK, "sampler: %s",
                   err.msg))
            break;
        char out[65536];
        size_t len = 0;
        const bool ended = ck_run(&v, s, 3000, out, sizeof out, &len, &ms, &draws);
        cJSON *j = cJSON_ParseWithLength(out, len), *sj = cJSON_Parse(schema);
        bool ok = ended && umi_sampler_json_done(s) && j && valid(j, sj, sj);
        n_ok += check(ok, "%s run %d: output does not validate: %.400s", path, r, out);
        cJSON_Delete(j);
        cJSON_Delete(sj);
        umi_sampler_free(s);
    }
    printf("%s: %d/%d schema runs validated; %.3f ms per constrained draw (%d draws)\n", path, n_ok, runs,
           ms / (draws ? draws : 1), draws);
    ck_free(&v);
}

/* ---------------------------------------------------------------- random walks */

/* Walk the automaton byte by byte, each time picking at random among the
 * bytes it accepts (closing ones more often as the walk grows, so walks
 * end; no \u escape unless nothing else fits: cJSON cuts strings at a
 * \u0000). Every
 * live state must accept some byte or be complete: that is the promise
 * that any prefix can be finished. Returns 1 when the walk completed (the
 * text in out), 0 when it ran out of steps, -1 at a dead end. */
static int walk(const umi_schema *sc, char *out, size_t cap) {
    umi_schema_state st;
    umi_schema_state_init(&st, sc);
    size_t n = 0;
    while (n + 1 < cap) {
        const bool complete = umi_schema_complete(&st);
        if (complete && (!umi_schema_open_ended(&st) || rng_next() % 4 == 0)) break;
        unsigned ok[256], n_ok = 0, closers[8], n_close = 0;
        bool u_ok = false;
        for (unsigned c = 1; c < 256; c++) {
            umi_schema_state t;
            umi_schema_state_copy(&t, &st);
            const char b = (char)c;
            if (!umi_schema_feed(&t, &b, 1)) continue;
            if (c == 'u' && n && out[n - 1] == '\\') {
                u_ok = true;
                continue;
            }
            ok[n_ok++] = c;
            if (strchr("\"]},", (int)c) && n_close < 8) closers[n_close++] = c;
        }
        if (n_ok == 0 && u_ok) ok[n_ok++] = 'u';
        if (n_ok == 0) {
            out[n] = 0;
            return complete ? 1 : -1;
        }
        const bool close = n_close && rng_next() % 100 < (n < 40 ? 10 : 80);
        const char b = (char)(close ? closers[rng_next() % n_close] : ok[rng_next() % n_ok]);
        umi_schema_feed(&st, &b, 1);
        out[n++] = b;
    }
    out[n] = 0;
    return umi_schema_complete(&st) ? 1 : 0;
}

/* Walks on every schema of the corpus and of the sampling runs: no dead
 * end, and every completed walk validates. */
static void test_walks(void) {
    const char *schemas[64];
    size_t n = 0;
    for (size_t i = 0; i < sizeof CORPUS / sizeof *CORPUS; i++) schemas[n++] = CORPUS[i].schema;
    for (size_t i = 0; i < sizeof SAMPLED / sizeof *SAMPLED; i++) schemas[n++] = SAMPLED[i];
    int done = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        umi_error err = {0};
        umi_schema *sc = compile_str(schemas[i], &err);
        cJSON *sj = cJSON_Parse(schemas[i]);
        for (int w = 0; sc && w < 40; w++) {
            static char out[8192];
            const int r = walk(sc, out, sizeof out);
            total++;
            if (!check(r >= 0, "%s: dead end after %s", schemas[i], out) || r == 0) continue;
            cJSON *j = cJSON_Parse(out);
            check(j && valid(j, sj, sj), "%s: walk gave %s, which does not validate", schemas[i], out);
            cJSON_Delete(j);
            done++;
        }
        cJSON_Delete(sj);
        umi_schema_free(sc);
    }
    printf("random walks: %d/%d completed and validated\n", done, total);
}

/* Schemas damaged at random (bytes changed, dropped): compiling must
 * refuse or succeed cleanly, and walks on what compiles never dead-end. */
static void test_mutations(void) {
    int compiled = 0, tried = 0;
    for (size_t i = 0; i < sizeof CORPUS / sizeof *CORPUS; i++)
        for (int k = 0; k < 60; k++) {
            char text[1024];
            snprintf(text, sizeof text, "%s", CORPUS[i].schema);
            size_t len = strlen(text);
            for (int e = 0; e < 1 + (int)(rng_next() % 3) && len > 1; e++) {
                size_t at = rng_next() % len;
                if (rng_next() % 2) memmove(text + at, text + at + 1, len-- - at);
                else text[at] = "{}[]\":,0-aeq"[rng_next() % 13];
            }
            cJSON *doc = cJSON_Parse(text);
            if (!doc) continue;
            tried++;
            umi_schema *sc = NULL;
            umi_error err = {0};
            if (umi_schema_compile(doc, &sc, &err) == UMI_OK) {
                compiled++;
                for (int w = 0; w < 5; w++) {
                    char out[4096];
                    check(walk(sc, out, sizeof out) >= 0, "mutated %s: dead end after %s", text, out);
                }
            } else {
                check(err.msg[0] != 0, "mutated %s: refused without a message", text);
            }
            umi_schema_free(sc);
            cJSON_Delete(doc);
        }
    printf("mutated schemas: %d parsed, %d compiled\n", tried, compiled);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    test_corpus();
    test_refused();
    test_walks();
    test_mutations();
    char path[4096];
    snprintf(path, sizeof path, "%s/models/stories260K.gguf", argv[1]);
    sample_runs(path, 15);
    snprintf(path, sizeof path, "%s/models/rnd-llama-q4_0.gguf", argv[2]);
    sample_runs(path, 6);
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-bpe.gguf", argv[2]); /* 128k tokens */
    sample_runs(path, 6);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
