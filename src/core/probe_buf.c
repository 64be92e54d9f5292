/* Probe buffers (probe_buf.h). */
#include "core/probe_buf.h"

#include <stdint.h>
#include <sys/mman.h>

void *umi_probe_buf_alloc(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    /* xorshift64: every 8 bytes differ, so no two pages are alike. */
    uint64_t s = 0x9E3779B97F4A7C15ull, *w = p;
    for (size_t i = 0; i < bytes / 8; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        w[i] = s;
    }
    return p;
}

void umi_probe_buf_free(void *buf, size_t bytes) {
    if (buf) munmap(buf, bytes);
}
