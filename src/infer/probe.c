/* Decode-speed probe: how long the engine's own one-token matmul takes for
 * a weight type on this machine, so `umi plan` can predict decode speed from
 * measured kernel rates rather than bandwidth alone (a 2-core machine decodes
 * a 1B Q4_0 model well below its memory roofline: the dots, not the reads,
 * bound it). */
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "quant/quant.h"
#include "umi.h"

/* A one-token matmul of zero weights with its own context pieces: zero
 * weights are valid in every format (all scales 0) and take no subnormal
 * slow paths, so a timing is the kernel's and not the data's. */
typedef struct probe_mm {
    umi_context ctx;
    umi_tensor w;
    float *x, *y;
} probe_mm;

static void probe_mm_free(probe_mm *p) {
    if (p->ctx.pool) umi_pool_free(p->ctx.pool);
    free(p->ctx.qbuf);
    free((void *)p->w.data);
    free(p->x);
    free(p->y);
}

static umi_status probe_mm_init(probe_mm *p, uint32_t type, int64_t k, int64_t m, int n_threads,
                                umi_error *err) {
    memset(p, 0, sizeof *p);
    const umi_type_traits *tt = umi_type_traits_get(type);
    if (!tt || !tt->vec_dot || k % tt->blck_size != 0)
        return umi_err(err, UMI_ERR_ARG, "probe: type %u cannot multiply a %lld-wide row", type,
                       (long long)k);
    p->w = (umi_tensor){.name = "probe", .type = type, .ne = {k, m, 1, 1}};
    p->w.data = calloc(1, umi_type_row_size(type, k) * (size_t)m);
    p->x = malloc((size_t)k * sizeof *p->x);
    p->y = malloc((size_t)m * sizeof *p->y);
    p->ctx.qbuf = malloc((size_t)k * 4 + 64);
    umi_status st = !p->w.data || !p->x || !p->y || !p->ctx.qbuf
                        ? umi_err(err, UMI_ERR_NOMEM, "probe: out of memory")
                        : umi_pool_init(n_threads > 0 ? n_threads : 1, &p->ctx.pool, err);
    if (st) {
        probe_mm_free(p);
        return st;
    }
    for (int64_t i = 0; i < k; i++) p->x[i] = (float)((i * 7919) % 113) / 113.0f - 0.5f;
    return UMI_OK;
}

static void probe_mm_run(probe_mm *p) { umi_matmul(&p->ctx, &p->w, p->x, 1, p->y); }

umi_status umi_probe_matmul(uint32_t type, int64_t k, int64_t m, int n_threads, int reps,
                            double *seconds, umi_error *err) {
    *seconds = 0;
    probe_mm p;
    umi_status st = probe_mm_init(&p, type, k, m, n_threads, err);
    if (st) return st;
    int64_t t0 = umi_time_us();
    probe_mm_run(&p); /* warm the caches and the workers */
    /* Enough calls back to back (as a decode step makes them) for ~2 ms per
     * timing, so the clock's microseconds do not matter. */
    const int64_t warm = umi_time_us() - t0;
    int calls = warm > 0 ? (int)(2000 / warm) : 4096;
    calls = calls < 16 ? 16 : calls > 4096 ? 4096 : calls;
    double best = 1e30;
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        t0 = umi_time_us();
        for (int c = 0; c < calls; c++) probe_mm_run(&p);
        const double s = (double)(umi_time_us() - t0) / 1e6 / calls;
        if (s < best) best = s;
    }
    *seconds = best;
    probe_mm_free(&p);
    return UMI_OK;
}

umi_status umi_probe_attention(int hd_k, int hd_v, int n_kv, int reps, double *seconds, umi_error *err) {
    *seconds = 0;
    if (hd_k <= 0 || hd_v <= 0 || n_kv <= 0) return umi_err(err, UMI_ERR_ARG, "probe: bad attention shape");
    /* Zero keys and values: every score is 0, every exponential 1 — the
     * same work as real data without subnormal paths. */
    uint16_t *k = calloc((size_t)n_kv * hd_k, sizeof *k), *v = calloc((size_t)n_kv * hd_v, sizeof *v);
    float *q = calloc((size_t)hd_k, sizeof *q), *out = malloc((size_t)hd_v * sizeof *out);
    float *scratch = malloc(((size_t)hd_k + hd_v + 64 + 16) * sizeof *scratch);
    umi_status st = UMI_OK;
    if (!k || !v || !q || !out || !scratch) {
        st = umi_err(err, UMI_ERR_NOMEM, "probe: out of memory");
    } else {
        const umi_att_scores sc = {.scale = 1.0f, .softcap = 0.0f};
        double best = 1e30;
        for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
            const int64_t t0 = umi_time_us();
            enum { CALLS = 8 };
            for (int c = 0; c < CALLS; c++)
                umi_attention_head(k, (size_t)hd_k, v, (size_t)hd_v, hd_k, hd_v, 0, n_kv, n_kv, q, &sc, 1,
                                   out, scratch);
            const double s = (double)(umi_time_us() - t0) / 1e6 / CALLS;
            if (s < best) best = s;
        }
        *seconds = best / n_kv;
    }
    free(k);
    free(v);
    free(q);
    free(out);
    free(scratch);
    return st;
}

/* What a decode step's serial work between matmuls does to the workers
 * (they stop spinning and must be woken): a norm-sized pass over the
 * residual stream. volatile so the compiler keeps it. */
static float serial_pass(volatile float *x, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) {
        acc += x[i] * x[i];
        x[i] = x[i] * 0.999f + 0.001f;
    }
    return acc;
}

umi_status umi_probe_dispatch(int n_threads, int reps, double *seconds, umi_error *err) {
    *seconds = 0;
    enum { CALLS = 512, SERIAL = 2048 };
    float *stream = calloc(SERIAL, sizeof *stream);
    if (!stream) return umi_err(err, UMI_ERR_NOMEM, "probe: out of memory");
    probe_mm p;
    umi_status st = probe_mm_init(&p, UMI_TYPE_Q8_0, 256, 32, n_threads, err);
    if (st) {
        free(stream);
        return st;
    }
    double best = 1e30, serial = 1e30;
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        int64_t t0 = umi_time_us();
        for (int c = 0; c < CALLS; c++) serial_pass(stream, SERIAL);
        const double s_serial = (double)(umi_time_us() - t0) / 1e6 / CALLS;
        t0 = umi_time_us();
        for (int c = 0; c < CALLS; c++) {
            serial_pass(stream, SERIAL);
            probe_mm_run(&p);
        }
        const double s_both = (double)(umi_time_us() - t0) / 1e6 / CALLS;
        if (s_both < best) best = s_both;
        if (s_serial < serial) serial = s_serial;
    }
    *seconds = best > serial ? best - serial : 0;
    probe_mm_free(&p);
    free(stream);
    return UMI_OK;
}
