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
 * cache did. One pread of a row (1-16 KiB) per token is a few microseconds.
 * A tied table is the output matrix too, read whole every token: mapped. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "model/model.h"
#include "quant/interleave.h"
#include "quant/quant.h"

void umi_model_embd_open(umi_model *m, const char *path) {
    m->embd_fd = -1;
    const umi_tensor *e = m->tok_embd;
    if (!e || e == m->output || e->layout != UMI_LAYOUT_GGUF || !m->gguf->mapped) return;
    m->embd_fd = open(path, O_RDONLY | O_CLOEXEC); /* -1: look rows up in the mapping */
}

void umi_model_embd_close(umi_model *m) {
    if (m->embd_fd >= 0) close(m->embd_fd);
    m->embd_fd = -1;
}

/* Read n bytes at offset off; false on any error or short file. */
static bool read_at(int fd, void *buf, size_t n, off_t off) {
    for (size_t done = 0; done < n;) {
        const ssize_t got = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        done += (size_t)got;
    }
    return true;
}

const void *umi_model_embd_row(const umi_model *m, int32_t token, void *buf) {
    const umi_tensor *e = m->tok_embd;
    const size_t row = umi_type_row_size(e->type, e->ne[0]);
    const char *at = (const char *)e->data + (size_t)token * row;
    if (m->embd_fd >= 0 && read_at(m->embd_fd, buf, row, (off_t)(at - (const char *)m->gguf->base))) return buf;
    return at; /* not read (or the read failed): the mapping has the same bytes */
}
