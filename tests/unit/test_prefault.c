/* Expert weights are mapped at load (src/model/prefault.c): right after
 * umi_model_load every page of every stacked expert tensor is present in
 * the process (/proc/self/pagemap's bit 63), though no token has been
 * routed yet, while the untied token embedding, which is only looked up,
 * is not wholly mapped. With --no-mmap-style loads nothing changes. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "testkit.h"
#include "model/model.h"
#include "quant/quant.h"
#include "umi.h"

static uint64_t bytes_of(const umi_tensor *t) {
    return (uint64_t)umi_type_row_size(t->type, t->ne[0]) * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
}

/* Pages of [p, p + n) present in this process, and the page count. */
static long present(const void *p, uint64_t n, long *pages) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = (uintptr_t)p / page, hi = ((uintptr_t)p + n + page - 1) / page;
    const int fd = open("/proc/self/pagemap", O_RDONLY);
    long got = 0;
    *pages = (long)(hi - lo);
    if (fd < 0) return -1;
    for (uintptr_t v = lo; v < hi; v++) {
        uint64_t e = 0;
        if (pread(fd, &e, sizeof e, (off_t)(v * sizeof e)) != (ssize_t)sizeof e) break;
        got += (long)(e >> 63);
    }
    close(fd);
    return got;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/models/rnd-moe-q8_0.gguf", argv[2]);
    umi_model *m = NULL;
    umi_error err = {0};
    if (umi_model_load(path, NULL, &m, &err)) {
        printf("%s: %s\n", path, err.msg);
        return 2;
    }
    int experts = 0;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_tensor *e[] = {m->layers[il].ffn_gate_exps, m->layers[il].ffn_up_exps,
                                 m->layers[il].ffn_down_exps};
        for (int i = 0; i < 3; i++) {
            if (!e[i]) continue;
            long pages, got = present(e[i]->data, bytes_of(e[i]), &pages);
            if (got < 0) {
                printf("skip: no /proc/self/pagemap\n");
                return 77;
            }
            check(got == pages, "layer %u expert tensor %d: %ld of %ld pages mapped after load", il, i, got, pages);
            experts++;
        }
    }
    check(experts > 0, "the model has expert tensors");
    const umi_tensor *embd = m->tok_embd;
    long pages, got = present(embd->data, bytes_of(embd), &pages);
    check(m->output != m->tok_embd && got < pages, "the untied embedding is not prefaulted (%ld of %ld pages)",
          got, pages);
    umi_model_free(m);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
