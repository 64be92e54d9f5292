/* What of a mapped model is resident in the process, as `umi plan` counts
 * it (/proc/self/pagemap's bit 63 per page):
 *  - expert weights are mapped at load (src/model/prefault.c): right after
 *    umi_model_load every page of every stacked expert tensor is present,
 *    though no token has been routed yet;
 *  - an untied token embedding's rows are read, not mapped
 *    (src/model/embd_rows.c), with the logits of a --no-mmap load. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "testkit.h"
#include "ctxkit.h"
#include "model/model.h"
#include "umi.h"

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
    umi_model *m = load_model(path, NULL);
    umi_error err = {0};
    int experts = 0;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_tensor *e[] = {m->layers[il].ffn_gate_exps, m->layers[il].ffn_up_exps,
                                 m->layers[il].ffn_down_exps};
        for (int i = 0; i < 3; i++) {
            if (!e[i]) continue;
            long pages, got = present(e[i]->data, umi_tensor_bytes(e[i]), &pages);
            if (got < 0) {
                printf("skip: no /proc/self/pagemap\n");
                return 77;
            }
            check(got == pages, "layer %u expert tensor %d: %ld of %ld pages mapped after load", il, i, got, pages);
            experts++;
        }
    }
    check(experts > 0, "the model has expert tensors");

    /* the same tokens through a mapped and a read (--no-mmap) load */
    umi_model_params read = umi_model_default_params();
    read.use_mmap = false;
    umi_model *mr = load_model(path, &read);
    const umi_token toks[] = {1, 17, 300, 511, 9, 17, 2};
    const int nt = (int)(sizeof toks / sizeof *toks), nv = umi_vocab_size(m);
    float *logits[2] = {NULL, NULL};
    umi_model *both[2] = {m, mr};
    for (int i = 0; i < 2; i++) {
        umi_context *ctx = NULL;
        umi_context_params cp = umi_context_default_params();
        cp.n_ctx = 64;
        cp.n_threads = 1;
        if (umi_context_init(both[i], &cp, &ctx, &err) || umi_decode(ctx, toks, nt, false, &err)) {
            printf("decode: %s\n", err.msg);
            return 2;
        }
        logits[i] = xmalloc((size_t)nv * sizeof(float));
        memcpy(logits[i], umi_get_logits(ctx, -1), (size_t)nv * sizeof(float));
        umi_context_free(ctx);
    }
    check(memcmp(logits[0], logits[1], (size_t)nv * sizeof(float)) == 0,
          "logits with read embedding rows equal a --no-mmap load's");
    /* (Its pages may still be mapped here by the neighbouring tensors'
     * fault-around: this table is 140 KiB. On bench-moe, BENCHMARKS.md.) */
    check(m->output != m->tok_embd && umi_model_embd_read(m) && !umi_model_embd_read(mr),
          "the untied embedding is read by rows when mapped, looked up in the buffer when read");
    free(logits[0]);
    free(logits[1]);
    umi_model_free(mr);
    umi_model_free(m);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
