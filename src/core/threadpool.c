#include "core/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Spin iterations before a worker sleeps: long enough to cover the gap
 * between two matmuls of one decode step, short enough not to burn a core
 * while the program waits for input. */
enum { SPIN_LIMIT = 1 << 16 };

struct umi_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    atomic_uint generation; /* bumped once per task; workers run on change */
    atomic_int pending;     /* workers still running the current task */
    atomic_int sleeping;    /* workers blocked on `wake`; run() signals only if > 0 */
    atomic_bool quit;
    umi_pool_fn fn;
    void *arg;
};

/* A pause while spinning: the x86 `pause` hint most of the time (cheap, frees
 * the core's pipeline for a sibling), a real yield now and then in case the
 * thread we wait for was descheduled. */
static inline void cpu_relax(int spins) {
    if (spins % 64 == 0) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

typedef struct worker_arg {
    umi_pool *pool;
    int ith;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    free(p);
    umi_pool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->quit)) {
            if (++spins < SPIN_LIMIT) {
                cpu_relax(spins);
                continue;
            }
            /* Announce the sleep before re-checking, so run() either sees us
             * sleeping (and signals) or we see its new generation. */
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->sleeping, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->wake, &pool->mu);
            atomic_fetch_sub(&pool->sleeping, 1);
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->quit)) break;
        seen = gen;
        pool->fn(pool->arg, wa.ith, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel);
    }
    return NULL;
}

umi_status umi_pool_init(int n_threads, umi_pool **out, umi_error *err) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    umi_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return umi_err(err, UMI_ERR_NOMEM, "thread pool: out of memory");
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->threads = calloc((size_t)n_threads, sizeof *pool->threads);
    if (!pool->threads) {
        umi_pool_free(pool);
        return umi_err(err, UMI_ERR_NOMEM, "thread pool: out of memory");
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) *wa = (worker_arg){.pool = pool, .ith = i};
        if (!wa || pthread_create(&pool->threads[i], NULL, worker_main, wa) != 0) {
            free(wa);
            pool->n_threads = i; /* only join the ones that started */
            umi_pool_free(pool);
            return umi_err(err, UMI_ERR_NOMEM, "thread pool: cannot start thread %d of %d", i,
                           n_threads);
        }
    }
    *out = pool;
    return UMI_OK;
}

void umi_pool_free(umi_pool *pool) {
    if (!pool) return;
    if (pool->threads) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->quit, true);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], NULL);
        free(pool->threads);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->wake);
    free(pool);
}

int umi_pool_size(const umi_pool *pool) { return pool->n_threads; }

void umi_pool_run(umi_pool *pool, umi_pool_fn fn, void *arg) {
    if (pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->pending, pool->n_threads - 1);
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->sleeping) > 0) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
    }
    fn(arg, 0, pool->n_threads);
    for (int spins = 1; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; spins++)
        cpu_relax(spins);
}
