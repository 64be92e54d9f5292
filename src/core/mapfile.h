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
#include "core/progress.h"

typedef struct umi_mapfile {
    const uint8_t *data; /* the file's bytes; NULL when the file is empty */
    uint64_t size;       /* file size in bytes */
    bool mapped;         /* true: data is an mmap; false: a malloc'd buffer */
    int fd;              /* mapped: the file, kept open for umi_mapfile_pread; else -1 (0 when zeroed) */
} umi_mapfile;

/* Read n bytes at offset off of fd, retrying short reads and EINTR. 0 when
 * all were read; else errno, or -1 when the file ended first; *done (may
 * be NULL) is what was read. */
int umi_mapfile_pread(int fd, void *buf, uint64_t n, uint64_t off, uint64_t *done);

/* Map (use_mmap) or read the whole file at path. On success *out holds the
 * bytes until umi_mapfile_close. On failure *out is zeroed and err says why
 * (UMI_ERR_IO: missing, unreadable, a directory, not a regular file, mmap or
 * read failed; UMI_ERR_NOMEM: the buffer could not be allocated). A read
 * reports its progress to pr (may be NULL) as "reading". */
umi_status umi_mapfile_open(const char *path, bool use_mmap, const umi_progress *pr, umi_mapfile *out,
                            umi_error *err);

/* Release what umi_mapfile_open obtained (the mapping and its fd) and zero
 * *m. Safe on a zeroed struct. */
void umi_mapfile_close(umi_mapfile *m);

#endif
