/* Load progress (umi_model_params.progress) and the repacked expert stacks:
 *  - a read load (use_mmap false) reports "reading" from 0 to the file's
 *    size, a mapped one nothing of the kind;
 *  - repacking reports "repacking" from 0 to the repacked bytes, never
 *    going back;
 *  - rnd-moe-q4_k_m's Q4_K expert stacks are interleaved where the CPU has
 *    the kernel, its Q6_K ones only for batch decoding (model/repack.c). */
#include <string.h>
#include <sys/stat.h>

#include "testkit.h"
#include "ctxkit.h"
#include "core/cpu.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "quant/interleave.h"
#include "quant/quant.h"
#include "umi.h"

enum { MAX_STEPS = 8 };

/* Each step's reports: the first and last done, its total, and whether
 * done ever went back or past the total. */
typedef struct step_log {
    char what[32];
    uint64_t first, last, total;
    int reports;
    bool backwards;
} step_log;

typedef struct progress_log {
    step_log step[MAX_STEPS];
    int n;
} progress_log;

static void record(void *user, const char *what, uint64_t done, uint64_t total) {
    progress_log *l = user;
    step_log *s = l->n > 0 && strcmp(l->step[l->n - 1].what, what) == 0 ? &l->step[l->n - 1] : NULL;
    if (!s && l->n < MAX_STEPS) {
        s = &l->step[l->n++];
        memset(s, 0, sizeof *s);
        snprintf(s->what, sizeof s->what, "%s", what);
        s->first = done, s->total = total;
    }
    if (!s) return;
    s->backwards |= done < s->last || done > total || total != s->total;
    s->last = done, s->reports++;
}

static const step_log *find(const progress_log *l, const char *what) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->step[i].what, what) == 0) return &l->step[i];
    return NULL;
}

static void check_step(const progress_log *l, const char *what, uint64_t total) {
    const step_log *s = find(l, what);
    check(s != NULL, "a \"%s\" step was reported", what);
    if (!s) return;
    check(s->first == 0 && s->last == s->total && !s->backwards && s->reports >= 2,
          "\"%s\" went from 0 to its total, never back (%llu .. %llu of %llu, %d reports)", what,
          (unsigned long long)s->first, (unsigned long long)s->last, (unsigned long long)s->total, s->reports);
    if (total) check(s->total == total, "\"%s\" total %llu = %llu", what, (unsigned long long)s->total,
                     (unsigned long long)total);
}

/* Whether a Q4_K stack of this shape has an interleaved form on this CPU. */
static bool interleaves(const umi_tensor *t) {
    return umi_kernels_layout(t->type, t->ne[0], t->ne[1], umi_cpu_level_get()) != UMI_LAYOUT_GGUF;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s SRC_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/models/rnd-moe-q4_k_m.gguf", argv[2]);
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("skip: %s missing\n", path);
        return 77;
    }

    for (int batch = 0; batch < 2; batch++) {
        progress_log log = {0};
        umi_model_params p = umi_model_default_params();
        p.use_mmap = false, p.batch_decode = batch;
        p.progress = record, p.progress_user = &log;
        umi_model *m = load_model(path, &p);
        check_step(&log, "reading", (uint64_t)st.st_size);
        int q4k = 0, q6k = 0;
        for (uint32_t il = 0; il < m->hp.n_layer; il++) {
            const umi_tensor *e[] = {m->layers[il].ffn_gate_exps, m->layers[il].ffn_up_exps,
                                     m->layers[il].ffn_down_exps};
            for (int i = 0; i < 3; i++) {
                if (!e[i] || !interleaves(e[i])) continue;
                if (e[i]->type == UMI_TYPE_Q4_K) q4k += e[i]->layout != UMI_LAYOUT_GGUF ? 1 : -100;
                if (e[i]->type == UMI_TYPE_Q6_K) q6k += (e[i]->layout != UMI_LAYOUT_GGUF) == batch ? 1 : -100;
            }
        }
        if (umi_cpu_level_get() == UMI_CPU_AVX512) {
            check(q4k > 0, "batch_decode %d: every Q4_K expert stack interleaved (%d)", batch, q4k);
            check(q6k > 0, "batch_decode %d: Q6_K expert stacks interleaved only for batch decoding (%d)", batch, q6k);
            check_step(&log, "repacking", 0);
        }
        umi_model_free(m);
    }

    progress_log mapped = {0};
    umi_model_params p = umi_model_default_params();
    p.progress = record, p.progress_user = &mapped;
    umi_model *m = load_model(path, &p);
    check(find(&mapped, "reading") == NULL, "a mapped load reads nothing up front");
    umi_model_free(m);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
