/* A streaming-read probe of memory bandwidth: decode speed on these
 * machines is bandwidth divided by the bytes a token reads, so umi bench
 * reports how close a run comes to that roofline. */
#include <stdlib.h>

#include "core/probe_buf.h"
#include "core/threadpool.h"

typedef struct probe {
    const uint64_t *buf;
    size_t n_words;
    uint64_t sink[64]; /* one slot per thread, so the reads are not optimized away */
} probe;

static void read_part(void *arg, int ith, int nth) {
    probe *p = arg;
    int64_t w0, w1;
    umi_split_rows((int64_t)p->n_words, ith, nth, &w0, &w1);
    /* Four independent sums keep several loads in flight. */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (int64_t i = w0; i + 3 < w1; i += 4) {
        a += p->buf[i];
        b += p->buf[i + 1];
        c += p->buf[i + 2];
        d += p->buf[i + 3];
    }
    p->sink[ith % 64] = a ^ b ^ c ^ d;
}

double umi_measure_bandwidth(int n_threads, size_t bytes) {
    if (bytes == 0) bytes = (size_t)1 << 30;
    if (n_threads <= 0) n_threads = umi_cpu_physical_cores();
    umi_pool *pool = NULL;
    if (umi_pool_init(n_threads, &pool, NULL)) return -1.0;
    uint64_t *buf = umi_probe_buf_alloc(bytes);
    if (!buf) {
        umi_pool_free(pool);
        return -1.0;
    }
    probe p = {.buf = buf, .n_words = bytes / sizeof *buf};
    double best = 0.0;
    for (int pass = 0; pass < 3; pass++) {
        const int64_t t0 = umi_time_us();
        umi_pool_run(pool, read_part, &p);
        const double s = (double)(umi_time_us() - t0) / 1e6;
        if (s > 0 && bytes / s / 1e9 > best) best = (double)bytes / s / 1e9;
    }
    umi_probe_buf_free(buf, bytes);
    umi_pool_free(pool);
    return best;
}
