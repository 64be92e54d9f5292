/* Private to src/gguf/: the bounds-checked cursor the reader files share, the
 * value helpers the getters and the writer need, and the reader's phases that
 * live in separate files. Nothing outside src/gguf/ includes this.
 *
 * Files: gguf_cursor.c (cursor, value types), gguf_read.c (header, key/values,
 * hash indexes, open/close), gguf_tensors.c (tensor infos, data ranges),
 * gguf_get.c (typed getters), gguf_write.c (the writer).
 */
#ifndef UMI_GGUF_PRIVATE_H
#define UMI_GGUF_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf/gguf.h"

enum {
    UMI_GGUF_DEFAULT_ALIGNMENT = 32,
    UMI_GGUF_MAX_DIMS = 4,
    /* The reference engine stores tensor names in char[64] with a NUL, so a
     * name has at most 63 bytes. */
    UMI_GGUF_MAX_NAME = 64,
};

/* ---------------------------------------------------------------- cursor (gguf_cursor.c) */

/* Reads from [0, size) of base, never beyond. Failures fill err with
 * "gguf: <where>: <what went wrong, with the byte offset>". */
typedef struct umi_gguf_cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    umi_error *err;
    char where[160]; /* what is being read: "header", "key 5 'general.name'", ... */
} umi_gguf_cursor;

static inline uint64_t umi_gguf_cur_left(const umi_gguf_cursor *c) {
    return c->size - c->pos;
}

/* Fill c->err and return code. */
umi_status umi_gguf_cur_fail(const umi_gguf_cursor *c, umi_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set c->where (printf-style). */
void umi_gguf_cur_where(umi_gguf_cursor *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Advance over n bytes, *out pointing at them; fails at end of file. */
umi_status umi_gguf_cur_take(umi_gguf_cursor *c, uint64_t n, const char *field,
                             const uint8_t **out);
umi_status umi_gguf_cur_u32(umi_gguf_cursor *c, const char *field, uint32_t *out);
umi_status umi_gguf_cur_u64(umi_gguf_cursor *c, const char *field, uint64_t *out);
/* A string: u64 length then the bytes; out points into base. */
umi_status umi_gguf_cur_str(umi_gguf_cursor *c, const char *field, umi_gguf_str *out);
/* Copy a name from the file into a malloc'd C string (the caller frees);
 * refuses embedded NULs, which would make two different names compare equal.
 * at is the byte offset of the name, for the message. */
umi_status umi_gguf_cur_copy_name(umi_gguf_cursor *c, const char *what, umi_gguf_str s,
                                  uint64_t at, char **out);

/* A file string made safe for a one-line message: at most 48 bytes, anything
 * unprintable replaced by '?'. */
void umi_gguf_printable(char *dst, size_t cap, const char *src, uint64_t len);

/* ---------------------------------------------------------------- value types (gguf_cursor.c) */

/* Bytes of one value of a fixed-size type; 0 for STRING, ARRAY and unknown ids. */
uint64_t umi_gguf_scalar_size(uint32_t t);
/* Widen the little-endian value of fixed-size type t at p into kv->v. */
void umi_gguf_decode_scalar(uint32_t t, const uint8_t *p, umi_gguf_kv *kv);

/* ---------------------------------------------------------------- reader phases */

/* gguf_read.c: build g->kv_slots or g->tensor_slots over the entries read so
 * far, failing on a duplicate name. */
umi_status umi_gguf_build_index(umi_gguf_cursor *c, umi_gguf *g, bool tensors);

/* gguf_tensors.c: read the n tensor infos the header claims (g->n_tensors
 * counts those actually read, so close frees exactly those), then place the
 * data section and check every tensor's range. */
umi_status umi_gguf_read_tensor_infos(umi_gguf_cursor *c, umi_gguf *g, uint64_t n);
umi_status umi_gguf_check_tensor_data(umi_gguf_cursor *c, umi_gguf *g);

/* Make room for element need-1 of a growing array (capacity doubles): returns
 * the possibly moved array with the new part zeroed, or NULL with the old one
 * still valid. Growing as entries parse keeps memory proportional to what the
 * file holds, not to what its header claims. */
void *umi_gguf_grow(void *arr, uint64_t *cap, uint64_t need, size_t elem);

#endif
