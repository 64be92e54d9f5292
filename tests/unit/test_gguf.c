/* test_gguf.c — the GGUF reader and writer.
 *
 * Usage: test_gguf <source_dir> <shared_dir>
 *
 *   1. Round trip: the writer builds a file with every value type (scalars,
 *      arrays of each, strings, string arrays, empty arrays, an array of
 *      arrays patched in) and tensors of several types; the reader gets back
 *      exactly what went in, with tensor data aligned. Also general.alignment
 *      honoured, write_file + open (mmap and read), getters.
 *   2. A corpus of bad files made by patching a good one: each must be
 *      rejected with its own message (asserted by substring).
 *   3. Truncation at every byte of the header region and a sample of the data
 *      region: each prefix fails cleanly unless it holds all tensor data.
 *   4. Random byte mutations: no crash, and anything accepted is consistent.
 *   5. Every real .gguf file in <shared>/models/ and <shared>/vocab/
 *      parses, and every tensor is found by name.
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mapfile.h"
#include "gguf/gguf.h"
#include "quant/quant.h"

static int g_passed, g_failed;

static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool check(bool ok, const char *fmt, ...) {
    if (ok) {
        g_passed++;
        return true;
    }
    g_failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return false;
}

/* ---------------------------------------------------------------- helpers */

typedef struct blob {
    uint8_t *p;
    size_t size;
} blob;

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* Offset of the first occurrence of s (a key or tensor name) in b; the file
 * stores its u64 length just before it and its type or n_dims just after. */
static size_t find_name(const blob *b, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 8; i + n <= b->size; i++) {
        if (memcmp(b->p + i, s, n) == 0 && get_u64(b->p + i - 8) == n) {
            return i;
        }
    }
    fprintf(stderr, "test bug: '%s' not in file\n", s);
    abort();
}

static blob copy_blob(const blob *b) {
    blob c = {malloc(b->size ? b->size : 1), b->size};
    memcpy(c.p, b->p, b->size);
    return c;
}

/* Parse exactly size bytes in their own allocation, so that ASan catches any
 * read past the end. */
static umi_status parse_exact(const uint8_t *data, size_t size, umi_gguf **g, umi_error *err) {
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    umi_status st = umi_gguf_parse(copy, size, g, err);
    if (st == UMI_OK) {
        /* the parsed view points into copy: check it is usable, then drop both */
        for (uint64_t i = 0; i < (*g)->n_tensors; i++) {
            const umi_gguf_tensor *t = &(*g)->tensors[i];
            volatile uint8_t sink = 0;
            if (t->nbytes) {
                sink ^= ((const uint8_t *)t->data)[0] ^ ((const uint8_t *)t->data)[t->nbytes - 1];
            }
            (void)sink;
        }
        umi_gguf_close(*g);
        *g = NULL;
    }
    free(copy);
    return st;
}

/* b must be rejected with a one-line message containing substr; the message
 * is copied to msg (sizeof umi_error.msg bytes) when msg is non-NULL. */
static void expect_reject(const char *label, const blob *b, const char *substr, char *msg) {
    umi_gguf *g = NULL;
    umi_error err = {0};
    umi_status st = parse_exact(b->p, b->size, &g, &err);
    if (check(st != UMI_OK && g == NULL, "%s: accepted", label)) {
        check(strstr(err.msg, substr) != NULL, "%s: message '%s' lacks '%s'", label, err.msg,
              substr);
        check(strchr(err.msg, '\n') == NULL, "%s: message has a newline", label);
    }
    if (msg) {
        memcpy(msg, err.msg, sizeof err.msg);
    }
    if (getenv("UMI_TEST_VERBOSE")) {
        printf("  %-28s %s\n", label, err.msg);
    }
}

/* ---------------------------------------------------------------- the good file */

static const uint8_t ARR_U8[] = {1, 2, 250};
static const int8_t ARR_I8[] = {-128, 0, 127};
static const uint16_t ARR_U16[] = {0, 65535};
static const int16_t ARR_I16[] = {-32768, 32767, -1};
static const uint32_t ARR_U32[] = {7, 4000000000u};
static const int32_t ARR_I32[] = {-2147483647 - 1, 5};
static const float ARR_F32[] = {0.5f, -1e30f, 3.25f};
static const uint8_t ARR_BOOL[] = {1, 0, 1};
static const uint64_t ARR_U64[] = {UINT64_C(1) << 50, 9};
static const int64_t ARR_I64[] = {INT64_MIN, INT64_MAX};
static const double ARR_F64[] = {1e300, -0.125};
static const char *const ARR_STR[] = {"alpha", "", "gamma with spaces", "\xe2\x96\x81tok"};

/* 69 bytes that become the body of an array of 3 arrays once its element
 * type and count are patched (see patch_nested): [u32 x2], [str x1],
 * [[u8 x3]]. */
static const uint8_t NESTED_BODY[] = {
    4, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0,
    8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 'h', 'i',
    9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3,
};

typedef struct test_tensor {
    const char *name;
    uint32_t type;
    uint32_t n_dims;
    int64_t ne[4];
} test_tensor;

static const test_tensor TENSORS[] = {
    {"tensor.alpha", UMI_TYPE_F32, 2, {8, 2, 1, 1}},
    {"tensor.beta", UMI_TYPE_Q8_0, 2, {64, 3, 1, 1}},
    {"tensor.empty", UMI_TYPE_F32, 1, {0, 1, 1, 1}},
    {"tensor.gamma", UMI_TYPE_F16, 1, {16, 1, 1, 1}},
    {"tensor.delta", UMI_TYPE_Q4_K, 3, {256, 1, 2, 1}},
};
enum { N_TENSORS = sizeof TENSORS / sizeof TENSORS[0] };

static uint64_t tensor_bytes(const test_tensor *t) {
    return umi_type_row_size(t->type, t->ne[0]) * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
}

/* Deterministic tensor contents: byte j of tensor i. */
static uint8_t tensor_byte(int i, uint64_t j) {
    return (uint8_t)(j * 31 + (uint64_t)i * 7 + 1);
}

static int add_values(umi_gguf_writer *w) {
    int bad = 0;
    bad |= umi_gguf_writer_add_str(w, "general.architecture", "test") != UMI_OK;
    bad |= umi_gguf_writer_add_u8(w, "v.u8", 200) != UMI_OK;
    bad |= umi_gguf_writer_add_i8(w, "v.i8", -5) != UMI_OK;
    bad |= umi_gguf_writer_add_u16(w, "v.u16", 60000) != UMI_OK;
    bad |= umi_gguf_writer_add_i16(w, "v.i16", -30000) != UMI_OK;
    bad |= umi_gguf_writer_add_u32(w, "v.u32", 4000000000u) != UMI_OK;
    bad |= umi_gguf_writer_add_i32(w, "v.i32", -2000000000) != UMI_OK;
    bad |= umi_gguf_writer_add_u64(w, "v.u64", (UINT64_C(1) << 40) + 3) != UMI_OK;
    bad |= umi_gguf_writer_add_i64(w, "v.i64", -(INT64_C(1) << 40)) != UMI_OK;
    bad |= umi_gguf_writer_add_f32(w, "v.f32", 1.5f) != UMI_OK;
    bad |= umi_gguf_writer_add_f64(w, "v.f64", -2.25) != UMI_OK;
    bad |= umi_gguf_writer_add_bool(w, "v.bool", true) != UMI_OK;
    bad |= umi_gguf_writer_add_str(w, "v.str", "h\xc3\xa9llo") != UMI_OK;
    bad |= umi_gguf_writer_add_str(w, "v.str_empty", "") != UMI_OK;
    bad |= umi_gguf_writer_add_u32(w, "dup.aaa", 1) != UMI_OK;
    bad |= umi_gguf_writer_add_u32(w, "dup.aab", 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.u8", UMI_GGUF_UINT8, ARR_U8, 3) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.i8", UMI_GGUF_INT8, ARR_I8, 3) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.u16", UMI_GGUF_UINT16, ARR_U16, 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.i16", UMI_GGUF_INT16, ARR_I16, 3) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.u32", UMI_GGUF_UINT32, ARR_U32, 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.i32", UMI_GGUF_INT32, ARR_I32, 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.f32", UMI_GGUF_FLOAT32, ARR_F32, 3) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.bool", UMI_GGUF_BOOL, ARR_BOOL, 3) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.u64", UMI_GGUF_UINT64, ARR_U64, 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.i64", UMI_GGUF_INT64, ARR_I64, 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.f64", UMI_GGUF_FLOAT64, ARR_F64, 2) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.empty", UMI_GGUF_UINT32, NULL, 0) != UMI_OK;
    bad |= umi_gguf_writer_add_str_arr(w, "a.str", ARR_STR, 4) != UMI_OK;
    bad |= umi_gguf_writer_add_str_arr(w, "a.str_empty", NULL, 0) != UMI_OK;
    bad |= umi_gguf_writer_add_arr(w, "a.nested", UMI_GGUF_UINT8, NESTED_BODY,
                                   sizeof NESTED_BODY) != UMI_OK;
    return bad;
}

static int add_tensors(umi_gguf_writer *w) {
    int bad = 0;
    for (int i = 0; i < N_TENSORS; i++) {
        const test_tensor *t = &TENSORS[i];
        uint64_t n = tensor_bytes(t);
        uint8_t *data = malloc(n ? n : 1);
        for (uint64_t j = 0; j < n; j++) {
            data[j] = tensor_byte(i, j);
        }
        bad |= umi_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, data) != UMI_OK;
        free(data); /* the writer copied it */
    }
    return bad;
}

/* Turn the u8 array "a.nested" into an array of 3 arrays. */
static void patch_nested(blob *b) {
    size_t at = find_name(b, "a.nested") + strlen("a.nested");
    put_u32(b->p + at + 4, UMI_GGUF_ARRAY); /* element type */
    put_u64(b->p + at + 8, 3);              /* element count */
}

/* The good file; alignment 0 means "do not add general.alignment". */
static blob make_good(uint32_t alignment) {
    umi_gguf_writer *w = umi_gguf_writer_init();
    int bad = !w;
    if (w && alignment) {
        bad |= umi_gguf_writer_add_u32(w, "general.alignment", alignment) != UMI_OK;
    }
    if (w) {
        bad |= add_values(w);
        bad |= add_tensors(w);
    }
    blob b = {0};
    umi_error err = {0};
    void *p = NULL;
    if (w && umi_gguf_writer_to_buffer(w, &p, &b.size, &err) != UMI_OK) {
        bad = 1;
    }
    b.p = p;
    umi_gguf_writer_free(w);
    if (bad || !b.p) {
        fprintf(stderr, "test bug: cannot build the good file: %s\n", err.msg);
        abort();
    }
    patch_nested(&b);
    return b;
}

/* ---------------------------------------------------------------- 1. round trip */

static const umi_gguf_kv *find_typed(const umi_gguf *g, const char *key, enum umi_gguf_type t) {
    const umi_gguf_kv *kv = umi_gguf_find(g, key);
    check(kv && kv->type == t, "key %s missing or type %d", key, kv ? (int)kv->type : -1);
    return (kv && kv->type == t) ? kv : NULL;
}

static void check_uint(const umi_gguf *g, const char *key, enum umi_gguf_type t, uint64_t want) {
    const umi_gguf_kv *kv = find_typed(g, key, t);
    if (kv) {
        check(kv->v.u64 == want, "%s = %" PRIu64 ", want %" PRIu64, key, kv->v.u64, want);
    }
}

static void check_int(const umi_gguf *g, const char *key, enum umi_gguf_type t, int64_t want) {
    const umi_gguf_kv *kv = find_typed(g, key, t);
    if (kv) {
        check(kv->v.i64 == want, "%s = %" PRId64 ", want %" PRId64, key, kv->v.i64, want);
    }
}

static void check_float(const umi_gguf *g, const char *key, enum umi_gguf_type t, double want) {
    const umi_gguf_kv *kv = find_typed(g, key, t);
    if (kv) {
        check(kv->v.f64 == want, "%s = %g, want %g", key, kv->v.f64, want);
    }
}

static void check_string(const umi_gguf *g, const char *key, const char *want) {
    const umi_gguf_kv *kv = find_typed(g, key, UMI_GGUF_STRING);
    if (kv) {
        size_t n = strlen(want);
        check(kv->str.len == n && memcmp(kv->str.ptr, want, n) == 0, "%s", key);
    }
}

static void check_scalars(const umi_gguf *g) {
    check_uint(g, "v.u8", UMI_GGUF_UINT8, 200);
    check_int(g, "v.i8", UMI_GGUF_INT8, -5);
    check_uint(g, "v.u16", UMI_GGUF_UINT16, 60000);
    check_int(g, "v.i16", UMI_GGUF_INT16, -30000);
    check_uint(g, "v.u32", UMI_GGUF_UINT32, 4000000000u);
    check_int(g, "v.i32", UMI_GGUF_INT32, -2000000000);
    check_uint(g, "v.u64", UMI_GGUF_UINT64, (UINT64_C(1) << 40) + 3);
    check_int(g, "v.i64", UMI_GGUF_INT64, -(INT64_C(1) << 40));
    check_float(g, "v.f32", UMI_GGUF_FLOAT32, 1.5);
    check_float(g, "v.f64", UMI_GGUF_FLOAT64, -2.25);
    check_uint(g, "v.bool", UMI_GGUF_BOOL, 1);
    check_string(g, "v.str", "h\xc3\xa9llo");
    check_string(g, "v.str_empty", "");
    check_string(g, "general.architecture", "test");
}

static void check_int_array(const umi_gguf *g, const char *key, enum umi_gguf_type t,
                            const int64_t *want, uint64_t n) {
    const umi_gguf_kv *kv = find_typed(g, key, UMI_GGUF_ARRAY);
    if (!kv || !check(kv->arr_type == t && kv->arr_n == n, "%s: array header", key)) {
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        check(umi_gguf_arr_i64(kv, i) == want[i], "%s[%" PRIu64 "] = %" PRId64 ", want %" PRId64,
              key, i, umi_gguf_arr_i64(kv, i), want[i]);
        check(umi_gguf_arr_f64(kv, i) == (double)want[i], "%s[%" PRIu64 "] as f64", key, i);
    }
    check(umi_gguf_arr_i64(kv, n) == 0, "%s: out of range element gives 0", key);
}

static void check_float_array(const umi_gguf *g, const char *key, enum umi_gguf_type t,
                              const double *want, uint64_t n) {
    const umi_gguf_kv *kv = find_typed(g, key, UMI_GGUF_ARRAY);
    if (!kv || !check(kv->arr_type == t && kv->arr_n == n, "%s: array header", key)) {
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        check(umi_gguf_arr_f64(kv, i) == want[i], "%s[%" PRIu64 "]", key, i);
        check(umi_gguf_arr_i64(kv, i) == 0, "%s[%" PRIu64 "]: arr_i64 of floats is 0", key, i);
    }
}

static void check_arrays(const umi_gguf *g) {
    check_int_array(g, "a.u8", UMI_GGUF_UINT8, (const int64_t[]){1, 2, 250}, 3);
    check_int_array(g, "a.i8", UMI_GGUF_INT8, (const int64_t[]){-128, 0, 127}, 3);
    check_int_array(g, "a.u16", UMI_GGUF_UINT16, (const int64_t[]){0, 65535}, 2);
    check_int_array(g, "a.i16", UMI_GGUF_INT16, (const int64_t[]){-32768, 32767, -1}, 3);
    check_int_array(g, "a.u32", UMI_GGUF_UINT32, (const int64_t[]){7, 4000000000}, 2);
    check_int_array(g, "a.i32", UMI_GGUF_INT32, (const int64_t[]){INT32_MIN, 5}, 2);
    check_int_array(g, "a.bool", UMI_GGUF_BOOL, (const int64_t[]){1, 0, 1}, 3);
    check_int_array(g, "a.u64", UMI_GGUF_UINT64, (const int64_t[]){INT64_C(1) << 50, 9}, 2);
    check_int_array(g, "a.i64", UMI_GGUF_INT64, (const int64_t[]){INT64_MIN, INT64_MAX}, 2);
    check_int_array(g, "a.empty", UMI_GGUF_UINT32, NULL, 0);
    check_float_array(g, "a.f32", UMI_GGUF_FLOAT32, (const double[]){0.5, -1e30f, 3.25}, 3);
    check_float_array(g, "a.f64", UMI_GGUF_FLOAT64, (const double[]){1e300, -0.125}, 2);

    const umi_gguf_kv *kv = find_typed(g, "a.str", UMI_GGUF_ARRAY);
    if (kv && check(kv->arr_type == UMI_GGUF_STRING && kv->arr_n == 4 && kv->strs, "a.str hdr")) {
        for (int i = 0; i < 4; i++) {
            size_t n = strlen(ARR_STR[i]);
            check(kv->strs[i].len == n && memcmp(kv->strs[i].ptr, ARR_STR[i], n) == 0,
                  "a.str[%d]", i);
        }
    }
    kv = find_typed(g, "a.str_empty", UMI_GGUF_ARRAY);
    if (kv) {
        check(kv->arr_type == UMI_GGUF_STRING && kv->arr_n == 0, "a.str_empty");
    }
    kv = find_typed(g, "a.nested", UMI_GGUF_ARRAY);
    if (kv) {
        check(kv->arr_type == UMI_GGUF_ARRAY && kv->arr_n == 3, "a.nested keeps type and count");
        check(umi_gguf_arr_i64(kv, 0) == 0 && umi_gguf_arr_f64(kv, 0) == 0.0,
              "a.nested elements read as 0");
    }
}

static void check_tensors(const umi_gguf *g, uint64_t alignment) {
    check(g->alignment == alignment, "alignment %" PRIu64 ", want %" PRIu64, g->alignment,
          alignment);
    check(g->data_offset % alignment == 0, "data section aligned");
    check(g->n_tensors == N_TENSORS, "n_tensors %" PRIu64, g->n_tensors);
    for (int i = 0; i < N_TENSORS && (uint64_t)i < g->n_tensors; i++) {
        const test_tensor *want = &TENSORS[i];
        const umi_gguf_tensor *t = umi_gguf_find_tensor(g, want->name);
        if (!check(t == &g->tensors[i], "find_tensor(%s)", want->name)) {
            continue;
        }
        check(t->type == want->type && t->n_dims == want->n_dims, "%s: type/n_dims", want->name);
        check(memcmp(t->ne, want->ne, sizeof t->ne) == 0, "%s: ne", want->name);
        check(t->nbytes == tensor_bytes(want), "%s: nbytes", want->name);
        check(get_u64(g->base + t->info_offset) == strlen(want->name) &&
              memcmp(g->base + t->info_offset + 8, want->name, strlen(want->name)) == 0,
              "%s: info_offset", want->name);
        uint64_t at = (uint64_t)((const uint8_t *)t->data - g->base);
        check(at % alignment == 0 && at == g->data_offset + t->offset, "%s: placed", want->name);
        bool same = true;
        for (uint64_t j = 0; j < t->nbytes; j++) {
            same &= ((const uint8_t *)t->data)[j] == tensor_byte(i, j);
        }
        check(same, "%s: data", want->name);
    }
    check(umi_gguf_find_tensor(g, "tensor.missing") == NULL, "missing tensor is NULL");
    check(umi_gguf_find_tensor(g, "tensor.alph") == NULL, "prefix is not a match");
}

static void check_getters(const umi_gguf *g) {
    umi_error err = {0};
    uint32_t u = 77;
    check(umi_gguf_get_u32(g, "v.u8", true, &u, &err) == UMI_OK && u == 200, "get_u32 widens u8");
    check(umi_gguf_get_u32(g, "v.u32", true, &u, &err) == UMI_OK && u == 4000000000u, "u32");
    check(umi_gguf_get_u32(g, "v.i8", true, &u, &err) == UMI_ERR_FORMAT &&
          strstr(err.msg, "does not fit in u32"), "negative to u32 fails: %s", err.msg);
    check(umi_gguf_get_u32(g, "v.u64", true, &u, &err) == UMI_ERR_FORMAT, "big u64 to u32 fails");
    check(umi_gguf_get_u32(g, "v.str", true, &u, &err) == UMI_ERR_FORMAT &&
          strstr(err.msg, "has type str, expected an integer"), "str to u32: %s", err.msg);
    u = 77;
    check(umi_gguf_get_u32(g, "no.such", false, &u, &err) == UMI_OK && u == 77, "absent keeps");
    check(umi_gguf_get_u32(g, "no.such", true, &u, &err) == UMI_ERR_FORMAT &&
          strstr(err.msg, "required key 'no.such' is missing"), "required: %s", err.msg);
    float f = 0;
    check(umi_gguf_get_f32(g, "v.f64", true, &f, &err) == UMI_OK && f == -2.25f, "get_f32 f64");
    check(umi_gguf_get_f32(g, "v.i16", true, &f, &err) == UMI_OK && f == -30000.0f, "f32 int");
    check(umi_gguf_get_f32(g, "v.bool", true, &f, &err) == UMI_ERR_FORMAT, "bool to f32 fails");
    bool b = false;
    check(umi_gguf_get_bool(g, "v.bool", true, &b, &err) == UMI_OK && b, "get_bool");
    check(umi_gguf_get_bool(g, "v.u8", true, &b, &err) == UMI_ERR_FORMAT, "u8 to bool fails");
    umi_gguf_str s = {0};
    check(umi_gguf_get_str(g, "general.architecture", true, &s, &err) == UMI_OK && s.len == 4 &&
          memcmp(s.ptr, "test", 4) == 0, "get_str");
    check(umi_gguf_get_str(g, "a.str", true, &s, &err) == UMI_ERR_FORMAT, "array to str fails");
    char buf[4];
    umi_gguf_get_cstr(g, "v.str", buf, sizeof buf);
    check(strcmp(buf, "h\xc3\xa9") == 0, "get_cstr truncates");
    umi_gguf_get_cstr(g, "v.u8", buf, sizeof buf);
    check(buf[0] == '\0', "get_cstr of a non-string is empty");
    check(strcmp(umi_gguf_type_name(UMI_GGUF_FLOAT64), "f64") == 0 &&
          strcmp(umi_gguf_type_name(UMI_GGUF_TYPE_COUNT), "?") == 0, "type names");
}

static void check_good(const umi_gguf *g, uint64_t alignment) {
    check(g->version == 3, "version %" PRIu32, g->version);
    check_scalars(g);
    check_arrays(g);
    check_tensors(g, alignment);
}

static void test_round_trip(void) {
    blob b = make_good(0);
    umi_gguf *g = NULL;
    umi_error err = {0};
    if (check(umi_gguf_parse(b.p, b.size, &g, &err) == UMI_OK, "parse good: %s", err.msg)) {
        check_good(g, 32);
        check_getters(g);
        check(b.size % 32 == 0, "writer pads the file end");
        umi_gguf_close(g);
    }
    free(b.p);

    b = make_good(64);
    if (check(umi_gguf_parse(b.p, b.size, &g, &err) == UMI_OK, "parse align 64: %s", err.msg)) {
        check_good(g, 64);
        umi_gguf_close(g);
    }
    free(b.p);
}

static void test_writer_refuses(void) {
    umi_gguf_writer *w = umi_gguf_writer_init();
    int64_t ne[2] = {33, 1};
    check(umi_gguf_writer_add_u32(w, "k", 1) == UMI_OK, "add k");
    check(umi_gguf_writer_add_u32(w, "k", 2) == UMI_ERR_ARG, "duplicate key refused");
    check(umi_gguf_writer_add_u32(w, "", 2) == UMI_ERR_ARG, "empty key refused");
    check(umi_gguf_writer_add_u32(w, "general.alignment", 24) == UMI_ERR_ARG, "alignment 24");
    check(umi_gguf_writer_add_u64(w, "general.alignment", 64) == UMI_ERR_ARG, "u64 alignment");
    check(umi_gguf_writer_add_arr(w, "a", UMI_GGUF_STRING, "x", 1) == UMI_ERR_ARG, "str arr");
    check(umi_gguf_writer_add_tensor(w, "t", UMI_TYPE_Q8_0, 2, ne, NULL) == UMI_ERR_ARG,
          "ne[0] not a block multiple refused");
    check(umi_gguf_writer_add_tensor(w, "t", 255, 2, ne, NULL) == UMI_ERR_ARG, "type 255");
    check(umi_gguf_writer_add_tensor(w, "t", UMI_TYPE_F32, 5, ne, NULL) == UMI_ERR_ARG, "5 dims");
    float x[33] = {0};
    check(umi_gguf_writer_add_tensor(w, "t", UMI_TYPE_F32, 2, ne, x) == UMI_OK, "add t");
    check(umi_gguf_writer_add_tensor(w, "t", UMI_TYPE_F32, 2, ne, x) == UMI_ERR_ARG, "dup t");
    char long_name[80];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    check(umi_gguf_writer_add_tensor(w, long_name, UMI_TYPE_F32, 2, ne, x) == UMI_ERR_ARG,
          "long name refused");
    umi_gguf_writer_free(w);
}

/* write_file, then open both ways; plus mapfile's errors. */
static void test_files(void) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/umi_test_gguf_%d.gguf", (int)getpid());
    umi_gguf_writer *w = umi_gguf_writer_init();
    add_values(w);
    add_tensors(w);
    umi_error err = {0};
    check(umi_gguf_writer_write_file(w, path, &err) == UMI_OK, "write_file: %s", err.msg);
    umi_gguf_writer_free(w);
    for (int mode = 0; mode < 2; mode++) {
        umi_gguf *g = NULL;
        if (!check(umi_gguf_open(path, mode == 0, &g, &err) == UMI_OK, "open: %s", err.msg)) {
            continue;
        }
        check_tensors(g, 32);
        check(g->mapped == (mode == 0), "mapped flag");
        if (mode == 1) {
            check((uintptr_t)g->base % 64 == 0, "read buffer is 64-byte aligned");
        }
        umi_gguf_close(g);
    }
    remove(path);
    w = umi_gguf_writer_init();
    check(umi_gguf_writer_write_file(w, "/nonexistent-dir/x.gguf", &err) == UMI_ERR_IO &&
          strstr(err.msg, "cannot create"), "write_file to a missing dir: %s", err.msg);
    umi_gguf_writer_free(w);

    umi_gguf *g = NULL;
    check(umi_gguf_open(path, true, &g, &err) == UMI_ERR_IO && g == NULL &&
          strstr(err.msg, "No such file"), "missing file: %s", err.msg);
    check(umi_gguf_open("/tmp", false, &g, &err) == UMI_ERR_IO &&
          strstr(err.msg, "is a directory"), "directory: %s", err.msg);
    FILE *f = fopen(path, "wb");
    if (f) {
        fclose(f);
    }
    check(umi_gguf_open(path, true, &g, &err) == UMI_ERR_FORMAT &&
          strstr(err.msg, path) && strstr(err.msg, "unexpected end of file reading magic"),
          "empty file: %s", err.msg);
    if (geteuid() != 0) { /* root reads anything */
        chmod(path, 0);
        check(umi_gguf_open(path, false, &g, &err) == UMI_ERR_IO &&
              strstr(err.msg, "Permission denied"), "unreadable: %s", err.msg);
    }
    remove(path);
    umi_mapfile m;
    check(umi_mapfile_open("/dev/null", true, &m, &err) == UMI_ERR_IO &&
          strstr(err.msg, "not a regular file"), "device: %s", err.msg);
}

/* ---------------------------------------------------------------- 2. bad files */

/* Byte offsets of one tensor info's fields in a file. */
typedef struct info_at {
    size_t name_len, n_dims, ne, type, offset;
} info_at;

static info_at tensor_fields(const blob *b, const char *name) {
    info_at f;
    size_t p = find_name(b, name);
    uint32_t n_dims = b->p[p + strlen(name)];
    f.name_len = p - 8;
    f.n_dims = p + strlen(name);
    f.ne = f.n_dims + 4;
    f.type = f.ne + 8 * (size_t)n_dims;
    f.offset = f.type + 4;
    return f;
}

/* Offset of the value type field of a key. */
static size_t value_at(const blob *b, const char *key) {
    return find_name(b, key) + strlen(key);
}

static void bad_magic(blob *b) { b->p[0] = 'X'; }
static void bad_version99(blob *b) { put_u32(b->p + 4, 99); }
static void bad_version1(blob *b) { put_u32(b->p + 4, 1); }
static void bad_version_swapped(blob *b) { put_u32(b->p + 4, 0x03000000u); }
static void bad_n_tensors(blob *b) { put_u64(b->p + 8, UINT64_C(1) << 62); }
static void bad_n_kv(blob *b) { put_u64(b->p + 16, UINT64_C(1) << 62); }
static void bad_key_len(blob *b) { put_u64(b->p + 24, UINT64_C(1) << 63); }
static void bad_key_empty(blob *b) { put_u64(b->p + 24, 0); }
static void bad_key_nul(blob *b) { b->p[32 + 3] = 0; }
static void bad_str_len(blob *b) { put_u64(b->p + value_at(b, "v.str") + 4, UINT64_C(1) << 63); }
static void bad_value_type(blob *b) { put_u32(b->p + value_at(b, "v.u8"), 13); }
static void bad_elem_type(blob *b) { put_u32(b->p + value_at(b, "a.u8") + 4, 77); }
static void bad_arr_count(blob *b) { put_u64(b->p + value_at(b, "a.u8") + 8, UINT64_C(1) << 40); }
static void bad_str_elem(blob *b) {
    put_u64(b->p + value_at(b, "a.str") + 16, UINT64_C(1) << 63);
}
static void bad_nested_type(blob *b) { put_u32(b->p + value_at(b, "a.nested") + 16, 99); }
static void bad_dup_key(blob *b) { b->p[find_name(b, "dup.aab") + 6] = 'a'; }
static void bad_dup_tensor(blob *b) {
    memcpy(b->p + find_name(b, "tensor.gamma"), "tensor.alpha", 12);
}
static void bad_name_len(blob *b) { put_u64(b->p + tensor_fields(b, "tensor.alpha").name_len, 70); }
static void bad_n_dims(blob *b) { put_u32(b->p + tensor_fields(b, "tensor.alpha").n_dims, 5); }
static void bad_ne_negative(blob *b) {
    put_u64(b->p + tensor_fields(b, "tensor.alpha").ne + 8, UINT64_MAX);
}
static void bad_ne_overflow(blob *b) {
    info_at f = tensor_fields(b, "tensor.alpha");
    put_u64(b->p + f.ne, UINT64_C(1) << 32);
    put_u64(b->p + f.ne + 8, UINT64_C(1) << 32);
}
static void bad_type255(blob *b) { put_u32(b->p + tensor_fields(b, "tensor.beta").type, 255); }
static void bad_type16(blob *b) { put_u32(b->p + tensor_fields(b, "tensor.beta").type, 16); }
static void bad_block(blob *b) { put_u64(b->p + tensor_fields(b, "tensor.beta").ne, 48); }
static void bad_too_big(blob *b) {
    put_u64(b->p + tensor_fields(b, "tensor.alpha").ne, UINT64_C(1) << 40);
}
static void bad_misaligned(blob *b) {
    size_t at = tensor_fields(b, "tensor.beta").offset;
    put_u64(b->p + at, get_u64(b->p + at) + 1);
}
static void bad_offset_beyond(blob *b) {
    put_u64(b->p + tensor_fields(b, "tensor.beta").offset, UINT64_C(1) << 40);
}
static void bad_past_eof(blob *b) {
    /* delta is last: 144 bytes padded to 160, so 32 further on it ends 16 past EOF */
    size_t at = tensor_fields(b, "tensor.delta").offset;
    put_u64(b->p + at, get_u64(b->p + at) + 32);
}
static void bad_overlap(blob *b) { put_u64(b->p + tensor_fields(b, "tensor.beta").offset, 0); }
static void bad_data_section(blob *b) {
    /* cut right after the last info: the padded data section starts past EOF */
    b->size = tensor_fields(b, "tensor.delta").offset + 8;
}
static void bad_align0(blob *b) { put_u32(b->p + value_at(b, "general.alignment") + 4, 0); }
static void bad_align3(blob *b) { put_u32(b->p + value_at(b, "general.alignment") + 4, 3); }
static void bad_align_type(blob *b) {
    put_u32(b->p + value_at(b, "general.alignment"), UMI_GGUF_INT32);
}

typedef struct bad_case {
    const char *label;
    void (*patch)(blob *b);
    const char *substr;  /* expected in the message, and in no other case's */
    uint32_t alignment;  /* of the good file to patch; 0: no general.alignment key */
} bad_case;

static const bad_case BAD_CASES[] = {
    {"bad magic", bad_magic, "bad magic 'XGUF' at byte 0", 0},
    {"version 99", bad_version99, "unsupported GGUF version 99 at byte 4", 0},
    {"version 1", bad_version1, "v1 is obsolete", 0},
    {"big-endian", bad_version_swapped, "looks byte-swapped", 0},
    {"n_tensors 2^62", bad_n_tensors, "n_tensors = 4611686018427387904 at byte 8", 0},
    {"n_kv 2^62", bad_n_kv, "n_kv = 4611686018427387904 at byte 16", 0},
    {"key length 2^63", bad_key_len, "key string length 9223372036854775808 at byte 24", 0},
    {"empty key", bad_key_empty, "key at byte 24 is empty", 0},
    {"NUL in key", bad_key_nul, "contains a NUL byte", 0},
    {"value length 2^63", bad_str_len, "value string length 9223372036854775808", 0},
    {"value type 13", bad_value_type, "unknown value type 13", 0},
    {"array element type 77", bad_elem_type, "unknown array element type 77", 0},
    {"array count 2^40", bad_arr_count, "array count 1099511627776", 0},
    {"string element 2^63", bad_str_elem, "array element string length 9223372036854775808", 0},
    {"nested type 99", bad_nested_type, "unknown nested array element type 99", 0},
    {"duplicate key", bad_dup_key, "'dup.aaa': duplicate key at byte", 0},
    {"duplicate tensor", bad_dup_tensor, "duplicate tensor name at byte", 0},
    {"tensor name 70 bytes", bad_name_len, "bytes long (at most 63)", 0},
    {"n_dims 5", bad_n_dims, "n_dims = 5 at byte", 0},
    {"negative ne", bad_ne_negative, "ne[1] = -1 at byte", 0},
    {"ne product overflow", bad_ne_overflow, "overflows int64", 0},
    {"type 255", bad_type255, "unknown tensor type 255 at byte", 0},
    {"type 16", bad_type16, "tensor type 16 at byte", 0},
    {"ne[0] not a block multiple", bad_block, "is not a multiple of the block size 32", 0},
    {"tensor bigger than file", bad_too_big, "needs more bytes than the whole file", 0},
    {"misaligned offset", bad_misaligned, "is not a multiple of the alignment 32", 0},
    {"offset 2^40", bad_offset_beyond, "lies beyond the end of the file", 0},
    {"tensor past EOF", bad_past_eof, "'tensor.delta': data [", 0},
    {"overlap", bad_overlap, "overlaps tensor 0 'tensor.alpha' data [", 0},
    {"data section past EOF", bad_data_section, "starts past end of file", 0},
    {"alignment 0", bad_align0, "alignment = 0 (key at byte 24)", 32},
    {"alignment 3", bad_align3, "alignment = 3 (key at byte 24)", 32},
    {"alignment i32", bad_align_type, "type i32 at byte 24 must be u32", 32},
};
enum { N_BAD = sizeof BAD_CASES / sizeof BAD_CASES[0] };

static void test_bad_files(void) {
    blob good = make_good(0), good_aligned = make_good(32);
    char msgs[N_BAD][sizeof ((umi_error *)0)->msg];
    for (int i = 0; i < N_BAD; i++) {
        const bad_case *bc = &BAD_CASES[i];
        blob b = copy_blob(bc->alignment ? &good_aligned : &good);
        bc->patch(&b);
        expect_reject(bc->label, &b, bc->substr, msgs[i]);
        free(b.p);
    }
    /* Each message is its own: no case's substring appears in another's message. */
    for (int i = 0; i < N_BAD; i++) {
        for (int j = 0; j < N_BAD; j++) {
            if (i != j) {
                check(!strstr(msgs[j], BAD_CASES[i].substr), "'%s' also matches case '%s': %s",
                      BAD_CASES[i].substr, BAD_CASES[j].label, msgs[j]);
            }
        }
    }
    /* The message shape promised in gguf.h. */
    for (int i = 0; i < N_BAD; i++) {
        if (BAD_CASES[i].patch == bad_past_eof) {
            char tail[64];
            snprintf(tail, sizeof tail, ") ends past end of file (%zu bytes)", good.size);
            check(strncmp(msgs[i], "gguf: tensor 4 'tensor.delta': data [", 37) == 0 &&
                  strstr(msgs[i], tail), "past-EOF message: %s", msgs[i]);
        }
    }
    free(good.p);
    free(good_aligned.p);
}

/* Arrays of arrays nested deeper than the reader's bound. */
static void test_deep_nesting(void) {
    enum { LEVELS = 20 };
    uint8_t body[LEVELS * 12 + 12] = {0};
    for (int i = 0; i < LEVELS; i++) {
        put_u32(body + 12 * i, UMI_GGUF_ARRAY);
        put_u64(body + 12 * i + 4, 1);
    }
    put_u32(body + 12 * LEVELS, UMI_GGUF_UINT8); /* innermost: empty u8 array */
    umi_gguf_writer *w = umi_gguf_writer_init();
    umi_gguf_writer_add_arr(w, "deep", UMI_GGUF_UINT8, body, sizeof body);
    blob b = {0};
    void *p = NULL;
    umi_error err = {0};
    umi_gguf_writer_to_buffer(w, &p, &b.size, &err);
    umi_gguf_writer_free(w);
    b.p = p;
    size_t at = value_at(&b, "deep");
    put_u32(b.p + at + 4, UMI_GGUF_ARRAY);
    put_u64(b.p + at + 8, 1);
    expect_reject("nested 21 deep", &b, "arrays nested more than 16 deep", NULL);
    free(b.p);
}

/* ---------------------------------------------------------------- 3. truncation */

static void test_truncation(void) {
    blob b = make_good(0);
    umi_gguf *g = NULL;
    umi_error err = {0};
    if (umi_gguf_parse(b.p, b.size, &g, &err) != UMI_OK) {
        check(false, "truncation: good file: %s", err.msg);
        free(b.p);
        return;
    }
    uint64_t data_end = 0; /* where the last tensor's bytes end; padding follows */
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        uint64_t end = g->data_offset + g->tensors[i].offset + g->tensors[i].nbytes;
        data_end = end > data_end ? end : data_end;
    }
    umi_gguf_close(g);
    /* The file is small: every prefix, header and data alike. */
    int wrong = 0;
    for (size_t len = 0; len < b.size; len++) {
        umi_status st = parse_exact(b.p, len, &g, &err);
        bool want_ok = len >= data_end;
        bool ok = want_ok ? st == UMI_OK
                          : (st == UMI_ERR_FORMAT && strncmp(err.msg, "gguf: ", 6) == 0);
        if (!ok && wrong++ < 5) {
            check(false, "truncated to %zu of %zu bytes: status %d, '%s'", len, b.size, st,
                  err.msg);
        }
    }
    check(wrong == 0, "%d truncations misjudged", wrong);
    free(b.p);
}

/* ---------------------------------------------------------------- 4. mutations */

static uint64_t rng_next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void test_mutations(void) {
    blob good = make_good(0);
    uint64_t seed = 12345;
    int n = getenv("UMI_TEST_QUICK") ? 2000 : 20000;
    int accepted = 0;
    for (int it = 0; it < n; it++) {
        blob b = copy_blob(&good);
        int edits = 1 + (int)(rng_next(&seed) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rng_next(&seed) % b.size;
            switch (rng_next(&seed) % 4) {
            case 0: b.p[at] ^= (uint8_t)(1u << (rng_next(&seed) % 8)); break;
            case 1: b.p[at] = 0xff; break;
            case 2: b.p[at] = 0; break;
            default: b.p[at] = (uint8_t)rng_next(&seed); break;
            }
        }
        if (rng_next(&seed) % 8 == 0) {
            b.size = rng_next(&seed) % b.size;
        }
        umi_gguf *g = NULL;
        umi_error err = {0};
        umi_status st = parse_exact(b.p, b.size, &g, &err);
        accepted += st == UMI_OK;
        if (st != UMI_OK && (err.msg[0] == '\0' || strchr(err.msg, '\n'))) {
            check(false, "mutation %d: bad message '%s'", it, err.msg);
        }
        free(b.p);
    }
    check(true, "mutations");
    printf("  %d mutated files, %d accepted (data in padding or values)\n", n, accepted);
    free(good.p);
}

/* ---------------------------------------------------------------- 5. real files */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_real_file(const char *path, bool use_mmap, bool want_tensors) {
    umi_gguf *g = NULL;
    umi_error err = {0};
    if (!check(umi_gguf_open(path, use_mmap, &g, &err) == UMI_OK, "%s: %s", path, err.msg)) {
        return;
    }
    umi_gguf_str arch = {0};
    check(umi_gguf_get_str(g, "general.architecture", true, &arch, &err) == UMI_OK && arch.len,
          "%s: general.architecture: %s", path, err.msg);
    if (want_tensors) {
        check(g->n_tensors > 0, "%s: has tensors", path);
    }
    bool found = true;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        found &= umi_gguf_find(g, g->kv[i].key) == &g->kv[i];
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        found &= umi_gguf_find_tensor(g, g->tensors[i].name) == &g->tensors[i];
    }
    check(found, "%s: every key and tensor found by name", path);
    umi_gguf_close(g);
}

static int test_real_dir(const char *shared, const char *sub, bool want_tensors) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", shared, sub);
    DIR *d = opendir(dir);
    if (!check(d != NULL, "cannot open %s", dir)) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".gguf")) {
            continue;
        }
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        check_real_file(path, true, want_tensors);
        struct stat st;
        if (stat(path, &st) == 0 && st.st_size < (4 << 20)) {
            check_real_file(path, false, want_tensors);
        }
        n++;
    }
    closedir(d);
    check(n > 0, "no .gguf files in %s", dir);
    return n;
}

int main(int argc, char **argv) {
    const char *shared = argc > 2 ? argv[2] : "../shared";
    test_round_trip();
    test_writer_refuses();
    test_files();
    test_bad_files();
    test_deep_nesting();
    test_truncation();
    test_mutations();
    int n = test_real_dir(shared, "models", true);
    n += test_real_dir(shared, "vocab", false);
    printf("  %d real files parsed\n", n);
    printf("test_gguf: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
