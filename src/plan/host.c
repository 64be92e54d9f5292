/* The `this` hardware profile: memory, cores and bandwidth of the machine
 * umi runs on. Bandwidth is measured once (a ~1 s streaming read) and cached
 * in the user's config dir, so later plans are instant. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cpu.h"
#include "core/meminfo.h"
#include "infer/rate.h"
#include "kernels/kernels.h"
#include "plan/plan.h"

/* $XDG_CONFIG_HOME/umi, else $HOME/.config/umi; false when neither is set. */
static bool config_dir(char *buf, size_t cap) {
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg) n = snprintf(buf, cap, "%s/umi", xdg);
    else if (home && *home) n = snprintf(buf, cap, "%s/.config/umi", home);
    else return false;
    return n > 0 && (size_t)n < cap;
}

bool umi_plan_config_file(const char *name, bool create_dir, char *path, size_t cap) {
    char dir[1024];
    if (!config_dir(dir, sizeof dir)) return false;
    if (create_dir) {
        char parent[1024];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash) {
            *slash = 0;
            mkdir(parent, 0755); /* ~/.config may not exist yet; failure shows below */
        }
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) return false;
    }
    const int n = snprintf(path, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

static double cached_bandwidth(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    double gbps = 0;
    if (fscanf(f, "%lf", &gbps) != 1 || !(gbps > 0 && gbps < 1e5)) gbps = 0;
    fclose(f);
    return gbps;
}

/* Replace <config dir>/name with text: written aside and renamed, so a
 * concurrent plan reads the old file or the new one, never half of one. A
 * read-only home only costs a re-measurement next time. */
static void save_config(const char *name, const char *text) {
    char path[1100], tmp[1200];
    if (!umi_plan_config_file(name, true, path, sizeof path)) return;
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    const bool ok = fputs(text, f) >= 0;
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) remove(tmp);
}

static void save_bandwidth(double gbps) {
    char text[64];
    snprintf(text, sizeof text, "%.2f\n", gbps);
    save_config("bandwidth", text);
}

void umi_plan_host_profile(umi_plan_hw *hw, bool measure) {
    memset(hw, 0, sizeof *hw);
    snprintf(hw->name, sizeof hw->name, "this");
    uint64_t total, avail;
    umi_meminfo(&total, &avail);
    hw->mem_gb = total / 1e9;
    hw->avail_gb = avail / 1e9;
    hw->cores = umi_cpu_physical_cores();
#if defined(__APPLE__) && defined(__aarch64__)
    hw->kind = "apple";
    hw->gpu_limit_pct = hw->mem_gb > 36 ? 75 : 67;
#else
    hw->kind = "cpu";
    hw->gpu_limit_pct = 100;
#endif
    /* Prompt processing on CPU cores: an effective rate per core by SIMD width,
     * calibrated on this project's 2-core AVX-512 machine. */
    const char *level = umi_cpu_level_name(umi_cpu_level_get());
    const double per_core = strcmp(level, "avx512") == 0 ? 0.12
                            : strcmp(level, "avx2") == 0 ? 0.07
                            : strcmp(level, "neon") == 0 ? 0.06 : 0.02;
    hw->tflops = per_core * hw->cores;
    snprintf(hw->title, sizeof hw->title, "this machine (%d cores, %s, %.1f GB)", hw->cores, level,
             hw->mem_gb);

    char path[1100];
    hw->bw_gbps = umi_plan_config_file("bandwidth", false, path, sizeof path) ? cached_bandwidth(path) : 0;
    if (hw->bw_gbps > 0) {
        hw->bw_measured = true;
    } else if (measure) {
        const double gbps = umi_measure_bandwidth(hw->cores, (size_t)256 << 20);
        if (gbps > 0) {
            hw->bw_gbps = gbps;
            hw->bw_measured = true;
            save_bandwidth(gbps);
        }
    }
    if (hw->bw_gbps <= 0) hw->bw_gbps = 20; /* a conservative guess for one DDR4 channel pair */
}

/* ---------------------------------------------------------------- measured rates
 *
 * <config dir>/decode-rates: one line per measured (type, kernels, threads):
 * "q4_0@avx512.r2 2 23.41 5" (GB/s of weights a single-token product reads;
 * r2: UMI_KERNELS_REVISION; 5: the measurements its running mean took
 * in, at most MEAN_OF),
 * "q4_K/file@avx512.r2 2 9.80 1" for a type's weights in the file's layout
 * where it has another. A line without the count is one measurement.
 * <config dir>/prompt-rates: the same lines in GFLOP/s of a prompt chunk's
 * products.
 * <config dir>/attention-rates: "att64x64g4@avx512.r2 1 41.20 2", decode
 * attention's (head, position) pairs per second on one thread, in
 * millions, for a head shape and GQA group. */

/* A cached rate is a running mean of its measurements (of the time per
 * unit of work, as a run's speed is), each new one weighing 1/n and at
 * least 1/MEAN_OF, so old moments fade: one probe samples a quarter of a
 * second, and this VM's memory speed moves 10-15 % between such moments,
 * so the single probe a plan once cached could sit 20-30 % off the rate
 * the machine usually has; every `umi bench` run measures afresh several
 * times and steadies what later plans read. */
enum { MAX_RATES = 128, MEAN_OF = 16 };

typedef struct rate_line {
    char type[32];
    int threads;
    double rate;
    int n; /* measurements averaged */
} rate_line;

static int read_rates(const char *path, rate_line *out) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    char buf[128];
    while (n < MAX_RATES && fgets(buf, sizeof buf, f)) {
        rate_line l = {.n = 1};
        const int got = sscanf(buf, "%31s %d %lf %d", l.type, &l.threads, &l.rate, &l.n);
        if (got >= 3 && l.rate > 0 && l.rate < 1e6 && l.n >= 1) out[n++] = l;
    }
    fclose(f);
    return n;
}

/* The rate under `key` for `threads` from the cache file, else (measure)
 * probe(arg) now, cached; fresh: the rate now, even when cached (and added
 * to the cached mean). 0 when unknown. */
static double cached_key(const char *file, const char *key, int threads, double (*probe)(const void *arg),
                         const void *arg, bool measure, bool fresh) {
    char path[1100];
    rate_line lines[MAX_RATES + 1];
    int n = 0;
    if (umi_plan_config_file(file, false, path, sizeof path)) n = read_rates(path, lines);
    int found = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(lines[i].type, key) == 0 && lines[i].threads == threads) found = i;
    if (found >= 0 && !fresh) return lines[found].rate;
    if (!measure) return 0;
    const double rate = probe(arg);
    if (rate <= 0) return 0;
    rate_line l = {.threads = threads, .rate = rate, .n = 1};
    if (found >= 0) { /* the running mean (above) */
        const rate_line *o = &lines[found];
        l.n = o->n < MEAN_OF ? o->n + 1 : MEAN_OF;
        l.rate = l.n / ((l.n - 1) / o->rate + 1.0 / rate);
    } else {
        found = n < MAX_RATES ? n++ : MAX_RATES - 1;
    }
    snprintf(l.type, sizeof l.type, "%s", key);
    lines[found] = l;
    char text[MAX_RATES * 56];
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s %d %.2f %d\n", lines[i].type, lines[i].threads,
                                lines[i].rate, lines[i].n);
    save_config(file, text);
    return rate;
}

typedef double (*rate_probe)(int threads, int type, bool file_layout);

typedef struct type_probe {
    rate_probe probe;
    int threads, type;
    bool file_layout;
} type_probe;

static double run_type_probe(const void *arg) {
    const type_probe *t = arg;
    return t->probe(t->threads, t->type, t->file_layout);
}

/* Keys name the kernels too: UMI_CPU=generic or another build's SIMD level
 * measures other code, and so does a later revision of the kernels (a line
 * of an older format or revision never matches). */
static void rate_key(char *key, size_t cap, const char *what) {
    snprintf(key, cap, "%s@%s.r%d", what, umi_cpu_level_name(umi_cpu_level_get()), UMI_KERNELS_REVISION);
}

static double cached_rate(const char *file, rate_probe probe, int type, int threads, bool file_layout,
                          bool measure, bool fresh) {
    char what[24], key[sizeof(rate_line){0}.type];
    snprintf(what, sizeof what, "%s%s", umi_type_name(type), file_layout ? "/file" : "");
    rate_key(key, sizeof key, what);
    const type_probe t = {probe, threads, type, file_layout};
    return cached_key(file, key, threads, run_type_probe, &t, measure, fresh);
}

static double decode_probe(int threads, int type, bool file_layout) {
    return umi_measure_decode_rate_as(threads, type, file_layout, 0);
}

double umi_plan_decode_rate(int type, int threads, bool file_layout, bool measure, bool fresh) {
    return cached_rate("decode-rates", decode_probe, type, threads, file_layout, measure, fresh);
}

static double prompt_probe(int threads, int type, bool file_layout) {
    return umi_measure_prompt_rate_as(threads, type, file_layout, 0);
}

double umi_plan_prompt_rate(int type, int threads, bool file_layout, bool measure, bool fresh) {
    return cached_rate("prompt-rates", prompt_probe, type, threads, file_layout, measure, fresh);
}

typedef struct att_probe {
    int hd_k, hd_v, group;
} att_probe;

static double run_att_probe(const void *arg) { /* in millions, as cached */
    const att_probe *a = arg;
    return umi_measure_attention_rate(a->hd_k, a->hd_v, a->group) / 1e6;
}

double umi_plan_attention_rate(int hd_k, int hd_v, int group, bool measure, bool fresh) {
    char what[24], key[sizeof(rate_line){0}.type];
    snprintf(what, sizeof what, "att%dx%dg%d", hd_k, hd_v, group);
    rate_key(key, sizeof key, what);
    const att_probe a = {hd_k, hd_v, group};
    return cached_key("attention-rates", key, 1, run_att_probe, &a, measure, fresh) * 1e6;
}
