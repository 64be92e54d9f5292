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

umi_status umi_probe_matmul(uint32_t type, int64_t k, int64_t m, int n_threads, int reps,
                            double *seconds, umi_error *err) {
    *seconds = 0;
    const umi_type_traits *tt = umi_type_traits_get(type);
    if (!tt || !tt->vec_dot || k % tt->blck_size != 0)
        return umi_err(err, UMI_ERR_ARG, "probe: type %u cannot multiply a %lld-wide row", type,
                       (long long)k);
    /* Zero weights: valid in every format (all scales 0), and no subnormal
     * slow paths, so the time is the kernel's and not the data's. */
    const size_t w_bytes = umi_type_row_size(type, k) * (size_t)m;
    umi_context ctx = {0};
    umi_tensor w = {.name = "probe", .type = type, .ne = {k, m, 1, 1}};
    void *wdata = calloc(1, w_bytes);
    float *x = malloc((size_t)k * sizeof *x), *y = malloc((size_t)m * sizeof *y);
    ctx.qbuf = malloc((size_t)k * 4 + 64);
    umi_status st = !wdata || !x || !y || !ctx.qbuf
                        ? umi_err(err, UMI_ERR_NOMEM, "probe: out of memory")
                        : umi_pool_init(n_threads > 0 ? n_threads : 1, &ctx.pool, err);
    if (st == UMI_OK) {
        w.data = wdata;
        for (int64_t i = 0; i < k; i++) x[i] = (float)((i * 7919) % 113) / 113.0f - 0.5f;
        umi_matmul(&ctx, &w, x, 1, y); /* warm the caches and the workers */
        double best = 1e30;
        for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
            const int64_t t0 = umi_time_us();
            enum { CALLS = 16 };
            for (int c = 0; c < CALLS; c++) umi_matmul(&ctx, &w, x, 1, y);
            const double s = (double)(umi_time_us() - t0) / 1e6 / CALLS;
            if (s < best) best = s;
        }
        *seconds = best;
    }
    if (ctx.pool) umi_pool_free(ctx.pool);
    free(ctx.qbuf);
    free(wdata);
    free(x);
    free(y);
    return st;
}
