/* Helpers the GGUF tests (test_gguf.c, test_gguf_malformed.c) share: a
 * byte blob with little-endian put/get, finding a key or tensor name in a
 * file, and the good file: the writer's output holding every value type
 * (scalars, arrays of each, strings, string arrays, empty arrays, an array
 * of arrays patched in) and tensors of several types with known contents.
 * parse_exact parses a blob in an allocation of exactly its size, so that
 * ASan catches any read past the end. */
#ifndef UMI_TESTS_GGUFKIT_H
#define UMI_TESTS_GGUFKIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "quant/quant.h"

/* ---------------------------------------------------------------- blobs */

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

__attribute__((unused)) static blob copy_blob(const blob *b) {
    blob c = {malloc(b->size ? b->size : 1), b->size};
    memcpy(c.p, b->p, b->size);
    return c;
}

/* Parse exactly size bytes in their own allocation, so that ASan catches any
 * read past the end. */
__attribute__((unused)) static umi_status parse_exact(const uint8_t *data, size_t size,
                                                      umi_gguf **g, umi_error *err) {
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

/* The numeric arrays, in the order they are written. */
typedef struct test_array {
    const char *key;
    enum umi_gguf_type type;
    const void *data;
    uint64_t n;
} test_array;

static const test_array ARRAYS[] = {
    {"a.u8", UMI_GGUF_UINT8, ARR_U8, 3},       {"a.i8", UMI_GGUF_INT8, ARR_I8, 3},
    {"a.u16", UMI_GGUF_UINT16, ARR_U16, 2},    {"a.i16", UMI_GGUF_INT16, ARR_I16, 3},
    {"a.u32", UMI_GGUF_UINT32, ARR_U32, 2},    {"a.i32", UMI_GGUF_INT32, ARR_I32, 2},
    {"a.f32", UMI_GGUF_FLOAT32, ARR_F32, 3},   {"a.bool", UMI_GGUF_BOOL, ARR_BOOL, 3},
    {"a.u64", UMI_GGUF_UINT64, ARR_U64, 2},    {"a.i64", UMI_GGUF_INT64, ARR_I64, 2},
    {"a.f64", UMI_GGUF_FLOAT64, ARR_F64, 2},   {"a.empty", UMI_GGUF_UINT32, NULL, 0},
};

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
    for (size_t i = 0; i < sizeof ARRAYS / sizeof ARRAYS[0]; i++) {
        const test_array *a = &ARRAYS[i];
        bad |= umi_gguf_writer_add_arr(w, a->key, a->type, a->data, a->n) != UMI_OK;
    }
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

#endif
