/* The bounds-checked cursor every reader file goes through, and the GGUF
 * value types: sizes, little-endian decoding, widening array access.
 *
 * Values are assembled byte by byte, so the reader is correct on any host;
 * only arr pointers handed to callers assume a little-endian host. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_private.h"

/* ---------------------------------------------------------------- messages */

umi_status umi_gguf_cur_fail(const umi_gguf_cursor *c, umi_status code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return umi_err(c->err, code, "gguf: %s: %s", c->where, msg);
}

void umi_gguf_cur_where(umi_gguf_cursor *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->where, sizeof c->where, fmt, ap);
    va_end(ap);
}

void umi_gguf_printable(char *dst, size_t cap, const char *src, uint64_t len) {
    size_t n = 0;
    for (uint64_t i = 0; i < len && n + 4 < cap; i++) {
        if (i == 48) {
            memcpy(dst + n, "...", 3);
            n += 3;
            break;
        }
        unsigned char ch = (unsigned char)src[i];
        dst[n++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    dst[n] = '\0';
}

/* ---------------------------------------------------------------- reading */

static uint64_t load_le(const uint8_t *p, uint64_t nbytes) {
    uint64_t v = 0;
    for (uint64_t i = 0; i < nbytes; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

umi_status umi_gguf_cur_take(umi_gguf_cursor *c, uint64_t n, const char *field,
                             const uint8_t **out) {
    if (n > umi_gguf_cur_left(c)) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "unexpected end of file reading %s at byte %" PRIu64
                                 " (%" PRIu64 " bytes needed, %" PRIu64 " left)",
                                 field, c->pos, n, umi_gguf_cur_left(c));
    }
    *out = c->base + c->pos;
    c->pos += n;
    return UMI_OK;
}

umi_status umi_gguf_cur_u32(umi_gguf_cursor *c, const char *field, uint32_t *out) {
    const uint8_t *p = NULL;
    umi_status st = umi_gguf_cur_take(c, 4, field, &p);
    if (st == UMI_OK) {
        *out = (uint32_t)load_le(p, 4);
    }
    return st;
}

umi_status umi_gguf_cur_u64(umi_gguf_cursor *c, const char *field, uint64_t *out) {
    const uint8_t *p = NULL;
    umi_status st = umi_gguf_cur_take(c, 8, field, &p);
    if (st == UMI_OK) {
        *out = load_le(p, 8);
    }
    return st;
}

umi_status umi_gguf_cur_str(umi_gguf_cursor *c, const char *field, umi_gguf_str *out) {
    uint64_t at = c->pos;
    uint64_t len;
    umi_status st = umi_gguf_cur_u64(c, field, &len);
    if (st != UMI_OK) {
        return st;
    }
    if (len > umi_gguf_cur_left(c)) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "%s string length %" PRIu64 " at byte %" PRIu64
                                 " exceeds the %" PRIu64 " bytes left in the file",
                                 field, len, at, umi_gguf_cur_left(c));
    }
    out->ptr = (const char *)c->base + c->pos;
    out->len = len;
    c->pos += len;
    return UMI_OK;
}

umi_status umi_gguf_cur_copy_name(umi_gguf_cursor *c, const char *what, umi_gguf_str s,
                                  uint64_t at, char **out) {
    if (memchr(s.ptr, '\0', (size_t)s.len)) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "%s at byte %" PRIu64 " contains a NUL byte",
                                 what, at);
    }
    *out = malloc((size_t)s.len + 1);
    if (!*out) {
        return umi_gguf_cur_fail(c, UMI_ERR_NOMEM, "cannot allocate a %" PRIu64 "-byte %s",
                                 s.len, what);
    }
    memcpy(*out, s.ptr, (size_t)s.len);
    (*out)[s.len] = '\0';
    return UMI_OK;
}

/* ---------------------------------------------------------------- value types */

const char *umi_gguf_type_name(enum umi_gguf_type t) {
    static const char *const names[UMI_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "str", "arr", "u64", "i64", "f64",
    };
    return ((unsigned)t < UMI_GGUF_TYPE_COUNT) ? names[t] : "?";
}

uint64_t umi_gguf_scalar_size(uint32_t t) {
    switch (t) {
    case UMI_GGUF_UINT8: case UMI_GGUF_INT8: case UMI_GGUF_BOOL: return 1;
    case UMI_GGUF_UINT16: case UMI_GGUF_INT16: return 2;
    case UMI_GGUF_UINT32: case UMI_GGUF_INT32: case UMI_GGUF_FLOAT32: return 4;
    case UMI_GGUF_UINT64: case UMI_GGUF_INT64: case UMI_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Reinterpret the low bytes of raw as a two's complement integer of that
 * width (memcpy between same-width types: no implementation-defined casts). */
static int64_t sign_extend(uint64_t raw, uint64_t nbytes) {
    switch (nbytes) {
    case 1: { uint8_t u = (uint8_t)raw; int8_t v; memcpy(&v, &u, 1); return v; }
    case 2: { uint16_t u = (uint16_t)raw; int16_t v; memcpy(&v, &u, 2); return v; }
    case 4: { uint32_t u = (uint32_t)raw; int32_t v; memcpy(&v, &u, 4); return v; }
    default: { int64_t v; memcpy(&v, &raw, 8); return v; }
    }
}

static bool type_is_float(uint32_t t) {
    return t == UMI_GGUF_FLOAT32 || t == UMI_GGUF_FLOAT64;
}

static bool type_is_signed(uint32_t t) {
    return t == UMI_GGUF_INT8 || t == UMI_GGUF_INT16 || t == UMI_GGUF_INT32 ||
           t == UMI_GGUF_INT64;
}

void umi_gguf_decode_scalar(uint32_t t, const uint8_t *p, umi_gguf_kv *kv) {
    uint64_t size = umi_gguf_scalar_size(t);
    uint64_t raw = load_le(p, size);
    if (type_is_signed(t)) {
        kv->v.i64 = sign_extend(raw, size);
    } else if (t == UMI_GGUF_FLOAT32) {
        uint32_t bits = (uint32_t)raw;
        float f;
        memcpy(&f, &bits, 4);
        kv->v.f64 = f;
    } else if (t == UMI_GGUF_FLOAT64) {
        memcpy(&kv->v.f64, &raw, 8);
    } else if (t == UMI_GGUF_BOOL) {
        kv->v.u64 = raw != 0; /* the reference engine reads any nonzero byte as true */
    } else {
        kv->v.u64 = raw;
    }
}

/* ---------------------------------------------------------------- array elements */

static bool array_elem(const umi_gguf_kv *kv, uint64_t i, umi_gguf_kv *tmp) {
    if (!kv || kv->type != UMI_GGUF_ARRAY || i >= kv->arr_n) {
        return false;
    }
    uint64_t size = umi_gguf_scalar_size(kv->arr_type);
    if (size == 0) {
        return false;
    }
    umi_gguf_decode_scalar(kv->arr_type, (const uint8_t *)kv->arr + i * size, tmp);
    return true;
}

int64_t umi_gguf_arr_i64(const umi_gguf_kv *kv, uint64_t i) {
    umi_gguf_kv tmp;
    if (!array_elem(kv, i, &tmp) || type_is_float(kv->arr_type)) {
        return 0;
    }
    return type_is_signed(kv->arr_type) ? tmp.v.i64 : sign_extend(tmp.v.u64, 8);
}

double umi_gguf_arr_f64(const umi_gguf_kv *kv, uint64_t i) {
    umi_gguf_kv tmp;
    if (!array_elem(kv, i, &tmp)) {
        return 0.0;
    }
    if (type_is_float(kv->arr_type)) {
        return tmp.v.f64;
    }
    return type_is_signed(kv->arr_type) ? (double)tmp.v.i64 : (double)tmp.v.u64;
}
