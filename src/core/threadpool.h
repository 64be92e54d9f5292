/* Persistent worker threads that run one parallel task at a time.
 *
 * umi_pool_run(pool, fn, arg) calls fn(arg, ith, nth) once on each of the nth
 * threads (the caller is ith 0) and returns when all have finished. Workers
 * are created once; between tasks they spin briefly (a decode step issues
 * hundreds of small tasks per token, so waking from sleep each time would
 * dominate) and then sleep on a condition variable. Work inside a task is
 * split by (ith, nth); nothing is allocated per task. */
#ifndef UMI_CORE_THREADPOOL_H
#define UMI_CORE_THREADPOOL_H

#include "core/error.h"

typedef struct umi_pool umi_pool;
typedef void (*umi_pool_fn)(void *arg, int ith, int nth);

/* n_threads >= 1. On success *out is owned by the caller (umi_pool_free). */
umi_status umi_pool_init(int n_threads, umi_pool **out, umi_error *err);
void umi_pool_free(umi_pool *pool);
int umi_pool_size(const umi_pool *pool);
void umi_pool_run(umi_pool *pool, umi_pool_fn fn, void *arg);

/* Rows [*r0, *r1) of n for thread ith of nth: contiguous, balanced to within one. */
static inline void umi_split_rows(int64_t n, int ith, int nth, int64_t *r0, int64_t *r1) {
    int64_t per = n / nth, extra = n % nth;
    *r0 = ith * per + (ith < extra ? ith : extra);
    *r1 = *r0 + per + (ith < extra ? 1 : 0);
}

#endif
