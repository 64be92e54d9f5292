/* fuzz_gguf.c — libFuzzer entry point for the GGUF reader (not built by
 * default). Any input must either be rejected with a one-line message or
 * give a header whose every tensor lies inside the input; ASan/UBSan catch
 * the rest.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -Iinclude -Isrc tests/fuzz/fuzz_gguf.c src/gguf/[a-z]*.c src/core/error.c \
 *       src/core/mapfile.c src/core/fp16.c src/quant/[a-z]*.c -lm -o fuzz_gguf
 *   ./fuzz_gguf corpus/      (seed it with any small .gguf files)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(const umi_gguf *g, const uint8_t *data, size_t size) {
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const umi_gguf_tensor *t = &g->tensors[i];
        const uint8_t *p = t->data;
        if (p < data || (uint64_t)(p - data) + t->nbytes > size ||
            umi_gguf_find_tensor(g, t->name) != t) {
            abort(); /* a reader bug: report it to the fuzzer */
        }
    }
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (umi_gguf_find(g, g->kv[i].key) != &g->kv[i]) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    umi_gguf *g = NULL;
    umi_error err = {0};
    if (umi_gguf_parse(data, size, &g, &err) == UMI_OK) {
        check_result(g, data, size);
        umi_gguf_close(g);
    } else if (err.msg[0] == '\0' || strchr(err.msg, '\n')) {
        abort(); /* every failure must explain itself on one line */
    }
    return 0;
}
