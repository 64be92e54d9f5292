/* test_gguf.c — the GGUF reader and writer on good files.
 *
 * Usage: test_gguf <source_dir> <shared_dir>
 *
 *   1. Round trip: the writer builds a file with every value type (scalars,
 *      arrays of each, strings, string arrays, empty arrays, an array of
 *      arrays patched in) and tensors of several types; the reader gets back
 *      exactly what went in, with tensor data aligned. Also general.alignment
 *      honoured, write_file + open (mmap and read), the getters, what the
 *      writer refuses, and open's errors (missing, directory, empty,
 *      unreadable file; a device).
 *   2. Every real .gguf file in <shared>/models/ and <shared>/vocab/
 *      parses, and every key and tensor is found by name.
 * Bad, truncated and mutated files: test_gguf_malformed.c.
 * Prints "N passed, M failed"; exits 1 on any failure.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mapfile.h"
#include "gguf/gguf.h"
#include "testkit.h"
#include "ggufkit.h"

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
    check(umi_mapfile_open("/dev/null", true, NULL, &m, &err) == UMI_ERR_IO &&
          strstr(err.msg, "not a regular file"), "device: %s", err.msg);
}


/* ---------------------------------------------------------------- 2. real files */

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
    int n = test_real_dir(shared, "models", true);
    n += test_real_dir(shared, "vocab", false);
    printf("  %d real files parsed\n", n);
    printf("test_gguf: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
