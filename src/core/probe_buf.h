/* Buffers the speed probes read (core/bandwidth.c, infer/rate.c): random
 * bytes, because a VM host may merge pages of identical content and serve
 * them from one cached page, which inflated a constant-filled probe to 2x
 * this machine's real bandwidth; and an explicit page size, because 4 KiB
 * pages cost a streaming read 10-20 % in TLB misses here against huge ones.
 * The caller frees what umi_probe_buf_alloc returns with umi_probe_buf_free. */
#ifndef UMI_CORE_PROBE_BUF_H
#define UMI_CORE_PROBE_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* `bytes` of fresh pages filled with pseudo-random bytes (a fixed seed), on
 * huge pages where the OS grants them when `huge`, else on small pages;
 * NULL when memory is short. */
void *umi_probe_buf_alloc(size_t bytes, bool huge);
void umi_probe_buf_free(void *buf, size_t bytes);

#endif
