/* GGUF reader and writer. Knows the container format only, nothing about models.
 *
 * Format facts (GGUF v2/v3, little-endian): magic "GGUF", u32 version, u64
 * n_tensors, u64 n_kv; then n_kv key/value pairs (string key, u32 value type,
 * value); then n_tensors tensor infos (string name, u32 n_dims, n_dims x i64
 * ne, u32 ggml type, u64 offset relative to the data section); the data
 * section starts at the next multiple of general.alignment (u32, default 32).
 * v1 (32-bit counts) is obsolete and refused, as are big-endian files.
 * Strings are u64 length + bytes (no NUL). Arrays are u32 elem type + u64
 * count + elements; arrays may nest.
 *
 * umi_gguf_open (map + umi_gguf_parse) validates the whole header before
 * returning: every count and length against the file size and SIZE_MAX,
 * n_dims <= 4, ne >= 0, element-count overflow, tensor type known to quant,
 * ne[0] a multiple of its block size, data range inside the file, alignment
 * (a nonzero power of two; tensor offsets multiples of it), no two tensors
 * overlapping, no duplicate keys or tensor names, tensor names under 64 bytes
 * (the reference engine's limit). Arrays of arrays are validated and skipped.
 * Nothing outside [0, size) is ever read. Errors are one line naming the
 * field and its byte offset, e.g.
 *   "gguf: tensor 3 'blk.0.attn_q.weight': data [91234, 95330) ends past end of file (80000 bytes)".
 * umi_gguf_open puts the file path in front of that.
 *
 * Lookups of keys and tensor names go through hash indexes built at open, so
 * a model loader may call umi_gguf_find_tensor thousands of times cheaply.
 */
#ifndef UMI_GGUF_H
#define UMI_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/progress.h"
#include "core/error.h"

enum umi_gguf_type {
    UMI_GGUF_UINT8 = 0,
    UMI_GGUF_INT8 = 1,
    UMI_GGUF_UINT16 = 2,
    UMI_GGUF_INT16 = 3,
    UMI_GGUF_UINT32 = 4,
    UMI_GGUF_INT32 = 5,
    UMI_GGUF_FLOAT32 = 6,
    UMI_GGUF_BOOL = 7,
    UMI_GGUF_STRING = 8,
    UMI_GGUF_ARRAY = 9,
    UMI_GGUF_UINT64 = 10,
    UMI_GGUF_INT64 = 11,
    UMI_GGUF_FLOAT64 = 12,
    UMI_GGUF_TYPE_COUNT
};

/* A string inside the mapped file: not NUL-terminated. */
typedef struct umi_gguf_str {
    const char *ptr;
    uint64_t len;
} umi_gguf_str;

typedef struct umi_gguf_kv {
    char *key;              /* NUL-terminated copy, owned by the umi_gguf */
    enum umi_gguf_type type;
    /* scalars: the value, widened. */
    union {
        uint64_t u64; /* UINT8/16/32/64, BOOL */
        int64_t i64;  /* INT8/16/32/64 */
        double f64;   /* FLOAT32/64 */
    } v;
    umi_gguf_str str;       /* STRING */
    /* ARRAY: element type and count; arr points at the first element in the
     * mapping (for STRING elements, strs[] holds each string; for nested
     * arrays only the count is kept). */
    enum umi_gguf_type arr_type;
    uint64_t arr_n;
    const void *arr;
    umi_gguf_str *strs;     /* owned; only for arrays of strings */
    uint64_t offset;        /* byte offset of the key in the file */
} umi_gguf_kv;

typedef struct umi_gguf_tensor {
    char *name;             /* NUL-terminated copy, owned */
    uint32_t n_dims;
    int64_t ne[4];          /* ne[0] is the innermost (contiguous) dimension; unused dims = 1 */
    uint32_t type;          /* GGML type id */
    uint64_t offset;        /* relative to the data section */
    uint64_t nbytes;
    const void *data;       /* points into the mapping / buffer */
    uint64_t info_offset;   /* byte offset of the tensor info (its name) in the file */
} umi_gguf_tensor;

typedef struct umi_gguf {
    uint32_t version;
    uint64_t n_kv;
    umi_gguf_kv *kv;
    uint64_t n_tensors;
    umi_gguf_tensor *tensors;
    uint64_t alignment;
    uint64_t data_offset;   /* file offset of the data section (<= size) */
    const uint8_t *base;    /* the whole file (mapped or read) */
    uint64_t size;
    /* private: how base was obtained, so close can release it */
    int mapped;
    void *owned_buf;
    int fd; /* mapped: the file, open (umi_mapfile_pread of parts of it); else -1 */
    /* private: open-addressing hash indexes over kv[].key and tensors[].name;
     * a slot holds index + 1 (0 = empty); mask + 1 slots, a power of two. */
    uint64_t *kv_slots;
    uint64_t kv_mask;
    uint64_t *tensor_slots;
    uint64_t tensor_mask;
} umi_gguf;

/* Open and validate a file. use_mmap=false reads it into one aligned buffer.
 * On success *out is owned by the caller (umi_gguf_close); on failure *out is
 * NULL (UMI_ERR_IO, UMI_ERR_FORMAT, UMI_ERR_UNSUPPORTED for a tensor type umi
 * lacks, or UMI_ERR_NOMEM). */
umi_status umi_gguf_open(const char *path, bool use_mmap, umi_gguf **out, umi_error *err);
/* The same, reporting a read's progress (use_mmap false) to pr. */
umi_status umi_gguf_open_progress(const char *path, bool use_mmap, const umi_progress *pr, umi_gguf **out,
                                  umi_error *err);
/* Parse bytes already in memory (tests, fuzzing). data must outlive the result. */
umi_status umi_gguf_parse(const void *data, size_t size, umi_gguf **out, umi_error *err);
void umi_gguf_close(umi_gguf *g);

/* Lookups through the hash indexes: O(1), NULL when absent. */
const umi_gguf_kv *umi_gguf_find(const umi_gguf *g, const char *key);
const umi_gguf_tensor *umi_gguf_find_tensor(const umi_gguf *g, const char *name);

/* Typed getters with widening between integer types and float types. They
 * return UMI_OK, or UMI_ERR_FORMAT when the key exists with an incompatible
 * type or the value does not fit. When the key is absent they return UMI_OK
 * and leave *out untouched (so defaults can be preset), unless required. */
umi_status umi_gguf_get_u32(const umi_gguf *g, const char *key, bool required, uint32_t *out,
                            umi_error *err);
umi_status umi_gguf_get_f32(const umi_gguf *g, const char *key, bool required, float *out,
                            umi_error *err);
umi_status umi_gguf_get_bool(const umi_gguf *g, const char *key, bool required, bool *out,
                             umi_error *err);
/* out points into the mapping; it stays valid while g is open. */
umi_status umi_gguf_get_str(const umi_gguf *g, const char *key, bool required, umi_gguf_str *out,
                            umi_error *err);
/* "<arch>.<suffix>" as a u32; 0 when absent or not a fitting integer. */
uint32_t umi_gguf_arch_u32(const umi_gguf *g, const char *arch, const char *suffix);
/* Copy of a string value, NUL-terminated, into buf (truncated to buf_len-1);
 * "" if absent or not a string. */
void umi_gguf_get_cstr(const umi_gguf *g, const char *key, char *buf, size_t buf_len);

/* Element i of a numeric array, widened (integers to int64, floats to double).
 * 0 when kv is not such an array or i >= arr_n; arr_i64 also gives 0 for float
 * arrays, arr_f64 converts integers. u64 values above INT64_MAX wrap. */
int64_t umi_gguf_arr_i64(const umi_gguf_kv *kv, uint64_t i);
double umi_gguf_arr_f64(const umi_gguf_kv *kv, uint64_t i);

/* Short static name of a value type ("u32", "str", "arr", ...); "?" if unknown. */
const char *umi_gguf_type_name(enum umi_gguf_type t);

/* ---------------------------------------------------------------- writer */

/* Builds a GGUF v3 file in memory, then writes it. Values and tensor data are
 * copied when added, so callers may free their buffers. */
typedef struct umi_gguf_writer umi_gguf_writer;

umi_gguf_writer *umi_gguf_writer_init(void); /* NULL when out of memory */
void umi_gguf_writer_free(umi_gguf_writer *w);
/* Each add returns UMI_OK, UMI_ERR_NOMEM, or UMI_ERR_ARG for what the reader
 * would reject (a duplicate or empty key, general.alignment that is not a u32
 * power of two, a bad type or shape). Keys keep insertion order. */
umi_status umi_gguf_writer_add_u8(umi_gguf_writer *w, const char *key, uint8_t v);
umi_status umi_gguf_writer_add_i8(umi_gguf_writer *w, const char *key, int8_t v);
umi_status umi_gguf_writer_add_u16(umi_gguf_writer *w, const char *key, uint16_t v);
umi_status umi_gguf_writer_add_i16(umi_gguf_writer *w, const char *key, int16_t v);
umi_status umi_gguf_writer_add_u32(umi_gguf_writer *w, const char *key, uint32_t v);
umi_status umi_gguf_writer_add_i32(umi_gguf_writer *w, const char *key, int32_t v);
umi_status umi_gguf_writer_add_u64(umi_gguf_writer *w, const char *key, uint64_t v);
umi_status umi_gguf_writer_add_i64(umi_gguf_writer *w, const char *key, int64_t v);
umi_status umi_gguf_writer_add_f32(umi_gguf_writer *w, const char *key, float v);
umi_status umi_gguf_writer_add_f64(umi_gguf_writer *w, const char *key, double v);
umi_status umi_gguf_writer_add_bool(umi_gguf_writer *w, const char *key, bool v);
umi_status umi_gguf_writer_add_str(umi_gguf_writer *w, const char *key, const char *v);
/* Numeric array of elem type t (not STRING/ARRAY); n elements at data. */
umi_status umi_gguf_writer_add_arr(umi_gguf_writer *w, const char *key, enum umi_gguf_type t,
                                   const void *data, uint64_t n);
umi_status umi_gguf_writer_add_str_arr(umi_gguf_writer *w, const char *key,
                                       const char *const *v, uint64_t n);
/* Tensor of GGML type `type` with n_dims (0..4) dims ne[]; data holds its
 * bytes (row size computed from the quant traits). Names must be unique and
 * under 64 bytes. Tensors are laid out in insertion order, each at a multiple
 * of the alignment (32, or general.alignment), zero-padded. */
umi_status umi_gguf_writer_add_tensor(umi_gguf_writer *w, const char *name, uint32_t type,
                                      uint32_t n_dims, const int64_t *ne, const void *data);
/* Serialize to a malloc'd buffer (caller frees) or to a file (removed again
 * if writing fails part way). */
umi_status umi_gguf_writer_to_buffer(const umi_gguf_writer *w, void **out, size_t *out_size,
                                     umi_error *err);
umi_status umi_gguf_writer_write_file(const umi_gguf_writer *w, const char *path, umi_error *err);

#endif
