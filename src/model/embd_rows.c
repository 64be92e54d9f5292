/* Rows of an untied token embedding, read with pread instead of through the
 * mapping.
 *
 * A mapped lookup makes the process map not just the row but what the
 * page cache holds around it: a 64 KiB fault-around window when the file
 * was faulted in page by page, a whole large folio (up to 2 MiB) when it
 * was read sequentially (cat, another engine's MAP_POPULATE), so the same
 * run held 31 or 133 MiB of a 128k-row table by the cache's history
 * (bench-moe Q8_0). Read, the rows pass through the page cache and never
 * become part of the process: its size is what `umi plan` says whatever the
 * cache did. One pread of a row (1-16 KiB) per token is a few microseconds;
 * it reads the mapping's own open file (core/mapfile.h), so the bytes are
 * the mapped ones. A tied table is the output matrix too, read whole every
 * token: mapped. */
#include "core/mapfile.h"
#include "model/model.h"
#include "quant/quant.h"

bool umi_model_embd_read(const umi_model *m) {
    return m->tok_embd && m->tok_embd != m->output && m->gguf->fd >= 0;
}

const void *umi_model_embd_row(const umi_model *m, int32_t token, void *buf) {
    const umi_tensor *e = m->tok_embd;
    const size_t row = umi_type_row_size(e->type, e->ne[0]);
    const char *at = (const char *)e->data + (size_t)token * row;
    const uint64_t off = (uint64_t)(at - (const char *)m->gguf->base);
    if (umi_model_embd_read(m) && umi_mapfile_pread(m->gguf->fd, buf, row, off, NULL) == 0) return buf;
    return at; /* not read (or the read failed): the mapping has the same bytes */
}
