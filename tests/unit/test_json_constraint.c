/* The JSON automaton (src/sample/json_constraint.c) and constrained sampling:
 *   1. valid documents are accepted, byte by byte and whole, every prefix
 *      stays alive, and completion is reported exactly at the end;
 *   2. invalid documents die (or never complete);
 *   3. sampling with a JSON constraint on real vocabularies (up to llama 3's
 *      128k tokens), with random logits, greedy and with temperature, always
 *      gives text cJSON parses as an object.
 * usage: test_json_constraint SRC_DIR SHARED_DIR */
#include <cjson/cJSON.h>
#include <string.h>

#include "sample/json_constraint.h"
#include "testkit.h"
#include "constrainkit.h"
#include "umi.h"

static const char *const VALID_OBJECTS[] = {
    "{}",
    "{\"a\":1}",
    "{ \"a\" : [1, -2.5e+3, 0, 10.25E-2, true, false, null, \"x\\\"y\\\\\\u00e9\\n\\/\"], \"b\": {\"c\": {}, \"d\":[]} }",
    "{\"k\":\"\\ud83d\\ude00 \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \x7f\"}",
    "{\"n\":-0.0e-0,\"m\":[[[[]]]],\"\":\"\"}",
    "{\n  \"pretty\": [\n    1,\n    2\n  ]\n}",
};

/* Valid only without object_only. */
static const char *const VALID_VALUES[] = {"[1,2,[3]]", "\"str\"", "true", "null", "[]", "-12.5e3"};

static const char *const INVALID[] = {
    "{,}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[01]", "{\"a\":1.}", "{\"a\":1e}", "{\"a\":+1}",
    "{\"a\":tru}", "\"\\x\"", "\"\\u12g4\"", "\"\\ud800x\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
    "\"a\x01b\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf5\x80\x80\x80\"", "\"\x80\"", "\"\xe6\x97x\"",
    "[1 2]", "{\"a\":1]", "]", ",", "{} ", "{}{}", "[1]]", "{\"a\" 1}", "nul", "--1", "1.2.3", "{'a':1}",
};

static bool feed_str(umi_json_state *st, const char *s) { return umi_json_feed(st, s, strlen(s)); }

static void test_valid(const char *doc, bool object_only) {
    umi_json_state whole, bytes;
    umi_json_init(&whole, object_only);
    umi_json_init(&bytes, object_only);
    check(feed_str(&whole, doc) && umi_json_complete(&whole), "valid %s: accepted and complete", doc);
    const size_t n = strlen(doc);
    for (size_t i = 0; i < n; i++) {
        if (!check(umi_json_feed(&bytes, doc + i, 1), "valid %s: byte %zu refused", doc, i)) return;
        /* Objects and arrays complete only at their last byte. */
        if (i + 1 < n && (doc[0] == '{' || doc[0] == '[' || doc[0] == ' ') && umi_json_complete(&bytes))
            check(false, "valid %s: complete early at byte %zu", doc, i);
    }
    check(umi_json_complete(&bytes), "valid %s: complete byte by byte", doc);
}

static void test_automaton(void) {
    for (size_t i = 0; i < sizeof VALID_OBJECTS / sizeof *VALID_OBJECTS; i++) {
        test_valid(VALID_OBJECTS[i], true);
        test_valid(VALID_OBJECTS[i], false);
    }
    for (size_t i = 0; i < sizeof VALID_VALUES / sizeof *VALID_VALUES; i++) {
        test_valid(VALID_VALUES[i], false);
        umi_json_state st;
        umi_json_init(&st, true);
        check(!feed_str(&st, VALID_VALUES[i]), "object_only refuses %s", VALID_VALUES[i]);
    }
    for (size_t i = 0; i < sizeof INVALID / sizeof *INVALID; i++) {
        umi_json_state st;
        umi_json_init(&st, false);
        bool alive = feed_str(&st, INVALID[i]);
        check(!alive || !umi_json_complete(&st), "invalid %s: accepted as complete", INVALID[i]);
    }
    /* Limits: nesting and runs of whitespace. */
    umi_json_state st;
    char deep[UMI_JSON_MAX_DEPTH + 2];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    umi_json_init(&st, false);
    check(!feed_str(&st, deep), "nesting deeper than %d refused", UMI_JSON_MAX_DEPTH);
    deep[UMI_JSON_MAX_DEPTH] = 0;
    umi_json_init(&st, false);
    check(feed_str(&st, deep), "nesting of %d accepted", UMI_JSON_MAX_DEPTH);
    umi_json_init(&st, true);
    check(!feed_str(&st, " {}"), "an object-only document starts at its brace");
    umi_json_init(&st, true);
    check(!feed_str(&st, "{\n\n}"), "one line break per run of whitespace");
    umi_json_init(&st, true);
    check(feed_str(&st, "{\r\n  \"a\" :\r\n 1\r\n}"), "CRLF line breaks accepted");
    char ws[UMI_JSON_MAX_WS + 3] = "{";
    memset(ws + 1, ' ', UMI_JSON_MAX_WS + 1);
    ws[UMI_JSON_MAX_WS + 2] = 0;
    umi_json_init(&st, true);
    check(!feed_str(&st, ws), "more than %d whitespace bytes in a row refused", UMI_JSON_MAX_WS);
    ws[UMI_JSON_MAX_WS + 1] = 0;
    umi_json_init(&st, true);
    check(feed_str(&st, ws), "%d whitespace bytes accepted", UMI_JSON_MAX_WS);
    /* Completion. */
    umi_json_init(&st, false);
    check(feed_str(&st, "12") && umi_json_complete(&st), "a top-level number may end");
    check(feed_str(&st, ".") && !umi_json_complete(&st), "12. is not complete");
    umi_json_init(&st, true);
    check(feed_str(&st, "{\"a\":[") && !umi_json_complete(&st) && feed_str(&st, "]}") && umi_json_complete(&st),
          "an object completes at its closing brace");
    check(!feed_str(&st, "x") && st.dead && !feed_str(&st, "}"), "nothing follows; dead stays dead");
}

/* ---------------------------------------------------------------- sampling */

static void sample_runs(const char *path, int runs) {
    ck_vocab v;
    if (!ck_load(&v, path)) return;
    umi_error err = {0};
    int n_ok = 0;
    for (int r = 0; r < runs; r++) {
        const umi_sampler_params sp = ck_params(r);
        umi_sampler *s = umi_sampler_init(&sp, v.nv);
        if (!check(s && umi_sampler_set_json(s, v.m, &err) == UMI_OK, "sampler: %s", err.msg)) break;
        char out[65536];
        size_t len = 0;
        const bool ended = ck_run(&v, s, 2000, out, sizeof out, &len, NULL, NULL);
        cJSON *j = cJSON_ParseWithLength(out, len);
        bool ok = ended && umi_sampler_json_done(s) && j && cJSON_IsObject(j);
        n_ok += check(ok, "%s run %d: constrained output is not a JSON object: %.300s", path, r, out);
        cJSON_Delete(j);
        umi_sampler_free(s);
    }
    printf("%s: %d/%d constrained runs gave JSON objects\n", path, n_ok, runs);
    ck_free(&v);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    test_automaton();
    char path[4096];
    snprintf(path, sizeof path, "%s/models/stories260K.gguf", argv[1]);
    sample_runs(path, 30);
    snprintf(path, sizeof path, "%s/models/rnd-llama-q4_0.gguf", argv[2]);
    sample_runs(path, 9);
    snprintf(path, sizeof path, "%s/models/rnd-qwen2-q8_0.gguf", argv[2]);
    sample_runs(path, 6);
    snprintf(path, sizeof path, "%s/vocab/ggml-vocab-llama-bpe.gguf", argv[2]); /* 128k tokens */
    sample_runs(path, 3);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
