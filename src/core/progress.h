/* Progress of a long load step (reading a file into memory, interleaving
 * weights, mapping experts), reported to whoever loads the model
 * (umi_model_params.progress): the step's name and done of total bytes,
 * ending with done == total. The code doing the step takes a pointer to
 * this, NULL when nobody listens. */
#ifndef UMI_CORE_PROGRESS_H
#define UMI_CORE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct umi_progress {
    void (*fn)(void *user, const char *what, uint64_t done, uint64_t total);
    void *user;
} umi_progress;

static inline void umi_progress_report(const umi_progress *p, const char *what, uint64_t done, uint64_t total) {
    if (p && p->fn) p->fn(p->user, what, done, total);
}

#endif
