/* GGUF reader: parse and validate a whole header before anyone uses it.
 *
 * Every read goes through the bounds-checked cursor (gguf_cursor.c); every
 * count read from the file is checked against the bytes left before it sizes
 * anything, so a hostile file can neither make us read out of bounds nor
 * allocate more than a small multiple of its own size. This file reads the
 * header and the key/values, keeps the hash indexes, and opens and closes;
 * gguf_tensors.c reads tensor infos and checks the data ranges.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mapfile.h"
#include "gguf/gguf_private.h"

enum {
    /* No producer nests arrays more than once; a bound keeps the recursion
     * shallow on hostile input. */
    GGUF_MAX_ARRAY_DEPTH = 16,
    /* Fewest bytes a key/value pair can take (u64 key length, a 1-byte key,
     * u32 type, a 1-byte value) and a tensor info (u64 name length, u32
     * n_dims, u32 type, u64 offset): absurd counts are rejected at once. */
    GGUF_MIN_KV_BYTES = 8 + 1 + 4 + 1,
    GGUF_MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8,
};

void *umi_gguf_grow(void *arr, uint64_t *cap, uint64_t need, size_t elem) {
    if (need <= *cap) {
        return arr;
    }
    uint64_t new_cap = *cap ? *cap * 2 : 16;
    uint8_t *p = realloc(arr, (size_t)new_cap * elem);
    if (!p) {
        return NULL;
    }
    memset(p + *cap * elem, 0, (size_t)(new_cap - *cap) * elem);
    *cap = new_cap;
    return p;
}

/* ---------------------------------------------------------------- values */

/* Fewest bytes one array element of type t occupies (a string at least its
 * length field, a nested array its type and count), so a count can be checked
 * against the bytes left before anything is allocated for it. */
static uint64_t min_elem_size(uint32_t t) {
    if (t == UMI_GGUF_STRING) {
        return 8;
    }
    if (t == UMI_GGUF_ARRAY) {
        return 4 + 8;
    }
    return umi_gguf_scalar_size(t);
}

static umi_status check_count(umi_gguf_cursor *c, uint32_t elem_type, uint64_t n,
                              uint64_t count_at) {
    if (n > umi_gguf_cur_left(c) / min_elem_size(elem_type)) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "array count %" PRIu64 " at byte %" PRIu64 " of %s elements "
                                 "exceeds the %" PRIu64 " bytes left in the file",
                                 n, count_at, umi_gguf_type_name(elem_type),
                                 umi_gguf_cur_left(c));
    }
    return UMI_OK;
}

/* Element type of an array (top-level or nested), which must be known. */
static umi_status read_elem_type(umi_gguf_cursor *c, const char *field, uint32_t *t) {
    uint64_t at = c->pos;
    umi_status st = umi_gguf_cur_u32(c, field, t);
    if (st == UMI_OK && *t >= UMI_GGUF_TYPE_COUNT) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "unknown %s %" PRIu32 " at byte %" PRIu64,
                                 field, *t, at);
    }
    return st;
}

static umi_status read_array_body(umi_gguf_cursor *c, uint32_t elem_type, uint64_t n,
                                  uint64_t count_at, unsigned depth, umi_gguf_str *strs);

/* One element of an array of arrays: type, count, body. Validated, not kept. */
static umi_status skip_nested_array(umi_gguf_cursor *c, unsigned depth) {
    uint64_t at = c->pos;
    if (depth >= GGUF_MAX_ARRAY_DEPTH) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "arrays nested more than %d deep at byte %"
                                 PRIu64, GGUF_MAX_ARRAY_DEPTH, at);
    }
    uint32_t t;
    uint64_t n;
    umi_status st = read_elem_type(c, "nested array element type", &t);
    uint64_t count_at = c->pos;
    st = st == UMI_OK ? umi_gguf_cur_u64(c, "nested array count", &n) : st;
    st = st == UMI_OK ? check_count(c, t, n, count_at) : st;
    st = st == UMI_OK ? read_array_body(c, t, n, count_at, depth + 1, NULL) : st;
    return st;
}

/* Walk the n elements of an array whose count was checked; strings go into
 * strs[] when it is non-NULL. */
static umi_status read_array_body(umi_gguf_cursor *c, uint32_t elem_type, uint64_t n,
                                  uint64_t count_at, unsigned depth, umi_gguf_str *strs) {
    if (elem_type != UMI_GGUF_STRING && elem_type != UMI_GGUF_ARRAY) {
        c->pos += n * umi_gguf_scalar_size(elem_type); /* fits: see check_count */
        return UMI_OK;
    }
    for (uint64_t i = 0; i < n; i++) {
        umi_status st;
        if (elem_type == UMI_GGUF_STRING) {
            umi_gguf_str s;
            st = umi_gguf_cur_str(c, "array element", &s);
            if (st == UMI_OK && strs) {
                strs[i] = s;
            }
        } else {
            st = skip_nested_array(c, depth);
        }
        if (st != UMI_OK) {
            return st;
        }
    }
    return UMI_OK;
}

static umi_status read_array(umi_gguf_cursor *c, umi_gguf_kv *kv) {
    uint32_t t;
    umi_status st = read_elem_type(c, "array element type", &t);
    uint64_t count_at = c->pos;
    st = st == UMI_OK ? umi_gguf_cur_u64(c, "array count", &kv->arr_n) : st;
    st = st == UMI_OK ? check_count(c, t, kv->arr_n, count_at) : st;
    if (st != UMI_OK) {
        return st;
    }
    kv->arr_type = (enum umi_gguf_type)t;
    if (t == UMI_GGUF_STRING && kv->arr_n > 0) {
        /* arr_n <= bytes left / 8: the allocation is bounded by the file */
        kv->strs = calloc((size_t)kv->arr_n, sizeof *kv->strs);
        if (!kv->strs) {
            return umi_gguf_cur_fail(c, UMI_ERR_NOMEM, "cannot allocate %" PRIu64
                                     " string slots", kv->arr_n);
        }
    }
    kv->arr = c->base + c->pos;
    return read_array_body(c, t, kv->arr_n, count_at, 1, kv->strs);
}

static umi_status read_value(umi_gguf_cursor *c, umi_gguf_kv *kv) {
    uint64_t at = c->pos;
    uint32_t t;
    umi_status st = umi_gguf_cur_u32(c, "value type", &t);
    if (st != UMI_OK) {
        return st;
    }
    if (t >= UMI_GGUF_TYPE_COUNT) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "unknown value type %" PRIu32 " at byte %"
                                 PRIu64, t, at);
    }
    kv->type = (enum umi_gguf_type)t;
    if (t == UMI_GGUF_ARRAY) {
        return read_array(c, kv);
    }
    if (t == UMI_GGUF_STRING) {
        return umi_gguf_cur_str(c, "value", &kv->str);
    }
    const uint8_t *p = NULL;
    st = umi_gguf_cur_take(c, umi_gguf_scalar_size(t), "value", &p);
    if (st == UMI_OK) {
        umi_gguf_decode_scalar(t, p, kv);
    }
    return st;
}

static umi_status read_kv(umi_gguf_cursor *c, uint64_t i, umi_gguf_kv *kv) {
    umi_gguf_cur_where(c, "key %" PRIu64, i);
    kv->offset = c->pos;
    umi_gguf_str key;
    umi_status st = umi_gguf_cur_str(c, "key", &key);
    if (st != UMI_OK) {
        return st;
    }
    if (key.len == 0) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "key at byte %" PRIu64 " is empty",
                                 kv->offset);
    }
    st = umi_gguf_cur_copy_name(c, "key", key, kv->offset, &kv->key);
    if (st != UMI_OK) {
        return st;
    }
    char shown[64];
    umi_gguf_printable(shown, sizeof shown, key.ptr, key.len);
    umi_gguf_cur_where(c, "key %" PRIu64 " '%s'", i, shown);
    return read_value(c, kv);
}

/* ---------------------------------------------------------------- hash indexes */

static const char *entry_name(const umi_gguf *g, bool tensors, uint64_t i) {
    return tensors ? g->tensors[i].name : g->kv[i].key;
}

/* FNV-1a. Collisions only slow down the file that provokes them. */
static uint64_t hash_name(const char *s) {
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* Linear probing: returns the entry index + 1 holding name, or 0 with *slot
 * the empty slot where it would go. */
static uint64_t index_probe(const umi_gguf *g, bool tensors, const char *name, uint64_t *slot) {
    const uint64_t *slots = tensors ? g->tensor_slots : g->kv_slots;
    uint64_t mask = tensors ? g->tensor_mask : g->kv_mask;
    uint64_t s = hash_name(name) & mask;
    while (slots[s] != 0 && strcmp(entry_name(g, tensors, slots[s] - 1), name) != 0) {
        s = (s + 1) & mask;
    }
    *slot = s;
    return slots[s];
}

static umi_status fail_duplicate(umi_gguf_cursor *c, const umi_gguf *g, bool tensors,
                                 uint64_t first, uint64_t second) {
    char shown[64];
    const char *name = entry_name(g, tensors, second);
    umi_gguf_printable(shown, sizeof shown, name, strlen(name));
    if (tensors) {
        umi_gguf_cur_where(c, "tensor %" PRIu64 " '%s'", second, shown);
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "duplicate tensor name at byte %" PRIu64
                                 " (first used by tensor %" PRIu64 " at byte %" PRIu64 ")",
                                 g->tensors[second].info_offset, first,
                                 g->tensors[first].info_offset);
    }
    umi_gguf_cur_where(c, "key %" PRIu64 " '%s'", second, shown);
    return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "duplicate key at byte %" PRIu64
                             " (first at byte %" PRIu64 ")", g->kv[second].offset,
                             g->kv[first].offset);
}

umi_status umi_gguf_build_index(umi_gguf_cursor *c, umi_gguf *g, bool tensors) {
    uint64_t n = tensors ? g->n_tensors : g->n_kv;
    uint64_t cap = 8;
    while (cap < 2 * n) { /* at most half full, so probes stay short */
        cap *= 2;
    }
    uint64_t *slots = calloc((size_t)cap, sizeof *slots);
    if (!slots) {
        return umi_gguf_cur_fail(c, UMI_ERR_NOMEM, "cannot allocate a %" PRIu64 "-slot index",
                                 cap);
    }
    if (tensors) {
        g->tensor_slots = slots;
        g->tensor_mask = cap - 1;
    } else {
        g->kv_slots = slots;
        g->kv_mask = cap - 1;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t slot;
        uint64_t found = index_probe(g, tensors, entry_name(g, tensors, i), &slot);
        if (found) {
            return fail_duplicate(c, g, tensors, found - 1, i);
        }
        slots[slot] = i + 1;
    }
    return UMI_OK;
}

const umi_gguf_kv *umi_gguf_find(const umi_gguf *g, const char *key) {
    if (!g || !key || !g->kv_slots) {
        return NULL;
    }
    uint64_t slot;
    uint64_t found = index_probe(g, false, key, &slot);
    return found ? &g->kv[found - 1] : NULL;
}

const umi_gguf_tensor *umi_gguf_find_tensor(const umi_gguf *g, const char *name) {
    if (!g || !name || !g->tensor_slots) {
        return NULL;
    }
    uint64_t slot;
    uint64_t found = index_probe(g, true, name, &slot);
    return found ? &g->tensors[found - 1] : NULL;
}

/* ---------------------------------------------------------------- header and key/values */

static umi_status read_version(umi_gguf_cursor *c, umi_gguf *g) {
    umi_status st = umi_gguf_cur_u32(c, "version", &g->version);
    if (st != UMI_OK) {
        return st;
    }
    /* A big-endian file's small version number reads as a multiple of 2^16. */
    if (g->version != 0 && (g->version & 0xffffu) == 0) {
        return umi_gguf_cur_fail(c, UMI_ERR_UNSUPPORTED,
                                 "GGUF version %" PRIu32 " at byte 4 looks byte-swapped: umi "
                                 "reads little-endian files only", g->version);
    }
    /* v1 had 32-bit counts; v2 and v3 are identical for little-endian files. */
    if (g->version != 2 && g->version != 3) {
        return umi_gguf_cur_fail(c, UMI_ERR_UNSUPPORTED,
                                 "unsupported GGUF version %" PRIu32 " at byte 4 (umi reads v2 "
                                 "and v3%s)", g->version,
                                 g->version == 1 ? "; v1 is obsolete, reconvert the model" : "");
    }
    return UMI_OK;
}

static umi_status read_header(umi_gguf_cursor *c, umi_gguf *g, uint64_t *n_tensors,
                              uint64_t *n_kv) {
    umi_gguf_cur_where(c, "header");
    const uint8_t *magic = NULL;
    umi_status st = umi_gguf_cur_take(c, 4, "magic", &magic);
    if (st != UMI_OK) {
        return st;
    }
    if (memcmp(magic, "GGUF", 4) != 0) {
        char shown[16];
        umi_gguf_printable(shown, sizeof shown, (const char *)magic, 4);
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "bad magic '%s' at byte 0 (expected 'GGUF')",
                                 shown);
    }
    st = read_version(c, g);
    st = st == UMI_OK ? umi_gguf_cur_u64(c, "n_tensors", n_tensors) : st;
    st = st == UMI_OK ? umi_gguf_cur_u64(c, "n_kv", n_kv) : st;
    if (st != UMI_OK) {
        return st;
    }
    /* Reject impossible counts now, before anything is sized by them. */
    if (*n_tensors > umi_gguf_cur_left(c) / GGUF_MIN_TENSOR_INFO_BYTES) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "n_tensors = %" PRIu64 " at byte 8 cannot "
                                 "fit in the %" PRIu64 " bytes after the header", *n_tensors,
                                 umi_gguf_cur_left(c));
    }
    if (*n_kv > umi_gguf_cur_left(c) / GGUF_MIN_KV_BYTES) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "n_kv = %" PRIu64 " at byte 16 cannot fit "
                                 "in the %" PRIu64 " bytes after the header", *n_kv,
                                 umi_gguf_cur_left(c));
    }
    return UMI_OK;
}

static umi_status read_kvs(umi_gguf_cursor *c, umi_gguf *g, uint64_t n_kv) {
    uint64_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        umi_gguf_kv *kv = umi_gguf_grow(g->kv, &cap, i + 1, sizeof *kv);
        if (!kv) {
            return umi_gguf_cur_fail(c, UMI_ERR_NOMEM, "cannot allocate key/value %" PRIu64, i);
        }
        g->kv = kv;
        g->n_kv = i + 1; /* counted before filling, so close frees a half-read entry */
        umi_status st = read_kv(c, i, &g->kv[i]);
        if (st != UMI_OK) {
            return st;
        }
    }
    return umi_gguf_build_index(c, g, false);
}

static umi_status read_alignment(umi_gguf_cursor *c, umi_gguf *g) {
    g->alignment = UMI_GGUF_DEFAULT_ALIGNMENT;
    const umi_gguf_kv *kv = umi_gguf_find(g, "general.alignment");
    if (!kv) {
        return UMI_OK;
    }
    umi_gguf_cur_where(c, "key %" PRIu64 " 'general.alignment'", (uint64_t)(kv - g->kv));
    if (kv->type != UMI_GGUF_UINT32) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "type %s at byte %" PRIu64 " must be u32",
                                 umi_gguf_type_name(kv->type), kv->offset);
    }
    uint64_t a = kv->v.u64;
    if (a == 0 || (a & (a - 1)) != 0) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT, "alignment = %" PRIu64 " (key at byte %"
                                 PRIu64 ") is not a nonzero power of two", a, kv->offset);
    }
    g->alignment = a;
    return UMI_OK;
}

/* ---------------------------------------------------------------- open / close */

umi_status umi_gguf_parse(const void *data, size_t size, umi_gguf **out, umi_error *err) {
    *out = NULL;
    umi_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        return umi_err(err, UMI_ERR_NOMEM, "gguf: cannot allocate the header");
    }
    g->base = data;
    g->size = size;
    g->fd = -1;
    umi_gguf_cursor c = {.base = g->base, .size = g->size, .pos = 0, .err = err};
    uint64_t n_tensors, n_kv; /* as claimed by the header; g counts what was read */
    umi_status st = read_header(&c, g, &n_tensors, &n_kv);
    st = st == UMI_OK ? read_kvs(&c, g, n_kv) : st;
    st = st == UMI_OK ? read_alignment(&c, g) : st;
    st = st == UMI_OK ? umi_gguf_read_tensor_infos(&c, g, n_tensors) : st;
    st = st == UMI_OK ? umi_gguf_check_tensor_data(&c, g) : st;
    if (st != UMI_OK) {
        umi_gguf_close(g);
        return st;
    }
    *out = g;
    return UMI_OK;
}

umi_status umi_gguf_open(const char *path, bool use_mmap, umi_gguf **out, umi_error *err) {
    return umi_gguf_open_progress(path, use_mmap, NULL, out, err);
}

umi_status umi_gguf_open_progress(const char *path, bool use_mmap, const umi_progress *pr, umi_gguf **out,
                                  umi_error *err) {
    *out = NULL;
    umi_mapfile m;
    umi_status st = umi_mapfile_open(path, use_mmap, pr, &m, err);
    if (st != UMI_OK) {
        return st;
    }
    st = umi_gguf_parse(m.data, (size_t)m.size, out, err);
    if (st != UMI_OK) {
        umi_mapfile_close(&m);
        if (err) {
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            umi_err(err, st, "%s: %s", path, msg);
        }
        return st;
    }
    /* the umi_gguf now owns the mapping; umi_gguf_close releases it */
    (*out)->mapped = m.mapped;
    (*out)->owned_buf = (void *)m.data;
    (*out)->fd = m.fd;
    return UMI_OK;
}

void umi_gguf_close(umi_gguf *g) {
    if (!g) {
        return;
    }
    for (uint64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].strs);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].name);
    }
    free(g->kv);
    free(g->tensors);
    free(g->kv_slots);
    free(g->tensor_slots);
    if (g->owned_buf) {
        umi_mapfile m = {.data = g->owned_buf, .size = g->size, .mapped = g->mapped, .fd = g->fd};
        umi_mapfile_close(&m);
    }
    free(g);
}
