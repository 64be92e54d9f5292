/* Whole-file mapping or reading; see mapfile.h. */
#include "core/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Buffers are aligned to a cache line so that tensor data aligned within the
 * file (GGUF uses 32 by default) stays aligned in memory. */
enum { MAPFILE_BUFFER_ALIGN = 64 };

int umi_mapfile_pread(int fd, void *buf, uint64_t n, uint64_t off, uint64_t *done) {
    uint64_t got_all = 0;
    int rc = 0;
    while (got_all < n) {
        uint64_t want = n - got_all;
        /* read() may refuse counts above SSIZE_MAX; Linux caps one call near 2 GiB anyway */
        if (want > (1u << 30)) want = 1u << 30;
        const ssize_t got = pread(fd, (uint8_t *)buf + got_all, (size_t)want, (off_t)(off + got_all));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            rc = got < 0 ? errno : -1;
            break;
        }
        got_all += (uint64_t)got;
    }
    if (done) *done = got_all;
    return rc;
}

/* Read size bytes from fd into buf, or say why not; READ_STEP at a time,
 * so that a slow drive's minutes show progress. */
enum { READ_STEP = 256 << 20 };

static umi_status read_all(int fd, const char *path, uint8_t *buf, uint64_t size, const umi_progress *pr,
                           umi_error *err) {
    uint64_t done = 0;
    int rc = 0;
    umi_progress_report(pr, "reading", 0, size);
    for (uint64_t off = 0; off < size && rc == 0; off += READ_STEP) {
        const uint64_t n = size - off < READ_STEP ? size - off : READ_STEP;
        uint64_t got = 0;
        rc = umi_mapfile_pread(fd, buf + off, n, off, &got);
        done = off + got;
        if (rc == 0) umi_progress_report(pr, "reading", done, size);
    }
    if (rc > 0)
        return umi_err(err, UMI_ERR_IO, "cannot read '%s' at byte %llu: %s", path, (unsigned long long)done,
                       strerror(rc));
    if (rc < 0)
        return umi_err(err, UMI_ERR_IO, "'%s' shrank while being read (%llu of %llu bytes)", path,
                       (unsigned long long)done, (unsigned long long)size);
    return UMI_OK;
}

static umi_status map_fd(int fd, const char *path, uint64_t size, umi_mapfile *out,
                         umi_error *err) {
    void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        return umi_err(err, UMI_ERR_IO, "cannot mmap '%s' (%llu bytes): %s", path,
                       (unsigned long long)size, strerror(errno));
    }
    out->data = p;
    out->mapped = true;
    out->fd = fd; /* kept: parts of the mapped file can be read too (umi_mapfile_pread) */
    return UMI_OK;
}

static umi_status read_fd(int fd, const char *path, uint64_t size, const umi_progress *pr, umi_mapfile *out,
                          umi_error *err) {
    void *p = NULL;
    if (posix_memalign(&p, MAPFILE_BUFFER_ALIGN, (size_t)size) != 0) {
        return umi_err(err, UMI_ERR_NOMEM, "cannot allocate %llu bytes to read '%s'",
                       (unsigned long long)size, path);
    }
    umi_status st = read_all(fd, path, p, size, pr, err);
    if (st != UMI_OK) {
        free(p);
        return st;
    }
    out->data = p;
    out->mapped = false;
    return UMI_OK;
}

umi_status umi_mapfile_open(const char *path, bool use_mmap, const umi_progress *pr, umi_mapfile *out,
                            umi_error *err) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return umi_err(err, UMI_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    }
    struct stat st;
    umi_status rc = UMI_OK;
    if (fstat(fd, &st) != 0) {
        rc = umi_err(err, UMI_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        rc = umi_err(err, UMI_ERR_IO, "'%s' is a directory, not a file", path);
    } else if (!S_ISREG(st.st_mode)) {
        /* pipes and devices have no size to map or preallocate */
        rc = umi_err(err, UMI_ERR_IO, "'%s' is not a regular file", path);
    } else if ((uint64_t)st.st_size > SIZE_MAX) {
        rc = umi_err(err, UMI_ERR_IO, "'%s' (%llu bytes) does not fit in the address space",
                     path, (unsigned long long)st.st_size);
    } else if (st.st_size > 0) {
        /* an empty file has nothing to map (mmap of 0 bytes fails): leave data NULL */
        uint64_t size = (uint64_t)st.st_size;
        rc = use_mmap ? map_fd(fd, path, size, out, err) : read_fd(fd, path, size, pr, out, err);
        if (rc == UMI_OK) {
            out->size = size;
        }
    }
    if (rc != UMI_OK || !out->mapped) close(fd);
    if (rc != UMI_OK) {
        memset(out, 0, sizeof *out);
    }
    if (!out->mapped) out->fd = -1;
    return rc;
}

void umi_mapfile_close(umi_mapfile *m) {
    if (m->data) {
        if (m->mapped) {
            munmap((void *)m->data, (size_t)m->size);
            close(m->fd);
        } else {
            free((void *)m->data);
        }
    }
    memset(m, 0, sizeof *m);
}
