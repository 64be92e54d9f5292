/* A whole file's bytes in memory: either a read-only mmap or one malloc'd
 * buffer aligned to 64 bytes (a cache line, and enough for any SIMD load of
 * tensor data that is itself aligned within the file).
 *
 * Reading into a buffer is for systems or file systems where mapping is
 * unwanted (network mounts, or the caller wants the file resident up front).
 */
#ifndef UMI_CORE_MAPFILE_H
#define UMI_CORE_MAPFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef struct umi_mapfile {
    const uint8_t *data; /* the file's bytes; NULL when the file is empty */
    uint64_t size;       /* file size in bytes */
    bool mapped;         /* true: data is an mmap; false: a malloc'd buffer */
} umi_mapfile;

/* Map (use_mmap) or read the whole file at path. On success *out holds the
 * bytes until umi_mapfile_close. On failure *out is zeroed and err says why
 * (UMI_ERR_IO: missing, unreadable, a directory, not a regular file, mmap or
 * read failed; UMI_ERR_NOMEM: the buffer could not be allocated). */
umi_status umi_mapfile_open(const char *path, bool use_mmap, umi_mapfile *out, umi_error *err);

/* Release what umi_mapfile_open obtained and zero *m. Safe on a zeroed struct. */
void umi_mapfile_close(umi_mapfile *m);

#endif
