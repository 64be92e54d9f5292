/* GGUF writer: an in-memory builder that serializes to GGUF v3.
 *
 * Each value is encoded when it is added, exactly as it will appear after its
 * type field in the file, so serializing is concatenation. The writer refuses
 * (UMI_ERR_ARG) anything the reader would reject, so what it writes always
 * reads back. One emit function serves three sinks (count only, a buffer, a
 * FILE), which keeps the sizes computed and the bytes written in agreement.
 *
 * Layout: header, key/values in insertion order, tensor infos in insertion
 * order, zero padding to the alignment, then each tensor's bytes followed by
 * zero padding to the alignment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_private.h"
#include "quant/quant.h"

enum { GGUF_WRITE_VERSION = 3 };

typedef struct writer_kv {
    char *key;
    enum umi_gguf_type type; /* the value's type; ARRAY for arrays */
    uint8_t *value;          /* owned: the value as encoded in the file, after its type */
    size_t value_len;
} writer_kv;

typedef struct writer_tensor {
    char *name; /* owned */
    uint32_t type, n_dims;
    int64_t ne[4];
    uint8_t *data; /* owned copy, nbytes long */
    uint64_t nbytes;
} writer_tensor;

struct umi_gguf_writer {
    writer_kv *kv;
    uint64_t n_kv, cap_kv;
    writer_tensor *tensors;
    uint64_t n_tensors, cap_tensors;
    uint64_t alignment; /* 32, or general.alignment once added */
};

umi_gguf_writer *umi_gguf_writer_init(void) {
    umi_gguf_writer *w = calloc(1, sizeof *w);
    if (w) {
        w->alignment = UMI_GGUF_DEFAULT_ALIGNMENT;
    }
    return w;
}

void umi_gguf_writer_free(umi_gguf_writer *w) {
    if (!w) {
        return;
    }
    for (uint64_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].value);
    }
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->kv);
    free(w->tensors);
    free(w);
}

static void put_le(uint8_t *dst, uint64_t v, size_t nbytes) {
    for (size_t i = 0; i < nbytes; i++) {
        dst[i] = (uint8_t)(v >> (8 * i));
    }
}

static char *copy_cstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) {
        memcpy(p, s, n);
    }
    return p;
}

/* ---------------------------------------------------------------- key/values */

/* general.alignment steers the layout, so it must be what the reader accepts. */
static umi_status check_alignment_kv(umi_gguf_writer *w, enum umi_gguf_type type,
                                     const uint8_t *value) {
    if (type != UMI_GGUF_UINT32) {
        return UMI_ERR_ARG;
    }
    uint64_t a = (uint64_t)value[0] | (uint64_t)value[1] << 8 | (uint64_t)value[2] << 16 |
                 (uint64_t)value[3] << 24;
    if (a == 0 || (a & (a - 1)) != 0) {
        return UMI_ERR_ARG;
    }
    w->alignment = a;
    return UMI_OK;
}

/* Append a key with its encoded value. Takes ownership of value (freed on
 * failure too). */
static umi_status add_kv(umi_gguf_writer *w, const char *key, enum umi_gguf_type type,
                         uint8_t *value, size_t value_len) {
    umi_status st = UMI_OK;
    if (!value) {
        return UMI_ERR_NOMEM;
    }
    if (!w || !key || key[0] == '\0') {
        st = UMI_ERR_ARG;
    }
    /* a linear scan: writers hold tens of keys, and this runs once per key */
    for (uint64_t i = 0; st == UMI_OK && i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) {
            st = UMI_ERR_ARG;
        }
    }
    if (st == UMI_OK && strcmp(key, "general.alignment") == 0) {
        st = check_alignment_kv(w, type, value);
    }
    writer_kv *kv = NULL;
    if (st == UMI_OK) {
        kv = umi_gguf_grow(w->kv, &w->cap_kv, w->n_kv + 1, sizeof *kv);
        st = kv ? UMI_OK : UMI_ERR_NOMEM;
    }
    char *key_copy = NULL;
    if (st == UMI_OK) {
        w->kv = kv;
        key_copy = copy_cstr(key);
        st = key_copy ? UMI_OK : UMI_ERR_NOMEM;
    }
    if (st != UMI_OK) {
        free(value);
        return st;
    }
    w->kv[w->n_kv++] = (writer_kv){.key = key_copy, .type = type, .value = value,
                                   .value_len = value_len};
    return UMI_OK;
}

/* A fixed-size value given as its little-endian bit pattern. */
static umi_status add_scalar(umi_gguf_writer *w, const char *key, enum umi_gguf_type t,
                             uint64_t bits) {
    size_t n = (size_t)umi_gguf_scalar_size(t);
    uint8_t *v = malloc(n);
    if (v) {
        put_le(v, bits, n);
    }
    return add_kv(w, key, t, v, n);
}

umi_status umi_gguf_writer_add_u8(umi_gguf_writer *w, const char *key, uint8_t v) {
    return add_scalar(w, key, UMI_GGUF_UINT8, v);
}

umi_status umi_gguf_writer_add_i8(umi_gguf_writer *w, const char *key, int8_t v) {
    return add_scalar(w, key, UMI_GGUF_INT8, (uint8_t)v);
}

umi_status umi_gguf_writer_add_u16(umi_gguf_writer *w, const char *key, uint16_t v) {
    return add_scalar(w, key, UMI_GGUF_UINT16, v);
}

umi_status umi_gguf_writer_add_i16(umi_gguf_writer *w, const char *key, int16_t v) {
    return add_scalar(w, key, UMI_GGUF_INT16, (uint16_t)v);
}

umi_status umi_gguf_writer_add_u32(umi_gguf_writer *w, const char *key, uint32_t v) {
    return add_scalar(w, key, UMI_GGUF_UINT32, v);
}

umi_status umi_gguf_writer_add_i32(umi_gguf_writer *w, const char *key, int32_t v) {
    return add_scalar(w, key, UMI_GGUF_INT32, (uint32_t)v);
}

umi_status umi_gguf_writer_add_u64(umi_gguf_writer *w, const char *key, uint64_t v) {
    return add_scalar(w, key, UMI_GGUF_UINT64, v);
}

umi_status umi_gguf_writer_add_i64(umi_gguf_writer *w, const char *key, int64_t v) {
    return add_scalar(w, key, UMI_GGUF_INT64, (uint64_t)v);
}

umi_status umi_gguf_writer_add_f32(umi_gguf_writer *w, const char *key, float v) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return add_scalar(w, key, UMI_GGUF_FLOAT32, bits);
}

umi_status umi_gguf_writer_add_f64(umi_gguf_writer *w, const char *key, double v) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return add_scalar(w, key, UMI_GGUF_FLOAT64, bits);
}

umi_status umi_gguf_writer_add_bool(umi_gguf_writer *w, const char *key, bool v) {
    return add_scalar(w, key, UMI_GGUF_BOOL, v ? 1 : 0);
}

umi_status umi_gguf_writer_add_str(umi_gguf_writer *w, const char *key, const char *v) {
    if (!v) {
        return UMI_ERR_ARG;
    }
    size_t len = strlen(v);
    uint8_t *enc = malloc(8 + len);
    if (enc) {
        put_le(enc, len, 8);
        memcpy(enc + 8, v, len);
    }
    return add_kv(w, key, UMI_GGUF_STRING, enc, 8 + len);
}

umi_status umi_gguf_writer_add_arr(umi_gguf_writer *w, const char *key, enum umi_gguf_type t,
                                   const void *data, uint64_t n) {
    size_t size = (size_t)umi_gguf_scalar_size(t);
    if (size == 0 || (n > 0 && !data) || n > (SIZE_MAX - 12) / size) {
        return UMI_ERR_ARG;
    }
    size_t len = 4 + 8 + (size_t)n * size;
    uint8_t *enc = malloc(len);
    if (enc) {
        put_le(enc, t, 4);
        put_le(enc + 4, n, 8);
        /* elements are copied in host layout: umi runs on little-endian hosts */
        if (n > 0) {
            memcpy(enc + 12, data, (size_t)n * size);
        }
    }
    return add_kv(w, key, UMI_GGUF_ARRAY, enc, len);
}

umi_status umi_gguf_writer_add_str_arr(umi_gguf_writer *w, const char *key,
                                       const char *const *v, uint64_t n) {
    if (n > 0 && !v) {
        return UMI_ERR_ARG;
    }
    size_t len = 4 + 8;
    for (uint64_t i = 0; i < n; i++) {
        if (!v[i]) {
            return UMI_ERR_ARG;
        }
        size_t sl = strlen(v[i]);
        if (sl > SIZE_MAX - 8 - len) {
            return UMI_ERR_ARG;
        }
        len += 8 + sl;
    }
    uint8_t *enc = malloc(len);
    if (enc) {
        put_le(enc, UMI_GGUF_STRING, 4);
        put_le(enc + 4, n, 8);
        size_t pos = 12;
        for (uint64_t i = 0; i < n; i++) {
            size_t sl = strlen(v[i]);
            put_le(enc + pos, sl, 8);
            memcpy(enc + pos + 8, v[i], sl);
            pos += 8 + sl;
        }
    }
    return add_kv(w, key, UMI_GGUF_ARRAY, enc, len);
}

/* ---------------------------------------------------------------- tensors */

/* Bytes of a tensor, or UMI_ERR_ARG for a shape the reader would refuse. */
static umi_status tensor_nbytes(uint32_t type, uint32_t n_dims, const int64_t *ne,
                                int64_t ne4[4], uint64_t *nbytes) {
    const umi_type_traits *tr = umi_type_traits_get(type);
    if (!tr || n_dims > UMI_GGUF_MAX_DIMS || (n_dims > 0 && !ne)) {
        return UMI_ERR_ARG;
    }
    int64_t count = 1;
    for (uint32_t j = 0; j < UMI_GGUF_MAX_DIMS; j++) {
        ne4[j] = j < n_dims ? ne[j] : 1;
        if (ne4[j] < 0 || __builtin_mul_overflow(count, ne4[j], &count)) {
            return UMI_ERR_ARG;
        }
    }
    if (ne4[0] % tr->blck_size != 0) {
        return UMI_ERR_ARG;
    }
    uint64_t rows = (uint64_t)(ne4[1] * ne4[2] * ne4[3]);
    uint64_t row_bytes;
    if (__builtin_mul_overflow((uint64_t)(ne4[0] / tr->blck_size), (uint64_t)tr->type_size,
                               &row_bytes) ||
        __builtin_mul_overflow(row_bytes, rows, nbytes) || *nbytes > SIZE_MAX) {
        return UMI_ERR_ARG;
    }
    *nbytes = (uint64_t)umi_type_row_size(type, ne4[0]) * rows;
    return UMI_OK;
}

umi_status umi_gguf_writer_add_tensor(umi_gguf_writer *w, const char *name, uint32_t type,
                                      uint32_t n_dims, const int64_t *ne, const void *data) {
    if (!w || !name || name[0] == '\0' || strlen(name) >= UMI_GGUF_MAX_NAME) {
        return UMI_ERR_ARG;
    }
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        if (strcmp(w->tensors[i].name, name) == 0) {
            return UMI_ERR_ARG;
        }
    }
    writer_tensor t = {.type = type, .n_dims = n_dims};
    umi_status st = tensor_nbytes(type, n_dims, ne, t.ne, &t.nbytes);
    if (st != UMI_OK) {
        return st;
    }
    if (t.nbytes > 0 && !data) {
        return UMI_ERR_ARG;
    }
    writer_tensor *arr = umi_gguf_grow(w->tensors, &w->cap_tensors, w->n_tensors + 1, sizeof *arr);
    if (!arr) {
        return UMI_ERR_NOMEM;
    }
    w->tensors = arr;
    t.name = copy_cstr(name);
    t.data = malloc(t.nbytes ? (size_t)t.nbytes : 1);
    if (!t.name || !t.data) {
        free(t.name);
        free(t.data);
        return UMI_ERR_NOMEM;
    }
    if (t.nbytes > 0) {
        memcpy(t.data, data, (size_t)t.nbytes);
    }
    w->tensors[w->n_tensors++] = t;
    return UMI_OK;
}

/* ---------------------------------------------------------------- serializing */

/* Where emitted bytes go: buf when non-NULL, else f when non-NULL, else
 * nowhere (a counting pass). */
typedef struct gguf_sink {
    uint8_t *buf;
    FILE *f;
    uint64_t pos;
    bool failed;
} gguf_sink;

static void sink_put(gguf_sink *s, const void *p, uint64_t n) {
    if (n == 0) {
        return;
    }
    if (s->buf) {
        memcpy(s->buf + s->pos, p, (size_t)n);
    } else if (s->f && !s->failed && fwrite(p, 1, (size_t)n, s->f) != n) {
        s->failed = true;
    }
    s->pos += n;
}

static void sink_le(gguf_sink *s, uint64_t v, size_t nbytes) {
    uint8_t b[8];
    put_le(b, v, nbytes);
    sink_put(s, b, nbytes);
}

static void sink_pad(gguf_sink *s, uint64_t alignment) {
    static const uint8_t zeros[64];
    while (s->pos % alignment != 0) {
        uint64_t n = alignment - s->pos % alignment;
        sink_put(s, zeros, n < sizeof zeros ? n : sizeof zeros);
    }
}

static uint64_t align_up(uint64_t x, uint64_t a) {
    return (x + a - 1) / a * a;
}

static void emit(const umi_gguf_writer *w, gguf_sink *s) {
    sink_put(s, "GGUF", 4);
    sink_le(s, GGUF_WRITE_VERSION, 4);
    sink_le(s, w->n_tensors, 8);
    sink_le(s, w->n_kv, 8);
    for (uint64_t i = 0; i < w->n_kv; i++) {
        const writer_kv *kv = &w->kv[i];
        size_t klen = strlen(kv->key);
        sink_le(s, klen, 8);
        sink_put(s, kv->key, klen);
        sink_le(s, kv->type, 4);
        sink_put(s, kv->value, kv->value_len);
    }
    uint64_t offset = 0; /* relative to the data section */
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        const writer_tensor *t = &w->tensors[i];
        size_t nlen = strlen(t->name);
        sink_le(s, nlen, 8);
        sink_put(s, t->name, nlen);
        sink_le(s, t->n_dims, 4);
        for (uint32_t j = 0; j < t->n_dims; j++) {
            sink_le(s, (uint64_t)t->ne[j], 8);
        }
        sink_le(s, t->type, 4);
        sink_le(s, offset, 8);
        offset += align_up(t->nbytes, w->alignment);
    }
    sink_pad(s, w->alignment);
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        sink_put(s, w->tensors[i].data, w->tensors[i].nbytes);
        sink_pad(s, w->alignment);
    }
}

umi_status umi_gguf_writer_to_buffer(const umi_gguf_writer *w, void **out, size_t *out_size,
                                     umi_error *err) {
    *out = NULL;
    *out_size = 0;
    gguf_sink count = {0};
    emit(w, &count);
    if (count.pos > SIZE_MAX) {
        return umi_err(err, UMI_ERR_NOMEM, "gguf writer: %llu bytes do not fit in memory",
                       (unsigned long long)count.pos);
    }
    gguf_sink s = {.buf = malloc((size_t)count.pos)};
    if (!s.buf) {
        return umi_err(err, UMI_ERR_NOMEM, "gguf writer: cannot allocate %llu bytes",
                       (unsigned long long)count.pos);
    }
    emit(w, &s);
    *out = s.buf;
    *out_size = (size_t)s.pos;
    return UMI_OK;
}

umi_status umi_gguf_writer_write_file(const umi_gguf_writer *w, const char *path, umi_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        return umi_err(err, UMI_ERR_IO, "gguf writer: cannot create '%s': %s", path,
                       strerror(errno));
    }
    gguf_sink s = {.f = f};
    emit(w, &s);
    int saved = s.failed ? errno : 0;
    if (fclose(f) != 0 && !s.failed) {
        s.failed = true;
        saved = errno;
    }
    if (s.failed) {
        remove(path); /* a partial file would only fail later, less clearly */
        return umi_err(err, UMI_ERR_IO, "gguf writer: cannot write '%s': %s", path,
                       strerror(saved));
    }
    return UMI_OK;
}
