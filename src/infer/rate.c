/* The decode-rate probe (issue 6): how many bytes of weights of one type a
 * single-token product reads per second on this machine, through the
 * engine's own path (umi_matmul_pool: the same kernels, interleaved layout,
 * chunking and threads as a decode step). A plain streaming read says what
 * memory can deliver; this says what a decode step takes from it, which on a
 * few cores also depends on the kernel's arithmetic per byte (Q4_0 decode
 * reads ~20 GB/s here where F16 reads ~39). umi plan divides each type's
 * bytes per token by its rate. The prompt probe times the same products
 * with a chunk of tokens (GFLOP/s), which umi plan divides a prompt's
 * arithmetic by, type by type.
 *
 * The weights are random bytes (core/probe_buf.h says why); every kernel
 * runs at the same speed whatever the values (no data-dependent branches;
 * x86 and ARM FP units take NaN and infinity at full speed), and on huge
 * pages as the engine's are. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/cpu.h"
#include "core/fp16.h"
#include "core/probe_buf.h"
#include "infer/infer.h"
#include "infer/rate.h"
#include "kernels/kernels.h"
#include "quant/interleave.h"
#include "quant/quant.h"
#include "umi.h"

/* K: the width of a typical hidden state; MAT_BYTES: one matrix, so a
 * pass is a series of products (and their thread wake-ups) like a layer's.
 * A prompt chunk's products are bound by arithmetic, not memory (each
 * weight serves the whole chunk), so its probe runs PROMPT_TOKENS tokens
 * through 4 matrices of PROMPT_MAT bytes: ~0.2 s with SIMD kernels. Fewer
 * tokens or smaller matrices measured the tiles' per-call setup and the
 * split over the threads instead (the Q8_0 tile 0.8x its in-model rate). */
enum { K = 4096, MAT_BYTES = 8 << 20, PASSES = 3, PROMPT_TOKENS = 128, PROMPT_MAT = 8 << 20, PROMPT_PASSES = 5 };

/* A decode probe's passes go on until they have taken DECODE_MIN_S (at
 * most MAX_PASSES): a pass of 256 MB takes ~8 ms here, and this VM's
 * memory speed moves by 10-20 % between such instants, where a `umi bench`
 * tg run it is compared with averages seconds. The mean pass time, as a
 * run's tokens/s is a mean over its time. */
#define DECODE_MIN_S 0.25
enum { MAX_PASSES = 64 };
typedef enum pick { PICK_MEDIAN, PICK_BEST, PICK_MEAN } pick;

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The seconds of a pass of products of n tokens through matrices of
 * `type` of about mat_bytes each, totalling about `bytes` (at least 4
 * matrices), over `passes` passes or more until they take min_s: the
 * median, best or mean pass (how); work gets the weight bytes and the
 * multiply-adds of one pass. -1 when the type has no product or memory is
 * short. */
static double probe_pass(int n_threads, int type, bool file_layout, size_t mat_bytes, size_t bytes, int n,
                         int passes, double min_s, pick how, double work[2]) {
    const umi_type_traits *tt = type >= 0 ? umi_type_traits_get((uint32_t)type) : NULL;
    const size_t row = tt ? umi_type_row_size((uint32_t)type, K) : 0;
    if (!row || !tt->vec_dot) return -1.0;
    if (n_threads <= 0) n_threads = umi_cpu_physical_cores();
    int64_t m = (int64_t)(mat_bytes / row) / 16 * 16;
    if (m < 16) m = 16;
    const size_t mat = (size_t)m * row;
    const int n_mat = bytes / mat < 4 ? 4 : (int)(bytes / mat);
    const umi_type_traits *at = umi_type_traits_get(tt->vec_dot_type);
    /* room for n converted rows, widened to floats at most */
    const size_t q_row = at ? umi_type_row_size(tt->vec_dot_type, K) : 0;
    const size_t q_bytes = (q_row > K * sizeof(float) ? q_row : K * sizeof(float)) * (size_t)n + 64;

    umi_pool *pool = NULL;
    const umi_model_params load = umi_model_default_params();
    const int layout = !file_layout && umi_repack_type_wanted((uint32_t)type, &load)
                           ? umi_kernels_layout((uint32_t)type, K, m, umi_cpu_level_get())
                           : UMI_LAYOUT_GGUF;
    const size_t w_bytes = (size_t)n_mat * mat;
    char *w = umi_probe_buf_alloc(w_bytes);
    float *x = malloc((size_t)K * n * sizeof *x), *y = malloc((size_t)m * n * sizeof *y);
    void *qbuf = malloc(q_bytes);
    umi_tensor *t = calloc((size_t)n_mat, sizeof *t);
    double secs[MAX_PASSES], picked = -1.0, total = 0;
    if (!w || !x || !y || !qbuf || !t || umi_pool_init(n_threads, &pool, NULL) != UMI_OK) goto done;
    for (size_t i = 0; i < (size_t)K * n; i++) x[i] = (float)((i * 37 % 101) - 50) / 50.0f;
    for (int i = 0; i < n_mat; i++)
        t[i] = (umi_tensor){.name = "probe", .type = (uint32_t)type, .ne = {K, m, 1, 1},
                            .data = w + (size_t)i * mat, .layout = layout};
    int done = 0;
    for (int pass = -1; pass < passes || (total < min_s && pass < MAX_PASSES); pass++) { /* -1 warms up */
        const int64_t t0 = umi_time_us();
        for (int i = 0; i < n_mat; i++) umi_matmul_pool(pool, qbuf, &t[i], x, n, y);
        if (pass < 0) continue;
        secs[done] = (double)(umi_time_us() - t0) / 1e6;
        total += secs[done++];
    }
    qsort(secs, (size_t)done, sizeof *secs, cmp_double);
    picked = how == PICK_MEAN ? total / done : secs[how == PICK_BEST ? 0 : done / 2];
    work[0] = (double)n_mat * (double)mat;
    work[1] = (double)n_mat * (double)m * K * n;
done:
    umi_pool_free(pool);
    free(t);
    free(qbuf);
    free(y);
    free(x);
    umi_probe_buf_free(w, w_bytes);
    return picked;
}

double umi_measure_decode_rate(int n_threads, int type, size_t bytes) {
    return umi_measure_decode_rate_as(n_threads, type, false, bytes);
}

double umi_measure_decode_rate_as(int n_threads, int type, bool file_layout, size_t bytes) {
    double work[2];
    /* the mean pass over a quarter of a second (above) */
    const double s = probe_pass(n_threads, type, file_layout, MAT_BYTES, bytes ? bytes : (size_t)256 << 20, 1,
                                PASSES, DECODE_MIN_S, PICK_MEAN, work);
    return s > 0 ? work[0] / s / 1e9 : -1.0;
}

double umi_measure_prompt_rate_as(int n_threads, int type, bool file_layout, size_t mat_bytes) {
    double work[2];
    if (mat_bytes == 0) mat_bytes = PROMPT_MAT;
    /* the best pass: arithmetic only loses time to interruptions, and the
     * short passes here feel them more than a long prompt does */
    const double s = probe_pass(n_threads, type, file_layout, mat_bytes, 4 * mat_bytes, PROMPT_TOKENS, PROMPT_PASSES,
                                0, PICK_BEST, work);
    return s > 0 ? 2.0 * work[1] / s / 1e9 : -1.0;
}

/* The attention probe: a decode step's attention over ATT_POS cached
 * positions laid out as the engine's cache ([cell][KV head][head dim], 8 KV
 * heads), the heads that share a KV head together as a decode step takes
 * them, on one thread; the best of passes that together take ~40 ms. At a
 * long context this arithmetic, not the bytes of the cache, is what a few
 * cores wait on (bench-1b Q4_0, 2 threads, depth 2048: ~10 ms a token,
 * where reading the cache takes ~2). */
/* Uniform in [-1, 1) from a linear congruential step: scores of every
 * size, so the softmax rescales now and then as in a model. */
static float unit_rand(uint32_t *r) {
    *r = *r * 1664525u + 1013904223u;
    return (float)(*r >> 8) / 8388608.0f - 1.0f;
}

double umi_measure_attention_rate(int hd_k, int hd_v, int group) {
    enum { ATT_POS = 2048, ATT_KV_HEADS = 8 };
    if (hd_k < 1 || hd_v < 1 || hd_k > UMI_ATT_HD_MAX || hd_v > UMI_ATT_HD_MAX) return -1.0;
    const int g = group >= 1 && group <= UMI_ATT_GROUP_MAX ? group : 1; /* wider groups go head by head */
    const size_t ks = (size_t)ATT_KV_HEADS * hd_k, vs = (size_t)ATT_KV_HEADS * hd_v;
    uint16_t *kc = malloc(sizeof *kc * ATT_POS * ks), *vc = malloc(sizeof *vc * ATT_POS * vs);
    float *q = malloc(sizeof *q * (size_t)g * hd_k), *out = malloc(sizeof *out * (size_t)g * hd_v);
    double best = -1.0;
    if (kc && vc && q && out) {
        uint32_t r = 12345;
        for (size_t i = 0; i < ATT_POS * ks; i++) kc[i] = umi_fp32_to_fp16(unit_rand(&r));
        for (size_t i = 0; i < ATT_POS * vs; i++) vc[i] = umi_fp32_to_fp16(unit_rand(&r));
        for (int i = 0; i < g * hd_k; i++) q[i] = unit_rand(&r);
        const umi_att_scores sc = {.scale = 1.0f / sqrtf((float)hd_k), .softcap = 0.0f};
        const int64_t t_end = umi_time_us() + 40000;
        for (int pass = 0; pass < 3 || umi_time_us() < t_end; pass++) {
            const int64_t t0 = umi_time_us();
            for (int h = 0; h < ATT_KV_HEADS; h++)
                umi_attention_group_small(kc + (size_t)h * hd_k, ks, vc + (size_t)h * hd_v, vs, hd_k, hd_v, 0,
                                          ATT_POS, ATT_POS, q, g, &sc, out);
            const double s = (umi_time_us() - t0) / 1e6;
            if (s > 0 && (best < 0 || s < best)) best = s;
        }
    }
    free(kc), free(vc), free(q), free(out);
    return best > 0 ? (double)ATT_KV_HEADS * g * ATT_POS / best : -1.0;
}
