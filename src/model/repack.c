/* Load-time repack: matmul weights rewritten into the interleaved layout the
 * CPU's kernels read fastest (quant/interleave.h, kernels.h). Issue 4: the
 * decode tile on the file's layout gathers 16 rows and transposes them in
 * registers for every block, which costs more than reading them.
 *
 * Memory stays the same. A mapped file's tensors are rewritten into one
 * anonymous mapping (huge pages where the kernel gives them) slab by slab,
 * and each slab's file pages are dropped from the process (MADV_DONTNEED on
 * the private mapping) as soon as it is done, so the process holds each
 * weight once, plus one slab, at any time; the file is never modified. A
 * file read into a buffer is rewritten in place, one 16-row group at a
 * time (a group takes exactly its rows' bytes).
 *
 * Only tensors read by the matrix product are repacked: an untied
 * token_embd (row lookups only, mapped so that only the rows used become
 * resident) stays as it is, as do MLA's absorbed wk_b / wv_b (read row by
 * row); a tied one (the output matrix too) is repacked, and the forward
 * pass de-interleaves the rows it looks up.
 *
 * Expert stacks are repacked too, expert by expert (each expert's rows a
 * whole number of groups, so the stack is one run of groups): a decode
 * step reads each chosen expert's rows once, and the row dots of the
 * file's layout ran Q4_K experts at half the memory's speed (bench-moe
 * Q4_K_M: 8-10 GB/s a thread, the X16 tile from L2 3.5x the row dot). Not
 * when the stacks exceed the available memory: a --force'd load then
 * relies on the page cache streaming experts from the file
 * (model/prefault.c). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/meminfo.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "quant/interleave.h"
#include "quant/quant.h"
#include "umi.h"

enum { SLAB_BYTES = 8 << 20, MAX_PER_LAYER = 24 };

/* The tensors read only through umi_matmul. */
static int matmul_weights(const umi_model *m, const umi_layer *L, const umi_tensor *out[MAX_PER_LAYER]) {
    const umi_tensor *w[] = {L->wq,           L->wk,           L->wv,           L->wo,
                             L->wqkv,         L->ffn_gate,     L->ffn_up,       L->ffn_down,
                             L->ffn_gate_inp, L->ffn_gate_shexp, L->ffn_up_shexp, L->ffn_down_shexp,
                             L->wq_a,         L->wq_b,         L->wkv_a_mqa};
    int n = 0;
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (w[i] && w[i] != m->tok_embd) out[n++] = w[i];
    return n;
}

static bool experts_fit(const umi_model *m) {
    uint64_t bytes = 0, total, avail;
    for (uint32_t il = 0; il < m->hp.n_layer; il++) {
        const umi_tensor *e[3];
        const int n = umi_layer_expert_stacks(&m->layers[il], e);
        for (int i = 0; i < n; i++) bytes += umi_tensor_bytes(e[i]);
    }
    umi_meminfo(&total, &avail);
    return bytes <= avail;
}

static bool eligible(const umi_tensor *t, int level) {
    return t->layout == UMI_LAYOUT_GGUF && t->ne[3] == 1 &&
           umi_kernels_layout(t->type, t->ne[0], t->ne[1], level) != UMI_LAYOUT_GGUF;
}

bool umi_repack_type_wanted(uint32_t type, const umi_model_params *p) {
    return type != UMI_TYPE_Q8_0 || p->repack_q8_0;
}

/* Q6_K read mostly one token at a time (model.h): one token reads it
 * faster in the file's layout (10-20 % in a decode step), several tokens
 * through the interleaved tile, and a prompt needs only its last row's
 * logits. */
bool umi_repack_per_token_wanted(uint32_t type, bool batch_decode) {
    return batch_decode || type != UMI_TYPE_Q6_K;
}

/* Every tensor to repack, once (a tensor may be bound twice). Q8_0 only on
 * request (p->repack_q8_0): its interleaved tile does not give the
 * reference's bits. */
static int collect(umi_model *m, int level, const umi_model_params *p, umi_tensor **list, int cap) {
    const bool batch_decode = p->batch_decode, experts = experts_fit(m);
    int n = 0;
    const umi_tensor *cand[MAX_PER_LAYER];
    for (uint32_t il = 0; il <= m->hp.n_layer; il++) {
        int nc = 0;
        if (il < m->hp.n_layer) {
            nc = matmul_weights(m, &m->layers[il], cand);
            const umi_tensor *e[3];
            const int ne = experts ? umi_layer_expert_stacks(&m->layers[il], e) : 0;
            for (int i = 0; i < ne; i++)
                if (umi_repack_per_token_wanted(e[i]->type, batch_decode)) cand[nc++] = e[i];
        } else if (m->output && umi_repack_per_token_wanted(m->output->type, batch_decode))
            cand[nc++] = m->output; /* tied too: embed() looks rows up in any layout */
        for (int i = 0; i < nc; i++) {
            umi_tensor *t = &m->tensors[cand[i] - m->tensors]; /* bound pointers point into m->tensors */
            bool seen = false;
            for (int j = 0; j < n; j++) seen |= list[j] == t;
            if (!seen && umi_repack_type_wanted(t->type, p) && eligible(t, level) && n < cap) list[n++] = t;
        }
    }
    return n;
}

typedef struct pack_task {
    char *dst;       /* NULL: in place */
    const char *src; /* groups [g0, g1) of this slab */
    int64_t g0, g1, k;
    int layout;
    size_t group;    /* bytes per group */
    char *tmp;       /* in place: one group of scratch per thread */
    atomic_int_fast64_t next; /* groups handed out so far: a thread stalled on
                                 first-touch page zeroing leaves the rest to the others */
} pack_task;

static void pack_groups(void *arg, int ith, int nth) {
    (void)nth;
    pack_task *t = arg;
    for (int64_t g; (g = t->g0 + atomic_fetch_add(&t->next, 1)) < t->g1;) {
        const char *src = t->src + g * t->group;
        if (t->dst) {
            umi_layout_pack_group(t->layout, t->dst + g * t->group, src, t->k);
        } else {
            char *tmp = t->tmp + (size_t)ith * t->group;
            memcpy(tmp, src, t->group);
            umi_layout_pack_group(t->layout, (char *)(uintptr_t)src, tmp, t->k); /* the model's own buffer */
        }
    }
}

/* Drop the whole pages of [p, p + n) from the process, and close them:
 * nothing reads them again (the tensor points into the copy), and the
 * kernel's fault-around, which maps the cached pages near each page fault,
 * would otherwise map them back whenever a neighbouring tensor is first
 * read (a few percent more memory on small models). */
static void drop_pages(const void *p, size_t n) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + n) & ~(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED), mprotect((void *)lo, hi - lo, PROT_NONE);
}

/* Repacks t, reporting (done + its bytes so far) of total to pr slab by slab. */
static void repack_tensor(umi_tensor *t, char *dst, bool mapped, umi_pool *pool, char *tmp, const umi_progress *pr,
                          uint64_t done, uint64_t total) {
    const size_t row = umi_type_row_size(t->type, t->ne[0]);
    pack_task pt = {.dst = dst, .src = t->data, .k = t->ne[0], .layout = umi_layout_for_type(t->type),
                    .group = UMI_X16_ROWS * row, .tmp = tmp};
    const int64_t n_groups = t->ne[1] * t->ne[2] / UMI_X16_ROWS; /* every expert's rows: whole groups */
    int64_t per_slab = (int64_t)(SLAB_BYTES / pt.group);
    if (per_slab < 1) per_slab = 1;
    for (int64_t g = 0; g < n_groups; g += per_slab) {
        pt.g0 = g, pt.g1 = g + per_slab < n_groups ? g + per_slab : n_groups;
        atomic_init(&pt.next, 0);
        umi_pool_run(pool, pack_groups, &pt);
        if (mapped) drop_pages(pt.src + pt.g0 * pt.group, (size_t)(pt.g1 - pt.g0) * pt.group);
        umi_progress_report(pr, "repacking", done + (uint64_t)pt.g1 * pt.group, total);
    }
    if (dst) t->data = dst;
    t->layout = pt.layout;
}

/* A tensor's slot in the anonymous region (64-byte aligned). */
static size_t slot_bytes(const umi_tensor *t) {
    return ((size_t)umi_tensor_bytes(t) + 63) & ~(size_t)63;
}

typedef struct span {
    const char *p;
    size_t n;
} span;

static int by_address(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

/* After the last slab: the pages two repacked neighbours share (only the
 * file's alignment padding between them) are dropped too, once both are
 * done. spans: the repacked tensors' file bytes, reordered. */
static void drop_shared_pages(span *spans, int n, size_t align) {
    qsort(spans, (size_t)n, sizeof *spans, by_address);
    for (int i = 0; i < n;) {
        const char *lo = spans[i].p, *hi = lo + spans[i].n;
        for (i++; i < n && spans[i].p <= hi + align; i++)
            if (spans[i].p + spans[i].n > hi) hi = spans[i].p + spans[i].n;
        drop_pages(lo, (size_t)(hi - lo));
    }
}

umi_status umi_model_repack(umi_model *m, const umi_model_params *p, const umi_progress *pr, umi_error *err) {
    const int level = umi_cpu_level_get();
    const int cap = (int)m->hp.n_layer * MAX_PER_LAYER + 1;
    umi_tensor **list = malloc(sizeof *list * (size_t)cap);
    if (!list) return umi_err(err, UMI_ERR_NOMEM, "out of memory (repack)");
    const int n = collect(m, level, p, list, cap);
    size_t total = 0, max_group = 0;
    uint64_t bytes = 0; /* of the tensors, for progress */
    for (int i = 0; i < n; i++) {
        const size_t row = umi_type_row_size(list[i]->type, list[i]->ne[0]);
        total += slot_bytes(list[i]);
        bytes += umi_tensor_bytes(list[i]);
        if (UMI_X16_ROWS * row > max_group) max_group = UMI_X16_ROWS * row;
    }
    umi_status st = UMI_OK;
    const bool mapped = m->gguf->mapped;
    umi_pool *pool = NULL;
    char *tmp = NULL;
    span *spans = NULL;
    const int nth = umi_cpu_physical_cores();
    if (n == 0) goto done;
    if ((st = umi_pool_init(nth, &pool, err))) goto done;
    if (mapped) {
        void *region = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED) {
            st = umi_err(err, UMI_ERR_NOMEM, "cannot map %zu bytes for repacked weights (--no-repack avoids it)",
                         total);
            goto done;
        }
#ifdef MADV_HUGEPAGE
        madvise(region, total, MADV_HUGEPAGE); /* fewer faults while writing, fewer TLB misses reading */
#endif
        m->repacked = region, m->repacked_bytes = total;
    } else if (!(tmp = malloc(max_group * (size_t)nth))) {
        st = umi_err(err, UMI_ERR_NOMEM, "out of memory (repack scratch)");
        goto done;
    }
    if (mapped && !(spans = malloc(sizeof *spans * (size_t)n))) {
        st = umi_err(err, UMI_ERR_NOMEM, "out of memory (repack)");
        goto done;
    }
    size_t off = 0;
    uint64_t done = 0;
    umi_progress_report(pr, "repacking", 0, bytes);
    for (int i = 0; i < n; i++) {
        if (mapped) spans[i] = (span){list[i]->data, (size_t)umi_tensor_bytes(list[i])};
        repack_tensor(list[i], mapped ? (char *)m->repacked + off : NULL, mapped, pool, tmp, pr, done, bytes);
        off += slot_bytes(list[i]);
        done += umi_tensor_bytes(list[i]);
    }
    if (mapped) drop_shared_pages(spans, n, (size_t)m->gguf->alignment);
done:
    umi_pool_free(pool);
    free(tmp);
    free(spans);
    free(list);
    return st;
}
