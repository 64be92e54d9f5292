/* Decode-speed calibration of the `this` profile: per weight type, what one
 * weight costs in the engine's one-token matmul when the matrix is in cache
 * (small models) and when it streams from memory (large ones: the kernel
 * and the memory system together, which on a small core count is well
 * below the bandwidth roofline), and what a call costs regardless of size
 * (activation conversion, waking the workers). Measured once per type,
 * kernel level and thread count, then cached in the config dir as lines
 * "<type> <s/weight in cache> <s/weight streamed> <s/call>". */
#include <stdio.h>
#include <string.h>

#include "core/cpu.h"
#include "infer/infer.h"
#include "plan/plan.h"
#include "quant/quant.h"

static bool cache_path(int n_threads, char *path, size_t cap, bool create) {
    char name[64];
    snprintf(name, sizeof name, "decode-%s-t%d", umi_cpu_level_name(umi_cpu_level_get()), n_threads);
    return umi_plan_config_file(name, create, path, cap);
}

static bool cached(const char *path, const char *type_name, umi_decode_cost *out) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char name[32];
    umi_decode_cost c;
    bool found = false;
    while (!found && fscanf(f, "%31s %lf %lf %lf", name, &c.cached_s, &c.streamed_s, &c.call_s) == 4)
        if (strcmp(name, type_name) == 0 && c.cached_s > 0 && c.cached_s < 1 && c.streamed_s > 0 &&
            c.streamed_s < 1 && c.call_s >= 0 && c.call_s < 1) {
            *out = c;
            found = true;
        }
    fclose(f);
    return found;
}

/* Seconds per weight of a 4096-wide matrix of `bytes`, beyond the call. */
static double per_weight(int n_threads, uint32_t type, size_t bytes, double call_s, int reps) {
    const int64_t k = 4096;
    const size_t row = umi_type_row_size(type, k);
    int64_t m = (int64_t)(bytes / row) / 16 * 16;
    if (m < 64) m = 64;
    double s;
    if (umi_probe_matmul(type, k, m, n_threads, reps, &s, NULL) != UMI_OK) return 0;
    return s > call_s ? (s - call_s) / (double)(k * m) : 0;
}

/* 1 MiB stays in the cores' L2, so its time is the kernel's; four times the
 * last-level cache (at least 64 MiB) streams from memory. */
static bool measure(int n_threads, uint32_t type, umi_decode_cost *c) {
    if (umi_type_row_size(type, 4096) == 0) return false;
    double small;
    if (umi_probe_matmul(type, 256, 32, n_threads, 5, &small, NULL) != UMI_OK) return false;
    c->cached_s = per_weight(n_threads, type, 1u << 20, small, 5);
    const uint64_t llc = umi_plan_llc_bytes(), stream = 4 * llc > (64u << 20) ? 4 * llc : 64u << 20;
    c->streamed_s = per_weight(n_threads, type, (size_t)stream, small, 2);
    /* A call's fixed cost as a decode step pays it, the same for every type. */
    if (umi_probe_dispatch(n_threads, 5, &c->call_s, NULL) != UMI_OK) return false;
    return c->cached_s > 0 && c->streamed_s > 0;
}

bool umi_plan_decode_cost(int n_threads, uint32_t type, umi_decode_cost *out) {
    memset(out, 0, sizeof *out);
    const char *name = umi_type_ggml_name(type);
    if (!name || n_threads < 1) return false;
    char path[1100];
    if (cache_path(n_threads, path, sizeof path, false) && cached(path, name, out)) return true;
    if (!measure(n_threads, type, out)) return false;
    if (cache_path(n_threads, path, sizeof path, true)) {
        FILE *f = fopen(path, "a");
        if (f) { /* a read-only home only costs a re-measurement next time */
            fprintf(f, "%s %.6e %.6e %.6e\n", name, out->cached_s, out->streamed_s, out->call_s);
            fclose(f);
        }
    }
    return true;
}

bool umi_plan_attention_cost(int hd_k, int hd_v, double *s_per_pos) {
    *s_per_pos = 0;
    char name[32], path[1100];
    snprintf(name, sizeof name, "att%dx%d", hd_k, hd_v);
    umi_decode_cost c;
    /* One thread, so the cache file of any thread count can hold it; the
     * planner divides by the threads that share a step's heads. */
    if (cache_path(1, path, sizeof path, false) && cached(path, name, &c)) {
        *s_per_pos = c.cached_s;
        return true;
    }
    double s;
    if (umi_probe_attention(hd_k, hd_v, 1024, 5, &s, NULL) != UMI_OK || !(s > 0)) return false;
    *s_per_pos = s;
    if (cache_path(1, path, sizeof path, true)) {
        FILE *f = fopen(path, "a");
        if (f) {
            fprintf(f, "%s %.6e %.6e %.6e\n", name, s, s, 0.0);
            fclose(f);
        }
    }
    return true;
}
