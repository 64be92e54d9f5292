/* Buffers the speed probes read (core/bandwidth.c, infer/rate.c): random
 * bytes, because a VM host may merge pages of identical content and serve
 * them from one cached page; and huge pages, because 4 KiB pages cost a
 * streaming read 10-20 % in TLB misses here, and the engine's weights are on
 * huge pages: interleaved ones in a region model/repack.c advises so, mapped
 * ones in the 2 MiB page-cache folios Linux (6.x, ext4 here) fills a file
 * read by page faults with, each mapped whole.
 * The caller frees what umi_probe_buf_alloc returns with umi_probe_buf_free. */
#ifndef UMI_CORE_PROBE_BUF_H
#define UMI_CORE_PROBE_BUF_H

#include <stddef.h>

/* `bytes` of fresh pages filled with pseudo-random bytes (a fixed seed), on
 * huge pages where the OS grants them; NULL when memory is short. */
void *umi_probe_buf_alloc(size_t bytes);
void umi_probe_buf_free(void *buf, size_t bytes);

#endif
