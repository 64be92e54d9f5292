/* Typed getters over parsed key/values.
 *
 * Widening is allowed within a family (any integer type to u32 when the value
 * fits; f32/f64, and integers, to f32) so that loaders need not care which
 * width a converter chose. Mismatched families are format errors: a string
 * where a count belongs is a broken file, not something to guess at.
 */
#include <stdio.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "gguf/gguf_private.h"

static bool is_unsigned_int(enum umi_gguf_type t) {
    return t == UMI_GGUF_UINT8 || t == UMI_GGUF_UINT16 || t == UMI_GGUF_UINT32 ||
           t == UMI_GGUF_UINT64;
}

static bool is_signed_int(enum umi_gguf_type t) {
    return t == UMI_GGUF_INT8 || t == UMI_GGUF_INT16 || t == UMI_GGUF_INT32 ||
           t == UMI_GGUF_INT64;
}

/* *kv is NULL (and UMI_OK returned) when the key is absent and not required. */
static umi_status lookup(const umi_gguf *g, const char *key, bool required,
                         const umi_gguf_kv **kv, umi_error *err) {
    *kv = umi_gguf_find(g, key);
    if (!*kv && required) {
        return umi_err(err, UMI_ERR_FORMAT, "gguf: required key '%s' is missing", key);
    }
    return UMI_OK;
}

static umi_status wrong_type(const umi_gguf_kv *kv, const char *expected, umi_error *err) {
    return umi_err(err, UMI_ERR_FORMAT, "gguf: key '%s' at byte %" PRIu64 " has type %s, "
                   "expected %s", kv->key, kv->offset, umi_gguf_type_name(kv->type), expected);
}

umi_status umi_gguf_get_u32(const umi_gguf *g, const char *key, bool required, uint32_t *out,
                            umi_error *err) {
    const umi_gguf_kv *kv;
    umi_status st = lookup(g, key, required, &kv, err);
    if (st != UMI_OK || !kv) {
        return st;
    }
    if (is_unsigned_int(kv->type)) {
        if (kv->v.u64 > UINT32_MAX) {
            return umi_err(err, UMI_ERR_FORMAT, "gguf: key '%s' at byte %" PRIu64 ": value %"
                           PRIu64 " does not fit in u32", key, kv->offset, kv->v.u64);
        }
        *out = (uint32_t)kv->v.u64;
        return UMI_OK;
    }
    if (is_signed_int(kv->type)) {
        if (kv->v.i64 < 0 || kv->v.i64 > (int64_t)UINT32_MAX) {
            return umi_err(err, UMI_ERR_FORMAT, "gguf: key '%s' at byte %" PRIu64 ": value %"
                           PRId64 " does not fit in u32", key, kv->offset, kv->v.i64);
        }
        *out = (uint32_t)kv->v.i64;
        return UMI_OK;
    }
    return wrong_type(kv, "an integer", err);
}

umi_status umi_gguf_get_f32(const umi_gguf *g, const char *key, bool required, float *out,
                            umi_error *err) {
    const umi_gguf_kv *kv;
    umi_status st = lookup(g, key, required, &kv, err);
    if (st != UMI_OK || !kv) {
        return st;
    }
    double v;
    if (kv->type == UMI_GGUF_FLOAT32 || kv->type == UMI_GGUF_FLOAT64) {
        v = kv->v.f64;
    } else if (is_signed_int(kv->type)) {
        v = (double)kv->v.i64;
    } else if (is_unsigned_int(kv->type)) {
        v = (double)kv->v.u64;
    } else {
        return wrong_type(kv, "a number", err);
    }
    /* converting an out-of-range double to float is undefined behaviour */
    if (isfinite(v) && fabs(v) > FLT_MAX) {
        return umi_err(err, UMI_ERR_FORMAT, "gguf: key '%s' at byte %" PRIu64 ": value %g does "
                       "not fit in f32", key, kv->offset, v);
    }
    *out = (float)v;
    return UMI_OK;
}

umi_status umi_gguf_get_bool(const umi_gguf *g, const char *key, bool required, bool *out,
                             umi_error *err) {
    const umi_gguf_kv *kv;
    umi_status st = lookup(g, key, required, &kv, err);
    if (st != UMI_OK || !kv) {
        return st;
    }
    if (kv->type != UMI_GGUF_BOOL) {
        return wrong_type(kv, "bool", err);
    }
    *out = kv->v.u64 != 0;
    return UMI_OK;
}

umi_status umi_gguf_get_str(const umi_gguf *g, const char *key, bool required, umi_gguf_str *out,
                            umi_error *err) {
    const umi_gguf_kv *kv;
    umi_status st = lookup(g, key, required, &kv, err);
    if (st != UMI_OK || !kv) {
        return st;
    }
    if (kv->type != UMI_GGUF_STRING) {
        return wrong_type(kv, "str", err);
    }
    *out = kv->str;
    return UMI_OK;
}

void umi_gguf_get_cstr(const umi_gguf *g, const char *key, char *buf, size_t buf_len) {
    if (!buf || buf_len == 0) {
        return;
    }
    buf[0] = '\0';
    const umi_gguf_kv *kv = umi_gguf_find(g, key);
    if (!kv || kv->type != UMI_GGUF_STRING) {
        return;
    }
    size_t n = kv->str.len < buf_len - 1 ? (size_t)kv->str.len : buf_len - 1;
    if (n > 0) {
        memcpy(buf, kv->str.ptr, n);
    }
    buf[n] = '\0';
}

uint32_t umi_gguf_arch_u32(const umi_gguf *g, const char *arch, const char *suffix) {
    char key[160];
    uint32_t v = 0;
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (umi_gguf_get_u32(g, key, false, &v, NULL) != UMI_OK) v = 0;
    return v;
}
