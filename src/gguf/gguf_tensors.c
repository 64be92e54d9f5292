/* Tensor infos and tensor data ranges: the second half of the GGUF reader.
 *
 * A tensor info is: string name, u32 n_dims, n_dims x i64 ne, u32 GGML type,
 * u64 offset relative to the data section. The data section starts at the
 * first multiple of the alignment after the last info. Every tensor's bytes
 * must lie inside the file, start at a multiple of the alignment and not
 * overlap another tensor's; the reference writer also packs them in order,
 * but umi does not rely on that.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_private.h"
#include "quant/quant.h"

/* GGML type ids are small and grow slowly; larger ids are garbage, not a
 * type newer than umi. */
enum { GGUF_PLAUSIBLE_TYPE_LIMIT = 64 };

static void where_tensor(umi_gguf_cursor *c, const umi_gguf *g, uint64_t i) {
    char shown[64];
    const char *name = g->tensors[i].name;
    umi_gguf_printable(shown, sizeof shown, name, strlen(name));
    umi_gguf_cur_where(c, "tensor %" PRIu64 " '%s'", i, shown);
}

/* ---------------------------------------------------------------- tensor infos */

/* Shape: n_dims then n_dims x i64; unused dims are 1. Each ne >= 0 (empty
 * tensors are legal) and the element count must fit in int64. */
static umi_status read_shape(umi_gguf_cursor *c, umi_gguf_tensor *t) {
    uint64_t at = c->pos;
    umi_status st = umi_gguf_cur_u32(c, "n_dims", &t->n_dims);
    if (st != UMI_OK) {
        return st;
    }
    if (t->n_dims > UMI_GGUF_MAX_DIMS) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "n_dims = %" PRIu32 " at byte %" PRIu64 " exceeds %d",
                                 t->n_dims, at, UMI_GGUF_MAX_DIMS);
    }
    uint64_t shape_at = c->pos;
    for (uint32_t j = 0; j < UMI_GGUF_MAX_DIMS; j++) {
        t->ne[j] = 1;
    }
    for (uint32_t j = 0; j < t->n_dims; j++) {
        uint64_t ne_at = c->pos;
        uint64_t raw;
        st = umi_gguf_cur_u64(c, "ne", &raw);
        if (st != UMI_OK) {
            return st;
        }
        memcpy(&t->ne[j], &raw, 8);
        if (t->ne[j] < 0) {
            return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                     "ne[%" PRIu32 "] = %" PRId64 " at byte %" PRIu64
                                     " is negative", j, t->ne[j], ne_at);
        }
    }
    int64_t n = 1;
    for (uint32_t j = 0; j < UMI_GGUF_MAX_DIMS; j++) {
        if (__builtin_mul_overflow(n, t->ne[j], &n)) {
            return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                     "element count of shape [%" PRId64 ", %" PRId64 ", %" PRId64
                                     ", %" PRId64 "] at byte %" PRIu64 " overflows int64",
                                     t->ne[0], t->ne[1], t->ne[2], t->ne[3], shape_at);
        }
    }
    return UMI_OK;
}

/* Type id, checked with quant, and the tensor's size in bytes. shape_at is
 * where ne[] was read, for messages. */
static umi_status read_type(umi_gguf_cursor *c, uint64_t shape_at, umi_gguf_tensor *t) {
    uint64_t at = c->pos;
    umi_status st = umi_gguf_cur_u32(c, "type", &t->type);
    if (st != UMI_OK) {
        return st;
    }
    const umi_type_traits *tr = umi_type_traits_get(t->type);
    if (!tr) {
        if (t->type >= GGUF_PLAUSIBLE_TYPE_LIMIT) {
            return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                     "unknown tensor type %" PRIu32 " at byte %" PRIu64,
                                     t->type, at);
        }
        return umi_gguf_cur_fail(c, UMI_ERR_UNSUPPORTED,
                                 "tensor type %" PRIu32 " at byte %" PRIu64
                                 " is not supported by umi", t->type, at);
    }
    if (t->ne[0] % tr->blck_size != 0) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "ne[0] = %" PRId64 " at byte %" PRIu64 " is not a multiple of "
                                 "the block size %" PRId64 " of type %s",
                                 t->ne[0], shape_at, tr->blck_size, tr->name);
    }
    /* rows x blocks per row x block bytes, each step overflow-checked. The
     * element count fits in int64, so the row count does too. A tensor larger
     * than the file can never fit, which also bounds later offset sums. */
    uint64_t rows = (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
    uint64_t blocks = (uint64_t)(t->ne[0] / tr->blck_size);
    uint64_t row_bytes, nbytes;
    if (__builtin_mul_overflow(blocks, (uint64_t)tr->type_size, &row_bytes) ||
        row_bytes > SIZE_MAX || __builtin_mul_overflow(row_bytes, rows, &nbytes) ||
        nbytes > c->size) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                                 "] at byte %" PRIu64 " of type %s needs more bytes than the "
                                 "whole file (%" PRIu64 ")", t->ne[0], t->ne[1], t->ne[2],
                                 t->ne[3], shape_at, tr->name, c->size);
    }
    /* quant owns the row-size rule; the checks above only guard its arithmetic */
    t->nbytes = (uint64_t)umi_type_row_size(t->type, t->ne[0]) * rows;
    return UMI_OK;
}

static umi_status read_offset(umi_gguf_cursor *c, const umi_gguf *g, umi_gguf_tensor *t) {
    uint64_t at = c->pos;
    umi_status st = umi_gguf_cur_u64(c, "offset", &t->offset);
    if (st != UMI_OK) {
        return st;
    }
    if (t->offset % g->alignment != 0) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "data offset %" PRIu64 " at byte %" PRIu64
                                 " is not a multiple of the alignment %" PRIu64,
                                 t->offset, at, g->alignment);
    }
    /* The exact range check waits until the data section is placed; this
     * bound keeps that later arithmetic far from overflow. */
    if (t->offset > c->size) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "data offset %" PRIu64 " at byte %" PRIu64
                                 " lies beyond the end of the file (%" PRIu64 " bytes)",
                                 t->offset, at, c->size);
    }
    return UMI_OK;
}

static umi_status read_tensor_info(umi_gguf_cursor *c, const umi_gguf *g, uint64_t i,
                                   umi_gguf_tensor *t) {
    umi_gguf_cur_where(c, "tensor %" PRIu64, i);
    uint64_t at = c->pos;
    t->info_offset = at;
    umi_gguf_str name;
    umi_status st = umi_gguf_cur_str(c, "name", &name);
    if (st != UMI_OK) {
        return st;
    }
    if (name.len >= UMI_GGUF_MAX_NAME) {
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "name at byte %" PRIu64 " is %" PRIu64 " bytes long (at most %d)",
                                 at, name.len, UMI_GGUF_MAX_NAME - 1);
    }
    st = umi_gguf_cur_copy_name(c, "tensor name", name, at, &t->name);
    if (st != UMI_OK) {
        return st;
    }
    where_tensor(c, g, i);
    uint64_t shape_at = c->pos + 4; /* after n_dims */
    st = read_shape(c, t);
    st = st == UMI_OK ? read_type(c, shape_at, t) : st;
    st = st == UMI_OK ? read_offset(c, g, t) : st;
    return st;
}

umi_status umi_gguf_read_tensor_infos(umi_gguf_cursor *c, umi_gguf *g, uint64_t n) {
    uint64_t cap = 0;
    for (uint64_t i = 0; i < n; i++) {
        umi_gguf_tensor *t = umi_gguf_grow(g->tensors, &cap, i + 1, sizeof *t);
        if (!t) {
            return umi_gguf_cur_fail(c, UMI_ERR_NOMEM, "cannot allocate tensor info %" PRIu64, i);
        }
        g->tensors = t;
        g->n_tensors = i + 1; /* counted before filling, so close frees a half-read entry */
        umi_status st = read_tensor_info(c, g, i, &g->tensors[i]);
        if (st != UMI_OK) {
            return st;
        }
    }
    return umi_gguf_build_index(c, g, true);
}

/* ---------------------------------------------------------------- tensor data */

typedef struct gguf_range {
    uint64_t start, end; /* absolute file offsets, [start, end) */
    uint64_t tensor;
} gguf_range;

static int range_cmp(const void *pa, const void *pb) {
    const gguf_range *a = pa, *b = pb;
    if (a->start != b->start) {
        return a->start < b->start ? -1 : 1;
    }
    return (a->tensor > b->tensor) - (a->tensor < b->tensor);
}

/* Sorts r. O(n log n), so files with thousands of tensors stay fast. */
static umi_status check_overlaps(umi_gguf_cursor *c, const umi_gguf *g, gguf_range *r) {
    qsort(r, (size_t)g->n_tensors, sizeof *r, range_cmp);
    /* Sorted by start, a range overlaps an earlier one iff it starts before
     * the furthest end seen so far. Empty tensors occupy nothing. */
    const gguf_range *furthest = NULL;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (r[i].start == r[i].end) {
            continue;
        }
        if (furthest && r[i].start < furthest->end) {
            char other[64];
            const char *name = g->tensors[furthest->tensor].name;
            umi_gguf_printable(other, sizeof other, name, strlen(name));
            where_tensor(c, g, r[i].tensor);
            return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                     "data [%" PRIu64 ", %" PRIu64 ") overlaps tensor %" PRIu64
                                     " '%s' data [%" PRIu64 ", %" PRIu64 ")",
                                     r[i].start, r[i].end, furthest->tensor, other,
                                     furthest->start, furthest->end);
        }
        if (!furthest || r[i].end > furthest->end) {
            furthest = &r[i];
        }
    }
    return UMI_OK;
}

umi_status umi_gguf_check_tensor_data(umi_gguf_cursor *c, umi_gguf *g) {
    uint64_t header_end = c->pos;
    g->data_offset = (header_end + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors == 0) {
        /* nothing lives there; writers may or may not have padded */
        if (g->data_offset > g->size) {
            g->data_offset = g->size;
        }
        return UMI_OK;
    }
    if (g->data_offset > g->size) {
        umi_gguf_cur_where(c, "tensor data");
        return umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                 "data section at byte %" PRIu64 " (header ends at byte %" PRIu64
                                 ") starts past end of file (%" PRIu64 " bytes)",
                                 g->data_offset, header_end, g->size);
    }
    gguf_range *r = malloc((size_t)g->n_tensors * sizeof *r);
    if (!r) {
        return umi_gguf_cur_fail(c, UMI_ERR_NOMEM, "cannot allocate %" PRIu64 " tensor ranges",
                                 g->n_tensors);
    }
    umi_status st = UMI_OK;
    for (uint64_t i = 0; i < g->n_tensors && st == UMI_OK; i++) {
        umi_gguf_tensor *t = &g->tensors[i];
        /* data_offset, offset and nbytes are each <= size: the sums cannot wrap */
        r[i].start = g->data_offset + t->offset;
        r[i].end = r[i].start + t->nbytes;
        r[i].tensor = i;
        if (r[i].end > g->size) {
            where_tensor(c, g, i);
            st = umi_gguf_cur_fail(c, UMI_ERR_FORMAT,
                                   "data [%" PRIu64 ", %" PRIu64
                                   ") ends past end of file (%" PRIu64 " bytes)",
                                   r[i].start, r[i].end, g->size);
        } else {
            t->data = g->base + r[i].start;
        }
    }
    if (st == UMI_OK) {
        st = check_overlaps(c, g, r);
    }
    free(r);
    return st;
}
