/* Map the expert weights at load instead of on first use.
 *
 * A mapped expert's pages enter the process when a token is first routed
 * to it: mid-generation on a cold page cache that is a burst of small
 * random reads, and the process grows for as long as new experts are
 * picked, up to every expert. Mapping them all at load (the file's own
 * pages, never a copy; MADV_POPULATE_READ, Linux 5.14+, else one read per
 * page) reads them sequentially once and makes the resident size the one
 * `umi plan` predicts from the first token on. Dense weights need nothing:
 * the first token reads all of them. Skipped when the experts exceed the
 * available memory (a --force'd load that relies on the page cache
 * streaming experts from disk). */
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/meminfo.h"
#include "model/model.h"
#include "quant/interleave.h"

static void populate(const void *data, uint64_t bytes) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = (uintptr_t)data & ~(page - 1), hi = (uintptr_t)data + bytes;
#ifdef MADV_POPULATE_READ
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_READ) == 0) return;
#endif
    for (uintptr_t a = lo; a < hi; a += page) (void)*(const volatile char *)a;
}

int umi_layer_expert_stacks(const umi_layer *L, const umi_tensor *out[3]) {
    const umi_tensor *w[] = {L->ffn_gate_exps, L->ffn_up_exps, L->ffn_down_exps};
    int n = 0;
    for (int i = 0; i < 3; i++)
        if (w[i]) out[n++] = w[i];
    return n;
}

/* Bytes of the stacked expert tensors still in the file's mapping;
 * with fault, each is mapped too, reported to pr against total. */
static uint64_t mapped_experts(const umi_model *m, bool fault, const umi_progress *pr, uint64_t total) {
    uint64_t bytes = 0;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_tensor *e[3];
        const int n = umi_layer_expert_stacks(&m->layers[il], e);
        for (int i = 0; i < n; i++) {
            if (e[i]->layout != UMI_LAYOUT_GGUF) continue;
            bytes += umi_tensor_bytes(e[i]);
            if (!fault) continue;
            populate(e[i]->data, umi_tensor_bytes(e[i]));
            umi_progress_report(pr, "mapping experts", bytes, total);
        }
    }
    return bytes;
}

void umi_model_prefault_experts(const umi_model *m, const umi_progress *pr) {
    uint64_t total, avail;
    umi_meminfo(&total, &avail);
    const uint64_t bytes = mapped_experts(m, false, NULL, 0);
    if (bytes == 0 || bytes > avail) return;
    umi_progress_report(pr, "mapping experts", 0, bytes);
    mapped_experts(m, true, pr, bytes);
}
